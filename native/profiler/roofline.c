/*
 * roofline.c — this machine's limits, measured by the runtime itself, and the
 * memory-/compute-bound verdict of an op against them.
 *
 * Bandwidth: streaming reads of a buffer about three times the last-level cache
 * (so sequential passes evict it: each pass comes from DRAM) with the
 * strongest read loop the CPU has, best of at least eight passes and about
 * 0.15 s, with one thread and with several threads reading disjoint parts.
 * Peak: fp32 multiply-add throughput with enough independent chains to hide the
 * latency, scalar and the best SIMD the CPU has, one thread and several.
 * Everything runs once per process, at first use, in about 0.5 s, and is cached.
 *
 * The SIMD probes use __attribute__((target(...))) functions called only after
 * hyperionGetCpuFeatures() says the CPU and OS support them, rather than a
 * kernel group in kernels/: a probe measures the hardware, so it must not follow
 * hyperionEnableSIMD (a user forcing the scalar path must not make the machine
 * look slower), and it is not a kernel with a scalar reference to match.
 */
#include "profiler/profiler_internal.h"
#include "profiler/read_probe.h"

#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define HY_NO_ASAN __attribute__((no_sanitize_address))
#else
#define HY_NO_ASAN
#endif

#define MIB (1024.0 * 1024.0)

static volatile uint64_t probe_sink;
static volatile float probe_sink_f;

/* ------------------------------------------------------------ last-level cache */

static uint64_t parse_cache_size(const char *text) {
    char *end;
    unsigned long long v = strtoull(text, &end, 10);
    if (*end == 'K') v *= 1024ull;
    else if (*end == 'M') v *= 1024ull * 1024ull;
    return v;
}

static uint64_t llc_bytes(void) {
    uint64_t best = 0;
    int best_level = 0;
    for (int i = 0; i < 8; i++) {
        char path[128], text[64];
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
        if (hy_prof_read_text(path, text, sizeof text) <= 0) break;
        int level = atoi(text);
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
        if (hy_prof_read_text(path, text, sizeof text) <= 0) continue;
        uint64_t size = parse_cache_size(text);
        if (level > best_level || (level == best_level && size > best)) {
            best = size;
            best_level = level;
        }
    }
#ifdef _SC_LEVEL3_CACHE_SIZE
    if (!best) {
        long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE), l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
        best = l3 > 0 ? (uint64_t)l3 : l2 > 0 ? (uint64_t)l2 : 0;
    }
#endif
    return best;
}

/* ------------------------------------------------------------ bandwidth */

/* The ceiling must be the fastest rate at which this machine streams reads,
 * or the decode share it implies overstates the kernels (a weak probe once
 * put decode at 118% of "the ceiling"). So each pass runs the strongest read
 * loop the CPU has: 32-byte loads into four accumulators with software
 * prefetch the same distance ahead as the decode kernels (kernels/x86/
 * rows_impl.h: HY_PF_AHEAD), or the portable loop below. */
#define PROBE_PF_AHEAD 4096

/* Sum of a buffer, four independent accumulators (the compiler vectorizes it;
 * the loads, not the adds, are what is measured). */
HY_NO_ASAN static uint64_t stream_read_plain(const uint64_t *p, size_t n) {
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += p[i];
        s1 += p[i + 1];
        s2 += p[i + 2];
        s3 += p[i + 3];
    }
    for (; i < n; i++) s0 += p[i];
    return s0 + s1 + s2 + s3;
}

#if defined(__x86_64__)
/* n words at p (unaligned loads: a guard-page block may end-align the buffer) */
__attribute__((target("avx2"))) HY_NO_ASAN static uint64_t stream_read_avx2(const uint64_t *p, size_t n) {
    const char *c = (const char *)p;
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const char *q = c + i * 8;
        _mm_prefetch(q + PROBE_PF_AHEAD, _MM_HINT_T0);
        _mm_prefetch(q + PROBE_PF_AHEAD + 64, _MM_HINT_T0);
        a0 = _mm256_add_epi64(a0, _mm256_loadu_si256((const __m256i *)q));
        a1 = _mm256_add_epi64(a1, _mm256_loadu_si256((const __m256i *)(q + 32)));
        a2 = _mm256_add_epi64(a2, _mm256_loadu_si256((const __m256i *)(q + 64)));
        a3 = _mm256_add_epi64(a3, _mm256_loadu_si256((const __m256i *)(q + 96)));
    }
    const __m256i s = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
    uint64_t sum = (uint64_t)_mm256_extract_epi64(s, 0) + (uint64_t)_mm256_extract_epi64(s, 1) +
                   (uint64_t)_mm256_extract_epi64(s, 2) + (uint64_t)_mm256_extract_epi64(s, 3);
    for (; i < n; i++) sum += p[i];
    return sum;
}
#endif

