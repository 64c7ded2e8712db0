/* test_profiler_zones.c — zones: recording, metadata, drops, thread names, the
 * cost when off, and the API's errors. */
#include "harness.h"
#include "test_profiler_json.h"

#include "hyperion.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static void init_profiler(uint32_t buffer_events, uint32_t sample_ms, int track_functions) {
    hyperion_profiler_config c;
    hyperionProfilerConfigDefaults(&c);
    c.buffer_events = buffer_events;
    c.sample_interval_ms = sample_ms;
    c.track_functions = track_functions;
    HY_CHECK_INT(hyperionInitProfiler(&c), HYPERION_OK);
}

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
        if (tj_str(tj_get(tj_at(ops, i), "name")) && strcmp(tj_str(tj_get(tj_at(ops, i), "name")), name) == 0)
            return tj_at(ops, i);
    return NULL;
}

static volatile uint64_t sink;

/* Not an assertion on time: prints what a zone costs with the profiler off. */
HY_TEST(profiler_zone_cost_when_off_is_printed) {
    hyperionShutdownProfiler();
    HY_REQUIRE(!HY_PROFILER_ON());
    enum { N = 20000000 };
    uint64_t t0 = hyperionProfilerNow();
    for (int i = 0; i < N; i++) sink += (uint64_t)i;
    uint64_t t1 = hyperionProfilerNow();
    for (int i = 0; i < N; i++) {
        HY_ZONE_OP(z, "matmul", i & 31, .dims = { 4096, 4096 }, .type = "q4_0", .bytes = (uint64_t)i * 2, .flops = (uint64_t)i);
        sink += (uint64_t)i;
        HY_ZONE_END(z);
    }
    uint64_t t2 = hyperionProfilerNow();
    double base = (double)(t1 - t0) / N, zoned = (double)(t2 - t1) / N;
    printf("    zone cost with profiler off: %.2f ns per loop vs %.2f ns bare (%.2f ns per zone)\n", zoned, base,
           zoned - base);
    HY_CHECK(t2 > t1);

    /* and on, for the record (begin + end, both clock reads included); the
     * second round runs on a buffer whose pages are already touched */
    enum { M = 100000 };
    init_profiler(M, 0, 1);
    for (int round = 0; round < 2; round++) {
        HY_REQUIRE(hyperionStartProfiling() == HYPERION_OK);
        uint64_t t3 = hyperionProfilerNow();
        for (int i = 0; i < M; i++) {
            HY_ZONE_OP(z, "matmul", i & 31, .dims = { 4096, 4096 }, .type = "q4_0", .bytes = (uint64_t)i * 2,
                       .flops = (uint64_t)i);
            sink += (uint64_t)i;
            HY_ZONE_END(z);
        }
        uint64_t t4 = hyperionProfilerNow();
        HY_REQUIRE(hyperionStopProfiling() == HYPERION_OK);
        printf("    zone cost with profiler on (%s buffer): %.1f ns per zone\n", round ? "warm" : "cold",
               (double)(t4 - t3) / M - base);
    }
    hyperionShutdownProfiler();
}

HY_TEST(profiler_zones_carry_name_category_thread_and_metadata) {
    init_profiler(1024, 0, 1);
    HY_REQUIRE(hyperionStartProfiling() == HYPERION_OK);
    HY_CHECK(hyperionIsProfiling());
    hyperionProfilerSetRequest(42);
    {
        HY_ZONE_PHASE(zp, HYPERION_PHASE_DECODE);
        HY_ZONE_LAYER(zl, 3);
        HY_ZONE_OP(zm, "matmul", 3, .dims = { 4096, 11008, 1 }, .type = "q4_0", .bytes = 1000, .flops = 2000);
        HY_ZONE_END(zm);
        HY_ZONE_OP(zr, "rope", 3);
        HY_ZONE_END(zr);
        HY_ZONE_END(zl);
        HY_ZONE_END(zp);
    }
    hyperionProfilerSetRequest(0);
    HY_REQUIRE(hyperionStopProfiling() == HYPERION_OK);
    HY_CHECK(!hyperionIsProfiling());
    tj_value *s = summary();
    HY_REQUIRE(s != NULL);
    HY_CHECK_INT(tj_num(tj_get(s, "events")), 4);
    const tj_value *mm = find_op(s, "matmul");
    HY_REQUIRE(mm != NULL);
    HY_CHECK_STR(tj_str(tj_get(mm, "category")), "op");
    HY_CHECK_STR(tj_str(tj_get(mm, "type")), "q4_0");
    HY_CHECK_INT(tj_num(tj_get(mm, "bytes")), 1000);
    HY_CHECK_INT(tj_num(tj_get(mm, "flops")), 2000);
    HY_CHECK_STR(tj_str(tj_get(find_op(s, "layer"), "category")), "layer");
    HY_CHECK_STR(tj_str(tj_get(find_op(s, "decode"), "category")), "phase");
    HY_CHECK(tj_get(find_op(s, "rope"), "type")->type == TJ_NULL);
    const tj_value *th = tj_at(tj_get(s, "threads"), 0);
    HY_CHECK_STR(tj_str(tj_get(th, "name")), "main");
    tj_free(s);

    /* the trace carries the metadata as args */
    char path[600];
    snprintf(path, sizeof path, "%s/meta.json", hy_test_tmpdir());
    HY_REQUIRE(hyperionSaveProfile(path, HYPERION_PROFILE_CHROME_TRACE) == HYPERION_OK);
    char *text = tj_read_file(path);
    HY_REQUIRE(text != NULL);
    HY_CHECK(strstr(text, "\"args\":{\"layer\":3,\"shape\":[4096,11008,1],\"type\":\"q4_0\",\"bytes\":1000,\"flops\":2000,\"request\":42}") != NULL);
    free(text);
    hyperionShutdownProfiler();
}

