/* The run file's reader, its data path: a snapshot's stack tree and sites turned into the frames and stacks of the
 * raw dict the report is built from (src/thrifty/doctor/runfile.py parses the rest of the record and calls this).
 *
 * A snapshot stores each stack as a leaf node of a tree (parent, line, function); the reader gives each stack its
 * frames from the root, as frame ids into one list of distinct (file, line, function) frames, with the recorder's
 * own frames cut: a frame of the bootstrap file (the recorder's child.py) and everything outside it, and the frame
 * that parsed and ran the target (`<compile>`, no line) above the code it ran. In Python this walk was most of the
 * analyzer's time on a run with many stacks (a path copied per node of the tree); here each node's path is a cell of
 * a persistent list (its last frame and the cell of the path before it), so a node costs O(1) and a stack O(depth).
 *
 * Input is untrusted (a run file from anywhere): every node and function index is checked, a parent chain longer
 * than the tree (a cycle) is refused, and every failure is a ValueError or IndexError that runfile.py turns into
 * RunFileError. tests/fuzz/fuzz_runfile.py feeds it damaged files.
 */
#include "pytable.h"
#include "thrifty_ext.h"

#include <stdlib.h>
#include <string.h>

#define NODE_SIZE 12u /* u32 parent, i32 line, u32 function */
#define SITE_SIZE 48u /* u32 leaf, u16 depth, u8 truncated, u8 unused, i64 x2, u64 x3 */
#define FREE_SLOT 0xFFFFFFFFu
#define TARGET_FRAME "<compile>"
#define MAX_CHAIN 65536u /* a parent chain longer than this is a cycle (the tracker's stacks are at most 256 deep) */

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

typedef struct {
    const uint8_t *nodes;
    uint32_t nnodes, nfuncs;
    PyObject *funcs;             /* list of (file, name) */
    uint32_t *canon;             /* per function: the first function with its (file, name) */
    uint8_t *bootstrap, *target; /* per function */
    /* per node: its path's cell (-1: the empty path) once known */
    int32_t *path;
    uint8_t *done;
    /* the cells: the path's last frame, the cell before it, its length */
    uint32_t *cell_fid, *cell_len;
    int32_t *cell_prev;
    uint32_t ncells;
    uint32_t *chain;
    tf_pytable ids;  /* (canonical function + 1) << 32 | line -> frame id */
    uint8_t *runner; /* per frame id: it is the frame that ran the target */
    size_t runner_cap;
    PyObject *frames; /* the list returned */
    /* per frame id: its int, made once: a run's stacks name ~250,000 frames, most of them ids past the small ints
     * CPython caches, and an int object each was a fifth of reading a run */
    PyObject **fid_obj;
    uint32_t nfid_obj;
    /* a stack dict's keys, in order, with None values: each stack's dict is a copy of it with its values set, which
     * copies its key table at once instead of inserting seven keys (and growing the table once) per stack */
    PyObject *shape;
} reader;

/* the stack dict's keys as interned str, made once (like report_groups.c's): a dict built with keys from C strings
 * made and hashed a new str per key per stack, and every later lookup by an interned key compared their text */
enum { K_FRAMES, K_TRUNCATED, K_PEAK, K_END, K_ALLOCS, K_FREES, K_ALLOC_BYTES, K_KEPT_TYPE, K_KEPT_BYTES, K_COUNT };
static const char *const KEY_NAMES[K_COUNT] = {"frames", "truncated",   "live_at_peak", "live_at_end",    "allocs",
                                               "frees",  "alloc_bytes", "kept_type",    "kept_type_bytes"};
static PyObject *KEYS[K_COUNT];

static int keys_init(void) {
    for (int k = 0; k < K_COUNT; k++)
        if (!KEYS[k] && !(KEYS[k] = PyUnicode_InternFromString(KEY_NAMES[k])))
            return -1;
    return 0;
}

static void reader_free(reader *r) {
    free(r->canon);
    free(r->bootstrap);
    free(r->target);
    free(r->path);
    free(r->done);
    free(r->cell_fid);
    free(r->cell_len);
    free(r->cell_prev);
    free(r->chain);
    free(r->runner);
    for (uint32_t i = 0; i < r->nfid_obj; i++)
        Py_DECREF(r->fid_obj[i]);
    free(r->fid_obj);
    Py_XDECREF(r->shape);
    tf_pytable_free(&r->ids);
}

