/* thrifty core — lz: the frame header on the decoder's side (checking it byte by byte, tf_lz_read_header) and preset
 * dictionaries (a decoder's dictionary and the ids frames record). The format is in docs/format-lz.md. */
#include "lz_decoder.h"

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
void tf__lz_dict_start(tf_lz_decoder *d) {
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

/* One byte of the header (index `count`). */
tf_status tf__lz_header_byte(tf_lz_decoder *d, unsigned b) {
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
    for (size_t i = 0; i < tf__lz_header_len(&h); i++) {
        if (i == n || (i == 4u && n < TF_LZ_HEADER_SIZE)) /* the magic first, then whether it is all here */
            return TF_E_EMPTY;
        tf_status st = tf__lz_header_byte(&h, in[i]);
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
