/* thrifty.View — a re-pointable zero-copy window on any buffer. The View holds one export of the underlying object
 * for its whole life (so a bytearray cannot be resized under it) and seek() moves the window in place: moving a
 * View allocates nothing, where slicing a memoryview makes a new object per slice. */
#include "buffers.h"

#include <structmember.h>

#include <string.h>

static int check_live(tf_ViewObject *v) {
    if (v->src.obj)
        return 0;
    PyErr_SetString(PyExc_ValueError, "View was released");
    return -1;
}

tf_ViewObject *tf_view_new(tf_state *st, PyObject *obj, int writable, const char *who) {
    PyTypeObject *type = (PyTypeObject *)st->ViewType;
    tf_ViewObject *v = (tf_ViewObject *)type->tp_alloc(type, 0);
    if (!v)
        return NULL;
    int r = PyObject_GetBuffer(obj, &v->src, PyBUF_WRITABLE);
    if (r < 0 && !writable && PyErr_ExceptionMatches(PyExc_BufferError)) {
        PyErr_Clear(); /* read-only objects are fine unless the caller needs to write */
        r = PyObject_GetBuffer(obj, &v->src, PyBUF_SIMPLE);
    }
    if (r < 0) {
        v->src.obj = NULL;
        if (PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError, "%s needs a %sbytes-like object (buffer protocol), not %.100s", who,
                         writable ? "writable " : "", Py_TYPE(obj)->tp_name);
        } else if (writable && PyErr_ExceptionMatches(PyExc_BufferError)) {
            /* Refused either because it is read-only or because it is not one contiguous run of bytes (a strided
             * memoryview): a plain read-only request tells which, so the message names the real problem. */
            Py_buffer probe;
            PyErr_Clear();
            int readonly = PyObject_GetBuffer(obj, &probe, PyBUF_SIMPLE) == 0;
            if (readonly)
                PyBuffer_Release(&probe);
            else
                PyErr_Clear();
            PyErr_Format(PyExc_TypeError,
                         readonly ? "%s needs a writable buffer (a Block, bytearray or writable memoryview), not a "
                                    "read-only %.100s"
                                  : "%s needs one contiguous writable buffer (a Block, bytearray or contiguous "
                                    "memoryview), not a non-contiguous %.100s",
                         who, Py_TYPE(obj)->tp_name);
        }
        Py_DECREF(v);
        return NULL;
    }
    v->offset = 0;
    v->length = v->src.len;
    return v;
}

void tf_view_drop(tf_ViewObject *v) {
    if (v->src.obj && v->exports == 0)
        PyBuffer_Release(&v->src);
}

/* Parses an optional Py_ssize_t argument (None means "absent"). */
static int opt_index(PyObject *o, Py_ssize_t *out, int *given) {
    *given = 0;
    if (!o || o == Py_None)
        return 0;
    Py_ssize_t x = PyNumber_AsSsize_t(o, PyExc_OverflowError);
    if (x == -1 && PyErr_Occurred())
        return -1;
    *out = x;
    *given = 1;
    return 0;
}

/* Points the window at src[offset : offset+length] after checking it lies inside src. */
static int view_set_window(tf_ViewObject *v, Py_ssize_t offset, Py_ssize_t length, int length_given, const char *who) {
    Py_ssize_t n = v->src.len;
    if (offset < 0 || offset > n) {
        PyErr_Format(PyExc_IndexError, "%s: offset %zd is outside the buffer (0..%zd)", who, offset, n);
        return -1;
    }
    if (!length_given)
        length = n - offset;
    if (length < 0) {
        PyErr_Format(PyExc_ValueError, "%s: length %zd is negative", who, length);
        return -1;
    }
    if (length > n - offset) {
        PyErr_Format(PyExc_IndexError, "%s: offset %zd + length %zd goes past the end of the %zd-byte buffer", who,
                     offset, length, n);
        return -1;
    }
    tf_view_point(v, offset, length);
    return 0;
}

static PyObject *view_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"obj", "offset", "length", NULL};
    PyObject *obj, *length_o = Py_None;
    Py_ssize_t offset = 0, length = 0;
    int given;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|nO:View", kwlist, &obj, &offset, &length_o))
        return NULL;
    if (opt_index(length_o, &length, &given) < 0)
        return NULL;
    tf_ViewObject *v = tf_view_new(tf_state_of_type(type), obj, 0, "View()");
    if (!v)
        return NULL;
    if (view_set_window(v, offset, length, given, "View()") < 0) {
        Py_DECREF(v);
        return NULL;
    }
    return (PyObject *)v;
}

