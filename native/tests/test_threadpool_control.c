/* test_threadpool_control.c — abort, the active-thread cap and the duty-cycle
 * throttle (verified against the process CPU clock). */
#include "harness.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "hyperion.h"
#include "runtime/threadpool.h"

static uint64_t clock_ns(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Burn about `ns` of this thread's CPU time (not wall time: on a loaded
 * machine the work still costs the same CPU). */
static void burn_cpu(uint64_t ns) {
    uint64_t until = clock_ns(CLOCK_THREAD_CPUTIME_ID) + ns;
    volatile double x = 1.0;
    while (clock_ns(CLOCK_THREAD_CPUTIME_ID) < until)
        for (int i = 0; i < 200; i++) x = x * 1.0000001 + 1e-9;
}

/* ------------------------------------------------------------ abort */

typedef struct abort_ctx {
    atomic_int *flag;
    atomic_int *hits;
    size_t trip_at;            /* the item that raises the flag; SIZE_MAX for none */
    uint64_t item_ns;          /* CPU each item burns */
} abort_ctx;

static void abortable_range(void *ctx, size_t begin, size_t end, int t) {
    abort_ctx *a = ctx;
    for (size_t i = begin; i < end; i++) {
        atomic_fetch_add(&a->hits[i], 1);
        if (i == a->trip_at) atomic_store(a->flag, 1);
        if (a->item_ns) burn_cpu(a->item_ns);
    }
}

typedef struct delayed_abort { atomic_int *flag; unsigned delay_us; uint64_t raised_ns; } delayed_abort;

static void *raise_later(void *arg) {
    delayed_abort *d = arg;
    usleep(d->delay_us);
    d->raised_ns = clock_ns(CLOCK_MONOTONIC);
    atomic_store(d->flag, 1);
    return NULL;
}

HY_TEST(threadpool_abort_stops_a_run_between_chunks) {
    enum { N = 20000 };
    atomic_int flag = 0;
    atomic_int *hits = calloc(N, sizeof *hits);
    HY_REQUIRE(hits != NULL);
    hy_threadpool *pool = NULL;
    HY_REQUIRE(hy_threadpool_create(3, &pool) == HYPERION_OK);
    hy_threadpool_set_abort(pool, &flag);

    /* a task raises the flag part-way: the run reports it and stops early */
    for (int mode = 0; mode < 2; mode++) {
        abort_ctx a = { .flag = &flag, .hits = hits, .trip_at = 100, .item_ns = 2000 };
        for (int i = 0; i < N; i++) atomic_store(&hits[i], 0);
        atomic_store(&flag, 0);
        hyperion_status st = mode ? hy_threadpool_for_static(pool, N, 8, abortable_range, &a)
                                  : hy_threadpool_for(pool, N, 8, abortable_range, &a);
        HY_CHECK_INT(st, HYPERION_ABORTED);
        HY_CHECK_INT(hyperionGetLastError()->code, HYPERION_ABORTED);
        int done = 0, twice = 0;
        for (int i = 0; i < N; i++) {
            done += atomic_load(&hits[i]) > 0;
            twice += atomic_load(&hits[i]) > 1;
        }
        HY_CHECK_INT(twice, 0);
        HY_CHECK(done < N / 2);
        printf("    %s: aborted after %d of %d items\n", mode ? "static" : "dynamic", done, N);
    }

    /* a set flag stops a run before any work */
    abort_ctx idle = { .flag = &flag, .hits = hits, .trip_at = SIZE_MAX };
    for (int i = 0; i < N; i++) atomic_store(&hits[i], 0);
    HY_CHECK_INT(hy_threadpool_for(pool, N, 1, abortable_range, &idle), HYPERION_ABORTED);
    HY_CHECK_INT(atomic_load(&hits[0]), 0);

    /* another thread aborts a run of ~10 s of work: it stops within a chunk */
    atomic_store(&flag, 0);
    abort_ctx slow = { .flag = &flag, .hits = hits, .trip_at = SIZE_MAX, .item_ns = 1000000 };
    delayed_abort d = { .flag = &flag, .delay_us = 30000 };
    pthread_t t;
    HY_REQUIRE(pthread_create(&t, NULL, raise_later, &d) == 0);
    hyperion_status st = hy_threadpool_for(pool, 10000, 1, abortable_range, &slow);
    uint64_t returned = clock_ns(CLOCK_MONOTONIC);
    pthread_join(t, NULL);
    HY_CHECK_INT(st, HYPERION_ABORTED);
    double latency_ms = (double)(returned - d.raised_ns) / 1e6;
    printf("    abort of a long run returned %.2f ms after the flag was raised (chunks of 1 ms)\n", latency_ms);
    HY_CHECK(latency_ms < 1000.0); /* generous: a loaded machine may deschedule us; 10 s is the failure */

    /* clearing the flag makes the pool usable again */
    atomic_store(&flag, 0);
    for (int i = 0; i < N; i++) atomic_store(&hits[i], 0);
    HY_CHECK_INT(hy_threadpool_for(pool, N, 64, abortable_range, &idle), HYPERION_OK);
    int all = 1;
    for (int i = 0; i < N; i++) all &= atomic_load(&hits[i]) == 1;
    HY_CHECK(all);
    hy_threadpool_set_abort(pool, NULL);
    hy_threadpool_free(pool);
    free(hits);
}

