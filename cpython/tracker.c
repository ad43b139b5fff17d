/* The allocation tracker: a PyMem_SetAllocator hook on the RAW, MEM and OBJ domains that attributes every
 * allocation (exact mode) or a Poisson sample by bytes (sampled mode) to the Python stack that made it, and
 * aggregates per stack as it goes: live bytes, allocations, frees, bytes allocated, and live bytes at the peak.
 *
 * This file holds the Python-facing functions (start, stop and the run's result, site lookups, status) and the run
 * file's read-only view (tracker_tables.h); tracker_state.h lists the other files of the tracker and its state.
 *
 * Object sites (`_tracker_site_of`, for the doctor's findings): the live-block tables already map each traced block's
 * address to its stack, so the creating stack of an object is one lookup of its block (tf_object_block). During a
 * run the lookup takes the lock; `_tracker_stop(keep_sites=True)` leaves the block tables and the stack tree in place
 * (frozen: the hook no longer writes them) until `_tracker_release()` or the next start. Staleness rule: after stop,
 * an answer is right only for an object that was alive at stop — a block freed after stop keeps its entry, and a
 * new object at the same address would be given the old stack. Sampled mode holds only the sampled blocks.
 *
 * "Live at peak" without copying at every new peak: the peak has an epoch number; before a stack's live count
 * changes, if its saved copy is from an older epoch, the current value (unchanged since that peak) is saved. At
 * stop, a stack's value at the last peak is its saved copy when the epochs match, else its current value.
 */
#include "tracker_state.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- Python API ------------------------------------------------------------------------------------------------ */

/* Frees a stopped run's tables kept for site lookups; nothing when none are kept. Needs the GIL. */
static void release_kept(void) {
    if (!Run.kept)
        return;
    Run.kept = 0;
    release_run();
}

/* Set while _tracker_stop builds its result from the run's tables: building allocates, and a finalizer run by a
 * collection there must not start a new run (stop would then free the live run's tables) or release the tables
 * being read. */
static int stopping;

static PyObject *refuse_while_stopping(const char *what) {
    PyErr_Format(PyExc_RuntimeError,
                 "%s: the thrifty tracker is building the result of _tracker_stop() (called from a finalizer?); "
                 "call it after _tracker_stop() returns",
                 what);
    return NULL;
}

