/*
 * fp16.h — scalar IEEE half (F16) and bfloat16 (BF16) conversions, inline so
 * every kernel unit (scalar, AVX2, AVX-512) shares the exact same rounding.
 *
 * F16 -> F32 and BF16 -> F32 are exact. NaNs stay NaN (quieted, sign and the
 * payload's top bits kept), infinities stay infinite, F16 subnormals become
 * normal floats.
 *
 * F32 -> F16 rounds to nearest, ties to even, like the F16C instruction
 * vcvtps2ph with _MM_FROUND_TO_NEAREST_INT: |x| >= 65520 gives Inf, values
 * below the smallest normal give correctly rounded subnormals, a NaN gives a
 * quiet NaN with the sign and the top 9 payload bits (so SIMD and scalar agree
 * bit for bit).
 *
 * F32 -> BF16 rounds to nearest, ties to even, NaN -> quiet NaN with the top
 * payload bits (the rule ggml uses: (bits >> 16) | 0x40), subnormals kept.
 */
#ifndef HYPERION_FP16_H
#define HYPERION_FP16_H

#include <stdint.h>
#include <string.h>

static inline uint32_t hy_f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float hy_bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline float hy_half_to_float(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1Fu;
    const uint32_t man = h & 0x3FFu;
    if (exp == 0x1F) /* Inf or NaN: NaNs are quieted, as vcvtph2ps does */
        return hy_bits_f32(sign | 0x7F800000u | (man << 13) | (man ? 0x00400000u : 0));
    if (exp != 0) return hy_bits_f32(sign | ((exp + 112u) << 23) | (man << 13));
    /* zero or subnormal: man * 2^-24 is exact in float */
    float v = (float)man * 0x1p-24f;
    return sign ? -v : v;
}

static inline uint16_t hy_float_to_half(float f) {
    const uint32_t x = hy_f32_bits(f);
    const uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    const uint32_t ax = x & 0x7FFFFFFFu;
    if (ax > 0x7F800000u) return (uint16_t)(sign | 0x7E00u | ((ax >> 13) & 0x3FFu)); /* NaN */
    if (ax >= 0x477FF000u) return (uint16_t)(sign | 0x7C00u); /* >= 65520 (or Inf): Inf */
    if (ax >= 0x38800000u) {                                  /* normal half: >= 2^-14 */
        const uint32_t rounded = ax + 0xFFFu + ((ax >> 13) & 1u);
        return (uint16_t)(sign | ((rounded - 0x38000000u) >> 13));
    }
    if (ax <= 0x33000000u) return sign; /* <= 2^-25: rounds to (signed) zero, the tie included */
    /* subnormal half: units of 2^-24 */
    const uint32_t e = ax >> 23;                        /* 102..112 */
    const uint32_t m = (ax & 0x7FFFFFu) | 0x800000u;    /* value = m * 2^(e-150) */
    const uint32_t shift = 126u - e;                    /* 14..24 */
    uint32_t q = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (q & 1u))) q++;   /* may carry into the smallest normal: still right */
    return (uint16_t)(sign | q);
}

static inline float hy_bf16_to_float(uint16_t h) {
    return hy_bits_f32((uint32_t)h << 16);
}

static inline uint16_t hy_float_to_bf16(float f) {
    const uint32_t x = hy_f32_bits(f);
    if ((x & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((x >> 16) | 0x40u); /* quiet NaN */
    return (uint16_t)((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
}

/* Round to nearest, ties to even, for |v| < 2^22 (quantizer arguments are
 * clamped to far less): the magic-number trick, the same result as
 * cvtps2dq under the default rounding mode. */
static inline int32_t hy_nearest_int(float v) {
    const float t = v + 12582912.0f; /* 1.5 * 2^23 */
    return (int32_t)hy_f32_bits(t) - 0x4B400000;
}

/* Little-endian loads from byte pointers (GGUF data need not be aligned for
 * the element type, and the sanitizer build checks alignment). */
static inline uint16_t hy_load_u16(const void *p) {
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline float hy_load_f16(const void *p) {
    return hy_half_to_float(hy_load_u16(p));
}

static inline float hy_load_f32(const void *p) {
    float v;
    memcpy(&v, p, sizeof v);
    return v;
}

#endif
