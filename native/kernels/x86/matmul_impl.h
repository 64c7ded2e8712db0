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
#include "kernels/x86/tile_impl.h"
#include "kernels/x86/ftile_impl.h"

/* From this many tokens on, quantized weights go through the register tiles. */
#define HY_TILE_MIN_TOKENS 4

#define HY_MM_ROWS 16

#define HY_MATMUL_BY_ROWS(name)                                                                              \
    static void matmul_rows_##name(const uint8_t *w, size_t rb, int64_t n, const void *xq, size_t xrb,       \
                                   int64_t nt, float *y, int64_t ys, int64_t r0, int64_t r1) {              \
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

/* float weights: register tiles when there is scratch and enough tokens */
#define HY_MATMUL_FLOAT(name, kind)                                                                          \
    static void matmul_##name(const uint8_t *w, size_t rb, int64_t n, const void *xq, size_t xrb, int64_t nt, \
                              float *y, int64_t ys, int64_t r0, int64_t r1, void *scratch) {                \
        if (scratch && nt >= HY_TILE_MIN_TOKENS)                                                            \
            hy_ftile_matmul(kind, w, rb, n, xq, xrb, nt, y, ys, r0, r1, scratch);                           \
        else                                                                                                \
            matmul_rows_##name(w, rb, n, xq, xrb, nt, y, ys, r0, r1);                                       \
    }

HY_MATMUL_FLOAT(f32, HY_TF_F32)
HY_MATMUL_FLOAT(f16, HY_TF_F16)
HY_MATMUL_FLOAT(bf16, HY_TF_BF16)

/* quantized weights: register tiles when there is scratch and enough tokens */
#define HY_MATMUL_QUANT(name, kind)                                                                          \
    static void matmul_##name(const uint8_t *w, size_t rb, int64_t n, const void *xq, size_t xrb, int64_t nt, \
                              float *y, int64_t ys, int64_t r0, int64_t r1, void *scratch) {                \
        if (scratch && nt >= HY_TILE_MIN_TOKENS)                                                            \
            hy_tile_matmul(kind, w, rb, n, 0, xq, xrb, nt, y, ys, r0, r1, scratch);                         \
        else                                                                                                \
            matmul_rows_##name(w, rb, n, xq, xrb, nt, y, ys, r0, r1);                                       \
    }

HY_MATMUL_QUANT(q4_0, HY_TK_Q4_0)
HY_MATMUL_QUANT(q8_0, HY_TK_Q8_0)
HY_MATMUL_QUANT(q4_K, HY_TK_Q4_K)
HY_MATMUL_QUANT(q5_K, HY_TK_Q5_K)
HY_MATMUL_QUANT(q6_K, HY_TK_Q6_K)

#if HY_X512_X8
HY_MATMUL_BY_ROWS(q4_0_x8)
HY_MATMUL_BY_ROWS(q8_0_x8)

/* Q4_0 / Q8_0 in the x8 layout: the tile unpack reads it in place (x8_blocks) */
#define HY_MATMUL_X8(name, kind)                                                                             \
    static void matmul_##name##_x8(const uint8_t *w, size_t rb, int64_t n, const void *xq, size_t xrb,        \
                                   int64_t nt, float *y, int64_t ys, int64_t r0, int64_t r1, void *scratch) { \
        if (scratch && nt >= HY_TILE_MIN_TOKENS)                                                            \
            hy_tile_matmul(kind, w, rb, n, n / 32 & ~(int64_t)7, xq, xrb, nt, y, ys, r0, r1, scratch);       \
        else                                                                                                \
            matmul_rows_##name##_x8(w, rb, n, xq, xrb, nt, y, ys, r0, r1);                                  \
    }
HY_MATMUL_X8(q4_0, HY_TK_Q4_0)
HY_MATMUL_X8(q8_0, HY_TK_Q8_0)
#define HY_X8_KERNELS                                                                                        \
    .matvec_x8 = { [HY_W_Q4_0] = matvec_q4_0_x8, [HY_W_Q8_0] = matvec_q8_0_x8 },                             \
    .matmul_x8 = { [HY_W_Q4_0] = matmul_q4_0_x8, [HY_W_Q8_0] = matmul_q8_0_x8 },                             \
    .matvec_x8_prepare = { [HY_W_Q4_0] = matvec_q4_0_x8_prepare, [HY_W_Q8_0] = matvec_q8_0_x8_prepare },     \
    .matvec_x8_prepped = { [HY_W_Q4_0] = matvec_q4_0_x8_prepped, [HY_W_Q8_0] = matvec_q8_0_x8_prepped },
#else
#define HY_X8_KERNELS
#endif

static size_t matmul_scratch(int wt, int64_t n, int64_t n_tokens) {
    if (n_tokens < HY_TILE_MIN_TOKENS) return 0;
    switch (wt) {
    case HY_W_Q4_0: return hy_tile_scratch(HY_TK_Q4_0, n, n_tokens);
    case HY_W_Q8_0: return hy_tile_scratch(HY_TK_Q8_0, n, n_tokens);
    case HY_W_Q4_K: return hy_tile_scratch(HY_TK_Q4_K, n, n_tokens);
    case HY_W_Q5_K: return hy_tile_scratch(HY_TK_Q5_K, n, n_tokens);
    case HY_W_Q6_K: return hy_tile_scratch(HY_TK_Q6_K, n, n_tokens);
    case HY_W_F32: case HY_W_F16: case HY_W_BF16: return hy_ftile_scratch(n);
    default: return 0;
    }
}

const hy_matmul_kernels HY_MATMUL_TABLE = {
    .matvec = { matvec_f32, matvec_f16, matvec_bf16, matvec_q4_0, matvec_q8_0, matvec_q4_K, matvec_q5_K, matvec_q6_K },
    .matmul = { matmul_f32, matmul_f16, matmul_bf16, matmul_q4_0, matmul_q8_0, matmul_q4_K, matmul_q5_K, matmul_q6_K },
    .matmul_scratch = matmul_scratch,
    .matvec_prepare = { [HY_W_Q4_0] = matvec_q4_0_prepare, [HY_W_Q8_0] = matvec_q8_0_prepare },
    .matvec_prepped = { [HY_W_Q4_0] = matvec_q4_0_prepped, [HY_W_Q8_0] = matvec_q8_0_prepped },
    HY_X8_KERNELS
};
