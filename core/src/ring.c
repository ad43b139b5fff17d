/* thrifty core — Ring. Contract and concurrency rules: ring.h (the single-item operations live there, inline).
 *
 * Invariants: head, tail < 2 * capacity; length = (tail - head) mod 2 * capacity <= capacity. The slot of position
 * p is p mod capacity, computed by one conditional subtraction because p < 2 * capacity.
 */
#include "thrifty/ring.h"

size_t tf_ring_max_capacity(size_t itemsize) {
    if (itemsize == 0)
        return 0;
    /* positions are added to without wrapping first (p + n < 3 * capacity), and the storage size must fit */
    size_t by_pos = SIZE_MAX / 4u;
    size_t by_bytes = SIZE_MAX / itemsize;
    return by_pos < by_bytes ? by_pos : by_bytes;
}

size_t tf_ring_size(size_t capacity, size_t itemsize) {
    if (itemsize == 0 || capacity > tf_ring_max_capacity(itemsize))
        return 0;
    return capacity * itemsize;
}

static size_t tf__align_of_item(size_t itemsize) {
    size_t a = 1;
    while (a < 8u && itemsize % (a * 2u) == 0u)
        a *= 2u;
    return a;
}

static tf_status tf__check_storage(const void *storage, size_t size, size_t itemsize, size_t capacity) {
    if (itemsize == 0 || capacity > tf_ring_max_capacity(itemsize))
        return TF_E_ARG;
    if (capacity > 0 && storage == NULL)
        return TF_E_NULL;
    if (size < capacity * itemsize)
        return TF_E_SIZE;
    if (storage != NULL && !TF_IS_ALIGNED(storage, tf__align_of_item(itemsize)))
        return TF_E_ALIGN;
    return TF_OK;
}

tf_status tf_ring_init(tf_ring *r, void *storage, size_t size, size_t itemsize, size_t capacity) {
    if (r == NULL)
        return TF_E_NULL;
    tf_status st = tf__check_storage(storage, size, itemsize, capacity);
    if (st != TF_OK)
        return st;
    r->buf = (uint8_t *)storage;
    r->capacity = capacity;
    r->itemsize = itemsize;
    r->head = 0;
    r->tail = 0;
    r->overflow = TF_RING_REFUSE;
    return TF_OK;
}

tf_status tf_ring_set_overflow(tf_ring *r, tf_ring_overflow policy) {
    if (r == NULL)
        return TF_E_NULL;
    if (policy != TF_RING_REFUSE && policy != TF_RING_DROP_OLDEST)
        return TF_E_ARG;
    r->overflow = (int)policy;
    return TF_OK;
}

void tf_ring_clear(tf_ring *r) {
    r->head = 0;
    r->tail = 0;
}

tf_status tf_ring_rehome(tf_ring *r, void *storage, size_t size, size_t capacity) {
    if (r == NULL)
        return TF_E_NULL;
    tf_status st = tf__check_storage(storage, size, r->itemsize, capacity);
    if (st != TF_OK)
        return st;
    size_t n = tf_ring_len(r);
    if (capacity < n)
        return TF_E_ARG;
    if (n > 0)
        (void)tf_ring_peek(r, 0, storage, n);
    r->buf = (uint8_t *)storage;
    r->capacity = capacity;
    r->head = 0;
    r->tail = n; /* n <= capacity < 2 * capacity, or 0 when capacity is 0 */
    return TF_OK;
}

/* ---- bulk ------------------------------------------------------------------------------------------------- */

/* Items contiguous in storage from position p, at most n. */
static size_t tf__run(const tf_ring *r, size_t p, size_t n) {
    size_t s = p >= r->capacity ? p - r->capacity : p;
    size_t room = r->capacity - s;
    return n < room ? n : room;
}

