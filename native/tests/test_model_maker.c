/* test_model_maker.c — made models: every type of the tiny shape loads and
 * binds, tensor types follow llama.cpp's recipes, the metadata and tokenizer
 * are complete, weights have the planned distribution and are the same
 * model in every type, files are deterministic, and failures leave nothing
 * behind. */
#include "harness.h"
#include "test_gguf_util.h"

#include "kernels/quant.h"
#include "kernels/types.h"
#include "model/gguf.h"
#include "model/llama_hparams.h"
#include "model/model_maker.h"

#include <stdlib.h>
#include <unistd.h>

/* ---- helpers */

static hy_make_model_params tiny_params(const char *type, uint64_t seed) {
    hy_make_model_params p;
    memset(&p, 0, sizeof p);
    p.shape_name = "tiny";
    p.type_name = type;
    p.seed = seed;
    return p;
}

static void tmp_path(char *buf, size_t size, const char *name) {
    snprintf(buf, size, "%s/%s", hy_test_tmpdir(), name);
}

static int file_exists(const char *path) {
    return access(path, F_OK) == 0;
}

/* The tiny model of `type` with seed 1234, made once per run and shared by
 * the tests (quantizing takes most of the time); NULL when making it fails. */
static const char *tiny_model(const char *type) {
    static char paths[8][512];
    static int made[8];
    for (size_t i = 0; i < hy_make_model_type_count && i < 8; i++) {
        if (strcmp(hy_make_model_types[i].name, type)) continue;
        if (!made[i]) {
            char file[64];
            snprintf(file, sizeof file, "tiny-%s.gguf", type);
            tmp_path(paths[i], sizeof paths[i], file);
            hy_make_model_params p = tiny_params(type, 1234);
            if (hy_make_model(&p, paths[i]) != HYPERION_OK) return NULL;
            made[i] = 1;
        }
        return paths[i];
    }
    return NULL;
}

static int partial_exists(const char *path) {
    char partial[600];
    snprintf(partial, sizeof partial, "%s.partial", path);
    return file_exists(partial);
}

/* The whole file in a malloc'd buffer; NULL on failure. */
static uint8_t *read_all(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = n > 0 ? malloc((size_t)n) : NULL;
    if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
        free(data);
        data = NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return data;
}

/* Tensor t as floats (malloc'd), or NULL. */
static float *dequantize(const hy_tensor *t) {
    uint64_t n = t->ne[0], rows = hy_tensor_rows(t);
    float *out = malloc((size_t)(n * rows) * sizeof(float));
    if (!out) return NULL;
    for (uint64_t r = 0; r < rows; r++)
        if (hy_dequantize_row(t->type, (const uint8_t *)t->data + r * t->row_bytes, out + r * n, (int64_t)n)) {
            free(out);
            return NULL;
        }
    return out;
}

static void mean_std(const float *x, uint64_t n, double *mean, double *std) {
    double s = 0, s2 = 0;
    for (uint64_t i = 0; i < n; i++) s += x[i];
    *mean = s / (double)n;
    for (uint64_t i = 0; i < n; i++) s2 += (x[i] - *mean) * (x[i] - *mean);
    *std = sqrt(s2 / (double)n);
}

/* The layer of "blk.N...." or -1. */
static int layer_of(const char *name) {
    unsigned l;
    return sscanf(name, "blk.%u.", &l) == 1 ? (int)l : -1;
}

static int ends_with(const char *s, const char *tail) {
    size_t a = strlen(s), b = strlen(tail);
    return a >= b && !strcmp(s + a - b, tail);
}

/* llama.cpp's recipe for the tiny shape (every row a multiple of 256, so no
 * fallback; two layers: use_more_bits holds for layer 1 only). */
