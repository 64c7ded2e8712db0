/*
 * hyperion_profiler.h — zones, sessions, per-request captures, Chrome-trace and
 * summary output, hotspots and a roofline bottleneck analysis.
 *
 * Zones. Code marks a span of work with a zone; each zone records its name,
 * category (op / layer / phase), thread, start and end (CLOCK_MONOTONIC ns) and
 * op metadata by value (shape, tensor type name, bytes moved, arithmetic ops,
 * layer index):
 *
 *     HY_ZONE_PHASE(zd, HYPERION_PHASE_DECODE);
 *     for (int il = 0; il < n_layer; il++) {
 *         HY_ZONE_LAYER(zl, il);
 *         HY_ZONE_OP(zm, "matmul", il, .dims = {n_out, n_in, n_tok}, .type = "q4_0",
 *                    .bytes = weight_bytes + act_bytes, .flops = 2ull * n_out * n_in * n_tok);
 *         ...kernel...
 *         HY_ZONE_END(zm);
 *         HY_ZONE_END(zl);
 *     }
 *     HY_ZONE_END(zd);
 *     hyperionProfilerNoteTokens(HYPERION_PHASE_DECODE, 1);
 *
 * When no session or capture is active, HY_ZONE_* is one relaxed load of a
 * global flag and one not-taken branch (the metadata expressions are not even
 * evaluated), and HY_ZONE_END tests the zone's own stack slot. When recording,
 * a zone costs two CLOCK_MONOTONIC reads (vDSO, ~25 ns each) and an 80-byte
 * store: about 70 ns. Names must be
 * static strings (string literals) or come from hyperionProfilerIntern; they are
 * recorded as pointers, never formatted on the hot path. A zone must end on the
 * thread that began it, in LIFO order with the other zones of that thread.
 *
 * Threads. Each thread records into its own bounded buffer (allocated from the
 * pool, tag "profiler", on its first zone; no lock on the hot path). A full
 * buffer drops further zones and counts them; stop merges the buffers.
 *
 * Clock. CLOCK_MONOTONIC through the vDSO rather than raw rdtsc: it reads the
 * TSC itself when the kernel trusts it, so it costs ~25 ns instead of ~12 ns,
 * but needs no calibration, stays correct across cores, migrations and VMs with
 * an unstable TSC, and is the clock the rest of the runtime (logs, sampler)
 * uses, so zones and counter samples share one timebase. Zones are around ops
 * of microseconds and more, where the difference does not show.
 *
 * The JSON strings returned here are allocated with hyperionAlloc; the caller
 * releases them with hyperionFree.
 */
#ifndef HYPERION_PROFILER_H
#define HYPERION_PROFILER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hyperion.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ vocabulary */

typedef enum hyperion_zone_category {
    HYPERION_ZONE_OP = 0,     /* one kernel or step: matmul, attention, norm, rope, sampling, ... */
    HYPERION_ZONE_LAYER = 1,  /* one transformer layer */
    HYPERION_ZONE_PHASE = 2,  /* load, prefill, decode, sample */
    HYPERION_ZONE_CATEGORY_COUNT
} hyperion_zone_category;

typedef enum hyperion_phase {
    HYPERION_PHASE_LOAD = 0,
    HYPERION_PHASE_PREFILL = 1,
    HYPERION_PHASE_DECODE = 2,
    HYPERION_PHASE_SAMPLE = 3,
    HYPERION_PHASE_COUNT
} hyperion_phase;

/* "op", "layer", "phase" / "load", "prefill", "decode", "sample". Static
 * strings; "unknown" outside the enum. The phase names are also the names of
 * phase zones. */
const char *hyperionZoneCategoryName(hyperion_zone_category category);
const char *hyperionPhaseName(hyperion_phase phase);

/* Op metadata, recorded by value. Omitted fields are zero: no shape, no type.
 * Count bytes and flops once per unit of work, on the zone that does it: when
 * a matmul is split over the pool, each worker's slice zone carries its slice's
 * bytes and flops, and the dispatching thread's zone around it carries none.
 * Rates (GB/s, GFLOP/s) are then the op's totals over its wall time. */
typedef struct hyperion_zone_meta {
    int32_t layer;            /* layer index, -1 = none (HY_ZONE_OP sets it) */
    int64_t dims[4];          /* shape, leading non-zero entries count, e.g. {n_out, n_in, n_tok} */
    const char *type;         /* tensor type name ("q4_0", "f32"), static or interned; NULL = none */
    uint64_t bytes;           /* bytes read + written by the op */
    uint64_t flops;           /* arithmetic operations (floating-point or integer); a multiply-add is 2 */
} hyperion_zone_meta;

/* A zone in flight; lives on the stack of the code it measures. */
typedef struct hyperion_zone {
    void *buffer;             /* NULL when nothing is recorded */
    uint32_t slot;
    uint32_t epoch;
    int32_t counter_depth;    /* hardware-counter snapshot of a phase zone, -1 = none */
} hyperion_zone;

/* ------------------------------------------------------------ the zone macros */

