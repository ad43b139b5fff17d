/* thrifty core — lz: the encoder's state machine and one-shot compression (the code and its rationale are in
 * lz.h). */
#include "lz_internal.h"

/* ---- encoder ---------------------------------------------------------------------------------------------- */

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
                       * its hash; else buckets * TF_LZ_HASH_WAYS positions, newest first */
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
    uint8_t lazy;         /* the level looks one byte ahead before taking a match */
    uint8_t head_hashed;  /* head is already in the table (entered for the lazy look one byte ahead) */
    uint8_t long_before;  /* the last sequence ended with a match of 2^L bytes (the match code's context) */
    /* The lazy look's result when it won: it is exactly what the search at the next position finds (same table,
     * history, rep and match bound), so that step reuses it instead of searching again. */
    uint8_t ahead_valid, ahead_kind;
    uint16_t ahead_len, ahead_dist;
    int16_t ahead_gain;
    uint8_t filter_id; /* the filter (lz.h) written in the header, 0 for none; its state follows the encoder's */
};

/* The chain links follow the heads (computed, not stored: the state stays as small as the bucket table's). */
#define TF__LZ_PREV(e) ((e)->table + ((size_t)1 << TF_LZ_CHAIN_HEAD_BITS))
#define TF__LZ_MIRROR(l) ((1u << (l)) + 8u)

/* What each level (TF_LZ_LEVEL) searches: candidates on a hash chain (W <= TF_LZ_CHAIN_MAX_WINDOW_BITS) or ways of
 * a bucket (above), and whether it looks one byte ahead. The decoder never knows: every level writes the same
 * format. Level 6 is the measured balance described above; bench/results/lz.md has every level's ratio and speed. */
#define TF__LZ_LEVEL_SHIFT 8u
typedef struct {
    uint8_t chain, ways, lazy;
} tf__lz_level;
static const tf__lz_level tf__lz_levels[9] = {
    {1, 1, 0},
    {2, 2, 0},
    {4, 4, 0},
    {8, 8, 0},
    {4, 4, 1},
    {8, TF_LZ_HASH_WAYS, 1},
    {16, TF_LZ_HASH_WAYS, 1},
    {32, TF_LZ_HASH_WAYS, 1},
    {64, TF_LZ_HASH_WAYS, 1},
};

