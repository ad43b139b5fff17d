/* thrifty.iter_chunks and thrifty.lines — read a binary file through one reusable block.
 *
 * Both are iterator types (called like functions, as enumerate() is). Each holds one View over the block and
 * yields that same View, re-pointed, every time: reading allocates nothing per chunk or per line beyond what the
 * file's readinto() itself does. When iteration ends (or the iterator is closed or dropped) the View lets go of the
 * block, so a pooled Block can be released right after the loop; a View kept past that point raises ValueError.
 */
#include "buffers.h"

#include "thrifty/lines.h"
#include <string.h>

/* What both iterators share: the file's bound readinto and the View that owns the block's export. */
typedef struct {
    int running;         /* inside __next__: readinto() runs Python code that must not re-enter, as for generators */
    PyObject *readinto;  /* bound method file.readinto, strong; NULL once finished */
    tf_ViewObject *view; /* the yielded View, strong; its export of the block is released when finished */
    int copy;            /* yield bytes copies instead of the View */
} tf_reader;

static int reader_init(tf_reader *r, tf_state *st, PyObject *file, PyObject *block, int copy, const char *who) {
    PyObject *owned = NULL;
    if (PyLong_Check(block)) {
        Py_ssize_t n = PyLong_AsSsize_t(block);
        if (n == -1 && PyErr_Occurred())
            return -1;
        if (n < 1) {
            PyErr_Format(PyExc_ValueError, "%s: block size must be >= 1, got %zd", who, n);
            return -1;
        }
        owned = PyByteArray_FromStringAndSize(NULL, n);
        if (!owned)
            return -1;
        block = owned;
    }
    r->view = tf_view_new(st, block, 1, who);
    Py_XDECREF(owned);
    if (!r->view)
        return -1;
    if (r->view->src.len < 1) {
        PyErr_Format(PyExc_ValueError, "%s: block is empty; it needs at least 1 byte", who);
        return -1;
    }
    r->readinto = PyObject_GetAttr(file, st->str_readinto);
    if (!r->readinto) {
        if (PyErr_ExceptionMatches(PyExc_AttributeError)) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError,
                         "%s needs a binary file-like object with readinto() (open the file with 'rb'), not %.100s",
                         who, Py_TYPE(file)->tp_name);
        }
        return -1;
    }
    r->copy = copy;
    return 0;
}

/* Drops the file and the block's export; the iterator is exhausted from now on. */
static void reader_finish(tf_reader *r) {
    Py_CLEAR(r->readinto);
    if (r->view)
        tf_view_drop(r->view);
}

static int reader_live(tf_reader *r, const char *who) {
    if (!r->view->src.obj) {
        PyErr_Format(PyExc_ValueError, "%s: the View was released during iteration", who);
        return -1;
    }
    return 0;
}

/* readinto(block[off:off+want]) through the View; returns bytes read (0 at end of file) or -1. */
static Py_ssize_t reader_fill(tf_reader *r, PyObject *target, Py_ssize_t want, const char *who) {
    PyObject *fn = Py_NewRef(r->readinto);
    PyObject *res = PyObject_CallOneArg(fn, target);
    Py_DECREF(fn);
    if (!res)
        return -1;
    if (res == Py_None) {
        Py_DECREF(res);
        PyErr_SetString(PyExc_BlockingIOError,
                        "readinto() returned None (non-blocking file with no data); use a blocking file");
        return -1;
    }
    Py_ssize_t n = PyNumber_AsSsize_t(res, PyExc_OverflowError);
    Py_DECREF(res);
    if (n == -1 && PyErr_Occurred())
        return -1;
    if (n < 0 || n > want) {
        PyErr_Format(PyExc_OSError, "readinto() returned %zd for a buffer of %zd bytes", n, want);
        return -1;
    }
    /* readinto() ran arbitrary code, which may have released the View (and so the block) */
    return reader_live(r, who) < 0 ? -1 : n;
}

static PyObject *reader_yield(tf_reader *r, Py_ssize_t offset, Py_ssize_t length) {
    if (r->copy)
        return PyBytes_FromStringAndSize((const char *)r->view->src.buf + offset, length);
    tf_view_point(r->view, offset, length);
    return Py_NewRef((PyObject *)r->view);
}