size_t tf_ring_write(tf_ring *r, const void *src, size_t n) {
    size_t tail = r->tail;
    size_t head = TF__RING_LOAD(&r->head);
    size_t space = r->capacity - tf__ring_count(r, head, tail);
    if (n > space)
        n = space;
    if (n == 0)
        return 0;
    size_t first = tf__run(r, tail, n);
    TF_MEMCPY(tf__ring_slot(r, tail), src, first * r->itemsize);
    if (n > first)
        TF_MEMCPY(r->buf, (const uint8_t *)src + first * r->itemsize, (n - first) * r->itemsize);
    TF__RING_STORE(&r->tail, tf__ring_fwd(r, tail, n));
    return n;
}

size_t tf_ring_put(tf_ring *r, const void *src, size_t n) {
    if (r->overflow != TF_RING_DROP_OLDEST)
        return tf_ring_write(r, src, n);
    size_t cap = r->capacity;
    if (n >= cap) { /* only the newest `cap` items of src survive */
        tf_ring_clear(r);
        if (cap > 0)
            (void)tf_ring_write(r, (const uint8_t *)src + (n - cap) * r->itemsize, cap);
        return n;
    }
    size_t space = tf_ring_space(r);
    if (n > space)
        (void)tf_ring_consume(r, n - space);
    (void)tf_ring_write(r, src, n);
    return n;
}

size_t tf_ring_peek(const tf_ring *r, size_t start, void *dst, size_t n) {
    size_t head = TF__RING_LOAD(&r->head);
    size_t tail = TF__RING_LOAD(&r->tail);
    size_t len = tf__ring_count(r, head, tail);
    if (start >= len)
        return 0;
    if (n > len - start)
        n = len - start;
    size_t p = tf__ring_fwd(r, head, start);
    size_t first = tf__run(r, p, n);
    TF_MEMCPY(dst, tf__ring_slot(r, p), first * r->itemsize);
    if (n > first)
        TF_MEMCPY((uint8_t *)dst + first * r->itemsize, r->buf, (n - first) * r->itemsize);
    return n;
}

size_t tf_ring_read(tf_ring *r, void *dst, size_t n) {
    n = tf_ring_peek(r, 0, dst, n);
    if (n > 0)
        TF__RING_STORE(&r->head, tf__ring_fwd(r, r->head, n));
    return n;
}

size_t tf_ring_read_block(const tf_ring *r, void **ptr) {
    size_t head = TF__RING_LOAD(&r->head);
    size_t tail = TF__RING_LOAD(&r->tail);
    size_t len = tf__ring_count(r, head, tail);
    if (len == 0) {
        *ptr = r->buf;
        return 0;
    }
    *ptr = tf__ring_slot(r, head);
    return tf__run(r, head, len);
}

tf_status tf_ring_consume(tf_ring *r, size_t k) {
    size_t head = r->head;
    if (k > tf__ring_count(r, head, TF__RING_LOAD(&r->tail)))
        return TF_E_RANGE;
    if (k > 0)
        TF__RING_STORE(&r->head, tf__ring_fwd(r, head, k));
    return TF_OK;
}

size_t tf_ring_write_block(const tf_ring *r, void **ptr) {
    size_t tail = TF__RING_LOAD(&r->tail);
    size_t head = TF__RING_LOAD(&r->head);
    size_t space = r->capacity - tf__ring_count(r, head, tail);
    if (space == 0) {
        *ptr = r->buf;
        return 0;
    }
    *ptr = tf__ring_slot(r, tail);
    return tf__run(r, tail, space);
}

tf_status tf_ring_commit(tf_ring *r, size_t k) {
    size_t tail = r->tail;
    if (k > r->capacity - tf__ring_count(r, TF__RING_LOAD(&r->head), tail))
        return TF_E_RANGE;
    if (k > 0)
        TF__RING_STORE(&r->tail, tf__ring_fwd(r, tail, k));
    return TF_OK;
}

/* ---- reordering (exclusive access) ------------------------------------------------------------------------- */

static void tf__copy_item(const tf_ring *r, size_t dst_i, size_t src_i) {
    TF_MEMCPY(tf__ring_item(r, r->head, dst_i), tf__ring_item(r, r->head, src_i), r->itemsize);
}

