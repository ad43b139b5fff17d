/* thrifty.lz.Decompressor (zlib.decompressobj-like) and the one-shot thrifty.lz.decompress(). */
#include "lz_buffer.h"

/* One frame's decoding, shared by the object and the one-shot function. The decoder is sized from the frame's
 * header, so a W=8 stream costs a 300-byte decoder even though any W up to max_w is accepted. */
typedef struct {
    void *storage; /* owned (PyMem_Raw): the decoder state; grows to the largest frame seen */
    size_t storage_size;
    tf_lz_decoder *dec;                  /* points into storage; NULL until this frame's header is complete */
    uint8_t pre[TF_LZ_HEADER_SIZE + 5u]; /* the header (and a filtered frame's filter byte or a dictionary's id),
                                          * gathered before the decoder exists */
    size_t pre_n, pre_sunk;
    unsigned max_w;
    unsigned frame_w;
    unsigned long long frame_start; /* stream offset of this frame's first byte */
    unsigned long long sunk;        /* bytes of this frame handed to the decoder */
    int eof;
    const uint8_t *dict; /* the preset dictionary every frame must have been made with (borrowed from the caller's
                          * object, which outlives the stream), or NULL */
    size_t dict_n;
    uint32_t dict_id;       /* its id (tf_lz_dictionary_id) */
    uint32_t frame_dict_id; /* the id the frame's header records, when frame_has_dict */
    int frame_has_dict;
} dstream;

enum { FEED_INPUT = 0, FEED_LIMIT = 1, FEED_NOMEM = -100, FEED_HEADER = -101 };

/* The header's length so far known from the bytes gathered: 7, then the filter byte or the dictionary's id. */
static size_t dstream_header_len(const dstream *ds) {
    if (ds->pre_n < TF_LZ_HEADER_SIZE)
        return TF_LZ_HEADER_SIZE;
    return TF_LZ_HEADER_SIZE + ((ds->pre[6] & TF_LZ_FLAG_FILTER) ? 1u : 0u) +
           ((ds->pre[6] & TF_LZ_FLAG_DICT) ? 4u : 0u);
}

static void dstream_next_frame(dstream *ds, unsigned long long start) {
    ds->dec = NULL;
    ds->pre_n = ds->pre_sunk = 0;
    ds->frame_start = start;
    ds->sunk = 0;
    ds->eof = 0;
}

/* Decodes from in[0..n) into out until the input is used (FEED_INPUT), out reaches `limit` bytes (FEED_LIMIT), or
 * the frame ends (ds->eof; the decoder's pending bytes then belong to what follows). *consumed counts bytes taken
 * from `in`. Errors: a tf_status (< 0), FEED_HEADER with the read_header status in *hdr, FEED_NOMEM. No GIL. */
