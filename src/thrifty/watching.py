"""thrifty.watch(): `thrifty watch` armed from inside a service that cannot be started by a wrapper.

The same recorder as the command's (the sampling tracker and the C run-file writer, docs/format-run.md), started in
this process: snapshots go to `out` every `every` seconds while the program allocates, one more on `signal`
(SIGUSR1 by default: `kill -USR1 <pid>` takes one now) and one at stop. `thrifty report --leaks out` analyses the
file, here or on another machine (docs/watch.md). Imported on first use of `thrifty.watch`.
"""
from __future__ import annotations

import os
import signal as _signal
import sys
import time

from thrifty import _ext
from thrifty.guards import parse_size

_END = 3  # run-file record kind (docs/format-run.md)


def _seconds(every: float | str) -> float:
    if isinstance(every, str):
        from thrifty.cli import _duration  # '30s', '2m': the command line's parser and its message

        try:
            return _duration(every)
        except Exception as e:  # argparse's ArgumentTypeError: the same words, as a ValueError
            raise ValueError(str(e)) from None
    if isinstance(every, bool) or not isinstance(every, (int, float)):
        raise TypeError(f"every must be seconds (a number) or a duration such as '30s', not {type(every).__name__}")
    return float(every)


class Watch:
    """A recorder running in this process (see thrifty.watch). start()/stop(), or use it as a context manager."""

    def __init__(self, out: str | os.PathLike[str], *, every: float | str = 30.0, sample_rate: int | str = "16K",
                 exact: bool = False, signal: int | None = _signal.SIGUSR1,
                 max_file: int | str = "2M") -> None:
        self.out = os.path.abspath(os.fspath(out))
        self.every = _seconds(every)
        if not 0.001 <= self.every <= 86400:
            raise ValueError(f"every must be between 1 ms and 1 day, got {self.every!r} seconds")
        self.sample_rate = parse_size(sample_rate)
        if self.sample_rate <= 0:
            raise ValueError(f"sample_rate must be a positive size such as 16K, got {sample_rate!r}")
        self.max_file = parse_size(max_file)
        if self.max_file != 0 and not 4096 <= self.max_file <= 64 * 1024**3:
            raise ValueError(f"max_file must be 0 (keep every snapshot) or a size from 4K to 64G, got {max_file!r}")
        self.exact = bool(exact)
        self.signal = signal
        self._old_handler: object = None
        self.running = False

    def start(self) -> "Watch":
        """Start recording; RuntimeError when this process already traces (a watch, the doctor, a pytest budget)."""
        if self.running or _ext._tracker_status()["tracing"]:
            raise RuntimeError("thrifty.watch: this process is already traced (one watch or doctor run at a time)")
        script = sys.argv[0] if sys.argv and sys.argv[0] not in ("", "-c") else ""
        roots = sorted({os.getcwd(), os.path.dirname(os.path.abspath(script))} if script else {os.getcwd()})
        meta = {"format": "thrifty.run", "thrifty": sys.modules["thrifty"].__version__,
                "python": sys.version.split()[0], "executable": sys.executable, "pid": os.getpid(),
                "target": {"kind": "process", "value": script or sys.executable, "args": list(sys.argv[1:])},
                "argv": list(sys.argv), "cwd": os.getcwd(), "bootstrap": __file__, "user_roots": roots,
                "started": time.time(), "watch": {"every": self.every, "in_process": True}}
        _ext._runfile_open(self.out, repr(meta).encode(), self.every, self.max_file)
        try:
            _ext._tracker_start(sampled=not self.exact, sample_rate=self.sample_rate)
        except BaseException:
            _ext._runfile_close()
            raise
        _ext._runfile_snapshot()
        self.running = True
        if self.signal is not None:
            try:
                self._old_handler = _signal.signal(self.signal, self._on_signal)
            except ValueError:  # not the main thread: no signal, the periodic snapshots still run
                self.signal = None
        return self

    def _on_signal(self, signum: int, frame: object) -> None:
        self.snapshot()

    def snapshot(self) -> bool:
        """Append a snapshot now (what the signal does). False when not running."""
        return bool(self.running and _ext._runfile_snapshot())

    def stop(self) -> None:
        """The last snapshot and the end record; the file is then complete. Nothing when not running."""
        if not self.running:
            return
        self.running = False
        if self.signal is not None:
            _signal.signal(self.signal, self._old_handler)  # type: ignore[arg-type]
        try:
            _ext._runfile_snapshot()
            end = {"status": "ok", "exit_status": 0, "signal": None, "exception": None, "final": True}
            _ext._runfile_write(_END, repr(end).encode())
        finally:
            _ext._tracker_halt()
            _ext._runfile_close()

    def __enter__(self) -> "Watch":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def watch(out: str | os.PathLike[str], *, every: float | str = 30.0, sample_rate: int | str = "16K",
          exact: bool = False, signal: int | None = _signal.SIGUSR1, max_file: int | str = "2M") -> Watch:
    """Record this process's memory per line into the run file `out`, a snapshot every `every` (seconds, or '30s',
    '2m'), one more on `signal` (None: no handler), for `thrifty report --leaks out`. Use as a context manager, or
    call .start() and .stop(). Sampled (one allocation per `sample_rate` bytes on average) unless exact=True.
    Past `max_file` (a size; 0: never) older snapshots in the file are thinned, so a long watch stays small."""
    return Watch(out, every=every, sample_rate=sample_rate, exact=exact, signal=signal, max_file=max_file)
