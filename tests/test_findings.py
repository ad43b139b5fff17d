"""Each finding kind with a positive example and a negative one (the fixed form raises no alarm)."""
import gc
import os
import sys
import tracemalloc
import warnings
import weakref

import pytest

from thrifty import Interner, _ext
from thrifty.doctor import trace
from thrifty.doctor.findings import HABITS, Evidence, Finding, build, confirm, rank
from thrifty.doctor.findings import cycles, duplicates, module_globals, resources
from thrifty.doctor.findings.source import check_source


@pytest.fixture(params=["tracker", "tracemalloc"])
def traced(request):
    """Object sites from thrifty's tracker (what the doctor uses), or from tracemalloc (site_of's fallback)."""
    if request.param == "tracker":
        with trace(keep_sites=True):
            yield
        _ext._tracker_release()
        return
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start(10)
    yield
    if started:
        tracemalloc.stop()


# ---- cycles -------------------------------------------------------------------------------------------------

class Node:
    def __init__(self, parent=None):
        self.parent = parent
        self.children = []
        if parent is not None:
            parent.children.append(self)


class WeakNode:
    def __init__(self, parent=None):
        self.parent = weakref.ref(parent) if parent is not None else None
        self.children = []
        if parent is not None:
            parent.children.append(self)


def _cycle_findings(make):
    c = cycles.CycleCollector()
    c.start()
    try:
        for _ in range(300):
            make()
    finally:
        c.stop()
    return [f for f in cycles.findings(c.groups) if __name__ in f.data["type"]]


def test_cycles_found_with_site_and_chain(traced):
    def make():
        root = Node()
        Node(root)  # the creating site: this line
        Node(root)

    fs = _cycle_findings(make)
    node = [f for f in fs if f.data["type"].endswith(".Node")]
    assert node and sum(f.data["objects"] for f in node) == 900
    assert all(f.habit == "references" and f.kind == "cycle" and f.bytes > 0 for f in node)
    # roots and the two children come from three lines, about a third each (sites are sampled per collection)
    lines = {f.line: f.data["objects"] for f in node if f.file == __file__}
    assert len(lines) == 3 and min(lines.values()) > 150
    chains = [f.data["chain"] for f in node if f.data["chain"]]
    assert chains and all("Node.children" in c or "Node.parent" in c for c in chains)
    assert gc.garbage == [] and not gc.get_debug() & gc.DEBUG_SAVEALL


class Handler:
    def __init__(self):
        self.callback = self.on_event  # a bound method of itself: Handler → method.__self__ → Handler

    def on_event(self):
        pass


def test_cycle_chain_names_the_references_of_builtin_objects(traced):
    """A reference held outside any __dict__ (a bound method's __self__, a function's __globals__) was drawn as a
    bare arrow glued to the type: 'Handler.callback → method→ → Handler'."""
    fs = _cycle_findings(Handler)
    chains = [f.data["chain"] for f in fs if f.data["chain"]]
    assert chains, fs
    assert all("→ →" not in c and "→ ." not in c for c in chains), chains
    assert any("method.__self__" in c for c in chains), chains


def test_a_discarded_module_namespace_is_not_a_finding(traced):
    """`python -m cProfile app.py`, `-m trace` and exec(code, ns) run a script in a namespace of their own that is
    dropped at the end: each function and class of the script is then in a cycle with that namespace (its
    __globals__) and only the cyclic GC frees it. Nothing the user can weaken: it was a finding per function and
    class ('1 builtins.function objects freed only by the cyclic GC ... keep the back-reference as a weakref')."""
    code = compile("class Rec:\n    def get(self):\n        return 1\n\n\ndef work():\n    return Rec().get()\n",
                   __file__, "exec")
    c = cycles.CycleCollector()
    c.start()
    try:
        for _ in range(20):
            ns = {}
            exec(code, ns)
            ns["work"]()
            del ns
    finally:
        c.stop()
    assert [f for f in cycles.findings(c.groups, c.sites.is_user) if f.file == __file__] == []
    assert cycles.outside_user_code(c.groups, c.sites.is_user)["objects"] >= 20 * 3  # still counted, in the note


def test_no_cycles_with_weak_back_reference(traced):
    def make():
        root = WeakNode()
        WeakNode(root)

    assert _cycle_findings(make) == []


def test_cycle_collector_stands_aside_when_saveall_is_on():
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        c = cycles.CycleCollector()
        c.start()
        a = []
        a.append(a)
        del a
        c.stop()
        gc.collect()
        assert c.groups == {} and len(gc.garbage) >= 1  # the user's saved garbage is left alone
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


def test_cycle_collector_finalizers_still_run():
    seen = []

    class Fin:
        def __init__(self):
            self.me = self

        def __del__(self):
            seen.append(1)

    c = cycles.CycleCollector()
    c.start()
    for _ in range(10):
        Fin()
    c.stop()
    assert len(seen) == 10 and gc.garbage == []


# ---- resources ----------------------------------------------------------------------------------------------