typedef uint64_t (*stream_fn)(const uint64_t *p, size_t n);

static stream_fn best_stream(void) {
#if defined(__x86_64__)
    if (hyperionGetCpuFeatures()->avx2) return stream_read_avx2;
#endif
    return stream_read_plain;
}

/* Threads of a probe start together: `go` holds the number of threads taking
 * part (0 until all that could be created exist; one that cannot be created is
 * left out), and each waits until that many have arrived, so no thread starts
 * its timed work while another is still being scheduled. */
typedef struct start_gate {
    atomic_int go;
    atomic_int arrived;
} start_gate;

static void wait_go(start_gate *g) {
    atomic_fetch_add_explicit(&g->arrived, 1, memory_order_acq_rel);
    int n;
    while ((n = atomic_load_explicit(&g->go, memory_order_acquire)) == 0 ||
           atomic_load_explicit(&g->arrived, memory_order_acquire) < n)
        sched_yield();
}

typedef struct bw_job {
    stream_fn reader;
    const uint64_t *p;
    size_t n;
    start_gate *go;
    uint64_t t_start, t_end, sum;
} bw_job;

static void *bw_thread(void *arg) {
    bw_job *j = arg;
    wait_go(j->go);
    j->t_start = hy_clock_monotonic_ns();
    j->sum = j->reader(j->p, j->n);
    j->t_end = hy_clock_monotonic_ns();
    return NULL;
}

#define PROBE_MAX_THREADS 16

/* One pass over buf by `threads` threads, disjoint parts; GB/s, 0 on failure. */
static double bandwidth_pass(stream_fn reader, const uint64_t *buf, size_t words, int threads) {
    if (threads < 1) threads = 1;
    if (threads > PROBE_MAX_THREADS) threads = PROBE_MAX_THREADS;
    bw_job jobs[PROBE_MAX_THREADS];
    pthread_t tids[PROBE_MAX_THREADS];
    start_gate go = { 0, 0 };
    size_t part = words / (size_t)threads / 16 * 16;
    int started = 1;
    for (int t = 0; t < threads; t++) {
        jobs[t] = (bw_job){ reader, buf + part * (size_t)t, t == threads - 1 ? words - part * (size_t)t : part, &go, 0, 0, 0 };
        if (t > 0) {
            if (pthread_create(&tids[t], NULL, bw_thread, &jobs[t]) != 0) break;
            started++;
        }
    }
    atomic_store_explicit(&go.go, started, memory_order_release);
    bw_thread(&jobs[0]);   /* the calling thread reads part 0 */
    for (int t = 1; t < started; t++) pthread_join(tids[t], NULL);
    uint64_t t0 = UINT64_MAX, t1 = 0, sum = 0;
    size_t read = 0;
    for (int t = 0; t < started; t++) {
        if (jobs[t].t_start < t0) t0 = jobs[t].t_start;
        if (jobs[t].t_end > t1) t1 = jobs[t].t_end;
        sum += jobs[t].sum;
        read += jobs[t].n;
    }
    probe_sink += sum;
    if (t1 <= t0) return 0;
    return (double)(read * sizeof(uint64_t)) / (double)(t1 - t0);   /* bytes per ns == GB/s */
}

/* Best pass of at least `passes`, going on until about `seconds` have passed
 * (at most 4x the passes): a pass of 100 MiB lasts ~5 ms, and on a shared or
 * virtual machine a few of them land in someone else's burst of traffic. */
static double best_bandwidth(const uint64_t *buf, size_t words, int threads, int passes, double seconds) {
    const stream_fn reader = best_stream();
    const uint64_t t0 = hy_clock_monotonic_ns();
    double best = 0;
    for (int i = 0; i < 4 * passes; i++) {
        double g = bandwidth_pass(reader, buf, words, threads);
        if (g > best) best = g;
        if (i + 1 >= passes && (double)(hy_clock_monotonic_ns() - t0) / 1e9 >= seconds) break;
    }
    return best;
}

