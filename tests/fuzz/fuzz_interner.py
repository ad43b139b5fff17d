"""Interner against a dict keyed by strict equality (type, sign and NaN bits count, as docs/sizeof.md says).

intern(x) must hand back the model's canonical object for x's strict key (x itself the first time for a scalar),
a tuple or frozenset whose elements are the canonical ones, and TypeError for anything it does not accept; len() and
stats()['entries'] follow the model. In weak mode, entries that only the interner holds go at purge().
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))
from fuzzing import Reader, main, outcome  # noqa: E402

from thrifty import Interner  # noqa: E402

SCALARS = (str, bytes, int, float)


def skey(x):
    """Strict identity of a value: 1, 1.0 and True differ; -0.0 and 0.0 differ; NaNs by their bits."""
    t = type(x)
    if t is float:
        return ("float", struct.pack("<d", x))
    if t is tuple:
        return ("tuple", tuple(skey(e) for e in x))
    if t is frozenset:
        return ("frozenset", frozenset(skey(e) for e in x))
    return (t.__name__, x)


def acceptable(x):
    t = type(x)
    if x is None or t is bool or t in SCALARS:
        return True
    if t in (tuple, frozenset):
        return all(acceptable(e) for e in x)
    return False


def fresh(x):
    """An equal but distinct object where Python allows one (so a hit has something to replace)."""
    if type(x) is str and x:
        return "".join(list(x))
    if type(x) is bytes:
        return bytes(bytearray(x))
    if type(x) is int:
        return int(str(x))
    if type(x) is float:
        return struct.unpack("<d", struct.pack("<d", x))[0]
    if type(x) is tuple:
        return tuple(fresh(e) for e in x)
    return x


class Sub(str):
    pass


def value(rd, depth=0):
    k = rd.below(12)
    if k == 0:
        return rd.pick(["", "a", "sensor-01", "é" * 3, "x" * 70])
    if k == 1:
        return rd.pick([b"", b"a", b"\xff" * 9])
    if k == 2:
        return rd.pick([0, 1, -1, 256, 257, 2 ** 63, -2 ** 70, rd.between(-300, 300)])
    if k == 3:
        return rd.pick([0.0, -0.0, 1.0, 1.5, float("inf"), float("nan"),
                        struct.unpack("<d", struct.pack("<Q", 0x7FF8000000000000 | rd.below(256)))[0]])
    if k == 4:
        return rd.pick([None, True, False])
    if k in (5, 6) and depth < 3:
        return tuple(value(rd, depth + 1) for _ in range(rd.below(4)))
    if k == 7 and depth < 3:
        items = [value(rd, depth + 1) for _ in range(rd.below(4))]
        try:
            return frozenset(items)
        except TypeError:
            return frozenset()
    if k == 8:
        return rd.pick([[1], {}, Sub("a"), bytearray(b"a"), 1j, (1, [2])])
    return str(rd.between(0, 20))


UNKNOWN = object()


def has_dup(x):
    """A frozenset holding two objects of one strict value, at any depth."""
    if type(x) is frozenset and len({skey(e) for e in x}) != len(x):
        return True
    return type(x) in (tuple, frozenset) and any(has_dup(e) for e in x)


class Model:
    """The canonical object for each strict key. After a purge the interner may still hold entries the model forgot
    (held elsewhere), so the model then learns a new key's canonical object from the interner (`lenient`)."""

    def __init__(self, lenient=False):
        self.canon = {}
        self.lenient = lenient
        self.approx = False  # entries may exist that the model only guesses at

    def refused(self, x):
        """A refused container may have interned the elements before the bad one (bottom-up): those that are
        acceptable now have some canonical object, the model does not know which."""
        if type(x) in (tuple, frozenset):
            self.approx = True
            for e in x:
                if acceptable(e) and e is not None and type(e) is not bool:
                    self.canon.setdefault(skey(e), UNKNOWN)
                    if type(e) in (tuple, frozenset):
                        self.refused(e)
                else:
                    self.refused(e)

    def check(self, x, r):
        """r is what intern(x) returned."""
        t = type(x)
        assert type(r) is t and skey(r) == skey(x), (x, r)
        if x is None or t is bool:
            assert r is x
            return
        if t is frozenset and len({skey(e) for e in x}) != len(x):
            assert r is x  # two elements, one value here: handed back as it is, not interned ...
            self.unknown_inside(x)  # ... but what is inside was interned first, and which of the equal
            self.approx = True  # ones became canonical is the set's iteration order's business
            return
        if t in (tuple, frozenset):
            if has_dup(x):  # which of the equal values inside became canonical is iteration order's business,
                self.unknown_inside(x, force=True)  # and a container holding such a set has no one strict value
                self.canon[skey(x)] = UNKNOWN
                self.approx = True
                return
            for e in r:
                self.check(e, e)  # elements are canonical: a known key's object, or one the model now learns
            self.learn(skey(x), r, r is x or self.lenient or True)
            return
        self.learn(skey(x), r, r is x or self.lenient)

    def unknown_inside(self, x, force=False):
        for e in x:
            if e is None or type(e) is bool:
                continue
            if force:
                self.canon[skey(e)] = UNKNOWN
            else:
                self.canon.setdefault(skey(e), UNKNOWN)
            if type(e) in (tuple, frozenset):
                self.unknown_inside(e, force)

    def learn(self, k, r, first_ok):
        if self.canon.get(k) is UNKNOWN:
            self.canon[k] = r
        elif k in self.canon:
            assert r is self.canon[k], (k, r, self.canon[k])
        else:
            assert first_ok, ("a new value must come back as itself", k, r)
            self.canon[k] = r


def test_one_input(data):
    rd = Reader(data)
    weak = rd.chance(96)
    it = Interner(weak=weak)
    model = Model()
    held = []
    for _ in range(rd.below(40)):
        op = rd.below(10)
        if op < 7:
            x = value(rd)
            if rd.chance(128):
                x = fresh(x)
            got = outcome(it.intern, x)
            if not acceptable(x):
                assert got == ("err", TypeError), (x, got)
                model.refused(x)
                continue
            assert got[0] == "ok", (x, got)
            model.check(x, got[1])
            held.append(got[1])
        elif op == 7:
            if not weak and not model.lenient and not model.approx:
                assert len(it) == it.stats()["entries"] == len(model.canon), (len(it), len(model.canon))
            else:
                assert len(it) <= max(len(model.canon), it.stats()["entries"])
        elif op == 8:
            it.purge()  # everything interned so far is held in `held`: nothing the model knows may go
            for r in held:
                model.check(r, it.intern(r))
        elif rd.chance(128):
            it.clear()
            held.clear()
            model = Model()
            assert len(it) == 0
        else:
            held.clear()
            it.purge()
            model = Model(lenient=True)
    stats = it.stats()
    assert set(stats) >= {"hits", "misses", "bytes_saved", "entries"}
    assert min(stats.values()) >= 0


if __name__ == "__main__":
    main(test_one_input, "fuzz_interner")
