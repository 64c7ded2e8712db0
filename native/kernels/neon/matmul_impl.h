/*
 * matmul_impl.h — the neon "matmul" table, built on the row dot products of
 * rows_impl.h (inlined here, no call through a table per row). Included once
 * by matmul.c (plain NEON) and matmul_dotprod.c (SDOT), which define
 * HY_NEON_DOTPROD and HY_MATMUL_TABLE.
 *
 * matvec: one dot per row. matmul: for each weight row, its dot with every
 * token's activation row, so the weight row is read from memory once and
 * stays in L1 while the tokens go by; the activations (n_tokens rows) are
 * shared by all rows and stay in L2 for usual prompt sizes. No scratch, no
 * repacking: the same numbers as matvec for every token.
 */
#include "kernels/neon/rows_impl.h"

HY_INLINE void matvec_rows(hy_dot_fn dot, const uint8_t *w, size_t row_bytes, int64_t n, const void *xq, float *y,
                           int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) y[r] = dot(w + (size_t)r * row_bytes, xq, n);
}

HY_INLINE void matmul_rows(hy_dot_fn dot, const uint8_t *w, size_t row_bytes, int64_t n, const void *xq,
                           size_t xq_row_bytes, int64_t n_tokens, float *y, int64_t y_stride, int64_t r0, int64_t r1) {
    const uint8_t *x = xq;
    for (int64_t r = r0; r < r1; r++) {
        const uint8_t *row = w + (size_t)r * row_bytes;
        for (int64_t t = 0; t < n_tokens; t++) y[t * y_stride + r] = dot(row, x + (size_t)t * xq_row_bytes, n);
    }
}

#define HY_NEON_PER_TYPE(name)                                                                                   \
    static void matvec_##name(const uint8_t *w, size_t rb, int64_t n, const void *xq, float *y, int64_t r0,     \
                              int64_t r1) {                                                                     \
        matvec_rows(neon_dot_##name, w, rb, n, xq, y, r0, r1);                                                  \
    }                                                                                                           \
    static void matmul_##name(const uint8_t *w, size_t rb, int64_t n, const void *xq, size_t xrb, int64_t nt,   \
                              float *y, int64_t ys, int64_t r0, int64_t r1, void *scratch) {                    \
        (void)scratch;                                                                                          \
        matmul_rows(neon_dot_##name, w, rb, n, xq, xrb, nt, y, ys, r0, r1);                                     \
    }

HY_NEON_PER_TYPE(f32)
HY_NEON_PER_TYPE(f16)
HY_NEON_PER_TYPE(bf16)
HY_NEON_PER_TYPE(q4_0)
HY_NEON_PER_TYPE(q8_0)
HY_NEON_PER_TYPE(q4_K)
HY_NEON_PER_TYPE(q5_K)
HY_NEON_PER_TYPE(q6_K)

static size_t no_scratch(int wt, int64_t n, int64_t n_tokens) {
    (void)wt, (void)n, (void)n_tokens;
    return 0;
}

const hy_matmul_kernels HY_MATMUL_TABLE = {
    .matvec = { matvec_f32, matvec_f16, matvec_bf16, matvec_q4_0, matvec_q8_0, matvec_q4_K, matvec_q5_K, matvec_q6_K },
    .matmul = { matmul_f32, matmul_f16, matmul_bf16, matmul_q4_0, matmul_q8_0, matmul_q4_K, matmul_q5_K, matmul_q6_K },
    .matmul_scratch = no_scratch,
};
