/* thrifty for MicroPython: thrifty.lz — compress/decompress and the streaming Compressor/Decompressor, with the
 * CPython package's names, arguments and frames (docs/micropython.md says where they differ). Encoder and decoder
 * state live in GC-heap blocks (m_new); output grows in a vstr. */
#include "thrifty_mp.h" /* first: in the natmod build it brings py/dynruntime.h */

#include <string.h>

#include "py/objstr.h"
#include "py/runtime.h"
#include "thrifty/lz.h"

#if THRIFTY_MP_LZ

/* ---- arguments and errors --------------------------------------------------------------------------------- */

/* The encoder flags for (checksum, level), or ValueError. level -1 is the default (6). */
static unsigned lz_flags(mp_obj_t checksum, mp_int_t level) {
    if (level != -1 && (level < 1 || level > 9))
        mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("level must be -1 (default) or 1..9, got %d"), (int)level);
    return (mp_obj_is_true(checksum) ? TF_LZ_FLAG_CHECKSUM : 0u) | (level > 0 ? TF_LZ_LEVEL(level) : 0u);
}

static size_t lz_encoder_size(mp_int_t w, mp_int_t l) {
    size_t size = w >= 0 && l >= 0 && w < 64 && l < 64 ? tf_lz_encoder_size((unsigned)w, (unsigned)l) : 0u;
    if (!size)
        mp_raise_msg_varg(&mp_type_ValueError,
                          MP_ERROR_TEXT("window_bits must be 6..15 and lookahead_bits 3..min(8, window_bits - 1), "
                                        "got %d and %d"),
                          (int)w, (int)l);
    return size;
}

/* Raises ValueError for a frame the decoder refused; `at` is the byte offset it had reached. */
static MP_NORETURN void lz_raise_corrupt(const char *what, tf_status st, size_t at) {
    if (st == TF_E_VERSION)
        mp_raise_msg_varg(&mp_type_ValueError,
                          MP_ERROR_TEXT("%s: the thrifty.lz frame at byte %u has an unknown format version or "
                                        "flags (this build reads format version 2)"),
                          what, (unsigned)at);
    if (st == TF_E_SIZE)
        mp_raise_msg_varg(&mp_type_ValueError,
                          MP_ERROR_TEXT("%s: the thrifty.lz frame needs a larger window than this decompressor "
                                        "accepts"),
                          what);
    mp_raise_msg_varg(&mp_type_ValueError,
                      MP_ERROR_TEXT("%s: corrupt or not thrifty.lz data near byte %u (bad magic or window, or a "
                                    "code, offset, padding or checksum that no encoder writes)"),
                      what, (unsigned)at);
}

/* Room for at least 64 more bytes at the end of v (doubling). */
static void lz_grow(vstr_t *v) {
    if (v->alloc - v->len < 64u)
        vstr_hint_size(v, v->alloc < 64u ? 64u : v->alloc);
}

/* ---- one shot --------------------------------------------------------------------------------------------- */

static mp_obj_t lz_compress(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_data, ARG_window_bits, ARG_lookahead_bits, ARG_checksum, ARG_level };
    THRIFTY_ARGS mp_arg_t allowed[] = {
        {MP_QSTR_data, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL}},
        {MP_QSTR_window_bits, MP_ARG_INT, {.u_int = 10}},
        {MP_QSTR_lookahead_bits, MP_ARG_INT, {.u_int = 4}},
        {MP_QSTR_checksum, MP_ARG_OBJ, {.u_obj = mp_const_true}},
        {MP_QSTR_level, MP_ARG_INT, {.u_int = -1}},
    };
    mp_arg_val_t a[MP_ARRAY_SIZE(allowed)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed), allowed, a);
    mp_buffer_info_t in;
    mp_get_buffer_raise(a[ARG_data].u_obj, &in, MP_BUFFER_READ);
    size_t work_size = lz_encoder_size(a[ARG_window_bits].u_int, a[ARG_lookahead_bits].u_int);
    unsigned flags = lz_flags(a[ARG_checksum].u_obj, a[ARG_level].u_int);
    size_t bound = tf_lz_compress_bound(in.len);
    if (!bound)
        mp_raise_msg(&mp_type_OverflowError, MP_ERROR_TEXT("compress: input too large"));
    void *work = thrifty_alloc(work_size);
    vstr_t out;
    vstr_init_len(&out, bound);
    size_t n = 0;
    tf_status st = tf_lz_compress(in.buf, in.len, (uint8_t *)out.buf, bound, &n, work, (work_size + 7u) & ~(size_t)7u,
                                  (unsigned)a[ARG_window_bits].u_int, (unsigned)a[ARG_lookahead_bits].u_int, flags);
    m_del(uint64_t, work, (work_size + 7u) / 8u);
    if (st != TF_OK)
        mp_raise_msg_varg(&mp_type_RuntimeError, MP_ERROR_TEXT("compress failed: %s"), tf_status_str(st));
    out.len = n;
    return mp_obj_new_bytes_from_vstr(&out);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(lz_compress_obj, 1, lz_compress);
