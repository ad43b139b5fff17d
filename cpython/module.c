/* thrifty._ext — the module object: exceptions, module state, and the list of parts that add their types. */
#include "thrifty_ext.h"

#include <stddef.h>

/* The parts, in the order they are added. A new part declares its add function in thrifty_ext.h and adds it to one
 * of the two lists.
 *
 * The doctor's recorder imports this module into the process it measures, where it uses the tracker and the run
 * file only: creating every data-structure type there (their type objects, method descriptors, docstrings, the
 * FrozenSet/FrozenMap ABC registrations) cost the target ~90 KB of heap that `python script.py` never spends. So
 * the parts that only add types and functions no other part needs at import are added on first use: the first
 * lookup of a name the module lacks (module __getattr__, PEP 562, as `thrifty` itself loads its names), or dir().
 * `lazy_slot` is the state slot a lazy part sets: non-NULL once it is added. */
/* clang-format off */
static const tf_part_add_fn tf_parts[] = {
    tf_tracker_add,         /* tracker.c */
    tf_runfile_add,         /* runfile.c: the doctor's run file */
    tf_runfile_read_add,    /* runfile_read.c: a snapshot's stacks, read back */
    tf_report_groups_add,   /* report_groups.c: the analyzer's pass over a run's stacks */
    tf_runscript_add,       /* runscript.c: the recorder runs a script as python does */
    tf_parentdeath_add,     /* parentdeath.c: the recorder ends with the doctor */
    tf_sizeof_add,          /* sizeof.c */
    tf_gcprobe_add,         /* gcprobe.c: the doctor's private gc/tracemalloc hooks */
    tf_numprobe_add,        /* numprobe.c: the doctor's numbers-held-as-objects walk */
    NULL,
};

static const struct {
    tf_part_add_fn add;
    size_t lazy_slot; /* offsetof(tf_state, ...) */
} tf_lazy_parts[] = {
    {tf_ring_add, offsetof(tf_state, Ring)},                      /* ring.c (+ ring_iter.c, ring_view.c) */
    {tf_fset_add, offsetof(tf_state, FrozenSetType)},             /* fset.c */
    {tf_fmap_add, offsetof(tf_state, FrozenMapType)},             /* fmap.c */
    {tf_block_add, offsetof(tf_state, BlockType)},                /* block.c: before Pool, which makes its Blocks */
    {tf_pool_add, offsetof(tf_state, PoolType)},                  /* pool.c */
    {tf_objectpool_add, offsetof(tf_state, ObjectPoolType)},      /* objectpool.c */
    {tf_view_add, offsetof(tf_state, ViewType)},                  /* view.c: before streaming, whose iterators yield Views */
    {tf_streaming_add, offsetof(tf_state, LinesType)},            /* streaming.c: iter_chunks, lines */
    {tf_guard_add, offsetof(tf_state, Guard)},                    /* guard.c */
    {tf_lz_compressor_add, offsetof(tf_state, LzCompressor)},     /* lz_compressor.c */
    {tf_lz_decompressor_add, offsetof(tf_state, LzDecompressor)}, /* lz_decompressor.c */
    {tf_interner_add, offsetof(tf_state, InternerType)},          /* interner.c */
};
/* clang-format on */

/* Adds the lazy parts not added yet: 0, or -1 with an exception set. */
static int add_lazy_parts(PyObject *m) {
    tf_state *st = (tf_state *)PyModule_GetState(m);
    if (!st || !st->AllocationError) /* not executed yet (the import system looks names up first), or cleared */
        return 0;
    for (size_t i = 0; i < sizeof tf_lazy_parts / sizeof tf_lazy_parts[0]; i++)
        if (!*(PyObject **)((char *)st + tf_lazy_parts[i].lazy_slot) && tf_lazy_parts[i].add(m, st) < 0)
            return -1;
    return 0;
}

/* module.__getattr__(name): called only for a name the module's dict lacks. */
static PyObject *module_getattr(PyObject *m, PyObject *name) {
    PyObject *dict, *value;
    if (add_lazy_parts(m) < 0)
        return NULL;
    dict = PyModule_GetDict(m); /* borrowed */
    value = PyDict_GetItemWithError(dict, name);
    if (value)
        return Py_NewRef(value);
    if (!PyErr_Occurred())
        PyErr_Format(PyExc_AttributeError, "module 'thrifty._ext' has no attribute %R", name);
    return NULL;
}

