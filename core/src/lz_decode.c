/* thrifty core — lz: the decoder's state machine (the code and its rationale are in lz.h; the frame header and
 * preset dictionaries are in lz_frame.c). */
#include "lz_decoder.h"

size_t tf_lz_decoder_size(unsigned window_bits) {
    if (window_bits < TF_LZ_MIN_WINDOW_BITS || window_bits > TF_LZ_MAX_WINDOW_BITS)
        return 0;
    return sizeof(tf_lz_decoder) + ((size_t)1 << window_bits);
}

tf_status tf_lz_decoder_init(tf_lz_decoder **dec, void *storage, size_t size, unsigned max_window_bits) {
    if (!dec || !storage)
        return TF_E_NULL;
    if (!tf_lz_decoder_size(max_window_bits))
        return TF_E_ARG;
    if (size < tf_lz_decoder_size(max_window_bits))
        return TF_E_SIZE;
    if (!TF_IS_ALIGNED(storage, TF_LZ_ALIGN))
        return TF_E_ALIGN;
    tf_lz_decoder *d = (tf_lz_decoder *)storage;
    TF_MEMSET(d, 0, sizeof *d);
    unsigned fits = 0;
#if TF_LZ_FILTERS
    for (unsigned k = 1; k <= 3u; k++)
        if (size - tf_lz_decoder_size(max_window_bits) >=
            tf_lz_filter_size(TF_LZ_FILTER(TF_LZ_FILTER_ID(TF_LZ_FILTER_DELTA, k))))
            fits = k;
#endif
    d->max_w = (uint8_t)(max_window_bits | (fits << TF__ROOM_SHIFT));
    d->adler = 1u;
    d->state = D_HEADER;
    *dec = d;
    return TF_OK;
}

tf_status tf_lz_decoder_sink(tf_lz_decoder *d, const uint8_t *in, size_t n, size_t *consumed) {
    if (!d || !consumed || (!in && n))
        return TF_E_NULL;
    *consumed = 0;
    if (d->state == D_END || d->state == D_FAILED)
        return TF_OK;
    size_t keep = (size_t)d->in_len - d->in_pos, take = TF_LZ_DECODER_INPUT - keep; /* the bytes kept go first */
    if (take > n)
        take = n;
    TF_MEMMOVE(d->in, d->in + d->in_pos, keep);
    TF_MEMCPY(d->in + keep, in, take);
    d->in_len = (uint8_t)(keep + take);
    d->in_pos = 0;
    *consumed = take;
    if (take)
        d->starved = 0;
    return TF_OK;
}

typedef struct {
    const uint8_t *p, *end; /* the bytes the decoder reads: its own input buffer, or the caller's */
} tf__lz_src;

/* The next n (<= 24) bits as a number, left unread (tf__bits reads them); -1 when the input ran dry first. */
static int tf__peek(tf_lz_decoder *d, tf__lz_src *src, unsigned n) {
    while (d->nbits < n) {
        if (src->p == src->end)
            return -1;
        d->bits = (d->bits << 8) | *src->p++;
        d->nbits = (uint8_t)(d->nbits + 8u);
    }
    return (int)((d->bits >> (d->nbits - n)) & ((1u << n) - 1u));
}

static int tf__bits(tf_lz_decoder *d, tf__lz_src *src, unsigned n) {
    int v = tf__peek(d, src, n);
    if (v >= 0)
        d->nbits = (uint8_t)(d->nbits - n);
    return v;
}

/* One symbol of `code`, read a bit at a time as far as the input allows, so that nothing is consumed when the
 * input ends inside the codeword; -1 then. Every code is complete (any bits decode), canonical (codewords of one
 * length are consecutive numbers) and at most TF__LZ_CODE_MAX_LEN bits long: the codeword is n bits long for the
 * first n whose limit the next bits fall below. */
