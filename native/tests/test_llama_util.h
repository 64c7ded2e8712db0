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

/* Relative L2 distance |a - b| / |b| over n floats. */
double hy_test_rel_l2(const float *a, const float *b, size_t n);

#endif
