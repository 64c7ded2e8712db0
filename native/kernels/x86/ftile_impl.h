/*
 * ftile_impl.h — x86 matrix-matrix products of float weights (F32, F16,
 * BF16) with F32 activations: register tiles of 2 x HY_RW rows x HY_FT tokens.
 * Included by the "matmul" units after tile_common.h.
 */
#include "kernels/x86/tile_common.h"

/* ==== float weights (F32, F16, BF16) x F32 activations ====
 *
 * The same scheme in float: a group of HY_FROWS = 2 * HY_RW rows is converted
 * and transposed into wt[k][HY_FROWS] floats (HY_FKC elements at a time), then
 * every token streams past it: two vectors of weights per element k, each
 * multiplied with the token's x[k] broadcast from memory, so per k there are
 * 2 + HY_FT loads for 2 * HY_FT fused multiply-adds (FMA-bound, not
 * load-bound). */

enum { HY_TF_F32, HY_TF_F16, HY_TF_BF16 };

#define HY_FKC 1024
#define HY_FROWS (2 * HY_RW)
#if HY_TILE_BITS == 512
#define HY_FT 6
#else
#define HY_FT 4
#endif

static size_t hy_ftile_scratch(int64_t n) {
    const int64_t kc = n < HY_FKC ? n : HY_FKC;
    return hy_align64(4u * HY_FROWS * (size_t)kc) + hy_align64(4u * HY_FROWS * HY_FT) + 64;
}

/* 8 halves / bf16 values of 8 or 16 rows: dword vector v holds elements 2j and
 * 2j + 1 of each row; the even (low 16 bits) or odd (high) ones as floats */
HY_INLINE hy_vf hy_half_lo(int bf16, hy_vi v) {
#if HY_TILE_BITS == 512
    if (bf16) return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
    return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(v));
#else
    if (bf16) return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
    const __m256i lo = _mm256_shuffle_epi8(v, _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1,
                                                               0, 1, 4, 5, 8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1));
    return _mm256_cvtph_ps(_mm256_castsi256_si128(_mm256_permute4x64_epi64(lo, 0x08)));
#endif
}

HY_INLINE hy_vf hy_half_hi(int bf16, hy_vi v) {
#if HY_TILE_BITS == 512
    if (bf16) return _mm512_castsi512_ps(_mm512_and_si512(v, _mm512_set1_epi32((int)0xFFFF0000u)));
    return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(v, 16)));
#else
    if (bf16) return _mm256_castsi256_ps(_mm256_and_si256(v, _mm256_set1_epi32((int)0xFFFF0000u)));
    return hy_half_lo(0, _mm256_srli_epi32(v, 16));
#endif
}

#if HY_TILE_BITS == 512
#define VF_STOREA(p, v) _mm512_store_ps(p, v)
#define VF_CAST(v) _mm512_castsi512_ps(v)
#else
#define VF_STOREA(p, v) _mm256_store_ps(p, v)
#define VF_CAST(v) _mm256_castsi256_ps(v)
#endif

/* rows [0, nr) of w (rb bytes apart; nr <= HY_RW), elements [k0, k0 + kc) ->
 * wt[k * HY_FROWS + r] (rows past nr are zeros) */
static void hy_ftile_unpack(int kind, const uint8_t *w, size_t rb, int nr, int64_t k0, int64_t kc, float *wt) {
    const int es = kind == HY_TF_F32 ? 4 : 2, per = 16 / es, bf16 = kind == HY_TF_BF16;
    const uint8_t *p[HY_RW];
    int64_t step[HY_RW];
    for (int r = 0; r < HY_RW; r++) {
        p[r] = r < nr ? w + (size_t)r * rb + (size_t)k0 * es : hy_zero_block;
        step[r] = r < nr ? 16 : 0;
    }
    int64_t k = 0;
    for (; k + per <= kc; k += per) {
        hy_vi v[4];
        hy_t4(p, 0, v);
        for (int j = 0; j < 4; j++) {
            if (kind == HY_TF_F32) {
                VF_STOREA(wt + (k + j) * HY_FROWS, VF_CAST(v[j]));
            } else {
                VF_STOREA(wt + (k + 2 * j) * HY_FROWS, hy_half_lo(bf16, v[j]));
                VF_STOREA(wt + (k + 2 * j + 1) * HY_FROWS, hy_half_hi(bf16, v[j]));
            }
        }
        for (int r = 0; r < HY_RW; r++) p[r] += step[r];
    }
    for (; k < kc; k++) /* fewer than one chunk left */
        for (int r = 0; r < HY_RW; r++) {
            float v = 0.0f;
            if (r < nr) {
                const uint8_t *e = w + (size_t)r * rb + (size_t)(k0 + k) * es;
                v = kind == HY_TF_F32 ? hy_load_f32(e) : kind == HY_TF_F16 ? hy_f16_at(e) : hy_bf16_to_float(hy_load_u16(e));
            }
            wt[k * HY_FROWS + r] = v;
        }
}

