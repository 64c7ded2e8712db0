/*
 * vec_f32.c (scalar) — the reference float vector primitives. Written for
 * clarity; the SIMD versions are held to these by the tests.
 */
#include "kernels/kernels.h"

static float dot_f32(const float *a, const float *b, size_t n) {
    /* accumulate in double: the reference must not be the less exact side */
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) sum += (double)a[i] * (double)b[i];
    return (float)sum;
}

static void axpy_f32(float *y, const float *x, float alpha, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] += alpha * x[i];
}

static void scale_f32(float *x, float alpha, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] *= alpha;
}

static float max_f32(const float *x, size_t n) {
    float m = x[0];
    for (size_t i = 1; i < n; i++)
        if (x[i] > m) m = x[i];
    return m;
}

const hy_vec_kernels hy_vec_kernels_scalar = { dot_f32, axpy_f32, scale_f32, max_f32 };
