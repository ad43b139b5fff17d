"""The doctor's run result: the tracker's raw tables turned into versioned plain data (docs/doctor-json.md).

Everything here is dicts, lists, strings and numbers, so the JSON renderer is `json.dump` and later stages (findings,
HTML) read and extend the same structure: they append to `report["findings"]` and never re-run the tracker.
"""
from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # mypy takes any `TYPE_CHECKING` as true; typing is not imported at run time: its import
if TYPE_CHECKING:     # is ~4 ms of every doctor run's start-up, and every annotation here is a string (PEP 563)
    from typing import Any

import thrifty
from thrifty import _ext
from thrifty.doctor.usercode import UserCode, site_label, typed_target

SCHEMA = "thrifty.doctor"
SCHEMA_VERSION = 2

_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the thrifty package
# thrifty's files that run the doctor, as opposed to the library the user's code calls
_MACHINERY_FILES = (os.path.join(_HERE, "doctor") + os.sep, os.path.join(_HERE, "cli.py"),
              os.path.join(_HERE, "__main__.py"), os.path.join(_HERE, "pytest_plugin.py"))
# runpy's source file, where its frames come from when it is not frozen (-X frozen_modules=off), found beside os's
# rather than imported: the analyzer never runs runpy, and its import is start-up every report pays
_RUNPY_FILE = getattr(sys.modules.get("runpy"), "__file__", None) or os.path.join(os.path.dirname(os.__file__),
                                                                                 "runpy.py")
_COUNTERS = ("live_at_peak", "live_at_end", "allocs", "frees", "alloc_bytes")


# what each frame of a run is, decided once per distinct frame (a run has few frames and many stacks)
_LIB, _USER, _IMPORT, _HARNESS, _MACHINERY = range(5)


def _is_harness(filename: str) -> bool:
    """A frame of thrifty itself or of runpy: never the user's line to change."""
    return (filename.startswith(_HERE + os.sep) or filename == _RUNPY_FILE or
            filename.startswith("<frozen runpy"))


def _is_machinery(filename: str) -> bool:
    """A frame of the doctor itself (tracer, probes, gc callbacks, CLI) or of runpy loading the target."""
    return (filename.startswith(_MACHINERY_FILES) or filename == _RUNPY_FILE or
            filename.startswith("<frozen runpy"))


def _frame_kinds(frames: list[Any], user: UserCode) -> list[int]:
    """Each frame's kind, which depends on its file alone: decided once per file (a run has thousands of frames in a
    few dozen files)."""
    of_file: dict[str, int] = {}
    kinds = []
    for f in frames:
        name = f[0]
        kind = of_file.get(name)
        if kind is None:
            if name == "<import>":
                kind = _IMPORT
            elif _is_machinery(name):
                kind = _MACHINERY
            elif _is_harness(name):
                kind = _HARNESS
            else:
                kind = _USER if user(name) else _LIB
            of_file[name] = kind
        kinds.append(kind)
    return kinds


def _frame_dict(frame: list[Any]) -> dict[str, Any]:
    return {"file": frame[0], "line": max(frame[1], 0), "function": frame[2]}  # 0: no line (`<compile>`)


def _aggregate_sites(frames: list[Any], groups: list[tuple[Any, Any, bool, list[int]]]) -> list[dict[str, Any]]:
    """Per site, the stacks' counters summed, sorted by live bytes at peak. A stack's site is its innermost frame in
    the user's code, so a user line is charged with everything its call allocated, with the library frame that held
    the most of it at the peak beside it (`in`); a stack without a user frame goes to its outermost frame (the
    import or thread that made it) and is marked `user_code: false`. `groups`: the stacks' counters summed per
    (site, inner frame), in the order first met, with whether the site is the user's (_ext._report_groups, in C:
    the per-stack work of a run with thousands of stacks)."""
    by_site: dict[Any, dict[str, Any]] = {}
    inner_of: dict[Any, dict[int, tuple[int, int]]] = {}
    for key, inner, user, sums in groups:
        site = by_site.get(key)
        if site is None:
            where = {"file": "<no Python frame>", "line": 0, "function": ""} if key is None else _frame_dict(frames[key])
            site = by_site[key] = {**where, "in": None, "user_code": user, **dict.fromkeys(_COUNTERS, 0)}
            inner_of[key] = {}
        for field, n in zip(_COUNTERS, sums):  # _COUNTERS' order: the order of `sums`
            site[field] += n
        if inner is not None:
            inner_of[key][inner] = (sums[0], sums[4])
    for key, site in by_site.items():
        inners = inner_of[key]
        if inners:
            best = max(inners, key=inners.__getitem__)  # most live at peak, then most allocated
            site["in"] = _frame_dict(frames[best])
        site["label"] = site_label(site)
    return sorted(by_site.values(), key=lambda s: (-s["live_at_peak"], -s["alloc_bytes"], s["file"], s["line"]))


