/*
 * tokenizer_input.c — tokenizer invariants on arbitrary bytes (test-only; see
 * tokenizer_input.h).
 *
 * Tokenizers (built once): the SentencePiece-style "llama" vocabulary with and
 * without the space prefix, and the byte-level "gpt2" vocabulary under each
 * of its pre-tokenizer rule sets (gpt2, llama3, qwen2, digits), so every split
 * rule sees the same bytes.
 *
 * Byte 0 of an input: bits 0-2 the tokenizer (mod 6), bit 3 parse_special,
 * bit 4 add_bos, bit 5 add_eos, bit 6 render special tokens, bit 7 id mode.
 *
 * Text mode checks:
 *  - tokenize succeeds (both vocabularies can represent every byte), within
 *    hy_tokenizer_max_tokens, every id in [0, n_vocab); asking with too small
 *    a buffer gives INVALID_ARGUMENT, the same count, and no write past it;
 *  - each id's piece fits hy_tokenizer_max_piece_bytes;
 *  - without special handling (no BOS/EOS, parse_special off) the round trip
 *    is exact: detokenize(tokenize(x)) == x for any bytes (the llama
 *    vocabulary falls back to <0xNN> byte tokens; gpt2 is byte-level), except
 *    that the llama kind gives back a literal "▁" (U+2581, its space marker)
 *    as a space, as SentencePiece does: the expected text has it replaced;
 *  - detokenize reports the size it needs; a short buffer is refused;
 *  - the streaming decoder's pieces, joined, are the detokenized bytes with
 *    ill-formed UTF-8 replaced by U+FFFD exactly as the WHATWG decoder does.
 * Id mode: arbitrary ids through detokenize and the stream: OK exactly when
 * every id is in the vocabulary, otherwise INVALID_ARGUMENT, never a read
 * outside the tables.
 */
#include "tokenizer_input.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "tokenizer/tokenizer.h"
#include "vocab_spec.h"

#define N_TOKENIZERS 6

static hy_fuzz_vocab vocab_spm, vocab_gpt2;
static hy_tokenizer *toks[N_TOKENIZERS];
static int ready;

void hy_fuzz_tokenizers_free(void) {
    for (int i = 0; i < N_TOKENIZERS; i++) {
        hy_tokenizer_free(toks[i]);
        toks[i] = NULL;
    }
    hy_fuzz_vocab_free(&vocab_spm);
    hy_fuzz_vocab_free(&vocab_gpt2);
    ready = 0;
}

static int build(hy_fuzz_vocab *v, int space_prefix, const char *pre, hy_tokenizer **out, char *err, size_t n) {
    hy_tokenizer_spec spec = v->spec;
    if (space_prefix >= 0) spec.add_space_prefix = space_prefix;
    if (pre) spec.pre = pre;
    if (hy_tokenizer_build(&spec, out) != HYPERION_OK) {
        snprintf(err, n, "building a tokenizer failed: %s", hyperionGetLastError()->message);
        return -1;
    }
    return 0;
}

int hy_fuzz_tokenizers_init(char *err, size_t err_size) {
    if (ready) return 0;
    char path[1400];
    snprintf(path, sizeof path, "%s/vocab/ggml-vocab-llama-spm.gguf", hy_fuzz_shared_dir());
    if (hy_fuzz_vocab_load(path, &vocab_spm) != HYPERION_OK) {
        snprintf(err, err_size, "%s: %s", path, hyperionGetLastError()->message);
        return -1;
    }
    snprintf(path, sizeof path, "%s/vocab/ggml-vocab-gpt-2.gguf", hy_fuzz_shared_dir());
    if (hy_fuzz_vocab_load(path, &vocab_gpt2) != HYPERION_OK) {
        snprintf(err, err_size, "%s: %s", path, hyperionGetLastError()->message);
        hy_fuzz_tokenizers_free();
        return -1;
    }
    if (build(&vocab_spm, -1, NULL, &toks[0], err, err_size) || build(&vocab_spm, 0, NULL, &toks[1], err, err_size) ||
        build(&vocab_gpt2, -1, NULL, &toks[2], err, err_size) ||
        build(&vocab_gpt2, -1, "llama-bpe", &toks[3], err, err_size) ||
        build(&vocab_gpt2, -1, "qwen2", &toks[4], err, err_size) ||
        build(&vocab_gpt2, -1, "starcoder", &toks[5], err, err_size)) {
        hy_fuzz_tokenizers_free();
        return -1;
    }
    ready = 1;
    return 0;
}