static PyObject *view_seek(PyObject *op, PyObject *const *args, Py_ssize_t nargs) {
    tf_ViewObject *v = (tf_ViewObject *)op;
    if (nargs < 1 || nargs > 2) {
        PyErr_Format(PyExc_TypeError, "View.seek(offset, length=None) takes 1 or 2 arguments (%zd given)", nargs);
        return NULL;
    }
    Py_ssize_t offset = PyNumber_AsSsize_t(args[0], PyExc_OverflowError), length = 0;
    int given;
    if (offset == -1 && PyErr_Occurred())
        return NULL;
    if (opt_index(nargs > 1 ? args[1] : NULL, &length, &given) < 0)
        return NULL;
    if (check_live(v) < 0) /* after the conversions: an __index__ may have released the View */
        return NULL;
    if (view_set_window(v, offset, length, given, "View.seek") < 0)
        return NULL;
    Py_RETURN_NONE;
}

static const char *window(tf_ViewObject *v) { return (const char *)v->src.buf + v->offset; }

static Py_ssize_t view_len(PyObject *op) {
    tf_ViewObject *v = (tf_ViewObject *)op;
    return check_live(v) < 0 ? -1 : v->length;
}

static PyObject *view_item(PyObject *op, Py_ssize_t i) {
    tf_ViewObject *v = (tf_ViewObject *)op;
    if (check_live(v) < 0)
        return NULL;
    if (i < 0 || i >= v->length) {
        PyErr_Format(PyExc_IndexError, "View index %zd out of range for a View of %zd bytes", i, v->length);
        return NULL;
    }
    return PyLong_FromLong((unsigned char)window(v)[i]);
}

static PyObject *view_subscript(PyObject *op, PyObject *key) {
    tf_ViewObject *v = (tf_ViewObject *)op;
    if (check_live(v) < 0)
        return NULL;
    if (PyIndex_Check(key)) {
        Py_ssize_t i = PyNumber_AsSsize_t(key, PyExc_IndexError);
        if ((i == -1 && PyErr_Occurred()) || check_live(v) < 0)
            return NULL;
        Py_ssize_t orig = i;
        if (i < 0)
            i += v->length;
        if (i < 0 || i >= v->length) {
            PyErr_Format(PyExc_IndexError, "View index %zd out of range for a View of %zd bytes", orig, v->length);
            return NULL;
        }
        return PyLong_FromLong((unsigned char)window(v)[i]);
    }
    if (PySlice_Check(key)) {
        Py_ssize_t start, stop, step;
        if (PySlice_Unpack(key, &start, &stop, &step) < 0 || check_live(v) < 0)
            return NULL;
        Py_ssize_t n = PySlice_AdjustIndices(v->length, &start, &stop, step);
        if (step == 1)
            return PyBytes_FromStringAndSize(window(v) + start, n);
        PyObject *out = PyBytes_FromStringAndSize(NULL, n);
        if (!out)
            return NULL;
        char *dst = PyBytes_AS_STRING(out);
        for (Py_ssize_t k = 0, i = start; k < n; k++, i += step)
            dst[k] = window(v)[i];
        return out;
    }
    PyErr_Format(PyExc_TypeError, "View indices must be integers or slices, not %.100s", Py_TYPE(key)->tp_name);
    return NULL;
}

