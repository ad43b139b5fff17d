"""`thrifty watch` left on a long-running program, beside memray and tracemalloc: CPU cost, the recorder's memory,
bytes written per hour, and how long a snapshot holds the program up.

Each workload is a benchmark script shipped inside the `pyperformance` package, looped for SECONDS of wall time
(bench/workloads/watch_driver.py: a service's loop) under each side, in a fresh process:

    plain          python watch_driver.py ...                                  (the anchor)
    watch 30s      thrifty watch --every 30s --out RUN watch_driver.py ...     (defaults: sampled, 16 KiB)
    watch 1s       thrifty watch --every 1s ...                                (the cost of frequent snapshots)
    tracemalloc    tracemalloc.start() first, take_snapshot() + dump() every 30 s, in the driver
    memray         memray run -o CAPTURE watch_driver.py ...                   (its default capture)
    memray agg     memray run --aggregate -o CAPTURE ...

The sides of one workload run one after the other, in an order that rotates from workload to workload, so a
burst of load from the machine's other jobs falls on different sides. Since every side runs for the same wall time,
the comparison is per iteration: slowdown = CPU time per iteration (time.process_time of the driver's loop: every
thread of the target process, the tracers' own threads included) over plain python's. The command's whole CPU
time (os.wait4: the process and every child it waited for, so thrifty's parent and its analysis, memray's start-up
and its compression at exit) is reported apart, as a fixed cost per run.

Snapshot pause, measured from inside the target: the driver logs every iteration's length and the recorder's
snapshot count after it, so the iterations a snapshot interrupted are known; a snapshot's pause is such an
iteration's length minus the median of the (up to 63) clean iterations before it. The same excess over all clean
iterations is the noise floor of that measure on this machine. When the run file carries `last_snapshot_ns` (how
long the recorder took to write the previous snapshot) it is reported too. tracemalloc's take_snapshot() and dump()
are timed directly.
"""
from __future__ import annotations

import bisect
import json
import math
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
from typing import Any

import harness

TITLE = "thrifty watch on long runs, beside memray and tracemalloc"

HERE = pathlib.Path(__file__).resolve().parent
DRIVER = HERE / "workloads" / "watch_driver.py"
WORKLOADS = ["json_dumps", "deltablue", "richards", "nbody"]
SIDES = ["plain", "watch30", "watch1", "tracemalloc", "memray", "memray_agg"]
LABEL = {"plain": "plain", "watch30": "watch --every 30s", "watch1": "watch --every 1s",
         "tracemalloc": "tracemalloc, snapshot every 30s", "memray": "memray run", "memray_agg": "memray run --aggregate"}
TM_EVERY = 30.0
RAW = HERE.parent / "build" / "bench-watch-raw.json"  # every run as it ends, for `python bench_watch.py --render`
BASELINE = 63  # clean iterations a snapshot's iteration is compared with


def _seconds(quick: bool) -> float:
    """Wall time each side loops a workload: 60 s (the issue's minimum), 8 s with --quick; the environment
    variable THRIFTY_BENCH_WATCH_SECONDS sets it either way."""
    env = os.environ.get("THRIFTY_BENCH_WATCH_SECONDS")
    return float(env) if env else (8.0 if quick else 60.0)


def _rounds(quick: bool) -> int:
    """Runs of each side of each workload, medians taken: 3, 1 with --quick; THRIFTY_BENCH_WATCH_ROUNDS sets it."""
    env = os.environ.get("THRIFTY_BENCH_WATCH_ROUNDS")
    return int(env) if env else (1 if quick else 3)


def _command(side: str, seconds: float, script: pathlib.Path, tmp: pathlib.Path) -> list[str]:
    drive = [str(DRIVER), str(seconds), str(script), str(tmp / "log")]
    py = [sys.executable]
    if side == "plain":
        return py + drive
    if side in ("watch30", "watch1"):
        every = "30s" if side == "watch30" else "1s"
        return py + ["-m", "thrifty", "watch", "--every", every, "--out", str(tmp / "run"), "--json",
                     str(tmp / "watch.json")] + drive
    if side == "tracemalloc":
        return py + drive + [str(TM_EVERY), str(tmp / "tracemalloc.dump")]
    agg = ["--aggregate"] if side == "memray_agg" else []
    return py + ["-m", "memray", "run", "-q", "-f", *agg, "-o", str(tmp / "capture.bin")] + drive


