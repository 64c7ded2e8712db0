/*
 * matmul.c (scalar) — the reference matrix-vector and matrix-matrix products
 * of the "matmul" group: one reference dot product per (row, token). The SIMD
 * versions are held to these by the tests.
 */
#include "kernels/kernels.h"
#include "kernels/scalar/scalar_kernels.h"

static void matvec(int wt, const uint8_t *w, size_t row_bytes, int64_t n, const void *xq, float *y,
                   int64_t r0, int64_t r1) {
    const hy_dot_fn dot = hy_scalar_dot(wt);
    for (int64_t r = r0; r < r1; r++) y[r] = dot(w + (size_t)r * row_bytes, xq, n);
}

static void matmul(int wt, const uint8_t *w, size_t row_bytes, int64_t n, const void *xq, size_t xq_row_bytes,
                   int64_t n_tokens, float *y, int64_t y_stride, int64_t r0, int64_t r1) {
    const hy_dot_fn dot = hy_scalar_dot(wt);
    const uint8_t *x = xq;
    for (int64_t t = 0; t < n_tokens; t++)
        for (int64_t r = r0; r < r1; r++)
            y[t * y_stride + r] = dot(w + (size_t)r * row_bytes, x + (size_t)t * xq_row_bytes, n);
}

#define PER_TYPE(name, wt)                                                                                   \
    static void matvec_##name(const uint8_t *w, size_t rb, int64_t n, const void *xq, float *y, int64_t r0, \
                              int64_t r1) {                                                                 \
        matvec(wt, w, rb, n, xq, y, r0, r1);                                                                \
    }                                                                                                       \
    static void matmul_##name(const uint8_t *w, size_t rb, int64_t n, const void *xq, size_t xrb, int64_t nt, \
                              float *y, int64_t ys, int64_t r0, int64_t r1, void *scratch) {                \
        (void)scratch;                                                                                      \
        matmul(wt, w, rb, n, xq, xrb, nt, y, ys, r0, r1);                                                   \
    }

static size_t no_scratch(int wt, int64_t n, int64_t n_tokens) {
    (void)wt, (void)n, (void)n_tokens;
    return 0;
}

PER_TYPE(f32, HY_W_F32)
PER_TYPE(f16, HY_W_F16)
PER_TYPE(bf16, HY_W_BF16)
PER_TYPE(q4_0, HY_W_Q4_0)
PER_TYPE(q8_0, HY_W_Q8_0)
PER_TYPE(q4_K, HY_W_Q4_K)
PER_TYPE(q5_K, HY_W_Q5_K)
PER_TYPE(q6_K, HY_W_Q6_K)

const hy_matmul_kernels hy_matmul_kernels_scalar = {
    .matvec = { matvec_f32, matvec_f16, matvec_bf16, matvec_q4_0, matvec_q8_0, matvec_q4_K, matvec_q5_K, matvec_q6_K },
    .matmul = { matmul_f32, matmul_f16, matmul_bf16, matmul_q4_0, matmul_q8_0, matmul_q4_K, matmul_q5_K, matmul_q6_K },
    .matmul_scratch = no_scratch,
};
