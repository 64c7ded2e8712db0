/*
 * test_tokenizer_util.h — small hand-made vocabularies for the tokenizer tests
 * and helpers to tokenize into a fixed array and compare.
 */
#ifndef HYPERION_TEST_TOKENIZER_UTIL_H
#define HYPERION_TEST_TOKENIZER_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tokenizer/tokenizer.h"

#define SP "\xe2\x96\x81"  /* U+2581, SentencePiece's space */

typedef struct test_piece {
    const char *text;
    float score;
    int type;                 /* 0 = normal */
} test_piece;

#define TV_MAX 600

/* Owns the texts and arrays of a spec built from pieces. */
typedef struct test_vocab {
    hy_tokenizer_spec spec;
    hy_tokenizer_text tokens[TV_MAX];
    float scores[TV_MAX];
    int32_t types[TV_MAX];
    char names[TV_MAX][16];   /* generated texts (<0xNN>, byte alphabet) */
    hy_tokenizer_text merges[64];
} test_vocab;

static inline void tv_add(test_vocab *v, const char *text, size_t len, float score, int type) {
    uint32_t i = v->spec.n_vocab++;
    v->tokens[i].ptr = text;
    v->tokens[i].len = len;
    v->scores[i] = score;
    v->types[i] = type ? type : HY_TOKEN_TYPE_NORMAL;
}

/* A llama-kind vocabulary: <unk> <s> </s>, then (with_bytes) <0x00>..<0xFF>,
 * then the pieces. */
static inline void tv_llama(test_vocab *v, const test_piece *pieces, size_t n, int with_bytes, int with_unk) {
    memset(v, 0, sizeof *v);
    hy_tokenizer_spec_init(&v->spec);
    v->spec.model = "llama";
    v->spec.pre = "default";
    v->spec.tokens = v->tokens;
    v->spec.scores = v->scores;
    v->spec.token_types = v->types;
    tv_add(v, "<unk>", 5, 0, HY_TOKEN_TYPE_UNKNOWN);
    tv_add(v, "<s>", 3, 0, HY_TOKEN_TYPE_CONTROL);
    tv_add(v, "</s>", 4, 0, HY_TOKEN_TYPE_CONTROL);
    if (with_unk) v->spec.unk_id = 0;
    v->spec.bos_id = 1;
    v->spec.eos_id = 2;
    if (with_bytes)
        for (int b = 0; b < 256; b++) {
            uint32_t i = v->spec.n_vocab;
            snprintf(v->names[i], sizeof v->names[i], "<0x%02X>", b);
            tv_add(v, v->names[i], 6, 0, HY_TOKEN_TYPE_BYTE);
        }
    for (size_t k = 0; k < n; k++) tv_add(v, pieces[k].text, strlen(pieces[k].text), pieces[k].score, pieces[k].type);
}

/* GPT-2's byte alphabet, written independently of the tokenizer's own table. */
static inline uint32_t tv_byte_cp(int b) {
    if ((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)) return (uint32_t)b;
    uint32_t n = 0;
    for (int k = 0; k < b; k++)
        if (!((k >= 0x21 && k <= 0x7E) || (k >= 0xA1 && k <= 0xAC) || (k >= 0xAE && k <= 0xFF))) n++;
    return 256 + n;
}

/* A gpt2-kind vocabulary: ids 0..255 are the bytes (in the alphabet), then the
 * merge results in merge order, then extra tokens. merges: "left right". */
static inline void tv_gpt2(test_vocab *v, const char *pre, const char *const *merges, const char *const *results,
                           size_t n_merges, const test_piece *extra, size_t n_extra) {
    memset(v, 0, sizeof *v);
    hy_tokenizer_spec_init(&v->spec);
    v->spec.model = "gpt2";
    v->spec.pre = pre;
    v->spec.tokens = v->tokens;
    v->spec.scores = NULL;
    v->spec.token_types = v->types;
    for (int b = 0; b < 256; b++) {
        uint32_t cp = tv_byte_cp(b);
        char *s = v->names[b];
        size_t len;
        if (cp < 0x80) { s[0] = (char)cp; len = 1; }
        else { s[0] = (char)(0xC0 | (cp >> 6)); s[1] = (char)(0x80 | (cp & 0x3F)); len = 2; }
        tv_add(v, s, len, 0, 0);
    }
    for (size_t k = 0; k < n_merges; k++) {
        v->merges[k].ptr = merges[k];
        v->merges[k].len = strlen(merges[k]);
        tv_add(v, results[k], strlen(results[k]), 0, 0);
    }
    v->spec.merges = v->merges;
    v->spec.n_merges = (uint32_t)n_merges;
    for (size_t k = 0; k < n_extra; k++) tv_add(v, extra[k].text, strlen(extra[k].text), 0, extra[k].type);
}

/* Tokenize into ids[64]; returns the count, or -1 on error. */
static inline int tv_tokenize(const hy_tokenizer *tok, const char *text, size_t len, int add_bos, int parse_special,
                              int32_t *ids) {
    hy_tokenize_options o;
    hy_tokenize_options_init(&o);
    o.add_bos = add_bos;
    o.add_eos = 0;
    o.parse_special = parse_special;
    size_t n = 0;
    if (hy_tokenizer_tokenize(tok, text, len, &o, ids, 64, &n) != HYPERION_OK) return -1;
    return (int)n;
}

static inline int32_t tv_id(const hy_tokenizer *tok, const char *text) {
    return hy_tokenizer_find(tok, text, strlen(text));
}

/* Compare ids[0..n) with the expected list; report both on a mismatch. */
static inline void tv_expect(const char *file, int line, const char *what, const int32_t *ids, int n,
                             const int32_t *want, int n_want) {
    if (n == n_want && (n == 0 || memcmp(ids, want, (size_t)n * sizeof *ids) == 0)) return;
    char got[512] = "", exp[512] = "";
    for (int i = 0; i < n && i < 40; i++) snprintf(got + strlen(got), sizeof got - strlen(got), " %d", ids[i]);
    for (int i = 0; i < n_want && i < 40; i++) snprintf(exp + strlen(exp), sizeof exp - strlen(exp), " %d", want[i]);
    hy_test_fail(file, line, "%s: got [%s ] (n=%d), expected [%s ]", what, got, n, exp);
}

#define TV_EXPECT(tok, text, add_bos, parse, ...)                                                      \
    do {                                                                                               \
        int32_t ids_[64];                                                                              \
        const int32_t want_[] = { __VA_ARGS__ };                                                       \
        int n_ = tv_tokenize((tok), (text), strlen(text), (add_bos), (parse), ids_);                   \
        tv_expect(__FILE__, __LINE__, (text), ids_, n_, want_, (int)(sizeof want_ / sizeof want_[0])); \
    } while (0)

/* detokenize(tokenize(text)) == text */
static inline int tv_roundtrip(const hy_tokenizer *tok, const char *text, size_t len, unsigned flags) {
    int32_t ids[64];
    int n = tv_tokenize(tok, text, len, 0, 0, ids);
    if (n < 0) return 0;
    char out[512];
    size_t out_len = 0;
    if (hy_tokenizer_detokenize(tok, ids, (size_t)n, flags, out, sizeof out, &out_len) != HYPERION_OK) return 0;
    return out_len == len && memcmp(out, text, len) == 0;
}

#endif
