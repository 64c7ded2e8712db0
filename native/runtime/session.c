/*
 * session.c — a KV cache that remembers its tokens (see session.h).
 */
#include "runtime/session.h"

#include <stdio.h>
#include <string.h>

hyperion_status hy_session_create(hy_model *m, uint32_t n_ctx, hy_session **out) {
    return hy_session_create_limited(m, n_ctx, NULL, out);
}

/* The session's budget: a child of the model's, limited by the session's
 * maxMemoryMb. A child rather than the model's own budget, so a session's
 * limit is its own while every block still counts against the model's limit
 * and shows in the model's figures and leak check. */
static hyperion_status create_budget(hy_model *m, uint64_t limit, hy_mem_budget **out) {
    static atomic_uint_fast64_t serial;
    hyperion_memory_budget_usage u;
    hyperionGetMemoryBudgetUsage(m->budget, &u);
    char name[64];
    snprintf(name, sizeof name, "session %llu of %.40s", (unsigned long long)(atomic_fetch_add(&serial, 1) + 1), u.name);
    return hyperionCreateChildMemoryBudget(name, limit, m->budget, out);
}

hyperion_status hy_session_create_limited(hy_model *m, uint32_t n_ctx, const hy_resource_limits *limits, hy_session **out) {
    *out = NULL;
    hyperion_status st = hy_model_acquire(m);
    if (st != HYPERION_OK) return st;
    if (n_ctx == 0) n_ctx = m->params.context_size;
    hy_resource_limits none = { 0 };
    if (!limits) limits = &none;
    hy_mem_budget *budget = NULL;
    if ((st = hy_limits_check(m, limits)) != HYPERION_OK || (st = create_budget(m, limits->max_memory_bytes, &budget)) != HYPERION_OK) {
        hy_model_release(m);
        return st;
    }
    hy_mem_budget *outer = hyperionSetThreadMemoryBudget(budget);
    hy_session *s = hyperionCalloc(1, sizeof *s, HYPERION_TAG_SESSION);
    if (!s) {
        st = hyperionGetLastError()->code;
        hyperionSetThreadMemoryBudget(outer);
        hyperionReleaseMemoryBudget(budget);
        hy_model_release(m);
        return st;
    }
    s->model = m;
    s->budget = budget;
    s->limits = *limits;
    atomic_fetch_add(&m->active_sessions, 1);
    hy_llama_context_params cp = { n_ctx, hy_model_batch_size(m), m->params.kv_cache, (uint32_t)hy_threadpool_size(m->pool) };
    st = hy_llama_context_create(m->llama, &cp, &s->ctx);
    if (st == HYPERION_OK) {
        atomic_fetch_add(&m->kv_bytes, hy_llama_context_kv_bytes(s->ctx));
        s->n_ctx = hy_llama_context_n_ctx(s->ctx);
        s->tokens = hyperionAlloc((size_t)s->n_ctx * sizeof *s->tokens, HYPERION_TAG_SESSION);
        s->logits = s->tokens ? hyperionAlloc((size_t)m->llama->hp.n_vocab * sizeof *s->logits, HYPERION_TAG_ACTIVATIONS)
                              : NULL;
        if (!s->logits) st = hyperionGetLastError()->code;
    }
    hyperionSetThreadMemoryBudget(outer);
    if (st != HYPERION_OK) {
        hy_session_free(s);
        return st;
    }
    *out = s;
    return HYPERION_OK;
}

void hy_session_free(hy_session *s) {
    if (!s) return;
    hy_model *m = s->model;
    atomic_fetch_sub(&m->kv_bytes, hy_llama_context_kv_bytes(s->ctx));
    hy_llama_context_free(s->ctx);
    hyperionFree(s->tokens);
    hyperionFree(s->logits);
    hy_mem_budget *budget = s->budget;
    hyperionFree(s);
    hyperionReleaseMemoryBudget(budget);   /* blocks still charged keep it (and the model's) alive */
    atomic_fetch_sub(&m->active_sessions, 1);
    hy_model_release(m);
}

void hy_session_reset(hy_session *s) {
    hy_llama_context_truncate(s->ctx, 0);
    s->n_tokens = 0;
    s->has_logits = 0;
}

