/*
 * tile_common.h — shared pieces of the x86 register-tile products
 * (tile_impl.h: quantized weights, ftile_impl.h: float weights): the vector
 * width abstraction and the dword transpose that moves HY_RW rows into
 * lane-per-row vectors. Included with HY_TILE_BITS = 512 (AVX-512: 16 rows
 * per vector, 8 tokens per tile) or 256 (AVX2: 8 rows, 4 tokens), and
 * HY_X86_VNNI.
 */
#ifndef HYPERION_X86_TILE_COMMON_H
#define HYPERION_X86_TILE_COMMON_H

#include "kernels/fp16.h"
#include "kernels/quant.h"
#include "kernels/x86/simd.h"

#if HY_TILE_BITS == 512
#define HY_RW 16
#define HY_TT 8
typedef __m512i hy_vi;
typedef __m512 hy_vf;
#define VI_LOAD(p) _mm512_load_si512((const void *)(p))
#define VI_SET1(x) _mm512_set1_epi32(x)
#define VF_LOAD(p) _mm512_load_ps(p)
#define VF_SET1(x) _mm512_set1_ps(x)
#define VF_ZERO() _mm512_setzero_ps()
#define VF_STORE(p, v) _mm512_store_ps(p, v)
#define VI_CVT(v) _mm512_cvtepi32_ps(v)
#define VF_MUL(a, b) _mm512_mul_ps(a, b)
#define VF_FMADD(a, b, c) _mm512_fmadd_ps(a, b, c)
#define VF_FNMADD(a, b, c) _mm512_fnmadd_ps(a, b, c)
#if HY_X86_VNNI
#define VI_DPBUSD(acc, u, s) _mm512_dpbusd_epi32(acc, u, s)
#else
#define VI_DPBUSD(acc, u, s) \
    _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(u, s), _mm512_set1_epi16(1)))
#endif
#define VI_ABS8(w) _mm512_abs_epi8(w)
#define VI_MADDUBS(u, s) _mm512_maddubs_epi16(u, s)
#define VI_ADD16(a, b) _mm512_add_epi16(a, b)
#define VI_ADD32(a, b) _mm512_add_epi32(a, b)
#define VI_MADD1(v) _mm512_madd_epi16(v, _mm512_set1_epi16(1))
/* s with the sign of w applied (0 where w is 0 does not matter: |w| = 0) */
#define VI_SIGN8(s, w) _mm512_mask_sub_epi8(s, _mm512_movepi8_mask(w), _mm512_setzero_si512(), s)
#elif HY_TILE_BITS == 256
#define HY_RW 8
#define HY_TT 4
typedef __m256i hy_vi;
typedef __m256 hy_vf;
#define VI_LOAD(p) _mm256_load_si256((const __m256i *)(const void *)(p))
#define VI_SET1(x) _mm256_set1_epi32(x)
#define VF_LOAD(p) _mm256_load_ps(p)
#define VF_SET1(x) _mm256_set1_ps(x)
#define VF_ZERO() _mm256_setzero_ps()
#define VF_STORE(p, v) _mm256_store_ps(p, v)
#define VI_CVT(v) _mm256_cvtepi32_ps(v)
#define VF_MUL(a, b) _mm256_mul_ps(a, b)
#define VF_FMADD(a, b, c) _mm256_fmadd_ps(a, b, c)
#define VF_FNMADD(a, b, c) _mm256_fnmadd_ps(a, b, c)
#if HY_X86_VNNI
#define VI_DPBUSD(acc, u, s) _mm256_dpbusd_epi32(acc, u, s)
#else
#define VI_DPBUSD(acc, u, s) \
    _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)))
#endif
#define VI_ABS8(w) _mm256_abs_epi8(w)
#define VI_MADDUBS(u, s) _mm256_maddubs_epi16(u, s)
#define VI_ADD16(a, b) _mm256_add_epi16(a, b)
#define VI_ADD32(a, b) _mm256_add_epi32(a, b)
#define VI_MADD1(v) _mm256_madd_epi16(v, _mm256_set1_epi16(1))
#define VI_SIGN8(s, w) _mm256_sign_epi8(s, w)
#else
#error "HY_TILE_BITS must be 512 or 256"
#endif

#if HY_TILE_BITS == 512
#define VI_STORE(p, v) _mm512_store_si512((void *)(p), v)
#define VI_AND(a, b) _mm512_and_si512(a, b)
#define VI_OR(a, b) _mm512_or_si512(a, b)
#define VI_XOR(a, b) _mm512_xor_si512(a, b)
#define VI_SRLI(a, n) _mm512_srli_epi32(a, n)
#define VI_SLLI(a, n) _mm512_slli_epi32(a, n)
#else
#define VI_STORE(p, v) _mm256_store_si256((__m256i *)(void *)(p), v)
#define VI_AND(a, b) _mm256_and_si256(a, b)
#define VI_OR(a, b) _mm256_or_si256(a, b)
#define VI_XOR(a, b) _mm256_xor_si256(a, b)
#define VI_SRLI(a, n) _mm256_srli_epi32(a, n)
#define VI_SLLI(a, n) _mm256_slli_epi32(a, n)
#endif

static inline size_t hy_align64(size_t v) { return (v + 63) & ~(size_t)63; }

/* Rows past the end of a matrix read this block of zeros (scale 0). */
static const uint8_t hy_zero_block[512];

/* dwords 0..3 of the 16 bytes at p[r] + off, r < HY_RW, as 4 vectors (lane = row) */
HY_INLINE void hy_t4(const uint8_t *const *p, int64_t off, hy_vi out[4]) {
    hy_vi z[4];
    for (int i = 0; i < 4; i++) {
#if HY_TILE_BITS == 512
        __m512i v = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)(p[i] + off)));
        v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(p[4 + i] + off)), 1);
        v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(p[8 + i] + off)), 2);
        z[i] = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(p[12 + i] + off)), 3);
#else
        z[i] = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(p[i] + off))),
                                       _mm_loadu_si128((const __m128i *)(p[4 + i] + off)), 1);
#endif
    }
#if HY_TILE_BITS == 512
    const __m512i t0 = _mm512_unpacklo_epi32(z[0], z[1]), t1 = _mm512_unpackhi_epi32(z[0], z[1]);
    const __m512i t2 = _mm512_unpacklo_epi32(z[2], z[3]), t3 = _mm512_unpackhi_epi32(z[2], z[3]);
    out[0] = _mm512_unpacklo_epi64(t0, t2);
    out[1] = _mm512_unpackhi_epi64(t0, t2);
    out[2] = _mm512_unpacklo_epi64(t1, t3);
    out[3] = _mm512_unpackhi_epi64(t1, t3);
#else
    const __m256i t0 = _mm256_unpacklo_epi32(z[0], z[1]), t1 = _mm256_unpackhi_epi32(z[0], z[1]);
    const __m256i t2 = _mm256_unpacklo_epi32(z[2], z[3]), t3 = _mm256_unpackhi_epi32(z[2], z[3]);
    out[0] = _mm256_unpacklo_epi64(t0, t2);
    out[1] = _mm256_unpackhi_epi64(t0, t2);
    out[2] = _mm256_unpacklo_epi64(t1, t3);
    out[3] = _mm256_unpackhi_epi64(t1, t3);
#endif
}

#endif