static int reader_traverse(tf_reader *r, visitproc visit, void *arg) {
    Py_VISIT(r->readinto);
    Py_VISIT(r->view);
    return 0;
}

/* The collector's clear finishes the iterator (it then raises StopIteration) and keeps the View until dealloc: the
 * View was handed out, and a cycle through it passes through its block, which the collector clears instead. */
static void reader_clear(tf_reader *r) { reader_finish(r); }

static void reader_dealloc(tf_reader *r) {
    reader_finish(r);
    Py_CLEAR(r->view);
}

/* ---- iter_chunks --------------------------------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD tf_reader r;
} tf_ChunksObject;

static PyObject *chunks_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"file", "block", "copy", NULL};
    PyObject *file, *block;
    int copy = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|$p:iter_chunks", kwlist, &file, &block, &copy))
        return NULL;
    tf_ChunksObject *self = (tf_ChunksObject *)type->tp_alloc(type, 0);
    if (!self)
        return NULL;
    if (reader_init(&self->r, tf_state_of_type(type), file, block, copy, "iter_chunks()") < 0) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static PyObject *chunks_step(PyObject *op) {
    tf_reader *r = &((tf_ChunksObject *)op)->r;
    if (!r->readinto)
        return NULL;
    if (reader_live(r, "iter_chunks") < 0)
        return NULL;
    Py_ssize_t cap = r->view->src.len;
    tf_view_point(r->view, 0, cap);
    Py_ssize_t n = reader_fill(r, (PyObject *)r->view, cap, "iter_chunks");
    if (n <= 0) {
        reader_finish(r);
        return NULL;
    }
    return reader_yield(r, 0, n);
}

/* ---- lines --------------------------------------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD tf_reader r;
    PyObject *peek;        /* 1-byte bytearray, made the first time a full block ends in '\r'; strong */
    Py_ssize_t start, end; /* unread bytes are block[start:end) */
    int eof;               /* readinto() returned 0 */
    int keepends, split;
    int has_pending; /* a byte read ahead by the peek, to go in front of the next read */
    unsigned char pending;
} tf_LinesObject;

static PyObject *lines_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"file", "block", "keepends", "copy", "long_lines", NULL};
    PyObject *file, *block;
    int keepends = 0, copy = 0;
    const char *long_lines = "raise";
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|$pps:lines", kwlist, &file, &block, &keepends, &copy, &long_lines))
        return NULL;
    int split = strcmp(long_lines, "split") == 0;
    if (!split && strcmp(long_lines, "raise") != 0) {
        PyErr_Format(PyExc_ValueError, "lines(): long_lines must be 'raise' or 'split', not '%.50s'", long_lines);
        return NULL;
    }
    tf_LinesObject *self = (tf_LinesObject *)type->tp_alloc(type, 0);
    if (!self)
        return NULL;
    if (reader_init(&self->r, tf_state_of_type(type), file, block, copy, "lines()") < 0) {
        Py_DECREF(self);
        return NULL;
    }
    if (self->r.view->src.len < 2) { /* room for a '\r' kept back plus the byte read after it */
        PyErr_Format(PyExc_ValueError, "lines(): block must hold at least 2 bytes, got %zd", self->r.view->src.len);
        Py_DECREF(self);
        return NULL;
    }
    self->keepends = keepends;
    self->split = split;
    return (PyObject *)self;
}

/* The error ends the iteration, as an exception from a generator does. */
static PyObject *too_long(tf_reader *r, Py_ssize_t cap) {
    reader_finish(r);
    PyErr_Format(PyExc_ValueError,
                 "lines(): a line is longer than the %zd-byte block; use a larger block or long_lines='split'", cap);
    return NULL;
}

/* Reads one byte ahead (into a 1-byte buffer made on first need). Returns it, 256 at end of file, or -1. */
static int lines_peek(tf_LinesObject *self) {
    if (!self->peek) {
        self->peek = PyByteArray_FromStringAndSize(NULL, 1);
        if (!self->peek)
            return -1;
    }
    Py_ssize_t n = reader_fill(&self->r, self->peek, 1, "lines");
    if (n < 0)
        return -1;
    return n == 0 ? 256 : (unsigned char)PyByteArray_AS_STRING(self->peek)[0];
}

