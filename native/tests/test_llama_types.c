/* test_llama_types.c — the optimized graph against the double-precision
 * reference for every supported weight type, on the project's own random
 * models (tiny shape), at prompt lengths 1, 7 and 33, one and two threads.
 *
 * The reference runs on the same weights dequantized to float, so what is
 * measured is the graph's own error:
 *  - f32: float rounding only: 1e-4 relative L2 (the bar), F32 cache;
 *  - f16 / bf16: weights are exact after dequantization, but the F16 KV cache
 *    rounds K and V to 11 significant bits: 1e-3;
 *  - q8_0 / q4_0 / q4_k_m / q5_k_m: the weights are exact too, but the kernels
 *    multiply them with activations quantized to 8 bits per block (Q8_0 or
 *    Q8_K, as llama.cpp does): each activation carries a rounding error of
 *    std amax / (127 sqrt 12), about 0.5% of a typical element for 32-element
 *    blocks and more for Q8_K's 256-element blocks; eight matmuls per layer over
 *    two layers add such errors in quadrature: ~2%. Measured 1.1-1.8% (q5_k_m
 *    highest). Bound: 3e-2. */
#include "harness.h"
#include "test_llama_util.h"

#include <stdlib.h>

#include "kernels/types.h"
#include "kernels/matmul.h"

static const char *const types[] = { "f32", "f16", "bf16", "q8_0", "q4_0", "q4_k_m", "q5_k_m" };
static const double bounds[] = { 1e-4, 1e-3, 1e-3, 3e-2, 3e-2, 3e-2, 3e-2 };

static void check_type(int index) {
    char name[32];
    snprintf(name, sizeof name, "tiny-%s", types[index]);
    hy_llama_model *m = hy_test_load_tiny(name, types[index], 7);
    HY_REQUIRE(m != NULL);
    size_t nv = m->hp.n_vocab;
    static const uint32_t lengths[] = { 1, 7, 33 };
    int32_t tokens[33];
    for (int i = 0; i < 33; i++) tokens[i] = (int32_t)((i * 7919 + 13) % nv);
    tokens[0] = 1;
    float *ref = malloc(33 * nv * sizeof(float)), *got = malloc(33 * nv * sizeof(float));
    for (size_t li = 0; li < 3; li++) {
        uint32_t n = lengths[li];
        HY_REQUIRE(hy_test_reference_logits(m, tokens, n, ref) == HYPERION_OK);
        for (int threads = 1; threads <= 2; threads++) {
            hy_threadpool *pool = NULL;
            hy_llama_context *ctx = NULL;
            hy_llama_context_params cp = { 64, 16, index == 0 ? HY_KV_CACHE_F32 : HY_KV_CACHE_F16, 0 };
            HY_REQUIRE(hy_threadpool_create(threads, &pool) == HYPERION_OK);
            HY_REQUIRE(hy_llama_context_create(m, &cp, &ctx) == HYPERION_OK);
            HY_REQUIRE(hy_llama_decode(ctx, pool, tokens, n, got, 1, NULL) == HYPERION_OK);
            double err = hy_test_rel_l2(got, ref, n * nv);
            if (threads == 2) printf("    %-6s n=%2u rel L2 %.3g (bound %.0e)\n", types[index], n, err, bounds[index]);
            HY_CHECK(err < bounds[index]);
            hy_llama_context_free(ctx);
            hy_threadpool_free(pool);
        }
    }
    free(ref);
    free(got);
    hy_llama_model_free(m);
}

HY_TEST(llama_type_f32_matches_reference) { check_type(0); }
HY_TEST(llama_type_f16_matches_reference) { check_type(1); }
HY_TEST(llama_type_bf16_matches_reference) { check_type(2); }
HY_TEST(llama_type_q8_0_matches_reference) { check_type(3); }
HY_TEST(llama_type_q4_0_matches_reference) { check_type(4); }
HY_TEST(llama_type_q4_k_m_matches_reference) { check_type(5); }
HY_TEST(llama_type_q5_k_m_matches_reference) { check_type(6); }

