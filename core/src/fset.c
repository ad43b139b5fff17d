/* thrifty core — frozen sets and maps (fset.h): build, validate, look up. Format: docs/format-frozen.md. */
#include "thrifty/fset.h"

#define TF__FSET_MAGIC0 0x54u /* "TFRZ" */
#define TF__FSET_MAGIC1 0x46u
#define TF__FSET_MAGIC2 0x52u
#define TF__FSET_MAGIC3 0x5Au
#define TF__FSET_VERSION 1u
#define TF__FSET_SET 1u
#define TF__FSET_MAP 2u

/* Buckets at or below this size are sorted by insertion, bigger ones (only adversarial inputs make them) by heap
 * sort, so the build stays O(n log n) in the worst case without recursion or allocation. */
#define TF__FSET_SMALL_RUN 16u

#define TF__K1 0x9E3779B97F4A7C15u
#define TF__K2 0xBF58476D1CE4E5B9u
#define TF__K3 0x94D049BB133111EBu
#define TF__K4 0xD6E8FEB86659FD93u

TF_STATIC_ASSERT(TF_FSET_LOAD >= 1 && TF_FSET_SPAN_LOAD >= 1, fset_load_positive);

/* ---- hashing --------------------------------------------------------------------------------------------- */

static inline uint64_t tf__mix64(uint64_t x) {
    x ^= x >> 30;
    x *= TF__K2;
    x ^= x >> 27;
    x *= TF__K3;
    x ^= x >> 31;
    return x;
}

static inline uint64_t tf__rotl(uint64_t x, unsigned r) { return (x << r) | (x >> (64u - r)); }

/* A bijection of int64: equal hashes mean equal keys, which the build's tie-breaks rely on. */
uint64_t tf_fset_hash_int(int64_t key) { return tf__mix64((uint64_t)key + TF__K1); }

uint64_t tf_fset_hash_bytes(const void *data, size_t len) {
    const uint8_t *p = (const uint8_t *)data;
    uint64_t h = TF__K4 ^ ((uint64_t)len * TF__K1);
    uint64_t last;
    if (len > 8u) {
        size_t left = len;
        while (left > 8u) {
            h = (h ^ tf__load_le64(p)) * TF__K2;
            h ^= h >> 29;
            p += 8;
            left -= 8u;
        }
        last = tf__load_le64(p + left - 8u); /* overlaps the previous word; the length is already mixed in */
    } else if (len >= 4u) {
        last = (uint64_t)tf__load_le32(p) | ((uint64_t)tf__load_le32(p + len - 4u) << 32);
    } else if (len > 0u) {
        last = (uint64_t)p[0] | ((uint64_t)p[len / 2u] << 8) | ((uint64_t)p[len - 1u] << 16);
    } else {
        last = 0;
    }
    return tf__mix64((h ^ last) * TF__K3);
}

uint64_t tf_fset_checksum(const void *block, size_t size) {
    const uint8_t *p = (const uint8_t *)block;
    uint64_t seed, v0, v1, v2, v3, h;
    size_t left;
    if (size < 16u)
        return 0;
    seed = tf__load_le64(p);
    p += 16;
    left = size - 16u;
    /* Four independent lanes so the multiplies overlap: the checksum must not dominate opening a big table. */
    v0 = seed + TF__K1;
    v1 = seed ^ TF__K2;
    v2 = seed - TF__K1;
    v3 = seed ^ TF__K4;
    while (left >= 32u) {
        v0 = tf__rotl(v0 + tf__load_le64(p) * TF__K3, 31) * TF__K1;
        v1 = tf__rotl(v1 + tf__load_le64(p + 8) * TF__K3, 31) * TF__K1;
        v2 = tf__rotl(v2 + tf__load_le64(p + 16) * TF__K3, 31) * TF__K1;
        v3 = tf__rotl(v3 + tf__load_le64(p + 24) * TF__K3, 31) * TF__K1;
        p += 32;
        left -= 32u;
    }
    h = tf__rotl(v0, 1) + tf__rotl(v1, 7) + tf__rotl(v2, 12) + tf__rotl(v3, 18);
    while (left >= 8u) {
        h = tf__rotl(h ^ (tf__load_le64(p) * TF__K3), 27) * TF__K1 + TF__K4;
        p += 8;
        left -= 8u;
    }
    while (left > 0u) {
        h = tf__rotl(h ^ ((uint64_t)*p * TF__K2), 11) * TF__K1;
        p++;
        left--;
    }
    return tf__mix64(h ^ (uint64_t)size);
}

