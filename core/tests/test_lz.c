/* Tests for thrifty.lz: parameter and storage checks, the stream state machines under every chunking of input and
 * output, the output bound, the one-shot path, and the decoder's refusal of corrupt, truncated and foreign frames. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tf_test.h"
#include "thrifty/lz.h"

#include "../src/lz_codes.h" /* the format's fixed codes, checked below */

static uint64_t arena[(40000 + 70000) / 8];

static uint32_t rng_state = 12345u;
static uint32_t rnd(void) {
    rng_state = rng_state * 1103515245u + 12345u;
    return rng_state >> 8;
}

/* Inputs with different shapes: empty-ish, runs, text-like repeats, noise, and a mix. */
static size_t make_input(int kind, uint8_t *buf, size_t n) {
    static const char *words[] = {"def ", "return ", "self", ".value", " = ", "\n    ", "None", "(x, y)", "if "};
    for (size_t i = 0; i < n; i++) {
        switch (kind) {
        case 0: buf[i] = 0; break;
        case 1: buf[i] = (uint8_t)(rnd() & 0xFF); break;
        case 2: {
            const char *w = words[rnd() % 9u];
            while (*w && i < n)
                buf[i++] = (uint8_t)*w++;
            i--;
            break;
        }
        case 3: buf[i] = (uint8_t)((i / 37u) % 5u == 0 ? rnd() : (i % 11u) * 7u); break;
        default: buf[i] = (uint8_t)("1700000000,s3,21.07,45.1\n"[i % 25u] + (rnd() % 8u == 0 ? 1 : 0)); break;
        }
    }
    return n;
}

/* Streams `in` through an encoder then a decoder, feeding chunks of `ic` bytes and taking output in chunks of
 * `oc`, and checks the bytes, the exact counts, the bound, and that one-shot compression wrote the same frame
 * (it takes the same steps on the input in place, so any difference is a bug in one of the two drivers). */
static void roundtrip(const uint8_t *in, size_t n, unsigned w, unsigned l, unsigned flags, size_t ic, size_t oc) {
    static uint8_t comp[70000], back[70000];
    size_t es = tf_lz_encoder_size(w, l) + tf_lz_filter_size(flags),
           ds = tf_lz_decoder_size(w) + tf_lz_filter_size(flags);
    CHECK(es > 0 && ds > 0 && es + ds <= sizeof arena);
    tf_lz_encoder *e;
    tf_lz_decoder *d;
    CHECK_EQ(tf_lz_encoder_init(&e, arena, es, w, l, flags), TF_OK);
    size_t ip = 0, cn = 0;
    int finished = 0;
    for (int guard = 0; guard < 10000000; guard++) {
        if (ip < n) {
            size_t c = 0, k = n - ip < ic ? n - ip : ic;
            CHECK_EQ(tf_lz_encoder_sink(e, in + ip, k, &c), TF_OK);
            CHECK(c <= k);
            ip += c;
        } else if (!finished) {
            finished = 1;
        }
        size_t got = 0, room = sizeof comp - cn < oc ? sizeof comp - cn : oc;
        tf_status st = tf_lz_encoder_poll(e, comp + cn, room, &got);
        CHECK(st == TF_LZ_DONE || st == TF_LZ_MORE);
        CHECK(got <= room);
        cn += got;
        if (finished && tf_lz_encoder_finish(e) == TF_LZ_DONE)
            break;
    }
    CHECK_EQ(tf_lz_encoder_finish(e), TF_LZ_DONE);
    size_t bound = n + 4u * (n >> w) + TF_LZ_FRAME_OVERHEAD + (TF_LZ_FILTER_OF(flags) ? 1u : 0u); /* filter byte */
    CHECK(cn <= bound);
    size_t c0 = 0;
    CHECK_EQ(tf_lz_encoder_sink(e, in, n ? 1u : 0u, &c0), TF_E_STATE);
    static uint8_t once[70000];
    static uint64_t work[40000 / 8];
    size_t on = 0;
    CHECK_EQ(tf_lz_compress(in, n, once, sizeof once, &on, work, sizeof work, w, l, flags), TF_OK);
    if (!(once[6] & TF_LZ_FLAG_STORED)) {
        CHECK_EQ(on, cn);
        CHECK(memcmp(once, comp, cn) == 0);
    }

    CHECK_EQ(tf_lz_decoder_init(&d, (uint8_t *)arena + ((es + 7u) & ~(size_t)7u), ds, w), TF_OK);
    size_t cp = 0, bn = 0;
    for (int guard = 0; guard < 10000000; guard++) {
        size_t c = 0, k = cn - cp < ic ? cn - cp : ic;
        CHECK_EQ(tf_lz_decoder_sink(d, comp + cp, k, &c), TF_OK);
        cp += c;
        size_t got = 0, room = sizeof back - bn < oc ? sizeof back - bn : oc;
        tf_status st = tf_lz_decoder_poll(d, back + bn, room, &got);
        CHECK(st == TF_LZ_DONE || st == TF_LZ_MORE);
        if (st < 0)
            break;
        CHECK(got <= room);
        bn += got;
        if (tf_lz_decoder_ended(d))
            break;
    }
    CHECK(tf_lz_decoder_ended(d));
    CHECK_EQ(tf_lz_decoder_finish(d), TF_LZ_DONE);
    CHECK_EQ(cp - tf_lz_decoder_pending(d, NULL), cn);
    CHECK_EQ(bn, n);
    CHECK(memcmp(back, in, n) == 0);
}

