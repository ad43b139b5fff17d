"""Object sites from the tracker's live-block table (`_ext._tracker_site_of`): the stack that allocated an object,
while tracing and after a stop that kept the tables; and the doctor getting its findings' sites from it, with no
tracemalloc running."""
import json
import subprocess
import sys
import textwrap
import threading
import tracemalloc

import pytest

from thrifty import _ext
from thrifty.doctor import trace


def _line() -> int:
    return sys._getframe(1).f_lineno


class ManagedDict:  # instances have a managed __dict__ (3.11: two words of pre-header before the GC header)
    def __init__(self):
        self.x = 1


class Slotted:  # GC-tracked (a slot may hold references), no managed dict
    __slots__ = ("a",)


def _top(obj):
    frames = _ext._tracker_site_of(obj)
    assert frames is not None, f"no site for {type(obj).__name__}"
    assert all(isinstance(f, str) and isinstance(n, int) for f, n in frames)
    return frames[0]


@pytest.fixture
def released():
    yield
    _ext._tracker_release()
    assert not _ext._tracker_status()["tracing"]


def test_sites_while_tracing_and_after_stop(released):
    before = ManagedDict()  # allocated before the run: the tracker never saw its block
    with trace(keep_sites=True):
        plain, l_plain = object(), _line()
        gc_obj, l_gc = Slotted(), _line()
        managed, l_managed = ManagedDict(), _line()
        text, l_text = "sensor-" * 20 + str(id(plain)), _line()
        big, l_big = bytes(1 << 20), _line()  # a block of pymalloc's large-object path (RAW domain)
        expected = {id(plain): l_plain, id(gc_obj): l_gc, id(managed): l_managed, id(text): l_text, id(big): l_big}
        objs = [plain, gc_obj, managed, text, big]
        during = [_top(o) for o in objs]
        assert _ext._tracker_site_of(before) is None
    after = [_top(o) for o in objs]
    assert during == after
    for o, (filename, line) in zip(objs, after):
        assert filename == __file__ and line == expected[id(o)], (type(o).__name__, line)
    # the managed-dict instance's own __init__ ran inside the allocation, but the block was made by the caller's line
    assert _ext._tracker_site_of(before) is None
    _ext._tracker_release()
    assert all(_ext._tracker_site_of(o) is None for o in objs)
    _ext._tracker_release()  # again: nothing kept, nothing to do


def test_stop_without_keep_frees_at_once_and_next_start_works(released):
    with trace():
        o = ManagedDict()
    assert _ext._tracker_site_of(o) is None
    with trace(keep_sites=True):
        first = ManagedDict()
    kept = _ext._tracker_status()["tracker_bytes"]
    assert kept > 0 and _ext._tracker_site_of(first) is not None
    with trace(keep_sites=True):  # a start releases what the previous run kept
        assert _ext._tracker_site_of(first) is None
        second, line = ManagedDict(), _line()
    assert _top(second) == (__file__, line)
    _ext._tracker_release()
    assert _ext._tracker_status()["tracker_bytes"] < kept
    assert not _ext._hook_installed()


def test_lookup_under_allocating_threads(released):
    stop = threading.Event()

    def churn():
        while not stop.is_set():
            [ManagedDict() for _ in range(200)]

    threads = [threading.Thread(target=churn) for _ in range(2)]
    with trace(keep_sites=True):
        for t in threads:
            t.start()
        try:
            mine, line = [ManagedDict() for _ in range(2000)], _line()
            assert {_top(o) for o in mine} == {(__file__, line)}
        finally:
            stop.set()
            for t in threads:
                t.join()


def test_site_keys_stand_for_one_stack_per_generation(released):
    """_tracker_site_keys: objects of one key have one _tracker_site_of; None where that is None; a new run is a new
    generation (its keys may name other stacks)."""
    before = ManagedDict()
    with trace(keep_sites=True):
        a = [ManagedDict() for _ in range(50)]
        b = [Slotted() for _ in range(50)]
        text = "x" * 100 + str(id(a))
        objs = a + b + [text, before]
        gen, keys = _ext._tracker_site_keys(objs)
        assert len(keys) == len(objs) and keys[-1] is None
        by_key = {}
        for o, k in zip(objs, keys):
            if k is not None:
                assert by_key.setdefault(k, _ext._tracker_site_of(o)) == _ext._tracker_site_of(o)
        assert len(by_key) == 3
    assert _ext._tracker_site_keys(objs) == (gen, keys)  # kept tables: the same answers after the stop
    with trace(keep_sites=True):
        gen2, keys2 = _ext._tracker_site_keys(objs)
    assert gen2 != gen and keys2 == [None] * len(objs)
    _ext._tracker_release()
    assert _ext._tracker_site_keys([]) == (gen2, [])
    with pytest.raises(TypeError, match="expected a list"):
        _ext._tracker_site_keys((a[0],))


