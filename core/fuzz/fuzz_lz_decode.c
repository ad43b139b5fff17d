/* libFuzzer target: arbitrary bytes into the thrifty.lz decoder, with the input and output split into chunks whose
 * sizes come from the first byte, so every suspension point of the state machine sees hostile data. The decoder
 * must never read or write out of bounds, and must end every input with a result, an error, or a request for more. */
#include <stdint.h>
#include <stdlib.h>

#include "thrifty/lz.h"

static uint64_t storage[(TF_LZ_DECODER_INPUT + 64 + (1u << 12)) / 8 + 8];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    size_t in_chunk = (size_t)(data[0] & 15u) + 1u, out_chunk = (size_t)(data[0] >> 4) * 7u + 1u;
    data++;
    size--;
    tf_lz_decoder *d;
    if (tf_lz_decoder_init(&d, storage, sizeof storage, 12) != TF_OK)
        abort();
    uint8_t out[128];
    size_t ip = 0, total = 0;
    for (unsigned guard = 0; guard < 1000000u; guard++) {
        size_t c = 0, got = 0, k = size - ip < in_chunk ? size - ip : in_chunk;
        if (tf_lz_decoder_sink(d, data + ip, k, &c) != TF_OK || c > k)
            abort();
        ip += c;
        size_t room = out_chunk < sizeof out ? out_chunk : sizeof out;
        tf_status st = tf_lz_decoder_poll(d, out, room, &got);
        if (got > room)
            abort();
        total += got;
        if (st < 0 || tf_lz_decoder_ended(d))
            break;
        if (st == TF_LZ_DONE && ip == size) {
            if (tf_lz_decoder_finish(d) == TF_LZ_MORE)
                abort(); /* starved with no input left: finish must decide */
            break;
        }
        if (total > 64u * 1024u * 1024u)
            break;
    }
    return 0;
}
