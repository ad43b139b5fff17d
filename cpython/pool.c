/* thrifty.Pool — a fixed-size buffer pool: one arena and all its Block objects made up front, so acquire() and
 * release() are O(1) and allocate nothing. The arena is managed by the core (core/src/pool.c). */
#include "buffers.h"

#include <structmember.h>

#include <string.h>

static PyObject *pool_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"block_size", "count", "zero", "canary", NULL};
    Py_ssize_t block_size, count;
    int zero = 0, canary = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "nn|$pp:Pool", kwlist, &block_size, &count, &zero, &canary))
        return NULL;
    if (block_size < 1) {
        PyErr_Format(PyExc_ValueError, "Pool: block_size must be >= 1, got %zd", block_size);
        return NULL;
    }
    if (count < 1) {
        PyErr_Format(PyExc_ValueError, "Pool: count must be >= 1, got %zd", count);
        return NULL;
    }
    unsigned flags = (zero ? TF_POOL_FLAG_ZERO : 0u) | (canary ? TF_POOL_FLAG_CANARY : 0u);
    size_t size = tf_pool_size((size_t)block_size, (size_t)count, flags);
    if (size == 0 || size > (size_t)PY_SSIZE_T_MAX || (size_t)count > PY_SSIZE_T_MAX / sizeof(PyObject *)) {
        PyErr_Format(PyExc_OverflowError, "Pool: %zd blocks of %zd bytes do not fit in memory", count, block_size);
        return NULL;
    }
    tf_state *st = tf_state_of_type(type);
    tf_PoolObject *self = (tf_PoolObject *)type->tp_alloc(type, 0);
    if (!self)
        return NULL;
    self->cold = 1; /* until the arena is installed below: acquire() goes the slow way and finds the pool closed */
    /* calloc: a big arena stays lazily committed zero pages until blocks are actually used */
    void *arena = PyMem_Calloc(1, size);
    self->blocks = PyMem_Calloc((size_t)count, sizeof(tf_BlockObject *));
    if (!arena || !self->blocks) {
        PyErr_Format(PyExc_MemoryError, "Pool: cannot allocate %zd blocks of %zd bytes (%zu bytes of arena)", count,
                     block_size, size);
        goto error;
    }
    tf_status status = tf_pool_init(&self->core, arena, size, (size_t)block_size, (size_t)count, flags);
    if (status != TF_OK) {
        tf_raise_status(st, status, "Pool");
        goto error;
    }
    self->block_type = Py_NewRef(st->BlockType);
    PyTypeObject *block_type = (PyTypeObject *)st->BlockType;
    /* Making a Block may start a collection, whose finalizers can reach this half-made pool (gc.get_objects()): the
     * arena is installed only once every block exists, so until then the pool reads as closed. */
    for (Py_ssize_t i = 0; i < count; i++) {
        tf_BlockObject *b = (tf_BlockObject *)block_type->tp_alloc(block_type, 0);
        if (!b)
            goto error;
        b->pool = self; /* borrowed while free */
        b->index = (size_t)i;
        b->slow = 1; /* released */
        self->blocks[i] = b;
        self->count = i + 1;
    }
    self->arena = arena;
    self->cold = flags != 0;
    return (PyObject *)self;
error:
    PyMem_Free(arena);
    Py_DECREF(self);
    return NULL;
}

/* Frees the arena; a zero=True pool wipes it first, so secrets in blocks still out at close() do not linger. */
static void free_arena(tf_PoolObject *self) {
    if (self->arena && (self->core.flags & TF_POOL_FLAG_ZERO))
        memset(self->arena, 0, tf_pool_size(self->core.block_size, self->core.count, self->core.flags));
    PyMem_Free(self->arena);
    self->arena = NULL;
    self->cold = 1;
}

/* Block `index`, which the core just handed out at `data`, as acquire()'s result. */
static inline PyObject *hand_out(tf_PoolObject *self, size_t index, unsigned char *data, Py_ssize_t slow) {
    tf_BlockObject *b = self->blocks[index];
    b->data = data;
    b->slow = slow;
    Py_INCREF(self); /* an acquired block keeps its pool (and so its bytes) alive */
    return Py_NewRef((PyObject *)b);
}

