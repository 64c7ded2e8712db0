/* test_llama_repack.c — weights repacked at load (hy_llama_model_repack):
 * for Q4_0 the same logits as the mapped model, bit for bit (the x8 kernels
 * make the same sums in the same order), for prompt chunks (tiles) and token
 * by token (matvec), also through the scalar fallback; for Q8_0 bit for bit
 * through the tiles and within float reordering token by token; the copies
 * live in one tagged pool block; K-quants are copied as they are, with the
 * same logits; a memory budget that refuses the block
 * leaves a working, fully mapped model. */
#include "harness.h"
#include "test_llama_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/repack.h"
#include "kernels/types.h"

static const int32_t prompt[] = { 1, 403, 407, 261, 378, 5, 241, 2, 17, 85, 99, 500, 3, 77, 240, 311, 9 };
#define N_PROMPT (sizeof prompt / sizeof prompt[0])

/* all logits of the prompt on two threads, in chunks of n_batch (1: token by token) */
static float *run(const hy_llama_model *m, uint32_t n_batch) {
    return hy_test_logits(m, 2, n_batch, HY_KV_CACHE_F16, prompt, N_PROMPT);
}

/* 1 when the logits are equal (max_rel_l2 0) or within max_rel_l2 with the
 * same greedy choice at every position */
static int close_logits(const hy_llama_model *a, const hy_llama_model *b, uint32_t n_batch, double max_rel_l2) {
    float *x = run(a, n_batch), *y = run(b, n_batch);
    const size_t nv = a->hp.n_vocab;
    int ok = x && y;
    if (ok && max_rel_l2 == 0) ok = memcmp(x, y, N_PROMPT * nv * sizeof(float)) == 0;
    if (ok && max_rel_l2 > 0) {
        const double err = hy_test_rel_l2(y, x, N_PROMPT * nv);
        printf("    token by token, rel L2 repacked vs mapped: %.3g\n", err);
        ok = err < max_rel_l2;
        for (size_t t = 0; ok && t < N_PROMPT; t++) {
            size_t ia = 0, ib = 0;
            for (size_t v = 1; v < nv; v++) {
                if (x[t * nv + v] > x[t * nv + ia]) ia = v;
                if (y[t * nv + v] > y[t * nv + ib]) ib = v;
            }
            ok = ia == ib;
        }
    }
    free(x);
    free(y);
    return ok;
}

static int same_logits(const hy_llama_model *a, const hy_llama_model *b, uint32_t n_batch) {
    return close_logits(a, b, n_batch, 0);
}

/* Two loads of one tiny model made from (type, seed): *mapped stays as
 * loaded, *m is the one a test repacks. 1 when both loaded. */
static int load_twins(const char *name, const char *type, uint64_t seed, hy_llama_model **mapped, hy_llama_model **m) {
    char a[64], b[64];
    snprintf(a, sizeof a, "%s_mapped", name);
    snprintf(b, sizeof b, "%s_copied", name);
    *mapped = hy_test_load_tiny(a, type, seed);
    *m = hy_test_load_tiny(b, type, seed);
    return *mapped && *m;
}

static void free_twins(hy_llama_model *mapped, hy_llama_model *m) {
    hy_llama_model_free(mapped);
    hy_llama_model_free(m);
}

/* 1 when the "matmul" kernels in use are AVX-512, the ones with x8 kernels (so the load repacks) */
static int x8_kernels(void) {
    hyperion_isa isa;
    HY_CHECK_INT(hyperionGetKernelIsa("matmul", &isa), HYPERION_OK);
    return isa == HYPERION_ISA_AVX512;
}

static int in_block(const hy_llama_model *m, const hy_tensor *t) {
    const uint8_t *b = m->repacked_block, *d = t->data;
    return b && d >= b && d < b + m->repacked_bytes + 64 * (size_t)m->n_repacked;
}

