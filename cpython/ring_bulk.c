/* thrifty.Ring, buffers and bulk I/O: extend()'s raw fast path (a buffer of the Ring's item format, or a Ring of the
 * same typecode), write(), readinto(), tobytes(), toarray(), views() and clear(). Every path moves raw items through
 * the core ring in one call; none applies to 'O', whose items are references. The type is ring.c. */
#include "ring_obj.h" /* Python.h first, as the C API requires */
#include "ring_values.h"

/* ---- buffers --------------------------------------------------------------------------------------------- */

/* Gets a C-contiguous buffer of this Ring's item format; TypeError naming both formats otherwise. */
static int tf__get_item_buffer(tf_RingObject *self, PyObject *obj, Py_buffer *b, int writable, const char *what) {
    if (IS_OBJ(self)) {
        PyErr_Format(PyExc_TypeError, "Ring('O').%s() needs a typed Ring: 'O' items are object references", what);
        return -1;
    }
    if (PyObject_GetBuffer(obj, b, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0)) < 0) {
        if (PyErr_ExceptionMatches(PyExc_BufferError)) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError, "Ring('%c').%s() needs a %sC-contiguous buffer of format '%c', not %.100s",
                         self->kind->code, what, writable ? "writable " : "", self->kind->code, Py_TYPE(obj)->tp_name);
        }
        return -1;
    }
    if (!tf_py_ring_format_matches(self->kind, b)) {
        PyErr_Format(PyExc_TypeError,
                     "Ring('%c').%s() needs a buffer of format '%c' (%s, %d bytes), got format '%s' (itemsize %zd)",
                     self->kind->code, what, self->kind->code, self->kind->name, (int)self->kind->size,
                     b->format ? b->format : "B", b->itemsize);
        PyBuffer_Release(b);
        return -1;
    }
    return 0;
}

/* ---- many items ------------------------------------------------------------------------------------------ */

/* The raw fast path of extend(): a buffer of the same item format, or another typed Ring of the same typecode. */
int tf_py_ring_extend_raw(tf_RingObject *self, PyObject *src, int *done) {
    *done = 0;
    if (IS_OBJ(self))
        return 0;
    if (tf_py_ring_is_ring(self, src)) {
        tf_RingObject *other = (tf_RingObject *)src;
        if (other->kind != self->kind)
            return 0;
        size_t n = tf_ring_len(&other->ring);
        unsigned char *tmp = PyMem_Malloc(n * self->kind->size + 1);
        if (tmp == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        (void)tf_ring_peek(&other->ring, 0, tmp, n);
        Py_ssize_t r = tf_py_ring_write_raw(self, tmp, n, 0);
        PyMem_Free(tmp);
        *done = 1;
        return r < 0 ? -1 : 0;
    }
    if (!PyObject_CheckBuffer(src))
        return 0;
    Py_buffer b;
    if (PyObject_GetBuffer(src, &b, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) < 0) {
        PyErr_Clear();
        return 0;
    }
    if (!tf_py_ring_format_matches(self->kind, &b)) {
        PyBuffer_Release(&b);
        return 0;
    }
    Py_ssize_t r = tf_py_ring_write_raw(self, b.buf, (size_t)(b.len / b.itemsize), 0);
    PyBuffer_Release(&b);
    *done = 1;
    return r < 0 ? -1 : 0;
}

PyObject *Ring_extend(tf_RingObject *self, PyObject *iterable) {
    if (tf_py_ring_extend(self, iterable, 0) < 0)
        return NULL;
    Py_RETURN_NONE;
}

PyObject *Ring_extendleft(tf_RingObject *self, PyObject *iterable) {
    if (tf_py_ring_extend(self, iterable, 1) < 0)
        return NULL;
    Py_RETURN_NONE;
}

PyObject *Ring_clear(tf_RingObject *self, PyObject *unused) {
    (void)unused;
    if (tf_py_ring_refuse_if_exported(self) < 0)
        return NULL;
    tf_py_ring_drop_all(self);
    self->state++;
    tf_py_ring_maybe_shrink(self);
    Py_RETURN_NONE;
}

PyObject *Ring_write(tf_RingObject *self, PyObject *obj) {
    Py_buffer b;
    if (tf__get_item_buffer(self, obj, &b, 0, "write") < 0)
        return NULL;
    Py_ssize_t n = tf_py_ring_write_raw(self, b.buf, (size_t)(b.len / b.itemsize), 1);
    PyBuffer_Release(&b);
    return n < 0 ? NULL : PyLong_FromSsize_t(n);
}

PyObject *Ring_readinto(tf_RingObject *self, PyObject *obj) {
    Py_buffer b;
    if (tf__get_item_buffer(self, obj, &b, 1, "readinto") < 0)
        return NULL;
    if (tf_py_ring_refuse_if_exported(self) < 0) {
        PyBuffer_Release(&b);
        return NULL;
    }
    size_t n = tf_ring_read(&self->ring, b.buf, (size_t)(b.len / b.itemsize));
    PyBuffer_Release(&b);
    if (n > 0) {
        self->state++;
        tf_py_ring_maybe_shrink(self);
    }
    return PyLong_FromSize_t(n);
}

PyObject *Ring_tobytes(tf_RingObject *self, PyObject *unused) {
    (void)unused;
    if (IS_OBJ(self)) {
        PyErr_SetString(PyExc_TypeError, "Ring('O').tobytes() needs a typed Ring: 'O' items are object references");
        return NULL;
    }
    size_t n = tf_ring_len(&self->ring);
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(n * self->kind->size));
    if (out != NULL)
        (void)tf_ring_peek(&self->ring, 0, PyBytes_AS_STRING(out), n);
    return out;
}

PyObject *Ring_toarray(tf_RingObject *self, PyObject *unused) {
    int code = (int)self->kind->code; /* the bytes' typecode: importing array may run code that re-inits the Ring */
    PyObject *bytes = Ring_tobytes(self, unused), *mod = NULL, *arr = NULL, *r = NULL;
    if (bytes == NULL)
        return NULL;
    mod = PyImport_ImportModule("array");
    if (mod == NULL)
        goto error;
    arr = PyObject_CallMethod(mod, "array", "C", code);
    if (arr == NULL)
        goto error;
    r = PyObject_CallMethod(arr, "frombytes", "O", bytes);
    if (r == NULL)
        goto error;
    Py_DECREF(r);
    Py_DECREF(mod);
    Py_DECREF(bytes);
    return arr;
error:
    Py_XDECREF(arr);
    Py_XDECREF(mod);
    Py_DECREF(bytes);
    return NULL;
}

PyObject *Ring_views(tf_RingObject *self, PyObject *unused) {
    (void)unused;
    if (IS_OBJ(self)) {
        PyErr_SetString(PyExc_TypeError, "Ring('O').views() needs a typed Ring: 'O' items are object references");
        return NULL;
    }
    tf_state *st = tf_state_of((PyObject *)self);
    if (st == NULL)
        return NULL;
    PyObject *a = tf_py_ring_view_new(st, self, 0);
    if (a == NULL)
        return NULL;
    PyObject *b = tf_py_ring_view_new(st, self, 1);
    if (b == NULL) {
        Py_DECREF(a);
        return NULL;
    }
    return Py_BuildValue("(NN)", a, b);
}
