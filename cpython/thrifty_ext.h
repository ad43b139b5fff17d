/* The CPython binding's shared declarations: module state, status-to-exception mapping, and each part's entry.
 *
 * The binding is thin: a method parses its arguments, calls exactly one core function, and turns the core's
 * tf_status into a result or a specific exception. One .c file per Python type; this header is all they share.
 *
 * Two rules every type keeps (docs/architecture.md, "Binding conventions"; tests/test_hostile.py checks them):
 *
 * GC clear. The collector calls tp_clear on garbage that finalizers and weakref callbacks may still reach, and the
 * doctor calls it through _gc_release, so a cleared object stays valid: every method works or raises the error a
 * closed/released object raises ("acquire() on a closed Pool", "View was released", StopIteration). Hence:
 *   - a type gets tp_clear only if it holds references its user chooses (Ring('O') items, ObjectPool objects and
 *     reset, a reader's file) or sits in a cycle of its own making (Pool <-> acquired Block), and its clear leaves
 *     the state an explicit close()/clear() leaves;
 *   - references fixed at construction that every method reads (a table's buffer, a view's owner, an iterator's
 *     container, a decompressor's bytes) are not cleared: such a type has tp_traverse and no tp_clear, and a cycle
 *     through it is broken at the Python-level object that closes it (a __dict__, a list);
 *   - an exported buffer is never released or freed in tp_clear: the clear is refused while exports are alive (as
 *     close()/release() refuse), and dealloc, which no export can precede, lets the memory go.
 *
 * GC points. Anything that may run Python code can change any object: a call into Python (__eq__, __hash__,
 * __index__, __float__, __iter__, __buffer__, a callback), a Py_DECREF of an arbitrary object (its __del__), and any
 * allocation of a GC object (a list, dict, tuple, iterator, bound method: it may start a collection, which runs
 * finalizers). After such a point, C code never acts on a length, pointer, kind or decision it read before it:
 *   - read sizes and pointers after the last such point (or re-check them: "state" counters, live_size(), kind);
 *   - or take a snapshot first (a private list or bytes) and decide on the snapshot alone;
 *   - install the new consistent state before dropping old references, and drop references last (a pending
 *     Py_DECREF goes after the object is consistent again, and nothing reads the object after it).
 */
#ifndef THRIFTY_EXT_H
#define THRIFTY_EXT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "compat.h" /* every private CPython API, one branch per version */

#include "thrifty/common.h"

/* Per-module state (no static PyObject*s: CPython's _collectionsmodule.c pattern).
 * Every field is an owned PyObject* — the module's traverse/clear walk the struct as an array of PyObject*, so a
 * part adds a field here and nothing else. Types are stored as PyObject* and cast where used. */
typedef struct {
    /* exceptions, created in module.c */
    PyObject *Full;            /* IndexError subclass: a bounded container refused an item */
    PyObject *CorruptData;     /* ValueError subclass: untrusted bytes failed validation */
    PyObject *PoolExhausted;   /* MemoryError subclass: a pool has no free item */
    PyObject *BudgetExceeded;  /* MemoryError subclass: a memory budget was exceeded */
    PyObject *AllocationError; /* MemoryError subclass: an allocation inside no_alloc() */
    /* types, one block per part; each part's add function fills its own fields */
    PyObject *InternerType;   /* thrifty.Interner (interner.c) */
    PyObject *Ring;           /* thrifty.Ring (ring.c) */
    PyObject *RingIter;       /* its iterator, front to back (ring_iter.c) */
    PyObject *RingRevIter;    /* and back to front */
    PyObject *RingView;       /* the buffer exporter behind Ring.views() (ring_view.c) */
    PyObject *FrozenSetType;  /* fset.c */
    PyObject *FrozenMapType;  /* fmap.c */
    PyObject *FrozenIterType; /* frozen.c: iterator shared by FrozenSet and FrozenMap */
    PyObject *FrozenKeys;     /* fmap.c: the type of FrozenMap.keys() */
    PyObject *FrozenValues;   /* fmap.c: the type of FrozenMap.values() */
    PyObject *FrozenItems;    /* fmap.c: the type of FrozenMap.items() */
    /* pool, objectpool, view, streaming (buffers.h) */
    PyObject *BlockType;
    PyObject *PoolType;
    PyObject *LoanType;
    PyObject *ObjectPoolType;
    PyObject *ViewType;
    PyObject *ChunksType;
    PyObject *LinesType;
    PyObject *str_readinto;   /* interned "readinto" */
    PyObject *str_sizeof;     /* interned "__sizeof__" (sizeof.c) */
    PyObject *Guard;          /* tracker: thrifty._ext._Guard (budget / count_allocs / no_alloc) */
    PyObject *LzCompressor;   /* thrifty.lz.Compressor (lz_compressor.c) */
    PyObject *LzDecompressor; /* thrifty.lz.Decompressor (lz_decompressor.c) */
} tf_state;