static PyObject *closed_error(const char *what) {
    PyErr_Format(PyExc_ValueError, "%s on a closed Pool", what);
    return NULL;
}

/* acquire() but for the hot path below: the checks and messages, a ZERO or CANARY pool, and PoolExhausted. Out of
 * line, so that the hot path makes no call of its own and needs no stack frame (docs/buffers.md). */
static TF_SLOW_PATH PyObject *acquire_slow(PyObject *op, PyObject *const *Py_UNUSED(args), Py_ssize_t nargs) {
    tf_PoolObject *self = (tf_PoolObject *)op;
    if (nargs != 0) {
        PyErr_Format(PyExc_TypeError, "Pool.acquire() takes no arguments (%zd given)", nargs);
        return NULL;
    }
    if (!self->arena)
        return closed_error("acquire()");
    size_t index;
    unsigned char *data = NULL;
    /* a pool that is not cold got here because the hot path found no free block (and counted that): not tried twice */
    if (self->cold)
        data = tf_pool_acquire_at(&self->core, &index);
    if (!data) {
        tf_pool_stats s;
        tf_pool_stats_get(&self->core, &s);
        PyErr_Format(tf_state_of((PyObject *)self)->PoolExhausted,
                     "Pool exhausted: all %zd blocks of %zd bytes are in use (high-water mark %zd); release a block "
                     "or create the pool with a larger count",
                     self->count, (Py_ssize_t)s.block_size, (Py_ssize_t)s.high_water);
        return NULL;
    }
    /* acquired, unexported: a ZERO or CANARY pool's release goes the slow way too */
    return hand_out(self, index, data, self->core.flags != 0);
}

/* METH_FASTCALL rather than METH_NOARGS: CPython 3.11-3.13 specialize a call of a bound built-in method only for the
 * METH_O and METH_FASTCALL conventions, so `acquire()` skips the generic call path (measured: docs/buffers.md). */
static PyObject *pool_acquire(PyObject *op, PyObject *const *args, Py_ssize_t nargs) {
    tf_PoolObject *self = (tf_PoolObject *)op;
    size_t index;
    unsigned char *data;
    /* a canary pool's acquire calls out to mark the guard, a ZERO pool's blocks release the slow way: both go the
     * slow way, so that this path calls nothing and knows the pool has no flags. */
    if ((nargs | self->cold) != 0 || !(data = tf_pool_acquire_plain(&self->core, &index)))
        return acquire_slow(op, args, nargs);
    return hand_out(self, index, data, 0); /* a pool without flags: release() may take its inline path */
}

