/* The allocation hook: a PyMem_SetAllocator hook on the RAW, MEM and OBJ domains that attributes every allocation
 * (exact mode) or a Poisson sample by bytes (sampled mode) to the Python stack that made it (tracker_stack.c), and
 * aggregates per stack as it goes: live bytes, allocations, frees, bytes allocated, and live bytes at the peak. The
 * guards' part of the hook (counting, refusing) is here too; installing it is tracker_install.c's.
 *
 * Shape of the hook (see tracker.h for why its state is static):
 *   - every call first checks a thread-local busy flag: allocations made while the hook itself runs (our table
 *     growth uses libc calloc, but pymalloc's large-object path re-enters through the RAW domain, and the fallback
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
 */
#include "tracker_state.h"

TF_HIDDEN tf_hook_state Hook = {.gate = TF_GATE_CLOSED, .lock = ATOMIC_FLAG_INIT};
TF_HIDDEN tf_run_state Run = {.max_memory = (size_t)256 * 1024 * 1024};
TF_HIDDEN tf_totals_state Totals;
TF_HIDDEN TF_TLS tf_tls tl;
TF_HIDDEN TF_TLS tf_guard_node *tl_guard;

/* ---- accounting ---------------------------------------------------------------------------------------------- */

static void site_touch(tf_site *s) {
    if (s->at_peak_epoch != Totals.peak_epoch) {
        s->at_peak = s->live;
        s->at_peak_epoch = Totals.peak_epoch;
    }
}

/* Every `tick_every` operations: a clock reading for the timeline (which opens a new bucket when the current one has
 * ended) and for the run file (a snapshot when one is due). */
static TF_NOINLINE void timeline_due(void);
static TF_ALWAYS_INLINE void timeline_tick(void) {
    Totals.ops++;
    if (--Totals.tick_left == 0)
        timeline_due(); /* out of line: the count is all that every allocation and free pays */
}

static TF_NOINLINE void timeline_due(void) {
    uint64_t now;
    Totals.tick_left = Totals.ops < TF_TIMELINE_FINE_OPS ? 1u : Totals.tick_every; /* short runs get buckets too */
    now = now_ns();
    {
        size_t room = Run.max_memory > Tables.own_bytes ? Run.max_memory - Tables.own_bytes : 0;
        if (Run.sampled) {
            /* sampled mode's tables follow what is live; the timeline's array stays within 1/2048 of the traced
             * peak, a fortieth of the recorder's 2% budget (so a small heap gets fewer, wider buckets: at most 256, 6
             * KiB, under a 24 MiB peak; 1/1024 took 3 KiB, a tenth of the recorder, on nbody's 2 MiB heap), but has
             * its first 32 buckets whatever the peak */
            size_t share = (size_t)(Totals.peak / 2048), have = (size_t)Totals.tl.cap * sizeof(tf_bucket);
            share = share > 32u * sizeof(tf_bucket) ? share : 32u * sizeof(tf_bucket);
            room = share > have && share - have < room ? share - have : share > have ? room : 0;
        }
        uintptr_t was = (uintptr_t)Totals.tl.b;
        size_t before = (size_t)Totals.tl.cap * sizeof(tf_bucket);
        long grown = tf_timeline_tick(&Totals.tl, now - Totals.t0_ns, Totals.live, room);
        if (grown > 0 && was && (uintptr_t)Totals.tl.b != was) {
            own_add((size_t)grown + before, 0); /* realloc moved the array: it held both while it copied */
            own_add(0, before);
        } else if (grown > 0) {
            own_add((size_t)grown, 0);
        }
    }
    tf_runfile_tick(now);
}

static double next_interval(void) {
    /* xorshift64*: uniform in (0, 1], exponential by inversion */
    Run.rng ^= Run.rng >> 12;
    Run.rng ^= Run.rng << 25;
    Run.rng ^= Run.rng >> 27;
    double u = (double)((Run.rng * UINT64_C(2685821657736338717)) >> 11) * (1.0 / 9007199254740992.0);
    return -tf_ln(1.0 - u) * Run.rate + 1.0;
}

static uint32_t sample_bucket(const void *p) {
    return (uint32_t)(((uint64_t)(uintptr_t)p * UINT64_C(0x9e3779b97f4a7c15)) >> (64 - TF_SAMPLE_BUCKET_BITS));
}

static int maybe_sampled(const void *p) {
    uint32_t b = sample_bucket(p);
    return (Hook.sampled_count[b >> 1] >> ((b & 1u) * 4u) & 15u) != 0;
}

