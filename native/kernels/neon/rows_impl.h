/*
 * rows_impl.h — NEON row dot products of every weight type against the
 * activation format it pairs with (kernels/quant.h), the same inputs and
 * semantics as the scalar reference (kernels/scalar/quant.c). Included by the
 * neon "quant" and "matmul" units, plain and dotprod (HY_NEON_DOTPROD).
 *
 * Integer block sums are exact, as in the reference: int8 products summed in
 * int32 lanes (hy_dot_s8: SDOT or widening multiplies). Only the per-block
 * float terms are rounded differently: Q4_0 / Q8_0 put four blocks' terms in
 * the four lanes of one of two float accumulators (each lane sums n/256
 * terms); the K-quants add one float term per 256-element super-block.
 */
#ifndef HYPERION_NEON_ROWS_IMPL_H
#define HYPERION_NEON_ROWS_IMPL_H

#include "kernels/kernels.h"
#include "kernels/neon/simd.h"
#include "kernels/quant.h"

/* ---- float weights against F32 activations ---- */

static float neon_dot_f32(const void *w, const void *x, int64_t n) { return hy_neon_dot_kind(HY_NEON_F32, w, x, n); }
static float neon_dot_f16(const void *w, const void *x, int64_t n) { return hy_neon_dot_kind(HY_NEON_F16, w, x, n); }
static float neon_dot_bf16(const void *w, const void *x, int64_t n) { return hy_neon_dot_kind(HY_NEON_BF16, w, x, n); }

/* ---- Q4_0 (KIND 0) / Q8_0 (KIND 1) against Q8_0 ---- */

/* The integer dot of one 32-element block as int32 lanes (their total counts). */
HY_INLINE int32x4_t q0_block(int KIND, const uint8_t *bw, const uint8_t *bx) {
    const int8x16_t y0 = hy_ld_s8x16(bx + HY_Q8_0_QS), y1 = hy_ld_s8x16(bx + HY_Q8_0_QS + 16);
    int8x16_t w0, w1;
    if (KIND == 0) { /* elements 0..15: low nibbles, 16..31: high nibbles; minus 8 */
        const uint8x16_t q = vld1q_u8(bw + HY_Q4_0_QS);
        const int8x16_t eight = vdupq_n_s8(8);
        w0 = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(0x0F))), eight);
        w1 = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), eight);
    } else {
        w0 = hy_ld_s8x16(bw + HY_Q8_0_QS);
        w1 = hy_ld_s8x16(bw + HY_Q8_0_QS + 16);
    }
    return hy_dot_s8(hy_dot_s8(vdupq_n_s32(0), w0, y0), w1, y1);
}

HY_INLINE float dot_q0(int KIND, const uint8_t *pw, const uint8_t *px, int64_t nb) {
    const int bs = KIND == 0 ? 18 : 34;
    float32x4_t acc[2] = { vdupq_n_f32(0.0f), vdupq_n_f32(0.0f) };
    int64_t b = 0;
    for (; b + 4 <= nb; b += 4) {
        int32x4_t s[4];
        float d[4];
        for (int k = 0; k < 4; k++) {
            const uint8_t *bw = pw + (b + k) * bs, *bx = px + (b + k) * 34;
            s[k] = q0_block(KIND, bw, bx);
            d[k] = hy_f16_at(bw) * hy_f16_at(bx); /* exact: two 11-bit significands */
        }
        /* lane k = the total of s[k] */
        const int32x4_t isum = vpaddq_s32(vpaddq_s32(s[0], s[1]), vpaddq_s32(s[2], s[3]));
        acc[(b >> 2) & 1] = vfmaq_f32(acc[(b >> 2) & 1], vld1q_f32(d), vcvtq_f32_s32(isum)); /* |isum| < 2^24: exact */
    }
    float sum = vaddvq_f32(vaddq_f32(acc[0], acc[1]));
    for (; b < nb; b++) {
        const uint8_t *bw = pw + b * bs, *bx = px + b * 34;
        sum += hy_f16_at(bw) * hy_f16_at(bx) * (float)vaddvq_s32(q0_block(KIND, bw, bx));
    }
    return sum;
}

static float neon_dot_q4_0(const void *w, const void *x, int64_t n) { return dot_q0(0, w, x, n / 32); }
static float neon_dot_q8_0(const void *w, const void *x, int64_t n) { return dot_q0(1, w, x, n / 32); }

/* ---- K-quants against Q8_K ---- */

