/* thrifty for MicroPython: Ring, a typed ring buffer (array typecodes) with collections.deque's names. The items
 * live in one GC-heap block of maxlen * itemsize bytes, allocated once; the core's tf_ring moves them. */
#include "thrifty_mp.h" /* first: in the natmod build it brings py/dynruntime.h */

#include <string.h>

#include "py/binary.h"
#include "py/objstr.h"
#include "py/runtime.h"
#include "thrifty/ring.h"

#if THRIFTY_MP_RING

typedef struct {
    mp_obj_base_t base;
    tf_ring ring; /* its storage is `items`, a GC block this object keeps alive */
    void *items;
    char typecode; /* one of bBhHiIlLqQfd */
    uint8_t kind;  /* the tf_ring_type of the items, for the reductions */
} ring_obj_t;

#if MICROPY_PY_BUILTINS_FLOAT
static const char ring_typecodes[] = "bBhHiIlLqQfd";
#else
static const char ring_typecodes[] = "bBhHiIlLqQ"; /* a firmware without floats */
#endif

/* Whether c is one of ring_typecodes (a natmod has no strchr). */
static int ring_knows(char c) {
    for (const char *t = ring_typecodes; *t; t++)
        if (*t == c)
            return 1;
    return 0;
}

/* The reductions' item type for an array typecode of `size` bytes. */
static uint8_t ring_kind(char tc, size_t size) {
    if (tc == 'f')
        return TF_RING_F32;
    if (tc == 'd')
        return TF_RING_F64;
    unsigned is_unsigned = tc == 'B' || tc == 'H' || tc == 'I' || tc == 'L' || tc == 'Q';
    unsigned log2 = size == 1 ? 0u : size == 2 ? 1u : size == 4 ? 2u : 3u;
    return (uint8_t)(TF_RING_I8 + 2u * log2 + is_unsigned);
}

/* x as one item at `out` (itemsize bytes): TypeError for a non-number, OverflowError for an int that does not fit
 * (MicroPython's array truncates; CPython's array and Ring raise, and so does this Ring). */
static void ring_pack(const ring_obj_t *self, mp_obj_t x, void *out) {
    size_t size = self->ring.itemsize;
    if (self->typecode != 'f' && self->typecode != 'd' && size < sizeof(mp_int_t)) {
        mp_int_t v = mp_obj_get_int(x);
        unsigned bits = 8u * (unsigned)size;
        int is_signed = ring_kind(self->typecode, size) % 2u == 1u;
        mp_int_t lo = is_signed ? -((mp_int_t)1 << (bits - 1u)) : 0;
        mp_int_t hi = is_signed ? ((mp_int_t)1 << (bits - 1u)) - 1 : ((mp_int_t)1 << bits) - 1;
        if (v < lo || v > hi)
            mp_raise_msg_varg(&mp_type_OverflowError, MP_ERROR_TEXT("%d does not fit a Ring('%c') item"), (int)v,
                              self->typecode);
    }
    mp_binary_set_val_array(self->typecode, out, 0, x);
}

static mp_obj_t ring_unpack(const ring_obj_t *self, void *item) {
    return mp_binary_get_val_array(self->typecode, item, 0);
}

/* Appends (or, at_front, prepends) x: on a full ring the far end falls off, or IndexError with overflow='raise'. */
static void ring_push(ring_obj_t *self, mp_obj_t x, int at_front) {
    uint64_t item[2]; /* one item of up to 8 bytes, 8-aligned */
    ring_pack(self, x, item);
    /* the overflow policy is the core ring's (set in make_new) */
    tf_status st = at_front ? tf_ring_put_front(&self->ring, item, NULL) : tf_ring_put_back(&self->ring, item, NULL);
    if (st == TF_E_FULL)
        mp_raise_msg(&mp_type_IndexError, MP_ERROR_TEXT("Ring is full (overflow='raise')"));
}

