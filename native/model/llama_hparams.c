/*
 * llama_hparams.c — llama-family hyperparameters and weight shapes (see
 * llama_hparams.h).
 */
#include "model/llama_hparams.h"

#include "core/internal.h"
#include "kernels/types.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *const hy_llama_layer_tensor_format[HY_L_COUNT] = {
    [HY_L_ATTN_NORM] = HY_TENSOR_ATTN_NORM,
    [HY_L_ATTN_Q] = HY_TENSOR_ATTN_Q,
    [HY_L_ATTN_K] = HY_TENSOR_ATTN_K,
    [HY_L_ATTN_V] = HY_TENSOR_ATTN_V,
    [HY_L_ATTN_OUTPUT] = HY_TENSOR_ATTN_OUTPUT,
    [HY_L_FFN_NORM] = HY_TENSOR_FFN_NORM,
    [HY_L_FFN_GATE] = HY_TENSOR_FFN_GATE,
    [HY_L_FFN_UP] = HY_TENSOR_FFN_UP,
    [HY_L_FFN_DOWN] = HY_TENSOR_FFN_DOWN,
};

const char *hy_rope_scaling_name(hy_rope_scaling s) {
    switch (s) {
    case HY_ROPE_SCALING_NONE: return "none";
    case HY_ROPE_SCALING_LINEAR: return "linear";
    case HY_ROPE_SCALING_LLAMA3: return "llama3";
    }
    return "unknown";
}

static const char *file_name(const hy_gguf *g) {
    const char *p = hy_gguf_path(g), *slash = strrchr(p, '/');
    return slash ? slash + 1 : p;
}

/* Raise code about key: field "kv[i].value" at the value's offset when the
 * key is present, else the key itself with offset 0. */
static hyperion_status key_problem(const hy_gguf *g, hyperion_status code, const char *key, const char *suggestion,
                                   const char *format, ...) __attribute__((format(printf, 5, 6)));
static hyperion_status key_problem(const hy_gguf *g, hyperion_status code, const char *key, const char *suggestion,
                                   const char *format, ...) {
    char text[384], field[64];
    va_list args;
    va_start(args, format);
    vsnprintf(text, sizeof text, format, args);
    va_end(args);
    const hy_gguf_kv *kv = hy_gguf_find(g, key);
    uint64_t offset = 0;
    if (kv) {
        snprintf(field, sizeof field, "kv[%llu].value", (unsigned long long)(kv - hy_gguf_kv_at(g, 0)));
        offset = kv->value_offset;
    } else {
        snprintf(field, sizeof field, "%s", key);
    }
    return HY_RAISE_WITH(code, suggestion,
                         ((hy_field[]){ HY_TXT("field", field), HY_NUM("offset", (double)offset), HY_TXT("key", key),
                                        HY_TXT("path", hy_gguf_path(g)) }),
                         "%s: %s at byte %llu (%s): %s", file_name(g), field, (unsigned long long)offset, key, text);
}

#define SUGGEST_INCONSISTENT "the metadata contradicts itself; convert the model again"

static const char *akey(char *buf, size_t size, const char *arch, const char *suffix) {
    snprintf(buf, size, "%s%s", arch, suffix);
    return buf;
}

/* A required positive u32 at <arch><suffix>. */
static hyperion_status positive(const hy_gguf *g, const char *arch, const char *suffix, uint32_t *out) {
    char key[96];
    hyperion_status s = hy_gguf_get_u32(g, akey(key, sizeof key, arch, suffix), out);
    if (s) return s;
    if (*out == 0) return key_problem(g, HYPERION_MODEL_INVALID, key, SUGGEST_INCONSISTENT, "must be at least 1");
    return HYPERION_OK;
}

