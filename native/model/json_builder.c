/* json_builder.c — see json_builder.h. */
#include "model/json_builder.h"

#include "core/internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hy_json_init(hy_json *j, hyperion_mem_tag tag) {
    memset(j, 0, sizeof *j);
    j->tag = tag;
}

static int reserve(hy_json *j, size_t extra) {
    if (j->status) return 0;
    if (extra > SIZE_MAX / 2 - j->len) {
        j->status = HY_RAISE(HYPERION_OUT_OF_MEMORY, NULL, "JSON document too large");
        return 0;
    }
    size_t need = j->len + extra + 1;
    if (need <= j->cap) return 1;
    size_t cap = j->cap ? j->cap : 256;
    while (cap < need) cap *= 2;
    char *b = hyperionRealloc(j->buf, cap, j->tag);
    if (!b) {
        j->status = hyperionGetLastError()->code;
        return 0;
    }
    j->buf = b;
    j->cap = cap;
    return 1;
}

static void raw(hy_json *j, const char *text, size_t n) {
    if (!reserve(j, n)) return;
    memcpy(j->buf + j->len, text, n);
    j->len += n;
    j->buf[j->len] = '\0';
}

static void misuse(hy_json *j, const char *what) {
    if (!j->status) j->status = HY_RAISE(HYPERION_INTERNAL, "this is a bug in the runtime", "JSON builder: %s", what);
}

/* Before any value: the comma, and the rule that object members need keys. */
static void before_value(hy_json *j) {
    if (j->depth > 0 && j->in_object[j->depth - 1]) {
        if (!j->after_key) misuse(j, "a value inside an object needs a key");
        j->after_key = 0;
        return;
    }
    if (j->depth > 0 && j->has_items[j->depth - 1]) raw(j, ",", 1);
    if (j->depth > 0) j->has_items[j->depth - 1] = 1;
}

static void escaped(hy_json *j, const char *text, size_t len) {
    /* one input byte becomes at most 6 output bytes ("\u00XX") */
    if (len > (SIZE_MAX / 2) / 6) {
        misuse(j, "string too long");
        return;
    }
    if (!reserve(j, len * 6 + 2)) return;
    j->buf[j->len++] = '"';
    j->len += hy_json_escape(text, len, j->buf + j->len, j->cap - j->len);
    j->buf[j->len++] = '"';
    j->buf[j->len] = '\0';
}

static void open_scope(hy_json *j, int object) {
    before_value(j);
    if (j->depth >= HY_JSON_MAX_DEPTH) {
        misuse(j, "nesting too deep");
        return;
    }
    raw(j, object ? "{" : "[", 1);
    j->in_object[j->depth] = (uint8_t)object;
    j->has_items[j->depth] = 0;
    j->depth++;
}

static void close_scope(hy_json *j, int object) {
    if (j->depth == 0 || j->in_object[j->depth - 1] != object || j->after_key) {
        misuse(j, "unbalanced close");
        return;
    }
    j->depth--;
    raw(j, object ? "}" : "]", 1);
}

void hy_json_object_begin(hy_json *j) { open_scope(j, 1); }
void hy_json_object_end(hy_json *j) { close_scope(j, 1); }
void hy_json_array_begin(hy_json *j) { open_scope(j, 0); }
void hy_json_array_end(hy_json *j) { close_scope(j, 0); }

void hy_json_key(hy_json *j, const char *key) {
    if (j->depth == 0 || !j->in_object[j->depth - 1] || j->after_key || !key) {
        misuse(j, "a key outside an object, twice in a row, or NULL");
        return;
    }
    if (j->has_items[j->depth - 1]) raw(j, ",", 1);
    j->has_items[j->depth - 1] = 1;
    escaped(j, key, strlen(key));
    raw(j, ":", 1);
    j->after_key = 1;
}

void hy_json_string_n(hy_json *j, const char *text, size_t len) {
    before_value(j);
    if (!text) raw(j, "null", 4);
    else escaped(j, text, len);
}

void hy_json_string(hy_json *j, const char *text) {
    hy_json_string_n(j, text, text ? strlen(text) : 0);
}

void hy_json_u64(hy_json *j, uint64_t v) {
    char b[24];
    before_value(j);
    raw(j, b, (size_t)snprintf(b, sizeof b, "%" PRIu64, v));
}

void hy_json_i64(hy_json *j, int64_t v) {
    char b[24];
    before_value(j);
    raw(j, b, (size_t)snprintf(b, sizeof b, "%" PRId64, v));
}

/* The shortest %g text (from `from` to 17 digits) that reads back exactly. */
static void number(hy_json *j, double v, int is_float, int from) {
    before_value(j);
    if (!isfinite(v)) {
        raw(j, "null", 4);
        return;
    }
    char b[40];
    int n = 0;
    for (int digits = from; digits <= 17; digits++) {
        n = snprintf(b, sizeof b, "%.*g", digits, v);
        double back = strtod(b, NULL);
        if (is_float ? (float)back == (float)v : back == v) break;
    }
    raw(j, b, (size_t)n);
}

void hy_json_f32(hy_json *j, float v) { number(j, v, 1, 6); }
void hy_json_f64(hy_json *j, double v) { number(j, v, 0, 15); }

void hy_json_bool(hy_json *j, int v) {
    before_value(j);
    raw(j, v ? "true" : "false", v ? 4 : 5);
}

void hy_json_null(hy_json *j) {
    before_value(j);
    raw(j, "null", 4);
}

void hy_json_raw_value(hy_json *j, const char *json, size_t len) {
    before_value(j);
    raw(j, json, len);
}

void hy_json_kv_string(hy_json *j, const char *key, const char *text) { hy_json_key(j, key); hy_json_string(j, text); }
void hy_json_kv_u64(hy_json *j, const char *key, uint64_t v) { hy_json_key(j, key); hy_json_u64(j, v); }
void hy_json_kv_i64(hy_json *j, const char *key, int64_t v) { hy_json_key(j, key); hy_json_i64(j, v); }
void hy_json_kv_f32(hy_json *j, const char *key, float v) { hy_json_key(j, key); hy_json_f32(j, v); }
void hy_json_kv_f64(hy_json *j, const char *key, double v) { hy_json_key(j, key); hy_json_f64(j, v); }
void hy_json_kv_bool(hy_json *j, const char *key, int v) { hy_json_key(j, key); hy_json_bool(j, v); }

hyperion_status hy_json_finish(hy_json *j, char **out, size_t *len) {
    if (!j->status && (j->depth != 0 || j->after_key || !j->buf)) misuse(j, "document incomplete");
    if (j->status) {
        hyperion_status s = j->status;
        hy_json_discard(j);
        return s;
    }
    *out = j->buf;
    if (len) *len = j->len;
    j->buf = NULL;
    j->len = j->cap = 0;
    return HYPERION_OK;
}

void hy_json_discard(hy_json *j) {
    hyperionFree(j->buf);
    j->buf = NULL;
    j->len = j->cap = 0;
}
