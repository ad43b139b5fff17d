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

static Py_ssize_t block_len(PyObject *self) {
    tf_BlockObject *b = (tf_BlockObject *)self;
    if (!b->data) {
        released_error();
        return -1;
    }
    return (Py_ssize_t)b->pool->core.block_size;
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

static int block_clear(PyObject *self) {
    tf_BlockObject *b = (tf_BlockObject *)self;
    tf_PoolObject *strong = b->data ? b->pool : NULL;
    b->data = NULL;
    b->pool = NULL;
    Py_XDECREF(strong);
    return 0;
}

static void block_dealloc(PyObject *self) {
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    block_clear(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyMethodDef block_methods[] = {
    {"release", block_release, METH_NOARGS,
     "release()\n--\n\nGive the block back to its pool. Afterwards every access raises ValueError."},
    {"__enter__", block_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)(void (*)(void))block_exit, METH_FASTCALL, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef block_getset[] = {
    {"released", block_get_released, NULL, "True once the block went back to its pool.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot block_slots[] = {
    {Py_tp_doc, "A fixed-size writable buffer handed out by Pool.acquire(). Use it through the buffer protocol\n"
                "(memoryview(b), sock.recv_into(b), f.readinto(b)); release() or a with-block gives it back."},
    {Py_tp_methods, block_methods},
    {Py_tp_getset, block_getset},
    {Py_tp_repr, block_repr},
    {Py_tp_traverse, block_traverse},
    {Py_tp_clear, block_clear},
    {Py_tp_dealloc, block_dealloc},
    {Py_sq_length, block_len},
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
