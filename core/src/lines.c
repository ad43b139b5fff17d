/* thrifty core — line boundaries (see lines.h). */
#include "thrifty/lines.h"

/* Word-at-a-time scan: a word has a zero byte iff (w - ONES) & ~w & HIGHS is non-zero (exact for "any", though
 * not for "which", so the byte loop finishes the word that matched). XOR with a repeated target byte turns "has
 * that byte" into "has a zero byte". size_t is the natural register width on both 32- and 64-bit targets. */
#define TF__ONES ((size_t)-1 / 0xFFu)
#define TF__HIGHS (TF__ONES * 0x80u)
#define TF__HAS_ZERO(w) (((w)-TF__ONES) & ~(w)&TF__HIGHS)

size_t tf_scan_eol(const uint8_t *s, size_t n) {
    size_t i = 0;
    if (!s)
        return n;
    const size_t lf = TF__ONES * (size_t)'\n', cr = TF__ONES * (size_t)'\r';
    for (; n - i >= sizeof(size_t); i += sizeof(size_t)) {
        size_t w;
        TF_MEMCPY(&w, s + i, sizeof w);
        if (TF__HAS_ZERO(w ^ lf) | TF__HAS_ZERO(w ^ cr))
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
