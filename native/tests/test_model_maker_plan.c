/* test_model_maker_plan.c — the model maker's plans for the large presets
 * (recipes, parameter counts), fallbacks for rows the blocks do not fit, tied
 * output, progress, abort, and parameter and path errors. */
#include "harness.h"
#include "test_gguf_util.h"

#include "kernels/types.h"
#include "model/gguf.h"
#include "model/llama_hparams.h"
#include "model/model_maker.h"

#include <unistd.h>

static hy_make_model_params params(const char *shape, const char *type) {
    hy_make_model_params p;
    memset(&p, 0, sizeof p);
    p.shape_name = shape;
    p.type_name = type;
    p.seed = 1;
    return p;
}

static uint64_t plan_parameters(const hy_make_model_plan *plan) {
    uint64_t n = 0;
    for (uint32_t i = 0; i < plan->n_tensors; i++) n += plan->tensors[i].ne[0] * plan->tensors[i].ne[1];
    return n;
}

static const hy_make_model_tensor *plan_find(const hy_make_model_plan *plan, const char *name) {
    for (uint32_t i = 0; i < plan->n_tensors; i++)
        if (!strcmp(plan->tensors[i].name, name)) return &plan->tensors[i];
    return NULL;
}

/* The "use more bits" layers, worked out by hand from llama.cpp's rule
 * i < n/8 || i >= 7n/8 || (i - n/8) % 3 == 2. */
HY_TEST(make_model_use_more_bits_matches_llama_cpp) {
    static const uint32_t more22[] = { 0, 1, 4, 7, 10, 13, 16, 19, 20, 21 };
    static const uint32_t more12[] = { 0, 3, 6, 9, 10, 11 };
    uint32_t k = 0;
    for (uint32_t i = 0; i < 22; i++) {
        int want = k < 10 && more22[k] == i;
        k += want;
        HY_CHECK_INT(hy_make_model_use_more_bits(i, 22), want);
    }
    k = 0;
    for (uint32_t i = 0; i < 12; i++) {
        int want = k < 6 && more12[k] == i;
        k += want;
        HY_CHECK_INT(hy_make_model_use_more_bits(i, 12), want);
    }
    HY_CHECK_INT(hy_make_model_use_more_bits(0, 2), 0);
    HY_CHECK_INT(hy_make_model_use_more_bits(1, 2), 1);
}