/* The frame id of (function, line), a new frame appended to r->frames on first sight; UINT32_MAX on error. */
static uint32_t frame_id(reader *r, uint32_t func, int32_t line) {
    uint64_t key = (uint64_t)(r->canon[func] + 1u) << 32 | (uint32_t)line, have;
    if (r->ids.mem && tf_hashtable_get(&r->ids.t, key, &have))
        return (uint32_t)have;
    if (tf_pytable_room(&r->ids, 256) < 0)
        return UINT32_MAX;
    uint32_t fid = (uint32_t)PyList_GET_SIZE(r->frames);
    if (fid >= r->runner_cap) {
        size_t cap = r->runner_cap ? 2u * r->runner_cap : 256u;
        uint8_t *grown = realloc(r->runner, cap);
        PyObject **objs = grown ? realloc(r->fid_obj, cap * sizeof *objs) : NULL;
        if (grown)
            r->runner = grown;
        if (!objs) {
            PyErr_NoMemory();
            return UINT32_MAX;
        }
        r->fid_obj = objs;
        r->runner_cap = cap;
    }
    PyObject *fid_int = PyLong_FromUnsignedLong(fid);
    if (!fid_int)
        return UINT32_MAX;
    PyObject *fn = PyList_GET_ITEM(r->funcs, func); /* checked as a 2-tuple of str by the caller */
    PyObject *frame = Py_BuildValue("[OiO]", PyTuple_GET_ITEM(fn, 0), (int)line, PyTuple_GET_ITEM(fn, 1));
    if (!frame || PyList_Append(r->frames, frame) < 0) {
        Py_XDECREF(frame);
        Py_DECREF(fid_int);
        return UINT32_MAX;
    }
    Py_DECREF(frame);
    r->fid_obj[r->nfid_obj++] = fid_int;            /* fid == nfid_obj: one per frame of r->frames */
    (void)tf_hashtable_upsert(&r->ids.t, key, fid); /* there is room */
    r->runner[fid] = (uint8_t)(r->target[func] && line <= 0);
    return fid;
}

/* The cell of node's path (-1: empty), computed once per node from its parent's; -2 with an exception set. */
static int32_t path_of(reader *r, uint32_t node) {
    uint32_t n = 0;
    /* node 0 is the root (the empty path), with or without a node 0 in the file */
    while (node != 0 && !(node < r->nnodes && r->done[node])) {
        if (node >= r->nnodes || le32(r->nodes + (size_t)node * NODE_SIZE + 8) == FREE_SLOT) {
            PyErr_Format(PyExc_IndexError, "node %u is not in the stack tree", node);
            return -2;
        }
        if (n >= MAX_CHAIN || n >= r->nnodes) {
            PyErr_SetString(PyExc_IndexError, "a cycle in the stack tree");
            return -2;
        }
        r->chain[n++] = node;
        node = le32(r->nodes + (size_t)node * NODE_SIZE);
    }
    int32_t path = node == 0 ? -1 : r->path[node];
    while (n) {
        uint32_t at = r->chain[--n];
        const uint8_t *p = r->nodes + (size_t)at * NODE_SIZE;
        int32_t line = (int32_t)le32(p + 4);
        uint32_t func = le32(p + 8);
        if (func >= r->nfuncs) {
            PyErr_Format(PyExc_IndexError, "node %u names function %u of %u", at, func, r->nfuncs);
            return -2;
        }
        uint32_t fid = frame_id(r, func, line);
        if (fid == UINT32_MAX)
            return -2;
        /* the frame that ran the target is kept where python's parser and compiler allocated (its own stacks), not
         * above the code it ran, whose caller under python is C, without a frame */
        if (path >= 0 && r->runner[r->cell_fid[path]])
            path = r->cell_prev[path];
        if (r->bootstrap[func]) {
            path = -1; /* the recorder's bootstrap: it and everything outside it are its plumbing */
        } else {
            uint32_t c = r->ncells++; /* at most one cell per node: never past nnodes */
            r->cell_fid[c] = fid;
            r->cell_prev[c] = path;
            r->cell_len[c] = path >= 0 ? r->cell_len[path] + 1u : 1u;
            path = (int32_t)c;
        }
        r->path[at] = path;
        r->done[at] = 1;
    }
    return path;
}

