/* Tests for the block pool: sizing, O(1) lazy init, LIFO reuse, exhaustion and counters, every misuse status,
 * zero-on-release, and the canary mode (overrun detected, double release detected, pool still usable). */
#include <stdint.h>
#include <string.h>

#include "tf_test.h"
#include "thrifty/pool.h"

#define LINK sizeof(size_t)

/* Storage aligned for the pool: a union with the widest scalar keeps TF_POOL_ALIGN (8) on every host. */
typedef union {
    unsigned char bytes[4096];
    uint64_t align_u64;
    void *align_ptr;
    long double align_ld;
} arena_t;

static void test_size(void) {
    CHECK_EQ(tf_pool_size(0, 4, 0), 0);
    CHECK_EQ(tf_pool_size(16, 0, 0), 0);
    CHECK_EQ(tf_pool_size(16, 4, 0x80u), 0);
    CHECK_EQ(tf_pool_size(16, 4, 0), 64);
    CHECK_EQ(tf_pool_size(1, 4, 0), 4 * ((LINK + TF_POOL_ALIGN - 1) / TF_POOL_ALIGN * TF_POOL_ALIGN));
    CHECK_EQ(tf_pool_size(13, 2, 0), 2 * 16);
    CHECK(tf_pool_size(16, 4, TF_POOL_FLAG_CANARY) >= 4 * (16 + TF_POOL_CANARY_BYTES));
    CHECK_EQ(tf_pool_size(SIZE_MAX, 1, 0), 0);
    CHECK_EQ(tf_pool_size(SIZE_MAX / 2, 4, 0), 0);
}

static void test_init_errors(void) {
    static arena_t a;
    tf_pool p;
    memset(&p, 0x77, sizeof p);
    tf_pool before = p;
    CHECK_EQ(tf_pool_init(NULL, a.bytes, sizeof a, 16, 4, 0), TF_E_NULL);
    CHECK_EQ(tf_pool_init(&p, NULL, sizeof a, 16, 4, 0), TF_E_NULL);
    CHECK_EQ(tf_pool_init(&p, a.bytes, sizeof a, 0, 4, 0), TF_E_ARG);
    CHECK_EQ(tf_pool_init(&p, a.bytes, sizeof a, 16, 0, 0), TF_E_ARG);
    CHECK_EQ(tf_pool_init(&p, a.bytes, sizeof a, 16, 4, 0x40u), TF_E_ARG);
    CHECK_EQ(tf_pool_init(&p, a.bytes, sizeof a, SIZE_MAX, 2, 0), TF_E_OVERFLOW);
    CHECK_EQ(tf_pool_init(&p, a.bytes, 63, 16, 4, 0), TF_E_SIZE);
    CHECK_EQ(tf_pool_init(&p, a.bytes + 1, 100, 16, 4, 0), TF_E_ALIGN);
    CHECK(memcmp(&p, &before, sizeof p) == 0); /* untouched on error */
}

static void test_acquire_release(void) {
    static arena_t a;
    tf_pool p;
    void *b[4], *extra = (void *)1;
    CHECK_EQ(tf_pool_init(&p, a.bytes, sizeof a, 16, 4, 0), TF_OK);
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(tf_pool_acquire(&p, &b[i]), TF_OK);
        CHECK(TF_IS_ALIGNED(b[i], TF_POOL_ALIGN));
        CHECK_EQ(tf_pool_index(&p, b[i]), i);
        CHECK(tf_pool_block(&p, (size_t)i) == b[i]);
        memset(b[i], 0xEE, 16); /* the whole block is the user's */
    }
    CHECK_EQ(tf_pool_acquire(&p, &extra), TF_E_EMPTY);
    CHECK(extra == NULL);
    tf_pool_stats s;
    tf_pool_stats_get(&p, &s);
    CHECK_EQ(s.in_use, 4);
    CHECK_EQ(s.high_water, 4);
    CHECK_EQ(s.acquired, 4);
    CHECK_EQ(s.exhausted, 1);
    CHECK_EQ(tf_pool_release(&p, b[2]), TF_OK);
    CHECK_EQ(tf_pool_release(&p, b[0]), TF_OK);
    void *again;
    CHECK_EQ(tf_pool_acquire(&p, &again), TF_OK);
    CHECK(again == b[0]);                           /* LIFO: the warmest block comes back first */
    CHECK_EQ(((unsigned char *)again)[0], 0);       /* the free-list link is not leaked */
    CHECK_EQ(((unsigned char *)again)[LINK], 0xEE); /* but the rest is untouched without ZERO */
    CHECK_EQ(tf_pool_acquire(&p, &again), TF_OK);
    CHECK(again == b[2]);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(tf_pool_release(&p, b[i]), TF_OK);
    tf_pool_stats_get(&p, &s);
    CHECK_EQ(s.in_use, 0);
    CHECK_EQ(s.high_water, 4);
    CHECK_EQ(s.acquired, 6);
    CHECK(tf_pool_block(&p, 4) == NULL);
}

