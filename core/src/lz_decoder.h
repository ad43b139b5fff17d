/* thrifty core — lz: the decoder's state, shared by lz_decode.c (the state machine) and lz_frame.c (the frame
 * header and preset dictionaries). Private to those two files. */
#ifndef THRIFTY_LZ_DECODER_H
#define THRIFTY_LZ_DECODER_H

#include "lz_internal.h"

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

/* The frame's header says it was made with a preset dictionary (once byte 6 is read). In a filtered frame bit 3
 * holds part of the filter instead (TF__FILTER_SHIFT). */
#define TF__HAS_DICT(d) (((d)->flags & (TF_LZ_FLAG_DICT | TF_LZ_FLAG_FILTER)) == TF_LZ_FLAG_DICT)

#if TF_LZ_FILTERS
/* The frame's filter id (lz.h) once its header is read, from the bits tf__lz_header_byte packed into flags. */
static inline unsigned tf__dec_filter_id(const tf_lz_decoder *d) {
    unsigned v = ((unsigned)d->flags >> TF__FILTER_SHIFT) & 7u;
    return (d->flags & TF_LZ_FLAG_FILTER) ? ((v & 1u) + 1u) | ((v >> 1) << 4) : 0u;
}
#endif

/* The header's length: 7 bytes, and a filter byte or a dictionary's 4-byte id when byte 6 (read by then) says so. */
static inline unsigned tf__lz_header_len(const tf_lz_decoder *d) {
    return TF_LZ_HEADER_SIZE + (TF_LZ_FILTERS && d->count >= TF_LZ_HEADER_SIZE && (d->flags & TF_LZ_FLAG_FILTER)) +
           (TF_LZ_DICTIONARY && d->count >= TF_LZ_HEADER_SIZE && TF__HAS_DICT(d) ? 4u : 0u);
}

/* lz_frame.c: one byte of the header (index d->count) checked and recorded, TF_OK or why the frame is refused; the
 * preset dictionary becoming the history once the header is read. */
tf_status tf__lz_header_byte(tf_lz_decoder *d, unsigned b);
#if TF_LZ_DICTIONARY
void tf__lz_dict_start(tf_lz_decoder *d);
#endif

#endif /* THRIFTY_LZ_DECODER_H */
