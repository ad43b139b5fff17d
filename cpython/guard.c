/* thrifty._ext._Guard: the object behind thrifty.budget(), count_allocs() and no_alloc().
 *
 * Entering links a tf_guard_node into the thread's guard stack (tracker.h), which makes the allocation hook count
 * this thread's allocations for it and, for budget/no_alloc, refuse the first allocation that breaks it — the
 * allocation fails as it would on a device, so CPython raises MemoryError at the exact line. Leaving turns that
 * MemoryError (or, when the code swallowed it, nothing) into BudgetExceeded / AllocationError naming the limit and
 * the site. Sizes are parsed in Python (thrifty/guards.py); this type takes bytes.
 *
 * A guard entered inside a generator or coroutine belongs to that code: while it is suspended at a yield or an await,
 * what runs meanwhile on the thread (other tasks, the generator's consumer) is neither counted nor refused.
 * Someone else may remove the allocation hook while a guard relies on it (tracemalloc.stop() restores the
 * allocators tracemalloc saw); entering a guard installs it again, and leaving one raises RuntimeError when the hook
 * went missing meanwhile, because the numbers (and the budget) then miss allocations.
 */
#include "tracker.h"

typedef struct {
    PyObject_HEAD tf_guard_node node;
    int active;
} tf_guard;

static PyObject *guard_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"kind", "limit", NULL};
    int kind = TF_GUARD_COUNT;
    long long limit = 0;
    tf_guard *self;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "i|L:_Guard", kwlist, &kind, &limit))
        return NULL;
    if (kind < TF_GUARD_COUNT || kind > TF_GUARD_NOALLOC) {
        PyErr_Format(PyExc_ValueError, "_Guard kind must be 0 (count), 1 (budget) or 2 (no_alloc), got %d", kind);
        return NULL;
    }
    if (limit < 0) {
        PyErr_Format(PyExc_ValueError, "a budget must be >= 0 bytes, got %lld", limit);
        return NULL;
    }
    self = (tf_guard *)type->tp_alloc(type, 0);
    if (!self)
        return NULL;
    self->node.kind = kind;
    self->node.limit = limit;
    return (PyObject *)self;
}

