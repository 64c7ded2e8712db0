/*
 * rng.h — the sampler's random numbers: xoshiro256** seeded through
 * splitmix64. Integer-only, so the same seed gives the same sequence on every
 * platform and compiler.
 */
#ifndef HYPERION_SAMPLING_RNG_H
#define HYPERION_SAMPLING_RNG_H

#include <stdint.h>

typedef struct hy_rng {
    uint64_t s[4];
} hy_rng;

/* Seed from any 64-bit value (0 included). */
void hy_rng_seed(hy_rng *rng, uint64_t seed);

/* The next 64 random bits. */
uint64_t hy_rng_next(hy_rng *rng);

/* A uniform double in [0, 1) with 53 random bits. */
double hy_rng_uniform(hy_rng *rng);

#endif
