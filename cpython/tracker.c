/* The allocation tracker: a PyMem_SetAllocator hook on the RAW, MEM and OBJ domains that attributes every
 * allocation (exact mode) or a Poisson sample by bytes (sampled mode) to the Python stack that made it, and
 * aggregates per stack as it goes: live bytes, allocations, frees, bytes allocated, and live bytes at the peak.
 *
 * Shape of the hook (see tracker.h for why its state is static):
 *   - every call first checks a thread-local busy flag: allocations made while the hook itself runs (our table
 *     growth uses libc malloc, but pymalloc's large-object path re-enters through the RAW domain, and the fallback
 *     frame walk creates frame objects) go straight to the previous allocator, so each block is counted once, at
 *     the outermost domain that saw it — the same rule tracemalloc follows;
 *   - one spinlock protects the tables: MEM/OBJ calls hold the GIL, but RAW calls may come from threads without it;
 *   - the tables (sitetable.h) live in libc memory, grow by doubling, and stop growing at max_memory: a block that
 *     finds no room is counted in `untracked_allocs` and left out of the live totals, never mis-attributed;
 *   - live blocks sit in an 8-byte-slot table (tf_packtable) when their size and stack fit its encoding (most do,
 *     see TF_PACK_*), else in a 16-byte-slot one: that table, one entry per live block, is most of exact mode's
 *     memory (docs/doctor.md, "Overhead", has the arithmetic);
 *   - the common paths are kept short: sampled mode decides "not sampled" with one thread-local countdown before
 *     calling the allocator and does nothing else; frees consult free_check (and, in sampled mode, a counting
 *     filter of sampled addresses) before taking the lock; the recording halves are out of line.
 *
 * Stacks are keyed by (code object, file name, instruction index) per frame, not by line: no line-table decoding in
 * the hot path; a frame's line is resolved once, when its stack is first seen. Code objects are not kept alive (that
 * would keep memory the program freed, e.g. a module's top-level code after import); the file and function name
 * strings are (as tracemalloc keeps file names). A dead code object's address can be reused by a new one; the file
 * name in the key (kept alive, so never reused) limits that to code from the same file at the same position.
 * Frames are read from the interpreter's internal frame chain through compat.h, one branch per version (3.11 to
 * 3.14): no allocation, no frame objects; `_tracker_status()["frame_walk"]` says so, and tests assert it.
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
#define TF_COMPAT_FRAMES 1 /* compat.h's frame accessors: this is the one file that reads the frame stack */
#include "tracker.h"
#include "tracker_tables.h"

#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "thrifty/sitetable.h"

/* The frame walk reads each version's frame layout through compat.h; a version it was not written against would
 * read garbage, so it does not build there (and thrifty/__init__.py refuses such a version at import). */
#if PY_VERSION_HEX < 0x030B0000 || PY_VERSION_HEX >= 0x030F0000
#error "thrifty's tracker reads the interpreter's frame stack, whose layout it knows for CPython 3.11 to 3.14 only"
#endif
/* 3.11: line numbers from a per-code cache of the line-table scan (line_of); later versions: PyCode_Addr2Line */
#define TF_LINE_SCAN_CACHE (PY_VERSION_HEX < 0x030C0000)

#define TF_MAX_DEPTH_LIMIT 256
#define TF_DEFAULT_MAX_DEPTH 64
#define TF_DEFAULT_SAMPLE_RATE (128 * 1024) /* the doctor's; thrifty watch samples more densely (cli.py) */
#define TF_CODEUNIT 2         /* bytes per bytecode unit: frame positions are kept in units, line lookup takes bytes */
#define TF_TIMING_EVERY 4096u /* one hook call in this many is timed to estimate the tracker's own cost */
#define TF_SIZE_BITS 40       /* block table value: size (40 bits) | site or guard serial (24 bits) */
#define TF_SIZE_MASK ((UINT64_C(1) << TF_SIZE_BITS) - 1u)
#define TF_TAG_MAX ((UINT32_C(1) << 24) - 1u)
#define TF_GATE_CLOSED UINT32_MAX /* T.gate when the fast path is off: no thread's tl.run holds it */
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
#define TF_SAMPLED_KEYS 96u /* stack table entries: 2 KiB of slots */
#define TF_SAMPLED_KEEP 8u  /* unpinned sites a reclaim keeps when that frees enough (for the churn report) */

/* Sampled mode keeps no node keys in a table: a node is found among its parent's children (tf_nodelink), 12 bytes
 * a node where a table entry took 16 to 43 with its slack, so its stack table holds the sites' keys only; it finds
 * functions without a table too (func_sorted). A value's high half says what its key is (site 0, node; exact mode's
 * function table tags its values too); the keys are 64-bit hashes of different things, distinct but for a
 * collision. Exact mode keeps three tables so its per-allocation stack lookup stays on the smallest one. */
#define TF_KEY_NODE (UINT64_C(1) << 32)
#define TF_KEY_FUNC (UINT64_C(2) << 32)

#define TF_LINE_CACHE 8
typedef struct {
    const void *code, *table; /* identity only: never dereferenced */
    Py_ssize_t table_len;
    int firstlineno;
    PyCodeAddressRange bounds;
} tf_linecache;

/* Sampled mode: a node's place in the tree, beside T.nodes (index for index), so that a new stack finds the nodes
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
 *   0 | site (20 bits)                    a block of its site's first size (size0), or
 *   1 | size - 1 (9 bits) | site (11 bits) a block of up to 512 bytes (pymalloc's range) from one of the first 2048
 *                                         sites;
 * anything else (an odd address, a larger block of another size, a later site) goes to the 16-byte table. */
#define TF_PACK_SHIFT 4
#define TF_PACK_VALUE_BITS 21u
#define TF_PACK_SMALL (UINT32_C(1) << 20)
#define TF_PACK_SMALL_SITES 2048u
#define TF_PACK_SMALL_SIZE 512u

/* Packed value for a block, or UINT32_MAX when it must go to the 16-byte table. */
static uint32_t pack_value(uint32_t site, uint64_t size, uint32_t size0) {
    if (size == size0 && site < TF_PACK_SMALL)
        return site;
    if (size <= TF_PACK_SMALL_SIZE && site < TF_PACK_SMALL_SITES)
        return TF_PACK_SMALL | (uint32_t)(size - 1u) << 11 | site;
    return UINT32_MAX;
}

static struct {
    /* The hook's fast-path gate, first so it shares a cache line with `free_check` and `prev`: the current run's
     * number while a sampled run traces and no guard is active anywhere, else TF_GATE_CLOSED. A thread whose
     * tl.run equals it may decide "not sampled" from its own countdown alone (hook_alloc). */
    _Atomic uint32_t gate;
    _Atomic int free_check; /* what hook_free must do: FREE_NONE, FREE_ALL, or FREE_FILTERED (sampled mode) */
    PyMemAllocatorEx prev[3];
    int installed;
    _Atomic int tracing; /* read without the lock as the hook's fast-path test */
    int guards_active;   /* active guards, all threads (GIL) */
    atomic_flag lock;

    /* run configuration */
    int sampled;
    double rate; /* mean bytes between samples */
    int max_depth;
    size_t max_memory;

    /* tables */
    tf_growpack pblocks; /* live traced block address >> 4 -> site, for blocks of their site's size0: most blocks */
    tf_growtable blocks; /* live traced block address -> size | site, for the others */
    tf_growtable stacks; /* stack hash -> site index */
    tf_site *sites;
    uint32_t nsites, sites_cap;
    tf_growtable nodetab; /* hash of (parent, code, position) -> TF_KEY_NODE | node index (exact mode) */
    tf_linecache lines[TF_LINE_CACHE];
    tf_node *nodes;
    uint32_t nnodes, nodes_cap;
    tf_nodelink *links; /* sampled mode: the tree's links, links_cap >= nnodes */
    uint32_t links_cap;
    uint32_t free_sites, free_nodes;   /* heads of the sampled-mode free lists; 0 = empty */
    uint32_t nfree_sites, nfree_nodes; /* their lengths */
    uint64_t recycled_sites;
    tf_growtable functab; /* hash of (file, name) -> TF_KEY_FUNC | function index (exact mode) */
    tf_func *funcs;
    uint32_t nfuncs, funcs_cap;
    uint32_t *forder; /* sampled mode: function indexes in (file, name) address order */
    uint32_t forder_cap;
    size_t own_bytes, own_peak;

    /* totals */
    int64_t live, peak;
    uint32_t peak_epoch;
    uint64_t peak_ns, allocs, frees, alloc_bytes, untracked, dropped_stacks, samples;
    uint32_t run_id; /* per-thread sampling countdowns belong to this run (never 0 nor TF_GATE_CLOSED) */
    int kept;        /* a stopped run's tables are kept for site lookups (keep_sites=True) until released */
    /* sampled mode: how many live sampled blocks hash to each bucket, so a free whose bucket is empty (nearly all)
     * skips the lock and the tables. A count, not a bit: pymalloc hands a freed address straight out again, so a
     * sampled block's address is soon reused by many unsampled ones; its bucket must empty when it is freed.
     * Saturated counts stay put (a false positive costs one table lookup, never a wrong answer). Counts are 4 bits,
     * two to a byte: a bucket rarely holds more than one live sample, and a small heap's tracker is mostly this. */
    uint8_t sampled_count[TF_SAMPLE_BUCKETS / 2];
    uint64_t rng;

    /* timeline: the envelope of the traced heap (timeline.h); the clock is read every `tick_every` operations,
     * `tick_left` counts down to the next reading (no division per allocation) */
    uint64_t t0_ns, ops, tick_every, tick_left;
    uint64_t peak_clock_ops; /* T.ops when peak_ns was last read from the clock */
    tf_timeline tl;
    uint64_t timed_ns, timed_calls;

