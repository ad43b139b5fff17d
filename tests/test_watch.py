"""`thrifty watch` on a service that never ends: one line leaks among churn, a sawtooth buffer and a cache that
plateaus. The leak's line comes first with its rate (checked against what the service itself says it kept), the
others are not called leaks, the same service without the leak gets no leak, and a target killed with SIGKILL
leaves a run file `thrifty report --leaks` reads. Runs are short (seconds, snapshots every 0.25 s) and the leak fast
to match: the analysis only sees a series, whatever its time scale."""
import json
import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import time
from html.parser import HTMLParser

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
    cache = {}           # fills up to 60 keys, then stays (within ~1 s even on a machine loaded 4x)
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
        cache.setdefault(i % 60, bytes(7500))
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


def test_for_counts_from_the_recorders_start_on_a_slow_board(tmp_path):
    """--for 1s when the recorder's interpreter takes 3 s to start (as on a small board, or under qemu, where a
    stop sent 1 s after launch used to end the recorder before it had written anything: "the recorder ended before
    writing a run"): the program runs, is stopped, and is reported."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text("import sys, time\n"
                                           "if sys.argv and sys.argv[0].endswith('child.py'):\n    time.sleep(3)\n")
    (tmp_path / "svc.py").write_text("import time\nkeep = []\nwhile True:\n    keep.append(bytes(1000))\n"
                                     "    time.sleep(0.01)\n")
    env = {**os.environ, "PYTHONPATH": str(site)}
    got = subprocess.run([*WATCH, "--every", "0.25s", "--for", "1s", "--json", "w.json", "svc.py"], env=env,
                         capture_output=True, text=True, cwd=tmp_path, timeout=120, preexec_fn=_sigint_default)
    assert got.returncode == 0, got.stderr[-3000:]
    a = json.loads((tmp_path / "w.json").read_text())
    assert a["outcome"]["stopped"] and a["snapshots"] >= 3, a["snapshots"]


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
    # 100 KB a turn: on a loaded machine the interpreter's start may take most of the 2 s, and one turn must still
    # outweigh the start-up's own sites
    (tmp_path / "forever.py").write_text("import time\nkeep = []\nwhile True:\n    keep.append(bytes(100_000))\n"
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


class _Page(HTMLParser):
    """What the HTML tests look at in a page: every <svg>'s attributes, the text of each <code>, all the text, and
    whether each element that must be closed was."""

    CLOSED = {"html", "head", "body", "title", "style", "h1", "h2", "div", "p", "table", "tr", "td", "th", "svg",
              "code", "span", "b", "polyline"}

    def __init__(self, page):
        super().__init__()
        self.svgs, self.codes, self.text, self.open = [], [], [], {}
        self._in_code = False
        self.feed(page)
        self.close()

    def handle_starttag(self, tag, attrs):
        if tag in self.CLOSED:
            self.open[tag] = self.open.get(tag, 0) + 1
        if tag == "svg":
            self.svgs.append(dict(attrs))
        if tag == "code":
            self._in_code = True
            self.codes.append("")

    def handle_endtag(self, tag):
        if tag in self.CLOSED:
            self.open[tag] = self.open.get(tag, 0) - 1
        if tag == "code":
            self._in_code = False

    def handle_data(self, data):
        self.text.append(data)
        if self._in_code:
            self.codes[-1] += data

    def sparks(self):
        return [s for s in self.svgs if s.get("class") == "spark"]


def _self_contained(page):
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page), "no network resources"
    parsed = _Page(page)
    assert all(n == 0 for n in parsed.open.values()), parsed.open
    return parsed


def test_the_html_page_charts_the_heap_and_every_site_the_leak_first(tmp_path):
    """watch --html, and report --leaks --html from the run file: one chart per site shown, the leak's first."""
    got, a = _watch(tmp_path, "--sample-rate", "2K", "--budget", "256M", "--out", "w.run", "--html", "w.html",
                    "service.py", "leak", seconds="5s")
    assert len(a["times_s"]) == len(a["heap"]["series"]) == a["snapshots"] <= 200
    assert all(len(r["series"]) == len(a["times_s"]) for r in a["sites"])
    label = f"service.py:{LEAK_LINE}"
    others = [r for r in a["sites"] if r["kind"] != "leak"]
    for page in ("w.html", "r.html"):
        if page == "r.html":
            again = subprocess.run([sys.executable, "-m", "thrifty", "report", "--leaks", "--budget", "256M",
                                    "--html", "r.html", "w.run"], capture_output=True, text=True, cwd=tmp_path,
                                   timeout=60)
            assert again.returncode == 0, again.stderr
        p = _self_contained((tmp_path / page).read_text(encoding="utf-8"))
        assert [s.get("id") for s in p.svgs].count("heap") == 1
        sparks = p.sparks()
        assert len(sparks) == min(len(a["leaks"]), 10) + min(len(others), 10), (len(sparks), a["sites"])
        assert p.codes[0] == label and sparks[0]["aria-label"].startswith(label + ":"), (p.codes, sparks[0])
        text = " ".join(p.text)
        assert "reaches the 256.0 MiB budget in" in text and "Leaks (growing to the end)" in text