static PyObject *tracker_start(PyObject *module, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"sampled", "sample_rate", "max_depth", "max_memory", "root", NULL};
    int sampled = 0, max_depth = TF_DEFAULT_MAX_DEPTH;
    long long rate = TF_DEFAULT_SAMPLE_RATE, max_memory = 256ll * 1024 * 1024;
    PyObject *root = Py_None;
    (void)module;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|$pLiLO:_tracker_start", kwlist, &sampled, &rate, &max_depth,
                                     &max_memory, &root))
        return NULL;
    if (root != Py_None && !PyCode_Check(root)) {
        PyErr_Format(PyExc_TypeError, "root must be a code object or None, got %.100s", Py_TYPE(root)->tp_name);
        return NULL;
    }
    if (rate < 1) {
        PyErr_Format(PyExc_ValueError, "sample_rate must be a positive number of bytes, got %lld", rate);
        return NULL;
    }
    if (max_depth < 1 || max_depth > TF_MAX_DEPTH_LIMIT) {
        PyErr_Format(PyExc_ValueError, "max_depth must be between 1 and %d, got %d", TF_MAX_DEPTH_LIMIT, max_depth);
        return NULL;
    }
    if (max_memory < 65536) {
        PyErr_Format(PyExc_ValueError, "max_memory must be at least 65536 bytes, got %lld", max_memory);
        return NULL;
    }
    if (atomic_load(&Hook.tracing)) {
        PyErr_SetString(PyExc_RuntimeError, "the thrifty tracker is already running (one run at a time)");
        return NULL;
    }
    if (stopping)
        return refuse_while_stopping("_tracker_start");
    release_kept();
    {
        /* found before the lock: looking it up allocates */
        PyObject *code = tf_find_and_load_code(), *external;
        if (!code && PyErr_Occurred())
            return NULL;
        external = tf_importlib_external_file();
        if ((!external && PyErr_Occurred()) ||
            (!Frames.import_label && !(Frames.import_label = PyUnicode_InternFromString("<import>")))) {
            Py_XDECREF(code);
            Py_XDECREF(external);
            return NULL;
        }
        Py_XSETREF(Frames.import_code, code);
        Py_XSETREF(Frames.fold_files[0], code ? Py_NewRef(((PyCodeObject *)code)->co_filename) : NULL);
        Py_XSETREF(Frames.fold_files[1], external);
        Py_XSETREF(Frames.root_code, root == Py_None ? NULL : Py_NewRef(root));
    }
    lock_any();
    Run.sampled = sampled;
    Run.rate = (double)rate;
    Run.max_depth = max_depth;
    Run.max_memory = (size_t)max_memory;
    Totals.live = Totals.peak = 0;
    Totals.peak_epoch = 1;
    Totals.peak_blocks = Totals.peak_block_bytes = 0;
    Totals.peak_ns = Totals.allocs = Totals.frees = Totals.alloc_bytes = Totals.untracked = Totals.dropped_stacks =
        Totals.samples = 0;
    Run.rng = now_ns() | 1u;
    Run.run_id = Run.run_id + 1u >= TF_GATE_CLOSED ? 1u : Run.run_id + 1u; /* never 0 (a thread's first) nor closed */
    memset(Hook.sampled_count, 0, sizeof Hook.sampled_count);
    memset(Frames.lines, 0, sizeof Frames.lines);
    memset(Frames.recent, 0, sizeof Frames.recent);
    Totals.t0_ns = now_ns();
    Totals.ops = Totals.peak_clock_ops = 0;
    Totals.tick_every = sampled ? 1 : 64;
    Totals.tick_left = 1;
    tf_timeline_reset(&Totals.tl);
    Totals.timed_ns = Totals.timed_calls = 0;
    Tables.own_peak = Tables.own_bytes;
    tf_recorder_peak_reset();
    /* site 0: allocations with no Python frame, or made when the stack table was out of room */
    if (grow_array((void **)&Tables.sites, &Tables.sites_cap, sizeof(tf_site), 1) < 0) {
        unlock_any();
        return PyErr_NoMemory();
    }
    Tables.sites[0] = (tf_site){0};
    Tables.nsites = 1;
    /* node 0: the root every outermost frame hangs from */
    if (grow_array((void **)&Tables.nodes, &Tables.nodes_cap, sizeof(tf_node), 1) < 0) {
        unlock_any();
        return PyErr_NoMemory();
    }
    Tables.nodes[0] = (tf_node){0};
    Tables.nnodes = 1;
    if (sampled) {
        if (grow_array((void **)&Tables.links, &Tables.links_cap, sizeof(tf_nodelink), Tables.nodes_cap) < 0) {
            unlock_any();
            return PyErr_NoMemory();
        }
        Tables.links[0] = (tf_nodelink){0};
    }
    Tables.free_sites = Tables.free_nodes = Tables.nfree_sites = Tables.nfree_nodes = 0;
    Tables.recycled_sites = 0;
    own_add(fixed_bytes(), 0);
    atomic_store(&Hook.tracing, 1);
    update_free_check();
    unlock_any();
    hooks_install();
    Py_RETURN_NONE;
}

static PyObject *frame_tuple(const tf_node *f) {
    const tf_func *fn = &Tables.funcs[f->func];
    return Py_BuildValue("(OiO)", fn->file, f->line, fn->name);
}

/* Builds the raw result. Frames are deduplicated by (file, line, function) into one list; stacks refer to them by
 * index, outermost first (the order a flame graph draws). */