static PyObject *lines_step(PyObject *op) {
    tf_LinesObject *self = (tf_LinesObject *)op;
    tf_reader *r = &self->r;
    if (!r->readinto)
        return NULL;
    if (reader_live(r, "lines") < 0)
        return NULL;
    unsigned char *buf = r->view->src.buf;
    Py_ssize_t cap = r->view->src.len;
    for (;;) {
        size_t content;
        size_t n = tf_line_next(buf + self->start, (size_t)(self->end - self->start), self->eof, &content);
        if (n > 0) {
            Py_ssize_t at = self->start;
            self->start += (Py_ssize_t)n;
            return reader_yield(r, at, self->keepends ? (Py_ssize_t)n : (Py_ssize_t)content);
        }
        if (self->eof) {
            reader_finish(r);
            return NULL;
        }
        /* No complete line in block[start:end): move the partial line to the front and read after it. The View
         * handed out last time is being reused, so overwriting what it showed is allowed now. */
        if (self->start > 0) {
            memmove(buf, buf + self->start, (size_t)(self->end - self->start));
            self->end -= self->start;
            self->start = 0;
        }
        if (self->has_pending) {
            buf[self->end++] = self->pending;
            self->has_pending = 0;
            continue;
        }
        if (self->end == cap) {
            /* The block is full and holds no complete line. One byte more decides: end of file (the block is the
             * last line), "\n" after a final '\r' (a "\r\n" line one byte too long), or anything else. */
            int next = lines_peek(self);
            if (next < 0)
                return NULL;
            if (next == 256) {
                self->eof = 1;
                continue;
            }
            self->pending = (unsigned char)next;
            self->has_pending = 1;
            if (buf[cap - 1] == '\r' && next != '\n') { /* a lone '\r' ends a line that fills the block exactly */
                self->start = cap;
                return reader_yield(r, 0, self->keepends ? cap : cap - 1);
            }
            if (!self->split)
                return too_long(r, cap);
            /* a piece of a long line; a final '\r' stays for the next piece, with the "\n" that follows it */
            Py_ssize_t piece = buf[cap - 1] == '\r' ? cap - 1 : cap;
            self->start = piece;
            return reader_yield(r, 0, piece);
        }
        tf_view_point(r->view, self->end, cap - self->end);
        Py_ssize_t got = reader_fill(r, (PyObject *)r->view, cap - self->end, "lines");
        if (got < 0)
            return NULL;
        if (got == 0)
            self->eof = 1;
        self->end += got;
        buf = r->view->src.buf; /* unchanged: the View's export pins the block */
    }
}

/* ---- shared type plumbing ------------------------------------------------------------------------------------ */

static int enter(tf_reader *r, const char *who) {
    if (r->running) {
        PyErr_Format(PyExc_ValueError, "%s: iterator already executing (re-entered from readinto())", who);
        return -1;
    }
    r->running = 1;
    return 0;
}

static PyObject *chunks_next(PyObject *op) {
    tf_reader *r = &((tf_ChunksObject *)op)->r;
    if (enter(r, "iter_chunks") < 0)
        return NULL;
    PyObject *res = chunks_step(op);
    r->running = 0;
    return res;
}

static PyObject *lines_next(PyObject *op) {
    tf_reader *r = &((tf_LinesObject *)op)->r;
    if (enter(r, "lines") < 0)
        return NULL;
    PyObject *res = lines_step(op);
    r->running = 0;
    return res;
}

static PyObject *iter_self(PyObject *op) { return Py_NewRef(op); }

static PyObject *chunks_close(PyObject *op, PyObject *Py_UNUSED(ignored)) {
    if (((tf_ChunksObject *)op)->r.running)
        return PyErr_Format(PyExc_ValueError, "iter_chunks: cannot close an iterator that is executing");
    reader_finish(&((tf_ChunksObject *)op)->r);
    Py_RETURN_NONE;
}

