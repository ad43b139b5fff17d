/* Every private or unstable CPython API the binding uses, in one place, with a branch per supported version.
 *
 * Why one header: a private API changes without notice between minor versions (3.13 moved tracemalloc.h,
 * _PySet_NextEntry, _PyDict_SizeOf and _PySys_GetSizeOf into internal headers; 3.12 rewrote the frame stack). A
 * binding file calls the tf_py_* wrapper, never the private name, so porting to a new version is this file only, and
 * a version nobody has tested does not build: it stops here with a message instead of reading memory through a
 * struct layout that has moved.
 *
 * Supported: CPython 3.11, 3.12, 3.13, 3.14 (docs/install.md says which of them run the test suite here).
 */
#ifndef THRIFTY_COMPAT_H
#define THRIFTY_COMPAT_H

#include <Python.h>

#if PY_VERSION_HEX < 0x030B0000 || PY_VERSION_HEX >= 0x030F0000
#error                                                                                                                 \
    "thrifty supports CPython 3.11 to 3.14: its tracker and size walk read interpreter internals that differ in every version; see docs/install.md"
#endif
#ifdef Py_GIL_DISABLED
#error "thrifty does not support the free-threaded build of CPython (its tables rely on the GIL); use the default build"
#endif

/* ---- exported functions that 3.13 moved to internal headers ------------------------------------------------------
 * They are still exported (PyAPI_FUNC) but the internal headers need Py_BUILD_CORE, which would pull the whole
 * internal world into every file. The prototypes below are copied from the version's own header by hand and are
 * checked by the compiler against nothing, so each is limited to the versions where it was read off that header. */
#if PY_VERSION_HEX < 0x030D0000
#include <tracemalloc.h> /* _PyTraceMalloc_GetTraceback */
#else
PyAPI_FUNC(int) _PySet_NextEntry(PyObject *set, Py_ssize_t *pos, PyObject **key, Py_hash_t *hash);
PyAPI_FUNC(Py_ssize_t) _PyDict_SizeOf(PyDictObject *);
PyAPI_FUNC(size_t) _PySys_GetSizeOf(PyObject *);
PyAPI_FUNC(PyObject *) _PyTraceMalloc_GetTraceback(unsigned int domain, uintptr_t ptr);
#endif

/* Shrink (or grow) a bytes object that nobody else holds yet; on failure *b is released and set to NULL. Public in
 * every supported version's cpython/bytesobject.h, still underscore-named. */
static inline int tf_py_bytes_resize(PyObject **b, Py_ssize_t n) { return _PyBytes_Resize(b, n); }

/* After hashing `key` failed: on 3.14+, name the container in a TypeError as dict and set lookups there do ("cannot
 * use 'list' as a dict key (unhashable type: 'list')"); earlier versions keep the hash's own message. `as_what` is "a
 * dict key" or "a set element". Other exceptions pass through untouched. Returns -1. */
static inline int tf_py_unhashable(PyObject *key, const char *as_what) {
#if PY_VERSION_HEX >= 0x030E0000
    PyObject *exc = PyErr_GetRaisedException();
    if (exc && Py_IS_TYPE(exc, (PyTypeObject *)PyExc_TypeError)) {
        PyErr_Format(PyExc_TypeError, "cannot use '%T' as %s (%S)", key, as_what, exc);
        Py_DECREF(exc);
    } else {
        PyErr_SetRaisedException(exc);
    }
#else
    (void)key;
    (void)as_what;
#endif
    return -1;
}

/* Iterate an exact set or frozenset without an iterator object: borrowed key and its stored hash. 1 while there are
 * entries, 0 at the end. The caller must not run Python code between steps (the set could change). */
static inline int tf_py_set_next(PyObject *set, Py_ssize_t *pos, PyObject **key, Py_hash_t *hash) {
    return _PySet_NextEntry(set, pos, key, hash);
}

/* dict.__sizeof__() without the method call. */
static inline size_t tf_py_dict_sizeof(PyObject *dict) { return (size_t)_PyDict_SizeOf((PyDictObject *)dict); }

/* int.__sizeof__() of an exact int, without the call (a deep sizeof meets ints by the thousand): the basic size
 * (the offset of the digits) plus one digit per digit, at least one, also for zero. The digit count moved from ob_size
 * into lv_tag in 3.12. */
static inline size_t tf_py_int_sizeof(PyObject *o) {
#if PY_VERSION_HEX < 0x030C0000
    Py_ssize_t size = Py_SIZE(o);
    size_t n = (size_t)(size < 0 ? -size : size);
#else
    size_t n = (size_t)(((PyLongObject *)o)->long_value.lv_tag >> _PyLong_NON_SIZE_BITS);
#endif
    return (size_t)PyLong_Type.tp_basicsize + (n > 1 ? n : 1) * (size_t)PyLong_Type.tp_itemsize;
}

