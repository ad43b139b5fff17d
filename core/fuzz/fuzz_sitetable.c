/* Fuzz target for sitetable and packtable: the input is a program of put/take/get/clear operations over a small key
 * space, run on both tables against one shadow array; any disagreement (or an out-of-bounds access the sanitizers see)
 * is a crash. Exercises backward-shift deletion under every interleaving the fuzzer finds, at full load, and the
 * in-place bulk removal (remove_if) the tracker runs when it drops a run's stale entries. */
#include <stdint.h>
#include <stdlib.h>

#include "thrifty/sitetable.h"

#define KEYS 64u

/* remove_if's callback: drops the keys whose index is a multiple of *ctx */
static int drop_multiples(void *ctx, uint64_t key, uint64_t value) {
    (void)value;
    return ((key >> 4) % KEYS) % *(const uint32_t *)ctx == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static uint64_t storage[2 * 64], pstorage[64];
    tf_packtable pt;
    uint64_t shadow[KEYS]; /* value + 1; 0 = absent */
    uint32_t present = 0, capacity;
    tf_sitetable t;
    if (size < 1)
        return 0;
    capacity = 1u + data[0] % 48u; /* 48 entries fit the 64 slots the storage holds */
    if (tf_sitetable_init(&t, storage, sizeof storage, capacity) != TF_OK ||
        tf_packtable_init(&pt, pstorage, sizeof pstorage, capacity, 8) != TF_OK)
        abort();
    for (uint32_t i = 0; i < KEYS; i++)
        shadow[i] = 0;
    for (size_t i = 1; i + 1 < size; i += 2) {
        uint32_t k = data[i + 1] % KEYS;
        /* keys that share low bits, like block addresses */
        uint64_t key = ((uint64_t)k << 4) | 0x10000u, v = 0, pv = 0;
        switch (data[i] % 4u) {
        case 0:
            if ((tf_sitetable_put(&t, key, data[i]) == TF_OK) != (tf_packtable_put(&pt, key, data[i]) == TF_OK))
                abort();
            if (tf_sitetable_get(&t, key, NULL)) {
                if (!shadow[k])
                    present++;
                shadow[k] = (uint64_t)data[i] + 1u;
            } else if (shadow[k] || present < capacity) {
                abort();
            }
            break;
        case 1:
            if (tf_sitetable_take(&t, key, &v) != (shadow[k] != 0) || (shadow[k] && v + 1u != shadow[k]))
                abort();
            if (tf_packtable_take(&pt, key, &pv) != (shadow[k] != 0) || (shadow[k] && pv + 1u != shadow[k]))
                abort();
            if (shadow[k]) {
                shadow[k] = 0;
                present--;
            }
            break;
        case 2:
            if (tf_sitetable_get(&t, key, &v) != (shadow[k] != 0) || (shadow[k] && v + 1u != shadow[k]))
                abort();
            if (tf_packtable_get(&pt, key, &pv) != (shadow[k] != 0) || (shadow[k] && pv + 1u != shadow[k]))
                abort();
            break;
        default:
            if (data[i + 1] >= 0xF8 && data[i + 1] < 0xFF) {
                uint32_t divisor = 2u + (data[i + 1] & 3u), dropped = 0;
                for (uint32_t j = 0; j < KEYS; j++)
                    if (shadow[j] && j % divisor == 0) {
                        shadow[j] = 0;
                        dropped++;
                    }
                if (tf_sitetable_remove_if(&t, drop_multiples, &divisor) != dropped ||
                    tf_packtable_remove_if(&pt, drop_multiples, &divisor) != dropped)
                    abort();
                present -= dropped;
            } else if (data[i + 1] == 0xFF) {
                tf_sitetable_clear(&t);
                tf_packtable_clear(&pt);
                for (uint32_t j = 0; j < KEYS; j++)
                    shadow[j] = 0;
                present = 0;
            }
        }
        if (tf_sitetable_count(&t) != present || tf_packtable_count(&pt) != present)
            abort();
    }
    return 0;
}
