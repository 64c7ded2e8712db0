/* test_profiler_probes.c — the machine-limit probes, the roofline verdicts,
 * hotspots and the bottleneck report. */
#include "harness.h"
#include "test_profiler_json.h"

#include "profiler/profiler_internal.h"
#include "profiler/read_probe.h"

#include <stdlib.h>

static int positive_finite(double x) {
    return isfinite(x) && x > 0;
}

/* Zones recorded with explicit times count when they start inside the
 * session's window, so the session must outlast them. */
static void wait_past(uint64_t t) {
    while (hyperionProfilerNow() <= t + 200000) {}
}

HY_TEST(profiler_machine_limits_are_positive_finite_and_cached) {
    hyperion_machine_limits m, again;
    HY_REQUIRE(hyperionGetMachineLimits(&m) == HYPERION_OK);
    printf("    bandwidth %.2f GB/s (1 thread), %.2f GB/s (%d threads); peak %.2f GFLOP/s scalar, %.2f %s, %.2f %s x%d; "
           "LLC %.1f MiB, buffer %.0f MiB, probes %.0f ms\n",
           m.bandwidth_gbps, m.bandwidth_gbps_mt, m.mt_threads, m.peak_gflops_scalar, m.peak_gflops_simd, m.simd_isa,
           m.peak_gflops_simd_mt, m.simd_isa, m.mt_threads, (double)m.llc_bytes / 1048576.0,
           (double)m.probe_buffer_bytes / 1048576.0, m.probe_ms);
    HY_CHECK(positive_finite(m.bandwidth_gbps));
    HY_CHECK(positive_finite(m.bandwidth_gbps_mt));
    HY_CHECK(positive_finite(m.peak_gflops_scalar));
    HY_CHECK(positive_finite(m.peak_gflops_simd));
    HY_CHECK(positive_finite(m.peak_gflops_simd_mt));
    HY_CHECK(m.mt_threads >= 1);
    HY_CHECK(m.simd_isa != NULL);
    HY_CHECK(m.probe_buffer_bytes >= 8u * 1024 * 1024);
    if (m.llc_bytes) HY_CHECK(m.probe_buffer_bytes > m.llc_bytes);
    uint64_t t0 = hyperionProfilerNow();
    HY_REQUIRE(hyperionGetMachineLimits(&again) == HYPERION_OK);
    HY_CHECK(hyperionProfilerNow() - t0 < 10000000ull);   /* cached: no second probe */
    HY_CHECK(again.bandwidth_gbps == m.bandwidth_gbps && again.peak_gflops_simd == m.peak_gflops_simd);
    HY_CHECK_INT(hyperionGetMachineLimits(NULL), HYPERION_INVALID_ARGUMENT);
}

HY_TEST(profiler_probe_parts_measure_something) {
    double bw = hy_roofline_probe_bandwidth(16u * 1024 * 1024, 2, 1);
    double scalar = hy_roofline_probe_peak(0, 1, 0.002), simd = hy_roofline_probe_peak(1, 1, 0.002);
    HY_CHECK(positive_finite(bw));
    HY_CHECK(positive_finite(scalar));
    HY_CHECK(positive_finite(simd));
}

/* The read probe over memory the caller has (the engine benchmark points it
 * at a model's mapped weights): a rate for readable memory, 0 for no memory or
 * too little to split between the threads, and the memory is not written. */
HY_TEST(profiler_read_probe_reads_callers_memory) {
    const size_t bytes = 8u * 1024 * 1024;
    uint64_t *buf = hyperionAlloc(bytes, HYPERION_TAG_SCRATCH);
    HY_CHECK(buf != NULL);
    if (!buf) return;
    for (size_t i = 0; i < bytes / 8; i++) buf[i] = i * 2654435761u;
    HY_CHECK(positive_finite(hy_roofline_read_bandwidth(buf, bytes, 2, 2)));
    HY_CHECK(positive_finite(hy_roofline_read_bandwidth((const uint8_t *)buf + 8, bytes - 8, 1, 1)));
    HY_CHECK(hy_roofline_read_bandwidth(NULL, bytes, 2, 1) == 0);
    HY_CHECK(hy_roofline_read_bandwidth(buf, 64, 2, 1) == 0);
    int same = 1;
    for (size_t i = 0; i < bytes / 8; i++) same &= buf[i] == i * 2654435761u;
    HY_CHECK(same);
    hyperionFree(buf);
}

static hyperion_machine_limits fake_limits(void) {
    hyperion_machine_limits m;
    memset(&m, 0, sizeof m);
    m.bandwidth_gbps = 10;
    m.bandwidth_gbps_mt = 16;
    m.mt_threads = 2;
    m.peak_gflops_scalar = 5;
    m.peak_gflops_simd = 100;
    m.peak_gflops_simd_mt = 200;
    m.simd_isa = "avx2";
    return m;
}

