/* The buffer exporter behind Ring.views(): one object per contiguous run of a typed Ring's items. Each buffer it
 * hands out counts as an export of the Ring, which refuses to change length or order until every buffer is
 * released (the rule bytearray and array.array follow), so the memoryviews never point at freed or moved items.
 * The items stay writable in place, like a bytearray's. */
#include "ring_obj.h"

typedef struct {
    PyObject_HEAD tf_RingObject *ring; /* owned */
    int run;                           /* 0: the run from the front; 1: the wrapped remainder from the storage start */
    Py_ssize_t shape;                  /* items in the exported run, pointed to by Py_buffer.shape */
    Py_ssize_t stride;                 /* the item size, pointed to by Py_buffer.strides */
} tf_RingViewObject;

static int RingView_getbuffer(tf_RingViewObject *self, Py_buffer *view, int flags) {
    tf_RingObject *r = self->ring;
    /* the exporter outlives its memoryviews (memoryview.obj) and __init__ may since have made the Ring an 'O' one,
     * whose slots are object references that must never be exposed as writable bytes */
    if (r->kind->cls == 'O') {
        PyErr_SetString(PyExc_BufferError, "Ring('O') items are object references and cannot be exported");
        return -1;
    }
    void *p;
    size_t n0 = tf_ring_read_block(&r->ring, &p);
    size_t n = n0;
    if (self->run == 1) {
        n = tf_ring_len(&r->ring) - n0;
        if (n > 0)
            p = tf_ring_at(&r->ring, n0);
    }
    if (p == NULL) /* a Ring with no storage yet: an empty view still needs a valid address */
        p = &self->shape;
    self->shape = (Py_ssize_t)n;
    self->stride = (Py_ssize_t)r->kind->size;
    view->obj = Py_NewRef(self);
    view->buf = p;
    view->len = self->shape * self->stride;
    view->readonly = 0;
    view->itemsize = self->stride;
    view->format = (flags & PyBUF_FORMAT) ? (char *)r->kind->format : NULL;
    view->ndim = 1;
    view->shape = (flags & PyBUF_ND) ? &self->shape : NULL;
    view->strides = (flags & PyBUF_STRIDES) == PyBUF_STRIDES ? &self->stride : NULL;
    view->suboffsets = NULL;
    view->internal = NULL;
    r->exports++;
    tf_py_ring_set_fast(r);
    return 0;
}

static void RingView_releasebuffer(tf_RingViewObject *self, Py_buffer *view) {
    (void)view;
    self->ring->exports--;
    tf_py_ring_set_fast(self->ring);
}

PyObject *tf_py_ring_view_new(tf_state *st, tf_RingObject *ring, int run) {
    tf_RingViewObject *self = PyObject_GC_New(tf_RingViewObject, (PyTypeObject *)st->RingView);
    if (self == NULL)
        return NULL;
    self->ring = (tf_RingObject *)Py_NewRef(ring);
    self->run = run;
    self->shape = 0;
    self->stride = 0;
    PyObject_GC_Track(self);
    PyObject *mv = PyMemoryView_FromObject((PyObject *)self);
    Py_DECREF(self); /* the memoryview keeps it alive */
    return mv;
}

/* Tracked by the GC: a memoryview kept in a Ring subclass's __dict__ makes a cycle through this object. It has no
 * tp_clear: the memoryview's clear releases the buffer, and the reference to the Ring must stay valid until then. */
static int RingView_traverse(tf_RingViewObject *self, visitproc visit, void *arg) {
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->ring);
    return 0;
}

static void RingView_dealloc(tf_RingViewObject *self) {
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    Py_XDECREF(self->ring);
    PyObject_GC_Del(self);
    Py_DECREF(tp);
}

static PyType_Slot RingView_slots[] = {
    {Py_bf_getbuffer, RingView_getbuffer},
    {Py_bf_releasebuffer, RingView_releasebuffer},
    {Py_tp_traverse, RingView_traverse},
    {Py_tp_dealloc, RingView_dealloc},
    {0, NULL},
};

static PyType_Spec RingView_spec = {
    .name = "thrifty._RingRun",
    .basicsize = sizeof(tf_RingViewObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = RingView_slots,
};

int tf_ring_view_add(PyObject *m, tf_state *st) {
    st->RingView = PyType_FromModuleAndSpec(m, &RingView_spec, NULL);
    return st->RingView == NULL ? -1 : 0;
}
