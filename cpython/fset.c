/* thrifty.FrozenSet — a frozenset of ints, strs or bytes in one compact, portable block (core: fset.h). */
#include "frozen.h"

#define WHO "FrozenSet"

/* Whether op is exactly this module's type; `self` (one of ours) supplies the module state. */
static int is_frozen_set(PyObject *self, PyObject *op) {
    tf_state *st = tf_state_of(self);
    return st && Py_TYPE(op) == (PyTypeObject *)st->FrozenSetType;
}

static PyObject *fset_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    PyObject *iterable = NULL, *seq, *result;
    if (kwds && PyDict_GET_SIZE(kwds) > 0) {
        PyErr_SetString(PyExc_TypeError, WHO "() takes no keyword arguments");
        return NULL;
    }
    if (!PyArg_UnpackTuple(args, WHO, 0, 1, &iterable))
        return NULL;
    if (iterable && Py_TYPE(iterable) == type)
        return Py_NewRef(iterable); /* immutable: frozenset(frozenset) does the same */
    seq = iterable ? PySequence_Fast(iterable, WHO "() argument must be an iterable of int, str or bytes")
                   : PyTuple_New(0);
    if (!seq)
        return NULL;
    /* PySequence_Fast hands back the caller's own list or tuple unchanged (no copy: the build reads its items in
     * place); a list the caller can change must then stay under the GIL. */
    result = tf_frozen_build(type, seq, NULL, seq != iterable, !(seq == iterable && PyList_CheckExact(iterable)), WHO);
    Py_DECREF(seq);
    return result;
}

static int fset_contains(PyObject *op, PyObject *key) {
    size_t pos;
    return tf_frozen_find((tf_frozen *)op, key, &pos);
}

static PyObject *fset_iter(PyObject *op) { return tf_frozen_iter_new((tf_frozen *)op, TF_FROZEN_KEYS); }

static int set_like(PyObject *self, PyObject *op) { return PyAnySet_Check(op) || is_frozen_set(self, op); }

/* The comparisons of frozenset, against frozenset, set and FrozenSet. */
static int compare(PyObject *self, PyObject *other, int op) {
    Py_ssize_t n = tf_frozen_len(self), m = PyObject_Size(other);
    if (m < 0)
        return -1;
    if (op == Py_EQ && is_frozen_set(self, other)) {
        tf_frozen *a = (tf_frozen *)self, *b = (tf_frozen *)other;
        if (a->buf.len == b->buf.len && memcmp(a->buf.buf, b->buf.buf, (size_t)a->buf.len) == 0)
            return 1;
    }
    switch (op) {
    case Py_EQ: return n == m ? tf_frozen_scan(other, self, 0) : 0;
    case Py_LE: return n <= m ? tf_frozen_scan(self, other, 0) : 0;
    case Py_LT: return n < m ? tf_frozen_scan(self, other, 0) : 0;
    case Py_GE: return n >= m ? tf_frozen_scan(other, self, 0) : 0;
    case Py_GT: return n > m ? tf_frozen_scan(other, self, 0) : 0;
    default: return -1;
    }
}

static PyObject *fset_richcompare(PyObject *self, PyObject *other, int op) {
    int r;
    if (!set_like(self, other))
        Py_RETURN_NOTIMPLEMENTED;
    r = compare(self, other, op == Py_NE ? Py_EQ : op);
    if (r < 0)
        return NULL;
    return PyBool_FromLong(op == Py_NE ? !r : r);
}

static Py_hash_t fset_hash(PyObject *op) {
    tf_frozen *self = (tf_frozen *)op;
    PyObject *fs;
    if (self->hash != -1)
        return self->hash;
    /* Equal to an equal frozenset's hash (so both work as the same dict key); computed once, then cached. */
    fs = PyFrozenSet_New(op);
    if (!fs)
        return -1;
    self->hash = PyObject_Hash(fs);
    Py_DECREF(fs);
    return self->hash;
}

