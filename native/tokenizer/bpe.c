/*
 * bpe.c — the "gpt2" tokenizer: byte-level BPE with ranked merges.
 *
 * Each pre-token's bytes are written in the GPT-2 byte alphabet (every byte is
 * one printable code point, so the vocabulary's texts are plain strings), cut
 * into those characters, and adjacent symbols merge by the merge list, lowest
 * rank first (leftmost on ties). Llama 3 vocabularies ("ignore_merges") take a
 * pre-token that is a whole token as is.
 */
#include <string.h>

#include "core/internal.h"
#include "tokenizer/merge.h"
#include "tokenizer/tokenizer_internal.h"
#include "tokenizer/unicode.h"

static int bpe_pair_score(const void *ctx, const char *text, const hy_sym *l, const hy_sym *r, double *key) {
    const hy_tokenizer *t = ctx;
    hy_span parts[3] = { { text + l->start, l->len }, { " ", 1 }, { text + r->start, r->len } };
    int64_t entry = hy_strmap_find_parts(&t->merges, parts, 3);
    if (entry < 0) return 0;
    *key = -(double)(entry - (int64_t)t->n_vocab);  // lower rank first
    return 1;
}

/* Write bytes in the byte alphabet into out (2 bytes per input byte at most);
 * each input byte becomes exactly one symbol. */
static uint32_t map_bytes(const hy_tokenizer *t, const char *word, size_t len, char *out, hy_sym *syms) {
    uint32_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char enc[4];
        size_t k = hy_utf8_encode(t->byte_cp[(unsigned char)word[i]], enc);
        syms[i].start = n;
        syms[i].len = (uint32_t)k;
        syms[i].prev = (int32_t)i - 1;
        syms[i].next = i + 1 < len ? (int32_t)i + 1 : -1;
        memcpy(out + n, enc, k);
        n += (uint32_t)k;
    }
    return n;
}

static hyperion_status bpe_word(const hy_tokenizer *t, const char *word, size_t len, size_t at,
                                hy_tok_scratch *scratch, hy_tok_out *out) {
    char *mapped = scratch->text;
    hy_sym *syms = scratch->symbols;
    uint32_t n_mapped = map_bytes(t, word, len, mapped, syms);

    if (t->ignore_merges) {
        int32_t whole = hy_tok_find_piece(t, mapped, n_mapped);
        if (whole >= 0) {
            hy_tok_emit(out, whole);
            return HYPERION_OK;
        }
    }
    hy_merge_run(mapped, syms, (uint32_t)len, scratch->heap, bpe_pair_score, t);

    for (int32_t s = 0; s >= 0; s = syms[s].next) {
        const hy_sym *sym = &syms[s];
        int32_t id = hy_tok_find_piece(t, mapped + sym->start, sym->len);
        if (id >= 0) {
            hy_tok_emit(out, id);
            continue;
        }
        /* A merge result missing from the vocabulary: spell it byte by byte. */
        for (uint32_t k = sym->start; k < sym->start + sym->len;) {
            uint32_t cp;
            size_t step = hy_utf8_decode((const unsigned char *)mapped + k, sym->start + sym->len - k, &cp);
            if (step == 0) step = 1;  // cannot happen: the mapped text is well-formed
            int32_t bid = hy_tok_find_piece(t, mapped + k, step);
            if (bid < 0) bid = t->unk;
            if (bid < 0) {
                size_t byte_at = at + (size_t)s;  // symbol s started as the word's byte s
                return HY_RAISE_WITH(HYPERION_MODEL_UNSUPPORTED,
                                     "the vocabulary lacks part of the byte alphabet and has no unknown token",
                                     ((hy_field[]){ HY_NUM("offset", byte_at) }),
                                     "cannot tokenize the text at offset %zu: the vocabulary has no token for "
                                     "one of its bytes", byte_at);
            }
            hy_tok_emit(out, bid);
            k += (uint32_t)step;
        }
    }
    return HYPERION_OK;
}

hyperion_status hy_bpe_tokenize(const hy_tokenizer *t, const char *text, size_t len, size_t at,
                                hy_tok_scratch *scratch, hy_tok_out *out) {
    size_t n_words = hy_pretokenize(t->pre, text, len, scratch);
    size_t begin = 0, longest = 0;
    for (size_t w = 0; w < n_words; w++) {
        size_t bytes = scratch->offs[scratch->ends[w]] - scratch->offs[begin];
        if (bytes > longest) longest = bytes;
        begin = scratch->ends[w];
    }
    hyperion_status st = hy_tok_scratch_reserve(scratch, longest);
    if (st != HYPERION_OK) return st;
    begin = 0;
    for (size_t w = 0; w < n_words; w++) {
        size_t b0 = scratch->offs[begin], b1 = scratch->offs[scratch->ends[w]];
        st = bpe_word(t, text + b0, b1 - b0, at + b0, scratch, out);
        if (st != HYPERION_OK) return st;
        begin = scratch->ends[w];
    }
    return HYPERION_OK;
}
