"""The C tracker: peak accuracy against tracemalloc, attribution to the allocating line, sampled estimates, threads,
clean removal of the hook, bounded own memory."""
import json
import pathlib
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import threading

import pytest

from thrifty import _ext
from thrifty.doctor import build_report, trace

# Workloads with different allocation shapes; each runs in a fresh interpreter under both tracers.
WORKLOADS = {
    "lists": "data = [list(range(i % 50)) for i in range(20000)]\n",
    "strings": "d = {str(i) * 3: 'v%d' % i for i in range(30000)}\n",
    "json": textwrap.dedent("""
        import json
        doc = {"items": [{"id": i, "name": "n%d" % i, "tags": ["a", "b"] * 3} for i in range(5000)]}
        text = json.dumps(doc)
        back = json.loads(text)
        """),
    "objects": textwrap.dedent("""
        class Node:
            def __init__(self, v, nxt):
                self.v, self.nxt = v, nxt
        head = None
        for i in range(20000):
            head = Node(i, head)
        head = None
        buf = b"".join(bytes(100) for _ in range(5000))
        """),
}

RUNNER = textwrap.dedent("""
    import json, runpy, sys
    import pkgutil, tracemalloc  # same modules loaded before both measurements (runpy imports some on first use)
    from thrifty.doctor import trace
    mode, path = sys.argv[1], sys.argv[2]
    if mode == "tracemalloc":
        import tracemalloc
        tracemalloc.start()
        runpy.run_path(path, run_name="__main__")
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    else:
        with trace() as raw:
            runpy.run_path(path, run_name="__main__")
        peak = raw["peak_bytes"]
    print(json.dumps(peak))
    """)


def _peak(tmp_path, mode, name):
    script = tmp_path / f"{name}.py"
    script.write_text(WORKLOADS[name])
    out = subprocess.run([sys.executable, "-c", RUNNER, mode, str(script)], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)


@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_peak_within_2_percent_of_tracemalloc(tmp_path, name):
    ours, theirs = _peak(tmp_path, "thrifty", name), _peak(tmp_path, "tracemalloc", name)
    assert theirs > 500_000
    assert abs(ours - theirs) / theirs < 0.02, (ours, theirs)


def _alloc_known():
    return bytearray(3_000_000)  # KNOWN


def _known_line():
    import inspect
    src, first = inspect.getsourcelines(_alloc_known)
    return first + next(i for i, line in enumerate(src) if "# KNOWN" in line)


def test_known_allocation_reported_at_its_line():
    with trace() as raw:
        keep = _alloc_known()
    report = build_report(raw)
    top = report["sites"][report["top_at_peak"][0]]
    assert (top["file"], top["line"], top["function"]) == (__file__, _known_line(), "_alloc_known")
    assert 3_000_000 <= top["live_at_peak"] <= 3_000_100
    assert top["allocs"] == 2  # the bytearray object and its buffer
    assert report["summary"]["peak_bytes"] >= 3_000_000
    del keep


def test_live_at_peak_is_the_peak_moment_not_the_end():
    with trace() as raw:
        first = bytearray(2_000_000)
        del first  # gone before the end, but it was live at the peak
        second = bytearray(500_000)
    report = build_report(raw)
    by_line = {s["line"]: s for s in report["sites"] if s["file"] == __file__}
    peak_site = max(by_line.values(), key=lambda s: s["live_at_peak"])
    assert peak_site["live_at_peak"] >= 2_000_000 and peak_site["live_at_end"] == 0
    assert report["summary"]["peak_bytes"] < 2_600_000
    del second


def test_full_stacks_outermost_first():
    def leaf():
        return bytearray(1_000_000)

    def middle():
        return leaf()

    with trace() as raw:
        keep = middle()
    report = build_report(raw)
    big = max(report["stacks"], key=lambda s: s["live_at_peak"])
    names = [report["frames"][i][2] for i in big["frames"]]
    assert names[-3:] == ["test_full_stacks_outermost_first", "test_full_stacks_outermost_first.<locals>.middle",
                          "test_full_stacks_outermost_first.<locals>.leaf"]
    del keep


