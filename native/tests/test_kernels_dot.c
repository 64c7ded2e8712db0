/* test_kernels_dot.c — the "quant" group: activation quantizers (every
 * version writes the reference's bytes) and the row dot products of every
 * weight type (every SIMD version against the scalar reference, on block
 * counts 1, 3, 7, 8, 9, 33 and a long row), plus the reference itself against
 * a double-precision dot of the dequantized rows. */
#include "harness.h"
#include "kernels/kernels.h"
#include "kernels/quant.h"
#include "kernels/types.h"

#include <stdint.h>
#include <stdlib.h>

static uint32_t rng_state = 777u;
static uint32_t rnd(void) { return hy_test_rand(&rng_state); }
static float rnd_float(void) { return hy_test_rand_float(&rng_state); }

/* The quant tables to hold to the reference: every SIMD version this CPU runs. */
typedef struct { const char *name; const hy_quant_kernels *k; } qtable;
static int quant_tables(qtable *out) {
    int n = 0;
    const void *t;
    if ((t = hy_kernel_table_for(HY_KGROUP_QUANT, HYPERION_ISA_AVX2))) out[n++] = (qtable){ "avx2", t };
    if ((t = hy_kernel_table_avx512_novnni(HY_KGROUP_QUANT))) out[n++] = (qtable){ "avx512", t };
    if ((t = hy_kernel_table_for(HY_KGROUP_QUANT, HYPERION_ISA_AVX512)) && (n == 0 || t != out[n - 1].k))
        out[n++] = (qtable){ "avx512-vnni", t };
    if ((t = hy_kernel_table_neon_nodotprod(HY_KGROUP_QUANT))) out[n++] = (qtable){ "neon", t };
    if ((t = hy_kernel_table_for(HY_KGROUP_QUANT, HYPERION_ISA_NEON)) && (n == 0 || t != out[n - 1].k))
        out[n++] = (qtable){ "neon-dotprod", t };
    if (n == 0) printf("    (no SIMD version on this CPU: nothing to compare)\n");
    return n;
}

static void fill_activations(float *x, int n, int variant) {
    for (int i = 0; i < n; i++) x[i] = rnd_float() * (variant == 2 ? 1000.0f : 3.0f);
    if (variant == 3) /* blocks too tiny to scale (127 / amax overflows): all zeros in every version */
        for (int i = 0; i < n; i++) x[i] = rnd_float() * (i < 512 ? 1e-38f : 1e-30f);
    if (variant == 1) { /* zero blocks, exact ties, a lone negative maximum */
        for (int i = 0; i < 32 && i < n; i++) x[i] = 0.0f;
        for (int i = 32; i < 64 && i < n; i++) x[i] = (float)(i - 48) * 0.5f;
        if (n > 300) x[300] = -9.0f;
        if (n > 301) x[301] = 9.0f; /* same magnitude later: the first one decides */
    }
}

HY_TEST(activation_quantizers_simd_write_reference_bytes) {
    qtable t[4];
    const int nt = quant_tables(t);
    const hy_quant_kernels *ref = &hy_quant_kernels_scalar;
    for (int variant = 0; variant < 4; variant++) {
        for (int nb = 1; nb <= 9; nb += 2) {
            const int n = 256 * nb;
            float *x = malloc(n * sizeof(float));
            fill_activations(x, n, variant);
            uint8_t *a = malloc(n / 32 * 34 + n / 256 * 292), *b = malloc(n / 32 * 34 + n / 256 * 292);
            for (int i = 0; i < nt; i++) {
                ref->quantize_q8_0(x, a, n);
                t[i].k->quantize_q8_0(x, b, n);
                if (memcmp(a, b, (size_t)(n / 32 * 34)) != 0) hy_test_fail(__FILE__, __LINE__, "%s q8_0 differs (n=%d)", t[i].name, n);
                ref->quantize_q8_K(x, a, n);
                t[i].k->quantize_q8_K(x, b, n);
                if (memcmp(a, b, (size_t)(n / 256 * 292)) != 0) hy_test_fail(__FILE__, __LINE__, "%s q8_K differs (n=%d)", t[i].name, n);
            }
            free(x);
            free(a);
            free(b);
        }
    }
}

