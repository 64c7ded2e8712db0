/*
 * test_tokenizer_spm.c — the "llama" (SentencePiece-style BPE) tokenizer on a
 * hand-made vocabulary whose expected tokenizations were worked out by hand:
 * merge priority by score, leftmost ties, the space prefix, byte fallback,
 * UNK, special tokens, and round trips.
 */
#include "test_tokenizer_util.h"

static const test_piece PIECES[] = {
    { SP, -1, 0 },         { SP SP, -5, 0 },     { "a", -2, 0 },       { "b", -2, 0 },      { "c", -2, 0 },
    { SP "a", -1, 0 },     { "ab", -2, 0 },      { "abc", -0.5f, 0 },  { "aa", -1, 0 },     { "h", -3, 0 },
    { "e", -3, 0 },        { "l", -3, 0 },       { "o", -3, 0 },       { "he", -1, 0 },     { "ll", -1, 0 },
    { "llo", -1, 0 },      { "hello", -1, 0 },   { SP "hello", -0.5f, 0 }, { "w", -3, 0 },   { "r", -3, 0 },
    { "d", -3, 0 },        { SP "w", -2, 0 },    { "or", -2, 0 },      { "ld", -2, 0 },     { SP "wor", -1.5f, 0 },
    { SP "world", -1, 0 }, { "\xc3\xa9", -4, 0 }, { "\xe4\xb8\xad", -5, 0 }, { "\xe6\x96\x87", -5, 0 },
    { "\xe4\xb8\xad\xe6\x96\x87", -1, 0 }, { "1", -3, 0 }, { "2", -3, 0 }, { "3", -3, 0 }, { SP "1", -2, 0 },
    { "<|user|>", 0, HY_TOKEN_TYPE_USER_DEFINED },
};
#define N_PIECES (sizeof PIECES / sizeof PIECES[0])

static hy_tokenizer *build_llama(int with_bytes, int with_unk, int add_space_prefix) {
    static test_vocab v;
    tv_llama(&v, PIECES, N_PIECES, with_bytes, with_unk);
    v.spec.add_space_prefix = add_space_prefix;
    hy_tokenizer *tok = NULL;
    if (hy_tokenizer_build(&v.spec, &tok) != HYPERION_OK) return NULL;
    return tok;
}

static int32_t byte_id(int b) { return 3 + b; }

HY_TEST(tokenizer_spm_empty_text_and_bos_eos) {
    hy_tokenizer *tok = build_llama(1, 1, -1);
    HY_REQUIRE(tok);
    int32_t ids[64];
    HY_CHECK_INT(tv_tokenize(tok, "", 0, 0, 0, ids), 0);
    HY_CHECK_INT(tv_tokenize(tok, NULL, 0, 0, 0, ids), 0);
    TV_EXPECT(tok, "", 1, 0, 1);
    TV_EXPECT(tok, "", -1, 0, 1);  // the llama default adds BOS
    hy_tokenize_options o;
    hy_tokenize_options_init(&o);
    o.add_eos = 1;
    size_t n = 0;
    HY_CHECK_INT(hy_tokenizer_tokenize(tok, "a", 1, &o, ids, 64, &n), HYPERION_OK);
    HY_CHECK_INT(n, 3);
    HY_CHECK_INT(ids[0], 1);
    HY_CHECK_INT(ids[1], tv_id(tok, SP "a"));
    HY_CHECK_INT(ids[2], 2);
    hy_tokenizer_free(tok);
}

