/* Shared machinery of FrozenSet and FrozenMap (frozen.h): build, open, lookup, element conversion, iterator. */
#include "frozen.h"

#include <math.h>

/* Above this many entries (or block bytes) the core runs without the GIL. */
#define TF_FROZEN_NOGIL_MIN 50000

/* ---- kinds of Python objects -------------------------------------------------------------------------- */

static const char *kind_name(int kind) {
    switch (kind) {
    case TF_FSET_INT: return "int";
    case TF_FSET_STR: return "str";
    case TF_FSET_BYTES: return "bytes";
    case TF_FSET_FLOAT: return "float";
    default: return "nothing";
    }
}

/* The storable kind of obj (bool counts as int, as it does for frozenset and dict), or TF_FSET_NONE. */
static int kind_of(PyObject *obj, int allow_float) {
    if (PyLong_Check(obj))
        return TF_FSET_INT;
    if (PyUnicode_Check(obj))
        return TF_FSET_STR;
    if (PyBytes_Check(obj))
        return TF_FSET_BYTES;
    if (allow_float && PyFloat_Check(obj))
        return TF_FSET_FLOAT;
    return TF_FSET_NONE;
}

/* UTF-8 of a str. Lone surrogates (which strict UTF-8 refuses) are encoded as "surrogatepass" does, so every str
 * round-trips; *tmp then owns the encoded bytes and must be released by the caller. */
static const char *str_utf8(PyObject *s, Py_ssize_t *len, PyObject **tmp) {
    const char *p;
    *tmp = NULL;
    if (PyUnicode_IS_COMPACT_ASCII(s)) { /* the common case, without a call: ASCII is its own UTF-8 */
        *len = PyUnicode_GET_LENGTH(s);
        return (const char *)(((PyASCIIObject *)s) + 1);
    }
    p = PyUnicode_AsUTF8AndSize(s, len);
    if (p)
        return p;
    if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError))
        return NULL;
    PyErr_Clear();
    *tmp = PyUnicode_AsEncodedString(s, "utf-8", "surrogatepass");
    if (!*tmp)
        return NULL;
    *len = PyBytes_GET_SIZE(*tmp);
    return PyBytes_AS_STRING(*tmp);
}

/* Wraps a block held by `holder` (any buffer exporter) in a new object of `type`. Steals nothing. */
static PyObject *open_block(PyTypeObject *type, PyObject *holder, int built, int want_map, const char *who) {
    tf_state *st = tf_state_of_type(type);
    tf_frozen *self;
    tf_status status;
    const char *why = "";
    if (!st)
        return NULL;
    self = PyObject_GC_New(tf_frozen, type);
    if (!self)
        return NULL;
    memset(&self->table, 0, sizeof self->table);
    memset(&self->buf, 0, sizeof self->buf);
    self->built = built;
    self->hash = -1;
    self->weakreflist = NULL;
    self->key_kind = TF_FSET_NONE;
    self->filter = NULL;
    self->filter_words = 0;
    self->filter_after = -1;
    if (PyObject_GetBuffer(holder, &self->buf, PyBUF_SIMPLE) < 0) {
        self->buf.obj = NULL;
        goto error;
    }
    if (self->buf.len >= TF_FROZEN_NOGIL_MIN * 16) {
        Py_BEGIN_ALLOW_THREADS status = tf_fset_validate(&self->table, self->buf.buf, (size_t)self->buf.len, &why);
        Py_END_ALLOW_THREADS
    } else {
        status = tf_fset_validate(&self->table, self->buf.buf, (size_t)self->buf.len, &why);
    }
    if (status != TF_OK) {
        PyErr_Format(st->CorruptData, "%s.frombuffer: %s", who, why);
        goto error;
    }
    if (tf_fset_is_map(&self->table) != want_map) {
        PyErr_Format(st->CorruptData, "%s.frombuffer: the block holds a %s, not a %s", who,
                     want_map ? "FrozenSet" : "FrozenMap", who);
        goto error;
    }
    self->key_kind = tf_fset_key_kind(&self->table);
    if (self->key_kind == TF_FSET_STR)
        self->filter_after = (Py_ssize_t)(tf_fset_count(&self->table) / 4u) + 16;
    PyObject_GC_Track(self);
    return (PyObject *)self;
error:
    memset(&self->table, 0, sizeof self->table);
    Py_DECREF(self);
    return NULL;
}

