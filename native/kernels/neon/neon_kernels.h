/*
 * neon_kernels.h — functions shared between the neon units (the plain NEON
 * unit defines them; the dotprod tables reuse them, they need no SDOT).
 */
#ifndef HYPERION_NEON_KERNELS_H
#define HYPERION_NEON_KERNELS_H

#include <stdint.h>

/* The activation quantizers: the same bytes as hy_scalar_quantize_q8_0 / _q8_K. */
void hy_neon_quantize_q8_0(const float *x, void *y, int64_t n);
void hy_neon_quantize_q8_K(const float *x, void *y, int64_t n);

#endif
