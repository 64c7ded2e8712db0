/* matmul.c (NEON) — the "matmul" group with plain Advanced SIMD: see
 * kernels/neon/matmul_impl.h. */
#define HY_NEON_DOTPROD 0
#define HY_MATMUL_TABLE hy_matmul_kernels_neon
#include "kernels/neon/matmul_impl.h"