/* The probe reads memory in the page size the weights get. A model file
 * read from disk is mapped with 2 MiB entries where the kernel has large
 * folios (see gguf_write.c), and decode then takes no TLB miss per 4 KiB; a
 * probe over 4 KiB pages would read ~3% slower on the VM here (22.5 vs 23.3
 * GB/s at 2 threads) and understate the ceiling. So the 2 MiB stretches
 * inside the buffer ask for huge pages while the probe runs, and are set back to no
 * huge pages before the buffer returns to the pool (the kernel has no "back
 * to the default": under THP "madvise", the default, both behave alike). */
static void probe_huge_pages(void *buf, size_t bytes, int on) {
#if defined(MADV_HUGEPAGE) && defined(MADV_NOHUGEPAGE)
    const uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t begin = ((uintptr_t)buf + huge - 1) & ~(huge - 1), end = ((uintptr_t)buf + bytes) & ~(huge - 1);
    if (end > begin) (void)madvise((void *)begin, end - begin, on ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
#else
    (void)buf, (void)bytes, (void)on;
#endif
}

static void free_probe_buffer(uint64_t *buf, size_t bytes) {
    probe_huge_pages(buf, bytes, 0);
    hyperionFree(buf);
}

static uint64_t *alloc_probe_buffer(size_t *bytes) {
    size_t want = *bytes;
    while (want >= (size_t)(8 * MIB)) {
        uint64_t *buf = hyperionAlloc(want, HY_PROF_TAG);
        if (buf) {
            probe_huge_pages(buf, want, 1);
            /* first touch: page faults happen here, not in the timed passes */
            size_t words = want / sizeof(uint64_t);
            for (size_t i = 0; i < words; i++) buf[i] = i;
            *bytes = want;
            return buf;
        }
        want /= 2;
    }
    return NULL;
}

double hy_roofline_probe_bandwidth(size_t bytes, int threads, int passes) {
    uint64_t *buf = alloc_probe_buffer(&bytes);
    if (!buf) return 0;
    double g = best_bandwidth(buf, bytes / sizeof(uint64_t), threads, passes, 0);
    free_probe_buffer(buf, bytes);
    return g;
}

double hy_roofline_read_bandwidth(const void *buf, size_t bytes, int threads, int passes) {
    if (!buf || bytes < 16 * sizeof(uint64_t) * (size_t)(threads < 1 ? 1 : threads)) return 0;
    return best_bandwidth((const uint64_t *)buf, bytes / sizeof(uint64_t), threads, passes < 1 ? 1 : passes, 0);
}

/* ------------------------------------------------------------ peak arithmetic */

/* Each returns the floating-point operations done: a*b+c counts 2 per lane. */
static double fma_scalar(uint64_t iters) {
    float a0 = 1, a1 = 2, a2 = 3, a3 = 4, a4 = 5, a5 = 6, a6 = 7, a7 = 8;
    const float b = 0.999999f, c = 0.001f;
    for (uint64_t i = 0; i < iters; i++) {
        a0 = a0 * b + c; a1 = a1 * b + c; a2 = a2 * b + c; a3 = a3 * b + c;
        a4 = a4 * b + c; a5 = a5 * b + c; a6 = a6 * b + c; a7 = a7 * b + c;
#if defined(__x86_64__)
        /* keep the eight chains scalar: no vectorizing across them */
        __asm__ volatile("" : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(a4), "+x"(a5), "+x"(a6), "+x"(a7));
#endif
    }
    probe_sink_f = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
    return (double)iters * 8 * 2;
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) static double fma_avx2(uint64_t iters) {
    __m256 a[10];
    for (int k = 0; k < 10; k++) a[k] = _mm256_set1_ps((float)(k + 1));
    const __m256 b = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(0.001f);
    for (uint64_t i = 0; i < iters; i++) {
        a[0] = _mm256_fmadd_ps(a[0], b, c); a[1] = _mm256_fmadd_ps(a[1], b, c);
        a[2] = _mm256_fmadd_ps(a[2], b, c); a[3] = _mm256_fmadd_ps(a[3], b, c);
        a[4] = _mm256_fmadd_ps(a[4], b, c); a[5] = _mm256_fmadd_ps(a[5], b, c);
        a[6] = _mm256_fmadd_ps(a[6], b, c); a[7] = _mm256_fmadd_ps(a[7], b, c);
        a[8] = _mm256_fmadd_ps(a[8], b, c); a[9] = _mm256_fmadd_ps(a[9], b, c);
    }
    __m256 s = a[0];
    for (int k = 1; k < 10; k++) s = _mm256_add_ps(s, a[k]);
    float lanes[8];
    _mm256_storeu_ps(lanes, s);
    probe_sink_f = lanes[0] + lanes[7];
    return (double)iters * 10 * 8 * 2;
}

__attribute__((target("avx512f"))) static double fma_avx512(uint64_t iters) {
    __m512 a[16];
    for (int k = 0; k < 16; k++) a[k] = _mm512_set1_ps((float)(k + 1));
    const __m512 b = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(0.001f);
    for (uint64_t i = 0; i < iters; i++) {
        for (int k = 0; k < 16; k++) a[k] = _mm512_fmadd_ps(a[k], b, c);
    }
    __m512 s = a[0];
    for (int k = 1; k < 16; k++) s = _mm512_add_ps(s, a[k]);
    probe_sink_f = _mm512_reduce_add_ps(s);
    return (double)iters * 16 * 16 * 2;
}
#endif

typedef double (*fma_fn)(uint64_t iters);

/* The best FMA loop this CPU runs, and its name. */
static fma_fn best_simd(const char **isa) {
#if defined(__x86_64__)
    const hyperion_cpu_features *f = hyperionGetCpuFeatures();
    if (f->avx512f) {
        *isa = "avx512";
        return fma_avx512;
    }
    if (f->avx2 && f->fma) {
        *isa = "avx2";
        return fma_avx2;
    }
#endif
    *isa = "scalar";
    return fma_scalar;
}

typedef struct fma_job {
    fma_fn fn;
    uint64_t iters;
    start_gate *go;
    uint64_t t_start, t_end;
    double flops;
} fma_job;

static void *fma_thread(void *arg) {
    fma_job *j = arg;
    wait_go(j->go);
    j->t_start = hy_clock_monotonic_ns();
    j->flops = j->fn(j->iters);
    j->t_end = hy_clock_monotonic_ns();
    return NULL;
}

/* GFLOP/s of fn on `threads` threads running iters each. */
static double fma_run(fma_fn fn, uint64_t iters, int threads) {
    if (threads < 1) threads = 1;
    if (threads > PROBE_MAX_THREADS) threads = PROBE_MAX_THREADS;
    fma_job jobs[PROBE_MAX_THREADS];
    pthread_t tids[PROBE_MAX_THREADS];
    start_gate go = { 0, 0 };
    int started = 1;
    for (int t = 0; t < threads; t++) {
        jobs[t] = (fma_job){ fn, iters, &go, 0, 0, 0 };
        if (t > 0) {
            if (pthread_create(&tids[t], NULL, fma_thread, &jobs[t]) != 0) break;
            started++;
        }
    }
    atomic_store_explicit(&go.go, started, memory_order_release);
    fma_thread(&jobs[0]);
    for (int t = 1; t < started; t++) pthread_join(tids[t], NULL);
    uint64_t t0 = UINT64_MAX, t1 = 0;
    double flops = 0;
    for (int t = 0; t < started; t++) {
        if (jobs[t].t_start < t0) t0 = jobs[t].t_start;
        if (jobs[t].t_end > t1) t1 = jobs[t].t_end;
        flops += jobs[t].flops;
    }
    return t1 > t0 ? flops / (double)(t1 - t0) : 0;   /* flops per ns == GFLOP/s */
}

/* Calibrate to about `seconds` per run, best of two runs. */
static double fma_peak(fma_fn fn, int threads, double seconds) {
    uint64_t iters = 1u << 12;
    double rate = fma_run(fn, iters, 1);                          /* GFLOP/s */
    double flops_per_iter = fn == fma_scalar ? 16.0 : 0;
#if defined(__x86_64__)
    if (fn == fma_avx2) flops_per_iter = 160.0;
    if (fn == fma_avx512) flops_per_iter = 512.0;
#endif
    if (rate > 0 && flops_per_iter > 0) {
        double want = seconds * 1e9 * rate / flops_per_iter;
        iters = want < 4096 ? 4096 : want > 4e9 ? (uint64_t)4e9 : (uint64_t)want;
    }
    double best = 0;
    for (int run = 0; run < (threads > 1 ? 3 : 2); run++) {
        double g = fma_run(fn, iters, threads);
        if (g > best) best = g;
    }
    return best;
}

double hy_roofline_probe_peak(int simd, int threads, double seconds) {
    const char *isa;
    fma_fn fn = simd ? best_simd(&isa) : fma_scalar;
    return fma_peak(fn, threads, seconds);
}

/* ------------------------------------------------------------ the cached limits */

static pthread_mutex_t limits_lock = PTHREAD_MUTEX_INITIALIZER;
static hyperion_machine_limits limits;
static int limits_ready;

static void measure(hyperion_machine_limits *m) {
    uint64_t t_begin = hy_clock_monotonic_ns();
    memset(m, 0, sizeof *m);
    const hyperion_cpu_features *f = hyperionGetCpuFeatures();
    int cores = f->logical_cores > 0 ? f->logical_cores : 1;
    m->mt_threads = cores >= 2 ? (cores < 8 ? cores : 8) : 1;
    m->llc_bytes = llc_bytes();

    size_t bytes = m->llc_bytes ? (size_t)m->llc_bytes * 3 : (size_t)(128 * MIB);
    if (bytes < (size_t)(32 * MIB)) bytes = (size_t)(32 * MIB);
    if (bytes > (size_t)(192 * MIB)) bytes = (size_t)(192 * MIB);
    uint64_t *buf = alloc_probe_buffer(&bytes);
    if (buf) {
        size_t words = bytes / sizeof(uint64_t);
        m->probe_buffer_bytes = bytes;
        m->bandwidth_gbps = best_bandwidth(buf, words, 1, 8, 0.15);
        m->bandwidth_gbps_mt = m->mt_threads > 1 ? best_bandwidth(buf, words, m->mt_threads, 8, 0.15) : m->bandwidth_gbps;
        free_probe_buffer(buf, bytes);
    }
    m->peak_gflops_scalar = fma_peak(fma_scalar, 1, 0.010);
    fma_fn simd = best_simd(&m->simd_isa);
    m->peak_gflops_simd = simd == fma_scalar ? m->peak_gflops_scalar : fma_peak(simd, 1, 0.015);
    m->peak_gflops_simd_mt = m->mt_threads > 1 ? fma_peak(simd, m->mt_threads, 0.015) : m->peak_gflops_simd;
    /* a busy machine can make the shared figure come out below one thread's */
    if (m->bandwidth_gbps_mt < m->bandwidth_gbps) m->bandwidth_gbps_mt = m->bandwidth_gbps;
    if (m->peak_gflops_simd_mt < m->peak_gflops_simd) m->peak_gflops_simd_mt = m->peak_gflops_simd;
    m->probe_ms = (double)(hy_clock_monotonic_ns() - t_begin) / 1e6;
}

hyperion_status hyperionGetMachineLimits(hyperion_machine_limits *out) {
    if (!out)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", "out") }),
                             "output pointer must not be NULL");
    pthread_mutex_lock(&limits_lock);
    if (!limits_ready) {
        measure(&limits);
        limits_ready = 1;
        HY_LOG(HYPERION_LOG_INFO, HYPERION_LOG_PERFORMANCE,
               "machine limits: %.1f GB/s (1 thread), %.1f GB/s (%d threads), %.1f GFLOP/s scalar, %.1f GFLOP/s %s, "
               "%.1f GFLOP/s %s x%d; measured in %.0f ms",
               limits.bandwidth_gbps, limits.bandwidth_gbps_mt, limits.mt_threads, limits.peak_gflops_scalar,
               limits.peak_gflops_simd, limits.simd_isa, limits.peak_gflops_simd_mt, limits.simd_isa,
               limits.mt_threads, limits.probe_ms);
    }
    *out = limits;
    pthread_mutex_unlock(&limits_lock);
    if (!(limits.bandwidth_gbps > 0) || !(limits.peak_gflops_simd > 0))
        return HY_RAISE(HYPERION_INTERNAL, "the bandwidth probe needs about 100 MiB of memory",
                        "could not measure this machine's limits (bandwidth %.3g GB/s, peak %.3g GFLOP/s)",
                        limits.bandwidth_gbps, limits.peak_gflops_simd);
    return HYPERION_OK;
}