tf_status tf_ring_insert(tf_ring *r, size_t index, const void *item) {
    size_t len = tf__ring_count(r, r->head, r->tail);
    if (index > len)
        return TF_E_RANGE;
    if (len >= r->capacity)
        return TF_E_FULL;
    if (index < len / 2u) {
        r->head = tf__ring_back(r, r->head, 1);
        for (size_t i = 0; i < index; i++)
            tf__copy_item(r, i, i + 1u);
    } else {
        r->tail = tf__ring_fwd(r, r->tail, 1);
        for (size_t i = len; i > index; i--)
            tf__copy_item(r, i, i - 1u);
    }
    TF_MEMCPY(tf__ring_item(r, r->head, index), item, r->itemsize);
    return TF_OK;
}

tf_status tf_ring_remove(tf_ring *r, size_t index) {
    size_t len = tf__ring_count(r, r->head, r->tail);
    if (index >= len)
        return TF_E_RANGE;
    if (index < len / 2u) {
        for (size_t i = index; i > 0; i--)
            tf__copy_item(r, i, i - 1u);
        r->head = tf__ring_fwd(r, r->head, 1);
    } else {
        for (size_t i = index; i + 1u < len; i++)
            tf__copy_item(r, i, i + 1u);
        r->tail = tf__ring_back(r, r->tail, 1);
    }
    return TF_OK;
}

/* Moves k items, one at a time, from the back to the front (right) or the other way; k <= length. */
static void tf__shift_right(tf_ring *r, size_t k) {
    for (; k > 0; k--) {
        size_t tail = tf__ring_back(r, r->tail, 1);
        size_t head = tf__ring_back(r, r->head, 1);
        TF_MEMCPY(tf__ring_slot(r, head), tf__ring_slot(r, tail), r->itemsize);
        r->tail = tail;
        r->head = head;
    }
}

static void tf__shift_left(tf_ring *r, size_t k) {
    for (; k > 0; k--) {
        TF_MEMCPY(tf__ring_slot(r, r->tail), tf__ring_slot(r, r->head), r->itemsize);
        r->tail = tf__ring_fwd(r, r->tail, 1);
        r->head = tf__ring_fwd(r, r->head, 1);
    }
}

void tf_ring_rotate_right(tf_ring *r, size_t n) {
    size_t len = tf__ring_count(r, r->head, r->tail);
    if (len <= 1u)
        return;
    n %= len;
    if (n == 0)
        return;
    if (len == r->capacity) {
        /* every slot is in use, so a rotation is only a new front: the old item len - n */
        r->head = tf__ring_fwd(r, r->head, len - n);
        r->tail = tf__ring_fwd(r, r->head, len);
    } else if (n <= len - n) {
        tf__shift_right(r, n);
    } else {
        tf__shift_left(r, len - n);
    }
}

void tf_ring_rotate_left(tf_ring *r, size_t n) {
    size_t len = tf__ring_count(r, r->head, r->tail);
    if (len <= 1u)
        return;
    tf_ring_rotate_right(r, len - n % len);
}

void tf_ring_reverse(tf_ring *r) {
    size_t len = tf__ring_count(r, r->head, r->tail);
    for (size_t i = 0; i < len / 2u; i++) {
        uint8_t *a = tf__ring_item(r, r->head, i);
        uint8_t *b = tf__ring_item(r, r->head, len - 1u - i);
        for (size_t k = 0; k < r->itemsize; k++) {
            uint8_t t = a[k];
            a[k] = b[k];
            b[k] = t;
        }
    }
}

#if TF_RING_REDUCTIONS
/* ---- reductions ------------------------------------------------------------------------------------------- */

static size_t tf__type_size(tf_ring_type type) {
    switch (type) {
    case TF_RING_I8:
    case TF_RING_U8: return 1;
    case TF_RING_I16:
    case TF_RING_U16: return 2;
    case TF_RING_I32:
    case TF_RING_U32: return 4;
    case TF_RING_I64:
    case TF_RING_U64: return 8;
    case TF_RING_F32: return sizeof(float);
    case TF_RING_F64: return sizeof(double);
    default: return 0;
    }
}