#if !TF_LZ_SMALL
static int tf__symbol(tf_lz_decoder *d, tf__lz_src *src, tf__lz_ref code, uint16_t *counts) {
    (void)counts;                         /* the small build's */
    if (d->nbits >= 8u && code->first8) { /* a table for codewords of up to 8 bits, when 8 bits are already here */
        unsigned hit = code->first8[(d->bits >> (d->nbits - 8u)) & 0xFFu];
        if (hit) {
            d->nbits = (uint8_t)(d->nbits - code->len[hit - 1u]);
            return (int)hit - 1;
        }
    }
    for (unsigned n = 1; n <= TF__LZ_CODE_MAX_LEN; n++) {
        int v = tf__peek(d, src, n);
        if (v < 0)
            return -1;
        unsigned x = (unsigned)v;
        if ((x << (TF__LZ_CODE_MAX_LEN - n)) < code->limit[n]) {
            d->nbits = (uint8_t)(d->nbits - n);
            return code->sorted[(int)x + code->offset[n]];
        }
    }
    return -1; /* not reached: limit[TF__LZ_CODE_MAX_LEN] is above every 15-bit number */
}
#else
/* The small build's tables hold only each symbol's codeword length, in symbol order, as a stream of nibbles
 * (lz_codes.h): a length, or 0 for 3 and 1 for 19 more of the length before. A pass over the code counts the
 * codewords of each length, into `count` (tf__decode's, on its stack: the next symbol of the same code, as in a run
 * of literals, skips the pass); then, bit by bit, the first codeword of length n is the previous length's first
 * plus its count, doubled, and the next n bits are an n-bit codeword when they fall below that first plus the
 * count: the symbol is then the x-th of that length, in symbol order. */
static int tf__symbol(tf_lz_decoder *d, tf__lz_src *src, tf__lz_ref code, uint16_t *count) {
    const unsigned start = tf__lz_small_run_at[code], end = tf__lz_small_run_at[code + 1u];
    unsigned len = 0, n = 0, x = 0, sym = 0, i = end;
    if (count[0] != code + 1u) { /* count[0] says which code count[1..] counts (a literal run's code stays) */
        for (unsigned j = TF__LZ_CODE_MAX_LEN; j; j--)
            count[j] = 0;
        count[0] = (uint16_t)(code + 1u);
        i = start;
    }
    for (;; i++) { /* one pass counts (n == 0), a second finds the x-th of length n */
        if (i == end) {
            unsigned first = 0;
            for (n = 1;; n++) {
                int v = tf__peek(d, src, n);
                if (v < 0)
                    return -1;
                x = (unsigned)v - first;
                if (x < count[n])
                    break;
                first = (first + count[n]) << 1; /* n < TF__LZ_CODE_MAX_LEN here: every code is complete */
            }
            d->nbits = (uint8_t)(d->nbits - n);
            i = start;
        }
        unsigned v = (unsigned)(tf__lz_small_runs[i >> 1] >> ((i & 1u) << 2)) & 15u, k = 1;
        if (v < 2u)
            k = 3u + 16u * v; /* 0: 3, 1: 19 */
        else
            len = v;
        if (!n) {
            count[len] = (uint16_t)(count[len] + k);
        } else if (len == n) {
            if (x < k)
                return (int)(sym + x);
            x -= k;
            sym += k;
        } else {
            sym += k;
        }
    }
}
#endif

/* One literal of a run coded in `mode` (0 text code, 1 numeric code, 2 plain); -1 when the input ends inside it. Codes
 * of up to 8 bits come from a table. Peeking 8 bits may pull a byte the literal does not use, which is safe: at least
 * the end marker's symbol (8 bits or more, checked by core/tools/gen_lz_codes.py) follows any literal in its frame. */
static int tf__literal(tf_lz_decoder *d, tf__lz_src *src, unsigned mode, uint16_t *counts) {
    if (mode == 2u)
        return tf__bits(d, src, 8);
#if !TF_LZ_SMALL
    int v = tf__peek(d, src, 8);
    if (v >= 0) {
        unsigned hit = tf__lz_literal_fast[mode][v];
        if (hit >> 8) {
            d->nbits = (uint8_t)(d->nbits - (hit >> 8));
            return (int)(hit & 0xFFu);
        }
    }
#endif
    return tf__symbol(d, src, TF__LZ_LITERAL(mode), counts);
}

static tf_status tf__fail(tf_lz_decoder *d, tf_status why) {
    d->state = D_FAILED;
    d->error = (uint8_t)-why;
    return why;
}

#if !TF_LZ_SMALL /* the small build decodes a symbol at a time only */
/* Records that k bytes were written to the window, ending at index `pos`. The hot loops keep pos in a local. */
static void tf__moved(tf_lz_decoder *d, unsigned pos, size_t k) {
    if ((size_t)d->pos + k > ((size_t)1 << d->w) - 1u)
        d->wrapped = 1;
    d->pos = (uint16_t)pos;
}