static uint32_t tiny_expected_type(const char *type, const char *name, int tied) {
    if (ends_with(name, "_norm.weight")) return HY_TYPE_F32;
    if (!strcmp(type, "f32")) return HY_TYPE_F32;
    if (!strcmp(type, "f16")) return HY_TYPE_F16;
    if (!strcmp(type, "bf16")) return HY_TYPE_BF16;
    int output = !strcmp(name, "output.weight") || (tied && !strcmp(name, "token_embd.weight"));
    if (!strcmp(type, "q8_0")) return HY_TYPE_Q8_0;
    if (!strcmp(type, "q4_0")) return output ? HY_TYPE_Q6_K : HY_TYPE_Q4_0;
    uint32_t base = !strcmp(type, "q4_k_m") ? HY_TYPE_Q4_K : HY_TYPE_Q5_K;
    if (output) return HY_TYPE_Q6_K;
    if ((ends_with(name, "attn_v.weight") || ends_with(name, "ffn_down.weight")) && layer_of(name) == 1)
        return HY_TYPE_Q6_K;
    return base;
}

/* Bound on the relative RMS error of a type's rounding of these weights
 * (measured: f16 2e-4, bf16 1.7e-3, q8_0 5e-3, q6_K 0.016, q5_K 0.035,
 * q4_K 0.07, q4_0 0.08): the same model comes out in every type. */
static double rounding_tolerance(uint32_t type) {
    switch (type) {
    case HY_TYPE_F32: return 0.0;
    case HY_TYPE_F16: return 0.001;
    case HY_TYPE_BF16: return 0.004;
    case HY_TYPE_Q8_0: return 0.01;
    case HY_TYPE_Q6_K: return 0.03;
    case HY_TYPE_Q5_K: return 0.06;
    default: return 0.12; /* Q4_0, Q4_K */
    }
}

typedef struct opened {
    hy_gguf *g;
    hy_llama_hparams hp;
    hy_llama_weights w;
} opened;

static int open_model(const char *path, opened *o) {
    memset(o, 0, sizeof *o);
    if (hy_gguf_open(path, &o->g) != HYPERION_OK) return 0;
    if (hy_llama_hparams_read(o->g, &o->hp) != HYPERION_OK) return 0;
    return hy_llama_weights_bind(o->g, &o->hp, &o->w) == HYPERION_OK;
}

static void close_model(opened *o) {
    hy_llama_weights_free(&o->w);
    hy_gguf_close(o->g);
}

/* ---- every type of the tiny shape */