PyObject *tf_frozen_frombuffer(PyTypeObject *type, PyObject *obj, int want_map, const char *who) {
    return open_block(type, obj, 0, want_map, who);
}

/* ---- building: the core reads the caller's objects in place --------------------------------------------- */

/* Where a build reads its entries: the items of a key sequence (and of a value sequence), or an exact dict whose
 * entries sit at positions 0 .. n-1 (dict_dense). The core asks for entry i whenever it needs it (tf_fset_source),
 * so no array of converted keys, hashes or encoded strings is ever gathered: the build holds the block it writes
 * and the core's scratch (4 or 8 bytes an entry), nothing else. Between the checks below and the end of the build
 * nothing runs Python code or allocates a GC object, so the objects read stay the ones checked. */
typedef struct {
    PyObject **keys, **values; /* PySequence_Fast_ITEMS, borrowed; NULL when reading `dict` */
    PyObject *dict;            /* borrowed */
    Py_ssize_t n;
} build_src;

/* Entry i's key (value = 0) or value (value = 1), borrowed. A dict is read at position i: PyDict_Next starts at the
 * position it is given, and dict_dense() checked that position i holds the i-th entry. */
static PyObject *entry(const build_src *c, size_t i, int value) {
    Py_ssize_t pos = (Py_ssize_t)i;
    PyObject *k = NULL, *v = NULL;
    if (c->keys)
        return value ? c->values[i] : c->keys[i];
    (void)PyDict_Next(c->dict, &pos, &k, &v);
    return value ? v : k;
}

/* 1 when the entries of d sit at positions 0 .. len-1 (no deleted slot before the last one), so entry() can read
 * entry i in O(1) with the public API; 0 otherwise (the caller then takes lists of keys and values). */
static int dict_dense(PyObject *d) {
    Py_ssize_t pos = 0, i = 0;
    PyObject *k, *v;
    while (PyDict_Next(d, &pos, &k, &v)) {
        if (pos != i + 1)
            return 0;
        i++;
    }
    return i == PyDict_GET_SIZE(d);
}

/* The getters the core calls. They run no Python code and allocate nothing (every int was checked to fit and every
 * non-ASCII str has its UTF-8 cached by check_column), so they may run without the GIL on private input. */
static int64_t int_of(PyObject *o) {
    int64_t v;
    int overflow;
    if (tf_py_long_int64(o, &v))
        return v;
    return (int64_t)PyLong_AsLongLongAndOverflow(o, &overflow); /* not reached for checked input */
}

static tf_fspan span_of(PyObject *o) {
    tf_fspan s;
    Py_ssize_t len = 0;
    if (PyBytes_Check(o)) { /* a bytes key, or a str with lone surrogates encoded by check_column */
        s.data = PyBytes_AS_STRING(o);
        s.len = (size_t)PyBytes_GET_SIZE(o);
    } else if (PyUnicode_IS_COMPACT_ASCII(o)) {
        s.data = ((PyASCIIObject *)o) + 1;
        s.len = (size_t)PyUnicode_GET_LENGTH(o);
    } else {
        s.data = PyUnicode_AsUTF8AndSize(o, &len); /* cached by check_column: no allocation, no failure */
        s.len = (size_t)len;
    }
    return s;
}

static int64_t get_int_key(void *c, size_t i) { return int_of(entry((build_src *)c, i, 0)); }
static tf_fspan get_span_key(void *c, size_t i) { return span_of(entry((build_src *)c, i, 0)); }
static int64_t get_int_value(void *c, size_t i) { return int_of(entry((build_src *)c, i, 1)); }
static double get_float_value(void *c, size_t i) { return PyFloat_AS_DOUBLE(entry((build_src *)c, i, 1)); }
static tf_fspan get_span_value(void *c, size_t i) { return span_of(entry((build_src *)c, i, 1)); }

