/* _boxed_numbers(objects, min_len, deque_type): the doctor's "numeric data held as Python objects" walk (private).
 *
 * Finds every list, exact tuple or exact deque of min_len items or more that holds only floats or only ints (exact
 * types; bool is not an int here) among the objects and the untracked tuples and dicts below them — CPython untracks a
 * tuple of atoms, so a tuple of floats is never in gc.get_objects() and is reached through the container that holds it.
 * Returns [(container, "f" or "i", smallest, largest, address of a list's item array or None)]; ints that do not fit 64
 * bits are not reported (no typed array holds them). In C because it visits every reference in the heap, and each
 * container's items: run in Python, the walk allocated (and tracemalloc traced) an object per item visited.
 */
#include "thrifty_ext.h"

typedef struct {
    Py_ssize_t floats, ints, n;
    long long lo, hi;
    int other; /* an item that is neither an exact float nor an exact int fitting 64 bits */
} np_items;

static int np_item(PyObject *p, void *arg) {
    np_items *it = arg;
    it->n++;
    if (PyFloat_CheckExact(p)) {
        it->floats++;
    } else if (PyLong_CheckExact(p)) {
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(p, &overflow);
        if (overflow) {
            it->other = 1;
            return 1;
        }
        if (it->ints == 0 || v < it->lo)
            it->lo = v;
        if (it->ints == 0 || v > it->hi)
            it->hi = v;
        it->ints++;
    } else {
        it->other = 1;
        return 1; /* stops the traversal: the first non-number settles it */
    }
    if (it->floats && it->ints) { /* mixed: array('d') could hold it, but it is not one kind of number */
        it->other = 1;
        return 1;
    }
    return 0;
}

typedef struct {
    PyObject *more; /* untracked tuples/dicts found below the objects, walked in turn */
    PyObject *seen; /* set of their addresses */
} np_walk;

static int np_below(PyObject *p, void *arg) {
    np_walk *w = arg;
    if (!p || !(PyTuple_CheckExact(p) || PyDict_CheckExact(p)) || PyObject_GC_IsTracked(p))
        return 0;
    PyObject *key = PyLong_FromVoidPtr(p);
    if (!key)
        return -1;
    int had = PySet_Contains(w->seen, key);
    int rc = had < 0 ? -1 : had ? 0 : PySet_Add(w->seen, key) < 0 ? -1 : PyList_Append(w->more, p);
    Py_DECREF(key);
    return rc;
}

/* Appends (o, kind, lo, hi) to out when o is a numbers-only sequence of min_len or more; 0 or -1. */
static int np_check(PyObject *o, Py_ssize_t min_len, PyObject *deque_type, PyObject *out) {
    /* sizes read from the objects themselves: a subclass's __len__ would run Python code in the middle of the walk */
    Py_ssize_t n = PyList_Check(o)                        ? PyList_GET_SIZE(o)
                   : PyTuple_CheckExact(o)                ? PyTuple_GET_SIZE(o)
                   : (PyObject *)Py_TYPE(o) == deque_type ? PyObject_Size(o)
                                                          : -1;
    if (n < 0)
        return PyErr_Occurred() ? -1 : 0;
    if (n < min_len)
        return 0;
    np_items it = {0};
    if (PyList_Check(o)) { /* a subclass may traverse more than its items */
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(o) && !it.other; i++)
            (void)np_item(PyList_GET_ITEM(o, i), &it);
    } else if (PyTuple_CheckExact(o)) {
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(o) && !it.other; i++)
            (void)np_item(PyTuple_GET_ITEM(o, i), &it);
    } else { /* a deque: its iterator is C, and its traverse may visit its type too */
        PyObject *iter = PyObject_GetIter(o), *item;
        if (!iter)
            return -1;
        while (!it.other && (item = PyIter_Next(iter))) {
            (void)np_item(item, &it);
            Py_DECREF(item);
        }
        Py_DECREF(iter);
    }
    if (PyErr_Occurred())
        return -1;
    if (it.other || it.n < min_len)
        return 0;
    /* a list's item array: where the list last grew, for a list object that came from the free list */
    PyObject *items = PyList_Check(o) ? PyLong_FromVoidPtr(((PyListObject *)o)->ob_item) : Py_NewRef(Py_None);
    if (!items)
        return -1;
    PyObject *row = it.floats ? Py_BuildValue("(OsiiN)", o, "f", 0, 0, items)
                              : Py_BuildValue("(OsLLN)", o, "i", it.lo, it.hi, items);
    if (!row)
        return -1;
    int rc = PyList_Append(out, row);
    Py_DECREF(row);
    return rc;
}

static PyObject *boxed_numbers(PyObject *module, PyObject *args) {
    PyObject *objects, *deque_type;
    Py_ssize_t min_len;
    np_walk w = {NULL, NULL};
    PyObject *out = NULL;
    (void)module;
    if (!PyArg_ParseTuple(args, "O!nO:_boxed_numbers", &PyList_Type, &objects, &min_len, &deque_type))
        return NULL;
    if (!(w.more = PyList_New(0)) || !(w.seen = PySet_New(NULL)) || !(out = PyList_New(0)))
        goto error;
    /* `more` keeps what it holds alive, but `objects` is the caller's: a row or a deque iterator np_check allocates can
     * start a collection whose finalizers change that list, so each object is held while it is looked at */
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(objects); i++) {
        PyObject *o = Py_NewRef(PyList_GET_ITEM(objects, i));
        traverseproc tr = Py_TYPE(o)->tp_traverse;
        int bad = np_check(o, min_len, deque_type, out) < 0 || (PyObject_IS_GC(o) && tr && tr(o, np_below, &w) < 0);
        Py_DECREF(o);
        if (bad)
            goto error;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(w.more); i++) { /* grows while walked: breadth first */
        PyObject *o = PyList_GET_ITEM(w.more, i);
        if (np_check(o, min_len, deque_type, out) < 0)
            goto error;
        if (PyDict_CheckExact(o)) {
            Py_ssize_t pos = 0;
            PyObject *k, *v;
            while (PyDict_Next(o, &pos, &k, &v))
                if (np_below(k, &w) < 0 || np_below(v, &w) < 0)
                    goto error;
        } else if (Py_TYPE(o)->tp_traverse(o, np_below, &w) < 0) {
            goto error;
        }
    }
    Py_DECREF(w.more);
    Py_DECREF(w.seen);
    return out;
error:
    Py_XDECREF(w.more);
    Py_XDECREF(w.seen);
    Py_XDECREF(out);
    return NULL;
}

static PyMethodDef numprobe_methods[] = {
    {"_boxed_numbers", boxed_numbers, METH_VARARGS,
     "_boxed_numbers(objects, min_len, deque_type) -> [(seq, 'f' or 'i', lo, hi, items)]. Numbers-only sequences."},
    {NULL, NULL, 0, NULL},
};

int tf_numprobe_add(PyObject *m, tf_state *st) {
    (void)st;
    return PyModule_AddFunctions(m, numprobe_methods);
}
