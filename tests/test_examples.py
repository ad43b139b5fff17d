"""Every example runs; each naive/thrifty pair prints the same results and the thrifty side measures less memory."""
import pathlib
import re
import subprocess
import sys

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"

# pair -> the number on its stderr `memory:` line that the thrifty version must beat (smaller is better)
PAIRS = {
    "ring_window": r"([\d,]+) B peak",
    "lookup_table": r"peak ([\d,]+) B",
    "packet_buffers": r"([\d,]+) allocations",
    "log_scan": r"peak ([\d,]+) B",
    "log_compress": r"peak ([\d,]+) B",
    "interned_labels": r"keep ([\d,]+) B",
}
SINGLES = ["budget_in_ci"]
DOCTOR_DEMO = {"sensor_logger", "sensor_logger_lean"}  # covered by tests/test_demo.py


def run(name, cwd):
    out = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py")], capture_output=True, text=True,
                         timeout=120, cwd=cwd)
    assert out.returncode == 0, out.stderr
    memory = out.stderr.splitlines()
    assert len(memory) == 1 and memory[0].startswith("memory: "), out.stderr
    assert list(cwd.iterdir()) == [], "examples write temporary files only under tempfile"
    return out.stdout, memory[0]


@pytest.mark.parametrize("pair", sorted(PAIRS))
def test_pair_prints_the_same_and_thrifty_measures_less(pair, tmp_path):
    naive_out, naive_mem = run(f"{pair}_naive", tmp_path)
    lean_out, lean_mem = run(pair, tmp_path)
    assert naive_out.strip() and naive_out == lean_out
    naive_n, lean_n = (int(re.search(PAIRS[pair], m).group(1).replace(",", "")) for m in (naive_mem, lean_mem))
    assert lean_n < naive_n, (naive_mem, lean_mem)


def test_budget_in_ci_passes_the_lean_handler_and_refuses_the_naive_one(tmp_path):
    out, memory = run("budget_in_ci", tmp_path)
    assert "on_frame: passes no_alloc() and budget('64 KiB')" in out
    assert "on_frame_naive: refused" in out and "AllocationError" in out and "BudgetExceeded" in out
    assert "on_frame 0 allocations / 0 B" in memory


def test_every_example_is_tested_and_listed():
    names = {p.stem for p in EXAMPLES.glob("*.py")} - DOCTOR_DEMO
    assert names == {n for p in PAIRS for n in (p, f"{p}_naive")} | set(SINGLES)
    listed = (EXAMPLES / "README.md").read_text()
    assert all(f"`{n}.py`" in listed for n in names | DOCTOR_DEMO)