static hyperion_status read_architecture(const hy_gguf *g, hy_llama_hparams *hp) {
    const char *text;
    uint64_t len;
    hyperion_status s = hy_gguf_get_string(g, HY_KEY_ARCHITECTURE, &text, &len);
    if (s) return s;
    if ((len == 5 && !memcmp(text, "llama", 5)) || (len == 7 && !memcmp(text, "mistral", 7))) {
        memcpy(hp->arch, text, (size_t)len);
        hp->arch[len] = '\0';
        return HYPERION_OK;
    }
    return key_problem(g, HYPERION_MODEL_UNSUPPORTED, HY_KEY_ARCHITECTURE,
                       "use a llama-family model (Llama 2/3, TinyLlama, SmolLM, Mistral)",
                       "architecture \"%.*s\" is not supported (supported: llama, mistral)",
                       (int)(len > 40 ? 40 : len), text);
}

static hyperion_status read_shapes(const hy_gguf *g, hy_llama_hparams *hp) {
    const char *a = hp->arch;
    char key[96];
    hyperion_status s;
    if ((s = positive(g, a, HY_KEY_CONTEXT_LENGTH, &hp->n_ctx_train)) ||
        (s = positive(g, a, HY_KEY_EMBEDDING_LENGTH, &hp->n_embd)) ||
        (s = positive(g, a, HY_KEY_BLOCK_COUNT, &hp->n_layer)) ||
        (s = positive(g, a, HY_KEY_FEED_FORWARD_LENGTH, &hp->n_ff)) ||
        (s = positive(g, a, HY_KEY_HEAD_COUNT, &hp->n_head)))
        return s;
    if ((s = hy_gguf_get_u32_or(g, akey(key, sizeof key, a, HY_KEY_HEAD_COUNT_KV), hp->n_head, &hp->n_head_kv)))
        return s;
    if (hp->n_head_kv == 0 || hp->n_head_kv > hp->n_head || hp->n_head % hp->n_head_kv != 0)
        return key_problem(g, HYPERION_MODEL_INVALID, key, SUGGEST_INCONSISTENT,
                           "head_count_kv = %u must divide head_count = %u", hp->n_head_kv, hp->n_head);

    uint32_t key_len = 0, value_len = 0;
    if ((s = hy_gguf_get_u32_or(g, akey(key, sizeof key, a, HY_KEY_KEY_LENGTH), 0, &key_len))) return s;
    if (key_len) {
        char vkey[96];
        if ((s = hy_gguf_get_u32_or(g, akey(vkey, sizeof vkey, a, HY_KEY_VALUE_LENGTH), key_len, &value_len))) return s;
        if (value_len != key_len)
            return key_problem(g, HYPERION_MODEL_UNSUPPORTED, vkey, "use a model whose keys and values have one head size",
                               "value_length = %u differs from key_length = %u", value_len, key_len);
        hp->head_dim = key_len;
    } else {
        if (hp->n_embd % hp->n_head != 0)
            return key_problem(g, HYPERION_MODEL_INVALID, akey(key, sizeof key, a, HY_KEY_HEAD_COUNT),
                               SUGGEST_INCONSISTENT, "head_count = %u does not divide embedding_length = %u",
                               hp->n_head, hp->n_embd);
        hp->head_dim = hp->n_embd / hp->n_head;
    }
    if (__builtin_mul_overflow(hp->n_head, hp->head_dim, &hp->n_embd_q) ||
        __builtin_mul_overflow(hp->n_head_kv, hp->head_dim, &hp->n_embd_kv))
        return key_problem(g, HYPERION_MODEL_INVALID, akey(key, sizeof key, a, HY_KEY_HEAD_COUNT),
                           SUGGEST_INCONSISTENT, "head_count x head size overflows");

    if ((s = hy_gguf_get_u32_or(g, akey(key, sizeof key, a, HY_KEY_ROPE_DIMENSION_COUNT), hp->head_dim, &hp->n_rot)))
        return s;
    if (hp->n_rot == 0 || hp->n_rot % 2 != 0 || hp->n_rot > hp->head_dim)
        return key_problem(g, HYPERION_MODEL_INVALID, key, SUGGEST_INCONSISTENT,
                           "rope dimension count %u must be even and at most the head size %u", hp->n_rot,
                           hp->head_dim);
    if (hp->n_rot != hp->head_dim)
        return key_problem(g, HYPERION_MODEL_UNSUPPORTED, key, "use a model with full rotary embeddings",
                           "partial rotary embeddings (%u of %u dimensions) are not supported", hp->n_rot,
                           hp->head_dim);

    if ((s = hy_gguf_get_f32(g, akey(key, sizeof key, a, HY_KEY_RMS_EPSILON), &hp->rms_eps))) return s;
    if (!isfinite(hp->rms_eps) || hp->rms_eps <= 0.0f || hp->rms_eps >= 1.0f)
        return key_problem(g, HYPERION_MODEL_INVALID, key, SUGGEST_INCONSISTENT,
                           "RMS norm epsilon %g must be in (0, 1)", (double)hp->rms_eps);
    if ((s = hy_gguf_get_f32_or(g, akey(key, sizeof key, a, HY_KEY_ROPE_FREQ_BASE), 10000.0f, &hp->rope_freq_base)))
        return s;
    if (!isfinite(hp->rope_freq_base) || hp->rope_freq_base <= 1.0f)
        return key_problem(g, HYPERION_MODEL_INVALID, key, SUGGEST_INCONSISTENT,
                           "RoPE frequency base %g must be finite and above 1", (double)hp->rope_freq_base);
    return HYPERION_OK;
}

