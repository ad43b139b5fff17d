"""A stand-in for pyperf: what pyperformance's benchmark scripts use of it, running the workload in this process.

pyperformance's scripts drive themselves through pyperf.Runner, which spawns worker processes and calibrates. Here
Runner's bench_* methods call the workload in-process instead, so every measurement is the same work in the process
being measured. As copied, it is itself a `pyperf` module that runs each workload once (tests/test_doctor_unseen.py
puts it beside a script as pyperf.py); the bench drivers import it, set `repeat` (how to call the workload: once,
N times, until a deadline) and `time_loops` (what a bench_time_func workload is given), and install it as pyperf.
"""
import argparse
import sys
import time

perf_counter = time.perf_counter


def _once(call):
    call()


repeat = _once      # repeat(call): call the zero-argument workload as many times as the driver wants
time_loops = None   # a bench_time_func workload is called as func(time_loops, *args) once; None: repeat(func(1, ...))


class Runner:
    def __init__(self, *args, **kwargs):
        self.metadata = {}
        self.argparser = argparse.ArgumentParser()

    def parse_args(self, args=None):
        return self.argparser.parse_args([])

    def bench_func(self, name, func, *args, **kwargs):
        repeat(lambda: func(*args))

    def bench_time_func(self, name, func, *args, **kwargs):
        if time_loops is None:
            repeat(lambda: func(1, *args))
        else:
            func(time_loops, *args)

    def bench_async_func(self, name, func, *args, **kwargs):
        import asyncio

        repeat(lambda: asyncio.run(func(*args)))


def install(how_to_repeat=_once, loops=None):
    """Make `import pyperf` give this module, calling workloads through `how_to_repeat`."""
    global repeat, time_loops
    repeat, time_loops = how_to_repeat, loops
    sys.modules["pyperf"] = sys.modules[__name__]
