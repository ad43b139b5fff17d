/* The iterator of thrifty.Ring, front to back or back to front. Like deque's, it raises RuntimeError when the Ring
 * changes length or order while it runs (the Ring bumps `state` on every such change). */
#include "ring_obj.h"

typedef struct {
    PyObject_HEAD tf_RingObject *ring; /* owned */
    size_t left;                       /* items still to yield */
    size_t total;                      /* the Ring's length when iteration started */
    size_t state;                      /* the Ring's state when iteration started */
    int reverse;
} tf_RingIterObject;

PyObject *tf_py_ring_iter_new(tf_state *st, tf_RingObject *ring, int reverse) {
    tf_RingIterObject *it = PyObject_GC_New(tf_RingIterObject, (PyTypeObject *)st->RingIter);
    if (it == NULL)
        return NULL;
    it->ring = (tf_RingObject *)Py_NewRef(ring);
    it->total = it->left = tf_ring_len(&ring->ring);
    it->state = ring->state;
    it->reverse = reverse;
    PyObject_GC_Track(it);
    return (PyObject *)it;
}

static PyObject *RingIter_next(tf_RingIterObject *it) {
    if (it->ring->state != it->state) {
        it->left = 0;
        PyErr_SetString(PyExc_RuntimeError, "Ring mutated during iteration");
        return NULL;
    }
    if (it->left == 0)
        return NULL;
    size_t i = it->reverse ? it->left - 1 : it->total - it->left;
    it->left--;
    return tf_py_ring_item(it->ring, i);
}

static PyObject *RingIter_length_hint(tf_RingIterObject *it, PyObject *unused) {
    (void)unused;
    return PyLong_FromSize_t(it->left);
}

static int RingIter_traverse(tf_RingIterObject *it, visitproc visit, void *arg) {
    Py_VISIT(Py_TYPE(it));
    Py_VISIT(it->ring);
    return 0;
}

static void RingIter_dealloc(tf_RingIterObject *it) {
    PyTypeObject *tp = Py_TYPE(it);
    PyObject_GC_UnTrack(it);
    Py_XDECREF(it->ring);
    PyObject_GC_Del(it);
    Py_DECREF(tp);
}

static PyMethodDef RingIter_methods[] = {
    {"__length_hint__", (PyCFunction)RingIter_length_hint, METH_NOARGS, "Items left."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot RingIter_slots[] = {
    {Py_tp_iter, PyObject_SelfIter},     {Py_tp_iternext, RingIter_next},   {Py_tp_methods, RingIter_methods},
    {Py_tp_traverse, RingIter_traverse}, {Py_tp_dealloc, RingIter_dealloc}, {0, NULL},
};

static PyType_Spec RingIter_spec = {
    .name = "thrifty._RingIterator",
    .basicsize = sizeof(tf_RingIterObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = RingIter_slots,
};

int tf_ring_iter_add(PyObject *m, tf_state *st) {
    st->RingIter = PyType_FromModuleAndSpec(m, &RingIter_spec, NULL);
    return st->RingIter == NULL ? -1 : 0;
}
