"""View: a re-pointable zero-copy window; differential against memoryview slicing and bytes methods."""
import sys
from itertools import repeat

import pytest

from heapcheck import heap_growth, transient_peak
from hypothesis import given
from hypothesis import strategies as st

from thrifty import Pool, View




def test_basic_window_and_seek():
    buf = bytearray(b"hello world")
    v = View(buf)
    assert len(v) == 11 and bytes(v) == b"hello world" and v.offset == 0
    assert v.seek(6, 5) is None
    assert bytes(v) == b"world" and v.tobytes() == b"world" and v.offset == 6
    assert v[0] == ord("w") and v[-1] == ord("d") and v[1:3] == b"or" and v[::2] == b"wrd"
    assert memoryview(v).tobytes() == b"world"
    v.seek(0)  # length defaults to the rest
    assert len(v) == 11
    assert v.obj is buf and not v.readonly and not v.released


def test_constructor_window():
    v = View(b"abcdef", 2, 3)
    assert bytes(v) == b"cde" and v.readonly
    assert bytes(View(b"abcdef", offset=4)) == b"ef"


def test_writes_go_through_to_the_buffer():
    buf = bytearray(8)
    v = View(buf, 2, 4)
    v[0] = 0xFF
    v[-1] = 1
    v[1:3] = b"ab"
    assert buf == bytearray(b"\0\0\xffab\x01\0\0")
    v[::2] = b"xy"
    assert buf[2:6] == b"xay\x01"
    m = memoryview(v)
    m[0] = ord("Z")
    m.release()
    assert buf[2] == ord("Z")


def test_assignment_from_its_own_buffer_and_huge_ints_behave_like_bytearray():
    # (slice written, source range in the same buffer): the source overlaps the window it is written into
    for key, lo, hi in ((slice(None, None, -1), 0, 8), (slice(None, None, 2), 1, 5), (slice(1, None, 3), 0, 3),
                        (slice(2, 6), 0, 4)):
        buf, ref = bytearray(b"abcdefgh"), bytearray(b"abcdefgh")
        View(buf)[key] = memoryview(buf)[lo:hi]
        ref[key] = bytes(ref[lo:hi])
        assert buf == ref, key
    v = View(bytearray(4))
    for huge in (10**30, -10**30):
        with pytest.raises(ValueError, match=r"range\(0, 256\)"):
            v[0] = huge
        with pytest.raises(ValueError):
            bytearray(4)[0] = huge


def test_view_holds_an_export_so_owner_cannot_resize():
    buf = bytearray(b"abc")
    v = View(buf)
    with pytest.raises(BufferError):
        buf.append(1)
    v.release()
    buf.append(1)
    assert v.released


def test_find_startswith_endswith_contains():
    v = View(b"xxGET /index HTTP/1.1", 2)
    assert v.find(b"/") == 4 and v.find(b"HTTP") == 11 and v.find(b"nope") == -1
    assert v.find(ord("T")) == 2 and v.find(b"T", 3) == 12 and v.find(b"T", 3, 10) == -1
    assert v.find(b"") == 0
    assert v.startswith(b"GET ") and not v.startswith(b"POST")
    assert v.startswith((b"POST", b"GET")) and v.endswith(b"1.1") and not v.endswith(b"xx")
    assert b"index" in v and ord("G") in v and b"xx" not in v
    assert v.decode() == "GET /index HTTP/1.1"
    assert v == b"GET /index HTTP/1.1" and v != b"GET" and not (v == "str")


@given(st.binary(max_size=40), st.binary(max_size=4), st.integers(0, 40), st.integers(0, 40),
       st.integers(-45, 45), st.integers(-45, 45))