def _parse_log(path: pathlib.Path) -> tuple[int, list[tuple[int, int, int]], list[list[int]], dict[str, Any]]:
    """(snapshot count as the loop started, [(wall ns, thread CPU ns, snapshot count after it)] per iteration,
    tracemalloc lines, result)."""
    start, iters, tm = 0, [], []
    result: dict[str, Any] = {}
    for line in path.read_text().splitlines():
        if line.startswith("{"):
            result = json.loads(line)
        elif line.startswith("S "):
            start = int(line.split()[1])
        elif line.startswith("T "):
            tm.append([int(x) for x in line.split()[1:]])
        elif line:
            wall, cpu, count = line.split()
            iters.append((int(wall), int(cpu), int(count)))
    return start, iters, tm, result


def _excess(start: int, iters: list[tuple[int, int, int]], field: int) -> tuple[list[float], list[float]]:
    """(pause of each iteration a snapshot interrupted, excess of every clean iteration), in seconds: an iteration's
    length (field 0: wall time, 1: the CPU time of the target's thread) minus the median of the clean iterations
    before it (at least 8 of them, at most BASELINE)."""
    window: list[int] = []  # the last clean lengths, kept sorted for the median
    order: list[int] = []  # the same, oldest first
    hit: list[float] = []
    clean: list[float] = []
    prev = start
    for it in iters:
        ns, count = it[field], it[2]
        snapped = count != prev
        prev = count
        if len(window) >= 8:
            median = window[len(window) // 2] if len(window) % 2 else (window[len(window) // 2 - 1]
                                                                         + window[len(window) // 2]) / 2
            (hit if snapped else clean).append((ns - median) / 1e9)
        if not snapped:
            bisect.insort(window, ns)
            order.append(ns)
            if len(order) > BASELINE:
                window.pop(bisect.bisect_left(window, order.pop(0)))
    return hit, clean


def _p99(xs: list[float]) -> float:
    """Nearest-rank 99th percentile (the largest value below 100 samples)."""
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, math.ceil(0.99 * len(s)) - 1)]


def _runfile_facts(path: pathlib.Path) -> dict[str, Any]:
    """What thrifty's run file says of itself: its snapshots, their record sizes, the recorder's memory."""
    from thrifty.doctor import runfile

    meta, series = runfile.read_series(str(path))
    data = path.read_bytes()
    sizes, prev = [], 0
    for kind, _, end in runfile._records(data, str(path)):
        if kind == runfile.SNAPSHOT:
            sizes.append(end - prev)
        prev = end
    last = series[-1]
    written = [s["last_snapshot_ns"] / 1e9 for s in series[1:] if s.get("last_snapshot_ns")]
    return {"snapshots": len(series), "record_sizes": sizes, "recorder_peak": last["recorder_peak_bytes"],
            "peak_est": last["peak_bytes"], "write_times": written, "has_write_times": "last_snapshot_ns" in last,
            "duration": last["duration_ns"] / 1e9}


def _run_side(side: str, seconds: float, script: pathlib.Path, tmp: pathlib.Path) -> dict[str, Any]:
    for f in tmp.iterdir():
        f.unlink()
    load = [os.getloadavg()[0]]
    with open(tmp / "stdout", "wb") as out, open(tmp / "stderr", "wb") as err:
        proc = subprocess.Popen(_command(side, seconds, script, tmp), stdout=out, stderr=err, cwd=str(tmp))
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    load.append(os.getloadavg()[0])
    if proc.returncode != 0:
        tail = (tmp / "stderr").read_text(errors="replace").strip().splitlines()[-3:]
        raise RuntimeError(f"{script.parent.name} under {side}: exit {proc.returncode}: {tail}")
    start, iters, tm, result = _parse_log(tmp / "log")
    hit, clean = _excess(start, iters, 0)
    hit_cpu, clean_cpu = _excess(start, iters, 1)
    r: dict[str, Any] = {
        "fixed": usage.ru_utime + usage.ru_stime - result["cpu_ns"] / 1e9,
        "iterations": result["iterations"], "cpu": result["cpu_ns"] / 1e9, "wall": result["wall_ns"] / 1e9,
        "cpu_per_iter": result["cpu_ns"] / 1e9 / max(result["iterations"], 1), "rss": result["rss"],
        "command_cpu": usage.ru_utime + usage.ru_stime, "pauses": hit, "noise": clean, "pauses_cpu": hit_cpu,
        "noise_cpu": clean_cpu, "median_iter": statistics.median(i[0] for i in iters) / 1e9 if iters else math.nan,
        "load": load,  # the machine's 1-minute load average as the side started and ended
    }
    if side.startswith("watch"):
        r.update(_runfile_facts(tmp / "run"))
        timed = r.pop("record_sizes")[1:-1]  # not the first (empty tables) nor the last (written at the end)
        r["steady_record"] = statistics.mean(timed[-2:]) if timed else math.nan
        r["out_bytes"] = (tmp / "run").stat().st_size
    elif side.startswith("memray"):
        r["out_bytes"] = (tmp / "capture.bin").stat().st_size
    elif side == "tracemalloc":
        r["take"] = [t[0] / 1e9 for t in tm]
        r["dump"] = [t[1] / 1e9 for t in tm]
        r["dump_bytes"] = [t[2] for t in tm]
        r["tm_own"] = result["tracemalloc_own"]
        r["traced_peak"] = result["traced_peak"]
    return r


