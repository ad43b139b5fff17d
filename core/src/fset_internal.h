/* thrifty core — frozen sets and maps: what the four files of fset.h's implementation share. Private to them:
 * fset.c (hashing, the layout of a block, lookups and reads), fset_build.c (tf_fset_bound, tf_fset_build,
 * tf_fset_build_source), fset_build_ints.c (its in-place build of int keys) and fset_validate.c (tf_fset_validate). A
 * loader that never builds (the MicroPython module) compiles the first and the last. The format they agree on:
 * docs/format-frozen.md. */
#ifndef THRIFTY_FSET_INTERNAL_H
#define THRIFTY_FSET_INTERNAL_H

#include "thrifty/fset.h"

#define TF__FSET_MAGIC0 0x54u /* "TFRZ" */
#define TF__FSET_MAGIC1 0x46u
#define TF__FSET_MAGIC2 0x52u
#define TF__FSET_MAGIC3 0x5Au
/* Version 1: index fields and str/bytes value offsets are 2 or 4 bytes. Version 2 adds 3-byte ones (a table of up to
 * 16 Mi entries / 16 MiB of keys then spends 3 bytes, not 4, a field). The builder writes version 1 whenever the
 * block uses no 3-byte field, so readers that know only version 1 still read every block that needs nothing newer. */
#define TF__FSET_VERSION_MIN 1u
#define TF__FSET_VERSION 2u
#define TF__FSET_SET 1u
#define TF__FSET_MAP 2u

/* The bucket of a hash among nb: the high 32 bits scaled to nb, so it is monotonic in the hash for any nb. */
static inline size_t tf__bucket(uint64_t h, size_t nb) { return (size_t)(((h >> 32) * (uint64_t)nb) >> 32); }

/* ---- little-endian fields of any width ------------------------------------------------------------------ */

static inline uint64_t tf__load_u(const uint8_t *p, unsigned w) {
    switch (w) {
    case 1: return p[0];
    case 2: return tf__load_le16(p);
    case 3: return (uint64_t)tf__load_le16(p) | ((uint64_t)p[2] << 16);
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
    case 3:
        tf__store_le16(p, (uint16_t)v);
        p[2] = (uint8_t)(v >> 16);
        break;
    case 4: tf__store_le32(p, (uint32_t)v); break;
    default: tf__store_le64(p, v); break;
    }
}

/* ---- layout: a pure function of the header fields, shared by build and validate ------------------------- */

typedef struct {
    size_t n, nb, key_blob_len, val_blob_len;
    unsigned version, is_map, key_kind, value_kind, index_w, key_w, value_w;
    unsigned value_unsigned; /* header byte 35, bit 0 (version 2): int values zero-extended */
} tf__fset_hdr;

typedef struct {
    size_t index, keys, vals, val_blob, total;
} tf__fset_layout;

static inline int tf__is_span(unsigned kind) { return kind == TF_FSET_STR || kind == TF_FSET_BYTES; }

/* Index fields per bucket: the run start, and for str/bytes keys also the run's offset into the key records. */
static inline size_t tf__index_fields(unsigned key_kind) { return tf__is_span(key_kind) ? 2u : 1u; }

/* The narrowest width of an unsigned offset field (index fields, str/bytes value offsets) holding every value up to
 * max: 2, 3 or 4 bytes. Version 1 blocks have no 3-byte fields. */
static inline unsigned tf__offset_width(size_t max) { return max <= 0xFFFFu ? 2u : max <= 0xFFFFFFu ? 3u : 4u; }

/* Bytes of the LEB128 length prefix of a key record (at most 5 for a 32-bit length). */
static inline size_t tf__varint_len(size_t v) {
    size_t n = 1;
    while (v >= 0x80u) {
        v >>= 7;
        n++;
    }
    return n;
}

/* Bytes of one key record: fingerprint, length prefix, key bytes. */
static inline size_t tf__record_len(size_t len) { return 1u + tf__varint_len(len) + len; }

/* The offset of every section of a block with header fields h, and its total size (fset.c). 0 when a size overflows
 * size_t. */
int tf__fset_layout_of(const tf__fset_hdr *h, tf__fset_layout *l);

/* ---- building (fset_build.c, fset_build_ints.c) --------------------------------------------------------- */

/* What the header depends on, over the entries a block holds: their count, the range of int keys and values, the
 * bytes of key records and of str/bytes values. */
typedef struct {
    size_t n, key_blob, val_blob;
    int64_t klo, khi, vlo, vhi;
} tf__stats;

static inline void tf__widen(int64_t v, int first, int64_t *lo, int64_t *hi) {
    if (first || v < *lo)
        *lo = v;
    if (first || v > *hi)
        *hi = v;
}

/* The header of the block holding exactly the entries that `s` describes: the one rule that both the builders and
 * tf_fset_source_size() follow, so the size a caller allocates is the size a builder writes. */
void tf__fset_plan(const tf_fset_source *src, const tf__stats *s, tf__fset_hdr *h);

/* Writes the fixed header of a block of `total` bytes (its checksum field zero: written last). */
void tf__fset_write_header(uint8_t *b, const tf__fset_hdr *h, size_t total);

/* Builds a block of int keys in place in b (tf_fset_build_source when tf__in_place says so); `all` holds the stats of
 * every entry. Needs no scratch; out_size must hold the block of all entries, duplicates included. */
tf_status tf__fset_build_ints(const tf_fset_source *src, const tf__stats *all, uint8_t *b, size_t out_size,
                              size_t *out_len);

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

#endif /* THRIFTY_FSET_INTERNAL_H */
