/*
 * model_inspect.c — everything a GGUF file holds, as JSON: every metadata key
 * with its type and value (long strings and arrays abbreviated), and every
 * tensor with its type, shape, bytes and offset. For `hyperion inspect`.
 */
#include "hyperion_model.h"

#include <string.h>

#include "core/internal.h"
#include "kernels/types.h"
#include "model/gguf.h"
#include "model/json_builder.h"

#define MAX_STRING_SHOWN 256
#define MAX_ARRAY_SHOWN 8

static void scalar_value(hy_json *j, uint32_t type, const uint8_t *p, uint64_t len) {
    switch (type) {
    case HY_GGUF_UINT8: hy_json_u64(j, p[0]); break;
    case HY_GGUF_INT8: hy_json_i64(j, (int8_t)p[0]); break;
    case HY_GGUF_UINT16: { uint16_t v; memcpy(&v, p, 2); hy_json_u64(j, v); break; }
    case HY_GGUF_INT16: { int16_t v; memcpy(&v, p, 2); hy_json_i64(j, v); break; }
    case HY_GGUF_UINT32: { uint32_t v; memcpy(&v, p, 4); hy_json_u64(j, v); break; }
    case HY_GGUF_INT32: { int32_t v; memcpy(&v, p, 4); hy_json_i64(j, v); break; }
    case HY_GGUF_FLOAT32: { float v; memcpy(&v, p, 4); hy_json_f32(j, v); break; }
    case HY_GGUF_BOOL: hy_json_bool(j, p[0] != 0); break;
    case HY_GGUF_UINT64: { uint64_t v; memcpy(&v, p, 8); hy_json_u64(j, v); break; }
    case HY_GGUF_INT64: { int64_t v; memcpy(&v, p, 8); hy_json_i64(j, v); break; }
    case HY_GGUF_FLOAT64: { double v; memcpy(&v, p, 8); hy_json_f64(j, v); break; }
    case HY_GGUF_STRING: hy_json_string_n(j, (const char *)p, len > MAX_STRING_SHOWN ? MAX_STRING_SHOWN : len); break;
    default: hy_json_null(j);
    }
}

static void kv_entry(hy_json *j, const hy_gguf_kv *kv) {
    hy_json_object_begin(j);
    hy_json_kv_string(j, "key", kv->key);
    hy_json_kv_string(j, "type", hy_gguf_type_name(kv->type));
    if (kv->type == HY_GGUF_ARRAY) {
        hy_json_kv_string(j, "elementType", hy_gguf_type_name(kv->elem_type));
        hy_json_kv_u64(j, "count", kv->count);
        hy_json_key(j, "head");
        hy_json_array_begin(j);
        uint64_t shown = kv->count < MAX_ARRAY_SHOWN ? kv->count : MAX_ARRAY_SHOWN;
        size_t elem = hy_gguf_type_size(kv->elem_type);
        for (uint64_t i = 0; i < shown; i++) {
            if (kv->elem_type == HY_GGUF_STRING) {
                const char *text;
                uint64_t len;
                if (hy_gguf_array_string(kv, i, &text, &len) == HYPERION_OK)
                    hy_json_string_n(j, text, len > MAX_STRING_SHOWN ? MAX_STRING_SHOWN : len);
                else hy_json_null(j);
            } else {
                scalar_value(j, kv->elem_type, kv->value + i * elem, elem);
            }
        }
        hy_json_array_end(j);
    } else {
        hy_json_key(j, "value");
        scalar_value(j, kv->type, kv->value, kv->value_len);
        if (kv->type == HY_GGUF_STRING && kv->value_len > MAX_STRING_SHOWN) {
            hy_json_kv_u64(j, "length", kv->value_len);
            hy_json_kv_bool(j, "truncated", 1);
        }
    }
    hy_json_object_end(j);
}

hyperion_status hyperionInspectModel(const char *path, char **out_json) {
    if (!out_json)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", "out") }), "out must not be NULL");
    *out_json = NULL;
    hy_gguf *g = NULL;
    hyperion_status s = hy_gguf_open_ex(path, HY_GGUF_ALLOW_UNSUPPORTED_TYPES, &g);
    if (s != HYPERION_OK) return s;
    hy_json j;
    hy_json_init(&j, HYPERION_TAG_MODEL);
    hy_json_object_begin(&j);
    hy_json_kv_string(&j, "path", path);
    hy_json_kv_u64(&j, "fileSize", hy_gguf_file_size(g));
    hy_json_kv_u64(&j, "version", hy_gguf_version(g));
    hy_json_kv_u64(&j, "alignment", hy_gguf_alignment(g));
    hy_json_kv_u64(&j, "dataOffset", hy_gguf_data_offset(g));
    hy_json_key(&j, "metadata");
    hy_json_array_begin(&j);
    for (uint64_t i = 0; i < hy_gguf_kv_count(g); i++) kv_entry(&j, hy_gguf_kv_at(g, i));
    hy_json_array_end(&j);
    hy_json_key(&j, "tensors");
    hy_json_array_begin(&j);
    for (uint64_t i = 0; i < hy_gguf_tensor_count(g); i++) {
        const hy_tensor *t = hy_gguf_tensor_at(g, i);
        const hy_type_info *ti = hy_type_get(t->type);
        hy_json_object_begin(&j);
        hy_json_kv_string(&j, "name", t->name);
        hy_json_kv_string(&j, "type", ti ? ti->name : "unknown");
        hy_json_key(&j, "shape");
        hy_json_array_begin(&j);
        for (uint32_t d = 0; d < t->n_dims; d++) hy_json_u64(&j, t->ne[d]);
        hy_json_array_end(&j);
        hy_json_kv_u64(&j, "bytes", t->n_bytes);
        hy_json_kv_u64(&j, "offset", t->file_offset);
        hy_json_object_end(&j);
    }
    hy_json_array_end(&j);
    hy_json_object_end(&j);
    hy_gguf_close(g);
    return hy_json_finish(&j, out_json, NULL);
}