def test_unclosed_file_found_even_when_warnings_are_ignored(traced, tmp_path):
    r = resources.ResourceCollector()
    r.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(3):
                f = open(tmp_path / "x.txt", "w")  # the opening site: this line
                f.write("x")
                del f
        gc.collect()
    finally:
        r.stop()
    fs = resources.findings(r.groups)
    assert [(f.kind, f.habit, f.file, f.data["count"]) for f in fs] == [("resource", "references", __file__, 3)]
    assert "unclosed file" in fs[0].evidence
    assert not any(flt[2] is ResourceWarning and flt[0] == "always" for flt in warnings.filters[:1])


def test_unclosed_socket_found(traced):
    import socket

    r = resources.ResourceCollector()
    r.start()
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # the opening site: this line
        del s
        gc.collect()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM):
            pass
    finally:
        r.stop()
    (f,) = resources.findings(r.groups)
    assert f.data["what"] == "socket" and f.file == __file__ and f.data["count"] == 1
    assert "unclosed <socket.socket" in f.evidence


def test_closed_file_is_not_a_finding(traced, tmp_path):
    r = resources.ResourceCollector()
    r.start()
    try:
        for _ in range(3):
            with open(tmp_path / "x.txt", "w") as f:
                f.write("x")
        gc.collect()
    finally:
        r.stop()
    assert resources.findings(r.groups) == []


def test_other_warnings_pass_through(tmp_path):
    r = resources.ResourceCollector()
    r.start()
    try:
        with pytest.warns(UserWarning, match="still shown"):
            warnings.warn("still shown")
    finally:
        r.stop()


# ---- globals ------------------------------------------------------------------------------------------------

def test_large_global_found(tmp_path):
    path = str(tmp_path / "app.py")
    with open(path, "w") as f:
        f.write("import os\n\nCACHE = {}\nSMALL = 1\n")
    ns = {"__name__": "app", "CACHE": {i: str(i) * 10 for i in range(2000)}, "SMALL": 1, "os": os,
          "Node": Node, "fn": test_large_global_found}
    measured = module_globals.measure({path: ns})
    assert {g["name"] for g in measured} == {"CACHE", "SMALL"}
    fs = module_globals.findings(measured)
    assert [(f.kind, f.habit, f.line, f.data["name"]) for f in fs] == [("global", "globals", 3, "CACHE")]
    assert fs[0].bytes > 100_000 and "2000 items" in fs[0].evidence


def test_small_or_non_user_globals_are_not_findings(tmp_path):
    path = str(tmp_path / "app.py")
    open(path, "w").close()
    assert module_globals.findings(module_globals.measure({path: {"X": [1, 2, 3]}})) == []
    assert module_globals.measure({os.__file__: vars(os)}) == []  # the stdlib is not the user's


# ---- duplicates ---------------------------------------------------------------------------------------------

def test_equal_strings_found(traced):
    keep = ["".join(["reading/", "x" * 80, str(i % 1)]) for i in range(5)]  # 5 equal, distinct objects
    groups = duplicates.scan()
    mine = [g for g in groups if g["preview"].startswith("'reading/")]
    assert len(mine) == 1 and mine[0]["copies"] == 5
    assert mine[0]["bytes_wasted"] == 4 * sys.getsizeof(keep[0])
    assert mine[0]["sites"][0][0] == __file__
    (f,) = [f for f in duplicates.findings(mine)]
    assert f.kind == "duplicate" and f.habit == "object creation" and "Interner" in f.fix


def test_duplicate_groups_from_one_line_are_one_finding(traced):
    keep = ["".join(["grouped/", str(i % 3) * 80]) for i in range(9)]  # 3 groups of 3, all made on this line
    mine = [g for g in duplicates.scan() if g["preview"].startswith("'grouped/")]
    assert len(mine) == 3
    (f,) = duplicates.findings(mine)
    assert f.data["copies"] == 9 and f.bytes == 6 * sys.getsizeof(keep[0]) and "3 groups" in f.title


def test_interned_strings_are_not_duplicates(traced):
    it = Interner()
    keep = [it.intern("".join(["interned/", "y" * 80])) for _ in range(5)]
    assert len({id(k) for k in keep}) == 1
    assert not [g for g in duplicates.scan() if g["preview"].startswith("'interned/")]


# ---- code findings ------------------------------------------------------------------------------------------

