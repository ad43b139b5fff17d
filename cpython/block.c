/* thrifty.Block — one block of a Pool, exported through the buffer protocol. Blocks are made with their pool and
 * reused: acquire() hands out an existing Block object, so acquiring allocates nothing. */
#include "buffers.h"

#include <structmember.h>

static PyObject *released_error(void) {
    PyErr_SetString(PyExc_ValueError, "block was released");
    return NULL;
}

static int release_refused(tf_BlockObject *b) {
    if (!b->data || !b->pool) {
        released_error();
        return -1;
    }
    PyErr_Format(PyExc_BufferError,
                 "cannot release a Block while %zd memoryview(s) or View(s) of it are alive; release them first",
                 b->exports);
    return -1;
}

static int release_failed(tf_BlockObject *b, tf_status status) {
    if (status != TF_E_CORRUPT) {
        tf_raise_status(tf_state_of((PyObject *)b), status, "Block.release");
        return -1;
    }
    tf_PoolObject *pool = b->pool;
    Py_ssize_t size = (Py_ssize_t)pool->core.block_size;
    b->data = NULL;
    b->slow = 1;     /* released, unexported (tf_block_release checked) */
    Py_DECREF(pool); /* released all the same: the acquired block's strong reference goes */
    PyErr_Format(tf_state_of((PyObject *)b)->CorruptData,
                 "Block of %zd bytes was written past its end (canary overwritten); it was released anyway", size);
    return -1;
}

int tf_block_release(tf_BlockObject *b) {
    if (tf_block_release_fast(b))
        return 0;
    if (!b->data || b->exports > 0)
        return release_refused(b);
    tf_PoolObject *pool = b->pool;
    tf_status status = tf_pool_release_out(&pool->core, b->index); /* as in tf_block_release_fast */
    if (status != TF_OK)
        return release_failed(b, status);
    b->data = NULL;
    b->slow = 1; /* released, unexported */
    Py_DECREF(pool);
    return 0;
}