/* The bucket of a hash among nb: the high 32 bits scaled to nb, so it is monotonic in the hash for any nb. */
static inline size_t tf__bucket(uint64_t h, size_t nb) { return (size_t)(((h >> 32) * (uint64_t)nb) >> 32); }

/* ---- little-endian fields of any width ------------------------------------------------------------------ */

static inline uint64_t tf__load_u(const uint8_t *p, unsigned w) {
    switch (w) {
    case 1: return p[0];
    case 2: return tf__load_le16(p);
    case 4: return tf__load_le32(p);
    default: return tf__load_le64(p);
    }
}

/* Two's complement sign extension without relying on implementation-defined conversions. */
static inline int64_t tf__to_signed(uint64_t u, unsigned w) {
    if (w < 8u) {
        uint64_t sign = (uint64_t)1 << (8u * w - 1u);
        u = (u ^ sign) - sign;
    }
    if (u <= (uint64_t)INT64_MAX)
        return (int64_t)u;
    return -(int64_t)(~u) - 1;
}

static inline void tf__store_u(uint8_t *p, unsigned w, uint64_t v) {
    switch (w) {
    case 1: p[0] = (uint8_t)v; break;
    case 2: tf__store_le16(p, (uint16_t)v); break;
    case 4: tf__store_le32(p, (uint32_t)v); break;
    default: tf__store_le64(p, v); break;
    }
}

/* The narrowest of 1/2/4/8 bytes holding every value in [lo, hi]. */
static unsigned tf__int_width(int64_t lo, int64_t hi) {
    if (lo >= INT8_MIN && hi <= INT8_MAX)
        return 1;
    if (lo >= INT16_MIN && hi <= INT16_MAX)
        return 2;
    if (lo >= INT32_MIN && hi <= INT32_MAX)
        return 4;
    return 8;
}

static inline int tf__fits(int64_t v, unsigned w) {
    switch (w) {
    case 1: return v >= INT8_MIN && v <= INT8_MAX;
    case 2: return v >= INT16_MIN && v <= INT16_MAX;
    case 4: return v >= INT32_MIN && v <= INT32_MAX;
    default: return 1;
    }
}

/* ---- layout: a pure function of the header fields, shared by build and validate ------------------------- */

typedef struct {
    size_t n, nb, key_blob_len, val_blob_len;
    unsigned is_map, key_kind, value_kind, index_w, key_w, value_w;
} tf__fset_hdr;

typedef struct {
    size_t index, keys, vals, val_blob, total;
} tf__fset_layout;

/* Appends a section of count * width bytes at *off (8-aligned afterwards). 0 on size_t overflow. */
static int tf__section(size_t *off, size_t count, size_t width, size_t *start) {
    size_t bytes;
    if (width != 0u && count > SIZE_MAX / width)
        return 0;
    bytes = count * width;
    if (bytes > SIZE_MAX - *off - 7u)
        return 0;
    *start = *off;
    *off = (*off + bytes + 7u) & ~(size_t)7u;
    return 1;
}

static int tf__is_span(unsigned kind) { return kind == TF_FSET_STR || kind == TF_FSET_BYTES; }

/* Index fields per bucket: the run start, and for str/bytes keys also the run's offset into the key records. */
static size_t tf__index_fields(unsigned key_kind) { return tf__is_span(key_kind) ? 2u : 1u; }

