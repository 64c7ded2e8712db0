/*
 * collect.c — copying the threads' buffers into a profile.
 *
 * Runs under the control lock (so no epoch change) and the registry lock (so
 * no thread registers meanwhile). Owners keep appending while it reads: each
 * buffer's count is read once (acquire) and only events below it are copied;
 * an event's end is atomic and 0 while the zone is open, in which case the zone
 * is closed at the profile's end and flagged unfinished.
 */
#include "profiler/profiler_internal.h"

#include <string.h>

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