/* ------------------------------------------------- WHATWG UTF-8 decoding */

static size_t put_cp(uint32_t cp, char *out) {
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) { out[0] = (char)(0xC0 | (cp >> 6)); out[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12)); out[1] = (char)(0x80 | ((cp >> 6) & 0x3F)); out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18)); out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* in[0..n) decoded with replacement (one U+FFFD per maximal ill-formed
 * subsequence), re-encoded into out (at most 3n bytes). Written from the
 * WHATWG Encoding Standard's decoder steps. */
static size_t utf8_replace(const uint8_t *in, size_t n, char *out) {
    size_t o = 0;
    uint32_t cp = 0, needed = 0, seen = 0, lower = 0x80, upper = 0xBF;
    for (size_t i = 0; i < n;) {
        uint8_t b = in[i];
        if (needed == 0) {
            i++;
            if (b < 0x80) out[o++] = (char)b;
            else if (b >= 0xC2 && b <= 0xDF) { needed = 1; cp = b & 0x1F; }
            else if (b >= 0xE0 && b <= 0xEF) { if (b == 0xE0) lower = 0xA0; if (b == 0xED) upper = 0x9F; needed = 2; cp = b & 0xF; }
            else if (b >= 0xF0 && b <= 0xF4) { if (b == 0xF0) lower = 0x90; if (b == 0xF4) upper = 0x8F; needed = 3; cp = b & 7; }
            else o += put_cp(0xFFFD, out + o);
            continue;
        }
        if (b < lower || b > upper) {   /* the byte is not consumed: it starts afresh */
            cp = needed = seen = 0;
            lower = 0x80;
            upper = 0xBF;
            o += put_cp(0xFFFD, out + o);
            continue;
        }
        i++;
        lower = 0x80;
        upper = 0xBF;
        cp = (cp << 6) | (b & 0x3F);
        if (++seen == needed) {
            o += put_cp(cp, out + o);
            cp = needed = seen = 0;
        }
    }
    if (needed) o += put_cp(0xFFFD, out + o);
    return o;
}

/* ------------------------------------------------------------- the checks */

typedef struct scratch {
    int32_t *ids;
    char *text, *expect, *stream;
} scratch;

static void scratch_free(scratch *s) {
    free(s->ids);
    free(s->text);
    free(s->expect);
    free(s->stream);
}

/* The stream's joined output must be the replacement decoding of bytes[0..n). */
static const char *check_stream(const hy_tokenizer *tok, const int32_t *ids, size_t n_ids, unsigned flags,
                                const char *bytes, size_t n, scratch *s) {
    hy_token_stream *st = NULL;
    hyperion_status r = hy_token_stream_create(tok, flags, &st);
    if (r != HYPERION_OK) return HY_FUZZ_ALLOWED(r, HYPERION_MEMORY_LIMIT);
    size_t got = 0, cap = 3 * n + 8;
    s->stream = malloc(cap);
    s->expect = malloc(cap);
    const char *why = NULL;
    if (!s->stream || !s->expect) why = "test malloc failed";
    for (size_t i = 0; i < n_ids && !why; i++) {
        const char *piece;
        size_t len;
        if (hy_token_stream_push(st, ids[i], &piece, &len) != HYPERION_OK) why = "stream refused an id detokenize accepted";
        else if (len > cap - got) why = "the stream emitted more text than the replacement decoding";
        else { memcpy(s->stream + got, piece, len); got += len; }
        if (!why && hy_token_stream_pending(st) > 3) why = "the stream holds back more than 3 bytes";
    }
    if (!why) {
        const char *piece;
        size_t len;
        if (hy_token_stream_flush(st, &piece, &len) != HYPERION_OK) why = "stream flush failed";
        else if (len > cap - got) why = "the stream emitted more text than the replacement decoding";
        else { memcpy(s->stream + got, piece, len); got += len; }
    }
    if (!why) {
        size_t want = utf8_replace((const uint8_t *)bytes, n, s->expect);
        if (want != got || memcmp(s->expect, s->stream, got) != 0)
            why = "the stream's text differs from the WHATWG decoding of the detokenized bytes";
    }
    hy_token_stream_free(st);
    return why;
}