static mp_obj_t ring_extend(mp_obj_t self_in, mp_obj_t iterable) {
    mp_obj_iter_buf_t buf;
    mp_obj_t it = mp_getiter(iterable, &buf), x;
    while ((x = mp_iternext(it)) != MP_OBJ_STOP_ITERATION)
        ring_push(MP_OBJ_TO_PTR(self_in), x, 0);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(ring_extend_obj, ring_extend);

static mp_obj_t ring_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    enum { ARG_typecode, ARG_iterable, ARG_maxlen, ARG_overflow };
    THRIFTY_ARGS mp_arg_t allowed[] = {
        {MP_QSTR_typecode, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL}},
        {MP_QSTR_iterable, MP_ARG_OBJ, {.u_obj = mp_const_none}},
        {MP_QSTR_maxlen, MP_ARG_OBJ, {.u_obj = mp_const_none}},
        {MP_QSTR_overflow, MP_ARG_OBJ, {.u_obj = MP_OBJ_NEW_QSTR(MP_QSTR_drop)}},
    };
    mp_arg_val_t a[MP_ARRAY_SIZE(allowed)];
    mp_arg_parse_all_kw_array(n_args, n_kw, args, MP_ARRAY_SIZE(allowed), allowed, a);
    size_t tlen;
    const char *tc = mp_obj_str_get_data(a[ARG_typecode].u_obj, &tlen);
    if (tlen != 1 || !ring_knows(tc[0]))
        mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("typecode must be one of %s"), ring_typecodes);
    if (a[ARG_maxlen].u_obj == mp_const_none)
        mp_raise_ValueError(MP_ERROR_TEXT("maxlen is required on MicroPython: a Ring's storage is allocated once"));
    mp_int_t maxlen = mp_obj_get_int(a[ARG_maxlen].u_obj);
    size_t olen;
    const char *overflow = mp_obj_str_get_data(a[ARG_overflow].u_obj, &olen);
    int raise_full = thrifty_equals(overflow, olen, "raise");
    if (!raise_full && !thrifty_equals(overflow, olen, "drop"))
        mp_raise_ValueError(MP_ERROR_TEXT("overflow must be 'drop' or 'raise'"));
    size_t itemsize = mp_binary_get_size('@', tc[0], NULL);
    if (maxlen < 1 || (size_t)maxlen > tf_ring_max_capacity(itemsize))
        mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("maxlen must be 1..%u, got %d"),
                          (unsigned)tf_ring_max_capacity(itemsize), (int)maxlen);
    ring_obj_t *self = mp_obj_malloc(ring_obj_t, type);
    size_t size = tf_ring_size((size_t)maxlen, itemsize);
    self->items = thrifty_alloc(size);
    self->typecode = tc[0];
    self->kind = ring_kind(tc[0], itemsize);
    if (tf_ring_init(&self->ring, self->items, size, itemsize, (size_t)maxlen) != TF_OK ||
        tf_ring_set_overflow(&self->ring, raise_full ? TF_RING_REFUSE : TF_RING_DROP_OLDEST) != TF_OK)
        mp_raise_msg(&mp_type_MemoryError, MP_ERROR_TEXT("Ring: item storage"));
    if (a[ARG_iterable].u_obj != mp_const_none)
        ring_extend(MP_OBJ_FROM_PTR(self), a[ARG_iterable].u_obj);
    return MP_OBJ_FROM_PTR(self);
}

