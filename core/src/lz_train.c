/* thrifty core — lz: building a preset dictionary from sample messages (tf_lz_train_dictionary, lz.h).
 *
 * A dictionary earns its bytes by what the messages to come will match in it. The strings worth holding are those
 * that recur across many messages (JSON keys and the punctuation between them, a device name, the fixed part of a
 * log line), not those one message repeats. So every string of TF_LZ_TRAIN_K bytes gets a score: in how many samples
 * it occurs, less one (a string of one sample is worth nothing). Then, greedily, the stretch of sample bytes whose
 * distinct strings score the most goes into the dictionary, its strings' scores drop to zero (the dictionary holds
 * them now), and the next stretch is chosen, until the dictionary is full or nothing recurs. The first stretches,
 * the most valuable, go at the end of the dictionary, nearest the data: shorter offsets cost fewer bits, and a
 * window smaller than the dictionary still keeps them. (The idea is zstd's "cover" trainer's, built here from
 * scratch on sorting instead of hashing, so that it needs no allocation and is deterministic.) */
#include "lz_internal.h"

/* A stretch is chosen among windows of this many bytes (K-byte strings start in the first SEGMENT - K + 1 of them,
 * which must fit the per-string counters' 8 bits). Measured on 200-byte JSON records: 64 and 128 gave about the same
 * ratio; much shorter stretches lose the context between keys, longer ones carry values that rarely recur. */
#define TF__TRAIN_SEGMENT 96u
TF_STATIC_ASSERT(TF__TRAIN_SEGMENT - TF_LZ_TRAIN_K + 1u <= 255u, lz_train_segment_fits_counters);
#define TF__TRAIN_NONE 0xFFFFFFFFu

size_t tf_lz_train_work_size(size_t total) {
    if (total > (size_t)0xFFFFFFFEu || total > (SIZE_MAX - 16u) / 9u)
        return 0;
    return 9u * total + 16u; /* positions (4 B), their string's group (4 B), a counter per group (1 B) */
}

/* Sorting positions by the K bytes at them, then by position (so a group of equal strings lists its samples in
 * order). Heapsort: in place, O(m log m), no recursion. */
static int tf__train_less(const uint8_t *s, uint32_t a, uint32_t b) {
    for (unsigned i = 0; i < TF_LZ_TRAIN_K; i++)
        if (s[a + i] != s[b + i])
            return s[a + i] < s[b + i];
    return a < b;
}

/* The same K bytes at a and b (a loop: memcmp is a libc call on a freestanding target). */
static int tf__train_same(const uint8_t *s, uint32_t a, uint32_t b) {
    for (unsigned i = 0; i < TF_LZ_TRAIN_K; i++)
        if (s[a + i] != s[b + i])
            return 0;
    return 1;
}

static void tf__train_sift(const uint8_t *s, uint32_t *pos, size_t at, size_t m) {
    uint32_t v = pos[at];
    for (;;) {
        size_t child = 2u * at + 1u;
        if (child >= m)
            break;
        if (child + 1u < m && tf__train_less(s, pos[child], pos[child + 1u]))
            child++;
        if (!tf__train_less(s, v, pos[child]))
            break;
        pos[at] = pos[child];
        at = child;
    }
    pos[at] = v;
}

static void tf__train_sort(const uint8_t *s, uint32_t *pos, size_t m) {
    for (size_t i = m / 2u; i-- > 0;)
        tf__train_sift(s, pos, i, m);
    for (size_t end = m; end > 1u; end--) {
        uint32_t top = pos[0];
        pos[0] = pos[end - 1u];
        pos[end - 1u] = top;
        tf__train_sift(s, pos, 0, end - 1u);
    }
}

typedef struct {
    const uint32_t *group; /* per byte position: its string's group, or TF__TRAIN_NONE near a sample's end */
    uint32_t *score;       /* per group */
    uint8_t *in_window;    /* per group: how many times it occurs in the window being scored */
} tf__train;

/* The best window of `span` string positions in samples[start..end) (all of it when shorter): its score, first and
 * last position, kept in *best, *at and *to when higher than *best. */
