/*
 * ops_impl.h — x86 float ops ("ops" group) and attention helpers ("attention"
 * group) with 256-bit vectors. Included by the AVX2 and AVX-512 units, which
 * define HY_OPS_TABLE and HY_ATTN_TABLE (the tables' names). The float ops
 * touch a few kilobytes per token, so 256-bit vectors are enough for most;
 * AVX-512 units take the 16-lane softmax and silu_mul of ops512_impl.h (the
 * exponential is most of their time).
 * Grouped attention reads the whole KV cache every token (8% of tinyllama's
 * decode thread time after a 512-token prompt when it was written, 4.1% in a
 * profile after the head-major cache and the kernels below): AVX-512 units use
 * the 16-float forms of attn512_impl.h for it (hot-cache scores and values
 * ~40% faster than these, decode attention time ~25% lower).
 *
 * exp: x = n ln2 + r with |r| <= ln2/2 (Cody-Waite split of ln2), e^r by a
 * degree-7 Taylor polynomial (truncation < 1e-8 relative), times 2^n built in
 * the exponent bits. Inputs are clamped to [-87.3, 88]: below, the result
 * is 0 instead of a float subnormal (< 1.2e-38); above, e^88 instead of
 * Inf. Within 2 ulp of expf elsewhere.
 */
#include <math.h>

#include "kernels/fp16.h"
#include "kernels/kernels.h"
#include "kernels/x86/simd.h"

HY_INLINE __m256 hy_exp_ps(__m256 x) {
    const __m256 lo = _mm256_set1_ps(-87.33654f), hi = _mm256_set1_ps(88.0f);
    const __m256 under = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
    x = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.428606765330187e-06f), r);
    __m256 p = _mm256_set1_ps(1.0f / 5040.0f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_andnot_ps(under, _mm256_mul_ps(p, _mm256_castsi256_ps(e)));
}

/* ---- "ops" ---- */

static void rmsnorm(float *out, const float *x, const float *w, int64_t n, float eps) {
    /* squares rounded to float (as the reference), summed in double */
    __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        const __m256 sq = _mm256_mul_ps(v, v);
        s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(sq)));
        s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(sq, 1)));
    }
    double lanes[4];
    _mm256_storeu_pd(lanes, _mm256_add_pd(s0, s1));
    double sum = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    for (; i < n; i++) sum += (double)(x[i] * x[i]);
    const float r = 1.0f / sqrtf((float)(sum / (double)n) + eps);
    const __m256 vr = _mm256_set1_ps(r);
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + i), vr);
        if (w) v = _mm256_mul_ps(v, _mm256_loadu_ps(w + i));
        _mm256_storeu_ps(out + i, v);
    }
    for (; i < n; i++) out[i] = w ? (x[i] * r) * w[i] : x[i] * r;
}

#if !defined(__AVX512F__) /* AVX-512 units: softmax_x16 and silu_mul_x16 (ops512_impl.h) */
static void softmax(float *x, int64_t n) {
    int64_t i = 0;
    float max = x[0];
    if (n >= 8) {
        __m256 m = _mm256_loadu_ps(x);
        for (i = 8; i + 8 <= n; i += 8) m = _mm256_max_ps(m, _mm256_loadu_ps(x + i));
        max = hy_hmax_ps(m);
    }
    for (; i < n; i++)
        if (x[i] > max) max = x[i];
    const __m256 vmax = _mm256_set1_ps(max);
    __m256 vs = _mm256_setzero_ps();
    for (i = 0; i + 8 <= n; i += 8) {
        const __m256 e = hy_exp_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vmax));
        _mm256_storeu_ps(x + i, e);
        vs = _mm256_add_ps(vs, e);
    }
    float sum = hy_hsum_ps(vs);
    for (; i < n; i++) {
        x[i] = expf(x[i] - max);
        sum += x[i];
    }
    const float inv = 1.0f / sum;
    const __m256 vinv = _mm256_set1_ps(inv);
    for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), vinv));
    for (; i < n; i++) x[i] *= inv;
}

