"""thrifty.lz: round trips for every W/L, zlib-object semantics side by side with zlib, bad input, and lz.open."""
import argparse
import gc
import inspect
import io
import pathlib
import random
import subprocess
import sys
import threading
import tracemalloc
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import thrifty
from thrifty import lz

ALL_WL = [(w, l) for w in range(6, 16) for l in range(3, min(8, w - 1) + 1)]

# Inputs with structure (repeats, runs, text) as well as noise: hypothesis' plain binary() is mostly incompressible.
structured = st.one_of(
    st.binary(max_size=3000),
    st.lists(st.sampled_from([b"abc", b"    ", b"def f(x):\n", b"\x00" * 7, b"1700000000,s1,21.5\n", b"\xff\xfe"]),
             max_size=300).map(b"".join),
    st.tuples(st.binary(min_size=1, max_size=40), st.integers(1, 200)).map(lambda t: t[0] * t[1]),
)


@pytest.mark.parametrize("w,l", ALL_WL)
@settings(max_examples=15, deadline=None)
@given(data=structured, checksum=st.booleans())
def test_roundtrip_every_window_and_lookahead(w, l, data, checksum):
    blob = lz.compress(data, window_bits=w, lookahead_bits=l, checksum=checksum)
    assert lz.decompress(blob) == data
    assert len(blob) <= len(data) + 15  # the one-shot bound: stored frames take over when coding would expand


@settings(max_examples=60, deadline=None)
@given(data=structured, w=st.integers(6, 15), cut=st.integers(1, 50), limit=st.integers(1, 300),
       level=st.sampled_from([-1, 1, 2, 3, 4, 5, 6, 7, 8, 9]))
def test_streaming_in_pieces_matches_one_shot_output(data, w, cut, limit, level):
    c = lz.Compressor(window_bits=w, lookahead_bits=min(4, w - 1), level=level)
    blob = b"".join(c.compress(data[i:i + cut]) for i in range(0, len(data), cut)) + c.flush()
    assert len(blob) <= len(data) + 4 * (len(data) >> w) + 18  # the streamed bound in lz.h
    once = lz.compress(data, window_bits=w, lookahead_bits=min(4, w - 1), level=level)
    if not once[6] & 0x02:  # unless one-shot stored the data raw, both write the very same frame
        assert once == blob
    d = lz.Decompressor()
    out = []
    for i in range(0, len(blob), cut):
        out.append(d.decompress(d.unconsumed_tail + blob[i:i + cut], limit))
        assert len(out[-1]) <= limit
    while not d.eof:
        chunk = d.decompress(d.unconsumed_tail, limit)
        assert chunk or not d.needs_input
        out.append(chunk)
    assert b"".join(out) == data
    assert d.unused_data == b""


def test_packed_bucket_windows_past_the_position_wrap():
    # W=11 and 12 keep positions mod 2^12 in their bucket table (an entry older than that reads as a nearer offset),
    # enter only some of a match's positions, and search the buckets of the keys after the position from level 6:
    # past 2^16 bytes (where the stream positions wrap) every level still round-trips and streams the same bytes.
    r = random.Random(16)
    words = [bytes(r.choices(b"abcdefghijklmnopqrstuvwxyz", k=r.randrange(3, 12))) + b" " for _ in range(300)]
    data = b"".join(r.choice(words) + (r.randbytes(2) if r.random() < 0.2 else b"") for _ in range(20000))[:150000]
    for w in (11, 12):
        for level in (1, 4, 5, 6, 7, 9):
            blob = lz.compress(data, window_bits=w, lookahead_bits=5, level=level)
            assert len(blob) < len(data)
            assert lz.decompress(blob) == data
            c = lz.Compressor(window_bits=w, lookahead_bits=5, level=level)
            assert b"".join(c.compress(data[i:i + 997]) for i in range(0, len(data), 997)) + c.flush() == blob


def test_far_match_then_a_long_literal_run_at_the_largest_window():
    # One-shot compression once dropped bits here (a far match's code and a long run's header in one 64-bit buffer).
    r = random.Random(1)
    head = bytes(r.randrange(1, 256, 2) for _ in range(256))
    data = head + bytes(3000) + head + r.randbytes(33000) + bytes(30000)
    for l in (7, 8):
        blob = lz.compress(data, window_bits=15, lookahead_bits=l)
        assert lz.decompress(blob) == data
        c = lz.Compressor(window_bits=15, lookahead_bits=l)
        assert c.compress(data) + c.flush() == blob