static PyObject *build_result(void) {
    PyObject *res = NULL, *frames = PyList_New(0), *index = PyDict_New(), *stacks = PyList_New(0), *timeline = NULL;
    /* node -> its frame's index (borrowed from `index`), filled on first use: nodes are shared by many stacks */
    PyObject **node_id = PyMem_Calloc(Tables.nnodes ? Tables.nnodes : 1u, sizeof(PyObject *));
    if (!frames || !index || !stacks || !node_id)
        goto error;
    for (uint32_t i = 0; i < Tables.nsites; i++) {
        tf_site *s = &Tables.sites[i];
        int64_t at_peak = s->at_peak_epoch == Totals.peak_epoch ? s->at_peak : s->live;
        PyObject *ids, *item;
        if (s->unused)
            continue;
        ids = PyTuple_New(s->depth);
        uint32_t node = s->leaf;
        if (!ids)
            goto error;
        for (uint32_t k = s->depth; k-- > 0; node = Tables.nodes[node].parent) {
            PyObject *ft, *id = node_id[node];
            if (id) {
                Py_INCREF(id);
                PyTuple_SET_ITEM(ids, k, id);
                continue;
            }
            ft = frame_tuple(&Tables.nodes[node]);
            if (!ft) {
                Py_DECREF(ids);
                goto error;
            }
            id = PyDict_GetItemWithError(index, ft);
            if (!id && !PyErr_Occurred()) {
                PyObject *n = PyLong_FromSsize_t(PyList_GET_SIZE(frames));
                if (!n || PyList_Append(frames, ft) < 0 || PyDict_SetItem(index, ft, n) < 0) {
                    Py_XDECREF(n);
                    Py_DECREF(ft);
                    Py_DECREF(ids);
                    goto error;
                }
                Py_DECREF(n);
                id = PyDict_GetItemWithError(index, ft);
            }
            Py_DECREF(ft);
            if (!id) {
                Py_DECREF(ids);
                goto error;
            }
            node_id[node] = id;
            Py_INCREF(id);
            PyTuple_SET_ITEM(ids, k, id);
        }
        item = Py_BuildValue("{s:N,s:O,s:L,s:L,s:K,s:K,s:K}", "frames", ids, "truncated",
                             s->truncated ? Py_True : Py_False, "live_at_peak", (long long)at_peak, "live_at_end",
                             (long long)s->live, "allocs", (unsigned long long)s->allocs, "frees",
                             (unsigned long long)s->frees, "alloc_bytes", (unsigned long long)s->alloc_bytes);
        if (!item || PyList_Append(stacks, item) < 0) {
            Py_XDECREF(item);
            goto error;
        }
        Py_DECREF(item);
    }
    timeline = PyList_New(Totals.tl.n);
    if (!timeline)
        goto error;
    for (uint32_t i = 0; i < Totals.tl.n; i++) {
        const tf_bucket *b = &Totals.tl.b[i];
        PyObject *pt = Py_BuildValue("(LLL)", (long long)b->t_ns, (long long)b->high, (long long)b->low);
        if (!pt)
            goto error;
        PyList_SET_ITEM(timeline, i, pt);
    }
    res = Py_BuildValue(
        "{s:s,s:L,s:i,s:L,s:L,s:L,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:N,s:N,s:N}", "mode",
        Run.sampled ? "sampled" : "exact", "sample_rate", (long long)Run.rate, "max_depth", Run.max_depth, "peak_bytes",
        (long long)Totals.peak, "live_bytes_at_end", (long long)Totals.live, "peak_time_ns", (long long)Totals.peak_ns,
        "allocs", (unsigned long long)Totals.allocs, "frees", (unsigned long long)Totals.frees, "alloc_bytes",
        (unsigned long long)Totals.alloc_bytes, "samples", (unsigned long long)Totals.samples, "untracked_allocs",
        (unsigned long long)Totals.untracked, "dropped_stacks", (unsigned long long)Totals.dropped_stacks,
        "recycled_stacks", (unsigned long long)Tables.recycled_sites, "tracker_bytes",
        (unsigned long long)Tables.own_bytes, "tracker_peak_bytes", (unsigned long long)Tables.own_peak, "duration_ns",
        (unsigned long long)(now_ns() - Totals.t0_ns), "overhead_ns_estimate", (unsigned long long)Totals.timed_ns,
        "live_blocks_at_peak", (unsigned long long)Totals.peak_blocks, "block_table_bytes_at_peak",
        (unsigned long long)Totals.peak_block_bytes, "frames", frames, "stacks", stacks, "timeline", timeline);
    Py_DECREF(index);
    PyMem_Free(node_id);
    return res;
error:
    PyMem_Free(node_id);
    Py_XDECREF(frames);
    Py_XDECREF(index);
    Py_XDECREF(stacks);
    Py_XDECREF(timeline);
    return NULL;
}

