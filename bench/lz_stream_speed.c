/* The streaming encoder (sink / poll / finish) beside one-shot compression (tf_lz_compress) on the same input, in
 * instructions: `valgrind --tool=callgrind --toggle-collect=run_oneshot --toggle-collect=run_stream` counts each
 * side's own work (reading the file and checking the frames stay outside). Usage:
 *     lz_stream_speed FILE W L LEVEL FEED...
 * compresses FILE's first MiB one-shot once and then streamed once per FEED (bytes handed to sink per call, 0 for
 * the whole input; poll gets an output buffer of 1 KiB, as the run-file writer's), checks that every frame is the
 * same bytes, and prints the sizes. Built by `make bench-lz-stream`. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "thrifty/lz.h"

#define MAX_IN (1u << 20)
#define POLL_BUF 1024u
static uint8_t in[MAX_IN], one[MAX_IN + 4096], streamed[MAX_IN + 4096];
static uint64_t work[((1u << 16) + 16384u) / 8];

#if defined(__GNUC__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE
#endif

NOINLINE size_t run_oneshot(size_t n, unsigned w, unsigned l, unsigned flags) {
    size_t got = 0;
    if (tf_lz_compress(in, n, one, sizeof one, &got, work, sizeof work, w, l, flags) != TF_OK)
        return 0;
    return got;
}

/* Output is polled into a small buffer and copied on, as a writer that flushes it to a file does. */
NOINLINE size_t run_stream(size_t n, unsigned w, unsigned l, unsigned flags, size_t feed) {
    tf_lz_encoder *e;
    uint8_t buf[POLL_BUF];
    size_t o = 0, at = 0;
    if (tf_lz_encoder_init(&e, work, sizeof work, w, l, flags) != TF_OK)
        return 0;
    for (;;) {
        size_t took = 0, got = 0;
        tf_status st;
        if (at < n) {
            size_t k = feed && n - at > feed ? feed : n - at;
            if (tf_lz_encoder_sink(e, in + at, k, &took) != TF_OK)
                return 0;
            at += took;
        } else if (tf_lz_encoder_finish(e) == TF_LZ_DONE) {
            return o;
        }
        do {
            st = tf_lz_encoder_poll(e, buf, sizeof buf, &got);
            if (st < 0 || o + got > sizeof streamed)
                return 0;
            memcpy(streamed + o, buf, got);
            o += got;
        } while (st == TF_LZ_MORE && got == sizeof buf);
    }
}

int main(int argc, char **argv) {
    if (argc < 5)
        return fprintf(stderr, "usage: %s FILE W L LEVEL FEED...\n", argv[0]), 2;
    FILE *f = fopen(argv[1], "rb");
    if (!f)
        return perror(argv[1]), 1;
    size_t n = fread(in, 1, MAX_IN, f);
    fclose(f);
    unsigned w = (unsigned)atoi(argv[2]), l = (unsigned)atoi(argv[3]);
    unsigned flags = TF_LZ_FLAG_CHECKSUM | TF_LZ_LEVEL((unsigned)atoi(argv[4]));
    size_t on = run_oneshot(n, w, l, flags);
    if (!on)
        return fprintf(stderr, "one-shot compression failed\n"), 1;
    uint32_t h = 2166136261u; /* FNV-1a of the frame, to compare builds */
    for (size_t i = 0; i < on; i++)
        h = (h ^ one[i]) * 16777619u;
    printf("%s W=%u L=%u level %s: %zu -> %zu bytes one-shot (FNV-1a %08x)", argv[1], w, l, argv[4], n, on,
           (unsigned)h);
    for (int a = 5; a < argc; a++) {
        size_t feed = (size_t)atol(argv[a]), sn = run_stream(n, w, l, flags, feed);
        if (sn != on || memcmp(one, streamed, on) != 0)
            return fprintf(stderr, "\nfeed %zu: the streamed frame (%zu bytes) differs\n", feed, sn), 1;
        printf(", feed %zu same", feed);
    }
    printf("\n");
    return 0;
}