/* The two contiguous runs holding the items in order (the second is empty unless the contents wrap). */
typedef struct {
    const uint8_t *p[2];
    size_t n[2];
} tf__runs;

static size_t tf__runs_of(const tf_ring *r, tf__runs *out) {
    size_t head = TF__RING_LOAD(&r->head);
    size_t len = tf__ring_count(r, head, TF__RING_LOAD(&r->tail));
    out->n[0] = len ? tf__run(r, head, len) : 0;
    out->p[0] = len ? tf__ring_slot(r, head) : r->buf;
    out->n[1] = len - out->n[0];
    out->p[1] = r->buf;
    return len;
}

/* Each reduction is written once as a macro over the item's C type; memcpy loads keep it aliasing-safe and
 * compile to plain loads. */
#define TF__LOAD(T, base, i, v) TF_MEMCPY(&(v), (base) + (i) * sizeof(T), sizeof(T))

/* Items of up to 16 bits: eight int32 lanes, each emptied into the int64 total every 2^15 rounds, before
 * 2^15 * 2^16 could reach int32's limit; the independent lanes vectorize. Wider items: one int64 accumulator. */
#define TF__SUM_SMALL(T)                                                                                               \
    do {                                                                                                               \
        int64_t acc = 0;                                                                                               \
        for (int h = 0; h < 2; h++) {                                                                                  \
            const uint8_t *p = runs.p[h];                                                                              \
            size_t i = 0, n = runs.n[h];                                                                               \
            if (sizeof(T) <= 2u)                                                                                       \
                while (i + 8u <= n) {                                                                                  \
                    int32_t lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                                        \
                    size_t stop = n - i > ((size_t)8 << 15) ? i + ((size_t)8 << 15) : n;                               \
                    for (; i + 8u <= stop; i += 8u)                                                                    \
                        for (int l = 0; l < 8; l++) {                                                                  \
                            T v;                                                                                       \
                            TF__LOAD(T, p, i + (size_t)l, v);                                                          \
                            lane[l] += (int32_t)v;                                                                     \
                        }                                                                                              \
                    for (int l = 0; l < 8; l++)                                                                        \
                        acc += lane[l];                                                                                \
                }                                                                                                      \
            for (; i < n; i++) {                                                                                       \
                T v;                                                                                                   \
                TF__LOAD(T, p, i, v);                                                                                  \
                acc += (int64_t)v;                                                                                     \
            }                                                                                                          \
        }                                                                                                              \
        *lo = (uint64_t)acc;                                                                                           \
        *hi = acc < 0 ? -1 : 0;                                                                                        \
    } while (0)

/* The 128-bit sum: each item widened to a low word v (converting a signed item to uint64_t sign-extends it, so bit 63
 * is set exactly when it is negative) and a high word of all ones or zero, added with the carry out of the low word. */
#define TF__SUM_WIDE(T, SIGNED)                                                                                        \
    do {                                                                                                               \
        for (int k = 0; k < 2; k++)                                                                                    \
            for (size_t i = 0; i < runs.n[k]; i++) {                                                                   \
                T x;                                                                                                   \
                TF__LOAD(T, runs.p[k], i, x);                                                                          \
                uint64_t v = (uint64_t)x;                                                                              \
                uint64_t ext = ((SIGNED) && (v >> 63)) ? UINT64_MAX : 0u;                                              \
                l += v;                                                                                                \
                h += ext + (l < v ? 1u : 0u);                                                                          \
            }                                                                                                          \
    } while (0)

