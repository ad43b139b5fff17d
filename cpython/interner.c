/* thrifty.Interner — one canonical instance for equal immutable values (sys.intern for more than str).
 *
 * Equality here is strict, unlike dict keys: 1, 1.0 and True are different values, 0.0 and -0.0 are different, and
 * NaN equals a NaN with the same bits — so intern() never hands back an object of another type or sign. Tuples and
 * frozensets are interned bottom-up: their elements are interned first, so two containers are equal exactly when
 * their elements are the same objects, which is a pointer comparison.
 *
 * The table is the core's hashtable keyed by the strict hash below, whose values are the objects: unequal values
 * may share a hash, so a lookup compares the candidate with each entry of its hash (tf_hashtable_upsert_match with
 * in_equal). It holds a strong reference to every entry. Weak mode cannot use weakrefs (str, int, tuple do not support
 * them); instead, whenever the table would grow, on purge(), and before it reports its size (len, stats, repr), it
 * drops the entries whose reference count shows that only the interner holds them. Dropping a tuple can leave its
 * elements held only by the interner, so the sweep repeats until nothing changes. intern() itself never sweeps unless
 * the table is full: its cost is unchanged; the size queries pay O(capacity) instead, so that they are exact.
 */
#include "pytable.h"
#include "thrifty_ext.h"

#include <string.h>

#define IN_FIRST_SLOTS 64u
#define IN_OBJ(value) ((PyObject *)(uintptr_t)(value))

typedef struct {
    PyObject_HEAD tf_pytable table; /* strict hash (never 0) -> object, a strong reference */
    int weak;
    unsigned long long hits, misses;
    unsigned long long saved; /* bytes of the duplicates callers were handed a canonical instance for */
} InternerObject;

enum { IN_ATOM_PASS, IN_STR, IN_BYTES, IN_INT, IN_FLOAT, IN_TUPLE, IN_FROZENSET, IN_BAD };

static int in_kind(PyObject *o) {
    if (o == Py_None || PyBool_Check(o))
        return IN_ATOM_PASS;
    if (PyUnicode_CheckExact(o))
        return IN_STR;
    if (PyBytes_CheckExact(o))
        return IN_BYTES;
    if (PyLong_CheckExact(o))
        return IN_INT;
    if (PyFloat_CheckExact(o))
        return IN_FLOAT;
    if (PyTuple_CheckExact(o))
        return IN_TUPLE;
    if (PyFrozenSet_CheckExact(o))
        return IN_FROZENSET;
    return IN_BAD;
}

static Py_uhash_t in_mix(Py_uhash_t h) {
    h ^= h >> 31;
    h *= (Py_uhash_t)0x9E3779B97F4A7C15ULL;
    return h ^ (h >> 29);
}

/* Strict hash: equal under in_equal implies equal hash. Returns -1 with an exception on failure. */
static Py_hash_t in_hash(PyObject *o, int kind) {
    Py_uhash_t h;
    switch (kind) {
    case IN_FLOAT: {
        double d = PyFloat_AS_DOUBLE(o);
        uint64_t bits;
        memcpy(&bits, &d, sizeof bits);
        h = in_mix((Py_uhash_t)bits);
        break;
    }
    case IN_TUPLE: {
        h = (Py_uhash_t)PyTuple_GET_SIZE(o) * 31u;
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(o); i++)
            h = in_mix(h ^ (Py_uhash_t)(uintptr_t)PyTuple_GET_ITEM(o, i));
        break;
    }
    case IN_FROZENSET: {
        /* order-independent: a sum of mixed element addresses */
        Py_ssize_t pos = 0;
        PyObject *k;
        Py_hash_t kh;
        h = (Py_uhash_t)PySet_GET_SIZE(o);
        while (tf_py_set_next(o, &pos, &k, &kh))
            h += in_mix((Py_uhash_t)(uintptr_t)k);
        break;
    }
    default: {
        Py_hash_t ph = PyObject_Hash(o);
        if (ph == -1)
            return -1;
        h = (Py_uhash_t)ph;
    }
    }
    /* No final mix: the table's Fibonacci hashing mixes every bit of the key into the slot index, and a multiply
     * here too would lengthen every lookup's chain of dependent operations for nothing. */
    h += (Py_uhash_t)kind;
    /* -1 is the error return and 0 the table's empty key */
    return h == (Py_uhash_t)-1 || h == 0 ? 1 : (Py_hash_t)h;
}

static int in_ptr_cmp(const void *a, const void *b) {
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return x < y ? -1 : x > y;
}

