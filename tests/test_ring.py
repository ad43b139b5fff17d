"""thrifty.Ring: differential tests against collections.deque, bad input, buffers, reductions, leaks and GC."""
from __future__ import annotations

import array
import copy
import gc
import math
import struct
import pickle
import statistics
import sys
import tracemalloc
import weakref
from collections import deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import thrifty
from thrifty import Full, Ring

INT64 = st.integers(-(2**63), 2**63 - 1)
SMALL = st.integers(-4, 4)  # small values collide, so count/index/remove find things


# ---- differential: random operation sequences beside deque --------------------------------------------------

def _values(typecode):
    if typecode == "q":
        return st.one_of(SMALL, INT64)
    return st.one_of(SMALL, st.text(max_size=2), st.none())


def _ops(typecode):
    v = _values(typecode)
    idx = st.integers(-8, 8)
    lst = st.lists(v, max_size=6)
    return st.lists(
        st.one_of(
            st.tuples(st.sampled_from(["append", "appendleft", "count", "remove", "contains"]), v),
            st.tuples(st.sampled_from(["pop", "popleft", "clear", "reverse", "len", "iter", "reversed", "copy",
                                       "bool", "maxlen", "pickle", "deepcopy"])),
            st.tuples(st.sampled_from(["extend", "extendleft", "iadd", "add", "eq", "lt", "le", "ge"]), lst),
            st.tuples(st.just("extend_self")),
            st.tuples(st.sampled_from(["rotate", "getitem", "delitem", "mul", "imul"]), idx),
            st.tuples(st.just("rotate0")),
            st.tuples(st.sampled_from(["insert", "setitem"]), idx, v),
            st.tuples(st.just("index"), v, st.integers(-6, 6), st.integers(-6, 6)),
            st.tuples(st.just("index1"), v),
        ),
        max_size=40,
    )


def _apply(obj, op, make):
    """Run one operation; `make(list)` builds another container of the same kind for binary operations."""
    name, *args = op
    if name in ("append", "appendleft", "count", "remove", "extend", "extendleft", "rotate", "insert"):
        return getattr(obj, name)(*args)
    if name in ("pop", "popleft", "clear", "reverse", "copy"):
        return getattr(obj, name)()
    if name == "rotate0":
        return obj.rotate()
    if name == "index":
        return obj.index(*args)
    if name == "index1":
        return obj.index(args[0])
    if name == "contains":
        return args[0] in obj
    if name == "len":
        return len(obj)
    if name == "bool":
        return bool(obj)
    if name == "maxlen":
        return obj.maxlen
    if name == "iter":
        return list(obj)
    if name == "reversed":
        return list(reversed(obj))
    if name == "extend_self":
        return obj.extend(obj)
    if name == "getitem":
        return obj[args[0]]
    if name == "setitem":
        obj[args[0]] = args[1]
        return None
    if name == "delitem":
        del obj[args[0]]
        return None
    if name == "iadd":
        obj += args[0]
        return None
    if name == "imul":
        obj *= args[0]
        return None
    if name == "add":
        return obj + make(args[0])
    if name == "mul":
        return obj * args[0]
    if name in ("eq", "lt", "le", "ge"):
        import operator

        return getattr(operator, name)(obj, make(args[0]))
    if name == "pickle":
        return pickle.loads(pickle.dumps(obj))
    if name == "deepcopy":
        return copy.deepcopy(obj)
    raise AssertionError(name)


def _norm(result):
    if isinstance(result, (Ring, deque)):
        return ("seq", list(result), result.maxlen)
    return ("value", result)


def _outcome(obj, op, make):
    try:
        return ("ok", _norm(_apply(obj, op, make)))
    except Exception as e:  # the differential compares exception types
        return ("raised", type(e))


def _run_differential(typecode, maxlen, initial, ops):
    r = Ring(typecode, initial, maxlen)
    d = deque(initial, maxlen)
    for op in ops:
        got = _outcome(r, op, lambda items: Ring(typecode, items))
        want = _outcome(d, op, lambda items: deque(items))
        assert got == want, (op, list(r), list(d))
        assert list(r) == list(d), op
        assert len(r) == len(d)
        assert r.maxlen == d.maxlen


