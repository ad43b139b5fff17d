/* The tracker's timeline envelope (timeline.h). Called with the tracker's lock held, from inside the allocation
 * hook: libc memory only. */
#include "timeline.h"

#include <stdlib.h>

void tf_timeline_reset(tf_timeline *tl) {
    tl->n = 0;
    tl->width = TF_TIMELINE_START_NS;
    tl->end = 0;
}

size_t tf_timeline_free(tf_timeline *tl) {
    size_t bytes = (size_t)tl->cap * sizeof(tf_bucket);
    free(tl->b);
    tl->b = NULL;
    tl->n = tl->cap = 0;
    return bytes;
}

/* Merges neighbours pairwise (the first's start, the highest high, the lowest low) and doubles the width for the
 * buckets to come: exactly half the array is then used, whatever gaps (no allocation, no bucket) the run had. */
static void merge(tf_timeline *tl) {
    uint32_t out = 0;
    for (uint32_t i = 0; i < tl->n; i += 2u) {
        tf_bucket b = tl->b[i];
        if (i + 1u < tl->n) {
            const tf_bucket *c = &tl->b[i + 1u];
            if (c->high > b.high)
                b.high = c->high;
            if (c->low < b.low)
                b.low = c->low;
        }
        tl->b[out++] = b;
    }
    tl->n = out;
    tl->width *= 2u;
    tl->end = (uint64_t)tl->b[tl->n - 1].t_ns + tl->width;
}

long tf_timeline_tick(tf_timeline *tl, uint64_t now, int64_t live, size_t may_grow_bytes) {
    long grown = 0;
    if (tl->n && now < tl->end)
        return 0;
    if (tl->n == tl->cap) {
        uint32_t ncap = tl->cap ? tl->cap * 2u : 32u;
        size_t add = (size_t)(ncap - tl->cap) * sizeof(tf_bucket);
        tf_bucket *nb = NULL;
        if (tl->cap < TF_TIMELINE_MAX && add <= may_grow_bytes)
            nb = realloc(tl->b, (size_t)ncap * sizeof(tf_bucket));
        if (nb) {
            tl->b = nb;
            tl->cap = ncap;
            grown = (long)add;
        } else if (tl->cap >= 2u) {
            merge(tl);
            if (now < tl->end)
                return 0; /* the wider current bucket still covers now */
        } else {
            return 0; /* no array at the memory bound: no timeline */
        }
    }
    {
        tl->b[tl->n++] = (tf_bucket){(int64_t)now, live, live};
        tl->end = now + tl->width;
    }
    return grown;
}
