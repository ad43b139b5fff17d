/* thrifty core — lz: LZ77-family streaming compression in caller-sized memory.
 *
 * WHAT IT IS
 *   An LZSS-style codec whose whole state lives in one caller buffer: the encoder needs
 *   tf_lz_encoder_size(W, L) bytes, the decoder tf_lz_decoder_size(W). W (6..15) sets the window, 2^W bytes of
 *   history a match may reach back into; L (3..min(W-1, 8)) sets the lookahead, 2^L bytes, which is also the longest
 *   match. Data flows heatshrink-style through sink / poll / finish: sink copies input in, poll writes output out,
 *   finish says the input has ended. Every call works with chunks of any size down to one byte, never writes past
 *   the output it was given and reports exactly what it consumed and produced.
 *
 * THE CODE (docs/format-lz.md has the byte-exact frame)
 *   A frame is a 7-byte header (magic "TFLZ", version, W|L<<4, flags), a bit stream (most significant bit first)
 *   and, when the header asks for it, a 4-byte Adler-32 of the content. The bit stream is a series of sequences:
 *       gamma(lit + 1)  [mode]  lit literals  [match]
 *   gamma(v) is a truncated Elias-gamma code: k = floor(log2 v) zero bits, then v in k+1 bits, except that in the
 *   code's largest group (k = kmax) the leading 1 is implied. kmax is W for runs, L-1 for explicit lengths and L for
 *   rep lengths. `mode` (present when lit > 0) is 0 when the literals use the fixed text code (a canonical prefix
 *   code of 1..12 bits per byte, lz_text_code.h) and 1 when they are plain bytes. A full run of 2^W literals (the
 *   most the window holds) has no match after it. Otherwise the match is
 *       0  offset  gamma(len - 1)       an explicit match, len 2..2^L; offset is 0 + (offset-1) in N bits when it
 *                                       is at most 2^N (N = floor(3W/4)), else 1 + (offset-1) in W bits
 *       1  gamma(len)                   the previous offset again ("rep"), len 1..2^L
 *       1  gamma(2^L + 1)               end of frame, then zero bits to the byte boundary
 *
 * WHY THIS CODE (each step measured on the bench corpus: 256 KiB each of Python stdlib sources, libpython and a
 * generated sensor CSV; "W=8" sums are compressed bytes of all three at W=8, L=4)
 *   - heatshrink spends a flag bit on every literal and a fixed L-bit count on every match. Literal runs with a
 *     gamma length cost about the same for the short runs text has and much less for the long runs binaries have,
 *     and they bound expansion: a run of 2^W bytes costs 2W+1 bits of header.
 *   - A run's literals take the fixed text code when that is shorter than 8 bits a byte. It lives in flash (1.3 KiB
 *     of tables), not RAM, so the 300-byte decoder keeps it; built from text that is not the benchmark (see
 *     core/tools/gen_lz_text_code.py), it codes Python source in ~5.3 bits a byte. It took text -5%, CSV -9%,
 *     binary +2% against a per-run "7-bit ASCII" flag, which it replaced.
 *   - Most matches are short, so gamma lengths (len 2 in 1 bit, 3..4 in 3 bits) beat a fixed L-bit field, and they
 *     make a long lookahead nearly free in the code: L only bounds the longest match.
 *   - A repeated offset costs 1 bit instead of W. Columnar data (CSV, tables, structs in binaries) repeats offsets
 *     constantly; "rep" after a literal run is how a changed digit in an otherwise repeating row is coded.
 *   - Near offsets (most of them, even in a large window) cost N+1 bits: -2.8% at W=12, -0.5% at W=8.
 *   - Parsing is by bit gain (the covered bytes' literal cost minus the match's cost), comparing the rep candidate
 *     with the hash candidates, with one step of lazy evaluation (a literal first when the match one byte later
 *     gains more: +1% on text, +6% on CSV at W=8). The match finder hashes 2-byte prefixes (3-byte when W >= 10).
 *     Up to W = 10 (config.h) it is zlib's hash chain: 256 heads and one link per window byte (2 bytes each, 1 KiB
 *     at W=8), walked newest first for as many candidates as the level allows (8 at the default); every position
 *     in the window with the hash is reachable and inserting a position is two stores. Above W = 10 the links
 *     (2 x 2^W bytes) would break the W=12 RAM budget, so those windows use a set-associative table: at most 64
 *     buckets of 12 recent positions (1.5 KiB). Going from 8 to 12 ways gained 0.7% at W=8 and 3% at W=12;
 *     4 buckets x 4 ways (128 B) lost 20%.
 *     Chains against that table, on the corpus (callgrind instructions of tf_lz_compress for all 768 KiB):
 *         W=8:  depth 4: 351300 B; 6: 349564 B; 8: 348691 B, 260 M; 12: 348168 B; 16: 347851 B
 *               (12-way table: 348659 B, 286 M; heatshrink 1.1x needs <= 349529 B)
 *         W=10: depth 8: 306291 B, 233 M, 3720 B of state (table: 308564 B, 278 M, 2696 B)
 *     More heads (512, 1024) gained under 0.05% for 0.5-1.5 KiB; limiting the lazy look to short matches lost
 *     0.5-1% (CSV needs it).
 *   - Result, W=8, L=4: 1.10x heatshrink's ratio (W=8 sum 348690 vs 384482 bytes); W=12, L=5: 0.93x zlib's
 *     (level 6, wbits 12, memLevel 1) in 5824 bytes of encoder state. One-shot compression runs at about 1.5x
 *     heatshrink's speed at the default level (it does far more work per byte: gain-based choice, rep, lazy look,
 *     literal costs), 2.8x at level 1; the decoder is several times faster. bench/results/lz.md has the run.
 *   - Levels (TF_LZ_LEVEL, 1..9) trade that search for speed: how many chain candidates (1, 2, 4, 8, 4, 8, 16,
 *     32, 64) or bucket ways (capped at TF_LZ_HASH_WAYS, so above W = 10 levels 6-9 search alike), and whether to
 *     look one byte ahead (from level 5). Level 6, the default, is the search measured above. The decoder never
 *     knows the level.
 *   - One-shot compression (tf_lz_compress) takes the same steps as the streaming encoder on the input in place,
 *     writing straight to the output, and hands the last 2^L + 8 bytes to the ring (where the 8-byte compares
 *     stay in bounds): 1.4x faster than feeding the ring through sink and poll, and byte-identical to it. The
 *     streaming encoder steps only with more than 2^L bytes of lookahead (or at the end of input), so that its
 *     decisions, and so its output, do not depend on how the input was cut into chunks.
 *   - Speed without changing the parse (every choice below leaves the output byte-identical): the search stops at
 *     the first candidate older than the window, the lazy look one byte
 *     ahead is kept and reused when it wins, the ring's first 2^L + 8 bytes are mirrored after it so that hashing and
 *     match comparison never wrap, and candidates are screened on their first two bytes and compared 8 bytes at a
 *     time. The decoder decodes whole sequences in one go while 8+ input bytes remain (64-bit bit buffer, output
 *     written once, matches copied from the output, the window synced on the way out); the byte-wise state machine
 *     takes over at the end of the input and whenever the input arrives through sink.
 *
 * MEMORY (64-bit host; the structs are a few bytes smaller on 32-bit)
 *   decoder: sizeof(state) + 2^W                 W=8: 296 B (heatshrink's at W=8 with a 32-byte input buffer: 306 B)
 *   encoder: sizeof(state) + 2^W + 3 * 2^L + 8 + finder, where finder is
 *              2 * (2^TF_LZ_CHAIN_HEAD_BITS + 2^W)                      for W <= TF_LZ_CHAIN_MAX_WINDOW_BITS (10)
 *              2 * TF_LZ_HASH_WAYS * 2^min(W - TF_LZ_HASH_SHIFT, 6)     above
 *                                                W=8, L=4: 1424 B; W=10, L=4: 3728 B; W=12, L=5: 5824 B
 *
 * OUTPUT BOUND
 *   A streamed frame is at most n + 4 * floor(n / 2^W) + TF_LZ_FRAME_OVERHEAD bytes for n input bytes: the encoder
 *   takes a match only when it pays for the run header it closes, so no sequence costs more than 8 bits per byte,
 *   and a full run of 2^W literals costs 2W+1 <= 31 bits of header and mode. tf_lz_compress() also falls back to a
 *   stored frame, so its output is at most n + TF_LZ_STORED_OVERHEAD (tf_lz_compress_bound(n)).
 *
 * THREADS AND INTERRUPTS
 *   Every function touches only the state and buffers passed to it: two threads may work on two different
 *   states at once; one state must not be used from two threads or from an interrupt and its main loop at once.
 */