/* Adds `delta` (+1 or -1) to a bucket's 4-bit count; a saturated (15) or empty count stays put. */
static void filter_step(const void *p, int delta) {
    uint32_t b = sample_bucket(p), shift = (b & 1u) * 4u;
    uint8_t *byte = &Hook.sampled_count[b >> 1];
    uint32_t c = (uint32_t)*byte >> shift & 15u;
    if (c == 15u || (c == 0u && delta < 0))
        return;
    c = delta > 0 ? c + 1u : c - 1u;
    *byte = (uint8_t)((*byte & ~(15u << shift)) | c << shift);
}

static void filter_add(const void *p) { filter_step(p, 1); }

static void filter_remove(const void *p) { filter_step(p, -1); }

/* Exact mode: a block of up to 512 bytes that is not its site's size0 and whose site has no small id yet. Counts it;
 * the TF_SMALL_AFTER-th such block gives the site the next small id while ids last (then this block packs too).
 * The packed value, or UINT32_MAX (the block goes to the 16-byte table). */
static TF_NOINLINE uint32_t small_claim(uint32_t site, tf_site *s, uint64_t size) {
    if (s->small + 1u < TF_SMALL_AFTER) {
        s->small++;
        return UINT32_MAX;
    }
    if (Tables.nsmall >= TF_PACK_SMALL_SITES ||
        grow_array((void **)&Tables.small_sites, &Tables.small_cap, sizeof *Tables.small_sites, Tables.nsmall + 1u) < 0)
        return UINT32_MAX; /* the count stays below TF_SMALL_HAVE: asked again next time, and refused */
    Tables.small_sites[Tables.nsmall] = site;
    s->small = TF_SMALL_HAVE | Tables.nsmall++;
    return pack_value(site, size, s);
}

static void trace_alloc(PyThreadState *ts, void *p, uint64_t size) {
    int64_t wbytes = (int64_t)size, wcount = 1;
    uint32_t site;
    if (Run.sampled) {
        /* the caller saw this thread's countdown run out: this allocation is a sample */
        tl.countdown = (int64_t)next_interval();
        Totals.samples++;
        sample_weights(size, &wbytes, &wcount);
    }
    Totals.allocs += (uint64_t)wcount;
    Totals.alloc_bytes += (uint64_t)wbytes;
    timeline_tick();
    if (size > TF_SIZE_MASK) {
        Totals.untracked++;
        return;
    }
    site = current_site(ts);
    {
        uintptr_t a = (uintptr_t)p;
        tf_site *s = &Tables.sites[site];
        if (!s->size0 && size <= TF_SIZE0_MAX)
            s->size0 = (unsigned int)size;
        uint32_t pv = pack_value(site, size, s);
        if (pv == UINT32_MAX && size <= TF_PACK_SMALL_SIZE && !Run.sampled)
            pv = small_claim(site, s, size);
        if (pv != UINT32_MAX && !(a & ((1u << TF_PACK_SHIFT) - 1u)) && pack_room(&Tables.pblocks) == 0 &&
            tf_packtable_put(&Tables.pblocks.t, (uint64_t)(a >> TF_PACK_SHIFT), pv) == TF_OK) {
            /* packed: 8 bytes */
        } else if (table_room(&Tables.blocks, 12) < 0) {
            Totals.untracked++;
            return;
        } else {
            tf_sitetable_put(&Tables.blocks.t, (uint64_t)a, size | ((uint64_t)site << TF_SIZE_BITS));
        }
        if (Run.sampled)
            filter_add(p);
    }
    {
        tf_site *s = &Tables.sites[site];
        site_touch(s);
        s->live += wbytes;
        s->allocs += (uint64_t)wcount;
        s->alloc_bytes += (uint64_t)wbytes;
    }
    Totals.live += wbytes;
    tf_timeline_up(&Totals.tl, Totals.live);
    if (Totals.live > Totals.peak) {
        Totals.peak = Totals.live;
        Totals.peak_epoch++;
        Totals.peak_blocks = live_blocks();
        Totals.peak_block_bytes = Tables.pblocks.bytes + Tables.blocks.bytes;
        /* While the heap grows nearly every allocation is a new peak: read the clock at most once per 64
         * allocations (microseconds apart), not per allocation. */
        if (Totals.ops - Totals.peak_clock_ops >= 64u || Totals.peak_ns == 0) {
            Totals.peak_ns = now_ns() - Totals.t0_ns;
            Totals.peak_clock_ops = Totals.ops;
        }
    }
}

