/*
 * test_tokenizer_detok.c — detokenizing: rendering rules per token type, id
 * validation, buffer sizes, and the streaming decoder (characters split across
 * tokens, invalid sequences, flush, the leading-space rule).
 */
#include "test_tokenizer_util.h"

static const test_piece PIECES[] = {
    { SP, -1, 0 }, { SP "hello", -1, 0 }, { SP "world", -1, 0 }, { "a", -1, 0 }, { "<|user|>", 0, HY_TOKEN_TYPE_USER_DEFINED },
    { "[unused]", 0, HY_TOKEN_TYPE_UNUSED },
};

static hy_tokenizer *build_llama(void) {
    static test_vocab v;
    tv_llama(&v, PIECES, sizeof PIECES / sizeof PIECES[0], 1, 1);
    hy_tokenizer *tok = NULL;
    return hy_tokenizer_build(&v.spec, &tok) == HYPERION_OK ? tok : NULL;
}

static int32_t B(int b) { return 3 + b; }  // byte token ids in the llama vocabulary

/* Detokenize into a NUL-terminated static buffer. */
static const char *detok(const hy_tokenizer *tok, const int32_t *ids, size_t n, unsigned flags) {
    static char out[256];
    size_t len = 0;
    if (hy_tokenizer_detokenize(tok, ids, n, flags, out, sizeof out - 1, &len) != HYPERION_OK) return "(error)";
    out[len] = 0;
    return out;
}

