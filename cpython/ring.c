/* thrifty.Ring — the binding of core/include/thrifty/ring.h: a typed ring buffer with deque's API.
 *
 * Layout (typecodes and value conversion are in ring_values.c): storage (bounded Rings preallocate maxlen items,
 * unbounded ones grow x2 and shrink /2 through tf_ring_rehome); adding items (the overflow policy itself is the core
 * ring's: a bounded Ring's tf_ring drops its oldest or refuses, an unbounded one's refuses and the binding grows it);
 * then methods, the sequence protocol and the type. For 'O' every live slot owns one reference; a reference that leaves
 * the ring is released only after the ring is consistent again, because releasing it may run arbitrary Python code that
 * uses the ring.
 */
#include "ring_obj.h" /* Python.h first, as the C API requires */
#include "ring_values.h"

#include <math.h>
#include <string.h>

#include <structmember.h> /* PyMemberDef for __weaklistoffset__ on Python 3.11 */

/* ---- storage --------------------------------------------------------------------------------------------- */

#define TF__MIN_GROWN 8u /* first capacity of an unbounded Ring; below this it never shrinks */

/* Moves the contents into fresh storage of `cap` items (cap >= length). */
static int tf__set_capacity(tf_RingObject *self, size_t cap) {
    size_t bytes = tf_ring_size(cap, self->kind->size);
    unsigned char *mem = NULL;
    if (cap > 0) {
        if (bytes == 0 || bytes > (size_t)PY_SSIZE_T_MAX) {
            PyErr_NoMemory();
            return -1;
        }
        mem = PyMem_Malloc(bytes);
        if (mem == NULL) {
            PyErr_NoMemory();
            return -1;
        }
    }
    tf_status st = tf_ring_rehome(&self->ring, mem, bytes, cap);
    if (st != TF_OK) {
        PyMem_Free(mem);
        tf_raise_status(tf_state_of((PyObject *)self), st, "Ring");
        return -1;
    }
    PyMem_Free(self->storage);
    self->storage = mem;
    return 0;
}

/* Room for n more items in an unbounded Ring (bounded ones are preallocated and never grow). */
static int tf__ensure_room(tf_RingObject *self, size_t n) {
    if (self->maxlen >= 0 || tf_ring_space(&self->ring) >= n)
        return 0;
    size_t len = tf_ring_len(&self->ring);
    size_t limit = (size_t)PY_SSIZE_T_MAX / self->kind->size;
    if (n > limit - len) {
        PyErr_NoMemory();
        return -1;
    }
    size_t cap = self->ring.capacity;
    cap = cap > limit / 2 ? limit : cap * 2;
    if (cap < len + n)
        cap = len + n;
    if (cap < TF__MIN_GROWN)
        cap = TF__MIN_GROWN;
    return tf__set_capacity(self, cap);
}

/* Gives memory back when an unbounded Ring is mostly empty; a failure only keeps the larger block. */
static void tf__maybe_shrink(tf_RingObject *self) {
    size_t cap = self->ring.capacity;
    if (self->maxlen >= 0 || self->exports > 0 || cap <= TF__MIN_GROWN || tf_ring_len(&self->ring) >= cap / 4)
        return;
    if (tf__set_capacity(self, cap / 2) < 0)
        PyErr_Clear();
}

static int tf__refuse_if_exported(tf_RingObject *self) {
    if (self->exports > 0) {
        PyErr_SetString(PyExc_BufferError,
                        "Ring: cannot change length or order while a memoryview from views() is alive");
        return -1;
    }
    return 0;
}

static int tf__raise_full(tf_RingObject *self) {
    tf_state *st = tf_state_of((PyObject *)self);
    if (st != NULL)
        PyErr_Format(st->Full, "Ring is full (maxlen=%zd, overflow='raise')", self->maxlen);
    return -1;
}

/* Removes every item; for 'O' each reference is released after its slot left the ring. */
static void tf__drop_all(tf_RingObject *self) {
    if (IS_OBJ(self)) {
        PyObject *o;
        /* IS_OBJ again each round: a __del__ may have re-initialized the Ring with a typed typecode, whose items
         * must not be taken for references */
        while (IS_OBJ(self) && tf_ring_pop_front(&self->ring, &o) == TF_OK)
            Py_DECREF(o);
    } else {
        tf_ring_clear(&self->ring);
    }
}

/* Adds one item at the back (or the front) under the overflow policy: an unbounded Ring grows first, a full bounded
 * one does what its core ring's policy says. For 'O' the Ring takes over the reference the caller holds in item->o
 * when this succeeds. *dropped gets a reference the caller must release (an item pushed out of a full drop-mode
 * Ring, the new one itself when maxlen is 0, as deque(maxlen=0) takes and drops it) or stays NULL. */
static int tf__push(tf_RingObject *self, const tf_item *item, int front, PyObject **dropped) {
    if (tf__refuse_if_exported(self) < 0 || tf__ensure_room(self, 1) < 0)
        return -1;
    tf_item old = {NULL};
    tf_status st = front ? tf_ring_put_front(&self->ring, item, &old) : tf_ring_put_back(&self->ring, item, &old);
    if (st == TF_E_FULL)
        return tf__raise_full(self);
    if (st == TF_RING_DROPPED && IS_OBJ(self))
        *dropped = old.o;
    self->state++;
    return 0;
}

/* Appends n raw items (already in the kind's C form; never 'O') under the overflow policy. With `partial` a
 * raise-mode Ring takes what fits and returns the count (write()); without it, it takes what fits and raises Full
 * (extend(), like appending one by one). Returns the number of items taken or -1. */