def test_matches_bytes_methods(data, sub, off, length, start, end):
    off = min(off, len(data))
    length = min(length, len(data) - off)
    v = View(data)
    v.seek(off, length)
    ref = data[off:off + length]
    assert bytes(v) == ref == memoryview(data)[off:off + length].tobytes()
    assert v.find(sub) == ref.find(sub)
    assert v.find(sub, start, end) == ref.find(sub, start, end)
    assert v.startswith(sub) == ref.startswith(sub) and v.endswith(sub) == ref.endswith(sub)
    assert (sub in v) == (sub in ref)
    assert v[start:end] == ref[start:end]
    if ref:
        assert v[start % len(ref)] == ref[start % len(ref)]


@pytest.mark.parametrize("off, length, exc, msg", [
    (-1, 0, IndexError, "offset -1 is outside the buffer \\(0..10\\)"),
    (11, None, IndexError, "offset 11 is outside the buffer \\(0..10\\)"),
    (3, 8, IndexError, "offset 3 \\+ length 8 goes past the end of the 10-byte buffer"),
    (3, -2, ValueError, "length -2 is negative"),
])
def test_seek_bounds_name_the_numbers(off, length, exc, msg):
    v = View(bytes(10))
    v.seek(2, 3)
    with pytest.raises(exc, match=msg):
        v.seek(off, length)
    assert (v.offset, len(v)) == (2, 3)  # unchanged after a refused seek
    with pytest.raises(exc, match=msg.replace("View.seek", "View()")):
        View(bytes(10), off, length)


def test_bad_arguments():
    v = View(bytearray(4))
    with pytest.raises(TypeError, match="takes 1 or 2 arguments"):
        v.seek()
    with pytest.raises(TypeError):
        v.seek("1")
    with pytest.raises(IndexError, match="View index 4 out of range for a View of 4 bytes"):
        v[4]
    with pytest.raises(IndexError, match="View index -5 out of range"):
        v[-5]
    with pytest.raises(IndexError, match="View index 9"):
        v[9] = 1
    with pytest.raises(ValueError, match="range\\(0, 256\\), got 256"):
        v[0] = 256
    with pytest.raises(TypeError, match="not str"):
        v[0] = "a"
    with pytest.raises(ValueError, match="3 bytes given for a slice of 2 bytes"):
        v[0:2] = b"abc"
    with pytest.raises(TypeError, match="item deletion"):
        del v[0]
    with pytest.raises(TypeError, match="not str"):
        v["a"]
    with pytest.raises(TypeError, match="bytes-like object or an int"):
        v.find("a")
    with pytest.raises(TypeError, match="bytes-like object or a tuple"):
        v.startswith("a")
    with pytest.raises(TypeError, match="needs a bytes-like object"):
        View(42)
    with pytest.raises(TypeError):
        hash(v)


def test_readonly_view_refuses_writes():
    v = View(b"abc")
    with pytest.raises(TypeError, match="read-only View"):
        v[0] = 1
    with pytest.raises(TypeError, match="read-only"):
        memoryview(v)[0:1] = b"x"  # a memoryview of it is read-only too


def test_release_rules():
    v = View(bytearray(4))
    m = memoryview(v)
    with pytest.raises(BufferError, match=r"1 export\(s\) of this View \(memoryviews"):
        v.release()
    m.release()
    v.release()
    v.release()  # idempotent, like memoryview.release()
    for access in (len, bytes, memoryview, lambda x: x[0], lambda x: x.seek(0), lambda x: x.find(b"a"),
                   lambda x: x.tobytes(), lambda x: x.startswith(b""), lambda x: x.obj):
        with pytest.raises(ValueError, match="View was released"):
            access(v)
    assert "released" in repr(v)
    with View(bytearray(2)) as w:
        assert len(w) == 2
    assert w.released


def test_seek_while_memoryview_alive_keeps_old_window():
    buf = bytearray(b"abcdef")
    v = View(buf, 0, 2)
    m = memoryview(v)
    v.seek(4, 2)
    assert m.tobytes() == b"ab" and bytes(v) == b"ef"
    m.release()