/* The eight 6-bit scales and mins of a Q4_K / Q5_K scales[12] field, four at a
 * time in 32-bit words (the layout hy_k4_scale_min reads byte by byte):
 * sub-blocks 0..3 keep their low 6 bits in bytes 0..3 (scales) and 4..7
 * (mins); sub-blocks 4..7 keep their low 4 bits in bytes 8..11 (scale: low
 * nibble, min: high nibble) and their top 2 bits in the top bits of bytes
 * 0..3 (scales) and 4..7 (mins). */
HY_INLINE void k4_unpack_scales(const uint8_t *s, uint8_t sc[8], uint8_t mn[8]) {
    uint32_t a, b, c;
    memcpy(&a, s, 4);
    memcpy(&b, s + 4, 4);
    memcpy(&c, s + 8, 4);
    const uint32_t lo6 = 0x3F3F3F3Fu, lo4 = 0x0F0F0F0Fu, lo2 = 0x03030303u;
    const uint32_t w[4] = { a & lo6, (c & lo4) | (((a >> 6) & lo2) << 4), b & lo6, ((c >> 4) & lo4) | (((b >> 6) & lo2) << 4) };
    memcpy(sc, w, 8);
    memcpy(mn, w + 2, 8);
}

/* sum over the eight sub-blocks of mn[j] * (sum of the 32 activations of
 * sub-block j), from the Q8_K block's bsums (sums of 16) */
HY_INLINE int32_t k4_min_sum(const uint8_t *bx, const uint8_t mn[8]) {
    const int16x8_t ys = vpaddq_s16(hy_ld_s16x8(bx + HY_Q8_K_BSUMS), hy_ld_s16x8(bx + HY_Q8_K_BSUMS + 16));
    const int16x8_t m = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(mn)));
    return vaddvq_s32(vmlal_high_s16(vmull_s16(vget_low_s16(ys), vget_low_s16(m)), ys, m));
}

/* One Q4_K (FIVE 0) or Q5_K (FIVE 1) super-block: its float term
 * dy * (d * sum_j sc_j * dot_j - dmin * sum_j m_j * ysum_j). */
HY_INLINE float k45_block(int FIVE, const uint8_t *bw, const uint8_t *bx) {
    uint8_t sc[8], mn[8];
    k4_unpack_scales(bw + HY_QK_SCALES, sc, mn);
    const int32_t msum = k4_min_sum(bx, mn);
    const uint8_t *q = bw + (FIVE ? HY_Q5_K_QS : HY_Q4_K_QS);
    const uint8_t *y = bx + HY_Q8_K_QS;
    const uint8x16_t low4 = vdupq_n_u8(0x0F), bit4 = vdupq_n_u8(0x10);
    /* Q5_K: the fifth bits; chunk c reads bits 2c (low nibbles) and 2c+1 */
    uint8x16_t h0 = vdupq_n_u8(0), h1 = vdupq_n_u8(0);
    if (FIVE) {
        h0 = vld1q_u8(bw + HY_Q5_K_QH);
        h1 = vld1q_u8(bw + HY_Q5_K_QH + 16);
    }
    int32x4_t acc = vdupq_n_s32(0);
    for (int c = 0; c < 4; c++, q += 32, y += 64) {
        const uint8x16_t q0 = vld1q_u8(q), q1 = vld1q_u8(q + 16);
        uint8x16_t a0 = vandq_u8(q0, low4), a1 = vandq_u8(q1, low4); /* sub-block 2c */
        uint8x16_t b0 = vshrq_n_u8(q0, 4), b1 = vshrq_n_u8(q1, 4);   /* sub-block 2c + 1 */
        if (FIVE) {
            a0 = vorrq_u8(a0, vandq_u8(vshlq_n_u8(h0, 4), bit4));
            a1 = vorrq_u8(a1, vandq_u8(vshlq_n_u8(h1, 4), bit4));
            b0 = vorrq_u8(b0, vandq_u8(vshlq_n_u8(h0, 3), bit4));
            b1 = vorrq_u8(b1, vandq_u8(vshlq_n_u8(h1, 3), bit4));
            h0 = vshrq_n_u8(h0, 2);
            h1 = vshrq_n_u8(h1, 2);
        }
        /* levels are 0..31: as int8 they are the same numbers */
        int32x4_t lo = hy_dot_s8(vdupq_n_s32(0), vreinterpretq_s8_u8(a0), hy_ld_s8x16(y));
        lo = hy_dot_s8(lo, vreinterpretq_s8_u8(a1), hy_ld_s8x16(y + 16));
        int32x4_t hi = hy_dot_s8(vdupq_n_s32(0), vreinterpretq_s8_u8(b0), hy_ld_s8x16(y + 32));
        hi = hy_dot_s8(hi, vreinterpretq_s8_u8(b1), hy_ld_s8x16(y + 48));
        acc = vmlaq_n_s32(acc, lo, sc[2 * c]);
        acc = vmlaq_n_s32(acc, hi, sc[2 * c + 1]);
    }
    const int32_t isum = vaddvq_s32(acc);
    const float dy = hy_f32_at(bx + HY_Q8_K_D);
    return dy * (hy_f16_at(bw + HY_QK_D) * (float)isum - hy_f16_at(bw + HY_QK_DMIN) * (float)msum);
}

