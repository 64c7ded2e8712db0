/* test_threadpool.c — the pool covers every item exactly once, is reused
 * without creating threads, refuses nested runs, and names its workers. */
#include "harness.h"

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/internal.h"
#include "hyperion.h"
#include "runtime/threadpool.h"

/* The process's threads (/proc/self/task), or -1 when that cannot be
 * counted: no /proc, or under a user-mode emulator (scripts/cross-arm64.sh
 * sets HYPERION_TEST_EMULATED), whose own threads come and go in the same
 * list (qemu-user: 1 run in 3 miscounted). */
static int process_thread_count(void) {
    if (getenv("HYPERION_TEST_EMULATED")) return -1;
    DIR *d = opendir("/proc/self/task");
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

/* A thread that pthread_join has returned for can stay listed in
 * /proc/self/task for a moment (the kernel wakes the joiner before it
 * releases the task), longer on a loaded machine: in one CI run the reuse
 * test's baseline held one thread more than the list had moments later (an
 * earlier test's joined worker, by all signs). So the counts below wait for
 * the list to settle. */

/* The thread count once three reads 5 ms apart agree (at most ~1 s). */
static int settled_thread_count(void) {
    int n = process_thread_count(), same = 0;
    for (int i = 0; i < 200 && same < 2 && n >= 0; i++) {
        usleep(5000);
        int m = process_thread_count();
        same = m == n ? same + 1 : 0;
        n = m;
    }
    return n;
}

/* The thread count once it equals expected, or after 2 s the last count. */
static int thread_count_reaching(int expected) {
    int n = process_thread_count();
    for (int i = 0; i < 400 && n != expected && n >= 0; i++) {
        usleep(5000);
        n = process_thread_count();
    }
    return n;
}

/* ------------------------------------------------------------ coverage */

typedef struct coverage {
    atomic_int *hits;          /* [n] times each item was processed */
    size_t n, grain;
    int active;
    atomic_int bad_index;      /* thread_index outside 0..active-1 */
    atomic_int bad_chunk;      /* a range not on grain boundaries or too long */
    size_t max_len;            /* the longest range allowed (steal: a piece of several chunks) */
    size_t last_end[HY_THREADPOOL_MAX_THREADS]; /* static: next expected begin per thread */
    atomic_int not_contiguous; /* static: a thread's chunks were not one ascending run */
} coverage;

static void cover_range(void *ctx, size_t begin, size_t end, int t) {
    coverage *c = ctx;
    if (t < 0 || t >= c->active) { atomic_fetch_add(&c->bad_index, 1); return; }
    if (begin % c->grain != 0 || end <= begin || end - begin > c->max_len || end > c->n ||
        (end % c->grain != 0 && end != c->n))
        atomic_fetch_add(&c->bad_chunk, 1);
    for (size_t i = begin; i < end && i < c->n; i++) atomic_fetch_add(&c->hits[i], 1);
}

static void cover_static(void *ctx, size_t begin, size_t end, int t) {
    coverage *c = ctx;
    if (t >= 0 && t < c->active) {
        if (c->last_end[t] != (size_t)-1 && c->last_end[t] != begin) atomic_fetch_add(&c->not_contiguous, 1);
        c->last_end[t] = end;
    }
    cover_range(ctx, begin, end, t);
}

static void cover_task(void *ctx, int task, int t) {
    cover_range(ctx, (size_t)task, (size_t)task + 1, t);
}

static int check_once(const coverage *c) {
    for (size_t i = 0; i < c->n; i++)
        if (atomic_load(&c->hits[i]) != 1) return 0;
    return 1;
}

HY_TEST(threadpool_covers_every_item_exactly_once) {
    static const size_t sizes[] = { 0, 1, 2, 3, 7, 64, 1000, 4097 };
    static const size_t grains[] = { 0, 1, 3, 16, 1000, 5000 };
    atomic_int *hits = calloc(4097, sizeof *hits);
    HY_REQUIRE(hits != NULL);
    int failures = 0;
    for (int threads = 1; threads <= 8; threads++) {
        hy_threadpool *pool = NULL;
        HY_REQUIRE(hy_threadpool_create(threads, &pool) == HYPERION_OK);
        HY_CHECK_INT(hy_threadpool_size(pool), threads);
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
            for (size_t gi = 0; gi < sizeof grains / sizeof grains[0]; gi++) {
                for (int mode = 0; mode < 6; mode++) {
                    if (mode == 2 && gi > 0) continue; /* tasks have no grain */
                    /* mode 3: the stealing split; 4: with a hint of what comes
                     * next (here the hits themselves, this run's grain); 5:
                     * the dynamic split with a hint whose grain is 0 */
                    size_t n = sizes[si];
                    coverage c = { .hits = hits, .n = n, .grain = grains[gi] ? grains[gi] : 1, .active = threads };
                    if (mode == 2) c.grain = 1;
                    /* the stealing split takes up to an eighth of a share at once */
                    const size_t chunks = (n + c.grain - 1) / c.grain, parts = chunks < (size_t)threads ? chunks : (size_t)threads;
                    const size_t piece = parts ? chunks / (8 * parts) : 0;
                    c.max_len = c.grain * (mode == 3 || mode == 4 ? (piece > 1 ? piece : 1) : 1);
                    for (size_t i = 0; i < n; i++) atomic_store(&hits[i], 0);
                    for (int t = 0; t < HY_THREADPOOL_MAX_THREADS; t++) c.last_end[t] = (size_t)-1;
                    const hy_threadpool_read then = { hits, sizeof *hits, n, mode == 4 ? grains[gi] : 0 };
                    hyperion_status st =
                        mode == 0   ? hy_threadpool_for(pool, n, grains[gi], cover_range, &c)
                        : mode == 1 ? hy_threadpool_for_static(pool, n, grains[gi], cover_static, &c)
                        : mode == 2 ? hy_threadpool_run(pool, cover_task, &c, (int)n)
                        : mode == 3 ? hy_threadpool_for_zoned(pool, HY_THREADPOOL_STEAL, n, grains[gi], cover_range, &c, NULL)
                                    : hy_threadpool_for_then(pool, mode == 4 ? HY_THREADPOOL_STEAL : HY_THREADPOOL_DYNAMIC, n,
                                                             grains[gi], cover_range, &c, NULL, &then);
                    if (st != HYPERION_OK || !check_once(&c) || atomic_load(&c.bad_index) ||
                        atomic_load(&c.bad_chunk) || atomic_load(&c.not_contiguous)) {
                        if (failures++ < 5)
                            hy_test_fail(__FILE__, __LINE__, "threads %d n %zu grain %zu mode %d: status %d", threads,
                                         n, grains[gi], mode, (int)st);
                    }
                }
            }
        }
        hy_threadpool_free(pool);
    }
    free(hits);
}