def test_view_of_a_block_blocks_its_release():
    pool = Pool(16, 1)
    b = pool.acquire()
    v = View(b)
    with pytest.raises(BufferError):
        b.release()
    v.release()
    b.release()


def test_seek_allocates_nothing():
    buf = bytes(range(256)) * 16
    v = View(buf)

    def walk(n):
        seek = v.seek
        for _ in repeat(None, n):  # constant, cached arguments: the loop itself allocates nothing
            seek(5, 64)
            seek(3000, 7)

    assert heap_growth(walk, 100_000) == 0

    def idle(n):
        seek = v.seek  # same set-up cost as walk
        for _ in repeat(None, n):
            pass
        return seek

    assert transient_peak(walk, 100_000) == transient_peak(idle, 100_000)  # not even short-lived objects


class Releaser:
    """An index whose __index__ releases the View it is used on, to prove conversions happen before access."""

    def __init__(self, view, value=0):
        self.view, self.value = view, value

    def __index__(self):
        self.view.release()
        return self.value


def test_index_conversion_that_releases_the_view():
    for op in (lambda v: v.seek(Releaser(v)), lambda v: v[Releaser(v)], lambda v: v.__setitem__(Releaser(v), 1),
               lambda v: v.__setitem__(0, Releaser(v)), lambda v: v.find(b"a", Releaser(v)),
               lambda v: Releaser(v) in v, lambda v: v[Releaser(v):2], lambda v: v.__setitem__(slice(Releaser(v), 1), b"x")):
        buf = bytearray(b"abcdef")
        v = View(buf)
        with pytest.raises(ValueError, match="View was released"):
            op(v)
        buf.extend(b"x" * 4096)  # the export really is gone, and nothing wrote to the old memory


def test_python_codec_cannot_release_the_view_it_decodes():
    # A codec written in Python runs while decode() reads the window; a release() from there used to drop the
    # export and let the bytearray be reallocated under the decoder (use after free under ASan).
    import codecs

    state = {}

    def decode(data, errors="strict"):
        with pytest.raises(BufferError, match="decode"):
            state["view"].release()
        with pytest.raises(BufferError):
            state["buf"].extend(b"x" * 4096)
        return bytes(data).decode("latin-1"), len(data)

    def search(name):
        if name == "thrifty_test_releasing_codec":
            return codecs.CodecInfo(encode=None, decode=decode, name=name)
        return None

    codecs.register(search)
    try:
        buf = bytearray(b"hello world")
        state.update(view=View(buf), buf=buf)
        assert state["view"].decode("thrifty_test_releasing_codec") == "hello world"
        state["view"].release()  # allowed again once decode() returned
        buf.extend(b"!")
    finally:
        codecs.unregister(search)


class BufferReleaser:
    """From Python 3.12 a class can export a buffer from Python code (__buffer__); this one releases the View."""

    def __init__(self, view):
        self.view = view

    def __buffer__(self, flags):
        self.view.release()
        return memoryview(b"abcd")


@pytest.mark.skipif(sys.version_info < (3, 12), reason="__buffer__ in Python code needs 3.12")
def test_buffer_method_that_releases_the_view():
    # Slice assignment used to compute the write pointer before taking the value's buffer: a __buffer__ that
    # released the View let it write into freed memory.
    for op in (lambda v: v.__setitem__(slice(0, 4), BufferReleaser(v)), lambda v: v.startswith(BufferReleaser(v)),
               lambda v: v.endswith((BufferReleaser(v),))):
        buf = bytearray(b"abcdef")
        v = View(buf)
        with pytest.raises(ValueError, match="View was released"):
            op(v)
        buf.extend(b"x" * 4096)
        assert buf[:6] == b"abcdef"
    buf = bytearray(b"abcd")
    v = View(buf)
    assert (v == BufferReleaser(v)) is False  # NotImplemented both ways: identity comparison
