/* thrifty core — lz: the numeric filter in front of the encoder's ring (lz.h, NUMERIC FILTERS): input fills the
 * filter's block, which is coded in place (lz_internal.h) and handed on to the ring as its bytes are taken. */
#include "lz_encoder.h"

#if TF_LZ_FILTERS
/* The filter's state: after the encoder's own storage, as tf_lz_encoder_init put it. */
tf__lz_filter *tf__lz_enc_filter(tf_lz_encoder *e) {
    uintptr_t after = (uintptr_t)e + tf_lz_encoder_size(e->w, e->l);
    return (tf__lz_filter *)(after + ((8u - (after & 7u)) & 7u));
}

/* Hands the filter's ready block on to the ring as far as the ring has room; the block is done when all went. */
static void tf__filter_drain(tf_lz_encoder *e) {
    tf__lz_filter *f = tf__lz_enc_filter(e);
    while (f->ready) {
        uint8_t chunk[32];
        unsigned k = 0;
        for (; k < sizeof chunk && f->drain + k < f->ready; k++)
            chunk[k] = tf__lz_filter_byte(f, f->drain + k);
        size_t took = tf__lz_sink_ring(e, chunk, k);
        f->drain = (uint16_t)(f->drain + took);
        if (took < k)
            return; /* the ring is full: poll makes room */
        if (f->drain == f->ready)
            f->ready = f->fill = 0;
    }
}

/* sink through the filter: input fills its block, a full block goes on to the ring as far as the ring has room. */
tf_status tf__lz_filter_sink(tf_lz_encoder *e, const uint8_t *in, size_t n, size_t *consumed) {
    tf__lz_filter *f = tf__lz_enc_filter(e);
    if (f->ended)
        return TF_E_STATE;
    size_t used = 0, block = TF_LZ_FILTER_BLOCK * f->size;
    for (;;) {
        tf__filter_drain(e);
        if (f->ready || used == n)
            break;
        size_t take = block - f->fill < n - used ? block - f->fill : n - used;
        TF_MEMCPY(f->blk + f->fill, in + used, take);
        f->fill = (uint16_t)(f->fill + take);
        used += take;
        if (f->fill == block)
            tf__lz_filter_code(f);
    }
    *consumed = used;
    return TF_OK;
}

/* With a filter the frame may end only once its last block has gone into the ring: until then poll keeps
 * draining it (the ring always has room for some of it after a step), and `finishing` waits. */
void tf__lz_filter_finish(tf_lz_encoder *e) {
    tf__lz_filter *f = tf__lz_enc_filter(e);
    if (!f->ended) {
        f->ended = 1;
        if (f->fill && !f->ready)
            tf__lz_filter_code(f); /* the last, partial block (a ready one is a whole block still going on) */
    }
    tf__filter_drain(e);
    if (!f->ready)
        e->finishing = 1;
}
#endif