static PyObject *module_dir(PyObject *m, PyObject *unused) {
    (void)unused;
    if (add_lazy_parts(m) < 0)
        return NULL;
    return PyDict_Keys(PyModule_GetDict(m));
}

static PyMethodDef tf_module_methods[] = {
    {"__getattr__", module_getattr, METH_O, "Adds the data-structure types on first use (see module.c)."},
    {"__dir__", module_dir, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

PyObject *tf_raise_status(tf_state *st, tf_status status, const char *what) {
    const char *why = tf_status_str(status);
    switch (status) {
    case TF_E_FULL: PyErr_Format(st->Full, "%s: %s", what, why); break;
    case TF_E_EMPTY: PyErr_Format(PyExc_IndexError, "%s: %s", what, why); break;
    case TF_E_RANGE: PyErr_Format(PyExc_IndexError, "%s: %s", what, why); break;
    case TF_E_CORRUPT:
    case TF_E_VERSION: PyErr_Format(st->CorruptData, "%s: %s", what, why); break;
    case TF_E_OVERFLOW: PyErr_Format(PyExc_OverflowError, "%s: %s", what, why); break;
    case TF_E_ARG:
    case TF_E_DICT: PyErr_Format(PyExc_ValueError, "%s: %s", what, why); break; /* as lz.py words its checks */
    default: PyErr_Format(PyExc_SystemError, "%s: internal error in thrifty core (%s, status %d)", what, why, status);
    }
    return NULL;
}

static int add_exception(PyObject *m, PyObject **slot, const char *name, PyObject *base, const char *doc) {
    char qualname[64];
    PyOS_snprintf(qualname, sizeof qualname, "thrifty.%s", name);
    *slot = PyErr_NewExceptionWithDoc(qualname, doc, base, NULL);
    if (!*slot)
        return -1;
    return PyModule_AddObjectRef(m, name, *slot);
}

static int tf_exec(PyObject *m) {
    tf_state *st = (tf_state *)PyModule_GetState(m);
    if (add_exception(m, &st->Full, "Full", PyExc_IndexError,
                      "A bounded container with overflow='raise' refused an item because it is full.") < 0 ||
        add_exception(m, &st->CorruptData, "CorruptData", PyExc_ValueError,
                      "Bytes given to a decoder or frombuffer() failed validation; the message says what was wrong.") <
            0 ||
        add_exception(m, &st->PoolExhausted, "PoolExhausted", PyExc_MemoryError,
                      "A pool has no free item left to hand out.") < 0 ||
        add_exception(m, &st->BudgetExceeded, "BudgetExceeded", PyExc_MemoryError,
                      "Live memory inside a thrifty.budget() block went past its limit.") < 0 ||
        add_exception(m, &st->AllocationError, "AllocationError", PyExc_MemoryError,
                      "An allocation happened inside a thrifty.no_alloc() block.") < 0)
        return -1;
    for (size_t i = 0; tf_parts[i]; i++)
        if (tf_parts[i](m, st) < 0)
            return -1;
    return 0;
}

/* The state is a struct of PyObject* only (see thrifty_ext.h), so it can be walked as an array. */
#define TF_STATE_SLOTS (sizeof(tf_state) / sizeof(PyObject *))

static int tf_traverse(PyObject *m, visitproc visit, void *arg) {
    PyObject **slots = (PyObject **)PyModule_GetState(m);
    for (size_t i = 0; slots && i < TF_STATE_SLOTS; i++)
        Py_VISIT(slots[i]);
    return 0;
}

static int tf_clear(PyObject *m) {
    PyObject **slots = (PyObject **)PyModule_GetState(m);
    for (size_t i = 0; slots && i < TF_STATE_SLOTS; i++)
        Py_CLEAR(slots[i]);
    return 0;
}

static void tf_free(void *m) { tf_clear((PyObject *)m); }

static PyModuleDef_Slot tf_slots[] = {
    {Py_mod_exec, tf_exec},
    {0, NULL},
};

PyModuleDef tf_module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "thrifty._ext",
    .m_doc = "thrifty's C extension: the portable core bound to CPython. Import from `thrifty`, not from here.",
    .m_size = sizeof(tf_state),
    .m_methods = tf_module_methods,
    .m_slots = tf_slots,
    .m_traverse = tf_traverse,
    .m_clear = tf_clear,
    .m_free = tf_free,
};

PyMODINIT_FUNC PyInit__ext(void) { return PyModuleDef_Init(&tf_module_def); }
