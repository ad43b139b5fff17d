/* thrifty core — frozen sets and maps (fset.h): building a block (tf_fset_bound, tf_fset_build,
 * tf_fset_build_source); int keys are sorted in place by fset_build_ints.c. Shared with the
 * lookups and the validation: fset_internal.h. */
#include "fset_internal.h"

/* Buckets at or below this size are sorted by insertion, bigger ones (only adversarial inputs make them) by heap
 * sort, so the build stays O(n log n) in the worst case without recursion or allocation. */
#define TF__FSET_SMALL_RUN 16u

/* ---- what a block of given entries looks like ------------------------------------------------------------- */

/* The narrowest of 1/2/4/8 bytes holding every int in lo .. hi: keys and int values alike. */
static unsigned tf__int_width(int64_t lo, int64_t hi) {
    if (lo >= INT8_MIN && hi <= INT8_MAX)
        return 1;
    if (lo >= INT16_MIN && hi <= INT16_MAX)
        return 2;
    if (lo >= INT32_MIN && hi <= INT32_MAX)
        return 4;
    return 8;
}

/* The stats of entries perm[0 .. n) of src (entries 0 .. n when perm is NULL). 0 when a span has a length but no
 * data, or a byte total passes UINT32_MAX (the format's offsets are at most 32 bits). Reads each entry once. */
static int tf__stats_of(const tf_fset_source *src, const uint32_t *perm, size_t n, tf__stats *s) {
    uint64_t kb = 0, vb = 0;
    TF_MEMSET(s, 0, sizeof *s);
    s->n = n;
    for (size_t j = 0; j < n; j++) {
        size_t i = perm ? (size_t)perm[j] : j;
        if (src->key_kind == TF_FSET_INT) {
            tf__widen(src->int_key(src->ctx, i), j == 0u, &s->klo, &s->khi);
        } else {
            tf_fspan k = src->span_key(src->ctx, i);
            if (k.len > UINT32_MAX || (k.len > 0u && !k.data))
                return 0;
            kb += (uint64_t)tf__record_len(k.len);
        }
        if (src->is_map && src->value_kind == TF_FSET_INT) {
            tf__widen(src->int_value(src->ctx, i), j == 0u, &s->vlo, &s->vhi);
        } else if (src->is_map && tf__is_span((unsigned)src->value_kind)) {
            tf_fspan v = src->span_value(src->ctx, i);
            if (v.len > UINT32_MAX || (v.len > 0u && !v.data))
                return 0;
            vb += (uint64_t)v.len;
        }
        if (kb > UINT32_MAX || vb > UINT32_MAX)
            return 0;
    }
    s->key_blob = (size_t)kb;
    s->val_blob = (size_t)vb;
    return 1;
}

/* The header of the block holding exactly the entries that `s` describes: the one rule that both the builder and
 * tf_fset_source_size() follow, so the size a caller allocates is the size the builder writes. */
void tf__fset_plan(const tf_fset_source *src, const tf__stats *s, tf__fset_hdr *h) {
    size_t load = src->key_kind == TF_FSET_INT ? (size_t)TF_FSET_LOAD : (size_t)TF_FSET_SPAN_LOAD;
    TF_MEMSET(h, 0, sizeof *h);
    h->n = s->n;
    h->nb = s->n == 0u ? 1u : (s->n + load - 1u) / load;
    h->is_map = (unsigned)src->is_map;
    if (s->n > 0u) {
        h->key_kind = (unsigned)src->key_kind;
        if (src->is_map)
            h->value_kind = (unsigned)src->value_kind;
    }
    if (h->key_kind == TF_FSET_INT)
        h->key_w = tf__int_width(s->klo, s->khi);
    else if (h->key_kind != TF_FSET_NONE)
        h->key_blob_len = s->key_blob;
    h->index_w = tf__offset_width(h->n > h->key_blob_len ? h->n : h->key_blob_len);
    if (h->value_kind == TF_FSET_INT) {
        h->value_w = tf__int_width(s->vlo, s->vhi);
        /* values that are never negative (counts, ids, sizes) zero-extended: 0..255 in 1 byte, 0..65535 in 2 */
        if (s->vlo >= 0 && h->value_w > 1u) {
            unsigned uw = s->vhi <= 0xFF ? 1u : s->vhi <= 0xFFFF ? 2u : s->vhi <= 0xFFFFFFFF ? 4u : 8u;
            if (uw < h->value_w) {
                h->value_w = uw;
                h->value_unsigned = 1u;
            }
        }
    } else if (h->value_kind == TF_FSET_FLOAT) {
        h->value_w = 8u;
    } else if (h->value_kind != TF_FSET_NONE) {
        h->val_blob_len = s->val_blob;
        h->value_w = tf__offset_width(h->val_blob_len);
    }
    /* the oldest version that describes the block, so readers of version 1 read all they can */
    h->version = h->index_w == 3u || (tf__is_span(h->value_kind) && h->value_w == 3u) || h->value_unsigned
                     ? TF__FSET_VERSION
                     : TF__FSET_VERSION_MIN;
}

