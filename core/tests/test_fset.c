/* C tests for frozen sets and maps (fset.h): build, lookup, determinism, and validation of hostile blocks. */
#include <stdlib.h>
#include <string.h>

#include "tf_test.h"
#include "thrifty/fset.h"

/* The source form of `in`: callbacks over its arrays, as a caller whose entries live elsewhere would write them. */
static int64_t src_int_key(void *c, size_t i) { return ((tf_fset_input *)c)->int_keys[i]; }
static tf_fspan src_span_key(void *c, size_t i) { return ((tf_fset_input *)c)->span_keys[i]; }
static int64_t src_int_value(void *c, size_t i) { return ((tf_fset_input *)c)->int_values[i]; }
static double src_float_value(void *c, size_t i) { return ((tf_fset_input *)c)->float_values[i]; }
static tf_fspan src_span_value(void *c, size_t i) { return ((tf_fset_input *)c)->span_values[i]; }

static tf_fset_source source_of(tf_fset_input *in) {
    tf_fset_source src = {0};
    src.count = in->count;
    src.is_map = in->is_map;
    src.key_kind = in->key_kind;
    src.value_kind = in->value_kind;
    src.ctx = in;
    src.int_key = in->int_keys ? src_int_key : NULL;
    src.span_key = in->span_keys ? src_span_key : NULL;
    src.int_value = in->int_values ? src_int_value : NULL;
    src.float_value = in->float_values ? src_float_value : NULL;
    src.span_value = in->span_values ? src_span_value : NULL;
    return src;
}

/* Builds `in` into a malloc'd block of exactly its size (so ASan sees any read past the end). Every block is also
 * built from the source form into a buffer of exactly tf_fset_source_size() bytes at an odd address (the counting
 * sort's counts then live in that tight, unaligned buffer), which must give the same bytes; the size is exact when
 * the keys are distinct. */
static uint8_t *build(const tf_fset_input *in, size_t *len) {
    size_t bound = tf_fset_bound(in), ss = tf_fset_scratch_size(in->count);
    uint64_t *scratch = malloc(ss);
    uint8_t *tmp = malloc(bound), *out, *tight;
    tf_fset_input copy = *in;
    tf_fset_source src = source_of(&copy);
    size_t size = tf_fset_source_size(&src), sss = tf_fset_source_scratch_size(&src), len2 = 0;
    tf_status st = tf_fset_build(in, scratch, ss, tmp, bound, len);
    tf_fset t;
    CHECK_EQ(st, TF_OK);
    CHECK(*len <= bound);
    CHECK(sss > 0 && sss <= ss);
    CHECK(size >= *len);
    CHECK_EQ(tf_fset_validate(&t, tmp, *len, NULL), TF_OK);
    if (tf_fset_count(&t) == in->count)
        CHECK_EQ(size, *len);
    tight = malloc(size + 1u);
    CHECK_EQ(tf_fset_build_source(&src, scratch, sss, tight + 1, size, &len2), TF_OK);
    CHECK_EQ(len2, *len);
    CHECK(memcmp(tight + 1, tmp, *len) == 0);
    /* duplicates: one byte less than the size still holds the block (a set of 2-byte ints sorts in place, in the
     * room of all its keys) */
    if (size > *len && sss > 8u)
        CHECK_EQ(tf_fset_build_source(&src, scratch, sss, tight + 1, size - 1u, &len2), TF_OK);
    if (sss > 8u) /* one entry's scratch too little */
        CHECK_EQ(tf_fset_build_source(&src, scratch, sss - 4u, tight + 1, size, &len2), TF_E_SIZE);
    free(tight);
    out = malloc(*len);
    memcpy(out, tmp, *len);
    free(tmp);
    free(scratch);
    return out;
}

static uint64_t rng_state = 12345;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void test_empty(void) {
    tf_fset_input in = {0};
    tf_fset t;
    size_t len;
    uint8_t *b = build(&in, &len);
    CHECK_EQ(tf_fset_validate(&t, b, len, NULL), TF_OK);
    CHECK_EQ(tf_fset_count(&t), 0);
    CHECK_EQ(tf_fset_key_kind(&t), TF_FSET_NONE);
    CHECK(tf_fset_find_int(&t, 0) == TF_FSET_NOT_FOUND);
    CHECK(tf_fset_find_bytes(&t, "", 0) == TF_FSET_NOT_FOUND);
    free(b);
}

