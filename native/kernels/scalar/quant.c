/*
 * quant.c (scalar) — the reference activation quantizers and row dot products
 * of the "quant" group. Written for clarity; SIMD versions are held to these.
 *
 * Dot products: the integer sum inside each block (or super-block) is exact;
 * the per-block float terms are accumulated in double so the reference is the
 * more exact side of any comparison.
 */
#include <math.h>
#include <string.h>

#include "kernels/fp16.h"
#include "kernels/kernels.h"
#include "kernels/quant.h"
#include "kernels/scalar/scalar_kernels.h"

/* ---- activation quantizers ---- */

void hy_scalar_quantize_q8_0(const float *x, void *vy, int64_t n) {
    uint8_t *y = vy;
    for (int64_t b = 0; b < n / 32; b++, x += 32, y += 34) {
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) {
            const float a = fabsf(x[j]);
            if (a > amax) amax = a;
        }
        const float d = amax / 127.0f;
        float id = 127.0f / amax;
        if (!(id < INFINITY)) id = 0.0f; /* amax zero (or so tiny that 127/amax overflows): all zeros */
        const uint16_t dh = hy_float_to_half(d);
        memcpy(y, &dh, 2);
        for (int j = 0; j < 32; j++) y[2 + j] = (uint8_t)(int8_t)hy_nearest_int(x[j] * id);
    }
}

void hy_scalar_quantize_q8_K(const float *x, void *vy, int64_t n) {
    uint8_t *y = vy;
    for (int64_t b = 0; b < n / 256; b++, x += 256, y += 292) {
        /* the element of largest magnitude (the first one on ties) */
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < 256; j++) {
            const float a = fabsf(x[j]);
            if (a > amax) {
                amax = a;
                max = x[j];
            }
        }
        int8_t *qs = (int8_t *)(y + HY_Q8_K_QS);
        int16_t bsums[16];
        /* the largest magnitude maps to -127; the other side may reach +128
         * and is clamped to 127 */
        const float iscale = -127.0f / max;
        if (amax == 0.0f || !(fabsf(iscale) < INFINITY)) { /* zero, or too tiny to scale: all zeros */
            const float zero = 0.0f;
            memcpy(y, &zero, 4);
            memset(qs, 0, 256);
            memset(bsums, 0, sizeof bsums);
        } else {
            for (int j = 0; j < 256; j++) {
                const int v = hy_nearest_int(iscale * x[j]);
                qs[j] = (int8_t)(v < 127 ? v : 127);
            }
            for (int g = 0; g < 16; g++) {
                int sum = 0;
                for (int j = 0; j < 16; j++) sum += qs[16 * g + j];
                bsums[g] = (int16_t)sum;
            }
            const float d = 1.0f / iscale;
            memcpy(y, &d, 4);
        }
        memcpy(y + HY_Q8_K_BSUMS, bsums, sizeof bsums);
    }
}

/* ---- dot products ---- */

static float dot_f32(const void *w, const void *x, int64_t n) {
    const float *a = w, *b = x;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += (double)a[i] * (double)b[i];
    return (float)sum;
}

static float dot_f16(const void *w, const void *x, int64_t n) {
    const uint8_t *a = w;
    const float *b = x;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += (double)hy_load_f16(a + 2 * i) * (double)b[i];
    return (float)sum;
}

static float dot_bf16(const void *w, const void *x, int64_t n) {
    const uint8_t *a = w;
    const float *b = x;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += (double)hy_bf16_to_float(hy_load_u16(a + 2 * i)) * (double)b[i];
    return (float)sum;
}

static float dot_q4_0(const void *w, const void *x, int64_t n) {
    const uint8_t *pw = w, *px = x;
    double sum = 0.0;
    for (int64_t b = 0; b < n / 32; b++, pw += 18, px += 34) {
        const uint8_t *qs = pw + HY_Q4_0_QS;
        const int8_t *y = (const int8_t *)(px + HY_Q8_0_QS);
        int isum = 0;
        for (int j = 0; j < 16; j++) isum += ((qs[j] & 0x0F) - 8) * y[j] + ((qs[j] >> 4) - 8) * y[j + 16];
        sum += (double)(hy_load_f16(pw) * hy_load_f16(px)) * (double)isum;
    }
    return (float)sum;
}

static float dot_q8_0(const void *w, const void *x, int64_t n) {
    const uint8_t *pw = w, *px = x;
    double sum = 0.0;
    for (int64_t b = 0; b < n / 32; b++, pw += 34, px += 34) {
        const int8_t *q = (const int8_t *)(pw + HY_Q8_0_QS), *y = (const int8_t *)(px + HY_Q8_0_QS);
        int isum = 0;
        for (int j = 0; j < 32; j++) isum += q[j] * y[j];
        sum += (double)(hy_load_f16(pw) * hy_load_f16(px)) * (double)isum;
    }
    return (float)sum;
}

/* The sum of Q8_K activations over sub-block j (32 elements) from bsums. */
static inline int q8k_sum32(const uint8_t *px, int j) {
    int16_t bs[2];
    memcpy(bs, px + HY_Q8_K_BSUMS + 4 * j, sizeof bs);
    return bs[0] + bs[1];
}

