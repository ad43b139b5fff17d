/* The tracker's tables (tracker_state.h): their storage, which grows by doubling inside the hook and stops at the
 * run's memory bound (a block that finds no room is counted as untracked, never mis-attributed), the slots of new
 * stack nodes and sites, and sampled mode's reclaim of the sites and nodes nothing live needs any more, so that its
 * memory follows what is live, not how many distinct stacks the run met.
 */
#include "tracker_state.h"

#include <stdlib.h>
#include <string.h>

TF_HIDDEN tf_tables_state Tables;

/* ---- own memory ---------------------------------------------------------------------------------------------- */

static _Atomic size_t recorder_held, recorder_peak;

void tf_recorder_own(size_t add, size_t sub) {
    if (add > sub) {
        size_t now = atomic_fetch_add(&recorder_held, add - sub) + (add - sub), peak = atomic_load(&recorder_peak);
        while (now > peak && !atomic_compare_exchange_weak(&recorder_peak, &peak, now)) {
        }
    } else if (sub > add) {
        atomic_fetch_sub(&recorder_held, sub - add);
    }
}

uint64_t tf_recorder_peak(void) { return atomic_load(&recorder_peak); }

void tf_recorder_peak_reset(void) { atomic_store(&recorder_peak, atomic_load(&recorder_held)); }

/* The storage half of growing either table kind (the table half, init and move, is typed): new storage of `bytes`
 * replacing `old_bytes`, within the memory bound, or NULL. */
static void *storage_alloc(size_t old_bytes, size_t bytes) {
    if (bytes == 0 || Tables.own_bytes - old_bytes + bytes > Run.max_memory)
        return NULL;
    return calloc(1, bytes); /* zeroed pages from the system: the tables' init_zeroed need not clear them */
}

/* Frees the old storage and accounts for the new (mem may be NULL: the table is released). Both were held while
 * the entries moved: the peak counts them together. */
static void storage_swap(void **old, size_t *old_bytes, void *mem, size_t bytes) {
    own_add(bytes, 0);
    own_add(0, *old_bytes);
    free(*old);
    *old = mem;
    *old_bytes = bytes;
}

static int grow_table(tf_growtable *g, uint32_t capacity) {
    tf_sitetable nt;
    size_t bytes = tf_sitetable_size(capacity);
    void *mem = storage_alloc(g->bytes, bytes);
    if (!mem)
        return -1;
    if (tf_hashtable_init_zeroed(&nt, mem, bytes, capacity) != TF_OK ||
        (g->mem && tf_sitetable_move(&nt, &g->t) != TF_OK)) {
        free(mem);
        return -1;
    }
    storage_swap(&g->mem, &g->bytes, mem, bytes);
    g->t = nt;
    return 0;
}

static int grow_pack(tf_growpack *g, uint32_t capacity) {
    tf_packtable nt;
    size_t bytes = tf_packtable_size(capacity);
    void *mem = storage_alloc(g->bytes, bytes);
    if (!mem)
        return -1;
    if (tf_packtable_init_zeroed(&nt, mem, bytes, capacity, TF_PACK_VALUE_BITS) != TF_OK ||
        (g->mem && tf_packtable_move(&nt, &g->t) != TF_OK)) {
        free(mem);
        return -1;
    }
    storage_swap(&g->mem, &g->bytes, mem, bytes);
    g->t = nt;
    return 0;
}

int pack_grow_room(tf_growpack *g) {
    uint32_t cap;
    if (!g->mem)
        return grow_pack(g, 12);
    cap = tf_packtable_capacity(&g->t);
    if (tf_packtable_count(&g->t) < cap)
        return 0;
    if (cap > TF_SITETABLE_MAX_CAPACITY / 2u)
        return -1;
    return grow_pack(g, (g->t.mask + 1u) * 2u / 4u * 3u);
}

void free_pack(tf_growpack *g) { storage_swap(&g->mem, &g->bytes, NULL, 0); }

void free_table(tf_growtable *g) { storage_swap(&g->mem, &g->bytes, NULL, 0); }

/* Room for one more entry, growing when full. Capacities are 3/4 of a power-of-two slot count, so every slot
 * array is used up to the table's load limit before it doubles. 0 or -1 (at the memory bound). */
