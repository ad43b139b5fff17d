"""Generates core/src/lz_codes.h: the fixed prefix codes of thrifty.lz format version 2.

A coded frame is a list of sequences: a literal run, then a match. Version 2 codes each field as a *symbol* of a
fixed canonical prefix code, followed by extra bits (see docs/format-lz.md):

- two literal codes over the 256 byte values: the text code (from the sources of a few standard-library packages
  plus numeric log lines) and the numeric code (from numeric log lines alone: digits and separators);
- the run code: the run's length and how its bytes are coded (text code, numeric code or plain bytes);
- the match codes, one per context (match_context): explicit or rep, the length, or the end of the frame;
- the offset codes, one per window size W = 6..15.

Numbers (run lengths, match lengths, offsets) are cut into *slots*: 0..3 alone, then two slots per power of two,
the rest as extra bits. The symbol frequencies come from parsing a sample that is *not* the benchmark corpus (the
sources of a few standard-library packages, compiled extension modules from lib-dynload, and numeric log lines)
with a reference greedy parse with one step of look-ahead, much like the encoder's default level. Every symbol gets a
code (frequencies are smoothed), so any valid stream can be written.

The symbol counts of that training are committed (core/tools/lz_code_counts.json), because the sample depends on
the Python installation it is read from: the tables are built from the counts, so they come out the same anywhere.
    python core/tools/gen_lz_codes.py > core/src/lz_codes.h                    the tables, from the counts
    python core/tools/gen_lz_codes.py --train > core/tools/lz_code_counts.json  new counts (about 10 s); a new
                                                                               format version if the tables change
"""
import heapq
import json
import pathlib
import platform
import sys
import sysconfig

COUNTS = pathlib.Path(__file__).with_name("lz_code_counts.json")
MAX_LEN = 15  # longest codeword; the decoder peeks this many bits
LITERAL_MAX_LEN = 12  # longest literal codeword
MODES = 3  # how a run's bytes are coded: 0 text code, 1 numeric code, 2 plain bytes
SAMPLE = 192 * 1024  # bytes of each kind


def slot(v: int) -> tuple[int, int]:
    """(slot, extra bits) of v >= 0: 0..3 are their own slots; then 2 slots per power of two."""
    if v < 4:
        return v, 0
    k = v.bit_length() - 1
    return 2 * k + ((v >> (k - 1)) & 1), k - 1


def log_lines(n: int) -> bytes:
    """Numeric log lines, e.g. "2024-05-01 12:00:03,417 node2,21.63,44.9\n"."""
    return "".join(f"2024-05-{d % 28 + 1:02d} {d % 24:02d}:{d * 7 % 60:02d}:{d * 13 % 60:02d},{d * 37 % 1000:03d} "
                   f"node{d % 5},{20 + d * 0.37 % 9:.2f},{40 + d * 1.3 % 20:.1f}\n" for d in range(n)).encode()


def package_sources() -> bytes:
    std = pathlib.Path(sysconfig.get_paths()["stdlib"])
    return b"".join(p.read_bytes() for pkg in ("email", "http", "json", "logging", "xml")
                    for p in sorted((std / pkg).rglob("*.py")))


def byte_counts(data: bytes) -> list[int]:
    freq = [0] * 256
    for b in data:
        freq[b] += 1
    return freq