/* The scaling type string (optional): none, linear or llama3; -1 absent. */
static hyperion_status read_scaling_type(const hy_gguf *g, const char *key, int *type) {
    *type = -1;
    if (!hy_gguf_find(g, key)) return HYPERION_OK;
    const char *text;
    uint64_t len;
    hyperion_status s = hy_gguf_get_string(g, key, &text, &len);
    if (s) return s;
    if (len == 4 && !memcmp(text, "none", 4)) *type = HY_ROPE_SCALING_NONE;
    else if (len == 6 && !memcmp(text, "linear", 6)) *type = HY_ROPE_SCALING_LINEAR;
    else if (len == 6 && !memcmp(text, "llama3", 6)) *type = HY_ROPE_SCALING_LLAMA3;
    else
        return key_problem(g, HYPERION_MODEL_UNSUPPORTED, key, "use a model with linear or llama3 RoPE scaling (or none)",
                           "RoPE scaling \"%.*s\" is not supported (none, linear and llama3 are)",
                           (int)(len > 40 ? 40 : len), text);
    return HYPERION_OK;
}

static hyperion_status read_rope_scaling(const hy_gguf *g, hy_llama_hparams *hp) {
    const char *a = hp->arch;
    char key[96], fkey[96];
    hyperion_status s;
    int type;
    if ((s = read_scaling_type(g, akey(key, sizeof key, a, HY_KEY_ROPE_SCALING_TYPE), &type))) return s;

    /* the factor: rope.scaling.factor, or the older rope.scale_linear */
    int has_factor = 0;
    hp->rope_factor = 1.0f;
    akey(fkey, sizeof fkey, a, HY_KEY_ROPE_SCALING_FACTOR);
    if (!hy_gguf_find(g, fkey)) akey(fkey, sizeof fkey, a, HY_KEY_ROPE_SCALE_LINEAR);
    if (hy_gguf_find(g, fkey)) {
        if ((s = hy_gguf_get_f32(g, fkey, &hp->rope_factor))) return s;
        /* the graph uses 1 / factor too: a positive factor below ~3e-39 makes it infinite */
        if (!isfinite(hp->rope_factor) || hp->rope_factor <= 0.0f || !isfinite(1.0f / hp->rope_factor))
            return key_problem(g, HYPERION_MODEL_INVALID, fkey, SUGGEST_INCONSISTENT,
                               "RoPE scaling factor %g must be finite and positive, with a finite reciprocal",
                               (double)hp->rope_factor);
        has_factor = 1;
    }
    if ((s = hy_gguf_get_u32_or(g, akey(key, sizeof key, a, HY_KEY_ROPE_SCALING_ORIG_CTX), 0, &hp->rope_orig_ctx)))
        return s;

    char low_key[96], high_key[96];
    akey(low_key, sizeof low_key, a, HY_KEY_ROPE_SCALING_LOW_FREQ);
    akey(high_key, sizeof high_key, a, HY_KEY_ROPE_SCALING_HIGH_FREQ);
    int has_freq_keys = hy_gguf_find(g, low_key) || hy_gguf_find(g, high_key);
    if ((s = hy_gguf_get_f32_or(g, low_key, 1.0f, &hp->rope_low_freq_factor)) ||
        (s = hy_gguf_get_f32_or(g, high_key, 4.0f, &hp->rope_high_freq_factor)))
        return s;

    hp->rope_freqs = hy_gguf_find_tensor(g, HY_TENSOR_ROPE_FREQS);
    if (hp->rope_freqs) {
        /* llama.cpp's converter stores llama3 factors as this tensor */
        if (type == HY_ROPE_SCALING_LINEAR)
            return key_problem(g, HYPERION_MODEL_UNSUPPORTED, key, "use a model with one kind of RoPE scaling",
                               "linear RoPE scaling together with a %s tensor is not supported", HY_TENSOR_ROPE_FREQS);
        const hy_tensor *t = hp->rope_freqs;
        if (t->type != HY_TYPE_F32 || t->n_dims != 1 || t->ne[0] != hp->n_rot / 2)
            return HY_RAISE_WITH(HYPERION_MODEL_INVALID, SUGGEST_INCONSISTENT,
                                 ((hy_field[]){ HY_TXT("field", HY_TENSOR_ROPE_FREQS), HY_TXT("path", hy_gguf_path(g)) }),
                                 "%s: tensor %s must be F32 of shape [%u] (half the rope dimension count), "
                                 "found %s [%llu, %llu]", file_name(g), HY_TENSOR_ROPE_FREQS, hp->n_rot / 2,
                                 hy_type_get(t->type)->name, (unsigned long long)t->ne[0],
                                 (unsigned long long)t->ne[1]);
        hp->rope_scaling = HY_ROPE_SCALING_LLAMA3;
    } else if (type == HY_ROPE_SCALING_LLAMA3 || (type < 0 && has_freq_keys)) {
        /* factors computed from the keys: they need the factor and the original context */
        if (!has_factor || !hp->rope_orig_ctx)
            return key_problem(g, HYPERION_MODEL_INVALID, has_factor ? key : fkey, SUGGEST_INCONSISTENT,
                               "llama3 RoPE scaling without %s needs the scaling factor and the original context length",
                               HY_TENSOR_ROPE_FREQS);
        if (!(hp->rope_low_freq_factor > 0.0f) || !(hp->rope_high_freq_factor > hp->rope_low_freq_factor) ||
            !isfinite(hp->rope_high_freq_factor))
            return key_problem(g, HYPERION_MODEL_INVALID, high_key, SUGGEST_INCONSISTENT,
                               "llama3 RoPE needs 0 < low_freq_factor (%g) < high_freq_factor (%g)",
                               (double)hp->rope_low_freq_factor, (double)hp->rope_high_freq_factor);
        hp->rope_scaling = HY_ROPE_SCALING_LLAMA3;
    } else if (type == HY_ROPE_SCALING_LINEAR || (type < 0 && has_factor && hp->rope_factor != 1.0f)) {
        /* llama.cpp reads a factor without a type as linear scaling */
        hp->rope_scaling = HY_ROPE_SCALING_LINEAR;
    } else {
        hp->rope_scaling = HY_ROPE_SCALING_NONE;
        hp->rope_factor = 1.0f;
    }
    hp->rope_freq_scale = 1.0f / hp->rope_factor;
    return HYPERION_OK;
}

