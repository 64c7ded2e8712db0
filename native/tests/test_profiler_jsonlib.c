/* test_profiler_jsonlib.c — the strict JSON reader the profiler tests use. */
#include "test_profiler_json.h"

#include "harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct parser {
    const char *s;
    size_t pos;
    char *error;
    size_t error_size;
    int failed;
} parser;

static void fail_at(parser *p, const char *what) {
    if (!p->failed) snprintf(p->error, p->error_size, "%s at byte %zu", what, p->pos);
    p->failed = 1;
}

static void skip_ws(parser *p) {
    while (p->s[p->pos] == ' ' || p->s[p->pos] == '\n' || p->s[p->pos] == '\r' || p->s[p->pos] == '\t') p->pos++;
}

static tj_value *new_value(tj_type type) {
    tj_value *v = calloc(1, sizeof *v);
    if (v) v->type = type;
    return v;
}

static tj_value *parse_value(parser *p, int depth);

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static char *parse_string_raw(parser *p) {
    if (p->s[p->pos] != '"') {
        fail_at(p, "expected a string");
        return NULL;
    }
    p->pos++;
    size_t cap = 32, len = 0;
    char *out = malloc(cap);
    for (;;) {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c == 0) {
            fail_at(p, "unterminated string");
            free(out);
            return NULL;
        }
        if (c < 0x20) {
            fail_at(p, "control character in string");
            free(out);
            return NULL;
        }
        if (len + 8 > cap) out = realloc(out, cap *= 2);
        if (c == '"') {
            p->pos++;
            break;
        }
        if (c == '\\') {
            char e = p->s[p->pos + 1];
            p->pos += 2;
            switch (e) {
            case '"': out[len++] = '"'; break;
            case '\\': out[len++] = '\\'; break;
            case '/': out[len++] = '/'; break;
            case 'b': out[len++] = '\b'; break;
            case 'f': out[len++] = '\f'; break;
            case 'n': out[len++] = '\n'; break;
            case 'r': out[len++] = '\r'; break;
            case 't': out[len++] = '\t'; break;
            case 'u': {
                int cp = 0;
                for (int i = 0; i < 4; i++) {
                    int h = hexval(p->s[p->pos + i]);
                    if (h < 0) {
                        fail_at(p, "bad \\u escape");
                        free(out);
                        return NULL;
                    }
                    cp = cp * 16 + h;
                }
                p->pos += 4;
                if (cp < 0x80) out[len++] = (char)cp;
                else if (cp < 0x800) {
                    out[len++] = (char)(0xC0 | (cp >> 6));
                    out[len++] = (char)(0x80 | (cp & 0x3F));
                } else {
                    out[len++] = (char)(0xE0 | (cp >> 12));
                    out[len++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                    out[len++] = (char)(0x80 | (cp & 0x3F));
                }
                break;
            }
            default:
                fail_at(p, "bad escape");
                free(out);
                return NULL;
            }
            continue;
        }
        out[len++] = (char)c;
        p->pos++;
    }
    out[len] = '\0';
    return out;
}

static tj_value *parse_number(parser *p) {
    size_t start = p->pos;
    const char *s = p->s;
    if (s[p->pos] == '-') p->pos++;
    if (s[p->pos] == '0') p->pos++;
    else if (s[p->pos] >= '1' && s[p->pos] <= '9') while (s[p->pos] >= '0' && s[p->pos] <= '9') p->pos++;
    else {
        fail_at(p, "bad number");
        return NULL;
    }
    if (s[p->pos] == '.') {
        p->pos++;
        if (!(s[p->pos] >= '0' && s[p->pos] <= '9')) {
            fail_at(p, "bad fraction");
            return NULL;
        }
        while (s[p->pos] >= '0' && s[p->pos] <= '9') p->pos++;
    }
    if (s[p->pos] == 'e' || s[p->pos] == 'E') {
        p->pos++;
        if (s[p->pos] == '+' || s[p->pos] == '-') p->pos++;
        if (!(s[p->pos] >= '0' && s[p->pos] <= '9')) {
            fail_at(p, "bad exponent");
            return NULL;
        }
        while (s[p->pos] >= '0' && s[p->pos] <= '9') p->pos++;
    }
    tj_value *v = new_value(TJ_NUMBER);
    size_t n = p->pos - start;
    v->text = malloc(n + 1);
    memcpy(v->text, s + start, n);
    v->text[n] = '\0';
    v->number = strtod(v->text, NULL);
    return v;
}

static void push(tj_value *v, tj_value *item, char *key) {
    v->items = realloc(v->items, (v->n + 1) * sizeof *v->items);
    v->items[v->n] = item;
    if (v->type == TJ_OBJECT) {
        v->keys = realloc(v->keys, (v->n + 1) * sizeof *v->keys);
        v->keys[v->n] = key;
    }
    v->n++;
}

