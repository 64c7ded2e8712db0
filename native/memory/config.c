/*
 * config.c — the memory debugger's settings: defaults, validation,
 * hyperionInitMemory (callable again at any time), the usage thresholds and
 * their callback, the one-time start and fork safety.
 *
 * Settings are published as atomics and read lock-free on the allocation path;
 * the config lock only orders writers. A change never touches live blocks:
 * each block keeps the guard/canary/tracking state it was allocated with.
 */
#include "mem_internal.h"

#include <math.h>
#include <string.h>

hy_mem_settings hy_mem_set;
atomic_int hy_mem_ready;

static pthread_mutex_t config_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t start_once = PTHREAD_ONCE_INIT;
static hyperion_memory_config current;

/* ---------------------------------------------------------- thresholds */

static struct {
    atomic_uint count;
    _Atomic double fraction[HYPERION_MEMORY_MAX_THRESHOLDS];
    atomic_int above[HYPERION_MEMORY_MAX_THRESHOLDS];
} T;

typedef struct usage_slot {
    hyperion_memory_usage_callback fn;
    void *user_data;
} usage_slot;
static usage_slot usage_slots[2];
static _Atomic(usage_slot *) usage_active;
static atomic_int usage_generation;
static _Thread_local int in_usage_callback;

#define HYSTERESIS 0.05

void hyperionSetMemoryUsageCallback(hyperion_memory_usage_callback callback, void *user_data) {
    if (!callback) {
        atomic_store(&usage_active, NULL);
        return;
    }
    int next = (atomic_fetch_add(&usage_generation, 1) + 1) & 1;
    usage_slots[next].fn = callback;
    usage_slots[next].user_data = user_data;
    atomic_store(&usage_active, &usage_slots[next]);
}

static void fire(double fraction, int rising, uint64_t in_use, uint64_t limit, hyperion_mem_tag tag) {
    if (in_usage_callback) return;
    in_usage_callback = 1;
    {
        char used[32], cap[32];
        hy_mem_format_bytes(in_use, used, sizeof used);
        hy_mem_format_bytes(limit, cap, sizeof cap);
        if (rising)
            hy_mem_log(HYPERION_LOG_WARN, "memory use passed %.0f%% of the limit: %s of %s", fraction * 100, used, cap);
        else
            hy_mem_log(HYPERION_LOG_INFO, "memory use back below %.0f%% of the limit: %s of %s", fraction * 100, used, cap);
    }
    usage_slot *slot = atomic_load(&usage_active);
    if (slot && slot->fn) {
        hyperion_memory_usage_event e = { fraction, rising, in_use, limit, tag };
        slot->fn(&e, slot->user_data);
    }
    in_usage_callback = 0;
}

void hy_mem_thresholds_check(uint64_t before, uint64_t after, hyperion_mem_tag tag) {
    int up = after > before;   /* an allocation can only rise through a threshold, a free only fall */
    uint64_t limit = atomic_load_explicit(&hy_mem_set.limit, memory_order_relaxed);
    if (!limit) return;
    unsigned n = atomic_load_explicit(&T.count, memory_order_relaxed);
    for (unsigned i = 0; i < n; i++) {
        double f = atomic_load_explicit(&T.fraction[i], memory_order_relaxed);
        double used = (double)after;
        if (up && used >= f * (double)limit) {
            if (!atomic_load_explicit(&T.above[i], memory_order_relaxed) && !atomic_exchange(&T.above[i], 1))
                fire(f, 1, after, limit, tag);
        } else if (!up && used < (f - HYSTERESIS) * (double)limit) {
            if (atomic_load_explicit(&T.above[i], memory_order_relaxed) && atomic_exchange(&T.above[i], 0))
                fire(f, 0, after, limit, tag);
        }
    }
}

