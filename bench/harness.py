"""Shared helpers for the side-by-side benchmarks.

Rules every benchmark follows (docs/benchmarks.md says how its figures are made): thrifty and its anchor run in the same
process and session, alternating sides so noise on this shared machine hits both, each side repeated and reduced to
its median, and the result is reported as a ratio. Benchmarks report; they never gate CI.
"""
from __future__ import annotations

import gc
import os
import platform
import statistics
import time
from typing import Callable

from thrifty.guards import format_size


def alternate(
    a: Callable[[], object],
    b: Callable[[], object],
    repeat: int = 7,
    number: int = 1,
    timer: Callable[[], float] = time.perf_counter,
) -> tuple[float, float]:
    """Median seconds per call of `a` and of `b`, timed a, b, a, b, ... `repeat` times each, `number` calls a round.

    `timer` defaults to wall time; time.process_time (CPU time of this process) is steadier on a loaded machine."""
    ta: list[float] = []
    tb: list[float] = []
    for i in range(repeat):
        order = ((a, ta), (b, tb)) if i % 2 == 0 else ((b, tb), (a, ta))
        for fn, sink in order:
            gc.collect()
            t0 = timer()
            for _ in range(number):
                fn()
            sink.append((timer() - t0) / number)
    return statistics.median(ta), statistics.median(tb)


def median_of(fn: Callable[[], float], repeat: int = 5) -> float:
    """Median of a measurement function's results (for sizes and counts that vary run to run)."""
    return statistics.median(fn() for _ in range(repeat))


def ratio(anchor: float, ours: float) -> str:
    """'12.3x' — how many times better thrifty is when smaller is better (anchor / ours)."""
    if ours <= 0:
        return "inf"
    return f"{anchor / ours:.2f}x"


fmt_bytes = format_size  # the package's one byte formatter, under the bench's name


def fmt_time(seconds: float) -> str:
    if seconds < 1e-6:
        return f"{seconds * 1e9:.0f} ns"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A Markdown table."""
    out = ["| " + " | ".join(headers) + " |", "| " + " | ".join("---" for _ in headers) + " |"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, Python {platform.python_version()}"
