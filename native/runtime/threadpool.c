/*
 * threadpool.c — persistent workers, a spin-then-sleep hand-off, chunked
 * parallel-for, abort, an active-thread cap and a duty-cycle throttle.
 *
 * How a run travels:
 *   caller                                   worker i (1 .. P-1)
 *   write pool->job, reset counters
 *   for each participant i: store go_i = seq  ─►  sees go_i change (spinning,
 *     (futex-wake i only if it sleeps)            or woken from the futex)
 *   participate as index 0                        participate as index i
 *   wait until remaining == 0  ◄──────────────────  remaining -= 1 (the last one
 *     (spin, then futex on remaining)               wakes the caller if it sleeps)
 * Each worker has its own `go` word on its own cache line, so a worker left out
 * of a run (active cap, fewer chunks than threads) is never woken and never
 * reads the job, and a worker always observes every value posted to it (the
 * caller posts again only after it finished), so there is no ABA on the word.
 *
 * Sleeping uses the "Dekker" pattern on two seq_cst variables: the sleeper
 * stores sleeping = 1 then re-reads the word; the poster stores the word then
 * reads sleeping. One of them must see the other's store, so a wake is never
 * lost; futex_wait also re-checks the word in the kernel.
 *
 * The spin budget (HY_THREADPOOL_SPIN_NS = 50 us). Measured on the 2-core
 * Xeon VM this was written on, a 2-thread pool, an empty run issued after the
 * caller was busy for a gap of g:
 *     hand-off to a spinning worker          ~0.2 us per run
 *     hand-off to a sleeping worker (futex)  12-14 us for g <= 50 us,
 *                                            24 us at g = 200 us, 45 us at 1 ms
 *                                            (the idle core has gone deeper)
 * Spinning longer than a wake-up costs is wasted CPU, spinning shorter loses
 * hand-offs the spin would have caught; a budget of about twice the wake cost
 * bounds the waste to 2x the best choice made in hindsight (the classic
 * spin-then-block argument). 50 us covers the gaps inside a decode step
 * (single-threaded glue between kernels: microseconds) and lets workers sleep
 * between tokens, where each idle worker then burns at most 50 us of CPU.
 * While a duty cycle is in force nobody spins.
 *
 * A spinning thread can do one useful thing: a run may name what the next
 * run will read (hy_threadpool_for_then), and a participant that finished
 * its share fetches the start of its share of that into L2 while it waits,
 * for the others or for the next post (spin_on, wait_for_workers).
 */
#include "runtime/threadpool.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdalign.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/internal.h"
#include "hyperion_profiler.h"

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#define HY_HAVE_FUTEX 1
#else
#define HY_HAVE_FUTEX 0
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ __volatile__("yield" ::: "memory")
#else
#define cpu_relax() atomic_signal_fence(memory_order_seq_cst)
#endif

/* Duty-cycle sleeps shorter than this are deferred until enough debt builds up
 * (nanosleep costs tens of microseconds of timer slack; sleeping after every
 * 10-microsecond run would be all overhead). */
#define DUTY_MIN_SLEEP_NS 1000000ull
/* A duty-cycle sleep is cut into slices this long so an abort ends it quickly. */
#define DUTY_SLICE_NS 2000000ull

typedef enum job_kind { JOB_DYNAMIC, JOB_STATIC, JOB_STEAL, JOB_TASKS } job_kind;

/* One run's work, written by the caller before it posts, read-only after. */
typedef struct job {
    job_kind kind;
    hy_threadpool_range_fn range_fn;
    hy_threadpool_task_fn task_fn;
    void *ctx;
    size_t n_items;
    size_t grain;
    size_t n_chunks;
    size_t max_piece;              /* JOB_STEAL: the most chunks one take gets */
    int n_participants;
    int measure_cpu;               /* 1: participants add their thread CPU time to cpu_ns */
    const atomic_int *abort_flag;  /* snapshot of the pool's flag for this run */
    const hy_threadpool_zone *zone;/* slice zone of each participant, or NULL */
    hy_threadpool_read then;       /* what the next run will read (base NULL: no hint) */
    uint64_t request;              /* the dispatching thread's profiler request id */
} job;

typedef struct worker {
    alignas(64) _Atomic uint32_t go;   /* the job sequence posted to this worker */
    /* JOB_STEAL: the chunks [front, back) this participant still owns, as
     * front | back << 32; the owner takes from the front, others from the back */
    _Atomic uint64_t steal_range;
    atomic_int sleeping;               /* 1 while parked on go */
    _Atomic uint64_t os_tid;
    hy_threadpool *pool;
    int index;
    int started;                       /* pthread_create succeeded */
    pthread_t thread;
    /* the worker's own CPU split, sampled when it parks and when it stops
     * (getrusage of another thread is not possible); cpu_total is its thread
     * clock at that moment, so time since is known, if not its split */
    _Atomic uint64_t cpu_user, cpu_system, cpu_total;
} worker;

