/* thrifty.Ring — the binding of core/include/thrifty/ring.h: a typed ring buffer with deque's API.
 *
 * This file is the type: storage (bounded Rings preallocate maxlen items, unbounded ones grow x2 and shrink /2
 * through tf_ring_rehome), construction, adding and taking single items (the overflow policy itself is the core
 * ring's: a bounded Ring's tf_ring drops its oldest or refuses, an unbounded one's refuses and the binding grows it),
 * extend() item by item, copies, pickling and repr, GC and lifetime, attributes, and the method table. The other
 * methods are in files of their own (ring_obj.h declares what they share): ring_bulk.c (buffers and bulk I/O: the
 * raw extend, write, readinto, tobytes, toarray, views, clear), ring_seq.c (search, reordering and the sequence
 * protocol), ring_stats.c (the window statistics: sum, mean, min, max, std); typecodes and value conversion are in
 * ring_values.c. For 'O' every live slot owns one reference; a reference that leaves the ring is released only after
 * the ring is consistent again, because releasing it may run arbitrary Python code that uses the ring.
 */
#include "ring_obj.h" /* Python.h first, as the C API requires */
#include "ring_values.h"

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
int tf_py_ring_ensure_room(tf_RingObject *self, size_t n) {
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
void tf_py_ring_maybe_shrink(tf_RingObject *self) {
    size_t cap = self->ring.capacity;
    if (self->maxlen >= 0 || self->exports > 0 || cap <= TF__MIN_GROWN || tf_ring_len(&self->ring) >= cap / 4)
        return;
    if (tf__set_capacity(self, cap / 2) < 0)
        PyErr_Clear();
}

int tf_py_ring_refuse_if_exported(tf_RingObject *self) {
    if (self->exports > 0) {
        PyErr_SetString(PyExc_BufferError,
                        "Ring: cannot change length or order while a memoryview from views() is alive");
        return -1;
    }
    return 0;
}

int tf_py_ring_raise_full(tf_RingObject *self) {
    tf_state *st = tf_state_of((PyObject *)self);
    if (st != NULL)
        PyErr_Format(st->Full, "Ring is full (maxlen=%zd, overflow='raise')", self->maxlen);
    return -1;
}

/* Removes every item; for 'O' each reference is released after its slot left the ring. */
void tf_py_ring_drop_all(tf_RingObject *self) {
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
    if (tf_py_ring_refuse_if_exported(self) < 0 || tf_py_ring_ensure_room(self, 1) < 0)
        return -1;
    tf_item old = {NULL};
    tf_status st = front ? tf_ring_put_front(&self->ring, item, &old) : tf_ring_put_back(&self->ring, item, &old);
    if (st == TF_E_FULL)
        return tf_py_ring_raise_full(self);
    if (st == TF_RING_DROPPED && IS_OBJ(self))
        *dropped = old.o;
    self->state++;
    return 0;
}

/* Appends n raw items (already in the kind's C form; never 'O') under the overflow policy. With `partial` a
 * raise-mode Ring takes what fits and returns the count (write()); without it, it takes what fits and raises Full
 * (extend(), like appending one by one). Returns the number of items taken or -1. */
Py_ssize_t tf_py_ring_write_raw(tf_RingObject *self, const unsigned char *src, size_t n, int partial) {
    if (tf_py_ring_refuse_if_exported(self) < 0)
        return -1;
    if (n == 0)
        return 0;
    self->state++;
    if (tf_py_ring_ensure_room(self, n) < 0)
        return -1;
    size_t took = tf_ring_put(&self->ring, src, n);
    if (took < n && !partial)
        return tf_py_ring_raise_full(self);
    return (Py_ssize_t)took;
}

/* Converting an item may run Python code (__index__, __float__) that calls __init__ on the Ring with another
 * typecode; the converted value is then of the wrong kind and must not be stored. */
int tf_py_ring_kind_changed(void) {
    PyErr_SetString(PyExc_RuntimeError, "Ring was re-initialized while an item was being converted");
    return -1;
}

/* ---- construction ------------------------------------------------------------------------------------------ */

static PyObject *Ring_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    (void)args;
    (void)kwds;
    tf_RingObject *self = (tf_RingObject *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->kind = tf_py_ring_kind_of('O');
    tf_py_ring_set_fast(self);
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
    if (tf_py_ring_refuse_if_exported(self) < 0)
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
    if (status == TF_OK) /* a full unbounded Ring grows (tf_py_ring_ensure_room), so only a bounded one may drop */
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
    tf_py_ring_set_fast(self);
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
        return tf_py_ring_extend(self, iterable, 0);
    return 0;
}

/* ---- single items ---------------------------------------------------------------------------------------- */

/* Out of line: append's fast path (tf__append) ends in a tail call here, so it needs no stack frame of its own. */
static Py_NO_INLINE PyObject *tf__add_one(tf_RingObject *self, PyObject *v, int front) {
    tf_item it;
    PyObject *dropped = NULL;
    const tf_ring_kind *kind = self->kind;
    if (tf_py_ring_to_c(kind, v, &it) < 0)
        return NULL;
    if (self->kind != kind)
        return tf_py_ring_kind_changed(), NULL;
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

/* Whether x, a one-digit int's value (tf_py_exact_long), is in T's range, in one unsigned compare for types narrower
 * than 64 bits (x - min wraps above max - min when x is below min); a 64-bit signed type holds every such x. */
#define TF__FITS(T, x)                                                                                                 \
    (sizeof(T) < sizeof(long long) ? (unsigned long long)(x) - (unsigned long long)TF_PY_INT_MIN(T) <=                 \
                                         TF_PY_INT_MAX(T) - (unsigned long long)TF_PY_INT_MIN(T)                       \
                                   : (TF_PY_INT_SIGNED(T) || (x) >= 0))

/* Pushes an exact int in T's range as C type T. */
#define TF__PUSH_LONG(T)                                                                                               \
    do {                                                                                                               \
        long x;                                                                                                        \
        if (tf_py_exact_long(v, &x) && TF__FITS(T, x)) {                                                               \
            T t = (T)x;                                                                                                \
            TF__PUT(T, t);                                                                                             \
        }                                                                                                              \
    } while (0)

/* Pushes an exact float, or an exact int (an ADC reading is an int: no call, as float(x) would make), as C type T. */
#define TF__PUSH_REAL(T)                                                                                               \
    do {                                                                                                               \
        long x;                                                                                                        \
        T t;                                                                                                           \
        if (PyFloat_CheckExact(v))                                                                                     \
            t = (T)PyFloat_AS_DOUBLE(v);                                                                               \
        else if (tf_py_exact_long(v, &x))                                                                              \
            t = (T)(double)x;                                                                                          \
        else                                                                                                           \
            break;                                                                                                     \
        TF__PUT(T, t);                                                                                                 \
    } while (0)

/* append()/appendleft() are the per-sample calls of a streaming loop. The common case (an 'O' item, an exact int that
 * fits, an exact float; room or a Ring that drops; no live views) is done here with the item size a constant per
 * typecode; everything else takes the general path of tf__add_one, which makes the same decisions with full error
 * handling. */
Py_ALWAYS_INLINE static inline PyObject *tf__append(tf_RingObject *self, PyObject *v, int front) {
    tf_ring *r = &self->ring;
    if (self->fast == 0) { /* 'O' first, by one compare: it has no conversion to amortize a jump table over */
        PyObject *old = NULL;
        tf_status st = TF__PUT_SIZED(r, &v, sizeof v, front, &old);
        if (st == TF_E_FULL)
            return tf__add_one(self, v, front);
        Py_INCREF(v);
        self->state++;
        if (st == TF_RING_DROPPED)
            Py_DECREF(old); /* last: its finalizer may run, and finds the Ring consistent */
        Py_RETURN_NONE;
    }
    switch (self->fast) { /* TF_PY_RING_SLOW while views() are alive: the default, the general path refuses */
    case TF_RING_I8: TF__PUSH_LONG(int8_t); break;
    case TF_RING_U8: TF__PUSH_LONG(uint8_t); break;
    case TF_RING_I16: TF__PUSH_LONG(int16_t); break;
    case TF_RING_U16: TF__PUSH_LONG(uint16_t); break;
    case TF_RING_I32: TF__PUSH_LONG(int32_t); break;
    case TF_RING_U32: TF__PUSH_LONG(uint32_t); break;
    case TF_RING_I64: TF__PUSH_LONG(int64_t); break;
    case TF_RING_U64: TF__PUSH_LONG(uint64_t); break;
    case TF_RING_F32: TF__PUSH_REAL(float); break;
    case TF_RING_F64: TF__PUSH_REAL(double); break;
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
    tf_ring *r = &self->ring;
    PyObject *res;
    switch (self->fast) {
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
    case TF_RING_F64: TF__POP_AS(double, TF__AS_DOUBLE); break;
    default: return tf_py_ring_refuse_if_exported(self), NULL; /* TF_PY_RING_SLOW: views() are alive */
    }
    self->state++;
    if (self->maxlen < 0)
        tf_py_ring_maybe_shrink(self);
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

/* extend() item by item, each through the append path (the raw fast path, tf_py_ring_extend_raw, is tried first) */
int tf_py_ring_extend(tf_RingObject *self, PyObject *iterable, int front) {
    int done;
    if (!front) {
        if (tf_py_ring_extend_raw(self, iterable, &done) < 0)
            return -1;
        if (done)
            return 0;
    }
    if (tf_py_ring_refuse_if_exported(self) < 0)
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

/* ---- copies, pickling, repr ------------------------------------------------------------------------------ */

static PyObject *tf__overflow_name(tf_RingObject *self) {
    return PyUnicode_FromString(self->overflow_raise ? "raise" : "drop");
}

static PyObject *tf__maxlen_obj(tf_RingObject *self) {
    return self->maxlen < 0 ? Py_NewRef(Py_None) : PyLong_FromSsize_t(self->maxlen);
}

/* A new Ring of self's type with its items and settings; also the start of `+` and `*`. A subclass whose __new__
 * returns something else gets TypeError, as deque's copy raises (CPython bpo-31608), not a non-Ring used as one. */
PyObject *Ring_copy(tf_RingObject *self, PyObject *unused) {
    (void)unused;
    PyObject *res = PyObject_CallFunction((PyObject *)Py_TYPE(self), "COO&O&", (int)self->kind->code, self,
                                          tf__maxlen_obj, self, tf__overflow_name, self);
    if (res != NULL && !tf_py_ring_is_ring(self, res)) {
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
    tf_py_ring_drop_all(self);
    self->state++;
    return 0;
}

static void Ring_dealloc(tf_RingObject *self) {
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    /* the trashcan turns the dealloc of deeply nested Rings into a loop instead of a C-stack-deep recursion */
    Py_TRASHCAN_BEGIN(self, Ring_dealloc) if (self->weakreflist != NULL) PyObject_ClearWeakRefs((PyObject *)self);
    tf_py_ring_drop_all(self);
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