static PyObject *tracker_stop(PyObject *module, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"keep_sites", NULL};
    int keep = 0;
    PyObject *res;
    (void)module;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|$p:_tracker_stop", kwlist, &keep))
        return NULL;
    if (!atomic_load(&Hook.tracing)) {
        PyErr_SetString(PyExc_RuntimeError, "the thrifty tracker is not running");
        return NULL;
    }
    lock_any();
    atomic_store(&Hook.tracing, 0);
    update_free_check();
    unlock_any();
    /* Tables are frozen now (the hook no longer writes them), so building Python objects here is safe even though
     * that allocates. Kept before building: a collection the building triggers runs the doctor's gc callback, which
     * looks sites up. The run is released whether or not building succeeded, unless its sites are kept. */
    Run.kept = keep;
    stopping = 1;
    res = build_result();
    stopping = 0;
    if (!res)
        release_kept();
    if (!keep)
        release_run();
    hooks_maybe_uninstall();
    return res;
}

static PyObject *tracker_release(PyObject *module, PyObject *unused) {
    (void)module;
    (void)unused;
    if (stopping)
        return refuse_while_stopping("_tracker_release");
    release_kept();
    Py_RETURN_NONE;
}

/* Start of the allocation block holding obj: the GC header precedes a GC object, and on 3.11 a type with a managed
 * __dict__ (3.12: or managed weakref) has two more words of pre-header before that. */
uintptr_t tf_object_block(PyObject *obj) {
    PyTypeObject *t = Py_TYPE(obj);
    size_t pre = PyObject_IS_GC(obj) ? 2 * sizeof(void *) : 0; /* PyGC_Head: two words (internal header on 3.11) */
    if (PyType_HasFeature(t, Py_TPFLAGS_MANAGED_DICT)
#ifdef Py_TPFLAGS_MANAGED_WEAKREF
        || PyType_HasFeature(t, Py_TPFLAGS_MANAGED_WEAKREF)
#endif
    )
        pre += 2 * sizeof(void *);
    return (uintptr_t)obj - pre;
}

typedef struct {
    PyObject *file; /* a reference taken under the lock: building the result can run a collection whose gc callback
                     * could release the run, and with it the node's own reference */
    int line;
} tf_site_frame;

/* The site of the block at a (0: none, or one with no frame), the lock held: the live-block tables while tracing,
 * or those a stop kept. */
static uint32_t block_site(uintptr_t a) {
    uint32_t site = UINT32_MAX;
    uint64_t v;
    if (!atomic_load(&Hook.tracing) && !Run.kept)
        return 0;
    if (Tables.pblocks.mem && !(a & ((1u << TF_PACK_SHIFT) - 1u)) &&
        tf_packtable_get(&Tables.pblocks.t, (uint64_t)(a >> TF_PACK_SHIFT), &v))
        site = unpack_site(v);
    else if (Tables.blocks.mem && tf_sitetable_get(&Tables.blocks.t, (uint64_t)a, &v))
        site = (uint32_t)(v >> TF_SIZE_BITS);
    if (site == 0 || site >= Tables.nsites || Tables.sites[site].depth == 0 || Tables.sites[site].leaf == 0)
        return 0;
    return site;
}

static PyObject *site_of_block(uintptr_t a) {
    tf_site_frame fr[TF_MAX_DEPTH_LIMIT];
    uint32_t n = 0, site;
    PyObject *res;
    /* Inside this thread's own hook (the lock may be held, e.g. by a collection something under the hook started,
     * whose gc callback looks sites up) there is no safe answer; a spin on our own lock would never end. */
    if (tl.busy)
        Py_RETURN_NONE;
    /* copy the stack out under the lock, build the tuples after: allocating while holding the lock would deadlock
     * with the hook on another thread, and this thread's hook would record the tuples as the run's allocations */
    lock_any();
    site = block_site(a);
    if (site != 0) {
        uint32_t node = Tables.sites[site].leaf;
        for (n = 0; n < Tables.sites[site].depth && node != 0; n++, node = Tables.nodes[node].parent) {
            fr[n] = (tf_site_frame){Tables.funcs[Tables.nodes[node].func].file, Tables.nodes[node].line};
            Py_XINCREF(fr[n].file); /* no allocation: safe under the lock (the caller holds the GIL) */
        }
    }
    unlock_any();
    if (n == 0)
        Py_RETURN_NONE;
    res = PyTuple_New((Py_ssize_t)n);
    for (uint32_t i = 0; res && i < n; i++) {
        PyObject *item = Py_BuildValue("(Oi)", fr[i].file ? fr[i].file : Py_None, fr[i].line);
        if (!item)
            Py_CLEAR(res);
        else
            PyTuple_SET_ITEM(res, (Py_ssize_t)i, item);
    }
    for (uint32_t i = 0; i < n; i++)
        Py_XDECREF(fr[i].file);
    return res;
}

