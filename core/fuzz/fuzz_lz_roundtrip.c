/* libFuzzer target: any input compressed with parameters (window, lookahead, checksum, level, filter or a preset
 * dictionary) from its first bytes, streamed through the encoder and decoder in fuzz-chosen chunk sizes, must come
 * back byte for byte, within the documented output bound; one-shot compression must write the same frame unless it
 * stored the input raw. With a dictionary (the input's first bytes, up to the window; the rest is the data), a
 * decoder given none or another one must refuse the frame (TF_E_DICT). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "thrifty/lz.h"

#define MAX_IN 70000u /* room for literal runs of a whole 2^15 window after a far match */
static uint64_t enc_storage[((1u << 15) + 4096u + 512u) / 8]; /* + a filter's state */
static uint64_t dec_storage[(TF_LZ_DECODER_INPUT + 64 + (1u << 15) + 512u) / 8 + 8];
static uint8_t comp[MAX_IN * 2 + 64], once[MAX_IN * 2 + 64], back[MAX_IN + 1];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2 || size > MAX_IN + 2)
        return 0;
    unsigned w = 6u + data[0] % 10u; /* 6..15 */
    unsigned lmax = w - 1u < TF_LZ_MAX_LOOKAHEAD_BITS ? w - 1u : TF_LZ_MAX_LOOKAHEAD_BITS;
    unsigned l = TF_LZ_MIN_LOOKAHEAD_BITS + (data[0] / 6u) % (lmax - TF_LZ_MIN_LOOKAHEAD_BITS + 1u);
    unsigned flags = ((data[0] & 0x80u) ? TF_LZ_FLAG_CHECKSUM : 0u) | TF_LZ_LEVEL(data[1] % 10u); /* 0 (default)..9 */
#if TF_LZ_FILTERS
    unsigned pick = (data[1] / 10u) % 7u; /* 0: none, then delta2/4/8 and shuffle2/4/8 */
    if (pick)
        flags |= TF_LZ_FILTER(
            TF_LZ_FILTER_ID(pick <= 3u ? TF_LZ_FILTER_DELTA : TF_LZ_FILTER_SHUFFLE, (pick - 1u) % 3u + 1u));
#endif
    size_t chunk = (size_t)data[1] % 97u + 1u;
    const uint8_t *in = data + 2;
    size_t n = size - 2;
    const uint8_t *dict = NULL;
    size_t dict_n = 0;
#if TF_LZ_DICTIONARY
    if (!TF_LZ_FILTER_OF(flags) && ((data[1] / 70u) & 1u) && n >= 2u) { /* data[1] in 70..79 or 210..219 */
        dict_n = n / 2u < ((size_t)1 << w) ? n / 2u : (size_t)1 << w;
        dict = in;
        in += dict_n;
        n -= dict_n;
    }
