/*
 * gguf_read.c — parsing a GGUF file: one forward walk over the header, the
 * metadata pairs and the tensor infos that checks every field before it is
 * used. The mapping is made in gguf_open.c; the data-section checks and the
 * lookup tables live in gguf_check.c; the accessors in gguf_access.c.
 *
 * Every read goes through the cursor helpers below, which check the bytes are
 * there first; lengths and counts are compared with the bytes left before
 * anything is allocated, and tables grow only as entries are actually parsed,
 * so a huge count in a small file fails fast and allocates nothing big.
 */
#include "model/gguf_internal.h"

#include "core/internal.h"
#include "kernels/types.h"

#include <stdio.h>
#include <string.h>

/* Smallest possible encodings, used to bound counts by the bytes left:
 * a pair is key length (8) + one key byte + type (4) + a one-byte value;
 * a tensor info is name length (8) + one byte + n_dims (4) + one dim (8) +
 * type (4) + offset (8). */
#define MIN_KV_BYTES 14u
#define MIN_TENSOR_INFO_BYTES 33u
#define MAX_TABLE_ENTRIES 0xFFFFFFF0u /* the lookup tables hold 32-bit indices */

typedef struct parser {
    hy_gguf *g;
    const uint8_t *b;
    uint64_t size;
    uint64_t pos;             /* invariant: pos <= size */
    uint64_t kv_cap, tensor_cap;
    int64_t first_unsupported; /* tensor index, or -1 */
} parser;

/* ------------------------------------------------------------ the cursor */

static uint64_t le64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static hyperion_status truncated(parser *p, const char *field, uint64_t need) {
    return hy_gguf_fail(p->g, HYPERION_MODEL_INVALID, field, p->pos, HY_GGUF_SUGGEST_DAMAGED,
                        "the file ends inside %s: %llu bytes needed, %llu left (file is %llu bytes; truncated?)",
                        field, (unsigned long long)need, (unsigned long long)(p->size - p->pos),
                        (unsigned long long)p->size);
}

static hyperion_status rd_u32(parser *p, const char *field, uint32_t *v) {
    if (p->size - p->pos < 4) return truncated(p, field, 4);
    *v = le32(p->b + p->pos);
    p->pos += 4;
    return HYPERION_OK;
}

static hyperion_status rd_u64(parser *p, const char *field, uint64_t *v) {
    if (p->size - p->pos < 8) return truncated(p, field, 8);
    *v = le64(p->b + p->pos);
    p->pos += 8;
    return HYPERION_OK;
}

/* A GGUF string: u64 length, then that many bytes. *text_pos gets the
 * absolute offset of the text. */
static hyperion_status rd_str(parser *p, const char *field, uint64_t *len, uint64_t *text_pos) {
    uint64_t start = p->pos;
    hyperion_status s = rd_u64(p, field, len);
    if (s) return s;
    if (*len > p->size - p->pos)
        return hy_gguf_fail(p->g, HYPERION_MODEL_INVALID, field, start, HY_GGUF_SUGGEST_DAMAGED,
                            "string length %llu runs past the end of the file (%llu bytes left)",
                            (unsigned long long)*len, (unsigned long long)(p->size - p->pos));
    *text_pos = p->pos;
    p->pos += *len;
    return HYPERION_OK;
}

/* Keys and tensor names: non-empty, valid UTF-8, no NUL byte. */
static hyperion_status check_name(parser *p, const char *field, uint64_t start, uint64_t text_pos, uint64_t len,
                                  const char *what) {
    uint64_t bad = 0;
    if (len == 0)
        return hy_gguf_fail(p->g, HYPERION_MODEL_INVALID, field, start, HY_GGUF_SUGGEST_DAMAGED, "empty %s", what);
    if (!hy_gguf_utf8_valid(p->b + text_pos, len, &bad))
        return hy_gguf_fail(p->g, HYPERION_MODEL_INVALID, field, start, HY_GGUF_SUGGEST_DAMAGED,
                            "%s is not valid UTF-8 or holds a NUL byte (byte 0x%02x at file offset %llu)", what,
                            p->b[text_pos + bad], (unsigned long long)(text_pos + bad));
    return HYPERION_OK;
}

