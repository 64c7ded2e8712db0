/* test_profiler_workload.c — a synthetic generation (layers x tokens of fake
 * zones on two threads): calls per op, self times adding up, tokens/s, the
 * written trace's structure (nesting, monotonic ts, names, counters), and a
 * per-request capture. */
#include "harness.h"
#include "test_profiler_json.h"

#include "hyperion.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

enum { LAYERS = 6, TOKENS = 12, PROMPT = 9 };

static volatile double spin_sink;

static void spin(int n) {
    double x = 1.0;
    for (int i = 0; i < n; i++) x = x * 1.0000001 + 1e-9;
    spin_sink = x;
}

typedef struct sync {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int token;      /* the token the main thread has reached */
    int done;       /* tokens the worker finished */
    uint64_t request;
} sync_t;

/* The "pool worker": one matmul slice per layer per token, after the main thread. */
static void *worker_main(void *arg) {
    sync_t *s = arg;
    hyperionProfilerSetThreadName("worker-1");
    for (int t = 0; t < TOKENS; t++) {
        pthread_mutex_lock(&s->lock);
        while (s->token <= t) pthread_cond_wait(&s->cond, &s->lock);
        uint64_t request = s->request;
        pthread_mutex_unlock(&s->lock);
        hyperionProfilerSetRequest(request);   /* the pool copies the dispatcher's request */
        for (int l = 0; l < LAYERS; l++) {
            HY_ZONE_OP(z, "matmul", l, .dims = { 64, 64 }, .type = "q4_0", .bytes = 2304, .flops = 8192);
            spin(300);
            HY_ZONE_END(z);
        }
        pthread_mutex_lock(&s->lock);
        s->done++;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
    }
    return NULL;
}

/* The generation thread's part: prefill, then decode + sample per token. */
static void run_generation(uint64_t request) {
    sync_t s = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, request };
    hyperionProfilerSetRequest(request);
    pthread_t worker;
    HY_REQUIRE(pthread_create(&worker, NULL, worker_main, &s) == 0);
    {
        HY_ZONE_PHASE(zp, HYPERION_PHASE_PREFILL);
        spin(2000);
        HY_ZONE_END(zp);
        hyperionProfilerNoteTokens(HYPERION_PHASE_PREFILL, PROMPT);
    }
    for (int t = 0; t < TOKENS; t++) {
        HY_ZONE_PHASE(zd, HYPERION_PHASE_DECODE);
        pthread_mutex_lock(&s.lock);
        s.token = t + 1;
        pthread_cond_broadcast(&s.cond);
        pthread_mutex_unlock(&s.lock);
        for (int l = 0; l < LAYERS; l++) {
            HY_ZONE_LAYER(zl, l);
            HY_ZONE_OP(zn, "rms_norm", l, .dims = { 64 }, .type = "f32", .bytes = 512, .flops = 192);
            spin(50);
            HY_ZONE_END(zn);
            HY_ZONE_OP(zm, "matmul", l, .dims = { 64, 64 }, .type = "q4_0", .bytes = 2304, .flops = 8192);
            spin(300);
            HY_ZONE_END(zm);
            HY_ZONE_OP(za, "attention", l, .dims = { 4, 16, t + 1 }, .type = "f32", .bytes = 1024, .flops = 4096);
            spin(200);
            HY_ZONE_END(za);
            spin(20);   /* self time of the layer zone */
            HY_ZONE_END(zl);
        }
        pthread_mutex_lock(&s.lock);
        while (s.done <= t) pthread_cond_wait(&s.cond, &s.lock);
        pthread_mutex_unlock(&s.lock);
        HY_ZONE_END(zd);
        HY_ZONE_PHASE(zs, HYPERION_PHASE_SAMPLE);
        spin(100);
        HY_ZONE_END(zs);
        hyperionProfilerNoteTokens(HYPERION_PHASE_DECODE, 1);
        hyperionProfilerNoteTokens(HYPERION_PHASE_SAMPLE, 1);
    }
    pthread_join(worker, NULL);
    hyperionProfilerSetRequest(0);
}

static const tj_value *find_op(const tj_value *s, const char *name) {
    const tj_value *ops = tj_get(s, "ops");
    for (size_t i = 0; ops && i < ops->n; i++)
        if (strcmp(tj_str(tj_get(tj_at(ops, i), "name")), name) == 0) return tj_at(ops, i);
    return NULL;
}

