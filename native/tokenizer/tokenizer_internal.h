/*
 * tokenizer_internal.h — the tokenizer's tables and the entry points its
 * files share. Not part of any API.
 */
#ifndef HYPERION_TOKENIZER_INTERNAL_H
#define HYPERION_TOKENIZER_INTERNAL_H

#include "tokenizer/tokenizer.h"
#include "tokenizer/strmap.h"

/* Limits that keep every index in 32 bits and every table allocatable. */
#define HY_TOKENIZER_MAX_VOCAB (1u << 24)
#define HY_TOKENIZER_MAX_MERGES (1u << 24)

struct hy_tokenizer {
    hy_tokenizer_kind kind;
    hy_pretokenizer pre;
    int ignore_merges;        /* gpt2 kind: a pre-token that is a whole token skips BPE (Llama 3) */
    int add_bos, add_eos, add_space_prefix;
    uint32_t n_vocab, n_merges;
    int32_t bos, eos, eot, pad, unk;

    char *blob;               /* every token text, then every merge text */
    uint32_t *text_off;       /* [n_vocab + n_merges] */
    uint32_t *text_len;       /* [n_vocab + n_merges] */
    float *scores;            /* [n_vocab] */
    uint8_t *types;           /* [n_vocab] hy_token_type (0 already mapped to normal) */
    uint8_t *eog;             /* [n_vocab] 1 = ends generation */

    hy_strmap vocab;          /* token text → id; first holder wins, normal tokens over others */
    hy_strmap merges;         /* "left right" → rank (entry n_vocab + rank in text_off/len) */
    int32_t byte_token[256];  /* llama kind: id of "<0xNN>", -1 when absent */
    int byte_fallback;        /* llama kind: all 256 byte tokens exist */

    /* gpt2 byte alphabet: byte b is written as code point byte_cp[b]. */
    uint16_t byte_cp[256];
    int16_t cp_byte[324];     /* inverse for code points < 324 (the alphabet stays below 0x144); -1 = none */

    /* Tokens matched in the input before the model runs (user-defined always,
     * control and unknown with parse_special): ids sorted by first byte, then
     * longest first; special_start[b]..special_start[b+1] is byte b's run. */
    int32_t *special_ids;
    uint32_t special_start[257];
    uint32_t n_special;

    size_t max_piece;         /* longest rendering of one token, bytes */
};

/* Tokens that can be the result of a merge or a direct vocabulary match. */
static inline int hy_tok_is_piece(const hy_tokenizer *t, int32_t id) {
    uint8_t ty = t->types[id];
    return ty == HY_TOKEN_TYPE_NORMAL || ty == HY_TOKEN_TYPE_USER_DEFINED;
}

/* The id of a piece (normal or user-defined token) spelled text[0..len), or -1. */
static inline int32_t hy_tok_find_piece(const hy_tokenizer *t, const char *text, size_t len) {
    int64_t id = hy_strmap_find(&t->vocab, text, len);
    if (id < 0 || !hy_tok_is_piece(t, (int32_t)id)) return -1;
    return (int32_t)id;
}

/* Output collector: counts every id, stores those that fit. */
typedef struct hy_tok_out {
    int32_t *ids;
    size_t capacity;
    size_t count;
} hy_tok_out;

static inline void hy_tok_emit(hy_tok_out *out, int32_t id) {
    if (out->count < out->capacity) out->ids[out->count] = id;
    out->count++;
}

/* Scratch of one tokenize call (tag tokenizer), released when it returns. The
 * merge buffers grow to the longest run the BPE sees (a whole fragment for the
 * llama kind, the longest pre-token for gpt2); the pre-tokenizer arrays are
 * sized for the whole text once. */
typedef struct hy_tok_scratch {
    void *merge_block;        /* text + symbols + heap in one allocation */
    size_t merge_chars;       /* characters they hold */
    char *text;               /* normalized / byte-mapped text: 3 bytes per character + 8 */
    void *symbols;            /* per-character symbols */
    void *heap;               /* bigram priority queue: 3 entries per character */
    void *pre_block;
    uint32_t *cps;            /* pre-tokenizer: code points (or 0xFFFFFFFF for a stray byte) */
    uint32_t *offs;           /* pre-tokenizer: byte offset of each code point (+1 sentinel) */
    uint8_t *flags;           /* pre-tokenizer: HY_UCD_* of each code point */
    uint32_t *ends;           /* pre-tokenizer: end (code point index) of each word */
} hy_tok_scratch;

/* SentencePiece-style BPE of one raw-text fragment (spm.c). prefix_space: put
 * the add-space-prefix space in front. `at` is the fragment's byte offset in the
 * caller's text, for error messages. */
hyperion_status hy_spm_tokenize(const hy_tokenizer *t, const char *text, size_t len, int prefix_space,
                                size_t at, hy_tok_scratch *scratch, hy_tok_out *out);

/* Byte-level BPE of one raw-text fragment: pre-tokenize, map bytes, merge (bpe.c). */
hyperion_status hy_bpe_tokenize(const hy_tokenizer *t, const char *text, size_t len, size_t at,
                                hy_tok_scratch *scratch, hy_tok_out *out);

/* Split text[0..len) into pre-tokens (pretokenize.c): fills scratch->cps,
 * offs, flags for the n code points (offs[n] = len) and scratch->ends with the
 * end index of each word; returns the number of words. */
size_t hy_pretokenize(hy_pretokenizer pre, const char *text, size_t len, hy_tok_scratch *scratch);

/* Render token id (already validated) into out[0..capacity) (detokenize.c);
 * returns the full length, which may exceed capacity. */
size_t hy_detok_render(const hy_tokenizer *t, int32_t id, unsigned flags, char *out, size_t capacity);

/* Make the merge buffers hold `chars` characters (tokenize.c). */
hyperion_status hy_tok_scratch_reserve(hy_tok_scratch *scratch, size_t chars);

#endif
