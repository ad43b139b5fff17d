/* The analyzer's pass over every stack of a run, in C (src/thrifty/doctor/report.py calls it): a run under the
 * recorder has ~13,000 stacks (its imports' included), and this pass in Python (three loops over them: harness frames
 * cut, stacks grouped per site and per import chain) was most of the time the doctor's parent spent building a report.
 * What it leaves to Python is per group (thousands fewer) and per import chain (tens).
 *
 * _report_groups(stacks, kinds, importlib) -> (stacks, own, groups, chains, import_peak, import_end):
 *   stacks      list of dicts with "frames" (a list or tuple of frame ids) and the counters live_at_peak, live_at_end,
 * allocs, frees, alloc_bytes; kinds       bytes, the kind of each frame id (report.py's _LIB, _USER, _IMPORT, _HARNESS,
 * _MACHINERY); importlib   bytes, 1 for each frame id in importlib's own bootstrap code. Returns the stacks with
 * thrifty's and runpy's frames cut (a dict copy each; an unchanged stack is the same dict), the doctor's own
 * totals (the stacks whose innermost frame is its machinery, left out), the groups
 * [(site frame or None, inner frame or None, user, [five sums])] in the order first met (report._aggregate_sites
 * reads them), the import chains {frames up to the innermost import: [live_at_peak, live_at_end, allocs,
 * alloc_bytes]}, and what the stacks through an import held at the peak and at the end. Sums are Python ints, so
 * any counter a dict holds adds up as in Python; a frame id outside `kinds` is an IndexError.
 */
#include "pytable.h"
#include "thrifty_ext.h"

enum { K_LIB, K_USER, K_IMPORT, K_HARNESS, K_MACHINERY };

static const char *const COUNTERS[5] = {"live_at_peak", "live_at_end", "allocs", "frees", "alloc_bytes"};
/* the keys above and "frames", as interned str (made once): a lookup by C string would make a str object each time */
static PyObject *KEYS[6];

static int keys_init(void) {
    for (int k = 0; k < 6; k++)
        if (!KEYS[k] && !(KEYS[k] = PyUnicode_InternFromString(k < 5 ? COUNTERS[k] : "frames")))
            return -1;
    return 0;
}

/* sums[i] += the stack's counter i for each i in `which` (indices into COUNTERS); 0 or -1. */
static int add_counters(PyObject *sums, PyObject *const vals[5], const int *which, int n) {
    for (int k = 0; k < n; k++) {
        PyObject *old = PyList_GET_ITEM(sums, k);
        PyObject *sum = PyNumber_Add(old, vals[which[k]]);
        if (!sum)
            return -1;
        PyList_SET_ITEM(sums, k, sum);
        Py_DECREF(old);
    }
    return 0;
}

static PyObject *zeros(int n) {
    PyObject *l = PyList_New(n);
    for (int k = 0; l && k < n; k++)
        PyList_SET_ITEM(l, k, PyLong_FromLong(0));
    for (int k = 0; l && k < n; k++)
        if (!PyList_GET_ITEM(l, k)) {
            Py_DECREF(l);
            return NULL;
        }
    return l;
}

typedef struct {
    const uint8_t *kinds, *importlib;
    Py_ssize_t nkinds;
    PyObject *out, *own, *groups, *chains, *import_sums, *one;
    tf_pytable group_of; /* (site + 2) << 32 | (inner + 2), None as 1 -> group index */
    PyObject **ids;      /* the kept frames of the stack at hand */
    Py_ssize_t ids_cap;
} pass;

/* The kind of frame id `fid` (a Python int), or -1 with IndexError/TypeError. */
static int kind_of(pass *p, PyObject *fid, Py_ssize_t *index) {
    Py_ssize_t i = PyLong_Check(fid) ? PyLong_AsSsize_t(fid) : -1;
    if (i == -1 && PyErr_Occurred())
        return -1;
    if (i < 0 || i >= p->nkinds) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_IndexError, "_report_groups: frame id %R is not a frame of the run", fid);
        return -1;
    }
    *index = i;
    return p->kinds[i];
}

/* One kept stack (its frames p->ids and their ids `fidx`, n of them, kinds `ks`): its group and its import chain. 0 or
 * -1. */
