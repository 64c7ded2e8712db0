/*
 * model.c — loading, sharing and releasing a model (see model.h).
 */
#include "runtime/model.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* A budget per model: every allocation made while loading it or serving its
 * requests (the calling thread's scope) is charged to it, so what is left
 * charged once everything was freed is exactly what the model leaked. */
static hyperion_status create_budget(const char *path, uint64_t limit, hy_mem_budget **out) {
    const char *slash = strrchr(path, '/');
    char name[64];
    snprintf(name, sizeof name, "model %s", slash ? slash + 1 : path);
    return hyperionCreateMemoryBudget(name, limit, out);
}

static hyperion_status turns_init(hy_model *m) {
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0) return HY_RAISE(HYPERION_INTERNAL, NULL, "pthread_condattr_init failed");
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&m->turn_cv, &attr);
    pthread_condattr_destroy(&attr);
    if (rc != 0) return HY_RAISE(HYPERION_INTERNAL, NULL, "pthread_cond_init failed (%d)", rc);
    if ((rc = pthread_mutex_init(&m->turn_mu, NULL)) != 0 || (rc = pthread_mutex_init(&m->limits_mu, NULL)) != 0) {
        if (rc == 0) pthread_mutex_destroy(&m->turn_mu);
        pthread_cond_destroy(&m->turn_cv);
        return HY_RAISE(HYPERION_INTERNAL, NULL, "pthread_mutex_init failed (%d)", rc);
    }
    return HYPERION_OK;
}

static void turns_destroy(hy_model *m) {
    pthread_cond_destroy(&m->turn_cv);
    pthread_mutex_destroy(&m->turn_mu);
    pthread_mutex_destroy(&m->limits_mu);
}

/* The load's steps, inside the load phase zone (hy_model_load). Only the
 * repacking is an op zone of its own, carrying its bytes: the rest (the file
 * validated, mapped and bound; the tokenizer built) has no bytes or flops to
 * judge, and stays the phase's own time. */
