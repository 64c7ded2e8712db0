/* test_profiler_graph.c — the profiler wired into the runtime: the thread
 * pool's slice zones (one per participant, carrying the items' bytes and flops,
 * on threads named "worker-N", attributed to the dispatching thread's request)
 * and the llama graph's zones on stories260K (calls per op, phase tokens). */
#include "harness.h"
#include "test_llama_util.h"
#include "test_profiler_json.h"

#include <stdlib.h>

#include "kernels/quant.h"
#include "kernels/types.h"
#include "runtime/threadpool.h"

static const tj_value *find_op(const tj_value *s, const char *name) {
    const tj_value *ops = tj_get(s, "ops");
    for (size_t i = 0; ops && i < ops->n; i++)
        if (strcmp(tj_str(tj_get(tj_at(ops, i), "name")), name) == 0) return tj_at(ops, i);
    return NULL;
}

static double op_num(const tj_value *s, const char *name, const char *key) {
    const tj_value *op = find_op(s, name);
    return op ? tj_num(tj_get(op, key)) : -1;
}

static tj_value *parse_owned(char *json) {
    char err[256];
    tj_value *v = json ? tj_parse(json, err, sizeof err) : NULL;
    if (json && !v) hy_test_fail(__FILE__, __LINE__, "summary does not parse: %s", err);
    hyperionFree(json);
    return v;
}

static void quiet_config(void) {
    hyperion_profiler_config cfg;
    hyperionProfilerConfigDefaults(&cfg);
    cfg.sample_interval_ms = 0;
    cfg.track_memory = 0;
    HY_REQUIRE(hyperionInitProfiler(&cfg) == HYPERION_OK);
}

/* ------------------------------------------------------------ the pool */

typedef struct probe {
    _Atomic uint64_t request_seen[4];   /* per participant: the request id inside the task */
    _Atomic int cost_calls;
    volatile double sink;
} probe;

static void probe_items(void *arg, size_t begin, size_t end, int thread_index) {
    probe *p = arg;
    atomic_store(&p->request_seen[thread_index & 3], hyperionProfilerGetRequest());
    double x = 1.0;
    for (size_t i = begin; i < end; i++)
        for (int k = 0; k < 2000; k++) x = x * 1.0000001 + 1e-9;
    p->sink = x;
}

static void probe_cost(const void *arg, size_t begin, size_t end, uint64_t *bytes, uint64_t *flops) {
    probe *p = (probe *)arg;
    atomic_fetch_add(&p->cost_calls, 1);
    *bytes += 0;
    *flops += (uint64_t)(end - begin);   /* one extra flop per item, on top of item_flops */
}

static const hy_threadpool_zone probe_zone = {
    .name = "probe-op", .type = "f32", .layer = 3, .dims = { 64, 8 },
    .item_bytes = 10, .item_flops = 3, .participant_bytes = 100, .item_cost = probe_cost,
};

HY_TEST(profiler_pool_slices_are_off_when_the_profiler_is) {
    hyperionShutdownProfiler();
    hy_threadpool *pool = NULL;
    HY_REQUIRE(hy_threadpool_create(2, &pool) == HYPERION_OK);
    probe p;
    memset(&p, 0, sizeof p);
    HY_CHECK(hy_threadpool_for_zoned(pool, HY_THREADPOOL_STATIC, 64, 8, probe_items, &p, &probe_zone) == HYPERION_OK);
    HY_CHECK_INT(atomic_load(&p.cost_calls), 0);   /* nothing measured when nothing records */
    HY_CHECK(hy_threadpool_for_zoned(pool, (hy_threadpool_split)7, 4, 1, probe_items, &p, NULL) == HYPERION_INVALID_ARGUMENT);
    hy_threadpool_free(pool);
}

