/*
 * text.c — the text checks every module shares: UTF-8 well-formedness (one
 * definition: shortest form, no surrogates, nothing past U+10FFFF) and JSON
 * string escaping.
 */
#include "internal.h"

#include <string.h>

size_t hy_utf8_sequence_length(const unsigned char *s, size_t available) {
    unsigned char c = s[0];
    size_t n;
    uint32_t min;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) { n = 2; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 3; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 4; min = 0x10000; }
    else return 0;
    if (n > available) return 0;
    uint32_t cp = c & (0xFF >> (n + 1));
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

size_t hy_json_escape(const char *text, size_t length, char *out, size_t size) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)text;
    size_t o = 0;
    if (size == 0) return 0;
    for (size_t i = 0; i < length;) {
        char piece[8];
        size_t piece_len = 0;
        size_t consumed = 1;
        unsigned char c = s[i];
        if (c == '"' || c == '\\') { piece[0] = '\\'; piece[1] = (char)c; piece_len = 2; }
        else if (c == '\n') { memcpy(piece, "\\n", 2); piece_len = 2; }
        else if (c == '\r') { memcpy(piece, "\\r", 2); piece_len = 2; }
        else if (c == '\t') { memcpy(piece, "\\t", 2); piece_len = 2; }
        else if (c < 0x20 || c == 0x7F) {
            memcpy(piece, "\\u00", 4);
            piece[4] = hex[c >> 4];
            piece[5] = hex[c & 15];
            piece_len = 6;
        } else if (c < 0x80) { piece[0] = (char)c; piece_len = 1; }
        else {
            size_t n = hy_utf8_sequence_length(s + i, length - i);
            if (n == 0) { memcpy(piece, "\xEF\xBF\xBD", 3); piece_len = 3; }
            else { memcpy(piece, s + i, n); piece_len = n; consumed = n; }
        }
        if (o + piece_len + 1 > size) break;
        memcpy(out + o, piece, piece_len);
        o += piece_len;
        i += consumed;
    }
    out[o] = '\0';
    return o;
}