static PyObject *path_list(const reader *r, int32_t path) {
    PyObject *out = PyList_New(path >= 0 ? (Py_ssize_t)r->cell_len[path] : 0);
    if (!out)
        return NULL;
    for (Py_ssize_t i = PyList_GET_SIZE(out) - 1; i >= 0; i--, path = r->cell_prev[path])
        PyList_SET_ITEM(out, i, Py_NewRef(r->fid_obj[r->cell_fid[path]]));
    return out;
}

/* One site's stack dict; NULL with an exception set. */
static PyObject *site_dict(reader *r, const uint8_t *s) {
    uint32_t leaf = le32(s);
    uint16_t depth = (uint16_t)(s[4] | s[5] << 8);
    PyObject *frames;
    if (depth) {
        int32_t path = path_of(r, leaf);
        if (path == -2)
            return NULL;
        frames = path_list(r, path);
    } else {
        frames = PyList_New(0);
    }
    if (!frames)
        return NULL;
    /* the keys in the order the tracker's stacks have them (the JSON report keeps dict order) */
    PyObject *d = PyDict_Copy(r->shape), *v[K_ALLOC_BYTES + 1] = {frames,
                                                                  Py_NewRef(s[6] ? Py_True : Py_False),
                                                                  PyLong_FromLongLong((long long)le64(s + 8)),
                                                                  PyLong_FromLongLong((long long)le64(s + 16)),
                                                                  PyLong_FromUnsignedLongLong(le64(s + 24)),
                                                                  PyLong_FromUnsignedLongLong(le64(s + 32)),
                                                                  PyLong_FromUnsignedLongLong(le64(s + 40))};
    int bad = !d;
    for (int k = 0; k <= K_ALLOC_BYTES; k++) {
        bad = bad || !v[k] || PyDict_SetItem(d, KEYS[k], v[k]) < 0;
        Py_XDECREF(v[k]);
    }
    if (bad) {
        Py_XDECREF(d);
        return NULL;
    }
    return d;
}

static int reader_init(reader *r, PyObject *funcs, Py_buffer *nodes, PyObject *strip) {
    if (!PyList_CheckExact(funcs)) {
        PyErr_Format(PyExc_TypeError, "_runfile_stacks: funcs must be a list of (file, name), got %.100s",
                     Py_TYPE(funcs)->tp_name);
        return -1;
    }
    if (nodes->len % NODE_SIZE || (size_t)nodes->len / NODE_SIZE >= UINT32_MAX ||
        PyList_GET_SIZE(funcs) >= (Py_ssize_t)UINT32_MAX) {
        PyErr_Format(PyExc_ValueError, "_runfile_stacks: nodes must be %u-byte records, got %zd bytes", NODE_SIZE,
                     nodes->len);
        return -1;
    }
    r->nodes = nodes->buf;
    r->nnodes = (uint32_t)((size_t)nodes->len / NODE_SIZE);
    r->nfuncs = (uint32_t)PyList_GET_SIZE(funcs);
    r->funcs = funcs;
    size_t nf = r->nfuncs ? r->nfuncs : 1u, nn = r->nnodes ? r->nnodes : 1u;
    r->canon = malloc(nf * sizeof *r->canon);
    r->bootstrap = calloc(nf, 1);
    r->target = calloc(nf, 1);
    r->path = malloc(nn * sizeof *r->path);
    r->done = calloc(nn, 1);
    r->cell_fid = malloc(nn * sizeof *r->cell_fid);
    r->cell_len = malloc(nn * sizeof *r->cell_len);
    r->cell_prev = malloc(nn * sizeof *r->cell_prev);
    r->chain = malloc(nn * sizeof *r->chain);
    if (!r->canon || !r->bootstrap || !r->target || !r->path || !r->done || !r->cell_fid || !r->cell_len ||
        !r->cell_prev || !r->chain) {
        PyErr_NoMemory();
        return -1;
    }
    PyObject *first = PyDict_New();
    if (!first)
        return -1;
    int rc = 0;
    for (uint32_t k = 0; rc == 0 && k < r->nfuncs; k++) {
        PyObject *fn = PyList_GET_ITEM(funcs, k);
        if (!PyTuple_CheckExact(fn) || PyTuple_GET_SIZE(fn) != 2 || !PyUnicode_CheckExact(PyTuple_GET_ITEM(fn, 0)) ||
            !PyUnicode_CheckExact(PyTuple_GET_ITEM(fn, 1))) {
            PyErr_SetString(PyExc_TypeError, "_runfile_stacks: funcs must be a list of (file, name) str tuples");
            rc = -1;
            break;
        }
        PyObject *index = PyLong_FromUnsignedLong(k);
        PyObject *got = index ? PyDict_SetDefault(first, fn, index) : NULL; /* borrowed */
        Py_XDECREF(index);
        if (!got) {
            rc = -1;
            break;
        }
        r->canon[k] = (uint32_t)PyLong_AsUnsignedLong(got);
        PyObject *file = PyTuple_GET_ITEM(fn, 0), *name = PyTuple_GET_ITEM(fn, 1);
        r->bootstrap[k] = (uint8_t)(strip != Py_None && PyUnicode_Compare(file, strip) == 0);
        r->target[k] = (uint8_t)(PyUnicode_CompareWithASCIIString(name, TARGET_FRAME) == 0);
    }
    Py_DECREF(first);
    return rc;
}

