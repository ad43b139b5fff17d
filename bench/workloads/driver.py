"""Runs one benchmark script (a pyperformance bm_*/run_benchmark.py or our own workload) a fixed number of loops in
this process, under one tracer, and prints one JSON line: CPU time and wall time of the traced section, peak, tracer
memory, RSS. CPU time (time.process_time: all threads of this process, user + system) is what the benchmark compares:
on a shared, loaded machine it does not count the time other processes held the CPU.

pyperformance's scripts drive themselves through pyperf.Runner, which spawns worker processes and calibrates; here a
small stand-in `pyperf` module makes bench_func/bench_time_func call the workload `loops` times, in-process, so each
measurement is exactly the same work.

    python driver.py MODE LOOPS SCRIPT      MODE: none | exact | sampled | tracemalloc | memray
"""
import argparse
import json
import os
import resource
import runpy
import sys
import tempfile
import time
import types

mode, loops, script = sys.argv[1], int(sys.argv[2]), sys.argv[3]

fake = types.ModuleType("pyperf")
fake.perf_counter = time.perf_counter


class Runner:
    def __init__(self, *args, **kwargs):
        self.metadata = {}
        self.argparser = argparse.ArgumentParser()

    def parse_args(self, args=None):
        return self.argparser.parse_args([])

    def bench_func(self, name, func, *args, **kwargs):
        for _ in range(loops):
            func(*args)

    def bench_time_func(self, name, func, *args, **kwargs):
        func(loops, *args)

    def bench_async_func(self, name, func, *args, **kwargs):
        import asyncio
        for _ in range(loops):
            asyncio.run(func(*args))


fake.Runner = Runner
sys.modules["pyperf"] = fake
sys.argv = [script]
sys.path.insert(0, os.path.dirname(script))

import tracemalloc  # noqa: E402  loaded in every mode so each measures the same imports
import thrifty.doctor  # noqa: E402,F401

peak = own = None
if mode == "none":
    t0, c0 = time.perf_counter(), time.process_time()
    runpy.run_path(script, run_name="__main__")
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
elif mode in ("exact", "sampled"):
    from thrifty.doctor import trace
    t0, c0 = time.perf_counter(), time.process_time()
    with trace(sampled=mode == "sampled") as raw:
        runpy.run_path(script, run_name="__main__")
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak, own = raw["peak_bytes"], raw["tracker_peak_bytes"]
elif mode == "tracemalloc":
    t0, c0 = time.perf_counter(), time.process_time()
    tracemalloc.start()
    runpy.run_path(script, run_name="__main__")
    peak = tracemalloc.get_traced_memory()[1]
    own = tracemalloc.get_tracemalloc_memory()
    tracemalloc.stop()
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
elif mode == "memray":
    import memray
    with tempfile.TemporaryDirectory() as d:
        t0, c0 = time.perf_counter(), time.process_time()
        with memray.Tracker(os.path.join(d, "capture.bin")):
            runpy.run_path(script, run_name="__main__")
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        own = os.path.getsize(os.path.join(d, "capture.bin"))  # its capture file, the thing that grows
else:
    raise SystemExit(f"unknown mode {mode!r}")
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"time": elapsed, "cpu": cpu, "peak": peak, "own": own, "rss": rss}))