def test_sites_counts_match_counting_of(released):
    from thrifty.doctor.probe import Sites

    sites = Sites(roots=[__file__.rsplit("/", 1)[0]])
    with trace(keep_sites=True):
        objs = []
        for i in range(30):
            objs.append(ManagedDict())
            objs.append(Slotted() if i % 3 else "y" * 80 + str(i))
    objs.append(ManagedDict())  # untraced: the tracker's answer is None
    expected: dict = {}
    for o in objs:
        s = sites.of(o)
        expected[s] = expected.get(s, 0) + 1
    got = sites.counts(objs)
    assert got == expected and list(got) == list(expected)  # the same counts, the sites in the same order
    assert sites.counts(objs) == expected  # from the cache
    with trace(keep_sites=True):  # a new run: the cache of the last one is not used
        assert sites.counts(objs) == {None: len(objs)}


def test_gc_size_is_the_sum_of_getsizeof():
    class Sized:
        def __sizeof__(self):
            return 1000

    class Plain:
        pass

    class Slots:
        __slots__ = ("a", "b")

    objs = [Plain() for _ in range(5)] + [Slots(), Slots()] + [Sized()] + [[1] * n for n in range(4)]
    objs += [{i: i for i in range(n)} for n in (0, 3, 30)] + ["abc", "é" * 9, 1.5, 10**30, (1, 2), Plain, int]
    assert _ext._gc_size(objs) == sum(map(sys.getsizeof, objs))
    assert _ext._gc_size([]) == 0

    class Broken:
        def __sizeof__(self):
            raise ValueError("no size")

    with pytest.raises(ValueError, match="no size"):
        _ext._gc_size([Plain(), Broken()])
    with pytest.raises(TypeError, match="expected a list"):
        _ext._gc_size((1, 2))

    victims = [Plain() for _ in range(10)]

    class Shrinks:  # a __sizeof__ that empties the list being summed
        def __sizeof__(self):
            del victims[:]
            return 7

    victims.insert(3, Shrinks())
    _ext._gc_size(victims)  # no crash; what it sums of a list changing under it is not defined


def test_bad_argument_to_stop():
    with pytest.raises(TypeError):
        _ext._tracker_stop(True)  # keyword only
    assert not _ext._tracker_status()["tracing"]


SCRIPT = textwrap.dedent("""\
    import os, sys, tempfile, tracemalloc
    print("tracemalloc tracing:", tracemalloc.is_tracing())

    class Node:
        def __init__(self, parent=None):
            self.parent = parent
            self.children = []
            if parent:
                parent.children.append(self)

    labels = []
    for i in range(3000):
        root = Node()
        Node(root)
        labels.append("-".join(["station", "north", "temperature", "x" * 60]))
    path = os.path.join(tempfile.gettempdir(), "thrifty_sites_%d.txt" % os.getpid())
    f = open(path, "w")
    del f
    os.remove(path)
    print("tracemalloc tracing:", tracemalloc.is_tracing())
    """)


def _doctor(tmp_path, *args):
    p = tmp_path / "app.py"
    p.write_text(SCRIPT)
    out = tmp_path / "r.json"
    r = subprocess.run([sys.executable, "-m", "thrifty", "doctor", "--json", str(out), *args, str(p)],
                       capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr
    return r, json.loads(out.read_text())


def test_exact_doctor_gets_sites_without_tracemalloc(tmp_path):
    r, report = _doctor(tmp_path)
    assert r.stdout.splitlines() == ["tracemalloc tracing: False"] * 2
    by_kind = {}
    for f in report["findings"]:
        by_kind.setdefault(f["kind"], []).append(f)
    # each kind that needs an object's creating site has it: the line that made the object
    # (garbage the stdlib leaves while `import tempfile` runs has no site: the import line is not where it was made)
    assert sorted(f["line"] for f in by_kind["cycle"] if f["line"]) == [13, 14], by_kind["cycle"]
    assert [f["line"] for f in by_kind["resource"]] == [17], by_kind["resource"]
    assert [f["line"] for f in by_kind["duplicate"]] == [15], by_kind["duplicate"]
    assert not tracemalloc.is_tracing()


def test_sampled_doctor_starts_no_tracemalloc(tmp_path):
    r, report = _doctor(tmp_path, "--sample", "--sample-rate", "4096")
    assert r.stdout.splitlines() == ["tracemalloc tracing: False"] * 2
    cycles = [f for f in report["findings"] if f["kind"] == "cycle"]
    # objects whose site was not sampled are not findings (nowhere to fix them): the report counts them apart
    assert cycles and sum(f["data"]["objects"] for f in cycles) + report["left_out"]["cycles"]["objects"] >= 3000
    assert any("sampled mode records few objects' sites" in n for n in report["notes"])
    # sites only for the sampled blocks: those found are the right line
    assert {f["line"] for f in cycles} <= {0, 13, 14}
