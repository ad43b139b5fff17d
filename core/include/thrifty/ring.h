/* thrifty core — Ring: a fixed-capacity ring buffer of fixed-size items in caller-provided storage.
 *
 * The caller owns everything: the tf_ring handle (a small struct, fine on the stack or in a static) and the item
 * storage, which must hold tf_ring_size(capacity, itemsize) bytes. The whole capacity is usable: the two positions
 * are counters that run over [0, 2 * capacity), so "full" (tail - head == capacity) and "empty" (tail == head) stay
 * distinguishable without sacrificing a slot, and any capacity works, not only powers of two.
 *
 * Concurrency (single producer, single consumer). One producer may call tf_ring_push_back / tf_ring_write /
 * tf_ring_write_block + tf_ring_commit while one consumer calls tf_ring_pop_front / tf_ring_read /
 * tf_ring_read_block + tf_ring_consume, e.g. an interrupt handler and the main loop, or two threads, without a lock.
 * The producer only ever stores `tail` and the consumer only ever stores `head`; each side reads the other's counter
 * and both read capacity/storage, which never change after init. Memory-ordering assumption: the producer's item
 * bytes must be visible to the consumer before the new `tail`, and the consumer must be done reading an item before
 * it publishes the new `head` (so the producer does not overwrite it early). With TF_RING_ATOMICS=1 (config.h; the
 * default on GCC and Clang) counters are loaded with acquire and stored with release (__atomic builtins), which
 * provides exactly that on any CPU. With TF_RING_ATOMICS=0 counters are plain volatile word accesses: correct only
 * where a word store is atomic and memory is seen in program order by both sides — a single-core MCU without a data
 * cache between the two sides (Cortex-M0/M3/M4, AVR with a word that fits the bus), i.e. interrupt + main loop.
 * Every other function (push_front, pop_back, get/set, insert, remove, rotate, reverse, clear, reductions) needs
 * exclusive access; the header comment of each says so.
 *
 * Overflow policy. The push functions always refuse an item when the ring is full. The put functions
 * (tf_ring_put_back, tf_ring_put_front, tf_ring_put) follow the ring's policy instead, set by tf_ring_set_overflow:
 * TF_RING_REFUSE (the default after init) refuses like push; TF_RING_DROP_OLDEST makes room by dropping the item at
 * the far end, so the ring keeps the newest `capacity` items, as collections.deque(maxlen=capacity) does. Dropping
 * moves both counters, so a put on a ring that drops needs exclusive access.
 *
 * Indexes are logical: 0 is the front (oldest item pushed at the back), len-1 is the back.
 */
#ifndef THRIFTY_RING_H
#define THRIFTY_RING_H

#include "thrifty/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    uint8_t *buf;         /* caller storage, capacity * itemsize bytes; not owned */
    size_t capacity;      /* items; fixed after init */
    size_t itemsize;      /* bytes per item; fixed after init */
    volatile size_t head; /* front position in [0, 2*capacity); stored only by the consumer */
    volatile size_t tail; /* back position in [0, 2*capacity); stored only by the producer */
    int overflow;         /* tf_ring_overflow: what a put does when the ring is full; TF_RING_REFUSE after init */
} tf_ring;

/* What tf_ring_put_back / tf_ring_put_front / tf_ring_put do when the ring is full. */
typedef enum {
    TF_RING_REFUSE = 0,     /* the new item is refused (TF_E_FULL) and the ring is unchanged, as push does */
    TF_RING_DROP_OLDEST = 1 /* the item at the far end leaves the ring and the new one is stored */
} tf_ring_overflow;

/* tf_ring_put_back / tf_ring_put_front: the new item was stored and one item left the ring to make room (copied to
 * `dropped` when that is not NULL). With capacity 0 the item that leaves is the new item itself. */
#define TF_RING_DROPPED 1

/* Item types the reductions understand (the layout of one item in the host's byte order). */
typedef enum {
    TF_RING_I8 = 1,
    TF_RING_U8,
    TF_RING_I16,
    TF_RING_U16,
    TF_RING_I32,
    TF_RING_U32,
    TF_RING_I64,
    TF_RING_U64,
    TF_RING_F32,
    TF_RING_F64
} tf_ring_type;

/* Largest capacity tf_ring_init accepts for items of `itemsize` bytes (positions run to 3 * capacity). O(1). */
size_t tf_ring_max_capacity(size_t itemsize);

/* Bytes of storage needed for `capacity` items of `itemsize` bytes; 0 when itemsize is 0 or the configuration
 * exceeds tf_ring_max_capacity (also 0 for capacity 0, which needs no storage). O(1), reentrant. */
