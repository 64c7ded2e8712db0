/* vocab_spec.c — tokenizer spec from GGUF metadata (see vocab_spec.h). Test-only. */
#include "vocab_spec.h"

#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

static int32_t id_or(const hy_gguf *g, const char *key) {
    uint32_t v = 0;
    return hy_gguf_get_u32(g, key, &v) == HYPERION_OK && v <= INT32_MAX ? (int32_t)v : -1;
}

static int flag_or(const hy_gguf *g, const char *key) {
    int b = 0;
    return hy_gguf_get_bool(g, key, &b) == HYPERION_OK ? b : -1;
}

void hy_fuzz_vocab_free(hy_fuzz_vocab *v) {
    free(v->tokens);
    free(v->merges);
    free(v->scores);
    free(v->types);
    hy_gguf_close(v->gguf);
    memset(v, 0, sizeof *v);
}

hyperion_status hy_fuzz_vocab_load(const char *path, hy_fuzz_vocab *v) {
    memset(v, 0, sizeof *v);
    hyperion_status s = hy_gguf_open(path, &v->gguf);
    if (s) return s;
    const hy_gguf *g = v->gguf;
    hy_tokenizer_spec_init(&v->spec);
    if ((s = hy_gguf_get_string_copy(g, "tokenizer.ggml.model", v->model, sizeof v->model))) goto fail;
    if (hy_gguf_get_string_copy(g, "tokenizer.ggml.pre", v->pre, sizeof v->pre) != HYPERION_OK) v->pre[0] = 0;
    const hy_gguf_kv *kv;
    uint64_t n;
    if ((s = hy_gguf_get_array(g, "tokenizer.ggml.tokens", HY_GGUF_STRING, &kv, &n, NULL))) goto fail;
    if (n == 0 || n > INT32_MAX) {
        s = HY_RAISE(HYPERION_MODEL_INVALID, NULL, "%s: bad vocabulary size", path);
        goto fail;
    }
    v->tokens = calloc(n, sizeof *v->tokens);
    if (!v->tokens) goto oom;
    for (uint64_t i = 0; i < n; i++) {
        const char *text;
        uint64_t len;
        hy_gguf_array_string(kv, i, &text, &len);
        v->tokens[i] = (hy_tokenizer_text){ text, (size_t)len };
    }
    const void *elems;
    uint64_t m;
    if (hy_gguf_get_array(g, "tokenizer.ggml.scores", HY_GGUF_FLOAT32, NULL, &m, &elems) == HYPERION_OK && m == n) {
        if (!(v->scores = malloc(n * sizeof *v->scores))) goto oom;
        memcpy(v->scores, elems, n * sizeof *v->scores);
    }
    if (hy_gguf_get_array(g, "tokenizer.ggml.token_type", HY_GGUF_INT32, NULL, &m, &elems) == HYPERION_OK && m == n) {
        if (!(v->types = malloc(n * sizeof *v->types))) goto oom;
        memcpy(v->types, elems, n * sizeof *v->types);
    }
    if (hy_gguf_get_array(g, "tokenizer.ggml.merges", HY_GGUF_STRING, &kv, &m, NULL) == HYPERION_OK && m) {
        if (!(v->merges = calloc(m, sizeof *v->merges))) goto oom;
        for (uint64_t i = 0; i < m; i++) {
            const char *text;
            uint64_t len;
            hy_gguf_array_string(kv, i, &text, &len);
            v->merges[i] = (hy_tokenizer_text){ text, (size_t)len };
        }
        v->spec.n_merges = (uint32_t)m;
        v->spec.merges = v->merges;
    }
    v->spec.model = v->model;
    v->spec.pre = v->pre;
    v->spec.n_vocab = (uint32_t)n;
    v->spec.tokens = v->tokens;
    v->spec.scores = v->scores;
    v->spec.token_types = v->types;
    v->spec.bos_id = id_or(g, "tokenizer.ggml.bos_token_id");
    v->spec.eos_id = id_or(g, "tokenizer.ggml.eos_token_id");
    v->spec.eot_id = id_or(g, "tokenizer.ggml.eot_token_id");
    v->spec.pad_id = id_or(g, "tokenizer.ggml.padding_token_id");
    v->spec.unk_id = id_or(g, "tokenizer.ggml.unknown_token_id");
    v->spec.add_bos = flag_or(g, "tokenizer.ggml.add_bos_token");
    v->spec.add_eos = flag_or(g, "tokenizer.ggml.add_eos_token");
    v->spec.add_space_prefix = flag_or(g, "tokenizer.ggml.add_space_prefix");
    return HYPERION_OK;
oom:
    s = HY_RAISE(HYPERION_OUT_OF_MEMORY, NULL, "%s: out of memory building the spec", path);
fail:
    hy_fuzz_vocab_free(v);
    return s;
}
