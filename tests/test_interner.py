"""thrifty.Interner: one canonical instance per strictly-equal value; stats; weak mode."""
import gc
import math
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import thrifty

atoms = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(), st.binary())
values = st.recursive(atoms, lambda k: st.one_of(st.tuples(k, k), st.lists(k).map(tuple), st.frozensets(k)), max_leaves=20)


def strict_key(v):
    """What 'equal' means for the interner: same types all the way down, floats by their bits."""
    if isinstance(v, float):
        return ("float", math.copysign(1, v), v.hex())
    if isinstance(v, tuple):
        return ("tuple", tuple(strict_key(x) for x in v))
    if isinstance(v, frozenset):
        return ("frozenset", frozenset(strict_key(x) for x in v))
    return (type(v).__name__, v)


def copy_of(v):
    """An equal value made of fresh objects (where CPython lets us)."""
    if isinstance(v, str):
        return "".join(list(v)) if len(v) > 1 else v
    if isinstance(v, bytes):
        return bytes(bytearray(v))
    if isinstance(v, int) and not isinstance(v, bool):
        return int(str(v))
    if isinstance(v, float):
        return float.fromhex(v.hex()) if not math.isnan(v) else v
    if isinstance(v, tuple):
        return tuple(copy_of(x) for x in v)
    if isinstance(v, frozenset):
        return frozenset(copy_of(x) for x in v)
    return v


def ambiguous(v):
    """A frozenset holding two elements with one strict key (two NaNs with the same bits, which are never == so the
    set keeps both) has no single strict value: which of its equal copies is canonical is not defined, only that the
    value is kept (test_frozenset_of_same_bits_nans_keeps_its_size)."""
    if isinstance(v, tuple):
        return any(ambiguous(x) for x in v)
    if isinstance(v, frozenset):
        return len({strict_key(x) for x in v}) < len(v) or any(ambiguous(x) for x in v)
    return False


@given(st.lists(values, max_size=20))
@settings(max_examples=300, deadline=None)
def test_canonical_by_strict_equality(vs):
    it = thrifty.Interner()
    canon = {}
    for v in vs + [copy_of(v) for v in vs]:
        c = it.intern(v)
        assert strict_key(c) == strict_key(v)
        k = strict_key(v)
        if k in canon and not ambiguous(v):
            assert c is canon[k]
        canon[k] = c


def test_strictness():
    it = thrifty.Interner()
    assert it.intern(1) is not it.intern(1.0)
    assert type(it.intern(1.0)) is float
    assert math.copysign(1, it.intern(-0.0)) == -1 and math.copysign(1, it.intern(0.0)) == 1
    assert it.intern((1,)) is not it.intern((1.0,))
    assert type(it.intern(frozenset({1.0})).__iter__().__next__()) is float
    nan = float("nan")
    assert it.intern(nan) is nan and it.intern(float("nan")) is nan


def test_frozenset_of_same_bits_nans_keeps_its_size():
    it = thrifty.Interner()
    a, b = float("nan"), float("nan")
    fs = frozenset([a, b])  # two elements: NaN is never == NaN, so the set keeps both objects
    got = it.intern(fs)
    assert got is fs and len(got) == 2
    # which of a, b became the canonical NaN depends on set order (NaN hashes by identity): check the value only
    one = it.intern(frozenset([a]))
    assert len(one) == 1 and math.isnan(next(iter(one)))


def test_hit_survives_a_finalizer_that_clears_the_table():
    # sizing the duplicate on a hit allocates; a collection it triggers may run a finalizer that empties the table
    it = thrifty.Interner()

    class Clears:
        def __del__(self):
            it.clear()
            for i in range(200):
                it.intern("\u00e9%d" % i)

    a = "\u00e9" * 30  # non-ASCII: sized by a __sizeof__ call, not a fast path
    old = gc.get_threshold()
    try:
        for _ in range(50):
            it.intern(a)
            b = "".join(["\u00e9"] * 30)
            c = Clears()
            c.self = c
            del c
            gc.set_threshold(1)
            got = it.intern(b)
            gc.set_threshold(*old)
            assert got == b
    finally:
        gc.set_threshold(*old)


def test_stats_and_len():
    it = thrifty.Interner()
    a = "reading:" + "x" * 100
    b = "".join(["reading:", "x" * 100])
    assert it.intern(a) is a
    assert it.intern(b) is a
    st_ = it.stats()
    assert st_ == {"hits": 1, "misses": 1, "bytes_saved": sys.getsizeof(b), "entries": 1}
    assert len(it) == 1
    it.clear()
    assert len(it) == 0


