/* Tests for the Ring core: a model-checked random walk against a plain array, the bulk and block paths at every
 * wrap point, reductions, and a two-thread single-producer/single-consumer run. */
#include <pthread.h>
#include <string.h>

#include "tf_test.h"
#include "thrifty/ring.h"

/* An item handed to push_back from storage of 8 bytes. On 32-bit targets GCC 12 inlines tf__ring_copy_one with the
 * ring's run-time item size, keeps its 8-byte case, and then warns (-Warray-bounds, -Wstringop-overread) that a copy
 * of 8 bytes from a 2- or 4-byte variable would overrun it: a case that cannot run. Pushing from a union of 8 bytes
 * silences that false positive here, in the tests, without dropping the warning for the core. */
typedef union {
    int32_t i32;
    uint32_t u32;
    uint16_t u16;
    unsigned char bytes[8];
} item8;

static void test_init_checks(void) {
    tf_ring r;
    uint32_t store[8];
    CHECK_EQ(tf_ring_size(8, 4), 32);
    CHECK_EQ(tf_ring_size(8, 0), 0);
    CHECK_EQ(tf_ring_size(SIZE_MAX / 2u, 4), 0);
    CHECK_EQ(tf_ring_init(NULL, store, sizeof store, 4, 8), TF_E_NULL);
    CHECK_EQ(tf_ring_init(&r, NULL, sizeof store, 4, 8), TF_E_NULL);
    CHECK_EQ(tf_ring_init(&r, store, sizeof store, 0, 8), TF_E_ARG);
    CHECK_EQ(tf_ring_init(&r, store, sizeof store - 1, 4, 8), TF_E_SIZE);
    CHECK_EQ(tf_ring_init(&r, (uint8_t *)store + 2, 28, 4, 7), TF_E_ALIGN);
    CHECK_EQ(tf_ring_init(&r, (uint8_t *)store + 2, 28, 2, 14), TF_OK);
    CHECK_EQ(tf_ring_init(&r, (uint8_t *)store + 1, 3, 3, 1), TF_OK); /* odd item sizes need no alignment */
    CHECK_EQ(tf_ring_init(&r, store, sizeof store, 4, 8), TF_OK);
    CHECK_EQ(tf_ring_len(&r), 0);
    CHECK_EQ(tf_ring_space(&r), 8);
}

static void test_zero_capacity(void) {
    tf_ring r;
    int32_t v = 7;
    CHECK_EQ(tf_ring_init(&r, NULL, 0, 4, 0), TF_OK);
    CHECK_EQ(tf_ring_push_back(&r, &v), TF_E_FULL);
    CHECK_EQ(tf_ring_push_front(&r, &v), TF_E_FULL);
    CHECK_EQ(tf_ring_pop_front(&r, &v), TF_E_EMPTY);
    CHECK_EQ(tf_ring_pop_back(&r, &v), TF_E_EMPTY);
    CHECK_EQ(tf_ring_write(&r, &v, 1), 0);
    CHECK_EQ(tf_ring_read(&r, &v, 1), 0);
    tf_ring_rotate_right(&r, 3);
    tf_ring_reverse(&r);
    CHECK(tf_ring_at(&r, 0) == NULL);
}

/* Every operation applied to a ring and to a plain array model; the contents must agree after each step. */
#define CAP 7
static int32_t model[CAP];
static size_t model_n;
static unsigned rng_state = 12345u;
static unsigned rnd(unsigned n) {
    rng_state = rng_state * 1103515245u + 12345u;
    return (rng_state >> 8) % n;
}

static int same_as_model(const tf_ring *r) {
    if (tf_ring_len(r) != model_n)
        return 0;
    for (size_t i = 0; i < model_n; i++) {
        int32_t v;
        memcpy(&v, tf_ring_at(r, i), sizeof v);
        if (v != model[i])
            return 0;
    }
    int32_t out[CAP];
    if (tf_ring_peek(r, 0, out, CAP) != model_n || (model_n && memcmp(out, model, model_n * sizeof *out) != 0))
        return 0;
    return tf_ring_at(r, model_n) == NULL;
}