static Py_ssize_t tf__write_raw(tf_RingObject *self, const unsigned char *src, size_t n, int partial) {
    if (tf__refuse_if_exported(self) < 0)
        return -1;
    if (n == 0)
        return 0;
    self->state++;
    if (tf__ensure_room(self, n) < 0)
        return -1;
    size_t took = tf_ring_put(&self->ring, src, n);
    if (took < n && !partial)
        return tf__raise_full(self);
    return (Py_ssize_t)took;
}

/* Converting an item may run Python code (__index__, __float__) that calls __init__ on the Ring with another
 * typecode; the converted value is then of the wrong kind and must not be stored. */
static int tf__kind_changed(void) {
    PyErr_SetString(PyExc_RuntimeError, "Ring was re-initialized while an item was being converted");
    return -1;
}

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

/* ---- construction ------------------------------------------------------------------------------------------ */

static int tf__extend(tf_RingObject *self, PyObject *iterable, int front);
static int tf__is_ring(tf_RingObject *self, PyObject *other);

static PyObject *Ring_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    (void)args;
    (void)kwds;
    tf_RingObject *self = (tf_RingObject *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->kind = tf_py_ring_kind_of('O');
    self->maxlen = -1;
    (void)tf_ring_init(&self->ring, NULL, 0, self->kind->size, 0);
    return (PyObject *)self;
}

static int Ring_init(tf_RingObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"typecode", "iterable", "maxlen", "overflow", NULL};
    PyObject *code_obj, *iterable = NULL, *maxlen_obj = Py_None, *overflow_obj = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|OOO:Ring", kwlist, &code_obj, &iterable, &maxlen_obj,
                                     &overflow_obj))
        return -1;
    if (!PyUnicode_Check(code_obj) || PyUnicode_GetLength(code_obj) != 1) {
        PyErr_Format(PyExc_TypeError,
                     "Ring() argument 'typecode' must be a 1-character str (" TF_PY_RING_CODES "), not %.100s",
                     PyUnicode_Check(code_obj) ? "a str of another length" : Py_TYPE(code_obj)->tp_name);
        return -1;
    }
    Py_UCS4 ch = PyUnicode_READ_CHAR(code_obj, 0);
    const tf_ring_kind *kind = ch < 128 ? tf_py_ring_kind_of((char)ch) : NULL;
    if (kind == NULL) {
        PyErr_Format(PyExc_ValueError, "bad typecode %R (must be " TF_PY_RING_CODES ")", code_obj);
        return -1;
    }
    Py_ssize_t maxlen = -1;
    if (maxlen_obj != Py_None) {
        PyObject *num = PyNumber_Index(maxlen_obj);
        if (num == NULL) {
            PyErr_Format(PyExc_TypeError, "maxlen must be an int or None, not %.100s", Py_TYPE(maxlen_obj)->tp_name);
            return -1;
        }
        maxlen = PyLong_AsSsize_t(num);
        Py_DECREF(num);
        if (maxlen == -1 && PyErr_Occurred())
            return -1;
        if (maxlen < 0) {
            PyErr_SetString(PyExc_ValueError, "maxlen must be non-negative");
            return -1;
        }
    }
    int raise = 0;
    if (overflow_obj != NULL) {
        if (!PyUnicode_Check(overflow_obj)) {
            PyErr_Format(PyExc_TypeError, "overflow must be 'drop' or 'raise', not %.100s",
                         Py_TYPE(overflow_obj)->tp_name);
            return -1;
        }
        if (PyUnicode_CompareWithASCIIString(overflow_obj, "raise") == 0)
            raise = 1;
        else if (PyUnicode_CompareWithASCIIString(overflow_obj, "drop") != 0) {
            PyErr_Format(PyExc_ValueError, "overflow must be 'drop' or 'raise', not %R", overflow_obj);
            return -1;
        }
    }
    if (tf__refuse_if_exported(self) < 0)
        return -1;
    /* __init__ on a live Ring starts over, like deque.__init__. The new, empty state is complete before the old items
     * go: dropping an 'O' item runs its __del__, which may use this Ring (even re-initialize it and export views of
     * it), and must find a consistent Ring that owns none of the old storage. */
    size_t bytes = maxlen > 0 ? tf_ring_size((size_t)maxlen, kind->size) : 0;
    unsigned char *mem = NULL;
    if (maxlen > 0) {
        if (bytes == 0 || bytes > (size_t)PY_SSIZE_T_MAX || (mem = PyMem_Malloc(bytes)) == NULL) {
            PyErr_NoMemory();
            return -1;
        }
    }
    tf_ring fresh;
    tf_status status = tf_ring_init(&fresh, mem, bytes, kind->size, maxlen > 0 ? (size_t)maxlen : 0);
    if (status == TF_OK) /* a full unbounded Ring grows (tf__ensure_room), so only a bounded one may drop */
        status = tf_ring_set_overflow(&fresh, maxlen >= 0 && !raise ? TF_RING_DROP_OLDEST : TF_RING_REFUSE);
    if (status != TF_OK) {
        PyMem_Free(mem);
        tf_raise_status(tf_state_of((PyObject *)self), status, "Ring");
        return -1;
    }
    tf_ring old = self->ring;
    unsigned char *old_storage = self->storage;
    int old_obj = IS_OBJ(self);
    self->ring = fresh;
    self->storage = mem;
    self->kind = kind;
    self->maxlen = maxlen;
    self->overflow_raise = raise;
    self->state++;
    if (old_obj) {
        PyObject *o;
        while (tf_ring_pop_front(&old, &o) == TF_OK)
            Py_DECREF(o);
    }
    PyMem_Free(old_storage);
    if (iterable != NULL && iterable != Py_None)
        return tf__extend(self, iterable, 0);
    return 0;
}