static unsigned tf__enc_buckets_log2(unsigned w) {
    if (w <= TF_LZ_CHAIN_MAX_WINDOW_BITS)
        return TF_LZ_CHAIN_HEAD_BITS;
    unsigned b = w - (unsigned)TF_LZ_HASH_SHIFT;
    return b < TF_LZ_HASH_BUCKETS_LOG2_MAX ? b : TF_LZ_HASH_BUCKETS_LOG2_MAX;
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
    e->depth = e->chain ? how->chain : (how->ways < TF_LZ_HASH_WAYS ? how->ways : TF_LZ_HASH_WAYS);
    e->lazy = how->lazy;
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
    e->hash_bytes = window_bits <= 9u && how->lazy ? 2u : 3u;
    e->hash_shift = (uint8_t)(32u - tf__enc_buckets_log2(window_bits));
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

/* Input into the ring (after the filter, if any): what sink did before filters. */
static size_t tf__sink_ring(tf_lz_encoder *e, const uint8_t *in, size_t n) {
    size_t room = ((size_t)2 << e->l) - e->la;
    size_t take = n < room ? n : room;
    if (!take)
        return 0;
    if (e->flags & TF_LZ_FLAG_CHECKSUM)
        e->adler = tf__adler(e->adler, in, take);
    size_t at = (size_t)e->head + e->la;
    if (at >= e->size)
        at -= e->size;
    size_t first = e->size - at < take ? e->size - at : take;
    TF_MEMCPY(e->buf + at, in, first);
    TF_MEMCPY(e->buf, in + first, take - first);
    if (at < TF__LZ_MIRROR(e->l) || take > first)
        TF_MEMCPY(e->buf + e->size, e->buf, TF__LZ_MIRROR(e->l));
    e->la = (uint16_t)(e->la + take);
    return take;
}

#if TF_LZ_FILTERS
/* The filter's state: after the encoder's own storage, as tf_lz_encoder_init put it. */
static tf__lz_filter *tf__enc_filter(tf_lz_encoder *e) {
    uintptr_t after = (uintptr_t)e + tf_lz_encoder_size(e->w, e->l);
    return (tf__lz_filter *)(after + ((8u - (after & 7u)) & 7u));
}

/* Hands the filter's ready block on to the ring as far as the ring has room; the block is done when all went. */
static void tf__filter_drain(tf_lz_encoder *e) {
    tf__lz_filter *f = tf__enc_filter(e);
    while (f->ready) {
        uint8_t chunk[32];
        unsigned k = 0;
        for (; k < sizeof chunk && f->drain + k < f->ready; k++)
            chunk[k] = tf__lz_filter_byte(f, f->drain + k);
        size_t took = tf__sink_ring(e, chunk, k);
        f->drain = (uint16_t)(f->drain + took);
        if (took < k)
            return; /* the ring is full: poll makes room */
        if (f->drain == f->ready)
            f->ready = f->fill = 0;
    }
}

/* sink through the filter: input fills its block, a full block goes on to the ring as far as the ring has room. */
static tf_status tf__filter_sink(tf_lz_encoder *e, const uint8_t *in, size_t n, size_t *consumed) {
    tf__lz_filter *f = tf__enc_filter(e);
    if (f->ended)
        return TF_E_STATE;
    size_t used = 0, block = TF_LZ_FILTER_BLOCK * f->size;
    for (;;) {
        tf__filter_drain(e);
        if (f->ready || used == n)
            break;
        size_t take = block - f->fill < n - used ? block - f->fill : n - used;
        TF_MEMCPY(f->blk + f->fill, in + used, take);
        f->fill = (uint16_t)(f->fill + take);
        used += take;
        if (f->fill == block)
            tf__lz_filter_code(f);
    }
    *consumed = used;
    return TF_OK;
}

#endif

tf_status tf_lz_encoder_sink(tf_lz_encoder *e, const uint8_t *in, size_t n, size_t *consumed) {
    if (!e || !consumed || (!in && n))
        return TF_E_NULL;
    *consumed = 0;
    if (e->finishing)
        return TF_E_STATE;
#if TF_LZ_FILTERS
    if (e->filter_id)
        return tf__filter_sink(e, in, n, consumed);
#endif
    *consumed = tf__sink_ring(e, in, n);
    return TF_OK;
}

#if TF_LZ_FILTERS
/* With a filter the frame may end only once its last block has gone into the ring: until then poll keeps
 * draining it (the ring always has room for some of it after a step), and `finishing` waits. */
static void tf__filter_finish(tf_lz_encoder *e) {
    tf__lz_filter *f = tf__enc_filter(e);
    if (!f->ended) {
        f->ended = 1;
        if (f->fill && !f->ready)
            tf__lz_filter_code(f); /* the last, partial block (a ready one is a whole block still going on) */
    }
    tf__filter_drain(e);
    if (!f->ready)
        e->finishing = 1;
}
#endif

tf_status tf_lz_encoder_finish(tf_lz_encoder *e) {
    if (!e)
        return TF_E_NULL;
#if TF_LZ_FILTERS
    if (e->filter_id && !e->finishing)
        tf__filter_finish(e);
    else
#endif
        e->finishing = 1;
    return (e->phase == E_END && e->out.n == 0) ? TF_LZ_DONE : TF_LZ_MORE;
}

/* Small hot helpers are inlined into their loops so that the loops keep their state in registers. */
#if TF_GNUC
#define TF__LZ_INLINE static inline __attribute__((always_inline))
#else
#define TF__LZ_INLINE static inline
#endif
/* The encoder's steps are inlined too, into their two drivers (poll and one-shot compression), and the one-shot
 * loop runs them on a local copy of the state, which the compiler can then keep in registers: measured 1.3x faster
 * at the default level and at level 1. A build for size (-Os) keeps one copy instead (4 KiB less on a Cortex-M4). */
#if defined(__OPTIMIZE_SIZE__)
#define TF__LZ_HOT static
#else
#define TF__LZ_HOT TF__LZ_INLINE
#endif

static void tf__put(tf__lz_bits *b, uint32_t v, unsigned n) {
    TF_ASSERT(b->n + n <= 64u);
    b->acc = (b->acc << n) | (uint64_t)(v & (uint32_t)((1ull << n) - 1u));
    b->n += n;
}

/* A symbol of one of the fixed codes (at most 15 bits). */
#if !TF_LZ_SMALL
static void tf__put_symbol(tf__lz_bits *b, tf__lz_ref code, unsigned sym) {
    tf__put(b, code->code[sym], code->len[sym]);
}
#else
/* The small build keeps only the lengths: a canonical codeword of length n is the first codeword of its length,
 * which is the sum of 2^(n - len) over the shorter codewords, plus how many lower-numbered symbols share the
 * length. */
static void tf__put_symbol(tf__lz_bits *b, tf__lz_ref code, unsigned sym) {
    const unsigned at = tf__lz_small_base[code], end = tf__lz_small_base[code + 1u], n = TF__LZ_LEN_AT(at + sym);
    unsigned word = 0;
    for (unsigned i = at; i < end; i++) {
        unsigned len = TF__LZ_LEN_AT(i);
        if (len < n)
            word += 1u << (n - len);
        else if (len == n && i < at + sym)
            word++;
    }
    tf__put(b, word, n);
}
#endif

/* v as its slot's symbol (sym0 + slot) and the extra bits: at most 15 + 13 bits. */
TF__LZ_HOT void tf__put_number(tf__lz_bits *b, tf__lz_ref code, unsigned sym0, uint32_t v) {
    unsigned slot = tf__slot(v);
    tf__put_symbol(b, code, sym0 + slot);
    tf__put(b, v - tf__slot_base(slot), tf__slot_extra(slot));
}

/* What coding v that way costs, in bits. */
TF__LZ_INLINE unsigned tf__number_bits(tf__lz_ref code, unsigned sym0, uint32_t v) {
    unsigned slot = tf__slot(v);
    return TF__LZ_LEN(code, sym0 + slot) + tf__slot_extra(slot);
}

/* Where the bytes being encoded are. The streaming encoder's live in its ring (history wraps around; the mirror
 * after the ring makes 2^L + 8 bytes readable from any index). One-shot compression reads the caller's input in
 * place: size 0, so nothing wraps, and it hands its last 2^L + 8 bytes to the ring, so the same reads stay inside
 * the input. Every step and search works on this view, so both ways of feeding the encoder take the same
 * decisions and write the same bytes. */
typedef struct {
    const uint8_t *buf;
    size_t head; /* index of the next byte to encode */
    size_t size; /* the ring's size, or 0 */
    size_t la;   /* bytes available from head */
    /* Prefix sums (mod 2^16) of tf__lit_bits over the flat view, kept by tf__frame_greedy for the 2^L + 1 positions
     * from head at index & cost_mask, or NULL: tf__lit_cost then sums the bytes itself. */
    const uint16_t *cost;
    size_t cost_mask;
} tf__lz_bytes;

static size_t tf__ahead(const tf__lz_bytes *s, size_t j) {
    size_t i = s->head + j;
    return i >= s->size && s->size ? i - s->size : i;
}
/* The flat view never wraps; saying so up front lets the one-shot loop, where size is the constant 0, drop the
 * compare (the compiler does not fold the two equal arms itself). */
static size_t tf__behind(const tf__lz_bytes *s, size_t i, size_t back) {
    return !s->size || i >= back ? i - back : i + s->size - back;
}

/* One more byte in the run being gathered: what it costs in each literal code (e->lit is the caller's to count). */
TF__LZ_INLINE void tf__run_add(tf_lz_encoder *e, uint8_t byte) {
    e->run_text += TF__LZ_LEN(TF__LZ_LITERAL(0u), byte);
    e->run_numeric += TF__LZ_LEN(TF__LZ_LITERAL(1u), byte);
}

/* How the run of e->lit literals is best coded (0 text code, 1 numeric code, 2 plain bytes: the cheapest header
 * and bytes together), and by how many bits header and bytes exceed 8 bits a byte (*over). */
TF__LZ_INLINE unsigned tf__run_mode(const tf_lz_encoder *e, long *over) {
    if (!e->lit) {
        *over = TF__LZ_LEN(TF__LZ_RUN, 0u);
        return 0;
    }
    unsigned slot = tf__slot((uint32_t)e->lit - 1u);
    unsigned sym = 1u + TF__LZ_MODES * slot;
    uint32_t plain = 8u * e->lit, text = TF__LZ_LEN(TF__LZ_RUN, sym) + e->run_text,
             numeric = TF__LZ_LEN(TF__LZ_RUN, sym + 1u) + e->run_numeric,
             bytes = TF__LZ_LEN(TF__LZ_RUN, sym + 2u) + plain;
    unsigned mode = text <= numeric && text <= bytes ? 0u : numeric <= bytes ? 1u : 2u;
    uint32_t best = mode == 0u ? text : mode == 1u ? numeric : bytes;
    *over = (long)best + (long)tf__slot_extra(slot) - (long)plain;
    return mode;
}

/* The literal run's header: one run-code symbol for its length and how its bytes are coded, then the length's
 * extra bits. */
TF__LZ_HOT void tf__put_lit_header(tf_lz_encoder *e, tf__lz_bits *b) {
    long over;
    e->mode = (uint8_t)tf__run_mode(e, &over);
    if (!e->lit) {
        tf__put_symbol(b, TF__LZ_RUN, 0);
        return;
    }
    uint32_t v = (uint32_t)e->lit - 1u;
    unsigned slot = tf__slot(v);
    tf__put_symbol(b, TF__LZ_RUN, 1u + TF__LZ_MODES * slot + e->mode);
    tf__put(b, v - tf__slot_base(slot), tf__slot_extra(slot));
}

TF__LZ_INLINE tf__lz_ref tf__match_code(const tf_lz_encoder *e, unsigned lit) {
    return TF__LZ_MATCH(TF__LZ_MATCH_CONTEXT(lit, e->long_before));
}

/* The match that ends a sequence (e->kind), or the end marker; e->lit is still the run's length. */
TF__LZ_HOT void tf__put_match(const tf_lz_encoder *e, tf__lz_bits *b) {
    tf__lz_ref code = tf__match_code(e, e->lit);
    if (e->kind == K_EXPLICIT) {
        tf__put_number(b, code, TF__LZ_MATCH_EXPLICIT, (uint32_t)e->match_len - 2u);
        tf__put_number(b, TF__LZ_OFFSET(e->w), 0, (uint32_t)e->match_dist - 1u);
    } else if (e->kind == K_REP) {
        tf__put_number(b, code, TF__LZ_MATCH_REP, (uint32_t)e->match_len - 1u);
    } else if (e->kind == K_END) {
        tf__put_symbol(b, code, TF__LZ_MATCH_END);
        tf__put(b, 0, (8u - (b->n & 7u)) & 7u);
    }
}

/* The first hash_bytes bytes at b, hashed. It reads 4 bytes and masks (no branch): a 4th byte is always there to
 * read (the mirror, or the bytes one-shot compression keeps back), though it may not be the stream's yet. */
TF__LZ_INLINE unsigned tf__hash(const tf_lz_encoder *e, const uint8_t *b) {
    uint32_t key = tf__load_le32(b) & (0xFFFFFFFFu >> (32u - 8u * e->hash_bytes));
    return (unsigned)((key * 2654435761u) >> e->hash_shift);
}

/* Chains: position p becomes the head of its hash's chain, linked to the head before it. */
TF__LZ_INLINE void tf__link(uint16_t *head, uint16_t *prev, unsigned wmask, uint16_t p) {
    prev[p & wmask] = *head;
    *head = p;
}

/* Enters stream position p, whose bytes hash to h, into the match finder. */
TF__LZ_INLINE void tf__insert_hashed(tf_lz_encoder *e, unsigned h, uint16_t p) {
    if (e->chain) {
        tf__link(e->table + h, TF__LZ_PREV(e), (1u << e->w) - 1u, p);
        return;
    }
    uint16_t *slot = e->table + (size_t)h * TF_LZ_HASH_WAYS;
    for (unsigned i = TF_LZ_HASH_WAYS - 1u; i > 0; i--)
        slot[i] = slot[i - 1u];
    slot[0] = p;
}

/* Enters stream position p, whose bytes start at b, into the match finder. */
TF__LZ_INLINE void tf__insert(tf_lz_encoder *e, const uint8_t *b, uint16_t p) {
    tf__insert_hashed(e, tf__hash(e, b), p);
}

/* Enters the positions behind head that are not in the table yet, now that the bytes after them have arrived;
 * positions whose hash would need bytes past the end of input are left out (nobody can look for them). */
TF__LZ_HOT void tf__insert_pending(tf_lz_encoder *e, const tf__lz_bytes *s) {
    unsigned lo = s->la >= e->hash_bytes ? 1u : e->hash_bytes - (unsigned)s->la, back = e->todo;
    size_t at = tf__behind(s, s->head, back);
    uint16_t p = (uint16_t)(e->pos - back);
    if (e->chain) { /* tf__insert's chain case, with its invariants out of the loop */
        uint16_t *prev = TF__LZ_PREV(e);
        unsigned wmask = (1u << e->w) - 1u;
        for (; back >= lo; back--) {
            tf__link(e->table + tf__hash(e, s->buf + at), prev, wmask, p++);
            if (++at == s->size)
                at = 0;
        }
    } else {
        for (; back >= lo; back--) {
            tf__insert(e, s->buf + at, p++);
            if (++at == s->size)
                at = 0;
        }
    }
    e->todo = 0;
}

/* Trailing zero bits of a nonzero 64-bit value. */
static unsigned tf__ctz64(uint64_t v) {
#if TF_GNUC && UINTPTR_MAX > 0xFFFFFFFFu
    return (unsigned)__builtin_ctzll(v);
#elif TF_GNUC
    /* On a 32-bit target __builtin_ctzll is a call to libgcc's __ctzdi2, which a -nostdlib board does not link:
     * two 32-bit counts compile to instructions (rbit + clz on a Cortex-M3/M4). */
    uint32_t low = (uint32_t)v;
    return low ? (unsigned)__builtin_ctz(low) : 32u + (unsigned)__builtin_ctz((uint32_t)(v >> 32));
#else
    unsigned n = 0;
    while (!(v & 1u)) {
        v >>= 1;
        n++;
    }
    return n;
#endif
}

/* Length of the common prefix of x and y from n on, at most max; reads 8 bytes at a time, up to 7 past max
 * (the mirror, or the bytes one-shot compression keeps back, make that safe). */
TF__LZ_INLINE unsigned tf__common(const uint8_t *x, const uint8_t *y, unsigned n, unsigned max) {
    while (n < max) {
        uint64_t diff = tf__load_le64(x + n) ^ tf__load_le64(y + n);
        if (diff) {
            n += tf__ctz64(diff) >> 3;
            break;
        }
        n += 8u;
    }
    return n < max ? n : max;
}

/* Moves the stream position on by n bytes (the view's head is the caller's to move). */
TF__LZ_HOT void tf__advance(tf_lz_encoder *e, unsigned n) {
    unsigned window = 1u << e->w;
    e->pos = (uint16_t)(e->pos + n);
    e->todo = (uint16_t)(e->todo + n - e->head_hashed);
    e->head_hashed = 0;
    e->seen = (uint16_t)(e->seen + n > window ? window : e->seen + n);
}

static void tf__skip(tf__lz_bytes *s, unsigned n) {
    s->head = tf__ahead(s, n);
    s->la -= n;
}

typedef struct {
    long gain; /* bits saved against coding the covered bytes as literals (8 each) */
    unsigned len, dist, kind;
    unsigned hash; /* of the searched position, when it has hash_bytes bytes: entering it reuses the search's */
} tf__lz_choice;

/* What the first n bytes at y would cost as literals: each byte's cheapest code, at most 8 bits. Never more
 * than 8n, so a match chosen against it also passes the 8-bits-a-byte test that keeps the output bound. Summed
 * once per search, however many candidates ask. */
typedef struct {
    unsigned n; /* bytes summed so far */
    long bits;
    const uint16_t *pre; /* the view's prefix sums (tf__lz_bytes.cost), or NULL */
    size_t at, mask;     /* y's index in them, and their index mask */
} tf__lz_cost;

/* One byte's share of tf__lit_cost: the cheapest way it could be coded, at most 8 bits. */
TF__LZ_INLINE unsigned tf__lit_bits(uint8_t c) { return tf__lz_literal_cost[c]; }

TF__LZ_HOT long tf__lit_cost(const uint8_t *y, unsigned n, tf__lz_cost *memo) {
#if !defined(__OPTIMIZE_SIZE__) /* only tf__frame_greedy keeps them */
    /* A difference of prefix sums: no loop, whose exit was mispredicted on most calls. */
    if (memo->pre)
        return (long)(uint16_t)(memo->pre[(memo->at + n) & memo->mask] - memo->pre[memo->at & memo->mask]);
#endif
    if (n < memo->n)
        memo->n = 0, memo->bits = 0;
    for (; memo->n < n; memo->n++)
        memo->bits += (long)tf__lit_bits(y[memo->n]);
    return memo->bits;
}

/* Both finders' inner step. Weighs the candidate `dist` bytes back (its bytes at x) for the match at y; updates *c when
 * it gains more. 1 when the match found is as long as allowed (the search can stop). */
TF__LZ_INLINE int tf__consider(const tf_lz_encoder *e, tf__lz_ref code, const uint8_t *y, const uint8_t *x,
                               unsigned dist, unsigned max, tf__lz_choice *c, tf__lz_cost *memo) {
    if (dist == 0 || dist == e->rep)
        return 0;
    /* A match needs 2 bytes, and only a longer one can gain more: candidates come nearest first, so a later one
     * as long as the best costs at least as many offset bits. */
    if (tf__load_le16(x) != tf__load_le16(y) || x[c->len] != y[c->len])
        return 0;
    unsigned n = tf__common(x, y, 2u, max);
    long cost = (long)(tf__number_bits(code, TF__LZ_MATCH_EXPLICIT, n - 2u) +
                       tf__number_bits(TF__LZ_OFFSET(e->w), 0, dist - 1u)) +
                1L;
    if (8L * (long)n - cost <= c->gain) /* cannot win even if every byte cost 8 bits */
        return 0;
    long gain = tf__lit_cost(y, n, memo) - cost;
    if (gain <= c->gain)
        return 0;
    c->gain = gain;
    c->len = n;
    c->dist = dist;
    c->kind = K_EXPLICIT;
    return n == max;
}

/* The best match starting at head + j (j is 0 or 1), by bit gain: the previous offset, then the finder's, looking at
 * up to `depth` candidates (e->depth; a constant where a loop knows it). */
TF__LZ_HOT tf__lz_choice tf__best(const tf_lz_encoder *e, const tf__lz_bytes *s, unsigned j, unsigned depth) {
    tf__lz_choice c = {0, 0, 0, K_NONE, 0};
    tf__lz_cost memo = {0, 0, s->cost, 0, s->cost_mask};
    size_t avail = s->la - j;
    unsigned max = avail > (1u << e->l) ? 1u << e->l : (unsigned)avail,
             seen = e->seen + j > (1u << e->w) ? 1u << e->w : e->seen + j;
    size_t at = tf__ahead(s, j);
    const uint8_t *y = s->buf + at;
    tf__lz_ref code = tf__match_code(e, e->lit + j); /* the run before this match has lit + j bytes */
    memo.at = at;
    if (e->rep && e->rep <= seen) {
        unsigned n = tf__common(s->buf + tf__behind(s, at, e->rep), y, 0, max);
        long gain = n ? tf__lit_cost(y, n, &memo) - (long)tf__number_bits(code, TF__LZ_MATCH_REP, n - 1u) - 1L : 0L;
        if (n && gain > c.gain) {
            c.gain = gain;
            c.len = n;
            c.dist = e->rep;
            c.kind = K_REP;
        }
    }
    if (max < e->hash_bytes)
        return c;
    unsigned h = c.hash = tf__hash(e, y);
    if (c.len == max)
        return c;
    uint16_t here = (uint16_t)(e->pos + j);
    if (e->chain) {
        const uint16_t *prev = TF__LZ_PREV(e);
        unsigned p = e->table[h], last = 0, wmask = (1u << e->w) - 1u;
        for (unsigned i = depth; i; i--) {
            unsigned dist = (uint16_t)(here - p);
            /* Links lead further back until one was overwritten by a newer position (it then reads as nearer) or
             * leaves the window: the chain ends there. */
            if (dist > seen || dist < last)
                break;
            last = dist;
            p = prev[p & wmask];
            if (tf__consider(e, code, y, s->buf + tf__behind(s, at, dist), dist, max, &c, &memo))
                break;
        }
        return c;
    }
    const uint16_t *slot = e->table + (size_t)h * TF_LZ_HASH_WAYS;
    for (unsigned i = 0; i < depth; i++) {
        unsigned dist = (uint16_t)(here - slot[i]);
        if (dist > seen)
            break; /* entries are newest first: the rest are older still, out of the window */
        if (tf__consider(e, code, y, s->buf + tf__behind(s, at, dist), dist, max, &c, &memo))
            break;
    }
    return c;
}

/* Taking the match must pay for what the run it closes costs over 8 bits a byte (tf__run_mode, from the run's
 * length and literal costs in e), so no sequence costs more than 8 bits per byte: that is what makes the output
 * bound in lz.h hold. */
TF__LZ_INLINE int tf__pays(const tf_lz_encoder *e, long gain) {
    long over;
    tf__run_mode(e, &over);
    return gain + 1L >= over;
}

/* Decides what to do at head, which needs more than 2^L bytes of lookahead unless the input has ended (so the
 * decision never depends on how the input was cut into chunks). Returns 0 after taking one more literal, 1 when a
 * sequence is complete: a match (e->kind, match_len, match_dist) or a full run of 2^W literals (K_NONE). Its
 * literals are the e->lit bytes behind head. One step of lazy evaluation (when the level has it): a match is
 * deferred by a literal when the match one byte later gains more. */
TF__LZ_HOT int tf__step(tf_lz_encoder *e, tf__lz_bytes *s, int lazy) {
    if (e->todo)
        tf__insert_pending(e, s);
    tf__lz_choice c;
    if (lazy && e->ahead_valid) {
        c.gain = e->ahead_gain;
        c.len = e->ahead_len;
        c.dist = e->ahead_dist;
        c.kind = e->ahead_kind;
        c.hash = tf__hash(e, s->buf + s->head); /* not kept by the lazy look */
        e->ahead_valid = 0;
    } else {
        c = tf__best(e, s, 0, e->depth);
    }
    int ahead = 0;
#if !defined(__OPTIMIZE_SIZE__) /* a build for size leaves it to tf__insert_pending: same table, less code */
    if (!lazy) {
        /* Head goes into the table now, with the hash its search just computed, rather than hashed again by
         * tf__insert_pending at the next step: no search runs in between, so the table reads the same. */
        if (s->la >= e->hash_bytes) {
            tf__insert_hashed(e, c.hash, e->pos);
            e->head_hashed = 1;
        }
    } else
#endif
        if (lazy && c.kind != K_NONE && c.len < (1u << e->l) && c.len < s->la && s->la >= e->hash_bytes + 1u) {
        tf__insert_hashed(e, c.hash, e->pos);
        e->head_hashed = 1;
        tf__lz_choice next = tf__best(e, s, 1, e->depth);
        if (next.gain > c.gain) {
            /* The search at the next step would find exactly this (same table, history, rep and bounds). */
            c.kind = K_NONE;
            e->ahead_gain = (int16_t)next.gain;
            e->ahead_len = (uint16_t)next.len;
            e->ahead_dist = (uint16_t)next.dist;
            e->ahead_kind = (uint8_t)next.kind;
            ahead = 1;
        }
    }
    if (c.kind != K_NONE && !tf__pays(e, c.gain))
        c.kind = K_NONE;
    if (c.kind == K_NONE) {
        tf__run_add(e, s->buf[s->head]);
        tf__advance(e, 1);
        tf__skip(s, 1);
        if (lazy)
            e->ahead_valid = (uint8_t)ahead;
        e->lit++;
        if (e->lit < (1u << e->w))
            return 0;
        e->ahead_valid = 0; /* a full run resets the run length that priced the look ahead */
    }
    e->kind = (uint8_t)c.kind;
    e->match_len = (uint16_t)c.len;
    e->match_dist = (uint16_t)c.dist;
    return 1;
}

/* The streaming encoder's view of its ring, and the moved view stored back. */
static tf__lz_bytes tf__ring_bytes(const tf_lz_encoder *e) {
    tf__lz_bytes s = {e->buf, e->head, e->size, e->la, NULL, 0};
    return s;
}
static void tf__ring_store(tf_lz_encoder *e, const tf__lz_bytes *s) {
    e->head = (uint16_t)s->head;
    e->la = (uint16_t)s->la;
}

/* One literal of a run, in the run's mode (chosen by tf__put_lit_header): a literal code, or its 8 bits. */
TF__LZ_INLINE void tf__put_literal(tf__lz_bits *b, uint8_t c, unsigned mode) {
    if (mode == 2u)
        tf__put(b, c, 8);
    else
        tf__put_symbol(b, TF__LZ_LITERAL(mode), c);
}

/* After a sequence is written: the next run starts empty. */
TF__LZ_INLINE void tf__end_sequence(tf_lz_encoder *e) {
    e->long_before = (uint8_t)(e->kind != K_NONE && e->match_len == (1u << e->l));
    e->lit = 0;
    e->run_text = e->run_numeric = 0;
}

/* After the match that ends a sequence is written: it becomes the previous offset, and the stream moves past it. */
TF__LZ_HOT void tf__pass_match(tf_lz_encoder *e, tf__lz_bytes *s) {
    e->rep = e->match_dist;
    tf__advance(e, e->match_len);
    tf__skip(s, e->match_len);
}

tf_status tf_lz_encoder_poll(tf_lz_encoder *e, uint8_t *out, size_t out_size, size_t *out_n) {
    if (!e || !out_n || (!out && out_size))
        return TF_E_NULL;
    size_t o = 0;
    tf__lz_bits *b = &e->out;
    for (;;) {
        while (b->n >= 8u) {
            if (o == out_size) {
                *out_n = o;
                return TF_LZ_MORE;
            }
            out[o++] = (uint8_t)(b->acc >> (b->n - 8u));
            b->n -= 8u;
        }
        /* Here b->n < 8, so a case may put up to 56 bits. */
        switch (e->phase) {
        case E_HEADER: {
            unsigned filtered = 0, dict = 0; /* never both: set_dictionary refuses */
#if TF_LZ_FILTERS
            filtered = e->filter_id != 0;
#endif
#if TF_LZ_DICTIONARY
            dict = e->flags & TF_LZ_FLAG_DICT;
#endif
            for (unsigned i = 0; i < 4u; i++)
                tf__put(b, tf__lz_magic[i], 8);
            tf__put(b, filtered ? TF_LZ_VERSION_FILTERED : dict ? TF_LZ_VERSION_DICT : TF_LZ_VERSION, 8);
            tf__put(b, (uint32_t)e->w | ((uint32_t)e->l << 4), 8);
            tf__put(b, e->flags | (filtered ? TF_LZ_FLAG_FILTER : 0u), 8);
            e->phase = filtered ? E_FILTER : dict ? E_DICT : E_BODY;
            break;
        }
#if TF_LZ_FILTERS
        case E_FILTER: /* the 8th header byte: 7 bytes and up to 7 pending bits fill the bit buffer */
            tf__put(b, e->filter_id, 8);
            e->phase = E_BODY;
            break;
#endif
#if TF_LZ_DICTIONARY
        case E_DICT: /* the dictionary's id, little-endian, after the 7 bytes */
            for (unsigned i = 0; i < 4u; i++)
                tf__put(b, (e->dict_id >> (8u * i)) & 0xFFu, 8);
            e->phase = E_BODY;
            break;
#endif
        case E_BODY: {
#if TF_LZ_FILTERS
            if (e->filter_id && !e->finishing && tf__enc_filter(e)->ended)
                tf__filter_finish(e);
#endif
            tf__lz_bytes s = tf__ring_bytes(e);
            if (e->la > (1u << e->l) || (e->finishing && e->la)) {
                int done = tf__step(e, &s, e->lazy);
                tf__ring_store(e, &s);
                if (!done)
                    break;
            } else if (e->finishing) {
                e->kind = K_END;
            } else {
                *out_n = o;
                return TF_LZ_DONE;
            }
            tf__put_lit_header(e, b);
            e->emitted = 0;
            e->phase = E_RUN;
            break;
        }
        case E_RUN: {
            /* The run's bytes sit lit..1 bytes behind head; head does not move until the run is written. */
            while (e->emitted < e->lit && b->n + TF__LZ_LITERAL_MAX_LEN <= 64u) {
                unsigned at = (unsigned)e->head + e->size - e->lit + e->emitted;
                tf__put_literal(b, e->buf[at >= e->size ? at - e->size : at], e->mode);
                e->emitted++;
            }
            if (e->emitted == e->lit)
                e->phase = E_MATCH;
            break;
        }
        case E_MATCH:
            tf__put_match(e, b);
            tf__end_sequence(e);
            e->phase = e->kind == K_END ? E_TRAILER : E_BODY;
            if (e->kind == K_EXPLICIT || e->kind == K_REP) {
                tf__lz_bytes s = tf__ring_bytes(e);
                tf__pass_match(e, &s);
                tf__ring_store(e, &s);
            }
            break;
        case E_TRAILER:
            if (e->flags & TF_LZ_FLAG_CHECKSUM)
                for (unsigned i = 0; i < 4u; i++)
                    tf__put(b, (e->adler >> (8u * i)) & 0xFFu, 8);
            e->phase = E_END;
            break;
        default: *out_n = o; return TF_LZ_DONE;
        }
    }
}

/* ---- one shot --------------------------------------------------------------------------------------------- */

#define TF__LZ_PIECE 0xFFFFFFFFu

size_t tf_lz_compress_bound(size_t n) {
    size_t pieces = n / TF__LZ_PIECE + 1u;
    size_t extra = pieces * TF_LZ_STORED_OVERHEAD;
    return n > SIZE_MAX - extra ? 0 : n + extra;
}

/* A stored frame; flags: TF_LZ_FLAG_CHECKSUM, and TF_LZ_FLAG_DICT to record the dictionary's id like the coded
 * frame it stands in for (so a reader given the dictionary reads it as any other frame made with it). */
static size_t tf__write_stored(const uint8_t *in, size_t n, uint8_t *out, unsigned w, unsigned l, unsigned flags,
                               uint32_t dict_id) {
    size_t o = TF_LZ_HEADER_SIZE;
    TF_MEMCPY(out, tf__lz_magic, 4);
    out[4] = TF_LZ_DICTIONARY && (flags & TF_LZ_FLAG_DICT) ? TF_LZ_VERSION_DICT : TF_LZ_VERSION;
    out[5] = (uint8_t)(w | (l << 4));
    out[6] = (uint8_t)(flags | TF_LZ_FLAG_STORED);
#if TF_LZ_DICTIONARY
    if (flags & TF_LZ_FLAG_DICT) {
        tf__store_le32(out + o, dict_id);
        o += 4u;
    }
#else
    (void)dict_id;
#endif
    tf__store_le32(out + o, (uint32_t)n);
    TF_MEMCPY(out + o + 4u, in, n);
    o += 4u + n;
    if (flags & TF_LZ_FLAG_CHECKSUM) {
        tf__store_le32(out + o, tf__adler(1u, in, n));
        o += 4u;
    }
    return o;
}

/* Writes whole bytes of b to out[*o..cap); 0 when out is full first. With 8 bytes of room it stores all 8 (the
 * ones past the whole bytes are overwritten by the next flush or left unused, but stay inside out[0..cap)):
 * the byte loop's exit branch, taken after a varying count, was mispredicted about once a sequence. */
TF__LZ_HOT int tf__flush(tf__lz_bits *b, uint8_t *out, size_t *o, size_t cap) {
#if !defined(__OPTIMIZE_SIZE__)
    if (cap - *o >= 8u) {
        TF_ASSERT(b->n < 64u);
        uint64_t v = (b->acc << 1) << (63u - b->n); /* oldest bit on top; two shifts, as n may be 0 */
        /* Spelled out: compilers merge these into one byte-swapped store. */
        uint8_t *p = out + *o;
        p[0] = (uint8_t)(v >> 56);
        p[1] = (uint8_t)(v >> 48);
        p[2] = (uint8_t)(v >> 40);
        p[3] = (uint8_t)(v >> 32);
        p[4] = (uint8_t)(v >> 24);
        p[5] = (uint8_t)(v >> 16);
        p[6] = (uint8_t)(v >> 8);
        p[7] = (uint8_t)v;
        *o += b->n >> 3;
        b->n &= 7u;
        return 1;
    }
#endif
    for (; b->n >= 8u; b->n -= 8u) {
        if (*o == cap)
            return 0;
        out[(*o)++] = (uint8_t)(b->acc >> (b->n - 8u));
    }
    return 1;
}

/* The one-shot loops' literal run (e->lit bytes at `run`, header first) straight to out[*o..cap), with whole bytes
 * flushed before it (the last match's bits, up to 50, and the header's, up to 29, would not fit in the 64-bit
 * buffer together), as it goes and after it; 0 when out is full first. */
TF__LZ_HOT int tf__put_run(tf_lz_encoder *e, const uint8_t *run, tf__lz_bits *b, uint8_t *out, size_t *o, size_t cap) {
    if (!tf__flush(b, out, o, cap))
        return 0;
    tf__put_lit_header(e, b);
    for (unsigned i = 0; i < e->lit; i++) {
        if (b->n >= 32u && !tf__flush(b, out, o, cap))
            return 0;
        tf__put_literal(b, run[i], e->mode);
    }
    return tf__flush(b, out, o, cap);
}

/* The one-shot loop over in[0..n) (the flat view s) while more than `keep` bytes remain, writing to out[*o..cap);
 * 0 when out is full first. `lazy` is e->lazy passed as a constant, so that each kind of level gets a loop of its
 * own with the other kind's work compiled out. */
TF__LZ_HOT int tf__frame_body(tf_lz_encoder *e, tf__lz_bytes *s, size_t keep, uint8_t *out, size_t *o, size_t cap,
                              int lazy) {
    tf__lz_bits b = e->out;
    while (s->la > keep) {
        if (!tf__step(e, s, lazy))
            continue;
        if (!tf__put_run(e, s->buf + s->head - e->lit, &b, out, o, cap))
            return 0;
        tf__put_match(e, &b);
        tf__end_sequence(e);
        if (e->kind != K_NONE)
            tf__pass_match(e, s);
    }
    e->out = b;
    return 1;
}

#if !defined(__OPTIMIZE_SIZE__) /* a build for size runs these levels through tf__frame_body */
/* tf__frame_body for the levels without the lazy look when the finder is a hash chain (the levels and windows that
 * are asked to be fast), from the start of a frame: the same searches (tf__best) and decisions (tf__pays) as
 * tf__step, with the bookkeeping that the flat view makes simple. Every position enters the chain as soon as it is
 * passed (the one searched, with the search's hash; a match's others right after it), which is the order and the
 * table that tf__step's deferred entering gives each search. From the start, the stream position is head (mod 2^16)
 * and the history seen is head bytes, at most the window: derived, not kept, so that fewer values compete for
 * registers in the loop. */
TF__LZ_HOT int tf__frame_greedy(tf_lz_encoder *e, tf__lz_bytes *s, size_t keep, uint8_t *out, size_t *o, size_t cap,
                                unsigned depth) {
    tf__lz_bits b = e->out;
    const uint8_t *buf = s->buf;
    size_t head = 0, end = s->la, window = (size_t)1 << e->w;
    uint16_t *table = e->table, *prev = TF__LZ_PREV(e);
    unsigned wmask = (1u << e->w) - 1u, lit = 0;
    TF_ASSERT(!s->size && !s->head && !e->pos && !e->seen && !e->lit && !e->todo && !e->lazy && e->chain);
    /* The prefix sums of literal costs for tf__lit_cost live in the ring's storage, which is idle until this loop
     * ends (2^(L+1) entries take 2^(L+2) bytes, less than the ring's 2^W + 3 * 2^L). Before each search they cover
     * positions head .. head + 2^L. */
    uint16_t *pre = (uint16_t *)(void *)e->buf;
    size_t pmask = (2u << e->l) - 1u, ahead = (size_t)1 << e->l;
    pre[0] = 0;
    if (end > keep) /* else no search reads them, and the bytes may not be there */
        for (size_t k = 0; k < ahead; k++)
            pre[(k + 1u) & pmask] = (uint16_t)(pre[k & pmask] + tf__lit_bits(buf[k]));
    while (end - head > keep) {
        tf__lz_bytes v = {buf, head, 0, end - head, pre, pmask};
        uint16_t pos = (uint16_t)head;
        e->pos = pos;
        e->seen = (uint16_t)(head < window ? head : window);
        e->lit = (uint16_t)lit;
        tf__lz_choice c = tf__best(e, &v, 0, depth);
        tf__link(table + c.hash, prev, wmask, pos); /* more than 2^L bytes remain: the search hashed head */
        if (c.kind == K_NONE || !tf__pays(e, c.gain)) {
            tf__run_add(e, buf[head]);
            /* head + 2^L < end - 8 here: the byte is there even when the loop ends */
            size_t f = head + ahead;
            pre[(f + 1u) & pmask] = (uint16_t)(pre[f & pmask] + tf__lit_bits(buf[f]));
            head++;
            if (++lit < window)
                continue;
            c.kind = K_NONE;
        }
        e->lit = (uint16_t)lit;
        e->kind = (uint8_t)c.kind;
        if (!tf__put_run(e, buf + head - lit, &b, out, o, cap))
            return 0;
        lit = 0;
        if (c.kind == K_NONE) {
            tf__end_sequence(e);
            continue;
        }
        e->match_len = (uint16_t)c.len;
        e->match_dist = (uint16_t)c.dist;
        tf__put_match(e, &b);
        tf__end_sequence(e);
        e->rep = (uint16_t)c.dist;
        /* The match's other positions (head's went in above) and, unless the loop ends, as many new prefix sums: one
         * loop, as its count is hard to predict. */
        size_t f = head + ahead;
        if (end - head - c.len > keep) {
            uint16_t sum = (uint16_t)(pre[f & pmask] + tf__lit_bits(buf[f])); /* in a register, not reread */
            pre[(f + 1u) & pmask] = sum;
            for (unsigned i = 1; i < c.len; i++) {
                tf__link(table + tf__hash(e, buf + head + i), prev, wmask, (uint16_t)(head + i));
                pre[(f + i + 1u) & pmask] = sum = (uint16_t)(sum + tf__lit_bits(buf[f + i]));
            }
        } else {
            for (unsigned i = 1; i < c.len; i++)
                tf__link(table + tf__hash(e, buf + head + i), prev, wmask, (uint16_t)(head + i));
        }
        head += c.len;
    }
    e->pos = (uint16_t)head;
    e->seen = (uint16_t)(head < window ? head : window);
    e->lit = (uint16_t)lit;
    s->head = head;
    s->la = end - head;
    e->out = b;
    return 1;
}
#endif

/* One frame of in[0..n) into out[0..cap) with the encoder e (just initialised): the same steps as the streaming
 * encoder, fed from the input in place instead of through the ring, and writing straight to out, until the last
 * 2^L + 8 bytes; those go through sink / poll / finish, which end the frame. Same output as streaming the input in
 * any chunks. 0 when the frame does not fit in cap bytes, else its size. */
static size_t tf__compress_frame(tf_lz_encoder *e, const uint8_t *in, size_t n, uint8_t *out, size_t cap) {
    size_t o = 0, got = 0, keep = ((size_t)1 << e->l) + 8u;
    if (cap < TF_LZ_HEADER_SIZE)
        return 0;                          /* not even the header fits (and `out` may be NULL) */
    tf_lz_encoder_poll(e, out, cap, &got); /* the header; with no input yet, poll stops there */
    o = got;
    tf__lz_bytes s = {in, 0, 0, n, NULL, 0};
    tf_lz_encoder local = *e, *const state = e; /* see TF__LZ_HOT */
#if defined(__OPTIMIZE_SIZE__)
    int ok = tf__frame_body(&local, &s, keep, out, &o, cap, local.lazy); /* one loop for all levels */
#else
    int ok;
    if (local.lazy)
        ok = tf__frame_body(&local, &s, keep, out, &o, cap, 1);
    else if (local.chain) /* level 1 gets its chain depth as a constant: no loop (7% faster; not so for depth 2) */
        ok = local.depth == 1u ? tf__frame_greedy(&local, &s, keep, out, &o, cap, 1u)
                               : tf__frame_greedy(&local, &s, keep, out, &o, cap, local.depth);
    else
        ok = tf__frame_body(&local, &s, keep, out, &o, cap, 0);
#endif
    if (!ok)
        return 0;
    *state = local;
    /* The ring takes over: the window's history behind head (which holds the pending literals), then the rest. */
    size_t history = s.head < ((size_t)1 << e->w) ? s.head : (size_t)1 << e->w;
    e->head = (uint16_t)(1u << e->w);
    e->la = 0;
    if (s.la) { /* else `in` may be NULL (n == 0): no pointer arithmetic on it */
        TF_MEMCPY(e->buf + ((size_t)1 << e->w) - history, in + s.head - history, history);
        if (e->flags & TF_LZ_FLAG_CHECKSUM)
            e->adler = tf__adler(e->adler, in, s.head);
        size_t taken = 0;
        tf_lz_encoder_sink(e, in + s.head, s.la, &taken);
        TF_ASSERT(taken == s.la);
    }
    tf_lz_encoder_finish(e);
    for (;;) {
        tf_status st = tf_lz_encoder_poll(e, out + o, cap - o, &got);
        o += got;
        if (st == TF_LZ_DONE)
            return o;
        if (o == cap)
            return 0;
    }
}

#if TF_LZ_FILTERS || TF_LZ_DICTIONARY
/* One frame of in[0..n) into out[0..cap) through sink / poll / finish, for a filter, which sits before the ring,
 * and a dictionary, which is history in the ring (the in-place path above reads the input as it is, with no history
 * before it). 0 when the frame does not fit in cap bytes, else its size. */
static size_t tf__compress_frame_streamed(tf_lz_encoder *e, const uint8_t *in, size_t n, uint8_t *out, size_t cap) {
    size_t ip = 0, o = 0;
    for (;;) {
        size_t took = 0, got = 0;
        if (ip < n) {
            tf_lz_encoder_sink(e, in + ip, n - ip, &took);
            ip += took;
        } else if (tf_lz_encoder_finish(e) == TF_LZ_DONE) {
            return o;
        }
        tf_status st = tf_lz_encoder_poll(e, out + o, cap - o, &got);
        o += got;
        if (st == TF_LZ_MORE && o == cap)
            return 0;
    }
}
#endif

#if TF_LZ_DICTIONARY
tf_status tf_lz_compress(const uint8_t *in, size_t n, uint8_t *out, size_t out_size, size_t *out_n, void *work,
                         size_t work_size, unsigned window_bits, unsigned lookahead_bits, unsigned flags) {
    return tf_lz_compress_dict(in, n, out, out_size, out_n, work, work_size, window_bits, lookahead_bits, flags, NULL,
                               0);
}

tf_status tf_lz_compress_dict(const uint8_t *in, size_t n, uint8_t *out, size_t out_size, size_t *out_n, void *work,
                              size_t work_size, unsigned window_bits, unsigned lookahead_bits, unsigned flags,
                              const uint8_t *dict, size_t dict_n) {
#else /* one function, as before dictionaries (lz.h has tf_lz_compress_dict refuse one) */
tf_status tf_lz_compress(const uint8_t *in, size_t n, uint8_t *out, size_t out_size, size_t *out_n, void *work,
                         size_t work_size, unsigned window_bits, unsigned lookahead_bits, unsigned flags) {
    const uint8_t *dict = NULL;
    const size_t dict_n = 0;
#endif
    if (!out_n || (!in && n) || (!out && out_size) || (!dict && dict_n))
        return TF_E_NULL;
    size_t o = 0, done = 0;
    *out_n = 0;
    do {
        size_t piece = n - done > TF__LZ_PIECE ? TF__LZ_PIECE : n - done;
        size_t stored = piece + TF_LZ_STORED_OVERHEAD - ((flags & TF_LZ_FLAG_CHECKSUM) ? 0u : 4u) + (dict_n ? 4u : 0u);
        size_t cap = out_size - o < stored ? out_size - o : stored;
        tf_lz_encoder *e;
        tf_status st = tf_lz_encoder_init(&e, work, work_size, window_bits, lookahead_bits, flags);
        if (st == TF_OK && dict_n)
            st = tf_lz_encoder_set_dictionary(e, dict, dict_n);
        if (st != TF_OK)
            return st;
        const uint8_t *src = in ? in + done : in;
        size_t produced = 0;
        if (cap) /* else out may be NULL */
#if TF_LZ_FILTERS || TF_LZ_DICTIONARY
            produced = (e->flags & TF_LZ_FLAG_DICT) || e->filter_id
                           ? tf__compress_frame_streamed(e, src, piece, out + o, cap)
                           : tf__compress_frame(e, src, piece, out + o, cap);
#else
            produced = tf__compress_frame(e, src, piece, out + o, cap);
#endif
        if (!produced) {
            if (out_size - o < stored)
                return TF_E_FULL;
            produced = tf__write_stored(src, piece, out + o, window_bits, lookahead_bits,
                                        (flags & TF_LZ_FLAG_CHECKSUM) | (dict_n ? TF_LZ_FLAG_DICT : 0u),
                                        dict_n ? e->dict_id : 0u);
        }
        o += produced;
        done += piece;
    } while (done < n);
    *out_n = o;
    return TF_OK;
}
