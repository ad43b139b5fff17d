"""The README's demo claim, measured: `thrifty doctor` on examples/sensor_logger.py (naive) and on
examples/sensor_logger_lean.py (the same program with thrifty), peaks side by side in the same session."""
from __future__ import annotations

import json
import pathlib
import statistics
import subprocess
import sys
import tempfile

import harness

TITLE = "Demo: the naive sensor logger vs its thrifty rewrite (thrifty doctor peaks)"
ROOT = pathlib.Path(__file__).resolve().parent.parent


def _doctor(script: str, out: pathlib.Path) -> dict:
    subprocess.run([sys.executable, "-m", "thrifty", "doctor", "--json", str(out), str(ROOT / "examples" / script)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return json.loads(out.read_text())


def run(quick: bool) -> str:
    rounds = 1 if quick else 3
    naive_peaks: list[int] = []
    lean_peaks: list[int] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(rounds):  # alternate which side runs first
            order = [("sensor_logger.py", naive_peaks), ("sensor_logger_lean.py", lean_peaks)]
            for script, sink in order if i % 2 == 0 else order[::-1]:
                report = _doctor(script, pathlib.Path(tmp) / f"{script}.{i}.json")
                sink.append(report["summary"]["peak_bytes"])
                if script == "sensor_logger.py":
                    naive_findings = sum(1 for f in report["findings"] if f["confirmed"])
                else:
                    lean_findings = sum(1 for f in report["findings"] if f["confirmed"])
    pn, pl = statistics.median(naive_peaks), statistics.median(lean_peaks)
    rows = [
        ["peak traced heap", harness.fmt_bytes(pn), harness.fmt_bytes(pl), harness.ratio(pn, pl) + " smaller", "≥ 4x"],
        ["confirmed findings", str(naive_findings), str(lean_findings), "", ""],
    ]
    note = (f"\n\nMedian of {rounds} doctor run(s) per side, alternating which runs first; exact mode. The peak is the "
            "traced Python heap at its highest (docs/doctor.md). Both programs print the same output (tests/test_demo.py).")
    return harness.table(["what", "naive", "thrifty", "ratio", "target"], rows) + note