static void test_sizes_and_init(void) {
    CHECK_EQ(tf_lz_encoder_size(5, 3), 0);
    CHECK_EQ(tf_lz_encoder_size(16, 4), 0);
    CHECK_EQ(tf_lz_encoder_size(8, 2), 0);
    CHECK_EQ(tf_lz_encoder_size(8, 8), 0); /* L must be below W */
    CHECK_EQ(tf_lz_encoder_size(15, 9), 0);
    CHECK(tf_lz_encoder_size(6, 3) > 0);
    CHECK(tf_lz_encoder_size(15, 8) > tf_lz_encoder_size(15, 7));
    CHECK_EQ(tf_lz_decoder_size(5), 0);
    CHECK(tf_lz_decoder_size(8) <= 300u); /* the RAM claim in lz.h */
    CHECK_EQ(tf_lz_decoder_size(9) - tf_lz_decoder_size(8), 256);

    tf_lz_encoder *e;
    tf_lz_decoder *d;
    size_t es = tf_lz_encoder_size(8, 4);
    CHECK_EQ(tf_lz_encoder_init(NULL, arena, es, 8, 4, 0), TF_E_NULL);
    CHECK_EQ(tf_lz_encoder_init(&e, NULL, es, 8, 4, 0), TF_E_NULL);
    CHECK_EQ(tf_lz_encoder_init(&e, arena, es, 8, 9, 0), TF_E_ARG);
    CHECK_EQ(tf_lz_encoder_init(&e, arena, es, 8, 4, 0x80), TF_E_ARG);
    CHECK_EQ(tf_lz_encoder_init(&e, arena, es, 8, 4, TF_LZ_LEVEL(10)), TF_E_ARG);
    CHECK_EQ(tf_lz_encoder_init(&e, arena, es, 8, 4, TF_LZ_LEVEL(16)), TF_E_ARG);
    CHECK_EQ(tf_lz_encoder_init(&e, arena, es, 8, 4, TF_LZ_LEVEL(9) | TF_LZ_FLAG_CHECKSUM), TF_OK);
    CHECK_EQ(tf_lz_encoder_init(&e, arena, es - 1u, 8, 4, 0), TF_E_SIZE);
    CHECK_EQ(tf_lz_encoder_init(&e, (uint8_t *)arena + 1, es, 8, 4, 0), TF_E_ALIGN);
    CHECK_EQ(tf_lz_decoder_init(&d, arena, tf_lz_decoder_size(8) - 1u, 8), TF_E_SIZE);
    CHECK_EQ(tf_lz_decoder_init(&d, arena, 100000, 16), TF_E_ARG);
    CHECK_EQ(tf_lz_decoder_init(&d, (uint8_t *)arena + 4, 100000, 8), TF_E_ALIGN);
    CHECK_EQ(tf_lz_encoder_sink(NULL, NULL, 0, NULL), TF_E_NULL);
    CHECK_EQ(tf_lz_decoder_poll(NULL, NULL, 0, NULL), TF_E_NULL);
}

static void test_every_chunking(void) {
    static uint8_t in[6000];
    static const size_t chunks[] = {1, 2, 3, 7, 13, 61, 257, 100000};
    static const unsigned wl[][2] = {{6, 3}, {8, 4}, {9, 8}, {12, 5}, {15, 8}};
    for (int kind = 0; kind < 5; kind++) {
        size_t n = make_input(kind, in, kind == 1 ? 1500u : sizeof in);
        for (size_t p = 0; p < sizeof wl / sizeof wl[0]; p++)
            for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++)
                for (size_t o = 0; o < sizeof chunks / sizeof chunks[0]; o += 3)
                    roundtrip(in, n, wl[p][0], wl[p][1],
                              ((i + o) % 2 ? TF_LZ_FLAG_CHECKSUM : 0u) | TF_LZ_LEVEL((p + i + o) % 10u), chunks[i],
                              chunks[o]);
    }
    roundtrip(in, 0, 8, 4, TF_LZ_FLAG_CHECKSUM, 1, 1);
    roundtrip(in, 1, 8, 4, 0, 1, 1);
}

/* One choice of loop per level (tf__level_loop) serves one-shot compression and poll alike: every level, on the hash
 * chains (W=8: level 1's loop with its depth as a constant, the loops that look ahead before short matches, before
 * any match and never; W=10) and on the bucket tables (W=12 packed, W=15), writes the same frame both ways. poll is
 * fed a byte at a time and gets 5 bytes of room at a time, so its loops often stop with a sequence decided and leave
 * it to its phases. Text and mixed binary bytes, so that every kind of sequence occurs. */
static void test_every_level_in_both_drivers(void) {
    static uint8_t in[5000];
    static const unsigned wl[][2] = {{8, 4}, {10, 4}, {12, 5}, {15, 6}};
    for (int kind = 2; kind <= 3; kind++) {
        size_t n = make_input(kind, in, sizeof in);
        for (size_t p = 0; p < sizeof wl / sizeof wl[0]; p++)
            for (unsigned level = 1; level <= 9u; level++)
                roundtrip(in, n, wl[p][0], wl[p][1], TF_LZ_LEVEL(level), 1, 5);
    }
}

static void test_short_inputs(void) {
    /* Every short input ends its frame right after a literal run: the decoder must not read the checksum as
     * literal bits (a regression the round-trip fuzzer found in the text-code reader). */
    static uint8_t in[80];
    for (int kind = 1; kind < 5; kind++)
        for (size_t n = 0; n <= sizeof in; n++) {
            make_input(kind, in, n);
            roundtrip(in, n, 10, 3, TF_LZ_FLAG_CHECKSUM, 1, 1);
            roundtrip(in, n, 8, 4, TF_LZ_FLAG_CHECKSUM, 100, 100);
            roundtrip(in, n, 6, 3, 0, 7, 3);
        }
}

static void test_window_boundaries(void) {
    /* Full literal runs (2^W bytes of noise) and matches reaching exactly 2^W back. */
    static uint8_t in[3000];
    for (size_t i = 0; i < 64; i++)
        in[i] = (uint8_t)rnd();
    for (size_t i = 64; i < sizeof in; i++)
        in[i] = in[i - 64];
    roundtrip(in, sizeof in, 6, 3, TF_LZ_FLAG_CHECKSUM, 5, 3);
    make_input(1, in, sizeof in);
    roundtrip(in, sizeof in, 6, 3, 0, 1, 1);
    roundtrip(in, sizeof in, 7, 4, TF_LZ_FLAG_CHECKSUM, sizeof in, 1);
}

static tf_status decode_all(const uint8_t *c, size_t n, uint8_t *out, size_t cap, size_t *out_n, unsigned max_w) {
    tf_lz_decoder *d;
    tf_status st = tf_lz_decoder_init(&d, arena, sizeof arena, max_w);
    size_t ip = 0;
    *out_n = 0;
    while (st >= 0) {
        size_t k = 0, got = 0;
        tf_lz_decoder_sink(d, c + ip, n - ip, &k);
        ip += k;
        st = tf_lz_decoder_poll(d, out + *out_n, cap - *out_n, &got);
        *out_n += got;
        if (st < 0 || tf_lz_decoder_ended(d))
            break;
        if (st == TF_LZ_DONE && ip == n)
            return tf_lz_decoder_finish(d);
        if (st == TF_LZ_MORE && *out_n == cap)
            return TF_E_FULL;
    }
    return st < 0 ? st : tf_lz_decoder_finish(d);
}

