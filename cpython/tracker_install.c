/* Installing and removing the allocation hook (tracker_hook.c), finding it removed by someone else, and the guards
 * that keep it installed: linking them per thread, and unlinking those of a thread that ended inside them.
 */
#include "tracker_state.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

/* ---- the lock's two kinds (tracker_state.h): membarrier ------------------------------------------------------- */

/* Registers this process for membarrier(2)'s private expedited barrier, which lock() then uses so that lock_gil()
 * can skip the spin lock; Hook.asym says whether it did. Called once, from the module's set-up, before any hook is
 * installed (the two kinds must agree on it from the first lock on). */
void tf_lock_setup(void) {
    Hook.main_interp = PyInterpreterState_Main();
#if defined(__linux__) && defined(SYS_membarrier)
    Hook.asym = syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
#else
    Hook.asym = 0;
#endif
}

/* Every running thread of this process passes a full memory barrier before this returns. Registered (Hook.asym), the
 * call cannot fail; if it ever did, a lock_gil() holder could be inside with us, so it stops the process rather than
 * let two threads change the tables at once. */
void tf_membarrier(void) {
#if defined(__linux__) && defined(SYS_membarrier)
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0)
        return;
    perror("thrifty tracker: membarrier failed after registration");
#endif
    abort();
}

void hooks_install(void) {
    static const PyMemAllocatorDomain domains[3] = {PYMEM_DOMAIN_RAW, PYMEM_DOMAIN_MEM, PYMEM_DOMAIN_OBJ};
    if (Hook.installed)
        return;
    for (int d = 0; d < 3; d++) {
        PyMemAllocatorEx mine = {(void *)(intptr_t)domains[d], hook_malloc, hook_calloc, hook_realloc, hook_free};
        PyMem_GetAllocator(domains[d], &Hook.prev[domains[d]]);
        PyMem_SetAllocator(domains[d], &mine);
    }
    Hook.installed = 1;
}

/* Whether an allocation made now reaches our hook, wherever it sits in the allocator chain: a 1-byte RAW
 * allocation under a private probe guard (no outer guards, so no other guard counts it). GIL held. */
static int hook_reached(void) {
    tf_guard_node probe;
    memset(&probe, 0, sizeof probe);
    lock_any();
    Hook.next_serial = Hook.next_serial % TF_TAG_MAX + 1u;
    probe.serial = Hook.next_serial;
    tf_guard_node *saved = tl_guard;
    tl_guard = &probe;
    Hook.guards_active++;
    update_free_check();
    unlock_any();
    PyMem_RawFree(PyMem_RawMalloc(1));
    lock_any();
    tl_guard = saved;
    Hook.guards_active--;
    update_free_check();
    unlock_any();
    return probe.blocks > 0;
}

uint64_t tf_hook_losses(void) {
    if (Hook.installed && !hook_reached()) {
        Hook.installed = 0; /* someone restored allocators from before ours: ours are in no chain any more */
        Hook.hook_losses++;
        if (atomic_load(&Hook.tracing) || Hook.guards_active)
            hooks_install();
    }
    return Hook.hook_losses;
}

/* Restores the previous allocators when ours are still on top. When someone hooked after us, ours stay in their
 * chain as a pass-through (idle hook: one thread-local and one relaxed load per call). */
void hooks_maybe_uninstall(void) {
    if (!Hook.installed || atomic_load(&Hook.tracing) || Hook.guards_active)
        return;
    for (int d = 0; d < 3; d++) {
        PyMemAllocatorEx cur;
        PyMem_GetAllocator((PyMemAllocatorDomain)d, &cur);
        if (cur.malloc != hook_malloc || cur.ctx != (void *)(intptr_t)d)
            return;
    }
    for (int d = 0; d < 3; d++)
        PyMem_SetAllocator((PyMemAllocatorDomain)d, &Hook.prev[d]);
    Hook.installed = 0;
    free_table(&Hook.gblocks);
}

/* ---- guards ------------------------------------------------------------------------------------------------------ */

/* A thread that ends inside a guard (its `with` never left: the thread was killed by an exception in C, or called
 * PyThread_exit_thread) leaves nodes linked. A thread-specific key's destructor, run as the thread exits, unlinks
 * them so the count of active guards drops and the hook goes idle; the hook itself is removed from the main thread
 * (a pending call), since changing the allocators needs the GIL. The guard objects stay "active": their __exit__
 * can no longer run on that thread. */
static pthread_key_t guard_key;
static pthread_once_t guard_key_once = PTHREAD_ONCE_INIT;
static int guard_key_ok;

static int uninstall_pending(void *unused) {
    (void)unused;
    hooks_maybe_uninstall();
    return 0;
}

static void guards_thread_ended(void *innermost) {
    lock_any();
    for (tf_guard_node *g = innermost; g; g = g->outer)
        Hook.guards_active--;
    if (Hook.guards_active == 0 && Hook.gblocks.mem)
        tf_sitetable_clear(&Hook.gblocks.t);
    update_free_check();
    unlock_any();
    tl_guard = NULL;
    (void)Py_AddPendingCall(uninstall_pending, NULL); /* callable without the GIL or a thread state */
}

static void guard_key_make(void) { guard_key_ok = pthread_key_create(&guard_key, guards_thread_ended) == 0; }

int tf_guard_push(tf_guard_node *g) {
    g->hook_losses = tf_hook_losses(); /* re-installs a hook someone removed, before this guard relies on it */
    (void)pthread_once(&guard_key_once, guard_key_make);
    if (!guard_key_ok || pthread_setspecific(guard_key, g) != 0) {
        PyErr_SetString(PyExc_OSError, "thrifty guards: cannot register the thread-exit cleanup (pthread key)");
        return -1;
    }
    lock_any();
    Hook.next_serial = Hook.next_serial % TF_TAG_MAX + 1u;
    g->serial = Hook.next_serial;
    g->outer = tl_guard;
    tl_guard = g;
    Hook.guards_active++;
    update_free_check();
    unlock_any();
    hooks_install();
    return 0;
}

int tf_guard_pop(tf_guard_node *g) {
    tf_guard_node **link = &tl_guard;
    while (*link && *link != g && g->suspended) /* a suspended block may end under another task's block */
        link = &(*link)->outer;
    if (*link != g) {
        PyErr_SetString(PyExc_RuntimeError, "guards must be exited in the reverse order they were entered, on the "
                                            "thread that entered them");
        return -1;
    }
    lock_any();
    *link = g->outer;
    g->outer = NULL;
    (void)pthread_setspecific(guard_key, tl_guard); /* NULL once the thread has no guard: no cleanup at its exit */
    Hook.guards_active--;
    if (Hook.guards_active == 0 && Hook.gblocks.mem)
        tf_sitetable_clear(&Hook.gblocks.t);
    update_free_check();
    unlock_any();
    hooks_maybe_uninstall();
    return 0;
}