/* Checks every key (value = 0) or value of c is one storable kind; returns it (NONE when there are none) or -1 with
 * TypeError. */
static int column_kind(const build_src *c, int value, const char *who) {
    const char *what = value ? "values" : "keys";
    const char *accepted = value ? "int, float, str or bytes" : "int, str or bytes";
    int kind = TF_FSET_NONE;
    for (Py_ssize_t i = 0; i < c->n; i++) {
        PyObject *o = entry(c, (size_t)i, value);
        int k = kind_of(o, value);
        if (k == TF_FSET_NONE) {
            PyErr_Format(PyExc_TypeError, "%s %s must be %s, not %.100s", who, what, accepted, Py_TYPE(o)->tp_name);
            return -1;
        }
        if (kind != TF_FSET_NONE && k != kind) {
            PyErr_Format(PyExc_TypeError, "%s %s must all be one kind: got %s and %s", who, what, kind_name(kind),
                         kind_name(k));
            return -1;
        }
        kind = k;
    }
    return kind;
}

/* 1 when the str (not compact ASCII) holds a lone surrogate, which strict UTF-8 refuses. */
static int has_surrogate(PyObject *s) {
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    if (kind == PyUnicode_1BYTE_KIND)
        return 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        if (ch >= 0xD800 && ch <= 0xDFFF)
            return 1;
    }
    return 0;
}

/* Makes every getter call on this column safe: ints fit int64 (else OverflowError), every non-ASCII str has its
 * UTF-8 cached in the object (as str.encode does on first use; no Python code runs), and a str with lone surrogates
 * is encoded as "surrogatepass" does — replaced by that bytes object in the sequence when `owned` (the sequence is
 * the build's own), else the answer is 1: the caller takes a sequence of its own and checks that. 0, 1, or -1 with
 * an exception. */
static int check_column(build_src *c, int value, int kind, int owned, const char *who) {
    const char *what = value ? "values" : "keys";
    for (Py_ssize_t i = 0; i < c->n; i++) {
        PyObject *o = entry(c, (size_t)i, value);
        if (kind == TF_FSET_INT) {
            int overflow;
            long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
            if (overflow) {
                PyErr_Format(PyExc_OverflowError, "%s %s must fit in int64 (-2**63 .. 2**63-1), got %R", who, what, o);
                return -1;
            }
            if (v == -1 && PyErr_Occurred())
                return -1;
        } else if (kind == TF_FSET_STR && !PyUnicode_IS_COMPACT_ASCII(o)) {
            Py_ssize_t len;
            if (has_surrogate(o)) {
                PyObject *enc, **slot = value ? &c->values[i] : &c->keys[i];
                if (!owned || !c->keys)
                    return 1;
                enc = PyUnicode_AsEncodedString(o, "utf-8", "surrogatepass");
                if (!enc)
                    return -1;
                Py_SETREF(*slot, enc); /* the str is still held by the caller's input, or just freed: no finalizer */
            } else if (!PyUnicode_AsUTF8AndSize(o, &len)) {
                return -1;
            }
        }
    }
    return 0;
}

/* Builds from c; `owned`: the sequences in c are the build's own (so surrogates may be replaced, and the GIL may
 * be released: no other thread can reach them). 1 (with *result) when built or failed with an exception, 0 when c
 * needs a sequence of its own first (a str with lone surrogates in input that is not). */
