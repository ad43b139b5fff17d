"""The allocation tracker against tracemalloc and memray: slowdown, own memory, peak accuracy; and the whole doctor.

Workloads are the benchmark scripts shipped inside the `pyperformance` package (not written here), plus one
allocation-heavy script of our own (bench/workloads/alloc_heavy.py).

In-process (the tracker alone): each run is a fresh interpreter (bench/workloads/driver.py) doing a fixed number of
loops of one workload (about a quarter second of CPU) under one tracer; the five sides (untraced, thrifty exact,
thrifty sampled, tracemalloc, memray) alternate in rotating order, each repeated, medians taken. Slowdown = traced CPU
time / untraced CPU time of the same workload in the same session: the driver measures the CPU time of its traced
section (time.process_time, all threads), which the other processes on a shared, loaded machine do not inflate the
way they inflate wall time. Peaks are compared only between runs that started the traced program from the same
garbage-collector state (the driver zeroes it as the window opens and reports it; see driver.py for why deltablue's
peak depends on it). Peak RSS is each child's own high-water mark (VmHWM), not ru_maxrss, which a child inherits from
a large parent. Exact mode's cost per live block comes from these runs (the tracker reports its live blocks and its
live-block tables' bytes at the peak).

The whole command (the doctor as a user runs it, report and findings built): `thrifty doctor [--sample] script`
against `python script`, the loops sized so that plain python takes ~2 s of CPU (E2E_CPU; measured on the plain command at two loop counts,
so its fixed part is not taken for loops), CPU time of the whole
process tree (os.wait4), 3 rounds in rotating order, medians; the doctor's fixed cost (`thrifty doctor -c pass`)
is measured and printed apart, so a reader sees how much of a ratio it is.
"""
from __future__ import annotations

import json
import math
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

import harness

TITLE = "Allocation tracker (thrifty doctor)"

HERE = pathlib.Path(__file__).resolve().parent
DRIVER = HERE / "workloads" / "driver.py"
OWN = HERE / "workloads" / "alloc_heavy.py"
PYPERF_BENCHES = ["json_dumps", "richards", "deltablue", "nbody", "chaos", "go", "raytrace", "float", "deepcopy",
                  "nqueens"]
MODES = ["none", "exact", "sampled", "tracemalloc", "memray"]


def _bench_dir() -> pathlib.Path | None:
    try:
        import pyperformance
    except ImportError:
        return None
    return pathlib.Path(pyperformance.__file__).parent / "data-files" / "benchmarks"


def _run(mode: str, loops: int, script: pathlib.Path) -> dict:
    out = subprocess.run([sys.executable, str(DRIVER), mode, str(loops), str(script)], capture_output=True,
                         text=True, timeout=600, cwd=str(script.parent))
    if out.returncode != 0:
        raise RuntimeError(f"{script} under {mode}: {out.stderr.strip().splitlines()[-1:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


E2E_CPU = 2.0  # seconds of CPU the plain whole command is sized to (quick: E2E_CPU_QUICK)
E2E_CPU_QUICK = 0.4


def _env(cache: pathlib.Path) -> dict[str, str]:
    """The environment of every whole command: bytecode read from and written to one cache (PYTHONPYCACHEPREFIX), as
    an installed package has its .pyc files; PYTHONDONTWRITEBYTECODE (set on the machines these runs were made on)
    would make every run compile thrifty's modules and the workload's again, a cost no user's installed copy pays."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    return env


def _tree(cmd: list[str], cwd: str, env: dict[str, str]) -> tuple[float, str]:
    """(CPU seconds, user + system, of the process and every descendant it waited for, stdout) of one command. The
    doctor's parent waits for its recorder, so the recorder's CPU is in its parent's rusage."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[-4:])}: exit {proc.returncode}: "
                               f"{err.read().decode(errors='replace').strip().splitlines()[-1:]}")
        return usage.ru_utime + usage.ru_stime, out.read().decode()


