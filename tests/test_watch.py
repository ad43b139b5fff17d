"""`thrifty watch` on a service that never ends: one line leaks among churn, a sawtooth buffer and a cache that
plateaus. The leak's line comes first with its rate (checked against what the service itself says it kept), the
others are not called leaks, the same service without the leak gets no leak, and a target killed with SIGKILL
leaves a run file `thrifty report --leaks` reads. Runs are short (seconds, snapshots every 0.25 s) and the leak fast
to match: the analysis only sees a series, whatever its time scale."""
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

WATCH = [sys.executable, "-m", "thrifty", "watch"]


def _sigint_default():
    """A shell that starts a job in the background (as a CI runner may) leaves SIGINT ignored, and python then has
    no KeyboardInterrupt: the tests want the ordinary stop, SIGINT as Ctrl-C sends it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)

SERVICE = textwrap.dedent("""\
    import atexit, sys, time

    leak_on = sys.argv[1] == "leak"
    kept = []            # the leak: one 2000-byte record per tick, never dropped
    cache = {}           # fills up to 300 keys, then stays
    buffer = []          # a sawtooth: filled, then flushed
    start = time.monotonic()

    def report():
        with open("kept.txt", "w") as f:
            f.write(f"{len(kept) * sys.getsizeof(bytes(2000))} {time.monotonic() - start}")

    atexit.register(report)
    with open("pid.txt", "w") as f:
        f.write(str(__import__("os").getpid()))

    def tick(i):
        if leak_on:
            kept.append(bytes(2000))                      # LEAK LINE
        cache.setdefault(i % 300, bytes(1500))
        buffer.append(bytearray(1000))
        if len(buffer) >= 120:
            buffer.clear()
        return sum(len(str(j)) for j in range(40))        # churn

    i = 0
    while True:
        tick(i)
        i += 1
        time.sleep(0.004)
    """)
LEAK_LINE = next(n for n, line in enumerate(SERVICE.splitlines(), 1) if "# LEAK LINE" in line)


def _watch(tmp_path, *args, seconds="8s"):
    (tmp_path / "service.py").write_text(SERVICE)
    got = subprocess.run([*WATCH, "--every", "0.25s", "--for", seconds, "--json", "w.json", *args],
                         capture_output=True, text=True, cwd=tmp_path, timeout=120, preexec_fn=_sigint_default)
    assert got.returncode == 0, got.stderr[-3000:]
    return got, json.loads((tmp_path / "w.json").read_text())


def test_a_program_that_ignores_sigint_is_stopped_all_the_same(tmp_path):
    """--for sends SIGINT; a program that ignores it gets SIGTERM 10 s later, and the watch still reports from the
    snapshots it has."""
    (tmp_path / "deaf.py").write_text("import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                                      "keep = []\nwhile True:\n    keep.append(bytes(1000))\n    time.sleep(0.005)\n")
    got = subprocess.run([*WATCH, "--every", "0.25s", "--for", "2s", "--json", "w.json", "deaf.py"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=120, preexec_fn=_sigint_default)
    assert got.returncode == 0, got.stderr[-3000:]
    a = json.loads((tmp_path / "w.json").read_text())
    assert a["outcome"]["stopped"] and a["outcome"]["signal"] == signal.SIGTERM
    assert a["leaks"] and a["leaks"][0]["site"]["line"] == 5


@pytest.mark.parametrize("mode", [["--sample-rate", "2K"], ["--exact"]], ids=["sampled", "exact"])
def test_the_leaking_line_comes_first_with_its_rate(tmp_path, mode):
    got, a = _watch(tmp_path, *mode, "--budget", "256M", "service.py", "leak")
    assert a["snapshots"] >= 20
    first = a["leaks"][0]
    assert (first["site"]["file"], first["site"]["line"]) == (str(tmp_path / "service.py"), LEAK_LINE), a["leaks"]
    kept, seconds = map(float, (tmp_path / "kept.txt").read_text().split())
    true_rate = kept / seconds * 3600
    assert abs(first["bytes_per_hour"] - true_rate) / true_rate < 0.25, (first["bytes_per_hour"], true_rate)
    assert first["kept_type"] == "bytes" and first["kept_type_share"] > 0.9, first  # what the line keeps
    assert f"(keeps bytes: " in got.stdout
    kinds = {r["site"]["line"]: r["kind"] for r in a["sites"]}
    assert all(kinds.get(line) != "leak" for line in (LEAK_LINE + 1, LEAK_LINE + 2)), a["sites"]
    assert a["projection"] and a["projection"]["seconds"] > 0
    assert f"service.py:{LEAK_LINE}" in got.stdout and "reaches the 256.0 MiB budget in" in got.stdout


def test_without_the_leak_nothing_is_called_a_leak(tmp_path):
    got, a = _watch(tmp_path, "--sample-rate", "2K", "service.py", "off")
    assert a["leaks"] == [], a["leaks"]
    assert "Leaks: none" in got.stdout
    assert {r["kind"] for r in a["sites"]} <= {"plateau", "sawtooth", "churn", "steady"}


def test_a_bounded_run_file_thins_old_snapshots_and_still_finds_the_leak(tmp_path):
    """Snapshots every 20 ms into a 160 KiB file (this service's snapshots are ~5 KiB): it is compacted many times
    over, stays within its bound, keeps the first snapshot and the newest ones at full resolution, and the leak is
    still found at its rate."""
    from thrifty.doctor import runfile

    got, a = _watch(tmp_path, "--every", "0.02s", "--max-file", "160K", "--sample-rate", "2K", "--out", "w.run",
                    "service.py", "leak")
    size = (tmp_path / "w.run").stat().st_size
    assert size <= 160 * 1024 + 1024, size  # the bound, plus the end record written after the last compaction
    assert not (tmp_path / "w.run.tmp").exists()
    _, series = runfile.read_series(str(tmp_path / "w.run"))
    numbers = [s["snapshot"] for s in series]
    assert numbers[0] == 0 and numbers == sorted(numbers)
    assert numbers[-1] + 1 > 2 * len(numbers), numbers  # most snapshots were thinned away...
    assert numbers[-1] - numbers[-2] == 1, numbers  # ...not the newest
    gaps = [b - a for a, b in zip(numbers, numbers[1:])]
    assert gaps[0] == max(gaps), gaps  # the older, the sparser
    first = a["leaks"][0]
    assert first["site"]["line"] == LEAK_LINE, a["leaks"]
    kept, seconds = map(float, (tmp_path / "kept.txt").read_text().split())
    true_rate = kept / seconds * 3600
    assert abs(first["bytes_per_hour"] - true_rate) / true_rate < 0.25, (first["bytes_per_hour"], true_rate)


@pytest.mark.parametrize("bound", [[], ["--every", "0.02s", "--max-file", "96K"]], ids=["unbounded", "compacting"])
def test_a_target_killed_by_sigkill_leaves_a_readable_run(tmp_path, bound):
    """SIGKILL at a random moment; with a small bound, the kill most likely lands among compactions (each writes
    w.run.tmp and renames it over w.run), and the file read is the old one or the new one, never a mix."""
    (tmp_path / "service.py").write_text(SERVICE)
    proc = subprocess.Popen([*WATCH, "--every", "0.25s", *bound, "--out", "w.run", "service.py", "leak"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                            preexec_fn=_sigint_default)
    try:
        for _ in range(400):
            if (tmp_path / "pid.txt").exists() and (tmp_path / "pid.txt").read_text():
                break
            time.sleep(0.05)
        time.sleep(random.uniform(2.0, 4.0))
        os.kill(int((tmp_path / "pid.txt").read_text()), signal.SIGKILL)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGKILL, err[-2000:]
    assert "thrifty watch" in out  # the analysis of what was recorded before the kill
    again = subprocess.run([sys.executable, "-m", "thrifty", "report", "--leaks", "w.run"], capture_output=True,
                           text=True, cwd=tmp_path, timeout=60)
    assert again.returncode == 0, again.stderr
    assert f"service.py:{LEAK_LINE}" in again.stdout


@pytest.mark.parametrize("bad", ["5x", "-1s", "0", "soon", "2 weeks"])
def test_a_bad_duration_says_what_is_accepted(tmp_path, bad):
    got = subprocess.run([*WATCH, f"--every={bad}", "-c", "pass"], capture_output=True, text=True, cwd=tmp_path,
                         timeout=60)
    assert got.returncode == 2
    assert "500ms, 30s, 2m, 8h or 1d" in got.stderr and "Traceback" not in got.stderr


@pytest.mark.parametrize("bad", ["1K", "-5", "lots", "65G"])
def test_a_bad_file_bound_says_what_is_accepted(tmp_path, bad):
    import thrifty

    got = subprocess.run([*WATCH, f"--max-file={bad}", "-c", "pass"], capture_output=True, text=True, cwd=tmp_path,
                         timeout=60)
    assert got.returncode == 2 and "Traceback" not in got.stderr
    assert "4K to 64G" in got.stderr or "invalid size" in got.stderr, got.stderr
    with pytest.raises(ValueError, match="max_file|invalid size"):
        thrifty.watch(tmp_path / "x.run", max_file=bad)
    assert not (tmp_path / "x.run").exists()


def test_doctor_for_stops_a_program_that_never_ends(tmp_path):
    (tmp_path / "forever.py").write_text("import time\nkeep = []\nwhile True:\n    keep.append(bytes(1000))\n"
                                         "    time.sleep(0.01)\n")
    got = subprocess.run([sys.executable, "-m", "thrifty", "doctor", "--for", "2s", "--no-findings", "--json",
                          "r.json", "forever.py"], capture_output=True, text=True, cwd=tmp_path, timeout=60,
                         preexec_fn=_sigint_default)
    assert got.returncode == 0, got.stderr[-2000:]
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["outcome"]["status"] == "stopped" and report["outcome"]["stopped"]
    assert "KeyboardInterrupt" not in got.stderr  # the stop is not the program's failure: no traceback
    assert report["sites"][0]["line"] == 4 and report["sites"][0]["live_at_peak"] > 50_000


IN_PROCESS = textwrap.dedent("""\
    import os, signal, time
    import thrifty
    from thrifty.doctor.runfile import read_series

    keep = []
    with thrifty.watch("svc.run", every=3600) as w:          # no periodic snapshot due for a while
        before = len(read_series("svc.run")[1])
        os.kill(os.getpid(), signal.SIGUSR1)                  # `kill -USR1 <pid>`: one snapshot, now
        print("signal", len(read_series("svc.run")[1]) - before)
    with thrifty.watch("leak.run", every="100ms", sample_rate="2K"):
        t0 = time.monotonic()
        while time.monotonic() - t0 < 2.5:
            keep.append(bytes(3000))                          # LEAK LINE
            time.sleep(0.005)
    try:
        thrifty.watch("x.run", every="soon")
    except ValueError as e:
        print("error", e)
    """)


def test_in_process_watch_and_a_snapshot_on_sigusr1(tmp_path):
    (tmp_path / "svc.py").write_text(IN_PROCESS)
    got = subprocess.run([sys.executable, "svc.py"], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert got.returncode == 0, got.stderr[-3000:]
    assert "signal 1" in got.stdout
    assert "error expected a duration such as 500ms, 30s" in got.stdout
    again = subprocess.run([sys.executable, "-m", "thrifty", "report", "--leaks", "--json", "a.json", "leak.run"],
                           capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert again.returncode == 0, again.stderr
    a = json.loads((tmp_path / "a.json").read_text())
    line = next(n for n, text in enumerate(IN_PROCESS.splitlines(), 1) if "# LEAK LINE" in text)
    assert (a["leaks"][0]["site"]["file"], a["leaks"][0]["site"]["line"]) == (str(tmp_path / "svc.py"), line)
