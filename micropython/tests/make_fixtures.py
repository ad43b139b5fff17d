"""Writes the fixtures the MicroPython test reads (run with CPython and thrifty installed; the output is committed):
frames written by CPython thrifty.lz and frozen tables written by CPython FrozenSet/FrozenMap, with the content
they must decode to. `make micropython` checks the committed files are what this script writes, so they cannot drift.

    python micropython/tests/make_fixtures.py micropython/tests/fixtures
"""
import pathlib
import sys

import thrifty
from thrifty import lz


def readings() -> bytes:
    """Sensor-log-like text: what a device would compress."""
    return "".join(f"{i},{20 + (i * 7) % 13 / 10:.1f},{40 + (i * 3) % 17},node{i % 4}\n" for i in range(600)).encode()


def adc16() -> bytes:
    """A 12-bit ADC's int16 samples (little-endian): a slow ramp and a saw of small steps, what a delta filter is for."""
    samples = [(2048 + (i * 3) % 700 - (i // 7) % 5) for i in range(1500)]
    return b"".join(v.to_bytes(2, "little", signed=True) for v in samples)


def main(out: pathlib.Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    data = readings()
    binary = bytes((i * 37 + (i >> 3)) & 0xFF for i in range(3000)) + bytes(500)
    files = {
        "readings.txt": data,
        "binary.bin": binary,
        "readings_w10.tflz": lz.compress(data),
        "readings_w8_l4_level1.tflz": lz.compress(data, window_bits=8, lookahead_bits=4, level=1),
        "readings_w12_nochecksum.tflz": lz.compress(data, window_bits=12, lookahead_bits=5, checksum=False),
        "binary_w6.tflz": lz.compress(binary, window_bits=6, lookahead_bits=3),
        "two_frames.tflz": lz.compress(b"first frame ") + lz.compress(b"second frame"),
        "adc16.bin": adc16(),
        "adc16_delta2.tflz": lz.compress(adc16(), filter="delta2"),  # format version 3: a filtered frame
        "readings_dict.tflz": lz.compress(data[:400], dictionary=data[400:1400]),  # version 4: a dictionary's
        "primes.tfset": thrifty.FrozenSet(p for p in range(2, 2000) if all(p % d for d in range(2, int(p**0.5) + 1))).tobytes(),
        "words.tfset": thrifty.FrozenSet(["alpha", "beta", "gamma", "delta", "\u00e9t\u00e9"]).tobytes(),
        "codes.tfmap": thrifty.FrozenMap({"ok": 200, "created": 201, "not found": 404, "teapot": 418}).tobytes(),
        "gains.tfmap": thrifty.FrozenMap({i: i / 8 for i in range(-50, 50)}).tobytes(),
        "names.tfmap": thrifty.FrozenMap({b"\x01": "one", b"\x02": "two", b"": "empty"}).tobytes(),
        "big.tfset": thrifty.FrozenSet([-(2**63), 2**63 - 1, 0, 2**40]).tobytes(),
    }
    for name, blob in files.items():
        (out / name).write_bytes(blob)


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1]))