static void silu_mul(float *out, const float *gate, const float *up, int64_t n) {
    const __m256 one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 g = _mm256_loadu_ps(gate + i);
        const __m256 s = _mm256_div_ps(g, _mm256_add_ps(one, hy_exp_ps(_mm256_xor_ps(g, sign))));
        _mm256_storeu_ps(out + i, _mm256_mul_ps(s, _mm256_loadu_ps(up + i)));
    }
    for (; i < n; i++) {
        const float g = gate[i];
        out[i] = g / (1.0f + expf(-g)) * up[i];
    }
}
#endif

static void rope(float *x, int64_t n_heads, int64_t head_dim, int64_t n_rot, const float *cos_t, const float *sin_t) {
    const __m256i dup = _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3);
    const __m256 alt = _mm256_setr_ps(-0.0f, 0.0f, -0.0f, 0.0f, -0.0f, 0.0f, -0.0f, 0.0f);
    for (int64_t h = 0; h < n_heads; h++) {
        float *v = x + h * head_dim;
        int64_t i = 0; /* pair index */
        for (; i + 4 <= n_rot / 2; i += 4) {
            const __m256 c = _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_loadu_ps(cos_t + i)), dup);
            const __m256 s = _mm256_xor_ps(_mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_loadu_ps(sin_t + i)), dup), alt);
            const __m256 a = _mm256_loadu_ps(v + 2 * i);
            const __m256 swapped = _mm256_permute_ps(a, 0xB1); /* (x1, x0) per pair */
            _mm256_storeu_ps(v + 2 * i, _mm256_add_ps(_mm256_mul_ps(a, c), _mm256_mul_ps(swapped, s)));
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
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, _mm256_add_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
    for (; i < n; i++) out[i] = a[i] + b[i];
}

#if defined(__AVX512F__)
#include "kernels/x86/ops512_impl.h" /* 16-lane softmax and silu_mul */
const hy_ops_kernels HY_OPS_TABLE = { rmsnorm, softmax_x16, silu_mul_x16, rope, add };
#else
const hy_ops_kernels HY_OPS_TABLE = { rmsnorm, softmax, silu_mul, rope, add };
#endif

/* ---- "attention" ---- */

/* 8 elements of a K/V row: F32 (HALF 0) or F16 (HALF 1) */
HY_INLINE __m256 kv_load8(int HALF, const uint8_t *row, int64_t d) {
    if (HALF) return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(row + 2 * d)));
    return _mm256_loadu_ps((const float *)(const void *)(row + 4 * d));
}

HY_INLINE float kv_at(int HALF, const uint8_t *row, int64_t d) {
    return HALF ? hy_f16_at(row + 2 * d) : hy_load_f32(row + 4 * d);
}

HY_INLINE void scores(int HALF, float *s, const float *q, const uint8_t *k, size_t stride, int64_t hd, int64_t n_kv,
                      float scale) {
    int64_t t = 0;
    for (; t + 4 <= n_kv; t += 4) { /* four rows at once: independent chains, q loaded once */
        const uint8_t *r0 = k + (size_t)t * stride, *r1 = r0 + stride, *r2 = r1 + stride, *r3 = r2 + stride;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        int64_t d = 0;
        for (; d + 8 <= hd; d += 8) {
            const __m256 qv = _mm256_loadu_ps(q + d);
            a0 = _mm256_fmadd_ps(qv, kv_load8(HALF, r0, d), a0);
            a1 = _mm256_fmadd_ps(qv, kv_load8(HALF, r1, d), a1);
            a2 = _mm256_fmadd_ps(qv, kv_load8(HALF, r2, d), a2);
            a3 = _mm256_fmadd_ps(qv, kv_load8(HALF, r3, d), a3);
        }
        float s0 = hy_hsum_ps(a0), s1 = hy_hsum_ps(a1), s2 = hy_hsum_ps(a2), s3 = hy_hsum_ps(a3);
        for (; d < hd; d++) {
            s0 += q[d] * kv_at(HALF, r0, d);
            s1 += q[d] * kv_at(HALF, r1, d);
            s2 += q[d] * kv_at(HALF, r2, d);
            s3 += q[d] * kv_at(HALF, r3, d);
        }
        s[t] = s0 * scale;
        s[t + 1] = s1 * scale;
        s[t + 2] = s2 * scale;
        s[t + 3] = s3 * scale;
    }
    for (; t < n_kv; t++) {
        const uint8_t *r0 = k + (size_t)t * stride;
        __m256 a0 = _mm256_setzero_ps();
        int64_t d = 0;
        for (; d + 8 <= hd; d += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + d), kv_load8(HALF, r0, d), a0);
        float s0 = hy_hsum_ps(a0);
        for (; d < hd; d++) s0 += q[d] * kv_at(HALF, r0, d);
        s[t] = s0 * scale;
    }
}

