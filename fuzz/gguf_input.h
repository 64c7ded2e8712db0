/* gguf_input.h — the GGUF fuzz checker: one whole file through the reader,
 * the validator, the typed getters, the llama hyperparameters and the weight
 * binding, and (reports checker) the verify/info JSON reports (test-only). */
#ifndef HYPERION_FUZZ_GGUF_INPUT_H
#define HYPERION_FUZZ_GGUF_INPUT_H

#include <stddef.h>
#include <stdint.h>

/* NULL when every invariant held for data[0..size); else what broke. */
const char *hy_fuzz_gguf_one(const uint8_t *data, size_t size);

/* The same, then hyperionVerifyModel / hyperionGetModelInfo on the bytes:
 * valid JSON, and verify's verdict agreeing with the reader's. */
const char *hy_fuzz_gguf_reports_one(const uint8_t *data, size_t size);

#endif
