/*
 * stream.c — the streaming decoder: generated ids in, whole UTF-8 characters
 * out. A character whose bytes come from two tokens (byte fallback, or a gpt2
 * token ending mid-character) is held until it is complete; bytes that can
 * never complete a character become U+FFFD, one per maximal ill-formed
 * subsequence, as the WHATWG decoder (and so Node's TextDecoder) does.
 */
#include <string.h>

#include "core/internal.h"
#include "tokenizer/tokenizer_internal.h"
#include "tokenizer/unicode.h"

static const char REPLACEMENT[3] = { (char)0xEF, (char)0xBF, (char)0xBD };  // U+FFFD

struct hy_token_stream {
    const hy_tokenizer *tok;
    unsigned flags;
    int strip_pending;        /* the leading-space rule is still to apply */
    size_t pushed;            /* ids pushed so far, for error messages */
    unsigned char held[4];    /* an unfinished character's first bytes */
    size_t n_held;
    char *work;               /* [max_piece + 4]: held bytes + the new piece */
    char *out;                /* [3 * (max_piece + 4)]: every byte may become U+FFFD */
};

static int strip_applies(const hy_token_stream *s) {
    return (s->flags & HY_DETOK_STRIP_LEADING_SPACE) && s->tok->add_space_prefix;
}

hyperion_status hy_token_stream_create(const hy_tokenizer *tok, unsigned flags, hy_token_stream **out) {
    if (out) *out = NULL;
    if (!tok || !out)
        return HY_RAISE(HYPERION_INVALID_ARGUMENT, NULL, "hy_token_stream_create: tokenizer and out must not be NULL");
    size_t work = tok->max_piece + 4;
    hy_token_stream *s = hyperionCalloc(1, sizeof *s, HYPERION_TAG_TOKENIZER);
    if (!s) return hyperionGetLastError()->code;
    s->work = hyperionAlloc(work * 4, HYPERION_TAG_TOKENIZER);
    if (!s->work) {
        hyperionFree(s);
        return hyperionGetLastError()->code;
    }
    s->out = s->work + work;
    s->tok = tok;
    s->flags = flags;
    s->strip_pending = strip_applies(s);
    *out = s;
    return HYPERION_OK;
}

void hy_token_stream_free(hy_token_stream *s) {
    if (!s) return;
    hyperionFree(s->work);
    hyperionFree(s);
}

void hy_token_stream_reset(hy_token_stream *s) {
    if (!s) return;
    s->n_held = 0;
    s->pushed = 0;
    s->strip_pending = strip_applies(s);
}

size_t hy_token_stream_pending(const hy_token_stream *s) { return s ? s->n_held : 0; }

/* Copy the complete characters of work[0..n) to out, replacing ill-formed
 * bytes; an unfinished character at the very end is kept in s->held unless
 * final. Returns the output length. */
static size_t decode(hy_token_stream *s, const char *work, size_t n, int final) {
    const unsigned char *w = (const unsigned char *)work;
    size_t i = 0, o = 0;
    s->n_held = 0;
    while (i < n) {
        uint32_t cp;
        size_t step = hy_utf8_decode(w + i, n - i, &cp);
        if (step) {
            memcpy(s->out + o, work + i, step);
            o += step;
            i += step;
            continue;
        }
        if (!final && n - i <= 3 && hy_utf8_incomplete_tail(w + i, n - i) == n - i) {
            memcpy(s->held, w + i, n - i);
            s->n_held = n - i;
            break;
        }
        memcpy(s->out + o, REPLACEMENT, 3);
        o += 3;
        i += hy_utf8_maximal_subpart(w + i, n - i);
    }
    return o;
}

hyperion_status hy_token_stream_push(hy_token_stream *s, int32_t id, const char **text, size_t *len) {
    if (text) *text = "";
    if (len) *len = 0;
    if (!s || !text || !len)
        return HY_RAISE(HYPERION_INVALID_ARGUMENT, NULL, "hy_token_stream_push: stream, text and len must not be NULL");
    const hy_tokenizer *t = s->tok;
    if (id < 0 || (uint32_t)id >= t->n_vocab)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "token ids are 0 .. n_vocab - 1",
                             ((hy_field[]){ HY_NUM("id", id), HY_NUM("index", (double)s->pushed),
                                            HY_NUM("n_vocab", t->n_vocab) }),
                             "token id %d at index %zu is outside the vocabulary [0, %u)", (int)id, s->pushed,
                             t->n_vocab);
    s->pushed++;

    size_t n = s->n_held;
    memcpy(s->work, s->held, n);
    size_t piece = hy_detok_render(t, id, s->flags, s->work + n, t->max_piece);
    char *start = s->work + n;
    if (s->strip_pending && piece > 0) {
        if (start[0] == ' ') memmove(start, start + 1, --piece);
        s->strip_pending = 0;
    }
    n += piece;
    *len = decode(s, s->work, n, 0);
    *text = s->out;
    return HYPERION_OK;
}

hyperion_status hy_token_stream_flush(hy_token_stream *s, const char **text, size_t *len) {
    if (text) *text = "";
    if (len) *len = 0;
    if (!s || !text || !len)
        return HY_RAISE(HYPERION_INVALID_ARGUMENT, NULL, "hy_token_stream_flush: stream, text and len must not be NULL");
    memcpy(s->work, s->held, s->n_held);
    *len = decode(s, s->work, s->n_held, 1);
    *text = s->out;
    hy_token_stream_reset(s);
    return HYPERION_OK;
}