    /* import pseudo-frames: importlib's _find_and_load code object (strong ref during a run, else NULL); a frame
     * running it is recorded as ("<import>", 0, module name), the name read from its first argument */
    PyObject *import_code;
    PyObject *import_label; /* "<import>", kept for the process */

    /* guards */
    tf_growtable gblocks; /* block address -> size | guard serial */
    uint32_t next_serial;
    uint64_t hook_losses; /* times our hook was found removed by someone else (tf_hook_losses) */
} T = {.gate = TF_GATE_CLOSED, .lock = ATOMIC_FLAG_INIT, .max_memory = (size_t)256 * 1024 * 1024};

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
} tf_tls;
static TF_TLS tf_tls tl;
static TF_TLS tf_guard_node *tl_guard;

enum { FREE_NONE = 0, FREE_ALL = 1, FREE_FILTERED = 2 };

#if defined(__GNUC__) || defined(__clang__)
#define TF_ALWAYS_INLINE inline __attribute__((always_inline))
#define TF_NOINLINE __attribute__((noinline))
#else
#define TF_ALWAYS_INLINE inline
#define TF_NOINLINE
#endif

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void lock(void) {
    unsigned spins = 0;
    while (atomic_flag_test_and_set_explicit(&T.lock, memory_order_acquire))
        if (++spins % 64u == 0)
            sched_yield();
}
static void unlock(void) { atomic_flag_clear_explicit(&T.lock, memory_order_release); }

/* ---- own memory ------------------------------------------------------------------------------------------- */

static void own_add(size_t add, size_t sub) {
    T.own_bytes = T.own_bytes + add - sub;
    if (T.own_bytes > T.own_peak)
        T.own_peak = T.own_bytes;
}

/* The storage half of growing either table kind (the table half, init and move, is typed): new storage of `bytes`
 * replacing `old_bytes`, within the memory bound, or NULL. */
static void *storage_alloc(size_t old_bytes, size_t bytes) {
    if (bytes == 0 || T.own_bytes - old_bytes + bytes > T.max_memory)
        return NULL;
    return malloc(bytes);
}

/* Frees the old storage and accounts for the new (mem may be NULL: the table is released). */
static void storage_swap(void **old, size_t *old_bytes, void *mem, size_t bytes) {
    own_add(bytes, *old_bytes);
    free(*old);
    *old = mem;
    *old_bytes = bytes;
}

static int grow_table(tf_growtable *g, uint32_t capacity) {
    tf_sitetable nt;
    size_t bytes = tf_sitetable_size(capacity);
    void *mem = storage_alloc(g->bytes, bytes);
    if (!mem)
        return -1;
    if (tf_sitetable_init(&nt, mem, bytes, capacity) != TF_OK || (g->mem && tf_sitetable_move(&nt, &g->t) != TF_OK)) {
        free(mem);
        return -1;
    }
    storage_swap(&g->mem, &g->bytes, mem, bytes);
    g->t = nt;
    return 0;
}

static int grow_pack(tf_growpack *g, uint32_t capacity) {
    tf_packtable nt;
    size_t bytes = tf_packtable_size(capacity);
    void *mem = storage_alloc(g->bytes, bytes);
    if (!mem)
        return -1;
    if (tf_packtable_init(&nt, mem, bytes, capacity, TF_PACK_VALUE_BITS) != TF_OK ||
        (g->mem && tf_packtable_move(&nt, &g->t) != TF_OK)) {
        free(mem);
        return -1;
    }
    storage_swap(&g->mem, &g->bytes, mem, bytes);
    g->t = nt;
    return 0;
}

static TF_NOINLINE int pack_grow_room(tf_growpack *g) {
    uint32_t cap;
    if (!g->mem)
        return grow_pack(g, 12);
    cap = tf_packtable_capacity(&g->t);
    if (tf_packtable_count(&g->t) < cap)
        return 0;
    if (cap > TF_SITETABLE_MAX_CAPACITY / 2u)
        return -1;
    return grow_pack(g, (g->t.mask + 1u) * 2u / 4u * 3u);
}

/* Room for one more packed entry: 0, or -1 at the memory bound. The common case inline. */
static inline int pack_room(tf_growpack *g) { return g->mem && g->t.count < g->t.capacity ? 0 : pack_grow_room(g); }

static void free_pack(tf_growpack *g) { storage_swap(&g->mem, &g->bytes, NULL, 0); }

static void free_table(tf_growtable *g) { storage_swap(&g->mem, &g->bytes, NULL, 0); }

/* Room for one more entry, growing when full. Capacities are 3/4 of a power-of-two slot count, so every slot
 * array is used up to the table's load limit before it doubles. 0 or -1 (at the memory bound). */
static int table_room(tf_growtable *g, uint32_t initial) {
    uint32_t cap;
    if (!g->mem)
        return grow_table(g, initial);
    cap = tf_sitetable_capacity(&g->t);
    if (tf_sitetable_count(&g->t) < cap)
        return 0;
    if (cap > TF_SITETABLE_MAX_CAPACITY / 2u)
        return -1;
    return grow_table(g, (g->t.mask + 1u) * 2u / 4u * 3u);
}

/* Grows an array to at least `need` items: by doubling in exact mode, by half in sampled mode, whose arrays follow
 * the live sample and whose slack is the recorder's memory that watch bounds. */
static int grow_array(void **arr, uint32_t *cap, size_t item, uint32_t need) {
    uint32_t ncap = *cap ? *cap : 16u;
    void *n;
    while (ncap < need)
        ncap = T.sampled ? ncap + ncap / 2u : ncap * 2u;
    if (ncap == *cap)
        return 0;
    if (T.own_bytes + (size_t)(ncap - *cap) * item > T.max_memory)
        return -1;
    n = realloc(*arr, (size_t)ncap * item);
    if (!n)
        return -1;
    own_add((size_t)ncap * item, (size_t)*cap * item);
    *arr = n;
    *cap = ncap;
    return 0;
}

/* ---- Python stack -------------------------------------------------------------------------------------------- */

/* The thread state whose frames may be read from this thread right now, or NULL: MEM/OBJ calls hold the GIL; a RAW
 * call may come from a thread without it, and then there is no Python stack to attribute to. */
static PyThreadState *gil_tstate(int domain) {
    PyThreadState *ts = _PyThreadState_UncheckedGet();
    if (domain == PYMEM_DOMAIN_RAW && ts && PyGILState_GetThisThreadState() != ts)
        return NULL;
    return ts;
}

/* The module name a frame of importlib's _find_and_load(name, import_) is importing: its first argument, read from
 * the frame's fast locals (no allocation). NULL when it is not a str. */
static PyObject *import_name(tf_py_frame *f) {
    PyObject *name = tf_py_frame_local(f, 0);
    return name && PyUnicode_Check(name) ? name : NULL;
}

/* Fills out[] with up to `max` frames of the current Python stack, innermost first (borrowed code refs). Sets
 * *truncated when the stack was deeper. */
static int walk_stack(PyThreadState *ts, tf_frame *out, int max, int *truncated) {
    int n = 0;
    *truncated = 0;
    if (!ts)
        return 0;
    for (tf_py_frame *f = tf_py_frame_top(ts); f; f = tf_py_frame_back(f)) {
        PyCodeObject *code = tf_py_frame_code(f);
        if (!code)
            continue; /* being set up, or a shim of the interpreter's own */
        if (n == max) {
            *truncated = 1;
            break;
        }
        out[n].code = (PyObject *)code;
        out[n].file = code->co_filename;
        out[n].lasti = tf_py_frame_lasti(f);
        if (out[n].code == T.import_code && import_name(f)) { /* keyed by the module's name, not the position */
            out[n].file = import_name(f);
            out[n].lasti = 0;
        }
        n++;
    }
    return n;
}

/* One frame into a stack's hash: two multiplies (the exact frame walk runs this per frame per allocation). The file
 * pointer is mixed in with the code pointer: see the top of the file for why the key holds it. */
static uint64_t frame_mix(uint64_t h, const void *code, const void *file, int lasti) {
    h = (h ^ (uint64_t)(uintptr_t)code) * UINT64_C(0x9e3779b97f4a7c15);
    h ^= ((uint64_t)(uintptr_t)file << 7) ^ ((uint64_t)(uint32_t)lasti << 45) ^ (h >> 31);
    return h * UINT64_C(0xff51afd7ed558ccd);
}

static uint64_t stack_final(uint64_t h, int n, int truncated) {
    h ^= (uint64_t)n ^ ((uint64_t)truncated << 40);
    h ^= h >> 29;
    return h ? h : 1u;
}

/* The current stack's hash, walking the frames without copying them out: the common case (a stack seen before)
 * needs nothing else. Same value as stack_hash over walk_stack's output. */
static uint64_t current_hash(PyThreadState *ts, int max, int *depth) {
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    int n = 0, truncated = 0;
    if (!ts) {
        *depth = 0;
        return 0;
    }
    for (tf_py_frame *f = tf_py_frame_top(ts); f; f = tf_py_frame_back(f)) {
        PyCodeObject *code = tf_py_frame_code(f);
        if (!code)
            continue;
        if (n == max) {
            truncated = 1;
            break;
        }
        if ((PyObject *)code == T.import_code && import_name(f))
            h = frame_mix(h, code, import_name(f), 0);
        else
            h = frame_mix(h, code, code->co_filename, tf_py_frame_lasti(f));
        n++;
    }
    *depth = n;
    return n ? stack_final(h, n, truncated) : 0;
}

static int line_of(PyCodeObject *code, int lasti);

