/* thrifty core — lz: the encoder's loops, the steps over a view of the bytes written straight to the output, in two
 * kinds (tf__frame_body over tf__step for every level, tf__frame_chain for the hash chains' levels with its
 * bookkeeping in locals), and the one choice of loop per level (tf__level_loop) that both drivers run: one-shot
 * compression on the input in place and poll on its ring. Included by lz_encode.c alone, after the steps and the
 * writers of a sequence that the loops use; like lz_match.h, its functions inline into both drivers (TF__LZ_HOT,
 * lz_encoder.h). */
#ifndef THRIFTY_LZ_ENCODE_LOOPS_H
#define THRIFTY_LZ_ENCODE_LOOPS_H

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

/* The loop that runs e's level over the view s, the one place that chooses it, for both drivers: one-shot compression
 * (ring 0, on its local copy of the state) and poll (ring 1). Returns as tf__frame_body. Each kind of level gets a loop
 * of its own, with its look ahead (and level 1 its chain depth too) as constants: the search loops unroll (level 1:
 * 7% faster) and the other kinds' work is compiled out. A build for size runs every level through tf__frame_body. */
TF__LZ_HOT int tf__level_loop(tf_lz_encoder *restrict e, tf__lz_bytes *s, size_t keep, uint8_t *restrict out, size_t *o,
                              size_t cap, int ring) {
#if defined(__OPTIMIZE_SIZE__)
    return tf__frame_body(e, s, keep, out, o, cap, e->lazy, ring);
#else
    if (!e->chain)
        return e->lazy ? tf__frame_body(e, s, keep, out, o, cap, 1, ring)
                       : tf__frame_body(e, s, keep, out, o, cap, 0, ring);
    if (e->lazy > TF__LZ_LAZY_ALL)
        return e->depth == TF__LZ_LEVEL1_DEPTH ? tf__frame_chain(e, s, keep, out, o, cap, TF__LZ_LEVEL1_DEPTH, 2, ring)
                                               : tf__frame_chain(e, s, keep, out, o, cap, e->depth, 2, ring);
    return e->lazy ? tf__frame_chain(e, s, keep, out, o, cap, e->depth, 1, ring)
                   : tf__frame_chain(e, s, keep, out, o, cap, e->depth, 0, ring);
#endif
}

#endif /* THRIFTY_LZ_ENCODE_LOOPS_H */