HY_TEST(profiler_pool_slices_carry_costs_on_named_workers) {
    hyperionShutdownProfiler();
    quiet_config();
    hy_threadpool *pool = NULL;
    HY_REQUIRE(hy_threadpool_create(2, &pool) == HYPERION_OK);
    probe p;
    memset(&p, 0, sizeof p);
    HY_REQUIRE(hyperionStartProfiling() == HYPERION_OK);
    for (int run = 0; run < 3; run++) {
        /* the dispatching thread's zone around the run, without costs */
        HY_ZONE_OP(z, "probe-op", 3, .dims = { 64, 8 }, .type = "f32");
        HY_CHECK(hy_threadpool_for_zoned(pool, HY_THREADPOOL_STATIC, 64, 8, probe_items, &p, &probe_zone) == HYPERION_OK);
        HY_ZONE_END(z);
    }
    HY_REQUIRE(hyperionStopProfiling() == HYPERION_OK);
    char *json = NULL;
    HY_REQUIRE(hyperionGetProfileSummary(&json) == HYPERION_OK);
    tj_value *s = parse_owned(json);
    HY_REQUIRE(s != NULL);
    /* 3 runs x (1 dispatch zone + 2 slices); static split: both participants get items */
    HY_CHECK_INT(op_num(s, "probe-op", "calls"), 3 * 3);
    HY_CHECK_INT(op_num(s, "probe-op", "bytes"), 3 * (64 * 10 + 2 * 100));
    HY_CHECK_INT(op_num(s, "probe-op", "flops"), 3 * 64 * (3 + 1));
    const tj_value *threads = tj_get(s, "threads");
    int worker_named = 0;
    for (size_t i = 0; threads && i < threads->n; i++)
        if (strcmp(tj_str(tj_get(tj_at(threads, i), "name")), "worker-1") == 0) worker_named = 1;
    HY_CHECK(worker_named);
    tj_free(s);
    hy_threadpool_free(pool);
    hyperionShutdownProfiler();
}

HY_TEST(profiler_pool_workers_take_the_dispatching_request) {
    hyperionShutdownProfiler();
    quiet_config();
    hy_threadpool *pool = NULL;
    HY_REQUIRE(hy_threadpool_create(2, &pool) == HYPERION_OK);
    probe p;
    memset(&p, 0, sizeof p);
    HY_REQUIRE(hyperionBeginProfileCapture(42) == HYPERION_OK);

    /* a run of request 42: both participants see 42, both slices count */
    hyperionProfilerSetRequest(42);
    HY_CHECK(hy_threadpool_for_zoned(pool, HY_THREADPOOL_STATIC, 64, 8, probe_items, &p, &probe_zone) == HYPERION_OK);
    HY_CHECK_INT(atomic_load(&p.request_seen[0]), 42);
    HY_CHECK_INT(atomic_load(&p.request_seen[1]), 42);

    /* a run of another request: not part of the capture, and the worker no longer carries 42 */
    hyperionProfilerSetRequest(43);
    HY_CHECK(hy_threadpool_for_zoned(pool, HY_THREADPOOL_STATIC, 64, 8, probe_items, &p, &probe_zone) == HYPERION_OK);
    HY_CHECK_INT(atomic_load(&p.request_seen[1]), 43);
    hyperionProfilerSetRequest(0);
    HY_CHECK(hy_threadpool_for_zoned(pool, HY_THREADPOOL_STATIC, 64, 8, probe_items, &p, &probe_zone) == HYPERION_OK);
    HY_CHECK_INT(atomic_load(&p.request_seen[1]), 0);

    char *json = NULL;
    HY_REQUIRE(hyperionEndProfileCapture(42, &json) == HYPERION_OK);
    tj_value *s = parse_owned(json);
    HY_REQUIRE(s != NULL);
    HY_CHECK_INT(op_num(s, "probe-op", "calls"), 2);   /* the two slices of request 42 only */
    HY_CHECK_INT(op_num(s, "probe-op", "bytes"), 64 * 10 + 2 * 100);
    HY_CHECK_INT(tj_num(tj_get(s, "request")), 42);
    tj_free(s);
    hy_threadpool_free(pool);
    hyperionShutdownProfiler();
}

/* ------------------------------------------------------------ the graph */

static const int32_t tokens[] = { 1, 403, 407, 261, 378, 5, 241, 2, 17, 85 };
#define N_TOKENS 10u
#define N_BATCH 4u   /* chunks of 4, 4, 2 */