enum { FULL_SITES, FULL_NODES, FULL_KEYS }; /* what a sampled-mode reclaim must make room in */
static void reclaim(uint32_t keep, uint32_t survivors);
static int reclaim_for(int full, uint32_t keep);

/* Room for one more key in the table nodes (and in sampled mode stacks) go to: 0, or -1 at the memory
 * bound. Sampled mode reclaims unused stacks and nodes before the stack table grows past TF_SAMPLED_KEYS, and grows
 * it only when that freed less than a quarter of it; `keep` is the leaf of the stack being interned. */
static int key_room(tf_growtable *g, uint32_t keep) {
    if (T.sampled && g->mem && g->t.count >= g->t.capacity && g->t.capacity >= TF_SAMPLED_KEYS) {
        if (reclaim_for(FULL_KEYS, keep))
            return 0;
        if (g->t.capacity <= TF_SITETABLE_MAX_CAPACITY / 2u && grow_table(g, (g->t.mask + 1u) * 2u / 4u * 3u) == 0)
            return 0;
        return g->t.count < g->t.capacity ? 0 : -1;
    }
    return table_room(g, 12);
}

/* Order of a function against (file, name): by address, which stays put while the run holds the strings. */
static int func_cmp(const tf_func *f, const PyObject *file, const PyObject *name) {
    uintptr_t a = (uintptr_t)f->file, b = (uintptr_t)file;
    if (a == b) {
        a = (uintptr_t)f->name;
        b = (uintptr_t)name;
    }
    return a < b ? -1 : a > b;
}

/* Sampled mode: the function index of a code object's (file, name) by binary search over the indexes in address
 * order, interning it (an insertion, O(functions)) on first sight; UINT32_MAX when out of room. 4 bytes a function
 * instead of a stack table entry (most of a small run's table was function keys), and a lookup happens only for a
 * new node. O(log functions). */
static uint32_t func_sorted(PyObject *file, PyObject *name) {
    uint32_t lo = 0, hi = T.nfuncs;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2u;
        int c = func_cmp(&T.funcs[T.forder[mid]], file, name);
        if (c == 0)
            return T.forder[mid];
        if (c < 0)
            lo = mid + 1u;
        else
            hi = mid;
    }
    if (T.nfuncs >= TF_TAG_MAX || grow_array((void **)&T.funcs, &T.funcs_cap, sizeof(tf_func), T.nfuncs + 1u) < 0 ||
        grow_array((void **)&T.forder, &T.forder_cap, sizeof *T.forder, T.nfuncs + 1u) < 0)
        return UINT32_MAX;
    memmove(&T.forder[lo + 1u], &T.forder[lo], (size_t)(T.nfuncs - lo) * sizeof *T.forder);
    T.forder[lo] = T.nfuncs;
    T.funcs[T.nfuncs] = (tf_func){Py_NewRef(file), Py_NewRef(name)};
    return T.nfuncs++;
}

/* Function index of a (file, name) pair (a code object's co_filename and co_qualname, or "<import>" and a module
 * name), interning it on first sight; UINT32_MAX when out of room. */
static uint32_t func_of(PyObject *file, PyObject *name) {
    uint64_t idx, key;
    if (T.sampled)
        return func_sorted(file, name);
    key = ((uint64_t)(uintptr_t)file * UINT64_C(0x9e3779b97f4a7c15)) ^ (uint64_t)(uintptr_t)name;
    key = key * UINT64_C(0xff51afd7ed558ccd);
    key = key ? key : 1u;
    if (T.functab.mem && tf_sitetable_get(&T.functab.t, key, &idx)) {
        /* a 64-bit hash of two pointers that stay alive: a collision is as unlikely as a stack hash collision */
        return (idx & ~(uint64_t)UINT32_MAX) == TF_KEY_FUNC ? (uint32_t)idx : UINT32_MAX;
    }
    if (T.nfuncs >= TF_TAG_MAX || table_room(&T.functab, 12) < 0 ||
        grow_array((void **)&T.funcs, &T.funcs_cap, sizeof(tf_func), T.nfuncs + 1u) < 0)
        return UINT32_MAX;
    T.funcs[T.nfuncs] = (tf_func){Py_NewRef(file), Py_NewRef(name)};
    tf_sitetable_put(&T.functab.t, key, TF_KEY_FUNC | T.nfuncs);
    return T.nfuncs++;
}

/* Whether a site must be kept: a live sampled block refers to it, or it held bytes at the last peak. */
static int site_pinned(const tf_site *s) {
    return s->live != 0 || (s->at_peak_epoch == T.peak_epoch && s->at_peak != 0);
}

/* What a reclaim removes from the stack table: the keys of recycled sites and of unmarked nodes. */
static int key_dead(void *ctx, uint64_t key, uint64_t value) {
    uint64_t kind = value & ~(uint64_t)UINT32_MAX;
    (void)ctx;
    (void)key;
    if (kind == 0)
        return T.sites[(uint32_t)value].unused;
    return kind == TF_KEY_NODE && !(T.nodes[(uint32_t)value].parent & TF_NODE_MARK);
}

static void free_node(uint32_t i) {
    T.nodes[i] = (tf_node){.parent = T.free_nodes, .func = TF_NODE_FREE};
    T.free_nodes = i;
    T.nfree_nodes++;
}

/* Sampled mode, when the site array, the node array or the stack table is full: recycles the unpinned sites except
 * the `survivors` that allocated the most bytes (a recycled site's counts are lost, like a sampled stack never met;
 * heavy sites stay, as in a space-saving top-k count), then frees every node no remaining site (nor the stack being
 * interned, from `keep` out) uses, and drops both kinds' keys in one pass over the table. O(sites * survivors +
 * nodes + frames of all sites + table slots). Every site below nsites and node below nnodes must be initialised or
 * on a free list. */
static void reclaim(uint32_t keep, uint32_t survivors) {
    uint32_t top[TF_SAMPLED_KEEP], ntop = 0;
    for (uint32_t i = 1; i < T.nsites && survivors; i++) {
        const tf_site *s = &T.sites[i];
        uint32_t k;
        if (s->unused || site_pinned(s) || (ntop == survivors && s->alloc_bytes <= T.sites[top[ntop - 1]].alloc_bytes))
            continue;
        /* insert into `top`, kept heaviest first; the lightest falls off when it is full */
        k = ntop < survivors ? ntop++ : ntop - 1;
        for (; k > 0 && T.sites[top[k - 1]].alloc_bytes < s->alloc_bytes; k--)
            top[k] = top[k - 1];
        top[k] = i;
    }
    for (uint32_t i = 1; i < T.nsites; i++) {
        tf_site *s = &T.sites[i];
        uint32_t k = 0;
        while (k < ntop && top[k] != i)
            k++;
        if (s->unused || site_pinned(s) || k < ntop)
            continue;
        *s = (tf_site){.leaf = T.free_sites, .unused = 1};
        T.free_sites = i;
        T.nfree_sites++;
        T.recycled_sites++;
    }
    for (uint32_t i = 0; i <= T.nsites; i++) {
        uint32_t node = i < T.nsites ? (T.sites[i].unused ? 0 : T.sites[i].leaf) : keep;
        while (node != 0 && !(T.nodes[node].parent & TF_NODE_MARK)) {
            T.nodes[node].parent |= TF_NODE_MARK;
            node = T.nodes[node].parent & ~TF_NODE_MARK;
        }
    }
    if (T.stacks.mem)
        tf_sitetable_remove_if(&T.stacks.t, key_dead, NULL);
    for (uint32_t i = 1; i < T.nnodes; i++) {
        if (T.nodes[i].parent & TF_NODE_MARK)
            T.nodes[i].parent &= ~TF_NODE_MARK;
        else if (T.nodes[i].func != TF_NODE_FREE)
            free_node(i);
    }
    /* the children lists again, of the nodes left */
    for (uint32_t i = 0; i < T.nnodes; i++)
        T.links[i].child = 0;
    for (uint32_t i = 1; i < T.nnodes; i++) {
        if (T.nodes[i].func == TF_NODE_FREE)
            continue;
        T.links[i].sibling = T.links[T.nodes[i].parent].child;
        T.links[T.nodes[i].parent].child = i;
    }
}

/* Sampled mode: the child of `parent` whose key is `key`, or 0. O(children). */
static uint32_t child_of(uint32_t parent, uint32_t key) {
    for (uint32_t c = T.links[parent].child; c != 0; c = T.links[c].sibling)
        if (T.links[c].key == key)
            return c;
    return 0;
}

/* Whether a quarter of what was full is free again. */
static int roomy(int full) {
    if (full == FULL_SITES)
        return T.nfree_sites >= T.sites_cap / 4u;
    if (full == FULL_NODES)
        return T.nfree_nodes >= T.nodes_cap / 4u;
    return T.stacks.t.count <= T.stacks.t.capacity / 4u * 3u;
}

/* Sampled mode: frees room in what is full instead of growing it, keeping the heaviest unpinned sites when that is
 * enough, else keeping only pinned ones; 1 when a quarter of it is free. What is full is grown only when the pinned
 * sites (those with bytes live or at the peak) and their frames take up most of it, so the tables follow what is
 * live; and a reclaim runs at most once per that quarter's worth of new sites, nodes or keys. */
static int reclaim_for(int full, uint32_t keep) {
    reclaim(keep, TF_SAMPLED_KEEP);
    if (!roomy(full))
        reclaim(keep, 0);
    return roomy(full);
}

/* A slot for a new node whose caller is `parent` (kept through a reclaim); 0 when out of room. The caller
 * initialises it before anything else can reclaim. */
