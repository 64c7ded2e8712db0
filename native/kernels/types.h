/*
 * types.h — tensor element types, numbered as GGUF files number them (the ggml
 * type ids), with their block geometry. The GGUF reader uses it to size and
 * validate tensors; the kernels use it to pick dequantizers and dot products.
 *
 * A type id that is absent from this table makes a file invalid; a type that is
 * listed but not supported (Q2_K, IQ*...) makes it unsupported.
 */
#ifndef HYPERION_TYPES_H
#define HYPERION_TYPES_H

#include <stddef.h>
#include <stdint.h>

typedef enum hy_type {
    HY_TYPE_F32 = 0,
    HY_TYPE_F16 = 1,
    HY_TYPE_Q4_0 = 2,
    HY_TYPE_Q4_1 = 3,
    HY_TYPE_Q5_0 = 6,
    HY_TYPE_Q5_1 = 7,
    HY_TYPE_Q8_0 = 8,
    HY_TYPE_Q8_1 = 9,
    HY_TYPE_Q2_K = 10,
    HY_TYPE_Q3_K = 11,
    HY_TYPE_Q4_K = 12,
    HY_TYPE_Q5_K = 13,
    HY_TYPE_Q6_K = 14,
    HY_TYPE_Q8_K = 15,
    HY_TYPE_IQ2_XXS = 16,
    HY_TYPE_IQ2_XS = 17,
    HY_TYPE_IQ3_XXS = 18,
    HY_TYPE_IQ1_S = 19,
    HY_TYPE_IQ4_NL = 20,
    HY_TYPE_IQ3_S = 21,
    HY_TYPE_IQ2_S = 22,
    HY_TYPE_IQ4_XS = 23,
    HY_TYPE_I8 = 24,
    HY_TYPE_I16 = 25,
    HY_TYPE_I32 = 26,
    HY_TYPE_I64 = 27,
    HY_TYPE_F64 = 28,
    HY_TYPE_IQ1_M = 29,
    HY_TYPE_BF16 = 30,
    HY_TYPE_TQ1_0 = 34,
    HY_TYPE_TQ2_0 = 35,
    HY_TYPE_MXFP4 = 39,
    HY_TYPE_NVFP4 = 40,
    HY_TYPE_Q1_0 = 41,
    HY_TYPE_Q2_0 = 42,
    HY_TYPE_ID_LIMIT = 43 /* ids below this may be listed; anything else is invalid */
} hy_type;

typedef struct hy_type_info {
    const char *name;      /* "q4_K", as ggml names it */
    uint32_t block_size;   /* elements per block */
    uint32_t type_size;    /* bytes per block */
    int known;             /* 1: a type ggml defines */
    int supported;         /* 1: this runtime can compute with it */
} hy_type_info;

/* The info for a type id; NULL when the id is not a known ggml type. */
const hy_type_info *hy_type_get(uint32_t type_id);

/* Bytes of one row of n elements, or 0 when n is not a multiple of the block
 * size or the id is unknown. */
size_t hy_type_row_bytes(uint32_t type_id, uint64_t n);

#endif