#ifndef THRIFTY_LZ_H
#define THRIFTY_LZ_H

#include "thrifty/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TF_LZ_MIN_WINDOW_BITS 6u
#define TF_LZ_MAX_WINDOW_BITS 15u
#define TF_LZ_MIN_LOOKAHEAD_BITS 3u
#define TF_LZ_MAX_LOOKAHEAD_BITS 8u /* and at most W - 1 */

#define TF_LZ_HEADER_SIZE 7u
#define TF_LZ_VERSION 2u
#define TF_LZ_FLAG_CHECKSUM 0x01u /* the frame ends with an Adler-32 of its content */
#define TF_LZ_FLAG_STORED 0x02u   /* the body is a 4-byte length and raw bytes (written by tf_lz_compress only) */
/* Encoder effort, passed in the flags of tf_lz_encoder_init and tf_lz_compress: TF_LZ_LEVEL(n) for n in 1..9
 * (1 fastest, 9 searching hardest), 0 or nothing for TF_LZ_DEFAULT_LEVEL. The level is not written to the frame:
 * every level writes the same format for the same decoder. */
#define TF_LZ_LEVEL(n) ((unsigned)(n) << 8)
#define TF_LZ_DEFAULT_LEVEL 6u
/* Header (7) + last run header, end marker and padding (<= 7) + checksum (4) of a streamed frame, in bytes. */
#define TF_LZ_FRAME_OVERHEAD 18u
/* Header + length + checksum of a stored frame. */
#define TF_LZ_STORED_OVERHEAD (TF_LZ_HEADER_SIZE + 4u + 4u)
/* Storage must be aligned to this many bytes (any malloc result, or a uint64_t array, is). */
#define TF_LZ_ALIGN 8u

