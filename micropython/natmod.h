/* thrifty for MicroPython, the natmod build (thrifty.mpy, natmod.mk): py/dynruntime.h, through which a natmod
 * reaches the firmware (a table of function pointers, mp_fun_table), and the runtime functions the binding calls
 * that the table does not offer, as macros over natmod.c's stand-ins. Included by thrifty_mp.h, first, in that build
 * only; the user C module build calls the firmware's own functions instead. */
#ifndef THRIFTY_NATMOD_H
#define THRIFTY_NATMOD_H

#include "py/dynruntime.h"
#include "py/smallint.h"

/* dynruntime reads mp_type_type out of mp_fun_table at run time, which a constant type (THRIFTY_TYPE's template)
 * cannot hold; as a plain symbol, mpy_ld resolves it to that same table entry when the module is loaded. */
#undef mp_type_type

/* Builtin types dynruntime does not name: the exceptions looked up by name in builtins when raised, as dynruntime
 * does for the others; slice, which every r[i] asks about, once at import (thrifty_natmod_runtime). */
#define mp_type_OverflowError (*(mp_obj_type_t *)(mp_load_global(MP_QSTR_OverflowError)))
#define mp_type_MemoryError (*(mp_obj_type_t *)(mp_load_global(MP_QSTR_MemoryError)))
extern const mp_obj_type_t *thrifty_slice_type;
#define mp_type_slice (*thrifty_slice_type)
void thrifty_natmod_runtime(void);

/* Raises type(message), the message formatted by the firmware's mp_vprintf (%d %u %s %c) and kept in a new str,
 * cut at 256 bytes (none of the binding's come near). */
MP_NORETURN void thrifty_raise_varg(const mp_obj_type_t *type, const char *fmt, ...);
#define mp_raise_msg_varg(type, ...) thrifty_raise_varg((type), __VA_ARGS__)

/* py/vstr.c is not in mp_fun_table: the calls the binding makes, over m_malloc/m_realloc. */
void thrifty_vstr_init(vstr_t *v, size_t alloc);
void thrifty_vstr_init_len(vstr_t *v, size_t len);
void thrifty_vstr_hint_size(vstr_t *v, size_t extra); /* room for `extra` more bytes */
void thrifty_vstr_add_strn(vstr_t *v, const char *s, size_t n);
mp_obj_t thrifty_bytes_from_vstr(vstr_t *v); /* the buffer becomes the bytes object's data, no copy; v is emptied */
#define vstr_init(v, n) thrifty_vstr_init((v), (n))
#define vstr_init_len(v, n) thrifty_vstr_init_len((v), (n))
#define vstr_hint_size(v, n) thrifty_vstr_hint_size((v), (n))
#define vstr_add_strn(v, s, n) thrifty_vstr_add_strn((v), (s), (n))
#define mp_obj_new_bytes_from_vstr(v) thrifty_bytes_from_vstr(v)

/* mp_fun_table converts only mp_int_t (32 bits on microcontrollers): 64-bit values are put together and taken apart
 * with the int object's own arithmetic, which gives long ints where the firmware has them. get_ll returns the low
 * 64 bits, two's complement (callers check the range first). */
mp_obj_t thrifty_int_from_ull(unsigned long long v);
mp_obj_t thrifty_int_from_ll(long long v);
long long thrifty_int_get_ll(mp_obj_t o);
#define mp_obj_new_int_from_ll(v) thrifty_int_from_ll(v)
#define mp_obj_new_int_from_ull(v) thrifty_int_from_ull(v)
#define mp_obj_get_ll(o) thrifty_int_get_ll(o)

/* mp_fun_table's getiter/iternext are the native emitter's: the iterator lives in (or is recorded in) the caller's
 * iter_buf, which stands for it. Every caller in the binding passes an iter_buf. */
#define mp_getiter(o, iter_buf) (mp_fun_table.getiter((o), (iter_buf)), MP_OBJ_FROM_PTR(iter_buf))
#define mp_iternext(it) (mp_fun_table.iternext((mp_obj_iter_buf_t *)MP_OBJ_TO_PTR(it)))

/* repr(o) (or str(o)) written to print, through the builtins */
void thrifty_print_obj(const mp_print_t *print, mp_obj_t o, mp_print_kind_t kind);
#define mp_obj_print_helper(print, o, kind) thrifty_print_obj((print), (o), (kind))

/* A slice over len items as [start, stop), clamped as Python does; false for a step other than 1 (or None). */
bool thrifty_slice_indexes(size_t len, mp_obj_t slice, mp_bound_slice_t *s);
#define mp_seq_get_fast_slice_indexes(len, slice, s) thrifty_slice_indexes((len), (slice), (s))

#endif /* THRIFTY_NATMOD_H */
