"""The sensor logger of sensor_logger.py rewritten with thrifty: same input, same output, a fraction of the memory.

What changed, habit by habit (each line is a finding `thrifty doctor` reports on the naive version):
- data structures: the sliding window is a bounded thrifty.Ring of doubles instead of a list used as a queue
  (pop(0) moved every item); per-sensor history is a typed Ring('d') (8 bytes a value, no float objects) instead
  of a list of dict records; the watch list is a thrifty.FrozenSet.
- object creation: one label string per sensor, shared through thrifty.Interner, instead of one per reading; no
  cache of formatted lines that only grows.
- references: readings no longer point back at their batch (no cycles for the GC to find); files are closed by
  `with`.
- footprint: the log is counted by streaming it through one block with thrifty.lines instead of reading it whole;
  the temporary directory comes from $TMPDIR as tempfile.gettempdir() would find it, without `import tempfile`
  (1.3 MB of imports, most of this program's peak, for one directory name).
"""
import os
import random
import sys

from thrifty import FrozenSet, Interner, Ring, lines

READINGS = int(sys.argv[1]) if len(sys.argv) > 1 else 60_000
BATCH = 500
WINDOW = 2_000
SENSORS = [f"sensor-{i:02d}" for i in range(8)]
WATCH_LIST = FrozenSet(f"sensor-{i:02d}" for i in range(0, 8, 3))
LOG = os.path.join(os.environ.get("TMPDIR") or "/tmp", f"sensor_log_{os.getpid()}_lean.txt")

labels = Interner()


class Reading:
    __slots__ = ("sensor", "value", "label")

    def __init__(self, sensor, value):
        self.sensor = sensor
        self.value = value
        self.label = labels.intern(f"{sensor}/ambient/temperature-and-humidity/calibrated/degrees-celsius")


class Logger:
    """All the state of one logging session, owned by one object instead of module globals."""

    def __init__(self):
        self.window = Ring("d", maxlen=WINDOW)  # appending to a full Ring drops the oldest
        self.history = {s: Ring("d") for s in SENSORS}
        self.label = {}
        self.alerts = 0

    def record(self, number, batch, log):
        for i, r in enumerate(batch, start=number * BATCH):
            self.window.append(r.value)
            self.history[r.sensor].append(r.value)
            self.label[r.sensor] = r.label
            if r.sensor in WATCH_LIST and r.value > 29.5:
                self.alerts += 1
            log.write(f"{i:08d} {r.sensor} {r.value:8.3f}\n")


def count_lines(path):
    with open(path, "rb", buffering=0) as f:
        return sum(1 for _ in lines(f, 4096))


def main():
    rng = random.Random(42)
    state = Logger()
    with open(LOG, "w") as log:
        for b in range(READINGS // BATCH):
            batch = []
            for _ in range(BATCH):
                sensor = SENSORS[rng.randrange(len(SENSORS))]
                batch.append(Reading(sensor, round(20 + rng.random() * 10, 3)))
            state.record(b, batch, log)
    print(f"readings logged: {count_lines(LOG)}")
    print(f"alerts on watched sensors: {state.alerts}")
    print(f"moving average of the last {WINDOW}: {sum(state.window) / len(state.window):.4f}")
    for s in SENSORS:
        values = state.history[s]
        mean = sum(values) / len(values)
        print(f"{s}: n={len(values)} mean={mean:.4f} min={min(values):.3f} max={max(values):.3f}")
    os.remove(LOG)


main()
