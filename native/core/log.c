/*
 * log.c — the logging front end and the logger thread.
 *
 * Any thread logs by formatting a record on its own stack and pushing it into a
 * bounded lock-free queue; when the queue is full the record is counted as
 * dropped and the producer moves on, so logging never blocks a native thread.
 * One logger thread drains the queue, writes the sinks (console, rotating file)
 * and hands each record to the optional handler (the Node addon's bridge to JS).
 * When records were dropped, the logger writes a notice saying how many.
 */
#include "log_internal.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------- names */

static const char *const level_names[] = { "trace", "debug", "info", "warn", "error", "off" };
static const char *const category_names[] = { "general", "memory", "performance", "model", "generation" };

const char *hyperionLogLevelName(hyperion_log_level level) {
    return (unsigned)level <= HYPERION_LOG_OFF ? level_names[level] : "unknown";
}

const char *hyperionLogCategoryName(hyperion_log_category category) {
    return (unsigned)category < HYPERION_LOG_CATEGORY_COUNT ? category_names[category] : "unknown";
}

/* ------------------------------------------------------------- state */

/* Levels are read on every log call: one relaxed load each. */
static atomic_int category_levels[HYPERION_LOG_CATEGORY_COUNT] = {
    HYPERION_LOG_WARN, HYPERION_LOG_WARN, HYPERION_LOG_WARN, HYPERION_LOG_WARN, HYPERION_LOG_WARN
};
static atomic_int log_content_allowed;

typedef struct handler_slot {
    hyperion_log_handler fn;
    void *user_data;
} handler_slot;

static struct {
    pthread_mutex_t lock; /* guards configuration changes, start and stop */
    pthread_cond_t progress; /* signalled when the logger finished a batch */
    int started;
    int stopping;
    pthread_t thread;
    sem_t wake;
    _Atomic(hy_log_queue *) queue;
    hy_log_queue *retired; /* replaced queue the logger drains, then frees */
    hy_log_sinks *sinks;
    hyperion_log_config config;       /* in force */
    _Atomic(handler_slot *) handler;
    handler_slot handler_slots[2];
    int handler_generation;
    atomic_uint_fast64_t accepted, dropped_queue, dropped_handler, processed, written, rotations, sink_errors;
    uint64_t drops_reported;
} L = { .lock = PTHREAD_MUTEX_INITIALIZER, .progress = PTHREAD_COND_INITIALIZER };

void hyperionLogConfigDefaults(hyperion_log_config *c) {
    memset(c, 0, sizeof *c);
    c->level = HYPERION_LOG_WARN;
    for (int i = 0; i < HYPERION_LOG_CATEGORY_COUNT; i++) c->category_level[i] = (hyperion_log_level)-1;
    c->console = 1;
    c->console_format = HYPERION_LOG_FORMAT_TEXT;
    c->file_format = HYPERION_LOG_FORMAT_TEXT;
    c->include_timestamp = 1;
    c->include_thread_id = 1;
    c->rotate_max_files = 5;
    c->queue_capacity = 4096;
}

/* ------------------------------------------------------- logger thread */

static void deliver(const hyperion_log_record *record) {
    uint64_t rotations = 0, errors = 0;
    if (hy_log_sinks_write(L.sinks, record, &rotations, &errors)) atomic_fetch_add(&L.written, 1);
    if (rotations) atomic_fetch_add(&L.rotations, rotations);
    if (errors) atomic_fetch_add(&L.sink_errors, errors);
    handler_slot *h = atomic_load(&L.handler);
    if (h && h->fn) h->fn(record, h->user_data);
}

static void report_drops(void) {
    uint64_t dropped = atomic_load(&L.dropped_queue);
    if (dropped == L.drops_reported) return;
    hyperion_log_record notice = { 0 };
    notice.time_ns = hy_clock_realtime_ns();
    notice.thread_id = hy_thread_id();
    notice.level = HYPERION_LOG_WARN;
    notice.category = HYPERION_LOG_GENERAL;
    hy_log_queue *q = atomic_load(&L.queue);
    snprintf(notice.message, sizeof notice.message,
             "%llu log records were dropped because the log queue (capacity %zu) was full; %llu dropped in total",
             (unsigned long long)(dropped - L.drops_reported), q ? hy_log_queue_capacity(q) : (size_t)0,
             (unsigned long long)dropped);
    L.drops_reported = dropped;
    deliver(&notice);
}

/* Deliver everything queued. Called on the logger thread with L.lock held,
 * which is what keeps configuration changes out of a batch in progress. */