HY_TEST(profiler_full_buffer_drops_and_counts) {
    init_profiler(64, 0, 1);
    HY_REQUIRE(hyperionStartProfiling() == HYPERION_OK);
    for (int i = 0; i < 100; i++) {
        HY_ZONE_BEGIN(z, "tiny", HYPERION_ZONE_OP);
        HY_ZONE_END(z);
    }
    HY_REQUIRE(hyperionStopProfiling() == HYPERION_OK);
    tj_value *s = summary();
    HY_REQUIRE(s != NULL);
    HY_CHECK_INT(tj_num(tj_get(s, "events")), 64);
    HY_CHECK_INT(tj_num(tj_get(s, "droppedEvents")), 36);
    HY_CHECK_INT(tj_num(tj_get(find_op(s, "tiny"), "calls")), 64);
    HY_CHECK_INT(tj_num(tj_get(tj_at(tj_get(s, "threads"), 0), "droppedEvents")), 36);
    tj_free(s);

    char path[600];
    snprintf(path, sizeof path, "%s/dropped.json", hy_test_tmpdir());
    HY_REQUIRE(hyperionSaveProfile(path, HYPERION_PROFILE_CHROME_TRACE) == HYPERION_OK);
    char *text = tj_read_file(path);
    char err[128];
    tj_value *t = tj_parse(text, err, sizeof err);
    HY_REQUIRE(t != NULL);
    HY_CHECK_INT(tj_num(tj_get(tj_get(t, "otherData"), "droppedEvents")), 36);
    tj_free(t);
    free(text);

    /* the next session starts from an empty buffer: no drops carried over */
    HY_REQUIRE(hyperionStartProfiling() == HYPERION_OK);
    for (int i = 0; i < 10; i++) {
        HY_ZONE_BEGIN(z, "tiny", HYPERION_ZONE_OP);
        HY_ZONE_END(z);
    }
    HY_REQUIRE(hyperionStopProfiling() == HYPERION_OK);
    s = summary();
    HY_REQUIRE(s != NULL);
    HY_CHECK_INT(tj_num(tj_get(s, "events")), 10);
    HY_CHECK_INT(tj_num(tj_get(s, "droppedEvents")), 0);
    tj_free(s);
    hyperionShutdownProfiler();
}

HY_TEST(profiler_track_functions_off_keeps_phases_only) {
    init_profiler(1024, 0, 0);
    HY_REQUIRE(hyperionStartProfiling() == HYPERION_OK);
    {
        HY_ZONE_PHASE(zp, HYPERION_PHASE_PREFILL);
        HY_ZONE_LAYER(zl, 0);
        HY_ZONE_OP(zo, "norm", 0);
        HY_ZONE_END(zo);
        HY_ZONE_END(zl);
        HY_ZONE_END(zp);
    }
    HY_REQUIRE(hyperionStopProfiling() == HYPERION_OK);
    tj_value *s = summary();
    HY_REQUIRE(s != NULL);
    HY_CHECK_INT(tj_num(tj_get(s, "events")), 1);
    HY_CHECK(find_op(s, "prefill") != NULL);
    HY_CHECK(find_op(s, "norm") == NULL);
    tj_free(s);
    hyperionShutdownProfiler();
}

