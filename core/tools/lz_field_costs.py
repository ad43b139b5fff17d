"""Where thrifty.lz's bits go at W=8, L=4 on the parts of the bench's unseen corpus, and how far better codes could go.

For format design, not for the bench's tables. Each part is parsed with gen_lz_codes.py's reference parse (the one the
fixed codes were trained with), and the bits are summed per field (literals, run/match/offset symbols, their extra
bits) under format version 2's fixed codes. Beside that: the same parse under codes trained on the part itself (the
entropy of each field's symbols: a lower bound for any static code chosen per frame, the cost of sending the code
not counted), thrifty.lz's own encoder at levels 1 and 9, and heatshrink2 8/4. It answers "would codes chosen per
frame reach the level-1 target?" with a measurement rather than a guess.

    .venv/bin/python core/tools/lz_field_costs.py [part ...]     (parts: json-logs telemetry shared-lib prose)

Needs the bench extras (heatshrink2).
"""
import json
import math
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent.parent / "bench")]

import bench_lz  # noqa: E402
import gen_lz_codes as g  # noqa: E402
import heatshrink2  # noqa: E402

from thrifty import lz  # noqa: E402

W, LOOK = 8, 4


def entropy_bits(freq: list[int]) -> float:
    total = sum(freq)
    return -sum(c * math.log2(c / total) for c in freq if c)


def field_costs(data: bytes) -> tuple[dict[str, int], dict[str, float], int, int]:
    """(bits per field under the fixed codes, in-sample entropy per coded field, literals, matches)."""
    counts = json.loads(g.COUNTS.read_text())["counts"]
    lens = {k: g.lengths(v, g.LITERAL_MAX_LEN if k in ("text", "numeric") else g.MAX_LEN) for k, v in counts.items()}
    bits = dict.fromkeys(("literals", "run", "match", "offset", "extra bits"), 0)
    f_lit, f_run, f_off = [0] * 256, [0] * g.RUN_SYMBOLS, [0] * (2 * W)
    f_match = [[0] * g.MATCH_SYMBOLS for _ in range(g.MATCH_CONTEXTS)]
    pos, literals, matches, long_before = 0, 0, 0, False
    for lit, mode, kind, length, dist in g.parse(data, W, LOOK, [lens["text"], lens["numeric"]]):
        run, pos = data[pos:pos + lit], pos + lit
        literals += lit
        symbol = g.run_symbol(lit, mode)
        bits["run"] += lens["run"][symbol]
        f_run[symbol] += 1
        if lit:
            bits["extra bits"] += g.slot(lit - 1)[1]
        code = lens["text"] if mode == 0 else lens["numeric"] if mode == 1 else None
        bits["literals"] += 8 * lit if code is None else sum(code[c] for c in run)
        for c in run:
            f_lit[c] += 1
        if kind is not None:
            context = g.match_context(lit, long_before)
            symbol = g.match_symbol(kind, length)
            bits["match"] += lens[f"match{context}"][symbol]
            f_match[context][symbol] += 1
        if kind == "e":
            slot, extra = g.slot(dist - 1)
            bits["offset"] += lens[f"offset{W}"][slot]
            bits["extra bits"] += g.slot(length - 2)[1] + extra
            f_off[slot] += 1
        elif kind == "r":
            bits["extra bits"] += g.slot(length - 1)[1]
        if kind in ("e", "r"):
            pos += length
            matches += 1
        long_before = kind in ("e", "r") and length == 1 << LOOK
    assert pos == len(data)
    ideal = {"literals": entropy_bits(f_lit), "run": entropy_bits(f_run),
             "match": sum(entropy_bits(f) for f in f_match), "offset": entropy_bits(f_off),
             "extra bits": bits["extra bits"]}
    return bits, ideal, literals, matches


def main() -> None:
    parts = bench_lz.unseen_corpus(256 * 1024)
    for name in sys.argv[1:] or list(parts):
        data = parts[name]
        bits, ideal, literals, matches = field_costs(data)
        fixed, best = sum(bits.values()) / 8, sum(ideal.values()) / 8
        hs = len(heatshrink2.compress(data, window_sz2=W, lookahead_sz2=LOOK))
        one = len(lz.compress(data, window_bits=W, lookahead_bits=LOOK, level=1))
        nine = len(lz.compress(data, window_bits=W, lookahead_bits=LOOK, level=9))
        print(f"{name}: {len(data)} bytes; the reference parse has {literals} literals and {matches} matches")
        print(f"  ratio / heatshrink2 8/4's ({len(data) / hs:.3f}): thrifty.lz level 1 {hs / one:.3f}x, "
              f"level 9 {hs / nine:.3f}x; reference parse, fixed codes {hs / fixed:.3f}x, "
              f"codes trained on this part {hs / best:.3f}x")
        for field, b in bits.items():
            print(f"  {field:10s} fixed codes {b / 8:8.0f} B ({100 * b / 8 / fixed:4.1f}%)   "
                  f"trained on the part {ideal[field] / 8:8.0f} B")


if __name__ == "__main__":
    main()
