"""Memory budgets and allocation guards: thrifty.budget(), thrifty.count_allocs(), thrifty.no_alloc().

Each returns a context manager backed by the C allocation hook (cpython/guard.c). The hook is installed
only while a guard (or a doctor run) is active, so guards cost nothing when unused. A guard counts the allocations
of the thread that entered it; guards nest.
"""
from __future__ import annotations

import re

from thrifty._ext import GUARD_BUDGET, GUARD_COUNT, GUARD_NOALLOC, _Guard

__all__ = ["budget", "count_allocs", "no_alloc", "parse_size", "format_size"]

_ACCEPTED = "an int >= 0 or a string like '512', '64K', '64KB', '64KiB', '1.5M', '2 MiB' (K, KB and KiB all mean 1024)"
_SIZE_RE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(?:([kKmMgG])(?:i?[bB])?|[bB])?\s*")
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_size(size: int | str) -> int:
    """Bytes for a size given as an int or a string such as "64K", "64KiB", "1.5M" or "2 MiB".

    K, KB and KiB all mean 1024 (as device datasheets use them); M and G likewise. A fractional size must come to a
    whole number of bytes. Anything else raises ValueError naming the accepted forms.
    """
    if isinstance(size, int) and not isinstance(size, bool):
        if size < 0:
            raise ValueError(f"invalid size {size!r}: negative; use {_ACCEPTED}")
        return size
    if not isinstance(size, str):
        raise ValueError(f"invalid size {size!r} ({type(size).__name__}); use {_ACCEPTED}")
    m = _SIZE_RE.fullmatch(size)
    if not m:
        raise ValueError(f"invalid size {size!r}; use {_ACCEPTED}")
    number, unit = m.group(1), (m.group(2) or "").lower()
    scaled = float(number) * _UNITS[unit]
    if "." in number:
        if scaled != int(scaled):
            raise ValueError(f"invalid size {size!r}: not a whole number of bytes; use {_ACCEPTED}")
        return int(scaled)
    return int(number) * _UNITS[unit]


def format_size(n: float) -> str:
    """'1.5 MiB'-style text for a byte count (binary units, as parse_size reads them)."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} B" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def budget(size: int | str) -> _Guard:
    """A context manager that fails the first allocation of this thread that would take the bytes allocated inside
    (and not yet freed) past `size`; leaving the block then raises thrifty.BudgetExceeded (a MemoryError) naming
    the limit and the file:line of that allocation."""
    return _Guard(GUARD_BUDGET, parse_size(size))


def count_allocs() -> _Guard:
    """A context manager counting this thread's allocations inside: .blocks, .bytes, .freed, .peak (and .live)."""
    return _Guard(GUARD_COUNT, 0)


def no_alloc() -> _Guard:
    """A context manager under which the first allocation of this thread fails; leaving the block raises
    thrifty.AllocationError naming its file:line."""
    return _Guard(GUARD_NOALLOC, 0)