/* ------------------------------------------------------------ verdicts */

const char *hy_bound_name(hy_bound b) {
    switch (b) {
    case HY_BOUND_MEMORY: return "memory";
    case HY_BOUND_COMPUTE: return "compute";
    default: return "unknown";
    }
}

static void op_label(const hy_prof_op *op, char *out, size_t size) {
    if (op->type) snprintf(out, size, "%.100s (%.40s)", op->name, op->type);
    else snprintf(out, size, "%.100s", op->name);
}

void hy_roofline_judge(const hy_prof_op *op, const hyperion_machine_limits *m, hy_verdict *v) {
    memset(v, 0, sizeof *v);
    char label[160];
    op_label(op, label, sizeof label);
    v->threads = op->wall_ns ? (double)op->total_ns / (double)op->wall_ns : 1.0;
    if (v->threads < 1.0) v->threads = 1.0;
    if (!op->has_meta || op->wall_ns == 0) {
        v->bound = HY_BOUND_UNKNOWN;
        snprintf(v->recommendation, sizeof v->recommendation,
                 "%s has no bytes or flops recorded: add them to its zone to judge it against the machine", label);
        return;
    }
    /* the machine figures at the op's average concurrency, between 1 and mt threads */
    double c = v->threads < (double)m->mt_threads ? v->threads : (double)m->mt_threads;
    double frac = m->mt_threads > 1 ? (c - 1.0) / (double)(m->mt_threads - 1) : 0.0;
    v->limit_gbps = m->bandwidth_gbps + (m->bandwidth_gbps_mt - m->bandwidth_gbps) * frac;
    v->limit_gflops = m->peak_gflops_simd + (m->peak_gflops_simd_mt - m->peak_gflops_simd) * frac;
    v->achieved_gbps = (double)op->bytes / (double)op->wall_ns;
    v->achieved_gflops = (double)op->flops / (double)op->wall_ns;
    v->intensity = op->bytes ? (double)op->flops / (double)op->bytes : INFINITY;
    v->machine_balance = v->limit_gbps > 0 ? v->limit_gflops / v->limit_gbps : INFINITY;
    v->bound = v->intensity < v->machine_balance ? HY_BOUND_MEMORY : HY_BOUND_COMPUTE;
    int pct;
    if (v->bound == HY_BOUND_MEMORY) {
        v->efficiency = v->limit_gbps > 0 ? v->achieved_gbps / v->limit_gbps : 0;
        pct = (int)lround(v->efficiency * 100);
        if (v->efficiency >= 0.6)
            snprintf(v->recommendation, sizeof v->recommendation,
                     "%s runs at %d%% of measured bandwidth (%.1f of %.1f GB/s): it is memory-bound, so moving fewer "
                     "bytes is the lever (a smaller quant type, or fusing it with its neighbours)",
                     label, pct, v->achieved_gbps, v->limit_gbps);
        else
            snprintf(v->recommendation, sizeof v->recommendation,
                     "%s is memory-bound but reaches only %d%% of measured bandwidth (%.1f of %.1f GB/s): contiguous "
                     "access, prefetching or more threads come before a smaller quant type",
                     label, pct, v->achieved_gbps, v->limit_gbps);
    } else {
        v->efficiency = v->limit_gflops > 0 ? v->achieved_gflops / v->limit_gflops : 0;
        pct = (int)lround(v->efficiency * 100);
        if (v->efficiency >= 0.6)
            snprintf(v->recommendation, sizeof v->recommendation,
                     "%s is compute-bound at %d%% of peak (%.1f of %.1f GFLOP/s): only less arithmetic helps "
                     "(a cheaper kernel or algorithm)",
                     label, pct, v->achieved_gflops, v->limit_gflops);
        else
            snprintf(v->recommendation, sizeof v->recommendation,
                     "%s is compute-bound at %d%% of peak (%.1f of %.1f GFLOP/s): more threads or a SIMD path",
                     label, pct, v->achieved_gflops, v->limit_gflops);
    }
}
