/* thrifty.FrozenMap — a read-only dict from ints, strs or bytes to ints, floats, strs or bytes in one compact,
 * portable block (core: fset.h), with keys()/values()/items() views. */
#include "frozen.h"

#define WHO "FrozenMap"

/* Whether op is exactly this module's type; `self` (one of ours) supplies the module state. */
static int is_frozen_map(PyObject *self, PyObject *op) {
    tf_state *st = tf_state_of(self);
    return st && Py_TYPE(op) == (PyTypeObject *)st->FrozenMapType;
}

static PyObject *fmap_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    PyObject *d, *result;
    int owned;
    if (PyTuple_GET_SIZE(args) == 1 && (!kwds || PyDict_GET_SIZE(kwds) == 0) &&
        Py_TYPE(PyTuple_GET_ITEM(args, 0)) == type)
        return Py_NewRef(PyTuple_GET_ITEM(args, 0)); /* immutable: nothing to copy */
    /* dict(*args, **kwargs) gives exactly dict's rules for mappings, pairs, keywords and "last one wins". An exact
     * dict alone is read as it is, in place: its copy would be the biggest allocation of the build (about 40 bytes an
     * entry, twice the finished table). */
    owned = !(PyTuple_GET_SIZE(args) == 1 && (!kwds || PyDict_GET_SIZE(kwds) == 0) &&
              PyDict_CheckExact(PyTuple_GET_ITEM(args, 0)));
    d = owned ? PyObject_Call((PyObject *)&PyDict_Type, args, kwds) : Py_NewRef(PyTuple_GET_ITEM(args, 0));
    if (!d)
        return NULL;
    result = tf_frozen_build_dict(type, d, owned, WHO);
    Py_DECREF(d);
    return result;
}

static int fmap_contains(PyObject *op, PyObject *key) {
    size_t pos;
    return tf_frozen_find((tf_frozen *)op, key, &pos);
}

static void set_key_error(PyObject *key) {
    PyObject *t = PyTuple_Pack(1, key); /* so that a tuple key is reported whole, as dict does */
    if (t) {
        PyErr_SetObject(PyExc_KeyError, t);
        Py_DECREF(t);
    }
}

static PyObject *fmap_subscript(PyObject *op, PyObject *key) {
    size_t pos;
    int r = tf_frozen_find((tf_frozen *)op, key, &pos);
    if (r < 0)
        return NULL;
    if (r == 0) {
        set_key_error(key);
        return NULL;
    }
    return tf_frozen_value((tf_frozen *)op, pos);
}

static PyObject *fmap_get(PyObject *op, PyObject *const *args, Py_ssize_t nargs) {
    size_t pos;
    int r;
    if (nargs < 1 || nargs > 2) {
        PyErr_Format(PyExc_TypeError, "get expected 1 or 2 arguments, got %zd", nargs);
        return NULL;
    }
    r = tf_frozen_find((tf_frozen *)op, args[0], &pos);
    if (r < 0)
        return NULL;
    if (r == 0)
        return Py_NewRef(nargs > 1 ? args[1] : Py_None);
    return tf_frozen_value((tf_frozen *)op, pos);
}

static PyObject *fmap_iter(PyObject *op) { return tf_frozen_iter_new((tf_frozen *)op, TF_FROZEN_KEYS); }

/* 1 when self maps key to a value equal to `value`, 0 when not, -1 error. */
static int has_item(PyObject *self, PyObject *key, PyObject *value) {
    size_t pos;
    int r = tf_frozen_find((tf_frozen *)self, key, &pos);
    if (r == 1) {
        PyObject *v = tf_frozen_value((tf_frozen *)self, pos);
        r = v ? PyObject_RichCompareBool(v, value, Py_EQ) : -1;
        Py_XDECREF(v);
    }
    return r;
}

/* 1 when `other` (a dict, a dict subclass or a FrozenMap) has exactly self's items, 0 when not, -1 error. A dict is
 * read through its own storage, as dict.__eq__ does, never through an items() or __len__ a subclass may override
 * (which could hand back anything but pairs). */
