"""Leak analysis of a watched run (`thrifty watch`, docs/watch.md): the run file's snapshots as a series per site.

Each site's live bytes over time get a robust growth estimate (the Theil–Sen slope: the median of the slopes between
every pair of snapshots, so a few outliers or one big free do not move it) and a test for a monotone trend
(Mann–Kendall: how much more often the series went up than down between two snapshots, against chance). From those
the site is a **leak** (steady growth to the end), a **sawtooth** (a buffer that fills and empties), a **plateau**
(a cache that filled, then stopped), **churn** (many short-lived blocks, little kept) or **steady**. Leaks are
ranked by bytes per hour; the heap's own trend gives the projection to a budget. Pure arithmetic on the snapshots:
this runs in the analyzer, never in the target.
"""
from __future__ import annotations

import math

TYPE_CHECKING = False  # mypy takes any `TYPE_CHECKING` as true; typing is not imported at run time: its import
if TYPE_CHECKING:     # is ~4 ms of every doctor run's start-up, and every annotation here is a string (PEP 563)
    from typing import Any

from thrifty.doctor.render_text import ended
from thrifty.doctor.usercode import UserCode, site_label, target_display, typed_target
from thrifty.guards import format_size as _size

MIN_POINTS = 6  # fewer snapshots than this tell no trend
MAX_POINTS = 160  # pairwise slopes are O(n²): longer series are thinned evenly first
CHART_POINTS = 200  # the series in the output (for the HTML charts) are thinned evenly to this many snapshots
MIN_BYTES = 16 * 1024  # a site that never held this much is not analysed (noise next to any real leak)
Z_SURE = 3.0  # Mann–Kendall statistic above which the trend is taken as real (one-sided p < 0.0014)


def _evenly(n: int, k: int) -> list[int]:
    """At most k of the indices 0..n-1, evenly spread, the first and the last included."""
    if n <= k:
        return list(range(n))
    step = (n - 1) / (k - 1)
    return sorted({round(i * step) for i in range(k)})


def _thin(t: list[float], y: list[float]) -> tuple[list[float], list[float]]:
    if len(t) <= MAX_POINTS:
        return t, y
    idx = _evenly(len(t), MAX_POINTS)
    return [t[i] for i in idx], [y[i] for i in idx]


def _slopes(t: list[float], y: list[float]) -> list[float]:
    t, y = _thin(t, y)
    out = [(y[j] - y[i]) / (t[j] - t[i]) for i in range(len(t)) for j in range(i + 1, len(t)) if t[j] > t[i]]
    out.sort()
    return out


def _median(v: list[float]) -> float:
    n = len(v)
    if not n:
        return 0.0
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def theil_sen(t: list[float], y: list[float]) -> float:
    """The median of the pairwise slopes, in y units per t unit (0.0 for fewer than two distinct times)."""
    return _median(_slopes(t, y))


def mann_kendall(y: list[float]) -> tuple[float, float]:
    """(z, tau): the Mann–Kendall statistic as a standard normal score (ties taken into account) and Kendall's tau
    against time (1: rose at every step, -1: fell at every step)."""
    _, y = _thin(list(range(len(y))), y)
    n = len(y)
    if n < 3:
        return 0.0, 0.0
    s = sum((y[j] > y[i]) - (y[j] < y[i]) for i in range(n) for j in range(i + 1, n))
    counts: dict[float, int] = {}
    for v in y:
        counts[v] = counts.get(v, 0) + 1
    var = (n * (n - 1) * (2 * n + 5) - sum(c * (c - 1) * (2 * c + 5) for c in counts.values())) / 18
    z = 0.0 if var <= 0 or s == 0 else (s - math.copysign(1, s)) / math.sqrt(var)
    return z, s / (n * (n - 1) / 2)