static uint32_t new_node(uint32_t parent) {
    if (!T.free_nodes && T.nnodes == T.nodes_cap) {
        /* grow when nothing could be freed, or little; at the memory bound, what was freed serves */
        if (!(T.sampled && T.nodes_cap >= TF_SAMPLED_NODES && reclaim_for(FULL_NODES, parent)) && T.nnodes < TF_TAG_MAX)
            (void)grow_array((void **)&T.nodes, &T.nodes_cap, sizeof(tf_node), T.nnodes + 1u);
        if (T.sampled && T.links_cap < T.nodes_cap) /* in step: the same growth from the same start */
            (void)grow_array((void **)&T.links, &T.links_cap, sizeof(tf_nodelink), T.nodes_cap);
    }
    if (T.free_nodes) {
        uint32_t i = T.free_nodes;
        T.free_nodes = T.nodes[i].parent;
        T.nfree_nodes--;
        return i;
    }
    if (T.nnodes >= TF_TAG_MAX || T.nnodes == T.nodes_cap || (T.sampled && T.nnodes >= T.links_cap))
        return 0;
    return T.nnodes++;
}

/* A slot for a new site whose stack's leaf is `leaf`, with room for its stack table entry, or 0 (counted as a
 * dropped stack). The caller initialises it before anything else can reclaim. */
static uint32_t new_site(uint32_t leaf) {
    uint32_t i;
    if (!T.free_sites && T.nsites == T.sites_cap) {
        if (!(T.sampled && T.sites_cap >= TF_SAMPLED_SITES && reclaim_for(FULL_SITES, leaf)) && T.nsites < TF_TAG_MAX)
            (void)grow_array((void **)&T.sites, &T.sites_cap, sizeof(tf_site), T.nsites + 1u);
    }
    if ((!T.free_sites && (T.nsites >= TF_TAG_MAX || T.nsites == T.sites_cap)) || key_room(&T.stacks, leaf) < 0) {
        T.dropped_stacks++;
        return 0;
    }
    if (T.free_sites) {
        i = T.free_sites;
        T.free_sites = T.sites[i].leaf;
        T.nfree_sites--;
        return i;
    }
    return T.nsites++;
}

/* Site index of the current stack, interning it on first sight. Site 0 is "no Python frame / out of room". Two
 * distinct stacks share a site only when their 64-bit hashes collide. Called with the lock held. */
static uint32_t current_site(int domain) {
    tf_frame fr[TF_MAX_DEPTH_LIMIT];
    int truncated, n;
    PyThreadState *ts = gil_tstate(domain);
    uint64_t idx, h = current_hash(ts, T.max_depth, &n);
    if (n == 0)
        return 0;
    if (T.stacks.mem && tf_sitetable_get(&T.stacks.t, h, &idx))
        return idx >> 32 ? 0 : (uint32_t)idx; /* a node or function key: only if 64-bit hashes collide */
    n = walk_stack(ts, fr, T.max_depth, &truncated);
    uint32_t parent = 0;
    for (int i = n - 1; i >= 0; i--) {
        uint64_t key = (uint64_t)parent * UINT64_C(0x9e3779b97f4a7c15);
        key = (key ^ (uint64_t)(uintptr_t)fr[i].code) * UINT64_C(0x100000001b3);
        key = (key ^ (uint64_t)(uintptr_t)fr[i].file) * UINT64_C(0xc4ceb9fe1a85ec53);
        key = (key ^ (uint64_t)(uint32_t)fr[i].lasti) * UINT64_C(0xff51afd7ed558ccd);
        key = key ? key : 1u;
        uint64_t node;
        uint32_t key32 = (uint32_t)(key >> 32) ^ (uint32_t)key;
        if (T.sampled) {
            /* two frames under one parent share a node only if their 32-bit keys collide */
            if ((node = child_of(parent, key32)) != 0) {
                parent = (uint32_t)node;
                continue;
            }
        } else if (T.nodetab.mem && tf_sitetable_get(&T.nodetab.t, key, &node)) {
            if ((node & ~(uint64_t)UINT32_MAX) != TF_KEY_NODE) { /* another kind's key: a 64-bit collision */
                T.dropped_stacks++;
                return 0;
            }
            parent = (uint32_t)node;
            continue;
        }
        PyCodeObject *code = (PyCodeObject *)fr[i].code;
        /* an import frame's `file` is the module name (walk_stack) */
        int import = fr[i].code == T.import_code && fr[i].file != code->co_filename;
        uint32_t func = import ? func_of(T.import_label, fr[i].file) : func_of(code->co_filename, code->co_qualname);
        uint32_t slot;
        /* exact mode: the key's room first (sampled mode: a reclaim new_node runs keeps `parent`'s path) */
        if (func == UINT32_MAX || (!T.sampled && table_room(&T.nodetab, 12) < 0) || (slot = new_node(parent)) == 0) {
            T.dropped_stacks++;
            return 0;
        }
        T.nodes[slot] = (tf_node){.parent = parent, .line = import ? 0 : line_of(code, fr[i].lasti), .func = func};
        if (T.sampled) {
            T.links[slot] = (tf_nodelink){.key = key32, .sibling = T.links[parent].child};
            T.links[parent].child = slot;
        } else {
            tf_sitetable_put(&T.nodetab.t, key, TF_KEY_NODE | slot);
        }
        parent = slot;
    }
    uint32_t site = new_site(parent);
    if (site == 0)
        return 0;
    T.sites[site] = (tf_site){.leaf = parent, .depth = (uint16_t)n, .truncated = (uint8_t)truncated};
    tf_sitetable_put(&T.stacks.t, h, site);
    return site;
}

/* Line of a frame position, for a new stack node. PyCode_Addr2Line scans the code's line table from its start every
 * time: thousands of steps for a long module body, and a module body being imported meets many new nodes, in
 * increasing order. Python 3.11: keep each recent code object's scan position (a few, direct-mapped) and step from
 * there. An entry is reused only when the live code object matches it in address, line table object and length
 * and first line, so a dead code object's entry is never read past the end of the live table (at worst a reused
 * address with an identical-looking table gives a wrong line, the same risk the stack keys accept). */
static int line_of(PyCodeObject *code, int lasti) {
    int addr = lasti < 0 ? 0 : lasti * TF_CODEUNIT;
#if TF_LINE_SCAN_CACHE
    PyObject *table = code->co_linetable;
    tf_linecache *e = &T.lines[((uintptr_t)code >> 4) % TF_LINE_CACHE];
    if (e->code != code || e->table != table || e->table_len != PyBytes_GET_SIZE(table) ||
        e->firstlineno != code->co_firstlineno) {
        /* what 3.11's _PyLineTable_InitAddressRange does (not exported) */
        e->code = code;
        e->table = table;
        e->table_len = PyBytes_GET_SIZE(table);
        e->firstlineno = code->co_firstlineno;
        e->bounds.opaque.lo_next = (const uint8_t *)PyBytes_AS_STRING(table);
        e->bounds.opaque.limit = e->bounds.opaque.lo_next + e->table_len;
        e->bounds.ar_start = -1;
        e->bounds.ar_end = 0;
        e->bounds.opaque.computed_line = code->co_firstlineno;
        e->bounds.ar_line = -1;
    }
    return _PyCode_CheckLineNumber(addr, &e->bounds);
#else
    return PyCode_Addr2Line(code, addr);
#endif
}

/* ---- accounting ---------------------------------------------------------------------------------------------- */

static void site_touch(tf_site *s) {
    if (s->at_peak_epoch != T.peak_epoch) {
        s->at_peak = s->live;
        s->at_peak_epoch = T.peak_epoch;
    }
}

/* Every `tick_every` operations: a clock reading for the timeline (which opens a new bucket when the current one has
 * ended) and for the run file (a snapshot when one is due). */
static void timeline_tick(void) {
    uint64_t now;
    T.ops++;
    if (--T.tick_left)
        return;
    T.tick_left = T.ops < TF_TIMELINE_FINE_OPS ? 1u : T.tick_every; /* short runs get buckets too */
    now = now_ns();
    {
        size_t room = T.max_memory > T.own_bytes ? T.max_memory - T.own_bytes : 0;
        if (T.sampled) {
            /* sampled mode's tables follow what is live; the timeline's array stays within 1/512 of the traced peak
             * (so a small heap gets fewer, wider buckets: at most 256, 6 KiB, under a 6 MiB peak), but has its first
             * 32 buckets whatever the peak */
            size_t share = (size_t)(T.peak / 512), have = (size_t)T.tl.cap * sizeof(tf_bucket);
            share = share > 32u * sizeof(tf_bucket) ? share : 32u * sizeof(tf_bucket);
            room = share > have && share - have < room ? share - have : share > have ? room : 0;
        }
        long grown = tf_timeline_tick(&T.tl, now - T.t0_ns, T.live, room);
        if (grown > 0)
            own_add((size_t)grown, 0);
    }
    tf_runfile_tick(now);
}

/* Sampled mode: a block of `size` bytes is sampled with probability p = 1 - exp(-size/rate); a sample stands for
 * size/p bytes and 1/p allocations (unbiased). Deterministic in size, so a free subtracts what its alloc added. */
static void sample_weights(uint64_t size, int64_t *bytes, int64_t *count) {
    double p = -expm1(-(double)size / T.rate);
    if (p <= 0.0) {
        *bytes = (int64_t)size;
        *count = 1;
        return;
    }
    *bytes = (int64_t)llround((double)size / p);
    *count = (int64_t)llround(1.0 / p);
    if (*count < 1)
        *count = 1;
}

static double next_interval(void) {
    /* xorshift64*: uniform in (0, 1], exponential by inversion */
    T.rng ^= T.rng >> 12;
    T.rng ^= T.rng << 25;
    T.rng ^= T.rng >> 27;
    double u = (double)((T.rng * UINT64_C(2685821657736338717)) >> 11) * (1.0 / 9007199254740992.0);
    return -log(1.0 - u) * T.rate + 1.0;
}