def test_every_level_writes_the_same_format():
    text = b"".join(b"1700000%03d,s%d,21.%d,45.%d\n" % (i, i % 8, i % 7, i % 3) for i in range(2000))
    sizes = {}
    for level in range(1, 10):
        blob = lz.compress(text, window_bits=8, level=level)
        assert lz.decompress(blob) == text
        c = lz.Compressor(window_bits=8, level=level)
        assert c.level == level
        assert c.compress(text) + c.flush() == blob
        sizes[level] = len(blob)
    assert lz.Compressor().level == 6 and lz.compress(text, window_bits=8) == lz.compress(text, window_bits=8, level=6)
    # On source code, the deepest search finds more than the shallowest. (Not on every input: on the periodic CSV
    # above, level 1's first candidates happen to leave more cheap repeats of the last offset.)
    source = inspect.getsource(argparse).encode()[:60000]
    assert len(lz.compress(source, window_bits=8, level=9)) < len(lz.compress(source, window_bits=8, level=1))


def test_format_version_2_frames_decode_as_written():
    # Frames written by format version 2's encoder: whatever the encoder becomes, these must decode to the same
    # bytes (a change that breaks this is a new format version; docs/format-lz.md).
    data = b"1700000000,s1,21.00\n1700000010,s1,21.10\n" * 3 + b"def f(x):\n    return x  # hello hello world\n\x00\x01\xff\xfe"
    w8 = ("54464c5a024801f8b617f3f55e8e59b9a44a89697b4b143d870c30c87fbb49368dbcde0e78a800334af1ce63c007606e4cb2a5f9"
          "feaeedee4d8c8140003fffdffad626243e")
    w12 = ("54464c5a025c01f8b617ebf55e8e59b9a44a8f5a5ed2c4fda8e3e47fdda49b46de6f073c540019a578e731e003b037265952ffef"
           "f5776f726c640a0001fffeffd0d626243e")
    for frame in (w8, w12):
        assert lz.decompress(bytes.fromhex(frame)) == data


