"""`--html FILE`: one self-contained page (no script, no network): memory over time, a flame graph of the stacks
live at the peak, and the findings tables. Charts are inline SVG drawn here, so the page renders the same offline
and in any browser, and has nothing that can fail at load time."""
from __future__ import annotations

import html
import zlib
import os

TYPE_CHECKING = False  # mypy takes any `TYPE_CHECKING` as true; typing is not imported at run time: its import
if TYPE_CHECKING:     # is ~4 ms of every doctor run's start-up, and every annotation here is a string (PEP 563)
    from typing import Any

from thrifty.doctor.findings import Finding
from thrifty.doctor.page import W, Frame, document
from thrifty.doctor.render import habits_by_bytes
from thrifty.guards import format_size
from thrifty.doctor.usercode import short_path, site_label

ROW = 18


def _exit_status(outcome: dict[str, Any]) -> object:
    """The exit status, or why there is none (a run file with no end record: killed with its doctor, or running)."""
    code = outcome.get("exit_status", 0)
    return "unknown (no end record)" if code is None else code


def _timeline_svg(timeline: list[list[float]], peak: int, peak_t: float | None = None) -> str:
    """The traced heap over time as its envelope: per bucket the highest and lowest value reached, filled between,
    the highs as the line. The peak dot sits on the line (the report puts the peak on the timeline)."""
    h = 220
    if len(timeline) < 2:
        return '<p class="muted">The run was too short for a timeline.</p>'
    f = Frame(h, max(timeline[-1][0], 1e-6), max(peak, max(p[1] for p in timeline), 1))
    highs = " ".join(f"{f.x(p[0]):.1f},{f.y(p[1]):.1f}" for p in timeline)
    lows = " ".join(f"{f.x(p[0]):.1f},{f.y(p[2]):.1f}" for p in reversed(timeline))
    dot = ""
    if peak_t is not None:
        dot = (f'<circle cx="{f.x(peak_t):.1f}" cy="{f.y(peak):.1f}" r="4" fill="#c30"><title>peak '
               f'{html.escape(format_size(peak))} at {peak_t:.2f} s</title></circle>')
    return (f'<svg id="timeline" width="{W}" height="{h}" role="img" aria-label="memory over time">{f.grid()}'
            f'<polygon id="envelope" fill="#36c" fill-opacity="0.18" stroke="none" points="{highs} {lows}"/>'
            f'<polyline fill="none" stroke="#36c" stroke-width="1.5" points="{highs}"/>{dot}'
            f'{f.time_labels(f"{f.t_end:.2f} s")}</svg>')


def _flame_svg(stacks: list[tuple[list[str], int]]) -> str:
    """An icicle graph: outermost frame on top, width proportional to the bytes live at the peak."""
    root: dict[str, Any] = {"size": 0, "kids": {}}
    for frames, size in stacks:
        node = root
        node["size"] += size
        for fr in frames:
            node = node["kids"].setdefault(fr, {"size": 0, "kids": {}})
            node["size"] += size
    total = root["size"]
    if not total:
        return '<p class="muted">No stacks were recorded at the peak.</p>'
    rects: list[str] = []
    depth_max = 0

    def draw(node: dict[str, Any], x: float, depth: int) -> None:
        nonlocal depth_max
        for name, kid in sorted(node["kids"].items(), key=lambda kv: -kv[1]["size"]):
            w = kid["size"] / total * W
            if w < 2:
                continue
            depth_max = max(depth_max, depth)
            hue = 20 + zlib.crc32(name.encode()) % 40  # stable colours from run to run
            label = f"{name} — {format_size(kid['size'])} ({kid['size'] / total:.1%})"
            rects.append(
                f'<g><title>{html.escape(label)}</title><rect x="{x:.1f}" y="{depth * ROW}" width="{w - 0.5:.1f}" '
                f'height="{ROW - 1}" fill="hsl({hue},85%,62%)"/>'
                + (f'<text x="{x + 3:.1f}" y="{depth * ROW + 13}">{html.escape(name[: int(w / 7)])}</text>'
                   if w > 40 else "") + "</g>")
            draw(kid, x, depth + 1)
            x += w

    draw(root, 0.0, 0)
    return (f'<svg id="flame" width="{W}" height="{(depth_max + 1) * ROW}" role="img" '
            f'aria-label="flame graph of the stacks live at the peak">{"".join(rects)}</svg>')


def _findings_tables(findings: list[Finding]) -> str:
    out = []
    for habit in habits_by_bytes(findings):
        fs = [f for f in findings if f.habit == habit]
        if not fs:
            continue
        rows = "".join(
            f"<tr><td>{'<span class=warn>●</span>' if f.confirmed else '<span class=muted>○</span>'}</td>"
            f"<td class=n>{html.escape(format_size(f.bytes)) if f.bytes else ''}</td>"
            f"<td>{html.escape(f.title)}<br><span class=muted>{html.escape(f.kind)}</span></td>"
            f"<td><code>{html.escape(short_path(f.where()))}</code></td><td>{html.escape(f.evidence)}</td>"
            f"<td>{html.escape(f.fix)}</td></tr>" for f in fs)
        out.append(f"<h3>{html.escape(habit)}</h3><table><tr><th></th><th>bytes</th><th>finding</th><th>where</th>"
                   f"<th>evidence</th><th>fix</th></tr>{rows}</table>")
    return "".join(out) or "<p>No findings.</p>"