/* 1 when str.__sizeof__() of `o` is sizeof(PyASCIIObject) + length + 1: a compact ASCII str, whose UTF-8 form is its
 * own data, and before 3.12 one without a cached wchar_t copy. */
static inline int tf_py_str_compact_ascii(PyObject *o) {
#if PY_VERSION_HEX < 0x030C0000
    return PyUnicode_IS_COMPACT_ASCII(o) && ((PyASCIIObject *)o)->wstr == NULL;
#else
    return PyUnicode_IS_COMPACT_ASCII(o);
#endif
}

/* sys.getsizeof(o): __sizeof__ plus the GC header; (size_t)-1 with an exception set when __sizeof__ fails. */
static inline size_t tf_py_getsizeof(PyObject *o) { return _PySys_GetSizeOf(o); }

/* The attribute `name` (an interned str) as the type's MRO defines it, borrowed, or NULL; no descriptor is called.
 * Exported and declared in cpython/object.h in every supported version. It looks in each class's dict, which can run
 * an odd key's __eq__: callers hold what they must keep alive. */
static inline PyObject *tf_py_type_lookup(PyTypeObject *type, PyObject *name) { return _PyType_Lookup(type, name); }

/* tracemalloc's traceback of the block at `ptr` (domain 0 = the Python heap), or None when it has none. */
static inline PyObject *tf_py_tracemalloc_traceback(uintptr_t ptr) { return _PyTraceMalloc_GetTraceback(0, ptr); }

/* ---- frozen-table lookups (cpython/frozen.c): reading a key without a call ---------------------------------------
 * A lookup in a FrozenSet costs about what frozenset's does only if converting the key costs next to nothing, so the
 * int and str key paths read the objects' fields here rather than through PyLong_AsLongLongAndOverflow (a call, an
 * overflow protocol and a digit loop) or PyObject_Hash. */

/* The value of an int object (bool and subclasses included: PyLong_Check) when it fits int64: 1 with *out set, or 0
 * when it does not fit, so that no int64 equals it. Reads the digits: 3.11 keeps the sign and digit count in
 * ob_size, 3.12+ in lv_tag (count << 3 | sign, sign 0 positive, 1 zero, 2 negative). */
static inline int tf_py_long_int64(PyObject *o, int64_t *out) {
#if PyLong_SHIFT == 30
    PyLongObject *l = (PyLongObject *)o;
    const digit *d;
    uint64_t mag;
    size_t nd;
    int neg;
#if PY_VERSION_HEX < 0x030C0000
    Py_ssize_t size = Py_SIZE(o);
    neg = size < 0;
    nd = (size_t)(neg ? -size : size);
    d = l->ob_digit;
#else
    uintptr_t tag = l->long_value.lv_tag;
    neg = (tag & _PyLong_SIGN_MASK) == 2;
    nd = (size_t)(tag >> _PyLong_NON_SIZE_BITS);
    d = l->long_value.ob_digit;
#endif
    switch (nd) {
    case 0: mag = 0; break;
    case 1: mag = d[0]; break;
    case 2: mag = d[0] | (uint64_t)d[1] << 30; break;
    case 3:
        if (d[2] >> 4) /* 2**64 or more */
            return 0;
        mag = d[0] | (uint64_t)d[1] << 30 | (uint64_t)d[2] << 60;
        break;
    default: return 0;
    }
    if (neg) {
        if (mag > (uint64_t)1 << 63)
            return 0;
        *out = mag == (uint64_t)1 << 63 ? INT64_MIN : -(int64_t)mag;
    } else {
        if (mag > (uint64_t)INT64_MAX)
            return 0;
        *out = (int64_t)mag;
    }
    return 1;
#else /* 15-bit digits: the API's own conversion */
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    *out = (int64_t)v;
    return !overflow;
#endif
}

/* A str's hash if it has already been computed (every str used as a dict key or set element has one), else -1.
 * PyASCIIObject.hash in every supported version. */
static inline Py_hash_t tf_py_str_cached_hash(PyObject *s) { return ((PyASCIIObject *)s)->hash; }

/* hash() of a str whose characters are the `len` ASCII bytes at p, without making the str: CPython hashes a str's
 * 1-byte-per-character storage with its bytes hash. 3.13 moved _Py_HashBytes into an internal header (still
 * exported; the prototype is that header's); 3.14 made it public as Py_HashBuffer. */
#if PY_VERSION_HEX >= 0x030D0000 && PY_VERSION_HEX < 0x030E0000
PyAPI_FUNC(Py_hash_t) _Py_HashBytes(const void *, Py_ssize_t);
#endif
static inline Py_hash_t tf_py_ascii_hash(const void *p, Py_ssize_t len) {
#if PY_VERSION_HEX >= 0x030E0000
    return Py_HashBuffer(p, len);
#else
    return _Py_HashBytes(p, len);
#endif
}

