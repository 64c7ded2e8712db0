/* types.c — the ggml tensor type table (see types.h). Ids, names, block sizes
 * and bytes per block checked against ggml's include/ggml.h (enum ggml_type),
 * src/ggml.c (type_traits) and src/ggml-common.h (block structs). */
#include "kernels/types.h"

static const hy_type_info table[HY_TYPE_ID_LIMIT] = {
    [HY_TYPE_F32] = { "f32", 1, 4, 1, 1 },
    [HY_TYPE_F16] = { "f16", 1, 2, 1, 1 },
    [HY_TYPE_Q4_0] = { "q4_0", 32, 18, 1, 1 },
    [HY_TYPE_Q4_1] = { "q4_1", 32, 20, 1, 0 },
    [HY_TYPE_Q5_0] = { "q5_0", 32, 22, 1, 0 },
    [HY_TYPE_Q5_1] = { "q5_1", 32, 24, 1, 0 },
    [HY_TYPE_Q8_0] = { "q8_0", 32, 34, 1, 1 },
    [HY_TYPE_Q8_1] = { "q8_1", 32, 36, 1, 0 },
    [HY_TYPE_Q2_K] = { "q2_K", 256, 84, 1, 0 },
    [HY_TYPE_Q3_K] = { "q3_K", 256, 110, 1, 0 },
    [HY_TYPE_Q4_K] = { "q4_K", 256, 144, 1, 1 },
    [HY_TYPE_Q5_K] = { "q5_K", 256, 176, 1, 1 },
    [HY_TYPE_Q6_K] = { "q6_K", 256, 210, 1, 1 },
    [HY_TYPE_Q8_K] = { "q8_K", 256, 292, 1, 0 },
    [HY_TYPE_IQ2_XXS] = { "iq2_xxs", 256, 66, 1, 0 },
    [HY_TYPE_IQ2_XS] = { "iq2_xs", 256, 74, 1, 0 },
    [HY_TYPE_IQ3_XXS] = { "iq3_xxs", 256, 98, 1, 0 },
    [HY_TYPE_IQ1_S] = { "iq1_s", 256, 50, 1, 0 },
    [HY_TYPE_IQ4_NL] = { "iq4_nl", 32, 18, 1, 0 },
    [HY_TYPE_IQ3_S] = { "iq3_s", 256, 110, 1, 0 },
    [HY_TYPE_IQ2_S] = { "iq2_s", 256, 82, 1, 0 },
    [HY_TYPE_IQ4_XS] = { "iq4_xs", 256, 136, 1, 0 },
    [HY_TYPE_I8] = { "i8", 1, 1, 1, 0 },
    [HY_TYPE_I16] = { "i16", 1, 2, 1, 0 },
    [HY_TYPE_I32] = { "i32", 1, 4, 1, 0 },
    [HY_TYPE_I64] = { "i64", 1, 8, 1, 0 },
    [HY_TYPE_F64] = { "f64", 1, 8, 1, 0 },
    [HY_TYPE_IQ1_M] = { "iq1_m", 256, 56, 1, 0 },
    [HY_TYPE_BF16] = { "bf16", 1, 2, 1, 1 },
    [HY_TYPE_TQ1_0] = { "tq1_0", 256, 54, 1, 0 },
    [HY_TYPE_TQ2_0] = { "tq2_0", 256, 66, 1, 0 },
    [HY_TYPE_MXFP4] = { "mxfp4", 32, 17, 1, 0 },
    [HY_TYPE_NVFP4] = { "nvfp4", 64, 36, 1, 0 },
    [HY_TYPE_Q1_0] = { "q1_0", 128, 18, 1, 0 },
    [HY_TYPE_Q2_0] = { "q2_0", 64, 18, 1, 0 },
};

const hy_type_info *hy_type_get(uint32_t type_id) {
    if (type_id >= HY_TYPE_ID_LIMIT || !table[type_id].known) return NULL;
    return &table[type_id];
}

size_t hy_type_row_bytes(uint32_t type_id, uint64_t n) {
    const hy_type_info *t = hy_type_get(type_id);
    if (!t || n % t->block_size != 0) return 0;
    return (size_t)(n / t->block_size) * t->type_size;
}
