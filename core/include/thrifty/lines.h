/* thrifty core — finding line boundaries in a span of bytes, for streaming line readers.
 *
 * Line boundaries are those of Python's bytes.splitlines(): "\n", "\r" and "\r\n" (a "\r\n" pair is one
 * boundary). Because input arrives in pieces, a "\r" that is the last byte of a span is not a complete boundary
 * until the caller knows whether "\n" follows: tf_line_next reports "need more" for it unless told the span is final.
 *
 * Both functions read only the span given, keep no state and are reentrant: safe from any thread or interrupt.
 */
#ifndef THRIFTY_LINES_H
#define THRIFTY_LINES_H

#include "thrifty/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Index of the first '\n' or '\r' in s[0:n), or n when there is none. O(n): 16 bytes a step where TF_LINES_SIMD
 * is on, a machine word a step otherwise. */
size_t tf_scan_eol(const uint8_t *s, size_t n);

/* The first line of s[0:n). Returns its length including its terminator and stores the length without it in
 * *content_len. Returns 0 (and leaves *content_len alone) when s holds no complete line yet: no terminator, or a
 * lone '\r' as the last byte, while `final` is 0. When `final` is non-zero the span is the end of the input: a
 * trailing '\r' ends a line, and bytes with no terminator form the last line. n == 0 always returns 0. O(length of
 * the line found). */
size_t tf_line_next(const uint8_t *s, size_t n, int final, size_t *content_len);

#ifdef __cplusplus
}
#endif
#endif /* THRIFTY_LINES_H */
