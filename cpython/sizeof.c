/* thrifty.sizeof — how many bytes an object, or everything it keeps, occupies.
 *
 * Shallow: exactly sys.getsizeof (the type's __sizeof__ plus the GC header when the object is tracked).
 * Deep: a walk over strong references (tp_traverse, plus dict keys, which CPython's dict traverse skips when they
 * are all str) counting every reached object once. Modules, classes, functions, methods, code and frames are
 * program structure, not data: they are neither counted nor walked through unless code=True (the root itself is
 * always counted and walked, so sizeof(module, deep=True) sizes a module's data). None, True, False, Ellipsis and
 * NotImplemented are static and never counted.
 * exclusive=True keeps only what the root alone keeps alive: an object whose reference count shows holders outside
 * the walked graph is dropped, and so is everything that is reachable only through dropped objects (the same
 * fixed point the cyclic GC computes, run on the graph below the root).
 *
 * The walk is iterative (no recursion limit). It runs no Python code and allocates no Python object (only its own
 * PyMem tables), so it can borrow the nodes: nothing can free them meanwhile, and touching every refcount twice was
 * most of its cost. Sizing does not allocate either for the common exact types (sz_fast); when some node needs a
 * __sizeof__ call, which may run Python code or a GC pass, the walk takes a strong reference to every node first.
 * A big walk waits on memory more than it computes: each reached object is prefetched and looked at a few edges
 * later (sz_edge), and a set's table, mostly empty slots, is read without a branch per slot (sz_referents).
 */
#include "pytable.h"
#include "thrifty_ext.h"

#include <frameobject.h>

/* The walk's nodes are a core hashtable from object address (the object borrowed during the walk, see sz_deep) to
 * the references to it from other nodes of the graph; the top bit set means external: something outside the graph
 * also keeps the object (exclusive mode). 16-byte entries: the table's size is most of a big walk's cost. */
#define SZ_EXTERNAL ((uint64_t)1 << 63)
#define SZ_FIRST_SLOTS 256u
#define SZ_OBJ(key) ((PyObject *)(uintptr_t)(key))
#define SZ_KEY(obj) ((uint64_t)(uintptr_t)(obj))

/* How many reached objects are prefetched before the walk reads them (a power of two). A big container's items are
 * scattered over the heap (a set's in hash order): reading each header as it is reported waits for memory once per
 * item, which was most of the walk's time; with this many loads in flight the waits overlap. */
#define SZ_AHEAD 16

/* slots of a set's table scanned per batch (see sz_referents) */
#define SZ_GATHER 64

/* What the walk needs to know of a type other than the builtins sz_fast sizes, found once per walk (a power of two
 * entries; when they are all taken, later types are looked at object by object as before). An AST or any tree of
 * class instances reaches thousands of objects of a few dozen types: asking each object the type's questions again
 * (two PyType_IsSubtype walks for sz_skipped, a __sizeof__ method call) was half of such a walk. */
#define SZ_TYPES 64

/* Objects already in the table or skipped, most recent per slot, by address (a power of two): an edge to one of them
 * is done without reading the object or probing the table. A tree of class instances reaches the same few dozen
 * attribute names (its dicts' keys) and small ints again and again, half of its edges. Only without exclusive=True,
 * which counts every edge. */
#define SZ_RECENT 512

typedef struct {
    PyTypeObject *type; /* NULL: a free entry */
    int skip;           /* program structure (sz_structure): neither counted nor walked through unless code=True */
    int same_size;      /* -1 not asked yet; 1: sys.getsizeof is the same for every instance (see sz_later_size) */
    size_t size;        /* same_size: that size, aligned, once one instance has been sized by a call; 0 before */
} sz_type;

#if defined(__GNUC__) || defined(__clang__)
/* the header (refcount, type) and the fields sz_fast reads, which may sit on the next cache line */
#define SZ_PREFETCH(p) (__builtin_prefetch((p)), __builtin_prefetch((const char *)(p) + 47))
#else
#define SZ_PREFETCH(p) ((void)(p))
#endif

