"""thrifty: make Python programs fit small devices.

This file only re-exports the public API; each name is documented where it is defined (docs/ has a page per part).
"""
from thrifty._ext import (
    AllocationError,
    BudgetExceeded,
    CorruptData,
    FrozenMap,
    FrozenSet,
    Full,
    Interner,
    PoolExhausted,
    sizeof,
    Ring,
)
from thrifty.guards import budget, count_allocs, no_alloc, parse_size

__version__ = "0.1.0"

__all__ = [
    "AllocationError",
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
]
