"""View against a memoryview window of a bytearray, and a Pool's Block against a bytearray of the block's size.

The same reads, writes, searches and re-pointings go to the thrifty object and to the model; results (value or
exception type) and the bytes underneath must agree. docs/buffers.md's differences are modelled: slices are bytes,
nothing changes a Block's size, a View's slice assignment must keep the length. Index objects whose __index__
releases the View or Block (or closes the pool) must make the access fail with ValueError, never write through.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from fuzzing import Reader, main, outcome  # noqa: E402

from thrifty import Pool, View  # noqa: E402


class Releasing:
    """An index whose conversion releases the object under access (or closes the pool it came from)."""

    def __init__(self, value, target):
        self.value, self.target = value, target

    def __index__(self):
        t, self.target = self.target, None
        if t is not None:
            try:
                (t.close if isinstance(t, Pool) else t.release)()
            except Exception:  # noqa: BLE001 - a live export refuses; the access then goes on as normal
                pass
        return self.value


def index(rd, n):
    return rd.pick([rd.between(-n - 2, n + 1), 0, -1, n, -n - 1, 2 ** 63, -2 ** 63 - 1])


def key(rd, n):
    """An int index or a slice, as the fuzzer picks."""
    if rd.chance(128):
        return index(rd, n)
    parts = [rd.pick([None, rd.between(-n - 2, n + 2)]) for _ in range(2)]
    step = rd.pick([None, 1, 2, -1, -2, 3, 0])
    return slice(parts[0], parts[1], step)


def byte_value(rd):
    return rd.pick([rd.byte(), rd.byte(), 256, -1, "a", 1.0, True])


def slice_len(s, n):
    return len(range(*s.indices(n)))


def run_ops(rd, obj, window, fixed_size, owner=None, readonly=False):
    """Applies ops to obj and to `window` (a function returning the model's bytearray window and a setter)."""
    for _ in range(rd.below(24)):
        get, put = window()
        n = len(get)
        op = rd.below(11)
        if op == 0:
            k = key(rd, n)
            got, want = outcome(lambda: obj[k]), outcome(lambda: get[k])
            if want[0] == "ok" and isinstance(want[1], bytearray):
                want = ("ok", bytes(want[1]))
            assert got == want and type(got[1]) is type(want[1]), (k, got, want)
        elif op == 1:
            i, v = index(rd, n), byte_value(rd)
            model = bytearray(get)
            got, want = outcome(lambda: obj.__setitem__(i, v)), outcome(lambda: model.__setitem__(i, v))
            if readonly:
                want = ("err", TypeError)
            assert got == want, (i, v, got, want)
            if got[0] == "ok":
                put(model)
        elif op == 2:
            k = key(rd, n)
            if isinstance(k, int) or k.step == 0:
                k = slice(k if isinstance(k, int) else None, None)
            span = slice_len(k, n)
            data = bytes(rd.byte() for _ in range(span if rd.chance(200) else rd.below(span + 3)))
            src = data if rd.chance(128) else list(data)
            model = bytearray(get)
            got = outcome(lambda: obj.__setitem__(k, src))
            if readonly or (not fixed_size and isinstance(src, list)):
                assert got == ("err", TypeError), got  # a View takes bytes-like data, as a memoryview does
            elif len(data) != span:
                assert got[0] == "err" and got[1] in (ValueError,), (k, len(data), span, got)  # size is fixed
            else:
                want = outcome(lambda: model.__setitem__(k, src))
                assert got == want, (k, got, want)
                if got[0] == "ok":
                    put(model)
        elif op == 3:
            sub = rd.pick([bytes([rd.byte()]), b"", bytes(get[1:3]), rd.byte(), 300, "a"])
            assert outcome(lambda: sub in obj) == outcome(lambda: sub in bytes(get)), sub
        elif op == 4:
            assert list(obj) == list(get) and len(obj) == n
            assert bytes(obj) == bytes(get) and bytes(memoryview(obj)) == bytes(get)
        elif op == 5 and fixed_size:
            k = key(rd, n)
            assert outcome(lambda: obj.__delitem__(k)) == ("err", TypeError)
        elif op == 6:
            # An index whose conversion releases the object: refused, nothing written.
            target = owner if owner is not None and rd.chance(128) else obj
            before = bytes(get)
            i = Releasing(rd.below(max(n, 1)), target)
            got = outcome(lambda: obj.__setitem__(i, 7))
            assert got == ("err", TypeError if readonly else ValueError) and bytes(get) == before, (got,)
            return "released"
        elif op == 7:
            m = memoryview(obj)
            assert outcome(obj.release) == ("err", BufferError)  # a live export keeps it
            assert bytes(m) == bytes(get)
            m.release()
        elif op == 8 and not fixed_size:
            sub = rd.pick([bytes([rd.byte()]), b"", bytes(get[1:3]), rd.byte()])
            start, end = rd.pick([None, rd.between(-n - 1, n + 1)]), rd.pick([None, rd.between(-n - 1, n + 1)])
            for name in ("find",):
                assert outcome(lambda: getattr(obj, name)(sub, start, end)) == outcome(
                    lambda: getattr(bytes(get), name)(sub, start, end)), (name, sub, start, end)
            pre = bytes(get[:rd.below(n + 2)])
            assert obj.startswith(pre) == bytes(get).startswith(pre)
            assert obj.endswith((b"zz", pre)) == bytes(get).endswith((b"zz", pre))
            assert obj.tobytes() == bytes(get) and obj == bytes(get)
        elif op == 9:
            obj.release()
            assert outcome(lambda: len(obj)) == ("err", ValueError)
            assert outcome(lambda: obj[0]) == ("err", ValueError)
            return "released"
        elif op == 10 and not fixed_size:
            return "seek"
    return None


def test_one_input(data):
    rd = Reader(data)
    if rd.chance(128):
        size = rd.below(40)
        base = bytearray(rd.byte() for _ in range(size))
        readonly = rd.chance(48)
        owner = bytes(base) if readonly else base
        off = rd.between(0, size + 1)
        length = rd.pick([None, rd.between(-1, size + 1)])
        got = outcome(lambda: View(owner, off, length))
        if not (0 <= off <= size) or (length is not None and (length < 0 or off + length > size)):
            assert got[0] == "err" and got[1] in (IndexError, ValueError), (off, length, size, got)
            return
        v = got[1]
        assert v.readonly == readonly and v.offset == off
        state = {"off": off, "len": size - off if length is None else length}

        def window():
            a, b = state["off"], state["off"] + state["len"]
            model = bytearray(owner[a:b])

            def put(new):
                assert not readonly
                base[a:b] = new  # same length: the View wrote through to the same bytes

            return model, put

        for _ in range(4):
            if readonly:
                i = rd.below(max(len(owner), 1))
                assert outcome(lambda: v.__setitem__(i, 1)) == ("err", TypeError)
            why = run_ops(rd, v, window, False, readonly=readonly)
            assert bytes(base) == bytes(owner) or readonly
            if why == "released":
                assert outcome(lambda: base.append(0)) == ("ok", None) or readonly
                return
            if why != "seek":
                break
            m = memoryview(v) if rd.chance(64) else None
            old = bytes(v)
            o2, l2 = rd.between(-1, size + 1), rd.pick([None, rd.between(-1, size + 1)])
            res = outcome(lambda: v.seek(o2, l2))
            bad = not (0 <= o2 <= size) or (l2 is not None and (l2 < 0 or o2 + l2 > size))
            assert (res[0] == "err") == bad, (o2, l2, size, res)
            if not bad:
                state["off"], state["len"] = o2, size - o2 if l2 is None else l2
            assert v.offset == state["off"] and len(v) == state["len"]
            if m is not None:
                assert bytes(m) == old  # a memoryview keeps showing the window it was made on
                m.release()
        if not readonly:
            assert outcome(lambda: base.append(0)) == ("err", BufferError)  # the View holds an export
        v.release()
        if not readonly:
            base.append(0)
    else:
        size, count = rd.between(1, 24), rd.between(1, 3)
        pool = Pool(size, count, zero=rd.chance(64), canary=rd.chance(64))
        block = pool.acquire()
        model = bytearray(bytes(block))

        def window():
            def put(new):
                model[:] = new

            return model, put

        why = run_ops(rd, block, window, True, owner=pool)
        if why != "released":
            assert bytes(block) == bytes(model)
            block.release()
        assert outcome(lambda: block[0]) == ("err", ValueError)
        pool.close()


if __name__ == "__main__":
    main(test_one_input, "fuzz_view")
