/* thrifty for MicroPython: the types each file defines and the helpers they share. Thin like the CPython binding:
 * parse arguments, call the core, turn its status into a result or an exception. Storage comes from MicroPython's GC
 * heap (m_new) or from the caller's buffers; the core never allocates.
 *
 * The same files build two ways: as a user C module compiled into a firmware (micropython.mk, micropython.cmake),
 * and as a dynamic native module, thrifty.mpy (natmod.mk), which MicroPython's py/dynruntime.mk compiles with
 * MICROPY_ENABLE_DYNRUNTIME. A natmod gets its qstrs numbered only when it is imported, so tables holding qstrs
 * (method dicts, argument specs, type names) cannot be constant data there: the THRIFTY_* macros below write each
 * table once, as ROM data in a firmware and as RAM filled by the file's thrifty_natmod_*() function in a natmod. */
#ifndef THRIFTY_MP_H
#define THRIFTY_MP_H

#if defined(MICROPY_ENABLE_DYNRUNTIME) && MICROPY_ENABLE_DYNRUNTIME
#define THRIFTY_NATMOD 1
#include "natmod.h" /* py/dynruntime.h and the runtime pieces it lacks */
#else
#define THRIFTY_NATMOD 0
#include "py/obj.h"
#endif
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

/* THRIFTY_ARGS: an mp_arg_t table, static in a firmware, built on the stack in a natmod. */
/* THRIFTY_DICT(dict, LIST): a fixed dict (locals or module globals) from LIST(X), a list of X(MP_QSTR_name, object)
 * entries (written out in full: mpy_ld finds a natmod's qstrs by reading the source). */
/* THRIFTY_TYPE(type, MP_QSTR_name, flags, slot, value, ...): MP_DEFINE_CONST_OBJ_TYPE's arguments; a natmod keeps a
 * constant template and copies it into a RAM type at import, when the name's qstr is known. */
#if THRIFTY_NATMOD
#define THRIFTY_ARGS const
#define THRIFTY_DICT_ONE(q, obj) +1
#define THRIFTY_DICT_FILL(q, obj) (e->key = MP_OBJ_NEW_QSTR(q), e->value = MP_OBJ_FROM_PTR(&(obj)), e++);
#define THRIFTY_DICT(dict, LIST)                                                                                       \
    mp_map_elem_t dict##_table[0 LIST(THRIFTY_DICT_ONE)]; /* mpy_ld: RAM that constant data points to is global */     \
    static MP_DEFINE_CONST_DICT(dict, dict##_table);                                                                   \
    static void dict##_init(void) {                                                                                    \
        mp_map_elem_t *e = dict##_table;                                                                               \
        LIST(THRIFTY_DICT_FILL)                                                                                        \
    }
#define THRIFTY_TYPE(type, qname, ...)                                                                                 \
    static MP_DEFINE_CONST_OBJ_TYPE_EXPAND(MP_DEFINE_CONST_OBJ_TYPE_NARGS(                                             \
        type##_template, 0, __VA_ARGS__, _INV, 12, _INV, 11, _INV, 10, _INV, 9, _INV, 8, _INV, 7, _INV, 6, _INV, 5,    \
        _INV, 4, _INV, 3, _INV, 2, _INV, 1, _INV, 0)(mp_obj_full_type_t, type##_template, 0, __VA_ARGS__));            \
    mp_obj_full_type_t type##_obj;                                                                                     \
    static void type##_init(void) {                                                                                    \
        type##_obj = type##_template;                                                                                  \
        type##_obj.name = qname;                                                                                       \
    }
/* A natmod's types are the RAM copies */
#define THRIFTY_TYPE_REF(type) (*(const mp_obj_type_t *)&type##_obj)
extern mp_obj_full_type_t thrifty_ring_type_obj, thrifty_frozenset_type_obj, thrifty_frozenmap_type_obj,
    thrifty_compressor_type_obj, thrifty_decompressor_type_obj, thrifty_pool_type_obj, thrifty_block_type_obj,
    thrifty_pool_exhausted_type_obj;
#define thrifty_ring_type THRIFTY_TYPE_REF(thrifty_ring_type)
#define thrifty_frozenset_type THRIFTY_TYPE_REF(thrifty_frozenset_type)
#define thrifty_frozenmap_type THRIFTY_TYPE_REF(thrifty_frozenmap_type)
#define thrifty_compressor_type THRIFTY_TYPE_REF(thrifty_compressor_type)
#define thrifty_decompressor_type THRIFTY_TYPE_REF(thrifty_decompressor_type)
#define thrifty_pool_type THRIFTY_TYPE_REF(thrifty_pool_type)
#define thrifty_block_type THRIFTY_TYPE_REF(thrifty_block_type)
#define thrifty_pool_exhausted_type THRIFTY_TYPE_REF(thrifty_pool_exhausted_type)
extern mp_obj_module_t thrifty_lz_module;
/* What each file sets up at import (modthrifty.c's mpy_init calls them) */
void thrifty_natmod_ring(void);
void thrifty_natmod_lz(const mp_obj_type_t *module_type);
void thrifty_natmod_frozen(void);
void thrifty_natmod_pool(void);
#else
#define THRIFTY_ARGS static const
#define THRIFTY_DICT_ROM(q, obj) {MP_ROM_QSTR(q), MP_ROM_PTR(&(obj))},
#define THRIFTY_DICT(dict, LIST)                                                                                       \
    static const mp_rom_map_elem_t dict##_table[] = {LIST(THRIFTY_DICT_ROM)};                                          \
    static MP_DEFINE_CONST_DICT(dict, dict##_table);
#define THRIFTY_TYPE(type, ...) MP_DEFINE_CONST_OBJ_TYPE(type, __VA_ARGS__)
#define THRIFTY_TYPE_REF(type) type
extern const mp_obj_type_t thrifty_ring_type;           /* ring.c */
extern const mp_obj_type_t thrifty_frozenset_type;      /* frozen.c */
extern const mp_obj_type_t thrifty_frozenmap_type;      /* frozen.c */
extern const mp_obj_type_t thrifty_compressor_type;     /* lz.c */
extern const mp_obj_type_t thrifty_decompressor_type;   /* lz.c */
extern const mp_obj_module_t thrifty_lz_module;         /* lz.c */
extern const mp_obj_type_t thrifty_pool_type;           /* pool.c */
extern const mp_obj_type_t thrifty_block_type;          /* pool.c */
extern const mp_obj_type_t thrifty_pool_exhausted_type; /* pool.c */
#endif

/* A GC-heap block of at least n bytes for the core's state (TF_*_ALIGN is 8): the GC hands out blocks aligned to
 * MICROPY_BYTES_PER_GC_BLOCK (4 words by default: 16 bytes on 32-bit ports, 32 on 64-bit), which the static assert
 * in it checks; the core's init functions check it again. */
static inline void *thrifty_alloc(size_t n) {
    MP_STATIC_ASSERT(MICROPY_BYTES_PER_GC_BLOCK % 8 == 0);
    return m_new(uint64_t, (n + 7u) / 8u);
}

/* Whether the n bytes at s spell the C string word (MicroPython's natmods have no strcmp). */
static inline int thrifty_equals(const char *s, size_t n, const char *word) {
    size_t i = 0;
    while (i < n && word[i] && s[i] == word[i])
        i++;
    return i == n && !word[i];
}

#endif /* THRIFTY_MP_H */
