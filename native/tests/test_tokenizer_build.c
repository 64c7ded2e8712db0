/*
 * test_tokenizer_build.c — building from a spec: validation errors name the
 * field (and index), defaults per model, lookups, and every table is released.
 */
#include "test_tokenizer_util.h"

static const test_piece PIECES[] = { { SP, -1, 0 }, { "a", -1, 0 }, { "<|eot_id|>", 0, HY_TOKEN_TYPE_CONTROL } };

static hyperion_status try_build(test_vocab *v) {
    hy_tokenizer *tok = (hy_tokenizer *)0x1;
    hyperion_status st = hy_tokenizer_build(&v->spec, &tok);
    if (st != HYPERION_OK && tok != NULL) hy_test_fail(__FILE__, __LINE__, "out not cleared on failure");
    hy_tokenizer_free(tok);
    return st;
}

static void expect_field(int line, const char *name, const char *value) {
    const hyperion_error *e = hyperionGetLastError();
    for (int i = 0; i < e->field_count; i++)
        if (strcmp(e->fields[i].name, name) == 0 && (!value || strcmp(e->fields[i].text, value) == 0)) return;
    hy_test_fail(__FILE__, line, "error \"%s\" lacks field %s%s%s", e->message, name, value ? "=" : "", value ? value : "");
}

HY_TEST(tokenizer_build_validates_the_spec) {
    static test_vocab v;
    hy_tokenizer *tok = NULL;
    HY_CHECK_INT(hy_tokenizer_build(NULL, &tok), HYPERION_INVALID_ARGUMENT);

    tv_llama(&v, PIECES, 3, 1, 1);
    v.spec.model = "bert";
    HY_CHECK_INT(try_build(&v), HYPERION_MODEL_UNSUPPORTED);
    HY_CHECK(strstr(hyperionGetLastError()->message, "\"bert\"") != NULL);
    v.spec.model = NULL;
    HY_CHECK_INT(try_build(&v), HYPERION_MODEL_INVALID);

    tv_llama(&v, PIECES, 3, 1, 1);
    v.types[5] = 9;
    HY_CHECK_INT(try_build(&v), HYPERION_MODEL_INVALID);
    expect_field(__LINE__, "field", "tokenizer.ggml.token_type");
    expect_field(__LINE__, "index", NULL);
    HY_CHECK_NEAR(hyperionGetLastError()->fields[1].number, 5, 0);

    tv_llama(&v, PIECES, 3, 1, 1);
    v.spec.bos_id = (int32_t)v.spec.n_vocab;
    HY_CHECK_INT(try_build(&v), HYPERION_MODEL_INVALID);
    expect_field(__LINE__, "field", "bos_token_id");

    tv_llama(&v, PIECES, 3, 1, 1);
    v.spec.eos_id = -2;
    HY_CHECK_INT(try_build(&v), HYPERION_MODEL_INVALID);

    tv_llama(&v, PIECES, 3, 1, 1);
    v.spec.bos_id = -1;
    v.spec.add_bos = 1;
    HY_CHECK_INT(try_build(&v), HYPERION_MODEL_INVALID);
    expect_field(__LINE__, "field", "add_bos_token");

    tv_llama(&v, PIECES, 3, 1, 1);
    v.tokens[4].ptr = NULL;
    HY_CHECK_INT(try_build(&v), HYPERION_MODEL_INVALID);

    tv_llama(&v, PIECES, 3, 1, 1);
    v.scores[7] = NAN;
    HY_CHECK_INT(try_build(&v), HYPERION_MODEL_INVALID);
    expect_field(__LINE__, "field", "tokenizer.ggml.scores");

    tv_llama(&v, PIECES, 3, 1, 1);
    v.spec.n_vocab = 0;
    HY_CHECK_INT(try_build(&v), HYPERION_MODEL_INVALID);

    static const char *const merges[] = { "ab" };
    static const char *const results[] = { "ab" };
    tv_gpt2(&v, "gpt-2", merges, results, 1, NULL, 0);
    HY_CHECK_INT(try_build(&v), HYPERION_MODEL_INVALID);  // a merge without a space
    expect_field(__LINE__, "field", "tokenizer.ggml.merges");
    tv_gpt2(&v, "gpt-2", merges, results, 0, NULL, 0);
    HY_CHECK_INT(try_build(&v), HYPERION_MODEL_INVALID);  // no merges at all

    /* A padding id outside the vocabulary is ignored, not fatal. */
    tv_llama(&v, PIECES, 3, 1, 1);
    v.spec.pad_id = (int32_t)v.spec.n_vocab + 10;
    HY_REQUIRE(hy_tokenizer_build(&v.spec, &tok) == HYPERION_OK);
    HY_CHECK_INT(hy_tokenizer_pad(tok), -1);
    hy_tokenizer_free(tok);
}