size_t tf_ring_size(size_t capacity, size_t itemsize);

/* Makes `r` an empty ring over `storage` (not owned; must outlive the ring). `size` is the storage size in bytes and
 * must be >= tf_ring_size(capacity, itemsize); storage must be aligned to the largest power of two dividing
 * itemsize, capped at 8 (so a uint16 ring needs 2-byte alignment). capacity 0 is allowed (always full and empty).
 * Returns TF_E_NULL, TF_E_ARG (itemsize 0 or capacity too large), TF_E_SIZE, TF_E_ALIGN or TF_OK. O(1). Not
 * concurrent with any other use of `r`. */
tf_status tf_ring_init(tf_ring *r, void *storage, size_t size, size_t itemsize, size_t capacity);

/* Sets what a put does when the ring is full (see tf_ring_overflow); a push is not affected. Returns TF_E_NULL,
 * TF_E_ARG (not a tf_ring_overflow) or TF_OK. O(1). Not concurrent with a put. */
tf_status tf_ring_set_overflow(tf_ring *r, tf_ring_overflow policy);

/* Moves the contents into new storage with a new capacity (>= the current length), front first at offset 0, and
 * points the ring there. The old storage is no longer referenced and may be freed by the caller. Returns TF_E_NULL,
 * TF_E_ARG (capacity < length or too large), TF_E_SIZE, TF_E_ALIGN or TF_OK; on error the ring is unchanged.
 * O(length), at most two memcpys. Needs exclusive access. */
tf_status tf_ring_rehome(tf_ring *r, void *storage, size_t size, size_t capacity);

/* Empties the ring. O(1). Needs exclusive access. */
void tf_ring_clear(tf_ring *r);

/* Copies up to n items from `src` to the back, as many as fit; returns how many were copied. O(n), at most two
 * memcpys. SPSC producer side. */
size_t tf_ring_write(tf_ring *r, const void *src, size_t n);

/* Copies n items from `src` to the back under the ring's overflow policy and returns how many were taken: with
 * TF_RING_REFUSE as many as fit (tf_ring_write), with TF_RING_DROP_OLDEST all n, the ring then holding the newest
 * min(length + n, capacity) items in order; the items dropped (older ones first, then the front of `src` when n
 * exceeds the capacity) are discarded without being read, so items that own a resource go one at a time through
 * tf_ring_put_back. O(n), at most two memcpys. TF_RING_REFUSE: SPSC producer side; TF_RING_DROP_OLDEST: exclusive
 * access. */
size_t tf_ring_put(tf_ring *r, const void *src, size_t n);

/* Moves up to n items from the front into `dst`; returns how many were moved. O(n), at most two memcpys. SPSC
 * consumer side. */
size_t tf_ring_read(tf_ring *r, void *dst, size_t n);

/* Copies up to n items starting at logical index `start` into `dst` without removing them; returns how many were
 * copied (0 when start >= length). O(n), at most two memcpys. Safe on the SPSC consumer side. */
size_t tf_ring_peek(const tf_ring *r, size_t start, void *dst, size_t n);

/* Linear-block access for zero-copy producers and consumers (DMA, a UART driver).
 * tf_ring_read_block: sets *ptr to the front item and returns how many items are contiguous from there (0 when
 * empty; then *ptr is the storage start). Read them, then tf_ring_consume(r, k) with k <= that count. Consumer side.
 * tf_ring_write_block: sets *ptr to the free slot after the back and returns how many free slots are contiguous from
 * there (0 when full). Fill them, then tf_ring_commit(r, k). Producer side.
 * consume/commit return TF_E_RANGE if k exceeds the length / free space (the ring is unchanged). All O(1). */
size_t tf_ring_read_block(const tf_ring *r, void **ptr);
tf_status tf_ring_consume(tf_ring *r, size_t k);
size_t tf_ring_write_block(const tf_ring *r, void **ptr);
tf_status tf_ring_commit(tf_ring *r, size_t k);

/* Inserts a copy of `item` so it ends up at logical `index` (0..length), moving the shorter side by one slot.
 * TF_E_FULL when full, TF_E_RANGE when index > length. O(min(index, length - index)). Exclusive access. */
tf_status tf_ring_insert(tf_ring *r, size_t index, const void *item);

/* Removes item `index`, closing the gap from the shorter side. TF_E_RANGE when index >= length. O(min(index,
 * length - index)). Exclusive access. */
tf_status tf_ring_remove(tf_ring *r, size_t index);

