/*
 * ops.c (scalar) — the reference float ops ("ops" group) and attention
 * helpers ("attention" group). Written for clarity; sums in double so the
 * reference is the more exact side of every comparison.
 */
#include <math.h>
#include <string.h>

#include "kernels/fp16.h"
#include "kernels/kernels.h"

static void rmsnorm(float *out, const float *x, const float *w, int64_t n, float eps) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += (double)(x[i] * x[i]);
    const float r = 1.0f / sqrtf((float)(sum / (double)n) + eps);
    for (int64_t i = 0; i < n; i++) out[i] = w ? (x[i] * r) * w[i] : x[i] * r;
}

static void softmax(float *x, int64_t n) {
    float max = x[0];
    for (int64_t i = 1; i < n; i++)
        if (x[i] > max) max = x[i];
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) {
        x[i] = expf(x[i] - max);
        sum += x[i];
    }
    const float inv = (float)(1.0 / sum);
    for (int64_t i = 0; i < n; i++) x[i] *= inv;
}

static void silu_mul(float *out, const float *gate, const float *up, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        const float g = gate[i];
        out[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

static void rope(float *x, int64_t n_heads, int64_t head_dim, int64_t n_rot, const float *cos_t, const float *sin_t) {
    for (int64_t h = 0; h < n_heads; h++) {
        float *v = x + h * head_dim;
        for (int64_t i = 0; i < n_rot / 2; i++) {
            const float x0 = v[2 * i], x1 = v[2 * i + 1];
            v[2 * i] = x0 * cos_t[i] - x1 * sin_t[i];
            v[2 * i + 1] = x0 * sin_t[i] + x1 * cos_t[i];
        }
    }
}

static void add(float *out, const float *a, const float *b, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

const hy_ops_kernels hy_ops_kernels_scalar = { rmsnorm, softmax, silu_mul, rope, add };

/* ---- attention ---- */

static void scores_f32(float *s, const float *q, const uint8_t *k, size_t stride, int64_t hd, int64_t n_kv,
                       float scale) {
    for (int64_t t = 0; t < n_kv; t++) {
        const uint8_t *row = k + (size_t)t * stride;
        double sum = 0.0;
        for (int64_t d = 0; d < hd; d++) sum += (double)q[d] * (double)hy_load_f32(row + 4 * d);
        s[t] = (float)sum * scale;
    }
}

static void scores_f16(float *s, const float *q, const uint8_t *k, size_t stride, int64_t hd, int64_t n_kv,
                       float scale) {
    for (int64_t t = 0; t < n_kv; t++) {
        const uint8_t *row = k + (size_t)t * stride;
        double sum = 0.0;
        for (int64_t d = 0; d < hd; d++) sum += (double)q[d] * (double)hy_load_f16(row + 2 * d);
        s[t] = (float)sum * scale;
    }
}

static void values_f32(float *out, const float *p, const uint8_t *v, size_t stride, int64_t hd, int64_t n_kv) {
    for (int64_t d = 0; d < hd; d++) {
        double sum = 0.0;
        for (int64_t t = 0; t < n_kv; t++) sum += (double)p[t] * (double)hy_load_f32(v + (size_t)t * stride + 4 * d);
        out[d] = (float)sum;
    }
}

static void values_f16(float *out, const float *p, const uint8_t *v, size_t stride, int64_t hd, int64_t n_kv) {
    for (int64_t d = 0; d < hd; d++) {
        double sum = 0.0;
        for (int64_t t = 0; t < n_kv; t++) sum += (double)p[t] * (double)hy_load_f16(v + (size_t)t * stride + 2 * d);
        out[d] = (float)sum;
    }
}

static void store_f16(uint16_t *dst, const float *src, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        const uint16_t h = hy_float_to_half(src[i]);
        memcpy(dst + i, &h, 2);
    }
}

/* no grouped forms: the reference is the per-head kernels, which
 * hy_attn_scores_group / hy_attn_values_group run once per head */
const hy_attn_kernels hy_attn_kernels_scalar = { scores_f32, scores_f16, values_f32, values_f16, store_f16, NULL, NULL, NULL, NULL };