/* Grow a table to hold at least need entries (doubling). */
static hyperion_status grow(void **table, uint64_t *cap, uint64_t need, size_t entry) {
    if (need <= *cap) return HYPERION_OK;
    uint64_t n = *cap ? *cap * 2 : 16;
    while (n < need) n *= 2;
    void *t = hyperionRealloc(*table, (size_t)(n * entry), HYPERION_TAG_MODEL);
    if (!t) return hyperionGetLastError()->code;
    *table = t;
    *cap = n;
    return HYPERION_OK;
}

/* ---------------------------------------------------------------- header */

static hyperion_status parse_header(parser *p, uint64_t *n_tensors, uint64_t *n_kv) {
    hyperion_status s;
    if (p->size < 4) {
        if (p->size == 0)
            return hy_gguf_fail(p->g, HYPERION_MODEL_INVALID, "magic", 0, "check the path: this is not a model file",
                                "the file is empty");
        return truncated(p, "magic", 4);
    }
    if (memcmp(p->b, HY_GGUF_MAGIC, 4) != 0) {
        /* GGML, GGMF and GGJT, the formats before GGUF, wrote their magic as a
         * little-endian u32: "lmgg", "fmgg", "tjgg" on disk. */
        if (!memcmp(p->b, "lmgg", 4) || !memcmp(p->b, "fmgg", 4) || !memcmp(p->b, "tjgg", 4))
            return hy_gguf_fail(p->g, HYPERION_MODEL_UNSUPPORTED, "magic", 0,
                                "convert the model to GGUF with llama.cpp's conversion scripts",
                                "a legacy GGML/GGMF/GGJT file, not GGUF");
        return hy_gguf_fail(p->g, HYPERION_MODEL_INVALID, "magic", 0, "check the path: this is not a GGUF file",
                            "not a GGUF file: magic bytes are %02x %02x %02x %02x, expected 47 47 55 46 (\"GGUF\")",
                            p->b[0], p->b[1], p->b[2], p->b[3]);
    }
    p->pos = 4;
    uint32_t version = 0;
    if ((s = rd_u32(p, "version", &version))) return s;
    if (version == 1)
        return hy_gguf_fail(p->g, HYPERION_MODEL_UNSUPPORTED, "version", 4,
                            "convert the model again with a current llama.cpp (GGUF v3)",
                            "GGUF version 1 (32-bit counts) is not supported; versions 2 and 3 are");
    if ((version & 0xFFFFu) == 0 && __builtin_bswap32(version) >= 1 && __builtin_bswap32(version) <= 3)
        return hy_gguf_fail(p->g, HYPERION_MODEL_UNSUPPORTED, "version", 4,
                            "use a little-endian GGUF file (the usual kind)",
                            "a big-endian GGUF file (version %u byte-swapped); only little-endian files are supported",
                            __builtin_bswap32(version));
    if (version != 2 && version != 3)
        return hy_gguf_fail(p->g, HYPERION_MODEL_INVALID, "version", 4, HY_GGUF_SUGGEST_DAMAGED,
                            "GGUF version %u does not exist; versions 2 and 3 are supported", version);
    p->g->version = version;
    if ((s = rd_u64(p, "tensor_count", n_tensors))) return s;
    if ((s = rd_u64(p, "kv_count", n_kv))) return s;
    uint64_t left = p->size - p->pos;
    if (*n_tensors > left / MIN_TENSOR_INFO_BYTES || *n_tensors > MAX_TABLE_ENTRIES)
        return hy_gguf_fail(p->g, HYPERION_MODEL_INVALID, "tensor_count", 8, HY_GGUF_SUGGEST_DAMAGED,
                            "%llu tensors cannot fit in the %llu bytes after the header (at most %llu)",
                            (unsigned long long)*n_tensors, (unsigned long long)left,
                            (unsigned long long)(left / MIN_TENSOR_INFO_BYTES));
    if (*n_kv > left / MIN_KV_BYTES || *n_kv > MAX_TABLE_ENTRIES)
        return hy_gguf_fail(p->g, HYPERION_MODEL_INVALID, "kv_count", 16, HY_GGUF_SUGGEST_DAMAGED,
                            "%llu metadata pairs cannot fit in the %llu bytes after the header (at most %llu)",
                            (unsigned long long)*n_kv, (unsigned long long)left,
                            (unsigned long long)(left / MIN_KV_BYTES));
    return HYPERION_OK;
}

