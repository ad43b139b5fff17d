/* What FrozenSet (fset.c) and FrozenMap (fmap.c) share: the object layout, building from Python objects, opening
 * a buffer, key lookup with frozenset's equality rules, element conversion, and one iterator type (frozen.c). */
#ifndef THRIFTY_EXT_FROZEN_H
#define THRIFTY_EXT_FROZEN_H

#include "thrifty_ext.h" /* first: Python.h must precede the system headers */

#include <structmember.h>

#include "thrifty/fset.h"

/* FrozenSet and FrozenMap objects. Immutable after construction, so no locking and no export counting. */
typedef struct {
    PyObject_HEAD tf_fset table; /* the opened block: points into buf.buf */
    Py_buffer buf;         /* owned export of the block's holder (buf.obj is a strong reference): the bytes object a
                              constructor built, or whatever frombuffer() was given. Released only in dealloc. */
    int built;             /* 1 when buf.obj is a bytes object this object created (counted by __sizeof__) */
    Py_hash_t hash;        /* cached hash, -1 until computed */
    PyObject *weakreflist; /* weak references (frozenset supports them too) */
    int key_kind;          /* tf_fset_key_kind(&table), read once: every lookup branches on it */
    /* str tables: a filter of the ASCII keys over CPython's own str hash, so that a miss queried with a str whose
     * hash is cached (the usual case) ends after one bit test, as in a frozenset, instead of hashing the key's bytes
     * and walking a bucket. Built in memory (the block format does not change) once the table has served
     * filter_after lookups, so opening a table stays one pass; 8 bits a key, counted by __sizeof__. */
    uint64_t *filter;        /* owned (PyMem); NULL until built, and for other kinds */
    size_t filter_words;     /* 64-bit words in filter */
    Py_ssize_t filter_after; /* lookups still to serve before building; -1: never (not a str table, or no memory) */
} tf_frozen;

/* The members every frozen type declares (the weak reference list offset). */
extern PyMemberDef tf_frozen_members[];

/* Iterator over a table (keys, values or (key, value) pairs), and FrozenMap's keys()/values()/items() views. */
enum { TF_FROZEN_KEYS = 0, TF_FROZEN_VALUES = 1, TF_FROZEN_ITEMS = 2 };

/* Builds a new object of `type` from a sequence of keys and (maps) a same-length sequence of values (PySequence_Fast
 * results), both held by the caller and not mutated by anyone while this runs. The core reads the objects in place
 * (no array of converted keys is gathered). `owned`: the sequences are the build's own (it may replace an item);
 * `may_release_gil`: no other thread can change them (owned, or immutable), so the core may run without the GIL.
 * `who` ("FrozenSet", "FrozenMap") prefixes messages. */
PyObject *tf_frozen_build(PyTypeObject *type, PyObject *keys, PyObject *values, int owned, int may_release_gil,
                          const char *who);

/* Builds a FrozenMap-like `type` from the exact dict d, read in place when its entries are dense (else through lists
 * of its keys and values). `owned`: d is the build's own (then the core may run without the GIL). */
PyObject *tf_frozen_build_dict(PyTypeObject *type, PyObject *d, int owned, const char *who);

/* `type`.frombuffer(obj): zero-copy over any C-contiguous buffer; CorruptData with the reason on a bad block. */
PyObject *tf_frozen_frombuffer(PyTypeObject *type, PyObject *obj, int want_map, const char *who);

/* tf_frozen_find's out-of-line part (frozen.c): every key but an exact int and an exact compact ASCII str
 * (subclasses, floats, non-ASCII str, unhashable keys...). */
int tf_frozen_find_other(tf_frozen *self, PyObject *key, size_t *pos);

/* Builds self's str filter (frozen.c); on no memory the table goes on without one. Runs no Python code. */
void tf_frozen_build_filter(tf_frozen *self);

/* The filter word of a CPython str hash and its two bits: the hash is spread by one multiply first, so a 32-bit
 * Py_hash_t works as well as a 64-bit one. */