static int dstream_feed(dstream *ds, const uint8_t *in, size_t n, size_t *consumed, tf_lz_obuf *out, size_t limit,
                        tf_status *hdr) {
    size_t ip = 0;
    int rc = FEED_INPUT;
    while (!ds->eof) {
        if (!ds->dec) {
            while (ip < n && ds->pre_n < dstream_header_len(ds))
                ds->pre[ds->pre_n++] = in[ip++];
            unsigned w = 0, flags = 0;
            tf_status st = tf_lz_read_header(ds->pre, ds->pre_n, &w, NULL, &flags);
            if (st == TF_E_EMPTY)
                break;
            if (st == TF_OK && w > ds->max_w)
                st = TF_E_SIZE;
            ds->frame_has_dict = st == TF_OK && (flags & TF_LZ_FLAG_DICT);
            if (ds->frame_has_dict)
                tf_lz_read_dictionary_id(ds->pre, ds->pre_n, &ds->frame_dict_id);
            if (st == TF_OK &&
                (ds->frame_has_dict != (ds->dict != NULL) || (ds->dict && ds->frame_dict_id != ds->dict_id)))
                st = TF_E_DICT; /* checked here to say exactly what does not match */
            if (st != TF_OK) {
                ds->frame_w = w;
                *hdr = st;
                rc = FEED_HEADER;
                break;
            }
            size_t size = tf_lz_decoder_size(w) + tf_lz_filter_size(flags); /* a filter's block, if any */
            if (size > ds->storage_size) {
                void *p = PyMem_RawRealloc(ds->storage, size);
                if (!p) {
                    rc = FEED_NOMEM;
                    break;
                }
                ds->storage = p;
                ds->storage_size = size;
            }
            st = tf_lz_decoder_init(&ds->dec, ds->storage, size, w);
            if (st == TF_OK && ds->dict) /* its last 2^W bytes are copied into the window */
                st = tf_lz_decoder_set_dictionary(ds->dec, ds->dict, ds->dict_n);
            if (st != TF_OK) {
                rc = st;
                break;
            }
            ds->frame_w = w;
        }
        size_t c = 0, got = 0;
        int from_pre = ds->pre_sunk < ds->pre_n;
        const uint8_t *src = from_pre ? ds->pre + ds->pre_sunk : in + ip;
        size_t src_n = from_pre ? ds->pre_n - ds->pre_sunk : n - ip;
        size_t want = limit - out->n < 1024u ? limit - out->n : 1024u;
        if (tf_lz_obuf_reserve(out, want, limit) < 0) {
            rc = FEED_NOMEM;
            break;
        }
        /* Called even with no room: the header, end marker and checksum produce nothing but must be read. */
        tf_status st =
            tf_lz_decoder_decode(ds->dec, src, src_n, &c, out->p ? out->p + out->n : NULL, out->cap - out->n, &got);
        if (from_pre)
            ds->pre_sunk += c;
        else
            ip += c;
        ds->sunk += c;
        out->n += got;
        if (st < 0) {
            rc = st;
            break;
        }
        if (tf_lz_decoder_ended(ds->dec)) {
            ds->eof = 1;
            break;
        }
        if (st == TF_LZ_MORE && out->n == limit) {
            rc = FEED_LIMIT;
            break;
        }
        if (st == TF_LZ_DONE && ip == n && ds->pre_sunk == ds->pre_n)
            break; /* starved: everything given is inside the decoder */
    }
    *consumed = ip;
    return rc;
}

/* Sets CorruptData (or ValueError for a too-small window) for a failed feed; returns NULL. */
static PyObject *dstream_raise(tf_state *st, dstream *ds, int rc, tf_status hdr, const char *what) {
    unsigned long long at = ds->frame_start + ds->sunk - (ds->dec ? tf_lz_decoder_pending(ds->dec, NULL) : 0u);
    if (rc == FEED_NOMEM)
        return PyErr_NoMemory();
    if (rc == FEED_HEADER) {
        if (hdr == TF_E_SIZE)
            PyErr_Format(st->CorruptData,
                         "%s: the thrifty.lz frame at byte %llu needs window_bits=%u, more than the window_bits=%u "
                         "this decompressor accepts",
                         what, ds->frame_start, ds->frame_w, ds->max_w);
        else if (hdr == TF_E_DICT && !ds->dict)
            PyErr_Format(PyExc_ValueError,
                         "%s: the thrifty.lz frame at byte %llu was compressed with a preset dictionary (id 0x%08x), "
                         "and none was given: pass the same dictionary=...",
                         what, ds->frame_start, (unsigned)ds->frame_dict_id);
        else if (hdr == TF_E_DICT && !ds->frame_has_dict)
            PyErr_Format(PyExc_ValueError,
                         "%s: the thrifty.lz frame at byte %llu was compressed without a dictionary, but dictionary= "
                         "was given (id 0x%08x): pass dictionary=None for it",
                         what, ds->frame_start, (unsigned)ds->dict_id);
        else if (hdr == TF_E_DICT)
            PyErr_Format(
                PyExc_ValueError,
                "%s: the thrifty.lz frame at byte %llu was compressed with another preset dictionary (id "
                "0x%08x) than the one given (id 0x%08x, %zu bytes): pass the dictionary it was compressed with",
                what, ds->frame_start, (unsigned)ds->frame_dict_id, (unsigned)ds->dict_id, ds->dict_n);
        else if (hdr == TF_E_VERSION)
            PyErr_Format(st->CorruptData,
                         "%s: the thrifty.lz frame at byte %llu has an unknown format version, flags or filter (this "
                         "build reads format versions %u, %u and %u, the filters delta2/4/8 and shuffle2/4/8; format "
                         "version 1, from before any release, is not read)",
                         what, ds->frame_start, TF_LZ_VERSION, TF_LZ_VERSION_FILTERED, TF_LZ_VERSION_DICT);
        else
            PyErr_Format(st->CorruptData,
                         "%s: not thrifty.lz data at byte %llu (expected the magic b'TFLZ', a valid window and the "
                         "flags of its format version)",
                         what, ds->frame_start);
        return NULL;
    }
    if (rc == TF_E_CORRUPT)
        PyErr_Format(st->CorruptData,
                     "%s: corrupt thrifty.lz data at byte %llu (a code, offset, padding or checksum "
                     "that no encoder writes)",
                     what, at);
    else
        PyErr_Format(st->CorruptData, "%s: thrifty.lz data rejected at byte %llu: %s", what, at, tf_status_str(rc));
    return NULL;
}