static void drain_locked(void) {
    hyperion_log_record record;
    hy_log_queue *retired = L.retired;
    if (retired) { /* drain a replaced queue once no producer is inside it */
        while (hy_log_queue_busy(retired)) sched_yield();
        while (hy_log_queue_pop(retired, &record)) {
            deliver(&record);
            atomic_fetch_add(&L.processed, 1);
        }
        L.retired = NULL;
        hy_log_queue_destroy(retired);
    }
    hy_log_queue *q = atomic_load(&L.queue);
    while (q && hy_log_queue_pop(q, &record)) {
        deliver(&record);
        atomic_fetch_add(&L.processed, 1);
    }
    report_drops();
}

static void *logger_main(void *arg) {
    (void)arg;
    for (;;) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 50 * 1000000L;
        if (until.tv_nsec >= 1000000000L) { until.tv_sec++; until.tv_nsec -= 1000000000L; }
        while (sem_timedwait(&L.wake, &until) != 0 && errno == EINTR) {}

        pthread_mutex_lock(&L.lock);
        drain_locked();
        int stopping = L.stopping;
        pthread_cond_broadcast(&L.progress);
        pthread_mutex_unlock(&L.lock);
        if (stopping) break;
    }
    return NULL;
}

/* Set on the thread that holds L.lock to start or reconfigure the logger:
 * that allocates (queue, sinks) through the memory pool, and the pool may log
 * (or fail and raise an error, which logs). Those records must not come back
 * here and take L.lock again on the same thread (a self-deadlock); before the
 * logger runs they are counted as dropped instead. */
static _Thread_local int starting_here;

/* Start the logger with the current configuration. Called with L.lock held. */
static hyperion_status start_locked(void) {
    if (L.started) return HYPERION_OK;
    if (!L.config.queue_capacity) hyperionLogConfigDefaults(&L.config);
    hy_log_queue *q = NULL;
    hyperion_status status = hy_log_queue_create(L.config.queue_capacity, &q);
    if (status != HYPERION_OK) return status;
    status = hy_log_sinks_create(&L.sinks);
    if (status == HYPERION_OK) status = hy_log_sinks_configure(L.sinks, &L.config);
    if (status != HYPERION_OK) {
        hy_log_sinks_destroy(L.sinks);
        L.sinks = NULL;
        hy_log_queue_destroy(q);
        return status;
    }
    sem_init(&L.wake, 0, 0);
    atomic_store(&L.queue, q);
    L.stopping = 0;
    if (pthread_create(&L.thread, NULL, logger_main, NULL) != 0) {
        atomic_store(&L.queue, NULL);
        hy_log_queue_destroy(q);
        hy_log_sinks_destroy(L.sinks);
        L.sinks = NULL;
        sem_destroy(&L.wake);
        return HY_RAISE(HYPERION_INTERNAL, "the system refused to start a thread", "cannot start the logger thread");
    }
    L.started = 1;
    return HYPERION_OK;
}


static hyperion_status ensure_started(void) {
    if (__atomic_load_n(&L.started, __ATOMIC_ACQUIRE)) return HYPERION_OK;
    if (starting_here) return HYPERION_INTERNAL;
    pthread_mutex_lock(&L.lock);
    starting_here = 1;
    hyperion_status status = start_locked();
    starting_here = 0;
    pthread_mutex_unlock(&L.lock);
    return status;
}

/* --------------------------------------------------------- configuration */

static hyperion_status check_level(hyperion_log_level level, const char *field) {
    if ((unsigned)level > HYPERION_LOG_OFF)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "use trace, debug, info, warn, error or off",
                             ((hy_field[]){ HY_TXT("field", field), HY_NUM("value", (int)level) }),
                             "%s: unknown log level %d", field, (int)level);
    return HYPERION_OK;
}

static void apply_levels(const hyperion_log_config *c) {
    for (int i = 0; i < HYPERION_LOG_CATEGORY_COUNT; i++) {
        int level = (int)c->category_level[i] >= 0 ? (int)c->category_level[i] : (int)c->level;
        atomic_store_explicit(&category_levels[i], level, memory_order_relaxed);
    }
    atomic_store(&log_content_allowed, c->log_content ? 1 : 0);
}