static void test_random_walk_against_model(void) {
    tf_ring r;
    int32_t store[CAP];
    CHECK_EQ(tf_ring_init(&r, store, sizeof store, sizeof(int32_t), CAP), TF_OK);
    int32_t next = 1;
    for (int step = 0; step < 200000; step++) {
        int32_t v = next++, got = 0;
        size_t idx = model_n ? rnd((unsigned)model_n + 1u) : 0;
        switch (rnd(11)) {
        case 0:
            if (model_n < CAP) {
                CHECK_EQ(tf_ring_push_back(&r, &v), TF_OK);
                model[model_n++] = v;
            } else
                CHECK_EQ(tf_ring_push_back(&r, &v), TF_E_FULL);
            break;
        case 1:
            if (model_n < CAP) {
                CHECK_EQ(tf_ring_push_front(&r, &v), TF_OK);
                memmove(model + 1, model, model_n * sizeof *model);
                model[0] = v;
                model_n++;
            } else
                CHECK_EQ(tf_ring_push_front(&r, &v), TF_E_FULL);
            break;
        case 2:
            if (model_n) {
                CHECK_EQ(tf_ring_pop_front(&r, &got), TF_OK);
                CHECK_EQ(got, model[0]);
                memmove(model, model + 1, --model_n * sizeof *model);
            } else
                CHECK_EQ(tf_ring_pop_front(&r, &got), TF_E_EMPTY);
            break;
        case 3:
            if (model_n) {
                CHECK_EQ(tf_ring_pop_back(&r, &got), TF_OK);
                CHECK_EQ(got, model[--model_n]);
            } else
                CHECK_EQ(tf_ring_pop_back(&r, NULL), TF_E_EMPTY);
            break;
        case 4:
            if (model_n < CAP) {
                CHECK_EQ(tf_ring_insert(&r, idx, &v), TF_OK);
                memmove(model + idx + 1, model + idx, (model_n - idx) * sizeof *model);
                model[idx] = v;
                model_n++;
            } else
                CHECK_EQ(tf_ring_insert(&r, idx, &v), TF_E_FULL);
            CHECK_EQ(tf_ring_insert(&r, model_n + 1, &v), TF_E_RANGE);
            break;
        case 5:
            if (idx < model_n) {
                CHECK_EQ(tf_ring_remove(&r, idx), TF_OK);
                memmove(model + idx, model + idx + 1, (model_n - idx - 1) * sizeof *model);
                model_n--;
            } else
                CHECK_EQ(tf_ring_remove(&r, idx), TF_E_RANGE);
            break;
        case 6:
        case 7: {
            size_t n = rnd(20), k;
            int32_t tmp[CAP];
            if (rnd(2))
                tf_ring_rotate_right(&r, n);
            else {
                tf_ring_rotate_left(&r, n);
                n = model_n ? model_n - n % model_n : 0;
            }
            for (k = 0; k < model_n; k++)
                tmp[(k + n) % model_n] = model[k];
            memcpy(model, tmp, model_n * sizeof *model);
        } break;
        case 8: {
            tf_ring_reverse(&r);
            for (size_t k = 0; k < model_n / 2; k++) {
                int32_t t = model[k];
                model[k] = model[model_n - 1 - k];
                model[model_n - 1 - k] = t;
            }
        } break;
        case 9: {
            int32_t src[CAP + 3];
            size_t n = rnd(CAP + 3), room = CAP - model_n;
            for (size_t k = 0; k < n; k++)
                src[k] = next++;
            size_t w = tf_ring_write(&r, src, n);
            CHECK_EQ(w, n < room ? n : room);
            memcpy(model + model_n, src, w * sizeof *src);
            model_n += w;
        } break;
        default: {
            int32_t dst[CAP + 3];
            size_t n = rnd(CAP + 3);
            size_t got_n = tf_ring_read(&r, dst, n);
            CHECK_EQ(got_n, n < model_n ? n : model_n);
            CHECK(got_n == 0 || memcmp(dst, model, got_n * sizeof *dst) == 0);
            memmove(model, model + got_n, (model_n - got_n) * sizeof *model);
            model_n -= got_n;
        } break;
        }
        int agrees = same_as_model(&r); /* stop at the first divergence: later steps would only repeat it */
        CHECK(agrees);
        if (!agrees)
            return;
    }
}

