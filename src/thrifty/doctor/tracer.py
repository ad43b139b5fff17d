"""The doctor's parent side: start the recorder in a fresh interpreter, wait for it, read its run file, build the report.

`run(target, ...)` is the one pipeline the CLI, the benchmarks and the tests call: it never imports the target, and
everything heavy (argparse, json, ast, the report, the findings, the renderers) stays in this process, never in the
one being measured (thrifty.doctor.child is that one). The target gets the terminal, stdin, stdout and stderr as
under plain python; SIGINT, SIGTERM and the other signals a program is stopped or told something with are passed on
to it, so that it gets each exactly once (_own_group, _wait). `trace()` is the in-process tracker around a block, for
the pytest plugin's per-test budgets.
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

TYPE_CHECKING = False  # mypy takes any `TYPE_CHECKING` as true; typing is not imported at run time: its import
if TYPE_CHECKING:     # is ~4 ms of every doctor run's start-up, and every annotation here is a string (PEP 563)
    from typing import Any, Callable, Iterable, Iterator

from thrifty import _ext
from thrifty.doctor import runfile
from thrifty.doctor.record import Record
from thrifty.doctor.usercode import target_display

# the recorder, run as a script (run_child.py, which imports child.py, finds thrifty where this process found it:
# _PKGDIR, its first argument)
_CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "run_child.py")
_PKGDIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class TargetError(Exception):
    """The target cannot be run (missing or unreadable script, unknown module): a one-line message for the user."""


class Target(Record):
    """What the recorder runs: kind "script", "module" or "code", its path, module name or source, its arguments."""

    FIELDS = ("kind", "value", "args")

    def __init__(self, kind: str, value: str, args: list[str] | None = None) -> None:
        self.kind = kind
        self.value = value
        self.args: list[str] = [] if args is None else args

    @property
    def display(self) -> str:
        return target_display({"kind": self.kind, "value": self.value})


class Result(Record):
    """One doctor run: the report (plain data, docs/doctor-json.md) with its findings, the raw run it was built from,
    the run file (None once removed) and the exit status the doctor should end with (the target's)."""

    FIELDS = ("report", "findings", "raw", "runfile", "exit_status")

    def __init__(self, report: dict[str, Any], findings: list[Any], raw: dict[str, Any], runfile: str | None,
                 exit_status: int) -> None:
        self.report = report
        self.findings = findings
        self.raw = raw
        self.runfile = runfile
        self.exit_status = exit_status


@contextlib.contextmanager
def trace(*, sampled: bool = False, sample_rate: int = _ext.TRACKER_SAMPLE_RATE, max_depth: int = _ext.TRACKER_MAX_DEPTH,
          max_memory: int = 256 * 1024 * 1024, keep_sites: bool = False) -> Iterator[dict[str, Any]]:
    """Trace the block in this process; the yielded dict is filled with the tracker's raw tables when the block ends
    (however). keep_sites: keep the tracker's live-block tables after the block for `_ext._tracker_site_of`; the
    caller must then call `_ext._tracker_release()`."""
    raw: dict[str, Any] = {}
    _ext._tracker_start(sampled=sampled, sample_rate=sample_rate, max_depth=max_depth, max_memory=max_memory)
    try:
        yield raw
    finally:
        raw.update(_ext._tracker_stop(keep_sites=keep_sites))


@contextlib.contextmanager
def _no_collections() -> Iterator[None]:
    """The analyzer's reading and building without the cyclic GC: they make tens of thousands of long-lived dicts and
    lists (a run's stacks), no cycles, and each full collection on the way walked them all again (a third of what
    grouping the stacks took). The GC is on again after, as it was."""
    import gc

    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def check_target(target: Target) -> None:
    """Raise TargetError when the target cannot even start. Looks, never imports: for -m only the top-level
    package is found on the path the target will have (its cwd first)."""
    if target.kind == "script" and target.value == "-":
        return  # the program comes on stdin, as for `python -`
    if target.kind == "script":
        if os.path.isdir(target.value):  # python runs a directory's __main__ module (so does the recorder)
            if not any(os.path.isfile(os.path.join(target.value, f"__main__.{x}")) for x in ("py", "pyc")):
                raise TargetError(f"cannot run {target.value!r}: it is a directory without a __main__.py")
            return
        try:
            # opened, not read: a script piped in (`... | thrifty doctor /dev/stdin`) is the recorder's to read, and a
            # buffered read of one byte took the whole pipe's first block
            with open(target.value, "rb"):
                pass
        except OSError as e:
            raise TargetError(f"cannot open script {target.value!r}: {e.strerror or e}") from None
    elif target.kind == "module":
        import importlib.machinery

        top = target.value.split(".")[0]
        if not top or not all(part.isidentifier() for part in target.value.split(".")):
            raise TargetError(f"no module named {target.value!r}")
        if top in sys.builtin_module_names:
            return
        if importlib.machinery.PathFinder.find_spec(top, [os.getcwd(), *sys.path[1:]]) is None:
            try:  # frozen modules (runpy, the import system) are found by name alone
                if importlib.machinery.FrozenImporter.find_spec(top) is not None:
                    return
            except (ImportError, ValueError):
                pass
            raise TargetError(f"no module named {target.value!r}")


def child_command(target: Target, runfile_path: str, *, sampled: bool, sample_rate: int, max_depth: int,
                  interval: float, findings: bool, max_bytes: int = 0, unblock: Iterable[int] = ()) -> list[str]:
    """The recorder's command line (thrifty.doctor.child._config reads it), with this interpreter's own flags.
    unblock: the signals this process blocked before starting it, which the recorder unblocks before the target
    runs (a blocked signal mask is inherited)."""
    flags: list[str] = subprocess._args_from_interpreter_flags()  # type: ignore[attr-defined]  # -X options, -O, -E, ...: the target runs as we were started
    config = [_PKGDIR, runfile_path, target.kind, target.value, "sampled" if sampled else "exact", str(sample_rate),
              str(max_depth), repr(float(interval)), "1" if findings else "0", str(int(max_bytes)),
              ",".join(str(int(s)) for s in unblock), str(os.getpid())]
    return [sys.executable, *flags, _CHILD, *config, "--", *target.args]


STOP_SUFFIX = ".stop"  # the marker file child.py looks for (its STOP_SUFFIX): a SIGINT that is the doctor's stop
STOP_GRACE = 10.0  # seconds a stopped program gets to end before the next, harder signal
START_GRACE = 120.0  # seconds --for waits, beyond its own, for a recorder that never gets its first snapshot written


# the signals the doctor takes with sigtimedwait while the recorder runs (where the platform has it: _block_signals)
# and passes on to it: those that ask a program to stop or that a program may handle (SIGUSR1: take a dump, ...);
# SIGCHLD only wakes the wait
_PASSED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)
_FORWARDED = (*_PASSED, signal.SIGCHLD)
_MASKABLE = hasattr(signal, "sigtimedwait") and hasattr(signal, "pthread_sigmask")


