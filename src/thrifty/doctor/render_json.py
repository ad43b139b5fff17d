"""JSON renderer: the run result as documented in docs/doctor-json.md (and `thrifty watch`'s analysis, docs/watch.md).

One top-level field per line, each value compact. Why not `json.dump(..., indent=1)`: any indent, and `json.dump` to
a file at all, runs the stdlib's pure-Python encoder, which took 0.2 s of a deepcopy run's 5 MB report (most of the
doctor's own time on a short program); `json.dumps` without indent is the C encoder, 4-5x faster. The document is
the same JSON value either way, and a line per field still lets `grep`/`diff` find what changed.
"""
from __future__ import annotations

import json

TYPE_CHECKING = False  # mypy takes any `TYPE_CHECKING` as true; typing is not imported at run time: its import
if TYPE_CHECKING:     # is ~4 ms of every doctor run's start-up, and every annotation here is a string (PEP 563)
    from typing import IO, Any

_COMPACT = (",", ":")


def dumps(doc: dict[str, Any]) -> str:
    """The document as text, ending with a newline."""
    if not isinstance(doc, dict) or not doc or not all(isinstance(key, str) for key in doc):
        return json.dumps(doc, separators=_COMPACT) + "\n"
    fields = [json.dumps(key) + ":" + json.dumps(value, separators=_COMPACT) for key, value in doc.items()]
    return "{\n" + ",\n".join(fields) + "\n}\n"


def write_json(report: dict[str, Any], out: IO[str]) -> None:
    out.write(dumps(report))