typedef struct {
    tf_pytable nodes;
    PyObject **stack; /* nodes still to expand */
    size_t depth, stack_cap;
    int code; /* also walk modules, classes, functions */
    int held; /* 1 once the walk holds a strong reference to every node */
    int exclusive;
    size_t align;
    size_t direct; /* bytes of nodes counted on sight, never entered in the table (see sz_reach) */
    /* objects with one reference and no fast path: reached once, so they need no table entry, only a size after the
     * walk (a __sizeof__ call may run Python code, which must not happen while the walk borrows its nodes) */
    PyObject **later;
    size_t n_later, later_cap;
    PyObject *str_sizeof, *object_sizeof; /* "__sizeof__", and object.__sizeof__ (NULL until asked) */
    sz_type types[SZ_TYPES];
    PyObject *recent[SZ_RECENT];
    PyObject *root;
    /* edges reported but not yet looked at (see sz_edge); a slot is NULL when free */
    PyObject *ahead[SZ_AHEAD];
    size_t ahead_pos;
} sz_walk;

/* Appends p to a growing PyMem array (the walk's stack, its later list). */
static int sz_append(PyObject ***arr, size_t *n, size_t *cap, PyObject *p) {
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 256;
        PyObject **a = PyMem_Realloc(*arr, c * sizeof(PyObject *));
        if (!a) {
            PyErr_NoMemory();
            return -1;
        }
        *arr = a;
        *cap = c;
    }
    (*arr)[(*n)++] = p;
    return 0;
}

static int sz_push(sz_walk *w, PyObject *p) { return sz_append(&w->stack, &w->depth, &w->stack_cap, p); }

/* Builtin data types: never structure, and sz_fast sizes their exact instances. */
static inline int sz_builtin(PyTypeObject *t) {
    return t == &PyLong_Type || t == &PyUnicode_Type || t == &PyFloat_Type || t == &PyTuple_Type || t == &PyList_Type ||
           t == &PyDict_Type || t == &PyBytes_Type || t == &PySet_Type;
}

/* Structure (modules, classes, functions, methods, code, frames, descriptors) is not data unless asked. Pure C:
 * the subtype checks read the MRO tuple and run no Python code. */
static int sz_structure(PyTypeObject *t) {
    return PyType_IsSubtype(t, &PyModule_Type) || PyType_FastSubclass(t, Py_TPFLAGS_TYPE_SUBCLASS) ||
           t == &PyFunction_Type || PyType_IsSubtype(t, &PyCFunction_Type) || t == &PyMethod_Type ||
           t == &PyCode_Type || t == &PyFrame_Type || t == &PyMethodDescr_Type || t == &PyWrapperDescr_Type ||
           t == &PyClassMethodDescr_Type || t == &PyGetSetDescr_Type || t == &PyMemberDescr_Type;
}

static inline int sz_singleton(PyObject *p) {
    return p == Py_None || p == Py_True || p == Py_False || p == Py_Ellipsis || p == Py_NotImplemented;
}

/* Static singletons cost no heap; structure is skipped unless asked (the root never is). */
static int sz_skipped(sz_walk *w, PyObject *p) {
    if (sz_singleton(p))
        return 1;
    PyTypeObject *t = Py_TYPE(p);
    if (w->code || p == w->root || sz_builtin(t))
        return 0;
    return sz_structure(t);
}

/* The walk's entry for type t, made on first sight; NULL when the entries are all taken by other types. */
static sz_type *sz_type_of(sz_walk *w, PyTypeObject *t) {
    size_t h = (size_t)(((uint64_t)(uintptr_t)t * UINT64_C(0x9e3779b97f4a7c15)) >> 58);
    for (size_t i = 0; i < SZ_TYPES; i++) {
        sz_type *e = &w->types[(h + i) & (SZ_TYPES - 1)];
        if (e->type == t)
            return e;
        if (!e->type) {
            e->type = t;
            e->skip = sz_structure(t);
            e->same_size = -1;
            return e;
        }
    }
    return NULL;
}