def _own_group() -> bool:
    """Whether the recorder gets a process group of its own, so that the target gets every signal exactly once.

    A signal sent to the doctor's group (`kill -TERM -PGID`, `timeout`, a supervisor's stop, a test's killpg)
    reached a recorder in that group directly and again as the doctor passed it on; its siginfo cannot tell a
    signal sent to the group from one sent to the doctor alone. In a group of its own the recorder gets only what
    the doctor passes on, whoever sent it. That takes job control from the target, so it is done only where there is
    none: when this process has no controlling terminal (a service, CI, cron, a program that starts it so). With a
    terminal the recorder stays in the doctor's group, the terminal's foreground job: it reads the terminal, and
    Ctrl-C, Ctrl-\\ and Ctrl-Z reach it as they reach `python app.py`, while the doctor passes on only what a
    process sent (the kernel's terminal signals reached both). Not without sigtimedwait: nothing is passed on."""
    if not _MASKABLE:
        return False
    try:  # opens only when this process has a controlling terminal (ENXIO otherwise)
        fd = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return True
    os.close(fd)
    return False


@contextlib.contextmanager
def _block_signals() -> Iterator[list[int]]:
    """Block the forwarded signals from before the recorder starts until it has ended; yields those it newly
    blocked (the recorder unblocks them before the target runs). Blocked before Popen, not after: a SIGINT that
    arrived between the two would raise KeyboardInterrupt here and leave the recorder running the target
    forever; blocked, it stays pending until _wait takes it and passes it on."""
    if not _MASKABLE:
        yield []
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _FORWARDED)
    try:
        yield [int(s) for s in _FORWARDED if s not in old]
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _wait(proc: subprocess.Popen[bytes], stop_after: float | None = None, stopped: list[bool] | None = None,
          stop_marker: str | None = None, started: Callable[[], bool] | None = None, own_group: bool = False) -> int:
    """Wait for the recorder, passing on the _PASSED signals this process gets that the recorder did not: all of
    them when the recorder has a group of its own (own_group, see _own_group); in this process's group, those a
    process sent, not the ones a terminal sent its whole foreground group, the recorder included (a Ctrl-C: its
    siginfo says the kernel sent it, not a process). stop_after: seconds after which the target is stopped
    as Ctrl-C would stop it (SIGINT: it ends the way it ends on Ctrl-C, the recorder writes its last snapshot),
    counted from when started() first says the recorder is running the target (its first snapshot is written):
    a slow board can take seconds to start an interpreter, and a stop before that would leave no run at all."""
    # the stop: SIGINT; a program that ignores it (started in the background by a shell, SIGINT is ignored and
    # python then installs no KeyboardInterrupt) gets SIGTERM, then SIGKILL, STOP_GRACE seconds apart; the run file
    # keeps the last periodic snapshot whatever ends it
    stops = [] if stop_after is None else [signal.SIGINT, signal.SIGTERM, signal.SIGKILL]
    stopped = [] if stopped is None else stopped  # gets an entry when the stop was sent
    waiting_start = stop_after is not None and started is not None
    deadline = None if stop_after is None else time.monotonic() + stop_after + (START_GRACE if waiting_start else 0)

    def stop_due() -> None:
        nonlocal deadline, waiting_start
        if waiting_start and started is not None and stop_after is not None and started():
            waiting_start = False
            deadline = time.monotonic() + stop_after
        if deadline is not None and stops and time.monotonic() >= deadline:
            if stop_marker is not None and not stopped:  # tells the recorder the SIGINT is the doctor's stop
                with open(stop_marker, "w"):
                    pass
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(stops.pop(0))
            stopped.append(True)
            deadline = time.monotonic() + STOP_GRACE if stops else None

    if not _MASKABLE:
        while True:
            try:
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                return proc.wait(min(left, 0.2) if waiting_start and left is not None else left)
            except KeyboardInterrupt:
                continue
            except subprocess.TimeoutExpired:
                stop_due()
    # the signals are blocked (_block_signals, around the recorder's whole life): taken here with their siginfo
    while proc.poll() is None:
        stop_due()
        info = signal.sigtimedwait(_FORWARDED, 0.2)
        # si_code <= 0: SI_USER, SI_QUEUE (a process); the kernel's are positive
        if info is not None and info.si_signo != signal.SIGCHLD and (own_group or info.si_code <= 0):
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(info.si_signo)
    return proc.returncode