int table_room(tf_growtable *g, uint32_t initial) {
    uint32_t cap;
    if (!g->mem)
        return grow_table(g, initial);
    cap = tf_sitetable_capacity(&g->t);
    if (tf_sitetable_count(&g->t) < cap)
        return 0;
    if (cap > TF_SITETABLE_MAX_CAPACITY / 2u)
        return -1;
    return grow_table(g, (g->t.mask + 1u) * 2u / 4u * 3u);
}

/* Grows an array to at least `need` items, by half (sampled mode: by a quarter): the slack of the site array (56 bytes
 * a site) and the node array is memory the target's process pays, and a larger array is moved by realloc without
 * copying (mremap), so growing by half costs few more reallocs than doubling and leaves a third of the slack. Sampled
 * mode's arrays follow the live sample, are a few KiB, and are what watch bounds against a small program's heap
 * (nbody's 2 MiB): they grow seldom (a reclaim comes first), so a quarter's slack costs a few more copies of a small
 * array; exact mode's hold one entry per distinct stack and frame of the run. */
int grow_array(void **arr, uint32_t *cap, size_t item, uint32_t need) {
    uint32_t ncap = *cap ? *cap : 16u;
    void *n;
    while (ncap < need)
        ncap = ncap + (Run.sampled ? ncap / 4u : ncap / 2u);
    if (ncap == *cap)
        return 0;
    if (Tables.own_bytes + (size_t)(ncap - *cap) * item > Run.max_memory)
        return -1;
    uintptr_t was = (uintptr_t)*arr;
    n = realloc(*arr, (size_t)ncap * item);
    if (!n)
        return -1;
    if (was && (uintptr_t)n != was) { /* moved: realloc held both while it copied */
        own_add((size_t)ncap * item, 0);
        own_add(0, (size_t)*cap * item);
    } else {
        own_add((size_t)ncap * item, (size_t)*cap * item);
    }
    *arr = n;
    *cap = ncap;
    return 0;
}

/* ---- stack nodes and sites, and sampled mode's reclaim -------------------------------------------------------- */

enum { FULL_SITES, FULL_NODES, FULL_KEYS }; /* what a sampled-mode reclaim must make room in */
static void reclaim(uint32_t keep, uint32_t survivors);
static int reclaim_for(int full, uint32_t keep);

/* Room for one more key in the table nodes (and in sampled mode stacks) go to: 0, or -1 at the memory
 * bound. Sampled mode reclaims unused stacks and nodes before the stack table grows past TF_SAMPLED_KEYS, and grows
 * it only when that freed less than a quarter of it; `keep` is the leaf of the stack being interned. */
static int key_room(uint32_t keep) {
    tf_growpack *g = &Tables.pstacks;
    if (!Run.sampled)
        return table_room(&Tables.stacks, 12);
    if (g->mem && g->t.count >= g->t.capacity && g->t.capacity >= TF_SAMPLED_KEYS) {
        if (reclaim_for(FULL_KEYS, keep))
            return 0;
        if (g->t.capacity <= TF_SITETABLE_MAX_CAPACITY / 2u && grow_pack(g, (g->t.mask + 1u) * 2u / 4u * 3u) == 0)
            return 0;
        return g->t.count < g->t.capacity ? 0 : -1;
    }
    return pack_room(g);
}

/* Whether a site must be kept: a live sampled block refers to it, or it held bytes at the last peak. */
static int site_pinned(const tf_site *s) {
    return s->live != 0 || (s->at_peak_epoch == Totals.peak_epoch && s->at_peak != 0);
}

/* What a reclaim removes from the stack table: the keys of recycled sites. */
static int key_dead(void *ctx, uint64_t key, uint64_t value) {
    (void)ctx;
    (void)key;
    return Tables.sites[(uint32_t)value].unused;
}

static void free_node(uint32_t i) {
    Tables.nodes[i] = (tf_node){.parent = Tables.free_nodes, .func = TF_NODE_FREE};
    Tables.free_nodes = i;
    Tables.nfree_nodes++;
}

/* Sampled mode, when the site array, the node array or the stack table is full: recycles the unpinned sites except
 * the `survivors` that allocated the most bytes (a recycled site's counts are lost, like a sampled stack never met;
 * heavy sites stay, as in a space-saving top-k count), then frees every node no remaining site (nor the stack being
 * interned, from `keep` out) uses, and drops both kinds' keys in one pass over the table. O(sites * survivors +
 * nodes + frames of all sites + table slots). Every site below nsites and node below nnodes must be initialised or
 * on a free list. */
