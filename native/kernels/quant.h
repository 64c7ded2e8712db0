/*
 * quant.h — GGUF block formats, their (de)quantizers, the activation formats
 * and the row dot products (internal API).
 *
 * Formats are bit-exact to the GGUF (ggml) block layouts. All multi-byte fields
 * are little-endian; blocks are packed (no padding) and a row of n elements is
 * n / block_size consecutive blocks. Kernels read blocks through byte pointers,
 * so no alignment beyond 1 byte is required of any row.
 *
 *   F32   1 element,   4 bytes: IEEE binary32
 *   F16   1 element,   2 bytes: IEEE binary16
 *   BF16  1 element,   2 bytes: the top half of a binary32
 *   Q4_0  32 elements, 18 bytes: d (f16); qs[16]: element j < 16 is the low
 *         nibble of qs[j], element j + 16 its high nibble; x = d * (q - 8)
 *   Q8_0  32 elements, 34 bytes: d (f16); qs[32] int8; x = d * q
 *   Q4_K  256 elements, 144 bytes: d, dmin (f16); scales[12]: eight 6-bit
 *         scales sc[j] and mins m[j] for sub-blocks of 32 (packing: see
 *         hy_k4_scale_min); qs[128]: for each 64-element chunk c, 32 bytes whose
 *         low nibbles are elements 64c..64c+31 (sub-block 2c) and high nibbles
 *         64c+32..64c+63 (sub-block 2c+1); x = d*sc[j] * q - dmin*m[j]
 *   Q5_K  256 elements, 176 bytes: d, dmin, scales[12] as Q4_K; qh[32]; qs[128]
 *         as Q4_K; bit 2c (low nibbles) / 2c+1 (high nibbles) of qh[l] is the
 *         fifth bit (+16) of element l of sub-block 2c / 2c+1
 *   Q6_K  256 elements, 210 bytes: ql[128], qh[64], scales[16] int8, d (f16).
 *         For each half h (128 elements; ql += 64h, qh += 32h), l < 32:
 *           element 128h + l      = (ql[l]    & 15) | ((qh[l] >> 0) & 3) << 4
 *           element 128h + l + 32 = (ql[l+32] & 15) | ((qh[l] >> 2) & 3) << 4
 *           element 128h + l + 64 = (ql[l]    >> 4) | ((qh[l] >> 4) & 3) << 4
 *           element 128h + l + 96 = (ql[l+32] >> 4) | ((qh[l] >> 6) & 3) << 4
 *         x = d * scales[element / 16] * (q - 32)
 *   Q8_K  256 elements, 292 bytes: d (f32); qs[256] int8; bsums[16] int16 =
 *         the sum of each 16 consecutive qs. Activation format only.
 *
 * Activations: a matrix-vector product W x first quantizes x once into the
 * format the weight type pairs with (hy_activation_type): Q8_0 for Q4_0 and
 * Q8_0 weights, Q8_K for Q4_K / Q5_K / Q6_K, F32 (a copy) for F32 / F16 / BF16.
 */
#ifndef HYPERION_QUANT_H
#define HYPERION_QUANT_H

#include <stddef.h>
#include <stdint.h>

#include "hyperion.h"
#include "kernels/types.h"

#define HY_QK 32   /* elements per Q4_0 / Q8_0 block */
#define HY_QK_K 256 /* elements per K-quant super-block */

/* ---- block layouts (documentation and static size checks; kernels use byte
 * offsets, see above) ---- */
typedef struct hy_block_q4_0 { uint16_t d; uint8_t qs[16]; } hy_block_q4_0;
typedef struct hy_block_q8_0 { uint16_t d; int8_t qs[32]; } hy_block_q8_0;
typedef struct hy_block_q4_K { uint16_t d, dmin; uint8_t scales[12]; uint8_t qs[128]; } hy_block_q4_K;
typedef struct hy_block_q5_K { uint16_t d, dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128]; } hy_block_q5_K;
typedef struct hy_block_q6_K { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; uint16_t d; } hy_block_q6_K;
typedef struct hy_block_q8_K { float d; int8_t qs[256]; int16_t bsums[16]; } hy_block_q8_K;

_Static_assert(sizeof(hy_block_q4_0) == 18, "q4_0 block");
_Static_assert(sizeof(hy_block_q8_0) == 34, "q8_0 block");
_Static_assert(sizeof(hy_block_q4_K) == 144, "q4_K block");
_Static_assert(sizeof(hy_block_q5_K) == 176, "q5_K block");
_Static_assert(sizeof(hy_block_q6_K) == 210, "q6_K block");
_Static_assert(sizeof(hy_block_q8_K) == 292, "q8_K block");