HY_TEST(profiler_roofline_judges_against_the_limits) {
    hyperion_machine_limits m = fake_limits();   /* balance 10 flop/byte at one thread */
    hy_prof_op op;
    memset(&op, 0, sizeof op);
    op.name = "matmul";
    op.type = "q4_0";
    op.has_meta = 1;
    op.wall_ns = op.total_ns = 1000000;          /* 1 ms on one thread */
    op.bytes = 9100000;                          /* 9.1 GB/s = 91% of 10 */
    op.flops = 2 * op.bytes / 4;                 /* 0.5 flop/byte */
    hy_verdict v;
    hy_roofline_judge(&op, &m, &v);
    HY_CHECK_INT(v.bound, HY_BOUND_MEMORY);
    HY_CHECK_NEAR(v.efficiency, 0.91, 1e-9);
    HY_CHECK(strstr(v.recommendation, "91% of measured bandwidth") != NULL);
    HY_CHECK(strstr(v.recommendation, "smaller quant type") != NULL);

    op.name = "attention";
    op.type = NULL;
    op.bytes = 1000;
    op.flops = 30000000;                          /* 30 GFLOP/s = 30% of 100 */
    hy_roofline_judge(&op, &m, &v);
    HY_CHECK_INT(v.bound, HY_BOUND_COMPUTE);
    HY_CHECK_NEAR(v.efficiency, 0.30, 1e-9);
    HY_CHECK(strstr(v.recommendation, "compute-bound at 30% of peak") != NULL);
    HY_CHECK(strstr(v.recommendation, "more threads or a SIMD path") != NULL);

    /* two threads busy: compared with the two-thread figures */
    op.total_ns = 2 * op.wall_ns;
    hy_roofline_judge(&op, &m, &v);
    HY_CHECK_NEAR(v.limit_gflops, 200, 1e-9);
    HY_CHECK_NEAR(v.threads, 2.0, 1e-9);

    op.has_meta = 0;
    hy_roofline_judge(&op, &m, &v);
    HY_CHECK_INT(v.bound, HY_BOUND_UNKNOWN);
    HY_CHECK(strstr(v.recommendation, "no bytes or flops") != NULL);
}

HY_TEST(profiler_hotspots_and_bottlenecks_report_in_plain_words) {
    hyperion_profiler_config c;
    hyperionProfilerConfigDefaults(&c);
    c.sample_interval_ms = 0;
    c.buffer_events = 1024;
    HY_REQUIRE(hyperionInitProfiler(&c) == HYPERION_OK);
    HY_REQUIRE(hyperionStartProfiling() == HYPERION_OK);
    uint64_t t = hyperionProfilerNow();
    /* a streaming op (0.01 flop/byte) and a dense one (10000 flop/byte) */
    for (int i = 0; i < 10; i++) {
        hyperion_zone_meta stream = { .layer = i, .type = "q4_0", .bytes = 4000000, .flops = 40000 };
        hyperion_zone_meta dense = { .layer = i, .type = "f32", .bytes = 100, .flops = 1000000 };
        hyperionProfilerRecordZone("matmul", HYPERION_ZONE_OP, t, t + 1000000, &stream);
        hyperionProfilerRecordZone("attention", HYPERION_ZONE_OP, t + 1000000, t + 1100000, &dense);
        hyperionProfilerRecordZone("rope", HYPERION_ZONE_OP, t + 1100000, t + 1110000, NULL);
        t += 1200000;
    }
    wait_past(t);
    HY_REQUIRE(hyperionStopProfiling() == HYPERION_OK);

    char *json = NULL, err[128];
    HY_REQUIRE(hyperionGetHotspots(2, &json) == HYPERION_OK);
    tj_value *h = tj_parse(json, err, sizeof err);
    if (!h) printf("    hotspots are not JSON: %s\n", err);
    HY_REQUIRE(h != NULL);
    const tj_value *list = tj_get(h, "hotspots");
    HY_REQUIRE(list && list->n == 2);
    HY_CHECK_STR(tj_str(tj_get(tj_at(list, 0), "name")), "matmul");
    HY_CHECK_STR(tj_str(tj_get(tj_at(list, 0), "bound")), "memory");
    HY_CHECK_STR(tj_str(tj_get(tj_at(list, 1), "name")), "attention");
    HY_CHECK_STR(tj_str(tj_get(tj_at(list, 1), "bound")), "compute");
    HY_CHECK(strstr(tj_str(tj_get(tj_at(list, 0), "recommendation")), "bandwidth") != NULL);
    HY_CHECK(positive_finite(tj_num(tj_get(tj_get(h, "machine"), "bandwidthGbps"))));
    tj_free(h);
    hyperionFree(json);

    HY_REQUIRE(hyperionAnalyzeBottlenecks(&json) == HYPERION_OK);
    tj_value *b = tj_parse(json, err, sizeof err);
    if (!b) printf("    bottlenecks are not JSON: %s\n", err);
    HY_REQUIRE(b != NULL);
    HY_CHECK_INT(tj_get(b, "ops")->n, 3);
    HY_CHECK_STR(tj_str(tj_get(tj_at(tj_get(b, "ops"), 2), "bound")), "unknown");
    const tj_value *findings = tj_get(b, "findings");
    HY_CHECK(findings && findings->n >= 1);
    HY_CHECK(strstr(tj_str(tj_get(b, "headline")), "matmul (q4_0) takes") != NULL);
    if (getenv("HY_PRINT_PROFILE")) printf("    %s\n", tj_str(tj_get(b, "headline")));
    tj_free(b);
    hyperionFree(json);
    hyperionShutdownProfiler();
}
