"""The recorder runs the target as plain python would: the same stdout, stderr traceback and exit status for a
script, -m and -c, sys.exit, an exception, os._exit, a target that closes stdout, a script that chdirs and uses
__file__, a forking target; it imports nothing the target would not have imported itself; and its peak agrees with
tracemalloc started at interpreter start. Every run is `thrifty doctor` in a subprocess, beside plain python."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

DOCTOR = [sys.executable, "-m", "thrifty", "doctor"]


def plain(*args, cwd):
    return subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=120)


def doctor(*args, cwd, options=("--no-findings",)):
    return subprocess.run([*DOCTOR, *options, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def report_of(out_json):
    return json.loads(out_json.read_text())


def write(path, body):
    path.write_text(textwrap.dedent(body))
    return path


CASES = {
    "script": ("script", "import sys\nprint('hello', sys.argv, __name__)\n"),
    "sys_exit_3": ("script", "import sys\nprint('bye')\nsys.exit(3)\n"),
    "sys_exit_text": ("script", "import sys\nsys.exit('a message')\n"),
    "exception": ("script", "def f():\n    raise ValueError('boom')\nprint('start')\nf()\n"),
    "os_exit_7": ("script", "import os, sys\nprint('flushed', flush=True)\nkeep = bytearray(10**6)\nos._exit(7)\n"),
    "closes_stdout": ("script", "import sys\nprint('before')\nsys.stdout.close()\n"),
    "module": ("module", "import sys\nprint('mod', __name__, sys.argv[1:], __spec__.name)\n"),
    "code": ("code", "import sys; print('code', __name__, sys.argv)"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_stdout_stderr_and_status_as_python(tmp_path, case):
    kind, body = CASES[case]
    if kind == "script":
        target = [write(tmp_path / "app.py", body), "x", "--y"]
    elif kind == "module":
        write(tmp_path / "mymod.py", body)
        target = ["-m", "mymod", "x"]
    else:
        target = ["-c", body, "x"]
    want = plain(*target, cwd=tmp_path)
    out_json = tmp_path / "r.json"
    got = doctor("--json", out_json, *target, cwd=tmp_path)
    assert got.stdout == want.stdout
    assert got.returncode == want.returncode, got.stderr
    # the target's stderr comes first, as python printed it; the doctor's report follows
    assert got.stderr.startswith(want.stderr), (want.stderr, got.stderr)
    r = report_of(out_json)
    assert r["outcome"]["exit_status"] == want.returncode
    if case == "os_exit_7":
        assert r["outcome"]["status"] == "os_exit" and r["summary"]["peak_bytes"] >= 10**6
    if case == "exception":
        assert r["outcome"]["status"] == "exception" and "ValueError: boom" in r["outcome"]["exception"]


def test_json_tool_writing_a_file_like_python(tmp_path):
    """`python -m json.tool in.json out.json` closes sys.stdout when done: the report files are still written."""
    (tmp_path / "in.json").write_text('{"b": [1, 2], "a": "x"}')
    want = plain("-m", "json.tool", "in.json", "want.json", cwd=tmp_path)
    out_json, out_html = tmp_path / "r.json", tmp_path / "r.html"
    got = doctor("--json", out_json, "--html", out_html, "-m", "json.tool", "in.json", "got.json", cwd=tmp_path,
                 options=())
    assert (got.returncode, got.stdout) == (want.returncode, want.stdout) == (0, "")
    assert (tmp_path / "got.json").read_text() == (tmp_path / "want.json").read_text()
    assert report_of(out_json)["schema"] == "thrifty.doctor"
    assert out_html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_chdir_then_file(tmp_path):
    """__file__ is absolute as python makes it, so a script that changes directory still finds its own files;
    --json given relative is resolved against the doctor's cwd at the start."""
    (tmp_path / "data.txt").write_text("payload\n")
    write(tmp_path / "app.py", """
        import os
        here = os.path.dirname(__file__)
        os.chdir("/")
        print(open(os.path.join(here, "data.txt")).read().strip(), os.path.isabs(__file__))
        """)
    want = plain("app.py", cwd=tmp_path)
    got = doctor("--json", "r.json", "app.py", cwd=tmp_path)
    assert want.stdout == got.stdout == "payload True\n"
    assert report_of(tmp_path / "r.json")["outcome"]["exit_status"] == 0
    assert not os.path.exists("/r.json")