def _import_table(frames: list[Any], chains: dict[tuple[int, ...], list[int]], kinds: list[int], peak: int) -> list[dict[str, Any]]:
    """Per imported module (the recorder's `<import>` pseudo-frames): the bytes its import left live. `self` counts
    the stacks whose innermost import is the module, `cumulative` those that pass through its import anywhere (its
    own imports included); `imported_at` is the user's line that imported it, when the user's code did; `file` the
    module's own source file, when a frame of the run is in it."""
    table: dict[str, dict[str, Any]] = {}

    def row(name: str) -> dict[str, Any]:
        r = table.get(name)
        if r is None:
            r = table[name] = {"module": name, "self_live_at_peak": 0, "self_live_at_end": 0, "live_at_peak": 0,
                               "live_at_end": 0, "allocs": 0, "alloc_bytes": 0, "imported_at": None, "file": None}
        return r

    # `chains`: the stacks' counters [live_at_peak, live_at_end, allocs, alloc_bytes] summed per frames up to their
    # innermost import (_ext._report_groups): what a stack adds to the table depends on those frames only, and the
    # many stacks under one import chain share them, so the per-frame walk below runs once per distinct chain. The
    # chains keep the order of their first stack, so `imported_at` is the same as a walk over every stack in order
    # would find.
    for ids, (live_at_peak, live_at_end, allocs, alloc_bytes) in chains.items():
        seen = set()
        last = None
        for k, i in enumerate(ids):
            if kinds[i] != _IMPORT:
                continue
            name = frames[i][2]
            if name in seen:
                continue
            seen.add(name)
            r = row(name)
            r["live_at_peak"] += live_at_peak
            r["live_at_end"] += live_at_end
            r["allocs"] += allocs
            r["alloc_bytes"] += alloc_bytes
            if r["imported_at"] is None:
                j = k - 1  # the importing frame: the one before importlib's own
                while j >= 0 and frames[ids[j]][0].startswith("<frozen importlib"):
                    j -= 1
                if j >= 0 and kinds[ids[j]] == _USER:
                    r["imported_at"] = _frame_dict(frames[ids[j]])
            last = r
        if last is not None:
            last["self_live_at_peak"] += live_at_peak
            last["self_live_at_end"] += live_at_end
    # each module's own file: the run's frame file named after it (`a.b` -> .../a/b.py or .../a/b/__init__.py)
    files = sorted({f[0] for f in frames if f[0].endswith(".py")})
    for r in table.values():
        r["share_of_peak"] = r["live_at_peak"] / peak if peak > 0 else 0.0
        stem = os.sep + r["module"].replace(".", os.sep)
        r["file"] = next((f for f in files if f.endswith((stem + ".py", stem + os.sep + "__init__.py"))), None)
    return sorted(table.values(), key=lambda r: (-r["live_at_peak"], -r["live_at_end"], r["module"]))


def _timeline(raw: dict[str, Any]) -> list[list[Any]]:
    """[[t_s, high, low]] from the tracker's envelope (or its older [t_ns, bytes] points). The run's peak is always
    on it: when no bucket's high reached it (points taken between allocations), the peak itself is added."""
    out = []
    for pt in raw.get("timeline", []):
        t = pt[0] / 1e9
        out.append([t, pt[1], pt[2] if len(pt) > 2 else pt[1]])
    peak = raw["peak_bytes"]
    if peak > 0 and all(p[1] < peak for p in out):
        t = raw["peak_time_ns"] / 1e9
        k = next((n for n, p in enumerate(out) if p[0] > t), len(out))
        out.insert(k, [t, peak, peak])
    return out


