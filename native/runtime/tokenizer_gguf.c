/*
 * tokenizer_gguf.c — building a model's tokenizer from its GGUF metadata
 * (see tokenizer_gguf.h).
 */
#include "runtime/tokenizer_gguf.h"

#include <stdio.h>
#include <string.h>

#include "core/internal.h"

/* ---------------------------------------------------------------- helpers */

static hyperion_status bad_key(const hy_gguf *g, const hy_gguf_kv *kv, const char *why) {
    return HY_RAISE_WITH(HYPERION_MODEL_INVALID, "the file's tokenizer metadata is damaged; convert the model again",
                         ((hy_field[]){ HY_TXT("field", kv->key), HY_NUM("offset", (double)kv->offset),
                                        HY_TXT("path", hy_gguf_path(g)) }),
                         "%s (at byte %llu): %s", kv->key, (unsigned long long)kv->offset, why);
}

/* A special token id: absent → -1. Stored as any integer type; an unsigned
 * value above INT32_MAX (some converters write 0xFFFFFFFF for "none") is
 * read as absent too. */
static hyperion_status special_id(const hy_gguf *g, const char *key, int32_t *out) {
    *out = -1;
    const hy_gguf_kv *kv = hy_gguf_find(g, key);
    if (!kv) return HYPERION_OK;
    int32_t v;
    if (hy_gguf_get_i32(g, key, &v) == HYPERION_OK) {
        *out = v < 0 ? -1 : v;
        return HYPERION_OK;
    }
    uint64_t big;
    if (hy_gguf_get_u64(g, key, &big) == HYPERION_OK) {
        hyperionClearLastError();
        HY_LOG(HYPERION_LOG_DEBUG, HYPERION_LOG_MODEL, "tokenizer: %s = %llu is not a token id; read as absent", key,
               (unsigned long long)big);
        return HYPERION_OK;
    }
    return bad_key(g, kv, "expected an integer token id");
}

/* A bool key as the spec's tri-state: absent → -1. */
static hyperion_status tri_state(const hy_gguf *g, const char *key, int *out) {
    *out = -1;
    if (!hy_gguf_find(g, key)) return HYPERION_OK;
    return hy_gguf_get_bool(g, key, out);
}

static hyperion_status small_string(const hy_gguf *g, const char *key, char *buf, size_t size) {
    buf[0] = 0;
    const hy_gguf_kv *kv = hy_gguf_find(g, key);
    if (!kv) return HYPERION_OK;
    const char *text;
    uint64_t len;
    hyperion_status s = hy_gguf_get_string(g, key, &text, &len);
    if (s != HYPERION_OK) return s;
    if (len >= size || memchr(text, 0, (size_t)len)) return bad_key(g, kv, "the name is too long or holds a NUL byte");
    memcpy(buf, text, (size_t)len);
    buf[len] = 0;
    return HYPERION_OK;
}

/* Copy an array of 4-byte numbers (f32 or i32) of exactly n elements. */
static hyperion_status copy_array(const hy_gguf *g, const char *key, uint32_t elem_type, uint32_t n, void **out) {
    *out = NULL;
    if (!hy_gguf_find(g, key)) return HYPERION_OK;
    const hy_gguf_kv *kv;
    uint64_t count;
    const void *elems;
    hyperion_status s = hy_gguf_get_array(g, key, elem_type, &kv, &count, &elems);
    if (s != HYPERION_OK) return s;
    if (count != n) {
        char why[96];
        snprintf(why, sizeof why, "holds %llu entries but the vocabulary has %u tokens", (unsigned long long)count, n);
        return bad_key(g, kv, why);
    }
    void *copy = hyperionAlloc((size_t)n * 4 + 4, HYPERION_TAG_TOKENIZER);
    if (!copy) return hyperionGetLastError()->code;
    memcpy(copy, elems, (size_t)n * 4);
    *out = copy;
    return HYPERION_OK;
}

