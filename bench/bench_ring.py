"""Ring against collections.deque (and numpy for the window reductions): memory per item, per-item speed, bulk
append, and window statistics.

Memory is measured with tracemalloc as the bytes still allocated after a container was built and filled inside the
traced region, divided by the item count: for the deque that includes the int/float objects it keeps alive (each
sample is computed inside the region, as a sensor read would create it), for the Ring the preallocated item block
and the object itself. Times are medians of alternating runs (bench/harness.py).
"""
from __future__ import annotations

import array
import statistics
import time
import tracemalloc
from collections import deque

import harness

from thrifty import Ring

TITLE = "Ring vs collections.deque"
CPU = time.process_time  # this process's CPU time: the machines are shared, and waiting is not the code's cost


def _retained_per_item(build, n: int) -> float:
    """Bytes still allocated after build() returned its container, per item."""
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    keep = build()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(keep) == n
    del keep
    return (after - before) / n


def _fill_int16(container, n):
    for i in range(n):
        container.append((i * 7919) % 65536 - 32768)  # a fresh int per sample, like a sensor read
    return container


def _fill_float(container, n):
    for i in range(n):
        container.append(i * 0.001 + 0.5)
    return container


def _memory_rows(quick: bool) -> list[list[str]]:
    n = 20_000 if quick else 100_000
    rows = []
    for label, fill, code, target in (
        (f"bytes per item, {n // 1000}k int16 samples", _fill_int16, "h", 18.0),
        (f"bytes per item, {n // 1000}k float64", _fill_float, "d", 3.8),
    ):
        d = harness.median_of(lambda: _retained_per_item(lambda: fill(deque(maxlen=n), n), n), 3)
        r = harness.median_of(lambda: _retained_per_item(lambda: fill(Ring(code, maxlen=n), n), n), 3)
        anchor = "`deque(maxlen=n)` of ints" if code == "h" else "`deque(maxlen=n)` of floats"
        rows.append([label, anchor, f"{d:.2f} B", f"`Ring('{code}')` {r:.2f} B", harness.ratio(d, r) + " smaller",
                     f">= {target}x", "met" if d / r >= target else "MISSED"])
    return rows


