/* Tests for sitetable and its packed variant: sizing and init checks, and a long random insert/replace/remove run
 * checked against a shadow array after every operation (the backward-shift deletion is where such tables go wrong). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tf_test.h"
#include "thrifty/sitetable.h"

static void test_size_and_init(void) {
    tf_sitetable t;
    uint64_t storage[64];
    CHECK_EQ(tf_sitetable_size(0), 0);
    CHECK_EQ(tf_sitetable_size(TF_SITETABLE_MAX_CAPACITY + 1u), 0);
    CHECK_EQ(tf_sitetable_size(3), 4 * sizeof(tf_sitetable_entry));
    CHECK_EQ(tf_sitetable_size(4), 8 * sizeof(tf_sitetable_entry));
    CHECK_EQ(tf_sitetable_init(NULL, storage, sizeof storage, 4), TF_E_NULL);
    CHECK_EQ(tf_sitetable_init(&t, NULL, sizeof storage, 4), TF_E_NULL);
    CHECK_EQ(tf_sitetable_init(&t, storage, sizeof storage, 0), TF_E_ARG);
    CHECK_EQ(tf_sitetable_init(&t, storage, tf_sitetable_size(24) - 1u, 24), TF_E_SIZE);
    CHECK_EQ(tf_sitetable_init(&t, (char *)storage + 4, sizeof storage - 8, 4), TF_E_ALIGN);
    CHECK_EQ(tf_sitetable_init(&t, storage, sizeof storage, 24), TF_OK);
    CHECK_EQ(tf_sitetable_capacity(&t), 24);
    CHECK_EQ(tf_sitetable_count(&t), 0);
}

static void test_basic_ops(void) {
    tf_sitetable t;
    uint64_t storage[16];
    uint64_t v = 0, *slot;
    CHECK_EQ(tf_sitetable_init(&t, storage, sizeof storage, 6), TF_OK);
    CHECK_EQ(tf_sitetable_put(&t, 0, 1), TF_E_ARG);
    CHECK(tf_sitetable_upsert(&t, 0, 1) == NULL);
    CHECK_EQ(tf_sitetable_get(&t, 0, &v), 0);
    CHECK_EQ(tf_sitetable_take(&t, 0, &v), 0);
    tf_sitetable_prefetch(&t, 10); /* a hint only: nothing changes */
    CHECK_EQ(tf_sitetable_count(&t), 0);
    CHECK_EQ(tf_sitetable_put(&t, 10, 100), TF_OK);
    CHECK_EQ(tf_sitetable_put(&t, 10, 101), TF_OK);
    CHECK_EQ(tf_sitetable_count(&t), 1);
    CHECK_EQ(tf_sitetable_get(&t, 10, &v), 1);
    CHECK_EQ(v, 101);
    slot = tf_sitetable_upsert(&t, 11, 7);
    CHECK(slot != NULL && *slot == 7);
    if (slot)
        *slot += 1;
    CHECK_EQ(tf_sitetable_get(&t, 11, &v), 1);
    CHECK_EQ(v, 8);
    for (uint64_t k = 20; k < 24; k++)
        CHECK_EQ(tf_sitetable_put(&t, k, k), TF_OK);
    CHECK_EQ(tf_sitetable_count(&t), 6);
    CHECK_EQ(tf_sitetable_put(&t, 99, 1), TF_E_FULL);
    CHECK(tf_sitetable_upsert(&t, 99, 1) == NULL);
    CHECK_EQ(tf_sitetable_put(&t, 20, 5), TF_OK); /* replacing still works when full */
    CHECK_EQ(tf_sitetable_take(&t, 10, &v), 1);
    CHECK_EQ(v, 101);
    CHECK_EQ(tf_sitetable_take(&t, 10, &v), 0);
    CHECK_EQ(tf_sitetable_put(&t, 99, 1), TF_OK);
    tf_sitetable_clear(&t);
    CHECK_EQ(tf_sitetable_count(&t), 0);
    CHECK_EQ(tf_sitetable_get(&t, 99, NULL), 0);
}

