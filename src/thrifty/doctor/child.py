"""The recorder: the fresh interpreter `thrifty doctor` starts (tracer.start_child) to run the target under the tracker.

It is started as `python .../thrifty/doctor/run_child.py CONFIG... -- ARGS...` (a script, as the target itself would
be: `python -c` imports linecache on 3.13; that stub imports this module from its bytecode, since compiling this
file's source cost the target's process ~0.64 MB of peak RSS), imports nothing beyond what `python script.py` imports
plus thrifty._ext (the package `thrifty` is lazy), starts the tracker and the run file, and only then
runs the target the way `python script.py`, `python -m mod` and `python -c code` would: sys.argv, an absolute
`__file__`, sys.path[0], a fresh `__main__`, the exit status, the traceback, KeyboardInterrupt ending the process by
SIGINT. What it measured goes to the run file only (runfile.c writes it; docs/format-run.md): a snapshot at the start,
others while the target allocates, a last one when the target ends, then an end record and, when findings were asked
for, the findings' evidence. A process forked by the target stops tracing and never writes the file (runfile.c).
Nothing here prints, so a target that closes or redirects stdout loses nothing of the report.
"""
import sys

if __name__ == "__main__":
    sys.path[0] = sys.argv[1]  # the directory holding the thrifty package the parent uses, not this file's
from thrifty import _ext  # noqa: E402

# Annotations here are strings: `from __future__ import annotations` would import the __future__ module.
TYPE_CHECKING = False  # mypy takes any `TYPE_CHECKING` as true; at run time this module runs in the target's
if TYPE_CHECKING:     # process, where importing typing would make the target's own import of it look free
    from collections.abc import Callable
    from types import ModuleType, TracebackType
    from typing import Any

    from thrifty.doctor.probe import Probes

# the parent creates RUNFILE + this before it stops the program with SIGINT (tracer._wait)
STOP_SUFFIX = ".stop"

# the name of the frame that parses, compiles and runs the target (_in_target_frame); no Python function can have it
_TARGET_FRAME = "<compile>"

# run-file record kinds written from Python (runfile.c writes the header, meta and snapshots)
_END = 3
_EVIDENCE = 4

_real_exit: "Callable[[int], Any] | None" = None  # posix._exit, kept before os._exit is wrapped
_pid = 0


def _config(argv: "list[str]") -> "dict[str, Any]":
    """The parent's settings (tracer.child_command is the other half): positional, then `--` and the target's args."""
    keys = ("pkgdir", "runfile", "kind", "value", "mode", "sample_rate", "max_depth", "interval", "findings",
            "max_bytes", "unblock", "parent")
    sep = argv.index("--", 1)
    cfg: "dict[str, Any]" = dict(zip(keys, argv[1:sep]))
    cfg["args"] = argv[sep + 1:]
    return cfg


def _decimal(text: str) -> int:
    """int(text) for the parent's settings (decimal digits), without int(): python's first int() of a decimal string
    calls libm's log() (PyLong_FromString sizes the result with it), which mapped ~0.2 MB of libm into the target's
    process, a cost of the recorder that a program which never parses a number would not pay."""
    n = 0
    for digit in text:
        n = n * 10 + "0123456789".index(digit)
    return n


def _write_end(status: str, exit_status: int, signal: object = None, exception: object = None) -> None:
    """The last snapshot (still tracing: it holds the final tables) and the end record. Only the recorder's own
    process writes: a forked child of the target has no run file any more (runfile.c) and must not report."""
    global _pid
    if _pid != _os().getpid():
        return
    _pid = -1  # once
    _ext._runfile_snapshot()
    end = {"status": status, "exit_status": exit_status, "signal": signal, "exception": exception, "final": True}
    _ext._runfile_write(_END, repr(end).encode())


def _os() -> "Any":
    return sys.modules["os"]  # imported by site at start-up, like under plain python


def _wrapped_exit(status: int) -> None:
    """os._exit for the target: the run ends here, so write the last snapshot first (the process is gone after)."""
    try:
        _write_end("os_exit", status if isinstance(status, int) else 1)
    finally:
        assert _real_exit is not None  # kept before this wrapper was installed
        _real_exit(status)