static PyObject *runfile_stacks(PyObject *module, PyObject *args) {
    PyObject *funcs, *strip, *kept, *out = NULL, *stacks = NULL;
    Py_buffer nodes = {0}, sites = {0};
    reader r;
    (void)module;
    memset(&r, 0, sizeof r);
    if (!PyArg_ParseTuple(args, "Oy*y*OO!:_runfile_stacks", &funcs, &nodes, &sites, &strip, &PyDict_Type, &kept))
        return NULL;
    if (strip != Py_None && !PyUnicode_Check(strip)) {
        PyErr_Format(PyExc_TypeError, "_runfile_stacks: strip_file must be a str or None, got %.100s",
                     Py_TYPE(strip)->tp_name);
        goto done;
    }
    if (sites.len % SITE_SIZE) {
        PyErr_Format(PyExc_ValueError, "_runfile_stacks: sites must be %u-byte records, got %zd bytes", SITE_SIZE,
                     sites.len);
        goto done;
    }
    if (keys_init() < 0 || !(r.shape = PyDict_New()))
        goto done;
    for (int k = 0; k <= K_ALLOC_BYTES; k++)
        if (PyDict_SetItem(r.shape, KEYS[k], Py_None) < 0)
            goto done;
    if (reader_init(&r, funcs, &nodes, strip) < 0 || !(r.frames = PyList_New(0)) || !(stacks = PyList_New(0)))
        goto done;
    for (Py_ssize_t i = 0; i < sites.len / (Py_ssize_t)SITE_SIZE; i++) {
        const uint8_t *s = (const uint8_t *)sites.buf + (size_t)i * SITE_SIZE;
        if (s[7]) /* unused */
            continue;
        PyObject *d = site_dict(&r, s);
        if (!d)
            goto done;
        PyObject *key = PyLong_FromSsize_t(i), *k = key ? PyDict_GetItemWithError(kept, key) : NULL;
        Py_XDECREF(key);
        int bad = !key || (!k && PyErr_Occurred());
        if (!bad && k) {
            if (!PyTuple_CheckExact(k) || PyTuple_GET_SIZE(k) != 2) {
                PyErr_SetString(PyExc_TypeError, "_runfile_stacks: kept must map a site to (type name, bytes)");
                bad = 1;
            } else {
                bad = PyDict_SetItem(d, KEYS[K_KEPT_TYPE], PyTuple_GET_ITEM(k, 0)) < 0 ||
                      PyDict_SetItem(d, KEYS[K_KEPT_BYTES], PyTuple_GET_ITEM(k, 1)) < 0;
            }
        }
        if (bad || PyList_Append(stacks, d) < 0) {
            Py_DECREF(d);
            goto done;
        }
        Py_DECREF(d);
    }
    out = PyTuple_Pack(2, r.frames, stacks);
done:
    Py_XDECREF(r.frames);
    Py_XDECREF(stacks);
    reader_free(&r);
    PyBuffer_Release(&nodes);
    PyBuffer_Release(&sites);
    return out;
}

