/*
 * detokenize.c — ids → bytes: one token's rendering, whole sequences, and the
 * streaming decoder that only ever hands out whole UTF-8 characters.
 */
#include <string.h>

#include "core/internal.h"
#include "tokenizer/tokenizer_internal.h"
#include "tokenizer/unicode.h"

static hyperion_status bad_id(const hy_tokenizer *t, int32_t id, size_t index) {
    return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "token ids are 0 .. n_vocab - 1",
                         ((hy_field[]){ HY_NUM("id", id), HY_NUM("index", (double)index), HY_NUM("n_vocab", t->n_vocab) }),
                         "token id %d at index %zu is outside the vocabulary [0, %u)", (int)id, index, t->n_vocab);
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* A bounded writer: counts every byte, stores those that fit. */
typedef struct sink {
    char *out;
    size_t capacity, n;
    size_t skip;              /* bytes still to drop before writing (the prefix space) */
} sink;

static void put(sink *s, const char *bytes, size_t len) {
    if (s->skip) {
        size_t k = len < s->skip ? len : s->skip;
        bytes += k;
        len -= k;
        s->skip -= k;
    }
    if (len && s->n < s->capacity) memcpy(s->out + s->n, bytes, len <= s->capacity - s->n ? len : s->capacity - s->n);
    s->n += len;
}

/* Append the rendering of token id to s. */
static void render(const hy_tokenizer *t, int32_t id, unsigned flags, sink *s) {
    const char *text = t->blob + t->text_off[id];
    size_t len = t->text_len[id];
    switch (t->types[id]) {
    case HY_TOKEN_TYPE_CONTROL:
    case HY_TOKEN_TYPE_UNKNOWN:
        if (flags & HY_DETOK_RENDER_SPECIAL) put(s, text, len);
        return;
    case HY_TOKEN_TYPE_USER_DEFINED:  // matched verbatim from the input, so rendered verbatim
        put(s, text, len);
        return;
    case HY_TOKEN_TYPE_UNUSED:
        return;
    case HY_TOKEN_TYPE_BYTE:
        if (len == 6 && text[0] == '<' && text[1] == '0' && text[2] == 'x' && text[5] == '>' &&
            hex_digit(text[3]) >= 0 && hex_digit(text[4]) >= 0) {
            char b = (char)(hex_digit(text[3]) * 16 + hex_digit(text[4]));
            put(s, &b, 1);
        } else {
            put(s, text, len);  // a byte token not spelled <0xNN>: its text is all there is
        }
        return;
    default:
        break;
    }
    if (t->kind == HY_TOKENIZER_LLAMA) {
        size_t from = 0;
        for (size_t i = 0; i + 3 <= len; i++) {
            if ((unsigned char)text[i] == 0xE2 && (unsigned char)text[i + 1] == 0x96 && (unsigned char)text[i + 2] == 0x81) {
                put(s, text + from, i - from);
                put(s, " ", 1);
                from = i + 3;
                i += 2;
            }
        }
        put(s, text + from, len - from);
        return;
    }
    /* gpt2: each character of the byte alphabet is one byte; anything else
     * (not expected in a normal token) is kept as it is. */
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t step = hy_utf8_decode((const unsigned char *)text + i, len - i, &cp);
        if (step && cp < sizeof t->cp_byte / sizeof t->cp_byte[0] && t->cp_byte[cp] >= 0) {
            char b = (char)t->cp_byte[cp];
            put(s, &b, 1);
        } else {
            if (step == 0) step = 1;
            put(s, text + i, step);
        }
        i += step;
    }
}

/* 1 when the text of ids starts with the space the add-space-prefix put there
 * and HY_DETOK_STRIP_LEADING_SPACE asks to drop it. */
static size_t leading_space(const hy_tokenizer *t, const int32_t *ids, size_t n_ids, unsigned flags) {
    if (!(flags & HY_DETOK_STRIP_LEADING_SPACE) || !t->add_space_prefix) return 0;
    for (size_t i = 0; i < n_ids; i++) {
        char first;
        sink peek = { &first, 1, 0, 0 };
        render(t, ids[i], flags, &peek);
        if (peek.n) return first == ' ';
    }
    return 0;
}

size_t hy_detok_render(const hy_tokenizer *t, int32_t id, unsigned flags, char *out, size_t capacity) {
    sink s = { out, capacity, 0, 0 };
    render(t, id, flags, &s);
    return s.n;
}

size_t hy_tokenizer_max_piece_bytes(const hy_tokenizer *t) { return t ? t->max_piece : 0; }

hyperion_status hy_tokenizer_token_to_piece(const hy_tokenizer *t, int32_t id, unsigned flags, char *buf,
                                            size_t capacity, size_t *len) {
    if (len) *len = 0;
    if (!t || !len || (!buf && capacity))
        return HY_RAISE(HYPERION_INVALID_ARGUMENT, NULL,
                        "hy_tokenizer_token_to_piece: tokenizer, len and buf (when capacity > 0) must not be NULL");
    if (id < 0 || (uint32_t)id >= t->n_vocab) return bad_id(t, id, 0);
    sink s = { buf, capacity, 0, 0 };
    render(t, id, flags, &s);
    *len = s.n;
    if (s.n > capacity)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "pass a buffer of hy_tokenizer_max_piece_bytes bytes",
                             ((hy_field[]){ HY_TXT("field", "capacity"), HY_NUM("needed", s.n) }),
                             "token %d renders to %zu bytes but the buffer holds %zu", (int)id, s.n, capacity);
    return HYPERION_OK;
}

hyperion_status hy_tokenizer_detokenize(const hy_tokenizer *t, const int32_t *ids, size_t n_ids, unsigned flags,
                                        char *out, size_t capacity, size_t *len) {
    if (len) *len = 0;
    if (!t || !len || (!ids && n_ids) || (!out && capacity))
        return HY_RAISE(HYPERION_INVALID_ARGUMENT, NULL,
                        "hy_tokenizer_detokenize: tokenizer, len, ids (when n_ids > 0) and out (when capacity > 0) "
                        "must not be NULL");
    for (size_t i = 0; i < n_ids; i++)
        if (ids[i] < 0 || (uint32_t)ids[i] >= t->n_vocab) return bad_id(t, ids[i], i);

    sink s = { out, capacity, 0, leading_space(t, ids, n_ids, flags) };
    for (size_t i = 0; i < n_ids; i++) render(t, ids[i], flags, &s);
    *len = s.n;
    if (s.n > capacity)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL,
                             ((hy_field[]){ HY_TXT("field", "capacity"), HY_NUM("needed", s.n) }),
                             "the ids render to %zu bytes but the buffer holds %zu", s.n, capacity);
    return HYPERION_OK;
}