static int same_items(PyObject *self, PyObject *other) {
    PyObject *it, *pair, *key, *value;
    Py_ssize_t i = 0;
    int r;
    if (is_frozen_map(self, other)) {
        tf_frozen *a = (tf_frozen *)self, *b = (tf_frozen *)other;
        if (tf_frozen_len(self) != tf_frozen_len(other))
            return 0;
        if (a->buf.len == b->buf.len && memcmp(a->buf.buf, b->buf.buf, (size_t)a->buf.len) == 0)
            return 1;
        it = tf_frozen_iter_new(b, TF_FROZEN_ITEMS); /* yields (key, value) tuples, always */
        if (!it)
            return -1;
        while ((pair = PyIter_Next(it)) != NULL) {
            r = has_item(self, PyTuple_GET_ITEM(pair, 0), PyTuple_GET_ITEM(pair, 1));
            Py_DECREF(pair);
            if (r != 1) {
                Py_DECREF(it);
                return r;
            }
        }
        Py_DECREF(it);
        return PyErr_Occurred() ? -1 : 1;
    }
    if (tf_frozen_len(self) != PyDict_GET_SIZE(other))
        return 0;
    while (PyDict_Next(other, &i, &key, &value)) {
        /* the comparison may run Python code that changes the dict: hold what we compare */
        Py_INCREF(key);
        Py_INCREF(value);
        r = has_item(self, key, value);
        Py_DECREF(key);
        Py_DECREF(value);
        if (r != 1)
            return r;
    }
    return 1;
}

static PyObject *fmap_richcompare(PyObject *self, PyObject *other, int op) {
    int r;
    if ((op != Py_EQ && op != Py_NE) || !(PyDict_Check(other) || is_frozen_map(self, other)))
        Py_RETURN_NOTIMPLEMENTED;
    r = same_items(self, other);
    if (r < 0)
        return NULL;
    return PyBool_FromLong(op == Py_NE ? !r : r);
}

static Py_hash_t fmap_hash(PyObject *op) {
    tf_frozen *self = (tf_frozen *)op;
    PyObject *items, *fs;
    if (self->hash != -1)
        return self->hash;
    /* dicts are unhashable, so nothing constrains this; hashing the item set makes equal maps hash equal. */
    items = tf_frozen_iter_new(self, TF_FROZEN_ITEMS);
    if (!items)
        return -1;
    fs = PyFrozenSet_New(items);
    Py_DECREF(items);
    if (!fs)
        return -1;
    self->hash = PyObject_Hash(fs);
    Py_DECREF(fs);
    return self->hash;
}

static PyObject *fmap_repr(PyObject *op) {
    PyObject *d, *inner, *r;
    d = PyDict_New();
    if (!d)
        return NULL;
    if (PyDict_Merge(d, op, 1) < 0) {
        Py_DECREF(d);
        return NULL;
    }
    inner = PyObject_Repr(d);
    Py_DECREF(d);
    if (!inner)
        return NULL;
    r = PyUnicode_FromFormat(WHO "(%U)", inner);
    Py_DECREF(inner);
    return r;
}

/* ---- views --------------------------------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD tf_frozen *owner; /* strong reference */
    int mode;
} tf_frozen_view;

static const char *view_names[] = {"frozen_keys", "frozen_values", "frozen_items"};

static PyObject *view_new(PyObject *owner, int mode) {
    tf_state *st = tf_state_of(owner);
    tf_frozen_view *v;
    if (!st)
        return NULL;
    PyObject *types[] = {st->FrozenKeys, st->FrozenValues, st->FrozenItems}; /* indexed by mode */
    v = PyObject_GC_New(tf_frozen_view, (PyTypeObject *)types[mode]);
    if (!v)
        return NULL;
    v->owner = (tf_frozen *)Py_NewRef(owner);
    v->mode = mode;
    PyObject_GC_Track(v);
    return (PyObject *)v;
}

static PyObject *fmap_keys(PyObject *op, PyObject *unused) {
    (void)unused;
    return view_new(op, TF_FROZEN_KEYS);
}
static PyObject *fmap_values(PyObject *op, PyObject *unused) {
    (void)unused;
    return view_new(op, TF_FROZEN_VALUES);
}
static PyObject *fmap_items(PyObject *op, PyObject *unused) {
    (void)unused;
    return view_new(op, TF_FROZEN_ITEMS);
}

static Py_ssize_t view_len(PyObject *op) { return tf_frozen_len((PyObject *)((tf_frozen_view *)op)->owner); }

static PyObject *view_iter(PyObject *op) {
    tf_frozen_view *v = (tf_frozen_view *)op;
    return tf_frozen_iter_new(v->owner, v->mode);
}

