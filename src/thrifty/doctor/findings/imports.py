"""Imports: the modules the user's code imports whose import leaves the most memory live (habit: footprint).

From the report's import table (the recorder's `<import>` frames): a module imported by a line of the user's code
whose import, its own imports included, left at least MIN_BYTES live at the end of the run. On a device the import
bill is often the largest single cost; the fix is to pay it only where it is needed, or not at all.
"""
from __future__ import annotations

TYPE_CHECKING = False  # mypy takes any `TYPE_CHECKING` as true; typing is not imported at run time: its import
if TYPE_CHECKING:     # is ~4 ms of every doctor run's start-up, and every annotation here is a string (PEP 563)
    from typing import Any

from thrifty.doctor.findings.base import Finding

MIN_BYTES = 512 * 1024  # an import that leaves less is not worth a line (json: ~100 KiB, datetime: ~230 KiB)


def findings(report: dict[str, Any] | None, is_user: Any = None, min_bytes: int = MIN_BYTES) -> list[Finding]:
    out = []
    for row in (report or {}).get("imports", []):
        at = row.get("imported_at")
        if not at or row["live_at_end"] < min_bytes or (is_user is not None and not is_user(at["file"])):
            continue
        name = row["module"]
        where = "at module level" if at.get("function") == "<module>" else f"in {at.get('function')}()"
        out.append(Finding(
            habit="footprint", kind="import", file=at["file"], line=at["line"],
            title=f"`import {name}` leaves {row['live_at_end']} bytes live ({100 * row['share_of_peak']:.0f}% of the "
                  "peak)",
            evidence=f"imported {where}; its import (with the modules it imports) left {row['live_at_end']} bytes "
                     f"live at exit and held {row['live_at_peak']} at the peak, {row['self_live_at_end']} of them its "
                     "own module's",
            fix=f"import {name} inside the function that needs it, so only runs that call it pay for it; or use a "
                "lighter module (or a part of the package) that does the one thing you use",
            bytes=row["live_at_end"], data={"module": name, **{k: row[k] for k in (
                "live_at_end", "live_at_peak", "self_live_at_end", "self_live_at_peak", "share_of_peak")}}))
    return out
