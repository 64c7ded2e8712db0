/*
 * sampler.c — the counter sampler: a thread that every sampleIntervalMs records
 * the pool's bytes in use, the process RSS and the tokens generated so far, into
 * a bounded array (samples beyond it are counted, not kept). These become the
 * trace's "C" counter events.
 */
#include "profiler/profiler_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_SAMPLES 65536u

struct hy_sampler {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop;
    uint32_t interval_ms;
    int memory;
    uint64_t tokens_base;
    hy_prof_sample *samples;   /* [MAX_SAMPLES] */
    uint32_t n;
    uint64_t dropped;
    int statm_fd;
};

int hy_prof_read_text(const char *path, char *buf, size_t size) {
    if (size == 0) return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t got = 0;
    while (got + 1 < size) {
        ssize_t n = read(fd, buf + got, size - 1 - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    return (int)got;
}

static uint64_t rss_from_fd(int fd) {
    char text[128];
    if (fd < 0) return 0;
    ssize_t n = pread(fd, text, sizeof text - 1, 0);
    if (n <= 0) return 0;
    text[n] = '\0';
    /* statm: size resident shared text lib data dt, in pages */
    char *p = text, *end;
    strtoull(p, &end, 10);
    if (end == p) return 0;
    p = end;
    unsigned long long resident = strtoull(p, &end, 10);
    if (end == p) return 0;
    long page = sysconf(_SC_PAGESIZE);
    return (uint64_t)resident * (uint64_t)(page > 0 ? page : 4096);
}

uint64_t hy_sampler_rss_bytes(void) {
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    uint64_t rss = rss_from_fd(fd);
    if (fd >= 0) close(fd);
    return rss;
}

/* Take one sample; caller holds the lock. */
static void take(hy_sampler *s) {
    if (s->n >= MAX_SAMPLES) {
        s->dropped++;
        return;
    }
    hy_prof_sample *out = &s->samples[s->n++];
    out->t = hy_clock_monotonic_ns();
    out->tokens_generated = atomic_load(&hy_prof.tokens[HYPERION_PHASE_DECODE]) - s->tokens_base;
    if (s->memory) {
        hyperion_memory_stats stats;
        hyperionGetMemoryStats(&stats);
        out->pool_in_use = stats.in_use_bytes;
        out->rss = rss_from_fd(s->statm_fd);
    } else {
        out->pool_in_use = out->rss = 0;
    }
}

static void *sampler_main(void *arg) {
    hy_sampler *s = arg;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    pthread_mutex_lock(&s->lock);
    while (!s->stop) {
        take(s);
        uint64_t ns = (uint64_t)next.tv_nsec + (uint64_t)s->interval_ms * 1000000ull;
        next.tv_sec += (time_t)(ns / 1000000000ull);
        next.tv_nsec = (long)(ns % 1000000000ull);
        while (!s->stop) {
            int rc = pthread_cond_timedwait(&s->wake, &s->lock, &next);
            if (rc == ETIMEDOUT) break;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

hyperion_status hy_sampler_start(uint32_t interval_ms, int memory, uint64_t tokens_base, hy_sampler **out) {
    *out = NULL;
    hy_sampler *s = hyperionCalloc(1, sizeof *s, HY_PROF_TAG);
    if (!s) return hyperionGetLastError()->code;
    s->samples = hyperionAlloc(MAX_SAMPLES * sizeof *s->samples, HY_PROF_TAG);
    if (!s->samples) {
        hyperionFree(s);
        return hyperionGetLastError()->code;
    }
    s->interval_ms = interval_ms ? interval_ms : 1;
    s->memory = memory;
    s->tokens_base = tokens_base;
    s->statm_fd = memory ? open("/proc/self/statm", O_RDONLY | O_CLOEXEC) : -1;
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &attr);
    pthread_condattr_destroy(&attr);
    int rc = pthread_create(&s->thread, NULL, sampler_main, s);
    if (rc != 0) {
        pthread_cond_destroy(&s->wake);
        pthread_mutex_destroy(&s->lock);
        if (s->statm_fd >= 0) close(s->statm_fd);
        hyperionFree(s->samples);
        hyperionFree(s);
        return HY_RAISE_WITH(HYPERION_INTERNAL, "set sampleIntervalMs to 0 to profile without the sampler",
                             ((hy_field[]){ HY_NUM("errno", rc) }), "cannot start the profiler's sampler thread: %s",
                             strerror(rc));
    }
    *out = s;
    return HYPERION_OK;
}

void hy_sampler_stop(hy_sampler *s, hy_prof_sample **samples, uint32_t *n, uint64_t *dropped) {
    pthread_mutex_lock(&s->lock);
    s->stop = 1;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    take(s);   /* the value at the stop */
    *samples = s->samples;
    *n = s->n;
    *dropped = s->dropped;
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    if (s->statm_fd >= 0) close(s->statm_fd);
    hyperionFree(s);
}
