"""`thrifty watch --html FILE` and `thrifty report --leaks --html FILE`: the leak analysis (leaks.analyse) as one
self-contained page, in the doctor's style (page.py). The heap over time comes first, with the budget and the
projection to it; then every site of the analysis' tables, leaks first, each with its own live bytes over the watch
as a small chart beside its rate, kind and line. File and function names come from the target: all are escaped."""
from __future__ import annotations

import html

TYPE_CHECKING = False  # mypy takes any `TYPE_CHECKING` as true; typing is not imported at run time: its import
if TYPE_CHECKING:     # is ~4 ms of every doctor run's start-up, and every annotation here is a string (PEP 563)
    from typing import Any

from thrifty.doctor.leaks import MIN_POINTS, rough_duration
from thrifty.doctor.page import W, Frame, document
from thrifty.doctor.render_text import ended
from thrifty.guards import format_size as _size

HEAP_H = 240
SPARK_W, SPARK_H = 180, 40
LEAK, OTHER, BUDGET = "#c30", "#36c", "#c30"
IN_VIEW = 4.0  # the budget is drawn on the heap's chart when it is at most this many times the heap's highest
AHEAD = 0.5  # the projection widens the chart by at most this share of the time watched

EXTRA_CSS = """
svg.spark{display:block}td.chart{width:184px;padding:2px}.leak{color:#c30;font-weight:bold}
.kv{flex-wrap:wrap;row-gap:4px}.kv div{white-space:nowrap}
"""


def _esc(value: object) -> str:
    return html.escape(str(value))


