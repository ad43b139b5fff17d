/* thrifty core — lz: the decoder's state machine (the code and its rationale are in lz.h). */
#include "lz_internal.h"

/* ---- decoder ---------------------------------------------------------------------------------------------- */

enum {
    D_HEADER,
    D_RUN,          /* the run code's symbol: the run's length slot and how its bytes are coded */
    D_MATCH,        /* the match code's symbol: explicit or rep and the length slot, or the end of the frame */
    D_OFFSET,       /* the offset code's symbol: the offset's slot */
    D_RUN_EXTRA,    /* the run length's extra bits */
    D_MATCH_EXTRA,  /* the match length's extra bits */
    D_OFFSET_EXTRA, /* the offset's extra bits */
    D_LIT,          /* the run's bytes */
    D_COPY,         /* the match's bytes */
    D_PAD,          /* zero bits up to the byte boundary */
    D_TRAILER,      /* 4 bytes of Adler-32 */
    D_STORED_LEN,   /* then the stored bytes, as a run of plain literals (D_LIT) */
    D_END,
    D_FAILED
};
/* The three symbol states, then the three states that read their numbers' extra bits in the same order. */
#define D_EXTRA (D_RUN_EXTRA - D_RUN)
TF_STATIC_ASSERT(D_MATCH_EXTRA == D_MATCH + D_EXTRA && D_OFFSET_EXTRA == D_OFFSET + D_EXTRA,
                 lz_decoder_states_in_order);

struct tf_lz_decoder {
    uint32_t bits;    /* input bits read but not used; the low `nbits` are valid */
    uint32_t adler;   /* Adler-32 of the output so far; until the header is read, a preset dictionary's id */
    uint32_t count;   /* what remains of the current run, match, header or stored body */
    uint16_t pos;     /* window index of the next output byte; until the header is read, a dictionary's length */
    uint16_t wrapped; /* 1 once the window has been filled (until then, offsets beyond pos are corrupt) */
    uint16_t rep;     /* offset of the last match */
    uint8_t nbits, state, w, l;
    uint8_t max_w;   /* the largest window's bits; above them (TF__ROOM_SHIFT) the largest filter the storage fits */
    uint8_t flags;   /* the header's flags; above them (TF__FILTER_SHIFT) the frame's filter, see tf__dec_filter_id */
    uint8_t k;       /* D_*_EXTRA: the slot read; D_LIT and D_MATCH: the match code's context */
    uint8_t is_rep;  /* D_LIT: the run is full and no match follows; later: the match is a rep */
    uint8_t starved; /* the last poll stopped for want of input (cleared by sink) */
    uint8_t mode;    /* how the current run's bytes are coded: 0 text code, 1 numeric code, 2 plain */
    uint8_t long_before; /* the last sequence ended with a match of 2^L bytes (the match code's context) */
    uint8_t error, in_len, in_pos;
    uint8_t in[TF_LZ_DECODER_INPUT];
    uint8_t window[]; /* 2^max_w bytes, then a filter's state when the frame has one */
};

/* The filter and dictionary fields live in spare bits of max_w and flags, so the state is no larger than without
 * them:
 *   max_w bits 4-5: log2 of the largest element size whose filter state fits after the window (0: none);
 *   max_w bit 6:    a preset dictionary is in the window (its length in pos, its id in adler) for the frame to come;
 *   max_w bit 7:    (tf_lz_read_header's scratch state only) any dictionary id is accepted;
 *   flags bit 3:    while the header is read, that the version says a filter byte comes (bit 4: a dictionary id);
 *   flags bits 3-5: then, in a filtered frame, the filter: kind - 1 in bit 3 (delta 0, shuffle 1), log2(element
 *                   size) in bits 4-5 (a frame with a dictionary has flag bit 3, TF_LZ_FLAG_DICT, and no filter);
 *   flags bit 7:    the frame has a filter, and its state after the window is set up. */
#if TF_LZ_FILTERS || TF_LZ_DICTIONARY
#define TF__MAXW(d) ((unsigned)(d)->max_w & 15u)
#else
#define TF__MAXW(d) ((unsigned)(d)->max_w)
#endif
#define TF__ROOM_SHIFT 4u
#define TF__DICT_SET 0x40u
#define TF__ANY_DICT 0x80u
#define TF__FILTER_SHIFT 3u
#define TF__VERSION_FILTERED 0x08u
#define TF__VERSION_DICT 0x10u
#define TF__FILTER_ON 0x80u

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

