"""Runs CPython's own test_deque with `deque` replaced by a Ring('O'), and prints the failures as JSON.

Used by tests/test_cpython_deque.py in a subprocess, so that a crash fails that test instead of ending pytest.
Only the constructor is adapted: `deque(iterable=(), maxlen=None)` becomes `Ring('O', iterable, maxlen)`; every
other method, operator, copy, pickle and iterator is the Ring's own. Ring's copy and pickling call the type with
Ring's four arguments (typecode, iterable, maxlen, overflow), which deque's two-argument signature cannot take, so
that form is passed through unchanged.
"""
import collections
import importlib
import json
import sys
import unittest

from thrifty import Ring


class RingDeque(Ring):
    __slots__ = ()  # as deque: no __dict__ unless a subclass asks for one

    def __init__(self, *args, **kwargs):
        if len(args) >= 3 or "typecode" in kwargs:  # Ring's own form, from copy() and __reduce__
            Ring.__init__(self, *args, **kwargs)
            return
        iterable, maxlen = _deque_args(*args, **kwargs)
        Ring.__init__(self, "O", iterable, maxlen)


RingDeque.__name__ = RingDeque.__qualname__ = "deque"  # the name test_deque's messages and subclasses expect
deque = RingDeque  # ... and where pickle looks it up


def _deque_args(iterable=(), maxlen=None):
    return iterable, maxlen


def main():
    real = collections.deque
    collections.deque = RingDeque  # test_deque does `from collections import deque` at import
    try:
        module = importlib.import_module("test.test_deque")
    finally:
        collections.deque = real
    assert module.deque is RingDeque
    suite = unittest.defaultTestLoader.loadTestsFromModule(module)
    result = unittest.TestResult()
    suite.run(result)
    failed = {test.id(): text.strip().splitlines()[-1][:500] for test, text in result.failures + result.errors}
    json.dump({"run": result.testsRun, "failed": failed}, sys.stdout)


if __name__ == "__main__":
    main()
