"""Findings: what to change, as plain data (base.Finding), built from what a run measured (Evidence).

One module per kind: cycles, resources, module_globals, duplicates, boxed_numbers, imports, source (code findings). `build` turns the
evidence of one run into ranked findings; nothing here prints.
"""
from __future__ import annotations

import io

TYPE_CHECKING = False  # mypy takes any `TYPE_CHECKING` as true; typing is not imported at run time: its import
if TYPE_CHECKING:     # is ~4 ms of every doctor run's start-up, and every annotation here is a string (PEP 563)
    from typing import Any

from thrifty.doctor.findings import boxed_numbers, cycles, duplicates, imports, module_globals, resources, source
from thrifty.doctor.findings.base import HABITS, Finding, is_user_file, rank
from thrifty.doctor.record import Record

__all__ = ["HABITS", "Evidence", "Finding", "build", "confirm", "rank"]

# a line that holds this much at peak is "hot" enough to confirm a code finding on it
HOT_BYTES = 64 * 1024
# a list this long at exit confirms a pop(0) / `in list` finding that names it
LARGE_LEN = 256
# a line inside a loop that allocated this many blocks shows the loop ran hot
HOT_ALLOCS = 10_000


class Evidence(Record):
    """What one run measured, for the findings: the probes' evidence dict (thrifty.doctor.probe, made in the target)
    with the report's per-line figures. Every field is plain data."""

    FIELDS = ("files", "cycles", "resources", "globals", "duplicates", "boxed_numbers", "line_bytes", "line_allocs")

    def __init__(self, files: list[str] | None = None, cycles: Any = None, resources: Any = None,
                 globals: list[dict[str, Any]] | None = None, duplicates: list[dict[str, Any]] | None = None,
                 boxed_numbers: list[dict[str, Any]] | None = None,
                 line_bytes: dict[tuple[str, int], int] | None = None,
                 line_allocs: dict[tuple[str, int], int] | None = None) -> None:
        self.files: list[str] = [] if files is None else files  # the user's source files that ran
        self.cycles: Any = [] if cycles is None else cycles  # [{type, site, objects, bytes, collections, chain}]
        self.resources: Any = [] if resources is None else resources  # [{what, site, count, example}]
        self.globals: list[dict[str, Any]] = [] if globals is None else globals  # heapscan.measure_globals
        self.duplicates: list[dict[str, Any]] = [] if duplicates is None else duplicates  # heapscan.scan_duplicates
        self.boxed_numbers: list[dict[str, Any]] = [] if boxed_numbers is None else boxed_numbers  # heapscan.scan_boxed
        self.line_bytes: dict[tuple[str, int], int] = {} if line_bytes is None else line_bytes  # live at peak, by user line
        self.line_allocs: dict[tuple[str, int], int] = {} if line_allocs is None else line_allocs  # blocks allocated, by line

    @classmethod
    def from_run(cls, evidence: dict[str, Any] | None, report: dict[str, Any] | None = None) -> "Evidence":
        """From the probes' evidence dict (None: the target did not end normally, only the report's figures) and the
        report: the bytes live at the peak and the blocks allocated per user line are its sites'."""
        d = evidence or {}
        ev = cls(files=list(d.get("files", [])), cycles=list(d.get("cycles", [])),
                 resources=list(d.get("resources", [])), globals=list(d.get("globals", [])),
                 duplicates=list(d.get("duplicates", [])), boxed_numbers=list(d.get("boxed_numbers", [])))
        files = set(ev.files)
        for s in (report or {}).get("sites", []):
            if s.get("user_code", True) and s["file"] != "<no Python frame>":
                site = (s["file"], s["line"])
                ev.line_bytes[site] = ev.line_bytes.get(site, 0) + s["live_at_peak"]
                ev.line_allocs[site] = ev.line_allocs.get(site, 0) + s["allocs"]
                files.add(s["file"])
        ev.files = sorted(files)
        return ev


