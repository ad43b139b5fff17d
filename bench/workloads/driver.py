"""Runs one benchmark script (a pyperformance bm_*/run_benchmark.py or our own workload) a fixed number of loops in
this process, under one tracer, and prints one JSON line: CPU time and wall time of the traced section, peak, tracer
memory, RSS. CPU time (time.process_time: all threads of this process, user + system) is what the benchmark compares:
on a shared, loaded machine it does not count the time other processes held the CPU.

pyperformance's scripts drive themselves through pyperf.Runner; the stand-in (pyperf_standin.py) calls the
workload `loops` times, in-process, so each measurement is exactly the same work.

    python driver.py MODE LOOPS SCRIPT      MODE: none | exact | sampled | tracemalloc | memray | plain
                                            (plain: untraced, and without importing the tracers either)
"""
import contextlib
import gc
import json
import os
import resource
import runpy
import sys
import tempfile
import time

mode, loops, script = sys.argv[1], int(sys.argv[2]), sys.argv[3]

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pyperf_standin  # noqa: E402  (this folder)

sys.path.pop(0)


def _loops(call):
    for _ in range(loops):
        call()


pyperf_standin.install(_loops, loops)  # a time func is given all the loops at once, as pyperf gives them
sys.argv = [script]
sys.path.insert(0, os.path.dirname(script))

if mode != "plain":  # "plain": the workload alone, as the target of a whole `thrifty doctor` command
    import tracemalloc  # noqa: E402  loaded in every other mode so each measures the same imports
    import thrifty.doctor  # noqa: E402,F401
    from thrifty.doctor import trace  # noqa: E402


def peak_rss() -> int:
    """This process's own peak RSS in bytes. Linux: VmHWM from /proc/self/status, the high-water mark of the
    address space exec() gave this interpreter, so it starts from zero. ru_maxrss is not used there because the
    kernel folds in the high-water mark of the address space the process had before exec() — with vfork/fork
    that is the parent's — so a child launched by a large process (as in a full `make bench` run, after other
    parts) reads the parent's peak and every side ties. Elsewhere: ru_maxrss, with that caveat."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)


# The traced program must start from the same garbage-collector state under every side. Automatic collections
# fire by counts of container objects allocated and not yet freed, so a side whose start-up left one more such
# object (thrifty's trace() leaves its result dict and, through its keyword call, one more; tracemalloc.start()
# none) shifts when every collection of the run happens, and a workload that makes cyclic garbage (deltablue)
# then peaks tens of KB higher or lower under that side: a difference of the harness, not of the tracers. Where
# the counts stand before the window also depends on the set-up (e.g. whether thrifty's modules were compiled from
# source in this process, with no .pyc), which is why it showed up and went away with unrelated commits. So: one
# collection before the window frees what the set-up left, and one more as the window opens (nothing is left to
# free, so no tracer sees work from it) zeroes the counts whatever each side's start allocated. "gc" in the output
# is the counts the program starts from, so the bench can check that the sides started alike.
@contextlib.contextmanager
def untraced():
    raw = {}
    yield raw


@contextlib.contextmanager
def traced_by_tracemalloc():
    raw = {}
    tracemalloc.start()
    try:
        yield raw
    finally:
        raw["peak_bytes"] = tracemalloc.get_traced_memory()[1]
        raw["tracker_peak_bytes"] = tracemalloc.get_tracemalloc_memory()
        tracemalloc.stop()


@contextlib.contextmanager
def traced_by_memray(memray, path):
    raw = {}
    with memray.Tracker(path):
        yield raw


tmp = tempfile.TemporaryDirectory()
capture = os.path.join(tmp.name, "capture.bin")
if mode in ("none", "plain"):
    side = untraced()
elif mode in ("exact", "sampled"):
    side = trace(sampled=mode == "sampled")
elif mode == "tracemalloc":
    side = traced_by_tracemalloc()
elif mode == "memray":
    import memray  # imported here, outside the window, as the other sides' modules are
    side = traced_by_memray(memray, capture)
else:
    raise SystemExit(f"unknown mode {mode!r}")
gc_at_start = [0, 0, 0]

gc.collect()
t0, c0 = time.perf_counter(), time.process_time()
with side as raw:
    gc.collect()
    gc_at_start[:] = gc.get_count()  # the list already has its three slots: nothing stays allocated
    runpy.run_path(script, run_name="__main__")
elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
peak, own = raw.get("peak_bytes"), raw.get("tracker_peak_bytes")
if mode == "memray":
    own = os.path.getsize(capture)  # its capture file, the thing that grows
tmp.cleanup()
# thrifty's sides: the live traced blocks at the peak and what the live-block tables took then (cost per block)
print(json.dumps({"time": elapsed, "cpu": cpu, "peak": peak, "own": own, "rss": peak_rss(), "gc": gc_at_start,
                  "blocks": raw.get("live_blocks_at_peak"), "block_bytes": raw.get("block_table_bytes_at_peak")}))