HY_TEST(make_model_plans_the_presets_with_their_parameter_counts) {
    hy_make_model_plan plan;
    hy_make_model_params p = params("tinyllama-1.1b", "q4_k_m");
    HY_REQUIRE(hy_make_model_plan_build(&p, &plan) == HYPERION_OK);
    HY_CHECK_INT(plan.n_tensors, 3 + 9 * 22);
    HY_CHECK(plan_parameters(&plan) == 1100048384ull); /* TinyLlama-1.1B's count */
    HY_CHECK_INT(plan_find(&plan, "output.weight")->type, HY_TYPE_Q6_K);
    HY_CHECK_INT(plan_find(&plan, "token_embd.weight")->type, HY_TYPE_Q4_K);
    HY_CHECK_INT(plan_find(&plan, "blk.0.attn_v.weight")->type, HY_TYPE_Q6_K);
    HY_CHECK_INT(plan_find(&plan, "blk.2.attn_v.weight")->type, HY_TYPE_Q4_K);
    HY_CHECK_INT(plan_find(&plan, "blk.4.ffn_down.weight")->type, HY_TYPE_Q6_K);
    HY_CHECK_INT(plan_find(&plan, "blk.5.ffn_down.weight")->type, HY_TYPE_Q4_K);
    HY_CHECK_INT(plan_find(&plan, "blk.21.ffn_down.weight")->type, HY_TYPE_Q6_K);
    HY_CHECK_INT(plan_find(&plan, "blk.4.attn_q.weight")->type, HY_TYPE_Q4_K);
    HY_CHECK_INT(plan_find(&plan, "blk.4.ffn_norm.weight")->type, HY_TYPE_F32);
    const hy_make_model_tensor *k = plan_find(&plan, "blk.3.attn_k.weight");
    HY_CHECK(k->ne[0] == 2048 && k->ne[1] == 256); /* 4 kv heads of 64 */
    /* about 4.9 bits per weight: between 600 and 700 MB */
    HY_CHECK(plan.total_bytes > 600000000ull && plan.total_bytes < 700000000ull);
    hy_make_model_plan_free(&plan);

    p = params("stories110m", "q5_k_m");
    HY_REQUIRE(hy_make_model_plan_build(&p, &plan) == HYPERION_OK);
    /* untied: 24.6M embeddings + 24.6M output + 12 layers of 7.08M */
    HY_CHECK(plan_parameters(&plan) == 134105856ull);
    HY_CHECK_INT(plan_find(&plan, "blk.3.attn_v.weight")->type, HY_TYPE_Q6_K);
    HY_CHECK_INT(plan_find(&plan, "blk.4.attn_v.weight")->type, HY_TYPE_Q5_K);
    HY_CHECK_INT(plan_find(&plan, "blk.11.ffn_down.weight")->type, HY_TYPE_Q6_K);
    hy_make_model_plan_free(&plan);

    p.tied = 1; /* llama2.c's stories110M shares the classifier: 110M */
    HY_REQUIRE(hy_make_model_plan_build(&p, &plan) == HYPERION_OK);
    HY_CHECK(plan_parameters(&plan) == 109529856ull);
    HY_CHECK(plan_find(&plan, "output.weight") == NULL);
    /* llama.cpp: a tied embedding is quantized as the output */
    HY_CHECK_INT(plan_find(&plan, "token_embd.weight")->type, HY_TYPE_Q6_K);
    hy_make_model_plan_free(&plan);
    p = params("tiny", "q4_k_m");
    p.tied = 1;
    HY_REQUIRE(hy_make_model_plan_build(&p, &plan) == HYPERION_OK);
    HY_CHECK_INT(plan_find(&plan, "token_embd.weight")->type, HY_TYPE_Q6_K);
    HY_CHECK_INT(plan.n_tensors, 2 + 9 * 2);
    hy_make_model_plan_free(&plan);

    p = params("stories110m", "q4_0");
    HY_REQUIRE(hy_make_model_plan_build(&p, &plan) == HYPERION_OK);
    HY_CHECK_INT(plan_find(&plan, "output.weight")->type, HY_TYPE_Q6_K);
    HY_CHECK_INT(plan_find(&plan, "token_embd.weight")->type, HY_TYPE_Q4_0);
    HY_CHECK_INT(plan_find(&plan, "blk.0.ffn_down.weight")->type, HY_TYPE_Q4_0);
    hy_make_model_plan_free(&plan);

    p = params("stories110m", "q8_0");
    HY_REQUIRE(hy_make_model_plan_build(&p, &plan) == HYPERION_OK);
    HY_CHECK_INT(plan_find(&plan, "output.weight")->type, HY_TYPE_Q8_0);
    hy_make_model_plan_free(&plan);
}

/* ---- custom shapes whose rows the blocks do not fit */

static hy_make_model_params custom(const char *type, uint32_t embd, uint32_t heads, uint32_t kv, uint32_t ff) {
    hy_make_model_params p = params(NULL, type);
    p.shape = (hy_make_model_shape){ NULL, 300, embd, 2, heads, kv, ff, 64, 10000.0f, 1e-5f };
    return p;
}

static void make_and_check_types(const hy_make_model_params *p, const char *file, uint32_t want_matrix,
                                 uint32_t want_output) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", hy_test_tmpdir(), file);
    HY_REQUIRE(hy_make_model(p, path) == HYPERION_OK);
    hy_gguf *g = NULL;
    hy_llama_hparams hp;
    HY_REQUIRE(hy_gguf_open(path, &g) == HYPERION_OK);
    HY_CHECK_INT(hy_llama_hparams_read(g, &hp), HYPERION_OK);
    HY_CHECK_INT(hy_llama_weights_bind(g, &hp, NULL), HYPERION_OK);
    for (uint64_t i = 0; i < hy_gguf_tensor_count(g); i++) {
        const hy_tensor *t = hy_gguf_tensor_at(g, i);
        uint32_t want = t->n_dims == 1 ? HY_TYPE_F32 : !strcmp(t->name, "output.weight") ? want_output : want_matrix;
        if (t->type != want)
            hy_test_fail(__FILE__, __LINE__, "%s: %s is %s, want %s", file, t->name, hy_type_get(t->type)->name,
                         hy_type_get(want)->name);
    }
    hy_gguf_close(g);
    unlink(path);
}

