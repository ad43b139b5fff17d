/* thrifty core — bit helpers that more than one part needs (fset.c's lookups, lz_match.h's match lengths). One copy,
 * so that a fix for a target (the 32-bit split below) reaches every user. Private to core/src. */
#ifndef THRIFTY_BITS_H
#define THRIFTY_BITS_H

#include "thrifty/common.h"

/* Trailing zero bits of a nonzero 64-bit value. */
static inline unsigned tf__ctz64(uint64_t v) {
#if TF_GNUC && UINTPTR_MAX > 0xFFFFFFFFu
    return (unsigned)__builtin_ctzll(v);
#elif TF_GNUC
    /* On a 32-bit target __builtin_ctzll is a call to libgcc's __ctzdi2, which a -nostdlib board does not link:
     * two 32-bit counts compile to instructions (rbit + clz on a Cortex-M3/M4). */
    uint32_t low = (uint32_t)v;
    return low ? (unsigned)__builtin_ctz(low) : 32u + (unsigned)__builtin_ctz((uint32_t)(v >> 32));
#else
    unsigned n = 0;
    while (!(v & 1u)) {
        v >>= 1;
        n++;
    }
    return n;
#endif
}

#endif /* THRIFTY_BITS_H */
