/* test_profiler_counters.c — hardware counters: the reason they are absent is
 * told apart precisely, a session with trackCache works either way, and the
 * per-phase plumbing runs with software events standing in. */
#include "harness.h"
#include "test_profiler_json.h"

#include "profiler/profiler_internal.h"

#include <errno.h>
#include <stdlib.h>

HY_TEST(profiler_counter_reasons_are_classified) {
    hy_ctr_status s;
    hy_ctr_classify(0, 0, 2, &s);
    HY_CHECK_INT(s.reason, HY_CTR_OK);
    hy_ctr_classify(ENOENT, 0, 2, &s);
    HY_CHECK_INT(s.reason, HY_CTR_NO_PMU);
    HY_CHECK_STR(hy_ctr_reason_name(s.reason), "no-pmu");
    hy_ctr_classify(EOPNOTSUPP, 0, 1, &s);
    HY_CHECK_INT(s.reason, HY_CTR_NO_PMU);
    hy_ctr_classify(EACCES, EACCES, 3, &s);
    HY_CHECK_INT(s.reason, HY_CTR_PARANOID);
    HY_CHECK(strstr(s.detail, "perf_event_paranoid is 3") != NULL);
    hy_ctr_classify(EPERM, EPERM, 4, &s);
    HY_CHECK_INT(s.reason, HY_CTR_PARANOID);
    HY_CHECK(strstr(s.detail, "is 4") != NULL);
    hy_ctr_classify(EPERM, EPERM, 1, &s);
    HY_CHECK_INT(s.reason, HY_CTR_BLOCKED);
    HY_CHECK(strstr(s.detail, "seccomp") != NULL);
    hy_ctr_classify(EACCES, EACCES, INT32_MIN, &s);
    HY_CHECK_INT(s.reason, HY_CTR_BLOCKED);
    hy_ctr_classify(ENOSYS, ENOSYS, 2, &s);
    HY_CHECK_INT(s.reason, HY_CTR_BLOCKED);
    hy_ctr_classify(ENOSYS, ENOSYS, INT32_MIN, &s);
    HY_CHECK_INT(s.reason, HY_CTR_NO_PERF);
    hy_ctr_classify(ENOENT, ENOENT, 2, &s);
    HY_CHECK_INT(s.reason, HY_CTR_OTHER);
    hy_ctr_classify(EINVAL, 0, 2, &s);
    HY_CHECK_INT(s.reason, HY_CTR_OTHER);
    HY_CHECK(strstr(s.detail, "errno") != NULL);
}

static tj_value *summary(void) {
    char *json = NULL;
    if (hyperionGetProfileSummary(&json) != HYPERION_OK) return NULL;
    char err[128];
    tj_value *v = tj_parse(json, err, sizeof err);
    hyperionFree(json);
    return v;
}

static volatile double sink;

static void phase_work(void) {
    HY_ZONE_PHASE(z, HYPERION_PHASE_DECODE);
    double x = 1;
    for (int i = 0; i < 2000000; i++) x = x * 1.0000001 + 1e-9;
    sink = x;
    HY_ZONE_END(z);
    hyperionProfilerNoteTokens(HYPERION_PHASE_DECODE, 1);
}

