/*
 * limits.c — resource limits and usage figures of models and sessions (see
 * limits.h, model.h, session.h).
 */
#include "runtime/session.h"

#include <string.h>

void hy_limits_narrow(hy_resource_limits *out, const hy_resource_limits *a, const hy_resource_limits *b) {
    hy_resource_limits r;
    r.max_memory_bytes = hy_limit_min(a->max_memory_bytes, b->max_memory_bytes);
    r.max_threads = (uint32_t)hy_limit_min(a->max_threads, b->max_threads);
    r.max_cpu_percent = (uint32_t)hy_limit_min(a->max_cpu_percent, b->max_cpu_percent);
    r.timeout_ms = (uint32_t)hy_limit_min(a->timeout_ms, b->timeout_ms);
    r.max_tokens = (uint32_t)hy_limit_min(a->max_tokens, b->max_tokens);
    *out = r;
}

hyperion_status hy_limits_check(const hy_model *m, const hy_resource_limits *l) {
    int size = hy_threadpool_size(m->pool);
    if (l->max_threads > (uint32_t)size)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "use at most the model's thread count (its threads option)",
                             ((hy_field[]){ HY_TXT("field", "maxThreads"), HY_NUM("requested", l->max_threads),
                                            HY_NUM("limit", size) }),
                             "maxThreads %u is above the model's %d threads", l->max_threads, size);
    if (l->max_cpu_percent > 100)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "use a percentage between 1 and 100",
                             ((hy_field[]){ HY_TXT("field", "maxCpuPercent"), HY_NUM("requested", l->max_cpu_percent),
                                            HY_NUM("limit", 100) }),
                             "maxCpuPercent %u is above 100", l->max_cpu_percent);
    return HYPERION_OK;
}

/* ---------------------------------------------------------------- models */

hyperion_status hy_model_set_limits(hy_model *m, const hy_resource_limits *l) {
    hyperion_status s = hy_limits_check(m, l);
    if (s != HYPERION_OK) return s;
    pthread_mutex_lock(&m->limits_mu);
    /* all or nothing: the limits are kept only once the budget took its part */
    s = hyperionSetMemoryBudgetLimit(m->budget, l->max_memory_bytes);
    if (s == HYPERION_OK) m->limits = *l;
    pthread_mutex_unlock(&m->limits_mu);
    return s;
}

void hy_model_get_limits(hy_model *m, hy_resource_limits *out) {
    pthread_mutex_lock(&m->limits_mu);
    *out = m->limits;
    pthread_mutex_unlock(&m->limits_mu);
}

void hy_model_apply_turn_limits(hy_model *m, const hy_resource_limits *narrow) {
    hy_resource_limits l;
    pthread_mutex_lock(&m->limits_mu);
    l = m->limits;
    pthread_mutex_unlock(&m->limits_mu);
    if (narrow) hy_limits_narrow(&l, &l, narrow);
    int size = hy_threadpool_size(m->pool);
    int active = l.max_threads && (int)l.max_threads < size ? (int)l.max_threads : size;
    int percent = l.max_cpu_percent ? (int)l.max_cpu_percent : 100;
    /* both were checked when the limits were set: these cannot fail */
    if (hy_threadpool_active(m->pool) != active) (void)hy_threadpool_set_active(m->pool, active);
    if (hy_threadpool_duty_cycle(m->pool) != percent) (void)hy_threadpool_set_duty_cycle(m->pool, percent);
}

/* -------------------------------------------------------------- sessions */

hyperion_status hy_session_set_limits(hy_session *s, const hy_resource_limits *l) {
    hyperion_status st = hy_limits_check(s->model, l);
    if (st != HYPERION_OK) return st;
    pthread_mutex_lock(&s->model->limits_mu);
    s->limits = *l;
    st = hyperionSetMemoryBudgetLimit(s->budget, l->max_memory_bytes);
    pthread_mutex_unlock(&s->model->limits_mu);
    return st;
}

void hy_session_get_limits(hy_session *s, hy_resource_limits *out) {
    pthread_mutex_lock(&s->model->limits_mu);
    hy_limits_narrow(out, &s->limits, &s->model->limits);
    pthread_mutex_unlock(&s->model->limits_mu);
}

/* ----------------------------------------------------------------- usage */

void hy_cpu_meter_start(hy_cpu_meter *meter) {
    hy_thread_cpu_times(&meter->user_ns, &meter->system_ns);
    meter->running = 1;
}

void hy_model_cpu_lap(hy_model *m, hy_cpu_meter *meter) {
    if (!meter->running) return;
    uint64_t user, sys;
    hy_thread_cpu_times(&user, &sys);
    /* the total is exact and grows; the split's system part may move in
     * ticks, so a lap takes at most its total as system time */
    uint64_t now = user + sys, before = meter->user_ns + meter->system_ns;
    uint64_t d_total = now > before ? now - before : 0;
    uint64_t d_sys = sys > meter->system_ns ? sys - meter->system_ns : 0;
    if (d_sys > d_total) d_sys = d_total;
    atomic_fetch_add(&m->cpu_user_ns, d_total - d_sys);
    atomic_fetch_add(&m->cpu_system_ns, d_sys);
    meter->user_ns = user;
    meter->system_ns = sys;
}

void hy_model_get_usage(hy_model *m, hy_model_usage *out) {
    memset(out, 0, sizeof *out);
    hyperion_memory_budget_usage u;
    hyperionGetMemoryBudgetUsage(m->budget, &u);
    out->pool_bytes_in_use = u.in_use_bytes;
    out->pool_bytes_peak = u.peak_bytes;
    out->mapped_bytes = hy_gguf_file_size(m->llama->gguf);
    out->kv_cache_bytes = atomic_load(&m->kv_bytes);
    out->threads = hy_threadpool_size(m->pool);
    /* the threads a run uses under the model's own limit (a session's turn may use fewer) */
    hy_resource_limits l;
    hy_model_get_limits(m, &l);
    out->active_threads = l.max_threads && (int)l.max_threads < out->threads ? (int)l.max_threads : out->threads;
    uint64_t wu, ws;
    hy_threadpool_worker_cpu(m->pool, &wu, &ws);
    out->cpu_user_ns = wu + atomic_load(&m->cpu_user_ns);
    out->cpu_system_ns = ws + atomic_load(&m->cpu_system_ns);
    out->wall_ns = hy_clock_monotonic_ns() - m->loaded_at_ns;
    out->tokens_processed = atomic_load(&m->tokens_processed);
    out->tokens_generated = atomic_load(&m->tokens_generated);
    out->requests = atomic_load(&m->requests);
    out->active_sessions = atomic_load(&m->active_sessions);
}