/* Progress results of poll and finish (errors are the negative tf_status codes). */
enum {
    TF_LZ_DONE = 0, /* poll: all input so far is processed (after finish: the frame is complete); finish: complete */
    TF_LZ_MORE = 1  /* output is pending: call poll again with more room */
};

typedef struct tf_lz_encoder tf_lz_encoder;
typedef struct tf_lz_decoder tf_lz_decoder;

/* Bytes of storage an encoder for window 2^W and lookahead 2^L needs (state included), or 0 when W or L is outside
 * the ranges above. O(1), pure, safe anywhere. */
size_t tf_lz_encoder_size(unsigned window_bits, unsigned lookahead_bits);

/* Bytes of storage a decoder for frames with windows up to 2^W needs (state included), or 0 when W is out of range.
 * O(1), pure, safe anywhere. */
size_t tf_lz_decoder_size(unsigned window_bits);

/* Starts an encoder in `storage` (size bytes, TF_LZ_ALIGN-aligned, owned by the caller for the encoder's lifetime;
 * the encoder keeps no pointer outside it). flags: TF_LZ_FLAG_CHECKSUM and/or TF_LZ_LEVEL(n). On success *enc
 * points into storage. TF_E_NULL, TF_E_ARG (W, L, level or flags out of range), TF_E_SIZE (size < tf_lz_encoder_size),
 * TF_E_ALIGN. O(2^W) to clear the match finder. */
tf_status tf_lz_encoder_init(tf_lz_encoder **enc, void *storage, size_t size, unsigned window_bits,
                             unsigned lookahead_bits, unsigned flags);

/* Copies up to n bytes of input into the encoder; *consumed says how many (0 when its lookahead is full: poll
 * first). TF_OK, TF_E_NULL, TF_E_STATE after finish. O(consumed). */
tf_status tf_lz_encoder_sink(tf_lz_encoder *enc, const uint8_t *in, size_t n, size_t *consumed);

/* Writes up to out_size bytes of compressed output; *out_n says how many. TF_LZ_MORE when output is pending (call
 * again with room), TF_LZ_DONE when it needs input (or, after finish, when the frame is complete), TF_E_NULL.
 * O(out_size + input processed * candidates * 2^L) worst case (candidates: the level's, at most 64). */
tf_status tf_lz_encoder_poll(tf_lz_encoder *enc, uint8_t *out, size_t out_size, size_t *out_n);

/* Marks the end of input. TF_LZ_DONE once every byte of the frame has been polled out, TF_LZ_MORE while some is
 * still to come (keep polling), TF_E_NULL. Idempotent. O(1). */
tf_status tf_lz_encoder_finish(tf_lz_encoder *enc);

/* Starts a decoder in `storage` (size bytes, TF_LZ_ALIGN-aligned, owned by the caller) for one frame whose window
 * is at most 2^max_window_bits. TF_E_NULL, TF_E_ARG, TF_E_SIZE, TF_E_ALIGN. O(1). */
