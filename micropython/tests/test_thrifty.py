# The thrifty MicroPython module under MicroPython (run by `make micropython`):
#     micropython test_thrifty.py FIXTURES_DIR OUT_DIR [NATMOD|- [filters]]
# Ring semantics, Pool, lz round trips, frames and frozen tables written by CPython thrifty (FIXTURES_DIR, from
# make_fixtures.py), bad input raising ValueError; the frames it writes go to OUT_DIR, where
# check_from_micropython.py decodes them with CPython thrifty. Without NATMOD the module under test is the user C
# module built into the firmware, `thrifty`; NATMOD names a natmod to test instead: `make micropython` copies
# thrifty.mpy onto MICROPYPATH as thrifty_natmod.mpy (a firmware's built-in module wins over a file of the same
# name), run_on_board.py puts it on a board as thrifty.mpy and passes the arguments as THRIFTY_TEST_ARGV. "filters"
# says the build has lz's numeric filters (TF_LZ_FILTERS=1): it must then read filtered frames, else refuse them.
import sys
import array

ARGV = globals().get("THRIFTY_TEST_ARGV") or sys.argv
FIX, OUT = ARGV[1], ARGV[2]
NATMOD = ARGV[3] if len(ARGV) > 3 and ARGV[3] != "-" else None
FILTERS = len(ARGV) > 4 and ARGV[4] == "filters"  # the build under test has lz's numeric filters
thrifty = __import__(NATMOD or "thrifty")
lz = thrifty.lz
failures = []
passed = 0


def check(cond, what):
    global passed
    if cond:
        passed += 1
    else:
        failures.append(what)
        print("FAIL:", what)


def raises(exc, fn, *args, **kw):
    try:
        fn(*args, **kw)
    except exc as e:
        return str(e)
    return None


def read(name):
    with open(FIX + "/" + name, "rb") as f:
        return f.read()


def write(name, data):
    with open(OUT + "/" + name, "wb") as f:
        f.write(data)


# ---- which module ------------------------------------------------------------------------------------------
where = getattr(thrifty, "__file__", "")  # a natmod has one (the .mpy); a built-in module has none
check(where.endswith(".mpy") if NATMOD else where == "", "the module under test: natmod %s" % NATMOD)
check(repr(thrifty.Ring).endswith("'Ring'>") and repr(thrifty.lz.Decompressor).endswith("'Decompressor'>"),
      "type names")
check(lz.__name__ == "lz" and "Compressor" in dir(lz), "thrifty.lz is a module")

# ---- Ring ------------------------------------------------------------------------------------------------
r = thrifty.Ring("h", [1, 2, 3], maxlen=4)
check(len(r) == 3 and list(r) == [1, 2, 3], "Ring from an iterable")
r.append(4)
r.append(5)  # full: the oldest falls off, as deque(maxlen=4) does
check(list(r) == [2, 3, 4, 5] and r.full, "append on a full Ring drops the oldest")
r.appendleft(1)  # ... and appendleft drops the newest
check(list(r) == [1, 2, 3, 4], "appendleft on a full Ring drops the newest")
check(r.pop() == 4 and r.popleft() == 1 and list(r) == [2, 3], "pop and popleft")
check(r[0] == 2 and r[-1] == 3, "indexing from both ends")
r[0] = -7
check(r[0] == -7, "item assignment")
check(raises(IndexError, lambda: r[2]) is not None, "index out of range raises IndexError")
check((r.maxlen, r.typecode, r.itemsize, r.overflow) == (4, "h", 2, "drop"), "attributes")
check(raises(OverflowError, r.append, 40000) is not None and list(r) == [-7, 3], "an int that does not fit")
check(raises(TypeError, r.append, "x") is not None, "a str into Ring('h') raises TypeError")
r.clear()
check(len(r) == 0 and not r, "clear")
check(raises(IndexError, r.pop) is not None and raises(IndexError, r.popleft) is not None, "pop from empty")

w = thrifty.Ring("h", [10, 20, 30, 40], maxlen=4)
check((w.min(), w.max(), w.sum(), w.mean()) == (10, 40, 100, 25.0), "min max sum mean")
check(w.write(array.array("h", [50, 60])) == 2 and list(w) == [30, 40, 50, 60], "write drops the oldest")
check(w.write(array.array("h", range(9))) == 9 and list(w) == [5, 6, 7, 8], "write of more than maxlen")
out = array.array("h", [0, 0, 0])
check(w.readinto(out) == 3 and list(out) == [5, 6, 7] and list(w) == [8], "readinto moves from the front")
check(raises(TypeError, w.write, array.array("i", [1])) is not None, "write of another item format")
check(w.tobytes() == bytes(array.array("h", [8])), "tobytes")

