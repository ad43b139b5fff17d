/* The allocation hook shared by the tracker (tracker_hook.c, tracker_install.c) and the guards (guard.c).
 *
 * PyMem_SetAllocator is process-wide, so the hook's state is process-wide too: this is the one place in the binding
 * with static state (it cannot live in module state, the hook receives no module). The hook is installed only
 * while a tracker run or a guard is active; otherwise Python's allocators are untouched and cost nothing.
 */
#ifndef THRIFTY_TRACKER_H
#define THRIFTY_TRACKER_H

#include "thrifty_ext.h"

enum { TF_GUARD_COUNT = 0, TF_GUARD_BUDGET = 1, TF_GUARD_NOALLOC = 2 };

/* One active guard, owned by its Python guard object. Linked into the entering thread's stack while active; only
 * that thread's allocations are counted. Counters are written by the hook under its lock. */
typedef struct tf_guard_node {
    struct tf_guard_node *outer; /* next guard out on the same thread, NULL for the outermost */
    uint32_t serial;             /* tags blocks allocated while this guard is the innermost (24 bits, never 0) */
    int kind;                    /* TF_GUARD_* */
    int64_t limit;               /* budget in bytes (TF_GUARD_BUDGET) */
    int64_t live;                /* bytes allocated inside and not yet freed */
    int64_t peak;                /* highest `live` seen */
    uint64_t blocks;             /* allocations inside */
    uint64_t bytes;              /* bytes allocated inside */
    uint64_t freed;              /* bytes of blocks allocated inside and freed inside */
    int tripped;                 /* an allocation was refused; later ones pass so error handling can allocate */
    int64_t trip_size;           /* size of the refused allocation */
    int64_t trip_live;           /* this guard's live bytes when it refused */
    PyObject *trip_code;         /* strong ref: code object of the Python frame that allocated, or NULL */
    int trip_lasti;              /* instruction index in trip_code */
    PyObject *gen;               /* strong ref: the generator/coroutine whose frame entered the guard, or NULL */
    int suspended;               /* code ran on this thread while `gen` was suspended (await/yield) */
    uint64_t hook_losses;        /* tf_hook_losses() when the guard was entered */
} tf_guard_node;

/* Whether the generator, coroutine or async generator `gen` is running now (not suspended at a yield/await, not
 * finished). Read by the hook without the GIL held by it: one byte of the object, which the guard keeps alive.
 * The frame state is not public API: its field and the "executing" value (0) are the same in 3.11 and 3.12. */
#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030D0000
#define TF_GEN_STATE 1
static inline int tf_gen_running(PyObject *gen) { return ((PyGenObject *)gen)->gi_frame_state == 0; }
#else
#define TF_GEN_STATE 0 /* guard.c then refuses guards entered inside a generator or coroutine */
static inline int tf_gen_running(PyObject *gen) {
    (void)gen;
    return 1;
}
#endif

/* Links `g` (zeroed by the caller except kind/limit) as the calling thread's innermost guard, installing the hook if
 * needed. 0, or -1 with an exception. Needs the GIL. */
int tf_guard_push(tf_guard_node *g);

/* Unlinks `g`, which must be the calling thread's innermost guard (or a suspended one: coroutines interleave); -1
 * with RuntimeError otherwise. Removes the hook when nothing uses it any more. Needs the GIL. */
int tf_guard_pop(tf_guard_node *g);

/* How many times thrifty found its hook removed by someone else while it was needed (tracemalloc.stop() restores
 * the allocators tracemalloc saw, which drops a hook installed after tracemalloc.start()). Checks first: when the
 * hook is needed but allocations no longer reach it, it is installed again and the count goes up. Needs the GIL. */
uint64_t tf_hook_losses(void);

/* Address of the allocation block that holds obj (before its GC header and pre-header): the key the tracker and
 * tracemalloc record. Thread-safe, no allocation. */
uintptr_t tf_object_block(PyObject *obj);

#endif
