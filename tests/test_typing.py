"""The shipped types (_ext.pyi, lz.py inline, py.typed) under mypy --strict: the documented usage type-checks, and a
wrong use is caught (so the check is not passing because the stubs went unread)."""
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mypy")

HERE = Path(__file__).parent


def mypy(tmp_path, *files):
    return subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-error-summary",
                           "--cache-dir", str(tmp_path / "cache"), *map(str, files)],
                          capture_output=True, text=True, timeout=300)


def test_documented_usage_type_checks(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from thrifty import lz, Ring\n"
                   "with lz.open('x.tlz', 'wb') as f:\n    f.write('text, not bytes')\n"
                   "r: Ring[int] = Ring('h', maxlen='8')\n")
    out = mypy(tmp_path, HERE / "typing_usage.py", bad)
    errors = [line for line in out.stdout.splitlines() if ": error:" in line]
    assert all(line.startswith(str(bad)) for line in errors), out.stdout + out.stderr
    assert len(errors) == 2, out.stdout + out.stderr