/* ---- single items ---------------------------------------------------------------------------------------- */

static PyObject *tf__add_one(tf_RingObject *self, PyObject *v, int front) {
    tf_item it;
    PyObject *dropped = NULL;
    const tf_ring_kind *kind = self->kind;
    if (tf_py_ring_to_c(kind, v, &it) < 0)
        return NULL;
    if (self->kind != kind)
        return tf__kind_changed(), NULL;
    if (IS_OBJ(self))
        Py_INCREF(v);
    if (tf__push(self, &it, front, &dropped) < 0) {
        if (IS_OBJ(self))
            Py_DECREF(v);
        return NULL;
    }
    Py_XDECREF(dropped); /* last: its finalizer may run, and finds the Ring consistent */
    Py_RETURN_NONE;
}

#define TF__PUSH_SIZED(r, p, n, front)                                                                                 \
    ((front) ? tf_ring_push_front_sized((r), (p), (n)) : tf_ring_push_back_sized((r), (p), (n)))
#define TF__POP_SIZED(r, p, n, front)                                                                                  \
    ((front) ? tf_ring_pop_front_sized((r), (p), (n)) : tf_ring_pop_back_sized((r), (p), (n)))

#define TF__PUT_SIZED(r, p, n, front, dropped)                                                                         \
    ((front) ? tf_ring_put_front_sized((r), (p), (n), (dropped)) : tf_ring_put_back_sized((r), (p), (n), (dropped)))

/* Puts the C value t of type T under the core ring's policy: a full bounded Ring that drops its oldest (the fixed
 * window of the latest samples) stays on the fast path; a refusal goes on to the general path, which grows an
 * unbounded Ring or raises Full. */
#define TF__PUT(T, t)                                                                                                  \
    do {                                                                                                               \
        if (TF__PUT_SIZED(r, &(t), sizeof(T), front, NULL) != TF_E_FULL)                                               \
            goto pushed;                                                                                               \
    } while (0)

/* Pushes an exact int in T's range as C type T. */
#define TF__PUSH_LONG(T)                                                                                               \
    do {                                                                                                               \
        long x;                                                                                                        \
        if (tf_py_exact_long(v, &x) && TF_PY_INT_FITS(T, x)) {                                                         \
            T t = (T)x;                                                                                                \
            TF__PUT(T, t);                                                                                             \
        }                                                                                                              \
    } while (0)

/* append()/appendleft() are the per-sample calls of a streaming loop. The common case (an 'O' item, an exact int that
 * fits, an exact float; room or a Ring that drops; no live views) is done here with the item size a constant per
 * typecode; everything else takes the general path of tf__add_one, which makes the same decisions with full error
 * handling. */
Py_ALWAYS_INLINE static inline PyObject *tf__append(tf_RingObject *self, PyObject *v, int front) {
    tf_ring *r = &self->ring;
    if (self->exports != 0)
        return tf__add_one(self, v, front);
    switch ((int)self->kind->type) {
    case 0: {
        PyObject *old = NULL;
        tf_status st = TF__PUT_SIZED(r, &v, sizeof v, front, &old);
        if (st == TF_E_FULL)
            break;
        Py_INCREF(v);
        self->state++;
        if (st == TF_RING_DROPPED)
            Py_DECREF(old); /* last: its finalizer may run, and finds the Ring consistent */
        Py_RETURN_NONE;
    }
    case TF_RING_I8: TF__PUSH_LONG(int8_t); break;
    case TF_RING_U8: TF__PUSH_LONG(uint8_t); break;
    case TF_RING_I16: TF__PUSH_LONG(int16_t); break;
    case TF_RING_U16: TF__PUSH_LONG(uint16_t); break;
    case TF_RING_I32: TF__PUSH_LONG(int32_t); break;
    case TF_RING_U32: TF__PUSH_LONG(uint32_t); break;
    case TF_RING_I64: TF__PUSH_LONG(int64_t); break;
    case TF_RING_U64: TF__PUSH_LONG(uint64_t); break;
    case TF_RING_F32:
    case TF_RING_F64: {
        double d;
        long x;
        if (PyFloat_CheckExact(v))
            d = PyFloat_AS_DOUBLE(v);
        else if (tf_py_exact_long(v, &x)) /* an ADC reading is an int: no call, as float(x) would give */
            d = (double)x;
        else
            break;
        if (self->kind->type == TF_RING_F64) {
            TF__PUT(double, d);
        } else {
            float f = (float)d;
            TF__PUT(float, f);
        }
        break;
    }
    default: break;
    }
    return tf__add_one(self, v, front);
pushed:
    self->state++;
    Py_RETURN_NONE;
}

static PyObject *Ring_append(tf_RingObject *self, PyObject *v) { return tf__append(self, v, 0); }
static PyObject *Ring_appendleft(tf_RingObject *self, PyObject *v) { return tf__append(self, v, 1); }

/* Takes T off one end and converts it with MAKE; if the conversion fails (no memory) the item goes back where it
 * was, so a failed pop leaves the Ring unchanged. */
#define TF__POP_AS(T, MAKE)                                                                                            \
    do {                                                                                                               \
        T t;                                                                                                           \
        if (TF__POP_SIZED(r, &t, sizeof t, front) != TF_OK)                                                            \
            goto empty;                                                                                                \
        res = MAKE(t);                                                                                                 \
        if (res == NULL) {                                                                                             \
            (void)TF__PUSH_SIZED(r, &t, sizeof t, !front);                                                             \
            return NULL;                                                                                               \
        }                                                                                                              \
    } while (0)