/* SIMD against the scalar kernels through the whole graph. */
HY_TEST(llama_simd_matches_scalar_graph) {
    hy_llama_model *m = hy_test_load_tiny("tiny-simd", "q4_k_m", 3);
    HY_REQUIRE(m != NULL);
    size_t nv = m->hp.n_vocab;
    int32_t tokens[7] = { 1, 5, 99, 300, 7, 1000, 42 };
    float *a = malloc(7 * nv * sizeof(float)), *b = malloc(7 * nv * sizeof(float));
    for (int pass = 0; pass < 2; pass++) {
        HY_REQUIRE(hyperionEnableSIMD("all", pass == 0 ? 0 : 1) == HYPERION_OK);
        hy_threadpool *pool = NULL;
        hy_llama_context *ctx = NULL;
        /* F32 cache: with F16, a value that lands on the other side of an F16
         * rounding boundary (the two paths sum in different orders) moves by
         * ~5e-4, which can flip the 8-bit rounding of the next layer's
         * activations: ~1e-2 apart, without either path being wrong. */
        hy_llama_context_params cp = { 16, 4, HY_KV_CACHE_F32, 0 };
        HY_REQUIRE(hy_threadpool_create(2, &pool) == HYPERION_OK);
        HY_REQUIRE(hy_llama_context_create(m, &cp, &ctx) == HYPERION_OK);
        HY_REQUIRE(hy_llama_decode(ctx, pool, tokens, 7, pass == 0 ? a : b, 1, NULL) == HYPERION_OK);
        hy_llama_context_free(ctx);
        hy_threadpool_free(pool);
    }
    hyperionEnableSIMD("all", 1);
    /* same integer block sums; only the order of float additions differs */
    double err = hy_test_rel_l2(b, a, 7 * nv);
    printf("    SIMD vs scalar graph rel L2 %.3g\n", err);
    HY_CHECK(err < 1e-4);
    free(a);
    free(b);
    hy_llama_model_free(m);
}

/* Prompt processing keeps its matmul scratch per pool thread in the context:
 * a prefill of several chunks makes no HYPERION_TAG_SCRATCH allocation (the
 * kernels' own per-call block would make one per product and thread), and the
 * logits equal those of a context that grew its scratch at the first decode. */
static uint64_t scratch_allocations(void) {
    hyperion_memory_debug_info info;
    hyperionGetMemoryDebugInfo(&info);
    return info.tags[HYPERION_TAG_SCRATCH].total_allocations;
}

HY_TEST(llama_prefill_allocates_no_matmul_scratch) {
    hy_llama_model *m = hy_test_load_tiny("tiny-scratch", "q4_0", 11);
    HY_REQUIRE(m != NULL);
    /* the kernels in use want scratch for these products, else there is
     * nothing to check (the x86 tiles always do; the scalar and NEON
     * matmuls use none) */
    hyperion_isa isa;
    HY_REQUIRE(hyperionGetKernelIsa("matmul", &isa) == HYPERION_OK);
    if (isa == HYPERION_ISA_AVX2 || isa == HYPERION_ISA_AVX512)
        HY_CHECK(hy_matmul_scratch_bytes(m->w.layers[0].t[HY_L_ATTN_Q], 8) > 0);
    if (hy_matmul_scratch_bytes(m->w.layers[0].t[HY_L_ATTN_Q], 8) == 0) {
        printf("    (%s matmul kernels use no scratch: nothing to check)\n", hyperionIsaName(isa));
        hy_llama_model_free(m);
        return;
    }
    size_t nv = m->hp.n_vocab;
    enum { N = 40 };   /* 5 chunks of 8 */
    int32_t tokens[N];
    for (int i = 0; i < N; i++) tokens[i] = (int32_t)((i * 7919 + 13) % nv);
    float *a = malloc(nv * sizeof(float)), *b = malloc(nv * sizeof(float));
    hy_threadpool *pool = NULL;
    HY_REQUIRE(hy_threadpool_create(2, &pool) == HYPERION_OK);

    /* scratch made at create for the pool's threads: the decode allocates none */
    hy_llama_context *ctx = NULL;
    hy_llama_context_params cp = { 64, 8, 0, (uint32_t)hy_threadpool_size(pool) };
    uint64_t before_create = scratch_allocations();
    HY_REQUIRE(hy_llama_context_create(m, &cp, &ctx) == HYPERION_OK);
    HY_CHECK(scratch_allocations() - before_create <= 1);    /* one block for every thread */
    uint64_t before = scratch_allocations();
    HY_REQUIRE(hy_llama_decode(ctx, pool, tokens, N, a, 0, NULL) == HYPERION_OK);
    HY_CHECK_INT((int)(scratch_allocations() - before), 0);
    hy_llama_context_free(ctx);

    /* made at the first decode (n_threads 0): one block, then none for the next prompt */
    hy_llama_context_params lazy = { 64, 8, 0, 0 };
    HY_REQUIRE(hy_llama_context_create(m, &lazy, &ctx) == HYPERION_OK);
    before = scratch_allocations();
    HY_REQUIRE(hy_llama_decode(ctx, pool, tokens, N, b, 0, NULL) == HYPERION_OK);
    HY_CHECK(scratch_allocations() - before <= 1);
    hy_llama_context_truncate(ctx, 0);
    before = scratch_allocations();
    HY_REQUIRE(hy_llama_decode(ctx, pool, tokens, N, b, 0, NULL) == HYPERION_OK);
    HY_CHECK_INT((int)(scratch_allocations() - before), 0);
    HY_CHECK(hy_test_rel_l2(a, b, nv) < 1e-6);
    hy_llama_context_free(ctx);

    hy_threadpool_free(pool);
    free(a);
    free(b);
    hy_llama_model_free(m);
}

