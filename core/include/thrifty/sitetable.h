/* thrifty core — sitetable: the allocation tracker's tables.
 *
 * The tracker must aggregate inside an allocator hook where it cannot allocate: one table maps live block addresses
 * to (size, site), another maps stack hashes to site indexes. Those are the core's hashtable (hashtable.h) under the
 * names the tracker was written against: tf_sitetable is a tf_hashtable, and each tf_sitetable_X below is
 * tf_hashtable_X, inline, with the same contract (see hashtable.h). The packed variant that follows (tf_packtable)
 * stores the live-block map in 8-byte slots with the same probe and removal (core/src/table_probe.h).
 *
 * Thread safety: none; one writer at a time, no reader during a write (the tracker holds its lock). No function
 * allocates or blocks, and only tf_sitetable_remove_if calls back; all are safe from an interrupt handler that owns the
 * table.
 */
#ifndef THRIFTY_SITETABLE_H
#define THRIFTY_SITETABLE_H

#include "thrifty/hashtable.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef tf_hashtable_entry tf_sitetable_entry;
typedef tf_hashtable tf_sitetable;

#define TF_SITETABLE_MAX_CAPACITY TF_HASHTABLE_MAX_CAPACITY

static inline size_t tf_sitetable_size(uint32_t capacity) { return tf_hashtable_size(capacity); }
static inline tf_status tf_sitetable_init(tf_sitetable *t, void *storage, size_t size, uint32_t capacity) {
    return tf_hashtable_init(t, storage, size, capacity);
}
static inline void tf_sitetable_clear(tf_sitetable *t) { tf_hashtable_clear(t); }
static inline uint32_t tf_sitetable_count(const tf_sitetable *t) { return tf_hashtable_count(t); }
static inline uint32_t tf_sitetable_capacity(const tf_sitetable *t) { return tf_hashtable_capacity(t); }
static inline int tf_sitetable_get(const tf_sitetable *t, uint64_t key, uint64_t *value) {
    return tf_hashtable_get(t, key, value);
}
static inline void tf_sitetable_prefetch(const tf_sitetable *t, uint64_t key) { tf_hashtable_prefetch(t, key); }
static inline tf_status tf_sitetable_put(tf_sitetable *t, uint64_t key, uint64_t value) {
    return tf_hashtable_put(t, key, value);
}
static inline uint64_t *tf_sitetable_upsert(tf_sitetable *t, uint64_t key, uint64_t initial) {
    return tf_hashtable_upsert(t, key, initial);
}
static inline int tf_sitetable_take(tf_sitetable *t, uint64_t key, uint64_t *value) {
    return tf_hashtable_take(t, key, value);
}
static inline int tf_sitetable_next(const tf_sitetable *t, uint32_t *cursor, uint64_t *key, uint64_t *value) {
    return tf_hashtable_next(t, cursor, key, value);
}
static inline uint32_t tf_sitetable_remove_if(tf_sitetable *t, int (*drop)(void *ctx, uint64_t key, uint64_t value),
                                              void *ctx) {
    return tf_hashtable_remove_if(t, drop, ctx);
}
static inline tf_status tf_sitetable_move(tf_sitetable *dst, const tf_sitetable *src) {
    return tf_hashtable_move(dst, src);
}

/* ---- packtable: the same map in 8-byte slots --------------------------------------------------------------------
 *
 * For the tracker's live-block table, which holds one entry per live block and is most of its memory: each slot is
 * one uint64_t packing key << value_bits | value, half the size of a sitetable entry. Keys must be in
 * [1, 2^(64 - value_bits)) and values below 2^value_bits (a block address shifted right by its 16-byte alignment is
 * 43 bits on a 64-bit host with 47-bit user addresses, leaving 21 bits for a site). Same probing, deletion, load
 * factor, capacity rules and thread safety as the sitetable above; no function allocates or blocks, and only
 * tf_packtable_remove_if calls back. In a table of TF_PACK_NEAR_SLOTS slots or more, keys that differ only in their
 * low TF_PACK_NEAR bits (blocks in one 512-byte stretch of memory) start in neighbouring slots (tf__probe_home_near):
 * a run of allocations or frees in address order then reads a few cache lines of the table, not one a block.
 * Measured on the whole doctor command (CPU time, exact mode): bm_float (an 8 MiB table) 1.96x plain with 3 bits,
 * 1.77x with 4, 1.59x with 5, 1.52x with 7; but a table that stays in the cache gains nothing from it and pays for
 * the longer probe runs of densely packed small blocks (bm_nqueens, a 128 KiB table: ~5% more CPU with 5 bits, 2.2x
 * instead of 1.6x with 7), so smaller tables hash every key on its own. */

#ifndef TF_PACK_NEAR
#define TF_PACK_NEAR 5u
#endif
#ifndef TF_PACK_NEAR_SLOTS
#define TF_PACK_NEAR_SLOTS (UINT32_C(1) << 15) /* 256 KiB of slots: past the first cache levels */
#endif

typedef struct {
    uint64_t *slots; /* 0 = empty slot */
    uint32_t mask, count, capacity, shift;
    uint32_t value_bits;
    uint32_t near; /* tf__probe_home_near's group bits: TF_PACK_NEAR in a large table, else 0 */
} tf_packtable;

/* Bytes of storage a packtable of `capacity` entries needs, or 0 (as tf_sitetable_size). O(1), pure. */
size_t tf_packtable_size(uint32_t capacity);

