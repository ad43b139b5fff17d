"""The `thrifty` command line (also `python -m thrifty`). A thin layer: parse, call thrifty.doctor, print.

    thrifty doctor [--json FILE] [--html FILE] [--out RUNFILE] [--no-findings] [--budget SIZE] [--sample | --exact]
                   [--sample-rate SIZE] [--top N] [--depth N] [--include GLOB]... [--exclude GLOB]...
                   (script.py | -m module | -c code) [args...]
    thrifty watch [--every 30s] [--for 8h] [--budget SIZE] [--out RUNFILE] [--json FILE] [--html FILE] [--exact]
                  (script.py | -m module | -c code) [args...]   which line leaks in a program that never ends
    thrifty report RUNFILE [--json FILE] [--html FILE] [--leaks]   the report of a saved run, again
    thrifty diff A B                                       two runs compared

Exit status: the target's own; 3 when --budget is exceeded; 2 for bad input (one line on stderr, no traceback).
"""
from __future__ import annotations

import argparse
import os
import sys

TYPE_CHECKING = False  # mypy takes any `TYPE_CHECKING` as true; typing is not imported at run time: its import
if TYPE_CHECKING:     # is ~4 ms of every doctor run's start-up, and every annotation here is a string (PEP 563)
    from typing import Any, NoReturn, Sequence

from thrifty._ext import TRACKER_MAX_DEPTH, TRACKER_MAX_DEPTH_LIMIT, TRACKER_SAMPLE_RATE
from thrifty.guards import parse_size

EXIT_BAD_INPUT = 2
EXIT_OVER_BUDGET = 3

# Options that take a value, so the first bare word after them is not mistaken for the script.
_VALUED = {"--json", "--html", "--budget", "--top", "--sample-rate", "--depth", "--out", "--interval", "--include",
           "--exclude", "--every", "--for", "--max-file"}

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


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

    def _get_formatter(self) -> argparse.HelpFormatter:
        # argparse makes a formatter for every add_argument, and a formatter without a width imports shutil (with
        # bz2, lzma, fnmatch) to ask the terminal's: ~3 ms of every doctor run's start-up. The width as shutil finds it.
        return self.formatter_class(prog=self.prog, width=_columns() - 2)  # type: ignore[call-arg]  # HelpFormatter takes it