void tf__fset_write_header(uint8_t *b, const tf__fset_hdr *h, size_t total) {
    TF_MEMSET(b, 0, TF_FSET_HEADER_SIZE);
    b[0] = TF__FSET_MAGIC0;
    b[1] = TF__FSET_MAGIC1;
    b[2] = TF__FSET_MAGIC2;
    b[3] = TF__FSET_MAGIC3;
    b[4] = (uint8_t)h->version;
    b[5] = (uint8_t)(h->is_map ? TF__FSET_MAP : TF__FSET_SET);
    b[6] = (uint8_t)h->key_kind;
    b[7] = (uint8_t)h->value_kind;
    /* 8..16: checksum, written last */
    tf__store_le64(b + 16, (uint64_t)total);
    tf__store_le32(b + 24, (uint32_t)h->n);
    tf__store_le32(b + 28, (uint32_t)h->nb);
    b[32] = (uint8_t)h->index_w;
    b[33] = (uint8_t)h->key_w;
    b[34] = (uint8_t)h->value_w;
    b[35] = (uint8_t)h->value_unsigned;
    tf__store_le32(b + 36, (uint32_t)h->key_blob_len);
    tf__store_le32(b + 40, (uint32_t)h->val_blob_len);
}

/* ---- the input: a source of entries, or arrays read as one ---------------------------------------------- */

static int tf__source_ok(const tf_fset_source *src) {
    if (src->count > UINT32_MAX || (src->is_map != 0 && src->is_map != 1))
        return 0;
    if (src->count == 0u)
        return 1;
    if (src->key_kind == TF_FSET_INT ? !src->int_key : !tf__is_span((unsigned)src->key_kind) || !src->span_key)
        return 0;
    if (!src->is_map)
        return src->value_kind == TF_FSET_NONE;
    switch (src->value_kind) {
    case TF_FSET_INT: return src->int_value != NULL;
    case TF_FSET_FLOAT: return src->float_value != NULL;
    case TF_FSET_STR:
    case TF_FSET_BYTES: return src->span_value != NULL;
    default: return 0;
    }
}

static int64_t tf__arr_int_key(void *ctx, size_t i) { return ((const tf_fset_input *)ctx)->int_keys[i]; }
static tf_fspan tf__arr_span_key(void *ctx, size_t i) { return ((const tf_fset_input *)ctx)->span_keys[i]; }
static int64_t tf__arr_int_value(void *ctx, size_t i) { return ((const tf_fset_input *)ctx)->int_values[i]; }
static double tf__arr_float_value(void *ctx, size_t i) { return ((const tf_fset_input *)ctx)->float_values[i]; }
static tf_fspan tf__arr_span_value(void *ctx, size_t i) { return ((const tf_fset_input *)ctx)->span_values[i]; }

/* A source reading the arrays of *in (which `copy` holds, so ctx needs no cast from const). Arrays left NULL give
 * NULL callbacks, which tf__source_ok refuses where they are needed. */
static void tf__array_source(const tf_fset_input *in, tf_fset_input *copy, tf_fset_source *src) {
    *copy = *in;
    TF_MEMSET(src, 0, sizeof *src);
    src->count = in->count;
    src->is_map = in->is_map;
    src->key_kind = in->key_kind;
    src->value_kind = in->value_kind;
    src->ctx = copy;
    src->int_key = in->int_keys ? tf__arr_int_key : NULL;
    src->span_key = in->span_keys ? tf__arr_span_key : NULL;
    src->int_value = in->int_values ? tf__arr_int_value : NULL;
    src->float_value = in->float_values ? tf__arr_float_value : NULL;
    src->span_value = in->span_values ? tf__arr_span_value : NULL;
}

