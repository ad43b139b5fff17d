/* What Python type each site's live blocks hold, told from the blocks themselves (for run-file snapshots).
 *
 * A traced block is raw memory from the allocator; whether it holds an object, and of what type, is told from its
 * first words. An object starts with its reference count and its type: at the block's start (objects without a GC
 * header: bytes, str, int, float), two words in (after the GC header: list, dict, tuple, most instances) or four
 * (3.12+: the managed-dict pre-header before the GC header). A place is taken when its reference count is plausible
 * (on 64-bit hosts bits 32-47 clear: a pointer there has them set, a count or 3.14's flags do not) and its type
 * word is a ready type object (its own type is type, or a metaclass whose type is type) with room for it.
 *
 * The block is safe to read: it is live, and its free waits for the tracker's lock, held here. The type word is not:
 * it may be any bytes. It is read through a pipe (write(2) from the address, read(2) back, the raw system call so
 * no sanitizer's interceptor reads it first), which fails with EFAULT on an unmapped address instead of faulting;
 * the verdict per address is cached for the snapshot. A block not yet initialised (a stale type word) or a buffer
 * that happens to start like an object can be mislabelled: the type reported is what most of a site's bytes hold,
 * an estimate like the sampled bytes themselves.
 */
#include "kepttypes.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_PROBES 4096u /* blocks looked at per snapshot: a random sample of more (64 KiB of observations) */
#define CACHE_MIN 64u    /* slots of the verdict cache at first (1 KiB); it doubles when 3/4 full, */
#define CACHE_MAX 512u   /* up to 512 (8 KiB): distinct type words judged per snapshot, 3/4 of them at most */
#define NAME_MAX_LEN 80u /* a longer type name is cut */
#define NAMES_CAP 65536u /* bytes of names per snapshot */
#define NOT_A_TYPE UINT32_MAX

static int pipe_fd[2] = {-1, -1};

void tf_kept_types_close(void) {
    for (int i = 0; i < 2; i++) {
        if (pipe_fd[i] >= 0)
            close(pipe_fd[i]);
        pipe_fd[i] = -1;
    }
}

static int pipe_open(void) {
    if (pipe_fd[0] >= 0)
        return 0;
    if (pipe(pipe_fd) < 0)
        return -1;
    for (int i = 0; i < 2; i++)
        if (fcntl(pipe_fd[i], F_SETFD, FD_CLOEXEC) < 0 || fcntl(pipe_fd[i], F_SETFL, O_NONBLOCK) < 0) {
            tf_kept_types_close();
            return -1;
        }
    return 0;
}