void hy_mem_thresholds_rearm(void) {
    uint64_t limit = atomic_load(&hy_mem_set.limit);
    uint64_t in_use = atomic_load(&hy_mem_count.in_use);
    unsigned n = atomic_load(&T.count);
    for (unsigned i = 0; i < HYPERION_MEMORY_MAX_THRESHOLDS; i++)
        atomic_store(&T.above[i], i < n && limit && (double)in_use >= atomic_load(&T.fraction[i]) * (double)limit);
}

/* ------------------------------------------------------------- defaults */

void hyperionMemoryConfigDefaults(hyperion_memory_config *c) {
    memset(c, 0, sizeof *c);
    c->guard_mode = HYPERION_GUARD_OFF;
    c->guard_sample_rate = 0.01;
    c->guard_alignment = 1;
    c->quarantine_bytes = (uint64_t)64 << 20;
    c->quarantine_blocks = 4096;
    c->threshold_count = 2;
    c->thresholds[0] = 0.80;
    c->thresholds[1] = 0.95;
}

/* ------------------------------------------------------------ applying */

static void apply(const hyperion_memory_config *c) {
    int stacks = c->track_stack_traces != 0;
    atomic_store(&hy_mem_set.tracking, c->track_allocations || stacks);
    atomic_store(&hy_mem_set.stacks, stacks);
    atomic_store(&hy_mem_set.check_corruption, c->check_corruption != 0);
    atomic_store(&hy_mem_set.guard_underflow, c->guard_underflow != 0);
    atomic_store(&hy_mem_set.guard_min_size, c->guard_min_size);
    double rate = c->guard_mode == HYPERION_GUARD_SAMPLED ? c->guard_sample_rate : 1.0;
    atomic_store(&hy_mem_set.guard_rate_q32, rate >= 1.0 ? ((uint64_t)1 << 32) : (uint64_t)(rate * 4294967296.0));
    atomic_store(&hy_mem_set.guard_alignment, c->guard_alignment ? c->guard_alignment : 1);
    atomic_store(&hy_mem_set.guard_max_mappings, c->guard_max_mappings);
    atomic_store(&hy_mem_set.quarantine_bytes, c->quarantine_bytes);
    atomic_store(&hy_mem_set.quarantine_blocks, c->quarantine_blocks);
    atomic_store(&hy_mem_set.limit, c->max_pool_size);
    atomic_store(&T.count, 0);
    for (uint32_t i = 0; i < c->threshold_count; i++) atomic_store(&T.fraction[i], c->thresholds[i]);
    atomic_store(&T.count, c->threshold_count);
    atomic_store(&hy_mem_set.guard_mode, (int)c->guard_mode);
}

static void fork_prepare(void) {
    pthread_mutex_lock(&config_lock);
    hy_guard_fork_lock(1);
    hy_pool_fork_lock(1);
    hy_track_fork_lock(1);
    hy_stack_fork_lock(1);
    hy_budget_fork_lock(1);
    hy_symbolize_fork_lock(1);
    hy_meta_fork_lock(1);
}

static void fork_done(void) {
    hy_meta_fork_lock(0);
    hy_symbolize_fork_lock(0);
    hy_budget_fork_lock(0);
    hy_stack_fork_lock(0);
    hy_track_fork_lock(0);
    hy_pool_fork_lock(0);
    hy_guard_fork_lock(0);
    pthread_mutex_unlock(&config_lock);
}

static void start(void) {
    hyperionMemoryConfigDefaults(&current);
    apply(&current);
    hy_fault_set_report_path("");
    hy_pool_start();   /* on failure every pool allocation fails cleanly with HYPERION_OUT_OF_MEMORY */
    pthread_atfork(fork_prepare, fork_done, fork_done);
    atomic_store_explicit(&hy_mem_ready, 1, memory_order_release);
}

void hy_mem_start(void) {
    pthread_once(&start_once, start);
}

/* ---------------------------------------------------------- validation */

static hyperion_status bad(const char *field, const char *suggestion, const char *why) {
    return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, suggestion, ((hy_field[]){ HY_TXT("field", field) }),
                         "memory config: %s %s", field, why);
}