/* Fast path for whole sequences while at least 8 input bytes remain: a 64-bit local bit buffer refilled a byte at
 * a time to 57+ bits, so a sequence's fields need no per-field input checks, and output bytes go to `out` only, with
 * matches copied from `out` when they reach no further back than this call's output. The window is brought up to
 * date from `out` on the way out. Entered at a sequence boundary (D_RUN); it leaves the state exactly as the
 * byte-wise machine would be at the point it stops (between sequences, or inside a run or a match when the output
 * or the input runs short), and gives back whole bytes it read but did not use, so the slow path (and the 1-byte
 * streaming case, which never gets here) behaves the same. Returns TF_OK or a failure. */
static tf_status tf__decode_fast(tf_lz_decoder *d, tf__lz_src *src, uint8_t *out, size_t out_size, size_t *op) {
    const uint8_t *p = src->p, *const p0 = src->p, *const end = src->end;
    uint64_t acc = d->bits;
    unsigned nb = d->nbits;
    const unsigned w = d->w, l = d->l, mask = (1u << w) - 1u, pos0 = d->pos;
    const tf__lz_code *const offsets = &tf__lz_offset[w - TF_LZ_MIN_WINDOW_BITS];
    const size_t o0 = *op, hist0 = d->wrapped ? (size_t)1 << w : pos0;
    size_t o = o0;
    unsigned rep = d->rep, long_before = d->long_before;
    tf_status err = TF_OK;
#define TF__REFILL()                                                                                                   \
    do {                                                                                                               \
        while (nb <= 56u) {                                                                                            \
            acc = (acc << 8) | *p++;                                                                                   \
            nb += 8u;                                                                                                  \
        }                                                                                                              \
    } while (0)
#define TF__PEEK(n) ((unsigned)(acc >> (nb - (n))) & ((1u << (n)) - 1u))
/* sym = the next symbol of `code` (needs nb >= TF__LZ_CODE_MAX_LEN); see tf__symbol. Codewords of up to 8 bits
 * (nearly all that occur) come from one table read: a loop over lengths would be a mispredicted branch per symbol. */
#define TF__SYMBOL_LONG(code, sym, n0)                                                                                 \
    do {                                                                                                               \
        unsigned x_ = TF__PEEK(TF__LZ_CODE_MAX_LEN), n_ = (n0);                                                        \
        while (x_ >= (code)->limit[n_])                                                                                \
            n_++;                                                                                                      \
        (sym) = (code)->sorted[(int)(x_ >> (TF__LZ_CODE_MAX_LEN - n_)) + (code)->offset[n_]];                          \
        nb -= n_;                                                                                                      \
    } while (0)
#define TF__SYMBOL(code, sym)                                                                                          \
    do {                                                                                                               \
        unsigned hit_ = (code)->first8[TF__PEEK(8)];                                                                   \
        if (hit_) {                                                                                                    \
            (sym) = hit_ - 1u;                                                                                         \
            nb -= (code)->len[sym];                                                                                    \
        } else {                                                                                                       \
            TF__SYMBOL_LONG(code, sym, 9u);                                                                            \
        }                                                                                                              \
    } while (0)
    for (;;) {
        if (end - p < 8)
            break; /* D_RUN */
        TF__REFILL();
        /* the run: a symbol and extra bits, at most 15 + 13 bits */
        unsigned sym, count = 0, mode = 0;
        TF__SYMBOL(&tf__lz_run, sym);
        if (sym) {
            unsigned slot = (sym - 1u) / TF__LZ_MODES, extra = tf__slot_extra(slot);
            mode = (sym - 1u) % TF__LZ_MODES;
            uint32_t v = tf__slot_base(slot) + (extra ? TF__PEEK(extra) : 0u);
            nb -= extra;
            if (v >= (1u << w)) {
                err = TF_E_CORRUPT;
                break;
            }
            count = v + 1u;
        }
        unsigned full = count == (1u << w), ctx = TF__LZ_MATCH_CONTEXT(count, long_before);
        if (count) {
            if (out_size - o < count) { /* the byte-wise machine writes what fits */
                d->count = count;
                d->is_rep = (uint8_t)full;
                d->mode = (uint8_t)mode;
                d->k = (uint8_t)ctx;
                d->state = D_LIT;
                break;
            }
            const tf__lz_code *code = &tf__lz_literal[mode < 2u ? mode : 0u];
            const uint16_t *fast = tf__lz_literal_fast[mode < 2u ? mode : 0u];
            while (count) {
                if (nb < TF__LZ_CODE_MAX_LEN) {
                    if (end - p < 8) {
                        d->count = count;
                        d->is_rep = (uint8_t)full;
                        d->mode = (uint8_t)mode;
                        d->k = (uint8_t)ctx;
                        d->state = D_LIT;
                        goto out;
                    }
                    TF__REFILL();
                }
                if (mode == 2u) {
                    out[o++] = (uint8_t)TF__PEEK(8);
                    nb -= 8u;
                } else {
                    unsigned hit = fast[TF__PEEK(8)];
                    if (hit >> 8) {
                        nb -= hit >> 8;
                        out[o++] = (uint8_t)hit;
                    } else {
                        TF__SYMBOL_LONG(code, sym, 9u);
                        out[o++] = (uint8_t)sym;
                    }
                }
                count--;
            }
        }
        if (full) {
            long_before = 0;
            continue;
        }
        /* the match: a symbol and extra bits (15 + 6), then for an explicit one the offset's (15 + 13): 49 bits */
        if (nb < 50u) {
            if (end - p < 8) {
                d->k = (uint8_t)ctx;
                d->state = D_MATCH;
                break;
            }
            TF__REFILL();
        }
        TF__SYMBOL(&tf__lz_match[ctx], sym);
        if (sym == TF__LZ_MATCH_END) {
            d->state = D_PAD;
            break;
        }
        unsigned is_rep = sym >= TF__LZ_MATCH_REP, slot = is_rep ? sym - TF__LZ_MATCH_REP : sym,
                 extra = tf__slot_extra(slot);
        count = tf__slot_base(slot) + (extra ? TF__PEEK(extra) : 0u) + (is_rep ? 1u : 2u);
        nb -= extra;
        long_before = count == (1u << l);
        if (count > (1u << l) || (is_rep && !rep)) {
            err = TF_E_CORRUPT;
            break;
        }
        if (!is_rep) {
            TF__SYMBOL(offsets, slot);
            extra = tf__slot_extra(slot);
            unsigned dist = tf__slot_base(slot) + (extra ? TF__PEEK(extra) : 0u) + 1u;
            nb -= extra;
            if (dist > hist0 + (o - o0)) {
                err = TF_E_CORRUPT;
                break;
            }
            rep = dist;
        }
        if (out_size - o < count) {
            d->count = count;
            d->is_rep = (uint8_t)is_rep;
            d->state = D_COPY;
            break;
        }
        unsigned dist = rep;
        if (dist >= 8u && dist <= o - o0 && out_size - o >= count + 8u) {
            /* 8 bytes at a time, up to 7 past the match: each chunk's source is already written (dist >= 8) */
            const uint8_t *from = out + o - dist;
            for (unsigned i = 0; i < count; i += 8u)
                TF_MEMCPY(out + o + i, from + i, 8);
            o += count;
        } else if (dist <= o - o0) {
            const uint8_t *from = out + o - dist;
            for (unsigned i = 0; i < count; i++)
                out[o + i] = from[i];
            o += count;
        } else { /* reaches into the window from before this call */
            for (unsigned i = 0; i < count; i++, o++)
                out[o] = dist <= o - o0 ? out[o - dist] : d->window[(pos0 - (dist - (o - o0))) & mask];
        }
    }
out:;
    /* Bring the window up to date: the last min(produced, 2^W) bytes, at their ring positions. */
    size_t produced = o - o0, m = produced < (size_t)mask + 1u ? produced : (size_t)mask + 1u;
    for (size_t t = o - m; t < o; t++)
        d->window[(pos0 + (t - o0)) & mask] = out[t];
    tf__moved(d, (unsigned)((pos0 + produced) & mask), produced);
    if (d->flags & TF_LZ_FLAG_CHECKSUM)
        d->adler = tf__adler(d->adler, out + o0, produced);
    d->rep = (uint16_t)rep;
    d->long_before = (uint8_t)long_before;
    while (nb >= 8u && p > p0) { /* give back whole bytes not used */
        p--;
        nb -= 8u;
        acc >>= 8;
    }
    d->bits = (uint32_t)acc;
    d->nbits = (uint8_t)nb;
    src->p = p;
    *op = o;
#undef TF__REFILL
#undef TF__PEEK
#undef TF__SYMBOL
#undef TF__SYMBOL_LONG
    return err;
}
#endif

