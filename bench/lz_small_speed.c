/* Decode speed of the small-flash lz build (TF_LZ_SMALL=1) beside the fast one: `make bench-lz-small` builds this
 * file twice (-O2, once per build) and runs each on the same input. It compresses the files named on the command
 * line (W=8, L=4, default level, checksum) and decodes the frame REPEAT times per run, printing the median CPU time
 * per run of RUNS (clock(): CPU time, not wall time). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "thrifty/lz.h"

#define MAX_IN (1u << 20)
#define RUNS 7
#define REPEAT 10
static uint8_t in[MAX_IN], frame[MAX_IN + 64], back[MAX_IN];
static uint64_t work[((1u << 15) + 8192u) / 8];

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    size_t n = 0;
    for (int a = 1; a < argc && n < MAX_IN; a++) {
        FILE *f = fopen(argv[a], "rb");
        if (!f)
            return perror(argv[a]), 1;
        n += fread(in + n, 1, MAX_IN - n, f);
        fclose(f);
    }
    size_t fn = 0;
    if (tf_lz_compress(in, n, frame, sizeof frame, &fn, work, sizeof work, 8, 4, TF_LZ_FLAG_CHECKSUM) != TF_OK)
        return 1;
    double secs[RUNS];
    for (int r = 0; r < RUNS; r++) {
        clock_t t0 = clock();
        for (int k = 0; k < REPEAT; k++) {
            tf_lz_decoder *d;
            size_t used = 0, made = 0;
            if (tf_lz_decoder_init(&d, work, sizeof work, 8) != TF_OK ||
                tf_lz_decoder_decode(d, frame, fn, &used, back, sizeof back, &made) != TF_LZ_DONE || made != n ||
                memcmp(back, in, n) != 0)
                return fprintf(stderr, "round trip failed\n"), 1;
        }
        secs[r] = (double)(clock() - t0) / CLOCKS_PER_SEC;
    }
    qsort(secs, RUNS, sizeof secs[0], by_value);
    printf("TF_LZ_SMALL=%d: %zu -> %zu bytes, decode %.1f MB/s (median of %d runs, CPU time)\n", TF_LZ_SMALL, n, fn,
           (double)n * REPEAT / secs[RUNS / 2] / 1e6, RUNS);
    return 0;
}