static uint32_t sample_bucket(const void *p) {
    return (uint32_t)(((uint64_t)(uintptr_t)p * UINT64_C(0x9e3779b97f4a7c15)) >> (64 - TF_SAMPLE_BUCKET_BITS));
}

static int maybe_sampled(const void *p) {
    uint32_t b = sample_bucket(p);
    return (T.sampled_count[b >> 1] >> ((b & 1u) * 4u) & 15u) != 0;
}

/* Adds `delta` (+1 or -1) to a bucket's 4-bit count; a saturated (15) or empty count stays put. */
static void filter_step(const void *p, int delta) {
    uint32_t b = sample_bucket(p), shift = (b & 1u) * 4u;
    uint8_t *byte = &T.sampled_count[b >> 1];
    uint32_t c = (uint32_t)*byte >> shift & 15u;
    if (c == 15u || (c == 0u && delta < 0))
        return;
    c = delta > 0 ? c + 1u : c - 1u;
    *byte = (uint8_t)((*byte & ~(15u << shift)) | c << shift);
}

static void filter_add(const void *p) { filter_step(p, 1); }

static void filter_remove(const void *p) { filter_step(p, -1); }

static void trace_alloc(int domain, void *p, uint64_t size) {
    int64_t wbytes = (int64_t)size, wcount = 1;
    uint32_t site;
    if (T.sampled) {
        /* the caller saw this thread's countdown run out: this allocation is a sample */
        tl.countdown = (int64_t)next_interval();
        T.samples++;
        sample_weights(size, &wbytes, &wcount);
    }
    T.allocs += (uint64_t)wcount;
    T.alloc_bytes += (uint64_t)wbytes;
    timeline_tick();
    if (size > TF_SIZE_MASK) {
        T.untracked++;
        return;
    }
    site = current_site(domain);
    {
        uintptr_t a = (uintptr_t)p;
        tf_site *s = &T.sites[site];
        if (!s->size0 && size <= UINT32_MAX)
            s->size0 = (uint32_t)size;
        uint32_t pv = pack_value(site, size, s->size0);
        if (pv != UINT32_MAX && !(a & ((1u << TF_PACK_SHIFT) - 1u)) && pack_room(&T.pblocks) == 0 &&
            tf_packtable_put(&T.pblocks.t, (uint64_t)(a >> TF_PACK_SHIFT), pv) == TF_OK) {
            /* packed: 8 bytes */
        } else if (table_room(&T.blocks, 12) < 0) {
            T.untracked++;
            return;
        } else {
            tf_sitetable_put(&T.blocks.t, (uint64_t)a, size | ((uint64_t)site << TF_SIZE_BITS));
        }
        if (T.sampled)
            filter_add(p);
    }
    {
        tf_site *s = &T.sites[site];
        site_touch(s);
        s->live += wbytes;
        s->allocs += (uint64_t)wcount;
        s->alloc_bytes += (uint64_t)wbytes;
    }
    T.live += wbytes;
    tf_timeline_up(&T.tl, T.live);
    if (T.live > T.peak) {
        T.peak = T.live;
        T.peak_epoch++;
        /* While the heap grows nearly every allocation is a new peak: read the clock at most once per 64
         * allocations (microseconds apart), not per allocation. */
        if (T.ops - T.peak_clock_ops >= 64u || T.peak_ns == 0) {
            T.peak_ns = now_ns() - T.t0_ns;
            T.peak_clock_ops = T.ops;
        }
    }
}

/* Site of a packed live-block value (see TF_PACK_*). */
static uint32_t unpack_site(uint64_t v) {
    return v & TF_PACK_SMALL ? (uint32_t)v & (TF_PACK_SMALL_SITES - 1u) : (uint32_t)v;
}

static void trace_free(void *p) {
    uint64_t v, size;
    int64_t wbytes, wcount = 1;
    uint32_t site;
    uintptr_t a = (uintptr_t)p;
    if (T.pblocks.mem && !(a & ((1u << TF_PACK_SHIFT) - 1u)) &&
        tf_packtable_take(&T.pblocks.t, (uint64_t)(a >> TF_PACK_SHIFT), &v)) {
        site = unpack_site(v);
        size = v & TF_PACK_SMALL ? ((v >> 11) & (TF_PACK_SMALL_SIZE - 1u)) + 1u : T.sites[site].size0;
    } else if (T.blocks.mem && tf_sitetable_take(&T.blocks.t, (uint64_t)a, &v)) {
        size = v & TF_SIZE_MASK;
        site = (uint32_t)(v >> TF_SIZE_BITS);
    } else {
        return;
    }
    wbytes = (int64_t)size;
    if (T.sampled) {
        filter_remove(p);
        sample_weights(size, &wbytes, &wcount);
    }
    T.frees += (uint64_t)wcount;
    if (site < T.nsites) {
        tf_site *s = &T.sites[site];
        site_touch(s);
        s->live -= wbytes;
        s->frees += (uint64_t)wcount;
    }
    T.live -= wbytes;
    tf_timeline_down(&T.tl, T.live);
    timeline_tick();
}

/* Guards: refuse an allocation that breaks a guard of this thread (once per guard), else nothing. */
/* A guard entered in a generator or coroutine counts only while that runs: code that runs while it is suspended
 * (another task, the generator's consumer) is not its business. Noted, so leaving the block can say so. */
static int guard_sleeps(tf_guard_node *g) {
    if (g->gen && !tf_gen_running(g->gen)) {
        g->suspended = 1;
        return 1;
    }
    return 0;
}

static int guard_refuses(uint64_t size, void *old) {
    for (tf_guard_node *g = tl_guard; g; g = g->outer) {
        int refuse = 0;
        if (g->tripped || guard_sleeps(g))
            continue;
        if (g->kind == TF_GUARD_NOALLOC)
            refuse = 1;
        else if (g->kind == TF_GUARD_BUDGET) {
            int64_t growth = (int64_t)size;
            uint64_t v;
            if (old && T.gblocks.mem && tf_sitetable_get(&T.gblocks.t, (uint64_t)(uintptr_t)old, &v))
                growth -= (int64_t)(v & TF_SIZE_MASK);
            refuse = g->live + growth > g->limit;
        }
        if (refuse) {
            PyThreadState *ts = _PyThreadState_UncheckedGet();
            tf_frame fr[1];
            int trunc;
            g->tripped = 1;
            g->trip_size = (int64_t)size;
            g->trip_live = g->live;
            if (ts && PyGILState_GetThisThreadState() == ts && walk_stack(ts, fr, 1, &trunc) == 1) {
                Py_INCREF(fr[0].code);
                g->trip_code = fr[0].code;
                g->trip_lasti = fr[0].lasti;
            }
            return 1;
        }
    }
    return 0;
}

static void guard_alloc(void *p, uint64_t size) {
    tf_guard_node *g = tl_guard;
    /* A block the table has no room for is still counted; only its free goes unseen. */
    if (size <= TF_SIZE_MASK && table_room(&T.gblocks, 48) == 0)
        tf_sitetable_put(&T.gblocks.t, (uint64_t)(uintptr_t)p, size | ((uint64_t)g->serial << TF_SIZE_BITS));
    for (; g; g = g->outer) {
        if (guard_sleeps(g))
            continue;
        g->blocks++;
        g->bytes += size;
        g->live += (int64_t)size;
        if (g->live > g->peak)
            g->peak = g->live;
    }
}

static void guard_free(void *p) {
    uint64_t v, size;
    uint32_t serial;
    tf_guard_node *g = tl_guard;
    if (!T.gblocks.mem || !tf_sitetable_take(&T.gblocks.t, (uint64_t)(uintptr_t)p, &v))
        return;
    size = v & TF_SIZE_MASK;
    serial = (uint32_t)(v >> TF_SIZE_BITS);
    /* The block counts for the guard that was innermost at its allocation and every guard outside it, if that guard
     * is still active on this thread. */
    while (g && g->serial != serial)
        g = g->outer;
    for (; g; g = g->outer) {
        if (guard_sleeps(g))
            continue;
        g->freed += size;
        g->live -= (int64_t)size;
    }
}

/* ---- the hook -------------------------------------------------------------------------------------------------- */

/* Whether the tracker records this allocation: always in exact mode, when this thread's countdown runs out in
 * sampled mode (no lock on the common path), never when not tracing. */
static int take_sample_slow(uint64_t size) {
    if (!atomic_load_explicit(&T.tracing, memory_order_relaxed))
        return 0;
    if (!T.sampled)
        return 1;
    if (tl.run != T.run_id) {
        lock();
        tl.countdown = (int64_t)next_interval();
        unlock();
        tl.run = T.run_id;
    }
    tl.countdown -= (int64_t)(size ? size : 1u);
    return tl.countdown <= 0;
}

/* The sampled-mode common case inline: one thread-local decrement decides "not sampled". */
static inline int take_sample(uint64_t size) {
    if (T.sampled && tl.run == T.run_id) {
        tl.countdown -= (int64_t)(size ? size : 1u);
        if (tl.countdown > 0)
            return 0;
        return atomic_load_explicit(&T.tracing, memory_order_relaxed) != 0;
    }
    return take_sample_slow(size);
}

static int refuse_locked(uint64_t size, void *old) {
    int r;
    lock();
    r = guard_refuses(size, old);
    unlock();
    return r;
}

#define PREV(ctx) (&T.prev[(intptr_t)(ctx)])
#define HOOK_IDLE() (tl.busy || (!atomic_load_explicit(&T.tracing, memory_order_relaxed) && !tl_guard))

static void after_alloc(int domain, void *p, uint64_t size, int sample) {
    if (tl_guard)
        guard_alloc(p, size);
    if (sample && atomic_load_explicit(&T.tracing, memory_order_relaxed))
        trace_alloc(domain, p, size);
}

