/* The buffer-reuse part of the binding: Pool + Block, ObjectPool + its loans, View, and the streaming iterators.
 * Object structs with an ownership note on each field, and the few helpers the files call across each other.
 *
 * Reference shape, chosen so a pool that nobody uses dies by reference counting alone:
 *   Pool ──strong──▶ every Block           Block ──strong──▶ Pool only while acquired (borrowed while free)
 *   ObjectPool ──strong──▶ objects, loans   Loan ──strong──▶ ObjectPool only while its object is borrowed
 * A cycle exists only while something is out, and every type takes part in the GC, so an abandoned cycle is
 * collected.
 */
#ifndef THRIFTY_EXT_BUFFERS_H
#define THRIFTY_EXT_BUFFERS_H

#include "thrifty_ext.h" /* first: Python.h must precede every system header */

#include "thrifty/pool.h"

/* A slow path that a hot path tail-calls with its own arguments (Pool.acquire): never inlined and, with GCC, never
 * cloned with a narrower signature (IPA-SRA drops unused parameters), which would cost the hot path a register move
 * before its jump. */
#if defined(__GNUC__) && !defined(__clang__)
#define TF_SLOW_PATH __attribute__((noipa))
#else
#define TF_SLOW_PATH Py_NO_INLINE
#endif

typedef struct tf_PoolObject tf_PoolObject;

typedef struct {
    PyObject_HEAD tf_PoolObject
        *pool;           /* owner: strong while acquired, borrowed while free; NULL once the pool closed or died */
    unsigned char *data; /* the block's bytes while acquired, NULL while released */
    Py_ssize_t exports;  /* live buffer exports (memoryview, View, ...); release is refused while > 0 */
    /* exports + (1 while released) + (1 while acquired from a pool with ZERO or CANARY): 0 exactly when release() may
     * take the inline path (tf_block_release_fast), so that the path tests one word for all three. Whatever changes
     * data or exports keeps it (pool.c: hand_out, close_now; block.c: release, the buffer slots). */
    Py_ssize_t slow;
    size_t index; /* this block's number in the core pool */
} tf_BlockObject;

struct tf_PoolObject {
    PyObject_HEAD tf_pool core;
    PyObject *weakreflist;
    void *arena; /* PyMem_Calloc'd storage for the core; NULL once closed */
    /* 0 when acquire()'s inline path applies (arena set, neither ZERO nor CANARY), nonzero otherwise (also while
     * pool_new is making the pool): one word to test, together with the argument count (pool.c) */
    Py_ssize_t cold;
    tf_BlockObject **blocks; /* `count` Blocks, strong refs, block i <-> core block i; NULL once closed */
    PyObject *block_type;    /* thrifty.Block, strong: checked on every Pool.release() without a module lookup */
    Py_ssize_t count;
    /* Block.__enter__ / Block.__exit__ bound to one of this pool's blocks (tf_BlockMethodObject), strong; NULL until
     * the first with-statement and once closed. A with-statement binds both for every use: the binding re-points a
     * cached one that nobody else holds instead of allocating two method objects (block.c, method_get). */
    PyObject *with_cache[2];
};

/* What the with-methods (block.c) need to know of the type they serve: Block, or ObjectPool.Loan (objectpool.c). */
typedef struct tf_with_ops {
    const char *owner;        /* "Block", "ObjectPool.Loan": for names and messages */
    destructor owner_dealloc; /* the owner type's tp_dealloc, which tells its objects apart from any other */
    /* where obj's pool keeps its two cached bound methods (an array of 2, TF_WITH_ENTER / TF_WITH_EXIT), or NULL
     * when it keeps none (pool closed or cleared). The pool must hold every object a cached method may be bound to,
     * and empty the cache when it lets them go. */
    PyObject **(*cache)(PyObject *obj);
    /* __enter__ (role TF_WITH_ENTER, no arguments) or __exit__ (TF_WITH_EXIT, any) of obj, after the argument checks */
    PyObject *(*call)(PyObject *obj, int role);
} tf_with_ops;

/* An __enter__ or __exit__ of a tf_with_ops type: the unbound descriptor in the type's dict (obj NULL) or one bound
 * to an object of it. */
