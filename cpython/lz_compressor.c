/* thrifty.lz.Compressor (zlib.compressobj-like) and the one-shot thrifty.lz.compress(). */
#include "lz_buffer.h"

typedef struct {
    PyObject_HEAD void *storage; /* owned (PyMem_Malloc): the encoder's whole state, tf_lz_encoder_size(W, L) bytes */
    tf_lz_encoder *enc;          /* points into storage */
    int window_bits;
    int lookahead_bits;
    int level;
    unsigned filter; /* TF_LZ_FILTER(id), 0 for none */
    int finished;    /* flush() has ended the frame */
    int busy;        /* a call is running with the GIL released */
} LzCompressor;

/* Runs input through the encoder into `out`; with `finish`, to the end of the frame. Returns a tf_status, or
 * TF_E_FULL when the output buffer could not grow (out of memory). Needs no GIL. */
static tf_status run_encoder(tf_lz_encoder *enc, const uint8_t *in, size_t n, int finish, tf_lz_obuf *out) {
    size_t ip = 0;
    for (;;) {
        size_t c = 0, got = 0;
        if (ip < n) {
            tf_status st = tf_lz_encoder_sink(enc, in + ip, n - ip, &c);
            if (st < 0)
                return st;
            ip += c;
        }
        if (tf_lz_obuf_reserve(out, 64, SIZE_MAX / 2u) < 0)
            return TF_E_FULL;
        tf_status st = tf_lz_encoder_poll(enc, out->p + out->n, out->cap - out->n, &got);
        out->n += got;
        if (st < 0)
            return st;
        if (st == TF_LZ_MORE || ip < n)
            continue;
        if (!finish)
            return TF_OK;
        if (tf_lz_encoder_finish(enc) == TF_LZ_DONE)
            return TF_OK;
    }
}

static PyObject *encode(LzCompressor *self, const uint8_t *in, size_t n, int finish, const char *what) {
    if (self->finished) {
        PyErr_Format(PyExc_ValueError, "Compressor.%s() after flush(): the frame is complete; make a new Compressor",
                     what);
        return NULL;
    }
    if (self->busy) {
        PyErr_Format(PyExc_RuntimeError, "Compressor.%s(): the compressor is in use by another thread", what);
        return NULL;
    }
    tf_lz_obuf out = {NULL, 0, 0};
    if (tf_lz_obuf_reserve(&out, n + n / 8u + 64u, SIZE_MAX / 2u) < 0)
        return PyErr_NoMemory();
    tf_status st;
    if (n >= TF_LZ_NOGIL_MIN) {
        self->busy = 1;
        Py_BEGIN_ALLOW_THREADS st = run_encoder(self->enc, in, n, finish, &out);
        Py_END_ALLOW_THREADS self->busy = 0;
    } else {
        st = run_encoder(self->enc, in, n, finish, &out);
    }
    if (st == TF_E_FULL) {
        tf_lz_obuf_free(&out);
        return PyErr_NoMemory();
    }
    if (st < 0) {
        tf_lz_obuf_free(&out);
        return tf_raise_status(tf_state_of((PyObject *)self), st, "Compressor");
    }
    if (finish)
        self->finished = 1;
    return tf_lz_obuf_finish(&out);
}

static PyObject *LzCompressor_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"window_bits", "lookahead_bits", "checksum", "level", "filter", "dictionary", NULL};
    int w = 10, l = 4, checksum = 1, level = -1;
    PyObject *filter = Py_None, *dictionary = Py_None;
    Py_buffer dict;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|iipi$OO:Compressor", kwlist, &w, &l, &checksum, &level, &filter,
                                     &dictionary))
        return NULL;
    long level_flags = tf_lz_level_flags(level), filter_flags = level_flags < 0 ? -1 : tf_lz_filter_flags(filter);
    if (level_flags < 0 || filter_flags < 0 || tf_lz_check_params(w, l) < 0 ||
        tf_lz_dict_arg(dictionary, &dict, TF_LZ_MAX_DICTIONARY, "") < 0)
        return NULL;
    if (tf_lz_dict_check_window(dict.len, w) < 0 || tf_lz_dict_check_filter(dict.len, filter_flags) < 0) {
        PyBuffer_Release(&dict);
        return NULL;
    }
    LzCompressor *self = (LzCompressor *)type->tp_alloc(type, 0);
    if (!self) {
        PyBuffer_Release(&dict);
        return NULL;
    }
    size_t size = tf_lz_encoder_size((unsigned)w, (unsigned)l) + tf_lz_filter_size((unsigned)filter_flags);
    self->storage = PyMem_Malloc(size);
    if (!self->storage) {
        PyBuffer_Release(&dict);
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    tf_status st =
        tf_lz_encoder_init(&self->enc, self->storage, size, (unsigned)w, (unsigned)l,
                           (checksum ? TF_LZ_FLAG_CHECKSUM : 0u) | (unsigned)level_flags | (unsigned)filter_flags);
    if (st == TF_OK && dict.len) /* copied into the encoder's window: the buffer is not kept */
        st = tf_lz_encoder_set_dictionary(self->enc, (const uint8_t *)dict.buf, (size_t)dict.len);
    PyBuffer_Release(&dict);
    if (st != TF_OK) {
        Py_DECREF(self);
        return tf_raise_status(tf_state_of_type(type), st, "Compressor");
    }
    self->window_bits = w;
    self->lookahead_bits = l;
    self->level = level == -1 ? (int)TF_LZ_DEFAULT_LEVEL : level;
    self->filter = (unsigned)filter_flags;
    return (PyObject *)self;
}

