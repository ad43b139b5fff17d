/* thrifty core — frozen sets and maps (fset.h): the build of a block whose keys are ints (and whose values, if any,
 * are ints or floats), sorted in place in the block itself, for tf_fset_build_source (fset_build.c). Shared with the
 * lookups and the validation: fset_internal.h. */
#include "fset_internal.h"

/* ---- int keys: sorted in place in the block ---------------------------------------------------------------- */

/* The hash of a w-byte key as stored (sign-extended). */
static uint64_t tf__key_hash(const uint8_t *p, unsigned w) {
    return tf_fset_hash_int(tf__to_signed(tf__load_u(p, w), w));
}

static void tf__swap_keys(uint8_t *a, uint8_t *b, unsigned w) {
    uint64_t x = tf__load_u(a, w);
    tf__store_u(a, w, tf__load_u(b, w));
    tf__store_u(b, w, x);
}

/* Runs up to this long are sorted by insertion on a copy with each key's hash beside it (512 bytes of stack). */
#define TF__FSET_RUN_CACHE 32u

/* Sorts the n w-byte keys at k by hash: insertion for short runs, heap sort for long ones (adversarial input). */
static void tf__sort_keys(uint8_t *k, size_t n, unsigned w) {
    if (n <= TF__FSET_RUN_CACHE) {
        uint64_t hs[TF__FSET_RUN_CACHE], vs[TF__FSET_RUN_CACHE];
        for (size_t i = 0; i < n; i++) {
            vs[i] = tf__load_u(k + i * w, w);
            hs[i] = tf_fset_hash_int(tf__to_signed(vs[i], w));
        }
        for (size_t i = 1; i < n; i++) {
            uint64_t hx = hs[i], vx = vs[i];
            size_t j = i;
            for (; j > 0u && hs[j - 1u] > hx; j--) {
                hs[j] = hs[j - 1u];
                vs[j] = vs[j - 1u];
            }
            hs[j] = hx;
            vs[j] = vx;
        }
        for (size_t i = 0; i < n; i++)
            tf__store_u(k + i * w, w, vs[i]);
        return;
    }
    for (size_t end = n, start = n / 2u;;) { /* heap sort: build the heap, then pop its root to the end */
        size_t root;
        if (start > 0u) {
            root = --start;
        } else {
            if (--end == 0u)
                return;
            tf__swap_keys(k, k + end * w, w);
            root = 0;
        }
        for (size_t child; (child = 2u * root + 1u) < end; root = child) {
            if (child + 1u < end && tf__key_hash(k + child * w, w) < tf__key_hash(k + (child + 1u) * w, w))
                child++;
            if (tf__key_hash(k + root * w, w) >= tf__key_hash(k + child * w, w))
                break;
            tf__swap_keys(k + root * w, k + child * w, w);
        }
    }
}

/* Sorts the n keys at k by hash in place: distributed to buckets (American flag sort) with the run starts and fill
 * points in `room` (room_len bytes the block does not use yet), then each run sorted. */
static void tf__distribute(uint8_t *k, size_t n, unsigned w, uint8_t *room, size_t room_len) {
    size_t pad = (size_t)((4u - ((uintptr_t)room & 3u)) & 3u);
    size_t nbp = room_len > pad + 16u ? (room_len - pad) / 8u - 1u : 0u;
    uint32_t *start, *fill;
    if (nbp > n / 8u)
        nbp = n / 8u; /* runs of about 8 */
    if (nbp < 2u) {
        tf__sort_keys(k, n, w);
        return;
    }
    start = (uint32_t *)(void *)(room + pad);
    fill = start + nbp + 1u;
    for (size_t b = 0; b <= nbp; b++)
        start[b] = 0;
    for (size_t i = 0; i < n; i++)
        start[tf__bucket(tf__key_hash(k + i * w, w), nbp) + 1u]++;
    for (size_t b = 1; b <= nbp; b++)
        start[b] += start[b - 1u];
    for (size_t b = 0; b < nbp; b++)
        fill[b] = start[b];
    for (size_t b = 0; b < nbp; b++) {
        while (fill[b] < start[b + 1u]) {
            size_t to = tf__bucket(tf__key_hash(k + (size_t)fill[b] * w, w), nbp);
            if (to != b)
                tf__swap_keys(k + (size_t)fill[b] * w, k + (size_t)fill[to] * w, w);
            fill[to]++;
        }
    }
    for (size_t b = 0; b < nbp; b++)
        tf__sort_keys(k + (size_t)start[b] * w, start[b + 1u] - start[b], w);
}