hyperion_status hyperionConfigureLogging(const hyperion_log_config *config) {
    if (!config)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", "config") }),
                             "config must not be NULL");
    hyperion_status status = check_level(config->level, "level");
    if (status) return status;
    static const char *const fields[] = { "categories.general", "categories.memory", "categories.performance",
                                          "categories.model", "categories.generation" };
    for (int i = 0; i < HYPERION_LOG_CATEGORY_COUNT; i++)
        if ((int)config->category_level[i] >= 0 && (status = check_level(config->category_level[i], fields[i])))
            return status;
    if (config->rotate_max_bytes && config->rotate_max_files < 1)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "keep at least one file",
                             ((hy_field[]){ HY_TXT("field", "rotation.maxFiles") }), "rotation.maxFiles must be >= 1");
    if (config->queue_capacity < 2 || config->queue_capacity > ((size_t)1 << 20))
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "use 2 to 1048576 records",
                             ((hy_field[]){ HY_TXT("field", "queueCapacity"), HY_NUM("value", config->queue_capacity) }),
                             "queueCapacity must be between 2 and 1048576, got %zu", config->queue_capacity);
#if !HYPERION_HAVE_ZLIB
    if (config->rotate_compress)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "this build has no zlib: set compress to false",
                             ((hy_field[]){ HY_TXT("field", "rotation.compress") }),
                             "rotation.compress needs zlib, which this build lacks");
#endif

    pthread_mutex_lock(&L.lock);
    starting_here = 1;   /* the sinks and queue allocate and may log: see ensure_started */
    if (!L.started) {
        hyperion_log_config previous = L.config;
        L.config = *config;
        status = start_locked();
        if (status != HYPERION_OK) L.config = previous;
    } else {
        /* The logger thread writes the sinks only while holding L.lock, so
         * they can be reconfigured here. */
        status = hy_log_sinks_configure(L.sinks, config);
        if (status == HYPERION_OK) {
            hy_log_queue *q = atomic_load(&L.queue);
            if (config->queue_capacity != L.config.queue_capacity && !L.retired) {
                hy_log_queue *fresh = NULL;
                if (hy_log_queue_create(config->queue_capacity, &fresh) == HYPERION_OK) {
                    atomic_store(&L.queue, fresh);
                    L.retired = q;
                    sem_post(&L.wake);
                }
            }
            L.config = *config;
        }
    }
    if (status == HYPERION_OK) apply_levels(config);
    starting_here = 0;
    pthread_mutex_unlock(&L.lock);
    return status;
}

hyperion_status hyperionSetLogLevel(hyperion_log_level level) {
    hyperion_status status = check_level(level, "level");
    if (status) return status;
    pthread_mutex_lock(&L.lock);
    if (!L.config.queue_capacity) hyperionLogConfigDefaults(&L.config);
    L.config.level = level;
    for (int i = 0; i < HYPERION_LOG_CATEGORY_COUNT; i++) L.config.category_level[i] = (hyperion_log_level)-1;
    apply_levels(&L.config);
    pthread_mutex_unlock(&L.lock);
    return HYPERION_OK;
}

hyperion_status hyperionSetCategoryLogLevel(hyperion_log_category category, hyperion_log_level level) {
    if ((unsigned)category >= HYPERION_LOG_CATEGORY_COUNT)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "use general, memory, performance, model or generation",
                             ((hy_field[]){ HY_TXT("field", "category") }), "unknown log category %d", (int)category);
    hyperion_status status = check_level(level, "level");
    if (status) return status;
    pthread_mutex_lock(&L.lock);
    if (!L.config.queue_capacity) hyperionLogConfigDefaults(&L.config);
    L.config.category_level[category] = level;
    apply_levels(&L.config);
    pthread_mutex_unlock(&L.lock);
    return HYPERION_OK;
}

void hyperionSetLogHandler(hyperion_log_handler handler, void *user_data) {
    pthread_mutex_lock(&L.lock);
    if (!handler) {
        atomic_store(&L.handler, NULL);
    } else {
        handler_slot *slot = &L.handler_slots[++L.handler_generation & 1];
        slot->fn = handler;
        slot->user_data = user_data;
        atomic_store(&L.handler, slot);
    }
    pthread_mutex_unlock(&L.lock);
    /* Wait for a batch in progress, so the old handler is no longer running
     * when this returns and its owner may free what user_data points to. */
    if (L.started) hyperionLogFlush(1000);
}

/* ---------------------------------------------------------------- logging */

int hyperionLogEnabled(hyperion_log_level level, hyperion_log_category category) {
    if ((unsigned)category >= HYPERION_LOG_CATEGORY_COUNT || level >= HYPERION_LOG_OFF) return 0;
    return (int)level >= atomic_load_explicit(&category_levels[category], memory_order_relaxed);
}

