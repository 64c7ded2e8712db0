/*
 * trace.c — the Chrome trace (Trace Event Format, JSON object form).
 *
 *   {"displayTimeUnit": "ms",
 *    "traceEvents": [ M process/thread names, X zones per thread, C counters ],
 *    "otherData": { dropped zones, clock, ... }}
 *
 * displayTimeUnit is the first key, as asked, and written with a space after
 * the colon: some old Perfetto importers matched the exact text
 * `"displayTimeUnit":"ns"` and then read every ts as nanoseconds, while the
 * format says ts is always in microseconds; "ms" is also the format's default.
 *
 * Zones are complete ("X") events, one per line, grouped by thread and sorted
 * by start, the longer first at equal starts, after analysis.c has clamped every
 * child inside its parent — so per thread they nest strictly and their ts never
 * decreases. ts and dur are microseconds printed from integer nanoseconds with
 * three decimals, exact, relative to the profile's start.
 */
#include "profiler/profiler_internal.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static void put_us(hy_jw *w, uint64_t ns) {
    hy_jw_printf(w, "%llu.%03llu", (unsigned long long)(ns / 1000ull), (unsigned long long)(ns % 1000ull));
}

/* A zone line is built in a local buffer with hand-made number formatting:
 * traces run to millions of zones, and printf per field dominated the write. */
static char *put_u64(char *p, uint64_t v) {
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) *p++ = tmp[--n];
    return p;
}

static char *put_text(char *p, const char *text) {
    size_t n = strlen(text);
    memcpy(p, text, n);
    return p + n;
}

/* ns as microseconds with three decimals */
static char *put_us_fast(char *p, uint64_t ns) {
    p = put_u64(p, ns / 1000);
    uint64_t frac = ns % 1000;
    *p++ = '.';
    *p++ = (char)('0' + frac / 100);
    *p++ = (char)('0' + frac / 10 % 10);
    *p++ = (char)('0' + frac % 10);
    return p;
}

static char *put_string(char *p, const char *text, size_t room) {
    *p++ = '"';
    p += hy_json_escape(text, strnlen(text, HY_PROF_NAME_MAX), p, room);
    *p++ = '"';
    return p;
}

static void write_zone(hy_jw *w, const hy_prof_rec *e, uint64_t t0, int pid, uint64_t tid) {
    char line[2048];   /* two names of at most 128 bytes, escaped (x6), and numbers */
    char *p = line;
    p = put_text(p, ",\n{\"name\":");
    p = put_string(p, e->name, 6 * HY_PROF_NAME_MAX + 1);
    p = put_text(p, ",\"cat\":\"");
    p = put_text(p, hyperionZoneCategoryName((hyperion_zone_category)e->category));
    p = put_text(p, "\",\"ph\":\"X\",\"ts\":");
    p = put_us_fast(p, e->start - t0);
    p = put_text(p, ",\"dur\":");
    p = put_us_fast(p, e->end - e->start);
    p = put_text(p, ",\"pid\":");
    p = put_u64(p, (uint64_t)pid);
    p = put_text(p, ",\"tid\":");
    p = put_u64(p, tid);
    p = put_text(p, ",\"args\":{");
    char *args = p;
#define SEP() do { if (p != args) *p++ = ','; } while (0)
    if (e->layer >= 0) {
        SEP();
        p = put_text(p, "\"layer\":");
        p = put_u64(p, (uint64_t)e->layer);
    }
    if (e->n_dims) {
        SEP();
        p = put_text(p, "\"shape\":[");
        for (int d = 0; d < e->n_dims; d++) {
            if (d) *p++ = ',';
            p = put_u64(p, e->dims[d]);
        }
        *p++ = ']';
    }
    if (e->type) {
        SEP();
        p = put_text(p, "\"type\":");
        p = put_string(p, e->type, 6 * HY_PROF_NAME_MAX + 1);
    }
    if (e->bytes) {
        SEP();
        p = put_text(p, "\"bytes\":");
        p = put_u64(p, e->bytes);
    }
    if (e->flops) {
        SEP();
        p = put_text(p, "\"flops\":");
        p = put_u64(p, e->flops);
    }
    if (e->request) {
        SEP();
        p = put_text(p, "\"request\":");
        p = put_u64(p, e->request);
    }
    if (e->flags & HY_EV_UNFINISHED) {
        SEP();
        p = put_text(p, "\"unfinished\":true");
    }
    if (e->flags & HY_EV_CLAMPED) {
        SEP();
        p = put_text(p, "\"clamped\":true");
    }
#undef SEP
    p = put_text(p, "}}");
    hy_jw_raw(w, line, (size_t)(p - line));
}

