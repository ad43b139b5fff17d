/* The run file's Python API: _runfile_open/_write/_snapshot/_close/_status and _tracker_halt, for the doctor's
 * recorder (thrifty/doctor/child.py) and thrifty.watch (watching.py). Each argument is checked here; the writing is
 * runfile.c's (runfile_state.h has how the writer's files fit).
 */
#include "runfile_state.h" /* first: Python.h sets the POSIX feature macros */

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int write_record(int kind, const char *data, Py_ssize_t n) {
    int rc;
    tf_tracker_lock(); /* a snapshot from the hook on another thread must not interleave */
    pthread_mutex_lock(&File.mu);
    settle();
    rc = rec_begin() < 0 || rec_put(data, (size_t)n) < 0 ? -1 : rec_end(kind, File.snapshots);
    buffers_free();
    pthread_mutex_unlock(&File.mu);
    tf_tracker_unlock();
    return rc;
}

static PyObject *write_failed(void) {
    PyErr_SetString(PyExc_OSError, "thrifty run file: writing failed (disk full, or the file was closed)");
    return NULL;
}

static PyObject *runfile_open(PyObject *module, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"path", "meta", "interval", "max_bytes", NULL};
    PyObject *path;
    Py_buffer meta;
    double interval = 1.0;
    long long max_bytes = 0;
    uint8_t h[RUN_HEADER];
    (void)module;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&y*|dL:_runfile_open", kwlist, PyUnicode_FSConverter, &path, &meta,
                                     &interval, &max_bytes))
        return NULL;
    if (max_bytes != 0 && (max_bytes < 4096 || max_bytes > (long long)UINT32_MAX * 16)) {
        Py_DECREF(path);
        PyBuffer_Release(&meta);
        return PyErr_Format(PyExc_ValueError, "max_bytes must be 0 (unbounded) or between 4096 and 64 GiB, got %lld",
                            max_bytes);
    }
    if (!(interval >= 0.001 && interval <= 86400.0)) {
        Py_DECREF(path);
        PyBuffer_Release(&meta);
        return PyErr_Format(PyExc_ValueError, "interval must be between 0.001 and 86400 seconds, got %g", interval);
    }
    if (File.fd >= 0) {
        Py_DECREF(path);
        PyBuffer_Release(&meta);
        PyErr_SetString(PyExc_RuntimeError, "a run file is already open (one per process)");
        return NULL;
    }
    crc_init();
    if (max_bytes) {
        /* absolute: a target that changes directory must not make a compaction write somewhere else */
        size_t plen = (size_t)PyBytes_GET_SIZE(path), dlen = 0;
        char cwd[4096];
        if (PyBytes_AS_STRING(path)[0] != '/') {
            if (!getcwd(cwd, sizeof cwd)) {
                PyErr_SetFromErrno(PyExc_OSError);
                Py_DECREF(path);
                PyBuffer_Release(&meta);
                return NULL;
            }
            dlen = strlen(cwd) + 1u; /* and a '/' */
        }
        File.path = malloc(dlen + plen + 1u);
        if (!File.path) {
            Py_DECREF(path);
            PyBuffer_Release(&meta);
            return PyErr_NoMemory();
        }
        if (dlen) {
            memcpy(File.path, cwd, dlen - 1u);
            File.path[dlen - 1u] = '/';
        }
        memcpy(File.path + dlen, PyBytes_AS_STRING(path), plen + 1u);
        own(dlen + plen + 1u, 0);
        drop_stale_tmp();
    }
    /* read and write: a compaction reads the records it keeps back */
    File.fd = open(PyBytes_AS_STRING(path), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (File.fd < 0) {
        PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, path);
        Py_DECREF(path);
        PyBuffer_Release(&meta);
        index_free();
        return NULL;
    }
    Py_DECREF(path);
    File.max_bytes = (uint64_t)max_bytes;
    File.compactions = 0;
    File.stride = 1;
    File.recent = KEEP_RECENT;
    File.compact_failed = 0;
    File.off = 0;
    File.failed = 0;
    File.snapshots = 0;
    delta_reset(); /* the first snapshot of a file is full */
    File.last_cost_ns = File.max_cost_ns = 0;
    File.max_interval_ns = (uint64_t)(interval * 1e9);
    File.interval_ns = FIRST_INTERVAL_NS < File.max_interval_ns ? FIRST_INTERVAL_NS : File.max_interval_ns;
    File.next_due_ns = tf_now_ns() + File.interval_ns;
    rss_due_at(File.next_due_ns, 1);
    memcpy(h, RUN_MAGIC, 8);
    put_le(h + 8, RUN_VERSION, 2);
    put_le(h + 10, RUN_HEADER, 2);
    put_le(h + 12, 0, 4);
    if (write_all(h, RUN_HEADER) < 0 || write_record(REC_META, meta.buf, meta.len) < 0) {
        PyBuffer_Release(&meta);
        return write_failed();
    }
    PyBuffer_Release(&meta);
    writer_start();
    Py_RETURN_NONE;
}

