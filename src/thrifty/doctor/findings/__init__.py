"""Findings: what to change, as plain data (base.Finding), built from what a run measured (Evidence).

One module per kind: cycles, resources, module_globals, duplicates, boxed_numbers, source (code findings). `build` turns the
evidence of one run into ranked findings; nothing here prints.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from thrifty.doctor.findings import boxed_numbers, cycles, duplicates, module_globals, resources, source
from thrifty.doctor.findings.base import HABITS, Finding, is_user_file, rank

__all__ = ["HABITS", "Evidence", "Finding", "build", "confirm", "rank"]

# a line that holds this much at peak is "hot" enough to confirm a code finding on it
HOT_BYTES = 64 * 1024
# a list this long at exit confirms a pop(0) / `in list` finding that names it
LARGE_LEN = 256
# a line inside a loop that allocated this many blocks shows the loop ran hot
HOT_ALLOCS = 10_000


@dataclasses.dataclass
class Evidence:
    """What one run measured, for the findings. Every field is plain data (JSON-ready except tuple keys)."""

    files: list[str] = dataclasses.field(default_factory=list)  # the user's source files that ran
    cycles: dict[Any, dict[str, Any]] = dataclasses.field(default_factory=dict)  # CycleCollector.groups
    resources: dict[Any, dict[str, Any]] = dataclasses.field(default_factory=dict)  # ResourceCollector.groups
    globals: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # module_globals.measure
    duplicates: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # duplicates.scan
    boxed_numbers: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # boxed_numbers.scan
    line_bytes: dict[tuple[str, int], int] = dataclasses.field(default_factory=dict)  # live at peak, by user line
    line_allocs: dict[tuple[str, int], int] = dataclasses.field(default_factory=dict)  # blocks allocated, by line


def confirm(found: list[Finding], ev: Evidence) -> list[Finding]:
    """Upgrade code findings that the run's evidence backs; each gets the bytes and the measurement as evidence."""
    resource_lines = {site: g for (_, site), g in ev.resources.items() if site}
    globals_by = {(g["file"], g["name"]): g for g in ev.globals}
    for f in found:
        if not f.kind.startswith("code."):
            continue
        hot = ev.line_bytes.get((f.file, f.line), 0)
        names = f.data.get("names") or ([f.data["name"]] if f.data.get("name") else [])
        glob = [globals_by[(f.file, n)] for n in names if (f.file, n) in globals_by]
        if f.kind == "code.open" and (f.file, f.line) in resource_lines:
            g = resource_lines[(f.file, f.line)]
            f.confirmed, f.evidence = True, f"{g['count']} opened here were finalized unclosed during the run"
        elif f.kind in ("code.pop0", "code.insert0", "code.in_list") and any(
                (g["len"] or 0) >= LARGE_LEN for g in glob):
            g = max(glob, key=lambda g: g["bytes"])
            f.confirmed, f.bytes = True, g["bytes"]
            f.evidence = f"`{g['name']}` held {g['len']} items ({g['bytes']} bytes) at exit"
        elif f.kind == "code.global" and sum(g["bytes"] for g in glob) >= module_globals.MIN_BYTES:
            f.confirmed, f.bytes = True, sum(g["bytes"] for g in glob)
            f.evidence = ", ".join(f"`{g['name']}` retains {g['bytes']} bytes at exit" for g in glob)
        elif hot >= HOT_BYTES:
            f.confirmed, f.bytes = True, hot
            f.evidence = f"{hot} bytes allocated on this line were live at the peak"
        elif f.data.get("loop_lines"):
            lo, hi = f.data["loop_lines"]
            busy = max(((n, line) for (file, line), n in ev.line_allocs.items() if file == f.file and lo <= line <= hi),
                       default=(0, 0))
            if busy[0] >= HOT_ALLOCS:
                f.confirmed = True
                f.evidence = f"the loop around it ran hot: line {busy[1]} in it allocated {busy[0]} blocks"
    return found


def build(ev: Evidence) -> list[Finding]:
    """Every finding of one run, ranked: confirmed first, then by bytes."""
    found: list[Finding] = []
    found += cycles.findings(ev.cycles)
    found += resources.findings(ev.resources)
    found += module_globals.findings(ev.globals)
    found += duplicates.findings(ev.duplicates)
    found += boxed_numbers.findings(ev.boxed_numbers)
    for path in ev.files:
        if not is_user_file(path):
            continue
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except (OSError, ValueError):
            continue
        found += source.check_source(path, text)
    return rank(confirm(found, ev))