HY_TEST(llama_repack_keeps_the_logits) {
    hy_llama_model *mapped, *m;
    HY_REQUIRE(load_twins("repack", "q4_0", 31, &mapped, &m));
    hyperion_memory_stats before, after;
    hyperionGetMemoryStats(&before);
    hy_threadpool *pool = NULL;
    HY_REQUIRE(hy_threadpool_create(2, &pool) == HYPERION_OK);
    HY_CHECK_INT(hy_llama_model_repack(m, pool), HYPERION_OK); /* rows shared by two threads */
    hy_threadpool_free(pool);
    hyperionGetMemoryStats(&after);
    HY_CHECK_INT(hy_llama_model_repack(m, NULL) == HYPERION_OK, m->repacked == NULL); /* a second call is refused */
    /* every layer's nine tensors, the output norm and matrix, all inside the
     * one block: the Q4_0 matrices in the x8 layout where the kernels read it
     * (AVX-512), the rest as they are */
    const uint32_t L = m->hp.n_layer, want = x8_kernels() ? HY_LAYOUT_X8 : HY_LAYOUT_GGUF;
    if (want == HY_LAYOUT_GGUF) printf("    (the matmul kernels in use read Q4_0 fastest in the file's layout)\n");
    uint32_t x8 = 0;
    for (uint32_t l = 0; l < L; l++)
        for (int i = 0; i < HY_L_COUNT; i++) {
            const hy_tensor *t = m->w.layers[l].t[i];
            HY_CHECK(in_block(m, t));
            if (t->n_dims == 2) {
                HY_CHECK_INT(t->layout, want);
                x8 += t->layout == HY_LAYOUT_X8;
            } else {
                HY_CHECK_INT(t->layout, HY_LAYOUT_GGUF);
                HY_CHECK(memcmp(t->data, mapped->w.layers[l].t[i]->data, (size_t)t->n_bytes) == 0);
            }
        }
    HY_CHECK_INT(x8, want == HY_LAYOUT_X8 ? 7 * L : 0);
    HY_CHECK(in_block(m, m->w.output_norm));
    HY_CHECK(in_block(m, m->w.output));
    HY_CHECK_INT(m->w.output->layout, m->w.output->type == HY_TYPE_Q4_0 ? want : HY_LAYOUT_GGUF);
    if (m->w.output->layout == HY_LAYOUT_GGUF)
        HY_CHECK(memcmp(m->w.output->data, mapped->w.output->data, (size_t)m->w.output->n_bytes) == 0);
    HY_CHECK(!in_block(m, m->w.token_embd)); /* embeddings are read a row per token: they stay mapped */
    HY_CHECK_INT(m->n_repacked, 9 * L + 2);
    HY_CHECK_INT(after.tag_bytes[HYPERION_TAG_REPACKED_WEIGHTS] - before.tag_bytes[HYPERION_TAG_REPACKED_WEIGHTS] >=
                     m->repacked_bytes, 1);
    HY_CHECK(same_logits(mapped, m, 64)); /* one chunk: matrix-matrix tiles */
    HY_CHECK(same_logits(mapped, m, 1));  /* token by token: matrix-vector */
    /* the scalar reference reads the x8 rows through the GGUF-order fallback */
    HY_CHECK_INT(hyperionEnableSIMD("matmul", 0), HYPERION_OK);
    HY_CHECK(same_logits(mapped, m, 64));
    HY_CHECK(same_logits(mapped, m, 1));
    HY_CHECK_INT(hyperionEnableSIMD("matmul", 1), HYPERION_OK);
    free_twins(mapped, m);
}

HY_TEST(llama_repack_refused_by_a_budget_leaves_the_mapping) {
    hy_llama_model *mapped, *m;
    HY_REQUIRE(load_twins("repack_budget", "q4_0", 32, &mapped, &m));
    hy_mem_budget *budget = NULL;
    HY_REQUIRE(hyperionCreateMemoryBudget("repack test", 64 * 1024, &budget) == HYPERION_OK);
    hy_mem_budget *outer = hyperionSetThreadMemoryBudget(budget);
    HY_CHECK_INT(hy_llama_model_repack(m, NULL), HYPERION_OK);
    hyperionSetThreadMemoryBudget(outer);
    HY_CHECK_INT(m->n_repacked, 0);
    HY_CHECK(m->repacked_block == NULL && m->repacked == NULL);
    for (uint32_t l = 0; l < m->hp.n_layer; l++)
        HY_CHECK_INT(m->w.layers[l].t[HY_L_FFN_UP]->layout, HY_LAYOUT_GGUF);
    HY_CHECK_INT(hyperionGetLastError()->code, HYPERION_MEMORY_LIMIT);
    HY_CHECK(same_logits(mapped, m, 64));
    hyperionReleaseMemoryBudget(budget);
    free_twins(mapped, m);
}

HY_TEST(llama_repack_q8_0_keeps_the_logits) {
    hy_llama_model *mapped, *m;
    HY_REQUIRE(load_twins("repack_q8", "q8_0", 33, &mapped, &m));
    HY_CHECK_INT(hy_llama_model_repack(m, NULL), HYPERION_OK);
    HY_CHECK_INT(m->n_repacked, 9 * m->hp.n_layer + 2);
    HY_CHECK_INT(m->w.layers[0].t[HY_L_FFN_DOWN]->layout, x8_kernels() ? HY_LAYOUT_X8 : HY_LAYOUT_GGUF);
    HY_CHECK(same_logits(mapped, m, 64));
    /* the Q8_0 x8 row kernel adds the same integer block sums in another
     * float order (test_kernels_repack.c): rounding compounded through the
     * layers, as between the matvec and tile paths of test_llama.c (< 3e-5) */
    HY_CHECK(close_logits(mapped, m, 1, 3e-5));
    free_twins(mapped, m);
}

HY_TEST(llama_repack_copies_k_quants_as_they_are) {
    /* no other layout for K-quants: the copies are byte for byte the file's,
     * read by the same kernels, so the logits are the same bits */
    hy_llama_model *mapped = hy_test_load_tiny("repack_qk_mapped", "q4_k_m", 34);
    hy_llama_model *m = hy_test_load_tiny("repack_qk_copied", "q4_k_m", 34);
    HY_REQUIRE(mapped && m);
    HY_CHECK_INT(hy_llama_model_repack(m, NULL), HYPERION_OK);
    HY_CHECK_INT(m->n_repacked, 9 * m->hp.n_layer + 2);
    for (uint32_t l = 0; l < m->hp.n_layer; l++)
        for (int i = 0; i < HY_L_COUNT; i++) {
            const hy_tensor *t = m->w.layers[l].t[i], *o = mapped->w.layers[l].t[i];
            HY_CHECK(in_block(m, t));
            HY_CHECK_INT(t->layout, HY_LAYOUT_GGUF);
            HY_CHECK_INT(t->type, o->type);
            HY_CHECK(memcmp(t->data, o->data, (size_t)t->n_bytes) == 0);
        }
    HY_CHECK(in_block(m, m->w.output));
    HY_CHECK(same_logits(mapped, m, 64));
    HY_CHECK(same_logits(mapped, m, 1));
    hy_llama_model_free(mapped);
    hy_llama_model_free(m);
}
