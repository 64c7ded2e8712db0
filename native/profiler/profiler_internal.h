/*
 * profiler_internal.h — the profiler's shared internals (not part of the API).
 *
 * Layout of the module:
 *   zones.c      global flag, per-thread buffers and their registry, zone begin/end,
 *                thread names, request ids, interned names
 *   session.c    configuration, sessions, captures, token counts
 *   collect.c    copying the threads' buffers into a profile
 *   output.c     the public report entry points and file saving
 *   sampler.c    the counter sampler thread (pool in use, RSS, tokens)
 *   analysis.c   nesting repair, self times, per-op / per-layer / per-phase statistics
 *   report.c     summary, hotspots and bottleneck JSON, the text table
 *   trace.c      the Chrome trace writer
 *   jsonw.c      a small JSON text builder writing to memory or to a file
 *   roofline.c   bandwidth and peak-arithmetic probes, op classification
 *   counters.c   hardware counters through perf_event_open, and why they are absent
 */
#ifndef HYPERION_PROFILER_INTERNAL_H
#define HYPERION_PROFILER_INTERNAL_H

#include "core/internal.h"

#include <pthread.h>
#include <stdatomic.h>

#define HY_PROF_TAG HYPERION_TAG_PROFILER
#define HY_PROF_DEFAULT_BUFFER_EVENTS 131072u
#define HY_PROF_MIN_BUFFER_EVENTS 64u
#define HY_PROF_MAX_BUFFER_EVENTS 16777216u
#define HY_PROF_THREAD_NAME_MAX 32
#define HY_PROF_NAME_MAX 128
#define HY_PROF_COUNTER_STACK 8

/* ------------------------------------------------------------ hardware counters */

enum {
    HY_CTR_CYCLES = 0,
    HY_CTR_INSTRUCTIONS,
    HY_CTR_CACHE_REFS,
    HY_CTR_CACHE_MISSES,
    HY_CTR_LLC_MISSES,
    HY_CTR_COUNT
};

typedef enum hy_ctr_reason {
    HY_CTR_OK = 0,          /* counters work */
    HY_CTR_DISABLED,        /* trackCache is off */
    HY_CTR_NO_PMU,          /* hardware events missing while software events work */
    HY_CTR_PARANOID,        /* refused, and perf_event_paranoid is above what allows it */
    HY_CTR_BLOCKED,         /* refused although paranoid permits: container, seccomp or LSM */
    HY_CTR_NO_PERF,         /* the kernel has no perf events at all */
    HY_CTR_OTHER            /* any other failure */
} hy_ctr_reason;

typedef struct hy_ctr_status {
    hy_ctr_reason reason;
    int hw_errno;           /* errno of the hardware event, 0 when it opened */
    int sw_errno;           /* errno of the software event, 0 when it opened */
    int paranoid;           /* /proc/sys/kernel/perf_event_paranoid, INT32_MIN when unreadable */
    char detail[256];       /* one plain sentence */
} hy_ctr_status;

/* "ok", "disabled", "no-pmu", "perf-event-paranoid", "blocked", "no-perf-events", "other". */
const char *hy_ctr_reason_name(hy_ctr_reason reason);

/* Decide the reason from the errno of a hardware and a software
 * perf_event_open (0 = opened) and the paranoid level; fills status. Pure, so
 * tests can walk every branch. */
void hy_ctr_classify(int hw_errno, int sw_errno, int paranoid, hy_ctr_status *status);

/* Probe this process once (cached) and return the status. */
const hy_ctr_status *hy_ctr_probe(void);

/* Counter groups over every thread alive now (/proc/self/task). */
typedef struct hy_ctr_set hy_ctr_set;

/* Open the groups. NULL with *status filled when counters are unavailable. */
hy_ctr_set *hy_ctr_open_process(hy_ctr_status *status);
/* Sum of the counters over all groups. Values not counted read as 0;
 * *present gets a bit per counter that is really counted. */
void hy_ctr_read(hy_ctr_set *set, uint64_t values[HY_CTR_COUNT], unsigned *present);
void hy_ctr_close(hy_ctr_set *set);
/* Threads in the set (groups opened). */
int hy_ctr_thread_count(const hy_ctr_set *set);

/* Test hook: use software events (task-clock, page faults, ...) in place of the
 * hardware ones, so the open/read/aggregate path can run on a machine without
 * a PMU. The figures are then not cycles; reports say "software stand-ins". */
void hy_ctr_test_use_software(int on);
int hy_ctr_using_software(void);

/* ------------------------------------------------------------ per-thread buffers */

/* One recorded zone. Written by its thread; `end` may be read while the zone
 * is still open, hence atomic. */