@pytest.mark.parametrize("sampled", [False, True])
def test_a_root_code_ends_every_stack_at_its_frame(sampled):
    """_tracker_start(root=code), as the doctor's recorder passes its runner: a stack ends with the frame running
    that code (the recorder's bootstrap outside it is not walked); what the runner allocates itself is its frame."""
    def leaf():
        return bytearray(3_000_000)

    def runner():
        own = bytearray(2_000_000)
        return own, leaf()

    _ext._tracker_start(sampled=sampled, root=runner.__code__)
    try:
        keep = runner()
    finally:
        raw = _ext._tracker_stop()
    report = build_report(raw)
    stacks = sorted(report["stacks"], key=lambda s: -s["live_at_peak"])[:2]
    names = [[report["frames"][i][2] for i in s["frames"]] for s in stacks]
    prefix = "test_a_root_code_ends_every_stack_at_its_frame.<locals>."
    assert names == [[prefix + "runner", prefix + "leaf"], [prefix + "runner"]]
    with pytest.raises(TypeError, match="root must be a code object or None, got function"):
        _ext._tracker_start(root=runner)
    assert not _ext._hook_installed()
    del keep


def test_sampled_mode_estimates_peak():
    def work():
        return [bytearray(1000) for _ in range(20000)]  # ~20 MB of live blocks

    with trace(sampled=True, sample_rate=64 * 1024) as raw:
        keep = work()
    assert raw["mode"] == "sampled" and 0 < raw["samples"] < raw["allocs"]
    # ~300 samples: the estimate is within a few percent; 25% leaves room for an unlucky draw
    assert 15_000_000 < raw["peak_bytes"] < 27_000_000
    del keep


def _mixed_sizes():
    return [bytes(i % 700) for i in range(4000)]  # one line: repeated, varied small (<= 512) and larger sizes


def test_blocks_of_every_size_balance_when_freed():
    # One site's blocks take every path of the live-block table (the site's own size, other small sizes, larger
    # sizes): each must be found again at its free with the size it was recorded with.
    with trace() as raw:
        blocks = _mixed_sizes()
        expected = sum(sys.getsizeof(b) for b in blocks if len(b) > 1)  # empty and 1-byte bytes are cached
        del blocks
    report = build_report(raw)
    sites = [s for s in report["sites"] if s["function"].startswith("_mixed_sizes")]  # and its <listcomp>
    assert sum(s["allocs"] for s in sites) >= 3900
    assert expected <= sum(s["live_at_peak"] for s in sites) <= expected * 1.05
    assert all(s["live_at_end"] == 0 for s in sites)


def test_sampled_frees_balance():
    # pymalloc reuses a freed address at once, so sampled and unsampled blocks share addresses all the time; every
    # sampled block must still be found at its free (nothing sampled stays live once all is freed).
    def work():
        keep = [bytearray(1000) for _ in range(20000)]
        for _ in range(20):
            [bytes(200) for _ in range(2000)]
        return keep

    with trace(sampled=True, sample_rate=16 * 1024) as raw:
        keep = work()
        del keep
    assert raw["samples"] > 500
    assert raw["live_bytes_at_end"] < 0.02 * raw["peak_bytes"]


def _branch_a(bits, n):
    return _branch(bits, n)


def _branch_b(bits, n):
    return _branch(bits, n)


def _branch(bits, n):
    if n == 0:
        return bytearray(300)  # freed at once by the caller: a sampled stack that holds nothing
    return (_branch_a if bits & 1 else _branch_b)(bits >> 1, n - 1)


def _many_stacks(rounds):
    held = [bytearray(200_000) for _ in range(8)]  # one site holds the peak
    for r in range(rounds):
        for bits in range(1024):  # 1024 distinct stacks, each allocating and freeing
            _branch(bits, 10)
    return held


