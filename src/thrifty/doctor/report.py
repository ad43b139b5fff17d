"""The doctor's run result: the tracker's raw tables turned into versioned plain data (docs/doctor-json.md).

Everything here is dicts, lists, strings and numbers, so the JSON renderer is `json.dump` and later stages (findings,
HTML) read and extend the same structure: they append to `report["findings"]` and never re-run the tracker.
"""
from __future__ import annotations

import os
import runpy
import sys
from typing import Any

import thrifty

SCHEMA = "thrifty.doctor"
SCHEMA_VERSION = 1

_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the thrifty package
# thrifty's files that run the doctor, as opposed to the library the user's code calls
_MACHINERY = (os.path.join(_HERE, "doctor") + os.sep, os.path.join(_HERE, "cli.py"),
              os.path.join(_HERE, "__main__.py"), os.path.join(_HERE, "pytest_plugin.py"))
_COUNTERS = ("live_at_peak", "live_at_end", "allocs", "frees", "alloc_bytes")


def _is_harness(filename: str) -> bool:
    """A frame of thrifty itself or of runpy: never the user's line to change."""
    return (filename.startswith(_HERE + os.sep) or filename == runpy.__file__ or
            filename.startswith("<frozen runpy"))


def _is_machinery(filename: str) -> bool:
    """A frame of the doctor itself (tracer, probes, gc callbacks, CLI) or of runpy loading the target."""
    return (filename.startswith(_MACHINERY) or filename == runpy.__file__ or
            filename.startswith("<frozen runpy"))


def _strip_harness(raw: dict) -> tuple[list[dict], dict]:
    """(the user's stacks, the doctor's own totals). Every thrifty and runpy frame is removed from every stack, so
    what thrifty's library code allocates for a user call is charged to the user line that called it. A stack
    whose innermost frame is the doctor's machinery (its probes' gc callback running inside a user line, the
    harness compiling the target) is the doctor's own allocation: it is left out of the stacks and sites and
    summed into the second result instead, so the totals still account for it."""
    frames = raw["frames"]
    own = dict.fromkeys(_COUNTERS, 0)
    own["stacks"] = 0
    out = []
    for st in raw["stacks"]:
        # Frames outside the doctor's outermost frame launched it (the `thrifty` console script): not the user's.
        cut = next((k for k, i in enumerate(st["frames"]) if _is_machinery(frames[i][0])), 0)
        ids = [i for i in st["frames"][cut:] if not _is_harness(frames[i][0])]
        if st["frames"] and (not ids or _is_machinery(frames[st["frames"][-1]][0])):
            for field in _COUNTERS:
                own[field] += st[field]
            own["stacks"] += 1
            continue
        out.append({**st, "frames": ids})
    return out, own


def _aggregate_sites(frames: list, stacks: list[dict]) -> list[dict]:
    """Per innermost frame (file, line, function): the stacks' counters summed, sorted by live bytes at peak."""
    by_site: dict[tuple, dict] = {}
    for st in stacks:
        key = tuple(frames[st["frames"][-1]]) if st["frames"] else ("<no Python frame>", 0, "")
        site = by_site.get(key)
        if site is None:
            site = by_site[key] = {"file": key[0], "line": key[1], "function": key[2], "live_at_peak": 0,
                                   "live_at_end": 0, "allocs": 0, "frees": 0, "alloc_bytes": 0}
        for field in _COUNTERS:
            site[field] += st[field]
    return sorted(by_site.values(), key=lambda s: (-s["live_at_peak"], -s["alloc_bytes"], s["file"], s["line"]))


def build_report(raw: dict, *, target: dict | None = None, outcome: dict | None = None, facts: dict | None = None,
                 budget: int | None = None, top: int = 10) -> dict[str, Any]:
    """The run result (schema `thrifty.doctor` version 1). `raw` is what the C tracker returned."""
    facts = facts or {}
    frames = [list(f) for f in raw["frames"]]
    stacks, own = _strip_harness(raw)
    sites = _aggregate_sites(frames, stacks)
    peak = raw["peak_bytes"]
    top_at_peak = [i for i, s in enumerate(sites) if s["live_at_peak"] > 0][:top]
    churn_order = sorted(range(len(sites)), key=lambda i: (-sites[i]["frees"], -sites[i]["alloc_bytes"]))
    top_churn = [i for i in churn_order if sites[i]["frees"] > 0][:top]
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "thrifty", "version": thrifty.__version__, "python": sys.version.split()[0]},
        "target": target or {},
        "outcome": outcome or {"exit_status": 0, "status": "ok", "exception": None},
        "mode": raw["mode"],
        "sample_rate": raw["sample_rate"] if raw["mode"] == "sampled" else None,
        "max_depth": raw["max_depth"],
        "summary": {
            "peak_bytes": peak,
            "peak_time_s": raw["peak_time_ns"] / 1e9,
            "live_bytes_at_end": raw["live_bytes_at_end"],
            "allocs": raw["allocs"],
            "frees": raw["frees"],
            "alloc_bytes": raw["alloc_bytes"],
            "samples": raw["samples"],
            "untracked_allocs": raw["untracked_allocs"],
            "dropped_stacks": raw["dropped_stacks"],
            "duration_s": raw["duration_ns"] / 1e9,
            "wall_time_s": facts.get("wall_time_s", raw["duration_ns"] / 1e9),
            "peak_rss_bytes": facts.get("peak_rss_bytes"),
            "tracker_bytes": raw["tracker_bytes"],
            "tracker_peak_bytes": raw["tracker_peak_bytes"],
            "tracker_overhead_s": raw["overhead_ns_estimate"] / 1e9,
            "doctor_own": own,
        },
        "budget": None if budget is None else {"limit_bytes": budget, "exceeded": peak > budget},
        "sites": sites,
        "top_at_peak": top_at_peak,
        "top_churn": top_churn,
        "frames": frames,
        "stacks": stacks,
        "timeline": [[p[0] / 1e9, p[1]] for p in raw["timeline"]],  # the envelope's highs (old data: the bytes)
        "findings": [],
    }
    return report
