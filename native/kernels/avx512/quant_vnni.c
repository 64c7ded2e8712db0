/* quant_vnni.c (AVX-512 + VNNI) — the "quant" group's VNNI variant, chosen on
 * CPUs with AVX512-VNNI: see kernels/x86/quant_impl.h. */
#define HY_X86_VNNI 1
#define HY_QUANT_TABLE hy_quant_kernels_avx512vnni
#include "kernels/x86/quant_impl.h"