HY_TEST(profiler_graph_zones_on_stories260k) {
    const char *path = hy_test_shared_model("stories260K.gguf");
    if (!path) {
        printf("    (../shared/models/stories260K.gguf absent: skipped)\n");
        return;
    }
    hyperionShutdownProfiler();
    quiet_config();
    hy_llama_model *m = NULL;
    HY_REQUIRE(hyperionStartProfiling() == HYPERION_OK);
    HY_REQUIRE(hy_llama_model_load(path, &m) == HYPERION_OK);
    hy_threadpool *pool = NULL;
    hy_llama_context *ctx = NULL;
    hy_llama_context_params cp = { 64, N_BATCH, HY_KV_CACHE_F16, 0 };
    HY_REQUIRE(hy_threadpool_create(1, &pool) == HYPERION_OK);
    HY_REQUIRE(hy_llama_context_create(m, &cp, &ctx) == HYPERION_OK);
    float *logits = malloc((size_t)m->hp.n_vocab * sizeof(float));
    HY_REQUIRE(hy_llama_decode(ctx, pool, tokens, N_TOKENS, logits, 0, NULL) == HYPERION_OK);   /* prefill */
    int32_t next = 7;
    HY_REQUIRE(hy_llama_decode(ctx, pool, &next, 1, logits, 0, NULL) == HYPERION_OK);          /* one decode step */
    HY_REQUIRE(hyperionStopProfiling() == HYPERION_OK);

    char *json = NULL;
    HY_REQUIRE(hyperionGetProfileSummary(&json) == HYPERION_OK);
    tj_value *s = parse_owned(json);
    HY_REQUIRE(s != NULL);
    const uint32_t L = m->hp.n_layer, C = 3 + 1;   /* three prefill chunks, one decode pass */
    HY_CHECK_INT(op_num(s, "load", "calls"), 1);
    HY_CHECK_INT(op_num(s, "prefill", "calls"), 1);
    HY_CHECK_INT(op_num(s, "decode", "calls"), 1);
    HY_CHECK_INT(op_num(s, "layer", "calls"), L * C);
    HY_CHECK_INT(op_num(s, "attention", "calls"), 2 * L * C);   /* one thread: dispatch + one slice */
    HY_CHECK_INT(op_num(s, "rmsnorm", "calls"), 2 * L * C + 2);  /* + the output norm of each call's last chunk */
    HY_CHECK_INT(op_num(s, "rope", "calls"), L * C);
    HY_CHECK_INT(op_num(s, "kv_store", "calls"), L * C);
    HY_CHECK_INT(op_num(s, "swiglu", "calls"), L * C);
    HY_CHECK_INT(op_num(s, "add", "calls"), 2 * L * C);
    HY_CHECK_INT(op_num(s, "embed", "calls"), C);
    HY_CHECK_INT(op_num(s, "logits", "calls"), 2);

    /* weight products by kernel and shape: q (E x E) and o per layer, in prefill (matmul) and decode (matvec) */
    char name[64];
    snprintf(name, sizeof name, "matmul %ux%u", m->hp.n_embd_q, m->hp.n_embd);
    HY_CHECK_INT(op_num(s, name, "calls"), 2 * 2 * L * 3);    /* q and o, 3 chunks, dispatch + slice */
    snprintf(name, sizeof name, "matvec %ux%u", m->hp.n_embd_q, m->hp.n_embd);
    HY_CHECK_INT(op_num(s, name, "calls"), 2 * 2 * L);
    /* a matvec's bytes: every weight row once, plus outputs and the activation row */
    uint64_t row_bytes = m->w.layers[0].t[HY_L_ATTN_Q]->row_bytes;
    uint64_t expect = 2ull * L * (m->hp.n_embd_q * (row_bytes + 4) + hy_activation_row_bytes(m->w.layers[0].t[HY_L_ATTN_Q]->type, m->hp.n_embd));
    HY_CHECK_INT(op_num(s, name, "bytes"), expect);
    HY_CHECK_INT(op_num(s, name, "flops"), 2ull * L * 2ull * m->hp.n_embd_q * m->hp.n_embd);

    /* tokens per phase, and self times adding up */
    const tj_value *phases = tj_get(s, "phases");
    for (size_t i = 0; phases && i < phases->n; i++) {
        const tj_value *ph = tj_at(phases, i);
        if (strcmp(tj_str(tj_get(ph, "phase")), "prefill") == 0) HY_CHECK_INT(tj_num(tj_get(ph, "tokens")), N_TOKENS);
        if (strcmp(tj_str(tj_get(ph, "phase")), "decode") == 0) HY_CHECK_INT(tj_num(tj_get(ph, "tokens")), 1);
    }
    HY_CHECK_NEAR(tj_num(tj_get(s, "selfSumMs")), tj_num(tj_get(s, "tracedMs")), tj_num(tj_get(s, "tracedMs")) * 0.01);
    HY_CHECK_INT(tj_num(tj_get(s, "droppedEvents")), 0);
    HY_CHECK_INT(tj_num(tj_get(s, "clampedEvents")), 0);
    tj_free(s);

    free(logits);
    hy_llama_context_free(ctx);
    hy_threadpool_free(pool);
    hy_llama_model_free(m);
    hyperionShutdownProfiler();
}