strict = thrifty.Ring("d", maxlen=2, overflow="raise")
strict.append(1.5)
strict.append(2.5)
check(raises(IndexError, strict.append, 3.5) is not None and list(strict) == [1.5, 2.5], "overflow='raise'")
check(strict.write(array.array("d", [9.0])) == 0, "write into a full 'raise' Ring takes nothing")
check(strict.mean() == 2.0 and strict.max() == 2.5, "float reductions")
f = thrifty.Ring("f", [0.5] * 8, maxlen=8)
check(f.sum() == 4.0 and f.mean() == 0.5, "float32 sum and mean")
q = thrifty.Ring("q", [2**62, 2**62, 2**62], maxlen=3)
check(q.sum() == 3 * 2**62, "int64 sum does not overflow")
lows = thrifty.Ring("q", [-(2**63), -(2**63), 5], maxlen=3)
check(lows.sum() == -(2**64) + 5 and lows.min() == -(2**63) and lows.max() == 5, "int64 extremes: sum, min, max")
check(thrifty.Ring("Q", [2**64 - 1, 1], maxlen=2).sum() == 2**64, "uint64 sum past 64 bits")
check(repr(thrifty.Ring("h", [1, -2], maxlen=3)) == "Ring('h', [1, -2], maxlen=3)", "repr")
b = thrifty.Ring("B", maxlen=8)
check(b.write(b"\x01\x02\x03") == 3 and list(b) == [1, 2, 3], "bytes into Ring('B')")
check(raises(ValueError, thrifty.Ring, "h") is not None, "maxlen is required")
check(raises(ValueError, thrifty.Ring, "z", maxlen=2) is not None, "unknown typecode")
check(raises(ValueError, thrifty.Ring, "h", maxlen=0) is not None, "maxlen 0")
check(raises(ValueError, thrifty.Ring, "h", maxlen=2, overflow="block") is not None, "bad overflow")
check(raises(ValueError, thrifty.Ring("h", maxlen=1).mean) is not None, "mean of an empty Ring")

# ---- lz --------------------------------------------------------------------------------------------------
text = read("readings.txt")
binary = read("binary.bin")
for name, content in (
    ("readings_w10.tflz", text),
    ("readings_w8_l4_level1.tflz", text),
    ("readings_w12_nochecksum.tflz", text),
    ("binary_w6.tflz", binary),
):
    frame = read(name)
    check(lz.decompress(frame) == content, "decompress a CPython frame: " + name)
    d = lz.Decompressor()
    got = b"".join(d.decompress(frame[i : i + 37]) for i in range(0, len(frame), 37))
    check(got == content and d.eof and d.unused_data == b"", "Decompressor on a CPython frame: " + name)
check(lz.decompress(read("two_frames.tflz")) == b"first frame second frame", "concatenated frames")

# A CPython frame with a numeric filter (format version 3): read by a build with the filters (TF_LZ_FILTERS=1;
# `make micropython` builds such a natmod and passes "filters"), refused by its version in a size build (the default
# at -Os), which compiles the filters out.
adc, filtered = read("adc16.bin"), read("adc16_delta2.tflz")
if FILTERS:
    check(lz.decompress(filtered) == adc, "decompress a filtered CPython frame (delta2)")
    d = lz.Decompressor()
    got = b"".join(d.decompress(filtered[i : i + 5]) for i in range(0, len(filtered), 5))
    check(got == adc and d.eof, "Decompressor on a filtered CPython frame, 5 bytes at a time")
else:
    why = raises(ValueError, lz.decompress, filtered)
    check(why is not None and "format version" in why, "a build without filters refuses a filtered frame: %s" % why)
    why = raises(ValueError, lz.Decompressor().decompress, filtered)
    check(why is not None and "format version" in why, "so does Decompressor: %s" % why)

# A CPython frame made with a preset dictionary (format version 4): this binding takes no dictionary, so every build
# refuses it, saying why.
with_dict = read("readings_dict.tflz")
why = raises(ValueError, lz.decompress, with_dict)
check(why is not None and "preset dictionary" in why, "a frame made with a dictionary is refused: %s" % why)
why = raises(ValueError, lz.Decompressor().decompress, with_dict)
check(why is not None and "preset dictionary" in why, "so does Decompressor: %s" % why)

# The same core writes the same frames: byte-identical to CPython's (the fixtures).
check(lz.compress(text) == read("readings_w10.tflz"), "compress writes CPython's frame (W=10)")
check(lz.compress(text, window_bits=8, lookahead_bits=4, level=1) == read("readings_w8_l4_level1.tflz"),
      "compress writes CPython's frame (W=8, level 1)")
check(lz.compress(binary, window_bits=6, lookahead_bits=3) == read("binary_w6.tflz"), "compress W=6")

for data in (b"", b"a", b"abc" * 1000, bytes(range(256)) * 4):
    check(lz.decompress(lz.compress(data)) == data, "round trip of %d bytes" % len(data))