static void test_misuse(void) {
    static arena_t a;
    tf_pool p;
    void *b0, *b1;
    CHECK_EQ(tf_pool_init(&p, a.bytes, sizeof a, 16, 8, 0), TF_OK);
    CHECK_EQ(tf_pool_release(&p, NULL), TF_E_NULL);
    CHECK_EQ(tf_pool_acquire(&p, NULL), TF_E_NULL);
    CHECK_EQ(tf_pool_release(&p, a.bytes + 16), TF_E_STATE); /* never handed out */
    CHECK_EQ(tf_pool_acquire(&p, &b0), TF_OK);
    CHECK_EQ(tf_pool_acquire(&p, &b1), TF_OK);
    CHECK_EQ(tf_pool_release(&p, (unsigned char *)b0 + 1), TF_E_ARG); /* inside a block */
    CHECK_EQ(tf_pool_release(&p, a.bytes + 8 * 16), TF_E_ARG);        /* one past the arena */
    unsigned char outside[16];
    CHECK_EQ(tf_pool_release(&p, outside), TF_E_ARG);
    CHECK_EQ(tf_pool_index(&p, outside), 8);
    CHECK_EQ(tf_pool_release(&p, b0), TF_OK);
    CHECK_EQ(tf_pool_release(&p, b0), TF_E_STATE); /* released last: caught without canaries */
    CHECK_EQ(tf_pool_release(&p, b1), TF_OK);
    CHECK_EQ(tf_pool_release(&p, b0), TF_E_STATE); /* nothing in use */
    tf_pool_stats s;
    tf_pool_stats_get(&p, &s);
    CHECK_EQ(s.in_use, 0);
}

static void test_zero(void) {
    static arena_t a;
    tf_pool p;
    void *b, *c;
    CHECK_EQ(tf_pool_init(&p, a.bytes, sizeof a, 24, 2, TF_POOL_FLAG_ZERO), TF_OK);
    CHECK_EQ(tf_pool_acquire(&p, &b), TF_OK);
    memset(b, 0xAB, 24);
    CHECK_EQ(tf_pool_release(&p, b), TF_OK);
    for (size_t i = LINK; i < 24; i++)
        CHECK_EQ(((unsigned char *)b)[i], 0); /* the secret is gone while the block is free */
    CHECK_EQ(tf_pool_acquire(&p, &c), TF_OK);
    CHECK(c == b);
    for (size_t i = 0; i < 24; i++)
        CHECK_EQ(((unsigned char *)c)[i], 0);
}

/* Canary mode when it is compiled in (-DTF_POOL_CANARY=0 builds run the rest of the tests without it). */
#define MAYBE_CANARY (TF_POOL_CANARY ? TF_POOL_FLAG_CANARY : 0u)

#if TF_POOL_CANARY
static void test_canary(void) {
    static arena_t a;
    tf_pool p;
    void *b[3];
    size_t bs = 13;
    CHECK_EQ(tf_pool_init(&p, a.bytes, sizeof a, bs, 3, TF_POOL_FLAG_CANARY), TF_OK);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(tf_pool_acquire(&p, &b[i]), TF_OK);
    memset(b[0], 0x11, bs); /* writing exactly the block is fine */
    CHECK_EQ(tf_pool_release(&p, b[0]), TF_OK);
    ((unsigned char *)b[1])[bs] = 0; /* one byte past the end */
    CHECK_EQ(tf_pool_release(&p, b[1]), TF_E_CORRUPT);
    CHECK_EQ(tf_pool_release(&p, b[0]), TF_E_STATE); /* not the head any more: only the canary knows */
    CHECK_EQ(tf_pool_release(&p, b[1]), TF_E_STATE);
    tf_pool_stats s;
    tf_pool_stats_get(&p, &s);
    CHECK_EQ(s.in_use, 1); /* the overrun block was released all the same */
    void *again;
    CHECK_EQ(tf_pool_acquire(&p, &again), TF_OK);
    CHECK(again == b[1]);
    CHECK_EQ(tf_pool_release(&p, again), TF_OK); /* its guard was restored */
    /* a long overrun that skips the first guard bytes */
    unsigned char *last = (unsigned char *)b[2];
    last[p.stride - 1] ^= 0xFF;
    CHECK_EQ(tf_pool_release(&p, b[2]), TF_E_CORRUPT);
}