def test_a_run_of_one_snapshot_gives_a_page_that_says_it_is_too_short(tmp_path):
    """A program that ends at once has two snapshots (its start and its end); cut after the first, the run file
    holds one. Both pages say there are too few snapshots, and chart nothing."""
    from thrifty.doctor import runfile

    got = subprocess.run([*WATCH, "--every", "1h", "--out", "two.run", "--html", "two.html", "-c",
                          "x = bytes(100000)"], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert got.returncode == 0, got.stderr
    data = (tmp_path / "two.run").read_bytes()
    cut = next(end for kind, _, end in runfile._records(data, "two.run") if kind == runfile.SNAPSHOT)
    (tmp_path / "one.run").write_bytes(data[:cut])
    assert len(runfile.read_series(str(tmp_path / "one.run"))[1]) == 1
    again = subprocess.run([sys.executable, "-m", "thrifty", "report", "--leaks", "--html", "one.html", "one.run"],
                           capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert again.returncode == 0, again.stderr
    for page in ("two.html", "one.html"):
        p = _self_contained((tmp_path / page).read_text(encoding="utf-8"))
        text = " ".join(p.text)
        assert "Too few snapshots to tell a trend" in text and p.sparks() == []
    # two snapshots a millisecond or more apart make a (short) heap chart; one cannot
    assert "Too few snapshots for a chart: 1" in text and "heap" not in [s.get("id") for s in p.svgs]
    # `--html -`: the page on stdout, the text on stderr; only one document can go to stdout
    out = subprocess.run([sys.executable, "-m", "thrifty", "report", "--leaks", "--html", "-", "one.run"],
                         capture_output=True, cwd=tmp_path, timeout=60)
    assert out.returncode == 0 and out.stdout.decode("utf-8") == (tmp_path / "one.html").read_text(encoding="utf-8")
    assert b"thrifty watch" in out.stderr
    both = subprocess.run([sys.executable, "-m", "thrifty", "report", "--leaks", "--html", "-", "--json", "-",
                           "one.run"], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert both.returncode == 2 and "cannot both write to stdout" in both.stderr


def _synthetic(n, file):
    """A series of n snapshots, one a second, of one stack at `file` line 3 that leaks 1 KiB a second."""
    frames = [[file, 3, "<f>"]]
    return [{"duration_ns": (k + 1) * 10**9, "live_bytes_at_end": 50_000 + 1024 * k, "peak_bytes": 50_000 + 1024 * k,
             "mode": "exact", "frames": frames,
             "stacks": [{"frames": [0], "live_at_end": 20_000 + 1024 * k, "allocs": k + 1}]} for k in range(n)]


def test_the_page_escapes_what_the_target_names_and_charts_are_thinned(tmp_path):
    """File, function and target names come from the target: a name made of markup stays text. A long watch's
    series are thinned to 200 snapshots in the analysis (and so in the page)."""
    from thrifty.doctor import leaks, leaks_html

    hostile = str(tmp_path / '<script>alert("x")</script><img src=x onerror=y>.py')
    meta = {"target": {"kind": "script", "value": "<b>svc</b>.py", "args": []}, "user_roots": [str(tmp_path)]}
    a = leaks.analyse(meta, _synthetic(1000, hostile), budget=4 * 1024 * 1024)
    assert a["snapshots"] == 1000 and len(a["times_s"]) == len(a["heap"]["series"]) == 200
    assert a["times_s"][0] == 1.0 and a["times_s"][-1] == 1000.0
    assert [r["kind"] for r in a["sites"]] == ["leak"] and len(a["sites"][0]["series"]) == 200
    a["sites"][0].update(kept_type="<Evil>", kept_type_share=0.5)  # a type's name is the target's too
    page = leaks_html.render(a)
    p = _self_contained(page)
    assert "keeps <code>&lt;Evil&gt;</code>" in page and "(50% of its bytes)" in page
    assert "<b>svc</b>" not in page and "&lt;b&gt;svc&lt;/b&gt;.py" in page
    assert "<img" not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert p.codes[0].endswith('<script>alert("x")</script><img src=x onerror=y>.py:3'), p.codes
    assert len(p.sparks()) == 1 and 'id="budget"' in page and 'id="projection"' in page


FORGED = textwrap.dedent("""\
    import random, struct, sys, thrifty

    class Gone:
        pass
    gone = id(Gone)
    del Gone                                  # a type object freed: its address may now be anything
    rng = random.Random(5)
    words = [0, 1, 8, 0xFFFFFFFFFFFFFFF8, 0x7FFFFFFFF000, 0xFFFF800000000000, gone, id(dict), id(object()),
             id(sys.modules), id(int) + 1]
    kept = []
    with thrifty.watch("forged.run", every="20ms", sample_rate=64, signal=None) as w:
        for i in range(4000):
            # buffers whose first words look like an object header: a count, then a "type" that is not one
            head = struct.pack("<QQ", rng.choice([1, 2, 3]), rng.choice(words) if i % 3 else rng.getrandbits(64))
            kept.append(bytearray(head * 8))
            if i % 500 == 0:
                w.snapshot()
    print("ok", len(kept))
    """)


@pytest.mark.skipif(sys.maxsize < 2**32, reason="the forged headers are 64-bit words")
def test_forged_object_headers_do_not_crash_the_type_probe(tmp_path):
    """Buffers that begin like an object whose type word points at unmapped memory, a kernel address, an odd
    address, a freed class or a non-type object: the recorder reads each type word through a pipe, so nothing
    faults; the run file reads back, and real types found are plausible names."""
    from thrifty.doctor import runfile

    (tmp_path / "forged.py").write_text(FORGED)
    got = subprocess.run([sys.executable, "forged.py"], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert got.returncode == 0 and got.stdout.startswith("ok 4000"), got.stderr[-3000:]
    _, series = runfile.read_series(str(tmp_path / "forged.run"))
    assert len(series) >= 8
    names = {st["kept_type"] for s in series for st in s["stacks"] if "kept_type" in st}
    assert all(n.isprintable() and 0 < len(n) <= 80 for n in names), names


def test_a_bounded_run_file_stays_where_it_was_when_the_target_changes_directory(tmp_path):
    """A relative --out and a service that chdirs (daemons do): compactions still rewrite the file given, not one
    of the same name in the new directory."""
    from thrifty.doctor import runfile

    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "cd.py").write_text("import os, time\nos.chdir('elsewhere')\nkeep = []\nt0 = time.time()\n"
                                    "while time.time() - t0 < 3:\n    keep.append(bytes(3000))\n"
                                    "    time.sleep(0.002)\n")
    got = subprocess.run([*WATCH, "--every", "0.02s", "--max-file", "32K", "--out", "w.run", "cd.py"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert got.returncode == 0, got.stderr[-3000:]
    assert not list((tmp_path / "elsewhere").iterdir())
    _, series = runfile.read_series(str(tmp_path / "w.run"))
    numbers = [s["snapshot"] for s in series]
    assert numbers[-1] + 1 > len(numbers), numbers  # compacted, in place
    assert (tmp_path / "w.run").stat().st_size <= 33 * 1024


DEFERRED = r"""
import time
import thrifty
from thrifty import _ext

import sys

bound = sys.argv[1]
w = thrifty.watch("w.run", every=0.005, max_file=bound, signal=None).start()
# a few hundred sites holding bytes: a snapshot's raw payload is several times its compressed record
ns = {}
exec(compile("".join(f"def f{i}():\n    return bytearray(20000)\n" for i in range(400)), "gen.py", "exec"), ns)
held = [ns[f"f{i}"]() for i in range(400)]
keep, t0 = [], time.monotonic()
while time.monotonic() - t0 < 60:  # until enough has happened; the limit only keeps a broken run from hanging
    keep.append([str(i) * 20 for i in range(200)])
    del keep[:-40]
    st = _ext._runfile_status()
    if st["snapshots"] >= 12 and (st["compactions"] >= 2 or bound == "0"):
        break
w.stop()
print(st["snapshots"], st["compactions"])
"""


@pytest.mark.parametrize("bound", ["16K", "0"])
def test_snapshots_taken_while_the_program_allocates_are_finished_by_the_writer_thread(tmp_path, bound):
    """A due snapshot is captured raw past the end of the file in the allocation hook and the writer thread
    compresses it into its record, then compacts (docs/watch.md, The run file): after many of them (and several
    compactions, in a bounded file) every record is committed, compressed and in order, and nothing is left past
    the last one."""
    from thrifty.doctor import runfile

    (tmp_path / "svc.py").write_text(DEFERRED)
    got = subprocess.run([sys.executable, "svc.py", bound], capture_output=True, text=True, cwd=tmp_path,
                         timeout=120)
    assert got.returncode == 0, got.stderr[-3000:]
    taken, compactions = map(int, got.stdout.split())
    assert taken >= 12 and (compactions >= 2 if bound != "0" else compactions == 0), got.stdout
    data = (tmp_path / "w.run").read_bytes()
    records = list(runfile._records(data, "w.run"))
    assert records[-1][2] == len(data)  # the file ends with its last record: no blob, no hole after it
    flags, pos = [], runfile.HEADER.size
    while pos < len(data):  # every record's header: each payload compressed, the snapshots' by the writer thread
        kind, flag, _, stored, _, _ = runfile.RECORD.unpack_from(data, pos)
        flags.append((kind, flag & runfile.FLAG_LZ))
        pos += runfile.RECORD.size + stored
    assert pos == len(data) and all(lz for _, lz in flags), flags
    _, series = runfile.read_series(str(tmp_path / "w.run"))
    numbers = [s["snapshot"] for s in series]
    assert numbers == sorted(set(numbers)), numbers
    if bound == "0":
        assert numbers == list(range(len(numbers))), numbers  # every snapshot kept
    else:
        assert numbers[-1] + 1 > len(numbers), numbers  # thinned


def test_the_run_file_writer_stays_small_beside_the_tables(tmp_path):
    """The writer's own memory is the recorder's memory too, which watch keeps within ~2% of a small heap: its peak
    (while a snapshot is taken: the kept-types probe's cache, grown from 1 KiB only as far as the words it meets;
    then the string index of files and the 2 KiB output buffer; then the encoder's 2.7 KiB) stays under 10 KiB on
    a small service, and the kept types are still told."""
    from thrifty.doctor import runfile

    (tmp_path / "service.py").write_text(SERVICE)
    got = subprocess.run([*WATCH, "--every", "0.25s", "--for", "3s", "--out", "w.run", "service.py", "leak"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=120, preexec_fn=_sigint_default)
    assert got.returncode == 0, got.stderr[-3000:]
    _, series = runfile.read_series(str(tmp_path / "w.run"))
    last = series[-1]
    writer = last["writer_peak_bytes"]
    assert 4096 < writer <= 10 * 1024, (writer, last["recorder_peak_bytes"], last["tracker_peak_bytes"])
    # the recorder's peak is the most the tables and the writer held at once: at most the sum of their own peaks
    assert max(writer, last["tracker_peak_bytes"]) <= last["recorder_peak_bytes"] <= writer + last["tracker_peak_bytes"]
    frames = last["frames"]  # a stack's frames are numbers into this list of [file, line, function]
    kept = {s.get("kept_type") for s in last["stacks"]
            if any(frames[f][1] == LEAK_LINE and frames[f][0].endswith("service.py") for f in s["frames"])}
    assert "bytes" in kept, kept


def test_a_bounded_run_removes_the_compaction_file_a_killed_run_left(tmp_path):
    """A bounded run killed during a compaction leaves w.run.tmp (the new file, not yet renamed over the old one); the
    next bounded run into the same file removes it at its start instead of leaving it until its own first
    compaction, which may never come (on a device, that is max_file bytes of flash)."""
    (tmp_path / "w.run.tmp").write_bytes(b"\0" * 4096)
    code = "import thrifty; thrifty.watch('w.run', max_file='64K', signal=None).start().stop()"
    got = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert got.returncode == 0, got.stderr
    assert (tmp_path / "w.run").stat().st_size > 0
    assert not (tmp_path / "w.run.tmp").exists()


def test_a_budget_already_passed_is_said_not_projected(tmp_path):
    """A heap already over --budget read 'at this rate the heap reaches the 100.0 KiB budget in ~0 s', and a heap
    over it on a plateau (no trend to project) said nothing about the budget at all."""
    from thrifty.doctor import leaks

    meta = {"target": {"kind": "script", "value": "svc.py", "args": []}, "user_roots": [str(tmp_path)]}
    series = _synthetic(60, str(tmp_path / "svc.py"))  # the heap: 50,000 B rising 1 KiB a second to 110,416 B
    text = leaks.render_text(leaks.analyse(meta, series, budget=80_000))
    assert "already over: the heap is 107.8 KiB, over the 78.1 KiB budget" in text and "~0 s" not in text, text
    plateau = [{**s, "live_bytes_at_end": 90_000, "peak_bytes": 90_000} for s in series]
    text = leaks.render_text(leaks.analyse(meta, plateau, budget=80_000))
    assert "already over: the heap is 87.9 KiB, over the 78.1 KiB budget" in text, text
    went = [{**s, "live_bytes_at_end": 90_000 if k == 30 else 50_000, "peak_bytes": 90_000 if k >= 30 else 50_000}
            for k, s in enumerate(series)]
    text = leaks.render_text(leaks.analyse(meta, went, budget=80_000))
    assert "the heap went over the 78.1 KiB budget (peak 87.9 KiB)" in text, text
    # under it and rising: the projection, as before
    text = leaks.render_text(leaks.analyse(meta, series, budget=1_000_000))
    assert "at this rate the heap reaches the 976.6 KiB budget in" in text and "budget        " not in text, text