@settings(max_examples=1500, deadline=None)
@given(st.one_of(st.none(), st.integers(0, 6)), st.data())
def test_differential_object_ring(maxlen, data):
    initial = data.draw(st.lists(_values("O"), max_size=6))
    _run_differential("O", maxlen, initial, data.draw(_ops("O")))


@settings(max_examples=1500, deadline=None)
@given(st.one_of(st.none(), st.integers(0, 6)), st.data())
def test_differential_int64_ring(maxlen, data):
    initial = data.draw(st.lists(INT64, max_size=6))
    _run_differential("q", maxlen, initial, data.draw(_ops("q")))


def test_growth_and_shrink_match_deque():
    r, d = Ring("O"), deque()
    for i in range(5000):
        r.append(i)
        d.append(i)
        if i % 3 == 0:
            assert r.popleft() == d.popleft()
    while d:
        assert r.pop() == d.pop()
    assert len(r) == 0 and r.__sizeof__() < 200


# ---- deque behaviour details ---------------------------------------------------------------------------------

def test_repr():
    assert repr(Ring("h", [1, 2], maxlen=4)) == "Ring('h', [1, 2], maxlen=4)"
    assert repr(Ring("d")) == "Ring('d', [])"
    assert repr(Ring("O", [1], overflow="raise")) == "Ring('O', [1], overflow='raise')"
    r = Ring("O")
    r.append(r)
    assert repr(r) == "Ring('O', [[...]])"


def test_mutation_during_iteration_raises():
    for r in (Ring("O", [1, 2, 3]), Ring("h", [1, 2, 3])):
        it = iter(r)
        next(it)
        r.append(4)
        with pytest.raises(RuntimeError):
            next(it)


def test_mutation_inside_comparison_raises():
    class Evil:
        def __eq__(self, other):
            r.clear()
            return False

    r = Ring("O", [Evil(), 1, 2])
    for call in (lambda: r.count(2), lambda: r.index(2), lambda: 2 in r):
        r.extend([Evil(), 1])
        with pytest.raises(RuntimeError):
            call()


class Sub(Ring):
    pass


def test_hash_weakref_subclass_and_generic():
    with pytest.raises(TypeError):
        hash(Ring("h"))
    r = Ring("h")
    assert weakref.ref(r)() is r

    s = Sub("h", [1, 2], 5)
    s.tag = "x"
    t = pickle.loads(pickle.dumps(s))
    assert type(t) is Sub and list(t) == [1, 2] and t.maxlen == 5 and t.tag == "x"
    assert type(copy.copy(s)) is Sub
    assert Ring[int] is not None


def test_copy_deepcopy_pickle_keep_type_and_policy():
    r = Ring("d", [1.5, 2.5], maxlen=3, overflow="raise")
    for c in (r.copy(), copy.copy(r), copy.deepcopy(r), pickle.loads(pickle.dumps(r))):
        assert (c.typecode, list(c), c.maxlen, c.overflow) == ("d", [1.5, 2.5], 3, "raise")
    o = Ring("O", [[1], [2]])
    o.append(o)
    c = copy.deepcopy(o)
    assert c[0] == [1] and c[0] is not o[0] and c[2] is c


def test_comparison_only_between_rings():
    assert Ring("h", [1, 2]) == Ring("q", [1, 2])
    assert Ring("h", [1]) < Ring("h", [1, 0])
    assert (Ring("h", [1]) == deque([1])) is False
    with pytest.raises(TypeError):
        Ring("h") < deque()
    with pytest.raises(TypeError):
        Ring("h") + deque()
    r = Ring("h", [1])
    r += [2, 3]  # += takes any iterable, like deque
    assert list(r) == [1, 2, 3]
    assert list(2 * Ring("h", [1, 2])) == [1, 2, 1, 2]


def test_repeat_of_bounded_ring_is_fast_and_right():
    r = Ring("O", [1, 2, 3], maxlen=5)
    assert list(r * min(10**12, sys.maxsize)) == list(deque([1, 2, 3], maxlen=5) * 7)
    assert list(Ring("h", [1, 2], maxlen=3) * 5) == [2, 1, 2]


