/* thrifty core — a pool of fixed-size blocks in caller memory.
 *
 * The caller hands over one arena; the pool cuts it into `count` blocks of `block_size` bytes and hands them out
 * and takes them back in O(1). There is no per-block header: a free block's first bytes hold the index of the next
 * free block, so the arena is exactly count * stride bytes, where stride is block_size rounded up to TF_POOL_ALIGN
 * (and, in canary mode, grown by at least TF_POOL_CANARY_BYTES of guard pattern).
 *
 * Blocks that were never handed out are not touched until first use (init is O(1) whatever the count), so a large
 * arena backed by lazily committed memory costs RSS only for blocks actually used.
 *
 * Misuse detection, all O(1):
 *   - a pointer that is not the start of one of this pool's blocks → TF_E_ARG;
 *   - releasing a block that was never handed out, or the block released last, or into a pool with nothing in
 *     use → TF_E_STATE (an older double release is caught only in canary mode, see below);
 *   - canary mode (TF_POOL_FLAG_CANARY): the bytes after each block hold a pattern that says "in use" or "free".
 *     Release checks it: "free" → TF_E_STATE (double release, nothing changed); anything else but "in use" →
 *     TF_E_CORRUPT (a write went past the block's end; the block is released all the same and its guard restored,
 *     so the pool stays usable).
 *
 * No function here is safe to call concurrently on the same pool from two threads, or from an interrupt that may
 * preempt another call on the same pool: the caller serialises (a mutex, or masking the interrupt). Different pools
 * are independent.
 */
#ifndef THRIFTY_POOL_H
#define THRIFTY_POOL_H

#include "thrifty/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Flags for tf_pool_size / tf_pool_init. */
enum {
    TF_POOL_FLAG_ZERO = 1u,  /* clear a block's bytes on release (secrets do not outlive their use) */
    TF_POOL_FLAG_CANARY = 2u /* guard pattern after each block, checked on release (needs TF_POOL_CANARY) */
};

/* The pool's state. Caller-allocated (stack, static, or inside another struct); fields are private — read them
 * through tf_pool_stats. */
typedef struct tf_pool {
    unsigned char *base; /* the arena: count blocks, stride bytes apart */
    size_t free_head;    /* index of the most recently released block, or count; each free block links on */
    size_t block_size;   /* bytes a user may touch in each block */
    size_t stride;       /* distance between blocks: block_size rounded up (+ guard in canary mode) */
    size_t count;        /* blocks in the arena */
    size_t fresh;        /* blocks [fresh, count) were never handed out and are not on the free list; also the most
                            blocks ever in use at once (stats.high_water): a fresh block is taken only when the free
                            list is empty, i.e. when all `fresh` blocks are out, so in_use never exceeds it */
    size_t in_use;       /* blocks currently handed out */
    uint64_t exhausted;  /* acquires refused because every block was in use */
    /* successful acquires since init. Not next to in_use: GCC would add 1 to both with one vector load, add and store,
     * which is an instruction more on acquire's path than two adds to memory. */
    uint64_t acquired;
    unsigned flags; /* TF_POOL_FLAG_* */
} tf_pool;

typedef struct tf_pool_stats {
    size_t block_size, count, in_use, high_water;
    uint64_t acquired, exhausted;
} tf_pool_stats;

/* Bytes of storage a pool of `count` blocks of `block_size` bytes needs with `flags`. Returns 0 when block_size or
 * count is 0, flags has unknown bits, or the size does not fit a size_t. O(1), pure, safe from anywhere. */
size_t tf_pool_size(size_t block_size, size_t count, unsigned flags);

/* Makes `pool` manage `storage` (size bytes, aligned to TF_POOL_ALIGN) as count blocks of block_size bytes. The
 * caller keeps ownership of both and must keep them alive, unmoved, for as long as the pool is used; the pool
 * never frees anything. Block contents start as whatever the storage held. O(1): blocks are linked lazily.
 * Returns TF_E_NULL, TF_E_ARG (zero size/count or unknown flag), TF_E_OVERFLOW, TF_E_SIZE or TF_E_ALIGN; on error
 * `pool` is left unchanged. */
tf_status tf_pool_init(tf_pool *pool, void *storage, size_t size, size_t block_size, size_t count, unsigned flags);

/* Hands out a free block in *out (block_size writable bytes, aligned to TF_POOL_ALIGN). The first
 * sizeof(size_t) bytes are cleared (they held the free-list link), so with TF_POOL_FLAG_ZERO a block reused
 * from the free list reads as all zeros. Returns TF_E_EMPTY when every block is in use (counted in
 * stats.exhausted; *out is set to NULL). O(1). */
tf_status tf_pool_acquire(tf_pool *pool, void **out);

/* Takes back a block this pool handed out. The caller must not touch it afterwards. Returns TF_E_NULL,
 * TF_E_ARG (not one of this pool's blocks), TF_E_STATE (detected double release; nothing changed) or
 * TF_E_CORRUPT (canary mode: the guard after the block was overwritten; the block IS released). O(1); clearing
 * with TF_POOL_FLAG_ZERO is O(block_size). */
