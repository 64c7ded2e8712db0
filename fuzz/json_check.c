/* json_check.c — strict JSON syntax check (see json_check.h). Test-only. */
#include "json_check.h"

#include <stdint.h>

typedef struct jp {
    const unsigned char *p;
    size_t n, at;
    const char *err;
} jp;

static int fail(jp *j, const char *why) {
    if (!j->err) j->err = why;
    return 0;
}

static void ws(jp *j) {
    while (j->at < j->n && (j->p[j->at] == ' ' || j->p[j->at] == '\t' || j->p[j->at] == '\n' || j->p[j->at] == '\r')) j->at++;
}

static int lit(jp *j, const char *word) {
    for (size_t i = 0; word[i]; i++, j->at++)
        if (j->at >= j->n || j->p[j->at] != (unsigned char)word[i]) return fail(j, "bad literal (NaN or Infinity?)");
    return 1;
}

static int digits(jp *j) {
    size_t start = j->at;
    while (j->at < j->n && j->p[j->at] >= '0' && j->p[j->at] <= '9') j->at++;
    return j->at > start;
}

static int number(jp *j) {
    if (j->p[j->at] == '-') j->at++;
    if (j->at < j->n && j->p[j->at] == '0') j->at++;
    else if (!digits(j)) return fail(j, "bad number");
    if (j->at < j->n && j->p[j->at] == '.') {
        j->at++;
        if (!digits(j)) return fail(j, "bad fraction");
    }
    if (j->at < j->n && (j->p[j->at] == 'e' || j->p[j->at] == 'E')) {
        j->at++;
        if (j->at < j->n && (j->p[j->at] == '+' || j->p[j->at] == '-')) j->at++;
        if (!digits(j)) return fail(j, "bad exponent");
    }
    return 1;
}

/* One UTF-8 character starting at j->at (lead byte >= 0x80). */
static int utf8(jp *j) {
    unsigned char b = j->p[j->at];
    int need;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) need = 1;
    else if (b >= 0xE0 && b <= 0xEF) { need = 2; if (b == 0xE0) lo = 0xA0; if (b == 0xED) hi = 0x9F; }
    else if (b >= 0xF0 && b <= 0xF4) { need = 3; if (b == 0xF0) lo = 0x90; if (b == 0xF4) hi = 0x8F; }
    else return fail(j, "invalid UTF-8 in a string");
    j->at++;
    for (int k = 0; k < need; k++, j->at++) {
        if (j->at >= j->n) return fail(j, "truncated UTF-8 in a string");
        unsigned char c = j->p[j->at];
        if (c < lo || c > hi) return fail(j, "invalid UTF-8 in a string");
        lo = 0x80;
        hi = 0xBF;
    }
    return 1;
}

static int string(jp *j) {
    j->at++;   /* the opening quote */
    while (j->at < j->n) {
        unsigned char c = j->p[j->at];
        if (c == '"') { j->at++; return 1; }
        if (c < 0x20) return fail(j, "raw control character in a string");
        if (c == '\\') {
            if (++j->at >= j->n) break;
            c = j->p[j->at];
            if (c == 'u') {
                for (int k = 0; k < 4; k++) {
                    if (++j->at >= j->n) return fail(j, "truncated \\u escape");
                    unsigned char h = j->p[j->at];
                    if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F'))) return fail(j, "bad \\u escape");
                }
            } else if (!(c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' || c == 't')) {
                return fail(j, "bad escape");
            }
            j->at++;
            continue;
        }
        if (c >= 0x80) {
            if (!utf8(j)) return 0;
            continue;
        }
        j->at++;
    }
    return fail(j, "unterminated string");
}

static int value(jp *j, int depth) {
    if (depth > 64) return fail(j, "nesting too deep");
    ws(j);
    if (j->at >= j->n) return fail(j, "value expected");
    unsigned char c = j->p[j->at];
    if (c == '"') return string(j);
    if (c == '-' || (c >= '0' && c <= '9')) return number(j);
    if (c == 't') return lit(j, "true");
    if (c == 'f') return lit(j, "false");
    if (c == 'n') return lit(j, "null");
    if (c == '{' || c == '[') {
        unsigned char close = c == '{' ? '}' : ']';
        j->at++;
        ws(j);
        if (j->at < j->n && j->p[j->at] == close) { j->at++; return 1; }
        for (;;) {
            if (c == '{') {
                ws(j);
                if (j->at >= j->n || j->p[j->at] != '"') return fail(j, "object key expected");
                if (!string(j)) return 0;
                ws(j);
                if (j->at >= j->n || j->p[j->at] != ':') return fail(j, "':' expected");
                j->at++;
            }
            if (!value(j, depth + 1)) return 0;
            ws(j);
            if (j->at < j->n && j->p[j->at] == ',') { j->at++; continue; }
            if (j->at < j->n && j->p[j->at] == close) { j->at++; return 1; }
            return fail(j, "',' or a closing bracket expected");
        }
    }
    return fail(j, "unexpected character (NaN, Infinity or garbage?)");
}

const char *hy_fuzz_json_check(const char *text, size_t len) {
    jp j = { (const unsigned char *)text, len, 0, NULL };
    if (!text) return "no JSON";
    if (!value(&j, 0)) return j.err;
    ws(&j);
    if (j.at != j.n) return "text after the JSON value";
    return NULL;
}