static int parse_window_bits(PyObject *obj, unsigned *w) {
    long v = PyLong_AsLong(obj);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (v < (long)TF_LZ_MIN_WINDOW_BITS || v > (long)TF_LZ_MAX_WINDOW_BITS) {
        PyErr_Format(PyExc_ValueError, "window_bits must be between %u and %u, got %ld", TF_LZ_MIN_WINDOW_BITS,
                     TF_LZ_MAX_WINDOW_BITS, v);
        return -1;
    }
    *w = (unsigned)v;
    return 0;
}

/* ---- the object ------------------------------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD PyObject *unused_data; /* owned bytes: what followed the end of the frame */
    PyObject *unconsumed_tail;           /* owned bytes: input not yet used because max_length was reached */
    PyObject *dictionary;                /* owned bytes (a private copy: ds.dict points into it), or NULL */
    dstream ds;
    int needs_input;
    int busy; /* a call is running with the GIL released */
} LzDecompressor;

static PyObject *LzDecompressor_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"window_bits", "dictionary", NULL};
    PyObject *wobj = NULL, *dictionary = Py_None;
    unsigned w = TF_LZ_MAX_WINDOW_BITS;
    Py_buffer dict;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O$O:Decompressor", kwlist, &wobj, &dictionary))
        return NULL;
    if (wobj && parse_window_bits(wobj, &w) < 0)
        return NULL;
    if (tf_lz_dict_arg(dictionary, &dict, TF_LZ_MAX_DICTIONARY, " (the largest window, 2**15 bytes)") < 0)
        return NULL;
    PyObject *copy = dict.len ? PyBytes_FromStringAndSize((const char *)dict.buf, dict.len) : NULL;
    PyBuffer_Release(&dict);
    if (dict.len && !copy)
        return NULL;
    LzDecompressor *self = (LzDecompressor *)type->tp_alloc(type, 0);
    if (!self) {
        Py_XDECREF(copy);
        return NULL;
    }
    if (copy) {
        self->dictionary = copy;
        self->ds.dict = (const uint8_t *)PyBytes_AS_STRING(copy);
        self->ds.dict_n = (size_t)PyBytes_GET_SIZE(copy);
        self->ds.dict_id = tf_lz_dictionary_id(self->ds.dict, self->ds.dict_n);
    }
    self->unused_data = PyBytes_FromStringAndSize(NULL, 0);
    self->unconsumed_tail = PyBytes_FromStringAndSize(NULL, 0);
    if (!self->unused_data || !self->unconsumed_tail) {
        Py_DECREF(self);
        return NULL;
    }
    self->ds.max_w = w;
    self->needs_input = 1;
    dstream_next_frame(&self->ds, 0);
    return (PyObject *)self;
}