/* ------------------------------------------------------------ active cap */

typedef struct who { atomic_int max_index; _Atomic uint64_t tids[8]; } who;

static void note_thread(void *ctx, int task, int t) {
    who *w = ctx;
    int m = atomic_load(&w->max_index);
    while (t > m && !atomic_compare_exchange_weak(&w->max_index, &m, t)) {}
    if (t >= 0 && t < 8) atomic_store(&w->tids[t], (uint64_t)pthread_self());
    for (volatile int i = 0; i < 50000; i++) {}
}

static void count_range(void *ctx, size_t begin, size_t end, int t) {
    atomic_fetch_add((atomic_long *)ctx, (long)(end - begin));
}

HY_TEST(threadpool_set_active_caps_the_participants) {
    hy_threadpool *pool = NULL;
    HY_REQUIRE(hy_threadpool_create(4, &pool) == HYPERION_OK);
    HY_CHECK_INT(hy_threadpool_active(pool), 4);
    for (int active = 1; active <= 4; active++) {
        HY_REQUIRE(hy_threadpool_set_active(pool, active) == HYPERION_OK);
        HY_CHECK_INT(hy_threadpool_active(pool), active);
        who w = { .max_index = -1 };
        HY_CHECK(hy_threadpool_run(pool, note_thread, &w, 64) == HYPERION_OK);
        HY_CHECK(atomic_load(&w.max_index) < active);
        if (active == 1) HY_CHECK(atomic_load(&w.tids[0]) == (uint64_t)pthread_self());
    }
    /* shrink then grow again: the parked workers come back */
    HY_CHECK(hy_threadpool_set_active(pool, 2) == HYPERION_OK);
    atomic_long total = 0;
    for (int r = 0; r < 100; r++) HY_CHECK(hy_threadpool_for_static(pool, 40, 1, count_range, &total) == HYPERION_OK);
    HY_CHECK_INT(atomic_load(&total), 4000);
    HY_CHECK(hy_threadpool_set_active(pool, 4) == HYPERION_OK);
    who w = { .max_index = -1 };
    HY_CHECK(hy_threadpool_run(pool, note_thread, &w, 400) == HYPERION_OK);
    HY_CHECK(atomic_load(&w.max_index) <= 3);
    hy_threadpool_free(pool);
}

/* ------------------------------------------------------------ duty cycle */

static void burn_range(void *ctx, size_t begin, size_t end, int t) {
    burn_cpu((end - begin) * *(const uint64_t *)ctx);
}

/* One measurement: process CPU time, wall time and the time the throttle slept,
 * while the pool runs bursts of work for about wall_ns. */
typedef struct duty_sample { double cpu, wall, slept; } duty_sample;

static duty_sample measure_duty(hy_threadpool *pool, uint64_t wall_ns) {
    duty_sample d = { -1, 1, 0 };
    int threads = hy_threadpool_active(pool);
    uint64_t item_ns = 100000; /* 0.1 ms of CPU per item, 4 items per thread per run */
    hy_threadpool_stats s0, s1;
    hy_threadpool_get_stats(pool, &s0);
    uint64_t w0 = clock_ns(CLOCK_MONOTONIC), c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID), w1;
    do {
        if (hy_threadpool_for(pool, (size_t)threads * 4, 1, burn_range, &item_ns) != HYPERION_OK) return d;
        w1 = clock_ns(CLOCK_MONOTONIC);
    } while (w1 - w0 < wall_ns);
    uint64_t c1 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    hy_threadpool_get_stats(pool, &s1);
    d.cpu = (double)(c1 - c0) / threads;
    d.wall = (double)(w1 - w0);
    d.slept = (double)(s1.throttle_ns - s0.throttle_ns);
    return d;
}