static void check_ints(const int64_t *keys, size_t n, unsigned expect_w) {
    tf_fset_input in = {0};
    tf_fset t;
    size_t len;
    uint8_t *b;
    in.count = n;
    in.key_kind = TF_FSET_INT;
    in.int_keys = keys;
    b = build(&in, &len);
    CHECK_EQ(tf_fset_validate(&t, b, len, NULL), TF_OK);
    CHECK_EQ(t.key_w, expect_w);
    for (size_t i = 0; i < n; i++) {
        size_t at = tf_fset_find_int(&t, keys[i]);
        CHECK(at != TF_FSET_NOT_FOUND);
        if (at != TF_FSET_NOT_FOUND)
            CHECK(tf_fset_key_int(&t, at) == keys[i]);
    }
    free(b);
}

static void test_int_widths(void) {
    int64_t k1[] = {-128, 0, 127, 5};
    int64_t k2[] = {-32768, 32767, 1, 128};
    int64_t k4[] = {INT32_MIN, INT32_MAX, 70000};
    int64_t k8[] = {INT64_MIN, INT64_MAX, 0, -1, (int64_t)1 << 40};
    check_ints(k1, 4, 1);
    check_ints(k2, 4, 2);
    check_ints(k4, 3, 4);
    check_ints(k8, 5, 8);
}

static void test_int_many(void) {
    enum { N = 20000 };
    int64_t *keys = malloc(N * sizeof *keys);
    tf_fset_input in = {0};
    tf_fset t;
    size_t len, found = 0, seen_misses = 0;
    uint8_t *b;
    for (size_t i = 0; i < N; i++)
        keys[i] = (int64_t)(rnd() >> 2) * 2; /* even keys: odd ones are certain misses */
    in.count = N;
    in.key_kind = TF_FSET_INT;
    in.int_keys = keys;
    b = build(&in, &len);
    CHECK_EQ(tf_fset_validate(&t, b, len, NULL), TF_OK);
    CHECK_EQ(t.index_w, 2);
    for (size_t i = 0; i < N; i++) {
        found += tf_fset_find_int(&t, keys[i]) != TF_FSET_NOT_FOUND;
        seen_misses += tf_fset_find_int(&t, keys[i] + 1) == TF_FSET_NOT_FOUND;
    }
    CHECK_EQ(found, N);
    CHECK_EQ(seen_misses, N);
    /* iteration yields every key once: sum and xor match */
    {
        uint64_t xa = 0, xb = 0;
        for (size_t i = 0; i < N; i++) {
            xa ^= (uint64_t)keys[i];
            xb ^= (uint64_t)tf_fset_key_int(&t, i);
        }
        CHECK(xa == xb);
    }
    free(b);
    free(keys);
}

/* 1 when v is among keys[0 .. n). */
static int has_key(const int64_t *keys, size_t n, int64_t v) {
    for (size_t i = 0; i < n; i++)
        if (keys[i] == v)
            return 1;
    return 0;
}

/* Lookups of every narrow width against a shadow, with queries that differ from a key in one lane's top bit, low
 * bit or whole byte: the word-at-a-time compare of a run (8 / w keys a 64-bit word) must flag exactly equal keys. */