static void test_canary_tiny_blocks(void) {
    static arena_t a;
    tf_pool p;
    void *b[2];
    CHECK_EQ(tf_pool_init(&p, a.bytes, sizeof a, 1, 2, TF_POOL_FLAG_CANARY | TF_POOL_FLAG_ZERO), TF_OK);
    CHECK_EQ(tf_pool_acquire(&p, &b[0]), TF_OK);
    CHECK_EQ(tf_pool_acquire(&p, &b[1]), TF_OK);
    ((unsigned char *)b[0])[0] = 9;
    CHECK_EQ(tf_pool_release(&p, b[0]), TF_OK);
    CHECK_EQ(tf_pool_release(&p, b[1]), TF_OK);
    CHECK_EQ(tf_pool_release(&p, b[0]), TF_E_STATE); /* the link overlaps the guard; the rest still says "free" */
    ((unsigned char *)b[1])[0] = 0;
    CHECK_EQ(tf_pool_acquire(&p, &b[1]), TF_OK);
    ((unsigned char *)b[1])[1] = 0x55;
    CHECK_EQ(tf_pool_release(&p, b[1]), TF_E_CORRUPT);
}

#endif

/* Many random acquire/release rounds against a shadow model of which blocks are out. */
static void test_random_against_model(void) {
    static arena_t a;
    tf_pool p;
    enum { N = 37 };
    void *out[N];
    int used = 0, most = 0;
    uint32_t rng = 12345u;
    tf_pool_stats s;
    CHECK_EQ(tf_pool_init(&p, a.bytes, sizeof a, 40, N, MAYBE_CANARY), TF_OK);
    for (int round = 0; round < 20000; round++) {
        rng = rng * 1103515245u + 12345u;
        int take = used == 0 || (used < N && ((rng >> 16) & 1u));
        if (take) {
            void *b;
            CHECK_EQ(tf_pool_acquire(&p, &b), TF_OK);
            for (int i = 0; i < used; i++)
                CHECK(out[i] != b);
            memset(b, (int)(rng & 0xFF), 40);
            out[used++] = b;
        } else {
            int k = (int)((rng >> 8) % (uint32_t)used);
            CHECK_EQ(tf_pool_release(&p, out[k]), TF_OK);
            out[k] = out[--used];
        }
        CHECK_EQ(p.in_use, used);
        most = used > most ? used : most;
        tf_pool_stats_get(&p, &s); /* the high-water mark is derived (tf_pool.fresh): check it every round */
        CHECK_EQ(s.high_water, most);
    }
    CHECK_EQ(s.high_water, N);
}

static void test_index_api(void) {
    static arena_t a;
    tf_pool p;
    size_t i, j, k;
    CHECK_EQ(tf_pool_init(&p, a.bytes, sizeof a, 32, 2, MAYBE_CANARY), TF_OK);
    CHECK_EQ(tf_pool_acquire_index(&p, &i), TF_OK);
    CHECK_EQ(tf_pool_acquire_index(&p, &j), TF_OK);
    CHECK(i != j && i < 2 && j < 2);
    CHECK_EQ(tf_pool_acquire_index(&p, &k), TF_E_EMPTY);
    CHECK_EQ(k, 2);
    CHECK_EQ(tf_pool_acquire_index(NULL, &k), TF_E_NULL);
    CHECK_EQ(tf_pool_release_index(&p, 2), TF_E_ARG);
    CHECK_EQ(tf_pool_release_index(NULL, 0), TF_E_NULL);
    CHECK_EQ(tf_pool_release_index(&p, i), TF_OK);
    CHECK_EQ(tf_pool_release_index(&p, i), TF_E_STATE);
    CHECK_EQ(tf_pool_release(&p, tf_pool_block(&p, j)), TF_OK); /* the two APIs mix */
    CHECK_EQ(tf_pool_release_index(&p, i), TF_E_STATE);         /* caught by the canary, not the head check */
    void *b;
    CHECK_EQ(tf_pool_acquire(&p, &b), TF_OK);
    CHECK_EQ(tf_pool_index(&p, b), j); /* LIFO */
}

