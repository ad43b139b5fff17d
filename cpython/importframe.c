/* The code object of importlib's _find_and_load, which the tracker turns into import pseudo-frames (tracker_stack.c,
 * walk_stack): a stack that passes through it is recorded with ("<import>", 0, module name) in its place, so the
 * doctor can say which import left which bytes live. */
#include "tracker_tables.h"

/* importlib's _find_and_load code object (new reference), or NULL (no exception) when it cannot be found: then no
 * import pseudo-frames. Identified once per run by its module, name and file, so the hook compares one pointer. */
PyObject *tf_find_and_load_code(void) {
    PyObject *name = PyUnicode_FromString("_frozen_importlib"), *mod, *fn = NULL, *code = NULL;
    if (!name)
        return NULL;
    mod = PyImport_GetModule(name);
    Py_DECREF(name);
    if (mod) {
        fn = PyObject_GetAttrString(mod, "_find_and_load");
        Py_DECREF(mod);
    }
    PyErr_Clear();
    if (fn && PyFunction_Check(fn)) {
        PyCodeObject *c = (PyCodeObject *)PyFunction_GET_CODE(fn);
        if (PyUnicode_CompareWithASCIIString(c->co_name, "_find_and_load") == 0 &&
            PyUnicode_CompareWithASCIIString(c->co_filename, "<frozen importlib._bootstrap>") == 0 &&
            c->co_argcount >= 1)
            code = Py_NewRef((PyObject *)c);
    }
    Py_XDECREF(fn);
    return code;
}

PyObject *tf_importlib_external_file(void) {
    PyObject *name = PyUnicode_FromString("_frozen_importlib_external"), *mod, *loader = NULL, *fn = NULL, *file = NULL;
    if (!name)
        return NULL;
    mod = PyImport_GetModule(name);
    Py_DECREF(name);
    if (mod) {
        loader = PyObject_GetAttrString(mod, "SourceLoader");
        Py_DECREF(mod);
    }
    if (loader) {
        fn = PyObject_GetAttrString(loader, "get_code");
        Py_DECREF(loader);
    }
    PyErr_Clear();
    if (fn && PyFunction_Check(fn)) {
        PyObject *f = ((PyCodeObject *)PyFunction_GET_CODE(fn))->co_filename;
        if (PyUnicode_CompareWithASCIIString(f, "<frozen importlib._bootstrap_external>") == 0)
            file = Py_NewRef(f);
    }
    Py_XDECREF(fn);
    return file;
}
