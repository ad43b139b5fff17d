"""Allowed device IDs as a frozenset loaded from a text file (the naive version of lookup_table.py).

A gateway accepts messages only from registered devices. Writing the table is setup (done once, elsewhere);
loading it and checking a stream of incoming IDs is what is measured. The memory line goes to stderr.
"""
import os
import random
import sys
import tempfile
import tracemalloc

REGISTERED = 50_000


def ids(seed=11):
    rng = random.Random(seed)
    allowed = rng.sample(range(10**9), REGISTERED)
    incoming = [rng.choice(allowed) if rng.random() < 0.7 else rng.randrange(10**9) for _ in range(20_000)]
    return allowed, incoming


def main():
    allowed, incoming = ids()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "allowed.txt")
        with open(path, "w") as f:                               # setup: one ID a line
            f.write("\n".join(map(str, allowed)))
        tracemalloc.start()
        with open(path) as f:
            table = frozenset(int(line) for line in f)           # one int object + a hash slot per ID
        accepted = sum(1 for device in incoming if device in table)
        rejected = [device for device in incoming if device not in table][:3]
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    print(f"{len(table)} registered IDs; accepted {accepted} of {len(incoming)} messages; "
          f"first rejected: {rejected}")
    print(f"memory: frozenset loaded from text, traced heap peak {peak:,} B", file=sys.stderr)


if __name__ == "__main__":
    main()
