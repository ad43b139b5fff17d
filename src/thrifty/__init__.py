"""thrifty: make Python programs fit small devices.

This file only names the public API; each name is documented where it is defined (docs/ has a page per part). The
names are loaded on first use (PEP 562), so `import thrifty._ext` — what the doctor's recorder does in the process
it measures — imports nothing else: not lz.py, not guards.py.
"""
import sys as _sys

__version__ = "0.1.0"

# The tracker reads each CPython version's own frame layout (cpython/compat.h): on any other version it would
# read garbage, so it refuses to load instead. Keep in step with requires-python in pyproject.toml.
_SUPPORTED = ((3, 11), (3, 14))
if _sys.implementation.name != "cpython" or not (
        _SUPPORTED[0] <= _sys.version_info[:2] <= _SUPPORTED[1]):
    raise ImportError(f"thrifty supports CPython 3.11 to 3.14; this is {_sys.implementation.name} "
                      f"{_sys.version.split()[0]}")

# public name -> the module that defines it
_WHERE = {
    "AllocationError": "thrifty._ext",
    "Block": "thrifty._ext",
    "budget": "thrifty.guards",
    "BudgetExceeded": "thrifty._ext",
    "CorruptData": "thrifty._ext",
    "count_allocs": "thrifty.guards",
    "FrozenMap": "thrifty._ext",
    "FrozenSet": "thrifty._ext",
    "Full": "thrifty._ext",
    "Interner": "thrifty._ext",
    "iter_chunks": "thrifty._ext",
    "lines": "thrifty._ext",
    "lz": None,  # the submodule itself
    "no_alloc": "thrifty.guards",
    "ObjectPool": "thrifty._ext",
    "parse_size": "thrifty.guards",
    "Pool": "thrifty._ext",
    "PoolExhausted": "thrifty._ext",
    "Ring": "thrifty._ext",
    "sizeof": "thrifty._ext",
    "View": "thrifty._ext",
    "watch": "thrifty.watching",
}

__all__ = [  # spelled out (not list(_WHERE)) so type checkers see what the package exports
    "AllocationError", "Block", "budget", "BudgetExceeded", "CorruptData", "count_allocs", "FrozenMap", "FrozenSet",
    "Full", "Interner", "iter_chunks", "lines", "lz", "no_alloc", "ObjectPool", "parse_size", "Pool",
    "PoolExhausted", "Ring", "sizeof", "View", "watch",
]

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing is what this file avoids
if TYPE_CHECKING:  # type checkers see the names as plain imports
    from thrifty import lz
    from thrifty._ext import (AllocationError, Block, BudgetExceeded, CorruptData, FrozenMap, FrozenSet, Full,
                              Interner, iter_chunks, lines, ObjectPool, Pool, PoolExhausted, Ring, sizeof, View)
    from thrifty.guards import budget, count_allocs, no_alloc, parse_size
    from thrifty.watching import watch


def __getattr__(name: str) -> object:
    if name not in _WHERE:
        raise AttributeError(f"module 'thrifty' has no attribute {name!r}")
    import importlib

    where = _WHERE[name]
    value = importlib.import_module("thrifty.lz") if where is None else getattr(importlib.import_module(where), name)
    globals()[name] = value  # once: later lookups find it without this function
    return value


def __dir__() -> list[str]:
    return sorted((set(globals()) | set(_WHERE)) - {"TYPE_CHECKING"})