# ---- overflow policy and embedded additions ----------------------------------------------------------------

def test_overflow_raise():
    r = Ring("h", [1, 2], maxlen=2, overflow="raise")
    assert r.full
    for call in (lambda: r.append(3), lambda: r.appendleft(3), lambda: r.insert(0, 3)):
        with pytest.raises(Full):
            call()
        assert list(r) == [1, 2]
    assert issubclass(Full, IndexError)
    with pytest.raises(Full):
        r.extend([5])
    r.popleft()
    with pytest.raises(Full):  # takes what fits, then raises, like appending one by one
        r.extend([7, 8])
    assert list(r) == [2, 7]
    r.popleft()
    assert r.write(array.array("h", [9, 10, 11])) == 1  # write() takes what fits and says how many
    assert list(r) == [7, 9]
    with pytest.raises(Full):
        r *= 2


def test_typecode_itemsize_full():
    for code in "bBhHiIlLqQfd":
        r = Ring(code, maxlen=1)
        assert r.typecode == code and r.itemsize == array.array(code).itemsize
        assert not r.full
        r.append(1)
        assert r.full
    assert Ring("O").itemsize == struct.calcsize("P")  # a pointer
    assert not Ring("O", range(100)).full


def test_write_readinto_drop_policy():
    r = Ring("h", maxlen=4)
    assert r.write(array.array("h", range(6))) == 6
    assert list(r) == [2, 3, 4, 5]
    assert r.write(memoryview(array.array("h", [7])).cast("B").cast("h")) == 1
    assert list(r) == [3, 4, 5, 7]
    out = array.array("h", [0] * 3)
    assert r.readinto(out) == 3
    assert list(out) == [3, 4, 5] and list(r) == [7]
    big = array.array("h", [0] * 10)
    assert r.readinto(big) == 1 and big[0] == 7 and len(r) == 0
    g = Ring("d")
    assert g.write(array.array("d", [0.5] * 1000)) == 1000 and len(g) == 1000 and g.sum() == 500.0


def test_extend_from_matching_buffer_and_ring():
    assert list(Ring("B", b"\x01\xff")) == [1, 255]
    assert list(Ring("h", b"\x01\xff")) == [1, 255]  # not the buffer format: iterated as values
    assert list(Ring("h", array.array("h", [-1, 2]))) == [-1, 2]
    src = Ring("h", range(10), maxlen=4)
    assert list(Ring("h", src, maxlen=3)) == [7, 8, 9]
    assert list(Ring("q", src)) == [6, 7, 8, 9]


def test_wrong_buffer_format_names_both():
    r = Ring("h", [1])
    for bad in (array.array("d", [1.0]), b"\x00\x00", array.array("H", [1]), array.array("i", [1])):
        with pytest.raises(TypeError, match=r"'h'.*got format"):
            r.write(bad)
        with pytest.raises(TypeError, match="'h'"):
            r.readinto(bad if not isinstance(bad, bytes) else bytearray(2))
    assert list(r) == [1]
    with pytest.raises(TypeError):
        Ring("O").write(b"")
    with pytest.raises(TypeError):
        r.readinto(bytes(2))  # read-only


def test_views_zero_copy_and_export_rules():
    r = Ring("h", maxlen=5)
    r.extend(range(7))  # wraps: storage holds 5 6 2 3 4
    a, b = r.views()
    assert a.format == "h" and list(a) + list(b) == [2, 3, 4, 5, 6]
    a[0] = 100  # writes land in the Ring
    assert r[0] == 100
    r[1] = 200  # and the other way round
    assert a[1] == 200
    for change in (lambda: r.append(1), r.popleft, r.clear, lambda: r.rotate(1), lambda: r.extend([1]),
                   lambda: r.write(array.array("h", [1])), lambda: r.readinto(array.array("h", [0]))):
        with pytest.raises(BufferError):
            change()
    assert list(r) == [100, 200, 4, 5, 6]
    r.reverse()  # in place: allowed, like bytearray.reverse()
    a.release()
    with pytest.raises(BufferError):
        r.pop()
    b.release()
    r.pop()
    assert r.views()[1].nbytes == 0 or True
    with pytest.raises(TypeError):
        Ring("O").views()
    assert [len(v) for v in Ring("d").views()] == [0, 0]


