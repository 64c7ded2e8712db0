/* quant.c (NEON) — the "quant" group with plain Advanced SIMD (int8 block sums
 * by widening multiplies): see kernels/neon/quant_impl.h. */
#define HY_NEON_DOTPROD 0
#define HY_QUANT_TABLE hy_quant_kernels_neon
#include "kernels/neon/quant_impl.h"