/* A frame made with a preset dictionary (format version 4, docs/lz.md): this binding takes no dictionary, so it
 * refuses the frame by its version byte with a message that says so, whatever the build's TF_LZ_DICTIONARY. */
static void lz_refuse_dictionary(const char *what, const uint8_t *header, size_t n, size_t at) {
    if (n > 4u && header[4] == TF_LZ_VERSION_DICT)
        mp_raise_msg_varg(&mp_type_ValueError,
                          MP_ERROR_TEXT("%s: the thrifty.lz frame at byte %u was compressed with a preset dictionary "
                                        "(format version 4), which MicroPython's thrifty.lz does not take; compress "
                                        "it without dictionary="),
                          what, (unsigned)at);
}

/* Decodes the frame that starts at in[*pos] into `out` (at most limit bytes in all; ValueError beyond), reusing
 * *storage (of *storage_size bytes) when it is large enough. Advances *pos past the frame. */
static void lz_decode_frame(const uint8_t *in, size_t n, size_t *pos, vstr_t *out, size_t limit, void **storage,
                            size_t *storage_size) {
    unsigned w, l, flags;
    lz_refuse_dictionary("decompress", in + *pos, n - *pos, *pos);
    tf_status st = tf_lz_read_header(in + *pos, n - *pos, &w, &l, &flags);
    if (st == TF_E_EMPTY)
        mp_raise_msg_varg(&mp_type_ValueError,
                          MP_ERROR_TEXT("decompress: truncated thrifty.lz data: the input ends at byte %u inside "
                                        "the frame header that starts at byte %u"),
                          (unsigned)n, (unsigned)*pos);
    if (st != TF_OK)
        lz_raise_corrupt("decompress", st, *pos);
    size_t need = tf_lz_decoder_size(w) + tf_lz_filter_size(flags); /* a filtered frame's block (TF_LZ_FILTERS) */
    if (*storage_size < need) {
        *storage = m_renew(uint64_t, *storage, (*storage_size + 7u) / 8u, (need + 7u) / 8u);
        *storage_size = need;
    }
    tf_lz_decoder *d;
    if (tf_lz_decoder_init(&d, *storage, need, w) != TF_OK)
        mp_raise_msg(&mp_type_MemoryError, MP_ERROR_TEXT("decompress: decoder storage"));
    size_t start = *pos;
    (void)start; /* only in the messages, which terse error reporting leaves out */
    for (;;) {
        lz_grow(out);
        size_t room = out->alloc - out->len, used = 0, made = 0;
        if (limit != (size_t)-1 && room > limit + 1u - out->len)
            room = limit + 1u - out->len; /* one past the limit tells "exactly" from "more" */
        st = tf_lz_decoder_decode(d, in + *pos, n - *pos, &used, (uint8_t *)out->buf + out->len, room, &made);
        *pos += used;
        out->len += made;
        if (st < 0)
            lz_raise_corrupt("decompress", st, *pos);
        if (limit != (size_t)-1 && out->len > limit)
            mp_raise_msg_varg(&mp_type_ValueError,
                              MP_ERROR_TEXT("decompress: the data decompresses to more than max_length=%u bytes"),
                              (unsigned)limit);
        if (st == TF_LZ_DONE) {
            if (tf_lz_decoder_ended(d))
                return;
            mp_raise_msg_varg(&mp_type_ValueError,
                              MP_ERROR_TEXT("decompress: truncated thrifty.lz data: the input ends at byte %u inside "
                                            "the frame that starts at byte %u"),
                              (unsigned)n, (unsigned)start);
        }
    }
}

