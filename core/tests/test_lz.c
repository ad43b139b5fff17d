/* Tests for thrifty.lz: parameter and storage checks, the stream state machines under every chunking of input and
 * output, the output bound, the one-shot path, and the decoder's refusal of corrupt, truncated and foreign frames. */
#include <stdint.h>
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
    size_t es = tf_lz_encoder_size(w, l), ds = tf_lz_decoder_size(w);
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
    size_t bound = n + 4u * (n >> w) + TF_LZ_FRAME_OVERHEAD;
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

int main(void) {
    RUN(test_codes_are_complete_and_canonical);
    RUN(test_sizes_and_init);
    RUN(test_every_chunking);
    RUN(test_short_inputs);
    RUN(test_window_boundaries);
    RUN(test_one_shot_and_corruption);
    RUN(test_stored_fallback_and_bound);
    RUN(test_far_match_then_long_run);
    RUN(test_every_output_size);
    return TF_TEST_SUMMARY();
}
