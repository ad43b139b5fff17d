"""What thrifty's HTML pages share — the doctor's report (html.py) and the watch's leak report (leaks_html.py): the
style sheet, the document around a page's body, and the frame of a chart of bytes over time. A page is one file
with its charts as inline SVG, no script and nothing fetched, so it renders the same offline and in any browser."""
from __future__ import annotations

import html
from dataclasses import dataclass

from thrifty.guards import format_size

W = 1100  # width of a full-width chart, in CSS pixels

CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1150px}
h1{font-size:20px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%;margin:8px 0}td,th{border:1px solid #ddd;padding:4px 6px;
vertical-align:top;text-align:left}th{background:#f4f4f4}td.n{text-align:right;white-space:nowrap}
.muted{color:#777}.ok{color:#2a7}.warn{color:#c60}code{background:#f6f6f6;padding:0 3px}
svg text{font:11px monospace;pointer-events:none}.kv{display:flex;gap:32px}
"""


def document(title: str, body: str, css: str = "") -> str:
    """The whole page: `title` is plain text (escaped here), `body` is markup whose every value the caller escaped;
    `css` adds rules to the shared ones."""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>\n'
            f"<style>{CSS}{css}</style></head><body>\n{body}</body></html>\n")


@dataclass(frozen=True)
class Frame:
    """A full-width chart `height` pixels high of bytes (0 to `top`, upwards) against seconds (0 to `t_end`,
    across), with a margin on the left for the byte labels and one below for the time labels. Times past `t_end`
    are drawn at the right edge."""

    height: int
    t_end: float
    top: float

    def x(self, t: float) -> float:
        return 50 + min(t / self.t_end, 1) * (W - 60)

    def y(self, b: float) -> float:
        return self.height - 25 - (b / self.top) * (self.height - 40)

    def grid(self) -> str:
        """Byte labels and light horizontal lines at the bottom, the middle and the top."""
        return "".join(
            f'<text x="4" y="{self.y(self.top * f) + 4:.0f}">{html.escape(format_size(self.top * f))}</text>'
            f'<line x1="50" x2="{W - 10}" y1="{self.y(self.top * f):.1f}" y2="{self.y(self.top * f):.1f}" '
            'stroke="#eee"/>' for f in (0, 0.5, 1))

    def time_labels(self, end: str) -> str:
        """"0 s" under the left end, `end` (plain text) under the right one."""
        return (f'<text x="50" y="{self.height - 6}">0 s</text>'
                f'<text x="{W - 60}" y="{self.height - 6}">{html.escape(end)}</text>')
