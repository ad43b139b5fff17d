/* thrifty core — frozen sets and maps: read-only lookup tables in one contiguous, portable block.
 *
 * A table is built once from caller arrays into a caller buffer and is then only read. The block is the same bytes
 * on every host (little-endian, versioned, checksummed; docs/format-frozen.md), so it can be written to a file or
 * a firmware image and used again in place: tf_fset_validate() checks an untrusted block once, after which lookups
 * and iteration read it directly with no allocation and no rebuild.
 *
 * Keys are all int64, all UTF-8 strings, or all byte strings; a map adds one value per key, all int64, all double,
 * all UTF-8 or all byte strings. Ints are stored at the narrowest of 1/2/4/8 bytes that fits every one of them.
 *
 * Hashing scheme: hash-sorted keys with a small bucket index. Each key gets a 64-bit hash (a fixed-seed mixer; for
 * ints it is a bijection). Keys are stored sorted by hash, so the bucket of a key (the high 32 bits of its hash
 * scaled to the bucket count nb) is a contiguous run of positions, and an index of nb + 1 entries says where each
 * run starts. Int keys sit in one array of narrowed ints (nb = n / TF_FSET_LOAD); str/bytes keys are packed records
 * (1-byte hash fingerprint, LEB128 length, bytes) whose index entries also hold the run's record offset
 * (nb = n / TF_FSET_SPAN_LOAD), so a bucket's keys are adjacent in memory. A lookup hashes once, reads one index
 * entry and scans a run of a few keys; for strings the fingerprint skips almost every byte compare on a miss.
 * Why this rather than the alternatives (measurements in config.h, bench/bench_frozen.py, docs/frozen.md):
 *   - the table is 100% full: the only overhead is the index (1 byte a key for int64, 2-4 for strings) plus 2 bytes
 *     of record header a string. Open addressing at 85-90% load wastes 10-15% of every key slot (and strings would
 *     still need offsets); perfect hashing (CHD) saves the index but needs a retrying build and, for strings,
 *     offsets anyway;
 *   - the build is a counting sort on hash bits plus tiny per-bucket sorts: O(n), no retries, so it stays within a
 *     small factor of frozenset(list) (it measured faster);
 *   - lookups touch the index (small, usually cached) and one run; from Python they measured at or above frozenset's
 *     speed for keys that are not the very objects stored in the frozenset;
 *   - the sorted order is canonical: equal inputs give byte-identical blocks whatever their order, duplicates or host.
 * The cost: an adversary who knows the fixed seed can put many keys in one bucket and make lookups on that table
 * linear. Tables are built from trusted data (their builder chooses the keys), and a hostile *blob* can at worst
 * make its own lookups slow: validated reads never leave the block.
 *
 * Thread and interrupt safety: a built block is never written again, so any number of threads and interrupt handlers
 * may read one tf_fset concurrently. Building touches only the caller's buffers.
 */
#ifndef THRIFTY_FSET_H
#define THRIFTY_FSET_H

#include "thrifty/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Kinds of keys and values. Values are part of the byte format: never renumber. */
enum {
    TF_FSET_NONE = 0,  /* no keys (empty table) / no values (a set, or an empty map) */
    TF_FSET_INT = 1,   /* int64, stored narrowed to 1, 2, 4 or 8 bytes */
    TF_FSET_STR = 2,   /* UTF-8 text (the binding encodes lone surrogates as Python's "surrogatepass" does) */
    TF_FSET_BYTES = 3, /* arbitrary bytes */
    TF_FSET_FLOAT = 4  /* IEEE-754 double (values only) */
};

/* The size of the fixed header at the start of every block. */
#define TF_FSET_HEADER_SIZE 48u

/* find() result when the key is absent. */
#define TF_FSET_NOT_FOUND ((size_t)-1)

/* A borrowed byte string: `len` bytes at `data` (data may be NULL when len is 0). */
typedef struct {
    const void *data;
    size_t len;
} tf_fspan;

/* What to build. Entries are (keys[i], values[i]) for i < count; duplicate keys are allowed: a set keeps one, a map
 * keeps the value of the last duplicate (dict semantics). Fill the array matching each kind, leave the others NULL. */
