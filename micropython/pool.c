/* thrifty for MicroPython: Pool, a fixed-size buffer pool, and its Block. One arena (a GC-heap block, or the bytes
 * of a buffer the caller passes) cut into `count` blocks by the core's tf_pool, and one Block object per block, all
 * made at construction: acquire() and release() allocate nothing, so they also work where the heap is locked.
 *
 * MicroPython's memoryview keeps only an address, not the object it came from, and its collector follows only
 * pointers to the start of an allocation: a memoryview of a block (inside the arena) does not keep the arena alive.
 * So the arena stays with the Pool object until the Pool itself is collected (close() marks the pool closed and
 * takes the blocks back, but frees nothing), and docs/micropython.md asks users to keep the Pool referenced while a
 * memoryview of one of its blocks is in use. */
#include "thrifty_mp.h" /* first: in the natmod build it brings py/dynruntime.h */

#include <string.h>

#if !THRIFTY_NATMOD /* dynruntime names the exception slots itself */
#include "py/objexcept.h"
#endif
#include "py/runtime.h"
#include "py/smallint.h"
#include "thrifty/pool.h"

#if THRIFTY_MP_POOL

typedef struct _block_obj_t block_obj_t;

typedef struct {
    mp_obj_base_t base;
    tf_pool core;         /* over `arena`; which blocks are free, the counters */
    uint8_t *arena;       /* a GC block this object keeps alive, or the bytes of `owner` */
    size_t size;          /* of the arena, in bytes */
    mp_obj_t owner;       /* the caller's buffer (kept alive), or MP_OBJ_NULL */
    block_obj_t **blocks; /* count Block objects (a GC block), made up front */
    bool closed;
} pool_obj_t;

struct _block_obj_t {
    mp_obj_base_t base;
    pool_obj_t *pool;
    size_t index;
    bool acquired;
};

/* PoolExhausted, a MemoryError. In a natmod the exception slots are the firmware's, read at import
 * (thrifty_natmod_pool). */
#if THRIFTY_NATMOD
mp_obj_full_type_t thrifty_pool_exhausted_type_obj;
#else
MP_DEFINE_CONST_OBJ_TYPE(thrifty_pool_exhausted_type, MP_QSTR_PoolExhausted, MP_TYPE_FLAG_NONE, make_new,
                         mp_obj_exception_make_new, print, mp_obj_exception_print, attr, mp_obj_exception_attr, parent,
                         &mp_type_MemoryError);
#endif

/* The arena as it is now. A caller's bytearray can be resized (and so moved) behind the pool's back: then the pool
 * refuses every use rather than reach into memory that is no longer the buffer. */
static uint8_t *pool_arena(pool_obj_t *self) {
    if (self->owner != MP_OBJ_NULL) {
        mp_buffer_info_t bi;
        if (mp_get_buffer(self->owner, &bi, MP_BUFFER_WRITE) && bi.buf == self->arena && bi.len >= self->size)
            return self->arena;
        mp_raise_msg(&mp_type_RuntimeError, MP_ERROR_TEXT("Pool: its buffer was resized or moved; a Pool's buffer "
                                                          "must keep its size while the Pool is in use"));
    }
    return self->arena;
}

static void released_error(void) { mp_raise_ValueError(MP_ERROR_TEXT("block was released")); }

/* The bytes of an acquired block; ValueError once it was released (or its pool closed). */
static uint8_t *block_data(block_obj_t *b) {
    if (!b->acquired)
        released_error();
    pool_arena(b->pool);
    return tf_pool_block(&b->pool->core, b->index);
}

