/* The Ring binding's private declarations, shared by ring.c (the Ring type), the files holding its other methods
 * (ring_bulk.c, ring_seq.c, ring_stats.c), ring_iter.c (its iterators) and ring_view.c (the buffer exporter behind
 * views()). Nothing outside the ring*.c files uses them. */
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
    unsigned char fast; /* what append's fast path dispatches on: kind->type (0 for 'O'), or TF_PY_RING_SLOW
                           while exports > 0 (then only the general path, which refuses). One byte read instead
                           of two checks; tf_py_ring_set_fast keeps it in step with kind and exports. */
} tf_RingObject;

#define TF_PY_RING_SLOW 0xFFu

/* Call after every change of self->kind or self->exports. */
static inline void tf_py_ring_set_fast(tf_RingObject *self) {
    self->fast = self->exports > 0 ? (unsigned char)TF_PY_RING_SLOW : (unsigned char)self->kind->type;
}

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

/* ---- ring.c: storage and item helpers the method files share ---- */

/* Room for n more items: an unbounded Ring grows (x2, at least 8); a bounded one has its room. 0 or -1. */
int tf_py_ring_ensure_room(tf_RingObject *self, size_t n);
/* An unbounded Ring a quarter full or less halves its storage (never while exported). */
void tf_py_ring_maybe_shrink(tf_RingObject *self);
/* -1 with BufferError while views() buffers are alive (length and order may not change), else 0. */
int tf_py_ring_refuse_if_exported(tf_RingObject *self);
/* Raises thrifty.Full for a full raise-mode Ring; returns -1. */
int tf_py_ring_raise_full(tf_RingObject *self);
/* Removes every item; for 'O' each reference is released after its slot left the ring. */
void tf_py_ring_drop_all(tf_RingObject *self);
/* Appends n raw items (never 'O') under the overflow policy; the count taken or -1 (see ring.c). */
Py_ssize_t tf_py_ring_write_raw(tf_RingObject *self, const unsigned char *src, size_t n, int partial);
/* RuntimeError: the Ring was re-initialized while an item was converted; returns -1. */
int tf_py_ring_kind_changed(void);
/* extend()/extendleft(): the raw fast path when it applies, else item by item. 0 or -1. */
int tf_py_ring_extend(tf_RingObject *self, PyObject *iterable, int front);
/* copy(): a new Ring of the same type, typecode, maxlen and overflow, with the same items. */
PyObject *Ring_copy(tf_RingObject *self, PyObject *unused);

/* ---- ring_bulk.c ---- */

/* extend()'s raw fast path; *done = 1 when it applied (then 0 or -1), else 0 and nothing changed. */
int tf_py_ring_extend_raw(tf_RingObject *self, PyObject *src, int *done);
PyObject *Ring_extend(tf_RingObject *self, PyObject *iterable);
PyObject *Ring_extendleft(tf_RingObject *self, PyObject *iterable);
PyObject *Ring_clear(tf_RingObject *self, PyObject *unused);
PyObject *Ring_write(tf_RingObject *self, PyObject *obj);
PyObject *Ring_readinto(tf_RingObject *self, PyObject *obj);
PyObject *Ring_tobytes(tf_RingObject *self, PyObject *unused);
PyObject *Ring_toarray(tf_RingObject *self, PyObject *unused);
PyObject *Ring_views(tf_RingObject *self, PyObject *unused);

/* ---- ring_seq.c ---- */

/* Whether other is a Ring of this module (subclasses included). */
int tf_py_ring_is_ring(tf_RingObject *self, PyObject *other);
PyObject *Ring_count(tf_RingObject *self, PyObject *v);
int Ring_contains(tf_RingObject *self, PyObject *v);
PyObject *Ring_index(tf_RingObject *self, PyObject *args);
PyObject *Ring_remove(tf_RingObject *self, PyObject *v);
PyObject *Ring_insert(tf_RingObject *self, PyObject *args);
PyObject *Ring_rotate(tf_RingObject *self, PyObject *args);
PyObject *Ring_reverse(tf_RingObject *self, PyObject *unused);
Py_ssize_t Ring_len(tf_RingObject *self);
PyObject *Ring_item(tf_RingObject *self, Py_ssize_t i);
int Ring_ass_item(tf_RingObject *self, Py_ssize_t i, PyObject *v);
PyObject *Ring_concat(tf_RingObject *self, PyObject *other);
PyObject *Ring_inplace_concat(tf_RingObject *self, PyObject *other);
PyObject *Ring_inplace_repeat(tf_RingObject *self, Py_ssize_t n);
PyObject *Ring_repeat(tf_RingObject *self, Py_ssize_t n);
PyObject *Ring_richcompare(tf_RingObject *self, PyObject *other, int op);
PyObject *Ring_iter(tf_RingObject *self);
PyObject *Ring_reversed(tf_RingObject *self, PyObject *unused);

/* ---- ring_stats.c ---- */

PyObject *Ring_sum(tf_RingObject *self, PyObject *unused);
PyObject *Ring_mean(tf_RingObject *self, PyObject *unused);
PyObject *Ring_min(tf_RingObject *self, PyObject *unused);
PyObject *Ring_max(tf_RingObject *self, PyObject *unused);
PyObject *Ring_std(tf_RingObject *self, PyObject *args, PyObject *kwds);

#endif