#define TF__AS_OBJ(t) (t)
#define TF__AS_DOUBLE(t) PyFloat_FromDouble((double)(t))

/* pop()/popleft(): one switch on the typecode, then a constant-size pop and the int/float constructor directly. */
Py_ALWAYS_INLINE static inline PyObject *tf__take_one(tf_RingObject *self, int front) {
    if (tf__refuse_if_exported(self) < 0)
        return NULL;
    tf_ring *r = &self->ring;
    PyObject *res;
    switch ((int)self->kind->type) {
    case 0: TF__POP_AS(PyObject *, TF__AS_OBJ); break;
    case TF_RING_I8: TF__POP_AS(int8_t, PyLong_FromLong); break;
    case TF_RING_U8: TF__POP_AS(uint8_t, PyLong_FromLong); break;
    case TF_RING_I16: TF__POP_AS(int16_t, PyLong_FromLong); break;
    case TF_RING_U16: TF__POP_AS(uint16_t, PyLong_FromLong); break;
    case TF_RING_I32: TF__POP_AS(int32_t, PyLong_FromLong); break;
    case TF_RING_U32: TF__POP_AS(uint32_t, PyLong_FromUnsignedLong); break;
    case TF_RING_I64: TF__POP_AS(int64_t, PyLong_FromLongLong); break;
    case TF_RING_U64: TF__POP_AS(uint64_t, PyLong_FromUnsignedLongLong); break;
    case TF_RING_F32: TF__POP_AS(float, TF__AS_DOUBLE); break;
    default: TF__POP_AS(double, TF__AS_DOUBLE); break;
    }
    self->state++;
    if (self->maxlen < 0)
        tf__maybe_shrink(self);
    return res;
empty:
    PyErr_SetString(PyExc_IndexError, "pop from an empty Ring");
    return NULL;
}

/* pop() and popleft() take METH_FASTCALL rather than METH_NOARGS: CPython's call specialisation calls a FASTCALL
 * bound method directly, while a NOARGS one goes through the generic vectorcall path. The arguments check is the
 * one METH_NOARGS would make (keywords are refused by CPython itself for plain FASTCALL). */
static PyObject *tf__no_arguments(const char *name, Py_ssize_t nargs) {
    PyErr_Format(PyExc_TypeError, "Ring.%s() takes no arguments (%zd given)", name, nargs);
    return NULL;
}

static PyObject *Ring_pop(tf_RingObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)args;
    return nargs != 0 ? tf__no_arguments("pop", nargs) : tf__take_one(self, 0);
}
static PyObject *Ring_popleft(tf_RingObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)args;
    return nargs != 0 ? tf__no_arguments("popleft", nargs) : tf__take_one(self, 1);
}

/* ---- many items ------------------------------------------------------------------------------------------ */