static int build_from(PyTypeObject *type, build_src *c, int is_map, int owned, int may_release_gil, const char *who,
                      PyObject **result) {
    tf_fset_source src;
    PyObject *block = NULL;
    void *scratch = NULL;
    size_t size, scratch_size, len = 0;
    tf_status status;
    int key_kind, value_kind = TF_FSET_NONE, r;

    *result = NULL;
    if ((size_t)c->n > UINT32_MAX) {
        PyErr_Format(PyExc_OverflowError, "%s holds at most 2**32-1 entries, got %zd", who, c->n);
        return 1;
    }
    key_kind = column_kind(c, 0, who);
    if (key_kind < 0 || (is_map && (value_kind = column_kind(c, 1, who)) < 0))
        return 1;
    r = check_column(c, 0, key_kind, owned, who);
    if (r == 0 && is_map)
        r = check_column(c, 1, value_kind, owned, who);
    if (r != 0)
        return r < 0;
    memset(&src, 0, sizeof src);
    src.count = (size_t)c->n;
    src.is_map = is_map;
    src.key_kind = key_kind;
    src.value_kind = value_kind;
    src.ctx = c;
    src.int_key = get_int_key;
    src.span_key = get_span_key;
    src.int_value = get_int_value;
    src.float_value = get_float_value;
    src.span_value = get_span_value;

    /* the exact size for distinct keys (always, from a dict), so the block is allocated once and never shrunk */
    size = tf_fset_source_size(&src);
    scratch_size = tf_fset_source_scratch_size(&src);
    if (size == 0 || scratch_size == 0 || size > ((size_t)-1 >> 1)) {
        PyErr_Format(PyExc_OverflowError, "%s: the %s or %s are too large for one table (4 GiB of text at most)", who,
                     "keys", "values");
        return 1;
    }
    scratch = PyMem_Malloc(scratch_size);
    block = scratch ? PyBytes_FromStringAndSize(NULL, (Py_ssize_t)size) : NULL;
    if (!block) {
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        goto done;
    }
    if (c->n >= TF_FROZEN_NOGIL_MIN && may_release_gil) {
        Py_BEGIN_ALLOW_THREADS status =
            tf_fset_build_source(&src, scratch, scratch_size, PyBytes_AS_STRING(block), size, &len);
        Py_END_ALLOW_THREADS
    } else {
        status = tf_fset_build_source(&src, scratch, scratch_size, PyBytes_AS_STRING(block), size, &len);
    }
    PyMem_Free(scratch);
    scratch = NULL;
    if (status != TF_OK) {
        tf_raise_status(tf_state_of_type(type), status, who);
        goto done;
    }
    if (len != size && tf_py_bytes_resize(&block, (Py_ssize_t)len) < 0)
        goto done;
    *result = open_block(type, block, 1, is_map, who);
done:
    PyMem_Free(scratch);
    Py_XDECREF(block);
    return 1;
}

PyObject *tf_frozen_build(PyTypeObject *type, PyObject *keys, PyObject *values, int owned, int may_release_gil,
                          const char *who) {
    build_src c;
    PyObject *result = NULL, *own_keys = NULL, *own_values = NULL;
    c.keys = PySequence_Fast_ITEMS(keys);
    c.values = values ? PySequence_Fast_ITEMS(values) : NULL;
    c.dict = NULL;
    c.n = PySequence_Fast_GET_SIZE(keys);
    if (build_from(type, &c, values != NULL, owned, may_release_gil, who, &result))
        return result;
    /* a str with lone surrogates in the caller's sequence: take lists of our own, where it can be encoded */
    own_keys = PySequence_List(keys);
    own_values = own_keys && values ? PySequence_List(values) : NULL;
    if (own_keys && (!values || own_values)) {
        c.keys = PySequence_Fast_ITEMS(own_keys);
        c.values = own_values ? PySequence_Fast_ITEMS(own_values) : NULL;
        c.n = PyList_GET_SIZE(own_keys);
        if (own_values && PyList_GET_SIZE(own_values) != c.n)
            PyErr_Format(PyExc_RuntimeError, "%s: the input changed size during the build", who);
        else
            (void)build_from(type, &c, values != NULL, 1, 1, who, &result);
    }
    Py_XDECREF(own_keys);
    Py_XDECREF(own_values);
    return result;
}

/* New lists of d's keys and of its values, in one order: both lists are allocated first (which may run a finalizer
 * that changes d) and filled only when d still has as many entries, with nothing in between that runs Python code.
 * 0, or -1 with an exception. */
