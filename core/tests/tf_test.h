/* A tiny test harness for the core's C tests: each test_*.c is one executable built with ASan+UBSan.
 * CHECK reports file:line and keeps going so one run shows every failure; main returns non-zero if any failed. */
#ifndef TF_TEST_H
#define TF_TEST_H

#include <stdio.h>
#include <stdlib.h>

static int tf_test_failures = 0;
static int tf_test_checks = 0;

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        tf_test_checks++;                                                                                              \
        if (!(cond)) {                                                                                                 \
            tf_test_failures++;                                                                                        \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                                   \
        }                                                                                                              \
    } while (0)

#define CHECK_EQ(a, b)                                                                                                 \
    do {                                                                                                               \
        long long tf__a = (long long)(a), tf__b = (long long)(b);                                                      \
        tf_test_checks++;                                                                                              \
        if (tf__a != tf__b) {                                                                                          \
            tf_test_failures++;                                                                                        \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s (%lld != %lld)\n", __FILE__, __LINE__, #a, #b, tf__a,    \
                    tf__b);                                                                                            \
        }                                                                                                              \
    } while (0)

/* Two doubles equal as doubles. Under x87 (i386) C99's excess precision keeps a product, or even a literal such as
 * 1e300, in 80-bit long double, so a plain == can compare a rounded double with an unrounded value; storing both
 * through volatile doubles rounds them first, as on every SSE or non-x86 target. */
static inline int tf_test_same_double(double a, double b) {
    volatile double x = a, y = b;
    return x == y;
}
#define CHECK_DOUBLE_EQ(a, b) CHECK(tf_test_same_double((a), (b)))

#define RUN(test_fn)                                                                                                   \
    do {                                                                                                               \
        int tf__before = tf_test_failures;                                                                             \
        test_fn();                                                                                                     \
        printf("%s %s\n", tf_test_failures == tf__before ? "ok  " : "FAIL", #test_fn);                                 \
    } while (0)

#define TF_TEST_SUMMARY() (printf("%d checks, %d failed\n", tf_test_checks, tf_test_failures), tf_test_failures ? 1 : 0)

#endif