static int group_stack(pass *p, const Py_ssize_t *fidx, const uint8_t *ks, Py_ssize_t n, PyObject *const vals[5]) {
    static const int all5[5] = {0, 1, 2, 3, 4}, chain4[4] = {0, 1, 2, 4}, ends2[2] = {0, 1};
    Py_ssize_t site = -1, inner = -1, u = -1, j = -1;
    int user = 0;
    for (Py_ssize_t k = n - 1; k >= 0 && (u < 0 || j < 0); k--) {
        if (u < 0 && ks[k] == K_USER)
            u = k;
        if (j < 0 && ks[k] == K_IMPORT)
            j = k;
    }
    if (n > 0) {
        user = u >= 0;
        if (user)
            site = fidx[u];
        else {
            /* no user frame: the outermost frame, past importlib's own (the import it ran is what made it) */
            Py_ssize_t k = 0;
            while (k < n && p->importlib[fidx[k]])
                k++;
            site = fidx[k < n ? k : 0];
        }
        inner = fidx[n - 1] != site ? fidx[n - 1] : -1;
    }
    uint64_t key = (uint64_t)(site + 2) << 32 | (uint64_t)(inner + 2), at;
    PyObject *sums;
    if (p->group_of.mem && tf_hashtable_get(&p->group_of.t, key, &at)) {
        sums = PyTuple_GET_ITEM(PyList_GET_ITEM(p->groups, (Py_ssize_t)at), 3);
    } else {
        if (tf_pytable_room(&p->group_of, 256) < 0)
            return -1;
        PyObject *g = NULL;
        sums = zeros(5);
        if (sums) {
            g = Py_BuildValue("(NNOO)", site >= 0 ? PyLong_FromSsize_t(site) : Py_NewRef(Py_None),
                              inner >= 0 ? PyLong_FromSsize_t(inner) : Py_NewRef(Py_None), user ? Py_True : Py_False,
                              sums);
            Py_DECREF(sums);
        }
        if (!g || PyList_Append(p->groups, g) < 0) {
            Py_XDECREF(g);
            return -1;
        }
        Py_DECREF(g);
        (void)tf_hashtable_upsert(&p->group_of.t, key, (uint64_t)(PyList_GET_SIZE(p->groups) - 1)); /* room made */
    }
    if (add_counters(sums, vals, all5, 5) < 0)
        return -1;
    if (j < 0)
        return 0;
    if (add_counters(p->import_sums, vals, ends2, 2) < 0)
        return -1;
    PyObject *chain = PyTuple_New(j + 1); /* the kept frames up to the innermost import (p->ids, held) */
    if (!chain)
        return -1;
    for (Py_ssize_t k = 0; k <= j; k++)
        PyTuple_SET_ITEM(chain, k, Py_NewRef(p->ids[k]));
    PyObject *csums = PyDict_GetItemWithError(p->chains, chain);
    if (!csums && !PyErr_Occurred()) {
        csums = zeros(4);
        if (csums && PyDict_SetItem(p->chains, chain, csums) < 0)
            Py_CLEAR(csums);
        Py_XDECREF(csums); /* the dict holds it */
    }
    Py_DECREF(chain);
    return csums ? add_counters(csums, vals, chain4, 4) : -1;
}

/* One stack of the run: cut, then grouped, or summed into the doctor's own. 0 or -1. */
static int one_stack_held(pass *p, PyObject *st, PyObject *fr, PyObject *const vals[5]);
static int kept_stack(pass *p, PyObject *st, PyObject *fr, PyObject *const vals[5], const Py_ssize_t *fidx,
                      const uint8_t *ks, Py_ssize_t kept, int own, int stripped);

