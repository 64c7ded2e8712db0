/* quant_dotprod.c (NEON + dotprod) — the "quant" group with SDOT for the int8
 * block sums; compiled with -march=armv8.2-a+dotprod (source group
 * neon_dotprod), reached only when the CPU reports the extension. See
 * kernels/neon/quant_impl.h. */
#define HY_NEON_DOTPROD 1
#define HY_QUANT_TABLE hy_quant_kernels_neon_dotprod
#include "kernels/neon/quant_impl.h"