static void test_int_window(void) {
    static const int64_t lim[4] = {127, 32767, INT32_MAX, INT64_MAX};
    static const unsigned width[4] = {1, 2, 4, 8};
    enum { N = 200 };
    int64_t keys[N];
    for (int wi = 0; wi < 4; wi++) {
        tf_fset_input in = {0};
        tf_fset t;
        size_t len, n = 0;
        uint8_t *b;
        keys[n++] = -lim[wi] - 1; /* the width's extremes and 0, -1 (all-zero and all-one lanes) */
        keys[n++] = lim[wi];
        keys[n++] = 0;
        keys[n++] = -1;
        while (n < (wi == 0 ? 100u : (size_t)N)) {
            int64_t v = (int64_t)(rnd() >> 1) % lim[wi];
            if (rnd() & 1u)
                v = -v;
            if (!has_key(keys, n, v))
                keys[n++] = v;
        }
        in.count = n;
        in.key_kind = TF_FSET_INT;
        in.int_keys = keys;
        b = build(&in, &len);
        CHECK_EQ(tf_fset_validate(&t, b, len, NULL), TF_OK);
        CHECK_EQ(t.key_w, width[wi]);
        for (size_t i = 0; i < n; i++)
            for (unsigned d = 0; d < 8u * width[wi] + 3u; d++) {
                /* the key itself, then one bit flipped at each position, then +1, -1 */
                int64_t q = d == 0u                    ? keys[i]
                            : d <= 8u * width[wi]      ? (int64_t)((uint64_t)keys[i] ^ ((uint64_t)1 << (d - 1u)))
                            : d == 8u * width[wi] + 1u ? keys[i] + (keys[i] < lim[wi])
                                                       : keys[i] - (keys[i] > -lim[wi] - 1);
                size_t at = tf_fset_find_int(&t, q);
                CHECK_EQ(at != TF_FSET_NOT_FOUND, has_key(keys, n, q));
                if (at != TF_FSET_NOT_FOUND)
                    CHECK(tf_fset_key_int(&t, at) == q);
            }
        free(b);
    }
}

static void test_deterministic(void) {
    int64_t a[] = {5, 1, 9, 1000, -3, 5, 9};
    int64_t c[] = {-3, 1000, 9, 1, 5};
    tf_fset_input in = {0};
    size_t la, lc;
    uint8_t *ba, *bc;
    in.key_kind = TF_FSET_INT;
    in.count = 7;
    in.int_keys = a;
    ba = build(&in, &la);
    in.count = 5;
    in.int_keys = c;
    bc = build(&in, &lc);
    CHECK_EQ(la, lc);
    CHECK(la == lc && memcmp(ba, bc, la) == 0);
    free(ba);
    free(bc);
}

/* Sets of ints that fit 2 bytes are sorted in place in the block (tf__build_narrow): many duplicates, every key found,
 * the count is the distinct keys', and the same bytes whatever the input order. */
static void test_narrow_sets_in_place(void) {
    enum { N = 100000 };
    int64_t *keys = malloc(N * sizeof *keys);
    uint8_t *seen = calloc(65536, 1), *b1, *b2;
    size_t distinct = 0, l1, l2;
    tf_fset_input in = {0};
    tf_fset t;
    for (size_t i = 0; i < N; i++) {
        keys[i] = (int64_t)(rnd() % 65536u) - 32768;
        distinct += !seen[keys[i] + 32768];
        seen[keys[i] + 32768] = 1;
    }
    in.key_kind = TF_FSET_INT;
    in.count = N;
    in.int_keys = keys;
    b1 = build(&in, &l1);
    CHECK_EQ(tf_fset_validate(&t, b1, l1, NULL), TF_OK);
    CHECK_EQ(tf_fset_count(&t), distinct);
    for (int64_t k = -32768; k < 32768; k++)
        CHECK_EQ(tf_fset_find_int(&t, k) != TF_FSET_NOT_FOUND, seen[k + 32768] != 0);
    for (size_t i = 0; i < N / 2; i++) { /* reversed input: the same block */
        int64_t x = keys[i];
        keys[i] = keys[N - 1 - i];
        keys[N - 1 - i] = x;
    }
    b2 = build(&in, &l2);
    CHECK(l1 == l2 && memcmp(b1, b2, l1) == 0);
    free(b1);
    free(b2);
    free(seen);
    free(keys);
}

