/* thrifty core — lz: the encoder's match finder. For the position being encoded it weighs the previous offset and
 * the candidates of a hash chain (windows up to 2^TF_LZ_CHAIN_MAX_WINDOW_BITS) or of a bucket table (above) by bit
 * gain, on a view of the bytes that is the streaming encoder's ring or one-shot compression's input. Included by
 * lz_encode.c alone: its functions are inlined into the encoder's two drivers (TF__LZ_HOT, lz_encoder.h). */
#ifndef THRIFTY_LZ_MATCH_H
#define THRIFTY_LZ_MATCH_H

#include "bits.h"
#include "lz_encoder.h"

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
    /* Prefix sums (mod 2^16) of tf__lit_bits over the flat view, kept by tf__frame_chain for the 2^L + 2 positions
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

/* What coding v that way costs, in bits. */
TF__LZ_INLINE unsigned tf__number_bits(tf__lz_ref code, unsigned sym0, uint32_t v) {
    unsigned slot = tf__slot(v);
    return TF__LZ_LEN(code, sym0 + slot) + tf__slot_extra(slot);
}

TF__LZ_INLINE tf__lz_ref tf__match_code(const tf_lz_encoder *e, unsigned lit) {
    return TF__LZ_MATCH(TF__LZ_MATCH_CONTEXT(lit, e->long_before));
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
    if (e->packed) { /* the bucket as a 96-bit number, entry i in bits 12i..12i+11: shifted up by one entry */
        uint8_t *b = (uint8_t *)e->table + (size_t)h * TF__LZ_PACKED_BUCKET;
        uint64_t lo = tf__load_le64(b);
        uint32_t hi = tf__load_le32(b + 8);
        tf__store_le32(b + 8, (uint32_t)(hi << 12) | (uint32_t)(lo >> 52));
        tf__store_le64(b, (lo << 12) | (p & 0xFFFu));
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
        unsigned skip = e->skip; /* of the newest `skip` only every 4th goes in (tf__advance) */
        for (; back >= lo; back--) {
            if (back > skip || !(back & 3u))
                tf__insert(e, s->buf + at, p);
            p++;
            if (++at == s->size)
                at = 0;
        }
    }
    e->todo = e->skip = 0;
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
#if !defined(__OPTIMIZE_SIZE__) /* only tf__frame_chain keeps them */
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
 * it gains more. 1 when the match found is as long as allowed, or long enough for the level (the search stops). */
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
    return n == max || n > e->enough;
}

/* The best match starting at head + j (j is 0 or 1), by bit gain: the previous offset, then the finder's, looking at
 * up to `depth` candidates (e->depth; a constant where a loop knows it). */
TF__LZ_HOT tf__lz_choice tf__best(const tf_lz_encoder *e, const tf__lz_bytes *s, unsigned j, unsigned depth) {
    tf__lz_choice c = {0, 0, 0, K_NONE, 0};
    tf__lz_cost memo = {0, 0, s->cost, 0, s->cost_mask};
    size_t avail = s->la - j;
    unsigned max = avail > (1u << e->l) ? 1u << e->l : (unsigned)avail,
             seen = e->seen + j > (1u << e->w) ? 1u << e->w : e->seen + j;
    size_t at = j ? tf__ahead(s, j) : s->head; /* head needs no wrap check */
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
    /* A bucket holds few positions, so a match whose own bucket has lost it may still be found through the bytes
     * after it: a position in the bucket of the key at y + k, less k, is a candidate for y too (the levels'
     * `probes`; W=12, level 6, one more bucket: 0.979x -> 1.001x zlib 6/12/1's ratio on bench_lz's seven parts, at
     * 0.7x the speed). Only keys whose bytes all come before max are hashed, as the search's own. */
    for (unsigned k = 0; k <= e->probes && k + e->hash_bytes <= max; k++) {
        unsigned hk = k ? tf__hash(e, y + k) : h, from = here + k;
        if (e->packed) {
            const uint8_t *b = (const uint8_t *)e->table + (size_t)hk * TF__LZ_PACKED_BUCKET;
            uint64_t lo = tf__load_le64(b), mid = (lo >> 32) | ((uint64_t)tf__load_le32(b + 8) << 32); /* 32..95 */
            for (unsigned i = 0; i < depth; i++) {
                unsigned entry = (unsigned)(i < 3u ? lo >> (12u * i) : mid >> (12u * i - 32u));
                unsigned dist = (from - entry) & 0xFFFu; /* 0: an empty entry or offset 2^12 */
                /* An entry older than 2^12 reads as a nearer offset: no order to stop on, only ones to skip. */
                if (dist <= seen && tf__consider(e, code, y, s->buf + tf__behind(s, at, dist), dist, max, &c, &memo))
                    return c;
            }
            continue;
        }
        const uint16_t *slot = e->table + (size_t)hk * TF_LZ_HASH_WAYS;
        for (unsigned i = 0; i < depth; i++) {
            unsigned dist = (uint16_t)(from - slot[i]);
            if (dist > seen)
                break; /* entries are newest first: the rest are older still, out of the window */
            if (tf__consider(e, code, y, s->buf + tf__behind(s, at, dist), dist, max, &c, &memo))
                return c;
        }
    }
    return c;
}

/* Whether the step looks one byte ahead before taking the match c (e->lazy: TF__LZ_LAZY_ALL or a length bound, see
 * the levels in lz_encode_init.c); a match as long as allowed is taken as it is. */
TF__LZ_INLINE int tf__looks_ahead(const tf_lz_encoder *e, const tf__lz_choice *c, unsigned longest) {
    if (c->kind == K_NONE || c->len >= longest)
        return 0;
    return e->lazy == TF__LZ_LAZY_ALL || (c->kind != K_REP && c->len < e->lazy);
}

/* How many chain candidates that look weighs: the level's depth, or one for the short-match look. */
TF__LZ_INLINE unsigned tf__ahead_depth(const tf_lz_encoder *e, unsigned depth) {
    return e->lazy == TF__LZ_LAZY_ALL ? depth : 1u;
}

#endif /* THRIFTY_LZ_MATCH_H */
