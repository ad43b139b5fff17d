/* thrifty core — every compile-time knob, in one place.
 *
 * Each knob is `#ifndef TF_X` so a build can override it with -DTF_X=... . Parts add their knobs here, each with
 * its default and what changing it costs.
 */
#ifndef THRIFTY_CONFIG_H
#define THRIFTY_CONFIG_H

/* TF_GNUC: 1 lets the core use GCC's extensions (builtins for memcpy/clz/ctz/prefetch, always_inline, __atomic,
 * vector types), the default with GCC and Clang; 0 keeps it to standard C99, as any other compiler (IAR, Keil,
 * MSVC) gets it. The host tests also build with -DTF_GNUC=0 (make test-c-variants) so those branches run. */
#ifndef TF_GNUC
#if defined(__GNUC__) || defined(__clang__)
#define TF_GNUC 1
#else
#define TF_GNUC 0
#endif
#endif

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
 * and the main loop, e.g. Cortex-M0/M3/M4); without TF_GNUC 0 is the only choice, so define it
 * knowingly. Costs nothing measurable either way on a single core. */
#ifndef TF_RING_ATOMICS
#if TF_GNUC
#define TF_RING_ATOMICS 1
#else
#define TF_RING_ATOMICS 0
#endif
#endif

/* TF_RING_REDUCTIONS: 1 (default) compiles Ring's sum/min/max/variance helpers (tf_ring_sum_int and friends), one
 * loop per item type: about 8 KiB of Cortex-M4 code at -Os (the rest of
 * Ring is 1.5 KiB). 0 leaves them out for a device that only moves samples. */
#ifndef TF_RING_REDUCTIONS
#define TF_RING_REDUCTIONS 1
#endif

/* TF_FSET_LOAD: keys per bucket (on average) in a frozen table's bucket index (fset.h), for int keys. The index
 * costs 4/LOAD bytes a key (2/LOAD below 64k keys); a lookup compares about LOAD/2 keys on a hit and LOAD on a miss.
 * Measured on 100k random int64 from Python (50% hits; ratio to frozenset, fresh / same key objects):
 * LOAD 2: 10.0 B/key, 1.76x / 1.01x; LOAD 4: 9.0 B/key, 2.15x / 1.08x; LOAD 8: 8.5 B/key, 2.45x / 0.86x.
 * Blocks built with other values read fine everywhere but are not byte-identical to default ones. */
#ifndef TF_FSET_LOAD
#define TF_FSET_LOAD 4
#endif

/* TF_FSET_SPAN_LOAD: the same for str/bytes keys, whose index entries are two fields and whose lookups walk
 * variable-length records. Measured on 100k 8-16 char str as above: 1: 22 B/key, 1.57x / 0.86x; 2: 18 B/key,
 * 1.73x / 0.91x; 4: 16 B/key, 1.38x / 0.85x. */
#ifndef TF_FSET_SPAN_LOAD
#define TF_FSET_SPAN_LOAD 2
#endif

/* TF_FSET_SIMD: 1 compares an int lookup's window of 8 keys with SSE2 (a few vector compares and one byte mask, where
 * the word-at-a-time compare takes five or six operations a 64-bit word): with one load for 3-byte index fields, a
 * FrozenMap.get miss on small ints went from 160 to 135 instructions, a FrozenSet hit on 64-bit ids from 162 to 146
 * (bench/hotpaths.py fm_small_miss_ours, fz_ids_own_ours). 0 keeps only the portable compare. Default: on where the
 * compiler targets SSE2 (x86-64 always), off elsewhere. */
#ifndef TF_FSET_SIMD
#if defined(__SSE2__)
#define TF_FSET_SIMD 1
#else
#define TF_FSET_SIMD 0
#endif
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

/* ---- lines (lines.h) -------------------------------------------------------------------------------------- */

/* TF_LINES_SIMD: 1 scans for line ends 16 bytes at a time with GCC/Clang vector extensions (a lines() pass over a
 * log took about 25% less CPU on x86-64 than with the word-at-a-time loop); 0 keeps only the portable loop. Default: on
 * for little-endian GCC/Clang targets with a vector unit (SSE2, NEON), off elsewhere — on a core without one
 * (Cortex-M4) the vector code would be emulated and only cost code size (about 1 KB). */
