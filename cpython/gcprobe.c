/* Two hooks the doctor's findings need from below the Python API (private, underscore names).
 *
 * _gc_release(garbage): what CPython's collector does to unreachable objects (tp_clear on each, while the list
 * keeps them alive) for objects the doctor had the collector save with gc.DEBUG_SAVEALL so it could look at them
 * first. Clearing drops their references to one another, so emptying the list afterwards frees them as the
 * collector would have.
 *
 * _gc_by_type(objects): the saved garbage grouped by type, the cycle probe's first pass over it; _gc_size(objects):
 * their sizes summed.
 *
 * _alloc_site(obj): tracemalloc's traceback of the block holding obj, most recent frame first. Unlike
 * tracemalloc.get_object_traceback, it finds the block of an instance with a managed __dict__ (CPython 3.11 puts
 * two more words before the GC header of those, and the stdlib function misses them).
 *
 * _strings_in(objects, min_len): every distinct str/bytes of min_len or more that the objects refer to (dict keys
 * included), descending into the untracked dicts and tuples below them — the duplicates finding's walk, in C
 * because it visits every reference in the heap and, run in Python, allocated (and tracemalloc traced) a list
 * entry for each.
 */
#include "pytable.h"
#include "thrifty_ext.h"
#include "tracker.h"

static PyObject *gc_release(PyObject *module, PyObject *garbage) {
    (void)module;
    if (!PyList_CheckExact(garbage)) {
        PyErr_Format(PyExc_TypeError, "_gc_release: expected gc.garbage (a list), got %.100s",
                     Py_TYPE(garbage)->tp_name);
        return NULL;
    }
    /* the list holds a reference to each item for the whole loop; items a clear removes stay alive until then */
    Py_ssize_t n = PyList_GET_SIZE(garbage);
    PyObject *keep = PyList_GetSlice(garbage, 0, n);
    if (!keep)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *o = PyList_GET_ITEM(keep, i);
        inquiry clear = Py_TYPE(o)->tp_clear;
        if (clear && PyObject_IS_GC(o))
            (void)clear(o);
    }
    if (PyList_SetSlice(garbage, 0, PyList_GET_SIZE(garbage), NULL) < 0) {
        Py_DECREF(keep);
        return NULL;
    }
    Py_DECREF(keep);
    return PyLong_FromSsize_t(n);
}

/* _gc_by_type(objects) -> {type: [objects of that type, in order]}: the cycle probe's first pass over each
 * collection's garbage, which in Python cost a dict call and a list append per object. */
static PyObject *gc_by_type(PyObject *module, PyObject *objects) {
    (void)module;
    if (!PyList_CheckExact(objects)) {
        PyErr_Format(PyExc_TypeError, "_gc_by_type: expected a list, got %.100s", Py_TYPE(objects)->tp_name);
        return NULL;
    }
    PyObject *out = PyDict_New();
    if (!out)
        return NULL;
    /* the length is read at each step: a finalizer run by a dict's or list's growth may change the list */
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(objects); i++) {
        PyObject *o = PyList_GET_ITEM(objects, i);
        Py_INCREF(o);
        PyObject *t = (PyObject *)Py_TYPE(o);
        PyObject *group = PyDict_GetItemWithError(out, t); /* borrowed; types hash by identity, run no Python */
        int rc;
        if (group) {
            rc = PyList_Append(group, o);
        } else if (PyErr_Occurred()) {
            rc = -1;
        } else if ((group = PyList_New(1)) != NULL) {
            Py_INCREF(o);
            PyList_SET_ITEM(group, 0, o);
            rc = PyDict_SetItem(out, t, group);
            Py_DECREF(group);
        } else {
            rc = -1;
        }
        Py_DECREF(o);
        if (rc < 0) {
            Py_DECREF(out);
            return NULL;
        }
    }
    return out;
}

/* _gc_size(objects) -> the sum of sys.getsizeof over a list: the cycle probe sizes every object of each collection's
 * garbage. A type whose __sizeof__ is object's, with no items and no tp_is_gc, gives every instance one size (its
 * basic size plus what the type fixes: the GC header, from 3.12 the managed-dict pre-header), so only the first
 * instance of a run of such objects is asked (the method call was most of the probe's time on a program whose
 * garbage is class instances); builtins have their call-free sizes (sizeof.c). */
static PyObject *gc_size(PyObject *module, PyObject *objects) {
    unsigned long long total = 0;
    PyTypeObject *same = NULL; /* held: the type of the last object asked, when its instances all have one size */
    size_t same_size = 0;
    PyObject *str_sizeof, *object_sizeof;
    (void)module;
    if (!PyList_CheckExact(objects)) {
        PyErr_Format(PyExc_TypeError, "_gc_size: expected a list, got %.100s", Py_TYPE(objects)->tp_name);
        return NULL;
    }
    str_sizeof = PyUnicode_InternFromString("__sizeof__");
    if (!str_sizeof)
        return NULL;
    object_sizeof = tf_py_type_lookup(&PyBaseObject_Type, str_sizeof); /* borrowed, from a static type */
    /* the length is read at each step: a __sizeof__ may change the list */
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(objects); i++) {
        PyObject *o = PyList_GET_ITEM(objects, i);
        PyTypeObject *t = Py_TYPE(o);
        size_t s;
        if (t == same) {
            total += same_size;
            continue;
        }
        Py_INCREF(o);
        Py_INCREF(t);
        s = tf_shallow_sizeof(o); /* may run Python code (a __sizeof__), which may change the list */
        Py_DECREF(o);
        if (s == (size_t)-1 && PyErr_Occurred()) {
            Py_DECREF(t);
            Py_XDECREF(same);
            Py_DECREF(str_sizeof);
            return NULL;
        }
        total += s;
        Py_CLEAR(same);
        /* looked up after the call: a __sizeof__ could have changed the type's */
        if (t->tp_itemsize == 0 && t->tp_is_gc == NULL && object_sizeof != NULL &&
            tf_py_type_lookup(t, str_sizeof) == object_sizeof) {
            same = t; /* takes the reference */
            same_size = s;
        } else {
            Py_DECREF(t);
        }
    }
    Py_XDECREF(same);
    Py_DECREF(str_sizeof);
    return PyLong_FromUnsignedLongLong(total);
}

