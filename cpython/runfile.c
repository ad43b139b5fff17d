/* The run file's writer: what the doctor's recorder (the child interpreter running the target) measured, appended to
 * one file as checksummed records, so that a reader finds the last complete snapshot after any end of the target —
 * a normal exit, an exception, os._exit, SIGKILL or the OOM killer. docs/format-run.md has the bytes.
 *
 * Written in C, from the tracker's tables as they are (tracker_tables.h): a snapshot creates no Python object, so
 * writing one during the run (from inside the allocation hook, lock held) neither disturbs the target's heap nor
 * needs the GIL. Payloads are compressed with the core's lz encoder, streamed: the writer's memory is the encoder's
 * state, a 256-byte input and a 1 KiB output buffer, whatever the tables' size, held for one record (plus, per
 * snapshot, a string index and the kept types, freed after it). This file writes the records and schedules the
 * snapshots; runfile_snapshot.c encodes a snapshot, runfile_api.c is what Python calls (runfile_state.h).
 *
 * A record's header is written last (pwrite over a zeroed placeholder): until then a reader sees a record of kind 0,
 * which ends the valid part of the file. Snapshots are due at 50 ms, then at doubling intervals up to the configured
 * one (1 s by default), and never more often than COST_FACTOR (50) times their own cost, so writing them takes at
 * most ~2% of the run's time. The allocation hook writes a snapshot when one is due; a writer thread (no Python, no
 * GIL) writes it when the target is idle — sleeping, or waiting on I/O after allocating — so a target killed then
 * still leaves its figures, and it skips a snapshot when nothing was allocated or freed since the last one.
 *
 * After the first, snapshots are deltas of the one before (runfile_snapshot.c; a full one every FULL_EVERY): an exact
 * run's tables are mostly the sites and nodes its imports made, and re-sending them whole was most of the recorder's
 * extra CPU in a run of a few seconds (a run through a harness: ~13,000 sites, 860 KB per snapshot before the lz
 * encoder, where a delta is ~25 KB).
 */
#include "runfile_state.h" /* first: Python.h sets the POSIX feature macros */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

TF_RF_HIDDEN tf_runfile_state File = {.fd = -1, .mu = PTHREAD_MUTEX_INITIALIZER};

/* ---- CRC-32 (IEEE, as zlib.crc32) ---------------------------------------------------------------------------- */

static uint32_t crc_table[256];

