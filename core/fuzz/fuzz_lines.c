/* Fuzz target for the line-boundary scan: the input is split into lines twice — by tf_line_next fed in pieces of
 * a size taken from the first byte (the way a streaming reader sees it), and by a byte-at-a-time reference of the
 * splitlines() rules — and the two must agree exactly, with every byte accounted for. */
#include <stdint.h>
#include <stdlib.h>

#include "thrifty/lines.h"

/* Reference: length (with terminator) of the first line of s[0:n), content length in *content. n > 0. */
static size_t reference_line(const uint8_t *s, size_t n, size_t *content) {
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n') {
            *content = i;
            return i + 1;
        }
        if (s[i] == '\r') {
            *content = i;
            return (i + 1 < n && s[i + 1] == '\n') ? i + 2 : i + 1;
        }
    }
    *content = n;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0;
    size_t piece = (size_t)data[0] % 17u + 1u; /* bytes made visible per "read" */
    const uint8_t *s = data + 1;
    size_t n = size - 1, start = 0, visible = 0, ref_at = 0;
    while (start < n) {
        size_t content = 0;
        int final = visible == n;
        size_t len = tf_line_next(s + start, visible - start, final, &content);
        if (len == 0) {
            if (final)
                abort(); /* bytes left but no line reported at the end of input */
            visible = visible + piece > n ? n : visible + piece;
            continue;
        }
        size_t ref_content = 0, ref_len = reference_line(s + ref_at, n - ref_at, &ref_content);
        if (start != ref_at || len != ref_len || content != ref_content || start + len > visible)
            abort();
        start += len;
        ref_at += ref_len;
    }
    size_t dummy;
    if (tf_line_next(s + start, 0, 1, &dummy) != 0 || tf_scan_eol(s, n) > n)
        abort();
    return 0;
}