/* Byte offsets inside the blocks. */
enum {
    HY_Q4_0_QS = 2, HY_Q8_0_QS = 2,
    HY_QK_D = 0, HY_QK_DMIN = 2, HY_QK_SCALES = 4,
    HY_Q4_K_QS = 16,
    HY_Q5_K_QH = 16, HY_Q5_K_QS = 48,
    HY_Q6_K_QL = 0, HY_Q6_K_QH = 128, HY_Q6_K_SCALES = 192, HY_Q6_K_D = 208,
    HY_Q8_K_D = 0, HY_Q8_K_QS = 4, HY_Q8_K_BSUMS = 260
};

/* Sub-block j (0..7) of a Q4_K / Q5_K scales[12] field: its 6-bit scale and min.
 * j < 4: sc = s[j] & 63, m = s[j+4] & 63; j >= 4: the low 4 bits come from
 * s[j+4] (scale: low nibble, min: high nibble) and the top 2 bits from the top
 * bits of s[j-4] (scale) and s[j] (min). */
static inline void hy_k4_scale_min(const uint8_t *s, int j, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = s[j] & 63;
        *m = s[j + 4] & 63;
    } else {
        *sc = (uint8_t)((s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4));
        *m = (uint8_t)((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
    }
}

/* ---- scalar conversions (see fp16.h for the exact rules) ---- */
float hy_fp16_to_fp32(uint16_t h);
uint16_t hy_fp32_to_fp16(float f);
float hy_bf16_to_fp32(uint16_t h);
uint16_t hy_fp32_to_bf16(float f);

/* ---- rows ---- */

/* 1 when this runtime can dequantize / multiply tensors of `type`:
 * F32, F16, BF16, Q4_0, Q8_0, Q4_K, Q5_K, Q6_K (Q8_K too for hy_dequantize_row). */
int hy_type_is_supported(uint32_t type);

/* Dequantize n elements of one row of `type` from src into dst (n floats).
 * Scalar reference, bit-exact to ggml's dequantizers; also F32 (copy), F16,
 * BF16 and Q8_K. Errors: HYPERION_INVALID_ARGUMENT (NULL pointer, n <= 0 or n
 * not a multiple of the block size; field "n"), HYPERION_MODEL_UNSUPPORTED for
 * a type without a dequantizer (field "type"). dst is untouched on error. */
hyperion_status hy_dequantize_row(uint32_t type, const void *src, float *dst, int64_t n);

/* Quantize n floats into one row of `type` (F32, F16, BF16, Q4_0, Q8_0, Q4_K,
 * Q5_K, Q6_K, and the activation format Q8_K). Reference quantizers for the
 * model maker: valid blocks, scales searched per (sub-)block for low error,
 * deterministic. Returns the bytes written (hy_type_row_bytes(type, n)), or 0
 * for an unsupported type, NULL pointers, n <= 0 or n not a multiple of the
 * block size (nothing written then). Non-finite inputs give valid blocks with
 * unspecified values. */
size_t hy_quantize_row(uint32_t type, const float *src, void *dst, int64_t n);

/* ---- activations ---- */

/* The activation format weights of `weight_type` pair with: HY_TYPE_Q8_0 for
 * Q4_0 / Q8_0, HY_TYPE_Q8_K for Q4_K / Q5_K / Q6_K, HY_TYPE_F32 for F32 / F16 /
 * BF16; UINT32_MAX for a type without a dot product. */
uint32_t hy_activation_type(uint32_t weight_type);

/* Bytes of one quantized activation row of n elements for `weight_type`
 * (0 when unsupported or n is not a multiple of the weight's block size). */
size_t hy_activation_row_bytes(uint32_t weight_type, int64_t n);

/* Quantize the activation row x (n floats) into xq in the format
 * hy_activation_type(weight_type) (xq: hy_activation_row_bytes bytes; for float
 * weights a copy of x). Q8_0: d = amax/127 (stored as f16), q = round-half-even
 * (x * 127/amax); Q8_K: as ggml's reference (scale -127/max of the largest
 * magnitude, q clamped to 127, bsums). A block whose largest magnitude is 0,
 * NaN, or so small that the scale overflows (below ~3.7e-37) becomes all
 * zeros. SIMD through the "quant" kernel group; for finite inputs every
 * version writes the same bytes. Errors: HYPERION_INVALID_ARGUMENT for
 * NULL pointers or a bad n, HYPERION_MODEL_UNSUPPORTED for the type. */
hyperion_status hy_quantize_activations(uint32_t weight_type, const float *x, void *xq, int64_t n);

/* ---- dot products ---- */

/* Dot product of one weight row (n elements of weight_type) with one activation
 * row in the format hy_activation_type(weight_type). Dispatched through the
 * "quant" group. Integer block sums are exact; versions differ only in the
 * order the per-block float terms are added. Returns 0 for an unsupported type
 * or a bad n (callers validate types at load). */
float hy_dot_row(uint32_t weight_type, const void *w_row, const void *xq_row, int64_t n);

#endif
