"""`make bench`: run every bench/bench_*.py and write docs/benchmarks.md.

Each bench module has `TITLE` and `run(quick: bool) -> str` (a Markdown section body). Its output is kept in
bench/results/<name>.md, and docs/benchmarks.md is assembled from all kept results, so running one part
(`--only ring`) refreshes that part's section and leaves the others as they were last measured.
"""
from __future__ import annotations

import argparse
import datetime
import importlib
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))

import harness  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(HERE.parent / "docs" / "benchmarks.md"))
    ap.add_argument("--only", action="append", default=[], help="run only bench_<NAME>.py (repeatable)")
    ap.add_argument("--quick", action="store_true", help="fewer repetitions, smaller inputs (a smoke run)")
    ap.add_argument("--assemble", action="store_true", help="run nothing, rebuild the output from kept results")
    args = ap.parse_args()

    RESULTS.mkdir(exist_ok=True)
    names = sorted(p.stem[len("bench_"):] for p in HERE.glob("bench_*.py"))
    unknown = [n for n in args.only if n not in names]
    if unknown:
        print(f"bench: unknown part(s) {unknown}; known: {names}", file=sys.stderr)
        return 2
    if not args.assemble:
        for name in args.only or names:
            mod = importlib.import_module(f"bench_{name}")
            print(f"== {name}: {mod.TITLE}", flush=True)
            body = mod.run(args.quick).strip()
            stamp = datetime.date.today().isoformat()
            text = f"## {mod.TITLE}\n\n_Measured {stamp} on {harness.machine()}._\n\n{body}\n"
            (RESULTS / f"{name}.md").write_text(text)
            print(body, flush=True)

    parts = [(RESULTS / f"{n}.md").read_text() for n in names if (RESULTS / f"{n}.md").exists()]
    head = (
        "# Benchmarks\n\n"
        "Written by `make bench` (bench/run.py). Every row measures thrifty and its anchor in the same process,\n"
        "alternating the two sides, repeating each and taking medians; the ratio is the claim. The machines are\n"
        "shared and noisy, so small ratios move between runs. Benchmarks report; they never gate CI.\n"
    )
    pathlib.Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    pathlib.Path(args.out).write_text(head + "\n" + "\n".join(parts))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