def _before_exec(real: "Callable[..., Any]") -> "Callable[..., Any]":
    """os.execv/execve for the target: the program is about to be replaced by another, which nothing traces, so the
    figures so far go to the run file first, with an end record saying so (the new program's exit status is the
    process's). Should the exec fail, the program goes on, and its later snapshots and end supersede these."""
    def exec_(*args: object) -> object:
        if _pid == _os().getpid():  # not a forked child's exec: its run is not ours
            _ext._runfile_snapshot()
            end = {"status": "exec", "exit_status": None, "signal": None, "exception": None, "final": True}
            _ext._runfile_write(_END, repr(end).encode())
        return real(*args)
    return exec_


def _exit_status(code: object) -> int:
    """What python exits with for SystemExit(code) (it prints a non-int code itself)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    return 1


def _describe(exc: BaseException) -> str:
    try:
        text = str(exc)
    except BaseException:  # a broken __str__ must not cost the run file
        text = "<unprintable>"
    name = type(exc).__qualname__
    mod = type(exc).__module__
    if mod not in ("builtins", "__main__"):
        name = f"{mod}.{name}"
    return f"{name}: {text}" if text else name


def _prepare(cfg: "dict[str, Any]") -> "tuple[Callable[[], object], ModuleType]":
    """sys.argv, sys.path[0] and a fresh __main__ as python sets them for the target; returns (run, main module).
    Nothing of the target is imported or compiled here: `run` does that, under the tracker."""
    os = _os()
    kind, value, args = cfg["kind"], cfg["value"], cfg["args"]
    main = type(sys)("__main__")
    main.__dict__["__builtins__"] = sys.modules["builtins"]
    main.__dict__["__annotations__"] = {}
    run: "Callable[[], object]"
    if kind == "script" and value == "-":
        # `python -`: the program comes on stdin, its code named "<stdin>", sys.path[0] '' (python -c's)
        sys.argv[:] = ["-", *args]
        sys.path[0] = ""
        main.__file__ = "<stdin>"  # as python sets it for the run (PyRun_SimpleFile)
        main.__cached__ = None  # type: ignore[attr-defined]
        main.__loader__ = sys.modules["_frozen_importlib"].BuiltinImporter
        run = _in_target_frame("<stdin>", _ext._run_script, 0, main.__dict__)
    elif kind == "script" and _main_importer(_abspath(value)) is not None:
        # a directory or zip file (`python -m zipapp`'s .pyz): python runs the __main__ module in it, as -m does,
        # with the path itself first on sys.path
        sys.argv[:] = [value, *args]
        sys.path[0] = _abspath(value)
        main.__loader__ = sys.modules["_frozen_importlib"].BuiltinImporter

        def run_main() -> None:
            import runpy  # as python does (pymain_run_module): runpy is part of the run

            runpy._run_module_as_main("__main__", alter_argv=False)  # type: ignore[attr-defined]
        run = run_main
    elif kind == "script":
        path = _abspath(value)
        sys.argv[:] = [value, *args]
        sys.path[0] = os.path.dirname(os.path.realpath(value))
        main.__file__ = path
        main.__cached__ = None  # type: ignore[attr-defined]  # as python sets it
        main.__loader__ = sys.modules["_frozen_importlib_external"].SourceFileLoader("__main__", path)

        # python's way (pymain_run_file): the syntax tree stays live until the module's code returns, a cost of
        # the program as python runs it (compile() then exec() would free it first; runscript.c says more)
        run = _in_target_frame(path, _ext._run_script, path, main.__dict__)
    elif kind == "module":
        sys.argv[:] = ["-m", *args]
        sys.path[0] = os.getcwd()
        main.__loader__ = sys.modules["_frozen_importlib"].BuiltinImporter

        def run_module() -> None:
            import runpy  # as python -m does: runpy is part of the run

            runpy._run_module_as_main(value, alter_argv=True)  # type: ignore[attr-defined]  # what python -m calls
        run = run_module
    else:
        sys.argv[:] = ["-c", *args]
        sys.path[0] = ""
        main.__loader__ = sys.modules["_frozen_importlib"].BuiltinImporter

        # exec of a str is python -c's own call (PyRun_StringFlags): its syntax tree too lives while it runs
        run = _in_target_frame("<string>", exec, value, main.__dict__)
    sys.modules["__main__"] = main
    return run, main


def _abspath(path: str) -> str:
    """The target's path as python makes it absolute (its __file__, the sys.path[0] of a directory or zip): the
    current directory joined with it, not normalized (`../app.py` stays in it), and `.` the directory itself."""
    os = _os()
    if path in ("", "."):
        return str(os.getcwd())
    return path if os.path.isabs(path) else str(os.path.join(os.getcwd(), path))


def _main_importer(path: str) -> object:
    """What python asks before it runs a file (pymain_get_importer): an importer from sys.path_hooks for a directory
    or a zip file, whose __main__ module python then runs; None for a script. Remembered in
    sys.path_importer_cache, as python does (None for a script)."""
    cache = sys.path_importer_cache
    if path in cache:
        return cache[path]
    cache[path] = None
    for hook in sys.path_hooks:
        try:
            importer = hook(path)
        except ImportError:
            continue
        cache[path] = importer
        return importer
    return None


def _call(run: "Callable[[Any, Any], object]", a: object, b: object) -> object:
    return run(a, b)


def _in_target_frame(path: str, run: "Callable[[Any, Any], object]", a: object, b: object) -> "Callable[[], object]":
    """A function of no arguments that calls run(a, b) in a frame that names the target: what python allocates to
    parse and compile it (a big script's syntax tree can be the run's peak) is the target's own cost, shown as
    `app.py in <compile>`, not the doctor's. The frame's code carries the target's file name and no line numbers,
    so no line of the user's file is blamed; the run file's reader drops it from the stacks of the code it runs
    (runfile._snapshot) and tracebacks leave it out (_skip_own_frames), as python's own C caller has no frame.
    Its code is the tracker's root (main): every stack of the target ends at this frame, so the recorder's own
    frames outside it are not walked per allocation (each frame costs the tracker's walk of every allocation's
    stack). Made before the tracker starts: it is not the target's."""
    # _call's code renamed, not compile()d: the builtin compile() creates the ast module's ~120 classes on its first
    # call (its PyAST_Check), ~0.2 MB of the target's process that `python script.py` never spends
    code = _call.__code__.replace(co_filename=path, co_name=_TARGET_FRAME, co_qualname=_TARGET_FRAME,
                                  co_firstlineno=1, co_linetable=b"")
    # made here, not by running `module`: its globals do not hold it (no cycle), and no line of the target runs
    function: Any = type(_in_target_frame)
    return function(code, {"__builtins__": sys.modules["builtins"]}, None, (run, a, b))  # type: ignore[no-any-return]