/* Bytes of the LEB128 length prefix of a key record (at most 5 for a 32-bit length). */
static size_t tf__varint_len(size_t v) {
    size_t n = 1;
    while (v >= 0x80u) {
        v >>= 7;
        n++;
    }
    return n;
}

/* Bytes of one key record: fingerprint, length prefix, key bytes. */
static size_t tf__record_len(size_t len) { return 1u + tf__varint_len(len) + len; }

static int tf__layout(const tf__fset_hdr *h, tf__fset_layout *l) {
    size_t off = TF_FSET_HEADER_SIZE;
    TF_MEMSET(l, 0, sizeof *l);
    if (h->n >= SIZE_MAX || h->nb >= SIZE_MAX / 2u ||
        !tf__section(&off, (h->nb + 1u) * tf__index_fields(h->key_kind), h->index_w, &l->index))
        return 0;
    if (h->key_kind == TF_FSET_INT) {
        if (!tf__section(&off, h->n, h->key_w, &l->keys))
            return 0;
    } else if (tf__is_span(h->key_kind)) {
        if (!tf__section(&off, h->key_blob_len, 1u, &l->keys))
            return 0;
    }
    if (h->value_kind == TF_FSET_INT || h->value_kind == TF_FSET_FLOAT) {
        if (!tf__section(&off, h->n, h->value_w, &l->vals))
            return 0;
    } else if (tf__is_span(h->value_kind)) {
        if (!tf__section(&off, h->n + 1u, h->value_w, &l->vals) ||
            !tf__section(&off, h->val_blob_len, 1u, &l->val_blob))
            return 0;
    }
    l->total = off;
    return 1;
}

static void tf__write_header(uint8_t *b, const tf__fset_hdr *h, size_t total) {
    TF_MEMSET(b, 0, TF_FSET_HEADER_SIZE);
    b[0] = TF__FSET_MAGIC0;
    b[1] = TF__FSET_MAGIC1;
    b[2] = TF__FSET_MAGIC2;
    b[3] = TF__FSET_MAGIC3;
    b[4] = TF__FSET_VERSION;
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
    tf__store_le32(b + 36, (uint32_t)h->key_blob_len);
    tf__store_le32(b + 40, (uint32_t)h->val_blob_len);
}

/* ---- build ------------------------------------------------------------------------------------------------ */

size_t tf_fset_scratch_size(size_t count) {
    if (count > (SIZE_MAX - 16u) / 16u)
        return 0;
    return 16u * count + 16u;
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
    int ok = 1;
    if (!in || !tf__input_ok(in))
        return 0;
    TF_MEMSET(&h, 0, sizeof h);
    h.n = in->count;
    h.nb = in->count == 0u ? 1u : in->count; /* more buckets than the builder ever uses */
    h.index_w = 4;
    h.key_kind = in->count ? (unsigned)in->key_kind : TF_FSET_NONE;
    h.key_w = in->key_kind == TF_FSET_INT ? 8u : 0u;
    if (tf__is_span(h.key_kind))
        h.key_blob_len = tf__span_total(in->span_keys, in->count, 1, &ok);
    h.value_kind = in->count ? (unsigned)in->value_kind : TF_FSET_NONE;
    h.value_w = 8u;
    if (tf__is_span(h.value_kind))
        h.val_blob_len = tf__span_total(in->span_values, in->count, 0, &ok);
    if (!ok || !tf__layout(&h, &l))
        return 0;
    return l.total;
}

typedef struct {
    const tf_fset_input *in;
    const uint64_t *hash;
} tf__sort_ctx;

/* Total order of entries: hash, then key (str/bytes only: int hashes are a bijection), then input position — so
 * the sorted order, and with it the block, does not depend on the input order except through "last one wins". */