static hyperion_status validate(const hyperion_memory_config *c) {
    if ((unsigned)c->guard_mode > HYPERION_GUARD_SAMPLED)
        return bad("enableGuardPages", "use off, all or sampled", "is not a guard mode");
    if (c->guard_mode == HYPERION_GUARD_SAMPLED && !(c->guard_sample_rate > 0.0 && c->guard_sample_rate <= 1.0))
        return bad("guardSampleRate", "use a rate above 0 and at most 1", "must be in (0, 1]");
    if (c->guard_alignment & (c->guard_alignment - 1) || c->guard_alignment > HY_MEM_MAX_ALIGN)
        return bad("guardAlignment", "use a power of two up to 4096", "must be a power of two up to 4096");
    if (!memchr(c->report_path, '\0', sizeof c->report_path))
        return bad("reportPath", "use a shorter path", "is longer than 1023 bytes");
    if (c->threshold_count > HYPERION_MEMORY_MAX_THRESHOLDS)
        return bad("thresholds", "use at most 8 thresholds", "has more than 8 entries");
    for (uint32_t i = 0; i < c->threshold_count; i++) {
        double t = c->thresholds[i];
        if (!(t > 0.0 && t <= 1.0) || isnan(t))
            return bad("thresholds", "use fractions of the limit in (0, 1], e.g. 0.8", "must hold fractions in (0, 1]");
        if (i && !(t > c->thresholds[i - 1]))
            return bad("thresholds", "list the thresholds in ascending order", "must be ascending");
    }
    return HYPERION_OK;
}

/* ----------------------------------------------------------- public */

hyperion_status hyperionInitMemory(const hyperion_memory_config *config) {
    hyperion_memory_config defaults;
    if (!config) {
        hyperionMemoryConfigDefaults(&defaults);
        config = &defaults;
    }
    hyperion_status status = validate(config);
    if (status) return status;
    hy_mem_ensure_started();
    if (config->initial_pool_size && hy_pool_reserve(config->initial_pool_size) != 0) {
        char want[32];
        hy_mem_format_bytes(config->initial_pool_size, want, sizeof want);
        return HY_RAISE_WITH(HYPERION_OUT_OF_MEMORY, "lower initialPoolSize",
                             ((hy_field[]){ HY_TXT("field", "initialPoolSize"), HY_NUM("requested", config->initial_pool_size) }),
                             "cannot reserve the initial pool of %s", want);
    }
    pthread_mutex_lock(&config_lock);
    int guard_was = current.guard_mode;
    current = *config;
    apply(config);
    hy_fault_set_report_path(config->report_path);
    if (config->guard_mode != HYPERION_GUARD_OFF) {
        hy_fault_install();
        hy_fault_prepare_thread();
    }
    pthread_mutex_unlock(&config_lock);
    hy_guard_apply_settings();
    hy_mem_thresholds_rearm();
    if (guard_was != (int)config->guard_mode && config->guard_mode != HYPERION_GUARD_OFF)
        HY_LOG(HYPERION_LOG_INFO, HYPERION_LOG_MEMORY, "guard pages on (%s), fault reports go to stderr and %s",
               config->guard_mode == HYPERION_GUARD_ALL ? "all blocks" : "sampled",
               config->report_path[0] ? config->report_path : "$TMPDIR/hyperion-memory-fault-<pid>.json");
    return HYPERION_OK;
}

void hyperionGetMemoryConfig(hyperion_memory_config *config) {
    hy_mem_ensure_started();
    pthread_mutex_lock(&config_lock);
    *config = current;
    pthread_mutex_unlock(&config_lock);
}

hyperion_status hyperionEnableStackTraces(int on) {
    hy_mem_ensure_started();
    pthread_mutex_lock(&config_lock);
    current.track_stack_traces = on != 0;
    if (on) current.track_allocations = 1;
    atomic_store(&hy_mem_set.tracking, current.track_allocations || current.track_stack_traces);
    atomic_store(&hy_mem_set.stacks, on != 0);
    pthread_mutex_unlock(&config_lock);
    return HYPERION_OK;
}
