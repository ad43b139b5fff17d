/* Prints what thrifty.lz makes of each file named on the command line: the frames one-shot compression writes for
 * a few window/lookahead/level settings and what the decoder makes of the file read as a frame (its status and
 * an FNV-1a hash of the output), and of corrupted and cut copies of each frame. `make test-c` builds it as the fast
 * and as the small-flash build (TF_LZ_SMALL) and runs both over the fuzz corpora: the two transcripts must be
 * identical, byte for byte. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "thrifty/lz.h"

#define MAX_IN (1u << 17)
static uint8_t in[MAX_IN], out[MAX_IN + 64], back[4u * MAX_IN];
static uint64_t work[((1u << 15) + 8192u) / 8];

static uint32_t fnv(const uint8_t *p, size_t n) {
    uint32_t h = 2166136261u;
    while (n--)
        h = (h ^ *p++) * 16777619u;
    return h;
}

/* Decodes in[0..n) as one frame, in one call and then through sink/poll 7 bytes at a time, printing both results. */
static int decode(const uint8_t *src, size_t n) {
    tf_lz_decoder *d;
    if (tf_lz_decoder_init(&d, work, sizeof work, TF_LZ_MAX_WINDOW_BITS) != TF_OK)
        return 1;
    size_t used = 0, made = 0;
    tf_status st = tf_lz_decoder_decode(d, src, n, &used, back, sizeof back, &made);
    printf(" decode %d, finish %d, %zu used, %zu out, output %08x;", (int)st, (int)tf_lz_decoder_finish(d), used, made,
           (unsigned)fnv(back, made));
    if (tf_lz_decoder_init(&d, work, sizeof work, TF_LZ_MAX_WINDOW_BITS) != TF_OK)
        return 1;
    size_t at = 0;
    made = 0;
    do {
        size_t took = 0, got = 0;
        size_t k = n - at < 7u ? n - at : 7u;
        if (tf_lz_decoder_sink(d, src + at, k, &took) != TF_OK)
            return 1;
        at += took;
        do {
            st = tf_lz_decoder_poll(d, back + made, 5u, &got);
            made += got;
        } while (st == TF_LZ_MORE && made + 5u <= sizeof back);
    } while (st == TF_LZ_DONE && at < n && !tf_lz_decoder_ended(d));
    printf(" streamed %d, finish %d, %zu out, output %08x\n", (int)st, (int)tf_lz_decoder_finish(d), made,
           (unsigned)fnv(back, made));
    return 0;
}

/* Decodes corrupted copies of a frame: a bit flipped at each of four places a hash of the frame picks, and the frame
 * cut short after a quarter, a half and all but one byte. */
static int mutate(const uint8_t *frame, size_t n) {
    static uint8_t bad[MAX_IN + 64];
    if (n < 2u)
        return 0;
    uint32_t h = fnv(frame, n);
    for (int m = 0; m < 4; m++) {
        h = h * 1103515245u + 12345u;
        size_t at = (size_t)(h >> 8) % n;
        memcpy(bad, frame, n);
        bad[at] ^= (uint8_t)(1u << (h & 7u));
        printf("    bit %u of byte %zu flipped:", (unsigned)(h & 7u), at);
        if (decode(bad, n) != 0)
            return 1;
    }
    static const size_t cut[] = {4, 2};
    for (int c = 0; c < 3; c++) {
        size_t keep = c < 2 ? n / cut[c] : n - 1u;
        printf("    cut to %zu bytes:", keep);
        if (decode(frame, keep) != 0)
            return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    static const unsigned settings[][3] = {{8, 4, 1}, {8, 4, 6}, {10, 5, 6}, {12, 5, 9}, {15, 8, 2}};
    for (int a = 1; a < argc; a++) {
        FILE *f = fopen(argv[a], "rb");
        if (!f)
            return perror(argv[a]), 1;
        size_t n = fread(in, 1, sizeof in, f);
        fclose(f);
        printf("%s\n", argv[a]);
        for (size_t s = 0; s < sizeof settings / sizeof settings[0]; s++) {
            size_t got = 0;
            tf_status st = tf_lz_compress(in, n, out, sizeof out, &got, work, sizeof work, settings[s][0],
                                          settings[s][1], TF_LZ_FLAG_CHECKSUM | TF_LZ_LEVEL(settings[s][2]));
            printf("  W=%u L=%u level %u: %d, %zu bytes, frame %08x;", settings[s][0], settings[s][1], settings[s][2],
                   (int)st, got, (unsigned)fnv(out, got));
            if (decode(out, got) != 0)
                return 1;
            if (mutate(out, got) != 0)
                return 1;
        }
        printf("  as a frame:");
        if (decode(in, n) != 0)
            return 1;
    }
    return 0;
}