/* ---- the interpreter's frame stack (the tracker's fast path) ----------------------------------------------------
 * Only a file that defines TF_COMPAT_FRAMES before its first include gets this part: it needs Py_BUILD_CORE and the
 * version's internal frame header, which no other file should see. The version's own static inline helpers
 * (_PyFrame_IsIncomplete, _PyInterpreterFrame_LASTI) are used wherever they exist, so their rules stay CPython's.
 * 3.11-3.12: the top frame hangs off tstate->cframe; 3.13+: tstate->current_frame. 3.12+ push shim frames owned by
 * the C stack; 3.13+ frames may run a non-code "executable"; 3.14 holds f_executable and locals as tagged stack
 * references. */
#ifdef TF_COMPAT_FRAMES
#ifndef Py_BUILD_CORE
#define Py_BUILD_CORE 1
#endif
#if PY_VERSION_HEX >= 0x030E0000
#include "internal/pycore_interpframe.h"
#else
#include "internal/pycore_frame.h"
#endif

typedef _PyInterpreterFrame tf_py_frame;

/* The innermost frame of `ts` (NULL when it runs no Python code), and the one that called `f`. */
static inline tf_py_frame *tf_py_frame_top(PyThreadState *ts) {
#if PY_VERSION_HEX < 0x030D0000
    return ts->cframe ? ts->cframe->current_frame : NULL;
#else
    return ts->current_frame;
#endif
}
static inline tf_py_frame *tf_py_frame_back(tf_py_frame *f) { return f->previous; }

/* The code object a stack should show for `f`, or NULL for a frame to skip: a shim the interpreter pushed for a C
 * call, one that runs no code object, or one still being set up (incomplete: its prologue makes cells or the
 * generator, which allocate). On 3.11 only the innermost frame (`top`) is asked whether it is incomplete: an outer
 * frame is one only when a finalizer runs Python code from inside a prologue's allocation, and that frame then shows
 * at its first line; the check costs a load of the code object's header and a compare for every frame of every
 * traced allocation's stack (~12 deep), a quarter of the walk. From 3.12 on every frame is asked: the interpreter
 * pushes frames that stay "incomplete" while they sit under others (3.13's shim under a class's `__init__`, whose
 * code is named "__init__" in a file "__init__", showed as the user's own frame when only the top was asked).
 * Borrowed. */
static inline PyCodeObject *tf_py_frame_code(tf_py_frame *f, const int top) {
#if PY_VERSION_HEX < 0x030C0000
    PyCodeObject *code = f->f_code;
    /* _PyFrame_IsIncomplete, with the code object loaded once */
    if (top && f->owner != FRAME_OWNED_BY_GENERATOR && f->prev_instr < _PyCode_CODE(code) + code->_co_firsttraceable)
        return NULL;
    return code;
#elif PY_VERSION_HEX < 0x030D0000
    (void)top;
    if (f->owner == FRAME_OWNED_BY_CSTACK || _PyFrame_IsIncomplete(f))
        return NULL;
    return f->f_code;
#elif PY_VERSION_HEX < 0x030E0000
    (void)top;
    if (f->owner == FRAME_OWNED_BY_CSTACK || !PyCode_Check(f->f_executable) || _PyFrame_IsIncomplete(f))
        return NULL;
    return (PyCodeObject *)f->f_executable;
#else
    (void)top;
    if (f->owner >= FRAME_OWNED_BY_INTERPRETER || PyStackRef_IsNull(f->f_executable))
        return NULL;
    PyObject *ex = PyStackRef_AsPyObjectBorrow(f->f_executable);
    if (!PyCode_Check(ex) || _PyFrame_IsIncomplete(f))
        return NULL;
    return (PyCodeObject *)ex;
#endif
}

/* The instruction pointer of `f` (into its code object's bytecode): with the code object it names the position. */
static inline const void *tf_py_frame_instr(tf_py_frame *f) {
#if PY_VERSION_HEX < 0x030D0000
    return f->prev_instr;
#else
    return f->instr_ptr;
#endif
}

/* The instruction `f` is executing, in code units from the start of its code (for a frame tf_py_frame_code kept). */
static inline int tf_py_frame_lasti(tf_py_frame *f) { return _PyInterpreterFrame_LASTI(f); }

/* Fast local i of `f` (its i-th argument for i < co_argcount), borrowed, or NULL when unset. */
static inline PyObject *tf_py_frame_local(tf_py_frame *f, int i) {
#if PY_VERSION_HEX < 0x030E0000
    return f->localsplus[i];
#else
    return PyStackRef_IsNull(f->localsplus[i]) ? NULL : PyStackRef_AsPyObjectBorrow(f->localsplus[i]);
#endif
}
#endif /* TF_COMPAT_FRAMES */

#endif