static const char *detok_exact(const hy_tokenizer *tok, const int32_t *ids, size_t n_ids, unsigned flags, scratch *s,
                               size_t *out_len) {
    size_t need = 0;
    hyperion_status r = hy_tokenizer_detokenize(tok, ids, n_ids, flags, NULL, 0, &need);
    if ((r == HYPERION_OK) != (need == 0)) return "detokenize's answer for a 0-byte buffer disagrees with the size it needs";
    s->text = malloc(need ? need : 1);   /* exactly the size asked for: ASan sees any write past it */
    if (!s->text) return "test malloc failed";
    size_t len = 0;
    r = hy_tokenizer_detokenize(tok, ids, n_ids, flags, s->text, need, &len);
    if (r != HYPERION_OK) return "detokenize failed with the size it asked for";
    if (len != need) return "detokenize wrote a different size than it asked for";
    *out_len = len;
    return NULL;
}

/* out[0..m) == text[0..n), reading U+2581 in text as a space for the llama kind. */
static int round_trips(const hy_tokenizer *tok, const char *text, size_t n, const char *out, size_t m) {
    if (hy_tokenizer_get_kind(tok) != HY_TOKENIZER_LLAMA) return m == n && memcmp(out, text, n) == 0;
    size_t j = 0;
    for (size_t i = 0; i < n; i++, j++) {
        char want = text[i];
        if (i + 2 < n && (uint8_t)text[i] == 0xE2 && (uint8_t)text[i + 1] == 0x96 && (uint8_t)text[i + 2] == 0x81) {
            want = ' ';
            i += 2;
        }
        if (j >= m || out[j] != want) return 0;
    }
    return j == m;
}

static const char *text_mode(const hy_tokenizer *tok, uint8_t sel, const char *text, size_t n) {
    hy_tokenize_options o;
    hy_tokenize_options_init(&o);
    o.parse_special = (sel >> 3) & 1;
    o.add_bos = (sel >> 4) & 1;
    o.add_eos = (sel >> 5) & 1;
    unsigned flags = HY_DETOK_STRIP_LEADING_SPACE | ((sel >> 6) & 1 ? HY_DETOK_RENDER_SPECIAL : 0);
    size_t cap = hy_tokenizer_max_tokens(n);
    if (cap == SIZE_MAX || cap < 2) return "max_tokens gave no usable bound";
    scratch s = { 0 };
    const char *why = NULL;
    s.ids = malloc(cap * sizeof *s.ids);
    if (!s.ids) return "test malloc failed";
    size_t n_ids = 0;
    hyperion_status r = hy_tokenizer_tokenize(tok, text, n, &o, s.ids, cap, &n_ids);
    int no_bos = (o.add_bos && hy_tokenizer_bos(tok) < 0) || (o.add_eos && hy_tokenizer_eos(tok) < 0);
    if (r != HYPERION_OK) {
        why = no_bos ? HY_FUZZ_ALLOWED(r, HYPERION_INVALID_ARGUMENT) : HY_FUZZ_ALLOWED(r, HYPERION_MEMORY_LIMIT);
        if (!why && r == HYPERION_INVALID_ARGUMENT && n_ids > cap) why = "tokenize asked for more than max_tokens";
        free(s.ids);
        return why;
    }
    if (n_ids > cap) why = "tokenize produced more ids than max_tokens";
    uint32_t n_vocab = hy_tokenizer_n_vocab(tok);
    size_t max_piece = hy_tokenizer_max_piece_bytes(tok);
    for (size_t i = 0; i < n_ids && !why; i++) {
        if (s.ids[i] < 0 || (uint32_t)s.ids[i] >= n_vocab) { why = "tokenize produced an id outside the vocabulary"; break; }
        char piece[512];
        size_t len = 0;
        if (max_piece > sizeof piece) { why = "max_piece_bytes is implausibly large"; break; }
        r = hy_tokenizer_token_to_piece(tok, s.ids[i], flags & HY_DETOK_RENDER_SPECIAL, piece, max_piece, &len);
        if (r != HYPERION_OK || len > max_piece) why = "a piece does not fit max_piece_bytes";
    }
    /* too small a buffer: refused, same count, nothing written past it (ASan) */
    if (!why && n_ids > 0) {
        size_t small = n_ids / 2, again = 0;
        int32_t *short_ids = malloc((small ? small : 1) * sizeof *short_ids);
        if (!short_ids) why = "test malloc failed";
        else {
            r = hy_tokenizer_tokenize(tok, text, n, &o, small ? short_ids : NULL, small, &again);
            if (r != HYPERION_INVALID_ARGUMENT || again != n_ids) why = "a short ids buffer was not refused with the count";
            else why = HY_FUZZ_ALLOWED(r, HYPERION_INVALID_ARGUMENT);
            free(short_ids);
        }
    }
    size_t len = 0;
    if (!why) why = detok_exact(tok, s.ids, n_ids, flags, &s, &len);
    if (!why && !o.parse_special && !o.add_bos && !o.add_eos && !round_trips(tok, text, n, s.text, len))
        why = "round trip: detokenize(tokenize(text)) != text";
    if (!why && len > 0) {   /* a buffer one byte short is refused */
        size_t len2 = 0;
        char *short_text = malloc(len - 1 ? len - 1 : 1);
        if (!short_text) why = "test malloc failed";
        else {
            r = hy_tokenizer_detokenize(tok, s.ids, n_ids, flags, short_text, len - 1, &len2);
            if (r != HYPERION_INVALID_ARGUMENT || len2 != len) why = "detokenize into a short buffer was not refused";
            free(short_text);
        }
    }
    if (!why) why = check_stream(tok, s.ids, n_ids, flags, s.text, len, &s);
    scratch_free(&s);
    return why;
}