typedef struct hy_prof_event {
    const char *name;
    const char *type;
    uint64_t start;
    _Atomic uint64_t end;      /* 0 while open */
    uint64_t bytes;
    uint64_t flops;
    uint64_t request;
    uint32_t dims[4];
    int32_t layer;
    uint8_t category;
    uint8_t n_dims;
    uint8_t flags;             /* HY_EV_* */
    uint8_t pad;
} hy_prof_event;

#define HY_EV_UNFINISHED 1     /* closed at the collection time */
#define HY_EV_CLAMPED 2        /* end moved to fit inside its parent */

typedef struct hy_prof_buffer {
    struct hy_prof_buffer *next;       /* registry list */
    uint64_t reg_id;                   /* unique registration number */
    uint64_t tid;                      /* OS thread id */
    int order;                         /* registration order, for sorting threads */
    _Atomic uint32_t epoch;            /* epoch the content belongs to; published last */
    _Atomic uint32_t count;            /* events [0, count) are complete except end */
    _Atomic uint64_t dropped;          /* zones refused because the buffer was full (this epoch) */
    uint64_t dropped_at_start;         /* dropped when the session started */
    uint32_t capacity;
    _Atomic int exited;                /* the owner thread has ended */
    hy_prof_event *events;             /* [capacity] */
    char name[HY_PROF_THREAD_NAME_MAX];/* guarded by the registry lock */
    /* hardware-counter snapshots of open phase zones (owner thread only) */
    int counter_depth;
    uint64_t counter_stack[HY_PROF_COUNTER_STACK][HY_CTR_COUNT];
} hy_prof_buffer;

/* The registry of buffers, shared by zones.c and session.c. */
typedef struct hy_prof_registry {
    pthread_mutex_t lock;
    hy_prof_buffer *head;
    int next_order;
    uint64_t next_reg_id;
} hy_prof_registry;

extern hy_prof_registry hy_prof_reg;

/* The recording state the hot path reads (atomics, relaxed unless stated). */
typedef struct hy_prof_state {
    _Atomic uint32_t epoch;            /* bumped when recording starts from idle */
    _Atomic int record_all;            /* a session runs */
    _Atomic int track_functions;       /* op and layer zones recorded */
    _Atomic uint32_t capacity;         /* events per thread buffer */
    _Atomic uint64_t capture_ids[HYPERION_PROFILER_MAX_CAPTURES]; /* 0 = free slot */
    _Atomic int captures;              /* captures active */
    _Atomic int counters_on;           /* phase zones read hardware counters */
    _Atomic uint64_t tokens[HYPERION_PHASE_COUNT];                 /* since process start */
    _Atomic uint64_t capture_tokens[HYPERION_PROFILER_MAX_CAPTURES][HYPERION_PHASE_COUNT];
    _Atomic uint64_t phase_counters[HYPERION_PHASE_COUNT][HY_CTR_COUNT]; /* since process start */
} hy_prof_state;

extern hy_prof_state hy_prof;

/* Set or clear the flag the macros test. */
void hy_prof_set_active(int on);

/* Free the buffers of threads that have ended (call only when idle, under no
 * lock). Returns how many were freed. */
int hy_prof_reap_exited(void);

/* Free every buffer (shutdown). Threads re-register on their next zone. */
void hy_prof_free_all_buffers(void);

/* Index of the capture slot holding request id, or -1. */
int hy_prof_capture_slot(uint64_t request);

/* The counter set the phase zones read (session.c owns it; NULL = none), and
 * the lock under which zones read it and session.c replaces it. */
hy_ctr_set *hy_prof_counter_set(void);
void hy_prof_lock_counter_reads(int lock);

/* ------------------------------------------------------------ collected profile */

typedef struct hy_prof_thread {
    uint64_t tid;
    char name[HY_PROF_THREAD_NAME_MAX];
    int order;
    uint64_t dropped;
    uint32_t first, count;             /* events of this thread in the profile */
} hy_prof_thread;

typedef struct hy_prof_sample {
    uint64_t t;                        /* monotonic ns */
    uint64_t pool_in_use;
    uint64_t rss;
    uint64_t tokens_generated;
} hy_prof_sample;

/* Plain copy of an event (no atomics) once collected. */
typedef struct hy_prof_rec {
    const char *name;
    const char *type;
    uint64_t start, end;
    uint64_t bytes, flops, request;
    uint32_t dims[4];
    int32_t layer;
    uint8_t category, n_dims, flags;
    uint32_t thread;                   /* index into threads */
} hy_prof_rec;

struct hy_prof_analysis;