/* Every concatenated frame, decoded (as the CPython package's decompress and gzip.decompress do). */
static mp_obj_t lz_decompress(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    THRIFTY_ARGS mp_arg_t allowed[] = {
        {MP_QSTR_data, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL}},
        {MP_QSTR_max_length, MP_ARG_OBJ, {.u_obj = mp_const_none}},
    };
    mp_arg_val_t a[MP_ARRAY_SIZE(allowed)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed), allowed, a);
    mp_buffer_info_t in;
    mp_get_buffer_raise(a[0].u_obj, &in, MP_BUFFER_READ);
    size_t limit = (size_t)-1;
    if (a[1].u_obj != mp_const_none) {
        mp_int_t m = mp_obj_get_int(a[1].u_obj);
        if (m < 0)
            mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("max_length must be None or >= 0, got %d"), (int)m);
        limit = (size_t)m;
    }
    vstr_t out;
    vstr_init(&out, in.len * 2u + 16u);
    void *storage = NULL;
    size_t storage_size = 0, pos = 0;
    while (pos < in.len)
        lz_decode_frame(in.buf, in.len, &pos, &out, limit, &storage, &storage_size);
    m_del(uint64_t, storage, (storage_size + 7u) / 8u);
    return mp_obj_new_bytes_from_vstr(&out);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(lz_decompress_obj, 1, lz_decompress);

/* ---- Compressor ------------------------------------------------------------------------------------------- */

typedef struct {
    mp_obj_base_t base;
    tf_lz_encoder *enc; /* inside storage */
    void *storage;      /* GC heap, state_size bytes */
    size_t state_size;
    uint8_t window_bits, lookahead_bits, level, finished;
} lz_compressor_obj_t;

static mp_obj_t lz_compressor_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    THRIFTY_ARGS mp_arg_t allowed[] = {
        {MP_QSTR_window_bits, MP_ARG_INT, {.u_int = 10}},
        {MP_QSTR_lookahead_bits, MP_ARG_INT, {.u_int = 4}},
        {MP_QSTR_checksum, MP_ARG_OBJ, {.u_obj = mp_const_true}},
        {MP_QSTR_level, MP_ARG_INT, {.u_int = -1}},
    };
    mp_arg_val_t a[MP_ARRAY_SIZE(allowed)];
    mp_arg_parse_all_kw_array(n_args, n_kw, args, MP_ARRAY_SIZE(allowed), allowed, a);
    size_t size = lz_encoder_size(a[0].u_int, a[1].u_int);
    unsigned flags = lz_flags(a[2].u_obj, a[3].u_int);
    lz_compressor_obj_t *self = mp_obj_malloc(lz_compressor_obj_t, type);
    self->storage = thrifty_alloc(size);
    self->state_size = size;
    self->window_bits = (uint8_t)a[0].u_int;
    self->lookahead_bits = (uint8_t)a[1].u_int;
    self->level = (uint8_t)(a[3].u_int > 0 ? a[3].u_int : (mp_int_t)TF_LZ_DEFAULT_LEVEL);
    self->finished = 0;
    if (tf_lz_encoder_init(&self->enc, self->storage, (size + 7u) & ~(size_t)7u, self->window_bits,
                           self->lookahead_bits, flags) != TF_OK)
        mp_raise_msg(&mp_type_MemoryError, MP_ERROR_TEXT("Compressor: encoder storage"));
    return MP_OBJ_FROM_PTR(self);
}

/* Sinks in[0..n) (all of it) and polls out whatever the encoder has, finishing the frame when `finish`. */
static mp_obj_t lz_compressor_run(lz_compressor_obj_t *self, const uint8_t *in, size_t n, int finish) {
    if (self->finished)
        mp_raise_msg(&mp_type_ValueError,
                     MP_ERROR_TEXT("Compressor used after flush(): the frame is complete; make a new Compressor"));
    vstr_t out;
    vstr_init(&out, n / 2u + 32u);
    size_t at = 0;
    for (;;) {
        size_t took = 0;
        if (at < n)
            tf_lz_encoder_sink(self->enc, in + at, n - at, &took);
        at += took;
        if (at == n && finish)
            tf_lz_encoder_finish(self->enc);
        tf_status st;
        do {
            lz_grow(&out);
            size_t made = 0;
            st = tf_lz_encoder_poll(self->enc, (uint8_t *)out.buf + out.len, out.alloc - out.len, &made);
            out.len += made;
        } while (st == TF_LZ_MORE);
        if (at == n && (!finish || tf_lz_encoder_finish(self->enc) == TF_LZ_DONE))
            break;
    }
    self->finished = (uint8_t)finish;
    return mp_obj_new_bytes_from_vstr(&out);
}