static void submit(const hyperion_log_record *record) {
    if (ensure_started() != HYPERION_OK) {
        atomic_fetch_add(&L.dropped_queue, 1);
        return;
    }
    for (;;) {
        hy_log_queue *q = atomic_load(&L.queue);
        if (!q) { /* shut down: the record has nowhere to go */
            atomic_fetch_add(&L.dropped_queue, 1);
            return;
        }
        hy_log_queue_enter(q);
        if (atomic_load(&L.queue) != q) { /* replaced while entering: retry on the new one */
            hy_log_queue_leave(q);
            continue;
        }
        int ok = hy_log_queue_push(q, record);
        hy_log_queue_leave(q);
        if (ok) {
            atomic_fetch_add(&L.accepted, 1);
            sem_post(&L.wake);
        } else {
            atomic_fetch_add(&L.dropped_queue, 1);
        }
        return;
    }
}

void hyperionLogV(hyperion_log_level level, hyperion_log_category category, const char *format, va_list args) {
    if (!hyperionLogEnabled(level, category)) return;
    hyperion_log_record record;
    record.time_ns = hy_clock_realtime_ns();
    record.thread_id = hy_thread_id();
    record.level = level;
    record.category = category;
    vsnprintf(record.message, sizeof record.message, format, args);
    submit(&record);
}

void hyperionLog(hyperion_log_level level, hyperion_log_category category, const char *format, ...) {
    va_list args;
    va_start(args, format);
    hyperionLogV(level, category, format, args);
    va_end(args);
}

void hyperionLogContent(hyperion_log_level level, hyperion_log_category category, const char *label, const char *text,
                        size_t length) {
    if (!hyperionLogEnabled(level, category)) return;
    if (!atomic_load(&log_content_allowed) || !text) {
        hyperionLog(level, category, "%s: [redacted %zu bytes; set logContent: true to log content]",
                    label ? label : "content", length);
        return;
    }
    int shown = length > HYPERION_LOG_MESSAGE_MAX ? HYPERION_LOG_MESSAGE_MAX : (int)length;
    hyperionLog(level, category, "%s: %.*s", label ? label : "content", shown, text);
}

/* ------------------------------------------------------- flush and stats */

hyperion_status hyperionLogFlush(uint32_t timeout_ms) {
    if (!__atomic_load_n(&L.started, __ATOMIC_ACQUIRE)) return HYPERION_OK;
    uint64_t target = atomic_load(&L.accepted);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) { until.tv_sec++; until.tv_nsec -= 1000000000L; }
    pthread_mutex_lock(&L.lock);
    int timed_out = 0;
    /* processed >= target is not enough alone: wait for one whole batch after it
     * too, so drop notices and the handler calls of that batch are done. */
    uint64_t batches_seen = 0;
    while (!timed_out && (atomic_load(&L.processed) < target || batches_seen < 1)) {
        sem_post(&L.wake);
        if (pthread_cond_timedwait(&L.progress, &L.lock, &until) == ETIMEDOUT) timed_out = 1;
        else if (atomic_load(&L.processed) >= target) batches_seen++;
    }
    pthread_mutex_unlock(&L.lock);
    if (timed_out) return HY_RAISE(HYPERION_TIMEOUT, NULL, "log flush did not finish within %u ms", timeout_ms);
    return HYPERION_OK;
}

void hyperionGetLogStats(hyperion_log_stats *s) {
    s->accepted = atomic_load(&L.accepted);
    s->dropped_queue = atomic_load(&L.dropped_queue);
    s->dropped_handler = atomic_load(&L.dropped_handler);
    s->written = atomic_load(&L.written);
    s->rotations = atomic_load(&L.rotations);
    s->sink_errors = atomic_load(&L.sink_errors);
}

/* The addon's handler counts what its own bounded queue to JS refused. */
void hy_log_note_handler_drop(void) {
    atomic_fetch_add(&L.dropped_handler, 1);
}

void hyperionShutdownLogging(void) {
    pthread_mutex_lock(&L.lock);
    if (!L.started) {
        pthread_mutex_unlock(&L.lock);
        return;
    }
    L.stopping = 1;
    pthread_mutex_unlock(&L.lock);
    sem_post(&L.wake);
    pthread_join(L.thread, NULL);
    pthread_mutex_lock(&L.lock);
    hy_log_queue *q = atomic_exchange(&L.queue, NULL);
    while (q && hy_log_queue_busy(q)) sched_yield();
    /* Records that arrived after the logger's last batch still get written. */
    hyperion_log_record record;
    while (q && hy_log_queue_pop(q, &record)) {
        deliver(&record);
        atomic_fetch_add(&L.processed, 1);
    }
    report_drops();
    hy_log_queue_destroy(q);
    hy_log_queue_destroy(L.retired);
    L.retired = NULL;
    hy_log_sinks_destroy(L.sinks);
    L.sinks = NULL;
    sem_destroy(&L.wake);
    L.started = 0;
    pthread_mutex_unlock(&L.lock);
}
