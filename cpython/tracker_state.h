/* The tracker's private header: its constants, the types of its tables, its state (one struct per concern, each
 * defined in the file of that concern) and what its files call in each other. tracker.h and tracker_tables.h are
 * what the rest of the binding sees; only the tracker*.c files include this one.
 *
 * The files, one job each:
 *   tracker.c         the Python-facing functions (start, stop, the result, site lookups) and the run file's view
 *   tracker_hook.c    the allocation hook: its fast paths, accounting and sampling, and the guards' part of it
 *   tracker_install.c installing and removing the hook, and the guards that keep it installed
 *   tracker_stack.c   reading the Python stack and interning it as a site (frames, functions, lines)
 *   tracker_tables.c  the tables' storage within the memory bound, and sampled mode's reclaim of unused sites
 *
 * No LTO: what the hook's common paths call is here as static inline, or in tracker_hook.c itself. The state is
 * hidden (not exported from the extension), so every file reads it PC-relative, as one file's statics are read.
 */
#ifndef THRIFTY_TRACKER_STATE_H
#define THRIFTY_TRACKER_STATE_H

#include "tracker.h"
#include "tracker_math.h"
#include "tracker_tables.h"

#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#include "thrifty/sitetable.h"

#if defined(__GNUC__) || defined(__clang__)
#define TF_HIDDEN __attribute__((visibility("hidden")))
#define TF_ALWAYS_INLINE inline __attribute__((always_inline))
#define TF_NOINLINE __attribute__((noinline))
#else
#define TF_HIDDEN
#define TF_ALWAYS_INLINE inline
#define TF_NOINLINE
#endif

#define TF_MAX_DEPTH_LIMIT 256
#define TF_DEFAULT_MAX_DEPTH 64
#define TF_DEFAULT_SAMPLE_RATE (128 * 1024) /* the doctor's; thrifty watch samples more densely (cli.py) */
#define TF_CODEUNIT 2         /* bytes per bytecode unit: frame positions are kept in units, line lookup takes bytes */
#define TF_TIMING_EVERY 4096u /* one hook call in this many is timed to estimate the tracker's own cost */
#define TF_SIZE_BITS 40       /* block table value: size (40 bits) | site or guard serial (24 bits) */
#define TF_SIZE_MASK ((UINT64_C(1) << TF_SIZE_BITS) - 1u)
#define TF_TAG_MAX ((UINT32_C(1) << 24) - 1u)
#define TF_GATE_CLOSED UINT32_MAX /* Hook.gate when the fast path is off: no thread's tl.run holds it */
#define TF_SAMPLE_BUCKET_BITS 11
#define TF_SAMPLE_BUCKETS (1u << TF_SAMPLE_BUCKET_BITS)

typedef struct {
    PyObject *code; /* borrowed: alive while its frame runs */
    PyObject *file; /* borrowed: code->co_filename */
    int lasti;
} tf_frame;

/* Sampled mode reclaims unused sites and nodes (see reclaim) instead of growing the site array, the node array or the
 * stack table past these sizes: the tracker's memory then follows what is live, not how many distinct stacks the
 * run met. */
#define TF_SAMPLED_SITES 16u
#define TF_SAMPLED_NODES 64u
#define TF_SAMPLED_KEYS 96u /* stack table entries: 1 KiB of slots */
#define TF_SAMPLED_KEEP 8u  /* unpinned sites a reclaim keeps when that frees enough (for the churn report) */

/* Sampled mode keeps no node keys in a table: a node is found among its parent's children (tf_nodelink), 12 bytes
 * a node where a table entry took 16 to 43 with its slack, so its stack table holds the sites' keys only; it finds
 * functions without a table too (func_sorted). A value's high half says what its key is (site 0, node; exact mode's
 * function table tags its values too); the keys are 64-bit hashes of different things, distinct but for a
 * collision. Exact mode keeps three tables so its per-allocation stack lookup stays on the smallest one. */
#define TF_KEY_NODE (UINT64_C(1) << 32)
#define TF_KEY_FUNC (UINT64_C(2) << 32)

/* Sampled mode's stack table holds site keys only, so it is a packed table (8-byte slots, half a sitetable's): the
 * stack hash's top 40 bits (two stacks share a site only when those collide, ~1 in 10^12 for a pair) and the site
 * (sites stay below TF_TAG_MAX, 24 bits). */