struct hy_threadpool {
    int n_threads;
    worker *workers;                   /* [n_threads]; slot 0 stands for the caller */
    pthread_mutex_t run_lock;          /* serializes runs; guards seq, job and duty state */
    atomic_int n_active;
    _Atomic(const atomic_int *) abort_flag;
    atomic_int duty_percent;
    _Atomic uint64_t spin_ns;
    atomic_int stop;
    atomic_int n_started;

    job job;
    uint32_t seq;

    alignas(64) _Atomic size_t next_chunk;    /* dynamic claims */
    alignas(64) _Atomic uint32_t remaining;   /* workers (not the caller) still in the run */
    atomic_int caller_sleeping;
    atomic_int aborted;
    _Atomic uint64_t cpu_ns;

    /* duty-cycle window (caller side, under run_lock) */
    uint64_t window_start_ns;
    double window_busy_ns;             /* CPU time per active thread inside the window */

    _Atomic uint64_t stat_runs, stat_wakeups, stat_throttle_sleeps, stat_throttle_ns;
#if !HY_HAVE_FUTEX
    pthread_mutex_t park_lock;
    pthread_cond_t park_cond;
#endif
};

static _Thread_local int tl_index = -1;
/* The pool the calling thread works for between runs (hy_threadpool_enter),
 * and its thread CPU time when that was last accounted (0: not yet). */
static _Thread_local hy_threadpool *tl_scope_pool;
static _Thread_local uint64_t tl_scope_mark;

/* ------------------------------------------------------------ parking */

static void word_wait(hy_threadpool *pool, _Atomic uint32_t *word, uint32_t expected) {
#if HY_HAVE_FUTEX
    (void)pool;
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
#else
    pthread_mutex_lock(&pool->park_lock);
    while (atomic_load(word) == expected) pthread_cond_wait(&pool->park_cond, &pool->park_lock);
    pthread_mutex_unlock(&pool->park_lock);
#endif
}

static void word_wake(hy_threadpool *pool, _Atomic uint32_t *word) {
#if HY_HAVE_FUTEX
    (void)pool;
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
#else
    (void)word;
    pthread_mutex_lock(&pool->park_lock);
    pthread_cond_broadcast(&pool->park_cond);
    pthread_mutex_unlock(&pool->park_lock);
#endif
}

static uint64_t thread_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void hy_thread_cpu_times(uint64_t *user_ns, uint64_t *system_ns) {
    /* The total from the thread's CPU clock (nanoseconds); the split from
     * getrusage, whose figures may be tick-grained (1 ms here): system time
     * is taken from it, capped by the total, and the rest is user time. */
    uint64_t total = thread_cpu_ns(), sys = 0;
#if defined(RUSAGE_THREAD)
    struct rusage ru;
    if (getrusage(RUSAGE_THREAD, &ru) == 0)
        sys = (uint64_t)ru.ru_stime.tv_sec * 1000000000ull + (uint64_t)ru.ru_stime.tv_usec * 1000ull;
#endif
    if (sys > total) sys = total;
    *user_ns = total - sys;
    *system_ns = sys;
}

/* A worker records its CPU split (on its own thread). */
static void sample_worker_cpu(worker *w) {
    uint64_t user, sys;
    hy_thread_cpu_times(&user, &sys);
    atomic_store_explicit(&w->cpu_user, user, memory_order_relaxed);
    atomic_store_explicit(&w->cpu_system, sys, memory_order_relaxed);
    atomic_store_explicit(&w->cpu_total, user + sys, memory_order_relaxed);
}

/* A stretch to fetch into the cache while waiting (next <= end). */
typedef struct pf_region {
    const char *next, *end;
} pf_region;

/* Most of a participant's share fetched ahead: a quarter of a 1 MiB L2, so
 * what is fetched is still there when the run reads it. */
#define PF_AHEAD_MAX ((size_t)256 << 10)

static size_t split_point(size_t n, int p, int i);

/* Chunks of grain in n items, and the participants a run of them gets from
 * `active` threads (one chunk each at least). */
static size_t chunk_count(size_t n, size_t grain) { return n / grain + (n % grain != 0); }
static int participants_for(size_t chunks, int active) { return (size_t)active < chunks ? active : (int)chunks; }

/* Participant index's share of `then`, as the next run would split it over
 * `active` threads (the split of dispatch and take_piece). */
static pf_region share_of(const hy_threadpool_read *then, int active, int index) {
    pf_region r = { NULL, NULL };
    if (!then->base || !then->grain || !then->n_items) return r;
    size_t chunks = chunk_count(then->n_items, then->grain);
    int p = participants_for(chunks, active);
    if (index >= p) return r;
    size_t first = split_point(chunks, p, index) * then->grain, last = split_point(chunks, p, index + 1) * then->grain;
    if (last > then->n_items) last = then->n_items;
    size_t bytes = (last - first) * then->item_bytes;
    if (bytes > PF_AHEAD_MAX) bytes = PF_AHEAD_MAX;
    r.next = (const char *)then->base + first * then->item_bytes;
    r.end = r.next + bytes;
    return r;
}

