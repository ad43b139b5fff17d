/* thrifty core — hashtable: a bounded open-addressing hash map from a 64-bit key to a 64-bit value.
 *
 * The core's one table for pointers and 64-bit keys: the allocation tracker's tables (sitetable.h gives it its
 * tracker names), and the binding's identity tables (the objects of an ObjectPool, the nodes of a sizeof walk, the
 * strings the doctor's duplicates finding has seen, an Interner's entries). It is a plain data structure and knows
 * nothing about Python.
 *
 * Layout: linear probing over a power-of-two array of {key, value} slots in caller storage; key 0 marks an empty slot,
 * so 0 is not a valid key (callers map it away: addresses are never 0, a hash of 0 becomes 1). Removal shifts later
 * entries back instead of leaving tombstones, so lookups stay short however many removals happen. The table holds at
 * most `capacity` entries (fixed at init); the slot array is sized so the load factor never exceeds 3/4 (a caller
 * that wants shorter probes asks for a smaller capacity: the slot count depends only on it). The home slot is the
 * top bits of the key's Fibonacci hash (one multiply, mixing every bit of the key: see core/src/table_probe.h).
 * A table grows by moving into a bigger one (tf_hashtable_move); the caller owns both storages.
 *
 * Keys are unique (put, upsert, take) unless the table is keyed by a hash that unequal values share, as an interner's
 * is: then tf_hashtable_upsert_match tells equal values apart with the caller's compare, and the table may hold one
 * key several times (get, put and take then see only the first; such a table uses upsert_match, next and remove_if).
 *
 * Thread safety: none; one writer at a time, no reader during a write. No function allocates or blocks; only
 * upsert_match and remove_if call back. All are safe from an interrupt handler that owns the table.
 */
#ifndef THRIFTY_HASHTABLE_H
#define THRIFTY_HASHTABLE_H

#include "thrifty/common.h"
#include "thrifty/table_probe.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The layout of one slot (storage is an array of these): key 0 = empty. */
typedef struct {
    uint64_t key;
    uint64_t value;
} tf_hashtable_entry;

/* Caller-allocated handle; fields are private (the tracker reads mask, count and capacity to decide when to grow
 * without a call). Storage is borrowed for the table's lifetime. */
typedef struct {
    uint64_t *words;   /* the slots: slot i is words[2i] (key) and words[2i + 1] (value) */
    uint32_t mask;     /* number of slots - 1 (a power of two minus one) */
    uint32_t count;    /* entries stored */
    uint32_t capacity; /* most entries accepted */
    uint32_t shift;    /* 64 - log2(slots): the home slot is the top bits of the key's Fibonacci hash */
} tf_hashtable;

/* Largest capacity accepted (keeps slot counts within uint32 with the 3/4 load factor). */
#define TF_HASHTABLE_MAX_CAPACITY (UINT32_C(1) << 29)

/* Bytes of storage a table of `capacity` entries needs, or 0 when capacity is 0 or above TF_HASHTABLE_MAX_CAPACITY
 * (or the size does not fit size_t). It is a power-of-two number of 16-byte slots. O(1), pure. */
size_t tf_hashtable_size(uint32_t capacity);

/* Initialises `t` over `storage` (at least tf_hashtable_size(capacity) bytes, aligned for uint64_t) and empties it.
 * Returns TF_E_NULL, TF_E_ARG (capacity 0 or too large), TF_E_SIZE or TF_E_ALIGN. O(size) (clears the slots). */
tf_status tf_hashtable_init(tf_hashtable *t, void *storage, size_t size, uint32_t capacity);

/* tf_hashtable_init over storage whose first tf_hashtable_size(capacity) bytes the caller has already set to zero
 * (all-zero slots are empty ones), so the slots are not cleared again: for storage from calloc, which gets zeroed
 * pages from the system without writing them, where a second clearing pass was most of the cost of growing a big
 * table. Same checks and returns as tf_hashtable_init; O(1). */
tf_status tf_hashtable_init_zeroed(tf_hashtable *t, void *storage, size_t size, uint32_t capacity);

/* Empties the table, keeping its storage. O(slots). */
void tf_hashtable_clear(tf_hashtable *t);

