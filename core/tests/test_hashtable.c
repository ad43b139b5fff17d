/* Tests for the hashtable's own entry points beyond the sitetable's (test_sitetable.c runs the unique-key operations
 * under their tracker names): find, upsert's count-tells-new idiom, and the keyed mode an interner uses, where
 * unequal values share a key: upsert_match, remove_if removing in place, move keeping repeated keys, all checked
 * against a shadow after every operation, with keys drawn from a tiny range so that runs of equal keys are long. */
#include <stdint.h>
#include <stdlib.h>

#include "tf_test.h"
#include "thrifty/hashtable.h"

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rng(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void test_find_and_upsert(void) {
    static tf_hashtable_entry storage[16];
    tf_hashtable t;
    uint64_t *v;
    CHECK_EQ(tf_hashtable_size(12), 16 * sizeof(tf_hashtable_entry));
    CHECK_EQ(tf_hashtable_init(&t, storage, sizeof storage, 12), TF_OK);
    CHECK(tf_hashtable_find(&t, 0) == NULL);
    CHECK(tf_hashtable_find(&t, 5) == NULL);
    v = tf_hashtable_upsert(&t, 5, 1);
    CHECK(v != NULL && tf_hashtable_count(&t) == 1);
    if (v)
        *v += 10;
    v = tf_hashtable_upsert(&t, 5, 1); /* present: count unchanged, value kept */
    CHECK(v != NULL && *v == 11 && tf_hashtable_count(&t) == 1);
    v = tf_hashtable_find(&t, 5);
    CHECK(v != NULL && *v == 11);
    if (v)
        *v = 3;
    CHECK(tf_hashtable_get(&t, 5, NULL) == 1);
    CHECK(*tf_hashtable_find(&t, 5) == 3);
    CHECK_EQ(tf_hashtable_take(&t, 5, NULL), 1);
    CHECK(tf_hashtable_find(&t, 5) == NULL);
}

/* Keyed mode: each value v is unique; its key is a hash that many values share. */
#define NVAL 512
static uint64_t key_of(uint64_t v) { return v % 7u + 1u; }

typedef struct {
    uint64_t want;
    int calls;
    int fail_after; /* < 0: never fail */
} match_ctx;

static int match_value(void *ctx, uint64_t value) {
    match_ctx *m = ctx;
    CHECK_EQ(key_of(value), key_of(m->want)); /* called only for entries with the key looked up */
    if (m->fail_after >= 0 && m->calls++ >= m->fail_after)
        return -100;
    return value == m->want;
}

typedef struct {
    unsigned char *present, *dropped;
    uint64_t modulus, residue;
} drop_ctx;

/* drops values v with v % modulus == residue; marks them released, and fails a check if called again for one */
static int drop_some(void *ctx, uint64_t key, uint64_t value) {
    drop_ctx *d = ctx;
    CHECK(value < NVAL && d->present[value] && !d->dropped[value] && key == key_of(value));
    if (value % d->modulus != d->residue)
        return 0;
    d->dropped[value] = 1;
    return 1;
}

static void check_all_reachable(tf_hashtable *t, const unsigned char *present, uint32_t n) {
    uint32_t cursor = 0, seen = 0;
    uint64_t key, value;
    for (uint64_t v = 0; v < NVAL; v++) {
        match_ctx m = {v, 0, -1};
        uint64_t *slot = NULL;
        uint32_t before = tf_hashtable_count(t);
        int r;
        if (!present[v])
            continue;
        r = tf_hashtable_upsert_match(t, key_of(v), match_value, &m, 999999u, &slot);
        CHECK_EQ(r, 1);
        CHECK(slot != NULL && *slot == v);
        CHECK_EQ(tf_hashtable_count(t), before);
    }
    while (tf_hashtable_next(t, &cursor, &key, &value)) {
        CHECK(value < NVAL && present[value] && key == key_of(value));
        seen++;
    }
    CHECK_EQ(seen, n);
}

static void test_keyed_against_shadow(void) {
    static tf_hashtable_entry small[256], big[1024];
    static unsigned char present[NVAL], dropped[NVAL];
    tf_hashtable t, u;
    uint32_t capacity = 180, n = 0;
    CHECK_EQ(tf_hashtable_upsert_match(&t, 0, match_value, NULL, 1, NULL), TF_E_ARG);
    CHECK_EQ(tf_hashtable_init(&t, small, sizeof small, capacity), TF_OK);
    for (int step = 0; step < 60000 && !tf_test_failures; step++) {
        uint64_t r = rng(), v = r % NVAL;
        if ((r >> 40) % 64u == 0) {
            /* remove a random residue class in place; the shadow follows */
            drop_ctx d = {present, dropped, 2u + (r >> 20) % 5u, 0};
            uint32_t removed, expect = 0;
            d.residue = (r >> 30) % d.modulus;
            for (uint64_t w = 0; w < NVAL; w++) {
                dropped[w] = 0;
                expect += present[w] && w % d.modulus == d.residue;
            }
            removed = tf_hashtable_remove_if(&t, drop_some, &d);
            CHECK_EQ(removed, expect);
            for (uint64_t w = 0; w < NVAL; w++)
                if (dropped[w])
                    present[w] = 0;
            n -= removed;
        } else {
            match_ctx m = {v, 0, (r >> 50) % 8u == 0 ? (int)((r >> 53) % 3u) : -1};
            uint64_t *slot = NULL;
            int res = tf_hashtable_upsert_match(&t, key_of(v), match_value, &m, v, &slot);
            if (res == -100) {
                CHECK_EQ(tf_hashtable_count(&t), n); /* a failed compare changes nothing */
            } else if (present[v]) {
                CHECK_EQ(res, 1);
                CHECK(slot != NULL && *slot == v);
            } else if (n < capacity) {
                CHECK_EQ(res, 0);
                CHECK(slot != NULL && *slot == v);
                present[v] = 1;
                n++;
            } else {
                CHECK_EQ(res, TF_E_FULL);
            }
        }
        CHECK_EQ(tf_hashtable_count(&t), n);
    }
    check_all_reachable(&t, present, n);
    /* growing keeps every repeated key, each entry once */
    CHECK_EQ(tf_hashtable_init(&u, big, sizeof big, 700), TF_OK);
    CHECK_EQ(tf_hashtable_move(&u, &t), TF_OK);
    CHECK_EQ(tf_hashtable_count(&u), n);
    check_all_reachable(&u, present, n);
    /* and a destination too small says so and is left as it was */
    {
        static tf_hashtable_entry tiny[8];
        tf_hashtable s;
        CHECK_EQ(tf_hashtable_init(&s, tiny, sizeof tiny, 6), TF_OK);
        CHECK_EQ(tf_hashtable_move(&s, &t), n > 6 ? TF_E_FULL : TF_OK);
        CHECK_EQ(tf_hashtable_count(&s), n > 6 ? 0 : n);
        for (uint32_t i = 0; n > 6 && i < 8; i++)
            CHECK(tiny[i].key == 0);
    }
}

/* init_zeroed over storage the caller zeroed is the same empty table as init's; the room move checks counts what dst
 * already holds */
static void test_init_zeroed_and_move_room(void) {
    static uint64_t dirty[64], zeroed[64], src_mem[64];
    tf_hashtable a, b, src;
    uint64_t v = 0;
    for (size_t i = 0; i < 64; i++)
        dirty[i] = ~(uint64_t)0;
    CHECK_EQ(tf_hashtable_init_zeroed(NULL, zeroed, sizeof zeroed, 20), TF_E_NULL);
    CHECK_EQ(tf_hashtable_init_zeroed(&b, zeroed, sizeof zeroed, 0), TF_E_ARG);
    CHECK_EQ(tf_hashtable_init_zeroed(&b, zeroed, 8, 20), TF_E_SIZE);
    CHECK_EQ(tf_hashtable_init_zeroed(&b, (char *)zeroed + 1, sizeof zeroed - 8, 2), TF_E_ALIGN);
    CHECK_EQ(tf_hashtable_init(&a, dirty, sizeof dirty, 20), TF_OK);
    CHECK_EQ(tf_hashtable_init_zeroed(&b, zeroed, sizeof zeroed, 20), TF_OK);
    CHECK_EQ(a.mask, b.mask);
    CHECK_EQ(a.shift, b.shift);
    CHECK_EQ(tf_hashtable_count(&b), 0);
    CHECK_EQ(tf_hashtable_capacity(&b), 20);
    for (uint64_t k = 1; k <= 20; k++) {
        CHECK_EQ(tf_hashtable_get(&a, k, NULL), 0);
        CHECK_EQ(tf_hashtable_put(&a, k, k), TF_OK);
        CHECK_EQ(tf_hashtable_put(&b, k, k), TF_OK);
    }
    CHECK_EQ(tf_hashtable_put(&b, 21, 1), TF_E_FULL);
    /* 15 entries fit 20 - 10: the move is refused whole while dst holds 10, accepted once it holds 5 */
    CHECK_EQ(tf_hashtable_init(&src, src_mem, sizeof src_mem, 20), TF_OK);
    for (uint64_t k = 100; k < 115; k++)
        CHECK_EQ(tf_hashtable_put(&src, k, k + 1u), TF_OK);
    for (uint64_t k = 1; k <= 10; k++)
        CHECK_EQ(tf_hashtable_take(&a, k, NULL), 1);
    CHECK_EQ(tf_hashtable_move(&a, &src), TF_E_FULL);
    CHECK_EQ(tf_hashtable_count(&a), 10);
    CHECK_EQ(tf_hashtable_get(&a, 100, NULL), 0);
    for (uint64_t k = 11; k <= 15; k++)
        CHECK_EQ(tf_hashtable_take(&a, k, NULL), 1);
    CHECK_EQ(tf_hashtable_move(&a, &src), TF_OK);
    CHECK_EQ(tf_hashtable_count(&a), 20);
    for (uint64_t k = 100; k < 115; k++) {
        CHECK_EQ(tf_hashtable_get(&a, k, &v), 1);
        CHECK(v == k + 1u);
    }
    for (uint64_t k = 16; k <= 20; k++)
        CHECK_EQ(tf_hashtable_get(&a, k, NULL), 1);
    CHECK_EQ(tf_hashtable_count(&src), 15); /* src unchanged */
}

int main(void) {
    RUN(test_find_and_upsert);
    RUN(test_keyed_against_shadow);
    RUN(test_init_zeroed_and_move_room);
    return TF_TEST_SUMMARY();
}
