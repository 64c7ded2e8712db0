/*
 * ops.c (NEON) — the float ops ("ops" group) and attention helpers
 * ("attention" group) for AArch64 Advanced SIMD; reached only through the
 * dispatch tables. Neither group uses int8 products, so there is one build
 * (no dotprod variant).
 *
 * exp: x = n ln2 + r with |r| <= ln2/2 (Cody-Waite split of ln2), e^r by a
 * degree-7 Taylor polynomial (truncation < 1e-8 relative), times 2^n built in
 * the exponent bits. Inputs are clamped to [-87.3, 88]: below, the result is 0
 * instead of a float subnormal; above, e^88 instead of Inf. Within 2 ulp of
 * expf elsewhere (the same scheme as the x86 kernels, so all SIMD versions
 * share one error model).
 */
#define HY_NEON_DOTPROD 0
#include <math.h>

#include "kernels/fp16.h"
#include "kernels/kernels.h"
#include "kernels/neon/simd.h"

static inline float32x4_t exp4(float32x4_t x) {
    const float32x4_t lo = vdupq_n_f32(-87.33654f), hi = vdupq_n_f32(88.0f);
    const uint32x4_t under = vcltq_f32(x, lo);
    x = vminq_f32(vmaxq_f32(x, lo), hi);
    const float32x4_t n = vrndnq_f32(vmulq_n_f32(x, 1.44269504088896341f));
    float32x4_t r = vfmsq_f32(x, n, vdupq_n_f32(0.693145751953125f));
    r = vfmsq_f32(r, n, vdupq_n_f32(1.428606765330187e-06f));
    static const float c[8] = { 1.0f / 5040.0f, 1.0f / 720.0f, 1.0f / 120.0f, 1.0f / 24.0f, 1.0f / 6.0f, 0.5f, 1.0f, 1.0f };
    float32x4_t p = vdupq_n_f32(c[0]);
    for (int k = 1; k < 8; k++) p = vfmaq_f32(vdupq_n_f32(c[k]), p, r);
    const int32x4_t e = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23);
    const float32x4_t v = vmulq_f32(p, vreinterpretq_f32_s32(e));
    return vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(v), under));
}

/* ---- "ops" ---- */

static void rmsnorm(float *out, const float *x, const float *w, int64_t n, float eps) {
    /* squares rounded to float (as the reference), summed in double */
    float64x2_t s0 = vdupq_n_f64(0.0), s1 = vdupq_n_f64(0.0);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const float32x4_t v = vld1q_f32(x + i);
        const float32x4_t sq = vmulq_f32(v, v);
        s0 = vaddq_f64(s0, vcvt_f64_f32(vget_low_f32(sq)));
        s1 = vaddq_f64(s1, vcvt_high_f64_f32(sq));
    }
    double sum = vaddvq_f64(vaddq_f64(s0, s1));
    for (; i < n; i++) {
        const float sq = x[i] * x[i];
        sum += (double)sq;
    }
    const float r = 1.0f / sqrtf((float)(sum / (double)n) + eps);
    for (i = 0; i + 4 <= n; i += 4) {
        float32x4_t v = vmulq_n_f32(vld1q_f32(x + i), r);
        if (w) v = vmulq_f32(v, vld1q_f32(w + i));
        vst1q_f32(out + i, v);
    }
    for (; i < n; i++) out[i] = w ? (x[i] * r) * w[i] : x[i] * r;
}

static void softmax(float *x, int64_t n) {
    int64_t i = 0;
    float max = x[0];
    if (n >= 4) {
        float32x4_t m = vld1q_f32(x);
        for (i = 4; i + 4 <= n; i += 4) m = vmaxq_f32(m, vld1q_f32(x + i));
        max = vmaxvq_f32(m);
    }
    for (; i < n; i++)
        if (x[i] > max) max = x[i];
    const float32x4_t vmax = vdupq_n_f32(max);
    float32x4_t s0 = vdupq_n_f32(0.0f), s1 = s0;
    for (i = 0; i + 8 <= n; i += 8) {
        const float32x4_t e0 = exp4(vsubq_f32(vld1q_f32(x + i), vmax));
        const float32x4_t e1 = exp4(vsubq_f32(vld1q_f32(x + i + 4), vmax));
        vst1q_f32(x + i, e0);
        vst1q_f32(x + i + 4, e1);
        s0 = vaddq_f32(s0, e0);
        s1 = vaddq_f32(s1, e1);
    }
    for (; i + 4 <= n; i += 4) {
        const float32x4_t e0 = exp4(vsubq_f32(vld1q_f32(x + i), vmax));
        vst1q_f32(x + i, e0);
        s0 = vaddq_f32(s0, e0);
    }
    float sum = vaddvq_f32(vaddq_f32(s0, s1));
    for (; i < n; i++) {
        x[i] = expf(x[i] - max);
        sum += x[i];
    }
    const float inv = 1.0f / sum;
    for (i = 0; i + 4 <= n; i += 4) vst1q_f32(x + i, vmulq_n_f32(vld1q_f32(x + i), inv));
    for (; i < n; i++) x[i] *= inv;
}

