/* The core's hashtable (thrifty/hashtable.h) in PyMem storage that doubles when full: the binding's identity tables
 * whose size is not known in advance (a sizeof walk's nodes, the strings the duplicates finding has seen, an
 * Interner's entries). The tracker keeps its own growing tables, in libc memory it accounts for (tracker.c).
 *
 * A table is kept at most 2/3 full (the core allows 3/4): these tables are probed once per object a walk reaches or
 * a caller interns, and shorter probe runs were worth the slots. */
#ifndef THRIFTY_PYTABLE_H
#define THRIFTY_PYTABLE_H

#include "thrifty_ext.h" /* Python.h before any system header */

#include "thrifty/hashtable.h"

typedef struct {
    tf_hashtable t; /* valid once mem is set; all zero before (capacity 0: every room check fails) */
    void *mem;      /* the slots, PyMem, owned; NULL before the first entry */
    size_t bytes;   /* of mem */
} tf_pytable;

/* Makes the table twice as big (or `first_slots` slots when it has none), moving every entry. 0, or -1 with
 * MemoryError (out of memory, or past the core's largest capacity); the table is unchanged then. */
int tf_pytable_grow(tf_pytable *pt, uint32_t first_slots);

/* Room for one more entry: 0 at once when there is, else tf_pytable_grow's result. A table without storage has
 * capacity 0, so one comparison tells (this runs once per object a walk reaches or a caller interns). */
static inline int tf_pytable_room(tf_pytable *pt, uint32_t first_slots) {
    return pt->t.count < pt->t.capacity ? 0 : tf_pytable_grow(pt, first_slots);
}

/* Entries stored (0 before the first). */
static inline uint32_t tf_pytable_count(const tf_pytable *pt) { return pt->mem ? pt->t.count : 0u; }

/* Frees the storage; the table is empty, as before its first entry (all zero). */
void tf_pytable_free(tf_pytable *pt);

#endif /* THRIFTY_PYTABLE_H */
