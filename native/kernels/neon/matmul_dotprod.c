/* matmul_dotprod.c (NEON + dotprod) — the "matmul" group with SDOT; compiled
 * with -march=armv8.2-a+dotprod (source group neon_dotprod). See
 * kernels/neon/matmul_impl.h. */
#define HY_NEON_DOTPROD 1
#define HY_MATMUL_TABLE hy_matmul_kernels_neon_dotprod
#include "kernels/neon/matmul_impl.h"