def test_format_version_3_filtered_frames_decode_as_written():
    # Filtered frames (format version 3: flag bit 2 and the filter byte) as the first encoder wrote them.
    from array import array
    data = array("h", [1000 + (i * 7) % 23 - 11 + i // 3 for i in range(70)]).tobytes() + b"\x05"
    delta2 = ("54464c5a03480511fef208924916edbb76d6cdbb7fc7dfc7f6ceb5b2480805bc603ebfcf5e1aec89249244bed6fa47f7fbcf564da"
              "db2601bbc0c99870fcc76fcb05ffec02b196eb5")
    assert lz.decompress(bytes.fromhex(delta2)) == data
    assert lz.compress(data, window_bits=8, filter="delta2") == bytes.fromhex(delta2)
    floats = array("f", [20.0 + 0.01 * i for i in range(40)]).tobytes()
    shuffle4 = ("54464c5a03480422ff9c84ab54a952693d94cb4256d69926cdb248ee3381c7ee007fcfe1f00fc545555a998999931e0e1e1c1a"
                "a54ab54cc6632995ad296b46c9b24d9701cc7e1801ff80100e0ff01000000fe00d3e3ff673e9c8cf5e1f27ffbdd723e89075e8e"
                "89054ae2890737328905238689070fd68904f42a8d06e07a8d07ff4")
    assert lz.decompress(bytes.fromhex(shuffle4)) == floats


FILTERS = ["delta2", "delta4", "delta8", "shuffle2", "shuffle4", "shuffle8"]


@pytest.mark.parametrize("name", FILTERS)
@settings(max_examples=30, deadline=None)
@given(data=st.binary(max_size=3000), cut=st.integers(1, 700), w=st.integers(6, 12))
def test_filters_round_trip_any_length_and_chunking(name, data, cut, w):
    one = lz.compress(data, window_bits=w, lookahead_bits=3, filter=name)
    assert lz.decompress(one) == data
    comp = lz.Compressor(window_bits=w, lookahead_bits=3, filter=name)
    streamed = b"".join(comp.compress(data[i:i + cut]) for i in range(0, len(data), cut)) + comp.flush()
    assert lz.decompress(streamed) == data
    if streamed != one:
        assert one[6] & 2, "only a stored frame may differ from the streamed one"
    dec = lz.Decompressor()
    out = b"".join(dec.decompress(streamed[i:i + cut], 17) + dec.flush() for i in range(0, len(streamed), cut))
    assert out == data and dec.eof


def sensor_int16(n, noise, seed=3):
    import math
    from array import array
    rng = random.Random(seed)
    return array("h", [max(0, min(4095, round(2048 + 1800 * math.sin(i / 111) + rng.gauss(0, noise))))
                       for i in range(n)]).tobytes()


def test_filters_pay_on_sensor_data():
    # A noisy 12-bit ADC sine: plain lz barely compresses it; delta2 over 1.5x (measured in bench/bench_lz.py).
    data = sensor_int16(16384, noise=20)
    plain = len(lz.compress(data))
    delta = len(lz.compress(data, filter="delta2"))
    assert plain > len(data) * 0.95
    assert delta < len(data) / 1.5
    comp = lz.Compressor(filter="delta2")
    assert comp.filter == "delta2" and lz.Compressor().filter is None
    assert comp.state_size == lz.Compressor().state_size + 32 + 64 + 7  # the filter's head and block, and slack
    plain_dec, delta_dec = lz.Decompressor(), lz.Decompressor()
    assert plain_dec.decompress(lz.compress(data)) == data
    assert delta_dec.decompress(lz.compress(data, filter="delta2")) == data
    assert delta_dec.state_size == plain_dec.state_size + 32 + 64 + 7  # the decoder keeps one block too


@pytest.mark.parametrize("bad, exc, msg", [
    ("delta3", ValueError, "filter must be one of 'delta2', 'delta4', 'delta8'"),
    ("Delta2", ValueError, "'shuffle2', 'shuffle4', 'shuffle8'"),
    ("", ValueError, "or None, got ''"),
    (b"delta2", TypeError, "filter must be a str or None, not bytes"),
    (2, TypeError, "not int"),
])
def test_bad_filter_names_say_what_is_accepted(bad, exc, msg):
    with pytest.raises(exc, match=msg):
        lz.compress(b"abc", filter=bad)
    with pytest.raises(exc, match=msg):
        lz.Compressor(filter=bad)
    with pytest.raises(TypeError):
        lz.compress(b"abc", 10, 4, True, -1, "delta2")  # keyword only


def test_filtered_frame_header_errors_are_corruptdata():
    frame = bytearray(lz.compress(sensor_int16(500, 3), window_bits=8, filter="delta2"))
    assert frame[4] == 3 and frame[6] & 4 and frame[7] == 0x11
    for at, value, msg in [(7, 0x13, "unknown format version, flags or filter"),
                           (7, 0x41, "unknown format version, flags or filter"),
                           (4, 2, "corrupt thrifty.lz data|not thrifty.lz data"),
                           (6, 1, "corrupt thrifty.lz data|not thrifty.lz data")]:
        bad = bytearray(frame)
        bad[at] = value
        with pytest.raises(thrifty.CorruptData, match=msg):
            lz.decompress(bytes(bad))
        dec = lz.Decompressor()
        with pytest.raises(thrifty.CorruptData, match=msg):
            for i in range(len(bad)):
                dec.decompress(bytes(bad[i:i + 1]))
    with pytest.raises(thrifty.CorruptData, match="truncated"):
        lz.decompress(bytes(frame[:-3]))


def test_code_tables_come_from_the_committed_counts():
    # core/src/lz_codes.h is generated from core/tools/lz_code_counts.json; a table edited by hand, or counts changed
    # without regenerating, would silently be another format.
    root = pathlib.Path(__file__).resolve().parent.parent
    built = subprocess.run([sys.executable, str(root / "core/tools/gen_lz_codes.py")], capture_output=True, check=True)
    assert built.stdout == (root / "core/src/lz_codes.h").read_bytes()


def test_every_short_prefix_round_trips():
    text = b"e$d73 \x0b)pa0 def f(x):\n    return x  # 1700000000,s1,21.5\n\xff\x00"
    for n in range(len(text) + 1):
        for w, l in ((6, 3), (10, 3), (15, 8)):
            assert lz.decompress(lz.compress(text[:n], window_bits=w, lookahead_bits=l)) == text[:n]


@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=20000) | st.binary(max_size=64).map(lambda b: b * 300))
def test_checksum_is_zlibs_adler32(data):
    # The frame's last 4 bytes are zlib's Adler-32 of the content, little-endian, streamed or stored.
    for blob in (lz.compress(data), lz.compress(data, window_bits=8, level=1)):
        assert int.from_bytes(blob[-4:], "little") == zlib.adler32(data)