def default_roots(target: dict[str, Any]) -> list[str]:
    """The user's code when the recorder did not say: the script's directory, or the current one (-m, -c)."""
    if target.get("kind") == "script" and target.get("value"):
        return [os.path.dirname(os.path.realpath(target["value"]))]
    return [os.getcwd()]


def build_report(raw: dict[str, Any], *, target: dict[str, Any] | None = None, outcome: dict[str, Any] | None = None, facts: dict[str, Any] | None = None,
                 budget: int | None = None, top: int = 10, include: list[str] | tuple[str, ...] | None = (),
                 exclude: list[str] | tuple[str, ...] | None = ()) -> dict[str, Any]:
    """The run result (schema `thrifty.doctor` version 2). `raw` is what the C tracker (or the run file) returned.
    include/exclude: glob lists that override which files are the user's code (usercode.UserCode)."""
    facts = facts or {}
    frames = [list(f) for f in raw["frames"]]
    target = target or {}
    user = UserCode(raw.get("user_roots") or default_roots(target), include=include, exclude=exclude,
                    typed=typed_target(target))
    kinds = _frame_kinds(frames, user)
    # Every thrifty and runpy frame is removed from every stack, so what thrifty's library code allocates for a user
    # call is charged to the user line that called it. A stack whose innermost frame is the doctor's machinery (its
    # probes' gc callback running inside a user line, the harness compiling the target) is the doctor's own
    # allocation: left out of the stacks and sites and summed into `own`, so the totals still account for it. The
    # kept stacks grouped per site and per import chain: one pass in C (cpython/report_groups.c).
    importlib = bytes(f[0].startswith("<frozen importlib") for f in frames)
    all_stacks = raw["stacks"] if isinstance(raw["stacks"], list) else list(raw["stacks"])
    stacks, own, groups, chains, import_peak, import_end = _ext._report_groups(all_stacks, bytes(kinds), importlib)
    sites = _aggregate_sites(frames, groups)
    peak = raw["peak_bytes"]
    imports = _import_table(frames, chains, kinds, peak)
    top_at_peak = [i for i, s in enumerate(sites) if s["live_at_peak"] > 0][:top]
    churn_order = sorted(range(len(sites)), key=lambda i: (-sites[i]["frees"], -sites[i]["alloc_bytes"]))
    top_churn = [i for i in churn_order if sites[i]["frees"] > 0][:top]
    target_rss = raw.get("target_peak_rss_bytes")
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "thrifty", "version": thrifty.__version__, "python": sys.version.split()[0]},
        "target": target,
        "outcome": outcome or {"exit_status": 0, "status": "ok", "exception": None},
        "end": raw.get("end"),
        "complete": raw.get("complete", True),
        "user_roots": [r.rstrip(os.sep) or os.sep for r in user.roots],
        "user_code": {"roots": [r.rstrip(os.sep) or os.sep for r in user.roots], "include": list(user.include),
                      "exclude": list(user.exclude), "typed": user.typed},
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
            # the target's own process when the recorder measured it apart; else the whole (doctor's) process
            "peak_rss_bytes": target_rss if target_rss is not None else facts.get("peak_rss_bytes"),
            "peak_rss_of": "target" if target_rss is not None else "process",
            "tracker_bytes": raw["tracker_bytes"],
            "tracker_peak_bytes": raw["tracker_peak_bytes"],
            "recorder_bytes": raw.get("recorder_bytes", raw["tracker_bytes"]),
            "recorder_peak_bytes": raw.get("recorder_peak_bytes", raw["tracker_peak_bytes"]),
            "tracker_overhead_s": raw["overhead_ns_estimate"] / 1e9,
            "doctor_own": own,
            "imports_live_at_peak": import_peak,
            "imports_live_at_end": import_end,
        },
        "budget": None if budget is None else {"limit_bytes": budget, "exceeded": peak > budget},
        "sites": sites,
        "top_at_peak": top_at_peak,
        "top_churn": top_churn,
        "imports": imports,
        "frames": frames,
        "stacks": stacks,
        "timeline": _timeline(raw),
        "findings": [],
        "notes": [],
    }
    return report
