/*
 * session.c — configuration, sessions, per-request captures, and collecting the
 * threads' buffers into a profile.
 *
 * Recording is on while a session runs or at least one capture is active. The
 * first of them to begin, from idle, starts a new epoch (buffers reset lazily by
 * their owners); the profile of a session or capture takes the events of that
 * epoch which started inside its window (and, for a capture, carry its request
 * id). Control functions are serialized by one lock; the hot path never takes it.
 * Collecting is in collect.c, the report entry points in output.c.
 */
#include "profiler/profiler_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct capture {
    uint64_t id;             /* 0 = free */
    uint64_t t0;
    uint64_t dropped_at_start;
} capture;

static struct {
    pthread_mutex_t ctl;
    hyperion_profiler_config config;
    int configured;
    int session;                                   /* a session runs */
    uint64_t t0;
    uint64_t tokens_at_start[HYPERION_PHASE_COUNT];
    uint64_t counters_at_start[HYPERION_PHASE_COUNT][HY_CTR_COUNT];
    hy_ctr_status counter_status;
    unsigned counters_present;
    hy_sampler *sampler;
    hy_prof_profile *last;                         /* the last stopped session */
    capture captures[HYPERION_PROFILER_MAX_CAPTURES];
    int n_captures;
    hy_ctr_set *counter_set;
} S = { .ctl = PTHREAD_MUTEX_INITIALIZER };

hy_ctr_set *hy_prof_counter_set(void) {
    return S.counter_set;
}

/* ------------------------------------------------------------ configuration */

void hyperionProfilerConfigDefaults(hyperion_profiler_config *config) {
    if (!config) return;
    memset(config, 0, sizeof *config);
    config->track_functions = 1;
    config->track_memory = 1;
    config->track_cache = 0;
    config->sample_interval_ms = 10;
    config->buffer_events = HY_PROF_DEFAULT_BUFFER_EVENTS;
}

static hyperion_status validate_config(const hyperion_profiler_config *c) {
    if (!c)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "pass a configuration (hyperionProfilerConfigDefaults fills one)",
                             ((hy_field[]){ HY_TXT("field", "config") }), "profiler configuration must not be NULL");
    if (c->sample_interval_ms > 60000)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "use 1..60000 ms, or 0 for no sampling",
                             ((hy_field[]){ HY_TXT("field", "sampleIntervalMs"), HY_NUM("value", c->sample_interval_ms) }),
                             "sampleIntervalMs %u is out of range", c->sample_interval_ms);
    if (c->buffer_events < HY_PROF_MIN_BUFFER_EVENTS || c->buffer_events > HY_PROF_MAX_BUFFER_EVENTS)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "use 64..16777216 zones per thread",
                             ((hy_field[]){ HY_TXT("field", "bufferEvents"), HY_NUM("value", c->buffer_events) }),
                             "bufferEvents %u is out of range", c->buffer_events);
    return HYPERION_OK;
}

static int recording(void) {
    return S.session || S.n_captures > 0;
}

static void apply_config(const hyperion_profiler_config *c) {
    S.config = *c;
    S.config.track_functions = c->track_functions ? 1 : 0;
    S.config.track_memory = c->track_memory ? 1 : 0;
    S.config.track_cache = c->track_cache ? 1 : 0;
    S.configured = 1;
    atomic_store(&hy_prof.capacity, c->buffer_events);
    atomic_store(&hy_prof.track_functions, S.config.track_functions);
}

hyperion_status hyperionInitProfiler(const hyperion_profiler_config *config) {
    hyperion_status st = validate_config(config);
    if (st != HYPERION_OK) return st;
    pthread_mutex_lock(&S.ctl);
    if (recording()) {
        pthread_mutex_unlock(&S.ctl);
        return HY_RAISE(HYPERION_INVALID_ARGUMENT, "call hyperionStopProfiling (and end captures) first",
                        "the profiler is recording; its configuration cannot change now");
    }
    apply_config(config);
    pthread_mutex_unlock(&S.ctl);
    if (config->track_cache) {
        const hy_ctr_status *cs = hy_ctr_probe();
        if (cs->reason != HY_CTR_OK)
            HY_LOG(HYPERION_LOG_INFO, HYPERION_LOG_PERFORMANCE, "profiler: hardware counters unavailable (%s): %s",
                   hy_ctr_reason_name(cs->reason), cs->detail);
    }
    return HYPERION_OK;
}

