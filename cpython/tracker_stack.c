/* The Python stack of an allocation, read and interned as a site (tracker_state.h).
 *
 * Stacks are keyed by (instruction pointer, file name) per frame, not by line: the pointer is into the frame's code
 * object, so it names the code object and the position at once; no line-table decoding in the hot path; a frame's
 * line is resolved once, when its stack is first seen. Code objects are not kept alive (that
 * would keep memory the program freed, e.g. a module's top-level code after import); the file and function name
 * strings are (as tracemalloc keeps file names). A dead code object's address can be reused by a new one; the file
 * name in the key (kept alive, so never reused) limits that to code from the same file at the same position.
 * Frames are read from the interpreter's internal frame chain through compat.h, one branch per version (3.11 to
 * 3.14): no allocation, no frame objects; `_tracker_status()["frame_walk"]` says so, and tests assert it.
 */
#define TF_COMPAT_FRAMES 1 /* compat.h's frame accessors: this is the one file that reads the frame stack */
#include "tracker_state.h"

#include <string.h>

/* The frame walk reads each version's frame layout through compat.h; a version it was not written against would
 * read garbage, so it does not build there (and thrifty/__init__.py refuses such a version at import). */
#if PY_VERSION_HEX < 0x030B0000 || PY_VERSION_HEX >= 0x030F0000
#error "thrifty's tracker reads the interpreter's frame stack, whose layout it knows for CPython 3.11 to 3.14 only"
#endif
/* 3.11: line numbers from a per-code cache of the line-table scan (line_of); later versions: PyCode_Addr2Line */
#define TF_LINE_SCAN_CACHE (PY_VERSION_HEX < 0x030C0000)

TF_HIDDEN tf_frames_state Frames;

/* The module name a frame of importlib's _find_and_load(name, import_) is importing: its first argument, read from
 * the frame's fast locals (no allocation). NULL when it is not a str. */
static PyObject *import_name(tf_py_frame *f) {
    PyObject *name = tf_py_frame_local(f, 0);
    return name && PyUnicode_Check(name) ? name : NULL;
}

/* Whether a frame running `code` is left out of a folded stack: importlib's own, but for the import pseudo-frame. */
static inline int folded(PyCodeObject *code, tf_py_frame *f) {
    return (code->co_filename == Frames.fold_files[0] || code->co_filename == Frames.fold_files[1]) &&
           !((PyObject *)code == Frames.import_code && import_name(f));
}

/* The first frame from `f` on (f itself first) that a stack shows, its code in *code; NULL at the end of the stack.
 * `top`: f is the innermost frame (tf_py_frame_code); `fold`: importlib's own frames are left out (sampled mode). */
static TF_ALWAYS_INLINE tf_py_frame *shown_frame(tf_py_frame *f, PyCodeObject **code, const int top, const int fold) {
    for (int first = top; f; f = tf_py_frame_back(f), first = 0) {
        PyCodeObject *c = tf_py_frame_code(f, first);
        if (c && !(fold && folded(c, f))) {
            *code = c;
            return f;
        }
    }
    return NULL;
}

/* Fills out[] with up to `max` frames of the current Python stack, innermost first (borrowed code refs), the same
 * frames current_hash takes. Sets *truncated when the stack was deeper. */
int walk_stack(PyThreadState *ts, tf_frame *out, int max, int *truncated, int fold) {
    int n = 0;
    PyCodeObject *code;
    *truncated = 0;
    for (tf_py_frame *f = ts ? shown_frame(tf_py_frame_top(ts), &code, 1, fold) : NULL; f;
         f = shown_frame(tf_py_frame_back(f), &code, 0, fold)) {
        if (n == max) {
            *truncated = 1;
            break;
        }
        out[n].code = (PyObject *)code;
        out[n].file = code->co_filename;
        out[n].lasti = tf_py_frame_lasti(f);
        if (out[n].code == Frames.import_code && import_name(f)) { /* keyed by the module's name, not the position */
            out[n].file = import_name(f);
            out[n].lasti = 0;
        }
        n++;
        if (out[n - 1].code == Frames.root_code)
            break; /* the recorder's runner: its own frames outside it are not the program's */
    }
    return n;
}

/* One frame into a stack's hash: one multiply and a rotation (the exact frame walk runs this per frame per
 * allocation, ~12 frames deep in a typical program). `where` is the frame's instruction pointer, which points into
 * its live code object and so names the code and the position at once; an import frame's is its module name. The
 * file pointer is mixed in as well: see the top of the file for why the key holds it. stack_final mixes the whole. */