def test_tobytes_toarray():
    r = Ring("H", [1, 65535], maxlen=3)
    assert r.tobytes() == array.array("H", [1, 65535]).tobytes()
    assert r.toarray() == array.array("H", [1, 65535])
    with pytest.raises(TypeError):
        Ring("O").tobytes()


# ---- reductions ---------------------------------------------------------------------------------------------

@settings(max_examples=150, deadline=None)
@given(st.sampled_from("bBhHiIlLqQ"), st.data())
def test_integer_reductions_match_stdlib(code, data):
    lo, hi = (0, 2 ** (8 * array.array(code).itemsize) - 1) if code.isupper() else (
        -(2 ** (8 * array.array(code).itemsize - 1)), 2 ** (8 * array.array(code).itemsize - 1) - 1)
    values = data.draw(st.lists(st.integers(lo, hi), min_size=1, max_size=50))
    r = Ring(code, maxlen=len(values) - data.draw(st.integers(0, len(values) - 1)))
    r.extend(values)  # wraps for most draws
    kept = values[-r.maxlen:]
    assert r.sum() == sum(kept)
    assert r.mean() == statistics.mean(kept) or math.isclose(r.mean(), statistics.mean(kept), rel_tol=1e-15)
    assert r.min() == min(kept) and r.max() == max(kept)
    assert math.isclose(r.std(), statistics.pstdev(kept), rel_tol=1e-9, abs_tol=1e-6)
    if len(kept) > 1:
        assert math.isclose(r.std(ddof=1), statistics.stdev(kept), rel_tol=1e-9, abs_tol=1e-6)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=False, width=64), min_size=1, max_size=40))
def test_float_reductions(values):
    r = Ring("d", values)
    mn, mx = r.min(), r.max()
    assert (mn == min(values) or (math.isnan(mn) and math.isnan(min(values))))
    assert (mx == max(values) or (math.isnan(mx) and math.isnan(max(values))))
    finite = [v for v in values if not math.isnan(v)]
    if len(finite) == len(values) and all(abs(v) < 1e300 for v in values):
        assert math.isclose(r.sum(), math.fsum(values), rel_tol=1e-9, abs_tol=1e-9 * max(map(abs, values)))


def test_reduction_errors_and_big_sums():
    for name in ("mean", "min", "max", "std"):
        with pytest.raises(ValueError):
            getattr(Ring("h"), name)()
        with pytest.raises(TypeError):
            getattr(Ring("O", [1]), name)()
    assert Ring("h").sum() == 0
    with pytest.raises(ValueError):
        Ring("h", [1]).std(ddof=1)
    with pytest.raises(ValueError):
        Ring("h", [1]).std(ddof=-1)
    big = [2**63 - 1] * 5
    assert Ring("q", big).sum() == sum(big)
    assert Ring("q", [-(2**63)] * 3).sum() == -3 * 2**63
    assert Ring("Q", [2**64 - 1] * 3).sum() == 3 * (2**64 - 1)
    assert Ring("Q", [2**64 - 1] * 3).mean() == float(2**64 - 1)
    assert Ring("f", [0.5, 0.25]).sum() == 0.75


# ---- bad input ----------------------------------------------------------------------------------------------

def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="b, B, h"):
        Ring("x")
    with pytest.raises(ValueError):
        Ring("u")
    with pytest.raises(TypeError):
        Ring(1)
    with pytest.raises(TypeError):
        Ring("hh")
    with pytest.raises(ValueError, match="non-negative"):
        Ring("h", maxlen=-1)
    with pytest.raises(TypeError):
        Ring("h", maxlen=1.5)
    with pytest.raises(ValueError, match="'drop' or 'raise'"):
        Ring("h", overflow="block")
    with pytest.raises(TypeError):
        Ring("h", overflow=1)
    with pytest.raises(TypeError):
        Ring("h", 5)