def _columns() -> int:
    """The terminal's width as shutil.get_terminal_size() finds it: $COLUMNS, else stdout's terminal, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


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


MAX_FILE_DEFAULT = 2 * 1024 * 1024


def _max_file(text: str) -> int:
    n = _size(text)
    if n != 0 and not 4096 <= n <= 64 * 1024**3:
        raise argparse.ArgumentTypeError(f"expected 0 (keep every snapshot) or a size from 4K to 64G, got {text!r}")
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
    p.add_argument("--sample-rate", type=_positive_size, default=TRACKER_SAMPLE_RATE, metavar="SIZE",
                   help="mean bytes between samples in sampled mode (default 128K)")
    p.add_argument("--top", type=_positive, default=10, metavar="N", help="sites listed per table (default 10)")
    p.add_argument("--depth", type=_positive, default=TRACKER_MAX_DEPTH, metavar="N",
                   help=f"stack frames kept per site (default {TRACKER_MAX_DEPTH}, at most {TRACKER_MAX_DEPTH_LIMIT})")
    p.add_argument("--out", metavar="RUNFILE", help="keep the run file (docs/format-run.md) for `thrifty report` "
                   "and `thrifty diff` (default: a temporary one, removed after the report)")
    p.add_argument("--for", dest="stop_after", type=_duration, metavar="DURATION",
                   help="stop the program DURATION (e.g. 60s, 8h) after it started as Ctrl-C would, and report: "
                        "for programs that never end")
    p.add_argument("--interval", type=_seconds, default=1.0, metavar="SECONDS",
                   help="longest time between two snapshots in the run file while the target allocates (default 1)")
    _add_filters(p)
    return p


def _add_filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--include", action="append", default=[], metavar="GLOB",
                   help="count files matching GLOB as your code (repeatable)")
    p.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                   help="never count files matching GLOB as your code (repeatable)")


def _seconds(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        v = -1.0
    if not 0.001 <= v <= 86400:
        raise argparse.ArgumentTypeError(f"expected seconds between 0.001 and 86400, got {text!r}")
    return v


def _duration(text: str) -> float:
    """'30s', '500ms', '2m', '8h', '1d' or plain seconds ('0.5') -> seconds."""
    t = text.strip().lower()
    num = t.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = t[len(num):].strip() or "s"
    try:
        v = float(num) * _UNITS[unit]
    except (ValueError, KeyError):
        v = -1.0
    if not 0.001 <= v <= 366 * 86400 or v != v:
        raise argparse.ArgumentTypeError(f"expected a duration such as 500ms, 30s, 2m, 8h or 1d (at most a year), "
                                         f"got {text!r}")
    return v


def _every(text: str) -> float:
    """A time between snapshots: a duration of at most a day (the run-file writer's bound)."""
    v = _duration(text)
    if v > 86400:
        raise argparse.ArgumentTypeError(f"expected a time between snapshots of at most 1d, got {text!r}")
    return v


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


def _output_path(flag: str, path: str | None) -> str | None:
    """A --json/--html/--out path resolved against the doctor's cwd now (the target may chdir), checked writable
    without creating it: a run that fails leaves no empty file behind."""
    if not path or path == "-":
        return path
    full = os.path.abspath(path)
    folder = os.path.dirname(full)
    if os.path.isdir(full):
        raise UsageError(f"cannot write {flag} file {path!r}: it is a directory")
    if not os.path.isdir(folder):
        raise UsageError(f"cannot write {flag} file {path!r}: No such file or directory")
    if not os.access(full if os.path.exists(full) else folder, os.W_OK):
        raise UsageError(f"cannot write {flag} file {path!r}: Permission denied")
    return full


def _write_page(path: str, page: str) -> None:
    """An HTML page to the file `path`, or to stdout for -."""
    if path != "-":
        with open(path, "w", encoding="utf-8") as f:
            f.write(page)
        return
    try:
        # the page declares charset utf-8, so its bytes must be UTF-8 whatever stdout's own encoding is
        # (a replaced stdout without a byte layer, e.g. under pytest's capsys, takes the str)
        raw_out = getattr(sys.stdout, "buffer", None)
        if raw_out is not None:
            sys.stdout.flush()
            raw_out.write(page.encode("utf-8"))
            raw_out.flush()
        else:
            sys.stdout.write(page)
            sys.stdout.flush()
    except BrokenPipeError:
        _mute(sys.stdout)


def _emit(report: dict[str, Any], found: list[Any], json_path: str | None, html_path: str | None, with_findings: bool) -> None:
    """The text report on stderr, then the --html and --json documents (a closed reader costs neither)."""
    # each renderer imported only when its output is asked for: the doctor's own time is the user's wait
    from thrifty.doctor.render_text import render_text

    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        _mute(sys.stdout)
    try:
        sys.stderr.write(render_text(report))
        if with_findings:
            from thrifty.doctor.render import text as render_findings_text

            render_findings_text(found, sys.stderr)
        sys.stderr.flush()
    except BrokenPipeError:
        _mute(sys.stderr)
    if html_path:
        from thrifty.doctor.html import render as render_html

        _write_page(html_path, render_html(report, found))
    if json_path:
        from thrifty.doctor.render_json import write_json

        if json_path == "-":
            try:
                write_json(report, sys.stdout)
                sys.stdout.flush()
            except BrokenPipeError:
                _mute(sys.stdout)
        else:
            with open(json_path, "w") as f:
                write_json(report, f)


def _check_outputs(opts: argparse.Namespace) -> None:
    if opts.json == "-" and opts.html == "-":
        # one stream cannot carry two documents that a reader could tell apart
        raise UsageError("--json - and --html - cannot both write to stdout; give one of them a FILE path")
    opts.json = _output_path("--json", opts.json)
    opts.html = _output_path("--html", opts.html)


def doctor_main(argv: list[str]) -> int:
    from thrifty.doctor.tracer import Target, TargetError, run

    parser = _doctor_parser()
    head, kind, value, args = _split(argv)
    opts = parser.parse_args(head)
    if opts.help:
        print(parser.format_help() + "\n" + (__doc__ or "").split("\n\n", 1)[1])
        return 0
    if kind is None or value is None:
        raise UsageError("expected a script, -m module or -c code to run")
    _check_outputs(opts)
    out = _output_path("--out", opts.out)
    try:
        result = run(Target(kind, value, args), sampled=opts.sample, sample_rate=opts.sample_rate,
                     max_depth=min(opts.depth, TRACKER_MAX_DEPTH_LIMIT), findings=not opts.no_findings, out=out,
                     interval=opts.interval, budget=opts.budget, top=opts.top, include=opts.include,
                     exclude=opts.exclude, stop_after=opts.stop_after)
    except TargetError as e:
        raise UsageError(str(e)) from None
    _emit(result.report, result.findings, opts.json, opts.html, not opts.no_findings)
    if result.report["budget"] and result.report["budget"]["exceeded"]:
        return EXIT_OVER_BUDGET
    return _status_after(result, opts.stop_after)


def _status_after(result: Any, stop_after: float | None) -> int:
    """The target's exit status, except that a program stopped by --for ended as asked: 0."""
    if stop_after is not None and result.report["outcome"].get("stopped"):
        return 0
    return int(result.exit_status)


def _watch_parser() -> _Parser:
    p = _Parser(prog="thrifty watch", usage="thrifty watch [options] (script.py | -m module | -c code) [args...]",
                add_help=False,
                description="Run a program that never ends under the sampling tracker, snapshot its memory per line "
                            "every --every, and when it ends (by itself, at --for, or on Ctrl-C / SIGTERM, which it "
                            "gets as usual) tell which lines leak, how fast, and when the heap reaches --budget.")
    p.add_argument("-h", "--help", action="store_true", help="show this help")
    p.add_argument("--every", type=_every, default=30.0, metavar="DURATION",
                   help="time between snapshots (default 30s)")
    p.add_argument("--for", dest="stop_after", type=_duration, metavar="DURATION",
                   help="stop the program DURATION after it started as Ctrl-C would (default: when it ends)")
    p.add_argument("--budget", type=_size, metavar="SIZE", help="project when the heap reaches SIZE (e.g. 256M)")
    p.add_argument("--out", metavar="RUNFILE", help="keep the run file (`thrifty report --leaks RUNFILE` reads it)")
    p.add_argument("--max-file", type=_max_file, default=MAX_FILE_DEFAULT, metavar="SIZE",
                   help="past SIZE, older snapshots in the run file are thinned (default 2M; 0 keeps them all)")
    p.add_argument("--json", metavar="FILE", help="also write the analysis as JSON, - for stdout (docs/watch.md)")
    p.add_argument("--html", metavar="FILE", help="also write a self-contained HTML page (the heap over time, each "
                   "site's series as a small chart), - for stdout")
    p.add_argument("--exact", action="store_true", help="record every allocation (default: sampled)")
    p.add_argument("--sample-rate", type=_positive_size, default=16 * 1024, metavar="SIZE",
                   help="sampled mode: mean bytes between samples (default 16K; smaller sees slower leaks sooner)")
    p.add_argument("--top", type=_positive, default=10, metavar="N", help="sites listed per table (default 10)")
    p.add_argument("--depth", type=_positive, default=TRACKER_MAX_DEPTH, metavar="N",
                   help=f"stack frames kept per site (default {TRACKER_MAX_DEPTH})")
    _add_filters(p)
    return p


def _print_leaks(analysis: dict[str, Any], json_path: str | None, html_path: str | None, top: int) -> None:
    """The analysis as text on stdout (on stderr when --json or --html is -), then the JSON and HTML documents."""
    from thrifty.doctor.leaks import render_text

    text = render_text(analysis, top=top)
    (sys.stderr if "-" in (json_path, html_path) else sys.stdout).write(text)
    if json_path:
        from thrifty.doctor.render_json import dumps

        doc = dumps(analysis)
        if json_path == "-":
            sys.stdout.write(doc)
        else:
            with open(json_path, "w", encoding="utf-8") as f:
                f.write(doc)
    sys.stdout.flush()
    if html_path:
        from thrifty.doctor import leaks_html

        _write_page(html_path, leaks_html.render(analysis, top=top))


def watch_main(argv: list[str]) -> int:
    import tempfile

    from thrifty.doctor import leaks, runfile
    from thrifty.doctor.tracer import Target, TargetError, run

    parser = _watch_parser()
    head, kind, value, args = _split(argv)
    opts = parser.parse_args(head)
    if opts.help:
        print(parser.format_help())
        return 0
    if kind is None or value is None:
        raise UsageError("expected a script, -m module or -c code to run")
    _check_outputs(opts)
    out = _output_path("--out", opts.out)
    path = out or tempfile.mkstemp(prefix="thrifty-watch-", suffix=".run")[1]
    try:
        try:
            result = run(Target(kind, value, args), sampled=not opts.exact, sample_rate=opts.sample_rate,
                         max_depth=min(opts.depth, TRACKER_MAX_DEPTH_LIMIT), findings=False, out=path, interval=opts.every,
                         top=opts.top, include=opts.include, exclude=opts.exclude, stop_after=opts.stop_after,
                         max_bytes=opts.max_file)
        except TargetError as e:
            raise UsageError(str(e)) from None
        meta, series = runfile.read_series(path)
    finally:
        if out is None:
            try:
                os.unlink(path)
            except OSError:
                pass
    analysis = leaks.analyse(meta, series, budget=opts.budget, include=opts.include, exclude=opts.exclude)
    analysis["outcome"] = result.report["outcome"]
    _print_leaks(analysis, opts.json, opts.html, opts.top)
    return _status_after(result, opts.stop_after)


def _report_parser() -> _Parser:
    p = _Parser(prog="thrifty report", usage="thrifty report RUNFILE [--json FILE] [--html FILE] [options]",
                description="Render a saved run file (thrifty doctor --out RUNFILE) again, here or on another machine.")
    p.add_argument("runfile", metavar="RUNFILE")
    p.add_argument("--json", metavar="FILE", help="also write the run result as JSON, - for stdout")
    p.add_argument("--html", metavar="FILE", help="also write the HTML report (with --leaks: the watch's page), "
                   "- for stdout")
    p.add_argument("--no-findings", action="store_true", help="leave the findings out")
    p.add_argument("--budget", type=_size, metavar="SIZE", help="exit with status 3 when the peak exceeds SIZE")
    p.add_argument("--top", type=_positive, default=10, metavar="N", help="sites listed per table (default 10)")
    p.add_argument("--leaks", action="store_true",
                   help="the leak analysis of the run's snapshots (a `thrifty watch --out` run), not the report")
    _add_filters(p)
    return p


def report_main(argv: list[str]) -> int:
    from thrifty.doctor.runfile import RunFileError
    from thrifty.doctor.tracer import report_of

    opts = _report_parser().parse_args(argv)
    if opts.leaks:
        from thrifty.doctor import leaks, runfile

        _check_outputs(opts)
        try:
            meta, series = runfile.read_series(opts.runfile)
        except RunFileError as e:
            raise UsageError(str(e)) from None
        if not series:
            raise UsageError(f"{opts.runfile}: the run file holds no complete snapshot")
        analysis = leaks.analyse(meta, series, budget=opts.budget, include=opts.include, exclude=opts.exclude)
        _print_leaks(analysis, opts.json, opts.html, opts.top)
        return 0
    _check_outputs(opts)
    try:
        result = report_of(opts.runfile, budget=opts.budget, top=opts.top, include=opts.include,
                           exclude=opts.exclude, with_findings=not opts.no_findings)
    except RunFileError as e:
        raise UsageError(str(e)) from None
    _emit(result.report, result.findings, opts.json, opts.html, not opts.no_findings)
    if result.report["budget"] and result.report["budget"]["exceeded"]:
        return EXIT_OVER_BUDGET
    return 0


def diff_main(argv: list[str]) -> int:
    from thrifty.doctor.diff import compare, load

    p = _Parser(prog="thrifty diff", usage="thrifty diff A B",
                description="Compare two runs (run files from --out, or JSON reports from --json): peak, import "
                            "bill, top sites, findings.")
    p.add_argument("a", metavar="A")
    p.add_argument("b", metavar="B")
    p.add_argument("--top", type=_positive, default=10, metavar="N", help="sites and imports listed (default 10)")
    opts = p.parse_args(argv)
    try:
        a, b = load(opts.a), load(opts.b)
    except ValueError as e:
        raise UsageError(str(e)) from None
    try:
        sys.stdout.write(compare(a, b, names=(opts.a, opts.b), top=opts.top))
        sys.stdout.flush()
    except BrokenPipeError:
        _mute(sys.stdout)
    return 0


_COMMANDS = {"doctor": doctor_main, "watch": watch_main, "report": report_main, "diff": diff_main}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if not argv or argv[0] in ("-h", "--help"):
            print("usage: thrifty doctor [options] (script.py | -m module | -c code) [args...]\n"
                  "       thrifty watch [--every 30s] [--for 8h] [--budget SIZE] (script.py | -m module | -c code)\n"
                  "       thrifty report RUNFILE [--json FILE] [--html FILE] [--leaks]\n"
                  "       thrifty diff A B\n"
                  "       thrifty COMMAND --help   for the options", file=sys.stdout if argv else sys.stderr)
            return 0 if argv else EXIT_BAD_INPUT
        if argv[0] not in _COMMANDS:
            raise UsageError(f"unknown command {argv[0]!r}; the commands are: {', '.join(_COMMANDS)}")
        return _COMMANDS[argv[0]](argv[1:])
    except UsageError as e:
        command = argv[0] if argv and argv[0] in _COMMANDS else None
        hint = f"; `thrifty {command} --help` lists the options" if command and "unrecognized" in str(e) else ""
        print(f"{'thrifty ' + command if command else 'thrifty'}: error: {e}{hint}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # e.g. `thrifty doctor --help | head -1` on a pipe that closed mid-write
        _mute(sys.stdout)
        _mute(sys.stderr)
        return 1


def entry() -> NoReturn:
    """The `thrifty` command (the console script, `python -m thrifty`): main(), then the process ends at once.

    A run's analysis leaves a few hundred thousand objects (a report's stacks, the run's tables): freeing them one by
    one, the interpreter's own shutdown and the collector's passes over them were ~12% of what the doctor's parent
    spends on a 2 s run, for nothing, since the process ends. So the collector stays off (the command makes no
    reference cycles worth collecting: the analysis's structures are trees, and while it waits for the recorder it
    allocates nearly nothing) and the process ends by os._exit once stdout and stderr are flushed, as a
    process that is done can. main() itself, which tests and other callers use, leaves the process as it was."""
    import gc

    gc.disable()
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            # started with that descriptor closed (`>&-`): python then prints nowhere, and so does the doctor (its
            # report or document is lost, as python's output would be), instead of failing with exit status 1. Not a
            # file: a descriptor opened here would take the closed one's number, and the target would inherit it.
            import io

            setattr(sys, name, io.StringIO())
    status = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, BrokenPipeError, ValueError):  # no stream, a closed pipe, a closed stream
            pass
        except OSError:
            status = status or 1
    os._exit(status)


if __name__ == "__main__":
    entry()
