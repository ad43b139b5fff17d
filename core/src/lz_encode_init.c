/* thrifty core — lz: sizing and starting an encoder (tf_lz_encoder_size, tf_lz_encoder_init, a preset dictionary),
 * and what each level searches. The encoder's steps are lz_encode.c. */
#include "lz_encoder.h"

/* What each level (TF_LZ_LEVEL) searches: candidates on a hash chain (W <= TF_LZ_CHAIN_MAX_WINDOW_BITS) or ways of
 * a bucket (above), and whether it looks one byte ahead (lazy: 0 never; TF__LZ_LAZY_ALL before any match shorter
 * than 2^L, weighing as many candidates there; a larger value n only before an explicit match shorter than n bytes,
 * weighing one candidate, see tf__looks_ahead), and how long a match ends the search (enough). The decoder never
 * knows: every level writes the same format. Level 6 is the measured balance described in lz.h; bench/results/lz.md
 * has every level's ratio and speed.
 * Levels 1 and 4 look ahead only before 2- and 3-byte explicit matches, where a greedy parse most often blocks a
 * longer match one byte later (issue 16; docs/lz.md has the measurements: W=8 unseen corpus, level 1 1.045x ->
 * 1.067x heatshrink's ratio for 1.04x the instructions, level 4 1.088x -> 1.106x). Level 1 then weighs a second
 * chain candidate only when the first gave no match of 4 bytes or more (1.067x -> 1.087x for about 1.06x the CPU
 * time; without that stop 1.089x for 1.08-1.12x; three or four candidates reach 1.092x and 1.105x, too slow for
 * the 3x heatshrink's speed that level 1 keeps). Measured again in C at -O2 (instructions under callgrind on the main
 * W=8 corpus, and the least thread CPU time of 40-50 one-shot runs alternated with today's level 1): whatever brings
 * level 1 to 1.1x costs about 10% of its time, as time grows about four times faster than instructions here (each
 * candidate is a load that waits for the last link, and a branch either way). Three candidates stopping at a
 * 5-byte match: 1.096x, +1.0% instructions, +6.6% time; four never stopping or five stopping at 9 bytes: 1.100x
 * and 1.103x, +2.4% and +2.8% instructions, +10-12% time; level 4's search 1.106x, +2.6%, +9.5%. Changes that do not
 * search more: a match extended back over the literals of the run it closes (found one byte late) 1.093x, +6%
 * instructions and +3.8% time as tried; a 2-byte key for a pair of bytes that are not both text (binaries' 2-byte
 * matches; shared library 0.968x -> 0.975x) 1.090x, +9% instructions. */
#define TF__LZ_LEVEL_SHIFT 8u

typedef struct {
    uint8_t chain, ways, lazy, probes; /* probes: buckets searched beyond the position's own (tf__best) */
    uint8_t enough;                    /* a match longer than this ends the search (tf__consider); 0: none */
} tf__lz_level;
static const tf__lz_level tf__lz_levels[9] = {
    {TF__LZ_LEVEL1_DEPTH, 1, 4, 0, 3},
    {2, 2, 0, 0, 0},
    {4, 4, 0, 0, 0},
    {8, 8, 4, 0, 0},
    {4, 4, 1, 0, 0},
    {8, TF_LZ_HASH_WAYS, 1, 1, 0},
    {16, TF_LZ_HASH_WAYS, 1, 2, 0},
    {32, TF_LZ_HASH_WAYS, 1, 3, 0},
    {64, TF_LZ_HASH_WAYS, 1, 4, 0},
};

static unsigned tf__enc_buckets_log2(unsigned w) {
    if (w <= TF_LZ_CHAIN_MAX_WINDOW_BITS)
        return TF_LZ_CHAIN_HEAD_BITS;
    unsigned b = w - (unsigned)TF_LZ_HASH_SHIFT;
    return b < TF_LZ_HASH_BUCKETS_LOG2_MAX ? b : TF_LZ_HASH_BUCKETS_LOG2_MAX;
}

/* log2 of the packed buckets (TF__LZ_PACKED_*) that fit in the bucket table's bytes, or -1 when W does not pack. */
static int tf__enc_packed_log2(unsigned w) {
    if (w <= TF_LZ_CHAIN_MAX_WINDOW_BITS || w > TF__LZ_PACKED_MAX_WINDOW_BITS)
        return -1;
    size_t bytes = (sizeof(uint16_t) * TF_LZ_HASH_WAYS) << tf__enc_buckets_log2(w);
    int k = -1;
    while (((size_t)TF__LZ_PACKED_BUCKET << (k + 1)) <= bytes)
        k++;
    return k;
}

/* Entries of the match finder's tables: heads plus one link per window byte, or buckets times ways. */
static size_t tf__enc_entries(unsigned w) {
    if (w <= TF_LZ_CHAIN_MAX_WINDOW_BITS)
        return ((size_t)1 << TF_LZ_CHAIN_HEAD_BITS) + ((size_t)1 << w);
    return (size_t)TF_LZ_HASH_WAYS << tf__enc_buckets_log2(w);
}

size_t tf_lz_encoder_size(unsigned window_bits, unsigned lookahead_bits) {
    if (!tf__lz_params_ok(window_bits, lookahead_bits))
        return 0;
    size_t head = (sizeof(tf_lz_encoder) + 1u) & ~(size_t)1u;
    size_t table = sizeof(uint16_t) * tf__enc_entries(window_bits);
    /* The ring holds the window and twice the lookahead, so sink can refill 2^L bytes at a time. */
    return head + table + ((size_t)1 << window_bits) + ((size_t)2 << lookahead_bits) + TF__LZ_MIRROR(lookahead_bits);
}

