/*
 * llama_hparams.h — llama-family hyperparameters from GGUF metadata, and the
 * check that the tensors have the shapes they imply (internal).
 *
 * Architectures: "llama" and "mistral" (same keys and graph). Anything else
 * is HYPERION_MODEL_UNSUPPORTED naming the architecture. Inconsistent or
 * missing metadata is HYPERION_MODEL_INVALID naming the key (or tensor).
 */
#ifndef HYPERION_MODEL_LLAMA_HPARAMS_H
#define HYPERION_MODEL_LLAMA_HPARAMS_H

#include "model/llama_config.h"
#include <stdint.h>

#include "hyperion.h"
#include "model/gguf.h"
#include "model/llama_names.h"

/* The rope scaling kinds are the reference config's (model/llama_config.h). */
typedef hy_rope_scaling_type hy_rope_scaling;

typedef struct hy_llama_hparams {
    char arch[32];               /* "llama" or "mistral" */
    uint32_t n_ctx_train;        /* <arch>.context_length */
    uint32_t n_embd;             /* <arch>.embedding_length */
    uint32_t n_layer;            /* <arch>.block_count */
    uint32_t n_ff;               /* <arch>.feed_forward_length */
    uint32_t n_head;             /* <arch>.attention.head_count */
    uint32_t n_head_kv;          /* <arch>.attention.head_count_kv (default n_head) */
    uint32_t head_dim;           /* <arch>.attention.key_length, else n_embd / n_head */
    uint32_t n_embd_q;           /* n_head * head_dim */
    uint32_t n_embd_kv;          /* n_head_kv * head_dim */
    uint32_t n_rot;              /* <arch>.rope.dimension_count (default head_dim; must equal it) */
    uint32_t n_vocab;            /* tokenizer.ggml.tokens length, else token_embd's ne[1]; 0 = unknown */
    int has_vocab;               /* 1: tokenizer.ggml.tokens is present */
    float rms_eps;               /* <arch>.attention.layer_norm_rms_epsilon */
    float rope_freq_base;        /* <arch>.rope.freq_base (default 10000) */
    hy_rope_scaling rope_scaling;
    float rope_factor;           /* scaling factor; 1 when none */
    float rope_freq_scale;       /* 1 / rope_factor */
    uint32_t rope_orig_ctx;      /* original context length; 0 = not given */
    float rope_low_freq_factor;  /* llama3 from keys (defaults 1 and 4); unused with rope_freqs */
    float rope_high_freq_factor;
    const hy_tensor *rope_freqs; /* llama3: [n_rot / 2] F32 factors in the file, or NULL */
    int tied_output;             /* 1: no output.weight; logits use token_embd.weight */
} hy_llama_hparams;

/* Read and check the hyperparameters (metadata only, plus rope_freqs and the
 * vocabulary fallback from token_embd). Errors: HYPERION_MODEL_UNSUPPORTED
 * (architecture, rope scaling type, partial rotary, key/value length
 * mismatch), HYPERION_MODEL_INVALID (a missing, mistyped or inconsistent
 * key: fields key, field and offset). */
hyperion_status hy_llama_hparams_read(const hy_gguf *g, hy_llama_hparams *hp);

typedef struct hy_llama_layer {
    const hy_tensor *t[HY_L_COUNT];   /* indexed by hy_llama_layer_tensor */
} hy_llama_layer;

/* Views of the weights, checked against the hyperparameters. */
typedef struct hy_llama_weights {
    const hy_tensor *token_embd;  /* [n_embd, n_vocab] */
    const hy_tensor *output_norm; /* [n_embd] */
    const hy_tensor *output;      /* [n_embd, n_vocab]; == token_embd when tied */
    const hy_tensor *rope_freqs;  /* or NULL */
    uint32_t n_layer;
    hy_llama_layer *layers;       /* [n_layer], hyperionAlloc'd (HYPERION_TAG_MODEL) */
} hy_llama_weights;

/* Find every llama tensor and check its shape: token_embd, output_norm,
 * optional output (tied when absent), and the nine per-layer tensors of each
 * block. A missing tensor or a wrong shape is HYPERION_MODEL_INVALID naming
 * the tensor (field "tensor_infos[i].ne" for shapes) and the keys the shape
 * comes from. w may be NULL (check only); otherwise release it with
 * hy_llama_weights_free. */
hyperion_status hy_llama_weights_bind(const hy_gguf *g, const hy_llama_hparams *hp, hy_llama_weights *w);
void hy_llama_weights_free(hy_llama_weights *w);

/* "none", "linear", "llama3". Static string. */
const char *hy_rope_scaling_name(hy_rope_scaling s);

#endif
