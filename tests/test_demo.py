"""The demo's two programs print exactly the same; the report renderers behave (sections, colour, JSON)."""
import io
import json
import pathlib
import subprocess
import sys

import pytest

from thrifty.doctor import render
from thrifty.doctor.findings import Finding

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize("readings", ["5000", "12000"])
def test_naive_and_lean_print_the_same(readings):
    outs = [subprocess.run([sys.executable, str(EXAMPLES / name), readings], capture_output=True, text=True,
                           timeout=120) for name in ("sensor_logger.py", "sensor_logger_lean.py")]
    for o in outs:
        assert o.returncode == 0, o.stderr
    assert outs[0].stdout == outs[1].stdout
    assert f"readings logged: {readings}" in outs[0].stdout


def _findings():
    return [
        Finding(habit="references", kind="cycle", file="a.py", line=3, title="cycles", evidence="e", fix="f",
                bytes=100),
        Finding(habit="globals", kind="global", file="a.py", line=1, title="big global", evidence="e", fix="f",
                bytes=10_000),
        Finding(habit="data structures", kind="code.pop0", file="a.py", line=2, title="pop0", evidence="e", fix="f",
                confirmed=False),
    ]


def test_text_sections_most_bytes_first_and_no_colour_when_piped():
    out = io.StringIO()
    render.text(_findings(), out)
    text = out.getvalue()
    heads = [line for line in text.splitlines() if line.startswith("== ")]
    assert [h.split(" (")[0] for h in heads] == ["== globals", "== references", "== data structures"]
    assert "\033[" not in text and "○ pop0" in text


def test_text_colour_on_request():
    out = io.StringIO()
    render.text(_findings(), out, colour=True)
    assert "\033[1m" in out.getvalue()


def test_finding_as_dict_is_plain_data():
    doc = json.loads(json.dumps([f.as_dict() for f in _findings()]))
    assert set(doc[0]) == {"habit", "kind", "file", "line", "title", "evidence", "fix", "bytes", "confirmed", "data"}