/* --------------------------------------------------------------- metadata */

/* A fixed-size value or array of them: bounds, and 0/1 for booleans. */
static hyperion_status parse_fixed(parser *p, uint64_t i, uint32_t type, uint64_t count, const char *count_field,
                                   uint64_t count_pos) {
    char field[64];
    uint64_t esize = hy_gguf_type_size(type), bytes;
    if (__builtin_mul_overflow(count, esize, &bytes) || bytes > p->size - p->pos) {
        if (count_field)
            return hy_gguf_fail(p->g, HYPERION_MODEL_INVALID, count_field, count_pos, HY_GGUF_SUGGEST_DAMAGED,
                                "an array of %llu %s elements does not fit in the %llu bytes left",
                                (unsigned long long)count, hy_gguf_type_name(type),
                                (unsigned long long)(p->size - p->pos));
        snprintf(field, sizeof field, "kv[%llu].value", (unsigned long long)i);
        return truncated(p, field, esize);
    }
    if (type == HY_GGUF_BOOL) {
        for (uint64_t j = 0; j < count; j++) {
            uint8_t v = p->b[p->pos + j];
            if (v > 1) {
                if (count_field) snprintf(field, sizeof field, "kv[%llu].value[%llu]", (unsigned long long)i,
                                          (unsigned long long)j);
                else snprintf(field, sizeof field, "kv[%llu].value", (unsigned long long)i);
                return hy_gguf_fail(p->g, HYPERION_MODEL_INVALID, field, p->pos + j, HY_GGUF_SUGGEST_DAMAGED,
                                    "boolean value %u is neither 0 nor 1", v);
            }
        }
    }
    p->pos += bytes;
    return HYPERION_OK;
}

static void warn_if_not_utf8(parser *p, const char *field, uint64_t start, uint64_t text_pos, uint64_t len) {
    uint64_t bad;
    if (!hy_gguf_utf8_valid(p->b + text_pos, len, &bad))
        hy_gguf_add_warning(p->g, field, start, "string is not valid UTF-8 or holds a NUL byte (file offset %llu)",
                            (unsigned long long)(text_pos + bad));
}

/* 1 when the key follows the GGUF convention: dot-separated lower_snake_case. */
static int key_is_conventional(const uint8_t *k, uint64_t n) {
    int segment = 0;
    for (uint64_t j = 0; j < n; j++) {
        uint8_t c = k[j];
        if (c == '.') {
            if (!segment) return 0;
            segment = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') {
            segment++;
        } else {
            return 0;
        }
    }
    return segment > 0;
}

/* general.alignment must be a u32 power of two. */
static hyperion_status check_alignment(parser *p, uint64_t i, const hy_gguf_kv *kv) {
    char field[64];
    if (kv->type != HY_GGUF_UINT32) {
        snprintf(field, sizeof field, "kv[%llu].type", (unsigned long long)i);
        return hy_gguf_fail(p->g, HYPERION_MODEL_INVALID, field, kv->value_offset - 4, HY_GGUF_SUGGEST_DAMAGED,
                            "%s has type %s; GGUF requires uint32", HY_GGUF_KEY_ALIGNMENT, hy_gguf_type_name(kv->type));
    }
    uint32_t a = le32(kv->value);
    if (a == 0 || (a & (a - 1)) != 0) {
        snprintf(field, sizeof field, "kv[%llu].value", (unsigned long long)i);
        return hy_gguf_fail(p->g, HYPERION_MODEL_INVALID, field, kv->value_offset, HY_GGUF_SUGGEST_DAMAGED,
                            "%s = %u is not a power of two", HY_GGUF_KEY_ALIGNMENT, a);
    }
    p->g->alignment = a;
    return HYPERION_OK;
}

