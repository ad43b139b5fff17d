/* The Ring binding's private declarations, shared by ring.c (the Ring type), ring_iter.c (its iterators) and
 * ring_view.c (the buffer exporter behind views()). Nothing outside these three files uses them. */
#ifndef THRIFTY_EXT_RING_H
#define THRIFTY_EXT_RING_H

#include "thrifty_ext.h" /* Python.h before any system header */

#include "thrifty/ring.h"

/* What one typecode means: item size, the core's reduction type (0 for 'O'), and its value class. */
typedef struct {
    char code;
    unsigned char size;
    tf_ring_type type; /* 0 for 'O' */
    char cls;          /* 'i' signed int, 'u' unsigned int, 'f' float, 'O' object */
    const char *name;  /* for messages, e.g. "16-bit signed int" */
    char format[2];    /* buffer-protocol format: the typecode itself, as array.array exports */
    long long lo;      /* integer kinds: the accepted range, TF_PY_INT_MIN/MAX of the C type (ring_values.h) */
    unsigned long long hi;
} tf_ring_kind;

typedef struct {
    PyObject_HEAD tf_ring ring; /* core state; ring.buf is `storage` */
    unsigned char *storage;     /* owned (PyMem); NULL while the capacity is 0. For 'O' each slot holds one owned
                                   reference; slots outside the live range hold garbage and are never read. */
    const tf_ring_kind *kind;   /* static table entry; never NULL once tp_new ran */
    Py_ssize_t maxlen;          /* -1: unbounded, storage grows and shrinks */
    Py_ssize_t exports;         /* live buffers from views(); while > 0 length and order may not change */
    size_t state;               /* bumped on every change of length or order; iterators compare it */
    int overflow_raise;         /* the user's overflow='raise' (1) or 'drop' (0), kept for repr, copies and pickles;
                                   what a full ring does is ring.overflow: drop the oldest only when bounded and
                                   'drop' (an unbounded Ring's core ring refuses, and the binding grows it) */
    PyObject *weakreflist;
} tf_RingObject;

/* A new reference to item i (0 = front; no range check beyond the core's), or NULL with an exception. */
PyObject *tf_py_ring_item(tf_RingObject *self, size_t i);

/* The iterator over `ring`, front to back or back to front. */
PyObject *tf_py_ring_iter_new(tf_state *st, tf_RingObject *ring, int reverse);

/* A memoryview of one of the (at most two) contiguous runs holding the items (run 0 = from the front). The
 * view counts as an export of `ring` until it is released. */
PyObject *tf_py_ring_view_new(tf_state *st, tf_RingObject *ring, int run);

/* Called by tf_ring_add: create the iterator and view types and store them in the state. */
int tf_ring_iter_add(PyObject *m, tf_state *st);
int tf_ring_view_add(PyObject *m, tf_state *st);

#endif