typedef struct hy_prof_profile {
    uint64_t t0, t1;                   /* wall window, monotonic ns */
    uint64_t request;                  /* 0 = a session */
    hyperion_profiler_config config;
    hy_prof_thread *threads;
    uint32_t n_threads;
    hy_prof_rec *events;               /* grouped by thread */
    uint32_t n_events;
    uint64_t dropped;                  /* zones dropped during the window */
    hy_prof_sample *samples;
    uint32_t n_samples;
    uint64_t dropped_samples;
    int sampled_memory;                /* samples carry pool/RSS */
    uint64_t tokens[HYPERION_PHASE_COUNT];
    hy_ctr_status counters;            /* reason OK: phase_counters valid */
    unsigned counters_present;         /* bit per HY_CTR_* really counted */
    int counter_threads;
    uint64_t phase_counters[HYPERION_PHASE_COUNT][HY_CTR_COUNT];
    struct hy_prof_analysis *analysis; /* built on first use */
} hy_prof_profile;

/* Copy the events of the current epoch with start in [t0, t1) (request != 0:
 * only that request's) into a new profile. Open zones end at t1. */
hyperion_status hy_prof_collect(uint64_t t0, uint64_t t1, uint64_t request, hy_prof_profile **out);
/* session.c's control lock, and the profile reports read (call with it held;
 * *temp = 1: a snapshot the caller frees). */
void hy_prof_ctl_lock(int lock);
hyperion_status hy_prof_current_profile(hy_prof_profile **out, int *temp);
void hy_prof_profile_free(hy_prof_profile *p);

/* ------------------------------------------------------------ analysis */

typedef struct hy_prof_op {
    const char *name;                  /* representative pointer */
    const char *type;                  /* NULL = none */
    uint8_t category;
    uint64_t calls;
    uint64_t total_ns;                 /* inclusive; nested calls of the same op counted once */
    uint64_t self_ns;
    uint64_t wall_ns;                  /* union of its outermost calls over all threads */
    uint64_t min_ns, max_ns;
    uint64_t p50_ns, p95_ns, p99_ns;   /* exact, nearest rank */
    uint64_t bytes, flops;
    int has_meta;                      /* some call carried bytes or flops */
} hy_prof_op;

typedef struct hy_prof_layer {
    int32_t layer;
    uint64_t calls;                    /* layer zones */
    uint64_t total_ns;                 /* inclusive time of the layer zones */
    uint64_t op_self_ns;               /* self time of every zone tagged with this layer */
} hy_prof_layer;

typedef struct hy_prof_phase_stat {
    uint64_t calls;
    uint64_t total_ns;
    uint64_t self_ns;
    uint64_t tokens;
} hy_prof_phase_stat;

typedef struct hy_prof_analysis {
    uint64_t wall_ns;                  /* t1 - t0 */
    uint64_t covered_ns;               /* time at least one zone was open on some thread */
    uint64_t traced_ns;                /* sum over threads of time inside a zone (thread time) */
    uint64_t self_sum_ns;              /* sum of every zone's self time (== traced_ns) */
    uint64_t clamped;                  /* zones whose end was moved inside their parent */
    uint64_t unfinished;
    uint64_t *thread_busy_ns;          /* [n_threads] */
    uint32_t *thread_order;            /* [n_threads]: the main thread first, then by registration */
    uint64_t *self_ns;                 /* [n_events], per event */
    uint32_t *order;                   /* [n_events], per-thread sorted event indices */
    hy_prof_op *ops;                   /* sorted by self time, descending */
    uint32_t n_ops;
    hy_prof_layer *layers;             /* by layer index */
    uint32_t n_layers;
    hy_prof_phase_stat phases[HYPERION_PHASE_COUNT];
} hy_prof_analysis;

/* Build (once) and return the analysis of a profile; NULL with the last error
 * set when memory runs out. Also sorts each thread's events and repairs
 * nesting in place (child end <= parent end). */
const hy_prof_analysis *hy_prof_analyze(hy_prof_profile *p);

/* Exact nearest-rank percentile (0 < q <= 100) of sorted values. */
uint64_t hy_prof_percentile(const uint64_t *sorted, size_t n, double q);

/* Sort uint32 indices with cmp(ctx, a, b) < 0 meaning a first; stable merge
 * sort, near-linear on sorted input. scratch has n entries. */
typedef int (*hy_prof_cmp)(const void *ctx, uint32_t a, uint32_t b);
void hy_prof_sort_indices(uint32_t *idx, uint32_t *scratch, size_t n, hy_prof_cmp cmp, const void *ctx);
/* Ascending sort of uint64 values; scratch has n entries. */
void hy_prof_sort_u64(uint64_t *v, uint64_t *scratch, size_t n);

/* ------------------------------------------------------------ JSON text */

typedef struct hy_jw {
    char *buf;                         /* pool memory */
    size_t len, cap;
    int fd;                            /* >= 0: flush to this file when the buffer fills */
    int failed;                        /* an allocation or write failed; errno_saved tells */
    int errno_saved;
    int depth;                         /* open objects/arrays */
    int after_key;                     /* a key was written; its value comes next */
    uint8_t has_item[48];              /* per depth: an item was written, so the next needs a comma */
} hy_jw;