static void ensure_configured(void) {
    if (!S.configured) {
        hyperion_profiler_config c;
        hyperionProfilerConfigDefaults(&c);
        apply_config(&c);
    }
}

/* Called with ctl held when recording goes from idle to on. */
static void begin_epoch(void) {
    hy_prof_reap_exited();
    atomic_fetch_add(&hy_prof.epoch, 1);
}

static uint64_t total_dropped_now(void) {
    uint32_t epoch = atomic_load(&hy_prof.epoch);
    uint64_t total = 0;
    pthread_mutex_lock(&hy_prof_reg.lock);
    for (hy_prof_buffer *b = hy_prof_reg.head; b; b = b->next)
        if (atomic_load_explicit(&b->epoch, memory_order_acquire) == epoch) total += atomic_load(&b->dropped);
    pthread_mutex_unlock(&hy_prof_reg.lock);
    return total;
}

/* ------------------------------------------------------------ sessions */

static void close_counters(void) {
    atomic_store(&hy_prof.counters_on, 0);
    hy_prof_lock_counter_reads(1);
    hy_ctr_set *set = S.counter_set;
    S.counter_set = NULL;
    hy_prof_lock_counter_reads(0);
    hy_ctr_close(set);
}

static void open_counters(void) {
    S.counters_present = 0;
    if (!S.config.track_cache) {
        memset(&S.counter_status, 0, sizeof S.counter_status);
        S.counter_status.reason = HY_CTR_DISABLED;
        S.counter_status.paranoid = INT32_MIN;
        snprintf(S.counter_status.detail, sizeof S.counter_status.detail,
                 "hardware counters were not requested (trackCache is off)");
        return;
    }
    hy_ctr_set *set = hy_ctr_open_process(&S.counter_status);
    if (!set) return;
    uint64_t values[HY_CTR_COUNT];
    hy_ctr_read(set, values, &S.counters_present);
    for (int p = 0; p < HYPERION_PHASE_COUNT; p++)
        for (int k = 0; k < HY_CTR_COUNT; k++) S.counters_at_start[p][k] = atomic_load(&hy_prof.phase_counters[p][k]);
    hy_prof_lock_counter_reads(1);
    S.counter_set = set;
    hy_prof_lock_counter_reads(0);
    atomic_store(&hy_prof.counters_on, 1);
}

hyperion_status hyperionStartProfiling(void) {
    pthread_mutex_lock(&S.ctl);
    if (S.session) {
        pthread_mutex_unlock(&S.ctl);
        return HY_RAISE(HYPERION_INVALID_ARGUMENT, "call hyperionStopProfiling before starting again",
                        "a profiling session is already running");
    }
    ensure_configured();
    hy_prof_profile_free(S.last);
    S.last = NULL;
    if (!recording()) begin_epoch();

    uint32_t epoch = atomic_load(&hy_prof.epoch);
    pthread_mutex_lock(&hy_prof_reg.lock);
    for (hy_prof_buffer *b = hy_prof_reg.head; b; b = b->next)
        b->dropped_at_start = atomic_load_explicit(&b->epoch, memory_order_acquire) == epoch ? atomic_load(&b->dropped) : 0;
    pthread_mutex_unlock(&hy_prof_reg.lock);
    for (int p = 0; p < HYPERION_PHASE_COUNT; p++) S.tokens_at_start[p] = atomic_load(&hy_prof.tokens[p]);
    open_counters();

    S.t0 = hy_clock_monotonic_ns();
    if (S.config.sample_interval_ms > 0) {
        hyperion_status st = hy_sampler_start(S.config.sample_interval_ms, S.config.track_memory,
                                              S.tokens_at_start[HYPERION_PHASE_DECODE], &S.sampler);
        if (st != HYPERION_OK) {
            close_counters();
            pthread_mutex_unlock(&S.ctl);
            return st;
        }
    }
    atomic_store(&hy_prof.record_all, 1);
    S.session = 1;
    hy_prof_set_active(1);
    pthread_mutex_unlock(&S.ctl);
    HY_LOG(HYPERION_LOG_DEBUG, HYPERION_LOG_PERFORMANCE, "profiler: session started");
    return HYPERION_OK;
}

