"""Type-checked by tests/test_typing.py (mypy --strict), never run by pytest: every public name used the way README
and docs/ show it, so a stub that disagrees with the documented API fails the suite."""
import array
import io
import mmap

import thrifty
from thrifty import (AllocationError, BudgetExceeded, CorruptData, FrozenMap, FrozenSet, Full, Interner,
                     ObjectPool, Pool, PoolExhausted, Ring, View, budget, count_allocs, iter_chunks, lines, lz,
                     no_alloc, parse_size, sizeof)

window: Ring[int] = Ring('h', maxlen=1024)
window.write(array.array('h', range(2000)))
window.append(-5)
print(len(window), window[0], window[-1])
print(window.min(), window.max(), round(window.mean(), 2))

allowed = FrozenSet(range(1000, 2000))
assert 1500 in allowed and 5 not in allowed and allowed == frozenset(range(1000, 2000))
fm = FrozenMap({"sensor-a": 1.0125, "sensor-b": 0.9981})
with open("/tmp/thrifty-typing-calib.frz", "wb") as f:
    f.write(fm.tobytes())
with open("/tmp/thrifty-typing-calib.frz", "rb") as f:
    calib = FrozenMap.frombuffer(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ))
x: float | None = fm.get("sensor-z")
assert calib["sensor-b"] == 0.9981 and calib.get("sensor-z") is None
known: set[str] = calib.keys() & ["sensor-a", "sensor-q"]
assert known == {"sensor-a"} and calib.keys() <= {"sensor-a", "sensor-b", "sensor-c"}

pool = Pool(block_size=64 * 1024, count=4)
with open(__file__, "rb", buffering=0) as f, pool.acquire() as block:
    errors = sum(1 for line in lines(f, block) if line.startswith(b"ERROR"))
with open(__file__, "rb", buffering=0) as f:
    n = sum(len(c) for c in iter_chunks(f, 4096))
packet = pool.acquire()
packet[0:4] = b"\x01\x02\x03\x04"
packet[4] = packet[0] ^ 0xFF
head: bytes = packet[:5]
assert head == b"\x01\x02\x03\x04\xfe" and 4 in packet and next(iter(packet)) == 1
packet.release()
header = View(b"GET /index HTTP/1.1")
header.seek(4, 6)
assert bytes(header) == b"/index"
readings = ObjectPool(factory=lambda: [0.0] * 16, size=8)
with readings.borrow() as row:
    row[0] = 21.5

data = b"".join(b"%d,s1,%.2f\n" % (1700000000 + 10 * i, 21 + i % 7 / 10) for i in range(1000))
blob = lz.compress(data, window_bits=8, lookahead_bits=4)
assert lz.decompress(blob, max_length=1 << 20) == data
with lz.open("/tmp/thrifty-typing-log.tlz", "wb", window_bits=9) as g:
    g.write(data)
with lz.open("/tmp/thrifty-typing-log.tlz") as g:
    print(next(iter(g)))
c = lz.Compressor(window_bits=8)
d = lz.Decompressor(window_bits=8)
assert d.decompress(c.compress(data) + c.flush()) == data

cache = {f"k{i}": [i * 0.5] * 10 for i in range(1000)}
s1: int = thrifty.sizeof(cache, deep=True)
s2: int = sizeof(cache, deep=True, exclusive=True)
labels = thrifty.Interner()
r = labels.intern(("sensor-01", "celsius"))
st: dict[str, int] = labels.stats()

with thrifty.budget("256 KiB"):
    pass
with count_allocs() as cnt:
    _ = [0] * 10
print(cnt.blocks, cnt.bytes, cnt.freed, cnt.peak)
with no_alloc():
    pass
with budget(1 << 20):
    pass
size: int = parse_size("64K")
errs: tuple[type[Exception], ...] = (AllocationError, BudgetExceeded, CorruptData, Full, PoolExhausted)
print(thrifty.__version__, thrifty.__all__)
with lz.open("/tmp/thrifty-typing-log.tlz", "rt", encoding="ascii") as t:
    first: str = t.readline()
mode = "rb"
with lz.open("/tmp/thrifty-typing-log.tlz", mode) as u:
    pass
