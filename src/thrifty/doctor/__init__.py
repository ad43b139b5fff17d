"""thrifty doctor: run a program in a fresh interpreter under the C allocation tracker and report where its memory goes.

Two halves with one file between them. The recorder (`child`, the process that runs the target; `tracer` starts it)
writes a run file (`runfile.c`, docs/format-run.md); the analyzer, in the parent or later on another machine, reads
it (`runfile`), builds the report (`report`), the findings (`findings`, whose evidence `probe` measures in the child)
and renders them (`render_text`, `render_json`, `html`); `leaks` analyses a watched run's snapshots and
`leaks_html` draws that analysis (both HTML pages are framed by `page`). `run` is the one pipeline the CLI and the benchmarks call. Names load on first use (PEP 562): the recorder runs `child.py` as a script in the measured
process and imports nothing else of the doctor there (the findings' probes when they are on).
"""

_WHERE = {
    "SCHEMA": "thrifty.doctor.report",
    "SCHEMA_VERSION": "thrifty.doctor.report",
    "build_report": "thrifty.doctor.report",
    "Target": "thrifty.doctor.tracer",
    "TargetError": "thrifty.doctor.tracer",
    "Result": "thrifty.doctor.tracer",
    "run": "thrifty.doctor.tracer",
    "trace": "thrifty.doctor.tracer",
    "RunFileError": "thrifty.doctor.runfile",
    "read_run": "thrifty.doctor.runfile",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> object:
    if name not in _WHERE:
        raise AttributeError(f"module 'thrifty.doctor' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