static int one_stack(pass *p, PyObject *st) {
    PyObject *vals[5], *fr;
    if (!PyDict_Check(st)) {
        PyErr_Format(PyExc_TypeError, "_report_groups: a stack must be a dict, got %.100s", Py_TYPE(st)->tp_name);
        return -1;
    }
    fr = PyDict_GetItemWithError(st, KEYS[5]); /* borrowed; a str key: runs no Python code */
    if (!fr && PyErr_Occurred())
        return -1;
    if (!fr || !(PyList_Check(fr) || PyTuple_Check(fr))) {
        PyErr_SetString(PyExc_TypeError, "_report_groups: a stack's \"frames\" must be a list or tuple of frame ids");
        return -1;
    }
    for (int k = 0; k < 5; k++) {
        vals[k] = PyDict_GetItemWithError(st, KEYS[k]);
        if (!vals[k] && PyErr_Occurred())
            return -1;
        if (!vals[k]) {
            PyErr_Format(PyExc_KeyError, "_report_groups: a stack without %s", COUNTERS[k]);
            return -1;
        }
    }
    /* held: what follows allocates, and a finalizer that a collection runs could change the stack's dict */
    Py_INCREF(fr);
    for (int k = 0; k < 5; k++)
        Py_INCREF(vals[k]);
    int rc = one_stack_held(p, st, fr, vals);
    Py_DECREF(fr);
    for (int k = 0; k < 5; k++)
        Py_DECREF(vals[k]);
    return rc;
}

static int one_stack_held(pass *p, PyObject *st, PyObject *fr, PyObject *const vals[5]) {
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fr), kept = 0, cut = 0;
    if (n > p->ids_cap) {
        Py_ssize_t cap = n * 2;
        void *grown = PyMem_Realloc(p->ids, (size_t)cap * (sizeof(PyObject *) + sizeof(Py_ssize_t) + 1u));
        if (!grown) {
            PyErr_NoMemory();
            return -1;
        }
        p->ids = grown;
        p->ids_cap = cap;
    }
    Py_ssize_t *fidx = (Py_ssize_t *)(p->ids + p->ids_cap);
    uint8_t *ks = (uint8_t *)(fidx + p->ids_cap);
    int stripped = 0, machinery_at = -1, inner_machinery = 0, user_outside = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        int kind = kind_of(p, PySequence_Fast_GET_ITEM(fr, k), &fidx[k]);
        if (kind < 0)
            return -1;
        ks[k] = (uint8_t)kind;
        if (kind >= K_HARNESS)
            stripped = 1;
        if (kind == K_MACHINERY && machinery_at < 0)
            machinery_at = (int)k;
        if (kind == K_USER && machinery_at < 0)
            user_outside = 1;
        inner_machinery = kind == K_MACHINERY;
    }
    /* frames outside the doctor's outermost frame launched it (the `thrifty` console script, pytest); a frame of the
     * user's code out there means the doctor's frame is a probe the target called (the resource probe showing a
     * warning, its finder importing `warnings`): the user's frames stay, and the probe's alone are dropped */
    cut = stripped && machinery_at >= 0 && !user_outside ? machinery_at : 0;
    /* the kept frames compacted in place (kept <= k); nothing between the two loops allocates */
    for (Py_ssize_t k = cut; k < n; k++) {
        if (stripped && ks[k] >= K_HARNESS)
            continue;
        p->ids[kept] =
            Py_NewRef(PySequence_Fast_GET_ITEM(fr, k)); /* the list may change while the copies below allocate */
        fidx[kept] = fidx[k];
        ks[kept++] = ks[k];
    }
    int rc = kept_stack(p, st, fr, vals, fidx, ks, kept, stripped && (kept == 0 || inner_machinery), stripped);
    for (Py_ssize_t k = 0; k < kept; k++)
        Py_DECREF(p->ids[k]);
    return rc;
}

/* The rest of one_stack: the stack's `kept` frames (p->ids, held) summed into the doctor's own (`own`), or kept. */
static int kept_stack(pass *p, PyObject *st, PyObject *fr, PyObject *const vals[5], const Py_ssize_t *fidx,
                      const uint8_t *ks, Py_ssize_t kept, int own, int stripped) {
    if (own) {
        PyObject *count = PyDict_GetItemString(p->own, "stacks"), *one = count ? PyNumber_Add(count, p->one) : NULL;
        if (!one || PyDict_SetItemString(p->own, "stacks", one) < 0) {
            Py_XDECREF(one);
            return -1;
        }
        Py_DECREF(one);
        for (int k = 0; k < 5; k++) {
            PyObject *sum = PyNumber_Add(PyDict_GetItemString(p->own, COUNTERS[k]), vals[k]);
            if (!sum || PyDict_SetItemString(p->own, COUNTERS[k], sum) < 0) {
                Py_XDECREF(sum);
                return -1;
            }
            Py_DECREF(sum);
        }
        return 0;
    }
    PyObject *ids, *copy;
    int rc;
    if (!stripped) {
        /* an unchanged stack is the same dict (its frames list was already shared): a copy of each of a run's
         * ~13,000 stacks was a tenth of this pass, and as much again to free and for the collector to walk */
        ids = Py_NewRef(fr);
        rc = PyList_Append(p->out, st);
    } else {
        if ((ids = PyList_New(kept)) != NULL)
            for (Py_ssize_t k = 0; k < kept; k++)
                PyList_SET_ITEM(ids, k, Py_NewRef(p->ids[k]));
        copy = ids ? PyDict_Copy(st) : NULL;
        rc = copy && PyDict_SetItem(copy, KEYS[5], ids) == 0 && PyList_Append(p->out, copy) == 0 ? 0 : -1;
        Py_XDECREF(copy);
    }
    if (rc == 0)
        rc = group_stack(p, fidx, ks, kept, vals);
    Py_XDECREF(ids);
    return rc;
}