/* The chunk buffers follow the calls: grown once to the chunk size of a
 * prompt (in one call or one call per chunk, as sessions do) and then reused,
 * cut back to one token by a decode step (their pages given back to the
 * system), grown again by the next prompt; the logits do not depend on it. */
static uint64_t activation_allocations(void) {
    hyperion_memory_debug_info info;
    hyperionGetMemoryDebugInfo(&info);
    return info.tags[HYPERION_TAG_ACTIVATIONS].total_allocations;
}

static uint64_t activation_bytes(void) {
    hyperion_memory_stats st;
    hyperionGetMemoryStats(&st);
    return st.tag_bytes[HYPERION_TAG_ACTIVATIONS];
}

HY_TEST(llama_chunk_buffers_grow_for_prompts_and_shrink_for_decode) {
    hy_llama_model *m = hy_test_load_tiny("tiny-chunks", "q4_0", 5);
    HY_REQUIRE(m != NULL);
    size_t nv = m->hp.n_vocab;
    enum { N = 40, B = 8 };   /* 5 chunks of 8 */
    int32_t tokens[N + 8];
    for (int i = 0; i < N + 8; i++) tokens[i] = (int32_t)((i * 7919 + 13) % nv);
    float *a = malloc(nv * sizeof(float)), *b = malloc(nv * sizeof(float));
    hy_threadpool *pool = NULL;
    HY_REQUIRE(hy_threadpool_create(2, &pool) == HYPERION_OK);
    hy_llama_context_params cp = { 64, B, 0, (uint32_t)hy_threadpool_size(pool) };

    /* A: the prompt in one call, a decode step, then a 7-token chunk */
    hy_llama_context *ctx = NULL;
    HY_REQUIRE(hy_llama_context_create(m, &cp, &ctx) == HYPERION_OK);
    HY_CHECK_INT(hy_llama_context_chunk_capacity(ctx), 0);
    uint64_t before = activation_allocations();
    HY_REQUIRE(hy_llama_decode(ctx, pool, tokens, N, NULL, 0, NULL) == HYPERION_OK);
    HY_CHECK_INT((int)(activation_allocations() - before), 1);   /* one block for all five chunks */
    HY_CHECK_INT(hy_llama_context_chunk_capacity(ctx), B);
    uint64_t prompt_bytes = activation_bytes();
    HY_REQUIRE(hy_llama_decode(ctx, pool, tokens + N, 1, NULL, 0, NULL) == HYPERION_OK);
    HY_CHECK_INT(hy_llama_context_chunk_capacity(ctx), 1);
    HY_CHECK(activation_bytes() < prompt_bytes);
    before = activation_allocations();
    HY_REQUIRE(hy_llama_decode(ctx, pool, tokens + N + 1, 1, NULL, 0, NULL) == HYPERION_OK);
    HY_CHECK_INT((int)(activation_allocations() - before), 0);   /* decode steps reuse the one-token block */
    HY_REQUIRE(hy_llama_decode(ctx, pool, tokens + N + 2, 6, a, 0, NULL) == HYPERION_OK);
    HY_CHECK_INT(hy_llama_context_chunk_capacity(ctx), 6);
    hy_llama_context_free(ctx);

    /* B: the prompt one call per chunk (a session's turns), an explicit trim */
    HY_REQUIRE(hy_llama_context_create(m, &cp, &ctx) == HYPERION_OK);
    before = activation_allocations();
    for (int i = 0; i < N; i += B) HY_REQUIRE(hy_llama_decode(ctx, pool, tokens + i, B, NULL, 0, NULL) == HYPERION_OK);
    HY_CHECK_INT((int)(activation_allocations() - before), 1);
    HY_CHECK_INT(hy_llama_context_trim(ctx), HYPERION_OK);
    HY_CHECK_INT(hy_llama_context_chunk_capacity(ctx), 1);
    HY_REQUIRE(hy_llama_decode(ctx, pool, tokens + N, 1, NULL, 0, NULL) == HYPERION_OK);
    HY_REQUIRE(hy_llama_decode(ctx, pool, tokens + N + 1, 1, NULL, 0, NULL) == HYPERION_OK);
    HY_REQUIRE(hy_llama_decode(ctx, pool, tokens + N + 2, 6, b, 0, NULL) == HYPERION_OK);
    /* same chunks, same kernels: the same numbers */
    HY_CHECK(hy_test_rel_l2(a, b, nv) < 1e-6);
    hy_llama_context_free(ctx);

    hy_threadpool_free(pool);
    free(a);
    free(b);
    hy_llama_model_free(m);
}