static void test_str_map(void) {
    const char *words[] = {"alpha", "beta", "", "gamma", "beta", "\xc3\xa9t\xc3\xa9"};
    int64_t vals[] = {1, 2, 3, 4, 100000, -6};
    tf_fspan keys[6];
    tf_fset_input in = {0};
    tf_fset t;
    size_t len, at;
    uint8_t *b;
    for (int i = 0; i < 6; i++) {
        keys[i].data = words[i];
        keys[i].len = strlen(words[i]);
    }
    in.count = 6;
    in.is_map = 1;
    in.key_kind = TF_FSET_STR;
    in.span_keys = keys;
    in.value_kind = TF_FSET_INT;
    in.int_values = vals;
    b = build(&in, &len);
    CHECK_EQ(tf_fset_validate(&t, b, len, NULL), TF_OK);
    CHECK_EQ(tf_fset_count(&t), 5);
    CHECK_EQ(t.value_w, 4); /* 100000 won for "beta", so values need 4 bytes */
    at = tf_fset_find_bytes(&t, "beta", 4);
    CHECK(at != TF_FSET_NOT_FOUND && tf_fset_value_int(&t, at) == 100000);
    at = tf_fset_find_bytes(&t, "", 0);
    CHECK(at != TF_FSET_NOT_FOUND && tf_fset_value_int(&t, at) == 3);
    at = tf_fset_find_bytes(&t, "\xc3\xa9t\xc3\xa9", 5);
    CHECK(at != TF_FSET_NOT_FOUND && tf_fset_value_int(&t, at) == -6);
    CHECK(tf_fset_find_bytes(&t, "bet", 3) == TF_FSET_NOT_FOUND);
    CHECK(tf_fset_find_int(&t, 1) == TF_FSET_NOT_FOUND);
    free(b);
}

static void test_span_values(void) {
    int64_t keys[] = {10, 20, 30};
    tf_fspan vals[] = {{"x", 1}, {NULL, 0}, {"zzz", 3}};
    double fv[] = {1.5, -0.0, 1e300};
    tf_fset_input in = {0};
    tf_fset t;
    size_t len, at;
    uint8_t *b;
    tf_fspan s;
    in.count = 3;
    in.is_map = 1;
    in.key_kind = TF_FSET_INT;
    in.int_keys = keys;
    in.value_kind = TF_FSET_BYTES;
    in.span_values = vals;
    b = build(&in, &len);
    CHECK_EQ(tf_fset_validate(&t, b, len, NULL), TF_OK);
    at = tf_fset_find_int(&t, 30);
    s = tf_fset_value_span(&t, at);
    CHECK(s.len == 3 && memcmp(s.data, "zzz", 3) == 0);
    s = tf_fset_value_span(&t, tf_fset_find_int(&t, 20));
    CHECK_EQ(s.len, 0);
    free(b);
    in.value_kind = TF_FSET_FLOAT;
    in.span_values = NULL;
    in.float_values = fv;
    b = build(&in, &len);
    CHECK_EQ(tf_fset_validate(&t, b, len, NULL), TF_OK);
    CHECK_DOUBLE_EQ(tf_fset_value_float(&t, tf_fset_find_int(&t, 10)), 1.5);
    CHECK_DOUBLE_EQ(tf_fset_value_float(&t, tf_fset_find_int(&t, 30)), 1e300);
    free(b);
}

/* Sequential (tf_fset_key_next) and random (tf_fset_key_span) access agree, and every key is found where it is. */
static void test_span_iteration(void) {
    enum { N = 3000 };
    static char text[N][12];
    tf_fspan keys[N];
    tf_fset_input in = {0};
    tf_fset t;
    size_t len, off = 0, total = 0;
    uint8_t *b;
    for (int i = 0; i < N; i++) {
        keys[i].len = (size_t)snprintf(text[i], sizeof text[i], "k%d", i * 7919);
        keys[i].data = text[i];
        total += keys[i].len;
    }
    in.count = N;
    in.key_kind = TF_FSET_BYTES;
    in.span_keys = keys;
    b = build(&in, &len);
    CHECK_EQ(tf_fset_validate(&t, b, len, NULL), TF_OK);
    for (size_t i = 0; i < N; i++) {
        tf_fspan a = tf_fset_key_next(&t, &off), c = tf_fset_key_span(&t, i);
        CHECK(a.len == c.len && a.data == c.data);
        CHECK(tf_fset_find_bytes(&t, a.data, a.len) == i);
        total -= a.len;
    }
    CHECK_EQ(total, 0);
    CHECK(tf_fset_key_next(&t, &off).data == NULL); /* past the end */
    CHECK(tf_fset_key_span(&t, N).data == NULL);
    free(b);
}