/* Two frozensets of canonical elements are equal when they hold the same objects. */
static int in_frozenset_same(PyObject *a, PyObject *b) {
    Py_ssize_t n = PySet_GET_SIZE(a);
    if (n != PySet_GET_SIZE(b))
        return 0;
    uintptr_t *pa = PyMem_Malloc(2 * (size_t)n * sizeof(uintptr_t) + 1);
    if (!pa) {
        PyErr_NoMemory();
        return -1;
    }
    uintptr_t *pb = pa + n;
    Py_ssize_t pos = 0, i = 0;
    PyObject *k;
    Py_hash_t kh;
    while (tf_py_set_next(a, &pos, &k, &kh))
        pa[i++] = (uintptr_t)k;
    pos = 0;
    i = 0;
    while (tf_py_set_next(b, &pos, &k, &kh))
        pb[i++] = (uintptr_t)k;
    qsort(pa, (size_t)n, sizeof(uintptr_t), in_ptr_cmp);
    qsort(pb, (size_t)n, sizeof(uintptr_t), in_ptr_cmp);
    int same = memcmp(pa, pb, (size_t)n * sizeof(uintptr_t)) == 0;
    PyMem_Free(pa);
    return same;
}

/* 1 equal, 0 not, -1 error. Both objects are exact types of the same kind (no Python code can run). */
static int in_equal(PyObject *a, PyObject *b, int kind) {
    if (a == b)
        return 1;
    if (Py_TYPE(a) != Py_TYPE(b))
        return 0;
    switch (kind) {
    case IN_STR:
        /* equal str have the same length and kind (CPython keeps the narrowest), so the bytes decide */
        return PyUnicode_GET_LENGTH(a) == PyUnicode_GET_LENGTH(b) && PyUnicode_KIND(a) == PyUnicode_KIND(b) &&
               memcmp(PyUnicode_DATA(a), PyUnicode_DATA(b),
                      (size_t)PyUnicode_GET_LENGTH(a) * (size_t)PyUnicode_KIND(a)) == 0;
    case IN_BYTES:
        return PyBytes_GET_SIZE(a) == PyBytes_GET_SIZE(b) &&
               memcmp(PyBytes_AS_STRING(a), PyBytes_AS_STRING(b), (size_t)PyBytes_GET_SIZE(a)) == 0;
    case IN_INT: return PyObject_RichCompareBool(a, b, Py_EQ);
    case IN_FLOAT: {
        double x = PyFloat_AS_DOUBLE(a), y = PyFloat_AS_DOUBLE(b);
        return memcmp(&x, &y, sizeof x) == 0;
    }
    case IN_TUPLE:
        if (PyTuple_GET_SIZE(a) != PyTuple_GET_SIZE(b))
            return 0;
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(a); i++)
            if (PyTuple_GET_ITEM(a, i) != PyTuple_GET_ITEM(b, i))
                return 0;
        return 1;
    case IN_FROZENSET: return in_frozenset_same(a, b);
    default: return 0;
    }
}

typedef struct {
    PyObject *cand;
    int kind;
} in_lookup;

/* tf_hashtable_match for a lookup: whether the entry holds a value equal to the candidate (-1 with an exception) */
static int in_match(void *ctx, uint64_t value) {
    in_lookup *l = ctx;
    return in_equal(IN_OBJ(value), l->cand, l->kind);
}

/* remove_if's test for a sweep: an entry only the interner holds is released here; the table forgets it right after */
static int in_unheld(void *ctx, uint64_t key, uint64_t value) {
    PyObject *o = IN_OBJ(value);
    (void)ctx;
    (void)key;
    if (Py_REFCNT(o) != 1)
        return 0;
    Py_DECREF(o);
    return 1;
}

/* Drop entries only the interner holds; repeat, since dropping a container releases its elements. A pass that drops
 * nothing has seen every entry held elsewhere, so on return the table holds exactly the entries someone else holds.
 * O(cap) per pass, passes = nesting depth of what was dropped + 1. Runs no Python code: entries are exact immutable
 * types whose deallocation only releases other entries. */
static Py_ssize_t in_sweep(InternerObject *self) {
    Py_ssize_t dropped = 0;
    uint32_t n;
    if (!self->table.mem)
        return 0;
    do {
        n = tf_hashtable_remove_if(&self->table.t, in_unheld, NULL);
        dropped += n;
    } while (n);
    return dropped;
}

/* The entry count: in weak mode, after a sweep, so it counts only entries someone besides the interner holds (an
 * entry becomes dead when its last outside reference goes, which the interner cannot observe as it happens). */
static size_t in_live_len(InternerObject *self) {
    if (self->weak)
        in_sweep(self);
    return tf_pytable_count(&self->table);
}