static PyObject *report_groups(PyObject *module, PyObject *args) {
    PyObject *stacks, *result = NULL;
    Py_buffer kinds = {0}, importlib = {0};
    pass p;
    (void)module;
    memset(&p, 0, sizeof p);
    if (!PyArg_ParseTuple(args, "O!y*y*:_report_groups", &PyList_Type, &stacks, &kinds, &importlib))
        return NULL;
    if (kinds.len != importlib.len) {
        PyErr_Format(PyExc_ValueError,
                     "_report_groups: kinds and importlib must have one byte per frame, got %zd and %zd", kinds.len,
                     importlib.len);
        goto done;
    }
    p.kinds = kinds.buf;
    p.importlib = importlib.buf;
    p.nkinds = kinds.len;
    for (Py_ssize_t i = 0; i < kinds.len; i++)
        if (p.kinds[i] > K_MACHINERY) {
            PyErr_Format(PyExc_ValueError, "_report_groups: frame %zd has kind %d (0 to %d)", i, p.kinds[i],
                         K_MACHINERY);
            goto done;
        }
    if (keys_init() < 0 || !(p.out = PyList_New(0)) || !(p.own = PyDict_New()) || !(p.groups = PyList_New(0)) ||
        !(p.chains = PyDict_New()) || !(p.import_sums = zeros(2)) || !(p.one = PyLong_FromLong(1)))
        goto done;
    for (int k = 0; k < 5; k++)
        if (PyDict_SetItemString(p.own, COUNTERS[k], PyList_GET_ITEM(p.import_sums, 0)) < 0)
            goto done;
    if (PyDict_SetItemString(p.own, "stacks", PyList_GET_ITEM(p.import_sums, 0)) < 0) /* a 0 */
        goto done;
    /* the list is read at each step: a stack's dict copy allocates, and nothing here runs Python code */
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(stacks); i++) {
        PyObject *st = Py_NewRef(PyList_GET_ITEM(stacks, i));
        int rc = one_stack(&p, st);
        Py_DECREF(st);
        if (rc < 0)
            goto done;
    }
    result = Py_BuildValue("(OOOOOO)", p.out, p.own, p.groups, p.chains, PyList_GET_ITEM(p.import_sums, 0),
                           PyList_GET_ITEM(p.import_sums, 1));
done:
    Py_XDECREF(p.out);
    Py_XDECREF(p.own);
    Py_XDECREF(p.groups);
    Py_XDECREF(p.chains);
    Py_XDECREF(p.import_sums);
    Py_XDECREF(p.one);
    PyMem_Free(p.ids);
    tf_pytable_free(&p.group_of);
    PyBuffer_Release(&kinds);
    PyBuffer_Release(&importlib);
    return result;
}

static PyMethodDef report_groups_methods[] = {
    {"_report_groups", report_groups, METH_VARARGS,
     "_report_groups(stacks, kinds, importlib, /)\n--\n\n"
     "The report's pass over every stack: harness frames cut, the doctor's own stacks summed apart, the stacks\n"
     "grouped per (site, inner frame) and per import chain. See cpython/report_groups.c."},
    {NULL, NULL, 0, NULL},
};

int tf_report_groups_add(PyObject *m, tf_state *st) {
    (void)st;
    return PyModule_AddFunctions(m, report_groups_methods);
}