/* The overflow policy: the puts on rings of every capacity from 0 to CAP, against a model that keeps the newest
 * items as collections.deque(maxlen=capacity) does, switching between the two policies as it goes. */
static void model_put(size_t cap, int drop, int front, int32_t v, int32_t *want_dropped) {
    if (model_n < cap) {
        if (front) {
            memmove(model + 1, model, model_n * sizeof *model);
            model[0] = v;
        } else {
            model[model_n] = v;
        }
        model_n++;
        return;
    }
    if (!drop)
        return;
    if (cap == 0) {
        *want_dropped = v;
        return;
    }
    if (front) {
        *want_dropped = model[model_n - 1];
        memmove(model + 1, model, (model_n - 1) * sizeof *model);
        model[0] = v;
    } else {
        *want_dropped = model[0];
        memmove(model, model + 1, (model_n - 1) * sizeof *model);
        model[model_n - 1] = v;
    }
}

static void test_put_against_model(void) {
    for (size_t cap = 0; cap <= CAP; cap++) {
        tf_ring r;
        int32_t store[CAP];
        CHECK_EQ(tf_ring_init(&r, cap ? store : NULL, sizeof store, sizeof(int32_t), cap), TF_OK);
        CHECK_EQ(r.overflow, TF_RING_REFUSE);
        model_n = 0;
        int drop = 0;
        int32_t next = 1;
        for (int step = 0; step < 20000; step++) {
            item8 v = {.i32 = next++}, got = {.i32 = -1}; /* item8: see its comment at the top */
            int32_t want = -1;
            switch (rnd(8)) {
            case 0:
                drop = (int)rnd(2);
                CHECK_EQ(tf_ring_set_overflow(&r, drop ? TF_RING_DROP_OLDEST : TF_RING_REFUSE), TF_OK);
                break;
            case 1:
            case 2:
            case 3: {
                int front = (int)rnd(2);
                item8 *dropped = rnd(4) ? &got : NULL;
                tf_status want_st = model_n < cap ? TF_OK : drop ? TF_RING_DROPPED : TF_E_FULL;
                tf_status st = front ? tf_ring_put_front(&r, &v, dropped) : tf_ring_put_back(&r, &v, dropped);
                CHECK_EQ(st, want_st);
                model_put(cap, drop, front, v.i32, &want);
                if (dropped != NULL && want_st == TF_RING_DROPPED)
                    CHECK_EQ(got.i32, want); /* the model's evicted item */
                else
                    CHECK_EQ(got.i32, -1); /* `dropped` is written only when an item left */
            } break;
            case 4:
            case 5: {
                int32_t src[2 * CAP + 2];
                size_t n = rnd(2 * CAP + 2), room = cap - model_n;
                for (size_t k = 0; k < n; k++)
                    src[k] = next++;
                size_t took = tf_ring_put(&r, src, n);
                CHECK_EQ(took, drop ? n : n < room ? n : room);
                for (size_t k = 0; k < took; k++)
                    model_put(cap, drop, 0, src[k], &want);
            } break;
            case 6:
                if (model_n) {
                    CHECK_EQ(tf_ring_pop_front(&r, &got), TF_OK);
                    CHECK_EQ(got.i32, model[0]);
                    memmove(model, model + 1, --model_n * sizeof *model);
                }
                break;
            default:
                if (model_n) {
                    CHECK_EQ(tf_ring_pop_back(&r, &got), TF_OK);
                    CHECK_EQ(got.i32, model[--model_n]);
                }
                break;
            }
            int agrees = same_as_model(&r);
            CHECK(agrees);
            if (!agrees)
                return;
        }
    }
}