/* _runfile_apply_sites(base, nsites, changed) -> bytearray: a delta snapshot's sites, the `nsites` records of the
 * snapshot before it (`base`: its first ones kept, new ones zero) with each (u32 index, record) pair of `changed` put
 * in place. In Python, a slice assignment per changed site was most of applying a delta: the first one after a
 * run's imports changes thousands. An index past nsites is a ValueError (runfile.py: a corrupt snapshot). */
static PyObject *runfile_apply_sites(PyObject *module, PyObject *args) {
    Py_buffer base, changed;
    Py_ssize_t nsites;
    PyObject *out = NULL;
    (void)module;
    if (!PyArg_ParseTuple(args, "y*ny*:_runfile_apply_sites", &base, &nsites, &changed))
        return NULL;
    if (nsites < 0 || nsites > PY_SSIZE_T_MAX / (Py_ssize_t)SITE_SIZE || changed.len % (Py_ssize_t)(4u + SITE_SIZE)) {
        PyErr_SetString(PyExc_ValueError, "_runfile_apply_sites: nsites out of range, or changed not of whole pairs");
        goto done;
    }
    /* the writer sends every site past the last snapshot's as changed (runfile_snapshot.c, put_sites): more sites
     * than the base's and the changed ones together is a corrupt count, which must not size the allocation */
    if (nsites - base.len / (Py_ssize_t)SITE_SIZE > changed.len / (Py_ssize_t)(4u + SITE_SIZE)) {
        PyErr_Format(PyExc_ValueError, "a delta snapshot of %zd sites after %zd with %zd changed", nsites,
                     base.len / (Py_ssize_t)SITE_SIZE, changed.len / (Py_ssize_t)(4u + SITE_SIZE));
        goto done;
    }
    Py_ssize_t size = nsites * (Py_ssize_t)SITE_SIZE, keep = base.len < size ? base.len : size;
    out = PyByteArray_FromStringAndSize(NULL, size);
    if (!out)
        goto done;
    uint8_t *dst = (uint8_t *)PyByteArray_AS_STRING(out);
    memcpy(dst, base.buf, (size_t)keep);
    memset(dst + keep, 0, (size_t)(size - keep));
    for (Py_ssize_t at = 0; at < changed.len; at += (Py_ssize_t)(4u + SITE_SIZE)) {
        const uint8_t *pair = (const uint8_t *)changed.buf + at;
        uint32_t index = le32(pair);
        if ((Py_ssize_t)index >= nsites) {
            PyErr_Format(PyExc_ValueError, "a delta snapshot's site %lu past its %zd sites", (unsigned long)index,
                         nsites);
            Py_CLEAR(out);
            goto done;
        }
        memcpy(dst + (size_t)index * SITE_SIZE, pair + 4, SITE_SIZE);
    }
done:
    PyBuffer_Release(&base);
    PyBuffer_Release(&changed);
    return out;
}

static PyMethodDef runfile_read_methods[] = {
    {"_runfile_apply_sites", runfile_apply_sites, METH_VARARGS,
     "_runfile_apply_sites(base, nsites, changed, /)\n--\n\n"
     "A delta snapshot's site records: nsites records, base's first ones kept and the rest zero, with each (u32\n"
     "index, record) pair of changed put in place. ValueError for an index past nsites."},
    {"_runfile_stacks", runfile_stacks, METH_VARARGS,
     "_runfile_stacks(funcs, nodes, sites, strip_file, kept, /)\n--\n\n"
     "A run-file snapshot's stack tree and sites (their raw bytes) as the raw dict's frames and stacks, the\n"
     "recorder's bootstrap frames (strip_file's) cut. funcs: [(file, name)]; kept: {site index: (type, bytes)}."},
    {NULL, NULL, 0, NULL},
};

int tf_runfile_read_add(PyObject *m, tf_state *st) {
    (void)st;
    return PyModule_AddFunctions(m, runfile_read_methods);
}
