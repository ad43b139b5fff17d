/* thrifty core — frozen sets and maps (fset.h): building a block (tf_fset_bound, tf_fset_build). Shared with the
 * lookups and the validation: fset_internal.h. */
#include "fset_internal.h"

/* Buckets at or below this size are sorted by insertion, bigger ones (only adversarial inputs make them) by heap
 * sort, so the build stays O(n log n) in the worst case without recursion or allocation. */
#define TF__FSET_SMALL_RUN 16u

/* The narrowest of 1/2/4/8 bytes holding every one of v[perm[0 .. n)] (n >= 1): keys and int values alike. */
static unsigned tf__int_width(const int64_t *v, const uint32_t *perm, size_t n, int64_t *min, int64_t *max) {
    int64_t lo = v[perm[0]], hi = lo;
    for (size_t i = 1; i < n; i++) {
        lo = v[perm[i]] < lo ? v[perm[i]] : lo;
        hi = v[perm[i]] > hi ? v[perm[i]] : hi;
    }
    *min = lo;
    *max = hi;
    if (lo >= INT8_MIN && hi <= INT8_MAX)
        return 1;
    if (lo >= INT16_MIN && hi <= INT16_MAX)
        return 2;
    if (lo >= INT32_MIN && hi <= INT32_MAX)
        return 4;
    return 8;
}