static void before_free(void *p) {
    if (T.gblocks.mem && tf_sitetable_count(&T.gblocks.t))
        guard_free(p);
    if (atomic_load_explicit(&T.tracing, memory_order_relaxed))
        trace_free(p);
}

/* Every (TF_TIMING_EVERY)th bookkeeping step is timed; the sum scaled up estimates the tracker's own time. */
static uint64_t timing_start(void) { return (++T.timed_calls % TF_TIMING_EVERY) == 0 ? now_ns() : 0; }
static void timing_end(uint64_t t0) {
    if (t0)
        T.timed_ns += (now_ns() - t0) * TF_TIMING_EVERY;
}

/* The recording half of an allocation hook, out of line so the common path stays small. tl.busy is set. */
static TF_NOINLINE void *alloc_slow(void *ctx, size_t nelem, size_t elsize, int zero, int sample) {
    PyMemAllocatorEx *prev = PREV(ctx);
    size_t size = nelem * elsize;
    void *p;
    if (tl_guard && refuse_locked(size, NULL)) {
        tl.busy = 0;
        return NULL;
    }
    p = zero ? prev->calloc(prev->ctx, nelem, elsize) : prev->malloc(prev->ctx, size);
    if (p) {
        if (sample && T.pblocks.mem) /* overlaps the likely cache miss with the stack walk */
            tf_packtable_prefetch(&T.pblocks.t, (uint64_t)((uintptr_t)p >> TF_PACK_SHIFT));
        lock();
        uint64_t t0 = timing_start();
        after_alloc((int)(intptr_t)ctx, p, size ? size : 1u, sample);
        timing_end(t0);
        unlock();
    }
    tl.busy = 0;
    return p;
}

/* Everything but the sampled-mode common case (hook_alloc): idle, busy, exact mode, guards, a thread's first
 * allocation of a run, and this thread's countdown running out. */
static TF_NOINLINE void *alloc_other(void *ctx, size_t nelem, size_t elsize, int zero) {
    PyMemAllocatorEx *prev = PREV(ctx);
    size_t size = nelem * elsize;
    void *p;
    int sample;
    if (HOOK_IDLE())
        return zero ? prev->calloc(prev->ctx, nelem, elsize) : prev->malloc(prev->ctx, size);
    sample = take_sample(size);
    tl.busy = 1;
    if (!sample && !tl_guard) {
        p = zero ? prev->calloc(prev->ctx, nelem, elsize) : prev->malloc(prev->ctx, size);
        tl.busy = 0;
        return p;
    }
    return alloc_slow(ctx, nelem, elsize, zero, sample);
}

/* Sampled mode's usual answer, "not sampled", decided inline: the gate (one shared word: a sampled run traces and no
 * guard is active) and this thread's run number, busy flag and countdown (one thread-local struct). Then the hook
 * only sets the busy flag around the allocator's call (which keeps pymalloc's own RAW call for a large block from
 * counting its bytes twice). Anything else goes out of line. */
static TF_ALWAYS_INLINE void *hook_alloc(void *ctx, size_t nelem, size_t elsize, int zero) {
    size_t size = nelem * elsize;
    if (tl.run == atomic_load_explicit(&T.gate, memory_order_relaxed) && !tl.busy) {
        int64_t left = tl.countdown - (int64_t)(size ? size : 1u);
        if (left > 0) {
            PyMemAllocatorEx *prev = PREV(ctx);
            void *p;
            tl.countdown = left;
            tl.busy = 1;
            p = zero ? prev->calloc(prev->ctx, nelem, elsize) : prev->malloc(prev->ctx, size);
            tl.busy = 0;
            return p;
        }
    }
    return alloc_other(ctx, nelem, elsize, zero);
}

static void *hook_malloc(void *ctx, size_t size) { return hook_alloc(ctx, 1, size, 0); }

static void *hook_calloc(void *ctx, size_t nelem, size_t elsize) {
    if (elsize && nelem > SIZE_MAX / elsize) { /* overflows: let the allocator refuse it, untraced */
        PyMemAllocatorEx *prev = PREV(ctx);
        return prev->calloc(prev->ctx, nelem, elsize);
    }
    return hook_alloc(ctx, nelem, elsize, 1);
}

static TF_NOINLINE void *realloc_other(void *ctx, void *old, size_t size) {
    PyMemAllocatorEx *prev = PREV(ctx);
    void *p;
    int check_old;
    if (HOOK_IDLE())
        return prev->realloc(prev->ctx, old, size);
    int sample = take_sample(size);
    tl.busy = 1;
    if (tl_guard && refuse_locked(size, old)) {
        tl.busy = 0;
        return NULL;
    }
    check_old =
        old && (atomic_load_explicit(&T.free_check, memory_order_relaxed) == FREE_ALL ||
                (atomic_load_explicit(&T.free_check, memory_order_relaxed) == FREE_FILTERED && maybe_sampled(old)));
    /* realloc is a free of the old block and an allocation of the new one (as tracemalloc counts it). The free is
     * recorded before the allocator's call: when the block moves, the allocator frees `old` inside the call, and
     * another thread (a RAW caller needs no GIL) may be handed that address at once and record it; were our free
     * recorded after that, it would remove the other thread's entry and leave ours (tests/test_tracker.py::
     * test_realloc_free_and_alloc_are_one_step forces that interleaving). The lock is not held across the call:
     * when tracemalloc was started first, its RAW realloc beneath us takes the GIL, which a thread spinning on our
     * lock may hold. Cost: a failed realloc leaves its block counted as freed until it is really freed (whose free
     * then finds no entry), and a second lock round trip for a realloc of a recorded block. */
    int record = sample || tl_guard || check_old;
    if (old && record) {
        lock();
        uint64_t t0 = timing_start();
        before_free(old);
        timing_end(t0);
        unlock();
    }
    p = prev->realloc(prev->ctx, old, size);
    if (p && record) {
        lock();
        uint64_t t0 = timing_start();
        after_alloc((int)(intptr_t)ctx, p, size ? size : 1u, sample);
        timing_end(t0);
        unlock();
    }
    tl.busy = 0;
    return p;
}

/* The same common case as hook_alloc's, for a realloc whose old block is not (by the filter) a sampled one. */
static void *hook_realloc(void *ctx, void *old, size_t size) {
    if (tl.run == atomic_load_explicit(&T.gate, memory_order_relaxed) && !tl.busy && !(old && maybe_sampled(old))) {
        int64_t left = tl.countdown - (int64_t)(size ? size : 1u);
        if (left > 0) {
            PyMemAllocatorEx *prev = PREV(ctx);
            void *p;
            tl.countdown = left;
            tl.busy = 1;
            p = prev->realloc(prev->ctx, old, size);
            tl.busy = 0;
            return p;
        }
    }
    return realloc_other(ctx, old, size);
}

/* Records the free of a block that may be traced, then frees it. Out of line: most frees never come here. */
static TF_NOINLINE void free_slow(void *ctx, void *p) {
    PyMemAllocatorEx *prev = PREV(ctx);
    /* Forget the block before the allocator can hand its address out again. */
    tl.busy = 1;
    lock();
    before_free(p);
    unlock();
    tl.busy = 0;
    prev->free(prev->ctx, p);
}

/* The common case, a block that cannot be traced (sampled mode: its address's filter bucket is empty), is a tail
 * call to the allocator. */
static void hook_free(void *ctx, void *p) {
    int check = atomic_load_explicit(&T.free_check, memory_order_relaxed);
    if (check != FREE_NONE && p && (check == FREE_ALL || maybe_sampled(p)) && !tl.busy) {
        free_slow(ctx, p);
        return;
    }
    PyMemAllocatorEx *prev = PREV(ctx);
    prev->free(prev->ctx, p);
}

/* Recomputes free_check after tracing or the guard count changed. Called with the lock held. */
static void update_free_check(void) {
    int tracing = atomic_load(&T.tracing), check = FREE_NONE;
    if (T.guards_active || (tracing && !T.sampled))
        check = FREE_ALL;
    else if (tracing)
        check = FREE_FILTERED;
    atomic_store(&T.free_check, check);
    /* the fast path needs none of this: tracing sampled, no guard on any thread (so none on the caller's) */
    atomic_store(&T.gate, tracing && T.sampled && !T.guards_active ? T.run_id : TF_GATE_CLOSED);
}

static void hooks_install(void) {
    static const PyMemAllocatorDomain domains[3] = {PYMEM_DOMAIN_RAW, PYMEM_DOMAIN_MEM, PYMEM_DOMAIN_OBJ};
    if (T.installed)
        return;
    for (int d = 0; d < 3; d++) {
        PyMemAllocatorEx mine = {(void *)(intptr_t)domains[d], hook_malloc, hook_calloc, hook_realloc, hook_free};
        PyMem_GetAllocator(domains[d], &T.prev[domains[d]]);
        PyMem_SetAllocator(domains[d], &mine);
    }
    T.installed = 1;
}

/* Whether an allocation made now reaches our hook, wherever it sits in the allocator chain: a 1-byte RAW
 * allocation under a private probe guard (no outer guards, so no other guard counts it). GIL held. */
static int hook_reached(void) {
    tf_guard_node probe;
    memset(&probe, 0, sizeof probe);
    lock();
    T.next_serial = T.next_serial % TF_TAG_MAX + 1u;
    probe.serial = T.next_serial;
    tf_guard_node *saved = tl_guard;
    tl_guard = &probe;
    T.guards_active++;
    update_free_check();
    unlock();
    PyMem_RawFree(PyMem_RawMalloc(1));
    lock();
    tl_guard = saved;
    T.guards_active--;
    update_free_check();
    unlock();
    return probe.blocks > 0;
}