static int tf__cmp(const tf__sort_ctx *c, uint32_t a, uint32_t b) {
    if (c->hash[a] != c->hash[b])
        return c->hash[a] < c->hash[b] ? -1 : 1;
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
    if (c->hash[a] != c->hash[b])
        return 0;
    if (c->in->key_kind == TF_FSET_INT)
        return 1;
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
    uint64_t *hash;
    uint32_t *perm, *count;
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

    hash = (uint64_t *)scratch;
    perm = (uint32_t *)(hash + n);
    count = perm + n;
    ctx.in = in;
    ctx.hash = hash;

    /* 1. hash every entry, counting sort on provisional buckets (one per entry, so runs are tiny), sort runs. */
    nbp = n == 0u ? 1u : n;
    for (size_t i = 0; i <= nbp; i++)
        count[i] = 0;
    for (size_t i = 0; i < n; i++) {
        hash[i] = in->key_kind == TF_FSET_INT ? tf_fset_hash_int(in->int_keys[i])
                                              : tf_fset_hash_bytes(in->span_keys[i].data, in->span_keys[i].len);
        count[tf__bucket(hash[i], nbp) + 1u]++;
    }
    for (size_t i = 1; i <= nbp; i++)
        count[i] += count[i - 1u];
    for (size_t i = 0; i < n; i++)
        perm[count[tf__bucket(hash[i], nbp)]++] = (uint32_t)i;
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
        int64_t lo = in->int_keys[perm[0]], hi = lo;
        for (size_t i = 1; i < nu; i++) {
            int64_t v = in->int_keys[perm[i]];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        h.key_w = tf__int_width(lo, hi);
    } else if (h.key_kind != TF_FSET_NONE) {
        for (size_t i = 0; i < nu; i++)
            h.key_blob_len += tf__record_len(in->span_keys[perm[i]].len);
    }
    h.index_w = nu <= 0xFFFFu && h.key_blob_len <= 0xFFFFu ? 2u : 4u;
    if (h.value_kind == TF_FSET_INT) {
        int64_t lo = in->int_values[perm[0]], hi = lo;
        for (size_t i = 1; i < nu; i++) {
            int64_t v = in->int_values[perm[i]];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        h.value_w = tf__int_width(lo, hi);
    } else if (h.value_kind == TF_FSET_FLOAT) {
        h.value_w = 8u;
    } else if (h.value_kind != TF_FSET_NONE) {
        for (size_t i = 0; i < nu; i++)
            h.val_blob_len += in->span_values[perm[i]].len;
        h.value_w = h.val_blob_len <= 0xFFFFu ? 2u : 4u;
    }
    if (!tf__layout(&h, &l))
        return TF_E_ARG;
    if (out_size < l.total)
        return TF_E_SIZE;

    /* 4. write: zero first so padding is deterministic */
    TF_MEMSET(b, 0, l.total);
    tf__write_header(b, &h, l.total);
    if (h.key_kind == TF_FSET_INT) {
        for (size_t k = 0, i = 0; k <= h.nb; k++) {
            while (i < nu && tf__bucket(hash[perm[i]], h.nb) < k)
                i++;
            tf__store_u(b + l.index + k * h.index_w, h.index_w, (uint64_t)i);
        }
        for (size_t i = 0; i < nu; i++)
            tf__store_u(b + l.keys + i * h.key_w, h.key_w, (uint64_t)in->int_keys[perm[i]]);
    } else {
        /* records in position order; each bucket's index entry holds its first position and record offset */
        size_t at = 0, i = 0;
        for (size_t k = 0; k <= h.nb; k++) {
            while (i < nu && tf__bucket(hash[perm[i]], h.nb) < k) {
                const tf_fspan *key = &in->span_keys[perm[i]];
                b[l.keys + at] = (uint8_t)hash[perm[i]];
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

/* ---- validate -------------------------------------------------------------------------------------------- */

static tf_status tf__corrupt(const char **why, const char *what) {
    if (why)
        *why = what;
    return TF_E_CORRUPT;
}

/* The n + 1 entries of width w at p start at 0, never decrease and end at `last`. */
static int tf__monotonic(const uint8_t *p, unsigned w, size_t n, uint64_t last) {
    uint64_t prev = tf__load_u(p, w);
    if (prev != 0u)
        return 0;
    for (size_t i = 1; i <= n; i++) {
        uint64_t v = tf__load_u(p + i * w, w);
        if (v < prev)
            return 0;
        prev = v;
    }
    return prev == last;
}

/* Reads the key record at *at in keys[0 .. len): its fingerprint and key bytes; advances *at past it. 0 when the
 * record does not fit (so reads of a block changed after validation stop instead of running out). */
static inline int tf__record(const uint8_t *keys, size_t len, size_t *at, uint8_t *fp, tf_fspan *key) {
    size_t p = *at, klen = 0;
    unsigned shift = 0;
    if (p >= len)
        return 0;
    *fp = keys[p++];
    for (;;) {
        uint8_t byte;
        if (p >= len || shift > 28u)
            return 0;
        byte = keys[p++];
        klen |= (size_t)(byte & 0x7Fu) << shift;
        if (!(byte & 0x80u))
            break;
        shift += 7u;
    }
    if (klen > len - p)
        return 0;
    key->data = keys + p;
    key->len = klen;
    *at = p + klen;
    return 1;
}

/* Span-key tables: the (position, record offset) index pairs start at (0, 0), positions never decrease, and walking
 * each bucket's records from its offset lands exactly on the next bucket's offset, ending at the region's end. */
static int tf__records_ok(const uint8_t *index, unsigned w, size_t nb, size_t n, const uint8_t *keys, size_t len) {
    size_t at = 0, pos = 0;
    if (tf__load_u(index, w) != 0u || tf__load_u(index + w, w) != 0u)
        return 0;
    for (size_t k = 1; k <= nb; k++) {
        uint64_t next = tf__load_u(index + 2u * k * w, w), off = tf__load_u(index + (2u * k + 1u) * w, w);
        if (next < pos || next > n)
            return 0;
        for (; pos < next; pos++) {
            uint8_t fp;
            tf_fspan key;
            if (!tf__record(keys, len, &at, &fp, &key))
                return 0;
        }
        if (off != at)
            return 0;
    }
    return pos == n && at == len;
}

static int tf__width_ok(unsigned kind, unsigned w, size_t blob_len) {
    switch (kind) {
    case TF_FSET_NONE: return w == 0u && blob_len == 0u;
    case TF_FSET_INT: return (w == 1u || w == 2u || w == 4u || w == 8u) && blob_len == 0u;
    case TF_FSET_FLOAT: return w == 8u && blob_len == 0u;
    case TF_FSET_STR:
    case TF_FSET_BYTES: return (w == 2u && blob_len <= 0xFFFFu) || w == 4u;
    default: return 0;
    }
}

tf_status tf_fset_validate(tf_fset *t, const void *block, size_t size, const char **why) {
    const uint8_t *b = (const uint8_t *)block;
    tf__fset_hdr h;
    tf__fset_layout l;
    uint64_t total;
    if (why)
        *why = "";
    if (!t || (!block && size > 0u))
        return TF_E_NULL;
    TF_MEMSET(t, 0, sizeof *t);
    if (size < TF_FSET_HEADER_SIZE)
        return tf__corrupt(why, "truncated: shorter than the 48-byte header");
    if (b[0] != TF__FSET_MAGIC0 || b[1] != TF__FSET_MAGIC1 || b[2] != TF__FSET_MAGIC2 || b[3] != TF__FSET_MAGIC3)
        return tf__corrupt(why, "wrong magic: not a frozen table (expected \"TFRZ\")");
    if (b[4] != TF__FSET_VERSION) {
        if (why)
            *why = "unsupported format version (this build reads version 1)";
        return TF_E_VERSION;
    }
    TF_MEMSET(&h, 0, sizeof h);
    if (b[5] != TF__FSET_SET && b[5] != TF__FSET_MAP)
        return tf__corrupt(why, "bad table type (expected 1 = set or 2 = map)");
    h.is_map = b[5] == TF__FSET_MAP;
    h.key_kind = b[6];
    h.value_kind = b[7];
    total = tf__load_le64(b + 16);
    h.n = tf__load_le32(b + 24);
    h.nb = tf__load_le32(b + 28);
    h.index_w = b[32];
    h.key_w = b[33];
    h.value_w = b[34];
    h.key_blob_len = tf__load_le32(b + 36);
    h.val_blob_len = tf__load_le32(b + 40);
    if (total != (uint64_t)size)
        return tf__corrupt(why, total > (uint64_t)size ? "truncated: shorter than the size in its header"
                                                       : "trailing bytes after the size in its header");
    if (b[35] != 0u || tf__load_le32(b + 44) != 0u)
        return tf__corrupt(why, "reserved header bytes are not zero");
    if (h.key_kind > TF_FSET_BYTES || h.value_kind > TF_FSET_FLOAT)
        return tf__corrupt(why, "unknown key or value kind");
    if ((h.n == 0u) != (h.key_kind == TF_FSET_NONE))
        return tf__corrupt(why, "key kind does not match the entry count");
    if (h.is_map ? (h.n == 0u) != (h.value_kind == TF_FSET_NONE) : h.value_kind != TF_FSET_NONE)
        return tf__corrupt(why, "value kind does not match the table type and entry count");
    if (tf__is_span(h.key_kind) ? h.key_w != 0u : !tf__width_ok(h.key_kind, h.key_w, h.key_blob_len))
        return tf__corrupt(why, "bad key width");
    if (!tf__width_ok(h.value_kind, h.value_w, h.val_blob_len))
        return tf__corrupt(why, "bad value width");
    if (h.nb == 0u || !((h.index_w == 2u && h.n <= 0xFFFFu && h.key_blob_len <= 0xFFFFu) || h.index_w == 4u))
        return tf__corrupt(why, "bad bucket count or index width");
    if (!tf__layout(&h, &l) || l.total != size)
        return tf__corrupt(why, "section sizes do not add up to the block size");
    if (tf__load_le64(b + 8) != tf_fset_checksum(b, size))
        return tf__corrupt(why, "checksum mismatch: the block is damaged or was not written by tobytes()");
    if (tf__is_span(h.key_kind)) {
        if (!tf__records_ok(b + l.index, h.index_w, h.nb, h.n, b + l.keys, h.key_blob_len))
            return tf__corrupt(why, "inconsistent bucket index or key records");
    } else if (!tf__monotonic(b + l.index, h.index_w, h.nb, (uint64_t)h.n)) {
        return tf__corrupt(why, "inconsistent bucket index");
    }
    if (tf__is_span(h.value_kind) && !tf__monotonic(b + l.vals, h.value_w, h.n, (uint64_t)h.val_blob_len))
        return tf__corrupt(why, "inconsistent value offsets");

    t->base = b;
    t->size = size;
    t->n = h.n;
    t->nb = h.nb;
    t->is_map = (uint8_t)h.is_map;
    t->key_kind = (uint8_t)h.key_kind;
    t->value_kind = (uint8_t)h.value_kind;
    t->index_w = (uint8_t)h.index_w;
    t->key_w = (uint8_t)h.key_w;
    t->value_w = (uint8_t)h.value_w;
    t->index = b + l.index;
    t->keys = b + l.keys;
    t->keys_len = h.key_blob_len;
    t->vals = b + l.vals;
    t->val_blob = b + l.val_blob;
    t->val_blob_len = h.val_blob_len;
    return TF_OK;
}

/* ---- reads ----------------------------------------------------------------------------------------------- */

size_t tf_fset_count(const tf_fset *t) { return t ? t->n : 0u; }
int tf_fset_key_kind(const tf_fset *t) { return t ? t->key_kind : TF_FSET_NONE; }
int tf_fset_value_kind(const tf_fset *t) { return t ? t->value_kind : TF_FSET_NONE; }
int tf_fset_is_map(const tf_fset *t) { return t ? t->is_map : 0; }

/* Index field i. Index fields are 2 or 4 bytes wide (validated), so one predictable compare picks the load. */
static inline uint64_t tf__index_field(const tf_fset *t, size_t i) {
    return t->index_w == 2u ? tf__load_le16(t->index + 2u * i) : tf__load_le32(t->index + 4u * i);
}

/* The run [*lo, *hi) of bucket k (and, for span keys, its record offset), clamped to the block so that a block
 * changed after validation cannot send reads out of it. */
static inline void tf__run(const tf_fset *t, size_t k, size_t *lo, size_t *hi, size_t *off) {
    size_t f = tf__is_span(t->key_kind) ? 2u : 1u;
    uint64_t a = tf__index_field(t, f * k);
    uint64_t e = tf__index_field(t, f * (k + 1u));
    if (e > (uint64_t)t->n)
        e = (uint64_t)t->n;
    if (a > e)
        a = e;
    *lo = (size_t)a;
    *hi = (size_t)e;
    if (off) {
        uint64_t o = tf__index_field(t, f * k + 1u);
        *off = o > (uint64_t)t->keys_len ? t->keys_len : (size_t)o;
    }
}

/* Span i of an offset table, clamped to the blob for the same reason. */
static inline tf_fspan tf__span(const uint8_t *offs, unsigned w, const uint8_t *blob, size_t blob_len, size_t i) {
    tf_fspan s;
    uint64_t a = tf__load_u(offs + i * w, w), e = tf__load_u(offs + (i + 1u) * w, w);
    if (e > (uint64_t)blob_len)
        e = (uint64_t)blob_len;
    if (a > e)
        a = e;
    s.data = blob + a;
    s.len = (size_t)(e - a);
    return s;
}

/* Keys an int lookup compares at once. A run of at most this many keys (nearly every run: they hold TF_FSET_LOAD keys
 * on average) is compared as one fixed window, with no branch on where the run ends or where in it the key sits: a
 * run is as long as its keys happen to make it, so a loop that stops at its end mispredicts about once a lookup,
 * which cost more than the compares it saves. */
#define TF__WINDOW 8u

/* The position in [lo, hi) of the w-byte key equal to `want` (zero-extended), among n keys at k. Inlined with a
 * constant w, so each compare is a single narrow load. */
static inline size_t tf__find_in_run(const uint8_t *k, unsigned w, size_t lo, size_t hi, size_t n, uint64_t want) {
    if (hi - lo <= TF__WINDOW && n - lo >= TF__WINDOW) {
        size_t at = TF__WINDOW;
        /* backwards, so the first match wins (a select, not a branch); keys past the run belong to later buckets */
        for (size_t j = TF__WINDOW; j-- > 0u;)
            at = tf__load_u(k + w * (lo + j), w) == want ? j : at;
        return at < hi - lo ? lo + at : TF_FSET_NOT_FOUND;
    }
    for (size_t i = lo; i < hi; i++)
        if (tf__load_u(k + w * i, w) == want)
            return i;
    return TF_FSET_NOT_FOUND;
}

size_t tf_fset_find_int(const tf_fset *t, int64_t key) {
    size_t lo, hi;
    uint64_t u = (uint64_t)key;
    if (!t || t->key_kind != TF_FSET_INT || !tf__fits(key, t->key_w))
        return TF_FSET_NOT_FOUND;
    tf__run(t, tf__bucket(tf_fset_hash_int(key), t->nb), &lo, &hi, NULL);
    switch (t->key_w) {
    case 1: return tf__find_in_run(t->keys, 1u, lo, hi, t->n, u & 0xFFu);
    case 2: return tf__find_in_run(t->keys, 2u, lo, hi, t->n, u & 0xFFFFu);
    case 4: return tf__find_in_run(t->keys, 4u, lo, hi, t->n, u & 0xFFFFFFFFu);
    default: return tf__find_in_run(t->keys, 8u, lo, hi, t->n, u);
    }
}

/* a[0..len) == b[0..len) for the short keys tables usually hold, without a library call: whole words, the last one
 * overlapping (keys shorter than 8 bytes use two overlapping 4-byte or single-byte compares). */
static inline int tf__same_bytes(const uint8_t *a, const uint8_t *b, size_t len) {
    if (len >= 8u) {
        size_t i = 0;
        for (; i + 8u < len; i += 8u)
            if (tf__load_le64(a + i) != tf__load_le64(b + i))
                return 0;
        return tf__load_le64(a + len - 8u) == tf__load_le64(b + len - 8u);
    }
    if (len >= 4u)
        return tf__load_le32(a) == tf__load_le32(b) && tf__load_le32(a + len - 4u) == tf__load_le32(b + len - 4u);
    for (size_t i = 0; i < len; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

size_t tf_fset_find_bytes(const tf_fset *t, const void *key, size_t len) {
    size_t lo, hi, at;
    uint64_t h;
    uint8_t want;
    if (!t || !tf__is_span(t->key_kind) || (!key && len > 0u))
        return TF_FSET_NOT_FOUND;
    h = tf_fset_hash_bytes(key, len);
    want = (uint8_t)h;
    tf__run(t, tf__bucket(h, t->nb), &lo, &hi, &at);
    /* the bucket's records are adjacent: a lookup touches the index and usually one more cache line */
    for (size_t i = lo; i < hi; i++) {
        uint8_t fp;
        tf_fspan s;
        if (!tf__record(t->keys, t->keys_len, &at, &fp, &s))
            break;
        if (fp == want && s.len == len && tf__same_bytes((const uint8_t *)s.data, (const uint8_t *)key, len))
            return i;
    }
    return TF_FSET_NOT_FOUND;
}

tf_fspan tf_fset_key_next(const tf_fset *t, size_t *offset) {
    tf_fspan key = {NULL, 0};
    uint8_t fp;
    if (t && offset && tf__is_span(t->key_kind) && !tf__record(t->keys, t->keys_len, offset, &fp, &key)) {
        key.data = NULL;
        key.len = 0;
        *offset = t->keys_len;
    }
    return key;
}

int64_t tf_fset_key_int(const tf_fset *t, size_t i) {
    if (!t || t->key_kind != TF_FSET_INT || i >= t->n)
        return 0;
    return tf__to_signed(tf__load_u(t->keys + i * t->key_w, t->key_w), t->key_w);
}

tf_fspan tf_fset_key_span(const tf_fset *t, size_t i) {
    tf_fspan key = {NULL, 0};
    size_t lo = 0, hi, first, end, at;
    if (!t || !tf__is_span(t->key_kind) || i >= t->n)
        return key;
    /* the last bucket whose run starts at or before i, then a walk through its records */
    hi = t->nb;
    while (hi - lo > 1u) {
        size_t mid = lo + (hi - lo) / 2u;
        tf__run(t, mid, &first, &end, NULL);
        if (first <= i)
            lo = mid;
        else
            hi = mid;
    }
    tf__run(t, lo, &first, &end, &at);
    for (size_t p = first; p <= i; p++) {
        uint8_t fp;
        if (!tf__record(t->keys, t->keys_len, &at, &fp, &key)) {
            key.data = NULL;
            key.len = 0;
            break;
        }
    }
    return key;
}

int64_t tf_fset_value_int(const tf_fset *t, size_t i) {
    if (!t || t->value_kind != TF_FSET_INT || i >= t->n)
        return 0;
    return tf__to_signed(tf__load_u(t->vals + i * t->value_w, t->value_w), t->value_w);
}

double tf_fset_value_float(const tf_fset *t, size_t i) {
    uint64_t bits;
    double d;
    if (!t || t->value_kind != TF_FSET_FLOAT || i >= t->n)
        return 0.0;
    bits = tf__load_le64(t->vals + i * 8u);
    TF_MEMCPY(&d, &bits, sizeof d);
    return d;
}

tf_fspan tf_fset_value_span(const tf_fset *t, size_t i) {
    tf_fspan none = {NULL, 0};
    if (!t || !tf__is_span(t->value_kind) || i >= t->n)
        return none;
    return tf__span(t->vals, t->value_w, t->val_blob, t->val_blob_len, i);
}
