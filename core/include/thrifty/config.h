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

#endif /* THRIFTY_CONFIG_H */
