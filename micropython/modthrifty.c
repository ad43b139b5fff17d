/* thrifty for MicroPython: the `thrifty` module. `from thrifty import lz` gives thrifty.lz (docs/micropython.md). */
#include "py/runtime.h"
#include "thrifty_mp.h"

static const mp_rom_map_elem_t thrifty_module_globals_table[] = {
    {MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_thrifty)},
#if THRIFTY_MP_RING
    {MP_ROM_QSTR(MP_QSTR_Ring), MP_ROM_PTR(&thrifty_ring_type)},
#endif
#if THRIFTY_MP_FROZEN
    {MP_ROM_QSTR(MP_QSTR_FrozenSet), MP_ROM_PTR(&thrifty_frozenset_type)},
    {MP_ROM_QSTR(MP_QSTR_FrozenMap), MP_ROM_PTR(&thrifty_frozenmap_type)},
#endif
#if THRIFTY_MP_LZ
    {MP_ROM_QSTR(MP_QSTR_lz), MP_ROM_PTR(&thrifty_lz_module)},
#endif
#if THRIFTY_MP_POOL
    {MP_ROM_QSTR(MP_QSTR_Pool), MP_ROM_PTR(&thrifty_pool_type)},
    {MP_ROM_QSTR(MP_QSTR_Block), MP_ROM_PTR(&thrifty_block_type)},
    {MP_ROM_QSTR(MP_QSTR_PoolExhausted), MP_ROM_PTR(&thrifty_pool_exhausted_type)},
#endif
};
static MP_DEFINE_CONST_DICT(thrifty_module_globals, thrifty_module_globals_table);

const mp_obj_module_t thrifty_user_cmodule = {
    .base = {&mp_type_module},
    .globals = (mp_obj_dict_t *)&thrifty_module_globals,
};
MP_REGISTER_MODULE(MP_QSTR_thrifty, thrifty_user_cmodule);
