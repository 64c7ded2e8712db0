/*
 * session.c — configuration, sessions, per-request captures, and collecting the
 * threads' buffers into a profile.
 *
 * Recording is on while a session runs or at least one capture is active. The
 * first of them to begin, from idle, starts a new epoch (buffers reset lazily by
 * their owners); the profile of a session or capture takes the events of that
 * epoch which started inside its window (and, for a capture, carry its request
 * id). Control functions are serialized by one lock; the hot path never takes it.
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

/* ------------------------------------------------------------ collecting */

static int matches(const hy_prof_event *ev, uint64_t t0, uint64_t t1, uint64_t request) {
    return ev->start >= t0 && ev->start < t1 && (request == 0 || ev->request == request);
}

hyperion_status hy_prof_collect(uint64_t t0, uint64_t t1, uint64_t request, hy_prof_profile **out) {
    *out = NULL;
    hy_prof_profile *p = hyperionCalloc(1, sizeof *p, HY_PROF_TAG);
    if (!p) return hyperionGetLastError()->code;
    p->t0 = t0;
    p->t1 = t1 > t0 ? t1 : t0 + 1;
    p->request = request;
    p->config = S.config;
    p->counters.reason = HY_CTR_DISABLED;
    p->counters.paranoid = INT32_MIN;

    uint32_t epoch = atomic_load(&hy_prof.epoch);
    hyperion_status st = HYPERION_OK;
    pthread_mutex_lock(&hy_prof_reg.lock);
    /* The list cannot change while the lock is held (registration takes it),
     * but counts grow: each buffer's count is read once, in pass 1. */
    uint32_t n_all = 0;
    for (hy_prof_buffer *b = hy_prof_reg.head; b; b = b->next) n_all++;
    struct seen { uint32_t count; uint64_t dropped; } *counts = hyperionCalloc(n_all ? n_all : 1, sizeof *counts, HY_PROF_TAG);
    if (!counts) {
        st = hyperionGetLastError()->code;
        pthread_mutex_unlock(&hy_prof_reg.lock);
        hy_prof_profile_free(p);
        return st;
    }
    /* pass 1: how many threads and matching events */
    uint32_t n_buffers = 0, bi = 0;
    uint64_t n_events = 0;
    for (hy_prof_buffer *b = hy_prof_reg.head; b; b = b->next, bi++) {
        if (atomic_load_explicit(&b->epoch, memory_order_acquire) != epoch || !b->events) continue;
        uint32_t count = atomic_load_explicit(&b->count, memory_order_acquire);
        uint64_t dropped = atomic_load(&b->dropped);
        counts[bi].count = count;
        counts[bi].dropped = dropped;
        uint32_t matched = 0;
        for (uint32_t i = 0; i < count; i++) matched += (uint32_t)matches(&b->events[i], t0, p->t1, request);
        if (matched || (request == 0 && dropped > b->dropped_at_start)) n_buffers++;
        n_events += matched;
    }
    if (n_events > UINT32_MAX) n_events = UINT32_MAX;
    p->threads = n_buffers ? hyperionCalloc(n_buffers, sizeof *p->threads, HY_PROF_TAG) : NULL;
    p->events = n_events ? hyperionCalloc((size_t)n_events, sizeof *p->events, HY_PROF_TAG) : NULL;
    if ((n_buffers && !p->threads) || (n_events && !p->events)) {
        st = hyperionGetLastError()->code;
        pthread_mutex_unlock(&hy_prof_reg.lock);
        hyperionFree(counts);
        hy_prof_profile_free(p);
        return st;
    }
    /* pass 2: copy the same events */
    uint32_t t = 0, e = 0;
    bi = 0;
    for (hy_prof_buffer *b = hy_prof_reg.head; b && t < n_buffers; b = b->next, bi++) {
        if (atomic_load_explicit(&b->epoch, memory_order_acquire) != epoch || !b->events) continue;
        uint32_t count = counts[bi].count;
        uint32_t first = e;
        for (uint32_t i = 0; i < count && e < n_events; i++) {
            const hy_prof_event *ev = &b->events[i];
            if (!matches(ev, t0, p->t1, request)) continue;
            hy_prof_rec *r = &p->events[e++];
            r->name = ev->name;
            r->type = ev->type;
            r->start = ev->start;
            r->end = atomic_load_explicit(&ev->end, memory_order_relaxed);
            r->flags = ev->flags;
            if (r->end == 0) {
                r->end = p->t1;
                r->flags |= HY_EV_UNFINISHED;
            }
            if (r->end > p->t1) r->end = p->t1;
            if (r->end < r->start) r->end = r->start;
            r->bytes = ev->bytes;
            r->flops = ev->flops;
            r->request = ev->request;
            memcpy(r->dims, ev->dims, sizeof r->dims);
            r->layer = ev->layer;
            r->category = ev->category;
            r->n_dims = ev->n_dims;
            r->thread = t;
        }
        uint64_t dropped = counts[bi].dropped;
        uint64_t dropped_here = request == 0 && dropped > b->dropped_at_start ? dropped - b->dropped_at_start : 0;
        if (e == first && dropped_here == 0) continue;
        hy_prof_thread *th = &p->threads[t];
        th->tid = b->tid;
        memcpy(th->name, b->name, sizeof th->name);
        th->name[sizeof th->name - 1] = '\0';
        th->order = b->order;
        th->dropped = dropped_here;
        th->first = first;
        th->count = e - first;
        p->dropped += dropped_here;
        t++;
    }
    hyperionFree(counts);
    pthread_mutex_unlock(&hy_prof_reg.lock);
    p->n_threads = t;
    p->n_events = e;
    *out = p;
    return st;
}