static PyObject *runfile_write(PyObject *module, PyObject *args) {
    int kind;
    Py_buffer data;
    (void)module;
    if (!PyArg_ParseTuple(args, "iy*:_runfile_write", &kind, &data))
        return NULL;
    if (kind != REC_END && kind != REC_EVIDENCE) {
        PyBuffer_Release(&data);
        return PyErr_Format(PyExc_ValueError, "record kind must be %d (end) or %d (evidence), got %d", REC_END,
                            REC_EVIDENCE, kind);
    }
    if (File.fd < 0) {
        PyBuffer_Release(&data);
        Py_RETURN_FALSE; /* no run file here (a fork child): nothing to write, not an error */
    }
    if (write_record(kind, data.buf, data.len) < 0) {
        PyBuffer_Release(&data);
        return write_failed();
    }
    PyBuffer_Release(&data);
    Py_RETURN_TRUE;
}

static PyObject *runfile_snapshot(PyObject *module, PyObject *unused) {
    tf_tracker_view v;
    int rc = -1, have;
    (void)module;
    (void)unused;
    if (File.fd < 0)
        Py_RETURN_FALSE;
    tf_tracker_lock();
    pthread_mutex_lock(&File.mu);
    settle();
    have = tf_tracker_view_get(&v);
    if (have)
        rc = snapshot_now(&v);
    pthread_mutex_unlock(&File.mu);
    tf_tracker_unlock();
    if (!have) {
        PyErr_SetString(PyExc_RuntimeError, "no tracker run to snapshot");
        return NULL;
    }
    if (rc < 0)
        return write_failed();
    Py_RETURN_TRUE;
}

static PyObject *runfile_close(PyObject *module, PyObject *unused) {
    (void)module;
    (void)unused;
    /* without the GIL: nothing the writer waits for needs it, but a join should not hold up other threads */
    Py_BEGIN_ALLOW_THREADS;
    writer_end();
    Py_END_ALLOW_THREADS;
    tf_tracker_lock(); /* a snapshot the hook captured as the writer thread ended is written, not left past the end */
    pthread_mutex_lock(&File.mu);
    if (File.fd >= 0)
        settle();
    pthread_mutex_unlock(&File.mu);
    tf_tracker_unlock();
    tf_runfile_forget();
    Py_RETURN_NONE;
}

static PyObject *runfile_status(PyObject *module, PyObject *unused) {
    (void)module;
    (void)unused;
    return Py_BuildValue("{s:O,s:K,s:K,s:n,s:n,s:K,s:K,s:K}", "open", File.fd >= 0 ? Py_True : Py_False, "bytes",
                         (unsigned long long)File.off, "snapshots", (unsigned long long)File.snapshots, "writer_bytes",
                         (Py_ssize_t)File.own_bytes, "writer_peak_bytes", (Py_ssize_t)File.own_peak, "compactions",
                         (unsigned long long)File.compactions, "max_bytes", (unsigned long long)File.max_bytes,
                         "max_snapshot_ns", (unsigned long long)File.max_cost_ns);
}

static PyObject *tracker_halt(PyObject *module, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"keep_sites", NULL};
    int keep = 0;
    (void)module;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|$p:_tracker_halt", kwlist, &keep))
        return NULL;
    if (tf_tracker_halt(keep) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef runfile_methods[] = {
    {"_runfile_open", (PyCFunction)(void (*)(void))runfile_open, METH_VARARGS | METH_KEYWORDS,
     "_runfile_open(path, meta, interval=1.0, max_bytes=0)\n--\n\n"
     "Create the run file (truncating it), write its header and the meta record (bytes), and have the running\n"
     "tracker append snapshots to it at most every `interval` seconds. max_bytes > 0 bounds the file: past it,\n"
     "older snapshots are thinned (path must then stay valid: it is rewritten by rename). The doctor's recorder\n"
     "and thrifty watch call this."},
    {"_runfile_write", runfile_write, METH_VARARGS,
     "_runfile_write(kind, data) -> bool\n--\n\nAppend an end (3) or evidence (4) record; False when this process "
     "has no run file (a fork child)."},
    {"_runfile_snapshot", runfile_snapshot, METH_NOARGS,
     "Append a snapshot of the tracker's tables now; False when this process has no run file."},
    {"_runfile_close", runfile_close, METH_NOARGS, "Close the run file (nothing when none is open)."},
    {"_runfile_status", runfile_status, METH_NOARGS, "The run file writer's counters (bytes, snapshots, memory)."},
    {"_tracker_halt", (PyCFunction)(void (*)(void))tracker_halt, METH_VARARGS | METH_KEYWORDS,
     "_tracker_halt(*, keep_sites=False)\n--\n\n"
     "Stop the tracker run without building its result (the recorder has written it to the run file)."},
    {NULL, NULL, 0, NULL},
};

int tf_runfile_add(PyObject *m, tf_state *st) {
    (void)st;
    return PyModule_AddFunctions(m, runfile_methods);
}