/* Fetch the next few lines of r into L2 (a handful per spin, so the wait
 * still notices its word within a few hundred nanoseconds). */
static inline void pf_step(pf_region *r) {
#if defined(__x86_64__) || defined(__i386__)
    for (int k = 0; k < 8 && r->next < r->end; k++, r->next += 64) _mm_prefetch(r->next, _MM_HINT_T1);
#else
    for (int k = 0; k < 8 && r->next < r->end; k++, r->next += 64) __builtin_prefetch(r->next, 0, 2);
#endif
}

/* The budget a waiting thread spins for: none while a duty cycle is in force,
 * since spinning between runs is exactly the CPU the limit is meant to save. */
static uint64_t spin_budget(const hy_threadpool *pool) {
    return atomic_load_explicit(&pool->duty_percent, memory_order_relaxed) < 100
               ? 0 : atomic_load_explicit(&pool->spin_ns, memory_order_relaxed);
}

/* Spin until *word != seen or the budget is spent; returns the new value or
 * `seen` when the budget ran out. The clock is read once per 64 pauses. */
static uint32_t spin_on(_Atomic uint32_t *word, uint32_t seen, uint64_t budget_ns, pf_region *pf) {
    if (!budget_ns) return seen;
    uint64_t deadline = hy_clock_monotonic_ns() + budget_ns;
    for (unsigned i = 1;; i++) {
        uint32_t v = atomic_load_explicit(word, memory_order_acquire);
        if (v != seen) return v;
        if (pf && pf->next < pf->end) pf_step(pf);
        else cpu_relax();
        if ((i & 63) == 0 && hy_clock_monotonic_ns() >= deadline) return seen;
    }
}

/* Wait for a post different from `seen`; returns it. */
static uint32_t wait_for_post(hy_threadpool *pool, worker *w, uint32_t seen, pf_region *pf) {
    uint32_t v = spin_on(&w->go, seen, spin_budget(pool), pf);
    if (v != seen) return v;
    sample_worker_cpu(w);   /* about to park: a good moment, it costs no run anything */
    for (;;) {
        atomic_store(&w->sleeping, 1);
        v = atomic_load(&w->go);
        if (v == seen) word_wait(pool, &w->go, seen);
        atomic_store(&w->sleeping, 0);
        v = atomic_load_explicit(&w->go, memory_order_acquire);
        if (v != seen) return v;
    }
}

static void post(hy_threadpool *pool, worker *w, uint32_t seq) {
    atomic_store(&w->go, seq);
    if (atomic_load(&w->sleeping)) {
        word_wake(pool, &w->go);
        atomic_fetch_add_explicit(&pool->stat_wakeups, 1, memory_order_relaxed);
    }
}

/* The caller waits for the workers of the run to finish. */
static void wait_for_workers(hy_threadpool *pool, pf_region *pf) {
    uint64_t budget = spin_budget(pool);
    if (budget) {
        uint64_t deadline = hy_clock_monotonic_ns() + budget;
        for (unsigned i = 1;; i++) {
            if (atomic_load_explicit(&pool->remaining, memory_order_acquire) == 0) return;
            if (pf->next < pf->end) pf_step(pf);
            else cpu_relax();
            if ((i & 63) == 0 && hy_clock_monotonic_ns() >= deadline) break;
        }
    }
    for (;;) {
        atomic_store(&pool->caller_sleeping, 1);
        uint32_t r = atomic_load(&pool->remaining);
        if (r != 0) word_wait(pool, &pool->remaining, r);
        atomic_store(&pool->caller_sleeping, 0);
        if (atomic_load_explicit(&pool->remaining, memory_order_acquire) == 0) return;
    }
}

/* ------------------------------------------------------------ the work */

static int abort_requested(hy_threadpool *pool, const job *j) {
    if (atomic_load_explicit(&pool->aborted, memory_order_relaxed)) return 1;
    if (j->abort_flag && atomic_load_explicit(j->abort_flag, memory_order_relaxed)) {
        atomic_store_explicit(&pool->aborted, 1, memory_order_relaxed);
        return 1;
    }
    return 0;
}

/* What one participant's slice did, when its run has a zone. */
typedef struct slice_cost {
    uint64_t items, bytes, flops;
} slice_cost;