static hyperion_status load_steps(const char *path, const hy_model_params *params, hy_model **out) {
    uint64_t start = hy_clock_monotonic_ns();
    hy_model *m = hyperionCalloc(1, sizeof *m, HYPERION_TAG_MODEL);
    if (!m) return hyperionGetLastError()->code;
    m->params = *params;
    hyperion_status s = turns_init(m);
    if (s != HYPERION_OK) {
        hyperionFree(m);
        return s;
    }
    /* the memory limit holds from the first allocation of the load on: a
     * model that does not fit is refused (HYPERION_MEMORY_LIMIT naming its
     * budget) and nothing of it stays */
    if ((s = create_budget(path, params->limits.max_memory_bytes, &m->budget)) != HYPERION_OK) {
        turns_destroy(m);
        hyperionFree(m);
        return s;
    }
    hy_mem_budget *outer = hyperionSetThreadMemoryBudget(m->budget);
    s = hy_llama_model_open(path, &m->llama);
    if (s == HYPERION_OK) s = hy_threadpool_create(params->threads, &m->pool);
    if (s == HYPERION_OK && params->repack_weights) {
        const uint64_t t0 = hyperionProfilerNow();
        s = hy_llama_model_repack(m->llama, m->pool);
        /* recorded afterwards, when the bytes are known (each copy read from the
         * mapping and written), and only when something was copied */
        if (m->llama->repacked_bytes)
            hyperionProfilerRecordZone("repack", HYPERION_ZONE_OP, t0, hyperionProfilerNow(),
                                       &(const hyperion_zone_meta){ .layer = -1, .bytes = 2 * m->llama->repacked_bytes });
    }
    /* The vocabulary is shared with Tokenizer objects that may outlive the
     * model, so it is not charged to the model's budget (nor to its leak check). */
    hyperionSetThreadMemoryBudget(outer);
    if (s == HYPERION_OK) s = hy_vocab_from_gguf(m->llama->gguf, &m->vocab);
    hyperionSetThreadMemoryBudget(m->budget);
    if (s == HYPERION_OK && m->vocab && hy_tokenizer_n_vocab(m->vocab->tok) != m->llama->hp.n_vocab)
        s = HY_RAISE_WITH(HYPERION_MODEL_INVALID, "convert the model again",
                          ((hy_field[]){ HY_TXT("field", "tokenizer.ggml.tokens"), HY_TXT("path", path) }),
                          "the vocabulary has %u tokens but the weights have %u rows",
                          hy_tokenizer_n_vocab(m->vocab->tok), m->llama->hp.n_vocab);
    hyperionSetThreadMemoryBudget(outer);
    if (s == HYPERION_OK) s = hy_model_set_limits(m, &params->limits);
    if (s != HYPERION_OK) {
        hy_threadpool_free(m->pool);
        hy_vocab_release(m->vocab);
        hy_llama_model_free(m->llama);
        hyperionReleaseMemoryBudget(m->budget);
        turns_destroy(m);
        hyperionFree(m);
        return s;
    }
    if (!m->vocab)
        HY_LOG(HYPERION_LOG_WARN, HYPERION_LOG_MODEL, "%s has no vocabulary: tokenize and text prompts will fail", path);
    if (m->params.context_size == 0) {
        uint32_t trained = m->llama->hp.n_ctx_train;
        m->params.context_size = trained && trained < 2048 ? trained : 2048;
    }
    atomic_init(&m->refs, 1);
    m->loaded_at_ns = hy_clock_monotonic_ns();
    m->load_ns = m->loaded_at_ns - start;
    HY_LOG(HYPERION_LOG_INFO, HYPERION_LOG_MODEL,
           "loaded %s: %u layers, %u embd, vocab %u, %d threads, %u tensors repacked (%.1f MiB), %.1f ms", path,
           m->llama->hp.n_layer, m->llama->hp.n_embd, m->llama->hp.n_vocab, hy_threadpool_size(m->pool),
           m->llama->n_repacked, (double)m->llama->repacked_bytes / 1048576.0, (double)m->load_ns / 1e6);
    *out = m;
    return HYPERION_OK;
}

