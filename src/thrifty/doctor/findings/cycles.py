"""Reference cycles: objects that only the cyclic garbage collector reclaimed during the run.

While installed, the collector saves what it finds unreachable (gc.DEBUG_SAVEALL) instead of clearing it; after
each collection a gc callback records each saved object's type, size and allocation site, keeps one example chain,
then clears and frees them exactly as the collector would have (thrifty._ext._gc_release). Finalizers and weakref
callbacks ran as usual, before the save: the program sees no difference except time.
"""
from __future__ import annotations

import gc
import random
import sys
from collections import Counter, defaultdict
from typing import Any

from thrifty import _ext
from thrifty.doctor.findings.base import Finding, site_of

# containers that only hold a cycle together; a group is named after the user object they belong to
_PLUMBING = (dict, list, tuple, set, frozenset)
MAX_CHAINS = 20
SITE_SAMPLE = 64


class CycleCollector:
    """Install with start(), remove with stop(); `groups` maps (type name, site) to counts, bytes and a chain."""

    def __init__(self) -> None:
        self.groups: dict[tuple[str, tuple[str, int] | None], dict[str, Any]] = defaultdict(
            lambda: {"objects": 0, "bytes": 0, "collections": 0, "chain": None}
        )
        self.collections = 0
        self._rng = random.Random(0)
        self._old_debug = 0
        self._installed = False

    def start(self) -> None:
        self._old_debug = gc.get_debug()
        if self._old_debug & gc.DEBUG_SAVEALL:
            return  # someone already keeps gc.garbage for inspection: leave it to them, report no cycles
        gc.collect()  # what was garbage before the run is not the program's
        gc.garbage.clear()
        gc.set_debug(self._old_debug | gc.DEBUG_SAVEALL)
        gc.callbacks.append(self._callback)
        self._installed = True

    def stop(self) -> None:
        if not self._installed:
            return
        gc.collect()  # the run's last cycles
        self._drain()
        gc.callbacks.remove(self._callback)
        gc.set_debug(self._old_debug)
        self._installed = False

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "stop" and gc.garbage:
            self._drain()

    def _drain(self) -> None:
        garbage = gc.garbage
        if not garbage:
            return
        self.collections += 1
        by_type: dict[type, list[Any]] = defaultdict(list)
        for o in garbage:
            by_type[type(o)].append(o)
        # the containers that hold cycles together (instance dicts, child lists) are attributed to the user objects
        # collected with them, in proportion to their numbers; alone, they form their own groups
        plumbing_bytes = sum(sys.getsizeof(o) for t, objs in by_type.items() if t in _PLUMBING for o in objs)
        users = {t: objs for t, objs in by_type.items() if t not in _PLUMBING}
        n_users = sum(len(objs) for objs in users.values())
        ids = None
        for t, objs in (users or by_type).items():
            name = t.__name__ if t in _PLUMBING else f"{t.__module__}.{t.__qualname__}"
            # sites from a sample: a type's garbage nearly always comes from one or two places
            # (random, not strided: garbage often alternates, e.g. parent, child, parent, ...)
            sample = objs if len(objs) <= SITE_SAMPLE else self._rng.sample(objs, SITE_SAMPLE)
            sites = Counter(site_of(o) for o in sample)
            share = plumbing_bytes * len(objs) / n_users if users else 0
            own = sum(map(sys.getsizeof, objs)) + share
            # split the counts by the sample's proportions; the most common site takes the rounding remainder
            ranked = sites.most_common()
            counts = [len(objs) * k // len(sample) for _, k in ranked]
            counts[0] += len(objs) - sum(counts)
            for (site, k), count in zip(ranked, counts):
                g = self.groups[(name, site)]
                g["objects"] += count
                g["bytes"] += round(own * count / len(objs))
                g["collections"] += 1
                if g["chain"] is None and len(self.groups) <= MAX_CHAINS:
                    ids = ids or {id(x) for x in garbage}
                    g["chain"] = example_chain(next(o for o in sample if site_of(o) == site), ids) or ""
        _ext._gc_release(garbage)


def _edge(src: Any, dst: Any) -> str:
    """How src refers to dst, in the words a user would write."""
    if isinstance(src, dict):
        for k, v in src.items():
            if v is dst:
                return f"[{k!r}]"
        return "{key}"
    if isinstance(src, (list, tuple)):
        for i, v in enumerate(src):
            if v is dst:
                return f"[{i}]"
    d = getattr(src, "__dict__", None)
    if isinstance(d, dict):
        for k, v in d.items():
            if v is dst:
                return f".{k}"
    for slot in getattr(type(src), "__slots__", ()):
        if getattr(src, slot, None) is dst:
            return f".{slot}"
    return "→"


def _label(o: Any) -> str:
    return type(o).__qualname__


def example_chain(start: Any, among: set[int], limit: int = 8) -> str | None:
    """One cycle through start, as 'Node.parent → Node.children[0] → Node' (shortest, via breadth-first search).
    Dicts that are just an instance's __dict__ are folded into the attribute name."""
    prev: dict[int, tuple[Any, Any]] = {id(start): (None, None)}
    frontier = [start]
    for _ in range(limit * 2):
        nxt = []
        for o in frontier:
            for r in gc.get_referents(o):
                if id(r) not in among:
                    continue
                if r is start:
                    return _format_chain(start, o, prev)
                if id(r) not in prev:
                    prev[id(r)] = (o, r)
                    nxt.append(r)
        frontier = nxt
        if not frontier:
            break
    return None


def _format_chain(start: Any, last: Any, prev: dict[int, tuple[Any, Any]]) -> str:
    back = [last]
    while back[-1] is not start:
        back.append(prev[id(back[-1])][0])
    path = list(reversed(back)) + [start]  # start ... last, start
    parts = []
    i = 0
    while i < len(path) - 1:
        src, dst = path[i], path[i + 1]
        if isinstance(dst, dict) and getattr(src, "__dict__", None) is dst and i + 2 < len(path):
            edge = _edge(dst, path[i + 2])
            edge = "." + edge[2:-2] if edge.startswith("['") else edge
            step = 2
        else:
            edge, step = _edge(src, dst), 1
        parts.append(_label(src) + edge)
        i += step
    return " → ".join(parts + [_label(start)])


def findings(groups: dict[tuple[str, tuple[str, int] | None], dict[str, Any]]) -> list[Finding]:
    out = []
    for (tname, site), g in groups.items():
        file, line = site or ("<unknown site>", 0)
        out.append(Finding(
            habit="references", kind="cycle", file=file, line=line,
            title=f"{g['objects']} {tname} objects freed only by the cyclic GC",
            evidence=f"{g['objects']} objects, {g['bytes']} bytes reclaimed in {g['collections']} collections"
                     + (f"; example: {g['chain']}" if g["chain"] else ""),
            fix="break the cycle: keep the back-reference as a weakref.ref (or weakref.proxy), or clear it when done; "
                "memory then returns at once instead of waiting for a collection",
            bytes=g["bytes"], data={"type": tname, "objects": g["objects"], "chain": g["chain"],
                                    "collections": g["collections"]}))
    return out
