"""`python -m thrifty.doctor [--json FILE] [--html FILE] script.py [args...]`: run script under the doctor's probes,
then print the findings (the full `thrifty doctor` command adds the tracker's report and budgets)."""
from __future__ import annotations

import argparse
import json
import sys

from thrifty.doctor import html as html_report
from thrifty.doctor import probe, render
from thrifty.doctor.findings import build


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m thrifty.doctor", description=__doc__.splitlines()[0])
    ap.add_argument("--json", metavar="FILE", help="write the findings as JSON ('-' for stdout)")
    ap.add_argument("--html", metavar="FILE", help="write a self-contained HTML report")
    ap.add_argument("--summary", metavar="FILE", help="write peak and finding kinds as JSON (used by make demo)")
    ap.add_argument("script")
    ap.add_argument("args", nargs=argparse.REMAINDER)
    a = ap.parse_args(argv)
    run = probe.run_script(a.script, a.args)
    found = build(run.evidence)
    err = sys.stderr
    err.write(f"\nthrifty doctor: {a.script}: peak {render.fmt_bytes(run.peak_bytes)}, "
              f"{len(found)} findings ({sum(f.confirmed for f in found)} confirmed)\n")
    render.text(found, err)
    extra = {"script": run.script, "peak_bytes": run.peak_bytes, "end_bytes": run.end_bytes,
             "exit_code": run.exit_code}
    if a.json == "-":
        render.dump_json(found, sys.stdout, extra)
    elif a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            render.dump_json(found, f, extra)
    if a.html:
        with open(a.html, "w", encoding="utf-8") as f:
            f.write(html_report.render(run, found))
    if a.summary:
        with open(a.summary, "w", encoding="utf-8") as f:
            json.dump({**extra, "findings": sorted({(x.kind, x.title.split(" at exit")[0]) for x in found
                                                    if x.confirmed})}, f, indent=1)
    return run.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
