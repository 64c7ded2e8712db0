/*
 * model_info.c — hyperionGetModelInfo: what a model file holds and what
 * memory a context of a given size will need, as JSON.
 */
#include "hyperion_model.h"

#include "core/internal.h"
#include "kernels/types.h"
#include "model/gguf.h"
#include "model/json_builder.h"
#include "model/llama_hparams.h"
#include "model/model_report.h"

#include <string.h>

/* The prompt batch the activation estimate assumes (tokens processed at once). */
#define ESTIMATE_BATCH 512u

static uint64_t sat_mul(uint64_t a, uint64_t b) {
    uint64_t r;
    return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

static uint64_t sat_add(uint64_t a, uint64_t b) {
    uint64_t r;
    return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

/* KV cache: a K and a V row of n_embd_kv elements per layer and position. */
static uint64_t kv_cache_bytes(const hy_llama_hparams *hp, uint64_t ctx, uint64_t elem_bytes) {
    return sat_mul(sat_mul(sat_mul(2ull * hp->n_layer, ctx), hp->n_embd_kv), elem_bytes);
}

/* Activation scratch for a batch of B = min(ctx, 512) tokens, all F32, per
 * token: the hidden state, residual, norm output and FFN output (4 n_embd),
 * q and the attention output (2 n_embd_q), k and v (2 n_embd_kv), gate and up
 * (2 n_ff), one row of attention scores per head (n_head ctx) and a row of
 * logits (n_vocab). An estimate for planning, not the graph's exact figure. */
static uint64_t activation_bytes(const hy_llama_hparams *hp, uint64_t ctx) {
    uint64_t batch = ctx < ESTIMATE_BATCH ? ctx : ESTIMATE_BATCH;
    uint64_t per_token = 4ull * hp->n_embd + 2ull * hp->n_embd_q + 2ull * hp->n_embd_kv + 2ull * hp->n_ff;
    per_token = sat_add(per_token, sat_mul(hp->n_head, ctx));
    per_token = sat_add(per_token, hp->n_vocab);
    return sat_mul(sat_mul(per_token, 4), batch);
}

static void string_value(hy_json *j, const hy_gguf *g, const char *key) {
    const hy_gguf_kv *kv = hy_gguf_find(g, key);
    if (kv && kv->type == HY_GGUF_STRING) hy_json_string_n(j, (const char *)kv->value, (size_t)kv->value_len);
    else hy_json_null(j);
}

static void tensor_summary(hy_json *j, const hy_gguf *g) {
    uint64_t count[HY_TYPE_ID_LIMIT] = { 0 }, bytes[HY_TYPE_ID_LIMIT] = { 0 }, params = 0;
    for (uint64_t i = 0; i < hy_gguf_tensor_count(g); i++) {
        const hy_tensor *t = hy_gguf_tensor_at(g, i);
        params = sat_add(params, t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]); /* the reader bounded the product */
        count[t->type]++;
        bytes[t->type] = sat_add(bytes[t->type], t->n_bytes);
    }
    hy_json_kv_u64(j, "parameter_count", params);
    hy_json_key(j, "tensor_types");
    hy_json_object_begin(j);
    for (uint32_t type = 0; type < HY_TYPE_ID_LIMIT; type++) {
        if (!count[type]) continue;
        hy_json_key(j, hy_type_get(type)->name);
        hy_json_object_begin(j);
        hy_json_kv_u64(j, "count", count[type]);
        hy_json_kv_u64(j, "bytes", bytes[type]);
        hy_json_kv_bool(j, "supported", hy_type_get(type)->supported);
        hy_json_object_end(j);
    }
    hy_json_object_end(j);
}

static void nulls(hy_json *j, const char *const *keys, size_t n) {
    for (size_t i = 0; i < n; i++) {
        hy_json_key(j, keys[i]);
        hy_json_null(j);
    }
}

/* Bytes a load with repackWeights copies into the pool (hy_llama_model_repack:
 * every tensor a token reads whole, each 64-byte aligned: the layers', the
 * output norm, and the output matrix, which is token_embd when tied). */
static uint64_t repacked_weights_bytes(const hy_gguf *g) {
    uint64_t total = 0;
    const hy_tensor *embd = NULL;
    int has_output = 0;
    for (uint64_t i = 0; i < hy_gguf_tensor_count(g); i++) {
        const hy_tensor *t = hy_gguf_tensor_at(g, i);
        if (!t || !t->name) continue;
        if (strcmp(t->name, "token_embd.weight") == 0) embd = t;
        has_output |= strcmp(t->name, "output.weight") == 0;
        if (strncmp(t->name, "blk.", 4) != 0 && strcmp(t->name, "output.weight") != 0 &&
            strcmp(t->name, "output_norm.weight") != 0)
            continue;
        total = sat_add(total, (t->n_bytes + 63) & ~(uint64_t)63);
    }
    if (!has_output && embd) total = sat_add(total, (embd->n_bytes + 63) & ~(uint64_t)63);
    return total;
}

static void llama_section(hy_json *j, const hy_gguf *g, const hy_llama_hparams *hp, uint32_t context_size) {
    hy_json_kv_u64(j, "context_length", hp->n_ctx_train);
    hy_json_kv_u64(j, "layers", hp->n_layer);
    hy_json_kv_u64(j, "embedding", hp->n_embd);
    hy_json_kv_u64(j, "heads", hp->n_head);
    hy_json_kv_u64(j, "kv_heads", hp->n_head_kv);
    hy_json_kv_u64(j, "head_dim", hp->head_dim);
    hy_json_kv_u64(j, "feed_forward", hp->n_ff);
    hy_json_kv_f32(j, "rms_epsilon", hp->rms_eps);
    hy_json_kv_bool(j, "tied_output", hp->tied_output);
    hy_json_key(j, "rope");
    hy_json_object_begin(j);
    hy_json_kv_f32(j, "freq_base", hp->rope_freq_base);
    hy_json_kv_u64(j, "dimension_count", hp->n_rot);
    hy_json_kv_string(j, "scaling", hy_rope_scaling_name(hp->rope_scaling));
    hy_json_kv_f32(j, "factor", hp->rope_factor);
    hy_json_key(j, "original_context_length");
    if (hp->rope_orig_ctx) hy_json_u64(j, hp->rope_orig_ctx);
    else hy_json_null(j);
    hy_json_kv_string(j, "freq_factors", hp->rope_scaling != HY_ROPE_SCALING_LLAMA3 ? NULL
                                         : hp->rope_freqs ? "tensor" : "keys");
    hy_json_object_end(j);

    uint64_t ctx = context_size ? context_size : hp->n_ctx_train;
    uint64_t weights = hy_gguf_file_size(g);
    uint64_t kv16 = kv_cache_bytes(hp, ctx, 2), kv32 = kv_cache_bytes(hp, ctx, 4);
    uint64_t act = activation_bytes(hp, ctx);
    hy_json_key(j, "memory");
    hy_json_object_begin(j);
    hy_json_kv_u64(j, "context_size", ctx);
    hy_json_kv_u64(j, "weights_bytes", weights);
    hy_json_kv_u64(j, "repacked_weights_bytes", repacked_weights_bytes(g));
    hy_json_kv_u64(j, "kv_cache_f16_bytes", kv16);
    hy_json_kv_u64(j, "kv_cache_f32_bytes", kv32);
    hy_json_kv_u64(j, "activations_bytes", act);
    hy_json_kv_u64(j, "total_f16_bytes", sat_add(sat_add(weights, kv16), act));
    hy_json_kv_u64(j, "total_f32_bytes", sat_add(sat_add(weights, kv32), act));
    hy_json_object_end(j);
}

static const char *const llama_keys[] = { "context_length", "layers", "embedding", "heads", "kv_heads", "head_dim",
                                          "feed_forward", "rms_epsilon", "tied_output", "rope", "memory" };
static const char *const file_keys[] = { "gguf_version", "alignment", "tensor_count", "kv_count", "architecture",
                                         "name", "supported", "parameter_count", "tensor_types", "vocab_size",
                                         "tokenizer_model" };

/* Describe an opened file; problems go to the open array p. */
static hyperion_status describe(hy_json *j, hy_json *p, uint32_t *n_problems, const hy_gguf *g, uint32_t context_size) {
    hy_json_kv_u64(j, "gguf_version", hy_gguf_version(g));
    hy_json_kv_u64(j, "alignment", hy_gguf_alignment(g));
    hy_json_kv_u64(j, "tensor_count", hy_gguf_tensor_count(g));
    hy_json_kv_u64(j, "kv_count", hy_gguf_kv_count(g));
    hy_json_key(j, "architecture");
    string_value(j, g, HY_KEY_ARCHITECTURE);
    hy_json_key(j, "name");
    string_value(j, g, HY_KEY_NAME);

    /* the llama metadata may read well even when the weights do not match it
     * (or are absent, in a vocabulary-only file): describe what was read */
    hy_llama_hparams hp;
    hyperion_status read = hy_llama_hparams_read(g, &hp), bind = HYPERION_OK;
    if (read == HYPERION_OUT_OF_MEMORY || read == HYPERION_MEMORY_LIMIT) return read;
    if (read) {
        hy_report_problem_from_error(p);
        (*n_problems)++;
    } else if (hy_gguf_tensor_count(g) == 0) {
        bind = HYPERION_MODEL_INVALID;
        hy_report_no_tensors(p);
        (*n_problems)++;
    } else if ((bind = hy_llama_weights_bind(g, &hp, NULL))) {
        if (bind == HYPERION_OUT_OF_MEMORY || bind == HYPERION_MEMORY_LIMIT) return bind;
        hy_report_problem_from_error(p);
        (*n_problems)++;
    }
    int types_ok = 1;
    for (uint64_t i = 0; i < hy_gguf_tensor_count(g); i++) types_ok &= hy_type_get(hy_gguf_tensor_at(g, i)->type)->supported;
    hy_json_kv_bool(j, "supported", !read && !bind && types_ok);
    tensor_summary(j, g);

    hy_json_key(j, "vocab_size");
    const hy_gguf_kv *tokens = hy_gguf_find(g, HY_KEY_TOKENS);
    if (!read && hp.n_vocab) hy_json_u64(j, hp.n_vocab);
    else if (tokens && tokens->type == HY_GGUF_ARRAY) hy_json_u64(j, tokens->count);
    else hy_json_null(j);
    hy_json_key(j, "tokenizer_model");
    string_value(j, g, HY_KEY_TOKENIZER_MODEL);
    if (read) nulls(j, llama_keys, sizeof llama_keys / sizeof llama_keys[0]);
    else llama_section(j, g, &hp, context_size);
    return HYPERION_OK;
}

hyperion_status hyperionGetModelInfo(const char *path, uint32_t context_size, char **info_json) {
    if (info_json) *info_json = NULL;
    if (!path || !info_json)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", path ? "info_json" : "path") }),
                             "hyperionGetModelInfo: %s is NULL", path ? "info_json" : "path");
    hy_json j, p;
    hy_json_init(&j, HYPERION_TAG_MODEL);
    hy_json_init(&p, HYPERION_TAG_MODEL);
    hy_json_array_begin(&p);
    uint32_t n_problems = 0;
    hy_gguf *g = NULL;
    hyperion_status s = hy_report_open(path, &g);
    if (s == HYPERION_OUT_OF_MEMORY || s == HYPERION_MEMORY_LIMIT) goto fail;

    hy_json_object_begin(&j);
    hy_json_kv_string(&j, "path", path);
    int64_t size = g ? (int64_t)hy_gguf_file_size(g) : hy_report_file_size(path);
    hy_json_key(&j, "file_size");
    if (size >= 0) hy_json_i64(&j, size);
    else hy_json_null(&j);
    if (s) {
        hy_report_problem_from_error(&p);
        n_problems++;
        nulls(&j, file_keys, sizeof file_keys / sizeof file_keys[0]);
        nulls(&j, llama_keys, sizeof llama_keys / sizeof llama_keys[0]);
        s = HYPERION_OK;
    } else if ((s = describe(&j, &p, &n_problems, g, context_size))) {
        goto fail;
    }
    hy_json_kv_bool(&j, "ok", n_problems == 0);
    hy_json_array_end(&p);
    char *problems = NULL;
    size_t len = 0;
    if ((s = hy_json_finish(&p, &problems, &len))) goto fail;
    hy_json_key(&j, "problems");
    hy_json_raw_value(&j, problems, len);
    hyperionFree(problems);
    hy_json_object_end(&j);
    hy_gguf_close(g);
    return hy_json_finish(&j, info_json, NULL);

fail:
    hy_gguf_close(g);
    hy_json_discard(&j);
    hy_json_discard(&p);
    return s;
}
