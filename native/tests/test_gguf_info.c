/* test_gguf_info.c — hyperionVerifyModel and hyperionGetModelInfo: reports
 * for good, malformed, unsupported and missing files, never a failure. */
#include "harness.h"
#include "test_gguf_tiny.h"
#include "test_gguf_util.h"

#include "model/gguf_corpus.h"

#define HAS(json, text) HY_CHECK(strstr((json), (text)) != NULL)
#define LACKS(json, text) HY_CHECK(strstr((json), (text)) == NULL)

static void write_tiny(const tiny_opts *o, const char *path) {
    void *data = NULL;
    size_t size = 0;
    if (tiny_build(o, &data, &size) != HYPERION_OK || !gguf_test_write_file(path, data, size))
        hy_test_fail(__FILE__, __LINE__, "cannot write %s", path);
    hyperionFree(data);
}

static hyperion_status unknown_tensor(hy_gguf_writer *w, const tiny_opts *o) {
    uint64_t ne[1] = { 3 };
    return hy_gguf_writer_add_tensor(w, "extra.bias", HY_TYPE_F32, 1, ne);
}

HY_TEST(verify_reports_a_good_model_as_ok) {
    char path[600];
    snprintf(path, sizeof path, "%s/verify-good.gguf", hy_test_tmpdir());
    tiny_opts o;
    tiny_defaults(&o);
    write_tiny(&o, path);
    uint64_t live = gguf_test_live_blocks();
    char *json = NULL;
    HY_REQUIRE(hyperionVerifyModel(path, &json) == HYPERION_OK);
    HAS(json, "\"ok\":true");
    HAS(json, "\"valid_gguf\":true");
    HAS(json, "\"version\":3");
    HAS(json, "\"tensor_count\":20");
    HAS(json, "\"architecture\":\"llama\"");
    HAS(json, "\"problems\":[]");
    HAS(json, "\"warnings\":[]");
    hyperionFree(json);
    HY_CHECK_INT(gguf_test_live_blocks(), live);
}

