/* The code object of importlib's _find_and_load, which the tracker turns into import pseudo-frames (tracker_stack.c,
 * walk_stack): a stack that passes through it is recorded with ("<import>", 0, module name) in its place, so the
 * doctor can say which import left which bytes live. */
#include "tracker_tables.h"

/* The code object (new reference) of the Python function `module.attr` or `module.attr.method` (method NULL: no
 * second step), when that code was compiled from `file`; NULL without an exception when the module is not imported,
 * a step is missing or the code is not importlib's own (a patched importlib gets no pseudo-frames rather than wrong
 * ones). NULL with an exception only when a string cannot be made. Looked up once per run, so the hook compares one
 * pointer. */
static PyCodeObject *frozen_code(const char *module, const char *attr, const char *method, const char *file) {
    PyObject *name = PyUnicode_FromString(module), *obj, *next;
    PyCodeObject *code = NULL;
    if (!name)
        return NULL;
    obj = PyImport_GetModule(name);
    Py_DECREF(name);
    if (obj) {
        next = PyObject_GetAttrString(obj, attr);
        Py_SETREF(obj, next);
    }
    if (obj && method) {
        next = PyObject_GetAttrString(obj, method);
        Py_SETREF(obj, next);
    }
    PyErr_Clear();
    if (obj && PyFunction_Check(obj)) {
        PyCodeObject *c = (PyCodeObject *)PyFunction_GET_CODE(obj);
        if (PyUnicode_CompareWithASCIIString(c->co_filename, file) == 0)
            code = (PyCodeObject *)Py_NewRef((PyObject *)c);
    }
    Py_XDECREF(obj);
    return code;
}

PyObject *tf_find_and_load_code(void) {
    PyCodeObject *c = frozen_code("_frozen_importlib", "_find_and_load", NULL, "<frozen importlib._bootstrap>");
    if (c && (PyUnicode_CompareWithASCIIString(c->co_name, "_find_and_load") != 0 || c->co_argcount < 1))
        Py_CLEAR(c);
    return (PyObject *)c;
}

PyObject *tf_importlib_external_file(void) {
    PyCodeObject *c =
        frozen_code("_frozen_importlib_external", "SourceLoader", "get_code", "<frozen importlib._bootstrap_external>");
    PyObject *file = c ? Py_NewRef(c->co_filename) : NULL;
    Py_XDECREF(c);
    return file;
}