static mp_obj_t pool_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    enum { ARG_block_size, ARG_count, ARG_zero, ARG_canary, ARG_buffer };
    THRIFTY_ARGS mp_arg_t allowed[] = {
        {MP_QSTR_block_size, MP_ARG_REQUIRED | MP_ARG_INT, {.u_int = 0}},
        {MP_QSTR_count, MP_ARG_REQUIRED | MP_ARG_INT, {.u_int = 0}},
        {MP_QSTR_zero, MP_ARG_KW_ONLY | MP_ARG_BOOL, {.u_bool = false}},
        {MP_QSTR_canary, MP_ARG_KW_ONLY | MP_ARG_BOOL, {.u_bool = false}},
        {MP_QSTR_buffer, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_obj = mp_const_none}},
    };
    mp_arg_val_t a[MP_ARRAY_SIZE(allowed)];
    mp_arg_parse_all_kw_array(n_args, n_kw, args, MP_ARRAY_SIZE(allowed), allowed, a);
    mp_int_t block_size = a[ARG_block_size].u_int, count = a[ARG_count].u_int;
    if (block_size < 1)
        mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("Pool: block_size must be >= 1, got %d"), (int)block_size);
    if (count < 1)
        mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("Pool: count must be >= 1, got %d"), (int)count);
    unsigned flags = (a[ARG_zero].u_bool ? TF_POOL_FLAG_ZERO : 0u) | (a[ARG_canary].u_bool ? TF_POOL_FLAG_CANARY : 0u);
#if !TF_POOL_CANARY
    if (flags & TF_POOL_FLAG_CANARY)
        mp_raise_ValueError(MP_ERROR_TEXT("Pool: canary=True needs a firmware built with TF_POOL_CANARY=1"));
#endif
    size_t size = tf_pool_size((size_t)block_size, (size_t)count, flags);
    if (size == 0 || (size_t)count > SIZE_MAX / sizeof(block_obj_t *))
        mp_raise_msg_varg(&mp_type_OverflowError, MP_ERROR_TEXT("Pool: %d blocks of %d bytes do not fit in memory"),
                          (int)count, (int)block_size);
    pool_obj_t *self = mp_obj_malloc(pool_obj_t, type);
    self->owner = MP_OBJ_NULL;
    self->size = size;
    self->closed = false;
    if (a[ARG_buffer].u_obj != mp_const_none) {
        mp_buffer_info_t bi;
        mp_get_buffer_raise(a[ARG_buffer].u_obj, &bi, MP_BUFFER_WRITE);
        if (bi.len < size)
            mp_raise_msg_varg(&mp_type_ValueError,
                              MP_ERROR_TEXT("Pool: the buffer has %u bytes; %d blocks of %d bytes need %u"),
                              (unsigned)bi.len, (int)count, (int)block_size, (unsigned)size);
        if (!TF_IS_ALIGNED(bi.buf, TF_POOL_ALIGN))
            mp_raise_msg_varg(&mp_type_ValueError,
                              MP_ERROR_TEXT("Pool: the buffer must start at a multiple of %d bytes (a bytearray "
                                            "does; a memoryview slice may not)"),
                              (int)TF_POOL_ALIGN);
        self->owner = a[ARG_buffer].u_obj;
        self->arena = bi.buf;
    } else {
        MP_STATIC_ASSERT(TF_POOL_ALIGN <= 8);
        self->arena = thrifty_alloc(size); /* 8-aligned; a GC block's bytes start zeroed */
    }
    if (tf_pool_init(&self->core, self->arena, size, (size_t)block_size, (size_t)count, flags) != TF_OK)
        mp_raise_msg(&mp_type_MemoryError, MP_ERROR_TEXT("Pool: arena"));
    self->blocks = m_new(block_obj_t *, (size_t)count);
    for (size_t i = 0; i < (size_t)count; i++) {
        block_obj_t *b = mp_obj_malloc(block_obj_t, &thrifty_block_type);
        b->pool = self;
        b->index = i;
        b->acquired = false;
        self->blocks[i] = b;
    }
    return MP_OBJ_FROM_PTR(self);
}