/* Chunks [chunk, chunk + count) in one call (count 1 but for JOB_STEAL). */
static void run_chunks(const job *j, size_t chunk, size_t count, int index, slice_cost *cost) {
    if (j->kind == JOB_TASKS) {
        j->task_fn(j->ctx, (int)chunk, index);
        return;
    }
    size_t begin = chunk * j->grain;
    size_t end = j->n_items - begin <= count * j->grain ? j->n_items : begin + count * j->grain;
    j->range_fn(j->ctx, begin, end, index);
    if (cost) {
        cost->items += end - begin;
        if (j->zone->item_cost) j->zone->item_cost(j->ctx, begin, end, &cost->bytes, &cost->flops);
    }
}

/* The participant's slice zone, recorded after the fact so it can carry the
 * bytes and flops of the items this participant happened to process. */
static void record_slice(const hy_threadpool_zone *z, const slice_cost *cost, uint64_t start_ns) {
    uint64_t end_ns = hyperionProfilerNow();
    hyperion_zone_meta meta = { .layer = z->layer, .type = z->type };
    memcpy(meta.dims, z->dims, sizeof meta.dims);
    meta.bytes = cost->bytes + cost->items * z->item_bytes + (cost->items ? z->participant_bytes : 0);
    meta.flops = cost->flops + cost->items * z->item_flops;
    hyperionProfilerRecordZone(z->name, HYPERION_ZONE_OP, start_ns, end_ns, &meta);
}

/* First chunk of participant i when n chunks are split over p: the first
 * n % p participants get one chunk more. No multiplication can overflow. */
static size_t split_point(size_t n, int p, int i) {
    size_t q = n / (size_t)p, r = n % (size_t)p;
    return q * (size_t)i + ((size_t)i < r ? (size_t)i : r);
}

/* JOB_STEAL: take a piece of participant victim's range, from its front
 * (the owner) or its back (anyone else): a quarter of the chunks left there,
 * at least one and at most max_piece. So pieces are large while much is left
 * (few calls, each with its per-call setup) and single chunks at the end,
 * where a large piece would leave the others waiting. Returns the chunks
 * taken (0: none left), the first in *first. */
static size_t take_piece(hy_threadpool *pool, int victim, int from_front, size_t max_piece, size_t *first) {
    _Atomic uint64_t *range = &pool->workers[victim].steal_range;
    uint64_t r = atomic_load_explicit(range, memory_order_relaxed);
    for (;;) {
        uint64_t front = r & 0xFFFFFFFFu, back = r >> 32;
        if (front >= back) return 0;
        uint64_t k = (back - front) / 4;
        if (k < 1) k = 1;
        if (k > max_piece) k = max_piece;
        uint64_t next = from_front ? (front + k) | back << 32 : front | (back - k) << 32;
        if (atomic_compare_exchange_weak_explicit(range, &r, next, memory_order_relaxed, memory_order_relaxed)) {
            *first = (size_t)(from_front ? front : back - k);
            return (size_t)k;
        }
    }
}

static void participate(hy_threadpool *pool, const job *j, int index) {
    /* the caller's CPU is measured by dispatch (it may include time before the run) */
    int measure = j->measure_cpu && index != 0;
    uint64_t cpu_start = measure ? thread_cpu_ns() : 0;
    /* a worker's zones belong to the dispatching thread's request (the caller, index 0, has it already) */
    int adopt_request = index != 0 && j->request != 0;
    if (adopt_request) hyperionProfilerSetRequest(j->request);
    /* profiler off: this is the one branch a zoned run costs */
    slice_cost cost_storage = { 0, 0, 0 }, *cost = NULL;
    uint64_t slice_start = 0;
    if (j->zone && HY_PROFILER_ON()) {
        cost = &cost_storage;
        slice_start = hyperionProfilerNow();
    }
    tl_index = index;
    if (j->kind == JOB_STATIC) {
        size_t last = split_point(j->n_chunks, j->n_participants, index + 1);
        for (size_t c = split_point(j->n_chunks, j->n_participants, index); c < last; c++) {
            if (abort_requested(pool, j)) break;
            run_chunks(j, c, 1, index, cost);
        }
    } else if (j->kind == JOB_STEAL) {
        /* own run front to back, then the others' runs from their backs */
        size_t c, taken;
        for (int k = 0; k < j->n_participants && !abort_requested(pool, j);) {
            int victim = (index + k) % j->n_participants;
            if ((taken = take_piece(pool, victim, k == 0, j->max_piece, &c))) run_chunks(j, c, taken, index, cost);
            else k++;
        }
    } else {
        while (!abort_requested(pool, j)) {
            size_t c = atomic_fetch_add_explicit(&pool->next_chunk, 1, memory_order_relaxed);
            if (c >= j->n_chunks) break;
            run_chunks(j, c, 1, index, cost);
        }
    }
    tl_index = -1;
    if (cost) record_slice(j->zone, cost, slice_start);
    if (adopt_request) hyperionProfilerSetRequest(0);
    if (measure) atomic_fetch_add(&pool->cpu_ns, thread_cpu_ns() - cpu_start);
}