HY_TEST(tokenizer_spm_spaces_tabs_newlines) {
    hy_tokenizer *tok = build_llama(1, 1, -1);
    HY_REQUIRE(tok);
    int32_t m = tv_id(tok, SP), mm = tv_id(tok, SP SP);
    TV_EXPECT(tok, " ", 0, 0, mm);                       // prefix + space = ▁▁
    TV_EXPECT(tok, "  ", 0, 0, mm, m);                   // ▁▁▁: the leftmost pair merges first
    TV_EXPECT(tok, "   ", 0, 0, mm, mm);
    TV_EXPECT(tok, "\t\n", 0, 0, m, byte_id('\t'), byte_id('\n'));
    TV_EXPECT(tok, "a\n", 0, 0, tv_id(tok, SP "a"), byte_id('\n'));
    TV_EXPECT(tok, "\n\n", 0, 0, m, byte_id('\n'), byte_id('\n'));
    hy_tokenizer_free(tok);
}

HY_TEST(tokenizer_spm_merges_by_score_then_leftmost) {
    hy_tokenizer *tok = build_llama(1, 1, -1);
    hy_tokenizer *bare = build_llama(1, 1, 0);
    HY_REQUIRE(tok && bare);
    /* "▁abc": ▁a (-1) beats ab (-2), and then nothing merges: "▁ab" is no piece. */
    TV_EXPECT(tok, "abc", 0, 0, tv_id(tok, SP "a"), tv_id(tok, "b"), tv_id(tok, "c"));
    /* Without the prefix ab merges, then abc. */
    TV_EXPECT(bare, "abc", 0, 0, tv_id(bare, "abc"));
    /* Equal scores: the leftmost pair goes first. */
    TV_EXPECT(bare, "aaa", 0, 0, tv_id(bare, "aa"), tv_id(bare, "a"));
    TV_EXPECT(bare, "aaaa", 0, 0, tv_id(bare, "aa"), tv_id(bare, "aa"));
    /* Chains of merges through pieces of several lengths. */
    TV_EXPECT(tok, "hello world", 0, 0, tv_id(tok, SP "hello"), tv_id(tok, SP "world"));
    TV_EXPECT(bare, "hello", 0, 0, tv_id(bare, "hello"));
    hy_tokenizer_free(tok);
    hy_tokenizer_free(bare);
}

HY_TEST(tokenizer_spm_digits_accents_cjk_emoji_byte_fallback) {
    hy_tokenizer *tok = build_llama(1, 1, -1);
    HY_REQUIRE(tok);
    int32_t m = tv_id(tok, SP);
    TV_EXPECT(tok, "123", 0, 0, tv_id(tok, SP "1"), tv_id(tok, "2"), tv_id(tok, "3"));
    TV_EXPECT(tok, "\xc3\xa9", 0, 0, m, tv_id(tok, "\xc3\xa9"));                     // é is a piece
    TV_EXPECT(tok, "\xe4\xb8\xad\xe6\x96\x87", 0, 0, m, tv_id(tok, "\xe4\xb8\xad\xe6\x96\x87"));
    TV_EXPECT(tok, "\xd1\x84", 0, 0, m, byte_id(0xD1), byte_id(0x84));               // ф: no piece
    TV_EXPECT(tok, "\xf0\x9f\x98\x80", 0, 0, m, byte_id(0xF0), byte_id(0x9F), byte_id(0x98), byte_id(0x80));
    /* Invalid UTF-8 still tokenizes, byte by byte. */
    TV_EXPECT(tok, "a\xff", 0, 0, tv_id(tok, SP "a"), byte_id(0xFF));
    hy_tokenizer_free(tok);
}

HY_TEST(tokenizer_spm_unknown_without_byte_tokens) {
    hy_tokenizer *tok = build_llama(0, 1, -1);
    HY_REQUIRE(tok);
    TV_EXPECT(tok, "\xd1\x84" "a", 0, 0, tv_id(tok, SP), 0, tv_id(tok, "a"));  // one UNK per character
    hy_tokenizer_free(tok);

    tok = build_llama(0, 0, -1);
    HY_REQUIRE(tok);
    int32_t ids[64];
    size_t n = 0;
    HY_CHECK_INT(hy_tokenizer_tokenize(tok, "a \xd1\x84", 4, NULL, ids, 64, &n), HYPERION_MODEL_UNSUPPORTED);
    const hyperion_error *e = hyperionGetLastError();
    HY_REQUIRE(e->field_count >= 1);
    HY_CHECK_STR(e->fields[0].name, "offset");
    HY_CHECK_NEAR(e->fields[0].number, 2, 0);
    HY_CHECK(strstr(e->message, "offset 2") != NULL);
    /* The tokenizer is still usable. */
    TV_EXPECT(tok, "ab", 0, 0, tv_id(tok, SP "a"), tv_id(tok, "b"));
    hy_tokenizer_free(tok);
}

