/* thrifty for MicroPython: the types each file defines and the one helper they share. Thin like the CPython binding:
 * parse arguments, call the core, turn its status into a result or an exception. Storage comes from MicroPython's GC
 * heap (m_new) or from the caller's buffers; the core never allocates. */
#ifndef THRIFTY_MP_H
#define THRIFTY_MP_H

#include "py/obj.h"
#include "thrifty/common.h"

/* Which parts a firmware gets: each 0 leaves that part (and, with --gc-sections, its core code) out. */
#ifndef THRIFTY_MP_RING
#define THRIFTY_MP_RING 1
#endif
#ifndef THRIFTY_MP_LZ
#define THRIFTY_MP_LZ 1
#endif
#ifndef THRIFTY_MP_FROZEN
#define THRIFTY_MP_FROZEN 1
#endif
#ifndef THRIFTY_MP_POOL
#define THRIFTY_MP_POOL 1
#endif

extern const mp_obj_type_t thrifty_ring_type;           /* ring.c */
extern const mp_obj_type_t thrifty_frozenset_type;      /* frozen.c */
extern const mp_obj_type_t thrifty_frozenmap_type;      /* frozen.c */
extern const mp_obj_type_t thrifty_compressor_type;     /* lz.c */
extern const mp_obj_type_t thrifty_decompressor_type;   /* lz.c */
extern const mp_obj_module_t thrifty_lz_module;         /* lz.c */
extern const mp_obj_type_t thrifty_pool_type;           /* pool.c */
extern const mp_obj_type_t thrifty_block_type;          /* pool.c */
extern const mp_obj_type_t thrifty_pool_exhausted_type; /* pool.c */

/* A GC-heap block of at least n bytes for the core's state (TF_*_ALIGN is 8): the GC hands out blocks aligned to
 * MICROPY_BYTES_PER_GC_BLOCK (4 words by default: 16 bytes on 32-bit ports, 32 on 64-bit), which the static assert
 * in it checks; the core's init functions check it again. */
static inline void *thrifty_alloc(size_t n) {
    MP_STATIC_ASSERT(MICROPY_BYTES_PER_GC_BLOCK % 8 == 0);
    return m_new(uint64_t, (n + 7u) / 8u);
}

#endif /* THRIFTY_MP_H */