static int dict_columns(PyObject *d, PyObject **keys, PyObject **values) {
    for (;;) {
        Py_ssize_t n = PyDict_GET_SIZE(d), pos = 0, i = 0;
        PyObject *k, *v;
        *keys = PyList_New(n);
        *values = *keys ? PyList_New(n) : NULL;
        if (!*values) {
            Py_CLEAR(*keys);
            return -1;
        }
        if (PyDict_GET_SIZE(d) == n) {
            while (PyDict_Next(d, &pos, &k, &v) && i < n) {
                PyList_SET_ITEM(*keys, i, Py_NewRef(k));
                PyList_SET_ITEM(*values, i, Py_NewRef(v));
                i++;
            }
            return 0;
        }
        Py_CLEAR(*keys);
        Py_CLEAR(*values);
    }
}

PyObject *tf_frozen_build_dict(PyTypeObject *type, PyObject *d, int owned, const char *who) {
    build_src c;
    PyObject *result = NULL, *keys, *values;
    if (dict_dense(d)) {
        c.keys = c.values = NULL;
        c.dict = d;
        c.n = PyDict_GET_SIZE(d);
        /* read in place: a dict's keys are distinct, so the block is exactly the size allocated */
        if (build_from(type, &c, 1, 0, owned, who, &result))
            return result;
    }
    /* deleted slots, or a str with lone surrogates: lists of keys and values (16 bytes an entry more) */
    if (dict_columns(d, &keys, &values) < 0)
        return NULL;
    result = tf_frozen_build(type, keys, values, 1, 1, who);
    Py_DECREF(keys);
    Py_DECREF(values);
    return result;
}

/* ---- lookup helpers ------------------------------------------------------------------------------------ */

/* A failed hash of a lookup key, worded as the running Python's dict or frozenset words it. */
static int unhashable(tf_frozen *self, PyObject *key) {
    tf_state *st = tf_state_of((PyObject *)self);
    int map = st && PyObject_TypeCheck((PyObject *)self, (PyTypeObject *)st->FrozenMapType);
    return tf_py_unhashable(key, map ? "a dict key" : "a set element");
}

/* An integral double in int64 range as the int it equals (1.0 == 1 for frozenset too); 0 when there is none. */
static int integral_double(double d, int64_t *out) {
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || floor(d) != d)
        return 0;
    *out = (int64_t)d;
    return 1;
}

/* ---- the str filter ------------------------------------------------------------------------------------ */

/* Builds the filter from the stored keys: every ASCII key's CPython hash (a non-ASCII key never equals the ASCII
 * queries the filter is asked about). On no memory the table just goes on without one. Runs no Python code. */
Py_NO_INLINE void tf_frozen_build_filter(tf_frozen *self) {
    const tf_fset *t = &self->table;
    size_t n = tf_fset_count(t), words = n / 8u + 1u, off = 0; /* 8 bits a key */
    self->filter_after = -1;
    self->filter = PyMem_Calloc(words, sizeof(uint64_t));
    if (!self->filter)
        return;
    self->filter_words = words;
    for (size_t i = 0; i < n; i++) {
        tf_fspan k = tf_fset_key_next(t, &off);
        const uint8_t *p = (const uint8_t *)k.data;
        size_t j = 0, w;
        uint64_t bits;
        while (j < k.len && p[j] < 0x80u)
            j++;
        if (j < k.len)
            continue;
        bits = tf_frozen_filter_bits(self, tf_py_ascii_hash(k.len ? p : (const uint8_t *)"", (Py_ssize_t)k.len), &w);
        self->filter[w] |= bits;
    }
}

/* ---- lookup -------------------------------------------------------------------------------------------- */

/* Every key but an exact int and an exact ASCII str (tf_frozen_find's fast paths): kept out of line, so that the
 * fast paths save no registers for it (a lookup is a few dozen instructions; a prologue was a sixth of them). */
