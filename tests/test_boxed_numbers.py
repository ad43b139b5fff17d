"""The low-level finding: numbers held as Python objects (src/thrifty/doctor/findings/boxed_numbers.py)."""
import array
import collections
import gc
import json
import subprocess
import sys
import textwrap

import pytest

import thrifty
from thrifty import _ext
from thrifty.doctor.findings import boxed_numbers


def _walk(*objs, min_len=1000):
    """What the C walk reports among a holder of objs (ids of the reported sequences)."""
    holder = {"x": list(objs)}
    rows = _ext._boxed_numbers([holder, *objs], min_len, collections.deque)
    return {id(r[0]): r[1:4] for r in rows}


def test_walk_finds_float_and_int_sequences():
    floats = [i / 3 for i in range(10_000)]
    ints = list(range(-5, 2000))
    dq = collections.deque(float(i) for i in range(1500))
    found = _walk(floats, ints, dq)
    assert found[id(floats)] == ("f", 0, 0)
    assert found[id(ints)] == ("i", -5, 1999)
    assert found[id(dq)][0] == "f"


def test_walk_finds_untracked_tuple_below_a_container():
    t = tuple(i * 0.25 for i in range(3000))
    gc.collect()  # CPython untracks a tuple of atoms at a collection: only its holder is in gc.get_objects()
    assert not gc.is_tracked(t)
    holder = {"deep": {"t": t}}
    # the real caller passes gc.get_objects(): the holder, and the inner dict too where it is tracked (3.14 no longer
    # untracks dicts of atoms, 3.11-3.13 do)
    objs = [holder] + [holder["deep"]] * gc.is_tracked(holder["deep"])
    rows = _ext._boxed_numbers(objs, 1000, collections.deque)
    assert [(r[0] is t, r[4]) for r in rows] == [(True, None)]  # the item array's address is a list's only


@pytest.mark.parametrize("make", [
    lambda: array.array("d", [0.5] * 10_000),
    lambda: thrifty.Ring("d", maxlen=10_000),
    lambda: [1.5, 2] * 5000,  # mixed float and int
    lambda: [True, False] * 5000,  # bools are not ints here
    lambda: [1 << 70] * 2000,  # no typed array holds these
    lambda: [0.5] * 999 + ["x"],
    lambda: [0.5] * 999,  # shorter than min_len
    lambda: [str(i) for i in range(5000)],
], ids=["array", "ring", "mixed", "bools", "bigints", "one-str", "short", "strs"])
def test_walk_ignores_what_is_not_a_numbers_only_sequence(make):
    obj = make()
    if isinstance(obj, thrifty.Ring):
        obj.extend([0.5] * 10_000)
    assert _walk(obj) == {}


@pytest.mark.parametrize("lo,hi,code", [(0, 255, "B"), (-1, 100, "b"), (0, 65535, "H"), (-40000, 5, "i"),
                                        (0, 1 << 40, "q"), (0, (1 << 64) - 1, "Q")])
def test_typecode_is_the_narrowest_that_fits(lo, hi, code):
    assert boxed_numbers.typecode("i", lo, hi) == code
    assert boxed_numbers.typecode("f", 0, 0) == "d"


def test_findings_group_by_site_and_skip_small_savings():
    seq = {"type": "list", "kind": "float", "len": 2000, "bytes": 64_056, "own_bytes": 16_056, "typed_bytes": 16_064,
           "typecode": "d", "site": ("/u/app.py", 9)}
    small = {**seq, "len": 1000, "bytes": 9000, "own_bytes": 9000, "typed_bytes": 8064, "site": ("/u/app.py", 3)}
    (f,) = boxed_numbers.findings([seq, dict(seq), small])
    assert (f.habit, f.kind, f.file, f.line) == ("low-level", "boxed_numbers", "/u/app.py", 9)
    assert f.bytes == 2 * (64_056 - 16_064) and f.data["len"] == 4000
    assert "2 lists" in f.title and "array.array('d')" in f.fix and "thrifty.Ring('d'" in f.fix
    assert "held elsewhere too" in f.evidence


SCRIPT = textwrap.dedent("""\
    import array, collections
    import thrifty
    floats = [i * 0.5 for i in range(10_000)]
    typed = array.array("d", floats)
    ring = thrifty.Ring("d", maxlen=10_000)
    ring.extend(floats)
    mixed = [1.5, 2] * 3000
    counts = tuple(range(3000))
    recent = collections.deque((float(i) for i in range(5000)), maxlen=5000)
    """)


def test_doctor_reports_it_in_json_and_text(tmp_path):
    p = tmp_path / "nums.py"
    p.write_text(SCRIPT)
    out = tmp_path / "r.json"
    html = tmp_path / "r.html"
    r = subprocess.run([sys.executable, "-m", "thrifty", "doctor", "--json", str(out), "--html", str(html), str(p)],
                       capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr
    found = {f["line"]: f for f in json.loads(out.read_text())["findings"] if f["kind"] == "boxed_numbers"}
    assert sorted(found) == [3, 8, 9]  # the float list, the int tuple, the deque; not the array, Ring or mixed list
    assert all(f["habit"] == "low-level" and f["confirmed"] and f["bytes"] > 0 for f in found.values())
    assert found[3]["data"]["typed_bytes"] == sys.getsizeof(array.array("d")) + 10_000 * 8
    assert found[3]["data"]["bytes"] == thrifty.sizeof([i * 0.5 for i in range(10_000)], deep=True)
    assert found[8]["data"]["typecode"] == "h"
    assert "== low-level" in r.stderr and "[boxed_numbers]" in r.stderr
    assert "low-level" in html.read_text() and "boxed_numbers" in html.read_text()


# line 54 is `window.append(r.value)`: the module-level `window = []` reuses a list object from CPython's free list
# (no site in the run), so the site is its item array's, where the list last grew
@pytest.mark.parametrize("name,expected", [("sensor_logger.py", [54]), ("sensor_logger_lean.py", [])])
def test_demo_naive_window_found_lean_clean(name, expected, tmp_path):
    import pathlib
    script = pathlib.Path(__file__).resolve().parent.parent / "examples" / name
    out = tmp_path / "r.json"
    r = subprocess.run([sys.executable, "-m", "thrifty", "doctor", "--json", str(out), str(script), "6000"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    lines = [f["line"] for f in json.loads(out.read_text())["findings"] if f["kind"] == "boxed_numbers"]
    assert lines == expected


def test_thriftys_own_files_are_not_user_files():
    import os
    from thrifty.doctor.findings.base import is_user_file
    pkg = os.path.dirname(os.path.abspath(thrifty.__file__))
    for name in ("cli.py", "lz.py", "guards.py", os.path.join("doctor", "probe.py")):
        assert not is_user_file(os.path.join(pkg, name)), name