def slope_interval(t: list[float], y: list[float], z: float = 1.96) -> tuple[float, float]:
    """Sen's confidence interval of the Theil–Sen slope (95% by default): two order statistics of the slopes."""
    slopes = _slopes(t, y)
    n = len(_thin(t, y)[0])
    if not slopes or n < 3:
        return 0.0, 0.0
    c = z * math.sqrt(n * (n - 1) * (2 * n + 5) / 18)
    lo = max(0, min(len(slopes) - 1, int((len(slopes) - c) / 2)))
    hi = max(0, min(len(slopes) - 1, int((len(slopes) + c) / 2)))
    return slopes[lo], slopes[hi]


def classify(t: list[float], y: list[float], allocs: float = 0.0) -> dict[str, Any]:
    """What one site's series of live bytes is: kind ("leak", "sawtooth", "plateau", "churn", "steady"), the
    Theil–Sen slope (bytes per second) with its 95% interval, the trend's z and tau, and the evidence in words."""
    n = len(y)
    slope = theil_sen(t, y)
    z, tau = mann_kendall(y)
    lo, hi = slope_interval(t, y)
    span = max(y) - min(y)
    drops = sum(1 for a, b in zip(y, y[1:]) if b < a - 0.25 * span) if span > 0 else 0
    half = n // 2
    last = theil_sen(t[half:], y[half:])
    out: dict[str, Any] = {"slope": slope, "slope_low": lo, "slope_high": hi, "z": z, "tau": tau, "drops": drops,
           "growth": slope * (t[-1] - t[0]) if n > 1 else 0.0}
    top = max(y)
    tail = y[half:]
    mean = sum(y) / n
    spread = math.sqrt(sum((v - mean) ** 2 for v in y) / n) / mean if mean > 0 else 0.0
    # a cache that filled: near its top for the whole second half, and flat there
    plateau = top > 0 and y[0] < 0.5 * top and min(tail) >= 0.9 * top and abs(last) * (t[-1] - t[half]) < 0.05 * top
    # a leak: a sure upward trend, never a large drop, still at its top at the end (a table that doubles now and
    # then is a staircase with flat steps: a leak too, unless its last step is already half a watch ago)
    # a hash table or list that keeps doubling as entries pile up: flat steps, each rise ~1.5x or more, the last
    # one well into the watch (a cache's table stops doubling early, once it is full)
    rises = [i for i in range(1, n) if y[i - 1] > 0 and y[i] > 1.3 * y[i - 1]]
    watched = t[-1] - t[0]
    doubling = (len(rises) >= 3 and drops == 0 and z > Z_SURE and y[-1] >= 0.9 * top and watched > 0
                and t[rises[-1]] - t[0] >= 0.25 * watched)
    if z > Z_SURE and tau > 0.5 and slope > 0 and drops == 0 and not plateau and y[-1] >= 0.9 * top:
        out["kind"], out["why"] = "leak", f"grew steadily to the end (Mann–Kendall z={z:.1f}, tau={tau:.2f})"
    elif doubling:
        share = (t[rises[-1]] - t[0]) / watched
        out["kind"], out["why"] = "leak", (f"a table that keeps doubling as entries pile up ({len(rises)} doublings, "
                                           f"the last {share:.0%} into the watch)")
    elif plateau:
        out["kind"], out["why"] = "plateau", "grew, then stopped (a cache that filled, or a one-off cost such as an import)"
    elif drops >= 2 or (abs(z) < Z_SURE and spread > 0.2):
        out["kind"], out["why"] = "sawtooth", (f"fills and empties ({drops} large drops)" if drops >= 2 else
                                               f"rises and falls without a trend (spread {spread:.0%} of its mean)")
    elif allocs > 1000 * max(1.0, top / 1024):
        out["kind"], out["why"] = "churn", f"{int(allocs)} blocks made while it held little"
    else:
        out["kind"], out["why"] = "steady", "no lasting trend"
    return out