HY_INLINE void values(int HALF, float *out, const float *p, const uint8_t *v, size_t stride, int64_t hd, int64_t n_kv) {
    int64_t d = 0;
    for (; d + 32 <= hd; d += 32) { /* 32 output columns in registers over all rows */
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (int64_t t = 0; t < n_kv; t++) {
            const uint8_t *row = v + (size_t)t * stride;
            const __m256 pt = _mm256_broadcast_ss(p + t);
            a0 = _mm256_fmadd_ps(pt, kv_load8(HALF, row, d), a0);
            a1 = _mm256_fmadd_ps(pt, kv_load8(HALF, row, d + 8), a1);
            a2 = _mm256_fmadd_ps(pt, kv_load8(HALF, row, d + 16), a2);
            a3 = _mm256_fmadd_ps(pt, kv_load8(HALF, row, d + 24), a3);
        }
        _mm256_storeu_ps(out + d, a0);
        _mm256_storeu_ps(out + d + 8, a1);
        _mm256_storeu_ps(out + d + 16, a2);
        _mm256_storeu_ps(out + d + 24, a3);
    }
    for (; d + 8 <= hd; d += 8) {
        __m256 a0 = _mm256_setzero_ps();
        for (int64_t t = 0; t < n_kv; t++)
            a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(p + t), kv_load8(HALF, v + (size_t)t * stride, d), a0);
        _mm256_storeu_ps(out + d, a0);
    }
    for (; d < hd; d++) {
        float a = 0.0f;
        for (int64_t t = 0; t < n_kv; t++) a += p[t] * kv_at(HALF, v + (size_t)t * stride, d);
        out[d] = a;
    }
}

static void scores_f32(float *s, const float *q, const uint8_t *k, size_t stride, int64_t hd, int64_t n_kv, float scale) {
    scores(0, s, q, k, stride, hd, n_kv, scale);
}
static void scores_f16(float *s, const float *q, const uint8_t *k, size_t stride, int64_t hd, int64_t n_kv, float scale) {
    scores(1, s, q, k, stride, hd, n_kv, scale);
}
static void values_f32(float *out, const float *p, const uint8_t *v, size_t stride, int64_t hd, int64_t n_kv) {
    values(0, out, p, v, stride, hd, n_kv);
}
static void values_f16(float *out, const float *p, const uint8_t *v, size_t stride, int64_t hd, int64_t n_kv) {
    values(1, out, p, v, stride, hd, n_kv);
}

static void store_f16(uint16_t *dst, const float *src, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(dst + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) {
        const uint16_t h = hy_float_to_half(src[i]);
        memcpy(dst + i, &h, 2);
    }
}

/* ---- several query heads sharing one KV head ----
 * With grouped-query attention (8 query heads per KV head in Llama-2/3 style
 * files) the per-head kernels above convert every cached row once per head.
 * Here the rows of a block of 8 positions are converted to float once, into a
 * buffer on the stack that stays in L1, and every head of the group reads
 * them from there. The products per head and position are the same; scores
 * sum each position's lanes with one 8-way transpose-add instead of a
 * horizontal sum per position, values add to out per block (same order of
 * fused multiply-adds over t as values()). Head sizes above HY_ATT_MAX_HD use
 * the per-head kernels. */
