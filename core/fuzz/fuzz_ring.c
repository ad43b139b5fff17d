/* Fuzz target for the Ring core: the input picks a capacity and an item size, then is read as a sequence of
 * operations, each applied to the ring and to a plain-array model; any difference traps. The storage sits in a
 * malloc'd block of exactly tf_ring_size() bytes, so ASan catches any access outside it. */
#include <stdlib.h>
#include <string.h>

#include "thrifty/ring.h"

#define MAX_CAP 40u
#define MAX_ITEM 8u

typedef struct {
    uint8_t items[MAX_CAP * MAX_ITEM];
    size_t n;
} model;

static void fail(void) { __builtin_trap(); }

static void check(const tf_ring *r, const model *m, size_t isz) {
    if (tf_ring_len(r) != m->n || tf_ring_space(r) != r->capacity - m->n)
        fail();
    uint8_t tmp[MAX_CAP * MAX_ITEM + 1];
    if (tf_ring_peek(r, 0, tmp, MAX_CAP + 1) != m->n || (m->n && memcmp(tmp, m->items, m->n * isz) != 0))
        fail();
    for (size_t i = 0; i < m->n; i++)
        if (memcmp(tf_ring_at(r, i), m->items + i * isz, isz) != 0)
            fail();
    if (tf_ring_at(r, m->n) != NULL)
        fail();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const size_t sizes[] = {1, 2, 3, 4, 8};
    if (size < 2)
        return 0;
    size_t cap = data[0] % (MAX_CAP + 1u), isz = sizes[data[1] % 5u];
    data += 2;
    size -= 2;
    size_t bytes = tf_ring_size(cap, isz);
    uint8_t *store = malloc(bytes ? bytes : 1u);
    tf_ring r;
    model m;
    m.n = 0;
    if (!store || tf_ring_init(&r, cap ? store : NULL, bytes, isz, cap) != TF_OK)
        fail();
    uint8_t item[MAX_ITEM], out[MAX_CAP * MAX_ITEM + MAX_ITEM];
    for (size_t pos = 0; pos < size; pos++) {
        uint8_t op = data[pos];
        uint8_t arg = pos + 1 < size ? data[pos + 1] : 0;
        memset(item, op ^ 0x5a, sizeof item);
        item[0] = (uint8_t)pos;
        switch (op % 12u) {
        case 0: /* push_back */
            if (tf_ring_push_back(&r, item) != (m.n < cap ? TF_OK : TF_E_FULL))
                fail();
            if (m.n < cap)
                memcpy(m.items + m.n++ * isz, item, isz);
            break;
        case 1: /* push_front */
            if (tf_ring_push_front(&r, item) != (m.n < cap ? TF_OK : TF_E_FULL))
                fail();
            if (m.n < cap) {
                memmove(m.items + isz, m.items, m.n * isz);
                memcpy(m.items, item, isz);
                m.n++;
            }
            break;
        case 2: /* pop_front */
            if (tf_ring_pop_front(&r, out) != (m.n ? TF_OK : TF_E_EMPTY))
                fail();
            if (m.n) {
                if (memcmp(out, m.items, isz) != 0)
                    fail();
                memmove(m.items, m.items + isz, --m.n * isz);
            }
            break;
        case 3: /* pop_back */
            if (tf_ring_pop_back(&r, out) != (m.n ? TF_OK : TF_E_EMPTY))
                fail();
            if (m.n && memcmp(out, m.items + --m.n * isz, isz) != 0)
                fail();
            break;
        case 4: { /* insert */
            size_t at = arg % (m.n + 2u);
            tf_status want = at > m.n ? TF_E_RANGE : m.n >= cap ? TF_E_FULL : TF_OK;
            if (tf_ring_insert(&r, at, item) != want)
                fail();
            if (want == TF_OK) {
                memmove(m.items + (at + 1) * isz, m.items + at * isz, (m.n - at) * isz);
                memcpy(m.items + at * isz, item, isz);
                m.n++;
            }
        } break;
        case 5: { /* remove */
            size_t at = arg % (m.n + 1u);
            if (tf_ring_remove(&r, at) != (at < m.n ? TF_OK : TF_E_RANGE))
                fail();
            if (at < m.n) {
                memmove(m.items + at * isz, m.items + (at + 1) * isz, (m.n - at - 1) * isz);
                m.n--;
            }
        } break;
        case 6: { /* rotate either way */
            size_t k = arg, sh = m.n ? k % m.n : 0;
            uint8_t tmp[MAX_CAP * MAX_ITEM];
            if (op & 0x80) {
                tf_ring_rotate_left(&r, k);
                sh = m.n ? (m.n - sh) % m.n : 0;
            } else {
                tf_ring_rotate_right(&r, k);
            }
            for (size_t i = 0; i < m.n; i++)
                memcpy(tmp + ((i + sh) % m.n) * isz, m.items + i * isz, isz);
            memcpy(m.items, tmp, m.n * isz);
        } break;
        case 7: /* reverse */
            tf_ring_reverse(&r);
            for (size_t i = 0; i < m.n / 2; i++) {
                uint8_t t[MAX_ITEM];
                memcpy(t, m.items + i * isz, isz);
                memcpy(m.items + i * isz, m.items + (m.n - 1 - i) * isz, isz);
                memcpy(m.items + (m.n - 1 - i) * isz, t, isz);
            }
            break;
        case 8: { /* bulk write */
            size_t k = arg % (MAX_CAP + 3u), room = cap - m.n, w;
            uint8_t src[(MAX_CAP + 3u) * MAX_ITEM];
            for (size_t i = 0; i < k * isz; i++)
                src[i] = (uint8_t)(pos + i);
            w = tf_ring_write(&r, src, k);
            if (w != (k < room ? k : room))
                fail();
            memcpy(m.items + m.n * isz, src, w * isz);
            m.n += w;
        } break;
        case 9: { /* bulk read */
            size_t k = arg % (MAX_CAP + 3u), got = tf_ring_read(&r, out, k);
            if (got != (k < m.n ? k : m.n) || (got && memcmp(out, m.items, got * isz) != 0))
                fail();
            memmove(m.items, m.items + got * isz, (m.n - got) * isz);
            m.n -= got;
        } break;
        case 10: { /* zero-copy blocks */
            void *p;
            size_t k = tf_ring_write_block(&r, &p), take = k ? arg % (k + 1u) : 0;
            if (k > cap - m.n)
                fail();
            if (take > 0) /* p may be NULL for a capacity-0 ring */
                memset(p, 0xc3, take * isz);
            if (tf_ring_commit(&r, take) != TF_OK || tf_ring_commit(&r, cap - m.n - take + 1u) != TF_E_RANGE)
                fail();
            if (take > 0)
                memset(m.items + m.n * isz, 0xc3, take * isz);
            m.n += take;
            k = tf_ring_read_block(&r, &p);
            take = k ? arg % (k + 1u) : 0;
            if (k > m.n || (take && memcmp(p, m.items, take * isz) != 0) || tf_ring_consume(&r, take) != TF_OK)
                fail();
            memmove(m.items, m.items + take * isz, (m.n - take) * isz);
            m.n -= take;
        } break;
        default: /* clear, rarely */
            if (arg % 8u == 0) {
                tf_ring_clear(&r);
                m.n = 0;
            }
            break;
        }
        check(&r, &m, isz);
    }
    free(store);
    return 0;
}
