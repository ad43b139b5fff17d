/* thrifty.Ring, search, reordering and the sequence protocol: count, index, in, remove, insert, rotate, reverse,
 * len, [i], [i] = x, del [i], +, *, +=, *=, comparisons and iteration. A comparison may run Python code (__eq__) that
 * changes the Ring: searches re-check the Ring's change counter after each. The type is ring.c. */
#include "ring_obj.h" /* Python.h first, as the C API requires */
#include "ring_values.h"

#include <string.h>

/* ---- search ---------------------------------------------------------------------------------------------- */

/* Index of the first item in [start, stop) equal to v (or, with `count`, how many are), -1 when none, -2 on error.
 * stop must not exceed the length. Comparisons run Python code, which may change the Ring: that raises `mutated`
 * (deque's choice: RuntimeError, but IndexError from remove()). */
static Py_ssize_t tf__find(tf_RingObject *self, PyObject *v, size_t start, size_t stop, int count, PyObject *mutated) {
    Py_ssize_t hits = 0;
    const tf_ring_kind *k = self->kind;
    /* Typed fast paths compare C values: an exact int against an integer kind, an exact float against a float
     * kind. Anything else goes through ==, exactly like deque. */
    int fast_int = (k->cls == 'i' || k->cls == 'u') && PyLong_CheckExact(v);
    int fast_float = k->cls == 'f' && PyFloat_CheckExact(v);
    if (fast_int || fast_float) {
        tf_item want;
        if (fast_int && tf_py_ring_to_c(k, v, &want) < 0) {
            if (!PyErr_ExceptionMatches(PyExc_OverflowError))
                return -2;
            PyErr_Clear(); /* out of this kind's range: equal to no item */
            return count ? 0 : -1;
        }
        double dv = fast_float ? PyFloat_AS_DOUBLE(v) : 0.0;
        for (size_t i = start; i < stop; i++) {
            const unsigned char *p = tf_ring_at(&self->ring, i);
            int eq;
            if (fast_int)
                eq = memcmp(p, want.b, k->size) == 0;
            else
                eq = k->size == sizeof(float) ? (double)*(const float *)p == dv : *(const double *)p == dv;
            if (eq) {
                if (!count)
                    return (Py_ssize_t)i;
                hits++;
            }
        }
        return count ? hits : -1;
    }
    size_t state = self->state;
    for (size_t i = start; i < stop && i < tf_ring_len(&self->ring); i++) {
        PyObject *item = tf_py_ring_item(self, i);
        if (item == NULL)
            return -2;
        int eq = PyObject_RichCompareBool(item, v, Py_EQ);
        Py_DECREF(item);
        if (eq < 0)
            return -2;
        /* deque's index() and `in` report a match even when that comparison changed it; count() and remove() fail */
        if (eq && !count && mutated == PyExc_RuntimeError)
            return (Py_ssize_t)i;
        if (self->state != state) {
            PyErr_SetString(mutated, "Ring mutated during iteration");
            return -2;
        }
        if (eq) {
            if (!count)
                return (Py_ssize_t)i;
            hits++;
        }
    }
    return count ? hits : -1;
}

PyObject *Ring_count(tf_RingObject *self, PyObject *v) {
    Py_ssize_t n = tf__find(self, v, 0, tf_ring_len(&self->ring), 1, PyExc_RuntimeError);
    return n < 0 ? NULL : PyLong_FromSsize_t(n);
}

int Ring_contains(tf_RingObject *self, PyObject *v) {
    Py_ssize_t i = tf__find(self, v, 0, tf_ring_len(&self->ring), 0, PyExc_RuntimeError);
    return i == -2 ? -1 : i >= 0;
}