/* ------------------------------------------------------------ stealing */

/* 64 chunks of one item over 2 participants: participant 0 owns 0..31,
 * participant 1 owns 32..63, and a take is at most 64 / 16 = 4 chunks.
 * Participant 0 holds its first piece until participant 1 has run more than
 * its own 32 items, which it can only do by taking participant 0's chunks
 * from the back (and participant 1 holds its first piece until participant 0
 * has started). */
typedef struct steal_log {
    atomic_int by[64];       /* participant that ran each item, + 1 */
    size_t begin1[64], end1[64]; /* participant 1's calls in order (only it writes) */
    atomic_int calls1, items1;
    atomic_int first[2];     /* each participant's first item, + 1 */
    atomic_int bad_call;     /* an empty or out-of-range call, or another thread index */
    atomic_int timed_out;
} steal_log;

static void steal_piece(void *ctx, size_t begin, size_t end, int t) {
    steal_log *s = ctx;
    if (t < 0 || t > 1 || end <= begin || end > 64) {
        atomic_fetch_add(&s->bad_call, 1);
        return;
    }
    int expected = 0;
    atomic_compare_exchange_strong(&s->first[t], &expected, (int)begin + 1);
    for (size_t i = begin; i < end; i++) atomic_fetch_add(&s->by[i], t + 1);
    uint64_t deadline = hy_clock_monotonic_ns() + 10ull * 1000000000ull;
    if (t == 1) {
        /* its first piece waits until participant 0 has claimed its own first,
         * so a caller slow to start cannot find its run already taken */
        while (begin == 32 && atomic_load(&s->first[0]) == 0)
            if (hy_clock_monotonic_ns() > deadline) {
                atomic_store(&s->timed_out, 1);
                break;
            }
        int k = atomic_fetch_add(&s->calls1, 1);
        if (k < 64) s->begin1[k] = begin, s->end1[k] = end;
        atomic_fetch_add(&s->items1, (int)(end - begin));
    } else if (begin == 0) {
        while (atomic_load(&s->items1) <= 32)
            if (hy_clock_monotonic_ns() > deadline) {
                atomic_store(&s->timed_out, 1);
                break;
            }
    }
}

