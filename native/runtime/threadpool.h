/*
 * threadpool.h — the persistent worker pool the graph runs its kernels on
 * (internal).
 *
 * One pool per model. Its workers are created once and live until
 * hy_threadpool_free; a run never creates a thread. The thread that calls a run
 * takes part as worker 0, so a pool of n threads owns n - 1 extra threads (a
 * pool of 1 owns none and runs everything inline).
 *
 * Between runs a worker spins for a short, bounded time (HY_THREADPOOL_SPIN_NS,
 * see threadpool.c for how it was chosen), then sleeps on a futex (a condition
 * variable where there is no futex). Decode issues runs microseconds apart, so
 * the workers are still spinning when the next one comes; between tokens they
 * go to sleep and cost nothing.
 *
 * Two ways to split [0, n_items) into chunks of `grain` items:
 *  - hy_threadpool_for:        dynamic; participants claim chunks from one
 *                              atomic counter (for matmul tiles of uneven cost);
 *  - hy_threadpool_for_static: each participant owns one contiguous run of
 *                              chunks (for matvec rows: each thread streams its
 *                              own slice of the weights).
 * Either way every item is passed to fn exactly once, and a run returns only
 * when all of them are done (or, after an abort, when every participant has
 * stopped).
 *
 * Control knobs, safe to change from any thread at any time; a new setting
 * applies from the next run (the value of the abort flag itself is read
 * before every chunk, so raising it stops the current run):
 *  - an abort flag, checked before every chunk;
 *  - the number of active threads (a cap <= the threads created);
 *  - a duty cycle: the pool's CPU time stays near percent% of the wall time of
 *    its active threads, by sleeping after runs.
 *
 * Runs of one pool from several threads are serialized. A run started from
 * inside a task (of any pool) fails with HYPERION_INVALID_ARGUMENT instead of
 * deadlocking.
 */
#ifndef HYPERION_RUNTIME_THREADPOOL_H
#define HYPERION_RUNTIME_THREADPOOL_H

#include "core/atomics.h"
#include <stddef.h>
#include <stdint.h>

#include "hyperion.h"

/* How long a waiting thread polls before it sleeps (see threadpool.c for the
 * measurements behind the figure). */
#define HY_THREADPOOL_SPIN_NS 50000ull
/* The duty-cycle throttle remembers about this much history. */
#define HY_THREADPOOL_DUTY_WINDOW_NS 100000000ull

/* Workers beyond this count are refused (a sanity bound, not a tuning knob). */
#define HY_THREADPOOL_MAX_THREADS 256

typedef struct hy_threadpool hy_threadpool;

/* A range task: process items [begin, end). thread_index is the participant
 * running it, 0 (the calling thread) .. active - 1, stable for the whole run,
 * so it can index per-thread scratch. */
typedef void (*hy_threadpool_range_fn)(void *ctx, size_t begin, size_t end, int thread_index);

/* A task of hy_threadpool_run: task index in [0, n_tasks). */
typedef void (*hy_threadpool_task_fn)(void *ctx, int task, int thread_index);

/* Create a pool of n_threads (the caller's slot included); n_threads <= 0 means
 * the default, hyperionGetCpuFeatures()->physical_cores. Workers are named
 * "hyperion-w1".. for the OS and "worker-1".. for the profiler, and block
 * asynchronous signals. Each run copies the dispatching thread's profiler
 * request id (hyperionProfilerGetRequest) into the workers taking part, for
 * the run's duration, so their zones count toward that request's capture. Returns once every worker is
 * running. On success *out owns the pool (release with hy_threadpool_free).
 * Errors: HYPERION_INVALID_ARGUMENT (out NULL, n_threads above
 * HY_THREADPOOL_MAX_THREADS), HYPERION_OUT_OF_MEMORY / HYPERION_MEMORY_LIMIT
 * (allocation or thread creation refused); nothing is left behind on failure. */
hyperion_status hy_threadpool_create(int n_threads, hy_threadpool **out);

/* Stop and join the workers and release the pool. NULL is a no-op. Must not be
 * called while a run of this pool is in progress (nor from inside a task). */
void hy_threadpool_free(hy_threadpool *pool);

/* Threads created (the caller's slot included). */
int hy_threadpool_size(const hy_threadpool *pool);