made = lz.compress(b"key" * 20)
check({made: 1}.get(bytes(bytearray(made))) == 1 and hash(made) == hash(bytes(bytearray(made))),
      "a compressed frame hashes as the same bytes made another way")
c = lz.Compressor(window_bits=8, lookahead_bits=4)
stream = b"".join(c.compress(text[i : i + 100]) for i in range(0, len(text), 100)) + c.flush()
check(lz.decompress(stream) == text, "Compressor in 100-byte pieces")
check(stream == lz.compress(text, window_bits=8, lookahead_bits=4), "streamed frame = one-shot frame")
check(raises(ValueError, c.compress, b"x") is not None, "Compressor after flush")
write("from_micropython_w8.tflz", stream)
write("from_micropython_w12.tflz", lz.compress(text, window_bits=12, lookahead_bits=5, level=9))
write("from_micropython_binary.tflz", lz.compress(binary, window_bits=10, checksum=False))

d = lz.Decompressor(window_bits=10)
first = d.decompress(read("readings_w10.tflz") + b"tail", 100)
check(len(first) == 100 and not d.eof and len(d.unconsumed_tail) > 0, "max_length leaves an unconsumed tail")
rest = d.flush()
check(first + rest == text and d.eof and d.unused_data == b"tail", "flush and unused_data")

