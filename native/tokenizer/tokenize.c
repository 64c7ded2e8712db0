/*
 * tokenize.c — text → ids: BOS, then the text cut at special tokens (each
 * raw-text fragment goes to the model's BPE), then EOS.
 */
#include <string.h>

#include "core/internal.h"
#include "tokenizer/merge.h"
#include "tokenizer/tokenizer_internal.h"

#define HY_TOKENIZE_MAX_TEXT ((size_t)1 << 30)

void hy_tokenize_options_init(hy_tokenize_options *options) {
    if (!options) return;
    options->add_bos = -1;
    options->add_eos = -1;
    options->parse_special = 0;
}

size_t hy_tokenizer_max_tokens(size_t text_len) {
    /* A raw fragment of k bytes gives at most k + 1 ids (the space prefix adds a
     * character), a special token at least one byte gives one id, and there are
     * at most text_len + 1 fragments; plus BOS and EOS. */
    if (text_len > (SIZE_MAX - 3) / 2) return SIZE_MAX;
    return 2 * text_len + 3;
}

/* The longest special token that matches text at pos and is allowed, or -1. */
static int32_t special_at(const hy_tokenizer *t, const char *text, size_t len, size_t pos, int parse_special,
                          size_t *match_len) {
    unsigned char b = (unsigned char)text[pos];
    for (uint32_t k = t->special_start[b]; k < t->special_start[b + 1]; k++) {
        int32_t id = t->special_ids[k];
        uint8_t ty = t->types[id];
        if (!parse_special && ty != HY_TOKEN_TYPE_USER_DEFINED) continue;
        size_t n = t->text_len[id];
        if (n <= len - pos && memcmp(text + pos, t->blob + t->text_off[id], n) == 0) {
            *match_len = n;
            return id;
        }
    }
    return -1;
}

static hyperion_status tokenize_raw(const hy_tokenizer *t, const char *text, size_t len, size_t at,
                                    int prev_special, hy_tok_scratch *scratch, hy_tok_out *out) {
    if (len == 0) return HYPERION_OK;
    if (t->kind == HY_TOKENIZER_LLAMA)
        return hy_spm_tokenize(t, text, len, t->add_space_prefix && prev_special, at, scratch, out);
    return hy_bpe_tokenize(t, text, len, at, scratch, out);
}

static size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

hyperion_status hy_tok_scratch_reserve(hy_tok_scratch *s, size_t chars) {
    if (chars <= s->merge_chars && s->merge_block) return HYPERION_OK;
    size_t text_bytes = round16(3 * chars + 8);
    size_t sym_bytes = round16(chars * sizeof(hy_sym));
    size_t heap_bytes = 3 * chars * sizeof(hy_bigram);
    char *block = hyperionAlloc(text_bytes + sym_bytes + heap_bytes + 16, HYPERION_TAG_TOKENIZER);
    if (!block) return hyperionGetLastError()->code;
    hyperionFree(s->merge_block);
    s->merge_block = block;
    s->merge_chars = chars;
    s->text = block;
    s->symbols = block + text_bytes;
    s->heap = block + text_bytes + sym_bytes;
    return HYPERION_OK;
}

/* The pre-tokenizer's per-character arrays, for the whole text (gpt2 kind). */
static hyperion_status scratch_init(const hy_tokenizer *t, size_t len, hy_tok_scratch *s) {
    memset(s, 0, sizeof *s);
    if (t->kind != HY_TOKENIZER_GPT2) return HYPERION_OK;
    size_t n = len + 1;
    /* three uint32 arrays, then n flag bytes rounded up to a whole uint32: a
     * block size that is a multiple of 4 keeps the arrays aligned in guard-page
     * mode too, where a block's start follows from its size (end-aligned) */
    char *block = hyperionAlloc(n * 3 * sizeof(uint32_t) + ((n + 3) & ~(size_t)3), HYPERION_TAG_TOKENIZER);
    if (!block) return hyperionGetLastError()->code;
    s->pre_block = block;
    s->cps = (uint32_t *)block;
    s->offs = s->cps + n;
    s->ends = s->offs + n;
    s->flags = (uint8_t *)(s->ends + n);
    return HYPERION_OK;
}

