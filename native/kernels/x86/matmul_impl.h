/*
 * matmul_impl.h — the x86 "matmul" group table: matrix-vector products from
 * matvec_impl.h and matrix-matrix products. The including unit defines
 * HY_MATMUL_TABLE (and HY_X86_VNNI for the VNNI variant).
 *
 * Matrix-matrix products run over blocks of HY_MM_ROWS weight rows: for each
 * block, every token's matrix-vector product on those rows, so the block's
 * weights are read from memory once and then served from the cache.
 */
#include "kernels/kernels.h"
#include "kernels/x86/matvec_impl.h"

#define HY_MM_ROWS 16

#define HY_MATMUL_BY_ROWS(name)                                                                              \
    static void matmul_##name(const uint8_t *w, size_t rb, int64_t n, const void *xq, size_t xrb, int64_t nt, \
                              float *y, int64_t ys, int64_t r0, int64_t r1) {                               \
        for (int64_t rb0 = r0; rb0 < r1; rb0 += HY_MM_ROWS) {                                               \
            const int64_t rb1 = rb0 + HY_MM_ROWS < r1 ? rb0 + HY_MM_ROWS : r1;                              \
            for (int64_t t = 0; t < nt; t++)                                                                \
                matvec_##name(w, rb, n, (const uint8_t *)xq + (size_t)t * xrb, y + t * ys, rb0, rb1);       \
        }                                                                                                   \
    }

HY_MATMUL_BY_ROWS(f32)
HY_MATMUL_BY_ROWS(f16)
HY_MATMUL_BY_ROWS(bf16)
HY_MATMUL_BY_ROWS(q4_0)
HY_MATMUL_BY_ROWS(q8_0)
HY_MATMUL_BY_ROWS(q4_K)
HY_MATMUL_BY_ROWS(q5_K)
HY_MATMUL_BY_ROWS(q6_K)

const hy_matmul_kernels HY_MATMUL_TABLE = {
    .matvec = { matvec_f32, matvec_f16, matvec_bf16, matvec_q4_0, matvec_q8_0, matvec_q4_K, matvec_q5_K, matvec_q6_K },
    .matmul = { matmul_f32, matmul_f16, matmul_bf16, matmul_q4_0, matmul_q8_0, matmul_q4_K, matmul_q5_K, matmul_q6_K },
};