static void *worker_main(void *arg) {
    worker *w = arg;
    hy_threadpool *pool = w->pool;
    char name[16];
    snprintf(name, sizeof name, "hyperion-w%d", w->index);
#if defined(__APPLE__)
    pthread_setname_np(name);
#else
    pthread_setname_np(pthread_self(), name);
#endif
    snprintf(name, sizeof name, "worker-%d", w->index);
    hyperionProfilerSetThreadName(name);   /* the name traces show; no allocation */
    atomic_store(&w->os_tid, hy_thread_id());
    atomic_fetch_add(&pool->n_started, 1);

    uint32_t seen = 0;
    pf_region pf = { NULL, NULL };
    for (;;) {
        seen = wait_for_post(pool, w, seen, &pf);
        if (atomic_load(&pool->stop)) {
            sample_worker_cpu(w);
            break;
        }
        participate(pool, &pool->job, w->index);
        pf = share_of(&pool->job.then, atomic_load_explicit(&pool->n_active, memory_order_relaxed), w->index);
        /* after this decrement the job may be rewritten: do not touch it again */
        if (atomic_fetch_sub(&pool->remaining, 1) == 1 && atomic_load(&pool->caller_sleeping))
            word_wake(pool, &pool->remaining);
    }
    return NULL;
}

/* ------------------------------------------------------------ duty cycle */

static void sleep_until(uint64_t deadline_ns) {
    struct timespec ts = { (time_t)(deadline_ns / 1000000000ull), (long)(deadline_ns % 1000000000ull) };
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {}
}

/* After a run: account its CPU time and sleep off any excess over percent%.
 * The window keeps at most HY_THREADPOOL_DUTY_WINDOW_NS of history (older
 * history is scaled down, keeping its ratio), so an idle minute does not buy a
 * minute of full speed: a burst after idling is at most percent% of a window. */
/* Add cpu_ns to the window (under run_lock); returns the wall time the
 * window now spans. */
static uint64_t account(hy_threadpool *pool, uint64_t since_ns, uint64_t cpu_ns, int active, uint64_t now) {
    if (!pool->window_start_ns) pool->window_start_ns = since_ns;
    pool->window_busy_ns += (double)cpu_ns / active;
    uint64_t elapsed = now - pool->window_start_ns;
    if (elapsed > HY_THREADPOOL_DUTY_WINDOW_NS) {
        pool->window_busy_ns *= (double)HY_THREADPOOL_DUTY_WINDOW_NS / (double)elapsed;
        pool->window_start_ns = now - HY_THREADPOOL_DUTY_WINDOW_NS;
        elapsed = HY_THREADPOOL_DUTY_WINDOW_NS;
    }
    return elapsed;
}

static void throttle(hy_threadpool *pool, int percent, uint64_t run_start_ns, uint64_t cpu_ns, int active,
                     const atomic_int *abort_flag) {
    double p = percent / 100.0;
    uint64_t now = hy_clock_monotonic_ns();
    uint64_t elapsed = account(pool, run_start_ns, cpu_ns, active, now);
    double owed = pool->window_busy_ns / p - (double)elapsed; /* wall time still needed */
    if (owed < (double)DUTY_MIN_SLEEP_NS) return;

    uint64_t slept_from = now, deadline = now + (uint64_t)owed;
    while (now < deadline) {
        if (abort_flag && atomic_load_explicit(abort_flag, memory_order_relaxed)) break;
        sleep_until(deadline - now > DUTY_SLICE_NS ? now + DUTY_SLICE_NS : deadline);
        now = hy_clock_monotonic_ns();
    }
    atomic_fetch_add_explicit(&pool->stat_throttle_sleeps, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&pool->stat_throttle_ns, now - slept_from, memory_order_relaxed);
}

/* ------------------------------------------------------------ runs */

