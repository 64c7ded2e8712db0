/*
 * model_maker.h — deterministic random-weight llama models written as GGUF v3
 * files (internal), for tests, benchmarks and `hyperion make-model`.
 *
 * A model is a shape (hyperparameters) and a type (a llama.cpp-style file
 * type: f32, f16, bf16, q8_0, q4_0, q4_k_m, q5_k_m). Which ggml type each
 * tensor gets follows llama.cpp's quantization recipes (see recipe_type in
 * model_maker.c for the rules and their source). The weights come from a
 * counter-based generator keyed by the seed and the tensor name, so a file is
 * a pure function of (shape, type, seed, tied, name) on every platform.
 *
 * The file is written tensor by tensor and row by row: memory use is a few
 * rows plus the tokenizer, whatever the model size.
 */
#ifndef HYPERION_MODEL_MODEL_MAKER_H
#define HYPERION_MODEL_MODEL_MAKER_H

#include <stddef.h>
#include <stdint.h>

#include "hyperion.h"

/* ---- shapes */

typedef struct hy_make_model_shape {
    const char *name;         /* preset name; ignored in a custom shape */
    uint32_t n_vocab;         /* >= HY_MAKE_MODEL_MIN_VOCAB */
    uint32_t n_embd;          /* n_head * head size; the head size is even */
    uint32_t n_layer;
    uint32_t n_head;
    uint32_t n_head_kv;       /* divides n_head (GQA when smaller) */
    uint32_t n_ff;
    uint32_t n_ctx;           /* llama.context_length */
    float rope_freq_base;     /* > 1 */
    float rms_eps;            /* in (0, 1) */
} hy_make_model_shape;

/* The tokenizer needs <unk>, <s>, </s>, the 256 byte tokens and "▁". */
#define HY_MAKE_MODEL_MIN_VOCAB 260u
#define HY_MAKE_MODEL_MAX_VOCAB 262144u

/* The presets, in CLI order:
 *   tiny            vocab 1024, n_embd 256, 2 layers, 4 heads (head size 64),
 *                   2 kv heads (GQA), n_ff 768, ctx 256. Rows are multiples of
 *                   256 so every K-quant applies without fallback (n_ff 768 =
 *                   3 x 256 is the multiple of 256 nearest llama's ~2.7 x).
 *   stories110m     llama2.c's 110M: 768, 12 layers, 12 heads, kv 12, ff 2048,
 *                   vocab 32000, ctx 1024.
 *   tinyllama-1.1b  2048, 22 layers, 32 heads, kv 4, ff 5632, vocab 32000,
 *                   ctx 2048.
 * All use rope base 10000 and RMS epsilon 1e-5. */
extern const hy_make_model_shape hy_make_model_shapes[];
extern const size_t hy_make_model_shape_count;

/* The preset called name, or NULL. */
const hy_make_model_shape *hy_make_model_find_shape(const char *name);

/* ---- types */

typedef struct hy_make_model_type {
    const char *name;         /* "q4_k_m" */
    uint32_t file_type;       /* general.file_type (llama.cpp's LLAMA_FTYPE_*) */
    uint32_t base_type;       /* the ggml type most matrices get */
} hy_make_model_type;

extern const hy_make_model_type hy_make_model_types[];
extern const size_t hy_make_model_type_count;

/* The type called name ("f32" ... "q5_k_m"), or NULL. */
const hy_make_model_type *hy_make_model_find_type(const char *name);

/* ---- making a model */

typedef void (*hy_make_model_progress_fn)(void *user, uint64_t done_bytes, uint64_t total_bytes);

typedef struct hy_make_model_params {
    const char *shape_name;   /* a preset; NULL: use `shape` (all fields given) */
    hy_make_model_shape shape;
    const char *type_name;    /* one of hy_make_model_types */
    uint64_t seed;
    int tied;                 /* 1: no output.weight (logits use token_embd.weight) */
    const char *model_name;   /* general.name; NULL: "hyperion-random-<shape>-<type>" */
    /* Optional: called with tensor-data bytes done and their total, at the
     * start, about every MiB and at the end (done == total). */
    hy_make_model_progress_fn progress;
    void *progress_user;
    /* Optional: when it becomes non-zero (another thread may set it) the
     * maker stops before the next row, removes the partial file and returns
     * HYPERION_ABORTED. */
    const volatile int *abort_flag;
} hy_make_model_params;

/* Write the model p describes to path: the data goes to "<path>.partial",
 * renamed to path at the end, so a file already at path is replaced only on
 * success. Blocking (run it off the Node main thread). Errors:
 * HYPERION_INVALID_ARGUMENT naming the field ("shape_name", "type_name",
 * "shape.n_embd", "path", ...), HYPERION_IO when the file cannot be written
 * (fields path, errno), HYPERION_ABORTED, HYPERION_OUT_OF_MEMORY. After any
 * error "<path>.partial" is removed and path is as it was. */
hyperion_status hy_make_model(const hy_make_model_params *p, const char *path);

/* ---- the plan (what hy_make_model writes; for tests and tools) */

typedef struct hy_make_model_tensor {
    char name[64];
    uint32_t type;            /* ggml type id after the recipe and fallbacks */
    uint32_t n_dims;          /* 1 (norms) or 2 */
    uint64_t ne[2];           /* [n_in, n_out]; ne[1] = 1 for vectors */
    float mean, std;          /* the distribution of the weights before rounding */
    uint64_t n_bytes;         /* bytes in the file (without padding) */
} hy_make_model_tensor;

typedef struct hy_make_model_plan {
    hy_make_model_shape shape;          /* resolved (name points to a static string) */
    const hy_make_model_type *type;
    uint32_t n_tensors;
    hy_make_model_tensor *tensors;      /* [n_tensors] in file order, hyperionAlloc'd */
    uint64_t total_bytes;               /* sum of n_bytes */
} hy_make_model_plan;

/* Validate p and list the tensors hy_make_model would write. Errors as
 * hy_make_model (without IO). Release with hy_make_model_plan_free. */
hyperion_status hy_make_model_plan_build(const hy_make_model_params *p, hy_make_model_plan *plan);
void hy_make_model_plan_free(hy_make_model_plan *plan);

/* llama.cpp's "use more bits" layer rule of the _M K-quant mixes. */
int hy_make_model_use_more_bits(uint32_t layer, uint32_t n_layer);

/* ---- the synthetic tokenizer (model_maker_vocab.c) */

typedef struct hy_make_model_vocab {
    uint32_t n;
    const char **text;        /* [n] pieces, NUL-terminated, valid UTF-8, unique */
    uint64_t *len;            /* [n] byte lengths */
    float *scores;            /* [n] strictly decreasing: -id */
    int32_t *types;           /* [n] llama token types: 1 normal, 2 unknown, 3 control, 6 byte */
    char *blob;               /* storage of the texts */
} hy_make_model_vocab;

/* The SentencePiece-style vocabulary of n pieces (see model_maker_vocab.c).
 * Errors: HYPERION_INVALID_ARGUMENT (n outside [MIN_VOCAB, MAX_VOCAB]),
 * allocation errors. Release with hy_make_model_vocab_free. */
hyperion_status hy_make_model_vocab_build(uint32_t n, hy_make_model_vocab *v);
void hy_make_model_vocab_free(hy_make_model_vocab *v);

/* The chat template (ChatML) written to tokenizer.chat_template. */
extern const char hy_make_model_chat_template[];

#endif
