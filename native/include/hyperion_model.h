/*
 * hyperion_model.h — inspecting model files without loading them.
 *
 * Both functions read a GGUF file (mapped read-only, validated before use) and
 * describe it as JSON. Neither fails because the file is bad: a missing,
 * unreadable, malformed or unsupported file gives a report that says what is
 * wrong. They fail only for bad arguments or when the report itself cannot be
 * allocated.
 */
#ifndef HYPERION_MODEL_H
#define HYPERION_MODEL_H

#include <stdint.h>

#include "hyperion.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Check the model file at path: the GGUF structure (every count, string,
 * type, dimension, offset), the tensor types, the llama-family metadata and
 * the tensor shapes it implies.
 *
 * *report_json receives a NUL-terminated JSON object allocated with
 * hyperionAlloc; the caller frees it with hyperionFree:
 *   { "path", "ok": bool (loadable by this runtime), "valid_gguf": bool,
 *     "file_size", "version", "tensor_count", "kv_count", "alignment",
 *     "architecture" (string or null),
 *     "problems": [ { "code": "HYPERION_MODEL_INVALID", "category", "field",
 *                     "offset" (byte offset or null), "message", "suggestion" } ],
 *     "warnings": [ { "field", "offset", "message" } ], "warnings_dropped" }
 * Problems use the codes HYPERION_MODEL_INVALID, HYPERION_MODEL_UNSUPPORTED
 * and HYPERION_IO. Warnings are unusual but legal things (a layout llama.cpp
 * would refuse, trailing bytes, non-UTF-8 strings, unknown tensors...).
 *
 * Errors: HYPERION_INVALID_ARGUMENT (NULL path or report_json),
 * HYPERION_OUT_OF_MEMORY / HYPERION_MEMORY_LIMIT for the report itself. */
hyperion_status hyperionVerifyModel(const char *path, char **report_json);

/* Describe the model file at path and the memory a context of context_size
 * tokens needs (0: the trained context length).
 *
 * *info_json receives a NUL-terminated JSON object allocated with
 * hyperionAlloc; the caller frees it with hyperionFree:
 *   { "path", "ok", "problems" (as hyperionVerifyModel, when something could
 *     not be read), "file_size", "gguf_version", "alignment", "tensor_count",
 *     "kv_count", "architecture", "name", "supported",
 *     "parameter_count", "tensor_types": { "<type>": { "count", "bytes" } },
 *     "vocab_size", "tokenizer_model", "context_length", "layers",
 *     "embedding", "heads", "kv_heads", "head_dim", "feed_forward",
 *     "rms_epsilon", "tied_output",
 *     "rope": { "freq_base", "dimension_count", "scaling", "factor",
 *               "original_context_length", "freq_factors" },
 *     "memory": { "context_size", "weights_bytes", "kv_cache_f16_bytes",
 *                 "kv_cache_f32_bytes", "activations_bytes",
 *                 "total_f16_bytes", "total_f32_bytes" } }
 * Fields that could not be read are null. weights_bytes is the mapped file;
 * activations_bytes is an estimate for prompt batches of up to 512 tokens.
 *
 * Errors: as hyperionVerifyModel. */
hyperion_status hyperionGetModelInfo(const char *path, uint32_t context_size, char **info_json);

/* Everything the file holds, as JSON: path, fileSize, version, alignment,
 * dataOffset, metadata [{key, type, value | elementType+count+head}] (strings
 * cut at 256 bytes, arrays at their first 8 elements) and tensors [{name, type,
 * shape, bytes, offset}]. Unlike verify/info it fails on a file it cannot
 * parse (the reader's error: HYPERION_IO, HYPERION_MODEL_INVALID naming field
 * and offset, HYPERION_MODEL_UNSUPPORTED). The caller frees *json with
 * hyperionFree. */
hyperion_status hyperionInspectModel(const char *path, char **json);

#ifdef __cplusplus
}
#endif

#endif /* HYPERION_MODEL_H */
