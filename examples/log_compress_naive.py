"""Compress a sensor log with zlib's defaults, then read it back (the naive version of log_compress.py).

The log is streamed through 4 KiB chunks both ways; what is measured is the codec's memory. The memory line
(with the compressed size, which differs between the codecs) goes to stderr.
"""
import hashlib
import os
import random
import sys
import tempfile
import tracemalloc
import zlib

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
        path = os.path.join(tmp, "sensors.csv.z")
        tracemalloc.start()
        c = zlib.compressobj()                         # level 6, a 32 KiB window, memLevel 8
        with open(path, "wb") as f:
            for i in range(0, len(data), CHUNK):
                f.write(c.compress(data[i:i + CHUNK]))
            f.write(c.flush())
        d, digest, restored = zlib.decompressobj(), hashlib.sha256(), 0
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
    print(f"memory: zlib, traced heap peak {peak:,} B (compressed {len(data):,} -> {packed:,} B)", file=sys.stderr)


if __name__ == "__main__":
    main()