#define HY_ATT_BLOCK 8
#define HY_ATT_MAX_HD 256
/* Rows ahead to prefetch. In decode the cache comes from DRAM (the weights
 * streamed through since the layer's last visit). While the cache interleaved
 * the KV heads per position, one head's row was 1-2 cache lines every
 * n_embd_kv elements, which the hardware prefetchers did not follow:
 * prefetching 16 rows ahead cut tinyllama's decode attention time by ~30%
 * after a 512-token prompt (8 and 32 rows did the same). With the head-major
 * cache (llama.c) the rows are back to back and it still helps: attention
 * thread time 219-300 ms against 278-326 ms without, 48 rows 284-324 ms
 * (64 tokens, three interleaved runs each). */
#define HY_ATT_PF_ROWS 16

/* Prefetch the head row HY_ATT_PF_ROWS positions after row (hd elements of
 * F32 or F16; a prefetch past the end of the cache is harmless: it never
 * faults). */
HY_INLINE void kv_prefetch_ahead(int HALF, const uint8_t *row, size_t stride, int64_t hd) {
    const int64_t row_bytes = hd * (HALF ? 2 : 4);
    for (int64_t l = 0; l < row_bytes; l += 64) _mm_prefetch((const char *)row + HY_ATT_PF_ROWS * stride + l, _MM_HINT_T0);
}

/* rows [0, n) of the cache at src -> floats at dst (row i at dst + i * hd),
 * prefetching the rows HY_ATT_PF_ROWS further on */
HY_INLINE void kv_rows_to_f32(int HALF, float *dst, const uint8_t *src, size_t stride, int64_t hd, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        const uint8_t *row = src + (size_t)i * stride;
        kv_prefetch_ahead(HALF, row, stride, hd);
        float *o = dst + i * hd;
        int64_t d = 0;
        for (; d + 8 <= hd; d += 8) _mm256_storeu_ps(o + d, kv_load8(HALF, row, d));
        for (; d < hd; d++) o[d] = kv_at(HALF, row, d);
    }
}

/* [sum of a0's lanes, ..., sum of a7's lanes] */
HY_INLINE __m256 hy_hsum8_ps(const __m256 a[8]) {
    const __m256 h01 = _mm256_hadd_ps(a[0], a[1]), h23 = _mm256_hadd_ps(a[2], a[3]);
    const __m256 h45 = _mm256_hadd_ps(a[4], a[5]), h67 = _mm256_hadd_ps(a[6], a[7]);
    const __m256 h0123 = _mm256_hadd_ps(h01, h23), h4567 = _mm256_hadd_ps(h45, h67);
    return _mm256_add_ps(_mm256_permute2f128_ps(h0123, h4567, 0x20), _mm256_permute2f128_ps(h0123, h4567, 0x31));
}

