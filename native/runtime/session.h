/*
 * session.h — a conversation's state on a model (internal): a KV cache, the
 * tokens whose positions it holds, and the logits of the last of them.
 *
 * A session remembers what its cache holds, so a multi-turn conversation that
 * sends the whole history every time only processes the new suffix: a prompt
 * that extends the cached tokens costs only its new tokens; one that departs
 * from them keeps the longest common prefix and drops the rest.
 *
 * Work is done in turns on the model (hy_model_turn_begin): at most one batch
 * of tokens per turn, so sessions sharing a model interleave fairly. A
 * session is used by one thread at a time; several sessions of one model may
 * run on different threads at once.
 */
#ifndef HYPERION_RUNTIME_SESSION_H
#define HYPERION_RUNTIME_SESSION_H

#include "core/atomics.h"

#include "runtime/model.h"

typedef struct hy_session {
    hy_model *model;          /* one reference, released by hy_session_free */
    hy_llama_context *ctx;
    uint32_t n_ctx;
    int32_t *tokens;          /* [n_ctx] the tokens at positions 0 .. n_tokens - 1 of the cache */
    uint32_t n_tokens;
    float *logits;            /* [n_vocab] logits after tokens[n_tokens - 1] */
    int has_logits;           /* logits belong to the current last token */
    /* Its own memory budget, a child of the model's: the session's blocks
     * (cache, buffers, its requests' allocations) count against its limit and
     * the model's, and the model's leak check still sees them. */
    hy_mem_budget *budget;
    hy_resource_limits limits;   /* its own (not narrowed); under model->limits_mu */
    hy_cpu_meter cpu;            /* the running request's CPU (generate.c) */
} hy_session;

/* A session of n_ctx positions (0: the model's context size) on model, which
 * it holds a reference to. Errors: HYPERION_DISPOSED (the model is being
 * disposed), HYPERION_INVALID_ARGUMENT (field contextSize: above 8 x the
 * trained context), HYPERION_MEMORY_LIMIT / OUT_OF_MEMORY (KV cache,
 * activations). *out is NULL on failure and nothing is left allocated. */
hyperion_status hy_session_create(hy_model *model, uint32_t n_ctx, hy_session **out);

/* As hy_session_create, with limits (NULL: none) in force from the start: its
 * cache already counts against limits->max_memory_bytes. Errors also:
 * HYPERION_INVALID_ARGUMENT naming maxThreads / maxCpuPercent. */
hyperion_status hy_session_create_limited(hy_model *model, uint32_t n_ctx, const hy_resource_limits *limits,
                                          hy_session **out);

/* Replace the session's own limits (see limits.h; they narrow the model's).
 * Errors as hy_model_set_limits; nothing changes on error. */
hyperion_status hy_session_set_limits(hy_session *s, const hy_resource_limits *limits);

/* The limits in force for the session: its own narrowed by its model's. */
void hy_session_get_limits(hy_session *s, hy_resource_limits *out);

/* Free the cache and drop the model reference. NULL is a no-op. */
void hy_session_free(hy_session *s);

/* Forget every cached token. */
void hy_session_reset(hy_session *s);

/* How a prefill went: tokens of the prompt found in the cache, and processed. */
typedef struct hy_prefill_stats {
    uint32_t reused;
    uint32_t processed;
} hy_prefill_stats;

/* Make the cache hold exactly prompt[0..n) (n >= 1) and s->logits the logits
 * after its last token, processing as little as possible: the longest common
 * prefix with the cached tokens is kept (at most n - 1 of it when the logits
 * must be recomputed), the rest of the cache dropped, and the new tokens
 * processed in batches, one turn each. abort_flag (may be NULL) is polled
 * between turns, while waiting for one and inside forward passes.
 * Errors: HYPERION_CONTEXT_FULL when n > n_ctx (nothing is changed; fields
 * requested, inUse, limit), HYPERION_INVALID_ARGUMENT for an id outside the
 * vocabulary (field tokens, index), HYPERION_ABORTED. After an error the cache
 * holds the batches that completed (hy_session_n_tokens says how many). */
hyperion_status hy_session_prefill(hy_session *s, const int32_t *prompt, uint32_t n, const atomic_int *abort_flag,
                                   hy_prefill_stats *stats);

/* Process one more token (one turn) and update the logits. Errors:
 * HYPERION_CONTEXT_FULL (the cache is full; fields requested, inUse, limit),
 * HYPERION_INVALID_ARGUMENT, HYPERION_ABORTED (nothing is changed). */
hyperion_status hy_session_append(hy_session *s, int32_t token, const atomic_int *abort_flag);

static inline uint32_t hy_session_n_tokens(const hy_session *s) { return s->n_tokens; }

#endif