HY_INLINE void hy_ftile_kernel(int T, const float *wt, int64_t kc, const float *const *x, float *out) {
    hy_vf a0[HY_FT], a1[HY_FT];
#pragma GCC unroll 8
    for (int t = 0; t < T; t++) a0[t] = a1[t] = VF_ZERO();
    for (int64_t k = 0; k < kc; k++) {
        const hy_vf w0 = VF_LOAD(wt + k * HY_FROWS), w1 = VF_LOAD(wt + k * HY_FROWS + HY_RW);
#pragma GCC unroll 8
        for (int t = 0; t < T; t++) {
            const hy_vf xv = VF_SET1(x[t][k]);
            a0[t] = VF_FMADD(w0, xv, a0[t]);
            a1[t] = VF_FMADD(w1, xv, a1[t]);
        }
    }
#pragma GCC unroll 8
    for (int t = 0; t < T; t++) {
        VF_STORE(out + t * HY_FROWS, a0[t]);
        VF_STORE(out + t * HY_FROWS + HY_RW, a1[t]);
    }
}

#define HY_FTILE_CASE(T) case T: hy_ftile_kernel(T, wt, kc, x, out); break;

static void hy_ftile_run(int T, const float *wt, int64_t kc, const float *const *x, float *out) {
    switch (T) {
        HY_FTILE_CASE(1) HY_FTILE_CASE(2) HY_FTILE_CASE(3) HY_FTILE_CASE(4)
#if HY_FT == 6
        HY_FTILE_CASE(5) HY_FTILE_CASE(6)
#endif
    }
}

static void hy_ftile_matmul(int kind, const uint8_t *w, size_t rb, int64_t n, const float *x, size_t xrb,
                            int64_t n_tokens, float *y, int64_t ys, int64_t r0, int64_t r1, void *scratch) {
    float *wt = (float *)(void *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    const int64_t kc_max = n < HY_FKC ? n : HY_FKC;
    float *out = wt + hy_align64(4u * HY_FROWS * (size_t)kc_max) / 4;
    const uint8_t *xb = (const uint8_t *)x;
    for (int64_t rg = r0; rg < r1; rg += HY_FROWS) {
        const int nr = (int)(r1 - rg < HY_FROWS ? r1 - rg : HY_FROWS);
        for (int64_t k0 = 0; k0 < n; k0 += kc_max) {
            const int64_t kc = n - k0 < kc_max ? n - k0 : kc_max;
            hy_ftile_unpack(kind, w + (size_t)rg * rb, rb, nr < HY_RW ? nr : HY_RW, k0, kc, wt);
            hy_ftile_unpack(kind, w + (size_t)(rg + HY_RW) * rb, rb, nr > HY_RW ? nr - HY_RW : 0, k0, kc, wt + HY_RW);
            for (int64_t t0 = 0; t0 < n_tokens; t0 += HY_FT) {
                const int T = (int)(n_tokens - t0 < HY_FT ? n_tokens - t0 : HY_FT);
                const float *xp[HY_FT];
                for (int t = 0; t < T; t++) xp[t] = (const float *)(const void *)(xb + (size_t)(t0 + t) * xrb) + k0;
                hy_ftile_run(T, wt, kc, xp, out);
                for (int t = 0; t < T; t++) {
                    float *dst = y + (t0 + t) * ys + rg;
                    if (k0 == 0)
                        for (int r = 0; r < nr; r++) dst[r] = out[t * HY_FROWS + r];
                    else
                        for (int r = 0; r < nr; r++) dst[r] += out[t * HY_FROWS + r];
                }
            }
        }
    }
}
