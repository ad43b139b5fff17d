/* The Ring binding's typecodes and value conversion: the typecode table, Python value <-> C item, buffer formats.
 * Declarations and the contract: ring_values.h. */
#include "ring_values.h" /* Python.h first, as the C API requires */

#include <string.h>

/* ---- typecodes ------------------------------------------------------------------------------------------- */

/* The core's reduction type of an integer C type T follows from its size and sign (C leaves `long` to the
 * platform). */
#define TF__INT_TYPE(T)                                                                                                \
    (sizeof(T) == 1   ? (TF_PY_INT_SIGNED(T) ? TF_RING_I8 : TF_RING_U8)                                                \
     : sizeof(T) == 2 ? (TF_PY_INT_SIGNED(T) ? TF_RING_I16 : TF_RING_U16)                                              \
     : sizeof(T) == 4 ? (TF_PY_INT_SIGNED(T) ? TF_RING_I32 : TF_RING_U32)                                              \
                      : (TF_PY_INT_SIGNED(T) ? TF_RING_I64 : TF_RING_U64))

#define TF__INT_KIND(c, T, name)                                                                                       \
    { c, sizeof(T), TF__INT_TYPE(T), TF_PY_INT_SIGNED(T) ? 'i' : 'u', name, {c, 0}, TF_PY_INT_MIN(T), TF_PY_INT_MAX(T) }

static const tf_ring_kind tf__kinds[] = {
    TF__INT_KIND('b', signed char, "signed char"),
    TF__INT_KIND('B', unsigned char, "unsigned char"),
    TF__INT_KIND('h', short, "signed short"),
    TF__INT_KIND('H', unsigned short, "unsigned short"),
    TF__INT_KIND('i', int, "signed int"),
    TF__INT_KIND('I', unsigned int, "unsigned int"),
    TF__INT_KIND('l', long, "signed long"),
    TF__INT_KIND('L', unsigned long, "unsigned long"),
    TF__INT_KIND('q', long long, "signed long long"),
    TF__INT_KIND('Q', unsigned long long, "unsigned long long"),
    {'f', sizeof(float), TF_RING_F32, 'f', "float", {'f', 0}, 0, 0},
    {'d', sizeof(double), TF_RING_F64, 'f', "double", {'d', 0}, 0, 0},
    {'O', sizeof(PyObject *), 0, 'O', "object", {'O', 0}, 0, 0},
};
#define TF__NKINDS (sizeof tf__kinds / sizeof tf__kinds[0])

const tf_ring_kind *tf_py_ring_kind_of(char code) {
    for (size_t k = 0; k < TF__NKINDS; k++)
        if (tf__kinds[k].code == code)
            return &tf__kinds[k];
    return NULL;
}

/* ---- values ---------------------------------------------------------------------------------------------- */

static int tf__out_of_range(const tf_ring_kind *k, PyObject *v) {
    PyErr_Format(PyExc_OverflowError, "Ring('%c') item %R is out of range (accepted: %lld..%llu)", k->code, v, k->lo,
                 k->hi);
    return -1;
}

/* Same rules as array.array:
 * integer kinds take int or __index__ objects, float kinds anything float() would take without parsing. */
