"""End-to-end: `thrifty doctor` and `python -m thrifty doctor` in a subprocess — running targets as python does,
exit statuses, bad input, the JSON schema, and reports written on exception, sys.exit and Ctrl-C."""
import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from thrifty.cli import main

DOCTOR = [sys.executable, "-m", "thrifty", "doctor"]


def run(*args, cwd=None, timeout=60):
    return subprocess.run([*DOCTOR, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=timeout)


@pytest.fixture
def script(tmp_path):
    def make(body, name="app.py"):
        p = tmp_path / name
        p.write_text(textwrap.dedent(body))
        return p
    return make


def test_runs_script_like_python(script, tmp_path):
    (tmp_path / "helper_mod.py").write_text("VALUE = 42\n")
    p = script("""
        import sys, helper_mod
        print(repr(sys.argv), __name__, helper_mod.VALUE, sys.modules['__main__'].__file__ == __file__)
        """)
    out = run(p, "a", "--b", cwd="/")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"{[str(p), 'a', '--b']!r} __main__ 42 True"
    assert "peak traced heap" in out.stderr and "Top" in out.stderr


def test_module_and_code_targets(tmp_path):
    (tmp_path / "mymod.py").write_text("import sys\nprint('mod', __name__, sys.argv[1:])\n")
    out = run("-m", "mymod", "x", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "mod __main__ ['x']"
    out = run("-c", "import sys; print('code', __name__, sys.argv)", "y")
    assert out.stdout.strip() == "code __main__ ['-c', 'y']"


def test_console_script_installed():
    exe = os.path.join(os.path.dirname(sys.executable), "thrifty")
    out = subprocess.run([exe, "doctor", "-c", "pass"], capture_output=True, text=True)
    assert out.returncode == 0 and "peak traced heap" in out.stderr


def test_console_script_frame_not_in_stacks(tmp_path):
    """The `thrifty` launcher script is the outermost frame of every stack; it is no user code, so the flame graph's
    root is the target, as under `python -m thrifty`."""
    exe = os.path.join(os.path.dirname(sys.executable), "thrifty")
    out_json = tmp_path / "r.json"
    out = subprocess.run([exe, "doctor", "--json", str(out_json), "-c", "x = [0] * 10**6"], capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    report = json.loads(out_json.read_text())
    used = {i for st in report["stacks"] for i in st["frames"]}
    assert used and all(report["frames"][i][0] != exe for i in used)
    roots = {report["frames"][st["frames"][0]][0] for st in report["stacks"] if st["frames"]}
    assert "<string>" in roots


def test_known_allocation_in_json(script, tmp_path):
    p = script("""
        def build():
            return bytearray(5_000_000)  # line 3
        keep = build()
        """)
    out_json = tmp_path / "r.json"
    out = run("--json", out_json, "--top", "3", p)
    assert out.returncode == 0, out.stderr
    r = json.loads(out_json.read_text())
    top = r["sites"][r["top_at_peak"][0]]
    assert (top["file"], top["line"], top["function"]) == (str(p), 3, "build")
    assert 5_000_000 <= top["live_at_peak"] <= 5_000_100
    assert len(r["top_at_peak"]) <= 3
    assert f"{p.name}:3 in build" in out.stderr or f"{p}:3 in build" in out.stderr


def test_json_schema(script, tmp_path):
    p = script("x = [bytearray(100) for _ in range(1000)]\n")
    out_json = tmp_path / "r.json"
    assert run("--json", out_json, p).returncode == 0
    r = json.loads(out_json.read_text())
    assert r["schema"] == "thrifty.doctor" and r["schema_version"] == 2
    assert set(r) >= {"tool", "target", "outcome", "mode", "sample_rate", "max_depth", "summary", "budget", "sites",
                      "top_at_peak", "top_churn", "frames", "stacks", "timeline", "findings"}
    assert r["budget"] is None and r["mode"] == "exact" and r["sample_rate"] is None
    # the script's one global is a finding (tests/test_findings_cli.py covers the findings themselves)
    assert [(f["kind"], f["habit"]) for f in r["findings"]] == [("global", "globals")]
    assert set(r["summary"]) >= {"peak_bytes", "peak_time_s", "live_bytes_at_end", "allocs", "frees", "alloc_bytes",
                                 "wall_time_s", "peak_rss_bytes", "tracker_bytes", "tracker_peak_bytes",
                                 "tracker_overhead_s", "untracked_allocs", "dropped_stacks", "samples"}
    for s in r["sites"]:
        assert set(s) == {"file", "line", "function", "live_at_peak", "live_at_end", "allocs", "frees", "alloc_bytes",
                          "in", "user_code", "label"}
    for st in r["stacks"]:
        assert set(st) - {"kept_type", "kept_type_bytes"} == {"frames", "truncated", "live_at_peak", "live_at_end",
                                                              "allocs", "frees", "alloc_bytes"}
        assert ("kept_type" in st) == ("kept_type_bytes" in st)
        assert all(0 <= i < len(r["frames"]) for i in st["frames"])
    assert all(len(f) == 3 for f in r["frames"])
    assert all(len(pt) == 3 and pt[1] >= pt[2] for pt in r["timeline"])  # [t, high, low]
    # stacks sum to the site totals
    assert sum(s["live_at_peak"] for s in r["sites"]) == sum(s["live_at_peak"] for s in r["stacks"])


def test_sample_mode(script, tmp_path):
    p = script("keep = [bytearray(1000) for _ in range(20000)]\n")
    out_json = tmp_path / "r.json"
    out = run("--sample", "--sample-rate", "32K", "--json", out_json, p)
    assert out.returncode == 0, out.stderr
    r = json.loads(out_json.read_text())
    assert r["mode"] == "sampled" and r["sample_rate"] == 32768
    assert 14_000_000 < r["summary"]["peak_bytes"] < 28_000_000


@pytest.mark.parametrize("body,status", [
    ("raise SystemExit(7)", 7),
    ("import sys; sys.exit()", 0),
    ("import sys; sys.exit('bye')", 1),
    ("x = bytearray(10**6)\nraise ValueError('boom')", 1),
])
def test_exit_status_and_report_written(script, tmp_path, body, status):
    p = script(body + "\n")
    out_json = tmp_path / "r.json"
    out = run("--json", out_json, p)
    assert out.returncode == status, out.stderr
    r = json.loads(out_json.read_text())
    assert r["outcome"]["exit_status"] == status
    if "ValueError" in body:
        assert r["outcome"]["status"] == "exception" and "ValueError: boom" in r["outcome"]["exception"]
        assert "Traceback" in out.stderr and "boom" in out.stderr and "runpy" not in out.stderr.split("thrifty doctor")[0]
        assert r["summary"]["peak_bytes"] >= 10**6


@pytest.mark.parametrize("body", ["x = (\n", "def f():\n    return 1 / 0\n\nf()\n"])
def test_error_output_is_pythons(script, body):
    """A script that does not compile, or raises, prints what python prints: no frame of the recorder's, nor the
    frame that parses and runs the target (`<compile>`, which has no line)."""
    p = script(body)
    want = subprocess.run([sys.executable, str(p)], capture_output=True, text=True, timeout=60)
    out = run("--no-findings", p)
    assert out.returncode == want.returncode == 1
    assert out.stderr.split("thrifty doctor")[0] == want.stderr


def test_budget_exit_3_and_verdict(script, tmp_path):
    p = script("x = bytearray(2 * 1024 * 1024)\n")
    out = run("--budget", "1 MiB", p)
    assert out.returncode == 3
    assert "budget: EXCEEDED" in out.stderr
    out_json = tmp_path / "r.json"
    out = run("--budget", "64M", "--json", out_json, p)
    assert out.returncode == 0 and "budget: ok" in out.stderr
    assert json.loads(out_json.read_text())["budget"] == {"limit_bytes": 64 << 20, "exceeded": False}


@pytest.mark.parametrize("args,needle", [
    (["missing_script.py"], "cannot open script"),
    (["--budget", "12 bananas", "-c", "pass"], "--budget"),
    (["--top", "0", "-c", "pass"], "--top"),
    (["--top", "x", "-c", "pass"], "--top"),
    (["--sample-rate", "0.3", "-c", "pass"], "--sample-rate"),
    (["--sample-rate", "0", "-c", "pass"], "--sample-rate"),
    (["--bogus", "-c", "pass"], "unrecognized"),
    (["--sample", "--exact", "-c", "pass"], "not allowed"),
    ([], "expected a script"),
    (["-m"], "-m"),
    (["-m", "no_such_module_xyz"], "no module named"),
    (["--json", "/nonexistent-dir/r.json", "-c", "pass"], "cannot write"),
    (["--json", "-", "--html", "-", "-c", "pass"], "--json - and --html - cannot both write to stdout"),
])
def test_bad_input_one_line_exit_2(args, needle):
    out = run(*args)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], out.stderr
    assert "Traceback" not in out.stderr


def test_html_dash_is_stdout(tmp_path):
    """`--html -` writes the page to stdout after the program's own output, as `--json -` does, and leaves no file
    named "-" behind."""
    out = run("--html", "-", "-c", "print('from the target')", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("from the target\n<!DOCTYPE html>")
    assert out.stdout.rstrip().endswith("</html>")
    assert not (tmp_path / "-").exists()
    # either one on stdout while the other goes to a file
    out = run("--html", "-", "--json", "r.json", "-c", "pass", cwd=tmp_path)
    assert out.returncode == 0 and out.stdout.startswith("<!DOCTYPE html>")
    assert json.loads((tmp_path / "r.json").read_text())["schema"] == "thrifty.doctor"
    out = run("--json", "-", "--html", "r.html", "-c", "pass", cwd=tmp_path)
    assert out.returncode == 0 and json.loads(out.stdout)["schema"] == "thrifty.doctor"
    assert (tmp_path / "r.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert not (tmp_path / "-").exists()


def test_unreadable_script(script):
    if os.geteuid() == 0:
        pytest.skip("root can read any file")
    p = script("pass\n")
    p.chmod(0)
    out = run(p)
    assert out.returncode == 2 and "cannot open script" in out.stderr


def test_directory_is_bad_input(tmp_path):
    out = run(tmp_path)
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1


def test_unknown_command_and_no_command(capsys):
    assert main(["frobnicate"]) == 2
    assert "unknown command" in capsys.readouterr().err
    assert main([]) == 2
    assert "usage:" in capsys.readouterr().err  # a usage error goes to stderr, like every other one
    assert main(["doctor", "--help"]) == 0
    assert "--budget" in capsys.readouterr().out


def test_reader_closing_the_pipe_keeps_files_and_status(tmp_path):
    """`thrifty doctor ... 2>&1 | head -1`: the report's reader goes away; the --json file and the target's exit
    status survive, and no BrokenPipeError traceback is printed anywhere."""
    out_json = tmp_path / "r.json"
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([*DOCTOR, "--json", str(out_json), "-c", "import sys; sys.exit(4)"],
                              stdout=subprocess.DEVNULL, stderr=write_end, timeout=60)
    finally:
        os.close(write_end)
    assert proc.returncode == 4
    assert json.loads(out_json.read_text())["outcome"]["exit_status"] == 4
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:  # `thrifty doctor --help | head -0`: stdout closed before the help is printed
        help_proc = subprocess.run([*DOCTOR, "--help"], stdout=write_end, stderr=subprocess.PIPE, timeout=60)
    finally:
        os.close(write_end)
    assert help_proc.returncode == 1 and help_proc.stderr == b""


def test_ctrl_c_still_writes_report(script, tmp_path):
    p = script("""
        import time
        keep = bytearray(3_000_000)
        print("ready", flush=True)
        while True:
            time.sleep(0.01)
        """)
    out_json = tmp_path / "r.json"
    proc = subprocess.Popen([*DOCTOR, "--json", str(out_json), str(p)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    r = json.loads(out_json.read_text())
    assert r["outcome"]["status"] == "interrupted"
    assert r["summary"]["peak_bytes"] >= 3_000_000
    assert "peak traced heap" in err


def test_ctrl_c_before_the_doctor_waits_still_reaches_the_program(script, tmp_path):
    """A SIGINT that reaches the doctor after it started the recorder but before it waits for it (a loaded machine
    can hold the doctor there while the program runs) is passed on, not raised as KeyboardInterrupt in the doctor,
    which would leave the program running forever with the doctor gone. The doctor is made to stall there until the
    program has started, and the SIGINT is sent during the stall."""
    ready = tmp_path / "ready"
    p = script(f"""
        import pathlib, time
        keep = bytearray(3_000_000)
        pathlib.Path({str(ready)!r}).touch()
        while True:
            time.sleep(0.01)
        """)
    out_json = tmp_path / "r.json"
    driver = textwrap.dedent(f"""
        import pathlib, subprocess, sys, time
        from thrifty.doctor import tracer

        class StallingPopen(subprocess.Popen):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                print("started", flush=True)
                while not pathlib.Path({str(ready)!r}).exists():
                    time.sleep(0.01)
                time.sleep(0.5)  # the SIGINT comes in here

        tracer.subprocess.Popen = StallingPopen
        from thrifty.cli import main
        sys.exit(main(["doctor", "--json", {str(out_json)!r}, {str(p)!r}]))
        """)
    proc = subprocess.Popen([sys.executable, "-c", driver], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        assert proc.stdout.readline().strip() == "started"
        deadline = time.monotonic() + 60
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:  # without the fix the recorder runs on: end it with its group
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    r = json.loads(out_json.read_text())
    assert r["outcome"]["status"] == "interrupted"
    assert r["summary"]["peak_bytes"] >= 3_000_000


def test_threads_in_target(script, tmp_path):
    p = script("""
        import threading
        keep = []
        def work():
            keep.append([bytearray(10_000) for _ in range(100)])
        ts = [threading.Thread(target=work) for _ in range(4)]
        for t in ts: t.start()
        for t in ts: t.join()
        """)
    out_json = tmp_path / "r.json"
    assert run("--json", out_json, p).returncode == 0
    r = json.loads(out_json.read_text())
    work = [s for s in r["sites"] if s["file"] == str(p)]
    assert sum(s["live_at_end"] for s in work) >= 4_000_000


def test_empty_program_costs_only_its_compile(tmp_path):
    """`-c pass` in the recorder's fresh interpreter: what is traced is python compiling the code (no Python frame
    makes it, as under plain python), none of the doctor's own work, and no empty table is printed."""
    out = run("--json", tmp_path / "r.json", "-c", "pass")
    assert out.returncode == 0
    assert "Top 0" not in out.stderr
    r = json.loads((tmp_path / "r.json").read_text())
    assert r["summary"]["peak_bytes"] < 64 * 1024
    # what stays live is python's own (no frame) or the code's compilation (`<string> in <compile>`)
    assert all(s["file"] == "<no Python frame>" or s["function"] == "<compile>"
               for s in r["sites"] if s["live_at_peak"]), r["sites"]