typedef struct {
    PyObject_HEAD vectorcallfunc vectorcall;
    PyObject *obj;          /* strong: the object this method is bound to; NULL in the unbound descriptor */
    const tf_with_ops *ops; /* the type it serves */
    int role;               /* TF_WITH_ENTER or TF_WITH_EXIT: the index into the cache */
} tf_BlockMethodObject;

/* Puts __enter__ and __exit__ descriptors for `ops` into `owner`'s dict (block.c). 0, or -1 with an exception. */
int tf_with_methods_add(PyObject *m, PyTypeObject *owner, const tf_with_ops *ops);

enum { TF_WITH_ENTER = 0, TF_WITH_EXIT = 1 };

typedef struct {
    PyObject_HEAD Py_buffer src; /* the export held on the viewed object; src.obj == NULL once released */
    Py_ssize_t offset;           /* the window is src.buf[offset : offset + length], always inside src */
    Py_ssize_t length;
    Py_ssize_t exports; /* live exports of this View; release() is refused while > 0 */
    PyObject *weakreflist;
} tf_ViewObject;

/* Block.release / Pool.release / Block.__exit__: give `b` back to its pool (block.c). 0, or -1 with ValueError
 * (released), BufferError (exports alive) or CorruptData (canary overwritten; the block is released all the same). */
int tf_block_release(tf_BlockObject *b);

/* The common case of tf_block_release, inline for the hot paths: an acquired, unexported block of a pool without
 * ZERO or CANARY. 1 when `b` was given back; 0, changing nothing, when the caller must call tf_block_release (every
 * other case, errors included). The pair's whole cost that is not the interpreter's (docs/buffers.md). */
static inline int tf_block_release_fast(tf_BlockObject *b) {
    if (b->slow)
        return 0;
    /* Acquired (from a live pool: b->pool is set), so the core handed this block out and it was not given back
     * since: the core's own misuse checks (tf_pool_release_index) would only repeat that. No flags: nothing to clear
     * or check, and data is the block's start, so the core need not compute it. */
    tf_PoolObject *pool = b->pool;
    tf_pool_release_plain(&pool->core, b->index, b->data);
    b->data = NULL;
    b->slow = 1;     /* released */
    Py_DECREF(pool); /* the acquired block's strong reference; the pool's block array still holds us */
    return 1;
}

/* A new View over `obj` (a writable one when `writable`), window = the whole buffer. NULL with an exception. */
tf_ViewObject *tf_view_new(tf_state *st, PyObject *obj, int writable, const char *who);

/* Drops the View's export if nothing exports the View itself; the View then refuses access. */
void tf_view_drop(tf_ViewObject *v);

/* Index of `needle` (m bytes) in hay[from:to), or -1. memchr on the first byte, then compare: fast for short
 * needles. Shared by View and Block so their searches cannot diverge. */
Py_ssize_t tf_bytes_find(const char *hay, Py_ssize_t from, Py_ssize_t to, const char *needle, Py_ssize_t m);

/* The needle of find / `in`, as bytes.__contains__ takes it: an int in range(0, 256) is a one-byte needle (stored in
 * *one), anything else must be bytes-like (its buffer is taken into *buf; buf->obj == NULL for an int, else the
 * caller releases it). 0, or -1 with ValueError / TypeError. May run Python code (__index__, __buffer__). */
int tf_needle_of(PyObject *sub, Py_buffer *buf, char *one, const char **p, Py_ssize_t *m);

/* dst[start], dst[start + step], ... = src[0..len): a slice assignment into a window of n bytes, any step. A source
 * overlapping the window is read as it was before the writes (as bytearray does). Shared by View and Block.
 * 0, or -1 with MemoryError (the snapshot of an overlapping source for a step other than 1). */
int tf_write_slice(char *dst, Py_ssize_t n, Py_ssize_t start, Py_ssize_t step, const char *src, Py_ssize_t len);

/* Re-point a live View; the caller guarantees the window lies inside src. O(1), allocates nothing. */
static inline void tf_view_point(tf_ViewObject *v, Py_ssize_t offset, Py_ssize_t length) {
    v->offset = offset;
    v->length = length;
}

#endif