static PyObject *tracker_site_of(PyObject *module, PyObject *obj) {
    (void)module;
    return site_of_block(tf_object_block(obj));
}

/* _tracker_site_keys(objects) -> (generation, [key or None, ...]): for each object, the tracker site that allocated
 * it (an int), or None where _tracker_site_of gives None. Within one generation (a run, between two reclaims of its
 * stack table) a key stands for one stack, so a caller that asks for the sites of many objects (the cycle probe:
 * thousands at each collection, from a few stacks) builds the stack tuple of each key once, not of each object. */
static PyObject *tracker_site_keys(PyObject *module, PyObject *objects) {
    Py_ssize_t n;
    uint32_t *sites;
    unsigned long long run, recycled;
    PyObject *keys, *res;
    (void)module;
    if (!PyList_CheckExact(objects)) {
        PyErr_Format(PyExc_TypeError, "_tracker_site_keys: expected a list, got %.100s", Py_TYPE(objects)->tp_name);
        return NULL;
    }
    n = PyList_GET_SIZE(objects);
    /* libc's allocator, not Python's: the hook must not see it, and it is taken before the lock */
    sites = malloc((size_t)(n ? n : 1) * sizeof *sites);
    if (!sites)
        return PyErr_NoMemory();
    /* blocks from the objects first (no Python code runs, the list cannot change), then their sites under the lock */
    for (Py_ssize_t i = 0; i < n; i++)
        sites[i] = (uint32_t)0;
    if (!tl.busy) {
        uintptr_t a;
        lock_any();
        for (Py_ssize_t i = 0; i < n; i++) {
            a = tf_object_block(PyList_GET_ITEM(objects, i));
            sites[i] = block_site(a);
        }
        run = Run.run_id;
        recycled = Tables.recycled_sites;
        unlock_any();
    } else {
        run = recycled = 0;
    }
    keys = PyList_New(n);
    for (Py_ssize_t i = 0; keys && i < n; i++) {
        PyObject *k = sites[i] ? PyLong_FromUnsignedLong(sites[i]) : Py_NewRef(Py_None);
        if (!k)
            Py_CLEAR(keys);
        else
            PyList_SET_ITEM(keys, i, k);
    }
    free(sites);
    if (!keys)
        return NULL;
    res = Py_BuildValue("((KK)N)", run, recycled, keys);
    return res;
}

/* The same for a block that is not an object: a list's item array, whose site is where the list last grew. */
static PyObject *tracker_site_at(PyObject *module, PyObject *address) {
    (void)module;
    void *a = PyLong_AsVoidPtr(address);
    if (!a && PyErr_Occurred())
        return NULL;
    return site_of_block((uintptr_t)a);
}

static PyObject *tracker_status(PyObject *module, PyObject *unused) {
    int tracing;
    long long live, peak;
    unsigned long long allocs, own;
    (void)module;
    (void)unused;
    /* copied under the lock, built after: Py_BuildValue allocates, and during a run this thread's hook would spin
     * on the lock it already holds */
    lock_any();
    tracing = atomic_load(&Hook.tracing);
    live = (long long)Totals.live;
    peak = (long long)Totals.peak;
    allocs = (unsigned long long)Totals.allocs;
    own = (unsigned long long)Tables.own_bytes;
    unlock_any();
    /* frame_walk: how stacks are read; "interpreter frames" (compat.h's accessors, no frame objects made) is the one
     * way on every version this builds for, and the tests assert it. lock: how a GIL holder takes the tracker's lock
     * (tracker_state.h): "gil" (no atomic exchange; membarrier registered) or "spin" */
    return Py_BuildValue("{s:O,s:L,s:L,s:K,s:K,s:s,s:s}", "tracing", tracing ? Py_True : Py_False, "live_bytes", live,
                         "peak_bytes", peak, "allocs", allocs, "tracker_bytes", own, "frame_walk", "interpreter frames",
                         "lock", Hook.asym ? "gil" : "spin");
}

/* The doctor's own Python code that runs inside the target's process while it is traced (the findings' gc callback
 * recording the cycles a collection found) allocates for the doctor, not for the target: with the flag set, this
 * thread's allocations are not recorded (its frees are), so that memory is in neither the peak nor the end figures,
 * as it is in no figure of the program run under plain python. Per thread; returns the previous setting. */
