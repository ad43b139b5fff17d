/* The run file's writer: what the doctor's recorder (the child interpreter running the target) measured, appended to
 * one file as checksummed records, so that a reader finds the last complete snapshot after any end of the target —
 * a normal exit, an exception, os._exit, SIGKILL or the OOM killer. docs/format-run.md has the bytes.
 *
 * Written in C, from the tracker's tables as they are (tracker_tables.h): a snapshot creates no Python object, so
 * writing one during the run (from inside the allocation hook, lock held) neither disturbs the target's heap nor
 * needs the GIL. Payloads are compressed with the core's lz encoder, streamed: the writer's memory is the encoder's
 * state and one 2 KiB output buffer, whatever the tables' size, held for one record (plus, per snapshot, a string
 * index and the kept types, freed after it).
 *
 * A record's header is written last (pwrite over a zeroed placeholder): until then a reader sees a record of kind 0,
 * which ends the valid part of the file. Snapshots are due at 50 ms, then at doubling intervals up to the configured
 * one (1 s by default), and never more often than 20 times their own cost, so writing them takes at most ~5% of the
 * run's time. The allocation hook writes a snapshot when one is due; a writer thread (no Python, no GIL) writes it
 * when the target is idle — sleeping, or waiting on I/O after allocating — so a target killed then still leaves its
 * figures, and it skips a snapshot when nothing was allocated or freed since the last one.
 */
#include "tracker_tables.h" /* first: Python.h sets the POSIX feature macros */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "kepttypes.h"
#include "thrifty/lz.h"

#define RUN_MAGIC "\x89TFRUN\r\n"
#define RUN_VERSION 1u
#define RUN_HEADER 16u
#define REC_HEADER 16u
#define REC_FLAG_LZ 1u
/* A 512-byte window: the encoder's state is 2.7 KiB (4 KiB windows took 5.7) and, on snapshots, its chained match
 * finder compresses 10% smaller than the 4 KiB window's hashed one at level 1, and no slower */
#define LZ_W 9u
#define LZ_L 4u
#define OUT_BUF 2048u /* compressed bytes per write(2): a snapshot is a few KiB, and this is recorder memory */
#define IN_BUF 512u   /* raw bytes per read of a captured blob (off the program's thread: small costs nothing) */
#define FIRST_INTERVAL_NS 50000000u /* 50 ms */

enum { REC_META = 1, REC_SNAPSHOT = 2, REC_END = 3, REC_EVIDENCE = 4 };

static struct {
    int fd;       /* -1: no run file (never opened, closed, failed, or this is a fork child) */
    uint64_t off; /* bytes written so far: where the next record starts */
    uint64_t max_interval_ns, interval_ns, next_due_ns;
    uint64_t snapshots;
    uint64_t last_cost_ns, max_cost_ns; /* what writing the last snapshot took (compaction included), the most */
    uint64_t last_ops;                  /* the tracker's operation count at the last snapshot */
    /* the record being written */
    void *enc_mem;
    tf_lz_encoder *enc;
    uint8_t *out;
    uint64_t rec_start, raw_len, stored_len;
    uint32_t crc;
    int failed; /* a write failed: the record being written is dropped and nothing more is written */
    size_t own_bytes, own_peak;
    /* a bounded file (thrifty watch): past max_bytes, older snapshots are thinned (see compact) */
    uint64_t max_bytes; /* 0: unbounded (the doctor) */
    char *path;         /* where the file is: compaction writes path.tmp and renames it over */
    struct rec_entry {
        uint64_t seq; /* a snapshot's number */
        uint32_t len; /* header and payload */
        uint8_t kind;
    } * index; /* the committed records, in file order (bounded files only): each starts where the one before it
                * ends, the first after the file's header (a record is committed at the end of the file) */
    uint32_t nindex, index_cap;
    uint64_t compactions;
    uint64_t stride, recent; /* which snapshots a compaction keeps: see keep_snapshot */
    int compact_failed;      /* a compaction could not write its file: the run goes on unbounded */
    /* A deferred snapshot (see capture): its raw payload waits in the file past the end, at blob_off, until the
     * writer thread compresses it into its record at the end (finish_pending). */
    pthread_mutex_t mu; /* the file's state above; taken after the tracker's lock, never before it */
    int raw;            /* rec_put stages raw bytes for the blob instead of feeding the encoder */
    int pending;        /* a captured payload waits */
    uint64_t blob_off, blob_len, pending_seq;
    size_t staged;      /* raw bytes in `out` not yet in the file */
    uint64_t finish_ns; /* what compressing and writing the last deferred snapshot took (off the program's thread) */
} R = {.fd = -1, .mu = PTHREAD_MUTEX_INITIALIZER};

/* ---- CRC-32 (IEEE, as zlib.crc32) ---------------------------------------------------------------------------- */

