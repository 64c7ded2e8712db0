/* test_gguf_real.c — real GGUF files the project did not make: the
 * stories260K model and the vocabulary-only files (skipped with a message
 * when the shared folder is absent). */
#include "harness.h"
#include "test_gguf_util.h"

#include "kernels/types.h"
#include "model/gguf.h"
#include "model/llama_hparams.h"

/* path of shared/<rel>, or NULL (with a printed skip notice) when absent */
static const char *shared_file(const char *rel, char *buf, size_t size) {
    const char *dir = gguf_test_shared_dir();
    struct stat st;
    if (dir) {
        snprintf(buf, size, "%s/%s", dir, rel);
        if (stat(buf, &st) == 0) return buf;
    }
    printf("    skip: %s not found (set HYPERION_SHARED_DIR to the shared test data folder)\n", rel);
    return NULL;
}

HY_TEST(gguf_real_stories260k_opens_with_known_facts) {
    char buf[1100];
    const char *path = shared_file("models/stories260K.gguf", buf, sizeof buf);
    if (!path) return;
    uint64_t live = gguf_test_live_blocks(), mapped = gguf_test_mapped_bytes();
    hy_gguf *g = NULL;
    HY_REQUIRE(hy_gguf_open(path, &g) == HYPERION_OK);
    HY_CHECK_INT(hy_gguf_version(g), 3);
    HY_CHECK_INT(hy_gguf_tensor_count(g), 48);
    HY_CHECK_INT(hy_gguf_warning_count(g), 0);
    HY_CHECK_INT(gguf_test_mapped_bytes() - mapped, hy_gguf_file_size(g));
    for (uint64_t i = 0; i < hy_gguf_tensor_count(g); i++) HY_CHECK_INT(hy_gguf_tensor_at(g, i)->type, HY_TYPE_F32);

    hy_llama_hparams hp;
    HY_REQUIRE(hy_llama_hparams_read(g, &hp) == HYPERION_OK);
    HY_CHECK_STR(hp.arch, "llama");
    HY_CHECK_INT(hp.n_layer, 5);
    HY_CHECK_INT(hp.n_embd, 64);
    HY_CHECK_INT(hp.n_head, 8);
    HY_CHECK_INT(hp.n_head_kv, 4);
    HY_CHECK_INT(hp.head_dim, 8);
    HY_CHECK_INT(hp.n_ff, 172);
    HY_CHECK_INT(hp.n_vocab, 512);
    HY_CHECK_INT(hp.n_ctx_train, 128);
    HY_CHECK_INT(hp.tied_output, 0);
    HY_CHECK_INT(hp.rope_scaling, HY_ROPE_SCALING_NONE);
    hy_llama_weights w;
    HY_REQUIRE(hy_llama_weights_bind(g, &hp, &w) == HYPERION_OK);
    HY_CHECK(w.output != w.token_embd);
    HY_CHECK_INT(w.output->ne[0], 64);
    HY_CHECK_INT(w.output->ne[1], 512);
    HY_CHECK_INT(w.layers[4].t[HY_L_FFN_DOWN]->ne[0], 172);
    /* the first weight of the embedding, read through the mapping */
    float first;
    memcpy(&first, w.token_embd->data, 4);
    HY_CHECK(isfinite(first));
    hy_llama_weights_free(&w);

    const char *model;
    uint64_t len;
    HY_CHECK_INT(hy_gguf_get_string(g, "tokenizer.ggml.model", &model, &len), HYPERION_OK);
    HY_CHECK(len == 5 && !memcmp(model, "llama", 5));
    const hy_gguf_kv *tokens;
    HY_CHECK_INT(hy_gguf_get_array(g, "tokenizer.ggml.tokens", HY_GGUF_STRING, &tokens, NULL, NULL), HYPERION_OK);
    const char *text;
    HY_CHECK_INT(hy_gguf_array_string(tokens, 1, &text, &len), HYPERION_OK);
    HY_CHECK(len == 3 && !memcmp(text, "<s>", 3));
    hy_gguf_close(g);
    HY_CHECK_INT(gguf_test_live_blocks(), live);
    HY_CHECK_INT(gguf_test_mapped_bytes(), mapped);

    char *json = NULL;
    HY_REQUIRE(hyperionVerifyModel(path, &json) == HYPERION_OK);
    HY_CHECK(strstr(json, "\"ok\":true") != NULL);
    hyperionFree(json);
    HY_REQUIRE(hyperionGetModelInfo(path, 0, &json) == HYPERION_OK);
    HY_CHECK(strstr(json, "\"vocab_size\":512") != NULL);
    HY_CHECK(strstr(json, "\"tied_output\":false") != NULL);
    hyperionFree(json);
    HY_CHECK_INT(gguf_test_live_blocks(), live);
}

HY_TEST(gguf_real_vocab_files_open_and_validate) {
    static const struct { const char *file, *model; uint64_t tokens; } files[] = {
        { "vocab/ggml-vocab-llama-spm.gguf", "llama", 32000 },
        { "vocab/ggml-vocab-gpt-2.gguf", "gpt2", 50257 },
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char buf[1100];
        const char *path = shared_file(files[i].file, buf, sizeof buf);
        if (!path) continue;
        uint64_t live = gguf_test_live_blocks();
        hy_gguf *g = NULL;
        HY_REQUIRE(hy_gguf_open(path, &g) == HYPERION_OK);
        HY_CHECK_INT(hy_gguf_tensor_count(g), 0);
        uint64_t count = 0;
        const hy_gguf_kv *kv;
        HY_CHECK_INT(hy_gguf_get_array(g, "tokenizer.ggml.tokens", HY_GGUF_STRING, &kv, &count, NULL), HYPERION_OK);
        HY_CHECK_INT(count, files[i].tokens);
        /* every token is reachable and lies inside the mapping */
        const uint8_t *lo = hy_gguf_bytes(g), *hi = lo + hy_gguf_file_size(g);
        int inside = 1;
        for (uint64_t t = 0; t < count; t++) {
            const char *text;
            uint64_t len;
            inside &= hy_gguf_array_string(kv, t, &text, &len) == HYPERION_OK && (const uint8_t *)text >= lo &&
                      (const uint8_t *)text + len <= hi;
        }
        HY_CHECK(inside);
        char model[16];
        HY_CHECK_INT(hy_gguf_get_string_copy(g, "tokenizer.ggml.model", model, sizeof model), HYPERION_OK);
        HY_CHECK_STR(model, files[i].model);
        hy_gguf_close(g);
        HY_CHECK_INT(gguf_test_live_blocks(), live);
    }
}