static void scratch_release(hy_tok_scratch *s) {
    hyperionFree(s->merge_block);
    hyperionFree(s->pre_block);
    memset(s, 0, sizeof *s);
}

hyperion_status hy_tokenizer_tokenize(const hy_tokenizer *tok, const char *text, size_t text_len,
                                      const hy_tokenize_options *options, int32_t *ids, size_t capacity,
                                      size_t *n_ids) {
    if (n_ids) *n_ids = 0;
    if (!tok || !n_ids || (!text && text_len) || (!ids && capacity))
        return HY_RAISE(HYPERION_INVALID_ARGUMENT, NULL,
                        "hy_tokenizer_tokenize: tokenizer, n_ids, text (when text_len > 0) and ids (when "
                        "capacity > 0) must not be NULL");
    if (text_len > HY_TOKENIZE_MAX_TEXT)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "tokenize the text in parts",
                             ((hy_field[]){ HY_TXT("field", "text"), HY_NUM("length", text_len),
                                            HY_NUM("limit", HY_TOKENIZE_MAX_TEXT) }),
                             "text of %zu bytes is longer than the tokenizer's limit of %zu bytes", text_len,
                             HY_TOKENIZE_MAX_TEXT);
    hy_tokenize_options defaults;
    hy_tokenize_options_init(&defaults);
    if (!options) options = &defaults;
    int add_bos = options->add_bos < 0 ? tok->add_bos : options->add_bos != 0;
    int add_eos = options->add_eos < 0 ? tok->add_eos : options->add_eos != 0;
    if (add_bos && tok->bos < 0)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "tokenize without addBos",
                             ((hy_field[]){ HY_TXT("field", "add_bos") }),
                             "add_bos was asked but the vocabulary has no BOS token");
    if (add_eos && tok->eos < 0)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", "add_eos") }),
                             "add_eos was asked but the vocabulary has no EOS token");

    hy_tok_out out = { ids, capacity, 0 };
    if (add_bos) hy_tok_emit(&out, tok->bos);

    hyperion_status st = HYPERION_OK;
    if (text_len > 0) {
        hy_tok_scratch scratch;
        st = scratch_init(tok, text_len, &scratch);
        if (st != HYPERION_OK) return st;
        int prev_special = 1;  // the text's start counts as after a special token (space prefix)
        size_t raw_begin = 0;
        for (size_t pos = 0; pos < text_len && st == HYPERION_OK;) {
            size_t match_len = 0;
            int32_t id = tok->n_special ? special_at(tok, text, text_len, pos, options->parse_special, &match_len)
                                        : -1;
            if (id < 0) {
                pos++;
                continue;
            }
            st = tokenize_raw(tok, text + raw_begin, pos - raw_begin, raw_begin, prev_special, &scratch, &out);
            hy_tok_emit(&out, id);
            prev_special = 1;
            pos += match_len;
            raw_begin = pos;
        }
        if (st == HYPERION_OK)
            st = tokenize_raw(tok, text + raw_begin, text_len - raw_begin, raw_begin, prev_special, &scratch, &out);
        scratch_release(&scratch);
        if (st != HYPERION_OK) return st;
    }
    if (add_eos) hy_tok_emit(&out, tok->eos);

    *n_ids = out.count;
    if (out.count > capacity)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "pass a buffer of n_ids entries (or hy_tokenizer_max_tokens)",
                             ((hy_field[]){ HY_TXT("field", "capacity"), HY_NUM("needed", out.count),
                                            HY_NUM("capacity", capacity) }),
                             "the text needs %zu token ids but the buffer holds %zu", out.count, capacity);
    return HYPERION_OK;
}
