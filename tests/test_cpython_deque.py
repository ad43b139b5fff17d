"""CPython's own test_deque, run against Ring('O') (tests/cpython_deque_runner.py adapts the constructor).

The run is a subprocess, so a crash fails this test rather than ending pytest. Every failure must be listed below
with its reason, and every listed failure must still fail: the list is exactly the documented differences
(docs/ring.md, "Where Ring differs from deque").
"""
import importlib.util
import json
import os
import subprocess
import sys

import pytest

RUNNER = os.path.join(os.path.dirname(__file__), "cpython_deque_runner.py")

EXPECTED_FAILURES = {
    # repr names the typecode, `deque('O', [7, 8, 9], maxlen=3)`, so it is not deque's text and eval() of it
    # passes 'O' as the iterable.
    "test.test_deque.TestBasic.test_maxlen": "repr shows the typecode",
    "test.test_deque.TestBasic.test_repr": "repr shows the typecode",
    # __sizeof__ reports the Ring's one block of slots, not deque's 64-item blocks.
    "test.test_deque.TestBasic.test_sizeof": "__sizeof__ counts a Ring's storage",
}


def test_cpython_test_deque_against_ring():
    if importlib.util.find_spec("test") is None or importlib.util.find_spec("test.test_deque") is None:
        pytest.skip("this interpreter ships without CPython's test package (test.test_deque)")
    proc = subprocess.run([sys.executable, RUNNER], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, "test_deque run ended with status %d (a crash?)\n%s" % (
        proc.returncode, proc.stderr[-4000:])
    report = json.loads(proc.stdout)
    assert report["run"] > 50, report
    failed = report["failed"]
    unexpected = {name: why for name, why in failed.items() if name not in EXPECTED_FAILURES}
    assert not unexpected, "test_deque tests that fail against Ring('O'): %s" % json.dumps(unexpected, indent=1)
    fixed = set(EXPECTED_FAILURES) - set(failed)
    assert not fixed, "expected to fail but passed (remove from EXPECTED_FAILURES and docs/ring.md): %s" % fixed
