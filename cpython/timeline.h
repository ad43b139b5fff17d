/* The tracker's timeline as an envelope: per time bucket, the highest and the lowest traced heap reached in it.
 *
 * A sampled point per N allocations (the timeline before this) misses a short spike between two points: a 0.4 s
 * program with a 30 MB spike showed its highest point at 25% of the peak. Here every allocation raises the current
 * bucket's high and every free lowers its low (a compare each), so the peak is always some bucket's high. The clock
 * is read only when the tracker ticks (every operation for the first TF_TIMELINE_FINE_OPS, then every few dozen);
 * a tick past the current bucket's end opens the next one there. Buckets start TF_TIMELINE_START_NS wide; when the
 * array is full, neighbours are merged pairwise (high of the highs, low of the lows) and the width doubles, so a
 * run with a few hundred ticks keeps between TF_TIMELINE_MAX / 2 and TF_TIMELINE_MAX buckets, in at most
 * TF_TIMELINE_MAX * 24 bytes.
 */
#ifndef THRIFTY_TIMELINE_H
#define THRIFTY_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#define TF_TIMELINE_MAX 512u
#define TF_TIMELINE_START_NS 1000u  /* 1 us: 512 buckets cover the first 0.5 ms */
#define TF_TIMELINE_FINE_OPS 65536u /* the clock is read at every operation until then (~2 ms of clock reads) */

typedef struct {
    int64_t t_ns; /* bucket start, ns since the run started */
    int64_t high, low;
} tf_bucket;

typedef struct {
    tf_bucket *b; /* libc memory, grown by doubling up to TF_TIMELINE_MAX */
    uint32_t n, cap;
    uint64_t width; /* ns per bucket */
    uint64_t end;   /* end of the current bucket b[n-1] */
} tf_timeline;

/* Forgets every bucket (keeps the array). */
void tf_timeline_reset(tf_timeline *tl);

/* A clock reading `now` (ns since start) with `live` bytes traced: opens a new bucket when `now` is past the current
 * one. `may_grow_bytes` is how many more bytes the array may take (the tracker's memory bound); returns the change
 * in the array's size in bytes (for the tracker's own-memory count). */
long tf_timeline_tick(tf_timeline *tl, uint64_t now, int64_t live, size_t may_grow_bytes);

/* Frees the array; returns the bytes released. */
size_t tf_timeline_free(tf_timeline *tl);

/* The current bucket follows the heap between ticks. */
static inline void tf_timeline_up(tf_timeline *tl, int64_t live) {
    if (tl->n && live > tl->b[tl->n - 1].high)
        tl->b[tl->n - 1].high = live;
}

static inline void tf_timeline_down(tf_timeline *tl, int64_t live) {
    if (tl->n && live < tl->b[tl->n - 1].low)
        tl->b[tl->n - 1].low = live;
}

#endif