static size_t clamp_piece(size_t left) { return left / 4 < 1 ? 1 : left / 4 > 4 ? 4 : left / 4; }

HY_TEST(threadpool_steal_streams_own_share_then_takes_from_the_back) {
    hy_threadpool *pool = NULL;
    HY_REQUIRE(hy_threadpool_create(2, &pool) == HYPERION_OK);
    steal_log *s = calloc(1, sizeof *s);
    HY_REQUIRE(s != NULL);
    HY_CHECK(hy_threadpool_for_zoned(pool, HY_THREADPOOL_STEAL, 64, 1, steal_piece, s, NULL) == HYPERION_OK);
    HY_CHECK_INT(atomic_load(&s->timed_out), 0);
    HY_CHECK_INT(atomic_load(&s->bad_call), 0);
    HY_CHECK_INT(atomic_load(&s->first[0]), 0 + 1);
    HY_CHECK_INT(atomic_load(&s->first[1]), 32 + 1);
    for (int c = 0; c < 64; c++) HY_CHECK(atomic_load(&s->by[c]) == 1 || atomic_load(&s->by[c]) == 2);
    for (int c = 32; c < 64; c++) HY_CHECK_INT(atomic_load(&s->by[c]), 2);
    const int calls = atomic_load(&s->calls1) < 64 ? atomic_load(&s->calls1) : 64;
    /* participant 1's own run front to back, no one else in it: pieces of a
     * quarter of what is left, at most 4, single chunks at its end */
    size_t at = 32;
    int k = 0;
    for (; k < calls && s->begin1[k] >= 32; k++) {
        HY_CHECK_INT((int)s->begin1[k], (int)at);
        HY_CHECK_INT((int)(s->end1[k] - s->begin1[k]), (int)clamp_piece(64 - at));
        at = s->end1[k];
    }
    HY_CHECK_INT((int)at, 64);
    HY_CHECK(k >= 2 && s->end1[k - 1] - s->begin1[k - 1] == 1 && s->end1[k - 2] - s->begin1[k - 2] == 1);
    /* then participant 0's run from the back, each piece just below the last,
     * of at most a quarter of what was left there (its front is at 4 or more) */
    HY_CHECK(k < calls);
    size_t below = 32;
    for (; k < calls; k++) {
        HY_CHECK_INT((int)s->end1[k], (int)below);
        HY_CHECK(s->end1[k] >= 5 && s->end1[k] - s->begin1[k] <= clamp_piece(s->end1[k] - 4));
        below = s->begin1[k];
    }
    free(s);
    HY_CHECK(hy_threadpool_for_zoned(pool, (hy_threadpool_split)3, 4, 1, steal_piece, NULL, NULL) ==
             HYPERION_INVALID_ARGUMENT);
    hy_threadpool_free(pool);
}

/* ------------------------------------------------------------ reuse */

static void add_range(void *ctx, size_t begin, size_t end, int t) {
    atomic_fetch_add((atomic_long *)ctx, (long)(end - begin));
}