def _geomean(xs: list[float]) -> float:
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def _per_hour(nbytes: float, seconds: float) -> str:
    return harness.fmt_bytes(nbytes * 3600 / seconds) + "/h"


def _ms(s: float) -> str:
    return "—" if math.isnan(s) else f"{s * 1e3:.1f} ms"


def _bench_dir() -> pathlib.Path | None:
    try:
        import pyperformance
    except ImportError:
        return None
    return pathlib.Path(pyperformance.__file__).parent / "data-files" / "benchmarks"


def _merge(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One side's runs of one workload as one: the median of each number, every pause and timing pooled."""
    out: dict[str, Any] = {}
    for key, first in runs[0].items():
        if isinstance(first, list):
            out[key] = [x for r in runs for x in r[key]]
        elif isinstance(first, bool):
            out[key] = all(r[key] for r in runs)
        elif first is None:
            out[key] = None
        else:
            out[key] = statistics.median(r[key] for r in runs)
    out["runs"] = len(runs)
    return out


def run(quick: bool) -> str:
    bench_dir = _bench_dir()
    if bench_dir is None:
        return "_pyperformance is not installed (`pip install -e '.[bench]'`): nothing measured._"
    sides = list(SIDES)
    try:
        import memray  # noqa: F401
    except ImportError:
        sides = [s for s in sides if not s.startswith("memray")]
    seconds, rounds = _seconds(quick), _rounds(quick)
    workloads = [(n, bench_dir / f"bm_{n}" / "run_benchmark.py") for n in WORKLOADS]
    workloads = [(n, p) for n, p in workloads if p.exists()]
    raw: dict[str, dict[str, list[dict[str, Any]]]] = {n: {s: [] for s in sides} for n, _ in workloads}
    RAW.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as d:
        tmp = pathlib.Path(d)
        for k in range(rounds):
            for w, (name, script) in enumerate(workloads):
                at = (w + k) % len(sides)  # the order rotates from workload to workload and round to round
                for side in sides[at:] + sides[:at]:
                    r = _run_side(side, seconds, script, tmp)
                    raw[name][side].append(r)
                    RAW.write_text(json.dumps({"seconds": seconds, "sides": sides, "runs": raw}))
                    print(f"  round {k + 1}/{rounds} {name:<11} {LABEL[side]:<32} {r['iterations']:>6} iterations, "
                          f"{harness.fmt_time(r['cpu_per_iter'])} CPU each, command CPU {r['command_cpu']:.1f} s",
                          flush=True)
    return _render_raw(raw, sides, seconds)


def _render_raw(raw: dict[str, dict[str, list[dict[str, Any]]]], sides: list[str], seconds: float) -> str:
    """The Markdown of the runs kept (all rounds, or the rounds a cut-short run finished: every side's runs of a
    workload are merged whatever their number)."""
    done = {n: {s: _merge(raw[n][s]) for s in sides} for n in raw if all(raw[n][s] for s in sides)}
    return _render(done, sides, seconds)


def _render(res: dict[str, dict[str, dict[str, Any]]], sides: list[str], seconds: float) -> str:
    names = list(res)
    rounds = min(int(res[n][s]["runs"]) for n in names for s in sides)
    traced = [s for s in sides if s != "plain"]

    def slow(n: str, s: str) -> float:
        return float(res[n][s]["cpu_per_iter"] / res[n]["plain"]["cpu_per_iter"])

    # -- CPU
    cpu_rows = [[n, harness.fmt_time(res[n]["plain"]["cpu_per_iter"]), str(res[n]["plain"]["iterations"])]
                + [f"{slow(n, s):.3f}x" for s in traced] for n in names]
    gm = {s: _geomean([slow(n, s) for n in names]) for s in traced}
    cpu_rows.append(["**geomean**", "", ""] + [f"**{gm[s]:.3f}x**" for s in traced])
    fixed_rows = [[n] + [f"{res[n][s]['fixed']:.2f} s" for s in sides] for n in names]

    # -- memory: the recorder's own against the target's peak
    mem_rows = []
    worst = {"watch30": 0.0, "watch1": 0.0}
    for n in names:
        peak = res[n]["tracemalloc"]["traced_peak"]
        rss0 = res[n]["plain"]["rss"]
        row = [n, harness.fmt_bytes(peak), harness.fmt_bytes(rss0)]
        for s in ("watch30", "watch1"):
            own = res[n][s]["recorder_peak"]
            worst[s] = max(worst[s], own / peak)
            row.append(f"{harness.fmt_bytes(own)} = {100 * own / peak:.1f}% ({100 * own / res[n][s]['peak_est']:.1f}%"
                       f" of its own estimate)")
        row.append(f"{harness.fmt_bytes(res[n]['tracemalloc']['tm_own'])} = "
                   f"{100 * res[n]['tracemalloc']['tm_own'] / peak:.0f}%")
        row += [f"{(res[n][s]['rss'] - rss0) / 2**20:+.1f} MiB" for s in traced]
        mem_rows.append(row)

    # -- bytes written
    out_rows = []
    for n in names:
        row = [n]
        for s in ("watch30", "watch1"):
            r = res[n][s]
            every = 30.0 if s == "watch30" else 1.0
            row.append(f"{harness.fmt_bytes(r['out_bytes'])} in {r['snapshots']:.0f} snapshots; "
                       f"{harness.fmt_bytes(r['steady_record'] * 3600 / every)}/h")
        tm = res[n]["tracemalloc"]
        row.append(f"{harness.fmt_bytes(statistics.mean(tm['dump_bytes']))} a dump; "
                   f"{harness.fmt_bytes(statistics.mean(tm['dump_bytes']) * 3600 / TM_EVERY)}/h")
        for s in ("memray", "memray_agg"):
            if s in res[n]:
                r = res[n][s]
                row.append(f"{harness.fmt_bytes(r['out_bytes'])}; " + (
                    _per_hour(r["out_bytes"], r["wall"]) if s == "memray" else "written once, at exit"))
        out_rows.append(row)

    # -- pauses: the recorder's own timing of each write, and the excess of the iterations a snapshot interrupted
    pause_rows = []
    worst_pause = {"watch30": 0.0, "watch1": 0.0}
    worst_median = {"watch30": 0.0, "watch1": 0.0}
    for n in names:
        plain = res[n]["plain"]
        row = [n, harness.fmt_time(plain["median_iter"]),
               f"{_ms(_p99(plain['noise']))} / {_ms(_p99(plain['noise_cpu']))}"]
        for s in ("watch30", "watch1"):
            r = res[n][s]
            own = r["write_times"] if r["has_write_times"] else r["pauses_cpu"]
            worst_pause[s] = max(worst_pause[s], _p99(own) if own else 0.0)
            worst_median[s] = max(worst_median[s], statistics.median(own) if own else 0.0)
            written = (f"{_ms(statistics.median(r['write_times']))} / {_ms(_p99(r['write_times']))} "
                       f"(n={len(r['write_times'])})" if r["write_times"] else "—")
            row += [written, f"{_ms(_p99(r['pauses']))} / {_ms(_p99(r['pauses_cpu']))} (n={len(r['pauses'])})"]
        tm = res[n]["tracemalloc"]
        row.append(f"{_ms(_p99(tm['take']))} + dump {_ms(_p99(tm['dump']))} (n={len(tm['take'])})")
        pause_rows.append(row)
    pause_kind = ("the time the target was held, `last_snapshot_ns`" if all(res[n]["watch30"]["has_write_times"] for n in names)
                  else "CPU excess of the interrupted iterations")

    def met(ok: bool) -> str:
        return "met" if ok else "**missed**"

    def met_both(value: dict[str, float], limit: float, show) -> str:
        """The verdict at the default interval, and at 1 s when that one differs: both columns are judged."""
        if (value["watch30"] <= limit) == (value["watch1"] <= limit):
            return met(value["watch30"] <= limit) + " at both intervals"
        return f"{met(value['watch30'] <= limit)} at 30 s; {met(value['watch1'] <= limit)} at 1 s ({show(value['watch1'])})"

    worst_slow = {s: max(slow(n, s) for n in names) for s in traced}
    worst_tm = max(res[n]["tracemalloc"]["tm_own"] / res[n]["tracemalloc"]["traced_peak"] for n in names)
    rss_up = {s: statistics.median((res[n][s]["rss"] - res[n]["plain"]["rss"]) / 2**20 for n in names)
              for s in traced}
    per_hour = {"watch30": max(res[n]["watch30"]["steady_record"] * 3600 / 30 for n in names),
                "watch1": max(res[n]["watch1"]["steady_record"] * 3600 for n in names),
                "tm": max(statistics.mean(res[n]["tracemalloc"]["dump_bytes"]) * 3600 / TM_EVERY for n in names)}
    if "memray" in sides:
        per_hour["memray"] = max(res[n]["memray"]["out_bytes"] * 3600 / res[n]["memray"]["wall"] for n in names)
    summary = [
        ["CPU time per iteration vs plain (geomean; worst)", f"{gm['watch30']:.3f}x; {worst_slow['watch30']:.3f}x",
         f"{gm['watch1']:.3f}x; {worst_slow['watch1']:.3f}x",
         f"tracemalloc {gm['tracemalloc']:.2f}x" + "".join(f", {LABEL[s]} {gm[s]:.2f}x" for s in traced
                                                          if s.startswith("memray")),
         "≤ 1.05x", met(gm["watch30"] <= 1.05) + " on the geomean" + (
             "" if worst_slow["watch30"] <= 1.05 else f"; not on every workload ({worst_slow['watch30']:.2f}x)")],
        ["recorder memory / traced peak (worst workload)", f"{100 * worst['watch30']:.1f}%",
         f"{100 * worst['watch1']:.1f}%", f"tracemalloc's own {100 * worst_tm:.0f}%; peak RSS over plain (median "
         "of the workloads): " + ", ".join(f"{LABEL[s]} {rss_up[s]:+.1f} MiB" for s in traced), "≤ 2%",
         met_both(worst, 0.02, lambda v: f"{100 * v:.1f}%")],
        ["bytes written per hour (largest workload)", harness.fmt_bytes(per_hour["watch30"]) + "/h",
         harness.fmt_bytes(per_hour["watch1"]) + "/h", f"tracemalloc dumps {harness.fmt_bytes(per_hour['tm'])}/h"
         + (f", memray {harness.fmt_bytes(per_hour['memray'])}/h, --aggregate one file at exit"
            if "memray" in sides else ""), "a week at 30 s ≤ ~2 MiB: the file is capped by --max-file (2 MiB)",
         "reported"],
        [f"snapshot pause p99 (median), {pause_kind} (worst workload)",
         f"{_ms(worst_pause['watch30'])} ({_ms(worst_median['watch30'])})",
         f"{_ms(worst_pause['watch1'])} ({_ms(worst_median['watch1'])})", "tracemalloc take_snapshot() + dump(): " + ", ".join(
             _ms(_p99(res[n]["tracemalloc"]["take"]) + _p99(res[n]["tracemalloc"]["dump"])) for n in names),
         "a few ms (≤ 5 ms here)", met_both(worst_pause, 0.005, _ms)],
    ]
    loads = [x for n in names for s in sides for x in res[n][s].get("load", [])]
    load_text = f"load average {min(loads):.1f} to {max(loads):.1f}" if loads else "load average not recorded"
    missing = [LABEL[s] for s in ("memray", "memray_agg") if s not in sides]
    return (
        f"Each of {len(names)} pyperformance workloads looped for {seconds:.0f} s of wall time under each side, "
        f"{rounds} run(s) of each side, sides in an order rotating from workload to workload and round to round, "
        "medians of the runs (pauses: pooled over the runs); bench/bench_watch.py says how each number is taken. "
        + (f"Not run: {', '.join(missing)} (memray is not installed here). " if missing else "")
        + f"The machine has 2 cores shared with other jobs ({load_text} as the sides started and ended): CPU time, "
        "not wall time, is compared, which the other jobs inflate less, but they still move a single run by ±10% "
        "and more; the pauses are wall time, and a thread that loses the CPU while it is held adds the wait to "
        "it.\n\n"
        + harness.table(["what", "watch --every 30s (default)", "watch --every 1s", "anchors", "target", "verdict"],
                        summary)
        + "\n\n**CPU time per iteration, over plain python's** (the driver's loop: every thread of the target "
        "process; iterations = how many plain python ran):\n\n"
        + harness.table(["workload", "plain (CPU per iteration)", "iterations"] + [LABEL[s] for s in traced],
                        cpu_rows)
        + "\n\nFixed cost outside the loop (the whole command's CPU time from os.wait4 minus the loop's: "
        "interpreter start-up, the workload's set-up, the tracer's start and end, thrifty's analysis and report, "
        "memray's compression of its capture at exit):\n\n"
        + harness.table(["workload"] + [LABEL[s] for s in sides], fixed_rows)
        + "\n\n**Memory.** thrifty: the recorder's own memory at its largest (`recorder_peak_bytes` of the last "
        "snapshot: the tracker's tables and the run-file writer), over the program's traced peak as tracemalloc "
        "measured it (exact) in the same session, and over the recorder's own sampled estimate of the peak "
        "(`peak_bytes`). tracemalloc's own: `get_tracemalloc_memory()` at its largest, read after each snapshot. "
        "memray keeps no counter of its own memory: the peak RSS over plain python's (VmHWM of the target process, "
        "every side) is the comparable figure for all of them; it includes what each tracer imports and, for "
        "tracemalloc, the snapshot objects while they exist.\n\n"
        + harness.table(["workload", "traced peak", "plain peak RSS", "watch 30s recorder", "watch 1s recorder",
                         "tracemalloc own"] + [f"RSS {LABEL[s]}" for s in traced], mem_rows)
        + "\n\n**Bytes written.** thrifty: the run file's size after the run, and per hour at that interval "
        "(the mean size of the last timed snapshot records × snapshots an hour: the run holds extra snapshots "
        "from the start, where the interval doubles from 50 ms, and every snapshot holds the whole table, so "
        "the file grows linearly until old snapshots are thinned, docs/watch.md). tracemalloc: one dump() of a "
        "snapshot (each replaces the last here; kept, they add up as shown). memray's default capture grows "
        "as the program allocates (file after its lz4 compression at exit, scaled to an hour by the run's "
        "length; by default memray records only the allocator's own calls, not pymalloc's small blocks); "
        "`--aggregate` writes its summary once, at exit, so it does not grow with time (and a run killed by the "
        "OOM killer leaves nothing).\n\n"
        + harness.table(["workload", "watch 30s", "watch 1s", "tracemalloc dumps every 30s"]
                        + [LABEL[s] for s in ("memray", "memray_agg") if s in sides], out_rows)
        + "\n\n**Snapshot pause.** *held*: how long each snapshot held the target's thread, as the next snapshot "
        "records it (`last_snapshot_ns`, wall time), median / p99 over the snapshots of all runs (below 100 "
        "snapshots p99 is the largest): while the program runs, a due snapshot is captured in its allocation hook "
        "(the tables serialised, raw, past the end of the run file) and the recorder's writer thread compresses it "
        "into its record afterwards, without the tracker's lock (docs/watch.md); that thread's CPU time is in the "
        "CPU figures above. *interrupted iterations*: the same seen from the target, each iteration during which a "
        "snapshot was taken, minus the median of the (up to 63) clean iterations before it, in wall time / in the CPU "
        "time of the target's thread, p99 (n = such iterations after the loop's first 8). The *noise* column is "
        "that excess over every clean iteration of plain python (p99): the wall-time figures are mostly the "
        "machine's other jobs, the CPU ones are the steadier measure. tracemalloc: take_snapshot() and dump() "
        "timed in the target, p99.\n\n"
        + harness.table(["workload", "plain iteration (median, wall)", "noise p99 (plain): wall / CPU",
                         "watch 30s: held", "watch 30s: interrupted iterations, wall / CPU",
                         "watch 1s: held", "watch 1s: interrupted iterations, wall / CPU",
                         "tracemalloc take_snapshot()"], pause_rows)
        + "\n"
    )


if __name__ == "__main__":  # re-render the kept runs (e.g. of a run cut short): python bench/bench_watch.py --render
    if sys.argv[1:] != ["--render"]:
        raise SystemExit("usage: python bench/bench_watch.py --render   (prints the Markdown of " + str(RAW) + ")")
    kept = json.loads(RAW.read_text())
    print(_render_raw(kept["runs"], kept["sides"], kept["seconds"]))
