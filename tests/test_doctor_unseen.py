"""The doctor on programs this project did not write: pyperformance's benchmark scripts (copied into a user's
directory, as a user's program), the stdlib run as programs (`-m json.tool` to a file, `-m tokenize`,
`-m compileall`) and a script that only imports a dozen stdlib modules. For each: the run's stdout and exit status
are plain python's, no finding points outside the user's code, and the peak agrees with tracemalloc's started at
interpreter start (counted from the program's first line, as an empty program's start-up is left out).

pyperformance's scripts drive themselves through pyperf.Runner (worker processes, calibration); a small `pyperf.py`
written beside the copy makes Runner call the workload once, in-process, so the doctor and plain python run the same
work. Only pyperformance's data files are used (`pip install --no-deps pyperformance` is enough): the test is skipped
where the package is missing.
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap

import pytest

DOCTOR = [sys.executable, "-m", "thrifty", "doctor"]

# pure-stdlib workloads: json, object graphs, floats, regexes, logging, copying, XML
BENCHMARKS = ["json_dumps", "json_loads", "richards", "deltablue", "nbody", "float", "regex_v8", "logging",
              "deepcopy", "xml_etree"]

# pyperformance's scripts are long (deltablue 636 lines) and `python script.py` keeps the script's syntax tree
# (its AST arena, 0.9 MB there) live until the script returns; the recorder runs a script the same way
# (_ext._run_script). It used to compile() then exec(), which frees the tree first: its peak read up to 31% low
# (deltablue 0.69 of tracemalloc's) while what the program left live agreed.

# the stand-in pyperf the benchmarks use: as a file of its own, it runs each workload once, in this process
FAKE_PYPERF = (pathlib.Path(__file__).resolve().parent.parent / "bench" / "workloads" / "pyperf_standin.py").read_text()

# tracemalloc from interpreter start (-X tracemalloc=1): this sitecustomize, run at the end of start-up, takes the
# traced memory there and resets the peak; at exit it prints the peak above it: the program's own bill, its
# compilation and imports included, as the doctor counts them (start-up left out, as an empty program's)
# (compiled-in modules only: `import tracemalloc` would import re, enum, functools... and make the program's own
# imports of them look free)
SITECUSTOMIZE = """\
import _tracemalloc, atexit, sys
start = _tracemalloc.get_traced_memory()[0]
_tracemalloc.reset_peak()
atexit.register(lambda: print("TRACEMALLOC", *(n - start for n in _tracemalloc.get_traced_memory()), file=sys.stderr))
"""


def _benchmarks_dir():
    try:
        import pyperformance
    except ImportError:
        return None
    d = pathlib.Path(pyperformance.__file__).parent / "data-files" / "benchmarks"
    return d if d.is_dir() else None


def _run(cmd, cwd):
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=300)


def _doctor(tmp_path, *target):
    got = _run([*DOCTOR, "--json", str(tmp_path / "r.json"), *target], tmp_path)
    report = json.loads((tmp_path / "r.json").read_text()) if (tmp_path / "r.json").exists() else None
    return got, report


def _tracemalloc_peak(tmp_path, *argv):
    """(live at exit, peak) traced bytes of `python ARGV` under tracemalloc from interpreter start, above the end of
    start-up."""
    site = tmp_path.parent / (tmp_path.name + "-site")
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    env = {**os.environ, "PYTHONPATH": str(site)}

    def peak(*args):
        got = subprocess.run([sys.executable, "-X", "tracemalloc=1", *args], capture_output=True, text=True,
                             cwd=tmp_path, timeout=300, env=env)
        line = [ln for ln in got.stderr.splitlines() if ln.startswith("TRACEMALLOC ")]
        assert line, got.stderr[-2000:]
        return tuple(map(int, line[-1].split()[1:]))  # (live at exit, peak)

    return peak(*argv)


def _outside_user_code(report, root):
    root = str(root) + os.sep
    return [f for f in report["findings"] if f.get("file") and not str(f["file"]).startswith(root)]


# 3.13 (measured): `-m json.tool` and `-m tokenize` read 3.2% and 3.8% over (~100 KB each; `import argparse`
# alone reads high because the interned-strings table doubles inside the target under the recorder, whose ~500
# names fill it earlier: docs/doctor.md; most likely the same here), and so do pyperformance's scripts at their end and peak (3.13.0: deltablue,
# richards, nbody, json_loads 1.03-1.04 at the peak, 1.05 at the end, the end as before the syntax-tree fix); 3.11
# and 3.14 read within 1.5% on the stdlib programs, 3.11 within 1% on the scripts (3.12.1: 0.995-1.011); 3.14.10's
# scripts read up to 3.2% over at the peak (nbody 1.031, deepcopy 1.032 on the Debian leg): the same open gap
TOLERANCE = 0.06 if sys.version_info[:2] >= (3, 13) else 0.03
# ... plus one interned-strings table: when the table doubles inside the target under the recorder (whose names
# filled it earlier) but not under plain python, or the other way round, the peak and the end differ by that block
# (measured, 3.12.1, `-m compileall` of three stdlib modules: the recorder's run allocates the 2^14-slot table,
# 207,552 B, where plain python stays at 2^13: 3.9% of a 2.9 MB bill; docs/doctor.md, "What the recorder changes")
INTERNED_TABLE = 207_552


def _check(tmp_path, kind, target, args=(), peak_tolerance=TOLERANCE):
    """stdout and status like python's, no finding outside tmp_path, peak and end state near tracemalloc's; returns
    the report."""
    argv = ["-m", target, *args] if kind == "module" else [target, *args]
    want = _run([sys.executable, *argv], tmp_path)
    got, report = _doctor(tmp_path, *argv)
    assert (got.returncode, got.stdout) == (want.returncode, want.stdout), (got.stderr[-3000:], want.stderr[-3000:])
    assert report is not None, got.stderr[-3000:]
    assert _outside_user_code(report, tmp_path) == []
    end, bill = _tracemalloc_peak(tmp_path, *argv)
    peak, left = report["summary"]["peak_bytes"], report["summary"]["live_bytes_at_end"]
    # the doctor's own bookkeeping in the target's process (the findings' probes: the cycles they record, their
    # per-stack site cache) is in none of the target's figures (_ext._tracker_own); what is left under doctor_own is
    # runpy running a -m target (~10 KB, 3.11). While the probes' memory was counted it read 130-210 KB on the
    # scripts, in both the peak and the end, and took most of the end's allowance below (deepcopy 201 KB of 364 KB:
    # a table doubling on top of it failed the end once, 3.64 MB against 3.23 MB)
    assert report["summary"]["doctor_own"]["live_at_peak"] < 64 * 1024, report["summary"]["doctor_own"]
    # what the program leaves live agrees closely; the recorder's interpreter already grew its tables (interned
    # strings) for thrifty._ext, a constant ~40 KB the target then does not pay (docs/doctor.md). Measured (3.11,
    # 3 runs each at load 3-6): the scripts' end reads 5 KB under to 48 KB over tracemalloc's (regex_v8 48 KB, nbody
    # 40 KB), the same run to run within 1 KB, the load whatever it is. Garbage collection does not move it by
    # chance: automatic collections fire by allocation counts, so each side's fall at the same points in every run
    # (the same gc counts at exit every time), and though the sides start from different counts (the recorder
    # collects before the target), the cyclic garbage their ends still hold, what a gc.collect() at exit frees, is
    # alike and small (deltablue 153 KB under the doctor, 151 KB under tracemalloc; the others 0-36 KB).
    assert abs(left - end) < peak_tolerance * end + 60_000 + INTERNED_TABLE, (left, end)
    assert bill * (1 - peak_tolerance) - INTERNED_TABLE <= peak <= bill * (1 + peak_tolerance) + INTERNED_TABLE, \
        (peak, bill)
    return report


@pytest.mark.parametrize("name", BENCHMARKS)
def test_pyperformance_benchmark(tmp_path, name):
    src = _benchmarks_dir()
    if src is None or not (src / f"bm_{name}" / "run_benchmark.py").exists():
        pytest.skip("pyperformance's benchmark scripts are not installed (pip install --no-deps pyperformance)")
    app = tmp_path / "app"
    shutil.copytree(src / f"bm_{name}", app, ignore=shutil.ignore_patterns("__pycache__"))
    (app / "pyperf.py").write_text(FAKE_PYPERF)
    report = _check(app, "script", str(app / "run_benchmark.py"))
    assert report["outcome"]["status"] == "ok"
    # the sites shown first are the benchmark's own (its lines, or compiling it)
    top = [report["sites"][i] for i in report["top_at_peak"]]
    assert top and top[0]["user_code"], top[:3]


def test_a_long_script_keeps_its_syntax_tree_while_it_runs(tmp_path):
    """python holds a script's syntax tree until the script returns: here ~3 MB for 1,200 lines, half the peak
    (measured, 3.11: the recorder that ran compile() then exec() read 0.62 of tracemalloc's peak here, now 1.00)."""
    body = "".join(f"def f{i}(a, b=({i}, '{i}')):\n    return [a, b, {{'k': a * {i}}}]\n\n\n" for i in range(300))
    (tmp_path / "long.py").write_text(body + "data = [str(i) * 4 for i in range(40_000)]\nprint(len(data))\n")
    report = _check(tmp_path, "script", str(tmp_path / "long.py"))
    compiling = [s for s in report["sites"] if s["function"] == "<compile>"]
    # the tree is the target's, shown where python made it, and live at the peak (the list is made after it)
    assert compiling and compiling[0]["live_at_peak"] > report["summary"]["peak_bytes"] / 3, compiling


def test_json_tool_to_a_file(tmp_path):
    data = {"readings": [{"id": i, "name": f"sensor-{i}", "values": [i * 0.5, i * 1.5]} for i in range(3000)]}
    (tmp_path / "in.json").write_text(json.dumps(data))
    _check(tmp_path, "module", "json.tool", ("in.json", "out.json"))
    assert json.loads((tmp_path / "out.json").read_text()) == data


def test_tokenize_a_stdlib_module(tmp_path):
    shutil.copy(textwrap.__file__, tmp_path / "some_module.py")
    _check(tmp_path, "module", "tokenize", ("some_module.py",))


def test_compileall_a_tree(tmp_path):
    pkg = tmp_path / "tree"
    pkg.mkdir()
    for mod in (textwrap, json, shutil):
        shutil.copy(mod.__file__, pkg / pathlib.Path(mod.__file__).name)
    _check(tmp_path, "module", "compileall", ("-q", "tree"))
    assert list((pkg / "__pycache__").glob("*.pyc"))


IMPORTS = ("argparse", "json", "typing", "inspect", "dataclasses", "random", "ast", "tokenize", "csv", "decimal",
           "logging", "fractions")


def test_a_script_that_only_imports_pays_its_import_bill(tmp_path):
    """The import table sums to the bill tracemalloc measures, within 5%, and the heaviest import is a finding on
    the user's import line."""
    (tmp_path / "app.py").write_text(f"import {', '.join(IMPORTS)}\n")
    report = _check(tmp_path, "script", str(tmp_path / "app.py"))
    _, bill = _tracemalloc_peak(tmp_path, str(tmp_path / "app.py"))
    table = sum(m["self_live_at_peak"] for m in report["imports"])  # each byte under its innermost import once
    assert abs(table - bill) / bill < 0.05, (table, bill)
    assert any(f["kind"] == "import" and f["file"] == str(tmp_path / "app.py") for f in report["findings"])
