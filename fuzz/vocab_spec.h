/*
 * vocab_spec.h — a tokenizer spec from a GGUF file's tokenizer.ggml.* keys,
 * read with the real GGUF reader (test-only, for the tokenizer fuzzer and its
 * regression test).
 *
 * The runtime's own GGUF → tokenizer-spec function is being written on the
 * generation branch (native/runtime/tokenizer_gguf.c); once it is on main the
 * fuzzer should build through it instead, so that code is fuzzed too.
 */
#ifndef HYPERION_FUZZ_VOCAB_SPEC_H
#define HYPERION_FUZZ_VOCAB_SPEC_H

#include "model/gguf.h"
#include "tokenizer/tokenizer.h"

typedef struct hy_fuzz_vocab {
    hy_gguf *gguf;                /* owns the mapping the texts point into */
    hy_tokenizer_spec spec;
    hy_tokenizer_text *tokens;    /* malloc'd arrays behind the spec */
    hy_tokenizer_text *merges;
    float *scores;
    int32_t *types;
    char model[32];
    char pre[64];
} hy_fuzz_vocab;

/* Open path and fill *v. HYPERION_OK, or the reader's error (the vocabulary
 * is then released). */
hyperion_status hy_fuzz_vocab_load(const char *path, hy_fuzz_vocab *v);
void hy_fuzz_vocab_free(hy_fuzz_vocab *v);

#endif
