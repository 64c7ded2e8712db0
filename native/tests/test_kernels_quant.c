/* test_kernels_quant.c — block formats: F16/BF16 conversion edge cases,
 * dequantization of hand-built blocks (bit-exact), random blocks against an
 * independent element-by-element decoder written from the layout description,
 * and quantize -> dequantize error bounds per type. */
#include "harness.h"
#include "kernels/quant.h"
#include "kernels/types.h"

#include <stdint.h>
#include <stdlib.h>

static uint32_t rng_state = 12345u;
static uint32_t rnd(void) { return hy_test_rand(&rng_state); }
/* roughly normal (sum of 4 uniforms), mean 0, sd ~1 */
static float rnd_normal(void) {
    float s = 0.0f;
    for (int i = 0; i < 4; i++) s += (float)(rnd() & 0xFFFFFF) / 16777216.0f;
    return (s - 2.0f) * 1.7320508f;
}
static uint32_t bits_of(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float float_of(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }

/* ---- F16 / BF16 ---- */

HY_TEST(fp16_conversion_edge_cases) {
    HY_CHECK_INT(hy_fp32_to_fp16(0.0f), 0x0000);
    HY_CHECK_INT(hy_fp32_to_fp16(-0.0f), 0x8000);
    HY_CHECK_INT(hy_fp32_to_fp16(1.0f), 0x3C00);
    HY_CHECK_INT(hy_fp32_to_fp16(-2.0f), 0xC000);
    HY_CHECK_INT(hy_fp32_to_fp16(65504.0f), 0x7BFF);          /* largest finite */
    HY_CHECK_INT(hy_fp32_to_fp16(65519.99f), 0x7BFF);         /* below the midpoint to 65536 */
    HY_CHECK_INT(hy_fp32_to_fp16(65520.0f), 0x7C00);          /* midpoint: ties to even = Inf */
    HY_CHECK_INT(hy_fp32_to_fp16(1e10f), 0x7C00);
    HY_CHECK_INT(hy_fp32_to_fp16(-1e10f), 0xFC00);
    HY_CHECK_INT(hy_fp32_to_fp16(INFINITY), 0x7C00);
    HY_CHECK_INT(hy_fp32_to_fp16(-INFINITY), 0xFC00);
    /* rounding ties in the normal range: 1 + 2^-11 is halfway between 1 and 1 + 2^-10 */
    HY_CHECK_INT(hy_fp32_to_fp16(1.0f + 0x1p-11f), 0x3C00);              /* to even (down) */
    HY_CHECK_INT(hy_fp32_to_fp16(1.0f + 3 * 0x1p-11f), 0x3C02);          /* to even (up) */
    HY_CHECK_INT(hy_fp32_to_fp16(1.0f + 0x1p-11f + 0x1p-20f), 0x3C01);   /* above the tie */
    /* subnormals: units of 2^-24 */
    HY_CHECK_INT(hy_fp32_to_fp16(0x1p-24f), 0x0001);
    HY_CHECK_INT(hy_fp32_to_fp16(0x1p-25f), 0x0000);          /* tie between 0 and 1 unit: even */
    HY_CHECK_INT(hy_fp32_to_fp16(0x1.8p-25f), 0x0001);        /* 0.75 unit */
    HY_CHECK_INT(hy_fp32_to_fp16(0x1.8p-24f), 0x0002);        /* 1.5 units: tie to even 2 */
    HY_CHECK_INT(hy_fp32_to_fp16(0x1.4p-24f), 0x0001);        /* 1.25 units */
    HY_CHECK_INT(hy_fp32_to_fp16(0x1p-14f), 0x0400);          /* smallest normal */
    HY_CHECK_INT(hy_fp32_to_fp16(0x1.ff8p-15f), 0x03FF);      /* largest subnormal */
    HY_CHECK_INT(hy_fp32_to_fp16(0x1.ffcp-15f), 0x0400);      /* tie with the smallest normal: even */
    HY_CHECK_INT(hy_fp32_to_fp16(0x1.ffap-15f), 0x03FF);      /* below that tie */
    HY_CHECK_INT(hy_fp32_to_fp16(-0x1p-24f), 0x8001);
    HY_CHECK_INT(hy_fp32_to_fp16(1e-30f), 0x0000);
    /* NaN: quiet, sign and top payload bits kept (F16C behaviour) */
    HY_CHECK_INT(hy_fp32_to_fp16(float_of(0x7FC00000u)), 0x7E00);
    HY_CHECK_INT(hy_fp32_to_fp16(float_of(0xFFC00000u)), 0xFE00);
    HY_CHECK_INT(hy_fp32_to_fp16(float_of(0x7F800001u)), 0x7E00); /* signalling: quieted */
    HY_CHECK_INT(hy_fp32_to_fp16(float_of(0x7FA02000u)), 0x7F01);

    HY_CHECK_INT(bits_of(hy_fp16_to_fp32(0x0001)), bits_of(0x1p-24f));
    HY_CHECK_INT(bits_of(hy_fp16_to_fp32(0x03FF)), bits_of(1023 * 0x1p-24f));
    HY_CHECK_INT(bits_of(hy_fp16_to_fp32(0x8000)), 0x80000000u);
    HY_CHECK_INT(bits_of(hy_fp16_to_fp32(0x7BFF)), bits_of(65504.0f));
    HY_CHECK_INT(bits_of(hy_fp16_to_fp32(0x7C00)), 0x7F800000u);
    HY_CHECK_INT(bits_of(hy_fp16_to_fp32(0xFC00)), 0xFF800000u);
    HY_CHECK_INT(bits_of(hy_fp16_to_fp32(0x7E00)), 0x7FC00000u);
    HY_CHECK_INT(bits_of(hy_fp16_to_fp32(0x7D00)), 0x7FE00000u); /* signalling NaN comes back quiet */
    /* every finite half survives the round trip; every NaN stays NaN */
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        const float f = hy_fp16_to_fp32((uint16_t)h);
        if ((h & 0x7C00) == 0x7C00 && (h & 0x3FF)) {
            bad += !isnan(f) || (hy_fp32_to_fp16(f) & 0x7E00) != 0x7E00;
        } else {
            bad += hy_fp32_to_fp16(f) != h;
        }
    }
    HY_CHECK_INT(bad, 0);
}

