"""Compress a sensor log with thrifty.lz, then read it back (the zlib version: log_compress_naive.py).

The log is streamed through 4 KiB chunks both ways; what is measured is the codec's memory. thrifty.lz keeps its
whole state in one small block sized by window_bits. The memory line (with the compressed size, which differs
between the codecs) goes to stderr.
"""
import hashlib
import os
import random
import sys
import tempfile
import tracemalloc

from thrifty import lz

CHUNK = 4096


def sensor_log(seed=9, rows=40_000):
    rng = random.Random(seed)
    t, temp = 1_700_000_000, 21.0
    for _ in range(rows):
        t += rng.choice((1, 1, 1, 2))
        temp += rng.uniform(-0.05, 0.05)
        yield f"{t},node-{rng.randrange(8)},{temp:.2f},{rng.randrange(40, 60)}\n".encode()


def main():
    data = b"".join(sensor_log())
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "sensors.csv.tlz")
        tracemalloc.start()
        c = lz.Compressor(window_bits=10)              # a 1 KiB window: what the device's decoder must afford
        with open(path, "wb") as f:
            for i in range(0, len(data), CHUNK):
                f.write(c.compress(data[i:i + CHUNK]))
            f.write(c.flush())
        d, digest, restored = lz.Decompressor(), hashlib.sha256(), 0
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                while chunk:                           # at most CHUNK bytes out at a time
                    out = d.decompress(chunk, CHUNK)
                    chunk = d.unconsumed_tail
                    digest.update(out)
                    restored += len(out)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        packed = os.path.getsize(path)
    same, rows = digest.hexdigest() == hashlib.sha256(data).hexdigest(), data.count(b"\n")
    print(f"{rows} log rows, {restored:,} bytes restored, round trip {'ok' if same else 'FAILED'}")
    print(f"memory: thrifty.lz, traced heap peak {peak:,} B (compressed {len(data):,} -> {packed:,} B)",
          file=sys.stderr)


if __name__ == "__main__":
    main()
