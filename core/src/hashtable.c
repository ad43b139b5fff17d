/* hashtable: bounded linear-probing hash map, see hashtable.h (which defines the lookups inline). The probe and the
 * removal are table_probe.h's. */
#include "thrifty/hashtable.h"

/* slot i is {words[2i], words[2i + 1]}: the key in all of its first word (stride 2, key shift 0) */
#define HT_STRIDE 2u
#define HT_KEY TF__HT_KEY
#define HT_VALUE TF__HT_VALUE

size_t tf_hashtable_size(uint32_t capacity) {
    uint32_t slots = tf__probe_slots(capacity, TF_HASHTABLE_MAX_CAPACITY, NULL);
    uint64_t bytes = (uint64_t)slots * sizeof(tf_hashtable_entry);
    /* On a 32-bit target 2^30 slots of 16 bytes do not fit size_t. */
    if (slots == 0 || bytes > (uint64_t)(SIZE_MAX / 2u))
        return 0;
    return (size_t)bytes;
}

tf_status tf_hashtable_init_zeroed(tf_hashtable *t, void *storage, size_t size, uint32_t capacity) {
    tf_status st;
    if (!t || !storage)
        return TF_E_NULL;
    st = tf__probe_storage(storage, size, tf_hashtable_size(capacity));
    if (st != TF_OK)
        return st;
    t->words = (uint64_t *)storage;
    t->mask = tf__probe_slots(capacity, TF_HASHTABLE_MAX_CAPACITY, &t->shift) - 1u;
    t->capacity = capacity;
    t->count = 0;
    return TF_OK;
}

tf_status tf_hashtable_init(tf_hashtable *t, void *storage, size_t size, uint32_t capacity) {
    tf_status st = tf_hashtable_init_zeroed(t, storage, size, capacity);
    if (st == TF_OK)
        tf_hashtable_clear(t);
    return st;
}

void tf_hashtable_clear(tf_hashtable *t) {
    TF_MEMSET(t->words, 0, ((size_t)t->mask + 1u) * sizeof(tf_hashtable_entry));
    t->count = 0;
}

uint32_t tf_hashtable_count(const tf_hashtable *t) { return t->count; }

uint32_t tf_hashtable_capacity(const tf_hashtable *t) { return t->capacity; }

void tf_hashtable_prefetch(const tf_hashtable *t, uint64_t key) {
#if TF_GNUC
    __builtin_prefetch(&HT_KEY(t, tf__probe_home(key, t->shift)), 1, 1);
#else
    (void)t;
    (void)key;
#endif
}

tf_status tf_hashtable_put(tf_hashtable *t, uint64_t key, uint64_t value) {
    uint64_t *slot;
    if (key == 0)
        return TF_E_ARG;
    slot = tf_hashtable_upsert(t, key, value);
    if (!slot)
        return TF_E_FULL;
    *slot = value;
    return TF_OK;
}

int tf_hashtable_take(tf_hashtable *t, uint64_t key, uint64_t *value) {
    uint32_t i;
    if (key == 0)
        return 0;
    i = tf__hashtable_probe(t, key);
    if (HT_KEY(t, i) == 0)
        return 0;
    if (value)
        *value = HT_VALUE(t, i);
    tf__probe_remove(t->words, HT_STRIDE, 0u, t->mask, t->shift, 0u, i);
    t->count--;
    return 1;
}

uint32_t tf_hashtable_remove_if(tf_hashtable *t, int (*drop)(void *ctx, uint64_t key, uint64_t value), void *ctx) {
    uint32_t removed = 0;
    uint64_t nslots = (uint64_t)t->mask + 1u, i = 0;
    /* After a removal, slot i may hold an entry shifted back from further on: look at it again before moving on.
     * Shifts only move entries into holes at or after i (or, for a run wrapping past the end, from the front to the
     * back), so no entry is skipped. */
    while (i < nslots) {
        uint32_t at = (uint32_t)i;
        if (HT_KEY(t, at) != 0 && drop(ctx, HT_KEY(t, at), HT_VALUE(t, at))) {
            tf__probe_remove(t->words, HT_STRIDE, 0u, t->mask, t->shift, 0u, at);
            t->count--;
            removed++;
        } else {
            i++;
        }
    }
    return removed;
}

tf_status tf_hashtable_move(tf_hashtable *dst, const tf_hashtable *src) {
    const uint64_t *from = src->words;
    uint64_t *to = dst->words;
    uint64_t nslots = (uint64_t)src->mask + 1u;
    uint32_t mask = dst->mask, shift = dst->shift;
    if (src->count > dst->capacity - dst->count)
        return TF_E_FULL;
    /* Growing a table is this loop over every slot of src, so it reads the slots directly, not through next(), keeps
     * dst's geometry in locals (the stores into the slots would make the compiler reload it), and checks room once,
     * above. Every entry goes to the first empty slot from its home (the probe for key 0, which no slot holds) without
     * looking for its key: dst holds none of src's keys, and a key src holds several times stays several times. */
    for (uint64_t j = 0; j < nslots; j++) {
        uint64_t key = from[j * HT_STRIDE];
        uint32_t i;
        if (key == 0)
            continue;
        i = tf__probe_from(to, HT_STRIDE, 0u, mask, tf__probe_home(key, shift), 0u);
        to[(size_t)i * HT_STRIDE] = key;
        to[(size_t)i * HT_STRIDE + 1u] = from[j * HT_STRIDE + 1u];
    }
    dst->count += src->count;
    return TF_OK;
}