static void *named_worker(void *arg) {
    (void)arg;
    hyperionProfilerSetThreadName("worker-1");
    for (int i = 0; i < 5; i++) {
        HY_ZONE_BEGIN(z, "work", HYPERION_ZONE_OP);
        HY_ZONE_END(z);
    }
    return NULL;
}

HY_TEST(profiler_threads_are_named_in_the_trace) {
    init_profiler(1024, 0, 1);
    HY_REQUIRE(hyperionStartProfiling() == HYPERION_OK);
    HY_ZONE_BEGIN(z, "main-work", HYPERION_ZONE_OP);
    pthread_t t;
    HY_REQUIRE(pthread_create(&t, NULL, named_worker, NULL) == 0);
    pthread_join(t, NULL);
    HY_ZONE_END(z);
    HY_REQUIRE(hyperionStopProfiling() == HYPERION_OK);
    char path[600];
    snprintf(path, sizeof path, "%s/names.json", hy_test_tmpdir());
    HY_REQUIRE(hyperionSaveProfile(path, HYPERION_PROFILE_CHROME_TRACE) == HYPERION_OK);
    char *text = tj_read_file(path);
    char err[128];
    tj_value *tr = tj_parse(text, err, sizeof err);
    HY_REQUIRE(tr != NULL);
    const tj_value *evs = tj_get(tr, "traceEvents");
    int saw_main = 0, saw_worker = 0, saw_process = 0;
    for (size_t i = 0; i < evs->n; i++) {
        const tj_value *e = tj_at(evs, i);
        if (strcmp(tj_str(tj_get(e, "ph")), "M") != 0) continue;
        const char *what = tj_str(tj_get(e, "name")), *name = tj_str(tj_get(tj_get(e, "args"), "name"));
        if (strcmp(what, "process_name") == 0 && name && strcmp(name, "hyperion") == 0) saw_process = 1;
        if (strcmp(what, "thread_name") == 0 && strcmp(name, "main") == 0) saw_main = 1;
        if (strcmp(what, "thread_name") == 0 && strcmp(name, "worker-1") == 0) saw_worker = 1;
    }
    HY_CHECK(saw_process && saw_main && saw_worker);
    tj_free(tr);
    free(text);
    HY_CHECK_INT(hyperionProfilerSetThreadName(""), HYPERION_INVALID_ARGUMENT);
    hyperionShutdownProfiler();
}

HY_TEST(profiler_open_zones_close_at_stop_and_late_ends_are_harmless) {
    init_profiler(1024, 0, 1);
    HY_REQUIRE(hyperionStartProfiling() == HYPERION_OK);
    HY_ZONE_BEGIN(outer, "still-open", HYPERION_ZONE_OP);
    HY_REQUIRE(hyperionStopProfiling() == HYPERION_OK);
    HY_ZONE_BEGIN(off, "after-stop", HYPERION_ZONE_OP);   /* not recorded */
    HY_CHECK(off.buffer == NULL);
    HY_ZONE_END(off);
    HY_REQUIRE(hyperionStartProfiling() == HYPERION_OK);   /* new epoch: the old zone's end must write nothing */
    HY_ZONE_END(outer);
    HY_REQUIRE(hyperionStopProfiling() == HYPERION_OK);
    tj_value *s = summary();
    HY_REQUIRE(s != NULL);
    HY_CHECK_INT(tj_num(tj_get(s, "events")), 0);
    tj_free(s);

    HY_REQUIRE(hyperionStartProfiling() == HYPERION_OK);
    HY_ZONE_BEGIN(open_zone, "unfinished", HYPERION_ZONE_OP);
    HY_REQUIRE(hyperionStopProfiling() == HYPERION_OK);
    HY_ZONE_END(open_zone);
    s = summary();
    HY_REQUIRE(s != NULL);
    HY_CHECK_INT(tj_num(tj_get(s, "unfinishedEvents")), 1);
    tj_free(s);
    hyperionShutdownProfiler();
}

HY_TEST(profiler_interned_names_are_stable) {
    char buf[64];
    snprintf(buf, sizeof buf, "matmul %s %dx%d", "q8_0", 4096, 4096);
    const char *a = hyperionProfilerIntern(buf);
    snprintf(buf, sizeof buf, "matmul %s %dx%d", "q8_0", 4096, 4096);
    const char *b = hyperionProfilerIntern(buf);
    HY_REQUIRE(a != NULL);
    HY_CHECK(a == b);
    HY_CHECK(a != buf);
    HY_CHECK_STR(a, "matmul q8_0 4096x4096");
    HY_CHECK(hyperionProfilerIntern("other") != a);
    HY_CHECK(hyperionProfilerIntern(NULL) == NULL);
    HY_CHECK_INT(hyperionGetLastError()->code, HYPERION_INVALID_ARGUMENT);
}

