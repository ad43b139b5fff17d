/* thrifty core — frozen sets and maps (fset.h): hashing, the layout of a block, lookups and reads. Building is
 * fset_build.c, validating an untrusted block fset_validate.c; fset_internal.h is what the three share. Format:
 * docs/format-frozen.md. */
#include "bits.h"
#include "fset_internal.h"

#if TF_FSET_SIMD
#include <emmintrin.h>
#endif

#define TF__K1 0x9E3779B97F4A7C15u
#define TF__K2 0xBF58476D1CE4E5B9u
#define TF__K3 0x94D049BB133111EBu
#define TF__K4 0xD6E8FEB86659FD93u

TF_STATIC_ASSERT(TF_FSET_LOAD >= 1 && TF_FSET_SPAN_LOAD >= 1, fset_load_positive);

/* A lookup's steps take the key and index widths as arguments and are expanded where those are constants (one
 * switch on the table's widths), so each load and compare is compiled for its width. A -Os build keeps one copy. */
#if TF_GNUC && !defined(__OPTIMIZE_SIZE__)
#define TF__HOT static inline __attribute__((always_inline))
#else
#define TF__HOT static inline
#endif

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
TF__HOT uint64_t tf__hash_int(int64_t key) { return tf__mix64((uint64_t)key + TF__K1); }
uint64_t tf_fset_hash_int(int64_t key) { return tf__hash_int(key); }