#endif

    tf_lz_encoder *e;
    if (tf_lz_encoder_init(&e, enc_storage, sizeof enc_storage, w, l, flags) != TF_OK)
        abort();
    if (dict_n && tf_lz_encoder_set_dictionary(e, dict, dict_n) != TF_OK)
        abort();
    size_t ip = 0, cn = 0;
    for (;;) {
        size_t c = 0, got = 0, k = n - ip < chunk ? n - ip : chunk;
        if (ip < n && tf_lz_encoder_sink(e, in + ip, k, &c) != TF_OK)
            abort();
        ip += c;
        size_t room = sizeof comp - cn < chunk ? sizeof comp - cn : chunk;
        if (tf_lz_encoder_poll(e, comp + cn, room, &got) < 0 || got > room)
            abort();
        cn += got;
        if (ip == n && tf_lz_encoder_finish(e) == TF_LZ_DONE)
            break;
        if (cn == sizeof comp)
            abort(); /* far past the bound */
    }
    /* + the filter byte or the dictionary's id */
    if (cn > n + 4u * (n >> w) + TF_LZ_FRAME_OVERHEAD + (TF_LZ_FILTER_OF(flags) ? 1u : 0u) + (dict_n ? 4u : 0u))
        abort();
    size_t on = 0;
    if (tf_lz_compress_dict(in, n, once, sizeof once, &on, enc_storage, sizeof enc_storage, w, l, flags, dict,
                            dict_n) != TF_OK)
        abort();
    if (!(once[6] & TF_LZ_FLAG_STORED) && (on != cn || memcmp(once, comp, cn) != 0))
        abort();
    /* A tight output buffer (allocated to the byte, so ASan sees any overrun): a stored frame or TF_E_FULL. */
    size_t tight = on > 8u ? on - 1u - data[1] % 8u : 0;
    uint8_t *small = malloc(tight ? tight : 1u);
    if (!small)
        abort();
    tf_status ts =
        tf_lz_compress_dict(in, n, small, tight, &on, enc_storage, sizeof enc_storage, w, l, flags, dict, dict_n);
    if (ts != TF_E_FULL && !(ts == TF_OK && on <= tight && (small[6] & TF_LZ_FLAG_STORED)))
        abort();
    free(small);

    tf_lz_decoder *d;
    if (tf_lz_decoder_init(&d, dec_storage, sizeof dec_storage, 15) != TF_OK ||
        (dict_n && tf_lz_decoder_set_dictionary(d, dict, dict_n) != TF_OK))
        abort();
    size_t cp = 0, bn = 0;
    for (;;) {
        size_t c = 0, got = 0, k = cn - cp < chunk ? cn - cp : chunk;
        tf_lz_decoder_sink(d, comp + cp, k, &c);
        cp += c;
        size_t room = sizeof back - bn < chunk ? sizeof back - bn : chunk;
        tf_status st = tf_lz_decoder_poll(d, back + bn, room, &got);
        if (st < 0)
            abort();
        bn += got;
        if (tf_lz_decoder_ended(d))
            break;
        if (st == TF_LZ_DONE && cp == cn)
            abort(); /* starved on a complete frame */
    }
    if (bn != n || memcmp(back, in, n) != 0 || cp - tf_lz_decoder_pending(d, NULL) != cn)
        abort();
    /* Again straight from the frame (tf_lz_decoder_decode, whose fast path needs 16 input bytes at a time, which
     * sink's small buffer never holds), with output in the same chunks. */
    if (tf_lz_decoder_init(&d, dec_storage, sizeof dec_storage, 15) != TF_OK ||
        (dict_n && tf_lz_decoder_set_dictionary(d, dict, dict_n) != TF_OK))
        abort();
    cp = bn = 0;
    for (;;) {
        size_t c = 0, got = 0, room = sizeof back - bn < chunk ? sizeof back - bn : chunk;
        tf_status st = tf_lz_decoder_decode(d, comp + cp, cn - cp, &c, back + bn, room, &got);
        if (st < 0)
            abort();
        cp += c;
        bn += got;
        if (tf_lz_decoder_ended(d))
            break;
        if (st == TF_LZ_DONE && cp == cn)
            abort();
    }
    if (bn != n || memcmp(back, in, n) != 0 || cp != cn)
        abort();
    if (dict_n) { /* without the dictionary, and with another one (its first byte changed): refused */
        static uint8_t other[1u << 15];
        memcpy(other, dict, dict_n);
        other[0] ^= 1u;
        for (int k = 0; k < 2; k++) {
            size_t got = 0;
            if (tf_lz_decoder_init(&d, dec_storage, sizeof dec_storage, 15) != TF_OK ||
                (k && tf_lz_decoder_set_dictionary(d, other, dict_n) != TF_OK) ||
                tf_lz_decoder_decode(d, comp, cn, &cp, back, sizeof back, &got) != TF_E_DICT || got)
                abort();
        }
    }
    return 0;
}