static PyObject *tracker_own(PyObject *module, PyObject *flag) {
    int on = PyObject_IsTrue(flag), was = tl.own;
    (void)module;
    if (on < 0)
        return NULL;
    tl.own = on;
    return PyBool_FromLong(was);
}

static PyObject *hook_installed(PyObject *module, PyObject *unused) {
    (void)module;
    (void)unused;
    return PyBool_FromLong(Hook.installed);
}

static PyMethodDef tracker_methods[] = {
    {"_tracker_start", (PyCFunction)(void (*)(void))tracker_start, METH_VARARGS | METH_KEYWORDS,
     "_tracker_start(*, sampled=False, sample_rate=131072, max_depth=64, max_memory=268435456, root=None)\n--\n\n"
     "Install the allocation hook and start a tracker run (one at a time). Use thrifty.doctor, not this.\n"
     "root: the code object of the frame that runs the program (the recorder's): stacks stop there."},
    {"_tracker_stop", (PyCFunction)(void (*)(void))tracker_stop, METH_VARARGS | METH_KEYWORDS,
     "_tracker_stop(*, keep_sites=False)\n--\n\n"
     "Stop the run, remove the hook when unused, and return the run's aggregated tables as plain data. With\n"
     "keep_sites=True the live-block tables and stacks stay for _tracker_site_of until _tracker_release()."},
    {"_tracker_release", tracker_release, METH_NOARGS,
     "Free the tables a _tracker_stop(keep_sites=True) kept (nothing when none are kept)."},
    {"_tracker_site_at", tracker_site_at, METH_O,
     "_tracker_site_at(address) -> ((filename, lineno), ...) or None: _tracker_site_of for a block by its address."},
    {"_tracker_site_of", tracker_site_of, METH_O,
     "_tracker_site_of(obj) -> ((filename, lineno), ...) most recent first: the stack that allocated obj, or None.\n"
     "While tracing, or after _tracker_stop(keep_sites=True) for objects that were alive at stop."},
    {"_tracker_site_keys", tracker_site_keys, METH_O,
     "_tracker_site_keys(objects) -> (generation, [key or None]): the tracker site of each object of a list; within a\n"
     "generation, objects of one key have one _tracker_site_of."},
    {"_tracker_status", tracker_status, METH_NOARGS, "Current totals of the running tracker (live, peak, allocs)."},
    {"_tracker_own", tracker_own, METH_O,
     "_tracker_own(flag) -> previous flag: while true, this thread's allocations are the doctor's own and are not\n"
     "recorded (its frees still are). The findings' probes set it around their bookkeeping in the target's process."},
    {"_hook_installed", hook_installed, METH_NOARGS, "True while thrifty's allocation hook is installed."},
    {NULL, NULL, 0, NULL},
};

/* A child forked while another thread held the lock would wait for it forever: the child has only the forking
 * thread, so it releases the lock, and stops tracing (subprocesses are not followed; its run result is never
 * collected). Guards of the forking thread keep working in the child. */
static void after_fork_child(void) {
    tf_runfile_forget();
    atomic_flag_clear(&Hook.lock);
    /* and the lock's two kinds: the child is one thread (and membarrier's registration is the parent's) */
    Hook.asym = 0;
    atomic_store(&Hook.others, 0);
    atomic_store(&Hook.gil_in, 0);
    atomic_store(&Hook.tracing, 0);
    update_free_check();
}

/* ---- the run file's view (tracker_tables.h) ------------------------------------------------------------------- */

void tf_tracker_lock(void) { lock_any(); }
void tf_tracker_unlock(void) { unlock_any(); }
uint64_t tf_now_ns(void) { return now_ns(); }

int tf_tracker_view_get(tf_tracker_view *v) {
    if (!atomic_load(&Hook.tracing) && !Run.kept)
        return 0;
    *v = (tf_tracker_view){.tracing = atomic_load(&Hook.tracing),
                           .sampled = Run.sampled,
                           .rate = Run.rate,
                           .max_depth = Run.max_depth,
                           .funcs = Tables.funcs,
                           .nfuncs = Tables.nfuncs,
                           .forder = Run.sampled ? Tables.forder : NULL,
                           .nodes = Tables.nodes,
                           .nnodes = Tables.nnodes,
                           .sites = Tables.sites,
                           .nsites = Tables.nsites,
                           .peak_epoch = Totals.peak_epoch,
                           .timeline = &Totals.tl,
                           .live = Totals.live,
                           .peak = Totals.peak,
                           .peak_ns = Totals.peak_ns,
                           .allocs = Totals.allocs,
                           .frees = Totals.frees,
                           .alloc_bytes = Totals.alloc_bytes,
                           .untracked = Totals.untracked,
                           .dropped_stacks = Totals.dropped_stacks,
                           .samples = Totals.samples,
                           .recycled_sites = Tables.recycled_sites,
                           .own_bytes = Tables.own_bytes,
                           .own_peak = Tables.own_peak,
                           .t0_ns = Totals.t0_ns,
                           .timed_ns = Totals.timed_ns,
                           .ops = Totals.ops};
    return 1;
}