static void test_put_policy_edges(void) {
    tf_ring r;
    int32_t store[3];
    item8 v, out;
    CHECK_EQ(tf_ring_set_overflow(NULL, TF_RING_DROP_OLDEST), TF_E_NULL);
    CHECK_EQ(tf_ring_init(&r, store, sizeof store, sizeof(int32_t), 3), TF_OK);
    CHECK_EQ(tf_ring_set_overflow(&r, (tf_ring_overflow)2), TF_E_ARG);
    CHECK_EQ(r.overflow, TF_RING_REFUSE);
    CHECK_EQ(tf_ring_set_overflow(&r, TF_RING_DROP_OLDEST), TF_OK);
    for (v.i32 = 0; v.i32 < 3; v.i32++)
        CHECK_EQ(tf_ring_put_back(&r, &v, NULL), TF_OK);
    v.i32 = 3;
    CHECK_EQ(tf_ring_push_back(&r, &v), TF_E_FULL); /* a push refuses whatever the policy */
    CHECK_EQ(tf_ring_put_back(&r, &v, &out), TF_RING_DROPPED);
    CHECK_EQ(out.i32, 0);
    v.i32 = 9;
    CHECK_EQ(tf_ring_put_front(&r, &v, &out), TF_RING_DROPPED); /* 9 1 2 (3 dropped) */
    CHECK_EQ(out.i32, 3);
    int32_t src[5] = {10, 11, 12, 13, 14};
    CHECK_EQ(tf_ring_put(&r, src, 2), 2); /* 2 10 11 */
    CHECK_EQ(tf_ring_pop_front(&r, &out), TF_OK);
    CHECK_EQ(out.i32, 2);
    CHECK_EQ(tf_ring_put(&r, src, 5), 5); /* only the newest three of src: 12 13 14 */
    CHECK_EQ(tf_ring_len(&r), 3);
    CHECK_EQ(tf_ring_pop_front(&r, &out), TF_OK);
    CHECK_EQ(out.i32, 12);
    CHECK_EQ(tf_ring_put(&r, src, 0), 0);
    CHECK_EQ(tf_ring_len(&r), 2);
    /* rehome and clear keep the policy */
    int32_t bigger[4];
    CHECK_EQ(tf_ring_rehome(&r, bigger, sizeof bigger, 4), TF_OK);
    tf_ring_clear(&r);
    CHECK_EQ(r.overflow, TF_RING_DROP_OLDEST);
    /* capacity 0 that drops: the new item is the one that leaves, as deque(maxlen=0) takes and drops it */
    tf_ring z;
    CHECK_EQ(tf_ring_init(&z, NULL, 0, sizeof(int32_t), 0), TF_OK);
    v.i32 = 5;
    CHECK_EQ(tf_ring_put_back(&z, &v, &out), TF_E_FULL);
    CHECK_EQ(tf_ring_put(&z, src, 5), 0);
    CHECK_EQ(tf_ring_set_overflow(&z, TF_RING_DROP_OLDEST), TF_OK);
    out.i32 = 0;
    CHECK_EQ(tf_ring_put_front(&z, &v, &out), TF_RING_DROPPED);
    CHECK_EQ(out.i32, 5);
    CHECK_EQ(tf_ring_put(&z, src, 5), 5);
    CHECK_EQ(tf_ring_len(&z), 0);
}

