/*
 * llama_config.h — the shape and hyper-parameters of a llama-family model
 * (internal), shared by the GGUF loader, the graph, the model maker and the
 * reference forward pass.
 *
 * Plain fields in GGUF's own types (uint32 counts, float32 reals), so the GGUF
 * reader can copy its `llama.*` keys straight in:
 *   n_vocab          tokenizer.ggml.tokens length (or llama.vocab_size)
 *   n_ctx_train      llama.context_length
 *   n_embd           llama.embedding_length
 *   n_layer          llama.block_count
 *   n_head           llama.attention.head_count
 *   n_head_kv        llama.attention.head_count_kv      (default n_head)
 *   head_dim         llama.attention.key_length         (default n_embd / n_head)
 *   n_ff             llama.feed_forward_length
 *   rms_eps          llama.attention.layer_norm_rms_epsilon
 *   rope_freq_base   llama.rope.freq_base               (default 10000)
 *   rope_dim         llama.rope.dimension_count         (default head_dim)
 *   rope_scaling_*   llama.rope.scaling.type / .factor / .original_context_length
 *   output_tied      1 when the file has no output.weight
 * Llama 3.1-style frequency scaling arrives in GGUF files as a tensor,
 * rope_freqs.weight (one divisor per rotated pair, made by the converter from
 * the same formula as HY_ROPE_SCALING_LLAMA3); the graph passes that tensor on
 * and leaves rope_scaling_type at NONE. HY_ROPE_SCALING_LLAMA3 with its four
 * parameters describes the same thing for models we build ourselves.
 */
#ifndef HYPERION_MODEL_LLAMA_CONFIG_H
#define HYPERION_MODEL_LLAMA_CONFIG_H

#include <stdint.h>

#include "hyperion.h"

typedef enum hy_rope_scaling_type {
    HY_ROPE_SCALING_NONE = 0,
    HY_ROPE_SCALING_LINEAR = 1,  /* positions divided by rope_scaling_factor */
    HY_ROPE_SCALING_LLAMA3 = 2,  /* frequencies scaled by wavelength band (Llama 3.1) */
} hy_rope_scaling_type;

typedef struct hy_llama_config {
    uint32_t n_vocab;
    uint32_t n_ctx_train;
    uint32_t n_embd;
    uint32_t n_layer;
    uint32_t n_head;            /* query heads */
    uint32_t n_head_kv;         /* key/value heads; n_head is a multiple of it */
    uint32_t head_dim;          /* elements per head of q, k and v */
    uint32_t n_ff;              /* feed-forward hidden size */
    float rms_eps;
    float rope_freq_base;
    uint32_t rope_dim;          /* elements rotated per head; llama requires == head_dim */

    hy_rope_scaling_type rope_scaling_type;
    float rope_scaling_factor;          /* LINEAR and LLAMA3: the context extension factor */
    uint32_t rope_scaling_orig_ctx;     /* LLAMA3: original_max_position_embeddings */
    float rope_scaling_low_freq_factor; /* LLAMA3 */
    float rope_scaling_high_freq_factor;/* LLAMA3 */

    int output_tied;            /* 1: the output projection is token_embd */
} hy_llama_config;

/* Check that cfg describes a model the runtime can evaluate: every count
 * non-zero, n_head a multiple of n_head_kv, rope_dim == head_dim and even,
 * finite positive eps/base, scaling parameters complete for their type, and
 * every weight size (n_vocab x n_embd, n_head x head_dim x n_embd, ...)
 * representable. Errors: HYPERION_MODEL_INVALID naming the field (zero or
 * inconsistent values, overflowing sizes), HYPERION_MODEL_UNSUPPORTED (partial
 * rotary embeddings, an unknown scaling type). */
hyperion_status hy_llama_config_validate(const hy_llama_config *cfg);

/* The per-pair RoPE frequency divisors the config implies, into
 * out[rope_dim / 2]: pair i rotates by pos * freq_scale * base^(-2i/rope_dim)
 * / out[i]. All 1 except for HY_ROPE_SCALING_LLAMA3. The config must have
 * passed hy_llama_config_validate. */
void hy_llama_rope_freq_divisors(const hy_llama_config *cfg, double *out);

/* freq_scale of the formula above: 1 / rope_scaling_factor for LINEAR, else 1. */
double hy_llama_rope_freq_scale(const hy_llama_config *cfg);

#endif
