"""Parse a sensor CSV into (station, metric, unit, value) rows, labels interned (naive: interned_labels_naive.py).

30 000 rows name only 24 stations and 3 metrics; thrifty.Interner hands back one canonical str per label, so the
rows share them. thrifty.sizeof(rows, deep=True) counts every object the rows reach once, and the interner's own
table is added in. Memory line on stderr.
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
    labels = thrifty.Interner()
    rows = []
    for line in io.StringIO(text):
        station, metric, unit, value = line.rstrip("\n").split(",")
        rows.append((labels.intern(station), labels.intern(metric), labels.intern(unit), float(value)))
    series = {(station, metric) for station, metric, _, _ in rows}
    means = {}
    for _, metric, unit, value in rows:
        total, n = means.get((metric, unit), (0.0, 0))
        means[metric, unit] = (total + value, n + 1)
    print(f"{len(rows)} rows, {len(series)} series")
    for (metric, unit), (total, n) in sorted(means.items()):
        print(f"  mean {metric}: {total / n:.3f} {unit}")
    kept = thrifty.sizeof(rows, deep=True) + thrifty.sizeof(labels)
    print(f"memory: rows keep {kept:,} B (thrifty.sizeof, deep, with the interner's table; "
          f"{labels.stats()['hits']:,} duplicate labels dropped)", file=sys.stderr)


if __name__ == "__main__":
    main()