Py_NO_INLINE int tf_frozen_find_other(tf_frozen *self, PyObject *key, size_t *pos) {
    const tf_fset *t = &self->table;
    int kind = self->key_kind;
    PyTypeObject *tp = Py_TYPE(key);
    int64_t v;
    /* A set is unhashable, yet frozenset looks it up as the equal frozenset: never present in a table of ours. */
    if (PyAnySet_Check(key))
        return 0;
    /* Subclasses may have made themselves unhashable; frozenset raises TypeError for those, so do we. */
    if (tp != &PyLong_Type && tp != &PyUnicode_Type && tp != &PyBytes_Type && tp != &PyFloat_Type &&
        tp != &PyBool_Type && PyObject_Hash(key) == -1)
        return unhashable(self, key);
    if (PyLong_Check(key)) {
        if (kind != TF_FSET_INT || !tf_py_long_int64(key, &v))
            return 0;
    } else if (PyUnicode_Check(key)) {
        PyObject *tmp;
        Py_ssize_t len;
        const char *p;
        if (kind != TF_FSET_STR)
            return 0;
        p = str_utf8(key, &len, &tmp);
        if (!p)
            return -1;
        *pos = tf_fset_find_bytes(t, p, (size_t)len);
        Py_XDECREF(tmp);
        return *pos != TF_FSET_NOT_FOUND;
    } else if (PyBytes_Check(key)) {
        if (kind != TF_FSET_BYTES)
            return 0;
        *pos = tf_fset_find_bytes(t, PyBytes_AS_STRING(key), (size_t)PyBytes_GET_SIZE(key));
        return *pos != TF_FSET_NOT_FOUND;
    } else if (PyFloat_Check(key)) {
        if (kind != TF_FSET_INT || !integral_double(PyFloat_AS_DOUBLE(key), &v))
            return 0;
    } else if (PyComplex_Check(key)) {
        Py_complex c = PyComplex_AsCComplex(key);
        if (kind != TF_FSET_INT || c.imag != 0.0 || !integral_double(c.real, &v))
            return 0;
    } else {
        /* Any other hashable object is absent (Decimal(1) and Fraction(1) included: docs/frozen.md). */
        return PyObject_Hash(key) == -1 ? unhashable(self, key) : 0;
    }
    *pos = tf_fset_find_int(t, v);
    return *pos != TF_FSET_NOT_FOUND;
}

/* ---- elements ------------------------------------------------------------------------------------------ */

static PyObject *span_object(tf_frozen *self, tf_fspan s, int kind, const char *what, size_t i) {
    PyObject *o;
    if (kind == TF_FSET_BYTES)
        return PyBytes_FromStringAndSize((const char *)s.data, (Py_ssize_t)s.len);
    o = PyUnicode_DecodeUTF8((const char *)s.data, (Py_ssize_t)s.len, "surrogatepass");
    if (!o && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
        tf_state *st = tf_state_of((PyObject *)self);
        PyErr_Clear();
        if (st)
            PyErr_Format(st->CorruptData, "stored %s at position %zu is not valid UTF-8", what, i);
    }
    return o;
}

PyObject *tf_frozen_key(tf_frozen *self, size_t i) {
    const tf_fset *t = &self->table;
    switch (tf_fset_key_kind(t)) {
    case TF_FSET_INT: return PyLong_FromLongLong((long long)tf_fset_key_int(t, i));
    case TF_FSET_STR:
    case TF_FSET_BYTES: return span_object(self, tf_fset_key_span(t, i), tf_fset_key_kind(t), "key", i);
    default: PyErr_SetString(PyExc_IndexError, "empty table"); return NULL;
    }
}

PyObject *tf_frozen_value(tf_frozen *self, size_t i) {
    const tf_fset *t = &self->table;
    switch (tf_fset_value_kind(t)) {
    case TF_FSET_INT: return PyLong_FromLongLong((long long)tf_fset_value_int(t, i));
    case TF_FSET_FLOAT: return PyFloat_FromDouble(tf_fset_value_float(t, i));
    case TF_FSET_STR:
    case TF_FSET_BYTES: return span_object(self, tf_fset_value_span(t, i), tf_fset_value_kind(t), "value", i);
    default: PyErr_SetString(PyExc_IndexError, "table has no values"); return NULL;
    }
}

