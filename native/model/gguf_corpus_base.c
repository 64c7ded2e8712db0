/*
 * gguf_corpus_base.c — serializes the corpus's valid base model byte by byte,
 * recording the offset of every field it writes. It deliberately does not use
 * the GGUF writer: the corpus must stay an independent check of the reader.
 *
 * The emitter runs twice: once without a buffer to measure, once to write.
 */
#include "model/gguf_corpus_base.h"

#include "core/internal.h"
#include "kernels/types.h"
#include "model/gguf.h"

#include <string.h>

typedef struct emitter {
    uint8_t *buf;            /* NULL: measure only */
    uint64_t pos;
    corpus_layout *L;
} emitter;

static void put(emitter *e, const void *p, uint64_t n) {
    if (e->buf) memcpy(e->buf + e->pos, p, (size_t)n);
    e->pos += n;
}

static void put_le(emitter *e, uint64_t v, int size) {
    uint8_t b[8];
    for (int i = 0; i < size; i++) b[i] = (uint8_t)(v >> (8 * i));
    put(e, b, (uint64_t)size);
}

static void put_str(emitter *e, const char *s) {
    put_le(e, strlen(s), 8);
    put(e, s, strlen(s));
}

/* Key and type of pair k; the value follows. */
static void kv_head(emitter *e, int k, const char *key, uint32_t type) {
    e->L->kv_off[k] = e->pos;
    put_str(e, key);
    e->L->kv_type_off[k] = e->pos;
    put_le(e, type, 4);
    e->L->kv_value_off[k] = e->pos;
}

static void kv_u32(emitter *e, int k, const char *key, uint32_t v) {
    kv_head(e, k, key, HY_GGUF_UINT32);
    put_le(e, v, 4);
}

static void kv_f32(emitter *e, int k, const char *key, float v) {
    uint32_t bits;
    memcpy(&bits, &v, 4);
    kv_head(e, k, key, HY_GGUF_FLOAT32);
    put_le(e, bits, 4);
}

static void kv_string(emitter *e, int k, const char *key, const char *v) {
    kv_head(e, k, key, HY_GGUF_STRING);
    put_str(e, v);
}

/* An array pair: the value offset is that of the first element. */
static void kv_array_head(emitter *e, int k, const char *key, uint32_t elem, uint64_t count) {
    kv_head(e, k, key, HY_GGUF_ARRAY);
    put_le(e, elem, 4);
    put_le(e, count, 8);
    e->L->kv_value_off[k] = e->pos;
}

static const char *const tokens[CORPUS_VOCAB] = {
    "<unk>", "<s>", "</s>", "\u2581a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m",
};

static const char description[] =
    "A one-layer llama model with random weights, made by Hyperion's malformed-GGUF corpus generator. "
    "Its metadata is long enough that truncating the file inside the last pairs still leaves the header's "
    "counts plausible, so each truncation is caught where it happens and not by the count bounds. "
    "Every variant of the corpus damages exactly one field of this file and names the field it expects "
    "the reader to report, with its byte offset. The weights are deterministic and carry no meaning.";

