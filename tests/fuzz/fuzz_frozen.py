"""FrozenSet and FrozenMap against frozenset and dict: build, lookup, set algebra, views, and mutated blocks.

The model is the stdlib container built from the same input; the rules that decide whether a build is accepted
(one key kind, int64 range, values one kind) are docs/frozen.md's. A block from `tobytes()` is then changed
(bytes flipped, cut, extended) and opened with `frombuffer()`: it must raise CorruptData, or give a table that agrees
with itself (every key it lists is found, with the value it lists) and, when the bytes were not changed, with the
original.
"""
import os
import pickle
import sys

sys.path.insert(0, os.path.dirname(__file__))
from fuzzing import Reader, main, outcome  # noqa: E402

from thrifty import CorruptData, FrozenMap, FrozenSet  # noqa: E402

INT64 = (-2 ** 63, 2 ** 63 - 1)


class Str(str):
    """A str subclass: stored by its text, as frozenset finds it by its (inherited) hash and ==."""


def kind_of(x, floats=False):
    if floats and isinstance(x, float):
        return "float"
    if isinstance(x, int):  # bool included: stored as int
        return "int"
    if isinstance(x, str):
        return "str"
    if isinstance(x, bytes):
        return "bytes"
    return None


def build_error(items, values=False):
    """The exception type the build must raise for these keys (or values), or None when it must succeed."""
    kinds = {kind_of(x, values) for x in items}
    if None in kinds:
        return TypeError
    if len(kinds) > 1:
        return TypeError
    if kinds == {"int"} and any(not INT64[0] <= x <= INT64[1] for x in items):
        return OverflowError
    return None


def key(rd, kind):
    if kind == "int":
        return rd.pick([rd.between(-5, 40), rd.int_near(INT64[0], INT64[1]), True, False, 2 ** 63, -2 ** 63])
    if kind == "str":
        return rd.pick(["", "a", "b", "ab", "é", "\udcff", "x" * rd.below(40), Str("a"), str(rd.below(30))])
    return rd.pick([b"", b"a", b"b", b"\0", b"\xff" * rd.below(20), bytes([rd.byte()]) * rd.below(4)])


def value(rd, kind):
    if kind == "float":
        return rd.pick([0.0, -0.0, 1.5, float("inf"), 1e300, rd.between(-9, 9) / 8])
    return key(rd, kind)


def probe(rd, kind):
    """A lookup key: usually of the table's kind, sometimes an equal number of another type, another kind, or
    unhashable."""
    k = rd.below(10)
    if k < 6:
        return key(rd, kind)
    if k == 6:
        return rd.pick([1.0, 2.5, 3 + 0j, float("nan"), -0.0])
    if k == 7:
        return key(rd, rd.pick(["int", "str", "bytes"]))
    if k == 8:
        return rd.pick([[1], bytearray(b"a"), {}, {1}])
    return rd.pick([None, (1,), frozenset()])


def norm(x):
    """FrozenSet stores bool as int and a str subclass as str."""
    if isinstance(x, bool):
        return int(x)
    if isinstance(x, str):
        return str(x)
    return x


def nkey(x):
    """A comparable form of a value: floats by repr so -0.0 and nan are exact."""
    return ("f", repr(x)) if isinstance(x, float) else x


def check_set(rd, fs, model):
    assert len(fs) == len(model)
    listed = list(fs)
    assert len(listed) == len(set(listed)) == len(model) and set(listed) == model, (listed, model)
    assert all(type(x) in (int, str, bytes) for x in listed)
    assert fs == model and model == fs and not fs != model
    assert hash(fs) == hash(model)
    kind = kind_of(next(iter(model))) if model else rd.pick(["int", "str", "bytes"])
    for _ in range(rd.below(6)):
        p = probe(rd, kind)
        assert outcome(lambda: p in fs) == outcome(lambda: p in model), p
    other = frozenset(key(rd, rd.pick([kind, kind, "str"])) for _ in range(rd.below(6)))
    if rd.chance(64):
        other = frozenset(list(model)[:rd.below(len(model) + 1)]) | other
    for op in ("__or__", "__and__", "__sub__", "__xor__", "__eq__", "__le__", "__lt__", "__ge__", "__gt__"):
        got = getattr(fs, op)(other)
        want = getattr(model, op)(other)
        assert got == want and type(got) is type(want), (op, got, want)
    for name in ("union", "intersection", "difference", "symmetric_difference", "isdisjoint", "issubset",
                 "issuperset"):
        arg = list(other) if rd.chance(128) else iter(other)
        assert getattr(fs, name)(arg) == getattr(model, name)(list(other)), name
    assert fs.copy() is fs and FrozenSet(fs) is fs
    if rd.chance(64):
        assert pickle.loads(pickle.dumps(fs)) == model