static inline size_t sz_fast(PyObject *o);

/* PyObject_IS_GC without the call: the walk asks it of every object it reaches. */
static inline int sz_is_gc(PyObject *o) {
    PyTypeObject *t = Py_TYPE(o);
    return PyType_IS_GC(t) && (t->tp_is_gc == NULL || t->tp_is_gc(o));
}

/* align is a power of two (tf_sizeof checks) */
static inline size_t sz_align(size_t s, size_t align) { return (s + align - 1) & ~(align - 1); }

static inline size_t sz_recent_slot(PyObject *p) {
    return (size_t)(((uint64_t)(uintptr_t)p * UINT64_C(0x9e3779b97f4a7c15)) >> 55) & (SZ_RECENT - 1);
}

/* A reached object p: count it, and add it as a new node the first time it is seen. */
static int sz_reach(sz_walk *w, PyObject *p) {
    /* A traverse can report memory that is no longer an object: CPython 3.12's _asyncio module (before gh-122695)
     * visits the FutureIters on its free list, already deallocated, reference count 0. Such a node would be counted,
     * and the slow path's Py_INCREF/Py_DECREF below would deallocate it again: it goes on the free list a second
     * time, the list becomes a cycle, and the module's traverse — so every later full collection — loops forever. */
    if (Py_REFCNT(p) == 0)
        return 0;
    PyTypeObject *t = Py_TYPE(p);
    /* str, int and float, most of what a walk reaches, are never skipped and hold no references */
    int leaf = t == &PyUnicode_Type || t == &PyLong_Type || t == &PyFloat_Type;
    int builtin = leaf || sz_builtin(t);
    if (!builtin) {
        if (sz_singleton(p))
            return 0;
        sz_type *e = sz_type_of(w, t);
        if (e ? e->skip && !w->code && p != w->root : sz_skipped(w, p)) {
            if (!w->exclusive)
                w->recent[sz_recent_slot(p)] = p; /* every instance's class, say: done with at once next time */
            return 0;
        }
    }
    /* An object with one reference is reached through this edge only, so it needs no visited check: counted now,
     * it never enters the table. Most items of a container are like that, and the table was most of the cost. */
    if (!w->exclusive && Py_REFCNT(p) == 1 && p != w->root) {
        size_t s = builtin ? sz_fast(p) : 0;
        if (s) {
            w->direct += sz_align(s, w->align);
            return !leaf && sz_is_gc(p) ? sz_push(w, p) : 0;
        }
        if (sz_append(&w->later, &w->n_later, &w->later_cap, p) < 0)
            return -1;
        return sz_is_gc(p) ? sz_push(w, p) : 0;
    }
    if (tf_pytable_room(&w->nodes, SZ_FIRST_SLOTS) < 0)
        return -1;
    uint32_t before = w->nodes.t.count;
    uint64_t *inner = tf_hashtable_upsert(&w->nodes.t, SZ_KEY(p), 0); /* never NULL: there is room */
    if (!w->exclusive)
        w->recent[sz_recent_slot(p)] = p;
    /* new: str, int, float and bytes hold no references, nothing to expand */
    if (w->nodes.t.count != before && sz_is_gc(p) && sz_push(w, p) < 0)
        return -1;
    ++*inner;
    return 0;
}

/* One edge parent -> p, looked at SZ_AHEAD edges later: p is prefetched now and read when it has arrived. The order
 * in which edges are looked at changes nothing in the result (each edge is looked at once). */
static int sz_edge(PyObject *p, void *arg) {
    sz_walk *w = arg;
    if (!p || p == Py_None || p == Py_True || p == Py_False || w->recent[sz_recent_slot(p)] == p)
        return 0;
    SZ_PREFETCH(p);
    PyObject *q = w->ahead[w->ahead_pos];
    w->ahead[w->ahead_pos] = p;
    w->ahead_pos = (w->ahead_pos + 1) & (SZ_AHEAD - 1);
    return q ? sz_reach(w, q) : 0;
}