def _doctor(mode: str, loops: int, script: pathlib.Path, tmp: pathlib.Path, env: dict[str, str]) -> dict:
    """One run of the whole command a user types, `thrifty doctor [--sample] --out RUN driver.py plain LOOPS script`
    (the recorder's interpreter, the run file, the report and the findings built, the text report printed), or
    `python driver.py plain LOOPS script` (mode "plain"): CPU time of its process tree, the target's own peak RSS
    (the recorder's VmHWM, which the run file records; for plain python the driver's), run-file bytes. --out only
    keeps the run file (the doctor writes one either way) so that its size and the figures can be read after."""
    from thrifty.doctor import runfile

    path = tmp / "bench.run"
    if mode == "plain":
        cmd = [sys.executable, str(DRIVER), "plain", str(loops), str(script)]
    else:
        cmd = [sys.executable, "-m", "thrifty", "doctor", "--out", str(path)] + (["--sample"] if mode == "sampled"
                                                                              else [])
        cmd += [str(DRIVER), "plain", str(loops), str(script)]
    cpu, out = _tree(cmd, str(script.parent), env)
    inner = json.loads(out.strip().splitlines()[-1])
    if mode == "plain":
        return {"cpu": cpu, "rss": inner["rss"], "bytes": 0, "duration": inner["time"]}
    raw = runfile.read_run(str(path))
    return {"cpu": cpu, "rss": raw["target_peak_rss_bytes"], "bytes": path.stat().st_size,
            "duration": raw["duration_ns"] / 1e9}


def _size_loops(script: pathlib.Path, guess: int, want: float, tmp: pathlib.Path, env: dict[str, str]) -> int:
    """LOOPS for which the plain whole command, `python driver.py plain LOOPS script`, takes ~`want` s of CPU: its CPU
    at 1 loop (the fixed part: start-up, imports, the workload's set-up and its first, slower call) and at `guess`
    loops (medians of 3) give the CPU of one more loop. Scaling the in-process runs' CPU by their loops (as this did
    before) counted the traced section's fixed part (running the script, its imports) as loops: deepcopy, ~0.4 ms a
    loop and ~10 ms of set-up, was sized to 1.1 s instead of 2 s, and the doctor's fixed cost then weighed twice."""
    one = statistics.median(_doctor("plain", 1, script, tmp, env)["cpu"] for _ in range(3))
    guess = max(2, guess)
    at = statistics.median(_doctor("plain", guess, script, tmp, env)["cpu"] for _ in range(3))
    per_loop = max((at - one) / (guess - 1), 1e-6)
    return max(1, 1 + round((want - one) / per_loop))


def _fixed(env: dict[str, str], repeat: int, cwd: str) -> dict[str, float]:
    """Median CPU of `python -c pass` and of `thrifty doctor [--sample] -c pass` (sides rotating): the doctor's
    fixed cost, which a short program mostly measures."""
    cmds = {"python": [sys.executable, "-c", "pass"],
            "exact": [sys.executable, "-m", "thrifty", "doctor", "-c", "pass"],
            "sampled": [sys.executable, "-m", "thrifty", "doctor", "--sample", "-c", "pass"]}
    names = list(cmds)
    got: dict[str, list[float]] = {n: [] for n in names}
    for n in names:  # a first run of each writes the bytecode cache
        _tree(cmds[n], cwd, env)
    for r in range(max(5, 2 * repeat)):
        for n in names[r % 3:] + names[:r % 3]:
            got[n].append(_tree(cmds[n], cwd, env)[0])
    return {n: statistics.median(v) for n, v in got.items()}