def test_compresses_like_it_should():
    text = b"".join(b"def method_%d(self, value):\n    return self.value + %d\n" % (i, i) for i in range(500))
    blob = lz.compress(text, window_bits=10)
    assert len(blob) < len(text) / 3
    assert lz.decompress(blob) == text


def test_concatenated_frames_decode_as_one_stream():
    a, b = b"first frame " * 50, b"second frame, other params " * 40
    blob = lz.compress(a, window_bits=8) + lz.compress(b, window_bits=13, lookahead_bits=6, checksum=False)
    assert lz.decompress(blob) == a + b
    assert lz.decompress(b"") == b""


# ---- zlib object semantics, checked against zlib itself -----------------------------------------------------

@pytest.mark.parametrize("mod", ["zlib", "lz"])
def test_decompressor_semantics_match_zlib(mod):
    data = bytes(range(256)) * 40 + b"tail" * 500
    if mod == "zlib":
        blob, new = zlib.compress(data), zlib.decompressobj
    else:
        blob, new = lz.compress(data), lz.Decompressor
    d = new()
    assert not d.eof and d.unused_data == b"" and d.unconsumed_tail == b""
    first = d.decompress(blob + b"EXTRA", 1000)
    assert len(first) == 1000
    assert d.unconsumed_tail and not d.eof
    rest = b""
    while not d.eof:
        rest += d.decompress(d.unconsumed_tail, 1000)
    assert first + rest == data
    assert d.eof
    assert d.unused_data == b"EXTRA"
    # Reuse after eof: like zlib, more data is appended to unused_data and nothing is decoded.
    assert d.decompress(b"more") == b""
    assert d.unused_data == b"EXTRAmore"


@pytest.mark.parametrize("mod", ["zlib", "lz"])
def test_compressor_semantics_match_zlib(mod):
    c = zlib.compressobj() if mod == "zlib" else lz.Compressor()
    out = c.compress(b"abc" * 100) + c.compress(b"") + c.flush()
    back = zlib.decompress(out) if mod == "zlib" else lz.decompress(out)
    assert back == b"abc" * 100
    # After the final flush neither accepts more (zlib raises zlib.error, lz a ValueError saying why).
    with pytest.raises((zlib.error, ValueError)):
        c.compress(b"x")
    with pytest.raises((zlib.error, ValueError)):
        c.flush()


def test_decompressor_flush_decodes_the_tail():
    data = b"0123456789" * 1000
    d = lz.Decompressor()
    head = d.decompress(lz.compress(data), 10)
    assert head + d.flush() == data
    assert d.eof and d.unconsumed_tail == b""


def test_max_length_bounds_a_bomb():
    bomb = lz.compress(b"\x00" * 2_000_000, window_bits=12, lookahead_bits=8)
    assert len(bomb) < 40_000
    with pytest.raises(ValueError, match="max_length=1000"):
        lz.decompress(bomb, max_length=1000)
    assert len(lz.decompress(bomb, max_length=2_000_000)) == 2_000_000
    d = lz.Decompressor()
    assert len(d.decompress(bomb, 4096)) == 4096
    assert not d.needs_input


def test_decompressor_window_limit_and_state_size():
    blob = lz.compress(b"x" * 1000, window_bits=12)
    d = lz.Decompressor(window_bits=8)
    with pytest.raises(thrifty.CorruptData, match="window_bits=12"):
        d.decompress(blob)
    small = lz.Decompressor()
    small.decompress(lz.compress(b"y" * 1000, window_bits=8, lookahead_bits=4))
    assert small.state_size <= 300  # sized from the frame's header, not from the maximum
    assert lz.Compressor(window_bits=8, lookahead_bits=4).state_size < 2048


