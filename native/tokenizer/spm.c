/*
 * spm.c — the "llama" tokenizer: SentencePiece-style BPE over scored pieces.
 *
 * The fragment is normalized (optional leading space, every space → U+2581
 * "▁"), cut into UTF-8 characters, and adjacent symbols are merged while their
 * concatenation is a piece of the vocabulary, highest score first (leftmost on
 * ties). A final symbol that is not a piece (only single characters can be)
 * falls back to its bytes as <0xNN> tokens, or to UNK without byte tokens.
 */
#include <string.h>

#include "core/internal.h"
#include "tokenizer/merge.h"
#include "tokenizer/tokenizer_internal.h"
#include "tokenizer/unicode.h"

static const char SPACE_MARK[3] = { (char)0xE2, (char)0x96, (char)0x81 };  // U+2581

static int spm_pair_score(const void *ctx, const char *text, const hy_sym *l, const hy_sym *r, double *key) {
    const hy_tokenizer *t = ctx;
    int32_t id = hy_tok_find_piece(t, text + l->start, (size_t)l->len + r->len);
    if (id < 0) return 0;
    *key = t->scores[id];
    return 1;
}

/* Normalize into out (room for 3 * len + 3 bytes); returns the length. */
static size_t spm_normalize(const char *text, size_t len, int prefix_space, char *out) {
    size_t n = 0;
    if (prefix_space) {
        memcpy(out, SPACE_MARK, 3);
        n = 3;
    }
    for (size_t i = 0; i < len; i++) {
        if (text[i] == ' ') {
            memcpy(out + n, SPACE_MARK, 3);
            n += 3;
        } else {
            out[n++] = text[i];
        }
    }
    return n;
}

/* The offset in the fragment of normalized byte `pos`: walk the fragment and
 * its normalized form together (a space became 3 bytes, the prefix 3 more). */
static size_t raw_offset(const char *text, size_t len, size_t pos, int prefix_space) {
    size_t norm = prefix_space ? 3 : 0, raw = 0;
    while (raw < len && norm < pos) norm += text[raw++] == ' ' ? 3 : 1;
    return raw;
}

hyperion_status hy_spm_tokenize(const hy_tokenizer *t, const char *text, size_t len, int prefix_space, size_t at,
                                hy_tok_scratch *scratch, hy_tok_out *out) {
    hyperion_status st = hy_tok_scratch_reserve(scratch, len + 1);  // + the prefix space
    if (st != HYPERION_OK) return st;
    char *norm = scratch->text;
    size_t n_norm = spm_normalize(text, len, prefix_space, norm);
    if (n_norm == 0) return HYPERION_OK;

    /* One symbol per character; a byte that starts no well-formed character is
     * a symbol of its own (it can only come out as a byte token). */
    hy_sym *syms = scratch->symbols;
    uint32_t n = 0;
    for (size_t i = 0; i < n_norm;) {
        uint32_t cp;
        size_t step = hy_utf8_decode((const unsigned char *)norm + i, n_norm - i, &cp);
        if (step == 0) step = 1;
        syms[n].start = (uint32_t)i;
        syms[n].len = (uint32_t)step;
        syms[n].prev = (int32_t)n - 1;
        syms[n].next = i + step < n_norm ? (int32_t)n + 1 : -1;
        n++;
        i += step;
    }
    hy_merge_run(norm, syms, n, scratch->heap, spm_pair_score, t);

    for (int32_t s = 0; s >= 0; s = syms[s].next) {
        const hy_sym *sym = &syms[s];
        int32_t id = hy_tok_find_piece(t, norm + sym->start, sym->len);
        if (id >= 0) {
            hy_tok_emit(out, id);
        } else if (t->byte_fallback) {
            for (uint32_t k = 0; k < sym->len; k++)
                hy_tok_emit(out, t->byte_token[(unsigned char)norm[sym->start + k]]);
        } else if (t->unk >= 0) {
            hy_tok_emit(out, t->unk);  // one UNK for the whole character, as SentencePiece does
        } else {
            size_t raw = raw_offset(text, len, sym->start, prefix_space);
            return HY_RAISE_WITH(HYPERION_MODEL_UNSUPPORTED,
                                 "the vocabulary has neither <0xNN> byte tokens nor an unknown token",
                                 ((hy_field[]){ HY_NUM("offset", at + raw) }),
                                 "cannot tokenize the character at offset %zu: the vocabulary has no piece, "
                                 "byte token or unknown token for it", at + raw);
        }
    }
    return HYPERION_OK;
}