HY_TEST(bf16_conversion_edge_cases) {
    HY_CHECK_INT(hy_fp32_to_bf16(1.0f), 0x3F80);
    HY_CHECK_INT(hy_fp32_to_bf16(-0.0f), 0x8000);
    HY_CHECK_INT(hy_fp32_to_bf16(float_of(0x3F808000u)), 0x3F80); /* tie: to even (down) */
    HY_CHECK_INT(hy_fp32_to_bf16(float_of(0x3F818000u)), 0x3F82); /* tie: to even (up) */
    HY_CHECK_INT(hy_fp32_to_bf16(float_of(0x3F808001u)), 0x3F81); /* above the tie */
    HY_CHECK_INT(hy_fp32_to_bf16(INFINITY), 0x7F80);
    HY_CHECK_INT(hy_fp32_to_bf16(-INFINITY), 0xFF80);
    HY_CHECK_INT(hy_fp32_to_bf16(float_of(0x7F7FFFFFu)), 0x7F80); /* FLT_MAX rounds to Inf */
    HY_CHECK_INT(hy_fp32_to_bf16(float_of(0x7F800001u)), 0x7FC0); /* signalling NaN: quieted */
    HY_CHECK_INT(hy_fp32_to_bf16(float_of(0xFFC12345u)), 0xFFC1);
    HY_CHECK_INT(hy_fp32_to_bf16(float_of(0x00012345u)), 0x0001); /* subnormal kept, not flushed */
    HY_CHECK_INT(hy_fp32_to_bf16(float_of(0x00008000u)), 0x0000); /* subnormal tie: to even */
    HY_CHECK_INT(bits_of(hy_bf16_to_fp32(0x3F80)), 0x3F800000u);
    HY_CHECK_INT(bits_of(hy_bf16_to_fp32(0x0001)), 0x00010000u);
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        const float f = hy_bf16_to_fp32((uint16_t)h);
        if (isnan(f)) bad += (hy_fp32_to_bf16(f) & 0x7FC0) != 0x7FC0;
        else bad += hy_fp32_to_bf16(f) != h;
    }
    HY_CHECK_INT(bad, 0);
}

/* ---- hand-built blocks ---- */

