"""Pool and Block: O(1) reuse, stats, every misuse gets its exception, zero/canary modes, and no heap growth."""
import ctypes
import gc
import socket
import tracemalloc
from itertools import repeat
import weakref

import sys

import pytest

ON_64_BIT = pytest.mark.skipif(sys.maxsize < 2**62, reason="needs a 64-bit Py_ssize_t")

from heapcheck import heap_growth, transient_peak

import thrifty
from thrifty import Block, Pool, PoolExhausted




def test_acquire_gives_writable_block_of_block_size():
    pool = Pool(block_size=512, count=4)
    with pool.acquire() as buf:
        assert isinstance(buf, Block)
        assert len(buf) == 512
        m = memoryview(buf)
        assert not m.readonly and m.nbytes == 512
        m[:5] = b"hello"
        assert bytes(buf)[:5] == b"hello"
        m.release()
    assert buf.released


def test_recv_into_a_block():
    a, b = socket.socketpair()
    try:
        pool = Pool(64, 2)
        a.sendall(b"ping")
        with pool.acquire() as buf:
            n = b.recv_into(buf)
            assert bytes(memoryview(buf)[:n]) == b"ping"
    finally:
        a.close()
        b.close()


def test_blocks_are_reused_not_allocated():
    pool = Pool(32, 2)
    first = pool.acquire()
    first.release()
    again = pool.acquire()
    assert again is first  # the same Block object comes back
    again.release()


def test_stats_exactly_as_documented():
    pool = Pool(block_size=128, count=2)
    assert pool.stats() == {"block_size": 128, "count": 2, "in_use": 0, "high_water": 0, "acquired": 0,
                            "exhausted": 0}
    a = pool.acquire()
    b = pool.acquire()
    with pytest.raises(PoolExhausted):
        pool.acquire()
    a.release()
    assert pool.stats() == {"block_size": 128, "count": 2, "in_use": 1, "high_water": 2, "acquired": 2,
                            "exhausted": 1}
    b.release()
    assert pool.block_size == 128 and pool.count == 2 and not pool.closed


def test_exhausted_names_size_and_high_water():
    pool = Pool(16, 3)
    held = [pool.acquire() for _ in range(3)]
    with pytest.raises(PoolExhausted, match=r"3 blocks of 16 bytes.*high-water mark 3") as info:
        pool.acquire()
    assert isinstance(info.value, MemoryError)
    for b in held:
        b.release()


@pytest.mark.parametrize("args, kwargs, exc, msg", [
    ((0, 4), {}, ValueError, "block_size must be >= 1, got 0"),
    ((16, 0), {}, ValueError, "count must be >= 1, got 0"),
    ((16, -1), {}, ValueError, "count must be >= 1, got -1"),
    pytest.param((2**62, 2**40), {}, OverflowError, "do not fit", marks=ON_64_BIT),  # 32-bit: argument parsing
    pytest.param((1, 2**45), {}, MemoryError, r"cannot allocate 35184372088832 blocks of 1 bytes", marks=ON_64_BIT),  # 2**48 bytes: no machine
    (("16", 4), {}, TypeError, None),
    ((16,), {}, TypeError, None),
])
def test_bad_constructor_arguments(args, kwargs, exc, msg):
    with pytest.raises(exc, match=msg):
        Pool(*args, **kwargs)


def test_released_block_refuses_every_access():
    pool = Pool(8, 1)
    b = pool.acquire()
    b.release()
    for access in (len, bytes, memoryview, lambda x: x.release(), lambda x: x.__enter__(),
                   lambda x: thrifty.View(x)):
        with pytest.raises(ValueError, match="block was released"):
            access(b)
    assert "released" in repr(b)


def test_double_release_is_value_error():
    pool = Pool(8, 2)
    b = pool.acquire()
    pool.release(b)
    with pytest.raises(ValueError, match="block was released"):
        pool.release(b)
    with pytest.raises(ValueError, match="block was released"):
        b.release()
    assert pool.stats()["in_use"] == 0


def test_release_into_another_pool_is_value_error():
    p1, p2 = Pool(8, 1), Pool(8, 1)
    b = p1.acquire()
    with pytest.raises(ValueError, match="belongs to another Pool"):
        p2.release(b)
    assert p2.stats()["in_use"] == 0 and p1.stats()["in_use"] == 1
    p1.release(b)


def test_release_wants_a_block():
    with pytest.raises(TypeError, match="takes a Block"):
        Pool(8, 1).release(bytearray(8))


def test_release_while_memoryview_alive_is_buffer_error():
    pool = Pool(8, 1)
    b = pool.acquire()
    m = memoryview(b)
    with pytest.raises(BufferError, match="memoryview"):
        b.release()
    with pytest.raises(BufferError):
        with b:
            pass
    assert not b.released
    m.release()
    b.release()