static void test_one_shot_and_corruption(void) {
    static uint8_t in[5000], comp[6000], back[6000];
    static uint8_t work[8192] __attribute__((aligned(8)));
    size_t n = make_input(2, in, sizeof in), cn = 0, bn = 0;
    CHECK_EQ(tf_lz_compress(in, n, comp, sizeof comp, &cn, work, sizeof work, 10, 4, TF_LZ_FLAG_CHECKSUM), TF_OK);
    CHECK(cn < n / 2);
    CHECK_EQ(decode_all(comp, cn, back, sizeof back, &bn, 15), TF_LZ_DONE);
    CHECK_EQ(bn, n);
    CHECK(memcmp(in, back, n) == 0);

    unsigned w = 0, l = 0, f = 0;
    CHECK_EQ(tf_lz_read_header(comp, cn, &w, &l, &f), TF_OK);
    CHECK_EQ(w, 10);
    CHECK_EQ(l, 4);
    CHECK_EQ(f, TF_LZ_FLAG_CHECKSUM);
    CHECK_EQ(tf_lz_read_header(comp, 3, &w, &l, &f), TF_E_EMPTY);
    CHECK_EQ(tf_lz_read_header((const uint8_t *)"GIF89a!", 7, &w, &l, &f), TF_E_CORRUPT);

    /* Too small a decoder window, a foreign file, every truncation, and flipped bits in body and checksum. */
    CHECK_EQ(decode_all(comp, cn, back, sizeof back, &bn, 9), TF_E_SIZE);
    CHECK_EQ(decode_all((const uint8_t *)"PK\x03\x04zipzip", 10, back, sizeof back, &bn, 15), TF_E_CORRUPT);
    for (size_t cut = 0; cut < cn; cut += (cut < 20 ? 1u : 97u))
        CHECK_EQ(decode_all(comp, cut, back, sizeof back, &bn, 15), TF_E_CORRUPT);
    comp[cn - 1] ^= 1u;
    CHECK_EQ(decode_all(comp, cn, back, sizeof back, &bn, 15), TF_E_CORRUPT);
    comp[cn - 1] ^= 1u;
    int detected = 0;
    for (size_t i = TF_LZ_HEADER_SIZE; i < cn; i += 13) {
        comp[i] ^= 0x10u;
        detected += decode_all(comp, cn, back, sizeof back, &bn, 15) < 0;
        comp[i] ^= 0x10u;
    }
    CHECK(detected > 0);
    comp[4] = 9; /* a future version */
    CHECK_EQ(decode_all(comp, cn, back, sizeof back, &bn, 15), TF_E_VERSION);
}

static void test_stored_fallback_and_bound(void) {
    static uint8_t in[3000], comp[4000], back[4000];
    static uint8_t work[8192] __attribute__((aligned(8)));
    size_t n = make_input(1, in, sizeof in), cn = 0, bn = 0;
    CHECK_EQ(tf_lz_compress_bound(n), n + TF_LZ_STORED_OVERHEAD);
    CHECK_EQ(tf_lz_compress(in, n, comp, tf_lz_compress_bound(n), &cn, work, sizeof work, 8, 4, TF_LZ_FLAG_CHECKSUM),
             TF_OK);
    CHECK(cn <= n + TF_LZ_STORED_OVERHEAD);
    CHECK(comp[6] & TF_LZ_FLAG_STORED);
    CHECK_EQ(decode_all(comp, cn, back, sizeof back, &bn, 8), TF_LZ_DONE);
    CHECK_EQ(bn, n);
    CHECK(memcmp(in, back, n) == 0);
    CHECK_EQ(tf_lz_compress(in, n, comp, n, &cn, work, sizeof work, 8, 4, 0), TF_E_FULL);
    CHECK_EQ(tf_lz_compress(in, n, comp, sizeof comp, &cn, work, 10, 8, 4, 0), TF_E_SIZE);
    /* A bounded output buffer stops the decoder, never overruns it. */
    CHECK_EQ(tf_lz_compress(in, 0, comp, sizeof comp, &cn, work, sizeof work, 8, 4, 0), TF_OK);
    CHECK_EQ(decode_all(comp, cn, back, 0, &bn, 8), TF_LZ_DONE);
    CHECK_EQ(bn, 0);
    /* No input at all may come as a NULL pointer. */
    CHECK_EQ(tf_lz_compress(NULL, 0, comp, sizeof comp, &cn, work, sizeof work, 8, 4, TF_LZ_FLAG_CHECKSUM), TF_OK);
    CHECK_EQ(decode_all(comp, cn, back, 0, &bn, 8), TF_LZ_DONE);
    CHECK_EQ(bn, 0);
}

static void test_far_match_then_long_run(void) {
    /* A far match at W=15, L=8 (up to 31 bits) followed by a run of thousands of literals (a header of up to 31
     * bits): one-shot compression once lost bits here when both sat in its 64-bit buffer unflushed. */
    static uint8_t in[66600];
    for (int gap = 2000; gap <= 5000; gap += 1500) {
        size_t n = 0;
        for (size_t i = 0; i < 256; i++)
            in[n++] = (uint8_t)(rnd() | 1u);
        for (int i = 0; i < gap; i++)
            in[n++] = 0;
        memcpy(in + n, in, 256);
        n += 256;
        for (int i = 0; i < 33000; i++)
            in[n++] = (uint8_t)rnd();
        for (int i = 0; i < 30000 - gap; i++)
            in[n++] = 0;
        roundtrip(in, n, 15, 8, TF_LZ_FLAG_CHECKSUM, 100000, 100000);
        roundtrip(in, n, 15, 7, 0, 4096, 4096);
    }
}

static void test_every_output_size(void) {
    /* Every out_size from 0 up: TF_E_FULL or a frame that decodes, never a byte written past out_size. */
    static uint8_t in[300], comp[400], back[400];
    static uint8_t work[8192] __attribute__((aligned(8)));
    size_t n = make_input(2, in, sizeof in), need = 0, cn = 0, bn = 0;
    CHECK_EQ(tf_lz_compress(in, n, comp, sizeof comp, &need, work, sizeof work, 8, 4, TF_LZ_FLAG_CHECKSUM), TF_OK);
    CHECK_EQ(tf_lz_compress(in, n, NULL, 0, &cn, work, sizeof work, 8, 4, 0), TF_E_FULL);
    for (size_t cap = 0; cap <= need; cap++) {
        memset(comp, 0xA5, sizeof comp);
        tf_status st = tf_lz_compress(in, n, comp, cap, &cn, work, sizeof work, 8, 4, TF_LZ_FLAG_CHECKSUM);
        for (size_t i = cap; i < sizeof comp; i++)
            CHECK_EQ(comp[i], 0xA5);
        if (cap < need) {
            CHECK_EQ(st, TF_E_FULL);
        } else {
            CHECK_EQ(st, TF_OK);
            CHECK_EQ(decode_all(comp, cn, back, sizeof back, &bn, 8), TF_LZ_DONE);
            CHECK_EQ(bn, n);
            CHECK(memcmp(in, back, n) == 0);
        }
    }
}

/* Every fixed code of the format must be a complete canonical prefix code (the decoder treats any bits as a
 * codeword), and its tables must agree: each symbol's codeword, looked up the way the decoder does, gives the
 * symbol back. Guards lz_codes.h against edits by hand. */