static const char *id_mode(const hy_tokenizer *tok, uint8_t sel, const uint8_t *p, size_t n) {
    size_t n_ids = n / 4;
    uint32_t n_vocab = hy_tokenizer_n_vocab(tok);
    unsigned flags = ((sel >> 3) & 1 ? HY_DETOK_STRIP_LEADING_SPACE : 0) | ((sel >> 6) & 1 ? HY_DETOK_RENDER_SPECIAL : 0);
    scratch s = { 0 };
    s.ids = malloc((n_ids ? n_ids : 1) * sizeof *s.ids);
    if (!s.ids) return "test malloc failed";
    int all_valid = 1;
    for (size_t i = 0; i < n_ids; i++) {
        uint32_t raw;
        memcpy(&raw, p + 4 * i, 4);
        /* mostly valid ids, with the raw value (negative, huge, n_vocab) now and then */
        s.ids[i] = (raw >> 28) == 0xF ? (int32_t)raw : (int32_t)(raw % (n_vocab + 2));
        all_valid &= s.ids[i] >= 0 && (uint32_t)s.ids[i] < n_vocab;
    }
    const char *why = NULL;
    size_t need = 0;
    hyperion_status r = hy_tokenizer_detokenize(tok, s.ids, n_ids, flags, NULL, 0, &need);
    if (!all_valid) {
        why = r == HYPERION_INVALID_ARGUMENT ? HY_FUZZ_ALLOWED(r, HYPERION_INVALID_ARGUMENT)
                                             : "detokenize accepted an id outside the vocabulary";
        if (!why) {   /* the stream refuses the bad id and stays usable */
            hy_token_stream *st = NULL;
            if (hy_token_stream_create(tok, flags, &st) == HYPERION_OK) {
                for (size_t i = 0; i < n_ids && !why; i++) {
                    const char *piece;
                    size_t len;
                    int valid = s.ids[i] >= 0 && (uint32_t)s.ids[i] < n_vocab;
                    r = hy_token_stream_push(st, s.ids[i], &piece, &len);
                    if ((r == HYPERION_OK) != valid) why = "the stream's answer disagrees with the id's validity";
                }
                hy_token_stream_free(st);
            }
        }
        free(s.ids);
        return why;
    }
    size_t len = 0;
    why = detok_exact(tok, s.ids, n_ids, flags, &s, &len);
    if (!why) why = check_stream(tok, s.ids, n_ids, flags, s.text, len, &s);
    scratch_free(&s);
    return why;
}

const char *hy_fuzz_tokenizer_one(const uint8_t *data, size_t size) {
    if (!ready || size == 0) return NULL;
    hy_fuzz_mark mark;
    hy_fuzz_mark_take(&mark);
    uint8_t sel = data[0];
    const hy_tokenizer *tok = toks[(sel & 7) % N_TOKENIZERS];
    const char *why;
    if (sel & 0x80) {
        why = id_mode(tok, sel, data + 1, size - 1);
    } else {
        /* an exact-size copy, so a read one past the text is an ASan report */
        char *text = malloc(size - 1 ? size - 1 : 1);
        if (!text) return "test malloc failed";
        memcpy(text, data + 1, size - 1);
        why = text_mode(tok, sel, text, size - 1);
        free(text);
    }
    if (!why) why = hy_fuzz_mark_check(&mark);
    return why;
}
