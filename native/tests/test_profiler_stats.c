/* test_profiler_stats.c — the summary's arithmetic on known inputs:
 * percentiles, sorting, nesting repair, recursion, coverage. Zones are
 * recorded with explicit times (hyperionProfilerRecordZone) so every figure is
 * known exactly. */
#include "harness.h"
#include "test_profiler_json.h"

#include "profiler/profiler_internal.h"

#include <stdlib.h>

static tj_value *summary(void) {
    char *json = NULL;
    if (hyperionGetProfileSummary(&json) != HYPERION_OK) return NULL;
    char err[128];
    tj_value *v = tj_parse(json, err, sizeof err);
    if (!v) printf("    summary is not JSON: %s\n", err);
    hyperionFree(json);
    return v;
}

static const tj_value *find_op(const tj_value *s, const char *name) {
    const tj_value *ops = tj_get(s, "ops");
    for (size_t i = 0; ops && i < ops->n; i++)
        if (strcmp(tj_str(tj_get(tj_at(ops, i), "name")), name) == 0) return tj_at(ops, i);
    return NULL;
}

static void start_session(void) {
    hyperion_profiler_config c;
    hyperionProfilerConfigDefaults(&c);
    c.sample_interval_ms = 0;
    c.buffer_events = 1024;
    HY_CHECK_INT(hyperionInitProfiler(&c), HYPERION_OK);
    HY_CHECK_INT(hyperionStartProfiling(), HYPERION_OK);
}

/* Zones recorded with explicit times count when they start inside the
 * session's window, so the session must outlast them. */
static void wait_past(uint64_t t) {
    while (hyperionProfilerNow() <= t + 200000) {}
}

HY_TEST(profiler_percentile_is_nearest_rank) {
    uint64_t v[100];
    for (int i = 0; i < 100; i++) v[i] = (uint64_t)(i + 1);
    HY_CHECK_INT(hy_prof_percentile(v, 100, 50), 50);
    HY_CHECK_INT(hy_prof_percentile(v, 100, 95), 95);
    HY_CHECK_INT(hy_prof_percentile(v, 100, 99), 99);
    HY_CHECK_INT(hy_prof_percentile(v, 100, 100), 100);
    uint64_t three[3] = { 10, 20, 30 };
    HY_CHECK_INT(hy_prof_percentile(three, 3, 50), 20);
    HY_CHECK_INT(hy_prof_percentile(three, 3, 99), 30);
    HY_CHECK_INT(hy_prof_percentile(three, 1, 50), 10);
    HY_CHECK_INT(hy_prof_percentile(three, 0, 50), 0);
}

static int cmp_u32(const void *ctx, uint32_t a, uint32_t b) {
    const uint32_t *keys = ctx;
    return keys[a] < keys[b] ? -1 : keys[a] > keys[b];
}

HY_TEST(profiler_sorts_are_stable_and_correct) {
    enum { N = 1001 };
    uint64_t *v = malloc(N * sizeof *v), *scratch = malloc(N * sizeof *v);
    uint32_t *idx = malloc(N * sizeof *idx), *iscratch = malloc(N * sizeof *idx), *keys = malloc(N * sizeof *keys);
    uint32_t seed = 12345;
    for (int i = 0; i < N; i++) {
        seed = seed * 1103515245u + 12345u;
        v[i] = seed >> 8;
        keys[i] = (seed >> 20) & 15;   /* many equal keys: stability shows */
        idx[i] = (uint32_t)i;
    }
    hy_prof_sort_u64(v, scratch, N);
    hy_prof_sort_indices(idx, iscratch, N, cmp_u32, keys);
    int ok = 1;
    for (int i = 1; i < N; i++) {
        if (v[i] < v[i - 1]) ok = 0;
        if (keys[idx[i]] < keys[idx[i - 1]]) ok = 0;
        if (keys[idx[i]] == keys[idx[i - 1]] && idx[i] < idx[i - 1]) ok = 0;   /* stable */
    }
    HY_CHECK(ok);
    free(v); free(scratch); free(idx); free(iscratch); free(keys);
}