static mp_obj_t pool_acquire(mp_obj_t self_in) {
    pool_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (self->closed)
        mp_raise_ValueError(MP_ERROR_TEXT("acquire() on a closed Pool"));
    pool_arena(self);
    size_t index;
    tf_status st = tf_pool_acquire_index(&self->core, &index);
    if (st == TF_E_EMPTY)
        mp_raise_msg_varg(&thrifty_pool_exhausted_type,
                          MP_ERROR_TEXT("Pool exhausted: all %u blocks of %u bytes are in use (high-water mark %u); "
                                        "release a block or create the pool with a larger count"),
                          (unsigned)self->core.count, (unsigned)self->core.block_size,
                          (unsigned)self->core.fresh /* the high-water mark: tf_pool */);
    if (st != TF_OK)
        mp_raise_msg_varg(&mp_type_RuntimeError, MP_ERROR_TEXT("Pool.acquire: %s"), tf_status_str(st));
    block_obj_t *b = self->blocks[index];
    b->acquired = true;
    return MP_OBJ_FROM_PTR(b);
}
static MP_DEFINE_CONST_FUN_OBJ_1(pool_acquire_obj, pool_acquire);

/* Gives block b back to its pool: ValueError if it was released already, and (canary mode) ValueError when a write
 * went past its end, after releasing it all the same, as the core does. */
static void block_release_impl(block_obj_t *b) {
    block_data(b);
    tf_status st = tf_pool_release_index(&b->pool->core, b->index);
    if (st != TF_OK && st != TF_E_CORRUPT)
        mp_raise_msg_varg(&mp_type_RuntimeError, MP_ERROR_TEXT("Block.release: %s"), tf_status_str(st));
    b->acquired = false;
    if (st == TF_E_CORRUPT)
        mp_raise_msg_varg(&mp_type_ValueError,
                          MP_ERROR_TEXT("Block of %u bytes was written past its end (canary overwritten); it was "
                                        "released anyway"),
                          (unsigned)b->pool->core.block_size);
}

static mp_obj_t pool_release(mp_obj_t self_in, mp_obj_t block_in) {
    if (!mp_obj_is_type(block_in, &thrifty_block_type))
        mp_raise_TypeError(MP_ERROR_TEXT("Pool.release() takes a Block from Pool.acquire()"));
    block_obj_t *b = MP_OBJ_TO_PTR(block_in);
    if (b->pool != MP_OBJ_TO_PTR(self_in))
        mp_raise_ValueError(MP_ERROR_TEXT("Pool.release(): the Block belongs to another Pool"));
    block_release_impl(b);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(pool_release_obj, pool_release);

/* close(): every block still out reads as released from now on; a zero=True pool wipes the arena. The arena itself
 * goes back to the heap with the Pool object (see the top of this file). Closing twice does nothing. */
static mp_obj_t pool_close(mp_obj_t self_in) {
    pool_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (self->closed)
        return mp_const_none;
    self->closed = true;
    for (size_t i = 0; i < self->core.count; i++)
        self->blocks[i]->acquired = false;
    if (self->core.flags & TF_POOL_FLAG_ZERO)
        memset(pool_arena(self), 0, self->size);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(pool_close_obj, pool_close);

static mp_obj_t pool_enter(mp_obj_t self_in) {
    if (((pool_obj_t *)MP_OBJ_TO_PTR(self_in))->closed)
        mp_raise_ValueError(MP_ERROR_TEXT("with-statement on a closed Pool"));
    return self_in;
}
static MP_DEFINE_CONST_FUN_OBJ_1(pool_enter_obj, pool_enter);

static mp_obj_t pool_exit(size_t n_args, const mp_obj_t *args) {
    (void)n_args;
    return pool_close(args[0]);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(pool_exit_obj, 4, 4, pool_exit);

static mp_obj_t new_count(uint64_t v) {
    return v <= (uint64_t)MP_SMALL_INT_MAX ? MP_OBJ_NEW_SMALL_INT((mp_int_t)v) : mp_obj_new_int_from_ull(v);
}

static mp_obj_t pool_stats(mp_obj_t self_in) {
    pool_obj_t *self = MP_OBJ_TO_PTR(self_in);
    tf_pool_stats s;
    tf_pool_stats_get(&self->core, &s);
    mp_obj_t d = mp_obj_new_dict(6);
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_block_size), new_count(s.block_size));
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_count), new_count(s.count));
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_in_use), new_count(s.in_use));
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_high_water), new_count(s.high_water));
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_acquired), new_count(s.acquired));
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_exhausted), new_count(s.exhausted));
    return d;
}
static MP_DEFINE_CONST_FUN_OBJ_1(pool_stats_obj, pool_stats);