def test_forked_child_is_not_counted(tmp_path):
    """A child the target forks stops tracing and never writes the run file: its 50 MB are not in the figures, and
    its own exit status (5) is its own; the parent's output and status are python's."""
    write(tmp_path / "app.py", """
        import os, sys
        keep = bytearray(2_000_000)
        pid = os.fork()
        if pid == 0:
            junk = bytearray(50_000_000)
            print("child", flush=True)
            sys.exit(5)
        _, status = os.waitpid(pid, 0)
        print("parent sees", os.waitstatus_to_exitcode(status))
        """)
    want = plain("app.py", cwd=tmp_path)
    got = doctor("--json", "r.json", "app.py", cwd=tmp_path)
    assert got.stdout == want.stdout == "child\nparent sees 5\n"
    assert got.returncode == want.returncode == 0
    r = report_of(tmp_path / "r.json")
    assert 2_000_000 <= r["summary"]["peak_bytes"] < 10_000_000
    assert r["outcome"]["status"] == "ok"


PROBE_MODULES = "import sys; print(repr(sorted(sys.modules)))\n"
RECORDER = {"thrifty", "thrifty._ext"}


@pytest.mark.parametrize("kind", ["script", "module", "code"])
def test_nothing_imported_before_the_target(tmp_path, kind):
    """What the target finds in sys.modules when it starts: what it finds under plain python, plus the recorder's
    own two modules (the lazy package and the C extension) — nothing the target could get for free."""
    if kind == "script":
        target = [write(tmp_path / "app.py", PROBE_MODULES)]
    elif kind == "module":
        write(tmp_path / "probe_mod.py", PROBE_MODULES)
        target = ["-m", "probe_mod"]
    else:
        target = ["-c", PROBE_MODULES]
    want = set(eval(plain(*target, cwd=tmp_path).stdout))
    got = set(eval(doctor(*target, cwd=tmp_path).stdout))
    assert got - want <= RECORDER, sorted(got - want - RECORDER)


def test_nothing_imported_before_the_target_with_findings(tmp_path):
    """The same with findings on: the findings' probes are installed in the recorder before the target starts, and
    they must be as light (thrifty.doctor.probe imports only sys, gc and thrifty._ext at import time)."""
    from thrifty.doctor import probe

    if not hasattr(probe.Probes, "register_namespace"):
        pytest.skip("the findings' probe module before the light probe of the recorder/analyzer split")
    want = set(eval(plain("-c", PROBE_MODULES, cwd=tmp_path).stdout))
    got = set(eval(doctor("-c", PROBE_MODULES, cwd=tmp_path, options=()).stdout))
    extra = {m for m in got - want - RECORDER if not m.startswith("thrifty.")} - {"gc"}
    assert not extra, sorted(extra)


LEAKS_FILES = """\
import sys
f = open("a.txt", "w"); del f                       # before `warnings` is imported (3.12+: it is not yet)
import warnings
warnings.simplefilter("ignore")                     # the program silences warnings: the doctor still sees them
f = open("b.txt", "w"); del f
print(type(warnings.__loader__).__name__, type(warnings.__spec__.loader).__name__,
      [type(x).__name__ for x in sys.meta_path])
"""


def test_unclosed_files_found_without_importing_warnings_first(tmp_path):
    """The ResourceWarning probe pins its filter without importing `warnings` and takes over `warnings` when the
    program (or python, at the first warning) imports it: both unclosed files are found, and what the program sees
    of `warnings` and sys.meta_path is what plain python shows."""
    app = write(tmp_path / "app.py", LEAKS_FILES)
    want = plain(app, cwd=tmp_path)
    got = doctor("--json", "r.json", app, cwd=tmp_path, options=())
    assert (got.returncode, got.stdout) == (want.returncode, want.stdout), got.stderr[-2000:]
    lines = sorted(f["line"] for f in report_of(tmp_path / "r.json")["findings"] if f["kind"] == "resource")
    assert lines == [2, 5], report_of(tmp_path / "r.json")["findings"]