# ---- bad input --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kw,msg", [
    ({"window_bits": 5}, "window_bits must be between 6 and 15, got 5"),
    ({"window_bits": 16}, "window_bits must be between 6 and 15"),
    ({"window_bits": 8, "lookahead_bits": 8}, r"lookahead_bits must be between 3 and .* = 7"),
    ({"lookahead_bits": 2}, "lookahead_bits must be between 3"),
    ({"level": 0}, r"level must be between 1 and 9 \(or -1 for the default, 6\), got 0"),
    ({"level": 10}, "level must be between 1 and 9"),
])
def test_bad_parameters_name_the_range(kw, msg):
    with pytest.raises(ValueError, match=msg):
        lz.Compressor(**kw)
    with pytest.raises(ValueError, match=msg):
        lz.compress(b"abc", **kw)


def test_bad_arguments():
    with pytest.raises(ValueError, match="window_bits must be between 6 and 15"):
        lz.Decompressor(window_bits=3)
    with pytest.raises(ValueError, match="max_length"):
        lz.Decompressor().decompress(b"", -1)
    with pytest.raises(ValueError, match="max_length"):
        lz.decompress(b"", max_length=-5)
    with pytest.raises(TypeError):
        lz.compress("text is not bytes")


def test_corrupt_truncated_and_foreign_data_raise_corruptdata_with_offset():
    data = b"the quick brown fox jumps over the lazy dog. " * 100
    blob = lz.compress(data)
    with pytest.raises(thrifty.CorruptData, match="not thrifty.lz data at byte 0"):
        lz.decompress(zlib.compress(data))
    with pytest.raises(thrifty.CorruptData, match=f"not thrifty.lz data at byte {len(blob)}"):
        lz.decompress(blob + b"trailing garbage")
    with pytest.raises(thrifty.CorruptData, match="truncated"):
        lz.decompress(blob[:-1])
    for cut in range(0, len(blob), 7):
        with pytest.raises(thrifty.CorruptData):
            lz.decompress(blob[:cut] if cut else b"T")
    bad = bytearray(blob)
    bad[-2] ^= 0x40  # the checksum
    with pytest.raises(thrifty.CorruptData, match=r"at byte \d+"):
        lz.decompress(bytes(bad))
    newer = bytearray(blob)
    newer[4] = 5  # 3 is the filtered frames' version, 4 the dictionary frames'
    with pytest.raises(thrifty.CorruptData, match="unknown format version"):
        lz.decompress(bytes(newer))
    older = bytearray(blob)
    older[4] = 1  # format version 1 was replaced before any release
    with pytest.raises(thrifty.CorruptData, match="format version 1, from before any release, is not read"):
        lz.decompress(bytes(older))
    assert issubclass(thrifty.CorruptData, ValueError)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.integers(0, 400))
def test_arbitrary_bytes_never_crash(junk, pos):
    blob = bytearray(lz.compress(b"abcabcabd" * 30, window_bits=7, lookahead_bits=4))
    blob[pos % len(blob):pos % len(blob) + len(junk)] = junk
    for data in (bytes(blob), b"TFLZ\x01\x47\x00" + junk):
        try:
            lz.decompress(data, max_length=100_000)
        except ValueError:  # CorruptData, or max_length reached
            pass


# ---- GIL, references ------------------------------------------------------------------------------------

def test_large_inputs_work_from_threads():
    data = bytes(range(256)) * 2000  # > 64 KiB: the GIL is released
    results = []

    def work():
        results.append(lz.decompress(lz.compress(data)) == data)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True, True, True]


def test_objects_and_buffers_are_released():
    types = (lz.Compressor, lz.Decompressor)
    before = [sys.getrefcount(t) for t in types]
    blob = lz.compress(b"abc" * 1000)

    def churn():
        for _ in range(200):
            c = lz.Compressor(window_bits=12)
            c.compress(b"xyz" * 100)
            c.flush()
            d = lz.Decompressor()
            d.decompress(blob + b"extra", 100)
            lz.decompress(blob)

    churn()
    tracemalloc.start()
    churn()
    gc.collect()
    leaked, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert leaked < 64 * 1024  # 200 rounds of ~10 KiB states would show up
    assert [sys.getrefcount(t) for t in types] == before


# ---- lz.open ----------------------------------------------------------------------------------------------