CODE = {
    "code.pop0": ("q = []\nwhile q:\n    q.pop(0)\n", "from collections import deque\nq = deque()\nq.popleft()\nq.pop()\n"),
    "code.insert0": ("q = []\nq.insert(0, 1)\n", "q = []\nq.insert(1, 1)\nq.append(1)\n"),
    "code.in_list": ("ok = [1, 2]\nfor x in range(9):\n    if x in ok:\n        pass\n",
                     "ok = frozenset([1, 2])\nfor x in range(9):\n    if x in ok:\n        pass\nif 3 in [1]:\n    pass\n"),
    "code.readall": ("with open('f') as f:\n    data = f.read()\n",
                     "with open('f') as f:\n    for chunk in iter(lambda: f.read(4096), ''):\n        pass\n"),
    "code.str_concat": ("s = ''\nfor x in 'abc':\n    s += x\n",
                        "n = 0\nparts = []\nfor x in 'abc':\n    n += 1\n    parts.append(x)\ns = ''.join(parts)\n"),
    "code.listcomp": ("t = sum([x * 2 for x in range(9)])\n", "t = sum(x * 2 for x in range(9))\nl = [x for x in 'ab']\n"),
    "code.global": ("N = 0\ndef f():\n    global N\n    N += 1\n", "N = 0\ndef f(n):\n    return n + 1\n"),
    "code.open": ("def f(p):\n    fh = open(p)\n    return fh.readline()\n",
                  "def f(p):\n    with open(p) as fh:\n        return fh.readline()\n"
                  "def g(p):\n    fh = open(p)\n    try:\n        return fh.readline()\n    finally:\n        fh.close()\n"
                  "def h(p):\n    fh = open(p)\n    return fh\n"
                  "open('f', 'w').close()\n"),
}


@pytest.mark.parametrize("kind", sorted(CODE))
def test_code_finding_positive_and_negative(kind):
    bad, good = CODE[kind]
    found = check_source("app.py", bad)
    assert [f.kind for f in found if f.kind == kind], (kind, [f.kind for f in found])
    f = next(f for f in found if f.kind == kind)
    assert f.habit in HABITS and f.line > 0 and not f.confirmed and f.fix
    assert [f.kind for f in check_source("app.py", good) if f.kind == kind] == []


@pytest.mark.parametrize("src", ["data = open('f').read()\n", "for line in open('f'):\n    pass\n",
                                 "n = sum(1 for line in open('f'))\n"])
def test_code_open_unbound(src):
    assert [f.kind for f in check_source("app.py", src) if f.kind == "code.open"] == ["code.open"]


def test_code_finding_syntax_error_is_no_finding():
    assert check_source("bad.py", "def (:\n") == []


def test_confirm_ranks_runtime_evidence_first():
    found = check_source("app.py", "q = []\nq.pop(0)\nwith open('f') as f:\n    data = f.read()\n")
    ev = Evidence(line_bytes={("app.py", 4): 1 << 20},
                  globals=[{"file": "app.py", "name": "q", "bytes": 50_000, "type": "list", "len": 5000}])
    ranked = rank(confirm(found, ev))
    assert [(f.kind, f.confirmed) for f in ranked] == [("code.readall", True), ("code.pop0", True)]
    assert ranked[0].bytes == 1 << 20 and "5000 items" in ranked[1].evidence
    static = rank(confirm(check_source("app.py", "q = []\nq.pop(0)\n"), Evidence()))
    assert [f.confirmed for f in static] == [False]


def test_finding_rejects_unknown_habit():
    with pytest.raises(ValueError, match="habit must be one of"):
        Finding(habit="style", kind="x", file="f", line=1, title="t", evidence="e", fix="f")


def test_build_reads_user_files_and_keeps_only_what_the_run_confirms(tmp_path):
    p = tmp_path / "app.py"
    p.write_text("q = []\nq.pop(0)\n")
    assert build(Evidence(files=[str(p)])) == []  # seen in the source only: the run did not show it matters
    big = {"file": str(p), "name": "q", "bytes": 0, "type": "list", "len": 5000}
    assert [f.kind for f in build(Evidence(files=[str(p)], globals=[big]))] == ["code.pop0"]


def test_hot_loop_confirms_a_membership_test():
    src = "ok = [1, 2]\nfor x in range(9):\n    y = str(x)\n    if x in ok:\n        pass\n"
    (f,) = [f for f in check_source("app.py", src) if f.kind == "code.in_list"]
    assert f.data["loop_lines"] == [2, 5]
    (cold,) = confirm([f], Evidence(line_allocs={("app.py", 3): 10}))
    assert not cold.confirmed
    (hot,) = confirm(check_source("app.py", src)[-1:], Evidence(line_allocs={("app.py", 3): 50_000}))
    assert hot.confirmed and "line 3" in hot.evidence


def test_a_few_hundred_bytes_of_equal_strings_are_no_finding():
    # three copies of a 67-character path made inside a library call from the user's line: 232 bytes, noise
    from thrifty.doctor.findings import build

    def group(preview, copies, size):
        return {"type": "str", "length": 67, "copies": copies, "size": size, "bytes_wasted": (copies - 1) * size,
                "sites": [["/home/u/app.py", 11]], "preview": preview}

    ev = {"duplicates": [group("'/venv/lib/python3.11/si'", 3, 116)]}
    assert [f for f in build(ev) if f.kind == "duplicate"] == []
    ev = {"duplicates": [group("'sensor/ambient/temperature'", 100, 116)]}
    (f,) = [f for f in build(ev) if f.kind == "duplicate"]
    assert f.bytes == 99 * 116 >= duplicates.MIN_BYTES