static void check_row_equal(const float *got, const float *want, int n) {
    int bad = 0;
    for (int i = 0; i < n; i++)
        if (bits_of(got[i]) != bits_of(want[i])) {
            if (bad < 4) hy_test_fail(__FILE__, __LINE__, "element %d: %.9g != %.9g", i, got[i], want[i]);
            bad++;
        }
    HY_CHECK_INT(bad, 0);
}

HY_TEST(dequantize_hand_built_q4_0_q8_0) {
    uint8_t b[2 * 34];
    float out[64], want[64];
    /* Q4_0, two blocks: d = 0.5 and d = -2; nibble j low = j, high = 15 - j */
    for (int k = 0; k < 2; k++) {
        put16(b + 18 * k, k == 0 ? 0x3800 : 0xC000);
        for (int j = 0; j < 16; j++) b[18 * k + 2 + j] = (uint8_t)(j | ((15 - j) << 4));
    }
    for (int j = 0; j < 16; j++) {
        want[j] = (float)(j - 8) * 0.5f;
        want[j + 16] = (float)(7 - j) * 0.5f;
        want[32 + j] = (float)(j - 8) * -2.0f;
        want[48 + j] = (float)(7 - j) * -2.0f;
    }
    HY_CHECK_INT(hy_dequantize_row(HY_TYPE_Q4_0, b, out, 64), HYPERION_OK);
    check_row_equal(out, want, 64);
    /* Q8_0: d = 0.25, q = j - 16, then a block with d = 0 */
    put16(b, 0x3400);
    put16(b + 34, 0x0000);
    for (int j = 0; j < 32; j++) {
        b[2 + j] = (uint8_t)(int8_t)(j - 16);
        b[36 + j] = (uint8_t)(int8_t)(127 - j);
        want[j] = (float)(j - 16) * 0.25f;
        want[32 + j] = 0.0f;
    }
    HY_CHECK_INT(hy_dequantize_row(HY_TYPE_Q8_0, b, out, 64), HYPERION_OK);
    check_row_equal(out, want, 64);
}

/* scales[12] packed from 8 six-bit scales and mins, straight from the layout:
 * bytes 0-3: scale j low 6 bits, top 2 bits of scale j+4; bytes 4-7: min j and
 * the top 2 bits of min j+4; bytes 8-11: low nibbles of scale / min j+4. */
static void pack_scales_by_hand(const int *sc, const int *mn, uint8_t *s) {
    for (int j = 0; j < 4; j++) {
        s[j] = (uint8_t)(sc[j] | ((sc[j + 4] >> 4) << 6));
        s[j + 4] = (uint8_t)(mn[j] | ((mn[j + 4] >> 4) << 6));
        s[j + 8] = (uint8_t)((sc[j + 4] & 15) | ((mn[j + 4] & 15) << 4));
    }
}

HY_TEST(dequantize_hand_built_q4_K_q5_K) {
    static const int sc[8] = { 1, 2, 3, 60, 17, 33, 48, 63 }, mn[8] = { 0, 5, 10, 63, 16, 32, 47, 1 };
    uint8_t b[176];
    float out[256], want[256];
    /* Q4_K: d = 1, dmin = 0.5, element l of sub-block j: q = l % 16 (j even) or 15 - l % 16 (j odd) */
    put16(b, 0x3C00);
    put16(b + 2, 0x3800);
    pack_scales_by_hand(sc, mn, b + 4);
    for (int c = 0; c < 4; c++)
        for (int l = 0; l < 32; l++) b[16 + 32 * c + l] = (uint8_t)((l % 16) | ((15 - l % 16) << 4));
    for (int e = 0; e < 256; e++) {
        const int j = e / 32, l = e % 32, q = j % 2 == 0 ? l % 16 : 15 - l % 16;
        want[e] = (float)(sc[j] * q) - 0.5f * (float)mn[j]; /* exact: small integers and halves */
    }
    HY_CHECK_INT(hy_dequantize_row(HY_TYPE_Q4_K, b, out, 256), HYPERION_OK);
    check_row_equal(out, want, 256);
    /* Q5_K: same scales; the fifth bit set for odd l in every sub-block */
    put16(b, 0x3C00);
    put16(b + 2, 0x3800);
    pack_scales_by_hand(sc, mn, b + 4);
    for (int l = 0; l < 32; l++) b[16 + l] = (uint8_t)(l % 2 ? 0xFF : 0x00);
    for (int c = 0; c < 4; c++)
        for (int l = 0; l < 32; l++) b[48 + 32 * c + l] = (uint8_t)((l % 16) | ((15 - l % 16) << 4));
    for (int e = 0; e < 256; e++) {
        const int j = e / 32, l = e % 32, q = (j % 2 == 0 ? l % 16 : 15 - l % 16) + (l % 2 ? 16 : 0);
        want[e] = (float)(sc[j] * q) - 0.5f * (float)mn[j];
    }
    HY_CHECK_INT(hy_dequantize_row(HY_TYPE_Q5_K, b, out, 256), HYPERION_OK);
    check_row_equal(out, want, 256);
}