static const tj_value *find_phase(const tj_value *s, const char *name) {
    const tj_value *ph = tj_get(s, "phases");
    for (size_t i = 0; ph && i < ph->n; i++)
        if (strcmp(tj_str(tj_get(tj_at(ph, i), "phase")), name) == 0) return tj_at(ph, i);
    return NULL;
}

/* The checks every summary of this workload passes. */
static void check_workload_summary(const tj_value *s) {
    HY_CHECK_INT(tj_num(tj_get(find_op(s, "matmul"), "calls")), 2 * LAYERS * TOKENS);   /* main + worker */
    HY_CHECK_INT(tj_num(tj_get(find_op(s, "attention"), "calls")), LAYERS * TOKENS);
    HY_CHECK_INT(tj_num(tj_get(find_op(s, "rms_norm"), "calls")), LAYERS * TOKENS);
    HY_CHECK_INT(tj_num(tj_get(find_op(s, "layer"), "calls")), LAYERS * TOKENS);
    HY_CHECK_INT(tj_num(tj_get(find_op(s, "decode"), "calls")), TOKENS);
    HY_CHECK_INT(tj_num(tj_get(find_op(s, "prefill"), "calls")), 1);
    HY_CHECK_INT(tj_num(tj_get(find_op(s, "sample"), "calls")), TOKENS);
    HY_CHECK_INT(tj_num(tj_get(s, "droppedEvents")), 0);

    /* self times of all zones add up to the traced time (within 1%) */
    const tj_value *ops = tj_get(s, "ops");
    double self_sum = 0, share_sum = 0;
    for (size_t i = 0; i < ops->n; i++) {
        self_sum += tj_num(tj_get(tj_at(ops, i), "selfMs"));
        share_sum += tj_num(tj_get(tj_at(ops, i), "share"));
    }
    double traced = tj_num(tj_get(s, "tracedMs"));
    HY_CHECK(traced > 0);
    HY_CHECK_NEAR(self_sum, traced, traced * 0.01);
    HY_CHECK_NEAR(share_sum, 1.0, 0.01);
    double unacc = tj_num(tj_get(s, "unaccountedShare"));
    HY_CHECK(unacc >= 0.0 && unacc <= 1.0);

    /* tokens/s = tokens / phase time */
    const tj_value *dec = find_phase(s, "decode");
    HY_CHECK_INT(tj_num(tj_get(dec, "tokens")), TOKENS);
    HY_CHECK_INT(tj_num(tj_get(dec, "calls")), TOKENS);
    double tps = tj_num(tj_get(dec, "tokensPerSecond")), total_ms = tj_num(tj_get(dec, "totalMs"));
    HY_CHECK(total_ms > 0);
    HY_CHECK_NEAR(tps, TOKENS / (total_ms / 1000.0), tps * 1e-6);
    const tj_value *pre = find_phase(s, "prefill");
    HY_CHECK_INT(tj_num(tj_get(pre, "tokens")), PROMPT);
    HY_CHECK_NEAR(tj_num(tj_get(pre, "tokensPerSecond")), PROMPT / (tj_num(tj_get(pre, "totalMs")) / 1000.0),
                  tj_num(tj_get(pre, "tokensPerSecond")) * 1e-6);
    HY_CHECK(tj_get(find_phase(s, "load"), "tokensPerSecond")->type == TJ_NULL);

    /* per layer: every layer zone, and the ops tagged with it on both threads */
    const tj_value *layers = tj_get(s, "layers");
    HY_CHECK_INT(layers ? layers->n : 0, LAYERS);
    for (size_t i = 0; layers && i < layers->n; i++) {
        HY_CHECK_INT(tj_num(tj_get(tj_at(layers, i), "calls")), TOKENS);
        HY_CHECK(tj_num(tj_get(tj_at(layers, i), "opSelfMs")) > 0);
    }
    /* rates from the metadata */
    const tj_value *mm = find_op(s, "matmul");
    HY_CHECK_INT(tj_num(tj_get(mm, "bytes")), 2304ll * 2 * LAYERS * TOKENS);
    HY_CHECK(tj_num(tj_get(mm, "gbps")) > 0 && tj_num(tj_get(mm, "gflops")) > 0);
    HY_CHECK(tj_num(tj_get(mm, "p50Ms")) <= tj_num(tj_get(mm, "p95Ms")));
    HY_CHECK(tj_num(tj_get(mm, "p95Ms")) <= tj_num(tj_get(mm, "p99Ms")));
}

