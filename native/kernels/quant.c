/*
 * quant.c — scalar conversions, the reference dequantizers (bit-exact to
 * ggml's), and the dispatched entry points for activations and dot products.
 *
 * Dequantization reproduces ggml's float expressions operation for operation
 * (e.g. Q4_K: (d * sc) * q - (dmin * m); Q6_K: (d * sc) * q), so every
 * element comes out with the same bits.
 */
#include "kernels/quant.h"

#include <string.h>

/* No fused multiply-add contraction: each product and difference is rounded on
 * its own, as in ggml's reference dequantizers (matters on arm64, where the
 * compiler would otherwise fuse d1 * q - m1). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include "core/internal.h"
#include "kernels/fp16.h"
#include "kernels/kernels.h"

/* ---- scalar conversions ---- */

float hy_fp16_to_fp32(uint16_t h) { return hy_half_to_float(h); }
uint16_t hy_fp32_to_fp16(float f) { return hy_float_to_half(f); }
float hy_bf16_to_fp32(uint16_t h) { return hy_bf16_to_float(h); }
uint16_t hy_fp32_to_bf16(float f) { return hy_float_to_bf16(f); }

int hy_wtype_of(uint32_t type) {
    switch (type) {
    case HY_TYPE_F32: return HY_W_F32;
    case HY_TYPE_F16: return HY_W_F16;
    case HY_TYPE_BF16: return HY_W_BF16;
    case HY_TYPE_Q4_0: return HY_W_Q4_0;
    case HY_TYPE_Q8_0: return HY_W_Q8_0;
    case HY_TYPE_Q4_K: return HY_W_Q4_K;
    case HY_TYPE_Q5_K: return HY_W_Q5_K;
    case HY_TYPE_Q6_K: return HY_W_Q6_K;
    default: return -1;
    }
}

int hy_type_is_supported(uint32_t type) {
    return hy_wtype_of(type) >= 0 || type == HY_TYPE_Q8_K;
}

/* ---- dequantizers: one block each ---- */

static void deq_q4_0(const uint8_t *b, float *y) {
    const float d = hy_load_f16(b);
    const uint8_t *qs = b + HY_Q4_0_QS;
    for (int j = 0; j < 16; j++) {
        y[j] = (float)((qs[j] & 0x0F) - 8) * d;
        y[j + 16] = (float)((qs[j] >> 4) - 8) * d;
    }
}

static void deq_q8_0(const uint8_t *b, float *y) {
    const float d = hy_load_f16(b);
    const int8_t *qs = (const int8_t *)(b + HY_Q8_0_QS);
    for (int j = 0; j < 32; j++) y[j] = (float)qs[j] * d;
}

static void deq_q4_K(const uint8_t *b, float *y) {
    const float d = hy_load_f16(b + HY_QK_D), dmin = hy_load_f16(b + HY_QK_DMIN);
    const uint8_t *scales = b + HY_QK_SCALES, *q = b + HY_Q4_K_QS;
    for (int c = 0; c < 4; c++, q += 32) {
        uint8_t sc, m;
        hy_k4_scale_min(scales, 2 * c, &sc, &m);
        const float d1 = d * sc, m1 = dmin * m;
        hy_k4_scale_min(scales, 2 * c + 1, &sc, &m);
        const float d2 = d * sc, m2 = dmin * m;
        for (int l = 0; l < 32; l++) *y++ = d1 * (float)(q[l] & 0x0F) - m1;
        for (int l = 0; l < 32; l++) *y++ = d2 * (float)(q[l] >> 4) - m2;
    }
}