HY_TEST(dequantize_hand_built_q6_K_q8_K) {
    uint8_t b[292];
    float out[256], want[256];
    /* Q6_K: every element q = 0..63 by position (e % 64), scales[s] = s - 8, d = 0.25 */
    memset(b, 0, sizeof b);
    int q[256];
    for (int e = 0; e < 256; e++) q[e] = e % 64;
    for (int h = 0; h < 2; h++)
        for (int l = 0; l < 32; l++) {
            const int *Q = q + 128 * h;
            b[64 * h + l] = (uint8_t)((Q[l] & 15) | ((Q[l + 64] & 15) << 4));
            b[64 * h + l + 32] = (uint8_t)((Q[l + 32] & 15) | ((Q[l + 96] & 15) << 4));
            b[128 + 32 * h + l] = (uint8_t)((Q[l] >> 4) | ((Q[l + 32] >> 4) << 2) | ((Q[l + 64] >> 4) << 4) | ((Q[l + 96] >> 4) << 6));
        }
    for (int s = 0; s < 16; s++) b[192 + s] = (uint8_t)(int8_t)(s - 8);
    put16(b + 208, 0x3400);
    for (int e = 0; e < 256; e++) want[e] = (0.25f * (float)(e / 16 - 8)) * (float)(q[e] - 32); /* -0 included */
    HY_CHECK_INT(hy_dequantize_row(HY_TYPE_Q6_K, b, out, 256), HYPERION_OK);
    check_row_equal(out, want, 256);
    /* Q8_K: d = -1.5 (f32), q = e - 128 */
    const float d = -1.5f;
    memcpy(b, &d, 4);
    for (int e = 0; e < 256; e++) {
        b[4 + e] = (uint8_t)(int8_t)(e - 128);
        want[e] = (float)(e - 128) * -1.5f;
    }
    HY_CHECK_INT(hy_dequantize_row(HY_TYPE_Q8_K, b, out, 256), HYPERION_OK);
    check_row_equal(out, want, 256);
}

HY_TEST(dequantize_float_rows) {
    float src[5] = { 1.5f, -0.0f, 65504.0f, 1e-7f, -3.25f }, out[5];
    HY_CHECK_INT(hy_dequantize_row(HY_TYPE_F32, src, out, 5), HYPERION_OK);
    check_row_equal(out, src, 5);
    uint16_t h[5] = { 0x3E00, 0x8000, 0x7BFF, 0x0001, 0xC280 };
    const float hw[5] = { 1.5f, -0.0f, 65504.0f, 0x1p-24f, -3.25f };
    HY_CHECK_INT(hy_dequantize_row(HY_TYPE_F16, h, out, 5), HYPERION_OK);
    check_row_equal(out, hw, 5);
    uint16_t bf[5] = { 0x3FC0, 0x8000, 0x477F, 0x0001, 0xC050 };
    const float bw[5] = { 1.5f, -0.0f, 65280.0f, float_of(0x00010000u), -3.25f };
    HY_CHECK_INT(hy_dequantize_row(HY_TYPE_BF16, bf, out, 5), HYPERION_OK);
    check_row_equal(out, bw, 5);
}

/* ---- random blocks against an element-by-element decoder ---- */

static float ref_scale_min(const uint8_t *s, int j, int want_min) {
    /* six-bit field j of 8 (scale) or of the mins, read bit by bit from the layout */
    if (j < 4) return (float)(want_min ? (s[4 + j] & 63) : (s[j] & 63));
    const int lo = want_min ? s[4 + j] >> 4 : s[4 + j] & 15;
    const int hi = want_min ? s[j] >> 6 : s[j - 4] >> 6;
    return (float)(lo | (hi << 4));
}

