/* thrifty core — lz: what the encoder (lz_encoder.h and the files that include it) and the decoder (lz_decoder.h
 * and its files) share: the frame's magic, the checksum, the parameter check, the slot coding of numbers and the
 * numeric filters' block transforms. Private to the lz files. */
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
    /* Without a branch on v < 4 (mispredicted on about one encoder search in six): bit k - 1 of v is bit k of 2v
     * (mod 2^32, so also for v >= 2^31), which gives 0, 2 and 3 their own slots; 1 needs the correction. */
    unsigned k = tf__log2(v);
    return 2u * k + (((2u * v) >> k) & 1u) + (unsigned)(v == 1u);
}
static inline unsigned tf__slot_extra(unsigned slot) { return slot < 4u ? 0u : (slot >> 1) - 1u; }
static inline uint32_t tf__slot_base(unsigned slot) {
    return slot < 4u ? slot : (uint32_t)(2u | (slot & 1u)) << ((slot >> 1) - 1u);
}

/* The match code for a match after a run of lit literals: by the run's length (short runs and rep matches go
 * together), and after no literal by whether the last match was cut at 2^L bytes (its continuation is likely). */
#define TF__LZ_MATCH_CONTEXT(lit, long_before) ((lit) ? 1u + ((lit) < 3u ? (lit) : 3u) : (long_before) ? 0u : 1u)

/* ---- numeric filters (lz.h) ------------------------------------------------------------------------------------
 * Both sides keep one block of the filtered stream. The encoder fills it with input, codes it in place (each whole
 * element replaced by its zigzag-coded difference, for delta) and hands on its bytes, a whole block as bit planes;
 * the decoder fills it with decoded bytes and hands on the elements they code. */
typedef struct {
    uint64_t prev;              /* delta: the last element (raw value), 0 before the first */
    uint64_t cur;               /* decoder: the element being handed on */
    uint16_t fill;              /* bytes in blk */
    uint16_t ready;             /* bytes of blk to hand on, 0 while filling */
    uint16_t drain;             /* of those, bytes handed on */
    uint8_t kind, size, planar; /* planar: blk is a whole block, handed on as (encoder) or read from (decoder) planes */
    uint8_t ended;              /* the encoder's input ended: blk holds the last block */
    uint8_t blk[];              /* TF_LZ_FILTER_BLOCK * size bytes */
} tf__lz_filter;
TF_STATIC_ASSERT(sizeof(tf__lz_filter) <= TF_LZ_FILTER_HEAD, lz_filter_head_fits);

/* The filter state inside caller storage that starts at `at` (aligned up to 8), for the filter id `id`. */
static inline tf__lz_filter *tf__lz_filter_start(uint8_t *at, unsigned id) {
    tf__lz_filter *f = (tf__lz_filter *)(void *)(at + ((8u - ((uintptr_t)at & 7u)) & 7u));
    TF_MEMSET(f, 0, sizeof *f);
    f->kind = (uint8_t)(id & 15u);
    f->size = (uint8_t)(1u << (id >> 4));
    return f;
}

static inline uint64_t tf__lz_filter_mask(unsigned size) {
    return size >= 8u ? ~(uint64_t)0 : ((uint64_t)1 << (8u * size)) - 1u;
}

static inline uint64_t tf__lz_load_n(const uint8_t *p, unsigned size) {
    uint64_t v = 0;
    for (unsigned i = size; i-- > 0;)
        v = (v << 8) | p[i];
    return v;
}

/* Encoder: codes the elements in blk in place (delta: zigzag-coded differences), makes the block ready to hand on,
 * as bit planes when it is whole. The bytes after the last whole element stay as they are. */
static inline void tf__lz_filter_code(tf__lz_filter *f) {
    unsigned size = f->size, n = f->fill / size;
    uint64_t mask = tf__lz_filter_mask(size), sign = (mask >> 1) + 1u;
    if (f->kind == TF_LZ_FILTER_DELTA)
        for (unsigned e = 0; e < n; e++) {
            uint8_t *p = f->blk + e * size;
            uint64_t v = tf__lz_load_n(p, size), d = (v - f->prev) & mask;
            uint64_t z = ((d << 1) & mask) ^ ((d & sign) ? mask : 0u);
            f->prev = v;
            for (unsigned i = 0; i < size; i++, z >>= 8)
                p[i] = (uint8_t)z;
        }
    f->planar = (uint8_t)(n == TF_LZ_FILTER_BLOCK);
    f->ready = f->fill;
    f->drain = 0;
}

/* Encoder: byte i of the ready block as handed on. Plane k is 4 bytes, bit k of elements 0..31, element 8b + j's in
 * bit j of byte b. */
static inline uint8_t tf__lz_filter_byte(const tf__lz_filter *f, unsigned i) {
    if (!f->planar)
        return f->blk[i];
    unsigned k = i >> 2, size = f->size;
    const uint8_t *p = f->blk + (i & 3u) * 8u * size + (k >> 3);
    unsigned byte = 0;
    for (unsigned j = 0; j < 8u; j++)
        byte |= ((p[j * size] >> (k & 7u)) & 1u) << j;
    return (uint8_t)byte;
}

/* Decoder: the next byte of the ready block's elements (which must not be past ready). */
static inline uint8_t tf__lz_unfilter_byte(tf__lz_filter *f) {
    unsigned i = f->drain++, size = f->size, at = i % size;
    if (i >= f->ready - f->ready % size)
        return f->blk[i]; /* after the last whole element: as it came */
    if (at == 0) {
        unsigned e = i / size;
        uint64_t z = 0;
        if (f->planar) {
            const uint8_t *p = f->blk + (e >> 3);
            for (unsigned k = 8u * size; k-- > 0;)
                z = (z << 1) | ((p[4u * k] >> (e & 7u)) & 1u);
        } else {
            z = tf__lz_load_n(f->blk + i, size);
        }
        if (f->kind == TF_LZ_FILTER_DELTA) {
            uint64_t mask = tf__lz_filter_mask(size), d = (z >> 1) ^ ((z & 1u) ? mask : 0u);
            z = f->prev = (f->prev + d) & mask;
        }
        f->cur = z;
    }
    return (uint8_t)(f->cur >> (8u * at));
}

#endif /* THRIFTY_LZ_INTERNAL_H */
