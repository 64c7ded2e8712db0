/*
 * quantize.c — the reference weight quantizers (hy_quantize_row), used by the
 * project's model maker to produce test models of every supported type.
 *
 * They do not reproduce llama.cpp's quantizer bit for bit; they produce valid
 * blocks with low error:
 *  - symmetric formats (Q4_0, Q6_K sub-blocks): several candidate scales around
 *    "largest magnitude -> the widest level", each followed by the least-squares
 *    scale for the levels it picked; the best (lowest squared error) wins;
 *  - affine formats (Q4_K, Q5_K sub-blocks of 32: x ~ a * q - m): candidate
 *    step sizes over [min(x, 0), max(x)], each with the least-squares (a, m)
 *    for its levels (m >= 0, as the format requires), best error wins;
 *  - the per-sub-block scales are then quantized (6 bits for Q4_K / Q5_K,
 *    int8 for Q6_K) and the elements re-quantized with the scales actually
 *    stored, so rounding of the scales is compensated where it can be.
 * Everything is deterministic (no threads, no randomness).
 */
#include <math.h>
#include <string.h>

#include "kernels/fp16.h"
#include "kernels/quant.h"
#include "kernels/scalar/scalar_kernels.h"

/* Round v to the nearest integer in [lo, hi]; NaN gives lo. Branch-free
 * (min/max), so the search loops vectorize. */
static inline int round_clamp(float v, int lo, int hi) {
    v = v > (float)lo ? v : (float)lo;
    v = v < (float)hi ? v : (float)hi;
    return hy_nearest_int(v);
}

static inline void store_u16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }

/* ---- symmetric fit: x ~ d * L, L in [qmin, qmax] (qmin = -(qmax + 1)) ---- */

/* Levels for scale d into L; returns (sum x*L)^2 / sum L^2, the error reduction
 * of the least-squares scale for these levels, and that scale in *d_ls. */
static double sym_levels(const float *x, int n, float inv, int qmin, int qmax, int8_t *L, float *d_ls) {
    /* n is 16 or 32; four partial sums keep the add latency chains short,
     * float is plenty for ranking candidates */
    float px[4] = { 0 }, pl[4] = { 0 };
    for (int j = 0; j < n; j += 4)
        for (int k = 0; k < 4; k++) {
            const int l = round_clamp(x[j + k] * inv, qmin, qmax);
            L[j + k] = (int8_t)l;
            px[k] += x[j + k] * (float)l;
            pl[k] += (float)(l * l);
        }
    const float slx = (px[0] + px[1]) + (px[2] + px[3]), sll = (pl[0] + pl[1]) + (pl[2] + pl[3]);
    if (sll <= 0.0f) {
        *d_ls = 0.0f;
        return 0.0;
    }
    *d_ls = slx / sll;
    return (double)slx * slx / sll;
}

static float fit_symmetric(const float *x, int n, int qmin, int qmax, int8_t *L) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < n; j++) {
        const float a = fabsf(x[j]);
        if (a > amax) {
            amax = a;
            max = x[j];
        }
    }
    memset(L, 0, (size_t)n);
    if (!(amax > 0.0f) || !isfinite(amax)) return 0.0f;
    int8_t cand[256];
    double best = 0.0;
    float best_d = 0.0f;
    /* the largest magnitude lands near the wide (negative) end or the positive end */
    for (int side = 0; side < 2; side++) {
        const int steps = side == 0 ? 6 : 3; /* the wide end is the usual winner: search it more */
        for (int step = -steps; step <= steps; step++) {
            const float levels = (side == 0 ? (float)-qmin : (float)qmax) + 0.15f * (float)step;
            const float inv = (side == 0 ? -levels : levels) / max;
            float d;
            const double score = sym_levels(x, n, inv, qmin, qmax, cand, &d);
            if (score > best) {
                best = score;
                best_d = d;
                memcpy(L, cand, (size_t)n);
            }
        }
    }
    /* one more pass: the levels the least-squares scale itself picks */
    if (best_d != 0.0f) {
        float d;
        const double score = sym_levels(x, n, 1.0f / best_d, qmin, qmax, cand, &d);
        if (score > best) {
            best_d = d;
            memcpy(L, cand, (size_t)n);
        }
    }
    return best_d;
}

