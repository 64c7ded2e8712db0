/*
 * model_maker_write.c — hy_make_model: the weight generator, the metadata and
 * the row-by-row streaming of a made model into a GGUF file (see
 * model_maker.h).
 */
#include "model/model_maker.h"

#include "core/internal.h"
#include "kernels/quant.h"
#include "kernels/types.h"
#include "model/gguf.h"
#include "model/gguf_write.h"
#include "model/llama_names.h"


#include <math.h>
#include <stdio.h>
#include <string.h>

#define KEY_ARCH_PREFIX "llama"
#define KEY_VOCAB_SIZE ".vocab_size"
#define KEY_TOKENIZER_PRE "tokenizer.ggml.pre"
#define KEY_SCORES "tokenizer.ggml.scores"
#define KEY_TOKEN_TYPE "tokenizer.ggml.token_type"
#define KEY_BOS "tokenizer.ggml.bos_token_id"
#define KEY_EOS "tokenizer.ggml.eos_token_id"
#define KEY_UNK "tokenizer.ggml.unknown_token_id"
#define KEY_ADD_BOS "tokenizer.ggml.add_bos_token"
#define KEY_ADD_EOS "tokenizer.ggml.add_eos_token"
#define KEY_ADD_SPACE_PREFIX "tokenizer.ggml.add_space_prefix"
#define KEY_CHAT_TEMPLATE "tokenizer.chat_template"
#define KEY_MAKER_SEED "hyperion.make_model.seed"
#define KEY_MAKER_SHAPE "hyperion.make_model.shape"

#define PROGRESS_STEP (1u << 20) /* report about every MiB of tensor data */

/* ------------------------------------------------------------ generator */

/* SplitMix64's output function: a bijective 64-bit mix. */
static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The key of one tensor's stream: the seed and the tensor's name. */
static uint64_t tensor_key(uint64_t seed, const char *name) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const char *c = name; *c; c++) h = (h ^ (uint8_t)*c) * 1099511628211ull;
    return mix64(seed ^ mix64(h));
}

/* Element i of a stream: the sum of four 16-bit uniforms from one 64-bit
 * draw (counter-based, so any element can be made alone), centred. The
 * result t = (k1 + k2 + k3 + k4 - 131070) / 65536 is an exact float with
 * mean 0 and std 1/sqrt(3) (Irwin-Hall with n = 4, close to a normal but
 * bounded by +-2); only integer arithmetic and a power-of-two scale produce
 * it, so it is the same on every platform. */
static float draw(uint64_t key, uint64_t i) {
    uint64_t r = mix64(key + (i + 1) * 0x9E3779B97F4A7C15ull);
    int32_t k = (int32_t)(r & 0xFFFF) + (int32_t)((r >> 16) & 0xFFFF) + (int32_t)((r >> 32) & 0xFFFF) +
                (int32_t)(r >> 48);
    return (float)(k - 131070) * (1.0f / 65536.0f);
}

/* Row r of tensor t ([n] floats): matrices t * spread with spread = std *
 * sqrt(3) (one rounding: the result does not depend on FMA contraction);
 * norms 1 + t / 8 (exact product, so also one rounding). */
static void make_row(const hy_make_model_tensor *t, uint64_t key, uint64_t r, float *row) {
    uint64_t n = t->ne[0], first = r * n;
    if (t->n_dims == 1) {
        for (uint64_t j = 0; j < n; j++) row[j] = 1.0f + draw(key, first + j) * 0.125f;
    } else {
        float spread = (float)((double)t->std * sqrt(3.0));
        for (uint64_t j = 0; j < n; j++) row[j] = draw(key, first + j) * spread;
    }
}

/* ----------------------------------------------------------- metadata */

static hyperion_status arch_u32(hy_gguf_writer *w, const char *suffix, uint32_t v) {
    char key[96];
    snprintf(key, sizeof key, "%s%s", KEY_ARCH_PREFIX, suffix);
    return hy_gguf_writer_set_u32(w, key, v);
}

static hyperion_status arch_f32(hy_gguf_writer *w, const char *suffix, float v) {
    char key[96];
    snprintf(key, sizeof key, "%s%s", KEY_ARCH_PREFIX, suffix);
    return hy_gguf_writer_set_f32(w, key, v);
}

