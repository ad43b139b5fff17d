/* thrifty core — lz: the encoder's state, shared by lz_encode.c (the state machine and its steps, with the match
 * finder of lz_match.h), lz_encode_filter.c (the numeric filter before the ring) and lz_compress.c (one-shot
 * compression). Private to those files. */
#ifndef THRIFTY_LZ_ENCODER_H
#define THRIFTY_LZ_ENCODER_H

#include "lz_internal.h"

enum { E_HEADER, E_FILTER, E_BODY, E_RUN, E_MATCH, E_TRAILER, E_END, E_DICT };
enum { K_NONE, K_EXPLICIT, K_REP, K_END };

/* Output bits not yet written: the low `n` of acc are valid, oldest first. Its own struct so that one-shot
 * compression can keep a copy in registers while it writes straight to the caller's output. */
typedef struct {
    uint64_t acc;
    unsigned n;
} tf__lz_bits;

struct tf_lz_encoder {
    tf__lz_bits out;  /* what poll has yet to write */
    uint32_t adler;   /* Adler-32 of the input sunk so far */
    uint32_t dict_id; /* the preset dictionary's id, written in the header when flags has TF_LZ_FLAG_DICT (in what
                       * would be padding: the state is no larger for it) */
    uint16_t *table;  /* match finder, positions mod 2^16: with chains (W <= TF_LZ_CHAIN_MAX_WINDOW_BITS) the newest
                       * position per hash, then (TF__LZ_PREV) for each position mod 2^W the previous one with
                       * its hash; else buckets * TF_LZ_HASH_WAYS positions, newest first, or, packed (W <= 12),
                       * buckets of TF__LZ_PACKED_WAYS positions mod 2^12 in 12 bytes each, newest lowest */
    uint8_t *buf;     /* ring of `size` bytes: up to 2^W of history behind `head`, `la` bytes of lookahead at it,
                       * followed by a copy of its first TF__LZ_MIRROR(L) bytes so that the search reads any
                       * 2^L + 8 bytes from any ring index without wrapping */
    uint16_t size;    /* 2^W + 2 * 2^L */
    uint16_t head;    /* ring index of the next byte to encode */
    uint16_t la;      /* lookahead bytes at head */
    uint16_t seen;    /* history bytes behind head, saturating at 2^W */
    uint16_t pos;     /* stream position of head, mod 2^16 (what the table stores) */
    uint16_t todo;    /* positions behind head not yet entered into the table */
    uint16_t rep;     /* offset of the last match, 0 before the first */
    uint16_t lit;     /* literals behind head whose run is not yet written */
    uint32_t run_text, run_numeric; /* what those literals cost in the text and the numeric code, in bits */
    uint16_t emitted;               /* bytes of that run already written */
    uint16_t match_len;             /* the match that follows the run being written */
    uint16_t match_dist;
    uint8_t kind; /* K_*: what follows the run */
    uint8_t mode; /* how that run's bytes are coded: 0 text code, 1 numeric code, 2 plain */
    uint8_t w, l, phase, finishing, hash_bytes, hash_shift;
    uint8_t flags;        /* the header's: TF_LZ_FLAG_CHECKSUM, TF_LZ_FLAG_DICT */
    uint8_t chain, depth; /* chains: the finder in use and how many candidates a search looks at */
    uint8_t lazy;         /* the level looks one byte ahead before taking a match: 0 never, TF__LZ_LAZY_ALL before
                           * any shorter than 2^L, else before an explicit match shorter than this (tf__looks_ahead) */
    uint8_t head_hashed;  /* head is already in the table (entered for the lazy look one byte ahead) */
    uint8_t long_before;  /* the last sequence ended with a match of 2^L bytes (the match code's context) */
    /* The lazy look's result when it won (ahead_kind K_NONE: none): it is exactly what the search at the next
     * position finds (same table, history, rep and match bound), so that step reuses it instead of searching again. */
    uint8_t ahead_kind;
    uint8_t enough; /* a search stops at the first candidate whose match is longer than this (255: only at 2^L) */
    uint16_t ahead_len, ahead_dist;
    int16_t ahead_gain;
    uint8_t filter_id; /* the filter (lz.h) written in the header, 0 for none; its state follows the encoder's */
    uint8_t packed;    /* the bucket table holds 12-bit positions (TF__LZ_PACKED_*) */
    uint8_t probes;    /* a bucket search's buckets beyond the position's own (tf__best) */
    uint8_t skip;      /* of the `todo` positions, how many of the newest are inside a match (tf__advance; < 2^8) */
};