def _speed_rows(quick: bool) -> list[list[str]]:
    rows = []
    # append + popleft on a steady window, from Python: the per-item cost a streaming loop pays
    n = 50_000 if quick else 200_000
    ints = [(i * 7919) % 65536 - 32768 for i in range(n)]

    def churn(container):
        def run():
            ap, pl = container.append, container.popleft
            for v in ints:
                ap(v)
                pl()

        return run

    d = deque(ints[:1024], maxlen=2048)
    for code, target in (("O", 1.0), ("h", 0.85), ("q", 0.85)):
        r = Ring(code, ints[:1024], maxlen=2048)
        td, tr = harness.alternate(churn(d), churn(r), repeat=5 if quick else 41, number=3, timer=CPU)
        rows.append([f"append + popleft, per item, `Ring('{code}')`", "`deque`", harness.fmt_time(td / n),
                     harness.fmt_time(tr / n), harness.ratio(td, tr) + " speed", f">= {target}x",
                     "met" if td / tr >= target else "MISSED"])

    # append to a full window (the common embedded case: a fixed window of the latest samples, always full), each
    # append dropping the oldest item; the values are made before timing, so both sides pay only the append
    w = 1024
    floats = [v / 7.0 for v in ints]
    for code, vals in (("b", [v % 256 - 128 for v in ints]), ("h", ints), ("i", ints), ("q", ints), ("f", floats),
                       ("d", floats), ("O", ints)):
        d = deque(vals[:w], maxlen=w)
        r = Ring(code, vals[:w], maxlen=w)

        def full(container, vals=vals):
            def run():
                ap = container.append
                for v in vals:
                    ap(v)

            return run

        # short rounds, many of them: a round is a few ms, so the medians shrug off the other processes' bursts
        td, tr = harness.alternate(full(d), full(r), repeat=5 if quick else 41, number=3, timer=CPU)
        assert r.full and len(r) == len(d) == w
        rows.append([f"append to a full window of {w}, per item, `Ring('{code}', maxlen={w})`",
                     f"`deque(maxlen={w}).append`", harness.fmt_time(td / n), harness.fmt_time(tr / n),
                     harness.ratio(td, tr) + " speed", ">= 1.0x", "met" if td / tr >= 1.0 else "MISSED"])

    # bulk append of 1M int16 from an array
    m = 200_000 if quick else 1_000_000
    src = array.array("h", ints[: min(n, m)] * (m // min(n, m)))
    td, tr = harness.alternate(lambda: deque(maxlen=m).extend(src), lambda: Ring("h", maxlen=m).write(src),
                               repeat=5 if quick else 7, timer=CPU)
    rows.append([f"bulk append of {m // 1000}k int16 from an `array`", "`deque.extend`", harness.fmt_time(td),
                 f"`Ring.write` {harness.fmt_time(tr)}", harness.ratio(td, tr) + " faster", ">= 20x",
                 "met" if td / tr >= 20 else "MISSED"])
    return rows


def _window_rows(quick: bool) -> list[list[str]]:
    import numpy as np

    rows = []
    w = 1024
    number = 20 if quick else 200
    for code, np_type in (("h", np.int16), ("d", np.float64)):
        values = [((i * 7919) % 65536 - 32768) for i in range(w)]
        if code == "d":
            values = [v / 7.0 for v in values]
        d = deque(values, maxlen=w)
        r = Ring(code, values, maxlen=w)
        a = np.array(values, dtype=np_type)
        assert r.min() == min(d) and r.max() == max(d) and abs(r.mean() - statistics.fmean(d)) < 1e-6

        def py():
            return statistics.fmean(d), min(d), max(d)

        def ours():
            return r.mean(), r.min(), r.max()

        def numpy_():
            return a.mean(), a.min(), a.max()

        tp, tr = harness.alternate(py, ours, repeat=7, number=number, timer=CPU)
        tn, tr2 = harness.alternate(numpy_, ours, repeat=7, number=number, timer=CPU)
        rows.append([f"mean/min/max of a {w}-item window, `Ring('{code}')`",
                     "`statistics.fmean`/`min`/`max` over a deque", harness.fmt_time(tp), harness.fmt_time(tr),
                     harness.ratio(tp, tr) + " faster", ">= 30x", "met" if tp / tr >= 30 else "MISSED"])
        rows.append(["", f"numpy `mean`/`min`/`max` on an ndarray ({np_type.__name__})", harness.fmt_time(tn),
                     harness.fmt_time(tr2), harness.ratio(tn, tr2) + " faster", ">= 1.5x",
                     "met" if tn / tr2 >= 1.5 else "MISSED"])
    return rows


def run(quick: bool) -> str:
    headers = ["what", "anchor", "anchor result", "Ring result", "ratio", "target", ""]
    rows = _memory_rows(quick) + _speed_rows(quick) + _window_rows(quick)
    note = (
        "Bytes per item: tracemalloc, bytes still allocated after filling the container inside the traced region, "
        "divided by the item count (the deque's figure includes the number objects it keeps alive). Times are CPU "
        "time of the benchmark process (time.process_time), medians of alternating runs; speed ratios are anchor "
        "time / Ring time, so above 1 means Ring is faster. The window rows use `Ring('h')` for the target (int16 "
        "sensor samples); the `Ring('d')` rows are for reference. The full-window rows append to a Ring and a deque "
        "that are already full (maxlen 1024), so every append drops the oldest item, as a fixed window of the latest "
        "samples does; the values exist before timing. In append + popleft a typed Ring makes a new int per pop while "
        "a deque hands back the object it stored, hence the lower target there."
    )
    return harness.table(headers, rows) + "\n\n" + note
