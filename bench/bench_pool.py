"""Pool, ObjectPool, View and lines() against what a Python program does without them: a fresh bytearray per use,
a list used as an object pool, memoryview slicing, and iterating a file opened with open(f, 'rb').

Speed rows time a loop of N operations on each side, alternating sides (bench/harness.py), and report the median
CPU time per operation. Memory columns come from separate, untimed runs under tracemalloc: "kept" is what the traced
Python heap still holds after the loop, "peak" the most it held at once above where it started. The lines() row
writes a 100 MB log to a temporary directory (deleted afterwards) and also runs each side in a fresh subprocess to
report its peak RSS (ru_maxrss), which counts C allocations tracemalloc cannot see.
"""
from __future__ import annotations

import gc
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from itertools import repeat
from math import gcd
from typing import Callable

import harness

from thrifty import ObjectPool, Pool, View, lines

TITLE = "Pool, ObjectPool, View and lines() vs allocating afresh"

# CPU time, not wall time: on a shared, busy machine a run can be descheduled, which wall time would charge to
# whichever side happened to be running.
CLOCK = time.process_time


def _heap(fn) -> tuple[int, int]:
    """(bytes kept, peak bytes above the start) of fn() under tracemalloc, after a warm-up call."""
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        gc.collect()
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        fn()
        gc.collect()
        after, peak = tracemalloc.get_traced_memory()
        return after - before, peak - before
    finally:
        tracemalloc.stop()


def _mem(kept_peak: tuple[int, int]) -> str:
    return f"kept {harness.fmt_bytes(kept_peak[0])}, peak {harness.fmt_bytes(kept_peak[1])}"


