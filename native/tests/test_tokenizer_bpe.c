/*
 * test_tokenizer_bpe.c — the "gpt2" byte-level BPE tokenizer on a hand-made
 * vocabulary (ids 0..255 are the bytes, so expected ids read as bytes): merge
 * order by rank, pre-tokenizer families, ignore_merges, special tokens,
 * pre-tokenizer names, round trips of arbitrary bytes.
 */
#include "test_tokenizer_util.h"

#define G "\xc4\xa0"  /* "Ġ": the space byte in GPT-2's alphabet */

static const char *const MERGES[] = {
    "h e", "l l", "he ll", "hell o", G " w", "o r", G "w or", "l d", G "wor ld", "1 2", "2 3", G " " G,
};
static const char *const RESULTS[] = {
    "he", "ll", "hell", "hello", G "w", "or", G "wor", "ld", G "world", "12", "23", G G,
};
#define N_MERGES (sizeof MERGES / sizeof MERGES[0])

static const test_piece EXTRA[] = {
    { "abc", 0, 0 },
    { "<|endoftext|>", 0, HY_TOKEN_TYPE_CONTROL },
    { "<tool>", 0, HY_TOKEN_TYPE_USER_DEFINED },
};

static hy_tokenizer *build_gpt2(const char *pre) {
    static test_vocab v;
    tv_gpt2(&v, pre, MERGES, RESULTS, N_MERGES, EXTRA, sizeof EXTRA / sizeof EXTRA[0]);
    v.spec.eos_id = v.spec.bos_id = (int32_t)v.spec.n_vocab - 2;
    hy_tokenizer *tok = NULL;
    if (hy_tokenizer_build(&v.spec, &tok) != HYPERION_OK) return NULL;
    return tok;
}

HY_TEST(tokenizer_bpe_merges_by_rank) {
    hy_tokenizer *tok = build_gpt2("gpt-2");
    HY_REQUIRE(tok);
    HY_CHECK_INT(hy_tokenizer_get_pre(tok), HY_PRE_GPT2);
    int32_t ids[64];
    HY_CHECK_INT(tv_tokenize(tok, "", 0, 0, 0, ids), 0);
    TV_EXPECT(tok, "hello world", 0, 0, tv_id(tok, "hello"), tv_id(tok, G "world"));
    TV_EXPECT(tok, "123", 0, 0, tv_id(tok, "12"), '3');  // "1 2" (rank 9) before "2 3" (rank 10)
    TV_EXPECT(tok, "23", 0, 0, tv_id(tok, "23"));
    TV_EXPECT(tok, "helo", 0, 0, tv_id(tok, "he"), 'l', 'o');
    TV_EXPECT(tok, "abc", 0, 0, 'a', 'b', 'c');           // "abc" is a token but no merge makes it
    hy_tokenizer_free(tok);
}

HY_TEST(tokenizer_bpe_spaces_digits_accents_cjk_emoji) {
    hy_tokenizer *tok = build_gpt2("gpt-2");
    HY_REQUIRE(tok);
    int32_t gg = tv_id(tok, G G);
    TV_EXPECT(tok, " ", 0, 0, ' ');
    TV_EXPECT(tok, "  ", 0, 0, gg);
    TV_EXPECT(tok, "a  b", 0, 0, 'a', ' ', ' ', 'b');    // "a", " ", " b"
    TV_EXPECT(tok, "\t\n", 0, 0, '\t', '\n');
    TV_EXPECT(tok, "\n\n\n", 0, 0, '\n', '\n', '\n');
    TV_EXPECT(tok, "caf\xc3\xa9", 0, 0, 'c', 'a', 'f', 0xC3, 0xA9);
    TV_EXPECT(tok, "\xe4\xb8\xad", 0, 0, 0xE4, 0xB8, 0xAD);
    TV_EXPECT(tok, "\xf0\x9f\x98\x80", 0, 0, 0xF0, 0x9F, 0x98, 0x80);
    TV_EXPECT(tok, "\xff\xfe", 0, 0, 0xFF, 0xFE);
    hy_tokenizer_free(tok);
}

