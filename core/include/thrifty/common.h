/* thrifty core — status codes and the few primitives every part shares.
 *
 * The core is portable C99: no Python, no malloc, no global state. It compiles hosted (tests, the CPython
 * binding) and freestanding for a Cortex-M (`make cross`), so it includes only the freestanding headers
 * (<stddef.h>, <stdint.h>, <limits.h>, <float.h>) and reaches memcpy/memmove/memset through the compiler
 * builtins below, which a freestanding image links against its own small versions.
 */
#ifndef THRIFTY_COMMON_H
#define THRIFTY_COMMON_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "thrifty/config.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Every core function returns a tf_status (or a count, which is >= 0). Zero is success; errors are negative and
 * named, so a binding can map each one to a specific exception. Values are part of the ABI: never renumber. */
typedef int tf_status;
enum {
    TF_OK = 0,
    TF_E_NULL = -1,      /* a required pointer argument was NULL */
    TF_E_ARG = -2,       /* an argument is outside its documented range */
    TF_E_SIZE = -3,      /* caller storage is smaller than tf_X_size() reported */
    TF_E_ALIGN = -4,     /* caller storage is not aligned as the part requires */
    TF_E_FULL = -5,      /* no room: a fixed-capacity container or an output buffer is full */
    TF_E_EMPTY = -6,     /* nothing to take: a container is empty */
    TF_E_RANGE = -7,     /* an index or offset is out of bounds */
    TF_E_CORRUPT = -8,   /* untrusted bytes failed validation (magic, version, checksum, offsets, stream) */
    TF_E_VERSION = -9,   /* a byte format's version is newer than this build understands */
    TF_E_STATE = -10,    /* the call is not valid in the object's current state (e.g. write after finish) */
    TF_E_OVERFLOW = -11, /* an arithmetic result does not fit its type */
    TF_E_DICT = -12      /* a byte stream needs another preset dictionary than the one given (or none, or one) */
};

/* A short constant English name for a status ("ok", "storage too small", ...). Never NULL; unknown codes give
 * "unknown status". O(1), reentrant, safe from an interrupt. */
const char *tf_status_str(tf_status status);

/* Memory primitives. Builtins let GCC and Clang inline small fixed-size copies and keep the core free of <string.h>. */
#if TF_GNUC
#define TF_MEMCPY(d, s, n) __builtin_memcpy((d), (s), (n))
#define TF_MEMMOVE(d, s, n) __builtin_memmove((d), (s), (n))
#define TF_MEMSET(d, c, n) __builtin_memset((d), (c), (n))
#define TF_MEMCMP(a, b, n) __builtin_memcmp((a), (b), (n))
#else
#include <string.h>
#define TF_MEMCPY(d, s, n) memcpy((d), (s), (n))
#define TF_MEMMOVE(d, s, n) memmove((d), (s), (n))
#define TF_MEMSET(d, c, n) memset((d), (c), (n))
#define TF_MEMCMP(a, b, n) memcmp((a), (b), (n))
#endif

/* A branch the caller expects taken almost always (a hot path's common case): the compiler lays it out straight. */
#if TF_GNUC
#define TF_LIKELY(x) __builtin_expect(!!(x), 1)
#else
#define TF_LIKELY(x) (x)
#endif

/* Compile-time assertion usable in C99 (no _Static_assert there). */
#define TF_STATIC_ASSERT(cond, name) typedef char tf__static_assert_##name[(cond) ? 1 : -1]

/* True when p is aligned to a (a power of two). */
#define TF_IS_ALIGNED(p, a) ((((uintptr_t)(const void *)(p)) & ((uintptr_t)(a)-1u)) == 0u)

/* Little-endian load/store helpers for every byte format the core writes, whatever the host's byte order. */
static inline uint16_t tf__load_le16(const uint8_t *p) { return (uint16_t)(p[0] | (uint16_t)(p[1] << 8)); }
static inline uint32_t tf__load_le32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t tf__load_le64(const uint8_t *p) {
    return (uint64_t)tf__load_le32(p) | ((uint64_t)tf__load_le32(p + 4) << 32);
}
static inline void tf__store_le16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void tf__store_le32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
static inline void tf__store_le64(uint8_t *p, uint64_t v) {
    tf__store_le32(p, (uint32_t)v);
    tf__store_le32(p + 4, (uint32_t)(v >> 32));
}

#ifdef __cplusplus
}
#endif
#endif /* THRIFTY_COMMON_H */