static hyperion_status read_vocab(const hy_gguf *g, hy_llama_hparams *hp) {
    if (hy_gguf_find(g, HY_KEY_TOKENS)) {
        uint64_t count = 0;
        hyperion_status s = hy_gguf_get_array(g, HY_KEY_TOKENS, HY_GGUF_STRING, NULL, &count, NULL);
        if (s) return s;
        if (count == 0 || count > UINT32_MAX)
            return key_problem(g, HYPERION_MODEL_INVALID, HY_KEY_TOKENS, SUGGEST_INCONSISTENT,
                               "the vocabulary has %llu tokens", (unsigned long long)count);
        hp->n_vocab = (uint32_t)count;
        hp->has_vocab = 1;
        return HYPERION_OK;
    }
    const hy_tensor *embd = hy_gguf_find_tensor(g, HY_TENSOR_TOKEN_EMBD);
    hp->n_vocab = embd && embd->ne[1] <= UINT32_MAX ? (uint32_t)embd->ne[1] : 0;
    return HYPERION_OK;
}

hyperion_status hy_llama_hparams_read(const hy_gguf *g, hy_llama_hparams *hp) {
    if (!g || !hp) return HY_RAISE(HYPERION_INVALID_ARGUMENT, NULL, "hy_llama_hparams_read: NULL argument");
    memset(hp, 0, sizeof *hp);
    hyperion_status s;
    if ((s = read_architecture(g, hp)) || (s = read_shapes(g, hp)) || (s = read_rope_scaling(g, hp)) ||
        (s = read_vocab(g, hp)))
        return s;
    hp->tied_output = hy_gguf_find_tensor(g, HY_TENSOR_OUTPUT) == NULL;
    return HYPERION_OK;
}