void hy_prof_profile_free(hy_prof_profile *p) {
    if (!p) return;
    hy_prof_analysis_free(p->analysis);
    hyperionFree(p->threads);
    hyperionFree(p->events);
    hyperionFree(p->samples);
    hyperionFree(p);
}

/* ------------------------------------------------------------ reports */

/* The profile the report functions read: the running session's snapshot
 * (*temp = 1, caller frees it) or the last stopped session. Call with ctl held. */
static hyperion_status current_profile(hy_prof_profile **out, int *temp) {
    *temp = 0;
    if (S.session) {
        hyperion_status st = hy_prof_collect(S.t0, hy_clock_monotonic_ns(), 0, out);
        if (st != HYPERION_OK) return st;
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

typedef hyperion_status (*writer_fn)(hy_prof_profile *p, hy_jw *w, uint32_t arg);

static hyperion_status w_summary(hy_prof_profile *p, hy_jw *w, uint32_t arg) { (void)arg; return hy_prof_write_summary(p, w); }
static hyperion_status w_hotspots(hy_prof_profile *p, hy_jw *w, uint32_t arg) { return hy_prof_write_hotspots(p, arg, w); }
static hyperion_status w_bottlenecks(hy_prof_profile *p, hy_jw *w, uint32_t arg) { (void)arg; return hy_prof_write_bottlenecks(p, w); }
static hyperion_status w_table(hy_prof_profile *p, hy_jw *w, uint32_t arg) { (void)arg; return hy_prof_write_table(p, w); }

static hyperion_status report_to_string(writer_fn fn, uint32_t arg, char **out, const char *field) {
    if (!out)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", field) }),
                             "output pointer must not be NULL");
    *out = NULL;
    pthread_mutex_lock(&S.ctl);
    hy_prof_profile *p = NULL;
    int temp = 0;
    hyperion_status st = current_profile(&p, &temp);
    if (st == HYPERION_OK) {
        hy_jw w;
        hy_jw_init_memory(&w);
        st = fn(p, &w, arg);
        if (st == HYPERION_OK) {
            *out = hy_jw_take(&w);
            if (!*out) st = HY_RAISE(HYPERION_OUT_OF_MEMORY, NULL, "no memory for the profiler report");
        } else {
            hy_jw_release(&w);
        }
        if (temp) hy_prof_profile_free(p);
    }
    pthread_mutex_unlock(&S.ctl);
    return st;
}

hyperion_status hyperionGetProfileSummary(char **out_json) {
    return report_to_string(w_summary, 0, out_json, "out_json");
}

hyperion_status hyperionGetHotspots(uint32_t n, char **out_json) {
    return report_to_string(w_hotspots, n, out_json, "out_json");
}

hyperion_status hyperionAnalyzeBottlenecks(char **out_json) {
    return report_to_string(w_bottlenecks, 0, out_json, "out_json");
}

hyperion_status hyperionGetProfileTable(char **out_text) {
    return report_to_string(w_table, 0, out_text, "out_text");
}

hyperion_status hyperionPrintProfileSummary(FILE *stream) {
    char *text = NULL;
    hyperion_status st = hyperionGetProfileTable(&text);
    if (st != HYPERION_OK) return st;
    FILE *f = stream ? stream : stdout;
    int failed = fputs(text, f) < 0 || fflush(f) != 0;
    hyperionFree(text);
    if (failed) return HY_RAISE(HYPERION_IO, NULL, "could not write the profile table: %s", strerror(errno));
    return HYPERION_OK;
}

/* Write one report to path through a temporary file renamed into place. */
static hyperion_status write_file(const char *path, writer_fn fn, hy_prof_profile *p) {
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp-%d", path, (int)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", "path") }), "path is too long");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        int err = errno;
        return HY_RAISE_WITH(HYPERION_IO, "check that the folder exists and is writable",
                             ((hy_field[]){ HY_TXT("path", path), HY_NUM("errno", err) }),
                             "cannot create \"%s\": %s", tmp, strerror(err));
    }
    hy_jw w;
    hy_jw_init_fd(&w, fd);
    hyperion_status st = fn(p, &w, 0);
    hy_jw_raw(&w, "\n", 1);
    hy_jw_flush(&w);
    int failed = w.failed, err = w.errno_saved;
    hy_jw_release(&w);
    if (close(fd) != 0 && !failed) {
        failed = 1;
        err = errno;
    }
    if (st == HYPERION_OK && !failed && rename(tmp, path) != 0) {
        failed = 1;
        err = errno;
    }
    if (st != HYPERION_OK || failed) {
        unlink(tmp);
        if (failed && err == ENOMEM) return HY_RAISE(HYPERION_OUT_OF_MEMORY, NULL, "no memory to write \"%s\"", path);
        if (failed)
            return HY_RAISE_WITH(HYPERION_IO, err == ENOSPC ? "free some disk space" : NULL,
                                 ((hy_field[]){ HY_TXT("path", path), HY_NUM("errno", err) }),
                                 "cannot write \"%s\": %s", path, strerror(err));
        return st;
    }
    return HYPERION_OK;
}