static void pool_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    pool_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (dest[0] != MP_OBJ_NULL)
        return;
    if (attr == MP_QSTR_block_size)
        dest[0] = mp_obj_new_int_from_uint(self->core.block_size);
    else if (attr == MP_QSTR_count)
        dest[0] = mp_obj_new_int_from_uint(self->core.count);
    else if (attr == MP_QSTR_closed)
        dest[0] = mp_obj_new_bool(self->closed);
    else
        dest[1] = MP_OBJ_SENTINEL; /* the methods, from locals_dict */
}

static void pool_print(const mp_print_t *print, mp_obj_t self_in, mp_print_kind_t kind) {
    (void)kind;
    pool_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (self->closed)
        mp_printf(print, "<thrifty.Pool closed>");
    else
        mp_printf(print, "<thrifty.Pool block_size=%u count=%u in_use=%u>", (unsigned)self->core.block_size,
                  (unsigned)self->core.count, (unsigned)self->core.in_use);
}

#define POOL_METHODS(X)                                                                                                \
    X(MP_QSTR_acquire, pool_acquire_obj)                                                                               \
    X(MP_QSTR_release, pool_release_obj)                                                                               \
    X(MP_QSTR_stats, pool_stats_obj)                                                                                   \
    X(MP_QSTR_close, pool_close_obj)                                                                                   \
    X(MP_QSTR___enter__, pool_enter_obj)                                                                               \
    X(MP_QSTR___exit__, pool_exit_obj)
THRIFTY_DICT(pool_locals, POOL_METHODS)

THRIFTY_TYPE(thrifty_pool_type, MP_QSTR_Pool, MP_TYPE_FLAG_NONE, make_new, pool_make_new, print, pool_print, attr,
             pool_attr, locals_dict, &pool_locals);

/* ---- Block ------------------------------------------------------------------------------------------------- */