static hyperion_status parse_kv(parser *p, uint64_t i) {
    hyperion_status s;
    char field[64];
    hy_gguf *g = p->g;
    if ((s = grow((void **)&g->kv, &p->kv_cap, i + 1, sizeof(hy_gguf_kv)))) return s;
    hy_gguf_kv *kv = &g->kv[i];
    memset(kv, 0, sizeof *kv);
    kv->offset = p->pos;
    g->n_kv = i + 1; /* counted at once, so close frees what a half-parsed pair holds */

    uint64_t key_len, key_pos;
    snprintf(field, sizeof field, "kv[%llu].key", (unsigned long long)i);
    if ((s = rd_str(p, field, &key_len, &key_pos))) return s;
    if ((s = check_name(p, field, kv->offset, key_pos, key_len, "key"))) return s;
    if (!key_is_conventional(p->b + key_pos, key_len))
        hy_gguf_add_warning(g, field, kv->offset, "key \"%.*s\" is not dot-separated lower_snake_case",
                            (int)(key_len > 80 ? 80 : key_len), (const char *)(p->b + key_pos));

    uint64_t type_pos = p->pos;
    snprintf(field, sizeof field, "kv[%llu].type", (unsigned long long)i);
    if ((s = rd_u32(p, field, &kv->type))) return s;
    if (kv->type >= HY_GGUF_TYPE_COUNT)
        return hy_gguf_fail(g, HYPERION_MODEL_INVALID, field, type_pos, HY_GGUF_SUGGEST_DAMAGED,
                            "unknown value type %u for key \"%.*s\" (0..12 exist)", kv->type,
                            (int)(key_len > 80 ? 80 : key_len), (const char *)(p->b + key_pos));
    kv->elem_type = kv->type;
    kv->count = 1;

    if (kv->type == HY_GGUF_ARRAY) {
        uint64_t etype_pos = p->pos;
        snprintf(field, sizeof field, "kv[%llu].array.type", (unsigned long long)i);
        if ((s = rd_u32(p, field, &kv->elem_type))) return s;
        /* The GGUF spec allows arrays of arrays, but no model uses them and
         * llama.cpp refuses them: a legal file this runtime cannot read. */
        if (kv->elem_type == HY_GGUF_ARRAY)
            return hy_gguf_fail(g, HYPERION_MODEL_UNSUPPORTED, field, etype_pos,
                                "models do not use nested arrays; re-export the metadata without them",
                                "nested arrays are not supported (key \"%.*s\")", (int)(key_len > 80 ? 80 : key_len),
                                (const char *)(p->b + key_pos));
        if (kv->elem_type >= HY_GGUF_TYPE_COUNT)
            return hy_gguf_fail(g, HYPERION_MODEL_INVALID, field, etype_pos, HY_GGUF_SUGGEST_DAMAGED,
                                "unknown array element type %u (0..12 exist)", kv->elem_type);
        uint64_t count_pos = p->pos;
        char count_field[64];
        snprintf(count_field, sizeof count_field, "kv[%llu].array.count", (unsigned long long)i);
        if ((s = rd_u64(p, count_field, &kv->count))) return s;
        kv->value_offset = p->pos;
        kv->value = p->b + p->pos;
        if (kv->elem_type != HY_GGUF_STRING) {
            if ((s = parse_fixed(p, i, kv->elem_type, kv->count, count_field, count_pos))) return s;
        } else {
            /* every element has at least its 8-byte length */
            if (kv->count > (p->size - p->pos) / 8)
                return hy_gguf_fail(g, HYPERION_MODEL_INVALID, count_field, count_pos, HY_GGUF_SUGGEST_DAMAGED,
                                    "an array of %llu strings does not fit in the %llu bytes left",
                                    (unsigned long long)kv->count, (unsigned long long)(p->size - p->pos));
            uint64_t *offsets = NULL;
            if (kv->count) {
                offsets = hyperionAlloc((size_t)(kv->count * sizeof(uint64_t)), HYPERION_TAG_MODEL);
                if (!offsets) return hyperionGetLastError()->code;
            }
            kv->str_offsets = offsets;
            int warned = 0;
            for (uint64_t j = 0; j < kv->count; j++) {
                uint64_t len, text_pos;
                offsets[j] = p->pos;
                snprintf(field, sizeof field, "kv[%llu].value[%llu]", (unsigned long long)i, (unsigned long long)j);
                if ((s = rd_str(p, field, &len, &text_pos))) return s;
                if (!warned && !hy_gguf_utf8_valid(p->b + text_pos, len, NULL)) {
                    warn_if_not_utf8(p, field, offsets[j], text_pos, len);
                    warned = 1;
                }
            }
        }
        kv->value_len = p->pos - kv->value_offset;
    } else if (kv->type == HY_GGUF_STRING) {
        uint64_t start = p->pos, len, text_pos;
        snprintf(field, sizeof field, "kv[%llu].value", (unsigned long long)i);
        if ((s = rd_str(p, field, &len, &text_pos))) return s;
        kv->value_offset = start;
        kv->value = p->b + text_pos;
        kv->value_len = len;
        warn_if_not_utf8(p, field, start, text_pos, len);
    } else {
        kv->value_offset = p->pos;
        kv->value = p->b + p->pos;
        kv->value_len = hy_gguf_type_size(kv->type);
        if ((s = parse_fixed(p, i, kv->type, 1, NULL, 0))) return s;
    }

    if (key_len == strlen(HY_GGUF_KEY_ALIGNMENT) && !memcmp(p->b + key_pos, HY_GGUF_KEY_ALIGNMENT, key_len))
        return check_alignment(p, i, kv);
    return HYPERION_OK;
}

