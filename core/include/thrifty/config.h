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

/* thrifty.lz (lz.h). The encoder's match finder is a hash table of 2^min(W - TF_LZ_HASH_SHIFT,
 * TF_LZ_HASH_BUCKETS_LOG2_MAX) buckets, each holding the TF_LZ_HASH_WAYS most recent positions with that hash, 2 bytes
 * each (1.5 KiB at the defaults for W >= 7). More buckets or ways find more matches (better ratio) for more RAM and
 * time; none of these changes the format.
 * TF_LZ_DECODER_INPUT is the decoder's input buffer in bytes (1..255): smaller saves RAM, larger means fewer
 * sink/poll round trips. */
#ifndef TF_LZ_HASH_SHIFT
#define TF_LZ_HASH_SHIFT 1
#endif
#ifndef TF_LZ_HASH_BUCKETS_LOG2_MAX
#define TF_LZ_HASH_BUCKETS_LOG2_MAX 6
#endif
#ifndef TF_LZ_HASH_WAYS
#define TF_LZ_HASH_WAYS 12
#endif
#ifndef TF_LZ_DECODER_INPUT
#define TF_LZ_DECODER_INPUT 8
#endif

#endif /* THRIFTY_CONFIG_H */
