"""Parse a sensor CSV into (station, metric, unit, value) rows, one new str per field (naive: interned_labels.py).

30 000 rows name only 24 stations and 3 metrics, yet each row keeps its own copies of those labels. thrifty is used
here only to measure: sizeof(rows, deep=True) counts every object the rows reach once. Memory line on stderr.
"""
import io
import random
import sys

import thrifty

METRICS = (("temperature", "celsius"), ("humidity", "percent"), ("pressure", "hectopascal"))


def csv_text(seed=4, rows=30_000):
    rng = random.Random(seed)
    out = io.StringIO()
    for _ in range(rows):
        metric, unit = rng.choice(METRICS)
        out.write(f"greenhouse-{rng.randrange(24):02}/bay-north,{metric},{unit},{rng.uniform(0, 100):.2f}\n")
    return out.getvalue()


def main():
    text = csv_text()
    rows = []
    for line in io.StringIO(text):
        station, metric, unit, value = line.rstrip("\n").split(",")
        rows.append((station, metric, unit, float(value)))
    series = {(station, metric) for station, metric, _, _ in rows}
    means = {}
    for _, metric, unit, value in rows:
        total, n = means.get((metric, unit), (0.0, 0))
        means[metric, unit] = (total + value, n + 1)
    print(f"{len(rows)} rows, {len(series)} series")
    for (metric, unit), (total, n) in sorted(means.items()):
        print(f"  mean {metric}: {total / n:.3f} {unit}")
    print(f"memory: rows keep {thrifty.sizeof(rows, deep=True):,} B (thrifty.sizeof, deep)", file=sys.stderr)


if __name__ == "__main__":
    main()