static mp_obj_t ring_append(mp_obj_t self_in, mp_obj_t x) {
    ring_push(MP_OBJ_TO_PTR(self_in), x, 0);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(ring_append_obj, ring_append);

static mp_obj_t ring_appendleft(mp_obj_t self_in, mp_obj_t x) {
    ring_push(MP_OBJ_TO_PTR(self_in), x, 1);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(ring_appendleft_obj, ring_appendleft);

static mp_obj_t ring_pop_end(mp_obj_t self_in, int at_front) {
    ring_obj_t *self = MP_OBJ_TO_PTR(self_in);
    uint64_t item[2];
    tf_status st = at_front ? tf_ring_pop_front(&self->ring, item) : tf_ring_pop_back(&self->ring, item);
    if (st != TF_OK)
        mp_raise_msg(&mp_type_IndexError, MP_ERROR_TEXT("pop from an empty Ring"));
    return ring_unpack(self, item);
}
static mp_obj_t ring_pop(mp_obj_t self_in) { return ring_pop_end(self_in, 0); }
static MP_DEFINE_CONST_FUN_OBJ_1(ring_pop_obj, ring_pop);
static mp_obj_t ring_popleft(mp_obj_t self_in) { return ring_pop_end(self_in, 1); }
static MP_DEFINE_CONST_FUN_OBJ_1(ring_popleft_obj, ring_popleft);

static mp_obj_t ring_clear(mp_obj_t self_in) {
    tf_ring_clear(&((ring_obj_t *)MP_OBJ_TO_PTR(self_in))->ring);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(ring_clear_obj, ring_clear);

/* A buffer of the Ring's own item format (bytes and bytearray count as 'B'), as whole items: else TypeError. */
static size_t ring_items_of(const ring_obj_t *self, mp_obj_t obj, mp_buffer_info_t *buf, mp_uint_t flags) {
    mp_get_buffer_raise(obj, buf, flags);
    if (buf->typecode != self->typecode &&
        !(self->ring.itemsize == 1 && (buf->typecode == 'B' || buf->typecode == 'b') &&
          (self->typecode == 'B' || self->typecode == 'b')))
        mp_raise_msg_varg(&mp_type_TypeError, MP_ERROR_TEXT("a buffer of '%c' items does not match Ring('%c')"),
                          (int)buf->typecode, (int)self->typecode);
    return buf->len / self->ring.itemsize;
}

/* Appends a buffer's items: with overflow='drop' all of them (the oldest fall off) and returns their count; with
 * 'raise' as many as fit (like a non-blocking stream write), returning that count. */
static mp_obj_t ring_write(mp_obj_t self_in, mp_obj_t data) {
    ring_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_buffer_info_t buf;
    size_t n = ring_items_of(self, data, &buf, MP_BUFFER_READ);
    return mp_obj_new_int_from_uint(tf_ring_put(&self->ring, buf.buf, n));
}
static MP_DEFINE_CONST_FUN_OBJ_2(ring_write_obj, ring_write);

/* Moves items from the front into a writable buffer of the same format; returns how many. */
static mp_obj_t ring_readinto(mp_obj_t self_in, mp_obj_t dest) {
    ring_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_buffer_info_t buf;
    size_t n = ring_items_of(self, dest, &buf, MP_BUFFER_WRITE);
    return mp_obj_new_int_from_uint(tf_ring_read(&self->ring, buf.buf, n));
}
static MP_DEFINE_CONST_FUN_OBJ_2(ring_readinto_obj, ring_readinto);

/* The items as bytes, front first. */
static mp_obj_t ring_tobytes(mp_obj_t self_in) {
    ring_obj_t *self = MP_OBJ_TO_PTR(self_in);
    size_t n = tf_ring_len(&self->ring);
    vstr_t v;
    vstr_init_len(&v, n * self->ring.itemsize);
    tf_ring_peek(&self->ring, 0, v.buf, n);
    return mp_obj_new_bytes_from_vstr(&v);
}
static MP_DEFINE_CONST_FUN_OBJ_1(ring_tobytes_obj, ring_tobytes);

#if TF_RING_REDUCTIONS
static int ring_is_float(const ring_obj_t *self) { return self->typecode == 'f' || self->typecode == 'd'; }

/* The exact sum: an int for integer items (the core's 128-bit sum), a float for float items. */
static mp_obj_t ring_sum(mp_obj_t self_in) {
    ring_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (ring_is_float(self)) {
#if !MICROPY_PY_BUILTINS_FLOAT
        return mp_const_none; /* not reached: no float typecodes without floats */
#else
#if MICROPY_FLOAT_IMPL == MICROPY_FLOAT_IMPL_FLOAT
        if (self->typecode == 'f') { /* a single-precision FPU: compensated float sum, no software doubles */
            float sum = 0.0f, err = 0.0f;
            for (size_t i = 0, n = tf_ring_len(&self->ring); i < n; i++) {
                float x = *(const float *)tf_ring_at(&self->ring, i), y = x - err, t = sum + y;
                err = (t - sum) - y;
                sum = t;
            }
            return mp_obj_new_float(sum);
        }
#endif
        double sum = 0.0;
        tf_ring_sum_float(&self->ring, (tf_ring_type)self->kind, &sum);
        return mp_obj_new_float((mp_float_t)sum);
#endif
    }
    uint64_t lo = 0;
    int64_t hi = 0;
    tf_ring_sum_int(&self->ring, (tf_ring_type)self->kind, &lo, &hi);
    if ((hi == 0 && lo <= (uint64_t)INT64_MAX) || (hi == -1 && lo > (uint64_t)INT64_MAX))
        return mp_obj_new_int_from_ll((long long)lo);
    mp_obj_t high = mp_binary_op(MP_BINARY_OP_LSHIFT, mp_obj_new_int_from_ll(hi), MP_OBJ_NEW_SMALL_INT(64));
    return mp_binary_op(MP_BINARY_OP_ADD, high, mp_obj_new_int_from_ull(lo));
}
static MP_DEFINE_CONST_FUN_OBJ_1(ring_sum_obj, ring_sum);

#if MICROPY_PY_BUILTINS_FLOAT
static mp_obj_t ring_mean(mp_obj_t self_in) {
    ring_obj_t *self = MP_OBJ_TO_PTR(self_in);
    size_t n = tf_ring_len(&self->ring);
    if (!n)
        mp_raise_ValueError(MP_ERROR_TEXT("mean of an empty Ring"));
    return mp_obj_new_float(mp_obj_get_float(ring_sum(self_in)) / (mp_float_t)n);
}
static MP_DEFINE_CONST_FUN_OBJ_1(ring_mean_obj, ring_mean);
#endif

static mp_obj_t ring_extreme(mp_obj_t self_in, int want_max) {
    ring_obj_t *self = MP_OBJ_TO_PTR(self_in);
    uint64_t item[2];
    if (tf_ring_min_max(&self->ring, (tf_ring_type)self->kind, want_max ? NULL : item, want_max ? item : NULL) != TF_OK)
        mp_raise_ValueError(want_max ? MP_ERROR_TEXT("max of an empty Ring") : MP_ERROR_TEXT("min of an empty Ring"));
    return ring_unpack(self, item);
}
static mp_obj_t ring_min(mp_obj_t self_in) { return ring_extreme(self_in, 0); }
static MP_DEFINE_CONST_FUN_OBJ_1(ring_min_obj, ring_min);
static mp_obj_t ring_max(mp_obj_t self_in) { return ring_extreme(self_in, 1); }
static MP_DEFINE_CONST_FUN_OBJ_1(ring_max_obj, ring_max);
#endif

static mp_obj_t ring_unary_op(mp_unary_op_t op, mp_obj_t self_in) {
    ring_obj_t *self = MP_OBJ_TO_PTR(self_in);
    size_t n = tf_ring_len(&self->ring);
    switch (op) {
    case MP_UNARY_OP_BOOL: return mp_obj_new_bool(n != 0);
    case MP_UNARY_OP_LEN: return MP_OBJ_NEW_SMALL_INT(n);
    default: return MP_OBJ_NULL;
    }
}

/* r[i] and r[i] = x, with negative indexes from the back; IndexError outside. */
static mp_obj_t ring_subscr(mp_obj_t self_in, mp_obj_t index, mp_obj_t value) {
    ring_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (value == MP_OBJ_NULL)
        return MP_OBJ_NULL; /* no delete */
#if MICROPY_PY_BUILTINS_SLICE
    if (mp_obj_is_type(index, &mp_type_slice))
        return MP_OBJ_NULL; /* no slices */
#endif
    size_t n = tf_ring_len(&self->ring);
    mp_int_t i = mp_obj_get_int(index);
    if (i < 0)
        i += (mp_int_t)n;
    if (i < 0 || (size_t)i >= n)
        mp_raise_msg(&mp_type_IndexError, MP_ERROR_TEXT("Ring index out of range"));
    void *at = tf_ring_at(&self->ring, (size_t)i);
    if (value == MP_OBJ_SENTINEL) {
        uint64_t item[2];
        memcpy(item, at, self->ring.itemsize);
        return ring_unpack(self, item);
    }
    uint64_t item[2];
    ring_pack(self, value, item);
    memcpy(at, item, self->ring.itemsize);
    return mp_const_none;
}

/* Iteration front to back; like deque's, an iterator over a Ring that changes size stops with RuntimeError. */
typedef struct {
    mp_obj_base_t base;
    mp_obj_t ring;
    size_t next, len;
} ring_iter_t;

static mp_obj_t ring_iternext(mp_obj_t iter_in) {
    ring_iter_t *it = MP_OBJ_TO_PTR(iter_in);
    ring_obj_t *self = MP_OBJ_TO_PTR(it->ring);
    if (tf_ring_len(&self->ring) != it->len)
        mp_raise_msg(&mp_type_RuntimeError, MP_ERROR_TEXT("Ring mutated during iteration"));
    if (it->next >= it->len)
        return MP_OBJ_STOP_ITERATION;
    uint64_t item[2];
    memcpy(item, tf_ring_at(&self->ring, it->next++), self->ring.itemsize);
    return ring_unpack(self, item);
}

THRIFTY_TYPE(thrifty_ring_iter_type, MP_QSTR_iterator, MP_TYPE_FLAG_ITER_IS_ITERNEXT, iter, ring_iternext);

static mp_obj_t ring_getiter(mp_obj_t self_in, mp_obj_iter_buf_t *iter_buf) {
    MP_STATIC_ASSERT(sizeof(ring_iter_t) <= sizeof(mp_obj_iter_buf_t));
    ring_iter_t *it = (ring_iter_t *)iter_buf;
    it->base.type = &THRIFTY_TYPE_REF(thrifty_ring_iter_type);
    it->ring = self_in;
    it->next = 0;
    it->len = tf_ring_len(&((ring_obj_t *)MP_OBJ_TO_PTR(self_in))->ring);
    return MP_OBJ_FROM_PTR(it);
}

static void ring_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    ring_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (dest[0] != MP_OBJ_NULL)
        return;
    if (attr == MP_QSTR_maxlen)
        dest[0] = mp_obj_new_int_from_uint(self->ring.capacity);
    else if (attr == MP_QSTR_typecode)
        dest[0] = mp_obj_new_str(&self->typecode, 1);
    else if (attr == MP_QSTR_itemsize)
        dest[0] = MP_OBJ_NEW_SMALL_INT(self->ring.itemsize);
    else if (attr == MP_QSTR_full)
        dest[0] = mp_obj_new_bool(tf_ring_len(&self->ring) == self->ring.capacity);
    else if (attr == MP_QSTR_overflow)
        dest[0] = MP_OBJ_NEW_QSTR(self->ring.overflow == TF_RING_REFUSE ? MP_QSTR_raise : MP_QSTR_drop);
    else
        dest[1] = MP_OBJ_SENTINEL;
}

static void ring_print(const mp_print_t *print, mp_obj_t self_in, mp_print_kind_t kind) {
    ring_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_printf(print, "Ring('%c', [", self->typecode);
    for (size_t i = 0, n = tf_ring_len(&self->ring); i < n; i++) {
        uint64_t item[2];
        memcpy(item, tf_ring_at(&self->ring, i), self->ring.itemsize);
        mp_printf(print, i ? ", " : "");
        mp_obj_print_helper(print, ring_unpack(self, item), kind);
    }
    mp_printf(print, "], maxlen=%u)", (unsigned)self->ring.capacity);
}

#define RING_METHODS(X)                                                                                                \
    X(MP_QSTR_append, ring_append_obj)                                                                                 \
    X(MP_QSTR_appendleft, ring_appendleft_obj)                                                                         \
    X(MP_QSTR_pop, ring_pop_obj)                                                                                       \
    X(MP_QSTR_popleft, ring_popleft_obj)                                                                               \
    X(MP_QSTR_extend, ring_extend_obj)                                                                                 \
    X(MP_QSTR_clear, ring_clear_obj)                                                                                   \
    X(MP_QSTR_write, ring_write_obj)                                                                                   \
    X(MP_QSTR_readinto, ring_readinto_obj)                                                                             \
    X(MP_QSTR_tobytes, ring_tobytes_obj)                                                                               \
    RING_REDUCTIONS(X)
#if TF_RING_REDUCTIONS && MICROPY_PY_BUILTINS_FLOAT
#define RING_REDUCTIONS(X)                                                                                             \
    X(MP_QSTR_sum, ring_sum_obj)                                                                                       \
    X(MP_QSTR_mean, ring_mean_obj) X(MP_QSTR_min, ring_min_obj) X(MP_QSTR_max, ring_max_obj)
#elif TF_RING_REDUCTIONS
#define RING_REDUCTIONS(X) X(MP_QSTR_sum, ring_sum_obj) X(MP_QSTR_min, ring_min_obj) X(MP_QSTR_max, ring_max_obj)
#else
#define RING_REDUCTIONS(X)
#endif
THRIFTY_DICT(ring_locals, RING_METHODS)

THRIFTY_TYPE(thrifty_ring_type, MP_QSTR_Ring, MP_TYPE_FLAG_ITER_IS_GETITER, make_new, ring_make_new, print, ring_print,
             unary_op, ring_unary_op, subscr, ring_subscr, iter, ring_getiter, attr, ring_attr, locals_dict,
             &ring_locals);

#if THRIFTY_NATMOD
void thrifty_natmod_ring(void) {
    ring_locals_init();
    thrifty_ring_iter_type_init();
    thrifty_ring_type_init();
}
#endif

#endif /* THRIFTY_MP_RING */