def test_nested_elements_shared():
    it = thrifty.Interner()
    t1 = it.intern(("sensor-" + "a" * 40, 1.5))
    t2 = it.intern(("".join(["sensor-", "a" * 40]), float("1.5")))
    assert t1 is t2
    s = it.intern("".join(["sensor-", "a" * 40]))
    assert s is t1[0]


@pytest.mark.parametrize("bad", [[1], {1: 2}, bytearray(b"x"), (1, [2]), frozenset({(1, 2)}) | {object()}])
def test_rejects_mutable_or_unknown(bad):
    with pytest.raises(TypeError, match="cannot intern"):
        thrifty.Interner().intern(bad)


def test_rejects_subclasses():
    class S(str):
        pass

    with pytest.raises(TypeError, match="exact types"):
        thrifty.Interner().intern(S("x"))


def test_strong_keeps_alive():
    it = thrifty.Interner()
    it.intern("".join(["k"] * 100))
    assert it.purge() == 1 and len(it) == 0  # purge works in strong mode too, on request
    it.intern("".join(["k"] * 100))
    for i in range(1000):
        it.intern(str(i) * 10)
    assert len(it) == 1001


def test_weak_never_sole_keeper():
    it = thrifty.Interner(weak=True)
    assert it.weak
    keep = [it.intern(("".join(["w"] * 50), i)) for i in range(10)]
    for i in range(10_000):
        it.intern((str(i) * 5, i + 1000))  # nothing else holds these
    # the table grew many times; each growth swept what only the interner held
    assert len(it) < 3000
    it.purge()
    assert len(it) == len({id(x) for x in keep}) + len({id(x[0]) for x in keep}) + 10
    assert all(it.intern(("".join(["w"] * 50), i)) is keep[i] for i in range(10))



# Fresh objects each call (not constants the code object would keep alive), and entries each value makes.
WEAK_KINDS = {
    "str": (lambda i: "".join(["weak-str-", str(i), "x" * 40]), 1),
    "int": (lambda i: 10**30 + i, 1),
    "tuple": (lambda i: ("".join(["weak-tuple-", str(i)]), 10**40 + i), 3),  # the tuple, its str, its int
}


@pytest.mark.parametrize("kind", sorted(WEAK_KINDS))
def test_weak_len_exact_when_last_outside_reference_goes(kind):
    make, per = WEAK_KINDS[kind]
    it = thrifty.Interner(weak=True)
    a = it.intern(make(1))
    b = it.intern(make(2))
    assert len(it) == 2 * per
    del a  # the interner is now a's only holder: len must stop counting it at once, without purge()
    assert len(it) == per
    assert it.stats()["entries"] == per
    assert f"entries={per}," in repr(it)
    assert it.intern(make(2)) is b  # what is still held elsewhere stays canonical
    del b
    assert len(it) == 0 and it.stats()["entries"] == 0 and not it
    it.intern(make(2))  # re-interned, and the result dropped at once: only the interner holds it
    assert len(it) == 0  # (not in one assert with the call: pytest's rewriting keeps the result alive)


def test_strong_len_counts_entries_nobody_else_holds():
    it = thrifty.Interner()
    it.intern("".join(["strong-", "y" * 40]))
    it.intern(10**30 + 1)
    assert len(it) == 2 and it.stats()["entries"] == 2


def test_weak_sweep_keeps_every_probe_chain():
    # drop an arbitrary two thirds of a crowded table (dropping moves later entries of a cluster back):
    # every survivor must still be found, every dropped value must come back as a new entry
    it = thrifty.Interner(weak=True)
    vals = [it.intern("".join(["chain-", str(i)])) for i in range(3000)]
    kept = {i: v for i, v in enumerate(vals) if i % 3 == 1}
    del vals
    assert len(it) == len(kept)
    for i in range(3000):
        got = it.intern("".join(["chain-", str(i)]))
        if i in kept:
            assert got is kept[i]
        else:
            assert got == "".join(["chain-", str(i)])
    del got
    st_ = it.stats()
    assert st_["hits"] == len(kept) and st_["entries"] == len(kept)

def test_gc_and_repr():
    it = thrifty.Interner()
    it.intern("x")
    assert "entries=1" in repr(it)
    assert thrifty.Interner(weak=True).__repr__().endswith("weak=True)")
    gc.collect()
    assert sys.getsizeof(it) > sys.getsizeof(thrifty.Interner())


def test_references_released():
    s = "".join(["released-", "z" * 60])
    t = ("".join(["tuple-", "q" * 60]), 10**30)
    before = sys.getrefcount(s), sys.getrefcount(t), sys.getrefcount(t[1])
    it = thrifty.Interner()
    for _ in range(100):
        assert it.intern(s) is s and it.intern(t) is t
    it.stats()
    del it
    gc.collect()
    assert (sys.getrefcount(s), sys.getrefcount(t), sys.getrefcount(t[1])) == before
