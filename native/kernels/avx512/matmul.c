/* matmul.c (avx512) — the "matmul" group for avx512: see kernels/x86/matmul_impl.h. */
/* no VNNI here (see quant.c) */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC target("no-avx512vnni")
#endif
#define HY_TILE_BITS 512
#define HY_MATMUL_TABLE hy_matmul_kernels_avx512
#include "kernels/x86/matmul_impl.h"
