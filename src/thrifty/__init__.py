"""thrifty: make Python programs fit small devices.

This file only re-exports the public API; each name is documented where it is defined (docs/ has a page per part).
"""
from thrifty import lz
from thrifty._ext import (
    AllocationError,
    Block,
    BudgetExceeded,
    CorruptData,
    FrozenMap,
    FrozenSet,
    Full,
    Interner,
    iter_chunks,
    lines,
    ObjectPool,
    Pool,
    PoolExhausted,
    Ring,
    sizeof,
    View,
)
from thrifty.guards import budget, count_allocs, no_alloc, parse_size

__version__ = "0.1.0"

__all__ = [
    "AllocationError",
    "Block",
    "budget",
    "BudgetExceeded",
    "CorruptData",
    "count_allocs",
    "FrozenMap",
    "FrozenSet",
    "Full",
    "Interner",
    "iter_chunks",
    "lines",
    "lz",
    "no_alloc",
    "ObjectPool",
    "parse_size",
    "Pool",
    "PoolExhausted",
    "Ring",
    "sizeof",
    "View",
]
