"""The findings' own probes, run beside the C tracker: what the tracker's tables cannot tell.

During the run: cycles (gc callback), resources (ResourceWarning hook). The allocation site of individual objects
comes from the tracker itself: its live-block tables map each traced block to its stack (`_ext._tracker_site_of`),
during the run and, because the doctor stops it with keep_sites=True, after it for objects still alive at stop.
No tracemalloc: it would double the hook's work for the whole run (docs/doctor.md, "Overhead"). In sampled mode
only the sampled blocks are in the tables, so most objects have no site (docs/doctor-findings.md).
After the run (the tracker stopped, so nothing here counts toward the peak): globals and duplicates, and the
evidence taken from the tracker's report (bytes live at the peak per user line).
"""
from __future__ import annotations

import runpy
import sys
from typing import Any

from thrifty import _ext
from thrifty.doctor.findings import Evidence, cycles, duplicates, module_globals, resources
from thrifty.doctor.findings import boxed_numbers
from thrifty.doctor.findings.base import is_user_file


class Probes:
    """`with Probes(): run the target`, then `evidence(report)` once the tracker's report is built."""

    def __init__(self) -> None:
        self.cycles = cycles.CycleCollector()
        self.resources = resources.ResourceCollector()
        self.namespaces: dict[str, dict[str, Any]] = {}
        self._saved_runpy: tuple[Any, Any] | None = None

    def _capture(self, fn: Any) -> Any:
        """runpy.run_path/run_module wrapped to keep the namespace the script ended with (for globals)."""

        def wrapper(*args: Any, **kw: Any) -> Any:
            ns = fn(*args, **kw)
            f = ns.get("__file__")
            if f:
                self.namespaces[f] = ns
            return ns

        return wrapper

    def __enter__(self) -> "Probes":
        self._saved_runpy = (runpy.run_path, runpy.run_module)
        runpy.run_path, runpy.run_module = self._capture(runpy.run_path), self._capture(runpy.run_module)
        self.cycles.start()
        self.resources.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.resources.stop()
        self.cycles.stop()
        if self._saved_runpy:
            runpy.run_path, runpy.run_module = self._saved_runpy
            self._saved_runpy = None

    def evidence(self, report: dict[str, Any]) -> Evidence:
        """Everything the findings need; call after the tracker stopped (with keep_sites=True, for the sites).
        Releases the tracker's kept tables when done."""
        try:
            ev = Evidence(cycles=dict(self.cycles.groups), resources=dict(self.resources.groups))
            namespaces = dict(self.namespaces)
            for m in list(sys.modules.values()):
                f = getattr(m, "__file__", None)
                if f and is_user_file(f) and f not in namespaces:
                    namespaces[f] = vars(m)
            ev.globals = module_globals.measure(namespaces)
            ev.duplicates = duplicates.scan(exclude={id(namespaces), id(self.namespaces)})
            ev.boxed_numbers = boxed_numbers.scan(exclude={id(namespaces), id(self.namespaces)})
            frames = report.get("frames", [])
            files = set(namespaces)
            for st in report.get("stacks", []):
                user = [frames[i] for i in st["frames"] if is_user_file(frames[i][0])]
                if user:
                    site = (user[-1][0], user[-1][1])
                    files.add(site[0])
                    ev.line_bytes[site] = ev.line_bytes.get(site, 0) + st["live_at_peak"]
                    ev.line_allocs[site] = ev.line_allocs.get(site, 0) + st["allocs"]
            ev.files = sorted(f for f in files if is_user_file(f))
            return ev
        finally:
            self.release()

    @staticmethod
    def release() -> None:
        """Free the tables the tracker kept for site lookups (safe to call again, or when none are kept)."""
        _ext._tracker_release()
