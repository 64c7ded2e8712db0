/*
 * jsonw.c — a small JSON text builder for the profiler's reports.
 *
 * Two modes: memory (the text grows in pool memory and is handed over) and file
 * (a 64 KiB pool buffer flushed to a descriptor), so a trace of millions of
 * zones never needs to sit in memory as one string. Commas are placed by the
 * structure helpers. Errors are sticky: after the first failure every call is a
 * no-op and the caller checks `failed` once at the end.
 */
#include "profiler/profiler_internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define FILE_CHUNK (64u * 1024u)

static void init_common(hy_jw *w) {
    memset(w, 0, sizeof *w);
    w->fd = -1;
}

void hy_jw_init_memory(hy_jw *w) {
    init_common(w);
}

void hy_jw_init_fd(hy_jw *w, int fd) {
    init_common(w);
    w->fd = fd;
    w->buf = hyperionAlloc(FILE_CHUNK, HY_PROF_TAG);
    w->cap = FILE_CHUNK;
    if (!w->buf) {
        w->failed = 1;
        w->errno_saved = ENOMEM;
        w->cap = 0;
    }
}

void hy_jw_flush(hy_jw *w) {
    if (w->fd < 0 || w->failed) return;
    size_t off = 0;
    while (off < w->len) {
        ssize_t n = write(w->fd, w->buf + off, w->len - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            w->failed = 1;
            w->errno_saved = errno;
            return;
        }
        off += (size_t)n;
    }
    w->len = 0;
}

/* Room for n more bytes plus a NUL. */
static int reserve(hy_jw *w, size_t n) {
    if (w->failed) return 0;
    if (w->len + n + 1 <= w->cap) return 1;
    if (w->fd >= 0) {
        hy_jw_flush(w);
        if (w->failed) return 0;
        if (n + 1 <= w->cap) return 1;
    }
    size_t cap = w->cap ? w->cap : 4096;
    while (cap < w->len + n + 1) {
        if (cap > SIZE_MAX / 2) {
            w->failed = 1;
            w->errno_saved = ENOMEM;
            return 0;
        }
        cap *= 2;
    }
    char *grown = hyperionRealloc(w->buf, cap, HY_PROF_TAG);
    if (!grown) {
        w->failed = 1;
        w->errno_saved = ENOMEM;
        return 0;
    }
    w->buf = grown;
    w->cap = cap;
    return 1;
}

void hy_jw_raw(hy_jw *w, const char *text, size_t n) {
    if (!reserve(w, n)) return;
    memcpy(w->buf + w->len, text, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

void hy_jw_text(hy_jw *w, const char *text) {
    hy_jw_raw(w, text, strlen(text));
}

void hy_jw_printf(hy_jw *w, const char *fmt, ...) {
    char local[512];
    va_list args;
    va_start(args, fmt);
    int n = vsnprintf(local, sizeof local, fmt, args);
    va_end(args);
    if (n < 0) return;
    if ((size_t)n < sizeof local) {
        hy_jw_raw(w, local, (size_t)n);
        return;
    }
    if (!reserve(w, (size_t)n)) return;
    va_start(args, fmt);
    vsnprintf(w->buf + w->len, (size_t)n + 1, fmt, args);
    va_end(args);
    w->len += (size_t)n;
}

void hy_jw_string(hy_jw *w, const char *text) {
    if (!text) {
        hy_jw_raw(w, "null", 4);
        return;
    }
    /* names are short; longer texts are cut (hy_json_escape never splits an escape) */
    char escaped[6 * HY_PROF_NAME_MAX + 8];
    size_t n = hy_json_escape(text, strnlen(text, 4 * HY_PROF_NAME_MAX), escaped, sizeof escaped);
    hy_jw_raw(w, "\"", 1);
    hy_jw_raw(w, escaped, n);
    hy_jw_raw(w, "\"", 1);
}

/* ------------------------------------------------------------ structure */

static void before_value(hy_jw *w) {
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->depth > 0 && w->depth < (int)sizeof w->has_item) {
        if (w->has_item[w->depth]) hy_jw_raw(w, ",", 1);
        w->has_item[w->depth] = 1;
    }
}

static void open_level(hy_jw *w, char c) {
    before_value(w);
    hy_jw_raw(w, &c, 1);
    w->depth++;
    if (w->depth < (int)sizeof w->has_item) w->has_item[w->depth] = 0;
}

static void close_level(hy_jw *w, char c) {
    hy_jw_raw(w, &c, 1);
    if (w->depth > 0) w->depth--;
}

void hy_jw_begin_object(hy_jw *w) { open_level(w, '{'); }
void hy_jw_end_object(hy_jw *w) { close_level(w, '}'); }
void hy_jw_begin_array(hy_jw *w) { open_level(w, '['); }
void hy_jw_end_array(hy_jw *w) { close_level(w, ']'); }

void hy_jw_key(hy_jw *w, const char *key) {
    before_value(w);
    hy_jw_string(w, key);
    hy_jw_raw(w, ":", 1);
    w->after_key = 1;
}

void hy_jw_kv_string(hy_jw *w, const char *key, const char *value) {
    hy_jw_key(w, key);
    before_value(w);
    hy_jw_string(w, value);
}

void hy_jw_value_string(hy_jw *w, const char *text) {
    before_value(w);
    hy_jw_string(w, text);
}

void hy_jw_kv_null(hy_jw *w, const char *key) {
    hy_jw_key(w, key);
    before_value(w);
    hy_jw_raw(w, "null", 4);
}

void hy_jw_value_u64(hy_jw *w, uint64_t value) {
    before_value(w);
    hy_jw_printf(w, "%llu", (unsigned long long)value);
}

void hy_jw_kv_u64(hy_jw *w, const char *key, uint64_t value) {
    hy_jw_key(w, key);
    hy_jw_value_u64(w, value);
}

void hy_jw_kv_i64(hy_jw *w, const char *key, int64_t value) {
    hy_jw_key(w, key);
    before_value(w);
    hy_jw_printf(w, "%lld", (long long)value);
}

void hy_jw_kv_double(hy_jw *w, const char *key, double value) {
    hy_jw_key(w, key);
    before_value(w);
    if (!isfinite(value)) hy_jw_raw(w, "null", 4);
    else hy_jw_printf(w, "%.9g", value);
}

void hy_jw_kv_bool(hy_jw *w, const char *key, int value) {
    hy_jw_key(w, key);
    before_value(w);
    hy_jw_text(w, value ? "true" : "false");
}

void hy_jw_kv_ms(hy_jw *w, const char *key, uint64_t ns) {
    hy_jw_key(w, key);
    before_value(w);
    hy_jw_printf(w, "%llu.%06llu", (unsigned long long)(ns / 1000000ull), (unsigned long long)(ns % 1000000ull));
}

char *hy_jw_take(hy_jw *w) {
    if (w->failed) {
        hy_jw_release(w);
        return NULL;
    }
    if (!w->buf && !reserve(w, 0)) return NULL;
    char *text = w->buf;
    text[w->len] = '\0';
    w->buf = NULL;
    w->len = w->cap = 0;
    return text;
}

void hy_jw_release(hy_jw *w) {
    hyperionFree(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
}