def _skip_own_frames(tb: "TracebackType | None") -> "TracebackType | None":
    """The traceback from the target's first frame on: this file's frames dropped."""
    while tb is not None and (tb.tb_frame.f_code.co_filename == __file__ or
                              tb.tb_frame.f_code.co_name == _TARGET_FRAME):
        tb = tb.tb_next
    return tb


def _note(text: str) -> None:
    """One line on stderr's descriptor (the target may have closed or replaced sys.stderr)."""
    try:
        _os().write(2, f"thrifty doctor: {text}\n".encode("utf-8", "replace"))
    except OSError:
        pass


def _evidence(probes: "Probes", main: "ModuleType") -> None:
    """The findings' evidence, measured after the tracker stopped (so nothing here counts), into the run file. A
    failure costs the findings only (one line says so), never the run file nor the target's exit status."""
    # halted, not stopped: the tables stay for the probes' site lookups, and no raw dict of every stack is built
    # (the run file already holds the figures; the evidence reads none of them)
    _ext._tracker_halt(keep_sites=True)
    try:
        probes.__exit__(None, None, None)
        file = getattr(main, "__file__", None)
        if hasattr(probes, "register_namespace") and file:
            probes.register_namespace(file, main.__dict__)
        ev = probes.evidence(None)
        if not isinstance(ev, dict):  # the findings' Evidence dataclass before it became plain data
            ev = dict(vars(ev))
        _ext._runfile_write(_EVIDENCE, repr(ev).encode())
    except Exception as e:  # noqa: BLE001  (the probes run the target's __eq__, __repr__, finalizers ...)
        _note(f"findings skipped: their evidence could not be measured ({_describe(e)})")
    finally:
        _ext._tracker_release()