HY_TEST(profiler_counters_unavailable_reason_is_stated_and_nothing_fails) {
    hy_ctr_test_use_software(0);
    const hy_ctr_status *probe = hy_ctr_probe();
    printf("    hardware counters on this machine: %s — %s\n", hy_ctr_reason_name(probe->reason), probe->detail);
    HY_CHECK(probe->detail[0] != '\0');
    hyperion_profiler_config c;
    hyperionProfilerConfigDefaults(&c);
    c.track_cache = 1;
    c.sample_interval_ms = 0;
    c.buffer_events = 256;
    HY_REQUIRE(hyperionInitProfiler(&c) == HYPERION_OK);
    HY_REQUIRE(hyperionStartProfiling() == HYPERION_OK);
    phase_work();
    HY_REQUIRE(hyperionStopProfiling() == HYPERION_OK);
    tj_value *s = summary();
    HY_REQUIRE(s != NULL);
    HY_CHECK_INT(tj_num(tj_get(s, "events")), 1);
    const tj_value *ctr = tj_get(s, "counters");
    HY_REQUIRE(ctr != NULL);
    HY_CHECK_STR(tj_str(tj_get(ctr, "reason")), hy_ctr_reason_name(probe->reason));
    HY_CHECK(tj_get(ctr, "available")->boolean == (probe->reason == HY_CTR_OK));
    HY_CHECK(strlen(tj_str(tj_get(ctr, "detail"))) > 10);
    if (probe->reason != HY_CTR_OK) {
        HY_CHECK(tj_get(ctr, "phases") == NULL);
        char *table = NULL;
        HY_REQUIRE(hyperionGetProfileTable(&table) == HYPERION_OK);
        HY_CHECK(strstr(table, "hardware counters unavailable") != NULL);
        hyperionFree(table);
        char *json = NULL;
        HY_REQUIRE(hyperionAnalyzeBottlenecks(&json) == HYPERION_OK);
        HY_CHECK(strstr(json, "hardware counters unavailable") != NULL);
        hyperionFree(json);
    }
#if defined(__linux__)
    /* this VM exposes no PMU: the precise reason must be the one found */
    if (probe->hw_errno == ENOENT && probe->sw_errno == 0) HY_CHECK_INT(probe->reason, HY_CTR_NO_PMU);
#endif
    tj_free(s);

    /* trackCache off: the reason says so */
    c.track_cache = 0;
    HY_REQUIRE(hyperionInitProfiler(&c) == HYPERION_OK);
    HY_REQUIRE(hyperionStartProfiling() == HYPERION_OK);
    phase_work();
    HY_REQUIRE(hyperionStopProfiling() == HYPERION_OK);
    s = summary();
    HY_REQUIRE(s != NULL);
    HY_CHECK_STR(tj_str(tj_get(tj_get(s, "counters"), "reason")), "disabled");
    tj_free(s);
    hyperionShutdownProfiler();
}

HY_TEST(profiler_counter_plumbing_with_software_stand_ins) {
    hy_ctr_test_use_software(1);
    hyperion_profiler_config c;
    hyperionProfilerConfigDefaults(&c);
    c.track_cache = 1;
    c.sample_interval_ms = 0;
    c.buffer_events = 256;
    HY_REQUIRE(hyperionInitProfiler(&c) == HYPERION_OK);
    HY_REQUIRE(hyperionStartProfiling() == HYPERION_OK);
    for (int i = 0; i < 3; i++) phase_work();
    HY_REQUIRE(hyperionStopProfiling() == HYPERION_OK);
    tj_value *s = summary();
    hy_ctr_test_use_software(0);
    HY_REQUIRE(s != NULL);
    const tj_value *ctr = tj_get(s, "counters");
    if (!tj_get(ctr, "available")->boolean) {
        /* perf events entirely refused here: the reason must still be stated */
        printf("    software events unavailable too: %s\n", tj_str(tj_get(ctr, "detail")));
        HY_CHECK(strlen(tj_str(tj_get(ctr, "detail"))) > 10);
    } else {
        HY_CHECK_STR(tj_str(tj_get(ctr, "source")), "software-stand-ins");
        HY_CHECK(tj_num(tj_get(ctr, "threads")) >= 1);
        const tj_value *phases = tj_get(ctr, "phases");
        HY_REQUIRE(phases && phases->n == HYPERION_PHASE_COUNT);
        const tj_value *decode = tj_at(phases, HYPERION_PHASE_DECODE);
        HY_CHECK_STR(tj_str(tj_get(decode, "phase")), "decode");
        /* task-clock (in the cycles slot) counted the work of three phase zones: > 1 ms */
        HY_CHECK(tj_num(tj_get(decode, "cycles")) > 1e6);
        HY_CHECK_INT(tj_num(tj_get(tj_at(phases, HYPERION_PHASE_LOAD), "cycles")), 0);
    }
    tj_free(s);
    hyperionShutdownProfiler();
}
