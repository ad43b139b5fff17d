/* tf_pytable: a core hashtable in PyMem storage that doubles when full, see pytable.h. */
#include "pytable.h"

int tf_pytable_grow(tf_pytable *pt, uint32_t first_slots) {
    uint64_t slots = pt->mem ? ((uint64_t)pt->t.mask + 1u) * 2u : first_slots;
    /* 2/3 of the slots: tf_hashtable_size gives exactly `slots` slots for it (a power of two, at most 3/4 full) */
    uint64_t capacity = slots / 3u * 2u;
    if (capacity == 0 || capacity > TF_HASHTABLE_MAX_CAPACITY) {
        PyErr_SetString(PyExc_MemoryError, "a hash table of more than 2**29 entries is not supported");
        return -1;
    }
    size_t bytes = tf_hashtable_size((uint32_t)capacity);
    /* PyMem aligns to 8 or more: the table's alignment. Calloc, not malloc and a clearing pass: a big table's zeroed
     * pages come from the system unwritten, and clearing them again cost more than all the moves of a growing table. */
    void *mem = PyMem_Calloc(1, bytes);
    tf_hashtable nt;
    if (!mem)
        goto nomem;
    if (tf_hashtable_init_zeroed(&nt, mem, bytes, (uint32_t)capacity) != TF_OK ||
        (pt->mem && tf_hashtable_move(&nt, &pt->t) != TF_OK)) {
        PyMem_Free(mem); /* cannot happen: the size is the core's, and twice the slots hold every entry */
        goto nomem;
    }
    PyMem_Free(pt->mem);
    pt->t = nt;
    pt->mem = mem;
    pt->bytes = bytes;
    return 0;
nomem:
    PyErr_NoMemory();
    return -1;
}

void tf_pytable_free(tf_pytable *pt) {
    void *mem = pt->mem;
    *pt = (tf_pytable){0};
    PyMem_Free(mem);
}
