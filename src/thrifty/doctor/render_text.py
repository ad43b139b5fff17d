"""Terminal renderer: summary, top sites at peak, top churn sites, budget verdict."""
from __future__ import annotations

TYPE_CHECKING = False  # mypy takes any `TYPE_CHECKING` as true; typing is not imported at run time: its import
if TYPE_CHECKING:     # is ~4 ms of every doctor run's start-up, and every annotation here is a string (PEP 563)
    from typing import Any

from thrifty.doctor.usercode import short_path, site_label
from thrifty.guards import format_size


def ended(outcome: dict[str, Any]) -> str:
    """How the target ended, as a phrase after "target": "called sys.exit: exit status 3", "stopped at --for"."""
    if outcome.get("stopped"):
        return "stopped at --for, as asked"
    if outcome.get("status") == "killed" and outcome.get("exit_status") is None:
        return "ended with no end record: killed (SIGKILL, the OOM killer, a power loss) or still running"
    if outcome.get("status", "ok") == "ok":
        return f"ran to its end: exit status {outcome.get('exit_status', 0)}"
    what = {"exit": "called sys.exit", "exception": "raised", "interrupted": "was interrupted",
            "signal": "was killed by a signal", "killed": "was killed", "os_exit": "called os._exit",
            "exec": "replaced itself with another program (os.exec*: not traced after it), which ended with"
            }.get(outcome["status"], f"ended ({outcome['status']})")
    return (f"{what}: exit status {outcome.get('exit_status')}"
            + (f" ({outcome['exception']})" if outcome.get("exception") else ""))

def _where(site: dict[str, Any]) -> str:
    return site_label(site, function=True)


def budget_verdict(report: dict[str, Any]) -> str | None:
    b = report.get("budget")
    if not b:
        return None
    peak = report["summary"]["peak_bytes"]
    if b["exceeded"]:
        return (f"budget: EXCEEDED — peak traced heap {format_size(peak)} ({peak} bytes) is over the budget of "
                f"{format_size(b['limit_bytes'])} ({b['limit_bytes']} bytes)")
    return f"budget: ok — peak traced heap {format_size(peak)} is within the budget of {format_size(b['limit_bytes'])}"


def _import_lines(report: dict[str, Any], peak: int, top: int = 10) -> list[str]:
    imports = [r for r in report.get("imports", []) if r["live_at_peak"] or r["live_at_end"]]
    if not imports:
        return []
    out = ["", f"Top {min(top, len(imports))} imports (bytes their import left live; cumulative includes the "
               "modules they imported)",
           f"  {'at peak':>10} {'%':>6} {'at exit':>10} {'self':>10}  module"]
    for r in imports[:top]:
        at = f"  (imported at {short_path(r['imported_at']['file'])}:{r['imported_at']['line']})" \
            if r.get("imported_at") else ""
        out.append(f"  {format_size(r['live_at_peak']):>10} {100 * r['share_of_peak']:5.1f}% "
                   f"{format_size(r['live_at_end']):>10} {format_size(r['self_live_at_end']):>10}  {r['module']}{at}")
    return out


def render_text(report: dict[str, Any]) -> str:
    s = report["summary"]
    peak = s["peak_bytes"]
    est = " (estimated from samples)" if report["mode"] == "sampled" else ""
    lines = [f"thrifty doctor — {report['target'].get('display', '?')} ({report['mode']} mode)"]
    rec_peak = s.get("recorder_peak_bytes", s["tracker_peak_bytes"])
    tracker_pct = f", {100 * rec_peak / peak:.1f}% of peak" if peak > 0 else ""
    rss = format_size(s["peak_rss_bytes"]) if s.get("peak_rss_bytes") else "n/a"
    rss_of = ("the target's process, without the doctor" if s.get("peak_rss_of") == "target"
              else "whole process, the doctor included")
    lines += [
        f"  peak traced heap  {format_size(peak)}{est} at {s['peak_time_s']:.2f} s",
        f"  peak RSS          {rss} ({rss_of})",
        f"  allocations       {s['allocs']:,} ({format_size(s['alloc_bytes'])} in total)",
        f"  wall time         {s['wall_time_s']:.2f} s",
    ]
    if report.get("imports"):
        lines.append(f"  imports           {format_size(s.get('imports_live_at_peak', 0))} live at peak, "
                     f"{format_size(s.get('imports_live_at_end', 0))} at exit ({len(report['imports'])} modules)")
    lines.append(f"  doctor's own      tracker ~{s['tracker_overhead_s']:.2f} s (estimate), "
                 f"{format_size(rec_peak)} memory{tracker_pct} — not in the target's figures")
    own = s.get("doctor_own")
    if own and own["allocs"]:
        lines.append(f"                    {own['allocs']:,} allocations ({format_size(own['alloc_bytes'])}), "
                     f"{format_size(own['live_at_peak'])} at peak — counted above, left out of the sites")
    if s["untracked_allocs"] or s["dropped_stacks"]:
        lines.append(f"  note: tracker out of room — {s['untracked_allocs']:,} allocations untracked, "
                     f"{s['dropped_stacks']:,} stacks unattributed (raise the tracker's memory bound)")
    o = report["outcome"]
    end = report.get("end") or {}
    if o["status"] == "ok" and end.get("status", "ok") != "ok":  # the recorder saw how the target ended
        o = {"status": end["status"], "exit_status": end.get("exit_status"),
             "exception": end.get("exception") or (f"signal {end['signal']}" if end.get("signal") else None)}
    if report.get("complete") is False:
        lines.append("  note: the run ended before its last snapshot was complete; figures are from the last "
                     "complete one")
    if o["status"] != "ok":
        lines.append(f"  target {ended(o)}")

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
    lines += _import_lines(report, peak)
    verdict = budget_verdict(report)
    if verdict:
        lines += ["", verdict]
    for note in report.get("notes", []):
        lines.append(f"note: {note}")
    return "\n".join(lines) + "\n"
