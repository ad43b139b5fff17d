/* thrifty.ObjectPool — a fixed set of Python objects made once by a factory and lent out again and again.
 *
 * Lending is O(1) and allocates nothing: which slots are free, and the counters, are the core pool's
 * (tf_pool_acquire_index / tf_pool_release_index over one link word per slot), and "is this object mine, and is it
 * out?" is answered by the core's hashtable from object address to slot, built with the pool. borrow() hands out
 * a Loan (made with the pool too, one per slot) for use in a with-statement.
 */
#include "buffers.h"

#include "thrifty/hashtable.h"
#include "thrifty/pool.h"

#include <structmember.h>

typedef struct tf_ObjectPoolObject tf_ObjectPoolObject;

typedef struct {
    PyObject_HEAD tf_ObjectPoolObject
        *pool; /* strong while its slot is out, borrowed otherwise; NULL once the pool died */
    Py_ssize_t slot;
} tf_LoanObject;

struct tf_ObjectPoolObject {
    PyObject_HEAD PyObject *reset; /* callable run on each returned object, or NULL; strong */
    PyObject **objs;               /* `size` objects, strong */
    tf_LoanObject **loans;         /* `size` Loans, strong; loans[i] lends objs[i] */
    unsigned char *out;            /* slot states (SLOT_*); objs[i] is borrowed while out[i] != SLOT_FREE */
    tf_pool slots;                 /* the core pool over `links`: block i is slot i, in use while out[i] != SLOT_FREE;
                                      its stats are the pool's counters */
    unsigned char *links;          /* the core pool's storage (a free block holds the next free index); owned */
    tf_hashtable table;            /* object address -> slot, over `table_mem` */
    void *table_mem;               /* owned */
    Py_ssize_t size;               /* slots; 0 once cleared */
    PyObject *weakreflist;
    /* Loan.__enter__ / Loan.__exit__ bound to one of this pool's loans, strong; NULL until the first with-statement
     * and once cleared: a with-statement re-points them instead of allocating two method objects (as Pool's for a
     * Block: block.c, method_get). */
    PyObject *with_cache[2];
};

/* A slot is free (on the free stack), lent (it holds a reference to the pool), or returning: lent, with reset()
 * running on its object, so it is on no stack and release() refuses it. */
enum { SLOT_FREE = 0, SLOT_LENT = 1, SLOT_RETURNING = 2 };

/* Slot holding `obj`, or -1. O(1) expected. */
static Py_ssize_t slot_of(tf_ObjectPoolObject *self, PyObject *obj) {
    uint64_t s;
    return tf_hashtable_get(&self->table, (uint64_t)(uintptr_t)obj, &s) ? (Py_ssize_t)s : -1;
}

