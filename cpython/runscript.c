/* The doctor's recorder runs a script target the way `python app.py` does (pymain_run_file): PyRun_FileExFlags
 * parses the file into an AST arena, compiles it, runs the module's code, and frees the arena only after that code
 * has returned. The arena (about 1.5 KiB per line of source: 0.9 MB for deltablue's 636 lines) is live for the
 * whole run, so it is part of what the program costs under plain python and part of its peak. compile() then
 * exec() frees it before the first line runs: the recorder did that, and its peak read up to 31% under
 * tracemalloc's on pyperformance's scripts (docs/doctor.md, "What the recorder changes"). */
#include "thrifty_ext.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

/* _run_script(path, globals): run the file as python runs its main script, in the dict `globals` (which the caller
 * prepared as python prepares __main__'s). path may instead be a file descriptor, 0 for `python -`: the script is read
 * from a duplicate of it, which shares its offset (a program reading its stdin after finds what python leaves), and
 * its code is named "<stdin>", as python names it. Returns what the module's code returned (None), or raises what it
 * raised; an unopenable file raises OSError naming it, as open() would. Runs Python code: call it where anything may
 * happen. */
static PyObject *run_script(PyObject *module, PyObject *args) {
    PyObject *path, *encoded, *result;
    PyObject *globals;
    PyCompilerFlags flags;
    FILE *fp;
    (void)module;
    if (!PyArg_ParseTuple(args, "OO!:_run_script", &path, &PyDict_Type, &globals))
        return NULL;
    if (PyLong_Check(path)) {
        long fd = PyLong_AsLong(path);
        int copy;
        if (fd == -1 && PyErr_Occurred())
            return NULL;
        errno = EBADF;
        copy = fd >= 0 && fd <= INT_MAX ? dup((int)fd) : -1;
        fp = copy >= 0 ? fdopen(copy, "rb") : NULL;
        if (!fp) {
            if (copy >= 0)
                close(copy);
            return PyErr_SetFromErrno(PyExc_OSError);
        }
        encoded = PyBytes_FromString("<stdin>");
        if (!encoded) {
            fclose(fp);
            return NULL;
        }
    } else {
        if (!PyUnicode_Check(path)) {
            PyErr_Format(PyExc_TypeError, "_run_script: path must be str or a file descriptor, not %.100s",
                         Py_TYPE(path)->tp_name);
            return NULL;
        }
        if (!PyUnicode_FSConverter(path, &encoded))
            return NULL;
        errno = 0;
        fp = fopen(PyBytes_AS_STRING(encoded), "rb");
        if (!fp) {
            PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, path);
            Py_DECREF(encoded);
            return NULL;
        }
    }
    /* python's flags for its main script: no inherited future features, this version's grammar */
    flags.cf_flags = 0;
    flags.cf_feature_version = PY_MINOR_VERSION;
    /* closeit=1: the file is closed once parsed, before the module runs (as python closes it) */
    result = PyRun_FileExFlags(fp, PyBytes_AS_STRING(encoded), Py_file_input, globals, globals, 1, &flags);
    Py_DECREF(encoded);
    return result;
}

static PyMethodDef runscript_methods[] = {
    {"_run_script", run_script, METH_VARARGS,
     "_run_script(path, globals) -> None. Run a script file (or a file descriptor: 0 for `python -`) as python runs "
     "its main script, its AST live while it runs."},
    {NULL, NULL, 0, NULL},
};

int tf_runscript_add(PyObject *m, tf_state *st) {
    (void)st;
    return PyModule_AddFunctions(m, runscript_methods);
}