#if TF_LZ_DICTIONARY
tf_status tf_lz_decoder_set_dictionary(tf_lz_decoder *d, const uint8_t *dict, size_t n) {
    if (!d || !dict)
        return TF_E_NULL;
    if (!n || n > TF_LZ_MAX_DICTIONARY)
        return TF_E_ARG;
    if (d->state != D_HEADER || d->count || (d->max_w & TF__DICT_SET))
        return TF_E_STATE;
    /* Only the last 2^W bytes can be reached; W is not known before the header, so the most the window holds. */
    size_t room = (size_t)1 << TF__MAXW(d), keep = n < room ? n : room;
    TF_MEMCPY(d->window, dict + (n - keep), keep);
    d->pos = (uint16_t)keep;
    d->adler = tf__adler(1u, dict, n);
    d->max_w = (uint8_t)(d->max_w | TF__DICT_SET);
    return TF_OK;
}

/* Once the header is read: the dictionary's last 2^W bytes become the history before the frame's first byte. */
static void tf__dict_start(tf_lz_decoder *d) {
    size_t size = (size_t)1 << d->w, have = d->pos;
    if (have > size) {
        TF_MEMMOVE(d->window, d->window + (have - size), size);
        have = size;
    }
    d->pos = (uint16_t)(have & (size - 1u));
    d->wrapped = (uint16_t)(have == size);
    d->adler = 1u;
    d->max_w = (uint8_t)(d->max_w & ~TF__DICT_SET);
}
#endif

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

/* The frame's header says it was made with a preset dictionary (once byte 6 is read). In a filtered frame bit 3
 * holds part of the filter instead (TF__FILTER_SHIFT). */
#define TF__HAS_DICT(d) (((d)->flags & (TF_LZ_FLAG_DICT | TF_LZ_FLAG_FILTER)) == TF_LZ_FLAG_DICT)

/* One byte of the header (index `count`). */
static tf_status tf__header_byte(tf_lz_decoder *d, unsigned b) {
    unsigned i = d->count;
    if (i < 4u) {
        if (b != tf__lz_magic[i])
            return TF_E_CORRUPT;
    } else if (i == 4u) {
        if (b != TF_LZ_VERSION && (b != TF_LZ_VERSION_FILTERED || !TF_LZ_FILTERS) &&
            (b != TF_LZ_VERSION_DICT || !TF_LZ_DICTIONARY))
            return TF_E_VERSION; /* version 1 (before any release) is not read either */
#if TF_LZ_FILTERS || TF_LZ_DICTIONARY
        d->flags = (uint8_t)(b == TF_LZ_VERSION_FILTERED ? TF__VERSION_FILTERED
                             : b == TF_LZ_VERSION_DICT   ? TF__VERSION_DICT
                                                         : 0u);
#endif
    } else if (i == 5u) {
        d->w = (uint8_t)(b & 15u);
        d->l = (uint8_t)(b >> 4);
        if (!tf__lz_params_ok(d->w, d->l))
            return TF_E_CORRUPT;
        if (d->w > TF__MAXW(d))
            return TF_E_SIZE;
    } else if ((!TF_LZ_FILTERS && !TF_LZ_DICTIONARY) || i == 6u) { /* with neither, byte 6 is the last */
        if (b & ~(TF_LZ_FLAG_CHECKSUM | TF_LZ_FLAG_STORED | (TF_LZ_FILTERS ? TF_LZ_FLAG_FILTER : 0u) |
                  (TF_LZ_DICTIONARY ? TF_LZ_FLAG_DICT : 0u)))
            return TF_E_VERSION;
            /* the filter flag exactly in version 3 frames and never on a stored one (whose bytes are the content), the
             * dictionary flag exactly in version 4 frames */
#if TF_LZ_FILTERS
        if (!(b & TF_LZ_FLAG_FILTER) != !(d->flags & TF__VERSION_FILTERED) ||
            ((b & TF_LZ_FLAG_FILTER) && (b & TF_LZ_FLAG_STORED)))
            return TF_E_CORRUPT;
#endif
#if TF_LZ_DICTIONARY
        if (!(b & TF_LZ_FLAG_DICT) != !(d->flags & TF__VERSION_DICT))
            return TF_E_CORRUPT;
        /* a frame made with a dictionary needs one, and a dictionary given is for a frame made with it */
        if (!(d->max_w & TF__ANY_DICT) && !(b & TF_LZ_FLAG_DICT) != !(d->max_w & TF__DICT_SET))
            return TF_E_DICT;
#endif
        d->flags = (uint8_t)b;
#if TF_LZ_DICTIONARY
    } else if (TF__HAS_DICT(d)) { /* bytes 7..10: the dictionary's id, little-endian */
        if (!(d->max_w & TF__ANY_DICT) && b != ((d->adler >> (8u * (i - 7u))) & 0xFFu))
            return TF_E_DICT;
#endif
    } else {
#if TF_LZ_FILTERS
        if (!tf_lz_filter_size(TF_LZ_FILTER(b)))
            return TF_E_VERSION; /* a filter this build does not know */
        if ((b >> 4) > (((unsigned)d->max_w >> TF__ROOM_SHIFT) & 3u))
            return TF_E_SIZE; /* the decoder's storage has no room for its block */
        d->flags = (uint8_t)(d->flags | (((b & 15u) - 1u) | ((b >> 4) << 1)) << TF__FILTER_SHIFT);
#endif
    }
    d->count = i + 1u;
    return TF_OK;
}

