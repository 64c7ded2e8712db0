/*
 * gguf_access.c — reading an opened (already validated) GGUF file: the file's
 * facts, metadata lookups with type checks, arrays, and tensors.
 */
#include "model/gguf_internal.h"

#include "core/internal.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const type_names[HY_GGUF_TYPE_COUNT] = {
    "uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
    "bool", "string", "array", "uint64", "int64", "float64",
};
static const uint8_t type_sizes[HY_GGUF_TYPE_COUNT] = { 1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8 };

const char *hy_gguf_type_name(uint32_t type) {
    return type < HY_GGUF_TYPE_COUNT ? type_names[type] : "unknown";
}

size_t hy_gguf_type_size(uint32_t type) {
    return type < HY_GGUF_TYPE_COUNT ? type_sizes[type] : 0;
}

/* ------------------------------------------------------------- the file */

const char *hy_gguf_path(const hy_gguf *g) { return g->path; }
uint32_t hy_gguf_version(const hy_gguf *g) { return g->version; }
uint64_t hy_gguf_file_size(const hy_gguf *g) { return g->size; }
uint32_t hy_gguf_alignment(const hy_gguf *g) { return g->alignment; }
uint64_t hy_gguf_data_offset(const hy_gguf *g) { return g->data_offset; }
const uint8_t *hy_gguf_bytes(const hy_gguf *g) { return g->base; }
uint32_t hy_gguf_warning_count(const hy_gguf *g) { return g->n_warnings; }
uint32_t hy_gguf_warnings_dropped(const hy_gguf *g) { return g->warnings_dropped; }

const hy_gguf_note *hy_gguf_warning_at(const hy_gguf *g, uint32_t i) {
    return i < g->n_warnings ? &g->warnings[i] : NULL;
}

/* -------------------------------------------------------------- metadata */

uint64_t hy_gguf_kv_count(const hy_gguf *g) { return g->n_kv; }

const hy_gguf_kv *hy_gguf_kv_at(const hy_gguf *g, uint64_t i) {
    return i < g->n_kv ? &g->kv[i] : NULL;
}

const hy_gguf_kv *hy_gguf_find(const hy_gguf *g, const char *key) {
    if (!g || !key) return NULL;
    int64_t i = hy_gguf_lookup_kv(g, key, strlen(key));
    return i < 0 ? NULL : &g->kv[i];
}

static uint64_t le64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Absolute offset of a pair's type field: after the key's length and text. */
static uint64_t type_offset(const hy_gguf_kv *kv) {
    return kv->offset + 8 + strlen(kv->key);
}

static hyperion_status missing(const hy_gguf *g, const char *key) {
    const char *slash = strrchr(g->path, '/');
    return HY_RAISE_WITH(HYPERION_MODEL_INVALID, "the file lacks metadata this runtime needs; convert it again",
                         ((hy_field[]){ HY_TXT("field", key), HY_TXT("key", key), HY_TXT("path", g->path) }),
                         "%s: required key \"%s\" is missing", slash ? slash + 1 : g->path, key);
}

static hyperion_status wrong(const hy_gguf *g, const hy_gguf_kv *kv, const char *expected) {
    char field[64];
    snprintf(field, sizeof field, "kv[%llu].type", (unsigned long long)(kv - g->kv));
    char type[48];
    if (kv->type == HY_GGUF_ARRAY)
        snprintf(type, sizeof type, "array of %s", hy_gguf_type_name(kv->elem_type));
    else
        snprintf(type, sizeof type, "%s", hy_gguf_type_name(kv->type));
    return hy_gguf_fail(g, HYPERION_MODEL_INVALID, field, type_offset(kv), HY_GGUF_SUGGEST_DAMAGED,
                        "key \"%s\" has type %s; expected %s", kv->key, type, expected);
}

static hyperion_status out_of_range(const hy_gguf *g, const hy_gguf_kv *kv, const char *expected) {
    char field[64];
    snprintf(field, sizeof field, "kv[%llu].value", (unsigned long long)(kv - g->kv));
    return hy_gguf_fail(g, HYPERION_MODEL_INVALID, field, kv->value_offset, HY_GGUF_SUGGEST_DAMAGED,
                        "key \"%s\": the value does not fit %s", kv->key, expected);
}

/* Any integer scalar as a 128-bit value; 0 when kv is not an integer. */
static int as_integer(const hy_gguf_kv *kv, __int128 *v) {
    const uint8_t *p = kv->value;
    switch (kv->type) {
    case HY_GGUF_UINT8: *v = p[0]; return 1;
    case HY_GGUF_INT8: *v = (int8_t)p[0]; return 1;
    case HY_GGUF_UINT16: *v = (uint16_t)(p[0] | p[1] << 8); return 1;
    case HY_GGUF_INT16: *v = (int16_t)(uint16_t)(p[0] | p[1] << 8); return 1;
    case HY_GGUF_UINT32: *v = le32(p); return 1;
    case HY_GGUF_INT32: *v = (int32_t)le32(p); return 1;
    case HY_GGUF_UINT64: *v = le64(p); return 1;
    case HY_GGUF_INT64: *v = (int64_t)le64(p); return 1;
    default: return 0;
    }
}

