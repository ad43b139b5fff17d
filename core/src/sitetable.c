/* sitetable: bounded linear-probing hash map, see sitetable.h. */
#include "thrifty/sitetable.h"

/* Slots for a capacity: the smallest power of two with capacity <= 3/4 of it (at least 4). 0 when too large. */
static uint32_t tf__sitetable_slots(uint32_t capacity) {
    uint64_t need = ((uint64_t)capacity * 4u + 2u) / 3u;
    uint64_t slots = 4;
    if (capacity == 0 || capacity > TF_SITETABLE_MAX_CAPACITY)
        return 0;
    while (slots < need)
        slots <<= 1;
    return (uint32_t)slots;
}

/* Fibonacci hashing: multiply by 2^64/phi and keep the top bits. One multiply on the hot path of every tracked
 * allocation and free; the top bits of the product depend on every bit of the key, so block addresses (which share
 * their low and high bits and come in strides) spread as well as already-mixed stack hashes. */
static uint32_t tf__sitetable_home(const tf_sitetable *t, uint64_t key) {
    return (uint32_t)((key * UINT64_C(0x9e3779b97f4a7c15)) >> t->shift);
}

size_t tf_sitetable_size(uint32_t capacity) {
    uint32_t slots = tf__sitetable_slots(capacity);
    uint64_t bytes = (uint64_t)slots * sizeof(tf_sitetable_entry);
    /* On a 32-bit target 2^30 slots of 16 bytes do not fit size_t. */
    if (slots == 0 || bytes > (uint64_t)(SIZE_MAX / 2u))
        return 0;
    return (size_t)bytes;
}

/* What both table kinds check of their storage, and their shared geometry: mask and Fibonacci shift for the
 * capacity. `need` is the kind's size for the capacity (0 = capacity out of range). */
static tf_status tf__table_shape(const void *storage, size_t size, size_t need, uint32_t capacity, uint32_t *mask,
                                 uint32_t *shift) {
    if (need == 0)
        return TF_E_ARG;
    if (size < need)
        return TF_E_SIZE;
    if (!TF_IS_ALIGNED(storage, sizeof(uint64_t)))
        return TF_E_ALIGN;
    *mask = tf__sitetable_slots(capacity) - 1u;
    *shift = 64u;
    for (uint32_t n = *mask + 1u; n > 1u; n >>= 1)
        (*shift)--;
    return TF_OK;
}

tf_status tf_sitetable_init(tf_sitetable *t, void *storage, size_t size, uint32_t capacity) {
    tf_status st;
    if (!t || !storage)
        return TF_E_NULL;
    st = tf__table_shape(storage, size, tf_sitetable_size(capacity), capacity, &t->mask, &t->shift);
    if (st != TF_OK)
        return st;
    t->slots = (tf_sitetable_entry *)storage;
    t->capacity = capacity;
    tf_sitetable_clear(t);
    return TF_OK;
}

void tf_sitetable_clear(tf_sitetable *t) {
    TF_MEMSET(t->slots, 0, ((size_t)t->mask + 1u) * sizeof(tf_sitetable_entry));
    t->count = 0;
}

uint32_t tf_sitetable_count(const tf_sitetable *t) { return t->count; }

uint32_t tf_sitetable_capacity(const tf_sitetable *t) { return t->capacity; }

/* Index of key's slot, or of the empty slot ending its probe run. Terminates: the load factor keeps a slot empty. */
static uint32_t tf__sitetable_probe(const tf_sitetable *t, uint64_t key) {
    uint32_t i = tf__sitetable_home(t, key);
    while (t->slots[i].key != 0 && t->slots[i].key != key)
        i = (i + 1u) & t->mask;
    return i;
}

void tf_sitetable_prefetch(const tf_sitetable *t, uint64_t key) {
#if TF_GNUC
    __builtin_prefetch(&t->slots[tf__sitetable_home(t, key)], 1, 1);
#else
    (void)t;
    (void)key;
#endif
}

int tf_sitetable_get(const tf_sitetable *t, uint64_t key, uint64_t *value) {
    uint32_t i;
    if (key == 0)
        return 0;
    i = tf__sitetable_probe(t, key);
    if (t->slots[i].key == 0)
        return 0;
    if (value)
        *value = t->slots[i].value;
    return 1;
}

uint64_t *tf_sitetable_upsert(tf_sitetable *t, uint64_t key, uint64_t initial) {
    uint32_t i;
    if (key == 0)
        return NULL;
    i = tf__sitetable_probe(t, key);
    if (t->slots[i].key == 0) {
        if (t->count >= t->capacity)
            return NULL;
        t->slots[i].key = key;
        t->slots[i].value = initial;
        t->count++;
    }
    return &t->slots[i].value;
}

tf_status tf_sitetable_put(tf_sitetable *t, uint64_t key, uint64_t value) {
    uint64_t *slot;
    if (key == 0)
        return TF_E_ARG;
    slot = tf_sitetable_upsert(t, key, value);
    if (!slot)
        return TF_E_FULL;
    *slot = value;
    return TF_OK;
}

