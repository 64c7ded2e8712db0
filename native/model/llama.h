/*
 * llama.h — the llama-family graph (internal): a loaded model (read-only
 * weights in the GGUF mapping, shared by every context) and contexts (a KV
 * cache and scratch activations each) that process tokens.
 *
 * Covers Llama 2 and 3, TinyLlama, SmolLM and Mistral-style files: RMSNorm,
 * RoPE (normal/adjacent-pair mode; linear and llama3 scaling), grouped-query
 * attention over an F16 (or F32) KV cache read in place, SwiGLU feed-forward,
 * tied embeddings when output.weight is absent.
 */
#ifndef HYPERION_LLAMA_H
#define HYPERION_LLAMA_H

#include "core/atomics.h"

#include "core/internal.h"
#include "model/gguf.h"
#include "model/llama_hparams.h"
#include "runtime/threadpool.h"

typedef struct hy_llama_model {
    hy_gguf *gguf;            /* owns the read-only mapping */
    hy_llama_hparams hp;
    hy_llama_weights w;
    float *rope_divisors;     /* [n_rot / 2] llama3 frequency divisors, or NULL */
    size_t max_activation_row_bytes; /* largest quantized activation row any weight needs */
    /* weights copied at load (hy_llama_model_repack), repacked or as they are; w points at these */
    hy_tensor *repacked;      /* [n_repacked] (HYPERION_TAG_MODEL), their data inside repacked_block */
    void *repacked_block;     /* one HYPERION_TAG_REPACKED_WEIGHTS block, or NULL */
    uint32_t n_repacked;
    uint64_t repacked_bytes;  /* sum of their sizes */
} hy_llama_model;

/* Open, validate and bind a llama-family GGUF file. Errors from the reader
 * (HYPERION_IO, HYPERION_MODEL_INVALID, HYPERION_MODEL_UNSUPPORTED) or a
 * weight type without kernels (HYPERION_MODEL_UNSUPPORTED naming the tensor).
 * Recorded as the profiler's load phase. */
hyperion_status hy_llama_model_load(const char *path, hy_llama_model **out);

/* hy_llama_model_load without its phase zone, for a caller whose own load
 * phase zone spans more than the file (runtime/model.c: the pool, the
 * repacking, the vocabulary). Same contract otherwise. */
hyperion_status hy_llama_model_open(const char *path, hy_llama_model **out);
void hy_llama_model_free(hy_llama_model *model);

/* Copy the weights every token reads whole (each layer's matrices and norms,
 * the output norm and matrix) into one pool block tagged
 * HYPERION_TAG_REPACKED_WEIGHTS, each in the layout the kernels in use read
 * fastest (kernels/repack.h: x8 for Q4_0 and Q8_0 on AVX-512; the others as
 * they are), point the model's weights at the copies, and drop this
 * process's pages of the mapped originals (the file stays mapped). A token
 * then reads nothing from the mapping but its embedding row (see
 * llama_repack.c for why). Tensor by tensor, each original dropped once
 * copied, so the load's peak stays near the file's size. The block is charged like any allocation, to the thread's
 * memory budget: when it is refused (a memory limit), every weight stays
 * mapped (slower, same numbers), a warning says so and the refusal stays in
 * the last-error record; the call still returns HYPERION_OK.
 * pool: threads to share the copying (NULL: the calling thread alone).
 * Call once, after hy_llama_model_load and before any context exists.
 * HYPERION_INVALID_ARGUMENT for NULL or a second call. */
hyperion_status hy_llama_model_repack(hy_llama_model *model, hy_threadpool *pool);

/* The hyperparameters as the reference forward pass's config. */
void hy_llama_config_from_hparams(const hy_llama_hparams *hp, hy_llama_config *cfg);

/* The KV cache's element type. F16 is the default, as in llama.cpp: half the
 * memory and bandwidth of F32, at about 5e-4 relative rounding per value. F32
 * keeps the graph within float rounding of the reference forward pass. */
