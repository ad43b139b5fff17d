/* libFuzzer target: tf_fset_validate on arbitrary bytes, then every read a binding makes (lookups, iteration).
 *
 * The first input byte picks a mode. Odd: the rest is a block whose checksum this target rewrites to match before
 * validating, so the fuzzer reaches the structural checks behind the checksum (the "forged checksum" attack).
 * Even: the rest is validated as is. The block is copied to an exact-size heap buffer so ASan flags any read past
 * its end. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "thrifty/fset.h"

static void read_everything(const tf_fset *t) {
    volatile uint64_t sink = 0;
    size_t n = tf_fset_count(t);
    for (size_t i = 0; i < n; i++) {
        tf_fspan k = tf_fset_key_span(t, i), v = tf_fset_value_span(t, i);
        for (size_t j = 0; j < k.len; j++)
            sink += ((const uint8_t *)k.data)[j];
        for (size_t j = 0; j < v.len; j++)
            sink += ((const uint8_t *)v.data)[j];
        sink += (uint64_t)tf_fset_key_int(t, i) + (uint64_t)tf_fset_value_int(t, i);
        sink += (uint64_t)(tf_fset_value_float(t, i) != 0.0);
        sink += tf_fset_find_bytes(t, k.data, k.len);
        sink += tf_fset_find_int(t, tf_fset_key_int(t, i));
        sink += tf_fset_find_int(t, tf_fset_key_int(t, i) ^ 1);
        if (i > 64)
            break; /* lookups are what matter; keep each input fast */
    }
    sink += tf_fset_find_bytes(t, "missing", 7);
    sink += tf_fset_find_int(t, INT64_MIN);
    (void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tf_fset t;
    const char *why = NULL;
    uint8_t *block;
    size_t n;
    if (size < 1)
        return 0;
    n = size - 1;
    block = (uint8_t *)malloc(n ? n : 1);
    if (!block)
        return 0;
    if (n)
        memcpy(block, data + 1, n);
    if ((data[0] & 1u) && n >= 16)
        tf__store_le64(block + 8, tf_fset_checksum(block, n));
    if (tf_fset_validate(&t, block, n, &why) == TF_OK)
        read_everything(&t);
    else if (!why || !why[0])
        __builtin_trap(); /* every rejection must say why */
    free(block);
    return 0;
}