def sample() -> dict[str, bytes]:
    text = package_sources()
    dyn = pathlib.Path(sysconfig.get_paths()["platstdlib"]) / "lib-dynload"
    mods = sorted(dyn.glob("*.so"), key=lambda p: p.stat().st_size, reverse=True)[1:9]  # skip the largest (tables)
    blob = b"".join(p.read_bytes() for p in sorted(mods))
    mid = len(blob) // 3
    parts = {"text": text[len(text) // 2:][:SAMPLE], "binary": blob[mid:mid + SAMPLE],
             "numeric": log_lines(20000)[:SAMPLE]}
    short = [name for name, data in parts.items() if len(data) < SAMPLE]
    if short:  # e.g. a venv, which has no lib-dynload of its own: train with the base interpreter
        sys.exit(f"gen_lz_codes.py: the {', '.join(short)} sample is short of {SAMPLE} bytes in this installation")
    return parts


def gamma_bits(v: int, kmax: int) -> int:
    k = v.bit_length() - 1
    return 2 * k + (1 if k < kmax else 0)


def run_mode(run: bytes, literal_lens: list[list[int]]) -> int:
    """The cheapest way to code a run's bytes (a MODES value)."""
    costs = [sum(lens[b] for b in run) for lens in literal_lens] + [8 * len(run)]
    return costs.index(min(costs))


def parse(data: bytes, w: int, l: int, literal_lens: list[list[int]]):
    """Yields (lit, mode, kind, length, dist) per sequence: kind 'e' explicit, 'r' rep, None for a full run."""
    window, maxlen, hb, n = 1 << w, 1 << l, 2 if w <= 9 else 3, len(data)
    head: dict[bytes, int] = {}
    prev = [-1] * n
    inserted = 0

    def insert_to(i: int) -> None:
        nonlocal inserted
        while inserted < i and inserted + hb <= n:
            key = data[inserted:inserted + hb]
            prev[inserted] = head.get(key, -1)
            head[key] = inserted
            inserted += 1

    def common(a: int, b: int, m: int) -> int:
        k = 0
        while k < m and data[a + k] == data[b + k]:
            k += 1
        return k

    def best(i: int, rep: int):
        m = min(maxlen, n - i)
        choice = (0, 0, 0, None)  # gain, len, dist, kind
        if rep and rep <= min(i, window):
            k = common(i - rep, i, m)
            if k:
                choice = (8 * k - 2 - gamma_bits(k, l), k, rep, "r")
        if m < hb:
            return choice
        insert_to(i)
        p, depth = head.get(data[i:i + hb], -1), 8
        while p >= 0 and depth and i - p <= window:
            d = i - p
            if d != rep:
                k = common(p, i, m)
                if k >= 2:
                    far = d - 1 >= 1 << (w * 3 // 4)
                    cost = 2 + (w if far else w * 3 // 4) + gamma_bits(k - 1, l - 1) + 1
                    if 8 * k - cost > choice[0]:
                        choice = (8 * k - cost, k, d, "e")
            p, depth = prev[p], depth - 1
        return choice

    i, lit, rep = 0, 0, 0
    while i < n:
        c = best(i, rep)
        if c[3] and c[1] < maxlen and i + 1 < n:
            nxt = best(i + 1, rep)
            if nxt[0] > c[0]:
                c = (0, 0, 0, None)
        if not c[3] or c[0] < 4:
            i, lit = i + 1, lit + 1
            if lit == window:
                yield lit, 0, None, 0, 0
                lit = 0
            continue
        yield lit, run_mode(data[i - lit:i], literal_lens), c[3], c[1], c[2]
        rep, lit, i = c[2], 0, i + c[1]
    yield lit, run_mode(data[n - lit:], literal_lens), "end", 0, 0


def lengths(freq: list[int], max_len: int = MAX_LEN) -> list[int]:
    """Length-limited Huffman code lengths (every symbol at least frequency 1)."""
    scale = 1
    while True:
        f = [max(1, c // scale) for c in freq]
        heap = [(c, i, (i,)) for i, c in enumerate(f)]
        heapq.heapify(heap)
        depth = [0] * len(f)
        serial = len(f)
        while len(heap) > 1:
            c1, _, a = heapq.heappop(heap)
            c2, _, b = heapq.heappop(heap)
            for s in a + b:
                depth[s] += 1
            heapq.heappush(heap, (c1 + c2, serial, a + b))
            serial += 1
        if max(depth) <= max_len:
            return depth
        scale *= 2


RUN_SYMBOLS = 1 + MODES * 30  # lit 0, then (slot of lit - 1, mode) for lit - 1 < 2^15
MATCH_SYMBOLS = 16 + 16 + 1  # explicit (slot of len - 2), rep (slot of len - 1), end; lengths <= 2^8
MATCH_END = 32
MATCH_CONTEXTS = 5


def match_context(lit: int, long_before: bool) -> int:
    """Which match code: right after a match as long as the lookahead allows (its continuation, often a rep, is
    likely), right after another match, or after a run of 1, 2, or 3+ literals (short runs and short matches go
    together; after one changed byte in a repeating row, a rep of the row's period is the likeliest thing)."""
    if lit == 0:
        return 0 if long_before else 1
    return 1 + min(lit, 3)


def run_symbol(lit: int, mode: int) -> int:
    return 0 if lit == 0 else 1 + MODES * slot(lit - 1)[0] + mode


def match_symbol(kind: str, length: int) -> int:
    if kind == "e":
        return slot(length - 2)[0]
    if kind == "r":
        return 16 + slot(length - 1)[0]
    return MATCH_END


def train() -> dict:
    """The symbol counts of every code, from the reference parse of the sample."""
    parts = sample()
    text_f = byte_counts(package_sources() + log_lines(20000))
    numeric_f = byte_counts(log_lines(40000))
    literal_lens = [lengths(text_f, LITERAL_MAX_LEN), lengths(numeric_f, LITERAL_MAX_LEN)]
    run_f = [0] * RUN_SYMBOLS
    match_f = [[0] * MATCH_SYMBOLS for _ in range(MATCH_CONTEXTS)]
    off_f = {w: [0] * (2 * w) for w in range(6, 16)}
    # Run and match codes: the window sizes people use most, each with a typical lookahead.
    shape = {(8, 4), (10, 5), (12, 5), (12, 6)}
    for w in range(6, 16):
        for l in sorted({min(5, w - 1) if w != 8 else 4} | {ll for ww, ll in shape if ww == w}):
            for data in parts.values():
                long_before = False
                for lit, mode, kind, length, dist in parse(data, w, l, literal_lens):
                    if kind == "e":
                        off_f[w][slot(dist - 1)[0]] += 1
                    if (w, l) in shape:
                        run_f[run_symbol(lit, mode)] += 1
                        if kind is not None:
                            match_f[match_context(lit, long_before)][match_symbol(kind, length)] += 1
                    long_before = kind in ("e", "r") and length == 1 << l
        print(f"parsed W={w}", file=sys.stderr)
    counts = {"text": text_f, "numeric": numeric_f, "run": run_f}
    counts.update({f"match{c}": f for c, f in enumerate(match_f)})
    counts.update({f"offset{w}": off_f[w] for w in range(6, 16)})
    return {"trained_with": f"Python {platform.python_version()} ({sys.executable})", "counts": counts}


def main() -> None:
    if sys.argv[1:] == ["--train"]:
        trained = train()  # one code per line
        lines = [f' "{name}": {json.dumps(freq)}' for name, freq in trained["counts"].items()]
        print('{"trained_with": %s,\n"counts": {\n%s\n}}' % (json.dumps(trained["trained_with"]), ",\n".join(lines)))
        return
    counts = json.loads(COUNTS.read_text())["counts"]
    literal = {"text", "numeric"}
    emit([(name, freq, LITERAL_MAX_LEN if name in literal else MAX_LEN) for name, freq in counts.items()])


def canonical(lens: list[int]) -> tuple[list[int], list[int]]:
    order = sorted((s for s in range(len(lens))), key=lambda s: (lens[s], s))
    codes = [0] * len(lens)
    code, prev = 0, lens[order[0]]
    for i, s in enumerate(order):
        if i:
            code = (code + 1) << (lens[s] - prev)
        prev = lens[s]
        codes[s] = code
    return codes, order


def emit(codes) -> None:
    out = []

    def table(ctype: str, name: str, values: list[int], per_line: int = 16) -> None:
        out.append(f"static const {ctype} {name}[{len(values)}] = {{")
        for i in range(0, len(values), per_line):
            out.append("    " + ", ".join(str(v) for v in values[i:i + per_line]) + ",")
        out.append("};")

    literal = {}
    for name, freq, max_len in codes:
        lens = lengths(freq, max_len)
        code, order = canonical(lens)
        # Decoder: with the next MAX_LEN bits as a number x, the codeword has length n for the smallest n with
        # x < limit[n]; its symbol is sorted[(x >> (MAX_LEN - n)) + offset[n]].
        limit, offset, first, index = [0] * (MAX_LEN + 1), [0] * (MAX_LEN + 1), 0, 0
        for n in range(1, MAX_LEN + 1):
            count = sum(1 for x in lens if x == n)
            offset[n] = index - first
            first += count
            index += count
            limit[n] = first << (MAX_LEN - n)
            first <<= 1
        assert limit[MAX_LEN] == 1 << MAX_LEN, name  # complete: every bit pattern decodes
        # The decoder may peek 8 bits past a literal: the end marker that follows the last one must be that long.
        assert not name.startswith("match") or lens[MATCH_END] >= 8, name
        bits = sum(f * n for f, n in zip(freq, lens))
        what = (f"{bits / sum(freq):.2f} bits per byte of its sample" if max_len == LITERAL_MAX_LEN
                else f"{bits / 8000:.1f} KB on the training parse")
        out.append(f"/* {name}: {len(lens)} symbols, lengths up to {max(lens)}, {what} */")
        table("uint16_t", f"tf__lz_{name}_code", code)
        table("uint8_t", f"tf__lz_{name}_len", lens)
        table("uint16_t", f"tf__lz_{name}_limit", limit)
        table("int16_t", f"tf__lz_{name}_offset", offset)
        table("uint8_t", f"tf__lz_{name}_sorted", order)
        # Fast path for the decoder: the next 8 bits -> 1 + the symbol when its codeword has at most 8 bits, else 0
        # (then the limit loop above from length 9). Its length is len[symbol].
        first8 = [0] * 256
        for sym, n in enumerate(lens):
            if n <= 8:
                for tail in range(1 << (8 - n)):
                    first8[(code[sym] << (8 - n)) + tail] = sym + 1
        if max_len != LITERAL_MAX_LEN:
            table("uint8_t", f"tf__lz_{name}_first8", first8)
        if max_len == LITERAL_MAX_LEN:
            literal[name] = lens
            # Fast path for literals: the next 8 bits -> (length << 8) | symbol for codes of up to 8 bits, else 0.
            fast = [0] * 256
            for sym, n in enumerate(lens):
                if n <= 8:
                    for tail in range(1 << (8 - n)):
                        fast[(code[sym] << (8 - n)) + tail] = (n << 8) | sym
            table("uint16_t", f"tf__lz_{name}_fast", fast)
    small = small_tables(codes)
    # What the encoder's search charges for a literal: the cheapest way it could be coded, never over 8 bits.
    cost_at = len(out)
    table("uint8_t", "tf__lz_literal_cost", [min(8, *(lens[b] for lens in literal.values())) for b in range(256)])
    cost, out = out[cost_at:], out[:cost_at]  # both builds' encoders use it
    print("/* Generated by core/tools/gen_lz_codes.py; do not edit. The fixed prefix codes of thrifty.lz format")
    print(" * version 2 (docs/format-lz.md): canonical, lengths 1..15, built from the symbol counts in")
    print(" * core/tools/lz_code_counts.json (a reference parse of a training sample that is not the benchmark). */")
    print("#ifndef THRIFTY_LZ_CODES_H\n#define THRIFTY_LZ_CODES_H\n")
    print(f"#define TF__LZ_CODE_MAX_LEN {MAX_LEN}u")
    print(f"#define TF__LZ_LITERAL_MAX_LEN {LITERAL_MAX_LEN}u")
    print(f"#define TF__LZ_RUN_SYMBOLS {RUN_SYMBOLS}u")
    print(f"#define TF__LZ_MATCH_SYMBOLS {MATCH_SYMBOLS}u")
    print("#define TF__LZ_MATCH_EXPLICIT 0u /* + slot of length - 2 */")
    print("#define TF__LZ_MATCH_REP 16u /* + slot of length - 1 */")
    print(f"#define TF__LZ_MATCH_END {MATCH_END}u")
    print(f"#define TF__LZ_MODES {MODES}u /* a run's bytes: 0 text code, 1 numeric code, 2 plain */")
    print(f"#define TF__LZ_MATCH_CONTEXTS {MATCH_CONTEXTS}u\n")
    print("\n".join(cost))
    print("\n#if !TF_LZ_SMALL")
    print("typedef struct {\n    const uint16_t *code, *limit;\n    const uint8_t *len, *sorted;\n"
          "    const int16_t *offset;\n    const uint8_t *first8; /* NULL for the literal codes (their fast tables say the length too) */\n} tf__lz_code;\n")
    print("\n".join(out))
    print()
    def ref(name):
        first8 = "NULL" if name in literal else f"tf__lz_{name}_first8"
        return (f"{{tf__lz_{name}_code, tf__lz_{name}_limit, tf__lz_{name}_len, tf__lz_{name}_sorted, "
                f"tf__lz_{name}_offset, {first8}}}")
    print(f"static const tf__lz_code tf__lz_literal[2] = {{{ref('text')}, {ref('numeric')}}};")
    print("static const uint16_t *const tf__lz_literal_fast[2] = {tf__lz_text_fast, tf__lz_numeric_fast};")
    print(f"static const tf__lz_code tf__lz_run = {ref('run')};")
    print(f"static const tf__lz_code tf__lz_match[{MATCH_CONTEXTS}] = {{")
    for c in range(MATCH_CONTEXTS):
        print(f"    {ref(f'match{c}')},")
    print("};")
    print("static const tf__lz_code tf__lz_offset[10] = { /* W = 6..15 */")
    for w in range(6, 16):
        print(f"    {ref(f'offset{w}')},")
    print("};")
    print("#define TF__LZ_RUN (&tf__lz_run)\n#define TF__LZ_MATCH(k) (&tf__lz_match[k])\n"
          "#define TF__LZ_OFFSET(w) (&tf__lz_offset[(w) - 6u])\n#define TF__LZ_LITERAL(mode) (&tf__lz_literal[mode])\n"
          "#define TF__LZ_LEN(code, sym) ((code)->len[sym])\ntypedef const tf__lz_code *tf__lz_ref;")
    print("#else /* TF_LZ_SMALL */")
    print("\n".join(small))
    print("#endif /* TF_LZ_SMALL */\n\n#endif")


def small_tables(codes) -> list[str]:
    """The same codes for TF_LZ_SMALL, in about 0.5 KB instead of 11: every symbol's codeword length, four bits each
    (two symbols a byte, the lower-numbered in the low nibble), codes back to back. That is all a canonical code is:
    the decoder and the encoder count the lengths of a code when they need the first codeword of a length or a
    symbol's rank within it. A code is named by its index (TF__LZ_RUN, ...) into tf__lz_small_base, which has one
    more entry for the end of the last code. The decoder, which reads a code's lengths in order only, has them
    as a nibble stream with repeats instead (tf__lz_small_runs, 256 bytes)."""
    len_all, base, names = [], [], []
    for name, freq, max_len in codes:
        lens = lengths(freq, max_len)
        assert max(lens) <= 15 and min(lens) >= 1, name
        base.append(len(len_all))
        names.append(name)
        len_all += lens
    base.append(len(len_all))
    index = {name: i for i, name in enumerate(names)}
    assert [index[f"offset{w}"] for w in range(6, 16)] == list(range(index["offset6"], index["offset6"] + 10))
    packed = [len_all[i] | ((len_all[i + 1] if i + 1 < len(len_all) else 0) << 4) for i in range(0, len(len_all), 2)]
    out = ["/* Codes by index: " + ", ".join(f"{i} {n}" for i, n in enumerate(names)) + ". */"]
    out.append(f"static const uint16_t tf__lz_small_base[{len(base)}] = {{{', '.join(map(str, base))}}};")
    out.append(f"static const uint8_t tf__lz_small_len4[{len(packed)}] = {{")
    out += ["    " + ", ".join(map(str, packed[i:i + 24])) + "," for i in range(0, len(packed), 24)]
    out.append("};")
    # The decoder reads the lengths in order only, as a stream of nibbles (packed as len4): a length, 0 for 3 more
    # codewords of the length before, or 1 (no codeword is 1 bit long) for 19 more: the long runs of 12-bit literals
    # take a nibble per 19 symbols, and most other lengths come alone. 256 bytes.
    nib, run_at = [], []
    for c in range(len(names)):
        run_at.append(len(nib))
        lens, i = len_all[base[c]:base[c + 1]], 0
        assert min(lens) >= 2, names[c]
        while i < len(lens):
            j = i + 1
            while j < len(lens) and lens[j] == lens[i]:
                j += 1
            more = j - i - 1
            nib += [lens[i]] + [1] * (more // 19) + [0] * (more % 19 // 3) + [lens[i]] * (more % 19 % 3)
            i = j
    run_at.append(len(nib))
    runs = [nib[i] | ((nib[i + 1] if i + 1 < len(nib) else 0) << 4) for i in range(0, len(nib), 2)]
    out.append(f"static const uint16_t tf__lz_small_run_at[{len(run_at)}] = {{{', '.join(map(str, run_at))}}};")
    out.append(f"static const uint8_t tf__lz_small_runs[{len(runs)}] = {{")
    out += ["    " + ", ".join(map(str, runs[i:i + 24])) + "," for i in range(0, len(runs), 24)]
    out.append("};")
    out.append(f"#define TF__LZ_RUN {index['run']}u\n#define TF__LZ_MATCH(k) ({index['match0']}u + (k))\n"
               f"#define TF__LZ_OFFSET(w) ({index['offset6']}u + (w) - 6u)\n"
               f"#define TF__LZ_LITERAL(mode) ({index['text']}u + (mode))\n"
               "/* the length of codeword i of all the codes back to back */\n"
               "#define TF__LZ_LEN_AT(i) ((unsigned)(tf__lz_small_len4[(i) >> 1] >> (((i) & 1u) << 2)) & 15u)\n"
               "#define TF__LZ_LEN(code, sym) TF__LZ_LEN_AT(tf__lz_small_base[code] + (unsigned)(sym))\n"
               "typedef unsigned tf__lz_ref;")
    assert index["numeric"] == index["text"] + 1
    return out


if __name__ == "__main__":
    main()
