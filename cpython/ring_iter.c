/* The iterators of thrifty.Ring, front to back and back to front. Like deque's, they raise RuntimeError when the
 * Ring changes length or order while they run (the Ring bumps `state` on every such change), and like deque's they
 * can be made as `type(iter(r))(r, index)` (skipping `index` items) and pickled as that call. The two directions
 * are two types, so `type(reversed(r))(r)` iterates backwards, as it does for a deque. */
#include "ring_obj.h"

typedef struct {
    PyObject_HEAD tf_RingObject *ring; /* owned */
    size_t left;                       /* items still to yield */
    size_t total;                      /* the Ring's length when iteration started */
    size_t state;                      /* the Ring's state when iteration started */
    int reverse;
} tf_RingIterObject;

PyObject *tf_py_ring_iter_new(tf_state *st, tf_RingObject *ring, int reverse) {
    tf_RingIterObject *it =
        PyObject_GC_New(tf_RingIterObject, (PyTypeObject *)(reverse ? st->RingRevIter : st->RingIter));
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

/* type(it)(ring, index=0): an iterator over `ring` that has already yielded `index` items (deque's constructor). */
static PyObject *tf__iter_make(PyTypeObject *type, PyObject *args, PyObject *kwds, int reverse) {
    tf_state *st = tf_state_of_type(type);
    PyObject *ring;
    Py_ssize_t index = 0;
    if (st == NULL || !PyArg_ParseTuple(args, "O!|n", (PyTypeObject *)st->Ring, &ring, &index))
        return NULL;
    if (kwds != NULL && PyDict_GET_SIZE(kwds) != 0) {
        PyErr_Format(PyExc_TypeError, "%s() takes no keyword arguments", type->tp_name);
        return NULL;
    }
    tf_RingIterObject *it = (tf_RingIterObject *)tf_py_ring_iter_new(st, (tf_RingObject *)ring, reverse);
    if (it != NULL && index > 0)
        it->left = (size_t)index >= it->left ? 0 : it->left - (size_t)index;
    return (PyObject *)it;
}

static PyObject *RingIter_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    return tf__iter_make(type, args, kwds, 0);
}

static PyObject *RingRevIter_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    return tf__iter_make(type, args, kwds, 1);
}

/* Pickled as the call that remakes it: the Ring and how many items were already yielded. */
static PyObject *RingIter_reduce(tf_RingIterObject *it, PyObject *unused) {
    (void)unused;
    return Py_BuildValue("O(On)", Py_TYPE(it), it->ring, (Py_ssize_t)(it->total - it->left));
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
    {"__reduce__", (PyCFunction)RingIter_reduce, METH_NOARGS, "Pickle support."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot RingIter_slots[] = {
    {Py_tp_new, RingIter_new},
    {Py_tp_iter, PyObject_SelfIter},
    {Py_tp_iternext, RingIter_next},
    {Py_tp_methods, RingIter_methods},
    {Py_tp_traverse, RingIter_traverse},
    {Py_tp_dealloc, RingIter_dealloc},
    {0, NULL},
};

static PyType_Slot RingRevIter_slots[] = {
    {Py_tp_new, RingRevIter_new},
    {Py_tp_iter, PyObject_SelfIter},
    {Py_tp_iternext, RingIter_next},
    {Py_tp_methods, RingIter_methods},
    {Py_tp_traverse, RingIter_traverse},
    {Py_tp_dealloc, RingIter_dealloc},
    {0, NULL},
};

/* Named in thrifty._ext (and added there) so pickle finds them by name. */
static PyType_Spec RingIter_spec = {
    .name = "thrifty._ext._RingIterator",
    .basicsize = sizeof(tf_RingIterObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = RingIter_slots,
};

static PyType_Spec RingRevIter_spec = {
    .name = "thrifty._ext._RingReverseIterator",
    .basicsize = sizeof(tf_RingIterObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = RingRevIter_slots,
};

int tf_ring_iter_add(PyObject *m, tf_state *st) {
    st->RingIter = PyType_FromModuleAndSpec(m, &RingIter_spec, NULL);
    if (st->RingIter == NULL || PyModule_AddObjectRef(m, "_RingIterator", st->RingIter) < 0)
        return -1;
    st->RingRevIter = PyType_FromModuleAndSpec(m, &RingRevIter_spec, NULL);
    return st->RingRevIter == NULL || PyModule_AddObjectRef(m, "_RingReverseIterator", st->RingRevIter) < 0 ? -1 : 0;
}