static void reclaim(uint32_t keep, uint32_t survivors) {
    uint32_t top[TF_SAMPLED_KEEP], ntop = 0;
    memset(Frames.recent, 0, sizeof Frames.recent); /* their sites may be recycled */
    for (uint32_t i = 1; i < Tables.nsites && survivors; i++) {
        const tf_site *s = &Tables.sites[i];
        uint32_t k;
        if (s->unused || site_pinned(s) ||
            (ntop == survivors && s->alloc_bytes <= Tables.sites[top[ntop - 1]].alloc_bytes))
            continue;
        /* insert into `top`, kept heaviest first; the lightest falls off when it is full */
        k = ntop < survivors ? ntop++ : ntop - 1;
        for (; k > 0 && Tables.sites[top[k - 1]].alloc_bytes < s->alloc_bytes; k--)
            top[k] = top[k - 1];
        top[k] = i;
    }
    for (uint32_t i = 1; i < Tables.nsites; i++) {
        tf_site *s = &Tables.sites[i];
        uint32_t k = 0;
        while (k < ntop && top[k] != i)
            k++;
        if (s->unused || site_pinned(s) || k < ntop)
            continue;
        *s = (tf_site){.leaf = Tables.free_sites, .unused = 1};
        Tables.free_sites = i;
        Tables.nfree_sites++;
        Tables.recycled_sites++;
    }
    for (uint32_t i = 0; i <= Tables.nsites; i++) {
        uint32_t node = i < Tables.nsites ? (Tables.sites[i].unused ? 0 : Tables.sites[i].leaf) : keep;
        while (node != 0 && !(Tables.nodes[node].parent & TF_NODE_MARK)) {
            Tables.nodes[node].parent |= TF_NODE_MARK;
            node = Tables.nodes[node].parent & ~TF_NODE_MARK;
        }
    }
    if (Tables.pstacks.mem)
        tf_packtable_remove_if(&Tables.pstacks.t, key_dead, NULL);
    for (uint32_t i = 1; i < Tables.nnodes; i++) {
        if (Tables.nodes[i].parent & TF_NODE_MARK)
            Tables.nodes[i].parent &= ~TF_NODE_MARK;
        else if (Tables.nodes[i].func != TF_NODE_FREE)
            free_node(i);
    }
    /* the children lists again, of the nodes left */
    for (uint32_t i = 0; i < Tables.nnodes; i++)
        Tables.links[i].child = 0;
    for (uint32_t i = 1; i < Tables.nnodes; i++) {
        if (Tables.nodes[i].func == TF_NODE_FREE)
            continue;
        Tables.links[i].sibling = Tables.links[Tables.nodes[i].parent].child;
        Tables.links[Tables.nodes[i].parent].child = i;
    }
}

/* Whether a quarter of what was full is free again. */
static int roomy(int full) {
    if (full == FULL_SITES)
        return Tables.nfree_sites >= Tables.sites_cap / 4u;
    if (full == FULL_NODES)
        return Tables.nfree_nodes >= Tables.nodes_cap / 4u;
    return Tables.pstacks.t.count <= Tables.pstacks.t.capacity / 4u * 3u;
}

/* Sampled mode: frees room in what is full instead of growing it, keeping the heaviest unpinned sites when that is
 * enough, else keeping only pinned ones; 1 when a quarter of it is free. What is full is grown only when the pinned
 * sites (those with bytes live or at the peak) and their frames take up most of it, so the tables follow what is
 * live; and a reclaim runs at most once per that quarter's worth of new sites, nodes or keys. */
static int reclaim_for(int full, uint32_t keep) {
    reclaim(keep, TF_SAMPLED_KEEP);
    if (!roomy(full))
        reclaim(keep, 0);
    return roomy(full);
}

/* A slot for a new node whose caller is `parent` (kept through a reclaim); 0 when out of room. The caller
 * initialises it before anything else can reclaim. */