/* element e of one block of `type` as ggml computes it */
static float ref_element(uint32_t type, const uint8_t *b, int e) {
    switch (type) {
    case HY_TYPE_Q4_0: {
        const int q = e < 16 ? b[2 + e] & 15 : b[2 + e - 16] >> 4;
        return (float)(q - 8) * hy_fp16_to_fp32((uint16_t)(b[0] | b[1] << 8));
    }
    case HY_TYPE_Q8_0: return (float)(int8_t)b[2 + e] * hy_fp16_to_fp32((uint16_t)(b[0] | b[1] << 8));
    case HY_TYPE_Q4_K:
    case HY_TYPE_Q5_K: {
        const int five = type == HY_TYPE_Q5_K, j = e / 32, l = e % 32;
        const uint8_t *qs = b + (five ? 48 : 16) + 32 * (j / 2);
        int q = j % 2 == 0 ? qs[l] & 15 : qs[l] >> 4;
        if (five) q += ((b[16 + l] >> j) & 1) * 16;
        const float d = hy_fp16_to_fp32((uint16_t)(b[0] | b[1] << 8));
        const float dmin = hy_fp16_to_fp32((uint16_t)(b[2] | b[3] << 8));
        const float d1 = d * ref_scale_min(b + 4, j, 0), m1 = dmin * ref_scale_min(b + 4, j, 1);
        return d1 * (float)q - m1;
    }
    case HY_TYPE_Q6_K: {
        const int h = e / 128, r = e % 128, g = r / 32, l = r % 32;
        const uint8_t ql = b[64 * h + l + (g % 2) * 32];
        const int low = g < 2 ? ql & 15 : ql >> 4;
        const int high = (b[128 + 32 * h + l] >> (2 * g)) & 3;
        const float d = hy_fp16_to_fp32((uint16_t)(b[208] | b[209] << 8));
        return d * (float)(int8_t)b[192 + e / 16] * (float)((low | (high << 4)) - 32);
    }
    }
    return NAN;
}

HY_TEST(dequantize_random_blocks_match_element_decoder) {
    static const uint32_t types[] = { HY_TYPE_Q4_0, HY_TYPE_Q8_0, HY_TYPE_Q4_K, HY_TYPE_Q5_K, HY_TYPE_Q6_K };
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        const hy_type_info *info = hy_type_get(types[t]);
        const int nb = 7, n = nb * (int)info->block_size;
        uint8_t *data = malloc((size_t)nb * info->type_size);
        float *out = malloc((size_t)n * sizeof(float));
        for (size_t i = 0; i < (size_t)nb * info->type_size; i++) data[i] = (uint8_t)rnd();
        for (int k = 0; k < nb; k++) { /* finite scales in a sane range */
            uint8_t *b = data + (size_t)k * info->type_size;
            const uint16_t h1 = (uint16_t)(0x2000 + (rnd() % 0x2000) + ((rnd() & 1) << 15));
            const uint16_t h2 = (uint16_t)(0x2000 + (rnd() % 0x2000));
            if (types[t] == HY_TYPE_Q6_K) put16(b + 208, h1);
            else put16(b, h1);
            if (types[t] == HY_TYPE_Q4_K || types[t] == HY_TYPE_Q5_K) put16(b + 2, h2);
        }
        HY_CHECK_INT(hy_dequantize_row(types[t], data, out, n), HYPERION_OK);
        int bad = 0;
        for (int e = 0; e < n; e++) {
            const float want = ref_element(types[t], data + (size_t)(e / (int)info->block_size) * info->type_size,
                                           e % (int)info->block_size);
            if (bits_of(out[e]) != bits_of(want)) {
                if (bad < 3) printf("    %s element %d: %.9g != %.9g\n", info->name, e, out[e], want);
                bad++;
            }
        }
        HY_CHECK_INT(bad, 0);
        free(data);
        free(out);
    }
}

