"""Shared by the buffer tests: does repeated work keep Python heap memory?"""
import gc
import tracemalloc


def heap_growth(work, n):
    """Bytes the traced Python heap keeps after work(n) beyond what it keeps after work(1): 0 means nothing is
    retained per iteration. Both runs follow a warm-up, so caches and free lists are already filled, and both pay
    the same cost of measuring."""
    def kept(k):
        gc.collect()  # earlier tests' garbage must not be freed inside the measurement
        # other modules' gc callbacks are not the work's: hypothesis (imported by earlier tests) keeps a float of
        # the time spent collecting, replaced on every collection, which the measurement would count whenever a
        # different number of collections falls inside it (a work that allocates no GC object triggers none)
        callbacks = gc.callbacks[:]
        gc.callbacks.clear()
        tracemalloc.start()
        try:
            work(k)
            gc.collect()
            before = tracemalloc.get_traced_memory()[0]
            work(k)
            gc.collect()
            return tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
            gc.callbacks[:] = callbacks

    return kept(n) - kept(1)


def transient_peak(work, n):
    """Most bytes work(n) had allocated at once beyond what it ended with, over a second (warm) run."""
    tracemalloc.start()
    try:
        work(n)
        gc.collect()
        tracemalloc.reset_peak()
        work(n)
        current, peak = tracemalloc.get_traced_memory()
        return peak - current
    finally:
        tracemalloc.stop()
