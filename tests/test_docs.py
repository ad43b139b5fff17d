"""Every Python block in README.md and docs/*.md runs as written: each ```python block is run on its own, in a
fresh interpreter, in an empty directory (a block makes the files it needs, or names one of examples/ by its path
from the project root, which is then the directory it runs in). A block that is not meant to run on its own says so
with ```python-fragment (a signature, a sketch), which this test skips."""
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def _blocks():
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for m in BLOCK.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            yield pytest.param(m.group(1), id=f"{doc.relative_to(ROOT)}:{line}")


@pytest.mark.parametrize("code", list(_blocks()))
def test_python_block_runs(code, tmp_path):
    cwd = ROOT if "examples/" in code else tmp_path
    got = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, timeout=120)
    assert got.returncode == 0, got.stderr[-3000:]