static tf_status tf__decode(tf_lz_decoder *d, tf__lz_src *src, uint8_t *out, size_t out_size, size_t *out_n) {
    size_t o = 0;
    tf_status st;
    uint16_t counts[TF__LZ_CODE_MAX_LEN + 1u]; /* the small build's codeword counts of the code used last */
    counts[0] = 0;
    d->starved = 0;
    for (;;) {
        switch (d->state) {
        case D_HEADER:
            while (d->count < tf__lz_header_len(d)) {
                int b = tf__bits(d, src, 8);
                if (b < 0)
                    goto starved;
                st = tf__lz_header_byte(d, (unsigned)b);
                if (st != TF_OK)
                    goto fail;
            }
            d->count = 0;
#if TF_LZ_DICTIONARY
            if (d->max_w & TF__DICT_SET)
                tf__lz_dict_start(d);
#endif
            d->state = (d->flags & TF_LZ_FLAG_STORED) ? D_STORED_LEN : D_RUN;
            break;
        case D_RUN:
        case D_MATCH:
        case D_OFFSET: { /* a symbol; the number it starts, if any, is read in the state that follows */
#if !TF_LZ_SMALL
            if (d->state == D_RUN && src->end - src->p >= 16 && o < out_size) {
                st = tf__decode_fast(d, src, out, out_size, &o);
                if (st != TF_OK)
                    goto fail;
                if (d->state != D_RUN)
                    break;
            }
#endif
            int sym = tf__symbol(d, src,
                                 d->state == D_RUN     ? TF__LZ_RUN
                                 : d->state == D_MATCH ? TF__LZ_MATCH(d->k)
                                                       : TF__LZ_OFFSET(d->w),
                                 counts);
            if (sym < 0)
                goto starved;
            unsigned u = (unsigned)sym;
            if (d->state == D_RUN) {
                if (!u) { /* no literals */
                    d->k = (uint8_t)TF__LZ_MATCH_CONTEXT(0u, d->long_before);
                    d->state = D_MATCH;
                    break;
                }
                d->mode = (uint8_t)((u - 1u) % TF__LZ_MODES);
                u = (u - 1u) / TF__LZ_MODES;
            } else if (d->state == D_MATCH) {
                if (u == TF__LZ_MATCH_END) {
                    d->state = D_PAD;
                    break;
                }
                d->is_rep = (uint8_t)(u >= TF__LZ_MATCH_REP);
                if (d->is_rep)
                    u -= TF__LZ_MATCH_REP;
            }
            d->k = (uint8_t)u;   /* the slot */
            d->state += D_EXTRA; /* D_RUN_EXTRA, D_MATCH_EXTRA, D_OFFSET_EXTRA */
            break;
        }
        case D_RUN_EXTRA:
        case D_MATCH_EXTRA:
        case D_OFFSET_EXTRA: { /* the three numbers: a slot's base plus its extra bits, then what each means */
            unsigned extra = tf__slot_extra(d->k);
            int e = tf__bits(d, src, extra);
            if (e < 0)
                goto starved;
            uint32_t v = tf__slot_base(d->k) + (unsigned)e;
            st = TF_E_CORRUPT;
            if (d->state == D_RUN_EXTRA) {
                if (v >= (1u << d->w))
                    goto fail;
                d->count = v + 1u;
                d->is_rep = (uint8_t)(d->count == (1u << d->w)); /* a full run: no match follows */
                d->k = (uint8_t)TF__LZ_MATCH_CONTEXT(d->count, 0u);
                d->state = D_LIT;
            } else if (d->state == D_MATCH_EXTRA) {
                v += d->is_rep ? 1u : 2u;
                if (v > (1u << d->l) || (d->is_rep && !d->rep))
                    goto fail;
                d->count = v;
                d->long_before = (uint8_t)(v == (1u << d->l));
                d->state = d->is_rep ? D_COPY : D_OFFSET;
            } else {
                v++;
                if (!d->wrapped && v > d->pos)
                    goto fail;
                d->rep = (uint16_t)v;
                d->state = D_COPY;
            }
            break;
        }
        case D_LIT:
        case D_COPY: { /* the run's bytes, or the match's from the window */
            unsigned mask = (1u << d->w) - 1u;
            while (d->count) {
                if (o == out_size)
                    goto full;
                int b = d->state == D_COPY ? d->window[(d->pos - d->rep) & mask] : tf__literal(d, src, d->mode, counts);
                if (b < 0)
                    goto starved;
                out[o++] = (uint8_t)b;
                d->adler = tf__adler(d->adler, out + o - 1, 1); /* every output byte passes here or tf__decode_fast */
                d->window[d->pos] = (uint8_t)b;
                d->pos = (uint16_t)((d->pos + 1u) & mask);
                if (!d->pos) /* the window is full from here on */
                    d->wrapped = 1;
                d->count--;
            }
            if (d->flags & TF_LZ_FLAG_STORED) {
                d->state = D_PAD;
            } else if (d->state == D_COPY || d->is_rep) { /* after a match, or a full run: no match follows it */
                if (d->state == D_LIT)
                    d->long_before = 0;
                d->state = D_RUN;
            } else {
                d->state = D_MATCH;
            }
            break;
        }
        case D_PAD:
            if (d->bits & ((1u << d->nbits) - 1u)) {
                st = TF_E_CORRUPT;
                goto fail;
            }
            d->nbits = 0;
            d->count = 0;
            d->k = 0;
            d->state = D_TRAILER;
            break;
        case D_TRAILER:
            if (!(d->flags & TF_LZ_FLAG_CHECKSUM)) {
                d->state = D_END;
                break;
            }
            /* fall through */
        case D_STORED_LEN: /* 4 bytes, little-endian: the checksum, compared byte by byte, or the stored length */
            while (d->k < 4u) {
                int b = tf__bits(d, src, 8);
                if (b < 0)
                    goto starved;
                d->count |= (uint32_t)b << (8u * d->k++);
                if (d->state == D_TRAILER && ((d->count ^ d->adler) << (32u - 8u * d->k))) {
                    st = TF_E_CORRUPT;
                    goto fail;
                }
            }
            d->k = 0;
            d->mode = 2u;
            d->state = d->state == D_TRAILER ? D_END : D_LIT;
            break;
        case D_END: *out_n = o; return TF_LZ_DONE;
        default: *out_n = o; return -(tf_status)d->error;
        }
    }
starved:
    d->starved = 1;
    st = TF_LZ_DONE;
    goto done;
full:
    st = TF_LZ_MORE;
done:
    *out_n = o;
    return st;
fail:
    *out_n = o;
    return tf__fail(d, st);
}