def test_open_write_then_read_lines(tmp_path):
    path = tmp_path / "log.tlz"
    lines = [b"%d,sensor,%.2f\n" % (i, i * 0.1) for i in range(2000)]
    with lz.open(path, "wb", window_bits=9) as f:
        for line in lines:
            assert f.write(line) == len(line)
    with lz.open(path, "rb") as f:
        assert list(f) == lines
    # The level reaches the compressor; line by line, the file is the same frame one-shot compress() writes.
    with lz.open(path, "wb", window_bits=9, level=2) as f:
        f.writelines(lines)
    assert path.read_bytes() == lz.compress(b"".join(lines), window_bits=9, level=2)
    with pytest.raises(ValueError, match="level must be between 1 and 9"):
        lz.open(tmp_path / "x.tlz", "wb", level=11)
    with lz.open(path) as f:
        assert f.readline() == lines[0]
        assert f.read(5) == lines[1][:5]
        assert f.read() == b"".join(lines)[len(lines[0]) + 5:]
        assert f.read() == b""


def test_open_append_adds_a_frame_and_reads_through(tmp_path):
    path = tmp_path / "a.tlz"
    with lz.open(path, "ab") as f:
        f.write(b"one\n")
    with lz.open(path, "ab", window_bits=12) as f:
        f.write(b"two\n")
    assert lz.decompress(path.read_bytes()) == b"one\ntwo\n"
    with lz.open(path) as f:
        assert f.readlines() == [b"one\n", b"two\n"]
    with pytest.raises(FileExistsError):
        lz.open(path, "xb")
    with lz.open(tmp_path / "new.tlz", "xb") as f:
        f.write(b"")
    with lz.open(tmp_path / "new.tlz") as f:
        assert f.read() == b""


def test_open_modes_and_errors(tmp_path):
    with pytest.raises(ValueError, match="invalid mode"):
        lz.open(tmp_path / "x", "rw")
    for bad in ("rtt", "trw"):  # reported as given, with the text modes named
        with pytest.raises(ValueError, match=f"invalid mode '{bad}': use one of 'rt'"):
            lz.open(tmp_path / "x", bad)
    buf = io.BytesIO()
    with lz.open(buf, "wt", encoding="utf-8") as f:
        f.write("héllo\nwörld\n")
    buf.seek(0)
    with lz.open(buf, "rt", encoding="utf-8") as f:
        assert f.readlines() == ["héllo\n", "wörld\n"]
    f = lz.open(io.BytesIO(lz.compress(b"abc")))
    with pytest.raises(io.UnsupportedOperation):
        f.write(b"x")
    f.close()
    with pytest.raises(ValueError, match="closed"):
        f.read()
    with pytest.raises(thrifty.CorruptData, match="truncated"):
        with lz.open(io.BytesIO(lz.compress(b"abc" * 100)[:-3])) as g:
            g.read()


def test_open_reads_a_file_written_by_the_one_shot_api():
    blob = lz.compress(b"x" * 100_000, window_bits=15, lookahead_bits=8) + lz.compress(b"y" * 10)
    with lz.open(io.BytesIO(blob)) as f:
        assert f.read() == b"x" * 100_000 + b"y" * 10


def test_lzfile_tell_and_seek_like_gzip(tmp_path):
    data = bytes(range(256)) * 2000
    p = tmp_path / "seek.tlz"
    with lz.open(p, "wb", window_bits=9) as f:
        f.write(data[:1000])
        assert f.tell() == 1000
        f.seek(1500)  # forward in write mode: zero-filled, as gzip does
        f.write(b"x")
        assert f.tell() == 1501
        with pytest.raises(OSError):
            f.seek(10)
    with lz.open(p, "ab") as f:
        f.write(data)
    expect = data[:1000] + bytes(500) + b"x" + data
    with lz.open(p) as f:
        assert f.seekable()
        assert f.read(10) == expect[:10] and f.tell() == 10
        f.seek(5000)
        assert f.read(7) == expect[5000:5007]
        f.seek(3)  # backwards: decompressed again from the start
        assert f.read(4) == expect[3:7]
        f.seek(100, 1)
        assert f.tell() == 107 and f.read(1) == expect[107:108]
        f.seek(10**7)
        assert f.tell() == len(expect) and f.read() == b""
        with pytest.raises(ValueError, match="from the end"):
            f.seek(0, 2)


def test_open_writes_a_filtered_file(tmp_path):
    data = sensor_int16(5000, noise=10) + b"\x01"
    path = tmp_path / "adc.tlz"
    with lz.open(path, "wb", filter="delta2") as f:
        for i in range(0, len(data), 999):
            f.write(data[i:i + 999])
    assert path.read_bytes()[7] == 0x11
    with lz.open(path, "rb") as f:
        assert f.read() == data
    assert len(path.read_bytes()) < len(data) / 1.5


