/* thrifty core — lz: the encoder's state machine (sink / poll / finish) and its steps, which one-shot compression
 * runs in place on the input (tf__lz_compress_frame; lz_compress.c cuts the input into frames). The match finder is
 * lz_match.h; the code and its rationale are in lz.h. Sizing and starting an encoder, and the levels, are in
 * lz_encode_init.c. */
#include "lz_encoder.h"
#include "lz_match.h"

/* Input into the ring (after the filter, if any): what sink did before filters. */
size_t tf__lz_sink_ring(tf_lz_encoder *e, const uint8_t *in, size_t n) {
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
    if (take > first) /* poll makes room 2^L bytes at a time: most calls do not wrap, and a call costs */
        TF_MEMCPY(e->buf, in + first, take - first);
    if (at < TF__LZ_MIRROR(e->l) || take > first)
        TF_MEMCPY(e->buf + e->size, e->buf, TF__LZ_MIRROR(e->l));
    e->la = (uint16_t)(e->la + take);
    return take;
}

tf_status tf_lz_encoder_sink(tf_lz_encoder *e, const uint8_t *in, size_t n, size_t *consumed) {
    if (!e || !consumed || (!in && n))
        return TF_E_NULL;
    *consumed = 0;
    if (e->finishing)
        return TF_E_STATE;
#if TF_LZ_FILTERS
    if (e->filter_id)
        return tf__lz_filter_sink(e, in, n, consumed);
#endif
    *consumed = tf__lz_sink_ring(e, in, n);
    return TF_OK;
}

tf_status tf_lz_encoder_finish(tf_lz_encoder *e) {
    if (!e)
        return TF_E_NULL;
#if TF_LZ_FILTERS
    if (e->filter_id && !e->finishing)
        tf__lz_filter_finish(e);
    else
#endif
        e->finishing = 1;
    return (e->phase == E_END && e->out.n == 0) ? TF_LZ_DONE : TF_LZ_MORE;
}

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

/* Moves the stream position on by n bytes (the view's head is the caller's to move). */
TF__LZ_HOT void tf__advance(tf_lz_encoder *e, unsigned n) {
    unsigned window = 1u << e->w;
    e->pos = (uint16_t)(e->pos + n);
    e->todo = (uint16_t)(e->todo + n - e->head_hashed);
    /* A bucket table keeps a match's first two positions and only every 4th after them (counted back from its
     * end): its few ways then reach further back instead of holding the inside of repeats (W=12, level 6, the
     * 768-position table: 0.937x -> 0.958x zlib 6/12/1's ratio on bench_lz's seven parts leaving all of them out;
     * with the packed table, every 4th instead of none: 0.974x -> 0.979x, JSON logs 0.916x -> 0.945x). The chains,
     * which keep every position anyway, enter them all. */
    e->skip = (uint8_t)(!e->chain && n > 2u ? n - 2u : 0u); /* n <= 2^L <= 2^8 */
    e->head_hashed = 0;
    e->seen = (uint16_t)(e->seen + n > window ? window : e->seen + n);
}

