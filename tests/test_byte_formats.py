"""The bytes thrifty writes are the same on every machine: lz frames and frozen tables are little-endian and
versioned whatever the host (docs/format-lz.md, docs/format-frozen.md). The digests in golden/formats.json were
written on x86-64; `make test-arch` runs this file on armhf, arm64 (and the 3.13/3.14 legs run it too), so a
difference in word size, endianness, char signedness or alignment shows up here.

An intended change of the encoder's output (a new level tuning, a new format version) regenerates the file:
    .venv/bin/python tests/test_byte_formats.py --write
"""
import hashlib
import json
import pathlib
import random
import sys

from thrifty import FrozenMap, FrozenSet, lz

GOLDEN = pathlib.Path(__file__).with_name("golden") / "formats.json"


def _corpus() -> dict[str, bytes]:
    rng = random.Random(20261206)  # the stdlib's Mersenne Twister gives the same stream on every platform
    csv = b"".join(b"%d,s%d,%.2f\n" % (1700000000 + 10 * i, i % 4, 20 + rng.random()) for i in range(3000))
    words = [b"sensor", b"reading", b"alarm", b"ok", b"temperature", b"humidity", b"\x00\xff"]
    text = b" ".join(rng.choice(words) for _ in range(20000))
    noise = bytes(rng.getrandbits(8) for _ in range(5000))
    return {"csv": csv, "text": text, "noise": noise, "empty": b""}


def digests() -> dict[str, str]:
    out = {}
    for name, data in _corpus().items():
        for w in (8, 12):
            for level in (1, 6, 9):
                out[f"lz/{name}/w{w}/l{level}"] = hashlib.sha256(lz.compress(data, window_bits=w, level=level)).hexdigest()
    # Format version 4: frames made with a preset dictionary, and the trained dictionary itself (the trainer is
    # deterministic: the same samples give the same bytes on every host).
    rng = random.Random(16)
    records = [b'{"device":"env-%04d","seq":%d,"temp_c":%.2f,"status":"%s"}' % (rng.randrange(40), 1000 + i,
               18 + 8 * rng.random(), rng.choice([b"ok", b"warn"])) for i in range(400)]
    trained = lz.train_dictionary(records[:300], 1024)
    out["lz-dict/trained"] = hashlib.sha256(trained).hexdigest()
    for w in (10, 12):
        for level in (1, 6):
            frames = b"".join(lz.compress(r, window_bits=w, level=level, dictionary=trained) for r in records[300:])
            out[f"lz-dict/records/w{w}/l{level}"] = hashlib.sha256(frames).hexdigest()
    csv = _corpus()["csv"]
    out["lz-dict/csv/w8/l6"] = hashlib.sha256(lz.compress(csv[4096:], window_bits=8, dictionary=csv[:200])).hexdigest()
    out["lz-dict/noise/stored"] = hashlib.sha256(lz.compress(_corpus()["noise"], dictionary=b"x")).hexdigest()
    rng = random.Random(7)
    ints = [rng.randrange(-2**63, 2**63) for _ in range(2000)]
    strs = [f"key-{i}-{rng.random()}" for i in range(1000)]
    tables = {
        "fset/int": FrozenSet(ints),
        "fset/str": FrozenSet(strs),
        "fset/bytes": FrozenSet(s.encode() for s in strs),
        "fmap/str-float": FrozenMap({s: i * 0.25 for i, s in enumerate(strs)}),
        "fmap/int-str": FrozenMap({k: str(k) for k in ints[:500]}),
    }
    for name, t in tables.items():
        out[name] = hashlib.sha256(t.tobytes()).hexdigest()
    return out


def test_formats_match_the_golden_digests():
    want = json.loads(GOLDEN.read_text())
    got = digests()
    assert sorted(got) == sorted(want)
    differ = [k for k in want if got[k] != want[k]]
    assert not differ, f"bytes differ from those written on x86-64: {differ}"


def test_the_micropython_fixtures_are_what_make_fixtures_writes_now(tmp_path):
    """`make micropython` checks that MicroPython reads and writes the frames and tables in
    micropython/tests/fixtures byte for byte; those files must be what CPython's thrifty writes today, or a change of
    the encoder (a level's tuning) leaves them stale, which only that target (not part of `make test`) would see."""
    import importlib.util

    where = pathlib.Path(__file__).resolve().parent.parent / "micropython" / "tests"
    spec = importlib.util.spec_from_file_location("make_fixtures", where / "make_fixtures.py")
    make_fixtures = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_fixtures)
    make_fixtures.main(tmp_path)
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written, "make_fixtures.py wrote nothing"
    stale = [name for name in written if (where / "fixtures" / name).read_bytes() != (tmp_path / name).read_bytes()]
    assert stale == [], f"regenerate: python micropython/tests/make_fixtures.py micropython/tests/fixtures ({stale})"


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    GOLDEN.write_text(json.dumps(digests(), indent=1, sort_keys=True) + "\n")