static void silu_mul(float *out, const float *gate, const float *up, int64_t n) {
    const float32x4_t one = vdupq_n_f32(1.0f);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const float32x4_t g = vld1q_f32(gate + i);
        const float32x4_t s = vdivq_f32(g, vaddq_f32(one, exp4(vnegq_f32(g))));
        vst1q_f32(out + i, vmulq_f32(s, vld1q_f32(up + i)));
    }
    for (; i < n; i++) {
        const float g = gate[i];
        out[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

static void rope(float *x, int64_t n_heads, int64_t head_dim, int64_t n_rot, const float *cos_t, const float *sin_t) {
    for (int64_t h = 0; h < n_heads; h++) {
        float *v = x + h * head_dim;
        int64_t i = 0; /* pair index */
        for (; i + 4 <= n_rot / 2; i += 4) {
            /* LD2 splits four pairs into (x0 x0 x0 x0) and (x1 x1 x1 x1) */
            float32x4x2_t p = vld2q_f32(v + 2 * i);
            const float32x4_t c = vld1q_f32(cos_t + i), s = vld1q_f32(sin_t + i);
            const float32x4_t x0 = p.val[0], x1 = p.val[1];
            p.val[0] = vfmsq_f32(vmulq_f32(x0, c), x1, s);
            p.val[1] = vfmaq_f32(vmulq_f32(x0, s), x1, c);
            vst2q_f32(v + 2 * i, p);
        }
        for (; i < n_rot / 2; i++) {
            const float x0 = v[2 * i], x1 = v[2 * i + 1];
            v[2 * i] = x0 * cos_t[i] - x1 * sin_t[i];
            v[2 * i + 1] = x0 * sin_t[i] + x1 * cos_t[i];
        }
    }
}

static void add(float *out, const float *a, const float *b, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(out + i, vaddq_f32(vld1q_f32(a + i), vld1q_f32(b + i)));
    for (; i < n; i++) out[i] = a[i] + b[i];
}

const hy_ops_kernels hy_ops_kernels_neon = { rmsnorm, softmax, silu_mul, rope, add };

/* ---- "attention": K/V rows of F32 (KIND HY_NEON_F32) or F16 (HY_NEON_F16) ---- */

static void scores_f32(float *s, const float *q, const uint8_t *k, size_t stride, int64_t hd, int64_t n_kv, float scale) {
    for (int64_t t = 0; t < n_kv; t++) s[t] = hy_neon_dot_kind(HY_NEON_F32, k + (size_t)t * stride, q, hd) * scale;
}

static void scores_f16(float *s, const float *q, const uint8_t *k, size_t stride, int64_t hd, int64_t n_kv, float scale) {
    for (int64_t t = 0; t < n_kv; t++) s[t] = hy_neon_dot_kind(HY_NEON_F16, k + (size_t)t * stride, q, hd) * scale;
}

HY_INLINE void values(int KIND, float *out, const float *p, const uint8_t *v, size_t stride, int64_t hd, int64_t n_kv) {
    int64_t d = 0;
    for (; d + 16 <= hd; d += 16) { /* 16 output columns in registers over all rows */
        float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;
        for (int64_t t = 0; t < n_kv; t++) {
            const uint8_t *row = v + (size_t)t * stride;
            a0 = vfmaq_n_f32(a0, hy_ld_kind4(KIND, row, d), p[t]);
            a1 = vfmaq_n_f32(a1, hy_ld_kind4(KIND, row, d + 4), p[t]);
            a2 = vfmaq_n_f32(a2, hy_ld_kind4(KIND, row, d + 8), p[t]);
            a3 = vfmaq_n_f32(a3, hy_ld_kind4(KIND, row, d + 12), p[t]);
        }
        vst1q_f32(out + d, a0);
        vst1q_f32(out + d + 4, a1);
        vst1q_f32(out + d + 8, a2);
        vst1q_f32(out + d + 12, a3);
    }
    for (; d + 4 <= hd; d += 4) {
        float32x4_t a0 = vdupq_n_f32(0.0f);
        for (int64_t t = 0; t < n_kv; t++) a0 = vfmaq_n_f32(a0, hy_ld_kind4(KIND, v + (size_t)t * stride, d), p[t]);
        vst1q_f32(out + d, a0);
    }
    for (; d < hd; d++) {
        float a = 0.0f;
        for (int64_t t = 0; t < n_kv; t++) a += p[t] * hy_at_kind(KIND, v + (size_t)t * stride, d);
        out[d] = a;
    }
}

static void values_f32(float *out, const float *p, const uint8_t *v, size_t stride, int64_t hd, int64_t n_kv) {
    values(HY_NEON_F32, out, p, v, stride, hd, n_kv);
}

static void values_f16(float *out, const float *p, const uint8_t *v, size_t stride, int64_t hd, int64_t n_kv) {
    values(HY_NEON_F16, out, p, v, stride, hd, n_kv);
}

/* FCVTN rounds to nearest even under the default FPCR (as Linux and macOS
 * run user code), keeps subnormals, gives Inf from 65520 up and quiets NaNs
 * keeping the top payload bits: hy_float_to_half bit for bit. */
static void store_f16(uint16_t *dst, const float *src, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const float16x8_t h = vcombine_f16(vcvt_f16_f32(vld1q_f32(src + i)), vcvt_f16_f32(vld1q_f32(src + i + 4)));
        vst1q_u8((uint8_t *)(dst + i), vreinterpretq_u8_f16(h));
    }
    for (; i < n; i++) {
        const uint16_t h = hy_float_to_half(src[i]);
        memcpy(dst + i, &h, 2);
    }
}

/* no grouped forms on NEON yet: hy_attn_scores_group / hy_attn_values_group
 * run the per-head kernels once per head */
const hy_attn_kernels hy_attn_kernels_neon = { scores_f32, scores_f16, values_f32, values_f16, store_f16, NULL, NULL, NULL, NULL };