uint64_t tf_hook_losses(void) {
    if (T.installed && !hook_reached()) {
        T.installed = 0; /* someone restored allocators from before ours: ours are in no chain any more */
        T.hook_losses++;
        if (atomic_load(&T.tracing) || T.guards_active)
            hooks_install();
    }
    return T.hook_losses;
}

/* Restores the previous allocators when ours are still on top. When someone hooked after us, ours stay in their
 * chain as a pass-through (idle hook: one thread-local and one relaxed load per call). */
static void hooks_maybe_uninstall(void) {
    if (!T.installed || atomic_load(&T.tracing) || T.guards_active)
        return;
    for (int d = 0; d < 3; d++) {
        PyMemAllocatorEx cur;
        PyMem_GetAllocator((PyMemAllocatorDomain)d, &cur);
        if (cur.malloc != hook_malloc || cur.ctx != (void *)(intptr_t)d)
            return;
    }
    for (int d = 0; d < 3; d++)
        PyMem_SetAllocator((PyMemAllocatorDomain)d, &T.prev[d]);
    T.installed = 0;
    free_table(&T.gblocks);
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
    lock();
    for (tf_guard_node *g = innermost; g; g = g->outer)
        T.guards_active--;
    if (T.guards_active == 0 && T.gblocks.mem)
        tf_sitetable_clear(&T.gblocks.t);
    update_free_check();
    unlock();
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
    lock();
    T.next_serial = T.next_serial % TF_TAG_MAX + 1u;
    g->serial = T.next_serial;
    g->outer = tl_guard;
    tl_guard = g;
    T.guards_active++;
    update_free_check();
    unlock();
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
    lock();
    *link = g->outer;
    g->outer = NULL;
    (void)pthread_setspecific(guard_key, tl_guard); /* NULL once the thread has no guard: no cleanup at its exit */
    T.guards_active--;
    if (T.guards_active == 0 && T.gblocks.mem)
        tf_sitetable_clear(&T.gblocks.t);
    update_free_check();
    unlock();
    hooks_maybe_uninstall();
    return 0;
}

/* ---- Python API ------------------------------------------------------------------------------------------------ */

/* The run's fixed-size state (static, but counted as the tracker's own memory like its tables). */
static size_t fixed_bytes(void) { return sizeof T.lines + (T.sampled ? sizeof T.sampled_count : 0); }

static void release_run(void);

/* Frees a stopped run's tables kept for site lookups; nothing when none are kept. Needs the GIL. */
static void release_kept(void) {
    if (!T.kept)
        return;
    T.kept = 0;
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
    static char *kwlist[] = {"sampled", "sample_rate", "max_depth", "max_memory", NULL};
    int sampled = 0, max_depth = TF_DEFAULT_MAX_DEPTH;
    long long rate = TF_DEFAULT_SAMPLE_RATE, max_memory = 256ll * 1024 * 1024;
    (void)module;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|$pLiL:_tracker_start", kwlist, &sampled, &rate, &max_depth,
                                     &max_memory))
        return NULL;
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
    if (atomic_load(&T.tracing)) {
        PyErr_SetString(PyExc_RuntimeError, "the thrifty tracker is already running (one run at a time)");
        return NULL;
    }
    if (stopping)
        return refuse_while_stopping("_tracker_start");
    release_kept();
    {
        /* found before the lock: looking it up allocates */
        PyObject *code = tf_find_and_load_code();
        if (!code && PyErr_Occurred())
            return NULL;
        if (!T.import_label && !(T.import_label = PyUnicode_InternFromString("<import>"))) {
            Py_XDECREF(code);
            return NULL;
        }
        Py_XSETREF(T.import_code, code);
    }
    lock();
    T.sampled = sampled;
    T.rate = (double)rate;
    T.max_depth = max_depth;
    T.max_memory = (size_t)max_memory;
    T.live = T.peak = 0;
    T.peak_epoch = 1;
    T.peak_ns = T.allocs = T.frees = T.alloc_bytes = T.untracked = T.dropped_stacks = T.samples = 0;
    T.rng = now_ns() | 1u;
    T.run_id = T.run_id + 1u >= TF_GATE_CLOSED ? 1u : T.run_id + 1u; /* never 0 (a thread's first) nor closed */
    memset(T.sampled_count, 0, sizeof T.sampled_count);
    memset(T.lines, 0, sizeof T.lines);
    T.t0_ns = now_ns();
    T.ops = T.peak_clock_ops = 0;
    T.tick_every = sampled ? 1 : 64;
    T.tick_left = 1;
    tf_timeline_reset(&T.tl);
    T.timed_ns = T.timed_calls = 0;
    T.own_peak = T.own_bytes;
    /* site 0: allocations with no Python frame, or made when the stack table was out of room */
    if (grow_array((void **)&T.sites, &T.sites_cap, sizeof(tf_site), 1) < 0) {
        unlock();
        return PyErr_NoMemory();
    }
    T.sites[0] = (tf_site){0};
    T.nsites = 1;
    /* node 0: the root every outermost frame hangs from */
    if (grow_array((void **)&T.nodes, &T.nodes_cap, sizeof(tf_node), 1) < 0) {
        unlock();
        return PyErr_NoMemory();
    }
    T.nodes[0] = (tf_node){0};
    T.nnodes = 1;
    if (sampled) {
        if (grow_array((void **)&T.links, &T.links_cap, sizeof(tf_nodelink), T.nodes_cap) < 0) {
            unlock();
            return PyErr_NoMemory();
        }
        T.links[0] = (tf_nodelink){0};
    }
    T.free_sites = T.free_nodes = T.nfree_sites = T.nfree_nodes = 0;
    T.recycled_sites = 0;
    own_add(fixed_bytes(), 0);
    atomic_store(&T.tracing, 1);
    update_free_check();
    unlock();
    hooks_install();
    Py_RETURN_NONE;
}

static PyObject *frame_tuple(const tf_node *f) {
    const tf_func *fn = &T.funcs[f->func];
    return Py_BuildValue("(OiO)", fn->file, f->line, fn->name);
}

/* Builds the raw result. Frames are deduplicated by (file, line, function) into one list; stacks refer to them by
 * index, outermost first (the order a flame graph draws). */