static void tf__write_header(uint8_t *b, const tf__fset_hdr *h, size_t total) {
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

/* ---- build ------------------------------------------------------------------------------------------------ */

/* Provisional buckets of the build's counting sort: about one for every two entries, so runs stay short (sorted by
 * insertion) while the counts take 2 bytes an entry. */
static size_t tf__sort_buckets(size_t count) { return count / 2u + 1u; }

size_t tf_fset_scratch_size(size_t count) {
    /* a position and a hash half an entry, then the counting sort's counts */
    if (count > (SIZE_MAX - 16u) / 12u)
        return 0;
    return 8u * count + 4u * (tf__sort_buckets(count) + 1u) + 8u;
}

static int tf__input_ok(const tf_fset_input *in) {
    if (in->count > UINT32_MAX || (in->is_map != 0 && in->is_map != 1))
        return 0;
    if (in->count == 0u)
        return 1;
    if (in->key_kind == TF_FSET_INT ? !in->int_keys : !tf__is_span((unsigned)in->key_kind) || !in->span_keys)
        return 0;
    if (!in->is_map)
        return in->value_kind == TF_FSET_NONE;
    switch (in->value_kind) {
    case TF_FSET_INT: return in->int_values != NULL;
    case TF_FSET_FLOAT: return in->float_values != NULL;
    case TF_FSET_STR:
    case TF_FSET_BYTES: return in->span_values != NULL;
    default: return 0;
    }
}

/* Sum of span lengths (records = 0) or of key record lengths (records = 1); 0 with *ok = 0 when it exceeds
 * UINT32_MAX (the format's offsets are at most 32 bits). */
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
    size_t load;
    int ok = 1;
    if (!in || !tf__input_ok(in))
        return 0;
    TF_MEMSET(&h, 0, sizeof h);
    h.n = in->count;
    /* the builder's bucket count for `count` distinct keys (duplicates only lower it), so the bound stays within a
     * few bytes a key of the block: a caller that allocates the bound pays little more than the table */
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

typedef struct {
    const tf_fset_input *in;
    const uint32_t *hi; /* the high half of each entry's hash: what bucket placement and most comparisons need */
} tf__sort_ctx;

/* The hash of entry i, computed again where the low half is needed (a tie of high halves, a str key's fingerprint,
 * written when its bytes are copied anyway) rather than kept: 8 bytes an entry of scratch would be most of what a
 * build holds beyond the block it writes. The high half is kept (4 bytes an entry): computing it again would read
 * every str key several times, each a likely cache miss. */
static uint64_t tf__hash_of(const tf_fset_input *in, uint32_t i) {
    return in->key_kind == TF_FSET_INT ? tf_fset_hash_int(in->int_keys[i])
                                       : tf_fset_hash_bytes(in->span_keys[i].data, in->span_keys[i].len);
}

/* Total order of entries: hash, then key (str/bytes only: int hashes are a bijection), then input position — so
 * the sorted order, and with it the block, does not depend on the input order except through "last one wins". */
static int tf__cmp(const tf__sort_ctx *c, uint32_t a, uint32_t b) {
    uint64_t ha, hb;
    if (c->hi[a] != c->hi[b])
        return c->hi[a] < c->hi[b] ? -1 : 1;
    ha = tf__hash_of(c->in, a);
    hb = tf__hash_of(c->in, b);
    if (ha != hb)
        return ha < hb ? -1 : 1;
    if (c->in->key_kind != TF_FSET_INT) {
        const tf_fspan *ka = &c->in->span_keys[a], *kb = &c->in->span_keys[b];
        if (ka->len != kb->len)
            return ka->len < kb->len ? -1 : 1;
        if (ka->len > 0u) {
            int r = TF_MEMCMP(ka->data, kb->data, ka->len);
            if (r != 0)
                return r;
        }
    }
    return a < b ? -1 : (a > b ? 1 : 0);
}

static int tf__same_key(const tf__sort_ctx *c, uint32_t a, uint32_t b) {
    const tf_fspan *ka, *kb;
    if (c->in->key_kind == TF_FSET_INT)
        return c->in->int_keys[a] == c->in->int_keys[b];
    ka = &c->in->span_keys[a];
    kb = &c->in->span_keys[b];
    return ka->len == kb->len && (ka->len == 0u || TF_MEMCMP(ka->data, kb->data, ka->len) == 0);
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
static void tf__write_spans(uint8_t *offs, uint8_t *blob, unsigned w, const tf_fspan *spans, const uint32_t *order,
                            size_t n) {
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        const tf_fspan *s = &spans[order[i]];
        tf__store_u(offs + i * w, w, (uint64_t)at);
        if (s->len > 0u)
            TF_MEMCPY(blob + at, s->data, s->len);
        at += s->len;
    }
    tf__store_u(offs + n * w, w, (uint64_t)at);
}

tf_status tf_fset_build(const tf_fset_input *in, void *scratch, size_t scratch_size, void *out, size_t out_size,
                        size_t *out_len) {
    tf__sort_ctx ctx;
    tf__fset_hdr h;
    tf__fset_layout l;
    uint32_t *perm, *hi, *count;
    uint8_t *b = (uint8_t *)out;
    size_t n = 0, nu, nbp, need, load;
    int ok = 1;

    if (!in || !out || !out_len || (!scratch && scratch_size > 0u))
        return TF_E_NULL;
    if (!tf__input_ok(in))
        return TF_E_ARG;
    n = in->count;
    need = tf_fset_scratch_size(n);
    if (need == 0u || scratch_size < need)
        return TF_E_SIZE;
    if (!TF_IS_ALIGNED(scratch, 8u))
        return TF_E_ALIGN;
    if (in->key_kind != TF_FSET_INT && n > 0u)
        (void)tf__span_total(in->span_keys, n, 1, &ok);
    if (in->is_map && tf__is_span((unsigned)in->value_kind) && n > 0u)
        (void)tf__span_total(in->span_values, n, 0, &ok);
    if (!ok)
        return TF_E_ARG;

    perm = (uint32_t *)scratch;
    hi = perm + n;
    count = hi + n;
    ctx.in = in;
    ctx.hi = hi;

    /* 1. counting sort on provisional buckets (one per two entries, so runs are tiny), then sort each run. */
    nbp = tf__sort_buckets(n);
    for (size_t i = 0; i <= nbp; i++)
        count[i] = 0;
    for (size_t i = 0; i < n; i++) {
        hi[i] = (uint32_t)(tf__hash_of(in, (uint32_t)i) >> 32);
        count[tf__bucket((uint64_t)hi[i] << 32, nbp) + 1u]++;
    }
    for (size_t i = 1; i <= nbp; i++)
        count[i] += count[i - 1u];
    for (size_t i = 0; i < n; i++)
        perm[count[tf__bucket((uint64_t)hi[i] << 32, nbp)]++] = (uint32_t)i;
    /* count[k] is now the end of run k, which is where run k + 1 starts */
    for (size_t k = 0, start = 0; k < nbp; start = count[k], k++)
        tf__sort_run(&ctx, perm + start, count[k] - start);

    /* 2. drop duplicates: a set keeps the first of a run of equal keys, a map the last given (dict semantics). */
    nu = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1u;
        while (j < n && tf__same_key(&ctx, perm[i], perm[j]))
            j++;
        perm[nu++] = in->is_map ? perm[j - 1u] : perm[i];
        i = j;
    }

    /* 3. the layout of exactly these entries */
    TF_MEMSET(&h, 0, sizeof h);
    h.n = nu;
    load = in->key_kind == TF_FSET_INT ? (size_t)TF_FSET_LOAD : (size_t)TF_FSET_SPAN_LOAD;
    h.nb = nu == 0u ? 1u : (nu + load - 1u) / load;
    h.is_map = (unsigned)in->is_map;
    if (nu > 0u) {
        h.key_kind = (unsigned)in->key_kind;
        if (in->is_map)
            h.value_kind = (unsigned)in->value_kind;
    }
    if (h.key_kind == TF_FSET_INT) {
        int64_t lo, hi;
        h.key_w = tf__int_width(in->int_keys, perm, nu, &lo, &hi);
    } else if (h.key_kind != TF_FSET_NONE) {
        for (size_t i = 0; i < nu; i++)
            h.key_blob_len += tf__record_len(in->span_keys[perm[i]].len);
    }
    h.index_w = tf__offset_width(nu > h.key_blob_len ? nu : h.key_blob_len);
    if (h.value_kind == TF_FSET_INT) {
        int64_t lo, hi;
        h.value_w = tf__int_width(in->int_values, perm, nu, &lo, &hi);
        /* values that are never negative (counts, ids, sizes) zero-extended: 0..255 in 1 byte, 0..65535 in 2 */
        if (lo >= 0 && h.value_w > 1u) {
            unsigned uw = hi <= 0xFF ? 1u : hi <= 0xFFFF ? 2u : hi <= 0xFFFFFFFF ? 4u : 8u;
            if (uw < h.value_w) {
                h.value_w = uw;
                h.value_unsigned = 1u;
            }
        }
    } else if (h.value_kind == TF_FSET_FLOAT) {
        h.value_w = 8u;
    } else if (h.value_kind != TF_FSET_NONE) {
        for (size_t i = 0; i < nu; i++)
            h.val_blob_len += in->span_values[perm[i]].len;
        h.value_w = tf__offset_width(h.val_blob_len);
    }
    /* the oldest version that describes the block, so readers of version 1 read all they can */
    h.version = h.index_w == 3u || (tf__is_span(h.value_kind) && h.value_w == 3u) || h.value_unsigned
                    ? TF__FSET_VERSION
                    : TF__FSET_VERSION_MIN;
    if (!tf__fset_layout_of(&h, &l))
        return TF_E_ARG;
    if (out_size < l.total)
        return TF_E_SIZE;

    /* 4. write: zero first so padding is deterministic */
    TF_MEMSET(b, 0, l.total);
    tf__write_header(b, &h, l.total);
    if (h.key_kind == TF_FSET_INT) {
        for (size_t k = 0, i = 0; k <= h.nb; k++) {
            while (i < nu && tf__bucket((uint64_t)hi[perm[i]] << 32, h.nb) < k)
                i++;
            tf__store_u(b + l.index + k * h.index_w, h.index_w, (uint64_t)i);
        }
        for (size_t i = 0; i < nu; i++)
            tf__store_u(b + l.keys + i * h.key_w, h.key_w, (uint64_t)in->int_keys[perm[i]]);
    } else {
        /* records in position order; each bucket's index entry holds its first position and record offset */
        size_t at = 0, i = 0;
        for (size_t k = 0; k <= h.nb; k++) {
            while (i < nu && tf__bucket((uint64_t)hi[perm[i]] << 32, h.nb) < k) {
                const tf_fspan *key = &in->span_keys[perm[i]];
                b[l.keys + at] = (uint8_t)tf__hash_of(in, perm[i]); /* the fingerprint */
                at += 1u + tf__store_varint(b + l.keys + at + 1u, key->len);
                if (key->len > 0u)
                    TF_MEMCPY(b + l.keys + at, key->data, key->len);
                at += key->len;
                i++;
            }
            tf__store_u(b + l.index + 2u * k * h.index_w, h.index_w, (uint64_t)i);
            tf__store_u(b + l.index + (2u * k + 1u) * h.index_w, h.index_w, (uint64_t)at);
        }
    }
    if (h.value_kind == TF_FSET_INT) {
        for (size_t i = 0; i < nu; i++)
            tf__store_u(b + l.vals + i * h.value_w, h.value_w, (uint64_t)in->int_values[perm[i]]);
    } else if (h.value_kind == TF_FSET_FLOAT) {
        for (size_t i = 0; i < nu; i++) {
            uint64_t bits;
            TF_MEMCPY(&bits, &in->float_values[perm[i]], sizeof bits);
            tf__store_le64(b + l.vals + i * 8u, bits);
        }
    } else if (h.value_kind != TF_FSET_NONE) {
        tf__write_spans(b + l.vals, b + l.val_blob, h.value_w, in->span_values, perm, nu);
    }
    tf__store_le64(b + 8, tf_fset_checksum(b, l.total));
    *out_len = l.total;
    return TF_OK;
}