def test_module_target_not_imported_before_tracing(tmp_path):
    """`-m pkg.mod`: the package's own import (its __init__ allocating 1 MB) happens under the tracker, as part of
    the run, and shows as an import pseudo-frame."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("BIG = bytearray(1_000_000)\n")
    (pkg / "mod.py").write_text("print('ran')\n")
    got = doctor("--json", "r.json", "-m", "pkg.mod", cwd=tmp_path)
    assert got.stdout == "ran\n", got.stderr
    r = report_of(tmp_path / "r.json")
    assert r["summary"]["peak_bytes"] >= 1_000_000
    imports = {r["frames"][i][2] for st in r["stacks"] for i in st["frames"] if r["frames"][i][0] == "<import>"}
    assert "pkg" in imports


IMPORTS = ("argparse", "json", "typing", "inspect", "dataclasses", "random", "ast", "tokenize", "csv", "decimal",
           "logging", "fractions")


def test_peak_agrees_with_tracemalloc_from_interpreter_start(tmp_path):
    """A script importing a dozen stdlib modules: the doctor's peak against tracemalloc started at interpreter start
    (python -X tracemalloc=1), counted from the script's first line (the interpreter's own start-up left out, as an
    empty program's). The recorder's fresh interpreter already holds thrifty._ext, whose import grew the
    interpreter's tables (interned strings) once, so the target does not pay that growth: within 6%, not 3%
    (docs/doctor.md, "What the recorder changes")."""
    write(tmp_path / "app.py", f"""
        import _tracemalloc
        start = _tracemalloc.get_traced_memory()[0]
        _tracemalloc.reset_peak()
        import {", ".join(IMPORTS)}
        print(_tracemalloc.get_traced_memory()[1] - start)
        """)
    bill = int(plain("-X", "tracemalloc=1", "app.py", cwd=tmp_path).stdout)
    assert bill > 1_000_000
    got = doctor("--json", "r.json", "app.py", cwd=tmp_path)
    assert got.returncode == 0, got.stderr
    peak = report_of(tmp_path / "r.json")["summary"]["peak_bytes"]
    assert abs(peak - bill) / bill < 0.06, (peak, bill)
    # in the same process, tracemalloc and the tracker agree within 1% on 3.11 (3.13 and 3.14, measured: the tracker
    # reads 2.6-3.0% over, ~110-130 KB; not explained yet)
    within = 0.01 if sys.version_info[:2] == (3, 11) else 0.04
    same = subprocess.run([sys.executable, "-X", "tracemalloc=1", *DOCTOR[1:], "--no-findings", "--json", "s.json",
                           "app.py"], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    inside = int(same.stdout)
    peak = report_of(tmp_path / "s.json")["summary"]["peak_bytes"]
    assert abs(peak - inside) / inside < within, (peak, inside)


def test_timeline_holds_the_true_peak_of_a_short_spike(tmp_path):
    """A short program with one spike: the timeline is an envelope of at least 200 buckets whose highest high is
    the peak (the chart cannot miss it)."""
    write(tmp_path / "app.py", """
        keep = [bytearray(1000) for _ in range(20000)]
        spike = bytearray(30_000_000)
        del spike
        more = [str(i) for i in range(100000)]
        """)
    got = doctor("--out", "r.run", "app.py", cwd=tmp_path)
    assert got.returncode == 0, got.stderr
    from thrifty.doctor.runfile import read_run

    raw = read_run(str(tmp_path / "r.run"))
    assert len(raw["timeline"]) >= 200
    assert max(hi for _, hi, _ in raw["timeline"]) == raw["peak_bytes"] >= 30_000_000
    assert raw["complete"] and raw["end"]["status"] == "ok"
    assert raw["recorder_bytes"] > 0 and raw["target_peak_rss_bytes"] > 30_000_000


def test_threads_and_atexit_after_main_are_counted(tmp_path):
    """Python waits for non-daemon threads and runs atexit functions after __main__ returns: the recorder does the
    same before its last snapshot, so the 7 MB a thread allocates after main is done are in the peak."""
    write(tmp_path / "app.py", """
        import atexit, threading, time
        keep = []
        def work():
            time.sleep(0.2)
            keep.append(bytearray(7_000_000))
            print("thread done", flush=True)
        atexit.register(lambda: print("atexit", len(keep)))
        threading.Thread(target=work).start()
        print("main done")
        """)
    want = plain("app.py", cwd=tmp_path)
    got = doctor("--json", "r.json", "app.py", cwd=tmp_path)
    assert got.stdout == want.stdout == "main done\nthread done\natexit 1\n"
    assert report_of(tmp_path / "r.json")["summary"]["peak_bytes"] >= 7_000_000


def test_a_zipapp_a_directory_and_a_relative_path_run_as_python_runs_them(tmp_path):
    """`python app.pyz` and `python dir` run the __main__ module inside (sys.path[0] the zip or directory itself);
    `__file__` and that sys.path[0] are the current directory joined with the path as given, not normalized."""
    src = tmp_path / "src"
    (src / "mylib").mkdir(parents=True)
    write(src / "__main__.py", """
        import sys
        from mylib import work
        print(__name__, __file__, sys.argv, sys.path[0], work())
        """)
    write(src / "mylib" / "__init__.py", "TABLE = {f'k{i}': i for i in range(30000)}\ndef work():\n    return len(TABLE)\n")
    assert plain("-m", "zipapp", "src", "-o", "app.pyz", cwd=tmp_path).returncode == 0
    (tmp_path / "sub").mkdir()
    write(tmp_path / "show.py", "import sys\nprint(__file__, sys.path[0])\n")
    for target, cwd in ((["app.pyz", "x"], tmp_path), (["src", "y"], tmp_path), ([".", "z"], src),
                        (["../show.py"], tmp_path / "sub")):
        want = plain(*target, cwd=cwd)
        out_json = tmp_path / "r.json"
        got = doctor("--json", out_json, *target, cwd=cwd, options=())
        assert (got.returncode, got.stdout) == (want.returncode, want.stdout) == (0, want.stdout), got.stderr
        assert "SyntaxError" not in got.stderr and want.stdout
        r = report_of(out_json)
        if target[0] != "../show.py":
            # the zip's or directory's files are the user's code: the dict built in mylib is the top site
            top = r["sites"][r["top_at_peak"][0]]
            assert top["user_code"] and top["file"].endswith(os.path.join("mylib", "__init__.py")), top
    assert "/sub/../show.py" in want.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    got = doctor(empty, cwd=tmp_path)
    assert got.returncode == 2 and "without a __main__.py" in got.stderr


def test_finalizers_at_exit_run_in_pythons_order_with_findings_on(tmp_path):
    """The cycle probe collected once before the run, which moved every object to the oldest generation: at exit
    the collector then freed __main__'s objects itself, and their __del__ ran in another order (0 1 2, not 2 1 0)."""
    write(tmp_path / "app.py", """
        import atexit
        class Res:
            def __init__(self, n):
                self.n = n
            def __del__(self):
                print("del", self.n, flush=True)
        keep = [Res(i) for i in range(3)]
        atexit.register(print, "atexit")
        print("end")
        """)
    want = plain("app.py", cwd=tmp_path)
    got = doctor("app.py", cwd=tmp_path, options=())
    assert want.stdout == "end\natexit\ndel 2\ndel 1\ndel 0\n"
    assert (got.returncode, got.stdout) == (0, want.stdout), got.stderr