HY_TEST(dequantize_rejects_bad_arguments) {
    float out[64];
    uint8_t b[64] = { 0 };
    HY_CHECK_INT(hy_dequantize_row(HY_TYPE_Q4_0, b, out, 33), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_STR(hyperionGetLastError()->fields[0].text, "n");
    HY_CHECK_INT(hy_dequantize_row(HY_TYPE_Q4_0, b, out, 0), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_INT(hy_dequantize_row(HY_TYPE_Q4_0, NULL, out, 32), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_INT(hy_dequantize_row(HY_TYPE_Q2_K, b, out, 256), HYPERION_MODEL_UNSUPPORTED);
    HY_CHECK_STR(hyperionGetLastError()->fields[0].text, "type");
    HY_CHECK_INT(hy_dequantize_row(77, b, out, 32), HYPERION_MODEL_UNSUPPORTED);
    HY_CHECK_INT(hy_quantize_row(HY_TYPE_Q4_0, (const float *)b, b, 31), 0);
    HY_CHECK_INT(hy_quantize_row(HY_TYPE_Q2_K, (const float *)b, b, 256), 0);
    HY_CHECK_INT(hy_quantize_row(HY_TYPE_Q4_K, NULL, b, 256), 0);
}

/* ---- quantize -> dequantize ---- */

/* Relative RMS error of quantizing x (n elements) into type and back. */
static double roundtrip_error(uint32_t type, const float *x, int n) {
    uint8_t *q = malloc(hy_type_row_bytes(type, (uint64_t)n));
    float *back = malloc((size_t)n * sizeof(float));
    HY_CHECK_INT(hy_quantize_row(type, x, q, n), hy_type_row_bytes(type, (uint64_t)n));
    HY_CHECK_INT(hy_dequantize_row(type, q, back, n), HYPERION_OK);
    double err = 0, ref = 0;
    for (int i = 0; i < n; i++) {
        err += (double)(back[i] - x[i]) * (back[i] - x[i]);
        ref += (double)x[i] * x[i];
    }
    free(q);
    free(back);
    return ref > 0 ? sqrt(err / ref) : sqrt(err);
}

HY_TEST(quantize_roundtrip_error_bounds) {
    /* Bounds for normally distributed weights. The ideal uniform quantizer
     * with step s has RMS error s / sqrt(12); with b bits over about +-2.5 sd
     * (after per-block scaling) that is ~5 / 2^b / 3.46 of the RMS: 4 bits
     * ~0.09, 5 bits ~0.045, 6 bits ~0.023, 8 bits ~0.006. Q4_0 blocks span the
     * block's own max (tails make it worse: bound 0.12); the K-quants fit
     * every 32 (16) elements with searched scales and beat the naive figure
     * despite 6/8-bit scales (bounds 0.10, 0.05, 0.03); Q8_0 0.01. F16 and
     * BF16 are rounding only: 2^-11 and 2^-8 relative. Measured values are
     * printed so regressions in quality are visible. */
    static const struct { uint32_t type; double bound; } cases[] = {
        { HY_TYPE_Q4_0, 0.12 }, { HY_TYPE_Q8_0, 0.01 }, { HY_TYPE_Q4_K, 0.10 }, { HY_TYPE_Q5_K, 0.05 },
        { HY_TYPE_Q6_K, 0.03 }, { HY_TYPE_F16, 0.0005 }, { HY_TYPE_BF16, 0.004 }, { HY_TYPE_Q8_K, 0.01 },
    };
    const int n = 8192;
    float *x = malloc(n * sizeof(float));
    for (int i = 0; i < n; i++) x[i] = 0.02f * rnd_normal();
    for (int i = 0; i < n; i += 997) x[i] *= 8.0f; /* a few outliers, as real weights have */
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const double e = roundtrip_error(cases[c].type, x, n);
        printf("    %-5s relative RMS error %.5f (bound %.4f)\n", hy_type_get(cases[c].type)->name, e, cases[c].bound);
        HY_CHECK(e < cases[c].bound);
    }
    /* zeros stay zeros, a constant row is reproduced closely */
    for (int i = 0; i < n; i++) x[i] = 0.0f;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) HY_CHECK_NEAR(roundtrip_error(cases[c].type, x, n), 0.0, 0.0);
    for (int i = 0; i < n; i++) x[i] = 0.75f;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) HY_CHECK(roundtrip_error(cases[c].type, x, n) < 0.01);
    free(x);
}

