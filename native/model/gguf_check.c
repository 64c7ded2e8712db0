/*
 * gguf_check.c — the reader's checking helpers: error and warning records,
 * UTF-8 validation, the key and tensor-name tables (which also find
 * duplicates), and the tensor data layout (alignment, bounds, overlap).
 */
#include "model/gguf_internal.h"

#include "core/internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --------------------------------------------------------- error records */

static const char *base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

hyperion_status hy_gguf_fail(const hy_gguf *g, hyperion_status code, const char *field, uint64_t offset,
                             const char *suggestion, const char *format, ...) {
    char text[400];
    va_list args;
    va_start(args, format);
    vsnprintf(text, sizeof text, format, args);
    va_end(args);
    const char *path = g && g->path ? g->path : "(gguf)";
    return HY_RAISE_WITH(code, suggestion,
                         ((hy_field[]){ HY_TXT("field", field), HY_NUM("offset", (double)offset),
                                        HY_TXT("path", path) }),
                         "%s: %s at byte %llu: %s", base_name(path), field, (unsigned long long)offset, text);
}

void hy_gguf_add_warning(hy_gguf *g, const char *field, uint64_t offset, const char *format, ...) {
    if (g->n_warnings >= HY_GGUF_MAX_WARNINGS) {
        g->warnings_dropped++;
        return;
    }
    if (!g->warnings) {
        g->warnings = hyperionCalloc(HY_GGUF_MAX_WARNINGS, sizeof(hy_gguf_note), HYPERION_TAG_MODEL);
        if (!g->warnings) {
            hyperionClearLastError(); /* a lost warning must not look like a failure */
            g->warnings_dropped++;
            return;
        }
    }
    hy_gguf_note *n = &g->warnings[g->n_warnings++];
    snprintf(n->field, sizeof n->field, "%s", field);
    n->offset = offset;
    va_list args;
    va_start(args, format);
    vsnprintf(n->message, sizeof n->message, format, args);
    va_end(args);
}

/* ------------------------------------------------------------------ UTF-8 */

int hy_gguf_utf8_valid(const uint8_t *s, uint64_t n, uint64_t *bad) {
    uint64_t i = 0;
    while (i < n) {
        /* a NUL inside a GGUF string is refused too: C consumers would cut there */
        size_t len = s[i] == 0 ? 0 : hy_utf8_sequence_length(s + i, (size_t)(n - i < 4 ? n - i : 4));
        if (len == 0) {
            if (bad) *bad = i;
            return 0;
        }
        i += len;
    }
    return 1;
}

/* ------------------------------------------------------------ name tables */

uint64_t hy_gguf_hash(const void *data, size_t len) {
    const uint8_t *p = data;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static const uint8_t *kv_text(const hy_gguf *g, uint64_t i, uint64_t *len) {
    const uint8_t *p = g->base + g->kv[i].offset;
    uint64_t n = 0;
    for (int b = 7; b >= 0; b--) n = (n << 8) | p[b];
    *len = n;
    return p + 8;
}

static const uint8_t *tensor_text(const hy_gguf *g, uint64_t i, uint64_t *len) {
    *len = g->tinfo[i].name_len;
    return g->base + g->tinfo[i].info_offset + 8;
}

typedef const uint8_t *(*text_fn)(const hy_gguf *g, uint64_t i, uint64_t *len);

static int64_t lookup(const hy_gguf *g, const uint32_t *table, uint64_t cap, text_fn text, const char *name,
                      size_t len) {
    if (!table) return -1;
    uint64_t mask = cap - 1;
    for (uint64_t slot = hy_gguf_hash(name, len) & mask;; slot = (slot + 1) & mask) {
        uint32_t e = table[slot];
        if (!e) return -1;
        uint64_t n;
        const uint8_t *t = text(g, e - 1, &n);
        if (n == len && memcmp(t, name, len) == 0) return (int64_t)(e - 1);
    }
}

int64_t hy_gguf_lookup_kv(const hy_gguf *g, const char *name, size_t len) {
    return lookup(g, g->kv_hash, g->kv_hash_cap, kv_text, name, len);
}

int64_t hy_gguf_lookup_tensor(const hy_gguf *g, const char *name, size_t len) {
    return lookup(g, g->tensor_hash, g->tensor_hash_cap, tensor_text, name, len);
}

/* Build a table over n names; on a duplicate *dup gets the later index. */
static hyperion_status build_table(const hy_gguf *g, uint64_t n, text_fn text, uint32_t **table, uint64_t *cap,
                                   int64_t *dup, int64_t *first) {
    *dup = -1;
    if (n == 0) return HYPERION_OK;
    uint64_t c = 16;
    while (c < 2 * n) c *= 2;
    uint32_t *t = hyperionCalloc((size_t)c, sizeof(uint32_t), HYPERION_TAG_MODEL);
    if (!t) return hyperionGetLastError()->code;
    *table = t;
    *cap = c;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t len;
        const uint8_t *name = text(g, i, &len);
        uint64_t slot = hy_gguf_hash(name, (size_t)len) & (c - 1);
        for (;; slot = (slot + 1) & (c - 1)) {
            uint32_t e = t[slot];
            if (!e) {
                t[slot] = (uint32_t)(i + 1);
                break;
            }
            uint64_t other_len;
            const uint8_t *other = text(g, e - 1, &other_len);
            if (other_len == len && memcmp(other, name, (size_t)len) == 0) {
                *dup = (int64_t)i;
                *first = (int64_t)(e - 1);
                return HYPERION_OK;
            }
        }
    }
    return HYPERION_OK;
}

