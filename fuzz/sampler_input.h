/* sampler_input.h — the sampler fuzz checker (test-only): option validation,
 * creation and a few sampling steps on fuzzed logits (NaN and ±Inf included). */
#ifndef HYPERION_FUZZ_SAMPLER_INPUT_H
#define HYPERION_FUZZ_SAMPLER_INPUT_H

#include <stddef.h>
#include <stdint.h>

const char *hy_fuzz_sampler_one(const uint8_t *data, size_t size);

#endif