static void test_blocks_at_every_offset(void) {
    for (size_t start = 0; start < 5; start++) {
        tf_ring r;
        uint16_t store[5];
        CHECK_EQ(tf_ring_init(&r, store, sizeof store, 2, 5), TF_OK);
        uint16_t x = 0;
        for (size_t k = 0; k < start; k++) { /* move head and tail to `start` */
            CHECK_EQ(tf_ring_push_back(&r, &(item8){.u16 = x}), TF_OK);
            CHECK_EQ(tf_ring_pop_front(&r, NULL), TF_OK);
        }
        uint16_t val = 100;
        size_t total = 0;
        void *p;
        size_t n;
        while ((n = tf_ring_write_block(&r, &p)) > 0) { /* fill through the zero-copy path, at most two blocks */
            for (size_t k = 0; k < n; k++, val++)
                memcpy((uint16_t *)p + k, &val, 2);
            CHECK_EQ(tf_ring_commit(&r, n), TF_OK);
            total += n;
        }
        CHECK_EQ(total, 5);
        CHECK_EQ(tf_ring_commit(&r, 1), TF_E_RANGE);
        uint16_t expect = 100;
        while ((n = tf_ring_read_block(&r, &p)) > 0) {
            for (size_t k = 0; k < n; k++, expect++) {
                uint16_t v;
                memcpy(&v, (uint16_t *)p + k, 2);
                CHECK_EQ(v, expect);
            }
            CHECK_EQ(tf_ring_consume(&r, tf_ring_len(&r) + 1), TF_E_RANGE);
            CHECK_EQ(tf_ring_consume(&r, n), TF_OK);
        }
        CHECK_EQ(expect, 105);
    }
}

static void test_rehome(void) {
    tf_ring r;
    int64_t a[4], b[9];
    CHECK_EQ(tf_ring_init(&r, a, sizeof a, 8, 4), TF_OK);
    for (int64_t v = 0; v < 6; v++) { /* wraps: contents 2 3 4 5 */
        if (tf_ring_space(&r) == 0)
            CHECK_EQ(tf_ring_pop_front(&r, NULL), TF_OK);
        CHECK_EQ(tf_ring_push_back(&r, &v), TF_OK);
    }
    CHECK_EQ(tf_ring_rehome(&r, b, sizeof b, 3), TF_E_ARG);
    CHECK_EQ(tf_ring_rehome(&r, b, 8, 9), TF_E_SIZE);
    CHECK_EQ(tf_ring_rehome(&r, b, sizeof b, 9), TF_OK);
    CHECK_EQ(tf_ring_len(&r), 4);
    CHECK_EQ(tf_ring_space(&r), 5);
    for (int64_t v = 2; v < 6; v++) {
        int64_t got;
        CHECK_EQ(tf_ring_pop_front(&r, &got), TF_OK);
        CHECK_EQ(got, v);
    }
}