PyObject *Ring_index(tf_RingObject *self, PyObject *args) {
    PyObject *v, *start_obj = NULL, *stop_obj = NULL;
    Py_ssize_t start = 0, stop = PY_SSIZE_T_MAX;
    if (!PyArg_ParseTuple(args, "O|OO:index", &v, &start_obj, &stop_obj))
        return NULL;
    /* like deque (and list), out-of-range bounds clamp instead of raising */
    if (start_obj != NULL && (start = PyNumber_AsSsize_t(start_obj, NULL)) == -1 && PyErr_Occurred())
        return NULL;
    if (stop_obj != NULL && (stop = PyNumber_AsSsize_t(stop_obj, NULL)) == -1 && PyErr_Occurred())
        return NULL;
    /* read only now: the bounds' __index__ may have changed the length */
    Py_ssize_t n = (Py_ssize_t)tf_ring_len(&self->ring);
    if (start < 0) {
        start += n;
        if (start < 0)
            start = 0;
    }
    if (stop < 0) {
        stop += n;
        if (stop < 0)
            stop = 0;
    }
    if (stop > n)
        stop = n;
    if (start > stop)
        start = stop;
    Py_ssize_t i = tf__find(self, v, (size_t)start, (size_t)stop, 0, PyExc_RuntimeError);
    if (i == -1)
        PyErr_Format(PyExc_ValueError, "%R is not in Ring", v);
    return i < 0 ? NULL : PyLong_FromSsize_t(i);
}

/* Deletes item i (in range); for 'O' the reference is released after the ring closed the gap. */
static int tf__delete_at(tf_RingObject *self, size_t i) {
    if (tf_py_ring_refuse_if_exported(self) < 0)
        return -1;
    PyObject *old = NULL;
    if (IS_OBJ(self))
        memcpy(&old, tf_ring_at(&self->ring, i), sizeof old);
    if (tf_ring_remove(&self->ring, i) != TF_OK) {
        PyErr_SetString(PyExc_IndexError, "Ring index out of range");
        return -1;
    }
    self->state++;
    tf_py_ring_maybe_shrink(self);
    Py_XDECREF(old);
    return 0;
}

PyObject *Ring_remove(tf_RingObject *self, PyObject *v) {
    Py_ssize_t i = tf__find(self, v, 0, tf_ring_len(&self->ring), 0, PyExc_IndexError);
    if (i == -1)
        PyErr_Format(PyExc_ValueError, "%R is not in Ring", v);
    if (i < 0 || tf__delete_at(self, (size_t)i) < 0)
        return NULL;
    Py_RETURN_NONE;
}

PyObject *Ring_insert(tf_RingObject *self, PyObject *args) {
    Py_ssize_t index;
    PyObject *v;
    if (!PyArg_ParseTuple(args, "nO:insert", &index, &v))
        return NULL;
    Py_ssize_t n = (Py_ssize_t)tf_ring_len(&self->ring);
    if (self->maxlen >= 0 && n == self->maxlen) {
        if (self->overflow_raise)
            return tf_py_ring_raise_full(self), NULL;
        PyErr_SetString(PyExc_IndexError, "Ring already at its maximum size");
        return NULL;
    }
    tf_item it;
    const tf_ring_kind *kind = self->kind;
    if (tf_py_ring_to_c(kind, v, &it) < 0)
        return NULL;
    if (self->kind != kind)
        return tf_py_ring_kind_changed(), NULL;
    /* the conversion may run Python code (__index__, __float__) that changes the Ring: decide on what is there now */
    n = (Py_ssize_t)tf_ring_len(&self->ring);
    if (self->maxlen >= 0 && n == self->maxlen) {
        if (self->overflow_raise)
            return tf_py_ring_raise_full(self), NULL;
        PyErr_SetString(PyExc_IndexError, "Ring already at its maximum size");
        return NULL;
    }
    size_t pos = index >= n ? (size_t)n : index <= -n ? 0 : index < 0 ? (size_t)(n + index) : (size_t)index;
    if (tf_py_ring_refuse_if_exported(self) < 0 || tf_py_ring_ensure_room(self, 1) < 0)
        return NULL;
    if (IS_OBJ(self))
        Py_INCREF(v);
    (void)tf_ring_insert(&self->ring, pos, &it);
    self->state++;
    Py_RETURN_NONE;
}