static int view_contains(PyObject *op, PyObject *x) {
    tf_frozen_view *v = (tf_frozen_view *)op;
    size_t pos;
    int r;
    if (v->mode == TF_FROZEN_KEYS)
        return tf_frozen_find(v->owner, x, &pos);
    if (v->mode == TF_FROZEN_VALUES) {
        /* values are not indexed: a scan, as for dict.values() */
        PyObject *it = view_iter(op), *y;
        if (!it)
            return -1;
        while ((y = PyIter_Next(it)) != NULL) {
            r = PyObject_RichCompareBool(y, x, Py_EQ);
            Py_DECREF(y);
            if (r != 0) {
                Py_DECREF(it);
                return r;
            }
        }
        Py_DECREF(it);
        return PyErr_Occurred() ? -1 : 0;
    }
    if (!PyTuple_Check(x) || PyTuple_GET_SIZE(x) != 2)
        return 0;
    r = tf_frozen_find(v->owner, PyTuple_GET_ITEM(x, 0), &pos);
    if (r == 1) {
        PyObject *val = tf_frozen_value(v->owner, pos);
        if (!val)
            return -1;
        r = PyObject_RichCompareBool(val, PyTuple_GET_ITEM(x, 1), Py_EQ);
        Py_DECREF(val);
    }
    return r;
}

static PyObject *view_repr(PyObject *op) {
    tf_frozen_view *v = (tf_frozen_view *)op;
    PyObject *list = PySequence_List(op), *r;
    if (!list)
        return NULL;
    r = PyUnicode_FromFormat("%s(%R)", view_names[v->mode], list);
    Py_DECREF(list);
    return r;
}

static int view_traverse(PyObject *op, visitproc visit, void *arg) {
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((tf_frozen_view *)op)->owner);
    return 0;
}

/* No tp_clear: every method reads the owner, which is fixed for the view's life; a cycle through a view passes
 * through the owner's holder, which the collector clears instead (see tf_frozen_dealloc). */
static void view_dealloc(PyObject *op) {
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    Py_XDECREF(((tf_frozen_view *)op)->owner);
    tp->tp_free(op);
    Py_DECREF(tp);
}

/* ---- set operations of the keys and items views, as dict_keys and dict_items have them ------------------------
 * Each follows CPython's dict view code (Objects/dictobject.c), so results (down to which operand's elements an
 * intersection keeps) and errors are those of the dict views. The values view has none of them: neither has
 * dict_values. */

static PyObject *view_richcompare(PyObject *self, PyObject *other, int op);

/* The keys and items views are exactly the objects whose type has this comparison (the types cannot be
 * subclassed). Naming them by slot needs no module state, whose lookup would raise for an operand of a foreign
 * type; the values view's type has no comparison. */
static int is_set_view(PyObject *op) { return Py_TYPE(op)->tp_richcompare == view_richcompare; }

/* Operands measured by len() and tested by `in` cheaply: what dict views treat so (set, frozenset, dict keys and
 * items views), plus thrifty's own FrozenSet and keys/items views, which stand for those. */
static int set_like(PyObject *self, PyObject *op) {
    tf_state *st;
    if (PyAnySet_Check(op) || PyDictViewSet_Check(op) || is_set_view(op))
        return 1;
    st = tf_state_of(self); /* self is one of ours: never NULL */
    return st && Py_TYPE(op) == (PyTypeObject *)st->FrozenSetType;
}

/* ==, !=, <, <=, >, >= against set-like operands (anything else: NotImplemented, so == falls back to identity). */
static PyObject *view_richcompare(PyObject *self, PyObject *other, int op) {
    Py_ssize_t n, m;
    int r = 0;
    if (!set_like(self, other))
        Py_RETURN_NOTIMPLEMENTED;
    n = PyObject_Size(self);
    m = n < 0 ? -1 : PyObject_Size(other);
    if (m < 0)
        return NULL;
    switch (op) {
    case Py_EQ:
    case Py_NE:
        if (n == m)
            r = tf_frozen_scan(self, other, 0);
        if (op == Py_NE && r >= 0)
            r = !r;
        break;
    case Py_LT: r = n < m ? tf_frozen_scan(self, other, 0) : 0; break;
    case Py_LE: r = n <= m ? tf_frozen_scan(self, other, 0) : 0; break;
    case Py_GT: r = n > m ? tf_frozen_scan(other, self, 0) : 0; break;
    case Py_GE: r = n >= m ? tf_frozen_scan(other, self, 0) : 0; break;
    default: Py_RETURN_NOTIMPLEMENTED;
    }
    return r < 0 ? NULL : PyBool_FromLong(r);
}

/* a | b, a - b, a ^ b with the view on either side: set(a), then set's in-place `method` with b, which takes any
 * iterable (a non-iterable raises TypeError saying it is not iterable, as for dict views). A new built-in set, as
 * dict views return: results are usually short-lived; FrozenSet(result) freezes one again. */
