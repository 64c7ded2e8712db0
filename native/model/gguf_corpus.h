/*
 * gguf_corpus.h — a small valid GGUF model and a corpus of malformed variants
 * of it (internal; test material for the native tests, the CLI `verify` test
 * and the fuzzers).
 *
 * The valid file is a complete one-layer llama model (embedding 32, 4 heads,
 * 2 KV heads, feed-forward 64, vocabulary 16, tied output; F32 and Q8_0
 * tensors) written by a serializer of its own, independent of the GGUF
 * writer, which records where every field lies. Each variant damages exactly
 * one thing (truncation at a section boundary, a patched count, length, type,
 * dimension or offset...) and says what the reader must answer: the status
 * and the error's "field" and "offset".
 */
#ifndef HYPERION_MODEL_GGUF_CORPUS_H
#define HYPERION_MODEL_GGUF_CORPUS_H

#include <stddef.h>
#include <stdint.h>

#include "hyperion.h"

typedef struct hy_gguf_corpus_case {
    const char *name;           /* "truncated_in_key", ...; static */
    hyperion_status expected;   /* HYPERION_MODEL_INVALID or HYPERION_MODEL_UNSUPPORTED */
    char field[64];             /* the error's expected "field" */
    uint64_t offset;            /* the error's expected "offset" */
    const char *why;            /* for UNSUPPORTED: why that is the right answer; else NULL */
    uint8_t *data;              /* the file's bytes (NULL for the empty file) */
    size_t size;
} hy_gguf_corpus_case;

/* Number of malformed variants (at least 30). */
uint32_t hy_gguf_corpus_count(void);

/* The valid file: *data is hyperionAlloc'd (tag HYPERION_TAG_TEST), the caller
 * frees it with hyperionFree. */
hyperion_status hy_gguf_corpus_valid(uint8_t **data, size_t *size);

/* Build variant index (< hy_gguf_corpus_count()) into *out; release its bytes
 * with hy_gguf_corpus_case_free. HYPERION_INVALID_ARGUMENT for a bad index. */
hyperion_status hy_gguf_corpus_build(uint32_t index, hy_gguf_corpus_case *out);
void hy_gguf_corpus_case_free(hy_gguf_corpus_case *c);

/* Write the corpus into the existing folder dir: "valid.gguf", one
 * "NN-<name>.gguf" per variant, and "corpus.json", a manifest listing each
 * file with its expected code, field, offset and (for UNSUPPORTED) why.
 * *written (may be NULL) gets the number of malformed files. HYPERION_IO when
 * a file cannot be written. */
hyperion_status hy_gguf_write_malformed_corpus(const char *dir, uint32_t *written);

#endif