def test_sampled_memory_follows_live_stacks_not_stacks_seen():
    # Sampled mode recycles sites (and their frames) that hold nothing live and nothing at the peak: a run meeting
    # ever more distinct stacks keeps its tables at the size of what is live, and the peak's site survives.
    own = []
    for rounds in (2, 8):
        with trace(sampled=True, sample_rate=512) as raw:
            held = _many_stacks(rounds)
            del held
        assert raw["recycled_stacks"] > 0 and raw["dropped_stacks"] == 0
        own.append(raw["tracker_peak_bytes"])
        report = build_report(raw)
        top = max(report["sites"], key=lambda s: s["live_at_peak"])
        assert top["function"] == "_many_stacks.<locals>.<listcomp>" or top["function"] == "_many_stacks"
        assert 1_200_000 < raw["peak_bytes"] < 2_400_000
        assert raw["live_bytes_at_end"] < 0.05 * raw["peak_bytes"]
    assert own[1] < own[0] * 1.5  # four times the distinct-stack samples, not four times the memory
    assert own[1] < 24 * 1024  # unused stacks and frames are reclaimed before a table grows (was 30-70 KiB)


def _churn(bits, n, keep):
    if n == 0:
        block = bytearray(64 + (bits % 7) * 100)
        if keep is not None:
            keep.append(block)
        return block
    return (_churn_a if bits & 1 else _churn_b)(bits >> 1, n - 1, keep)


def _churn_a(bits, n, keep):
    return _churn(bits, n, keep)


def _churn_b(bits, n, keep):
    return _churn(bits, n, keep)