static float neon_dot_q4_K(const void *w, const void *x, int64_t n) {
    const uint8_t *pw = w, *px = x;
    float sum = 0.0f;
    for (int64_t b = 0; b < n / 256; b++) sum += k45_block(0, pw + b * 144, px + b * 292);
    return sum;
}

static float neon_dot_q5_K(const void *w, const void *x, int64_t n) {
    const uint8_t *pw = w, *px = x;
    float sum = 0.0f;
    for (int64_t b = 0; b < n / 256; b++) sum += k45_block(1, pw + b * 176, px + b * 292);
    return sum;
}

/* One Q6_K super-block: (d * dy) * sum over 16-element groups of
 * scale * sum (q - 32) * y. */
HY_INLINE float q6k_block(const uint8_t *bw, const uint8_t *bx) {
    const uint8_t *ql = bw + HY_Q6_K_QL, *qh = bw + HY_Q6_K_QH;
    const int8_t *sc = (const int8_t *)(bw + HY_Q6_K_SCALES);
    const uint8_t *y = bx + HY_Q8_K_QS;
    const uint8x16_t low4 = vdupq_n_u8(0x0F), two = vdupq_n_u8(0x30);
    const int8x16_t off = vdupq_n_s8(32);
    int32x4_t acc = vdupq_n_s32(0);
    for (int h = 0; h < 2; h++, ql += 64, qh += 32, sc += 8, y += 128) {
        for (int g = 0; g < 2; g++) { /* elements l in [16g, 16g + 16) of each quarter */
            const uint8x16_t la = vld1q_u8(ql + 16 * g), lb = vld1q_u8(ql + 32 + 16 * g);
            const uint8x16_t hb = vld1q_u8(qh + 16 * g);
            /* the four quarters: low/high nibbles of la/lb with two bits of hb each */
            const uint8x16_t q1 = vorrq_u8(vandq_u8(la, low4), vandq_u8(vshlq_n_u8(hb, 4), two));
            const uint8x16_t q2 = vorrq_u8(vandq_u8(lb, low4), vandq_u8(vshlq_n_u8(hb, 2), two));
            const uint8x16_t q3 = vorrq_u8(vshrq_n_u8(la, 4), vandq_u8(hb, two));
            const uint8x16_t q4 = vorrq_u8(vshrq_n_u8(lb, 4), vandq_u8(vshrq_n_u8(hb, 2), two));
            const int32x4_t z = vdupq_n_s32(0);
            const int32x4_t d1 = hy_dot_s8(z, vsubq_s8(vreinterpretq_s8_u8(q1), off), hy_ld_s8x16(y + 16 * g));
            const int32x4_t d2 = hy_dot_s8(z, vsubq_s8(vreinterpretq_s8_u8(q2), off), hy_ld_s8x16(y + 32 + 16 * g));
            const int32x4_t d3 = hy_dot_s8(z, vsubq_s8(vreinterpretq_s8_u8(q3), off), hy_ld_s8x16(y + 64 + 16 * g));
            const int32x4_t d4 = hy_dot_s8(z, vsubq_s8(vreinterpretq_s8_u8(q4), off), hy_ld_s8x16(y + 96 + 16 * g));
            acc = vmlaq_n_s32(acc, d1, sc[g + 0]);
            acc = vmlaq_n_s32(acc, d2, sc[g + 2]);
            acc = vmlaq_n_s32(acc, d3, sc[g + 4]);
            acc = vmlaq_n_s32(acc, d4, sc[g + 6]);
        }
    }
    return hy_f16_at(bw + HY_Q6_K_D) * hy_f32_at(bx + HY_Q8_K_D) * (float)vaddvq_s32(acc);
}

static float neon_dot_q6_K(const void *w, const void *x, int64_t n) {
    const uint8_t *pw = w, *px = x;
    float sum = 0.0f;
    for (int64_t b = 0; b < n / 256; b++) sum += q6k_block(pw + b * 210, px + b * 292);
    return sum;
}

#endif
