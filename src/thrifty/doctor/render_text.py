"""Terminal renderer: summary, top sites at peak, top churn sites, budget verdict."""
from __future__ import annotations

import os
from typing import Any

from thrifty.guards import format_size


def _where(site: dict) -> str:
    path = site["file"]
    try:
        rel = os.path.relpath(path)
        if not rel.startswith(".."):
            path = rel
    except ValueError:
        pass
    func = f" in {site['function']}" if site["function"] else ""
    return f"{path}:{site['line']}{func}"


def budget_verdict(report: dict[str, Any]) -> str | None:
    b = report.get("budget")
    if not b:
        return None
    peak = report["summary"]["peak_bytes"]
    if b["exceeded"]:
        return (f"budget: EXCEEDED — peak traced heap {format_size(peak)} ({peak} bytes) is over the budget of "
                f"{format_size(b['limit_bytes'])} ({b['limit_bytes']} bytes)")
    return f"budget: ok — peak traced heap {format_size(peak)} is within the budget of {format_size(b['limit_bytes'])}"


def render_text(report: dict[str, Any]) -> str:
    s = report["summary"]
    peak = s["peak_bytes"]
    est = " (estimated from samples)" if report["mode"] == "sampled" else ""
    lines = [f"thrifty doctor — {report['target'].get('display', '?')} ({report['mode']} mode)"]
    tracker_pct = f", {100 * s['tracker_peak_bytes'] / peak:.1f}% of peak" if peak > 0 else ""
    rss = format_size(s["peak_rss_bytes"]) if s.get("peak_rss_bytes") else "n/a"
    lines += [
        f"  peak traced heap  {format_size(peak)}{est} at {s['peak_time_s']:.2f} s",
        f"  peak RSS          {rss} (whole process)",
        f"  allocations       {s['allocs']:,} ({format_size(s['alloc_bytes'])} in total)",
        f"  wall time         {s['wall_time_s']:.2f} s",
        f"  tracker           ~{s['tracker_overhead_s']:.2f} s overhead (estimate), "
        f"{format_size(s['tracker_peak_bytes'])} memory{tracker_pct}",
    ]
    own = s.get("doctor_own")
    if own and own["allocs"]:
        lines.append(f"  doctor's own      {own['allocs']:,} allocations ({format_size(own['alloc_bytes'])}), "
                     f"{format_size(own['live_at_peak'])} at peak — counted above, left out of the sites")
    if s["untracked_allocs"] or s["dropped_stacks"]:
        lines.append(f"  note: tracker out of room — {s['untracked_allocs']:,} allocations untracked, "
                     f"{s['dropped_stacks']:,} stacks unattributed (raise the tracker's memory bound)")
    o = report["outcome"]
    if o["status"] != "ok":
        what = {"exit": "called sys.exit", "exception": "raised", "interrupted": "was interrupted",
                "os_exit": "called os._exit", "signal": "was ended by a signal",
                "killed": "was killed (SIGKILL: figures from its last snapshot)"}.get(o["status"], o["status"])
        lines.append(f"  target {what}: exit status {o['exit_status']}"
                     + (f" ({o['exception']})" if o.get("exception") else ""))

    sites = report["sites"]
    if not report["top_at_peak"]:  # e.g. `-c pass`: a header over an empty table would read as a failure
        lines += ["", "Sites at peak: none (no line of the target held memory when the heap peaked)"]
    else:
        lines += ["", f"Top {len(report['top_at_peak'])} sites at peak (live bytes when the heap peaked)"]
        lines.append(f"  {'live at peak':>12} {'%':>6} {'allocs':>10}  site")
    for i in report["top_at_peak"]:
        site = sites[i]
        pct = 100 * site["live_at_peak"] / peak if peak else 0.0
        lines.append(f"  {format_size(site['live_at_peak']):>12} {pct:5.1f}% {site['allocs']:>10,}  {_where(site)}")
    if not report["top_churn"]:
        lines += ["", "Churn sites: none (no line of the target freed what it allocated)"]
    else:
        lines += ["", f"Top {len(report['top_churn'])} churn sites (many short-lived allocations: reuse instead of "
                      "creating)"]
        lines.append(f"  {'allocs':>10} {'freed':>10} {'bytes':>10}  site")
    for i in report["top_churn"]:
        site = sites[i]
        lines.append(f"  {site['allocs']:>10,} {site['frees']:>10,} {format_size(site['alloc_bytes']):>10}  "
                     f"{_where(site)}")
    verdict = budget_verdict(report)
    if verdict:
        lines += ["", verdict]
    return "\n".join(lines) + "\n"