static hyperion_status dispatch(hy_threadpool *pool, job *j) {
    if (!pool)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", "pool") }),
                             "thread pool run without a pool");
    if ((j->kind == JOB_TASKS && !j->task_fn) || (j->kind != JOB_TASKS && !j->range_fn))
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", "fn") }),
                             "thread pool run without a function");
    if (tl_index >= 0)
        return HY_RAISE(HYPERION_INVALID_ARGUMENT, "split the work in one run instead of nesting runs",
                        "thread pool run started from inside a pool task (participant %d); nested runs are "
                        "not supported", tl_index);
    if (j->n_items == 0) return HYPERION_OK;

    j->abort_flag = atomic_load(&pool->abort_flag);
    j->request = hyperionProfilerGetRequest();
    if (j->abort_flag && atomic_load(j->abort_flag))
        return HY_RAISE(HYPERION_ABORTED, NULL, "thread pool run aborted before it started");

    pthread_mutex_lock(&pool->run_lock);
    int active = atomic_load(&pool->n_active);
    int percent = atomic_load(&pool->duty_percent);
    if (j->grain == 0) j->grain = 1;
    j->n_chunks = chunk_count(j->n_items, j->grain);
    j->n_participants = participants_for(j->n_chunks, active);
    if (j->kind == JOB_STEAL && j->n_chunks > UINT32_MAX) j->kind = JOB_DYNAMIC; /* ranges hold 32-bit indices */
    /* a piece is at most an eighth of a participant's share, so an abort is
     * seen within an eighth of the run */
    j->max_piece = j->n_chunks / (8 * (size_t)j->n_participants);
    if (j->max_piece < 1) j->max_piece = 1;
    if (j->kind == JOB_STEAL)
        for (int i = 0; i < j->n_participants; i++)
            atomic_store_explicit(&pool->workers[i].steal_range,
                                  (uint64_t)split_point(j->n_chunks, j->n_participants, i) |
                                      (uint64_t)split_point(j->n_chunks, j->n_participants, i + 1) << 32,
                                  memory_order_relaxed);
    j->measure_cpu = percent < 100;
    pool->job = *j;
    atomic_store_explicit(&pool->next_chunk, 0, memory_order_relaxed);
    atomic_store_explicit(&pool->aborted, 0, memory_order_relaxed);
    atomic_store_explicit(&pool->cpu_ns, 0, memory_order_relaxed);
    atomic_store(&pool->remaining, (uint32_t)(j->n_participants - 1));
    atomic_store_explicit(&pool->workers[0].os_tid, hy_thread_id(), memory_order_relaxed);
    atomic_fetch_add_explicit(&pool->stat_runs, 1, memory_order_relaxed);

    /* The caller's CPU: from the start of the run or, for a thread working
     * for this pool (hy_threadpool_enter), from the end of its previous run,
     * so its own work between runs counts toward the duty cycle too. */
    int scoped = tl_scope_pool == pool;
    uint64_t caller_from = 0;
    if (j->measure_cpu) caller_from = scoped && tl_scope_mark ? tl_scope_mark : thread_cpu_ns();

    uint64_t start = hy_clock_monotonic_ns();
    pool->seq++;
    for (int i = 1; i < j->n_participants; i++) post(pool, &pool->workers[i], pool->seq);
    participate(pool, &pool->job, 0);
    pf_region pf = share_of(&pool->job.then, active, 0);
    wait_for_workers(pool, &pf);

    int aborted = atomic_load(&pool->aborted);
    uint64_t caller_cpu = 0;
    if (j->measure_cpu) {
        uint64_t caller_to = thread_cpu_ns();
        caller_cpu = caller_to > caller_from ? caller_to - caller_from : 0;
        if (scoped) tl_scope_mark = caller_to;
    } else if (scoped) {
        tl_scope_mark = 0;   /* not measuring: start afresh at the next measured run */
    }
    /* an aborted run's CPU still counts; its flag is set, so it does not sleep */
    if (percent < 100) throttle(pool, percent, start, atomic_load(&pool->cpu_ns) + caller_cpu, active, j->abort_flag);
    else pool->window_start_ns = 0, pool->window_busy_ns = 0;
    pthread_mutex_unlock(&pool->run_lock);

    if (aborted) return HY_RAISE(HYPERION_ABORTED, NULL, "thread pool run aborted by its abort flag");
    return HYPERION_OK;
}

hyperion_status hy_threadpool_for(hy_threadpool *pool, size_t n_items, size_t grain,
                                  hy_threadpool_range_fn fn, void *ctx) {
    job j = { .kind = JOB_DYNAMIC, .range_fn = fn, .ctx = ctx, .n_items = n_items, .grain = grain };
    return dispatch(pool, &j);
}

hyperion_status hy_threadpool_for_static(hy_threadpool *pool, size_t n_items, size_t grain,
                                         hy_threadpool_range_fn fn, void *ctx) {
    job j = { .kind = JOB_STATIC, .range_fn = fn, .ctx = ctx, .n_items = n_items, .grain = grain };
    return dispatch(pool, &j);
}

hyperion_status hy_threadpool_for_zoned(hy_threadpool *pool, hy_threadpool_split split, size_t n_items, size_t grain,
                                        hy_threadpool_range_fn fn, void *ctx, const hy_threadpool_zone *zone) {
    return hy_threadpool_for_then(pool, split, n_items, grain, fn, ctx, zone, NULL);
}

hyperion_status hy_threadpool_for_then(hy_threadpool *pool, hy_threadpool_split split, size_t n_items, size_t grain,
                                       hy_threadpool_range_fn fn, void *ctx, const hy_threadpool_zone *zone,
                                       const hy_threadpool_read *then) {
    if (split != HY_THREADPOOL_DYNAMIC && split != HY_THREADPOOL_STATIC && split != HY_THREADPOOL_STEAL)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", "split"), HY_NUM("value", (int)split) }),
                             "unknown thread pool split %d", (int)split);
    if (zone && !zone->name)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", "zone.name") }),
                             "a thread pool zone needs a name");
    static const job_kind kinds[] = { [HY_THREADPOOL_DYNAMIC] = JOB_DYNAMIC, [HY_THREADPOOL_STATIC] = JOB_STATIC,
                                      [HY_THREADPOOL_STEAL] = JOB_STEAL };
    job j = { .kind = kinds[split], .range_fn = fn, .ctx = ctx,
              .n_items = n_items, .grain = grain, .zone = zone };
    if (then) j.then = *then;
    return dispatch(pool, &j);
}