tf_status tf_ring_sum_int(const tf_ring *r, tf_ring_type type, uint64_t *lo, int64_t *hi) {
    if (r == NULL || lo == NULL || hi == NULL)
        return TF_E_NULL;
    if (tf__type_size(type) != r->itemsize || type == TF_RING_F32 || type == TF_RING_F64)
        return TF_E_ARG;
    tf__runs runs;
    (void)tf__runs_of(r, &runs);
    /* Items of up to 32 bits summed into an int64 cannot overflow below 2^31 items, and a 32-bit host cannot hold
     * 2^30 of them; only longer rings on 64-bit hosts take the 128-bit loop below. */
    if (sizeof(size_t) <= 4u || runs.n[0] + runs.n[1] < ((size_t)1 << 30)) {
        switch (type) {
        case TF_RING_I8: TF__SUM_SMALL(int8_t); return TF_OK;
        case TF_RING_U8: TF__SUM_SMALL(uint8_t); return TF_OK;
        case TF_RING_I16: TF__SUM_SMALL(int16_t); return TF_OK;
        case TF_RING_U16: TF__SUM_SMALL(uint16_t); return TF_OK;
        case TF_RING_I32: TF__SUM_SMALL(int32_t); return TF_OK;
        case TF_RING_U32: TF__SUM_SMALL(uint32_t); return TF_OK;
        default: break;
        }
    }
    uint64_t l = 0;
    uint64_t h = 0; /* unsigned so the carries wrap with defined behaviour; read back as two's complement */
    switch (type) {
    case TF_RING_I8: TF__SUM_WIDE(int8_t, 1); break;
    case TF_RING_U8: TF__SUM_WIDE(uint8_t, 0); break;
    case TF_RING_I16: TF__SUM_WIDE(int16_t, 1); break;
    case TF_RING_U16: TF__SUM_WIDE(uint16_t, 0); break;
    case TF_RING_I32: TF__SUM_WIDE(int32_t, 1); break;
    case TF_RING_U32: TF__SUM_WIDE(uint32_t, 0); break;
    case TF_RING_I64: TF__SUM_WIDE(int64_t, 1); break;
    default: TF__SUM_WIDE(uint64_t, 0); break;
    }
    *lo = l;
    /* two's complement reinterpretation without implementation-defined conversion */
    *hi = h > (uint64_t)INT64_MAX ? -(int64_t)(UINT64_MAX - h) - 1 : (int64_t)h;
    return TF_OK;
}

/* Knuth's TwoSum: s += x, with the rounding error of that addition added to c. Exact for any magnitudes and free of
 * the comparison Neumaier's variant needs, so a compiler keeps it branch-free. */
#define TF__TWO_SUM(s, c, x)                                                                                           \
    do {                                                                                                               \
        double tf__t = (s) + (x);                                                                                      \
        double tf__bp = tf__t - (s);                                                                                   \
        (c) += ((s) - (tf__t - tf__bp)) + ((x)-tf__bp);                                                                \
        (s) = tf__t;                                                                                                   \
    } while (0)

/* Eight independent compensated sums (lane l takes items l, l + 8, ...), merged at the end. The lanes are the
 * algorithm, so the result does not depend on the compiler; independent lanes keep consecutive additions from
 * waiting on each other, and a vectorizing compiler packs them into SIMD registers (GCC -O2 on x86-64 does, which
 * halves the time of four scalar lanes). */
#define TF__SUM_LANES 8
#define TF__SUM_FLOAT(T)                                                                                               \
    do {                                                                                                               \
        for (int k = 0; k < 2; k++) {                                                                                  \
            const uint8_t *p = runs.p[k];                                                                              \
            size_t i = 0, n = runs.n[k];                                                                               \
            for (; i + TF__SUM_LANES <= n; i += TF__SUM_LANES)                                                         \
                for (int l = 0; l < TF__SUM_LANES; l++) {                                                              \
                    T x;                                                                                               \
                    TF__LOAD(T, p, i + (size_t)l, x);                                                                  \
                    TF__TWO_SUM(s[l], c[l], (double)x);                                                                \
                }                                                                                                      \
            for (int l = 0; i < n; i++, l++) {                                                                         \
                T x;                                                                                                   \
                TF__LOAD(T, p, i, x);                                                                                  \
                TF__TWO_SUM(s[l], c[l], (double)x);                                                                    \
            }                                                                                                          \
        }                                                                                                              \
    } while (0)