HY_TEST(threadpool_reuse_creates_no_threads) {
    int before = settled_thread_count();
    hyperion_memory_stats m0, m1;
    hyperionGetMemoryStats(&m0);
    hy_threadpool *pool = NULL;
    HY_REQUIRE(hy_threadpool_create(4, &pool) == HYPERION_OK);
    int with_pool = thread_count_reaching(before + 3);
    if (before > 0) HY_CHECK_INT(with_pool, before + 3);
    atomic_long total = 0;
    int ok = 1;
    for (int r = 0; r < 10000 && ok; r++) {
        /* alternate the shapes: all four threads, fewer chunks than threads, static */
        size_t n = (size_t)(r % 7) * 3 + 1;
        hyperion_status st = (r & 1) ? hy_threadpool_for(pool, n, 2, add_range, &total)
                                     : hy_threadpool_for_static(pool, n, 1, add_range, &total);
        if (st != HYPERION_OK) ok = 0;
    }
    HY_CHECK(ok);
    long expected = 0;
    for (int r = 0; r < 10000; r++) expected += (r % 7) * 3 + 1;
    HY_CHECK_INT(atomic_load(&total), expected);
    if (before > 0) HY_CHECK_INT(thread_count_reaching(with_pool), with_pool);
    hy_threadpool_stats s;
    hy_threadpool_get_stats(pool, &s);
    HY_CHECK_INT(s.runs, 10000);
    printf("    10000 runs on 4 threads: %llu futex wakes of sleeping workers\n", (unsigned long long)s.worker_wakeups);
    hy_threadpool_free(pool);

    /* create and free many pools: every thread is joined, every block freed */
    for (int i = 0; i < 50; i++) {
        HY_REQUIRE(hy_threadpool_create(3, &pool) == HYPERION_OK);
        HY_CHECK(hy_threadpool_for(pool, 10, 1, add_range, &total) == HYPERION_OK);
        hy_threadpool_free(pool);
    }
    if (before > 0) HY_CHECK_INT(thread_count_reaching(before), before);
    hyperionGetMemoryStats(&m1);
    HY_CHECK_INT(m1.active_allocations, m0.active_allocations);
    HY_CHECK_INT(m1.tag_bytes[HYPERION_TAG_SESSION], m0.tag_bytes[HYPERION_TAG_SESSION]);
}

/* ------------------------------------------------------------ nesting */

typedef struct nest {
    hy_threadpool *inner;      /* pool the task tries to run on */
    atomic_int refused;        /* nested runs that failed as they should */
    atomic_int accepted;       /* nested runs that did not fail */
    atomic_int on_worker;      /* refusals seen on participants other than 0 */
} nest;

static void nested_task(void *ctx, int task, int t) {
    nest *n = ctx;
    atomic_long dummy = 0;
    hyperion_status st = hy_threadpool_for(n->inner, 4, 1, add_range, &dummy);
    if (st == HYPERION_INVALID_ARGUMENT) {
        atomic_fetch_add(&n->refused, 1);
        if (t > 0) atomic_fetch_add(&n->on_worker, 1);
    } else {
        atomic_fetch_add(&n->accepted, 1);
    }
    if (hy_threadpool_current_index() != t) atomic_fetch_add(&n->accepted, 1000);
    /* give the other participants time to claim tasks too */
    for (volatile int i = 0; i < 20000; i++) {}
}

HY_TEST(threadpool_nested_run_fails_instead_of_deadlocking) {
    hy_threadpool *pool = NULL, *other = NULL;
    HY_REQUIRE(hy_threadpool_create(2, &pool) == HYPERION_OK);
    HY_REQUIRE(hy_threadpool_create(2, &other) == HYPERION_OK);
    for (int which = 0; which < 2; which++) {
        nest n = { .inner = which ? other : pool };
        HY_CHECK(hy_threadpool_run(pool, nested_task, &n, 64) == HYPERION_OK);
        HY_CHECK_INT(atomic_load(&n.refused), 64);
        HY_CHECK_INT(atomic_load(&n.accepted), 0);
        printf("    nested runs refused: %d (%d on worker threads)\n", atomic_load(&n.refused), atomic_load(&n.on_worker));
    }
    HY_CHECK_INT(hy_threadpool_current_index(), -1);
    /* the error names the problem; the pool still works afterwards */
    atomic_long total = 0;
    HY_CHECK(hy_threadpool_for(pool, 100, 7, add_range, &total) == HYPERION_OK);
    HY_CHECK_INT(atomic_load(&total), 100);
    hy_threadpool_free(other);
    hy_threadpool_free(pool);
}

/* ------------------------------------------------------------ concurrency */

typedef struct caller_arg { hy_threadpool *pool; atomic_long total; int failures; } caller_arg;

static void *concurrent_caller(void *arg) {
    caller_arg *a = arg;
    for (int r = 0; r < 500; r++)
        if (hy_threadpool_for(a->pool, 33, 4, add_range, &a->total) != HYPERION_OK) a->failures++;
    return NULL;
}

