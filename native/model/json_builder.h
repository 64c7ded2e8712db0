/*
 * json_builder.h — a small JSON writer into a growing hyperionAlloc'd string
 * (internal). Commas, nesting and escaping are handled here; callers state
 * structure only. The first failure (allocation, or misuse such as a value
 * without a key inside an object) is remembered and returned by finish, so a
 * report can be written without checking every call.
 *
 * Placed in native/model/ for now; it belongs in native/core/ (the model info
 * and verify reports, the corpus manifest, later the profiler could share it).
 */
#ifndef HYPERION_MODEL_JSON_BUILDER_H
#define HYPERION_MODEL_JSON_BUILDER_H

#include <stddef.h>
#include <stdint.h>

#include "hyperion.h"

#define HY_JSON_MAX_DEPTH 32

typedef struct hy_json {
    char *buf;
    size_t len, cap;
    hyperion_mem_tag tag;
    hyperion_status status;              /* first failure; HYPERION_OK while fine */
    uint32_t depth;
    uint8_t in_object[HY_JSON_MAX_DEPTH]; /* 1: object, 0: array */
    uint8_t has_items[HY_JSON_MAX_DEPTH]; /* 1: a comma goes before the next item */
    int after_key;                       /* 1: a key was written, its value is next */
} hy_json;

/* Start an empty document whose buffer gets tag. */
void hy_json_init(hy_json *j, hyperion_mem_tag tag);

void hy_json_object_begin(hy_json *j);
void hy_json_object_end(hy_json *j);
void hy_json_array_begin(hy_json *j);
void hy_json_array_end(hy_json *j);

/* The key of the next value (inside an object). */
void hy_json_key(hy_json *j, const char *key);

/* Values. Strings are escaped; invalid UTF-8 becomes U+FFFD. Non-finite
 * numbers become null. f32 and f64 print the shortest text that reads back
 * as the same value. NULL strings become null. */
void hy_json_string(hy_json *j, const char *text);
void hy_json_string_n(hy_json *j, const char *text, size_t len);
void hy_json_u64(hy_json *j, uint64_t v);
void hy_json_i64(hy_json *j, int64_t v);
void hy_json_f32(hy_json *j, float v);
void hy_json_f64(hy_json *j, double v);
void hy_json_bool(hy_json *j, int v);
void hy_json_null(hy_json *j);

/* A finished JSON document (from hy_json_finish) inserted as one value. */
void hy_json_raw_value(hy_json *j, const char *json, size_t len);

/* key + value in one call */
void hy_json_kv_string(hy_json *j, const char *key, const char *text);
void hy_json_kv_u64(hy_json *j, const char *key, uint64_t v);
void hy_json_kv_i64(hy_json *j, const char *key, int64_t v);
void hy_json_kv_f32(hy_json *j, const char *key, float v);
void hy_json_kv_f64(hy_json *j, const char *key, double v);
void hy_json_kv_bool(hy_json *j, const char *key, int v);

/* Hand over the NUL-terminated document (*out, hyperionFree it; *len may be
 * NULL). Fails with the first recorded failure, or HYPERION_INTERNAL when
 * objects or arrays are still open; on failure the buffer is freed. */
hyperion_status hy_json_finish(hy_json *j, char **out, size_t *len);

/* Drop the document (after an error elsewhere). */
void hy_json_discard(hy_json *j);

#endif
