/* A snapshot's payload (docs/format-run.md, "snapshot"): the run's figures, the strings, functions, stack nodes,
 * sites, the timeline and the kept types, serialised from the tracker's tables as they are through rec_put, so that
 * no Python object is created. Tracker lock held (the tables must not move), no GIL needed. runfile_state.h has how
 * the writer's files fit.
 */
#include "runfile_state.h" /* first: Python.h sets the POSIX feature macros */

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static int put_u32(uint32_t v) {
    uint8_t b[4];
    put_le(b, v, 4);
    return rec_put(b, 4);
}

static int put_u64(uint64_t v) {
    uint8_t b[8];
    put_le(b, v, 8);
    return rec_put(b, 8);
}

/* A str as UTF-8 (lone surrogates, as in undecodable file names, are kept as three bytes: the reader decodes with
 * surrogatepass), from the object's own storage: no allocation. */
static int put_str(PyObject *s) {
    uint8_t buf[256];
    size_t n = 0;
    Py_ssize_t len = PyUnicode_GET_LENGTH(s);
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    uint64_t bytes = 0;
    for (Py_ssize_t i = 0; i < len; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        bytes += c < 0x80 ? 1u : c < 0x800 ? 2u : c < 0x10000 ? 3u : 4u;
    }
    if (put_u32((uint32_t)bytes) < 0)
        return -1;
    for (Py_ssize_t i = 0; i < len; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (n + 4 > sizeof buf) {
            if (rec_put(buf, n) < 0)
                return -1;
            n = 0;
        }
        if (c < 0x80) {
            buf[n++] = (uint8_t)c;
        } else if (c < 0x800) {
            buf[n++] = (uint8_t)(0xC0 | c >> 6);
            buf[n++] = (uint8_t)(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            buf[n++] = (uint8_t)(0xE0 | c >> 12);
            buf[n++] = (uint8_t)(0x80 | (c >> 6 & 0x3F));
            buf[n++] = (uint8_t)(0x80 | (c & 0x3F));
        } else {
            buf[n++] = (uint8_t)(0xF0 | c >> 18);
            buf[n++] = (uint8_t)(0x80 | (c >> 12 & 0x3F));
            buf[n++] = (uint8_t)(0x80 | (c >> 6 & 0x3F));
            buf[n++] = (uint8_t)(0x80 | (c & 0x3F));
        }
    }
    return rec_put(buf, n);
}

/* The recorder's own peak RSS. Linux: VmHWM, the high-water mark of the address space exec() gave it; ru_maxrss
 * there folds in the parent's peak from before exec() (the doctor's parent, with the analyzer's modules loaded). */
static uint64_t peak_rss_bytes(void) {
    struct rusage ru;
#ifdef __linux__
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        char buf[4096];
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n > 0) {
            const char *hwm;
            buf[n] = '\0';
            hwm = strstr(buf, "VmHWM:");
            if (hwm)
                return (uint64_t)strtoull(hwm + 6, NULL, 10) * 1024u;
        }
    }
#endif
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
#ifdef __APPLE__
    return (uint64_t)ru.ru_maxrss;
#else
    return (uint64_t)ru.ru_maxrss * 1024u;
#endif
}

static int addr_order(const void *a, const void *b) {
    uintptr_t x = (uintptr_t) * (PyObject *const *)a, y = (uintptr_t) * (PyObject *const *)b;
    return x < y ? -1 : x > y;
}

