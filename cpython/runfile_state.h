/* The run-file writer's private header: its state and what its three files share.
 *
 *   runfile.c           the file: records (a zeroed header, the compressed payload, the header written last),
 *                       compaction of a bounded file, and when snapshots are taken: captured on the program's
 *                       behalf, compressed into their record by the writer thread
 *   runfile_snapshot.c  a snapshot's payload (docs/format-run.md): the tables serialised through rec_put
 *   runfile_api.c       what Python calls (the recorder's child bootstrap, thrifty/doctor/child.py, and watching.py)
 *
 * Locks: the tracker's lock, then File.mu, never the other way round.
 */
#ifndef THRIFTY_RUNFILE_STATE_H
#define THRIFTY_RUNFILE_STATE_H

#include "tracker_tables.h" /* first: Python.h sets the POSIX feature macros */

#include <pthread.h>
#include <stdatomic.h>

#include "kepttypes.h"
#include "thrifty/lz.h"

#if defined(__GNUC__) || defined(__clang__)
#define TF_RF_HIDDEN __attribute__((visibility("hidden")))
#else
#define TF_RF_HIDDEN
#endif

#define RUN_MAGIC "\x89TFRUN\r\n"
#define RUN_VERSION 2u /* 2: delta snapshots (REC_DELTA) */
#define RUN_HEADER 16u
#define REC_HEADER 16u
#define REC_FLAG_LZ 1u
/* A 512-byte window: the encoder's state is 2.7 KiB (4 KiB windows took 5.7) and, on snapshots, its chained match
 * finder compresses 10% smaller than the 4 KiB window's hashed one at level 1, and no slower */
#define LZ_W 9u
#define LZ_L 4u
#define OUT_BUF 1024u /* compressed bytes per write(2): a snapshot is a few KiB, and this is recorder memory */
#define IN_BUF 256u   /* raw bytes per read of a captured blob (off the program's thread: small costs nothing) */
#define FIRST_INTERVAL_NS 50000000u /* 50 ms */
/* A snapshot is due no sooner than this many times its own cost after the last: writing them takes at most ~2% of
 * the run (20, 5%, was most of what the run file cost an exact run of a few seconds) */
#define COST_FACTOR 50u

enum { REC_META = 1, REC_SNAPSHOT = 2, REC_END = 3, REC_EVIDENCE = 4, REC_DELTA = 5 };
/* A delta snapshot (REC_DELTA) sends only the sites whose record changed since the snapshot before it, and the
 * strings, functions and stack nodes only when they changed: an exact run's tables are mostly the sites and nodes
 * its imports made, which a full snapshot re-sent (and compressed) every time. Every FULL_EVERY-th snapshot is
 * full, so a reader decodes at most that many records; bounded files (compaction drops snapshots) are all full. */
#define FULL_EVERY 16u
#define KEEP_RECENT 16u         /* snapshots kept at full resolution while the bound allows */
#define NOT_SNAPSHOT UINT32_MAX /* a record index entry's seq for the records that are not snapshots */

typedef struct {
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
        uint32_t len; /* header and payload */
        uint32_t seq; /* a snapshot's number, or NOT_SNAPSHOT: 8 bytes an entry (recorder memory, one per record) */
    } * index;        /* the committed records, in file order (bounded files only): each starts where the one before it
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
    size_t out_fill;    /* compressed bytes of the record being written in `out`, not yet in the file */
    uint64_t finish_ns; /* what compressing and writing the last deferred snapshot took (off the program's thread) */
    int pending_kind;   /* REC_SNAPSHOT or REC_DELTA: the record the captured payload becomes */
    /* What the last captured snapshot sent, for the next one's delta (runfile_snapshot.c) */
    uint64_t *site_hash;    /* per site, a hash of its record as last sent (never 0 for a sent site) */
    uint32_t site_hash_cap; /* entries allocated */
    uint32_t sent_sites, sent_nodes, sent_funcs;
    uint64_t nodes_hash, funcs_hash;
    int have_base;       /* the last snapshot was captured whole: a delta may follow it */
    uint32_t since_full; /* deltas since the last full snapshot */
} tf_runfile_state;
extern TF_RF_HIDDEN tf_runfile_state File;

/* ---- runfile.c: records ----------------------------------------------------------------------------------------- */

void crc_init(void);
/* Counts the writer's own memory (add bytes taken, sub given back) and its peak. */
void own(size_t add, size_t sub);
/* Counts a realloc from `from` bytes to `to`, `was` the block's address (as an integer, taken before the call) and
 * `now` what realloc returned: a block that moved was held twice while it was copied, and the peak counts that. */
void own_realloc(uintptr_t was, const void *now, size_t from, size_t to);
/* v as n little-endian bytes at p: inline, as a snapshot writes every field of every record it sends through it */
static inline void put_le(uint8_t *p, uint64_t v, int n) {
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
/* Appends n bytes at the end of the file (File.off moves on): 0, or -1 (File.failed set). */
int write_all(const uint8_t *p, size_t n);
void buffers_free(void);
/* Removes path.tmp, which a bounded run killed during a compaction leaves behind (the compaction would overwrite it,
 * but only once the new run's file first grows past its bound). */
void drop_stale_tmp(void);
void index_free(void);
/* A record: rec_begin, rec_put as often as needed, rec_end(kind, snapshot number); each 0 or -1 (then nothing more
 * is written). File.mu held. */
int rec_begin(void);
int rec_put(const void *data, size_t n);
int rec_end(int kind, uint64_t seq);

/* ---- runfile.c: snapshots and the writer thread ------------------------------------------------------------------ */

/* The captured snapshot compressed into its record now, when one waits. File.mu held. */
void settle(void);
/* A snapshot captured and compressed at once. Tracker lock and File.mu held, nothing pending. */
int snapshot_now(const tf_tracker_view *v);
void writer_start(void);
void writer_end(void);

/* ---- runfile_snapshot.c: the payload --------------------------------------------------------------------------- */

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

int strindex_build(strindex *x, const tf_tracker_view *v);
void strindex_free(strindex *x);
/* The payload through rec_put (k NULL: an empty kept-types section), a delta of the last one when `delta`
 * (File.have_base must be set): 0 or -1. Records what it sent for the next delta; on -1 the next must be full. */
int snapshot_put(const tf_tracker_view *v, const strindex *x, const tf_kept_types *k, uint64_t now, uint64_t rss,
                 int delta);
/* Forgets what the last snapshot sent (the next one is full) and frees the per-site hashes. */
void delta_reset(void);
/* An upper bound of the payload's bytes. */
uint64_t snapshot_bound(const tf_tracker_view *v, const strindex *x, const tf_kept_types *k);
/* The peak RSS a snapshot records: read now when `fresh`, else the writer thread's recent reading may serve. */
uint64_t snapshot_rss(int fresh, uint64_t now);
/* The writer thread, without the tracker's lock: reads the peak RSS when a snapshot is due soon. */
void rss_refresh(void);
/* When the next snapshot is due (for rss_refresh); `forget`: drop the last reading (a new run file). */
void rss_due_at(uint64_t due_ns, int forget);
/* When the next snapshot is due, as rss_due_at was last told (the writer thread reads it without a lock). */
uint64_t due_hint(void);

#endif