HY_TEST(quantize_k_search_beats_min_max) {
    /* The searched K-quant scales must do better than a plain min/max grid:
     * the min/max error is computed here for Q4_K's sub-blocks of 32 with the
     * 4-bit grid [min, max] (scales not even rounded to 6 bits). */
    const int n = 4096;
    float *x = malloc(n * sizeof(float));
    for (int i = 0; i < n; i++) x[i] = rnd_normal();
    double err = 0, ref = 0;
    for (int j = 0; j < n; j += 32) {
        float lo = x[j], hi = x[j];
        for (int l = 1; l < 32; l++) {
            lo = fminf(lo, x[j + l]);
            hi = fmaxf(hi, x[j + l]);
        }
        lo = fminf(lo, 0.0f);
        const float step = (hi - lo) / 15.0f;
        for (int l = 0; l < 32; l++) {
            const float back = lo + step * roundf((x[j + l] - lo) / step);
            err += (double)(back - x[j + l]) * (back - x[j + l]);
            ref += (double)x[j + l] * x[j + l];
        }
    }
    const double minmax = sqrt(err / ref), searched = roundtrip_error(HY_TYPE_Q4_K, x, n);
    printf("    q4_K searched %.5f vs min/max grid %.5f\n", searched, minmax);
    HY_CHECK(searched < minmax);
    free(x);
}

HY_TEST(type_table_matches_ggml) {
    /* ids, names, elements per block and bytes per block as ggml defines them */
    static const struct { uint32_t id; const char *name; uint32_t bs, ts; int supported; } want[] = {
        { 0, "f32", 1, 4, 1 },       { 1, "f16", 1, 2, 1 },        { 2, "q4_0", 32, 18, 1 },
        { 3, "q4_1", 32, 20, 0 },    { 6, "q5_0", 32, 22, 0 },     { 7, "q5_1", 32, 24, 0 },
        { 8, "q8_0", 32, 34, 1 },    { 9, "q8_1", 32, 36, 0 },     { 10, "q2_K", 256, 84, 0 },
        { 11, "q3_K", 256, 110, 0 }, { 12, "q4_K", 256, 144, 1 },  { 13, "q5_K", 256, 176, 1 },
        { 14, "q6_K", 256, 210, 1 }, { 15, "q8_K", 256, 292, 0 },  { 16, "iq2_xxs", 256, 66, 0 },
        { 17, "iq2_xs", 256, 74, 0 }, { 18, "iq3_xxs", 256, 98, 0 }, { 19, "iq1_s", 256, 50, 0 },
        { 20, "iq4_nl", 32, 18, 0 }, { 21, "iq3_s", 256, 110, 0 }, { 22, "iq2_s", 256, 82, 0 },
        { 23, "iq4_xs", 256, 136, 0 }, { 24, "i8", 1, 1, 0 },      { 25, "i16", 1, 2, 0 },
        { 26, "i32", 1, 4, 0 },      { 27, "i64", 1, 8, 0 },       { 28, "f64", 1, 8, 0 },
        { 29, "iq1_m", 256, 56, 0 }, { 30, "bf16", 1, 2, 1 },      { 34, "tq1_0", 256, 54, 0 },
        { 35, "tq2_0", 256, 66, 0 }, { 39, "mxfp4", 32, 17, 0 },   { 40, "nvfp4", 64, 36, 0 },
        { 41, "q1_0", 128, 18, 0 },  { 42, "q2_0", 64, 18, 0 },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const hy_type_info *t = hy_type_get(want[i].id);
        HY_REQUIRE(t != NULL);
        HY_CHECK_STR(t->name, want[i].name);
        HY_CHECK_INT(t->block_size, want[i].bs);
        HY_CHECK_INT(t->type_size, want[i].ts);
        HY_CHECK_INT(t->supported, want[i].supported);
    }
    /* removed or never assigned ids */
    static const uint32_t gone[] = { 4, 5, 31, 32, 33, 36, 37, 38, 43, 1000 };
    for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++) HY_CHECK(hy_type_get(gone[i]) == NULL);
    HY_CHECK_INT(hy_type_row_bytes(HY_TYPE_Q4_K, 4096), 16 * 144);
    HY_CHECK_INT(hy_type_row_bytes(HY_TYPE_Q4_K, 4000), 0);
}
