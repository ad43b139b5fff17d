/* thrifty.Ring, the window statistics: sum, mean, min, max and std over the items, computed by the core's
 * reductions (tf_ring_sum and friends) for typed Rings; 'O' Rings have none. The type is ring.c. */
#include "ring_obj.h" /* Python.h first, as the C API requires */
#include "ring_values.h"

#include <math.h>

/* ---- reductions ------------------------------------------------------------------------------------------ */

static int tf__need_numeric(tf_RingObject *self, const char *what) {
    if (!IS_OBJ(self))
        return 0;
    PyErr_Format(PyExc_TypeError, "Ring('O').%s() needs a numeric Ring; use the builtin or statistics on 'O'", what);
    return -1;
}

static int tf__need_items(tf_RingObject *self, const char *what) {
    if (tf_ring_len(&self->ring) > 0)
        return 0;
    PyErr_Format(PyExc_ValueError, "%s() of an empty Ring", what);
    return -1;
}

PyObject *Ring_sum(tf_RingObject *self, PyObject *unused) {
    (void)unused;
    if (tf__need_numeric(self, "sum") < 0)
        return NULL;
    if (self->kind->cls == 'f') {
        double s;
        (void)tf_ring_sum_float(&self->ring, self->kind->type, &s);
        return PyFloat_FromDouble(s);
    }
    uint64_t lo;
    int64_t hi;
    (void)tf_ring_sum_int(&self->ring, self->kind->type, &lo, &hi);
    if (hi == 0)
        return PyLong_FromUnsignedLongLong(lo);
    if (hi == -1 && lo >= (1ULL << 63))
        return PyLong_FromLongLong((long long)(lo - (1ULL << 63)) + LLONG_MIN);
    PyObject *h = PyLong_FromLongLong(hi), *sh = PyLong_FromLong(64), *l = PyLong_FromUnsignedLongLong(lo);
    PyObject *top = h && sh ? PyNumber_Lshift(h, sh) : NULL;
    PyObject *res = top && l ? PyNumber_Add(top, l) : NULL;
    Py_XDECREF(h);
    Py_XDECREF(sh);
    Py_XDECREF(l);
    Py_XDECREF(top);
    return res;
}

/* The exact mean: integer sums are divided as Python ints (correctly rounded), float sums in double. */
PyObject *Ring_mean(tf_RingObject *self, PyObject *unused) {
    if (tf__need_numeric(self, "mean") < 0 || tf__need_items(self, "mean") < 0)
        return NULL;
    /* Where both the sum and the count are exact doubles one division is the correctly rounded quotient, the same
     * shortcut CPython's int / int takes; this skips two temporary objects per call. */
    size_t len = tf_ring_len(&self->ring);
    const uint64_t exact = (uint64_t)1 << 53;
    if (len <= exact) {
        if (self->kind->cls == 'f') {
            double fs;
            (void)tf_ring_sum_float(&self->ring, self->kind->type, &fs);
            return PyFloat_FromDouble(fs / (double)len);
        }
        uint64_t lo;
        int64_t hi;
        (void)tf_ring_sum_int(&self->ring, self->kind->type, &lo, &hi);
        if (hi == 0 && lo <= exact)
            return PyFloat_FromDouble((double)lo / (double)len);
        if (hi == -1 && lo >= (uint64_t)0 - exact)
            return PyFloat_FromDouble(-(double)((uint64_t)0 - lo) / (double)len);
    }
    PyObject *s = Ring_sum(self, unused);
    if (s == NULL)
        return NULL;
    PyObject *n = PyLong_FromSize_t(tf_ring_len(&self->ring));
    PyObject *res = n ? PyNumber_TrueDivide(s, n) : NULL;
    Py_XDECREF(n);
    Py_DECREF(s);
    return res;
}

static PyObject *tf__extreme(tf_RingObject *self, int want_max) {
    const char *what = want_max ? "max" : "min";
    if (tf__need_numeric(self, what) < 0 || tf__need_items(self, what) < 0)
        return NULL;
    tf_item v;
    (void)tf_ring_min_max(&self->ring, self->kind->type, want_max ? NULL : &v, want_max ? &v : NULL);
    return tf_py_ring_from_c(self->kind, &v);
}

PyObject *Ring_min(tf_RingObject *self, PyObject *unused) {
    (void)unused;
    return tf__extreme(self, 0);
}
PyObject *Ring_max(tf_RingObject *self, PyObject *unused) {
    (void)unused;
    return tf__extreme(self, 1);
}

PyObject *Ring_std(tf_RingObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"ddof", NULL};
    Py_ssize_t ddof = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|n:std", kwlist, &ddof))
        return NULL;
    if (tf__need_numeric(self, "std") < 0)
        return NULL;
    Py_ssize_t n = (Py_ssize_t)tf_ring_len(&self->ring);
    if (ddof < 0) {
        PyErr_SetString(PyExc_ValueError, "std() ddof must be >= 0 (0: population, like statistics.pstdev; "
                                          "1: sample, like statistics.stdev)");
        return NULL;
    }
    if (n - ddof <= 0) {
        PyErr_Format(PyExc_ValueError, "std(ddof=%zd) needs more than %zd items, the Ring has %zd", ddof, ddof, n);
        return NULL;
    }
    double ss;
    (void)tf_ring_sum_sq_dev(&self->ring, self->kind->type, &ss);
    return PyFloat_FromDouble(sqrt(ss / (double)(n - ddof)));
}
