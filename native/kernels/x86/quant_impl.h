/*
 * quant_impl.h — the x86 "quant" group: activation quantizers and row dot
 * products. Included once per unit; the including unit defines
 * HY_QUANT_TABLE (the table's name) and, for the VNNI variant, HY_X86_VNNI.
 *
 * The activation quantizers compute exactly what the scalar reference does
 * (same float operations, round-half-even conversion, saturating packs that
 * clamp like the reference), so every version writes the same bytes.
 */
#include <math.h>

#include "kernels/kernels.h"
#include "kernels/x86/rows_impl.h"

/* ---- activation quantizers ---- */

/* 32 int32 (four vectors, elements in order) to 32 int8 in order, saturating */
HY_INLINE __m256i hy_pack_i32x32(__m256i i0, __m256i i1, __m256i i2, __m256i i3) {
    const __m256i a = _mm256_packs_epi32(i0, i1), b = _mm256_packs_epi32(i2, i3);
    return _mm256_permutevar8x32_epi32(_mm256_packs_epi16(a, b), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

static void quantize_q8_0(const float *x, void *vy, int64_t n) {
    uint8_t *y = vy;
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int64_t b = 0; b < n / 32; b++, x += 32, y += 34) {
        __m256 v[4], m = _mm256_setzero_ps();
        for (int k = 0; k < 4; k++) {
            v[k] = _mm256_loadu_ps(x + 8 * k);
            m = _mm256_max_ps(m, _mm256_andnot_ps(sign, v[k]));
        }
        const float amax = hy_hmax_ps(m);
        const float d = amax / 127.0f;
        float id = 127.0f / amax;
        if (!(id < INFINITY)) id = 0.0f; /* as the reference */
        const uint16_t dh = hy_float_to_half(d);
        memcpy(y, &dh, 2);
        const __m256 mul = _mm256_set1_ps(id);
        __m256i q[4];
        for (int k = 0; k < 4; k++) q[k] = _mm256_cvtps_epi32(_mm256_mul_ps(v[k], mul));
        _mm256_storeu_si256((__m256i *)(y + 2), hy_pack_i32x32(q[0], q[1], q[2], q[3]));
    }
}

static void quantize_q8_K(const float *x, void *vy, int64_t n) {
    uint8_t *y = vy;
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int64_t b = 0; b < n / 256; b++, x += 256, y += 292) {
        __m256 m = _mm256_setzero_ps();
        for (int k = 0; k < 32; k++) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + 8 * k)));
        const float amax = hy_hmax_ps(m);
        int16_t bsums[16];
        /* the first element of largest magnitude, as the reference picks it */
        float max = 0.0f;
        if (amax > 0.0f) {
            const __m256 am = _mm256_set1_ps(amax);
            for (int k = 0; k < 32; k++) {
                const int mask = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + 8 * k)), am, _CMP_EQ_OQ));
                if (mask) {
                    max = x[8 * k + __builtin_ctz((unsigned)mask)];
                    break;
                }
            }
        }
        const float iscale = -127.0f / max;
        if (amax == 0.0f || !(fabsf(iscale) < INFINITY)) {
            const float zero = 0.0f;
            memcpy(y, &zero, 4);
            memset(y + HY_Q8_K_QS, 0, 256);
            memset(bsums, 0, sizeof bsums);
            memcpy(y + HY_Q8_K_BSUMS, bsums, sizeof bsums);
            continue;
        }
        const __m256 mul = _mm256_set1_ps(iscale);
        const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
        for (int g = 0; g < 8; g++) {
            __m256i q[4];
            for (int k = 0; k < 4; k++) q[k] = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 32 * g + 8 * k), mul));
            const __m256i bytes = hy_pack_i32x32(q[0], q[1], q[2], q[3]); /* saturation = min(v, 127) */
            _mm256_storeu_si256((__m256i *)(y + HY_Q8_K_QS + 32 * g), bytes);
            /* sums of 4, then of 16: lanes 0-3 the first 16 elements, 4-7 the next 16 */
            int32_t s[8];
            _mm256_storeu_si256((__m256i *)s, _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, bytes), ones16));
            bsums[2 * g] = (int16_t)(s[0] + s[1] + s[2] + s[3]);
            bsums[2 * g + 1] = (int16_t)(s[4] + s[5] + s[6] + s[7]);
        }
        memcpy(y + HY_Q8_K_BSUMS, bsums, sizeof bsums);
        const float d = 1.0f / iscale;
        memcpy(y, &d, 4);
    }
}

/* ---- dot products ---- */

/* Q4_0 / Q8_0: the side data of x is computed in chunks on the stack. */
#define HY_SIDE_CHUNK 256

HY_INLINE float dot_q0(int KIND, const void *w, const void *x, int64_t n) {
    const uint8_t *pw = w, *px = x;
    const int bs = KIND == 0 ? 18 : 34;
    const float z = KIND == 0 ? -8.0f : (HY_X86_VNNI ? -128.0f : 0.0f);
    float dx[HY_SIDE_CHUNK], corr[HY_SIDE_CHUNK], sum = 0.0f;
    for (int64_t b0 = 0; b0 < n / 32; b0 += HY_SIDE_CHUNK) {
        const int64_t cnt = n / 32 - b0 < HY_SIDE_CHUNK ? n / 32 - b0 : HY_SIDE_CHUNK;
        hy_x86_q8_0_side(px + b0 * 34, cnt, z, dx, corr);
        sum += hy_x86_row_q0(KIND, pw + b0 * bs, cnt, px + b0 * 34, dx, corr);
    }
    return sum;
}

static float dot_q4_0(const void *w, const void *x, int64_t n) { return dot_q0(0, w, x, n); }
static float dot_q8_0(const void *w, const void *x, int64_t n) { return dot_q0(1, w, x, n); }
static float dot_q4_K(const void *w, const void *x, int64_t n) { return HY_ROW_Q45_K(0, w, x, n / 256); }
static float dot_q5_K(const void *w, const void *x, int64_t n) { return HY_ROW_Q45_K(1, w, x, n / 256); }
static float dot_q6_K(const void *w, const void *x, int64_t n) { return HY_ROW_Q6_K(w, x, n / 256); }
static float dot_f32(const void *w, const void *x, int64_t n) { return hy_x86_row_f32(w, x, n); }
static float dot_f16(const void *w, const void *x, int64_t n) { return hy_x86_row_16(1, w, x, n); }
static float dot_bf16(const void *w, const void *x, int64_t n) { return hy_x86_row_16(0, w, x, n); }

const hy_quant_kernels HY_QUANT_TABLE = {
    .dot = {
        [HY_W_F32] = dot_f32, [HY_W_F16] = dot_f16, [HY_W_BF16] = dot_bf16,
        [HY_W_Q4_0] = dot_q4_0, [HY_W_Q8_0] = dot_q8_0,
        [HY_W_Q4_K] = dot_q4_K, [HY_W_Q5_K] = dot_q5_K, [HY_W_Q6_K] = dot_q6_K,
    },
    .quantize_q8_0 = quantize_q8_0,
    .quantize_q8_K = quantize_q8_K,
};