#if TF_LZ_FILTERS
static tf__lz_filter *tf__dec_filter(const tf_lz_decoder *d) {
    uintptr_t after = (uintptr_t)(d->window + ((size_t)1 << TF__MAXW(d)));
    return (tf__lz_filter *)(after + ((8u - (after & 7u)) & 7u));
}

/* A filtered frame's body: decoded bytes fill the filter's block, and the elements they code go to out. Returns as
 * tf__decode does; TF_LZ_DONE at the end of the frame only once the last block has been handed on. Only whole blocks
 * (and, at the end, the last one) are handed on, also before an error, so where the input is cut does not change the
 * output; a block the failing call completed goes out first (TF_LZ_MORE while it does not fit, and the failed
 * decoder reports its error again on the next call). */
static tf_status tf__decode_filtered(tf_lz_decoder *d, tf__lz_src *src, uint8_t *out, size_t out_size, size_t *out_n) {
    tf__lz_filter *f = tf__dec_filter(d);
    size_t o = 0, block = TF_LZ_FILTER_BLOCK * f->size;
    tf_status st = TF_LZ_DONE, failed = TF_OK;
    for (;;) {
        if (f->ready) {
            while (o < out_size && f->drain < f->ready)
                out[o++] = tf__lz_unfilter_byte(f);
            if (f->drain < f->ready) {
                st = TF_LZ_MORE;
                break;
            }
            f->ready = f->drain = f->fill = 0;
        }
        if (d->state == D_END) {
            if (!f->fill)
                break;          /* TF_LZ_DONE: all handed on */
            f->ready = f->fill; /* the last, partial block: its elements as they are */
            f->planar = 0;
            f->drain = 0;
            continue;
        }
        if (failed)
            break; /* a block completed by the failing call has been handed on */
        size_t got = 0;
        st = tf__decode(d, src, f->blk + f->fill, block - f->fill, &got);
        f->fill = (uint16_t)(f->fill + got);
        if (st < 0)
            failed = st; /* but output before an error is valid: a block it completed is still handed on */
        if (f->fill == block) {
            f->ready = f->fill;
            f->planar = 1;
            f->drain = 0;
        } else if (failed || d->state != D_END) {
            break; /* the error, or TF_LZ_DONE: the input ran dry */
        }
    }
    *out_n = o;
    return st;
}
#endif