HY_TEST(make_model_every_type_of_tiny_loads_with_the_recipe_types) {
    uint64_t live = gguf_test_live_blocks();
    const char *ref_path = tiny_model("f32");
    HY_REQUIRE(ref_path);
    opened ref;
    HY_REQUIRE(open_model(ref_path, &ref));

    for (size_t ti = 0; ti < hy_make_model_type_count; ti++) {
        const hy_make_model_type *type = &hy_make_model_types[ti];
        const char *path = tiny_model(type->name);
        HY_REQUIRE(path);
        HY_CHECK(!partial_exists(path));
        hy_make_model_params p = tiny_params(type->name, 1234);
        opened o;
        int ok = open_model(path, &o);
        HY_CHECK(ok);
        if (!ok) {
            printf("    %s: %s\n", type->name, hyperionGetLastError()->message);
            close_model(&o);
            continue;
        }
        /* hyperparameters */
        HY_CHECK_STR(o.hp.arch, "llama");
        HY_CHECK_INT(o.hp.n_vocab, 1024);
        HY_CHECK_INT(o.hp.n_embd, 256);
        HY_CHECK_INT(o.hp.n_layer, 2);
        HY_CHECK_INT(o.hp.n_head, 4);
        HY_CHECK_INT(o.hp.n_head_kv, 2);
        HY_CHECK_INT(o.hp.head_dim, 64);
        HY_CHECK_INT(o.hp.n_rot, 64);
        HY_CHECK_INT(o.hp.n_ff, 768);
        HY_CHECK_INT(o.hp.n_ctx_train, 256);
        HY_CHECK(o.hp.rms_eps == 1e-5f);
        HY_CHECK(o.hp.rope_freq_base == 10000.0f);
        HY_CHECK_INT(o.hp.tied_output, 0);
        /* file type and quantization version */
        uint32_t ft = 99, qv = 0;
        HY_CHECK_INT(hy_gguf_get_u32(o.g, "general.file_type", &ft), HYPERION_OK);
        HY_CHECK_INT(ft, type->file_type);
        int quantized = hy_type_get(type->base_type)->block_size > 1;
        HY_CHECK_INT(hy_gguf_get_u32_or(o.g, "general.quantization_version", 0, &qv), HYPERION_OK);
        HY_CHECK_INT(qv, quantized ? 2 : 0);
        HY_CHECK_INT(hy_gguf_tensor_count(o.g), 3 + 9 * 2);

        /* types, distributions, and closeness to the f32 model of the same seed */
        hy_make_model_plan plan;
        HY_REQUIRE(hy_make_model_plan_build(&p, &plan) == HYPERION_OK);
        HY_CHECK_INT(hy_gguf_tensor_count(o.g), plan.n_tensors);
        for (uint32_t i = 0; i < plan.n_tensors && i < hy_gguf_tensor_count(o.g); i++) {
            const hy_make_model_tensor *pt = &plan.tensors[i];
            const hy_tensor *t = hy_gguf_tensor_at(o.g, i);
            const hy_tensor *rt = hy_gguf_find_tensor(ref.g, pt->name);
            HY_CHECK_STR(t->name, pt->name);
            uint32_t want = tiny_expected_type(type->name, t->name, 0);
            if (t->type != want)
                hy_test_fail(__FILE__, __LINE__, "%s %s: type %s, want %s", type->name, t->name,
                             hy_type_get(t->type)->name, hy_type_get(want)->name);
            HY_CHECK_INT(t->n_bytes, pt->n_bytes);
            float *x = dequantize(t), *y = rt ? dequantize(rt) : NULL;
            HY_REQUIRE(x && y);
            uint64_t n = t->ne[0] * hy_tensor_rows(t);
            double mean, std, err = 0, norm = 0;
            mean_std(x, n, &mean, &std);
            if (fabs(std / pt->std - 1.0) > 0.10 || fabs(mean - pt->mean) > 0.1 * pt->std)
                hy_test_fail(__FILE__, __LINE__, "%s %s: mean %g std %g, planned %g %g", type->name, t->name, mean,
                             std, (double)pt->mean, (double)pt->std);
            for (uint64_t k = 0; k < n; k++) {
                err += (x[k] - y[k]) * (x[k] - y[k]);
                norm += (y[k] - pt->mean) * (y[k] - pt->mean);
            }
            double rel = sqrt(err / norm);
            double tol = rounding_tolerance(t->type);
            if (rel > tol) hy_test_fail(__FILE__, __LINE__, "%s %s: relative error %g > %g", type->name, t->name, rel, tol);
            free(x);
            free(y);
        }
        hy_make_model_plan_free(&plan);
        close_model(&o);
    }
    close_model(&ref);
    HY_CHECK_INT(gguf_test_live_blocks(), live);
}

/* ---- metadata and tokenizer */