int tf_py_ring_to_c(const tf_ring_kind *k, PyObject *v, tf_item *out) {
    if (k->cls == 'O') {
        out->o = v;
        return 0;
    }
    if (k->cls == 'f') {
        double d = PyFloat_CheckExact(v) ? PyFloat_AS_DOUBLE(v) : PyFloat_AsDouble(v);
        if (d == -1.0 && PyErr_Occurred()) {
            if (PyErr_ExceptionMatches(PyExc_TypeError)) {
                PyErr_Clear();
                PyErr_Format(PyExc_TypeError, "Ring('%c') items must be real numbers (int or float), not %.100s",
                             k->code, Py_TYPE(v)->tp_name);
            }
            return -1;
        }
        if (k->size == sizeof(float)) {
            float f = (float)d;
            memcpy(out->b, &f, sizeof f);
        } else {
            out->d = d;
        }
        return 0;
    }
    if (PyLong_CheckExact(v) && k->size < sizeof(long long)) { /* the hot path: an int that fits a C long long */
        int of = 0;
        long long x = PyLong_AsLongLongAndOverflow(v, &of);
        if (of == 0 && x >= k->lo && (x < 0 || (unsigned long long)x <= k->hi)) {
            switch (k->size) {
            case 1: {
                unsigned char t = (unsigned char)x; /* the same low bits for both signs */
                out->b[0] = t;
            } break;
            case 2: {
                uint16_t t = (uint16_t)x;
                memcpy(out->b, &t, 2);
            } break;
            default: {
                uint32_t t = (uint32_t)x;
                memcpy(out->b, &t, 4);
            } break;
            }
            return 0;
        }
    }
    PyObject *num = PyLong_CheckExact(v) ? Py_NewRef(v) : PyNumber_Index(v);
    if (num == NULL) {
        if (PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError, "Ring('%c') items must be integers, not %.100s", k->code,
                         Py_TYPE(v)->tp_name);
        }
        return -1;
    }
    int ovf = 0;
    long long x = PyLong_AsLongLongAndOverflow(num, &ovf);
    unsigned long long ux = 0;
    long long lo = k->lo;
    unsigned long long hi = k->hi;
    if (x == -1 && PyErr_Occurred()) {
        Py_DECREF(num);
        return -1;
    }
    if (ovf > 0 && k->cls == 'u') { /* above LLONG_MAX: only a 64-bit unsigned kind may still hold it */
        ux = PyLong_AsUnsignedLongLong(num);
        if (ux == (unsigned long long)-1 && PyErr_Occurred()) {
            PyErr_Clear();
            ovf = 2;
        } else {
            ovf = ux > hi ? 2 : 0;
        }
        if (ovf == 0) {
            Py_DECREF(num);
            memcpy(out->b, &ux, 8);
            return 0;
        }
    }
    Py_DECREF(num);
    if (ovf || x < lo || (x > 0 && (unsigned long long)x > hi))
        return tf__out_of_range(k, v);
    switch (k->size) {
    case 1: {
        int8_t t = (int8_t)x; /* the unsigned kinds store the same low bits */
        if (k->cls == 'u')
            out->b[0] = (unsigned char)x;
        else
            memcpy(out->b, &t, 1);
    } break;
    case 2: {
        if (k->cls == 'u') {
            uint16_t t = (uint16_t)x;
            memcpy(out->b, &t, 2);
        } else {
            int16_t t = (int16_t)x;
            memcpy(out->b, &t, 2);
        }
    } break;
    case 4: {
        if (k->cls == 'u') {
            uint32_t t = (uint32_t)x;
            memcpy(out->b, &t, 4);
        } else {
            int32_t t = (int32_t)x;
            memcpy(out->b, &t, 4);
        }
    } break;
    default: memcpy(out->b, &x, 8); break;
    }
    return 0;
}

PyObject *tf_py_ring_from_c(const tf_ring_kind *k, const void *p) {
    switch (k->type) {
    case TF_RING_I8: return PyLong_FromLong(*(const int8_t *)p);
    case TF_RING_U8: return PyLong_FromLong(*(const uint8_t *)p);
    case TF_RING_I16: return PyLong_FromLong(*(const int16_t *)p);
    case TF_RING_U16: return PyLong_FromLong(*(const uint16_t *)p);
    case TF_RING_I32: return PyLong_FromLong(*(const int32_t *)p);
    case TF_RING_U32: return PyLong_FromUnsignedLong(*(const uint32_t *)p);
    case TF_RING_I64: return PyLong_FromLongLong(*(const int64_t *)p);
    case TF_RING_U64: return PyLong_FromUnsignedLongLong(*(const uint64_t *)p);
    case TF_RING_F32: return PyFloat_FromDouble((double)*(const float *)p);
    case TF_RING_F64: return PyFloat_FromDouble(*(const double *)p);
    default: return Py_NewRef(*(PyObject *const *)p);
    }
}

PyObject *tf_py_ring_item(tf_RingObject *self, size_t i) {
    const void *p = tf_ring_at(&self->ring, i);
    if (p == NULL) {
        PyErr_SetString(PyExc_IndexError, "Ring index out of range");
        return NULL;
    }
    return tf_py_ring_from_c(self->kind, p);
}

/* ---- buffer formats -------------------------------------------------------------------------------------- */

static int tf__host_little(void) {
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

int tf_py_ring_format_matches(const tf_ring_kind *k, const Py_buffer *b) {
    const char *f = b->format ? b->format : "B";
    if (*f == '@' || *f == '=' || (*f == '<' && tf__host_little()) || ((*f == '>' || *f == '!') && !tf__host_little()))
        f++;
    if (f[0] == 0 || f[1] != 0 || b->itemsize != (Py_ssize_t)k->size)
        return 0;
    char cls = strchr("bhilqn", f[0]) ? 'i' : strchr("BHILQN", f[0]) ? 'u' : strchr("fd", f[0]) ? 'f' : 0;
    return cls == k->cls;
}
