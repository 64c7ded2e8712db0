/* test_fault_walk.c — fault injection over a whole request: load a tiny
 * model-maker model, tokenize, create a session, generate twice (the second
 * reuses the cache) with sampling, stop strings, logprobs and debug candidates,
 * free everything. First count the pool allocations of that sequence, then
 * for every n make the n-th fail: each run must end in HYPERION_OUT_OF_MEMORY
 * (the injected failure, never a crash or another code), leave nothing behind,
 * and the next run must succeed with the same text. Under ASan this walks
 * every error path of the load and generation code. */
#include "harness.h"
#include "test_memory_util.h"

#include "model/model_maker.h"
#include "runtime/generate.h"
#include "runtime/model.h"
#include "runtime/session.h"

typedef struct walk_out {
    char text[512];
    size_t len;
} walk_out;

static hyperion_status collect(void *user, const hy_generate_piece *p) {
    walk_out *o = user;
    if (o->len + p->len < sizeof o->text) {
        memcpy(o->text + o->len, p->text, p->len);
        o->len += p->len;
    }
    return HYPERION_OK;
}

static hyperion_status generate(hy_session *s, const int32_t *ids, uint32_t n, walk_out *out) {
    static const char *stops[] = { "xq", "e " };
    static const size_t stop_lens[] = { 2, 2 };
    hy_generate_params p;
    memset(&p, 0, sizeof p);
    hy_sampler_options_init(&p.sampler);
    p.sampler.temperature = 0.9f;
    p.sampler.top_k = 20;
    p.sampler.seed = 11;
    p.sampler.n_candidates = 3;
    p.sampler.presence_penalty = 0.5f;
    p.stops = stops;
    p.stop_lens = stop_lens;
    p.n_stops = 2;
    p.max_tokens = 6;
    p.stop_at_eos = 1;
    atomic_int flag;
    atomic_init(&flag, 0);
    hy_generate_stats stats;
    memset(&stats, 0, sizeof stats);
    stats.start_ns = hy_clock_monotonic_ns();
    return hy_generate(s, ids, n, &p, &flag, collect, out, &stats);
}

/* The sequence under test; every exit path frees what it made. */
static hyperion_status run_sequence(const char *path, walk_out *out) {
    memset(out, 0, sizeof *out);
    hy_model_params mp = { .threads = 2 };
    hy_model *m = NULL;
    hyperion_status st = hy_model_load(path, &mp, &m);
    if (st != HYPERION_OK) return st;
    int32_t ids[64];
    size_t n = 0;
    const char *prompt = "Once upon a time";
    st = hy_tokenizer_tokenize(m->vocab->tok, prompt, strlen(prompt), NULL, ids, 64, &n);
    hy_session *s = NULL;
    if (st == HYPERION_OK) st = hy_session_create(m, 64, &s);
    if (st == HYPERION_OK) st = generate(s, ids, (uint32_t)n, out);
    if (st == HYPERION_OK) {
        ids[n] = 3; /* the history grows: the cache is reused */
        st = generate(s, ids, (uint32_t)n + 1, out);
    }
    hy_session_free(s);
    hy_model_dispose(m);
    return st;
}

HY_TEST(fault_walk_load_generate_free_every_allocation) {
    quiet_logs();
    char path[700];
    snprintf(path, sizeof path, "%s/fault-walk-tiny.gguf", hy_test_tmpdir());
    hy_make_model_params mk;
    memset(&mk, 0, sizeof mk);
    /* smaller than the "tiny" preset: the walk loads it twice per allocation */
    mk.shape = (hy_make_model_shape){ "walk", 260, 64, 2, 2, 1, 128, 128, 10000.0f, 1e-5f };
    mk.type_name = "q4_0";
    mk.seed = 3;
    HY_REQUIRE(hy_make_model(&mk, path) == HYPERION_OK);

    walk_out expected, got;
    HY_REQUIRE(run_sequence(path, &expected) == HYPERION_OK);   /* warm: one-time process state */
    uint64_t base = mem_in_use();
    uint64_t start = hyperionTestAllocationAttempts();
    HY_REQUIRE(run_sequence(path, &got) == HYPERION_OK);
    uint64_t count = hyperionTestAllocationAttempts() - start;
    HY_CHECK(got.len == expected.len && memcmp(got.text, expected.text, got.len) == 0);
    HY_CHECK_INT(mem_in_use(), base);
    printf("    walking %llu allocations\n", (unsigned long long)count);
    HY_CHECK(count > 20);

    int failures = 0;
    for (uint64_t n = 1; n <= count && failures < 5; n++) {
        hyperionTestFailAllocation(n, 0);
        hyperion_status st = run_sequence(path, &got);
        hyperionTestFailAllocation(0, 0);
        int ok = st == HYPERION_OUT_OF_MEMORY && error_number("injected") == 1;
        uint64_t left = mem_in_use();
        if (!ok || left != base) {
            failures++;
            hy_test_fail(__FILE__, __LINE__, "allocation %llu of %llu: status %d (%s), %lld bytes left behind",
                         (unsigned long long)n, (unsigned long long)count, (int)st, hyperionGetLastError()->message,
                         (long long)(left - base));
        }
        st = run_sequence(path, &got);
        if (st != HYPERION_OK || got.len != expected.len || memcmp(got.text, expected.text, got.len) != 0) {
            failures++;
            hy_test_fail(__FILE__, __LINE__, "the run after failing allocation %llu: status %d, text differs: %d",
                         (unsigned long long)n, (int)st, st == HYPERION_OK);
        }
    }
}
