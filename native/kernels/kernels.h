/*
 * kernels.h — the kernel dispatch table (internal).
 *
 * Kernels come in groups ("vec", ...). Each group has one table type listing its
 * functions, and one table per instruction set: a scalar reference (always), and
 * AVX2 / AVX-512 versions compiled in their own units with their own flags. The
 * table in use is chosen from the CPU's features once; hyperionEnableSIMD can
 * switch a group back to the scalar reference.
 *
 * To add a group: a table type here, its tables in scalar/, avx2/, avx512/, a row
 * in dispatch.c's group list.
 */
#ifndef HYPERION_KERNELS_INTERNAL_H
#define HYPERION_KERNELS_INTERNAL_H

#include "core/internal.h"

typedef enum hy_kernel_group {
    HY_KGROUP_VEC = 0,
    HY_KGROUP_COUNT
} hy_kernel_group;

/* The table of `group` in use now. Never NULL. */
const void *hy_kernel_table(hy_kernel_group group);

/* The table of `group` for one instruction set, or NULL when that version is
 * not compiled in or the CPU lacks it. Tests use it to compare versions. */
const void *hy_kernel_table_for(hy_kernel_group group, hyperion_isa isa);

/* ---- group "vec": float vector primitives ---- */
typedef struct hy_vec_kernels {
    /* sum of a[i] * b[i], i < n */
    float (*dot_f32)(const float *a, const float *b, size_t n);
    /* y[i] += alpha * x[i] */
    void (*axpy_f32)(float *y, const float *x, float alpha, size_t n);
    /* x[i] *= alpha */
    void (*scale_f32)(float *x, float alpha, size_t n);
    /* max of x[i], n >= 1 */
    float (*max_f32)(const float *x, size_t n);
} hy_vec_kernels;

extern const hy_vec_kernels hy_vec_kernels_scalar;
#if defined(__x86_64__)
extern const hy_vec_kernels hy_vec_kernels_avx2;
extern const hy_vec_kernels hy_vec_kernels_avx512;
#endif

static inline const hy_vec_kernels *hy_vec(void) {
    return (const hy_vec_kernels *)hy_kernel_table(HY_KGROUP_VEC);
}

#endif