/* ---- affine fit: x ~ a * L - m, L in [0, nmax], a >= 0, m >= 0 ---- */

/* Least-squares (a, b) of x ~ a * L + b with b <= 0 for the given levels;
 * returns the squared error. */
static double affine_ls(const float *x, const uint8_t *L, int n, float *a_out, float *b_out) {
    /* n is 32; four partial sums of each keep the add latency chains short */
    float p1[4] = { 0 }, p2[4] = { 0 }, p3[4] = { 0 }, p4[4] = { 0 };
    for (int j = 0; j < n; j += 4)
        for (int k = 0; k < 4; k++) {
            p1[k] += (float)L[j + k];
            p2[k] += (float)(L[j + k] * L[j + k]);
            p3[k] += x[j + k];
            p4[k] += (float)L[j + k] * x[j + k];
        }
    const double sl = (p1[0] + p1[1]) + (p1[2] + p1[3]), sll = (p2[0] + p2[1]) + (p2[2] + p2[3]);
    const double sx = (p3[0] + p3[1]) + (p3[2] + p3[3]), slx = (p4[0] + p4[1]) + (p4[2] + p4[3]);
    double a, b;
    const double det = n * sll - sl * sl;
    if (det > 0.0) {
        a = (n * slx - sl * sx) / det;
        b = (sll * sx - sl * slx) / det;
    } else {
        a = 0.0;
        b = sx / n;
    }
    if (b > 0.0) { /* the format can only subtract: best a with b = 0 */
        b = 0.0;
        a = sll > 0.0 ? slx / sll : 0.0;
    }
    if (a < 0.0) a = 0.0;
    const float fa = (float)a, fb = (float)b;
    float pe[4] = { 0 };
    for (int j = 0; j < n; j += 4)
        for (int k = 0; k < 4; k++) {
            const float e = fa * (float)L[j + k] + fb - x[j + k];
            pe[k] += e * e;
        }
    *a_out = fa;
    *b_out = fb;
    return (pe[0] + pe[1]) + (pe[2] + pe[3]);
}

static void fit_affine(const float *x, int n, int nmax, uint8_t *L, float *scale, float *min_out) {
    float lo = x[0], hi = x[0];
    for (int j = 1; j < n; j++) {
        if (x[j] < lo) lo = x[j];
        if (x[j] > hi) hi = x[j];
    }
    if (lo > 0.0f) lo = 0.0f;
    memset(L, 0, (size_t)n);
    *scale = 0.0f;
    *min_out = isfinite(lo) ? -lo : 0.0f;
    if (!(hi > lo) || !isfinite(hi - lo)) return;
    uint8_t cand[32];
    double best = INFINITY;
    for (int step = -6; step <= 6; step++) {
        const float inv = ((float)nmax + 0.15f * (float)step) / (hi - lo);
        for (int j = 0; j < n; j++) cand[j] = (uint8_t)round_clamp((x[j] - lo) * inv, 0, nmax);
        float a, b;
        const double err = affine_ls(x, cand, n, &a, &b);
        if (err < best) {
            best = err;
            *scale = a;
            *min_out = -b;
            memcpy(L, cand, (size_t)n);
        }
    }
    /* one more pass with the levels the best (a, b) picks */
    if (*scale > 0.0f) {
        const float inv = 1.0f / *scale;
        for (int j = 0; j < n; j++) cand[j] = (uint8_t)round_clamp((x[j] + *min_out) * inv, 0, nmax);
        float a, b;
        const double err = affine_ls(x, cand, n, &a, &b);
        if (err < best) {
            *scale = a;
            *min_out = -b;
            memcpy(L, cand, (size_t)n);
        }
    }
}

/* ---- per type ---- */