static int in_make_room(InternerObject *self) {
    /* a table without storage has capacity 0 (pytable.h) */
    if (self->table.t.count < self->table.t.capacity)
        return 0;
    if (self->weak && self->table.mem) {
        in_sweep(self);
        if (self->table.t.count < self->table.t.capacity)
            return 0;
    }
    return tf_pytable_grow(&self->table, IN_FIRST_SLOTS);
}

static PyObject *in_intern(InternerObject *self, PyObject *o);

/* A tuple/frozenset made of canonical elements: `o` itself when its elements already are, else a new container. */
static PyObject *in_canonical_container(InternerObject *self, PyObject *o, int kind) {
    PyObject *items = NULL, *result = NULL;
    if (Py_EnterRecursiveCall(" while interning a nested tuple or frozenset"))
        return NULL;
    items = PySequence_List(o);
    if (!items)
        goto error;
    int changed = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
        PyObject *item = PyList_GET_ITEM(items, i);
        PyObject *c = in_intern(self, item);
        if (!c)
            goto error;
        if (c != item)
            changed = 1;
        PyList_SetItem(items, i, c); /* steals c, releases item */
    }
    if (!changed)
        result = Py_NewRef(o);
    else if (kind == IN_TUPLE)
        result = PyList_AsTuple(items);
    else
        result = PyFrozenSet_New(items);
error:
    Py_LeaveRecursiveCall();
    Py_XDECREF(items);
    return result;
}

static PyObject *in_intern(InternerObject *self, PyObject *o) {
    int kind = in_kind(o);
    if (kind == IN_ATOM_PASS)
        return Py_NewRef(o);
    if (kind == IN_BAD) {
        PyErr_Format(PyExc_TypeError,
                     "Interner.intern: cannot intern %.100s; accepted: str, bytes, int, float, None, bool, and "
                     "tuples or frozensets of those (exact types, not subclasses)",
                     Py_TYPE(o)->tp_name);
        return NULL;
    }
    if (kind == IN_STR && PyUnicode_READY(o) < 0) /* legacy (pre-PEP 393) strings: compare needs the data */
        return NULL;
    PyObject *cand = (kind == IN_TUPLE || kind == IN_FROZENSET) ? in_canonical_container(self, o, kind) : Py_NewRef(o);
    if (!cand)
        return NULL;
    if (kind == IN_FROZENSET && PySet_GET_SIZE(cand) != PySet_GET_SIZE(o)) {
        /* two elements the set holds apart (NaNs of the same bits: distinct objects, never ==) are one value here;
         * a canonical set would be smaller than o, another value, so o is handed back as it is, not interned */
        Py_DECREF(cand);
        return Py_NewRef(o);
    }
    Py_hash_t h = in_hash(cand, kind);
    if (h == -1 || in_make_room(self) < 0)
        goto error;
    in_lookup lookup = {cand, kind};
    uint64_t *entry;
    /* in_equal runs no Python code (exact types), so the table cannot change during the lookup */
    int found_it =
        tf_hashtable_upsert_match(&self->table.t, (uint64_t)h, in_match, &lookup, (uint64_t)(uintptr_t)cand, &entry);
    if (found_it < 0) /* in_equal's error (there is room: in_make_room) */
        goto error;
    if (found_it) {
        /* taken before sizing o: __sizeof__ allocates a bound method, a collection that triggers can run a
         * finalizer that clears or regrows this table, and `entry` would point into freed slots */
        PyObject *found = Py_NewRef(IN_OBJ(*entry));
        self->hits++;
        Py_DECREF(cand);
        if (found != o) {
            size_t dup = tf_shallow_sizeof(o);
            if (dup == (size_t)-1 && PyErr_Occurred()) {
                Py_DECREF(found);
                return NULL;
            }
            self->saved += dup;
        }
        return found;
    }
    self->misses++;
    Py_INCREF(cand); /* the table's reference, entered by the upsert */
    return cand;
error:
    Py_DECREF(cand);
    return NULL;
}

static PyObject *Interner_intern(PyObject *self, PyObject *o) { return in_intern((InternerObject *)self, o); }

static PyObject *Interner_stats(PyObject *op, PyObject *Py_UNUSED(ignored)) {
    InternerObject *self = (InternerObject *)op;
    return Py_BuildValue("{s:K,s:K,s:K,s:n}", "hits", self->hits, "misses", self->misses, "bytes_saved", self->saved,
                         "entries", (Py_ssize_t)in_live_len(self));
}

static PyObject *Interner_purge(PyObject *op, PyObject *Py_UNUSED(ignored)) {
    return PyLong_FromSsize_t(in_sweep((InternerObject *)op));
}