/* xorshift64: a deterministic key stream; keys drawn from a small range so collisions and re-inserts happen. */
static uint64_t rng_state = 88172645463325252ull;
static uint64_t rng(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

#define SHADOW 512
static void test_random_against_shadow(void) {
    static uint64_t storage[4096];
    uint64_t shadow[SHADOW]; /* shadow[k] = value + 1, 0 = absent */
    tf_sitetable t;
    uint32_t capacity = 300, present = 0;
    CHECK_EQ(tf_sitetable_init(&t, storage, sizeof storage, capacity), TF_OK);
    for (int i = 0; i < SHADOW; i++)
        shadow[i] = 0;
    for (int step = 0; step < 200000; step++) {
        uint64_t r = rng();
        uint32_t k = (uint32_t)(r % SHADOW);
        uint64_t key = (uint64_t)k * 16u + 0x7f0000000000ull; /* address-like keys */
        uint64_t v = 0;
        switch ((r >> 32) % 3u) {
        case 0: {
            tf_status s = tf_sitetable_put(&t, key, r >> 8);
            if (shadow[k] || present < capacity) {
                CHECK_EQ(s, TF_OK);
                if (!shadow[k])
                    present++;
                shadow[k] = (r >> 8) + 1u;
            } else {
                CHECK_EQ(s, TF_E_FULL);
            }
            break;
        }
        case 1:
            CHECK_EQ(tf_sitetable_take(&t, key, &v), shadow[k] != 0);
            if (shadow[k]) {
                CHECK(v == shadow[k] - 1u);
                shadow[k] = 0;
                present--;
            }
            break;
        default:
            CHECK_EQ(tf_sitetable_get(&t, key, &v), shadow[k] != 0);
            if (shadow[k])
                CHECK(v == shadow[k] - 1u);
        }
        CHECK_EQ(tf_sitetable_count(&t), present);
        if (tf_test_failures)
            return;
    }
    /* every shadow entry is reachable, and iteration sees exactly the stored ones */
    {
        uint32_t cursor = 0, seen = 0;
        uint64_t key, v;
        while (tf_sitetable_next(&t, &cursor, &key, &v)) {
            uint64_t k = (key - 0x7f0000000000ull) / 16u;
            CHECK(k < SHADOW && shadow[k] == v + 1u);
            seen++;
        }
        CHECK_EQ(seen, present);
    }
}

static void test_move(void) {
    static uint64_t small_storage[64], big_storage[1024];
    tf_sitetable small, big;
    uint64_t v = 0;
    CHECK_EQ(tf_sitetable_init(&small, small_storage, sizeof small_storage, 20), TF_OK);
    CHECK_EQ(tf_sitetable_init(&big, big_storage, sizeof big_storage, 300), TF_OK);
    for (uint64_t k = 1; k <= 20; k++)
        CHECK_EQ(tf_sitetable_put(&small, k, k * 3u), TF_OK);
    CHECK_EQ(tf_sitetable_move(&big, &small), TF_OK);
    CHECK_EQ(tf_sitetable_count(&big), 20);
    for (uint64_t k = 1; k <= 20; k++) {
        CHECK_EQ(tf_sitetable_get(&big, k, &v), 1);
        CHECK(v == k * 3u);
    }
    tf_sitetable_clear(&small);
    CHECK_EQ(tf_sitetable_init(&small, small_storage, sizeof small_storage, 5), TF_OK);
    CHECK_EQ(tf_sitetable_move(&small, &big), TF_E_FULL);
}

static void test_pack_size_and_init(void) {
    tf_packtable t;
    uint64_t storage[64];
    CHECK_EQ(tf_packtable_size(0), 0);
    CHECK_EQ(tf_packtable_size(TF_SITETABLE_MAX_CAPACITY + 1u), 0);
    CHECK_EQ(tf_packtable_size(3), 4 * sizeof(uint64_t));
    CHECK_EQ(tf_packtable_size(24), 32 * sizeof(uint64_t));
    CHECK_EQ(tf_packtable_init(NULL, storage, sizeof storage, 4, 21), TF_E_NULL);
    CHECK_EQ(tf_packtable_init(&t, NULL, sizeof storage, 4, 21), TF_E_NULL);
    CHECK_EQ(tf_packtable_init(&t, storage, sizeof storage, 0, 21), TF_E_ARG);
    CHECK_EQ(tf_packtable_init(&t, storage, sizeof storage, 4, 0), TF_E_ARG);
    CHECK_EQ(tf_packtable_init(&t, storage, sizeof storage, 4, 33), TF_E_ARG);
    CHECK_EQ(tf_packtable_init(&t, storage, tf_packtable_size(24) - 1u, 24, 21), TF_E_SIZE);
    CHECK_EQ(tf_packtable_init(&t, (char *)storage + 4, sizeof storage - 8, 4, 21), TF_E_ALIGN);
    CHECK_EQ(tf_packtable_init(&t, storage, sizeof storage, 48, 21), TF_OK);
    CHECK_EQ(tf_packtable_capacity(&t), 48);
    CHECK_EQ(tf_packtable_count(&t), 0);
}

static void test_pack_basic_ops(void) {
    tf_packtable t;
    uint64_t storage[8], v = 0;
    const uint64_t kmax = (UINT64_C(1) << 43) - 1u, vmax = (UINT64_C(1) << 21) - 1u;
    CHECK_EQ(tf_packtable_init(&t, storage, sizeof storage, 6, 21), TF_OK);
    CHECK(!tf_packtable_fits(&t, 0, 1));
    CHECK(!tf_packtable_fits(&t, kmax + 1u, 1));
    CHECK(!tf_packtable_fits(&t, 1, vmax + 1u));
    CHECK(tf_packtable_fits(&t, kmax, vmax));
    CHECK_EQ(tf_packtable_put(&t, 0, 1), TF_E_ARG);
    CHECK_EQ(tf_packtable_put(&t, kmax + 1u, 1), TF_E_ARG);
    CHECK_EQ(tf_packtable_put(&t, 5, vmax + 1u), TF_E_ARG);
    CHECK_EQ(tf_packtable_get(&t, 0, &v), 0);
    CHECK_EQ(tf_packtable_get(&t, kmax + 1u, &v), 0);
    CHECK_EQ(tf_packtable_take(&t, 0, &v), 0);
    tf_packtable_prefetch(&t, 10);
    CHECK_EQ(tf_packtable_put(&t, kmax, vmax), TF_OK); /* the extremes round-trip */
    CHECK_EQ(tf_packtable_get(&t, kmax, &v), 1);
    CHECK(v == vmax);
    CHECK_EQ(tf_packtable_put(&t, 10, 0), TF_OK); /* value 0 is a value, not an empty slot */
    CHECK_EQ(tf_packtable_get(&t, 10, &v), 1);
    CHECK(v == 0);
    CHECK_EQ(tf_packtable_put(&t, 10, 7), TF_OK);
    CHECK_EQ(tf_packtable_count(&t), 2);
    for (uint64_t k = 20; k < 24; k++)
        CHECK_EQ(tf_packtable_put(&t, k, k), TF_OK);
    CHECK_EQ(tf_packtable_put(&t, 99, 1), TF_E_FULL);
    CHECK_EQ(tf_packtable_put(&t, 20, 5), TF_OK);
    CHECK_EQ(tf_packtable_take(&t, 10, &v), 1);
    CHECK(v == 7);
    CHECK_EQ(tf_packtable_take(&t, 10, &v), 0);
    CHECK_EQ(tf_packtable_put(&t, 99, 1), TF_OK);
    tf_packtable_clear(&t);
    CHECK_EQ(tf_packtable_count(&t), 0);
    CHECK_EQ(tf_packtable_get(&t, 99, NULL), 0);
}

/* Keys of `universe` blocks `stride` bytes apart from one base, as the tracker keys them (address >> 4), in a table of
 * `capacity`: a table of TF_PACK_NEAR_SLOTS slots or more gives neighbouring keys neighbouring homes
 * (tf__probe_home_near), where 16-byte blocks fill every slot of a group, the densest case for probe runs and
 * backward-shift deletion. */
#define PACK_UNIVERSE_MAX 30000
static void pack_against_shadow(uint32_t stride, uint32_t capacity, uint32_t universe) {
    static uint64_t storage[1u << 15];
    static uint64_t shadow[PACK_UNIVERSE_MAX];
    tf_packtable t;
    uint32_t present = 0;
    CHECK_EQ(tf_packtable_init(&t, storage, sizeof storage, capacity, 21), TF_OK);
    /* 300 entries take 512 slots, 24000 take 32768 = TF_PACK_NEAR_SLOTS */
    CHECK_EQ(t.near, (capacity == 24000u ? TF_PACK_NEAR : 0u));
    for (uint32_t i = 0; i < universe; i++)
        shadow[i] = 0;
    for (int step = 0; step < 200000; step++) {
        uint64_t r = rng();
        uint32_t k = (uint32_t)(r % universe);
        uint64_t key = ((uint64_t)k * stride + 0x7f0000000000ull) >> 4;
        uint64_t v = 0, val = (r >> 8) & 0x1FFFFFu;
        switch ((r >> 32) % 3u) {
        case 0: {
            tf_status s = tf_packtable_put(&t, key, val);
            if (shadow[k] || present < capacity) {
                CHECK_EQ(s, TF_OK);
                if (!shadow[k])
                    present++;
                shadow[k] = val + 1u;
            } else {
                CHECK_EQ(s, TF_E_FULL);
            }
            break;
        }
        case 1:
            CHECK_EQ(tf_packtable_take(&t, key, &v), shadow[k] != 0);
            if (shadow[k]) {
                CHECK(v == shadow[k] - 1u);
                shadow[k] = 0;
                present--;
            }
            break;
        default:
            CHECK_EQ(tf_packtable_get(&t, key, &v), shadow[k] != 0);
            if (shadow[k])
                CHECK(v == shadow[k] - 1u);
        }
        CHECK_EQ(tf_packtable_count(&t), present);
        if (tf_test_failures)
            return;
    }
    {
        uint32_t cursor = 0, seen = 0;
        uint64_t key, v;
        while (tf_packtable_next(&t, &cursor, &key, &v)) {
            uint64_t k = ((key << 4) - 0x7f0000000000ull) / stride;
            CHECK(k < universe && shadow[k] == v + 1u);
            seen++;
        }
        CHECK_EQ(seen, present);
    }
}

static void test_pack_random_against_shadow(void) {
    pack_against_shadow(48, 300, SHADOW);              /* a common pymalloc size class; a small table */
    pack_against_shadow(16, 24000, PACK_UNIVERSE_MAX); /* large tables, neighbours together */
    pack_against_shadow(32, 24000, PACK_UNIVERSE_MAX);
    pack_against_shadow(48, 24000, PACK_UNIVERSE_MAX);
}

static void test_pack_move(void) {
    static uint64_t small_storage[32], big_storage[512];
    tf_packtable small, big, other;
    uint64_t v;
    CHECK_EQ(tf_packtable_init(&small, small_storage, sizeof small_storage, 20, 21), TF_OK);
    CHECK_EQ(tf_packtable_init(&big, big_storage, sizeof big_storage, 300, 21), TF_OK);
    for (uint64_t k = 1; k <= 20; k++)
        CHECK_EQ(tf_packtable_put(&small, k, k * 3u), TF_OK);
    CHECK_EQ(tf_packtable_move(&big, &small), TF_OK);
    CHECK_EQ(tf_packtable_count(&big), 20);
    for (uint64_t k = 1; k <= 20; k++) {
        CHECK_EQ(tf_packtable_get(&big, k, &v), 1);
        CHECK(v == k * 3u);
    }
    CHECK_EQ(tf_packtable_init(&other, small_storage, sizeof small_storage, 20, 20), TF_OK);
    CHECK_EQ(tf_packtable_move(&other, &big), TF_E_ARG);
    CHECK_EQ(tf_packtable_init(&small, small_storage, sizeof small_storage, 5, 21), TF_OK);
    CHECK_EQ(tf_packtable_move(&small, &big), TF_E_FULL);
    CHECK_EQ(tf_packtable_count(&small), 0); /* room is checked first: nothing moved */
    /* into zeroed storage, as the tracker grows its table (calloc), and into a table that already has entries */
    memset(small_storage, 0, sizeof small_storage);
    CHECK_EQ(tf_packtable_init_zeroed(&small, small_storage, sizeof small_storage, 24, 21), TF_OK);
    CHECK_EQ(tf_packtable_put(&small, 1000, 7), TF_OK);
    CHECK_EQ(tf_packtable_move(&small, &big), TF_OK);
    CHECK_EQ(tf_packtable_count(&small), 21);
    CHECK_EQ(tf_packtable_get(&small, 1000, &v), 1);
    CHECK(v == 7);
    for (uint64_t k = 1; k <= 20; k++) {
        CHECK_EQ(tf_packtable_take(&small, k, &v), 1);
        CHECK(v == k * 3u);
    }
    CHECK_EQ(tf_packtable_count(&small), 1);
    CHECK_EQ(tf_packtable_init_zeroed(NULL, small_storage, sizeof small_storage, 4, 21), TF_E_NULL);
    CHECK_EQ(tf_packtable_init_zeroed(&other, small_storage, tf_packtable_size(24) - 1u, 24, 21), TF_E_SIZE);
    CHECK_EQ(tf_packtable_init_zeroed(&other, small_storage, sizeof small_storage, 4, 33), TF_E_ARG);
}

static int drop_when_divisible(void *ctx, uint64_t key, uint64_t value) {
    (void)key;
    return value % *(const uint64_t *)ctx == 0;
}

/* remove_if on full tables (long probe runs, some wrapping past the end): exactly the chosen entries go, every other
 * stays reachable with its value. */
static void test_remove_if(void) {
    static tf_sitetable_entry storage[64];
    tf_sitetable t;
    uint64_t rng = 12345u, v;
    for (uint64_t divisor = 1; divisor <= 5; divisor++) {
        for (int round = 0; round < 50; round++) {
            uint64_t keys[48];
            uint32_t expect_removed = 0;
            CHECK_EQ(tf_sitetable_init(&t, storage, sizeof storage, 48), TF_OK);
            for (uint64_t i = 0; i < 48; i++) {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                keys[i] = rng | 1u;
                CHECK_EQ(tf_sitetable_put(&t, keys[i], i), TF_OK);
                expect_removed += i % divisor == 0;
            }
            CHECK_EQ(tf_sitetable_remove_if(&t, drop_when_divisible, &divisor), expect_removed);
            CHECK_EQ(tf_sitetable_count(&t), 48u - expect_removed);
            for (uint64_t i = 0; i < 48; i++) {
                int found = tf_sitetable_get(&t, keys[i], &v);
                CHECK_EQ(found, i % divisor != 0);
                if (found)
                    CHECK_EQ(v, i);
            }
        }
    }
}

/* The same for the packed table (the tracker's sampled-mode stack table): 40-bit keys, 24-bit values. */
static void test_pack_remove_if(void) {
    static uint64_t storage[64];
    tf_packtable t;
    uint64_t rng = 54321u, v;
    for (uint64_t divisor = 1; divisor <= 5; divisor++) {
        for (int round = 0; round < 50; round++) {
            uint64_t keys[48];
            uint32_t expect_removed = 0;
            CHECK_EQ(tf_packtable_init(&t, storage, sizeof storage, 48, 24), TF_OK);
            for (uint64_t i = 0; i < 48; i++) {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                keys[i] = (rng >> 24) | 1u;
                CHECK_EQ(tf_packtable_put(&t, keys[i], i), TF_OK);
                expect_removed += i % divisor == 0;
            }
            CHECK_EQ(tf_packtable_remove_if(&t, drop_when_divisible, &divisor), expect_removed);
            CHECK_EQ(tf_packtable_count(&t), 48u - expect_removed);
            for (uint64_t i = 0; i < 48; i++) {
                int found = tf_packtable_get(&t, keys[i], &v);
                CHECK_EQ(found, i % divisor != 0);
                if (found)
                    CHECK_EQ(v, i);
            }
        }
    }
}

int main(void) {
    RUN(test_remove_if);
    RUN(test_pack_remove_if);
    RUN(test_pack_size_and_init);
    RUN(test_pack_basic_ops);
    RUN(test_pack_random_against_shadow);
    RUN(test_pack_move);
    RUN(test_size_and_init);
    RUN(test_basic_ops);
    RUN(test_random_against_shadow);
    RUN(test_move);
    return TF_TEST_SUMMARY();
}