static void quantize_q4_0(const float *x, uint8_t *y, int64_t nb) {
    for (int64_t b = 0; b < nb; b++, x += 32, y += 18) {
        int8_t L[32];
        const uint16_t dh = hy_float_to_half(fit_symmetric(x, 32, -8, 7, L));
        const float d = hy_half_to_float(dh);
        store_u16(y, dh);
        for (int j = 0; j < 32; j++) /* re-quantize with the stored (rounded) scale */
            L[j] = (int8_t)(d != 0.0f && isfinite(d) ? round_clamp(x[j] / d, -8, 7) : 0);
        for (int j = 0; j < 16; j++) y[2 + j] = (uint8_t)((L[j] + 8) | ((L[j + 16] + 8) << 4));
    }
}

static void quantize_q8_0(const float *x, uint8_t *y, int64_t nb) {
    for (int64_t b = 0; b < nb; b++, x += 32, y += 34) {
        float amax = 0.0f;
        for (int j = 0; j < 32; j++)
            if (fabsf(x[j]) > amax) amax = fabsf(x[j]);
        const uint16_t dh = hy_float_to_half(isfinite(amax) ? amax / 127.0f : 0.0f);
        const float d = hy_half_to_float(dh);
        store_u16(y, dh);
        for (int j = 0; j < 32; j++) y[2 + j] = (uint8_t)(int8_t)(d != 0.0f ? round_clamp(x[j] / d, -127, 127) : 0);
    }
}

/* The 6-bit scales and mins of a Q4_K / Q5_K super-block into scales[12]
 * (the inverse of hy_k4_scale_min). */
