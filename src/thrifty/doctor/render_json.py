"""JSON renderer: the run result as documented in docs/doctor-json.md."""
from __future__ import annotations

import json
from typing import IO, Any


def write_json(report: dict[str, Any], out: IO[str]) -> None:
    json.dump(report, out, indent=1)
    out.write("\n")