def _has_snapshot(path: str) -> bool:
    """Whether the run file holds a complete snapshot yet (the recorder writes one before the target starts)."""
    try:
        return os.path.getsize(path) > 0 and runfile.has_snapshot(path)
    except (OSError, runfile.RunFileError):
        return False


def _outcome(end: dict[str, Any], returncode: int) -> tuple[dict[str, Any], int]:
    """(the report's outcome, the doctor's exit status) from the recorder's end record and its wait status."""
    if returncode < 0:  # ended by a signal (for Ctrl-C the recorder re-raised SIGINT after writing its end)
        sig = -returncode
        status = "interrupted" if sig == signal.SIGINT else "killed" if sig == signal.SIGKILL else "signal"
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        return {"exit_status": 128 + sig, "status": status, "exception": end.get("exception") or name,
                "signal": sig}, 128 + sig
    status = end.get("status") or "exit"
    if status == "killed":  # no end record, yet a plain exit: the recorder itself failed
        status = "exit"
    return {"exit_status": returncode, "status": status, "exception": end.get("exception"), "signal": None}, returncode


def _build_findings(evidence: Any, report: dict[str, Any], recorded_by: str | None = None) -> list[Any]:
    from thrifty.doctor import findings

    # no evidence (the target ended by a signal, os._exit or an exec): the findings that need its end state are
    # skipped, and the report says so ("Findings: none." read as a clean bill); those from the source and the
    # run's per-line figures still stand
    try:
        return findings.build(evidence, report)
    except Exception as e:  # noqa: BLE001  (a run file from another thrifty version, or a damaged one)
        report.setdefault("notes", []).append(
            f"findings skipped: the run file's evidence is not in the form this thrifty reads ({type(e).__name__}; "
            f"recorded by thrifty {recorded_by or 'of another version'})")
        return []


