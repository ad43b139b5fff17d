/* The tracker's tables as the run-file writer (runfile.c) reads them: their types and a read-only view of the
 * current run, taken with the tracker's lock held. The tracker's own files (tracker_state.h lists them) own and
 * write them; nothing else may.
 */
#ifndef THRIFTY_TRACKER_TABLES_H
#define THRIFTY_TRACKER_TABLES_H

#include "thrifty_ext.h"
#include "timeline.h"

/* A function's names, interned once per run and kept until it is released (as tracemalloc keeps file names): nodes
 * refer to them by index, so a node holds no reference and can be recycled inside the hook without a DECREF. */
typedef struct {
    PyObject *file; /* strong ref: co_filename */
    PyObject *name; /* strong ref: co_qualname */
} tf_func;

/* Stacks are stored as a tree of frames (a node per distinct (caller node, code, position)), so stacks that
 * share their outer frames — nearly all of them — share storage. */
typedef struct {
    uint32_t parent; /* node index of the caller; 0 = the root (no frame). Top bit: mark during a node collection */
    int line;
    uint32_t func; /* index into the function table; TF_NODE_FREE on the free list (parent = next free node) */
} tf_node;

#define TF_NODE_MARK (UINT32_C(1) << 31)
#define TF_NODE_FREE UINT32_MAX

typedef struct {
    uint32_t leaf;     /* innermost frame's node; on the free list (sampled mode): the next free site */
    uint16_t depth;    /* frames in the stack (<= TF_MAX_DEPTH_LIMIT) */
    uint8_t truncated; /* the stack was deeper than max_depth */
    uint8_t unused;    /* recycled: on the free list, no stack refers to it */
    /* size0: the size of the site's first block (up to 1 MiB; 0: none yet): blocks of this size go to the packed
     * table. small (exact mode, tracker_state.h's TF_SMALL_*): the site's small id once it has one (its blocks of
     * other sizes up to 512 bytes pack too), else how many such blocks went to the 16-byte table so far */
    unsigned int size0 : 20, small : 12;
    uint32_t at_peak_epoch; /* 32 bits keep a site at 56 bytes; a stale copy is mistaken for current only when
                             * exactly a multiple of 2^32 new peaks passed without touching the site */
    int64_t live, at_peak;
    uint64_t allocs, frees, alloc_bytes;
} tf_site;

/* One run's tables and totals, borrowed: valid while the caller holds the tracker's lock. */
typedef struct {
    int tracing; /* 0: a stopped run whose tables are kept for site lookups */
    int sampled;
    double rate;
    int max_depth;
    const tf_func *funcs;
    uint32_t nfuncs;
    const uint32_t *forder; /* sampled mode: the function indexes in (file, name) address order; exact mode: NULL */
    const tf_node *nodes;
    uint32_t nnodes;
    const tf_site *sites;
    uint32_t nsites;
    uint32_t peak_epoch; /* a site's at_peak is current when its at_peak_epoch equals this */
    const tf_timeline *timeline;
    int64_t live, peak;
    uint64_t peak_ns, allocs, frees, alloc_bytes, untracked, dropped_stacks, samples, recycled_sites;
    uint64_t own_bytes, own_peak, t0_ns, timed_ns;
    uint64_t ops; /* allocations and frees traced so far: unchanged means nothing to snapshot */
} tf_tracker_view;

void tf_tracker_lock(void);
void tf_tracker_unlock(void);

/* The recorder's own memory, all of it at once: the tracker's tables (own_add) and the run-file writer's buffers
 * (runfile.c's own) each count theirs and add it here too, so that its peak is the most the two held together
 * (their own two peaks, added, would count the tables at their largest beside the writer at its largest, which
 * need not be at the same time). add and sub are one change (the net counts). Any thread: atomic. */
void tf_recorder_own(size_t add, size_t sub);
uint64_t tf_recorder_peak(void);
/* A new tracker run: the peak starts again from what is held now. */
void tf_recorder_peak_reset(void);

/* Fills *v with the current run (tracing, or stopped with its tables kept); 0 when there is no run. Lock held. */
int tf_tracker_view_get(tf_tracker_view *v);

/* Live traced blocks (sampled mode: the sampled ones). Lock held. */
uint32_t tf_tracker_live_blocks(void);

/* Calls fn(ctx, address, size, bytes, site) for the live traced blocks, or a random sample of `limit` of them when
 * there are more; bytes is what the block stands for in its site's live bytes (scaled up in sampled mode, and by
 * the sample). Lock held; fn must not allocate or trace. */
typedef void (*tf_block_fn)(void *ctx, uintptr_t addr, uint64_t size, uint64_t bytes, uint32_t site);
void tf_tracker_each_block(tf_block_fn fn, void *ctx, uint32_t limit);

/* Stops the run without building its Python result (the run file already has it): the recorder's end of a run.
 * keep: keep the tables for site lookups, as _tracker_stop(keep_sites=True). 0, or -1 with RuntimeError when no run
 * is tracing. Needs the GIL. */
int tf_tracker_halt(int keep);

/* importframe.c: importlib's _find_and_load code object (new reference), or NULL without an exception when it
 * cannot be found (then there are no import pseudo-frames). */
PyObject *tf_find_and_load_code(void);

/* importframe.c: the file name object of importlib._bootstrap_external's code (new reference), or NULL without an
 * exception when it cannot be found. */
PyObject *tf_importlib_external_file(void);

/* Monotonic clock in ns. */
uint64_t tf_now_ns(void);

/* runfile.c: called by the hook at each timeline tick (lock held, tl_busy set): writes a snapshot when one is due. */
void tf_runfile_tick(uint64_t now_ns);

/* runfile.c: a fork child must never write the parent's run file. */
void tf_runfile_forget(void);

#endif