/* The span key equal to q[0..len) among keys[0..n), or n. */
static size_t span_index(const tf_fspan *keys, size_t n, const char *q, size_t len) {
    for (size_t i = 0; i < n; i++)
        if (keys[i].len == len && (len == 0 || memcmp(keys[i].data, q, len) == 0))
            return i;
    return n;
}

/* Lookups of str keys through each index width (2, 3, 4 bytes: key records up to 65535 bytes, past it, past 16 MiB,
 * made so by one long key) and through records whose length takes one LEB128 byte or two (keys of 4 to 304 bytes,
 * mixed in the same buckets): every key is found at its position, and a key with its last byte changed, one byte
 * shorter or one longer is found exactly when it is a key too. */
static void test_span_lookup_widths(void) {
    enum { N = 300, MAXLEN = 305 };
    static const size_t pad[3] = {0, 70000, 17000000};
    static const unsigned want_w[3] = {2, 3, 4};
    static char text[N][MAXLEN + 1];
    static tf_fspan keys[N + 1];
    char *big = malloc(pad[2]), q[MAXLEN + 2];
    for (size_t i = 0; i < N; i++) {
        size_t len = 4u + (i * 37u) % 301u;
        snprintf(text[i], sizeof text[i], "%04zu", i); /* distinct: the first 4 bytes */
        for (size_t j = 4; j < len; j++)
            text[i][j] = (char)('a' + (i + j) % 26u);
        keys[i].data = text[i];
        keys[i].len = len;
    }
    memset(big, 'z', pad[2]);
    for (size_t c = 0; c < 3; c++) {
        tf_fset_input in = {0};
        tf_fset t;
        size_t len, n = N + (pad[c] > 0u);
        uint8_t *b;
        keys[N].data = big;
        keys[N].len = pad[c];
        in.count = n;
        in.key_kind = TF_FSET_STR;
        in.span_keys = keys;
        b = build(&in, &len);
        CHECK_EQ(tf_fset_validate(&t, b, len, NULL), TF_OK);
        CHECK_EQ(t.index_w, want_w[c]);
        for (size_t i = 0; i < n; i++) {
            size_t at = tf_fset_find_bytes(&t, keys[i].data, keys[i].len), k = keys[i].len;
            tf_fspan got;
            CHECK(at != TF_FSET_NOT_FOUND);
            got = tf_fset_key_span(&t, at);
            CHECK(got.len == k && memcmp(got.data, keys[i].data, k) == 0);
            if (i == N)
                continue;
            memcpy(q, keys[i].data, k);
            q[k] = 'q';
            for (int v = 0; v < 3; v++) {
                size_t qlen = v == 0 ? k : v == 1 ? k - 1u : k + 1u;
                char saved = q[k - 1u];
                if (v == 0)
                    q[k - 1u] = (char)(q[k - 1u] ^ 0x40);
                at = tf_fset_find_bytes(&t, q, qlen);
                CHECK_EQ(at != TF_FSET_NOT_FOUND, span_index(keys, n, q, qlen) < n);
                q[k - 1u] = saved;
            }
        }
        free(b);
    }
    free(big);
}