tf_status tf_ring_sum_float(const tf_ring *r, tf_ring_type type, double *sum) {
    if (r == NULL || sum == NULL)
        return TF_E_NULL;
    if (tf__type_size(type) != r->itemsize || (type != TF_RING_F32 && type != TF_RING_F64))
        return TF_E_ARG;
    tf__runs runs;
    (void)tf__runs_of(r, &runs);
    double s[TF__SUM_LANES] = {0.0}, c[TF__SUM_LANES] = {0.0};
    if (type == TF_RING_F32)
        TF__SUM_FLOAT(float);
    else
        TF__SUM_FLOAT(double);
    double total = 0.0, comp = 0.0;
    for (int l = 0; l < TF__SUM_LANES; l++)
        comp += c[l];
    for (int l = 0; l < TF__SUM_LANES; l++)
        TF__TWO_SUM(total, comp, s[l]);
    /* the compensation is meaningless once the sum is inf or nan (it would be nan) */
    if (comp != 0.0 && comp == comp && comp - comp == 0.0)
        total += comp;
    *sum = total;
    return TF_OK;
}

/* Deviation of item x from the shift value s (the front item) as a double. Integer differences are taken exactly
 * before the one rounding to double, so the variance depends on the items' spread, not their magnitude: int64 samples
 * near 2^63 that differ by 10^9 would lose about 11 bits to (double)x - mean. */
#define TF__DEV_SMALL(T, x, s) ((double)((int64_t)(x) - (int64_t)(s)))
#define TF__DEV_WIDE(T, x, s)                                                                                          \
    ((x) >= (s) ? (double)((uint64_t)(x) - (uint64_t)(s)) : -(double)((uint64_t)(s) - (uint64_t)(x)))
#define TF__DEV_FLOAT(T, x, s) ((double)(x) - (double)(s))

/* Two passes over the shifted items: their mean, then the squared deviations from it. */
#define TF__SQ_DEV(T, DEV)                                                                                             \
    do {                                                                                                               \
        T s;                                                                                                           \
        TF__LOAD(T, runs.p[0], 0, s);                                                                                  \
        double total = 0.0;                                                                                            \
        for (int k = 0; k < 2; k++)                                                                                    \
            for (size_t i = 0; i < runs.n[k]; i++) {                                                                   \
                T xv;                                                                                                  \
                TF__LOAD(T, runs.p[k], i, xv);                                                                         \
                total += DEV(T, xv, s);                                                                                \
            }                                                                                                          \
        double mean = total / (double)len;                                                                             \
        for (int k = 0; k < 2; k++)                                                                                    \
            for (size_t i = 0; i < runs.n[k]; i++) {                                                                   \
                T xv;                                                                                                  \
                TF__LOAD(T, runs.p[k], i, xv);                                                                         \
                double d = DEV(T, xv, s) - mean;                                                                       \
                acc += d * d;                                                                                          \
            }                                                                                                          \
    } while (0)

tf_status tf_ring_sum_sq_dev(const tf_ring *r, tf_ring_type type, double *out) {
    if (r == NULL || out == NULL)
        return TF_E_NULL;
    if (tf__type_size(type) != r->itemsize)
        return TF_E_ARG;
    tf__runs runs;
    size_t len = tf__runs_of(r, &runs);
    double acc = 0.0;
    if (len == 0) {
        *out = 0.0;
        return TF_OK;
    }
    switch (type) {
    case TF_RING_I8: TF__SQ_DEV(int8_t, TF__DEV_SMALL); break;
    case TF_RING_U8: TF__SQ_DEV(uint8_t, TF__DEV_SMALL); break;
    case TF_RING_I16: TF__SQ_DEV(int16_t, TF__DEV_SMALL); break;
    case TF_RING_U16: TF__SQ_DEV(uint16_t, TF__DEV_SMALL); break;
    case TF_RING_I32: TF__SQ_DEV(int32_t, TF__DEV_SMALL); break;
    case TF_RING_U32: TF__SQ_DEV(uint32_t, TF__DEV_SMALL); break;
    case TF_RING_I64: TF__SQ_DEV(int64_t, TF__DEV_WIDE); break;
    case TF_RING_U64: TF__SQ_DEV(uint64_t, TF__DEV_WIDE); break;
    case TF_RING_F32: TF__SQ_DEV(float, TF__DEV_FLOAT); break;
    default: TF__SQ_DEV(double, TF__DEV_FLOAT); break;
    }
    *out = acc;
    return TF_OK;
}