static void LzCompressor_dealloc(LzCompressor *self) {
    PyTypeObject *tp = Py_TYPE(self);
    PyMem_Free(self->storage);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyObject *LzCompressor_compress(LzCompressor *self, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    PyObject *r = encode(self, (const uint8_t *)view.buf, (size_t)view.len, 0, "compress");
    PyBuffer_Release(&view);
    return r;
}

static PyObject *LzCompressor_flush(LzCompressor *self, PyObject *Py_UNUSED(ignored)) {
    return encode(self, NULL, 0, 1, "flush");
}

static PyObject *LzCompressor_get_state_size(LzCompressor *self, void *Py_UNUSED(closure)) {
    return PyLong_FromSize_t(tf_lz_encoder_size((unsigned)self->window_bits, (unsigned)self->lookahead_bits) +
                             tf_lz_filter_size(self->filter));
}

static PyObject *LzCompressor_get_filter(LzCompressor *self, void *Py_UNUSED(closure)) {
    const char *name = tf_lz_filter_name(self->filter);
    return name ? PyUnicode_FromString(name) : Py_NewRef(Py_None);
}

static PyMethodDef LzCompressor_methods[] = {
    {"compress", (PyCFunction)LzCompressor_compress, METH_O,
     "compress(data) -> bytes: feed data; returns whatever compressed bytes are ready (maybe none)."},
    {"flush", (PyCFunction)LzCompressor_flush, METH_NOARGS,
     "flush() -> bytes: end the frame and return the rest of it. The compressor cannot be used afterwards."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef LzCompressor_getset[] = {
    {"state_size", (getter)LzCompressor_get_state_size, NULL,
     "Bytes of encoder state (tf_lz_encoder_size, with the filter's block): all the memory the C core uses.", NULL},
    {"filter", (getter)LzCompressor_get_filter, NULL, "The numeric filter ('delta2', ...), or None.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef LzCompressor_members[] = {
    {"window_bits", T_INT, offsetof(LzCompressor, window_bits), READONLY, "log2 of the window size"},
    {"lookahead_bits", T_INT, offsetof(LzCompressor, lookahead_bits), READONLY, "log2 of the longest match"},
    {"level", T_INT, offsetof(LzCompressor, level), READONLY, "the encoder's effort, 1 (fastest) to 9 (smallest)"},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot LzCompressor_slots[] = {
    {Py_tp_doc, "Compressor(window_bits=10, lookahead_bits=4, checksum=True, level=-1, *, filter=None, "
                "dictionary=None)\n--\n\n"
                "Streaming thrifty.lz compressor, like zlib.compressobj: compress() chunks, then flush() once."},
    {Py_tp_new, LzCompressor_new},
    {Py_tp_dealloc, LzCompressor_dealloc},
    {Py_tp_methods, LzCompressor_methods},
    {Py_tp_getset, LzCompressor_getset},
    {Py_tp_members, LzCompressor_members},
    {0, NULL},
};

static PyType_Spec LzCompressor_spec = {
    .name = "thrifty.lz.Compressor",
    .basicsize = sizeof(LzCompressor),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = LzCompressor_slots,
};

/* One shot: the whole input in one call to the core's tf_lz_compress, which falls back to stored frames, so the
 * result is at most len(data) + 15 bytes. */
static PyObject *lz_compress(PyObject *module, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"data",  "window_bits", "lookahead_bits", "checksum",
                             "level", "filter",      "dictionary",     NULL};
    Py_buffer view, dict;
    int w = 10, l = 4, checksum = 1, level = -1;
    PyObject *filter = Py_None, *dictionary = Py_None;
    PyObject *result = NULL;
    void *work = NULL;
    (void)module;
    memset(&dict, 0, sizeof dict);
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y*|iipi$OO:compress", kwlist, &view, &w, &l, &checksum, &level,
                                     &filter, &dictionary))
        return NULL;
    long level_flags = tf_lz_level_flags(level), filter_flags = level_flags < 0 ? -1 : tf_lz_filter_flags(filter);
    if (level_flags < 0 || filter_flags < 0 || tf_lz_check_params(w, l) < 0 ||
        tf_lz_dict_arg(dictionary, &dict, TF_LZ_MAX_DICTIONARY, "") < 0 || tf_lz_dict_check_window(dict.len, w) < 0 ||
        tf_lz_dict_check_filter(dict.len, filter_flags) < 0)
        goto error;
    size_t n = (size_t)view.len, bound = tf_lz_compress_bound(n),
           wsize = tf_lz_encoder_size((unsigned)w, (unsigned)l) + tf_lz_filter_size((unsigned)filter_flags);
    if (bound && dict.len) /* a stored frame records the dictionary's id: 4 bytes per piece of 2^32 - 1 */
        bound = bound > SIZE_MAX - 4u * (n / 0xFFFFFFFFu + 1u) ? 0 : bound + 4u * (n / 0xFFFFFFFFu + 1u);
    if (!bound || bound > PY_SSIZE_T_MAX) {
        PyErr_SetString(PyExc_OverflowError, "compress: input too large");
        goto error;
    }
    work = PyMem_Malloc(wsize);
    result = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)bound);
    if (!work || !result) {
        if (!work)
            PyErr_NoMemory();
        goto error;
    }
    size_t out_n = 0;
    tf_status st;
    uint8_t *out = (uint8_t *)PyBytes_AS_STRING(result);
    unsigned flags = (checksum ? TF_LZ_FLAG_CHECKSUM : 0u) | (unsigned)level_flags | (unsigned)filter_flags;
    if (n >= TF_LZ_NOGIL_MIN) {
        Py_BEGIN_ALLOW_THREADS st =
            tf_lz_compress_dict((const uint8_t *)view.buf, n, out, bound, &out_n, work, wsize, (unsigned)w, (unsigned)l,
                                flags, (const uint8_t *)dict.buf, (size_t)dict.len);
        Py_END_ALLOW_THREADS
    } else {
        st = tf_lz_compress_dict((const uint8_t *)view.buf, n, out, bound, &out_n, work, wsize, (unsigned)w,
                                 (unsigned)l, flags, (const uint8_t *)dict.buf, (size_t)dict.len);
    }
    if (st != TF_OK) {
        tf_raise_status((tf_state *)PyModule_GetState(module), st, "compress");
        goto error;
    }
    PyMem_Free(work);
    PyBuffer_Release(&dict);
    PyBuffer_Release(&view);
    if (tf_py_bytes_resize(&result, (Py_ssize_t)out_n) < 0)
        return NULL;
    return result;
error:
    Py_XDECREF(result);
    PyMem_Free(work);
    if (dict.obj)
        PyBuffer_Release(&dict);
    PyBuffer_Release(&view);
    return NULL;
}

