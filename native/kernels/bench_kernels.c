/*
 * bench_kernels.c — a hand-built benchmark of the weight-matrix kernels (not
 * part of the library or of sources.json; speed is measured here, never
 * asserted in tests).
 *
 *   cmake --build build-native    # libhyperion_core.a
 *   gcc -O3 -DHYPERION_KERNEL_BENCH_MAIN -Inative/include -Inative \
 *       native/kernels/bench_kernels.c build-native/libhyperion_core.a -lpthread -lm -ldl -lz \
 *       -o /tmp/bench_kernels && /tmp/bench_kernels [threads]
 *
 * Prints, for each weight type at the tinyllama-1.1b shapes:
 *  - matvec (decode) GB/s of weights streamed from DRAM ("cold": cycling
 *    through enough copies of the matrix to defeat the caches) and from the
 *    caches ("hot": one copy, repeated); the best call time is used, so a
 *    shared machine disturbs the figures less;
 *  - matmul (prompt processing) GFLOP/s of that matrix for 64 and 512 tokens
 *    (best of 3; thread CPU time with 1 thread, wall time otherwise);
 *  - the machine's streaming-read bandwidth with a plain summing loop, and
 *    with the same loop prefetching 2 KiB ahead as the kernels do, for
 *    comparison (the higher one is the ceiling to compare against).
 * With a thread count > 1, rows are split between threads like the runtime's
 * pool does (contiguous row ranges).
 */
#ifdef HYPERION_KERNEL_BENCH_MAIN

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hyperion.h"
#include "kernels/matmul.h"
#include "kernels/quant.h"
#include "kernels/types.h"

static double cpu_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- plain streaming read ---- */

typedef struct { const uint64_t *p; size_t n; uint64_t sum; int prefetch; } read_job;

static void *read_worker(void *arg) {
    read_job *j = arg;
    uint64_t a = 0, b = 0, c = 0, d = 0;
    for (size_t i = 0; i + 4 <= j->n; i += 4) {
        if (j->prefetch && i % 8 == 0) __builtin_prefetch(j->p + i + 256); /* 2 KiB ahead, as the kernels do */
        a += j->p[i];
        b += j->p[i + 1];
        c += j->p[i + 2];
        d += j->p[i + 3];
    }
    j->sum = a + b + c + d;
    return NULL;
}

/* Streaming read of a 1 GiB buffer, timed in 32 MiB chunks per thread; the
 * best chunk rate is reported (the least disturbed one on a shared machine,
 * the same rule as the matrix-vector figures). */
static double stream_read_gbs(int threads, int prefetch) {
    const size_t bytes = (size_t)1 << 30, n = bytes / 8, chunk = ((size_t)32 << 20) / 8;
    uint64_t *buf = aligned_alloc(64, bytes);
    for (size_t i = 0; i < n; i++) buf[i] = i;
    double best = 0;
    for (int rep = 0; rep < 3; rep++)
        for (size_t c0 = 0; c0 + chunk * threads <= n; c0 += chunk * threads) {
            pthread_t th[64];
            read_job jobs[64];
            const double t0 = now_s();
            for (int t = 0; t < threads; t++) {
                jobs[t] = (read_job){ buf + c0 + chunk * t, chunk, 0, prefetch };
                pthread_create(&th[t], NULL, read_worker, &jobs[t]);
            }
            uint64_t sum = 0;
            for (int t = 0; t < threads; t++) {
                pthread_join(th[t], NULL);
                sum += jobs[t].sum;
            }
            const double gbs = (double)chunk * 8 * threads / (now_s() - t0) / 1e9;
            if (gbs > best) best = gbs;
            if (sum == 42) printf(" "); /* keep the sum alive */
        }
    free(buf);
    return best;
}

/* ---- matrix kernels ---- */

typedef struct {
    const hy_tensor *w;
    const void *xq;
    size_t xq_row_bytes;
    float *y;
    int64_t n_tokens, r0, r1;
} mm_job;

static void *mm_worker(void *arg) {
    mm_job *j = arg;
    if (j->n_tokens == 1) hy_matvec(j->w, j->xq, j->y, j->r0, j->r1);
    else hy_matmul(j->w, j->xq, j->xq_row_bytes, j->y, j->n_tokens, j->r0, j->r1);
    return NULL;
}

static void run(const hy_tensor *w, const void *xq, size_t xrb, float *y, int64_t n_tokens, int threads) {
    const int64_t rows = (int64_t)hy_tensor_rows(w);
    if (threads == 1) {
        mm_job j = { w, xq, xrb, y, n_tokens, 0, rows };
        mm_worker(&j);
        return;
    }
    pthread_t th[64];
    mm_job jobs[64];
    for (int t = 0; t < threads; t++) {
        jobs[t] = (mm_job){ w, xq, xrb, y, n_tokens, rows * t / threads, rows * (t + 1) / threads };
        pthread_create(&th[t], NULL, mm_worker, &jobs[t]);
    }
    for (int t = 0; t < threads; t++) pthread_join(th[t], NULL);
}