/* ---- shared slots -------------------------------------------------------------------------------------- */

int tf_frozen_traverse(PyObject *op, visitproc visit, void *arg) {
    tf_frozen *self = (tf_frozen *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->buf.obj);
    return 0;
}

PyMemberDef tf_frozen_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(tf_frozen, weakreflist), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

/* No tp_clear: the block is read by every method, so the export is held until here (see thrifty_ext.h, "GC clear").
 * A cycle through a table passes through its holder, which the collector clears instead: a holder that can refer
 * back to the table is a Python-level object (a bytearray subclass with a __dict__, a class with __buffer__). */
void tf_frozen_dealloc(PyObject *op) {
    PyTypeObject *tp = Py_TYPE(op);
    tf_frozen *self = (tf_frozen *)op;
    PyObject_GC_UnTrack(op);
    if (self->weakreflist)
        PyObject_ClearWeakRefs(op);
    if (self->buf.obj)
        PyBuffer_Release(&self->buf);
    PyMem_Free(self->filter);
    tp->tp_free(op);
    Py_DECREF(tp);
}

Py_ssize_t tf_frozen_len(PyObject *op) { return (Py_ssize_t)tf_fset_count(&((tf_frozen *)op)->table); }

PyObject *tf_frozen_tobytes(PyObject *op, PyObject *unused) {
    tf_frozen *self = (tf_frozen *)op;
    (void)unused;
    /* A block held in an exact bytes object of its own size is already the answer: no copy. */
    if (self->buf.obj && PyBytes_CheckExact(self->buf.obj) && PyBytes_GET_SIZE(self->buf.obj) == self->buf.len)
        return Py_NewRef(self->buf.obj);
    return PyBytes_FromStringAndSize((const char *)self->buf.buf, self->buf.len);
}

PyObject *tf_frozen_sizeof(PyObject *op, PyObject *unused) {
    tf_frozen *self = (tf_frozen *)op;
    Py_ssize_t size = Py_TYPE(op)->tp_basicsize;
    (void)unused;
    /* A built block belongs to this object alone; a frombuffer() block belongs to its exporter. */
    if (self->built && self->buf.obj)
        size += (Py_ssize_t)(offsetof(PyBytesObject, ob_sval) + 1) + self->buf.len;
    size += (Py_ssize_t)(self->filter_words * sizeof(uint64_t)); /* the lookup filter, once built */
    return PyLong_FromSsize_t(size);
}

PyObject *tf_frozen_reduce(PyObject *op, PyObject *unused) {
    PyObject *frombuffer, *blob, *result;
    (void)unused;
    frombuffer = PyObject_GetAttrString((PyObject *)Py_TYPE(op), "frombuffer");
    if (!frombuffer)
        return NULL;
    blob = tf_frozen_tobytes(op, NULL);
    if (!blob) {
        Py_DECREF(frombuffer);
        return NULL;
    }
    result = Py_BuildValue("(N(N))", frombuffer, blob);
    return result;
}

/* ---- iterator ------------------------------------------------------------------------------------------ */

typedef struct {
    PyObject_HEAD tf_frozen *owner; /* strong reference */
    size_t pos;
    size_t off; /* str/bytes keys: offset of the next key record (tf_fset_key_next) */
    int mode;
} tf_frozen_iter;

PyObject *tf_frozen_iter_new(tf_frozen *self, int mode) {
    tf_state *st = tf_state_of((PyObject *)self);
    tf_frozen_iter *it;
    if (!st)
        return NULL;
    it = PyObject_GC_New(tf_frozen_iter, (PyTypeObject *)st->FrozenIterType);
    if (!it)
        return NULL;
    it->owner = (tf_frozen *)Py_NewRef((PyObject *)self);
    it->pos = 0;
    it->off = 0;
    it->mode = mode;
    PyObject_GC_Track(it);
    return (PyObject *)it;
}