/* ---- sizes ------------------------------------------------------------------------------------------------ */

/* Provisional buckets of the build's counting sort: about one for every two entries, so runs stay short (sorted by
 * insertion); fewer when the output buffer, which holds the counts, is small. */
static size_t tf__sort_buckets(size_t count) { return count / 2u + 1u; }

size_t tf_fset_scratch_size(size_t count) {
    /* what it has always promised (a position and a hash half an entry, and counts), so callers sized by it still
     * build: tf_fset_build() now needs at most 8 bytes an entry */
    if (count > (SIZE_MAX - 16u) / 12u)
        return 0;
    return 8u * count + 4u * (tf__sort_buckets(count) + 1u) + 8u;
}

/* Whether tf__fset_build_ints (fset_build_ints.c) builds src: int keys, and no values or fixed-width (int, float) ones.
 */
static int tf__in_place(const tf_fset_source *src) {
    return src->key_kind == TF_FSET_INT && src->count > 0u &&
           (!src->is_map || src->value_kind == TF_FSET_INT || src->value_kind == TF_FSET_FLOAT);
}

size_t tf_fset_source_scratch_size(const tf_fset_source *src) {
    size_t per;
    if (!src)
        return 0;
    if (tf__in_place(src))
        return 8u;
    per = src->key_kind == TF_FSET_INT ? 4u : 8u;
    if (src->count > (SIZE_MAX - 8u) / per)
        return 0;
    return per * src->count + 8u;
}

size_t tf_fset_source_size(const tf_fset_source *src) {
    tf__stats s;
    tf__fset_hdr h;
    tf__fset_layout l;
    if (!src || !tf__source_ok(src) || !tf__stats_of(src, NULL, src->count, &s))
        return 0;
    tf__fset_plan(src, &s, &h);
    if (!tf__fset_layout_of(&h, &l))
        return 0;
    return l.total;
}

/* Sum of span lengths (records = 0) or of key record lengths (records = 1); 0 with *ok = 0 when it exceeds
 * UINT32_MAX. */
static size_t tf__span_total(const tf_fspan *s, size_t n, int records, int *ok) {
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i].len > UINT32_MAX) {
            *ok = 0;
            return 0;
        }
        total += (uint64_t)(records ? tf__record_len(s[i].len) : s[i].len);
        if (total > UINT32_MAX || (s[i].len > 0u && !s[i].data)) {
            *ok = 0;
            return 0;
        }
    }
    return (size_t)total;
}

size_t tf_fset_bound(const tf_fset_input *in) {
    tf__fset_hdr h;
    tf__fset_layout l;
    tf_fset_input copy;
    tf_fset_source src;
    size_t load;
    int ok = 1;
    if (!in)
        return 0;
    tf__array_source(in, &copy, &src);
    if (!tf__source_ok(&src))
        return 0;
    TF_MEMSET(&h, 0, sizeof h);
    h.n = in->count;
    /* O(1) for ints (widest fields; tf_fset_source_size is exact but reads every entry). The builder's bucket count
     * for `count` distinct keys (duplicates only lower it), so the bound stays within a few bytes a key of the block */
    load = in->key_kind == TF_FSET_INT ? (size_t)TF_FSET_LOAD : (size_t)TF_FSET_SPAN_LOAD;
    h.nb = in->count == 0u ? 1u : in->count / load + 1u;
    h.index_w = 4;
    h.key_kind = in->count ? (unsigned)in->key_kind : TF_FSET_NONE;
    h.key_w = in->key_kind == TF_FSET_INT ? 8u : 0u;
    if (tf__is_span(h.key_kind))
        h.key_blob_len = tf__span_total(in->span_keys, in->count, 1, &ok);
    h.value_kind = in->count ? (unsigned)in->value_kind : TF_FSET_NONE;
    h.value_w = 8u;
    if (tf__is_span(h.value_kind))
        h.val_blob_len = tf__span_total(in->span_values, in->count, 0, &ok);
    if (!ok || !tf__fset_layout_of(&h, &l))
        return 0;
    return l.total;
}

