/*
 * gguf_corpus_base.h — the corpus's valid base file and the map of where each
 * of its fields lies (internal to gguf_corpus*.c).
 */
#ifndef HYPERION_MODEL_GGUF_CORPUS_BASE_H
#define HYPERION_MODEL_GGUF_CORPUS_BASE_H

#include <stddef.h>
#include <stdint.h>

#include "hyperion.h"

/* The pairs of the base file, in file order. */
enum {
    CK_ARCH, CK_ALIGN, CK_DESC, CK_CTX, CK_EMBD, CK_BLOCKS, CK_FF, CK_HEADS, CK_HEADS_KV, CK_ROPE_DIM,
    CK_EPS, CK_FREQ_BASE, CK_FLAG, CK_FLAGS, CK_A, CK_B, CK_TOK_MODEL, CK_SCORES, CK_TOKEN_TYPES,
    CK_TOKENS, CK_QVER, CK_NAME, CK_COUNT
};

/* Its tensors, in file order. */
enum {
    CT_EMBD, CT_OUT_NORM, CT_ATTN_NORM, CT_Q, CT_K, CT_V, CT_O, CT_FFN_NORM, CT_GATE, CT_UP, CT_DOWN, CT_COUNT
};

#define CORPUS_VOCAB 16

typedef struct corpus_layout {
    /* pairs: start (key length), type field, value (arrays: first element) */
    uint64_t kv_off[CK_COUNT], kv_type_off[CK_COUNT], kv_value_off[CK_COUNT];
    uint64_t token_off[CORPUS_VOCAB];     /* each tokenizer.ggml.tokens element */
    /* tensor infos: start (name length), n_dims, ne[0], type, offset fields */
    uint64_t t_info[CT_COUNT], t_ndims[CT_COUNT], t_dims[CT_COUNT], t_type[CT_COUNT], t_offset[CT_COUNT];
    uint64_t t_start[CT_COUNT], t_bytes[CT_COUNT]; /* absolute data start and size */
    uint64_t end_infos, data_off, size;
} corpus_layout;

/* Build the valid base file (hyperionAlloc'd, tag HYPERION_TAG_TEST) and its map. */
hyperion_status hy_corpus_build_base(uint8_t **data, size_t *size, corpus_layout *layout);

#endif