#define TF_STACK_VALUE_BITS 24u
static inline uint64_t stack_pack_key(uint64_t h) {
    uint64_t k = h >> TF_STACK_VALUE_BITS;
    return k ? k : 1u;
}

#define TF_LINE_CACHE 8
typedef struct {
    const void *code, *table; /* identity only: never dereferenced */
    Py_ssize_t table_len;
    int firstlineno;
    PyCodeAddressRange bounds;
} tf_linecache;

/* Sampled mode: a node's place in the tree, beside Tables.nodes (index for index), so that a new stack finds the nodes
 * of the frames it shares with the stacks seen before by walking down from the root. */
typedef struct {
    uint32_t key;     /* 32 bits of the node's key (its parent, code object, file and position) */
    uint32_t child;   /* first child; 0 = none (node 0, the root, is never a child) */
    uint32_t sibling; /* next child of the same parent; 0 = the last */
} tf_nodelink;

/* A table whose storage grows by doubling inside the hook, within the tracker's memory bound. */
typedef struct {
    tf_sitetable t;
    void *mem;
    size_t bytes;
} tf_growtable;

/* The same for the packed live-block table (8-byte slots). */
typedef struct {
    tf_packtable t;
    void *mem;
    size_t bytes;
} tf_growpack;

/* Packed live-block entries: key = address >> 4 (blocks are 16-byte aligned), 43 bits: all of a 47-bit user address
 * space. The 21-bit value is either
 *   0 | site (20 bits)                      a block of its site's first size (size0), or
 *   1 | size - 1 (9 bits) | small id (11 bits) a block of up to 512 bytes (pymalloc's range) from a site with one
 *                                           of the 2048 small ids;
 * anything else (an odd address, a larger block of another size, a site without a small id) goes to the 16-byte
 * table. Sampled mode: a site's small id is its index, for the first 2048 sites (its sites are few and recycled).
 * Exact mode: the ids go to the sites that need them, in the order they show it: a site takes one when
 * TF_SMALL_AFTER of its blocks went to the 16-byte table. Ids went to the first 2048 sites before, and a program's
 * imports make thousands of sites before its own code runs (13,000 for a benchmark driver under the recorder), so
 * every varying-size block of the program's own loops took the 16-byte table's slower path (json_dumps: a tenth of
 * the traced run's time in its put and take). */
#define TF_PACK_SHIFT 4
#define TF_PACK_VALUE_BITS 21u
#define TF_PACK_SMALL (UINT32_C(1) << 20)
#define TF_PACK_SMALL_SITES 2048u
#define TF_PACK_SMALL_SIZE 512u
#define TF_SIZE0_MAX ((UINT32_C(1) << 20) - 1u) /* tf_site.size0's bits */
#define TF_SMALL_HAVE 0x800u                    /* tf_site.small: an id (its low 11 bits), else a count */
#define TF_SMALL_AFTER 4u

/* ---- the state, one struct per concern ---------------------------------------------------------------------- */

enum { FREE_NONE = 0, FREE_ALL = 1, FREE_FILTERED = 2 };

/* The hook's switches (tracker_hook.c): what every allocation and free reads first, and the guards' block table. */
typedef struct {
    /* The hook's fast-path gate, first so it shares a cache line with `free_check` and `prev`: the current run's
     * number while a sampled run traces and no guard is active anywhere, else TF_GATE_CLOSED. A thread whose
     * tl.run equals it may decide "not sampled" from its own countdown alone (hook_alloc). */
    _Atomic uint32_t gate;
    _Atomic int free_check; /* what hook_free must do: FREE_NONE, FREE_ALL, or FREE_FILTERED (sampled mode) */
    PyMemAllocatorEx prev[3];
    int installed;
    _Atomic int tracing; /* read without the lock as the hook's fast-path test */
    int guards_active;   /* active guards, all threads (GIL) */
    atomic_flag lock;    /* the tables, the totals and the guards' counters: lock(), lock_gil() */
    _Atomic int gil_in;  /* a holder of the main interpreter's GIL is inside lock_gil() ... unlock_gil() */
    _Atomic int others;  /* a lock() holder is inside or coming: lock_gil() takes the spin lock too */
    int asym;            /* lock_gil() may skip the spin lock (membarrier registered; set once, before any hook) */
    PyInterpreterState *main_interp; /* whose GIL lock_gil() relies on */

    /* guards */
    tf_growtable gblocks; /* block address -> size | guard serial */
    uint32_t next_serial;
    uint64_t hook_losses; /* times our hook was found removed by someone else (tf_hook_losses) */

    /* The free filter, here because hook_free reads it beside `prev` (one base address for both). Sampled mode: how
     * many live sampled blocks hash to each bucket, so a free whose bucket is empty (nearly all) skips the lock and
     * the tables. A count, not a bit: pymalloc hands a freed address straight out again, so a sampled block's
     * address is soon reused by many unsampled ones; its bucket must empty when it is freed. Saturated counts stay
     * put (a false positive costs one table lookup, never a wrong answer). Counts are 4 bits, two to a byte: a
     * bucket rarely holds more than one live sample, and a small heap's tracker is mostly this. */
    uint8_t sampled_count[TF_SAMPLE_BUCKETS / 2];
} tf_hook_state;
extern TF_HIDDEN tf_hook_state Hook;