static PyObject *objectpool_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"factory", "size", "reset", NULL};
    PyObject *factory, *reset = Py_None;
    Py_ssize_t size;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "On|O:ObjectPool", kwlist, &factory, &size, &reset))
        return NULL;
    if (!PyCallable_Check(factory)) {
        PyErr_Format(PyExc_TypeError, "ObjectPool: factory must be callable, not %.100s", Py_TYPE(factory)->tp_name);
        return NULL;
    }
    if (reset != Py_None && !PyCallable_Check(reset)) {
        PyErr_Format(PyExc_TypeError, "ObjectPool: reset must be callable or None, not %.100s",
                     Py_TYPE(reset)->tp_name);
        return NULL;
    }
    if (size < 1) {
        PyErr_Format(PyExc_ValueError, "ObjectPool: size must be >= 1, got %zd", size);
        return NULL;
    }
    if (size > PY_SSIZE_T_MAX / 4 / (Py_ssize_t)sizeof(Py_ssize_t)) {
        PyErr_Format(PyExc_OverflowError, "ObjectPool: size must be at most %zd, got %zd",
                     PY_SSIZE_T_MAX / 4 / (Py_ssize_t)sizeof(Py_ssize_t), size);
        return NULL;
    }
    /* far beyond any memory that could hold the objects (8 GiB of bare object headers), but the bound is the
     * identity table's */
    if ((size_t)size > TF_HASHTABLE_MAX_CAPACITY) {
        PyErr_Format(PyExc_MemoryError,
                     "ObjectPool: cannot allocate the bookkeeping for %zd objects (its identity table holds at most "
                     "%zd)",
                     size, (Py_ssize_t)TF_HASHTABLE_MAX_CAPACITY);
        return NULL;
    }
    tf_state *st = tf_state_of_type(type);
    tf_ObjectPoolObject *self = (tf_ObjectPoolObject *)type->tp_alloc(type, 0);
    if (!self)
        return NULL;
    self->objs = PyMem_Calloc((size_t)size, sizeof(PyObject *));
    self->loans = PyMem_Calloc((size_t)size, sizeof(tf_LoanObject *));
    self->out = PyMem_Calloc((size_t)size, 1);
    size_t link_bytes = tf_pool_size(1, (size_t)size, 0);
    self->links = link_bytes ? PyMem_Malloc(link_bytes) : NULL; /* PyMem aligns to 8 or more: TF_POOL_ALIGN's default */
    size_t table_bytes = tf_hashtable_size((uint32_t)size);
    self->table_mem = PyMem_Malloc(table_bytes); /* PyMem aligns to 8 or more: the table's alignment */
    if (!self->objs || !self->loans || !self->out || !self->links || !self->table_mem) {
        PyErr_Format(PyExc_MemoryError, "ObjectPool: cannot allocate the bookkeeping for %zd objects", size);
        goto error;
    }
    tf_status status = tf_pool_init(&self->slots, self->links, link_bytes, 1, (size_t)size, 0);
    if (status == TF_OK)
        status = tf_hashtable_init(&self->table, self->table_mem, table_bytes, (uint32_t)size);
    if (status != TF_OK) {
        tf_raise_status(st, status, "ObjectPool");
        goto error;
    }
    self->reset = reset == Py_None ? NULL : Py_NewRef(reset);
    PyTypeObject *loan_type = (PyTypeObject *)st->LoanType;
    for (Py_ssize_t i = 0; i < size; i++) {
        PyObject *obj = PyObject_CallNoArgs(factory);
        if (!obj)
            goto error;
        self->objs[i] = obj;
        self->size = i + 1;
        /* the table has room for `size` entries: the upsert fails only by finding obj already there */
        uint32_t before = tf_hashtable_count(&self->table);
        if (!tf_hashtable_upsert(&self->table, (uint64_t)(uintptr_t)obj, (uint64_t)i) ||
            tf_hashtable_count(&self->table) == before) {
            PyErr_Format(PyExc_ValueError,
                         "ObjectPool: factory returned the same %.100s object twice; the pool needs distinct objects",
                         Py_TYPE(obj)->tp_name);
            goto error;
        }
        tf_LoanObject *loan = (tf_LoanObject *)loan_type->tp_alloc(loan_type, 0);
        if (!loan)
            goto error;
        loan->pool = self;
        loan->slot = i;
        self->loans[i] = loan;
    }
    return (PyObject *)self;
error:
    Py_DECREF(self);
    return NULL;
}

/* Takes a free slot (the core pool hands out slot 0 first, then the most recently returned), or -1 with
 * PoolExhausted. */
static Py_ssize_t take(tf_ObjectPoolObject *self) {
    size_t s;
    if (tf_pool_acquire_index(&self->slots, &s) != TF_OK) {
        tf_pool_stats stats;
        tf_pool_stats_get(&self->slots, &stats);
        PyErr_Format(tf_state_of((PyObject *)self)->PoolExhausted,
                     "ObjectPool exhausted: all %zd objects are borrowed (high-water mark %zd); return one or create "
                     "the pool with a larger size",
                     self->size, (Py_ssize_t)stats.high_water);
        return -1;
    }
    self->out[s] = SLOT_LENT;
    Py_INCREF(self); /* an object out keeps its pool alive through its loan (see buffers.h) */
    return (Py_ssize_t)s;
}

/* Returns slot s: runs reset (on failure the object stays borrowed), then frees the slot. While reset runs the slot
 * is RETURNING, neither lent nor free: reset may call anything, and a release() of the object from there is refused,
 * while acquire() cannot hand it out, so the object is never lent twice. */