/* tf__decode, through the filter when the frame has one: the header is read first on its own to know. */
#if TF_LZ_FILTERS
static tf_status tf__decode_out(tf_lz_decoder *d, tf__lz_src *src, uint8_t *out, size_t out_size, size_t *out_n) {
    if (d->state == D_HEADER) {
        size_t none = 0;
        tf_status st = tf__decode(d, src, d->window, 0, &none); /* no room for output: stops after the header */
        if (st < 0 || d->state == D_HEADER) {
            *out_n = 0;
            return st;
        }
        if (d->flags & TF_LZ_FLAG_FILTER) {
            tf__lz_filter_start(d->window + ((size_t)1 << TF__MAXW(d)), tf__dec_filter_id(d));
            d->flags = (uint8_t)(d->flags | TF__FILTER_ON);
        }
    }
    if (d->flags & TF__FILTER_ON)
        return tf__decode_filtered(d, src, out, out_size, out_n);
    return tf__decode(d, src, out, out_size, out_n);
}
#else
#define tf__decode_out tf__decode
#endif

tf_status tf_lz_decoder_poll(tf_lz_decoder *d, uint8_t *out, size_t out_size, size_t *out_n) {
    if (!d || !out_n || (!out && out_size))
        return TF_E_NULL;
    tf__lz_src src = {d->in + d->in_pos, d->in + d->in_len};
    tf_status st = tf__decode_out(d, &src, out, out_size, out_n);
    d->in_pos = (uint8_t)(src.p - d->in);
    return st;
}