def _end_to_end(workloads: list[tuple[str, pathlib.Path]], plain_cpu: dict, loops_of: dict, repeat: int,
                quick: bool) -> str:
    """The doctor as a user runs it, against plain python on the same workload: slowdown of the whole command
    (CPU of its process tree), the target's peak RSS, run-file bytes per second of run; and the fixed cost."""
    rows, slow = [], {"exact": [], "sampled": []}
    rss = {"exact": [], "sampled": []}
    want = E2E_CPU_QUICK if quick else E2E_CPU
    with tempfile.TemporaryDirectory() as d:
        tmp = pathlib.Path(d)
        env = _env(tmp / "pycache")
        fixed = _fixed(env, repeat, d)
        for name, script in workloads:
            sides = ("plain", "exact", "sampled")
            for m in sides:  # a first run of each side fills the bytecode cache
                _doctor(m, 1, script, tmp, env)
            # sized so plain python runs ~E2E_CPU s of CPU: measured on the plain whole command itself, from a first
            # guess of a quarter of that (the in-process loops scaled by their CPU, an overestimate of a loop's cost)
            guess = max(2, round(loops_of[name] * want / 4 / max(plain_cpu[name], 1e-3)))
            loops = _size_loops(script, guess, want, tmp, env)
            samples: dict[str, list[dict]] = {m: [] for m in sides}
            for r in range(repeat):
                for m in sides[r % 3:] + sides[:r % 3]:
                    samples[m].append(_doctor(m, loops, script, tmp, env))
            med = {m: statistics.median(x["cpu"] for x in samples[m]) for m in samples}
            hwm = {m: statistics.median(x["rss"] for x in samples[m]) for m in samples}
            for m in ("exact", "sampled"):
                slow[m].append(med[m] / med["plain"])
                rss[m].append(hwm[m] / hwm["plain"])
            rate = {m: statistics.median(x["bytes"] / max(x["duration"], 1e-3) for x in samples[m])
                    for m in ("exact", "sampled")}
            rows.append([name, str(loops), f"{med['plain']:.2f} s", f"{med['exact'] / med['plain']:.2f}x",
                         f"{med['sampled'] / med['plain']:.2f}x",
                         f"{100 * (hwm['exact'] / hwm['plain'] - 1):+.1f}%",
                         f"{100 * (hwm['sampled'] / hwm['plain'] - 1):+.1f}%",
                         harness.fmt_bytes(rate["exact"]) + "/s", harness.fmt_bytes(rate["sampled"]) + "/s"])
    ext = [i for i, (n, _) in enumerate(workloads) if n != "alloc_heavy (ours)"] or list(range(len(workloads)))
    summary = (f"Whole command, geomean over pyperformance: exact {_geomean([slow['exact'][i] for i in ext]):.2f}x, "
               f"sampled {_geomean([slow['sampled'][i] for i in ext]):.2f}x the CPU time of plain python (target: "
               f"exact ≤ 1.5x, sampled ≤ 1.1x); the target's peak RSS "
               f"{100 * (_geomean([rss['exact'][i] for i in ext]) - 1):+.1f}% (exact), "
               f"{100 * (_geomean([rss['sampled'][i] for i in ext]) - 1):+.1f}% (sampled) over plain python's "
               "(target: sampled ≤ +5%).")
    fixed_text = (f"**Fixed cost** (medians, CPU of the process tree): `python -c pass` {fixed['python']:.3f} s; "
                  f"`thrifty doctor -c pass` {fixed['exact']:.3f} s, `thrifty doctor --sample -c pass` "
                  f"{fixed['sampled']:.3f} s: two interpreters' start-up, the recorder's, the analyzer's imports, the "
                  f"report and the findings of an empty program. A run of ~{want:g} s carries it as ~"
                  f"{100 * (fixed['sampled'] - fixed['python']) / want:.0f}% of its ratio.")
    return ("\n\n### The doctor as a user runs it\n\n"
            "`thrifty doctor [--sample] --out RUN driver.py plain LOOPS script` (the text report printed, the findings "
            "built; --out only keeps the run file, which the doctor writes either way) against "
            f"`python driver.py plain LOOPS script`, LOOPS sized so that plain python takes ~{want:g} s of CPU (its CPU "
            "at 1 loop and at about a quarter of LOOPS gives the cost of a loop apart from the command's fixed part; the "
            "driver imports no tracer in this mode); CPU time of the whole process tree (the doctor's parent and its "
            "recorder: os.wait4's rusage), sides in rotating order, "
            f"{repeat} round{'s' if repeat != 1 else ''}, medians; every side reads its bytecode from one warm cache, as an installed copy does "
            "(PYTHONPYCACHEPREFIX; this machine's environment sets PYTHONDONTWRITEBYTECODE, which would make each run "
            "compile thrifty and the workload again). RSS: the target's own peak (the recorder's VmHWM, which the run "
            "file records; the doctor's parent, where the report is built, is apart). Run file: bytes over the run's "
            "duration. " + summary + "\n\n" + fixed_text + "\n\n"
            + harness.table(["workload", "loops", "plain (CPU)", "exact", "sampled", "RSS exact", "RSS sampled",
                             "run file, exact", "run file, sampled"], rows))


