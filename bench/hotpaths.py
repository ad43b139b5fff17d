"""The hot paths issue 17 asks to keep as fast (Interner.intern, the sizeof walk, the tracker's allocation hook), as
workloads to compare two builds instruction by instruction. Not part of `make bench` (no bench_ prefix).

    python bench/hotpaths.py WORKLOAD [REPS]     prints the CPU seconds of REPS runs of the workload

The instructions inside the hot path only, for one build (PYTHONPATH=that checkout's src picks it):

    valgrind --tool=callgrind --toggle-collect=Interner_intern python bench/hotpaths.py in_new      # in_*
    valgrind --tool=callgrind --toggle-collect=tf_sizeof python bench/hotpaths.py sz_shared         # sz_*
    valgrind --tool=callgrind --toggle-collect=hook_malloc --toggle-collect=hook_calloc \
        --toggle-collect=hook_realloc --toggle-collect=hook_free python bench/hotpaths.py tr_exact     # tr_*

    valgrind --tool=callgrind --toggle-collect=PySequence_Contains python bench/hotpaths.py fz_ids_own_ours   # fz_*

and read `summary:` in the callgrind.out file. Workloads: in_new (200k distinct str, every call a new entry),
in_newint, in_newtuple, in_hit (64 distinct str, fresh copies), in_1000, in_tuple; sz_ints, sz_floats, sz_dict,
sz_set, sz_nested, sz_dictlists (bench_findings' containers), sz_shared (20k references to 2k str), sz_shared_excl,
sz_dict_excl (exclusive=True), sz_ast (argparse's tree); tr_exact, tr_sampled (the tracker over an allocating loop);
fz_KIND_CASE_SIDE: one pass of `k in s` over 100k queries, bench_frozen's lookup matrix (KIND small, ids, idents; CASE
own: hits with the table's own key objects, fresh: hits with equal fresh objects, miss; SIDE ours: FrozenSet,
anchor: frozenset). PySequence_Contains is the `in` of both sides (CONTAINS_OP calls it on 3.11-3.13), so its
toggle counts the lookup alone, and its Ir / (100k * REPS) is the instructions an op.
fm_KIND_CASE_SIDE: the same tables and queries as FrozenMap / dict, one pass of `get(k)` (bench_frozen's `m.get(k)`
rows); toggle on fmap_get (ours) or dict_get (anchor), which 3.11's specialized call runs directly.
po_FORM_SIZE: 100k iterations of bench_pool's loops, FORM explicit (`b = acquire(); b.release()`), with (`with
acquire() as b: pass`) or anchor (`b = bytearray(SIZE); del b`), SIZE 64, 256, 1024 or 4096; po_floor (`x = gcd();
x.conjugate()`, the floor row), po_borrow / po_objexplicit (ObjectPool's `with borrow()` and `acquire()` /
`release(obj)`), po_listpool (the list pool's `pop` / `append`). These loops run no one C function to toggle on, so

    python bench/hotpaths.py --count po_explicit_64      # callgrind twice, prints the instructions an iteration

counts the whole process at REPS 1 and 11 and divides the difference by 10 * 100k: the loop's own instructions,
the interpreter's included, without the start-up.
A walk's table is keyed by addresses, so sz_* counts move by about 1% from run to run (ASLR): compare in one run.
"""
from __future__ import annotations

import random
import sys
import time

import thrifty
from thrifty import _ext


