/* test_llama_util.c — see test_llama_util.h. */
#include "test_llama_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "kernels/quant.h"
#include "model/model_maker.h"
#include "model/reference.h"

const char *hy_test_shared_model(const char *name) {
    static char path[1024];
    const char *env = getenv("HYPERION_SHARED_DIR");
    if (env && *env) {
        snprintf(path, sizeof path, "%s/models/%s", env, name);
        return access(path, R_OK) == 0 ? path : NULL;
    }
    /* walk up from this source file: <root>/native/tests/ -> <root>/../shared, or any parent's shared/ */
    char dir[900];
    snprintf(dir, sizeof dir, "%s", __FILE__);
    for (int up = 0; up < 8; up++) {
        char *slash = strrchr(dir, '/');
        if (!slash) break;
        *slash = 0;
        snprintf(path, sizeof path, "%s/shared/models/%s", dir, name);
        if (access(path, R_OK) == 0) return path;
    }
    return NULL;
}

static float *dequantize_tensor(const hy_tensor *t) {
    size_t rows = (size_t)hy_tensor_rows(t), n = (size_t)t->ne[0];
    float *out = malloc(rows * n * sizeof(float));
    for (size_t r = 0; r < rows; r++)
        hy_dequantize_row(t->type, (const uint8_t *)t->data + r * t->row_bytes, out + r * n, (int64_t)n);
    return out;
}

hyperion_status hy_test_reference_logits(const hy_llama_model *m, const int32_t *tokens, size_t n, float *logits) {
    hy_llama_config cfg;
    hy_llama_config_from_hparams(&m->hp, &cfg);
    uint32_t L = m->hp.n_layer;
    hy_llama_layer_f32 *layers = calloc(L, sizeof *layers);
    float **owned = calloc(L * 9 + 4, sizeof(float *));
    size_t k = 0;
    for (uint32_t l = 0; l < L; l++) {
        const hy_llama_layer *src = &m->w.layers[l];
        layers[l].attn_norm = owned[k++] = dequantize_tensor(src->t[HY_L_ATTN_NORM]);
        layers[l].wq = owned[k++] = dequantize_tensor(src->t[HY_L_ATTN_Q]);
        layers[l].wk = owned[k++] = dequantize_tensor(src->t[HY_L_ATTN_K]);
        layers[l].wv = owned[k++] = dequantize_tensor(src->t[HY_L_ATTN_V]);
        layers[l].wo = owned[k++] = dequantize_tensor(src->t[HY_L_ATTN_OUTPUT]);
        layers[l].ffn_norm = owned[k++] = dequantize_tensor(src->t[HY_L_FFN_NORM]);
        layers[l].w_gate = owned[k++] = dequantize_tensor(src->t[HY_L_FFN_GATE]);
        layers[l].w_up = owned[k++] = dequantize_tensor(src->t[HY_L_FFN_UP]);
        layers[l].w_down = owned[k++] = dequantize_tensor(src->t[HY_L_FFN_DOWN]);
    }
    hy_llama_weights_f32 w = { 0 };
    w.layers = layers;
    w.token_embd = owned[k++] = dequantize_tensor(m->w.token_embd);
    w.output_norm = owned[k++] = dequantize_tensor(m->w.output_norm);
    if (!m->hp.tied_output) w.output = owned[k++] = dequantize_tensor(m->w.output);
    if (m->hp.rope_freqs) w.rope_freqs = (const float *)m->hp.rope_freqs->data;
    hyperion_status s = hy_reference_forward(&cfg, &w, tokens, n, 1, logits);
    for (size_t i = 0; i < k; i++) free(owned[i]);
    free(owned);
    free(layers);
    return s;
}

double hy_test_rel_l2(const float *a, const float *b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - b[i];
        num += d * d;
        den += (double)b[i] * b[i];
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

const char *hy_test_make_tiny(const char *name, const char *type, uint64_t seed, char *path, size_t size) {
    snprintf(path, size, "%s/%s.gguf", hy_test_tmpdir(), name);
    hy_make_model_params p;
    memset(&p, 0, sizeof p);
    p.shape_name = "tiny";
    p.type_name = type;
    p.seed = seed;
    if (hy_make_model(&p, path) != HYPERION_OK) {
        hy_test_fail(__FILE__, __LINE__, "make %s: %s", name, hyperionGetLastError()->message);
        return NULL;
    }
    return path;
}

float *hy_test_logits(const hy_llama_model *m, int threads, uint32_t n_batch, hy_kv_cache_type kv_cache,
                      const int32_t *tokens, uint32_t n) {
    hy_threadpool *pool = NULL;
    hy_llama_context *ctx = NULL;
    hy_llama_context_params cp = { n < 128 ? 128 : n, n_batch, kv_cache, 0 };
    float *logits = malloc((size_t)n * m->hp.n_vocab * sizeof(float));
    if (!logits || hy_threadpool_create(threads, &pool) || hy_llama_context_create(m, &cp, &ctx) ||
        hy_llama_decode(ctx, pool, tokens, n, logits, 1, NULL)) {
        hy_test_fail(__FILE__, __LINE__, "run failed: %s", hyperionGetLastError()->message);
        free(logits);
        logits = NULL;
    }
    hy_llama_context_free(ctx);
    hy_threadpool_free(pool);
    return logits;
}

hy_llama_model *hy_test_load_tiny(const char *name, const char *type, uint64_t seed) {
    char path[700];
    if (!hy_test_make_tiny(name, type, seed, path, sizeof path)) return NULL;
    hy_llama_model *m = NULL;
    if (hy_llama_model_load(path, &m) != HYPERION_OK) {
        hy_test_fail(__FILE__, __LINE__, "load %s: %s", name, hyperionGetLastError()->message);
        return NULL;
    }
    return m;
}