/* Structural checks of a written trace. */
static void check_trace(const char *path, int expect_counters) {
    char *text = tj_read_file(path);
    HY_REQUIRE(text != NULL);
    char err[128];
    tj_value *tr = tj_parse(text, err, sizeof err);
    if (!tr) printf("    trace is not JSON: %s\n", err);
    HY_REQUIRE(tr != NULL);
    HY_REQUIRE(tr->type == TJ_OBJECT && tr->n >= 2);
    HY_CHECK_STR(tr->keys[0], "displayTimeUnit");
    HY_CHECK_STR(tr->keys[1], "traceEvents");
    const tj_value *evs = tj_get(tr, "traceEvents");
    HY_REQUIRE(evs && evs->type == TJ_ARRAY);

    enum { MAX_TIDS = 8, MAX_DEPTH = 64 };
    double tids[MAX_TIDS];
    int n_tids = 0, named[MAX_TIDS] = { 0 };
    int64_t last_ts[MAX_TIDS], stack_end[MAX_TIDS][MAX_DEPTH];
    int depth[MAX_TIDS] = { 0 };
    int x_events = 0, counters = 0, nesting_errors = 0, order_errors = 0;
    int seen_pool = 0, seen_rss = 0, seen_tokens = 0;
    for (size_t i = 0; i < evs->n; i++) {
        const tj_value *e = tj_at(evs, i);
        const char *ph = tj_str(tj_get(e, "ph"));
        HY_REQUIRE(ph != NULL);
        if (strcmp(ph, "C") == 0) {
            counters++;
            const char *name = tj_str(tj_get(e, "name"));
            seen_pool |= strcmp(name, "pool in use") == 0;
            seen_rss |= strcmp(name, "rss") == 0;
            seen_tokens |= strcmp(name, "tokens generated") == 0;
            HY_CHECK(tj_milli(tj_get(e, "ts")) >= 0);
            continue;
        }
        double tid = tj_num(tj_get(e, "tid"));
        int k;
        for (k = 0; k < n_tids && tids[k] != tid; k++) {}
        if (k == n_tids && !isnan(tid) && n_tids < MAX_TIDS) {
            tids[n_tids] = tid;
            last_ts[n_tids] = -1;
            n_tids++;
        }
        if (strcmp(ph, "M") == 0) {
            if (strcmp(tj_str(tj_get(e, "name")), "thread_name") == 0 && k < MAX_TIDS) named[k] = 1;
            continue;
        }
        HY_REQUIRE(strcmp(ph, "X") == 0 && k < MAX_TIDS);
        x_events++;
        int64_t ts = tj_milli(tj_get(e, "ts")), dur = tj_milli(tj_get(e, "dur"));
        HY_REQUIRE(ts >= 0 && dur >= 0);
        if (ts < last_ts[k]) order_errors++;
        last_ts[k] = ts;
        /* the stack of open parents on this thread */
        while (depth[k] > 0 && stack_end[k][depth[k] - 1] <= ts) depth[k]--;
        if (depth[k] > 0 && ts + dur > stack_end[k][depth[k] - 1]) nesting_errors++;
        if (depth[k] < MAX_DEPTH) stack_end[k][depth[k]++] = ts + dur;
    }
    HY_CHECK(x_events > 0);
    HY_CHECK_INT(nesting_errors, 0);
    HY_CHECK_INT(order_errors, 0);
    for (int k = 0; k < n_tids; k++) HY_CHECK(named[k]);
    if (expect_counters) {
        HY_CHECK(counters > 0);
        HY_CHECK(seen_pool && seen_rss && seen_tokens);
    }
    const tj_value *other = tj_get(tr, "otherData");
    HY_CHECK(other && tj_get(other, "droppedEvents") && tj_num(tj_get(other, "droppedEvents")) == 0);
    tj_free(tr);
    free(text);
}