static PyObject *pool_release(PyObject *op, PyObject *arg) {
    tf_PoolObject *self = (tf_PoolObject *)op;
    if (!PyObject_TypeCheck(arg, (PyTypeObject *)self->block_type)) {
        PyErr_Format(PyExc_TypeError, "Pool.release() takes a Block from Pool.acquire(), not %.100s",
                     Py_TYPE(arg)->tp_name);
        return NULL;
    }
    tf_BlockObject *b = (tf_BlockObject *)arg;
    if (b->pool != self && b->pool != NULL) {
        PyErr_SetString(PyExc_ValueError, "Pool.release(): the Block belongs to another Pool");
        return NULL;
    }
    if (tf_block_release(b) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* The index of a Block that is exported (a memoryview, View, ... of it is alive), or -1. Such a block's bytes are in
 * the arena, so the arena must stay while it is. */
static Py_ssize_t exported_block(tf_PoolObject *self) {
    for (Py_ssize_t i = 0; self->blocks && i < self->count; i++)
        if (self->blocks[i]->exports > 0)
            return i;
    return -1;
}

/* Detaches every Block (an acquired one then reads as released and drops its reference to the pool), frees the
 * arena: the pool is closed. The caller checked that no block is exported. */
static void close_now(tf_PoolObject *self) {
    tf_BlockObject **blocks = self->blocks;
    Py_ssize_t count = self->count;
    self->blocks = NULL;
    self->count = 0;
    Py_ssize_t acquired = 0;
    for (Py_ssize_t i = 0; blocks && i < count; i++) {
        tf_BlockObject *b = blocks[i];
        if (!b)
            continue; /* pool_new failed before making it */
        acquired += b->data != NULL;
        b->data = NULL;
        b->slow = 1; /* released; none is exported here (the callers checked) */
        b->pool = NULL;
        Py_DECREF(b); /* a Block runs no Python code when it dies */
    }
    PyMem_Free(blocks);
    free_arena(self);
    /* a cached method holds one of the blocks just detached, which runs no Python code when it dies */
    Py_CLEAR(self->with_cache[TF_WITH_ENTER]);
    Py_CLEAR(self->with_cache[TF_WITH_EXIT]);
    /* the acquired blocks' references to the pool go last: the last of them may free it (never so in dealloc, where
     * no block is acquired) */
    while (acquired-- > 0)
        Py_DECREF(self);
}

/* close(): refuses with BufferError, changing nothing, while any block is exported. */
static int pool_close_impl(tf_PoolObject *self) {
    if (!self->arena)
        return 0;
    Py_ssize_t i = exported_block(self);
    if (i >= 0) {
        PyErr_Format(PyExc_BufferError,
                     "cannot close a Pool while a memoryview or View of one of its blocks is alive (block %zd)", i);
        return -1;
    }
    close_now(self);
    return 0;
}

static PyObject *pool_close(PyObject *op, PyObject *Py_UNUSED(ignored)) {
    if (pool_close_impl((tf_PoolObject *)op) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *pool_enter(PyObject *op, PyObject *Py_UNUSED(ignored)) {
    if (!((tf_PoolObject *)op)->arena)
        return closed_error("with-statement");
    return Py_NewRef(op);
}

static PyObject *pool_exit(PyObject *op, PyObject *const *Py_UNUSED(args), Py_ssize_t Py_UNUSED(nargs)) {
    if (pool_close_impl((tf_PoolObject *)op) < 0)
        return NULL;
    Py_RETURN_FALSE;
}

static int put(PyObject *d, const char *key, PyObject *value) {
    if (!value)
        return -1;
    int r = PyDict_SetItemString(d, key, value);
    Py_DECREF(value);
    return r;
}

static PyObject *pool_stats(PyObject *op, PyObject *Py_UNUSED(ignored)) {
    tf_PoolObject *self = (tf_PoolObject *)op;
    tf_pool_stats s;
    tf_pool_stats_get(&self->core, &s);
    PyObject *d = PyDict_New();
    if (!d || put(d, "block_size", PyLong_FromSize_t(s.block_size)) < 0 ||
        put(d, "count", PyLong_FromSize_t(s.count)) < 0 || put(d, "in_use", PyLong_FromSize_t(s.in_use)) < 0 ||
        put(d, "high_water", PyLong_FromSize_t(s.high_water)) < 0 ||
        put(d, "acquired", PyLong_FromUnsignedLongLong(s.acquired)) < 0 ||
        put(d, "exhausted", PyLong_FromUnsignedLongLong(s.exhausted)) < 0) {
        Py_XDECREF(d);
        return NULL;
    }
    return d;
}

static PyObject *pool_get_block_size(PyObject *op, void *Py_UNUSED(c)) {
    return PyLong_FromSize_t(((tf_PoolObject *)op)->core.block_size);
}
static PyObject *pool_get_count(PyObject *op, void *Py_UNUSED(c)) {
    return PyLong_FromSize_t(((tf_PoolObject *)op)->core.count);
}
static PyObject *pool_get_closed(PyObject *op, void *Py_UNUSED(c)) {
    return PyBool_FromLong(((tf_PoolObject *)op)->arena == NULL);
}

static PyObject *pool_repr(PyObject *op) {
    tf_PoolObject *self = (tf_PoolObject *)op;
    if (!self->arena)
        return PyUnicode_FromFormat("<thrifty.Pool closed>");
    return PyUnicode_FromFormat("<thrifty.Pool block_size=%zd count=%zd in_use=%zd>", (Py_ssize_t)self->core.block_size,
                                (Py_ssize_t)self->core.count, (Py_ssize_t)self->core.in_use);
}

static int pool_traverse(PyObject *op, visitproc visit, void *arg) {
    tf_PoolObject *self = (tf_PoolObject *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->block_type);
    for (Py_ssize_t i = 0; self->blocks && i < self->count; i++)
        Py_VISIT(self->blocks[i]);
    Py_VISIT(self->with_cache[TF_WITH_ENTER]);
    Py_VISIT(self->with_cache[TF_WITH_EXIT]);
    return 0;
}

/* The collector's clear breaks the Pool <-> acquired Block cycles by closing the pool: afterwards it is a closed
 * Pool, whose methods raise ValueError or report it closed. While a block is exported the arena must stay, so the
 * clear does nothing then (like bytearray, which keeps its storage while exported); the cycle is collected by a
 * later collection, once the memoryview or View is gone. */
static int pool_clear(PyObject *op) {
    tf_PoolObject *self = (tf_PoolObject *)op;
    if (self->arena && exported_block(self) < 0)
        close_now(self);
    return 0;
}

/* An exported block is acquired and so keeps its pool alive: at dealloc none is exported, and closing is safe. */
static void pool_dealloc(PyObject *op) {
    PyObject_GC_UnTrack(op);
    if (((tf_PoolObject *)op)->weakreflist)
        PyObject_ClearWeakRefs(op);
    tf_PoolObject *self = (tf_PoolObject *)op;
    PyTypeObject *tp = Py_TYPE(op);
    close_now(self);
    Py_CLEAR(self->block_type);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyMethodDef pool_methods[] = {
    {"acquire", (PyCFunction)(void (*)(void))pool_acquire, METH_FASTCALL,
     "acquire($self)\n--\n\nHand out a free Block (O(1), no allocation). Raises PoolExhausted when every block is in "
     "use."},
    {"release", pool_release, METH_O,
     "release($self, block, /)\n--\n\nGive a Block back (same as block.release()). ValueError if it was already "
     "released or "
     "belongs to another pool; BufferError while a memoryview of it is alive."},
    {"stats", pool_stats, METH_NOARGS,
     "stats($self)\n--\n\n{'block_size', 'count', 'in_use', 'high_water', 'acquired', 'exhausted'}"},
    {"close", pool_close, METH_NOARGS,
     "close($self)\n--\n\nRelease every block and free the arena. Later acquire() raises ValueError."},
    {"__enter__", pool_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)(void (*)(void))pool_exit, METH_FASTCALL, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef pool_getset[] = {
    {"block_size", pool_get_block_size, NULL, "Bytes in each block.", NULL},
    {"count", pool_get_count, NULL, "Number of blocks.", NULL},
    {"closed", pool_get_closed, NULL, "True after close().", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef pool_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(tf_PoolObject, weakreflist), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot pool_slots[] = {
    {Py_tp_members, pool_members},
    {Py_tp_doc, "Pool(block_size, count, *, zero=False, canary=False)\n--\n\n"
                "A fixed-size buffer pool: `count` blocks of `block_size` bytes allocated once. zero=True clears a\n"
                "block on release; canary=True guards each block's end and checks it on release (debug mode)."},
    {Py_tp_new, pool_new},
    {Py_tp_methods, pool_methods},
    {Py_tp_getset, pool_getset},
    {Py_tp_repr, pool_repr},
    {Py_tp_traverse, pool_traverse},
    {Py_tp_clear, pool_clear},
    {Py_tp_dealloc, pool_dealloc},
    {0, NULL},
};

static PyType_Spec pool_spec = {
    .name = "thrifty.Pool",
    .basicsize = sizeof(tf_PoolObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = pool_slots,
};

int tf_pool_add(PyObject *m, tf_state *st) {
    st->PoolType = PyType_FromModuleAndSpec(m, &pool_spec, NULL);
    if (!st->PoolType)
        return -1;
    return PyModule_AddObjectRef(m, "Pool", st->PoolType);
}