static void write_counter(hy_jw *w, const char *name, const char *key, uint64_t value, uint64_t t, uint64_t t0, int pid) {
    hy_jw_printf(w, ",\n{\"name\":\"%s\",\"ph\":\"C\",\"ts\":", name);
    put_us(w, t > t0 ? t - t0 : 0);
    hy_jw_printf(w, ",\"pid\":%d,\"args\":{\"%s\":%llu}}", pid, key, (unsigned long long)value);
}

hyperion_status hy_prof_write_trace(hy_prof_profile *p, hy_jw *w) {
    const hy_prof_analysis *a = hy_prof_analyze(p);
    if (!a) {
        hyperion_status code = hyperionGetLastError()->code;
        return code != HYPERION_OK ? code : HYPERION_OUT_OF_MEMORY;
    }
    int pid = (int)getpid();
    hy_jw_text(w, "{\"displayTimeUnit\": \"ms\",\n\"traceEvents\": [\n");
    hy_jw_printf(w, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%d,\"args\":{\"name\":\"hyperion\"}}", pid);

    /* thread names, and an order: the main thread first, then by registration */
    for (uint32_t i = 0; i < p->n_threads; i++) {
        const hy_prof_thread *th = &p->threads[a->thread_order[i]];
        int sort_index = (int)i;
        hy_jw_printf(w, ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":%llu,\"args\":{\"name\":", pid,
                     (unsigned long long)th->tid);
        hy_jw_string(w, th->name);
        hy_jw_raw(w, "}}", 2);
        hy_jw_printf(w, ",\n{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":%d,\"tid\":%llu,\"args\":{\"sort_index\":%d}}",
                     pid, (unsigned long long)th->tid, sort_index);
    }

    for (uint32_t i = 0; i < p->n_threads; i++) {
        const hy_prof_thread *th = &p->threads[a->thread_order[i]];
        const uint32_t *ord = a->order + th->first;
        for (uint32_t i = 0; i < th->count; i++) write_zone(w, &p->events[ord[i]], p->t0, pid, th->tid);
    }

    for (uint32_t i = 0; i < p->n_samples; i++) {
        const hy_prof_sample *s = &p->samples[i];
        if (p->sampled_memory) {
            write_counter(w, "pool in use", "bytes", s->pool_in_use, s->t, p->t0, pid);
            write_counter(w, "rss", "bytes", s->rss, s->t, p->t0, pid);
        }
        write_counter(w, "tokens generated", "tokens", s->tokens_generated, s->t, p->t0, pid);
    }

    hy_jw_text(w, "\n],\n\"otherData\": {");
    hy_jw_printf(w, "\"producer\":\"hyperion\",\"version\":\"%s\",\"clock\":\"CLOCK_MONOTONIC\",\"startNs\":%llu,",
                 hyperionVersion(), (unsigned long long)p->t0);
    hy_jw_printf(w, "\"wallMs\":%llu.%06llu,", (unsigned long long)(a->wall_ns / 1000000ull),
                 (unsigned long long)(a->wall_ns % 1000000ull));
    hy_jw_printf(w, "\"request\":%llu,\"events\":%u,\"droppedEvents\":%llu,\"droppedSamples\":%llu,", (unsigned long long)p->request,
                 p->n_events, (unsigned long long)p->dropped, (unsigned long long)p->dropped_samples);
    hy_jw_printf(w, "\"clampedEvents\":%llu,\"unfinishedEvents\":%llu,\"threads\":%u,\"hardwareCounters\":",
                 (unsigned long long)a->clamped, (unsigned long long)a->unfinished, p->n_threads);
    hy_jw_string(w, hy_ctr_reason_name(p->counters.reason));
    hy_jw_text(w, "}}");
    if (w->failed) return w->errno_saved == ENOMEM ? HYPERION_OUT_OF_MEMORY : HYPERION_IO;
    return HYPERION_OK;
}