static void test_build_errors(void) {
    int64_t keys[] = {1, 2};
    uint64_t scratch[8];
    uint8_t out[256];
    size_t len;
    tf_fset_input in = {0};
    in.count = 2;
    in.key_kind = TF_FSET_INT;
    in.int_keys = keys;
    CHECK_EQ(tf_fset_build(NULL, scratch, sizeof scratch, out, sizeof out, &len), TF_E_NULL);
    CHECK_EQ(tf_fset_build(&in, scratch, 8, out, sizeof out, &len), TF_E_SIZE);
    CHECK_EQ(tf_fset_build(&in, (uint8_t *)scratch + 1, sizeof scratch - 1, out, sizeof out, &len), TF_E_ALIGN);
    CHECK_EQ(tf_fset_build(&in, scratch, sizeof scratch, out, 40, &len), TF_E_SIZE);
    in.value_kind = TF_FSET_INT; /* a set with values */
    CHECK_EQ(tf_fset_build(&in, scratch, sizeof scratch, out, sizeof out, &len), TF_E_ARG);
    CHECK_EQ(tf_fset_bound(&in), 0);
    in.value_kind = TF_FSET_NONE;
    in.key_kind = 7;
    CHECK_EQ(tf_fset_build(&in, scratch, sizeof scratch, out, sizeof out, &len), TF_E_ARG);
}

static uint8_t *small_str_block(size_t *len) {
    tf_fspan keys[] = {{"one", 3}, {"two", 3}, {"three", 5}, {"four", 4}, {"five", 4}};
    tf_fspan vals[] = {{"1", 1}, {"2", 1}, {"3", 1}, {"4", 1}, {"5", 1}};
    tf_fset_input in = {0};
    in.count = 5;
    in.is_map = 1;
    in.key_kind = TF_FSET_STR;
    in.span_keys = keys;
    in.value_kind = TF_FSET_STR;
    in.span_values = vals;
    return build(&in, len);
}

/* Reads everything a binding would read; under ASan any out-of-bounds read fails the test. */
static void read_all(const tf_fset *t) {
    for (size_t i = 0; i < tf_fset_count(t); i++) {
        tf_fspan k = tf_fset_key_span(t, i), v = tf_fset_value_span(t, i);
        volatile uint8_t sink = 0;
        for (size_t j = 0; j < k.len; j++)
            sink ^= ((const uint8_t *)k.data)[j];
        for (size_t j = 0; j < v.len; j++)
            sink ^= ((const uint8_t *)v.data)[j];
        (void)tf_fset_find_bytes(t, k.data, k.len);
        (void)tf_fset_key_int(t, i);
        (void)sink;
    }
    (void)tf_fset_find_bytes(t, "zz", 2);
    (void)tf_fset_find_int(t, 3);
}

static void reseal(uint8_t *b, size_t len) { tf__store_le64(b + 8, tf_fset_checksum(b, len)); }

static void test_validate_hostile(void) {
    size_t len;
    uint8_t *b = small_str_block(&len), *c;
    tf_fset t;
    const char *why;
    CHECK_EQ(tf_fset_validate(&t, b, len, &why), TF_OK);
    CHECK_EQ(tf_fset_validate(&t, b, len - 1, &why), TF_E_CORRUPT);
    CHECK_EQ(tf_fset_validate(&t, b, 10, &why), TF_E_CORRUPT);
    CHECK_EQ(tf_fset_validate(&t, NULL, 0, &why), TF_E_CORRUPT);
    c = malloc(len);
    /* every single-byte change is caught, whether or not the checksum is then forged to match */
    for (size_t i = 0; i < len; i++) {
        for (int forge = 0; forge < 2; forge++) {
            tf_status st;
            memcpy(c, b, len);
            c[i] ^= (uint8_t)(1u + (rnd() % 255u));
            if (forge && i >= 16)
                reseal(c, len);
            st = tf_fset_validate(&t, c, len, &why);
            if (i >= 8 && i < 16)
                CHECK(st != TF_OK);
            if (st == TF_OK)
                read_all(&t); /* e.g. a changed key byte: sound structure, wrong answers, no stray reads */
            else
                CHECK(why[0] != '\0');
        }
    }
    memcpy(c, b, len);
    c[4] = 3; /* versions 1 and 2 are read; 3 is from the future */
    CHECK_EQ(tf_fset_validate(&t, c, len, &why), TF_E_VERSION);
    /* a block mutated after validation: reads clamp and stay inside */
    memcpy(c, b, len);
    CHECK_EQ(tf_fset_validate(&t, c, len, &why), TF_OK);
    for (size_t i = TF_FSET_HEADER_SIZE; i < len; i++)
        c[i] = 0xFF;
    read_all(&t);
    free(c);
    free(b);
}