#define TF__LZ_LAZY_ALL 1u
/* Level 1's chain candidates (lz_encode_init.c): one-shot compression gets a loop with it as a constant. */
#define TF__LZ_LEVEL1_DEPTH 2u

/* The chain links follow the heads (computed, not stored: the state stays as small as the bucket table's). */
#define TF__LZ_PREV(e) ((e)->table + ((size_t)1 << TF_LZ_CHAIN_HEAD_BITS))
#define TF__LZ_MIRROR(l) ((1u << (l)) + 8u)
/* Windows up to 2^12 (above the chains' windows) need only 12 bits per position: their bucket table packs 8 of them
 * into 12 bytes, so the same bytes hold a third more positions (W=12: 1024 instead of 768; ratio 0.958x -> 0.974x
 * zlib 6/12/1's on bench_lz's seven parts). A position mod 2^12 older than 2^12 reads as a nearer one: a candidate
 * like any other, which the byte comparison checks. */
#define TF__LZ_PACKED_MAX_WINDOW_BITS 12u
#define TF__LZ_PACKED_WAYS 8u
#define TF__LZ_PACKED_BUCKET 12u /* bytes */

/* Small hot helpers are inlined into their loops so that the loops keep their state in registers. */
#if TF_GNUC
#define TF__LZ_INLINE static inline __attribute__((always_inline))
#else
#define TF__LZ_INLINE static inline
#endif
/* The encoder's steps are inlined too, into their two drivers (poll and one-shot compression), and the one-shot
 * loop runs them on a local copy of the state, which the compiler can then keep in registers: measured 1.3x faster
 * at the default level and at level 1. A build for size (-Os) keeps one copy instead (4 KiB less on a Cortex-M4). */
/* A loop kept out of its caller, so that it gets the registers to itself. */
#if TF_GNUC
#define TF__LZ_NOINLINE __attribute__((noinline))
#else
#define TF__LZ_NOINLINE
#endif
#if defined(__OPTIMIZE_SIZE__)
#define TF__LZ_HOT static
#else
#define TF__LZ_HOT TF__LZ_INLINE
#endif

/* lz_encode.c: one frame of in[0..n) into out[0..cap) with the encoder e (just initialised, no filter or dictionary),
 * the encoder's steps run on the input in place; 0 when the frame does not fit in cap bytes, else its size. */
size_t tf__lz_compress_frame(tf_lz_encoder *e, const uint8_t *in, size_t n, uint8_t *out, size_t cap);

/* lz_encode.c: input into the ring (after the filter, if any), as much as it has room for; returns how much. */
size_t tf__lz_sink_ring(tf_lz_encoder *e, const uint8_t *in, size_t n);

#if TF_LZ_FILTERS
/* lz_encode_filter.c: the filter's state (after the encoder's own storage); sink through the filter; the end of input
 * through the filter (sets e->finishing once its last block has gone into the ring). */
tf__lz_filter *tf__lz_enc_filter(tf_lz_encoder *e);
tf_status tf__lz_filter_sink(tf_lz_encoder *e, const uint8_t *in, size_t n, size_t *consumed);
void tf__lz_filter_finish(tf_lz_encoder *e);
#endif

#endif /* THRIFTY_LZ_ENCODER_H */
