/* unicode.c — strict UTF-8 and the \p{L} / \p{N} / \s class lookup. */
#include "tokenizer/unicode.h"

/* ASCII is most of what any tokenizer sees: answer it from a small table. */
static unsigned ascii_flags(uint32_t c) {
    if (c >= 'a' && c <= 'z') return HY_UCD_LETTER;
    if (c >= 'A' && c <= 'Z') return HY_UCD_LETTER;
    if (c >= '0' && c <= '9') return HY_UCD_NUMBER;
    if (c == ' ' || (c >= 0x09 && c <= 0x0D)) return HY_UCD_SPACE;
    return 0;
}

unsigned hy_unicode_flags(uint32_t cp) {
    if (cp < 0x80) return ascii_flags(cp);
    unsigned lo = 0, hi = hy_unicode_range_count;
    while (lo < hi) {  // first range whose last >= cp
        unsigned mid = lo + (hi - lo) / 2;
        if (hy_unicode_ranges[mid].last < cp) lo = mid + 1;
        else hi = mid;
    }
    if (lo < hy_unicode_range_count && hy_unicode_ranges[lo].first <= cp) return hy_unicode_ranges[lo].flags;
    return 0;
}

/* The valid range of the second byte for each lead byte (Unicode Table 3-7);
 * later continuation bytes are always 0x80..0xBF. */
static int lead_info(unsigned char b, size_t *len, unsigned char *lo2, unsigned char *hi2) {
    *lo2 = 0x80;
    *hi2 = 0xBF;
    if (b < 0x80) { *len = 1; return 1; }
    if (b >= 0xC2 && b <= 0xDF) { *len = 2; return 1; }
    if (b >= 0xE0 && b <= 0xEF) {
        *len = 3;
        if (b == 0xE0) *lo2 = 0xA0;          // no overlongs
        if (b == 0xED) *hi2 = 0x9F;          // no surrogates
        return 1;
    }
    if (b >= 0xF0 && b <= 0xF4) {
        *len = 4;
        if (b == 0xF0) *lo2 = 0x90;          // no overlongs
        if (b == 0xF4) *hi2 = 0x8F;          // nothing past U+10FFFF
        return 1;
    }
    return 0;                                // 0x80..0xC1, 0xF5..0xFF never lead
}

size_t hy_utf8_maximal_subpart(const unsigned char *s, size_t n) {
    if (n == 0) return 0;
    size_t len;
    unsigned char lo2, hi2;
    if (!lead_info(s[0], &len, &lo2, &hi2)) return 1;
    size_t i = 1;
    for (; i < len && i < n; i++) {
        unsigned char lo = i == 1 ? lo2 : 0x80, hi = i == 1 ? hi2 : 0xBF;
        if (s[i] < lo || s[i] > hi) break;
    }
    return i;
}

size_t hy_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp) {
    if (n == 0) return 0;
    size_t len;
    unsigned char lo2, hi2;
    if (!lead_info(s[0], &len, &lo2, &hi2)) return 0;
    if (hy_utf8_maximal_subpart(s, n) != len) return 0;
    uint32_t v;
    switch (len) {
    case 1: v = s[0]; break;
    case 2: v = ((uint32_t)(s[0] & 0x1F) << 6) | (s[1] & 0x3F); break;
    case 3: v = ((uint32_t)(s[0] & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F); break;
    default:
        v = ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) | ((uint32_t)(s[2] & 0x3F) << 6) |
            (s[3] & 0x3F);
        break;
    }
    *cp = v;
    return len;
}

size_t hy_utf8_encode(uint32_t cp, char out[4]) {
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t hy_utf8_incomplete_tail(const unsigned char *s, size_t n) {
    /* A sequence is at most 4 bytes, so an unfinished one starts in the last 3. */
    size_t from = n > 3 ? n - 3 : 0;
    for (size_t start = from; start < n; start++) {
        size_t len;
        unsigned char lo2, hi2;
        if (!lead_info(s[start], &len, &lo2, &hi2) || len == 1) continue;
        size_t have = n - start;
        if (have < len && hy_utf8_maximal_subpart(s + start, have) == have) return have;
    }
    return 0;
}
