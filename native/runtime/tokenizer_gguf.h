/*
 * tokenizer_gguf.h — a model's vocabulary as the runtime serves it
 * (internal): the tokenizer built from a GGUF file's tokenizer.ggml.* keys,
 * plus the chat template (tokenizer.chat_template).
 *
 * A hy_vocab is immutable after it is built and reference counted, so a model
 * and any number of JS tokenizer objects can share it and use it from any
 * thread at once; the last release frees it.
 */
#ifndef HYPERION_RUNTIME_TOKENIZER_GGUF_H
#define HYPERION_RUNTIME_TOKENIZER_GGUF_H

#include "core/atomics.h"

#include "model/gguf.h"
#include "tokenizer/tokenizer.h"

typedef struct hy_vocab {
    hy_tokenizer *tok;
    char *chat_template;        /* NUL-terminated copy (tag tokenizer), NULL when the file has none */
    size_t chat_template_len;
    atomic_int refs;
} hy_vocab;

/* Fill spec from g's tokenizer.ggml.* keys. Arrays that need conversion
 * (scores, token types: possibly unaligned in the mapping) and the text views
 * are allocated (tag tokenizer) and recorded in *scratch; release them with
 * hy_tokenizer_spec_scratch_free once the tokenizer is built. The strings
 * point into g's mapping. Errors: HYPERION_MODEL_INVALID naming the key and
 * its byte offset (a wrong type, an array whose length differs from the
 * token count, an id that is not an integer), allocation errors. When g has
 * no tokenizer.ggml.tokens, returns HYPERION_OK with spec->n_vocab == 0. */
typedef struct hy_tokenizer_spec_scratch {
    hy_tokenizer_text *texts;   /* [n_vocab + n_merges] */
    float *scores;
    int32_t *types;
    char model[32];
    char pre[64];
} hy_tokenizer_spec_scratch;

hyperion_status hy_tokenizer_spec_from_gguf(const hy_gguf *g, hy_tokenizer_spec *spec, hy_tokenizer_spec_scratch *scratch);
void hy_tokenizer_spec_scratch_free(hy_tokenizer_spec_scratch *scratch);

/* The vocabulary of an open GGUF file into *out (one reference, owned by the
 * caller). A file without tokenizer.ggml.tokens gives HYPERION_OK and *out ==
 * NULL (a weights-only file loads; tokenizing then fails clearly). Errors:
 * those of hy_tokenizer_spec_from_gguf and hy_tokenizer_build. */
hyperion_status hy_vocab_from_gguf(const hy_gguf *g, hy_vocab **out);

/* Open path (a model or a vocabulary-only GGUF), build its vocabulary and
 * close the file. A file without a vocabulary is HYPERION_MODEL_INVALID
 * (field tokenizer.ggml.tokens). Errors of hy_gguf_open otherwise. */
hyperion_status hy_vocab_load(const char *path, hy_vocab **out);

/* Reference counting. hy_vocab_release(NULL) is a no-op. */
void hy_vocab_retain(hy_vocab *v);
void hy_vocab_release(hy_vocab *v);

#endif