/* The run's configuration and sampling state (tracker_hook.c; set by _tracker_start). */
typedef struct {
    int sampled;
    double rate; /* mean bytes between samples */
    int max_depth;
    size_t max_memory;
    uint32_t run_id; /* per-thread sampling countdowns belong to this run (never 0 nor TF_GATE_CLOSED) */
    int kept;        /* a stopped run's tables are kept for site lookups (keep_sites=True) until released */
    uint64_t rng;
} tf_run_state;
extern TF_HIDDEN tf_run_state Run;

/* The tables and the tracker's own memory (tracker_tables.c). */
typedef struct {
    tf_growpack pblocks; /* live traced block address >> 4 -> site, for blocks of their site's size0: most blocks */
    tf_growtable blocks; /* live traced block address -> size | site, for the others */
    tf_growtable stacks; /* stack hash -> site index (exact mode) */
    tf_growpack pstacks; /* the same in sampled mode, packed (stack_pack_key) */
    tf_site *sites;
    uint32_t nsites, sites_cap;
    tf_growtable nodetab; /* hash of (parent, code, position) -> TF_KEY_NODE | node index (exact mode) */
    tf_node *nodes;
    uint32_t nnodes, nodes_cap;
    tf_nodelink *links; /* sampled mode: the tree's links, links_cap >= nnodes */
    uint32_t links_cap;
    uint32_t free_sites, free_nodes;   /* heads of the sampled-mode free lists; 0 = empty */
    uint32_t nfree_sites, nfree_nodes; /* their lengths */
    uint64_t recycled_sites;
    uint32_t *small_sites; /* exact mode: the site of each small id (TF_PACK_SMALL) */
    uint32_t nsmall, small_cap;
    tf_growtable functab; /* hash of (file, name) -> TF_KEY_FUNC | function index (exact mode) */
    tf_func *funcs;
    uint32_t nfuncs, funcs_cap;
    uint32_t *forder; /* sampled mode: function indexes in (file, name) address order */
    uint32_t forder_cap;
    size_t own_bytes, own_peak;
} tf_tables_state;
extern TF_HIDDEN tf_tables_state Tables;

/* A site's small id (TF_PACK_SMALL), or UINT32_MAX when it has none. */
static inline uint32_t small_id(uint32_t site, const tf_site *s) {
    if (Run.sampled)
        return site < TF_PACK_SMALL_SITES ? site : UINT32_MAX;
    return s->small & TF_SMALL_HAVE ? s->small & (TF_PACK_SMALL_SITES - 1u) : UINT32_MAX;
}

/* Packed value for a block of `site` (its record `s`), or UINT32_MAX when it must go to the 16-byte table. */
static inline uint32_t pack_value(uint32_t site, uint64_t size, const tf_site *s) {
    uint32_t id;
    if (size == s->size0 && site < TF_PACK_SMALL)
        return site;
    if (size <= TF_PACK_SMALL_SIZE && (id = small_id(site, s)) != UINT32_MAX)
        return TF_PACK_SMALL | (uint32_t)(size - 1u) << 11 | id;
    return UINT32_MAX;
}

/* Site of a packed live-block value (see TF_PACK_*). */
static inline uint32_t unpack_site(uint64_t v) {
    uint32_t id = (uint32_t)v & (TF_PACK_SMALL_SITES - 1u);
    if (!(v & TF_PACK_SMALL))
        return (uint32_t)v;
    return Run.sampled ? id : Tables.small_sites[id];
}

