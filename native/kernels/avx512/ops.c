/* ops.c (avx512) — the "ops" and "attention" groups for avx512: see kernels/x86/ops_impl.h. */
/* no VNNI here (see quant.c) */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC target("no-avx512vnni")
#endif
#define HY_OPS_TABLE hy_ops_kernels_avx512
#define HY_ATTN_TABLE hy_attn_kernels_avx512
#include "kernels/x86/ops_impl.h"