static inline uint64_t tf_frozen_filter_bits(const tf_frozen *self, Py_hash_t h, size_t *word) {
    uint64_t x = (uint64_t)(size_t)h * 0x9E3779B97F4A7C15u;
    *word = (size_t)(((x >> 32) * (uint64_t)self->filter_words) >> 32);
    return ((uint64_t)1 << ((x >> 20) & 63u)) | ((uint64_t)1 << ((x >> 26) & 63u));
}

/* 1 when the filter proves the compact ASCII str `key` absent; 0 when it may be present (or there is no filter yet
 * or the str's hash was never computed: hashing it here would cost more than the lookup it might save). */
static inline int tf_frozen_ascii_absent(tf_frozen *self, PyObject *key) {
    Py_hash_t h = tf_py_str_cached_hash(key);
    size_t w;
    uint64_t bits;
    if (h == -1)
        return 0;
    if (!self->filter) {
        if (self->filter_after < 0 || --self->filter_after > 0)
            return 0;
        tf_frozen_build_filter(self);
        if (!self->filter)
            return 0;
    }
    bits = tf_frozen_filter_bits(self, h, &w);
    return (self->filter[w] & bits) != bits;
}

/* Looks key up with frozenset's rules: 1 found (*pos set), 0 absent (including keys of another kind), -1 with
 * TypeError for an unhashable key. Inline in each caller (`in`, get, [], the views), so that an exact int or
 * ASCII str reaches the core with no call of ours between: a layer of calls was a fifth of a FrozenMap.get miss. */
static inline int tf_frozen_find(tf_frozen *self, PyObject *key, size_t *pos) {
    int64_t v;
    if (Py_TYPE(key) == &PyLong_Type) {
        if (self->key_kind != TF_FSET_INT || !tf_py_long_int64(key, &v))
            return 0; /* another kind, or outside int64: cannot be stored, so cannot be present */
        *pos = tf_fset_find_int(&self->table, v);
        return *pos != TF_FSET_NOT_FOUND;
    }
    if (Py_TYPE(key) == &PyUnicode_Type && self->key_kind == TF_FSET_STR && PyUnicode_IS_COMPACT_ASCII(key)) {
        if (tf_frozen_ascii_absent(self, key))
            return 0;
        *pos = tf_fset_find_bytes(&self->table, ((PyASCIIObject *)key) + 1, (size_t)PyUnicode_GET_LENGTH(key));
        return *pos != TF_FSET_NOT_FOUND;
    }
    return tf_frozen_find_other(self, key, pos);
}

/* New references to the key / value at position i (< count). NULL with CorruptData when a stored str is not UTF-8. */
PyObject *tf_frozen_key(tf_frozen *self, size_t i);
PyObject *tf_frozen_value(tf_frozen *self, size_t i);

/* An iterator of `mode` over self. */
PyObject *tf_frozen_iter_new(tf_frozen *self, int mode);

/* Shared slots and methods. */
int tf_frozen_traverse(PyObject *self, visitproc visit, void *arg);
void tf_frozen_dealloc(PyObject *self);
Py_ssize_t tf_frozen_len(PyObject *self);
PyObject *tf_frozen_tobytes(PyObject *self, PyObject *unused);
PyObject *tf_frozen_sizeof(PyObject *self, PyObject *unused);
PyObject *tf_frozen_reduce(PyObject *self, PyObject *unused);

/* 1 when every item of the iterable `items` is in `container` (any = 0) / when none is (any = 1), 0 otherwise, -1
 * with an exception: the subset and disjointness tests of FrozenSet and of FrozenMap's keys and items views. */
int tf_frozen_scan(PyObject *items, PyObject *container, int any);

/* Registers `type` as a virtual subclass of collections.abc.<abc_name> ("Set", "Mapping"), as frozenset and dict
 * are, so isinstance checks in user code accept it. 0 or -1 with an exception. */
int tf_frozen_register_abc(PyObject *type, const char *abc_name);

/* Adds the iterator type (called by tf_fset_add). */
int tf_frozen_add_helpers(PyObject *m, tf_state *st);

#endif