/* Number of entries stored. O(1). */
uint32_t tf_hashtable_count(const tf_hashtable *t);

/* Most entries `t` accepts. O(1). */
uint32_t tf_hashtable_capacity(const tf_hashtable *t);

/* Looks `key` up; on a hit stores its value in *value (when value is not NULL) and returns 1, else returns 0.
 * Key 0 is never found. Expected O(1). */
static inline int tf_hashtable_get(const tf_hashtable *t, uint64_t key, uint64_t *value);

/* Looks `key` up and returns a pointer to its value, valid until the next put, upsert, take, remove_if or clear; NULL
 * when absent (and for key 0). Expected O(1). */
static inline uint64_t *tf_hashtable_find(tf_hashtable *t, uint64_t key);

/* Hints the CPU to start loading the slot where `key`'s lookup begins, so a put/get/take issued a little later finds
 * it in cache (a large table misses cache on nearly every access). No effect on the table; a no-op on compilers
 * without __builtin_prefetch. O(1). */
void tf_hashtable_prefetch(const tf_hashtable *t, uint64_t key);

/* Inserts key -> value or replaces the value of an existing key. Returns TF_OK, TF_E_ARG for key 0, or TF_E_FULL
 * when the key is new and the table already holds `capacity` entries (nothing changes then). Expected O(1). */
tf_status tf_hashtable_put(tf_hashtable *t, uint64_t key, uint64_t value);

/* Finds `key`, inserting it with `initial` when absent, and returns a pointer to its value that stays valid until
 * the next put, upsert, take, remove_if or clear. NULL for key 0 or when the key is new and the table is full. A
 * caller that needs to know whether the key was new compares tf_hashtable_count before and after. Expected O(1). */
static inline uint64_t *tf_hashtable_upsert(tf_hashtable *t, uint64_t key, uint64_t initial);

/* Removes `key`; on a hit stores its value in *value (when not NULL) and returns 1, else returns 0. Expected O(1). */
int tf_hashtable_take(tf_hashtable *t, uint64_t key, uint64_t *value);

/* Whether the value stored in an entry is the one the caller looks for: 1 yes, 0 no, or a negative number to stop
 * the lookup (an error of the caller's, e.g. it could not compare). */
typedef int (*tf_hashtable_match)(void *ctx, uint64_t value);

/* For a table keyed by a hash of its values (unequal values may share a key): finds the entry with `key` whose value
 * `match` accepts, or inserts key -> initial when there is none. Returns 1 when found, 0 when inserted (either way
 * *value, when not NULL, points at the entry's value, valid as for upsert), TF_E_ARG for key 0, TF_E_FULL when no
 * entry matched and the table is full, or the negative number match returned (nothing changes then). match is
 * called only for entries whose key is `key`, in probe order; it must not touch the table. Expected O(1) probes;
 * as many match calls as entries share the key along the way. */
static inline int tf_hashtable_upsert_match(tf_hashtable *t, uint64_t key, tf_hashtable_match match, void *ctx,
                                            uint64_t initial, uint64_t **value);

/* Iteration: start with *cursor = 0; each call stores the next entry and returns 1, or returns 0 at the end. The
 * table must not change during an iteration (except through remove_if). O(slots) over a full iteration. */
static inline int tf_hashtable_next(const tf_hashtable *t, uint32_t *cursor, uint64_t *key, uint64_t *value);

/* Removes every entry for which drop(ctx, key, value) returns nonzero; returns how many were removed. An entry drop
 * accepts is removed right after drop returns, and drop is never called for it again, nor is its value read again:
 * drop may release what the value refers to. drop may be called more than once for an entry it keeps (removal
 * shifts later entries back, and a run that wraps past the end is met again); it must not touch the table. Correct
 * for a table that holds a key several times (entries are removed where they are, not looked up by key). O(slots). */
uint32_t tf_hashtable_remove_if(tf_hashtable *t, int (*drop)(void *ctx, uint64_t key, uint64_t value), void *ctx);

/* Moves every entry of `src` into `dst` (for growing: init a bigger dst, move, free src's storage); keys src holds
 * several times stay so. Returns TF_OK, or TF_E_FULL when dst lacks room for them all (then nothing is moved; src is
 * never changed). dst must not already hold a key of src. O(slots of src). */
