"""iter_chunks and lines: differential against file.read() / bytes.splitlines(), one View reused, bounded memory."""
import gc
import io
import os
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thrifty import Pool, View, iter_chunks, lines


class Trickle(io.RawIOBase):
    """A raw file that returns at most `step` bytes per readinto, to force lines across reads."""

    def __init__(self, data, step):
        self.data, self.pos, self.step = data, 0, step

    def readable(self):
        return True

    def readinto(self, b):
        n = min(len(b), self.step, len(self.data) - self.pos)
        b[:n] = self.data[self.pos:self.pos + n]
        self.pos += n
        return n


contents = st.lists(st.sampled_from([b"a", b"bc", b"\n", b"\r", b"\r\n", b"\x0b", b"\x0c", b"\x1c", b"\x85",
                                     b"xyz", b""]), max_size=60).map(b"".join)


def longest_line(data):
    return max((len(x) for x in data.splitlines(keepends=True)), default=0)


@settings(max_examples=400, deadline=None)
@given(contents, st.integers(2, 40), st.integers(1, 50), st.booleans(), st.booleans())
def test_lines_equal_splitlines(data, block, step, keepends, copy):
    it = lines(Trickle(data, step), block, keepends=keepends, copy=copy)
    expected = io.BytesIO(data).read().splitlines(keepends=keepends)  # file.read().splitlines(), literally
    if longest_line(data) > block:
        with pytest.raises(ValueError, match=f"longer than the {block}-byte block"):
            for _ in it:
                pass
        return
    got = [bytes(x) for x in it]
    assert got == expected


@settings(max_examples=300, deadline=None)
@given(contents, st.integers(2, 12), st.integers(1, 50))
def test_split_long_lines_into_pieces(data, block, step):
    pieces = [x for x in lines(Trickle(data, step), block, keepends=True, long_lines="split", copy=True)]
    assert b"".join(pieces) == data
    assert all(0 < len(p) <= block for p in pieces)
    # merging pieces up to each line end gives exactly the lines
    merged, cur = [], b""
    for p in pieces:
        cur += p
        if cur.endswith((b"\n", b"\r")):
            merged.append(cur)
            cur = b""
    if cur:
        merged.append(cur)
    assert merged == data.splitlines(keepends=True)


def test_lines_from_real_file_with_pool_block(tmp_path):
    path = tmp_path / "log.txt"
    data = b"".join(b"line %d\r\n" % i if i % 3 else b"row %d\n" % i for i in range(1000)) + b"tail"
    path.write_bytes(data)
    pool = Pool(64, 1)
    with open(path, "rb") as f, pool.acquire() as block:
        seen = [line.tobytes() for line in lines(f, block)]
    assert block.released  # the iterator let go of the block when it ended
    assert seen == data.splitlines()


def test_same_view_every_line():
    it = lines(io.BytesIO(b"a\nb\nc"), 8)
    first = next(it)
    assert isinstance(first, View)
    assert next(it) is first and next(it) is first
    assert bytes(first) == b"c"
    with pytest.raises(StopIteration):
        next(it)
    with pytest.raises(ValueError, match="View was released"):
        bytes(first)  # only valid while iterating: keep lines with copy=True or .tobytes()


def test_copy_yields_bytes():
    assert list(lines(io.BytesIO(b"a\r\nb"), 8, copy=True, keepends=True)) == [b"a\r\n", b"b"]


def test_line_longer_than_block():
    with pytest.raises(ValueError, match="longer than the 4-byte block; use a larger block or long_lines='split'"):
        list(lines(io.BytesIO(b"ab\nabcdefg\n"), 4))
    it = lines(io.BytesIO(b"abcdefgh\n"), 4)
    with pytest.raises(ValueError):
        next(it)
    with pytest.raises(StopIteration):  # the error ended the iteration
        next(it)
    # a line that fills the block exactly fits, whatever ends it
    for data in (b"abc\n", b"ab\r\n", b"abc\r", b"abcd", b"abc\rx", b"abcd\nx"):
        block = 4 if data not in (b"abcd\nx",) else 5
        assert [bytes(x) for x in lines(io.BytesIO(data), block, keepends=True)] == data.splitlines(True)
    def split(data, block):
        return list(lines(io.BytesIO(data), block, keepends=True, long_lines="split", copy=True))

    assert split(b"abcdef\r\nxy", 4) == [b"abcd", b"ef\r\n", b"xy"]
    assert split(b"abc\r\nxy", 4) == [b"abc", b"\r\n", b"xy"]  # "\r\n" is never cut in two
    assert split(b"abc\r\nxy", 3) == [b"abc", b"\r\n", b"xy"]


def test_memory_stays_one_block_for_long_lines_input():
    it = lines(io.BytesIO(b"x" * 10 + b"\n"), 16, copy=True)
    assert list(it) == [b"x" * 10]


