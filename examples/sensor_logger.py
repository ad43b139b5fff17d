"""A sensor logger written the naive way: the program `make demo` diagnoses.

It reads a stream of temperature/humidity readings from eight simulated sensors, keeps a sliding window for a
moving average, flags readings from sensors on a watch list, writes a log, and prints a summary. Every habit it
breaks is a common one: a list used as a queue, per-sensor lists of floats, membership tests against a list, files
opened and left to the garbage collector, a global cache that only grows, parent/child objects that form cycles,
equal label strings built again for every reading, and reading a whole file back to count its lines.
examples/sensor_logger_lean.py is the same program written with thrifty; both print exactly the same.
"""
import os
import random
import sys
import tempfile

READINGS = int(sys.argv[1]) if len(sys.argv) > 1 else 60_000
BATCH = 500
WINDOW = 2_000
SENSORS = [f"sensor-{i:02d}" for i in range(8)]
WATCH_LIST = [f"sensor-{i:02d}" for i in range(0, 8, 3)]  # sensors under observation
LOG = os.path.join(tempfile.gettempdir(), f"sensor_log_{os.getpid()}_naive.txt")

window = []  # the last WINDOW readings, oldest first
history = {s: [] for s in SENSORS}  # every reading ever made, per sensor, as a record
format_cache = {}  # formatted log line per reading
alerts = 0


class Batch:
    def __init__(self, number):
        self.number = number
        self.readings = []


class Reading:
    def __init__(self, batch, sensor, value):
        self.batch = batch  # back-reference to the parent: Batch.readings -> Reading.batch -> Batch
        self.sensor = sensor
        self.value = value
        self.label = f"{sensor}/ambient/temperature-and-humidity/calibrated/degrees-celsius"
        batch.readings.append(self)


def fmt(reading, i):
    key = (reading.sensor, i)
    if key not in format_cache:
        format_cache[key] = f"{i:08d} {reading.sensor} {reading.value:8.3f}\n"
    return format_cache[key]


def record(batch):
    global alerts
    log = open(LOG, "a")
    for i, r in enumerate(batch.readings, start=batch.number * BATCH):
        window.append(r.value)
        if len(window) > WINDOW:
            window.pop(0)
        history[r.sensor].append({"label": r.label, "value": r.value})
        if r.sensor in WATCH_LIST and r.value > 29.5:
            alerts += 1
        log.write(fmt(r, i))


def main():
    rng = random.Random(42)
    open(LOG, "w").close()
    for b in range(READINGS // BATCH):
        batch = Batch(b)
        for _ in range(BATCH):
            sensor = SENSORS[rng.randrange(len(SENSORS))]
            Reading(batch, sensor, round(20 + rng.random() * 10, 3))
        record(batch)
    text = open(LOG).read()
    lines = text.splitlines()
    print(f"readings logged: {len(lines)}")
    print(f"alerts on watched sensors: {alerts}")
    print(f"moving average of the last {WINDOW}: {sum(window) / len(window):.4f}")
    for s in SENSORS:
        values = [rec["value"] for rec in history[s]]
        mean = sum([v for v in values]) / len(values)
        print(f"{s}: n={len(values)} mean={mean:.4f} min={min(values):.3f} max={max(values):.3f}")
    os.remove(LOG)


main()