static void emit_metadata(emitter *e) {
    kv_string(e, CK_ARCH, "general.architecture", "llama");
    kv_u32(e, CK_ALIGN, "general.alignment", 32);
    kv_string(e, CK_DESC, "general.description", description);
    kv_u32(e, CK_CTX, "llama.context_length", 64);
    kv_u32(e, CK_EMBD, "llama.embedding_length", 32);
    kv_u32(e, CK_BLOCKS, "llama.block_count", 1);
    kv_u32(e, CK_FF, "llama.feed_forward_length", 64);
    kv_u32(e, CK_HEADS, "llama.attention.head_count", 4);
    kv_u32(e, CK_HEADS_KV, "llama.attention.head_count_kv", 2);
    kv_u32(e, CK_ROPE_DIM, "llama.rope.dimension_count", 8);
    kv_f32(e, CK_EPS, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    kv_f32(e, CK_FREQ_BASE, "llama.rope.freq_base", 10000.0f);
    kv_head(e, CK_FLAG, "hyperion.test.flag", HY_GGUF_BOOL);
    put_le(e, 1, 1);
    kv_array_head(e, CK_FLAGS, "hyperion.test.flags", HY_GGUF_BOOL, 3);
    put(e, "\x01\x00\x01", 3);
    kv_head(e, CK_A, "hyperion.test.a", HY_GGUF_UINT64);
    put_le(e, 7, 8);
    kv_head(e, CK_B, "hyperion.test.b", HY_GGUF_FLOAT64);
    double half = 0.5;
    uint64_t half_bits;
    memcpy(&half_bits, &half, 8);
    put_le(e, half_bits, 8);
    kv_string(e, CK_TOK_MODEL, "tokenizer.ggml.model", "llama");
    kv_array_head(e, CK_SCORES, "tokenizer.ggml.scores", HY_GGUF_FLOAT32, CORPUS_VOCAB);
    for (int i = 0; i < CORPUS_VOCAB; i++) {
        float score = -(float)i;
        uint32_t bits;
        memcpy(&bits, &score, 4);
        put_le(e, bits, 4);
    }
    kv_array_head(e, CK_TOKEN_TYPES, "tokenizer.ggml.token_type", HY_GGUF_INT32, CORPUS_VOCAB);
    for (int i = 0; i < CORPUS_VOCAB; i++) put_le(e, i == 0 ? 2 : i < 3 ? 3 : 1, 4);
    kv_array_head(e, CK_TOKENS, "tokenizer.ggml.tokens", HY_GGUF_STRING, CORPUS_VOCAB);
    for (int i = 0; i < CORPUS_VOCAB; i++) {
        e->L->token_off[i] = e->pos;
        put_str(e, tokens[i]);
    }
    kv_u32(e, CK_QVER, "general.quantization_version", 2);
    kv_string(e, CK_NAME, "general.name", "hyperion-corpus");
}

static const struct { const char *name; uint32_t type; uint32_t n_dims; uint64_t ne0, ne1; } tensor_defs[CT_COUNT] = {
    [CT_EMBD] = { "token_embd.weight", HY_TYPE_F32, 2, 32, CORPUS_VOCAB },
    [CT_OUT_NORM] = { "output_norm.weight", HY_TYPE_F32, 1, 32, 1 },
    [CT_ATTN_NORM] = { "blk.0.attn_norm.weight", HY_TYPE_F32, 1, 32, 1 },
    [CT_Q] = { "blk.0.attn_q.weight", HY_TYPE_F32, 2, 32, 32 },
    [CT_K] = { "blk.0.attn_k.weight", HY_TYPE_F32, 2, 32, 16 },
    [CT_V] = { "blk.0.attn_v.weight", HY_TYPE_F32, 2, 32, 16 },
    [CT_O] = { "blk.0.attn_output.weight", HY_TYPE_F32, 2, 32, 32 },
    [CT_FFN_NORM] = { "blk.0.ffn_norm.weight", HY_TYPE_F32, 1, 32, 1 },
    [CT_GATE] = { "blk.0.ffn_gate.weight", HY_TYPE_Q8_0, 2, 32, 64 },
    [CT_UP] = { "blk.0.ffn_up.weight", HY_TYPE_Q8_0, 2, 32, 64 },
    [CT_DOWN] = { "blk.0.ffn_down.weight", HY_TYPE_Q8_0, 2, 64, 32 },
};

static void emit_tensor_infos(emitter *e) {
    uint64_t rel = 0;
    for (int t = 0; t < CT_COUNT; t++) {
        uint64_t rows = tensor_defs[t].ne1;
        uint64_t bytes = hy_type_row_bytes(tensor_defs[t].type, tensor_defs[t].ne0) * rows;
        e->L->t_info[t] = e->pos;
        put_str(e, tensor_defs[t].name);
        e->L->t_ndims[t] = e->pos;
        put_le(e, tensor_defs[t].n_dims, 4);
        e->L->t_dims[t] = e->pos;
        put_le(e, tensor_defs[t].ne0, 8);
        if (tensor_defs[t].n_dims == 2) put_le(e, tensor_defs[t].ne1, 8);
        e->L->t_type[t] = e->pos;
        put_le(e, tensor_defs[t].type, 4);
        e->L->t_offset[t] = e->pos;
        put_le(e, rel, 8);
        e->L->t_start[t] = rel; /* made absolute once the data section is placed */
        e->L->t_bytes[t] = bytes;
        rel = (rel + bytes + 31) / 32 * 32;
    }
    e->L->end_infos = e->pos;
}

/* Deterministic weights: small F32 values; Q8_0 blocks with a modest scale. */
static void emit_tensor_data(emitter *e) {
    uint64_t data = (e->pos + 31) / 32 * 32;
    e->L->data_off = data;
    for (int t = 0; t < CT_COUNT; t++) {
        uint64_t start = data + e->L->t_start[t];
        while (e->pos < start) put_le(e, 0, 1);
        e->L->t_start[t] = start;
        uint64_t n = e->L->t_bytes[t];
        if (tensor_defs[t].type == HY_TYPE_F32) {
            for (uint64_t i = 0; i < n / 4; i++) {
                uint32_t h = (uint32_t)(i * 2654435761u + (uint32_t)t * 40503u);
                float v = ((float)((h >> 16) & 0xFF) / 255.0f - 0.5f) * 0.2f;
                if (t == CT_OUT_NORM || t == CT_ATTN_NORM || t == CT_FFN_NORM) v = 1.0f + v;
                uint32_t bits;
                memcpy(&bits, &v, 4);
                put_le(e, bits, 4);
            }
        } else { /* Q8_0: f16 scale 2^-8, then 32 int8 */
            for (uint64_t b = 0; b < n / 34; b++) {
                put_le(e, 0x1C00, 2);
                for (int q = 0; q < 32; q++) put_le(e, (uint8_t)(int8_t)((int)((b * 37 + (uint64_t)q * 11) % 255) - 127), 1);
            }
        }
    }
    e->L->size = e->pos; /* no padding after the last tensor: its last byte is the file's */
}

static void emit_all(emitter *e) {
    put(e, "GGUF", 4);
    put_le(e, 3, 4);
    put_le(e, CT_COUNT, 8);
    put_le(e, CK_COUNT, 8);
    emit_metadata(e);
    emit_tensor_infos(e);
    emit_tensor_data(e);
}

hyperion_status hy_corpus_build_base(uint8_t **data, size_t *size, corpus_layout *layout) {
    memset(layout, 0, sizeof *layout);
    emitter measure = { .L = layout };
    emit_all(&measure);
    uint8_t *buf = hyperionAlloc((size_t)measure.pos, HYPERION_TAG_TEST);
    if (!buf) return hyperionGetLastError()->code;
    emitter write = { .buf = buf, .L = layout };
    emit_all(&write);
    *data = buf;
    *size = (size_t)write.pos;
    return HYPERION_OK;
}