static int LzDecompressor_traverse(LzDecompressor *self, visitproc visit, void *arg) {
    Py_VISIT(Py_TYPE(self)); /* a heap type's instances keep it alive; the bytes fields refer to nothing */
    return 0;
}

/* No tp_clear: unused_data and unconsumed_tail are always exact bytes, which refer to nothing, so no cycle runs
 * through them, and every method and getter reads them. */
static void LzDecompressor_dealloc(LzDecompressor *self) {
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    Py_XDECREF(self->unused_data);
    Py_XDECREF(self->unconsumed_tail);
    Py_XDECREF(self->dictionary);
    PyMem_RawFree(self->ds.storage);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static int set_bytes(PyObject **slot, const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
    PyObject *v = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(an + bn));
    if (!v)
        return -1;
    if (an)
        memcpy(PyBytes_AS_STRING(v), a, an);
    if (bn)
        memcpy(PyBytes_AS_STRING(v) + an, b, bn);
    Py_SETREF(*slot, v);
    return 0;
}

static PyObject *decompress_impl(LzDecompressor *self, Py_buffer *view, Py_ssize_t max_length) {
    tf_state *st = tf_state_of((PyObject *)self);
    const uint8_t *in = (const uint8_t *)view->buf;
    size_t n = (size_t)view->len;
    if (self->ds.eof) { /* like zlib: data after the end is kept, not decoded */
        if (n && set_bytes(&self->unused_data, (const uint8_t *)PyBytes_AS_STRING(self->unused_data),
                           (size_t)PyBytes_GET_SIZE(self->unused_data), in, n) < 0)
            return NULL;
        return PyBytes_FromStringAndSize(NULL, 0);
    }
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "Decompressor.decompress(): in use by another thread");
        return NULL;
    }
    size_t limit = max_length > 0 ? (size_t)max_length : (size_t)PY_SSIZE_T_MAX;
    tf_lz_obuf out = {NULL, 0, 0};
    size_t consumed = 0;
    tf_status hdr = TF_OK;
    int rc;
    if (n >= TF_LZ_NOGIL_MIN) {
        self->busy = 1;
        Py_BEGIN_ALLOW_THREADS rc = dstream_feed(&self->ds, in, n, &consumed, &out, limit, &hdr);
        Py_END_ALLOW_THREADS self->busy = 0;
    } else {
        rc = dstream_feed(&self->ds, in, n, &consumed, &out, limit, &hdr);
    }
    if (rc < 0) {
        tf_lz_obuf_free(&out);
        return dstream_raise(st, &self->ds, rc, hdr, "Decompressor.decompress");
    }
    if (self->ds.eof) {
        const uint8_t *pend = NULL;
        size_t pn = tf_lz_decoder_pending(self->ds.dec, &pend);
        if (set_bytes(&self->unused_data, pend, pn, in + consumed, n - consumed) < 0 ||
            set_bytes(&self->unconsumed_tail, NULL, 0, NULL, 0) < 0)
            goto error;
        self->needs_input = 0;
    } else {
        if (set_bytes(&self->unconsumed_tail, in + consumed, n - consumed, NULL, 0) < 0)
            goto error;
        self->needs_input = rc == FEED_INPUT;
    }
    return tf_lz_obuf_finish(&out);
error:
    tf_lz_obuf_free(&out);
    return NULL;
}

static PyObject *LzDecompressor_decompress(LzDecompressor *self, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"data", "max_length", NULL};
    Py_buffer view;
    Py_ssize_t max_length = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y*|n:decompress", kwlist, &view, &max_length))
        return NULL;
    if (max_length < 0) {
        PyBuffer_Release(&view);
        PyErr_Format(PyExc_ValueError, "max_length must be 0 (no limit) or positive, got %zd", max_length);
        return NULL;
    }
    PyObject *r = decompress_impl(self, &view, max_length);
    PyBuffer_Release(&view);
    return r;
}

