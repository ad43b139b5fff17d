"""The other direction (run by `make micropython` with CPython thrifty, after test_thrifty.py ran under MicroPython):
the frames the MicroPython module wrote decode with CPython thrifty to the fixture content, and are byte for byte
the frames CPython writes with the same settings; the committed fixtures are what make_fixtures.py writes now.

    python check_from_micropython.py FIXTURES_DIR OUT_DIR
"""
import pathlib
import sys
import tempfile

from thrifty import lz

import make_fixtures


def main(fix: pathlib.Path, out: pathlib.Path) -> None:
    text, binary = (fix / "readings.txt").read_bytes(), (fix / "binary.bin").read_bytes()
    expect = {
        "from_micropython_w8.tflz": (text, lz.compress(text, window_bits=8, lookahead_bits=4)),
        "from_micropython_w12.tflz": (text, lz.compress(text, window_bits=12, lookahead_bits=5, level=9)),
        "from_micropython_binary.tflz": (binary, lz.compress(binary, window_bits=10, checksum=False)),
    }
    bad = []
    for name, (content, cpython_frame) in expect.items():
        frame = (out / name).read_bytes()
        if lz.decompress(frame) != content:
            bad.append(f"{name}: CPython thrifty decodes it to other bytes")
        if frame != cpython_frame:
            bad.append(f"{name}: not the frame CPython thrifty writes with the same settings")
    with tempfile.TemporaryDirectory() as tmp:
        make_fixtures.main(pathlib.Path(tmp))
        for p in sorted(pathlib.Path(tmp).iterdir()):
            if (fix / p.name).read_bytes() != p.read_bytes():
                bad.append(f"fixture {p.name} differs from what make_fixtures.py writes now")
    for line in bad:
        print("FAIL:", line)
    print(f"CPython thrifty read {len(expect)} frames written by MicroPython; {len(bad)} problems")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]))