static void truncate_to(hy_session *s, uint32_t n) {
    if (n >= s->n_tokens) return;
    hy_llama_context_truncate(s->ctx, n);
    s->n_tokens = n;
    s->has_logits = 0;
}

static hyperion_status context_full(const hy_session *s, uint64_t requested, const char *what) {
    return HY_RAISE_WITH(HYPERION_CONTEXT_FULL,
                         "start a new session, reset this one, or create it with a larger contextSize",
                         ((hy_field[]){ HY_NUM("requested", (double)requested), HY_NUM("inUse", s->n_tokens),
                                        HY_NUM("limit", s->n_ctx) }),
                         "context full: %s needs %llu positions but contextSize is %u", what,
                         (unsigned long long)requested, s->n_ctx);
}

/* One turn: process tokens[0..n) (n <= the context's batch) and append them.
 * want_logits: keep the last token's logits. */
static hyperion_status turn(hy_session *s, const int32_t *tokens, uint32_t n, int want_logits,
                            const atomic_int *abort_flag) {
    hy_model *m = s->model;
    pthread_mutex_lock(&m->limits_mu);
    hy_resource_limits own = s->limits;
    pthread_mutex_unlock(&m->limits_mu);
    hyperion_status st = hy_model_turn_begin_limited(m, abort_flag, &own);
    if (st != HYPERION_OK) return st;
    st = hy_llama_decode(s->ctx, m->pool, tokens, n, want_logits ? s->logits : NULL, 0, abort_flag);
    hy_model_turn_end(m);
    hy_model_cpu_lap(m, &s->cpu);
    /* the cache advanced by whole batches only; keep the token list in step */
    uint32_t n_past = hy_llama_context_n_past(s->ctx);
    if (n_past > s->n_tokens) {
        memcpy(s->tokens + s->n_tokens, tokens, (size_t)(n_past - s->n_tokens) * sizeof *tokens);
        atomic_fetch_add(&m->tokens_processed, n_past - s->n_tokens);
    }
    s->n_tokens = n_past;
    s->has_logits = st == HYPERION_OK && want_logits;
    return st;
}

hyperion_status hy_session_prefill(hy_session *s, const int32_t *prompt, uint32_t n, const atomic_int *abort_flag,
                                   hy_prefill_stats *stats) {
    hy_prefill_stats local = { 0, 0 };
    if (!stats) stats = &local;
    stats->reused = stats->processed = 0;
    if (n == 0)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "pass at least one token", ((hy_field[]){ HY_TXT("field", "prompt") }),
                             "the prompt is empty");
    if (n > s->n_ctx) return context_full(s, n, "the prompt");
    uint32_t n_vocab = s->model->llama->hp.n_vocab;
    for (uint32_t i = 0; i < n; i++)
        if (prompt[i] < 0 || (uint32_t)prompt[i] >= n_vocab)
            return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "token ids come from model.tokenize()",
                                 ((hy_field[]){ HY_TXT("field", "tokens"), HY_NUM("index", i), HY_NUM("value", prompt[i]) }),
                                 "tokens[%u] = %d is outside the vocabulary (0..%u)", i, prompt[i], n_vocab - 1);

    uint32_t common = 0;
    while (common < n && common < s->n_tokens && s->tokens[common] == prompt[common]) common++;
    if (common == n && s->n_tokens == n && s->has_logits) {
        stats->reused = n;
        return HYPERION_OK;  /* the cache already ends exactly here */
    }
    if (common == n) common = n - 1;  /* the last token's logits must be computed again */
    truncate_to(s, common);
    stats->reused = common;

    uint32_t batch = hy_model_batch_size(s->model);
    if (batch > s->n_ctx) batch = s->n_ctx;
    hyperion_status st = HYPERION_OK;
    while (s->n_tokens < n) {
        uint32_t from = s->n_tokens;
        uint32_t k = n - from < batch ? n - from : batch;
        st = turn(s, prompt + from, k, from + k == n, abort_flag);
        stats->processed += s->n_tokens - from;
        if (st != HYPERION_OK) break;
    }
    return st;
}

hyperion_status hy_session_append(hy_session *s, int32_t token, const atomic_int *abort_flag) {
    if (s->n_tokens >= s->n_ctx) return context_full(s, (uint64_t)s->n_tokens + 1, "the next token");
    return turn(s, &token, 1, 1, abort_flag);
}
