/*
 * quantize.c (NEON) — the activation quantizers of the "quant" group. They
 * compute exactly what the scalar reference does (kernels/scalar/quant.c):
 * the same float products, round-half-even conversion (FCVTNS, as
 * hy_nearest_int), the same clamps and the same "first largest magnitude",
 * so every version writes the same bytes for finite inputs. Maxima use FMAXNM,
 * which skips NaNs as the reference's comparisons do.
 */
#define HY_NEON_DOTPROD 0
#include <math.h>

#include "kernels/fp16.h"
#include "kernels/neon/neon_kernels.h"
#include "kernels/neon/simd.h"
#include "kernels/quant.h"

/* 16 int32 lanes (four vectors, elements in order) to 16 int8, saturating
 * (values are already in [-127, 127]) */
static inline int8x16_t narrow16(int32x4_t a, int32x4_t b, int32x4_t c, int32x4_t d) {
    const int16x8_t lo = vcombine_s16(vqmovn_s32(a), vqmovn_s32(b)), hi = vcombine_s16(vqmovn_s32(c), vqmovn_s32(d));
    return vcombine_s8(vqmovn_s16(lo), vqmovn_s16(hi));
}

void hy_neon_quantize_q8_0(const float *x, void *vy, int64_t n) {
    uint8_t *y = vy;
    for (int64_t b = 0; b < n / 32; b++, x += 32, y += 34) {
        float32x4_t v[8], m = vdupq_n_f32(0.0f);
        for (int k = 0; k < 8; k++) {
            v[k] = vld1q_f32(x + 4 * k);
            m = vmaxnmq_f32(m, vabsq_f32(v[k]));
        }
        const float amax = vmaxnmvq_f32(m);
        const float d = amax / 127.0f;
        float id = 127.0f / amax;
        if (!(id < INFINITY)) id = 0.0f; /* as the reference */
        const uint16_t dh = hy_float_to_half(d);
        memcpy(y, &dh, 2);
        int32x4_t q[8];
        for (int k = 0; k < 8; k++) q[k] = vcvtnq_s32_f32(vmulq_n_f32(v[k], id));
        vst1q_s8((int8_t *)(y + 2), narrow16(q[0], q[1], q[2], q[3]));
        vst1q_s8((int8_t *)(y + 18), narrow16(q[4], q[5], q[6], q[7]));
    }
}

/* The first element of x[0..256) whose magnitude is amax (there is one). */
static float first_of_magnitude(const float *x, float amax) {
    const float32x4_t am = vdupq_n_f32(amax);
    for (int k = 0; k < 256; k += 4)
        if (vmaxvq_u32(vceqq_f32(vabsq_f32(vld1q_f32(x + k)), am)))
            for (int j = k; j < k + 4; j++)
                if (fabsf(x[j]) == amax) return x[j];
    return 0.0f; /* unreachable for amax taken from x */
}

void hy_neon_quantize_q8_K(const float *x, void *vy, int64_t n) {
    uint8_t *y = vy;
    for (int64_t b = 0; b < n / 256; b++, x += 256, y += 292) {
        float32x4_t m = vdupq_n_f32(0.0f);
        for (int k = 0; k < 256; k += 4) m = vmaxnmq_f32(m, vabsq_f32(vld1q_f32(x + k)));
        const float amax = vmaxnmvq_f32(m);
        const float max = amax > 0.0f ? first_of_magnitude(x, amax) : 0.0f;
        int16_t bsums[16];
        const float iscale = -127.0f / max;
        if (amax == 0.0f || !(fabsf(iscale) < INFINITY)) { /* as the reference: all zeros */
            const float zero = 0.0f;
            memcpy(y, &zero, 4);
            memset(y + HY_Q8_K_QS, 0, 256);
            memset(bsums, 0, sizeof bsums);
        } else {
            const int32x4_t top = vdupq_n_s32(127); /* the far side may round to 128: clamped */
            for (int g = 0; g < 16; g++) {
                int32x4_t q[4];
                for (int k = 0; k < 4; k++)
                    q[k] = vminq_s32(vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(x + 16 * g + 4 * k), iscale)), top);
                const int8x16_t bytes = narrow16(q[0], q[1], q[2], q[3]);
                vst1q_s8((int8_t *)(y + HY_Q8_K_QS + 16 * g), bytes);
                bsums[g] = (int16_t)vaddlvq_s8(bytes);
            }
            const float d = 1.0f / iscale;
            memcpy(y, &d, 4);
        }
        memcpy(y + HY_Q8_K_BSUMS, bsums, sizeof bsums);
    }
}