def _blocks_text(per: dict, workloads: list[tuple[str, pathlib.Path]]) -> str:
    """Exact mode's cost per live block of the target, from the in-process runs: the live-block tables' bytes at the
    traced peak over the live blocks then, and all the tracker's tables at their largest over the same blocks."""
    rows, table_per, all_per, rss_per = [], [], [], []
    for name, _ in workloads:
        e, none = per[name]["last"]["exact"], per[name]["last"]["none"]
        blocks = e.get("blocks") or 0
        if not blocks:
            continue
        table_per.append(e["block_bytes"] / blocks)
        all_per.append(e["own"] / blocks)
        rss_per.append((e["rss"] - none["rss"]) / blocks)
        rows.append([name, f"{blocks:,}", harness.fmt_bytes(e["block_bytes"]), f"{e['block_bytes'] / blocks:.1f} B",
                     harness.fmt_bytes(e["own"]), f"{e['own'] / blocks:.0f} B",
                     f"{(e['rss'] - none['rss']) / blocks:+.0f} B"])
    if not rows:
        return ""
    return ("\n\n### Exact mode's cost per live block\n\n"
            "From the in-process exact runs above (the workload's loops only): the live traced blocks at the traced "
            "peak, what the live-block tables (8-byte packed slots, a 16-byte table for the blocks that do not pack) "
            "took then, all of the tracker's tables at their largest (sites, stack nodes, stack and function tables, "
            "live blocks), and the peak RSS over the untraced run's, each per live block. Median over the workloads: "
            f"live-block tables {statistics.median(table_per):.1f} B per live block (target ≤ 16 B), all tables "
            f"{statistics.median(all_per):.0f} B, peak RSS {statistics.median(rss_per):+.0f} B. The tables are "
            "open-addressing with a load of at most 3/4 and power-of-two slot counts (core/include/thrifty/"
            "table_probe.h), so 8-byte slots cost 10.7 B a block when full and 21.3 B just after doubling.\n\n"
            + harness.table(["workload", "live blocks at peak", "block tables", "per block", "all tables",
                             "per block", "RSS per block"], rows))


def _geomean(xs: list[float]) -> float:
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def _workloads(quick: bool) -> list[tuple[str, pathlib.Path]]:
    bench_dir = _bench_dir()
    workloads: list[tuple[str, pathlib.Path]] = []
    if bench_dir:
        for name in PYPERF_BENCHES[:4] if quick else PYPERF_BENCHES:
            script = bench_dir / f"bm_{name}" / "run_benchmark.py"
            if script.exists():
                workloads.append((name, script))
    workloads.append(("alloc_heavy (ours)", OWN))
    return workloads


def run_whole_command(quick: bool) -> str:
    """Only the doctor as a user runs it (its part of the section): the loops sized as the full run sizes them,
    from untraced in-process runs (the median of 3), without the tracers' in-process comparison."""
    load_start = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    workloads = _workloads(quick)
    target_s = 0.1 if quick else 0.25
    plain_cpu, loops_of = {}, {}
    for name, script in workloads:
        t1 = _run("none", 1, script)["cpu"]
        loops = loops_of[name] = max(1, min(100, round(target_s / max(t1, 1e-4))))
        plain_cpu[name] = statistics.median(_run("none", loops, script)["cpu"] for _ in range(3))
    text = _end_to_end(workloads, plain_cpu, loops_of, 3 if not quick else 1, quick)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return text + (f"\n\n_Load average (1 min) of this part alone: {load_start:.1f} as it started, {load:.1f} as it "
                   "ended (2 cores, shared)._")


