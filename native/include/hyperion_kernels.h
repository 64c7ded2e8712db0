/*
 * hyperion_kernels.h — SIMD selection.
 *
 * Each kernel has a scalar reference and, where it pays, AVX2 and AVX-512
 * versions compiled in their own units with their own flags. The best version
 * the CPU (and OS) supports is chosen once, at first use; hyperionEnableSIMD can
 * force the scalar path for testing and debugging.
 */
#ifndef HYPERION_KERNELS_H
#define HYPERION_KERNELS_H

#include "hyperion.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum hyperion_isa {
    HYPERION_ISA_SCALAR = 0,
    HYPERION_ISA_AVX2 = 1,   /* AVX2 + FMA + F16C */
    HYPERION_ISA_AVX512 = 2, /* AVX-512 F/BW/VL (+VNNI where present) */
    HYPERION_ISA_NEON = 3
} hyperion_isa;

/* "scalar", "avx2", "avx512", "neon". Static string. */
const char *hyperionIsaName(hyperion_isa isa);

/* The best instruction set this CPU and OS support among those compiled in. */
hyperion_isa hyperionBestIsa(void);

/* Enable (on = 1) or disable (on = 0) the SIMD versions of the named kernel
 * group, or of every group with ops = "all". Disabled groups use the scalar
 * reference. HYPERION_INVALID_ARGUMENT names an unknown group. Safe to call at
 * any time; kernels already running finish on the version they started with. */
hyperion_status hyperionEnableSIMD(const char *ops, int on);

/* The instruction set the named group uses now (after hyperionEnableSIMD). */
hyperion_status hyperionGetKernelIsa(const char *ops, hyperion_isa *isa);

/* The names of the kernel groups, NULL-terminated. */
const char *const *hyperionKernelGroups(void);

#ifdef __cplusplus
}
#endif

#endif /* HYPERION_KERNELS_H */