static PyObject *fset_repr(PyObject *op) {
    PyObject *list, *inner, *body, *r;
    if (tf_frozen_len(op) == 0)
        return PyUnicode_FromString(WHO "()");
    list = PySequence_List(op);
    if (!list)
        return NULL;
    inner = PyObject_Repr(list);
    Py_DECREF(list);
    if (!inner)
        return NULL;
    body = PyUnicode_Substring(inner, 1, PyUnicode_GET_LENGTH(inner) - 1);
    Py_DECREF(inner);
    if (!body)
        return NULL;
    r = PyUnicode_FromFormat(WHO "({%U})", body);
    Py_DECREF(body);
    return r;
}

static PyObject *fset_isdisjoint(PyObject *self, PyObject *other) {
    int r = tf_frozen_scan(other, self, 1);
    return r < 0 ? NULL : PyBool_FromLong(r);
}

static PyObject *fset_issuperset(PyObject *self, PyObject *other) {
    int r = tf_frozen_scan(other, self, 0);
    return r < 0 ? NULL : PyBool_FromLong(r);
}

static PyObject *fset_issubset(PyObject *self, PyObject *other) {
    PyObject *set = NULL;
    int r;
    if (!set_like(self, other)) {
        set = PyFrozenSet_New(other); /* an arbitrary iterable: the same conversion frozenset.issubset makes */
        if (!set)
            return NULL;
        other = set;
    }
    r = compare(self, other, Py_LE);
    Py_XDECREF(set);
    return r < 0 ? NULL : PyBool_FromLong(r);
}

static PyObject *fset_copy(PyObject *self, PyObject *unused) {
    (void)unused;
    return Py_NewRef(self);
}

/* Set algebra. The result is a new, usually small-lived set, so it is a plain frozenset (what frozenset's own
 * operators return) rather than a new compact block: build FrozenSet(result) to freeze it again. Operators, like
 * frozenset's, take only sets (else NotImplemented); the named methods take any iterables. */
static PyObject *fset_as_frozenset(PyObject *o) { return PyAnySet_Check(o) ? Py_NewRef(o) : PyFrozenSet_New(o); }

static PyObject *fset_binary(PyObject *a, PyObject *b, PyObject *(*op)(PyObject *, PyObject *)) {
    /* One operand is a FrozenSet (that is why this slot runs; the type cannot be subclassed), so the other operand's
     * type or this one names it; each side must be a set, a frozenset or a FrozenSet. */
    PyTypeObject *ours = PyAnySet_Check(a) ? Py_TYPE(b) : Py_TYPE(a);
    if (!(PyAnySet_Check(a) || Py_TYPE(a) == ours) || !(PyAnySet_Check(b) || Py_TYPE(b) == ours))
        Py_RETURN_NOTIMPLEMENTED;
    PyObject *fa = fset_as_frozenset(a), *fb = NULL, *r = NULL;
    if (fa && (fb = fset_as_frozenset(b)) != NULL)
        r = op(fa, fb);
    Py_XDECREF(fa);
    Py_XDECREF(fb);
    return r;
}
static PyObject *fset_or(PyObject *a, PyObject *b) { return fset_binary(a, b, PyNumber_Or); }
static PyObject *fset_and(PyObject *a, PyObject *b) { return fset_binary(a, b, PyNumber_And); }
static PyObject *fset_sub(PyObject *a, PyObject *b) { return fset_binary(a, b, PyNumber_Subtract); }
static PyObject *fset_xor(PyObject *a, PyObject *b) { return fset_binary(a, b, PyNumber_Xor); }

/* union/intersection/difference/symmetric_difference: frozenset's method of the same name on a frozenset copy. */
static PyObject *fset_named(PyObject *self, PyObject *args, const char *name) {
    PyObject *fs = PyFrozenSet_New(self);
    if (fs == NULL)
        return NULL;
    PyObject *method = PyObject_GetAttrString(fs, name);
    Py_DECREF(fs);
    if (method == NULL)
        return NULL;
    PyObject *r = PyObject_Call(method, args, NULL);
    Py_DECREF(method);
    return r;
}
static PyObject *fset_union(PyObject *self, PyObject *args) { return fset_named(self, args, "union"); }
static PyObject *fset_intersection(PyObject *self, PyObject *args) { return fset_named(self, args, "intersection"); }
static PyObject *fset_difference(PyObject *self, PyObject *args) { return fset_named(self, args, "difference"); }
static PyObject *fset_symmetric_difference(PyObject *self, PyObject *args) {
    return fset_named(self, args, "symmetric_difference");
}