/* ----------------------------------------------------------- tensor infos */

static hyperion_status parse_tensor_info(parser *p, uint64_t i) {
    hyperion_status s;
    char field[64];
    hy_gguf *g = p->g;
    uint64_t cap = p->tensor_cap;
    if ((s = grow((void **)&g->tensors, &cap, i + 1, sizeof(hy_tensor)))) return s;
    cap = p->tensor_cap;
    if ((s = grow((void **)&g->tinfo, &cap, i + 1, sizeof(hy_gguf_tinfo)))) return s;
    p->tensor_cap = cap;
    hy_tensor *t = &g->tensors[i];
    hy_gguf_tinfo *ti = &g->tinfo[i];
    memset(t, 0, sizeof *t);
    memset(ti, 0, sizeof *ti);
    ti->info_offset = p->pos;

    uint64_t name_pos;
    snprintf(field, sizeof field, "tensor_infos[%llu].name", (unsigned long long)i);
    if ((s = rd_str(p, field, &ti->name_len, &name_pos))) return s;
    if ((s = check_name(p, field, ti->info_offset, name_pos, ti->name_len, "tensor name"))) return s;
    if (ti->name_len > 63)
        hy_gguf_add_warning(g, field, ti->info_offset, "tensor name is %llu bytes; llama.cpp accepts at most 63",
                            (unsigned long long)ti->name_len);
    const int name_show = (int)(ti->name_len > 80 ? 80 : ti->name_len);
    const char *name = (const char *)(p->b + name_pos);

    uint64_t ndims_pos = p->pos;
    snprintf(field, sizeof field, "tensor_infos[%llu].n_dims", (unsigned long long)i);
    if ((s = rd_u32(p, field, &t->n_dims))) return s;
    if (t->n_dims < 1 || t->n_dims > HY_TENSOR_MAX_DIMS)
        return hy_gguf_fail(g, HYPERION_MODEL_INVALID, field, ndims_pos, HY_GGUF_SUGGEST_DAMAGED,
                            "tensor \"%.*s\" has %u dimensions; 1 to %d are allowed", name_show, name, t->n_dims,
                            HY_TENSOR_MAX_DIMS);

    uint64_t elements = 1;
    for (uint32_t d = 0; d < HY_TENSOR_MAX_DIMS; d++) t->ne[d] = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) {
        uint64_t dim_pos = p->pos;
        snprintf(field, sizeof field, "tensor_infos[%llu].ne[%u]", (unsigned long long)i, d);
        if ((s = rd_u64(p, field, &t->ne[d]))) return s;
        if (t->ne[d] == 0 || t->ne[d] > (uint64_t)INT64_MAX)
            return hy_gguf_fail(g, HYPERION_MODEL_INVALID, field, dim_pos, HY_GGUF_SUGGEST_DAMAGED,
                                "tensor \"%.*s\" has dimension %u = %llu; dimensions must be 1 to 2^63-1",
                                name_show, name, d, (unsigned long long)t->ne[d]);
        if (__builtin_mul_overflow(elements, t->ne[d], &elements) || elements > (uint64_t)INT64_MAX)
            return hy_gguf_fail(g, HYPERION_MODEL_INVALID, field, dim_pos, HY_GGUF_SUGGEST_DAMAGED,
                                "tensor \"%.*s\": the element count overflows at dimension %u (= %llu)", name_show,
                                name, d, (unsigned long long)t->ne[d]);
    }

    uint64_t type_pos = p->pos;
    snprintf(field, sizeof field, "tensor_infos[%llu].type", (unsigned long long)i);
    if ((s = rd_u32(p, field, &t->type))) return s;
    const hy_type_info *info = hy_type_get(t->type);
    if (!info)
        return hy_gguf_fail(g, HYPERION_MODEL_INVALID, field, type_pos, HY_GGUF_SUGGEST_DAMAGED,
                            "tensor \"%.*s\" has type id %u, which is not a ggml tensor type", name_show, name,
                            t->type);
    if (!info->supported && p->first_unsupported < 0) p->first_unsupported = (int64_t)i;
    if (t->ne[0] % info->block_size != 0) {
        snprintf(field, sizeof field, "tensor_infos[%llu].ne[0]", (unsigned long long)i);
        return hy_gguf_fail(g, HYPERION_MODEL_INVALID, field, ndims_pos + 4, HY_GGUF_SUGGEST_DAMAGED,
                            "tensor \"%.*s\": ne[0] = %llu is not a multiple of the %s block size %u", name_show,
                            name, (unsigned long long)t->ne[0], info->name, info->block_size);
    }
    /* ne[0] < 2^63 times a type size of up to a few hundred bytes can overflow: check both products */
    uint64_t rows = t->ne[1] * t->ne[2] * t->ne[3]; /* <= elements: no overflow */
    if (__builtin_mul_overflow(t->ne[0] / info->block_size, (uint64_t)info->type_size, &t->row_bytes) ||
        __builtin_mul_overflow(t->row_bytes, rows, &t->n_bytes)) {
        snprintf(field, sizeof field, "tensor_infos[%llu].ne[%u]", (unsigned long long)i, t->n_dims - 1);
        return hy_gguf_fail(g, HYPERION_MODEL_INVALID, field, ndims_pos + 4 + 8ull * (t->n_dims - 1),
                            HY_GGUF_SUGGEST_DAMAGED,
                            "tensor \"%.*s\": its byte size overflows 64 bits", name_show, name);
    }

    ti->offset_pos = p->pos;
    snprintf(field, sizeof field, "tensor_infos[%llu].offset", (unsigned long long)i);
    if ((s = rd_u64(p, field, &ti->rel_offset))) return s;
    g->n_tensors = i + 1;
    return HYPERION_OK;
}