HY_TEST(activation_quantizers_reference_properties) {
    const int n = 512;
    float x[512], back[512];
    fill_activations(x, n, 1);
    uint8_t q8k[2 * 292], q80[16 * 34];
    HY_CHECK_INT(hy_quantize_activations(HY_TYPE_Q4_K, x, q8k, n), HYPERION_OK);
    /* bsums are the sums of 16 quants; the largest magnitude maps to -127 */
    for (int b = 0; b < 2; b++) {
        const int8_t *qs = (const int8_t *)(q8k + 292 * b + 4);
        int16_t bs[16];
        memcpy(bs, q8k + 292 * b + 260, sizeof bs);
        for (int g = 0; g < 16; g++) {
            int s = 0;
            for (int j = 0; j < 16; j++) s += qs[16 * g + j];
            HY_CHECK_INT(bs[g], s);
        }
    }
    HY_CHECK_INT((int8_t)q8k[292 + 4 + 300 - 256], -127); /* x[300] = -9, the first of the largest */
    HY_CHECK_INT((int8_t)q8k[292 + 4 + 301 - 256], 127);  /* +9 would be +127 (clamped from 127) */
    /* dequantized activations are close: half a step of amax / 127 */
    HY_CHECK_INT(hy_dequantize_row(HY_TYPE_Q8_K, q8k, back, n), HYPERION_OK);
    for (int i = 0; i < n; i++) HY_CHECK_NEAR(back[i], x[i], 9.0 / 127 * 0.5 * 1.001);
    HY_CHECK_INT(hy_quantize_activations(HY_TYPE_Q4_0, x, q80, n), HYPERION_OK);
    HY_CHECK_INT(hy_dequantize_row(HY_TYPE_Q8_0, q80, back, n), HYPERION_OK);
    for (int b = 0; b < 16; b++) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[32 * b + j]));
        /* half a step, plus the f16 rounding of d (2^-11 relative) times 127 steps */
        for (int j = 0; j < 32; j++) HY_CHECK_NEAR(back[32 * b + j], x[32 * b + j], amax / 127 * (0.5 + 127 * 0x1p-11) * 1.001);
    }
    HY_CHECK_INT(hy_activation_type(HY_TYPE_Q6_K), HY_TYPE_Q8_K);
    HY_CHECK_INT(hy_activation_type(HY_TYPE_Q8_0), HY_TYPE_Q8_0);
    HY_CHECK_INT(hy_activation_type(HY_TYPE_BF16), HY_TYPE_F32);
    HY_CHECK_INT(hy_activation_type(HY_TYPE_Q2_K), UINT32_MAX);
    HY_CHECK_INT(hy_activation_row_bytes(HY_TYPE_Q4_0, 64), 68);
    HY_CHECK_INT(hy_activation_row_bytes(HY_TYPE_Q4_K, 512), 584);
    HY_CHECK_INT(hy_activation_row_bytes(HY_TYPE_F16, 7), 28);
    HY_CHECK_INT(hy_activation_row_bytes(HY_TYPE_Q4_K, 128), 0);
    HY_CHECK_INT(hy_quantize_activations(HY_TYPE_Q4_K, x, q8k, 100), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_INT(hy_quantize_activations(HY_TYPE_IQ2_XS, x, q8k, 256), HYPERION_MODEL_UNSUPPORTED);
}

/* ---- dot products ---- */

static const uint32_t weight_types[] = { HY_TYPE_F32, HY_TYPE_F16, HY_TYPE_BF16, HY_TYPE_Q4_0,
                                         HY_TYPE_Q8_0, HY_TYPE_Q4_K, HY_TYPE_Q5_K, HY_TYPE_Q6_K };

/* A weight row of n elements of type (quantized from random floats, with
 * random garbage mixed into some quant bytes so every bit pattern occurs) and
 * its activation row; returns the sum of |w_i * x_i| over the dequantized
 * values, the scale for tolerances. */
