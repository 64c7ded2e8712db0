/*
 * ops.c — entry points of the float ops (ops.h): dispatch to the "ops" and
 * "attention" groups, and the rope angle cache.
 */
#include "kernels/ops.h"

#include <math.h>
#include <string.h>

#include "kernels/kernels.h"
#include "kernels/types.h"

void hy_rmsnorm(float *out, const float *x, const float *w, int64_t n, float eps) {
    hy_ops()->rmsnorm(out, x, w, n, eps);
}

void hy_softmax(float *x, int64_t n) { hy_ops()->softmax(x, n); }

void hy_silu_mul(float *out, const float *gate, const float *up, int64_t n) { hy_ops()->silu_mul(out, gate, up, n); }

void hy_add(float *out, const float *a, const float *b, int64_t n) { hy_ops()->add(out, a, b, n); }

void hy_rope(float *x, int64_t n_heads, int64_t head_dim, int64_t n_rot, const float *cos_t, const float *sin_t) {
    hy_ops()->rope(x, n_heads, head_dim, n_rot, cos_t, sin_t);
}

/* ---- rope angles, as llama.cpp's rope cache computes them ---- */

static float yarn_ramp(float low, float high, int64_t i0) {
    const float y = ((float)(i0 / 2) - low) / fmaxf(0.001f, high - low);
    return 1.0f - fminf(1.0f, fmaxf(0.0f, y));
}

void hy_rope_cache(float *cos_t, float *sin_t, int64_t n_rot, int64_t pos, const hy_rope_params *p) {
    const float theta_scale = powf(p->freq_base, -2.0f / (float)n_rot);
    float theta = (float)pos; /* theta_i = pos * theta_scale^i, by repeated products */
    for (int64_t i = 0; i < n_rot / 2; i++) {
        const float ff = p->freq_factors ? p->freq_factors[i] : 1.0f;
        const float extrap = theta / ff;
        const float interp = p->freq_scale * extrap;
        float t = interp, mscale = p->attn_factor;
        if (p->ext_factor != 0.0f) {
            const float mix = yarn_ramp(p->corr_dims[0], p->corr_dims[1], 2 * i) * p->ext_factor;
            t = interp * (1.0f - mix) + extrap * mix;
            mscale *= 1.0f + 0.1f * logf(1.0f / p->freq_scale);
        }
        cos_t[i] = cosf(t) * mscale;
        sin_t[i] = sinf(t) * mscale;
        theta *= theta_scale;
    }
}

static float yarn_corr_dim(int64_t n_rot, int64_t n_ctx_orig, float beta, float base) {
    return (float)n_rot * logf((float)n_ctx_orig / (beta * 2.0f * 3.14159265358979323846f)) / (2.0f * logf(base));
}

void hy_rope_yarn_corr_dims(int64_t n_rot, int64_t n_ctx_orig, float freq_base, float beta_fast, float beta_slow,
                            float dims[2]) {
    const float start = floorf(yarn_corr_dim(n_rot, n_ctx_orig, beta_fast, freq_base));
    const float end = ceilf(yarn_corr_dim(n_rot, n_ctx_orig, beta_slow, freq_base));
    dims[0] = fmaxf(0.0f, start);
    dims[1] = fminf((float)(n_rot - 1), end);
}

/* ---- attention ---- */

void hy_attn_scores(float *scores, const float *q, const void *k, uint32_t k_type, size_t k_stride,
                    int64_t head_dim, int64_t n_kv, float scale) {
    if (k_type == HY_TYPE_F32)
        hy_attn()->scores_f32(scores, q, k, k_stride, head_dim, n_kv, scale);
    else if (k_type == HY_TYPE_F16)
        hy_attn()->scores_f16(scores, q, k, k_stride, head_dim, n_kv, scale);
}

void hy_attn_values(float *out, const float *p, const void *v, uint32_t v_type, size_t v_stride,
                    int64_t head_dim, int64_t n_kv) {
    if (v_type == HY_TYPE_F32)
        hy_attn()->values_f32(out, p, v, v_stride, head_dim, n_kv);
    else if (v_type == HY_TYPE_F16)
        hy_attn()->values_f16(out, p, v, v_stride, head_dim, n_kv);
}

void hy_attn_scores_group(float *scores, size_t s_stride, const float *q, size_t q_stride, int64_t n_heads,
                          const void *k, uint32_t k_type, size_t k_stride, int64_t head_dim, int64_t n_kv, float scale) {
    const hy_attn_kernels *a = hy_attn();
    void (*group)(float *, size_t, const float *, size_t, int64_t, const uint8_t *, size_t, int64_t, int64_t, float) =
        k_type == HY_TYPE_F32 ? a->scores_group_f32 : k_type == HY_TYPE_F16 ? a->scores_group_f16 : NULL;
    if (group) {
        group(scores, s_stride, q, q_stride, n_heads, k, k_stride, head_dim, n_kv, scale);
        return;
    }
    for (int64_t g = 0; g < n_heads; g++)
        hy_attn_scores(scores + (size_t)g * s_stride, q + (size_t)g * q_stride, k, k_type, k_stride, head_dim, n_kv, scale);
}

void hy_attn_values_group(float *out, size_t out_stride, const float *p, size_t p_stride, int64_t n_heads,
                          const void *v, uint32_t v_type, size_t v_stride, int64_t head_dim, int64_t n_kv) {
    const hy_attn_kernels *a = hy_attn();
    void (*group)(float *, size_t, const float *, size_t, int64_t, const uint8_t *, size_t, int64_t, int64_t) =
        v_type == HY_TYPE_F32 ? a->values_group_f32 : v_type == HY_TYPE_F16 ? a->values_group_f16 : NULL;
    if (group) {
        group(out, out_stride, p, p_stride, n_heads, v, v_stride, head_dim, n_kv);
        return;
    }
    for (int64_t g = 0; g < n_heads; g++)
        hy_attn_values(out + (size_t)g * out_stride, p + (size_t)g * p_stride, v, v_type, v_stride, head_dim, n_kv);
}

void hy_attn_group(float *out, size_t out_stride, const float *q, size_t q_stride, int64_t n_heads, const void *k,
                   const void *v, uint32_t kv_type, size_t kv_stride, int64_t head_dim, int64_t n_kv, float scale,
                   float *scores, size_t s_stride) {
    hy_attn_scores_group(scores, s_stride, q, q_stride, n_heads, k, kv_type, kv_stride, head_dim, n_kv, scale);
    for (int64_t g = 0; g < n_heads; g++) hy_softmax(scores + (size_t)g * s_stride, n_kv);
    hy_attn_values_group(out, out_stride, scores, s_stride, n_heads, v, kv_type, kv_stride, head_dim, n_kv);
}

void hy_kv_store(void *dst, uint32_t type, const float *src, int64_t n) {
    if (type == HY_TYPE_F32)
        memcpy(dst, src, (size_t)n * sizeof(float));
    else if (type == HY_TYPE_F16)
        hy_attn()->store_f16(dst, src, n);
}
