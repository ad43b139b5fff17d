"""A rolling window of int16 sensor samples kept in a collections.deque (the naive version of ring_window.py).

Every 15 000 samples it prints the window's min, max and mean. The memory line goes to stderr.
"""
import random
import sys
import tracemalloc
from collections import deque

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
    window = deque(maxlen=WINDOW)      # each sample is a pointer in a deque block + its own int object
    for i, s in enumerate(samples(), 1):
        window.append(s)
        if i % 15_000 == 0:
            print(f"after {i:>6} samples: min {min(window):>6}  max {max(window):>6}  "
                  f"mean {sum(window) / len(window):10.3f}")
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"memory: deque of {len(window)} samples, traced heap {current:,} B now, {peak:,} B peak", file=sys.stderr)


if __name__ == "__main__":
    main()