/* Rotates right by n steps (the back item moves to the front each step), n taken modulo the length. O(1) when the
 * ring is full (only the positions move), otherwise O(min(n, length - n)) item moves. Exclusive access. */
void tf_ring_rotate_right(tf_ring *r, size_t n);
/* The same leftwards (the front item moves to the back each step). */
void tf_ring_rotate_left(tf_ring *r, size_t n);

/* Reverses the item order in place. O(length), no extra storage beyond one item (done bytewise). Exclusive access. */
void tf_ring_reverse(tf_ring *r);

#if TF_RING_REDUCTIONS
/* Reductions over all items read as `type` (whose size must equal itemsize: else TF_E_ARG). None changes the ring;
 * each reads every item once; safe on the SPSC consumer side only as a snapshot of a ring nobody else changes.
 *
 * tf_ring_sum_int: exact sum of an integer type as a 128-bit two's complement value (*lo + 2^64 * *hi), so no
 *   length can overflow it. TF_E_ARG for float types.
 * tf_ring_sum_float: sum of a float type in double, compensated: eight interleaved sums, each carrying the exact
 *   rounding error of every addition (Knuth's TwoSum), merged at the end. Like Python 3.12's compensated sum() it is
 *   within an ulp or so of math.fsum for ordinary data, but not always bit-identical to either. Infinities and NaN
 *   propagate as in plain addition. TF_E_ARG for integer types. 0.0 when empty.
 * tf_ring_sum_sq_dev: sum of (x - mean)^2 over the items' own mean, in double, for the variance; any type. Items are
 *   shifted by the front item first (exactly, for integers), so precision follows the spread, not the magnitude.
 *   0.0 when empty.
 * tf_ring_min_max: copies the smallest item to min_out and the largest to max_out (itemsize bytes each; either may
 *   be NULL, which skips that pass), chosen exactly as Python's min()/max() choose: the first item is the candidate
 *   and a later one replaces it only when strictly smaller (larger), so a NaN in front stays, later NaNs are skipped,
 *   and of 0.0 and -0.0 the first wins. TF_E_EMPTY when empty. */
tf_status tf_ring_sum_int(const tf_ring *r, tf_ring_type type, uint64_t *lo, int64_t *hi);
tf_status tf_ring_sum_float(const tf_ring *r, tf_ring_type type, double *sum);
tf_status tf_ring_sum_sq_dev(const tf_ring *r, tf_ring_type type, double *out);
tf_status tf_ring_min_max(const tf_ring *r, tf_ring_type type, void *min_out, void *max_out);
#endif

/* ---- single items, inline ------------------------------------------------------------------------------------
 * These are the per-item paths (an interrupt handler pushing a sample, a binding appending one value), so they are
 * defined here and inlined: no call, and a constant-size copy for the common item sizes. */

#if TF_RING_ATOMICS
#define TF__RING_LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define TF__RING_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#else
#define TF__RING_LOAD(p) (*(p))
#define TF__RING_STORE(p, v) (*(p) = (v))
#endif

static inline size_t tf__ring_span(const tf_ring *r) { return r->capacity * 2u; }

/* p + n for p < 2 * capacity and n <= capacity, wrapped into [0, 2 * capacity). */
static inline size_t tf__ring_fwd(const tf_ring *r, size_t p, size_t n) {
    p += n;
    return p >= tf__ring_span(r) ? p - tf__ring_span(r) : p;
}

/* p + 1 for p < 2 * capacity, wrapped: tf__ring_fwd(r, p, 1) in one compare, for the per-item paths. */
static inline size_t tf__ring_next(const tf_ring *r, size_t p) {
    p += 1u;
    return p == tf__ring_span(r) ? 0u : p;
}

/* p - n under the same bounds. */
static inline size_t tf__ring_back(const tf_ring *r, size_t p, size_t n) {
    return p >= n ? p - n : p + tf__ring_span(r) - n;
}

static inline size_t tf__ring_count(const tf_ring *r, size_t head, size_t tail) {
    return tail >= head ? tail - head : tail + tf__ring_span(r) - head;
}

static inline uint8_t *tf__ring_slot(const tf_ring *r, size_t p) {
    size_t s = p >= r->capacity ? p - r->capacity : p;
    return r->buf + s * r->itemsize;
}

/* Slot of logical index i, no range check. */
static inline uint8_t *tf__ring_item(const tf_ring *r, size_t head, size_t i) {
    return tf__ring_slot(r, tf__ring_fwd(r, head, i));
}

