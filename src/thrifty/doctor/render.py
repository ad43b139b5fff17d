"""Findings as text: one section per habit, most bytes first, colour on a terminal. (JSON: the findings are the
`findings` list of the doctor's run result, schema `thrifty.doctor`; see docs/doctor-findings.md.)"""
from __future__ import annotations

import os

TYPE_CHECKING = False  # mypy takes any `TYPE_CHECKING` as true; typing is not imported at run time: its import
if TYPE_CHECKING:     # is ~4 ms of every doctor run's start-up, and every annotation here is a string (PEP 563)
    from typing import TextIO

from thrifty.doctor.findings import HABITS, Finding
from thrifty.doctor.usercode import short_path
from thrifty.guards import format_size


def habits_by_bytes(findings: list[Finding]) -> list[str]:
    """The habits that have findings, the one accounting for the most bytes first (ties in HABITS order)."""
    total = {h: sum(f.bytes for f in findings if f.habit == h) for h in HABITS}
    return sorted((h for h in HABITS if any(f.habit == h for f in findings)), key=lambda h: -total[h])


def text(findings: list[Finding], out: TextIO, colour: bool | None = None, limit: int = 8) -> None:
    """One section per habit, most bytes first; in each, confirmed findings by bytes, then static-only ones."""
    if colour is None:
        colour = out.isatty() and not os.environ.get("NO_COLOR")

    def c(code: str, s: str) -> str:
        return f"\033[{code}m{s}\033[0m" if colour else s

    if not findings:
        out.write("\nFindings: none.\n")
        return
    n_conf = sum(f.confirmed for f in findings)
    out.write(c("1", f"\nFindings — what to change ({len(findings)}, {n_conf} confirmed by the run)") + "\n")
    for habit in habits_by_bytes(findings):
        fs = [f for f in findings if f.habit == habit]
        if not fs:
            continue
        total = sum(f.bytes for f in fs)
        out.write(c("1", f"\n== {habit} ({len(fs)} finding{'s' if len(fs) != 1 else ''}"
                         + (f", {format_size(total)}" if total else "") + ")") + "\n")
        for f in fs[:limit]:
            tag = c("31", "●") if f.confirmed else c("33", "○")
            size = c("1", format_size(f.bytes)) + "  " if f.bytes else ""
            out.write(f" {tag} {size}{f.title}\n")
            out.write(f"     at {c('36', short_path(f.where()))}  [{f.kind}]\n")
            out.write(f"     evidence: {f.evidence}\n")
            out.write(f"     fix: {c('32', f.fix)}\n")
        if len(fs) > limit:
            out.write(f"     … and {len(fs) - limit} more in the JSON report\n")
    legend = "● confirmed by the run" + ("   ○ seen in the source only" if n_conf < len(findings) else "")
    out.write(f"\n{legend}\n")