static PyObject *view_set_op(PyObject *a, PyObject *b, const char *method) {
    PyObject *result = PySet_New(a), *r;
    if (!result)
        return NULL;
    r = PyObject_CallMethod(result, method, "(O)", b); /* "(O)": b is one argument even when it is a tuple */
    if (!r) {
        Py_DECREF(result);
        return NULL;
    }
    Py_DECREF(r);
    return result;
}
static PyObject *view_or(PyObject *a, PyObject *b) { return view_set_op(a, b, "update"); }
static PyObject *view_sub(PyObject *a, PyObject *b) { return view_set_op(a, b, "difference_update"); }
static PyObject *view_xor(PyObject *a, PyObject *b) { return view_set_op(a, b, "symmetric_difference_update"); }

/* a & b: the elements of the other operand that the view contains (dict views' intersection). */
static PyObject *view_and(PyObject *a, PyObject *b) {
    PyObject *self = a, *other = b, *result, *it, *x;
    Py_ssize_t n, m;
    if (!is_set_view(self)) { /* & is symmetric: the view may be the right operand */
        self = b;
        other = a;
    }
    n = PyObject_Size(self);
    if (n < 0)
        return NULL;
    /* a set at least as large does the work itself */
    if (PySet_CheckExact(other) && n <= PySet_GET_SIZE(other))
        return PyObject_CallMethod(other, "intersection", "(O)", self);
    /* of two views, iterate the smaller and look up in the larger */
    if (PyDictViewSet_Check(other) || is_set_view(other)) {
        m = PyObject_Size(other);
        if (m < 0)
            return NULL;
        if (m > n) {
            PyObject *t = self;
            self = other;
            other = t;
        }
    }
    result = PySet_New(NULL);
    it = result ? PyObject_GetIter(other) : NULL;
    if (!it)
        goto error;
    while ((x = PyIter_Next(it)) != NULL) {
        int r = PySequence_Contains(self, x);
        if (r > 0)
            r = PySet_Add(result, x) < 0 ? -1 : 1;
        Py_DECREF(x);
        if (r < 0)
            goto error;
    }
    if (PyErr_Occurred())
        goto error;
    Py_DECREF(it);
    return result;
error:
    Py_XDECREF(it);
    Py_XDECREF(result);
    return NULL;
}

static PyObject *view_isdisjoint(PyObject *self, PyObject *other) {
    PyObject *container = self, *items = other;
    int r;
    if (self == other)
        return PyBool_FromLong(view_len(self) == 0);
    /* iterate the smaller operand when both have a cheap len() and `in`; otherwise the iterable, once */
    if (set_like(self, other)) {
        Py_ssize_t m = PyObject_Size(other);
        if (m < 0)
            return NULL;
        if (m > view_len(self)) {
            container = other;
            items = self;
        }
    }
    r = tf_frozen_scan(items, container, 1);
    return r < 0 ? NULL : PyBool_FromLong(r);
}

static PyMethodDef set_view_methods[] = {
    {"isdisjoint", view_isdisjoint, METH_O, "True if the view and the iterable have no element in common."},
    {NULL, NULL, 0, NULL},
};

/* The keys and items types (one slot table, two types) have the set operations too. They are unhashable, as dict_keys
 * and dict_items are: a type with a comparison and no hash gets __hash__ = None. */
static PyType_Slot set_view_slots[] = {
    {Py_tp_dealloc, view_dealloc},
    {Py_tp_traverse, view_traverse},
    {Py_tp_iter, view_iter},
    {Py_tp_repr, view_repr},
    {Py_sq_length, view_len},
    {Py_sq_contains, view_contains},
    {Py_tp_richcompare, view_richcompare},
    {Py_tp_methods, set_view_methods},
    {Py_nb_and, view_and},
    {Py_nb_or, view_or},
    {Py_nb_subtract, view_sub},
    {Py_nb_xor, view_xor},
    {0, NULL},
};
static PyType_Slot values_slots[] = {
    {Py_tp_dealloc, view_dealloc},
    {Py_tp_traverse, view_traverse},
    {Py_tp_iter, view_iter},
    {Py_tp_repr, view_repr},
    {Py_sq_length, view_len},
    {Py_sq_contains, view_contains},
    {0, NULL},
};

#define VIEW_FLAGS                                                                                                     \
    (Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_DISALLOW_INSTANTIATION)