frame = read("readings_w10.tflz")
check("corrupt" in (raises(ValueError, lz.decompress, b"XXXX" + frame[4:]) or ""), "bad magic")
check("truncated" in (raises(ValueError, lz.decompress, frame[:-10]) or ""), "truncated frame")
bad = bytearray(frame)
bad[len(bad) // 2] ^= 0x55
check(raises(ValueError, lz.decompress, bytes(bad)) is not None, "a flipped byte")
check(raises(ValueError, lz.decompress, frame[:4] + b"\x01" + frame[5:]) is not None, "another version")
check(raises(ValueError, lz.decompress, text, max_length=10) is not None, "not a frame at all")
check(raises(ValueError, lz.decompress, frame, max_length=10) is not None, "max_length exceeded")
check(raises(ValueError, lz.compress, b"x", window_bits=16) is not None, "window_bits out of range")
check(raises(ValueError, lz.compress, b"x", level=10) is not None, "level out of range")
check(raises(ValueError, lz.Decompressor(window_bits=8).decompress, frame) is not None, "window too large")

# ---- frozen tables written by CPython ----------------------------------------------------------------------
primes = thrifty.FrozenSet.frombuffer(read("primes.tfset"))
check(len(primes) == 303 and 1999 in primes and 2 in primes and 1 not in primes and 1000 not in primes, "int set")
check("2" not in primes and b"2" not in primes, "a str or bytes key in an int set")
words = thrifty.FrozenSet.frombuffer(read("words.tfset"))
check("gamma" in words and "\u00e9t\u00e9" in words and "omega" not in words and b"gamma" not in words, "str set")
codes = thrifty.FrozenMap.frombuffer(read("codes.tfmap"))
check(codes["teapot"] == 418 and codes.get("ok") == 200 and codes.get("gone", -1) == -1 and len(codes) == 4, "map")
check(raises(KeyError, lambda: codes["gone"]) is not None, "KeyError for a missing key")
gains = thrifty.FrozenMap.frombuffer(read("gains.tfmap"))
check(gains[-8] == -1.0 and gains[49] == 49 / 8 and 50 not in gains, "int -> float map")
names = thrifty.FrozenMap.frombuffer(read("names.tfmap"))
check(names[b"\x02"] == "two" and names[b""] == "empty" and "x" not in names, "bytes -> str map")
big = thrifty.FrozenSet.frombuffer(read("big.tfset"))
check(-(2**63) in big and 2**63 - 1 in big and 2**63 not in big and 2**40 in big, "int64 extremes")
table = read("codes.tfmap")
check(raises(ValueError, thrifty.FrozenSet.frombuffer, table) is not None, "a map block as a FrozenSet")
check(raises(ValueError, thrifty.FrozenMap.frombuffer, table[:-1]) is not None, "a cut block")
flipped = bytearray(table)
flipped[60] ^= 1
msg = raises(ValueError, thrifty.FrozenMap.frombuffer, bytes(flipped))
check(msg is not None and "valid" in msg, "a flipped byte in a table")
check(raises(TypeError, thrifty.FrozenMap.frombuffer, bytearray(table)) is not None, "a writable buffer")

# ---- Pool ----------------------------------------------------------------------------------------------------
pool = thrifty.Pool(16, 3)
check((pool.block_size, pool.count, pool.closed) == (16, 3, False), "Pool attributes")
b = pool.acquire()
check(len(b) == 16 and not b.released and bytes(b) == bytes(16), "a fresh block: 16 zero bytes")
b[0] = 0x41
b[-1] = 0x5A
b[1:4] = b"bcd"
check(b[0] == 0x41 and b[15] == 0x5A and b[1:4] == b"bcd", "item and slice access")
check(b[-1:] == b"Z" and b[:2] == b"Ab" and b[14:99] == bytes(1) + b"Z" and b[5:2] == b"", "slices clamp as bytes do")
check(raises(NotImplementedError, lambda: b[::2]) is not None, "a slice with a step")
mv = memoryview(b)
mv[4] = 0x65
check(b[4] == 0x65 and bytes(mv[:5]) == b"Abcde", "a memoryview writes through")
del mv


def setitem(obj, i, v):
    obj[i] = v


def setslice(obj, i, j, v):
    obj[i:j] = v


def delitem(obj, i):
    del obj[i]


check(raises(ValueError, setitem, b, 0, 256) is not None, "a byte out of range")
check("out of range" in (raises(IndexError, lambda: b[16]) or ""), "an index out of range")
check(raises(ValueError, setslice, b, 0, 2, b"xyz") is not None and b[0:2] == b"Ab",
      "a slice assignment that would resize, refused")
check(raises(TypeError, delitem, b, 0) is not None, "item deletion")
c = pool.acquire()
d = pool.acquire()
msg = raises(thrifty.PoolExhausted, pool.acquire)
check(msg is not None and "3 blocks" in msg, "PoolExhausted names the count")
check(issubclass(thrifty.PoolExhausted, MemoryError), "PoolExhausted is a MemoryError")
c.release()
check(c.released and raises(ValueError, c.release) is not None, "releasing twice raises ValueError")
check(raises(ValueError, len, c) is not None and raises(ValueError, bytes, c) is not None, "a released block")
pool.release(d)
again = pool.acquire()
check(again is d, "the last block released is lent next, the same object")
check(pool.stats() == {"block_size": 16, "count": 3, "in_use": 2, "high_water": 3, "acquired": 4, "exhausted": 1},
      "stats")
other = thrifty.Pool(16, 1)
check(raises(ValueError, other.release, b) is not None, "a block of another pool")
check(raises(TypeError, pool.release, bytearray(16)) is not None, "release of something that is not a Block")
with pool.acquire() as e:
    e[0] = 7
check(e.released, "a block as a context manager")
pool.close()
check(pool.closed and b.released and raises(ValueError, pool.acquire) is not None, "close releases every block")
pool.close()  # a second close does nothing, as for a file
with thrifty.Pool(8, 2, zero=True) as z:
    blk = z.acquire()
    blk[:] = b"secret!!"
    blk.release()
    check(bytes(z.acquire()) == bytes(8), "zero=True: a block reads as zeros after release")
check(z.closed, "a Pool as a context manager closes")
canary = thrifty.Pool(8, 2, canary=True)
check(len(canary.acquire()) == 8, "canary=True")
arena = bytearray(64)
caller = thrifty.Pool(8, 4, buffer=arena)
blk = caller.acquire()
blk[:] = b"in place"
check(bytes(arena[:8]) == b"in place", "a Pool over a caller's buffer writes into it")
check(raises(ValueError, thrifty.Pool, 8, 9, buffer=arena) is not None, "a buffer too small")
check(raises(ValueError, thrifty.Pool, 8, 2, buffer=memoryview(arena)[1:33]) is not None, "a misaligned buffer")
check(raises(TypeError, thrifty.Pool, 8, 2, buffer=b"x" * 64) is not None, "a read-only buffer")
arena.extend(b"x" * 200)  # the bytearray grows, and moves unless the heap had room right after it
try:
    blk2 = caller.acquire()
    blk2[:] = b"still in"
    kept = bytes(arena[8:16]) == b"still in"  # it grew in place: the pool still works on it
except RuntimeError:
    kept = True  # it moved: the pool refuses rather than write where the buffer was
check(kept, "a resized buffer: still the buffer, or refused")
try:
    import micropython

    lockable = hasattr(micropython, "heap_lock")
except ImportError:
    lockable = False
if lockable:
    quiet = thrifty.Pool(8, 2)
    locked_ok = blk = None  # globals made before the lock: storing a new one could grow the dict
    micropython.heap_lock()
    try:
        blk = quiet.acquire()
        blk[0] = 1
        quiet.release(blk)
        locked_ok = True
    except MemoryError:
        locked_ok = False
    micropython.heap_unlock()
    check(locked_ok, "acquire, item access and release with the heap locked")
check(raises(ValueError, thrifty.Pool, 0, 4) is not None and raises(ValueError, thrifty.Pool, 16, 0) is not None,
      "Pool(0, 4) and Pool(16, 0)")

print("%d checks, %d failed" % (passed + len(failures), len(failures)))
sys.exit(1 if failures else 0)