static uint64_t frame_mix(uint64_t h, const void *where, const void *file) {
    h = ((h ^ (uint64_t)(uintptr_t)where) * UINT64_C(0x9e3779b97f4a7c15)) ^ (uint64_t)(uintptr_t)file;
    return h << 29 | h >> 35;
}

static uint64_t stack_final(uint64_t h, int n, int truncated) {
    h ^= (uint64_t)n ^ ((uint64_t)truncated << 40);
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 32;
    return h ? h : 1u;
}

/* One frame into a chain of the stack's hash (frame_mix): its position, or an import frame's module name. */
static TF_ALWAYS_INLINE uint64_t frame_into(uint64_t h, tf_py_frame *f, PyCodeObject *code) {
    PyObject *name;
    return (PyObject *)code == Frames.import_code && (name = import_name(f)) != NULL
               ? frame_mix(h, name, code)
               : frame_mix(h, tf_py_frame_instr(f), code->co_filename);
}

/* The current stack's hash, walking the frames without copying them out: the common case (a stack seen before)
 * needs nothing else. Two hashes, of the even and of the odd frames, joined at the end: each frame's mix waits on
 * the one before it (a multiply, ~6 cycles of latency), and stacks are deep (the program's driver, runpy, the
 * libraries), so one chain made the walk the hook's largest cost; two chains run side by side. The loop takes two
 * frames a turn, one per chain, and asks once a turn whether both fit under `max` (at most one more frame is taken
 * after it). `fold` (sampled mode) leaves importlib's own frames out, as walk_stack does; a constant where it is
 * inlined, so exact mode's walk, which runs per allocation, compares nothing more. */
static TF_ALWAYS_INLINE uint64_t current_hash(PyThreadState *ts, int max, int *depth, const int fold) {
    uint64_t even = UINT64_C(0xcbf29ce484222325), odd = UINT64_C(0x84222325cbf29ce4);
    int n = 0, truncated = 0;
    PyCodeObject *code;
    tf_py_frame *f = ts ? shown_frame(tf_py_frame_top(ts), &code, 1, fold) : NULL;
    while (f && n + 2 <= max) {
        even = frame_into(even, f, code);
        /* as walk_stack: the recorder's runner is the stack's outermost frame */
        if ((PyObject *)code == Frames.root_code || !(f = shown_frame(tf_py_frame_back(f), &code, 0, fold))) {
            n += 1;
            goto done;
        }
        odd = frame_into(odd, f, code);
        n += 2;
        if ((PyObject *)code == Frames.root_code)
            goto done;
        f = shown_frame(tf_py_frame_back(f), &code, 0, fold);
    }
    if (f) { /* n is even here, and max - n is 0 or 1 */
        if (n < max) {
            even = frame_into(even, f, code);
            n++;
            f = (PyObject *)code == Frames.root_code ? NULL : shown_frame(tf_py_frame_back(f), &code, 0, fold);
        }
        truncated = f != NULL;
    }
done:
    *depth = n;
    return n ? stack_final(frame_mix(even, (const void *)(uintptr_t)odd, NULL), n, truncated) : 0;
}

static int line_of(PyCodeObject *code, int lasti);

/* Order of a function against (file, name): by address, which stays put while the run holds the strings. */
static int func_cmp(const tf_func *f, const PyObject *file, const PyObject *name) {
    uintptr_t a = (uintptr_t)f->file, b = (uintptr_t)file;
    if (a == b) {
        a = (uintptr_t)f->name;
        b = (uintptr_t)name;
    }
    return a < b ? -1 : a > b;
}

/* Sampled mode: the function index of a code object's (file, name) by binary search over the indexes in address
 * order, interning it (an insertion, O(functions)) on first sight; UINT32_MAX when out of room. 4 bytes a function
 * instead of a stack table entry (most of a small run's table was function keys), and a lookup happens only for a
 * new node. O(log functions). */
static uint32_t func_sorted(PyObject *file, PyObject *name) {
    uint32_t lo = 0, hi = Tables.nfuncs;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2u;
        int c = func_cmp(&Tables.funcs[Tables.forder[mid]], file, name);
        if (c == 0)
            return Tables.forder[mid];
        if (c < 0)
            lo = mid + 1u;
        else
            hi = mid;
    }
    if (Tables.nfuncs >= TF_TAG_MAX ||
        grow_array((void **)&Tables.funcs, &Tables.funcs_cap, sizeof(tf_func), Tables.nfuncs + 1u) < 0 ||
        grow_array((void **)&Tables.forder, &Tables.forder_cap, sizeof *Tables.forder, Tables.nfuncs + 1u) < 0)
        return UINT32_MAX;
    memmove(&Tables.forder[lo + 1u], &Tables.forder[lo], (size_t)(Tables.nfuncs - lo) * sizeof *Tables.forder);
    Tables.forder[lo] = Tables.nfuncs;
    Tables.funcs[Tables.nfuncs] = (tf_func){Py_NewRef(file), Py_NewRef(name)};
    return Tables.nfuncs++;
}

