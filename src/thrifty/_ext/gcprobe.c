/* Two hooks the doctor's findings need from below the Python API (private, underscore names).
 *
 * _gc_release(garbage): what CPython's collector does to unreachable objects (tp_clear on each, while the list
 * keeps them alive) for objects the doctor had the collector save with gc.DEBUG_SAVEALL so it could look at them
 * first. Clearing drops their references to one another, so emptying the list afterwards frees them as the
 * collector would have.
 *
 * _alloc_site(obj): tracemalloc's traceback of the block holding obj, most recent frame first. Unlike
 * tracemalloc.get_object_traceback, it finds the block of an instance with a managed __dict__ (CPython 3.11 puts
 * two more words before the GC header of those, and the stdlib function misses them).
 */
#include "thrifty_ext.h"

#include <tracemalloc.h>

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

static PyObject *alloc_site(PyObject *module, PyObject *obj) {
    (void)module;
    PyTypeObject *t = Py_TYPE(obj);
    size_t pre = PyObject_IS_GC(obj) ? 2 * sizeof(void *) : 0;
    if (PyType_HasFeature(t, Py_TPFLAGS_MANAGED_DICT)
#ifdef Py_TPFLAGS_MANAGED_WEAKREF
        || PyType_HasFeature(t, Py_TPFLAGS_MANAGED_WEAKREF)
#endif
    )
        pre += 2 * sizeof(void *);
    return _PyTraceMalloc_GetTraceback(0, (uintptr_t)obj - pre);
}

static PyMethodDef gcprobe_methods[] = {
    {"_gc_release", gc_release, METH_O, "_gc_release(gc.garbage) -> count. Free saved garbage as the collector would."},
    {"_alloc_site", alloc_site, METH_O,
     "_alloc_site(obj) -> ((filename, lineno), ...) most recent first, or None when tracemalloc has no trace."},
    {NULL, NULL, 0, NULL},
};

int tf_gcprobe_add(PyObject *m, tf_state *st) {
    (void)st;
    return PyModule_AddFunctions(m, gcprobe_methods);
}