@pytest.mark.parametrize("code", list("bBhHiIlLqQ"))
def test_integer_range_and_type(code):
    size = array.array(code).itemsize * 8
    lo, hi = (0, 2**size - 1) if code.isupper() else (-(2 ** (size - 1)), 2 ** (size - 1) - 1)
    r = Ring(code, [lo, hi], maxlen=3)
    for bad in (lo - 1, hi + 1, 2**100):
        for call in (r.append, r.appendleft, lambda v: r.__setitem__(0, v), lambda v: r.insert(1, v)):
            with pytest.raises(OverflowError):
                call(bad)
    for bad in (1.0, "1", None):
        with pytest.raises(TypeError):
            r.append(bad)
    assert list(r) == [lo, hi]  # every failed call left it unchanged
    assert (lo - 1) not in r and r.count(hi + 1) == 0
    with pytest.raises(ValueError):
        r.index(2**100)


def test_float_types_and_lookups():
    r = Ring("d", [1.0, 2.0])
    with pytest.raises(TypeError):
        r.append("1.0")
    r.append(3)  # ints are real numbers
    assert 1 in r and 2.0 in r and r.index(3) == 2 and r.count(1.0) == 1
    assert list(Ring("q", [1, 2])) == [1, 2] and 1.0 in Ring("q", [1])


def test_pop_from_empty_and_index_errors():
    for r in (Ring("h"), Ring("O")):
        for call in (r.pop, r.popleft):
            with pytest.raises(IndexError):
                call()
        with pytest.raises(IndexError):
            r[0]
        with pytest.raises(IndexError):
            del r[-1]
        with pytest.raises(TypeError):
            r["a"]
        with pytest.raises(ValueError):
            r.remove(1)


# ---- references, leaks and the GC ---------------------------------------------------------------------------

def test_references_are_released():
    sentinel = object()
    base = sys.getrefcount(sentinel)
    r = Ring("O", maxlen=3)
    for _ in range(100):
        r.append(sentinel)
        r.appendleft(sentinel)
        r.extend([sentinel] * 4)
        r.rotate(1)
        r.insert(0, 1) if not r.full else None
        r[0] = sentinel
        del r[0]
        r.remove(sentinel)
        r.pop()
        c = r.copy() + r
        c *= 3
        p = pickle.loads(pickle.dumps(Ring("O", [1, 2])))
        list(reversed(r))
        sentinel in r
        r.count(sentinel)
        r.clear()
        del c, p
    r.extend([sentinel] * 3)
    del r
    assert sys.getrefcount(sentinel) == base


def test_no_memory_growth_over_many_operations():
    def work():
        for code in ("O", "h", "d"):
            r = Ring(code)
            r.extend(range(200))
            for i in range(200):
                r.append(i)
                r.popleft()
                r.rotate(3)
            r.tobytes() if code != "O" else list(r)
            Ring(code, r, maxlen=10) * 3
            repr(r)
            try:
                r.append("bad") if code != "O" else r.index("missing")
            except (TypeError, ValueError):
                pass

    work()
    gc.collect()
    tracemalloc.start()
    work()
    gc.collect()
    first = tracemalloc.get_traced_memory()[0]
    for _ in range(20):
        work()
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - first
    tracemalloc.stop()
    assert grown < 20_000, grown


def test_object_ring_in_a_cycle_is_collected():
    gc.collect()
    r = Ring("O")
    holder = [r]
    r.append(holder)
    r.append(r)
    wr = weakref.ref(r)
    del r, holder
    gc.collect()
    assert wr() is None


def test_deeply_nested_rings_free_without_recursion():
    outer = Ring("O")
    for _ in range(200_000):
        outer = Ring("O", [outer])
    del outer  # would overflow the C stack without the trashcan


def test_gc_sees_items():
    item = []
    r = Ring("O", [item])
    assert item in gc.get_referents(r)


def test_exports():
    assert thrifty.Ring is Ring and "Ring" in thrifty.__all__


# ---- regressions from the review of the binding -------------------------------------------------------------------


