/* The Ring binding's typecodes and value conversion (ring_values.c): what each typecode means, Python value <-> C
 * item, and which buffer formats hold a typecode's items. Used by ring.c, ring_iter.c and ring_view.c only. */
#ifndef THRIFTY_EXT_RING_VALUES_H
#define THRIFTY_EXT_RING_VALUES_H

#include "ring_obj.h" /* Python.h first, then tf_ring_kind and tf_RingObject */

#define TF_PY_RING_CODES "b, B, h, H, i, I, l, L, q, Q, f, d or O"

/* The range of an integer C type T, from T alone: the one definition of every integer kind's range, used by the
 * typecode table and by append's fast path (where T is a constant, so the tests fold to compares with literals). */
#define TF_PY_INT_SIGNED(T) ((T)-1 < 0)
#define TF_PY_INT_MAX(T)                                                                                               \
    (TF_PY_INT_SIGNED(T) ? (unsigned long long)((1ULL << (8u * sizeof(T) - 1u)) - 1u) : (unsigned long long)(T)-1)
#define TF_PY_INT_MIN(T) (TF_PY_INT_SIGNED(T) ? -(long long)TF_PY_INT_MAX(T) - 1 : 0LL)
/* True when the C integer x (of any signed type up to long long) is in T's range. */
#define TF_PY_INT_FITS(T, x)                                                                                           \
    ((x) >= 0 ? (unsigned long long)(x) <= TF_PY_INT_MAX(T) : (long long)(x) >= TF_PY_INT_MIN(T))

#define IS_OBJ(self) ((self)->kind->cls == 'O')

/* One item in C form, big enough for any kind. */
typedef union {
    PyObject *o;
    long long ll;
    double d;
    unsigned char b[8];
} tf_item;

/* The table entry of a typecode, or NULL when it is not one. */
const tf_ring_kind *tf_py_ring_kind_of(char code);

/* Converts a Python value to the kind's C form in *out (for 'O' a borrowed pointer); -1 with TypeError or
 * OverflowError otherwise. May run Python code (__index__, __float__). */
int tf_py_ring_to_c(const tf_ring_kind *k, PyObject *v, tf_item *out);

/* A new reference to the Python value of the item at p, or NULL with an exception. */
PyObject *tf_py_ring_from_c(const tf_ring_kind *k, const void *p);

/* True when a buffer's items are this kind's items: same value class and size, native byte order. */
int tf_py_ring_format_matches(const tf_ring_kind *k, const Py_buffer *b);

/* The value of an exact int of one digit (|v| < 2**30: every int of a 16-bit sample, a small count), read without a
 * call where CPython exposes its compact-int layout, the common case of a typed append. 0 when v is not an exact int
 * or is wider; never sets an exception. Inline and call-free so append's fast path needs no stack frame; wider ints
 * take the general path (tf_py_ring_to_c). */
Py_ALWAYS_INLINE static inline int tf_py_exact_long(PyObject *v, long *out) {
    if (!PyLong_CheckExact(v))
        return 0;
#if PY_VERSION_HEX >= 0x030C0000
    if (PyUnstable_Long_IsCompact((PyLongObject *)v)) {
        *out = (long)PyUnstable_Long_CompactValue((PyLongObject *)v);
        return 1;
    }
#else
    Py_ssize_t digits = Py_SIZE(v);
    if (digits >= -1 && digits <= 1) {
        *out = (long)digits * (long)((PyLongObject *)v)->ob_digit[0];
        return 1;
    }
#endif
    return 0;
}

#endif