static int give_back(tf_ObjectPoolObject *self, Py_ssize_t s) {
    if (self->out[s] != SLOT_LENT) {
        PyErr_SetString(PyExc_ValueError,
                        self->out[s] == SLOT_RETURNING
                            ? "ObjectPool: object is being returned (its reset() is running) and cannot be returned "
                              "again from there"
                            : "ObjectPool: object was already returned to this pool");
        return -1;
    }
    if (self->reset) {
        self->out[s] = SLOT_RETURNING;
        /* reset() may drop the last other reference to the pool (a Loan only borrows it): keep it until done */
        Py_INCREF(self);
        PyObject *r = PyObject_CallOneArg(self->reset, self->objs[s]);
        int ok = r != NULL;
        Py_XDECREF(r);
        if (!self->objs) { /* cleared meanwhile: the clear took the slot and its reference to the pool */
            Py_DECREF(self);
            return ok ? 0 : -1;
        }
        if (!ok) {
            self->out[s] = SLOT_LENT;
            Py_DECREF(self);
            return -1;
        }
        Py_DECREF(self); /* the lent slot's reference still holds it */
    }
    self->out[s] = SLOT_FREE;
    tf_status status = tf_pool_release_index(&self->slots, (size_t)s);
    assert(status == TF_OK); /* out[] said lent, and out[] and the core pool change together */
    (void)status;
    Py_DECREF(self); /* the lent slot's reference: may free the pool, which is not read after this */
    return 0;
}

/* No arguments: refused when nargs != 0. METH_FASTCALL rather than METH_NOARGS, as Pool.acquire (pool.c): CPython
 * 3.11-3.13 specialize a call of a bound built-in method only for METH_O and METH_FASTCALL, so `acquire()` and
 * `borrow()` skip the generic call path. */
static int no_arguments(const char *what, Py_ssize_t nargs) {
    if (nargs == 0)
        return 0;
    PyErr_Format(PyExc_TypeError, "ObjectPool.%s() takes no arguments (%zd given)", what, nargs);
    return -1;
}

static PyObject *objectpool_acquire(PyObject *op, PyObject *const *Py_UNUSED(args), Py_ssize_t nargs) {
    tf_ObjectPoolObject *self = (tf_ObjectPoolObject *)op;
    if (no_arguments("acquire", nargs) < 0)
        return NULL;
    if (!self->objs) {
        PyErr_SetString(PyExc_ValueError, "ObjectPool.acquire(): the pool was cleared");
        return NULL;
    }
    Py_ssize_t s = take(self);
    return s < 0 ? NULL : Py_NewRef(self->objs[s]);
}

static PyObject *objectpool_borrow(PyObject *op, PyObject *const *Py_UNUSED(args), Py_ssize_t nargs) {
    tf_ObjectPoolObject *self = (tf_ObjectPoolObject *)op;
    if (no_arguments("borrow", nargs) < 0)
        return NULL;
    if (!self->objs) {
        PyErr_SetString(PyExc_ValueError, "ObjectPool.borrow(): the pool was cleared");
        return NULL;
    }
    Py_ssize_t s = take(self);
    return s < 0 ? NULL : Py_NewRef((PyObject *)self->loans[s]);
}