/* Q4_K / Q5_K share the super-block algebra:
 * sum = dy * (d * sum_j sc_j * dot_j  -  dmin * sum_j m_j * ysum_j) */
static float dot_q4_K(const void *w, const void *x, int64_t n) {
    const uint8_t *pw = w, *px = x;
    double sum = 0.0;
    for (int64_t b = 0; b < n / 256; b++, pw += 144, px += 292) {
        const uint8_t *q = pw + HY_Q4_K_QS;
        const int8_t *y = (const int8_t *)(px + HY_Q8_K_QS);
        int isum = 0, msum = 0;
        for (int c = 0; c < 4; c++, q += 32, y += 64) {
            uint8_t sc0, m0, sc1, m1;
            hy_k4_scale_min(pw + HY_QK_SCALES, 2 * c, &sc0, &m0);
            hy_k4_scale_min(pw + HY_QK_SCALES, 2 * c + 1, &sc1, &m1);
            int lo = 0, hi = 0;
            for (int l = 0; l < 32; l++) {
                lo += (q[l] & 0x0F) * y[l];
                hi += (q[l] >> 4) * y[l + 32];
            }
            isum += sc0 * lo + sc1 * hi;
            msum += m0 * q8k_sum32(px, 2 * c) + m1 * q8k_sum32(px, 2 * c + 1);
        }
        const double dy = hy_load_f32(px + HY_Q8_K_D);
        sum += dy * ((double)hy_load_f16(pw + HY_QK_D) * isum - (double)hy_load_f16(pw + HY_QK_DMIN) * msum);
    }
    return (float)sum;
}

static float dot_q5_K(const void *w, const void *x, int64_t n) {
    const uint8_t *pw = w, *px = x;
    double sum = 0.0;
    for (int64_t b = 0; b < n / 256; b++, pw += 176, px += 292) {
        const uint8_t *ql = pw + HY_Q5_K_QS, *qh = pw + HY_Q5_K_QH;
        const int8_t *y = (const int8_t *)(px + HY_Q8_K_QS);
        int isum = 0, msum = 0;
        for (int c = 0; c < 4; c++, ql += 32, y += 64) {
            uint8_t sc0, m0, sc1, m1;
            hy_k4_scale_min(pw + HY_QK_SCALES, 2 * c, &sc0, &m0);
            hy_k4_scale_min(pw + HY_QK_SCALES, 2 * c + 1, &sc1, &m1);
            int lo = 0, hi = 0;
            for (int l = 0; l < 32; l++) {
                lo += ((ql[l] & 0x0F) | (((qh[l] >> (2 * c)) & 1) << 4)) * y[l];
                hi += ((ql[l] >> 4) | (((qh[l] >> (2 * c + 1)) & 1) << 4)) * y[l + 32];
            }
            isum += sc0 * lo + sc1 * hi;
            msum += m0 * q8k_sum32(px, 2 * c) + m1 * q8k_sum32(px, 2 * c + 1);
        }
        const double dy = hy_load_f32(px + HY_Q8_K_D);
        sum += dy * ((double)hy_load_f16(pw + HY_QK_D) * isum - (double)hy_load_f16(pw + HY_QK_DMIN) * msum);
    }
    return (float)sum;
}

static float dot_q6_K(const void *w, const void *x, int64_t n) {
    const uint8_t *pw = w, *px = x;
    double sum = 0.0;
    for (int64_t b = 0; b < n / 256; b++, pw += 210, px += 292) {
        const uint8_t *ql = pw + HY_Q6_K_QL, *qh = pw + HY_Q6_K_QH;
        const int8_t *sc = (const int8_t *)(pw + HY_Q6_K_SCALES);
        const int8_t *y = (const int8_t *)(px + HY_Q8_K_QS);
        int isum = 0;
        for (int h = 0; h < 2; h++, ql += 64, qh += 32, sc += 8, y += 128) {
            int part[8] = { 0 }; /* one sum per 16-element sub-block of this half */
            for (int l = 0; l < 32; l++) {
                const int is = l / 16;
                part[is + 0] += (((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32) * y[l];
                part[is + 2] += (((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32) * y[l + 32];
                part[is + 4] += (((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32) * y[l + 64];
                part[is + 6] += (((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32) * y[l + 96];
            }
            for (int s = 0; s < 8; s++) isum += sc[s] * part[s];
        }
        sum += (double)(hy_load_f16(pw + HY_Q6_K_D) * hy_load_f32(px + HY_Q8_K_D)) * (double)isum;
    }
    return (float)sum;
}

const hy_quant_kernels hy_quant_kernels_scalar = {
    .dot = {
        [HY_W_F32] = dot_f32, [HY_W_F16] = dot_f16, [HY_W_BF16] = dot_bf16,
        [HY_W_Q4_0] = dot_q4_0, [HY_W_Q8_0] = dot_q8_0,
        [HY_W_Q4_K] = dot_q4_K, [HY_W_Q5_K] = dot_q5_K, [HY_W_Q6_K] = dot_q6_K,
    },
    .quantize_q8_0 = hy_scalar_quantize_q8_0,
    .quantize_q8_K = hy_scalar_quantize_q8_K,
};

hy_dot_fn hy_scalar_dot(int wtype) {
    return hy_quant_kernels_scalar.dot[wtype];
}