def _site_key(frames: list[list[Any]], ids: list[int], user: UserCode) -> tuple[tuple[str, int, str], bool]:
    """The site a stack is shown at: its innermost frame in the user's code, else its outermost frame."""
    for i in reversed(ids):
        f = frames[i]
        if f[0] != "<import>" and user(f[0]):
            return (f[0], f[1], f[2]), True
    if not ids:
        return ("<no Python frame>", 0, ""), False
    f = frames[ids[0]]
    return (f[0], f[1], f[2]), False


def analyse(meta: dict[str, Any], series: list[dict[str, Any]], *, budget: int | None = None,
            include: list[str] | None = None, exclude: list[str] | None = None,
            min_bytes: int = MIN_BYTES) -> dict[str, Any]:
    """The leak analysis of a run's snapshots (runfile.read_series). JSON-ready; schema in docs/watch.md."""
    target = meta.get("target", {})
    user = UserCode(meta.get("user_roots") or None, include or (), exclude or (),
                    typed=typed_target(target))
    snaps = [s for s in series if s.get("duration_ns", 0) > 0] or series[-1:]
    times = [s["duration_ns"] / 1e9 for s in snaps]
    heap = [float(s["live_bytes_at_end"]) for s in snaps]
    charted = _evenly(len(snaps), CHART_POINTS)
    per: dict[tuple[str, int, str], list[float]] = {}
    allocs: dict[tuple[str, int, str], list[float]] = {}
    is_user: dict[tuple[str, int, str], bool] = {}
    types: dict[tuple[str, int, str], dict[str, int]] = {}  # what the line's live blocks are, at the last snapshot
    for k, s in enumerate(snaps):
        last = k == len(snaps) - 1
        for st in s["stacks"]:
            key, mine = _site_key(s["frames"], st["frames"], user)
            per.setdefault(key, [0.0] * len(snaps))[k] += st["live_at_end"]
            allocs.setdefault(key, [0.0] * len(snaps))[k] += st["allocs"]
            is_user[key] = mine
            if last and st.get("kept_type"):
                by_type = types.setdefault(key, {})
                by_type[st["kept_type"]] = by_type.get(st["kept_type"], 0) + st["kept_type_bytes"]
    out: dict[str, Any] = {
        "schema": "thrifty.watch", "schema_version": 1, "target": target,
        "mode": snaps[-1]["mode"] if snaps else None, "snapshots": len(snaps),
        "duration_s": times[-1] - times[0] if len(times) > 1 else 0.0,
        "heap": {"first_bytes": int(heap[0]) if heap else 0, "last_bytes": int(heap[-1]) if heap else 0,
                 "peak_bytes": int(snaps[-1]["peak_bytes"]) if snaps else 0,
                 "series": [int(heap[i]) for i in charted]},
        "times_s": [round(times[i], 3) for i in charted],
        "budget_bytes": budget, "sites": [], "leaks": [], "projection": None,
        "notes": [],
    }
    if len(snaps) < MIN_POINTS:
        n = len(snaps)
        out["notes"].append(f"{n} snapshot{'' if n == 1 else 's'}: at least {MIN_POINTS} are needed to tell a trend "
                            "(watch longer, or snapshot more often with --every)")
        return out
    heap_trend = classify(times, heap)
    out["heap"].update(slope_bytes_per_hour=heap_trend["slope"] * 3600, kind=heap_trend["kind"],
                       z=heap_trend["z"])
    for key, ys in per.items():
        if max(ys) < min_bytes:
            continue
        made = allocs[key][-1] - allocs[key][0]
        c = classify(times, ys, made)
        site: dict[str, Any] = {"file": key[0], "line": key[1], "function": key[2], "user_code": is_user[key]}
        row = {"site": site, "label": site_label(site), "kind": c["kind"], "why": c["why"],
               "series": [int(ys[i]) for i in charted],
               "bytes_per_hour": c["slope"] * 3600, "bytes_per_hour_low": c["slope_low"] * 3600,
               "bytes_per_hour_high": c["slope_high"] * 3600, "z": c["z"], "tau": c["tau"],
               "live_first": int(ys[0]), "live_last": int(ys[-1]), "live_max": int(max(ys)),
               "kept_type": None, "kept_type_share": None}
        if key in types and ys[-1] > 0:
            name, nbytes = max(types[key].items(), key=lambda kv: kv[1])
            row.update(kept_type=name, kept_type_share=min(1.0, nbytes / ys[-1]))
        out["sites"].append(row)
    out["sites"].sort(key=lambda r: -r["bytes_per_hour"])
    out["leaks"] = [r for r in out["sites"] if r["kind"] == "leak"]
    rate = heap_trend["slope"]
    # the heap's own trend (a sawtooth on a rising floor counts: only the direction has to be sure)
    if budget and rate > 0 and heap_trend["z"] > Z_SURE:
        left = budget - heap[-1]
        out["projection"] = {"budget_bytes": budget, "seconds": max(0.0, left / rate),
                             "bytes_per_hour": rate * 3600}
    if out["mode"] == "sampled":
        out["notes"].append("sampled mode: live bytes per site are estimates (Poisson sampling by bytes); a slow "
                            "leak needs a long watch or a smaller --sample-rate")
    return out