/* Views of the strings of a string array into texts[0..count). */
static hyperion_status string_views(const hy_gguf_kv *kv, hy_tokenizer_text *texts) {
    for (uint64_t i = 0; i < kv->count; i++) {
        const char *text;
        uint64_t len;
        hyperion_status s = hy_gguf_array_string(kv, i, &text, &len);
        if (s != HYPERION_OK) return s;
        texts[i].ptr = text;
        texts[i].len = (size_t)len;
    }
    return HYPERION_OK;
}

/* ------------------------------------------------------------------ spec */

void hy_tokenizer_spec_scratch_free(hy_tokenizer_spec_scratch *sc) {
    if (!sc) return;
    hyperionFree(sc->texts);
    hyperionFree(sc->scores);
    hyperionFree(sc->types);
    sc->texts = NULL;
    sc->scores = NULL;
    sc->types = NULL;
}

hyperion_status hy_tokenizer_spec_from_gguf(const hy_gguf *g, hy_tokenizer_spec *spec, hy_tokenizer_spec_scratch *sc) {
    memset(sc, 0, sizeof *sc);
    hy_tokenizer_spec_init(spec);
    const hy_gguf_kv *tokens_kv = hy_gguf_find(g, "tokenizer.ggml.tokens");
    if (!tokens_kv) return HYPERION_OK;

    uint64_t n_tokens = 0, n_merges = 0;
    const hy_gguf_kv *merges_kv = NULL;
    hyperion_status s = hy_gguf_get_array(g, "tokenizer.ggml.tokens", HY_GGUF_STRING, &tokens_kv, &n_tokens, NULL);
    if (s != HYPERION_OK) return s;
    if (n_tokens == 0 || n_tokens > (1u << 24)) return bad_key(g, tokens_kv, "the token count must be 1 .. 16777216");
    if (hy_gguf_find(g, "tokenizer.ggml.merges")) {
        s = hy_gguf_get_array(g, "tokenizer.ggml.merges", HY_GGUF_STRING, &merges_kv, &n_merges, NULL);
        if (s != HYPERION_OK) return s;
        if (n_merges > (1u << 24)) return bad_key(g, merges_kv, "more than 16777216 merges");
    }
    if ((s = small_string(g, "tokenizer.ggml.model", sc->model, sizeof sc->model)) ||
        (s = small_string(g, "tokenizer.ggml.pre", sc->pre, sizeof sc->pre)))
        return s;
    if (!sc->model[0])
        return HY_RAISE_WITH(HYPERION_MODEL_INVALID, "the file has tokens but no tokenizer.ggml.model; convert it again",
                             ((hy_field[]){ HY_TXT("field", "tokenizer.ggml.model"), HY_TXT("path", hy_gguf_path(g)) }),
                             "tokenizer.ggml.model is missing");

    /* n_tokens >= 1, so the size is never 0; no padding byte either: in guard-page
     * mode a block's start alignment follows from its size (end-aligned) */
    sc->texts = hyperionAlloc((size_t)(n_tokens + n_merges) * sizeof *sc->texts, HYPERION_TAG_TOKENIZER);
    if (!sc->texts) return hyperionGetLastError()->code;
    if ((s = string_views(tokens_kv, sc->texts))) goto fail;
    if (merges_kv && (s = string_views(merges_kv, sc->texts + n_tokens))) goto fail;
    uint32_t n = (uint32_t)n_tokens;
    if ((s = copy_array(g, "tokenizer.ggml.scores", HY_GGUF_FLOAT32, n, (void **)&sc->scores)) ||
        (s = copy_array(g, "tokenizer.ggml.token_type", HY_GGUF_INT32, n, (void **)&sc->types)))
        goto fail;

    spec->model = sc->model;
    spec->pre = sc->pre;
    spec->n_vocab = n;
    spec->tokens = sc->texts;
    spec->scores = sc->scores;
    spec->token_types = sc->types;
    spec->n_merges = (uint32_t)n_merges;
    spec->merges = merges_kv ? sc->texts + n_tokens : NULL;
    if ((s = special_id(g, "tokenizer.ggml.bos_token_id", &spec->bos_id)) ||
        (s = special_id(g, "tokenizer.ggml.eos_token_id", &spec->eos_id)) ||
        (s = special_id(g, "tokenizer.ggml.eot_token_id", &spec->eot_id)) ||
        (s = special_id(g, "tokenizer.ggml.padding_token_id", &spec->pad_id)) ||
        (s = special_id(g, "tokenizer.ggml.unknown_token_id", &spec->unk_id)) ||
        (s = tri_state(g, "tokenizer.ggml.add_bos_token", &spec->add_bos)) ||
        (s = tri_state(g, "tokenizer.ggml.add_eos_token", &spec->add_eos)) ||
        (s = tri_state(g, "tokenizer.ggml.add_space_prefix", &spec->add_space_prefix)))
        goto fail;
    return HYPERION_OK;
fail:
    hy_tokenizer_spec_scratch_free(sc);
    spec->n_vocab = 0;
    return s;
}

