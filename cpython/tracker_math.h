/* The sampled tracker's arithmetic without libm: the natural log of its exponential countdown, 1 - exp(-x) of a
 * block's sampling probability, and rounding of the weights.
 *
 * Why not <math.h>: calling log(), expm1() and llround() from the allocation hook faulted in ~0.24 MB of libm's
 * code and tables (the kernel maps a file's pages in 64 KiB windows around each fault) in the target's process,
 * where plain python touches little of libm: that was a third of what sampled mode added to a small program's
 * peak RSS. These run once per sample (every ~16-128 KiB allocated) and per free of a sampled block, so a dozen
 * multiplications each cost nothing measurable; they are accurate to a few ulp, and, like libm, deterministic in
 * their argument, which sample_weights needs (a free subtracts exactly what its allocation added).
 */
#ifndef THRIFTY_TRACKER_MATH_H
#define THRIFTY_TRACKER_MATH_H

#include <stdint.h>
#include <string.h>

/* ln(x) for a finite x > 0 that is not subnormal (the countdown's 1 - u is at least 2^-53): x = m * 2^e with m in
 * [sqrt(1/2), sqrt(2)), ln(m) = 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...) with s = (m - 1) / (m + 1), |s| < 0.172,
 * so twelve terms reach below double precision. */
static inline double tf_ln(double x) {
    uint64_t bits;
    double m, s, s2, sum = 1.0 / 23.0;
    int e;
    memcpy(&bits, &x, sizeof bits);
    e = (int)((bits >> 52) & 0x7FFu) - 1023;
    bits = (bits & UINT64_C(0x000FFFFFFFFFFFFF)) | UINT64_C(0x3FF0000000000000);
    memcpy(&m, &bits, sizeof m);
    if (m > 1.4142135623730951) {
        m *= 0.5;
        e++;
    }
    s = (m - 1.0) / (m + 1.0);
    s2 = s * s;
    for (int k = 21; k >= 1; k -= 2)
        sum = sum * s2 + 1.0 / (double)k;
    return (double)e * 0.6931471805599453 + 2.0 * s * sum;
}

/* 1 - exp(-x) for x >= 0, accurate also where it is tiny (x is a block's size over the sampling rate): halve x
 * until it is at most 1/2, take expm1(-r) = -r (1 - r/2 (1 - r/3 (1 - ...))) to 17 terms, then undo each halving
 * with expm1(-2r) = m (m + 2), m = expm1(-r), which keeps the relative precision. */
static inline double tf_one_minus_exp_neg(double x) {
    double r = x, m = 1.0;
    int halvings = 0;
    if (!(x > 0.0))
        return 0.0;
    if (x > 40.0) /* exp(-40) is below half an ulp of 1 */
        return 1.0;
    while (r > 0.5) {
        r *= 0.5;
        halvings++;
    }
    for (int k = 17; k >= 2; k--)
        m = 1.0 - r / (double)k * m;
    m = -r * m;
    while (halvings--)
        m = m * (m + 2.0);
    return -m;
}

/* llround for 0 <= v < 2^63: half-way cases away from zero. */
static inline int64_t tf_round_nonneg(double v) {
    int64_t i = (int64_t)v;
    return i + (v - (double)i >= 0.5);
}

#endif
