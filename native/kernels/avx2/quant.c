/* quant.c (avx2) — the "quant" group for avx2: see kernels/x86/quant_impl.h. */

#define HY_QUANT_TABLE hy_quant_kernels_avx2
#include "kernels/x86/quant_impl.h"