static mp_obj_t lz_compressor_compress(mp_obj_t self_in, mp_obj_t data) {
    mp_buffer_info_t in;
    mp_get_buffer_raise(data, &in, MP_BUFFER_READ);
    return lz_compressor_run(MP_OBJ_TO_PTR(self_in), in.buf, in.len, 0);
}
static MP_DEFINE_CONST_FUN_OBJ_2(lz_compressor_compress_obj, lz_compressor_compress);

static mp_obj_t lz_compressor_flush(mp_obj_t self_in) { return lz_compressor_run(MP_OBJ_TO_PTR(self_in), NULL, 0, 1); }
static MP_DEFINE_CONST_FUN_OBJ_1(lz_compressor_flush_obj, lz_compressor_flush);

static void lz_compressor_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    lz_compressor_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (dest[0] != MP_OBJ_NULL)
        return; /* read-only */
    if (attr == MP_QSTR_window_bits)
        dest[0] = MP_OBJ_NEW_SMALL_INT(self->window_bits);
    else if (attr == MP_QSTR_lookahead_bits)
        dest[0] = MP_OBJ_NEW_SMALL_INT(self->lookahead_bits);
    else if (attr == MP_QSTR_level)
        dest[0] = MP_OBJ_NEW_SMALL_INT(self->level);
    else if (attr == MP_QSTR_state_size)
        dest[0] = mp_obj_new_int_from_uint(self->state_size);
    else
        dest[1] = MP_OBJ_SENTINEL; /* methods */
}

#define LZ_COMPRESSOR_METHODS(X)                                                                                       \
    X(MP_QSTR_compress, lz_compressor_compress_obj)                                                                    \
    X(MP_QSTR_flush, lz_compressor_flush_obj)
THRIFTY_DICT(lz_compressor_locals, LZ_COMPRESSOR_METHODS)

THRIFTY_TYPE(thrifty_compressor_type, MP_QSTR_Compressor, MP_TYPE_FLAG_NONE, make_new, lz_compressor_make_new, attr,
             lz_compressor_attr, locals_dict, &lz_compressor_locals);

/* ---- Decompressor ----------------------------------------------------------------------------------------- */

/* One frame per object, like zlib.decompressobj. Its storage is sized from the frame's header, so the first 7 bytes
 * wait in `header` until they have all come. */
typedef struct {
    mp_obj_base_t base;
    tf_lz_decoder *dec; /* NULL until the header has come */
    void *storage;
    size_t state_size;
    mp_obj_t unused_data, unconsumed_tail;
    uint8_t max_w, eof, needs_input, header_n;
    uint8_t header[TF_LZ_HEADER_SIZE + 1]; /* + a filtered frame's filter byte */
} lz_decompressor_obj_t;

static mp_obj_t lz_decompressor_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    THRIFTY_ARGS mp_arg_t allowed[] = {{MP_QSTR_window_bits, MP_ARG_INT, {.u_int = TF_LZ_MAX_WINDOW_BITS}}};
    mp_arg_val_t a[1];
    mp_arg_parse_all_kw_array(n_args, n_kw, args, 1, allowed, a);
    if (a[0].u_int < (mp_int_t)TF_LZ_MIN_WINDOW_BITS || a[0].u_int > (mp_int_t)TF_LZ_MAX_WINDOW_BITS)
        mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("window_bits must be between 6 and 15, got %d"),
                          (int)a[0].u_int);
    lz_decompressor_obj_t *self = mp_obj_malloc(lz_decompressor_obj_t, type);
    self->dec = NULL;
    self->storage = NULL;
    self->state_size = 0;
    self->unused_data = self->unconsumed_tail = mp_const_empty_bytes;
    self->max_w = (uint8_t)a[0].u_int;
    self->eof = self->header_n = 0;
    self->needs_input = 1;
    return MP_OBJ_FROM_PTR(self);
}