HY_TEST(profiler_synthetic_generation_on_two_threads) {
    hyperion_profiler_config c;
    hyperionProfilerConfigDefaults(&c);
    c.sample_interval_ms = 1;
    c.buffer_events = 4096;
    HY_REQUIRE(hyperionInitProfiler(&c) == HYPERION_OK);
    HY_REQUIRE(hyperionStartProfiling() == HYPERION_OK);
    run_generation(0);
    usleep(100000);   /* let the sampler (1 ms period) take a few samples, even on a loaded machine */
    HY_REQUIRE(hyperionStopProfiling() == HYPERION_OK);

    char *json = NULL;
    HY_REQUIRE(hyperionGetProfileSummary(&json) == HYPERION_OK);
    char err[128];
    tj_value *s = tj_parse(json, err, sizeof err);
    if (!s) printf("    summary is not JSON: %s\n", err);
    HY_REQUIRE(s != NULL);
    check_workload_summary(s);
    HY_CHECK_INT(tj_get(s, "threads")->n, 2);
    HY_CHECK(tj_num(tj_get(tj_get(s, "samples"), "count")) >= 2);
    HY_CHECK_INT(tj_num(tj_get(tj_get(s, "samples"), "tokensGenerated")), TOKENS);
    tj_free(s);
    hyperionFree(json);

    char path[600];
    snprintf(path, sizeof path, "%s/workload.json", hy_test_tmpdir());
    HY_REQUIRE(hyperionSaveProfile(path, HYPERION_PROFILE_BOTH) == HYPERION_OK);
    check_trace(path, 1);

    char *table = NULL;
    HY_REQUIRE(hyperionGetProfileTable(&table) == HYPERION_OK);
    HY_CHECK(strstr(table, "matmul") != NULL && strstr(table, "decode") != NULL);
    if (getenv("HY_PRINT_PROFILE")) fputs(table, stdout);
    hyperionFree(table);
    hyperionShutdownProfiler();
}

/* Other requests' zones run at the same time and must not appear. */
static void *other_request(void *arg) {
    (void)arg;
    hyperionProfilerSetRequest(8);
    for (int i = 0; i < 50; i++) {
        HY_ZONE_OP(z, "matmul", 0, .bytes = 1);
        spin(100);
        HY_ZONE_END(z);
    }
    hyperionProfilerNoteTokens(HYPERION_PHASE_DECODE, 100);
    return NULL;
}

HY_TEST(profiler_request_capture_returns_that_request_only) {
    hyperion_profiler_config c;
    hyperionProfilerConfigDefaults(&c);
    c.sample_interval_ms = 0;
    c.buffer_events = 4096;
    HY_REQUIRE(hyperionInitProfiler(&c) == HYPERION_OK);
    HY_CHECK_INT(hyperionBeginProfileCapture(0), HYPERION_INVALID_ARGUMENT);
    HY_REQUIRE(hyperionBeginProfileCapture(7) == HYPERION_OK);
    HY_CHECK_INT(hyperionBeginProfileCapture(7), HYPERION_INVALID_ARGUMENT);
    HY_CHECK(!hyperionIsProfiling());
    HY_CHECK(HY_PROFILER_ON());
    pthread_t other;
    HY_REQUIRE(pthread_create(&other, NULL, other_request, NULL) == 0);
    run_generation(7);
    pthread_join(other, NULL);
    {
        HY_ZONE_BEGIN(z, "no-request", HYPERION_ZONE_OP);   /* request 0: not captured */
        HY_CHECK(z.buffer == NULL);
        HY_ZONE_END(z);
    }
    char *json = NULL;
    HY_REQUIRE(hyperionEndProfileCapture(7, &json) == HYPERION_OK);
    HY_CHECK(!HY_PROFILER_ON());
    char err[128];
    tj_value *s = tj_parse(json, err, sizeof err);
    HY_REQUIRE(s != NULL);
    HY_CHECK_STR(tj_str(tj_get(s, "kind")), "request");
    HY_CHECK_INT(tj_num(tj_get(s, "request")), 7);
    check_workload_summary(s);   /* exactly this request's calls and tokens */
    tj_free(s);
    hyperionFree(json);
    HY_CHECK_INT(hyperionEndProfileCapture(7, NULL), HYPERION_INVALID_ARGUMENT);

    /* a capture inside a session does not disturb the session */
    HY_REQUIRE(hyperionStartProfiling() == HYPERION_OK);
    HY_REQUIRE(hyperionBeginProfileCapture(9) == HYPERION_OK);
    run_generation(9);
    HY_REQUIRE(hyperionEndProfileCapture(9, NULL) == HYPERION_OK);
    HY_REQUIRE(hyperionStopProfiling() == HYPERION_OK);
    HY_REQUIRE(hyperionGetProfileSummary(&json) == HYPERION_OK);
    s = tj_parse(json, err, sizeof err);
    HY_REQUIRE(s != NULL);
    check_workload_summary(s);
    tj_free(s);
    hyperionFree(json);
    hyperionShutdownProfiler();
}