hyperion_status hy_gguf_index_keys(hy_gguf *g) {
    int64_t dup, first;
    hyperion_status s = build_table(g, g->n_kv, kv_text, &g->kv_hash, &g->kv_hash_cap, &dup, &first);
    if (s || dup < 0) return s;
    char field[64];
    uint64_t len;
    const uint8_t *name = kv_text(g, (uint64_t)dup, &len);
    snprintf(field, sizeof field, "kv[%lld].key", (long long)dup);
    return hy_gguf_fail(g, HYPERION_MODEL_INVALID, field, g->kv[dup].offset, HY_GGUF_SUGGEST_DAMAGED,
                        "duplicate key \"%.*s\" (first defined by kv[%lld])", (int)(len > 80 ? 80 : len),
                        (const char *)name, (long long)first);
}

hyperion_status hy_gguf_index_tensors(hy_gguf *g) {
    int64_t dup, first;
    hyperion_status s = build_table(g, g->n_tensors, tensor_text, &g->tensor_hash, &g->tensor_hash_cap, &dup, &first);
    if (s || dup < 0) return s;
    char field[64];
    uint64_t len;
    const uint8_t *name = tensor_text(g, (uint64_t)dup, &len);
    snprintf(field, sizeof field, "tensor_infos[%lld].name", (long long)dup);
    return hy_gguf_fail(g, HYPERION_MODEL_INVALID, field, g->tinfo[dup].info_offset, HY_GGUF_SUGGEST_DAMAGED,
                        "duplicate tensor name \"%.*s\" (first used by tensor_infos[%lld])",
                        (int)(len > 80 ? 80 : len), (const char *)name, (long long)first);
}

/* ----------------------------------------------------------- data layout */

typedef struct span {
    uint64_t start, end, index;
} span;

static int span_cmp(const void *a, const void *b) {
    const span *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    return x->index < y->index ? -1 : (x->index > y->index);
}