/* Feeds in[0..n) to the decoder, writing at most `limit` bytes (0: no limit); the rest waits in unconsumed_tail. */
static mp_obj_t lz_decompressor_feed(lz_decompressor_obj_t *self, const uint8_t *in, size_t n, size_t limit) {
    vstr_t out;
    vstr_init(&out, limit ? (limit < 256u ? limit : 256u) : n * 2u + 16u);
    size_t at = 0;
    if (self->eof) {
        self->unused_data = mp_obj_new_bytes((const byte *)in, n); /* after the end, input is not ours */
        return mp_obj_new_bytes_from_vstr(&out);
    }
    while (!self->dec && at < n) { /* the header first: it says how much storage the frame needs */
        self->header[self->header_n++] = in[at++];
        lz_refuse_dictionary("Decompressor.decompress", self->header, self->header_n, 0);
        if (self->header_n < TF_LZ_HEADER_SIZE)
            continue;
        unsigned w, flags;
        tf_status st = tf_lz_read_header(self->header, self->header_n, &w, NULL, &flags);
        if (st == TF_E_EMPTY && self->header_n == TF_LZ_HEADER_SIZE)
            continue; /* a filtered frame: its filter byte follows (it sizes the decoder) */
        if (st == TF_OK && w > self->max_w)
            st = TF_E_SIZE;
        if (st != TF_OK)
            lz_raise_corrupt("Decompressor.decompress", st, 0);
        self->state_size = tf_lz_decoder_size(w) + tf_lz_filter_size(flags);
        self->storage = thrifty_alloc(self->state_size);
        tf_lz_decoder *d;
        size_t took = 0;
        if (tf_lz_decoder_init(&d, self->storage, self->state_size, w) != TF_OK ||
            tf_lz_decoder_sink(d, self->header, self->header_n, &took) != TF_OK || took != self->header_n)
            mp_raise_msg(&mp_type_MemoryError, MP_ERROR_TEXT("Decompressor: decoder storage"));
        self->dec = d;
    }
    tf_status st = TF_LZ_DONE;
    while (self->dec) {
        if (limit && out.len >= limit)
            break;
        lz_grow(&out);
        size_t room = out.alloc - out.len, used = 0, made = 0;
        if (limit && room > limit - out.len)
            room = limit - out.len;
        st = tf_lz_decoder_decode(self->dec, in + at, n - at, &used, (uint8_t *)out.buf + out.len, room, &made);
        at += used;
        out.len += made;
        if (st < 0)
            lz_raise_corrupt("Decompressor.decompress", st, at);
        if (st == TF_LZ_DONE)
            break;
    }
    if (self->dec && tf_lz_decoder_ended(self->dec)) {
        self->eof = 1;
        const uint8_t *pend = NULL;
        size_t pn = tf_lz_decoder_pending(self->dec, &pend);
        vstr_t rest;
        vstr_init(&rest, pn + n - at);
        vstr_add_strn(&rest, (const char *)pend, pn);
        vstr_add_strn(&rest, (const char *)in + at, n - at);
        self->unused_data = mp_obj_new_bytes_from_vstr(&rest);
        self->unconsumed_tail = mp_const_empty_bytes;
    } else {
        self->unconsumed_tail = mp_obj_new_bytes((const byte *)in + at, n - at);
        self->needs_input = st == TF_LZ_DONE;
    }
    return mp_obj_new_bytes_from_vstr(&out);
}

static mp_obj_t lz_decompressor_decompress(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    THRIFTY_ARGS mp_arg_t allowed[] = {
        {MP_QSTR_data, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL}},
        {MP_QSTR_max_length, MP_ARG_INT, {.u_int = 0}},
    };
    mp_arg_val_t a[MP_ARRAY_SIZE(allowed)];
    mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed), allowed, a);
    if (a[1].u_int < 0)
        mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("max_length must be 0 (no limit) or positive, got %d"),
                          (int)a[1].u_int);
    mp_buffer_info_t in;
    mp_get_buffer_raise(a[0].u_obj, &in, MP_BUFFER_READ);
    return lz_decompressor_feed(MP_OBJ_TO_PTR(pos_args[0]), in.buf, in.len, (size_t)a[1].u_int);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(lz_decompressor_decompress_obj, 2, lz_decompressor_decompress);