static tj_value *parse_value(parser *p, int depth) {
    if (depth > 64) {
        fail_at(p, "too deep");
        return NULL;
    }
    skip_ws(p);
    char c = p->s[p->pos];
    if (c == '{' || c == '[') {
        int object = c == '{';
        tj_value *v = new_value(object ? TJ_OBJECT : TJ_ARRAY);
        p->pos++;
        skip_ws(p);
        if (p->s[p->pos] == (object ? '}' : ']')) {
            p->pos++;
            return v;
        }
        for (;;) {
            char *key = NULL;
            skip_ws(p);
            if (object) {
                key = parse_string_raw(p);
                if (!key) break;
                skip_ws(p);
                if (p->s[p->pos] != ':') {
                    fail_at(p, "expected ':'");
                    free(key);
                    break;
                }
                p->pos++;
            }
            tj_value *item = parse_value(p, depth + 1);
            if (!item) {
                free(key);
                break;
            }
            push(v, item, key);
            skip_ws(p);
            if (p->s[p->pos] == ',') {
                p->pos++;
                continue;
            }
            if (p->s[p->pos] == (object ? '}' : ']')) {
                p->pos++;
                return v;
            }
            fail_at(p, "expected ',' or a closing bracket");
            break;
        }
        tj_free(v);
        return NULL;
    }
    if (c == '"') {
        char *text = parse_string_raw(p);
        if (!text) return NULL;
        tj_value *v = new_value(TJ_STRING);
        v->text = text;
        return v;
    }
    if (strncmp(p->s + p->pos, "true", 4) == 0) {
        p->pos += 4;
        tj_value *v = new_value(TJ_BOOL);
        v->boolean = 1;
        return v;
    }
    if (strncmp(p->s + p->pos, "false", 5) == 0) {
        p->pos += 5;
        return new_value(TJ_BOOL);
    }
    if (strncmp(p->s + p->pos, "null", 4) == 0) {
        p->pos += 4;
        return new_value(TJ_NULL);
    }
    return parse_number(p);
}

tj_value *tj_parse(const char *text, char *error, size_t error_size) {
    parser p = { text, 0, error, error_size, 0 };
    if (error_size) error[0] = '\0';
    tj_value *v = parse_value(&p, 0);
    if (v) {
        skip_ws(&p);
        if (p.s[p.pos] != '\0') {
            fail_at(&p, "text after the document");
            tj_free(v);
            v = NULL;
        }
    }
    return v;
}

void tj_free(tj_value *v) {
    if (!v) return;
    for (size_t i = 0; i < v->n; i++) {
        tj_free(v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->text);
    free(v);
}

const tj_value *tj_get(const tj_value *o, const char *key) {
    if (!o || o->type != TJ_OBJECT) return NULL;
    for (size_t i = 0; i < o->n; i++)
        if (strcmp(o->keys[i], key) == 0) return o->items[i];
    return NULL;
}

const tj_value *tj_at(const tj_value *a, size_t i) {
    if (!a || a->type != TJ_ARRAY || i >= a->n) return NULL;
    return a->items[i];
}

double tj_num(const tj_value *v) {
    return v && v->type == TJ_NUMBER ? v->number : NAN;
}

const char *tj_str(const tj_value *v) {
    return v && v->type == TJ_STRING ? v->text : NULL;
}

int64_t tj_milli(const tj_value *v) {
    if (!v || v->type != TJ_NUMBER) return -1;
    const char *s = v->text;
    int64_t whole = 0, frac = 0;
    int digits = 0;
    if (*s < '0' || *s > '9') return -1;
    while (*s >= '0' && *s <= '9') whole = whole * 10 + (*s++ - '0');
    if (*s == '.') {
        s++;
        while (*s >= '0' && *s <= '9' && digits < 3) {
            frac = frac * 10 + (*s++ - '0');
            digits++;
        }
    }
    if (*s) return -1;
    while (digits++ < 3) frac *= 10;
    return whole * 1000 + frac;
}

char *tj_read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    buf[got] = '\0';
    fclose(f);
    return buf;
}

/* The reader itself: it must refuse what JSON refuses. */
HY_TEST(profiler_json_reader_is_strict) {
    char err[128];
    const char *bad[] = { "{\"a\":1,}", "[1,2,]", "{\"a\":NaN}", "{\"a\":01}", "\"x\ty\"", "{\"a\" 1}", "[1] 2", "{'a':1}" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tj_value *v = tj_parse(bad[i], err, sizeof err);
        HY_CHECK(v == NULL);
        tj_free(v);
    }
    tj_value *v = tj_parse("{\"b\":[1.250,\"x\\u00e9\"],\"a\":null,\"c\":true}", err, sizeof err);
    HY_REQUIRE(v != NULL);
    HY_CHECK_STR(v->keys[0], "b");
    HY_CHECK_INT(tj_milli(tj_at(tj_get(v, "b"), 0)), 1250);
    HY_CHECK_STR(tj_str(tj_at(tj_get(v, "b"), 1)), "x\xc3\xa9");
    HY_CHECK(tj_get(v, "a")->type == TJ_NULL);
    tj_free(v);
}
