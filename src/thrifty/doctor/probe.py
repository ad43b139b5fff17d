"""Run a script under the doctor's probes and gather the Evidence its findings need, plus the memory timeline and
the stacks live at the peak for the report.

tracemalloc provides sizes and allocation sites (frames are kept so sites resolve to the user's own line even when
the allocation happened inside the stdlib). A sampler thread records traced memory every `interval` seconds and
takes a snapshot each time the traced size passes the largest snapshot so far by 10%, so the last one is within
10% of the peak without snapshotting on every allocation.
"""
from __future__ import annotations

import dataclasses
import gc
import os
import sys
import threading
import time
import traceback
import tracemalloc
import types
from typing import Any

from thrifty.doctor.findings import Evidence, cycles, duplicates, module_globals, resources
from thrifty.doctor.findings.base import is_user_file

FRAMES = 10
# take a new peak snapshot when traced memory passes the last one by this factor
SNAP_GROWTH = 1.2


@dataclasses.dataclass
class Run:
    script: str
    exit_code: int
    peak_bytes: int  # tracemalloc's peak of traced memory during the run
    end_bytes: int
    seconds: float
    timeline: list[tuple[float, int]]  # (seconds since start, traced bytes)
    peak_stacks: list[tuple[list[str], int]]  # ([outermost frame, ..., innermost], bytes) live at the snapshot
    evidence: Evidence


def _user_line(tb: Any) -> tuple[str, int] | None:
    for fr in reversed(tb):  # a tracemalloc.Traceback lists the oldest frame first
        if is_user_file(fr.filename):
            return (fr.filename, fr.lineno)
    return None


def _label(fr: Any) -> str:
    return f"{os.path.basename(fr.filename)}:{fr.lineno}"


class _Sampler(threading.Thread):
    def __init__(self, interval: float) -> None:
        super().__init__(name="thrifty-doctor-sampler", daemon=True)
        self.interval = interval
        self.timeline: list[tuple[float, int]] = []
        self.snapshot: tracemalloc.Snapshot | None = None
        self.snapshot_bytes = 0
        self.peak = 0  # the program's peak before the last reset_peak
        self.duplicates: list[dict[str, Any]] = []
        self.t0 = time.perf_counter()
        self.done = threading.Event()

    def sample(self) -> None:
        cur, _ = tracemalloc.get_traced_memory()
        self.timeline.append((round(time.perf_counter() - self.t0, 4), cur))
        if cur > self.snapshot_bytes * SNAP_GROWTH:
            # the snapshot and the scan allocate (traced) memory of their own: keep it out of the program's peak
            self.peak = max(self.peak, tracemalloc.get_traced_memory()[1])
            self.snapshot = tracemalloc.take_snapshot()
            self.snapshot_bytes = cur
            # duplicates are counted near the peak too: most are gone by exit
            self.duplicates = duplicates.scan(exclude={id(self.timeline), id(self.snapshot)})
            tracemalloc.reset_peak()

    def run(self) -> None:
        while not self.done.wait(self.interval):
            self.sample()


def run_script(script: str, argv: list[str] | None = None, interval: float = 0.01) -> Run:
    """Run script as __main__ (like `python script args`) and return what the probes measured."""
    script = os.path.abspath(script)
    with open(script, "rb") as f:
        code = compile(f.read(), script, "exec")
    main = types.ModuleType("__main__")
    main.__file__ = script
    main.__builtins__ = __builtins__  # type: ignore[attr-defined]
    saved = (sys.argv, sys.modules.get("__main__"), list(sys.path))
    sys.argv = [script] + list(argv or [])
    sys.modules["__main__"] = main
    sys.path.insert(0, os.path.dirname(script))

    started_tm = not tracemalloc.is_tracing()
    if started_tm:
        tracemalloc.start(FRAMES)
    cyc, res = cycles.CycleCollector(), resources.ResourceCollector()
    cyc.start()
    res.start()
    tracemalloc.reset_peak()
    sampler = _Sampler(interval)
    sampler.start()
    exit_code = 0
    t0 = time.perf_counter()
    try:
        exec(code, main.__dict__)
    except SystemExit as e:
        exit_code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:  # the script's own failure: shown as Python would, and the report still comes
        traceback.print_exc()
        exit_code = 1
    finally:
        seconds = time.perf_counter() - t0
        sampler.done.set()
        sampler.join()
        peak_bytes = max(sampler.peak, tracemalloc.get_traced_memory()[1])
        sampler.sample()
        sys.stdout.flush()
        res.stop()
        cyc.stop()
        end_bytes = tracemalloc.get_traced_memory()[0]
        ev = Evidence(cycles=dict(cyc.groups), resources=dict(res.groups))
        namespaces = {script: main.__dict__}
        for m in list(sys.modules.values()):
            f = getattr(m, "__file__", None)
            if f and is_user_file(f) and m is not main:
                namespaces[os.path.abspath(f)] = vars(m)
        ev.files = sorted(namespaces)
        ev.globals = module_globals.measure(namespaces)
        at_exit = duplicates.scan(exclude={id(sampler.timeline), id(ev)})
        ev.duplicates = max((sampler.duplicates, at_exit), key=lambda gs: sum(g["bytes_wasted"] for g in gs))
        stacks: list[tuple[list[str], int]] = []
        if sampler.snapshot is not None:
            for st in sampler.snapshot.statistics("traceback"):
                site = _user_line(st.traceback)
                if site:
                    ev.line_bytes[site] = ev.line_bytes.get(site, 0) + st.size
                stacks.append(([_label(fr) for fr in st.traceback], st.size))
        if started_tm:
            tracemalloc.stop()
        sys.argv, old_main, sys.path[:] = saved[0], saved[1], saved[2]
        if old_main is not None:
            sys.modules["__main__"] = old_main
        gc.collect()
    return Run(script=script, exit_code=exit_code, peak_bytes=peak_bytes, end_bytes=end_bytes, seconds=seconds,
               timeline=sampler.timeline, peak_stacks=stacks, evidence=ev)