uint32_t new_node(uint32_t parent) {
    if (!Tables.free_nodes && Tables.nnodes == Tables.nodes_cap) {
        /* grow when nothing could be freed, or little; at the memory bound, what was freed serves */
        if (!(Run.sampled && Tables.nodes_cap >= TF_SAMPLED_NODES && reclaim_for(FULL_NODES, parent)) &&
            Tables.nnodes < TF_TAG_MAX)
            (void)grow_array((void **)&Tables.nodes, &Tables.nodes_cap, sizeof(tf_node), Tables.nnodes + 1u);
        if (Run.sampled && Tables.links_cap < Tables.nodes_cap) /* in step: the same growth from the same start */
            (void)grow_array((void **)&Tables.links, &Tables.links_cap, sizeof(tf_nodelink), Tables.nodes_cap);
    }
    if (Tables.free_nodes) {
        uint32_t i = Tables.free_nodes;
        Tables.free_nodes = Tables.nodes[i].parent;
        Tables.nfree_nodes--;
        return i;
    }
    if (Tables.nnodes >= TF_TAG_MAX || Tables.nnodes == Tables.nodes_cap ||
        (Run.sampled && Tables.nnodes >= Tables.links_cap))
        return 0;
    return Tables.nnodes++;
}

/* A slot for a new site whose stack's leaf is `leaf`, with room for its stack table entry, or 0 (counted as a
 * dropped stack). The caller initialises it before anything else can reclaim. */
uint32_t new_site(uint32_t leaf) {
    uint32_t i;
    if (!Tables.free_sites && Tables.nsites == Tables.sites_cap) {
        if (!(Run.sampled && Tables.sites_cap >= TF_SAMPLED_SITES && reclaim_for(FULL_SITES, leaf)) &&
            Tables.nsites < TF_TAG_MAX)
            (void)grow_array((void **)&Tables.sites, &Tables.sites_cap, sizeof(tf_site), Tables.nsites + 1u);
    }
    if ((!Tables.free_sites && (Tables.nsites >= TF_TAG_MAX || Tables.nsites == Tables.sites_cap)) ||
        key_room(leaf) < 0) {
        Totals.dropped_stacks++;
        return 0;
    }
    if (Tables.free_sites) {
        i = Tables.free_sites;
        Tables.free_sites = Tables.sites[i].leaf;
        Tables.nfree_sites--;
        return i;
    }
    return Tables.nsites++;
}

/* ---- the run's end -------------------------------------------------------------------------------------------- */

size_t fixed_bytes(void) {
    return sizeof Frames.lines + sizeof Frames.recent + (Run.sampled ? sizeof Hook.sampled_count : 0);
}

void release_run(void) {
    for (uint32_t i = 0; i < Tables.nfuncs; i++) {
        Py_DECREF(Tables.funcs[i].file);
        Py_DECREF(Tables.funcs[i].name);
    }
    own_add(0, (size_t)Tables.sites_cap * sizeof(tf_site) + (size_t)Tables.nodes_cap * sizeof(tf_node) +
                   (size_t)Tables.links_cap * sizeof(tf_nodelink) + (size_t)Tables.funcs_cap * sizeof(tf_func) +
                   (size_t)Tables.forder_cap * sizeof *Tables.forder +
                   (size_t)Tables.small_cap * sizeof *Tables.small_sites + fixed_bytes());
    free(Tables.small_sites);
    Tables.small_sites = NULL;
    Tables.nsmall = Tables.small_cap = 0;
    free(Tables.funcs);
    free(Tables.forder);
    Tables.funcs = NULL;
    Tables.forder = NULL;
    Tables.nfuncs = Tables.funcs_cap = Tables.forder_cap = 0;
    Tables.free_sites = Tables.free_nodes = Tables.nfree_sites = Tables.nfree_nodes = 0;
    free_table(&Tables.functab);
    own_add(0, tf_timeline_free(&Totals.tl));
    Py_CLEAR(Frames.import_code);
    Py_CLEAR(Frames.fold_files[0]);
    Py_CLEAR(Frames.fold_files[1]);
    Py_CLEAR(Frames.root_code);
    free(Tables.sites);
    free(Tables.nodes);
    free(Tables.links);
    Tables.sites = NULL;
    Tables.nodes = NULL;
    Tables.links = NULL;
    Tables.links_cap = 0;
    Tables.nsites = Tables.sites_cap = Tables.nnodes = Tables.nodes_cap = 0;
    free_table(&Tables.nodetab);
    free_pack(&Tables.pblocks);
    free_table(&Tables.blocks);
    free_table(&Tables.stacks);
    free_pack(&Tables.pstacks);
}
