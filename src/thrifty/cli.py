"""The `thrifty` command line (also `python -m thrifty`). A thin layer: parse, call thrifty.doctor, print.

    thrifty doctor [--json FILE] [--html FILE] [--no-findings] [--budget SIZE] [--sample | --exact]
                   [--sample-rate SIZE] [--top N] [--depth N] (script.py | -m module | -c code) [args...]

Exit status: the target's own; 3 when --budget is exceeded; 2 for bad input (one line on stderr, no traceback).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import NoReturn, Sequence

from thrifty.guards import parse_size

EXIT_BAD_INPUT = 2
EXIT_OVER_BUDGET = 3

# Options that take a value, so the first bare word after them is not mistaken for the script.
_VALUED = {"--json", "--html", "--budget", "--top", "--sample-rate", "--depth"}


class UsageError(Exception):
    pass


def _mute(stream: object) -> None:
    """After a closed pipe (`thrifty doctor ... 2>&1 | head`): send the rest of `stream` to /dev/null, so neither a
    later write nor the interpreter's final flush raises BrokenPipeError."""
    try:
        fd = stream.fileno()  # type: ignore[attr-defined]
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, fd)
        os.close(null)
    except (AttributeError, OSError, ValueError):
        pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2, no usage dump
        raise UsageError(message)


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _positive_size(text: str) -> int:
    n = _size(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a size of at least 1 byte, got {text!r}")
    return n


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return n


def _doctor_parser() -> _Parser:
    p = _Parser(prog="thrifty doctor", add_help=False,
                usage="thrifty doctor [options] (script.py | -m module | -c code) [args...]",
                description="Run a Python program under thrifty's allocation tracker and report where memory goes.")
    p.add_argument("-h", "--help", action="store_true", help="show this help")
    p.add_argument("--json", metavar="FILE", help="also write the run result as JSON, - for stdout (schema: docs/doctor-json.md)")
    p.add_argument("--html", metavar="FILE", help="also write a self-contained HTML report (timeline, flame graph, "
                   "findings), - for stdout")
    p.add_argument("--no-findings", action="store_true",
                   help="skip the findings (cycles, resources, globals, duplicates, numbers held as objects, code): "
                   "tracker tables only, faster")
    p.add_argument("--budget", type=_size, metavar="SIZE", help="exit with status 3 when the peak exceeds SIZE")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--sample", action="store_true", help="sampled mode: Poisson sampling by bytes (faster)")
    mode.add_argument("--exact", action="store_true", help="exact mode: every allocation (default)")
    p.add_argument("--sample-rate", type=_positive_size, default=128 * 1024, metavar="SIZE",
                   help="mean bytes between samples in sampled mode (default 128K)")
    p.add_argument("--top", type=_positive, default=10, metavar="N", help="sites listed per table (default 10)")
    p.add_argument("--depth", type=_positive, default=64, metavar="N", help="stack frames kept per site (default 64, at most 256)")
    return p


def _split(argv: list[str]) -> tuple[list[str], str | None, str | None, list[str]]:
    """(doctor options, target kind, target value, target args): options end at the script, -m or -c, like python."""
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-m", "-c"):
            if i + 1 >= len(argv):
                raise UsageError(f"argument {a}: expected a {'module name' if a == '-m' else 'code string'}")
            return argv[:i], "module" if a == "-m" else "code", argv[i + 1], argv[i + 2:]
        if a == "--":
            if i + 1 >= len(argv):
                break
            return argv[:i], "script", argv[i + 1], argv[i + 2:]
        if not a.startswith("-") or a == "-":
            return argv[:i], "script", a, argv[i + 1:]
        i += 2 if a in _VALUED else 1
    return argv, None, None, []


def doctor_main(argv: list[str]) -> int:
    from thrifty.doctor import Target, TargetError, build_report, run_target
    from thrifty.doctor.render_json import write_json
    from thrifty.doctor.findings import build as build_findings
    from thrifty.doctor.html import render as render_html
    from thrifty.doctor.probe import Probes
    from thrifty.doctor.render import text as render_findings_text
    from thrifty.doctor.render_text import render_text

    parser = _doctor_parser()
    head, kind, value, args = _split(argv)
    opts = parser.parse_args(head)
    if opts.help:
        print(parser.format_help() + "\n" + (__doc__ or "").split("\n\n", 1)[1])
        return 0
    if kind is None or value is None:
        raise UsageError("expected a script, -m module or -c code to run")
    if opts.json == "-" and opts.html == "-":
        # one stream cannot carry two documents that a reader could tell apart
        raise UsageError("--json - and --html - cannot both write to stdout; give one of them a FILE path")
    for flag, path in (("--json", opts.json), ("--html", opts.html)):
        if path and path != "-":
            try:
                open(path, "a").close()
            except OSError as e:
                raise UsageError(f"cannot write {flag} file {path!r}: {e.strerror or e}") from None
    target = Target(kind, value, args)
    probes = None if opts.no_findings else Probes()
    try:
        with probes or contextlib.nullcontext():
            raw, outcome, facts = run_target(target, sampled=opts.sample, sample_rate=opts.sample_rate,
                                             max_depth=min(opts.depth, 256), keep_sites=probes is not None)
        report = build_report(
            raw,
            target={"kind": kind, "value": value, "args": args, "display": target.display},
            outcome={"exit_status": outcome.exit_status, "status": outcome.status, "exception": outcome.exception},
            facts=facts, budget=opts.budget, top=opts.top,
        )
        found = build_findings(probes.evidence(raw), report) if probes else []
    except TargetError as e:
        raise UsageError(str(e)) from None
    finally:
        if probes:
            probes.release()
    report["findings"] = [f.as_dict() for f in found]
    try:  # a reader that stopped early must not cost the --html/--json files nor the exit status
        sys.stdout.flush()
        sys.stderr.write(render_text(report))
        if probes:
            render_findings_text(found, sys.stderr)
        sys.stderr.flush()
    except BrokenPipeError:
        _mute(sys.stderr)
    if opts.html:
        if opts.html == "-":
            page = render_html(report, found)
            try:
                # the page declares charset utf-8, so its bytes must be UTF-8 whatever stdout's own encoding is
                # (a replaced stdout without a byte layer, e.g. under pytest's capsys, takes the str)
                raw_out = getattr(sys.stdout, "buffer", None)
                sys.stdout.flush()
                if raw_out is not None:
                    raw_out.write(page.encode("utf-8"))
                    raw_out.flush()
                else:
                    sys.stdout.write(page)
                    sys.stdout.flush()
            except BrokenPipeError:
                _mute(sys.stdout)
        else:
            with open(opts.html, "w", encoding="utf-8") as f:
                f.write(render_html(report, found))
    if opts.json:
        if opts.json == "-":
            try:
                write_json(report, sys.stdout)
                sys.stdout.flush()
            except BrokenPipeError:
                _mute(sys.stdout)
        else:
            with open(opts.json, "w") as f:
                write_json(report, f)
    if report["budget"] and report["budget"]["exceeded"]:
        return EXIT_OVER_BUDGET
    return outcome.exit_status


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if not argv or argv[0] in ("-h", "--help"):
            print("usage: thrifty doctor [options] (script.py | -m module | -c code) [args...]\n"
                  "       thrifty doctor --help   for the options", file=sys.stdout if argv else sys.stderr)
            return 0 if argv else EXIT_BAD_INPUT
        if argv[0] != "doctor":
            raise UsageError(f"unknown command {argv[0]!r}; the command is: doctor")
        return doctor_main(argv[1:])
    except UsageError as e:
        doctor = bool(argv) and argv[0] == "doctor"
        hint = "; `thrifty doctor --help` lists the options" if doctor and "unrecognized" in str(e) else ""
        print(f"{'thrifty doctor' if doctor else 'thrifty'}: error: {e}{hint}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # e.g. `thrifty doctor --help | head -1` on a pipe that closed mid-write
        _mute(sys.stdout)
        _mute(sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