static int view_ass_subscript(PyObject *op, PyObject *key, PyObject *value) {
    tf_ViewObject *v = (tf_ViewObject *)op;
    if (check_live(v) < 0)
        return -1;
    if (v->src.readonly) {
        PyErr_SetString(PyExc_TypeError, "cannot modify a read-only View (its buffer is read-only)");
        return -1;
    }
    if (!value) {
        PyErr_SetString(PyExc_TypeError, "View does not support item deletion (its size is fixed by seek())");
        return -1;
    }
    /* The window is read only after every conversion below, since an __index__ may release or re-point the View. */
    if (PyIndex_Check(key)) {
        Py_ssize_t i = PyNumber_AsSsize_t(key, PyExc_IndexError);
        if (i == -1 && PyErr_Occurred())
            return -1;
        long x = PyLong_AsLong(value);
        if (x == -1 && PyErr_Occurred()) {
            if (PyErr_ExceptionMatches(PyExc_TypeError)) {
                PyErr_Clear();
                PyErr_Format(PyExc_TypeError, "View item must be an int in range(0, 256), not %.100s",
                             Py_TYPE(value)->tp_name);
            } else if (PyErr_ExceptionMatches(PyExc_OverflowError)) { /* as bytearray: out of range is a value error */
                PyErr_Clear();
                PyErr_SetString(PyExc_ValueError, "View item must be in range(0, 256), got an int far outside it");
            }
            return -1;
        }
        if (x < 0 || x > 255) {
            PyErr_Format(PyExc_ValueError, "View item must be in range(0, 256), got %ld", x);
            return -1;
        }
        if (check_live(v) < 0)
            return -1;
        Py_ssize_t orig = i;
        if (i < 0)
            i += v->length;
        if (i < 0 || i >= v->length) {
            PyErr_Format(PyExc_IndexError, "View index %zd out of range for a View of %zd bytes", orig, v->length);
            return -1;
        }
        ((char *)v->src.buf)[v->offset + i] = (char)(unsigned char)x;
        return 0;
    }
    if (!PySlice_Check(key)) {
        PyErr_Format(PyExc_TypeError, "View indices must be integers or slices, not %.100s", Py_TYPE(key)->tp_name);
        return -1;
    }
    Py_ssize_t start, stop, step;
    Py_buffer in;
    if (PySlice_Unpack(key, &start, &stop, &step) < 0 || PyObject_GetBuffer(value, &in, PyBUF_SIMPLE) < 0)
        return -1;
    /* Only now read the window: from Python 3.12 a __buffer__ method runs Python code that may release or re-point
     * the View. */
    if (check_live(v) < 0) {
        PyBuffer_Release(&in);
        return -1;
    }
    Py_ssize_t n = PySlice_AdjustIndices(v->length, &start, &stop, step);
    char *w = (char *)v->src.buf + v->offset;
    int r = 0;
    if (in.len != n) {
        PyErr_Format(PyExc_ValueError, "View slice assignment: %zd bytes given for a slice of %zd bytes", in.len, n);
        r = -1;
    } else {
        r = tf_write_slice(w, v->length, start, step, in.buf, n);
    }
    PyBuffer_Release(&in);
    return r;
}

int tf_write_slice(char *dst, Py_ssize_t n, Py_ssize_t start, Py_ssize_t step, const char *src, Py_ssize_t len) {
    if (step == 1) {
        memmove(dst + start, src, (size_t)len); /* the source may be this very window */
        return 0;
    }
    PyObject *copy = NULL;
    uintptr_t lo = (uintptr_t)dst, from = (uintptr_t)src; /* unrelated pointers compare only as ints */
    if (from < lo + (size_t)n && lo < from + (size_t)len) {
        /* An overlapping source would be read after it was partly overwritten: take a snapshot first. */
        if (!(copy = PyBytes_FromStringAndSize(src, len)))
            return -1;
        src = PyBytes_AS_STRING(copy);
    }
    for (Py_ssize_t k = 0, i = start; k < len; k++, i += step)
        dst[i] = src[k];
    Py_XDECREF(copy);
    return 0;
}

Py_ssize_t tf_bytes_find(const char *hay, Py_ssize_t from, Py_ssize_t to, const char *needle, Py_ssize_t m) {
    if (m == 0)
        return from <= to ? from : -1;
    Py_ssize_t i = from;
    while (to - i >= m) {
        const char *p = memchr(hay + i, needle[0], (size_t)(to - i - m + 1));
        if (!p)
            return -1;
        i = p - hay;
        if (memcmp(p, needle, (size_t)m) == 0)
            return i;
        i++;
    }
    return -1;
}

int tf_needle_of(PyObject *sub, Py_buffer *buf, char *one, const char **p, Py_ssize_t *m) {
    if (PyIndex_Check(sub)) {
        Py_ssize_t x = PyNumber_AsSsize_t(sub, NULL);
        if (x == -1 && PyErr_Occurred())
            return -1;
        if (x < 0 || x > 255) {
            PyErr_Format(PyExc_ValueError, "byte must be in range(0, 256), got %zd", x);
            return -1;
        }
        *one = (char)(unsigned char)x;
        *p = one;
        *m = 1;
        buf->obj = NULL;
        return 0;
    }
    if (PyObject_GetBuffer(sub, buf, PyBUF_SIMPLE) < 0) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "argument should be a bytes-like object or an int, not %.100s",
                     Py_TYPE(sub)->tp_name);
        return -1;
    }
    *p = buf->buf;
    *m = buf->len;
    return 0;
}