static PyObject *build_result(void) {
    PyObject *res = NULL, *frames = PyList_New(0), *index = PyDict_New(), *stacks = PyList_New(0), *timeline = NULL;
    /* node -> its frame's index (borrowed from `index`), filled on first use: nodes are shared by many stacks */
    PyObject **node_id = PyMem_Calloc(T.nnodes ? T.nnodes : 1u, sizeof(PyObject *));
    if (!frames || !index || !stacks || !node_id)
        goto error;
    for (uint32_t i = 0; i < T.nsites; i++) {
        tf_site *s = &T.sites[i];
        int64_t at_peak = s->at_peak_epoch == T.peak_epoch ? s->at_peak : s->live;
        PyObject *ids, *item;
        if (s->unused)
            continue;
        ids = PyTuple_New(s->depth);
        uint32_t node = s->leaf;
        if (!ids)
            goto error;
        for (uint32_t k = s->depth; k-- > 0; node = T.nodes[node].parent) {
            PyObject *ft, *id = node_id[node];
            if (id) {
                Py_INCREF(id);
                PyTuple_SET_ITEM(ids, k, id);
                continue;
            }
            ft = frame_tuple(&T.nodes[node]);
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
    timeline = PyList_New(T.tl.n);
    if (!timeline)
        goto error;
    for (uint32_t i = 0; i < T.tl.n; i++) {
        const tf_bucket *b = &T.tl.b[i];
        PyObject *pt = Py_BuildValue("(LLL)", (long long)b->t_ns, (long long)b->high, (long long)b->low);
        if (!pt)
            goto error;
        PyList_SET_ITEM(timeline, i, pt);
    }
    res = Py_BuildValue(
        "{s:s,s:L,s:i,s:L,s:L,s:L,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:N,s:N,s:N}", "mode",
        T.sampled ? "sampled" : "exact", "sample_rate", (long long)T.rate, "max_depth", T.max_depth, "peak_bytes",
        (long long)T.peak, "live_bytes_at_end", (long long)T.live, "peak_time_ns", (long long)T.peak_ns, "allocs",
        (unsigned long long)T.allocs, "frees", (unsigned long long)T.frees, "alloc_bytes",
        (unsigned long long)T.alloc_bytes, "samples", (unsigned long long)T.samples, "untracked_allocs",
        (unsigned long long)T.untracked, "dropped_stacks", (unsigned long long)T.dropped_stacks, "recycled_stacks",
        (unsigned long long)T.recycled_sites, "tracker_bytes", (unsigned long long)T.own_bytes, "tracker_peak_bytes",
        (unsigned long long)T.own_peak, "duration_ns", (unsigned long long)(now_ns() - T.t0_ns), "overhead_ns_estimate",
        (unsigned long long)T.timed_ns, "frames", frames, "stacks", stacks, "timeline", timeline);
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

static void release_run(void) {
    for (uint32_t i = 0; i < T.nfuncs; i++) {
        Py_DECREF(T.funcs[i].file);
        Py_DECREF(T.funcs[i].name);
    }
    own_add(0, (size_t)T.sites_cap * sizeof(tf_site) + (size_t)T.nodes_cap * sizeof(tf_node) +
                   (size_t)T.links_cap * sizeof(tf_nodelink) + (size_t)T.funcs_cap * sizeof(tf_func) +
                   (size_t)T.forder_cap * sizeof *T.forder + fixed_bytes());
    free(T.funcs);
    free(T.forder);
    T.funcs = NULL;
    T.forder = NULL;
    T.nfuncs = T.funcs_cap = T.forder_cap = 0;
    T.free_sites = T.free_nodes = T.nfree_sites = T.nfree_nodes = 0;
    free_table(&T.functab);
    own_add(0, tf_timeline_free(&T.tl));
    Py_CLEAR(T.import_code);
    free(T.sites);
    free(T.nodes);
    free(T.links);
    T.sites = NULL;
    T.nodes = NULL;
    T.links = NULL;
    T.links_cap = 0;
    T.nsites = T.sites_cap = T.nnodes = T.nodes_cap = 0;
    free_table(&T.nodetab);
    free_pack(&T.pblocks);
    free_table(&T.blocks);
    free_table(&T.stacks);
}

static PyObject *tracker_stop(PyObject *module, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"keep_sites", NULL};
    int keep = 0;
    PyObject *res;
    (void)module;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|$p:_tracker_stop", kwlist, &keep))
        return NULL;
    if (!atomic_load(&T.tracing)) {
        PyErr_SetString(PyExc_RuntimeError, "the thrifty tracker is not running");
        return NULL;
    }
    lock();
    atomic_store(&T.tracing, 0);
    update_free_check();
    unlock();
    /* Tables are frozen now (the hook no longer writes them), so building Python objects here is safe even though
     * that allocates. Kept before building: a collection the building triggers runs the doctor's gc callback, which
     * looks sites up. The run is released whether or not building succeeded, unless its sites are kept. */
    T.kept = keep;
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

static PyObject *site_of_block(uintptr_t a) {
    tf_site_frame fr[TF_MAX_DEPTH_LIMIT];
    uint32_t n = 0;
    uint64_t v;
    PyObject *res;
    /* Inside this thread's own hook (the lock may be held, e.g. by a collection something under the hook started,
     * whose gc callback looks sites up) there is no safe answer; a spin on our own lock would never end. */
    if (tl.busy)
        Py_RETURN_NONE;
    /* copy the stack out under the lock, build the tuples after: allocating while holding the lock would deadlock
     * with the hook on another thread, and this thread's hook would record the tuples as the run's allocations */
    lock();
    if (atomic_load(&T.tracing) || T.kept) {
        uint32_t site = UINT32_MAX;
        if (T.pblocks.mem && !(a & ((1u << TF_PACK_SHIFT) - 1u)) &&
            tf_packtable_get(&T.pblocks.t, (uint64_t)(a >> TF_PACK_SHIFT), &v))
            site = unpack_site(v);
        else if (T.blocks.mem && tf_sitetable_get(&T.blocks.t, (uint64_t)a, &v))
            site = (uint32_t)(v >> TF_SIZE_BITS);
        if (site != 0 && site < T.nsites) {
            uint32_t node = T.sites[site].leaf;
            for (n = 0; n < T.sites[site].depth && node != 0; n++, node = T.nodes[node].parent) {
                fr[n] = (tf_site_frame){T.funcs[T.nodes[node].func].file, T.nodes[node].line};
                Py_XINCREF(fr[n].file); /* no allocation: safe under the lock (the caller holds the GIL) */
            }
        }
    }
    unlock();
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
    lock();
    tracing = atomic_load(&T.tracing);
    live = (long long)T.live;
    peak = (long long)T.peak;
    allocs = (unsigned long long)T.allocs;
    own = (unsigned long long)T.own_bytes;
    unlock();
    /* frame_walk: how stacks are read; "interpreter frames" (compat.h's accessors, no frame objects made) is the one
     * way on every version this builds for, and the tests assert it */
    return Py_BuildValue("{s:O,s:L,s:L,s:K,s:K,s:s}", "tracing", tracing ? Py_True : Py_False, "live_bytes", live,
                         "peak_bytes", peak, "allocs", allocs, "tracker_bytes", own, "frame_walk",
                         "interpreter frames");
}

static PyObject *hook_installed(PyObject *module, PyObject *unused) {
    (void)module;
    (void)unused;
    return PyBool_FromLong(T.installed);
}

static PyMethodDef tracker_methods[] = {
    {"_tracker_start", (PyCFunction)(void (*)(void))tracker_start, METH_VARARGS | METH_KEYWORDS,
     "_tracker_start(*, sampled=False, sample_rate=131072, max_depth=64, max_memory=268435456)\n--\n\n"
     "Install the allocation hook and start a tracker run (one at a time). Use thrifty.doctor, not this."},
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
    {"_tracker_status", tracker_status, METH_NOARGS, "Current totals of the running tracker (live, peak, allocs)."},
    {"_hook_installed", hook_installed, METH_NOARGS, "True while thrifty's allocation hook is installed."},
    {NULL, NULL, 0, NULL},
};

/* A child forked while another thread held the lock would wait for it forever: the child has only the forking
 * thread, so it releases the lock, and stops tracing (subprocesses are not followed; its run result is never
 * collected). Guards of the forking thread keep working in the child. */
static void after_fork_child(void) {
    tf_runfile_forget();
    atomic_flag_clear(&T.lock);
    atomic_store(&T.tracing, 0);
    update_free_check();
}

/* ---- the run file's view (tracker_tables.h) ------------------------------------------------------------------- */

void tf_tracker_lock(void) { lock(); }
void tf_tracker_unlock(void) { unlock(); }
uint64_t tf_now_ns(void) { return now_ns(); }

int tf_tracker_view_get(tf_tracker_view *v) {
    if (!atomic_load(&T.tracing) && !T.kept)
        return 0;
    *v = (tf_tracker_view){.tracing = atomic_load(&T.tracing),
                           .sampled = T.sampled,
                           .rate = T.rate,
                           .max_depth = T.max_depth,
                           .funcs = T.funcs,
                           .nfuncs = T.nfuncs,
                           .nodes = T.nodes,
                           .nnodes = T.nnodes,
                           .sites = T.sites,
                           .nsites = T.nsites,
                           .peak_epoch = T.peak_epoch,
                           .timeline = &T.tl,
                           .live = T.live,
                           .peak = T.peak,
                           .peak_ns = T.peak_ns,
                           .allocs = T.allocs,
                           .frees = T.frees,
                           .alloc_bytes = T.alloc_bytes,
                           .untracked = T.untracked,
                           .dropped_stacks = T.dropped_stacks,
                           .samples = T.samples,
                           .recycled_sites = T.recycled_sites,
                           .own_bytes = T.own_bytes,
                           .own_peak = T.own_peak,
                           .t0_ns = T.t0_ns,
                           .timed_ns = T.timed_ns,
                           .ops = T.ops};
    return 1;
}

uint32_t tf_tracker_live_blocks(void) {
    return (T.pblocks.mem ? tf_packtable_count(&T.pblocks.t) : 0u) +
           (T.blocks.mem ? tf_sitetable_count(&T.blocks.t) : 0u);
}

void tf_tracker_each_block(tf_block_fn fn, void *ctx, uint32_t limit) {
    uint64_t key, v;
    uint32_t cursor = 0, np = T.pblocks.mem ? tf_packtable_count(&T.pblocks.t) : 0u;
    uint32_t nb = T.blocks.mem ? tf_sitetable_count(&T.blocks.t) : 0u, n = np + nb;
    /* past the limit, the first blocks of each table in slot order: slots follow a hash of the address, so they are a
     * random sample of the table's blocks, and each stands for count/taken of them */
    uint32_t take_p = n > limit ? (uint32_t)((uint64_t)limit * np / n) : np, take_b = n > limit ? limit - take_p : nb;
    double scale_p = take_p ? (double)np / take_p : 1.0, scale_b = take_b ? (double)nb / take_b : 1.0;
    for (uint32_t i = 0; i < take_p && tf_packtable_next(&T.pblocks.t, &cursor, &key, &v); i++) {
        uint32_t site = unpack_site(v);
        uint64_t size = v & TF_PACK_SMALL ? ((v >> 11) & (TF_PACK_SMALL_SIZE - 1u)) + 1u
                                          : (site < T.nsites ? T.sites[site].size0 : 0u);
        int64_t bytes = (int64_t)size, count = 1;
        if (T.sampled)
            sample_weights(size, &bytes, &count);
        fn(ctx, (uintptr_t)(key << TF_PACK_SHIFT), size, (uint64_t)llround((double)bytes * scale_p), site);
    }
    cursor = 0;
    for (uint32_t i = 0; i < take_b && tf_sitetable_next(&T.blocks.t, &cursor, &key, &v); i++) {
        uint64_t size = v & TF_SIZE_MASK;
        int64_t bytes = (int64_t)size, count = 1;
        if (T.sampled)
            sample_weights(size, &bytes, &count);
        fn(ctx, (uintptr_t)key, size, (uint64_t)llround((double)bytes * scale_b), (uint32_t)(v >> TF_SIZE_BITS));
    }
}

int tf_tracker_halt(int keep) {
    if (!atomic_load(&T.tracing)) {
        PyErr_SetString(PyExc_RuntimeError, "the thrifty tracker is not running");
        return -1;
    }
    lock();
    atomic_store(&T.tracing, 0);
    update_free_check();
    unlock();
    T.kept = keep;
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
    }
    /* the defaults the Python side (CLI, tracer) offers, from here rather than repeated there */
    if (PyModule_AddIntConstant(m, "TRACKER_MAX_DEPTH", TF_DEFAULT_MAX_DEPTH) < 0 ||
        PyModule_AddIntConstant(m, "TRACKER_MAX_DEPTH_LIMIT", TF_MAX_DEPTH_LIMIT) < 0 ||
        PyModule_AddIntConstant(m, "TRACKER_SAMPLE_RATE", TF_DEFAULT_SAMPLE_RATE) < 0)
        return -1;
    return PyModule_AddFunctions(m, tracker_methods);
}