/* Python's min()/max() rule: the first item is the candidate and an item replaces it only when strictly smaller
 * (larger). Independent candidates (four for integers, eight for floats), all starting at the first item, give the
 * same value faster: integers
 * compare by value only; for floats a NaN can never replace a candidate (and one in front is returned at once), and
 * the only equal-but-different values are 0.0 and -0.0, so a zero result is replaced by the first zero in order. */
#define TF__LT(a, b) ((a) < (b))
#define TF__GT(a, b) ((a) > (b))

/* Floats keep eight candidates in plain locals: a compiler keeps them in registers and uses min/max instructions
 * whose NaN rule (an unordered comparison keeps the second operand) is exactly `BETTER(v, b) ? v : b`. */
#define TF__PICK(BETTER, v, b) ((b) = BETTER((v), (b)) ? (v) : (b))
#define TF__EXTREME_FLOAT(T, BETTER)                                                                                   \
    do {                                                                                                               \
        T first;                                                                                                       \
        TF__LOAD(T, runs.p[0], 0, first);                                                                              \
        if (first != first) {                                                                                          \
            TF_MEMCPY(out, &first, sizeof first);                                                                      \
            break;                                                                                                     \
        }                                                                                                              \
        T b0 = first, b1 = first, b2 = first, b3 = first, b4 = first, b5 = first, b6 = first, b7 = first;              \
        for (int k = 0; k < 2; k++) {                                                                                  \
            const uint8_t *p = runs.p[k];                                                                              \
            size_t i = 0, n = runs.n[k];                                                                               \
            for (; i + 8u <= n; i += 8u) {                                                                             \
                T x0, x1, x2, x3, x4, x5, x6, x7;                                                                      \
                TF__LOAD(T, p, i, x0);                                                                                 \
                TF__LOAD(T, p, i + 1u, x1);                                                                            \
                TF__LOAD(T, p, i + 2u, x2);                                                                            \
                TF__LOAD(T, p, i + 3u, x3);                                                                            \
                TF__LOAD(T, p, i + 4u, x4);                                                                            \
                TF__LOAD(T, p, i + 5u, x5);                                                                            \
                TF__LOAD(T, p, i + 6u, x6);                                                                            \
                TF__LOAD(T, p, i + 7u, x7);                                                                            \
                TF__PICK(BETTER, x0, b0);                                                                              \
                TF__PICK(BETTER, x1, b1);                                                                              \
                TF__PICK(BETTER, x2, b2);                                                                              \
                TF__PICK(BETTER, x3, b3);                                                                              \
                TF__PICK(BETTER, x4, b4);                                                                              \
                TF__PICK(BETTER, x5, b5);                                                                              \
                TF__PICK(BETTER, x6, b6);                                                                              \
                TF__PICK(BETTER, x7, b7);                                                                              \
            }                                                                                                          \
            for (; i < n; i++) {                                                                                       \
                T x;                                                                                                   \
                TF__LOAD(T, p, i, x);                                                                                  \
                TF__PICK(BETTER, x, b0);                                                                               \
            }                                                                                                          \
        }                                                                                                              \
        TF__PICK(BETTER, b1, b0);                                                                                      \
        TF__PICK(BETTER, b2, b0);                                                                                      \
        TF__PICK(BETTER, b3, b0);                                                                                      \
        TF__PICK(BETTER, b4, b0);                                                                                      \
        TF__PICK(BETTER, b5, b0);                                                                                      \
        TF__PICK(BETTER, b6, b0);                                                                                      \
        TF__PICK(BETTER, b7, b0);                                                                                      \
        TF_MEMCPY(out, &b0, sizeof b0);                                                                                \
        if (b0 == (T)0) {                                                                                              \
            int found = 0;                                                                                             \
            for (int k = 0; k < 2 && !found; k++)                                                                      \
                for (size_t i = 0; i < runs.n[k]; i++) {                                                               \
                    T v;                                                                                               \
                    TF__LOAD(T, runs.p[k], i, v);                                                                      \
                    if (v == (T)0) {                                                                                   \
                        TF_MEMCPY(out, &v, sizeof v);                                                                  \
                        found = 1;                                                                                     \
                        break;                                                                                         \
                    }                                                                                                  \
                }                                                                                                      \
        }                                                                                                              \
    } while (0)

