/* thrifty for MicroPython, the natmod build only (natmod.mk): stand-ins for the runtime functions natmod.h names,
 * written over what mp_fun_table offers. */
#include "thrifty_mp.h"

#include <stdarg.h>
#include <string.h>

/* ---- libc ---------------------------------------------------------------------------------------------------- */

/* The core's frozen tables compare keys with memcmp; a natmod gets only memset, memcpy and memmove from the
 * firmware, so it carries its own. */
int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x < *y ? -1 : 1;
    return 0;
}

/* ---- builtins ------------------------------------------------------------------------------------------------ */

const mp_obj_type_t *thrifty_slice_type;

void thrifty_natmod_runtime(void) { thrifty_slice_type = MP_OBJ_TO_PTR(mp_load_global(MP_QSTR_slice)); }

/* ---- formatted exceptions ------------------------------------------------------------------------------------ */

typedef struct {
    char buf[256]; /* longer than any message the binding formats */
    size_t len;
} msg_t;

static void msg_strn(void *data, const char *s, size_t n) {
    msg_t *m = data;
    while (n-- && m->len < sizeof m->buf)
        m->buf[m->len++] = *s++;
}

/* The message goes into a new str: mp_raise_msg would keep a pointer to it, and it is on this stack. */
MP_NORETURN void thrifty_raise_varg(const mp_obj_type_t *type, const char *fmt, ...) {
    msg_t m;
    m.len = 0;
    mp_print_t print = {&m, msg_strn};
    va_list ap;
    va_start(ap, fmt);
    mp_vprintf(&print, fmt, ap);
    va_end(ap);
    nlr_raise(mp_obj_new_exception_arg1(type, mp_obj_new_str(m.buf, m.len)));
}

/* ---- growable output (vstr) ---------------------------------------------------------------------------------- */

void thrifty_vstr_init(vstr_t *v, size_t alloc) {
    v->alloc = alloc ? alloc : 1u;
    v->len = 0;
    v->buf = m_new(char, v->alloc);
    v->fixed_buf = false;
}

void thrifty_vstr_init_len(vstr_t *v, size_t len) {
    thrifty_vstr_init(v, len + 1u);
    v->len = len;
}

void thrifty_vstr_hint_size(vstr_t *v, size_t extra) {
    if (v->alloc - v->len < extra) {
        v->buf = m_renew(char, v->buf, v->alloc, v->len + extra);
        v->alloc = v->len + extra;
    }
}

void thrifty_vstr_add_strn(vstr_t *v, const char *s, size_t n) {
    thrifty_vstr_hint_size(v, n);
    memcpy(v->buf + v->len, s, n);
    v->len += n;
}

/* As the firmware does it: the buffer shrunk to len + 1 for the NUL every bytes object ends with. Hash 0 means "not
 * computed yet" to the runtime, which computes it when a dict or hash() asks. */
mp_obj_t thrifty_bytes_from_vstr(vstr_t *v) {
    byte *data = (byte *)m_renew(char, v->buf, v->alloc, v->len + 1u);
    data[v->len] = 0;
    mp_obj_str_t *o = mp_obj_malloc(mp_obj_str_t, &mp_type_bytes);
    o->len = v->len;
    o->hash = 0;
    o->data = data;
    v->buf = NULL;
    v->alloc = 0;
    return MP_OBJ_FROM_PTR(o);
}

/* ---- 64-bit ints --------------------------------------------------------------------------------------------- */

mp_obj_t thrifty_int_from_ull(unsigned long long v) {
    if (v <= (unsigned long long)MP_SMALL_INT_MAX)
        return MP_OBJ_NEW_SMALL_INT((mp_int_t)v);
    mp_obj_t hi = mp_obj_new_int_from_uint((mp_uint_t)(v >> 32));
    hi = mp_binary_op(MP_BINARY_OP_LSHIFT, hi, MP_OBJ_NEW_SMALL_INT(32));
    return mp_binary_op(MP_BINARY_OP_OR, hi, mp_obj_new_int_from_uint((mp_uint_t)(v & 0xFFFFFFFFu)));
}

mp_obj_t thrifty_int_from_ll(long long v) {
    if (v >= (long long)MP_SMALL_INT_MIN && v <= (long long)MP_SMALL_INT_MAX)
        return MP_OBJ_NEW_SMALL_INT((mp_int_t)v);
    if (v >= 0)
        return thrifty_int_from_ull((unsigned long long)v);
    /* -(v + 1) is representable even for INT64_MIN, and -(that) - 1 is v */
    mp_obj_t neg = mp_unary_op(MP_UNARY_OP_NEGATIVE, thrifty_int_from_ull((unsigned long long)-(v + 1)));
    return mp_binary_op(MP_BINARY_OP_SUBTRACT, neg, MP_OBJ_NEW_SMALL_INT(1));
}

long long thrifty_int_get_ll(mp_obj_t o) {
    if (mp_obj_is_small_int(o))
        return MP_OBJ_SMALL_INT_VALUE(o);
    mp_obj_t mask = mp_obj_new_int_from_uint(0xFFFFFFFFu);
    mp_obj_t lo = mp_binary_op(MP_BINARY_OP_AND, o, mask);
    mp_obj_t hi = mp_binary_op(MP_BINARY_OP_AND, mp_binary_op(MP_BINARY_OP_RSHIFT, o, MP_OBJ_NEW_SMALL_INT(32)), mask);
    return (long long)(((unsigned long long)(uint32_t)mp_obj_get_int_truncated(hi) << 32) |
                       (uint32_t)mp_obj_get_int_truncated(lo));
}

/* ---- printing, slices ---------------------------------------------------------------------------------------- */

void thrifty_print_obj(const mp_print_t *print, mp_obj_t o, mp_print_kind_t kind) {
    mp_obj_t s = mp_call_function_n_kw(mp_load_global(kind == PRINT_STR ? MP_QSTR_str : MP_QSTR_repr), 1, 0, &o);
    size_t n;
    const char *text = mp_obj_str_get_data(s, &n);
    print->print_strn(print->data, text, n);
}

/* A slice bound: None is dflt, a negative one counts from the end, and either is clamped to 0..len. */
static mp_int_t slice_bound(mp_obj_t v, mp_int_t dflt, mp_int_t len) {
    if (v == mp_const_none)
        return dflt;
    mp_int_t i = mp_obj_get_int(v);
    if (i < 0)
        i += len;
    return i < 0 ? 0 : i > len ? len : i;
}

bool thrifty_slice_indexes(size_t len, mp_obj_t slice, mp_bound_slice_t *s) {
    mp_obj_slice_t *sl = MP_OBJ_TO_PTR(slice);
    if (sl->step != mp_const_none && mp_obj_get_int(sl->step) != 1)
        return false;
    s->start = slice_bound(sl->start, 0, (mp_int_t)len);
    s->stop = slice_bound(sl->stop, (mp_int_t)len, (mp_int_t)len);
    if (s->stop < s->start)
        s->stop = s->start;
    s->step = 1;
    return true;
}