tf_status tf_lz_decoder_init(tf_lz_decoder **dec, void *storage, size_t size, unsigned max_window_bits);

/* Copies up to n bytes of compressed input into the decoder's small input buffer (TF_LZ_DECODER_INPUT bytes,
 * config.h); *consumed says how many (0 when it is full: poll first, or when the frame has ended). TF_OK, TF_E_NULL.
 * O(consumed). */
tf_status tf_lz_decoder_sink(tf_lz_decoder *dec, const uint8_t *in, size_t n, size_t *consumed);

/* Writes up to out_size decoded bytes; *out_n says how many. TF_LZ_MORE when more output is ready (call again with
 * room), TF_LZ_DONE when it needs input or the frame is complete (tf_lz_decoder_ended tells which). TF_E_CORRUPT
 * for a malformed frame (bad magic, an offset before the start, nonzero padding, a checksum mismatch, ...),
 * TF_E_VERSION for another format version, TF_E_SIZE for a frame whose window exceeds max_window_bits; the decoder
 * then stays failed. Output written before an error is valid data and counted in *out_n. O(out_size + input). */
tf_status tf_lz_decoder_poll(tf_lz_decoder *dec, uint8_t *out, size_t out_size, size_t *out_n);

/* sink + poll in one call, reading straight from `in` (no copy through the input buffer): decodes from in[0..n)
 * into out[0..out_size) and reports *consumed and *out_n. Bytes an earlier sink left are decoded first. Same
 * results as poll; after TF_LZ_DONE either all of `in` was consumed or the frame ended (and in[*consumed..n) follows
 * it). O(out_size + n). */
tf_status tf_lz_decoder_decode(tf_lz_decoder *dec, const uint8_t *in, size_t n, size_t *consumed, uint8_t *out,
                               size_t out_size, size_t *out_n);

/* Says no more input will come. TF_LZ_DONE when the frame is complete and fully polled, TF_LZ_MORE when output is
 * still pending, TF_E_CORRUPT when the frame is truncated, or the error the decoder failed with. O(1). */
tf_status tf_lz_decoder_finish(tf_lz_decoder *dec);

/* 1 once the end of the frame (and its checksum) has been decoded, else 0. O(1). */
int tf_lz_decoder_ended(const tf_lz_decoder *dec);

/* Bytes sunk into the decoder that it has not used yet; when `bytes` is not NULL it is set to where they are (inside
 * the decoder, valid until its next call). After the frame ends these are the first bytes that follow it (the start
 * of the next frame, or trailing data) and belong to the caller again. O(1). */
size_t tf_lz_decoder_pending(const tf_lz_decoder *dec, const uint8_t **bytes);

/* Reads a frame header without decoding: window and lookahead bits and flags. TF_OK, TF_E_EMPTY when fewer than
 * TF_LZ_HEADER_SIZE bytes were given, TF_E_CORRUPT (not a thrifty.lz frame, or an impossible W/L),
 * TF_E_VERSION (another format version or unknown flags). Lets a caller size the decoder before making one. O(1). */
tf_status tf_lz_read_header(const uint8_t *in, size_t n, unsigned *window_bits, unsigned *lookahead_bits,
                            unsigned *flags);

/* Largest output tf_lz_compress can produce for n input bytes (n + TF_LZ_STORED_OVERHEAD per 2^32-1 bytes), or 0
 * on overflow. O(1). */
size_t tf_lz_compress_bound(size_t n);

/* One-shot compression of in[0..n) into out[0..out_size) as one or more frames, using `work` (work_size >=
 * tf_lz_encoder_size(W, L), aligned) as the encoder's storage; flags as for tf_lz_encoder_init (checksum, level).
 * Writes exactly the frame that streaming the same input through an encoder would. Falls back to a stored frame for
 * any piece that would not shrink. Returns TF_OK with *out_n set, TF_E_FULL when out_size is too small (out_size >=
 * tf_lz_compress_bound(n) never is), or the init errors. O(n * candidates * 2^L) worst case (see poll). */
tf_status tf_lz_compress(const uint8_t *in, size_t n, uint8_t *out, size_t out_size, size_t *out_n, void *work,
                         size_t work_size, unsigned window_bits, unsigned lookahead_bits, unsigned flags);

#ifdef __cplusplus
}
#endif
#endif /* THRIFTY_LZ_H */