HY_TEST(tokenizer_spm_special_tokens) {
    hy_tokenizer *tok = build_llama(1, 1, -1);
    HY_REQUIRE(tok);
    /* parse_special: "<s>" is the control token, the text after it gets the prefix. */
    TV_EXPECT(tok, "<s>hello", 0, 1, 1, tv_id(tok, SP "hello"));
    TV_EXPECT(tok, "hello</s>", 0, 1, tv_id(tok, SP "hello"), 2);
    /* Without it, "<s>" is plain text. */
    TV_EXPECT(tok, "<s>hello", 0, 0, tv_id(tok, SP), byte_id('<'), byte_id('s'), byte_id('>'), tv_id(tok, "hello"));
    /* User-defined tokens are matched either way. */
    int32_t user = tv_id(tok, "<|user|>");
    HY_CHECK(user > 0);
    TV_EXPECT(tok, "hello<|user|>ab", 0, 0, tv_id(tok, SP "hello"), user, tv_id(tok, SP "a"), tv_id(tok, "b"));
    TV_EXPECT(tok, "<|user|>", 0, 1, user);
    hy_tokenizer_free(tok);
}

HY_TEST(tokenizer_spm_roundtrip_where_lossless) {
    hy_tokenizer *tok = build_llama(1, 1, -1);
    HY_REQUIRE(tok);
    static const char *const texts[] = {
        "", " ", "   ", "\t", "\n", " \t \n\n", "hello world", "  hello   world  ", "123 456", "caf\xc3\xa9",
        "\xe4\xb8\xad\xe6\x96\x87 \xe4\xb8\xad", "\xf0\x9f\x98\x80\xf0\x9f\x91\x8d", "\xd1\x84\xd1\x8b",
        "<s>not special", "a\xff\xfe" "b",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        if (!tv_roundtrip(tok, texts[i], strlen(texts[i]), HY_DETOK_STRIP_LEADING_SPACE))
            hy_test_fail(__FILE__, __LINE__, "round trip of text %zu (\"%s\")", i, texts[i]);
    hy_tokenizer_free(tok);

    tok = build_llama(1, 1, 0);  // without the prefix there is nothing to strip
    HY_REQUIRE(tok);
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        if (!tv_roundtrip(tok, texts[i], strlen(texts[i]), HY_DETOK_STRIP_LEADING_SPACE))
            hy_test_fail(__FILE__, __LINE__, "round trip without prefix, text %zu (\"%s\")", i, texts[i]);
    hy_tokenizer_free(tok);
}

HY_TEST(tokenizer_spm_capacity_reports_needed_count) {
    hy_tokenizer *tok = build_llama(1, 1, -1);
    HY_REQUIRE(tok);
    int32_t ids[2] = { -7, -7 };
    size_t n = 0;
    hy_tokenize_options o;
    hy_tokenize_options_init(&o);
    o.add_bos = 1;
    HY_CHECK_INT(hy_tokenizer_tokenize(tok, "hello world", 11, &o, ids, 1, &n), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_INT(n, 3);
    HY_CHECK_INT(ids[0], 1);
    HY_CHECK_INT(ids[1], -7);  // nothing written past the capacity
    HY_CHECK_STR(hyperionGetLastError()->fields[0].text, "capacity");
    HY_CHECK(hy_tokenizer_max_tokens(11) >= 3);
    hy_tokenizer_free(tok);
}
