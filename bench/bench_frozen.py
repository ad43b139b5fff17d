"""FrozenSet / FrozenMap against frozenset / dict: memory per key, lookup speed, build time, opening from a file.

Memory method (deterministic, so measured once): thrifty = sys.getsizeof(table), which counts the object and the
block it built (one bytes object) — everything the table keeps alive. The anchor = sys.getsizeof(container) plus
sys.getsizeof of every distinct key (and value) object it holds: those objects exist only because the container
holds them. Small ints cached by CPython (-5..256) are counted like any other object (they are rare here).
Timings alternate the two sides (harness.alternate) and report medians.
"""
from __future__ import annotations

import array
import mmap
import os
import pickle
import random
import string
import sys
import tempfile
import time
import tracemalloc

import harness

from thrifty import FrozenMap, FrozenSet

TITLE = "FrozenSet and FrozenMap vs frozenset and dict"


def _deep_size(container, objects) -> int:
    seen = set()
    total = sys.getsizeof(container)
    for o in objects:
        if id(o) not in seen:
            seen.add(id(o))
            total += sys.getsizeof(o)
    return total


def _build_peak(build, arg) -> tuple[int, int]:
    """tracemalloc's peak while build(arg) runs, over what was allocated before it, and sys.getsizeof(result)."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        table = build(arg)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return peak, sys.getsizeof(table)


def _int64s(rng: random.Random, n: int) -> list[int]:
    out: set[int] = set()
    while len(out) < n:
        out.add(rng.getrandbits(64) - 2**63)
    return list(out)


def _words(rng: random.Random, n: int) -> list[str]:
    out: set[str] = set()
    letters = string.ascii_letters + string.digits
    while len(out) < n:
        out.add("".join(rng.choices(letters, k=rng.randint(8, 16))))
    return sorted(out)


def _lookups(container, queries) -> int:
    found = 0
    for q in queries:
        if q in container:
            found += 1
    return found


def _gets(container, queries) -> int:
    found = 0
    get = container.get
    for q in queries:
        if get(q) is not None:
            found += 1
    return found


def _identifiers(rng: random.Random, n: int) -> list[str]:
    out: set[str] = set()
    letters = string.ascii_lowercase + "_"
    while len(out) < n:
        out.add("".join(rng.choices(letters, k=rng.randint(4, 12))))
    return list(out)  # set order: the objects are hashed, as keys that went through a dict or set are


def _lookup_matrix(rng: random.Random, n: int, repeat: int) -> list[list[str]]:
    rows = []
    small = rng.sample(range(4 * n), 2 * n)
    ids = _int64s(rng, 2 * n)
    words = _identifiers(rng, 2 * n)
    kinds = (
        ("small ints", small[:n], small[n:], [int(str(k)) for k in small[:n]]),
        ("64-bit ids", ids[:n], ids[n:], [int(str(k)) for k in ids[:n]]),
        ("identifiers of 4–12 chars", words[:n], words[n:], [w.encode().decode() for w in words[:n]]),
    )
    for kind, keys, absent, fresh in kinds:
        fs, ts = frozenset(keys), FrozenSet(keys)
        d = dict(zip(keys, (rng.randrange(1000) for _ in keys)))
        tm = FrozenMap(d)
        cases = [("hits, the tables' own key objects", keys), ("hits, equal fresh objects", fresh),
                 ("misses", absent)]
        for case, q in cases:
            q = list(q)
            rng.shuffle(q)
            for what, anchor_c, ours_c, fn in (("`k in s` FrozenSet vs frozenset", fs, ts, _lookups),
                                               ("`m.get(k)` FrozenMap vs dict", d, tm, _gets)):
                assert fn(anchor_c, q) == fn(ours_c, q)
                ta, to = harness.alternate(lambda: fn(anchor_c, q), lambda: fn(ours_c, q), repeat=repeat,
                                           timer=time.process_time)
                rows.append([f"lookup {what}, {kind}: {case}", harness.fmt_time(ta / len(q)) + "/op",
                             harness.fmt_time(to / len(q)) + "/op", harness.ratio(ta, to), "≥ 1.0x"])
    return rows


def run(quick: bool) -> str:
    rng = random.Random(20261124)
    n = 20_000 if quick else 100_000
    big = 100_000 if quick else 1_000_000
    repeat = 3 if quick else 7
    rows = []

    # 1. bytes per key, random int64
    ints = _int64s(rng, n)
    fs, ts = frozenset(ints), FrozenSet(ints)
    anchor, ours = _deep_size(fs, fs) / n, sys.getsizeof(ts) / n
    rows.append([f"bytes per key, {n // 1000}k random int64", f"{anchor:.1f} B", f"{ours:.2f} B",
                 harness.ratio(anchor, ours), "≤ 10 B/key, ≥ 7x"])

    # 2. bytes per key, 8-16 char str
    words = _words(rng, n)
    avg_len = sum(map(len, words)) / n
    fw, tw = frozenset(words), FrozenSet(words)
    _lookups(tw, words)  # a str table builds its lookup filter (8 bits a key) after n/4 lookups: count it too
    anchor, ours = _deep_size(fw, fw) / n, sys.getsizeof(tw) / n
    rows.append([f"bytes per key, {n // 1000}k str of 8–16 chars (mean {avg_len:.1f})", f"{anchor:.1f} B",
                 f"{ours:.2f} B (len + {ours - avg_len:.1f})", harness.ratio(anchor, ours),
                 f"≤ len + 8 B ({avg_len + 8:.1f} B), ≥ 4x"])

    # 3. bytes per entry, str -> int
    values = [rng.randrange(1000, 10**9) for _ in words]
    d = dict(zip(words, values))
    tm = FrozenMap(d)
    _lookups(tm, words)
    anchor, ours = _deep_size(d, list(d) + list(d.values())) / n, sys.getsizeof(tm) / n
    rows.append([f"bytes per entry, {n // 1000}k str → int", f"{anchor:.1f} B", f"{ours:.2f} B",
                 harness.ratio(anchor, ours), "≥ 5x"])

    # 3b. bytes per entry, str -> small-int counts: CPython caches ints -5..256, so the dict's side pays nothing for
    # its values and is counted as the dict plus its str keys; the table stores each count in 1 byte
    counts = [rng.randrange(256) for _ in words]
    dc = dict(zip(words, counts))
    tc = FrozenMap(dc)
    _lookups(tc, words)
    anchor, ours = _deep_size(dc, list(dc)) / n, sys.getsizeof(tc) / n
    rows.append([f"bytes per entry, {n // 1000}k str → small-int counts (0–255, cached by CPython)",
                 f"{anchor:.1f} B", f"{ours:.2f} B", harness.ratio(anchor, ours), "≥ 5x"])

    # 3c. build peak: the most memory the build holds at once (tracemalloc's peak: Python's heap and every C buffer
    # the build allocates, PyMem and the block alike) against the size of the finished table, which is what a device
    # must have free to build a table where it is used. The input is not counted: it exists before the build (a list
    # or dict here, read in place; a one-shot iterator would first be made a list, which is the caller's own cost).
    small_ints = rng.sample(range(4 * n), n)
    for label, build, args in (("FrozenSet, 100k-scale int64", FrozenSet, ints),
                               ("FrozenSet, small ints (0–400k-scale, 4 bytes)", FrozenSet, small_ints),
                               ("FrozenSet, ints of 2 bytes (−32768..32767, every other one)", FrozenSet,
                                list(range(-32768, 32768, 2))),
                               ("FrozenSet, str", FrozenSet, words),
                               ("FrozenMap, str → int", FrozenMap, d),
                               ("FrozenMap, str → small-int counts", FrozenMap, dc),
                               ("FrozenMap, int64 → small-int counts", FrozenMap, dict(zip(ints, counts)))):
        peak, size = _build_peak(build, args)
        label = label.replace("100k-scale", f"{n // 1000}k").replace("400k-scale", f"{4 * n // 1000}k")
        rows.append([f"build peak / final size, {label}", "",
                     f"{peak / len(args):.1f} B/entry peak, {size / len(args):.1f} B/entry final",
                     f"{peak / size:.2f}x", "≤ 2x"])

    # 4. lookups: half hits (equal but distinct objects, as keys parsed from input are), half misses, shuffled
    def queries(present, absent):
        q = present[: n // 2] + absent[: n // 2]
        rng.shuffle(q)
        return q

    int_q = queries([int(str(k)) for k in ints], [k ^ 1 for k in ints])
    fresh_words = [w.encode().decode() for w in words]
    str_q = queries(fresh_words, [w + "#" for w in words])
    same_q = queries(list(words), [w + "#" for w in words])  # the very objects the frozenset holds
    for label, anchor_c, ours_c, q, fn in (
        ("lookup `k in s`, int64 set", fs, ts, int_q, _lookups),
        ("lookup `k in s`, str set", fw, tw, str_q, _lookups),
        ("lookup `k in s`, str set, querying with the frozenset's own key objects", fw, tw, same_q, _lookups),
        ("lookup `m.get(k)`, str → int map", d, tm, str_q, _gets),
    ):
        assert fn(anchor_c, q) == fn(ours_c, q)
        ta, to = harness.alternate(lambda: fn(anchor_c, q), lambda: fn(ours_c, q), repeat=repeat)
        rows.append([label + " (50% hits)", harness.fmt_time(ta / len(q)) + "/op", harness.fmt_time(to / len(q)) + "/op",
                     harness.ratio(ta, to), "≥ 0.9x"])

    # 4b. the lookup matrix of issue 16: hits with the very key objects the tables were built from (frozenset and
    # dict then compare pointers only), hits with equal fresh objects (keys parsed from input), misses; small ints,
    # 64-bit ids and short identifier strings; FrozenSet against frozenset (`k in s`) and FrozenMap against dict
    # (`m.get(k)`). CPU time of this process (time.process_time), so other jobs on a loaded machine count less.
    rows.extend(_lookup_matrix(rng, n, repeat))

    # 5. build time
    for label, keys in (("build from a list, int64", ints), ("build from a list, str", words)):
        ta, to = harness.alternate(lambda: frozenset(keys), lambda: FrozenSet(keys), repeat=repeat)
        rows.append([label, harness.fmt_time(ta), harness.fmt_time(to), f"{to / ta:.2f}x the time",
                     "≤ 3x the time"])

    # 6. open a big table from a file: mmap + frombuffer against rebuilding a frozenset from the same keys on disk
    big_keys = array.array("q", _int64s(rng, big))
    with tempfile.TemporaryDirectory() as tmp:
        frz, arr, pkl = (os.path.join(tmp, name) for name in ("t.frz", "k.q", "t.pickle"))
        with open(frz, "wb") as f:
            f.write(FrozenSet(big_keys).tobytes())
        with open(arr, "wb") as f:
            big_keys.tofile(f)
        with open(pkl, "wb") as f:
            pickle.dump(frozenset(big_keys), f, protocol=pickle.HIGHEST_PROTOCOL)
        del big_keys

        def open_frozen():
            with open(frz, "rb") as f:
                mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            return FrozenSet.frombuffer(mm)

        batch = 20  # a ~1 ms call: time batches so one scheduler tick on this shared machine does not dominate

        def open_frozen_batch():
            for _ in range(batch):
                open_frozen()

        def rebuild_from_array():
            a = array.array("q")
            with open(arr, "rb") as f:
                a.frombytes(f.read())
            return frozenset(a)

        def rebuild_from_pickle():
            with open(pkl, "rb") as f:
                return pickle.load(f)

        probe = open_frozen()
        assert len(probe) == big and len(rebuild_from_array()) == big
        del probe
        label = f"open a {big // 1000}k-key int table from a file"
        for anchor_name, anchor_fn in (("frozenset(array from file)", rebuild_from_array),
                                       ("pickle.load(frozenset)", rebuild_from_pickle)):
            ta, to = harness.alternate(anchor_fn, open_frozen_batch, repeat=repeat)
            to /= batch
            rows.append([f"{label}: mmap + frombuffer vs {anchor_name}", harness.fmt_time(ta), harness.fmt_time(to),
                         harness.ratio(ta, to), "≥ 50x faster"])

    table = harness.table(["what", "anchor", "thrifty", "ratio", "target"], rows)
    note = (
        "Memory: thrifty counts `sys.getsizeof(table)` (object + the block it owns); the anchor counts the container "
        "plus every distinct key/value object in it. Lookups use equal-but-distinct key objects (as keys parsed from "
        "input are) unless the row says otherwise, half present and half absent, shuffled; ratio = anchor time / thrifty time (> 1 means thrifty is "
        "faster). Build: ratio = thrifty time / anchor time. Open: the file is in the page cache; thrifty's side opens "
        "it, maps it and validates the whole block (checksum included) on every run."
    )
    return table + "\n\n" + note