#if TF_RING_REDUCTIONS /* a -DTF_RING_REDUCTIONS=0 build (make test-c-variants) runs the rest without them */
static void test_reductions(void) {
    tf_ring r;
    int16_t s16[6];
    CHECK_EQ(tf_ring_init(&r, s16, sizeof s16, 2, 6), TF_OK);
    int16_t vals[] = {5, -3, 7, -3, 7, 1, 2};
    uint64_t lo;
    int64_t hi;
    int16_t mn16, mx16;
    CHECK_EQ(tf_ring_min_max(&r, TF_RING_I16, &mn16, &mx16), TF_E_EMPTY);
    CHECK_EQ(tf_ring_sum_int(&r, TF_RING_I32, &lo, &hi), TF_E_ARG);
    CHECK_EQ(tf_ring_sum_float(&r, TF_RING_I16, &(double){0}), TF_E_ARG);
    for (int k = 0; k < 7; k++) { /* 7 into 6: drops the 5, so the data wraps */
        if (tf_ring_space(&r) == 0)
            CHECK_EQ(tf_ring_pop_front(&r, NULL), TF_OK);
        CHECK_EQ(tf_ring_push_back(&r, &vals[k]), TF_OK);
    }
    CHECK_EQ(tf_ring_sum_int(&r, TF_RING_I16, &lo, &hi), TF_OK);
    CHECK_EQ((int64_t)lo, 11);
    CHECK_EQ(hi, 0);
    CHECK_EQ(tf_ring_min_max(&r, TF_RING_I16, &mn16, &mx16), TF_OK);
    CHECK_EQ(mn16, -3);
    CHECK_EQ(mx16, 7);
    CHECK_EQ(tf_ring_min_max(&r, TF_RING_I16, NULL, &mx16), TF_OK);
    CHECK_EQ(tf_ring_min_max(&r, TF_RING_I32, &mn16, NULL), TF_E_ARG);
    double sq;
    CHECK_EQ(tf_ring_sum_sq_dev(&r, TF_RING_I16, &sq), TF_OK);
    CHECK(sq > 100.83 && sq < 100.84);

    /* the variance follows the spread, not the magnitude: two int64 near -2^63 that differ by 1999741442 */
    int64_t big[2];
    CHECK_EQ(tf_ring_init(&r, big, sizeof big, 8, 2), TF_OK);
    int64_t b0 = -9223372021856304143LL, b1 = -9223372019856562701LL;
    CHECK_EQ(tf_ring_push_back(&r, &b0), TF_OK);
    CHECK_EQ(tf_ring_push_back(&r, &b1), TF_OK);
    CHECK_EQ(tf_ring_sum_sq_dev(&r, TF_RING_I64, &sq), TF_OK);
    CHECK_DOUBLE_EQ(sq, 2.0 * 999870721.0 * 999870721.0);

    /* the 128-bit sum of 64-bit items: 3 * (2^63 - 1) and then negatives */
    int64_t s64[3];
    CHECK_EQ(tf_ring_init(&r, s64, sizeof s64, 8, 3), TF_OK);
    for (int k = 0; k < 3; k++)
        CHECK_EQ(tf_ring_push_back(&r, &(int64_t){INT64_MAX}), TF_OK);
    CHECK_EQ(tf_ring_sum_int(&r, TF_RING_I64, &lo, &hi), TF_OK);
    CHECK(lo == 0x7FFFFFFFFFFFFFFDull && hi == 1);
    tf_ring_clear(&r);
    for (int k = 0; k < 3; k++)
        CHECK_EQ(tf_ring_push_back(&r, &(int64_t){INT64_MIN}), TF_OK);
    CHECK_EQ(tf_ring_sum_int(&r, TF_RING_I64, &lo, &hi), TF_OK);
    CHECK(lo == 0x8000000000000000ull && hi == -2); /* -3 * 2^63 */
    CHECK_EQ(tf_ring_sum_int(&r, TF_RING_U64, &lo, &hi), TF_OK);
    CHECK(lo == 0x8000000000000000ull && hi == 1); /* 3 * 2^63 */

    /* floats: compensated sum, NaN ordering like Python's min()/max() */
    double d[4];
    CHECK_EQ(tf_ring_init(&r, d, sizeof d, sizeof(double), 4), TF_OK);
    double fv[] = {1e16, 1.0, -1e16, 1.0};
    CHECK_EQ(tf_ring_write(&r, fv, 4), 4);
    double sum;
    CHECK_EQ(tf_ring_sum_float(&r, TF_RING_F64, &sum), TF_OK);
    CHECK(sum == 2.0);
    tf_ring_clear(&r);
    double nan = 0.0 / 0.0, mn, mx;
    double nv[] = {2.0, nan, 1.0, 3.0};
    CHECK_EQ(tf_ring_write(&r, nv, 4), 4);
    CHECK_EQ(tf_ring_min_max(&r, TF_RING_F64, &mn, &mx), TF_OK);
    CHECK(mn == 1.0 && mx == 3.0); /* a NaN after the first item never replaces the candidate */
    tf_ring_clear(&r);
    double nz[] = {nan, 1.0, -0.0, 0.0};
    CHECK_EQ(tf_ring_write(&r, nz, 4), 4);
    CHECK_EQ(tf_ring_min_max(&r, TF_RING_F64, &mn, &mx), TF_OK);
    CHECK(mn != mn && mx != mx); /* a NaN in front stays */
    CHECK_EQ(tf_ring_pop_front(&r, NULL), TF_OK);
    CHECK_EQ(tf_ring_pop_front(&r, NULL), TF_OK);
    CHECK_EQ(tf_ring_min_max(&r, TF_RING_F64, &mn, &mx), TF_OK);
    uint64_t bits;
    memcpy(&bits, &mn, 8);
    CHECK(bits == 0x8000000000000000ull); /* -0.0 came first, so it is both min and max */
    memcpy(&bits, &mx, 8);
    CHECK(bits == 0x8000000000000000ull);
    /* a long wrapped int ring exercises the four-candidate loop and its tail */
    int32_t s32[37];
    CHECK_EQ(tf_ring_init(&r, s32, sizeof s32, 4, 37), TF_OK);
    for (int32_t k = 0; k < 50; k++) {
        int32_t v = (k * 7919) % 1000 - 500;
        if (tf_ring_space(&r) == 0)
            CHECK_EQ(tf_ring_pop_front(&r, NULL), TF_OK);
        CHECK_EQ(tf_ring_push_back(&r, &(item8){.i32 = v}), TF_OK);
    }
    int32_t want_mn = INT32_MAX, want_mx = INT32_MIN, got_mn, got_mx;
    for (size_t k = 0; k < 37; k++) {
        int32_t v;
        memcpy(&v, tf_ring_at(&r, k), 4);
        want_mn = v < want_mn ? v : want_mn;
        want_mx = v > want_mx ? v : want_mx;
    }
    CHECK_EQ(tf_ring_min_max(&r, TF_RING_I32, &got_mn, &got_mx), TF_OK);
    CHECK_EQ(got_mn, want_mn);
    CHECK_EQ(got_mx, want_mx);
}
#endif