static int Interner_clear_entries(InternerObject *self) {
    /* the table is emptied before the entries are released: their deallocation must find it in a valid state */
    tf_pytable old = self->table;
    uint32_t cursor = 0;
    uint64_t value;
    self->table = (tf_pytable){0};
    while (old.mem && tf_hashtable_next(&old.t, &cursor, NULL, &value))
        Py_DECREF(IN_OBJ(value));
    tf_pytable_free(&old);
    return 0;
}

static PyObject *Interner_clear(PyObject *op, PyObject *Py_UNUSED(ignored)) {
    Interner_clear_entries((InternerObject *)op);
    Py_RETURN_NONE;
}

static Py_ssize_t Interner_len(PyObject *op) { return (Py_ssize_t)in_live_len((InternerObject *)op); }

static PyObject *Interner_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"weak", NULL};
    int weak = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|$p:Interner", kwlist, &weak))
        return NULL;
    InternerObject *self = (InternerObject *)type->tp_alloc(type, 0);
    if (!self)
        return NULL;
    self->weak = weak;
    return (PyObject *)self;
}

static int Interner_traverse(PyObject *op, visitproc visit, void *arg) {
    InternerObject *self = (InternerObject *)op;
    uint32_t cursor = 0;
    uint64_t value;
    Py_VISIT(Py_TYPE(op));
    while (self->table.mem && tf_hashtable_next(&self->table.t, &cursor, NULL, &value))
        Py_VISIT(IN_OBJ(value));
    return 0;
}

static int Interner_tp_clear(PyObject *op) { return Interner_clear_entries((InternerObject *)op); }

static void Interner_dealloc(PyObject *op) {
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    Interner_clear_entries((InternerObject *)op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyObject *Interner_sizeof(PyObject *op, PyObject *Py_UNUSED(ignored)) {
    InternerObject *self = (InternerObject *)op;
    return PyLong_FromSize_t((size_t)Py_TYPE(op)->tp_basicsize + self->table.bytes);
}

static PyObject *Interner_repr(PyObject *op) {
    InternerObject *self = (InternerObject *)op;
    return PyUnicode_FromFormat("Interner(entries=%zu%s)", in_live_len(self), self->weak ? ", weak=True" : "");
}

static PyObject *Interner_get_weak(PyObject *op, void *Py_UNUSED(closure)) {
    return PyBool_FromLong(((InternerObject *)op)->weak);
}

static PyMethodDef Interner_methods[] = {
    {"intern", Interner_intern, METH_O,
     "intern(obj) -> the canonical instance equal to obj (obj itself the first time). Equality is strict: same type, "
     "same value (0.0 and -0.0 differ, 1 and 1.0 differ)."},
    {"stats", Interner_stats, METH_NOARGS,
     "stats() -> {'hits', 'misses', 'bytes_saved', 'entries'}. bytes_saved sums sys.getsizeof of every duplicate "
     "that intern() replaced by an existing instance."},
    {"purge", Interner_purge, METH_NOARGS,
     "purge() -> number of entries dropped because only the interner held them (weak mode does this on its own "
     "whenever the table would grow, and before len(), stats() and repr() answer)."},
    {"clear", Interner_clear, METH_NOARGS, "clear() -> None. Forget every entry (stats are kept)."},
    {"__sizeof__", Interner_sizeof, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Interner_getset[] = {
    {"weak", Interner_get_weak, NULL, "True when entries only the interner holds are dropped.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot Interner_slots[] = {
    {Py_tp_new, Interner_new},
    {Py_tp_dealloc, Interner_dealloc},
    {Py_tp_traverse, Interner_traverse},
    {Py_tp_clear, Interner_tp_clear},
    {Py_tp_methods, Interner_methods},
    {Py_tp_getset, Interner_getset},
    {Py_tp_repr, Interner_repr},
    {Py_sq_length, Interner_len},
    {Py_mp_length, Interner_len},
    {Py_tp_doc, "Interner(*, weak=False)\n--\n\n"
                "One canonical instance for equal str, bytes, int, float, and tuples/frozensets of those.\n"
                "weak=True: never the only holder of an entry for long -- entries that only the interner holds are\n"
                "dropped whenever the table would grow and on purge() (str and int cannot be weakly referenced).\n"
                "In weak mode len() and stats()['entries'] count only entries held elsewhere; each call sweeps the\n"
                "table to know, so it costs O(capacity), not O(1)."},
    {0, NULL},
};

static PyType_Spec Interner_spec = {
    .name = "thrifty.Interner",
    .basicsize = sizeof(InternerObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = Interner_slots,
};

int tf_interner_add(PyObject *m, tf_state *st) {
    st->InternerType = PyType_FromModuleAndSpec(m, &Interner_spec, NULL);
    if (!st->InternerType)
        return -1;
    return PyModule_AddObjectRef(m, "Interner", st->InternerType);
}
