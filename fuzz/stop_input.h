/* stop_input.h — the stop-string matcher fuzz checker (test-only). */
#ifndef HYPERION_FUZZ_STOP_INPUT_H
#define HYPERION_FUZZ_STOP_INPUT_H

#include <stddef.h>
#include <stdint.h>

const char *hy_fuzz_stop_one(const uint8_t *data, size_t size);

#endif
