/* sitetable: the packed variant of the tracker's tables (tf_packtable), see sitetable.h. The sitetable itself is the
 * hashtable (hashtable.c); the probe and the removal are shared with it (table_probe.h): a packtable slot is one word
 * holding key << value_bits | value, so its key is the word shifted right by value_bits. */
#include "thrifty/sitetable.h"

#include "thrifty/table_probe.h"

size_t tf_packtable_size(uint32_t capacity) {
    uint32_t slots = tf__probe_slots(capacity, TF_SITETABLE_MAX_CAPACITY, NULL);
    uint64_t bytes = (uint64_t)slots * sizeof(uint64_t);
    if (slots == 0 || bytes > (uint64_t)(SIZE_MAX / 2u))
        return 0;
    return (size_t)bytes;
}

tf_status tf_packtable_init_zeroed(tf_packtable *t, void *storage, size_t size, uint32_t capacity,
                                   uint32_t value_bits) {
    tf_status st;
    if (!t || !storage)
        return TF_E_NULL;
    if (value_bits < 1u || value_bits > 32u)
        return TF_E_ARG;
    st = tf__probe_storage(storage, size, tf_packtable_size(capacity));
    if (st != TF_OK)
        return st;
    t->slots = (uint64_t *)storage;
    t->mask = tf__probe_slots(capacity, TF_SITETABLE_MAX_CAPACITY, &t->shift) - 1u;
    t->near = t->mask + 1u >= TF_PACK_NEAR_SLOTS ? TF_PACK_NEAR : 0u;
    t->capacity = capacity;
    t->value_bits = value_bits;
    t->count = 0;
    return TF_OK;
}

tf_status tf_packtable_init(tf_packtable *t, void *storage, size_t size, uint32_t capacity, uint32_t value_bits) {
    tf_status st = tf_packtable_init_zeroed(t, storage, size, capacity, value_bits);
    if (st == TF_OK)
        tf_packtable_clear(t);
    return st;
}

void tf_packtable_clear(tf_packtable *t) {
    TF_MEMSET(t->slots, 0, ((size_t)t->mask + 1u) * sizeof(uint64_t));
    t->count = 0;
}

uint32_t tf_packtable_count(const tf_packtable *t) { return t->count; }

uint32_t tf_packtable_capacity(const tf_packtable *t) { return t->capacity; }

int tf_packtable_next(const tf_packtable *t, uint32_t *cursor, uint64_t *key, uint64_t *value) {
    uint64_t nslots = (uint64_t)t->mask + 1u;
    while ((uint64_t)*cursor < nslots) {
        uint64_t e = t->slots[*cursor];
        (*cursor)++;
        if (e != 0) {
            if (key)
                *key = e >> t->value_bits;
            if (value)
                *value = e & ((UINT64_C(1) << t->value_bits) - 1u);
            return 1;
        }
    }
    return 0;
}

uint32_t tf_packtable_remove_if(tf_packtable *t, int (*drop)(void *ctx, uint64_t key, uint64_t value), void *ctx) {
    uint32_t removed = 0;
    uint64_t nslots = (uint64_t)t->mask + 1u, i = 0, vmask = (UINT64_C(1) << t->value_bits) - 1u;
    /* As tf_hashtable_remove_if: after a removal, slot i may hold an entry shifted back from further on, so it is
     * looked at again before moving on */
    while (i < nslots) {
        uint64_t w = t->slots[i];
        if (w != 0 && drop(ctx, w >> t->value_bits, w & vmask)) {
            tf__probe_remove(t->slots, 1u, t->value_bits, t->mask, t->shift, t->near, (uint32_t)i);
            t->count--;
            removed++;
        } else {
            i++;
        }
    }
    return removed;
}

tf_status tf_packtable_move(tf_packtable *dst, const tf_packtable *src) {
    const uint64_t *from = src->slots;
    uint64_t *to = dst->slots;
    uint64_t nslots = (uint64_t)src->mask + 1u;
    uint32_t mask = dst->mask, shift = dst->shift, kshift = dst->value_bits, near = dst->near;
    if (dst->value_bits != src->value_bits)
        return TF_E_ARG;
    if (src->count > dst->capacity - dst->count)
        return TF_E_FULL;
    /* As tf_hashtable_move: growing the tracker's live-block table is this loop, so it reads the slots directly, keeps
     * dst's geometry in locals and checks room once; each entry goes to the first empty slot from its home (the probe
     * for key 0, which no slot holds): dst holds none of src's keys. */
    for (uint64_t j = 0; j < nslots; j++) {
        uint64_t w = from[j];
        if (w == 0)
            continue;
        to[tf__probe_from(to, 1u, kshift, mask, tf__probe_home_near(w >> kshift, shift, mask, near), 0u)] = w;
    }
    dst->count += src->count;
    return TF_OK;
}
