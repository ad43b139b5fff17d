"""Block item access: differential against a same-length bytearray, plus what only a fixed-size, releasable buffer
has (length-changing assignments refused, every access refused once released, nothing allocated per item)."""
import ctypes
from itertools import repeat

import pytest
from hypothesis import event, given, settings, strategies as st

import thrifty
from thrifty import Pool


def acquired(content):
    pool = Pool(len(content), 1)
    b = pool.acquire()
    b[:] = content
    return pool, b


def outcome(f):
    """(result, None) or (None, the exception)."""
    try:
        return f(), None
    except Exception as e:  # noqa: BLE001 - the test compares exception types on both sides
        return None, e


# ---- differential ----------------------------------------------------------------------------------------

MAX = 24
indices = st.integers(-MAX - 3, MAX + 3) | st.sampled_from([10**30, -(10**30), True])
slices = st.builds(slice, st.none() | indices, st.none() | indices, st.none() | st.integers(-4, 4))
keys = indices | slices


def byte_sources(draw_bytes):
    """The same bytes as each form bytearray accepts for slice assignment."""
    return st.sampled_from([bytes, bytearray, memoryview, list, lambda x: memoryview(bytes(x) * 2)[::2]]).map(
        lambda form: form(draw_bytes))


@st.composite
def operations(draw, size):
    kind = draw(st.sampled_from(["get", "set", "del", "in", "iter"]))
    if kind == "get":
        return kind, draw(keys)
    if kind == "del":
        return kind, draw(keys)
    if kind == "iter":
        return (kind,)
    if kind == "in":
        return kind, draw(st.integers(-2, 257) | st.binary(max_size=3) | st.just("a"))
    key = draw(keys)
    if isinstance(key, slice):
        fits = len(range(size)[key]) if key.step != 0 else 0
        n = draw(st.sampled_from([fits, fits, fits, draw(st.integers(0, size + 2))]))
        data = draw(st.binary(min_size=n, max_size=n))
        value = draw(byte_sources(data) | st.sampled_from([3, "ab", [1, 300], object()]))
    else:
        value = draw(st.integers(-2, 258) | st.sampled_from([10**30, "a", 1.0, True]))
    return kind, key, value


def apply(target, op):
    kind = op[0]
    if kind == "get":
        return target[op[1]]
    if kind == "set":
        target[op[1]] = op[2]
        return None
    if kind == "del":
        del target[op[1]]
        return None
    if kind == "in":
        return op[1] in target
    return list(target)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_differential_against_bytearray(data):
    content = data.draw(st.binary(min_size=1, max_size=MAX))
    pool, b = acquired(content)
    ref = bytearray(content)
    for op in data.draw(st.lists(operations(len(content)), max_size=12)):
        before = bytearray(ref)
        want, want_exc = outcome(lambda: apply(ref, op))
        got, got_exc = outcome(lambda: apply(b, op))
        if op[0] == "del":
            # A Block never changes size: every deletion is refused, whatever bytearray would have done.
            assert isinstance(got_exc, TypeError) and "fixed" in str(got_exc)
            ref[:] = before
        elif want_exc is None and len(ref) != len(before):
            # bytearray grew or shrank (a slice assignment of another length); a Block refuses and keeps its bytes.
            assert isinstance(got_exc, ValueError), (op, got_exc)
            n, given_n = len(range(len(before))[op[1]]), len(bytes(op[2]))
            assert f"{given_n} bytes given for a slice of {n} bytes" in str(got_exc), (op, got_exc)
            ref[:] = before
        else:
            assert type(got_exc) is type(want_exc), (op, got_exc, want_exc)
            if want_exc is None:
                if isinstance(want, bytearray):
                    assert type(got) is bytes  # slices are copies, as bytes (docs/buffers.md says why)
                    want = bytes(want)
                assert got == want, op
            elif isinstance(want_exc, IndexError):
                n = len(content)
                assert f"valid indices are -{n}..{n - 1} for a Block of {n} bytes" in str(got_exc)
        event(f"{op[0]}: {type(got_exc).__name__ if got_exc else 'ok'}")
        assert bytes(b) == bytes(ref), op
    b.release()
    pool.close()


# ---- explicit cases --------------------------------------------------------------------------------------

def test_reads_and_writes_like_bytearray():
    pool, b = acquired(b"hello")
    assert (b[0], b[-1], b[1:3], b[::-1], b[::2]) == (104, 111, b"el", b"olleh", b"hlo")
    assert type(b[1:3]) is bytes
    b[0] = ord("j")
    b[1:3] = [65, 66]
    b[::2] = memoryview(b"xyz")
    assert bytes(b) == b"xAylz"
    assert list(b) == list(b"xAylz") and list(reversed(b)) == list(b"zlyAx")
    assert 65 in b and b"yl" in b and memoryview(b"lz") in b and b"" in b and 0 not in b and b"zx" not in b
    pool.close()