static inline void tf__ring_copy_one(void *dst, const void *src, size_t size) {
    switch (size) {
    case 1: TF_MEMCPY(dst, src, 1); break;
    case 2: TF_MEMCPY(dst, src, 2); break;
    case 4: TF_MEMCPY(dst, src, 4); break;
    case 8: TF_MEMCPY(dst, src, 8); break;
    default: TF_MEMCPY(dst, src, size); break;
    }
}

/* Number of items. O(1). Safe from either SPSC side (a snapshot: the other side may change it right after). */
static inline size_t tf_ring_len(const tf_ring *r) {
    size_t head = TF__RING_LOAD(&r->head);
    size_t tail = TF__RING_LOAD(&r->tail);
    return tf__ring_count(r, head, tail);
}

/* capacity - length. O(1). Safe from either SPSC side (a snapshot). */
static inline size_t tf_ring_space(const tf_ring *r) { return r->capacity - tf_ring_len(r); }

/* The four single-item operations below each have a `_sized` twin taking the item size as an argument, which must
 * equal r->itemsize. A caller that knows the size at compile time (a binding dispatching on its typecode) passes a
 * constant, and the slot address and the copy then fold to a few instructions instead of a multiply and a switch.
 * Same contract, complexity and concurrency rules as the plain function. */

static inline tf_status tf_ring_push_back_sized(tf_ring *r, const void *item, size_t itemsize) {
    size_t tail = r->tail; /* only this side stores tail */
    size_t head = TF__RING_LOAD(&r->head);
    if (tf__ring_count(r, head, tail) >= r->capacity)
        return TF_E_FULL;
    size_t s = tail >= r->capacity ? tail - r->capacity : tail;
    tf__ring_copy_one(r->buf + s * itemsize, item, itemsize);
    TF__RING_STORE(&r->tail, tf__ring_next(r, tail));
    return TF_OK;
}

static inline tf_status tf_ring_push_front_sized(tf_ring *r, const void *item, size_t itemsize) {
    if (tf__ring_count(r, r->head, r->tail) >= r->capacity)
        return TF_E_FULL;
    size_t head = tf__ring_back(r, r->head, 1);
    size_t s = head >= r->capacity ? head - r->capacity : head;
    tf__ring_copy_one(r->buf + s * itemsize, item, itemsize);
    r->head = head;
    return TF_OK;
}

static inline tf_status tf_ring_pop_front_sized(tf_ring *r, void *out, size_t itemsize) {
    size_t head = r->head; /* only this side stores head */
    size_t tail = TF__RING_LOAD(&r->tail);
    if (head == tail)
        return TF_E_EMPTY;
    size_t s = head >= r->capacity ? head - r->capacity : head;
    if (out != NULL)
        tf__ring_copy_one(out, r->buf + s * itemsize, itemsize);
    TF__RING_STORE(&r->head, tf__ring_next(r, head));
    return TF_OK;
}

static inline tf_status tf_ring_pop_back_sized(tf_ring *r, void *out, size_t itemsize) {
    if (r->head == r->tail)
        return TF_E_EMPTY;
    size_t tail = tf__ring_back(r, r->tail, 1);
    size_t s = tail >= r->capacity ? tail - r->capacity : tail;
    if (out != NULL)
        tf__ring_copy_one(out, r->buf + s * itemsize, itemsize);
    r->tail = tail;
    return TF_OK;
}

/* A full ring under TF_RING_DROP_OLDEST, at the front: the front's previous slot is the back item's (the ring is
 * full), so the new item takes its place after the back item was copied to `dropped`, and both counters move back by
 * one. With capacity 0 the new item itself leaves. */
static inline tf_status tf__ring_put_front_full_sized(tf_ring *r, const void *item, size_t itemsize, void *dropped) {
    if (r->overflow != TF_RING_DROP_OLDEST)
        return TF_E_FULL;
    if (r->capacity == 0) {
        if (dropped != NULL)
            tf__ring_copy_one(dropped, item, itemsize);
        return TF_RING_DROPPED;
    }
    size_t head = r->head, tail = r->tail;
    size_t p = tf__ring_back(r, head, 1);
    uint8_t *slot = r->buf + (p >= r->capacity ? p - r->capacity : p) * itemsize;
    if (dropped != NULL)
        tf__ring_copy_one(dropped, slot, itemsize);
    tf__ring_copy_one(slot, item, itemsize);
    TF__RING_STORE(&r->tail, tf__ring_back(r, tail, 1));
    TF__RING_STORE(&r->head, p);
    return TF_RING_DROPPED;
}

