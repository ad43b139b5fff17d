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


# ---- the with-statement's methods: bound without allocating, as Block's (block.c, tf_with_ops) -----------------


def test_borrow_with_statement_allocates_nothing_once_warm():
    from heapcheck import transient_peak
    from itertools import repeat

    pool = ObjectPool(lambda: bytearray(8), 4)

    def with_loop(n):
        borrow = pool.borrow
        for _ in repeat(None, n):
            with borrow() as obj:
                obj[0] = 1

    def idle(n):
        borrow = pool.borrow
        for _ in repeat(None, n):
            pass

    # not even the two method objects, briefly
    assert transient_peak(with_loop, 10_000) == transient_peak(idle, 10_000)
    assert heap_growth(with_loop, 100_000) == 0


def test_held_loan_methods_are_never_rebound():
    pool = ObjectPool(lambda: [], 3)
    a, b = pool.borrow(), pool.borrow()
    exit_a, enter_b = a.__exit__, b.__enter__
    assert exit_a.__self__ is a and enter_b.__self__ is b
    with pool.borrow() as c_obj:  # binds __enter__/__exit__ again: must not re-point the held ones
        with b as b_obj:
            assert exit_a.__self__ is a and enter_b.__self__ is b
            assert enter_b() is b_obj
        assert c_obj is not b_obj
    assert pool.stats()["in_use"] == 1
    assert exit_a(None, None, None) is False
    assert pool.stats()["in_use"] == 0
    with pytest.raises(ValueError, match="loan was returned"):
        enter_b()
    with pytest.raises(ValueError, match="loan was returned"):
        exit_a(None, None, None)  # a double return through a held __exit__ is refused
    assert exit_a.__name__ == "__exit__" and exit_a.__qualname__ == "ObjectPool.Loan.__exit__"
    assert "__exit__" in repr(exit_a) and "ObjectPool.Loan" in repr(type(a).__enter__)


def test_loan_with_methods_misuse_raises():
    pool = ObjectPool(lambda: [], 2)
    loan = pool.borrow()
    Loan = type(loan)
    with pytest.raises(TypeError, match=r"takes no arguments \(1 given\)"):
        loan.__enter__(1)
    with pytest.raises(TypeError, match="no keyword arguments"):
        loan.__exit__(exc=None)
    with pytest.raises(TypeError, match="needs a ObjectPool.Loan argument, not int"):
        Loan.__enter__(5)
    with pytest.raises(TypeError, match="doesn't apply to a 'bytearray' object"):
        Loan.__dict__["__enter__"].__get__(bytearray(1))
    from thrifty import Pool

    block = Pool(8, 1).acquire()
    with pytest.raises(TypeError, match="needs a ObjectPool.Loan argument, not thrifty.Block"):
        Loan.__exit__(block, None, None, None)  # a Block's methods and a Loan's do not mix
    assert not block.released
    obj = Loan.__enter__(loan)
    assert Loan.__exit__(loan, None, None, None) is False
    assert pool.stats()["in_use"] == 0 and obj in [pool.acquire(), pool.acquire()]


def test_loan_with_method_outlives_its_pool():
    pool = ObjectPool(lambda: [], 1)
    ref = weakref.ref(pool)
    loan = pool.borrow()
    exit_loan = loan.__exit__  # the pool caches this very method object; holding it keeps the loan, not the pool
    del loan
    assert exit_loan(None, None, None) is False
    del pool  # its dealloc empties the method cache and lets the loans go
    assert ref() is None
    with pytest.raises(ValueError, match="loan was returned"):
        exit_loan(None, None, None)
    assert exit_loan.__self__ is not None


def test_loan_with_cache_does_not_keep_an_unused_pool_alive():
    pool = ObjectPool(lambda: [], 2)
    ref = weakref.ref(pool)
    with pool.borrow():
        pass
    del pool
    assert ref() is None  # refcounting alone: the cached methods hold a loan whose object is back, which holds no pool
