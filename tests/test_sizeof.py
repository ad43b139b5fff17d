"""thrifty.sizeof: shallow equals sys.getsizeof; deep agrees with pympler.asizeof; exclusive keeps only what the root alone keeps."""
import sys
import types

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import thrifty

atoms = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(), st.binary(),
)
values = st.recursive(
    atoms,
    lambda kids: st.one_of(
        st.lists(kids), st.tuples(kids, kids), st.dictionaries(st.text(max_size=8), kids),
        st.frozensets(st.integers()), st.sets(st.text(max_size=4)),
    ),
    max_leaves=40,
)


@given(values)
@settings(max_examples=300, deadline=None)
def test_shallow_is_getsizeof(v):
    assert thrifty.sizeof(v) == sys.getsizeof(v)


@pytest.mark.parametrize(
    "v",
    [0, 1, -1, 2**70, -(2**100), 1.5, "", "abc", "é" * 5, "😀" * 3, "x" * 1000, b"", b"abc", (), (1, 2), [], [1] * 10,
     {}, set(), set(range(100)), frozenset(range(3)), {1: 2}, dict.fromkeys(range(100)), bytearray(b"ab"), object()],
)
def test_shallow_fast_paths(v):
    assert thrifty.sizeof(v) == sys.getsizeof(v)


def _shared_key_bytes(obj, name):
    """A user class's instance dict shares its key table with the class, so sizeof does not count its keys, while
    _deep_reference counts them once it meets the dict. 3.14 keeps such attributes inline (no dict object until
    one is asked for): then neither side sees the key."""
    materialized = any(type(o) is dict and name in o for o in __import__("gc").get_referents(obj))
    return sys.getsizeof(name) if materialized else 0