/* Cap the threads a run uses to n (1 <= n <= hy_threadpool_size). Errors:
 * HYPERION_INVALID_ARGUMENT naming "active". */
hyperion_status hy_threadpool_set_active(hy_threadpool *pool, int n);
int hy_threadpool_active(const hy_threadpool *pool);

/* Watch *flag (or nothing with NULL): when it is non-zero, participants stop
 * claiming chunks and the run returns HYPERION_ABORTED. The flag must outlive
 * the pool or be replaced first. A run that starts with the flag set does no
 * work. The pool never writes the flag. */
void hy_threadpool_set_abort(hy_threadpool *pool, const atomic_int *flag);

/* Limit the pool to about percent% (1..100; 100 = no limit) of its active
 * threads' time: after a run, the calling thread sleeps until the CPU time the
 * participants spent inside runs, over a sliding window of about
 * HY_THREADPOOL_DUTY_WINDOW_NS, is percent% of (wall time x active threads).
 * While limited, workers sleep at once between runs instead of spinning.
 * Errors: HYPERION_INVALID_ARGUMENT naming "percent". */
hyperion_status hy_threadpool_set_duty_cycle(hy_threadpool *pool, int percent);
int hy_threadpool_duty_cycle(const hy_threadpool *pool);

/* Run fn over [0, n_items) in chunks of grain items (grain 0 means 1),
 * claimed dynamically. Returns HYPERION_OK when every item was processed,
 * HYPERION_ABORTED when the abort flag stopped it (some items were not
 * processed), HYPERION_INVALID_ARGUMENT for a NULL pool/fn or a nested call.
 * n_items == 0 returns HYPERION_OK at once. */
hyperion_status hy_threadpool_for(hy_threadpool *pool, size_t n_items, size_t grain,
                                  hy_threadpool_range_fn fn, void *ctx);

/* As hy_threadpool_for, but participant t owns the t-th of `active` equal
 * contiguous runs of chunks and calls fn once per chunk, in order. Chunk
 * boundaries are multiples of grain, so grain can be a kernel's row tile. */
hyperion_status hy_threadpool_for_static(hy_threadpool *pool, size_t n_items, size_t grain,
                                         hy_threadpool_range_fn fn, void *ctx);

/* ------------------------------------------------------------ profiler slices */

/* A run's op zone (see hyperion_profiler.h). When the profiler records, each
 * participant of a run with a zone records one op zone around its share of the
 * run, its "slice": named and typed like the op, on its own thread, carrying
 * the bytes and flops of the items it processed. The dispatching thread's own
 * zone around the run carries none, so an op's bytes and flops are counted
 * once, in its slices, and its rates are those totals over the op's wall time.
 * Every participant records a slice, even one that found no chunk left, so a
 * run of p participants adds exactly p slices. When the profiler is off a zone
 * costs one predictable branch per participant. */
typedef struct hy_threadpool_zone {
    const char *name;            /* static or interned: zones keep the pointer */
    const char *type;            /* tensor type name, or NULL */
    int32_t layer;               /* -1 = none */
    int64_t dims[4];             /* the whole op's shape (leading non-zero entries) */
    uint64_t item_bytes;         /* bytes read + written per item */
    uint64_t item_flops;         /* arithmetic operations per item */
    uint64_t participant_bytes;  /* once per participant that processed an item (an input each one reads whole) */
    /* Optional, for items of uneven cost: adds the bytes and flops of items
     * [begin, end) to *bytes and *flops. Called with the run's ctx. */
    void (*item_cost)(const void *ctx, size_t begin, size_t end, uint64_t *bytes, uint64_t *flops);
} hy_threadpool_zone;

typedef enum hy_threadpool_split {
    HY_THREADPOOL_DYNAMIC = 0,   /* as hy_threadpool_for */
    HY_THREADPOOL_STATIC = 1,    /* as hy_threadpool_for_static */
    /* Participant t owns the t-th of the equal contiguous runs of chunks (as
     * STATIC) and works through it front to back; one that has finished its
     * own takes the others' chunks from the backs of their runs. Each take
     * is a piece of a quarter of the chunks left in that run, at most an
     * eighth of a share and at least one chunk, and is one call of fn: few
     * calls while much is left, single chunks at the end, so participants
     * finish within about one chunk of each other. Each thread reads one
     * contiguous stretch (what a memory-bound product wants: one stream a
     * prefetch stays ahead of), and a thread the OS preempts does not hold up
     * the run. Call boundaries are multiples of grain (the smallest piece);
     * which participant runs a chunk is not fixed. */
    HY_THREADPOOL_STEAL = 2
} hy_threadpool_split;