#ifndef TF_LINES_SIMD
#if TF_GNUC && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ &&                                 \
    (defined(__SSE2__) || defined(__ARM_NEON))
#define TF_LINES_SIMD 1
#else
#define TF_LINES_SIMD 0
#endif
#endif

/* ---- lz (lz.h) ---------------------------------------------------------------------------------------------- */

/* thrifty.lz (lz.h). For windows above 2^TF_LZ_CHAIN_MAX_WINDOW_BITS the encoder's match finder is a hash table of
 * 2^min(W - TF_LZ_HASH_SHIFT, TF_LZ_HASH_BUCKETS_LOG2_MAX) buckets, each holding the TF_LZ_HASH_WAYS most recent
 * positions with that hash, 2 bytes each (1.5 KiB at the defaults; up to W = 12 the same bytes hold buckets of 8
 * positions of 12 bits, lz_encoder.h). More buckets or ways find more matches (better ratio) for more RAM and time;
 * none of these changes the format.
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
/* Windows up to 2^TF_LZ_CHAIN_MAX_WINDOW_BITS use hash chains instead (zlib's design): 2^TF_LZ_CHAIN_HEAD_BITS heads
 * and one link per window byte, 2 bytes each; how many candidates a search looks at is the level's (lz_encode_init.c).
 * Cheaper per byte than the bucket table at small windows (W=8: 9% fewer instructions, same ratio, 512 B less RAM;
 * W=10: 16% fewer, better ratio, 1 KiB more RAM) and it reaches every position with the hash; its links
 * (2 x 2^W bytes) are what make it too big for the larger windows (8 KiB at W=12). */
#ifndef TF_LZ_CHAIN_MAX_WINDOW_BITS
#define TF_LZ_CHAIN_MAX_WINDOW_BITS 10
#endif
/* 512 heads: with the 3-byte keys of the fast levels, a single candidate is more often a real match than with 256
 * (W=8 level 1: 1.104x heatshrink's ratio instead of 1.093x, level 2 at about 3.3x its speed instead of 3.0x, for
 * 512 B more encoder RAM at W <= 10). 8 gives that RAM back. */
#ifndef TF_LZ_CHAIN_HEAD_BITS
#define TF_LZ_CHAIN_HEAD_BITS 9
#endif
/* TF_LZ_SMALL: 1 builds thrifty.lz for small flash: the same format (frames are byte-identical, every frame decodes
 * the same), but the codes are read from their canonical code lengths alone (the encoder's 489 bytes: four bits per
 * symbol; the decoder's 294: a nibble stream with repeats) instead of the 11 KB of codeword, limit and first-8-bit
 * lookup tables; the decoder counts a code's lengths and reads a codeword a bit at a time, and the whole-sequence
 * fast path is left out. Decoder RAM is unchanged.
 * `make cross` prints what each build costs on a Cortex-M4 at -Os and `make bench-lz-small` the speed against the
 * fast build. Default: 1 in a build for size (-Os, -Oz), else 0. */
#ifndef TF_LZ_SMALL
#if defined(__OPTIMIZE_SIZE__)
#define TF_LZ_SMALL 1
#else
#define TF_LZ_SMALL 0
#endif
#endif
#ifndef TF_LZ_DECODER_INPUT
#define TF_LZ_DECODER_INPUT 8
#endif
/* TF_LZ_FILTERS: 1 builds the numeric filters (lz.h, format version 3) into the encoder and the decoder. Off by
 * default in the size build (TF_LZ_SMALL): such a build refuses a filter at init and a filtered frame with
 * TF_E_VERSION, and reads and writes every other frame as before. */
#ifndef TF_LZ_FILTERS
#define TF_LZ_FILTERS (!TF_LZ_SMALL)
#endif
/* TF_LZ_DICTIONARY: 1 builds preset dictionaries (lz.h, format version 4) into the encoder and the decoder. Off by
 * default in the size build, like the filters (the small decoder's 2 KiB of flash has no room): such a build refuses
 * a dictionary (TF_E_ARG) and a frame made with one (TF_E_VERSION), and reads and writes every other frame as
 * before. The decoder's RAM does not depend on it. */
#ifndef TF_LZ_DICTIONARY
#define TF_LZ_DICTIONARY (!TF_LZ_SMALL)
#endif

#endif /* THRIFTY_CONFIG_H */