HY_TEST(profiler_percentiles_of_a_known_distribution) {
    start_session();
    /* 100 calls lasting 1..100 us, recorded in a shuffled order, back to back */
    uint64_t t = hyperionProfilerNow();
    uint32_t order[100];
    for (int i = 0; i < 100; i++) order[i] = (uint32_t)i;
    uint32_t seed = 7;
    for (int i = 99; i > 0; i--) {
        seed = seed * 1103515245u + 12345u;
        uint32_t j = (seed >> 8) % (uint32_t)(i + 1), tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
    for (int i = 0; i < 100; i++) {
        uint64_t d = (uint64_t)(order[i] + 1) * 1000;
        hyperionProfilerRecordZone("dist", HYPERION_ZONE_OP, t, t + d, NULL);
        t += d + 500;
    }
    wait_past(t);
    HY_REQUIRE(hyperionStopProfiling() == HYPERION_OK);
    tj_value *s = summary();
    HY_REQUIRE(s != NULL);
    const tj_value *op = find_op(s, "dist");
    HY_REQUIRE(op != NULL);
    HY_CHECK_INT(tj_num(tj_get(op, "calls")), 100);
    HY_CHECK_NEAR(tj_num(tj_get(op, "p50Ms")), 0.050, 1e-9);
    HY_CHECK_NEAR(tj_num(tj_get(op, "p95Ms")), 0.095, 1e-9);
    HY_CHECK_NEAR(tj_num(tj_get(op, "p99Ms")), 0.099, 1e-9);
    HY_CHECK_NEAR(tj_num(tj_get(op, "minMs")), 0.001, 1e-9);
    HY_CHECK_NEAR(tj_num(tj_get(op, "maxMs")), 0.100, 1e-9);
    HY_CHECK_NEAR(tj_num(tj_get(op, "meanMs")), 0.0505, 1e-9);
    HY_CHECK_NEAR(tj_num(tj_get(op, "totalMs")), 5.050, 1e-9);
    HY_CHECK_NEAR(tj_num(tj_get(op, "selfMs")), 5.050, 1e-9);
    HY_CHECK_NEAR(tj_num(tj_get(op, "wallMs")), 5.050, 1e-9);
    HY_CHECK_NEAR(tj_num(tj_get(s, "coveredMs")), 5.050, 1e-9);
    tj_free(s);
    hyperionShutdownProfiler();
}

HY_TEST(profiler_children_are_clamped_inside_parents) {
    start_session();
    uint64_t t = hyperionProfilerNow();
    /* parent [0, 100us]; child [10, 120us] overlaps the parent's end; grandchild [90, 115] */
    hyperionProfilerRecordZone("parent", HYPERION_ZONE_LAYER, t, t + 100000, NULL);
    hyperionProfilerRecordZone("child", HYPERION_ZONE_OP, t + 10000, t + 120000, NULL);
    hyperionProfilerRecordZone("grandchild", HYPERION_ZONE_OP, t + 90000, t + 115000, NULL);
    /* a sibling after the parent, starting exactly at its end */
    hyperionProfilerRecordZone("next", HYPERION_ZONE_OP, t + 100000, t + 130000, NULL);
    wait_past(t);
    HY_REQUIRE(hyperionStopProfiling() == HYPERION_OK);
    tj_value *s = summary();
    HY_REQUIRE(s != NULL);
    HY_CHECK_INT(tj_num(tj_get(s, "clampedEvents")), 2);
    HY_CHECK_NEAR(tj_num(tj_get(find_op(s, "child"), "totalMs")), 0.090, 1e-9);       /* cut to 100us */
    HY_CHECK_NEAR(tj_num(tj_get(find_op(s, "grandchild"), "totalMs")), 0.010, 1e-9);  /* cut to 100us */
    HY_CHECK_NEAR(tj_num(tj_get(find_op(s, "child"), "selfMs")), 0.080, 1e-9);
    HY_CHECK_NEAR(tj_num(tj_get(find_op(s, "parent"), "selfMs")), 0.010, 1e-9);
    HY_CHECK_NEAR(tj_num(tj_get(find_op(s, "next"), "selfMs")), 0.030, 1e-9);
    HY_CHECK_NEAR(tj_num(tj_get(s, "tracedMs")), 0.130, 1e-9);
    HY_CHECK_NEAR(tj_num(tj_get(s, "selfSumMs")), 0.130, 1e-9);
    tj_free(s);

    char path[600];
    snprintf(path, sizeof path, "%s/clamped.json", hy_test_tmpdir());
    HY_REQUIRE(hyperionSaveProfile(path, HYPERION_PROFILE_CHROME_TRACE) == HYPERION_OK);
    char *text = tj_read_file(path);
    HY_REQUIRE(text != NULL);
    char err[128];
    tj_value *tr = tj_parse(text, err, sizeof err);
    HY_REQUIRE(tr != NULL);
    const tj_value *evs = tj_get(tr, "traceEvents");
    int64_t parent_ts = -1, child_ts = -1, child_dur = -1;
    const tj_value *child_args = NULL;
    for (size_t i = 0; i < evs->n; i++) {
        const tj_value *e = tj_at(evs, i);
        const char *name = tj_str(tj_get(e, "name"));
        if (strcmp(name, "parent") == 0) parent_ts = tj_milli(tj_get(e, "ts"));
        if (strcmp(name, "child") == 0) {
            child_ts = tj_milli(tj_get(e, "ts"));
            child_dur = tj_milli(tj_get(e, "dur"));
            child_args = tj_get(e, "args");
        }
    }
    HY_CHECK_INT(child_ts - parent_ts, 10000);    /* ns */
    HY_CHECK_INT(child_dur, 90000);
    HY_CHECK(tj_get(child_args, "clamped") && tj_get(child_args, "clamped")->boolean);
    tj_free(tr);
    free(text);
    hyperionShutdownProfiler();
}

HY_TEST(profiler_recursion_counts_total_once) {
    start_session();
    uint64_t t = hyperionProfilerNow();
    hyperionProfilerRecordZone("f", HYPERION_ZONE_OP, t, t + 100000, NULL);
    hyperionProfilerRecordZone("f", HYPERION_ZONE_OP, t + 20000, t + 60000, NULL);
    wait_past(t);
    HY_REQUIRE(hyperionStopProfiling() == HYPERION_OK);
    tj_value *s = summary();
    HY_REQUIRE(s != NULL);
    const tj_value *f = find_op(s, "f");
    HY_CHECK_INT(tj_num(tj_get(f, "calls")), 2);
    HY_CHECK_NEAR(tj_num(tj_get(f, "totalMs")), 0.100, 1e-9);
    HY_CHECK_NEAR(tj_num(tj_get(f, "selfMs")), 0.100, 1e-9);
    HY_CHECK_NEAR(tj_num(tj_get(f, "wallMs")), 0.100, 1e-9);
    tj_free(s);
    hyperionShutdownProfiler();
}

HY_TEST(profiler_unaccounted_share_is_time_outside_every_zone) {
    start_session();
    uint64_t t = hyperionProfilerNow();
    hyperionProfilerRecordZone("a", HYPERION_ZONE_OP, t, t + 1000000, NULL);
    /* a second thread's zone overlapping it counts once in coverage */
    hyperionProfilerRecordZone("b", HYPERION_ZONE_OP, t + 500000, t + 1500000, NULL);
    while (hyperionProfilerNow() < t + 2000000) {}
    wait_past(t);
    HY_REQUIRE(hyperionStopProfiling() == HYPERION_OK);
    tj_value *s = summary();
    HY_REQUIRE(s != NULL);
    double wall = tj_num(tj_get(s, "wallMs"));
    HY_CHECK(wall >= 2.0);
    /* on one thread the second overlaps the first, so it is clamped: coverage 1 ms */
    HY_CHECK_NEAR(tj_num(tj_get(s, "coveredMs")), 1.0, 1e-9);
    HY_CHECK_NEAR(tj_num(tj_get(s, "unaccountedShare")), 1.0 - 1.0 / wall, 1e-6);
    tj_free(s);
    hyperionShutdownProfiler();
}