#if !TF_LZ_SMALL
static void check_code(const tf__lz_code *c, unsigned symbols, const uint16_t *literal_fast) {
    uint32_t kraft = 0; /* sum of 2^(15 - len) */
    for (unsigned sym = 0; sym < symbols; sym++) {
        unsigned len = c->len[sym];
        CHECK(len >= 1 && len <= TF__LZ_CODE_MAX_LEN);
        kraft += 1u << (TF__LZ_CODE_MAX_LEN - len);
        unsigned x = (unsigned)c->code[sym] << (TF__LZ_CODE_MAX_LEN - len), n = 1; /* the next 15 bits */
        while (x >= c->limit[n])
            n++;
        CHECK(n == len);
        CHECK(c->sorted[(int)(c->code[sym]) + c->offset[n]] == sym);
        if (len <= 8u) {
            unsigned peek = x >> (TF__LZ_CODE_MAX_LEN - 8u);
            if (c->first8)
                CHECK(c->first8[peek] == sym + 1u);
            else
                CHECK(literal_fast[peek] == ((len << 8) | sym));
        } else if (c->first8) {
            CHECK(c->first8[x >> (TF__LZ_CODE_MAX_LEN - 8u)] == 0);
        }
    }
    CHECK(kraft == 1u << TF__LZ_CODE_MAX_LEN);
    CHECK(c->limit[TF__LZ_CODE_MAX_LEN] == 1u << TF__LZ_CODE_MAX_LEN);
}

static void test_codes_are_complete_and_canonical(void) {
    check_code(&tf__lz_literal[0], 256, tf__lz_literal_fast[0]);
    check_code(&tf__lz_literal[1], 256, tf__lz_literal_fast[1]);
    check_code(&tf__lz_run, TF__LZ_RUN_SYMBOLS, NULL);
    for (unsigned c = 0; c < TF__LZ_MATCH_CONTEXTS; c++) {
        check_code(&tf__lz_match[c], TF__LZ_MATCH_SYMBOLS, NULL);
        CHECK(tf__lz_match[c].len[TF__LZ_MATCH_END] >= 8u); /* the decoder's 8-bit literal peek relies on it */
    }
    for (unsigned w = TF_LZ_MIN_WINDOW_BITS; w <= TF_LZ_MAX_WINDOW_BITS; w++)
        check_code(&tf__lz_offset[w - TF_LZ_MIN_WINDOW_BITS], 2u * w, NULL);
    for (unsigned b = 0; b < 256; b++) {
        unsigned cheapest =
            tf__lz_literal[0].len[b] < tf__lz_literal[1].len[b] ? tf__lz_literal[0].len[b] : tf__lz_literal[1].len[b];
        CHECK(tf__lz_literal_cost[b] == (cheapest < 8u ? cheapest : 8u));
    }
}
#else
/* The small build's tables (TF_LZ_SMALL) for code `c`: `symbols` lengths of 1..15 bits forming a complete code,
 * and the decoder's nibble-stream copy of them. */
static void check_code(tf__lz_ref c, unsigned symbols) {
    uint32_t kraft = 0;
    CHECK((unsigned)(tf__lz_small_base[c + 1u] - tf__lz_small_base[c]) == symbols);
    for (unsigned sym = 0; sym < symbols; sym++) {
        unsigned len = TF__LZ_LEN(c, sym);
        CHECK(len >= 1u && len <= TF__LZ_CODE_MAX_LEN);
        kraft += 1u << (TF__LZ_CODE_MAX_LEN - len);
    }
    CHECK(kraft == 1u << TF__LZ_CODE_MAX_LEN);
    /* The decoder's copy, a nibble stream (a length; 0: 3 more of the last length; 1: 19 more), says the same. */
    unsigned sym = 0, last = 0;
    for (unsigned i = tf__lz_small_run_at[c]; i < tf__lz_small_run_at[c + 1u]; i++) {
        CHECK(i / 2u < sizeof tf__lz_small_runs);
        unsigned v = (unsigned)(tf__lz_small_runs[i / 2u] >> (i % 2u ? 4u : 0u)) & 15u;
        unsigned k = v == 0u ? 3u : v == 1u ? 19u : 1u;
        if (k == 1u)
            last = v;
        CHECK(last != 0u);
        for (; k; k--, sym++)
            CHECK(sym < symbols && TF__LZ_LEN(c, sym) == last);
    }
    CHECK(sym == symbols);
}

static void test_codes_are_complete_and_canonical(void) {
    check_code(TF__LZ_LITERAL(0u), 256);
    check_code(TF__LZ_LITERAL(1u), 256);
    check_code(TF__LZ_RUN, TF__LZ_RUN_SYMBOLS);
    for (unsigned c = 0; c < TF__LZ_MATCH_CONTEXTS; c++)
        check_code(TF__LZ_MATCH(c), TF__LZ_MATCH_SYMBOLS);
    for (unsigned w = TF_LZ_MIN_WINDOW_BITS; w <= TF_LZ_MAX_WINDOW_BITS; w++)
        check_code(TF__LZ_OFFSET(w), 2u * w);
    CHECK((tf__lz_small_base[TF__LZ_OFFSET(TF_LZ_MAX_WINDOW_BITS) + 1u] + 1u) / 2u == sizeof tf__lz_small_len4);
}
#endif

#if TF_LZ_FILTERS
/* Sensor-like samples of `size` bytes: a slow sine plus noise of about `noise` units, little-endian. */
static size_t make_samples(uint8_t *buf, size_t n, unsigned size, unsigned noise) {
    int64_t level = 2048, step = 3;
    for (size_t i = 0; i < n; i++) {
        if (i % size == 0) {
            if ((i / size) % 200u == 0)
                step = -step;
            level += step;
        }
        int64_t v = level + (noise ? (int64_t)(rnd() % (2u * noise + 1u)) - (int64_t)noise : 0);
        buf[i] = (uint8_t)((uint64_t)v >> (8u * (i % size)));
    }
    return n;
}

static const unsigned filters[] = {
    TF_LZ_FILTER_ID(TF_LZ_FILTER_DELTA, 1u),   TF_LZ_FILTER_ID(TF_LZ_FILTER_DELTA, 2u),
    TF_LZ_FILTER_ID(TF_LZ_FILTER_DELTA, 3u),   TF_LZ_FILTER_ID(TF_LZ_FILTER_SHUFFLE, 1u),
    TF_LZ_FILTER_ID(TF_LZ_FILTER_SHUFFLE, 2u), TF_LZ_FILTER_ID(TF_LZ_FILTER_SHUFFLE, 3u),
};

/* Every filter and element size, lengths around the block and element boundaries (odd lengths leave bytes after the
 * last element), every chunking down to a byte: the decoder gives back the input, and streaming writes the frame
 * one-shot compression writes. */