/* train_dictionary(samples, size): the samples copied back to back into one buffer for the core's trainer (which
 * runs without the GIL on that copy, so no sample can change under it). */
static PyObject *lz_train_dictionary(PyObject *module, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"samples", "size", NULL};
    PyObject *samples, *size_obj, *seq = NULL, *result = NULL;
    size_t *sizes = NULL, total = 0, count = 0;
    uint8_t *joined = NULL;
    void *work = NULL;
    (void)module;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO:train_dictionary", kwlist, &samples, &size_obj))
        return NULL;
    if (!PyLong_Check(size_obj)) {
        PyErr_Format(PyExc_TypeError, "train_dictionary: size must be an int (bytes, 1..%u), not %.100s",
                     TF_LZ_MAX_DICTIONARY, Py_TYPE(size_obj)->tp_name);
        return NULL;
    }
    Py_ssize_t size = PyLong_AsSsize_t(size_obj);
    if (size == -1 && PyErr_Occurred())
        PyErr_Clear();
    if (size < 1 || size > (Py_ssize_t)TF_LZ_MAX_DICTIONARY) {
        PyErr_Format(PyExc_ValueError,
                     "train_dictionary: size must be between 1 and %u bytes (the largest window), got %S",
                     TF_LZ_MAX_DICTIONARY, size_obj);
        return NULL;
    }
    if (PyUnicode_Check(samples)) {
        PyErr_SetString(PyExc_TypeError,
                        "train_dictionary: samples must be an iterable of bytes-like messages (a list of bytes), not "
                        "a str");
        return NULL;
    }
    /* A tuple: a buffer's getter (Python code) cannot change the items under the two passes below. */
    seq = PyObject_CheckBuffer(samples) ? NULL : PySequence_Tuple(samples);
    if (!seq) {
        if (!PyErr_Occurred() || PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError,
                         "train_dictionary: samples must be an iterable of bytes-like messages (a list of bytes), "
                         "not %.100s",
                         Py_TYPE(samples)->tp_name);
        }
        return NULL;
    }
    count = (size_t)PyTuple_GET_SIZE(seq);
    if (!count) {
        PyErr_SetString(PyExc_ValueError, "train_dictionary: samples is empty; give sample messages to learn from");
        goto done;
    }
    sizes = PyMem_Malloc(count * sizeof *sizes);
    if (!sizes) {
        PyErr_NoMemory();
        goto done;
    }
    /* Two passes over the buffers: sizes first (a buffer is taken and released each time, so nothing is held
     * while Python code could run), then the copy, checking each size again. */
    for (int pass = 0; pass < 2; pass++) {
        size_t at = 0;
        for (size_t i = 0; i < count; i++) {
            PyObject *item = PyTuple_GET_ITEM(seq, (Py_ssize_t)i);
            Py_buffer b;
            if (PyUnicode_Check(item) || !PyObject_CheckBuffer(item)) {
                PyErr_Format(PyExc_TypeError, "train_dictionary: samples[%zu] must be a bytes-like object, not %.100s",
                             i, Py_TYPE(item)->tp_name);
                goto done;
            }
            if (PyObject_GetBuffer(item, &b, PyBUF_SIMPLE) < 0)
                goto done;
            size_t n = (size_t)b.len;
            if (pass == 0) {
                sizes[i] = n;
                total += n;
            } else if (n != sizes[i]) {
                PyBuffer_Release(&b);
                PyErr_Format(PyExc_RuntimeError, "train_dictionary: samples[%zu] changed size while being read", i);
                goto done;
            } else {
                memcpy(joined + at, b.buf, n);
                at += n;
            }
            PyBuffer_Release(&b);
        }
        if (pass == 0) {
            size_t wsize = tf_lz_train_work_size(total);
            if (!wsize) {
                PyErr_Format(PyExc_ValueError, "train_dictionary: %zu bytes of samples are more than it takes (4 GiB)",
                             total);
                goto done;
            }
            joined = PyMem_Malloc(total ? total : 1u);
            work = PyMem_Malloc(wsize);
            result = PyBytes_FromStringAndSize(NULL, size);
            if (!joined || !work || !result) {
                if (!joined || !work)
                    PyErr_NoMemory();
                goto done;
            }
        }
    }
    size_t made = 0;
    tf_status st;
    Py_BEGIN_ALLOW_THREADS st = tf_lz_train_dictionary(joined, sizes, count, (uint8_t *)PyBytes_AS_STRING(result),
                                                       (size_t)size, &made, work, tf_lz_train_work_size(total));
    Py_END_ALLOW_THREADS if (st != TF_OK) {
        tf_raise_status((tf_state *)PyModule_GetState(module), st, "train_dictionary");
        Py_CLEAR(result);
        goto done;
    }
    if (!made) {
        PyErr_Format(PyExc_ValueError,
                     "train_dictionary: no string of %u bytes occurs in two of the %zu samples, so there is nothing "
                     "to share; give more samples of the messages you will compress",
                     TF_LZ_TRAIN_K, count);
        Py_CLEAR(result);
        goto done;
    }
    if (tf_py_bytes_resize(&result, (Py_ssize_t)made) < 0)
        result = NULL;