typedef enum hy_kv_cache_type {
    HY_KV_CACHE_F16 = 0,
    HY_KV_CACHE_F32 = 1,
} hy_kv_cache_type;

/* Bytes of KV cache one context of n_ctx positions needs. */
uint64_t hy_llama_kv_bytes(const hy_llama_hparams *hp, uint32_t n_ctx, hy_kv_cache_type cache);

typedef struct hy_llama_context hy_llama_context;

typedef struct hy_llama_context_params {
    uint32_t n_ctx;        /* positions the KV cache holds (1 .. n_ctx_train * 8) */
    uint32_t n_batch;      /* tokens processed per forward pass (prompt chunks); default 64 */
    uint32_t kv_cache;     /* hy_kv_cache_type: HY_KV_CACHE_F16 (0, the default) or HY_KV_CACHE_F32 */
    uint32_t n_threads;    /* pool threads to give matmul scratch and attention scores at create (0: at the first decode) */
} hy_llama_context_params;

/* A context (a KV cache plus scratch buffers) for `model`, which must outlive
 * it. Memory: HYPERION_TAG_KV_CACHE blocks, HYPERION_TAG_ACTIVATIONS blocks
 * (the chunk buffers are sized by each call: grown to its largest chunk, cut
 * back to one token by a single-token call; see hy_llama_context_trim), and
 * one HYPERION_TAG_SCRATCH block holding every pool thread's matmul scratch
 * (made for n_threads threads here, grown by a decode on a larger pool), so
 * prompt processing allocates nothing per product; HYPERION_MEMORY_LIMIT when
 * they do not fit. */
hyperion_status hy_llama_context_create(const hy_llama_model *model, const hy_llama_context_params *params,
                                        hy_llama_context **out);
void hy_llama_context_free(hy_llama_context *ctx);

/* Positions already in the cache. */
uint32_t hy_llama_context_n_past(const hy_llama_context *ctx);
uint32_t hy_llama_context_n_ctx(const hy_llama_context *ctx);
/* Bytes of its KV cache blocks (keys and values); 0 for NULL. */
uint64_t hy_llama_context_kv_bytes(const hy_llama_context *ctx);

/* Drop the activation buffers sized for multi-token chunks (keeping those of
 * one token) and give their pages back to the system (hyperionTrimMemory).
 * A single-token decode does this by itself; a caller that knows prompt
 * processing is over may call it earlier. The next multi-token call grows them
 * again. Errors: HYPERION_MEMORY_LIMIT / HYPERION_OUT_OF_MEMORY when even the
 * one-token buffers cannot be had (the context stays usable: the next call
 * tries again). */
hyperion_status hy_llama_context_trim(hy_llama_context *ctx);

/* Tokens the context's chunk buffers hold now (0 before the first call). */
uint32_t hy_llama_context_chunk_capacity(const hy_llama_context *ctx);

/* Forget the cache (the next token is at position 0), or keep its first n. */
void hy_llama_context_truncate(hy_llama_context *ctx, uint32_t n_keep);

/* Process tokens at positions n_past .. n_past + n - 1 in chunks of n_batch,
 * on `pool`. logits: when all_logits, n rows of n_vocab floats; else the
 * last token's row only; may be NULL for none. Ids are checked against the
 * vocabulary (HYPERION_INVALID_ARGUMENT naming the index), the cache against
 * n_ctx (HYPERION_CONTEXT_FULL). `abort_flag` (may be NULL) is polled between
 * work chunks: when it turns non-zero the call returns HYPERION_ABORTED within
 * milliseconds, and the positions of the unfinished chunk are not kept. */
hyperion_status hy_llama_decode(hy_llama_context *ctx, hy_threadpool *pool, const int32_t *tokens, uint32_t n,
                                float *logits, int all_logits, const atomic_int *abort_flag);

#endif