static void test_filter_round_trips(void) {
    static uint8_t buf[9000];
    for (size_t fi = 0; fi < sizeof filters / sizeof filters[0]; fi++) {
        unsigned id = filters[fi], size = 1u << (id >> 4), flags = TF_LZ_FILTER(id) | TF_LZ_FLAG_CHECKSUM;
        size_t block = TF_LZ_FILTER_BLOCK * size;
        const size_t lengths[] = {0,          1,          2,     3,          size - 1u,
                                  size + 1u,  block - 1u, block, block + 1u, block + size + 3u,
                                  2u * block, 1000,       4099,  9000};
        for (size_t li = 0; li < sizeof lengths / sizeof lengths[0]; li++) {
            size_t n = lengths[li];
            for (unsigned noise = 0; noise <= 40u; noise += 40u) {
                make_samples(buf, n, size, noise);
                roundtrip(buf, n, 8, 4, flags, 1u << 20, 1u << 20);
                roundtrip(buf, n, 12, 5, flags | TF_LZ_LEVEL(1), 7, 5);
                if (n <= 1000)
                    roundtrip(buf, n, 8, 4, flags, 1, 1);
            }
            make_input(1, buf, n); /* noise: the stored fallback */
            roundtrip(buf, n, 10, 4, flags, 33, 64);
        }
    }
}

/* The filter pays where it should: on smooth, noisy 16-bit samples delta2 makes the frame much smaller than plain
 * lz does. */
static void test_filter_gain(void) {
    static uint8_t in[32768], out[33000];
    static uint64_t work[40000 / 8];
    make_samples(in, sizeof in, 2, 12);
    size_t plain = 0, delta = 0;
    CHECK_EQ(tf_lz_compress(in, sizeof in, out, sizeof out, &plain, work, sizeof work, 10, 4, 0), TF_OK);
    CHECK_EQ(tf_lz_compress(in, sizeof in, out, sizeof out, &delta, work, sizeof work, 10, 4,
                            TF_LZ_FILTER(TF_LZ_FILTER_ID(TF_LZ_FILTER_DELTA, 1u))),
             TF_OK);
    CHECK(out[4] == TF_LZ_VERSION_FILTERED && out[6] == TF_LZ_FLAG_FILTER && out[7] == 0x11u);
    CHECK(delta * 4u < plain * 3u);     /* delta2: a third better than plain at least */
    CHECK(delta * 3u < sizeof in * 2u); /* and over 1.5x */
}

/* Sizes, bad filters, a decoder without room, and the header's filter byte: each refused with its status. */
static void test_filter_errors(void) {
    static uint8_t in[300], frame[400], back[400];
    static uint64_t work[40000 / 8];
    tf_lz_encoder *e;
    tf_lz_decoder *d;
    unsigned delta2 = TF_LZ_FILTER(TF_LZ_FILTER_ID(TF_LZ_FILTER_DELTA, 1u));
    CHECK_EQ(tf_lz_filter_size(0), 0u);
    CHECK_EQ(tf_lz_filter_size(delta2), TF_LZ_FILTER_HEAD + 64u + 7u);
    CHECK_EQ(tf_lz_filter_size(TF_LZ_FILTER_MAX), TF_LZ_FILTER_HEAD + 256u + 7u);
    const unsigned bad[] = {0x01u, 0x03u, 0x10u, 0x41u, 0x0Fu, 0x13u, 0xFFu};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ(tf_lz_filter_size(TF_LZ_FILTER(bad[i])), 0u);
        CHECK_EQ(tf_lz_encoder_init(&e, work, sizeof work, 8, 4, TF_LZ_FILTER(bad[i])), TF_E_ARG);
    }
    size_t es = tf_lz_encoder_size(8, 4);
    CHECK_EQ(tf_lz_encoder_init(&e, work, es, 8, 4, delta2), TF_E_SIZE);
    CHECK_EQ(tf_lz_encoder_init(&e, work, es + tf_lz_filter_size(delta2) - 1u, 8, 4, delta2), TF_E_SIZE);
    CHECK_EQ(tf_lz_encoder_init(&e, work, es + tf_lz_filter_size(delta2), 8, 4, delta2), TF_OK);

    make_samples(in, sizeof in, 2, 3);
    size_t fn = 0;
    CHECK_EQ(
        tf_lz_compress(in, sizeof in, frame, sizeof frame, &fn, work, sizeof work, 8, 4, delta2 | TF_LZ_FLAG_CHECKSUM),
        TF_OK);
    unsigned w = 0, l = 0, flags = 0;
    CHECK_EQ(tf_lz_read_header(frame, 7, &w, &l, &flags), TF_E_EMPTY);
    CHECK_EQ(tf_lz_read_header(frame, 8, &w, &l, &flags), TF_OK);
    CHECK(w == 8 && l == 4 && flags == (delta2 | TF_LZ_FLAG_FILTER | TF_LZ_FLAG_CHECKSUM));

    /* a decoder sized for unfiltered frames only */
    size_t made = 0, used = 0;
    CHECK_EQ(tf_lz_decoder_init(&d, work, tf_lz_decoder_size(8), 8), TF_OK);
    CHECK_EQ(tf_lz_decoder_decode(d, frame, fn, &used, back, sizeof back, &made), TF_E_SIZE);
    CHECK_EQ(made, 0u);
    CHECK_EQ(tf_lz_decoder_init(&d, work, tf_lz_decoder_size(8) + tf_lz_filter_size(delta2), 8), TF_OK);
    CHECK_EQ(tf_lz_decoder_decode(d, frame, fn, &used, back, sizeof back, &made), TF_LZ_DONE);
    CHECK(tf_lz_decoder_ended(d) && made == sizeof in && used == fn && memcmp(back, in, made) == 0);

    /* header bytes that do not go together, and an unknown filter */
    struct {
        unsigned at, value;
        tf_status want;
    } edits[] = {
        {4, TF_LZ_VERSION, TF_E_CORRUPT},                              /* version 2 with the flag */
        {6, TF_LZ_FLAG_CHECKSUM, TF_E_CORRUPT},                        /* version 3 without it */
        {6, TF_LZ_FLAG_FILTER | TF_LZ_FLAG_STORED | 1u, TF_E_CORRUPT}, /* filtered and stored */
        {6, 0x10u | TF_LZ_FLAG_FILTER, TF_E_VERSION},                  /* an unknown flag */
        {7, 0x03u, TF_E_VERSION},                                      /* an unknown kind */
        {7, 0x41u, TF_E_VERSION},                                      /* an element of 16 bytes */
        {4, 5u, TF_E_VERSION},                                         /* a later version */
        /* a filter with a dictionary's flag or version (a build without dictionaries knows neither) */
        {6, TF_LZ_FLAG_DICT | TF_LZ_FLAG_FILTER, TF_LZ_DICTIONARY ? TF_E_CORRUPT : TF_E_VERSION},
        {4, TF_LZ_VERSION_DICT, TF_LZ_DICTIONARY ? TF_E_CORRUPT : TF_E_VERSION},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        static uint8_t copy[400];
        memcpy(copy, frame, fn);
        copy[edits[i].at] = (uint8_t)edits[i].value;
        CHECK_EQ(tf_lz_decoder_init(&d, work, tf_lz_decoder_size(8) + tf_lz_filter_size(TF_LZ_FILTER_MAX), 8), TF_OK);
        CHECK_EQ(tf_lz_decoder_decode(d, copy, fn, &used, back, sizeof back, &made), edits[i].want);
        CHECK_EQ(made, 0u);
        CHECK_EQ(tf_lz_read_header(copy, fn, &w, &l, &flags), edits[i].want);
    }
}
#else
/* A build without filters refuses them at init and refuses a filtered frame as a later format. */
static void test_filters_not_built(void) {
    static uint64_t work[40000 / 8];
    static const uint8_t frame[] = {'T', 'F', 'L', 'Z', 3, 0x48, TF_LZ_FLAG_FILTER, 0x11, 0, 0};
    tf_lz_encoder *e;
    unsigned w, l, flags;
    CHECK_EQ(tf_lz_encoder_init(&e, work, sizeof work, 8, 4, TF_LZ_FILTER(0x11u)), TF_E_ARG);
    CHECK_EQ(tf_lz_read_header(frame, sizeof frame, &w, &l, &flags), TF_E_VERSION);
}
#endif