HY_TEST(make_model_writes_the_metadata_and_a_complete_tokenizer) {
    const char *path = tiny_model("f32");
    HY_REQUIRE(path);
    hy_gguf *g = NULL;
    HY_REQUIRE(hy_gguf_open(path, &g) == HYPERION_OK);
    char text[4096];
    HY_CHECK_INT(hy_gguf_get_string_copy(g, "general.architecture", text, sizeof text), HYPERION_OK);
    HY_CHECK_STR(text, "llama");
    HY_CHECK_INT(hy_gguf_get_string_copy(g, "general.name", text, sizeof text), HYPERION_OK);
    HY_CHECK_STR(text, "hyperion-random-tiny-f32");
    HY_CHECK_INT(hy_gguf_get_string_copy(g, "tokenizer.ggml.model", text, sizeof text), HYPERION_OK);
    HY_CHECK_STR(text, "llama");
    HY_CHECK_INT(hy_gguf_get_string_copy(g, "tokenizer.ggml.pre", text, sizeof text), HYPERION_OK);
    HY_CHECK_STR(text, "default");
    HY_CHECK_INT(hy_gguf_get_string_copy(g, "tokenizer.chat_template", text, sizeof text), HYPERION_OK);
    HY_CHECK_STR(text, hy_make_model_chat_template);
    uint32_t u = 0;
    static const struct { const char *key; uint32_t value; } ints[] = {
        { "llama.vocab_size", 1024 }, { "llama.context_length", 256 }, { "llama.embedding_length", 256 },
        { "llama.block_count", 2 }, { "llama.feed_forward_length", 768 }, { "llama.attention.head_count", 4 },
        { "llama.attention.head_count_kv", 2 }, { "llama.rope.dimension_count", 64 },
        { "tokenizer.ggml.bos_token_id", 1 }, { "tokenizer.ggml.eos_token_id", 2 },
        { "tokenizer.ggml.unknown_token_id", 0 },
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        u = 12345;
        HY_CHECK_INT(hy_gguf_get_u32(g, ints[i].key, &u), HYPERION_OK);
        if (u != ints[i].value) hy_test_fail(__FILE__, __LINE__, "%s = %u, want %u", ints[i].key, u, ints[i].value);
    }
    float f = 0;
    HY_CHECK_INT(hy_gguf_get_f32(g, "llama.attention.layer_norm_rms_epsilon", &f), HYPERION_OK);
    HY_CHECK(f == 1e-5f);
    HY_CHECK_INT(hy_gguf_get_f32(g, "llama.rope.freq_base", &f), HYPERION_OK);
    HY_CHECK(f == 10000.0f);
    int b = -1;
    HY_CHECK_INT(hy_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &b), HYPERION_OK);
    HY_CHECK_INT(b, 1);
    HY_CHECK_INT(hy_gguf_get_bool(g, "tokenizer.ggml.add_eos_token", &b), HYPERION_OK);
    HY_CHECK_INT(b, 0);
    HY_CHECK_INT(hy_gguf_get_bool(g, "tokenizer.ggml.add_space_prefix", &b), HYPERION_OK);
    HY_CHECK_INT(b, 1);

    /* the three arrays: vocabulary size, equal to the builder's */
    const hy_gguf_kv *tokens = NULL, *scores = NULL, *types = NULL;
    uint64_t nt = 0, ns = 0, ny = 0;
    HY_REQUIRE(hy_gguf_get_array(g, "tokenizer.ggml.tokens", HY_GGUF_STRING, &tokens, &nt, NULL) == HYPERION_OK);
    HY_REQUIRE(hy_gguf_get_array(g, "tokenizer.ggml.scores", HY_GGUF_FLOAT32, &scores, &ns, NULL) == HYPERION_OK);
    HY_REQUIRE(hy_gguf_get_array(g, "tokenizer.ggml.token_type", HY_GGUF_INT32, &types, &ny, NULL) == HYPERION_OK);
    HY_CHECK(nt == 1024 && ns == 1024 && ny == 1024);
    hy_make_model_vocab v;
    HY_REQUIRE(hy_make_model_vocab_build(1024, &v) == HYPERION_OK);
    int mismatches = 0;
    for (uint64_t i = 0; i < nt && i < v.n; i++) {
        const char *s;
        uint64_t len;
        HY_REQUIRE(hy_gguf_array_string(tokens, i, &s, &len) == HYPERION_OK);
        if (len != v.len[i] || memcmp(s, v.text[i], len) || hy_gguf_array_number(scores, i) != v.scores[i] ||
            hy_gguf_array_number(types, i) != v.types[i])
            mismatches++;
    }
    HY_CHECK_INT(mismatches, 0);
    hy_make_model_vocab_free(&v);
    hy_gguf_close(g);
}

/* ---- determinism */

static int same_file(const char *a, const char *b, size_t *n_differing) {
    size_t na = 0, nb = 0;
    uint8_t *da = read_all(a, &na), *db = read_all(b, &nb);
    int same = da && db && na == nb && !memcmp(da, db, na);
    *n_differing = 0;
    for (size_t i = 0; da && db && i < na && i < nb; i++) *n_differing += da[i] != db[i];
    free(da);
    free(db);
    return same;
}