def main() -> None:
    global _real_exit, _pid
    cfg = _config(sys.argv)
    # a doctor killed by SIGKILL cannot stop us: the kernel does (parentdeath.c), so no target runs on unwatched
    _ext._recorder_die_with_parent(_decimal(cfg["parent"]))
    os = _os()
    run, main_module = _prepare(cfg)
    findings = cfg["findings"] == "1"
    roots = [sys.path[0] if cfg["kind"] == "script" and cfg["value"] != "-" else os.getcwd()]
    probes: Probes | None = None
    if findings:
        from thrifty.doctor.probe import Probes

        # nothing is garbage yet in this fresh interpreter: no collection before the run, which python's would not
        # make either (it changed the order of finalizers at exit)
        probes = Probes(user_roots=roots, collect_first=False)
        probes.__enter__()
    meta = {"format": "thrifty.run", "thrifty": sys.modules["thrifty"].__version__,
            "python": sys.version.split()[0], "executable": sys.executable,
            "pid": os.getpid(), "target": {"kind": cfg["kind"], "value": cfg["value"], "args": cfg["args"]},
            "argv": list(sys.argv), "cwd": os.getcwd(), "bootstrap": __file__, "user_roots": roots,
            "started": __import__("time").time()}
    _real_exit = os._exit
    _pid = os.getpid()
    os._exit = _wrapped_exit
    # os.execl*/execv*/execle*/execlp*/execvp* all end in these two (looked up in os's namespace at each call)
    os.execv, os.execve = _before_exec(os.execv), _before_exec(os.execve)
    _ext._runfile_open(cfg["runfile"], repr(meta).encode(), float(cfg["interval"]), _decimal(cfg["max_bytes"]))
    # root: the stacks stop at the frame that runs the target; this file's frames outside it are cut by the reader
    # anyway (runfile_read.c), and the tracker's walk of every allocation's stack need not read them
    _ext._tracker_start(sampled=cfg["mode"] == "sampled", sample_rate=_decimal(cfg["sample_rate"]),
                        max_depth=_decimal(cfg["max_depth"]), root=getattr(run, "__code__", None))
    _ext._runfile_snapshot()  # an empty first snapshot: a target killed at once still leaves a readable file
    try:
        if cfg["unblock"]:
            # the doctor blocked these before starting us (tracer._block_signals) and takes them itself; the target
            # runs with the mask it would have had. A Ctrl-C that came while blocked is raised here, in the run.
            sig = sys.modules["_signal"]  # loaded by python at start-up (3.11-3.14): no import the target lacks
            sig.pthread_sigmask(sig.SIG_UNBLOCK, [_decimal(s) for s in cfg["unblock"].split(",")])
        run()
    except SystemExit as e:
        status = _exit_status(e.code)
        if e.code is not None and not isinstance(e.code, int):
            _print_exit_message(e.code)  # as python does, before its threads and atexit functions run
        _end(probes, main_module, "exit" if status else "ok", status)
        raise SystemExit(status) from None
    except BaseException as e:
        interrupted = isinstance(e, KeyboardInterrupt)
        if interrupted and os.path.exists(cfg["runfile"] + STOP_SUFFIX):
            # the doctor stopped the program (--for): an end the user asked for, not a failure — no traceback
            # (printing one imports traceback, 1.5 MB on 3.13, which the program itself never did)
            _end(probes, main_module, "stopped", 0)
            raise SystemExit(0) from None
        e.__traceback__ = _skip_own_frames(e.__traceback__)
        sys.excepthook(type(e), e, e.__traceback__)
        _end(probes, main_module, "signal" if interrupted else "exception", 130 if interrupted else 1,
             signal=2 if interrupted else None, exception=_describe(e))
        if interrupted:
            # python ends a run interrupted by Ctrl-C by SIGINT itself, so a shell sees it (after flushing)
            for f in (sys.stdout, sys.stderr):
                try:
                    f.flush()
                except BaseException:
                    pass
            import signal

            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)
        raise SystemExit(1) from None
    else:
        _end(probes, main_module, "ok", 0)


def _print_exit_message(code: object) -> None:
    try:
        sys.stderr.write(f"{code}\n")
        sys.stderr.flush()
    except Exception:  # noqa: BLE001  (a closed or replaced stderr: python would print nothing either)
        pass


def _shut_down_like_python() -> None:
    """What python does once __main__ is done, before it exits: wait for the target's non-daemon threads, then
    run its atexit functions — still under the tracker, as tracemalloc would count them. Python's own shutdown
    then finds both done (each runs once)."""
    threading = sys.modules.get("threading")
    if threading is not None:
        threading._shutdown()
    atexit = sys.modules.get("atexit")
    if atexit is not None:
        atexit._run_exitfuncs()


def _end(probes: "Probes | None", main_module: "ModuleType", status: str, exit_status: int, signal: object = None,
         exception: object = None) -> None:
    if _pid != _os().getpid():
        return  # a fork child of the target leaving through here: its run is not ours
    _shut_down_like_python()
    _write_end(status, exit_status, signal, exception)
    if probes is not None:
        _evidence(probes, main_module)
    else:
        _ext._tracker_halt()
    _ext._runfile_close()


if __name__ == "__main__":
    main()
