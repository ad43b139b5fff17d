/* Test helper for tests/test_tracker.py::test_realloc_free_and_alloc_are_one_step, compiled by that test.
 *
 * A RAW-domain allocator installed under the tracker's hook (it becomes the hook's "previous" allocator) that forces
 * the one interleaving a realloc must survive: thread A reallocates a block and the block moves; the moment the
 * allocator has let go of the old address, thread B is handed that same address by its own PyMem_RawMalloc. A's
 * realloc does not return until B's PyMem_RawMalloc has returned (hook included), or, when B cannot get that far
 * because the tracker makes it wait for A, until a timeout. Both threads run without the GIL, as RAW callers may.
 * Whatever the tracker's locking, each block must end up recorded as freed once: live bytes return to where they
 * were. Only the two helper threads are ever diverted; every other call goes straight to the original allocator. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#define RACE_BIG ((size_t)1 << 20) /* large, so a lost entry stands out from the interpreter's own noise */

enum { IDLE, GO, STASHED, TAKEN, DONE };

static PyMemAllocatorEx orig;
static atomic_int phase;
static atomic_int waited_out;
static void *stash;
static pthread_t thread_a, thread_b;

static void nap(void) {
    struct timespec ts = {0, 100000};
    nanosleep(&ts, NULL);
}

static void *w_malloc(void *ctx, size_t n) {
    (void)ctx;
    if (atomic_load(&phase) == STASHED && pthread_equal(pthread_self(), thread_b) && n <= RACE_BIG) {
        void *p = stash;
        stash = NULL;
        return p; /* the address A's realloc just gave up */
    }
    return orig.malloc(orig.ctx, n);
}

static void *w_calloc(void *ctx, size_t nelem, size_t elsize) {
    (void)ctx;
    return orig.calloc(orig.ctx, nelem, elsize);
}

static void *w_realloc(void *ctx, void *p, size_t n) {
    (void)ctx;
    if (atomic_load(&phase) == GO && pthread_equal(pthread_self(), thread_a) && p && n > RACE_BIG) {
        /* move the block: the old one is not returned to the allocator but kept for B, which is what an
         * allocator that reuses a freed address at once does */
        void *q = orig.malloc(orig.ctx, n);
        if (!q)
            return NULL;
        memcpy(q, p, RACE_BIG);
        stash = p;
        atomic_store(&phase, STASHED);
        for (int i = 0; i < 10000 && atomic_load(&phase) != TAKEN; i++) /* up to ~1 s */
            nap();
        if (atomic_load(&phase) != TAKEN)
            atomic_store(&waited_out, 1);
        return q;
    }
    return orig.realloc(orig.ctx, p, n);
}

static void w_free(void *ctx, void *p) {
    (void)ctx;
    orig.free(orig.ctx, p);
}

static void *run_a(void *arg) {
    (void)arg;
    while (atomic_load(&phase) != GO)
        nap();
    void *p = PyMem_RawMalloc(RACE_BIG);
    void *q = p ? PyMem_RawRealloc(p, 2 * RACE_BIG) : NULL;
    atomic_store(&phase, DONE);
    PyMem_RawFree(q ? q : p);
    return NULL;
}

static void *run_b(void *arg) {
    (void)arg;
    while (atomic_load(&phase) != STASHED && atomic_load(&phase) != DONE)
        nap();
    if (atomic_load(&phase) == DONE)
        return NULL;
    void *r = PyMem_RawMalloc(RACE_BIG);
    if (atomic_load(&phase) == STASHED)
        atomic_store(&phase, TAKEN);
    while (atomic_load(&phase) != DONE)
        nap();
    PyMem_RawFree(r);
    return NULL;
}

/* With the GIL (ctypes.PyDLL), before the tracker starts. */
void race_install(void) {
    PyMemAllocatorEx mine = {NULL, w_malloc, w_calloc, w_realloc, w_free};
    PyMem_GetAllocator(PYMEM_DOMAIN_RAW, &orig);
    PyMem_SetAllocator(PYMEM_DOMAIN_RAW, &mine);
}

/* Without the GIL (ctypes.CDLL). 0 when the interleaving was forced (B got A's old address), -1 on failure.
 * race_waited_out() tells whether A had to stop waiting for B (B was held back by the tracker's lock). */
int race_run(void) {
    atomic_store(&phase, IDLE);
    atomic_store(&waited_out, 0);
    if (pthread_create(&thread_b, NULL, run_b, NULL))
        return -1;
    if (pthread_create(&thread_a, NULL, run_a, NULL)) {
        atomic_store(&phase, DONE);
        pthread_join(thread_b, NULL);
        return -1;
    }
    atomic_store(&phase, GO);
    pthread_join(thread_a, NULL);
    pthread_join(thread_b, NULL);
    return stash == NULL ? 0 : -1;
}

int race_waited_out(void) { return atomic_load(&waited_out); }