int tf_sitetable_take(tf_sitetable *t, uint64_t key, uint64_t *value) {
    uint32_t hole, j;
    if (key == 0)
        return 0;
    hole = tf__sitetable_probe(t, key);
    if (t->slots[hole].key == 0)
        return 0;
    if (value)
        *value = t->slots[hole].value;
    /* Backward-shift deletion: pull later entries of the run into the hole when the hole lies between their home
     * slot and where they sit, so every remaining key stays reachable from its home without tombstones. */
    j = hole;
    for (;;) {
        uint32_t home;
        j = (j + 1u) & t->mask;
        if (t->slots[j].key == 0)
            break;
        home = tf__sitetable_home(t, t->slots[j].key);
        if (((j - home) & t->mask) >= ((j - hole) & t->mask)) {
            t->slots[hole] = t->slots[j];
            hole = j;
        }
    }
    t->slots[hole].key = 0;
    t->slots[hole].value = 0;
    t->count--;
    return 1;
}

int tf_sitetable_next(const tf_sitetable *t, uint32_t *cursor, uint64_t *key, uint64_t *value) {
    uint64_t nslots = (uint64_t)t->mask + 1u;
    while ((uint64_t)*cursor < nslots) {
        const tf_sitetable_entry *e = &t->slots[*cursor];
        (*cursor)++;
        if (e->key != 0) {
            if (key)
                *key = e->key;
            if (value)
                *value = e->value;
            return 1;
        }
    }
    return 0;
}

uint32_t tf_sitetable_remove_if(tf_sitetable *t, int (*drop)(void *ctx, uint64_t key, uint64_t value), void *ctx) {
    uint32_t removed = 0;
    uint64_t nslots = (uint64_t)t->mask + 1u, i = 0;
    /* After a take, slot i may hold an entry shifted back from further on: look at it again before moving on. Shifts
     * only move entries into holes at or after i (or, for a run wrapping past the end, from the front to the back),
     * so no entry is skipped. */
    while (i < nslots) {
        tf_sitetable_entry e = t->slots[i];
        if (e.key != 0 && drop(ctx, e.key, e.value)) {
            tf_sitetable_take(t, e.key, NULL);
            removed++;
        } else {
            i++;
        }
    }
    return removed;
}

tf_status tf_sitetable_move(tf_sitetable *dst, const tf_sitetable *src) {
    uint32_t cursor = 0;
    uint64_t key, value;
    while (tf_sitetable_next(src, &cursor, &key, &value))
        if (tf_sitetable_put(dst, key, value) != TF_OK)
            return TF_E_FULL;
    return TF_OK;
}

/* ---- packtable ------------------------------------------------------------------------------------------------ */
/* The packtable repeats the sitetable's shape (accessors, probe, backward-shift take) over 8-byte slots that hold key
 * and value in one word. Kept as separate typed code on purpose: probe and take run on every traced allocation and
 * free, and a shared version would need an indirect slot accessor (or a macro template) on that path. Only the
 * storage checks and geometry, off the hot path, are shared (tf__table_shape). */

static uint32_t tf__packtable_home(const tf_packtable *t, uint64_t key) {
    return (uint32_t)((key * UINT64_C(0x9e3779b97f4a7c15)) >> t->shift);
}

size_t tf_packtable_size(uint32_t capacity) {
    uint32_t slots = tf__sitetable_slots(capacity);
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
    st = tf__table_shape(storage, size, tf_packtable_size(capacity), capacity, &t->mask, &t->shift);
    if (st != TF_OK)
        return st;
    t->slots = (uint64_t *)storage;
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

/* Index of key's slot, or of the empty slot ending its probe run. The key must fit. */
static uint32_t tf__packtable_probe(const tf_packtable *t, uint64_t key) {
    uint32_t i = tf__packtable_home(t, key);
    while (t->slots[i] != 0 && (t->slots[i] >> t->value_bits) != key)
        i = (i + 1u) & t->mask;
    return i;
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
    uint32_t hole, j;
    if (!tf_packtable_fits(t, key, 0))
        return 0;
    hole = tf__packtable_probe(t, key);
    if (t->slots[hole] == 0)
        return 0;
    if (value)
        *value = t->slots[hole] & ((UINT64_C(1) << t->value_bits) - 1u);
    /* backward-shift deletion, as in tf_sitetable_take */
    j = hole;
    for (;;) {
        uint32_t home;
        j = (j + 1u) & t->mask;
        if (t->slots[j] == 0)
            break;
        home = tf__packtable_home(t, t->slots[j] >> t->value_bits);
        if (((j - home) & t->mask) >= ((j - hole) & t->mask)) {
            t->slots[hole] = t->slots[j];
            hole = j;
        }
    }
    t->slots[hole] = 0;
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
