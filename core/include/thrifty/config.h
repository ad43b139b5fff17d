/* thrifty core — every compile-time knob, in one place.
 *
 * Each knob is `#ifndef TF_X` so a build can override it with -DTF_X=... . Parts add their knobs here, each with
 * its default and what changing it costs.
 */
#ifndef THRIFTY_CONFIG_H
#define THRIFTY_CONFIG_H

/* TF_ASSERT(cond): internal invariant checks. Off by default (the core must not abort a device); the C tests build
 * with -DTF_DEBUG=1, which turns them into a trap so a broken invariant stops the test under the sanitizers. */
#ifndef TF_DEBUG
#define TF_DEBUG 0
#endif
#if TF_DEBUG
#define TF_ASSERT(cond)                                                                                                \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            __builtin_trap();                                                                                          \
        }                                                                                                              \
    } while (0)
#else
#define TF_ASSERT(cond) ((void)0)
#endif

/* TF_RING_ATOMICS: how Ring orders its two position counters for lock-free single-producer/single-consumer use
 * (see ring.h). 1 (default on GCC and Clang): acquire loads and release stores through the __atomic builtins, which
 * are lock-free for a word on every target thrifty supports and need no libatomic. 0: plain volatile word accesses,
 * correct only where both sides see memory in program order (one core, no data cache between an interrupt handler
 * and the main loop, e.g. Cortex-M0/M3/M4); with any other compiler 0 is the only choice, so define it
 * knowingly. Costs nothing measurable either way on a single core. */
#ifndef TF_RING_ATOMICS
#if defined(__GNUC__) || defined(__clang__)
#define TF_RING_ATOMICS 1
#else
#define TF_RING_ATOMICS 0
#endif
#endif

/* TF_FSET_LOAD: keys per bucket (on average) in a frozen table's bucket index (fset.h). The index costs 4/LOAD bytes
 * a key (2/LOAD below 64k keys); a lookup compares about LOAD/2 keys on a hit and LOAD on a miss. 4 measured best
 * on 100k-key tables (docs/frozen.md): 2 made tables 1 B/key bigger for no measurable gain from Python, 8 made misses
 * visibly slower. Blocks built with another value read fine everywhere but are not byte-identical to default ones. */
#ifndef TF_FSET_LOAD
#define TF_FSET_LOAD 4
#endif

/* TF_FSET_SPAN_LOAD: the same for str/bytes keys, whose lookups walk variable-length records, so shorter runs pay off
 * more (and their index entries are two fields). */
#ifndef TF_FSET_SPAN_LOAD
#define TF_FSET_SPAN_LOAD 2
#endif

/* ---- pool (pool.h) ---------------------------------------------------------------------------------------- */

/* TF_POOL_ALIGN: alignment of every pool block and of the pool's storage, in bytes (a power of two, at least
 * sizeof(void *) because a free block holds the free-list link). Default 8: enough for any scalar on the targets
 * thrifty cares about. Raising it (16 for SIMD) rounds each block's stride up, costing up to ALIGN-1 bytes a block. */
#ifndef TF_POOL_ALIGN
#define TF_POOL_ALIGN 8
#endif

/* TF_POOL_CANARY: 1 compiles in the debug canary mode (still off unless a pool is created with TF_POOL_FLAG_CANARY);
 * 0 leaves it out, saving a little code, and tf_pool_init then refuses the flag with TF_E_ARG. */
#ifndef TF_POOL_CANARY
#define TF_POOL_CANARY 1
#endif

/* TF_POOL_CANARY_BYTES: bytes of guard pattern after each block in canary mode (each block's stride grows by at
 * least this much). More bytes catch longer overruns that skip the first guard bytes; 8 catches off-by-a-few. */
#ifndef TF_POOL_CANARY_BYTES
#define TF_POOL_CANARY_BYTES 8
#endif

#endif /* THRIFTY_CONFIG_H */