def test_blocks_cannot_be_made_directly():
    with pytest.raises(TypeError):
        Block()


def test_close_and_context_manager():
    with Pool(16, 2) as pool:
        held = pool.acquire()
    assert pool.closed and held.released
    with pytest.raises(ValueError, match="closed Pool"):
        pool.acquire()
    with pytest.raises(ValueError, match="block was released"):
        held.release()
    pool.close()  # idempotent, like file.close()
    assert "closed" in repr(pool)


def test_close_refused_while_exported():
    pool = Pool(16, 2)
    b = pool.acquire()
    m = memoryview(b)
    with pytest.raises(BufferError):
        pool.close()
    assert not pool.closed and not b.released
    m.release()
    pool.close()
    assert b.released


def test_zero_clears_on_release():
    pool = Pool(32, 1, zero=True)
    b = pool.acquire()
    memoryview(b)[:] = b"\xaa" * 32
    b.release()
    b = pool.acquire()
    assert bytes(b) == bytes(32)
    b.release()


def test_without_zero_data_survives_except_the_link():
    pool = Pool(32, 1)
    b = pool.acquire()
    memoryview(b)[:] = b"\xaa" * 32
    b.release()
    b = pool.acquire()
    data = bytes(b)
    assert data[ctypes.sizeof(ctypes.c_size_t):] == b"\xaa" * (32 - ctypes.sizeof(ctypes.c_size_t))
    assert data[:ctypes.sizeof(ctypes.c_size_t)] == bytes(ctypes.sizeof(ctypes.c_size_t))  # no pointer leaks


def _address(block):
    arr = (ctypes.c_char * len(block)).from_buffer(block)
    addr = ctypes.addressof(arr)
    del arr
    gc.collect()
    return addr


def test_canary_detects_write_past_end():
    pool = Pool(24, 2, canary=True)
    b = pool.acquire()
    addr = _address(b)
    ctypes.memset(addr + 24, 0, 1)  # what a buggy C extension would do
    with pytest.raises(thrifty.CorruptData, match="written past its end"):
        b.release()
    assert b.released and pool.stats()["in_use"] == 0  # released anyway: the pool stays usable
    b = pool.acquire()
    b.release()  # guard restored


def test_canary_clean_use_is_silent():
    pool = Pool(24, 2, canary=True)
    for _ in range(100):
        with pool.acquire() as b:
            memoryview(b)[:] = b"\xff" * 24


def test_acquired_block_keeps_pool_alive():
    pool = Pool(16, 1)
    ref = weakref.ref(pool)
    b = pool.acquire()
    del pool
    gc.collect()
    assert ref() is not None
    b.release()
    del b
    assert ref() is None  # no cycle remains once nothing is out: refcounting frees it


def test_abandoned_cycle_is_collected():
    pool = Pool(16, 2)
    ref = weakref.ref(pool)
    b = pool.acquire()
    del pool, b
    gc.collect()
    assert ref() is None


def _idle(pool):
    """The loop of the tests below without their work: the same set-up (a bound method) and iterations."""
    def idle(n):
        acquire = pool.acquire
        for _ in repeat(None, n):
            pass
        return acquire
    return idle


def test_no_heap_growth_over_100k_cycles():
    pool = Pool(4096, 4)

    def cycles(n):
        for _ in range(n):
            b = pool.acquire()
            b.release()

    assert heap_growth(cycles, 100_000) == 0

    def tight(n):
        acquire = pool.acquire
        for _ in repeat(None, n):
            acquire().release()

    # acquire/release allocate nothing, not even briefly
    assert transient_peak(tight, 100_000) == transient_peak(_idle(pool), 100_000)


def test_with_statement_allocates_nothing_once_warm():
    # Block.__enter__/__exit__ bind to a method the pool keeps, re-pointed while nobody else holds it
    pool = Pool(64, 4)

    def with_loop(n):
        acquire = pool.acquire
        for _ in repeat(None, n):
            with acquire() as b:
                b[0] = 1

    # not even the two method objects, briefly
    assert transient_peak(with_loop, 10_000) == transient_peak(_idle(pool), 10_000)
    assert heap_growth(with_loop, 100_000) == 0


def test_held_with_methods_are_never_rebound():
    pool = Pool(16, 3)
    a, b = pool.acquire(), pool.acquire()
    exit_a, enter_b = a.__exit__, b.__enter__
    assert exit_a.__self__ is a and enter_b.__self__ is b
    with pool.acquire() as c:  # binds __enter__/__exit__ again: must not re-point the held ones
        with b:
            assert exit_a.__self__ is a and enter_b.__self__ is b
            assert enter_b() is b
    assert c.released and b.released and not a.released
    assert exit_a(None, None, None) is False
    assert a.released
    with pytest.raises(ValueError, match="block was released"):
        enter_b()
    assert exit_a.__name__ == "__exit__" and exit_a.__qualname__ == "Block.__exit__"
    assert "__exit__" in repr(exit_a) and "__enter__" in repr(Block.__enter__)