/* Function index of a (file, name) pair (a code object's co_filename and co_qualname, or "<import>" and a module
 * name), interning it on first sight; UINT32_MAX when out of room. */
static uint32_t func_of(PyObject *file, PyObject *name) {
    uint64_t idx, key;
    if (Run.sampled)
        return func_sorted(file, name);
    key = ((uint64_t)(uintptr_t)file * UINT64_C(0x9e3779b97f4a7c15)) ^ (uint64_t)(uintptr_t)name;
    key = key * UINT64_C(0xff51afd7ed558ccd);
    key = key ? key : 1u;
    if (Tables.functab.mem && tf_sitetable_get(&Tables.functab.t, key, &idx)) {
        /* a 64-bit hash of two pointers that stay alive: a collision is as unlikely as a stack hash collision */
        return (idx & ~(uint64_t)UINT32_MAX) == TF_KEY_FUNC ? (uint32_t)idx : UINT32_MAX;
    }
    if (Tables.nfuncs >= TF_TAG_MAX || table_room(&Tables.functab, 12) < 0 ||
        grow_array((void **)&Tables.funcs, &Tables.funcs_cap, sizeof(tf_func), Tables.nfuncs + 1u) < 0)
        return UINT32_MAX;
    Tables.funcs[Tables.nfuncs] = (tf_func){Py_NewRef(file), Py_NewRef(name)};
    tf_sitetable_put(&Tables.functab.t, key, TF_KEY_FUNC | Tables.nfuncs);
    return Tables.nfuncs++;
}

/* Sampled mode: the child of `parent` whose key is `key`, or 0. O(children). */
static uint32_t child_of(uint32_t parent, uint32_t key) {
    for (uint32_t c = Tables.links[parent].child; c != 0; c = Tables.links[c].sibling)
        if (Tables.links[c].key == key)
            return c;
    return 0;
}

static TF_NOINLINE uint32_t site_of_stack(PyThreadState *ts, uint64_t h);

/* Site index of the current stack, interning it on first sight. Site 0 is "no Python frame / out of room". Two
 * distinct stacks share a site only when their 64-bit hashes collide. Called with the lock held. The hash and a
 * stack met lately (the common case: a loop allocates from a few lines) are answered here; the rest is out of
 * line, so this part, which runs per allocation, keeps few registers to save. */
uint32_t current_site(PyThreadState *ts) {
    int n;
    uint64_t h = Run.sampled ? current_hash(ts, Run.max_depth, &n, 1) : current_hash(ts, Run.max_depth, &n, 0);
    if (n == 0)
        return 0;
    tf_recent *r = &Frames.recent[h & (TF_RECENT - 1u)];
    return r->hash == h ? r->site : site_of_stack(ts, h);
}

