/* test_kernels_vec.c — every SIMD version of the vec group against the scalar
 * reference, on odd sizes (0..67 and some larger), and the SIMD switch. */
#include "harness.h"
#include "kernels/kernels.h"

#include <stdlib.h>

static float rand_float(unsigned *state) {
    *state = *state * 1664525u + 1013904223u;
    return (float)((*state >> 8) & 0xFFFF) / 32768.0f - 1.0f;
}

static void check_isa(hyperion_isa isa) {
    const hy_vec_kernels *ref = hy_kernel_table_for(HY_KGROUP_VEC, HYPERION_ISA_SCALAR);
    const hy_vec_kernels *k = hy_kernel_table_for(HY_KGROUP_VEC, isa);
    if (!k) {
        printf("    (%s not available on this CPU: skipped)\n", hyperionIsaName(isa));
        return;
    }
    static const size_t big_sizes[] = { 127, 128, 129, 1000, 4099 };
    unsigned seed = 12345;
    for (size_t t = 0; t < 68 + 5; t++) {
        size_t n = t < 68 ? t : big_sizes[t - 68];
        float *a = malloc((n + 1) * sizeof(float)), *b = malloc((n + 1) * sizeof(float));
        float *y1 = malloc((n + 1) * sizeof(float)), *y2 = malloc((n + 1) * sizeof(float));
        for (size_t i = 0; i < n; i++) {
            a[i] = rand_float(&seed);
            b[i] = rand_float(&seed);
            y1[i] = y2[i] = rand_float(&seed);
        }
        double norm = 0;
        for (size_t i = 0; i < n; i++) norm += fabs((double)a[i] * b[i]);
        HY_CHECK_NEAR(k->dot_f32(a, b, n), ref->dot_f32(a, b, n), 1e-6 * norm + 1e-7);
        ref->axpy_f32(y1, a, 0.37f, n);
        k->axpy_f32(y2, a, 0.37f, n);
        for (size_t i = 0; i < n; i++) HY_CHECK_NEAR(y1[i], y2[i], 1e-6);
        ref->scale_f32(y1, -1.5f, n);
        k->scale_f32(y2, -1.5f, n);
        for (size_t i = 0; i < n; i++) HY_CHECK_NEAR(y1[i], y2[i], 1e-6);
        if (n > 0) {
            a[n / 2] = 7.0f;
            HY_CHECK_NEAR(k->max_f32(a, n), ref->max_f32(a, n), 0);
        }
        free(a); free(b); free(y1); free(y2);
    }
}

HY_TEST(vec_avx2_matches_scalar_on_odd_sizes) { check_isa(HYPERION_ISA_AVX2); }
HY_TEST(vec_avx512_matches_scalar_on_odd_sizes) { check_isa(HYPERION_ISA_AVX512); }
HY_TEST(vec_neon_matches_scalar_on_odd_sizes) { check_isa(HYPERION_ISA_NEON); }

HY_TEST(enable_simd_switches_to_scalar_and_back) {
    hyperion_isa isa;
    HY_CHECK_INT(hyperionEnableSIMD("vec", 0), HYPERION_OK);
    HY_CHECK_INT(hyperionGetKernelIsa("vec", &isa), HYPERION_OK);
    HY_CHECK_INT(isa, HYPERION_ISA_SCALAR);
    HY_CHECK(hy_vec() == &hy_vec_kernels_scalar);
    HY_CHECK_INT(hyperionEnableSIMD("all", 1), HYPERION_OK);
    HY_CHECK_INT(hyperionGetKernelIsa("vec", &isa), HYPERION_OK);
    HY_CHECK_INT(isa, hyperionBestIsa());
    HY_CHECK_INT(hyperionEnableSIMD("nonsense", 0), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_STR(hyperionGetLastError()->fields[0].text, "ops");
}