uint32_t tf_tracker_live_blocks(void) { return live_blocks(); }

void tf_tracker_each_block(tf_block_fn fn, void *ctx, uint32_t limit) {
    uint64_t key, v;
    uint32_t cursor = 0, np = Tables.pblocks.mem ? tf_packtable_count(&Tables.pblocks.t) : 0u;
    uint32_t nb = Tables.blocks.mem ? tf_sitetable_count(&Tables.blocks.t) : 0u, n = np + nb;
    /* past the limit, the first blocks of each table in slot order: slots follow a hash of the address, so they are a
     * random sample of the table's blocks, and each stands for count/taken of them */
    uint32_t take_p = n > limit ? (uint32_t)((uint64_t)limit * np / n) : np, take_b = n > limit ? limit - take_p : nb;
    double scale_p = take_p ? (double)np / take_p : 1.0, scale_b = take_b ? (double)nb / take_b : 1.0;
    for (uint32_t i = 0; i < take_p && tf_packtable_next(&Tables.pblocks.t, &cursor, &key, &v); i++) {
        uint32_t site = unpack_site(v);
        uint64_t size = v & TF_PACK_SMALL ? ((v >> 11) & (TF_PACK_SMALL_SIZE - 1u)) + 1u
                                          : (site < Tables.nsites ? Tables.sites[site].size0 : 0u);
        int64_t bytes = (int64_t)size, count = 1;
        if (Run.sampled)
            sample_weights(size, &bytes, &count);
        fn(ctx, (uintptr_t)(key << TF_PACK_SHIFT), size, (uint64_t)tf_round_nonneg((double)bytes * scale_p), site);
    }
    cursor = 0;
    for (uint32_t i = 0; i < take_b && tf_sitetable_next(&Tables.blocks.t, &cursor, &key, &v); i++) {
        uint64_t size = v & TF_SIZE_MASK;
        int64_t bytes = (int64_t)size, count = 1;
        if (Run.sampled)
            sample_weights(size, &bytes, &count);
        fn(ctx, (uintptr_t)key, size, (uint64_t)tf_round_nonneg((double)bytes * scale_b),
           (uint32_t)(v >> TF_SIZE_BITS));
    }
}

int tf_tracker_halt(int keep) {
    if (!atomic_load(&Hook.tracing)) {
        PyErr_SetString(PyExc_RuntimeError, "the thrifty tracker is not running");
        return -1;
    }
    lock_any();
    atomic_store(&Hook.tracing, 0);
    update_free_check();
    unlock_any();
    Run.kept = keep;
    if (!keep)
        release_run();
    hooks_maybe_uninstall();
    return 0;
}

int tf_tracker_add(PyObject *m, tf_state *st) {
    static int atfork_registered;
    (void)st;
    if (!atfork_registered) {
        if (pthread_atfork(NULL, NULL, after_fork_child) != 0) {
            PyErr_SetString(PyExc_OSError, "thrifty tracker: pthread_atfork failed");
            return -1;
        }
        atfork_registered = 1;
        tf_lock_setup();
    }
    /* the defaults the Python side (CLI, tracer) offers, from here rather than repeated there */
    if (PyModule_AddIntConstant(m, "TRACKER_MAX_DEPTH", TF_DEFAULT_MAX_DEPTH) < 0 ||
        PyModule_AddIntConstant(m, "TRACKER_MAX_DEPTH_LIMIT", TF_MAX_DEPTH_LIMIT) < 0 ||
        PyModule_AddIntConstant(m, "TRACKER_SAMPLE_RATE", TF_DEFAULT_SAMPLE_RATE) < 0)
        return -1;
    return PyModule_AddFunctions(m, tracker_methods);
}
