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

#endif /* THRIFTY_CONFIG_H */