HY_TEST(tokenizer_bpe_llama3_ignore_merges_and_families) {
    hy_tokenizer *tok = build_gpt2("llama-bpe");
    HY_REQUIRE(tok);
    HY_CHECK_INT(hy_tokenizer_get_pre(tok), HY_PRE_LLAMA3);
    TV_EXPECT(tok, "abc", 0, 0, tv_id(tok, "abc"));   // a whole-token word skips the merges
    TV_EXPECT(tok, "1234", 0, 0, tv_id(tok, "12"), '3', '4');  // "123" | "4"
    hy_tokenizer_free(tok);

    tok = build_gpt2("smollm");
    HY_REQUIRE(tok);
    HY_CHECK_INT(hy_tokenizer_get_pre(tok), HY_PRE_DIGITS_GPT2);
    TV_EXPECT(tok, "123", 0, 0, '1', '2', '3');          // digits never merge across the split
    hy_tokenizer_free(tok);

    tok = build_gpt2("qwen2");
    HY_REQUIRE(tok);
    HY_CHECK_INT(hy_tokenizer_get_pre(tok), HY_PRE_QWEN2);
    hy_tokenizer_free(tok);
    tok = build_gpt2("default");
    HY_REQUIRE(tok);
    HY_CHECK_INT(hy_tokenizer_get_pre(tok), HY_PRE_GPT2);
    hy_tokenizer_free(tok);
    tok = build_gpt2(NULL);
    HY_REQUIRE(tok);
    HY_CHECK_INT(hy_tokenizer_get_pre(tok), HY_PRE_GPT2);
    hy_tokenizer_free(tok);
}

HY_TEST(tokenizer_bpe_unknown_pretokenizer_is_named) {
    HY_CHECK(build_gpt2("tekken-9000") == NULL);
    const hyperion_error *e = hyperionGetLastError();
    HY_CHECK_INT(e->code, HYPERION_MODEL_UNSUPPORTED);
    HY_CHECK(strstr(e->message, "\"tekken-9000\"") != NULL);
    HY_CHECK(strstr(e->message, "tokenizer.ggml.pre") != NULL);
}

HY_TEST(tokenizer_bpe_special_tokens) {
    hy_tokenizer *tok = build_gpt2("gpt-2");
    HY_REQUIRE(tok);
    int32_t eot = tv_id(tok, "<|endoftext|>"), tool = tv_id(tok, "<tool>");
    HY_CHECK(hy_tokenizer_is_eog(tok, eot));
    HY_CHECK(!hy_tokenizer_is_eog(tok, 'a'));
    HY_CHECK(!hy_tokenizer_is_eog(tok, -1));
    TV_EXPECT(tok, "hi<|endoftext|>", 0, 1, 'h', 'i', eot);
    TV_EXPECT(tok, "<|endoftext|><|endoftext|>", 0, 1, eot, eot);
    TV_EXPECT(tok, "<tool>he", 0, 0, tool, tv_id(tok, "he"));  // user-defined: matched always
    int32_t ids[64];
    int n = tv_tokenize(tok, "hi<|endoftext|>", 15, 0, 0, ids);
    HY_CHECK_INT(n, 15);                                           // plain text, one byte per id
    for (int i = 0; i < n; i++) HY_CHECK(ids[i] != eot);
    TV_EXPECT(tok, "x", 1, 0, eot, 'x');                           // BOS = <|endoftext|> here
    hy_tokenizer_free(tok);
}

HY_TEST(tokenizer_bpe_roundtrip_any_bytes) {
    hy_tokenizer *tok = build_gpt2("gpt-2");
    hy_tokenizer *l3 = build_gpt2("llama3");
    HY_REQUIRE(tok && l3);
    static const char *const texts[] = {
        "", " ", "   ", "\t\t\n \r\n", "hello world", "  hello   world  ", "0123456789", "caf\xc3\xa9 na\xc3\xafve",
        "\xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97", "\xf0\x9f\x98\x80\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd", "I'm 'S' they'LL",
        "\xff\xfe\x80 \xc3", "<|endoftext|>",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        if (!tv_roundtrip(tok, texts[i], strlen(texts[i]), 0))
            hy_test_fail(__FILE__, __LINE__, "gpt2 round trip of text %zu", i);
        if (!tv_roundtrip(l3, texts[i], strlen(texts[i]), 0))
            hy_test_fail(__FILE__, __LINE__, "llama3 round trip of text %zu", i);
    }
    /* Every single byte value survives. */
    char all[256];
    for (int b = 0; b < 256; b++) all[b] = (char)b;
    int32_t *ids = malloc(hy_tokenizer_max_tokens(256) * sizeof *ids);
    size_t n = 0;
    HY_CHECK_INT(hy_tokenizer_tokenize(tok, all, 256, NULL, ids, hy_tokenizer_max_tokens(256), &n), HYPERION_OK);
    char back[512];
    size_t len = 0;
    HY_CHECK_INT(hy_tokenizer_detokenize(tok, ids, n, 0, back, sizeof back, &len), HYPERION_OK);
    HY_CHECK(len == 256 && memcmp(back, all, 256) == 0);
    free(ids);
    hy_tokenizer_free(tok);
    hy_tokenizer_free(l3);
}