typedef struct {
    size_t count;              /* entries given, duplicates included; at most UINT32_MAX */
    int is_map;                /* 0: a set (value_kind must be TF_FSET_NONE); 1: a map */
    int key_kind;              /* TF_FSET_INT, _STR or _BYTES; TF_FSET_NONE only when count == 0 */
    const int64_t *int_keys;   /* key_kind INT */
    const tf_fspan *span_keys; /* key_kind STR or BYTES; total length at most UINT32_MAX */
    int value_kind;            /* maps: TF_FSET_INT, _FLOAT, _STR, _BYTES (TF_FSET_NONE when count == 0) */
    const int64_t *int_values;
    const double *float_values;
    const tf_fspan *span_values; /* total length at most UINT32_MAX */
} tf_fset_input;

/* An opened (validated) block: a read-only view, pointing into the caller's block, which must outlive it and stay
 * at the same address. All fields are private; use the functions below. */
typedef struct {
    const uint8_t *base;     /* the block */
    const uint8_t *index;    /* nb + 1 run starts, index_w bytes each */
    const uint8_t *keys;     /* ints, or (for str/bytes) keys_len bytes of key records */
    const uint8_t *vals;     /* ints or doubles, or (str/bytes values) offsets */
    const uint8_t *val_blob; /* str/bytes values */
    size_t size, n, nb, keys_len, val_blob_len;
    uint8_t is_map, key_kind, value_kind;
    uint8_t index_w, key_w, value_w; /* byte widths: index fields, ints, value offsets */
    uint8_t value_unsigned;          /* int values stored zero-extended (format version 2), not sign-extended */
} tf_fset;

/* Upper bound of the block size tf_fset_build() writes for `in` (the exact size depends on duplicates and on how
 * far ints narrow). 0 if `in` is invalid or the bound overflows size_t. O(count) for str/bytes (sums lengths),
 * O(1) otherwise; reentrant, interrupt-safe. */
size_t tf_fset_bound(const tf_fset_input *in);

/* Scratch bytes tf_fset_build() needs for `count` entries (8-byte aligned storage): 10 bytes an entry plus a few (a
 * position and half a hash an entry, and the counting sort's counts; full hashes are computed again when needed). 0 on
 * overflow. O(1), reentrant. */
size_t tf_fset_scratch_size(size_t count);

/* Builds the block for `in` into out[0 .. out_size). `scratch` (tf_fset_scratch_size(in->count) bytes, 8-byte
 * aligned) is clobbered and may be freed afterwards; nothing is retained. On TF_OK *out_len is the block's exact
 * size (<= tf_fset_bound(in)); the output is a pure function of the set of keys (and, for maps, of each key's last
 * value): input order, duplicates and the host do not change a byte.
 * Errors: TF_E_NULL, TF_E_ARG (bad kinds, count or lengths), TF_E_SIZE (out_size or scratch_size too small),
 * TF_E_ALIGN (scratch not 8-aligned). O(n) expected (a counting sort on hash bits), O(n log n) worst case.
 * Reentrant (touches only its arguments); not for interrupts (long-running). */
tf_status tf_fset_build(const tf_fset_input *in, void *scratch, size_t scratch_size, void *out, size_t out_size,
                        size_t *out_len);

/* The same input read through callbacks instead of arrays: the builder asks for entry i (i < count) whenever it
 * needs it, in any order and more than once, so a caller whose keys live in another form (the binding's Python
 * objects, records in a file) lends them without gathering a copy. Each callback must return the same answer for
 * the same i throughout a build and must not fail (check the input before building); a span it returns must stay
 * valid and unchanged until the build returns. Set the callbacks of the kinds in use, leave the others NULL. */
typedef struct {
    size_t count;                     /* entries, duplicates included; at most UINT32_MAX */
    int is_map, key_kind, value_kind; /* as in tf_fset_input */
    void *ctx;                        /* passed to every callback */
    int64_t (*int_key)(void *ctx, size_t i);
    tf_fspan (*span_key)(void *ctx, size_t i);
    int64_t (*int_value)(void *ctx, size_t i);
    double (*float_value)(void *ctx, size_t i);
    tf_fspan (*span_value)(void *ctx, size_t i);
} tf_fset_source;

/* The exact size of the block tf_fset_build_source() writes for `src` when its keys are distinct (duplicates only
 * make the block smaller, so it is an upper bound otherwise): a caller that allocates this much holds no slack. 0 if
 * `src` is invalid or the size overflows. O(count): reads every key and value once. Reentrant. */
size_t tf_fset_source_size(const tf_fset_source *src);