extern PyModuleDef tf_module_def;

/* The state of the module that defined `type` (also works for Python subclasses of our types). Never NULL for
 * types created by this module. */
static inline tf_state *tf_state_of_type(PyTypeObject *type) {
    PyObject *m = PyType_GetModuleByDef(type, &tf_module_def);
    return m ? (tf_state *)PyModule_GetState(m) : NULL;
}
static inline tf_state *tf_state_of(PyObject *self) { return tf_state_of_type(Py_TYPE(self)); }

/* Sets an exception for a core status and returns NULL. `what` names the operation for the message, e.g.
 * "Ring.append". Statuses with a specific Python meaning (TF_E_FULL → Full, TF_E_CORRUPT → CorruptData, ...) map
 * to it; callers that know more raise their own message instead. */
PyObject *tf_raise_status(tf_state *st, tf_status status, const char *what);

/* Each part: create its types, store them in the state, add them to the module. Return 0 or -1 with an exception. */
typedef int (*tf_part_add_fn)(PyObject *module, tf_state *st);
int tf_ring_add(PyObject *module, tf_state *st);
int tf_fset_add(PyObject *module, tf_state *st);     /* FrozenSet (fset.c) */
int tf_fmap_add(PyObject *module, tf_state *st);     /* FrozenMap (fmap.c) */
int tf_sizeof_add(PyObject *module, tf_state *st);   /* sizeof.c: thrifty.sizeof */
int tf_interner_add(PyObject *module, tf_state *st); /* interner.c: thrifty.Interner */
/* sys.getsizeof(o) without a method call for the common exact types (sizeof.c); (size_t)-1 with an exception set
 * when o's __sizeof__ fails. */
size_t tf_shallow_sizeof(PyObject *o);
int tf_gcprobe_add(PyObject *module, tf_state *st); /* gcprobe.c: the doctor's private gc/tracemalloc hooks */
/* numprobe.c: the doctor's walk for numbers-only sequences */
int tf_numprobe_add(PyObject *module, tf_state *st);

/* pool, objectpool, view, streaming (buffers.h) */
int tf_block_add(PyObject *module, tf_state *st);
int tf_pool_add(PyObject *module, tf_state *st);
int tf_objectpool_add(PyObject *module, tf_state *st);
int tf_view_add(PyObject *module, tf_state *st);
int tf_streaming_add(PyObject *module, tf_state *st);

int tf_tracker_add(PyObject *module, tf_state *st);       /* tracker.c: _tracker_start/_tracker_stop */
int tf_runfile_add(PyObject *module, tf_state *st);       /* runfile.c: the doctor's run file */
int tf_runfile_read_add(PyObject *module, tf_state *st);  /* runfile_read.c: a snapshot's stacks, read */
int tf_report_groups_add(PyObject *module, tf_state *st); /* report_groups.c: the report's pass over stacks */
int tf_runscript_add(PyObject *module, tf_state *st);     /* runscript.c: a script run as python runs it */
int tf_parentdeath_add(PyObject *module, tf_state *st);   /* parentdeath.c: the recorder ends with the doctor */
int tf_guard_add(PyObject *module, tf_state *st);         /* guard.c: _Guard */
int tf_lz_compressor_add(PyObject *module, tf_state *st);
int tf_lz_decompressor_add(PyObject *module, tf_state *st);

#endif
