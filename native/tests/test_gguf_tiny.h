/*
 * test_gguf_tiny.h — builds tiny llama-shaped GGUF files with the writer, with
 * knobs to break one thing at a time (header only, for the GGUF tests).
 */
#ifndef HYPERION_TEST_GGUF_TINY_H
#define HYPERION_TEST_GGUF_TINY_H

#include <stdio.h>
#include <string.h>

#include "kernels/types.h"
#include "model/gguf.h"
#include "model/gguf_write.h"
#include "model/llama_names.h"

typedef struct tiny_opts {
    const char *arch;          /* default "llama" */
    uint32_t embd, heads, heads_kv, layers, ff, vocab, ctx; /* heads_kv 0: key omitted */
    int untied;                /* 1: write output.weight */
    int no_tokens;             /* 1: no tokenizer.ggml.tokens */
    const char *omit_key;      /* full key not to write */
    const char *omit_tensor;   /* tensor not to write */
    const char *grow_tensor;   /* tensor whose last dimension gets +1 */
    uint32_t type;             /* of the matrices; default F32 */
    /* more keys or tensors (called before begin) */
    hyperion_status (*extra)(hy_gguf_writer *w, const struct tiny_opts *o);
} tiny_opts;

static inline void tiny_defaults(tiny_opts *o) {
    memset(o, 0, sizeof *o);
    o->arch = "llama";
    o->embd = 32;
    o->heads = 4;
    o->heads_kv = 2;
    o->layers = 2;
    o->ff = 64;
    o->vocab = 16;
    o->ctx = 128;
    o->type = HY_TYPE_F32;
}

static inline hyperion_status tiny_key_u32(hy_gguf_writer *w, const tiny_opts *o, const char *suffix, uint32_t v) {
    char key[96];
    snprintf(key, sizeof key, "%s%s", o->arch, suffix);
    if (o->omit_key && !strcmp(o->omit_key, key)) return HYPERION_OK;
    return hy_gguf_writer_set_u32(w, key, v);
}

static inline hyperion_status tiny_tensor(hy_gguf_writer *w, const tiny_opts *o, const char *name, uint32_t type,
                                          uint64_t ne0, uint64_t ne1) {
    if (o->omit_tensor && !strcmp(o->omit_tensor, name)) return HYPERION_OK;
    if (o->grow_tensor && !strcmp(o->grow_tensor, name)) ne1++;
    uint64_t ne[2] = { ne0, ne1 };
    return hy_gguf_writer_add_tensor(w, name, type, ne1 == 1 ? 1 : 2, ne);
}

/* Build the model in memory; *data is hyperionAlloc'd (free with hyperionFree). */
static inline hyperion_status tiny_build(const tiny_opts *o, void **data, size_t *size) {
    hy_gguf_writer *w = NULL;
    hyperion_status s = hy_gguf_writer_create(&w);
    if (s) return s;
    uint32_t head_dim = o->embd / o->heads, q = o->heads * head_dim, kv = o->heads_kv ? o->heads_kv * head_dim : q;
#define TRY(x) do { if (!s) s = (x); } while (0)
    if (!o->omit_key || strcmp(o->omit_key, HY_KEY_ARCHITECTURE)) TRY(hy_gguf_writer_set_string(w, HY_KEY_ARCHITECTURE, o->arch));
    TRY(hy_gguf_writer_set_string(w, HY_KEY_NAME, "tiny"));
    TRY(tiny_key_u32(w, o, HY_KEY_CONTEXT_LENGTH, o->ctx));
    TRY(tiny_key_u32(w, o, HY_KEY_EMBEDDING_LENGTH, o->embd));
    TRY(tiny_key_u32(w, o, HY_KEY_BLOCK_COUNT, o->layers));
    TRY(tiny_key_u32(w, o, HY_KEY_FEED_FORWARD_LENGTH, o->ff));
    TRY(tiny_key_u32(w, o, HY_KEY_HEAD_COUNT, o->heads));
    if (o->heads_kv) TRY(tiny_key_u32(w, o, HY_KEY_HEAD_COUNT_KV, o->heads_kv));
    char key[96];
    snprintf(key, sizeof key, "%s%s", o->arch, HY_KEY_RMS_EPSILON);
    if (!o->omit_key || strcmp(o->omit_key, key)) TRY(hy_gguf_writer_set_f32(w, key, 1e-5f));
    TRY(hy_gguf_writer_set_string(w, HY_KEY_TOKENIZER_MODEL, "llama"));
    if (!o->no_tokens) {
        const char *tokens[64];
        char text[64][8];
        for (uint32_t i = 0; i < o->vocab && i < 64; i++) {
            snprintf(text[i], sizeof text[i], "t%u", i);
            tokens[i] = text[i];
        }
        TRY(hy_gguf_writer_set_string_array(w, HY_KEY_TOKENS, tokens, NULL, o->vocab));
    }
    if (o->extra) TRY(o->extra(w, o));
    TRY(tiny_tensor(w, o, HY_TENSOR_TOKEN_EMBD, o->type, o->embd, o->vocab));
    TRY(tiny_tensor(w, o, HY_TENSOR_OUTPUT_NORM, HY_TYPE_F32, o->embd, 1));
    if (o->untied) TRY(tiny_tensor(w, o, HY_TENSOR_OUTPUT, o->type, o->embd, o->vocab));
    for (uint32_t l = 0; l < o->layers; l++) {
        char name[64];
        const struct { int k; uint32_t type; uint64_t ne0, ne1; } t[HY_L_COUNT] = {
            { HY_L_ATTN_NORM, HY_TYPE_F32, o->embd, 1 }, { HY_L_ATTN_Q, o->type, o->embd, q },
            { HY_L_ATTN_K, o->type, o->embd, kv },       { HY_L_ATTN_V, o->type, o->embd, kv },
            { HY_L_ATTN_OUTPUT, o->type, q, o->embd },   { HY_L_FFN_NORM, HY_TYPE_F32, o->embd, 1 },
            { HY_L_FFN_GATE, o->type, o->embd, o->ff },  { HY_L_FFN_UP, o->type, o->embd, o->ff },
            { HY_L_FFN_DOWN, o->type, o->ff, o->embd },
        };
        for (int k = 0; k < HY_L_COUNT; k++) {
            snprintf(name, sizeof name, hy_llama_layer_tensor_format[t[k].k], l);
            TRY(tiny_tensor(w, o, name, t[k].type, t[k].ne0, t[k].ne1));
        }
    }
    TRY(hy_gguf_writer_begin_memory(w));
    static const uint8_t zeros[4096];
    for (uint64_t i = 0; !s && hy_gguf_writer_tensor_bytes(w, i); i++) {
        uint64_t left = hy_gguf_writer_tensor_bytes(w, i);
        while (left && !s) {
            uint64_t n = left < sizeof zeros ? left : sizeof zeros;
            s = hy_gguf_writer_write(w, zeros, n);
            left -= n;
        }
    }
    TRY(hy_gguf_writer_finish(w));
    TRY(hy_gguf_writer_take_memory(w, data, size));
#undef TRY
    hy_gguf_writer_free(w);
    return s;
}

#endif