HY_INLINE void scores_group_hd(int HALF, float *s, size_t s_stride, const float *q, size_t q_stride, int64_t n_heads,
                               const uint8_t *k, size_t stride, int64_t hd, int64_t n_kv, float scale) {
    int64_t t = 0;
    if (hd <= HY_ATT_MAX_HD) {
        float kb[HY_ATT_BLOCK * HY_ATT_MAX_HD];
        const __m256 sc = _mm256_set1_ps(scale);
        for (; t + HY_ATT_BLOCK <= n_kv; t += HY_ATT_BLOCK) {
            kv_rows_to_f32(HALF, kb, k + (size_t)t * stride, stride, hd, HY_ATT_BLOCK);
            for (int64_t g = 0; g < n_heads; g++) {
                const float *qg = q + (size_t)g * q_stride;
                __m256 a[8];
                for (int i = 0; i < 8; i++) a[i] = _mm256_setzero_ps();
                int64_t d = 0;
                for (; d + 8 <= hd; d += 8) {
                    const __m256 qv = _mm256_loadu_ps(qg + d);
                    for (int i = 0; i < 8; i++) a[i] = _mm256_fmadd_ps(qv, _mm256_loadu_ps(kb + i * hd + d), a[i]);
                }
                __m256 sum = hy_hsum8_ps(a);
                if (d < hd) {
                    float tail[8];
                    for (int i = 0; i < 8; i++) {
                        float x = 0.0f;
                        for (int64_t e = d; e < hd; e++) x += qg[e] * kb[i * hd + e];
                        tail[i] = x;
                    }
                    sum = _mm256_add_ps(sum, _mm256_loadu_ps(tail));
                }
                _mm256_storeu_ps(s + (size_t)g * s_stride + t, _mm256_mul_ps(sum, sc));
            }
        }
    }
    if (t < n_kv) /* the last positions (fewer than a block), or every position of a very wide head */
        for (int64_t g = 0; g < n_heads; g++)
            scores(HALF, s + (size_t)g * s_stride + t, q + (size_t)g * q_stride, k + (size_t)t * stride, stride, hd,
                   n_kv - t, scale);
}

HY_INLINE void values_group_hd(int HALF, float *out, size_t out_stride, const float *p, size_t p_stride,
                               int64_t n_heads, const uint8_t *v, size_t stride, int64_t hd, int64_t n_kv) {
    if (hd > HY_ATT_MAX_HD) {
        for (int64_t g = 0; g < n_heads; g++)
            values(HALF, out + (size_t)g * out_stride, p + (size_t)g * p_stride, v, stride, hd, n_kv);
        return;
    }
    float vb[HY_ATT_BLOCK * HY_ATT_MAX_HD];
    for (int64_t g = 0; g < n_heads; g++) memset(out + (size_t)g * out_stride, 0, sizeof(float) * (size_t)hd);
    for (int64_t t = 0; t < n_kv; t += HY_ATT_BLOCK) {
        const int64_t rows = n_kv - t < HY_ATT_BLOCK ? n_kv - t : HY_ATT_BLOCK;
        kv_rows_to_f32(HALF, vb, v + (size_t)t * stride, stride, hd, rows);
        for (int64_t g = 0; g < n_heads; g++) {
            float *o = out + (size_t)g * out_stride;
            const float *pg = p + (size_t)g * p_stride + t;
            int64_t d = 0;
            for (; d + 32 <= hd; d += 32) {
                __m256 a0 = _mm256_loadu_ps(o + d), a1 = _mm256_loadu_ps(o + d + 8);
                __m256 a2 = _mm256_loadu_ps(o + d + 16), a3 = _mm256_loadu_ps(o + d + 24);
                for (int64_t i = 0; i < rows; i++) {
                    const __m256 pt = _mm256_broadcast_ss(pg + i);
                    const float *row = vb + i * hd + d;
                    a0 = _mm256_fmadd_ps(pt, _mm256_loadu_ps(row), a0);
                    a1 = _mm256_fmadd_ps(pt, _mm256_loadu_ps(row + 8), a1);
                    a2 = _mm256_fmadd_ps(pt, _mm256_loadu_ps(row + 16), a2);
                    a3 = _mm256_fmadd_ps(pt, _mm256_loadu_ps(row + 24), a3);
                }
                _mm256_storeu_ps(o + d, a0);
                _mm256_storeu_ps(o + d + 8, a1);
                _mm256_storeu_ps(o + d + 16, a2);
                _mm256_storeu_ps(o + d + 24, a3);
            }
            for (; d + 8 <= hd; d += 8) {
                __m256 a0 = _mm256_loadu_ps(o + d);
                for (int64_t i = 0; i < rows; i++) a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(pg + i), _mm256_loadu_ps(vb + i * hd + d), a0);
                _mm256_storeu_ps(o + d, a0);
            }
            for (; d < hd; d++) {
                float a = o[d];
                for (int64_t i = 0; i < rows; i++) a += pg[i] * vb[i * hd + d];
                o[d] = a;
            }
        }
    }
}

