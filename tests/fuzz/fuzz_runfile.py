"""The run file's stack decoder (`_ext._runfile_stacks`, cpython/runfile_read.c) against a Python model of it.

A snapshot's stacks are a tree of nodes (parent, line, function) and sites (leaf node, depth, counters); the decoder
turns them into frames and per-site stacks with the recorder's frames cut (docs/format-run.md). The input builds a
function table (the recorder's bootstrap file and `<compile>` among the names), a node table and a site table from
the fuzzer's bytes — parents anywhere, cycles, free slots, out-of-range indices, torn records — and both must agree:
the same frames and stacks, or the same exception type (IndexError, ValueError). Then the same bytes are read as a
whole snapshot body by the reader (runfile._tables, runfile._snapshot), and as a delta snapshot (format 2) applied
to the tables built from the input, which must give a result or one of the errors read_run turns into RunFileError.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))
from fuzzing import Reader, main, outcome  # noqa: E402

from thrifty import _ext  # noqa: E402
from thrifty.doctor import runfile  # noqa: E402

BOOT = "/x/thrifty/doctor/child.py"
FILES = [BOOT, "app.py", "/usr/lib/python3/json/encoder.py", "<frozen importlib._bootstrap>", "é.py"]
NAMES = ["<module>", "<compile>", "main", "f", "<import>"]
NODE = struct.Struct("<IiI")
SITE = struct.Struct("<IHBBqqQQQ")
FREE = 0xFFFFFFFF


def model(funcs, nodes, sites, strip, kept):
    """The decoder's rules in Python (what runfile.py did before the decoder was C)."""
    if len(nodes) % NODE.size:
        raise ValueError("nodes")
    if len(sites) % SITE.size:
        raise ValueError("sites")
    nodes = list(NODE.iter_unpack(nodes))
    first = {}
    canon = [first.setdefault(f, k) for k, f in enumerate(funcs)]
    boot = {k for k, (file, _) in enumerate(funcs) if file == strip}
    target = {k for k, (_, name) in enumerate(funcs) if name == "<compile>"}
    frames, ids, paths, runner = [], {}, {0: ()}, set()

    def path_of(node):
        chain = []
        while node not in paths:
            if node >= len(nodes) or nodes[node][2] == FREE:
                raise IndexError("not in the tree")
            chain.append(node)
            if len(chain) > len(nodes):
                raise IndexError("cycle")
            node = nodes[node][0]
        path = paths[node]
        for n in reversed(chain):
            _, line, func = nodes[n]
            key = (canon[func], line)
            fid = ids.get(key)
            if fid is None:
                fid = ids[key] = len(frames)
                frames.append([funcs[func][0], line, funcs[func][1]])
                if func in target and line <= 0:
                    runner.add(fid)
            if path and path[-1] in runner:
                path = path[:-1]
            path = () if func in boot else path + (fid,)
            paths[n] = path
        return path

    stacks = []
    for i, (leaf, depth, trunc, unused, peak, live, allocs, frees, nbytes) in enumerate(SITE.iter_unpack(sites)):
        if unused:
            continue
        st = {"frames": list(path_of(leaf)) if depth else [], "truncated": bool(trunc), "live_at_peak": peak,
              "live_at_end": live, "allocs": allocs, "frees": frees, "alloc_bytes": nbytes}
        if i in kept:
            st["kept_type"], st["kept_type_bytes"] = kept[i]
        stacks.append(st)
    return frames, stacks


def index(rd, n):
    """Mostly a valid index below n, sometimes 0, n, far out or the free mark."""
    kind = rd.below(16)
    if kind < 12 and n:
        return rd.below(n)
    return rd.pick([0, n, n + 1, FREE, 1 << 31])


def build(rd):
    funcs = [(rd.pick(FILES), rd.pick(NAMES)) for _ in range(rd.below(8))]
    nnodes = rd.below(40)
    nodes = b"".join(NODE.pack(index(rd, nnodes), rd.pick([0, -1, 1, 7, 2 ** 31 - 1, -(2 ** 31)]),
                               index(rd, len(funcs))) for _ in range(nnodes))
    nsites = rd.below(20)
    sites = b"".join(SITE.pack(index(rd, nnodes), rd.pick([0, 1, 3, 64]), rd.below(2), int(rd.chance(30)),
                               rd.between(-5, 5), rd.pick([0, 9, 2 ** 63 - 1, -2 ** 63]), rd.below(9), rd.below(9), rd.below(99))
                     for _ in range(nsites))
    if rd.chance(20):
        nodes = nodes[:len(nodes) - rd.below(12)]  # torn
    if rd.chance(20):
        sites = sites[:len(sites) - rd.below(48)]
    strip = rd.pick([BOOT, None, "app.py", "nowhere"])
    kept = {rd.below(24): (rd.pick(["dict", "list", "Node"]), rd.below(999)) for _ in range(rd.below(4))}
    return funcs, nodes, sites, strip, kept


def test_one_input(data):
    rd = Reader(data)
    args = build(rd)
    got = outcome(_ext._runfile_stacks, *args)
    want = outcome(model, *args)
    assert got == want, (got, want)
    # the same bytes as a whole snapshot body, and as a delta snapshot over the tables built above (format 2): the
    # reader gives a raw dict or an error read_run reports
    body = bytes(data)
    strip = rd.pick([BOOT, None])
    base = {"fields": [], "funcs": args[0], "nodes": args[1], "sites": args[2], "timeline": [], "kept": {}}
    for prev in (None, base):
        try:
            runfile._snapshot(runfile._tables(body, prev), strip)
        except (struct.error, IndexError, ValueError, UnicodeDecodeError):
            pass


if __name__ == "__main__":
    main(test_one_input, "fuzz_runfile")
