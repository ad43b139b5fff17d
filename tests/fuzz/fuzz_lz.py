"""thrifty.lz: one-shot against streaming against chunked feeding, zlib's stream protocol as the model, and mutated
frames.

For any data and parameters: decompress(compress(data)) is the data; a Compressor fed the data in any pieces writes
the same bytes as compress() (unless compress() stored the data raw, which is then smaller); a Decompressor fed any
pieces with any max_length hands out the data exactly as zlib.decompressobj does with zlib's frame of the same
data (same output per call, the rest in unconsumed_tail, eof, unused_data for bytes after the frame). A changed frame
must raise CorruptData (a ValueError), or decode to some bytes; the Decompressor fed it in pieces must agree with
the one-shot call.
"""
import os
import sys
import zlib

sys.path.insert(0, os.path.dirname(__file__))
from fuzzing import Reader, main, outcome  # noqa: E402

from thrifty import CorruptData, lz  # noqa: E402


def make_data(rd):
    """Bytes with the repeats and text a codec sees: pieces from a small vocabulary, copies, runs, raw bytes."""
    out = bytearray()
    for _ in range(rd.below(24)):
        kind = rd.below(5)
        if kind == 0:
            out += rd.pick([b"21.5,", b"45.0\n", b"temp=", b"ok ", b"\x00\x00", b"ERROR "])
        elif kind == 1 and out:
            start = rd.below(len(out))
            out += out[start:start + rd.between(1, 300)] * rd.between(1, 3)
        elif kind == 2:
            out += bytes([rd.byte()]) * rd.below(70)
        elif kind == 3:
            out += rd.blob(16)
        else:
            out += str(rd.between(0, 99999)).encode() + b","
    return bytes(out)


def pieces(rd, data):
    """data cut into pieces of fuzzer-chosen sizes (empty pieces included)."""
    out, pos = [], 0
    while pos < len(data):
        n = rd.pick([5000, 1, 2, 7, 8, 9, 64, 300, 0])  # index 0 once the input is used up: whole
        if n == 0:
            out.append(b"")
            n = 1
        out.append(data[pos:pos + n])
        pos += n
    return out


def stream_decompress(dec, chunks, max_length):
    """Feeds chunks as zlib's documentation says to: each piece plus the tail left over, at most max_length out a
    call. Returns the outputs call by call and how it ended."""
    outs = []
    tail = b""
    for chunk in chunks + [b""]:
        tail += chunk
        while True:
            before = tail
            out = dec.decompress(tail, max_length)
            outs.append(out)
            tail = dec.unconsumed_tail
            if dec.eof or not max_length or (not out and tail == before):
                break
            if not tail and len(out) < max_length:
                break
    if not dec.eof:
        outs.append(dec.flush())
    return b"".join(outs), dec.eof, dec.unused_data


