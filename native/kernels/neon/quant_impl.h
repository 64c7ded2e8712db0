/*
 * quant_impl.h — the neon "quant" table: the row dot products of
 * rows_impl.h and the shared activation quantizers (quantize.c). Included once
 * by quant.c (plain NEON) and quant_dotprod.c (SDOT), which define
 * HY_NEON_DOTPROD and HY_QUANT_TABLE (the table's name).
 */
#include "kernels/neon/neon_kernels.h"
#include "kernels/neon/rows_impl.h"

const hy_quant_kernels HY_QUANT_TABLE = {
    .dot = {
        [HY_W_F32] = neon_dot_f32, [HY_W_F16] = neon_dot_f16, [HY_W_BF16] = neon_dot_bf16,
        [HY_W_Q4_0] = neon_dot_q4_0, [HY_W_Q8_0] = neon_dot_q8_0,
        [HY_W_Q4_K] = neon_dot_q4_K, [HY_W_Q5_K] = neon_dot_q5_K, [HY_W_Q6_K] = neon_dot_q6_K,
    },
    .quantize_q8_0 = hy_neon_quantize_q8_0,
    .quantize_q8_K = hy_neon_quantize_q8_K,
};