static hyperion_status set_metadata(hy_gguf_writer *w, const hy_make_model_params *p, const hy_make_model_plan *plan,
                                    const hy_make_model_vocab *v) {
    const hy_make_model_shape *s = &plan->shape;
    char name[128];
    if (p->model_name) snprintf(name, sizeof name, "%s", p->model_name);
    else snprintf(name, sizeof name, "hyperion-random-%s-%s", s->name, plan->type->name);
    hyperion_status st = HYPERION_OK;
#define TRY(x) do { if (!st) st = (x); } while (0)
    TRY(hy_gguf_writer_set_string(w, HY_KEY_ARCHITECTURE, KEY_ARCH_PREFIX));
    TRY(hy_gguf_writer_set_string(w, HY_KEY_NAME, name));
    TRY(hy_gguf_writer_set_u32(w, HY_KEY_FILE_TYPE, plan->type->file_type));
    if (hy_type_get(plan->type->base_type)->block_size > 1) TRY(hy_gguf_writer_set_u32(w, HY_KEY_QUANTIZATION_VERSION, 2));
    TRY(arch_u32(w, KEY_VOCAB_SIZE, s->n_vocab));
    TRY(arch_u32(w, HY_KEY_CONTEXT_LENGTH, s->n_ctx));
    TRY(arch_u32(w, HY_KEY_EMBEDDING_LENGTH, s->n_embd));
    TRY(arch_u32(w, HY_KEY_BLOCK_COUNT, s->n_layer));
    TRY(arch_u32(w, HY_KEY_FEED_FORWARD_LENGTH, s->n_ff));
    TRY(arch_u32(w, HY_KEY_HEAD_COUNT, s->n_head));
    TRY(arch_u32(w, HY_KEY_HEAD_COUNT_KV, s->n_head_kv));
    TRY(arch_f32(w, HY_KEY_RMS_EPSILON, s->rms_eps));
    TRY(arch_f32(w, HY_KEY_ROPE_FREQ_BASE, s->rope_freq_base));
    TRY(arch_u32(w, HY_KEY_ROPE_DIMENSION_COUNT, s->n_embd / s->n_head));

    TRY(hy_gguf_writer_set_string(w, HY_KEY_TOKENIZER_MODEL, "llama"));
    TRY(hy_gguf_writer_set_string(w, KEY_TOKENIZER_PRE, "default"));
    TRY(hy_gguf_writer_set_string_array(w, HY_KEY_TOKENS, v->text, v->len, v->n));
    TRY(hy_gguf_writer_set_array(w, KEY_SCORES, HY_GGUF_FLOAT32, v->scores, v->n));
    TRY(hy_gguf_writer_set_array(w, KEY_TOKEN_TYPE, HY_GGUF_INT32, v->types, v->n));
    TRY(hy_gguf_writer_set_u32(w, KEY_BOS, 1));
    TRY(hy_gguf_writer_set_u32(w, KEY_EOS, 2));
    TRY(hy_gguf_writer_set_u32(w, KEY_UNK, 0));
    TRY(hy_gguf_writer_set_bool(w, KEY_ADD_BOS, 1));
    TRY(hy_gguf_writer_set_bool(w, KEY_ADD_EOS, 0));
    TRY(hy_gguf_writer_set_bool(w, KEY_ADD_SPACE_PREFIX, 1));
    TRY(hy_gguf_writer_set_string(w, KEY_CHAT_TEMPLATE, hy_make_model_chat_template));

    TRY(hy_gguf_writer_set_u64(w, KEY_MAKER_SEED, p->seed));
    TRY(hy_gguf_writer_set_string(w, KEY_MAKER_SHAPE, s->name));
#undef TRY
    return st;
}

/* ------------------------------------------------------------- streaming */

typedef struct stream {
    const hy_make_model_params *p;
    uint64_t done, total, reported;
    float *row;        /* [max ne0] */
    uint8_t *out;      /* [max row bytes] */
} stream;