def build(raw: dict[str, Any], *, target: dict[str, Any] | None = None, outcome: dict[str, Any] | None = None, facts: dict[str, Any] | None = None,
          budget: int | None = None, top: int = 10, include: list[str] | None = None,
          exclude: list[str] | None = None, with_findings: bool = True) -> tuple[dict[str, Any], list[Any]]:
    """The report and the findings of a raw run (from a run file or the tracker)."""
    from thrifty.doctor.report import build_report

    extra: dict[str, Any] = {}
    if include:
        extra["include"] = include
    if exclude:
        extra["exclude"] = exclude
    report = build_report(raw, target=target, outcome=outcome, facts=facts, budget=budget, top=top, **extra)
    recorded_by = raw.get("meta", {}).get("thrifty")
    found = _build_findings(raw.get("evidence"), report, recorded_by) if with_findings else []
    report["findings"] = [f.as_dict() for f in found]
    return report, found


def _new_run_path() -> str:
    """A new empty file for a run that is not kept (removed after reading), in the temporary directory: what
    tempfile.mkstemp does, whose import (shutil, random, bz2, lzma with it) was a tenth of the doctor's start-up.
    tempfile itself when the usual place cannot take it (it searches further)."""
    folder = os.environ.get("TMPDIR") or os.environ.get("TEMP") or os.environ.get("TMP") or "/tmp"
    try:
        for _ in range(100):
            path = os.path.join(os.path.abspath(folder), f"thrifty-{os.urandom(6).hex()}.run")
            with contextlib.suppress(FileExistsError):
                os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600))
                return path
    except OSError:
        pass
    import tempfile

    fd, path = tempfile.mkstemp(prefix="thrifty-", suffix=".run")
    os.close(fd)
    return path