/* The raw fast path of extend(): a buffer of the same item format, or another typed Ring of the same typecode. */
static int tf__extend_raw(tf_RingObject *self, PyObject *src, int *done) {
    *done = 0;
    if (IS_OBJ(self))
        return 0;
    if (tf__is_ring(self, src)) {
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
        Py_ssize_t r = tf__write_raw(self, tmp, n, 0);
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
    Py_ssize_t r = tf__write_raw(self, b.buf, (size_t)(b.len / b.itemsize), 0);
    PyBuffer_Release(&b);
    *done = 1;
    return r < 0 ? -1 : 0;
}

static int tf__extend(tf_RingObject *self, PyObject *iterable, int front) {
    int done;
    if (!front) {
        if (tf__extend_raw(self, iterable, &done) < 0)
            return -1;
        if (done)
            return 0;
    }
    if (tf__refuse_if_exported(self) < 0)
        return -1;
    PyObject *it = (PyObject *)self == iterable ? PySequence_List(iterable) : Py_NewRef(iterable);
    if (it == NULL)
        return -1;
    PyObject *iter = PyObject_GetIter(it);
    Py_DECREF(it);
    if (iter == NULL)
        return -1;
    PyObject *v;
    while ((v = PyIter_Next(iter)) != NULL) {
        PyObject *r = tf__append(self, v, front);
        Py_DECREF(v);
        if (r == NULL) {
            Py_DECREF(iter);
            return -1;
        }
        Py_DECREF(r);
    }
    Py_DECREF(iter);
    return PyErr_Occurred() ? -1 : 0;
}

static PyObject *Ring_extend(tf_RingObject *self, PyObject *iterable) {
    if (tf__extend(self, iterable, 0) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *Ring_extendleft(tf_RingObject *self, PyObject *iterable) {
    if (tf__extend(self, iterable, 1) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *Ring_clear(tf_RingObject *self, PyObject *unused) {
    (void)unused;
    if (tf__refuse_if_exported(self) < 0)
        return NULL;
    tf__drop_all(self);
    self->state++;
    tf__maybe_shrink(self);
    Py_RETURN_NONE;
}

static PyObject *Ring_write(tf_RingObject *self, PyObject *obj) {
    Py_buffer b;
    if (tf__get_item_buffer(self, obj, &b, 0, "write") < 0)
        return NULL;
    Py_ssize_t n = tf__write_raw(self, b.buf, (size_t)(b.len / b.itemsize), 1);
    PyBuffer_Release(&b);
    return n < 0 ? NULL : PyLong_FromSsize_t(n);
}

static PyObject *Ring_readinto(tf_RingObject *self, PyObject *obj) {
    Py_buffer b;
    if (tf__get_item_buffer(self, obj, &b, 1, "readinto") < 0)
        return NULL;
    if (tf__refuse_if_exported(self) < 0) {
        PyBuffer_Release(&b);
        return NULL;
    }
    size_t n = tf_ring_read(&self->ring, b.buf, (size_t)(b.len / b.itemsize));
    PyBuffer_Release(&b);
    if (n > 0) {
        self->state++;
        tf__maybe_shrink(self);
    }
    return PyLong_FromSize_t(n);
}

static PyObject *Ring_tobytes(tf_RingObject *self, PyObject *unused) {
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

static PyObject *Ring_toarray(tf_RingObject *self, PyObject *unused) {
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

static PyObject *Ring_views(tf_RingObject *self, PyObject *unused) {
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

static PyObject *Ring_count(tf_RingObject *self, PyObject *v) {
    Py_ssize_t n = tf__find(self, v, 0, tf_ring_len(&self->ring), 1, PyExc_RuntimeError);
    return n < 0 ? NULL : PyLong_FromSsize_t(n);
}

static int Ring_contains(tf_RingObject *self, PyObject *v) {
    Py_ssize_t i = tf__find(self, v, 0, tf_ring_len(&self->ring), 0, PyExc_RuntimeError);
    return i == -2 ? -1 : i >= 0;
}

static PyObject *Ring_index(tf_RingObject *self, PyObject *args) {
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
    if (tf__refuse_if_exported(self) < 0)
        return -1;
    PyObject *old = NULL;
    if (IS_OBJ(self))
        memcpy(&old, tf_ring_at(&self->ring, i), sizeof old);
    if (tf_ring_remove(&self->ring, i) != TF_OK) {
        PyErr_SetString(PyExc_IndexError, "Ring index out of range");
        return -1;
    }
    self->state++;
    tf__maybe_shrink(self);
    Py_XDECREF(old);
    return 0;
}

static PyObject *Ring_remove(tf_RingObject *self, PyObject *v) {
    Py_ssize_t i = tf__find(self, v, 0, tf_ring_len(&self->ring), 0, PyExc_IndexError);
    if (i == -1)
        PyErr_Format(PyExc_ValueError, "%R is not in Ring", v);
    if (i < 0 || tf__delete_at(self, (size_t)i) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *Ring_insert(tf_RingObject *self, PyObject *args) {
    Py_ssize_t index;
    PyObject *v;
    if (!PyArg_ParseTuple(args, "nO:insert", &index, &v))
        return NULL;
    Py_ssize_t n = (Py_ssize_t)tf_ring_len(&self->ring);
    if (self->maxlen >= 0 && n == self->maxlen) {
        if (self->overflow_raise)
            return tf__raise_full(self), NULL;
        PyErr_SetString(PyExc_IndexError, "Ring already at its maximum size");
        return NULL;
    }
    tf_item it;
    const tf_ring_kind *kind = self->kind;
    if (tf_py_ring_to_c(kind, v, &it) < 0)
        return NULL;
    if (self->kind != kind)
        return tf__kind_changed(), NULL;
    /* the conversion may run Python code (__index__, __float__) that changes the Ring: decide on what is there now */
    n = (Py_ssize_t)tf_ring_len(&self->ring);
    if (self->maxlen >= 0 && n == self->maxlen) {
        if (self->overflow_raise)
            return tf__raise_full(self), NULL;
        PyErr_SetString(PyExc_IndexError, "Ring already at its maximum size");
        return NULL;
    }
    size_t pos = index >= n ? (size_t)n : index <= -n ? 0 : index < 0 ? (size_t)(n + index) : (size_t)index;
    if (tf__refuse_if_exported(self) < 0 || tf__ensure_room(self, 1) < 0)
        return NULL;
    if (IS_OBJ(self))
        Py_INCREF(v);
    (void)tf_ring_insert(&self->ring, pos, &it);
    self->state++;
    Py_RETURN_NONE;
}

static PyObject *Ring_rotate(tf_RingObject *self, PyObject *args) {
    Py_ssize_t n = 1;
    if (!PyArg_ParseTuple(args, "|n:rotate", &n))
        return NULL;
    size_t len = tf_ring_len(&self->ring);
    if (len <= 1)
        Py_RETURN_NONE;
    if (tf__refuse_if_exported(self) < 0)
        return NULL;
    if (n >= 0)
        tf_ring_rotate_right(&self->ring, (size_t)n);
    else
        tf_ring_rotate_left(&self->ring, (size_t)0 - (size_t)n); /* also right for PY_SSIZE_T_MIN */
    self->state++;
    Py_RETURN_NONE;
}

static PyObject *Ring_reverse(tf_RingObject *self, PyObject *unused) {
    (void)unused;
    tf_ring_reverse(&self->ring);
    Py_RETURN_NONE;
}

/* ---- copies, pickling, repr ------------------------------------------------------------------------------ */

static PyObject *tf__overflow_name(tf_RingObject *self) {
    return PyUnicode_FromString(self->overflow_raise ? "raise" : "drop");
}

static PyObject *tf__maxlen_obj(tf_RingObject *self) {
    return self->maxlen < 0 ? Py_NewRef(Py_None) : PyLong_FromSsize_t(self->maxlen);
}

/* A new Ring of self's type with its items and settings; also the start of `+` and `*`. A subclass whose __new__
 * returns something else gets TypeError, as deque's copy raises (CPython bpo-31608), not a non-Ring used as one. */
static PyObject *Ring_copy(tf_RingObject *self, PyObject *unused) {
    (void)unused;
    PyObject *res = PyObject_CallFunction((PyObject *)Py_TYPE(self), "COO&O&", (int)self->kind->code, self,
                                          tf__maxlen_obj, self, tf__overflow_name, self);
    if (res != NULL && !tf__is_ring(self, res)) {
        PyErr_Format(PyExc_TypeError, "%.200s() must return a Ring, not %.200s", Py_TYPE(self)->tp_name,
                     Py_TYPE(res)->tp_name);
        Py_CLEAR(res);
    }
    return res;
}

static PyObject *Ring_reduce(tf_RingObject *self, PyObject *unused) {
    (void)unused;
    PyObject *state = NULL, *items = NULL, *res = NULL;
    /* object.__getstate__ gives a subclass's __dict__ and its __slots__ values ((dict, slots) when there are slots),
     * the state deque pickles too; pickle and copy restore both without a __setstate__. */
    state = PyObject_CallMethod((PyObject *)self, "__getstate__", NULL);
    if (state == NULL)
        return NULL;
    if (PyDict_Check(state) && PyDict_GET_SIZE(state) == 0) {
        Py_XDECREF(state);
        state = Py_NewRef(Py_None);
    }
    if (IS_OBJ(self)) { /* items follow as an iterator, so a Ring that contains itself round-trips */
        items = PyObject_GetIter((PyObject *)self);
        if (items != NULL)
            res = Py_BuildValue("O(C()NN)NN", Py_TYPE(self), (int)self->kind->code, tf__maxlen_obj(self),
                                tf__overflow_name(self), state, items);
    } else {
        items = Ring_toarray(self, NULL);
        if (items != NULL)
            res = Py_BuildValue("O(CNNN)N", Py_TYPE(self), (int)self->kind->code, items, tf__maxlen_obj(self),
                                tf__overflow_name(self), state);
    }
    if (items == NULL)
        Py_DECREF(state);
    return res;
}

static PyObject *Ring_repr(tf_RingObject *self) {
    PyObject *name = PyType_GetName(Py_TYPE(self)), *list = NULL, *res = NULL;
    if (name == NULL)
        return NULL;
    int rec = Py_ReprEnter((PyObject *)self);
    if (rec != 0) {
        Py_DECREF(name);
        return rec > 0 ? PyUnicode_FromString("[...]") : NULL;
    }
    list = PySequence_List((PyObject *)self);
    if (list != NULL) {
        if (self->maxlen < 0 && !self->overflow_raise)
            res = PyUnicode_FromFormat("%U('%c', %R)", name, (int)self->kind->code, list);
        else if (self->maxlen < 0)
            res = PyUnicode_FromFormat("%U('%c', %R, overflow='raise')", name, (int)self->kind->code, list);
        else
            res = PyUnicode_FromFormat("%U('%c', %R, maxlen=%zd%s)", name, (int)self->kind->code, list, self->maxlen,
                                       self->overflow_raise ? ", overflow='raise'" : "");
    }
    Py_ReprLeave((PyObject *)self);
    Py_XDECREF(list);
    Py_DECREF(name);
    return res;
}

static PyObject *Ring_sizeof(tf_RingObject *self, PyObject *unused) {
    (void)unused;
    return PyLong_FromSize_t((size_t)Py_TYPE(self)->tp_basicsize + self->ring.capacity * self->kind->size);
}

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

static PyObject *Ring_sum(tf_RingObject *self, PyObject *unused) {
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
static PyObject *Ring_mean(tf_RingObject *self, PyObject *unused) {
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

static PyObject *Ring_min(tf_RingObject *self, PyObject *unused) {
    (void)unused;
    return tf__extreme(self, 0);
}
static PyObject *Ring_max(tf_RingObject *self, PyObject *unused) {
    (void)unused;
    return tf__extreme(self, 1);
}

static PyObject *Ring_std(tf_RingObject *self, PyObject *args, PyObject *kwds) {
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

/* ---- sequence protocol ----------------------------------------------------------------------------------- */

static Py_ssize_t Ring_len(tf_RingObject *self) { return (Py_ssize_t)tf_ring_len(&self->ring); }

static PyObject *Ring_item(tf_RingObject *self, Py_ssize_t i) {
    if (i < 0 || (size_t)i >= tf_ring_len(&self->ring)) {
        PyErr_SetString(PyExc_IndexError, "Ring index out of range");
        return NULL;
    }
    return tf_py_ring_item(self, (size_t)i);
}

static int Ring_ass_item(tf_RingObject *self, Py_ssize_t i, PyObject *v) {
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
        return tf__kind_changed();
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

static int tf__is_ring(tf_RingObject *self, PyObject *other) {
    tf_state *st = tf_state_of((PyObject *)self);
    return st != NULL && PyObject_TypeCheck(other, (PyTypeObject *)st->Ring);
}

static PyObject *Ring_concat(tf_RingObject *self, PyObject *other) {
    if (!tf__is_ring(self, other)) {
        PyErr_Format(PyExc_TypeError, "can only concatenate Ring (not \"%.200s\") to Ring", Py_TYPE(other)->tp_name);
        return NULL;
    }
    PyObject *res = Ring_copy(self, NULL);
    if (res != NULL && tf__extend((tf_RingObject *)res, other, 0) < 0)
        Py_CLEAR(res);
    return res;
}

static PyObject *Ring_inplace_concat(tf_RingObject *self, PyObject *other) {
    if (tf__extend(self, other, 0) < 0)
        return NULL;
    return Py_NewRef(self);
}

static PyObject *Ring_inplace_repeat(tf_RingObject *self, Py_ssize_t n) {
    if (n <= 0 || tf_ring_len(&self->ring) == 0) {
        PyObject *r = Ring_clear(self, NULL);
        if (r == NULL)
            return NULL;
        Py_DECREF(r);
        return Py_NewRef(self);
    }
    if (n == 1)
        return Py_NewRef(self);
    if (tf__refuse_if_exported(self) < 0)
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
        tf__raise_full(self);
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
        /* the count tf__write_raw returns is tested as a Py_ssize_t: as an int, a count past INT_MAX would turn
         * negative and look like an error */
        int bad = kind->cls == 'O' ? tf__extend(self, snap, 0) < 0
                                   : tf__write_raw(self, (unsigned char *)PyBytes_AS_STRING(snap), len, 0) < 0;
        if (bad)
            goto done;
    }
    res = Py_NewRef(self);
done:
    Py_DECREF(snap);
    return res;
}

static PyObject *Ring_repeat(tf_RingObject *self, Py_ssize_t n) {
    PyObject *res = Ring_copy(self, NULL);
    if (res == NULL)
        return NULL;
    PyObject *r = Ring_inplace_repeat((tf_RingObject *)res, n);
    Py_DECREF(res);
    return r;
}

static PyObject *Ring_richcompare(tf_RingObject *self, PyObject *other, int op) {
    if (!tf__is_ring(self, other))
        Py_RETURN_NOTIMPLEMENTED;
    PyObject *a = PySequence_List((PyObject *)self);
    PyObject *b = a ? PySequence_List(other) : NULL;
    PyObject *res = b ? PyObject_RichCompare(a, b, op) : NULL;
    Py_XDECREF(a);
    Py_XDECREF(b);
    return res;
}

static PyObject *Ring_iter(tf_RingObject *self) {
    tf_state *st = tf_state_of((PyObject *)self);
    return st ? tf_py_ring_iter_new(st, self, 0) : NULL;
}

static PyObject *Ring_reversed(tf_RingObject *self, PyObject *unused) {
    (void)unused;
    tf_state *st = tf_state_of((PyObject *)self);
    return st ? tf_py_ring_iter_new(st, self, 1) : NULL;
}

/* ---- GC and lifetime ------------------------------------------------------------------------------------- */

static int Ring_traverse(tf_RingObject *self, visitproc visit, void *arg) {
    Py_VISIT(Py_TYPE(self));
    if (IS_OBJ(self)) {
        size_t n = tf_ring_len(&self->ring);
        for (size_t i = 0; i < n; i++)
            Py_VISIT(*(PyObject **)tf_ring_at(&self->ring, i));
    }
    return 0;
}

/* The collector's clear leaves an empty, fully usable Ring. Only an 'O' Ring holds references to clear, and an 'O'
 * Ring is never exported; a typed one keeps its items, so memoryviews from views() stay what they were. */
static int Ring_tp_clear(tf_RingObject *self) {
    if (!IS_OBJ(self))
        return 0;
    tf__drop_all(self);
    self->state++;
    return 0;
}

static void Ring_dealloc(tf_RingObject *self) {
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    /* the trashcan turns the dealloc of deeply nested Rings into a loop instead of a C-stack-deep recursion */
    Py_TRASHCAN_BEGIN(self, Ring_dealloc) if (self->weakreflist != NULL) PyObject_ClearWeakRefs((PyObject *)self);
    tf__drop_all(self);
    PyMem_Free(self->storage);
    tp->tp_free(self);
    Py_DECREF(tp);
    Py_TRASHCAN_END
}

/* ---- attributes ------------------------------------------------------------------------------------------ */

static PyObject *Ring_get_maxlen(tf_RingObject *self, void *c) {
    (void)c;
    return tf__maxlen_obj(self);
}
static PyObject *Ring_get_typecode(tf_RingObject *self, void *c) {
    (void)c;
    return PyUnicode_FromOrdinal((Py_UCS4)(unsigned char)self->kind->code);
}
static PyObject *Ring_get_itemsize(tf_RingObject *self, void *c) {
    (void)c;
    return PyLong_FromLong(self->kind->size);
}
static PyObject *Ring_get_full(tf_RingObject *self, void *c) {
    (void)c;
    return PyBool_FromLong(self->maxlen >= 0 && tf_ring_len(&self->ring) == (size_t)self->maxlen);
}
static PyObject *Ring_get_overflow(tf_RingObject *self, void *c) {
    (void)c;
    return tf__overflow_name(self);
}

static PyGetSetDef Ring_getset[] = {
    {"maxlen", (getter)Ring_get_maxlen, NULL, "Maximum length, or None when the Ring grows without bound.", NULL},
    {"typecode", (getter)Ring_get_typecode, NULL, "The item typecode ('h', 'd', 'O', ...).", NULL},
    {"itemsize", (getter)Ring_get_itemsize, NULL, "Bytes per stored item.", NULL},
    {"full", (getter)Ring_get_full, NULL, "True when a bounded Ring holds maxlen items.", NULL},
    {"overflow", (getter)Ring_get_overflow, NULL, "'drop' or 'raise': what a full bounded Ring does.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef Ring_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(tf_RingObject, weakreflist), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyMethodDef Ring_methods[] = {
    {"append", (PyCFunction)Ring_append, METH_O, "Add x at the right end (dropping from the left when full)."},
    {"appendleft", (PyCFunction)Ring_appendleft, METH_O, "Add x at the left end (dropping from the right)."},
    {"pop", (PyCFunction)(void (*)(void))Ring_pop, METH_FASTCALL, "Remove and return the rightmost item."},
    {"popleft", (PyCFunction)(void (*)(void))Ring_popleft, METH_FASTCALL, "Remove and return the leftmost item."},
    {"extend", (PyCFunction)Ring_extend, METH_O, "Append every item of an iterable."},
    {"extendleft", (PyCFunction)Ring_extendleft, METH_O, "Appendleft every item of an iterable."},
    {"clear", (PyCFunction)Ring_clear, METH_NOARGS, "Remove every item."},
    {"copy", (PyCFunction)Ring_copy, METH_NOARGS, "A shallow copy."},
    {"__copy__", (PyCFunction)Ring_copy, METH_NOARGS, "A shallow copy."},
    {"count", (PyCFunction)Ring_count, METH_O, "Number of items equal to x."},
    {"index", (PyCFunction)Ring_index, METH_VARARGS, "index(x[, start[, stop]]): first index of x."},
    {"insert", (PyCFunction)Ring_insert, METH_VARARGS, "insert(i, x): insert x before position i."},
    {"remove", (PyCFunction)Ring_remove, METH_O, "Remove the first item equal to x."},
    {"rotate", (PyCFunction)Ring_rotate, METH_VARARGS, "rotate(n=1): rotate n steps right (left if negative)."},
    {"reverse", (PyCFunction)Ring_reverse, METH_NOARGS, "Reverse in place."},
    {"__reversed__", (PyCFunction)Ring_reversed, METH_NOARGS, "An iterator from the right end."},
    {"__reduce__", (PyCFunction)Ring_reduce, METH_NOARGS, "Pickle support."},
    {"__sizeof__", (PyCFunction)Ring_sizeof, METH_NOARGS, "Bytes used, the item storage included."},
    {"__class_getitem__", Py_GenericAlias, METH_O | METH_CLASS, "See PEP 585."},
    {"write", (PyCFunction)Ring_write, METH_O,
     "write(buffer) -> int: append raw items from a buffer of this typecode's format; returns how many were taken."},
    {"readinto", (PyCFunction)Ring_readinto, METH_O,
     "readinto(buffer) -> int: move items from the left into a writable buffer; returns how many."},
    {"views", (PyCFunction)Ring_views, METH_NOARGS,
     "views() -> (memoryview, memoryview): zero-copy views of the items in order (the second may be empty)."},
    {"tobytes", (PyCFunction)Ring_tobytes, METH_NOARGS, "The items as raw bytes, left to right."},
    {"toarray", (PyCFunction)Ring_toarray, METH_NOARGS, "The items as an array.array of the same typecode."},
    {"sum", (PyCFunction)Ring_sum, METH_NOARGS, "Exact sum (integers) or compensated sum (floats), in C."},
    {"mean", (PyCFunction)Ring_mean, METH_NOARGS, "Arithmetic mean as a float; ValueError when empty."},
    {"min", (PyCFunction)Ring_min, METH_NOARGS, "Smallest item; ValueError when empty."},
    {"max", (PyCFunction)Ring_max, METH_NOARGS, "Largest item; ValueError when empty."},
    {"std", (PyCFunction)(void (*)(void))Ring_std, METH_VARARGS | METH_KEYWORDS,
     "std(ddof=0): standard deviation; ddof=0 is statistics.pstdev, ddof=1 is statistics.stdev."},
    {NULL, NULL, 0, NULL},
};

PyDoc_STRVAR(Ring_doc, "Ring(typecode, iterable=(), maxlen=None, overflow='drop')\n--\n\n"
                       "A ring buffer of typed items (array.array typecodes, or 'O' for objects) with the API of\n"
                       "collections.deque. With maxlen the storage is allocated once; when full, 'drop' discards\n"
                       "from the far end like deque and 'raise' raises thrifty.Full.");

static PyType_Slot Ring_slots[] = {
    {Py_tp_doc, (void *)Ring_doc},
    {Py_tp_new, Ring_new},
    {Py_tp_init, Ring_init},
    {Py_tp_dealloc, Ring_dealloc},
    {Py_tp_traverse, Ring_traverse},
    {Py_tp_clear, Ring_tp_clear},
    {Py_tp_repr, Ring_repr},
    {Py_tp_hash, PyObject_HashNotImplemented},
    {Py_tp_richcompare, Ring_richcompare},
    {Py_tp_iter, Ring_iter},
    {Py_tp_methods, Ring_methods},
    {Py_tp_getset, Ring_getset},
    {Py_tp_members, Ring_members},
    {Py_sq_length, Ring_len},
    {Py_sq_item, Ring_item},
    {Py_sq_ass_item, Ring_ass_item},
    {Py_sq_contains, Ring_contains},
    {Py_sq_concat, Ring_concat},
    {Py_sq_repeat, Ring_repeat},
    {Py_sq_inplace_concat, Ring_inplace_concat},
    {Py_sq_inplace_repeat, Ring_inplace_repeat},
    {0, NULL},
};

static PyType_Spec Ring_spec = {
    .name = "thrifty.Ring",
    .basicsize = sizeof(tf_RingObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_SEQUENCE,
    .slots = Ring_slots,
};

int tf_ring_add(PyObject *m, tf_state *st) {
    st->Ring = PyType_FromModuleAndSpec(m, &Ring_spec, NULL);
    if (st->Ring == NULL || PyModule_AddObjectRef(m, "Ring", st->Ring) < 0)
        return -1;
    return tf_ring_iter_add(m, st) < 0 || tf_ring_view_add(m, st) < 0 ? -1 : 0;
}