/* Fill the session-level parts of a profile collected over [S.t0, t1]. */
static void attach_session_facts(hy_prof_profile *p) {
    for (int ph = 0; ph < HYPERION_PHASE_COUNT; ph++) p->tokens[ph] = atomic_load(&hy_prof.tokens[ph]) - S.tokens_at_start[ph];
    p->counters = S.counter_status;
    p->counters_present = S.counters_present;
    p->counter_threads = S.counter_set ? hy_ctr_thread_count(S.counter_set) : 0;
    if (S.counter_status.reason == HY_CTR_OK)
        for (int ph = 0; ph < HYPERION_PHASE_COUNT; ph++)
            for (int k = 0; k < HY_CTR_COUNT; k++)
                p->phase_counters[ph][k] = atomic_load(&hy_prof.phase_counters[ph][k]) - S.counters_at_start[ph][k];
}

hyperion_status hyperionStopProfiling(void) {
    pthread_mutex_lock(&S.ctl);
    if (!S.session) {
        pthread_mutex_unlock(&S.ctl);
        return HY_RAISE(HYPERION_INVALID_ARGUMENT, "call hyperionStartProfiling first", "no profiling session is running");
    }
    atomic_store(&hy_prof.record_all, 0);
    if (S.n_captures == 0) hy_prof_set_active(0);
    uint64_t t1 = hy_clock_monotonic_ns();
    S.session = 0;

    hy_prof_sample *samples = NULL;
    uint32_t n_samples = 0;
    uint64_t dropped_samples = 0;
    if (S.sampler) hy_sampler_stop(S.sampler, &samples, &n_samples, &dropped_samples);
    S.sampler = NULL;

    hy_prof_profile *p = NULL;
    hyperion_status st = hy_prof_collect(S.t0, t1, 0, &p);
    if (st == HYPERION_OK) {
        p->config = S.config;
        attach_session_facts(p);
        p->samples = samples;
        p->n_samples = n_samples;
        p->dropped_samples = dropped_samples;
        p->sampled_memory = S.config.track_memory;
        S.last = p;
    } else {
        hyperionFree(samples);
    }
    close_counters();
    pthread_mutex_unlock(&S.ctl);
    if (st == HYPERION_OK && p->dropped)
        HY_LOG(HYPERION_LOG_WARN, HYPERION_LOG_PERFORMANCE,
               "profiler: %llu zones were dropped because a thread's buffer was full; raise bufferEvents",
               (unsigned long long)p->dropped);
    return st;
}

int hyperionIsProfiling(void) {
    pthread_mutex_lock(&S.ctl);
    int on = S.session;
    pthread_mutex_unlock(&S.ctl);
    return on;
}

/* ------------------------------------------------------------ captures */

hyperion_status hyperionBeginProfileCapture(uint64_t request_id) {
    if (request_id == 0)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "request ids start at 1",
                             ((hy_field[]){ HY_TXT("field", "requestId") }), "request id 0 means \"no request\"");
    pthread_mutex_lock(&S.ctl);
    ensure_configured();
    int free_slot = -1;
    for (int i = 0; i < HYPERION_PROFILER_MAX_CAPTURES; i++) {
        if (S.captures[i].id == request_id) {
            pthread_mutex_unlock(&S.ctl);
            return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL,
                                 ((hy_field[]){ HY_TXT("field", "requestId"), HY_NUM("value", (double)request_id) }),
                                 "request %llu is already being captured", (unsigned long long)request_id);
        }
        if (!S.captures[i].id && free_slot < 0) free_slot = i;
    }
    if (free_slot < 0) {
        pthread_mutex_unlock(&S.ctl);
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "end a capture before beginning another",
                             ((hy_field[]){ HY_NUM("limit", HYPERION_PROFILER_MAX_CAPTURES) }),
                             "too many concurrent profile captures (at most %d)", HYPERION_PROFILER_MAX_CAPTURES);
    }
    if (!recording()) begin_epoch();
    capture *c = &S.captures[free_slot];
    c->id = request_id;
    c->dropped_at_start = total_dropped_now();
    for (int p = 0; p < HYPERION_PHASE_COUNT; p++) atomic_store(&hy_prof.capture_tokens[free_slot][p], 0);
    c->t0 = hy_clock_monotonic_ns();
    atomic_store_explicit(&hy_prof.capture_ids[free_slot], request_id, memory_order_release);
    S.n_captures++;
    hy_prof_set_active(1);
    pthread_mutex_unlock(&S.ctl);
    return HYPERION_OK;
}