/* The throttle's promise: process CPU / (wall x threads) stays at 50%.
 *  - As a limit it must hold under any load: never more than 50% + 10 points.
 *  - Reaching 50% needs the CPU to be there: when other processes take our
 *    cores ("available" = CPU / (wall - slept) is the share we got while not
 *    sleeping), a correct throttle simply sleeps less and the figure drops,
 *    and with a load that changes during the run a windowed limit cannot make
 *    up for it later. So the lower bound is checked on an attempt where the
 *    machine gave us at least 85% while awake; up to `attempts` are made. */
static void check_duty(int threads, uint64_t wall_ns, int attempts) {
    hy_threadpool *pool = NULL;
    HY_REQUIRE(hy_threadpool_create(threads, &pool) == HYPERION_OK);
    duty_sample full = measure_duty(pool, 100000000ull);
    HY_REQUIRE(hy_threadpool_set_duty_cycle(pool, 50) == HYPERION_OK);
    int judged = 0;
    for (int attempt = 1; attempt <= attempts && !judged; attempt++) {
        duty_sample half = measure_duty(pool, wall_ns);
        HY_REQUIRE(half.cpu >= 0);
        double ratio = half.cpu / half.wall;
        double available = half.wall > half.slept ? half.cpu / (half.wall - half.slept) : 1.0;
        printf("    %d thread(s), attempt %d: unthrottled CPU/wall %.1f%%; at duty 50%%: CPU/wall %.1f%% over %.2f s "
               "(slept %.0f%% of it, CPU available while awake %.1f%%)\n",
               threads, attempt, 100 * full.cpu / full.wall, 100 * ratio, half.wall / 1e9,
               100 * half.slept / half.wall, 100 * available);
        HY_CHECK(ratio <= 0.60);
        if (available >= 0.85) {
            HY_CHECK_NEAR(ratio, 0.5, 0.10);
            HY_CHECK(half.slept > 0.2 * half.wall);
            judged = 1;
        }
    }
    if (!judged) printf("    machine too loaded to check the lower bound; the upper bound held\n");
    /* back at 100% the throttle no longer sleeps */
    HY_CHECK(hy_threadpool_set_duty_cycle(pool, 100) == HYPERION_OK);
    duty_sample after = measure_duty(pool, 20000000ull);
    HY_CHECK(after.slept == 0);
    hy_threadpool_free(pool);
}

HY_TEST(threadpool_duty_cycle_limits_cpu_time) {
    check_duty(1, 1000000000ull, 3);
    check_duty(2, 500000000ull, 2);
}

/* One throttled run at 1% duty (~2 ms of work owing ~200 ms of sleep) with
 * an abort raised 20 ms in: its wall time, or UINT64_MAX when it failed. */
static uint64_t throttled_run_with_abort(void) {
    hy_threadpool *pool = NULL;
    if (hy_threadpool_create(1, &pool) != HYPERION_OK) return UINT64_MAX;
    HY_CHECK(hy_threadpool_set_duty_cycle(pool, 1) == HYPERION_OK);
    atomic_int flag = 0;
    hy_threadpool_set_abort(pool, &flag);
    uint64_t item_ns = 2000000;
    delayed_abort d = { .flag = &flag, .delay_us = 20000 };
    pthread_t t;
    if (pthread_create(&t, NULL, raise_later, &d) != 0) {
        hy_threadpool_free(pool);
        return UINT64_MAX;
    }
    uint64_t w0 = clock_ns(CLOCK_MONOTONIC);
    hyperion_status st = hy_threadpool_for(pool, 1, 1, burn_range, &item_ns);
    uint64_t w1 = clock_ns(CLOCK_MONOTONIC);
    pthread_join(t, NULL);
    HY_CHECK_INT(st, HYPERION_OK); /* the work itself completed */
    HY_CHECK_INT(hy_threadpool_for(pool, 1, 1, burn_range, &item_ns), HYPERION_ABORTED);
    hy_threadpool_set_abort(pool, NULL);
    hy_threadpool_free(pool);
    return w1 - w0;
}

/* An abort ends the owed sleep: the run returns well before its ~200 ms.
 * Up to three attempts, as the duty test makes: on a host that gives the VM
 * a fraction of its CPU (CI once saw 17%), a wake-up can come late, but a
 * sleep the abort did not cut lasts the whole 200 ms in every attempt. */
HY_TEST(threadpool_abort_cuts_a_throttle_sleep_short) {
    uint64_t best = UINT64_MAX;
    for (int attempt = 1; attempt <= 3 && best >= 150000000ull; attempt++) {
        uint64_t wall = throttled_run_with_abort();
        printf("    attempt %d: throttled run with ~200 ms of owed sleep returned after %.1f ms (abort at 20 ms)\n",
               attempt, wall == UINT64_MAX ? -1.0 : wall / 1e6);
        if (wall < best) best = wall;
    }
    HY_CHECK(best < 150000000ull);
}
