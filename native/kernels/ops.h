/*
 * ops.h — the float ops of the llama-family graph (internal API).
 *
 * Each op has a scalar reference and SIMD versions behind the kernel groups
 * "ops" (rmsnorm, softmax, SwiGLU, rope, add) and "attention" (scores over the
 * KV cache, the weighted sum of values, F16 stores into the cache);
 * hyperionEnableSIMD("ops" / "attention", 0) forces the reference. Inputs are
 * trusted (shapes come from the validated model); no op allocates. Unless said
 * otherwise, out may alias an input element for element.
 */
#ifndef HYPERION_OPS_H
#define HYPERION_OPS_H

#include <stddef.h>
#include <stdint.h>

/* ---- group "ops" ---- */

/* out[i] = (x[i] * r) * w[i], r = 1 / sqrt(mean(x^2) + eps), as llama.cpp's
 * RMS_NORM followed by the weight multiply (the sum of squares accumulated in
 * double). w may be NULL (no weight). n >= 1. */
void hy_rmsnorm(float *out, const float *x, const float *w, int64_t n, float eps);

/* In-place softmax of x[0..n): subtracts the maximum before exponentiating, so
 * large inputs do not overflow; -INFINITY entries (masked) become 0. n >= 1 and
 * at least one entry finite. */
void hy_softmax(float *x, int64_t n);

/* SwiGLU: out[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + exp(-g)). */
void hy_silu_mul(float *out, const float *gate, const float *up, int64_t n);

/* out[i] = a[i] + b[i] (residual connections). */
void hy_add(float *out, const float *a, const float *b, int64_t n);

/* ---- rotary position embedding ----
 *
 * Pair convention: llama.cpp's "normal" rope mode (LLAMA_ROPE_TYPE_NORM), the
 * one llama-arch GGUF files use (the converter permutes Q and K weights so
 * that adjacent elements form the rotated pairs). Within each head, pair i
 * (i < n_rot / 2) is (x[2i], x[2i + 1]), rotated by theta_i:
 *     x[2i]     <- x[2i] * cos_i - x[2i+1] * sin_i
 *     x[2i + 1] <- x[2i] * sin_i + x[2i+1] * cos_i
 * Elements n_rot..head_dim-1 are left unchanged. cos_i / sin_i come from
 * hy_rope_cache for the token's position. */

typedef struct hy_rope_params {
    float freq_base;           /* rope.freq_base (10000 when absent) */
    float freq_scale;          /* 1 / rope.scaling.factor for "linear" scaling, else 1 */
    const float *freq_factors; /* rope_freqs.weight (llama3 scaling): n_rot / 2 divisors, or NULL */
    float attn_factor;         /* multiplies cos and sin (YaRN magnitude scaling); 1 normally */
    float ext_factor;          /* YaRN extrapolation mix; 0 = off */
    float corr_dims[2];        /* YaRN correction range (hy_rope_yarn_corr_dims), used when ext_factor != 0 */
} hy_rope_params;

/* cos_t / sin_t[i] for i < n_rot / 2 at position pos, computed as llama.cpp
 * does (theta_i = pos * base^(-2i / n_rot) built by repeated float products,
 * divided by freq_factors[i], times freq_scale, YaRN mixing when ext_factor is
 * set), so angles match to the last bit. n_rot even, >= 2. */
void hy_rope_cache(float *cos_t, float *sin_t, int64_t n_rot, int64_t pos, const hy_rope_params *p);

/* YaRN correction dims for n_rot, the training context n_ctx_orig, the base and
 * beta_fast / beta_slow (32 and 1 in llama.cpp). */
void hy_rope_yarn_corr_dims(int64_t n_rot, int64_t n_ctx_orig, float freq_base, float beta_fast, float beta_slow,
                            float dims[2]);

/* Rotate x: [n_heads, head_dim] in place with cos_t / sin_t of n_rot / 2
 * entries (n_rot even, n_rot <= head_dim). */
void hy_rope(float *x, int64_t n_heads, int64_t head_dim, int64_t n_rot, const float *cos_t, const float *sin_t);

/* ---- group "attention": reads the KV cache in place (no copy) ---- */

/* scores[t] = scale * dot(q, K_t) for t < n_kv. q: head_dim floats; K_t: row t
 * of the cache, head_dim elements of k_type (HY_TYPE_F32 or HY_TYPE_F16),
 * starting k_stride bytes after row t-1 (so one head of an interleaved
 * [n_kv, n_kv_heads, head_dim] cache is read with k = base + head * head_dim *
 * element size, k_stride = n_kv_heads * head_dim * element size). Other k_type
 * values leave scores untouched. */
void hy_attn_scores(float *scores, const float *q, const void *k, uint32_t k_type, size_t k_stride,
                    int64_t head_dim, int64_t n_kv, float scale);

/* out[d] = sum over t < n_kv of p[t] * V_t[d], d < head_dim; V rows as K rows
 * above. out must not alias p or the cache. */
void hy_attn_values(float *out, const float *p, const void *v, uint32_t v_type, size_t v_stride,
                    int64_t head_dim, int64_t n_kv);

/* The same for n_heads query heads that share one KV head (grouped-query
 * attention): scores[g * s_stride + t] for query q + g * q_stride, and
 * out[g * out_stride + d] from p + g * p_stride. Each cached row is read once
 * for all the heads (the per-head forms read it once per head). out must not
 * alias p or the cache. */
void hy_attn_scores_group(float *scores, size_t s_stride, const float *q, size_t q_stride, int64_t n_heads,
                          const void *k, uint32_t k_type, size_t k_stride, int64_t head_dim, int64_t n_kv, float scale);
void hy_attn_values_group(float *out, size_t out_stride, const float *p, size_t p_stride, int64_t n_heads,
                          const void *v, uint32_t v_type, size_t v_stride, int64_t head_dim, int64_t n_kv);

/* Attention of n_heads query heads over one KV head: the three steps above
 * (scores, softmax per head, weighted values), out[g * out_stride + d] for
 * query q + g * q_stride. k and v: the head's rows 0, kv_stride bytes apart.
 * scores: caller-owned scratch of n_heads rows of s_stride >= n_kv floats
 * (left holding the weights). out must not alias q, scores or the cache. */
void hy_attn_group(float *out, size_t out_stride, const float *q, size_t q_stride, int64_t n_heads, const void *k,
                   const void *v, uint32_t kv_type, size_t kv_stride, int64_t head_dim, int64_t n_kv, float scale,
                   float *scores, size_t s_stride);

/* Store n floats into a cache row of type (HY_TYPE_F32: copy; HY_TYPE_F16:
 * round to nearest even, as hy_fp32_to_fp16). Other types: nothing written. */
void hy_kv_store(void *dst, uint32_t type, const float *src, int64_t n);

#endif