/* zlib's flush(): decode whatever unconsumed_tail still holds, without a limit. */
static PyObject *LzDecompressor_flush(LzDecompressor *self, PyObject *Py_UNUSED(ignored)) {
    PyObject *tail = Py_NewRef(self->unconsumed_tail);
    Py_buffer view;
    if (PyObject_GetBuffer(tail, &view, PyBUF_SIMPLE) < 0) {
        Py_DECREF(tail);
        return NULL;
    }
    PyObject *r = decompress_impl(self, &view, 0);
    PyBuffer_Release(&view);
    Py_DECREF(tail);
    return r;
}

static PyObject *LzDecompressor_get_eof(LzDecompressor *self, void *Py_UNUSED(c)) {
    return PyBool_FromLong(self->ds.eof);
}
static PyObject *LzDecompressor_get_needs_input(LzDecompressor *self, void *Py_UNUSED(c)) {
    return PyBool_FromLong(!self->ds.eof && self->needs_input);
}
static PyObject *LzDecompressor_get_unused_data(LzDecompressor *self, void *Py_UNUSED(c)) {
    return Py_NewRef(self->unused_data);
}
static PyObject *LzDecompressor_get_unconsumed_tail(LzDecompressor *self, void *Py_UNUSED(c)) {
    return Py_NewRef(self->unconsumed_tail);
}
static PyObject *LzDecompressor_get_state_size(LzDecompressor *self, void *Py_UNUSED(c)) {
    return PyLong_FromSize_t(self->ds.storage_size);
}