HY_TEST(make_model_falls_back_when_blocks_do_not_fit_the_rows) {
    /* rows of 96 and 160: K-quants do not fit (256), Q8_0 does (32) */
    hy_make_model_params p = custom("q4_k_m", 96, 3, 1, 160);
    make_and_check_types(&p, "fallback-k.gguf", HY_TYPE_Q8_0, HY_TYPE_Q8_0);
    p.type_name = "q5_k_m";
    make_and_check_types(&p, "fallback-k5.gguf", HY_TYPE_Q8_0, HY_TYPE_Q8_0);
    p.type_name = "q4_0"; /* output: Q6_K does not fit, Q8_0 (llama.cpp's fallback for Q6_K) */
    make_and_check_types(&p, "fallback-q4.gguf", HY_TYPE_Q4_0, HY_TYPE_Q8_0);
    /* rows of 40 and 48: not even 32 fits: F16 */
    p = custom("q4_0", 40, 2, 1, 48);
    make_and_check_types(&p, "fallback-f16.gguf", HY_TYPE_F16, HY_TYPE_F16);
    p.type_name = "q4_k_m";
    make_and_check_types(&p, "fallback-f16k.gguf", HY_TYPE_F16, HY_TYPE_F16);
    p.type_name = "bf16"; /* float types have no blocks */
    make_and_check_types(&p, "custom-bf16.gguf", HY_TYPE_BF16, HY_TYPE_BF16);
}

HY_TEST(make_model_tied_output_omits_output_weight) {
    char path[512];
    snprintf(path, sizeof path, "%s/tied.gguf", hy_test_tmpdir());
    hy_make_model_params p = params("tiny", "q8_0"); /* q4_k_m's tied recipe: see the plan test */
    p.tied = 1;
    p.model_name = "tied tiny";
    HY_REQUIRE(hy_make_model(&p, path) == HYPERION_OK);
    hy_gguf *g = NULL;
    hy_llama_hparams hp;
    hy_llama_weights w;
    HY_REQUIRE(hy_gguf_open(path, &g) == HYPERION_OK);
    HY_REQUIRE(hy_llama_hparams_read(g, &hp) == HYPERION_OK);
    HY_CHECK_INT(hp.tied_output, 1);
    HY_REQUIRE(hy_llama_weights_bind(g, &hp, &w) == HYPERION_OK);
    HY_CHECK(w.output == w.token_embd);
    HY_CHECK_INT(w.token_embd->type, HY_TYPE_Q8_0); /* the output's type, which Q8_0 files keep */
    HY_CHECK(hy_gguf_find_tensor(g, "output.weight") == NULL);
    char name[64];
    HY_CHECK_INT(hy_gguf_get_string_copy(g, "general.name", name, sizeof name), HYPERION_OK);
    HY_CHECK_STR(name, "tied tiny");
    hy_llama_weights_free(&w);
    hy_gguf_close(g);
    unlink(path);
}

/* ---- progress and abort */

typedef struct progress_log {
    int calls, monotonic;
    uint64_t first_done, last_done, total, prev;
    uint64_t abort_after;     /* set *flag once done reaches this (0: never) */
    volatile int *flag;
} progress_log;

static void on_progress(void *user, uint64_t done, uint64_t total) {
    progress_log *l = user;
    if (l->calls == 0) {
        l->first_done = done;
        l->monotonic = 1;
    } else if (done < l->prev) {
        l->monotonic = 0;
    }
    l->calls++;
    l->prev = l->last_done = done;
    l->total = total;
    if (l->abort_after && done >= l->abort_after) *l->flag = 1;
}