static PyObject *objectpool_release(PyObject *op, PyObject *obj) {
    tf_ObjectPoolObject *self = (tf_ObjectPoolObject *)op;
    Py_ssize_t s = self->objs ? slot_of(self, obj) : -1;
    if (s < 0) {
        PyErr_Format(PyExc_ValueError, "ObjectPool.release(): this %.100s object is not owned by this pool",
                     Py_TYPE(obj)->tp_name);
        return NULL;
    }
    if (give_back(self, s) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* Objects out; 0 once the pool was cleared (the clear took every slot back without returning it to the core pool). */
static Py_ssize_t tf__in_use(tf_ObjectPoolObject *self) {
    tf_pool_stats stats;
    tf_pool_stats_get(&self->slots, &stats);
    return self->size ? (Py_ssize_t)stats.in_use : 0;
}

static PyObject *objectpool_stats(PyObject *op, PyObject *Py_UNUSED(ignored)) {
    tf_ObjectPoolObject *self = (tf_ObjectPoolObject *)op;
    tf_pool_stats stats;
    tf_pool_stats_get(&self->slots, &stats);
    return Py_BuildValue("{s:n,s:n,s:n,s:K,s:K}", "count", self->size, "in_use", tf__in_use(self), "high_water",
                         (Py_ssize_t)stats.high_water, "acquired", (unsigned long long)stats.acquired, "exhausted",
                         (unsigned long long)stats.exhausted);
}

static PyObject *objectpool_get_size(PyObject *op, void *Py_UNUSED(c)) {
    return PyLong_FromSsize_t(((tf_ObjectPoolObject *)op)->size);
}

static PyObject *objectpool_repr(PyObject *op) {
    tf_ObjectPoolObject *self = (tf_ObjectPoolObject *)op;
    return PyUnicode_FromFormat("<thrifty.ObjectPool size=%zd in_use=%zd>", self->size, tf__in_use(self));
}

static int objectpool_traverse(PyObject *op, visitproc visit, void *arg) {
    tf_ObjectPoolObject *self = (tf_ObjectPoolObject *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->reset);
    for (Py_ssize_t i = 0; i < self->size; i++) {
        if (self->objs)
            Py_VISIT(self->objs[i]);
        if (self->loans)
            Py_VISIT(self->loans[i]);
    }
    Py_VISIT(self->with_cache[TF_WITH_ENTER]);
    Py_VISIT(self->with_cache[TF_WITH_EXIT]);
    return 0;
}

static int objectpool_clear(PyObject *op) {
    tf_ObjectPoolObject *self = (tf_ObjectPoolObject *)op;
    Py_CLEAR(self->reset);
    /* each holds one of the loans let go below, which runs no Python code when it dies */
    Py_CLEAR(self->with_cache[TF_WITH_ENTER]);
    Py_CLEAR(self->with_cache[TF_WITH_EXIT]);
    PyObject **objs = self->objs;
    tf_LoanObject **loans = self->loans;
    Py_ssize_t size = self->size;
    self->objs = NULL;
    self->loans = NULL;
    self->size = 0;
    for (Py_ssize_t i = 0; i < size; i++) {
        if (loans && loans[i]) {
            loans[i]->pool = NULL;
            if (self->out[i] != SLOT_FREE) { /* the strong reference taken when it was lent */
                self->out[i] = SLOT_FREE;
                Py_DECREF(op);
            }
            Py_DECREF(loans[i]);
        }
        if (objs)
            Py_XDECREF(objs[i]);
    }
    PyMem_Free(objs);
    PyMem_Free(loans);
    return 0;
}

static void objectpool_dealloc(PyObject *op) {
    PyObject_GC_UnTrack(op);
    if (((tf_ObjectPoolObject *)op)->weakreflist)
        PyObject_ClearWeakRefs(op);
    tf_ObjectPoolObject *self = (tf_ObjectPoolObject *)op;
    PyTypeObject *tp = Py_TYPE(op);
    objectpool_clear(op);
    PyMem_Free(self->out);
    PyMem_Free(self->links);
    PyMem_Free(self->table_mem);
    tp->tp_free(op);
    Py_DECREF(tp);
}

/* ---- Loan ---------------------------------------------------------------------------------------------------- */

static int loan_check(tf_LoanObject *loan) {
    if (!loan->pool || !loan->pool->objs || !loan->pool->out[loan->slot]) {
        PyErr_SetString(PyExc_ValueError, "loan was returned");
        return -1;
    }
    return 0;
}

static PyObject *loan_enter(PyObject *op, PyObject *Py_UNUSED(ignored)) {
    tf_LoanObject *loan = (tf_LoanObject *)op;
    if (loan_check(loan) < 0)
        return NULL;
    return Py_NewRef(loan->pool->objs[loan->slot]);
}

static PyObject *loan_release(PyObject *op, PyObject *Py_UNUSED(ignored)) {
    tf_LoanObject *loan = (tf_LoanObject *)op;
    if (loan_check(loan) < 0)
        return NULL;
    if (give_back(loan->pool, loan->slot) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* __enter__ and __exit__ are block.c's with-methods (tf_with_ops): a with-statement binds them without allocating. */
static PyObject *loan_with(PyObject *op, int role) {
    if (role == TF_WITH_ENTER)
        return loan_enter(op, NULL);
    PyObject *r = loan_release(op, NULL);
    if (!r)
        return NULL;
    Py_DECREF(r);
    Py_RETURN_FALSE;
}

/* NULL once the pool was cleared (it let its loans go): then nothing is cached */
static PyObject **loan_cache(PyObject *op) {
    tf_ObjectPoolObject *pool = ((tf_LoanObject *)op)->pool;
    return pool && pool->objs ? pool->with_cache : NULL;
}

static PyObject *loan_get_obj(PyObject *op, void *Py_UNUSED(c)) { return loan_enter(op, NULL); }

static int loan_traverse(PyObject *op, visitproc visit, void *arg) {
    tf_LoanObject *loan = (tf_LoanObject *)op;
    Py_VISIT(Py_TYPE(op));
    if (loan->pool && loan->pool->objs && loan->pool->out[loan->slot])
        Py_VISIT(loan->pool);
    return 0;
}

static void loan_dealloc(PyObject *op) {
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    tp->tp_free(op); /* a Loan dies only after its pool dropped it, so it holds nothing */
    Py_DECREF(tp);
}

static PyMethodDef loan_methods[] = {
    {"release", loan_release, METH_NOARGS, "release($self)\n--\n\nReturn the object to its pool."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef loan_getset[] = {
    {"obj", loan_get_obj, NULL, "The borrowed object (ValueError once returned).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot loan_slots[] = {
    {Py_tp_doc, "A loan from ObjectPool.borrow(): `with pool.borrow() as obj:` returns obj when the block ends."},
    {Py_tp_methods, loan_methods},
    {Py_tp_getset, loan_getset},
    {Py_tp_traverse, loan_traverse},
    {Py_tp_dealloc, loan_dealloc},
    {0, NULL},
};

static PyType_Spec loan_spec = {
    .name = "thrifty.ObjectPool.Loan",
    .basicsize = sizeof(tf_LoanObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = loan_slots,
};

static PyMethodDef objectpool_methods[] = {
    {"borrow", (PyCFunction)(void (*)(void))objectpool_borrow, METH_FASTCALL,
     "borrow($self)\n--\n\nLend an object for a with-statement: `with pool.borrow() as obj:`. PoolExhausted when "
     "empty."},
    {"acquire", (PyCFunction)(void (*)(void))objectpool_acquire, METH_FASTCALL,
     "acquire($self)\n--\n\nLend an object; give it back with release(obj). PoolExhausted when empty."},
    {"release", objectpool_release, METH_O,
     "release($self, obj, /)\n--\n\nReturn an object (reset runs first). ValueError if the pool does not own it or it "
     "was "
     "already returned."},
    {"stats", objectpool_stats, METH_NOARGS,
     "stats($self)\n--\n\n{'count', 'in_use', 'high_water', 'acquired', 'exhausted'}"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef objectpool_getset[] = {
    {"size", objectpool_get_size, NULL, "Number of objects the pool owns.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef objectpool_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(tf_ObjectPoolObject, weakreflist), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot objectpool_slots[] = {
    {Py_tp_members, objectpool_members},
    {Py_tp_doc, "ObjectPool(factory, size, reset=None)\n--\n\n"
                "`size` objects made by factory() up front and lent out again and again; reset(obj) runs on return."},
    {Py_tp_new, objectpool_new},
    {Py_tp_methods, objectpool_methods},
    {Py_tp_getset, objectpool_getset},
    {Py_tp_repr, objectpool_repr},
    {Py_tp_traverse, objectpool_traverse},
    {Py_tp_clear, objectpool_clear},
    {Py_tp_dealloc, objectpool_dealloc},
    {0, NULL},
};

static PyType_Spec objectpool_spec = {
    .name = "thrifty.ObjectPool",
    .basicsize = sizeof(tf_ObjectPoolObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = objectpool_slots,
};

static const tf_with_ops loan_with_ops = {"ObjectPool.Loan", loan_dealloc, loan_cache, loan_with};

int tf_objectpool_add(PyObject *m, tf_state *st) {
    st->LoanType = PyType_FromModuleAndSpec(m, &loan_spec, NULL);
    if (!st->LoanType || tf_with_methods_add(m, (PyTypeObject *)st->LoanType, &loan_with_ops) < 0)
        return -1;
    st->ObjectPoolType = PyType_FromModuleAndSpec(m, &objectpool_spec, NULL);
    if (!st->ObjectPoolType)
        return -1;
    return PyModule_AddObjectRef(m, "ObjectPool", st->ObjectPoolType);
}