/* ---- sorting entries by hash ------------------------------------------------------------------------------ */

typedef struct {
    const tf_fset_source *src;
    /* str/bytes keys: the high half of each entry's hash, what bucket placement and most comparisons need, kept
     * (4 bytes an entry) because computing it again would read every key several times, each a likely cache miss.
     * NULL for int keys, whose hash is a few multiplies of a value the source hands over cheaply. */
    const uint32_t *hi;
} tf__sort_ctx;

/* The hash of entry i, computed again where the low half is needed (a tie of high halves, a str key's fingerprint,
 * written when its bytes are copied anyway) rather than kept. */
static uint64_t tf__hash_of(const tf_fset_source *src, size_t i) {
    tf_fspan k;
    if (src->key_kind == TF_FSET_INT)
        return tf_fset_hash_int(src->int_key(src->ctx, i));
    k = src->span_key(src->ctx, i);
    return tf_fset_hash_bytes(k.data, k.len);
}

static uint32_t tf__hi_of(const tf__sort_ctx *c, uint32_t i) {
    return c->hi ? c->hi[i] : (uint32_t)(tf__hash_of(c->src, i) >> 32);
}

/* Total order of entries: hash, then key (str/bytes only: int hashes are a bijection), then input position — so
 * the sorted order, and with it the block, does not depend on the input order except through "last one wins". */
static int tf__cmp(const tf__sort_ctx *c, uint32_t a, uint32_t b) {
    uint64_t ha, hb;
    if (c->hi && c->hi[a] != c->hi[b])
        return c->hi[a] < c->hi[b] ? -1 : 1;
    ha = tf__hash_of(c->src, a);
    hb = tf__hash_of(c->src, b);
    if (ha != hb)
        return ha < hb ? -1 : 1;
    if (c->src->key_kind != TF_FSET_INT) {
        tf_fspan ka = c->src->span_key(c->src->ctx, a), kb = c->src->span_key(c->src->ctx, b);
        if (ka.len != kb.len)
            return ka.len < kb.len ? -1 : 1;
        if (ka.len > 0u) {
            int r = TF_MEMCMP(ka.data, kb.data, ka.len);
            if (r != 0)
                return r;
        }
    }
    return a < b ? -1 : (a > b ? 1 : 0);
}

static int tf__same_key(const tf__sort_ctx *c, uint32_t a, uint32_t b) {
    tf_fspan ka, kb;
    if (c->hi && c->hi[a] != c->hi[b])
        return 0; /* different hashes: different keys, without reading either (two likely cache misses) */
    if (c->src->key_kind == TF_FSET_INT)
        return c->src->int_key(c->src->ctx, a) == c->src->int_key(c->src->ctx, b);
    ka = c->src->span_key(c->src->ctx, a);
    kb = c->src->span_key(c->src->ctx, b);
    return ka.len == kb.len && (ka.len == 0u || TF_MEMCMP(ka.data, kb.data, ka.len) == 0);
}

static void tf__sift(const tf__sort_ctx *c, uint32_t *v, size_t root, size_t n) {
    for (;;) {
        size_t child = 2u * root + 1u;
        uint32_t t;
        if (child >= n)
            return;
        if (child + 1u < n && tf__cmp(c, v[child], v[child + 1u]) < 0)
            child++;
        if (tf__cmp(c, v[root], v[child]) >= 0)
            return;
        t = v[root];
        v[root] = v[child];
        v[child] = t;
        root = child;
    }
}

static void tf__sort_run(const tf__sort_ctx *c, uint32_t *v, size_t n) {
    if (n <= TF__FSET_SMALL_RUN) {
        for (size_t i = 1; i < n; i++) {
            uint32_t x = v[i];
            size_t j = i;
            while (j > 0u && tf__cmp(c, v[j - 1u], x) > 0) {
                v[j] = v[j - 1u];
                j--;
            }
            v[j] = x;
        }
        return;
    }
    for (size_t i = n / 2u; i-- > 0u;)
        tf__sift(c, v, i, n);
    for (size_t end = n; end-- > 1u;) {
        uint32_t t = v[0];
        v[0] = v[end];
        v[end] = t;
        tf__sift(c, v, 0, end);
    }
}