/* Scratch bytes tf_fset_build_source() needs (8-byte aligned storage): 8 bytes an entry for str/bytes keys (a position
 * and the high half of the key's hash, so a key's bytes are not read again for each comparison), 4 for int keys with
 * str/bytes values (a position), and 8 bytes in all for int keys with no values or int/float ones: those are sorted
 * in place in the output buffer (an int's hash is a bijection, so a key needs nothing beside it). The counting
 * sort's counts live in the output buffer too, unused until the block is written. 0 on overflow. O(1), reentrant. */
size_t tf_fset_source_scratch_size(const tf_fset_source *src);

/* tf_fset_build() over a source: the same block, byte for byte, for the same entries. out_size must be at least the
 * block's size (tf_fset_source_size(src) always is); for int keys with no values or int/float ones, at least
 * tf_fset_source_size(src) even with duplicates (the keys are sorted in place in that room). So a build holds the
 * block, the scratch above and nothing else: with distinct keys, the block alone for int keys, the block plus 8
 * bytes an entry for str/bytes keys.
 * Errors: as tf_fset_build(). O(n) expected, O(n log n) worst case. Reentrant if the callbacks are. */
tf_status tf_fset_build_source(const tf_fset_source *src, void *scratch, size_t scratch_size, void *out,
                               size_t out_size, size_t *out_len);

/* Validates an untrusted block and, when it is sound, fills *t to read it. Checks magic, version, kinds, widths,
 * that every section fits exactly in `size` bytes, the checksum, that the bucket index and every string offset
 * table start at 0, never decrease and end at their section's length. After TF_OK every read through *t stays in
 * block[0 .. size) — and reads clamp what they load, so this holds even if the block's bytes change afterwards
 * (a mutable buffer): the answers may then be wrong, the reads are still in bounds. A block whose checksum was
 * forged to match passes the checksum but not the structural checks; one that is structurally sound but was not
 * made by the builder (keys out of hash order, duplicates) gives wrong answers, never out-of-bounds reads.
 * Returns TF_OK, TF_E_NULL, TF_E_CORRUPT or TF_E_VERSION; *why (if why is not NULL) gets a constant English
 * phrase saying what was wrong ("" on success). The block needs no alignment. O(size); reentrant. */
tf_status tf_fset_validate(tf_fset *t, const void *block, size_t size, const char **why);

/* The block's entry count, kinds and map flag. O(1), reentrant, interrupt-safe (as are all reads below). */
size_t tf_fset_count(const tf_fset *t);
int tf_fset_key_kind(const tf_fset *t);
int tf_fset_value_kind(const tf_fset *t);
int tf_fset_is_map(const tf_fset *t);

/* The position of `key`, or TF_FSET_NOT_FOUND (also when the table's keys are not ints). O(TF_FSET_LOAD) expected;
 * no allocation. */
size_t tf_fset_find_int(const tf_fset *t, int64_t key);

/* The position of the str/bytes key key[0 .. len), or TF_FSET_NOT_FOUND (also when the keys are ints). The caller
 * decides whether str and bytes tables are interchangeable (the binding keeps them apart). O(TF_FSET_LOAD + len). */
size_t tf_fset_find_bytes(const tf_fset *t, const void *key, size_t len);

/* The key / value at position i < count (positions run in the block's hash order). Out-of-range i or a kind
 * mismatch gives 0 / 0.0 / an empty span. The span pointers point into the block. O(1), except
 * tf_fset_key_span: O(log n) to find the bucket, then a walk of its few records (iterate with tf_fset_key_next). */
int64_t tf_fset_key_int(const tf_fset *t, size_t i);
tf_fspan tf_fset_key_span(const tf_fset *t, size_t i);
int64_t tf_fset_value_int(const tf_fset *t, size_t i);
double tf_fset_value_float(const tf_fset *t, size_t i);
tf_fspan tf_fset_value_span(const tf_fset *t, size_t i);

/* Sequential iteration over str/bytes keys: start with *offset = 0; each call returns the key at the next position
 * (0, 1, ... count - 1) and advances *offset. After the last key (or on a kind mismatch) it returns an empty span
 * with NULL data. O(1) a key; interrupt-safe. */
tf_fspan tf_fset_key_next(const tf_fset *t, size_t *offset);

/* The fixed-seed 64-bit hashes used for bucket placement (exposed for tests and tools; part of the format). */
uint64_t tf_fset_hash_int(int64_t key);
uint64_t tf_fset_hash_bytes(const void *data, size_t len);

/* The block checksum (docs/format-frozen.md): a 64-bit hash of block[0..8) and block[16..size). O(size). */
uint64_t tf_fset_checksum(const void *block, size_t size);

#ifdef __cplusplus
}
#endif
#endif /* THRIFTY_FSET_H */