def run(quick: bool, whole_command: bool = True) -> str:
    """The section: the in-process part, then (whole_command) the doctor as a user runs it, which takes long."""
    load_start = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    bench_dir = _bench_dir()
    modes = list(MODES)
    try:
        import memray  # noqa: F401
    except ImportError:
        modes.remove("memray")
    workloads = _workloads(quick)
    target_s = 0.1 if quick else 0.25
    repeat = 1 if quick else 5

    rows, per, loops_of = [], {}, {}
    for name, script in workloads:
        t1 = _run("none", 1, script)["cpu"]
        loops = loops_of[name] = max(1, min(100, round(target_s / max(t1, 1e-4))))
        samples: dict[str, list[dict]] = {m: [] for m in modes}
        for r in range(repeat):
            order = modes[r % len(modes):] + modes[:r % len(modes)]
            for m in order:
                samples[m].append(_run(m, loops, script))
        # memray reports no peak, so only the other sides need to have started alike
        starts = {tuple(s["gc"]) for m in modes if m != "memray" for s in samples[m]}
        if len(starts) != 1:  # their peaks would differ by when collections fire, not by the tracers
            raise RuntimeError(f"{name}: the sides started from different collector counts {sorted(starts)}")
        med = {m: statistics.median(s["cpu"] for s in samples[m]) for m in modes}
        last = {m: samples[m][-1] for m in modes}
        per[name] = {"time": med, "last": last}
        exact_err = abs(last["exact"]["peak"] - last["tracemalloc"]["peak"]) / last["tracemalloc"]["peak"]
        rows.append([name, str(loops), harness.fmt_time(med["none"])]
                    + [f"{med[m] / med['none']:.2f}x" for m in modes[1:]]
                    + [f"{100 * exact_err:.2f}%", harness.fmt_bytes(last["exact"]["peak"]),
                       f"{100 * last['exact']['own'] / last['tracemalloc']['peak']:.0f}%",
                       f"{100 * last['sampled']['own'] / last['tracemalloc']['peak']:.1f}%"])

    ext = [n for n, _ in workloads if n != "alloc_heavy (ours)"]
    gm = {m: _geomean([per[n]["time"][m] / per[n]["time"]["none"] for n in ext]) for m in modes[1:]}
    # Each tracer's own memory against the program's peak as the reference (tracemalloc) measured it in the same run:
    # sampled mode's own peak is an estimate that varies by 2x between runs, so it cannot be the denominator.
    own_ratio = {m: _geomean([per[n]["last"][m]["own"] / per[n]["last"]["tracemalloc"]["peak"] for n in per])
                 for m in ("exact", "sampled", "tracemalloc")}
    worst_own = {m: max(per[n]["last"][m]["own"] / per[n]["last"]["tracemalloc"]["peak"] for n in per)
                 for m in ("exact", "sampled", "tracemalloc")}
    rss = {m: _geomean([per[n]["last"][m]["rss"] / per[n]["last"]["none"]["rss"] for n in per]) for m in modes[1:]}
    errs = [abs(per[n]["last"]["exact"]["peak"] - per[n]["last"]["tracemalloc"]["peak"])
            / per[n]["last"]["tracemalloc"]["peak"] for n in per]
    s_errs = [abs(per[n]["last"]["sampled"]["peak"] - per[n]["last"]["tracemalloc"]["peak"])
              / per[n]["last"]["tracemalloc"]["peak"] for n in per]

    def met(ok: bool) -> str:
        return "met" if ok else "**missed**"

    anchors = [gm["tracemalloc"]] + ([gm["memray"]] if "memray" in gm else [])
    summary = [
        ["slowdown, exact mode (geomean, pyperformance)", f"{gm['exact']:.2f}x",
         f"tracemalloc {gm['tracemalloc']:.2f}x" + (f", memray {gm['memray']:.2f}x" if "memray" in gm else ""),
         "≤ 1.5x and below both", met(gm["exact"] <= 1.5 and all(gm["exact"] < a for a in anchors))],
        ["slowdown, sampled mode (geomean, pyperformance)", f"{gm['sampled']:.2f}x", "—", "≤ 1.1x",
         met(gm["sampled"] <= 1.1)],
        ["slowdown on alloc_heavy (ours): exact / sampled", f"{per['alloc_heavy (ours)']['time']['exact'] / per['alloc_heavy (ours)']['time']['none']:.2f}x / "
         f"{per['alloc_heavy (ours)']['time']['sampled'] / per['alloc_heavy (ours)']['time']['none']:.2f}x",
         f"tracemalloc {per['alloc_heavy (ours)']['time']['tracemalloc'] / per['alloc_heavy (ours)']['time']['none']:.2f}x",
         "—", "—"],
        ["tracker memory / traced peak, exact (geomean; worst)", f"{100 * own_ratio['exact']:.1f}%; "
         f"{100 * worst_own['exact']:.1f}%", f"tracemalloc {100 * own_ratio['tracemalloc']:.1f}%; "
         f"{100 * worst_own['tracemalloc']:.1f}%", "≤ 5%, bounded", met(worst_own["exact"] <= 0.05)],
        ["tracker memory / traced peak, sampled (geomean; worst)", f"{100 * own_ratio['sampled']:.1f}%; "
         f"{100 * worst_own['sampled']:.1f}%", "—", "≤ 5%, bounded", met(worst_own["sampled"] <= 0.05)],
        ["peak RSS vs untraced: exact / sampled (geomean)", f"{100 * (rss['exact'] - 1):+.0f}% / "
         f"{100 * (rss['sampled'] - 1):+.0f}%", f"tracemalloc {100 * (rss['tracemalloc'] - 1):+.0f}%"
         + (f", memray {100 * (rss['memray'] - 1):+.0f}%" if "memray" in rss else ""), "—", "—"],
        ["peak accuracy vs tracemalloc, exact (worst)", f"{100 * max(errs):.2f}%", "tracemalloc", "within 2%",
         met(max(errs) <= 0.02)],
        ["peak accuracy vs tracemalloc, sampled (median; worst)", f"{100 * statistics.median(s_errs):.1f}%; "
         f"{100 * max(s_errs):.1f}%", "tracemalloc", "— (estimate)", "—"],
    ]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    note = (f"\n\n_Load average (1 min): {load_start:.1f} as this part started, {load:.1f} as it ended "
            "(2 cores, shared)._")
    note += ("" if bench_dir else "\n\n_pyperformance is not installed: only our own workload ran "
            "(`pip install pyperformance`)._")
    return (
        f"Each workload runs a fixed number of loops in a fresh interpreter under each side; {repeat} rounds, "
        "rotating order, medians of the CPU time of the traced section. Own memory: thrifty's tables at their "
        "largest (`tracker_peak_bytes`), over the workload's peak as tracemalloc measured it in the same run; "
        "tracemalloc's own: `get_tracemalloc_memory()`, which is read at the end of the "
        "run, after most traces were freed, so it understates tracemalloc's own peak (peak RSS is the fair "
        "comparison: each child's own high-water mark, VmHWM, over the untraced child's); every side starts the "
        "workload from the same garbage-collector state, so collections fire at the same points under each; "
        "memray's own cost is its capture file (not comparable, not in the ratio). Sampled mode uses the default "
        "rate (128 KiB mean between samples). Why exact-mode memory cannot reach 5%: see "
        "docs/doctor.md, \"Overhead\".\n\n"
        + harness.table(["what", "thrifty", "anchor", "target", "verdict"], summary)
        + "\n\nPer workload (slowdown vs untraced; peak err: exact peak vs tracemalloc peak; own/peak: "
        "thrifty's exact-mode and sampled-mode tables at their largest over the traced peak):\n\n"
        + harness.table(["workload", "loops", "untraced (CPU)"] + [m for m in modes[1:]]
                        + ["peak err", "traced peak", "exact own/peak", "sampled own/peak"], rows)
        + _blocks_text(per, workloads)
        + (_end_to_end(workloads, {n: per[n]["time"]["none"] for n in per}, loops_of, 3 if not quick else 1, quick)
           if whole_command else "")
        + note
    )


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="the tracker's benchmark alone (bench/run.py --only tracker runs all of it)")
    ap.add_argument("--quick", action="store_true", help="fewer workloads and rounds (a smoke run)")
    ap.add_argument("--in-process", action="store_true",
                    help="only the in-process part (the tracker alone), not the whole doctor command, which takes long")
    ap.add_argument("--whole-command", action="store_true",
                    help="only the whole doctor command (its part of the section), the loops sized from untraced runs")
    args = ap.parse_args()
    print(run_whole_command(args.quick) if args.whole_command else run(args.quick, whole_command=not args.in_process))