static PyObject *alloc_site(PyObject *module, PyObject *obj) {
    (void)module;
    return tf_py_tracemalloc_traceback(tf_object_block(obj));
}

typedef struct {
    tf_pytable seen; /* the objects met: address -> 0 */
    PyObject *out;   /* the list returned */
    PyObject **stack;
    size_t depth, stack_cap;
    Py_ssize_t min_len;
} gp_scan;

/* 1 if p was new (and is now in the set), 0 if seen, -1 on error */
static int gp_add(gp_scan *sc, PyObject *p) {
    if (tf_pytable_room(&sc->seen, 4096) < 0)
        return -1;
    uint32_t before = sc->seen.t.count;
    (void)tf_hashtable_upsert(&sc->seen.t, (uint64_t)(uintptr_t)p, 0); /* never NULL: there is room */
    return sc->seen.t.count != before;
}

static int gp_visit(PyObject *p, void *arg) {
    gp_scan *sc = arg;
    if (!p)
        return 0;
    PyTypeObject *t = Py_TYPE(p);
    if (t == &PyUnicode_Type || t == &PyBytes_Type) {
        Py_ssize_t n = t == &PyUnicode_Type ? PyUnicode_GET_LENGTH(p) : PyBytes_GET_SIZE(p);
        if (n < sc->min_len)
            return 0;
        int added = gp_add(sc, p);
        return added <= 0 ? added : PyList_Append(sc->out, p);
    }
    if ((t == &PyDict_Type || t == &PyTuple_Type) && !PyObject_GC_IsTracked(p)) {
        int added = gp_add(sc, p);
        if (added <= 0)
            return added;
        if (sc->depth == sc->stack_cap) {
            size_t cap = sc->stack_cap ? sc->stack_cap * 2 : 256;
            PyObject **s = PyMem_Realloc(sc->stack, cap * sizeof(PyObject *));
            if (!s) {
                PyErr_NoMemory();
                return -1;
            }
            sc->stack = s;
            sc->stack_cap = cap;
        }
        sc->stack[sc->depth++] = p;
    }
    return 0;
}

static int gp_expand(gp_scan *sc, PyObject *o) {
    if (PyDict_Check(o)) {
        Py_ssize_t pos = 0;
        PyObject *k, *v;
        while (PyDict_Next(o, &pos, &k, &v))
            if (gp_visit(k, sc) < 0 || gp_visit(v, sc) < 0)
                return -1;
        return 0;
    }
    traverseproc tr = Py_TYPE(o)->tp_traverse;
    return PyObject_IS_GC(o) && tr ? tr(o, gp_visit, sc) : 0;
}

static PyObject *strings_in(PyObject *module, PyObject *args) {
    PyObject *objects;
    gp_scan sc = {0};
    (void)module;
    if (!PyArg_ParseTuple(args, "O!n:_strings_in", &PyList_Type, &objects, &sc.min_len))
        return NULL;
    sc.out = PyList_New(0);
    if (!sc.out)
        return NULL;
    /* the list keeps every object alive; appending to `out` allocates but runs no Python code */
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(objects); i++) {
        if (gp_expand(&sc, PyList_GET_ITEM(objects, i)) < 0)
            goto error;
        while (sc.depth)
            if (gp_expand(&sc, sc.stack[--sc.depth]) < 0)
                goto error;
    }
    tf_pytable_free(&sc.seen);
    PyMem_Free(sc.stack);
    return sc.out;
error:
    tf_pytable_free(&sc.seen);
    PyMem_Free(sc.stack);
    Py_DECREF(sc.out);
    return NULL;
}

static PyMethodDef gcprobe_methods[] = {
    {"_gc_release", gc_release, METH_O, "_gc_release(gc.garbage) -> count. Free saved garbage as the collector would."},
    {"_gc_by_type", gc_by_type, METH_O, "_gc_by_type(objects) -> {type: [objects]}. Group a list by exact type."},
    {"_gc_size", gc_size, METH_O, "_gc_size(objects) -> int. The sum of sys.getsizeof over a list."},
    {"_alloc_site", alloc_site, METH_O,
     "_alloc_site(obj) -> ((filename, lineno), ...) most recent first, or None when tracemalloc has no trace."},
    {"_strings_in", strings_in, METH_VARARGS,
     "_strings_in(objects, min_len) -> [str/bytes]. Each distinct long string the objects refer to, once."},
    {NULL, NULL, 0, NULL},
};

int tf_gcprobe_add(PyObject *m, tf_state *st) {
    (void)st;
    return PyModule_AddFunctions(m, gcprobe_methods);
}
