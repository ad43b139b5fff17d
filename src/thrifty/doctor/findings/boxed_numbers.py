"""Numbers held as Python objects: long lists, tuples and deques alive at exit that hold only floats or only ints.

Each item is a full object (a float is 24 bytes plus the 8-byte pointer to it) where a typed array stores the raw
value (8 bytes for a float, 1 to 8 for an int, by range), and every reduction over them is a Python loop over
boxes. The walk over the heap is in C (thrifty._ext._boxed_numbers), run in the target by
thrifty.doctor.heapscan; this module words it. A module-level name holding such a sequence is this finding's (one
finding, not a globals one too).
"""
from __future__ import annotations

import array

TYPE_CHECKING = False  # mypy takes any `TYPE_CHECKING` as true; typing is not imported at run time: its import
if TYPE_CHECKING:     # is ~4 ms of every doctor run's start-up, and every annotation here is a string (PEP 563)
    from typing import Any

from thrifty.doctor import heapscan
from thrifty.doctor.findings.base import Finding, saving
from thrifty.doctor.probe import SITES

MIN_LEN = heapscan.BOXED_MIN_LEN  # shorter sequences are not worth a line in the report
MIN_SAVED = 4096  # nor are ones a typed array would shrink by less
typecode = heapscan.typecode


def scan(min_len: int = MIN_LEN, exclude: set[int] | None = None) -> list[dict[str, Any]]:
    """[{type, kind, len, bytes, own_bytes, typed_bytes, typecode, site}] for each numbers-only sequence made in the
    user's code (the walk: thrifty.doctor.heapscan.scan_boxed, in the target)."""
    found = heapscan.scan_boxed(SITES, min_len, exclude)[0]
    for g in found:
        g.pop("id", None)
    return found


def findings(found: list[dict[str, Any]], min_saved: int = MIN_SAVED, is_user: Any = None) -> list[Finding]:
    """One finding per creating line: sequences made by the same line (e.g. one per sensor) are one change."""
    by_site: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for g in found:
        if is_user is None or is_user(g["site"][0]):
            by_site.setdefault(tuple(g["site"]), []).append(g)
    out = []
    for (file, line), gs in by_site.items():
        held = sum(g["bytes"] for g in gs)
        typed = sum(g["typed_bytes"] for g in gs)
        own = sum(g["own_bytes"] for g in gs)
        shared = f" ({held - own} bytes of it are number objects held elsewhere too)" if own < held else ""
        if held - typed < min_saved:
            continue
        top = max(gs, key=lambda g: g["len"])
        n = sum(g["len"] for g in gs)
        what = f"a {top['type']}" if len(gs) == 1 else f"{len(gs)} {top['type']}s"
        names = [f"`{g['global'][1]}`" for g in gs if g.get("global")]
        if names:
            what += f" (module-level {', '.join(names)})"
        code = top["typecode"]
        reduce = "; reduce in C with Ring.mean()/min()/max() instead of a Python loop over the items"
        ratio = held / max(typed, 1)
        out.append(Finding(
            habit="low-level", kind="boxed_numbers", file=file, line=line,
            title=f"{n} {top['kind']}s held as Python objects in {what} ({held} bytes; {typed} as a typed array)",
            evidence=f"{what} of only {top['kind']}s, {n} items alive at exit: thrifty.sizeof(deep=True) = {held} "
                     f"bytes{shared}, array.array({code!r}) of the same values = {typed} bytes ({ratio:.1f}x); "
                     f"{saving(held - typed)}",
            fix=f"store the raw values: array.array({code!r}) ({array.array(code).itemsize} bytes per item, no object "
                f"per item), or thrifty.Ring({code!r}, maxlen=...) when only the latest values matter" + reduce,
            bytes=held - typed,
            data={"sequences": gs, "len": n, "bytes": held, "own_bytes": own, "typed_bytes": typed, "typecode": code}))
    return out