@pytest.mark.parametrize("kwargs, exc, msg", [
    ({"file": io.BytesIO(), "block": b"read-only"}, TypeError, "needs a writable buffer"),
    ({"file": io.BytesIO(), "block": 0}, ValueError, "block size must be >= 1, got 0"),
    ({"file": io.BytesIO(), "block": 1}, ValueError, "at least 2 bytes, got 1"),
    ({"file": io.BytesIO(), "block": bytearray()}, ValueError, "block is empty"),
    ({"file": io.BytesIO(), "block": 3.5}, TypeError, "not float"),
    ({"file": io.StringIO(), "block": 8}, TypeError, "binary file-like object with readinto"),
    ({"file": io.BytesIO(), "block": 8, "long_lines": "wrap"}, ValueError, "'raise' or 'split', not 'wrap'"),
])
def test_lines_bad_arguments(kwargs, exc, msg):
    with pytest.raises(exc, match=msg):
        lines(**kwargs)


class Liar(io.RawIOBase):
    def __init__(self, result):
        self.result = result

    def readinto(self, b):
        return self.result


@pytest.mark.parametrize("result, exc, msg", [
    (99, OSError, "readinto\\(\\) returned 99 for a buffer of 8 bytes"),
    (-1, OSError, "returned -1"),
    (None, BlockingIOError, "non-blocking"),
    ("x", TypeError, None),
])
def test_bad_readinto_results(result, exc, msg):
    for make in (lambda f: lines(f, 8), lambda f: iter_chunks(f, 8)):
        with pytest.raises(exc, match=msg):
            next(make(Liar(result)))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.integers(1, 64), st.integers(1, 80))
def test_iter_chunks_reassembles_the_file(data, block, step):
    chunks = [bytes(c) for c in iter_chunks(Trickle(data, step), bytearray(block))]
    assert b"".join(chunks) == data
    assert all(0 < len(c) <= block for c in chunks)


def test_iter_chunks_views_and_blocks():
    buf = bytearray(4)
    it = iter_chunks(io.BytesIO(b"abcdefghij"), memoryview(buf))
    first = next(it)
    assert bytes(first) == b"abcd" and first.obj is not None
    assert next(it) is first and bytes(first) == b"efgh"
    assert list(iter_chunks(io.BytesIO(b"abcdefghij"), 4, copy=True)) == [b"abcd", b"efgh", b"ij"]
    with pytest.raises(TypeError, match="writable"):
        iter_chunks(io.BytesIO(), b"xx")


def test_close_lets_go_of_the_block():
    pool = Pool(8, 1)
    block = pool.acquire()
    it = lines(io.BytesIO(b"a\nb\n"), block)
    line = next(it)
    with pytest.raises(BufferError):
        block.release()
    it.close()
    assert line.released
    block.release()
    assert list(it) == []


def test_releasing_the_view_mid_iteration_is_an_error():
    it = lines(io.BytesIO(b"a\nb\n"), 8)
    next(it).release()
    with pytest.raises(ValueError, match="View was released during iteration"):
        next(it)


def test_full_pass_over_10mb_leaves_heap_unchanged(tmp_path):
    big, small = tmp_path / "big.log", tmp_path / "small.log"
    line = b"2026-11-24T00:00:00 INFO request handled in 12 ms path=/api/v1/items\n"
    with open(big, "wb") as f:
        for _ in range(10 * 1024 * 1024 // len(line) + 1):
            f.write(line)
    small.write_bytes(line * 3)
    assert os.path.getsize(big) >= 10 * 1024 * 1024
    block = bytearray(64 * 1024)

    def one_pass(path):
        n = 0
        with open(path, "rb", buffering=0) as f:
            for _ in lines(f, block):
                n += 1
        return n

    def measure(path):
        """(bytes kept after a pass, most bytes held at once during it), after a warm-up pass."""
        gc.collect()
        tracemalloc.start()
        try:
            one_pass(path)
            gc.collect()
            tracemalloc.reset_peak()
            before = tracemalloc.get_traced_memory()[0]
            one_pass(path)
            gc.collect()
            after, peak = tracemalloc.get_traced_memory()
            return after - before, peak - before
        finally:
            tracemalloc.stop()

    assert one_pass(big) > 150_000
    kept_big, peak_big = measure(big)
    kept_small, peak_small = measure(small)
    assert kept_big == kept_small  # 150k lines keep nothing more than 3 lines do
    assert peak_big - peak_small < 1024  # nothing per line, no second block: a transient int or two at most


class Hostile(io.RawIOBase):
    """readinto() that does something nasty with the iterator or the View it was handed, then reads."""

    def __init__(self, action):
        self.action, self.it, self.done = action, None, False

    def readinto(self, b):
        if not self.done:
            self.done = True
            self.action(self, b)
            if getattr(b, "released", False):
                return 2  # claim a read into the released View: the iterator must notice, not touch the block
        b[:2] = b"a\n"
        return 2


@pytest.mark.parametrize("make", [lambda f: lines(f, 8), lambda f: lines(f, 8, copy=True),
                                  lambda f: iter_chunks(f, 8), lambda f: iter_chunks(f, 8, copy=True)])
@pytest.mark.parametrize("action, exc, msg", [
    (lambda self, b: b.release(), ValueError, "View was released during iteration"),
    (lambda self, b: next(self.it), ValueError, "already executing"),
    (lambda self, b: self.it.close(), ValueError, "cannot close an iterator that is executing"),
])
def test_hostile_readinto_cannot_break_the_iterator(make, action, exc, msg):
    f = Hostile(action)
    f.it = make(f)
    with pytest.raises(exc, match=msg):
        next(f.it)
