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

/* tf_frozen_find's out-of-line parts (frozen.c): an exact compact ASCII str in a str table (the lookup filter, then
 * the core), and every other key (subclasses, floats, non-ASCII str, unhashable keys...). Same results. */
int tf_frozen_find_ascii(tf_frozen *self, PyObject *key, size_t *pos);
int tf_frozen_find_other(tf_frozen *self, PyObject *key, size_t *pos);

/* Looks key up with frozenset's rules: 1 found (*pos set), 0 absent (including keys of another kind), -1 with
 * TypeError for an unhashable key. Inline in each caller (`in`, get, [], the views), so that an exact int reaches
 * the core with no call of ours between: a layer of calls was a fifth of a FrozenMap.get miss. */
static inline int tf_frozen_find(tf_frozen *self, PyObject *key, size_t *pos) {
    int64_t v;
    if (Py_TYPE(key) == &PyLong_Type) {
        if (self->key_kind != TF_FSET_INT || !tf_py_long_int64(key, &v))
            return 0; /* another kind, or outside int64: cannot be stored, so cannot be present */
        *pos = tf_fset_find_int(&self->table, v);
        return *pos != TF_FSET_NOT_FOUND;
    }
    if (Py_TYPE(key) == &PyUnicode_Type && self->key_kind == TF_FSET_STR && PyUnicode_IS_COMPACT_ASCII(key))
        return tf_frozen_find_ascii(self, key, pos);
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