static hyperion_status w_trace(hy_prof_profile *p, hy_jw *w, uint32_t arg) { (void)arg; return hy_prof_write_trace(p, w); }

/* "x.json" -> "x.summary.json"; anything else gets ".summary.json" appended. */
static int summary_path(const char *path, char *out, size_t size) {
    size_t n = strlen(path);
    int written;
    if (n >= 5 && strcmp(path + n - 5, ".json") == 0)
        written = snprintf(out, size, "%.*s.summary.json", (int)(n - 5), path);
    else
        written = snprintf(out, size, "%s.summary.json", path);
    return written >= 0 && (size_t)written < size;
}

hyperion_status hyperionSaveProfile(const char *path, hyperion_profile_format format) {
    if (!path || !path[0])
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", "path") }),
                             "path must be a non-empty string");
    if ((unsigned)format > HYPERION_PROFILE_BOTH)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "use chrome-trace, summary or both",
                             ((hy_field[]){ HY_TXT("field", "format"), HY_NUM("value", (int)format) }),
                             "unknown profile format %d", (int)format);
    char second[4096];
    if (format == HYPERION_PROFILE_BOTH && !summary_path(path, second, sizeof second))
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", "path") }), "path is too long");
    pthread_mutex_lock(&S.ctl);
    hy_prof_profile *p = NULL;
    int temp = 0;
    hyperion_status st = current_profile(&p, &temp);
    if (st == HYPERION_OK) {
        if (format == HYPERION_PROFILE_SUMMARY) st = write_file(path, w_summary, p);
        else st = write_file(path, w_trace, p);
        if (st == HYPERION_OK && format == HYPERION_PROFILE_BOTH) st = write_file(second, w_summary, p);
        if (temp) hy_prof_profile_free(p);
    }
    pthread_mutex_unlock(&S.ctl);
    return st;
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
