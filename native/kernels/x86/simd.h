/*
 * simd.h — small AVX2 helpers shared by the x86 kernel units (included only
 * from units compiled with at least -mavx2 -mfma -mf16c).
 */
#ifndef HYPERION_X86_SIMD_H
#define HYPERION_X86_SIMD_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#define HY_INLINE static inline __attribute__((always_inline))

HY_INLINE float hy_hsum_ps(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}

HY_INLINE int32_t hy_hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

HY_INLINE float hy_hmax_ps(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

/* One F16 value at p (any alignment) as float, with the F16C instruction. */
HY_INLINE float hy_f16_at(const void *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

/* 16 bytes at p into both 128-bit lanes, then the high lane shifted right by
 * 4 bits and both masked to nibbles: [low nibbles | high nibbles] of the 16
 * bytes as 32 unsigned bytes (a Q4_0 block's elements 0..31 in order). */
HY_INLINE __m256i hy_nibbles32(const uint8_t *p) {
    const __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)p));
    const __m256i sh = _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4);
    return _mm256_and_si256(_mm256_srlv_epi32(v, sh), _mm256_set1_epi8(0x0F));
}

#endif
