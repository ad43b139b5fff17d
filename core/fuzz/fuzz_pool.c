/* Fuzz target for the block pool: the first byte picks the flags (zero, canary; low 2 bits) and the block size (1 to
 * 24 bytes, so blocks smaller than the free-list link, whose canary starts after the link, are covered too); each
 * later byte is an operation
 * (acquire or release, by pointer or by index; write into a held block; release a pointer that may not be a block
 * start; release the last released block again), checked against a model of which blocks are out. Any status that
 * disagrees with the model aborts; ASan catches any access outside the arena. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "thrifty/pool.h"

enum { COUNT = 9, MAX_BLOCK = 24 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static uint64_t storage[256];
    tf_pool pool;
    unsigned flags = size > 0 ? (unsigned)(data[0] & 3u) : 0u;
    size_t block = size > 0 ? 1u + (size_t)(data[0] >> 2) % MAX_BLOCK : 13u;
    if (tf_pool_size(block, COUNT, flags) > sizeof storage ||
        tf_pool_init(&pool, storage, sizeof storage, block, COUNT, flags) != TF_OK)
        abort();
    unsigned char *held[COUNT];
    size_t n_held = 0;
    unsigned char *last_released = NULL;
    size_t most = 0;
    for (size_t i = 1; i < size; i++) {
        uint8_t op = data[i] & 7u, arg = (uint8_t)(data[i] >> 3);
        if (op <= 2) {
            void *b = NULL;
            size_t index = COUNT;
            tf_status s = op == 2 ? tf_pool_acquire_index(&pool, &index) : tf_pool_acquire(&pool, &b);
            if (op == 2 && s == TF_OK)
                b = tf_pool_block(&pool, index);
            if ((n_held == COUNT) != (s == TF_E_EMPTY))
                abort();
            if (s == TF_OK) {
                for (size_t k = 0; k < n_held; k++)
                    if (held[k] == b)
                        abort();
                held[n_held++] = b;
            }
        } else if (op <= 4 && n_held > 0) {
            size_t k = arg % n_held;
            size_t index = tf_pool_index(&pool, held[k]);
            /* op 4: by index, with the checks or (a caller that knows the block is out) without them */
            tf_status s = op == 3       ? tf_pool_release(&pool, held[k])
                          : (arg & 16u) ? tf_pool_release_out(&pool, index)
                                        : tf_pool_release_index(&pool, index);
            if (s != TF_OK)
                abort();
            last_released = held[k];
            held[k] = held[--n_held];
        } else if (op == 5 && n_held > 0) {
            memset(held[arg % n_held], arg, block);
        } else if (op == 6) {
            unsigned char *p = (unsigned char *)storage + arg;
            size_t index = tf_pool_index(&pool, p), k = 0;
            while (k < n_held && held[k] != p)
                k++;
            /* releasing a free block that is not the last one released is undetectable without canaries */
            if (index < COUNT && k == n_held && !(flags & TF_POOL_FLAG_CANARY) && p != last_released)
                continue;
            tf_status s = tf_pool_release(&pool, p);
            if (index == COUNT ? s != TF_E_ARG : (k < n_held ? s != TF_OK : s != TF_E_STATE))
                abort();
            if (k < n_held) {
                last_released = p;
                held[k] = held[--n_held];
            }
        } else if (op == 7 && last_released) {
            int out = 0;
            for (size_t k = 0; k < n_held; k++)
                out |= held[k] == last_released;
            tf_status s = tf_pool_release(&pool, last_released);
            if (!out && s != TF_E_STATE)
                abort(); /* the block released last is always caught, canary or not */
            if (out && s != TF_OK)
                abort();
            if (out)
                for (size_t k = 0; k < n_held; k++)
                    if (held[k] == last_released)
                        held[k] = held[--n_held];
        }
        if (pool.in_use != n_held)
            abort();
        tf_pool_stats st;
        tf_pool_stats_get(&pool, &st);
        most = n_held > most ? n_held : most;
        if (st.high_water != most) /* derived from the pool's state (tf_pool.fresh): the model's maximum */
            abort();
    }
    return 0;
}
