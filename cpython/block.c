/* thrifty.Block — one block of a Pool, exported through the buffer protocol. Blocks are made with their pool and
 * reused: acquire() hands out an existing Block object, so acquiring allocates nothing. */
#include "buffers.h"

static PyObject *released_error(void) {
    PyErr_SetString(PyExc_ValueError, "block was released");
    return NULL;
}

int tf_block_release(tf_BlockObject *b) {
    if (!b->data || !b->pool) {
        released_error();
        return -1;
    }
    if (b->exports > 0) {
        PyErr_Format(PyExc_BufferError,
                     "cannot release a Block while %zd memoryview(s) or View(s) of it are alive; release them first",
                     b->exports);
        return -1;
    }
    tf_PoolObject *pool = b->pool;
    tf_status status = tf_pool_release_index(&pool->core, b->index);
    if (status != TF_OK && status != TF_E_CORRUPT) {
        tf_raise_status(tf_state_of((PyObject *)b), status, "Block.release");
        return -1;
    }
    Py_ssize_t size = (Py_ssize_t)pool->core.block_size;
    b->data = NULL;
    Py_DECREF(pool); /* the acquired block's strong reference; the pool's block array still holds us */
    if (status == TF_E_CORRUPT) {
        PyErr_Format(tf_state_of((PyObject *)b)->CorruptData,
                     "Block of %zd bytes was written past its end (canary overwritten); it was released anyway", size);
        return -1;
    }
    return 0;
}

static PyObject *block_release(PyObject *self, PyObject *Py_UNUSED(ignored)) {
    if (tf_block_release((tf_BlockObject *)self) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *block_enter(PyObject *self, PyObject *Py_UNUSED(ignored)) {
    if (!((tf_BlockObject *)self)->data)
        return released_error();
    return Py_NewRef(self);
}

static PyObject *block_exit(PyObject *self, PyObject *const *Py_UNUSED(args), Py_ssize_t Py_UNUSED(nargs)) {
    if (tf_block_release((tf_BlockObject *)self) < 0)
        return NULL;
    Py_RETURN_FALSE;
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
    return 0;
}

static void block_releasebuffer(PyObject *self, Py_buffer *Py_UNUSED(view)) { ((tf_BlockObject *)self)->exports--; }

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
    {"__enter__", block_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)(void (*)(void))block_exit, METH_FASTCALL, NULL},
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

int tf_block_add(PyObject *m, tf_state *st) {
    st->BlockType = PyType_FromModuleAndSpec(m, &block_spec, NULL);
    if (!st->BlockType)
        return -1;
    return PyModule_AddObjectRef(m, "Block", st->BlockType);
}