/* ---------------------------------------------------------------- names */

/* NUL-terminated copies of the keys and tensor names in one block. */
static hyperion_status build_names(hy_gguf *g) {
    uint64_t total = 1;
    for (uint64_t i = 0; i < g->n_kv; i++) total += le64(g->base + g->kv[i].offset) + 1;
    for (uint64_t i = 0; i < g->n_tensors; i++) total += g->tinfo[i].name_len + 1;
    g->names = hyperionAlloc((size_t)total, HYPERION_TAG_MODEL);
    if (!g->names) return hyperionGetLastError()->code;
    char *w = g->names;
    for (uint64_t i = 0; i < g->n_kv; i++) {
        uint64_t n = le64(g->base + g->kv[i].offset);
        memcpy(w, g->base + g->kv[i].offset + 8, (size_t)n);
        w[n] = '\0';
        g->kv[i].key = w;
        w += n + 1;
    }
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        uint64_t n = g->tinfo[i].name_len;
        memcpy(w, g->base + g->tinfo[i].info_offset + 8, (size_t)n);
        w[n] = '\0';
        g->tensors[i].name = w;
        w += n + 1;
    }
    *w = '\0';
    return HYPERION_OK;
}

void hy_gguf_supported_type_names(char *buf, size_t size) {
    size_t o = 0;
    buf[0] = '\0';
    for (uint32_t id = 0; id < HY_TYPE_ID_LIMIT; id++) {
        const hy_type_info *t = hy_type_get(id);
        if (!t || !t->supported) continue;
        int n = snprintf(buf + o, size - o, "%s%s", o ? ", " : "", t->name);
        if (n < 0 || (size_t)n >= size - o) break;
        o += (size_t)n;
    }
}