def test_mutation_during_remove_raises_index_error_like_deque():
    class Evil:
        def __eq__(self, other):
            target.append(9)
            return False

    for target in (Ring("O", maxlen=8), deque(maxlen=8)):
        target.extend([Evil(), 1])
        with pytest.raises(IndexError):
            target.remove(1)


def test_index_bounds_whose_index_shrinks_the_ring():
    class Shrinks:
        def __index__(self):
            r.clear()
            return 0

    for code in ("h", "O"):
        r = Ring(code, range(10))
        with pytest.raises(ValueError):  # was a read past the items for typed Rings
            r.index(5, Shrinks(), 10)


def test_setitem_value_whose_conversion_shrinks_the_ring():
    class Shrinks:
        def __index__(self):
            r.clear()
            return 7

    r = Ring("h", [1, 2, 3])
    with pytest.raises(IndexError):  # was a write through a NULL slot
        r[2] = Shrinks()
    assert list(r) == []


def test_insert_value_whose_conversion_changes_the_ring():
    class Clears:
        def __index__(self):
            r.clear()
            return 7

    r = Ring("h", [1, 2, 3])
    r.insert(2, Clears())  # the position is taken from the Ring as it is after the conversion
    assert list(r) == [7]

    class Fills:
        def __index__(self):
            r.append(0)
            return 7

    r = Ring("h", [1, 2], maxlen=3)
    with pytest.raises(IndexError):  # full by the time the item is ready: deque's error, nothing inserted
        r.insert(0, Fills())
    assert list(r) == [1, 2, 0]


def test_view_exporter_refuses_an_object_ring():
    r = Ring("q", [1, 2])
    a, b = r.views()
    exporter = a.obj
    a.release()
    b.release()
    r.__init__("O", [object()])
    with pytest.raises(BufferError):  # would expose object pointers as writable bytes
        memoryview(exporter)
    r.__init__("q", [5, 6])
    assert memoryview(exporter).tolist() == [5, 6]


def test_pop_takes_no_arguments():
    r = Ring("h", [1, 2])
    for name in ("pop", "popleft"):
        with pytest.raises(TypeError, match="takes no arguments"):
            getattr(r, name)(1)
        with pytest.raises(TypeError):
            getattr(r, name)(x=1)
    assert list(r) == [1, 2]


def test_views_kept_on_a_subclass_instance_are_collected():
    class Keeps(Ring):
        pass

    r = Keeps("h", [1, 2, 3])
    r.kept = r.views()  # a cycle: Ring -> __dict__ -> memoryview -> exporter -> Ring
    alive = weakref.ref(r)
    del r
    gc.collect()
    assert alive() is None


def test_item_conversion_that_reinitializes_the_ring():
    class Reinit:
        def __index__(self):
            r.__init__("O", [object()])
            return 1

    for call in (lambda: r.append(Reinit()), lambda: r.appendleft(Reinit()), lambda: r.insert(0, Reinit()),
                 lambda: r.__setitem__(0, Reinit()), lambda: r.extend([Reinit()])):
        r = Ring("h", [5])
        with pytest.raises(RuntimeError, match="re-initialized"):  # was an int16 stored as an object pointer
            call()
        assert r.typecode == "O" and len(r) == 1


def test_del_that_reinitializes_the_ring_while_it_is_cleared():
    class Reinit:
        def __del__(self):
            r.__init__("h", [1, 2])

    r = Ring("O", [Reinit(), object(), object()])
    r.clear()  # the old loop went on popping int16 items as references
    assert r.typecode == "h" and list(r) == [1, 2]


def test_std_follows_spread_not_magnitude():
    # found by hypothesis: int64 items near -2**63 lost ~11 bits when the deviation was taken in double
    kept = [-9223372021856304143, -9223372019856562701]
    r = Ring('q', kept, maxlen=2)
    assert math.isclose(r.std(), statistics.pstdev(kept), rel_tol=1e-12)
    assert math.isclose(Ring('Q', [2**64 - 1, 2**64 - 3]).std(ddof=1), statistics.stdev([2**64 - 1, 2**64 - 3]))


