/* The recorder ends with the doctor that started it. The doctor (the parent) passes SIGINT, SIGTERM and the other
 * stop signals on to the recorder and waits for it, so it outlives the recorder on every ordinary end; only a
 * SIGKILL (or a crash) of the parent leaves the recorder alone, and with it the target, running with nobody to read
 * its run or stop it. Linux tells a process of its parent's death (PR_SET_PDEATHSIG); elsewhere nothing is set.
 *
 * The signal is SIGKILL: the parent was ended without its say, and the target must not outlive it by handling or
 * ignoring a gentler signal (SIGTERM, which many services catch); the run file stays valid after a SIGKILL as after
 * any end (its records are committed header last), so a kept --out file reads up to the last snapshot. */
#include "thrifty_ext.h"

#include <signal.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

/* _recorder_die_with_parent(parent_pid): have the kernel SIGKILL this process when its parent dies. When the parent
 * is gone already (this process was re-parented before the call: getppid() is no longer `parent_pid`), it dies
 * now, as it would have. Returns True when set, False where the platform has no such notice. The notice belongs to
 * the parent's thread that started this process, which, in the doctor, waits for it: call it once, early. */
static PyObject *die_with_parent(PyObject *module, PyObject *arg) {
    long parent;
    (void)module;
    if (!PyLong_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "parent_pid must be an int, not %.100s", Py_TYPE(arg)->tp_name);
        return NULL;
    }
    parent = PyLong_AsLong(arg);
    if (parent == -1 && PyErr_Occurred())
        return NULL;
    if (parent <= 0 || (long)(pid_t)parent != parent) {
        PyErr_Format(PyExc_ValueError, "parent_pid must be a process id (a positive int), got %ld", parent);
        return NULL;
    }
#ifdef __linux__
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
        return PyErr_SetFromErrno(PyExc_OSError);
    /* the parent may have died between our fork and the prctl: the notice is then never sent */
    if (getppid() != (pid_t)parent)
        kill(getpid(), SIGKILL);
    Py_RETURN_TRUE;
#else
    Py_RETURN_FALSE;
#endif
}

static PyMethodDef parentdeath_methods[] = {
    {"_recorder_die_with_parent", die_with_parent, METH_O,
     "_recorder_die_with_parent(parent_pid, /) -> bool\n--\n\n"
     "End this process by SIGKILL when its parent (parent_pid) dies, now if it is gone already (Linux).\n"
     "False where the platform cannot tell a process of its parent's death."},
    {NULL, NULL, 0, NULL},
};

int tf_parentdeath_add(PyObject *m, tf_state *st) {
    (void)st;
    return PyModule_AddFunctions(m, parentdeath_methods);
}
