/*
 * simd.h — small AArch64 Advanced SIMD (NEON) helpers shared by the neon
 * kernel units (included only from native/kernels/neon/, compiled for
 * aarch64 only).
 *
 * Two builds of the integer kernels exist: plain NEON (every AArch64 CPU) and
 * the dot-product extension (SDOT, Armv8.2 "dotprod", compiled with
 * -march=armv8.2-a+dotprod in the neon_dotprod source group). A unit defines
 * HY_NEON_DOTPROD to 0 or 1 before including this header; only hy_dot_s8
 * differs between the two, so both builds share every other line.
 */
#ifndef HYPERION_NEON_SIMD_H
#define HYPERION_NEON_SIMD_H

#include <arm_neon.h>
#include <stdint.h>
#include <string.h>

#ifndef HY_NEON_DOTPROD
#error "define HY_NEON_DOTPROD (0 or 1) before including kernels/neon/simd.h"
#endif
#if HY_NEON_DOTPROD && !defined(__ARM_FEATURE_DOTPROD)
#error "the dotprod units must be compiled with -march=armv8.2-a+dotprod (source group neon_dotprod)"
#endif

#define HY_INLINE static inline __attribute__((always_inline))

/* acc + the products of 16 int8 pairs. The lanes of the result hold partial
 * sums that differ between the two builds (SDOT: bytes 4i..4i+3 in lane i;
 * plain: pairs of widened products), so callers only use the lane total or
 * scale whole vectors. Exact: |a * b| <= 2^14, each lane gains at most 2^16. */
HY_INLINE int32x4_t hy_dot_s8(int32x4_t acc, int8x16_t a, int8x16_t b) {
#if HY_NEON_DOTPROD
    return vdotq_s32(acc, a, b);
#else
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(a), vget_low_s8(b)));
    return vpadalq_s16(acc, vmull_high_s8(a, b));
#endif
}

/* Loads from byte pointers: GGUF rows and KV-cache rows carry no alignment
 * guarantee for their element type, and LD1 of bytes needs none. */
HY_INLINE float32x4_t hy_ld_f32x4(const uint8_t *p) { return vreinterpretq_f32_u8(vld1q_u8(p)); }
HY_INLINE int8x16_t hy_ld_s8x16(const uint8_t *p) { return vreinterpretq_s8_u8(vld1q_u8(p)); }
HY_INLINE int16x8_t hy_ld_s16x8(const uint8_t *p) { return vreinterpretq_s16_u8(vld1q_u8(p)); }

/* 4 F16 values at p as floats (FCVTL: exact, NaNs quieted as hy_half_to_float). */
HY_INLINE float32x4_t hy_ld_f16x4(const uint8_t *p) {
    return vcvt_f32_f16(vreinterpret_f16_u8(vld1_u8(p)));
}

/* 4 BF16 values at p as floats (the top halves of binary32: exact). */
HY_INLINE float32x4_t hy_ld_bf16x4(const uint8_t *p) {
    return vreinterpretq_f32_u32(vshll_n_u16(vreinterpret_u16_u8(vld1_u8(p)), 16));
}

/* One F16 value at p (any alignment) as float, with the scalar FCVT. */
HY_INLINE float hy_f16_at(const uint8_t *p) {
    __fp16 h;
    memcpy(&h, p, 2);
    return (float)h;
}

HY_INLINE float hy_f32_at(const uint8_t *p) {
    float v;
    memcpy(&v, p, 4);
    return v;
}

/* The sum of eight accumulators' lanes, as a balanced tree. */
HY_INLINE float hy_sum8_f32x4(const float32x4_t a[8]) {
    const float32x4_t s01 = vaddq_f32(a[0], a[1]), s23 = vaddq_f32(a[2], a[3]);
    const float32x4_t s45 = vaddq_f32(a[4], a[5]), s67 = vaddq_f32(a[6], a[7]);
    return vaddvq_f32(vaddq_f32(vaddq_f32(s01, s23), vaddq_f32(s45, s67)));
}

/* Element loads for the float dot products: F32 (KIND 0), F16 (1), BF16 (2). */
enum { HY_NEON_F32 = 0, HY_NEON_F16 = 1, HY_NEON_BF16 = 2 };

HY_INLINE float32x4_t hy_ld_kind4(int KIND, const uint8_t *p, int64_t i) {
    if (KIND == HY_NEON_F16) return hy_ld_f16x4(p + 2 * i);
    if (KIND == HY_NEON_BF16) return hy_ld_bf16x4(p + 2 * i);
    return hy_ld_f32x4(p + 4 * i);
}

HY_INLINE float hy_at_kind(int KIND, const uint8_t *p, int64_t i) {
    if (KIND == HY_NEON_F16) return hy_f16_at(p + 2 * i);
    if (KIND == HY_NEON_BF16) {
        uint16_t h;
        memcpy(&h, p + 2 * i, 2);
        const uint32_t u = (uint32_t)h << 16;
        float f;
        memcpy(&f, &u, 4);
        return f;
    }
    return hy_f32_at(p + 4 * i);
}

/* sum of w[i] * x[i], i < n, w of KIND at a byte pointer. Eight accumulators
 * (32 lanes) hide the FMA latency and keep each lane's share of the rounding
 * to n / 32 terms. */
HY_INLINE float hy_neon_dot_kind(int KIND, const uint8_t *w, const float *x, int64_t n) {
    float32x4_t acc[8];
    for (int k = 0; k < 8; k++) acc[k] = vdupq_n_f32(0.0f);
    int64_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int k = 0; k < 8; k++) acc[k] = vfmaq_f32(acc[k], hy_ld_kind4(KIND, w, i + 4 * k), vld1q_f32(x + i + 4 * k));
    for (int k = 0; i + 4 <= n; i += 4, k = (k + 1) & 7)
        acc[k] = vfmaq_f32(acc[k], hy_ld_kind4(KIND, w, i), vld1q_f32(x + i));
    float sum = hy_sum8_f32x4(acc);
    for (; i < n; i++) sum += hy_at_kind(KIND, w, i) * x[i];
    return sum;
}

#endif