/* The number of a file that strindex_build saw. O(log files). */
static uint32_t strindex_get(const strindex *x, PyObject *o) {
    uint32_t lo = 0, hi = x->n;
    while (hi - lo > 1u) {
        uint32_t mid = lo + (hi - lo) / 2u;
        if ((uintptr_t)x->s[mid] <= (uintptr_t)o)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

int strindex_build(strindex *x, const tf_tracker_view *v) {
    uint32_t n = 0;
    memset(x, 0, sizeof *x);
    if (v->forder) {
        /* sampled mode keeps the functions in (file, name) address order: the distinct files are its runs, so the
         * index takes 8 bytes a file, not a function */
        for (uint32_t i = 0; i < v->nfuncs; i++)
            n += i == 0 || v->funcs[v->forder[i]].file != v->funcs[v->forder[i - 1u]].file;
        x->bytes = ((size_t)n + 1u) * sizeof(PyObject *);
        if (!(x->s = malloc(x->bytes)))
            return -1;
        own(x->bytes, 0);
        n = 0;
        for (uint32_t i = 0; i < v->nfuncs; i++)
            if (n == 0 || x->s[n - 1u] != v->funcs[v->forder[i]].file)
                x->s[n++] = v->funcs[v->forder[i]].file;
        x->n = n;
        return 0;
    }
    x->bytes = ((size_t)v->nfuncs + 1u) * sizeof(PyObject *);
    x->s = malloc(x->bytes);
    if (!x->s)
        return -1;
    own(x->bytes, 0);
    for (uint32_t i = 0; i < v->nfuncs; i++)
        x->s[i] = v->funcs[i].file;
    qsort(x->s, (size_t)v->nfuncs, sizeof *x->s, addr_order);
    for (uint32_t i = 0; i < v->nfuncs; i++)
        if (n == 0 || x->s[i] != x->s[n - 1u])
            x->s[n++] = x->s[i];
    x->n = n;
    return 0;
}

void strindex_free(strindex *x) {
    if (x->s)
        own(0, x->bytes);
    free(x->s);
    x->s = NULL;
}

/* The peak RSS a snapshot records. Reading it costs ~30 us of procfs, so a snapshot captured on the program's
 * behalf (tracker lock held) takes the writer thread's reading, made without the lock just before the snapshot was
 * due, when it is under 100 ms old: a high-water mark, so at most that much late. */
static _Atomic uint64_t rss_seen, rss_seen_ns, due_hint_ns; /* the reading, its time; File.next_due_ns for the thread */

void rss_due_at(uint64_t due_ns, int forget) {
    atomic_store(&due_hint_ns, due_ns);
    if (forget)
        atomic_store(&rss_seen_ns, 0);
}

uint64_t due_hint(void) { return atomic_load(&due_hint_ns); }

uint64_t snapshot_rss(int fresh, uint64_t now) {
    uint64_t at = atomic_load(&rss_seen_ns);
    if (!fresh && at && now - at < 100000000u && now >= at)
        return atomic_load(&rss_seen);
    return peak_rss_bytes();
}

/* The writer thread, before it takes the tracker's lock: a fresh reading when a snapshot is due within ~2 steps. */
void rss_refresh(void) {
    uint64_t now = tf_now_ns();
    if (now + 45000000u < atomic_load(&due_hint_ns))
        return;
    atomic_store(&rss_seen, peak_rss_bytes());
    atomic_store(&rss_seen_ns, tf_now_ns());
}

/* The snapshot's last section: per site, the Python type most of its live bytes are (kepttypes.c), collected
 * before the record starts; empty when it could not be told (k NULL: out of memory; the snapshot is still written). */
static int put_kept_types(const tf_kept_types *k) {
    if (!k)
        return put_u32(0) < 0 || put_u32(0) < 0 ? -1 : 0;
    if (put_u32(k->ntypes) < 0)
        return -1;
    for (size_t at = 0, i = 0; i < k->ntypes; i++) {
        size_t n = strlen(k->names + at);
        if (put_u32((uint32_t)n) < 0 || rec_put(k->names + at, n) < 0)
            return -1;
        at += n + 1u;
    }
    if (put_u32(k->nrows) < 0)
        return -1;
    for (uint32_t i = 0; i < k->nrows; i++) {
        uint8_t b[16];
        put_le(b, k->rows[i].site, 4);
        put_le(b + 4, k->rows[i].type, 4);
        put_le(b + 8, k->rows[i].bytes, 8);
        if (rec_put(b, 16) < 0)
            return -1;
    }
    return 0;
}

/* ---- deltas: what changed since the last snapshot ---------------------------------------------------------- */

/* A delta snapshot's sections (docs/format-run.md): the strings and functions whole, the nodes whole, only the
 * functions added since, only the nodes added since; sites and the rest always follow. */
enum { SEC_FUNCS = 1, SEC_NODES = 2, SEC_FUNCS_ADDED = 4, SEC_NODES_ADDED = 8 };

/* A 64-bit mix of a few words (not cryptographic: it tells a changed record from an unchanged one, and two records
 * collide with probability ~2^-64). */
static uint64_t mix(uint64_t h, uint64_t w) {
    h ^= w + 0x9E3779B97F4A7C15u + (h << 6) + (h >> 2);
    h *= 0xBF58476D1CE4E5B9u;
    return h ^ (h >> 31);
}

/* A site's record as a snapshot writes it (48 bytes). */
static void site_record(const tf_tracker_view *v, uint32_t i, uint8_t b[48]) {
    const tf_site *s = &v->sites[i];
    int64_t at_peak = s->at_peak_epoch == v->peak_epoch ? s->at_peak : s->live;
    put_le(b, s->leaf, 4);
    put_le(b + 4, s->depth, 2);
    b[6] = s->truncated;
    b[7] = s->unused;
    put_le(b + 8, (uint64_t)at_peak, 8);
    put_le(b + 16, (uint64_t)s->live, 8);
    put_le(b + 24, s->allocs, 8);
    put_le(b + 32, s->frees, 8);
    put_le(b + 40, s->alloc_bytes, 8);
}

/* What a site's record holds, hashed from the site's fields, not from its 48 bytes: a delta hashes every site (twice:
 * the count of changed ones comes first), and serialising each one to hash it was most of a delta's time beside the
 * compression. */
static uint64_t site_hash(const tf_tracker_view *v, uint32_t i) {
    const tf_site *s = &v->sites[i];
    int64_t at_peak = s->at_peak_epoch == v->peak_epoch ? s->at_peak : s->live;
    uint64_t h =
        mix(0, (uint64_t)s->leaf | (uint64_t)s->depth << 32 | (uint64_t)s->truncated << 48 | (uint64_t)s->unused << 56);
    h = mix(mix(mix(mix(mix(h, (uint64_t)at_peak), (uint64_t)s->live), s->allocs), s->frees), s->alloc_bytes);
    return h | 1u; /* 0 stands for "not sent" */
}

/* The nodes [from, to) folded into h: a hash of a prefix extends to a longer one, so a delta can tell that the
 * nodes it sent are unchanged and only new ones follow (the common case: nodes are recycled only when a stack table
 * is full). */
static uint64_t nodes_hash(const tf_tracker_view *v, uint64_t h, uint32_t from, uint32_t to) {
    for (uint32_t i = from; i < to; i++)
        h = mix(h, ((uint64_t)(v->nodes[i].parent & ~TF_NODE_MARK) << 32 | (uint32_t)v->nodes[i].line) ^
                       (uint64_t)v->nodes[i].func << 17);
    return h;
}

/* The functions [from, to) folded into h, by identity: their name objects (kept for the run, so an address is not
 * reused while it lasts). */
static uint64_t funcs_hash(const tf_tracker_view *v, uint64_t h, uint32_t from, uint32_t to) {
    for (uint32_t i = from; i < to; i++)
        h = mix(mix(h, (uint64_t)(uintptr_t)v->funcs[i].file), (uint64_t)(uintptr_t)v->funcs[i].name);
    return h;
}

void delta_reset(void) {
    if (File.site_hash)
        own(0, (size_t)File.site_hash_cap * sizeof *File.site_hash);
    free(File.site_hash);
    File.site_hash = NULL;
    File.site_hash_cap = 0;
    File.have_base = 0;
    File.since_full = 0;
}

/* Room for n sites' hashes, the new ones zeroed ("not sent"): 0, or -1 (out of memory). */
static int site_hash_room(uint32_t n) {
    if (n <= File.site_hash_cap)
        return 0;
    uint32_t cap =
        File.site_hash_cap ? File.site_hash_cap : 16u; /* 8 bytes a site: recorder memory, which watch bounds */
    while (cap < n)
        cap = cap > UINT32_MAX / 2u ? n : 2u * cap;
    uintptr_t was = (uintptr_t)File.site_hash;
    uint64_t *grown = realloc(File.site_hash, (size_t)cap * sizeof *grown);
    if (!grown)
        return -1;
    memset(grown + File.site_hash_cap, 0, (size_t)(cap - File.site_hash_cap) * sizeof *grown);
    own_realloc(was, grown, (size_t)File.site_hash_cap * sizeof *grown, (size_t)cap * sizeof *grown);
    File.site_hash = grown;
    File.site_hash_cap = cap;
    return 0;
}

static int put_sites(const tf_tracker_view *v, int delta) {
    uint8_t b[52];
    uint32_t changed = 0;
    /* without room, no delta can follow this one; a bounded file never has deltas (capture), so it keeps no hashes */
    int track = !File.max_bytes && site_hash_room(v->nsites) == 0;
    if (delta && !track)
        return -1; /* the caller writes a full one next */
    if (delta) {
        for (uint32_t i = 0; i < v->nsites; i++)
            changed += i >= File.sent_sites || File.site_hash[i] != site_hash(v, i);
        if (put_u32(v->nsites) < 0 || put_u32(changed) < 0)
            return -1;
    } else if (put_u32(v->nsites) < 0) {
        return -1;
    }
    for (uint32_t i = 0; i < v->nsites; i++) {
        if (delta) {
            uint64_t h = site_hash(v, i);
            if (i < File.sent_sites && File.site_hash[i] == h)
                continue;
            File.site_hash[i] = h;
            site_record(v, i, b + 4);
            put_le(b, i, 4);
            if (rec_put(b, 52) < 0)
                return -1;
        } else {
            if (track)
                File.site_hash[i] = site_hash(v, i);
            site_record(v, i, b + 4);
            if (rec_put(b + 4, 48) < 0)
                return -1;
        }
    }
    File.sent_sites = v->nsites;
    File.have_base = track;
    return 0;
}

/* The bytes of a snapshot (the payload docs/format-run.md describes), through rec_put. */
int snapshot_put(const tf_tracker_view *v, const strindex *xp, const tf_kept_types *k, uint64_t now, uint64_t rss,
                 int delta) {
    const strindex x = *xp;
    uint32_t sections = SEC_FUNCS | SEC_NODES; /* what a delta sends (a full snapshot: everything) */
    File.have_base = 0;                        /* until this one is whole */
    {
        const uint64_t fields[] = {(uint64_t)v->sampled,
                                   (uint64_t)v->rate,
                                   (uint64_t)v->max_depth,
                                   (uint64_t)v->peak,
                                   (uint64_t)v->live,
                                   v->peak_ns,
                                   v->allocs,
                                   v->frees,
                                   v->alloc_bytes,
                                   v->samples,
                                   v->untracked,
                                   v->dropped_stacks,
                                   v->recycled_sites,
                                   v->own_bytes,
                                   v->own_peak,
                                   now - v->t0_ns,
                                   v->timed_ns,
                                   rss,
                                   v->own_bytes + File.own_bytes,
                                   tf_recorder_peak(),
                                   File.snapshots,
                                   File.last_cost_ns,
                                   File.own_peak};
        if (put_u32((uint32_t)(sizeof fields / sizeof fields[0])) < 0)
            return -1;
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
            if (put_u64(fields[i]) < 0)
                return -1;
    }
    if (delta) {
        /* each of the functions and the nodes: unchanged, only appended to (their sent prefix hashes the same), or
         * sent whole */
        int fsame = v->nfuncs >= File.sent_funcs && funcs_hash(v, 0, 0, File.sent_funcs) == File.funcs_hash;
        int nsame = v->nnodes >= File.sent_nodes && nodes_hash(v, 0, 0, File.sent_nodes) == File.nodes_hash;
        sections = (!fsame                        ? SEC_FUNCS
                    : v->nfuncs > File.sent_funcs ? SEC_FUNCS_ADDED
                                                  : 0u) |
                   (!nsame                        ? SEC_NODES
                    : v->nnodes > File.sent_nodes ? SEC_NODES_ADDED
                                                  : 0u);
        if (put_u32(sections) < 0)
            return -1;
    }
    if (sections & SEC_FUNCS) {
        if (put_u32(x.n + v->nfuncs) < 0)
            return -1;
        for (uint32_t i = 0; i < x.n; i++)
            if (put_str(x.s[i]) < 0)
                return -1;
        for (uint32_t i = 0; i < v->nfuncs; i++)
            if (put_str(v->funcs[i].name) < 0)
                return -1;
        if (put_u32(v->nfuncs) < 0)
            return -1;
        for (uint32_t i = 0; i < v->nfuncs; i++) {
            uint8_t b[8];
            put_le(b, strindex_get(&x, v->funcs[i].file), 4);
            put_le(b + 4, x.n + i, 4);
            if (rec_put(b, 8) < 0)
                return -1;
        }
    } else if (sections & SEC_FUNCS_ADDED) {
        /* the new functions' file and name, two strings each, numbered in this record's own strings */
        uint32_t added = v->nfuncs - File.sent_funcs;
        if (put_u32(2u * added) < 0)
            return -1;
        for (uint32_t i = File.sent_funcs; i < v->nfuncs; i++)
            if (put_str(v->funcs[i].file) < 0 || put_str(v->funcs[i].name) < 0)
                return -1;
        if (put_u32(v->nfuncs) < 0)
            return -1;
        for (uint32_t j = 0; j < added; j++) {
            uint8_t b[8];
            put_le(b, 2u * j, 4);
            put_le(b + 4, 2u * j + 1u, 4);
            if (rec_put(b, 8) < 0)
                return -1;
        }
    }
    if (sections & (SEC_NODES | SEC_NODES_ADDED)) {
        uint32_t from = sections & SEC_NODES ? 0u : File.sent_nodes;
        if (put_u32(v->nnodes) < 0)
            return -1;
        for (uint32_t i = from; i < v->nnodes; i++) {
            uint8_t b[12];
            put_le(b, v->nodes[i].parent & ~TF_NODE_MARK, 4);
            put_le(b + 4, (uint32_t)v->nodes[i].line, 4);
            put_le(b + 8, v->nodes[i].func, 4);
            if (rec_put(b, 12) < 0)
                return -1;
        }
    }
    if (put_sites(v, delta) < 0)
        return (File.have_base = 0), -1;
    File.funcs_hash = sections & SEC_FUNCS || !delta ? funcs_hash(v, 0, 0, v->nfuncs)
                                                     : funcs_hash(v, File.funcs_hash, File.sent_funcs, v->nfuncs);
    File.nodes_hash = sections & SEC_NODES || !delta ? nodes_hash(v, 0, 0, v->nnodes)
                                                     : nodes_hash(v, File.nodes_hash, File.sent_nodes, v->nnodes);
    File.sent_funcs = v->nfuncs;
    File.sent_nodes = v->nnodes;
    if (put_u32(v->timeline->n) < 0)
        return (File.have_base = 0), -1;
    for (uint32_t i = 0; i < v->timeline->n; i++) {
        const tf_bucket *t = &v->timeline->b[i];
        uint8_t b[24];
        put_le(b, (uint64_t)t->t_ns, 8);
        put_le(b + 8, (uint64_t)t->high, 8);
        put_le(b + 16, (uint64_t)t->low, 8);
        if (rec_put(b, 24) < 0)
            return (File.have_base = 0), -1;
    }
    if (put_kept_types(k) < 0)
        return (File.have_base = 0), -1;
    return 0;
}

/* An upper bound of a snapshot's payload in bytes (for the gap a deferred one leaves before its blob). */
uint64_t snapshot_bound(const tf_tracker_view *v, const strindex *x, const tf_kept_types *k) {
    uint64_t n = 4u + 8u * 32u + 4u + 4u + 4u + 4u + 4u * (uint64_t)v->nsites + 8u * (uint64_t)v->nfuncs + 4u +
                 12u * (uint64_t)v->nnodes + 4u + 48u * (uint64_t)v->nsites + 4u + 24u * (uint64_t)v->timeline->n + 8u;
    for (uint32_t i = 0; i < x->n; i++)
        n += 4u + 4u * (uint64_t)PyUnicode_GET_LENGTH(x->s[i]);
    for (uint32_t i = 0; i < v->nfuncs; i++)
        n += 4u + 4u * (uint64_t)PyUnicode_GET_LENGTH(v->funcs[i].name);
    if (k)
        n += 4u * (uint64_t)k->ntypes + k->names_len + 16u * (uint64_t)k->nrows;
    return n;
}