PyObject *Ring_rotate(tf_RingObject *self, PyObject *args) {
    Py_ssize_t n = 1;
    if (!PyArg_ParseTuple(args, "|n:rotate", &n))
        return NULL;
    size_t len = tf_ring_len(&self->ring);
    if (len <= 1)
        Py_RETURN_NONE;
    if (tf_py_ring_refuse_if_exported(self) < 0)
        return NULL;
    if (n >= 0)
        tf_ring_rotate_right(&self->ring, (size_t)n);
    else
        tf_ring_rotate_left(&self->ring, (size_t)0 - (size_t)n); /* also right for PY_SSIZE_T_MIN */
    self->state++;
    Py_RETURN_NONE;
}

PyObject *Ring_reverse(tf_RingObject *self, PyObject *unused) {
    (void)unused;
    tf_ring_reverse(&self->ring);
    Py_RETURN_NONE;
}

/* ---- sequence protocol ----------------------------------------------------------------------------------- */

Py_ssize_t Ring_len(tf_RingObject *self) { return (Py_ssize_t)tf_ring_len(&self->ring); }

PyObject *Ring_item(tf_RingObject *self, Py_ssize_t i) {
    if (i < 0 || (size_t)i >= tf_ring_len(&self->ring)) {
        PyErr_SetString(PyExc_IndexError, "Ring index out of range");
        return NULL;
    }
    return tf_py_ring_item(self, (size_t)i);
}

int Ring_ass_item(tf_RingObject *self, Py_ssize_t i, PyObject *v) {
    if (i < 0 || (size_t)i >= tf_ring_len(&self->ring)) {
        PyErr_SetString(PyExc_IndexError, "Ring index out of range");
        return -1;
    }
    if (v == NULL)
        return tf__delete_at(self, (size_t)i);
    tf_item it;
    const tf_ring_kind *kind = self->kind;
    if (tf_py_ring_to_c(kind, v, &it) < 0)
        return -1;
    if (self->kind != kind)
        return tf_py_ring_kind_changed();
    void *slot = tf_ring_at(&self->ring, (size_t)i); /* again: the conversion may have run code that shrank it */
    if (slot == NULL) {
        PyErr_SetString(PyExc_IndexError, "Ring index out of range");
        return -1;
    }
    if (IS_OBJ(self)) {
        PyObject *old;
        memcpy(&old, slot, sizeof old);
        Py_INCREF(v);
        memcpy(slot, &it.o, sizeof it.o);
        Py_DECREF(old);
    } else {
        memcpy(slot, it.b, self->kind->size);
    }
    return 0;
}

int tf_py_ring_is_ring(tf_RingObject *self, PyObject *other) {
    tf_state *st = tf_state_of((PyObject *)self);
    return st != NULL && PyObject_TypeCheck(other, (PyTypeObject *)st->Ring);
}

PyObject *Ring_concat(tf_RingObject *self, PyObject *other) {
    if (!tf_py_ring_is_ring(self, other)) {
        PyErr_Format(PyExc_TypeError, "can only concatenate Ring (not \"%.200s\") to Ring", Py_TYPE(other)->tp_name);
        return NULL;
    }
    PyObject *res = Ring_copy(self, NULL);
    if (res != NULL && tf_py_ring_extend((tf_RingObject *)res, other, 0) < 0)
        Py_CLEAR(res);
    return res;
}

PyObject *Ring_inplace_concat(tf_RingObject *self, PyObject *other) {
    if (tf_py_ring_extend(self, other, 0) < 0)
        return NULL;
    return Py_NewRef(self);
}

