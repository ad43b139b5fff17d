/* libFuzzer target: arbitrary bytes into the thrifty.lz decoder, with the input and output split into chunks whose
 * sizes come from the first byte, so every suspension point of the state machine sees hostile data. The decoder
 * must never read or write out of bounds, and must end every input with a result, an error, or a request for more.
 * An input whose version byte says "made with a preset dictionary" (format version 4) is decoded with the fixed
 * dictionary below, so frames made with it (in the corpus) reach the body, and others fail on their id. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "thrifty/lz.h"

/* The corpus's dictionary frames were made with exactly these bytes (tests/test_fuzz_corpora.py says how). */
static const char fuzz_dict[] = "{\"device\":\"env-0042\",\"site\":\"lab-a\",\"temp_c\":21.50,\"hum_pct\":45.0,"
                                "\"status\":\"ok\",\"fw\":\"2.4.1\"}\n";

/* Gives d the fixed dictionary when the frame in data[0..size) asks for one. */
static void maybe_dictionary(tf_lz_decoder *d, const uint8_t *data, size_t size) {
    if (size > 4 && data[4] == TF_LZ_VERSION_DICT) {
        tf_status st = tf_lz_decoder_set_dictionary(d, (const uint8_t *)fuzz_dict, strlen(fuzz_dict));
        if (st != TF_OK && !(st == TF_E_ARG && !TF_LZ_DICTIONARY))
            abort();
    }
}

/* room for the largest window and the largest filter's state: any frame can be decoded */
static uint64_t storage[(TF_LZ_DECODER_INPUT + 64 + (1u << 15) + 512u) / 8 + 8];
static uint64_t storage2[(TF_LZ_DECODER_INPUT + 64 + (1u << 15) + 512u) / 8 + 8];
static uint8_t seen[1u << 16], seen2[1u << 16]; /* the first 64 KiB each way of decoding produced */

/* The same input through tf_lz_decoder_decode straight from the caller's buffer (its fast path), with output in
 * chunks of out_chunk: it must produce the same bytes and end the same way as sink/poll. */
static tf_status decode_direct(const uint8_t *data, size_t size, size_t out_chunk, size_t *total) {
    tf_lz_decoder *d;
    if (tf_lz_decoder_init(&d, storage2, sizeof storage2, 15) != TF_OK)
        abort();
    maybe_dictionary(d, data, size);
    size_t ip = 0;
    *total = 0;
    for (unsigned guard = 0; guard < 1000000u; guard++) {
        uint8_t out[128];
        size_t c = 0, got = 0, room = out_chunk < sizeof out ? out_chunk : sizeof out;
        tf_status st = tf_lz_decoder_decode(d, data + ip, size - ip, &c, out, room, &got);
        if (got > room || c > size - ip)
            abort();
        for (size_t i = 0; i < got && *total + i < sizeof seen2; i++)
            seen2[*total + i] = out[i];
        ip += c;
        *total += got;
        if (st < 0)
            return st;
        if (tf_lz_decoder_ended(d))
            return TF_LZ_DONE;
        if (st == TF_LZ_DONE && ip == size)
            return tf_lz_decoder_finish(d);
        if (*total > 64u * 1024u * 1024u)
            return TF_LZ_MORE;
    }
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    size_t in_chunk = (size_t)(data[0] & 15u) + 1u, out_chunk = (size_t)(data[0] >> 4) * 7u + 1u;
    data++;
    size--;
    tf_lz_decoder *d;
    if (tf_lz_decoder_init(&d, storage, sizeof storage, 15) != TF_OK)
        abort();
    maybe_dictionary(d, data, size);
    uint8_t out[128];
    size_t ip = 0, total = 0;
    tf_status result = TF_LZ_MORE;
    for (unsigned guard = 0; guard < 1000000u; guard++) {
        size_t c = 0, got = 0, k = size - ip < in_chunk ? size - ip : in_chunk;
        if (tf_lz_decoder_sink(d, data + ip, k, &c) != TF_OK || c > k)
            abort();
        ip += c;
        size_t room = out_chunk < sizeof out ? out_chunk : sizeof out;
        tf_status st = tf_lz_decoder_poll(d, out, room, &got);
        if (got > room)
            abort();
        for (size_t i = 0; i < got && total + i < sizeof seen; i++)
            seen[total + i] = out[i];
        total += got;
        if (st < 0 || tf_lz_decoder_ended(d)) {
            result = st < 0 ? st : TF_LZ_DONE;
            break;
        }
        if (st == TF_LZ_DONE && ip == size) {
            result = tf_lz_decoder_finish(d);
            if (result == TF_LZ_MORE)
                abort(); /* starved with no input left: finish must decide */
            break;
        }
        if (total > 64u * 1024u * 1024u)
            break;
    }
    if (result != TF_LZ_MORE) {
        size_t total2 = 0;
        tf_status result2 = decode_direct(data, size, out_chunk, &total2);
        size_t cmp = total < sizeof seen ? total : sizeof seen;
        if (result2 != result || total2 != total)
            abort();
        for (size_t i = 0; i < cmp; i++)
            if (seen[i] != seen2[i])
                abort();
    }
    return 0;
}