/* Copies n bytes at addr into buf without faulting: 0, or -1 when they are not all readable. */
static int safe_read(uintptr_t addr, void *buf, size_t n) {
    long w;
    size_t got = 0;
    if (!addr)
        return -1;
    do
        w = syscall(SYS_write, pipe_fd[1], (const void *)addr, n);
    while (w < 0 && errno == EINTR);
    if (w <= 0)
        return -1;
    while (got < (size_t)w) { /* drain what went in, even a short write */
        ssize_t r = read(pipe_fd[0], (char *)buf + got, (size_t)w - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return (size_t)w == n ? 0 : -1;
}

typedef struct {
    uintptr_t addr;     /* 0: empty slot */
    uint32_t name;      /* index of the name, or NOT_A_TYPE */
    uint32_t basicsize; /* at most 1 MiB (judge refuses larger): 16 bytes a slot */
} judged;

typedef struct {
    tf_kept_types *k;
    judged *cache; /* open addressing, `slots` a power of two: sized to the words met, as most programs have few */
    uint32_t ncached, slots;
    tf_kept_row *obs; /* one per typed block: (site, type, bytes) */
    uint32_t nobs, obs_cap;
    size_t cache_peak; /* the most the cache took */
} collector;

static uint32_t add_name(tf_kept_types *k, const char *s, size_t n) {
    if (k->names_len + n + 1u > NAMES_CAP)
        return NOT_A_TYPE;
    if (k->names_len + n + 1u > k->names_cap) {
        size_t cap = k->names_cap ? 2u * k->names_cap : 1024u;
        char *grown = realloc(k->names, cap);
        if (!grown)
            return NOT_A_TYPE;
        k->own_bytes += cap - k->names_cap;
        k->names = grown;
        k->names_cap = cap;
    }
    memcpy(k->names + k->names_len, s, n);
    k->names[k->names_len + n] = '\0';
    k->names_len += n + 1u;
    return k->ntypes++;
}

static uint32_t cache_slot(const collector *c, uintptr_t t) {
    uint32_t i = (uint32_t)((uint64_t)t * UINT64_C(0x9E3779B97F4A7C15) >> 32) & (c->slots - 1u);
    while (c->cache[i].addr && c->cache[i].addr != t)
        i = (i + 1u) & (c->slots - 1u);
    return i;
}

/* Doubles the cache (rehashing its verdicts): 0, or -1 at CACHE_MAX or out of memory (the cache stays as it was). */
static int cache_grow(collector *c) {
    judged *old = c->cache, *grown;
    uint32_t n = c->slots;
    if (n >= CACHE_MAX || !(grown = calloc(2u * n, sizeof *grown)))
        return -1;
    c->cache = grown;
    c->slots = 2u * n;
    for (uint32_t i = 0; i < n; i++)
        if (old[i].addr)
            c->cache[cache_slot(c, old[i].addr)] = old[i];
    free(old);
    if (c->slots * sizeof(judged) + n * sizeof(judged) > c->cache_peak)
        c->cache_peak = c->slots * sizeof(judged) + n * sizeof(judged); /* both arrays, while rehashing */
    return 0;
}

/* Whether a word can be an object's address at all, told without a system call (many words judged in a snapshot
 * are small integers, flags or text): aligned, past the first 64 KiB (Linux's default mmap_min_addr: nothing lives
 * there), and on 64-bit hosts below 2^47 (user space on x86-64 and arm64 unless a program maps above it on purpose;
 * a type there would only go unnamed). */
static int plausible_address(uintptr_t t) {
#if UINTPTR_MAX > 0xFFFFFFFFu
    if ((uint64_t)t >> 47)
        return 0;
#endif
    return t % sizeof(void *) == 0 && t >= 65536u;
}

/* The verdict on a type word: a cache slot (name NOT_A_TYPE when it is not a type), or NULL when the cache is full. */
static const judged *judge(collector *c, uintptr_t t) {
    uint32_t i = cache_slot(c, t);
    if (c->cache[i].addr == t)
        return &c->cache[i];
    if (c->ncached >= c->slots / 4u * 3u) {
        if (cache_grow(c) < 0)
            return NULL;
        i = cache_slot(c, t);
    }
    judged *j = &c->cache[i];
    PyTypeObject ty;
    char name[NAME_MAX_LEN + 1u];
    c->ncached++;
    *j = (judged){t, NOT_A_TYPE, 0};
    if (!plausible_address(t) || safe_read(t, &ty, sizeof ty) < 0)
        return j;
    uintptr_t meta = (uintptr_t)((PyObject *)&ty)->ob_type;
    if (meta != (uintptr_t)&PyType_Type) { /* a metaclass (ABCMeta, EnumType): its own type is type */
        uintptr_t metameta = 0;
        if (meta % sizeof(void *) || safe_read(meta + offsetof(PyObject, ob_type), &metameta, sizeof metameta) < 0 ||
            metameta != (uintptr_t)&PyType_Type)
            return j;
    }
    if (!(ty.tp_flags & Py_TPFLAGS_READY) || ty.tp_basicsize < (Py_ssize_t)(2u * sizeof(void *)) ||
        ty.tp_basicsize > (Py_ssize_t)1 << 20)
        return j;
    size_t n = 0;
    if (safe_read((uintptr_t)ty.tp_name, name, NAME_MAX_LEN) == 0)
        n = NAME_MAX_LEN;
    else if (safe_read((uintptr_t)ty.tp_name, name, 16u) == 0) /* a short name at the end of its page */
        n = 16u;
    name[n] = '\0';
    n = strlen(name);
    if (n == 0)
        return j;
    for (size_t m = 0; m < n; m++)
        if ((unsigned char)name[m] < 0x20u || name[m] == 0x7f)
            return j;
    j->name = add_name(c->k, name, n);
    j->basicsize = (uint32_t)ty.tp_basicsize;
    return j;
}

static int plausible_refcnt(uintptr_t w) {
#if UINTPTR_MAX > 0xFFFFFFFFu
    return (uint32_t)w != 0 && ((uint64_t)w >> 32 & 0xFFFFu) == 0;
#else
    return w != 0;
#endif
}

static void probe(void *ctx, uintptr_t addr, uint64_t size, uint64_t bytes, uint32_t site) {
    collector *c = ctx;
    const size_t word = sizeof(void *);
    if (c->nobs == c->obs_cap)
        return;
    for (size_t off = 0; off <= 4u * word && off + 2u * word <= size; off += 2u * word) {
        uintptr_t head[2];
        memcpy(head, (const void *)(addr + off), sizeof head);
        if (!plausible_refcnt(head[0]) || !head[1])
            continue;
        const judged *j = judge(c, head[1]);
        if (!j)
            return;
        /* the block must hold the type's fixed part, or four words of it (a compact str is smaller than str's
         * basic size) */
        uint64_t need = j->basicsize < 4u * word ? j->basicsize : 4u * word;
        if (j->name != NOT_A_TYPE && need <= size - off) {
            c->obs[c->nobs++] = (tf_kept_row){site, j->name, bytes};
            return;
        }
    }
}

static int by_site_type(const void *a, const void *b) {
    const tf_kept_row *x = a, *y = b;
    if (x->site != y->site)
        return x->site < y->site ? -1 : 1;
    return x->type < y->type ? -1 : x->type > y->type;
}

void tf_kept_types_free(tf_kept_types *k) {
    free(k->rows);
    free(k->names);
    *k = (tf_kept_types){0};
}

int tf_kept_types_collect(tf_kept_types *k) {
    collector c = {.k = k};
    uint32_t n = tf_tracker_live_blocks();
    *k = (tf_kept_types){0};
    if (!n)
        return 0;
    if (pipe_open() < 0)
        return -1;
    c.obs_cap = n < MAX_PROBES ? n : MAX_PROBES;
    c.slots = CACHE_MIN;
    c.cache_peak = CACHE_MIN * sizeof(judged);
    c.cache = calloc(CACHE_MIN, sizeof *c.cache);
    c.obs = malloc((size_t)c.obs_cap * sizeof *c.obs);
    if (!c.cache || !c.obs) {
        free(c.cache);
        free(c.obs);
        return -1;
    }
    tf_tracker_each_block(probe, &c, MAX_PROBES);
    free(c.cache);
    qsort(c.obs, c.nobs, sizeof *c.obs, by_site_type);
    /* per site, the type with the most bytes; the rows reuse the observations' storage (at most one per run) */
    uint32_t rows = 0;
    for (uint32_t i = 0; i < c.nobs;) {
        tf_kept_row best = {c.obs[i].site, 0, 0};
        uint32_t site = c.obs[i].site;
        while (i < c.nobs && c.obs[i].site == site) {
            tf_kept_row run = c.obs[i];
            for (i++; i < c.nobs && c.obs[i].site == site && c.obs[i].type == run.type; i++)
                run.bytes += c.obs[i].bytes;
            if (run.bytes > best.bytes)
                best = run;
        }
        c.obs[rows++] = best;
    }
    /* the peak was the observations beside the cache; the rows keep only what they use (fewer than the probes) */
    k->peak_bytes = k->own_bytes + (size_t)c.obs_cap * sizeof *c.obs + c.cache_peak;
    if (rows < c.obs_cap) {
        tf_kept_row *fit = rows ? realloc(c.obs, (size_t)rows * sizeof *fit) : NULL;
        if (fit || !rows) {
            if (!rows)
                free(c.obs);
            c.obs = fit;
            c.obs_cap = rows;
        }
    }
    k->rows = c.obs;
    k->nrows = rows;
    k->own_bytes += (size_t)c.obs_cap * sizeof *c.obs;
    return 0;
}