def _clock(s: float) -> str:
    """A time on the chart's axis: seconds, minutes, hours or days, one decimal."""
    for unit, span in (("d", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if s >= 2 * span:
            return f"{s / span:.1f} {unit}"
    return f"{s:.1f} s"


def _heap_svg(a: dict[str, Any]) -> str:
    """Live bytes at each charted snapshot, filled to zero; the budget as a dotted line when it fits the scale, and
    the projection as a dashed line on from the last snapshot at the heap's own rate."""
    t = a.get("times_s") or []
    heap = a["heap"].get("series") or []
    if len(t) < 2 or len(heap) != len(t) or t[-1] <= t[0]:
        n = a["snapshots"]
        return (f'<p class="warn">Too few snapshots for a chart: {n} over {_esc(_clock(a["duration_s"]))} (a chart '
                f"needs 2 a while apart, a trend {MIN_POINTS}). Watch longer, or snapshot more often with --every.</p>")
    budget = a.get("budget_bytes") or 0
    proj = a.get("projection")
    highest = max(max(heap), 1)
    budget_shown = 0 < budget <= IN_VIEW * highest
    t_last = t[-1]
    t_end = max(t_last, 1e-6)
    top = max(highest, budget if budget_shown else 0)
    if proj and proj["seconds"] > 0:
        t_end = max(t_end, min(t_last + proj["seconds"], t_last * (1 + AHEAD)))
        # room for the projection up to the right edge (or to the budget, reached before it)
        top = max(top, min(budget, heap[-1] + proj["bytes_per_hour"] / 3600 * (t_end - t_last)))
    f = Frame(HEAP_H, t_end, top)
    line = " ".join(f"{f.x(s):.1f},{f.y(b):.1f}" for s, b in zip(t, heap))
    parts = [f.grid(),
             f'<polygon fill="{OTHER}" fill-opacity="0.15" stroke="none" '
             f'points="{f.x(t[0]):.1f},{f.y(0):.1f} {line} {f.x(t_last):.1f},{f.y(0):.1f}"/>',
             f'<polyline fill="none" stroke="{OTHER}" stroke-width="1.5" points="{line}"><title>heap: '
             f'{_esc(_size(heap[0]))} → {_esc(_size(heap[-1]))}</title></polyline>']
    if budget_shown:
        parts.append(f'<line id="budget" x1="50" x2="{W - 10}" y1="{f.y(budget):.1f}" y2="{f.y(budget):.1f}" '
                     f'stroke="{BUDGET}" stroke-dasharray="2 3"/><text x="{W - 160}" y="{f.y(budget) - 4:.0f}">'
                     f"budget {_esc(_size(budget))}</text>")
    if proj and proj["seconds"] > 0:
        rate = proj["bytes_per_hour"] / 3600
        t1 = min(t_last + proj["seconds"], t_end)
        b1 = heap[-1] + rate * (t1 - t_last)
        if b1 > f.top:  # leaves the chart through its top before its right edge
            t1, b1 = t_last + (f.top - heap[-1]) / rate, f.top
        parts.append(f'<line id="projection" x1="{f.x(t_last):.1f}" y1="{f.y(heap[-1]):.1f}" x2="{f.x(t1):.1f}" '
                     f'y2="{f.y(b1):.1f}" stroke="{OTHER}" stroke-width="1.5" stroke-dasharray="6 4"/>')
    if t_end > t_last:
        parts.append(f'<line x1="{f.x(t_last):.1f}" x2="{f.x(t_last):.1f}" y1="{f.y(f.top):.1f}" y2="{f.y(0):.1f}" '
                     f'stroke="#bbb"/><text x="{f.x(t_last) + 4:.0f}" y="{f.y(f.top) + 10:.0f}">end of watch, '
                     f"{_esc(_clock(t_last))}</text>")
    parts.append(f.time_labels(_clock(t_end)))
    caption = [f"Live bytes at each snapshot ({a['snapshots']} snapshots"
               + (f", {len(t)} of them charted)." if len(t) < a["snapshots"] else ").")]
    if budget and not budget_shown:
        caption.append(f"The budget, {_size(budget)}, is above this scale.")
    if proj and proj["seconds"] > 0:
        caption.append(f"Dashed: at the heap's rate, {_size(proj['bytes_per_hour'])}/hour, it reaches the budget in "
                       f"{rough_duration(proj['seconds'])}.")
    return (f'<svg id="heap" width="{W}" height="{HEAP_H}" role="img" aria-label="live bytes over time">'
            f'{"".join(parts)}</svg><p class="muted">{_esc(" ".join(caption))}</p>')


def _spark(t: list[float], ys: list[int], label: str, leak: bool) -> str:
    """One site's live bytes over the watch, from 0 to its own highest (so a small site's shape shows too)."""
    if len(t) < 2 or len(ys) != len(t) or t[-1] <= t[0]:
        return '<span class="muted">no series</span>'
    span = max(t[-1] - t[0], 1e-9)
    top = max(max(ys), 1)

    def x(s: float) -> float:
        return 2 + (s - t[0]) / span * (SPARK_W - 4)

    def y(b: float) -> float:
        return SPARK_H - 2 - b / top * (SPARK_H - 4)

    colour = LEAK if leak else OTHER
    line = " ".join(f"{x(s):.1f},{y(b):.1f}" for s, b in zip(t, ys))
    title = _esc(f"{label}: {_size(ys[0])} → {_size(ys[-1])}, at most {_size(max(ys))}, over {_clock(span)}")
    return (f'<svg class="spark" width="{SPARK_W}" height="{SPARK_H}" role="img" aria-label="{title}">'
            f"<title>{title}</title>"
            f'<polygon fill="{colour}" fill-opacity="0.15" stroke="none" '
            f'points="{x(t[0]):.1f},{y(0):.1f} {line} {x(t[-1]):.1f},{y(0):.1f}"/>'
            f'<polyline fill="none" stroke="{colour}" stroke-width="1.2" points="{line}"/>'
            f'<circle cx="{x(t[-1]):.1f}" cy="{y(ys[-1]):.1f}" r="2" fill="{colour}"/></svg>')


def _table(rows: list[dict[str, Any]], t: list[float]) -> str:
    body = []
    for r in rows:
        leak = r["kind"] == "leak"
        site = r["site"]
        where = f"<code>{_esc(r['label'])}</code>"
        if site.get("function"):
            where += f" <span class=muted>in {_esc(site['function'])}</span>"
        if r.get("kept_type"):  # the Python type most of its live bytes hold, when the analysis could tell
            where += (f"<br>keeps <code>{_esc(r['kept_type'])}</code> <span class=muted>"
                      f"({100 * (r.get('kept_type_share') or 0):.0f}% of its bytes)</span>")
        body.append(
            f"<tr><td class=chart>{_spark(t, r.get('series') or [], r['label'], leak)}</td>"
            f"<td class=n>{_esc(_size(r['bytes_per_hour']))}/h<br><span class=muted>"
            f"{_esc(_size(r['bytes_per_hour_low']))} – {_esc(_size(r['bytes_per_hour_high']))}</span></td>"
            f"<td class=n>{_esc(_size(r['live_last']))}<br><span class=muted>at most "
            f"{_esc(_size(r['live_max']))}</span></td>"
            f"<td><span class={'leak' if leak else 'kind'}>{_esc(r['kind'])}</span><br>"
            f"<span class=muted>{_esc(r['why'])}</span></td><td>{where}</td></tr>")
    return ('<table class="sites"><tr><th>live bytes over the watch</th><th>per hour<br>(95% interval)</th>'
            f'<th>live at the end</th><th>kind</th><th>site</th></tr>{"".join(body)}</table>')


def _summary(a: dict[str, Any]) -> str:
    h = a["heap"]
    items = [f"<div>snapshots <b>{a['snapshots']}</b> over <b>{_esc(_clock(a['duration_s']))}</b></div>",
             f"<div>mode <b>{_esc(a.get('mode'))}</b></div>",
             f"<div>heap <b>{_esc(_size(h['first_bytes']))} → {_esc(_size(h['last_bytes']))}</b> "
             f"(peak {_esc(_size(h['peak_bytes']))})</div>"]
    if "slope_bytes_per_hour" in h:
        items.append(f"<div>heap trend <b>{_esc(h['kind'])}, {_esc(_size(h['slope_bytes_per_hour']))}/hour</b></div>")
    if a.get("budget_bytes"):
        items.append(f"<div>budget <b>{_esc(_size(a['budget_bytes']))}</b></div>")
    outcome = a.get("outcome")
    if outcome:
        items.append(f"<div>target <b>{_esc(ended(outcome))}</b></div>")
    out = f'<div class="kv">{"".join(items)}</div>'
    p = a.get("projection")
    if p and p["seconds"] > 0:
        out += (f"<p>At this rate the heap reaches the {_esc(_size(p['budget_bytes']))} budget in "
                f"<b>{_esc(rough_duration(p['seconds']))}</b>.</p>")
    elif p:
        out += f"<p class=warn>The heap is already over the {_esc(_size(p['budget_bytes']))} budget.</p>"
    return out


def render(a: dict[str, Any], top: int = 10) -> str:
    """The page for one leak analysis (schema thrifty.watch, docs/watch.md); `top` sites per table at most."""
    name = str(a.get("target", {}).get("value", "?"))
    t = a.get("times_s") or []
    leaks = a["leaks"][:top]
    others = [r for r in a["sites"] if r["kind"] not in ("leak", "steady")]
    others += [r for r in a["sites"] if r["kind"] == "steady"]
    parts = [f"<h1>thrifty watch — {_esc(name)}</h1>", _summary(a),
             "".join(f'<p class="muted">note: {_esc(n)}</p>' for n in a.get("notes", [])),
             "<h2>Heap over time</h2>", _heap_svg(a)]
    if a["snapshots"] < MIN_POINTS:
        parts.append(f'<h2>Sites</h2><p class="warn">Too few snapshots to tell a trend: {a["snapshots"]}, at least '
                     f"{MIN_POINTS} are needed.</p>")
    else:
        parts.append('<h2>Leaks (growing to the end), fastest first</h2><p class="muted">Each chart runs from zero '
                     "to the site's own highest; hover for its numbers.</p>")
        parts.append(_table(leaks, t) if leaks else "<p>None: no site grew steadily to the end.</p>")
        if others:
            parts.append("<h2>Not leaks</h2>")
            parts.append(_table(others[:top], t))
        left = len(a["leaks"]) - len(leaks) + max(0, len(others) - top)
        if left:
            parts.append(f'<p class="muted">{left} more site{"s" if left != 1 else ""} in the JSON (--json), or '
                         "with a larger --top.</p>")
    return document(f"thrifty watch — {name}", "\n".join(parts) + "\n", EXTRA_CSS)