/* tf_block_release and None, for block_release below: out of line, so that the hot path there calls nothing. */
static Py_NO_INLINE PyObject *release_slow(PyObject *self) {
    if (tf_block_release((tf_BlockObject *)self) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* METH_NOARGS: CPython 3.11 calls it through PRECALL_NO_KW_METHOD_DESCRIPTOR_NOARGS, a few instructions cheaper
 * per `b.release()` than the METH_FASTCALL specialization (measured with callgrind: docs/buffers.md). */
static PyObject *block_release(PyObject *self, PyObject *Py_UNUSED(ignored)) {
    if (!tf_block_release_fast((tf_BlockObject *)self))
        return release_slow(self);
    Py_RETURN_NONE;
}

static PyObject *block_get_released(PyObject *self, void *Py_UNUSED(closure)) {
    return PyBool_FromLong(((tf_BlockObject *)self)->data == NULL);
}

/* The block's size, or -1 with ValueError once released. Item access calls it again after anything that may run
 * Python code (an __index__, __buffer__ or iterator): that code may release the block or close its pool. */
static Py_ssize_t live_size(tf_BlockObject *b) {
    if (!b->data) {
        released_error();
        return -1;
    }
    return (Py_ssize_t)b->pool->core.block_size;
}

static Py_ssize_t block_len(PyObject *self) { return live_size((tf_BlockObject *)self); }

/* IndexError naming the valid range; `big` (an int too large for Py_ssize_t) is shown instead of `i` when given. */
static void out_of_range(PyObject *big, Py_ssize_t i, Py_ssize_t n) {
    if (big)
        PyErr_Format(PyExc_IndexError,
                     "Block index %S out of range: valid indices are -%zd..%zd for a Block of %zd bytes", big, n, n - 1,
                     n);
    else
        PyErr_Format(PyExc_IndexError,
                     "Block index %zd out of range: valid indices are -%zd..%zd for a Block of %zd bytes", i, n, n - 1,
                     n);
}

/* `key` (an int or an __index__ object) as a Py_ssize_t, not yet bounds-checked. An int too large for Py_ssize_t
 * is refused here, before the caller looks at any value, as bytearray does. 0, or -1 with an exception. */
static int index_of(tf_BlockObject *b, PyObject *key, Py_ssize_t *out) {
    PyObject *num = PyNumber_Index(key); /* an exact int comes back as itself: no allocation */
    if (!num)
        return -1;
    *out = PyLong_AsSsize_t(num);
    if (*out == -1 && PyErr_Occurred()) { /* OverflowError: the only failure for an int */
        PyErr_Clear();
        Py_ssize_t n = live_size(b);
        if (n >= 0)
            out_of_range(num, 0, n);
        Py_DECREF(num);
        return -1;
    }
    Py_DECREF(num);
    return 0;
}

/* Bounds-checks i (negative counts from the end) against the live block; its offset, or -1 with an exception. */
static Py_ssize_t offset_of(tf_BlockObject *b, Py_ssize_t i) {
    Py_ssize_t n = live_size(b);
    if (n < 0)
        return -1;
    Py_ssize_t at = i < 0 ? i + n : i;
    if (at < 0 || at >= n) {
        out_of_range(NULL, i, n);
        return -1;
    }
    return at;
}

/* The sequence slot, which iteration uses. PySequence_GetItem has already added len() to a negative i, so a
 * negative i here is out of range rather than counted from the end a second time. */
static PyObject *block_item(PyObject *self, Py_ssize_t i) {
    tf_BlockObject *b = (tf_BlockObject *)self;
    Py_ssize_t n = live_size(b);
    if (n < 0)
        return NULL;
    if (i < 0 || i >= n) {
        out_of_range(NULL, i, n);
        return NULL;
    }
    return PyLong_FromLong(b->data[i]); /* 0..255 are cached ints */
}

static PyObject *block_subscript(PyObject *self, PyObject *key) {
    tf_BlockObject *b = (tf_BlockObject *)self;
    if (live_size(b) < 0)
        return NULL;
    if (PyIndex_Check(key)) {
        Py_ssize_t i, at;
        if (index_of(b, key, &i) < 0 || (at = offset_of(b, i)) < 0)
            return NULL;
        return PyLong_FromLong(b->data[at]);
    }
    if (PySlice_Check(key)) {
        Py_ssize_t start, stop, step, n;
        if (PySlice_Unpack(key, &start, &stop, &step) < 0 || (n = live_size(b)) < 0)
            return NULL;
        Py_ssize_t len = PySlice_AdjustIndices(n, &start, &stop, step);
        if (step == 1)
            return PyBytes_FromStringAndSize((const char *)b->data + start, len);
        PyObject *out = PyBytes_FromStringAndSize(NULL, len);
        if (!out)
            return NULL;
        char *dst = PyBytes_AS_STRING(out);
        for (Py_ssize_t k = 0, i = start; k < len; k++, i += step)
            dst[k] = (char)b->data[i];
        return out;
    }
    PyErr_Format(PyExc_TypeError, "Block indices must be integers or slices, not %.100s", Py_TYPE(key)->tp_name);
    return NULL;
}

/* b[i] = value: value must be an int in range(0, 256), checked before the index is bounds-checked (bytearray's
 * order). No allocation. */
static int set_byte(tf_BlockObject *b, PyObject *key, PyObject *value) {
    Py_ssize_t i;
    if (index_of(b, key, &i) < 0)
        return -1;
    int overflow;
    long x = PyLong_AsLongAndOverflow(value, &overflow); /* TypeError for a non-int, worded as bytearray's */
    if (x == -1 && PyErr_Occurred())
        return -1;
    if (overflow) {
        PyErr_Format(PyExc_ValueError, "byte must be in range(0, 256), got %S", value);
        return -1;
    }
    if (x < 0 || x > 255) {
        PyErr_Format(PyExc_ValueError, "byte must be in range(0, 256), got %ld", x);
        return -1;
    }
    Py_ssize_t at = offset_of(b, i);
    if (at < 0)
        return -1;
    b->data[at] = (unsigned char)x;
    return 0;
}

/* The bytes a slice assignment takes, into *in (the caller releases it): what bytearray accepts, so any bytes-like
 * object (a non-contiguous one is copied) or an iterable of ints in range(0, 256); an int or str is refused. */
static int source_of(PyObject *value, Py_buffer *in) {
    if (PyObject_CheckBuffer(value)) {
        if (PyObject_GetBuffer(value, in, PyBUF_SIMPLE) == 0)
            return 0;
        if (!PyErr_ExceptionMatches(PyExc_BufferError))
            return -1;
        PyErr_Clear(); /* not one contiguous run of bytes: copied below */
    } else if (PyNumber_Check(value) || PyUnicode_Check(value)) {
        PyErr_Format(PyExc_TypeError,
                     "can assign only bytes, buffers, or iterables of ints in range(0, 256) to a Block slice, "
                     "not %.100s",
                     Py_TYPE(value)->tp_name);
        return -1;
    }
    PyObject *copy = PyBytes_FromObject(value);
    if (!copy)
        return -1;
    int r = PyObject_GetBuffer(copy, in, PyBUF_SIMPLE); /* the export keeps the copy alive */
    Py_DECREF(copy);
    return r;
}

/* b[i:j:k] = value: the lengths must match, since a Block can neither grow nor shrink. */
static int set_slice(tf_BlockObject *b, PyObject *key, PyObject *value) {
    Py_ssize_t start, stop, step, n;
    Py_buffer in;
    if (PySlice_Unpack(key, &start, &stop, &step) < 0 || source_of(value, &in) < 0)
        return -1;
    int r = -1;
    if ((n = live_size(b)) < 0) /* only now: the conversions above may have run Python code */
        goto done;
    Py_ssize_t len = PySlice_AdjustIndices(n, &start, &stop, step);
    if (in.len != len) {
        PyErr_Format(PyExc_ValueError,
                     "Block slice assignment: %zd bytes given for a slice of %zd bytes (a Block's size is fixed)",
                     in.len, len);
        goto done;
    }
    r = tf_write_slice((char *)b->data, n, start, step, in.buf, len);
done:
    PyBuffer_Release(&in);
    return r;
}

static int block_ass_subscript(PyObject *self, PyObject *key, PyObject *value) {
    tf_BlockObject *b = (tf_BlockObject *)self;
    Py_ssize_t n = live_size(b);
    if (n < 0)
        return -1;
    if (!value) {
        PyErr_Format(PyExc_TypeError, "Block does not support item deletion: its size is fixed at %zd bytes", n);
        return -1;
    }
    if (PyIndex_Check(key))
        return set_byte(b, key, value);
    if (PySlice_Check(key))
        return set_slice(b, key, value);
    PyErr_Format(PyExc_TypeError, "Block indices must be integers or slices, not %.100s", Py_TYPE(key)->tp_name);
    return -1;
}

/* The sequence iterator over sq_item, but refused at once on a released block like every other access. */
static PyObject *block_iter(PyObject *self) {
    if (live_size((tf_BlockObject *)self) < 0)
        return NULL;
    return PySeqIter_New(self);
}

/* `x in b`, as for bytearray: an int in range(0, 256) or a bytes-like subsequence. */
static int block_contains(PyObject *self, PyObject *sub) {
    tf_BlockObject *b = (tf_BlockObject *)self;
    Py_buffer buf;
    char one;
    const char *needle;
    Py_ssize_t m, n;
    if (live_size(b) < 0 || tf_needle_of(sub, &buf, &one, &needle, &m) < 0)
        return -1;
    Py_ssize_t at = (n = live_size(b)) < 0 ? -2 : tf_bytes_find((const char *)b->data, 0, n, needle, m);
    if (buf.obj)
        PyBuffer_Release(&buf);
    return at == -2 ? -1 : at >= 0;
}

static int block_getbuffer(PyObject *self, Py_buffer *view, int flags) {
    tf_BlockObject *b = (tf_BlockObject *)self;
    if (!b->data) {
        released_error();
        return -1;
    }
    if (PyBuffer_FillInfo(view, self, b->data, (Py_ssize_t)b->pool->core.block_size, 0, flags) < 0)
        return -1;
    b->exports++;
    b->slow++;
    return 0;
}

static void block_releasebuffer(PyObject *self, Py_buffer *Py_UNUSED(view)) {
    tf_BlockObject *b = (tf_BlockObject *)self;
    b->exports--;
    b->slow--;
}

static PyObject *block_repr(PyObject *self) {
    tf_BlockObject *b = (tf_BlockObject *)self;
    if (!b->data)
        return PyUnicode_FromString("<thrifty.Block released>");
    return PyUnicode_FromFormat("<thrifty.Block %zd bytes>", (Py_ssize_t)b->pool->core.block_size);
}

static int block_traverse(PyObject *self, visitproc visit, void *arg) {
    tf_BlockObject *b = (tf_BlockObject *)self;
    Py_VISIT(Py_TYPE(self));
    if (b->data)
        Py_VISIT(b->pool); /* strong only while acquired */
    return 0;
}

/* No tp_clear: a Block's only reference is to its pool while acquired, and the pool's clear breaks that cycle (it
 * cannot break it while the block is exported, and neither may the block: the pool's arena holds its bytes). Its
 * pool holds it until the pool closes or dies, which detaches it first, so it dies holding nothing. */
static void block_dealloc(PyObject *self) {
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyMethodDef block_methods[] = {
    {"release", block_release, METH_NOARGS,
     "release($self)\n--\n\nGive the block back to its pool. Afterwards every access raises ValueError."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef block_getset[] = {
    {"released", block_get_released, NULL, "True once the block went back to its pool.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot block_slots[] = {
    {Py_tp_doc, "A fixed-size writable buffer handed out by Pool.acquire(). Use it as a bytearray that never\n"
                "changes size (b[i], b[i] = 0..255, b[i:j] -> bytes, b[i:j] = same-length bytes, iteration, `in`)\n"
                "or through the buffer protocol (memoryview(b), sock.recv_into(b), f.readinto(b)); release() or a\n"
                "with-block gives it back."},
    {Py_tp_methods, block_methods},
    {Py_tp_getset, block_getset},
    {Py_tp_repr, block_repr},
    {Py_tp_iter, block_iter},
    {Py_tp_traverse, block_traverse},
    {Py_tp_dealloc, block_dealloc},
    {Py_sq_length, block_len},
    {Py_sq_item, block_item},
    {Py_sq_contains, block_contains},
    {Py_mp_length, block_len},
    {Py_mp_subscript, block_subscript},
    {Py_mp_ass_subscript, block_ass_subscript},
    {Py_bf_getbuffer, block_getbuffer},
    {Py_bf_releasebuffer, block_releasebuffer},
    {0, NULL},
};

static PyType_Spec block_spec = {
    .name = "thrifty.Block",
    .basicsize = sizeof(tf_BlockObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = block_slots,
};

/* ---- __enter__ and __exit__ of Block (and of ObjectPool.Loan) --------------------------------------------------
 * A with-statement looks up __enter__ and __exit__ on the type and binds each to the object: with ordinary methods
 * that is two method objects allocated and freed per use, which cost more than the block's own acquire and release
 * (docs/buffers.md has the measurement). So these two are descriptors of their own type, whose binding hands out a
 * method the object's pool keeps (Pool.with_cache) whenever nobody else holds it: re-pointing an object that only the
 * pool references is invisible, and a with-statement then allocates nothing. A method someone still holds (a nested
 * with, `m = b.__exit__`) is never re-pointed: the binding makes a new one, as an ordinary method would. ObjectPool's
 * Loan uses the same descriptors through its own tf_with_ops (objectpool.c). */

static const char *const with_names[] = {"__enter__", "__exit__"};

static int is_owner(const tf_with_ops *ops, PyObject *obj) { return Py_TYPE(obj)->tp_dealloc == ops->owner_dealloc; }

static PyObject *with_call(const tf_with_ops *ops, PyObject *obj, int role, Py_ssize_t nargs, PyObject *kwnames) {
    if (kwnames && PyTuple_GET_SIZE(kwnames) > 0) {
        PyErr_Format(PyExc_TypeError, "%s.%s() takes no keyword arguments", ops->owner, with_names[role]);
        return NULL;
    }
    if (role == TF_WITH_ENTER && nargs != 0) {
        PyErr_Format(PyExc_TypeError, "%s.__enter__() takes no arguments (%zd given)", ops->owner, nargs);
        return NULL;
    }
    return ops->call(obj, role);
}

/* Block's with-methods: __enter__ returns the block, __exit__ releases it (any exception passes through, like
 * close()). */
static PyObject *block_with(PyObject *block, int role) {
    if (role == TF_WITH_ENTER) {
        if (!((tf_BlockObject *)block)->data)
            return released_error();
        return Py_NewRef(block);
    }
    if (tf_block_release((tf_BlockObject *)block) < 0)
        return NULL;
    Py_RETURN_FALSE;
}

/* NULL once the pool closed: then nothing is cached */
static PyObject **block_cache(PyObject *block) {
    tf_PoolObject *pool = ((tf_BlockObject *)block)->pool;
    return pool ? pool->with_cache : NULL;
}

static const tf_with_ops block_with_ops = {"Block", block_dealloc, block_cache, block_with};

static PyObject *method_vectorcall(PyObject *op, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    tf_BlockMethodObject *m = (tf_BlockMethodObject *)op;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (m->obj)
        return with_call(m->ops, m->obj, m->role, nargs, kwnames);
    /* unbound, Block.__enter__(b): the object comes first */
    if (nargs < 1 || !is_owner(m->ops, args[0])) {
        PyErr_Format(PyExc_TypeError, "descriptor '%s' of 'thrifty.%s' objects needs a %s argument, not %.100s",
                     with_names[m->role], m->ops->owner, m->ops->owner,
                     nargs < 1 ? "nothing" : Py_TYPE(args[0])->tp_name);
        return NULL;
    }
    return with_call(m->ops, args[0], m->role, nargs - 1, kwnames);
}

static tf_BlockMethodObject *method_new(PyTypeObject *type, const tf_with_ops *ops, PyObject *obj, int role) {
    tf_BlockMethodObject *m = PyObject_GC_New(tf_BlockMethodObject, type);
    if (!m)
        return NULL;
    m->vectorcall = method_vectorcall;
    m->obj = Py_XNewRef(obj);
    m->ops = ops;
    m->role = role;
    PyObject_GC_Track(m);
    return m;
}

static PyObject *method_get(PyObject *op, PyObject *obj, PyObject *Py_UNUSED(type)) {
    tf_BlockMethodObject *d = (tf_BlockMethodObject *)op;
    if (d->obj || !obj || obj == Py_None)
        return Py_NewRef(op); /* a bound method is not bound again; Block.__enter__ is the descriptor itself */
    if (!is_owner(d->ops, obj)) {
        PyErr_Format(PyExc_TypeError, "descriptor '%s' for 'thrifty.%s' objects doesn't apply to a '%.100s' object",
                     with_names[d->role], d->ops->owner, Py_TYPE(obj)->tp_name);
        return NULL;
    }
    PyObject **cache = d->ops->cache(obj);
    tf_BlockMethodObject *m = cache ? (tf_BlockMethodObject *)cache[d->role] : NULL;
    if (m && Py_REFCNT(m) == 1) {
        /* Only the pool holds it. The object it was bound to is one of the pool's, which the pool still holds
         * (letting them go empties the cache), so dropping that reference frees nothing and runs no code. */
        Py_SETREF(m->obj, Py_NewRef(obj));
        return Py_NewRef((PyObject *)m);
    }
    m = method_new(Py_TYPE(op), d->ops, obj, d->role);
    if (!m)
        return NULL;
    /* the allocation may have run a collection whose finalizers closed the pool: read it again */
    cache = d->ops->cache(obj);
    if (cache && !cache[d->role])
        cache[d->role] = Py_NewRef((PyObject *)m);
    return (PyObject *)m;
}

static PyObject *method_repr(PyObject *op) {
    tf_BlockMethodObject *m = (tf_BlockMethodObject *)op;
    if (!m->obj)
        return PyUnicode_FromFormat("<method '%s' of 'thrifty.%s' objects>", with_names[m->role], m->ops->owner);
    return PyUnicode_FromFormat("<built-in method %s of thrifty.%s object at %p>", with_names[m->role], m->ops->owner,
                                m->obj);
}

static PyObject *method_get_name(PyObject *op, void *Py_UNUSED(c)) {
    return PyUnicode_FromString(with_names[((tf_BlockMethodObject *)op)->role]);
}
static PyObject *method_get_qualname(PyObject *op, void *Py_UNUSED(c)) {
    tf_BlockMethodObject *m = (tf_BlockMethodObject *)op;
    return PyUnicode_FromFormat("%s.%s", m->ops->owner, with_names[m->role]);
}
static PyObject *method_get_self(PyObject *op, void *Py_UNUSED(c)) {
    PyObject *obj = ((tf_BlockMethodObject *)op)->obj;
    return Py_NewRef(obj ? obj : Py_None);
}
/* what inspect.signature reads for a built-in; the bound form drops $self because __self__ is set */
static PyObject *method_get_text_signature(PyObject *op, void *Py_UNUSED(c)) {
    return PyUnicode_FromString(((tf_BlockMethodObject *)op)->role == TF_WITH_ENTER ? "($self, /)"
                                                                                    : "($self, /, *exc)");
}

static int method_traverse(PyObject *op, visitproc visit, void *arg) {
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((tf_BlockMethodObject *)op)->obj);
    return 0;
}

/* No tp_clear: a cycle through a cached method (pool -> method -> block -> pool while acquired) is broken by the
 * pool's clear, which empties the cache; a method someone holds keeps working as long as they hold it. */
static void method_dealloc(PyObject *op) {
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    Py_CLEAR(((tf_BlockMethodObject *)op)->obj); /* a Block or Loan runs no Python code when it dies */
    PyObject_GC_Del(op);
    Py_DECREF(tp);
}

static PyGetSetDef method_getset[] = {
    {"__name__", method_get_name, NULL, NULL, NULL},
    {"__qualname__", method_get_qualname, NULL, NULL, NULL},
    {"__self__", method_get_self, NULL, NULL, NULL},
    {"__text_signature__", method_get_text_signature, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef method_members[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(tf_BlockMethodObject, vectorcall), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot method_slots[] = {
    {Py_tp_doc, "__enter__ / __exit__ of Block and ObjectPool.Loan (a with-statement's methods, bound without "
                "allocating)."},
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_descr_get, method_get},
    {Py_tp_repr, method_repr},
    {Py_tp_getset, method_getset},
    {Py_tp_members, method_members},
    {Py_tp_traverse, method_traverse},
    {Py_tp_dealloc, method_dealloc},
    {0, NULL},
};

static PyType_Spec method_spec = {
    .name = "thrifty.WithMethod",
    .basicsize = sizeof(tf_BlockMethodObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION | Py_TPFLAGS_IMMUTABLETYPE |
             Py_TPFLAGS_HAVE_VECTORCALL,
    .slots = method_slots,
};

/* Puts the two unbound descriptors into owner's dict. Their type lives as long as they do (each holds it). */
int tf_with_methods_add(PyObject *m, PyTypeObject *owner, const tf_with_ops *ops) {
    PyTypeObject *type = (PyTypeObject *)PyType_FromModuleAndSpec(m, &method_spec, NULL);
    if (!type)
        return -1;
    int r = 0;
    for (int role = TF_WITH_ENTER; r == 0 && role <= TF_WITH_EXIT; role++) {
        tf_BlockMethodObject *d = method_new(type, ops, NULL, role);
        r = d ? PyDict_SetItemString(owner->tp_dict, with_names[role], (PyObject *)d) : -1;
        Py_XDECREF(d);
    }
    Py_DECREF(type);
    PyType_Modified(owner);
    return r;
}

int tf_block_add(PyObject *m, tf_state *st) {
    st->BlockType = PyType_FromModuleAndSpec(m, &block_spec, NULL);
    if (!st->BlockType || tf_with_methods_add(m, (PyTypeObject *)st->BlockType, &block_with_ops) < 0)
        return -1;
    return PyModule_AddObjectRef(m, "Block", st->BlockType);
}
