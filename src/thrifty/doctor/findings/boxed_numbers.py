"""Numbers held as Python objects: long lists, tuples and deques alive at exit that hold only floats or only ints.

Each item is a full object (a float is 24 bytes plus the 8-byte pointer to it) where a typed array stores the raw
value (8 bytes for a float, 1 to 8 for an int, by range), and every reduction over them is a Python loop over
boxes. The walk over the heap is in C (thrifty._ext._boxed_numbers); this module measures and words it.
"""
from __future__ import annotations

import array
import collections
import gc
import sys
from typing import Any

import thrifty
from thrifty import _ext
from thrifty.doctor.findings.base import Finding, site_of, user_site

MIN_LEN = 1000  # shorter sequences are not worth a line in the report
MIN_SAVED = 4096  # nor are ones a typed array would shrink by less
_INT_CODES = ("b", "B", "h", "H", "i", "I", "q", "Q")  # smallest itemsize first


def typecode(kind: str, lo: int, hi: int) -> str:
    """The array.array typecode of the narrowest items that hold every value: 'd' for floats."""
    if kind == "f":
        return "d"
    for code in _INT_CODES:
        bits = array.array(code).itemsize * 8
        lo_ok, hi_ok = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if code.islower() else (0, (1 << bits) - 1)
        if lo_ok <= lo and hi <= hi_ok:
            return code
    return "q"  # unreachable: the C walk only reports ints that fit 64 bits


def scan(min_len: int = MIN_LEN, exclude: set[int] | None = None) -> list[dict[str, Any]]:
    """[{type, kind, len, bytes, own_bytes, typed_bytes, typecode, site}] for each numbers-only sequence made in the
    user's code, most bytes saved first. bytes = thrifty.sizeof(deep=True): the sequence and its number objects,
    what the values cost held this way; own_bytes = the same with exclusive=True, leaving out number objects that
    something else holds too (those stay alive until every holder stores raw values); typed_bytes = what
    array.array(typecode) holding the same values takes."""
    skip = set(exclude or ())
    out = []
    for seq, kind, lo, hi, items in _ext._boxed_numbers([o for o in gc.get_objects() if id(o) not in skip], min_len,
                                                        collections.deque):
        # a list object often comes from CPython's free list (allocated before the run: no site); its item array
        # is always the run's own, allocated where the list last grew (the comprehension, the append)
        site = site_of(seq) or (user_site(_ext._tracker_site_at(items)) if items else None)
        if site is None:  # the stdlib's, thrifty's or untraced: not the user's to change
            continue
        code = typecode(kind, lo, hi)
        typed = sys.getsizeof(array.array(code)) + len(seq) * array.array(code).itemsize
        out.append({"type": type(seq).__name__, "kind": "float" if kind == "f" else "int", "len": len(seq),
                    "bytes": thrifty.sizeof(seq, deep=True),
                    "own_bytes": thrifty.sizeof(seq, deep=True, exclusive=True),
                    "typed_bytes": typed, "typecode": code, "site": site})
    return sorted(out, key=lambda g: -(g["bytes"] - g["typed_bytes"]))


def findings(found: list[dict[str, Any]], min_saved: int = MIN_SAVED) -> list[Finding]:
    """One finding per creating line: sequences made by the same line (e.g. one per sensor) are one change."""
    by_site: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for g in found:
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
        code = top["typecode"]
        reduce = "; reduce in C with Ring.mean()/min()/max() instead of a Python loop over the items"
        ratio = held / max(typed, 1)
        out.append(Finding(
            habit="low-level", kind="boxed_numbers", file=file, line=line,
            title=f"{n} {top['kind']}s held as Python objects in {what} ({held} bytes; {typed} as a typed array)",
            evidence=f"{what} of only {top['kind']}s, {n} items alive at exit: thrifty.sizeof(deep=True) = {held} "
                     f"bytes{shared}, array.array({code!r}) of the same values = {typed} bytes ({ratio:.1f}x)",
            fix=f"store the raw values: array.array({code!r}) ({array.array(code).itemsize} bytes per item, no object "
                f"per item), or thrifty.Ring({code!r}, maxlen=...) when only the latest values matter" + reduce,
            bytes=held - typed,
            data={"sequences": gs, "len": n, "bytes": held, "own_bytes": own, "typed_bytes": typed, "typecode": code}))
    return out