/* The key at position i, read sequentially (O(1)) for str/bytes keys. */
static PyObject *iter_key(tf_frozen_iter *it, size_t i) {
    const tf_fset *t = &it->owner->table;
    int kind = tf_fset_key_kind(t);
    if (kind == TF_FSET_STR || kind == TF_FSET_BYTES)
        return span_object(it->owner, tf_fset_key_next(t, &it->off), kind, "key", i);
    return tf_frozen_key(it->owner, i);
}

static PyObject *iter_next(PyObject *op) {
    tf_frozen_iter *it = (tf_frozen_iter *)op;
    PyObject *k, *v;
    size_t i;
    if (it->pos >= tf_fset_count(&it->owner->table))
        return NULL;
    i = it->pos++;
    if (it->mode == TF_FROZEN_KEYS)
        return iter_key(it, i);
    if (it->mode == TF_FROZEN_VALUES)
        return tf_frozen_value(it->owner, i);
    k = iter_key(it, i);
    if (!k)
        return NULL;
    v = tf_frozen_value(it->owner, i);
    if (!v) {
        Py_DECREF(k);
        return NULL;
    }
    return Py_BuildValue("(NN)", k, v);
}

static PyObject *iter_length_hint(PyObject *op, PyObject *unused) {
    tf_frozen_iter *it = (tf_frozen_iter *)op;
    size_t n = tf_fset_count(&it->owner->table);
    (void)unused;
    return PyLong_FromSize_t(n > it->pos ? n - it->pos : 0);
}

static int iter_traverse(PyObject *op, visitproc visit, void *arg) {
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((tf_frozen_iter *)op)->owner);
    return 0;
}

/* No tp_clear, like the table's: the owner is fixed for the iterator's life (an exhausted iterator keeps it too, which
 * costs one reference), and a cycle through it passes through the table's holder. */
static void iter_dealloc(PyObject *op) {
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    Py_XDECREF(((tf_frozen_iter *)op)->owner);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyMethodDef iter_methods[] = {
    {"__length_hint__", iter_length_hint, METH_NOARGS, "Entries not yet produced."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot iter_slots[] = {
    {Py_tp_dealloc, iter_dealloc}, {Py_tp_traverse, iter_traverse}, {Py_tp_iter, PyObject_SelfIter},
    {Py_tp_iternext, iter_next},   {Py_tp_methods, iter_methods},   {0, NULL},
};

static PyType_Spec iter_spec = {
    .name = "thrifty._ext.frozen_iterator",
    .basicsize = sizeof(tf_frozen_iter),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = iter_slots,
};

/* 1 when every item of `items` is in `container` (any = 0) / when none is (any = 1); 0 otherwise; -1 error. */
int tf_frozen_scan(PyObject *items, PyObject *container, int any) {
    PyObject *it = PyObject_GetIter(items), *x;
    if (!it)
        return -1;
    while ((x = PyIter_Next(it)) != NULL) {
        int r = PySequence_Contains(container, x);
        Py_DECREF(x);
        if (r < 0 || r == any) {
            Py_DECREF(it);
            return r < 0 ? -1 : 0;
        }
    }
    Py_DECREF(it);
    return PyErr_Occurred() ? -1 : 1;
}

int tf_frozen_register_abc(PyObject *type, const char *abc_name) {
    /* _collections_abc (what collections.abc re-exports, same classes) is imported at every interpreter start-up;
     * collections.abc would import collections and five more modules into the doctor's recorder before the target */
    PyObject *abc = PyImport_ImportModule("_collections_abc"), *r;
    if (!abc)
        return -1;
    r = PyObject_GetAttrString(abc, abc_name);
    Py_DECREF(abc);
    if (!r)
        return -1;
    abc = r;
    r = PyObject_CallMethod(abc, "register", "O", type);
    Py_DECREF(abc);
    if (!r)
        return -1;
    Py_DECREF(r);
    return 0;
}

int tf_frozen_add_helpers(PyObject *m, tf_state *st) {
    st->FrozenIterType = PyType_FromModuleAndSpec(m, &iter_spec, NULL);
    return st->FrozenIterType ? 0 : -1;
}