HY_TEST(threadpool_runs_from_several_threads_are_serialized) {
    hy_threadpool *pool = NULL;
    HY_REQUIRE(hy_threadpool_create(3, &pool) == HYPERION_OK);
    caller_arg a = { .pool = pool }, b = { .pool = pool };
    pthread_t ta, tb;
    HY_REQUIRE(pthread_create(&ta, NULL, concurrent_caller, &a) == 0);
    HY_REQUIRE(pthread_create(&tb, NULL, concurrent_caller, &b) == 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    HY_CHECK_INT(a.failures + b.failures, 0);
    HY_CHECK_INT(atomic_load(&a.total), 500 * 33);
    HY_CHECK_INT(atomic_load(&b.total), 500 * 33);
    hy_threadpool_free(pool);
}

/* ------------------------------------------------------------ identity */

static void record_tid(void *ctx, int task, int t) {
    for (volatile int i = 0; i < 200000; i++) {}
}

HY_TEST(threadpool_workers_are_named_and_have_ids) {
    hy_threadpool *pool = NULL;
    HY_REQUIRE(hy_threadpool_create(3, &pool) == HYPERION_OK);
    HY_CHECK(hy_threadpool_run(pool, record_tid, NULL, 8) == HYPERION_OK);
    uint64_t ids[3];
    for (int i = 0; i < 3; i++) {
        ids[i] = hy_threadpool_thread_os_id(pool, i);
        HY_CHECK(ids[i] != 0);
    }
    HY_CHECK(ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2]);
    HY_CHECK_INT(hy_threadpool_thread_os_id(pool, 3), 0);
    HY_CHECK_INT(hy_threadpool_thread_os_id(pool, -1), 0);
    for (int i = 1; i < 3; i++) {
        char path[64], name[32] = "", expected[32];
        snprintf(path, sizeof path, "/proc/self/task/%llu/comm", (unsigned long long)ids[i]);
        snprintf(expected, sizeof expected, "hyperion-w%d", i);
        FILE *f = fopen(path, "r");
        if (!f) continue; /* no /proc: nothing to read the name from */
        if (fgets(name, sizeof name, f)) name[strcspn(name, "\n")] = 0;
        fclose(f);
        HY_CHECK_STR(name, expected);
    }
    hy_threadpool_free(pool);
}

HY_TEST(threadpool_rejects_bad_arguments) {
    hy_threadpool *pool = NULL;
    HY_CHECK(hy_threadpool_create(2, NULL) == HYPERION_INVALID_ARGUMENT);
    HY_CHECK(hy_threadpool_create(HY_THREADPOOL_MAX_THREADS + 1, &pool) == HYPERION_INVALID_ARGUMENT);
    HY_CHECK(pool == NULL);
    HY_CHECK_STR(hyperionGetLastError()->fields[0].text, "threads");

    HY_REQUIRE(hy_threadpool_create(0, &pool) == HYPERION_OK); /* default: physical cores */
    HY_CHECK_INT(hy_threadpool_size(pool), hyperionGetCpuFeatures()->physical_cores);
    HY_CHECK(hy_threadpool_for(pool, 10, 1, NULL, NULL) == HYPERION_INVALID_ARGUMENT);
    HY_CHECK(hy_threadpool_run(pool, record_tid, NULL, -1) == HYPERION_INVALID_ARGUMENT);
    HY_CHECK(hy_threadpool_for(NULL, 10, 1, add_range, NULL) == HYPERION_INVALID_ARGUMENT);
    HY_CHECK(hy_threadpool_set_duty_cycle(pool, 0) == HYPERION_INVALID_ARGUMENT);
    HY_CHECK(hy_threadpool_set_duty_cycle(pool, 101) == HYPERION_INVALID_ARGUMENT);
    HY_CHECK_STR(hyperionGetLastError()->fields[0].text, "percent");
    HY_CHECK(hy_threadpool_set_active(pool, 0) == HYPERION_INVALID_ARGUMENT);
    HY_CHECK(hy_threadpool_set_active(pool, hy_threadpool_size(pool) + 1) == HYPERION_INVALID_ARGUMENT);
    HY_CHECK_STR(hyperionGetLastError()->fields[0].text, "active");
    HY_CHECK_INT(hy_threadpool_duty_cycle(pool), 100);
    HY_CHECK(hy_threadpool_run(pool, record_tid, NULL, 0) == HYPERION_OK);
    hy_threadpool_free(pool);
    hy_threadpool_free(NULL);
}
