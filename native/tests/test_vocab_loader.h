/*
 * test_vocab_loader.h — TEST-ONLY: pulls the tokenizer.ggml.* keys out of a
 * GGUF v3 file into a hy_tokenizer_spec, so the tokenizer tests can use the
 * shared reference vocabularies before the real GGUF reader exists.
 * Replace it with the model module's reader once that lands.
 */
#ifndef HYPERION_TEST_VOCAB_LOADER_H
#define HYPERION_TEST_VOCAB_LOADER_H

#include <stddef.h>

#include "tokenizer/tokenizer.h"

typedef struct hy_test_vocab {
    unsigned char *data;          /* the whole file (malloc) */
    size_t size;
    hy_tokenizer_spec spec;       /* points into the arrays below */
    hy_tokenizer_text *tokens;    /* malloc'd, texts point into data */
    hy_tokenizer_text *merges;
    float *scores;
    int32_t *types;
    char model[32];
    char pre[64];
} hy_test_vocab;

/* Load path. Returns 0 on success; otherwise -1 with a message in err. */
int hy_test_vocab_load(const char *path, hy_test_vocab *vocab, char *err, size_t err_size);
void hy_test_vocab_free(hy_test_vocab *vocab);

/* The shared test-data folder: $HYPERION_SHARED_DIR, else <source root>/../shared
 * (the source root found from this file's own path). */
const char *hy_test_shared_dir(void);

/* Read a whole file (malloc; NUL-terminated for convenience). NULL when absent. */
char *hy_test_read_file(const char *path, size_t *size);

#endif
