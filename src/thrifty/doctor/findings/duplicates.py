"""Duplicates: live str and bytes objects (64 characters/bytes or more) with equal contents.

The walk runs in the target (thrifty.doctor.heapscan); this module words what it found. Each finding's bytes are
the extra copies: a global holding some of them does not count them again (heapscan assigns each object to one
finding).
"""
from __future__ import annotations

TYPE_CHECKING = False  # mypy takes any `TYPE_CHECKING` as true; typing is not imported at run time: its import
if TYPE_CHECKING:     # is ~4 ms of every doctor run's start-up, and every annotation here is a string (PEP 563)
    from typing import Any

from thrifty.doctor import heapscan
from thrifty.doctor.findings.base import Finding, saving
from thrifty.doctor.probe import SITES

MIN_LEN = 64
# less waste than this on one line is not worth a finding (the globals and boxed-numbers findings' floor too): three
# copies of a 67-character path a library made inside the user's call (232 bytes) were one
MIN_BYTES = 4096


def scan(min_len: int = MIN_LEN, exclude: set[int] | None = None) -> list[dict[str, Any]]:
    """[{type, length, copies, size, bytes_wasted, sites, preview}] for each group of equal live str/bytes with a copy
    made in the user's code, largest first (the walk: thrifty.doctor.heapscan.scan_duplicates, in the target)."""
    return heapscan.scan_duplicates(SITES, min_len, exclude)[0]


def findings(groups: list[dict[str, Any]], min_wasted: int = 0, is_user: Any = None,
             min_bytes: int = 0) -> list[Finding]:
    """One finding per creating site: the groups first made on the same line are one habit to fix there. min_wasted:
    per group; min_bytes: per finding (the waste of all its groups)."""
    by_site: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for g in groups:
        sites = [tuple(s) for s in g["sites"] if is_user is None or is_user(s[0])]
        if g["bytes_wasted"] >= min_wasted and sites:
            by_site.setdefault(sites[0], []).append(g)
    out = []
    for (file, line), gs in by_site.items():
        copies = sum(g["copies"] for g in gs)
        wasted = sum(g["bytes_wasted"] for g in gs)
        if wasted < min_bytes:
            continue
        top = max(gs, key=lambda g: g["bytes_wasted"])
        kinds = "/".join(sorted({g["type"] for g in gs}))
        what = (f"{top['copies']} equal {top['type']} copies of {top['preview']}… ({top['length']} long)" if len(gs) == 1
                else f"{copies} {kinds} copies in {len(gs)} groups of equal values, e.g. {top['preview']}…")
        sites = sorted({tuple(s) for g in gs for s in g["sites"]})
        out.append(Finding(
            habit="object creation", kind="duplicate", file=file, line=line, title=what,
            evidence=f"{copies} live copies where {len(gs)} would do, {wasted} bytes wasted; created at "
                     + ", ".join(f"{f}:{n}" for f, n in sites[:3]) + f"; {saving(wasted)}",
            fix="keep one copy: thrifty.Interner().intern(value) (str, bytes, numbers, tuples) or sys.intern for str",
            bytes=wasted, data={"groups": gs, "copies": copies, "bytes_wasted": wasted, "type": kinds}))
    return out
