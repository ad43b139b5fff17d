"""What every Python fuzz target here shares: a reader that turns the fuzzer's bytes into choices, and the runner.

Each target module defines `test_one_input(data: bytes)`, which drives a thrifty type and its stdlib counterpart with
the same operations and raises AssertionError on any difference. Two callers use it:

- `make fuzz` runs each module as a script under atheris (coverage-guided, against the ASan build of the extension);
- `make test` replays each committed corpus file through `test_one_input` without atheris (tests/test_fuzz_corpora.py).

The reader is ours, not atheris's FuzzedDataProvider, so a corpus file means the same operations with or without
atheris installed, and whatever its version.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


class Reader:
    """Consumes the input from the front; once it is used up every choice returns its lowest value."""

    def __init__(self, data):
        self.data = bytes(data)
        self.pos = 0

    def __bool__(self):
        return self.pos < len(self.data)

    def byte(self):
        if self.pos >= len(self.data):
            return 0
        self.pos += 1
        return self.data[self.pos - 1]

    def below(self, n):
        """An int in [0, n): one byte when n <= 256, two otherwise."""
        if n <= 1:
            return 0
        if n <= 256:
            return self.byte() % n
        return (self.byte() | self.byte() << 8) % n

    def between(self, lo, hi):
        return lo + self.below(hi - lo + 1)

    def pick(self, seq):
        return seq[self.below(len(seq))]

    def chance(self, per256):
        return self.byte() < per256

    def blob(self, most):
        n = self.below(most + 1)
        out = self.data[self.pos:self.pos + n]
        self.pos += len(out)
        return out

    def int_near(self, lo, hi):
        """Mostly values in [lo, hi], sometimes just outside it, sometimes far outside."""
        kind = self.below(8)
        if kind < 5:
            return self.between(lo, hi) if hi - lo < 65536 else lo + (self.byte() << 24 | self.byte() << 16
                                                                       | self.byte() << 8 | self.byte()) % (hi - lo + 1)
        if kind == 5:
            return self.pick([lo, hi, lo - 1, hi + 1, 0, -1])
        if kind == 6:
            return self.pick([2 ** 63, -2 ** 63 - 1, 2 ** 64, 10 ** 30, -10 ** 30])
        return self.between(-300, 300)


def outcome(fn, *args):
    """('ok', result) or ('err', exception type): how two implementations of one call are compared."""
    try:
        return ("ok", fn(*args))
    except Exception as exc:  # noqa: BLE001 - the exception type is the compared result
        return ("err", type(exc))


def _instrument(module, atheris):
    """Coverage for the target's own Python branches and comparisons (the extension is not instrumented)."""
    for obj in list(vars(module).values()):
        if getattr(obj, "__module__", None) != module.__name__:
            continue
        if isinstance(obj, type):
            for member in list(vars(obj).values()):
                if callable(member) and hasattr(member, "__code__"):
                    atheris.instrument_func(member)
        elif hasattr(obj, "__code__"):
            atheris.instrument_func(obj)


def main(test_one_input, name):
    """Run one target under atheris: `python tests/fuzz/fuzz_x.py [libFuzzer flags] [corpus dirs]`."""
    import atheris  # the `fuzz` extra; only the fuzzing run needs it

    _instrument(sys.modules[test_one_input.__module__], atheris)
    argv = list(sys.argv)
    # libFuzzer re-runs argv[0] through the shell for -merge=1 and -fork: make that this interpreter and script.
    argv[0] = "%s %s" % (sys.executable, os.path.abspath(sys.argv[0]))
    if not any(not a.startswith("-") for a in argv[1:]):
        # No corpus given: write new inputs to build/, read the committed ones.
        new = os.path.join(HERE, "..", "..", "build", "pyfuzz", "corpus", name)
        os.makedirs(new, exist_ok=True)
        argv += [new, os.path.join(CORPUS, name)]
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()
