"""Tracker control and target execution.

`trace()` runs the C tracker around a block; `run_target()` runs a script, module or code string the way
`python script.py`, `python -m mod` and `python -c code` would (sys.argv, a fresh `__main__`, sys.path[0]) under the
tracker and always stops it — on return, exception, sys.exit or Ctrl-C — so the report can still be written.
Subprocesses the target starts are not traced.
"""
from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import os
import pkgutil  # noqa: F401  (runpy imports it on first use; import it before tracing starts)
import resource
import runpy
import sys
import time
import traceback
import types
from typing import Iterator

from thrifty import _ext


class TargetError(Exception):
    """The target cannot be run (missing or unreadable script, unknown module): a one-line message for the user."""


@dataclasses.dataclass
class Target:
    kind: str  # "script", "module" or "code"
    value: str  # path, module name or source
    args: list[str] = dataclasses.field(default_factory=list)

    @property
    def display(self) -> str:
        return {"script": self.value, "module": f"-m {self.value}", "code": "-c <code>"}[self.kind]


@dataclasses.dataclass
class Outcome:
    exit_status: int
    status: str  # "ok", "exit", "exception" or "interrupted"
    exception: str | None = None


@contextlib.contextmanager
def trace(*, sampled: bool = False, sample_rate: int = 128 * 1024, max_depth: int = 64,
          max_memory: int = 256 * 1024 * 1024, keep_sites: bool = False) -> Iterator[dict]:
    """Trace the block; the yielded dict is filled with the tracker's raw tables when the block ends (however).
    keep_sites: keep the tracker's live-block tables after the block for `_ext._tracker_site_of` (the findings'
    object sites); the caller must then call `_ext._tracker_release()`."""
    raw: dict = {}
    _ext._tracker_start(sampled=sampled, sample_rate=sample_rate, max_depth=max_depth, max_memory=max_memory)
    try:
        yield raw
    finally:
        raw.update(_ext._tracker_stop(keep_sites=keep_sites))


def check_target(target: Target) -> None:
    """Raise TargetError when the target cannot even start (before the tracker is installed)."""
    if target.kind == "script":
        try:
            with open(target.value, "rb") as f:
                f.read(1)
        except OSError as e:
            raise TargetError(f"cannot open script {target.value!r}: {e.strerror or e}") from None
        if os.path.isdir(target.value):
            raise TargetError(f"cannot run {target.value!r}: it is a directory")
    elif target.kind == "module":
        try:
            spec = importlib.util.find_spec(target.value)
        except (ImportError, ValueError) as e:
            raise TargetError(f"cannot find module {target.value!r}: {e}") from None
        if spec is None:
            raise TargetError(f"no module named {target.value!r}")


def _run(target: Target) -> None:
    if target.kind == "script":
        path = target.value
        sys.argv[:] = [path, *target.args]
        sys.path[0] = os.path.dirname(os.path.realpath(path))
        runpy.run_path(path, run_name="__main__")
    elif target.kind == "module":
        sys.argv[:] = [target.value, *target.args]  # runpy replaces argv[0] with the module's file
        sys.path[0] = os.getcwd()
        runpy.run_module(target.value, run_name="__main__", alter_sys=True)
    else:
        sys.argv[:] = ["-c", *target.args]
        sys.path[0] = ""
        main = types.ModuleType("__main__")
        saved = sys.modules.get("__main__")
        sys.modules["__main__"] = main
        try:
            exec(compile(target.value, "<string>", "exec"), main.__dict__)
        finally:
            if saved is not None:
                sys.modules["__main__"] = saved


def _print_exception(exc: BaseException, target: Target) -> None:
    """Print the traceback as python would, starting at the target's own frames (not runpy's or ours)."""
    tb = exc.__traceback__
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    while tb is not None and (tb.tb_frame.f_code.co_filename.startswith(here) or
                              tb.tb_frame.f_code.co_filename == runpy.__file__ or
                              tb.tb_frame.f_code.co_filename.startswith("<frozen runpy")):
        tb = tb.tb_next
    traceback.print_exception(type(exc), exc, tb)


def _exit_status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF if code >= 0 else code % 256
    print(code, file=sys.stderr)
    return 1


def run_target(target: Target, **trace_options: object) -> tuple[dict, Outcome, dict]:
    """Run the target under the tracker. Returns (raw tracker tables, outcome, process facts)."""
    check_target(target)
    saved_argv, saved_path0 = sys.argv[:], sys.path[0] if sys.path else None
    if not sys.path:
        sys.path.append("")
    outcome = Outcome(0, "ok")
    failure: BaseException | None = None
    t0 = time.perf_counter()
    try:
        with trace(**trace_options) as raw:  # type: ignore[arg-type]
            try:
                _run(target)
            except SystemExit as e:
                outcome = Outcome(_exit_status(e.code), "exit")
            except KeyboardInterrupt:
                outcome = Outcome(130, "interrupted", "KeyboardInterrupt")
            except BaseException as e:  # the target's own failure: reported, not ours to raise
                failure = e
                outcome = Outcome(1, "exception", "".join(traceback.format_exception_only(type(e), e)).strip())
    finally:
        sys.argv[:] = saved_argv
        if saved_path0 is not None:
            sys.path[0] = saved_path0
    wall = time.perf_counter() - t0
    if failure is not None:  # printed after tracing stopped, so printing it is not part of the profile
        _print_exception(failure, target)
    facts = {
        "wall_time_s": wall,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024),
    }
    return raw, outcome, facts
