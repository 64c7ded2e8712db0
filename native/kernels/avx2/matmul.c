/* matmul.c (avx2) — the "matmul" group for avx2: see kernels/x86/matmul_impl.h. */

#define HY_TILE_BITS 256
#define HY_MATMUL_TABLE hy_matmul_kernels_avx2
#include "kernels/x86/matmul_impl.h"