#if TF_LZ_DICTIONARY
/* Streams in[0..n) through an encoder given dict, in chunks of `chunk`, into out; returns the frame's size. */
static size_t dict_stream(const uint8_t *in, size_t n, const uint8_t *dict, size_t dn, unsigned w, unsigned l,
                          unsigned flags, size_t chunk, uint8_t *out, size_t cap) {
    static uint64_t work[40000 / 8];
    tf_lz_encoder *e;
    CHECK_EQ(tf_lz_encoder_init(&e, work, sizeof work, w, l, flags), TF_OK);
    CHECK_EQ(tf_lz_encoder_set_dictionary(e, dict, dn), TF_OK);
    size_t ip = 0, o = 0;
    for (;;) {
        size_t took = 0, got = 0, k = n - ip < chunk ? n - ip : chunk;
        if (ip < n)
            CHECK_EQ(tf_lz_encoder_sink(e, in + ip, k, &took), TF_OK);
        ip += took;
        size_t room = cap - o < chunk ? cap - o : chunk;
        tf_status st = tf_lz_encoder_poll(e, out + o, room, &got);
        o += got;
        if (st == TF_LZ_MORE || ip < n)
            continue;
        if (tf_lz_encoder_finish(e) == TF_LZ_DONE && st == TF_LZ_DONE)
            return o;
    }
}

/* Decodes frame[0..n) with dict (NULL: none) through sink/poll in chunks; returns the status it ended with. */
static tf_status dict_decode(const uint8_t *frame, size_t n, const uint8_t *dict, size_t dn, unsigned max_w,
                             size_t chunk, uint8_t *out, size_t cap, size_t *out_n) {
    tf_lz_decoder *d;
    CHECK_EQ(tf_lz_decoder_init(&d, arena, sizeof arena, max_w), TF_OK);
    if (dict)
        CHECK_EQ(tf_lz_decoder_set_dictionary(d, dict, dn), TF_OK);
    size_t ip = 0;
    *out_n = 0;
    for (;;) {
        size_t took = 0, got = 0;
        tf_lz_decoder_sink(d, frame + ip, n - ip < chunk ? n - ip : chunk, &took);
        ip += took;
        tf_status st = tf_lz_decoder_poll(d, out + *out_n, cap - *out_n < chunk ? cap - *out_n : chunk, &got);
        *out_n += got;
        if (st < 0)
            return st;
        if (tf_lz_decoder_ended(d))
            return TF_LZ_DONE;
        if (st == TF_LZ_DONE && ip == n)
            return tf_lz_decoder_finish(d);
    }
}

static void test_dictionary_round_trips(void) {
    static uint8_t dict[1u << 15], in[6000], frame[8000], once[8000], back[8000];
    static uint64_t work[40000 / 8];
    size_t dn0 = make_input(0, dict, sizeof dict), n0 = make_input(0, in, sizeof in);
    for (unsigned w = 6; w <= 15; w++) {
        unsigned l = w - 1u < 5u ? w - 1u : 5u;
        size_t dn = dn0 < ((size_t)1 << w) ? dn0 : (size_t)1 << w, lengths[] = {0, 1, 2, 3, 77, n0};
        for (unsigned k = 0; k < 6u; k++) {
            size_t n = lengths[k], chunk = 1u + (w * 7u + k) % 13u;
            for (unsigned level = 1; level <= 9u; level += 4u) {
                unsigned flags = TF_LZ_FLAG_CHECKSUM | TF_LZ_LEVEL(level);
                size_t fn = dict_stream(in, n, dict + dn0 - dn, dn, w, l, flags, chunk, frame, sizeof frame);
                CHECK_EQ(frame[4], TF_LZ_VERSION_DICT);
                CHECK_EQ(frame[6], TF_LZ_FLAG_CHECKSUM | TF_LZ_FLAG_DICT);
                uint32_t id = 0;
                CHECK_EQ(tf_lz_read_dictionary_id(frame, fn, &id), TF_OK);
                CHECK_EQ(id, tf_lz_dictionary_id(dict + dn0 - dn, dn));
                size_t on = 0, bn = 0;
                CHECK_EQ(tf_lz_compress_dict(in, n, once, sizeof once, &on, work, sizeof work, w, l, flags,
                                             dict + dn0 - dn, dn),
                         TF_OK);
                CHECK(on == fn ? memcmp(once, frame, fn) == 0 : (once[6] & TF_LZ_FLAG_STORED) && on < fn);
                /* the decoder given the whole 32 KiB dictionary of which the frame's window saw the tail: no,
                 * its id differs; given exactly the bytes, with any max_w that fits the frame */
                CHECK_EQ(dict_decode(frame, fn, dict + dn0 - dn, dn, w + (w < 15u), chunk, back, sizeof back, &bn),
                         TF_LZ_DONE);
                CHECK(bn == n && memcmp(back, in, n) == 0);
                CHECK_EQ(dict_decode(once, on, dict + dn0 - dn, dn, 15, 4096, back, sizeof back, &bn), TF_LZ_DONE);
                CHECK(bn == n && memcmp(back, in, n) == 0);
                tf_lz_decoder *d;
                size_t used = 0;
                CHECK_EQ(tf_lz_decoder_init(&d, arena, sizeof arena, 15), TF_OK);
                CHECK_EQ(tf_lz_decoder_set_dictionary(d, dict + dn0 - dn, dn), TF_OK);
                CHECK_EQ(tf_lz_decoder_decode(d, frame, fn, &used, back, sizeof back, &bn), TF_LZ_DONE);
                CHECK(tf_lz_decoder_ended(d) && used == fn && bn == n && memcmp(back, in, n) == 0);
            }
        }
    }
    /* A dictionary makes a short message smaller: the message is mostly in it. */
    static const char msg[] = "{\"device\":\"env-0007\",\"temp_c\":21.50,\"status\":\"ok\"}";
    static const char shared[] = "{\"device\":\"env-0001\",\"temp_c\":19.25,\"status\":\"ok\"}";
    size_t plain = 0, with = 0;
    CHECK_EQ(
        tf_lz_compress((const uint8_t *)msg, sizeof msg - 1u, once, sizeof once, &plain, work, sizeof work, 8, 4, 0),
        TF_OK);
    CHECK_EQ(tf_lz_compress_dict((const uint8_t *)msg, sizeof msg - 1u, frame, sizeof frame, &with, work, sizeof work,
                                 8, 4, 0, (const uint8_t *)shared, sizeof shared - 1u),
             TF_OK);
    CHECK(with + 20u < plain);
}