/* Two threads: one pushes a counting sequence (single items and blocks), the other pops (single items and bulk
 * reads) and checks that every value arrives once and in order. A small capacity keeps both sides colliding. */
#define SPSC_ITEMS 4000000u
#define SPSC_CAP 61u

static tf_ring spsc;
static uint32_t spsc_store[SPSC_CAP];

static void *producer(void *arg) {
    (void)arg;
    uint32_t next = 0;
    while (next < SPSC_ITEMS) {
        if (next % 3u == 0u) {
            uint32_t chunk[17];
            size_t n = 0;
            while (n < 17 && next + n < SPSC_ITEMS) {
                chunk[n] = next + (uint32_t)n;
                n++;
            }
            next += (uint32_t)tf_ring_write(&spsc, chunk, n);
        } else if (tf_ring_push_back(&spsc, &(item8){.u32 = next}) == TF_OK) {
            next++;
        }
    }
    return NULL;
}

static void *consumer(void *arg) {
    size_t *errors = (size_t *)arg;
    uint32_t expect = 0;
    while (expect < SPSC_ITEMS) {
        uint32_t buf[23];
        size_t n;
        if (expect % 2u == 0u) {
            n = tf_ring_read(&spsc, buf, 23);
        } else {
            void *p;
            n = tf_ring_read_block(&spsc, &p);
            if (n > 23)
                n = 23;
            memcpy(buf, p, n * sizeof *buf);
            if (n > 0 && tf_ring_consume(&spsc, n) != TF_OK)
                (*errors)++;
        }
        for (size_t k = 0; k < n; k++, expect++)
            if (buf[k] != expect)
                (*errors)++;
    }
    return NULL;
}

static void test_spsc_two_threads(void) {
    pthread_t prod, cons;
    size_t errors = 0;
    CHECK_EQ(tf_ring_init(&spsc, spsc_store, sizeof spsc_store, sizeof(uint32_t), SPSC_CAP), TF_OK);
    CHECK_EQ(pthread_create(&cons, NULL, consumer, &errors), 0);
    CHECK_EQ(pthread_create(&prod, NULL, producer, NULL), 0);
    pthread_join(prod, NULL);
    pthread_join(cons, NULL);
    CHECK_EQ(errors, 0);
    CHECK_EQ(tf_ring_len(&spsc), 0);
}