/* The pair for key, or (when absent) HYPERION_OK with *kv NULL if optional. */
static hyperion_status lookup(const hy_gguf *g, const char *key, int required, const hy_gguf_kv **kv) {
    if (!g || !key)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", g ? "key" : "gguf") }),
                             "hy_gguf_get: %s is NULL", g ? "key" : "gguf");
    *kv = hy_gguf_find(g, key);
    if (!*kv && required) return missing(g, key);
    return HYPERION_OK;
}

static hyperion_status get_int(const hy_gguf *g, const char *key, int required, __int128 lo, __int128 hi,
                               const char *what, __int128 *out) {
    const hy_gguf_kv *kv = NULL;
    hyperion_status s = lookup(g, key, required, &kv);
    if (s || !kv) return s;
    __int128 v;
    if (!as_integer(kv, &v)) return wrong(g, kv, what);
    if (v < lo || v > hi) return out_of_range(g, kv, what);
    *out = v;
    return HYPERION_OK;
}

hyperion_status hy_gguf_get_u32(const hy_gguf *g, const char *key, uint32_t *out) {
    __int128 v = 0;
    hyperion_status s = get_int(g, key, 1, 0, UINT32_MAX, "an integer that fits uint32", &v);
    if (!s) *out = (uint32_t)v;
    return s;
}

hyperion_status hy_gguf_get_u32_or(const hy_gguf *g, const char *key, uint32_t fallback, uint32_t *out) {
    __int128 v = fallback;
    hyperion_status s = get_int(g, key, 0, 0, UINT32_MAX, "an integer that fits uint32", &v);
    if (!s) *out = (uint32_t)v;
    return s;
}

hyperion_status hy_gguf_get_i32(const hy_gguf *g, const char *key, int32_t *out) {
    __int128 v = 0;
    hyperion_status s = get_int(g, key, 1, INT32_MIN, INT32_MAX, "an integer that fits int32", &v);
    if (!s) *out = (int32_t)v;
    return s;
}

hyperion_status hy_gguf_get_u64(const hy_gguf *g, const char *key, uint64_t *out) {
    __int128 v = 0;
    hyperion_status s = get_int(g, key, 1, 0, UINT64_MAX, "a non-negative integer", &v);
    if (!s) *out = (uint64_t)v;
    return s;
}

static hyperion_status get_float(const hy_gguf *g, const char *key, int required, float *out) {
    const hy_gguf_kv *kv = NULL;
    hyperion_status s = lookup(g, key, required, &kv);
    if (s || !kv) return s;
    if (kv->type == HY_GGUF_FLOAT32) {
        memcpy(out, kv->value, 4);
        return HYPERION_OK;
    }
    if (kv->type == HY_GGUF_FLOAT64) {
        double d;
        memcpy(&d, kv->value, 8);
        if (isfinite(d) && fabs(d) > FLT_MAX) return out_of_range(g, kv, "float32");
        *out = (float)d;
        return HYPERION_OK;
    }
    return wrong(g, kv, "float32 or float64");
}

hyperion_status hy_gguf_get_f32(const hy_gguf *g, const char *key, float *out) {
    return get_float(g, key, 1, out);
}

hyperion_status hy_gguf_get_f32_or(const hy_gguf *g, const char *key, float fallback, float *out) {
    *out = fallback;
    return get_float(g, key, 0, out);
}

static hyperion_status get_bool(const hy_gguf *g, const char *key, int required, int *out) {
    const hy_gguf_kv *kv = NULL;
    hyperion_status s = lookup(g, key, required, &kv);
    if (s || !kv) return s;
    if (kv->type != HY_GGUF_BOOL) return wrong(g, kv, "bool");
    *out = kv->value[0] != 0;
    return HYPERION_OK;
}

hyperion_status hy_gguf_get_bool(const hy_gguf *g, const char *key, int *out) {
    return get_bool(g, key, 1, out);
}

hyperion_status hy_gguf_get_bool_or(const hy_gguf *g, const char *key, int fallback, int *out) {
    *out = fallback;
    return get_bool(g, key, 0, out);
}

hyperion_status hy_gguf_get_string(const hy_gguf *g, const char *key, const char **text, uint64_t *len) {
    const hy_gguf_kv *kv = NULL;
    hyperion_status s = lookup(g, key, 1, &kv);
    if (s) return s;
    if (kv->type != HY_GGUF_STRING) return wrong(g, kv, "string");
    *text = (const char *)kv->value;
    *len = kv->value_len;
    return HYPERION_OK;
}