HY_TEST(tokenizer_build_defaults_and_queries) {
    static test_vocab v;
    tv_llama(&v, PIECES, 3, 1, 1);
    hy_tokenizer *tok = NULL;
    HY_REQUIRE(hy_tokenizer_build(&v.spec, &tok) == HYPERION_OK);
    HY_CHECK_INT(hy_tokenizer_get_kind(tok), HY_TOKENIZER_LLAMA);
    HY_CHECK_INT(hy_tokenizer_get_pre(tok), HY_PRE_NONE);
    HY_CHECK_INT(hy_tokenizer_add_bos_default(tok), 1);
    HY_CHECK_INT(hy_tokenizer_add_space_prefix(tok), 1);
    HY_CHECK_INT(hy_tokenizer_n_vocab(tok), 3 + 256 + 3);
    HY_CHECK_INT(hy_tokenizer_bos(tok), 1);
    HY_CHECK_INT(hy_tokenizer_eos(tok), 2);
    HY_CHECK_INT(hy_tokenizer_unk(tok), 0);
    HY_CHECK_INT(hy_tokenizer_eot(tok), -1);
    HY_CHECK_INT(hy_tokenizer_token_type(tok, 3), HY_TOKEN_TYPE_BYTE);
    HY_CHECK_INT(hy_tokenizer_token_type(tok, -1), 0);
    size_t len = 0;
    const char *text = hy_tokenizer_token_text(tok, 1, &len);
    HY_CHECK(text && len == 3 && memcmp(text, "<s>", 3) == 0);
    HY_CHECK(hy_tokenizer_token_text(tok, 99999, &len) == NULL);
    HY_CHECK_INT(tv_id(tok, "nope"), -1);
    /* EOS ends generation; so does a control token spelled like an end-of-turn marker. */
    int32_t eot_id = tv_id(tok, "<|eot_id|>");
    HY_CHECK(hy_tokenizer_is_eog(tok, 2));
    HY_CHECK(hy_tokenizer_is_eog(tok, eot_id));
    HY_CHECK(!hy_tokenizer_is_eog(tok, 1));
    hy_tokenizer_free(tok);

    v.spec.flags = HY_TOKENIZER_FLAG_NO_EOG_GUESS;
    v.spec.add_space_prefix = 0;
    v.spec.add_bos = 0;
    HY_REQUIRE(hy_tokenizer_build(&v.spec, &tok) == HYPERION_OK);
    HY_CHECK(!hy_tokenizer_is_eog(tok, eot_id));
    HY_CHECK_INT(hy_tokenizer_add_bos_default(tok), 0);
    HY_CHECK_INT(hy_tokenizer_add_space_prefix(tok), 0);
    hy_tokenizer_free(tok);
}

HY_TEST(tokenizer_build_releases_every_table) {
    {
        hyperion_memory_stats before, after;
        hyperionGetMemoryStats(&before);
        static test_vocab v;
        static const char *const merges[] = { "a b" };
        static const char *const results[] = { "ab" };
        tv_gpt2(&v, "llama3", merges, results, 1, PIECES + 2, 1);
        hy_tokenizer *tok = NULL;
        HY_REQUIRE(hy_tokenizer_build(&v.spec, &tok) == HYPERION_OK);
        hyperion_memory_stats during;
        hyperionGetMemoryStats(&during);
        HY_CHECK(during.tag_bytes[HYPERION_TAG_TOKENIZER] > before.tag_bytes[HYPERION_TAG_TOKENIZER]);
        int32_t ids[64];
        HY_CHECK_INT(tv_tokenize(tok, "ab ab", 5, 0, 0, ids), 3);  // ab, Ġ, ab
        hy_token_stream *s = NULL;
        HY_REQUIRE(hy_token_stream_create(tok, 0, &s) == HYPERION_OK);
        hy_token_stream_free(s);
        hy_tokenizer_free(tok);
        hyperionGetMemoryStats(&after);
        HY_CHECK_INT(after.tag_bytes[HYPERION_TAG_TOKENIZER], before.tag_bytes[HYPERION_TAG_TOKENIZER]);
        HY_CHECK_INT(after.tag_blocks[HYPERION_TAG_TOKENIZER], before.tag_blocks[HYPERION_TAG_TOKENIZER]);
    }
}
