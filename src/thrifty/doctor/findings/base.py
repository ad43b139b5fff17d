"""A finding as plain data, the habits it can name, and the wording shared by every kind."""
from __future__ import annotations

import dataclasses
from typing import Any

from thrifty.doctor.usercode import is_library_file

# The six habits (docs/doctor-findings.md), in the order reports list them.
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


def is_user_file(path: str | None) -> bool:
    """True for a real source file outside the stdlib, site-packages and thrifty: code the user can change."""
    if not path:
        return False
    return not path.startswith("<") and path.endswith(".py") and not is_library_file(path)


def saving(n: int) -> str:
    """The one wording of a measured saving, so every finding says it the same way."""
    return f"fix would save ≈ {n} bytes (measured)"