static uint32_t crc_table[256];

static void crc_init(void) {
    if (crc_table[1])
        return;
    for (uint32_t i = 0; i < 256u; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1u ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc_update(uint32_t crc, const uint8_t *p, size_t n) {
    crc = ~crc;
    while (n--)
        crc = crc_table[(crc ^ *p++) & 0xFFu] ^ (crc >> 8);
    return ~crc;
}

/* ---- writing ------------------------------------------------------------------------------------------------- */

static void own(size_t add, size_t sub) {
    R.own_bytes = R.own_bytes + add - sub;
    if (R.own_bytes > R.own_peak)
        R.own_peak = R.own_bytes;
}

static int write_all(const uint8_t *p, size_t n) {
    while (n) {
        ssize_t w = write(R.fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            R.failed = 1;
            return -1;
        }
        p += w;
        n -= (size_t)w;
        R.off += (uint64_t)w;
    }
    return 0;
}

static void put_le(uint8_t *p, uint64_t v, int n) {
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Writes out what the encoder has produced. */
static int drain(void) {
    for (;;) {
        size_t n = 0;
        tf_status st = tf_lz_encoder_poll(R.enc, R.out, OUT_BUF, &n);
        if (st < 0)
            return -1;
        if (n) {
            R.crc = crc_update(R.crc, R.out, n);
            R.stored_len += n;
            if (write_all(R.out, n) < 0)
                return -1;
        }
        if (st != TF_LZ_MORE)
            return 0;
    }
}

/* The output buffer, and with `encoder` the encoder's state followed by IN_BUF bytes of input (what
 * finish_pending reads a blob back into). Held for one record. */
static size_t enc_bytes(void) { return tf_lz_encoder_size(LZ_W, LZ_L) + IN_BUF; }

static int buffers(int encoder) {
    if (!R.out) {
        if (!(R.out = malloc(OUT_BUF)))
            return -1;
        own(OUT_BUF, 0);
    }
    if (encoder && !R.enc_mem) {
        if (!(R.enc_mem = malloc(enc_bytes())))
            return -1;
        own(enc_bytes(), 0);
    }
    return 0;
}

static void buffers_free(void) {
    if (R.enc_mem)
        own(0, enc_bytes());
    if (R.out)
        own(0, OUT_BUF);
    free(R.enc_mem);
    free(R.out);
    R.enc_mem = NULL;
    R.out = NULL;
}

static int index_push(uint32_t len, int kind, uint64_t seq) {
    if (R.nindex == R.index_cap) {
        uint32_t cap = R.index_cap ? 2u * R.index_cap : 16u;
        struct rec_entry *grown = realloc(R.index, (size_t)cap * sizeof *grown);
        if (!grown)
            return -1;
        own((size_t)(cap - R.index_cap) * sizeof *grown, 0);
        R.index = grown;
        R.index_cap = cap;
    }
    R.index[R.nindex++] = (struct rec_entry){seq, len, (uint8_t)kind};
    return 0;
}

static void index_free(void) {
    own(0, (size_t)R.index_cap * sizeof *R.index);
    free(R.index);
    R.index = NULL;
    R.nindex = R.index_cap = 0;
    if (R.path) {
        own(0, strlen(R.path) + 1u);
        free(R.path);
        R.path = NULL;
    }
}

/* Copies len bytes at off of the current file to the end of `to`: in the kernel where it can (no buffer of ours),
 * else through the (idle) output buffer. */
static int copy_out(int to, uint64_t off, uint64_t len) {
#ifdef SYS_copy_file_range /* the system call: glibc's wrapper is newer than some build hosts' */
    while (len) {
        loff_t in = (loff_t)off;
        long n = syscall(SYS_copy_file_range, R.fd, &in, to, NULL, (size_t)len, 0u);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* not supported here (old kernel, another file system): the buffered copy does the rest */
        off += (uint64_t)n;
        len -= (uint64_t)n;
    }
#endif
    while (len) {
        size_t want = len < OUT_BUF ? (size_t)len : OUT_BUF;
        ssize_t got = pread(R.fd, R.out, want, (off_t)off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return -1;
        for (ssize_t done = 0; done < got;) {
            ssize_t w = write(to, R.out + done, (size_t)(got - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                return -1;
            done += w;
        }
        off += (uint64_t)got;
        len -= (uint64_t)got;
    }
    return 0;
}

#define KEEP_RECENT 16u /* snapshots kept at full resolution while the bound allows */

/* Whether snapshot number k stays when the newest is `newest`: every stride-th one over the whole run (evenly
 * spaced, as a trend estimate wants them) and the newest `recent` ones. Compaction only doubles the stride and
 * halves `recent`, and multiples of 2s are multiples of s, so a snapshot dropped is never wanted back; snapshot 0
 * (the run's start) always stays. */
static int keep_snapshot(uint64_t k, uint64_t newest) { return k % R.stride == 0 || newest - k < R.recent; }

/* A bounded file past its size: keeps every record that is not a snapshot and the snapshots keep_snapshot keeps,
 * the stride doubled (or, when the newest ones alone are too big, `recent` halved) until they come to at most 3/4
 * of max_bytes, so the next compaction is some snapshots away. Written to path.tmp and renamed over the file
 * (atomic: a reader, or a kill at any moment, sees the old file or the new one, both valid). A week at 30 s in
 * 2 MiB of ~4 KiB snapshots: one every ~32 min plus the last 16. Lock held. */
static void compact(void) {
    uint64_t newest = 0, target = R.max_bytes / 4u * 3u, size;
    uint32_t kept = 0;
    for (uint32_t i = 0; i < R.nindex; i++)
        if (R.index[i].kind == REC_SNAPSHOT)
            newest = R.index[i].seq;
    for (;;) {
        size = RUN_HEADER;
        for (uint32_t i = 0; i < R.nindex; i++)
            if (R.index[i].kind != REC_SNAPSHOT || keep_snapshot(R.index[i].seq, newest))
                size += R.index[i].len;
        if (size <= target)
            break;
        if (newest / R.stride + 1u > R.recent || R.recent <= 2u) {
            if (R.stride > newest)
                break; /* snapshot 0 and the newest two alone are past the bound: keep them all the same */
            R.stride *= 2u;
        } else {
            R.recent /= 2u;
        }
    }
    if (size >= R.off)
        return; /* nothing to drop */
    size_t plen = strlen(R.path);
    char *tmp = malloc(plen + 5u);
    if (!tmp)
        return;
    memcpy(tmp, R.path, plen);
    memcpy(tmp + plen, ".tmp", 5u);
    int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    uint64_t off = RUN_HEADER, from = RUN_HEADER;
    int ok = fd >= 0 && copy_out(fd, 0, RUN_HEADER) == 0;
    for (uint32_t i = 0; ok && i < R.nindex; from += R.index[i++].len) {
        struct rec_entry e = R.index[i];
        if (e.kind == REC_SNAPSHOT && !keep_snapshot(e.seq, newest))
            continue;
        ok = copy_out(fd, from, e.len) == 0;
        R.index[kept++] = e; /* kept <= i: in place */
        off += e.len;
    }
    if (!ok || rename(tmp, R.path) != 0) {
        /* the index was rewritten for the new file: without it, the run goes on unbounded in the old one */
        if (fd >= 0)
            close(fd);
        unlink(tmp);
        free(tmp);
        R.compact_failed = 1;
        return;
    }
    free(tmp);
    close(R.fd);
    R.fd = fd;
    R.off = off;
    R.nindex = kept;
    R.compactions++;
}

/* Starts a record: a zeroed header (kind 0 = not committed) and a fresh encoder. */
static int rec_begin(void) {
    static const uint8_t zero[REC_HEADER];
    if (R.fd < 0 || R.failed || buffers(1) < 0)
        return -1;
    if (tf_lz_encoder_init(&R.enc, R.enc_mem, tf_lz_encoder_size(LZ_W, LZ_L), LZ_W, LZ_L, TF_LZ_LEVEL(1)) != TF_OK)
        return -1;
    R.rec_start = R.off;
    R.raw_len = R.stored_len = 0;
    R.crc = 0;
    return write_all(zero, REC_HEADER);
}

/* Writes the staged raw bytes to the blob. */
static int blob_flush(void) {
    for (size_t done = 0; done < R.staged;) {
        ssize_t w = pwrite(R.fd, R.out + done, R.staged - done, (off_t)(R.blob_off + R.blob_len));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return (R.failed = 1), -1;
        done += (size_t)w;
        R.blob_len += (uint64_t)w;
    }
    R.staged = 0;
    return 0;
}

static int rec_put(const void *data, size_t n) {
    const uint8_t *p = data;
    if (R.failed)
        return -1;
    R.raw_len += n;
    while (R.raw && n) {
        size_t take = OUT_BUF - R.staged < n ? OUT_BUF - R.staged : n;
        memcpy(R.out + R.staged, p, take);
        R.staged += take;
        p += take;
        n -= take;
        if (R.staged == OUT_BUF && blob_flush() < 0)
            return -1;
    }
    while (n) {
        size_t used = 0;
        if (tf_lz_encoder_sink(R.enc, p, n, &used) != TF_OK)
            return (R.failed = 1), -1;
        p += used;
        n -= used;
        if (drain() < 0)
            return (R.failed = 1), -1;
    }
    return 0;
}

/* Ends the record: the rest of the compressed frame, then its header over the placeholder. */
static int rec_end(int kind, uint64_t seq) {
    uint8_t h[REC_HEADER];
    tf_status st;
    if (R.failed)
        return -1;
    do {
        st = tf_lz_encoder_finish(R.enc);
        if (st < 0 || drain() < 0)
            return (R.failed = 1), -1;
    } while (st == TF_LZ_MORE);
    if (R.raw_len > UINT32_MAX || R.stored_len > UINT32_MAX)
        return (R.failed = 1), -1; /* larger than the format allows: the record stays uncommitted */
    h[0] = (uint8_t)kind;
    h[1] = REC_FLAG_LZ;
    h[2] = h[3] = 0;
    put_le(h + 4, R.stored_len, 4);
    put_le(h + 8, R.raw_len, 4);
    put_le(h + 12, crc_update(R.crc, h, 12), 4);
    for (size_t done = 0; done < REC_HEADER;) {
        ssize_t w = pwrite(R.fd, h + done, REC_HEADER - done, (off_t)(R.rec_start + done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return (R.failed = 1), -1;
        done += (size_t)w;
    }
    if (R.max_bytes && index_push((uint32_t)(R.off - R.rec_start), kind, seq) < 0)
        R.compact_failed = 1; /* no room for the index: the file is still valid, it just stays unbounded */
    return 0;
}

/* ---- snapshot ------------------------------------------------------------------------------------------------ */

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

/* The strings of a snapshot: the functions' files, each distinct object once (files are shared by many functions),
 * numbered by their order in a sorted array of the objects' addresses, then every function's name in function order
 * (names are rarely shared, and the compression takes a repeated one): 8 bytes a function, freed after the snapshot
 * (an open-addressing index of files and names took 9 times that, and the recorder's memory is what watch must
 * bound). */
typedef struct {
    PyObject **s; /* distinct files, in address order: a file's number is its position; names follow them */
    uint32_t n;
    size_t bytes;
} strindex;

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

static int strindex_build(strindex *x, const tf_tracker_view *v) {
    uint32_t n = 0;
    memset(x, 0, sizeof *x);
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

static void strindex_free(strindex *x) {
    if (x->s)
        own(0, x->bytes);
    free(x->s);
    x->s = NULL;
}

/* The peak RSS a snapshot records. Reading it costs ~30 us of procfs, so a snapshot captured on the program's
 * behalf (tracker lock held) takes the writer thread's reading, made without the lock just before the snapshot was
 * due, when it is under 100 ms old: a high-water mark, so at most that much late. */
static _Atomic uint64_t rss_seen, rss_seen_ns, due_hint_ns; /* the reading, its time; R.next_due_ns for the thread */

static uint64_t snapshot_rss(int fresh, uint64_t now) {
    uint64_t at = atomic_load(&rss_seen_ns);
    if (!fresh && at && now - at < 100000000u && now >= at)
        return atomic_load(&rss_seen);
    return peak_rss_bytes();
}

/* The writer thread, before it takes the tracker's lock: a fresh reading when a snapshot is due within ~2 steps. */
static void rss_refresh(void) {
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

/* The bytes of a snapshot (the payload docs/format-run.md describes), through rec_put. */
static int snapshot_put(const tf_tracker_view *v, const strindex *xp, const tf_kept_types *k, uint64_t now,
                        uint64_t rss) {
    const strindex x = *xp;
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
                                   v->own_bytes + R.own_bytes,
                                   v->own_peak + R.own_peak,
                                   R.snapshots,
                                   R.last_cost_ns};
        if (put_u32((uint32_t)(sizeof fields / sizeof fields[0])) < 0)
            return -1;
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
            if (put_u64(fields[i]) < 0)
                return -1;
    }
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
    if (put_u32(v->nnodes) < 0)
        return -1;
    for (uint32_t i = 0; i < v->nnodes; i++) {
        uint8_t b[12];
        put_le(b, v->nodes[i].parent & ~TF_NODE_MARK, 4);
        put_le(b + 4, (uint32_t)v->nodes[i].line, 4);
        put_le(b + 8, v->nodes[i].func, 4);
        if (rec_put(b, 12) < 0)
            return -1;
    }
    if (put_u32(v->nsites) < 0)
        return -1;
    for (uint32_t i = 0; i < v->nsites; i++) {
        const tf_site *s = &v->sites[i];
        uint8_t b[48];
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
        if (rec_put(b, 48) < 0)
            return -1;
    }
    if (put_u32(v->timeline->n) < 0)
        return -1;
    for (uint32_t i = 0; i < v->timeline->n; i++) {
        const tf_bucket *t = &v->timeline->b[i];
        uint8_t b[24];
        put_le(b, (uint64_t)t->t_ns, 8);
        put_le(b + 8, (uint64_t)t->high, 8);
        put_le(b + 16, (uint64_t)t->low, 8);
        if (rec_put(b, 24) < 0)
            return -1;
    }
    return put_kept_types(k);
}

static void compact_maybe(void) {
    if (R.max_bytes && !R.compact_failed && R.off > R.max_bytes)
        compact();
}

/* An upper bound of a snapshot's payload in bytes (for the gap a deferred one leaves before its blob). */
static uint64_t snapshot_bound(const tf_tracker_view *v, const strindex *x, const tf_kept_types *k) {
    uint64_t n = 4u + 8u * 32u + 4u + 4u + 8u * (uint64_t)v->nfuncs + 4u + 12u * (uint64_t)v->nnodes + 4u +
                 48u * (uint64_t)v->nsites + 4u + 24u * (uint64_t)v->timeline->n + 8u;
    for (uint32_t i = 0; i < x->n; i++)
        n += 4u + 4u * (uint64_t)PyUnicode_GET_LENGTH(x->s[i]);
    for (uint32_t i = 0; i < v->nfuncs; i++)
        n += 4u + 4u * (uint64_t)PyUnicode_GET_LENGTH(v->funcs[i].name);
    if (k)
        n += 4u * (uint64_t)k->ntypes + k->names_len + 16u * (uint64_t)k->nrows;
    return n;
}

/* Captures a snapshot of the view: its raw payload is written past the end of the file, beyond a gap of the lz
 * bound's overhead for its size (a hole until then), and finish_pending compresses it into its record later, off the
 * program's thread. A capture holds the program (this runs in its allocation hook, under the tracker's lock) for the
 * serialising and a few write(2)s, not the compression, which is most of a snapshot's time. Until its record is
 * committed a reader sees the file end before it: the last complete snapshot counts, as when a program dies while
 * one is written. `fresh`: read the peak RSS now (else the writer thread's recent reading may serve). Tracker lock
 * and R.mu held, nothing pending. */
static int capture(const tf_tracker_view *v, int fresh) {
    strindex x = {0};
    tf_kept_types k;
    int rc = -1, have_k;
    uint64_t now = tf_now_ns();
    if (R.fd < 0 || R.failed)
        return -1;
    /* The kept types first: their probe's cache is freed before the string index and the encoder exist (the
     * encoder's buffers live for one record), so the writer's memory peaks at the larger phase, not at their sum. */
    have_k = tf_kept_types_collect(&k) == 0;
    if (have_k) {
        own(k.peak_bytes, 0);
        own(0, k.peak_bytes - k.own_bytes);
    }
    if (strindex_build(&x, v) < 0)
        goto done;
    {
        uint64_t bound = snapshot_bound(v, &x, have_k ? &k : NULL);
        if (buffers(0) < 0)
            goto done;
        R.raw = 1;
        R.staged = 0;
        R.raw_len = R.blob_len = 0;
        R.blob_off = R.off + REC_HEADER + 4u * (bound >> LZ_W) + TF_LZ_FRAME_OVERHEAD + 64u;
        rc = snapshot_put(v, &x, have_k ? &k : NULL, now, snapshot_rss(fresh, now)) < 0 || blob_flush() < 0 ? -1 : 0;
        R.raw = 0;
        if (rc == 0 && R.blob_len <= bound) {
            R.pending = 1;
            R.pending_seq = R.snapshots;
        } else {
            rc = -1;
            if (ftruncate(R.fd, (off_t)R.off) != 0) /* what was written of the blob */
                R.failed = 1;
        }
    }
    R.snapshots++;
    R.last_ops = v->ops;
done:
    strindex_free(&x);
    if (have_k) {
        own(0, k.own_bytes);
        tf_kept_types_free(&k);
    }
    if (!R.pending)
        buffers_free();
    {
        /* the next one: the interval doubles up to the configured one, and is at least 20x this one's cost (its
         * compression counted as the last one's took) */
        uint64_t end = tf_now_ns(), cost = end - now, all = cost + R.finish_ns;
        R.last_cost_ns = cost;
        R.max_cost_ns = cost > R.max_cost_ns ? cost : R.max_cost_ns;
        R.interval_ns = R.interval_ns * 2u < R.max_interval_ns ? R.interval_ns * 2u : R.max_interval_ns;
        R.next_due_ns = end + (R.interval_ns > 20u * all ? R.interval_ns : 20u * all);
        atomic_store(&due_hint_ns, R.next_due_ns);
    }
    return rc;
}

/* Compresses the captured snapshot into its record at the end of the file, reading its blob back IN_BUF bytes at a
 * time: the compressed bytes never overtake the blob's unread ones (the gap is the lz bound's overhead), and the
 * file is cut after the record. R.mu held, not the tracker's lock: the program runs on meanwhile. */
static void finish_pending(void) {
    uint64_t t0 = tf_now_ns(), at = R.blob_off, left = R.blob_len;
    int ok;
    R.pending = 0;
    ok = rec_begin() == 0;
    while (ok && left) {
        uint8_t *in = (uint8_t *)R.enc_mem + tf_lz_encoder_size(LZ_W, LZ_L);
        ssize_t got = pread(R.fd, in, left < IN_BUF ? (size_t)left : IN_BUF, (off_t)at);
        if (got < 0 && errno == EINTR)
            continue;
        ok = got > 0 && rec_put(in, (size_t)got) == 0;
        at += got > 0 ? (uint64_t)got : 0u;
        left -= got > 0 ? (uint64_t)got : 0u;
    }
    if (ok && rec_end(REC_SNAPSHOT, R.pending_seq) == 0) {
        if (ftruncate(R.fd, (off_t)R.off) != 0)
            R.failed = 1; /* the blob would follow the record: nothing more is written */
        else
            compact_maybe();
    } else {
        R.failed = 1;
    }
    buffers_free();
    R.finish_ns = tf_now_ns() - t0;
}

/* A snapshot written now (the first, an explicit one, the last; every one without the writer thread): captured,
 * then compressed at once, so the writer's memory peaks at the larger of the two phases, not at their sum (the
 * encoder beside the string index and the kept types). It held the program for both, and says so. Tracker lock and
 * R.mu held, nothing pending. */
static int snapshot_now(const tf_tracker_view *v) {
    int rc = capture(v, 1);
    if (R.pending) {
        finish_pending();
        rc = R.failed ? -1 : rc;
        R.last_cost_ns += R.finish_ns;
        R.max_cost_ns = R.last_cost_ns > R.max_cost_ns ? R.last_cost_ns : R.max_cost_ns;
    }
    return rc;
}

static int writer_running;

/* Called by the hook (tracker lock held): captures a snapshot when one is due, for the writer thread to finish (or
 * writes it, without that thread). Never waits for R.mu: while the writer compresses the last one, a later tick. */
void tf_runfile_tick(uint64_t now_ns) {
    tf_tracker_view v;
    if (R.fd < 0 || now_ns < R.next_due_ns || R.failed || pthread_mutex_trylock(&R.mu) != 0)
        return;
    if (R.fd >= 0 && !R.pending && tf_tracker_view_get(&v))
        (void)(writer_running ? capture(&v, 0) : snapshot_now(&v));
    pthread_mutex_unlock(&R.mu);
}

/* Before a record is written now: the captured snapshot first, so records stay in order. R.mu held. */
static void settle(void) {
    if (R.pending)
        finish_pending();
}

/* ---- the writer thread ---------------------------------------------------------------------------------------- */

static pthread_t writer;
static atomic_int writer_stop;

static void *writer_main(void *unused) {
    (void)unused;
    for (;;) {
        int stop = atomic_load(&writer_stop);
        if (!stop) {
            struct timespec step = {0, 20000000}; /* 20 ms: a due snapshot is at most this late, a close this slow */
            nanosleep(&step, NULL);
            rss_refresh();
            tf_tracker_lock();
            if (R.fd >= 0 && !R.failed && tf_now_ns() >= R.next_due_ns) {
                tf_tracker_view v;
                pthread_mutex_lock(&R.mu);
                /* only while tracing: a stopped run's kept tables are freed without the lock */
                if (!R.pending && tf_tracker_view_get(&v) && v.tracing && v.ops != R.last_ops)
                    (void)capture(&v, 0);
                pthread_mutex_unlock(&R.mu);
            }
            tf_tracker_unlock();
        }
        /* the compression, without the tracker's lock: the program allocates on meanwhile */
        pthread_mutex_lock(&R.mu);
        if (R.fd >= 0)
            settle();
        pthread_mutex_unlock(&R.mu);
        if (stop)
            return NULL;
    }
}

static void writer_end(void) {
    if (!writer_running)
        return;
    atomic_store(&writer_stop, 1);
    pthread_join(writer, NULL);
    writer_running = 0;
}

void tf_runfile_forget(void) {
    tf_kept_types_close();
    if (R.fd >= 0)
        close(R.fd);
    R.fd = -1;
    R.pending = 0;
    buffers_free();
    index_free();
    writer_running = 0; /* in a fork child the thread does not exist, and R.mu may be held by it */
    R.mu = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
}

/* ---- Python API (the recorder's child bootstrap, thrifty/doctor/child.py) ------------------------------------- */

static int write_record(int kind, const char *data, Py_ssize_t n) {
    int rc;
    tf_tracker_lock(); /* a snapshot from the hook on another thread must not interleave */
    pthread_mutex_lock(&R.mu);
    settle();
    rc = rec_begin() < 0 || rec_put(data, (size_t)n) < 0 ? -1 : rec_end(kind, R.snapshots);
    buffers_free();
    pthread_mutex_unlock(&R.mu);
    tf_tracker_unlock();
    return rc;
}

static PyObject *write_failed(void) {
    PyErr_SetString(PyExc_OSError, "thrifty run file: writing failed (disk full, or the file was closed)");
    return NULL;
}

static PyObject *runfile_open(PyObject *module, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"path", "meta", "interval", "max_bytes", NULL};
    PyObject *path;
    Py_buffer meta;
    double interval = 1.0;
    long long max_bytes = 0;
    uint8_t h[RUN_HEADER];
    (void)module;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&y*|dL:_runfile_open", kwlist, PyUnicode_FSConverter, &path, &meta,
                                     &interval, &max_bytes))
        return NULL;
    if (max_bytes != 0 && (max_bytes < 4096 || max_bytes > (long long)UINT32_MAX * 16)) {
        Py_DECREF(path);
        PyBuffer_Release(&meta);
        return PyErr_Format(PyExc_ValueError, "max_bytes must be 0 (unbounded) or between 4096 and 64 GiB, got %lld",
                            max_bytes);
    }
    if (!(interval >= 0.001 && interval <= 86400.0)) {
        Py_DECREF(path);
        PyBuffer_Release(&meta);
        return PyErr_Format(PyExc_ValueError, "interval must be between 0.001 and 86400 seconds, got %g", interval);
    }
    if (R.fd >= 0) {
        Py_DECREF(path);
        PyBuffer_Release(&meta);
        PyErr_SetString(PyExc_RuntimeError, "a run file is already open (one per process)");
        return NULL;
    }
    crc_init();
    if (max_bytes) {
        /* absolute: a target that changes directory must not make a compaction write somewhere else */
        size_t plen = (size_t)PyBytes_GET_SIZE(path), dlen = 0;
        char cwd[4096];
        if (PyBytes_AS_STRING(path)[0] != '/') {
            if (!getcwd(cwd, sizeof cwd)) {
                PyErr_SetFromErrno(PyExc_OSError);
                Py_DECREF(path);
                PyBuffer_Release(&meta);
                return NULL;
            }
            dlen = strlen(cwd) + 1u; /* and a '/' */
        }
        R.path = malloc(dlen + plen + 1u);
        if (!R.path) {
            Py_DECREF(path);
            PyBuffer_Release(&meta);
            return PyErr_NoMemory();
        }
        if (dlen) {
            memcpy(R.path, cwd, dlen - 1u);
            R.path[dlen - 1u] = '/';
        }
        memcpy(R.path + dlen, PyBytes_AS_STRING(path), plen + 1u);
        own(dlen + plen + 1u, 0);
    }
    /* read and write: a compaction reads the records it keeps back */
    R.fd = open(PyBytes_AS_STRING(path), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (R.fd < 0) {
        PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, path);
        Py_DECREF(path);
        PyBuffer_Release(&meta);
        index_free();
        return NULL;
    }
    Py_DECREF(path);
    R.max_bytes = (uint64_t)max_bytes;
    R.compactions = 0;
    R.stride = 1;
    R.recent = KEEP_RECENT;
    R.compact_failed = 0;
    R.off = 0;
    R.failed = 0;
    R.snapshots = 0;
    R.last_cost_ns = R.max_cost_ns = 0;
    R.max_interval_ns = (uint64_t)(interval * 1e9);
    R.interval_ns = FIRST_INTERVAL_NS < R.max_interval_ns ? FIRST_INTERVAL_NS : R.max_interval_ns;
    R.next_due_ns = tf_now_ns() + R.interval_ns;
    atomic_store(&due_hint_ns, R.next_due_ns);
    atomic_store(&rss_seen_ns, 0);
    memcpy(h, RUN_MAGIC, 8);
    put_le(h + 8, RUN_VERSION, 2);
    put_le(h + 10, RUN_HEADER, 2);
    put_le(h + 12, 0, 4);
    if (write_all(h, RUN_HEADER) < 0 || write_record(REC_META, meta.buf, meta.len) < 0) {
        PyBuffer_Release(&meta);
        return write_failed();
    }
    PyBuffer_Release(&meta);
    atomic_store(&writer_stop, 0);
    if (pthread_create(&writer, NULL, writer_main, NULL) == 0)
        writer_running = 1; /* without it, snapshots are written from the hook only */
    Py_RETURN_NONE;
}

static PyObject *runfile_write(PyObject *module, PyObject *args) {
    int kind;
    Py_buffer data;
    (void)module;
    if (!PyArg_ParseTuple(args, "iy*:_runfile_write", &kind, &data))
        return NULL;
    if (kind != REC_END && kind != REC_EVIDENCE) {
        PyBuffer_Release(&data);
        return PyErr_Format(PyExc_ValueError, "record kind must be %d (end) or %d (evidence), got %d", REC_END,
                            REC_EVIDENCE, kind);
    }
    if (R.fd < 0) {
        PyBuffer_Release(&data);
        Py_RETURN_FALSE; /* no run file here (a fork child): nothing to write, not an error */
    }
    if (write_record(kind, data.buf, data.len) < 0) {
        PyBuffer_Release(&data);
        return write_failed();
    }
    PyBuffer_Release(&data);
    Py_RETURN_TRUE;
}

static PyObject *runfile_snapshot(PyObject *module, PyObject *unused) {
    tf_tracker_view v;
    int rc = -1, have;
    (void)module;
    (void)unused;
    if (R.fd < 0)
        Py_RETURN_FALSE;
    tf_tracker_lock();
    pthread_mutex_lock(&R.mu);
    settle();
    have = tf_tracker_view_get(&v);
    if (have)
        rc = snapshot_now(&v);
    pthread_mutex_unlock(&R.mu);
    tf_tracker_unlock();
    if (!have) {
        PyErr_SetString(PyExc_RuntimeError, "no tracker run to snapshot");
        return NULL;
    }
    if (rc < 0)
        return write_failed();
    Py_RETURN_TRUE;
}

static PyObject *runfile_close(PyObject *module, PyObject *unused) {
    (void)module;
    (void)unused;
    /* without the GIL: nothing the writer waits for needs it, but a join should not hold up other threads */
    Py_BEGIN_ALLOW_THREADS;
    writer_end();
    Py_END_ALLOW_THREADS;
    tf_tracker_lock(); /* a snapshot the hook captured as the writer thread ended is written, not left past the end */
    pthread_mutex_lock(&R.mu);
    if (R.fd >= 0)
        settle();
    pthread_mutex_unlock(&R.mu);
    tf_tracker_unlock();
    tf_runfile_forget();
    Py_RETURN_NONE;
}

static PyObject *runfile_status(PyObject *module, PyObject *unused) {
    (void)module;
    (void)unused;
    return Py_BuildValue("{s:O,s:K,s:K,s:n,s:n,s:K,s:K,s:K}", "open", R.fd >= 0 ? Py_True : Py_False, "bytes",
                         (unsigned long long)R.off, "snapshots", (unsigned long long)R.snapshots, "writer_bytes",
                         (Py_ssize_t)R.own_bytes, "writer_peak_bytes", (Py_ssize_t)R.own_peak, "compactions",
                         (unsigned long long)R.compactions, "max_bytes", (unsigned long long)R.max_bytes,
                         "max_snapshot_ns", (unsigned long long)R.max_cost_ns);
}

static PyObject *tracker_halt(PyObject *module, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"keep_sites", NULL};
    int keep = 0;
    (void)module;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|$p:_tracker_halt", kwlist, &keep))
        return NULL;
    if (tf_tracker_halt(keep) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef runfile_methods[] = {
    {"_runfile_open", (PyCFunction)(void (*)(void))runfile_open, METH_VARARGS | METH_KEYWORDS,
     "_runfile_open(path, meta, interval=1.0, max_bytes=0)\n--\n\n"
     "Create the run file (truncating it), write its header and the meta record (bytes), and have the running\n"
     "tracker append snapshots to it at most every `interval` seconds. max_bytes > 0 bounds the file: past it,\n"
     "older snapshots are thinned (path must then stay valid: it is rewritten by rename). The doctor's recorder\n"
     "and thrifty watch call this."},
    {"_runfile_write", runfile_write, METH_VARARGS,
     "_runfile_write(kind, data) -> bool\n--\n\nAppend an end (3) or evidence (4) record; False when this process "
     "has no run file (a fork child)."},
    {"_runfile_snapshot", runfile_snapshot, METH_NOARGS,
     "Append a snapshot of the tracker's tables now; False when this process has no run file."},
    {"_runfile_close", runfile_close, METH_NOARGS, "Close the run file (nothing when none is open)."},
    {"_runfile_status", runfile_status, METH_NOARGS, "The run file writer's counters (bytes, snapshots, memory)."},
    {"_tracker_halt", (PyCFunction)(void (*)(void))tracker_halt, METH_VARARGS | METH_KEYWORDS,
     "_tracker_halt(*, keep_sites=False)\n--\n\n"
     "Stop the tracker run without building its result (the recorder has written it to the run file)."},
    {NULL, NULL, 0, NULL},
};

int tf_runfile_add(PyObject *m, tf_state *st) {
    (void)st;
    return PyModule_AddFunctions(m, runfile_methods);
}
