"""pytest plugin (registered through the `pytest11` entry point): memory budgets for tests.

    @pytest.mark.memory_budget("1 MiB")     # this test fails when its peak traced heap exceeds 1 MiB
    pytest --memory-budget 4M               # one budget for every test (a marker overrides it)

The test's call phase runs under the exact tracker (fixtures' set-up and tear-down are not counted); when its peak
is over the budget the test fails with the top sites at peak in the message.
"""
from __future__ import annotations

from typing import Any, Generator

import pytest

from thrifty.guards import format_size, parse_size

_TOP = 5


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("thrifty")
    group.addoption("--memory-budget", metavar="SIZE", default=None,
                    help="fail every test whose peak traced heap exceeds SIZE (e.g. 512K, 4 MiB); "
                         "@pytest.mark.memory_budget overrides it per test")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "memory_budget(size): fail the test when its peak traced heap exceeds size "
                                       "(an int or a string like '64K', '1.5M', '2 MiB')")
    option = config.getoption("--memory-budget", None)
    if option is not None:
        try:
            parse_size(option)
        except ValueError as e:
            raise pytest.UsageError(f"--memory-budget: {e}") from None


def _budget_for(item: pytest.Item) -> int | None:
    marker = item.get_closest_marker("memory_budget")
    if marker is not None:
        if len(marker.args) != 1 or marker.kwargs:
            raise pytest.UsageError(f"{item.nodeid}: use @pytest.mark.memory_budget(size) with exactly one size")
        try:
            return parse_size(marker.args[0])
        except ValueError as e:
            raise pytest.UsageError(f"{item.nodeid}: memory_budget: {e}") from None
    option = item.config.getoption("--memory-budget", None)
    return None if option is None else parse_size(option)


def _failure_message(report: dict[str, Any], limit: int) -> str:
    from thrifty.doctor.usercode import site_label

    peak = report["summary"]["peak_bytes"]
    lines = [f"peak traced heap {format_size(peak)} ({peak} bytes) exceeds the memory budget of "
             f"{format_size(limit)} ({limit} bytes); top sites at peak:"]
    for n, i in enumerate(report["top_at_peak"]):
        s = report["sites"][i]
        if n and s["live_at_peak"] < peak / 100:  # pytest's own bookkeeping is noise here
            break
        lines.append(f"  {format_size(s['live_at_peak']):>10}  {site_label(s, function=True)}")
    return "\n".join(lines)


# An old-style hook wrapper (hookwrapper=True): the new style (wrapper=True) needs pluggy 1.1, and Debian 12's
# pytest (7.2, as on Raspberry Pi OS bookworm) would then fail to load any test run with thrifty installed.
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, None]:
    limit = _budget_for(item)
    if limit is None:
        yield
        return
    from thrifty import _ext
    from thrifty.doctor.tracer import build, trace

    if _ext._tracker_status()["tracing"]:
        # pytest itself runs under `thrifty doctor`, whose tracker is this process's one: the test's peak comes from
        # an allocation guard instead (the allocations of the test's thread), so a test over its budget fails as it
        # does under plain pytest (it passed, unmeasured, and the run's exit status differed)
        # entered around item.runtest, not here: a guard entered in this generator counts nothing while it waits
        # at its yield (docs/budgets.md, generators)
        from thrifty import count_allocs

        peaks: list[int] = []
        runtest = item.runtest

        def counted_runtest() -> None:
            with count_allocs() as counted:
                try:
                    runtest()
                finally:
                    peaks.append(counted.peak)

        own = "runtest" in vars(item)  # an instance's own runtest is put back; else the class's shows through again
        item.runtest = counted_runtest  # type: ignore[method-assign]
        try:
            outcome = yield
        finally:
            if own:
                item.runtest = runtest  # type: ignore[method-assign]
            else:
                del item.runtest
        peak = peaks[0] if peaks else 0
        if outcome.excinfo is None and peak > limit:
            _fail(outcome, f"peak traced heap {format_size(peak)} ({peak} bytes) exceeds the memory budget of "
                           f"{format_size(limit)} ({limit} bytes), counted by thrifty.count_allocs (this run's "
                           "tracker is thrifty doctor's: its report has the sites)")
        return
    with trace(max_depth=16) as raw:
        outcome = yield  # the test's result: a failing test keeps its own failure
    if outcome.excinfo is not None:
        return
    # the test runs in this process (pytest's), so the tracker runs here too; the report is built by the same
    # step as the doctor's (thrifty.doctor.tracer.build), without findings
    report, _ = build(raw, budget=limit, top=_TOP, with_findings=False)
    if report["budget"]["exceeded"]:
        _fail(outcome, _failure_message(report, limit))


def _fail(outcome: Any, message: str) -> None:
    """Make the test's call phase fail with message (it passed)."""
    failure = pytest.fail.Exception(message, pytrace=False)
    if hasattr(outcome, "force_exception"):  # pluggy >= 1.1
        outcome.force_exception(failure)
    else:
        raise failure
