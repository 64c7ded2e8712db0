/*
 * pretokenize.c — the pre-tokenizer splits of the byte-level BPE families,
 * written by hand instead of with a regex engine. Each matcher answers "where
 * does the match starting at pos end", trying the pattern's alternatives in
 * order as a backtracking regex engine would (first alternative that matches
 * wins, not the longest).
 *
 *   GPT-2:   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 *   Llama 3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}
 *            | ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 *   Qwen 2:  as Llama 3 with \p{N} (one digit per word)
 *   StarCoder/SmolLM: split off every \p{N} alone, then GPT-2 on the rest.
 *
 * A byte that starts no well-formed UTF-8 character counts as one character
 * outside every class (it matches [^\s\p{L}\p{N}]), so no input byte is lost.
 */
#include "tokenizer/tokenizer_internal.h"
#include "tokenizer/unicode.h"

#define STRAY_BYTE 0xFFFFFFFFu

typedef struct text_view {
    const uint32_t *cp;
    const uint8_t *fl;
    size_t end;               /* matches never look at or past end */
} text_view;

static int is_letter(const text_view *v, size_t i) { return i < v->end && (v->fl[i] & HY_UCD_LETTER); }
static int is_number(const text_view *v, size_t i) { return i < v->end && (v->fl[i] & HY_UCD_NUMBER); }
static int is_space(const text_view *v, size_t i) { return i < v->end && (v->fl[i] & HY_UCD_SPACE); }
/* [^\s\p{L}\p{N}] */
static int is_other(const text_view *v, size_t i) { return i < v->end && v->fl[i] == 0; }
static int is_cp(const text_view *v, size_t i, uint32_t c) { return i < v->end && v->cp[i] == c; }
static int is_newline(const text_view *v, size_t i) { return is_cp(v, i, '\r') || is_cp(v, i, '\n'); }

/* Case folding as far as the contractions need it: ASCII, and U+017F (long s)
 * which folds to 's' under Unicode (?i) matching. */
static uint32_t fold(uint32_t c) {
    if (c >= 'A' && c <= 'Z') return c + 32;
    return c == 0x17F ? 's' : c;
}

/* 's|'t|'re|'ve|'m|'ll|'d, optionally ignoring case; 0 = no match. */
static size_t match_contraction(const text_view *v, size_t pos, int ignore_case) {
    if (!is_cp(v, pos, '\'') || pos + 1 >= v->end) return 0;
    uint32_t a = v->cp[pos + 1], b = pos + 2 < v->end ? v->cp[pos + 2] : 0;
    if (ignore_case) {
        a = fold(a);
        b = fold(b);
    }
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return pos + 2;
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return pos + 3;
    return 0;
}

static size_t run_of(const text_view *v, size_t p, int (*in_class)(const text_view *, size_t)) {
    while (in_class(v, p)) p++;
    return p;
}

/* \s+(?!\S) then \s+ : a run of spaces gives back its last space when a
 * non-space follows, so that space can lead the next word. */
static size_t match_spaces(const text_view *v, size_t pos) {
    size_t end = run_of(v, pos, is_space);
    if (end - pos > 1 && end < v->end) return end - 1;
    return end;
}

static size_t match_gpt2(const text_view *v, size_t pos) {
    size_t m = match_contraction(v, pos, 0);
    if (m) return m;
    size_t after_space = pos + (is_cp(v, pos, ' ') ? 1 : 0);
    if (is_letter(v, after_space)) return run_of(v, after_space, is_letter);   //  ?\p{L}+
    if (is_number(v, after_space)) return run_of(v, after_space, is_number);   //  ?\p{N}+
    if (is_other(v, after_space)) return run_of(v, after_space, is_other);     //  ?[^\s\p{L}\p{N}]+
    if (is_space(v, pos)) return match_spaces(v, pos);
    return pos + 1;  // unreachable: every character is in one of the classes above
}

static size_t match_llama3(const text_view *v, size_t pos, size_t max_digits) {
    size_t m = match_contraction(v, pos, 1);
    if (m) return m;
    /* [^\r\n\p{L}\p{N}]?\p{L}+ */
    if (is_letter(v, pos)) return run_of(v, pos, is_letter);
    if (!is_newline(v, pos) && !is_number(v, pos) && is_letter(v, pos + 1)) return run_of(v, pos + 1, is_letter);
    /* \p{N}{1,max_digits} */
    if (is_number(v, pos)) {
        size_t p = pos;
        while (p - pos < max_digits && is_number(v, p)) p++;
        return p;
    }
    /*  ?[^\s\p{L}\p{N}]+[\r\n]* */
    size_t after_space = pos + (is_cp(v, pos, ' ') ? 1 : 0);
    if (is_other(v, after_space)) return run_of(v, run_of(v, after_space, is_other), is_newline);
    /* \s*[\r\n]+ : through the last newline of the run of spaces */
    size_t end = run_of(v, pos, is_space), last_newline = 0;
    for (size_t p = pos; p < end; p++)
        if (is_newline(v, p)) last_newline = p + 1;
    if (last_newline) return last_newline;
    if (end > pos) return match_spaces(v, pos);
    return pos + 1;  // unreachable
}

static size_t split_range(hy_pretokenizer pre, const text_view *v, size_t begin, uint32_t *ends, size_t n_words) {
    for (size_t pos = begin; pos < v->end;) {
        size_t next;
        switch (pre) {
        case HY_PRE_LLAMA3: next = match_llama3(v, pos, 3); break;
        case HY_PRE_QWEN2: next = match_llama3(v, pos, 1); break;
        default: next = match_gpt2(v, pos); break;
        }
        ends[n_words++] = (uint32_t)next;
        pos = next;
    }
    return n_words;
}

size_t hy_pretokenize(hy_pretokenizer pre, const char *text, size_t len, hy_tok_scratch *scratch) {
    uint32_t *cps = scratch->cps, *offs = scratch->offs;
    uint8_t *fl = scratch->flags;
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t step = hy_utf8_decode((const unsigned char *)text + i, len - i, &cp);
        if (step == 0) {
            cp = STRAY_BYTE;
            step = 1;
        }
        cps[n] = cp;
        fl[n] = cp == STRAY_BYTE ? 0 : (uint8_t)hy_unicode_flags(cp);
        offs[n] = (uint32_t)i;
        n++;
        i += step;
    }
    offs[n] = (uint32_t)len;

    text_view v = { cps, fl, n };
    if (pre != HY_PRE_DIGITS_GPT2) return split_range(pre, &v, 0, scratch->ends, 0);

    /* Every number character is a word; the stretches between them go through GPT-2. */
    size_t n_words = 0;
    for (size_t pos = 0; pos < n;) {
        if (fl[pos] & HY_UCD_NUMBER) {
            scratch->ends[n_words++] = (uint32_t)++pos;
            continue;
        }
        size_t stop = pos;
        while (stop < n && !(fl[stop] & HY_UCD_NUMBER)) stop++;
        text_view part = { cps, fl, stop };
        n_words = split_range(HY_PRE_GPT2, &part, pos, scratch->ends, n_words);
        pos = stop;
    }
    return n_words;
}