static PyType_Spec keys_spec = {
    .name = "thrifty._ext.frozen_keys",
    .basicsize = sizeof(tf_frozen_view),
    .flags = VIEW_FLAGS,
    .slots = set_view_slots,
};
static PyType_Spec values_spec = {
    .name = "thrifty._ext.frozen_values",
    .basicsize = sizeof(tf_frozen_view),
    .flags = VIEW_FLAGS,
    .slots = values_slots,
};
static PyType_Spec items_spec = {
    .name = "thrifty._ext.frozen_items",
    .basicsize = sizeof(tf_frozen_view),
    .flags = VIEW_FLAGS,
    .slots = set_view_slots,
};

/* ---- type ---------------------------------------------------------------------------------------------- */

static PyObject *fmap_frombuffer(PyObject *cls, PyObject *obj) {
    return tf_frozen_frombuffer((PyTypeObject *)cls, obj, 1, WHO);
}

static PyMethodDef fmap_methods[] = {
    {"get", (PyCFunction)(void (*)(void))fmap_get, METH_FASTCALL,
     "get(key, default=None, /): the value for key if present, else default."},
    {"keys", fmap_keys, METH_NOARGS, "A view of the keys (len, iteration, membership, set operations)."},
    {"values", fmap_values, METH_NOARGS, "A view of the values (len, iteration, membership by scan)."},
    {"items", fmap_items, METH_NOARGS,
     "A view of the (key, value) pairs (len, iteration, membership, set operations)."},
    {"tobytes", tf_frozen_tobytes, METH_NOARGS,
     "The portable, versioned, checksummed block (docs/format-frozen.md). Zero-copy for a built map."},
    {"frombuffer", fmap_frombuffer, METH_O | METH_CLASS,
     "FrozenMap.frombuffer(buffer): use a block from tobytes() in place (bytes, bytearray, mmap, memoryview).\n"
     "Keeps the buffer alive and exported; raises thrifty.CorruptData saying what is wrong with a bad block."},
    {"__reduce__", tf_frozen_reduce, METH_NOARGS, "Pickles as the block from tobytes()."},
    {"__class_getitem__", Py_GenericAlias, METH_O | METH_CLASS, "Type hints: FrozenMap[int] and the like."},
    {"__sizeof__", tf_frozen_sizeof, METH_NOARGS, "Bytes held: the object plus a block it built itself."},
    {NULL, NULL, 0, NULL},
};

PyDoc_STRVAR(fmap_doc, "FrozenMap(mapping_or_pairs=(), /, **kwargs)\n--\n\n"
                       "An immutable mapping stored in one compact block. Keys: all int (int64), all str or all\n"
                       "bytes; values: all int, all float, all str or all bytes. Built like dict() (the last\n"
                       "duplicate wins); iterates in its stored (hash) order. See docs/frozen.md.");

static PyType_Slot fmap_slots[] = {
    {Py_tp_doc, (void *)fmap_doc},
    {Py_tp_new, fmap_new},
    {Py_tp_dealloc, tf_frozen_dealloc},
    {Py_tp_traverse, tf_frozen_traverse},
    {Py_tp_iter, fmap_iter},
    {Py_tp_hash, fmap_hash},
    {Py_tp_repr, fmap_repr},
    {Py_tp_richcompare, fmap_richcompare},
    {Py_tp_methods, fmap_methods},
    {Py_tp_members, tf_frozen_members},
    {Py_mp_length, tf_frozen_len},
    {Py_mp_subscript, fmap_subscript},
    {Py_sq_contains, fmap_contains},
    {0, NULL},
};

static PyType_Spec fmap_spec = {
    .name = "thrifty.FrozenMap",
    .basicsize = sizeof(tf_frozen),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_MAPPING,
    .slots = fmap_slots,
};

int tf_fmap_add(PyObject *m, tf_state *st) {
    /* registered with the collections.abc view classes, as dict's views are */
    st->FrozenKeys = PyType_FromModuleAndSpec(m, &keys_spec, NULL);
    if (!st->FrozenKeys || tf_frozen_register_abc(st->FrozenKeys, "KeysView") < 0)
        return -1;
    st->FrozenValues = PyType_FromModuleAndSpec(m, &values_spec, NULL);
    if (!st->FrozenValues || tf_frozen_register_abc(st->FrozenValues, "ValuesView") < 0)
        return -1;
    st->FrozenItems = PyType_FromModuleAndSpec(m, &items_spec, NULL);
    if (!st->FrozenItems || tf_frozen_register_abc(st->FrozenItems, "ItemsView") < 0)
        return -1;
    st->FrozenMapType = PyType_FromModuleAndSpec(m, &fmap_spec, NULL);
    if (!st->FrozenMapType || PyModule_AddObjectRef(m, "FrozenMap", st->FrozenMapType) < 0)
        return -1;
    return tf_frozen_register_abc(st->FrozenMapType, "Mapping");
}
