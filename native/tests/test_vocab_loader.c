/*
 * test_vocab_loader.c — TEST-ONLY minimal GGUF v3 metadata reader for the
 * tokenizer tests (see test_vocab_loader.h). It reads the key/value section
 * only, with a bounds check on every read, and keeps the tokenizer.ggml.* keys.
 * To be replaced by the real GGUF reader (native/model/) when it lands.
 */
#include "test_vocab_loader.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { T_U8, T_I8, T_U16, T_I16, T_U32, T_I32, T_F32, T_BOOL, T_STRING, T_ARRAY, T_U64, T_I64, T_F64 };

typedef struct reader {
    const unsigned char *p;
    size_t size, at;
    char *err;
    size_t err_size;
    int failed;
} reader;

static void fail(reader *r, const char *fmt, ...) {
    if (r->failed) return;
    r->failed = 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, r->err_size, fmt, ap);
    va_end(ap);
}

static int take(reader *r, void *dst, size_t n) {
    if (r->failed) return 0;
    if (n > r->size - r->at) {
        fail(r, "truncated at offset %zu (need %zu bytes)", r->at, n);
        return 0;
    }
    if (dst) memcpy(dst, r->p + r->at, n);
    r->at += n;
    return 1;
}

static uint32_t u32(reader *r) { uint32_t v = 0; take(r, &v, 4); return v; }
static uint64_t u64(reader *r) { uint64_t v = 0; take(r, &v, 8); return v; }

static hy_tokenizer_text str(reader *r) {
    hy_tokenizer_text s = { NULL, 0 };
    uint64_t n = u64(r);
    if (r->failed) return s;
    if (n > r->size - r->at) {
        fail(r, "string of %llu bytes at offset %zu runs past the end", (unsigned long long)n, r->at);
        return s;
    }
    s.ptr = (const char *)r->p + r->at;
    s.len = (size_t)n;
    r->at += (size_t)n;
    return s;
}

static size_t scalar_size(uint32_t type) {
    switch (type) {
    case T_U8: case T_I8: case T_BOOL: return 1;
    case T_U16: case T_I16: return 2;
    case T_U32: case T_I32: case T_F32: return 4;
    case T_U64: case T_I64: case T_F64: return 8;
    default: return 0;
    }
}

/* Read an integer-ish scalar of any width as int64. */
static int64_t int_value(reader *r, uint32_t type) {
    unsigned char b[8] = { 0 };
    size_t n = scalar_size(type);
    if (!n || type == T_F32 || type == T_F64) { fail(r, "expected an integer, got type %u", type); return 0; }
    take(r, b, n);
    switch (type) {
    case T_U8: case T_BOOL: return b[0];
    case T_I8: return (int8_t)b[0];
    case T_U16: { uint16_t v; memcpy(&v, b, 2); return v; }
    case T_I16: { int16_t v; memcpy(&v, b, 2); return v; }
    case T_U32: { uint32_t v; memcpy(&v, b, 4); return v; }
    case T_I32: { int32_t v; memcpy(&v, b, 4); return v; }
    case T_U64: { uint64_t v; memcpy(&v, b, 8); return (int64_t)v; }
    default: { int64_t v; memcpy(&v, b, 8); return v; }
    }
}

static void skip_value(reader *r, uint32_t type, int depth) {
    if (depth > 4) { fail(r, "arrays nested too deep"); return; }
    if (type == T_STRING) { str(r); return; }
    if (type == T_ARRAY) {
        uint32_t et = u32(r);
        uint64_t n = u64(r);
        for (uint64_t i = 0; i < n && !r->failed; i++) skip_value(r, et, depth + 1);
        return;
    }
    size_t n = scalar_size(type);
    if (!n) { fail(r, "unknown value type %u at offset %zu", type, r->at); return; }
    take(r, NULL, n);
}

/* An array header; returns the count after checking the element type. */
static uint64_t array_of(reader *r, uint32_t type, uint32_t want, const char *key) {
    if (type != T_ARRAY) { fail(r, "%s is not an array", key); return 0; }
    uint32_t et = u32(r);
    uint64_t n = u64(r);
    if (et != want) { fail(r, "%s holds type %u, expected %u", key, et, want); return 0; }
    if (n > r->size) { fail(r, "%s claims %llu elements", key, (unsigned long long)n); return 0; }
    return n;
}

static int key_is(hy_tokenizer_text k, const char *name) { return k.len == strlen(name) && memcmp(k.ptr, name, k.len) == 0; }

static void copy_name(char *dst, size_t cap, hy_tokenizer_text s) {
    size_t n = s.len < cap - 1 ? s.len : cap - 1;
    memcpy(dst, s.ptr, n);
    dst[n] = 0;
}

char *hy_test_read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (data && fread(data, 1, (size_t)n, f) != (size_t)n) { free(data); data = NULL; }
    fclose(f);
    if (data) { data[n] = 0; *size = (size_t)n; }
    return data;
}

