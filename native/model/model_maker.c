/*
 * model_maker.c — the model maker's shapes, types, parameter checks and plan:
 * which tensors a made model has, their ggml types (llama.cpp's recipes) and
 * the distribution of their weights (see model_maker.h). Writing the file is
 * in model_maker_write.c, the tokenizer in model_maker_vocab.c.
 */
#include "model/model_maker.h"

#include "core/internal.h"
#include "kernels/types.h"
#include "model/llama_names.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------- presets */

const hy_make_model_shape hy_make_model_shapes[] = {
    { "tiny", 1024, 256, 2, 4, 2, 768, 256, 10000.0f, 1e-5f },
    { "stories110m", 32000, 768, 12, 12, 12, 2048, 1024, 10000.0f, 1e-5f },
    { "tinyllama-1.1b", 32000, 2048, 22, 32, 4, 5632, 2048, 10000.0f, 1e-5f },
};
const size_t hy_make_model_shape_count = sizeof hy_make_model_shapes / sizeof hy_make_model_shapes[0];

/* general.file_type values are llama.cpp's enum llama_ftype (include/llama.h):
 * ALL_F32 0, MOSTLY_F16 1, MOSTLY_Q4_0 2, MOSTLY_Q8_0 7, MOSTLY_Q4_K_M 15,
 * MOSTLY_Q5_K_M 17, MOSTLY_BF16 32. */
const hy_make_model_type hy_make_model_types[] = {
    { "f32", 0, HY_TYPE_F32 },     { "f16", 1, HY_TYPE_F16 },     { "bf16", 32, HY_TYPE_BF16 },
    { "q8_0", 7, HY_TYPE_Q8_0 },   { "q4_0", 2, HY_TYPE_Q4_0 },   { "q4_k_m", 15, HY_TYPE_Q4_K },
    { "q5_k_m", 17, HY_TYPE_Q5_K },
};
const size_t hy_make_model_type_count = sizeof hy_make_model_types / sizeof hy_make_model_types[0];

const hy_make_model_shape *hy_make_model_find_shape(const char *name) {
    for (size_t i = 0; name && i < hy_make_model_shape_count; i++)
        if (!strcmp(hy_make_model_shapes[i].name, name)) return &hy_make_model_shapes[i];
    return NULL;
}

const hy_make_model_type *hy_make_model_find_type(const char *name) {
    for (size_t i = 0; name && i < hy_make_model_type_count; i++)
        if (!strcmp(hy_make_model_types[i].name, name)) return &hy_make_model_types[i];
    return NULL;
}

/* ------------------------------------------------------------ checking */

/* Generous bounds that keep every size computation far from overflow. */
#define MAX_EMBD (1u << 16)
#define MAX_FF (1u << 18)
#define MAX_LAYERS 1024u
#define MAX_CTX (1u << 24)

static hyperion_status bad(const char *field, double value, const char *why) {
    return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL,
                         ((hy_field[]){ HY_TXT("field", field), HY_NUM("value", value) }),
                         "make-model: %s = %g %s", field, value, why);
}

static hyperion_status check_range(const char *field, uint32_t v, uint32_t max) {
    if (v == 0 || v > max) {
        char why[64];
        snprintf(why, sizeof why, "must be in [1, %u]", max);
        return bad(field, v, why);
    }
    return HYPERION_OK;
}