static void tf__train_scan(tf__train *t, size_t start, size_t end, size_t span, uint64_t *best, size_t *at,
                           size_t *to) {
    if (end - start < TF_LZ_TRAIN_K)
        return;
    size_t last = end - TF_LZ_TRAIN_K; /* the last position a string starts at */
    uint64_t score = 0;
    for (size_t p = start; p <= last; p++) {
        uint32_t g = t->group[p];
        if (g != TF__TRAIN_NONE && t->in_window[g]++ == 0)
            score += t->score[g];
        if (p - start >= span) { /* the window slides: the oldest position leaves it */
            uint32_t old = t->group[p - span];
            if (old != TF__TRAIN_NONE && --t->in_window[old] == 0)
                score -= t->score[old];
        }
        if ((p - start + 1u >= span || p == last) && score > *best) {
            *best = score;
            *at = p + 1u >= start + span ? p + 1u - span : start;
            *to = p;
        }
    }
    for (size_t p = last + 1u >= start + span ? last + 1u - span : start; p <= last; p++) {
        uint32_t g = t->group[p]; /* the counters back to zero for the next scan */
        if (g != TF__TRAIN_NONE)
            t->in_window[g]--;
    }
}

tf_status tf_lz_train_dictionary(const uint8_t *samples, const size_t *sizes, size_t count, uint8_t *dict, size_t size,
                                 size_t *out_n, void *work, size_t work_size) {
    if (!out_n || !dict || !work || (!sizes && count) || !samples)
        return TF_E_NULL;
    *out_n = 0;
    size_t total = 0;
    for (size_t i = 0; i < count; i++) {
        if (sizes[i] > (size_t)0xFFFFFFFEu - total)
            return TF_E_ARG;
        total += sizes[i];
    }
    if (!size || size > TF_LZ_MAX_DICTIONARY || !count)
        return TF_E_ARG;
    size_t need = tf_lz_train_work_size(total);
    if (!need || work_size < need)
        return TF_E_SIZE;
    if (!TF_IS_ALIGNED(work, TF_LZ_ALIGN))
        return TF_E_ALIGN;
    uint32_t *pos = (uint32_t *)work, *group = pos + total;
    uint8_t *in_window = (uint8_t *)(group + total);

    /* Every position that starts a whole K-byte string of its sample; group[] holds its sample's index meanwhile. */
    size_t m = 0, at = 0;
    for (size_t i = 0; i < count; i++) {
        for (size_t j = 0; j < sizes[i]; j++, at++) {
            int whole = sizes[i] - j >= TF_LZ_TRAIN_K;
            group[at] = whole ? (uint32_t)i : TF__TRAIN_NONE;
            if (whole)
                pos[m++] = (uint32_t)at;
        }
    }
    tf__train_sort(samples, pos, m);

    /* Groups of equal strings: each position learns its group, and each group's score (the samples it occurs in,
     * less one) goes to pos[g], whose position has been read by then (g <= the group's first index). */
    uint32_t groups = 0;
    for (size_t i = 0; i < m;) {
        size_t j = i;
        uint32_t samples_in = 0, last_sample = TF__TRAIN_NONE, head = pos[i];
        while (j < m && tf__train_same(samples, head, pos[j])) {
            uint32_t p = pos[j], sample = group[p];
            samples_in += sample != last_sample;
            last_sample = sample;
            group[p] = groups;
            j++;
        }
        pos[groups++] = samples_in - 1u;
        i = j;
    }
    TF_MEMSET(in_window, 0, groups);
    tf__train t = {group, pos, in_window};

    /* Stretches, best first, packed from the end of dict backwards. */
    size_t used = 0;
    while (size - used >= TF_LZ_TRAIN_K) {
        size_t bytes = size - used < TF__TRAIN_SEGMENT ? size - used : TF__TRAIN_SEGMENT;
        size_t span = bytes - TF_LZ_TRAIN_K + 1u, first = 0, last = 0, start = 0;
        uint64_t best = 0;
        for (size_t i = 0; i < count; start += sizes[i++])
            tf__train_scan(&t, start, start + sizes[i], span, &best, &first, &last);
        if (!best)
            break; /* nothing left recurs */
        /* The window's strings (all whole ones of one sample), trimmed of those that score nothing at either end. */
        while (!pos[group[first]])
            first++;
        while (!pos[group[last]])
            last--;
        size_t n = last - first + TF_LZ_TRAIN_K;
        for (size_t p = first; p <= last; p++)
            pos[group[p]] = 0; /* the dictionary holds these strings now */
        TF_MEMCPY(dict + size - used - n, samples + first, n);
        used += n;
    }
    TF_MEMMOVE(dict, dict + size - used, used);
    *out_n = used;
    return TF_OK;
}
