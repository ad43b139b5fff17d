/* thrifty core — lz: the encoder's state machine (sink / poll / finish) and its steps, which one-shot compression
 * runs in place on the input (tf__lz_compress_frame; lz_compress.c cuts the input into frames). The match finder is
 * lz_match.h, the loops that run the steps over the input or the ring lz_encode_loops.h; the code and its rationale
 * are in lz.h. Sizing and starting an encoder, and the levels, are in lz_encode_init.c. */
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

static int tf__ring_steps(tf_lz_encoder *restrict e, uint8_t *restrict out, size_t *o, size_t cap);

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

#include "lz_encode_loops.h"

/* poll's steps while the ring holds more than 2^L bytes: the loops one-shot compression runs, on the ring, writing
 * straight to out[*o..cap) while it has room for each sequence. 1 when the ring is down to 2^L bytes, 2 when the
 * next sequence is decided but left to poll's phases to write. A function of its own, so that its loops get the
 * registers to themselves. The chain loops use the state in place rather than a local copy as one-shot compression
 * does (see TF__LZ_HOT): poll runs only a few steps a call (2^L bytes of lookahead), and copying it in and out cost
 * more than it saved; `restrict` tells the compiler that writing out[] leaves *e alone. tf__step's loop (the bucket
 * table's levels) goes through the state at every step: in a local copy it stays in registers. */
static TF__LZ_NOINLINE int tf__ring_steps(tf_lz_encoder *restrict e, uint8_t *restrict out, size_t *o, size_t cap) {
    tf__lz_bytes s = tf__ring_bytes(e);
    int r;
    if (e->chain) {
        r = tf__level_loop(e, &s, (size_t)1 << e->l, out, o, cap, 1);
    } else {
        tf_lz_encoder local = *e;
        r = tf__level_loop(&local, &s, (size_t)1 << local.l, out, o, cap, 1);
        *e = local;
    }
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
    int ok = tf__level_loop(&local, &s, keep, out, &o, cap, 0);
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
