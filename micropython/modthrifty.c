/* thrifty for MicroPython: the `thrifty` module. `from thrifty import lz` gives thrifty.lz (docs/micropython.md).
 * In a firmware it is registered with MP_REGISTER_MODULE; as thrifty.mpy, mpy_init below builds it at import. */
#include "thrifty_mp.h" /* first: in the natmod build it brings py/dynruntime.h */

#include "py/runtime.h"

#if THRIFTY_MP_RING
#define THRIFTY_GLOBALS_RING(X) X(MP_QSTR_Ring, thrifty_ring_type)
#else
#define THRIFTY_GLOBALS_RING(X)
#endif
#if THRIFTY_MP_FROZEN
#define THRIFTY_GLOBALS_FROZEN(X)                                                                                      \
    X(MP_QSTR_FrozenSet, thrifty_frozenset_type) X(MP_QSTR_FrozenMap, thrifty_frozenmap_type)
#else
#define THRIFTY_GLOBALS_FROZEN(X)
#endif
#if THRIFTY_MP_LZ
#define THRIFTY_GLOBALS_LZ(X) X(MP_QSTR_lz, thrifty_lz_module)
#else
#define THRIFTY_GLOBALS_LZ(X)
#endif
#if THRIFTY_MP_POOL
#define THRIFTY_GLOBALS_POOL(X)                                                                                        \
    X(MP_QSTR_Pool, thrifty_pool_type)                                                                                 \
    X(MP_QSTR_Block, thrifty_block_type) X(MP_QSTR_PoolExhausted, thrifty_pool_exhausted_type)
#else
#define THRIFTY_GLOBALS_POOL(X)
#endif
#define THRIFTY_GLOBALS(X)                                                                                             \
    THRIFTY_GLOBALS_RING(X) THRIFTY_GLOBALS_FROZEN(X) THRIFTY_GLOBALS_LZ(X) THRIFTY_GLOBALS_POOL(X)

#if THRIFTY_NATMOD
#define THRIFTY_STORE_GLOBAL(q, obj) mp_store_global(q, MP_OBJ_FROM_PTR(&(obj)));

/* The natmod's entry point, run by `import thrifty`: each part fills its tables, then the module gets its names. */
mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY
    thrifty_natmod_runtime();
#if THRIFTY_MP_RING
    thrifty_natmod_ring();
#endif
#if THRIFTY_MP_FROZEN
    thrifty_natmod_frozen();
#endif
#if THRIFTY_MP_LZ
    thrifty_natmod_lz(self->context->module.base.type); /* this module's type: mp_type_module */
#endif
#if THRIFTY_MP_POOL
    thrifty_natmod_pool();
#endif
    THRIFTY_GLOBALS(THRIFTY_STORE_GLOBAL)
    MP_DYNRUNTIME_INIT_EXIT
}
#else
static const mp_rom_map_elem_t thrifty_module_globals_table[] = {
    {MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_thrifty)}, THRIFTY_GLOBALS(THRIFTY_DICT_ROM)};
static MP_DEFINE_CONST_DICT(thrifty_module_globals, thrifty_module_globals_table);

const mp_obj_module_t thrifty_user_cmodule = {
    .base = {&mp_type_module},
    .globals = (mp_obj_dict_t *)&thrifty_module_globals,
};
MP_REGISTER_MODULE(MP_QSTR_thrifty, thrifty_user_cmodule);
#endif
