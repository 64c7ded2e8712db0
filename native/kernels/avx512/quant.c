/* quant.c (avx512) — the "quant" group for avx512: see kernels/x86/quant_impl.h. */
/* no VNNI here: this table also serves AVX-512 CPUs without it, and GCC would
 * otherwise auto-vectorize integer loops into vpdpbusd (the unit is compiled
 * with -mavx512vnni for its VNNI sibling) */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC target("no-avx512vnni")
#endif
#define HY_QUANT_TABLE hy_quant_kernels_avx512
#include "kernels/x86/quant_impl.h"