@pytest.mark.parametrize("closed", ["stdout", "stderr"])
def test_the_doctor_started_with_stdout_or_stderr_closed_ends_as_python_does(tmp_path, closed):
    """`cmd >&-` / `2>&-`: python's print goes nowhere and it exits 0; the doctor failed writing its report to the
    missing stream (AttributeError on None, exit status 1). The target sees the descriptor closed, as under python."""
    code = "import sys\nprint('out')\nprint('err', sys.stdout is None, file=sys.stderr)\n"
    fd = {"stdout": "1", "stderr": "2"}[closed]
    shell = f'exec "$@" {fd}>&-'
    want = subprocess.run(["sh", "-c", shell, "sh", sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    got = subprocess.run(["sh", "-c", shell, "sh", *DOCTOR, "--json", "r.json", "-c", code], capture_output=True,
                         text=True, cwd=tmp_path, timeout=120)
    assert got.returncode == want.returncode == 0, got.stderr
    assert got.stdout == want.stdout
    if closed == "stdout":
        assert got.stderr.startswith("err True\n") and "thrifty doctor" in got.stderr
    assert report_of(tmp_path / "r.json")["outcome"]["exit_status"] == 0


def test_a_script_piped_in_as_dev_stdin_runs(tmp_path):
    """`... | python /dev/stdin`: the doctor checked the script by reading a byte of it, which took the pipe's whole
    first block, and the target ran an empty script."""
    if not os.path.exists("/dev/stdin"):
        pytest.skip("no /dev/stdin")
    script = "import sys\nprint('piped', len(sys.argv))\n"
    run = dict(input=script, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    want = subprocess.run([sys.executable, "/dev/stdin", "a"], **run)
    got = subprocess.run([*DOCTOR, "--no-findings", "/dev/stdin", "a"], **run)
    assert (got.returncode, got.stdout) == (want.returncode, want.stdout) == (0, "piped 2\n"), got.stderr


def test_a_program_on_stdin_runs_as_python_dash_runs_it(tmp_path):
    """`python - args` reads the program from stdin: argv[0] '-', sys.path[0] '', code named <stdin>, the user's;
    the doctor said "cannot open script '-'"."""
    script = ("import sys\ndata = [str(i) * 20 for i in range(30000)]\n"
              "print(__file__, sys.argv, repr(sys.path[0]), len(data), repr(sys.stdin.read()))\n")
    (tmp_path / "prog.txt").write_text(script)
    for how in ("pipe", "file"):
        kw = dict(capture_output=True, text=True, cwd=tmp_path, timeout=120)
        if how == "pipe":
            kw["input"] = script
        else:
            kw["stdin"] = open(tmp_path / "prog.txt")
        want = subprocess.run([sys.executable, "-", "a"], **kw)
        if how == "file":
            kw["stdin"] = open(tmp_path / "prog.txt")
        got = subprocess.run([*DOCTOR, "--json", "r.json", "-", "a"], **kw)
        assert (got.returncode, got.stdout) == (want.returncode, want.stdout) == (0, want.stdout), got.stderr
        assert want.stdout == "<stdin> ['-', 'a'] '' 30000 ''\n"
        r = report_of(tmp_path / "r.json")
        top = r["sites"][r["top_at_peak"][0]]
        assert (top["file"], top["line"], top["user_code"]) == ("<stdin>", 2, True)
        assert "the program on stdin" in got.stderr


def test_a_target_that_execs_another_program_keeps_its_figures_and_says_so(tmp_path):
    """os.execv replaces the process: the run file had only its empty first snapshot (peak 0 B, "called sys.exit:
    exit status 4" for the new program's status). The figures up to the exec are kept, the end says what happened,
    and the findings that need the end state say they were skipped; an exec that fails changes nothing."""
    write(tmp_path / "app.py", """
        import os, sys
        data = [bytes(1000) for _ in range(2000)]
        print("before", flush=True)
        try:
            os.execv("/nonexistent/x", ["x"])
        except OSError:
            print("exec failed", flush=True)
        os.execv(sys.executable, [sys.executable, "-c", "print('after'); raise SystemExit(4)"])
        """)
    want = plain("app.py", cwd=tmp_path)
    got = doctor("--json", "r.json", "app.py", cwd=tmp_path, options=())
    assert (got.returncode, got.stdout) == (want.returncode, want.stdout) == (4, "before\nexec failed\nafter\n")
    r = report_of(tmp_path / "r.json")
    assert r["outcome"]["status"] == "exec" and r["outcome"]["exit_status"] == 4
    assert r["summary"]["peak_bytes"] > 2_000_000
    assert "replaced itself with another program" in got.stderr
    assert any("did not end normally" in n for n in r["notes"])