tf_status tf_lz_encoder_init(tf_lz_encoder **enc, void *storage, size_t size, unsigned window_bits,
                             unsigned lookahead_bits, unsigned flags) {
    if (!enc || !storage)
        return TF_E_NULL;
#if TF_LZ_FILTERS
    unsigned level = (flags >> TF__LZ_LEVEL_SHIFT) & 0xFu, filter = TF_LZ_FILTER_OF(flags);
    if (!tf__lz_params_ok(window_bits, lookahead_bits) ||
        (flags & ~(TF_LZ_FLAG_CHECKSUM | TF_LZ_LEVEL(0xFu) | TF_LZ_FILTER(0xFFu))) || level > 9u ||
        (filter && !tf_lz_filter_size(flags)))
        return TF_E_ARG;
    const tf__lz_level *how = &tf__lz_levels[(level ? level : TF_LZ_DEFAULT_LEVEL) - 1u];
    size_t own = tf_lz_encoder_size(window_bits, lookahead_bits);
    if (size < own || size - own < tf_lz_filter_size(flags))
        return TF_E_SIZE;
#else /* a filter's bits are unknown flags here */
    unsigned level = (flags >> TF__LZ_LEVEL_SHIFT) & 0xFu;
    if (!tf__lz_params_ok(window_bits, lookahead_bits) || (flags & ~(TF_LZ_FLAG_CHECKSUM | TF_LZ_LEVEL(0xFu))) ||
        level > 9u)
        return TF_E_ARG;
    const tf__lz_level *how = &tf__lz_levels[(level ? level : TF_LZ_DEFAULT_LEVEL) - 1u];
    if (size < tf_lz_encoder_size(window_bits, lookahead_bits))
        return TF_E_SIZE;
#endif
    if (!TF_IS_ALIGNED(storage, TF_LZ_ALIGN))
        return TF_E_ALIGN;
    tf_lz_encoder *e = (tf_lz_encoder *)storage;
    TF_MEMSET(e, 0, sizeof *e);
    size_t entries = tf__enc_entries(window_bits);
    e->table = (uint16_t *)(void *)((uint8_t *)storage + ((sizeof(tf_lz_encoder) + 1u) & ~(size_t)1u));
    e->chain = window_bits <= TF_LZ_CHAIN_MAX_WINDOW_BITS;
    int packed = tf__enc_packed_log2(window_bits);
    unsigned ways = packed >= 0 ? TF__LZ_PACKED_WAYS : TF_LZ_HASH_WAYS;
    e->packed = packed >= 0;
    e->depth = (uint8_t)(e->chain ? how->chain : (how->ways < ways ? how->ways : ways));
    e->lazy = how->lazy;
    e->probes = how->probes;
    /* 255 never ends a search early: a match that long is 2^L bytes (L = 8), where the search stops anyway. */
    e->enough = how->enough ? how->enough : 255u;
    e->buf = (uint8_t *)(e->table + entries);
    /* A zero entry reads as offset `pos`, which the search rejects until that many bytes exist; then it is a real
     * (if unlikely) candidate that the byte comparison checks like any other. */
    TF_MEMSET(e->table, 0, entries * sizeof(uint16_t));
    e->size = (uint16_t)((1u << window_bits) + (2u << lookahead_bits));
    e->adler = 1u;
    e->w = (uint8_t)window_bits;
    e->l = (uint8_t)lookahead_bits;
    e->flags = (uint8_t)(flags & TF_LZ_FLAG_CHECKSUM);
    e->phase = E_HEADER;
    /* Small windows are full of 2-byte matches worth taking, for a search that looks ahead and at several
     * candidates; the fast levels, which look at one or two, do better with 3-byte keys, whose candidates more often
     * match (W=8 level 1: 348253 bytes instead of 356188). Larger windows profit from 3-byte keys that spread. */
    e->hash_bytes = window_bits <= 9u && how->lazy == TF__LZ_LAZY_ALL ? 2u : 3u;
    e->hash_shift = (uint8_t)(32u - (packed >= 0 ? (unsigned)packed : tf__enc_buckets_log2(window_bits)));
#if TF_LZ_FILTERS
    e->filter_id = (uint8_t)filter;
    if (filter)
        tf__lz_filter_start((uint8_t *)storage + own, filter);
#endif
    *enc = e;
    return TF_OK;
}

#if TF_LZ_DICTIONARY
tf_status tf_lz_encoder_set_dictionary(tf_lz_encoder *e, const uint8_t *dict, size_t n) {
    if (!e || !dict)
        return TF_E_NULL;
    if (!n || n > ((size_t)1 << e->w) || (e->flags & TF_LZ_FLAG_DICT))
        return TF_E_ARG;
#if TF_LZ_FILTERS
    if (e->filter_id)
        return TF_E_ARG;
#endif
    if (e->phase != E_HEADER || e->la || e->pos)
        return TF_E_STATE;
    /* The dictionary is the history just coded: its bytes sit behind head in the ring, and its positions (stream
     * positions 0..n-1, the input starting at n) enter the match finder at the first step, as the last positions
     * of a frame's own bytes would (tf__insert_pending, once the bytes after them are there to hash). */
    TF_MEMCPY(e->buf, dict, n);
    TF_MEMCPY(e->buf + e->size, e->buf, TF__LZ_MIRROR(e->l));
    e->head = e->pos = e->seen = e->todo = (uint16_t)n;
    e->dict_id = tf__adler(1u, dict, n);
    e->flags = (uint8_t)(e->flags | TF_LZ_FLAG_DICT);
    return TF_OK;
}
#endif