static PyObject *view_find(PyObject *op, PyObject *const *args, Py_ssize_t nargs) {
    tf_ViewObject *v = (tf_ViewObject *)op;
    if (nargs < 1 || nargs > 3) {
        PyErr_Format(PyExc_TypeError, "View.find(sub, start=None, end=None) takes 1 to 3 arguments (%zd given)", nargs);
        return NULL;
    }
    Py_ssize_t start = 0, end = PY_SSIZE_T_MAX;
    int given;
    Py_buffer buf;
    char one;
    const char *needle;
    Py_ssize_t m;
    if (opt_index(nargs > 1 ? args[1] : NULL, &start, &given) < 0 ||
        opt_index(nargs > 2 ? args[2] : NULL, &end, &given) < 0 || tf_needle_of(args[0], &buf, &one, &needle, &m) < 0)
        return NULL;
    if (check_live(v) < 0) { /* after the conversions: an __index__ may have released the View */
        if (buf.obj)
            PyBuffer_Release(&buf);
        return NULL;
    }
    /* bytes.find's index rules: negatives count from the end, end is clamped, start is not (start > len finds
     * nothing, even the empty needle) */
    if (end > v->length)
        end = v->length;
    else if (end < 0 && (end += v->length) < 0)
        end = 0;
    if (start < 0 && (start += v->length) < 0)
        start = 0;
    Py_ssize_t at = end - start >= m ? tf_bytes_find(window(v), start, end, needle, m) : -1;
    if (buf.obj)
        PyBuffer_Release(&buf);
    return PyLong_FromSsize_t(at);
}

static int view_contains(PyObject *op, PyObject *sub) {
    tf_ViewObject *v = (tf_ViewObject *)op;
    Py_buffer buf;
    char one;
    const char *needle;
    Py_ssize_t m;
    if (tf_needle_of(sub, &buf, &one, &needle, &m) < 0)
        return -1;
    Py_ssize_t at = check_live(v) < 0 ? -2 : tf_bytes_find(window(v), 0, v->length, needle, m);
    if (buf.obj)
        PyBuffer_Release(&buf);
    return at == -2 ? -1 : at >= 0;
}

/* startswith / endswith: `affix` is a bytes-like object or a tuple of them, as for bytes. */
static PyObject *view_affix(tf_ViewObject *v, PyObject *affix, int at_end, const char *who) {
    if (PyTuple_Check(affix)) {
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(affix); i++) {
            PyObject *r = view_affix(v, PyTuple_GET_ITEM(affix, i), at_end, who);
            if (r != Py_False)
                return r;
            Py_DECREF(r);
        }
        return check_live(v) < 0 ? NULL : Py_NewRef(Py_False);
    }
    Py_buffer buf;
    if (PyObject_GetBuffer(affix, &buf, PyBUF_SIMPLE) < 0) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "View.%s: argument must be a bytes-like object or a tuple of them, not %.100s",
                     who, Py_TYPE(affix)->tp_name);
        return NULL;
    }
    if (check_live(v) < 0) { /* after GetBuffer: a __buffer__ method (3.12+) may have released the View */
        PyBuffer_Release(&buf);
        return NULL;
    }
    int hit =
        buf.len <= v->length && memcmp(window(v) + (at_end ? v->length - buf.len : 0), buf.buf, (size_t)buf.len) == 0;
    PyBuffer_Release(&buf);
    return PyBool_FromLong(hit);
}

static PyObject *view_startswith(PyObject *op, PyObject *arg) {
    return view_affix((tf_ViewObject *)op, arg, 0, "startswith");
}
static PyObject *view_endswith(PyObject *op, PyObject *arg) {
    return view_affix((tf_ViewObject *)op, arg, 1, "endswith");
}

static PyObject *view_tobytes(PyObject *op, PyObject *Py_UNUSED(ignored)) {
    tf_ViewObject *v = (tf_ViewObject *)op;
    if (check_live(v) < 0)
        return NULL;
    return PyBytes_FromStringAndSize(window(v), v->length);
}