HY_TEST(make_model_reports_progress_up_to_the_total) {
    char path[512];
    snprintf(path, sizeof path, "%s/progress.gguf", hy_test_tmpdir());
    progress_log log = { 0 };
    hy_make_model_params p = params("tiny", "f32");
    p.progress = on_progress;
    p.progress_user = &log;
    HY_REQUIRE(hy_make_model(&p, path) == HYPERION_OK);
    hy_make_model_plan plan;
    HY_REQUIRE(hy_make_model_plan_build(&p, &plan) == HYPERION_OK);
    HY_CHECK(log.calls > 3); /* start, about every MiB of ~8.4 MB, end */
    HY_CHECK(log.monotonic);
    HY_CHECK(log.first_done == 0);
    HY_CHECK(log.total == plan.total_bytes);
    HY_CHECK(log.last_done == log.total);
    /* the total is the tensor data in the file */
    hy_gguf *g = NULL;
    HY_REQUIRE(hy_gguf_open(path, &g) == HYPERION_OK);
    uint64_t bytes = 0;
    for (uint64_t i = 0; i < hy_gguf_tensor_count(g); i++) bytes += hy_gguf_tensor_at(g, i)->n_bytes;
    HY_CHECK(bytes == log.total);
    hy_gguf_close(g);
    hy_make_model_plan_free(&plan);
    unlink(path);
}

HY_TEST(make_model_abort_removes_the_partial_file) {
    uint64_t live = gguf_test_live_blocks();
    char path[512], partial[600];
    snprintf(path, sizeof path, "%s/aborted.gguf", hy_test_tmpdir());
    snprintf(partial, sizeof partial, "%s.partial", path);
    volatile int flag = 0;
    progress_log log = { .abort_after = 2u << 20, .flag = &flag };
    hy_make_model_params p = params("tiny", "f32");
    p.progress = on_progress;
    p.progress_user = &log;
    p.abort_flag = &flag;
    HY_CHECK_INT(hy_make_model(&p, path), HYPERION_ABORTED);
    HY_CHECK(flag == 1 && log.last_done < log.total);
    HY_CHECK(access(path, F_OK) != 0);
    HY_CHECK(access(partial, F_OK) != 0);
    /* a flag set before the start: nothing is written */
    HY_CHECK_INT(hy_make_model(&p, path), HYPERION_ABORTED);
    HY_CHECK(access(path, F_OK) != 0 && access(partial, F_OK) != 0);
    HY_CHECK_INT(gguf_test_live_blocks(), live);
    /* and the maker works again afterwards */
    flag = 0;
    p.abort_flag = NULL;
    p.progress = NULL;
    HY_CHECK_INT(hy_make_model(&p, path), HYPERION_OK);
    HY_CHECK(access(path, F_OK) == 0);
    unlink(path);
}

/* ---- errors */

static void expect_invalid(const hy_make_model_params *p, const char *field) {
    char path[512];
    snprintf(path, sizeof path, "%s/invalid.gguf", hy_test_tmpdir());
    hyperion_status s = hy_make_model(p, path);
    if (s != HYPERION_INVALID_ARGUMENT) {
        hy_test_fail(__FILE__, __LINE__, "field %s: status %d, want HYPERION_INVALID_ARGUMENT", field, (int)s);
        return;
    }
    if (strcmp(gguf_test_error_text("field"), field))
        hy_test_fail(__FILE__, __LINE__, "error names \"%s\", want \"%s\" (%s)", gguf_test_error_text("field"), field,
                     hyperionGetLastError()->message);
    HY_CHECK(access(path, F_OK) != 0);
}

