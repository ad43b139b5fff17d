"""Scan a log file with thrifty.lines() through one 16 KiB block (naive: log_scan_naive.py).

Counts lines per level and keeps the first three errors. Each line is the same View, re-pointed; memory stays
at one block however long the log is. The memory line goes to stderr.
"""
import os
import random
import sys
import tempfile
import tracemalloc

from thrifty import lines

LINES = 60_000


def write_log(path, seed=3):
    rng = random.Random(seed)
    with open(path, "w") as f:
        for i in range(LINES):
            level = rng.choices(["INFO ", "WARN ", "ERROR"], [90, 8, 2])[0]
            f.write(f"2026-11-24T{i // 3600 % 24:02}:{i // 60 % 60:02}:{i % 60:02} {level} "
                    f"sensor {rng.randrange(64):02} reading {rng.uniform(-40, 85):.2f}\n")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "app.log")
        write_log(path)
        tracemalloc.start()
        counts, errors = {}, []
        with open(path, "rb", buffering=0) as f:        # lines() does its own buffering in the block
            for line in lines(f, 16 * 1024):             # line ends stripped, as bytes.splitlines()
                level = line[20:25]                      # slicing a View copies just these 5 bytes
                counts[level] = counts.get(level, 0) + 1
                if level == b"ERROR" and len(errors) < 3:
                    errors.append(line.decode())
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        size = os.path.getsize(path)
    print(", ".join(f"{level.decode().strip()}: {n}" for level, n in sorted(counts.items())))
    print("\n".join(errors))
    print(f"memory: lines() over a {size:,} B log, traced heap peak {peak:,} B", file=sys.stderr)


if __name__ == "__main__":
    main()