HY_TEST(verify_reports_problems_and_warnings_without_failing) {
    char path[600];
    char *json = NULL;
    uint64_t live = gguf_test_live_blocks();

    /* missing file */
    HY_REQUIRE(hyperionVerifyModel("/no/such/model.gguf", &json) == HYPERION_OK);
    HAS(json, "\"ok\":false");
    HAS(json, "\"valid_gguf\":false");
    HAS(json, "\"code\":\"HYPERION_IO\"");
    HAS(json, "\"file_size\":null");
    hyperionFree(json);

    /* an unknown tensor is a warning, not a problem */
    tiny_opts o;
    tiny_defaults(&o);
    o.extra = unknown_tensor;
    snprintf(path, sizeof path, "%s/verify-extra.gguf", hy_test_tmpdir());
    write_tiny(&o, path);
    HY_REQUIRE(hyperionVerifyModel(path, &json) == HYPERION_OK);
    HAS(json, "\"ok\":true");
    HAS(json, "extra.bias");
    hyperionFree(json);

    /* an unsupported architecture */
    tiny_defaults(&o);
    o.arch = "gpt2";
    snprintf(path, sizeof path, "%s/verify-gpt2.gguf", hy_test_tmpdir());
    write_tiny(&o, path);
    HY_REQUIRE(hyperionVerifyModel(path, &json) == HYPERION_OK);
    HAS(json, "\"ok\":false");
    HAS(json, "\"valid_gguf\":true");
    HAS(json, "\"code\":\"HYPERION_MODEL_UNSUPPORTED\"");
    HAS(json, "\\\"gpt2\\\"");
    hyperionFree(json);

    /* a wrong shape names the tensor info */
    tiny_defaults(&o);
    o.grow_tensor = "blk.0.ffn_down.weight";
    snprintf(path, sizeof path, "%s/verify-shape.gguf", hy_test_tmpdir());
    write_tiny(&o, path);
    HY_REQUIRE(hyperionVerifyModel(path, &json) == HYPERION_OK);
    HAS(json, "\"ok\":false");
    HAS(json, "\"code\":\"HYPERION_MODEL_INVALID\"");
    HAS(json, "blk.0.ffn_down.weight");
    hyperionFree(json);

    HY_CHECK_INT(hyperionVerifyModel(NULL, &json), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_INT(hyperionVerifyModel(path, NULL), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_INT(gguf_test_live_blocks(), live);
}

HY_TEST(verify_reports_every_corpus_variant_with_its_field) {
    uint64_t live = gguf_test_live_blocks();
    for (uint32_t i = 0; i < hy_gguf_corpus_count(); i++) {
        hy_gguf_corpus_case c;
        HY_REQUIRE(hy_gguf_corpus_build(i, &c) == HYPERION_OK);
        char path[600], field[100], code[80];
        snprintf(path, sizeof path, "%s/verify-corpus-%02u.gguf", hy_test_tmpdir(), i);
        HY_REQUIRE(gguf_test_write_file(path, c.data, c.size));
        char *json = NULL;
        hyperion_status s = hyperionVerifyModel(path, &json);
        if (s != HYPERION_OK || !json) {
            hy_test_fail(__FILE__, __LINE__, "%s: verify failed: %s", c.name, hyperionGetLastError()->message);
        } else {
            snprintf(field, sizeof field, "\"field\":\"%s\"", c.field);
            snprintf(code, sizeof code, "\"code\":\"%s\"", hyperionStatusName(c.expected));
            if (!strstr(json, "\"ok\":false") || !strstr(json, field) || !strstr(json, code))
                hy_test_fail(__FILE__, __LINE__, "%s: report lacks %s / %s: %.300s", c.name, field, code, json);
        }
        hyperionFree(json);
        hy_gguf_corpus_case_free(&c);
    }
    HY_CHECK_INT(gguf_test_live_blocks(), live);
}

HY_TEST(model_info_describes_shapes_types_and_memory) {
    char path[600];
    snprintf(path, sizeof path, "%s/info.gguf", hy_test_tmpdir());
    tiny_opts o;
    tiny_defaults(&o);
    o.type = HY_TYPE_Q8_0;
    write_tiny(&o, path);
    uint64_t live = gguf_test_live_blocks();
    char *json = NULL;
    HY_REQUIRE(hyperionGetModelInfo(path, 100, &json) == HYPERION_OK);
    HAS(json, "\"ok\":true");
    HAS(json, "\"problems\":[]");
    HAS(json, "\"architecture\":\"llama\"");
    HAS(json, "\"name\":\"tiny\"");
    HAS(json, "\"supported\":true");
    /* params: 32*16 + 32 + 2 * (32 + 32*32 + 2*32*16 + 32*32 + 32 + 3*32*64) = 19104 */
    HAS(json, "\"parameter_count\":19104");
    /* f32: output_norm and 2 x (attn_norm, ffn_norm) = 5 tensors of 128 bytes; the matrices are q8_0 */
    HAS(json, "\"f32\":{\"count\":5,\"bytes\":640,\"supported\":true}");
    HAS(json, "\"q8_0\":{\"count\":15,");
    HAS(json, "\"vocab_size\":16");
    HAS(json, "\"tokenizer_model\":\"llama\"");
    HAS(json, "\"context_length\":128");
    HAS(json, "\"layers\":2");
    HAS(json, "\"embedding\":32");
    HAS(json, "\"heads\":4");
    HAS(json, "\"kv_heads\":2");
    HAS(json, "\"head_dim\":8");
    HAS(json, "\"feed_forward\":64");
    HAS(json, "\"tied_output\":true");
    HAS(json, "\"scaling\":\"none\"");
    HAS(json, "\"freq_base\":10000");
    HAS(json, "\"context_size\":100");
    /* 2 (K and V) x 2 layers x 100 positions x 16 (kv dim) x 2 bytes */
    HAS(json, "\"kv_cache_f16_bytes\":12800");
    HAS(json, "\"kv_cache_f32_bytes\":25600");
    /* batch 100 x 4 bytes x (4*32 + 2*32 + 2*16 + 2*64 + 4*100 + 16) = 307200 */
    HAS(json, "\"activations_bytes\":307200");
    hyperionFree(json);

    HY_REQUIRE(hyperionGetModelInfo(path, 0, &json) == HYPERION_OK); /* 0: the trained length */
    HAS(json, "\"context_size\":128");
    hyperionFree(json);
    HY_CHECK_INT(gguf_test_live_blocks(), live);
}

HY_TEST(model_info_reports_unreadable_and_unsupported_files) {
    uint64_t live = gguf_test_live_blocks();
    char *json = NULL;
    HY_REQUIRE(hyperionGetModelInfo("/no/such/model.gguf", 0, &json) == HYPERION_OK);
    HAS(json, "\"ok\":false");
    HAS(json, "\"architecture\":null");
    HAS(json, "\"memory\":null");
    HAS(json, "HYPERION_IO");
    hyperionFree(json);

    for (uint32_t i = 0; i < hy_gguf_corpus_count(); i++) {
        hy_gguf_corpus_case c;
        HY_REQUIRE(hy_gguf_corpus_build(i, &c) == HYPERION_OK);
        if (!strcmp(c.name, "unsupported_tensor_type")) {
            char path[600];
            snprintf(path, sizeof path, "%s/info-q2k.gguf", hy_test_tmpdir());
            HY_REQUIRE(gguf_test_write_file(path, c.data, c.size));
            HY_REQUIRE(hyperionGetModelInfo(path, 0, &json) == HYPERION_OK);
            /* the file reads, but token_embd's new shape breaks the llama checks and q2_K is unsupported */
            HAS(json, "\"supported\":false");
            HAS(json, "\"q2_K\":{\"count\":1,\"bytes\":84,\"supported\":false}");
            hyperionFree(json);
        }
        hy_gguf_corpus_case_free(&c);
    }
    HY_CHECK_INT(hyperionGetModelInfo(NULL, 0, &json), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_INT(gguf_test_live_blocks(), live);
}