/* ------------------------------------------------------------ the weights */

/* Find name and check it is [ne0, ne1] (ne1 = 1 for vectors); why says which
 * keys the shape comes from. */
static hyperion_status expect_tensor(const hy_gguf *g, const char *name, uint64_t ne0, uint64_t ne1, const char *why,
                                     const hy_tensor **out) {
    const hy_tensor *t = hy_gguf_find_tensor(g, name);
    if (!t)
        return HY_RAISE_WITH(HYPERION_MODEL_INVALID, "the file lacks weights of a llama model; convert it again",
                             ((hy_field[]){ HY_TXT("field", name), HY_TXT("tensor", name), HY_TXT("path", hy_gguf_path(g)) }),
                             "%s: tensor \"%s\" is missing", file_name(g), name);
    if (t->ne[0] != ne0 || t->ne[1] != ne1 || t->ne[2] != 1 || t->ne[3] != 1) {
        uint64_t i = (uint64_t)(t - hy_gguf_tensor_at(g, 0));
        char field[64];
        snprintf(field, sizeof field, "tensor_infos[%llu].ne", (unsigned long long)i);
        uint64_t offset = hy_gguf_tensor_info_offset(g, i);
        return HY_RAISE_WITH(HYPERION_MODEL_INVALID, SUGGEST_INCONSISTENT,
                             ((hy_field[]){ HY_TXT("field", field), HY_NUM("offset", (double)offset),
                                            HY_TXT("tensor", name), HY_TXT("path", hy_gguf_path(g)) }),
                             "%s: %s at byte %llu: tensor \"%s\" has shape [%llu, %llu, %llu, %llu], expected "
                             "[%llu, %llu] from %s", file_name(g), field, (unsigned long long)offset, name,
                             (unsigned long long)t->ne[0], (unsigned long long)t->ne[1], (unsigned long long)t->ne[2],
                             (unsigned long long)t->ne[3], (unsigned long long)ne0, (unsigned long long)ne1, why);
    }
    *out = t;
    return HYPERION_OK;
}

void hy_llama_weights_free(hy_llama_weights *w) {
    if (!w) return;
    hyperionFree(w->layers);
    memset(w, 0, sizeof *w);
}

