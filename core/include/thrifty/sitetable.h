/* thrifty core — sitetable: a bounded open-addressing hash map from a 64-bit key to a 64-bit value.
 *
 * Built for the allocation tracker, which must aggregate inside an allocator hook where it cannot allocate: one
 * table maps live block addresses to (size, site), another maps stack hashes to site indexes. It is a plain data
 * structure and knows nothing about Python.
 *
 * Layout: linear probing over a power-of-two array of {key, value} slots in caller storage; key 0 marks an empty
 * slot, so 0 is not a valid key (callers map it away, e.g. addresses are never 0). Removal shifts later entries
 * back instead of leaving tombstones, so lookups stay short however many removals happen. The table holds at most
 * `capacity` entries (fixed at init); the slot array is sized so the load factor never exceeds 3/4. The home slot is
 * the top bits of the key's Fibonacci hash (one multiply). A packed variant with 8-byte slots follows (tf_packtable).
 *
 * Thread safety: none; one writer at a time, no reader during a write (the tracker holds its lock). No function
 * allocates or blocks, and only tf_sitetable_remove_if calls back; all are safe from an interrupt handler that owns the
 * table.
 */
#ifndef THRIFTY_SITETABLE_H
#define THRIFTY_SITETABLE_H

#include "thrifty/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    uint64_t key; /* 0 = empty slot */
    uint64_t value;
} tf_sitetable_entry;

/* Caller-allocated handle; fields are private. Storage is borrowed for the table's lifetime. */
typedef struct {
    tf_sitetable_entry *slots;
    uint32_t mask;     /* number of slots - 1 (a power of two minus one) */
    uint32_t count;    /* entries stored */
    uint32_t capacity; /* most entries accepted */
    uint32_t shift;    /* 64 - log2(slots): the home slot is the top bits of the key's Fibonacci hash */
} tf_sitetable;

/* Largest capacity accepted (keeps slot counts within uint32 with the 3/4 load factor). */
#define TF_SITETABLE_MAX_CAPACITY (UINT32_C(1) << 29)

/* Bytes of storage a table of `capacity` entries needs, or 0 when capacity is 0 or above
 * TF_SITETABLE_MAX_CAPACITY (or the size does not fit size_t). O(1), pure. */
size_t tf_sitetable_size(uint32_t capacity);

/* Initialises `t` over `storage` (at least tf_sitetable_size(capacity) bytes, aligned for uint64_t) and empties it.
 * Returns TF_E_NULL, TF_E_ARG (capacity 0 or too large), TF_E_SIZE or TF_E_ALIGN. O(size) (clears the slots). */
tf_status tf_sitetable_init(tf_sitetable *t, void *storage, size_t size, uint32_t capacity);

/* Empties the table, keeping its storage. O(slots). */
void tf_sitetable_clear(tf_sitetable *t);

/* Number of entries stored. O(1). */
uint32_t tf_sitetable_count(const tf_sitetable *t);

/* Most entries `t` accepts. O(1). */
uint32_t tf_sitetable_capacity(const tf_sitetable *t);

/* Looks `key` up; on a hit stores its value in *value (when value is not NULL) and returns 1, else returns 0.
 * Key 0 is never found. Expected O(1). */
int tf_sitetable_get(const tf_sitetable *t, uint64_t key, uint64_t *value);

/* Hints the CPU to start loading the slot where `key`'s lookup begins, so a put/get/take issued a little later finds
 * it in cache (a large table misses cache on nearly every access). No effect on the table; a no-op on compilers
 * without __builtin_prefetch. O(1). */
void tf_sitetable_prefetch(const tf_sitetable *t, uint64_t key);

/* Inserts key -> value or replaces the value of an existing key. Returns TF_OK, TF_E_ARG for key 0, or TF_E_FULL
 * when the key is new and the table already holds `capacity` entries (nothing changes then). Expected O(1). */
tf_status tf_sitetable_put(tf_sitetable *t, uint64_t key, uint64_t value);

/* Finds `key`, inserting it with `initial` when absent, and returns a pointer to its value that stays valid until
 * the next put, upsert, take or clear. NULL for key 0 or when the key is new and the table is full. Expected O(1). */
uint64_t *tf_sitetable_upsert(tf_sitetable *t, uint64_t key, uint64_t initial);

/* Removes `key`; on a hit stores its value in *value (when not NULL) and returns 1, else returns 0. Expected O(1). */
int tf_sitetable_take(tf_sitetable *t, uint64_t key, uint64_t *value);

