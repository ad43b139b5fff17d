/* Internal to the core (tf__ names): the one probe and the one removal of the core's open-addressing tables
 * (hashtable, and the packtable in sitetable.c). A header of its own under include/ only because hashtable.h defines
 * its lookups inline over it (the binding's identity tables and the tracker look up once per object or allocation);
 * not an API: use hashtable.h.
 *
 * Both tables are linear probing over a power-of-two array of slots of `stride` 64-bit words. A slot is empty when its
 * first word is 0; otherwise its first word holds the key in its bits from `kshift` up: a hashtable slot is {key,
 * value} (stride 2, kshift 0), a packtable slot packs key << value_bits | value into one word (stride 1, kshift
 * value_bits). Keys are never 0, so an empty first word is never a key. The functions are static inline and take the
 * geometry as arguments: a table passes its own constants, and the compiler folds them into the loop, so a table
 * pays nothing for sharing the code (the tracker's allocation hook runs these loops on every allocation and free).
 */
#ifndef THRIFTY_TABLE_PROBE_H
#define THRIFTY_TABLE_PROBE_H

#include "thrifty/common.h"

/* Fibonacci hashing: multiply by 2^64/phi and keep the top bits (`shift` = 64 - log2(slots)). One multiply on the
 * tracker's hot path; the top bits of the product depend on every bit of the key, so keys that differ only in their
 * low or middle bits (block and object addresses, which share their high bits and come in strides of 16) spread over
 * the whole array, unlike a mask of the address, and already-mixed keys (stack hashes, the interner's hashes) keep
 * their spread. */
static inline uint32_t tf__probe_home(uint64_t key, uint32_t shift) {
    return (uint32_t)((key * UINT64_C(0x9e3779b97f4a7c15)) >> shift);
}

/* A home slot that keeps neighbours together: keys that differ only in their low `group` bits start `group`-bit
 * offsets apart from one Fibonacci-hashed slot of the rest of the key, so neighbouring keys share a cache line of
 * slots. The tracker's live-block table is keyed by block address: pymalloc hands out a pool's blocks in address
 * order, and a program frees them largely in the order it made them, so with plain Fibonacci homes nearly every
 * allocation and free missed the cache on the table (on bm_float, the two loads of the home slot were ~40% of the
 * recorder's CPU time, profiled). `group` 0 is tf__probe_home. */
static inline uint32_t tf__probe_home_near(uint64_t key, uint32_t shift, uint32_t mask, uint32_t group) {
    return (tf__probe_home(key >> group, shift) + (uint32_t)(key & ((UINT64_C(1) << group) - 1u))) & mask;
}

/* The first slot at or after `i` (cyclically) that is empty or holds `key`. Terminates: the load factor keeps a slot
 * empty. */
static inline uint32_t tf__probe_from(const uint64_t *words, uint32_t stride, uint32_t kshift, uint32_t mask,
                                      uint32_t i, uint64_t key) {
    for (;;) {
        uint64_t w = words[(size_t)i * stride];
        if (w == 0 || (w >> kshift) == key)
            return i;
        i = (i + 1u) & mask;
    }
}

/* Empties slot `hole` by backward-shift deletion: each later entry of the run whose home slot does not lie cyclically
 * inside (hole, j] moves back into the hole, which moves on to where that entry was, so every remaining key stays
 * reachable from its home without tombstones and lookups stay short however many removals happen. Walks the run, not
 * the table. */
static inline void tf__probe_remove(uint64_t *words, uint32_t stride, uint32_t kshift, uint32_t mask, uint32_t shift,
                                    uint32_t group, uint32_t hole) {
    uint32_t j = hole;
    for (;;) {
        uint64_t w;
        uint32_t home;
        j = (j + 1u) & mask;
        w = words[(size_t)j * stride];
        if (w == 0)
            break;
        home = tf__probe_home_near(w >> kshift, shift, mask, group);
        if (((j - home) & mask) >= ((j - hole) & mask)) {
            for (uint32_t k = 0; k < stride; k++)
                words[(size_t)hole * stride + k] = words[(size_t)j * stride + k];
            hole = j;
        }
    }
    for (uint32_t k = 0; k < stride; k++)
        words[(size_t)hole * stride + k] = 0;
}

/* Slots for a capacity: the smallest power of two with capacity <= 3/4 of it (at least 4); 0 when capacity is 0 or
 * above `max`. With the `shift` that goes with it (64 - log2(slots)). */
static inline uint32_t tf__probe_slots(uint32_t capacity, uint32_t max, uint32_t *shift) {
    uint64_t need = ((uint64_t)capacity * 4u + 2u) / 3u;
    uint64_t slots = 4;
    uint32_t s = 62;
    if (capacity == 0 || capacity > max)
        return 0;
    while (slots < need) {
        slots <<= 1;
        s--;
    }
    if (shift)
        *shift = s;
    return (uint32_t)slots;
}

/* What both tables check of their storage: `need` is the table's size for the capacity (0 = capacity out of range). */
static inline tf_status tf__probe_storage(const void *storage, size_t size, size_t need) {
    if (need == 0)
        return TF_E_ARG;
    if (size < need)
        return TF_E_SIZE;
    return TF_IS_ALIGNED(storage, sizeof(uint64_t)) ? TF_OK : TF_E_ALIGN;
}

#endif /* THRIFTY_TABLE_PROBE_H */
