/* Test helper for tests/test_tracker.py::test_the_lock_keeps_gil_holders_and_threads_without_it_apart, compiled by
 * that test: RAW allocations and frees in a tight loop from a thread that does not hold the GIL (called through
 * ctypes.CDLL, which releases it), so that they overlap the GIL holders' allocations for the whole call, not only
 * between Python-level calls. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* n rounds of 8 RAW blocks allocated, touched and freed; returns how many allocations failed. */
int raw_churn(int n) {
    void *held[8];
    int failed = 0;
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < 8; k++) {
            held[k] = PyMem_RawMalloc(64u + (size_t)((i + k) % 8) * 512u);
            if (held[k])
                *(volatile char *)held[k] = 1;
            else
                failed++;
        }
        for (int k = 0; k < 8; k++)
            PyMem_RawFree(held[k]);
    }
    return failed;
}