@pytest.mark.parametrize("sampled", [True, False])
def test_threads_with_many_stacks_keep_the_totals_whole(sampled):
    # Threads meet thousands of distinct stacks, some holding blocks for a while, while sites and frames are recycled
    # (sampled mode) under them; and site lookups and status calls run meanwhile. Every live block must still be
    # counted at its own stack: the stacks' live bytes add up to the live total, and their bytes at the peak to the
    # peak, exactly (a block left pointing at a recycled stack would break both).
    import random

    def worker(seed, held):
        rng = random.Random(seed)
        for i in range(6000):
            _churn(rng.randrange(1 << 12), 12, held if rng.random() < 0.05 else None)
            if len(held) > 200:
                del held[rng.randrange(len(held))]
            if i % 500 == 0 and held:
                _ext._tracker_site_of(held[-1])
                _ext._tracker_status()

    helds = [[] for _ in range(4)]
    with trace(sampled=sampled, sample_rate=256) as raw:
        threads = [threading.Thread(target=worker, args=(i, helds[i])) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        helds[0].clear()
    assert raw["dropped_stacks"] == 0 and raw["untracked_allocs"] == 0
    assert not sampled or raw["recycled_stacks"] > 0
    assert sum(s["live_at_end"] for s in raw["stacks"]) == raw["live_bytes_at_end"]
    assert sum(s["live_at_peak"] for s in raw["stacks"]) == raw["peak_bytes"]
    assert all(s["live_at_end"] >= 0 and s["live_at_peak"] >= 0 for s in raw["stacks"])


def test_sampled_sites_name_their_functions_among_many(tmp_path):
    # Sampled mode finds a frame's function by binary search over the functions met, in address order: with hundreds
    # of them, met in no particular order, every site must still name its own function and line.
    n = 300
    src = "".join(f"def f{i}():\n    return bytearray({1000 + i})\n\n\n" for i in range(n))
    path = tmp_path / "many_funcs.py"
    path.write_text(src)
    namespace = {}
    exec(compile(src, str(path), "exec"), namespace)
    order = list(range(n))
    __import__("random").Random(5).shuffle(order)
    with trace(sampled=True, sample_rate=1) as raw:
        keep = [namespace[f"f{i}"]() for i in order]
    report = build_report(raw, top=n, include=[str(path)])  # the generated file is the code under study here
    live = dict.fromkeys(range(n), 0)
    for s in report["sites"]:
        if s["file"] == str(path):  # the bytearray and its buffer: one site each, both at f<i>'s one line
            i = int(s["function"][1:])
            assert s["line"] == 4 * i + 2, (s["function"], s["line"])
            live[i] += s["live_at_end"]
    assert all(live[i] >= 1000 + i for i in range(n)), live
    del keep


def test_threads_counted():
    def worker(out):
        out.append([bytearray(10_000) for _ in range(100)])

    outs = []
    with trace() as raw:
        threads = [threading.Thread(target=worker, args=(outs,)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    report = build_report(raw)
    # 3.11 runs the comprehension as its own function; 3.12+ inline it into worker (PEP 709), whose qualified name
    # the site then carries
    worker_sites = [s for s in report["sites"] if s["function"].endswith(("worker.<locals>.<listcomp>", "worker"))]
    assert sum(s["live_at_end"] for s in worker_sites) >= 4_000_000
    assert raw["peak_bytes"] >= 4_000_000


def test_hook_removed_even_when_traced_code_raises():
    with pytest.raises(ValueError):
        with trace():
            raise ValueError("boom")
    assert not _ext._hook_installed()
    assert not _ext._tracker_status()["tracing"]


def test_one_run_at_a_time_and_bad_arguments():
    with trace():
        with pytest.raises(RuntimeError, match="already running"):
            _ext._tracker_start()
    with pytest.raises(RuntimeError, match="not running"):
        _ext._tracker_stop()
    with pytest.raises(ValueError, match="sample_rate"):
        _ext._tracker_start(sample_rate=0)
    with pytest.raises(ValueError, match="max_depth"):
        _ext._tracker_start(max_depth=0)
    assert not _ext._hook_installed()


def test_own_memory_bounded_and_reported():
    with trace(max_memory=256 * 1024) as raw:
        keep = [bytearray(10) for _ in range(100_000)]
    assert raw["tracker_peak_bytes"] <= 256 * 1024
    assert raw["untracked_allocs"] > 0  # out of room: counted, not mis-attributed
    del keep
    with trace() as raw:
        keep = [bytearray(1000) for _ in range(10_000)]
    assert 0 < raw["tracker_peak_bytes"] < raw["peak_bytes"]
    del keep


def test_timeline_at_the_memory_bound_from_the_start():
    # The timeline's array is grown on demand within max_memory: a run that starts at the bound (here a budget
    # guard's block table already fills it) must go without timeline points, not write through a NULL array. In a
    # child, so that a regression fails the test instead of killing the suite.
    code = textwrap.dedent("""
        import thrifty
        from thrifty import _ext
        from thrifty.doctor import trace
        with thrifty.budget("1 GiB"):
            held = [bytearray(8) for _ in range(2500)]
            own = _ext._tracker_status()["tracker_bytes"]
            assert own >= 65536, own
            for sampled in (True, False):
                for extra in range(0, 16384, 32):  # the least room a run can start with: its first records
                    try:
                        with trace(sampled=sampled, sample_rate=1, max_memory=own + extra) as raw:
                            x = [bytearray(10) for _ in range(1000)]
                        break
                    except MemoryError:
                        pass
                assert raw["timeline"] == [] and raw["tracker_peak_bytes"] > own, raw["timeline"]
        """)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_timeline_bounded_and_ordered():
    with trace() as raw:
        for _ in range(50):
            keep = [str(i) for i in range(10_000)]
    times = [t for t, _, _ in raw["timeline"]]
    assert 0 < len(times) <= 512
    assert times == sorted(times)
    # an envelope: every bucket's low <= its high, and the highest high is the peak itself
    assert all(lo <= hi for _, hi, lo in raw["timeline"])
    assert max(hi for _, hi, _ in raw["timeline"]) == raw["peak_bytes"]
    del keep


def test_guard_and_tracker_together():
    import thrifty
    with trace() as raw:
        with pytest.raises(thrifty.BudgetExceeded):
            with thrifty.budget("100K"):
                bytearray(1_000_000)
        keep = bytearray(300_000)
    assert raw["peak_bytes"] >= 300_000
    assert not _ext._hook_installed()
    del keep


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_fork_child_not_traced_and_does_not_hang():
    import os
    busy = threading.Event()

    def churn():
        while not busy.is_set():
            bytearray(10)

    with trace() as raw:
        t = threading.Thread(target=churn)
        t.start()
        for _ in range(10):
            pid = os.fork()
            if pid == 0:  # the child allocates freely and is not traced (subprocesses are not followed)
                code = 0 if not _ext._tracker_status()["tracing"] else 1
                [bytearray(100) for _ in range(1000)]
                os._exit(code)
            _, status = os.waitpid(pid, 0)
            assert os.waitstatus_to_exitcode(status) == 0
        busy.set()
        t.join()
    assert raw["allocs"] > 0


def test_status_while_tracing():
    # _tracker_status() used to build its dict while holding the tracker's lock: the dict's own allocation went
    # through this thread's hook, which spun on that lock for ever (the pytest plugin calls it under the doctor).
    # In a child, so that a regression fails on the timeout instead of hanging the suite.
    code = ("from thrifty import _ext\nfrom thrifty.doctor import trace\n"
            "with trace():\n    data = [bytes(100) for _ in range(100)]\n    st = _ext._tracker_status()\n"
            "assert st['tracing'] and st['allocs'] > 0, st\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


RACE_RUNNER = textwrap.dedent("""
    import ctypes, sys
    from thrifty import _ext
    path = sys.argv[1]
    ctypes.PyDLL(path).race_install()     # with the GIL: under the tracker's hook, which starts next
    lib = ctypes.CDLL(path)               # calls without the GIL: the helper's threads are RAW callers
    _ext._tracker_start()
    try:
        before = _ext._tracker_status()["live_bytes"]
        rc = lib.race_run()
        after = _ext._tracker_status()["live_bytes"]
    finally:
        _ext._tracker_stop()
    print(rc, after - before, lib.race_waited_out())
    """)


@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler for the helper")
def test_realloc_free_and_alloc_are_one_step(tmp_path):
    # A realloc that moves a block frees the old address inside the allocator; another thread may be handed that
    # address at once. tests/realloc_race_helper.c forces exactly that: B gets A's old 1 MiB address while A is
    # still inside the realloc. If B's allocation were recorded before A's free of the old block, B's entry would
    # replace A's, A's free would remove B's, and A's 1 MiB would stay live for ever. The helper makes the
    # interleaving happen on every run (no timing luck involved); A's free is recorded before its realloc runs, so
    # B's entry is B's alone (A stops waiting for B after a timeout).
    helper = tmp_path / "realloc_race_helper.so"
    src = pathlib.Path(__file__).with_name("realloc_race_helper.c")
    subprocess.run(["cc", "-O1", "-shared", "-fPIC", "-pthread", f"-I{sysconfig.get_paths()['include']}",
                    str(src), "-o", str(helper)], check=True)
    out = subprocess.run([sys.executable, "-c", RACE_RUNNER, str(helper)], check=True, timeout=120,
                         capture_output=True, text=True).stdout.split()
    rc, leaked = int(out[0]), int(out[1])
    assert rc == 0  # B was handed A's old address: the interleaving happened
    assert abs(leaked) < 64 * 1024, f"{leaked} bytes stayed live after every block was freed"


def test_the_frame_walk_reads_interpreter_frames_and_makes_no_frame_objects():
    """On every supported version the tracker reads the interpreter's own frame chain (compat.h): tracing
    allocations 40 calls deep leaves none of those 40 frames with a frame object (a walk through the public API
    would have made one for each, and kept them alive while the calls run)."""
    import gc
    import types

    assert _ext._tracker_status()["frame_walk"] == "interpreter frames"

    def frames_alive():
        return sum(1 for o in gc.get_objects() if type(o) is types.FrameType)

    def deep(n):
        if n:
            return deep(n - 1)
        before = frames_alive()
        with trace() as raw:
            held = [bytearray(64) for _ in range(200)]
        return frames_alive() - before, raw, held

    made, raw, _ = deep(40)
    assert made <= 2, made  # the `with` block's own bookkeeping at most, never one per frame on the stack
    assert max(len(st["frames"]) for st in raw["stacks"]) >= 40


def test_thrifty_refuses_an_unsupported_python(tmp_path):
    """A version whose frame layout the tracker does not know fails at import, saying which versions it supports."""
    import subprocess
    code = ("import sys; sys.version_info = (3, 15, 0, 'final', 0)\n"
            "try:\n    import thrifty\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    assert "thrifty supports CPython 3.11 to 3.14" in out


@pytest.mark.parametrize("sampled", [False, True], ids=["exact", "sampled"])
def test_the_doctors_own_allocations_are_left_out_and_its_frees_of_the_targets_are_not(sampled):
    """_tracker_own(True): the findings' probes record cycles inside the target's process; what that allocates is
    in none of the target's figures (it raised pyperformance's peaks and ends by 130-210 KB), while a target block
    freed meanwhile (the garbage the collector frees) leaves the live total. Per thread, restored after."""
    with trace(sampled=sampled, sample_rate=1) as raw:
        target = bytearray(1_000_000)
        was = _ext._tracker_own(True)
        try:
            own = [bytearray(2_000_000), [bytes(100) for _ in range(1000)]]
            del target
            during = _ext._tracker_status()["live_bytes"]
        finally:
            assert _ext._tracker_own(was) is True
        after = bytearray(300_000)
        live = _ext._tracker_status()["live_bytes"]
        del own, after
    assert was is False
    assert during < 100_000, during  # the target's block left, the doctor's never came in
    assert 300_000 <= live < 400_000, live  # recorded again once the flag is off
    assert 1_000_000 <= raw["peak_bytes"] < 1_100_000, raw["peak_bytes"]


MIXED_LOCK_RUNNER = textwrap.dedent("""
    import ctypes, sys, threading
    from thrifty import _ext
    churn = ctypes.CDLL(sys.argv[1]).raw_churn   # a CDLL call releases the GIL: a RAW caller without it

    def without_gil():
        assert churn(100000) == 0

    def with_gil():
        for _ in range(300):
            data = [bytes(64) for _ in range(500)]
            del data

    _ext._tracker_start()
    try:
        before = _ext._tracker_status()["live_bytes"]
        threads = [threading.Thread(target=f) for f in (without_gil, without_gil, with_gil, with_gil)]
        for t in threads:
            t.start()
        with_gil()
        for t in threads:
            t.join()
        status = _ext._tracker_status()
    finally:
        _ext._tracker_stop()
    print(status["lock"], status["live_bytes"] - before, status["allocs"])
    """)


@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler for the helper")
def test_the_lock_keeps_gil_holders_and_threads_without_it_apart(tmp_path):
    # GIL holders take the tracker's lock without an atomic exchange (tracker_state.h: lock_gil), threads without
    # the GIL take the spin lock and make the GIL holders' side wait (membarrier). With both kinds allocating and
    # freeing at once for a while (tests/lock_race_helper.c: two threads churning RAW blocks without the GIL, three
    # Python threads making bytes), every block must still be recorded and forgotten exactly once: live bytes come
    # back to where they were (a lost update of the totals or a table leaves blocks counted, or corrupts a table).
    helper = tmp_path / "lock_race_helper.so"
    src = pathlib.Path(__file__).with_name("lock_race_helper.c")
    subprocess.run(["cc", "-O1", "-shared", "-fPIC", f"-I{sysconfig.get_paths()['include']}", str(src), "-o",
                    str(helper)], check=True)
    out = subprocess.run([sys.executable, "-c", MIXED_LOCK_RUNNER, str(helper)], check=True, timeout=300,
                         capture_output=True, text=True).stdout.split()
    lock, leaked, allocs = out[0], int(out[1]), int(out[2])
    assert lock == ("gil" if sys.platform.startswith("linux") else "spin")
    assert allocs > 2 * 100000 * 8 + 3 * 300 * 500
    assert abs(leaked) < 64 * 1024, f"{leaked} bytes stayed live after every block was freed"
