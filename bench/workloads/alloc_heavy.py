"""thrifty's own allocation-heavy workload for bench_tracker: many small short-lived objects (dicts, tuples,
strings, lists), a growing then shrinking working set, and some larger buffers — the tracker's worst case."""


class Point:
    __slots__ = ("x", "y", "tag")

    def __init__(self, x, y, tag):
        self.x, self.y, self.tag = x, y, tag


def work():
    keep = []
    for i in range(20000):
        rec = {"id": i, "name": f"item-{i}", "pos": (i, i * 2), "vals": [i, i + 1, i + 2]}
        p = Point(i, -i, rec["name"])
        if i % 10 == 0:
            keep.append((rec, p))
        if i % 1000 == 0:
            keep.append(bytearray(16384))
    text = ",".join(str(k[0]["id"]) for k in keep if isinstance(k, tuple))
    del keep[::2]
    return len(text) + len(keep)


if __name__ == "__main__":
    import pyperf

    pyperf.Runner().bench_func("alloc_heavy", work)