static void pack_k4_scales(const uint8_t *ls, const uint8_t *lm, uint8_t *s) {
    memset(s, 0, 12);
    for (int j = 0; j < 8; j++) {
        if (j < 4) {
            s[j] = ls[j];
            s[j + 4] = lm[j];
        } else {
            s[j + 4] = (uint8_t)((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
            s[j - 4] |= (uint8_t)((ls[j] >> 4) << 6);
            s[j] |= (uint8_t)((lm[j] >> 4) << 6);
        }
    }
}

/* Shared by Q4_K (nmax 15) and Q5_K (nmax 31): fits the sub-blocks, writes d,
 * dmin and scales at y, and the final levels (0..nmax) into L[256]. */
static void quantize_k_affine(const float *x, uint8_t *y, int nmax, uint8_t *L) {
    float sc[8], mn[8], max_sc = 0.0f, max_mn = 0.0f;
    for (int j = 0; j < 8; j++) {
        fit_affine(x + 32 * j, 32, nmax, L + 32 * j, &sc[j], &mn[j]);
        if (sc[j] > max_sc) max_sc = sc[j];
        if (mn[j] > max_mn) max_mn = mn[j];
    }
    const uint16_t dh = hy_float_to_half(max_sc / 63.0f), dmh = hy_float_to_half(max_mn / 63.0f);
    const float d = hy_half_to_float(dh), dmin = hy_half_to_float(dmh);
    uint8_t ls[8], lm[8];
    for (int j = 0; j < 8; j++) {
        ls[j] = (uint8_t)(d > 0.0f ? round_clamp(sc[j] / d, 0, 63) : 0);
        lm[j] = (uint8_t)(dmin > 0.0f ? round_clamp(mn[j] / dmin, 0, 63) : 0);
    }
    store_u16(y + HY_QK_D, dh);
    store_u16(y + HY_QK_DMIN, dmh);
    pack_k4_scales(ls, lm, y + HY_QK_SCALES);
    for (int j = 0; j < 8; j++) { /* re-quantize with the stored scales */
        const float ds = d * ls[j], dm = dmin * lm[j];
        for (int l = 0; l < 32; l++)
            L[32 * j + l] = (uint8_t)(ds > 0.0f ? round_clamp((x[32 * j + l] + dm) / ds, 0, nmax) : 0);
    }
}

static void quantize_q4_K(const float *x, uint8_t *y, int64_t nb) {
    for (int64_t b = 0; b < nb; b++, x += 256, y += 144) {
        uint8_t L[256];
        quantize_k_affine(x, y, 15, L);
        uint8_t *q = y + HY_Q4_K_QS;
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++) q[32 * c + l] = (uint8_t)(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
    }
}

static void quantize_q5_K(const float *x, uint8_t *y, int64_t nb) {
    for (int64_t b = 0; b < nb; b++, x += 256, y += 176) {
        uint8_t L[256];
        quantize_k_affine(x, y, 31, L);
        uint8_t *qh = y + HY_Q5_K_QH, *ql = y + HY_Q5_K_QS;
        memset(qh, 0, 32);
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++) {
                const uint8_t lo = L[64 * c + l], hi = L[64 * c + 32 + l];
                ql[32 * c + l] = (uint8_t)((lo & 0xF) | ((hi & 0xF) << 4));
                qh[l] |= (uint8_t)(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
            }
    }
}

static void quantize_q6_K(const float *x, uint8_t *y, int64_t nb) {
    for (int64_t b = 0; b < nb; b++, x += 256, y += 210) {
        int8_t L[256];
        float sc[16], amax = 0.0f, max = 0.0f;
        for (int j = 0; j < 16; j++) {
            sc[j] = fit_symmetric(x + 16 * j, 16, -32, 31, L + 16 * j);
            if (fabsf(sc[j]) > amax) {
                amax = fabsf(sc[j]);
                max = sc[j];
            }
        }
        int8_t *scales = (int8_t *)(y + HY_Q6_K_SCALES);
        float d = 0.0f;
        uint16_t dh = 0;
        if (amax > 0.0f) {
            const float iscale = -128.0f / max; /* the largest scale maps to -128 */
            for (int j = 0; j < 16; j++) scales[j] = (int8_t)round_clamp(iscale * sc[j], -128, 127);
            dh = hy_float_to_half(1.0f / iscale);
            d = hy_half_to_float(dh);
        } else {
            memset(scales, 0, 16);
        }
        store_u16(y + HY_Q6_K_D, dh);
        for (int j = 0; j < 16; j++) { /* re-quantize with the stored scales */
            const float ds = d * scales[j];
            for (int l = 0; l < 16; l++)
                L[16 * j + l] = (int8_t)(ds != 0.0f ? round_clamp(x[16 * j + l] / ds, -32, 31) : 0);
        }
        uint8_t *ql = y + HY_Q6_K_QL, *qh = y + HY_Q6_K_QH;
        for (int h = 0; h < 2; h++)
            for (int l = 0; l < 32; l++) {
                const int q1 = L[128 * h + l] + 32, q2 = L[128 * h + l + 32] + 32;
                const int q3 = L[128 * h + l + 64] + 32, q4 = L[128 * h + l + 96] + 32;
                ql[64 * h + l] = (uint8_t)((q1 & 0xF) | ((q3 & 0xF) << 4));
                ql[64 * h + l + 32] = (uint8_t)((q2 & 0xF) | ((q4 & 0xF) << 4));
                qh[32 * h + l] = (uint8_t)((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
            }
    }
}

size_t hy_quantize_row(uint32_t type, const float *src, void *dst, int64_t n) {
    const hy_type_info *info = hy_type_get(type);
    if (!info || !src || !dst || n <= 0 || n % info->block_size != 0) return 0;
    uint8_t *y = dst;
    const int64_t nb = n / info->block_size;
    switch (type) {
    case HY_TYPE_F32: memcpy(dst, src, (size_t)n * sizeof(float)); break;
    case HY_TYPE_F16: for (int64_t i = 0; i < n; i++) store_u16(y + 2 * i, hy_float_to_half(src[i])); break;
    case HY_TYPE_BF16: for (int64_t i = 0; i < n; i++) store_u16(y + 2 * i, hy_float_to_bf16(src[i])); break;
    case HY_TYPE_Q4_0: quantize_q4_0(src, y, nb); break;
    case HY_TYPE_Q8_0: quantize_q8_0(src, y, nb); break;
    case HY_TYPE_Q4_K: quantize_q4_K(src, y, nb); break;
    case HY_TYPE_Q5_K: quantize_q5_K(src, y, nb); break;
    case HY_TYPE_Q6_K: quantize_q6_K(src, y, nb); break;
    case HY_TYPE_Q8_K: hy_scalar_quantize_q8_K(src, y, n); break;
    default: return 0;
    }
    return (size_t)nb * info->type_size;
}