static hyperion_status check_shape(const hy_make_model_shape *s) {
    hyperion_status st;
    if (s->n_vocab < HY_MAKE_MODEL_MIN_VOCAB || s->n_vocab > HY_MAKE_MODEL_MAX_VOCAB)
        return bad("shape.n_vocab", s->n_vocab, "must be in [260, 262144] (special, byte and space tokens)");
    if ((st = check_range("shape.n_embd", s->n_embd, MAX_EMBD)) ||
        (st = check_range("shape.n_layer", s->n_layer, MAX_LAYERS)) ||
        (st = check_range("shape.n_head", s->n_head, s->n_embd)) ||
        (st = check_range("shape.n_head_kv", s->n_head_kv, s->n_head)) ||
        (st = check_range("shape.n_ff", s->n_ff, MAX_FF)) || (st = check_range("shape.n_ctx", s->n_ctx, MAX_CTX)))
        return st;
    if (s->n_embd % s->n_head) return bad("shape.n_head", s->n_head, "must divide shape.n_embd");
    if ((s->n_embd / s->n_head) % 2) return bad("shape.n_head", s->n_head, "must leave an even head size for RoPE");
    if (s->n_head % s->n_head_kv) return bad("shape.n_head_kv", s->n_head_kv, "must divide shape.n_head");
    if (!isfinite(s->rope_freq_base) || !(s->rope_freq_base > 1.0f))
        return bad("shape.rope_freq_base", s->rope_freq_base, "must be finite and above 1");
    if (!isfinite(s->rms_eps) || !(s->rms_eps > 0.0f) || !(s->rms_eps < 1.0f))
        return bad("shape.rms_eps", s->rms_eps, "must be in (0, 1)");
    return HYPERION_OK;
}

static hyperion_status resolve(const hy_make_model_params *p, hy_make_model_shape *shape,
                               const hy_make_model_type **type) {
    if (!p) return HY_RAISE(HYPERION_INVALID_ARGUMENT, NULL, "make-model: the parameters are NULL");
    if (p->shape_name) {
        const hy_make_model_shape *s = hy_make_model_find_shape(p->shape_name);
        if (!s)
            return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "use tiny, stories110m or tinyllama-1.1b",
                                 ((hy_field[]){ HY_TXT("field", "shape_name"), HY_TXT("value", p->shape_name) }),
                                 "make-model: unknown shape \"%.40s\" (tiny, stories110m, tinyllama-1.1b)",
                                 p->shape_name);
        *shape = *s;
    } else {
        *shape = p->shape;
        shape->name = "custom";
    }
    hyperion_status st = check_shape(shape);
    if (st) return st;
    *type = hy_make_model_find_type(p->type_name);
    if (!*type)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "use f32, f16, bf16, q8_0, q4_0, q4_k_m or q5_k_m",
                             ((hy_field[]){ HY_TXT("field", "type_name"),
                                            HY_TXT("value", p->type_name ? p->type_name : "(null)") }),
                             "make-model: unknown type \"%.40s\" (f32, f16, bf16, q8_0, q4_0, q4_k_m, q5_k_m)",
                             p->type_name ? p->type_name : "(null)");
    return HYPERION_OK;
}

/* -------------------------------------------------------------- recipes */

typedef enum kind {
    K_TOKEN_EMBD, K_OUTPUT_NORM, K_OUTPUT, K_ATTN_NORM, K_Q, K_K, K_V, K_O, K_FFN_NORM, K_GATE, K_UP, K_DOWN
} kind;