/* Copies one item to the back under the ring's overflow policy. Returns TF_OK (there was room), TF_RING_DROPPED
 * (the ring was full and drops: the front item left, copied to `dropped` unless that is NULL) or TF_E_FULL (the ring
 * was full and refuses; unchanged). `dropped` (itemsize bytes) must not overlap `item` or the storage. The ring is
 * consistent before the dropped item is handed back, so a caller may release a resource it owned right after. O(1).
 * TF_RING_REFUSE: SPSC producer side; TF_RING_DROP_OLDEST: exclusive access. */
static inline tf_status tf_ring_put_back_sized(tf_ring *r, const void *item, size_t itemsize, void *dropped) {
    /* One pass rather than a failed push and then a replace: a full ring that drops (a fixed window of the latest
     * samples, the common embedded case) takes this path on every put. The new item goes to the back's next slot
     * whether there is room or not, because on a full ring that is the front item's slot. The fields are read once,
     * before the item is stored (the item copy may alias anything, so later reads would be repeated). */
    size_t tail = r->tail; /* only this side stores tail */
    size_t head = TF__RING_LOAD(&r->head);
    size_t cap = r->capacity, span = cap * 2u;
    uint8_t *buf = r->buf;
    int full = tf__ring_count(r, head, tail) >= cap;
    if (full) {
        if (r->overflow != TF_RING_DROP_OLDEST)
            return TF_E_FULL;
        if (cap == 0) { /* no slot: the new item itself is the one that leaves */
            if (dropped != NULL)
                tf__ring_copy_one(dropped, item, itemsize);
            return TF_RING_DROPPED;
        }
    }
    uint8_t *slot = buf + (tail >= cap ? tail - cap : tail) * itemsize;
    if (full && dropped != NULL)
        tf__ring_copy_one(dropped, slot, itemsize);
    tf__ring_copy_one(slot, item, itemsize);
    if (full)
        TF__RING_STORE(&r->head, head + 1u == span ? 0u : head + 1u);
    TF__RING_STORE(&r->tail, tail + 1u == span ? 0u : tail + 1u);
    return full ? TF_RING_DROPPED : TF_OK;
}

/* The same at the front: on a full ring that drops, the back item leaves. O(1). Exclusive access. */
static inline tf_status tf_ring_put_front_sized(tf_ring *r, const void *item, size_t itemsize, void *dropped) {
    tf_status st = tf_ring_push_front_sized(r, item, itemsize);
    return st == TF_OK ? TF_OK : tf__ring_put_front_full_sized(r, item, itemsize, dropped);
}

static inline tf_status tf_ring_put_back(tf_ring *r, const void *item, void *dropped) {
    return tf_ring_put_back_sized(r, item, r->itemsize, dropped);
}

static inline tf_status tf_ring_put_front(tf_ring *r, const void *item, void *dropped) {
    return tf_ring_put_front_sized(r, item, r->itemsize, dropped);
}

/* Copies one item (itemsize bytes) from `item` to the back. TF_E_FULL when full (the ring is unchanged). O(1).
 * SPSC producer side. */
static inline tf_status tf_ring_push_back(tf_ring *r, const void *item) {
    return tf_ring_push_back_sized(r, item, r->itemsize);
}

/* Copies one item to the front. TF_E_FULL when full. O(1). Needs exclusive access. */
static inline tf_status tf_ring_push_front(tf_ring *r, const void *item) {
    return tf_ring_push_front_sized(r, item, r->itemsize);
}

/* Removes the front item, copying it to `out` unless out is NULL. TF_E_EMPTY when empty. O(1). SPSC consumer side. */
static inline tf_status tf_ring_pop_front(tf_ring *r, void *out) {
    return tf_ring_pop_front_sized(r, out, r->itemsize);
}

/* Removes the back item, copying it to `out` unless out is NULL. TF_E_EMPTY when empty. O(1). Exclusive access. */
static inline tf_status tf_ring_pop_back(tf_ring *r, void *out) { return tf_ring_pop_back_sized(r, out, r->itemsize); }

/* Address of item `index` (0 = front) inside the storage, or NULL when index >= length. The pointer is valid until
 * the next call that changes the ring's length or layout. O(1). Reading it is safe on the SPSC consumer side. */
static inline void *tf_ring_at(const tf_ring *r, size_t index) {
    size_t head = TF__RING_LOAD(&r->head);
    size_t tail = TF__RING_LOAD(&r->tail);
    if (index >= tf__ring_count(r, head, tail))
        return NULL;
    return tf__ring_item(r, head, index);
}

#ifdef __cplusplus
}
#endif
#endif /* THRIFTY_RING_H */