void crc_init(void) {
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

void own(size_t add, size_t sub) {
    File.own_bytes = File.own_bytes + add - sub;
    tf_recorder_own(add, sub);
    if (File.own_bytes > File.own_peak)
        File.own_peak = File.own_bytes;
}

void own_realloc(uintptr_t was, const void *now, size_t from, size_t to) {
    if (was && (uintptr_t)now != was) {
        own(to, 0); /* moved: the allocator held both while it copied */
        own(0, from);
    } else {
        own(to, from);
    }
}

int write_all(const uint8_t *p, size_t n) {
    while (n) {
        ssize_t w = write(File.fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            File.failed = 1;
            return -1;
        }
        p += w;
        n -= (size_t)w;
        File.off += (uint64_t)w;
    }
    return 0;
}

/* Writes out the compressed bytes collected in the output buffer. */
static int flush_out(void) {
    size_t n = File.out_fill;
    File.out_fill = 0;
    return write_all(File.out, n);
}

/* Collects what the encoder has produced in the output buffer, written out each time it fills (and by rec_end):
 * the encoder yields a few bytes per input chunk, and a write(2) per chunk made a snapshot ~20x dearer. */
static int drain(void) {
    for (;;) {
        size_t n = 0;
        tf_status st = tf_lz_encoder_poll(File.enc, File.out + File.out_fill, OUT_BUF - File.out_fill, &n);
        if (st < 0)
            return -1;
        File.crc = crc_update(File.crc, File.out + File.out_fill, n);
        File.stored_len += n;
        File.out_fill += n;
        if (File.out_fill == OUT_BUF && flush_out() < 0)
            return -1;
        if (st != TF_LZ_MORE)
            return 0;
    }
}

/* The output buffer, and with `encoder` the encoder's state followed by IN_BUF bytes of input (what
 * finish_pending reads a blob back into). Held for one record. */
static size_t enc_bytes(void) { return tf_lz_encoder_size(LZ_W, LZ_L) + IN_BUF; }

static int buffers(int encoder) {
    if (!File.out) {
        if (!(File.out = malloc(OUT_BUF)))
            return -1;
        own(OUT_BUF, 0);
    }
    if (encoder && !File.enc_mem) {
        if (!(File.enc_mem = malloc(enc_bytes())))
            return -1;
        own(enc_bytes(), 0);
    }
    return 0;
}

void buffers_free(void) {
    if (File.enc_mem)
        own(0, enc_bytes());
    if (File.out)
        own(0, OUT_BUF);
    free(File.enc_mem);
    free(File.out);
    File.enc_mem = NULL;
    File.out = NULL;
}

/* A record committed: its entry in the index, which grows by half (it holds one entry per record in the file, so
 * its slack is recorder memory for the whole run). -1 when there is no room, or for a snapshot past 2^32 - 2 (its
 * number does not fit): the file is then left unbounded. */
static int index_push(uint32_t len, int kind, uint64_t seq) {
    if (kind == REC_SNAPSHOT && seq >= NOT_SNAPSHOT)
        return -1;
    if (File.nindex == File.index_cap) {
        uint32_t cap = File.index_cap ? File.index_cap + File.index_cap / 2u : 16u;
        uintptr_t was = (uintptr_t)File.index;
        struct rec_entry *grown = cap > File.index_cap ? realloc(File.index, (size_t)cap * sizeof *grown) : NULL;
        if (!grown)
            return -1;
        own_realloc(was, grown, (size_t)File.index_cap * sizeof *grown, (size_t)cap * sizeof *grown);
        File.index = grown;
        File.index_cap = cap;
    }
    File.index[File.nindex++] = (struct rec_entry){len, kind == REC_SNAPSHOT ? (uint32_t)seq : NOT_SNAPSHOT};
    return 0;
}

void index_free(void) {
    own(0, (size_t)File.index_cap * sizeof *File.index);
    free(File.index);
    File.index = NULL;
    File.nindex = File.index_cap = 0;
    if (File.path) {
        own(0, strlen(File.path) + 1u);
        free(File.path);
        File.path = NULL;
    }
}

/* Copies len bytes at off of the current file to the end of `to`: in the kernel where it can (no buffer of ours),
 * else through the (idle) output buffer. */
static int copy_out(int to, uint64_t off, uint64_t len) {
#ifdef SYS_copy_file_range /* the system call: glibc's wrapper is newer than some build hosts' */
    while (len) {
        loff_t in = (loff_t)off;
        long n = syscall(SYS_copy_file_range, File.fd, &in, to, NULL, (size_t)len, 0u);
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
        ssize_t got = pread(File.fd, File.out, want, (off_t)off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return -1;
        for (ssize_t done = 0; done < got;) {
            ssize_t w = write(to, File.out + done, (size_t)(got - done));
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

/* Whether snapshot number k stays when the newest is `newest`: every stride-th one over the whole run (evenly
 * spaced, as a trend estimate wants them) and the newest `recent` ones. Compaction only doubles the stride and
 * halves `recent`, and multiples of 2s are multiples of s, so a snapshot dropped is never wanted back; snapshot 0
 * (the run's start) always stays. */
static int keep_snapshot(uint64_t k, uint64_t newest) { return k % File.stride == 0 || newest - k < File.recent; }

/* path.tmp, where a compaction writes the new file before renaming it over the old (malloc'ed), or NULL. */
static char *tmp_path(void) {
    size_t plen = strlen(File.path);
    char *tmp = malloc(plen + 5u);
    if (tmp) {
        memcpy(tmp, File.path, plen);
        memcpy(tmp + plen, ".tmp", 5u);
    }
    return tmp;
}

void drop_stale_tmp(void) {
    char *tmp = tmp_path();
    if (tmp) {
        unlink(tmp); /* none there (ENOENT) is the usual case */
        free(tmp);
    }
}

/* A bounded file past its size: keeps every record that is not a snapshot and the snapshots keep_snapshot keeps,
 * the stride doubled (or, when the newest ones alone are too big, `recent` halved) until they come to at most 3/4
 * of max_bytes, so the next compaction is some snapshots away. Written to path.tmp and renamed over the file
 * (atomic: a reader, or a kill at any moment, sees the old file or the new one, both valid). A week at 30 s in
 * 2 MiB of ~4 KiB snapshots: one every ~32 min plus the last 16. Lock held. */
static void compact(void) {
    uint64_t newest = 0, target = File.max_bytes / 4u * 3u, size;
    uint32_t kept = 0;
    for (uint32_t i = 0; i < File.nindex; i++)
        if (File.index[i].seq != NOT_SNAPSHOT)
            newest = File.index[i].seq;
    for (;;) {
        size = RUN_HEADER;
        for (uint32_t i = 0; i < File.nindex; i++)
            if (File.index[i].seq == NOT_SNAPSHOT || keep_snapshot(File.index[i].seq, newest))
                size += File.index[i].len;
        if (size <= target)
            break;
        if (newest / File.stride + 1u > File.recent || File.recent <= 2u) {
            if (File.stride > newest)
                break; /* snapshot 0 and the newest two alone are past the bound: keep them all the same */
            File.stride *= 2u;
        } else {
            File.recent /= 2u;
        }
    }
    if (size >= File.off)
        return; /* nothing to drop */
    char *tmp = tmp_path();
    if (!tmp)
        return;
    int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    uint64_t off = RUN_HEADER, from = RUN_HEADER;
    int ok = fd >= 0 && copy_out(fd, 0, RUN_HEADER) == 0;
    for (uint32_t i = 0; ok && i < File.nindex; from += File.index[i++].len) {
        struct rec_entry e = File.index[i];
        if (e.seq != NOT_SNAPSHOT && !keep_snapshot(e.seq, newest))
            continue;
        ok = copy_out(fd, from, e.len) == 0;
        File.index[kept++] = e; /* kept <= i: in place */
        off += e.len;
    }
    if (!ok || rename(tmp, File.path) != 0) {
        /* the index was rewritten for the new file: without it, the run goes on unbounded in the old one */
        if (fd >= 0)
            close(fd);
        unlink(tmp);
        free(tmp);
        File.compact_failed = 1;
        return;
    }
    free(tmp);
    close(File.fd);
    File.fd = fd;
    File.off = off;
    File.nindex = kept;
    File.compactions++;
}

/* Starts a record: a zeroed header (kind 0 = not committed) and a fresh encoder. */
int rec_begin(void) {
    static const uint8_t zero[REC_HEADER];
    if (File.fd < 0 || File.failed || buffers(1) < 0)
        return -1;
    if (tf_lz_encoder_init(&File.enc, File.enc_mem, tf_lz_encoder_size(LZ_W, LZ_L), LZ_W, LZ_L, TF_LZ_LEVEL(1)) !=
        TF_OK)
        return -1;
    File.rec_start = File.off;
    File.raw_len = File.stored_len = 0;
    File.out_fill = 0;
    File.crc = 0;
    return write_all(zero, REC_HEADER);
}

/* Writes the staged raw bytes to the blob. */
static int blob_flush(void) {
    for (size_t done = 0; done < File.staged;) {
        ssize_t w = pwrite(File.fd, File.out + done, File.staged - done, (off_t)(File.blob_off + File.blob_len));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return (File.failed = 1), -1;
        done += (size_t)w;
        File.blob_len += (uint64_t)w;
    }
    File.staged = 0;
    return 0;
}

int rec_put(const void *data, size_t n) {
    const uint8_t *p = data;
    if (File.failed)
        return -1;
    File.raw_len += n;
    while (File.raw && n) {
        size_t take = OUT_BUF - File.staged < n ? OUT_BUF - File.staged : n;
        memcpy(File.out + File.staged, p, take);
        File.staged += take;
        p += take;
        n -= take;
        if (File.staged == OUT_BUF && blob_flush() < 0)
            return -1;
    }
    while (n) {
        size_t used = 0;
        if (tf_lz_encoder_sink(File.enc, p, n, &used) != TF_OK)
            return (File.failed = 1), -1;
        p += used;
        n -= used;
        if (drain() < 0)
            return (File.failed = 1), -1;
    }
    return 0;
}

/* Ends the record: the rest of the compressed frame, then its header over the placeholder. */
int rec_end(int kind, uint64_t seq) {
    uint8_t h[REC_HEADER];
    tf_status st;
    if (File.failed)
        return -1;
    do {
        st = tf_lz_encoder_finish(File.enc);
        if (st < 0 || drain() < 0)
            return (File.failed = 1), -1;
    } while (st == TF_LZ_MORE);
    if (flush_out() < 0)
        return (File.failed = 1), -1;
    if (File.raw_len > UINT32_MAX || File.stored_len > UINT32_MAX)
        return (File.failed = 1), -1; /* larger than the format allows: the record stays uncommitted */
    h[0] = (uint8_t)kind;
    h[1] = REC_FLAG_LZ;
    h[2] = h[3] = 0;
    put_le(h + 4, File.stored_len, 4);
    put_le(h + 8, File.raw_len, 4);
    put_le(h + 12, crc_update(File.crc, h, 12), 4);
    for (size_t done = 0; done < REC_HEADER;) {
        ssize_t w = pwrite(File.fd, h + done, REC_HEADER - done, (off_t)(File.rec_start + done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return (File.failed = 1), -1;
        done += (size_t)w;
    }
    if (File.max_bytes && index_push((uint32_t)(File.off - File.rec_start), kind, seq) < 0)
        File.compact_failed = 1; /* no room for the index: the file is still valid, it just stays unbounded */
    return 0;
}

/* ---- snapshots ---------------------------------------------------------------------------------------------- */

static void compact_maybe(void) {
    if (File.max_bytes && !File.compact_failed && File.off > File.max_bytes)
        compact();
}

/* Captures a snapshot of the view: its raw payload is written past the end of the file, beyond a gap of the lz
 * bound's overhead for its size (a hole until then), and finish_pending compresses it into its record later, off the
 * program's thread. A capture holds the program (this runs in its allocation hook, under the tracker's lock) for the
 * serialising and a few write(2)s, not the compression, which is most of a snapshot's time. Until its record is
 * committed a reader sees the file end before it: the last complete snapshot counts, as when a program dies while
 * one is written. `fresh`: read the peak RSS now (else the writer thread's recent reading may serve). Tracker lock
 * and File.mu held, nothing pending. */
static int capture(const tf_tracker_view *v, int fresh) {
    strindex x = {0};
    tf_kept_types k;
    int rc = -1, have_k;
    uint64_t now = tf_now_ns();
    if (File.fd < 0 || File.failed)
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
        File.raw = 1;
        File.staged = 0;
        File.raw_len = File.blob_len = 0;
        /* a delta when the last one was captured whole, up to FULL_EVERY in a row; never in a bounded file, whose
         * compaction drops the snapshots a delta builds on */
        int delta = File.have_base && !File.max_bytes && File.since_full + 1u < FULL_EVERY;
        File.blob_off = File.off + REC_HEADER + 4u * (bound >> LZ_W) + TF_LZ_FRAME_OVERHEAD + 64u;
        rc = snapshot_put(v, &x, have_k ? &k : NULL, now, snapshot_rss(fresh, now), delta) < 0 || blob_flush() < 0 ? -1
                                                                                                                   : 0;
        File.raw = 0;
        if (rc == 0 && File.blob_len <= bound) {
            File.pending = 1;
            File.pending_seq = File.snapshots;
            File.pending_kind = delta ? REC_DELTA : REC_SNAPSHOT;
            File.since_full = delta ? File.since_full + 1u : 0u;
        } else {
            rc = -1;
            File.have_base = 0;                           /* what it recorded as sent was not: the next one is full */
            if (ftruncate(File.fd, (off_t)File.off) != 0) /* what was written of the blob */
                File.failed = 1;
        }
    }
    File.snapshots++;
    File.last_ops = v->ops;
done:
    strindex_free(&x);
    if (have_k) {
        own(0, k.own_bytes);
        tf_kept_types_free(&k);
    }
    if (!File.pending)
        buffers_free();
    {
        /* the next one: the interval doubles up to the configured one, and is at least COST_FACTOR times this
         * one's cost (its compression counted as the last one's took) */
        uint64_t end = tf_now_ns(), cost = end - now, all = cost + File.finish_ns;
        File.last_cost_ns = cost;
        File.max_cost_ns = cost > File.max_cost_ns ? cost : File.max_cost_ns;
        File.interval_ns = File.interval_ns * 2u < File.max_interval_ns ? File.interval_ns * 2u : File.max_interval_ns;
        File.next_due_ns = end + (File.interval_ns > COST_FACTOR * all ? File.interval_ns : COST_FACTOR * all);
        rss_due_at(File.next_due_ns, 0);
    }
    return rc;
}

/* Compresses the captured snapshot into its record at the end of the file, reading its blob back IN_BUF bytes at a
 * time: the compressed bytes never overtake the blob's unread ones (the gap is the lz bound's overhead), and the
 * file is cut after the record. File.mu held, not the tracker's lock: the program runs on meanwhile. */
static void finish_pending(void) {
    uint64_t t0 = tf_now_ns(), at = File.blob_off, left = File.blob_len;
    int ok;
    File.pending = 0;
    ok = rec_begin() == 0;
    while (ok && left) {
        uint8_t *in = (uint8_t *)File.enc_mem + tf_lz_encoder_size(LZ_W, LZ_L);
        ssize_t got = pread(File.fd, in, left < IN_BUF ? (size_t)left : IN_BUF, (off_t)at);
        if (got < 0 && errno == EINTR)
            continue;
        ok = got > 0 && rec_put(in, (size_t)got) == 0;
        at += got > 0 ? (uint64_t)got : 0u;
        left -= got > 0 ? (uint64_t)got : 0u;
    }
    if (ok && rec_end(File.pending_kind, File.pending_seq) == 0) {
        if (ftruncate(File.fd, (off_t)File.off) != 0)
            File.failed = 1; /* the blob would follow the record: nothing more is written */
        else
            compact_maybe();
    } else {
        /* capture recorded this snapshot as sent (runfile_snapshot.c): it is not in the file, so no delta may build
         * on it. Nothing more is written after a failed write anyway; this keeps the rule where it is needed. */
        File.failed = 1;
        File.have_base = 0;
    }
    buffers_free();
    File.finish_ns = tf_now_ns() - t0;
}

/* A snapshot written now (the first, an explicit one, the last; every one without the writer thread): captured,
 * then compressed at once, so the writer's memory peaks at the larger of the two phases, not at their sum (the
 * encoder beside the string index and the kept types). It held the program for both, and says so. Tracker lock and
 * File.mu held, nothing pending. */
int snapshot_now(const tf_tracker_view *v) {
    int rc = capture(v, 1);
    if (File.pending) {
        finish_pending();
        rc = File.failed ? -1 : rc;
        File.last_cost_ns += File.finish_ns;
        File.max_cost_ns = File.last_cost_ns > File.max_cost_ns ? File.last_cost_ns : File.max_cost_ns;
    }
    return rc;
}

static int writer_running;

/* Called by the hook (tracker lock held): captures a snapshot when one is due, for the writer thread to finish (or
 * writes it, without that thread). Never waits for File.mu: while the writer compresses the last one, a later tick. */
void tf_runfile_tick(uint64_t now_ns) {
    tf_tracker_view v;
    if (File.fd < 0 || now_ns < File.next_due_ns || File.failed || pthread_mutex_trylock(&File.mu) != 0)
        return;
    if (File.fd >= 0 && !File.pending && tf_tracker_view_get(&v))
        (void)(writer_running ? capture(&v, 0) : snapshot_now(&v));
    pthread_mutex_unlock(&File.mu);
}

/* Before a record is written now: the captured snapshot first, so records stay in order. File.mu held. */
void settle(void) {
    if (File.pending)
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
        }
        /* the tracker's lock only when a snapshot is due: taken every step, it contended with a program that
         * allocates all the time (a spinning lock: thousands of sched_yield(2) a second between the two threads) */
        if (!stop && tf_now_ns() >= due_hint()) {
            tf_tracker_lock();
            if (File.fd >= 0 && !File.failed && tf_now_ns() >= File.next_due_ns) {
                tf_tracker_view v;
                pthread_mutex_lock(&File.mu);
                /* only while tracing: a stopped run's kept tables are freed without the lock */
                if (!File.pending && tf_tracker_view_get(&v) && v.tracing && v.ops != File.last_ops)
                    (void)capture(&v, 0);
                pthread_mutex_unlock(&File.mu);
            }
            tf_tracker_unlock();
        }
        /* the compression, without the tracker's lock: the program allocates on meanwhile */
        pthread_mutex_lock(&File.mu);
        if (File.fd >= 0)
            settle();
        pthread_mutex_unlock(&File.mu);
        if (stop)
            return NULL;
    }
}

void writer_start(void) {
    atomic_store(&writer_stop, 0);
    if (pthread_create(&writer, NULL, writer_main, NULL) == 0)
        writer_running = 1; /* without it, snapshots are written from the hook only */
}

void writer_end(void) {
    if (!writer_running)
        return;
    atomic_store(&writer_stop, 1);
    pthread_join(writer, NULL);
    writer_running = 0;
}

void tf_runfile_forget(void) {
    tf_kept_types_close();
    if (File.fd >= 0)
        close(File.fd);
    File.fd = -1;
    File.pending = 0;
    buffers_free();
    index_free();
    delta_reset();
    writer_running = 0; /* in a fork child the thread does not exist, and File.mu may be held by it */
    File.mu = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
}