/* Looks at the edges still waiting in sz_edge's queue; 1 if there were any (they may have pushed nodes). */
static int sz_drain(sz_walk *w) {
    int any = 0;
    for (size_t i = 0; i < SZ_AHEAD; i++) {
        PyObject *q = w->ahead[i];
        if (!q)
            continue;
        w->ahead[i] = NULL;
        any = 1;
        if (sz_reach(w, q) < 0)
            return -1;
    }
    return any;
}

static int sz_count(PyObject *p, void *arg) {
    (void)p;
    ++*(Py_ssize_t *)arg;
    return 0;
}

/* The strong references an object holds, each reported once to `visit`. */
static int sz_referents(PyObject *o, visitproc visit, void *arg) {
    if (PyDict_Check(o) && !PyDict_CheckExact(o)) {
        /* A subclass (OrderedDict, defaultdict, a user class) holds more than its items: __dict__, slots, a default
         * factory. Its traverse reports them, with the values, and the keys too unless the table is all-str: dict's
         * own traverse tells which by how many references it reports (two per item, or one). */
        Py_ssize_t seen = 0, pos = 0;
        PyObject *k, *v;
        (void)PyDict_Type.tp_traverse(o, sz_count, &seen);
        if (Py_TYPE(o)->tp_traverse(o, visit, arg) < 0)
            return -1;
        if (seen == 2 * PyDict_GET_SIZE(o))
            return 0;
        while (PyDict_Next(o, &pos, &k, &v))
            if (visit(k, arg) < 0)
                return -1;
        return 0;
    }
    if (PyDict_Check(o)) {
        /* A split (instance) dict's keys belong to the class: its values are all there is. Up to 3.12 dict's own
         * traverse reports just them, in a tighter loop than PyDict_Next; from 3.13 it leaves out values embedded in
         * the owning object (the owner reports them), which a walk that reached the dict itself must count. A
         * combined table's str keys are the dict's own, and its traverse leaves them out. */
        int split = ((PyDictObject *)o)->ma_values != NULL;
#if PY_VERSION_HEX < 0x030D0000
        if (split)
            return PyDict_Type.tp_traverse(o, visit, arg);
#endif
        Py_ssize_t pos = 0;
        PyObject *k, *v;
        while (PyDict_Next(o, &pos, &k, &v))
            if ((!split && visit(k, arg) < 0) || visit(v, arg) < 0)
                return -1;
        return 0;
    }
    if (Py_IS_TYPE(o, &PySet_Type) || Py_IS_TYPE(o, &PyFrozenSet_Type)) {
        /* What set's traverse reports, read off the table directly. A big set's table is mostly empty slots in no
         * predictable pattern, so testing each slot with a branch mispredicts about once per key: the keys are
         * gathered without branches first, then reported. A discarded key's slot (the dummy) has hash -1. */
        PySetObject *so = (PySetObject *)o;
        setentry *e = so->table;
        size_t slots = (size_t)so->mask + 1;
        PyObject *keys[SZ_GATHER];
        for (size_t at = 0; at < slots;) {
            size_t end = slots - at < SZ_GATHER ? slots : at + SZ_GATHER, n = 0;
            for (; at < end; at++) {
                keys[n] = e[at].key;
                n += (size_t)(e[at].key != NULL) & (size_t)(e[at].hash != -1);
            }
            for (size_t i = 0; i < n; i++)
                if (visit(keys[i], arg) < 0)
                    return -1;
        }
        return 0;
    }
    traverseproc tr = Py_TYPE(o)->tp_traverse;
    if (!sz_is_gc(o) || !tr)
        return 0;
    return tr(o, visit, arg);
}

