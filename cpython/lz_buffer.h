/* thrifty.lz binding: what lz_compressor.c and lz_decompressor.c share — a growable output buffer that works with
 * the GIL released (raw allocator), and the parameter checks whose messages name the accepted range. */
#ifndef THRIFTY_LZ_BUFFER_H
#define THRIFTY_LZ_BUFFER_H

#include "thrifty_ext.h" /* first: Python.h sets the feature macros */

#include <structmember.h>

#include "thrifty/lz.h"

/* Inputs at least this long are processed with the GIL released. */
#define TF_LZ_NOGIL_MIN 65536

typedef struct {
    uint8_t *p; /* owned, PyMem_Raw*; NULL until the first byte */
    size_t n, cap;
} tf_lz_obuf;

/* Makes room for at least `want` more bytes (capped at `limit` total). 0 or -1 when out of memory. GIL not needed. */
static inline int tf_lz_obuf_reserve(tf_lz_obuf *b, size_t want, size_t limit) {
    if (b->cap - b->n >= want)
        return 0;
    size_t cap = b->cap ? b->cap : 256u;
    while (cap - b->n < want && cap < limit)
        cap = cap > limit / 2u ? limit : cap * 2u;
    if (cap > limit)
        cap = limit;
    uint8_t *p = (uint8_t *)PyMem_RawRealloc(b->p, cap ? cap : 1u);
    if (!p)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

/* The buffer as a bytes object (frees it). NULL with an exception on failure. Needs the GIL. */
static inline PyObject *tf_lz_obuf_finish(tf_lz_obuf *b) {
    PyObject *r = PyBytes_FromStringAndSize((const char *)b->p, (Py_ssize_t)b->n);
    PyMem_RawFree(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
    return r;
}

static inline void tf_lz_obuf_free(tf_lz_obuf *b) {
    PyMem_RawFree(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

/* The encoder's level as core flags (TF_LZ_LEVEL), or -1 with ValueError. -1 means the default, as in zlib. */
static inline long tf_lz_level_flags(int level) {
    if (level == -1)
        return 0;
    if (level < 1 || level > 9) {
        PyErr_Format(PyExc_ValueError, "level must be between 1 and 9 (or -1 for the default, %u), got %d",
                     TF_LZ_DEFAULT_LEVEL, level);
        return -1;
    }
    return (long)TF_LZ_LEVEL((unsigned)level);
}

/* The numeric filters by name (lz.h): "delta2" ... "shuffle8", as core flags (TF_LZ_FILTER), 0 for None, or -1 with
 * a ValueError that lists the names. */
static inline long tf_lz_filter_flags(PyObject *name) {
    static const char *const names[] = {"delta2", "delta4", "delta8", "shuffle2", "shuffle4", "shuffle8"};
    if (name == NULL || name == Py_None)
        return 0;
    if (PyUnicode_Check(name)) {
        for (unsigned i = 0; i < 6u; i++)
            if (PyUnicode_CompareWithASCIIString(name, names[i]) == 0)
                return (long)TF_LZ_FILTER(
                    TF_LZ_FILTER_ID(i < 3u ? TF_LZ_FILTER_DELTA : TF_LZ_FILTER_SHUFFLE, i % 3u + 1u));
        PyErr_Format(PyExc_ValueError,
                     "filter must be one of 'delta2', 'delta4', 'delta8' (differences of 2-, 4- or 8-byte "
                     "little-endian numbers), 'shuffle2', 'shuffle4', 'shuffle8' (their bit planes only) or None, "
                     "got %R",
                     name);
    } else {
        PyErr_Format(PyExc_TypeError, "filter must be a str or None, not %.100s", Py_TYPE(name)->tp_name);
    }
    return -1;
}

/* The name of the filter in core flags, or NULL for none. */
static inline const char *tf_lz_filter_name(unsigned flags) {
    static const char *const names[] = {"delta2", "delta4", "delta8", "shuffle2", "shuffle4", "shuffle8"};
    unsigned id = TF_LZ_FILTER_OF(flags), kind = id & 15u, size_log2 = id >> 4;
    if (!tf_lz_filter_size(flags))
        return NULL;
    return names[(kind == TF_LZ_FILTER_DELTA ? 0u : 3u) + size_log2 - 1u];
}

/* The `dictionary` argument: None (view->buf NULL, len 0) or a non-empty bytes-like object of at most `max` bytes,
 * whose buffer the caller releases (PyBuffer_Release is safe on the None case too). 0, or -1 with a TypeError or
 * ValueError that says what is accepted. `max_hint` adds how to fit a longer one (the encoder's window). */
static inline int tf_lz_dict_arg(PyObject *obj, Py_buffer *view, size_t max, const char *max_hint) {
    memset(view, 0, sizeof *view);
    if (obj == NULL || obj == Py_None)
        return 0;
    if (PyUnicode_Check(obj) || !PyObject_CheckBuffer(obj)) {
        PyErr_Format(PyExc_TypeError,
                     "dictionary must be a bytes-like object (bytes, bytearray, memoryview; for example what "
                     "thrifty.lz.train_dictionary returns) or None, not %.100s",
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    if (PyObject_GetBuffer(obj, view, PyBUF_SIMPLE) < 0)
        return -1;
    if (view->len == 0 || (size_t)view->len > max) {
        if (view->len == 0)
            PyErr_SetString(PyExc_ValueError, "dictionary must not be empty: pass None for no dictionary");
        else
            PyErr_Format(PyExc_ValueError, "dictionary is %zd bytes, more than the %zu accepted%s", view->len, max,
                         max_hint);
        PyBuffer_Release(view);
        memset(view, 0, sizeof *view);
        return -1;
    }
    return 0;
}

/* For the encoder: a dictionary longer than the window 2^W: ValueError naming a window that would hold it. */
static inline int tf_lz_dict_check_window(Py_ssize_t n, int window_bits) {
    if ((size_t)n <= ((size_t)1 << window_bits))
        return 0;
    int need = window_bits;
    while (need < (int)TF_LZ_MAX_WINDOW_BITS && ((size_t)1 << need) < (size_t)n)
        need++;
    PyErr_Format(PyExc_ValueError,
                 "dictionary is %zd bytes, more than the window of window_bits=%d holds (%zu bytes): pass "
                 "window_bits=%d or more, or a dictionary of at most %zu bytes",
                 n, window_bits, (size_t)1 << window_bits, need, (size_t)1 << window_bits);
    return -1;
}

/* A filter and a dictionary in one frame: ValueError (the format has one or the other). */
static inline int tf_lz_dict_check_filter(Py_ssize_t n, long filter_flags) {
    if (!n || !filter_flags)
        return 0;
    PyErr_SetString(PyExc_ValueError,
                    "filter and dictionary cannot be combined: a frame has a numeric filter (for typed arrays) or a "
                    "preset dictionary (for short messages), not both");
    return -1;
}

/* 0, or -1 with a ValueError that names the accepted range. */
static inline int tf_lz_check_params(int window_bits, int lookahead_bits) {
    if (window_bits < (int)TF_LZ_MIN_WINDOW_BITS || window_bits > (int)TF_LZ_MAX_WINDOW_BITS) {
        PyErr_Format(PyExc_ValueError, "window_bits must be between %u and %u, got %d", TF_LZ_MIN_WINDOW_BITS,
                     TF_LZ_MAX_WINDOW_BITS, window_bits);
        return -1;
    }
    int hi = window_bits - 1 < (int)TF_LZ_MAX_LOOKAHEAD_BITS ? window_bits - 1 : (int)TF_LZ_MAX_LOOKAHEAD_BITS;
    if (lookahead_bits < (int)TF_LZ_MIN_LOOKAHEAD_BITS || lookahead_bits > hi) {
        PyErr_Format(PyExc_ValueError,
                     "lookahead_bits must be between %u and min(%u, window_bits - 1) = %d for window_bits=%d, got %d",
                     TF_LZ_MIN_LOOKAHEAD_BITS, TF_LZ_MAX_LOOKAHEAD_BITS, hi, window_bits, lookahead_bits);
        return -1;
    }
    return 0;
}

#endif
