/*
 * vec_f32.c (NEON) — the "vec" group for AArch64 Advanced SIMD; reached only
 * through the dispatch table (see kernels/neon/simd.h).
 */
#define HY_NEON_DOTPROD 0
#include "kernels/kernels.h"
#include "kernels/neon/simd.h"

static float dot_f32(const float *a, const float *b, size_t n) {
    return hy_neon_dot_kind(HY_NEON_F32, (const uint8_t *)a, b, (int64_t)n);
}

static void axpy_f32(float *y, const float *x, float alpha, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), vld1q_f32(x + i), alpha));
        vst1q_f32(y + i + 4, vfmaq_n_f32(vld1q_f32(y + i + 4), vld1q_f32(x + i + 4), alpha));
    }
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), vld1q_f32(x + i), alpha));
    for (; i < n; i++) y[i] += alpha * x[i];
}

static void scale_f32(float *x, float alpha, size_t n) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(x + i, vmulq_n_f32(vld1q_f32(x + i), alpha));
    for (; i < n; i++) x[i] *= alpha;
}

static float max_f32(const float *x, size_t n) {
    /* for non-NaN inputs the order of comparisons does not change the maximum */
    size_t i = 0;
    float m = x[0];
    if (n >= 4) {
        float32x4_t vm = vld1q_f32(x);
        for (i = 4; i + 4 <= n; i += 4) vm = vmaxq_f32(vm, vld1q_f32(x + i));
        m = vmaxvq_f32(vm);
    }
    for (; i < n; i++)
        if (x[i] > m) m = x[i];
    return m;
}

const hy_vec_kernels hy_vec_kernels_neon = { dot_f32, axpy_f32, scale_f32, max_f32 };