static void bench_type(uint32_t type, int64_t rows, int64_t n_in, int threads) {
    const hy_type_info *info = hy_type_get(type);
    const size_t rb = hy_type_row_bytes(type, (uint64_t)n_in), bytes = rb * (size_t)rows;
    /* 64 distinct quantized rows, replicated (content does not matter for speed) */
    uint8_t *proto = malloc(rb * 64);
    float *f = malloc(sizeof(float) * (size_t)n_in);
    unsigned seed = 1;
    for (int r = 0; r < 64; r++) {
        for (int64_t i = 0; i < n_in; i++) {
            seed = seed * 1664525u + 1013904223u;
            f[i] = ((float)(seed >> 8) / 16777216.0f - 0.5f) * 0.05f;
        }
        hy_quantize_row(type, f, proto + rb * r, n_in);
    }
    const int copies = (int)((600u << 20) / bytes + 2);
    uint8_t **mats = malloc(sizeof(uint8_t *) * copies);
    hy_tensor *ws = malloc(sizeof(hy_tensor) * copies);
    for (int c = 0; c < copies; c++) {
        mats[c] = aligned_alloc(64, (bytes + 63) / 64 * 64);
        for (int64_t r = 0; r < rows; r++) memcpy(mats[c] + rb * r, proto + rb * (r % 64), rb);
        ws[c] = (hy_tensor){ "w", type, 2, { (uint64_t)n_in, (uint64_t)rows, 1, 1 }, rb, bytes, mats[c], 0 };
    }
    if (hy_matmul_supported(&ws[0]) != HYPERION_OK) {
        printf("unsupported\n");
        return;
    }
    const int max_tok = 512;
    const size_t xrb = hy_activation_row_bytes(type, n_in);
    uint8_t *xq = malloc(xrb * max_tok);
    for (int t = 0; t < max_tok; t++) {
        for (int64_t i = 0; i < n_in; i++) {
            seed = seed * 1664525u + 1013904223u;
            f[i] = (float)(seed >> 8) / 16777216.0f - 0.5f;
        }
        hy_quantize_activations(type, f, xq + xrb * t, n_in);
    }
    float *y = malloc(sizeof(float) * (size_t)rows * max_tok);

    /* decode, cold: a different copy each call, so the weights come from DRAM;
     * hot: the same copy again (from the caches). The machine may be shared:
     * the best call time is reported (the least disturbed one). */
    double best_cold = 1e30, best_hot = 1e30;
    const double t_end = now_s() + 0.6;
    for (int calls = 0; calls < 2 * copies || now_s() < t_end; calls++) {
        const double t0 = now_s();
        run(&ws[calls % copies], xq, xrb, y, 1, threads);
        const double dt = now_s() - t0;
        if (dt < best_cold) best_cold = dt;
    }
    const double h_end = now_s() + 0.4;
    for (int calls = 0; calls < 20 || now_s() < h_end; calls++) {
        const double t0 = now_s();
        run(&ws[0], xq, xrb, y, 1, threads);
        const double dt = now_s() - t0;
        if (calls > 0 && dt < best_hot) best_hot = dt;
    }
    best_cold = (double)bytes / best_cold / 1e9;
    best_hot = (double)bytes / best_hot / 1e9;
    printf("%-5s %6lld x %-5lld %7.1f MB  matvec cold %6.2f GB/s  hot %6.2f GB/s", info->name, (long long)rows,
           (long long)n_in, bytes / 1e6, best_cold, best_hot);
    /* prompt processing (1 thread: thread CPU time, so other processes on a
     * shared machine do not count; more threads: wall time) */
    static const int toks[] = { 64, 512 };
    for (int k = 0; k < 2; k++) {
        const int nt = toks[k];
        double best = 1e30;
        for (int rep = 0; rep < 3; rep++) {
            const double t0 = threads == 1 ? cpu_now_s() : now_s();
            run(&ws[rep % copies], xq, xrb, y, nt, threads);
            const double dt = (threads == 1 ? cpu_now_s() : now_s()) - t0;
            if (dt < best) best = dt;
        }
        printf("  mm%-3d %6.1f GFLOP/s", nt, 2.0 * rows * n_in * nt / best / 1e9);
    }
    printf("\n");
    for (int c = 0; c < copies; c++) free(mats[c]);
    free(mats);
    free(ws);
    free(proto);
    free(f);
    free(xq);
    free(y);
}

int main(int argc, char **argv) {
    const int threads = argc > 1 ? atoi(argv[1]) : 1;
    const char *only = argc > 2 ? argv[2] : NULL;
    hyperion_isa isa;
    hyperionGetKernelIsa("matmul", &isa);
    printf("kernels: matmul group on %s, %d thread(s)\n", hyperionIsaName(isa), threads);
    printf("streaming read (1 GiB, plain summing loop): %.2f GB/s; with software prefetch 2 KiB ahead: %.2f GB/s\n",
           stream_read_gbs(threads, 0), stream_read_gbs(threads, 1));
    static const uint32_t types[] = { HY_TYPE_Q4_0, HY_TYPE_Q8_0, HY_TYPE_Q4_K, HY_TYPE_Q5_K, HY_TYPE_Q6_K,
                                      HY_TYPE_F16, HY_TYPE_BF16, HY_TYPE_F32 };
    static const int64_t shapes[][2] = { { 2048, 2048 }, { 5632, 2048 }, { 2048, 5632 }, { 32000, 2048 } }; /* rows x n_in */
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        if (only && strcmp(only, hy_type_get(types[t])->name) != 0) continue;
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) bench_type(types[t], shapes[s][0], shapes[s][1], threads);
    }
    return 0;
}

#endif /* HYPERION_KERNEL_BENCH_MAIN */