static double make_rows(uint32_t type, int n, uint8_t *w, uint8_t *xq) {
    float *wf = malloc(n * sizeof(float)), *xf = malloc(n * sizeof(float));
    for (int i = 0; i < n; i++) {
        wf[i] = rnd_float() * 0.1f;
        xf[i] = rnd_float() * 2.0f;
    }
    HY_CHECK(hy_quantize_row(type, wf, w, n) == hy_type_row_bytes(type, (uint64_t)n));
    HY_CHECK_INT(hy_quantize_activations(type, xf, xq, n), HYPERION_OK);
    const hy_type_info *info = hy_type_get(type);
    if (info->block_size > 1) { /* scramble quant bytes but keep the scales (first/last bytes) */
        for (int b = 0; b < n / (int)info->block_size; b++) {
            uint8_t *blk = w + (size_t)b * info->type_size;
            const int lo = type == HY_TYPE_Q6_K ? 0 : (type == HY_TYPE_Q4_K || type == HY_TYPE_Q5_K ? 4 : 2);
            const int hi = type == HY_TYPE_Q6_K ? 192 : (int)info->type_size;
            for (int i = lo; i < hi; i++)
                if (rnd() % 3 == 0) blk[i] = (uint8_t)rnd();
        }
    }
    HY_CHECK_INT(hy_dequantize_row(type, w, wf, n), HYPERION_OK);
    HY_CHECK_INT(hy_dequantize_row(hy_activation_type(type), xq, xf, n), HYPERION_OK);
    double s = 0;
    for (int i = 0; i < n; i++) s += fabs((double)wf[i] * xf[i]);
    free(wf);
    free(xf);
    return s;
}

static double dequantized_dot(uint32_t type, const uint8_t *w, const uint8_t *xq, int n) {
    float *wf = malloc(n * sizeof(float)), *xf = malloc(n * sizeof(float));
    hy_dequantize_row(type, w, wf, n);
    hy_dequantize_row(hy_activation_type(type), xq, xf, n);
    double s = 0;
    for (int i = 0; i < n; i++) s += (double)wf[i] * xf[i];
    free(wf);
    free(xf);
    return s;
}

HY_TEST(dot_products_simd_match_scalar_on_odd_block_counts) {
    qtable t[4];
    const int nt = quant_tables(t);
    static const int counts[] = { 1, 3, 7, 8, 9, 16, 17, 33, 300 };
    for (size_t ti = 0; ti < sizeof weight_types / sizeof weight_types[0]; ti++) {
        const uint32_t type = weight_types[ti];
        const int wt = hy_wtype_of(type);
        const hy_type_info *info = hy_type_get(type);
        /* block counts for quants; for float types, odd lengths */
        for (size_t ci = 0; ci < sizeof counts / sizeof counts[0]; ci++) {
            const int n = info->block_size > 1 ? counts[ci] * (int)info->block_size : counts[ci] * 7 + 3;
            if (n > 40000) continue;
            uint8_t *w = malloc(hy_type_row_bytes(type, (uint64_t)n)), *xq = malloc(hy_activation_row_bytes(type, n));
            const double scale = make_rows(type, n, w, xq);
            const float ref = hy_quant_kernels_scalar.dot[wt](w, xq, n);
            /* Reference vs a double dot of the dequantized rows: the block
             * terms of Q4_0 / Q8_0 are exact in double (f16 x f16 scales and
             * small integers), the K-quants' dequantized values carry one
             * float rounding each (d*sc*q - dmin*m): 2e-7 relative of
             * sum |w x|, plus the final rounding to float. */
            HY_CHECK_NEAR(ref, dequantized_dot(type, w, xq, n), 4e-7 * scale + 1e-30);
            /* SIMD vs reference: the same exact integer block sums; each
             * per-block float term is rounded once or twice and the terms are
             * summed in float, in 8 or more lanes, then a reduction tree. The
             * worst-case rounding is (terms per lane + reduction depth) float
             * epsilons of sum |w x|; terms = blocks for quants, n / 4 products
             * for float rows (four accumulators). */
            const double terms = info->block_size > 1 ? n / (double)info->block_size : n / 4.0;
            const double tol = (terms / 8.0 + 8.0) * 1.2e-7 * scale + 1e-30;
            for (int i = 0; i < nt; i++) {
                const float got = t[i].k->dot[wt](w, xq, n);
                if (!(fabs(got - ref) <= tol))
                    hy_test_fail(__FILE__, __LINE__, "%s dot %s n=%d: %.9g vs %.9g", t[i].name, info->name, n, got, ref);
            }
            HY_CHECK_NEAR(hy_dot_row(type, w, xq, n), ref, tol);
            free(w);
            free(xq);
        }
    }
    HY_CHECK_NEAR(hy_dot_row(HY_TYPE_Q2_K, "x", "y", 256), 0.0, 0.0);
}