static void guard_dealloc(tf_guard *self) {
    PyTypeObject *tp = Py_TYPE(self);
    Py_CLEAR(self->node.trip_code);
    Py_CLEAR(self->node.gen);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyObject *guard_enter(tf_guard *self, PyObject *unused) {
    (void)unused;
    if (self->active) {
        PyErr_SetString(PyExc_RuntimeError, "this guard is already active; create a new one to nest");
        return NULL;
    }
    /* Reusable: each entry starts from zero. */
    int kind = self->node.kind;
    int64_t limit = self->node.limit;
    Py_CLEAR(self->node.trip_code);
    Py_CLEAR(self->node.gen);
    memset(&self->node, 0, sizeof self->node);
    self->node.kind = kind;
    self->node.limit = limit;
    PyFrameObject *frame = PyEval_GetFrame(); /* borrowed: the frame running the `with` */
    PyObject *gen = frame ? PyFrame_GetGenerator(frame) : NULL;
    if (gen == Py_None) /* CPython 3.14 answers None, not NULL, for a frame no generator owns */
        Py_CLEAR(gen);
    if (gen != NULL && !TF_GEN_STATE) {
        Py_DECREF(gen);
        PyErr_SetString(PyExc_RuntimeError, "thrifty guards inside a generator or coroutine need CPython 3.11 or "
                                            "3.12 (they follow its suspensions); enter the guard in a plain function");
        return NULL;
    }
    if (tf_guard_push(&self->node) < 0) {
        Py_XDECREF(gen);
        return NULL;
    }
    self->node.gen = gen; /* read by the hook only once the node is linked, under the GIL that entered it */
    self->active = 1;
    Py_INCREF(self); /* the thread's guard stack points at us until exit */
    return Py_NewRef(self);
}

/* "at app.py:12 in main (in json/decoder.py:353)" for the refused allocation: the innermost frame of the user's
 * code on the exception's way out, with the frame that allocated beside it, named by the one function every report
 * uses (thrifty.doctor.usercode.guard_site); "at file.py:12 in func" when that cannot be had, or an explanation when
 * no Python frame made it. */
static PyObject *trip_site(tf_guard *self, PyObject *ev) {
    PyCodeObject *code = (PyCodeObject *)self->node.trip_code;
    if (!code)
        return PyUnicode_FromString("in C code without a Python frame");
    int line = PyCode_Addr2Line(code, self->node.trip_lasti * 2);
    PyObject *tb = ev != Py_None ? PyException_GetTraceback(ev) : NULL;
    if (tb) {
        PyObject *mod = PyImport_ImportModule("thrifty.doctor.usercode"), *named = NULL;
        if (mod) {
            named = PyObject_CallMethod(mod, "guard_site", "OOiO", tb, code->co_filename, line, code->co_qualname);
            Py_DECREF(mod);
        }
        Py_DECREF(tb);
        if (named && PyUnicode_Check(named))
            return named;
        Py_XDECREF(named);
        PyErr_Clear(); /* naming is best effort: the plain innermost frame below is always right */
    }
    return PyUnicode_FromFormat("at %U:%d in %U", code->co_filename, line, code->co_qualname);
}

static PyObject *guard_exit(tf_guard *self, PyObject *const *args, Py_ssize_t nargs) {
    PyObject *ev = nargs >= 2 ? args[1] : Py_None, *exc_type, *site, *msg, *exc;
    tf_state *st = tf_state_of((PyObject *)self);
    if (!self->active) {
        PyErr_SetString(PyExc_RuntimeError, "this guard is not active");
        return NULL;
    }
    int lost = tf_hook_losses() != self->node.hook_losses;
    if (tf_guard_pop(&self->node) < 0)
        return NULL;
    self->active = 0;
    Py_CLEAR(self->node.gen);
    Py_DECREF(self); /* the stack's reference; the caller still holds one */
    if (lost) {
        static const char *names[] = {"count_allocs()", "budget()", "no_alloc()"};
        PyErr_Format(PyExc_RuntimeError,
                     "thrifty.%s: the allocation hook was removed while the block ran, so allocations after that "
                     "were not seen (nor refused). tracemalloc.stop() does this when tracemalloc was started before "
                     "the block: start or stop tracemalloc outside the block, not across it",
                     names[self->node.kind]);
        return NULL; /* an exception leaving the block becomes its __context__, as for any __exit__ that raises */
    }
    if (!self->node.tripped || self->node.kind == TF_GUARD_COUNT)
        Py_RETURN_FALSE;
    exc_type = self->node.kind == TF_GUARD_BUDGET ? st->BudgetExceeded : st->AllocationError;
    /* An exception other than the allocation failure is left alone; ours is not wrapped twice. */
    if (ev != Py_None &&
        (!PyErr_GivenExceptionMatches(ev, PyExc_MemoryError) || PyErr_GivenExceptionMatches(ev, st->BudgetExceeded) ||
         PyErr_GivenExceptionMatches(ev, st->AllocationError)))
        Py_RETURN_FALSE;
    site = trip_site(self, ev);
    if (!site)
        return NULL;
    if (self->node.kind == TF_GUARD_BUDGET)
        msg = PyUnicode_FromFormat("memory budget of %lld bytes exceeded %U: allocating %lld bytes with %lld bytes "
                                   "already live inside the budget block",
                                   (long long)self->node.limit, site, (long long)self->node.trip_size,
                                   (long long)self->node.trip_live);
    else
        msg = PyUnicode_FromFormat("allocation of %lld bytes inside thrifty.no_alloc() %U",
                                   (long long)self->node.trip_size, site);
    Py_DECREF(site);
    if (!msg)
        return NULL;
    exc = PyObject_CallOneArg(exc_type, msg);
    Py_DECREF(msg);
    if (!exc)
        return NULL;
    if (ev != Py_None)
        PyException_SetCause(exc, Py_NewRef(ev));
    PyErr_SetObject(exc_type, exc);
    Py_DECREF(exc);
    return NULL;
}

#define GETTER(name, expr)                                                                                             \
    static PyObject *guard_get_##name(tf_guard *self, void *closure) {                                                 \
        (void)closure;                                                                                                 \
        return PyLong_FromLongLong((long long)(expr));                                                                 \
    }
