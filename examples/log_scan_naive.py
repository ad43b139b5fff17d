"""Scan a log file with readlines() (the naive version of log_scan.py).

Counts lines per level and keeps the first three errors. The whole file becomes a list of bytes objects first;
the memory line goes to stderr.
"""
import os
import random
import sys
import tempfile
import tracemalloc

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
        with open(path, "rb") as f:
            for line in f.readlines():                 # every line of the file alive at once
                level = line[20:25]
                counts[level] = counts.get(level, 0) + 1
                if level == b"ERROR" and len(errors) < 3:
                    errors.append(line.rstrip(b"\n").decode())
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        size = os.path.getsize(path)
    print(", ".join(f"{level.decode().strip()}: {n}" for level, n in sorted(counts.items())))
    print("\n".join(errors))
    print(f"memory: readlines() over a {size:,} B log, traced heap peak {peak:,} B", file=sys.stderr)


if __name__ == "__main__":
    main()
