/* thrifty core — fixed-size block pool (see pool.h for the contract; acquire and release by index are inline there). */
#include "thrifty/pool.h"

TF_STATIC_ASSERT((TF_POOL_ALIGN & (TF_POOL_ALIGN - 1)) == 0, pool_align_is_power_of_two);
TF_STATIC_ASSERT(TF_POOL_ALIGN >= sizeof(size_t), pool_align_holds_a_link);
TF_STATIC_ASSERT(TF_POOL_CANARY_BYTES >= 1, pool_canary_not_empty);

static const size_t TF__LINK = sizeof(size_t); /* a free block begins with its link: the next free index */
#define TF__KNOWN_FLAGS (TF_POOL_FLAG_ZERO | TF_POOL_FLAG_CANARY)

/* Stride for a configuration, or 0 when it cannot be represented. A free block must hold its link, so even a
 * 1-byte block occupies a link's worth; in canary mode the guard starts right after the user's bytes (so the first
 * byte written past the end hits it) and is long enough that the part after the link still holds a full
 * TF_POOL_CANARY_BYTES of pattern when the block is free. */
static size_t tf__stride(size_t block_size, unsigned flags) {
    size_t need = block_size < TF__LINK ? TF__LINK : block_size;
    if (flags & TF_POOL_FLAG_CANARY) {
        if (need > SIZE_MAX - TF_POOL_CANARY_BYTES)
            return 0;
        need += TF_POOL_CANARY_BYTES;
    }
    if (need > SIZE_MAX - (TF_POOL_ALIGN - 1u))
        return 0;
    return (need + (TF_POOL_ALIGN - 1u)) & ~(size_t)(TF_POOL_ALIGN - 1u);
}

size_t tf_pool_size(size_t block_size, size_t count, unsigned flags) {
    if (block_size == 0 || count == 0 || (flags & ~(unsigned)TF__KNOWN_FLAGS) != 0)
        return 0;
    size_t stride = tf__stride(block_size, flags);
    if (stride == 0 || count > SIZE_MAX / stride)
        return 0;
    return stride * count;
}

tf_status tf_pool_init(tf_pool *pool, void *storage, size_t size, size_t block_size, size_t count, unsigned flags) {
    if (!pool || !storage)
        return TF_E_NULL;
    if (block_size == 0 || count == 0 || (flags & ~(unsigned)TF__KNOWN_FLAGS) != 0)
        return TF_E_ARG;
#if !TF_POOL_CANARY
    if (flags & TF_POOL_FLAG_CANARY)
        return TF_E_ARG;
#endif
    size_t need = tf_pool_size(block_size, count, flags);
    if (need == 0)
        return TF_E_OVERFLOW;
    if (size < need)
        return TF_E_SIZE;
    if (!TF_IS_ALIGNED(storage, TF_POOL_ALIGN))
        return TF_E_ALIGN;
    pool->base = (unsigned char *)storage;
    pool->free_head = count; /* none */
    pool->block_size = block_size;
    pool->stride = tf__stride(block_size, flags);
    pool->count = count;
    pool->fresh = 0;
    pool->in_use = 0;
    pool->acquired = 0;
    pool->exhausted = 0;
    pool->flags = flags;
    return TF_OK;
}

#if TF_POOL_CANARY
/* The guard byte at position i of a block's guard, for an in-use or a free block. Position-dependent so that a
 * run of one repeated byte written past the end never looks intact. */
static unsigned char tf__guard(size_t i, int free_block) {
    return (unsigned char)((free_block ? 0x5Au : 0xC3u) ^ (unsigned)((i * 0x1Fu) & 0xFFu));
}

static void tf__guard_write(unsigned char *from, unsigned char *to, int free_block) {
    for (size_t i = 0; from + i < to; i++)
        from[i] = tf__guard(i, free_block);
}

static int tf__guard_intact(const unsigned char *from, const unsigned char *to, int free_block) {
    for (size_t i = 0; from + i < to; i++)
        if (from[i] != tf__guard(i, free_block))
            return 0;
    return 1;
}

/* Where a free block's guard starts: after the link when the link spills past a tiny block's user bytes. */
static unsigned char *tf__free_guard(const tf_pool *pool, unsigned char *block) {
    return block + (pool->block_size < TF__LINK ? TF__LINK : pool->block_size);
}

void tf__pool_guard_mark(const tf_pool *pool, unsigned char *block, int free_block) {
    if (free_block)
        tf__guard_write(tf__free_guard(pool, block), block + pool->stride, 1);
    else
        tf__guard_write(block + pool->block_size, block + pool->stride, 0);
}

/* An in-use block's guard: TF_OK intact, TF_E_STATE it says "free" (a double release), TF_E_CORRUPT overwritten. */
static tf_status tf__pool_guard_check(const tf_pool *pool, unsigned char *block) {
    if (tf__guard_intact(block + pool->block_size, block + pool->stride, 0))
        return TF_OK;
    return tf__guard_intact(tf__free_guard(pool, block), block + pool->stride, 1) ? TF_E_STATE : TF_E_CORRUPT;
}
#endif

tf_status tf__pool_release_flagged(tf_pool *pool, size_t index) {
    unsigned char *b = pool->base + index * pool->stride;
    tf_status status = TF_OK;
#if TF_POOL_CANARY
    if (pool->flags & TF_POOL_FLAG_CANARY) {
        status = tf__pool_guard_check(pool, b);
        if (status == TF_E_STATE)
            return status; /* a double release: nothing changes */
    }
#endif
    if (pool->flags & TF_POOL_FLAG_ZERO)
        TF_MEMSET(b, 0, pool->block_size);
#if TF_POOL_CANARY
    if (pool->flags & TF_POOL_FLAG_CANARY)
        tf__pool_guard_mark(pool, b, 1);
#endif
    TF_MEMCPY(b, &pool->free_head, sizeof(size_t));
    pool->free_head = index;
    pool->in_use--;
    return status;
}

tf_status tf_pool_acquire(tf_pool *pool, void **out) {
    if (!pool || !out)
        return TF_E_NULL;
    size_t i;
    tf_status status = tf_pool_acquire_index(pool, &i);
    *out = status == TF_OK ? pool->base + i * pool->stride : NULL;
    return status;
}

size_t tf_pool_index(const tf_pool *pool, const void *block) {
    if (!pool || !block)
        return pool ? pool->count : 0;
    uintptr_t p = (uintptr_t)block, b = (uintptr_t)pool->base;
    if (p < b || p - b >= (uintptr_t)(pool->count * pool->stride) || (p - b) % pool->stride != 0)
        return pool->count;
    return (size_t)((p - b) / pool->stride);
}

void *tf_pool_block(const tf_pool *pool, size_t index) {
    if (!pool || index >= pool->count)
        return NULL;
    return pool->base + index * pool->stride;
}

tf_status tf_pool_release(tf_pool *pool, void *block) {
    if (!pool || !block)
        return TF_E_NULL;
    size_t index = tf_pool_index(pool, block);
    return index == pool->count ? TF_E_ARG : tf_pool_release_index(pool, index);
}

void tf_pool_stats_get(const tf_pool *pool, tf_pool_stats *out) {
    if (!pool || !out)
        return;
    out->block_size = pool->block_size;
    out->count = pool->count;
    out->in_use = pool->in_use;
    out->high_water = pool->fresh; /* see tf_pool: no more blocks were ever out at once */
    out->acquired = pool->acquired;
    out->exhausted = pool->exhausted;
}
