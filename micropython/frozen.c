/* thrifty for MicroPython: FrozenSet and FrozenMap read in place from a block the CPython package wrote
 * (FrozenSet(...).tobytes(); docs/format-frozen.md): frombuffer() validates the block once, then every lookup reads
 * it where it is, so a table in a bytes constant frozen into flash costs no RAM beyond this small object. */
#include "thrifty_mp.h" /* first: in the natmod build it brings py/dynruntime.h */

#include <string.h>

#include "py/objstr.h"
#include "py/runtime.h"
#include "thrifty/fset.h"

#if THRIFTY_MP_FROZEN

typedef struct {
    mp_obj_base_t base;
    tf_fset table;  /* points into block */
    mp_obj_t block; /* the bytes object read in place; kept alive (and unmoved: bytes never change) */
} frozen_obj_t;

/* Validates `block` and wraps it as `type`. The block must be read-only (bytes, or a memoryview of bytes): a
 * bytearray can be resized and moved under the table. */
static mp_obj_t frozen_frombuffer(const mp_obj_type_t *type, mp_obj_t block) {
    mp_buffer_info_t buf;
    if (mp_get_buffer(block, &buf, MP_BUFFER_WRITE))
        mp_raise_TypeError(MP_ERROR_TEXT("frombuffer needs a read-only buffer (bytes): a writable one could be "
                                         "resized or changed under the table"));
    mp_get_buffer_raise(block, &buf, MP_BUFFER_READ);
    frozen_obj_t *self = mp_obj_malloc(frozen_obj_t, type);
    const char *why = "";
    tf_status st = tf_fset_validate(&self->table, buf.buf, buf.len, &why);
    if (st != TF_OK)
        mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("not a valid thrifty frozen table: %s"), why);
    int is_map = tf_fset_is_map(&self->table);
    if (is_map != (type == &thrifty_frozenmap_type) && tf_fset_count(&self->table))
        mp_raise_msg(&mp_type_ValueError, is_map ? MP_ERROR_TEXT("the block is a FrozenMap, not a FrozenSet")
                                                 : MP_ERROR_TEXT("the block is a FrozenSet, not a FrozenMap"));
    self->block = block;
    return MP_OBJ_FROM_PTR(self);
}

/* frombuffer is a classmethod. mp_type_classmethod is not in a natmod's mp_fun_table (and mpy_ld takes no
 * initialised RAM), so there the object is zeroed RAM that thrifty_natmod_frozen() fills at import. */
#if THRIFTY_NATMOD
#define FROZEN_CLASSMETHOD(name, fun) mp_rom_obj_static_class_method_t name
#else
#define FROZEN_CLASSMETHOD(name, fun) static MP_DEFINE_CONST_CLASSMETHOD_OBJ(name, MP_ROM_PTR(&fun))
#endif

static mp_obj_t frozenset_frombuffer(mp_obj_t cls, mp_obj_t block) {
    (void)cls;
    return frozen_frombuffer(&thrifty_frozenset_type, block);
}
static MP_DEFINE_CONST_FUN_OBJ_2(frozenset_frombuffer_fun, frozenset_frombuffer);
FROZEN_CLASSMETHOD(frozenset_frombuffer_obj, frozenset_frombuffer_fun);

static mp_obj_t frozenmap_frombuffer(mp_obj_t cls, mp_obj_t block) {
    (void)cls;
    return frozen_frombuffer(&thrifty_frozenmap_type, block);
}
static MP_DEFINE_CONST_FUN_OBJ_2(frozenmap_frombuffer_fun, frozenmap_frombuffer);
FROZEN_CLASSMETHOD(frozenmap_frombuffer_obj, frozenmap_frombuffer_fun);

/* Where `key` is in the table, or TF_FSET_NOT_FOUND: an int is looked for only in an int table, a str in a str
 * table, bytes in a bytes table (as in CPython, 1 and b'1' and '1' are different keys). */
static size_t frozen_find(const frozen_obj_t *self, mp_obj_t key) {
    int kind = tf_fset_key_kind(&self->table);
    if (mp_obj_is_int(key)) {
        if (kind != TF_FSET_INT)
            return TF_FSET_NOT_FOUND;
        long long v;
        if (mp_obj_is_small_int(key))
            v = MP_OBJ_SMALL_INT_VALUE(key);
#if MICROPY_LONGINT_IMPL == MICROPY_LONGINT_IMPL_NONE && !THRIFTY_NATMOD /* a natmod cannot know: it asks */
        else
            return TF_FSET_NOT_FOUND; /* not reached: without long ints every int is small */
#else
        else {
            mp_obj_t lo = mp_obj_new_int_from_ll(INT64_MIN), hi = mp_obj_new_int_from_ll(INT64_MAX);
            if (mp_obj_is_true(mp_binary_op(MP_BINARY_OP_LESS, key, lo)) ||
                mp_obj_is_true(mp_binary_op(MP_BINARY_OP_MORE, key, hi)))
                return TF_FSET_NOT_FOUND; /* outside int64: not a key any table holds */
            v = mp_obj_get_ll(key);
        }
#endif
        return tf_fset_find_int(&self->table, (int64_t)v);
    }
    int is_str = mp_obj_is_str(key);
    if (!is_str && !mp_obj_is_type(key, &mp_type_bytes))
        return TF_FSET_NOT_FOUND;
    if (kind != (is_str ? TF_FSET_STR : TF_FSET_BYTES))
        return TF_FSET_NOT_FOUND;
    size_t len;
    const char *data = mp_obj_str_get_data(key, &len);
    return tf_fset_find_bytes(&self->table, data, len);
}