def rough_duration(s: float) -> str:
    """'~8.9 minutes'-style text for a span of seconds (a projection is no more precise than that)."""
    for unit, span in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if s >= span:
            return f"~{s / span:.1f} {unit}"
    return f"~{s:.0f} s"


def render_text(a: dict[str, Any], top: int = 10) -> str:
    """The analysis as the terminal shows it."""
    t = a.get("target", {})
    lines = [f"thrifty watch — {target_display(t)}: {a['snapshots']} snapshots over {a['duration_s']:.1f} s "
             f"({a['mode']} mode)"]
    h = a["heap"]
    head = f"  heap          {_size(h['first_bytes'])} → {_size(h['last_bytes'])} (peak {_size(h['peak_bytes'])})"
    if "slope_bytes_per_hour" in h:
        head += f", {h['kind']}, {_size(h['slope_bytes_per_hour'])}/hour"
    lines.append(head)
    if a.get("outcome"):
        lines.append(f"  target        {ended(a['outcome'])}")
    budget: int = a.get("budget_bytes") or 0  # 0: none
    over = budget > 0 and h["last_bytes"] >= budget  # no projection to a budget already passed ("in ~0 s")
    if over:
        lines.append(f"  budget        already over: the heap is {_size(h['last_bytes'])}, over the {_size(budget)} "
                     "budget")
    elif budget and h["peak_bytes"] >= budget:
        lines.append(f"  budget        the heap went over the {_size(budget)} budget (peak {_size(h['peak_bytes'])})")
    if a["projection"] and not over:
        p = a["projection"]
        lines.append(f"  projection    at this rate the heap reaches the {_size(p['budget_bytes'])} budget in "
                     f"{rough_duration(p['seconds'])}")
    lines.append("")
    if a["leaks"]:
        lines.append("Leaks (growing to the end), fastest first")
        lines.append("      per hour   95% interval            live now  site")
        for r in a["leaks"][:top]:
            interval = f"{_size(r['bytes_per_hour_low'])}–{_size(r['bytes_per_hour_high'])}"
            kept = f"  (keeps {r['kept_type']}: {100 * r['kept_type_share']:.0f}%)" if r.get("kept_type") else ""
            lines.append(f"  {_size(r['bytes_per_hour']):>12}   {interval:<22} {_size(r['live_last']):>9}  {r['label']}"
                         + kept)
    else:
        lines.append("Leaks: none (no site grew steadily to the end)")
    others = [r for r in a["sites"] if r["kind"] in ("sawtooth", "plateau", "churn")]
    if others:
        lines.append("")
        lines.append("Not leaks")
        for r in others[:top]:
            lines.append(f"  {r['kind']:<9} {_size(r['live_max']):>9} at most  {r['label']}: {r['why']}")
    for note in a["notes"]:
        lines.append(f"note: {note}")
    return "\n".join(lines) + "\n"