/* The header's length: 7 bytes, and a filter byte or a dictionary's 4-byte id when byte 6 (read by then) says so. */
static unsigned tf__header_len(const tf_lz_decoder *d) {
    return TF_LZ_HEADER_SIZE + (TF_LZ_FILTERS && d->count >= TF_LZ_HEADER_SIZE && (d->flags & TF_LZ_FLAG_FILTER)) +
           (TF_LZ_DICTIONARY && d->count >= TF_LZ_HEADER_SIZE && TF__HAS_DICT(d) ? 4u : 0u);
}

#if TF_LZ_FILTERS
/* The frame's filter id (lz.h) once its header is read, from the bits tf__header_byte packed into flags. */
static unsigned tf__dec_filter_id(const tf_lz_decoder *d) {
    unsigned v = ((unsigned)d->flags >> TF__FILTER_SHIFT) & 7u;
    return (d->flags & TF_LZ_FLAG_FILTER) ? ((v & 1u) + 1u) | ((v >> 1) << 4) : 0u;
}
#endif

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
            while (d->count < tf__header_len(d)) {
                int b = tf__bits(d, src, 8);
                if (b < 0)
                    goto starved;
                st = tf__header_byte(d, (unsigned)b);
                if (st != TF_OK)
                    goto fail;
            }
            d->count = 0;
#if TF_LZ_DICTIONARY
            if (d->max_w & TF__DICT_SET)
                tf__dict_start(d);
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

tf_status tf_lz_read_header(const uint8_t *in, size_t n, unsigned *window_bits, unsigned *lookahead_bits,
                            unsigned *flags) {
    if (!in && n)
        return TF_E_NULL;
    tf_lz_decoder h; /* the decoder's own header check, on a scratch state that takes any window and filter */
    h.count = 0;
    h.max_w = TF_LZ_MAX_WINDOW_BITS;
#if TF_LZ_DICTIONARY
    h.max_w = (uint8_t)(h.max_w | TF__ANY_DICT);
#endif
#if TF_LZ_FILTERS
    h.max_w = (uint8_t)(h.max_w | (3u << TF__ROOM_SHIFT));
#endif
    for (size_t i = 0; i < tf__header_len(&h); i++) {
        if (i == n || (i == 4u && n < TF_LZ_HEADER_SIZE)) /* the magic first, then whether it is all here */
            return TF_E_EMPTY;
        tf_status st = tf__header_byte(&h, in[i]);
        if (st != TF_OK)
            return st;
    }
    if (window_bits)
        *window_bits = h.w;
    if (lookahead_bits)
        *lookahead_bits = h.l;
    if (flags)
#if TF_LZ_FILTERS
        *flags = (h.flags & (TF_LZ_FLAG_CHECKSUM | TF_LZ_FLAG_STORED | TF_LZ_FLAG_FILTER)) |
                 (TF__HAS_DICT(&h) ? TF_LZ_FLAG_DICT : 0u) | TF_LZ_FILTER(tf__dec_filter_id(&h));
#else
        *flags = h.flags;
#endif
    return TF_OK;
}

#if TF_LZ_DICTIONARY
uint32_t tf_lz_dictionary_id(const uint8_t *dict, size_t n) { return tf__adler(1u, dict, n); }

tf_status tf_lz_read_dictionary_id(const uint8_t *in, size_t n, uint32_t *id) {
    unsigned flags = 0;
    tf_status st = tf_lz_read_header(in, n, NULL, NULL, &flags);
    if (st != TF_OK)
        return st;
    if (!(flags & TF_LZ_FLAG_DICT))
        return TF_E_ARG;
    if (id) /* tf_lz_read_header has seen all 11 bytes */
        *id = (uint32_t)in[7] | (uint32_t)in[8] << 8 | (uint32_t)in[9] << 16 | (uint32_t)in[10] << 24;
    return TF_OK;
}
#endif