static void test_dictionary_errors(void) {
    static uint64_t work[40000 / 8];
    static uint8_t frame[256], plain[256], back[256], big[(1u << 15) + 1u];
    static const uint8_t dict[] = "sensor reading ok, sensor reading warn";
    static const uint8_t other[] = "sensor reading ok, sensor reading warm";
    tf_lz_encoder *e;
    tf_lz_decoder *d;
    size_t fn = 0, pn = 0, bn = 0, used = 0;
    CHECK_EQ(tf_lz_compress_dict(dict, 18, frame, sizeof frame, &fn, work, sizeof work, 8, 4, TF_LZ_FLAG_CHECKSUM, dict,
                                 sizeof dict - 1u),
             TF_OK);
    CHECK_EQ(tf_lz_compress(dict, 18, plain, sizeof plain, &pn, work, sizeof work, 8, 4, TF_LZ_FLAG_CHECKSUM), TF_OK);
    /* the frame needs this dictionary; a plain frame needs none */
    CHECK_EQ(dict_decode(frame, fn, NULL, 0, 15, 3, back, sizeof back, &bn), TF_E_DICT);
    CHECK_EQ(dict_decode(frame, fn, other, sizeof other - 1u, 15, 3, back, sizeof back, &bn), TF_E_DICT);
    CHECK_EQ(dict_decode(plain, pn, dict, sizeof dict - 1u, 15, 3, back, sizeof back, &bn), TF_E_DICT);
    CHECK_EQ(dict_decode(frame, fn, dict, sizeof dict - 1u, 15, 3, back, sizeof back, &bn), TF_LZ_DONE);
    CHECK(bn == 18 && memcmp(back, dict, 18) == 0);
    CHECK_EQ(tf_lz_decoder_init(&d, arena, sizeof arena, 15), TF_OK);
    CHECK_EQ(tf_lz_decoder_decode(d, frame, fn, &used, back, sizeof back, &bn), TF_E_DICT);
    CHECK_EQ(tf_lz_decoder_finish(d), TF_E_DICT); /* the decoder stays failed */
    CHECK(strcmp(tf_status_str(TF_E_DICT), "wrong preset dictionary") == 0);
    /* the header: 11 bytes, the id little-endian after the 7 */
    unsigned w = 0, l = 0, flags = 0;
    uint32_t id = 0;
    CHECK_EQ(tf_lz_read_header(frame, 10, &w, &l, &flags), TF_E_EMPTY);
    CHECK_EQ(tf_lz_read_header(frame, 11, &w, &l, &flags), TF_OK);
    CHECK(w == 8 && l == 4 && flags == (TF_LZ_FLAG_CHECKSUM | TF_LZ_FLAG_DICT));
    CHECK_EQ(tf_lz_read_dictionary_id(frame, 11, &id), TF_OK);
    CHECK_EQ(id, tf_lz_dictionary_id(dict, sizeof dict - 1u));
    CHECK_EQ(tf_lz_read_dictionary_id(plain, pn, &id), TF_E_ARG);
    CHECK_EQ(tf_lz_read_dictionary_id(frame, 9, &id), TF_E_EMPTY);
    uint8_t bad[sizeof frame];
    memcpy(bad, frame, fn);
    bad[6] &= (uint8_t)~TF_LZ_FLAG_DICT; /* version 4 without its flag */
    CHECK_EQ(tf_lz_read_header(bad, fn, &w, &l, &flags), TF_E_CORRUPT);
    memcpy(bad, frame, fn);
    bad[6] |= TF_LZ_FLAG_FILTER; /* a filter and a dictionary: never written */
    CHECK_EQ(tf_lz_read_header(bad, fn, &w, &l, &flags), TF_E_CORRUPT);
    memcpy(bad, plain, pn);
    bad[6] |= TF_LZ_FLAG_DICT; /* version 2 with the flag */
    CHECK_EQ(tf_lz_read_header(bad, pn, &w, &l, &flags), TF_E_CORRUPT);
    /* encoder arguments and states */
    CHECK_EQ(tf_lz_encoder_init(&e, work, sizeof work, 8, 4, 0), TF_OK);
    CHECK_EQ(tf_lz_encoder_set_dictionary(NULL, dict, 3), TF_E_NULL);
    CHECK_EQ(tf_lz_encoder_set_dictionary(e, NULL, 3), TF_E_NULL);
    CHECK_EQ(tf_lz_encoder_set_dictionary(e, dict, 0), TF_E_ARG);
    CHECK_EQ(tf_lz_encoder_set_dictionary(e, big, 257), TF_E_ARG); /* more than the window */
    CHECK_EQ(tf_lz_encoder_set_dictionary(e, big, 256), TF_OK);
    CHECK_EQ(tf_lz_encoder_set_dictionary(e, dict, 3), TF_E_ARG); /* one only */
    CHECK_EQ(tf_lz_encoder_init(&e, work, sizeof work, 8, 4, 0), TF_OK);
    CHECK_EQ(tf_lz_encoder_sink(e, dict, 3, &used), TF_OK);
    CHECK_EQ(tf_lz_encoder_set_dictionary(e, dict, 3), TF_E_STATE); /* after data */
#if TF_LZ_FILTERS
    CHECK_EQ(tf_lz_encoder_init(&e, work, sizeof work, 8, 4, TF_LZ_FILTER(0x11u)), TF_OK);
    CHECK_EQ(tf_lz_encoder_set_dictionary(e, dict, 3), TF_E_ARG);
    CHECK_EQ(
        tf_lz_compress_dict(dict, 3, frame, sizeof frame, &fn, work, sizeof work, 8, 4, TF_LZ_FILTER(0x11u), dict, 3),
        TF_E_ARG);
#endif
    /* decoder arguments and states */
    CHECK_EQ(tf_lz_decoder_init(&d, arena, sizeof arena, 8), TF_OK);
    CHECK_EQ(tf_lz_decoder_set_dictionary(d, NULL, 3), TF_E_NULL);
    CHECK_EQ(tf_lz_decoder_set_dictionary(d, dict, 0), TF_E_ARG);
    CHECK_EQ(tf_lz_decoder_set_dictionary(d, big, sizeof big), TF_E_ARG);
    CHECK_EQ(tf_lz_decoder_set_dictionary(d, big, sizeof big - 1u), TF_OK); /* its last 256 bytes kept */
    CHECK_EQ(tf_lz_decoder_set_dictionary(d, dict, 3), TF_E_STATE);
    CHECK_EQ(tf_lz_decoder_init(&d, arena, sizeof arena, 15), TF_OK);
    CHECK_EQ(tf_lz_decoder_decode(d, plain, 8, &used, back, sizeof back, &bn), TF_LZ_DONE); /* header started */
    CHECK_EQ(tf_lz_decoder_set_dictionary(d, dict, 3), TF_E_STATE);
}

