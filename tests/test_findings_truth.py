"""Findings that are right, on programs this project did not write: about the user's code, actionable there,
each byte counted once, fixes measured."""
import ast
import json
import pathlib
import subprocess
import sys
import textwrap

import pytest

import thrifty
from thrifty import _ext

DOCTOR = [sys.executable, "-m", "thrifty", "doctor"]
SRC = pathlib.Path(thrifty.__file__).resolve().parent


def _doctor(tmp_path, *target):
    out = tmp_path / "r.json"
    r = subprocess.run([*DOCTOR, "--json", str(out), *target], capture_output=True, text=True, cwd=tmp_path,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    return r, json.loads(out.read_text())


def _script(tmp_path, text):
    p = tmp_path / "app.py"
    p.write_text(textwrap.dedent(text))
    return str(p)


def test_importing_datetime_gives_no_findings(tmp_path):
    r, rep = _doctor(tmp_path, "-c", "import datetime")
    assert rep["findings"] == [], [f["title"] for f in rep["findings"]]
    assert "Findings: none." in r.stderr


def test_stdlib_imports_give_no_findings_outside_the_users_code(tmp_path):
    p = _script(tmp_path, """\
        import argparse, ast, csv, dataclasses, decimal, email.parser, inspect, json, logging, random, tokenize, typing
        import xml.etree.ElementTree, http.client, unittest
        print("ok")
        """)
    r, rep = _doctor(tmp_path, p)
    assert r.stdout == "ok\n"
    assert all(f["file"] == p for f in rep["findings"]), [(f["file"], f["title"]) for f in rep["findings"]]
    # a site outside the user's code is never shown as the user's
    wrong = [(s["file"], s["user_code"]) for s in rep["sites"]
             if s["file"] != "<no Python frame>" and s["user_code"] is not (s["file"] == p)]
    assert not wrong, wrong


def test_cycles_a_library_makes_inside_a_call_from_the_users_line_are_the_note_not_findings(tmp_path):
    # argparse's HelpFormatter <-> _Section and its bound methods: made inside format_help(), nothing the user's line
    # can weaken ("at app.py:8, fix: weakref" was wrong); the user's own class in a cycle stays a finding, and so
    # would a library's object the user's line made itself
    p = _script(tmp_path, """\
        import argparse, gc, types
        class Node:
            def __init__(self):
                self.me = self
        for i in range(50):
            parser = argparse.ArgumentParser(description="demo")
            parser.add_argument("--n", type=int, default=3, help="how many")
            parser.format_help()
            Node()
            box = types.SimpleNamespace()
            box.me = box
        gc.collect()
        """)
    r, rep = _doctor(tmp_path, p)
    cycles = [f for f in rep["findings"] if f["kind"] == "cycle"]
    assert sorted((f["data"]["type"], f["line"]) for f in cycles) == [("__main__.Node", 9), ("types.SimpleNamespace", 10)], \
        [(f["data"]["type"], f["line"]) for f in cycles]
    assert rep["left_out"]["cycles"]["objects"] >= 150  # argparse's, in the one-line note


def test_an_alias_of_a_list_held_in_a_dict_is_not_a_global_finding(tmp_path):
    p = _script(tmp_path, """\
        tables = {"a": [str(i) * 20 for i in range(20000)], "b": [1]}
        for name, rows in tables.items():
            if name == "a":
                current = rows   # an alias: `del current` frees nothing
        """)
    _, rep = _doctor(tmp_path, p)
    names = {f["data"]["name"]: f for f in rep["findings"] if f["kind"] == "global"}
    assert "current" not in names and "rows" not in names
    assert "tables" in names and names["tables"]["bytes"] > 20000 * 60


def test_constant_frozenset_gets_frozenset_fix_with_measured_size(tmp_path):
    p = _script(tmp_path, """\
        ALLOWED = frozenset(range(100_000, 105_000))
        print(sum(1 for i in range(100_000, 100_100) if i in ALLOWED))
        """)
    _, rep = _doctor(tmp_path, p)
    (f,) = [f for f in rep["findings"] if f["kind"] == "global"]
    built = thrifty.sizeof(thrifty.FrozenSet(range(100_000, 105_000)), deep=True)
    assert f["data"]["fix"] == {"kind": "frozenset", "bytes": built}
    assert f"thrifty.FrozenSet(ALLOWED) takes {built} bytes (measured" in f["fix"]
    assert f"fix would save ≈ {f['bytes'] - built} bytes (measured)" in f["fix"]
    # a frozenset of 5000 int objects against one block (ints are 28 bytes on 64-bit hosts, 16 on 32-bit ones)
    assert f["bytes"] > (10 if sys.maxsize > 2**32 else 5) * built


def test_small_config_read_and_tiny_string_building_are_not_findings(tmp_path):
    (tmp_path / "app.cfg").write_text("x" * 200)
    p = _script(tmp_path, """\
        count = 0
        def bump():
            global count
            count += 1
        cfg = open("app.cfg").read()
        s = ""
        for part in ("a", "b", "c"):
            s += part
            bump()
        print(len(cfg), s, count)
        """)
    r, rep = _doctor(tmp_path, p)
    # `open(...).read()` never closing is a resource finding only when the run saw it left unclosed
    assert [f["kind"] for f in rep["findings"] if f["kind"] != "resource"] == []
    assert r.stdout == "200 abc 3\n"


def test_no_byte_is_counted_by_two_findings(tmp_path):
    p = _script(tmp_path, """\
        labels = ["-".join(["station", "north", "x" * 60]) for _ in range(3000)]
        readings = [i * 0.5 for i in range(5000)]
        store = {"labels": labels, "floats": [float(i) for i in range(4000)], "names": [str(i) * 30 for i in range(3000)]}
        """)
    _, rep = _doctor(tmp_path, p)
    by = {}
    for f in rep["findings"]:
        by.setdefault(f["kind"], []).append(f)
    # `readings` is one boxed-numbers finding naming it, not a globals finding too
    boxed_lines = {f["line"]: f for f in by["boxed_numbers"]}
    assert "`readings`" in boxed_lines[2]["title"]
    assert "readings" not in {f["data"]["name"] for f in by.get("global", [])}
    # `labels` is an alias of what `store` holds: not reported; `store` keeps its bytes minus the duplicates' and the
    # boxed floats' (each counted by their own finding)
    glob = {f["data"]["name"]: f for f in by["global"]}
    assert "labels" not in glob
    store = glob["store"]
    dup = sum(f["bytes"] for f in by["duplicate"])
    assert store["data"]["claimed"] >= dup and store["bytes"] == store["data"]["deep_bytes"] - store["data"]["claimed"]


def test_probe_imports_nothing_the_target_could_import():
    # the target-side modules import at module level only what `python -c pass` has, plus sys, gc, thrifty._ext
    allowed = {"sys", "gc", "os", "thrifty", "thrifty._ext", "thrifty.doctor.usercode"}
    for name in ("probe.py", "usercode.py"):
        tree = ast.parse((SRC / "doctor" / name).read_text())
        for node in tree.body:
            if isinstance(node, ast.Import):
                assert {a.name for a in node.names} <= allowed, (name, ast.dump(node))
            elif isinstance(node, ast.ImportFrom):
                assert node.module in allowed and node.module != "__future__", (name, node.module)


def test_evidence_is_plain_data(tmp_path):
    from thrifty.doctor import probe
    from thrifty.doctor.tracer import trace

    with probe.Probes():
        with trace(keep_sites=True) as raw:
            keep = [str(i) * 30 for i in range(3000)]
    ev = probe.evidence(raw)  # the contract's call: the Probes entered last
    assert ast.literal_eval(repr(ev)) == ev
    assert set(ev) >= {"version", "files", "cycles", "resources", "globals", "duplicates", "boxed_numbers"}
    del keep


def test_findings_without_evidence_say_so():
    from thrifty.doctor.findings import build
    from thrifty.doctor.report import build_report

    raw = {"mode": "exact", "sample_rate": 0, "max_depth": 64, "peak_time_ns": 0, "live_bytes_at_end": 0, "allocs": 0,
           "frees": 0, "alloc_bytes": 0, "samples": 0, "untracked_allocs": 0, "dropped_stacks": 0, "duration_ns": 1,
           "tracker_bytes": 0, "tracker_peak_bytes": 0, "overhead_ns_estimate": 0, "timeline": [], "frames": [],
           "stacks": [], "peak_bytes": 0, "evidence": None}
    rep = build_report(raw)
    assert build(None, rep) == [] and any("did not end normally" in n for n in rep["notes"])


FIX_SOURCE = """\
TABLE = {}
CACHE = {}
TEXT = ''
RECENT = []
def lookup(k):
    if k not in CACHE:
        CACHE[k] = str(k) * 10
    return CACHE[k]
"""


def _global_findings(tmp_path, ns):
    from thrifty.doctor.findings import module_globals

    path = tmp_path / "app.py"
    path.write_text(FIX_SOURCE)
    return {f.data["name"]: f for f in module_globals.findings(module_globals.measure({str(path): ns}))}


def test_each_global_gets_the_fix_that_fits_its_value_measured(tmp_path):
    ns = {"__name__": "app", "TABLE": {f"sensor-{i}": i * 0.5 for i in range(3000)},
          "CACHE": {i: str(i) * 10 for i in range(3000)},
          "TEXT": "log line with some repetition\n" * 2000,
          "RECENT": [i * 0.25 for i in range(600)]}
    fs = _global_findings(tmp_path, ns)
    table = fs["TABLE"]
    built = thrifty.sizeof(thrifty.FrozenMap(ns["TABLE"]), deep=True)
    assert f"thrifty.FrozenMap(TABLE) takes {built} bytes (measured" in table.fix
    assert table.data["saving"] == table.bytes - built > 0
    assert "functools.lru_cache(maxsize=...)" in fs["CACHE"].fix and "3000 entries" in fs["CACHE"].fix
    packed = len(thrifty.lz.compress(ns["TEXT"].encode())) + sys.getsizeof(b"")
    assert f"thrifty.lz ({packed} bytes compressed, measured)" in fs["TEXT"].fix
    assert "array.array('d')" in fs["RECENT"].fix and "fix would save ≈" in fs["RECENT"].fix


def test_a_global_bound_in_with_for_or_under_main_has_its_line_and_a_fix_that_fits_what_it_is(tmp_path):
    # `with Pool() as p:` at module level, a loop variable, names bound under `if __name__ == "__main__":` and in a
    # try: were reported "at app.py" (line 0), and every value got "bound it with Ring or lru_cache"
    from thrifty.doctor.findings import module_globals

    class Executor:  # stands for a ThreadPoolExecutor/Pool left bound after its `with` block
        def __init__(self):
            self.state = bytearray(8000)

    path = tmp_path / "app.py"
    path.write_text("import sys\n"
                    "def work():\n    LATE = 1\n"
                    "with open(__file__) as ex:\n    pass\n"
                    "for row in range(3):\n    pass\n"
                    "if __name__ == '__main__':\n"
                    "    try:\n        words = sys.argv\n    except Exception:\n        pass\n"
                    "    cache = {}\n")
    ns = {"__name__": "app", "ex": Executor(), "row": list(range(2000, 4000)),
          "words": [str(i) * 9 for i in range(2000)], "cache": {i: [i, str(i)] for i in range(2000)}}
    fs = {f.data["name"]: f for f in module_globals.findings(module_globals.measure({str(path): ns}))}
    assert {n: f.line for n, f in fs.items()} == {"ex": 4, "row": 6, "words": 10, "cache": 13}
    assert fs["ex"].fix.startswith("keep it inside the function that uses it") and "`del ex`" in fs["ex"].fix
    assert "Ring" not in fs["ex"].fix and "lru_cache" not in fs["ex"].fix
    assert "thrifty.Ring(typecode, maxlen=...)" in fs["words"].fix and "lru_cache" not in fs["words"].fix
    assert "functools.lru_cache(maxsize=...)" in fs["cache"].fix and "lists that keep growing" in fs["cache"].fix


def test_a_second_name_for_one_value_is_an_alias(tmp_path):
    ns = {"__name__": "app", "TABLE": [str(i) for i in range(5000)]}
    ns["RECENT"] = ns["TABLE"]
    fs = _global_findings(tmp_path, ns)
    assert list(fs) == ["TABLE"]  # the first name carries it; `del RECENT` would free nothing
    keep = ns["TABLE"]  # now something else holds it too: neither name's `del` frees it
    assert _global_findings(tmp_path, ns) == {}
    del keep


def test_a_global_two_modules_of_the_users_bind_is_reported_once_where_it_is_made(tmp_path):
    # `from pkg import REGISTRY` in a second module: two namespaces hold the dict, so `del` in either freed nothing
    # and neither reported the 1.8 MB it held
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("REGISTRY = {}\n")
    (pkg / "core.py").write_text("from pkg import REGISTRY\n"
                                 "def run(n):\n    REGISTRY['last'] = [str(i) * 40 for i in range(n)]\n")
    (pkg / "__main__.py").write_text("from pkg import core\ncore.run(20000)\n")
    r, rep = _doctor(tmp_path, "-m", "pkg")
    (g,) = [f for f in rep["findings"] if f["kind"] == "global"]
    assert (g["data"]["name"], g["file"], g["line"]) == ("REGISTRY", str(pkg / "__init__.py"), 1)
    assert g["bytes"] > 1_500_000 and "here and in pkg/core.py (which imports it)" in g["evidence"]


def test_a_measured_fix_that_saves_little_is_not_offered(tmp_path):
    # a dict of int -> long str: FrozenMap keeps the same strs and saves a few percent; the advice is the dict's
    from thrifty.doctor.findings import module_globals

    path = tmp_path / "app.py"
    path.write_text("data = {}\n")
    ns = {"__name__": "app", "data": {i: str(i) * 20 for i in range(5000)}}
    (f,) = module_globals.findings(module_globals.measure({str(path): ns}))
    built = thrifty.sizeof(thrifty.FrozenMap(ns["data"]), deep=True)
    assert f.bytes - built < f.bytes * module_globals.MIN_SAVING_SHARE  # what the run measured: little to gain
    assert "FrozenMap" not in f.fix and f.data["saving"] == 0 and "lru_cache" in f.fix