static void deq_q5_K(const uint8_t *b, float *y) {
    const float d = hy_load_f16(b + HY_QK_D), dmin = hy_load_f16(b + HY_QK_DMIN);
    const uint8_t *scales = b + HY_QK_SCALES, *qh = b + HY_Q5_K_QH, *ql = b + HY_Q5_K_QS;
    for (int c = 0; c < 4; c++, ql += 32) {
        uint8_t sc, m;
        hy_k4_scale_min(scales, 2 * c, &sc, &m);
        const float d1 = d * sc, m1 = dmin * m;
        hy_k4_scale_min(scales, 2 * c + 1, &sc, &m);
        const float d2 = d * sc, m2 = dmin * m;
        const uint8_t u1 = (uint8_t)(1u << (2 * c)), u2 = (uint8_t)(2u << (2 * c));
        for (int l = 0; l < 32; l++) *y++ = d1 * (float)((ql[l] & 0x0F) + (qh[l] & u1 ? 16 : 0)) - m1;
        for (int l = 0; l < 32; l++) *y++ = d2 * (float)((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
    }
}

static void deq_q6_K(const uint8_t *b, float *y) {
    const float d = hy_load_f16(b + HY_Q6_K_D);
    const uint8_t *ql = b + HY_Q6_K_QL, *qh = b + HY_Q6_K_QH;
    const int8_t *sc = (const int8_t *)(b + HY_Q6_K_SCALES);
    for (int h = 0; h < 2; h++, y += 128, ql += 64, qh += 32, sc += 8) {
        for (int l = 0; l < 32; l++) {
            const int is = l / 16;
            const int q1 = ((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
            const int q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
            const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            y[l + 0] = d * (float)sc[is + 0] * (float)q1;
            y[l + 32] = d * (float)sc[is + 2] * (float)q2;
            y[l + 64] = d * (float)sc[is + 4] * (float)q3;
            y[l + 96] = d * (float)sc[is + 6] * (float)q4;
        }
    }
}

static void deq_q8_K(const uint8_t *b, float *y) {
    const float d = hy_load_f32(b + HY_Q8_K_D);
    const int8_t *qs = (const int8_t *)(b + HY_Q8_K_QS);
    for (int j = 0; j < 256; j++) y[j] = (float)qs[j] * d;
}

hyperion_status hy_dequantize_row(uint32_t type, const void *src, float *dst, int64_t n) {
    const hy_type_info *info = hy_type_get(type);
    if (!info || !hy_type_is_supported(type))
        return HY_RAISE_WITH(HYPERION_MODEL_UNSUPPORTED, "use one of f32, f16, bf16, q4_0, q8_0, q4_K, q5_K, q6_K",
                             ((hy_field[]){ HY_TXT("field", "type"), HY_NUM("value", type) }),
                             "no dequantizer for tensor type %s (%u)", info ? info->name : "unknown", type);
    if (!src || !dst)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", src ? "dst" : "src") }),
                             "dequantize: %s must not be NULL", src ? "dst" : "src");
    if (n <= 0 || n % info->block_size != 0)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "n must be a positive multiple of the block size",
                             ((hy_field[]){ HY_TXT("field", "n"), HY_NUM("value", n), HY_NUM("block_size", info->block_size) }),
                             "dequantize %s: %lld elements is not a positive multiple of %u", info->name, (long long)n,
                             info->block_size);
    const uint8_t *b = src;
    const int64_t nb = n / info->block_size;
    switch (type) {
    case HY_TYPE_F32: memcpy(dst, src, (size_t)n * sizeof(float)); break;
    case HY_TYPE_F16: for (int64_t i = 0; i < n; i++) dst[i] = hy_load_f16(b + 2 * i); break;
    case HY_TYPE_BF16: for (int64_t i = 0; i < n; i++) dst[i] = hy_bf16_to_float(hy_load_u16(b + 2 * i)); break;
    case HY_TYPE_Q4_0: for (int64_t i = 0; i < nb; i++) deq_q4_0(b + i * 18, dst + i * 32); break;
    case HY_TYPE_Q8_0: for (int64_t i = 0; i < nb; i++) deq_q8_0(b + i * 34, dst + i * 32); break;
    case HY_TYPE_Q4_K: for (int64_t i = 0; i < nb; i++) deq_q4_K(b + i * 144, dst + i * 256); break;
    case HY_TYPE_Q5_K: for (int64_t i = 0; i < nb; i++) deq_q5_K(b + i * 176, dst + i * 256); break;
    case HY_TYPE_Q6_K: for (int64_t i = 0; i < nb; i++) deq_q6_K(b + i * 210, dst + i * 256); break;
    case HY_TYPE_Q8_K: for (int64_t i = 0; i < nb; i++) deq_q8_K(b + i * 292, dst + i * 256); break;
    default: break; /* unreachable: checked above */
    }
    return HYPERION_OK;
}

/* ---- activations ---- */

uint32_t hy_activation_type(uint32_t weight_type) {
    switch (weight_type) {
    case HY_TYPE_F32: case HY_TYPE_F16: case HY_TYPE_BF16: return HY_TYPE_F32;
    case HY_TYPE_Q4_0: case HY_TYPE_Q8_0: return HY_TYPE_Q8_0;
    case HY_TYPE_Q4_K: case HY_TYPE_Q5_K: case HY_TYPE_Q6_K: return HY_TYPE_Q8_K;
    default: return UINT32_MAX;
    }
}

size_t hy_activation_row_bytes(uint32_t weight_type, int64_t n) {
    const uint32_t at = hy_activation_type(weight_type);
    const hy_type_info *w = hy_type_get(weight_type);
    if (at == UINT32_MAX || !w || n <= 0 || n % w->block_size != 0) return 0;
    return hy_type_row_bytes(at, (uint64_t)n);
}

hyperion_status hy_quantize_activations(uint32_t weight_type, const float *x, void *xq, int64_t n) {
    const uint32_t at = hy_activation_type(weight_type);
    if (at == UINT32_MAX)
        return HY_RAISE_WITH(HYPERION_MODEL_UNSUPPORTED, NULL,
                             ((hy_field[]){ HY_TXT("field", "type"), HY_NUM("value", weight_type) }),
                             "no activation format for weight type %u", weight_type);
    if (!x || !xq)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", x ? "xq" : "x") }),
                             "quantize activations: %s must not be NULL", x ? "xq" : "x");
    if (hy_activation_row_bytes(weight_type, n) == 0)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "n must be a positive multiple of the weight block size",
                             ((hy_field[]){ HY_TXT("field", "n"), HY_NUM("value", n) }),
                             "quantize activations: bad element count %lld", (long long)n);
    switch (at) {
    case HY_TYPE_Q8_0: hy_quant()->quantize_q8_0(x, xq, n); break;
    case HY_TYPE_Q8_K: hy_quant()->quantize_q8_K(x, xq, n); break;
    default: memcpy(xq, x, (size_t)n * sizeof(float)); break;
    }
    return HYPERION_OK;
}

float hy_dot_row(uint32_t weight_type, const void *w_row, const void *xq_row, int64_t n) {
    const int wt = hy_wtype_of(weight_type);
    if (wt < 0 || !w_row || !xq_row || hy_activation_row_bytes(weight_type, n) == 0) return 0.0f;
    return hy_quant()->dot[wt](w_row, xq_row, n);
}