static mp_obj_t block_release(mp_obj_t self_in) {
    block_release_impl(MP_OBJ_TO_PTR(self_in));
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(block_release_obj, block_release);

static mp_obj_t block_enter(mp_obj_t self_in) {
    block_data(MP_OBJ_TO_PTR(self_in));
    return self_in;
}
static MP_DEFINE_CONST_FUN_OBJ_1(block_enter_obj, block_enter);

static mp_obj_t block_exit(size_t n_args, const mp_obj_t *args) {
    (void)n_args;
    return block_release(args[0]);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(block_exit_obj, 4, 4, block_exit);

static mp_int_t block_get_buffer(mp_obj_t self_in, mp_buffer_info_t *bufinfo, mp_uint_t flags) {
    (void)flags;
    block_obj_t *b = MP_OBJ_TO_PTR(self_in);
    bufinfo->buf = block_data(b);
    bufinfo->len = b->pool->core.block_size;
    bufinfo->typecode = 'B';
    return 0;
}

static mp_obj_t block_unary_op(mp_unary_op_t op, mp_obj_t self_in) {
    block_obj_t *b = MP_OBJ_TO_PTR(self_in);
    switch (op) {
    case MP_UNARY_OP_LEN: block_data(b); return MP_OBJ_NEW_SMALL_INT(b->pool->core.block_size);
    case MP_UNARY_OP_HASH: return MP_OBJ_NEW_SMALL_INT((mp_uint_t)self_in); /* by identity, as on CPython */
    default: return MP_OBJ_NULL;
    }
}

/* b[i], b[i] = v, b[i:j] (bytes, a copy) and b[i:j] = data of exactly the slice's length: a bytearray that never
 * changes size. Deleting is refused. */
static mp_obj_t block_subscr(mp_obj_t self_in, mp_obj_t index, mp_obj_t value) {
    block_obj_t *b = MP_OBJ_TO_PTR(self_in);
    if (value == MP_OBJ_NULL)
        mp_raise_TypeError(MP_ERROR_TEXT("Block does not support item deletion: its size is fixed"));
    uint8_t *data = block_data(b);
    size_t len = b->pool->core.block_size;
#if MICROPY_PY_BUILTINS_SLICE
    if (mp_obj_is_type(index, &mp_type_slice)) {
        mp_bound_slice_t s;
        if (!mp_seq_get_fast_slice_indexes(len, index, &s))
            mp_raise_NotImplementedError(MP_ERROR_TEXT("Block slices with a step are not supported"));
        size_t n = s.stop > s.start ? (size_t)(s.stop - s.start) : 0u;
        if (value == MP_OBJ_SENTINEL)
            return mp_obj_new_bytes(data + s.start, n);
        mp_buffer_info_t src;
        mp_get_buffer_raise(value, &src, MP_BUFFER_READ);
        if (src.len != n)
            mp_raise_msg_varg(&mp_type_ValueError,
                              MP_ERROR_TEXT("Block slice assignment: %u bytes given for a slice of %u bytes (a "
                                            "Block's size is fixed)"),
                              (unsigned)src.len, (unsigned)n);
        data = block_data(b); /* the buffer lookup above may have run code that released the block */
        memmove(data + s.start, src.buf, n);
        return mp_const_none;
    }
#endif
    mp_int_t v = 0;
    if (value != MP_OBJ_SENTINEL) { /* the byte first, as bytearray checks it */
        v = mp_obj_get_int(value);
        if (v < 0 || v > 255)
            mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("byte must be in range(0, 256), got %d"), (int)v);
    }
    mp_int_t i = mp_obj_get_int(index);
    if (i < -(mp_int_t)len || i >= (mp_int_t)len)
        mp_raise_msg_varg(&mp_type_IndexError,
                          MP_ERROR_TEXT("Block index %d out of range: valid indices are %d..%d for a Block of %u "
                                        "bytes"),
                          (int)i, -(int)len, (int)len - 1, (unsigned)len);
    if (i < 0)
        i += (mp_int_t)len;
    data = block_data(b);
    if (value == MP_OBJ_SENTINEL)
        return MP_OBJ_NEW_SMALL_INT(data[i]);
    data[i] = (uint8_t)v;
    return mp_const_none;
}

static void block_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    if (dest[0] != MP_OBJ_NULL)
        return;
    if (attr == MP_QSTR_released)
        dest[0] = mp_obj_new_bool(!((block_obj_t *)MP_OBJ_TO_PTR(self_in))->acquired);
    else
        dest[1] = MP_OBJ_SENTINEL;
}

#define BLOCK_METHODS(X)                                                                                               \
    X(MP_QSTR_release, block_release_obj) X(MP_QSTR___enter__, block_enter_obj) X(MP_QSTR___exit__, block_exit_obj)
THRIFTY_DICT(block_locals, BLOCK_METHODS)

THRIFTY_TYPE(thrifty_block_type, MP_QSTR_Block, MP_TYPE_FLAG_NONE, unary_op, block_unary_op, subscr, block_subscr,
             buffer, block_get_buffer, attr, block_attr, locals_dict, &block_locals);

#if THRIFTY_NATMOD
void thrifty_natmod_pool(void) {
    pool_locals_init();
    block_locals_init();
    thrifty_pool_type_init();
    thrifty_block_type_init();
    mp_obj_exception_init(&thrifty_pool_exhausted_type_obj, MP_QSTR_PoolExhausted, &mp_type_MemoryError);
}
#endif

#endif /* THRIFTY_MP_POOL */
