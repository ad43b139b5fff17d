"""A rolling window of int16 sensor samples kept in a thrifty.Ring (the deque version: ring_window_naive.py).

Every 15 000 samples it prints the window's min, max and mean. The memory line goes to stderr.
"""
import random
import sys
import tracemalloc

from thrifty import Ring

WINDOW = 8192          # samples kept: the last ~8 s at 1 kHz
SAMPLES = 60_000


def samples(seed=7):
    rng = random.Random(seed)
    level = 0
    for _ in range(SAMPLES):
        level = max(-32768, min(32767, level + rng.randint(-300, 300)))   # a drifting ADC reading
        yield level


def main():
    tracemalloc.start()
    window = Ring('h', maxlen=WINDOW)  # 2 bytes a sample, allocated once; oldest samples drop off as in deque
    for i, s in enumerate(samples(), 1):
        window.append(s)
        if i % 15_000 == 0:            # the reductions run in C over the raw int16 values
            print(f"after {i:>6} samples: min {window.min():>6}  max {window.max():>6}  "
                  f"mean {window.mean():10.3f}")
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"memory: Ring of {len(window)} samples, traced heap {current:,} B now, {peak:,} B peak", file=sys.stderr)


if __name__ == "__main__":
    main()