def test_messages_name_lengths_and_range():
    pool, b = acquired(b"abcd")
    with pytest.raises(IndexError, match=r"Block index 4 out of range: valid indices are -4\.\.3 for a Block of 4 bytes"):
        b[4]
    with pytest.raises(IndexError, match=r"Block index -5 out of range: valid indices are -4\.\.3 "):
        b[-5] = 1
    with pytest.raises(IndexError, match=r"Block index 1000000000000000000000 out of range: valid indices are -4\.\.3 "):
        b[10**21]
    with pytest.raises(ValueError, match=r"3 bytes given for a slice of 2 bytes"):
        b[0:2] = b"xyz"
    with pytest.raises(ValueError, match=r"0 bytes given for a slice of 2 bytes"):
        b[::2] = b""
    with pytest.raises(ValueError, match=r"range\(0, 256\), got 256"):
        b[0] = 256
    with pytest.raises(ValueError, match=r"range\(0, 256\), got -1"):
        b[5] = -1  # the value is checked before the index, as bytearray does
    with pytest.raises(TypeError, match="cannot be interpreted as an integer"):
        b[0] = "a"
    with pytest.raises(TypeError, match="can assign only bytes, buffers, or iterables of ints.* not str"):
        b[0:1] = "a"
    with pytest.raises(TypeError, match="Block indices must be integers or slices, not str"):
        b["a"]
    with pytest.raises(TypeError, match="Block does not support item deletion: its size is fixed at 4 bytes"):
        del b[0]
    with pytest.raises(TypeError, match="item deletion"):
        del b[:]
    assert bytes(b) == b"abcd"  # nothing half-changed
    pool.close()


def test_overlapping_assignment_from_itself_matches_bytearray():
    content = bytes(range(1, 10))
    for key, src in [(slice(None, None, -1), lambda x: x), (slice(None, None, 2), lambda x: memoryview(x)[1:6]),
                     (slice(1, None), lambda x: memoryview(x)[:-1]), (slice(None, -1), lambda x: memoryview(x)[1:]),
                     (slice(-1, None, -2), lambda x: memoryview(x)[:5])]:
        pool, b = acquired(content)
        ref = bytearray(content)
        ref[key] = bytes(src(ref))  # bytearray copies any source that is not itself a bytearray
        b[key] = src(b)
        assert bytes(b) == bytes(ref), key
        b.release()  # the source's export was dropped
        pool.close()


def test_sequence_protocol_from_c_counts_from_the_end_once():
    pool, b = acquired(b"abcd")
    get = ctypes.pythonapi.PySequence_GetItem
    get.argtypes, get.restype = [ctypes.py_object, ctypes.c_ssize_t], ctypes.py_object
    assert [get(b, i) for i in (0, 3, -1, -4)] == [97, 100, 100, 97]
    for i in (4, -5):  # -5 + len() is -1: out of range, not b[-1]
        with pytest.raises(IndexError, match="out of range"):
            get(b, i)
    pool.close()


def test_index_objects():
    class Two:
        def __index__(self):
            return 2

    pool, b = acquired(b"abc")
    b[Two()] = Two()
    assert b[Two()] == 2 and b[True] == 98 and b[Two():] == b"\x02"
    pool.close()


def test_released_block_refuses_item_access():
    pool, b = acquired(b"abcd")
    b.release()
    for access in (lambda: b[0], lambda: b[-1], lambda: b[9], lambda: b[1:2], lambda: b["x"],
                   lambda: b.__setitem__(0, 1), lambda: b.__setitem__(0, 999), lambda: b.__setitem__(slice(0, 1), b"x"),
                   lambda: b.__delitem__(0), lambda: 1 in b, lambda: b"a" in b, lambda: list(b), lambda: iter(b)):
        with pytest.raises(ValueError, match="block was released"):
            access()
    pool.close()
    with pytest.raises(ValueError, match="block was released"):
        b[0]


class Releasing:
    """Ends the block's loan (or closes its pool) when Python code runs during a conversion."""

    def __init__(self, block, pool, closing):
        self.block, self.pool, self.closing = block, pool, closing

    def drop(self):
        if self.closing:
            self.pool.close()
        elif not self.block.released:
            self.block.release()


class ReleasingIndex(Releasing):
    def __index__(self):
        self.drop()
        return 1


class ReleasingBytes(Releasing):
    def __iter__(self):
        self.drop()
        return iter([1])


@pytest.mark.parametrize("closing", [False, True])
def test_conversion_that_releases_the_block_is_caught(closing):
    accesses = [
        lambda b, i, v: b[i],
        lambda b, i, v: b.__setitem__(i, 1),
        lambda b, i, v: b.__setitem__(0, i),
        lambda b, i, v: b[i:],
        lambda b, i, v: b[::i],
        lambda b, i, v: b.__setitem__(slice(i, None, None), b"x"),
        lambda b, i, v: b.__setitem__(slice(0, 1), v),
        lambda b, i, v: b.__setitem__(slice(0, 2, 2), v),
        lambda b, i, v: i in b,
    ]
    for access in accesses:
        pool = Pool(2, 1)
        b = pool.acquire()
        with pytest.raises(ValueError, match="block was released"):
            access(b, ReleasingIndex(b, pool, closing), ReleasingBytes(b, pool, closing))
        pool.close()


def test_iteration_stops_when_released_midway():
    pool, b = acquired(b"abc")
    it = iter(b)
    assert next(it) == 97
    b.release()
    with pytest.raises(ValueError, match="block was released"):
        next(it)
    pool.close()


def test_item_access_allocates_nothing():
    pool, b = acquired(bytes(range(64)))
    ticks = repeat(None, 1000)  # made outside the guard: the loop itself must not allocate either
    with thrifty.no_alloc():
        for _ in ticks:
            b[63] = b[0]
            b[-2] = b[5]
            b[True] = 255
            x = b[-1]
    assert b[63] == x == 0 and b[1] == 255 and b[62] == 5
    pool.close()


def test_item_access_keeps_exports_balanced():
    pool, b = acquired(b"abcd")
    b[0:4] = b
    b[0:2] = memoryview(b)[2:]
    assert b"cd" in b and b in b
    b[::2] = memoryview(b)[1::2]
    list(b)
    b.release()  # would raise BufferError if an access had left an export behind
    pool.close()
