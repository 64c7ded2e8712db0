/*
 * model.h — a loaded model as the runtime serves it (internal): the llama
 * weights, the thread pool every request on this model runs on, and the
 * bookkeeping that lets several requests use it at once and a dispose wait
 * for them (a reference count: the last release frees).
 */
#ifndef HYPERION_RUNTIME_MODEL_H
#define HYPERION_RUNTIME_MODEL_H

#include "core/atomics.h"

#include "model/llama.h"
#include "runtime/threadpool.h"

typedef struct hy_model_params {
    int32_t threads;        /* <= 0: physical cores */
    uint32_t context_size;  /* default for contexts; 0: min(trained context, 2048) */
    uint32_t batch_size;    /* tokens per forward pass; 0: 64 */
} hy_model_params;

typedef struct hy_model {
    hy_llama_model *llama;
    hy_threadpool *pool;
    hy_model_params params;
    atomic_int refs;
    atomic_int disposed;
    atomic_uint_fast64_t tokens_processed;
    atomic_uint_fast64_t requests;
    uint64_t load_ns;       /* wall time the load took */
} hy_model;

/* Load a model: open and validate the file, bind the weights, start the pool.
 * The caller owns one reference. */
hyperion_status hy_model_load(const char *path, const hy_model_params *params, hy_model **out);

/* Take a reference for a request; HYPERION_DISPOSED once dispose began. */
hyperion_status hy_model_acquire(hy_model *model);

/* Drop a reference; the last one frees the model. */
void hy_model_release(hy_model *model);

/* Mark disposed (new requests fail with HYPERION_DISPOSED) and drop the
 * caller's reference. Requests in flight finish first. */
void hy_model_dispose(hy_model *model);

/* Logits for tokens from a fresh context of exactly n positions (no state is
 * kept): out has n_tokens * n_vocab floats when all_logits, else n_vocab. */
hyperion_status hy_model_evaluate(hy_model *model, const int32_t *tokens, uint32_t n_tokens, int all_logits,
                                  float *out, const atomic_int *abort_flag);

#endif
