/* thrifty core — lz: what the encoder (lz_encode.c) and the decoder (lz_decode.c) share: the frame's magic, the
 * checksum, the parameter check and the slot coding of numbers. Private to those two files. */
#ifndef THRIFTY_LZ_INTERNAL_H
#define THRIFTY_LZ_INTERNAL_H

#include "thrifty/lz.h"

#include "lz_codes.h"

TF_STATIC_ASSERT(TF_LZ_HASH_WAYS >= 1 && TF_LZ_HASH_WAYS <= 16, lz_hash_ways_in_range);
TF_STATIC_ASSERT(TF_LZ_HASH_SHIFT >= 0 && TF_LZ_HASH_SHIFT <= 4, lz_hash_shift_in_range);
TF_STATIC_ASSERT(TF_LZ_HASH_BUCKETS_LOG2_MAX >= 2 && TF_LZ_HASH_BUCKETS_LOG2_MAX <= 13, lz_hash_buckets_in_range);
TF_STATIC_ASSERT(TF_LZ_CHAIN_MAX_WINDOW_BITS <= 15, lz_chain_window_in_range);
TF_STATIC_ASSERT(TF_LZ_CHAIN_HEAD_BITS >= 4 && TF_LZ_CHAIN_HEAD_BITS <= 12, lz_chain_head_in_range);
TF_STATIC_ASSERT(TF_LZ_MIN_LOOKAHEAD_BITS >= 3u, lz_lookahead_in_range);
TF_STATIC_ASSERT(TF_LZ_DECODER_INPUT >= 1 && TF_LZ_DECODER_INPUT <= 255, lz_decoder_input_in_range);

static const uint8_t tf__lz_magic[4] = {'T', 'F', 'L', 'Z'};

#define TF__ADLER_MOD 65521u

/* Adler-32 over a buffer; `state` is (b << 16) | a. Blocks of 5552 bytes keep the sums inside 32 bits. Eight bytes
 * at a time, b takes 8a plus the bytes weighted 8..1 and a their sum: the two sums no longer wait on each other
 * byte by byte (measured: decompression 2% faster end to end; one-shot compression checksums every byte too). */
static inline uint32_t tf__adler(uint32_t state, const uint8_t *p, size_t n) {
    uint32_t a = state & 0xFFFFu, b = state >> 16;
    while (n) {
        size_t block = n < 5552u ? n : 5552u;
        n -= block;
#if !defined(__OPTIMIZE_SIZE__) /* a build for size keeps the byte loop alone */
        for (; block >= 8u; block -= 8u, p += 8) {
            uint32_t sum = (uint32_t)p[0] + p[1] + p[2] + p[3] + p[4] + p[5] + p[6] + p[7];
            uint32_t weighted =
                8u * p[0] + 7u * p[1] + 6u * p[2] + 5u * p[3] + 4u * p[4] + 3u * p[5] + 2u * p[6] + p[7];
            b += 8u * a + weighted;
            a += sum;
        }
#endif
        while (block--) {
            a += *p++;
            b += a;
        }
        a %= TF__ADLER_MOD;
        b %= TF__ADLER_MOD;
    }
    return (b << 16) | a;
}

static inline int tf__lz_params_ok(unsigned w, unsigned l) {
    return w >= TF_LZ_MIN_WINDOW_BITS && w <= TF_LZ_MAX_WINDOW_BITS && l >= TF_LZ_MIN_LOOKAHEAD_BITS &&
           l <= TF_LZ_MAX_LOOKAHEAD_BITS && l < w;
}

/* floor(log2(v)) for v >= 1. */
static inline unsigned tf__log2(uint32_t v) {
#if TF_GNUC
    return 31u - (unsigned)__builtin_clz(v | 1u);
#else
    unsigned k = 0;
    while ((v >> k) > 1u)
        k++;
    return k;
#endif
}

/* Numbers (run lengths, match lengths, offsets) are coded as a slot, which a prefix code codes, then extra bits:
 * 0..3 are their own slots, then each power of two 2^k..2^(k+1)-1 splits into two slots of 2^(k-1) values. */
static inline unsigned tf__slot(uint32_t v) {
    if (v < 4u)
        return v;
    unsigned k = tf__log2(v);
    return 2u * k + ((v >> (k - 1u)) & 1u);
}
static inline unsigned tf__slot_extra(unsigned slot) { return slot < 4u ? 0u : (slot >> 1) - 1u; }
static inline uint32_t tf__slot_base(unsigned slot) {
    return slot < 4u ? slot : (uint32_t)(2u | (slot & 1u)) << ((slot >> 1) - 1u);
}

/* The match code for a match after a run of lit literals: by the run's length (short runs and rep matches go
 * together), and after no literal by whether the last match was cut at 2^L bytes (its continuation is likely). */
#define TF__LZ_MATCH_CONTEXT(lit, long_before) ((lit) ? 1u + ((lit) < 3u ? (lit) : 3u) : (long_before) ? 0u : 1u)

#endif /* THRIFTY_LZ_INTERNAL_H */