def test_with_methods_misuse_raises():
    pool = Pool(16, 2)
    b = pool.acquire()
    with pytest.raises(TypeError, match=r"takes no arguments \(1 given\)"):
        b.__enter__(1)
    with pytest.raises(TypeError, match="no keyword arguments"):
        b.__exit__(exc=None)
    with pytest.raises(TypeError, match="needs a Block argument, not int"):
        Block.__enter__(5)
    with pytest.raises(TypeError, match="needs a Block argument, not nothing"):
        Block.__exit__()
    with pytest.raises(TypeError, match="doesn't apply to a 'bytearray' object"):
        Block.__dict__["__enter__"].__get__(bytearray(1))
    assert Block.__enter__(b) is b  # the unbound form works like a method descriptor's
    assert Block.__exit__(b, None, None, None) is False and b.released
    with pytest.raises(TypeError, match="Pool.acquire\\(\\) takes no arguments"):
        pool.acquire(1)
    with pytest.raises(TypeError):
        pool.acquire(x=1)


def test_with_method_outlives_its_pool():
    pool = Pool(16, 1)
    ref = weakref.ref(pool)
    b = pool.acquire()
    exit_b = b.__exit__
    pool.close()  # empties the pool's method cache; the held method still works
    assert pool.closed and b.released
    with pytest.raises(ValueError, match="block was released"):
        exit_b(None, None, None)
    del pool, b
    gc.collect()
    assert ref() is None
    with pytest.raises(ValueError, match="block was released"):
        exit_b(None, None, None)


def test_with_cache_does_not_keep_an_unused_pool_alive():
    pool = Pool(16, 2)
    ref = weakref.ref(pool)
    with pool.acquire():
        pass
    del pool
    assert ref() is None  # refcounting alone: the cached methods hold a free block, which holds no pool



def _release_one_way(pool, b, how):
    """Release a block the way `how` says: its own release(), the pool's, or leaving a with-statement."""
    if how == 0:
        b.release()
    elif how == 1:
        pool.release(b)
    else:
        with b:
            pass


@pytest.mark.parametrize("zero", [False, True])
def test_release_paths_against_a_model(zero):
    """Release's inline path tests one word that sums the block's exports, whether it is released and whether its
    pool has flags (cpython/buffers.h): random acquires, releases (three ways), exports and double releases, checked
    after every step against what each block and the stats must say."""
    import random

    rng = random.Random(16)
    pool = Pool(16, 4, zero=zero)
    out = {}  # block -> list of live memoryviews
    released = []
    acquired = most = 0
    for _ in range(3000):
        op = rng.randrange(6)
        if op == 0 and len(out) < 4:
            b = pool.acquire()
            assert not b.released and b not in out
            assert bytes(b[:8]) == bytes(8)  # the link never reaches the user
            assert not zero or bytes(b) == bytes(16)  # a zero pool's release cleared it
            b[8:] = b"\xaa" * 8
            out[b] = []
            acquired += 1
            most = max(most, len(out))
        elif op == 1 and out:
            b = rng.choice(list(out))
            out[b].append(memoryview(b))
        elif op == 2 and out:
            b = rng.choice(list(out))
            if out[b]:
                out[b].pop(rng.randrange(len(out[b]))).release()
        elif op == 3 and out:
            b = rng.choice(list(out))
            how = rng.randrange(3)
            if out[b]:
                with pytest.raises(BufferError):
                    _release_one_way(pool, b, how)
                assert not b.released
            else:
                data = memoryview(b).tobytes() if how != 2 else None
                _release_one_way(pool, b, how)
                assert b.released
                assert data is None or data[8:] == b"\xaa" * 8
                del out[b]
                released.append(b)
        elif op == 4 and released:
            b = rng.choice(released)
            if b not in out:
                with pytest.raises(ValueError, match="released"):
                    b.release()
                with pytest.raises(ValueError, match="released"):
                    memoryview(b)
        elif op == 5 and len(out) == 4:
            with pytest.raises(PoolExhausted):
                pool.acquire()
        s = pool.stats()
        assert (s["in_use"], s["acquired"], s["high_water"]) == (len(out), acquired, most)
    for views in out.values():
        for m in views:
            m.release()
    for b in out:
        b.release()
    if zero:  # every block went back cleared: the flagged release never took the inline path
        held = [pool.acquire() for _ in range(4)]
        assert all(bytes(b) == bytes(16) for b in held)