# ---- deque's behaviour that CPython's test_deque checks (tests/test_cpython_deque.py runs all of it) ----------------

def test_subclass_whose_new_returns_a_non_ring():
    # CPython bpo-31608: `*`, `+` and copy() call type(self)(...) and used its result as a Ring (a heap overflow).
    class X(Ring):
        pass

    d = X("O", [1, 2])
    X.__new__ = lambda cls, *args, **kwargs: [42]
    for call in (lambda: d * 42, lambda: d + Ring("O", [3]), d.copy, lambda: copy.copy(d)):
        with pytest.raises(TypeError, match="must return a Ring, not list"):
            call()
    assert list(d) == [1, 2]


@pytest.mark.parametrize("typecode", ["O", "h"])
def test_slots_and_dict_survive_pickle_and_copy(typecode):
    global _RingWithSlots  # pickle finds classes by module-level name
    class _RingWithSlots(Ring):  # noqa: N801
        __slots__ = ("x", "y", "__dict__")

    r = _RingWithSlots(typecode, [1, 2], 5)
    r.x, r.z = 10, 30  # one slot set, one left empty, one __dict__ entry
    for dup in (pickle.loads(pickle.dumps(r)), copy.deepcopy(r)):
        assert type(dup) is _RingWithSlots and list(dup) == [1, 2] and dup.maxlen == 5
        assert dup.x == 10 and dup.z == 30 and not hasattr(dup, "y")
    shallow = copy.copy(r)  # as deque's copy: the type and the items (a subclass's attributes are its own business)
    assert type(shallow) is _RingWithSlots and list(shallow) == [1, 2]


@pytest.mark.parametrize("direction", [iter, reversed])
def test_iterators_pickle_and_remake(direction):
    r = Ring("O", range(6))
    it = direction(r)
    assert list(type(it)(r)) == list(direction(range(6)))  # type(reversed(r))(r) runs backwards, as for deque
    assert list(type(it)(r, 2)) == list(direction(range(6)))[2:]
    next(it)
    next(it)
    for proto in range(pickle.HIGHEST_PROTOCOL + 1):
        again, ring = pickle.loads(pickle.dumps((it, r), proto))
        assert type(again) is type(it) and list(ring) == list(r)
        assert list(again) == list(direction(range(6)))[2:]
    assert list(copy.deepcopy(it)) == list(direction(range(6)))[2:]
    with pytest.raises(TypeError):
        type(it)([1, 2])  # only a Ring


def test_index_and_in_report_a_match_even_when_that_comparison_changed_the_ring():
    # deque returns the match found by an __eq__ that mutated it (index, `in`); count and remove raise.
    class Grows:
        def __eq__(self, other):
            r.append(0)
            return True

    r = Ring("O", [Grows(), 1])
    assert r.index(5) == 0
    r = Ring("O", [Grows(), 1])
    assert 5 in r
    r = Ring("O", [Grows(), 1])
    with pytest.raises(RuntimeError):
        r.count(5)
    r = Ring("O", [Grows(), 1])
    with pytest.raises(IndexError):
        r.remove(5)


@pytest.mark.parametrize("tc", ["b", "B", "h", "H", "i", "I", "q", "Q", "f", "d", "O"])
def test_full_window_append_drops_the_oldest_like_deque(tc):
    """The fixed window of the latest samples (always full) has its own fast path: same items as deque's, from
    either end, for every typecode, ints into float rings included."""
    import collections
    r, d = Ring(tc, maxlen=5), collections.deque(maxlen=5)
    for i in range(23):
        v = i if tc != "O" else str(i)
        (r.append if i % 4 else r.appendleft)(v)
        (d.append if i % 4 else d.appendleft)(v)
        assert list(r) == list(d)
    assert all(type(x) is float for x in Ring("d", [1, 2], maxlen=2))


