"""A finding as plain data, the habits it can name, and the wording shared by every kind."""
from __future__ import annotations

TYPE_CHECKING = False  # mypy takes any `TYPE_CHECKING` as true; typing is not imported at run time: its import
if TYPE_CHECKING:     # is ~4 ms of every doctor run's start-up, and every annotation here is a string (PEP 563)
    from typing import Any

from thrifty.doctor.record import Record
from thrifty.doctor.usercode import is_library_file

# The six habits (docs/doctor-findings.md), in the order reports list them.
HABITS = ("data structures", "footprint", "object creation", "globals", "low-level", "references")


class Finding(Record):
    """One thing to change. Plain data: renderers and tests read the fields, nothing here computes."""

    FIELDS = ("habit", "kind", "file", "line", "title", "evidence", "fix", "bytes", "confirmed", "data")

    def __init__(self, habit: str, kind: str, file: str, line: int, title: str, evidence: str, fix: str,
                 bytes: int = 0, confirmed: bool = True, data: dict[str, Any] | None = None) -> None:
        if habit not in HABITS:
            raise ValueError(f"Finding.habit must be one of {HABITS}, got {habit!r}")
        self.habit = habit  # one of HABITS
        self.kind = kind  # e.g. "cycle", "resource", "global", "duplicate", "code.pop0"
        self.file = file
        self.line = line
        self.title = title  # one line: what was found
        self.evidence = evidence  # what was measured (or "static only" for an unconfirmed code finding)
        self.fix = fix  # the concrete change, naming a thrifty part where one fits
        self.bytes = bytes  # memory the finding accounts for (0 when not measured)
        self.confirmed = confirmed  # runtime evidence backs it (code findings may be static only)
        self.data: dict[str, Any] = {} if data is None else data  # kind-specific details

    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


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
