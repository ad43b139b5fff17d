/* thrifty core — frozen sets and maps (fset.h): validating an untrusted block once (tf_fset_validate), after which
 * fset.c's lookups read it in place. Shared with the build and the lookups: fset_internal.h. */
#include "fset_internal.h"

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

/* An offset field of w bytes (index fields, str/bytes value offsets) in a block of `version` that must hold values up
 * to max: 2 or 4 bytes, or 3 from version 2 on; a narrow width only when max fits it. */
static int tf__offset_width_ok(unsigned version, unsigned w, size_t max) {
    switch (w) {
    case 2: return max <= 0xFFFFu;
    case 3: return version >= 2u && max <= 0xFFFFFFu;
    case 4: return 1;
    default: return 0;
    }
}

static int tf__width_ok(unsigned version, unsigned kind, unsigned w, size_t blob_len) {
    switch (kind) {
    case TF_FSET_NONE: return w == 0u && blob_len == 0u;
    case TF_FSET_INT: return (w == 1u || w == 2u || w == 4u || w == 8u) && blob_len == 0u;
    case TF_FSET_FLOAT: return w == 8u && blob_len == 0u;
    case TF_FSET_STR:
    case TF_FSET_BYTES: return tf__offset_width_ok(version, w, blob_len);
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
    if (b[4] < TF__FSET_VERSION_MIN || b[4] > TF__FSET_VERSION) {
        if (why)
            *why = "unsupported format version (this build reads versions 1 and 2)";
        return TF_E_VERSION;
    }
    TF_MEMSET(&h, 0, sizeof h);
    h.version = b[4];
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
    /* byte 35: reserved (0) in version 1; value flags in version 2, of which only bit 0 (unsigned int values of fewer
     * than 8 bytes) is defined */
    h.value_unsigned = b[35];
    if (tf__load_le32(b + 44) != 0u || (h.version < 2u && b[35] != 0u))
        return tf__corrupt(why, "reserved header bytes are not zero");
    if (b[35] > 1u || (b[35] == 1u && (h.value_kind != TF_FSET_INT || h.value_w == 8u)))
        return tf__corrupt(why, "bad value flags (unsigned values are ints of 1, 2 or 4 bytes)");
    if (h.key_kind > TF_FSET_BYTES || h.value_kind > TF_FSET_FLOAT)
        return tf__corrupt(why, "unknown key or value kind");
    if ((h.n == 0u) != (h.key_kind == TF_FSET_NONE))
        return tf__corrupt(why, "key kind does not match the entry count");
    if (h.is_map ? (h.n == 0u) != (h.value_kind == TF_FSET_NONE) : h.value_kind != TF_FSET_NONE)
        return tf__corrupt(why, "value kind does not match the table type and entry count");
    if (tf__is_span(h.key_kind) ? h.key_w != 0u : !tf__width_ok(h.version, h.key_kind, h.key_w, h.key_blob_len))
        return tf__corrupt(why, "bad key width");
    if (!tf__width_ok(h.version, h.value_kind, h.value_w, h.val_blob_len))
        return tf__corrupt(why, "bad value width");
    if (h.nb == 0u || !tf__offset_width_ok(h.version, h.index_w, h.n > h.key_blob_len ? h.n : h.key_blob_len))
        return tf__corrupt(why, "bad bucket count or index width");
    if (!tf__fset_layout_of(&h, &l) || l.total != size)
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
    t->value_unsigned = (uint8_t)h.value_unsigned;
    t->index = b + l.index;
    t->keys = b + l.keys;
    t->keys_len = h.key_blob_len;
    t->vals = b + l.vals;
    t->val_blob = b + l.val_blob;
    t->val_blob_len = h.val_blob_len;
    return TF_OK;
}