def confirm(found: list[Finding], ev: Evidence) -> list[Finding]:
    """Upgrade code findings that the run's evidence backs; each gets the bytes and the measurement as evidence."""
    resource_lines = {tuple(g["site"]): g for g in resources.groups_list(ev.resources) if g["site"]}
    globals_by = {(g["file"], g["name"]): g for g in ev.globals}
    for f in found:
        if not f.kind.startswith("code."):
            continue
        hot = ev.line_bytes.get((f.file, f.line), 0)
        if f.data.get("opened_here"):
            # `open(...).read()`: the line also holds the file's read buffer while it reads (8 KiB up to CPython 3.13,
            # 128 KiB from 3.14), which streaming would keep too; only what read() loaded beyond it counts
            hot = max(0, hot - io.DEFAULT_BUFFER_SIZE)
        names = f.data.get("names") or ([f.data["name"]] if f.data.get("name") else [])
        glob = [globals_by[(f.file, n)] for n in names if (f.file, n) in globals_by]
        if f.kind == "code.open" and (f.file, f.line) in resource_lines:
            g = resource_lines[(f.file, f.line)]
            f.confirmed, f.evidence = True, f"{g['count']} opened here were finalized unclosed during the run"
        elif f.kind in ("code.pop0", "code.insert0", "code.in_list") and any(
                (g["len"] or 0) >= LARGE_LEN for g in glob):
            g = max(glob, key=lambda g: g["len"] or 0)
            # a cost in time, not in bytes: the list's bytes are its own finding's (counted once)
            f.confirmed = True
            f.evidence = f"`{g['name']}` held {g['len']} items at exit, each one moved or compared per call"
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


def build(evidence: Evidence | dict[str, Any] | None, report: dict[str, Any] | None = None) -> list[Finding]:
    """Every finding of one run, ranked by bytes. Runs in the analyzer: `evidence` is the probes' dict (or an
    Evidence), `report` the run result (build_report's), whose user-code rules (roots, include/exclude) decide what
    is the user's; a one-line note for what was left out goes to report["notes"].

    A finding is kept only when it is about the user's code and its fix applies there: cycles and resources need a
    creation site in the user's code; code findings seen in the source only (the run did not show they matter: a
    `.read()` of a small file, `+=` over three strings) are left out."""
    ev = evidence if isinstance(evidence, Evidence) else Evidence.from_run(evidence, report)
    is_user = _user_code(report)
    notes: list[str] = []
    found: list[Finding] = []
    found += cycles.findings(ev.cycles, is_user)
    found += resources.findings(ev.resources, is_user)
    found += module_globals.findings(ev.globals, is_user=is_user)
    found += duplicates.findings(ev.duplicates, is_user=is_user, min_bytes=duplicates.MIN_BYTES)
    found += boxed_numbers.findings(ev.boxed_numbers, is_user=is_user)
    found += imports.findings(report, is_user)
    sampled = (report or {}).get("mode") == "sampled"
    unsited = " (sampled mode records few objects' sites)" if sampled else ""
    left_cycles = cycles.outside_user_code(ev.cycles, is_user)
    if left_cycles["objects"]:
        notes.append(f"{left_cycles['objects']} objects ({left_cycles['bytes']} bytes) in reference cycles made outside "
                     f"your code (the stdlib's or a library's, e.g. while importing) or with no recorded site{unsited} "
                     "were reclaimed by the cyclic GC: not findings")
    left_resources = resources.outside_user_code(ev.resources, is_user)
    if left_resources:
        notes.append(f"{left_resources} resources opened outside your code or with no recorded site{unsited} were "
                     "finalized unclosed: not findings")
    reported = {(f.file, f.data.get("name")) for f in found if f.kind == "global"}
    code: list[Finding] = []
    for path in ev.files:
        if not is_user_file(path) or (is_user is not None and not is_user(path)):
            continue
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except (OSError, ValueError):
            continue
        code += source.check_source(path, text)
    confirm(code, ev)
    # `global name` for a global the globals finding already reports is that finding (its bytes counted once), and
    # an open() the run saw finalized unclosed is the resource finding on the same line
    unclosed = {(f.file, f.line) for f in found if f.kind == "resource"}
    shown = [f for f in code if f.confirmed and not (
        (f.kind == "code.global" and all((f.file, n) in reported for n in f.data.get("names", [])))
        or (f.kind == "code.open" and (f.file, f.line) in unclosed))]
    if len(shown) < len(code):
        notes.append(f"{len(code) - len(shown)} code pattern(s) seen in the source were left out: the run did not "
                     "show they matter (or another finding already covers them)")
    if evidence is None and report is not None:
        notes.append("the target did not end normally: findings that need the end state (globals, duplicates, numbers "
                     "held as objects, cycles, resources) were skipped")
    if report is not None:
        report.setdefault("notes", []).extend(notes)
        report["left_out"] = {"cycles": left_cycles, "resources": left_resources, "code": len(code) - len(shown)}
    return rank(found + shown)


def _user_code(report: dict[str, Any] | None) -> Any:
    """The report's rule for the user's code (its roots and include/exclude globs), or None: every non-library file."""
    rules = (report or {}).get("user_code")
    if not rules:
        return None
    from thrifty.doctor.usercode import UserCode

    return UserCode(rules["roots"], include=rules.get("include", ()), exclude=rules.get("exclude", ()),
                    typed=rules.get("typed", True))