def check_map(rd, fm, model, vkind):
    assert len(fm) == len(model)
    assert sorted(map(repr, fm)) == sorted(map(repr, model))
    for k in model:
        assert nkey(fm[k]) == nkey(model[k]), (k, fm[k], model[k])
    assert fm == model or any(isinstance(v, float) and v != v for v in model.values())
    kind = kind_of(next(iter(model))) if model else "int"
    for _ in range(rd.below(6)):
        p = probe(rd, kind)
        if isinstance(p, set):
            continue  # looked up as the equal frozenset, as frozenset does (docs/frozen.md); a dict raises
        assert outcome(lambda: p in fm) == outcome(lambda: p in model), p
        got, want = outcome(lambda: fm[p]), outcome(lambda: model[p])
        assert (got[0], nkey(got[1])) == (want[0], nkey(want[1])), (p, got, want)
        if want[0] == "ok" or want[1] is KeyError:
            assert nkey(fm.get(p, "d")) == nkey(model.get(p, "d"))
    keys, items = fm.keys(), fm.items()
    assert len(keys) == len(items) == len(fm.values()) == len(model)
    assert sorted(map(repr, fm.values())) == sorted(map(repr, model.values()))
    other = [key(rd, kind) for _ in range(rd.below(5))]
    for op in ("__or__", "__and__", "__sub__", "__xor__", "__ror__", "__rand__", "__rsub__", "__rxor__"):
        got, want = getattr(keys, op)(other), getattr(model.keys(), op)(other)
        assert got == want, (op, got, want)
    assert keys.isdisjoint(other) == model.keys().isdisjoint(other)
    if not any(isinstance(v, float) for v in model.values()):
        pairs = [(k, model[k]) for k in list(model)[:2]] + [(o, value(rd, vkind)) for o in other]
        for op in ("__or__", "__and__", "__sub__", "__xor__"):
            assert getattr(items, op)(pairs) == getattr(model.items(), op)(pairs), op
        assert (keys == set(model)) and (items == set(model.items()))
        assert all((k, model[k]) in items for k in model)


def reopen(rd, cls, block, original):
    """frombuffer of a (possibly changed) block: CorruptData, or a table that agrees with itself."""
    data = bytearray(block)
    changed = False
    for _ in range(rd.below(4)):
        how = rd.below(4)
        if how == 0 and data:
            data[rd.below(len(data))] ^= 1 << rd.below(8)
        elif how == 1 and data:
            del data[rd.below(len(data)):]
        elif how == 2:
            data += bytes(rd.below(4))
        elif how == 3 and data:
            data[rd.below(len(data))] = rd.byte()
        changed = True
    changed = changed and bytes(data) != block
    buf = bytes(data) if rd.chance(128) else data
    try:
        table = cls.frombuffer(buf)
    except CorruptData:
        assert changed or cls is not type(original), "an unchanged block was rejected"
        return
    assert table.tobytes() == bytes(data)
    try:
        listed = list(table)
    except CorruptData:
        assert changed  # validation leaves UTF-8 to the read (docs/format-frozen.md); that read says so
        return
    assert len(listed) == len(table)
    for k in listed:
        assert k in table
        if cls is FrozenMap:
            v = table[k]
            assert nkey(table.get(k)) == nkey(v)
    if not changed:
        assert table == original
        assert hash(table) == hash(original)
    if isinstance(buf, bytearray):
        assert outcome(lambda: buf.append(0)) == ("err", BufferError)  # held while the table lives
        if buf:
            buf[rd.below(len(buf))] = rd.byte()  # may give wrong answers now, never a crash
            res = outcome(lambda: list(table))
            assert res[0] == "ok" or res[1] is CorruptData, res
            for k in listed:
                outcome(lambda: k in table)
                if cls is FrozenMap:
                    outcome(lambda: table.get(k))
        del table
        buf.append(0)  # released with the table


def test_one_input(data):
    rd = Reader(data)
    kind = rd.pick(["int", "str", "bytes"])
    n = rd.below(12)
    if rd.chance(128):
        keys = [key(rd, kind) if not rd.chance(8) else probe(rd, kind) for _ in range(n)]
        err = build_error(keys)
        got = outcome(lambda: FrozenSet(iter(keys) if rd.chance(64) else keys))
        if err is not None:
            assert got[0] == "err" and issubclass(got[1], err), (keys, got)
            return
        assert got[0] == "ok", (keys, got)
        fs, model = got[1], frozenset(norm(k) for k in keys)
        assert FrozenSet(reversed(keys)).tobytes() == fs.tobytes()  # canonical: order and duplicates do not count
        check_set(rd, fs, model)
        reopen(rd, FrozenSet if rd.chance(224) else FrozenMap, fs.tobytes(), fs)
    else:
        vkind = rd.pick(["int", "float", "str", "bytes"])
        pairs = [(key(rd, kind) if not rd.chance(8) else probe(rd, kind), value(rd, vkind)) for _ in range(n)]
        kwargs = {}
        if kind == "str" and rd.chance(48):
            kwargs = {"kw": value(rd, vkind)}
        final = dict_or_error(pairs)  # dict()'s rules: the last duplicate wins, before any check
        if final is None:
            got = outcome(lambda: FrozenMap(pairs))
            assert got == ("err", TypeError), (pairs, got)  # an unhashable key, refused as dict() refuses it
            return
        source = pairs if rd.chance(128) else dict(final)
        final.update(kwargs)
        err = build_error(list(final)) or build_error(list(final.values()), values=True)
        got = outcome(lambda: FrozenMap(source, **kwargs))
        if err is not None:
            assert got[0] == "err" and issubclass(got[1], (err, TypeError)), (pairs, got)
            return
        assert got[0] == "ok", (pairs, kwargs, got)
        fm = got[1]
        model = {norm(k): norm(v) if not isinstance(v, float) else v for k, v in dict(pairs, **kwargs).items()}
        check_map(rd, fm, model, vkind)
        reopen(rd, FrozenMap if rd.chance(224) else FrozenSet, fm.tobytes(), fm)


def dict_or_error(pairs):
    try:
        return dict(pairs)
    except TypeError:
        return None  # an unhashable key: dict() itself refuses, nothing to compare


if __name__ == "__main__":
    main(test_one_input, "fuzz_frozen")
