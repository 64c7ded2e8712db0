/*
 * vocab_spec.h — a tokenizer spec from a GGUF file, through the runtime's own
 * hy_tokenizer_spec_from_gguf (runtime/tokenizer_gguf.h), kept open so the
 * tokenizer fuzzer can build variants of it (space prefix, pre-tokenizer).
 * Test-only.
 */
#ifndef HYPERION_FUZZ_VOCAB_SPEC_H
#define HYPERION_FUZZ_VOCAB_SPEC_H

#include "model/gguf.h"
#include "runtime/tokenizer_gguf.h"
#include "tokenizer/tokenizer.h"

typedef struct hy_fuzz_vocab {
    hy_gguf *gguf;                       /* owns the mapping the texts point into */
    hy_tokenizer_spec spec;
    hy_tokenizer_spec_scratch scratch;   /* the arrays behind the spec */
    int have_scratch;
} hy_fuzz_vocab;

/* Open path and fill *v. HYPERION_OK, or the reader's error (nothing is then
 * held); a file without a vocabulary is HYPERION_MODEL_INVALID. */
hyperion_status hy_fuzz_vocab_load(const char *path, hy_fuzz_vocab *v);
void hy_fuzz_vocab_free(hy_fuzz_vocab *v);

#endif