int hy_make_model_use_more_bits(uint32_t layer, uint32_t n_layer) {
    int64_t i = layer, n = n_layer;
    return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

static int is_norm(kind k) {
    return k == K_OUTPUT_NORM || k == K_ATTN_NORM || k == K_FFN_NORM;
}

static int is_quantized(uint32_t type) {
    return hy_type_get(type)->block_size > 1;
}

static int is_k_quant(uint32_t type) {
    return type == HY_TYPE_Q4_K || type == HY_TYPE_Q5_K || type == HY_TYPE_Q6_K;
}

/* A type whose blocks do not fit a row of ne0: llama.cpp's
 * tensor_type_fallback (src/llama-quant.cpp) goes Q4_K -> Q5_0, Q5_K -> Q5_1,
 * Q6_K -> Q8_0, and to F16 when even 32 does not divide the row. This runtime
 * has no Q5_0 / Q5_1, so every K-quant falls back to Q8_0 (the 32-block type
 * with at least as many bits), then F16 as llama.cpp does. (For Q4_0 / Q8_0
 * llama.cpp has no fallback and fails; F16 keeps such a custom shape usable.) */
static uint32_t fallback(uint32_t type, uint64_t ne0) {
    if (ne0 % hy_type_get(type)->block_size == 0) return type;
    if (is_k_quant(type) && ne0 % 32 == 0) return HY_TYPE_Q8_0;
    return HY_TYPE_F16;
}

/* The ggml type of a tensor, after llama.cpp's llama_tensor_get_type
 * (src/llama-quant.cpp) for the types offered here:
 *  - 1-D tensors (the norms) are never quantized: F32;
 *  - F32 / F16 / BF16 files: every matrix in that type (as convert_hf_to_gguf);
 *  - output.weight, and token_embd.weight when it is also the output (tied):
 *    Q8_0 when the base type's block does not divide the row, else Q6_K,
 *    except in Q8_0 files, which keep Q8_0;
 *  - Q4_K_M / Q5_K_M: attn_v and ffn_down get Q6_K in the layers where
 *    use_more_bits(layer, n_layer) holds (the first and last eighth, and every
 *    third layer in between), the base type (Q4_K / Q5_K) elsewhere;
 *  - everything else (token_embd untied, q, k, o, gate, up): the base type;
 *  - then the fallback above for rows the blocks do not fit. */
static uint32_t recipe_type(const hy_make_model_type *t, kind k, uint32_t layer, uint32_t n_layer, uint64_t ne0,
                            int tied) {
    if (is_norm(k)) return HY_TYPE_F32;
    uint32_t base = t->base_type;
    if (!is_quantized(base)) return base;
    uint32_t type = base;
    if (k == K_OUTPUT || (tied && k == K_TOKEN_EMBD)) {
        if (ne0 % hy_type_get(base)->block_size) type = HY_TYPE_Q8_0;
        else if (base != HY_TYPE_Q8_0) type = HY_TYPE_Q6_K;
    } else if (is_k_quant(base) && (k == K_V || k == K_DOWN) && hy_make_model_use_more_bits(layer, n_layer)) {
        /* a K base type means a _M mix here (Q4_K_M, Q5_K_M) */
        type = HY_TYPE_Q6_K;
    }
    return fallback(type, ne0);
}

/* --------------------------------------------------------- distributions */

/* The standard deviation of a kind's weights. Matrices use std = gain /
 * sqrt(n_in), so that each output of W x has about gain times the spread of
 * x's entries; after an RMSNorm those are about 1:
 *  - q and k: gain 1.2, so attention scores q.k / sqrt(head size) have a std
 *    near 1.4 and attention is peaked but not one-hot;
 *  - v, gate, up: 1 (SwiGLU works in its curved region);
 *  - o and down (the residual branches): sqrt(2 / n_layer) capped at 1, so all
 *    layers together add about as much variance as the embedding has, and the
 *    residual stream stays near unit scale at any depth;
 *  - token_embd: 1 (its rows are the residual stream's start);
 *  - output: 2 / sqrt(n_embd), so logits have a std near 2: top-1
 *    probabilities well above uniform and well below 1;
 *  - a tied token_embd is the output matrix too and takes the output's std.
 * Norm weights are 1 plus noise of std 0.125 / sqrt(3) (see the generator). */
static float kind_std(kind k, const hy_make_model_shape *s, int tied) {
    double embd = s->n_embd, ff = s->n_ff;
    double residual = sqrt(2.0 / s->n_layer);
    if (residual > 1.0) residual = 1.0;
    switch (k) {
    case K_TOKEN_EMBD: return tied ? (float)(2.0 / sqrt(embd)) : 1.0f;
    case K_OUTPUT: return (float)(2.0 / sqrt(embd));
    case K_Q:
    case K_K: return (float)(1.2 / sqrt(embd));
    case K_V:
    case K_GATE:
    case K_UP: return (float)(1.0 / sqrt(embd));
    case K_O: return (float)(residual / sqrt(embd));
    case K_DOWN: return (float)(residual / sqrt(ff));
    default: return (float)(0.125 / sqrt(3.0)); /* norms */
    }
}

/* ----------------------------------------------------------------- plan */

void hy_make_model_plan_free(hy_make_model_plan *plan) {
    if (!plan) return;
    hyperionFree(plan->tensors);
    memset(plan, 0, sizeof *plan);
}

static void plan_tensor(hy_make_model_plan *plan, int tied, kind k, uint32_t layer, const char *name_format,
                        uint64_t ne0, uint64_t ne1) {
    hy_make_model_tensor *t = &plan->tensors[plan->n_tensors++];
    snprintf(t->name, sizeof t->name, name_format, layer);
    t->n_dims = is_norm(k) ? 1 : 2;
    t->ne[0] = ne0;
    t->ne[1] = ne1;
    t->type = recipe_type(plan->type, k, layer, plan->shape.n_layer, ne0, tied);
    t->mean = is_norm(k) ? 1.0f : 0.0f;
    t->std = kind_std(k, &plan->shape, tied);
    t->n_bytes = hy_type_row_bytes(t->type, ne0) * ne1;
    plan->total_bytes += t->n_bytes;
}

hyperion_status hy_make_model_plan_build(const hy_make_model_params *p, hy_make_model_plan *plan) {
    if (!plan) return HY_RAISE(HYPERION_INVALID_ARGUMENT, NULL, "make-model: the plan is NULL");
    memset(plan, 0, sizeof *plan);
    hyperion_status st = resolve(p, &plan->shape, &plan->type);
    if (st) return st;
    const hy_make_model_shape *s = &plan->shape;
    uint32_t n = 3 + HY_L_COUNT * s->n_layer;
    plan->tensors = hyperionCalloc(n, sizeof(hy_make_model_tensor), HYPERION_TAG_MODEL);
    if (!plan->tensors) return hyperionGetLastError()->code;
    uint64_t head = s->n_embd / s->n_head, kv = head * s->n_head_kv;
    int tied = p->tied != 0;
    plan_tensor(plan, tied, K_TOKEN_EMBD, 0, HY_TENSOR_TOKEN_EMBD, s->n_embd, s->n_vocab); /* [n_embd, n_vocab] */
    for (uint32_t l = 0; l < s->n_layer; l++) {
        plan_tensor(plan, tied, K_ATTN_NORM, l, HY_TENSOR_ATTN_NORM, s->n_embd, 1);      /* [n_embd] */
        plan_tensor(plan, tied, K_Q, l, HY_TENSOR_ATTN_Q, s->n_embd, s->n_embd);         /* [n_embd, n_embd] */
        plan_tensor(plan, tied, K_K, l, HY_TENSOR_ATTN_K, s->n_embd, kv);                /* [n_embd, n_embd_kv] */
        plan_tensor(plan, tied, K_V, l, HY_TENSOR_ATTN_V, s->n_embd, kv);                /* [n_embd, n_embd_kv] */
        plan_tensor(plan, tied, K_O, l, HY_TENSOR_ATTN_OUTPUT, s->n_embd, s->n_embd);    /* [n_embd, n_embd] */
        plan_tensor(plan, tied, K_FFN_NORM, l, HY_TENSOR_FFN_NORM, s->n_embd, 1);        /* [n_embd] */
        plan_tensor(plan, tied, K_GATE, l, HY_TENSOR_FFN_GATE, s->n_embd, s->n_ff);      /* [n_embd, n_ff] */
        plan_tensor(plan, tied, K_UP, l, HY_TENSOR_FFN_UP, s->n_embd, s->n_ff);          /* [n_embd, n_ff] */
        plan_tensor(plan, tied, K_DOWN, l, HY_TENSOR_FFN_DOWN, s->n_ff, s->n_embd);      /* [n_ff, n_embd] */
    }
    plan_tensor(plan, tied, K_OUTPUT_NORM, 0, HY_TENSOR_OUTPUT_NORM, s->n_embd, 1);      /* [n_embd] */
    if (!tied) plan_tensor(plan, tied, K_OUTPUT, 0, HY_TENSOR_OUTPUT, s->n_embd, s->n_vocab); /* [n_embd, n_vocab] */
    return HYPERION_OK;
}
