/* test_llama_util.h — shared by the graph tests: locate the shared model, and
 * run the double-precision reference pass on a loaded model's weights
 * (dequantized to float, so quantized files are compared on the same numbers). */
#ifndef HYPERION_TEST_LLAMA_UTIL_H
#define HYPERION_TEST_LLAMA_UTIL_H

#include "model/llama.h"

/* Path of ../shared/models/<name> (or $HYPERION_SHARED_DIR/models/<name>); NULL when absent. */
const char *hy_test_shared_model(const char *name);

/* Reference logits [n_tokens, n_vocab] (all_logits) for the loaded model. */
hyperion_status hy_test_reference_logits(const hy_llama_model *m, const int32_t *tokens, size_t n, float *logits);

/* Make the model maker's tiny-shape model of type (e.g. "q4_0") and seed as
 * <test tmpdir>/<name>.gguf, writing its path to path (size bytes); returns
 * path, or NULL with the failure recorded in the test. */
const char *hy_test_make_tiny(const char *name, const char *type, uint64_t seed, char *path, size_t size);

/* The same, loaded with hy_llama_model_load; NULL with the failure recorded. */
hy_llama_model *hy_test_load_tiny(const char *name, const char *type, uint64_t seed);

/* All logits [n, n_vocab] of tokens at positions 0 .. n - 1 in a fresh
 * context (at least 128 positions, kv_cache type), processed in chunks of
 * n_batch on a new pool of `threads`; malloc'd (free() it), or NULL with the
 * failure recorded in the test. */
float *hy_test_logits(const hy_llama_model *m, int threads, uint32_t n_batch, hy_kv_cache_type kv_cache,
                      const int32_t *tokens, uint32_t n);

/* Relative L2 distance |a - b| / |b| over n floats. */
double hy_test_rel_l2(const float *a, const float *b, size_t n);

#endif