/* The grouped kernels with the head size a constant for the common 64 and
 * 128: with hd a run-time value the compiler keeps one address per
 * accumulated row in a register, runs short of registers and spills (see
 * attn512_impl.h). 8 heads x 544 positions in cache, head size 64, two
 * interleaved runs: scores 18.8 / 19.3 -> 12.9 / 12.7 us, values 17.3 /
 * 19.2 -> 13.8 / 13.8 us. */
/* CALL, with HDC the head size hd: the constant 64 or 128 where hd is one of
 * them (the inlined kernel is then compiled for it), hd itself otherwise. */
#define HY_ATT_WITH_CONST_HD(hd, CALL)      \
    do {                                    \
        if ((hd) == 64) {                   \
            const int64_t HDC = 64;         \
            CALL;                           \
        } else if ((hd) == 128) {           \
            const int64_t HDC = 128;        \
            CALL;                           \
        } else {                            \
            const int64_t HDC = (hd);       \
            CALL;                           \
        }                                   \
    } while (0)

HY_INLINE void scores_group(int HALF, float *s, size_t s_stride, const float *q, size_t q_stride, int64_t n_heads,
                            const uint8_t *k, size_t stride, int64_t hd, int64_t n_kv, float scale) {
    HY_ATT_WITH_CONST_HD(hd, scores_group_hd(HALF, s, s_stride, q, q_stride, n_heads, k, stride, HDC, n_kv, scale));
}

HY_INLINE void values_group(int HALF, float *out, size_t out_stride, const float *p, size_t p_stride, int64_t n_heads,
                            const uint8_t *v, size_t stride, int64_t hd, int64_t n_kv) {
    HY_ATT_WITH_CONST_HD(hd, values_group_hd(HALF, out, out_stride, p, p_stride, n_heads, v, stride, HDC, n_kv));
}

#if defined(__AVX512F__)
#include "kernels/x86/attn512_impl.h" /* 16-float forms, falling back to the ones above */
#define HY_SCORES_GROUP scores_group_x16
#define HY_VALUES_GROUP values_group_x16
#else
#define HY_SCORES_GROUP scores_group
#define HY_VALUES_GROUP values_group
#endif

static void scores_group_f32(float *s, size_t s_stride, const float *q, size_t q_stride, int64_t n_heads,
                             const uint8_t *k, size_t stride, int64_t hd, int64_t n_kv, float scale) {
    HY_SCORES_GROUP(0, s, s_stride, q, q_stride, n_heads, k, stride, hd, n_kv, scale);
}
static void scores_group_f16(float *s, size_t s_stride, const float *q, size_t q_stride, int64_t n_heads,
                             const uint8_t *k, size_t stride, int64_t hd, int64_t n_kv, float scale) {
    HY_SCORES_GROUP(1, s, s_stride, q, q_stride, n_heads, k, stride, hd, n_kv, scale);
}
static void values_group_f32(float *out, size_t out_stride, const float *p, size_t p_stride, int64_t n_heads,
                             const uint8_t *v, size_t stride, int64_t hd, int64_t n_kv) {
    HY_VALUES_GROUP(0, out, out_stride, p, p_stride, n_heads, v, stride, hd, n_kv);
}
static void values_group_f16(float *out, size_t out_stride, const float *p, size_t p_stride, int64_t n_heads,
                             const uint8_t *v, size_t stride, int64_t hd, int64_t n_kv) {
    HY_VALUES_GROUP(1, out, out_stride, p, p_stride, n_heads, v, stride, hd, n_kv);
}

const hy_attn_kernels HY_ATTN_TABLE = { scores_f32,       scores_f16,       values_f32,       values_f16,
                                        store_f16,        scores_group_f32, scores_group_f16, values_group_f32,
                                        values_group_f16 };