/* Initialises `t` over `storage` (at least tf_packtable_size(capacity) bytes, aligned for uint64_t) and empties it.
 * value_bits is 1..32. Returns TF_E_NULL, TF_E_ARG (capacity 0 or too large, value_bits out of range), TF_E_SIZE or
 * TF_E_ALIGN. O(size). */
tf_status tf_packtable_init(tf_packtable *t, void *storage, size_t size, uint32_t capacity, uint32_t value_bits);

/* tf_packtable_init for storage that is already all zero bytes (from calloc, which gets zeroed pages from the system
 * without writing them): the slots are not cleared again. Same checks and returns; O(1). */
tf_status tf_packtable_init_zeroed(tf_packtable *t, void *storage, size_t size, uint32_t capacity, uint32_t value_bits);

/* Empties the table, keeping its storage. O(slots). */
void tf_packtable_clear(tf_packtable *t);

/* Entries stored / most entries accepted. O(1). */
uint32_t tf_packtable_count(const tf_packtable *t);
uint32_t tf_packtable_capacity(const tf_packtable *t);

/* Whether `key` and `value` can be stored in `t` (key nonzero and below 2^(64 - value_bits), value below
 * 2^value_bits). O(1), pure. */
static inline int tf_packtable_fits(const tf_packtable *t, uint64_t key, uint64_t value);

/* Looks `key` up; on a hit stores its value in *value (when not NULL) and returns 1, else 0. Expected O(1). */
static inline int tf_packtable_get(const tf_packtable *t, uint64_t key, uint64_t *value);

/* Prefetch hint for `key`'s home slot, as tf_sitetable_prefetch. O(1). */
static inline void tf_packtable_prefetch(const tf_packtable *t, uint64_t key);

/* Inserts key -> value or replaces the value of an existing key. TF_OK, TF_E_ARG when the pair does not fit
 * (tf_packtable_fits), or TF_E_FULL when the key is new and the table is at capacity (nothing changes then).
 * Expected O(1). */
static inline tf_status tf_packtable_put(tf_packtable *t, uint64_t key, uint64_t value);

/* Removes `key`; on a hit stores its value in *value (when not NULL) and returns 1, else 0. Expected O(1). */
static inline int tf_packtable_take(tf_packtable *t, uint64_t key, uint64_t *value);

/* Iteration as tf_sitetable_next. O(slots) over a full iteration. */
int tf_packtable_next(const tf_packtable *t, uint32_t *cursor, uint64_t *key, uint64_t *value);

/* Removes every entry for which drop(ctx, key, value) returns nonzero, in place (as tf_sitetable_remove_if), and
 * returns how many it removed. drop must not change the table. O(slots). */
uint32_t tf_packtable_remove_if(tf_packtable *t, int (*drop)(void *ctx, uint64_t key, uint64_t value), void *ctx);

/* Moves every entry of `src` into `dst` (growing; dst must hold none of src's keys). TF_OK, TF_E_ARG when value_bits
 * differ, or TF_E_FULL when dst lacks room for them all (nothing moves then). src is unchanged. O(slots of src). */
tf_status tf_packtable_move(tf_packtable *dst, const tf_packtable *src);

/* ---- the packtable's lookups, inline: the tracker's allocation hook runs them on every allocation and free ---- */

static inline int tf_packtable_fits(const tf_packtable *t, uint64_t key, uint64_t value) {
    return key != 0 && (key >> (64u - t->value_bits)) == 0 && (value >> t->value_bits) == 0;
}

static inline void tf_packtable_prefetch(const tf_packtable *t, uint64_t key) {
#if TF_GNUC
    __builtin_prefetch(&t->slots[tf__probe_home_near(key, t->shift, t->mask, t->near)], 1, 1);
#else
    (void)t;
    (void)key;
#endif
}

static inline int tf_packtable_get(const tf_packtable *t, uint64_t key, uint64_t *value) {
    uint32_t i;
    if (!tf_packtable_fits(t, key, 0))
        return 0;
    i = tf__probe_from(t->slots, 1u, t->value_bits, t->mask, tf__probe_home_near(key, t->shift, t->mask, t->near), key);
    if (t->slots[i] == 0)
        return 0;
    if (value)
        *value = t->slots[i] & ((UINT64_C(1) << t->value_bits) - 1u);
    return 1;
}

static inline tf_status tf_packtable_put(tf_packtable *t, uint64_t key, uint64_t value) {
    uint32_t i;
    if (!tf_packtable_fits(t, key, value))
        return TF_E_ARG;
    i = tf__probe_from(t->slots, 1u, t->value_bits, t->mask, tf__probe_home_near(key, t->shift, t->mask, t->near), key);
    if (t->slots[i] == 0) {
        if (t->count >= t->capacity)
            return TF_E_FULL;
        t->count++;
    }
    t->slots[i] = key << t->value_bits | value;
    return TF_OK;
}

static inline int tf_packtable_take(tf_packtable *t, uint64_t key, uint64_t *value) {
    uint32_t hole;
    if (!tf_packtable_fits(t, key, 0))
        return 0;
    hole =
        tf__probe_from(t->slots, 1u, t->value_bits, t->mask, tf__probe_home_near(key, t->shift, t->mask, t->near), key);
    if (t->slots[hole] == 0)
        return 0;
    if (value)
        *value = t->slots[hole] & ((UINT64_C(1) << t->value_bits) - 1u);
    tf__probe_remove(t->slots, 1u, t->value_bits, t->mask, t->shift, t->near, hole);
    t->count--;
    return 1;
}

#ifdef __cplusplus
}
#endif
#endif /* THRIFTY_SITETABLE_H */