tf_status tf_hashtable_move(tf_hashtable *dst, const tf_hashtable *src);

/* ---- the lookups, inline -----------------------------------------------------------------------------------------
 * get, find, upsert, upsert_match and next are defined here so that a caller's lookup (once per allocation in the
 * tracker, once per object in a sizeof walk or an intern) or walk over every entry is a loop in the caller, with
 * upsert_match's compare called directly, not through a pointer. The probe is table_probe.h's, shared with every
 * other operation, but for upsert_match's, which visits every entry of its key along the run in one pass. */

#define TF__HT_KEY(t, i) ((t)->words[(size_t)(i)*2u])
#define TF__HT_VALUE(t, i) ((t)->words[(size_t)(i)*2u + 1u])

/* Index of key's slot, or of the empty slot ending its probe run. */
static inline uint32_t tf__hashtable_probe(const tf_hashtable *t, uint64_t key) {
    return tf__probe_from(t->words, 2u, 0u, t->mask, tf__probe_home(key, t->shift), key);
}

static inline int tf_hashtable_get(const tf_hashtable *t, uint64_t key, uint64_t *value) {
    uint32_t i;
    if (key == 0)
        return 0;
    i = tf__hashtable_probe(t, key);
    if (TF__HT_KEY(t, i) == 0)
        return 0;
    if (value)
        *value = TF__HT_VALUE(t, i);
    return 1;
}

static inline uint64_t *tf_hashtable_find(tf_hashtable *t, uint64_t key) {
    uint32_t i;
    if (key == 0)
        return NULL;
    i = tf__hashtable_probe(t, key);
    return TF__HT_KEY(t, i) == 0 ? NULL : &TF__HT_VALUE(t, i);
}

static inline uint64_t *tf_hashtable_upsert(tf_hashtable *t, uint64_t key, uint64_t initial) {
    uint32_t i;
    if (key == 0)
        return NULL;
    i = tf__hashtable_probe(t, key);
    if (TF__HT_KEY(t, i) == 0) {
        if (t->count >= t->capacity)
            return NULL;
        TF__HT_KEY(t, i) = key;
        TF__HT_VALUE(t, i) = initial;
        t->count++;
    }
    return &TF__HT_VALUE(t, i);
}

static inline int tf_hashtable_upsert_match(tf_hashtable *t, uint64_t key, tf_hashtable_match match, void *ctx,
                                            uint64_t initial, uint64_t **value) {
    uint64_t *words = t->words;
    size_t i, mask = t->mask;
    if (key == 0)
        return TF_E_ARG;
    /* every entry with this key lies between its home and the first empty slot: one pass over that run, asking match
     * about each entry of the key (the probe's loop, which stops at the first, would rescan from there for the next) */
    for (i = tf__probe_home(key, t->shift);; i = (i + 1u) & mask) {
        uint64_t k = words[i * 2u];
        if (k == 0)
            break;
        if (k == key) {
            int m = match(ctx, words[i * 2u + 1u]);
            if (m < 0)
                return m;
            if (m) {
                if (value)
                    *value = &words[i * 2u + 1u];
                return 1;
            }
        }
    }
    if (t->count >= t->capacity)
        return TF_E_FULL;
    words[i * 2u] = key;
    words[i * 2u + 1u] = initial;
    t->count++;
    if (value)
        *value = &words[i * 2u + 1u];
    return 0;
}

static inline int tf_hashtable_next(const tf_hashtable *t, uint32_t *cursor, uint64_t *key, uint64_t *value) {
    /* the cursor stays within uint32: at most 2^30 slots (TF_HASHTABLE_MAX_CAPACITY) */
    const uint64_t *words = t->words;
    uint32_t i = *cursor, mask = t->mask;
    for (; i <= mask; i++) {
        if (words[(size_t)i * 2u] != 0) {
            if (key)
                *key = words[(size_t)i * 2u];
            if (value)
                *value = words[(size_t)i * 2u + 1u];
            *cursor = i + 1u;
            return 1;
        }
    }
    *cursor = i;
    return 0;
}

#ifdef __cplusplus
}
#endif
#endif /* THRIFTY_HASHTABLE_H */