# ---- preset dictionaries (format version 4) ----------------------------------------------------------------------

def _records(count: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    return [b'{"device":"env-%04d","seq":%d,"temp_c":%.2f,"hum_pct":%.1f,"status":"%s","fw":"2.4.%d"}'
            % (rng.randrange(50), 1000 + 3 * i, 18 + 8 * rng.random(), 30 + 40 * rng.random(),
               rng.choice([b"ok", b"ok", b"warn", b"low_battery"]), rng.randrange(3)) for i in range(count)]


def test_dictionary_round_trips_one_shot_streamed_and_through_files(tmp_path):
    d = lz.train_dictionary(_records(300, 1), 1024)
    assert 0 < len(d) <= 1024
    for r in _records(40, 2):
        for level in (1, 6, 9):
            blob = lz.compress(r, level=level, dictionary=d)
            assert lz.decompress(blob, dictionary=d) == r
            c = lz.Compressor(level=level, dictionary=d)
            streamed = b"".join(c.compress(r[i:i + 7]) for i in range(0, len(r), 7)) + c.flush()
            assert streamed == blob  # one-shot and streamed write the same frame
            dec = lz.Decompressor(dictionary=bytearray(d))
            assert b"".join(dec.decompress(blob[i:i + 5]) for i in range(0, len(blob), 5)) == r and dec.eof
    two = lz.compress(b"first", dictionary=d) + lz.compress(b"second", dictionary=d)
    assert lz.decompress(two, dictionary=memoryview(d)) == b"firstsecond"
    with lz.open(tmp_path / "log.tlz", "wb", dictionary=d) as f:
        f.write(b"".join(_records(5, 3)))
    with lz.open(tmp_path / "log.tlz", "ab", dictionary=d) as f:
        f.write(b"appended")
    with lz.open(tmp_path / "log.tlz", "rb", dictionary=d) as f:
        assert f.read() == b"".join(_records(5, 3)) + b"appended"


def test_dictionary_frame_header_records_the_adler32_of_the_dictionary():
    d = b'{"device":"env-0001","status":"ok"}'
    blob = lz.compress(b'{"device":"env-0002","status":"ok"}', checksum=False, dictionary=d)
    assert blob[:5] == b"TFLZ\x04" and blob[6] == 0x08  # version 4, flag bit 3 (no checksum asked)
    assert int.from_bytes(blob[7:11], "little") == zlib.adler32(d)  # zlib's DICTID is the same checksum
    assert len(blob) < len(lz.compress(b'{"device":"env-0002","status":"ok"}', checksum=False)) - 10
    # frames without a dictionary stay version 2 (or 3 with a filter), byte for byte
    assert lz.compress(b"abc")[4] == 2 and lz.compress(b"abcd", filter="delta2")[4] == 3
    # data that does not shrink is stored, and the stored frame records the dictionary too
    rng = random.Random(5)
    noise = bytes(rng.getrandbits(8) for _ in range(3000))
    stored = lz.compress(noise, dictionary=b"xyz")
    assert stored[4] == 4 and stored[6] & 0x02 and len(stored) <= len(noise) + 19
    assert lz.decompress(stored, dictionary=b"xyz") == noise


def test_a_dictionary_at_least_doubles_the_ratio_of_short_json_records():
    train, test = _records(500, 11), _records(200, 12)
    d = lz.train_dictionary(train, 2048)
    raw = sum(map(len, test))
    plain = sum(len(lz.compress(r, window_bits=11)) for r in test)
    with_dict = sum(len(lz.compress(r, window_bits=11, dictionary=d)) for r in test)
    assert raw / with_dict >= 2 * raw / plain


def test_dictionary_mismatches_say_which_dictionary_the_frame_needs():
    d, other = b"the dictionary: sensor reading ok", b"another dictionary"
    blob = lz.compress(b"sensor reading ok", dictionary=d)
    plain = lz.compress(b"sensor reading ok")
    with pytest.raises(ValueError, match=rf"compressed with a preset dictionary \(id 0x{zlib.adler32(d):08x}\), and "
                                         "none was given"):
        lz.decompress(blob)
    with pytest.raises(ValueError, match=rf"another preset dictionary \(id 0x{zlib.adler32(d):08x}\) than the one "
                                         rf"given \(id 0x{zlib.adler32(other):08x}, 18 bytes\)"):
        lz.decompress(blob, dictionary=other)
    with pytest.raises(ValueError, match="compressed without a dictionary, but dictionary= was given"):
        lz.decompress(plain, dictionary=d)
    with pytest.raises(ValueError, match=f"frame at byte {len(plain)} was compressed with a preset dictionary"):
        lz.decompress(plain + blob)  # the second frame's
    dec = lz.Decompressor(dictionary=other)
    with pytest.raises(ValueError, match="another preset dictionary"):
        dec.decompress(blob)
    for err in (lz.decompress, lambda b: lz.Decompressor().decompress(b)):
        with pytest.raises(ValueError) as info:
            err(blob)
        assert not isinstance(info.value, thrifty.CorruptData)  # the data is fine: the dictionary is the problem


def test_bad_dictionary_arguments_raise_specific_errors():
    with pytest.raises(TypeError, match="dictionary must be a bytes-like object .* or None, not str"):
        lz.compress(b"x", dictionary="text")
    with pytest.raises(TypeError, match="not int"):
        lz.Decompressor(dictionary=5)
    with pytest.raises(ValueError, match="dictionary must not be empty: pass None"):
        lz.compress(b"x", dictionary=b"")
    with pytest.raises(ValueError, match=r"dictionary is 2000 bytes, more than the window of window_bits=10 holds "
                                         r"\(1024 bytes\): pass window_bits=11 or more"):
        lz.compress(b"x", dictionary=bytes(2000))
    with pytest.raises(ValueError, match="more than the window of window_bits=8"):
        lz.Compressor(window_bits=8, dictionary=bytes(300))
    with pytest.raises(ValueError, match=r"dictionary is 32769 bytes, more than the 32768 accepted \(the largest"):
        lz.decompress(b"", dictionary=bytes(32769))
    with pytest.raises(ValueError, match="filter and dictionary cannot be combined"):
        lz.compress(b"x" * 10, filter="delta2", dictionary=b"abc")
    assert lz.decompress(lz.compress(b"x", window_bits=15, dictionary=bytes(32768)), dictionary=bytes(32768)) == b"x"


def test_train_dictionary_arguments_and_results():
    recs = _records(100, 4)
    d = lz.train_dictionary(recs, 256)
    assert isinstance(d, bytes) and 0 < len(d) <= 256
    assert lz.train_dictionary(iter(recs), 256) == d  # any iterable; deterministic
    assert lz.train_dictionary([bytearray(r) for r in recs], 256) == d
    assert b'"status":"' in lz.train_dictionary(recs, 4096)  # what every record shares
    with pytest.raises(ValueError, match="size must be between 1 and 32768 bytes"):
        lz.train_dictionary(recs, 0)
    with pytest.raises(ValueError, match="size must be between 1 and 32768 bytes"):
        lz.train_dictionary(recs, 1 << 40)
    with pytest.raises(TypeError, match="size must be an int"):
        lz.train_dictionary(recs, "4096")
    with pytest.raises(TypeError, match=r"samples\[1\] must be a bytes-like object, not str"):
        lz.train_dictionary([b"abc", "def"], 100)
    with pytest.raises(TypeError, match="samples must be an iterable of bytes-like messages"):
        lz.train_dictionary(5, 100)
    with pytest.raises(TypeError, match="not a str"):
        lz.train_dictionary("abcdefgh", 100)
    with pytest.raises(ValueError, match="samples is empty"):
        lz.train_dictionary([], 100)
    with pytest.raises(ValueError, match="no string of 6 bytes occurs in two of the 2 samples"):
        lz.train_dictionary([b"abcdefgh", b"ijklmnop"], 100)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600), st.binary(min_size=1, max_size=1024), st.integers(10, 12), st.integers(1, 9))
def test_any_data_round_trips_with_any_dictionary(data, dictionary, w, level):
    blob = lz.compress(data, window_bits=w, level=level, dictionary=dictionary)
    assert lz.decompress(blob, dictionary=dictionary) == data
    c = lz.Compressor(window_bits=w, level=level, dictionary=dictionary)
    streamed = c.compress(data) + c.flush()
    assert lz.decompress(streamed, dictionary=dictionary) == data
    if not blob[6] & 0x02:
        assert streamed == blob