#define TF_RECENT 16u
typedef struct {
    uint64_t hash;
    uint32_t site;
} tf_recent;

/* What reading the stack keeps between calls (tracker_stack.c). */
typedef struct {
    tf_linecache lines[TF_LINE_CACHE];
    /* the stacks looked up lately and their sites, direct-mapped by hash (hash 0: none): sampled mode's reclaim may
     * recycle a site, so it clears them whenever it runs */
    tf_recent recent[TF_RECENT];
    /* import pseudo-frames: importlib's _find_and_load code object (strong ref during a run, else NULL); a frame
     * running it is recorded as ("<import>", 0, module name), the name read from its first argument */
    PyObject *import_code;
    PyObject *import_label; /* "<import>", kept for the process */
    /* sampled mode: importlib's own files, <frozen importlib._bootstrap> and _bootstrap_external (strong refs during
     * a run, else NULL): their frames are left out of stacks, folded into the import pseudo-frame above them. Every
     * report skips them, and on a small program's heap, made mostly by its imports, they were half the stack nodes
     * and a fifth of the functions the recorder keeps. */
    PyObject *fold_files[2];
    /* the recorder's runner (`_tracker_start(root=...)`, strong ref during a run, else NULL): the code object of
     * the frame that runs the program. Frames outside it are the recorder's bootstrap, under which every allocation
     * of the program happens and which the run file's reader cuts (runfile_read.c): a stack ends with the runner's
     * frame (the reader keeps it only where it is the innermost, as python's parser and compiler). Each frame costs
     * the walk that runs per allocation (~25 instructions); the bootstrap's were 2 of a json_dumps stack's 16. One
     * comparison per frame, after the frame is taken: a second one, to leave the runner out too, cost more than
     * its frame. */
    PyObject *root_code;
} tf_frames_state;
extern TF_HIDDEN tf_frames_state Frames;

/* The run's totals, clock and timeline (tracker_hook.c). */
typedef struct {
    int64_t live, peak;
    uint32_t peak_epoch;
    uint64_t peak_ns, allocs, frees, alloc_bytes, untracked, dropped_stacks, samples;
    /* timeline: the envelope of the traced heap (timeline.h); the clock is read every `tick_every` operations,
     * `tick_left` counts down to the next reading (no division per allocation) */
    uint64_t t0_ns, ops, tick_every, tick_left;
    uint64_t peak_clock_ops; /* Totals.ops when peak_ns was last read from the clock */
    tf_timeline tl;
    uint64_t timed_ns, timed_calls;
    /* at the latest peak: the live traced blocks and the live-block tables' storage (what the recorder spends per
     * live block of the target, which the benchmark reports) */
    uint64_t peak_blocks, peak_block_bytes;
} tf_totals_state;
extern TF_HIDDEN tf_totals_state Totals;

/* initial-exec: read with one instruction instead of a __tls_get_addr call per hook (measured ~4% of exact-mode
 * time). The two variables fit easily in the static TLS space glibc reserves for dlopen'ed modules. */
#if defined(__GNUC__) && defined(__ELF__)
#define TF_TLS _Thread_local __attribute__((tls_model("initial-exec")))
#else
#define TF_TLS _Thread_local
#endif
/* The hook's per-thread state in one struct: one thread-pointer offset to load (a shared object's initial-exec
 * variables each cost a GOT load) for everything the fast path reads. */
typedef struct {
    /* Sampled mode: each thread counts down its own bytes to its next sample (a per-thread Poisson process samples
     * every byte at the same rate), so an allocation that is not sampled takes no lock. */
    int64_t countdown;
    uint32_t run; /* the run `countdown` belongs to; 0 before the thread's first sample */
    int busy;     /* inside the hook: allocations go straight to the previous allocator */
    /* the doctor's own bookkeeping runs on this thread (_tracker_own): its allocations are not the target's and are
     * not recorded; frees still are, so a target block freed meanwhile leaves the live totals as it should */
    int own;
    int lock_how; /* what this thread's lock_any() did, for unlock_any() (the lock is not re-entered) */
} tf_tls;
extern TF_HIDDEN TF_TLS tf_tls tl;
extern TF_HIDDEN TF_TLS tf_guard_node *tl_guard; /* the innermost guard of this thread */