hyperion_status hy_threadpool_run(hy_threadpool *pool, hy_threadpool_task_fn fn, void *ctx, int n_tasks) {
    if (n_tasks < 0)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL,
                             ((hy_field[]){ HY_TXT("field", "n_tasks"), HY_NUM("value", n_tasks) }),
                             "thread pool run with a negative task count %d", n_tasks);
    job j = { .kind = JOB_TASKS, .task_fn = fn, .ctx = ctx, .n_items = (size_t)n_tasks, .grain = 1 };
    return dispatch(pool, &j);
}

/* ------------------------------------------------------------ lifecycle */

static void stop_workers(hy_threadpool *pool) {
    atomic_store(&pool->stop, 1);
    for (int i = 1; i < pool->n_threads; i++) {
        worker *w = &pool->workers[i];
        if (!w->started) continue;
        post(pool, w, atomic_load(&w->go) + 1);
        pthread_join(w->thread, NULL);
        w->started = 0;
    }
}

static void release(hy_threadpool *pool) {
#if !HY_HAVE_FUTEX
    pthread_cond_destroy(&pool->park_cond);
    pthread_mutex_destroy(&pool->park_lock);
#endif
    pthread_mutex_destroy(&pool->run_lock);
    hyperionFree(pool->workers);
    hyperionFree(pool);
}

hyperion_status hy_threadpool_create(int n_threads, hy_threadpool **out) {
    if (!out)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", "out") }),
                             "hy_threadpool_create needs an output pointer");
    *out = NULL;
    if (n_threads <= 0) n_threads = hyperionGetCpuFeatures()->physical_cores;
    if (n_threads < 1) n_threads = 1;
    if (n_threads > HY_THREADPOOL_MAX_THREADS)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "use at most one thread per core",
                             ((hy_field[]){ HY_TXT("field", "threads"), HY_NUM("value", n_threads),
                                            HY_NUM("max", HY_THREADPOOL_MAX_THREADS) }),
                             "thread count %d is above the maximum %d", n_threads, HY_THREADPOOL_MAX_THREADS);

    hy_threadpool *pool = hyperionCalloc(1, sizeof *pool, HYPERION_TAG_SESSION);
    if (!pool) return hyperionGetLastError()->code;
    pool->workers = hyperionCalloc((size_t)n_threads, sizeof *pool->workers, HYPERION_TAG_SESSION);
    if (!pool->workers) {
        hyperion_status st = hyperionGetLastError()->code;
        hyperionFree(pool);
        return st;
    }
    pool->n_threads = n_threads;
    atomic_init(&pool->n_active, n_threads);
    atomic_init(&pool->duty_percent, 100);
    atomic_init(&pool->spin_ns, HY_THREADPOOL_SPIN_NS);
    pthread_mutex_init(&pool->run_lock, NULL);
#if !HY_HAVE_FUTEX
    pthread_mutex_init(&pool->park_lock, NULL);
    pthread_cond_init(&pool->park_cond, NULL);
#endif
    for (int i = 0; i < n_threads; i++) {
        pool->workers[i].pool = pool;
        pool->workers[i].index = i;
    }
    atomic_store(&pool->workers[0].os_tid, hy_thread_id());

    /* Workers take no asynchronous signals: those belong to the host (Node's
     * SIGINT handling, profilers' timers). Faults stay deliverable. */
    sigset_t all, old;
    sigfillset(&all);
    int faults[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT };
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) sigdelset(&all, faults[i]);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int err = 0, failed_at = 0;
    for (int i = 1; i < n_threads && !err; i++) {
        err = pthread_create(&pool->workers[i].thread, NULL, worker_main, &pool->workers[i]);
        if (err) failed_at = i;
        else pool->workers[i].started = 1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);

    if (err) {
        stop_workers(pool);
        release(pool);
        return HY_RAISE_WITH(err == EAGAIN ? HYPERION_OUT_OF_MEMORY : HYPERION_INTERNAL,
                             "ask for fewer threads or raise the process thread limit",
                             ((hy_field[]){ HY_TXT("field", "threads"), HY_NUM("value", n_threads),
                                            HY_NUM("created", failed_at - 1) }),
                             "could not start thread pool worker %d of %d: %s", failed_at, n_threads - 1,
                             strerror(err));
    }
    /* wait until every worker has named itself and published its id */
    while (atomic_load(&pool->n_started) < n_threads - 1) sched_yield();
    *out = pool;
    return HYPERION_OK;
}

