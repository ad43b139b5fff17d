"""thrifty.Interner weak mode against strong mode: what exact len() costs, and that intern() does not pay for it."""
from __future__ import annotations

import harness

import thrifty

TITLE = "Interner weak mode (exact len)"


def _rows(quick: bool) -> list[list[str]]:
    n = 10_000 if quick else 100_000
    # equal copies, distinct objects: every call after the first of a value is a hit
    words = ["".join(["word", str(i % 1000)]) for i in range(n)]
    rows = []

    def intern_all(weak: bool):
        def go():
            it = thrifty.Interner(weak=weak)
            for w in words:
                it.intern(w)
        return go

    t_strong, t_weak = harness.alternate(intern_all(False), intern_all(True), repeat=7)
    rows.append([f"intern {n} str (1000 distinct)", harness.fmt_time(t_strong / n), harness.fmt_time(t_weak / n),
                 f"{t_weak / t_strong:.2f}x", "≈ 1x (intern() never sweeps unless the table is full)"])

    for live in (1_000, n):
        strong, weak = thrifty.Interner(), thrifty.Interner(weak=True)
        keep = ["".join(["key", str(i)]) for i in range(live)]
        for k in keep:
            strong.intern(k)
            weak.intern(k)
        calls = 100
        t_strong, t_weak = harness.alternate(lambda: [len(strong) for _ in range(calls)],
                                             lambda: [len(weak) for _ in range(calls)], repeat=5)
        assert len(weak) == live
        rows.append([f"len() with {live} live entries", harness.fmt_time(t_strong / calls),
                     harness.fmt_time(t_weak / calls), f"{t_weak / t_strong:.0f}x",
                     "report (weak: a sweep of every slot, O(capacity))"])
    return rows


def run(quick: bool) -> str:
    return "\n".join([
        "Strong mode is the anchor: weak mode's len() sweeps the table so that it counts only entries held elsewhere. "
        "Time per call (a len() call timed in a loop of 100, loop included), median of alternating runs.\n",
        harness.table(["workload", "strong", "weak", "weak / strong (time)", "target"], _rows(quick)),
    ])
