"""thrifty: make Python programs fit small devices.

This file only re-exports the public API; each name is documented where it is defined (docs/ has a page per part).
"""
from thrifty._ext import (
    AllocationError,
    Block,
    BudgetExceeded,
    CorruptData,
    FrozenMap,
    FrozenSet,
    Full,
    Interner,
    PoolExhausted,
    sizeof,
    Ring,
    ObjectPool,
    Pool,
    PoolExhausted,
    View,
    iter_chunks,
    lines,
)
from thrifty.guards import budget, count_allocs, no_alloc, parse_size

__version__ = "0.1.0"

__all__ = [
    "AllocationError",
    "Block",
    "BudgetExceeded",
    "CorruptData",
    "FrozenMap",
    "FrozenSet",
    "Full",
    "Interner",
    "PoolExhausted",
    "sizeof",
    "budget",
    "count_allocs",
    "no_alloc",
    "parse_size",
    "Ring",
    "ObjectPool",
    "Pool",
    "PoolExhausted",
    "View",
    "iter_chunks",
    "lines",
]