static PyObject *lines_close(PyObject *op, PyObject *Py_UNUSED(ignored)) {
    if (((tf_LinesObject *)op)->r.running)
        return PyErr_Format(PyExc_ValueError, "lines: cannot close an iterator that is executing");
    reader_finish(&((tf_LinesObject *)op)->r);
    Py_RETURN_NONE;
}

static int chunks_traverse(PyObject *op, visitproc visit, void *arg) {
    Py_VISIT(Py_TYPE(op));
    return reader_traverse(&((tf_ChunksObject *)op)->r, visit, arg);
}

static int chunks_clear(PyObject *op) {
    reader_clear(&((tf_ChunksObject *)op)->r);
    return 0;
}

static void chunks_dealloc(PyObject *op) {
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    reader_dealloc(&((tf_ChunksObject *)op)->r);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static int lines_traverse(PyObject *op, visitproc visit, void *arg) {
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((tf_LinesObject *)op)->peek);
    return reader_traverse(&((tf_LinesObject *)op)->r, visit, arg);
}

static int lines_clear(PyObject *op) {
    reader_clear(&((tf_LinesObject *)op)->r);
    return 0;
}

static void lines_dealloc(PyObject *op) {
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    reader_dealloc(&((tf_LinesObject *)op)->r);
    Py_CLEAR(((tf_LinesObject *)op)->peek);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyMethodDef chunks_methods[] = {
    {"close", chunks_close, METH_NOARGS, "close($self)\n--\n\nStop early and let go of the block."},
    {NULL, NULL, 0, NULL},
};

static PyMethodDef lines_methods[] = {
    {"close", lines_close, METH_NOARGS, "close($self)\n--\n\nStop early and let go of the block."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot chunks_slots[] = {
    {Py_tp_doc, "iter_chunks(file, block, *, copy=False)\n--\n\n"
                "Read a binary file into one reusable block (a Block, bytearray, writable memoryview, or a size in\n"
                "bytes) with readinto(), yielding a View of the bytes read each time (bytes when copy=True)."},
    {Py_tp_new, chunks_new},
    {Py_tp_iter, iter_self},
    {Py_tp_iternext, chunks_next},
    {Py_tp_methods, chunks_methods},
    {Py_tp_traverse, chunks_traverse},
    {Py_tp_clear, chunks_clear},
    {Py_tp_dealloc, chunks_dealloc},
    {0, NULL},
};

static PyType_Slot lines_slots[] = {
    {Py_tp_doc, "lines(file, block, *, keepends=False, copy=False, long_lines='raise')\n--\n\n"
                "Yield each line of a binary file as the same View re-pointed (bytes when copy=True). Line ends are\n"
                "those of bytes.splitlines(): \\n, \\r and \\r\\n. A line (with its end) longer than the block raises\n"
                "ValueError unless long_lines='split', which yields it in block-sized pieces."},
    {Py_tp_new, lines_new},
    {Py_tp_iter, iter_self},
    {Py_tp_iternext, lines_next},
    {Py_tp_methods, lines_methods},
    {Py_tp_traverse, lines_traverse},
    {Py_tp_clear, lines_clear},
    {Py_tp_dealloc, lines_dealloc},
    {0, NULL},
};

static PyType_Spec chunks_spec = {
    .name = "thrifty.iter_chunks",
    .basicsize = sizeof(tf_ChunksObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = chunks_slots,
};

static PyType_Spec lines_spec = {
    .name = "thrifty.lines",
    .basicsize = sizeof(tf_LinesObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = lines_slots,
};

int tf_streaming_add(PyObject *m, tf_state *st) {
    st->str_readinto = PyUnicode_InternFromString("readinto");
    if (!st->str_readinto)
        return -1;
    st->ChunksType = PyType_FromModuleAndSpec(m, &chunks_spec, NULL);
    if (!st->ChunksType || PyModule_AddObjectRef(m, "iter_chunks", st->ChunksType) < 0)
        return -1;
    st->LinesType = PyType_FromModuleAndSpec(m, &lines_spec, NULL);
    if (!st->LinesType)
        return -1;
    return PyModule_AddObjectRef(m, "lines", st->LinesType);
}
