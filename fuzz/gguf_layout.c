/* gguf_layout.c — the tolerant GGUF field walk (see gguf_layout.h). Test-only. */
#include "gguf_layout.h"

#include <string.h>

#define T_STRING 8u
#define T_ARRAY 9u
#define STRINGS_RECORDED_PER_ARRAY 8 /* plus the last one: vocabularies have 50k strings */

typedef struct walker {
    const uint8_t *d;
    size_t size;
    uint64_t at;
    hy_gguf_layout *out;
} walker;

uint64_t hy_gguf_layout_get(const uint8_t *data, uint64_t off, unsigned width) {
    uint64_t v = 0;
    for (unsigned i = 0; i < width; i++) v |= (uint64_t)data[off + i] << (8 * i);
    return v;
}

void hy_gguf_layout_put(uint8_t *data, uint64_t off, unsigned width, uint64_t value) {
    for (unsigned i = 0; i < width; i++) data[off + i] = (uint8_t)(value >> (8 * i));
}

static int has(const walker *w, uint64_t n) { return w->at <= w->size && n <= w->size - w->at; }

static void note(walker *w, hy_gguf_field_kind kind, unsigned width, unsigned type) {
    hy_gguf_layout *o = w->out;
    if (o->n_fields >= HY_GGUF_LAYOUT_MAX_FIELDS) return;
    o->fields[o->n_fields++] = (hy_gguf_field){ (uint8_t)kind, (uint8_t)width, (uint8_t)type, w->at };
}

/* Read a field, recording it; 0 when the bytes are not there. */
static int field(walker *w, hy_gguf_field_kind kind, unsigned width, uint64_t *value, int record) {
    if (!has(w, width)) return 0;
    if (record) note(w, kind, width, 0);
    *value = hy_gguf_layout_get(w->d, w->at, width);
    w->at += width;
    return 1;
}

static unsigned scalar_width(uint64_t type) {
    switch (type) {
    case 0: case 1: case 7: return 1;
    case 2: case 3: return 2;
    case 4: case 5: case 6: return 4;
    case 10: case 11: case 12: return 8;
    default: return 0;
    }
}

static int string(walker *w, hy_gguf_field_kind kind, int record, uint64_t *len_out) {
    uint64_t len;
    if (!field(w, kind, 8, &len, record)) return 0;
    if (!has(w, len)) return 0;
    if (len_out) *len_out = len;
    w->at += len;
    return 1;
}

static int value(walker *w, uint64_t type, const char *key, uint64_t key_len) {
    if (type == T_STRING) return string(w, HY_GF_STR_LEN, 1, NULL);
    if (type == T_ARRAY) {
        uint64_t elem, count;
        if (!field(w, HY_GF_ARR_TYPE, 4, &elem, 1) || !field(w, HY_GF_ARR_COUNT, 8, &count, 1)) return 0;
        if (elem == T_STRING) {
            for (uint64_t i = 0; i < count; i++)
                if (!string(w, HY_GF_STR_LEN, i < STRINGS_RECORDED_PER_ARRAY || i + 1 == count, NULL)) return 0;
            return 1;
        }
        unsigned ew = scalar_width(elem);
        if (!ew || count > (w->size - w->at) / ew) return 0;
        if (count) {   /* the first element stands for the rest */
            note(w, HY_GF_SCALAR, ew, (unsigned)elem);
        }
        w->at += count * ew;
        return 1;
    }
    unsigned width = scalar_width(type);
    if (!width || !has(w, width)) return 0;
    note(w, HY_GF_SCALAR, width, (unsigned)type);
    static const char align_key[] = "general.alignment";
    if (key_len == sizeof align_key - 1 && memcmp(key, align_key, key_len) == 0 && width == 4) {
        uint64_t a = hy_gguf_layout_get(w->d, w->at, 4);
        if (a && a <= (1u << 20) && (a & (a - 1)) == 0) w->out->alignment = (uint32_t)a;
    }
    w->at += width;
    return 1;
}

uint32_t hy_gguf_layout_parse(const uint8_t *data, size_t size, hy_gguf_layout *out) {
    memset(out, 0, sizeof *out);
    out->alignment = 32;
    walker w = { data, size, 0, out };
    uint64_t version;
    if (size < 4 || memcmp(data, "GGUF", 4) != 0) return 0;
    w.at = 4;
    if (!field(&w, HY_GF_VERSION, 4, &version, 1)) return out->n_fields;
    if (!field(&w, HY_GF_TENSOR_COUNT, 8, &out->tensor_count, 1)) return out->n_fields;
    if (!field(&w, HY_GF_KV_COUNT, 8, &out->kv_count, 1)) return out->n_fields;
    for (uint64_t i = 0; i < out->kv_count; i++) {
        uint64_t start = w.at, key_len, type;
        if (!string(&w, HY_GF_KEY_LEN, 1, &key_len)) return out->n_fields;
        const char *key = (const char *)data + w.at - key_len;
        if (!field(&w, HY_GF_KV_TYPE, 4, &type, 1) || !value(&w, type, key, key_len)) return out->n_fields;
        if (out->n_kvs < HY_GGUF_LAYOUT_MAX_SPANS) out->kvs[out->n_kvs++] = (hy_gguf_span){ start, w.at };
    }
    for (uint64_t i = 0; i < out->tensor_count; i++) {
        uint64_t start = w.at, n_dims, v;
        if (!string(&w, HY_GF_TI_NAME_LEN, 1, NULL)) return out->n_fields;
        if (!field(&w, HY_GF_TI_NDIMS, 4, &n_dims, 1) || n_dims > 8) return out->n_fields;
        for (uint64_t k = 0; k < n_dims; k++)
            if (!field(&w, HY_GF_TI_DIM, 8, &v, 1)) return out->n_fields;
        if (!field(&w, HY_GF_TI_TYPE, 4, &v, 1) || !field(&w, HY_GF_TI_OFFSET, 8, &v, 1)) return out->n_fields;
        if (out->n_infos < HY_GGUF_LAYOUT_MAX_SPANS) out->infos[out->n_infos++] = (hy_gguf_span){ start, w.at };
        out->infos_end = w.at;
    }
    out->complete = 1;
    return out->n_fields;
}