static PyObject *fset_frombuffer(PyObject *cls, PyObject *obj) {
    return tf_frozen_frombuffer((PyTypeObject *)cls, obj, 0, WHO);
}

static PyMethodDef fset_methods[] = {
    {"isdisjoint", fset_isdisjoint, METH_O, "True if no element of the iterable is in the set."},
    {"issubset", fset_issubset, METH_O, "True if every element of the set is in the iterable."},
    {"issuperset", fset_issuperset, METH_O, "True if every element of the iterable is in the set."},
    {"copy", fset_copy, METH_NOARGS, "The set itself (it is immutable), as frozenset.copy() does."},
    {"union", fset_union, METH_VARARGS, "The union with the iterables, as a frozenset."},
    {"intersection", fset_intersection, METH_VARARGS, "The intersection with the iterables, as a frozenset."},
    {"difference", fset_difference, METH_VARARGS, "The elements not in any of the iterables, as a frozenset."},
    {"symmetric_difference", fset_symmetric_difference, METH_VARARGS,
     "The elements in exactly one of the set and the iterable, as a frozenset."},
    {"tobytes", tf_frozen_tobytes, METH_NOARGS,
     "The portable, versioned, checksummed block (docs/format-frozen.md). Zero-copy for a built set."},
    {"frombuffer", fset_frombuffer, METH_O | METH_CLASS,
     "FrozenSet.frombuffer(buffer): use a block from tobytes() in place (bytes, bytearray, mmap, memoryview).\n"
     "Keeps the buffer alive and exported; raises thrifty.CorruptData saying what is wrong with a bad block."},
    {"__reduce__", tf_frozen_reduce, METH_NOARGS, "Pickles as the block from tobytes()."},
    {"__class_getitem__", Py_GenericAlias, METH_O | METH_CLASS, "Type hints: FrozenSet[int] and the like."},
    {"__sizeof__", tf_frozen_sizeof, METH_NOARGS, "Bytes held: the object plus a block it built itself."},
    {NULL, NULL, 0, NULL},
};

PyDoc_STRVAR(fset_doc, "FrozenSet(iterable=(), /)\n--\n\n"
                       "An immutable set of ints (int64), strs or bytes stored in one compact block.\n\n"
                       "Membership, iteration, comparisons and hashing behave as frozenset's; tobytes() and\n"
                       "FrozenSet.frombuffer() save and reuse the block without rebuilding. See docs/frozen.md.");

static PyType_Slot fset_slots[] = {
    {Py_tp_doc, (void *)fset_doc},
    {Py_tp_new, fset_new},
    {Py_tp_dealloc, tf_frozen_dealloc},
    {Py_tp_traverse, tf_frozen_traverse},
    {Py_tp_iter, fset_iter},
    {Py_tp_hash, fset_hash},
    {Py_tp_repr, fset_repr},
    {Py_tp_richcompare, fset_richcompare},
    {Py_tp_methods, fset_methods},
    {Py_tp_members, tf_frozen_members},
    {Py_sq_length, tf_frozen_len},
    {Py_sq_contains, fset_contains},
    {Py_nb_or, fset_or},
    {Py_nb_and, fset_and},
    {Py_nb_subtract, fset_sub},
    {Py_nb_xor, fset_xor},
    {0, NULL},
};

static PyType_Spec fset_spec = {
    .name = "thrifty.FrozenSet",
    .basicsize = sizeof(tf_frozen),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = fset_slots,
};

int tf_fset_add(PyObject *m, tf_state *st) {
    if (tf_frozen_add_helpers(m, st) < 0)
        return -1;
    st->FrozenSetType = PyType_FromModuleAndSpec(m, &fset_spec, NULL);
    if (!st->FrozenSetType || PyModule_AddObjectRef(m, "FrozenSet", st->FrozenSetType) < 0)
        return -1;
    return tf_frozen_register_abc(st->FrozenSetType, "Set");
}