def peak_stacks(report: dict[str, Any]) -> list[tuple[list[str], int]]:
    """([outermost label, ..., innermost], bytes live at the peak) from the tracker's report."""
    frames = report.get("frames", [])
    out = []
    for st in report.get("stacks", []):
        if st.get("live_at_peak"):
            labels = [f"import {fr[2]}" if fr[0] == "<import>" else f"{fr[2] or '?'} ({os.path.basename(fr[0])}:{fr[1]})"
                      for fr in (frames[i] for i in st["frames"])]
            out.append((labels or ["<no Python frame>"], st["live_at_peak"]))
    return out


def _sites_table(report: dict[str, Any]) -> str:
    """The tracker's top sites at the peak, as in the terminal report."""
    sites = report.get("sites", [])
    peak = report["summary"]["peak_bytes"] or 1
    rows = "".join(
        f"<tr><td class=n>{html.escape(format_size(s['live_at_peak']))}</td><td class=n>{100 * s['live_at_peak'] / peak:.1f}%"
        f"</td><td class=n>{s['allocs']:,}</td><td><code>{html.escape(s.get('label') or site_label(s))}</code> "
        f"{html.escape(s['function'] or '')}</td></tr>" for s in (sites[i] for i in report.get("top_at_peak", [])))
    if not rows:
        return ""
    return ("<h2>Top sites at the peak</h2><table><tr><th>live at peak</th><th>%</th><th>allocations</th>"
            f"<th>site</th></tr>{rows}</table>")


def _imports_table(report: dict[str, Any], top: int = 15) -> str:
    """Each imported module with the bytes its import left live (cumulative and its own) and its share of the peak."""
    rows = "".join(
        f"<tr><td class=n>{html.escape(format_size(r['live_at_peak']))}</td><td class=n>{100 * r['share_of_peak']:.1f}%"
        f"</td><td class=n>{html.escape(format_size(r['live_at_end']))}</td>"
        f"<td class=n>{html.escape(format_size(r['self_live_at_end']))}</td><td><code>{html.escape(r['module'])}</code>"
        + (f" <span class=muted>imported at {html.escape(short_path(r['imported_at']['file']))}:"
           f"{r['imported_at']['line']}</span>" if r.get("imported_at") else "") + "</td></tr>"
        for r in report.get("imports", [])[:top] if r["live_at_peak"] or r["live_at_end"])
    if not rows:
        return ""
    return ('<h2>Imports</h2><p class="muted">Bytes each import left live; cumulative counts the modules it '
            'imported in turn, self only its own.</p><table id="imports"><tr><th>at peak</th><th>% of peak</th>'
            f"<th>at exit</th><th>self at exit</th><th>module</th></tr>{rows}</table>")


def render(report: dict[str, Any], findings: list[Finding]) -> str:
    """The whole page for one run: the tracker's report (schema thrifty.doctor) and the findings built from it."""
    s = report["summary"]
    display = report.get("target", {}).get("display", "?")
    name = html.escape(display)
    timeline = [[float(p[0]), int(p[1]), int(p[2] if len(p) > 2 else p[1])] for p in report.get("timeline", [])]
    own = s.get("recorder_peak_bytes", s.get("tracker_peak_bytes", 0))
    rss = s.get("peak_rss_bytes")
    return document(f"thrifty doctor — {display}", f"""<h1>thrifty doctor — {name}</h1>
<div class="kv"><div>peak <b>{html.escape(format_size(s["peak_bytes"]))}</b> at {s["peak_time_s"]:.2f} s</div>
<div>at exit <b>{html.escape(format_size(s["live_bytes_at_end"]))}</b></div>
<div>wall time <b>{s["wall_time_s"]:.2f} s</b></div>
<div>exit status <b>{_exit_status(report.get("outcome", {}))}</b></div>
<div>peak RSS <b>{html.escape(format_size(rss)) if rss else "n/a"}</b>{" (target)" if s.get("peak_rss_of") == "target"
    else " (whole process)"}</div>
<div>doctor's own <b>{html.escape(format_size(own))}</b> (apart)</div>
<div>findings <b>{len(findings)}</b> ({sum(f.confirmed for f in findings)} confirmed)</div></div>
<h2>Memory over time</h2>{_timeline_svg(timeline, s["peak_bytes"], s.get("peak_time_s"))}
<h2>Stacks live at the peak</h2><p class="muted">Outermost frame on top; width is bytes live when the heap
peaked. Hover for sizes.</p>{_flame_svg(peak_stacks(report))}
{_sites_table(report)}
{_imports_table(report)}
<h2>Findings</h2><p class="muted">● confirmed by the run &nbsp; ○ seen in the source only</p>
{_findings_tables(findings)}
{"".join(f'<p class="muted">note: {html.escape(n)}</p>' for n in report.get("notes", []))}
""")