def test_one_input(data):
    rd = Reader(data)
    payload = make_data(rd)
    w = rd.between(6, 15)
    la = rd.between(3, min(8, w - 1))
    level = rd.pick([-1, 1, 2, 4, 6, 9])
    checksum = rd.chance(192)
    # a numeric filter for some inputs, derived rather than drawn so the committed corpus keeps its meaning
    filt = (None, None, None, "delta2", "delta4", "delta8", "shuffle2", "shuffle4", "shuffle8")[(w + la + len(payload)) % 9]
    if rd.chance(16):
        w, la = rd.pick([(5, 3), (16, 4), (10, 2), (10, 9)])  # out of range: a ValueError naming the range
        assert outcome(lambda: lz.compress(payload, w, la)) == ("err", ValueError)
        assert outcome(lambda: lz.Compressor(w, la)) == ("err", ValueError)
        assert outcome(lambda: lz.compress(payload, filter="delta3")) == ("err", ValueError)
        return

    one = lz.compress(payload, w, la, checksum, level, filter=filt)
    assert len(one) <= len(payload) + 15
    assert lz.decompress(one) == payload
    assert lz.decompress(one, max_length=len(payload)) == payload
    if payload:
        assert outcome(lambda: lz.decompress(one, max_length=len(payload) - 1)) == ("err", ValueError)

    comp = lz.Compressor(w, la, checksum, level, filter=filt)
    streamed = b"".join(comp.compress(p) for p in pieces(rd, payload)) + comp.flush()
    assert outcome(lambda: comp.compress(b"x")) == ("err", ValueError)  # ended by flush(), as zlib after Z_FINISH
    if streamed != one:
        assert len(one) < len(streamed), "compress() and Compressor differ without compress() storing the data"
    assert lz.decompress(streamed) == payload
    assert lz.decompress(one + streamed) == payload * 2  # every concatenated frame

    # The Decompressor against zlib's decompressobj: the same pieces and max_length give the same calls' results.
    frame = one if rd.chance(128) else streamed
    trailer = rd.blob(6) if rd.chance(64) else b""
    max_length = rd.pick([0, 0, 1, 3, 64, 1000])
    cut = pieces(rd, frame + trailer)
    got = stream_decompress(lz.Decompressor(), list(cut), max_length)
    zframe = zlib.compress(payload)
    zcut, pos = [], 0
    for p in cut:  # zlib's frame cut at the same relative points, so both see input in the same rhythm
        zcut.append(zframe[pos:pos + len(p)] if p is not cut[-1] else zframe[pos:])
        pos += len(p)
    zcut.append(trailer)
    want = stream_decompress(zlib.decompressobj(), zcut, max_length)
    assert got[0] == payload == want[0], (len(got[0]), len(payload))
    assert got[1] and want[1]
    assert got[2] == trailer, (got[2], trailer)

    # A changed frame: CorruptData, or bytes; one-shot and streaming must agree.
    bad = bytearray(frame)
    for _ in range(rd.between(1, 4)):
        how = rd.below(4)
        if how == 0 and bad:
            bad[rd.below(len(bad))] ^= 1 << rd.below(8)
        elif how == 1 and bad:
            del bad[rd.below(len(bad)):]
        elif how == 2:
            bad[rd.below(len(bad) + 1):rd.below(len(bad) + 1)] = rd.blob(4)
        elif bad:
            bad[rd.below(len(bad))] = rd.byte()
    bad = bytes(bad)
    whole = outcome(lambda: lz.decompress(bad, max_length=1 << 20))
    assert whole[0] == "ok" or issubclass(whole[1], ValueError), whole
    dec = lz.Decompressor()
    part = outcome(lambda: stream_decompress(dec, pieces(rd, bad), rd.pick([0, 1, 7])))
    if part[0] == "err":
        assert issubclass(part[1], ValueError), part
        assert whole[0] == "err", "streaming refused what the one-shot call accepted"
    elif whole[0] == "ok":
        out, eof, unused = part[1]
        assert (eof or not bad) and out == whole[1][:len(out)], "one-shot and streaming decode a frame differently"
    if whole[0] == "err" and part[0] == "ok":
        # One-shot reads every concatenated frame; the Decompressor stops after one, leaving the rest unused.
        out, eof, unused = part[1]
        assert not eof or unused, "streaming accepted a frame the one-shot call refused, with nothing after it"
    assert CorruptData is not None

    # A preset dictionary (drawn last, so the committed corpus keeps its earlier meaning): the frame round trips
    # one-shot and streamed; without it, with another or where the frame has none: a ValueError, not CorruptData.
    if filt is None and payload:
        dictionary = payload[rd.below(len(payload)):][:1 << w] + rd.blob(8)
        dictionary = dictionary[:1 << w]
        body = make_data(rd) or payload
        one = lz.compress(body, w, la, checksum, level, dictionary=dictionary)
        assert len(one) <= len(body) + 19 and one[4] == 4
        assert lz.decompress(one, dictionary=dictionary) == body
        comp = lz.Compressor(w, la, checksum, level, dictionary=dictionary)
        streamed = b"".join(comp.compress(p) for p in pieces(rd, body)) + comp.flush()
        assert streamed == one or len(one) < len(streamed)
        dec = lz.Decompressor(dictionary=dictionary)
        assert stream_decompress(dec, pieces(rd, streamed), rd.pick([0, 1, 7]))[0] == body
        other = bytes([dictionary[0] ^ 1]) + dictionary[1:]
        for wrong in (None, other):
            result = outcome(lambda: lz.decompress(one, dictionary=wrong))
            assert result[0] == "err" and issubclass(result[1], ValueError) and not issubclass(result[1], CorruptData)
        result = outcome(lambda: lz.decompress(lz.compress(body), dictionary=dictionary))
        assert result[0] == "err" and not issubclass(result[1], CorruptData)
        bad = bytearray(one)
        bad[rd.below(len(bad))] ^= 1 << rd.below(8)
        result = outcome(lambda: lz.decompress(bytes(bad), dictionary=dictionary, max_length=1 << 20))
        assert result[0] == "ok" or issubclass(result[1], ValueError), result


if __name__ == "__main__":
    main(test_one_input, "fuzz_lz")
