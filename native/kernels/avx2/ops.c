/* ops.c (avx2) — the "ops" and "attention" groups for avx2: see kernels/x86/ops_impl.h. */

#define HY_OPS_TABLE hy_ops_kernels_avx2
#define HY_ATTN_TABLE hy_attn_kernels_avx2
#include "kernels/x86/ops_impl.h"