def _load() -> float:
    """The machine's 1-minute load average (nan where the OS has none): the timings' context."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def _verdict(ratio: float, target: float) -> str:
    return "met" if ratio >= target else "MISSED"


def loops(n: int) -> dict[str, Callable[[], None]]:
    """Every loop this bench times, n uses each, by name (bench/hotpaths.py counts the instructions of the same ones):
    explicit_SIZE / with_SIZE / anchor_SIZE (a Pool of SIZE-byte blocks, both forms, and `bytearray(SIZE)`), floor,
    borrow, objexplicit and listpool (an ObjectPool of 256-byte bytearrays and the list pool it is measured against).
    Each loop holds its pool and objects in a default argument, so they live as long as it does."""
    out: dict[str, Callable[[], None]] = {}
    for size in (64, 256, 1024, 4096):
        pool = Pool(block_size=size, count=8)

        def explicit(pool=pool):
            acquire = pool.acquire
            for _ in repeat(None, n):
                b = acquire()
                b.release()

        def with_block(pool=pool):
            acquire = pool.acquire
            for _ in repeat(None, n):
                with acquire() as b:
                    pass

        def anchor(size=size):
            for _ in repeat(None, n):
                b = bytearray(size)
                del b

        out[f"explicit_{size}"], out[f"with_{size}"], out[f"anchor_{size}"] = explicit, with_block, anchor

    def floor():
        get = gcd  # gcd() with no arguments: a METH_FASTCALL built-in returning the cached 0, as `acquire`
        for _ in repeat(None, n):
            x = get()
            x.conjugate()  # a METH_NOARGS method returning its int itself, as `b.release()`

    def make():
        return bytearray(256)

    objects = ObjectPool(make, 8)
    free = [make() for _ in range(8)]

    def listpool(free=free):
        pop, append = free.pop, free.append
        for _ in repeat(None, n):
            obj = pop()
            append(obj)

    def borrow(objects=objects):
        get = objects.borrow
        for _ in repeat(None, n):
            with get() as obj:
                pass

    def objexplicit(objects=objects):
        acquire, release = objects.acquire, objects.release
        for _ in repeat(None, n):
            obj = acquire()
            release(obj)

    out.update(floor=floor, listpool=listpool, borrow=borrow, objexplicit=objexplicit)
    return out


def _pool_rows(n: int, repeat_: int) -> list[list[str]]:
    """Both forms of a small-block use against `bytearray(size)` at 64 B-4 KiB, and the interpreter's floor: a loop of
    two calls of C functions that do nothing, which is what `b = acquire(); b.release()` is made of."""
    loop = loops(n)
    rows = []
    for size in (64, 256, 1024, 4096):
        explicit, with_block, anchor = loop[f"explicit_{size}"], loop[f"with_{size}"], loop[f"anchor_{size}"]
        with_target = (">= 1.5x faster, 0 heap growth", 1.5) if size == 4096 else ("reported, no target", None)
        for label, ours, (target, bound) in (
                (f"acquire + release of a {harness.fmt_bytes(size)} block (`b = acquire(); b.release()`)", explicit,
                 (">= 3x faster, 0 heap growth", 3.0)),
                (f"acquire + release of a {harness.fmt_bytes(size)} block (`with pool.acquire() as b`)", with_block,
                 with_target)):
            t_ours, t_anchor = harness.alternate(ours, anchor, repeat=repeat_, timer=CLOCK)
            r = t_anchor / t_ours
            rows.append([label, f"`bytearray({size})` per use",
                         f"{harness.fmt_time(t_anchor / n)} ({_mem(_heap(anchor))})",
                         f"{harness.fmt_time(t_ours / n)} ({_mem(_heap(ours))})", f"{r:.2f}x faster", target,
                         "reported" if bound is None else _verdict(r, bound)])

    t_floor, t_anchor = harness.alternate(loop["floor"], loop["anchor_64"], repeat=repeat_, timer=CLOCK)
    rows.append(["the floor: the same bytecode calling two C functions that do next to nothing "
                 "(`x = gcd(); x.conjugate()`)",
                 "`bytearray(64)` per use", f"{harness.fmt_time(t_anchor / n)}", f"{harness.fmt_time(t_floor / n)}",
                 f"{t_anchor / t_floor:.2f}x faster", "reported: the most any acquire + release pair can reach",
                 "reported"])
    return rows


def _objectpool_rows(n: int, repeat_: int) -> list[list[str]]:
    loop = loops(n)
    anchor = loop["listpool"]
    rows = []
    for label, ours in (("borrow + return (`with pool.borrow()`)", loop["borrow"]),
                        ("borrow + return (`acquire()` / `release(obj)`)", loop["objexplicit"])):
        t_ours, t_anchor = harness.alternate(ours, anchor, repeat=repeat_, timer=CLOCK)
        r = t_anchor / t_ours
        rows.append([label, "list pool (`pop` / `append`)", f"{harness.fmt_time(t_anchor / n)}",
                     f"{harness.fmt_time(t_ours / n)} ({_mem(_heap(ours))})", f"{r:.2f}x its speed",
                     ">= 0.7x its speed, with the safety checks on", _verdict(r, 0.7)])

    t_floor, t_anchor = harness.alternate(loop["with_64"], anchor, repeat=repeat_, timer=CLOCK)
    rows.append(["the `with` floor: thrifty's cheapest with-statement, allocating nothing (`with pool.acquire() as b` "
                 "on a Pool of 64 B blocks: an acquire, the two with-methods, a release)", "list pool (`pop` / `append`)",
                 f"{harness.fmt_time(t_anchor / n)}", f"{harness.fmt_time(t_floor / n)}",
                 f"{t_anchor / t_floor:.2f}x its speed", "reported: no `with pool.borrow()` does less work",
                 "reported"])
    return rows


def _view_row(n: int, repeat_: int) -> list[str]:
    data = bytes(range(256)) * 64  # 16 KiB
    offsets = list(range(0, len(data) - 64, 61))
    rounds = max(1, n // len(offsets))
    v = View(data)
    mv = memoryview(data)

    def ours():
        seek = v.seek
        for _ in repeat(None, rounds):
            for o in offsets:
                seek(o, 64)

    def anchor():
        for _ in repeat(None, rounds):
            for o in offsets:
                mv[o:o + 64]

    ops = rounds * len(offsets)
    t_ours, t_anchor = harness.alternate(ours, anchor, repeat=repeat_, timer=CLOCK)
    r = t_anchor / t_ours
    return ["re-point a 64-byte window over 16 KiB", "`memoryview` slicing `mv[o:o+64]`",
            f"{harness.fmt_time(t_anchor / ops)} ({_mem(_heap(anchor))})",
            f"`View.seek` {harness.fmt_time(t_ours / ops)} ({_mem(_heap(ours))})", f"{r:.2f}x faster",
            ">= 2x faster, 0 allocations", _verdict(r, 2.0)]


_RSS_CHILD = r"""
import resource, sys
from thrifty import lines
path, side, block = sys.argv[1], sys.argv[2], int(sys.argv[3])
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
n = 0
if side == "ours":
    with open(path, "rb", buffering=0) as f:
        for line in lines(f, bytearray(block)):
            n += 1
else:
    for line in open(path, "rb"):
        n += 1