/* A W=8 frame made with a dictionary longer than... no: the encoder takes at most 2^W bytes, so a decoder with a
 * larger window keeps more of a dictionary than the frame can use and must use only its last 2^W bytes. */
static void test_dictionary_tail_in_a_larger_decoder(void) {
    static uint8_t dict[256], in[300], frame[600], back[600];
    static uint64_t work[40000 / 8];
    for (size_t i = 0; i < sizeof dict; i++)
        dict[i] = (uint8_t)(i * 7u + (i >> 4));
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = dict[(i * 13u) % sizeof dict]; /* matches reaching anywhere into the dictionary */
    size_t fn = 0, bn = 0;
    CHECK_EQ(
        tf_lz_compress_dict(in, sizeof in, frame, sizeof frame, &fn, work, sizeof work, 8, 3, 0, dict, sizeof dict),
        TF_OK);
    for (unsigned max_w = 8; max_w <= 15u; max_w++) {
        CHECK_EQ(dict_decode(frame, fn, dict, sizeof dict, max_w, 5, back, sizeof back, &bn), TF_LZ_DONE);
        CHECK(bn == sizeof in && memcmp(back, in, sizeof in) == 0);
    }
}

static void test_train_dictionary(void) {
    static uint8_t samples[40000], dict[4096], again[4096];
    static size_t sizes[400];
    static uint64_t work[(9u * 40000u + 64u) / 8u];
    size_t total = 0, count = 0;
    while (count < 300u) {
        int n = snprintf((char *)samples + total, sizeof samples - total,
                         "{\"device\":\"env-%04u\",\"seq\":%u,\"temp_c\":%u.%02u,\"status\":\"%s\"}",
                         (unsigned)(rnd() % 40u), 1000u + (unsigned)count, 18u + (unsigned)(rnd() % 8u),
                         (unsigned)(rnd() % 100u), rnd() % 4u ? "ok" : "warn");
        sizes[count++] = (size_t)n;
        total += (size_t)n;
    }
    size_t made = 0, made2 = 0;
    CHECK_EQ(tf_lz_train_work_size(total), 9u * total + 16u);
    CHECK_EQ(tf_lz_train_dictionary(samples, sizes, count, dict, sizeof dict, &made, work, sizeof work), TF_OK);
    CHECK(made > 0 && made <= sizeof dict);
    CHECK_EQ(tf_lz_train_dictionary(samples, sizes, count, again, sizeof again, &made2, work, sizeof work), TF_OK);
    CHECK(made2 == made && memcmp(dict, again, made) == 0); /* deterministic */
    /* the most shared string is near the end */
    static const char key[] = "\",\"seq\":";
    int near_end = 0;
    for (size_t i = made > 200u ? made - 200u : 0; i + sizeof key - 1u <= made; i++)
        near_end |= memcmp(dict + i, key, sizeof key - 1u) == 0;
    CHECK(near_end);
    CHECK_EQ(tf_lz_train_dictionary(samples, sizes, count, dict, 10, &made, work, sizeof work), TF_OK);
    CHECK(made > 0 && made <= 10u);
    CHECK_EQ(tf_lz_train_dictionary(samples, sizes, count, dict, 0, &made, work, sizeof work), TF_E_ARG);
    CHECK_EQ(tf_lz_train_dictionary(samples, sizes, 0, dict, 100, &made, work, sizeof work), TF_E_ARG);
    CHECK_EQ(tf_lz_train_dictionary(samples, sizes, count, dict, 100, &made, work, 9u * total), TF_E_SIZE);
    CHECK_EQ(tf_lz_train_dictionary(samples, sizes, count, dict, 100, &made, (uint8_t *)work + 1, sizeof work - 8u),
             TF_E_ALIGN);
    CHECK_EQ(tf_lz_train_dictionary(samples, sizes, count, NULL, 100, &made, work, sizeof work), TF_E_NULL);
    /* nothing shared: an empty dictionary */
    static const size_t two[] = {8, 8};
    CHECK_EQ(tf_lz_train_dictionary((const uint8_t *)"abcdefghijklmnop", two, 2, dict, 100, &made, work, sizeof work),
             TF_OK);
    CHECK_EQ(made, 0u);
    /* samples shorter than a string, and a single one */
    static const size_t tiny[] = {3, 2, 0};
    CHECK_EQ(tf_lz_train_dictionary((const uint8_t *)"abcde", tiny, 3, dict, 100, &made, work, sizeof work), TF_OK);
    CHECK_EQ(made, 0u);
}
#else
static void test_dictionaries_not_built(void) {
    static uint64_t work[40000 / 8];
    static const uint8_t frame[] = {'T', 'F', 'L', 'Z', 4, 0x48, TF_LZ_FLAG_DICT, 1, 0, 0, 0, 0, 0};
    tf_lz_encoder *e;
    tf_lz_decoder *d;
    unsigned w, l, flags;
    CHECK_EQ(tf_lz_encoder_init(&e, work, sizeof work, 8, 4, 0), TF_OK);
    CHECK_EQ(tf_lz_encoder_set_dictionary(e, frame, 3), TF_E_ARG);
    CHECK_EQ(tf_lz_decoder_init(&d, work, sizeof work, 8), TF_OK);
    CHECK_EQ(tf_lz_decoder_set_dictionary(d, frame, 3), TF_E_ARG);
    CHECK_EQ(tf_lz_read_header(frame, sizeof frame, &w, &l, &flags), TF_E_VERSION);
}
#endif

int main(void) {
    RUN(test_codes_are_complete_and_canonical);
    RUN(test_sizes_and_init);
    RUN(test_every_chunking);
    RUN(test_every_level_in_both_drivers);
    RUN(test_short_inputs);
    RUN(test_window_boundaries);
    RUN(test_one_shot_and_corruption);
    RUN(test_stored_fallback_and_bound);
    RUN(test_far_match_then_long_run);
    RUN(test_every_output_size);
#if TF_LZ_FILTERS
    RUN(test_filter_round_trips);
    RUN(test_filter_gain);
    RUN(test_filter_errors);
#else
    RUN(test_filters_not_built);
#endif
#if TF_LZ_DICTIONARY
    RUN(test_dictionary_round_trips);
    RUN(test_dictionary_errors);
    RUN(test_dictionary_tail_in_a_larger_decoder);
    RUN(test_train_dictionary);
#else
    RUN(test_dictionaries_not_built);
#endif
    return TF_TEST_SUMMARY();
}