tf_status tf_lz_decoder_decode(tf_lz_decoder *d, const uint8_t *in, size_t n, size_t *consumed, uint8_t *out,
                               size_t out_size, size_t *out_n) {
    if (!d || !consumed || !out_n || (!in && n) || (!out && out_size))
        return TF_E_NULL;
    *consumed = 0;
    size_t first = 0;
    if (d->in_pos < d->in_len) { /* bytes an earlier sink left go first */
        tf_status st = tf_lz_decoder_poll(d, out, out_size, out_n);
#if TF_LZ_FILTERS
        if (st != TF_LZ_DONE || d->in_pos < d->in_len || tf_lz_decoder_ended(d))
#else
        if (st != TF_LZ_DONE || d->in_pos < d->in_len || d->state == D_END)
#endif
            return st;
        first = *out_n;
    }
    tf__lz_src src = {in, in + n};
    tf_status st = tf__decode_out(d, &src, out + first, out_size - first, out_n);
    *out_n += first;
    *consumed = (size_t)(src.p - in);
    return st;
}

tf_status tf_lz_decoder_finish(tf_lz_decoder *d) {
    if (!d)
        return TF_E_NULL;
    if (d->state == D_FAILED)
        return -(tf_status)d->error;
    if (d->state == D_END)
#if TF_LZ_FILTERS
        return tf_lz_decoder_ended(d) ? TF_LZ_DONE : TF_LZ_MORE; /* a filter may still hold the last block */
#else
        return TF_LZ_DONE;
#endif
    /* Until poll has run dry on the input it has, it may still reach the end; after that the frame was cut short. */
    return d->starved ? TF_E_CORRUPT : TF_LZ_MORE;
}

int tf_lz_decoder_ended(const tf_lz_decoder *d) {
    if (!d || d->state != D_END)
        return 0;
#if TF_LZ_FILTERS
    if (d->flags & TF__FILTER_ON) {
        const tf__lz_filter *f = tf__dec_filter(d);
        return !f->ready && !f->fill;
    }
#endif
    return 1;
}

size_t tf_lz_decoder_pending(const tf_lz_decoder *d, const uint8_t **bytes) {
    if (bytes)
        *bytes = d ? d->in + d->in_pos : NULL;
    return d ? (size_t)d->in_len - d->in_pos : 0;
}