static hyperion_status encode_row(const hy_make_model_tensor *t, const float *row, uint8_t *out, uint64_t bytes) {
    if (t->type == HY_TYPE_F32) {
        memcpy(out, row, (size_t)bytes); /* little-endian hosts only, as the reader */
        return HYPERION_OK;
    }
    if (hy_quantize_row(t->type, row, out, (int64_t)t->ne[0]) == bytes) return HYPERION_OK;
    return HY_RAISE_WITH(HYPERION_INTERNAL, NULL, ((hy_field[]){ HY_TXT("tensor", t->name) }),
                         "make-model: quantizing a row of %s to %s failed", t->name, hy_type_get(t->type)->name);
}

static hyperion_status stream_tensor(stream *s, hy_gguf_writer *w, const hy_make_model_tensor *t) {
    uint64_t key = tensor_key(s->p->seed, t->name);
    uint64_t bytes = hy_type_row_bytes(t->type, t->ne[0]);
    for (uint64_t r = 0; r < t->ne[1]; r++) {
        if (s->p->abort_flag && *s->p->abort_flag)
            return HY_RAISE_WITH(HYPERION_ABORTED, NULL, ((hy_field[]){ HY_TXT("tensor", t->name) }),
                                 "make-model: aborted while writing %s", t->name);
        make_row(t, key, r, s->row);
        hyperion_status st = encode_row(t, s->row, s->out, bytes);
        if (!st) st = hy_gguf_writer_write(w, s->out, bytes);
        if (st) return st;
        s->done += bytes;
        if (s->p->progress && s->done - s->reported >= PROGRESS_STEP) {
            s->reported = s->done;
            s->p->progress(s->p->progress_user, s->done, s->total);
        }
    }
    return HYPERION_OK;
}

static hyperion_status write_model(const hy_make_model_params *p, const hy_make_model_plan *plan,
                                   const hy_make_model_vocab *v, hy_gguf_writer *w, const char *path) {
    hyperion_status st = set_metadata(w, p, plan, v);
    uint64_t max_n = 0, max_bytes = 0;
    for (uint32_t i = 0; i < plan->n_tensors && !st; i++) {
        const hy_make_model_tensor *t = &plan->tensors[i];
        st = hy_gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne);
        uint64_t b = hy_type_row_bytes(t->type, t->ne[0]);
        if (t->ne[0] > max_n) max_n = t->ne[0];
        if (b > max_bytes) max_bytes = b;
    }
    if (st) return st;
    stream s = { .p = p, .total = plan->total_bytes };
    s.row = hyperionAlloc((size_t)max_n * sizeof(float), HYPERION_TAG_SCRATCH);
    s.out = hyperionAlloc((size_t)max_bytes, HYPERION_TAG_SCRATCH);
    if (!s.row || !s.out) st = hyperionGetLastError()->code;
    if (!st) st = hy_gguf_writer_begin_file(w, path);
    if (!st && p->progress) p->progress(p->progress_user, 0, s.total);
    for (uint32_t i = 0; i < plan->n_tensors && !st; i++) st = stream_tensor(&s, w, &plan->tensors[i]);
    if (!st) st = hy_gguf_writer_finish(w);
    if (!st && p->progress && s.reported != s.done) p->progress(p->progress_user, s.done, s.total);
    hyperionFree(s.row);
    hyperionFree(s.out);
    return st;
}

hyperion_status hy_make_model(const hy_make_model_params *p, const char *path) {
    if (!path || !*path)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", "path") }),
                             "make-model: the output path is %s", path ? "empty" : "NULL");
    hy_make_model_plan plan;
    hy_make_model_vocab v;
    hy_gguf_writer *w = NULL;
    hyperion_status st = hy_make_model_plan_build(p, &plan);
    if (st) return st;
    if (!(st = hy_make_model_vocab_build(plan.shape.n_vocab, &v))) {
        if (!(st = hy_gguf_writer_create(&w))) st = write_model(p, &plan, &v, w, path);
        hy_gguf_writer_free(w); /* removes "<path>.partial" unless finished */
        hy_make_model_vocab_free(&v);
    }
    hy_make_model_plan_free(&plan);
    return st;
}
