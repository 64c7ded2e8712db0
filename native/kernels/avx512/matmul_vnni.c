/* matmul_vnni.c (AVX-512 + VNNI) — the "matmul" group's VNNI variant, chosen
 * on CPUs with AVX512-VNNI: see kernels/x86/matmul_impl.h. */
#define HY_X86_VNNI 1
#define HY_TILE_BITS 512
#define HY_MATMUL_TABLE hy_matmul_kernels_avx512vnni
#include "kernels/x86/matmul_impl.h"