/* Nonzero while a session or a capture records. Read only through the macros. */
extern int hyperionProfilerActiveFlag;

#if defined(__GNUC__)
#define HY_PROFILER_ON() __builtin_expect(__atomic_load_n(&hyperionProfilerActiveFlag, __ATOMIC_RELAXED), 0)
#else
#define HY_PROFILER_ON() (*(volatile int *)&hyperionProfilerActiveFlag)
#endif

/* Open zone `zone_var` (declares it) with a static name and a category. */
#define HY_ZONE_BEGIN(zone_var, name, category) \
    hyperion_zone zone_var; zone_var.buffer = NULL; \
    if (HY_PROFILER_ON()) hyperionZoneBegin(&zone_var, (name), (category), NULL)

/* An op zone with metadata given as designated initializers of
 * hyperion_zone_meta after the layer index (-1 = none). */
#define HY_ZONE_OP(zone_var, name, layer_index, ...) \
    hyperion_zone zone_var; zone_var.buffer = NULL; \
    if (HY_PROFILER_ON()) hyperionZoneBegin(&zone_var, (name), HYPERION_ZONE_OP, \
        &(const hyperion_zone_meta){ .layer = (int32_t)(layer_index), __VA_ARGS__ })

/* A layer zone, named "layer", carrying the layer index. */
#define HY_ZONE_LAYER(zone_var, layer_index) \
    hyperion_zone zone_var; zone_var.buffer = NULL; \
    if (HY_PROFILER_ON()) hyperionZoneBegin(&zone_var, "layer", HYPERION_ZONE_LAYER, \
        &(const hyperion_zone_meta){ .layer = (int32_t)(layer_index) })

/* A phase zone, named after the phase ("decode", ...). */
#define HY_ZONE_PHASE(zone_var, phase) \
    hyperion_zone zone_var; zone_var.buffer = NULL; \
    if (HY_PROFILER_ON()) hyperionZoneBegin(&zone_var, hyperionPhaseName(phase), HYPERION_ZONE_PHASE, NULL)

/* Close a zone opened by any of the above. */
#define HY_ZONE_END(zone_var) \
    do { if ((zone_var).buffer) hyperionZoneEnd(&(zone_var)); } while (0)

/* The functions behind the macros; call them directly only with a zone that
 * the macros' contract would give (zone->buffer = NULL before begin). meta may
 * be NULL. Never fail: a zone that cannot be recorded leaves zone->buffer NULL. */
void hyperionZoneBegin(hyperion_zone *zone, const char *name, hyperion_zone_category category,
                       const hyperion_zone_meta *meta);
void hyperionZoneEnd(hyperion_zone *zone);

/* Record an already-timed zone on the calling thread (start_ns <= end_ns, both
 * from hyperionProfilerNow), for work timed elsewhere. It nests like any other
 * zone of the thread. No-op when not recording. */
void hyperionProfilerRecordZone(const char *name, hyperion_zone_category category, uint64_t start_ns,
                                uint64_t end_ns, const hyperion_zone_meta *meta);

/* The profiler's clock: CLOCK_MONOTONIC in nanoseconds. */
uint64_t hyperionProfilerNow(void);

/* A stable copy of a name built at run time ("matmul q4_0 4096x4096"), for use
 * as a zone name; equal texts give the same pointer. Texts longer than 127
 * bytes are cut. Interned names live as long as the process (they are few).
 * NULL on failure (NULL text or out of memory, last error set). Not for the hot
 * path: intern once when the graph is built. */
const char *hyperionProfilerIntern(const char *text);

/* Name the calling thread in traces ("main", "worker-1"); at most 31 bytes are
 * kept. Threads not named are "main" (the process's first thread) or
 * "thread-<tid>". */
hyperion_status hyperionProfilerSetThreadName(const char *name);

/* Count tokens done in a phase (prompt tokens in prefill, generated tokens in
 * decode, ...), so the summary can give tokens/s per phase. Counted for the
 * running session and for the capture of the thread's request. */
void hyperionProfilerNoteTokens(hyperion_phase phase, uint64_t count);

/* ------------------------------------------------------------ configuration */

typedef struct hyperion_profiler_config {
    int track_functions;          /* 1: op and layer zones are recorded; 0: phase zones only */
    int track_memory;             /* 1: the sampler records pool bytes in use and process RSS */
    int track_cache;              /* 1: hardware counters per phase through perf_event_open */
    uint32_t sample_interval_ms;  /* counter sampling period, 1..60000; 0: no sampler thread */
    uint32_t buffer_events;       /* zones kept per thread, 64..16777216 */
} hyperion_profiler_config;

/* Defaults: functions and memory on, cache off, 10 ms, 131072 zones per thread
 * (10 MiB per recording thread). */
void hyperionProfilerConfigDefaults(hyperion_profiler_config *config);

/* Apply a configuration (copied). HYPERION_INVALID_ARGUMENT names a field out
 * of range, or says the profiler is recording (stop it first). Starting without
 * an init uses the defaults. */
hyperion_status hyperionInitProfiler(const hyperion_profiler_config *config);