static PyObject *view_decode(PyObject *op, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"encoding", "errors", NULL};
    const char *encoding = "utf-8", *errors = "strict";
    tf_ViewObject *v = (tf_ViewObject *)op;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|ss:decode", kwlist, &encoding, &errors))
        return NULL;
    if (check_live(v) < 0)
        return NULL;
    /* A codec or error handler written in Python runs while the decoder reads the window: count the read as an
     * export so that a release() from there is refused instead of freeing the bytes being decoded. */
    v->exports++;
    PyObject *r = PyUnicode_Decode(window(v), v->length, encoding, errors);
    v->exports--;
    return r;
}

static PyObject *view_release(PyObject *op, PyObject *Py_UNUSED(ignored)) {
    tf_ViewObject *v = (tf_ViewObject *)op;
    if (v->exports > 0) {
        PyErr_Format(PyExc_BufferError,
                     "View.release: %zd export(s) of this View (memoryviews, or a decode() running) are still alive; "
                     "release them first",
                     v->exports);
        return NULL;
    }
    tf_view_drop(v);
    Py_RETURN_NONE;
}

static PyObject *view_enter(PyObject *op, PyObject *Py_UNUSED(ignored)) {
    if (check_live((tf_ViewObject *)op) < 0)
        return NULL;
    return Py_NewRef(op);
}

static PyObject *view_exit(PyObject *op, PyObject *const *Py_UNUSED(args), Py_ssize_t Py_UNUSED(nargs)) {
    PyObject *r = view_release(op, NULL);
    if (!r)
        return NULL;
    Py_DECREF(r);
    Py_RETURN_FALSE;
}

static PyObject *view_richcompare(PyObject *op, PyObject *other, int cmp) {
    tf_ViewObject *v = (tf_ViewObject *)op;
    if ((cmp != Py_EQ && cmp != Py_NE) || !PyObject_CheckBuffer(other) || !v->src.obj)
        Py_RETURN_NOTIMPLEMENTED;
    Py_buffer buf;
    if (PyObject_GetBuffer(other, &buf, PyBUF_SIMPLE) < 0) {
        PyErr_Clear();
        Py_RETURN_NOTIMPLEMENTED;
    }
    if (!v->src.obj) { /* a __buffer__ method (3.12+) released the View */
        PyBuffer_Release(&buf);
        Py_RETURN_NOTIMPLEMENTED;
    }
    int eq = buf.len == v->length && memcmp(window(v), buf.buf, (size_t)buf.len) == 0;
    PyBuffer_Release(&buf);
    return PyBool_FromLong(cmp == Py_EQ ? eq : !eq);
}

static int view_getbuffer(PyObject *op, Py_buffer *out, int flags) {
    tf_ViewObject *v = (tf_ViewObject *)op;
    if (check_live(v) < 0)
        return -1;
    if (PyBuffer_FillInfo(out, op, (char *)v->src.buf + v->offset, v->length, v->src.readonly, flags) < 0)
        return -1;
    v->exports++;
    return 0;
}

static void view_releasebuffer(PyObject *op, Py_buffer *Py_UNUSED(b)) { ((tf_ViewObject *)op)->exports--; }

static PyObject *view_get_offset(PyObject *op, void *Py_UNUSED(c)) {
    return PyLong_FromSsize_t(((tf_ViewObject *)op)->offset);
}
static PyObject *view_get_readonly(PyObject *op, void *Py_UNUSED(c)) {
    return PyBool_FromLong(((tf_ViewObject *)op)->src.readonly);
}
static PyObject *view_get_obj(PyObject *op, void *Py_UNUSED(c)) {
    tf_ViewObject *v = (tf_ViewObject *)op;
    if (check_live(v) < 0)
        return NULL;
    return Py_NewRef(v->src.obj);
}
static PyObject *view_get_released(PyObject *op, void *Py_UNUSED(c)) {
    return PyBool_FromLong(((tf_ViewObject *)op)->src.obj == NULL);
}

static PyObject *view_repr(PyObject *op) {
    tf_ViewObject *v = (tf_ViewObject *)op;
    if (!v->src.obj)
        return PyUnicode_FromString("<thrifty.View released>");
    return PyUnicode_FromFormat("<thrifty.View [%zd:%zd] of %.100s>", v->offset, v->offset + v->length,
                                Py_TYPE(v->src.obj)->tp_name);
}