/* current_site for a stack not met lately: its site from the stack table, or the stack walked and interned. */
static TF_NOINLINE uint32_t site_of_stack(PyThreadState *ts, uint64_t h) {
    tf_frame fr[TF_MAX_DEPTH_LIMIT];
    int truncated, n;
    uint64_t idx;
    uint32_t site;
    tf_recent *r = &Frames.recent[h & (TF_RECENT - 1u)];
    if (Run.sampled ? Tables.pstacks.mem && tf_packtable_get(&Tables.pstacks.t, stack_pack_key(h), &idx)
                    : Tables.stacks.mem && tf_sitetable_get(&Tables.stacks.t, h, &idx)) {
        site = idx >> 32 ? 0 : (uint32_t)idx; /* a node or function key: only if 64-bit hashes collide */
        if (site)
            *r = (tf_recent){h, site};
        return site;
    }
    n = walk_stack(ts, fr, Run.max_depth, &truncated, Run.sampled);
    uint32_t parent = 0;
    for (int i = n - 1; i >= 0; i--) {
        uint64_t key = (uint64_t)parent * UINT64_C(0x9e3779b97f4a7c15);
        key = (key ^ (uint64_t)(uintptr_t)fr[i].code) * UINT64_C(0x100000001b3);
        key = (key ^ (uint64_t)(uintptr_t)fr[i].file) * UINT64_C(0xc4ceb9fe1a85ec53);
        key = (key ^ (uint64_t)(uint32_t)fr[i].lasti) * UINT64_C(0xff51afd7ed558ccd);
        key = key ? key : 1u;
        uint64_t node;
        uint32_t key32 = (uint32_t)(key >> 32) ^ (uint32_t)key;
        if (Run.sampled) {
            /* two frames under one parent share a node only if their 32-bit keys collide */
            if ((node = child_of(parent, key32)) != 0) {
                parent = (uint32_t)node;
                continue;
            }
        } else if (Tables.nodetab.mem && tf_sitetable_get(&Tables.nodetab.t, key, &node)) {
            if ((node & ~(uint64_t)UINT32_MAX) != TF_KEY_NODE) { /* another kind's key: a 64-bit collision */
                Totals.dropped_stacks++;
                return 0;
            }
            parent = (uint32_t)node;
            continue;
        }
        PyCodeObject *code = (PyCodeObject *)fr[i].code;
        /* an import frame's `file` is the module name (walk_stack) */
        int import = fr[i].code == Frames.import_code && fr[i].file != code->co_filename;
        uint32_t func =
            import ? func_of(Frames.import_label, fr[i].file) : func_of(code->co_filename, code->co_qualname);
        uint32_t slot;
        /* exact mode: the key's room first (sampled mode: a reclaim new_node runs keeps `parent`'s path) */
        if (func == UINT32_MAX || (!Run.sampled && table_room(&Tables.nodetab, 12) < 0) ||
            (slot = new_node(parent)) == 0) {
            Totals.dropped_stacks++;
            return 0;
        }
        Tables.nodes[slot] = (tf_node){.parent = parent, .line = import ? 0 : line_of(code, fr[i].lasti), .func = func};
        if (Run.sampled) {
            Tables.links[slot] = (tf_nodelink){.key = key32, .sibling = Tables.links[parent].child};
            Tables.links[parent].child = slot;
        } else {
            tf_sitetable_put(&Tables.nodetab.t, key, TF_KEY_NODE | slot);
        }
        parent = slot;
    }
    site = new_site(parent);
    if (site == 0)
        return 0;
    Tables.sites[site] = (tf_site){.leaf = parent, .depth = (uint16_t)n, .truncated = (uint8_t)truncated};
    if (Run.sampled)
        tf_packtable_put(&Tables.pstacks.t, stack_pack_key(h), site);
    else
        tf_sitetable_put(&Tables.stacks.t, h, site);
    *r = (tf_recent){h, site};
    return site;
}

/* Line of a frame position, for a new stack node. PyCode_Addr2Line scans the code's line table from its start every
 * time: thousands of steps for a long module body, and a module body being imported meets many new nodes, in
 * increasing order. Python 3.11: keep each recent code object's scan position (a few, direct-mapped) and step from
 * there. An entry is reused only when the live code object matches it in address, line table object and length
 * and first line, so a dead code object's entry is never read past the end of the live table (at worst a reused
 * address with an identical-looking table gives a wrong line, the same risk the stack keys accept). */
static int line_of(PyCodeObject *code, int lasti) {
    int addr = lasti < 0 ? 0 : lasti * TF_CODEUNIT;
#if TF_LINE_SCAN_CACHE
    PyObject *table = code->co_linetable;
    tf_linecache *e = &Frames.lines[((uintptr_t)code >> 4) % TF_LINE_CACHE];
    if (e->code != code || e->table != table || e->table_len != PyBytes_GET_SIZE(table) ||
        e->firstlineno != code->co_firstlineno) {
        /* what 3.11's _PyLineTable_InitAddressRange does (not exported) */
        e->code = code;
        e->table = table;
        e->table_len = PyBytes_GET_SIZE(table);
        e->firstlineno = code->co_firstlineno;
        e->bounds.opaque.lo_next = (const uint8_t *)PyBytes_AS_STRING(table);
        e->bounds.opaque.limit = e->bounds.opaque.lo_next + e->table_len;
        e->bounds.ar_start = -1;
        e->bounds.ar_end = 0;
        e->bounds.opaque.computed_line = code->co_firstlineno;
        e->bounds.ar_line = -1;
    }
    return _PyCode_CheckLineNumber(addr, &e->bounds);
#else
    return PyCode_Addr2Line(code, addr);
#endif
}