HY_TEST(make_model_rejects_bad_parameters_naming_the_field) {
    uint64_t live = gguf_test_live_blocks();
    hy_make_model_params p = params("huge", "q4_0");
    expect_invalid(&p, "shape_name");
    p = params("tiny", "q3_k");
    expect_invalid(&p, "type_name");
    p = params("tiny", NULL);
    expect_invalid(&p, "type_name");

    static const struct { const char *field; uint32_t embd, heads, kv, ff, vocab, layers, ctx; float base, eps; } bad[] = {
        { "shape.n_embd", 0, 4, 2, 64, 300, 2, 64, 10000.0f, 1e-5f },
        { "shape.n_head", 64, 0, 1, 64, 300, 2, 64, 10000.0f, 1e-5f },
        { "shape.n_head_kv", 64, 4, 0, 64, 300, 2, 64, 10000.0f, 1e-5f },
        { "shape.n_ff", 64, 4, 2, 0, 300, 2, 64, 10000.0f, 1e-5f },
        { "shape.n_vocab", 64, 4, 2, 64, 259, 2, 64, 10000.0f, 1e-5f },
        { "shape.n_layer", 64, 4, 2, 64, 300, 0, 64, 10000.0f, 1e-5f },
        { "shape.n_ctx", 64, 4, 2, 64, 300, 2, 0, 10000.0f, 1e-5f },
        { "shape.n_head", 64, 3, 1, 64, 300, 2, 64, 10000.0f, 1e-5f },    /* does not divide n_embd */
        { "shape.n_head", 96, 32, 1, 64, 300, 2, 64, 10000.0f, 1e-5f },   /* odd head size 3 */
        { "shape.n_head_kv", 64, 4, 3, 64, 300, 2, 64, 10000.0f, 1e-5f }, /* does not divide n_head */
        { "shape.n_head_kv", 64, 4, 8, 64, 300, 2, 64, 10000.0f, 1e-5f }, /* more kv heads than heads */
        { "shape.rope_freq_base", 64, 4, 2, 64, 300, 2, 64, 1.0f, 1e-5f },
        { "shape.rms_eps", 64, 4, 2, 64, 300, 2, 64, 10000.0f, 0.0f },
        { "shape.rms_eps", 64, 4, 2, 64, 300, 2, 64, 10000.0f, NAN },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p = params(NULL, "f32");
        p.shape = (hy_make_model_shape){ NULL, bad[i].vocab, bad[i].embd, bad[i].layers, bad[i].heads, bad[i].kv,
                                         bad[i].ff, bad[i].ctx, bad[i].base, bad[i].eps };
        expect_invalid(&p, bad[i].field);
    }
    HY_CHECK_INT(hy_make_model(NULL, "/tmp/x.gguf"), HYPERION_INVALID_ARGUMENT);
    p = params("tiny", "f32");
    HY_CHECK_INT(hy_make_model(&p, NULL), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_STR(gguf_test_error_text("field"), "path");
    HY_CHECK_INT(hy_make_model(&p, ""), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_STR(gguf_test_error_text("field"), "path");
    hy_make_model_plan plan;
    HY_CHECK_INT(hy_make_model_plan_build(&p, NULL), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_INT(hy_make_model_plan_build(NULL, &plan), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_INT(gguf_test_live_blocks(), live);
}

HY_TEST(make_model_reports_io_errors_and_leaves_no_partial_file) {
    uint64_t live = gguf_test_live_blocks();
    char path[512];
    snprintf(path, sizeof path, "%s/no/such/folder/m.gguf", hy_test_tmpdir());
    hy_make_model_params p = params("tiny", "f32");
    HY_CHECK_INT(hy_make_model(&p, path), HYPERION_IO);
    HY_CHECK(strstr(gguf_test_error_text("path"), "no/such/folder") != NULL);
    /* a folder in the way of the rename */
    snprintf(path, sizeof path, "%s/a-folder.gguf", hy_test_tmpdir());
    HY_REQUIRE(mkdir(path, 0755) == 0);
    HY_CHECK_INT(hy_make_model(&p, path), HYPERION_IO);
    char partial[600];
    snprintf(partial, sizeof partial, "%s.partial", path);
    HY_CHECK(access(partial, F_OK) != 0);
    rmdir(path);
    HY_CHECK_INT(gguf_test_live_blocks(), live);
}

HY_TEST(make_model_finds_presets_and_types_by_name) {
    HY_CHECK_INT(hy_make_model_shape_count, 3);
    HY_CHECK_INT(hy_make_model_type_count, 7);
    HY_CHECK(hy_make_model_find_shape("tiny") == &hy_make_model_shapes[0]);
    HY_CHECK_INT(hy_make_model_find_shape("tinyllama-1.1b")->n_head_kv, 4);
    HY_CHECK_INT(hy_make_model_find_shape("stories110m")->n_ff, 2048);
    HY_CHECK(hy_make_model_find_shape("Tiny") == NULL);
    HY_CHECK(hy_make_model_find_shape(NULL) == NULL);
    static const struct { const char *name; uint32_t ftype; } ftypes[] = {
        { "f32", 0 }, { "f16", 1 }, { "bf16", 32 }, { "q8_0", 7 }, { "q4_0", 2 }, { "q4_k_m", 15 }, { "q5_k_m", 17 },
    };
    for (size_t i = 0; i < 7; i++) HY_CHECK_INT(hy_make_model_find_type(ftypes[i].name)->file_type, ftypes[i].ftype);
    HY_CHECK(hy_make_model_find_type("q6_k") == NULL);
}
