"""A finding as plain data, the habits it can name, and where "the user's own code" starts."""
from __future__ import annotations

import dataclasses
import functools
import os
import sys
import sysconfig
from typing import Any

from thrifty import _ext

# The six habits of DESIGN.md, in the order reports list them.
HABITS = ("data structures", "footprint", "object creation", "globals", "low-level", "references")


@dataclasses.dataclass
class Finding:
    """One thing to change. Plain data: renderers and tests read the fields, nothing here computes."""

    habit: str  # one of HABITS
    kind: str  # e.g. "cycle", "resource", "global", "duplicate", "code.pop0"
    file: str
    line: int
    title: str  # one line: what was found
    evidence: str  # what was measured (or "static only" for an unconfirmed code finding)
    fix: str  # the concrete change, naming a thrifty part where one fits
    bytes: int = 0  # memory the finding accounts for (0 when not measured)
    confirmed: bool = True  # runtime evidence backs it (code findings may be static only)
    data: dict[str, Any] = dataclasses.field(default_factory=dict)  # kind-specific details

    def __post_init__(self) -> None:
        if self.habit not in HABITS:
            raise ValueError(f"Finding.habit must be one of {HABITS}, got {self.habit!r}")

    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def rank(findings: list[Finding]) -> list[Finding]:
    """Confirmed before static-only, then most bytes first, then by place (stable and deterministic)."""
    return sorted(findings, key=lambda f: (not f.confirmed, -f.bytes, f.file, f.line, f.kind))


_NOT_USER = tuple(
    os.path.realpath(p) + os.sep
    for p in {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    | {os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))}  # thrifty itself
)


@functools.lru_cache(maxsize=4096)
def is_user_file(path: str | None) -> bool:
    """True for a real source file outside the stdlib, site-packages and thrifty: the code the user can change."""
    if not path or path.startswith("<") or not path.endswith(".py"):
        return False
    real = os.path.realpath(path)
    return not real.startswith(_NOT_USER) and not real.startswith(os.path.realpath(sys.prefix) + os.sep + "lib")


def user_site(frames: Any) -> tuple[str, int] | None:
    """The most recent frame in the user's code of a stack given as ((filename, lineno), ...), most recent first
    (what thrifty._ext._tracker_site_of and _alloc_site return), unless the import machinery comes first. Stacks
    are full (the tracker's depth, not tracemalloc's 3 frames), so a user frame far out is found — but an object a
    stdlib module made while being imported belongs to that module, not to the user's import statement."""
    for filename, lineno in frames or ():
        if is_user_file(filename):
            return (filename, lineno)
        if filename.startswith("<frozen importlib"):
            return None  # made while importing a module that is not the user's: its `import` line is not the site
    return None


def site_of(obj: Any) -> tuple[str, int] | None:
    """Where in the user's code obj was allocated: from thrifty's tracker (while it runs, or after a stop that kept
    its sites, for objects alive at stop), else from tracemalloc when something else started it; None when neither
    recorded the object (allocated before tracing, from a free list, or not sampled)."""
    frames = _ext._tracker_site_of(obj)
    return user_site(frames if frames is not None else _ext._alloc_site(obj))