HY_TEST(make_model_is_deterministic_in_the_seed) {
    /* quantized: a small shape with K-quant rows (one layer: Q4_K and Q6_K) */
    char a[512], b[512], c[512];
    tmp_path(a, sizeof a, "det-a.gguf");
    tmp_path(b, sizeof b, "det-b.gguf");
    tmp_path(c, sizeof c, "det-c.gguf");
    hy_make_model_params p = tiny_params("q4_k_m", 77);
    p.shape_name = NULL;
    p.shape = (hy_make_model_shape){ NULL, 300, 256, 1, 4, 2, 256, 64, 10000.0f, 1e-5f };
    HY_REQUIRE(hy_make_model(&p, a) == HYPERION_OK);
    HY_REQUIRE(hy_make_model(&p, b) == HYPERION_OK);
    p.seed = 78;
    HY_REQUIRE(hy_make_model(&p, c) == HYPERION_OK);
    size_t differing = 0, size = 0;
    HY_CHECK(same_file(a, b, &differing));
    /* another seed: same layout and size, different weights (and seed key) */
    uint8_t *data = read_all(a, &size);
    free(data);
    HY_CHECK(!same_file(a, c, &differing));
    HY_CHECK(differing > size / 2);
    unlink(a);
    unlink(b);
    unlink(c);
    /* the tiny f32 model: again byte for byte, and another seed differs */
    const char *tiny = tiny_model("f32");
    HY_REQUIRE(tiny);
    hy_make_model_params t = tiny_params("f32", 1234);
    HY_REQUIRE(hy_make_model(&t, a) == HYPERION_OK);
    HY_CHECK(same_file(tiny, a, &differing));
    t.seed = 1235;
    HY_REQUIRE(hy_make_model(&t, a) == HYPERION_OK);
    HY_CHECK(!same_file(tiny, a, &differing));
    HY_CHECK(differing > 1000000);
    unlink(a);
}

/* ---- the output head is neither flat nor one-hot */

/* Softmax of output * (normalized embedding of token tok), as the last layer
 * would see it if the layers added nothing: the top-1 probability. */
static double head_top1(const opened *o, uint32_t tok) {
    uint32_t n = o->hp.n_embd, vocab = o->hp.n_vocab;
    float *e = dequantize(o->w.token_embd), *out = dequantize(o->w.output), *nw = dequantize(o->w.output_norm);
    double top = -1;
    if (e && out && nw) {
        double ss = 0, *h = malloc(n * sizeof(double)), *logit = malloc(vocab * sizeof(double));
        for (uint32_t i = 0; i < n; i++) ss += (double)e[(size_t)tok * n + i] * e[(size_t)tok * n + i];
        for (uint32_t i = 0; i < n; i++) h[i] = e[(size_t)tok * n + i] / sqrt(ss / n + 1e-5) * nw[i];
        double max = -1e300, sum = 0;
        for (uint32_t v = 0; v < vocab; v++) {
            double d = 0;
            for (uint32_t i = 0; i < n; i++) d += out[(size_t)v * n + i] * h[i];
            logit[v] = d;
            if (d > max) max = d;
        }
        for (uint32_t v = 0; v < vocab; v++) sum += exp(logit[v] - max);
        top = 1.0 / sum;
        free(h);
        free(logit);
    }
    free(e);
    free(out);
    free(nw);
    return top;
}

HY_TEST(make_model_output_head_gives_peaked_but_not_one_hot_distributions) {
    const char *types[] = { "f32", "q4_0" };
    for (int k = 0; k < 2; k++) {
        const char *path = tiny_model(types[k]);
        HY_REQUIRE(path);
        opened o;
        HY_REQUIRE(open_model(path, &o));
        double uniform = 1.0 / o.hp.n_vocab, sum = 0;
        for (uint32_t tok = 300; tok < 310; tok++) {
            double top = head_top1(&o, tok);
            /* logits with std ~2 over 1024 tokens: top-1 a few percent to tens of percent */
            if (!(top > 10 * uniform && top < 0.9))
                hy_test_fail(__FILE__, __LINE__, "%s token %u: top-1 probability %g", types[k], tok, top);
            sum += top;
        }
        printf("    %s: mean top-1 probability %.3f (uniform %.4f)\n", types[k], sum / 10, uniform);
        close_model(&o);
    }
}
