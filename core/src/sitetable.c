/* sitetable: the packed variant of the tracker's tables (tf_packtable), see sitetable.h. The sitetable itself is the
 * hashtable (hashtable.c); the probe and the removal are shared with it (table_probe.h): a packtable slot is one word
 * holding key << value_bits | value, so its key is the word shifted right by value_bits. */
#include "thrifty/sitetable.h"

#include "thrifty/table_probe.h"

static uint32_t tf__packtable_home(const tf_packtable *t, uint64_t key) { return tf__probe_home(key, t->shift); }

/* Index of key's slot, or of the empty slot ending its probe run. The key must fit. */
static uint32_t tf__packtable_probe(const tf_packtable *t, uint64_t key) {
    return tf__probe_from(t->slots, 1u, t->value_bits, t->mask, tf__packtable_home(t, key), key);
}

size_t tf_packtable_size(uint32_t capacity) {
    uint32_t slots = tf__probe_slots(capacity, TF_SITETABLE_MAX_CAPACITY, NULL);
    uint64_t bytes = (uint64_t)slots * sizeof(uint64_t);
    if (slots == 0 || bytes > (uint64_t)(SIZE_MAX / 2u))
        return 0;
    return (size_t)bytes;
}

tf_status tf_packtable_init(tf_packtable *t, void *storage, size_t size, uint32_t capacity, uint32_t value_bits) {
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
    t->capacity = capacity;
    t->value_bits = value_bits;
    tf_packtable_clear(t);
    return TF_OK;
}

void tf_packtable_clear(tf_packtable *t) {
    TF_MEMSET(t->slots, 0, ((size_t)t->mask + 1u) * sizeof(uint64_t));
    t->count = 0;
}

uint32_t tf_packtable_count(const tf_packtable *t) { return t->count; }

uint32_t tf_packtable_capacity(const tf_packtable *t) { return t->capacity; }

int tf_packtable_fits(const tf_packtable *t, uint64_t key, uint64_t value) {
    return key != 0 && (key >> (64u - t->value_bits)) == 0 && (value >> t->value_bits) == 0;
}

void tf_packtable_prefetch(const tf_packtable *t, uint64_t key) {
#if TF_GNUC
    __builtin_prefetch(&t->slots[tf__packtable_home(t, key)], 1, 1);
#else
    (void)t;
    (void)key;
#endif
}

int tf_packtable_get(const tf_packtable *t, uint64_t key, uint64_t *value) {
    uint32_t i;
    if (!tf_packtable_fits(t, key, 0))
        return 0;
    i = tf__packtable_probe(t, key);
    if (t->slots[i] == 0)
        return 0;
    if (value)
        *value = t->slots[i] & ((UINT64_C(1) << t->value_bits) - 1u);
    return 1;
}

tf_status tf_packtable_put(tf_packtable *t, uint64_t key, uint64_t value) {
    uint32_t i;
    if (!tf_packtable_fits(t, key, value))
        return TF_E_ARG;
    i = tf__packtable_probe(t, key);
    if (t->slots[i] == 0) {
        if (t->count >= t->capacity)
            return TF_E_FULL;
        t->count++;
    }
    t->slots[i] = key << t->value_bits | value;
    return TF_OK;
}

int tf_packtable_take(tf_packtable *t, uint64_t key, uint64_t *value) {
    uint32_t hole;
    if (!tf_packtable_fits(t, key, 0))
        return 0;
    hole = tf__packtable_probe(t, key);
    if (t->slots[hole] == 0)
        return 0;
    if (value)
        *value = t->slots[hole] & ((UINT64_C(1) << t->value_bits) - 1u);
    tf__probe_remove(t->slots, 1u, t->value_bits, t->mask, t->shift, hole);
    t->count--;
    return 1;
}

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

tf_status tf_packtable_move(tf_packtable *dst, const tf_packtable *src) {
    uint32_t cursor = 0;
    uint64_t key, value;
    if (dst->value_bits != src->value_bits)
        return TF_E_ARG;
    while (tf_packtable_next(src, &cursor, &key, &value))
        if (tf_packtable_put(dst, key, value) != TF_OK)
            return TF_E_FULL;
    return TF_OK;
}
