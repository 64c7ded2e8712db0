/*
 * model.c — loading, sharing and releasing a model (see model.h).
 */
#include "runtime/model.h"

#include <stdio.h>
#include <string.h>

/* A budget per model: every allocation made while loading it or serving its
 * requests (the calling thread's scope) is charged to it, so what is left
 * charged once everything was freed is exactly what the model leaked. */
static hyperion_status create_budget(const char *path, hy_mem_budget **out) {
    const char *slash = strrchr(path, '/');
    char name[64];
    snprintf(name, sizeof name, "model %s", slash ? slash + 1 : path);
    return hyperionCreateMemoryBudget(name, 0, out);
}

hyperion_status hy_model_load(const char *path, const hy_model_params *params, hy_model **out) {
    *out = NULL;
    uint64_t start = hy_clock_monotonic_ns();
    hy_model *m = hyperionCalloc(1, sizeof *m, HYPERION_TAG_MODEL);
    if (!m) return hyperionGetLastError()->code;
    m->params = *params;
    hyperion_status s = create_budget(path, &m->budget);
    if (s != HYPERION_OK) {
        hyperionFree(m);
        return s;
    }
    hy_mem_budget *outer = hyperionSetThreadMemoryBudget(m->budget);
    s = hy_llama_model_load(path, &m->llama);
    if (s == HYPERION_OK) s = hy_threadpool_create(params->threads, &m->pool);
    hyperionSetThreadMemoryBudget(outer);
    if (s != HYPERION_OK) {
        hy_llama_model_free(m->llama);
        hyperionReleaseMemoryBudget(m->budget);
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

/* Log a multi-line report as records under the logger's message size, cut at lines. */
static void log_report_lines(const char *text) {
    while (text && *text) {
        size_t n = strlen(text), cut = n;
        if (n > 900) {
            cut = 900;
            while (cut > 0 && text[cut - 1] != '\n') cut--;
            if (cut == 0) cut = 900;
        }
        size_t shown = cut;
        while (shown > 0 && text[shown - 1] == '\n') shown--;
        if (shown) HY_LOG(HYPERION_LOG_WARN, HYPERION_LOG_MEMORY, "%.*s", (int)shown, text);
        text += cut;
    }
}

/* The leak check at the last release: what is still charged to the budget. */
static void check_leftovers(hy_model *m) {
    hyperion_memory_budget_usage u;
    hyperionGetMemoryBudgetUsage(m->budget, &u);
    hy_model_leak_report r = { u.name, u.in_use_bytes, u.active_allocations, 0, NULL, NULL };
    char *text = NULL, *json = NULL;
    if (r.blocks) {
        hyperion_leak_filter filter = { 0, m->budget, 0, 32 };
        hyperion_leak_summary summary = { 0 };
        if (hyperionCheckMemoryLeaks(&filter, &summary, &text, &json) == HYPERION_OK) r.tracked = summary.blocks;
        r.text = r.tracked ? text : NULL;
        r.json = r.tracked ? json : NULL;
        HY_LOG(HYPERION_LOG_WARN, HYPERION_LOG_MEMORY, "%s left %llu bytes in %llu block(s) behind when it was disposed%s",
               u.name, (unsigned long long)r.bytes, (unsigned long long)r.blocks,
               r.tracked ? ":" : " (enable trackAllocations and trackStackTraces to see where they were allocated)");
        if (r.tracked) log_report_lines(text);
    }
    if (m->on_release) m->on_release(&r, m->on_release_user);
    hyperionFree(text);
    hyperionFree(json);
}

void hy_model_release(hy_model *m) {
    if (atomic_fetch_sub(&m->refs, 1) != 1) return;
    hy_threadpool_free(m->pool);
    hy_llama_model_free(m->llama);
    check_leftovers(m);
    hyperionReleaseMemoryBudget(m->budget);   /* leaked blocks keep it alive internally */
    hyperionFree(m);
}

void hy_model_set_release_observer(hy_model *m, hy_model_release_fn fn, void *user) {
    m->on_release = fn;
    m->on_release_user = user;
}

uint64_t hy_model_memory_bytes(const hy_model *m) {
    hyperion_memory_budget_usage u;
    hyperionGetMemoryBudgetUsage(m->budget, &u);
    return u.in_use_bytes;
}

void hy_model_dispose(hy_model *m) {
    int expected = 0;
    if (atomic_compare_exchange_strong(&m->disposed, &expected, 1)) hy_model_release(m);
}

hyperion_status hy_model_evaluate(hy_model *m, const int32_t *tokens, uint32_t n_tokens, int all_logits, float *out,
                                  const atomic_int *abort_flag) {
    hy_llama_context_params cp = { n_tokens, m->params.batch_size, 0 };
    hy_llama_context *ctx = NULL;
    hy_mem_budget *outer = hyperionSetThreadMemoryBudget(m->budget);
    hyperion_status s = hy_llama_context_create(m->llama, &cp, &ctx);
    if (s == HYPERION_OK) s = hy_llama_decode(ctx, m->pool, tokens, n_tokens, out, all_logits, abort_flag);
    hy_llama_context_free(ctx);
    hyperionSetThreadMemoryBudget(outer);
    if (s == HYPERION_OK) {
        atomic_fetch_add(&m->tokens_processed, n_tokens);
        atomic_fetch_add(&m->requests, 1);
    }
    return s;
}
