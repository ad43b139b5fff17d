"""Replays the committed corpora of the Python-API fuzz targets (tests/fuzz/fuzz_*.py) without atheris.

Each corpus file is one input the fuzzer kept; replaying it runs the same differential checks against the stdlib
counterpart, so a change that breaks what a fuzzing run once verified fails here. Under `make test-asan` the same
replay runs against the ASan build.
"""
import importlib.util
import os

import pytest

FUZZ = os.path.join(os.path.dirname(__file__), "fuzz")
TARGETS = sorted(f[:-3] for f in os.listdir(FUZZ) if f.startswith("fuzz_") and f.endswith(".py"))


def load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(FUZZ, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("target", TARGETS)
def test_corpus_replays(target):
    corpus = os.path.join(FUZZ, "corpus", target)
    files = sorted(os.listdir(corpus)) if os.path.isdir(corpus) else []
    assert files, "no committed corpus for %s (run `make fuzz-py`, then merge, see the Makefile)" % target
    test_one_input = load(target).test_one_input
    for name in files:
        with open(os.path.join(corpus, name), "rb") as f:
            data = f.read()
        try:
            test_one_input(data)
        except Exception as exc:
            raise AssertionError("%s: corpus file %s fails: %r" % (target, name, exc)) from exc


@pytest.mark.parametrize("target", TARGETS)
def test_empty_and_short_inputs(target):
    """Every target takes any input, the degenerate ones too."""
    test_one_input = load(target).test_one_input
    for data in (b"", b"\0", b"\xff" * 3, bytes(range(40))):
        test_one_input(data)