void hy_jw_init_memory(hy_jw *w);
void hy_jw_init_fd(hy_jw *w, int fd);
void hy_jw_raw(hy_jw *w, const char *text, size_t n);
void hy_jw_text(hy_jw *w, const char *text);                   /* raw C string */
void hy_jw_printf(hy_jw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void hy_jw_string(hy_jw *w, const char *text);                 /* quoted and escaped; NULL -> null */
/* Structure helpers that manage commas. */
void hy_jw_begin_object(hy_jw *w);
void hy_jw_end_object(hy_jw *w);
void hy_jw_begin_array(hy_jw *w);
void hy_jw_end_array(hy_jw *w);
void hy_jw_key(hy_jw *w, const char *key);                     /* "key": */
void hy_jw_kv_string(hy_jw *w, const char *key, const char *value);
void hy_jw_kv_u64(hy_jw *w, const char *key, uint64_t value);
void hy_jw_kv_i64(hy_jw *w, const char *key, int64_t value);
void hy_jw_kv_double(hy_jw *w, const char *key, double value); /* non-finite -> null */
void hy_jw_kv_bool(hy_jw *w, const char *key, int value);
void hy_jw_kv_ms(hy_jw *w, const char *key, uint64_t ns);      /* ns as milliseconds, exact to the ns */
void hy_jw_kv_null(hy_jw *w, const char *key);
void hy_jw_value_u64(hy_jw *w, uint64_t value);
void hy_jw_value_string(hy_jw *w, const char *text);          /* an array item */
/* Flush to the fd (fd mode). */
void hy_jw_flush(hy_jw *w);
/* Memory mode: hand over the NUL-terminated text (caller frees); NULL if failed. */
char *hy_jw_take(hy_jw *w);
void hy_jw_release(hy_jw *w);

/* ------------------------------------------------------------ writers */

/* The summary object of a profile (the JSON hyperionGetProfileSummary returns). */
hyperion_status hy_prof_write_summary(hy_prof_profile *p, hy_jw *w);
/* Hotspots / bottleneck report objects. */
hyperion_status hy_prof_write_hotspots(hy_prof_profile *p, uint32_t n, hy_jw *w);
hyperion_status hy_prof_write_bottlenecks(hy_prof_profile *p, hy_jw *w);
/* The text table. */
hyperion_status hy_prof_write_table(hy_prof_profile *p, hy_jw *w);
/* The Chrome trace. */
hyperion_status hy_prof_write_trace(hy_prof_profile *p, hy_jw *w);

/* ------------------------------------------------------------ roofline */

typedef enum hy_bound {
    HY_BOUND_UNKNOWN = 0,              /* no bytes/flops recorded */
    HY_BOUND_MEMORY,
    HY_BOUND_COMPUTE
} hy_bound;

typedef struct hy_verdict {
    hy_bound bound;
    double intensity;                  /* flops per byte */
    double machine_balance;            /* peak flops / bandwidth at the op's thread count */
    double achieved_gbps, achieved_gflops;   /* over the op's wall time */
    double limit_gbps, limit_gflops;         /* the machine figures compared against */
    double efficiency;                 /* achieved / limit of the binding resource, 0..~1 */
    double threads;                    /* average threads busy in the op */
    char recommendation[448];
} hy_verdict;

/* Judge one op against the machine limits. */
void hy_roofline_judge(const hy_prof_op *op, const hyperion_machine_limits *limits, hy_verdict *v);
const char *hy_bound_name(hy_bound b);

/* Test hooks: the probes' parts, each short. */
double hy_roofline_probe_bandwidth(size_t bytes, int threads, int passes);

/* The probe over memory the caller has: profiler/read_probe.h. */
double hy_roofline_probe_peak(int simd, int threads, double seconds);

/* ------------------------------------------------------------ sampler */

typedef struct hy_sampler hy_sampler;

/* Start sampling every interval_ms into a bounded array; memory: pool/RSS too. */
hyperion_status hy_sampler_start(uint32_t interval_ms, int memory, uint64_t tokens_base, hy_sampler **out);
/* Stop, take a last sample and hand the samples over (caller frees *samples). */
void hy_sampler_stop(hy_sampler *s, hy_prof_sample **samples, uint32_t *n, uint64_t *dropped);
/* Process RSS in bytes from /proc/self/statm (0 when unreadable). */
uint64_t hy_sampler_rss_bytes(void);
/* Read a small text file (a /proc or /sys entry) without stdio; its length, or -1. */
int hy_prof_read_text(const char *path, char *buf, size_t size);
void hy_prof_analysis_free(struct hy_prof_analysis *a);

#endif
