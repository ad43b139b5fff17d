"""Allowed device IDs as a thrifty.FrozenSet used straight from a file via mmap (naive: lookup_table_naive.py).

A gateway accepts messages only from registered devices. Building the table file is setup (done once, on the
host); loading it and checking a stream of incoming IDs is what is measured. The memory line goes to stderr.
"""
import mmap
import os
import random
import sys
import tempfile
import tracemalloc

from thrifty import FrozenSet

REGISTERED = 50_000


def ids(seed=11):
    rng = random.Random(seed)
    allowed = rng.sample(range(10**9), REGISTERED)
    incoming = [rng.choice(allowed) if rng.random() < 0.7 else rng.randrange(10**9) for _ in range(20_000)]
    return allowed, incoming


def main():
    allowed, incoming = ids()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "allowed.frz")
        with open(path, "wb") as f:                              # setup: the table's own portable block
            f.write(FrozenSet(allowed).tobytes())
        tracemalloc.start()
        with open(path, "rb") as f:                              # no parsing, no rebuild: the file is the table
            block = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        table = FrozenSet.frombuffer(block)
        accepted = sum(1 for device in incoming if device in table)
        rejected = [device for device in incoming if device not in table][:3]
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        size, registered = len(block), len(table)
        del table                                                # the table holds an export of the mmap
        block.close()
    print(f"{registered} registered IDs; accepted {accepted} of {len(incoming)} messages; "
          f"first rejected: {rejected}")
    print(f"memory: FrozenSet mapped from a {size:,} B file, traced heap peak {peak:,} B", file=sys.stderr)


if __name__ == "__main__":
    main()
