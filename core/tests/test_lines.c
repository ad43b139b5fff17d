/* Tests for line boundaries: the word-at-a-time scan against a byte loop, and tf_line_next against the
 * splitlines() rules ("\n", "\r", "\r\n"), including a "\r" at the end of a non-final span. */
#include <string.h>

#include "tf_test.h"
#include "thrifty/lines.h"

static size_t naive_eol(const uint8_t *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\n' || s[i] == '\r')
            return i;
    return n;
}

static void test_scan(void) {
    uint8_t buf[100];
    CHECK_EQ(tf_scan_eol(NULL, 0), 0);
    for (size_t len = 0; len < 40; len++)
        for (size_t pos = 0; pos <= len; pos++)
            for (int which = 0; which < 2; which++) {
                memset(buf, 'x', sizeof buf);
                if (pos < len)
                    buf[pos] = which ? '\r' : '\n';
                /* bytes next to the targets must not confuse the zero-byte trick */
                buf[0] = pos == 0 && pos < len ? buf[0] : (uint8_t)(0x0A ^ 0x80);
                CHECK_EQ(tf_scan_eol(buf, len), naive_eol(buf, len));
            }
    uint32_t rng = 7;
    for (int round = 0; round < 20000; round++) {
        size_t len = (rng >> 4) % 64;
        for (size_t i = 0; i < len; i++) {
            rng = rng * 1664525u + 1013904223u;
            static const uint8_t special[4] = {'\n', '\r', 0x0b, 0x8a};
            buf[i] = (rng >> 24) % 16 == 0 ? special[(rng >> 8) & 3] : (uint8_t)(rng >> 16);
        }
        rng = rng * 1664525u + 1013904223u;
        CHECK_EQ(tf_scan_eol(buf, len), naive_eol(buf, len));
    }
}

static void test_line_next(void) {
    size_t c = 99;
    const uint8_t *s = (const uint8_t *)"ab\ncd";
    CHECK_EQ(tf_line_next(s, 0, 1, &c), 0);
    CHECK_EQ(tf_line_next(s, 5, 0, &c), 3);
    CHECK_EQ(c, 2);
    CHECK_EQ(tf_line_next(s + 3, 2, 0, &c), 0); /* no terminator yet */
    CHECK_EQ(tf_line_next(s + 3, 2, 1, &c), 2); /* final: the rest is the last line */
    CHECK_EQ(c, 2);
    CHECK_EQ(tf_line_next((const uint8_t *)"x\r\ny", 4, 0, &c), 3);
    CHECK_EQ(c, 1);
    CHECK_EQ(tf_line_next((const uint8_t *)"x\ry", 3, 0, &c), 2);
    CHECK_EQ(c, 1);
    c = 99;
    CHECK_EQ(tf_line_next((const uint8_t *)"x\r", 2, 0, &c), 0); /* "\n" may follow */
    CHECK_EQ(c, 99);
    CHECK_EQ(tf_line_next((const uint8_t *)"x\r", 2, 1, &c), 2);
    CHECK_EQ(c, 1);
    CHECK_EQ(tf_line_next((const uint8_t *)"\n\r", 2, 0, &c), 1);
    CHECK_EQ(c, 0);
    CHECK_EQ(tf_line_next((const uint8_t *)"\r\r\n", 3, 0, &c), 1);
    CHECK_EQ(tf_line_next((const uint8_t *)"\x0b\x0c\x1c\n", 4, 0, &c), 4); /* bytes.splitlines ignores these */
    CHECK_EQ(c, 3);
}

int main(void) {
    RUN(test_scan);
    RUN(test_line_next);
    return TF_TEST_SUMMARY();
}