void hy_threadpool_free(hy_threadpool *pool) {
    if (!pool) return;
    stop_workers(pool);
    release(pool);
}

/* ------------------------------------------------------------ knobs */

int hy_threadpool_size(const hy_threadpool *pool) { return pool ? pool->n_threads : 0; }

hyperion_status hy_threadpool_set_active(hy_threadpool *pool, int n) {
    if (!pool || n < 1 || n > pool->n_threads)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "use a value between 1 and the pool's thread count",
                             ((hy_field[]){ HY_TXT("field", "active"), HY_NUM("value", n),
                                            HY_NUM("max", pool ? pool->n_threads : 0) }),
                             "active thread count %d is outside 1..%d", n, pool ? pool->n_threads : 0);
    atomic_store(&pool->n_active, n);
    return HYPERION_OK;
}

int hy_threadpool_active(const hy_threadpool *pool) { return pool ? atomic_load(&pool->n_active) : 0; }

void hy_threadpool_set_abort(hy_threadpool *pool, const atomic_int *flag) {
    if (pool) atomic_store(&pool->abort_flag, flag);
}

hyperion_status hy_threadpool_set_duty_cycle(hy_threadpool *pool, int percent) {
    if (!pool || percent < 1 || percent > 100)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "use a percentage between 1 and 100",
                             ((hy_field[]){ HY_TXT("field", "percent"), HY_NUM("value", percent) }),
                             "duty cycle %d%% is outside 1..100", percent);
    atomic_store(&pool->duty_percent, percent);
    return HYPERION_OK;
}

int hy_threadpool_duty_cycle(const hy_threadpool *pool) { return pool ? atomic_load(&pool->duty_percent) : 0; }

uint64_t hy_threadpool_thread_os_id(const hy_threadpool *pool, int index) {
    if (!pool || index < 0 || index >= pool->n_threads) return 0;
    return atomic_load(&pool->workers[index].os_tid);
}

int hy_threadpool_current_index(void) { return tl_index; }

hy_threadpool *hy_threadpool_enter(hy_threadpool *pool) {
    hy_threadpool *previous = tl_scope_pool;
    tl_scope_pool = pool;
    tl_scope_mark = pool && hy_threadpool_duty_cycle(pool) < 100 ? thread_cpu_ns() : 0;
    return previous;
}

void hy_threadpool_leave(hy_threadpool *pool, hy_threadpool *previous) {
    if (pool && tl_scope_pool == pool && tl_scope_mark && atomic_load(&pool->duty_percent) < 100) {
        /* the tail after the last run: charged now, slept off by the next run */
        uint64_t now_cpu = thread_cpu_ns();
        pthread_mutex_lock(&pool->run_lock);
        if (now_cpu > tl_scope_mark)
            account(pool, hy_clock_monotonic_ns(), now_cpu - tl_scope_mark, atomic_load(&pool->n_active),
                    hy_clock_monotonic_ns());
        pthread_mutex_unlock(&pool->run_lock);
    }
    tl_scope_pool = previous;
    tl_scope_mark = 0;
}

void hy_threadpool_worker_cpu(const hy_threadpool *pool, uint64_t *user_ns, uint64_t *system_ns) {
    *user_ns = *system_ns = 0;
    if (!pool) return;
    for (int i = 1; i < pool->n_threads; i++) {
        worker *w = &pool->workers[i];
        uint64_t user = atomic_load_explicit(&w->cpu_user, memory_order_relaxed);
        uint64_t sys = atomic_load_explicit(&w->cpu_system, memory_order_relaxed);
        uint64_t sampled = atomic_load_explicit(&w->cpu_total, memory_order_relaxed);
        /* time since the last sample (a worker busy for long does not park):
         * its thread clock, read from here, counted as user time */
        clockid_t cid;
        struct timespec ts;
        if (w->started && pthread_getcpuclockid(w->thread, &cid) == 0 && clock_gettime(cid, &ts) == 0) {
            uint64_t total = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
            if (total > sampled) user += total - sampled;
        }
        *user_ns += user;
        *system_ns += sys;
    }
}

void hy_threadpool_get_stats(const hy_threadpool *pool, hy_threadpool_stats *stats) {
    memset(stats, 0, sizeof *stats);
    if (!pool) return;
    stats->runs = atomic_load(&pool->stat_runs);
    stats->worker_wakeups = atomic_load(&pool->stat_wakeups);
    stats->throttle_sleeps = atomic_load(&pool->stat_throttle_sleeps);
    stats->throttle_ns = atomic_load(&pool->stat_throttle_ns);
}

void hy_threadpool_set_spin_ns(hy_threadpool *pool, uint64_t spin_ns) {
    if (pool) atomic_store(&pool->spin_ns, spin_ns);
}
