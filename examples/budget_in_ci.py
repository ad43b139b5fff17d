"""A CI gate: count_allocs(), no_alloc() and budget() around two handlers of 64-byte sensor frames. on_frame_naive
unpacks each frame into a growing list of ints; on_frame copies it into storage made up front. The exit status is 1
if on_frame allocates or breaks its budget. stdout: the verdicts; stderr: the allocation counts.
"""
import random
import struct
import sys

import thrifty
from thrifty import Ring

rng = random.Random(1)
FRAMES = [rng.randbytes(64) for _ in range(2000)]      # 32 int16 samples each
history = []                                            # naive: every sample an int object, kept forever
staging = bytearray(64)                                 # lean: all storage made before any guard
staged, as_int16, window = memoryview(staging), memoryview(staging).cast('h'), Ring('h', maxlen=4096)


def on_frame_naive(frame):
    history.extend(struct.unpack('<32h', frame))


def on_frame(frame):
    staged[:] = frame                                   # copy into the buffer that already exists
    window.write(as_int16)                              # raw int16 into the Ring: no int objects


def check(handler):
    refused, blocks, nbytes = [], 0, 0
    for frame in FRAMES[:100]:
        with thrifty.count_allocs() as c:               # around the call only, not the loop's own objects
            handler(frame)
        blocks, nbytes = blocks + c.blocks, nbytes + c.bytes
    try:
        for frame in FRAMES:
            with thrifty.no_alloc():                    # the loop's iterator stays outside the guard
                handler(frame)
    except thrifty.AllocationError as e:
        refused.append(e)
    try:
        with thrifty.budget("64 KiB"):
            for frame in FRAMES:
                handler(frame)
    except thrifty.BudgetExceeded as e:
        refused.append(e)
    return refused, f"{handler.__name__} {blocks:,} allocations / {nbytes:,} B"


def main():
    naive, naive_counts = check(on_frame_naive)
    lean, lean_counts = check(on_frame)
    for name, refused in (("on_frame_naive", naive), ("on_frame", lean)):
        print(f"{name}: " + ("\n  ".join(["refused"] + [f"{type(e).__name__}: {e}" for e in refused])
                             if refused else "passes no_alloc() and budget('64 KiB')"))
    print(f"memory: count_allocs over 100 frames: {naive_counts}, {lean_counts}", file=sys.stderr)
    return 1 if lean else 0                             # the gate: the lean handler must pass


if __name__ == "__main__":
    sys.exit(main())
