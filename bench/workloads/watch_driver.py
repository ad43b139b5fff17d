"""Loops one pyperformance benchmark script for a fixed wall-clock time, as a service runs, and logs every
iteration's length, for bench/bench_watch.py. It is the target of each side of that benchmark: run by plain python,
by `thrifty watch`, by `memray run`, or (TRACEMALLOC_EVERY given) with tracemalloc started here first, before the
script's own imports, and a tracemalloc snapshot taken and dumped every TRACEMALLOC_EVERY seconds.

    python watch_driver.py SECONDS SCRIPT LOG [TRACEMALLOC_EVERY DUMP_FILE]

LOG gets `S <snapshots written so far>` as the loop starts, then one line per iteration, `<wall ns since the previous
line> <CPU ns of this thread since then> <snapshots written so far>`, sent with os.write as it happens, so that the
log costs the target no memory that stays (a list of timings would grow the very heap the tracers measure); tracemalloc snapshots add `T <take_snapshot ns> <dump ns> <dump bytes> <own bytes>` lines; the
last line is a JSON object: iterations, CPU time of the loop (time.process_time: every thread of this process, so a
tracer's own threads count), its wall time, the peak RSS (VmHWM), tracemalloc's peak. "Snapshots written so far"
is read from the recorder (thrifty._ext._runfile_status) when thrifty's recorder runs this process, so that the
benchmark knows which iterations a snapshot interrupted; the other sides build the same dict from a counter, so
every side does the same work per iteration.

pyperformance's scripts drive themselves through pyperf.Runner; the stand-in (pyperf_standin.py) calls the workload
one loop at a time until SECONDS have passed (the first benchmark a
script declares takes the whole time; the scripts bench_watch.py picks declare one).
"""
import argparse  # noqa: F401  the stand-in pyperf's, imported before tracemalloc may start below
import os
import runpy
import sys
import time

seconds, script, log_path = float(sys.argv[1]), sys.argv[2], sys.argv[3]
tm_every = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
tm_dump = sys.argv[5] if len(sys.argv) > 5 else ""

if tm_every:
    import tracemalloc

    tracemalloc.start()  # one frame, its default: the cheapest tracemalloc a service would leave on

recorder = sys.modules.get("thrifty._ext")  # present when thrifty's recorder runs this process
if recorder is not None and recorder._runfile_status()["open"]:
    status = recorder._runfile_status
else:
    taken = [0]

    def status():
        return {"open": False, "bytes": 0, "snapshots": taken[0], "writer_bytes": 0, "writer_peak_bytes": 0}

log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
deadline_ns = 0
loop = {"iterations": 0, "cpu_ns": 0, "wall_ns": 0}
tm_own = [0]


def tracemalloc_snapshot():
    """Take one tracemalloc snapshot and dump it as a user keeping them would; log what each step took."""
    t0 = time.perf_counter_ns()
    snap = tracemalloc.take_snapshot()
    t1 = time.perf_counter_ns()
    own = tracemalloc.get_tracemalloc_memory()
    snap.dump(tm_dump)
    t2 = time.perf_counter_ns()
    del snap
    tm_own[0] = max(tm_own[0], own)
    taken[0] += 1
    os.write(log, b"T %d %d %d %d\n" % (t1 - t0, t2 - t1, os.path.getsize(tm_dump), own))


def run_loop(call):
    """Call `call()` until the deadline; one log line per call, timed from the end of the previous line's write
    (so a pause anywhere in the iteration, the log's own allocation included, lands in some iteration's time)."""
    next_tm = time.perf_counter_ns() + int(tm_every * 1e9) if tm_every else 0
    os.write(log, b"S %d\n" % status()["snapshots"])  # the count the first iteration's is compared with
    c0 = time.process_time_ns()
    start = prev = time.perf_counter_ns()
    prev_cpu = time.thread_time_ns()
    n = 0
    while prev < deadline_ns:
        call()
        done = status()["snapshots"]
        now_cpu = time.thread_time_ns()
        now = time.perf_counter_ns()
        os.write(log, b"%d %d %d\n" % (now - prev, now_cpu - prev_cpu, done))
        n += 1
        if next_tm and now >= next_tm:  # timed on its own: its time stays out of the iterations'
            tracemalloc_snapshot()
            next_tm += int(tm_every * 1e9)
            now = time.perf_counter_ns()
            now_cpu = time.thread_time_ns()
        prev, prev_cpu = now, now_cpu
    loop["cpu_ns"] += time.process_time_ns() - c0
    loop["wall_ns"] += prev - start
    loop["iterations"] += n


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pyperf_standin  # noqa: E402  (this folder)

sys.path.pop(0)
pyperf_standin.install(run_loop)
sys.argv = [script]
sys.path.insert(0, os.path.dirname(script))

deadline_ns = time.perf_counter_ns() + int(seconds * 1e9)
runpy.run_path(script, run_name="__main__")
if tm_every:
    tracemalloc_snapshot()  # the last one, at the end, as thrifty's recorder writes one when the target ends
traced_peak = tracemalloc.get_traced_memory()[1] if tm_every else None


def peak_rss():
    """This process's own peak RSS (VmHWM; ru_maxrss would fold in the parent's, see driver.py)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


import json  # noqa: E402  after the loop: no side pays for it inside the measured window

os.write(log, (json.dumps(dict(loop, rss=peak_rss(), traced_peak=traced_peak, tracemalloc_own=tm_own[0]))
               + "\n").encode())
os.close(log)