def test_a_dropped_items_finalizer_finds_the_ring_consistent():
    """Dropping the oldest 'O' item runs its finalizer: it may use the Ring, which already holds the new item."""
    seen = []

    class Tracked:
        def __del__(self):
            seen.append((list(r)[-1], len(r)))
            r.append("from __del__")  # re-enters the full-window path while the outer append returns

    r = Ring("O", [Tracked(), 1, 2], maxlen=3)
    r.append(3)
    assert seen == [(3, 3)]
    assert list(r) == [2, 3, "from __del__"]


@pytest.mark.parametrize("how", ["clear", "reinit", "popleft", "views", "appendleft"])
def test_a_dropped_items_finalizer_may_change_the_ring_during_the_overwrite(how):
    """The full-window append drops the oldest 'O' item and only then releases it: its __del__ may clear the Ring,
    re-initialize it with a typed typecode, pop, hold views or append at the other end, and nothing crashes."""
    held = []

    class Hostile:
        def __del__(self):
            if held:  # only the first finalizer of a round acts, so the old Ring's leftovers cannot interfere
                return
            held.append(None)
            if how == "clear":
                r.clear()
            elif how == "reinit":
                r.__init__("h", [7, 8], 2)
            elif how == "popleft":
                held.append(r.popleft())
            elif how == "views":  # a typed Ring whose storage is exported: appends must now refuse
                r.__init__("h", [7, 8], 2)
                held.append(r.views())
            else:
                r.appendleft("left")

    for append in ("append", "appendleft"):
        r = Ring("O", [Hostile(), 1, Hostile()], maxlen=3)
        held.clear()
        getattr(r, append)("new")  # drops a Hostile: its __del__ runs after the Ring took "new"
        if how == "views":
            with pytest.raises(BufferError):
                getattr(r, append)(9)
            assert list(r) == [7, 8]
            for view in held[1]:
                view.release()
        if how in ("reinit", "views"):
            getattr(r, append)(9)
            assert r.typecode == "h" and 9 in r and len(r) == 2
            with pytest.raises(TypeError):
                getattr(r, append)("newer")
            continue
        getattr(r, append)("newer")  # the Ring as the finalizers left it (the old Ring's die here too)
        assert len(r) <= 3 and list(r) == [r[i] for i in range(len(r))]


def test_full_window_append_refuses_while_views_are_alive():
    r = Ring("h", range(4), maxlen=4)
    a, b = r.views()
    for call in (lambda: r.append(5), lambda: r.appendleft(5), lambda: r.append(2**40), lambda: r.append(True)):
        with pytest.raises((BufferError, OverflowError)):  # a wide int may be refused for its range first
            call()
    assert list(r) == [0, 1, 2, 3]
    a.release()
    with pytest.raises(BufferError):
        r.append(5)
    b.release()
    r.append(5)
    assert list(r) == [1, 2, 3, 5]


@pytest.mark.parametrize("tc", ["b", "B", "h", "H", "i", "I", "l", "L", "q", "Q", "f", "d"])
def test_full_window_append_takes_wide_ints_bools_and_refuses_out_of_range(tc):
    """Ints wider than one digit (|v| >= 2**30) and int subclasses leave the fast path; the results are array's."""
    import array
    info = {"b": 8, "B": 8, "h": 16, "H": 16, "i": 32, "I": 32, "q": 64, "Q": 64,
            "l": 8 * array.array("l").itemsize, "L": 8 * array.array("L").itemsize}
    r = Ring(tc, [0, 0], maxlen=2)
    if tc in "fd":
        for v in (2**40, -2**40, 2**70, True, 3, 1.5):
            r.append(v)
            assert r[-1] == array.array(tc, [v])[0]
        with pytest.raises(OverflowError):
            r.append(2**1100)
        return
    bits = info[tc]
    lo, hi = (0, 2**bits - 1) if tc.isupper() else (-2**(bits - 1), 2**(bits - 1) - 1)
    for v in (lo, hi, lo + 1, hi - 1, True, 2**29, -2**29, 2**30, -2**30, 2**40, -2**40):
        if lo <= v <= hi:
            r.append(v)
            assert r[-1] == v
        else:
            with pytest.raises(OverflowError):
                r.append(v)
    for v in (lo - 1, hi + 1):
        with pytest.raises(OverflowError):
            r.append(v)
    assert len(r) == 2