HY_TEST(tokenizer_detok_rendering_rules) {
    hy_tokenizer *tok = build_llama();
    HY_REQUIRE(tok);
    int32_t hello = tv_id(tok, SP "hello"), world = tv_id(tok, SP "world"), user = tv_id(tok, "<|user|>");
    int32_t unused = tv_id(tok, "[unused]");
    int32_t ids[] = { 1, hello, world, 2 };
    HY_CHECK_STR(detok(tok, ids, 4, 0), " hello world");
    HY_CHECK_STR(detok(tok, ids, 4, HY_DETOK_STRIP_LEADING_SPACE), "hello world");   // BOS renders empty first
    HY_CHECK_STR(detok(tok, ids, 4, HY_DETOK_RENDER_SPECIAL), "<s> hello world</s>");
    HY_CHECK_STR(detok(tok, ids, 4, HY_DETOK_RENDER_SPECIAL | HY_DETOK_STRIP_LEADING_SPACE), "<s> hello world</s>");
    int32_t bytes[] = { B(0xC3), B(0xA9), B('\n'), user, unused, 0 };
    HY_CHECK_STR(detok(tok, bytes, 6, 0), "\xc3\xa9\n<|user|>");
    HY_CHECK_STR(detok(tok, bytes, 6, HY_DETOK_RENDER_SPECIAL), "\xc3\xa9\n<|user|><unk>");
    HY_CHECK_STR(detok(tok, NULL, 0, 0), "");

    char piece[16];
    size_t len = 0;
    HY_CHECK_INT(hy_tokenizer_token_to_piece(tok, hello, 0, piece, sizeof piece, &len), HYPERION_OK);
    HY_CHECK(len == 6 && memcmp(piece, " hello", 6) == 0);
    HY_CHECK_INT(hy_tokenizer_token_to_piece(tok, hello, 0, piece, 3, &len), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_INT(len, 6);
    HY_CHECK(hy_tokenizer_max_piece_bytes(tok) >= 8);
    hy_tokenizer_free(tok);
}

HY_TEST(tokenizer_detok_rejects_ids_outside_vocabulary) {
    hy_tokenizer *tok = build_llama();
    HY_REQUIRE(tok);
    uint32_t n_vocab = hy_tokenizer_n_vocab(tok);
    int32_t ids[] = { 1, 5, (int32_t)n_vocab, 7 };
    char out[64] = "untouched";
    size_t len = 99;
    HY_CHECK_INT(hy_tokenizer_detokenize(tok, ids, 4, 0, out, sizeof out, &len), HYPERION_INVALID_ARGUMENT);
    const hyperion_error *e = hyperionGetLastError();
    HY_REQUIRE(e->field_count >= 2);
    HY_CHECK_STR(e->fields[0].name, "id");
    HY_CHECK_NEAR(e->fields[0].number, n_vocab, 0);
    HY_CHECK_STR(e->fields[1].name, "index");
    HY_CHECK_NEAR(e->fields[1].number, 2, 0);
    HY_CHECK(strstr(e->message, "index 2") != NULL);
    HY_CHECK_STR(out, "untouched");  // validated before anything is written

    int32_t neg[] = { -1 };
    HY_CHECK_INT(hy_tokenizer_detokenize(tok, neg, 1, 0, out, sizeof out, &len), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_NEAR(hyperionGetLastError()->fields[0].number, -1, 0);
    HY_CHECK_INT(hy_tokenizer_token_to_piece(tok, (int32_t)n_vocab + 5, 0, out, sizeof out, &len),
                 HYPERION_INVALID_ARGUMENT);

    /* A buffer too small: truncated output, the size needed, an error naming capacity. */
    int32_t hw[] = { tv_id(tok, SP "hello"), tv_id(tok, SP "world") };
    HY_CHECK_INT(hy_tokenizer_detokenize(tok, hw, 2, 0, out, 4, &len), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_INT(len, 12);
    HY_CHECK(memcmp(out, " hel", 4) == 0);
    HY_CHECK_STR(hyperionGetLastError()->fields[0].text, "capacity");
    HY_CHECK_INT(hy_tokenizer_detokenize(tok, hw, 2, HY_DETOK_STRIP_LEADING_SPACE, NULL, 0, &len),
                 HYPERION_INVALID_ARGUMENT);
    HY_CHECK_INT(len, 11);  // a size query with the strip rule counts the dropped space out
    hy_tokenizer_free(tok);
}

/* Push ids through a stream and collect everything it emits. */
static void stream_expect(int line, hy_token_stream *s, const int32_t *ids, size_t n, const char *const *want,
                          const char *want_flush) {
    for (size_t i = 0; i < n; i++) {
        const char *text;
        size_t len;
        if (hy_token_stream_push(s, ids[i], &text, &len) != HYPERION_OK) {
            hy_test_fail(__FILE__, line, "push %zu failed: %s", i, hyperionGetLastError()->message);
            return;
        }
        if (len != strlen(want[i]) || memcmp(text, want[i], len) != 0)
            hy_test_fail(__FILE__, line, "push %zu gave \"%.*s\" (%zu bytes), expected \"%s\"", i, (int)len, text, len,
                         want[i]);
    }
    const char *text;
    size_t len;
    HY_CHECK_INT(hy_token_stream_flush(s, &text, &len), HYPERION_OK);
    if (len != strlen(want_flush) || memcmp(text, want_flush, len) != 0)
        hy_test_fail(__FILE__, line, "flush gave \"%.*s\", expected \"%s\"", (int)len, text, want_flush);
    HY_CHECK_INT(hy_token_stream_pending(s), 0);
}

#define FFFD "\xef\xbf\xbd"

HY_TEST(tokenizer_stream_never_splits_a_character) {
    hy_tokenizer *tok = build_llama();
    HY_REQUIRE(tok);
    hy_token_stream *s = NULL;
    HY_REQUIRE(hy_token_stream_create(tok, 0, &s) == HYPERION_OK);
    int32_t hello = tv_id(tok, SP "hello");

    /* é in two byte tokens: nothing, then the whole character. */
    int32_t e_acute[] = { hello, B(0xC3), B(0xA9) };
    stream_expect(__LINE__, s, e_acute, 3, (const char *const[]){ " hello", "", "\xc3\xa9" }, "");
    /* A 4-byte emoji over four tokens. */
    int32_t emoji[] = { B(0xF0), B(0x9F), B(0x98), B(0x80), tv_id(tok, "a") };
    stream_expect(__LINE__, s, emoji, 5, (const char *const[]){ "", "", "", "\xf0\x9f\x98\x80", "a" }, "");
    /* An unfinished character at the end comes out as U+FFFD at flush. */
    int32_t cut[] = { tv_id(tok, "a"), B(0xE4), B(0xB8) };
    HY_CHECK_INT(hy_token_stream_pending(s), 0);
    stream_expect(__LINE__, s, cut, 3, (const char *const[]){ "a", "", "" }, FFFD);
    /* A lead byte followed by a non-continuation: replaced at once. */
    int32_t broken[] = { B(0xC3), tv_id(tok, "a") };
    stream_expect(__LINE__, s, broken, 2, (const char *const[]){ "", FFFD "a" }, "");
    /* Bytes that can never start a character: one U+FFFD per maximal subpart. */
    int32_t junk[] = { B(0xFF), B(0xE0), B(0x80), B(0xE4), B(0xB8), B(0x41) };
    stream_expect(__LINE__, s, junk, 6, (const char *const[]){ FFFD, "", FFFD FFFD, "", "", FFFD "A" }, "");
    /* Control tokens render as nothing by default and do not disturb a held character. */
    int32_t with_control[] = { B(0xC3), 2, B(0xA9) };
    stream_expect(__LINE__, s, with_control, 3, (const char *const[]){ "", "", "\xc3\xa9" }, "");
    hy_token_stream_free(s);
    hy_tokenizer_free(tok);
}

HY_TEST(tokenizer_stream_leading_space_and_errors) {
    hy_tokenizer *tok = build_llama();
    HY_REQUIRE(tok);
    hy_token_stream *s = NULL;
    HY_REQUIRE(hy_token_stream_create(tok, HY_DETOK_STRIP_LEADING_SPACE, &s) == HYPERION_OK);
    int32_t ids[] = { 1, tv_id(tok, SP "hello"), tv_id(tok, SP "world") };
    stream_expect(__LINE__, s, ids, 3, (const char *const[]){ "", "hello", " world" }, "");
    /* After flush the rule applies again. */
    stream_expect(__LINE__, s, ids + 1, 2, (const char *const[]){ "hello", " world" }, "");

    const char *text;
    size_t len;
    HY_CHECK_INT(hy_token_stream_push(s, B(0xC3), &text, &len), HYPERION_OK);
    HY_CHECK_INT(hy_token_stream_push(s, -3, &text, &len), HYPERION_INVALID_ARGUMENT);
    const hyperion_error *e = hyperionGetLastError();
    HY_CHECK_NEAR(e->fields[0].number, -3, 0);
    HY_CHECK_NEAR(e->fields[1].number, 1, 0);    // index: one id was pushed before it
    HY_CHECK_INT(hy_token_stream_pending(s), 1); // the stream is unchanged
    HY_CHECK_INT(hy_token_stream_push(s, B(0xA9), &text, &len), HYPERION_OK);
    HY_CHECK(len == 2 && memcmp(text, "\xc3\xa9", 2) == 0);
    hy_token_stream_reset(s);
    HY_CHECK_INT(hy_token_stream_pending(s), 0);
    hy_token_stream_free(s);
    hy_tokenizer_free(tok);
}

HY_TEST(tokenizer_stream_gpt2_token_ending_mid_character) {
    /* A byte-level token "a" + first byte of 中 (E4), then B8, then AD. */
    static const char *const merges[] = { "a \xc3\xa4" };  // 'a' + alphabet(0xE4) = U+00E4
    static const char *const results[] = { "a\xc3\xa4" };
    static test_vocab v;
    tv_gpt2(&v, "gpt-2", merges, results, 1, NULL, 0);
    hy_tokenizer *tok = NULL;
    HY_REQUIRE(hy_tokenizer_build(&v.spec, &tok) == HYPERION_OK);
    int32_t ids[8];
    int n = tv_tokenize(tok, "a\xe4\xb8\xad", 4, 0, 0, ids);
    HY_REQUIRE(n == 3);
    HY_CHECK_INT(ids[0], 256);
    hy_token_stream *s = NULL;
    HY_REQUIRE(hy_token_stream_create(tok, 0, &s) == HYPERION_OK);
    stream_expect(__LINE__, s, ids, 3, (const char *const[]){ "a", "", "\xe4\xb8\xad" }, "");
    hy_token_stream_free(s);
    hy_tokenizer_free(tok);
}