/* ------------------------------------------------------------------ parse */

hyperion_status hy_gguf_parse(hy_gguf *g, uint32_t flags) {
    parser p = { .g = g, .b = g->base, .size = g->size, .first_unsupported = -1 };
    hyperion_status s;
    uint64_t n_tensors = 0, n_kv = 0;
    g->alignment = HY_GGUF_DEFAULT_ALIGNMENT;
    if ((s = parse_header(&p, &n_tensors, &n_kv))) return s;
    for (uint64_t i = 0; i < n_kv; i++)
        if ((s = parse_kv(&p, i))) return s;
    if ((s = hy_gguf_index_keys(g))) return s;
    for (uint64_t i = 0; i < n_tensors; i++)
        if ((s = parse_tensor_info(&p, i))) return s;
    if ((s = hy_gguf_index_tensors(g))) return s;
    if ((s = build_names(g))) return s;
    if ((s = hy_gguf_check_layout(g, p.pos))) return s;

    if (!hy_gguf_find(g, "general.architecture"))
        hy_gguf_add_warning(g, "kv", 24, "no general.architecture key");
    /* the spec requires the quantization version in files with quantized tensors */
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        if (hy_type_get(g->tensors[i].type)->block_size == 1) continue;
        if (!hy_gguf_find(g, "general.quantization_version"))
            hy_gguf_add_warning(g, "kv", 24, "quantized tensors but no general.quantization_version key");
        break;
    }
    if (p.first_unsupported >= 0 && !(flags & HY_GGUF_ALLOW_UNSUPPORTED_TYPES)) {
        const hy_tensor *t = &g->tensors[p.first_unsupported];
        char field[64], types[160], suggestion[256];
        snprintf(field, sizeof field, "tensor_infos[%lld].type", (long long)p.first_unsupported);
        hy_gguf_supported_type_names(types, sizeof types);
        snprintf(suggestion, sizeof suggestion, "use a file quantized to a supported type (%s)", types);
        uint64_t type_pos = g->tinfo[p.first_unsupported].offset_pos - 4;
        return hy_gguf_fail(g, HYPERION_MODEL_UNSUPPORTED, field, type_pos, suggestion,
                            "tensor \"%s\" has type %s, which this runtime does not support", t->name,
                            hy_type_get(t->type)->name);
    }
    return HYPERION_OK;
}