/* zlib's flush(): decode whatever unconsumed_tail still holds, without a limit. */
static mp_obj_t lz_decompressor_flush(mp_obj_t self_in) {
    lz_decompressor_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_buffer_info_t in;
    mp_get_buffer_raise(self->unconsumed_tail, &in, MP_BUFFER_READ);
    return lz_decompressor_feed(self, in.buf, in.len, 0);
}
static MP_DEFINE_CONST_FUN_OBJ_1(lz_decompressor_flush_obj, lz_decompressor_flush);

static void lz_decompressor_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    lz_decompressor_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (dest[0] != MP_OBJ_NULL)
        return;
    if (attr == MP_QSTR_eof)
        dest[0] = mp_obj_new_bool(self->eof);
    else if (attr == MP_QSTR_needs_input)
        dest[0] = mp_obj_new_bool(!self->eof && self->needs_input);
    else if (attr == MP_QSTR_unused_data)
        dest[0] = self->unused_data;
    else if (attr == MP_QSTR_unconsumed_tail)
        dest[0] = self->unconsumed_tail;
    else if (attr == MP_QSTR_state_size)
        dest[0] = mp_obj_new_int_from_uint(self->state_size);
    else
        dest[1] = MP_OBJ_SENTINEL;
}

#define LZ_DECOMPRESSOR_METHODS(X)                                                                                     \
    X(MP_QSTR_decompress, lz_decompressor_decompress_obj)                                                              \
    X(MP_QSTR_flush, lz_decompressor_flush_obj)
THRIFTY_DICT(lz_decompressor_locals, LZ_DECOMPRESSOR_METHODS)

THRIFTY_TYPE(thrifty_decompressor_type, MP_QSTR_Decompressor, MP_TYPE_FLAG_NONE, make_new, lz_decompressor_make_new,
             attr, lz_decompressor_attr, locals_dict, &lz_decompressor_locals);

/* ---- the module ------------------------------------------------------------------------------------------- */

#define LZ_MODULE_GLOBALS(X)                                                                                           \
    X(MP_QSTR_compress, lz_compress_obj)                                                                               \
    X(MP_QSTR_decompress, lz_decompress_obj)                                                                           \
    X(MP_QSTR_Compressor, thrifty_compressor_type)                                                                     \
    X(MP_QSTR_Decompressor, thrifty_decompressor_type)

#if THRIFTY_NATMOD
/* The module object is filled at import; its type, mp_type_module, is not in mp_fun_table: the caller passes it. */
mp_map_elem_t lz_module_globals_table[1 LZ_MODULE_GLOBALS(THRIFTY_DICT_ONE)];
static MP_DEFINE_CONST_DICT(lz_module_globals, lz_module_globals_table);
mp_obj_module_t thrifty_lz_module;

void thrifty_natmod_lz(const mp_obj_type_t *module_type) {
    lz_compressor_locals_init();
    lz_decompressor_locals_init();
    thrifty_compressor_type_init();
    thrifty_decompressor_type_init();
    mp_map_elem_t *e = lz_module_globals_table;
    e->key = MP_OBJ_NEW_QSTR(MP_QSTR___name__);
    e->value = MP_OBJ_NEW_QSTR(MP_QSTR_lz);
    e++;
    LZ_MODULE_GLOBALS(THRIFTY_DICT_FILL)
    thrifty_lz_module.base.type = module_type;
    thrifty_lz_module.globals = (mp_obj_dict_t *)&lz_module_globals;
}
#else
static const mp_rom_map_elem_t lz_module_globals_table[] = {{MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_lz)},
                                                            LZ_MODULE_GLOBALS(THRIFTY_DICT_ROM)};
static MP_DEFINE_CONST_DICT(lz_module_globals, lz_module_globals_table);

const mp_obj_module_t thrifty_lz_module = {
    .base = {&mp_type_module},
    .globals = (mp_obj_dict_t *)&lz_module_globals,
};
#endif

#endif /* THRIFTY_MP_LZ */
