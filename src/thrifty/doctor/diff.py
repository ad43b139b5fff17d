"""`thrifty diff A B`: two runs side by side — peak, import bill, top sites at peak, and the findings that went
away or stayed. A and B are run files (`thrifty doctor --out`) or JSON reports (`--json`); both become reports."""
from __future__ import annotations

TYPE_CHECKING = False  # mypy takes any `TYPE_CHECKING` as true; typing is not imported at run time: its import
if TYPE_CHECKING:     # is ~4 ms of every doctor run's start-up, and every annotation here is a string (PEP 563)
    from typing import Any

import json

from thrifty.doctor import runfile
from thrifty.doctor.usercode import site_label


def load(path: str) -> dict[str, Any]:
    """The report of a run file or of a JSON report; ValueError with one line otherwise."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(runfile.MAGIC))
    except OSError as e:
        raise ValueError(f"cannot read {path!r}: {e.strerror or e}") from None
    if head == runfile.MAGIC:
        from thrifty.doctor.tracer import report_of

        try:
            return report_of(path).report
        except runfile.RunFileError as e:
            raise ValueError(str(e)) from None
    try:
        with open(path, encoding="utf-8") as f:
            report = json.load(f)
    except (ValueError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: neither a run file nor a JSON report ({e})") from None
    if not isinstance(report, dict) or report.get("schema") != "thrifty.doctor":
        raise ValueError(f"{path}: a JSON file, but not a thrifty doctor report (no \"schema\": \"thrifty.doctor\")")
    return report


def size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def imports(report: dict[str, Any]) -> tuple[int, dict[str, int]]:
    """(the import bill, bytes live at the peak per imported module, its own imports included): from the report's
    import table (schema 2), else from the ("<import>", 0, module) frames of its stacks."""
    if isinstance(report.get("imports"), list):
        table = report["imports"]
        return (sum(m.get("self_live_at_peak", 0) for m in table),
                {m["module"]: m.get("live_at_peak", 0) for m in table})
    frames = report.get("frames") or []
    out: dict[str, int] = {}
    for st in report.get("stacks") or []:
        mods = [frames[i][2] for i in st["frames"] if frames[i][0] == "<import>"]
        for m in set(mods):
            out[m] = out.get(m, 0) + st["live_at_peak"]
    bill = sum(st["live_at_peak"] for st in report.get("stacks") or []
               if any(frames[i][0] == "<import>" for i in st["frames"]))
    return bill, out


def _by_line(report: dict[str, Any]) -> dict[tuple[Any, ...], int]:
    """Bytes live at the peak per (file, line, function): the functions on one line (a comprehension and its module)
    summed; a site with no line (an import of no user line: `<import>`, a file's compilation) keeps its function,
    which says what it is (each import its own row, not one `<import>:0` for all)."""
    out: dict[tuple[Any, ...], int] = {}
    for s in report.get("sites", []):
        key = (s["file"], s["line"], s.get("function") if (s["line"] or 0) <= 0 else None)
        out[key] = out.get(key, 0) + s["live_at_peak"]
    return out


def _finding_key(f: dict[str, Any]) -> tuple[Any, ...]:
    """What makes two findings 'the same' across two runs: the kind and what it is about."""
    d = f.get("data") or {}
    return (f["kind"], d.get("name") or d.get("type") or d.get("what") or d.get("consumer") or "")


def _ratio(a: float, b: float) -> str:
    if not a and not b:
        return ""
    if not b:
        return "   (B: none)"
    if not a:
        return "   (A: none)"
    r = a / b
    if 1 / 1.1 < r < 1.1:  # "1.0x larger in B" says nothing: a small change reads as a percentage
        pct = round(100 * (b - a) / a)
        return "   the same" if pct == 0 else f"   {abs(pct)}% {'larger' if pct > 0 else 'smaller'} in B"
    return f"   {r:.1f}x smaller in B" if r >= 1 else f"   {1 / r:.1f}x larger in B"


def compare(a: dict[str, Any], b: dict[str, Any], *, names: tuple[str, str] = ("A", "B"), top: int = 10) -> str:
    lines = [f"== thrifty diff   A: {names[0]}   B: {names[1]}", f"  {'':28}{'A':>14}{'B':>14}"]
    sa, sb = a["summary"], b["summary"]
    lines.append(f"  {'peak traced heap':28}{size(sa['peak_bytes']):>14}{size(sb['peak_bytes']):>14}"
                 f"{_ratio(sa['peak_bytes'], sb['peak_bytes'])}")
    for label, field, fmt in (("live at exit", "live_bytes_at_end", size), ("allocations", "allocs", "{:,}".format),
                              ("peak RSS", "peak_rss_bytes", size)):
        x, y = sa.get(field), sb.get(field)
        if x is not None and y is not None:
            lines.append(f"  {label:28}{fmt(x):>14}{fmt(y):>14}")
    (bill_a, ia), (bill_b, ib) = imports(a), imports(b)
    if ia or ib:
        lines.append(f"  {'import bill (live at peak)':28}{size(bill_a):>14}{size(bill_b):>14}")
        mods = sorted(set(ia) | set(ib), key=lambda m: -max(ia.get(m, 0), ib.get(m, 0)))[:top]
        lines.append("\n== heaviest imports (live at peak, with what each imported)")
        for m in mods:
            lines.append(f"  {m:28}{size(ia.get(m, 0)):>14}{size(ib.get(m, 0)):>14}")
    by_a, by_b = _by_line(a), _by_line(b)
    keys = sorted(set(by_a) | set(by_b), key=lambda k: -max(by_a.get(k, 0), by_b.get(k, 0)))
    keys = [k for k in keys if max(by_a.get(k, 0), by_b.get(k, 0))]
    if keys:
        lines.append("\n== top sites at peak")
        for k in keys[:top]:
            # as the text report names it (json/decoder.py:353, import json, app.py in <compile>)
            where = site_label({"file": k[0], "line": k[1], "function": k[2]}, function=k[2] is not None)
            if len(where) > 48:
                where = "..." + where[-45:]
            lines.append(f"  {size(by_a.get(k, 0)):>10}{size(by_b.get(k, 0)):>12}  {where}")
    fa = [f for f in a.get("findings", []) if f.get("confirmed")]
    fb = [f for f in b.get("findings", []) if f.get("confirmed")]
    lines.append(f"\n  {'confirmed findings':28}{len(fa):>14}{len(fb):>14}")
    left = {_finding_key(f) for f in fb}
    gone = [f for f in fa if _finding_key(f) not in left]
    stayed = [f for f in fa if _finding_key(f) in left]
    new = [f for f in fb if _finding_key(f) not in {_finding_key(g) for g in fa}]
    for title, group in ((f"findings gone in B ({len(gone)} of {len(fa)})", gone), (f"still there ({len(stayed)})", stayed),
                         (f"new in B ({len(new)})", new)):
        if group:
            lines.append(f"\n== {title}")
            for f in sorted(group, key=lambda f: (f["habit"], -(f.get("bytes") or 0))):
                bytes_ = f"{size(f['bytes']):>10}" if f.get("bytes") else " " * 10
                lines.append(f"  {bytes_}  [{f['habit']}] {f['title']}")
    return "\n".join(lines) + "\n"