/* A free block's link is an index, so garbage written into a free block can at worst hand out another block of the
 * same arena, never memory outside it. */
static void test_corrupt_link_stays_in_arena(void) {
    static arena_t a;
    tf_pool p;
    void *b, *c;
    CHECK_EQ(tf_pool_init(&p, a.bytes, sizeof a, 16, 3, 0), TF_OK);
    CHECK_EQ(tf_pool_acquire(&p, &b), TF_OK);
    CHECK_EQ(tf_pool_release(&p, b), TF_OK);
    memset(b, 0xFF, 16); /* use after release */
    CHECK_EQ(tf_pool_acquire(&p, &c), TF_OK);
    CHECK(c == b);
    CHECK_EQ(tf_pool_acquire(&p, &c), TF_OK); /* the bogus link reads as "no more free blocks": a fresh one */
    CHECK_EQ(tf_pool_index(&p, c), 1);
}

/* The unchecked paths a binding that tracks each block's state uses (tf_pool_acquire_plain, tf_pool_release_out,
 * tf_pool_release_plain) give the very blocks, order and counters of the checked API: two twin pools, one driven each
 * way through the same random acquires and releases, must agree after every step. */
static void test_unchecked_paths_match(void) {
    static arena_t a, b;
    tf_pool p, q;
    enum { N = 23 };
    size_t out[N];
    unsigned char *at[N];
    int used = 0;
    uint32_t rng = 777u;
    tf_pool_stats sp, sq;
    CHECK_EQ(tf_pool_init(&p, a.bytes, sizeof a, 24, N, 0), TF_OK);
    CHECK_EQ(tf_pool_init(&q, b.bytes, sizeof b, 24, N, 0), TF_OK);
    for (int round = 0; round < 20000; round++) {
        rng = rng * 1103515245u + 12345u;
        int take = used == 0 || ((rng >> 16) & 1u);
        if (take) {
            size_t i, j;
            tf_status st = tf_pool_acquire_index(&p, &i);
            unsigned char *block = tf_pool_acquire_plain(&q, &j);
            CHECK_EQ(st == TF_OK, block != NULL);
            CHECK_EQ(i, j);
            if (block) {
                CHECK(block == (unsigned char *)tf_pool_block(&q, j));
                size_t link;
                memcpy(&link, block, LINK);
                CHECK_EQ(link, 0); /* the link never reaches the user */
                memset(block, 0xA5, 24);
                out[used] = j;
                at[used++] = block;
            }
        } else {
            int k = (int)((rng >> 8) % (uint32_t)used);
            CHECK_EQ(tf_pool_release_index(&p, out[k]), TF_OK);
            if (rng & 1u)
                tf_pool_release_plain(&q, out[k], at[k]);
            else
                CHECK_EQ(tf_pool_release_out(&q, out[k]), TF_OK);
            out[k] = out[used - 1];
            at[k] = at[--used];
        }
        tf_pool_stats_get(&p, &sp);
        tf_pool_stats_get(&q, &sq);
        CHECK_EQ(sp.in_use, sq.in_use);
        CHECK_EQ(sp.high_water, sq.high_water);
        CHECK_EQ(sp.acquired, sq.acquired);
        CHECK_EQ(sp.exhausted, sq.exhausted);
        CHECK_EQ(sq.in_use, used);
    }
}

#if !TF_POOL_CANARY
static void test_canary_compiled_out(void) {
    static arena_t a;
    tf_pool p;
    CHECK_EQ(tf_pool_init(&p, a.bytes, sizeof a, 16, 2, TF_POOL_FLAG_CANARY), TF_E_ARG);
}
#endif

int main(void) {
    RUN(test_size);
    RUN(test_init_errors);
    RUN(test_acquire_release);
    RUN(test_misuse);
    RUN(test_zero);
#if TF_POOL_CANARY
    RUN(test_canary);
    RUN(test_canary_tiny_blocks);
#else
    RUN(test_canary_compiled_out);
#endif
    RUN(test_random_against_model);
    RUN(test_index_api);
    RUN(test_unchecked_paths_match);
    RUN(test_corrupt_link_stays_in_arena);
    return TF_TEST_SUMMARY();
}