#define TF__EXTREME_INT(T, BETTER)                                                                                     \
    do {                                                                                                               \
        T b[4];                                                                                                        \
        TF__LOAD(T, runs.p[0], 0, b[0]);                                                                               \
        b[1] = b[2] = b[3] = b[0];                                                                                     \
        for (int k = 0; k < 2; k++) {                                                                                  \
            size_t i = 0, n = runs.n[k];                                                                               \
            for (; i + 4u <= n; i += 4u)                                                                               \
                for (int l = 0; l < 4; l++) {                                                                          \
                    T v;                                                                                               \
                    TF__LOAD(T, runs.p[k], i + (size_t)l, v);                                                          \
                    b[l] = BETTER(v, b[l]) ? v : b[l];                                                                 \
                }                                                                                                      \
            for (; i < n; i++) {                                                                                       \
                T v;                                                                                                   \
                TF__LOAD(T, runs.p[k], i, v);                                                                          \
                b[0] = BETTER(v, b[0]) ? v : b[0];                                                                     \
            }                                                                                                          \
        }                                                                                                              \
        for (int l = 1; l < 4; l++)                                                                                    \
            b[0] = BETTER(b[l], b[0]) ? b[l] : b[0];                                                                   \
        TF_MEMCPY(out, &b[0], sizeof(T));                                                                              \
    } while (0)

#define TF__EXTREME(BETTER)                                                                                            \
    do {                                                                                                               \
        switch (type) {                                                                                                \
        case TF_RING_I8: TF__EXTREME_INT(int8_t, BETTER); break;                                                       \
        case TF_RING_U8: TF__EXTREME_INT(uint8_t, BETTER); break;                                                      \
        case TF_RING_I16: TF__EXTREME_INT(int16_t, BETTER); break;                                                     \
        case TF_RING_U16: TF__EXTREME_INT(uint16_t, BETTER); break;                                                    \
        case TF_RING_I32: TF__EXTREME_INT(int32_t, BETTER); break;                                                     \
        case TF_RING_U32: TF__EXTREME_INT(uint32_t, BETTER); break;                                                    \
        case TF_RING_I64: TF__EXTREME_INT(int64_t, BETTER); break;                                                     \
        case TF_RING_U64: TF__EXTREME_INT(uint64_t, BETTER); break;                                                    \
        case TF_RING_F32: TF__EXTREME_FLOAT(float, BETTER); break;                                                     \
        default: TF__EXTREME_FLOAT(double, BETTER); break;                                                             \
        }                                                                                                              \
    } while (0)

tf_status tf_ring_min_max(const tf_ring *r, tf_ring_type type, void *min_out, void *max_out) {
    if (r == NULL)
        return TF_E_NULL;
    if (tf__type_size(type) != r->itemsize)
        return TF_E_ARG;
    tf__runs runs;
    if (tf__runs_of(r, &runs) == 0)
        return TF_E_EMPTY;
    void *out = min_out;
    if (out != NULL)
        TF__EXTREME(TF__LT);
    out = max_out;
    if (out != NULL)
        TF__EXTREME(TF__GT);
    return TF_OK;
}

#endif /* TF_RING_REDUCTIONS */