static void trace_free(void *p) {
    uint64_t v, size;
    int64_t wbytes, wcount = 1;
    uint32_t site;
    uintptr_t a = (uintptr_t)p;
    if (Tables.pblocks.mem && !(a & ((1u << TF_PACK_SHIFT) - 1u)) &&
        tf_packtable_take(&Tables.pblocks.t, (uint64_t)(a >> TF_PACK_SHIFT), &v)) {
        site = unpack_site(v);
        size = v & TF_PACK_SMALL ? ((v >> 11) & (TF_PACK_SMALL_SIZE - 1u)) + 1u : Tables.sites[site].size0;
    } else if (Tables.blocks.mem && tf_sitetable_take(&Tables.blocks.t, (uint64_t)a, &v)) {
        size = v & TF_SIZE_MASK;
        site = (uint32_t)(v >> TF_SIZE_BITS);
    } else {
        return;
    }
    wbytes = (int64_t)size;
    if (Run.sampled) {
        filter_remove(p);
        sample_weights(size, &wbytes, &wcount);
    }
    Totals.frees += (uint64_t)wcount;
    if (site < Tables.nsites) {
        tf_site *s = &Tables.sites[site];
        site_touch(s);
        s->live -= wbytes;
        s->frees += (uint64_t)wcount;
    }
    Totals.live -= wbytes;
    tf_timeline_down(&Totals.tl, Totals.live);
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
            if (old && Hook.gblocks.mem && tf_sitetable_get(&Hook.gblocks.t, (uint64_t)(uintptr_t)old, &v))
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
            if (ts && PyGILState_GetThisThreadState() == ts && walk_stack(ts, fr, 1, &trunc, 0) == 1) {
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
    if (size <= TF_SIZE_MASK && table_room(&Hook.gblocks, 48) == 0)
        tf_sitetable_put(&Hook.gblocks.t, (uint64_t)(uintptr_t)p, size | ((uint64_t)g->serial << TF_SIZE_BITS));
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
    if (!Hook.gblocks.mem || !tf_sitetable_take(&Hook.gblocks.t, (uint64_t)(uintptr_t)p, &v))
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
    if (!atomic_load_explicit(&Hook.tracing, memory_order_relaxed))
        return 0;
    if (!Run.sampled)
        return 1;
    if (tl.run != Run.run_id) {
        lock();
        tl.countdown = (int64_t)next_interval();
        unlock();
        tl.run = Run.run_id;
    }
    tl.countdown -= (int64_t)(size ? size : 1u);
    return tl.countdown <= 0;
}

/* The sampled-mode common case inline: one thread-local decrement decides "not sampled". Never while the doctor's
 * own bookkeeping runs on this thread (tl.own): in sampled mode its bytes have then already counted down (the
 * inline fast path does not look), which only moves this thread's next sample earlier. */
static inline int take_sample(uint64_t size) {
    if (tl.own)
        return 0;
    if (Run.sampled && tl.run == Run.run_id) {
        tl.countdown -= (int64_t)(size ? size : 1u);
        if (tl.countdown > 0)
            return 0;
        return atomic_load_explicit(&Hook.tracing, memory_order_relaxed) != 0;
    }
    return take_sample_slow(size);
}

static int refuse_locked(PyThreadState *ts, uint64_t size, void *old) {
    int r, how = lock_for(ts);
    r = guard_refuses(size, old);
    unlock_for(how);
    return r;
}

#define PREV(ctx) (&Hook.prev[(intptr_t)(ctx)])
#define HOOK_IDLE() (tl.busy || (!atomic_load_explicit(&Hook.tracing, memory_order_relaxed) && !tl_guard))

static void after_alloc(PyThreadState *ts, void *p, uint64_t size, int sample) {
    if (tl_guard)
        guard_alloc(p, size);
    if (sample && atomic_load_explicit(&Hook.tracing, memory_order_relaxed))
        trace_alloc(ts, p, size);
}

static void before_free(void *p) {
    if (Hook.gblocks.mem && tf_sitetable_count(&Hook.gblocks.t))
        guard_free(p);
    if (atomic_load_explicit(&Hook.tracing, memory_order_relaxed))
        trace_free(p);
}

/* Every (TF_TIMING_EVERY)th bookkeeping step is timed; the sum scaled up estimates the tracker's own time. */
static uint64_t timing_start(void) { return (++Totals.timed_calls % TF_TIMING_EVERY) == 0 ? now_ns() : 0; }
static void timing_end(uint64_t t0) {
    if (t0)
        Totals.timed_ns += (now_ns() - t0) * TF_TIMING_EVERY;
}

/* The recording half of an allocation hook, out of line so the common path stays small. tl.busy is set. */
static TF_NOINLINE void *alloc_slow(void *ctx, size_t nelem, size_t elsize, int zero, int sample) {
    PyMemAllocatorEx *prev = PREV(ctx);
    size_t size = nelem * elsize;
    void *p;
    PyThreadState *ts = gil_tstate((int)(intptr_t)ctx);
    if (tl_guard && refuse_locked(ts, size, NULL)) {
        tl.busy = 0;
        return NULL;
    }
    p = zero ? prev->calloc(prev->ctx, nelem, elsize) : prev->malloc(prev->ctx, size);
    if (p) {
        if (sample && Tables.pblocks.mem) /* overlaps the likely cache miss with the stack walk */
            tf_packtable_prefetch(&Tables.pblocks.t, (uint64_t)((uintptr_t)p >> TF_PACK_SHIFT));
        int how = lock_for(ts);
        uint64_t t0 = timing_start();
        after_alloc(ts, p, size ? size : 1u, sample);
        timing_end(t0);
        unlock_for(how);
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
    if (tl.run == atomic_load_explicit(&Hook.gate, memory_order_relaxed) && !tl.busy) {
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

void *hook_malloc(void *ctx, size_t size) { return hook_alloc(ctx, 1, size, 0); }

void *hook_calloc(void *ctx, size_t nelem, size_t elsize) {
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
    PyThreadState *ts = gil_tstate((int)(intptr_t)ctx);
    tl.busy = 1;
    if (tl_guard && refuse_locked(ts, size, old)) {
        tl.busy = 0;
        return NULL;
    }
    check_old =
        old && (atomic_load_explicit(&Hook.free_check, memory_order_relaxed) == FREE_ALL ||
                (atomic_load_explicit(&Hook.free_check, memory_order_relaxed) == FREE_FILTERED && maybe_sampled(old)));
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
        int how = lock_for(ts);
        uint64_t t0 = timing_start();
        before_free(old);
        timing_end(t0);
        unlock_for(how);
    }
    p = prev->realloc(prev->ctx, old, size);
    if (p && record) {
        int how = lock_for(ts);
        uint64_t t0 = timing_start();
        after_alloc(ts, p, size ? size : 1u, sample);
        timing_end(t0);
        unlock_for(how);
    }
    tl.busy = 0;
    return p;
}

/* The same common case as hook_alloc's, for a realloc whose old block is not (by the filter) a sampled one. */
void *hook_realloc(void *ctx, void *old, size_t size) {
    if (tl.run == atomic_load_explicit(&Hook.gate, memory_order_relaxed) && !tl.busy && !(old && maybe_sampled(old))) {
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
    int how;
    tl.busy = 1;
    how = lock_for(gil_tstate((int)(intptr_t)ctx));
    before_free(p);
    unlock_for(how);
    tl.busy = 0;
    prev->free(prev->ctx, p);
}

/* The common case, a block that cannot be traced (sampled mode: its address's filter bucket is empty), is a tail
 * call to the allocator. */
void hook_free(void *ctx, void *p) {
    int check = atomic_load_explicit(&Hook.free_check, memory_order_relaxed);
    if (check != FREE_NONE && p && (check == FREE_ALL || maybe_sampled(p)) && !tl.busy) {
        free_slow(ctx, p);
        return;
    }
    PyMemAllocatorEx *prev = PREV(ctx);
    prev->free(prev->ctx, p);
}

/* Recomputes free_check after tracing or the guard count changed. Called with the lock held. */
void update_free_check(void) {
    int tracing = atomic_load(&Hook.tracing), check = FREE_NONE;
    if (Hook.guards_active || (tracing && !Run.sampled))
        check = FREE_ALL;
    else if (tracing)
        check = FREE_FILTERED;
    atomic_store(&Hook.free_check, check);
    /* the fast path needs none of this: tracing sampled, no guard on any thread (so none on the caller's) */
    atomic_store(&Hook.gate, tracing && Run.sampled && !Hook.guards_active ? Run.run_id : TF_GATE_CLOSED);
}