/* Writes v as LEB128 (7 bits a byte, low first); returns its length. */
static size_t tf__store_varint(uint8_t *p, size_t v) {
    size_t n = 0;
    while (v >= 0x80u) {
        p[n++] = (uint8_t)(v | 0x80u);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* Copies a span section: n + 1 offsets of width w, then the bytes. */
static void tf__write_spans(uint8_t *offs, uint8_t *blob, unsigned w, const tf_fset_source *src, const uint32_t *order,
                            size_t n) {
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        tf_fspan s = src->span_value(src->ctx, order[i]);
        tf__store_u(offs + i * w, w, (uint64_t)at);
        if (s.len > 0u)
            TF_MEMCPY(blob + at, s.data, s.len);
        at += s.len;
    }
    tf__store_u(offs + n * w, w, (uint64_t)at);
}

/* Writes the block of the sorted, distinct entries perm[0 .. h->n) into b (l->total bytes). */
static void tf__write(const tf__sort_ctx *c, const uint32_t *perm, const tf__fset_hdr *h, const tf__fset_layout *l,
                      uint8_t *b) {
    const tf_fset_source *src = c->src;
    size_t nu = h->n;
    TF_MEMSET(b, 0, l->total); /* zero first so padding is deterministic */
    tf__fset_write_header(b, h, l->total);
    if (h->key_kind == TF_FSET_INT) {
        size_t i = 0, bk = nu > 0u ? tf__bucket((uint64_t)tf__hi_of(c, perm[0]) << 32, h->nb) : 0u;
        for (size_t k = 0; k <= h->nb; k++) {
            while (i < nu && bk < k) {
                i++;
                if (i < nu)
                    bk = tf__bucket((uint64_t)tf__hi_of(c, perm[i]) << 32, h->nb);
            }
            tf__store_u(b + l->index + k * h->index_w, h->index_w, (uint64_t)i);
        }
        for (i = 0; i < nu; i++)
            tf__store_u(b + l->keys + i * h->key_w, h->key_w, (uint64_t)src->int_key(src->ctx, perm[i]));
    } else if (h->key_kind != TF_FSET_NONE) {
        /* records in position order; each bucket's index entry holds its first position and record offset */
        size_t at = 0, i = 0;
        for (size_t k = 0; k <= h->nb; k++) {
            while (i < nu && tf__bucket((uint64_t)c->hi[perm[i]] << 32, h->nb) < k) {
                tf_fspan key = src->span_key(src->ctx, perm[i]);
                b[l->keys + at] = (uint8_t)tf_fset_hash_bytes(key.data, key.len); /* the fingerprint */
                at += 1u + tf__store_varint(b + l->keys + at + 1u, key.len);
                if (key.len > 0u)
                    TF_MEMCPY(b + l->keys + at, key.data, key.len);
                at += key.len;
                i++;
            }
            tf__store_u(b + l->index + 2u * k * h->index_w, h->index_w, (uint64_t)i);
            tf__store_u(b + l->index + (2u * k + 1u) * h->index_w, h->index_w, (uint64_t)at);
        }
    }
    if (h->value_kind == TF_FSET_INT) {
        for (size_t i = 0; i < nu; i++)
            tf__store_u(b + l->vals + i * h->value_w, h->value_w, (uint64_t)src->int_value(src->ctx, perm[i]));
    } else if (h->value_kind == TF_FSET_FLOAT) {
        for (size_t i = 0; i < nu; i++) {
            double d = src->float_value(src->ctx, perm[i]);
            uint64_t bits;
            TF_MEMCPY(&bits, &d, sizeof bits);
            tf__store_le64(b + l->vals + i * 8u, bits);
        }
    } else if (h->value_kind != TF_FSET_NONE) {
        tf__write_spans(b + l->vals, b + l->val_blob, h->value_w, src, perm, nu);
    }
    tf__store_le64(b + 8, tf_fset_checksum(b, l->total));
}

/* ---- build ------------------------------------------------------------------------------------------------ */

tf_status tf_fset_build_source(const tf_fset_source *src, void *scratch, size_t scratch_size, void *out,
                               size_t out_size, size_t *out_len) {
    tf__sort_ctx ctx;
    tf__stats s;
    tf__fset_hdr h;
    tf__fset_layout l;
    uint32_t *perm, *hi = NULL, *count;
    uint8_t *b = (uint8_t *)out;
    size_t n, nu, nbp, need, pad;

    if (!src || !out || !out_len || (!scratch && scratch_size > 0u))
        return TF_E_NULL;
    if (!tf__source_ok(src))
        return TF_E_ARG;
    n = src->count;
    need = tf_fset_source_scratch_size(src);
    if (need == 0u || scratch_size < need)
        return TF_E_SIZE;
    if (!TF_IS_ALIGNED(scratch, 8u))
        return TF_E_ALIGN;
    if (!tf__stats_of(src, NULL, n, &s))
        return TF_E_ARG;
    if (tf__in_place(src))
        return tf__fset_build_ints(src, &s, b, out_size, out_len);
    /* The counting sort's counts go in the output buffer, which holds nothing until the block is written: the
     * scratch is then only what the entries need. With a small buffer there are fewer, longer runs; the sorted
     * order, and the block, are the same. */
    pad = (size_t)((4u - ((uintptr_t)out & 3u)) & 3u);
    if (out_size < pad + 8u)
        return TF_E_SIZE;
    nbp = tf__sort_buckets(n);
    if (nbp > (out_size - pad) / 4u - 1u)
        nbp = (out_size - pad) / 4u - 1u;
    count = (uint32_t *)(void *)(b + pad);
    perm = (uint32_t *)scratch;
    if (src->key_kind != TF_FSET_INT)
        hi = perm + n;
    ctx.src = src;
    ctx.hi = hi;

    /* 1. counting sort on provisional buckets (one per two entries, so runs are tiny), then sort each run. */
    for (size_t i = 0; i <= nbp; i++)
        count[i] = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t x = (uint32_t)(tf__hash_of(src, i) >> 32);
        if (hi)
            hi[i] = x;
        count[tf__bucket((uint64_t)x << 32, nbp) + 1u]++;
    }
    for (size_t i = 1; i <= nbp; i++)
        count[i] += count[i - 1u];
    for (size_t i = 0; i < n; i++)
        perm[count[tf__bucket((uint64_t)tf__hi_of(&ctx, (uint32_t)i) << 32, nbp)]++] = (uint32_t)i;
    /* count[k] is now the end of run k, which is where run k + 1 starts */
    for (size_t k = 0, start = 0; k < nbp; start = count[k], k++)
        tf__sort_run(&ctx, perm + start, count[k] - start);

    /* 2. drop duplicates: a set keeps the first of a run of equal keys, a map the last given (dict semantics). */
    nu = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1u;
        while (j < n && tf__same_key(&ctx, perm[i], perm[j]))
            j++;
        perm[nu++] = src->is_map ? perm[j - 1u] : perm[i];
        i = j;
    }

    /* 3. the layout of exactly these entries (the stats of all entries serve when none was dropped) */
    if (nu < n)
        (void)tf__stats_of(src, perm, nu, &s);
    tf__fset_plan(src, &s, &h);
    if (!tf__fset_layout_of(&h, &l))
        return TF_E_ARG;
    if (out_size < l.total)
        return TF_E_SIZE;

    /* 4. write */
    tf__write(&ctx, perm, &h, &l, b);
    *out_len = l.total;
    return TF_OK;
}

tf_status tf_fset_build(const tf_fset_input *in, void *scratch, size_t scratch_size, void *out, size_t out_size,
                        size_t *out_len) {
    tf_fset_input copy;
    tf_fset_source src;
    size_t need;
    if (!in || !out || !out_len || (!scratch && scratch_size > 0u))
        return TF_E_NULL;
    tf__array_source(in, &copy, &src);
    if (!tf__source_ok(&src))
        return TF_E_ARG;
    need = tf_fset_scratch_size(in->count);
    if (need == 0u || scratch_size < need)
        return TF_E_SIZE;
    return tf_fset_build_source(&src, scratch, scratch_size, out, out_size, out_len);
}