HY_TEST(profiler_api_errors_name_the_problem) {
    hyperionShutdownProfiler();
    hyperion_profiler_config c;
    hyperionProfilerConfigDefaults(&c);
    c.sample_interval_ms = 70000;
    HY_CHECK_INT(hyperionInitProfiler(&c), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_STR(hyperionGetLastError()->fields[0].text, "sampleIntervalMs");
    hyperionProfilerConfigDefaults(&c);
    c.buffer_events = 3;
    HY_CHECK_INT(hyperionInitProfiler(&c), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_STR(hyperionGetLastError()->fields[0].text, "bufferEvents");
    HY_CHECK_INT(hyperionInitProfiler(NULL), HYPERION_INVALID_ARGUMENT);

    char *json = NULL;
    HY_CHECK_INT(hyperionGetProfileSummary(&json), HYPERION_INVALID_ARGUMENT);   /* no profile yet */
    HY_CHECK(json == NULL);
    HY_CHECK_INT(hyperionStopProfiling(), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_INT(hyperionSaveProfile(NULL, HYPERION_PROFILE_BOTH), HYPERION_INVALID_ARGUMENT);

    init_profiler(256, 0, 1);
    HY_REQUIRE(hyperionStartProfiling() == HYPERION_OK);
    HY_CHECK_INT(hyperionStartProfiling(), HYPERION_INVALID_ARGUMENT);
    hyperionProfilerConfigDefaults(&c);
    HY_CHECK_INT(hyperionInitProfiler(&c), HYPERION_INVALID_ARGUMENT);             /* running */
    /* a snapshot while running works */
    HY_CHECK_INT(hyperionGetProfileSummary(&json), HYPERION_OK);
    hyperionFree(json);
    HY_REQUIRE(hyperionStopProfiling() == HYPERION_OK);
    HY_CHECK_INT(hyperionSaveProfile("/tmp/x.json", (hyperion_profile_format)7), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_INT(hyperionSaveProfile("/nonexistent-dir/x/profile.json", HYPERION_PROFILE_CHROME_TRACE), HYPERION_IO);
    HY_CHECK_STR(hyperionGetLastError()->fields[0].name, "path");
    HY_CHECK_INT(hyperionGetProfileSummary(NULL), HYPERION_INVALID_ARGUMENT);
    /* the runtime stays usable */
    HY_CHECK_INT(hyperionGetProfileSummary(&json), HYPERION_OK);
    hyperionFree(json);
    hyperionShutdownProfiler();
}

HY_TEST(profiler_save_both_writes_trace_and_summary) {
    init_profiler(256, 0, 1);
    HY_REQUIRE(hyperionStartProfiling() == HYPERION_OK);
    HY_ZONE_BEGIN(z, "op", HYPERION_ZONE_OP);
    HY_ZONE_END(z);
    HY_REQUIRE(hyperionStopProfiling() == HYPERION_OK);
    char path[600], second[640];
    snprintf(path, sizeof path, "%s/both.json", hy_test_tmpdir());
    snprintf(second, sizeof second, "%s/both.summary.json", hy_test_tmpdir());
    HY_REQUIRE(hyperionSaveProfile(path, HYPERION_PROFILE_BOTH) == HYPERION_OK);
    char *trace = tj_read_file(path), *sum = tj_read_file(second);
    HY_REQUIRE(trace && sum);
    HY_CHECK(strncmp(trace, "{\"displayTimeUnit\": \"ms\",", 25) == 0);
    char err[128];
    tj_value *s = tj_parse(sum, err, sizeof err);
    HY_CHECK(s != NULL);
    HY_CHECK_STR(tj_str(tj_get(s, "kind")), "session");
    tj_free(s);
    free(trace);
    free(sum);
    snprintf(path, sizeof path, "%s/only-summary", hy_test_tmpdir());
    HY_REQUIRE(hyperionSaveProfile(path, HYPERION_PROFILE_SUMMARY) == HYPERION_OK);
    sum = tj_read_file(path);
    HY_CHECK(sum && sum[0] == '{');
    free(sum);

    char *table = NULL;
    HY_REQUIRE(hyperionGetProfileTable(&table) == HYPERION_OK);
    HY_CHECK(strstr(table, "phase") != NULL && strstr(table, "self ms") != NULL);
    hyperionFree(table);
    hyperionShutdownProfiler();
}