hyperion_status hy_gguf_get_string_copy(const hy_gguf *g, const char *key, char *buf, size_t size) {
    const char *text = NULL;
    uint64_t len = 0;
    hyperion_status s = hy_gguf_get_string(g, key, &text, &len);
    if (s) return s;
    const hy_gguf_kv *kv = hy_gguf_find(g, key);
    if (len >= size || memchr(text, 0, (size_t)len)) {
        char field[64];
        snprintf(field, sizeof field, "kv[%llu].value", (unsigned long long)(kv - g->kv));
        return hy_gguf_fail(g, HYPERION_MODEL_INVALID, field, kv->value_offset, HY_GGUF_SUGGEST_DAMAGED,
                            "key \"%s\": the string %s", key,
                            len >= size ? "is longer than this runtime accepts for it" : "holds a NUL byte");
    }
    memcpy(buf, text, (size_t)len);
    buf[len] = '\0';
    return HYPERION_OK;
}

hyperion_status hy_gguf_get_array(const hy_gguf *g, const char *key, uint32_t elem_type, const hy_gguf_kv **kv_out,
                                  uint64_t *count, const void **elems) {
    const hy_gguf_kv *kv = NULL;
    hyperion_status s = lookup(g, key, 1, &kv);
    if (s) return s;
    char expected[48];
    if (elem_type == (uint32_t)-1) snprintf(expected, sizeof expected, "an array");
    else snprintf(expected, sizeof expected, "an array of %s", hy_gguf_type_name(elem_type));
    if (kv->type != HY_GGUF_ARRAY || (elem_type != (uint32_t)-1 && kv->elem_type != elem_type))
        return wrong(g, kv, expected);
    if (kv_out) *kv_out = kv;
    if (count) *count = kv->count;
    if (elems) *elems = kv->elem_type == HY_GGUF_STRING ? NULL : kv->value;
    return HYPERION_OK;
}

hyperion_status hy_gguf_array_string(const hy_gguf_kv *kv, uint64_t i, const char **text, uint64_t *len) {
    if (!kv || kv->type != HY_GGUF_ARRAY || kv->elem_type != HY_GGUF_STRING || i >= kv->count)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", "index") }),
                             "hy_gguf_array_string: %s", !kv || kv->type != HY_GGUF_ARRAY || kv->elem_type != HY_GGUF_STRING
                                 ? "not a string array" : "index out of range");
    /* the offsets point into the mapping, which starts value_offset bytes
     * before the first element's bytes */
    const uint8_t *base = kv->value - kv->value_offset;
    const uint8_t *p = base + kv->str_offsets[i];
    *len = le64(p);
    *text = (const char *)(p + 8);
    return HYPERION_OK;
}

double hy_gguf_array_number(const hy_gguf_kv *kv, uint64_t i) {
    if (!kv || kv->type != HY_GGUF_ARRAY || i >= kv->count) return 0.0;
    size_t es = hy_gguf_type_size(kv->elem_type);
    if (!es) return 0.0;
    const uint8_t *p = kv->value + i * es;
    switch (kv->elem_type) {
    case HY_GGUF_FLOAT32: { float f; memcpy(&f, p, 4); return f; }
    case HY_GGUF_FLOAT64: { double d; memcpy(&d, p, 8); return d; }
    default: {
        hy_gguf_kv one = { .type = kv->elem_type, .value = p };
        __int128 v;
        if (kv->elem_type == HY_GGUF_BOOL) return p[0] ? 1.0 : 0.0;
        return as_integer(&one, &v) ? (double)v : 0.0;
    }
    }
}

/* --------------------------------------------------------------- tensors */

uint64_t hy_gguf_tensor_count(const hy_gguf *g) { return g->n_tensors; }

const hy_tensor *hy_gguf_tensor_at(const hy_gguf *g, uint64_t i) {
    return i < g->n_tensors ? &g->tensors[i] : NULL;
}

const hy_tensor *hy_gguf_find_tensor(const hy_gguf *g, const char *name) {
    if (!g || !name) return NULL;
    int64_t i = hy_gguf_lookup_tensor(g, name, strlen(name));
    return i < 0 ? NULL : &g->tensors[i];
}

uint64_t hy_gguf_tensor_info_offset(const hy_gguf *g, uint64_t i) {
    return i < g->n_tensors ? g->tinfo[i].info_offset : 0;
}

uint64_t hy_gguf_tensor_type_offset(const hy_gguf *g, uint64_t i) {
    return i < g->n_tensors ? g->tinfo[i].offset_pos - 4 : 0; /* the type precedes the offset */
}