done:
    if (PyErr_Occurred())
        Py_CLEAR(result);
    PyMem_Free(work);
    PyMem_Free(joined);
    PyMem_Free(sizes);
    Py_XDECREF(seq);
    return result;
}

static PyMethodDef lz_compress_methods[] = {
    {"lz_compress", (PyCFunction)(void (*)(void))lz_compress, METH_VARARGS | METH_KEYWORDS,
     "lz_compress(data, window_bits=10, lookahead_bits=4, checksum=True, level=-1, *, filter=None, dictionary=None) "
     "-> bytes: one thrifty.lz frame."},
    {"lz_train_dictionary", (PyCFunction)(void (*)(void))lz_train_dictionary, METH_VARARGS | METH_KEYWORDS,
     "lz_train_dictionary(samples, size) -> bytes: a preset dictionary of at most size bytes from sample messages."},
    {NULL, NULL, 0, NULL},
};

int tf_lz_compressor_add(PyObject *m, tf_state *st) {
    st->LzCompressor = PyType_FromModuleAndSpec(m, &LzCompressor_spec, NULL);
    if (!st->LzCompressor || PyModule_AddObjectRef(m, "LzCompressor", st->LzCompressor) < 0)
        return -1;
    return PyModule_AddFunctions(m, lz_compress_methods);
}