def run(target: Target, *, sampled: bool = False, sample_rate: int = _ext.TRACKER_SAMPLE_RATE,
        max_depth: int = _ext.TRACKER_MAX_DEPTH,
        findings: bool = True, out: str | None = None, interval: float = 1.0, budget: int | None = None,
        top: int = 10, include: list[str] | None = None, exclude: list[str] | None = None,
        env: dict[str, Any] | None = None, stop_after: float | None = None, max_bytes: int = 0) -> Result:
    """Run the target in a fresh interpreter under the tracker, as python would, and build its report and findings.
    out: keep the run file at this path (else a temporary one, removed after reading). TargetError when the target
    cannot start; the target's own failures are in the result (report["outcome"], exit_status). stop_after: stop
    the target after that many seconds, as Ctrl-C would (a program that never ends; `--for`). max_bytes: bound the
    run file (older snapshots thinned past it; 0 = keep every snapshot)."""
    check_target(target)
    if out is not None:
        path = os.path.abspath(out)  # the recorder creates it, in its own cwd: resolved here, at the start
    else:
        path = _new_run_path()
    try:
        stopped: list[bool] = []
        with _block_signals() as unblock:
            cmd = child_command(target, path, sampled=sampled, sample_rate=sample_rate, max_depth=max_depth,
                                interval=interval, findings=findings, max_bytes=max_bytes, unblock=unblock)
            own_group = _own_group()
            t0 = time.perf_counter()
            proc = subprocess.Popen(cmd, env=env, process_group=0 if own_group else None)
            try:
                returncode = _wait(proc, stop_after, stopped, path + STOP_SUFFIX, lambda: _has_snapshot(path),
                                   own_group)
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(path + STOP_SUFFIX)
        wall = time.perf_counter() - t0
        try:
            with _no_collections():
                raw = runfile.read_run(path)  # read once: a run the recorder ended itself (nearly all) is complete
            if not raw["complete"]:
                runfile.append_end(path, {"status": "killed" if returncode < 0 else "exit",
                                          "exit_status": returncode,
                                          "signal": -returncode if returncode < 0 else None, "exception": None})
                raw = runfile.read_run(path)
        except runfile.RunFileError as e:
            # the recorder failed before tracing (it printed why): no report to make
            raise TargetError(f"the recorder ended (status {returncode}) before writing a run: {e}") from None
    finally:
        if out is None:
            with contextlib.suppress(OSError):
                os.unlink(path)
    outcome, status = _outcome(raw["end"], returncode)
    outcome["stopped"] = bool(stopped)  # ended by the stop after stop_after seconds (--for), as asked
    facts = {"wall_time_s": wall, "peak_rss_bytes": raw.get("target_peak_rss_bytes")}
    with _no_collections():
        report, found = build(raw, target={"kind": target.kind, "value": target.value, "args": target.args,
                                           "display": target.display},
                              outcome=outcome, facts=facts, budget=budget, top=top, include=include,
                              exclude=exclude, with_findings=findings)
    return Result(report, found, raw, path if out is not None else None, status)


def report_of(path: str, *, budget: int | None = None, top: int = 10, include: list[str] | None = None,
              exclude: list[str] | None = None, with_findings: bool = True) -> Result:
    """The report of a saved run file (`thrifty report RUNFILE`): the same steps as after a run."""
    with _no_collections():
        return _report_of(path, budget=budget, top=top, include=include, exclude=exclude, with_findings=with_findings)


def _report_of(path: str, *, budget: int | None, top: int, include: list[str] | None, exclude: list[str] | None,
               with_findings: bool) -> Result:
    raw = runfile.read_run(path)
    meta = raw.get("meta", {})
    t = meta.get("target", {})
    target = Target(t.get("kind", "script"), t.get("value", "?"), list(t.get("args", [])))
    end = raw["end"]
    code = end.get("exit_status")
    returncode = -end["signal"] if end.get("signal") and end.get("status") in ("killed", "signal") else (code or 0)
    outcome, status = _outcome(end, returncode)
    if end.get("status") == "killed" and code is None and not end.get("signal"):
        # no end record at all: neither the recorder nor a doctor waiting for it lived to write one (SIGKILL of both,
        # the OOM killer, a power loss, an in-process watch killed) or the program still runs: how it ended is
        # unknown, not the plain exit _outcome takes it for when a live recorder fails
        outcome = {"exit_status": None, "status": "killed", "exception": None, "signal": None}
    report, found = build(raw, target={"kind": target.kind, "value": target.value, "args": target.args,
                                       "display": target.display},
                          outcome=outcome, facts={"peak_rss_bytes": raw.get("target_peak_rss_bytes")},
                          budget=budget, top=top, include=include, exclude=exclude, with_findings=with_findings)
    return Result(report, found, raw, path, status)