static hyperion_status check_overlap(hy_gguf *g) {
    span *s = hyperionAlloc((size_t)(g->n_tensors * sizeof(span)), HYPERION_TAG_MODEL);
    if (!s) return hyperionGetLastError()->code;
    for (uint64_t i = 0; i < g->n_tensors; i++)
        s[i] = (span){ g->tensors[i].file_offset, g->tensors[i].file_offset + g->tensors[i].n_bytes, i };
    qsort(s, (size_t)g->n_tensors, sizeof(span), span_cmp);
    uint64_t owner = 0; /* the span reaching furthest so far */
    for (uint64_t k = 1; k < g->n_tensors; k++) {
        if (s[k].start < s[owner].end) {
            /* name the later of the two in file order */
            uint64_t a = s[k].index > s[owner].index ? s[k].index : s[owner].index;
            uint64_t b = a == s[k].index ? s[owner].index : s[k].index;
            hyperionFree(s);
            char field[64];
            snprintf(field, sizeof field, "tensor_infos[%llu].offset", (unsigned long long)a);
            return hy_gguf_fail(g, HYPERION_MODEL_INVALID, field, g->tinfo[a].offset_pos, HY_GGUF_SUGGEST_DAMAGED,
                                "tensor \"%s\" (bytes %llu..%llu) overlaps tensor \"%s\" (bytes %llu..%llu)",
                                g->tensors[a].name, (unsigned long long)g->tensors[a].file_offset,
                                (unsigned long long)(g->tensors[a].file_offset + g->tensors[a].n_bytes),
                                g->tensors[b].name, (unsigned long long)g->tensors[b].file_offset,
                                (unsigned long long)(g->tensors[b].file_offset + g->tensors[b].n_bytes));
        }
        if (s[k].end > s[owner].end) owner = k;
    }
    hyperionFree(s);
    return HYPERION_OK;
}

hyperion_status hy_gguf_check_layout(hy_gguf *g, uint64_t end_of_infos) {
    uint64_t a = g->alignment;
    /* end_of_infos <= size < 2^63 and a < 2^32: the rounding cannot overflow */
    g->data_offset = (end_of_infos + a - 1) / a * a;
    uint64_t expected = 0, max_end = g->data_offset;
    int packed = 1;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        hy_tensor *t = &g->tensors[i];
        const hy_gguf_tinfo *ti = &g->tinfo[i];
        char field[64];
        snprintf(field, sizeof field, "tensor_infos[%llu].offset", (unsigned long long)i);
        if (ti->rel_offset % a != 0)
            return hy_gguf_fail(g, HYPERION_MODEL_INVALID, field, ti->offset_pos, HY_GGUF_SUGGEST_DAMAGED,
                                "tensor \"%s\": offset %llu is not a multiple of the alignment %llu", t->name,
                                (unsigned long long)ti->rel_offset, (unsigned long long)a);
        uint64_t start, end;
        if (g->data_offset > g->size)
            return hy_gguf_fail(g, HYPERION_MODEL_INVALID, field, ti->offset_pos, HY_GGUF_SUGGEST_DAMAGED,
                                "the tensor data section would start at byte %llu but the file ends at byte %llu "
                                "(truncated?)", (unsigned long long)g->data_offset, (unsigned long long)g->size);
        if (__builtin_add_overflow(g->data_offset, ti->rel_offset, &start) ||
            __builtin_add_overflow(start, t->n_bytes, &end) || end > g->size)
            return hy_gguf_fail(g, HYPERION_MODEL_INVALID, field, ti->offset_pos, HY_GGUF_SUGGEST_DAMAGED,
                                "tensor \"%s\": its %llu bytes at data offset %llu end past the end of the file "
                                "(%llu bytes; data section starts at %llu)", t->name,
                                (unsigned long long)t->n_bytes, (unsigned long long)ti->rel_offset,
                                (unsigned long long)g->size, (unsigned long long)g->data_offset);
        t->file_offset = start;
        t->data = g->base + start;
        if (ti->rel_offset != expected) packed = 0;
        expected = (ti->rel_offset + t->n_bytes + a - 1) / a * a;
        if (end > max_end) max_end = end;
    }
    hyperion_status s = g->n_tensors > 1 ? check_overlap(g) : HYPERION_OK;
    if (s) return s;
    if (!packed)
        hy_gguf_add_warning(g, "tensor_infos", g->n_tensors ? g->tinfo[0].info_offset : 0,
                            "tensor data is not stored in tensor order with only alignment padding between "
                            "tensors; llama.cpp refuses such files");
    if (g->n_tensors && g->size - max_end >= a)
        hy_gguf_add_warning(g, "tensor_data", max_end, "%llu bytes follow the last tensor's data",
                            (unsigned long long)(g->size - max_end));
    return HYPERION_OK;
}
