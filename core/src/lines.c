/* thrifty core — line boundaries (see lines.h). */
#include "thrifty/lines.h"

/* Word-at-a-time scan. A word has a zero byte iff (w - ONES) & ~w & HIGHS is non-zero (exact for "any", though
 * not for "which", so narrower loops finish the words that matched); XOR with a repeated target byte turns "has that
 * byte" into "has a zero byte". The main loop reads two words and first asks the cheaper question "any byte below
 * 0x0E?" (same trick with 0x0E in place of 1), which text answers "no" for every word but the one holding the line
 * end (tabs are the common false alarm; they cost one exact check). size_t is the natural register width on both
 * 32- and 64-bit targets. */
#define TF__ONES ((size_t)-1 / 0xFFu)
#define TF__HIGHS (TF__ONES * 0x80u)
#define TF__HAS_LESS(w, b) (((w)-TF__ONES * (b)) & ~(w)&TF__HIGHS)
#define TF__HAS_ZERO(w) TF__HAS_LESS(w, 1u)
#define TF__HAS_EOL(w) (TF__HAS_ZERO((w) ^ (TF__ONES * 0x0Au)) | TF__HAS_ZERO((w) ^ (TF__ONES * 0x0Du)))

#if TF_LINES_SIMD
/* GCC/Clang vector extensions (no header needed) compare 16 bytes at once; the lowest flagged lane is the answer,
 * found with a count of trailing zeros on the little-endian lane order. */
typedef uint8_t tf__v16 __attribute__((vector_size(16)));
typedef uint64_t tf__v2 __attribute__((vector_size(16)));
#endif

size_t tf_scan_eol(const uint8_t *s, size_t n) {
    size_t i = 0;
    if (!s)
        return n;
#if TF_LINES_SIMD
    const tf__v16 lf = {10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10};
    const tf__v16 cr = {13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13};
    for (; n - i >= 16; i += 16) {
        tf__v16 v;
        TF_MEMCPY(&v, s + i, 16);
        tf__v2 hit = (tf__v2)((v == lf) | (v == cr));
        if (hit[0] | hit[1]) {
            uint64_t low = hit[0];
            return i + (low ? (size_t)__builtin_ctzll(low) / 8u : 8u + (size_t)__builtin_ctzll(hit[1]) / 8u);
        }
    }
#endif
    for (; n - i >= 2 * sizeof(size_t); i += 2 * sizeof(size_t)) {
        size_t a, b;
        TF_MEMCPY(&a, s + i, sizeof a);
        TF_MEMCPY(&b, s + i + sizeof a, sizeof b);
        if ((TF__HAS_LESS(a, 0x0Eu) | TF__HAS_LESS(b, 0x0Eu)) && (TF__HAS_EOL(a) | TF__HAS_EOL(b)))
            break;
    }
    for (; n - i >= sizeof(size_t); i += sizeof(size_t)) {
        size_t w;
        TF_MEMCPY(&w, s + i, sizeof w);
        if (TF__HAS_EOL(w))
            break;
    }
    for (; i < n; i++)
        if (s[i] == '\n' || s[i] == '\r')
            return i;
    return n;
}

size_t tf_line_next(const uint8_t *s, size_t n, int final, size_t *content_len) {
    if (!s || n == 0 || !content_len)
        return 0;
    size_t i = tf_scan_eol(s, n);
    if (i == n) {
        if (!final)
            return 0;
        *content_len = n;
        return n;
    }
    if (s[i] == '\r') {
        if (i + 1 == n && !final)
            return 0; /* "\r" then maybe "\n" in the next piece */
        *content_len = i;
        return (i + 1 < n && s[i + 1] == '\n') ? i + 2 : i + 1;
    }
    *content_len = i;
    return i + 1;
}
