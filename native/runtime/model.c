/*
 * model.c — loading, sharing and releasing a model (see model.h).
 */
#include "runtime/model.h"

hyperion_status hy_model_load(const char *path, const hy_model_params *params, hy_model **out) {
    *out = NULL;
    uint64_t start = hy_clock_monotonic_ns();
    hy_model *m = hyperionCalloc(1, sizeof *m, HYPERION_TAG_MODEL);
    if (!m) return hyperionGetLastError()->code;
    m->params = *params;
    hyperion_status s = hy_llama_model_load(path, &m->llama);
    if (s == HYPERION_OK) s = hy_threadpool_create(params->threads, &m->pool);
    if (s != HYPERION_OK) {
        hy_llama_model_free(m->llama);
        hyperionFree(m);
        return s;
    }
    if (m->params.context_size == 0) {
        uint32_t trained = m->llama->hp.n_ctx_train;
        m->params.context_size = trained && trained < 2048 ? trained : 2048;
    }
    atomic_init(&m->refs, 1);
    m->load_ns = hy_clock_monotonic_ns() - start;
    HY_LOG(HYPERION_LOG_INFO, HYPERION_LOG_MODEL, "loaded %s: %u layers, %u embd, vocab %u, %d threads, %.1f ms", path,
           m->llama->hp.n_layer, m->llama->hp.n_embd, m->llama->hp.n_vocab, hy_threadpool_size(m->pool),
           (double)m->load_ns / 1e6);
    *out = m;
    return HYPERION_OK;
}

hyperion_status hy_model_acquire(hy_model *m) {
    if (atomic_load(&m->disposed))
        return HY_RAISE(HYPERION_DISPOSED, "load the model again", "the model has been disposed");
    atomic_fetch_add(&m->refs, 1);
    return HYPERION_OK;
}

void hy_model_release(hy_model *m) {
    if (atomic_fetch_sub(&m->refs, 1) != 1) return;
    hy_threadpool_free(m->pool);
    hy_llama_model_free(m->llama);
    hyperionFree(m);
}

void hy_model_dispose(hy_model *m) {
    int expected = 0;
    if (atomic_compare_exchange_strong(&m->disposed, &expected, 1)) hy_model_release(m);
}

hyperion_status hy_model_evaluate(hy_model *m, const int32_t *tokens, uint32_t n_tokens, int all_logits, float *out,
                                  const atomic_int *abort_flag) {
    hy_llama_context_params cp = { n_tokens, m->params.batch_size, 0 };
    hy_llama_context *ctx = NULL;
    hyperion_status s = hy_llama_context_create(m->llama, &cp, &ctx);
    if (s != HYPERION_OK) return s;
    s = hy_llama_decode(ctx, m->pool, tokens, n_tokens, out, all_logits, abort_flag);
    hy_llama_context_free(ctx);
    if (s == HYPERION_OK) {
        atomic_fetch_add(&m->tokens_processed, n_tokens);
        atomic_fetch_add(&m->requests, 1);
    }
    return s;
}