/* exclusive mode: drop every node that something outside the graph keeps, then what only dropped nodes keep. */
static int sz_mark_external(PyObject *p, void *arg) {
    sz_walk *w = arg;
    if (!p || p == w->root || sz_skipped(w, p))
        return 0;
    uint64_t *inner = tf_hashtable_find(&w->nodes.t, SZ_KEY(p));
    if (!inner || (*inner & SZ_EXTERNAL))
        return 0;
    --*inner;
    if ((uint64_t)(Py_REFCNT(p) - w->held) > *inner) {
        *inner |= SZ_EXTERNAL;
        return sz_push(w, p);
    }
    return 0;
}

static int sz_exclude_shared(sz_walk *w) {
    uint32_t cursor = 0;
    uint64_t key, inner;
    w->depth = 0;
    /* values change in place below, keys do not: the iteration stays valid */
    while (tf_hashtable_next(&w->nodes.t, &cursor, &key, &inner)) {
        PyObject *o = SZ_OBJ(key);
        if (o != w->root && (uint64_t)(Py_REFCNT(o) - w->held) > inner) {
            *tf_hashtable_find(&w->nodes.t, key) |= SZ_EXTERNAL;
            if (sz_push(w, o) < 0)
                return -1;
        }
    }
    while (w->depth)
        if (sz_referents(w->stack[--w->depth], sz_mark_external, w) < 0)
            return -1;
    return 0;
}

/* sys.getsizeof of the commonest exact types without a method call (the call is most of the cost of a deep walk).
 * The GC header is two words on every CPython this builds for; tests compare every fast path with sys.getsizeof.
 * 0 = no fast path for this object. */
static inline size_t sz_fast(PyObject *o) {
    const size_t gc_head = 2 * sizeof(uintptr_t);
    PyTypeObject *t = Py_TYPE(o);
    if (t == &PyUnicode_Type)
        return tf_py_str_compact_ascii(o) ? sizeof(PyASCIIObject) + (size_t)PyUnicode_GET_LENGTH(o) + 1 : 0;
    if (t == &PyLong_Type)
        return tf_py_int_sizeof(o);
    if (t == &PyFloat_Type)
        return sizeof(PyFloatObject);
    if (t == &PyTuple_Type)
        return gc_head + (size_t)t->tp_basicsize + (size_t)Py_SIZE(o) * (size_t)t->tp_itemsize;
    if (t == &PyList_Type)
        return gc_head + (size_t)t->tp_basicsize + (size_t)((PyListObject *)o)->allocated * sizeof(PyObject *);
    if (t == &PyBytes_Type)
        return (size_t)t->tp_basicsize + (size_t)Py_SIZE(o) * (size_t)t->tp_itemsize;
    if (t == &PyDict_Type)
        return gc_head + tf_py_dict_sizeof(o);
    if (t == &PySet_Type || t == &PyFrozenSet_Type) {
        PySetObject *so = (PySetObject *)o;
        size_t n = gc_head + (size_t)t->tp_basicsize;
        return so->table != so->smalltable ? n + ((size_t)so->mask + 1) * sizeof(setentry) : n;
    }
    return 0;
}

size_t tf_shallow_sizeof(PyObject *o) {
    size_t s = sz_fast(o);
    return s ? s : tf_py_getsizeof(o);
}

/* sys.getsizeof(o) rounded up to `align`, or (size_t)-1 with the exception __sizeof__ raised (never a size: one is at
 * most PY_SSIZE_T_MAX plus the GC header). Like sys.getsizeof, a size past PY_SSIZE_T_MAX is returned as it is. */
static size_t sz_shallow(PyObject *o, size_t align) {
    size_t s = sz_fast(o);
    if (!s) {
        s = tf_py_getsizeof(o);
        if (s == (size_t)-1 && PyErr_Occurred())
            return s;
    }
    return align > 1 ? sz_align(s, align) : s;
}

/* A total that cannot wrap: one __sizeof__ may legally report up to PY_SSIZE_T_MAX, so a few of them pass SIZE_MAX.
 * The carries are counted apart and the total becomes an exact Python int, as exact as sys.getsizeof's values. */
