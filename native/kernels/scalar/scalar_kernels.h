/*
 * scalar_kernels.h — scalar reference functions shared between the scalar
 * units (and with core code that needs the reference itself, e.g. the
 * reference quantizers).
 */
#ifndef HYPERION_SCALAR_KERNELS_H
#define HYPERION_SCALAR_KERNELS_H

#include <stdint.h>

#include "kernels/kernels.h"

/* The reference activation quantizers (see hy_quantize_activations). */
void hy_scalar_quantize_q8_0(const float *x, void *y, int64_t n);
void hy_scalar_quantize_q8_K(const float *x, void *y, int64_t n);

/* The reference dot product of a weight type index (hy_wtype). */
hy_dot_fn hy_scalar_dot(int wtype);

#endif