hyperion_status hyperionEndProfileCapture(uint64_t request_id, char **out_json) {
    if (out_json) *out_json = NULL;
    pthread_mutex_lock(&S.ctl);
    int slot = -1;
    for (int i = 0; i < HYPERION_PROFILER_MAX_CAPTURES; i++)
        if (request_id && S.captures[i].id == request_id) slot = i;
    if (slot < 0) {
        pthread_mutex_unlock(&S.ctl);
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "call hyperionBeginProfileCapture with this id first",
                             ((hy_field[]){ HY_TXT("field", "requestId"), HY_NUM("value", (double)request_id) }),
                             "request %llu is not being captured", (unsigned long long)request_id);
    }
    capture c = S.captures[slot];
    uint64_t t1 = hy_clock_monotonic_ns();
    atomic_store_explicit(&hy_prof.capture_ids[slot], 0, memory_order_release);
    S.captures[slot].id = 0;
    S.n_captures--;
    if (!recording()) hy_prof_set_active(0);

    hy_prof_profile *p = NULL;
    hyperion_status st = hy_prof_collect(c.t0, t1, request_id, &p);
    if (st == HYPERION_OK) {
        uint64_t dropped = total_dropped_now();
        p->dropped = dropped > c.dropped_at_start ? dropped - c.dropped_at_start : 0;
        for (int ph = 0; ph < HYPERION_PHASE_COUNT; ph++) p->tokens[ph] = atomic_load(&hy_prof.capture_tokens[slot][ph]);
        p->config = S.config;
        if (S.config.track_cache) {
            p->counters = *hy_ctr_probe();
            if (p->counters.reason == HY_CTR_OK) {
                p->counters.reason = HY_CTR_OTHER;
                snprintf(p->counters.detail, sizeof p->counters.detail,
                         "hardware counters are reported for sessions, not for single-request captures");
            }
        } else {
            p->counters.reason = HY_CTR_DISABLED;
            p->counters.paranoid = INT32_MIN;
            snprintf(p->counters.detail, sizeof p->counters.detail, "hardware counters were not requested (trackCache is off)");
        }
    }
    pthread_mutex_unlock(&S.ctl);
    if (st != HYPERION_OK) return st;
    if (out_json) {
        hy_jw w;
        hy_jw_init_memory(&w);
        st = hy_prof_write_summary(p, &w);
        if (st == HYPERION_OK) {
            *out_json = hy_jw_take(&w);
            if (!*out_json) st = HY_RAISE(HYPERION_OUT_OF_MEMORY, NULL, "no memory for the capture summary");
        } else {
            hy_jw_release(&w);
        }
    }
    hy_prof_profile_free(p);
    return st;
}

/* ------------------------------------------------------------ for output.c */

void hy_prof_ctl_lock(int lock) {
    if (lock) pthread_mutex_lock(&S.ctl);
    else pthread_mutex_unlock(&S.ctl);
}

/* The profile the report functions read: the running session's snapshot
 * (*temp = 1, caller frees it) or the last stopped session. Call with ctl held. */
hyperion_status hy_prof_current_profile(hy_prof_profile **out, int *temp) {
    *temp = 0;
    if (S.session) {
        hyperion_status st = hy_prof_collect(S.t0, hy_clock_monotonic_ns(), 0, out);
        if (st != HYPERION_OK) return st;
        (*out)->config = S.config;
        attach_session_facts(*out);
        (*out)->sampled_memory = 0;
        *temp = 1;
        return HYPERION_OK;
    }
    if (!S.last)
        return HY_RAISE(HYPERION_INVALID_ARGUMENT, "run hyperionStartProfiling and hyperionStopProfiling first",
                        "there is no profile yet");
    *out = S.last;
    return HYPERION_OK;
}

/* ------------------------------------------------------------ shutdown */

void hyperionShutdownProfiler(void) {
    pthread_mutex_lock(&S.ctl);
    atomic_store(&hy_prof.record_all, 0);
    hy_prof_set_active(0);
    if (S.sampler) {
        hy_prof_sample *samples = NULL;
        uint32_t n = 0;
        uint64_t dropped = 0;
        hy_sampler_stop(S.sampler, &samples, &n, &dropped);
        hyperionFree(samples);
        S.sampler = NULL;
    }
    close_counters();
    S.session = 0;
    for (int i = 0; i < HYPERION_PROFILER_MAX_CAPTURES; i++) {
        atomic_store(&hy_prof.capture_ids[i], 0);
        S.captures[i].id = 0;
    }
    S.n_captures = 0;
    hy_prof_profile_free(S.last);
    S.last = NULL;
    hy_prof_free_all_buffers();
    pthread_mutex_unlock(&S.ctl);
}