/* Start a session: every thread's zones are recorded from now on. Discards the
 * previous session's profile. HYPERION_INVALID_ARGUMENT when already started;
 * HYPERION_OUT_OF_MEMORY / HYPERION_INTERNAL when the sampler cannot start. */
hyperion_status hyperionStartProfiling(void);

/* Stop the session and merge the threads' buffers into the session's profile,
 * which the functions below read until the next start. Zones still open are
 * closed at the stop time. HYPERION_INVALID_ARGUMENT when not started. */
hyperion_status hyperionStopProfiling(void);

/* 1 while a session records. */
int hyperionIsProfiling(void);

typedef enum hyperion_profile_format {
    HYPERION_PROFILE_CHROME_TRACE = 0,   /* Chrome trace JSON at path */
    HYPERION_PROFILE_SUMMARY = 1,        /* summary JSON at path */
    HYPERION_PROFILE_BOTH = 2            /* trace at path, summary beside it: "x.json" -> "x.summary.json",
                                            any other name gets ".summary.json" appended */
} hyperion_profile_format;

/* Write the last session's profile (a snapshot of the running session when
 * one runs). HYPERION_INVALID_ARGUMENT for a NULL path, a bad format or no
 * profile; HYPERION_IO (with path and errno) when the file cannot be written. */
hyperion_status hyperionSaveProfile(const char *path, hyperion_profile_format format);

/* The summary of the last session (or a snapshot of the running one) as JSON:
 * per op calls, total/self time, share, mean, p50/p95/p99, GFLOP/s, GB/s; per
 * layer; per phase time, tokens, tokens/s; unaccounted share of wall time;
 * threads, dropped zones, hardware counters or the reason they are absent.
 * *out_json is the caller's (hyperionFree). */
hyperion_status hyperionGetProfileSummary(char **out_json);

/* The n ops with the most self time, each with its roofline verdict, as JSON. */
hyperion_status hyperionGetHotspots(uint32_t n, char **out_json);

/* The machine's measured limits, a memory-/compute-bound verdict and a plain
 * recommendation for every op with metadata, and overall findings, as JSON. */
hyperion_status hyperionAnalyzeBottlenecks(char **out_json);

/* The summary as a fixed-width text table (phases, then ops by self time). */
hyperion_status hyperionGetProfileTable(char **out_text);
/* The same table written to stream (stdout when NULL). */
hyperion_status hyperionPrintProfileSummary(FILE *stream);

/* ------------------------------------------------------------ per-request capture */

/* Request attribution. The generation thread calls hyperionProfilerSetRequest(id)
 * before it works on a request (0 = none); the thread pool copies the
 * dispatching thread's id (hyperionProfilerGetRequest) into each worker before
 * the worker runs a task of that request. Every zone carries its thread's
 * request id at begin. */
void hyperionProfilerSetRequest(uint64_t request_id);
uint64_t hyperionProfilerGetRequest(void);

#define HYPERION_PROFILER_MAX_CAPTURES 16

/* Record the zones of one request (id != 0) even without a session; other
 * requests' zones cost a call and a compare. At most
 * HYPERION_PROFILER_MAX_CAPTURES at once. HYPERION_INVALID_ARGUMENT for id 0,
 * an id already captured, or too many captures. */
hyperion_status hyperionBeginProfileCapture(uint64_t request_id);

/* End the capture and return that request's summary JSON (the session summary's
 * form, with "request": id). out_json may be NULL to discard it. */
hyperion_status hyperionEndProfileCapture(uint64_t request_id, char **out_json);

/* ------------------------------------------------------------ machine limits */

/* This machine's limits, measured by the runtime at first use (~0.2 s) and
 * cached for the process. Bandwidth: streaming reads of a buffer several times
 * the last-level cache, best of several passes. Peak: fp32 FMA throughput. */
typedef struct hyperion_machine_limits {
    double bandwidth_gbps;        /* one thread, GB/s (1e9 bytes/s) */
    double bandwidth_gbps_mt;     /* mt_threads threads together */
    int mt_threads;               /* threads of the *_mt figures (1 on a one-core machine) */
    double peak_gflops_scalar;    /* one thread, scalar FMA/mul+add */
    double peak_gflops_simd;      /* one thread, best SIMD the CPU has */
    double peak_gflops_simd_mt;   /* mt_threads threads, best SIMD */
    const char *simd_isa;         /* "avx512", "avx2" or "scalar"; static string */
    uint64_t probe_buffer_bytes;  /* bytes streamed per pass */
    uint64_t llc_bytes;           /* last-level cache size found (0 = unknown) */
    double probe_ms;              /* time the probes took */
} hyperion_machine_limits;

hyperion_status hyperionGetMachineLimits(hyperion_machine_limits *out);

/* ------------------------------------------------------------ shutdown */

/* Stop any session and capture and release every buffer and profile. Interned
 * names and the machine limits stay. Call it when no zone is open on any thread
 * (at teardown, or in tests). */
void hyperionShutdownProfiler(void);

#ifdef __cplusplus
}
#endif

#endif /* HYPERION_PROFILER_H */
