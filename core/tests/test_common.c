/* Tests for the shared primitives: status names and the little-endian helpers. */
#include <string.h>

#include "tf_test.h"
#include "thrifty/common.h"

static void test_status_names(void) {
    CHECK(strcmp(tf_status_str(TF_OK), "ok") == 0);
    CHECK(strcmp(tf_status_str(TF_E_CORRUPT), "corrupt data") == 0);
    CHECK(strcmp(tf_status_str(12345), "unknown status") == 0);
}

static void test_little_endian(void) {
    uint8_t b[8];
    tf__store_le32(b, 0x11223344u);
    CHECK_EQ(b[0], 0x44);
    CHECK_EQ(b[3], 0x11);
    CHECK_EQ(tf__load_le32(b), 0x11223344u);
    tf__store_le64(b, 0x0102030405060708ull);
    CHECK_EQ(b[0], 8);
    CHECK(tf__load_le64(b) == 0x0102030405060708ull);
    tf__store_le16(b, 0xBEEF);
    CHECK_EQ(tf__load_le16(b), 0xBEEF);
}

int main(void) {
    RUN(test_status_names);
    RUN(test_little_endian);
    return TF_TEST_SUMMARY();
}