/* hash_bytes of docs/format-frozen.md, expanded in the lookup: the call was a fifth of hashing a short key. */
TF__HOT uint64_t tf__hash_bytes(const uint8_t *p, size_t len) {
    uint64_t h = TF__K4 ^ ((uint64_t)len * TF__K1);
    uint64_t last;
    if (len > 8u && len <= 16u) { /* the loop below, written out for its one step: keys of 9-16 bytes are common */
        h = (h ^ tf__load_le64(p)) * TF__K2;
        h ^= h >> 29;
        last = tf__load_le64(p + len - 8u);
    } else if (len > 8u) {
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

uint64_t tf_fset_hash_bytes(const void *data, size_t len) { return tf__hash_bytes((const uint8_t *)data, len); }

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

/* ---- layout: a pure function of the header fields, shared by build and validate ------------------------- */

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

int tf__fset_layout_of(const tf__fset_hdr *h, tf__fset_layout *l) {
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

/* ---- reads ----------------------------------------------------------------------------------------------- */

size_t tf_fset_count(const tf_fset *t) { return t ? t->n : 0u; }
int tf_fset_key_kind(const tf_fset *t) { return t ? t->key_kind : TF_FSET_NONE; }
int tf_fset_value_kind(const tf_fset *t) { return t ? t->value_kind : TF_FSET_NONE; }
int tf_fset_is_map(const tf_fset *t) { return t ? t->is_map : 0; }

/* Whether v fits a w-byte key: a key that does not is in no table whose keys are that narrow. */
static inline int tf__fits(int64_t v, unsigned w) {
    switch (w) {
    case 1: return v >= INT8_MIN && v <= INT8_MAX;
    case 2: return v >= INT16_MIN && v <= INT16_MAX;
    case 4: return v >= INT32_MIN && v <= INT32_MAX;
    default: return 1;
    }
}

/* Index field i. Index fields are 2, 3 or 4 bytes wide (validated); the width is the same for every lookup on a
 * table, so the branches predict perfectly. */
static inline uint64_t tf__index_field(const tf_fset *t, size_t i) {
    if (t->index_w == 2u)
        return tf__load_le16(t->index + 2u * i);
    if (t->index_w == 3u)
        return tf__load_u(t->index + 3u * i, 3u);
    return tf__load_le32(t->index + 4u * i);
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
TF_STATIC_ASSERT(TF__WINDOW == 8u, fset_window_is_8_keys); /* tf__find_in_run: 8 keys, w 64-bit words */

#if !TF_FSET_SIMD
/* The top bit of every w-byte lane of a 64-bit word. */
static inline uint64_t tf__lane_tops(unsigned w) {
    return w == 1u ? 0x8080808080808080u : w == 2u ? 0x8000800080008000u : 0x8000000080000000u;
}

/* x with the top bit of each w-byte lane set when that lane is not zero, and clear when it is (the other bits mean
 * nothing). Exact, lane by lane (no carry runs into the next lane): the lane's low bits are added to
 * all-ones-but-the-top, which carries into the top bit unless they are all zero. */
static inline uint64_t tf__nonzero_lanes(uint64_t x, unsigned w) {
    uint64_t low = ~tf__lane_tops(w);
    return ((x & low) + low) | x;
}
#endif

#if TF_FSET_SIMD
/* Flags of the window's 8 w-byte keys at p that equal `want` (zero-extended): bit i for 1-byte keys, bit 2i for the
 * others (SSE2's byte mask gives each 16-bit lane two bits). Keys of 4 and 8 bytes are compared as 32-bit lanes and
 * narrowed by saturating packs, which keep a lane's all-ones or zero; an 8-byte key is equal when both of its halves
 * are. Reads 8 * w bytes. */
TF__HOT unsigned tf__window_flags(const uint8_t *p, unsigned w, uint64_t want) {
    const __m128i *v = (const __m128i *)(const void *)p;
    unsigned m;
    if (w == 1u) {
        __m128i rep = _mm_set1_epi8((char)tf__to_signed(want, 1u));
        m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadl_epi64(v), rep)) & 0xFFu;
    } else if (w == 2u) {
        __m128i rep = _mm_set1_epi16((short)tf__to_signed(want, 2u));
        m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi16(_mm_loadu_si128(v), rep));
    } else if (w == 4u) {
        __m128i rep = _mm_set1_epi32((int)tf__to_signed(want, 4u));
        __m128i e0 = _mm_cmpeq_epi32(_mm_loadu_si128(v), rep), e1 = _mm_cmpeq_epi32(_mm_loadu_si128(v + 1), rep);
        m = (unsigned)_mm_movemask_epi8(_mm_packs_epi32(e0, e1));
    } else {
        int lo32 = (int)tf__to_signed(want & 0xFFFFFFFFu, 4u), hi32 = (int)tf__to_signed(want >> 32, 4u);
        __m128i rep = _mm_set_epi32(hi32, lo32, hi32, lo32);
        __m128i e0 = _mm_cmpeq_epi32(_mm_loadu_si128(v), rep), e1 = _mm_cmpeq_epi32(_mm_loadu_si128(v + 1), rep);
        __m128i e2 = _mm_cmpeq_epi32(_mm_loadu_si128(v + 2), rep), e3 = _mm_cmpeq_epi32(_mm_loadu_si128(v + 3), rep);
        m = (unsigned)_mm_movemask_epi8(_mm_packs_epi16(_mm_packs_epi32(e0, e1), _mm_packs_epi32(e2, e3)));
        m &= (m >> 1) & 0x5555u; /* bit 2i: both halves of key i */
    }
    return m;
}
#endif

/* The position in [lo, hi) of the w-byte key equal to `want` (zero-extended), among n keys at k; w is a constant
 * once expanded. A run that fits the window is compared as the window's 8 keys at once, with no branch until the
 * answer: with SSE2 (TF_FSET_SIMD) as vector lanes; else keys of 1, 2 or 4 bytes as w 64-bit words of 8 / w keys
 * each, want copied into every lane, equal lanes flagged by a few ALU operations; a hit's key is the lowest flag of
 * the first flagged word (a bit scan, not a second pass over the keys); and 8-byte keys one compare a key, one bit of
 * a mask, the lowest set bit is the key. A match past the run's end is impossible in a block the builder made (the
 * hash is a bijection, so an equal key sits in the same bucket); in any other block it is still a key equal to
 * `want`, read in bounds (n - lo >= TF__WINDOW). */
TF__HOT size_t tf__find_in_run(const uint8_t *k, unsigned w, size_t lo, size_t hi, size_t n, uint64_t want) {
    if (hi - lo <= TF__WINDOW && n - lo >= TF__WINDOW) {
        const uint8_t *p = k + w * lo;
#if TF_FSET_SIMD
        unsigned m = tf__window_flags(p, w, want);
        return m ? lo + tf__ctz64(m) / (w == 1u ? 1u : 2u) : TF_FSET_NOT_FOUND;
#else
        if (w == 8u) {
            unsigned m = 0;
#if TF_GNUC
#pragma GCC unroll 8
#endif
            for (unsigned i = 0; i < TF__WINDOW; i++)
                m |= (unsigned)(tf__load_le64(p + 8u * i) == want) << i;
            return m ? lo + tf__ctz64(m) : TF_FSET_NOT_FOUND;
        } else {
            uint64_t rep = want * (w == 1u ? 0x0101010101010101u : w == 2u ? 0x0001000100010001u : 0x0000000100000001u);
            /* lanes past w stay "none equal": only i < w is read, but GCC's -Wmaybe-uninitialized (MicroPython's
             * -Werror build) cannot see that */
            uint64_t top = tf__lane_tops(w), nz[4] = {~(uint64_t)0, ~(uint64_t)0, ~(uint64_t)0, ~(uint64_t)0};
            uint64_t all = ~(uint64_t)0;
#if TF_GNUC
#pragma GCC unroll 4
#endif
            for (unsigned i = 0; i < w; i++) {
                nz[i] = tf__nonzero_lanes(tf__load_le64(p + 8u * i) ^ rep, w);
                all &= nz[i];
            }
            if ((all & top) == top) /* no lane equal: the common miss costs one branch */
                return TF_FSET_NOT_FOUND;
#if TF_GNUC
#pragma GCC unroll 4
#endif
            for (unsigned i = 0; i < w; i++) {
                uint64_t eq = ~nz[i] & top;
                if (eq)
                    return lo + i * (8u / w) + tf__ctz64(eq) / (8u * w);
            }
            return TF_FSET_NOT_FOUND; /* not reached: some lane was equal */
        }
#endif
    }
    for (size_t i = lo; i < hi; i++)
        if (tf__load_u(k + w * i, w) == want)
            return i;
    return TF_FSET_NOT_FOUND;
}

/* The run [*lo, *hi) of bucket b of an int table with iw-byte index fields, clamped as tf__run clamps it. */
TF__HOT void tf__int_run(const tf_fset *t, unsigned iw, size_t b, size_t *lo, size_t *hi) {
    const uint8_t *f = t->index + iw * b;
    uint64_t a, e;
    if (iw == 3u) { /* two overlapping 32-bit loads inside the two fields, not two 16-bit and two byte loads */
        a = tf__load_le32(f) & 0xFFFFFFu;
        e = tf__load_le32(f + 2) >> 8;
    } else if (iw == 2u) { /* both fields in one 32-bit load */
        uint32_t x = tf__load_le32(f);
        a = x & 0xFFFFu;
        e = x >> 16;
    } else {
        a = tf__load_le32(f);
        e = tf__load_le32(f + 4);
    }
    if (e > (uint64_t)t->n)
        e = (uint64_t)t->n;
    if (a > e)
        a = e;
    *lo = (size_t)a;
    *hi = (size_t)e;
}

/* tf_fset_find_int for w-byte keys: the hash, the run and the window compiled for w and each index width. */
TF__HOT size_t tf__find_int_w(const tf_fset *t, unsigned w, int64_t key) {
    size_t lo, hi, b;
    uint64_t want = w == 8u ? (uint64_t)key : (uint64_t)key & (((uint64_t)1 << (8u * w)) - 1u);
    if (!tf__fits(key, w))
        return TF_FSET_NOT_FOUND;
    b = tf__bucket(tf__hash_int(key), t->nb);
    if (t->index_w == 2u)
        tf__int_run(t, 2u, b, &lo, &hi);
    else if (t->index_w == 3u)
        tf__int_run(t, 3u, b, &lo, &hi);
    else
        tf__int_run(t, 4u, b, &lo, &hi);
    return tf__find_in_run(t->keys, w, lo, hi, t->n, want);
}

size_t tf_fset_find_int(const tf_fset *t, int64_t key) {
    if (!t || t->key_kind != TF_FSET_INT)
        return TF_FSET_NOT_FOUND;
    switch (t->key_w) {
    case 1: return tf__find_int_w(t, 1u, key);
    case 2: return tf__find_int_w(t, 2u, key);
    case 4: return tf__find_int_w(t, 4u, key);
    default: return tf__find_int_w(t, 8u, key);
    }
}

/* a[0..len) == b[0..len) for the short keys tables usually hold, without a library call: whole words, the last one
 * overlapping (keys shorter than 8 bytes use two overlapping 4-byte or single-byte compares). */
TF__HOT int tf__same_bytes(const uint8_t *a, const uint8_t *b, size_t len) {
    if (len >= 8u) {
        size_t i = 0;
        if (len <= 16u) /* two words, no loop */
            return tf__load_le64(a) == tf__load_le64(b) && tf__load_le64(a + len - 8u) == tf__load_le64(b + len - 8u);
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

/* The run [*lo, *hi) of bucket b of a str/bytes table and the offset *at of its first key record, for iw-byte index
 * fields, clamped as tf__run clamps them. The bucket's three fields (its start and record offset, the next bucket's
 * start) are 3 * iw adjacent bytes: for iw = 2 one 64-bit load, for iw = 3 one and a byte. In bounds: b < nb, and
 * the index holds 2 * (nb + 1) fields. */
TF__HOT void tf__span_run(const tf_fset *t, unsigned iw, size_t b, size_t *lo, size_t *hi, size_t *at) {
    const uint8_t *f = t->index + 2u * iw * b;
    uint64_t a, o, e;
    if (iw == 2u) {
        uint64_t x = tf__load_le64(f);
        a = x & 0xFFFFu;
        o = (x >> 16) & 0xFFFFu;
        e = (x >> 32) & 0xFFFFu;
    } else if (iw == 3u) {
        uint64_t x = tf__load_le64(f);
        a = x & 0xFFFFFFu;
        o = (x >> 24) & 0xFFFFFFu;
        e = (x >> 48) | ((uint64_t)f[8] << 16);
    } else {
        a = tf__load_le32(f);
        o = tf__load_le32(f + 4);
        e = tf__load_le32(f + 8);
    }
    if (e > (uint64_t)t->n)
        e = (uint64_t)t->n;
    if (a > e)
        a = e;
    *lo = (size_t)a;
    *hi = (size_t)e;
    *at = o > (uint64_t)t->keys_len ? t->keys_len : (size_t)o;
}

/* The position in [i, hi) of the key (len bytes, hash fingerprint fp) among the records from offset at, every
 * record read with the checks that keep a block changed after validation in bounds. */
static size_t tf__find_in_records_checked(const tf_fset *t, size_t i, size_t hi, size_t at, uint8_t fp,
                                          const uint8_t *key, size_t len) {
    const uint8_t *keys = t->keys;
    size_t end = t->keys_len;
    for (; i < hi; i++) {
        uint8_t rfp;
        tf_fspan s;
        if (!tf__record(keys, end, &at, &rfp, &s))
            break;
        if (rfp == fp && s.len == len && tf__same_bytes((const uint8_t *)s.data, key, len))
            return i;
    }
    return TF_FSET_NOT_FOUND;
}

/* The position in [lo, hi) of the key (len bytes, hash fingerprint fp) among the records from offset at. A key
 * shorter than 128 bytes (nearly every key) has a one-byte length, so its record starts with the 16-bit word
 * fp | len << 8: one compare rejects a record whose fingerprint or length differs, and the next record starts
 * 2 + that length byte further on. While 2 + 127 bytes remain after `at`, such a record's head and bytes are inside
 * the block whatever its bytes say, so that is the one bound check a record. Longer records, and the block's last
 * 129 bytes, take the checked walk. */
TF__HOT size_t tf__find_in_records(const tf_fset *t, size_t lo, size_t hi, size_t at, uint8_t fp, const uint8_t *key,
                                   size_t len) {
    const uint8_t *keys = t->keys;
    size_t room = t->keys_len > 0x80u ? t->keys_len - 0x80u : 0u; /* at < room: at + 2 + 127 <= keys_len */
    if (len < 0x80u) {
        uint32_t head = (uint32_t)fp | (uint32_t)len << 8;
        for (; lo < hi && at < room; lo++) {
            uint32_t word = tf__load_le16(keys + at);
            if (word == head && tf__same_bytes(keys + at + 2u, key, len))
                return lo;
            if (word >= 0x8000u) /* a length of 128 or more: a longer record, for the checked walk */
                break;
            at += 2u + (word >> 8);
        }
        if (lo == hi)
            return TF_FSET_NOT_FOUND;
    }
    return tf__find_in_records_checked(t, lo, hi, at, fp, key, len);
}

size_t tf_fset_find_bytes(const tf_fset *t, const void *key, size_t len) {
    size_t lo, hi, at, b;
    uint64_t h;
    if (!t || !tf__is_span(t->key_kind) || (!key && len > 0u))
        return TF_FSET_NOT_FOUND;
    h = tf__hash_bytes((const uint8_t *)key, len);
    b = tf__bucket(h, t->nb);
    /* the bucket's records are adjacent: a lookup touches the index and usually one more cache line */
    if (t->index_w == 2u)
        tf__span_run(t, 2u, b, &lo, &hi, &at);
    else if (t->index_w == 3u)
        tf__span_run(t, 3u, b, &lo, &hi, &at);
    else
        tf__span_run(t, 4u, b, &lo, &hi, &at);
    return tf__find_in_records(t, lo, hi, at, (uint8_t)h, (const uint8_t *)key, len);
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
    uint64_t u = tf__load_u(t->vals + i * t->value_w, t->value_w);
    return t->value_unsigned ? tf__to_signed(u, 8u) : tf__to_signed(u, t->value_w);
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
