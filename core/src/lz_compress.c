/* thrifty core — lz: one-shot compression. The input is cut into frames of at most 2^32 - 1 bytes; each is coded in
 * place by the encoder's steps (tf__lz_compress_frame, lz_encode.c), or through sink and poll when the frame has a
 * filter or a dictionary, and stored raw when coding would not shrink it. */
#include "lz_encoder.h"

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
                           : tf__lz_compress_frame(e, src, piece, out + o, cap);
#else
            produced = tf__lz_compress_frame(e, src, piece, out + o, cap);
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
