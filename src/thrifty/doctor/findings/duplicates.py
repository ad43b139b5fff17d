"""Duplicates: live str and bytes objects (64 characters/bytes or more) with equal contents.

Strings are not tracked by the GC, so they are found through the containers that are: every referent of every
tracked object, descending into untracked dicts and tuples (CPython untracks those that hold only atoms).
"""
from __future__ import annotations

import gc
import linecache
import sys
from typing import Any

from thrifty import _ext
from thrifty.doctor.findings.base import Finding, site_of

MIN_LEN = 64


def scan(min_len: int = MIN_LEN, exclude: set[int] | None = None) -> list[dict[str, Any]]:
    """[{type, length, copies, bytes_wasted, sites, preview}] for each group of equal live str/bytes, largest first.
    Only groups with at least one copy allocated in the user's code are kept (the stdlib's own duplicates, e.g.
    docstrings, are not the user's to fix)."""
    skip = set(exclude or ())
    found = {id(r): r for r in _ext._strings_in([o for o in gc.get_objects() if id(o) not in skip], min_len)}
    groups: dict[Any, dict[int, Any]] = {}
    for i, r in found.items():
        groups.setdefault((type(r), r), {})[i] = r
    out = []
    for (t, _), objs in groups.items():
        if len(objs) < 2:
            continue
        copies = list(objs.values())
        one = sys.getsizeof(copies[0])
        sites: list[tuple[str, int]] = []
        for o in copies[:50]:
            s = site_of(o)
            if s and _is_import(s):
                continue  # made while importing a module (docstrings, names): not the user's data
            if s and s not in sites:
                sites.append(s)
            if len(sites) == 3:
                break
        if not sites:
            continue
        out.append({"type": t.__name__, "length": len(copies[0]), "copies": len(copies),
                    "bytes_wasted": one * (len(copies) - 1), "sites": sites, "preview": repr(copies[0][:40])})
    return sorted(out, key=lambda g: -g["bytes_wasted"])


def _is_import(site: tuple[str, int]) -> bool:
    line = linecache.getline(site[0], site[1]).lstrip()
    return line.startswith("import ") or (line.startswith("from ") and " import " in line)


def findings(groups: list[dict[str, Any]], min_wasted: int = 0) -> list[Finding]:
    """One finding per creating site: the groups first made on the same line are one habit to fix there."""
    by_site: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for g in groups:
        if g["bytes_wasted"] >= min_wasted:
            by_site.setdefault(g["sites"][0], []).append(g)
    out = []
    for (file, line), gs in by_site.items():
        copies = sum(g["copies"] for g in gs)
        wasted = sum(g["bytes_wasted"] for g in gs)
        top = max(gs, key=lambda g: g["bytes_wasted"])
        kinds = "/".join(sorted({g["type"] for g in gs}))
        what = (f"{top['copies']} equal {top['type']} copies of {top['preview']}… ({top['length']} long)" if len(gs) == 1
                else f"{copies} {kinds} copies in {len(gs)} groups of equal values, e.g. {top['preview']}…")
        sites = sorted({s for g in gs for s in g["sites"]})
        out.append(Finding(
            habit="object creation", kind="duplicate", file=file, line=line, title=what,
            evidence=f"{copies} live copies where {len(gs)} would do, {wasted} bytes wasted; created at "
                     + ", ".join(f"{f}:{n}" for f, n in sites[:3]),
            fix="keep one copy: thrifty.Interner().intern(value) (str, bytes, numbers, tuples) or sys.intern for str",
            bytes=wasted, data={"groups": gs, "copies": copies, "bytes_wasted": wasted, "type": kinds}))
    return out
