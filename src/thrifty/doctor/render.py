"""Findings as text (one section per habit, most bytes first, colour on a terminal) and as versioned JSON."""
from __future__ import annotations

import json
import os
from typing import Any, TextIO

from thrifty.doctor.findings import HABITS, Finding

# Bump on any change a reader would notice; readers check it.
SCHEMA = "thrifty.doctor.findings/1"


def fmt_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB"):
        if abs(n) < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def _rel(path: str) -> str:
    try:
        r = os.path.relpath(path)
    except ValueError:
        return path
    return path if r.startswith("..") else r


def text(findings: list[Finding], out: TextIO, colour: bool | None = None, limit: int = 8) -> None:
    """Sections in HABITS order; in each, confirmed findings by bytes, then static-only ones."""
    if colour is None:
        colour = out.isatty() and not os.environ.get("NO_COLOR")

    def c(code: str, s: str) -> str:
        return f"\033[{code}m{s}\033[0m" if colour else s

    if not findings:
        out.write("No findings.\n")
        return
    for habit in HABITS:
        fs = [f for f in findings if f.habit == habit]
        if not fs:
            continue
        total = sum(f.bytes for f in fs)
        out.write(c("1", f"\n== {habit} ({len(fs)} finding{'s' if len(fs) != 1 else ''}"
                         + (f", {fmt_bytes(total)}" if total else "") + ")") + "\n")
        for f in fs[:limit]:
            tag = c("31", "●") if f.confirmed else c("33", "○")
            size = c("1", fmt_bytes(f.bytes)) + "  " if f.bytes else ""
            out.write(f" {tag} {size}{f.title}\n")
            out.write(f"     at {c('36', _rel(f.where()))}  [{f.kind}]\n")
            out.write(f"     evidence: {f.evidence}\n")
            out.write(f"     fix: {c('32', f.fix)}\n")
        if len(fs) > limit:
            out.write(f"     … and {len(fs) - limit} more in the JSON report\n")
    out.write("\n● confirmed by the run   ○ seen in the source only\n")


def as_json(findings: list[Finding], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"schema": SCHEMA, "findings": [f.as_dict() for f in findings]}
    doc.update(extra or {})
    return doc


def dump_json(findings: list[Finding], out: TextIO, extra: dict[str, Any] | None = None) -> None:
    json.dump(as_json(findings, extra), out, indent=1, default=str)
    out.write("\n")