/* hy_threadpool_for / hy_threadpool_for_static / the stealing split with a slice zone per
 * participant (zone may be NULL: none). zone is read during the run only. */
hyperion_status hy_threadpool_for_zoned(hy_threadpool *pool, hy_threadpool_split split, size_t n_items, size_t grain,
                                        hy_threadpool_range_fn fn, void *ctx, const hy_threadpool_zone *zone);

/* What the caller's next run will read: n_items items of item_bytes each from
 * base, split like a HY_THREADPOOL_STEAL run of that grain. */
typedef struct hy_threadpool_read {
    const void *base;
    size_t item_bytes;
    size_t n_items;
    size_t grain;
} hy_threadpool_read;

/* hy_threadpool_for_zoned, and a hint: `then` (NULL: none) is what the next
 * run will read. A participant that finishes its share of this run and waits
 * (for the others, or for the next run) fetches the start of its share of
 * that stretch into the cache meanwhile, so memory keeps streaming through
 * the gaps between runs. A hint never changes results; then is read during
 * the run only. */
hyperion_status hy_threadpool_for_then(hy_threadpool *pool, hy_threadpool_split split, size_t n_items, size_t grain,
                                       hy_threadpool_range_fn fn, void *ctx, const hy_threadpool_zone *zone,
                                       const hy_threadpool_read *then);

/* Run fn(ctx, task, thread_index) once for every task in [0, n_tasks),
 * claimed dynamically. Same results as hy_threadpool_for. */
hyperion_status hy_threadpool_run(hy_threadpool *pool, hy_threadpool_task_fn fn, void *ctx, int n_tasks);

/* The OS thread id (gettid) of participant index (0 .. size - 1), for the
 * profiler's thread names. Index 0 is the thread that made the most recent run
 * (the creator before any run). 0 for an index out of range. */
uint64_t hy_threadpool_thread_os_id(const hy_threadpool *pool, int index);

/* The participant index of the calling thread while it runs a task of a pool
 * (0 for the run's caller), -1 when it is not inside a task. */
int hy_threadpool_current_index(void);

/* The calling thread works for pool until hy_threadpool_leave: while a duty
 * cycle is in force, its CPU time between runs (graph glue, sampling) counts
 * toward it as well as its share of the runs, so the limit holds for the
 * whole request, not only for the kernels. Returns the previous scope, to be
 * handed to hy_threadpool_leave (scopes nest by saving and restoring). Leave
 * charges the CPU since the last run (slept off by the pool's next run). */
hy_threadpool *hy_threadpool_enter(hy_threadpool *pool);
void hy_threadpool_leave(hy_threadpool *pool, hy_threadpool *previous);

/* CPU time of the pool's own workers (not the callers') since creation, user
 * and system. Each worker samples its split when it parks; time since then
 * (read from its thread clock) is counted as user time. */
void hy_threadpool_worker_cpu(const hy_threadpool *pool, uint64_t *user_ns, uint64_t *system_ns);

/* The calling thread's CPU time so far: user + system is its thread CPU
 * clock (exact); system is getrusage's RUSAGE_THREAD figure (possibly
 * tick-grained; 0 without it), capped by the total. */
void hy_thread_cpu_times(uint64_t *user_ns, uint64_t *system_ns);

/* Counters of one pool since creation, for tests and the profiler. */
typedef struct hy_threadpool_stats {
    uint64_t runs;            /* runs that dispatched work (inline ones included) */
    uint64_t worker_wakeups;  /* futex/condvar wakes issued to sleeping workers */
    uint64_t throttle_sleeps; /* duty-cycle sleeps taken */
    uint64_t throttle_ns;     /* wall time spent in duty-cycle sleeps */
} hy_threadpool_stats;
void hy_threadpool_get_stats(const hy_threadpool *pool, hy_threadpool_stats *stats);

/* Override the spin budget (nanoseconds a waiting thread polls before it
 * sleeps; 0 = sleep at once). For tests and measurements. */
void hy_threadpool_set_spin_ns(hy_threadpool *pool, uint64_t spin_ns);

#endif
