"""ObjectPool: prefilled, lends in O(1), reset on return, every misuse gets its exception, GC-aware."""
import gc
import tracemalloc
import weakref

import sys

import pytest

ON_64_BIT = pytest.mark.skipif(sys.maxsize < 2**62, reason="needs a 64-bit Py_ssize_t")

from heapcheck import heap_growth

from thrifty import ObjectPool, PoolExhausted




def zeroing(b):
    b[:] = bytes(len(b))


def test_prefilled_with_size_objects():
    made = []
    pool = ObjectPool(factory=lambda: made.append(bytearray(8)) or made[-1], size=3)
    assert len(made) == 3 and pool.size == 3
    assert pool.stats() == {"count": 3, "in_use": 0, "high_water": 0, "acquired": 0, "exhausted": 0}


def test_borrow_with_statement_returns_and_resets():
    pool = ObjectPool(factory=lambda: bytearray(256), size=8, reset=lambda b: b.__setitem__(slice(None), b"\0" * 256))
    with pool.borrow() as obj:
        assert isinstance(obj, bytearray)
        obj[0] = 7
        assert pool.stats()["in_use"] == 1
    assert obj == bytearray(256)  # reset ran on return
    assert pool.stats()["in_use"] == 0


def test_acquire_release_pairs_and_stats():
    pool = ObjectPool(list, 2)
    a = pool.acquire()
    b = pool.acquire()
    assert a is not b
    with pytest.raises(PoolExhausted, match=r"all 2 objects are borrowed \(high-water mark 2\)"):
        pool.acquire()
    with pytest.raises(PoolExhausted):
        pool.borrow()
    pool.release(a)
    pool.release(b)
    assert pool.stats() == {"count": 2, "in_use": 0, "high_water": 2, "acquired": 2, "exhausted": 2}


def test_objects_are_reused():
    pool = ObjectPool(dict, 1)
    first = pool.acquire()
    pool.release(first)
    assert pool.acquire() is first


def test_return_twice_is_value_error():
    pool = ObjectPool(bytearray, 2)
    obj = pool.acquire()
    pool.release(obj)
    with pytest.raises(ValueError, match="already returned"):
        pool.release(obj)
    loan = pool.borrow()
    loan.release()
    with pytest.raises(ValueError, match="loan was returned"):
        loan.release()
    with pytest.raises(ValueError, match="loan was returned"):
        loan.obj
    with pytest.raises(ValueError, match="loan was returned"):
        with loan:
            pass


def test_returning_a_foreign_object_is_value_error():
    pool = ObjectPool(bytearray, 2)
    with pytest.raises(ValueError, match="not owned by this pool"):
        pool.release(bytearray())
    other = ObjectPool(bytearray, 1)
    obj = other.acquire()
    with pytest.raises(ValueError, match="not owned by this pool"):
        pool.release(obj)
    assert pool.stats()["in_use"] == 0


def test_failing_reset_keeps_object_borrowed():
    calls = []

    def reset(obj):
        calls.append(obj)
        if len(calls) == 1:
            raise RuntimeError("boom")

    pool = ObjectPool(list, 1, reset=reset)
    obj = pool.acquire()
    with pytest.raises(RuntimeError):
        pool.release(obj)
    assert pool.stats()["in_use"] == 1
    pool.release(obj)  # second try succeeds
    assert pool.stats()["in_use"] == 0


def test_reset_returning_the_object_through_the_last_pool_reference():
    # A Loan only borrows its pool: if reset() returns the object itself and drops the last other reference to the
    # pool, the outer return must still find the pool alive (it used to read freed memory; ASan: make test-asan).
    holder = []

    def reset(obj):
        if holder:
            holder.pop().release(obj)

    pool = ObjectPool(list, 1, reset=reset)
    loan = pool.borrow()
    holder.append(pool)
    ref = weakref.ref(pool)
    del pool
    # the inner release is refused (the object is being returned), so reset fails and the object stays borrowed:
    # the loan still holds the pool
    with pytest.raises(ValueError, match="being returned"):
        loan.release()
    gc.collect()
    assert ref() is not None and ref().stats()["in_use"] == 1
    loan.release()  # reset does nothing now: returned, and the pool's last reference goes with it
    assert ref() is None
    with pytest.raises(ValueError, match="loan was returned"):
        loan.release()


@pytest.mark.parametrize("kwargs, exc, msg", [
    ({"factory": 3, "size": 1}, TypeError, "factory must be callable"),
    ({"factory": list, "size": 0}, ValueError, "size must be >= 1, got 0"),
    # 64-bit hosts (on 32-bit ones such sizes do not fit Py_ssize_t: argument parsing raises OverflowError)
    pytest.param({"factory": list, "size": 2**45}, MemoryError,
                 "cannot allocate the bookkeeping for 35184372088832 objects", marks=ON_64_BIT),
    pytest.param({"factory": list, "size": 2**62}, OverflowError,
                 r"size must be at most \d+, got 4611686018427387904", marks=ON_64_BIT),
    ({"factory": list, "size": 1, "reset": 5}, TypeError, "reset must be callable"),
    ({"factory": lambda: 1, "size": 2}, ValueError, "same int object twice"),
])
def test_bad_arguments(kwargs, exc, msg):
    with pytest.raises(exc, match=msg):
        ObjectPool(**kwargs)


def test_factory_error_propagates():
    def factory():
        raise KeyError("nope")

    with pytest.raises(KeyError):
        ObjectPool(factory, 3)


def test_gc_collects_pool_with_objects_out():
    pool = ObjectPool(list, 2)
    ref = weakref.ref(pool)
    obj = pool.acquire()
    loan = pool.borrow()
    del pool, loan
    gc.collect()
    assert ref() is None
    assert obj == []  # the object itself is still fine


def test_unused_pool_dies_by_refcount():
    pool = ObjectPool(list, 2)
    ref = weakref.ref(pool)
    with pool.borrow():
        pass
    del pool
    assert ref() is None


def test_pool_holding_itself_is_collected():
    holder = []
    pool = ObjectPool(lambda: holder, 1)
    holder.append(pool)
    ref = weakref.ref(pool)
    del pool, holder
    gc.collect()
    assert ref() is None


def test_no_heap_growth_over_100k_borrows():
    pool = ObjectPool(lambda: bytearray(64), 4, reset=zeroing)

    def cycles(n):
        for _ in range(n):
            with pool.borrow() as obj:
                obj[0] = 1
            o = pool.acquire()
            pool.release(o)

    assert heap_growth(cycles, 100_000) == 0


def test_acquire_and_borrow_take_no_arguments():
    pool = ObjectPool(list, 2)
    with pytest.raises(TypeError, match=r"ObjectPool.acquire\(\) takes no arguments \(1 given\)"):
        pool.acquire(1)
    with pytest.raises(TypeError, match=r"ObjectPool.borrow\(\) takes no arguments \(2 given\)"):
        pool.borrow(1, 2)
    with pytest.raises(TypeError, match="keyword"):
        pool.acquire(x=1)
    with pytest.raises(TypeError, match="keyword"):
        pool.borrow(x=1)
    assert pool.stats()["in_use"] == 0  # nothing was lent by the refused calls