static int view_traverse(PyObject *op, visitproc visit, void *arg) {
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((tf_ViewObject *)op)->src.obj);
    return 0;
}

/* The collector's clear is release(), refused while the View is exported (its memoryviews point into the source,
 * which must stay pinned); a cleared View raises "View was released" like one released by hand. */
static int view_clear(PyObject *op) {
    tf_view_drop((tf_ViewObject *)op);
    return 0;
}

/* Every export of the View holds a reference to it, so at dealloc there is none and the source is let go. */
static void view_dealloc(PyObject *op) {
    PyObject_GC_UnTrack(op);
    tf_ViewObject *v = (tf_ViewObject *)op;
    if (v->weakreflist)
        PyObject_ClearWeakRefs(op);
    PyTypeObject *tp = Py_TYPE(op);
    if (v->src.obj)
        PyBuffer_Release(&v->src);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyMethodDef view_methods[] = {
    {"seek", (PyCFunction)(void (*)(void))view_seek, METH_FASTCALL,
     "seek($self, offset, length=None, /)\n--\n\nRe-point the window at obj[offset:offset+length] (to the end when "
     "length is "
     "None). O(1), allocates nothing."},
    {"find", (PyCFunction)(void (*)(void))view_find, METH_FASTCALL,
     "find($self, sub, start=None, end=None, /)\n--\n\nLowest index of sub (bytes-like or int) in the window, or -1."},
    {"startswith", view_startswith, METH_O, "startswith($self, prefix, /)\n--\n\nprefix: bytes-like or tuple of them."},
    {"endswith", view_endswith, METH_O, "endswith($self, suffix, /)\n--\n\nsuffix: bytes-like or tuple of them."},
    {"tobytes", view_tobytes, METH_NOARGS, "tobytes($self)\n--\n\nA bytes copy of the window."},
    {"decode", (PyCFunction)(void (*)(void))view_decode, METH_VARARGS | METH_KEYWORDS,
     "decode($self, encoding='utf-8', errors='strict')\n--\n\nThe window decoded to str."},
    {"release", view_release, METH_NOARGS,
     "release($self)\n--\n\nDrop the export on the underlying object. BufferError while memoryviews of the View live."},
    {"__enter__", view_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)(void (*)(void))view_exit, METH_FASTCALL, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef view_getset[] = {
    {"offset", view_get_offset, NULL, "Start of the window in the underlying buffer.", NULL},
    {"readonly", view_get_readonly, NULL, "True when the underlying buffer is read-only.", NULL},
    {"obj", view_get_obj, NULL, "The object viewed.", NULL},
    {"released", view_get_released, NULL, "True after release().", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef view_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(tf_ViewObject, weakreflist), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot view_slots[] = {
    {Py_tp_members, view_members},
    {Py_tp_doc, "View(obj, offset=0, length=None)\n--\n\n"
                "A zero-copy window on a bytes-like object that seek() re-points in place. Holds one buffer export\n"
                "of obj until release(), so a bytearray cannot be resized under it."},
    {Py_tp_new, view_new},
    {Py_tp_methods, view_methods},
    {Py_tp_getset, view_getset},
    {Py_tp_repr, view_repr},
    {Py_tp_richcompare, view_richcompare},
    {Py_tp_hash, PyObject_HashNotImplemented},
    {Py_tp_traverse, view_traverse},
    {Py_tp_clear, view_clear},
    {Py_tp_dealloc, view_dealloc},
    {Py_sq_length, view_len},
    {Py_sq_item, view_item},
    {Py_sq_contains, view_contains},
    {Py_mp_length, view_len},
    {Py_mp_subscript, view_subscript},
    {Py_mp_ass_subscript, view_ass_subscript},
    {Py_bf_getbuffer, view_getbuffer},
    {Py_bf_releasebuffer, view_releasebuffer},
    {0, NULL},
};

static PyType_Spec view_spec = {
    .name = "thrifty.View",
    .basicsize = sizeof(tf_ViewObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = view_slots,
};

int tf_view_add(PyObject *m, tf_state *st) {
    st->ViewType = PyType_FromModuleAndSpec(m, &view_spec, NULL);
    if (!st->ViewType)
        return -1;
    return PyModule_AddObjectRef(m, "View", st->ViewType);
}