GETTER(blocks, self->node.blocks)
GETTER(bytes, self->node.bytes)
GETTER(freed, self->node.freed)
GETTER(peak, self->node.peak)
GETTER(live, self->node.live)
GETTER(limit, self->node.limit)
GETTER(kind, self->node.kind)

static PyObject *guard_get_tripped(tf_guard *self, void *closure) {
    (void)closure;
    return PyBool_FromLong(self->node.tripped);
}

static PyObject *guard_get_active(tf_guard *self, void *closure) {
    (void)closure;
    return PyBool_FromLong(self->active);
}

static PyGetSetDef guard_getset[] = {
    {"blocks", (getter)guard_get_blocks, NULL, "allocations made inside the block", NULL},
    {"bytes", (getter)guard_get_bytes, NULL, "bytes allocated inside the block", NULL},
    {"freed", (getter)guard_get_freed, NULL, "bytes of blocks allocated inside and freed inside", NULL},
    {"peak", (getter)guard_get_peak, NULL, "highest live bytes (allocated inside, not yet freed) during the block",
     NULL},
    {"live", (getter)guard_get_live, NULL, "bytes allocated inside and not freed", NULL},
    {"limit", (getter)guard_get_limit, NULL, "the budget in bytes (0 for count_allocs/no_alloc)", NULL},
    {"kind", (getter)guard_get_kind, NULL, "0 count_allocs, 1 budget, 2 no_alloc", NULL},
    {"tripped", (getter)guard_get_tripped, NULL, "True when an allocation was refused", NULL},
    {"active", (getter)guard_get_active, NULL, "True between enter and exit", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyObject *guard_repr(tf_guard *self) {
    static const char *names[] = {"count_allocs", "budget", "no_alloc"};
    return PyUnicode_FromFormat("<thrifty.%s blocks=%llu bytes=%llu freed=%llu peak=%lld>", names[self->node.kind],
                                (unsigned long long)self->node.blocks, (unsigned long long)self->node.bytes,
                                (unsigned long long)self->node.freed, (long long)self->node.peak);
}

static PyMethodDef guard_methods[] = {
    {"__enter__", (PyCFunction)guard_enter, METH_NOARGS, "Start counting (and guarding) this thread's allocations."},
    {"__exit__", (PyCFunction)(void (*)(void))guard_exit, METH_FASTCALL,
     "Stop; raise BudgetExceeded/AllocationError when an allocation was refused."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot guard_slots[] = {
    {Py_tp_new, guard_new},
    {Py_tp_dealloc, guard_dealloc},
    {Py_tp_methods, guard_methods},
    {Py_tp_getset, guard_getset},
    {Py_tp_repr, guard_repr},
    {Py_tp_doc, "_Guard(kind, limit=0): the context manager behind thrifty.budget(), count_allocs() and "
                "no_alloc(). Create it through those functions."},
    {0, NULL},
};

static PyType_Spec guard_spec = {
    .name = "thrifty._ext._Guard",
    .basicsize = sizeof(tf_guard),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = guard_slots,
};

int tf_guard_add(PyObject *m, tf_state *st) {
    st->Guard = PyType_FromModuleAndSpec(m, &guard_spec, NULL);
    if (!st->Guard)
        return -1;
    if (PyModule_AddIntConstant(m, "GUARD_COUNT", TF_GUARD_COUNT) < 0 ||
        PyModule_AddIntConstant(m, "GUARD_BUDGET", TF_GUARD_BUDGET) < 0 ||
        PyModule_AddIntConstant(m, "GUARD_NOALLOC", TF_GUARD_NOALLOC) < 0)
        return -1;
    return PyModule_AddObjectRef(m, "_Guard", st->Guard);
}