PyObject *Ring_inplace_repeat(tf_RingObject *self, Py_ssize_t n) {
    if (n <= 0 || tf_ring_len(&self->ring) == 0) {
        PyObject *r = Ring_clear(self, NULL);
        if (r == NULL)
            return NULL;
        Py_DECREF(r);
        return Py_NewRef(self);
    }
    if (n == 1)
        return Py_NewRef(self);
    if (tf_py_ring_refuse_if_exported(self) < 0)
        return NULL;
    /* The snapshot first: making it allocates (a list for 'O'), which may run a finalizer that changes the Ring.
     * Every decision below is taken on the snapshot, and each round checks the Ring still has the snapshot's kind,
     * since a round drops items (drop mode) and so may run __del__ again. */
    const tf_ring_kind *kind = self->kind;
    PyObject *snap = kind->cls == 'O' ? PySequence_List((PyObject *)self) : Ring_tobytes(self, NULL);
    if (snap == NULL)
        return NULL;
    size_t len = kind->cls == 'O' ? (size_t)PyList_GET_SIZE(snap) : (size_t)PyBytes_GET_SIZE(snap) / kind->size;
    PyObject *res = NULL;
    if (len == 0 || self->kind != kind) {
        if (self->kind != kind)
            PyErr_SetString(PyExc_RuntimeError, "Ring was re-initialized during *=");
        else
            res = Py_NewRef(self);
        goto done;
    }
    /* only the last maxlen items of the repetition survive, so a bounded drop-mode Ring needs few rounds */
    Py_ssize_t rounds = n - 1;
    if (self->ring.overflow == TF_RING_DROP_OLDEST && rounds > self->maxlen / (Py_ssize_t)len + 1)
        rounds = self->maxlen / (Py_ssize_t)len + 1;
    if (self->maxlen >= 0 && self->overflow_raise && (Py_ssize_t)len > self->maxlen / n) {
        tf_py_ring_raise_full(self);
        goto done;
    }
    /* an unbounded Ring would hold len * n items; a bounded one never more than maxlen (checked above) */
    if (self->maxlen < 0 && (Py_ssize_t)len > PY_SSIZE_T_MAX / n) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t r = 0; r < rounds; r++) {
        if (self->kind != kind) {
            PyErr_SetString(PyExc_RuntimeError, "Ring was re-initialized during *=");
            goto done;
        }
        /* the count tf_py_ring_write_raw returns is tested as a Py_ssize_t: as an int, a count past INT_MAX would turn
         * negative and look like an error */
        int bad = kind->cls == 'O' ? tf_py_ring_extend(self, snap, 0) < 0
                                   : tf_py_ring_write_raw(self, (unsigned char *)PyBytes_AS_STRING(snap), len, 0) < 0;
        if (bad)
            goto done;
    }
    res = Py_NewRef(self);
done:
    Py_DECREF(snap);
    return res;
}

PyObject *Ring_repeat(tf_RingObject *self, Py_ssize_t n) {
    PyObject *res = Ring_copy(self, NULL);
    if (res == NULL)
        return NULL;
    PyObject *r = Ring_inplace_repeat((tf_RingObject *)res, n);
    Py_DECREF(res);
    return r;
}

PyObject *Ring_richcompare(tf_RingObject *self, PyObject *other, int op) {
    if (!tf_py_ring_is_ring(self, other))
        Py_RETURN_NOTIMPLEMENTED;
    PyObject *a = PySequence_List((PyObject *)self);
    PyObject *b = a ? PySequence_List(other) : NULL;
    PyObject *res = b ? PyObject_RichCompare(a, b, op) : NULL;
    Py_XDECREF(a);
    Py_XDECREF(b);
    return res;
}

PyObject *Ring_iter(tf_RingObject *self) {
    tf_state *st = tf_state_of((PyObject *)self);
    return st ? tf_py_ring_iter_new(st, self, 0) : NULL;
}

PyObject *Ring_reversed(tf_RingObject *self, PyObject *unused) {
    (void)unused;
    tf_state *st = tf_state_of((PyObject *)self);
    return st ? tf_py_ring_iter_new(st, self, 1) : NULL;
}