def _deep_reference(root, skip_classes=False, align=1):
    """Independent count: every object reachable through gc referents plus dict keys, once; singletons only as root;
    classes (and what only they reach) skipped when asked, as sizeof skips them; each size rounded up to `align`."""
    seen = {}
    stack = [root]
    while stack:
        o = stack.pop()
        if id(o) in seen or (o is not root and (o is None or o is True or o is False)):
            continue
        if skip_classes and isinstance(o, type):
            continue
        seen[id(o)] = o
        stack.extend(o.keys() if isinstance(o, dict) else ())
        stack.extend(__import__("gc").get_referents(o))
    return sum((sys.getsizeof(o) + align - 1) // align * align for o in seen.values())


@given(values)
@settings(max_examples=200, deadline=None)
def test_deep_matches_independent_walk(v):
    assert thrifty.sizeof(v, deep=True) == _deep_reference(v)


STANDARD = {
    "list of ints": lambda: list(range(-500, 1500)),
    "list of floats": lambda: [i * 0.5 for i in range(2000)],
    "dict str->float": lambda: {f"key{i}": i * 1.5 for i in range(1000)},
    "set of str": lambda: {f"s{i}" * 3 for i in range(1000)},
    "tuple of bytes": lambda: tuple(bytes([i % 256]) * (i % 50) for i in range(1000)),
    "nested lists": lambda: [[i, str(i), float(i)] for i in range(1000)],
    "dict of lists": lambda: {i: list(range(i % 20)) for i in range(500)},
    "frozenset of tuples": lambda: frozenset((i, str(i)) for i in range(500)),
}


@pytest.mark.parametrize("name", sorted(STANDARD))
@pytest.mark.parametrize("align", [1, 8])
def test_deep_agrees_with_pympler(name, align):
    asizeof = pytest.importorskip("pympler.asizeof")
    v = STANDARD[name]()
    ours = thrifty.sizeof(v, deep=True, align=align)
    theirs = asizeof.asizeof(v, align=align)
    assert abs(ours - theirs) <= 0.02 * theirs, (ours, theirs)


def test_shared_objects_counted_once():
    s = "x" * 1000
    v = [s, s, s]
    assert thrifty.sizeof(v, deep=True) == sys.getsizeof(v) + sys.getsizeof(s)


def test_cycles_terminate():
    a = []
    a.append(a)
    d = {}
    d["self"] = d
    assert thrifty.sizeof(a, deep=True) == sys.getsizeof(a)
    assert thrifty.sizeof(d, deep=True) == sys.getsizeof(d) + sys.getsizeof("self")


def test_deeply_nested_no_recursion_error():
    v = []
    for _ in range(100_000):
        v = [v]
    assert thrifty.sizeof(v, deep=True) == 100_000 * sys.getsizeof([None]) + sys.getsizeof([])


class _SetWithAttrs(set):
    pass


@pytest.mark.parametrize("n", [0, 3, 40, 200, 5000])  # a set's small table, tables below and above one scan batch
@pytest.mark.parametrize("kind", [set, frozenset, _SetWithAttrs])
def test_set_table_read_directly(n, kind):
    """sizeof reads an exact set's table itself: discarded slots, shared keys and non-str keys must come out as the
    set's own traverse reports them."""
    shared = "shared-" * 3
    keys = [f"k{i}" * 4 for i in range(n)] + [shared, int("12345678901"), float("2.5"), (float(n), str(n))]
    s = set(keys)
    for k in keys[::3]:
        s.discard(k)  # leaves dummy slots behind
    del keys, k
    v = kind(s)
    del s
    class_keys = 0
    if kind is _SetWithAttrs:
        v.big = bytearray(1000)
        class_keys = _shared_key_bytes(v, "big")
    everything = _deep_reference(v, skip_classes=True) - class_keys
    assert thrifty.sizeof(v, deep=True) == everything
    held = sys.getsizeof(shared) if shared in v else 0  # `shared` is also held by this frame
    assert thrifty.sizeof(v, deep=True, exclusive=True) == everything - held
    if kind is not _SetWithAttrs:
        assert thrifty.sizeof(v, deep=True, align=8) == sum((sys.getsizeof(o) + 7) // 8 * 8 for o in _reached(v))


def _reached(root):
    seen = {}
    stack = [root]
    while stack:
        o = stack.pop()
        if id(o) not in seen:
            seen[id(o)] = o
            stack.extend(__import__("gc").get_referents(o))
    return list(seen.values())


class _DictWithAttrs(dict):
    pass


@pytest.mark.parametrize("make", [_DictWithAttrs, __import__("collections").OrderedDict])
@pytest.mark.parametrize("keys", [["a", "b"], [1, "b"]])  # an all-str key table, and a general one
def test_dict_subclass_walks_its_attributes(make, keys):
    d = make((k, [k]) for k in keys)
    d.big = bytearray(10_000)
    shared_keys = _shared_key_bytes(d, "big") if make is _DictWithAttrs else 0
    assert thrifty.sizeof(d, deep=True) == _deep_reference(d, skip_classes=True) - shared_keys
    assert thrifty.sizeof(d, deep=True, exclusive=True) >= sys.getsizeof(d) + sys.getsizeof(d.big)


def test_deeply_nested_million_no_crash():
    v = []
    for _ in range(1_000_000):
        v = [v]
    assert thrifty.sizeof(v, deep=True) == 1_000_000 * sys.getsizeof([None]) + sys.getsizeof([])
    assert thrifty.sizeof(v, deep=True, exclusive=True) == thrifty.sizeof(v, deep=True)


class Node:
    def __init__(self, payload):
        self.payload = payload


def test_structure_skipped_unless_code():
    mod = types.ModuleType("m")
    v = [mod, Node, len, test_cycles_terminate, Node.__init__]
    assert thrifty.sizeof(v, deep=True) == sys.getsizeof(v)
    assert thrifty.sizeof(v, deep=True, code=True) > sys.getsizeof(v) + sys.getsizeof(mod)


_FREED_BY_A_TRAVERSE = """
import asyncio, faulthandler, gc, _asyncio
import thrifty
faulthandler.dump_traceback_later(60, exit=True)  # a regression hangs: end the child with a traceback instead

async def main():
    loop = asyncio.get_running_loop()
    for _ in range(3):  # each finished `await fut` leaves its FutureIter on _asyncio's free list
        fut = loop.create_future()
        loop.call_soon(fut.set_result, 1)
        await fut

asyncio.run(main())
for _ in range(2):
    assert thrifty.sizeof(_asyncio, deep=True, code=True) > 0
gc.collect()  # walks _asyncio's traverse, hence its free list
fut = asyncio.Future(loop=asyncio.new_event_loop())
first, second = fut.__await__(), fut.__await__()  # both from the free list: two live iterators
assert first is not second
print("ok")
"""


def test_walk_skips_freed_objects_a_traverse_reports():
    """CPython 3.12's _asyncio module (before gh-122695) reports the deallocated FutureIters on its free list from
    its traverse. A deep walk that took them for objects deallocated them again, which put them on the free list
    twice: the list became a cycle and every later full gc.collect() (here, and in the whole suite in one process)
    looped forever. On other versions the child simply passes. In a child, so a regression fails instead of hanging."""
    import subprocess

    r = subprocess.run([sys.executable, "-c", _FREED_BY_A_TRAVERSE], capture_output=True, text=True, timeout=300)
    assert (r.returncode, r.stdout.strip()) == (0, "ok"), r.stderr


def test_module_root_is_walked():
    mod = types.ModuleType("m")
    mod.data = list(range(1000, 2000))
    assert thrifty.sizeof(mod, deep=True) >= thrifty.sizeof(mod.data, deep=True)


def test_exclusive_drops_what_others_hold():
    shared = ["s" * 100 + str(i) for i in range(3)]
    root = [shared, ["o" * 100 + str(i) for i in range(3)]]
    full = thrifty.sizeof(root, deep=True)
    excl = thrifty.sizeof(root, deep=True, exclusive=True)
    # `shared` (and the strings only it holds) is kept by this frame too, so it is not root's alone
    assert excl == full - thrifty.sizeof(shared, deep=True)
    del shared
    assert thrifty.sizeof(root, deep=True, exclusive=True) == full


def test_exclusive_with_a_python_sizeof():
    class Odd:
        def __sizeof__(self):
            return 1000

    o = Odd()
    v = [o, "a" * 50 + str(o)]
    assert thrifty.sizeof(v, deep=True, exclusive=True) == thrifty.sizeof(v, deep=True) - sys.getsizeof(o)
    del o
    assert thrifty.sizeof(v, deep=True, exclusive=True) == thrifty.sizeof(v, deep=True)


def test_exclusive_cycle_kept_from_outside():
    parent = Node(None)
    child = Node(parent)
    parent.payload = [child]
    assert thrifty.sizeof(parent, deep=True, exclusive=True) < thrifty.sizeof(parent, deep=True)  # `child` is held here
    del child
    assert thrifty.sizeof(parent, deep=True, exclusive=True) == thrifty.sizeof(parent, deep=True)


@pytest.mark.parametrize(
    "kwargs, match",
    [({"align": 3}, "power of two"), ({"align": 0}, "power of two"), ({"exclusive": True}, "needs deep=True")],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        thrifty.sizeof([], **kwargs)


def test_sizeof_error_propagates():
    class Bad:
        def __sizeof__(self):
            raise RuntimeError("nope")

    with pytest.raises(RuntimeError):
        thrifty.sizeof([Bad()], deep=True)


def test_no_reference_leak():
    class Odd:  # a slow path: the walk takes and drops a reference to every node
        def __sizeof__(self):
            return 100

    v = [{"k" + str(i): [Odd(), float(i)]} for i in range(50)]
    leaf = v[0]["k0"][1]
    before = sys.getrefcount(leaf), sys.getrefcount(v[0])
    for _ in range(200):
        thrifty.sizeof(v, deep=True)
        thrifty.sizeof(v, deep=True, exclusive=True)
    assert (sys.getrefcount(leaf), sys.getrefcount(v[0])) == before


class _Plain:  # object.__sizeof__, no dict: every instance the same size (the walk asks the first one only)
    __slots__ = ("a", "b")

    def __init__(self, a=None, b=None):
        self.a, self.b = a, b


class _Wider(_Plain):  # same __sizeof__, a bigger basic size: a type of its own
    __slots__ = ("c",)


class _Varying(_Plain):  # a __sizeof__ of its own that differs per instance: asked every time
    __slots__ = ()

    def __sizeof__(self):
        return 100 + (self.a or 0)


class _Explicit(_Plain):  # names object.__sizeof__ itself
    __slots__ = ()
    __sizeof__ = object.__sizeof__


def test_same_size_instances_sized_once_per_type():
    v = [_Plain(i, str(i)) for i in range(300)] + [_Wider(i) for i in range(300)]
    v += [_Varying(i) for i in range(300)] + [_Explicit(float(i)) for i in range(300)]
    shared = _Plain()
    v += [shared] * 5 + [_Plain(shared, _Wider())]
    assert thrifty.sizeof(v, deep=True) == _deep_reference(v, skip_classes=True)
    assert thrifty.sizeof(v, deep=True, align=16) == _deep_reference(v, skip_classes=True, align=16)


def test_ast_tree_matches_independent_walk():
    import argparse
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(argparse))
    assert thrifty.sizeof(tree, deep=True) == _deep_reference(tree, skip_classes=True)
    asizeof = pytest.importorskip("pympler.asizeof")
    theirs = asizeof.asizeof(tree)
    assert abs(thrifty.sizeof(tree, deep=True, align=8) - theirs) <= 0.02 * theirs


def test_sizeof_that_drops_the_graph_and_changes_classes():
    """A __sizeof__ that, mid-walk, empties the containers holding the other nodes and gives a class another
    __sizeof__: every node is held until the walk ends, so nothing is freed under it and nothing leaks."""
    holder = [_Plain(i) for i in range(200)]

    class Dropper:
        def __sizeof__(self):
            holder.clear()
            _Wider.__sizeof__ = lambda self: 10_000
            return 64

    try:
        v = [Dropper(), holder, [_Wider() for _ in range(50)], {"k": _Plain()}]
        leaf = v[3]["k"]
        before = sys.getrefcount(leaf)
        for _ in range(3):
            assert thrifty.sizeof(v, deep=True) > 0
            holder.extend(_Plain(i) for i in range(200))
        assert sys.getrefcount(leaf) == before
    finally:
        del _Wider.__sizeof__


def test_exclusive_with_same_size_instances():
    """exclusive=True takes every node through the table (no single-reference shortcut); the per-class size still
    applies, and an instance held from outside is dropped with what only it keeps."""
    held = _Plain("x" * 100)
    v = [_Plain(float(i)) for i in range(100)] + [held]
    full = thrifty.sizeof(v, deep=True)
    assert full == _deep_reference(v, skip_classes=True)
    assert thrifty.sizeof(v, deep=True, exclusive=True) == full - sys.getsizeof(held) - sys.getsizeof(held.a)
