"""thrifty doctor: run a program under the C allocation tracker and report where its memory goes.

Layers, each one job: `tracer` (start/stop the C tracker, run a target as python would), `report` (turn the
tracker's tables into the versioned run result, plain data), `render_text` / `render_json` (print it). `thrifty.cli`
is the command line on top. `findings` (one module per kind) turns a run into what to change, and `html` renders
the whole report as one page.
"""
from thrifty.doctor.report import SCHEMA, SCHEMA_VERSION, build_report
from thrifty.doctor.tracer import Target, TargetError, run_target, trace

__all__ = ["SCHEMA", "SCHEMA_VERSION", "Target", "TargetError", "build_report", "run_target", "trace"]