#if TF_RING_REDUCTIONS
/* The lane-parallel reductions against one plain loop: lengths around the lane count and the int32 lane flush
 * (2^18 items for 16-bit types), with the contents wrapped so both runs and every tail length are exercised. */
static uint16_t big16[(1u << 18) * 2u + 37u];

static void test_reductions_lanes(void) {
    tf_ring r;
    uint64_t lo;
    int64_t hi;
    size_t cap = sizeof big16 / sizeof big16[0];
    size_t lens[] = {1, 7, 8, 9, 17, (size_t)1 << 18, ((size_t)1 << 18) + 9, cap};
    for (size_t t = 0; t < sizeof lens / sizeof lens[0]; t++) {
        CHECK_EQ(tf_ring_init(&r, big16, sizeof big16, 2, cap), TF_OK);
        CHECK_EQ(tf_ring_commit(&r, cap), TF_OK);
        CHECK_EQ(tf_ring_consume(&r, cap - lens[t] / 2u), TF_OK); /* front near the end: the items wrap */
        CHECK_EQ(tf_ring_consume(&r, tf_ring_len(&r)), TF_OK);
        for (size_t i = 0; i < lens[t]; i++)
            CHECK_EQ(tf_ring_push_back(&r, &(item8){.u16 = (uint16_t)(i % 3u == 0 ? 65535u : 32768u + i % 7u)}), TF_OK);
        int64_t want_u = 0, want_i = 0;
        for (size_t i = 0; i < lens[t]; i++) {
            uint16_t v = *(uint16_t *)tf_ring_at(&r, i);
            want_u += v;
            want_i += (int16_t)v;
        }
        CHECK_EQ(tf_ring_sum_int(&r, TF_RING_U16, &lo, &hi), TF_OK);
        CHECK((int64_t)lo == want_u && hi == 0);
        CHECK_EQ(tf_ring_sum_int(&r, TF_RING_I16, &lo, &hi), TF_OK);
        CHECK((int64_t)lo == want_i && hi == -1);
    }
    /* floats: integer-valued doubles sum exactly; the extreme sits at every position in turn */
    double d[29];
    for (size_t n = 1; n <= 29; n++)
        for (size_t at = 0; at < n; at++) {
            CHECK_EQ(tf_ring_init(&r, d, sizeof d, sizeof(double), 29), TF_OK);
            CHECK_EQ(tf_ring_commit(&r, 29), TF_OK);
            CHECK_EQ(tf_ring_consume(&r, 29 - n / 3u), TF_OK);
            CHECK_EQ(tf_ring_consume(&r, tf_ring_len(&r)), TF_OK);
            double want = 0.0, want_min = 1000.0;
            for (size_t i = 0; i < n; i++) {
                double v = i == at ? 1000.0 : (double)(i % 5u);
                want += v;
                want_min = v < want_min ? v : want_min;
                CHECK_EQ(tf_ring_push_back(&r, &v), TF_OK);
            }
            double sum, mn, mx;
            CHECK_EQ(tf_ring_sum_float(&r, TF_RING_F64, &sum), TF_OK);
            CHECK(sum == want);
            CHECK_EQ(tf_ring_min_max(&r, TF_RING_F64, &mn, &mx), TF_OK);
            CHECK(mx == 1000.0);
            CHECK(mn == want_min);
        }
}
#endif

int main(void) {
    RUN(test_init_checks);
    RUN(test_zero_capacity);
    RUN(test_random_walk_against_model);
    RUN(test_put_against_model);
    RUN(test_put_policy_edges);
    RUN(test_blocks_at_every_offset);
    RUN(test_rehome);
#if TF_RING_REDUCTIONS
    RUN(test_reductions);
    RUN(test_reductions_lanes);
#endif
    RUN(test_spsc_two_threads);
    return TF_TEST_SUMMARY();
}