/* ----------------------------------------------------------------- vocab */

static hyperion_status copy_chat_template(const hy_gguf *g, hy_vocab *v) {
    const hy_gguf_kv *kv = hy_gguf_find(g, "tokenizer.chat_template");
    if (!kv) return HYPERION_OK;
    const char *text;
    uint64_t len;
    hyperion_status s = hy_gguf_get_string(g, "tokenizer.chat_template", &text, &len);
    if (s != HYPERION_OK) return s;
    if (len > (64u << 20)) return bad_key(g, kv, "the template is larger than 64 MiB");
    v->chat_template = hyperionAlloc((size_t)len + 1, HYPERION_TAG_TOKENIZER);
    if (!v->chat_template) return hyperionGetLastError()->code;
    memcpy(v->chat_template, text, (size_t)len);
    v->chat_template[len] = 0;
    v->chat_template_len = (size_t)len;
    return HYPERION_OK;
}

static void vocab_free(hy_vocab *v) {
    hy_tokenizer_free(v->tok);
    hyperionFree(v->chat_template);
    hyperionFree(v);
}

hyperion_status hy_vocab_from_gguf(const hy_gguf *g, hy_vocab **out) {
    *out = NULL;
    hy_tokenizer_spec spec;
    hy_tokenizer_spec_scratch sc;
    hyperion_status s = hy_tokenizer_spec_from_gguf(g, &spec, &sc);
    if (s != HYPERION_OK || spec.n_vocab == 0) return s;
    hy_vocab *v = hyperionCalloc(1, sizeof *v, HYPERION_TAG_TOKENIZER);
    if (!v) s = hyperionGetLastError()->code;
    else s = hy_tokenizer_build(&spec, &v->tok);
    hy_tokenizer_spec_scratch_free(&sc);
    if (s == HYPERION_OK) s = copy_chat_template(g, v);
    if (s != HYPERION_OK) {
        if (v) vocab_free(v);
        return s;
    }
    atomic_init(&v->refs, 1);
    *out = v;
    return HYPERION_OK;
}

hyperion_status hy_vocab_load(const char *path, hy_vocab **out) {
    *out = NULL;
    hy_gguf *g = NULL;
    hyperion_status s = hy_gguf_open_ex(path, HY_GGUF_ALLOW_UNSUPPORTED_TYPES, &g);
    if (s != HYPERION_OK) return s;
    s = hy_vocab_from_gguf(g, out);
    if (s == HYPERION_OK && !*out)
        s = HY_RAISE_WITH(HYPERION_MODEL_INVALID, "this file carries no tokenizer; use the model's own GGUF file",
                          ((hy_field[]){ HY_TXT("field", "tokenizer.ggml.tokens"), HY_TXT("path", path) }),
                          "%s has no vocabulary (tokenizer.ggml.tokens is missing)", path);
    hy_gguf_close(g);
    return s;
}

void hy_vocab_retain(hy_vocab *v) { atomic_fetch_add(&v->refs, 1); }

void hy_vocab_release(hy_vocab *v) {
    if (v && atomic_fetch_sub(&v->refs, 1) == 1) vocab_free(v);
}