/* Iteration: start with *cursor = 0; each call stores the next entry and returns 1, or returns 0 at the end. The
 * table must not change during an iteration. O(slots) over a full iteration. */
int tf_sitetable_next(const tf_sitetable *t, uint32_t *cursor, uint64_t *key, uint64_t *value);

/* Removes every entry for which drop(ctx, key, value) returns nonzero; returns how many were removed. `drop` may be
 * called more than once for an entry (removal shifts later entries back, and a run that wraps past the end is met
 * again), so it must answer the same for the same entry; it must not touch the table. The one function here that
 * calls back. O(slots). */
uint32_t tf_sitetable_remove_if(tf_sitetable *t, int (*drop)(void *ctx, uint64_t key, uint64_t value), void *ctx);

/* Moves every entry of `src` into `dst` (for growing: init a bigger dst, move, free src's storage). Returns TF_OK,
 * or TF_E_FULL when dst lacks room (dst then holds a prefix; src is unchanged). O(slots of src). */
tf_status tf_sitetable_move(tf_sitetable *dst, const tf_sitetable *src);

/* ---- packtable: the same map in 8-byte slots --------------------------------------------------------------------
 *
 * For the tracker's live-block table, which holds one entry per live block and is most of its memory: each slot is
 * one uint64_t packing key << value_bits | value, half the size of a sitetable entry. Keys must be in
 * [1, 2^(64 - value_bits)) and values below 2^value_bits (a block address shifted right by its 16-byte alignment is
 * 43 bits on a 64-bit host with 47-bit user addresses, leaving 21 bits for a site). Same probing, deletion, load
 * factor, capacity rules and thread safety as the sitetable above; no function allocates, blocks or calls back. */

typedef struct {
    uint64_t *slots; /* 0 = empty slot */
    uint32_t mask, count, capacity, shift;
    uint32_t value_bits;
} tf_packtable;

/* Bytes of storage a packtable of `capacity` entries needs, or 0 (as tf_sitetable_size). O(1), pure. */
size_t tf_packtable_size(uint32_t capacity);

/* Initialises `t` over `storage` (at least tf_packtable_size(capacity) bytes, aligned for uint64_t) and empties it.
 * value_bits is 1..32. Returns TF_E_NULL, TF_E_ARG (capacity 0 or too large, value_bits out of range), TF_E_SIZE or
 * TF_E_ALIGN. O(size). */
tf_status tf_packtable_init(tf_packtable *t, void *storage, size_t size, uint32_t capacity, uint32_t value_bits);

/* Empties the table, keeping its storage. O(slots). */
void tf_packtable_clear(tf_packtable *t);

/* Entries stored / most entries accepted. O(1). */
uint32_t tf_packtable_count(const tf_packtable *t);
uint32_t tf_packtable_capacity(const tf_packtable *t);

/* Whether `key` and `value` can be stored in `t` (key nonzero and below 2^(64 - value_bits), value below
 * 2^value_bits). O(1), pure. */
int tf_packtable_fits(const tf_packtable *t, uint64_t key, uint64_t value);

/* Looks `key` up; on a hit stores its value in *value (when not NULL) and returns 1, else 0. Expected O(1). */
int tf_packtable_get(const tf_packtable *t, uint64_t key, uint64_t *value);

/* Prefetch hint for `key`'s home slot, as tf_sitetable_prefetch. O(1). */
void tf_packtable_prefetch(const tf_packtable *t, uint64_t key);

/* Inserts key -> value or replaces the value of an existing key. TF_OK, TF_E_ARG when the pair does not fit
 * (tf_packtable_fits), or TF_E_FULL when the key is new and the table is at capacity (nothing changes then).
 * Expected O(1). */
tf_status tf_packtable_put(tf_packtable *t, uint64_t key, uint64_t value);

/* Removes `key`; on a hit stores its value in *value (when not NULL) and returns 1, else 0. Expected O(1). */
int tf_packtable_take(tf_packtable *t, uint64_t key, uint64_t *value);

/* Iteration as tf_sitetable_next. O(slots) over a full iteration. */
int tf_packtable_next(const tf_packtable *t, uint32_t *cursor, uint64_t *key, uint64_t *value);

/* Moves every entry of `src` into `dst` (growing). TF_OK, TF_E_ARG when value_bits differ, or TF_E_FULL when dst
 * lacks room (dst then holds a prefix; src is unchanged). O(slots of src). */
tf_status tf_packtable_move(tf_packtable *dst, const tf_packtable *src);

#ifdef __cplusplus
}
#endif
#endif /* THRIFTY_SITETABLE_H */