hyperion_status hy_model_load(const char *path, const hy_model_params *params, hy_model **out) {
    *out = NULL;
    HY_ZONE_PHASE(zone, HYPERION_PHASE_LOAD);
    hyperion_status s = load_steps(path, params, out);
    HY_ZONE_END(zone);
    return s;
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
    hy_vocab_release(m->vocab);
    hy_llama_model_free(m->llama);
    turns_destroy(m);
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

/* ------------------------------------------------------------------ turns */

/* How often a waiter looks at its abort flag. */
#define TURN_POLL_NS 2000000ll

static void unlink_waiter(hy_model *m, hy_turn_waiter *w) {
    hy_turn_waiter *prev = NULL;
    for (hy_turn_waiter *it = m->turn_head; it; prev = it, it = it->next) {
        if (it != w) continue;
        if (prev) prev->next = it->next;
        else m->turn_head = it->next;
        if (m->turn_tail == it) m->turn_tail = prev;
        return;
    }
}

hyperion_status hy_model_turn_begin(hy_model *m, const atomic_int *abort_flag) {
    return hy_model_turn_begin_limited(m, abort_flag, NULL);
}

/* Wait for the turn (FIFO). */
static hyperion_status wait_turn(hy_model *m, const atomic_int *abort_flag) {
    pthread_mutex_lock(&m->turn_mu);
    if (!m->turn_busy && !m->turn_head) {
        m->turn_busy = 1;
        pthread_mutex_unlock(&m->turn_mu);
        atomic_fetch_add(&m->turns, 1);
        return HYPERION_OK;
    }
    hy_turn_waiter w = { NULL, 0 };
    if (m->turn_tail) m->turn_tail->next = &w;
    else m->turn_head = &w;
    m->turn_tail = &w;
    while (!w.granted) {
        if (abort_flag && atomic_load(abort_flag)) {
            unlink_waiter(m, &w);
            pthread_mutex_unlock(&m->turn_mu);
            return HY_RAISE(HYPERION_ABORTED, NULL, "aborted while waiting for the model");
        }
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        long long ns = (long long)ts.tv_nsec + TURN_POLL_NS;
        ts.tv_sec += (time_t)(ns / 1000000000ll);
        ts.tv_nsec = (long)(ns % 1000000000ll);
        int rc = pthread_cond_timedwait(&m->turn_cv, &m->turn_mu, &ts);
        (void)rc; /* ETIMEDOUT or a wake: either way look again */
    }
    pthread_mutex_unlock(&m->turn_mu);
    atomic_fetch_add(&m->turns, 1);
    return HYPERION_OK;
}

hyperion_status hy_model_turn_begin_limited(hy_model *m, const atomic_int *abort_flag, const hy_resource_limits *narrow) {
    hyperion_status s = wait_turn(m, abort_flag);
    /* only the turn holder runs on the pool, so its limits are the pool's now */
    if (s == HYPERION_OK) hy_model_apply_turn_limits(m, narrow);
    return s;
}

void hy_model_turn_end(hy_model *m) {
    pthread_mutex_lock(&m->turn_mu);
    hy_turn_waiter *next = m->turn_head;
    if (next) {
        /* hand the turn over directly: turn_busy stays set */
        m->turn_head = next->next;
        if (!m->turn_head) m->turn_tail = NULL;
        next->granted = 1;
        pthread_cond_broadcast(&m->turn_cv);
    } else {
        m->turn_busy = 0;
    }
    pthread_mutex_unlock(&m->turn_mu);
}

uint32_t hy_model_batch_size(const hy_model *m) { return m->params.batch_size ? m->params.batch_size : 64; }

hyperion_status hy_model_evaluate(hy_model *m, const int32_t *tokens, uint32_t n_tokens, int all_logits, float *out,
                                  const atomic_int *abort_flag) {
    hy_llama_context_params cp = { n_tokens, m->params.batch_size, m->params.kv_cache, (uint32_t)hy_threadpool_size(m->pool) };
    hy_llama_context *ctx = NULL;
    hy_cpu_meter meter;
    hy_cpu_meter_start(&meter);
    hy_threadpool *outer_pool = hy_threadpool_enter(m->pool);
    hy_mem_budget *outer = hyperionSetThreadMemoryBudget(m->budget);
    hyperion_status s = hy_llama_context_create(m->llama, &cp, &ctx);
    uint64_t kv = hy_llama_context_kv_bytes(ctx);
    atomic_fetch_add(&m->kv_bytes, kv);
    /* one turn per batch, so other requests on this model interleave */
    uint32_t batch = hy_model_batch_size(m), n_vocab = m->llama->hp.n_vocab;
    for (uint32_t done = 0; done < n_tokens && s == HYPERION_OK;) {
        uint32_t n = n_tokens - done < batch ? n_tokens - done : batch;
        int last = done + n == n_tokens;
        float *dst = all_logits ? out + (size_t)done * n_vocab : (last ? out : NULL);
        if ((s = hy_model_turn_begin(m, abort_flag)) != HYPERION_OK) break;
        s = hy_llama_decode(ctx, m->pool, tokens + done, n, dst, all_logits, abort_flag);
        hy_model_turn_end(m);
        done += n;
    }
    hy_llama_context_free(ctx);
    atomic_fetch_sub(&m->kv_bytes, kv);
    hyperionSetThreadMemoryBudget(outer);
    hy_threadpool_leave(m->pool, outer_pool);
    hy_model_cpu_lap(m, &meter);
    if (s == HYPERION_OK) atomic_fetch_add(&m->tokens_processed, n_tokens);
    atomic_fetch_add(&m->requests, 1);
    return s;
}