typedef struct {
    size_t lo, carries;
} sz_total;

static void sz_add(sz_total *t, size_t s) {
    t->lo += s;
    t->carries += t->lo < s;
}

static PyObject *sz_total_obj(const sz_total *t) {
    if (t->carries == 0)
        return PyLong_FromSize_t(t->lo);
    PyObject *hi = PyLong_FromSize_t(t->carries), *bits = PyLong_FromLong((long)(8 * sizeof(size_t)));
    PyObject *lo = PyLong_FromSize_t(t->lo), *top = hi && bits ? PyNumber_Lshift(hi, bits) : NULL;
    PyObject *res = top && lo ? PyNumber_Add(top, lo) : NULL;
    Py_XDECREF(hi);
    Py_XDECREF(bits);
    Py_XDECREF(lo);
    Py_XDECREF(top);
    return res;
}

/* sys.getsizeof(o) aligned, for a node without a fast path, after the walk, with every node held (the lookup and the
 * call may run Python code); (size_t)-1 with an exception. A type whose __sizeof__ is object's and that has no items
 * and no tp_is_gc gives every instance the same size (its basic size, plus the GC header and, from 3.12, the
 * managed-dict pre-header, all fixed by the type), so only its first instance is asked: an AST's nodes are thousands of
 * such instances of a few dozen classes, and the method call was a quarter of their walk. */
static size_t sz_slow_size(sz_walk *w, PyObject *o) {
    PyTypeObject *t = Py_TYPE(o);
    sz_type *e = sz_builtin(t) ? NULL : sz_type_of(w, t);
    if (e && e->same_size < 0) {
        if (!w->object_sizeof)
            w->object_sizeof = tf_py_type_lookup(&PyBaseObject_Type, w->str_sizeof);
        e->same_size = t->tp_itemsize == 0 && t->tp_is_gc == NULL && w->object_sizeof != NULL &&
                       tf_py_type_lookup(t, w->str_sizeof) == w->object_sizeof;
    }
    if (e && e->same_size == 1 && e->size)
        return e->size;
    size_t s = sz_shallow(o, w->align);
    if (s == (size_t)-1 && PyErr_Occurred())
        return s;
    if (e && e->same_size == 1)
        e->size = s;
    return s;
}

/* The deep size into *total; 0, or -1 with an exception. */
static int sz_deep(PyObject *root, int code, int exclusive, size_t align, PyObject *str_sizeof, sz_total *total) {
    sz_walk w = {0};
    int rc = -1;
    w.str_sizeof = str_sizeof;
    w.code = code;
    w.root = root;
    w.exclusive = exclusive;
    w.align = align;
    uint32_t cursor;
    uint64_t key, inner;
    /* small: objects with one reference never enter the table (sz_edge) */
    if (tf_pytable_grow(&w.nodes, SZ_FIRST_SLOTS) < 0)
        goto done;
    /* the root is a node whatever its kind */
    (void)tf_hashtable_upsert(&w.nodes.t, SZ_KEY(root), 0);
    if (sz_push(&w, root) < 0)
        goto done;
    for (;;) {
        while (w.depth)
            if (sz_referents(w.stack[--w.depth], sz_edge, &w) < 0)
                goto done;
        int more = sz_drain(&w);
        if (more < 0)
            goto done;
        if (!more)
            break;
    }
    if (exclusive && sz_exclude_shared(&w) < 0)
        goto done;
    sz_add(total, w.direct);
    int slow = w.n_later != 0;
    for (cursor = 0; tf_hashtable_next(&w.nodes.t, &cursor, &key, &inner);) {
        if (inner & SZ_EXTERNAL)
            continue;
        size_t s = sz_fast(SZ_OBJ(key));
        if (!s) {
            slow = 1;
            continue;
        }
        sz_add(total, sz_align(s, align));
    }
    if (slow) {
        /* __sizeof__ is Python code, and the bound method it needs is a GC allocation: either may free a node */
        for (cursor = 0; tf_hashtable_next(&w.nodes.t, &cursor, &key, NULL);)
            Py_INCREF(SZ_OBJ(key));
        for (size_t i = 0; i < w.n_later; i++)
            Py_INCREF(w.later[i]);
        w.held = 1;
        /* the table does not change while Python code runs: only the walk, which is over, changes it */
        for (cursor = 0; tf_hashtable_next(&w.nodes.t, &cursor, &key, &inner);) {
            if ((inner & SZ_EXTERNAL) || sz_fast(SZ_OBJ(key)))
                continue;
            size_t s = sz_slow_size(&w, SZ_OBJ(key));
            if (s == (size_t)-1 && PyErr_Occurred())
                goto done;
            sz_add(total, s);
        }
        for (size_t i = 0; i < w.n_later; i++) {
            size_t s = sz_slow_size(&w, w.later[i]);
            if (s == (size_t)-1 && PyErr_Occurred())
                goto done;
            sz_add(total, s);
        }
    }
    rc = 0;
done:
    for (cursor = 0; w.held && tf_hashtable_next(&w.nodes.t, &cursor, &key, NULL);)
        Py_DECREF(SZ_OBJ(key));
    for (size_t i = 0; w.held && i < w.n_later; i++)
        Py_DECREF(w.later[i]);
    tf_pytable_free(&w.nodes);
    PyMem_Free(w.stack);
    PyMem_Free(w.later);
    return rc;
}