print(n, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base)
"""


def _rss_growth_kib(path: str, side: str, block: int) -> tuple[int, int]:
    out = subprocess.run([sys.executable, "-c", _RSS_CHILD, path, side, str(block)], check=True,
                         capture_output=True, text=True).stdout.split()
    return int(out[0]), int(out[1])


def _lines_row(mb: int, repeat_: int) -> list[str]:
    block = 64 * 1024
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "app.log")
        with open(path, "wb") as f:
            i = 0
            while f.tell() < mb * 1024 * 1024:
                f.write(b"".join(b"2026-11-24T00:%02d:%02d INFO worker-%d handled /api/v1/items/%d in %d ms\n"
                                 % (i // 60 % 60, i % 60, i % 8, i, i % 97) for i in range(i, i + 1000)))
                i += 1000
        buf = bytearray(block)

        def ours():
            with open(path, "rb", buffering=0) as f:
                for line in lines(f, buf):
                    pass

        def anchor():
            with open(path, "rb") as f:
                for line in f:
                    pass

        t_ours, t_anchor = harness.alternate(ours, anchor, repeat=repeat_, timer=CLOCK)
        n_ours, rss_ours = _rss_growth_kib(path, "ours", block)
        n_anchor, rss_anchor = _rss_growth_kib(path, "anchor", block)
        assert n_ours == n_anchor, (n_ours, n_anchor)
        heap_ours, heap_anchor = _heap(ours), _heap(anchor)
    r = t_anchor / t_ours
    bound_ok = heap_ours[1] <= block + 16 * 1024
    return [f"iterate the lines of a {mb} MB log ({n_ours:,} lines)", "`for line in open(f, 'rb')`",
            f"{harness.fmt_time(t_anchor)} (heap peak {harness.fmt_bytes(heap_anchor[1])}, "
            f"RSS growth {rss_anchor} KiB)",
            f"`lines(f, 64 KiB block)` {harness.fmt_time(t_ours)} (heap peak {harness.fmt_bytes(heap_ours[1])}, "
            f"RSS growth {rss_ours} KiB)", f"{r:.2f}x faster",
            ">= 1.5x faster, peak memory <= 1 block + constant",
            _verdict(r, 1.5) + ("" if bound_ok else ", memory bound MISSED")]


def run(quick: bool) -> str:
    n = 20_000 if quick else 200_000
    rep = 3 if quick else 7
    load = [_load()]
    rows = [*_pool_rows(n, rep), *_objectpool_rows(n, rep), _view_row(n, rep),
            _lines_row(10 if quick else 100, rep)]
    load.append(_load())
    table = harness.table(["what", "anchor", "anchor time/op", "thrifty time/op", "ratio", "target", "verdict"],
                          rows)
    note = ("Times are CPU time (`time.process_time`) per operation, or per whole pass for the log, on a machine whose "
            f"1-minute load average was {load[0]:.1f} as the run started and {load[1]:.1f} as it ended (2 cores "
            "shared with other jobs: a ratio near 3x moves by 10% and more from run to run; the instruction counts "
            "in docs/buffers.md do not). \"kept\" is Python heap still held after the "
            "loop, \"peak\" the most held at once during it (tracemalloc); the log row's RSS growth is measured in a "
            "fresh subprocess per side (ru_maxrss above the interpreter's start-up). A peak of a few hundred bytes on the "
            "thrifty side is the timing loop's own set-up (a bound method, an iterator), not the operation.\n\n"
            "A `with` statement looks up `__enter__` and `__exit__` and binds each to the object. For a `Block` and "
            "for an ObjectPool's loan that binding reuses two method objects the pool keeps (docs/buffers.md), so "
            "neither `with pool.acquire()` nor `with pool.borrow()` allocates anything. The floor row runs the very "
            "bytecode of `b = acquire(); b.release()` with two C functions that do next to nothing: no acquire + "
            "release pair can beat `bytearray(n)` by much more than that ratio (callgrind, CPython 3.11: the floor "
            "loop runs about 335 instructions a use, the pair 342, of which thrifty's own C is 39; `bytearray(64)` "
            "1,073; docs/buffers.md). The `with` floor row is the 64 B `with pool.acquire() as b` loop timed "
            "against the list pool: the least work a with-statement over thrifty's objects does. Of its about 830 "
            "instructions a use, about 620 are CPython's own (the loop, the two special-method lookups of "
            "`__enter__` and `__exit__`, calling `__enter__`, calling `__exit__` with three arguments through the "
            "generic call path, about 45 of them) and about 200 thrifty's; the list pool's whole loop is about 374. "
            "So a with-statement whose own C did nothing at all, even with `__exit__` called the specialized way, "
            "would run at least about 575 and reach at most about 0.65x the list pool's speed: no "
            "`with pool.borrow()` can reach 0.7x (`bench/hotpaths.py --count po_with_64`, `po_listpool`).")
    return table + "\n\n" + note