static void tf__skip(tf__lz_bytes *s, unsigned n) {
    s->head = tf__ahead(s, n);
    s->la -= n;
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
    if (lazy && e->ahead_kind != K_NONE) {
        c.gain = e->ahead_gain;
        c.len = e->ahead_len;
        c.dist = e->ahead_dist;
        c.kind = e->ahead_kind;
        c.hash = tf__hash(e, s->buf + s->head); /* not kept by the lazy look */
        e->ahead_kind = K_NONE;
    } else {
        c = tf__best(e, s, 0, e->depth);
    }
    int ahead = K_NONE;         /* the look ahead's kind when it won */
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
        if (lazy && tf__looks_ahead(e, &c, 1u << e->l) && c.len < s->la && s->la >= e->hash_bytes + 1u) {
        tf__insert_hashed(e, c.hash, e->pos);
        e->head_hashed = 1;
        tf__lz_choice next = tf__best(e, s, 1, tf__ahead_depth(e, e->depth));
        if (next.gain > c.gain) {
            /* The search at the next step would find exactly this (same table, history, rep and bounds). */
            c.kind = K_NONE;
            e->ahead_gain = (int16_t)next.gain;
            e->ahead_len = (uint16_t)next.len;
            e->ahead_dist = (uint16_t)next.dist;
            ahead = (int)next.kind; /* not K_NONE: it gains more than a match that gains */
        }
    }
    if (c.kind != K_NONE && !tf__pays(e, c.gain))
        c.kind = K_NONE;
    if (c.kind == K_NONE) {
        tf__run_add(e, s->buf[s->head]);
        tf__advance(e, 1);
        tf__skip(s, 1);
        if (lazy)
            e->ahead_kind = (uint8_t)ahead;
        e->lit++;
        if (e->lit < (1u << e->w))
            return 0;
        e->ahead_kind = K_NONE; /* a full run resets the run length that priced the look ahead */
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

static int tf__ring_steps(tf_lz_encoder *e, uint8_t *out, size_t *o, size_t cap);

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
            int filtering = 0;
#if TF_LZ_FILTERS
            filtering = e->filter_id != 0;
            if (filtering && !e->finishing && tf__lz_enc_filter(e)->ended)
                tf__lz_filter_finish(e);
#endif
            if (e->la > (1u << e->l)) {
                int r = tf__ring_steps(e, out, &o, out_size);
                if (r == 1 && !e->finishing && !filtering && b->n < 8u) { /* what the next pass would conclude */
                    *out_n = o;
                    return TF_LZ_DONE;
                }
                if (r != 2)
                    break;
            } else if (e->finishing && e->la) {
                tf__lz_bytes s = tf__ring_bytes(e);
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

/* Writes whole bytes of b to out[*o..cap); 0 when out is full first. With 8 bytes of room it stores all 8 (the
 * ones past the whole bytes are overwritten by the next flush or left unused, but stay inside out[0..cap)):
 * the byte loop's exit branch, taken after a varying count, was mispredicted about once a sequence. */
TF__LZ_HOT int tf__flush(tf__lz_bits *b, uint8_t *restrict out, size_t *o, size_t cap) {
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

/* The loops' literal run (e->lit bytes from buf[at], wrapping at `size` in the ring, which a flat view's 0 never
 * does; header first) straight to out[*o..cap), with whole bytes flushed before it (the last match's bits, up to 50,
 * and the header's, up to 29, would not fit in the 64-bit buffer together), as it goes and after it; 0 when out is
 * full first. */
TF__LZ_HOT int tf__put_run(tf_lz_encoder *e, const uint8_t *buf, size_t at, size_t size, tf__lz_bits *b, uint8_t *out,
                           size_t *o, size_t cap) {
    if (!tf__flush(b, out, o, cap))
        return 0;
    tf__put_lit_header(e, b);
    for (unsigned i = 0; i < e->lit; i++) {
        if (b->n >= 32u && !tf__flush(b, out, o, cap))
            return 0;
        tf__put_literal(b, buf[at], e->mode);
        if (++at == size && size)
            at = 0;
    }
    return tf__flush(b, out, o, cap);
}

/* Room the ring's loops want in out before they write a sequence of `lit` literals there: whole bytes pending (under
 * 8 bits), the run's header and bytes (at most 28 bits and 8 a byte: tf__run_mode's plain bytes bound the mode it
 * picks), the match (at most 2 * 28 bits), with tf__flush's 8-byte stores. Short of it, poll's phases write the
 * sequence, which stop wherever out is full. */
#define TF__LZ_SEQUENCE_ROOM(lit) ((size_t)(lit) + 32u)

/* The loop over the view s while more than `keep` bytes remain, writing to out[*o..cap): one-shot compression's over
 * in[0..n) (ring 0, the flat view; 0 when out is full first) and poll's over the ring (ring 1: 2 when out has no
 * room for the next sequence, which tf__step has decided, as its phases would then write it). 1 when the view is
 * down to `keep` bytes. `lazy` is e->lazy passed as a constant where the caller can, so that each kind of level gets
 * a loop of its own with the other kind's work compiled out. */
TF__LZ_HOT int tf__frame_body(tf_lz_encoder *restrict e, tf__lz_bytes *s, size_t keep, uint8_t *restrict out, size_t *o,
                              size_t cap, int lazy, int ring) {
    tf__lz_bits b = e->out;
    size_t size = ring ? s->size : 0u;
    while (s->la > keep) {
        if (!tf__step(e, s, lazy))
            continue;
        if (ring && cap - *o < TF__LZ_SEQUENCE_ROOM(e->lit)) {
            e->out = b;
            return 2;
        }
        if (!tf__put_run(e, s->buf, tf__behind(s, s->head, e->lit), size, &b, out, o, cap))
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
/* tf__frame_body for the levels whose finder is a hash chain (the levels and windows that are asked to be fast): the
 * same searches (tf__best) and decisions (the look one byte ahead when `lazy`, tf__pays) as tf__step, with the
 * bookkeeping kept in locals. Every position enters the chain as soon as it is passed (the one searched, with the
 * search's hash; a match's others right after it), which is the order and the table that tf__step's deferred
 * entering gives each search; the ring's loop leaves a match's positions to tf__step's way (e->todo) when it stops
 * after the match, as their bytes may not all be there yet. Flat (ring 0, one-shot compression from the start of a
 * frame): the stream position is head (mod 2^16) and the history seen is head bytes, at most the window, derived
 * rather than kept so that fewer values compete for registers, and literal costs are prefix sums. Returns as
 * tf__frame_body. `depth`, `lazy` and `ring` are constants where the caller can make them so. */
TF__LZ_HOT int tf__frame_chain(tf_lz_encoder *restrict e, tf__lz_bytes *s, size_t keep, uint8_t *restrict out,
                               size_t *o, size_t cap, unsigned depth, int lazy, int ring) {
    tf__lz_bits b = e->out;
    const uint8_t *buf = s->buf;
    size_t head = s->head, end = s->la, la = s->la, size = ring ? s->size : 0u, window = (size_t)1 << e->w;
    uint16_t *table = e->table, *prev = TF__LZ_PREV(e);
    unsigned wmask = (1u << e->w) - 1u, lit = e->lit, longest = 1u << e->l, hash_bytes = e->hash_bytes;
    unsigned pos = e->pos, seen = e->seen;     /* the ring's: kept, not derived */
    tf__lz_choice next = {0, 0, 0, K_NONE, 0}; /* the look ahead's result when it won: the next search's */
    int have_next = 0;
    uint16_t *pre = NULL;
    size_t pmask = (2u << e->l) - 1u, ahead = ((size_t)1 << e->l) + 1u;
    if (ring) {
        TF_ASSERT(la > keep && e->chain && !e->head_hashed);
        if (lazy && e->ahead_kind != K_NONE) { /* tf__step's look ahead won: this search's result */
            next.gain = e->ahead_gain;
            next.len = e->ahead_len;
            next.dist = e->ahead_dist;
            next.kind = e->ahead_kind;
            next.hash = tf__hash(e, buf + head);
            have_next = 1;
            e->ahead_kind = K_NONE;
        }
        if (e->todo)
            tf__insert_pending(e, s); /* all of them: more than 2^L bytes are there */
    } else {
        TF_ASSERT(!s->size && !s->head && !e->pos && !e->seen && !e->lit && !e->todo && e->chain);
        /* The prefix sums of literal costs for tf__lit_cost live in the ring's storage, which is idle until this loop
         * ends (2^(L+1) entries take 2^(L+2) bytes, less than the ring's 2^W + 3 * 2^L). Before each search they
         * cover positions head .. head + 2^L + 1 (the look ahead searches from head + 1). */
        pre = (uint16_t *)(void *)e->buf;
        pre[0] = 0;
        if (end > keep) /* else no search reads them, and the bytes may not be there */
            for (size_t k = 0; k < ahead; k++)
                pre[(k + 1u) & pmask] = (uint16_t)(pre[k & pmask] + tf__lit_bits(buf[k]));
    }
    while ((ring ? la : end - head) > keep) {
        tf__lz_bytes v = {buf, head, size, ring ? la : end - head, pre, pmask};
        uint16_t here = (uint16_t)(ring ? pos : head);
        e->pos = here;
        e->seen = (uint16_t)(ring ? seen : head < window ? head : window);
        e->lit = (uint16_t)lit;
        tf__lz_choice c;
        if (lazy && have_next) {
            c = next;
            have_next = 0;
        } else {
            c = tf__best(e, &v, 0, depth);
        }
        tf__link(table + c.hash, prev, wmask, here); /* more than 2^L bytes remain: the search hashed head */
        /* tf__step's look one byte ahead (more than 2^L bytes remain, so its other bounds hold). */
        if (lazy && tf__looks_ahead(e, &c, longest)) {
            tf__lz_choice later = tf__best(e, &v, 1, lazy == 1 ? depth : 1u); /* tf__ahead_depth */
            if (later.gain > c.gain) {
                next = later;
                have_next = 1;
                c.kind = K_NONE;
            }
        }
        if (c.kind == K_NONE || !tf__pays(e, c.gain)) {
            tf__run_add(e, buf[head]);
            if (ring) {
                if (++head == size)
                    head = 0;
                la--;
                pos++;
                seen += seen < window;
            } else {
                /* head + 2^L + 1 < end - 7 here: the byte is there even when the loop ends */
                size_t f = head + ahead;
                pre[(f + 1u) & pmask] = (uint16_t)(pre[f & pmask] + tf__lit_bits(buf[f]));
                head++;
            }
            if (++lit < window)
                continue;
            have_next = 0; /* a full run resets the run length that priced the look ahead */
            c.kind = K_NONE;
        }
        e->lit = (uint16_t)lit;
        e->kind = (uint8_t)c.kind;
        if (ring && cap - *o < TF__LZ_SEQUENCE_ROOM(lit)) { /* as tf__step leaves a decided sequence */
            e->match_len = (uint16_t)c.len;
            e->match_dist = (uint16_t)c.dist;
            e->head_hashed = c.kind != K_NONE;
            e->seen = (uint16_t)seen;
            e->pos = (uint16_t)pos;
            s->head = head;
            s->la = la;
            e->out = b;
            return 2;
        }
        if (!tf__put_run(e, buf, ring ? (head >= lit ? head - lit : head + size - lit) : head - lit, size, &b, out, o,
                         cap))
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
        if (ring) {
            /* The match's other positions (head's went in above) whose keys are all in the ring (so all of them
             * unless the loop stops after the match); the rest are left to tf__step's way (e->todo). Their bytes
             * read past the ring's end from its mirror. */
            unsigned linked = la - c.len >= hash_bytes - 1u ? c.len : (unsigned)la + 1u - hash_bytes;
            for (unsigned i = 1; i < linked; i++)
                tf__link(table + tf__hash(e, buf + head + i), prev, wmask, (uint16_t)(pos + i));
            e->todo = (uint16_t)(c.len - linked);
            head += c.len;
            if (head >= size)
                head -= size;
            la -= c.len;
            pos += c.len;
            seen = seen + c.len < window ? seen + c.len : (unsigned)window;
            continue;
        }
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
    e->seen = (uint16_t)(ring ? seen : head < window ? head : window);
    e->pos = (uint16_t)(ring ? pos : head);
    e->lit = (uint16_t)lit;
    if (lazy && have_next) { /* the ring's steps take the look ahead over (head is not in the table yet, as there) */
        e->ahead_gain = (int16_t)next.gain;
        e->ahead_len = (uint16_t)next.len;
        e->ahead_dist = (uint16_t)next.dist;
        e->ahead_kind = (uint8_t)next.kind;
    }
    s->head = head;
    s->la = ring ? la : end - head;
    if (ring) /* the last match's bits too, rather than byte by byte in poll (as far as out has room) */
        tf__flush(&b, out, o, cap);
    e->out = b;
    return 1;
}
#endif

#if !defined(__OPTIMIZE_SIZE__)
/* Each kind of level's loop on the ring in a function of its own (not inlined into one), so that each gets the
 * registers to itself. The state is used in place rather than copied to a local as one-shot compression does (see
 * TF__LZ_HOT): poll runs only a few steps a call (2^L bytes of lookahead), and copying it in and out cost more than it
 * saved; `restrict` tells the compiler that writing out[] leaves *e alone. */
static TF__LZ_NOINLINE int tf__ring_level1(tf_lz_encoder *restrict e, tf__lz_bytes *s, uint8_t *restrict out, size_t *o,
                                           size_t cap) {
    return tf__frame_chain(e, s, (size_t)1 << e->l, out, o, cap, TF__LZ_LEVEL1_DEPTH, 2, 1);
}
static TF__LZ_NOINLINE int tf__ring_chain(tf_lz_encoder *restrict e, tf__lz_bytes *s, uint8_t *restrict out, size_t *o,
                                          size_t cap) {
    return tf__frame_chain(e, s, (size_t)1 << e->l, out, o, cap, e->depth, e->lazy > TF__LZ_LAZY_ALL ? 2 : e->lazy, 1);
}
#endif
/* tf__step's bookkeeping goes through the state at every step: in a local copy it stays in registers. */
static TF__LZ_NOINLINE int tf__ring_body(tf_lz_encoder *e, tf__lz_bytes *s, uint8_t *restrict out, size_t *o,
                                         size_t cap) {
    tf_lz_encoder local = *e;
    int r = tf__frame_body(&local, s, (size_t)1 << local.l, out, o, cap, local.lazy, 1);
    *e = local;
    return r;
}

/* poll's steps while the ring holds more than 2^L bytes: the loops one-shot compression runs, on the ring, writing
 * straight to out[*o..cap) while it has room for each sequence. 1 when the ring is down to 2^L bytes, 2 when the
 * next sequence is decided but left to poll's phases to write. */
static int tf__ring_steps(tf_lz_encoder *e, uint8_t *out, size_t *o, size_t cap) {
    tf__lz_bytes s = tf__ring_bytes(e);
    int r;
#if defined(__OPTIMIZE_SIZE__)
    r = tf__ring_body(e, &s, out, o, cap);
#else
    if (e->chain && e->lazy > TF__LZ_LAZY_ALL && e->depth == TF__LZ_LEVEL1_DEPTH)
        r = tf__ring_level1(e, &s, out, o, cap);
    else if (e->chain)
        r = tf__ring_chain(e, &s, out, o, cap);
    else
        r = tf__ring_body(e, &s, out, o, cap);
#endif
    tf__ring_store(e, &s);
    return r;
}

/* One frame of in[0..n) into out[0..cap) with the encoder e (just initialised): the same steps as the streaming
 * encoder, fed from the input in place instead of through the ring, and writing straight to out, until the last
 * 2^L + 8 bytes; those go through sink / poll / finish, which end the frame. Same output as streaming the input in
 * any chunks. 0 when the frame does not fit in cap bytes, else its size. */
size_t tf__lz_compress_frame(tf_lz_encoder *e, const uint8_t *in, size_t n, uint8_t *out, size_t cap) {
    size_t o = 0, got = 0, keep = ((size_t)1 << e->l) + 8u;
    if (cap < TF_LZ_HEADER_SIZE)
        return 0;                          /* not even the header fits (and `out` may be NULL) */
    tf_lz_encoder_poll(e, out, cap, &got); /* the header; with no input yet, poll stops there */
    o = got;
    tf__lz_bytes s = {in, 0, 0, n, NULL, 0};
    tf_lz_encoder local = *e, *const state = e; /* see TF__LZ_HOT */
#if defined(__OPTIMIZE_SIZE__)
    int ok = tf__frame_body(&local, &s, keep, out, &o, cap, local.lazy, 0); /* one loop for all levels */
#else
    int ok;
    /* Level 1 gets its chain depth and look ahead as constants: the search loops unroll (7% faster). */
    if (local.chain && local.lazy > TF__LZ_LAZY_ALL)
        ok = local.depth == TF__LZ_LEVEL1_DEPTH
                 ? tf__frame_chain(&local, &s, keep, out, &o, cap, TF__LZ_LEVEL1_DEPTH, 2, 0)
                 : tf__frame_chain(&local, &s, keep, out, &o, cap, local.depth, 2, 0);
    else if (local.chain && local.lazy)
        ok = tf__frame_chain(&local, &s, keep, out, &o, cap, local.depth, 1, 0);
    else if (local.chain)
        ok = tf__frame_chain(&local, &s, keep, out, &o, cap, local.depth, 0, 0);
    else
        ok = local.lazy ? tf__frame_body(&local, &s, keep, out, &o, cap, 1, 0)
                        : tf__frame_body(&local, &s, keep, out, &o, cap, 0, 0);
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