PyDoc_STRVAR(
    sizeof_doc,
    "sizeof(obj, deep=False, *, exclusive=False, code=False, align=1)\n--\n\n"
    "Bytes taken by obj. deep=False: sys.getsizeof(obj). deep=True: obj plus every object reachable from it,\n"
    "each counted once; modules, classes, functions, methods, code and frames are skipped (not counted, not\n"
    "walked through) unless code=True. exclusive=True (with deep): only what obj alone keeps alive, i.e. what\n"
    "deleting the last outside reference to obj would free. align rounds each object up to a multiple\n"
    "(pympler.asizeof uses 8; CPython's allocator uses 16 on 64-bit).");

static PyObject *tf_sizeof(PyObject *module, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"obj", "deep", "exclusive", "code", "align", NULL};
    PyObject *obj;
    int deep = 0, exclusive = 0, code = 0;
    Py_ssize_t align = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|p$ppn:sizeof", kwlist, &obj, &deep, &exclusive, &code, &align))
        return NULL;
    if (align < 1 || align > 4096 || (align & (align - 1)) != 0) {
        PyErr_Format(PyExc_ValueError, "sizeof: align must be a power of two from 1 to 4096, got %zd", align);
        return NULL;
    }
    if (exclusive && !deep) {
        PyErr_SetString(PyExc_ValueError,
                        "sizeof: exclusive=True needs deep=True (a shallow size is always exclusive)");
        return NULL;
    }
    if (!deep) {
        size_t n = sz_shallow(obj, (size_t)align);
        return n == (size_t)-1 && PyErr_Occurred() ? NULL : PyLong_FromSize_t(n);
    }
    sz_total total = {0, 0};
    tf_state *st = PyModule_GetState(module);
    return sz_deep(obj, code, exclusive, (size_t)align, st->str_sizeof, &total) < 0 ? NULL : sz_total_obj(&total);
}

static PyMethodDef sizeof_methods[] = {
    {"sizeof", (PyCFunction)(void (*)(void))tf_sizeof, METH_VARARGS | METH_KEYWORDS, sizeof_doc},
    {NULL, NULL, 0, NULL},
};

int tf_sizeof_add(PyObject *m, tf_state *st) {
    st->str_sizeof = PyUnicode_InternFromString("__sizeof__");
    if (!st->str_sizeof)
        return -1;
    return PyModule_AddFunctions(m, sizeof_methods);
}