static mp_obj_t frozen_unary_op(mp_unary_op_t op, mp_obj_t self_in) {
    frozen_obj_t *self = MP_OBJ_TO_PTR(self_in);
    size_t n = tf_fset_count(&self->table);
    switch (op) {
    case MP_UNARY_OP_BOOL: return mp_obj_new_bool(n != 0);
    case MP_UNARY_OP_LEN: return mp_obj_new_int_from_uint(n);
    default: return MP_OBJ_NULL;
    }
}

static mp_obj_t frozen_binary_op(mp_binary_op_t op, mp_obj_t lhs, mp_obj_t rhs) {
    if (op != MP_BINARY_OP_CONTAINS)
        return MP_OBJ_NULL;
    return mp_obj_new_bool(frozen_find(MP_OBJ_TO_PTR(lhs), rhs) != TF_FSET_NOT_FOUND);
}

/* The value at position i, as the object CPython's FrozenMap gives. */
static mp_obj_t frozenmap_value(const frozen_obj_t *self, size_t i) {
    switch (tf_fset_value_kind(&self->table)) {
    case TF_FSET_INT: return mp_obj_new_int_from_ll(tf_fset_value_int(&self->table, i));
#if MICROPY_PY_BUILTINS_FLOAT
    case TF_FSET_FLOAT: return mp_obj_new_float((mp_float_t)tf_fset_value_float(&self->table, i));
#else
    case TF_FSET_FLOAT: mp_raise_ValueError(MP_ERROR_TEXT("this firmware has no floats for the table's values"));
#endif
    case TF_FSET_STR: {
        tf_fspan s = tf_fset_value_span(&self->table, i);
        return mp_obj_new_str((const char *)s.data, s.len);
    }
    default: {
        tf_fspan s = tf_fset_value_span(&self->table, i);
        return mp_obj_new_bytes((const byte *)s.data, s.len);
    }
    }
}

static mp_obj_t frozenmap_subscr(mp_obj_t self_in, mp_obj_t key, mp_obj_t value) {
    if (value != MP_OBJ_SENTINEL)
        return MP_OBJ_NULL; /* read-only */
    frozen_obj_t *self = MP_OBJ_TO_PTR(self_in);
    size_t i = frozen_find(self, key);
    if (i == TF_FSET_NOT_FOUND)
        mp_raise_type_arg(&mp_type_KeyError, key);
    return frozenmap_value(self, i);
}

static mp_obj_t frozenmap_get(size_t n_args, const mp_obj_t *args) {
    frozen_obj_t *self = MP_OBJ_TO_PTR(args[0]);
    size_t i = frozen_find(self, args[1]);
    if (i == TF_FSET_NOT_FOUND)
        return n_args > 2 ? args[2] : mp_const_none;
    return frozenmap_value(self, i);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(frozenmap_get_obj, 2, 3, frozenmap_get);

#define FROZENSET_METHODS(X) X(MP_QSTR_frombuffer, frozenset_frombuffer_obj)
#define FROZENMAP_METHODS(X) X(MP_QSTR_frombuffer, frozenmap_frombuffer_obj) X(MP_QSTR_get, frozenmap_get_obj)
THRIFTY_DICT(frozenset_locals, FROZENSET_METHODS)
THRIFTY_DICT(frozenmap_locals, FROZENMAP_METHODS)

THRIFTY_TYPE(thrifty_frozenset_type, MP_QSTR_FrozenSet, MP_TYPE_FLAG_NONE, unary_op, frozen_unary_op, binary_op,
             frozen_binary_op, locals_dict, &frozenset_locals);
THRIFTY_TYPE(thrifty_frozenmap_type, MP_QSTR_FrozenMap, MP_TYPE_FLAG_NONE, unary_op, frozen_unary_op, binary_op,
             frozen_binary_op, subscr, frozenmap_subscr, locals_dict, &frozenmap_locals);

#if THRIFTY_NATMOD
void thrifty_natmod_frozen(void) {
    const mp_obj_type_t *classmethod = MP_OBJ_TO_PTR(mp_load_global(MP_QSTR_classmethod));
    frozenset_frombuffer_obj = (mp_rom_obj_static_class_method_t){{classmethod}, MP_ROM_PTR(&frozenset_frombuffer_fun)};
    frozenmap_frombuffer_obj = (mp_rom_obj_static_class_method_t){{classmethod}, MP_ROM_PTR(&frozenmap_frombuffer_fun)};
    frozenset_locals_init();
    frozenmap_locals_init();
    thrifty_frozenset_type_init();
    thrifty_frozenmap_type_init();
}
#endif

#endif /* THRIFTY_MP_FROZEN */