/* Offset fields widen 2 -> 3 -> 4 bytes at 65536 and 16 Mi; a block with a 3-byte field is version 2, any other
 * version 1 (so version-1 readers read it); a version-1 block claiming a 3-byte field is refused. */
static void test_offset_widths_and_versions(void) {
    enum { N = 70000 };
    static const size_t counts[] = {65535, 65536};
    int64_t *keys = malloc(N * sizeof *keys);
    tf_fset_input in = {0};
    tf_fset t;
    size_t len;
    uint8_t *b;
    for (size_t i = 0; i < N; i++)
        keys[i] = (int64_t)i * 7 - 1000;
    in.key_kind = TF_FSET_INT;
    in.int_keys = keys;
    for (size_t c = 0; c < 2; c++) {
        in.count = counts[c];
        b = build(&in, &len);
        CHECK_EQ(b[4], c == 0 ? 1 : 2);
        CHECK_EQ(tf_fset_validate(&t, b, len, NULL), TF_OK);
        CHECK_EQ(t.index_w, c == 0 ? 2 : 3);
        for (size_t i = 0; i < in.count; i += 97) {
            size_t at = tf_fset_find_int(&t, keys[i]);
            CHECK(at != TF_FSET_NOT_FOUND);
            CHECK_EQ(tf_fset_key_int(&t, at), keys[i]);
            CHECK(tf_fset_find_int(&t, keys[i] + 1) == TF_FSET_NOT_FOUND);
        }
        if (c == 1) {
            const char *why = NULL;
            b[4] = 1; /* a version-1 block cannot have 3-byte fields, whatever its checksum */
            tf__store_le64(b + 8, tf_fset_checksum(b, len));
            CHECK_EQ(tf_fset_validate(&t, b, len, &why), TF_E_CORRUPT);
            CHECK(strstr(why, "index width") != NULL);
            b[4] = 3; /* a version from the future */
            CHECK_EQ(tf_fset_validate(&t, b, len, &why), TF_E_VERSION);
        }
        free(b);
    }
    free(keys);
    {
        /* str values: 3-byte offsets once the value bytes pass 65535, 4-byte past 16 MiB */
        enum { V = 3 };
        static const size_t value_len[] = {21845, 21846, 5592406} /* x3: 65535, 65538, > 16 Mi */;
        static const unsigned want_w[] = {2, 3, 4};
        tf_fspan ks[V], vs[V];
        char *big = calloc(1, 6000000), names[V][2] = {{'a', 0}, {'b', 0}, {'c', 0}};
        for (size_t c = 0; c < V; c++) {
            for (size_t i = 0; i < V; i++) {
                ks[i].data = names[i];
                ks[i].len = 1;
                vs[i].data = big;
                vs[i].len = value_len[c];
            }
            in = (tf_fset_input){0};
            in.count = V;
            in.is_map = 1;
            in.key_kind = TF_FSET_STR;
            in.span_keys = ks;
            in.value_kind = TF_FSET_BYTES;
            in.span_values = vs;
            b = build(&in, &len);
            CHECK_EQ(tf_fset_validate(&t, b, len, NULL), TF_OK);
            CHECK_EQ(t.value_w, want_w[c]);
            CHECK_EQ(b[4], want_w[c] == 3 ? 2 : 1);
            CHECK_EQ(tf_fset_value_span(&t, tf_fset_find_bytes(&t, "b", 1)).len, value_len[c]);
            free(b);
        }
        free(big);
    }
}

int main(void) {
    RUN(test_empty);
    RUN(test_int_widths);
    RUN(test_int_many);
    RUN(test_int_window);
    RUN(test_offset_widths_and_versions);
    RUN(test_deterministic);
    RUN(test_narrow_sets_in_place);
    RUN(test_str_map);
    RUN(test_span_values);
    RUN(test_span_iteration);
    RUN(test_span_lookup_widths);
    RUN(test_build_errors);
    RUN(test_validate_hostile);
    return TF_TEST_SUMMARY();
}