def containers(n):
    rng = random.Random(1)
    return {
        "sz_ints": list(range(-n // 4, n)),
        "sz_floats": [rng.random() for _ in range(n)],
        "sz_dict": {f"key{i}": i * 1.5 for i in range(n)},
        "sz_set": {f"member-{i}" for i in range(n)},
        "sz_nested": [[i, str(i), float(i)] for i in range(n // 3)],
        "sz_dictlists": {i: list(range(i % 20)) for i in range(n // 10)},
    }


def setup(name):
    n = 200_000
    if name.startswith("sz_"):
        if name == "sz_shared":   # 20000 references to 2000 str: every item has refcount > 1, enters the table
            strs = ["".join(["s", str(i)]) for i in range(2000)]
            obj = [strs[i % 2000] for i in range(20000)]
            return lambda: thrifty.sizeof(obj, deep=True), (strs,)
        if name == "sz_shared_excl":
            strs = ["".join(["s", str(i)]) for i in range(2000)]
            obj = [strs[i % 2000] for i in range(20000)]
            return lambda: thrifty.sizeof(obj, deep=True, exclusive=True), (strs,)
        if name == "sz_dict_excl":
            obj = containers(20000)["sz_dict"]
            return lambda: thrifty.sizeof(obj, deep=True, exclusive=True), ()
        if name == "sz_ast":
            import argparse
            import ast
            import inspect

            obj = ast.parse(inspect.getsource(argparse))
            return lambda: thrifty.sizeof(obj, deep=True), ()
        obj = containers(20000)[name]
        return lambda: thrifty.sizeof(obj, deep=True), ()
    rng = random.Random(2)
    if name == "in_new":     # every call a new entry (the table grows as it fills)
        words = ["".join(["w", str(i)]) for i in range(n)]
        def go():
            it = thrifty.Interner()
            for w in words:
                it.intern(w)
        return go, ()
    if name == "in_newint":
        ints = [i * 7919 + 10**6 for i in range(n)]
        def go():
            it = thrifty.Interner()
            for w in ints:
                it.intern(w)
        return go, ()
    if name == "in_hit":     # bench_findings: 64 distinct, fresh copies
        words = [f"sensor-{rng.randrange(64):02d}/temperature/celsius" for _ in range(n)]
        fresh = ["".join([w[:7], w[7:]]) for w in words]
        def go():
            it = thrifty.Interner()
            for w in fresh:
                it.intern(w)
        return go, ()
    if name == "in_1000":    # bench_interner: 1000 distinct
        words = ["".join(["word", str(i % 1000)]) for i in range(n)]
        def go():
            it = thrifty.Interner()
            for w in words:
                it.intern(w)
        return go, ()
    if name == "in_tuple":   # (str, int) tuples, 1024 distinct
        words = [f"sensor-{rng.randrange(64):02d}/temperature/celsius" for _ in range(n)]
        tuples = [("".join([w[:7], w[7:]]), i % 16) for i, w in enumerate(words)]
        def go():
            it = thrifty.Interner()
            for t in tuples:
                it.intern(t)
        return go, ()
    if name == "in_newtuple":  # distinct tuples, new entries
        tuples = [("".join(["w", str(i)]), i) for i in range(n)]
        def go():
            it = thrifty.Interner()
            for t in tuples:
                it.intern(t)
        return go, ()
    if name.startswith(("fz_", "fm_")):
        return frozen_lookups(name)
    if name.startswith("po_"):
        return pool_loops(name)
    if name.startswith("tr_"):
        sampled = name == "tr_sampled"
        def go():
            _ext._tracker_start(sampled=sampled)
            try:
                keep = []
                for i in range(20000):
                    keep.append([i, str(i), (i, i)])
                    if i % 3 == 0 and len(keep) > 100:
                        keep.pop(0)
                d = {}
                for i in range(20000):
                    d[str(i)] = [i] * (i % 7)
                del keep, d
            finally:
                _ext._tracker_stop()
        return go, ()
    raise SystemExit("unknown workload " + name)


def frozen_lookups(name):
    """fz_KIND_CASE_SIDE / fm_KIND_CASE_SIDE: the tables and queries of bench_frozen's lookup matrix, as one pass of
    `k in s` (FrozenSet / frozenset) or of `get(k)` (FrozenMap / dict)."""
    import bench_frozen  # noqa: PLC0415 (bench/ is sys.path[0] when this file runs as a script)

    try:
        form, kind, case, side = name.split("_")
        n = 100_000
        rng = random.Random(20261124)
        if kind == "small":
            keys = rng.sample(range(4 * n), 2 * n)
        elif kind == "ids":
            keys = bench_frozen._int64s(rng, 2 * n)
        else:
            keys = bench_frozen._identifiers(rng, 2 * n)
        present, absent = keys[:n], keys[n:]
        fresh = [w.encode().decode() if isinstance(w, str) else int(str(w)) for w in present]
        queries = {"own": list(present), "fresh": fresh, "miss": list(absent)}[case]
        if form == "fm":
            d = dict(zip(present, (rng.randrange(1000) for _ in present)))
            table = {"ours": thrifty.FrozenMap, "anchor": dict}[side](d)
        else:
            table = {"ours": thrifty.FrozenSet, "anchor": frozenset}[side](present)
    except (ValueError, KeyError):
        raise SystemExit("unknown workload " + name) from None
    rng.shuffle(queries)

    if form == "fm":
        get = table.get

        def go_get():
            found = 0
            for q in queries:
                if get(q) is not None:
                    found += 1
            return found
        return go_get, (present, table)

    def go():
        found = 0
        for q in queries:
            if q in table:
                found += 1
        return found
    return go, (present, table)


POOL_N = 100_000


def pool_loops(name):
    """po_*: bench_pool's loops (bench_pool.loops), POOL_N iterations a run."""
    import bench_pool  # noqa: PLC0415 (bench/ is sys.path[0] when this file runs as a script)

    loop = bench_pool.loops(POOL_N).get(name[3:])
    if loop is None:
        raise SystemExit("unknown workload " + name)
    return loop, ()


def count(name):
    """Instructions an iteration of a po_* workload: callgrind over the whole process at REPS 1 and 11."""
    import os
    import subprocess
    import tempfile

    totals = []
    with tempfile.TemporaryDirectory() as tmp:
        for reps in (1, 11):
            out = os.path.join(tmp, f"cg.{reps}")
            subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
                            os.path.abspath(__file__), name, str(reps)], check=True, capture_output=True)
            with open(out) as f:
                totals.append(next(int(line.split()[1]) for line in f if line.startswith("summary:")))
    print(f"{name} {(totals[1] - totals[0]) / (10 * POOL_N):.1f} instructions an iteration")


if __name__ == "__main__":
    if sys.argv[1] == "--count":
        count(sys.argv[2])
        raise SystemExit(0)
    name = sys.argv[1]
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    go, keep = setup(name)
    t0 = time.process_time()
    for _ in range(reps):
        go()
    print(f"{name} {time.process_time() - t0:.6f}")