tf_status tf_pool_release(tf_pool *pool, void *block);

#if TF_POOL_CANARY
/* Canary mode's guard, out of line (pool.c): mark a block's guard "in use" or "free". Private to the pool. */
void tf__pool_guard_mark(const tf_pool *pool, unsigned char *block, int free_block);
#endif

/* tf_pool_release_index's work for a pool with TF_POOL_FLAG_ZERO or TF_POOL_FLAG_CANARY, out of line (pool.c) so
 * that the inline path of a plain pool stays a handful of instructions. Private to the pool. */
tf_status tf__pool_release_flagged(tf_pool *pool, size_t index);

/* tf_pool_acquire_at for a pool without TF_POOL_FLAG_CANARY (the caller knows): no guard to mark, so nothing is
 * called and a hot path inlining it needs no stack frame. */
static inline unsigned char *tf_pool_acquire_plain(tf_pool *pool, size_t *index) {
    size_t i;
    if (TF_LIKELY(pool->free_head < pool->count)) { /* fresh blocks run out after `count` acquires at most */
        i = pool->free_head;
        TF_MEMCPY(&pool->free_head, pool->base + i * pool->stride, sizeof(size_t));
    } else if (pool->fresh < pool->count) {
        i = pool->fresh++;
    } else {
        pool->exhausted++;
        *index = pool->count;
        return NULL;
    }
    unsigned char *block = pool->base + i * pool->stride;
    /* The link is pool state: never let it reach the user, and keep ZERO blocks all-zero. */
    TF_MEMSET(block, 0, sizeof(size_t));
    pool->in_use++; /* the high-water mark is `fresh` (see tf_pool) */
    pool->acquired++;
    *index = i;
    return block;
}

/* tf_pool_acquire_index for non-NULL arguments, returning the block's start as well (NULL when empty), so that a
 * caller needing both does not compute it again. */
static inline unsigned char *tf_pool_acquire_at(tf_pool *pool, size_t *index) {
    unsigned char *block = tf_pool_acquire_plain(pool, index);
#if TF_POOL_CANARY
    if (block && (pool->flags & TF_POOL_FLAG_CANARY))
        tf__pool_guard_mark(pool, block, 0);
#endif
    return block;
}

/* The same by index (0..count-1): *index receives the block's number (count when empty). Avoids the division that
 * turning a pointer back into an index costs, for callers that keep per-block data in an array. O(1). Inline, like
 * tf_pool_release_index: a binding that lends its own objects by index (ObjectPool) calls both once per loan. */
static inline tf_status tf_pool_acquire_index(tf_pool *pool, size_t *index) {
    if (!pool || !index)
        return TF_E_NULL;
    return tf_pool_acquire_at(pool, index) ? TF_OK : TF_E_EMPTY;
}

/* tf_pool_release_index without its misuse checks, for a caller that keeps each block's state itself and so
 * already knows that block `index` is handed out (thrifty's Pool binding: a Block is released once). Calling it
 * for any other index corrupts the pool. TF_OK, or TF_E_CORRUPT as tf_pool_release (canary mode). O(1). */
static inline tf_status tf_pool_release_out(tf_pool *pool, size_t index) {
    if (pool->flags)
        return tf__pool_release_flagged(pool, index);
    TF_MEMCPY(pool->base + index * pool->stride, &pool->free_head, sizeof(size_t));
    pool->free_head = index;
    pool->in_use--;
    return TF_OK;
}

/* tf_pool_release_out for a pool without flags (the caller knows), given the block's start as well, which the caller
 * kept from tf_pool_acquire_plain / tf_pool_acquire_at: no address to compute, nothing to test, nothing that fails.
 * `block` must be block `index`'s start and `index` handed out, as for tf_pool_release_out. O(1). */
static inline void tf_pool_release_plain(tf_pool *pool, size_t index, unsigned char *block) {
    TF_MEMCPY(block, &pool->free_head, sizeof(size_t));
    pool->free_head = index;
    pool->in_use--;
}

/* tf_pool_release by index: TF_E_ARG when index >= count, otherwise as tf_pool_release. O(1), no division. */
static inline tf_status tf_pool_release_index(tf_pool *pool, size_t index) {
    if (!pool)
        return TF_E_NULL;
    /* fresh <= count, so one comparison covers both an index out of range and a block never handed out */
    if (index >= pool->fresh || index == pool->free_head || pool->in_use == 0)
        return index >= pool->count ? TF_E_ARG : TF_E_STATE;
    return tf_pool_release_out(pool, index);
}

/* Index (0..count-1) of the block starting at `block`, or count when `block` is not the start of one of this
 * pool's blocks. O(1), reads only. */
size_t tf_pool_index(const tf_pool *pool, const void *block);

/* Start of block number `index`, or NULL when index >= count. O(1), reads only. */
void *tf_pool_block(const tf_pool *pool, size_t index);

/* Copies the counters into *out. O(1), reads only. */
void tf_pool_stats_get(const tf_pool *pool, tf_pool_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* THRIFTY_POOL_H */