int hy_test_vocab_load(const char *path, hy_test_vocab *v, char *err, size_t err_size) {
    memset(v, 0, sizeof *v);
    hy_tokenizer_spec_init(&v->spec);
    v->data = (unsigned char *)hy_test_read_file(path, &v->size);
    if (!v->data) { snprintf(err, err_size, "cannot read %s", path); return -1; }
    reader r = { v->data, v->size, 0, err, err_size, 0 };
    char magic[4];
    take(&r, magic, 4);
    if (!r.failed && memcmp(magic, "GGUF", 4) != 0) fail(&r, "not a GGUF file");
    uint32_t version = u32(&r);
    if (!r.failed && version != 3) fail(&r, "GGUF version %u (this loader reads 3)", version);
    u64(&r);  // tensor count: not needed
    uint64_t n_kv = u64(&r), n_scores = 0, n_types = 0;
    for (uint64_t i = 0; i < n_kv && !r.failed; i++) {
        hy_tokenizer_text key = str(&r);
        uint32_t type = u32(&r);
        if (r.failed) break;
        if (key_is(key, "tokenizer.ggml.model") || key_is(key, "tokenizer.ggml.pre")) {
            if (type != T_STRING) { fail(&r, "%.*s is not a string", (int)key.len, key.ptr); break; }
            hy_tokenizer_text s = str(&r);
            if (key_is(key, "tokenizer.ggml.model")) copy_name(v->model, sizeof v->model, s);
            else copy_name(v->pre, sizeof v->pre, s);
        } else if (key_is(key, "tokenizer.ggml.tokens") || key_is(key, "tokenizer.ggml.merges")) {
            int is_tokens = key_is(key, "tokenizer.ggml.tokens");
            uint64_t n = array_of(&r, type, T_STRING, is_tokens ? "tokens" : "merges");
            hy_tokenizer_text *arr = r.failed ? NULL : calloc(n ? n : 1, sizeof *arr);
            for (uint64_t k = 0; arr && k < n && !r.failed; k++) arr[k] = str(&r);
            if (is_tokens) { free(v->tokens); v->tokens = arr; v->spec.n_vocab = (uint32_t)n; }
            else { free(v->merges); v->merges = arr; v->spec.n_merges = (uint32_t)n; }
        } else if (key_is(key, "tokenizer.ggml.scores")) {
            uint64_t n = array_of(&r, type, T_F32, "scores");
            if (!r.failed && n * 4 > r.size - r.at) fail(&r, "scores run past the end");
            if (r.failed) break;
            free(v->scores);
            n_scores = n;
            v->scores = malloc(n * 4 + 4);
            take(&r, v->scores, n * 4);
        } else if (key_is(key, "tokenizer.ggml.token_type")) {
            uint64_t n = array_of(&r, type, T_I32, "token_type");
            if (!r.failed && n * 4 > r.size - r.at) fail(&r, "token types run past the end");
            if (r.failed) break;
            free(v->types);
            n_types = n;
            v->types = malloc(n * 4 + 4);
            take(&r, v->types, n * 4);
        } else if (key_is(key, "tokenizer.ggml.bos_token_id")) v->spec.bos_id = (int32_t)int_value(&r, type);
        else if (key_is(key, "tokenizer.ggml.eos_token_id")) v->spec.eos_id = (int32_t)int_value(&r, type);
        else if (key_is(key, "tokenizer.ggml.eot_token_id")) v->spec.eot_id = (int32_t)int_value(&r, type);
        else if (key_is(key, "tokenizer.ggml.padding_token_id")) v->spec.pad_id = (int32_t)int_value(&r, type);
        else if (key_is(key, "tokenizer.ggml.unknown_token_id")) v->spec.unk_id = (int32_t)int_value(&r, type);
        else if (key_is(key, "tokenizer.ggml.add_bos_token")) v->spec.add_bos = (int)int_value(&r, type);
        else if (key_is(key, "tokenizer.ggml.add_eos_token")) v->spec.add_eos = (int)int_value(&r, type);
        else if (key_is(key, "tokenizer.ggml.add_space_prefix")) v->spec.add_space_prefix = (int)int_value(&r, type);
        else skip_value(&r, type, 0);
    }
    if (!r.failed && ((v->scores && n_scores != v->spec.n_vocab) || (v->types && n_types != v->spec.n_vocab)))
        fail(&r, "scores (%llu) or token types (%llu) do not match the %u tokens", (unsigned long long)n_scores,
             (unsigned long long)n_types, v->spec.n_vocab);
    if (r.failed) { hy_test_vocab_free(v); return -1; }
    v->spec.model = v->model;
    v->spec.pre = v->pre;
    v->spec.tokens = v->tokens;
    v->spec.merges = v->merges;
    v->spec.scores = v->scores;
    v->spec.token_types = v->types;
    return 0;
}

void hy_test_vocab_free(hy_test_vocab *v) {
    free(v->tokens);
    free(v->merges);
    free(v->scores);
    free(v->types);
    free(v->data);
    memset(v, 0, sizeof *v);
}

const char *hy_test_shared_dir(void) {
    static char dir[1024];
    const char *env = getenv("HYPERION_SHARED_DIR");
    if (env && *env) return env;
    /* __FILE__ is <root>/native/tests/test_vocab_loader.c (CMake and gyp pass
     * absolute paths); strip the last three components. */
    snprintf(dir, sizeof dir, "%s", __FILE__);
    for (int k = 0; k < 3; k++) {
        char *slash = strrchr(dir, '/');
        if (!slash) { snprintf(dir, sizeof dir, "."); break; }
        *slash = 0;
    }
    size_t n = strlen(dir);
    snprintf(dir + n, sizeof dir - n, "/../shared");
    return dir;
}
