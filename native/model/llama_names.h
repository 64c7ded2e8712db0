/*
 * llama_names.h — the GGUF names of the llama family: metadata keys and
 * tensor names, in one place (internal).
 *
 * Per-architecture keys are "<arch>" + the suffix ("llama.context_length");
 * per-layer tensors are printf formats taking the layer index.
 */
#ifndef HYPERION_MODEL_LLAMA_NAMES_H
#define HYPERION_MODEL_LLAMA_NAMES_H

/* ---- general and tokenizer keys */
#define HY_KEY_ARCHITECTURE "general.architecture"
#define HY_KEY_NAME "general.name"
#define HY_KEY_FILE_TYPE "general.file_type"
#define HY_KEY_QUANTIZATION_VERSION "general.quantization_version"
#define HY_KEY_TOKENIZER_MODEL "tokenizer.ggml.model"
#define HY_KEY_TOKENS "tokenizer.ggml.tokens"

/* ---- per-architecture key suffixes */
#define HY_KEY_CONTEXT_LENGTH ".context_length"
#define HY_KEY_EMBEDDING_LENGTH ".embedding_length"
#define HY_KEY_BLOCK_COUNT ".block_count"
#define HY_KEY_FEED_FORWARD_LENGTH ".feed_forward_length"
#define HY_KEY_HEAD_COUNT ".attention.head_count"
#define HY_KEY_HEAD_COUNT_KV ".attention.head_count_kv"
#define HY_KEY_KEY_LENGTH ".attention.key_length"
#define HY_KEY_VALUE_LENGTH ".attention.value_length"
#define HY_KEY_RMS_EPSILON ".attention.layer_norm_rms_epsilon"
#define HY_KEY_ROPE_FREQ_BASE ".rope.freq_base"
#define HY_KEY_ROPE_DIMENSION_COUNT ".rope.dimension_count"
#define HY_KEY_ROPE_SCALE_LINEAR ".rope.scale_linear"       /* older files: the linear factor */
#define HY_KEY_ROPE_SCALING_TYPE ".rope.scaling.type"
#define HY_KEY_ROPE_SCALING_FACTOR ".rope.scaling.factor"
#define HY_KEY_ROPE_SCALING_ORIG_CTX ".rope.scaling.original_context_length"
/* Not written by llama.cpp (which stores llama3 factors as rope_freqs.weight)
 * but by some converters; read when present. */
#define HY_KEY_ROPE_SCALING_LOW_FREQ ".rope.scaling.low_freq_factor"
#define HY_KEY_ROPE_SCALING_HIGH_FREQ ".rope.scaling.high_freq_factor"

/* ---- whole-model tensors */
#define HY_TENSOR_TOKEN_EMBD "token_embd.weight"     /* [n_embd, n_vocab] */
#define HY_TENSOR_OUTPUT_NORM "output_norm.weight"   /* [n_embd] */
#define HY_TENSOR_OUTPUT "output.weight"             /* [n_embd, n_vocab]; absent: tied to token_embd */
#define HY_TENSOR_ROPE_FREQS "rope_freqs.weight"     /* [n_rot / 2] F32: llama3 frequency factors */

/* ---- per-layer tensors: printf formats taking the layer index */
#define HY_TENSOR_ATTN_NORM "blk.%u.attn_norm.weight"     /* [n_embd] */
#define HY_TENSOR_ATTN_Q "blk.%u.attn_q.weight"           /* [n_embd, n_head * head_dim] */
#define HY_TENSOR_ATTN_K "blk.%u.attn_k.weight"           /* [n_embd, n_head_kv * head_dim] */
#define HY_TENSOR_ATTN_V "blk.%u.attn_v.weight"           /* [n_embd, n_head_kv * head_dim] */
#define HY_TENSOR_ATTN_OUTPUT "blk.%u.attn_output.weight" /* [n_head * head_dim, n_embd] */
#define HY_TENSOR_FFN_NORM "blk.%u.ffn_norm.weight"       /* [n_embd] */
#define HY_TENSOR_FFN_GATE "blk.%u.ffn_gate.weight"       /* [n_embd, n_ff] */
#define HY_TENSOR_FFN_UP "blk.%u.ffn_up.weight"           /* [n_embd, n_ff] */
#define HY_TENSOR_FFN_DOWN "blk.%u.ffn_down.weight"       /* [n_ff, n_embd] */

/* The per-layer tensors as an index (hy_llama_layer.t[], the format table). */
typedef enum hy_llama_layer_tensor {
    HY_L_ATTN_NORM,
    HY_L_ATTN_Q,
    HY_L_ATTN_K,
    HY_L_ATTN_V,
    HY_L_ATTN_OUTPUT,
    HY_L_FFN_NORM,
    HY_L_FFN_GATE,
    HY_L_FFN_UP,
    HY_L_FFN_DOWN,
    HY_L_COUNT
} hy_llama_layer_tensor;

/* The HY_TENSOR_* per-layer formats, indexed by hy_llama_layer_tensor (llama_hparams.c). */
extern const char *const hy_llama_layer_tensor_format[HY_L_COUNT];

#endif