/* The position of `key` (present) among the sorted keys of a block whose index is written. */
static size_t tf__position(const uint8_t *b, const tf__fset_hdr *h, const tf__fset_layout *l, int64_t key) {
    size_t k = tf__bucket(tf_fset_hash_int(key), h->nb), iw = h->index_w, w = h->key_w;
    size_t lo = (size_t)tf__load_u(b + l->index + k * iw, (unsigned)iw);
    size_t hi = (size_t)tf__load_u(b + l->index + (k + 1u) * iw, (unsigned)iw);
    for (size_t i = lo; i < hi; i++)
        if (tf__to_signed(tf__load_u(b + l->keys + i * w, (unsigned)w), (unsigned)w) == key)
            return i;
    return lo; /* not reached: every key of the input is in the block */
}

/* The value stored at p (w bytes): sign-extended, or zero-extended when the header says so. */
static int64_t tf__stored_value(const uint8_t *p, const tf__fset_hdr *h) {
    uint64_t u = tf__load_u(p, h->value_w);
    return h->value_unsigned ? (int64_t)u : tf__to_signed(u, h->value_w);
}

/* Int keys, and no values or int/float ones: the keys are written into the block's own key section and sorted there
 * by hash (int hashes are a bijection, so a key needs no position and no kept hash), duplicates dropped, the section
 * moved down to where the block of the distinct keys has it and the index written before it; then each entry's
 * value is stored at its key's position, found through that index, in input order, so the last one given wins as
 * in a dict. No scratch: the sort's bucket counts live in the index section, free until then. out_size must hold
 * the block of all `count` entries (tf_fset_source_size), duplicates included. */
tf_status tf__fset_build_ints(const tf_fset_source *src, const tf__stats *all, uint8_t *b, size_t out_size,
                              size_t *out_len) {
    tf__fset_hdr h;
    tf__fset_layout l;
    tf__stats s = *all;
    size_t n = src->count, nu = 0, kend, vend;
    unsigned w;
    uint8_t *keys;
    tf__fset_plan(src, all, &h);
    if (!tf__fset_layout_of(&h, &l))
        return TF_E_ARG;
    if (out_size < l.total)
        return TF_E_SIZE;
    w = h.key_w;
    keys = b + l.keys;
    for (size_t i = 0; i < n; i++)
        tf__store_u(keys + i * w, w, (uint64_t)src->int_key(src->ctx, i));
    tf__distribute(keys, n, w, b + l.index, l.keys - l.index);

    /* drop duplicates (equal keys are adjacent: equal hashes); the ranges of the distinct keys are all keys' */
    for (size_t i = 0; i < n; i++)
        if (nu == 0u || tf__load_u(keys + i * w, w) != tf__load_u(keys + (nu - 1u) * w, w))
            tf__store_u(keys + (nu++) * w, w, tf__load_u(keys + i * w, w));
    s.n = nu;
    tf__fset_plan(src, &s, &h);
    if (!tf__fset_layout_of(&h, &l))
        return TF_E_ARG;
    TF_MEMMOVE(b + l.keys, keys, nu * w);
    keys = b + l.keys;
    TF_MEMSET(b, 0, l.keys);
    for (size_t k = 0, i = 0; k <= h.nb; k++) {
        while (i < nu && tf__bucket(tf__key_hash(keys + i * w, w), h.nb) < k)
            i++;
        tf__store_u(b + l.index + k * h.index_w, h.index_w, (uint64_t)i);
    }
    kend = l.keys + nu * w;
    vend = kend;
    if (h.value_kind != TF_FSET_NONE) {
        uint8_t *vals = b + l.vals;
        for (size_t i = 0; i < n; i++) {
            size_t at = tf__position(b, &h, &l, src->int_key(src->ctx, i));
            if (h.value_kind == TF_FSET_INT) {
                tf__store_u(vals + at * h.value_w, h.value_w, (uint64_t)src->int_value(src->ctx, i));
            } else {
                double d = src->float_value(src->ctx, i);
                uint64_t bits;
                TF_MEMCPY(&bits, &d, sizeof bits);
                tf__store_le64(vals + at * 8u, bits);
            }
        }
        if (h.value_kind == TF_FSET_INT && nu < n) {
            /* the values kept may span a narrower range than all those given: store them as narrow as they fit */
            tf__fset_hdr kept;
            for (size_t i = 0; i < nu; i++)
                tf__widen(tf__stored_value(vals + i * h.value_w, &h), i == 0u, &s.vlo, &s.vhi);
            tf__fset_plan(src, &s, &kept);
            for (size_t i = 0; kept.value_w < h.value_w && i < nu; i++)
                tf__store_u(vals + i * kept.value_w, kept.value_w,
                            (uint64_t)tf__stored_value(vals + i * h.value_w, &h));
            h = kept;
            if (!tf__fset_layout_of(&h, &l))
                return TF_E_ARG;
        }
        TF_MEMSET(b + kend, 0, l.vals - kend);
        vend = l.vals + nu * h.value_w;
    }
    TF_MEMSET(b + vend, 0, l.total - vend);
    tf__fset_write_header(b, &h, l.total);
    tf__store_le64(b + 8, tf_fset_checksum(b, l.total));
    *out_len = l.total;
    return TF_OK;
}