hyperion_status hy_llama_weights_bind(const hy_gguf *g, const hy_llama_hparams *hp, hy_llama_weights *out) {
    if (!g || !hp) return HY_RAISE(HYPERION_INVALID_ARGUMENT, NULL, "hy_llama_weights_bind: NULL argument");
    hy_llama_weights w = { .n_layer = hp->n_layer };
    hyperion_status s;
    char key[96];
    /* every layer has HY_L_COUNT tensors: refuse an impossible count before allocating */
    if ((uint64_t)hp->n_layer * HY_L_COUNT > hy_gguf_tensor_count(g))
        return key_problem(g, HYPERION_MODEL_INVALID, akey(key, sizeof key, hp->arch, HY_KEY_BLOCK_COUNT),
                           SUGGEST_INCONSISTENT, "%u blocks need %llu tensors but the file has %llu", hp->n_layer,
                           (unsigned long long)hp->n_layer * HY_L_COUNT, (unsigned long long)hy_gguf_tensor_count(g));
    uint32_t n_vocab = hp->n_vocab;
    const char *vocab_why = hp->has_vocab ? "embedding_length and the tokenizer.ggml.tokens count"
                                          : "embedding_length";
    if (!n_vocab) {
        const hy_tensor *e = hy_gguf_find_tensor(g, HY_TENSOR_TOKEN_EMBD);
        n_vocab = e ? (uint32_t)e->ne[1] : 1;
    }
    if ((s = expect_tensor(g, HY_TENSOR_TOKEN_EMBD, hp->n_embd, n_vocab, vocab_why, &w.token_embd)) ||
        (s = expect_tensor(g, HY_TENSOR_OUTPUT_NORM, hp->n_embd, 1, "embedding_length", &w.output_norm)))
        return s;
    if (hp->tied_output) w.output = w.token_embd;
    else if ((s = expect_tensor(g, HY_TENSOR_OUTPUT, hp->n_embd, n_vocab, vocab_why, &w.output))) return s;
    w.rope_freqs = hp->rope_freqs;

    if (out) {
        w.layers = hyperionCalloc(hp->n_layer, sizeof(hy_llama_layer), HYPERION_TAG_MODEL);
        if (!w.layers) return hyperionGetLastError()->code;
    }
    const struct { uint64_t ne0, ne1; const char *why; } shape[HY_L_COUNT] = {
        [HY_L_ATTN_NORM] = { hp->n_embd, 1, "embedding_length" },
        [HY_L_ATTN_Q] = { hp->n_embd, hp->n_embd_q, "embedding_length, head_count and the head size" },
        [HY_L_ATTN_K] = { hp->n_embd, hp->n_embd_kv, "embedding_length, head_count_kv and the head size" },
        [HY_L_ATTN_V] = { hp->n_embd, hp->n_embd_kv, "embedding_length, head_count_kv and the head size" },
        [HY_L_ATTN_OUTPUT] = { hp->n_embd_q, hp->n_embd, "head_count, the head size and embedding_length" },
        [HY_L_FFN_NORM] = { hp->n_embd, 1, "embedding_length" },
        [HY_L_FFN_GATE] = { hp->n_embd, hp->n_ff, "embedding_length and feed_forward_length" },
        [HY_L_FFN_UP] = { hp->n_embd, hp->n_ff, "embedding_length and feed_forward_length" },
        [HY_L_FFN_DOWN] = { hp->n_ff, hp->n_embd, "feed_forward_length and embedding_length" },
    };
    for (uint32_t l = 0; l < hp->n_layer; l++) {
        for (int k = 0; k < HY_L_COUNT; k++) {
            char name[64];
            const hy_tensor *t;
            snprintf(name, sizeof name, hy_llama_layer_tensor_format[k], l);
            if ((s = expect_tensor(g, name, shape[k].ne0, shape[k].ne1, shape[k].why, &t))) {
                hyperionFree(w.layers);
                return s;
            }
            if (w.layers) w.layers[l].t[k] = t;
        }
    }
    if (out) *out = w;
    return HYPERION_OK;
}
