/*
 * reference.h — the reference forward pass of the llama family (internal).
 *
 * The oracle the optimized graph and kernels are held to: float32 weights in,
 * logits out, every intermediate in double precision, no SIMD, no threads, no
 * KV cache tricks — the whole sequence is evaluated from position 0, one layer
 * at a time. It follows llama.cpp's llama graph:
 *   x = token_embd[token]
 *   per layer:  x += Wo · attention(rope(Wq·n), rope(Wk·n), Wv·n),  n = rmsnorm(x) * attn_norm
 *               x += Wdown · (silu(Wgate·m) * (Wup·m)),              m = rmsnorm(x) * ffn_norm
 *   logits = Wout · (rmsnorm(x) * output_norm)
 * with RoPE in ggml's "normal" mode (adjacent pairs), causal grouped-query
 * attention scaled by 1/sqrt(head_dim). Slow by design: use it on small models.
 */
#ifndef HYPERION_MODEL_REFERENCE_H
#define HYPERION_MODEL_REFERENCE_H

#include <stddef.h>
#include <stdint.h>

#include "hyperion.h"
#include "model/llama_config.h"

/* The weights of one layer, row-major [n_out, n_in] (GGUF ne = {n_in, n_out}). */
typedef struct hy_llama_layer_f32 {
    const float *attn_norm;   /* [n_embd] */
    const float *wq;          /* [n_head * head_dim, n_embd] */
    const float *wk;          /* [n_head_kv * head_dim, n_embd] */
    const float *wv;          /* [n_head_kv * head_dim, n_embd] */
    const float *wo;          /* [n_embd, n_head * head_dim] */
    const float *ffn_norm;    /* [n_embd] */
    const float *w_gate;      /* [n_ff, n_embd] */
    const float *w_up;        /* [n_ff, n_embd] */
    const float *w_down;      /* [n_embd, n_ff] */
} hy_llama_layer_f32;

/* All the weights as plain float arrays; nothing is owned or copied. */
typedef struct hy_llama_weights_f32 {
    const float *token_embd;          /* [n_vocab, n_embd] */
    const hy_llama_layer_f32 *layers; /* [n_layer] */
    const float *output_norm;         /* [n_embd] */
    const float *output;              /* [n_vocab, n_embd]; unused (may be NULL) when cfg->output_tied */
    const float *rope_freqs;          /* optional [rope_dim / 2]: per-pair frequency divisors (GGUF
                                         rope_freqs.weight); when set they replace the divisors the
                                         config implies (hy_llama_rope_freq_divisors) */
} hy_llama_weights_f32;

/* Evaluate tokens[0..n_tokens) at positions 0..n_tokens-1 and write logits:
 * all_logits != 0: [n_tokens, n_vocab]; all_logits == 0: the last row only,
 * [n_vocab]. The caller owns `logits`. Scratch (about
 * n_tokens x (4 n_embd + 2 n_ff + 4 n_head x head_dim) doubles) comes from
 * hyperionAlloc (HYPERION_TAG_ACTIVATIONS) and is released before returning.
 * Errors: what hy_llama_config_validate reports; HYPERION_INVALID_ARGUMENT for
 * a NULL argument or weight, n_tokens == 0, or a token outside [0, n_vocab)
 * (fields "tokens", index, value); HYPERION_MODEL_INVALID for a rope_freqs
 * divisor that is not a positive number; HYPERION_OUT_OF_MEMORY/MEMORY_LIMIT when
 * scratch cannot be had. On error `logits` is left unspecified. */
hyperion_status hy_reference_forward(const hy_llama_config *cfg, const hy_llama_weights_f32 *weights,
                                     const int32_t *tokens, size_t n_tokens, int all_logits, float *logits);

#endif