/* ---- small helpers, inline everywhere ------------------------------------------------------------------------ */

static inline uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the tracker's lock ----
 * Nearly every holder holds the main interpreter's GIL: the hook's MEM and OBJ calls, RAW calls made with it, the
 * module's functions. Only one of them can be inside at a time, so among themselves they need no lock; what they must
 * keep out is a thread without that GIL (a RAW allocation from a thread that released it, another interpreter's
 * thread, the run file's writer thread). An uncontended atomic exchange on every allocation and free still cost
 * ~9% of the recorder's CPU time on bm_json_dumps (perf; two a block, tens of cycles each in this VM). So the two
 * kinds lock differently (an asymmetric Dekker lock): a GIL holder (lock_gil) says it is in (Hook.gil_in, a plain
 * store) and goes on unless another kind is in or coming (Hook.others); another kind (lock) takes the spin lock,
 * raises Hook.others, has every running thread of the process pass a full memory barrier (membarrier(2), so either it
 * sees the GIL holder's store or the GIL holder sees its flag), then waits for Hook.gil_in to drop. A GIL holder that
 * finds Hook.others raised takes the spin lock instead. Without membarrier (not Linux, an old kernel, an emulator)
 * Hook.asym is 0 and everyone takes the spin lock. */
void tf_lock_setup(void); /* tracker_install.c */
void tf_membarrier(void);

static inline void spin_lock(void) {
    unsigned spins = 0;
    while (atomic_flag_test_and_set_explicit(&Hook.lock, memory_order_acquire))
        if (++spins % 64u == 0)
            sched_yield();
}

/* The lock for any caller: a thread without the main interpreter's GIL, or one that does not know. */
static inline void lock(void) {
    spin_lock();
    if (Hook.asym) {
        unsigned spins = 0;
        atomic_store_explicit(&Hook.others, 1, memory_order_relaxed);
        tf_membarrier();
        while (atomic_load_explicit(&Hook.gil_in, memory_order_acquire))
            if (++spins % 64u == 0)
                sched_yield();
    }
}
static inline void unlock(void) {
    if (Hook.asym)
        atomic_store_explicit(&Hook.others, 0, memory_order_release);
    atomic_flag_clear_explicit(&Hook.lock, memory_order_release);
}

/* The lock for a thread that holds the main interpreter's GIL (holds_main_gil). Returns what unlock_gil needs: 1 when
 * it went in without the spin lock. */
static inline int lock_gil(void) {
    if (Hook.asym) {
        atomic_store_explicit(&Hook.gil_in, 1, memory_order_relaxed);
        atomic_signal_fence(memory_order_seq_cst); /* the store, then the load: membarrier orders them for the CPU */
        if (!atomic_load_explicit(&Hook.others, memory_order_acquire))
            return 1;
        atomic_store_explicit(&Hook.gil_in, 0, memory_order_release);
    }
    spin_lock(); /* no other GIL holder can be in, and the other kinds take the spin lock first */
    return 0;
}
static inline void unlock_gil(int fast) {
    if (fast)
        atomic_store_explicit(&Hook.gil_in, 0, memory_order_release);
    else
        atomic_flag_clear_explicit(&Hook.lock, memory_order_release);
}

/* The thread state of this thread when it holds the GIL and may read its Python frames, else NULL: MEM and OBJ calls
 * hold it (the API requires it); a RAW call may come from a thread without it. */
static inline PyThreadState *gil_tstate(int domain) {
    PyThreadState *ts = _PyThreadState_UncheckedGet();
    if (domain == PYMEM_DOMAIN_RAW && ts && PyGILState_GetThisThreadState() != ts)
        return NULL;
    return ts;
}

/* Whether a hook call of this thread, whose gil_tstate is `ts`, may take lock_gil(). */
static inline int holds_main_gil(PyThreadState *ts) { return ts && ts->interp == Hook.main_interp; }

/* lock_gil() or lock() for a hook call whose gil_tstate is `ts`; unlock_for() undoes what it did. */
static inline int lock_for(PyThreadState *ts) {
    if (holds_main_gil(ts))
        return lock_gil();
    lock();
    return -1;
}
static inline void unlock_for(int how) {
    if (how < 0)
        unlock();
    else
        unlock_gil(how);
}

/* The lock for code outside the hook (the module's functions, guards, start and stop): lock_gil() when this thread
 * holds the main interpreter's GIL, else lock(). */
static inline void lock_any(void) { tl.lock_how = lock_for(gil_tstate(PYMEM_DOMAIN_RAW)); }
static inline void unlock_any(void) { unlock_for(tl.lock_how); }

/* Counts the tables' storage taken (add) and given back (sub) at once: a change whose old and new storage are both
 * held for a while (a table or array that moved as it grew) is two calls, the new first. */
static inline void own_add(size_t add, size_t sub) {
    Tables.own_bytes = Tables.own_bytes + add - sub;
    if (Tables.own_bytes > Tables.own_peak)
        Tables.own_peak = Tables.own_bytes;
    tf_recorder_own(add, sub);
}

/* Sampled mode: a block of `size` bytes is sampled with probability p = 1 - exp(-size/rate); a sample stands for
 * size/p bytes and 1/p allocations (unbiased). Deterministic in size, so a free subtracts what its alloc added.
 * No libm here (tracker_math.h says why). */
static inline void sample_weights(uint64_t size, int64_t *bytes, int64_t *count) {
    double p = tf_one_minus_exp_neg((double)size / Run.rate);
    if (p <= 0.0) {
        *bytes = (int64_t)size;
        *count = 1;
        return;
    }
    *bytes = tf_round_nonneg((double)size / p);
    *count = tf_round_nonneg(1.0 / p);
    if (*count < 1)
        *count = 1;
}

/* ---- tracker_tables.c: storage ------------------------------------------------------------------------------- */

int pack_grow_room(tf_growpack *g);

/* Live traced blocks (sampled mode: the sampled ones): the entries of both live-block tables. */
static inline uint32_t live_blocks(void) {
    return (Tables.pblocks.mem ? Tables.pblocks.t.count : 0u) + (Tables.blocks.mem ? Tables.blocks.t.count : 0u);
}

/* Room for one more packed entry: 0, or -1 at the memory bound. The common case inline. */
static inline int pack_room(tf_growpack *g) { return g->mem && g->t.count < g->t.capacity ? 0 : pack_grow_room(g); }

/* Room for one more entry, growing when full (capacity `initial` for the first storage). 0 or -1 (at the memory
 * bound). */
int table_room(tf_growtable *g, uint32_t initial);

/* Grows an array to at least `need` items, within the memory bound: 0 or -1. */
int grow_array(void **arr, uint32_t *cap, size_t item, uint32_t need);

void free_table(tf_growtable *g);
void free_pack(tf_growpack *g);

/* A slot for a new node whose caller is `parent`, or 0; a slot for a new site whose stack's leaf is `leaf`, with room
 * for its stack table entry, or 0 (counted as a dropped stack). Sampled mode may reclaim to make room. */
uint32_t new_node(uint32_t parent);
uint32_t new_site(uint32_t leaf);

/* The run's fixed-size state (static, but counted as the tracker's own memory like its tables). */
size_t fixed_bytes(void);

/* Frees the run's tables and drops its references. Needs the GIL. */
void release_run(void);

/* ---- tracker_stack.c: the Python stack ------------------------------------------------------------------------- */

/* Fills out[] with up to `max` frames of the current Python stack, innermost first (borrowed code refs), without
 * importlib's own frames when `fold` (Frames.fold_files). Sets *truncated when the stack was deeper. */
int walk_stack(PyThreadState *ts, tf_frame *out, int max, int *truncated, int fold);

/* Site index of the stack of `ts` (this call's gil_tstate), interning it on first sight; 0: no Python frame (NULL),
 * or out of room. Lock held. */
uint32_t current_site(PyThreadState *ts);

/* ---- tracker_hook.c: the hook ---------------------------------------------------------------------------------- */

void *hook_malloc(void *ctx, size_t size);
void *hook_calloc(void *ctx, size_t nelem, size_t elsize);
void *hook_realloc(void *ctx, void *old, size_t size);
void hook_free(void *ctx, void *p);

/* Recomputes the hook's switches after tracing or the guard count changed. Lock held. */
void update_free_check(void);

/* ---- tracker_install.c ----------------------------------------------------------------------------------------- */

void hooks_install(void);

/* Restores the previous allocators when ours are still on top and nothing needs them. */
void hooks_maybe_uninstall(void);

#endif
