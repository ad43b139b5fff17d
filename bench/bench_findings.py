"""thrifty.sizeof vs pympler.asizeof (speed and agreement), and thrifty.Interner vs sys.intern / a dict."""
from __future__ import annotations

import random
import sys
import time

import harness

import thrifty

TITLE = "sizeof and Interner (doctor findings)"


def _containers(n: int) -> dict[str, object]:
    rng = random.Random(1)
    return {
        f"list of {n} ints": list(range(-n // 4, n)),
        f"list of {n} floats": [rng.random() for _ in range(n)],
        f"dict str->float ({n})": {f"key{i}": i * 1.5 for i in range(n)},
        f"set of {n} str": {f"member-{i}" for i in range(n)},
        f"{n // 3} nested [int, str, float]": [[i, str(i), float(i)] for i in range(n // 3)],
        f"dict of lists ({n // 10})": {i: list(range(i % 20)) for i in range(n // 10)},
    }


def _ast_tree() -> tuple[str, object]:
    """A large module's syntax tree (hotpaths.py's sz_ast): thousands of small class instances, each with a dict, and
    the same attribute names and small ints again and again."""
    import argparse
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(argparse))
    return f"ast.parse(argparse.py), {sum(1 for _ in ast.walk(tree))} nodes", tree


def _sizeof_rows(quick: bool) -> list[list[str]]:
    from pympler import asizeof

    rows = []
    objects = _containers(2_000 if quick else 20_000)
    name, tree = _ast_tree()
    objects[name] = tree
    for name, obj in objects.items():
        theirs_size = asizeof.asizeof(obj)
        ours_size = thrifty.sizeof(obj, deep=True, align=8)
        t_theirs, t_ours = harness.alternate(lambda: asizeof.asizeof(obj), lambda: thrifty.sizeof(obj, deep=True),
                                             repeat=3 if quick else 7, timer=time.process_time)
        diff = (ours_size - theirs_size) / theirs_size
        rows.append([name, harness.fmt_time(t_theirs), harness.fmt_time(t_ours), harness.ratio(t_theirs, t_ours),
                     "≥ 30x", f"{diff:+.2%}", "within ±2%"])
    return rows


def _interner_rows(quick: bool) -> list[list[str]]:
    n = 20_000 if quick else 200_000
    rng = random.Random(2)
    words = [f"sensor-{rng.randrange(64):02d}/temperature/celsius" for _ in range(n)]
    fresh = ["".join([w[:7], w[7:]]) for w in words]  # equal copies, distinct objects
    tuples = [(w, i % 16) for i, w in enumerate(fresh)]
    rows = []

    def run_interner():
        it = thrifty.Interner()
        for w in fresh:
            it.intern(w)

    def run_sys():
        for w in fresh:
            sys.intern(w)

    def run_dict():
        d: dict = {}
        for w in fresh:
            d.setdefault(w, w)

    t_sys, t_ours = harness.alternate(run_sys, run_interner, repeat=5)
    t_dict, t_ours2 = harness.alternate(run_dict, run_interner, repeat=5)
    rows.append([f"intern {n} str (64 distinct)", "sys.intern", harness.fmt_time(t_sys / n),
                 harness.fmt_time(t_ours / n), harness.ratio(t_sys, t_ours), "report"])
    rows.append([f"intern {n} str (64 distinct)", "dict.setdefault", harness.fmt_time(t_dict / n),
                 harness.fmt_time(t_ours2 / n), harness.ratio(t_dict, t_ours2), "report"])

    before = thrifty.sizeof(tuples, deep=True)
    it = thrifty.Interner()
    interned = [it.intern(t) for t in tuples]
    after = thrifty.sizeof(interned, deep=True)
    stats = it.stats()
    rows.append([f"list of {n} (str, int) tuples", "memory, no interning → interned", harness.fmt_bytes(before),
                 harness.fmt_bytes(after), harness.ratio(before, after),
                 f"stats(): {stats['hits']} hits, {harness.fmt_bytes(stats['bytes_saved'])} saved"])
    return rows


def run(quick: bool) -> str:
    out = ["### thrifty.sizeof(obj, deep=True) vs pympler.asizeof.asizeof(obj)\n",
           "CPU time per call (median of 7, alternating sides) and the size each reports (thrifty with align=8, pympler's "
           "default, for the comparison).\n",
           harness.table(["container", "pympler", "thrifty", "speed-up", "target", "size difference", "target"],
                         _sizeof_rows(quick)),
           "\n### thrifty.Interner\n",
           harness.table(["workload", "anchor", "anchor (per call or bytes)", "thrifty", "anchor / thrifty", "note"], _interner_rows(quick))]
    return "\n".join(out)