static PyMethodDef LzDecompressor_methods[] = {
    {"decompress", (PyCFunction)(void (*)(void))LzDecompressor_decompress, METH_VARARGS | METH_KEYWORDS,
     "decompress(data, max_length=0) -> bytes: decode up to max_length bytes (0: no limit); input not used "
     "because of the limit is in unconsumed_tail, data after the frame in unused_data."},
    {"flush", (PyCFunction)LzDecompressor_flush, METH_NOARGS,
     "flush() -> bytes: decode what unconsumed_tail still holds, without a limit."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef LzDecompressor_getset[] = {
    {"eof", (getter)LzDecompressor_get_eof, NULL, "True once the end of the frame has been decoded.", NULL},
    {"needs_input", (getter)LzDecompressor_get_needs_input, NULL,
     "False when max_length stopped the last call and more output can come without new input.", NULL},
    {"unused_data", (getter)LzDecompressor_get_unused_data, NULL, "Bytes that followed the end of the frame.", NULL},
    {"unconsumed_tail", (getter)LzDecompressor_get_unconsumed_tail, NULL,
     "Input the last call did not use because max_length was reached; pass it back in.", NULL},
    {"state_size", (getter)LzDecompressor_get_state_size, NULL,
     "Bytes of decoder state (tf_lz_decoder_size of the frame's window): all the memory the C core uses.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot LzDecompressor_slots[] = {
    {Py_tp_doc, "Decompressor(window_bits=15, *, dictionary=None)\n--\n\n"
                "Streaming thrifty.lz decompressor for one frame, like zlib.decompressobj. Frames whose window "
                "exceeds 2**window_bits are refused."},
    {Py_tp_new, LzDecompressor_new},
    {Py_tp_dealloc, LzDecompressor_dealloc},
    {Py_tp_traverse, LzDecompressor_traverse},
    {Py_tp_methods, LzDecompressor_methods},
    {Py_tp_getset, LzDecompressor_getset},
    {0, NULL},
};

static PyType_Spec LzDecompressor_spec = {
    .name = "thrifty.lz.Decompressor",
    .basicsize = sizeof(LzDecompressor),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = LzDecompressor_slots,
};

/* ---- one shot --------------------------------------------------------------------------------------------- */

/* Decodes every concatenated frame (as gzip.decompress does members). max_length caps the output: beyond it,
 * ValueError, so a small bomb cannot make a huge allocation. */
static PyObject *lz_decompress(PyObject *module, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"data", "max_length", "dictionary", NULL};
    Py_buffer view, dict;
    PyObject *max_obj = Py_None, *dictionary = Py_None;
    tf_state *st = (tf_state *)PyModule_GetState(module);
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y*|O$O:decompress", kwlist, &view, &max_obj, &dictionary))
        return NULL;
    size_t limit = (size_t)PY_SSIZE_T_MAX;
    if (max_obj != Py_None) {
        Py_ssize_t m = PyLong_AsSsize_t(max_obj);
        if (m == -1 && PyErr_Occurred()) {
            PyBuffer_Release(&view);
            return NULL;
        }
        if (m < 0) {
            PyBuffer_Release(&view);
            PyErr_Format(PyExc_ValueError, "max_length must be None or >= 0, got %zd", m);
            return NULL;
        }
        limit = (size_t)m;
    }
    if (tf_lz_dict_arg(dictionary, &dict, TF_LZ_MAX_DICTIONARY, " (the largest window, 2**15 bytes)") < 0) {
        PyBuffer_Release(&view);
        return NULL;
    }
    const uint8_t *in = (const uint8_t *)view.buf;
    size_t n = (size_t)view.len, pos = 0;
    dstream ds;
    memset(&ds, 0, sizeof ds);
    ds.max_w = TF_LZ_MAX_WINDOW_BITS;
    if (dict.len) { /* the buffer is held until the frames are decoded */
        ds.dict = (const uint8_t *)dict.buf;
        ds.dict_n = (size_t)dict.len;
        ds.dict_id = tf_lz_dictionary_id(ds.dict, ds.dict_n);
    }
    tf_lz_obuf out = {NULL, 0, 0};
    int rc = FEED_INPUT;
    tf_status hdr = TF_OK;
    Py_BEGIN_ALLOW_THREADS while (pos < n) {
        size_t consumed = 0;
        dstream_next_frame(&ds, pos);
        /* The whole remaining input, plus room for one byte past the limit so that "exactly max_length" and
         * "more than max_length" are told apart. */
        rc = dstream_feed(&ds, in + pos, n - pos, &consumed, &out, limit == (size_t)PY_SSIZE_T_MAX ? limit : limit + 1u,
                          &hdr);
        if (rc != FEED_INPUT || !ds.eof)
            break;
        pos += consumed - tf_lz_decoder_pending(ds.dec, NULL);
    }
    Py_END_ALLOW_THREADS;
    PyBuffer_Release(&view);
    PyBuffer_Release(&dict);
    if (rc < 0) {
        tf_lz_obuf_free(&out);
        dstream_raise(st, &ds, rc, hdr, "decompress"); /* reads the decoder's position: free its storage after */
        PyMem_RawFree(ds.storage);
        return NULL;
    }
    PyMem_RawFree(ds.storage);
    if (rc == FEED_LIMIT || out.n > limit) {
        tf_lz_obuf_free(&out);
        return PyErr_Format(PyExc_ValueError, "decompress: the data decompresses to more than max_length=%zu bytes",
                            limit);
    }
    if (pos < n) {
        tf_lz_obuf_free(&out);
        PyErr_Format(st->CorruptData,
                     "decompress: truncated thrifty.lz data: the input ends at byte %zu inside the frame that starts "
                     "at byte %llu",
                     n, ds.frame_start);
        return NULL;
    }
    return tf_lz_obuf_finish(&out);
}

static PyMethodDef lz_decompress_methods[] = {
    {"lz_decompress", (PyCFunction)(void (*)(void))lz_decompress, METH_VARARGS | METH_KEYWORDS,
     "lz_decompress(data, max_length=None, *, dictionary=None) -> bytes: every concatenated thrifty.lz frame, "
     "decoded."},
    {NULL, NULL, 0, NULL},
};

int tf_lz_decompressor_add(PyObject *m, tf_state *st) {
    st->LzDecompressor = PyType_FromModuleAndSpec(m, &LzDecompressor_spec, NULL);
    if (!st->LzDecompressor || PyModule_AddObjectRef(m, "LzDecompressor", st->LzDecompressor) < 0)
        return -1;
    return PyModule_AddFunctions(m, lz_decompress_methods);
}
