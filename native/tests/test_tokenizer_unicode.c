/*
 * test_tokenizer_unicode.c — strict UTF-8, the \p{L} / \p{N} / \s tables, and
 * the hand-written pre-tokenizer splits of each family against splits worked
 * out from the regexes by hand.
 */
#include <stdlib.h>

#include "harness.h"
#include "tokenizer/tokenizer_internal.h"
#include "tokenizer/unicode.h"

HY_TEST(tokenizer_unicode_classes) {
    HY_CHECK_INT(hy_unicode_flags('a'), HY_UCD_LETTER);
    HY_CHECK_INT(hy_unicode_flags('Z'), HY_UCD_LETTER);
    HY_CHECK_INT(hy_unicode_flags('7'), HY_UCD_NUMBER);
    HY_CHECK_INT(hy_unicode_flags(' '), HY_UCD_SPACE);
    HY_CHECK_INT(hy_unicode_flags('\t'), HY_UCD_SPACE);
    HY_CHECK_INT(hy_unicode_flags('\r'), HY_UCD_SPACE);
    HY_CHECK_INT(hy_unicode_flags('_'), 0);
    HY_CHECK_INT(hy_unicode_flags(0x1C), 0);          // a separator control, not White_Space
    HY_CHECK_INT(hy_unicode_flags(0x85), HY_UCD_SPACE);
    HY_CHECK_INT(hy_unicode_flags(0xA0), HY_UCD_SPACE);
    HY_CHECK_INT(hy_unicode_flags(0x3000), HY_UCD_SPACE);
    HY_CHECK_INT(hy_unicode_flags(0x2028), HY_UCD_SPACE);
    HY_CHECK_INT(hy_unicode_flags(0x200B), 0);        // zero width space is not White_Space
    HY_CHECK_INT(hy_unicode_flags(0xE9), HY_UCD_LETTER);      // é
    HY_CHECK_INT(hy_unicode_flags(0xBD), HY_UCD_NUMBER);      // ½ (No)
    HY_CHECK_INT(hy_unicode_flags(0x661), HY_UCD_NUMBER);     // Arabic-Indic one (Nd)
    HY_CHECK_INT(hy_unicode_flags(0x2163), HY_UCD_NUMBER);    // Roman numeral four (Nl)
    HY_CHECK_INT(hy_unicode_flags(0x4E2D), HY_UCD_LETTER);    // 中
    HY_CHECK_INT(hy_unicode_flags(0x1780), HY_UCD_LETTER);    // Khmer ka
    HY_CHECK_INT(hy_unicode_flags(0x17B6), 0);                // Khmer vowel sign (Mc)
    HY_CHECK_INT(hy_unicode_flags(0x301), 0);                 // combining acute (Mn)
    HY_CHECK_INT(hy_unicode_flags(0x1F600), 0);               // emoji (So)
    HY_CHECK_INT(hy_unicode_flags(0x20000), HY_UCD_LETTER);   // CJK extension B
    HY_CHECK_INT(hy_unicode_flags(0x10FFFF), 0);
    HY_CHECK_INT(hy_unicode_flags(0x110000), 0);
    /* The table is sorted and disjoint. */
    for (unsigned i = 1; i < hy_unicode_range_count; i++)
        HY_CHECK(hy_unicode_ranges[i - 1].last < hy_unicode_ranges[i].first);
}

HY_TEST(tokenizer_utf8_strict_decoding) {
    uint32_t cp = 0;
    HY_CHECK_INT(hy_utf8_decode((const unsigned char *)"\xc3\xa9", 2, &cp), 2);
    HY_CHECK_INT(cp, 0xE9);
    HY_CHECK_INT(hy_utf8_decode((const unsigned char *)"\xf0\x9f\x98\x80", 4, &cp), 4);
    HY_CHECK_INT(cp, 0x1F600);
    HY_CHECK_INT(hy_utf8_decode((const unsigned char *)"\xc0\xaf", 2, &cp), 0);           // overlong
    HY_CHECK_INT(hy_utf8_decode((const unsigned char *)"\xe0\x80\xaf", 3, &cp), 0);       // overlong
    HY_CHECK_INT(hy_utf8_decode((const unsigned char *)"\xed\xa0\x80", 3, &cp), 0);       // surrogate
    HY_CHECK_INT(hy_utf8_decode((const unsigned char *)"\xf4\x90\x80\x80", 4, &cp), 0);   // > U+10FFFF
    HY_CHECK_INT(hy_utf8_decode((const unsigned char *)"\x80", 1, &cp), 0);
    HY_CHECK_INT(hy_utf8_decode((const unsigned char *)"\xe4\xb8", 2, &cp), 0);           // truncated
    HY_CHECK_INT(hy_utf8_maximal_subpart((const unsigned char *)"\xe4\xb8x", 3), 2);
    HY_CHECK_INT(hy_utf8_maximal_subpart((const unsigned char *)"\xe0\x80", 2), 1);
    HY_CHECK_INT(hy_utf8_maximal_subpart((const unsigned char *)"\xff", 1), 1);
    HY_CHECK_INT(hy_utf8_incomplete_tail((const unsigned char *)"ab\xe4\xb8", 4), 2);
    HY_CHECK_INT(hy_utf8_incomplete_tail((const unsigned char *)"ab\xf0", 3), 1);
    HY_CHECK_INT(hy_utf8_incomplete_tail((const unsigned char *)"ab\xe4\xb8\xad", 5), 0);
    HY_CHECK_INT(hy_utf8_incomplete_tail((const unsigned char *)"ab\xe0\x80", 4), 0);  // can never complete
    HY_CHECK_INT(hy_utf8_incomplete_tail((const unsigned char *)"\x80\x80", 2), 0);
    char buf[4];
    HY_CHECK_INT(hy_utf8_encode(0x10FFFF, buf), 4);
    HY_CHECK_INT(hy_utf8_encode(0x7FF, buf), 2);
}

/* Split text with pre and compare with the expected words, given as one
 * string with '|' between words. */
static void expect_split(int line, hy_pretokenizer pre, const char *text, const char *want) {
    size_t len = strlen(text);
    hy_tok_scratch s;
    memset(&s, 0, sizeof s);
    s.cps = malloc((len + 2) * sizeof(uint32_t));
    s.offs = malloc((len + 2) * sizeof(uint32_t));
    s.ends = malloc((len + 2) * sizeof(uint32_t));
    s.flags = malloc(len + 2);
    size_t n = hy_pretokenize(pre, text, len, &s);
    char got[512] = "";
    size_t at = 0, begin = 0;
    for (size_t w = 0; w < n; w++) {
        size_t b0 = s.offs[begin], b1 = s.offs[s.ends[w]];
        if (w) got[at++] = '|';
        memcpy(got + at, text + b0, b1 - b0);
        at += b1 - b0;
        begin = s.ends[w];
    }
    got[at] = 0;
    if (strcmp(got, want) != 0) hy_test_fail(__FILE__, line, "pre %d split \"%s\" as \"%s\", expected \"%s\"", (int)pre, text, got, want);
    free(s.cps);
    free(s.offs);
    free(s.ends);
    free(s.flags);
}

#define SPLIT(pre, text, want) expect_split(__LINE__, (pre), (text), (want))

HY_TEST(tokenizer_pretokenize_gpt2_rules) {
    SPLIT(HY_PRE_GPT2, "Hello world", "Hello| world");
    SPLIT(HY_PRE_GPT2, "I'm here, they'll see", "I|'m| here|,| they|'ll| see");
    SPLIT(HY_PRE_GPT2, "I'M", "I|'|M");                              // case-sensitive contractions
    SPLIT(HY_PRE_GPT2, "  hi", " | hi");                             // the last space leads the word
    SPLIT(HY_PRE_GPT2, "hi  ", "hi|  ");                             // trailing spaces stay together
    SPLIT(HY_PRE_GPT2, "x \n\ny", "x| \n|\n|y");                     // \s+(?!\S) then \s+
    SPLIT(HY_PRE_GPT2, "a\tb", "a|\t|b");
    SPLIT(HY_PRE_GPT2, "123456 7", "123456| 7");
    SPLIT(HY_PRE_GPT2, "3.14!!", "3|.|14|!!");
    SPLIT(HY_PRE_GPT2, " (x)", " (|x|)");
    SPLIT(HY_PRE_GPT2, "caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87", "caf\xc3\xa9| \xe4\xb8\xad\xe6\x96\x87");
    SPLIT(HY_PRE_GPT2, "e\xcc\x81", "e|\xcc\x81");                  // a combining mark is not \p{L}
    SPLIT(HY_PRE_GPT2, "\xd9\xa1\xd9\xa2x", "\xd9\xa1\xd9\xa2|x");  // Arabic-Indic digits are \p{N}
    SPLIT(HY_PRE_GPT2, "a\xff" "b", "a|\xff|b");                     // a stray byte is "other"
    SPLIT(HY_PRE_GPT2, "\xf0\x9f\x98\x80\xf0\x9f\x98\x80 ok", "\xf0\x9f\x98\x80\xf0\x9f\x98\x80| ok");
    SPLIT(HY_PRE_GPT2, "", "");
}

HY_TEST(tokenizer_pretokenize_llama3_rules) {
    SPLIT(HY_PRE_LLAMA3, "Hello world", "Hello| world");
    SPLIT(HY_PRE_LLAMA3, "I'M", "I|'M");                             // (?i:...)
    SPLIT(HY_PRE_LLAMA3, "x'\xc5\xbfy", "x|'\xc5\xbf|y");                 // U+017F folds to 's'
    SPLIT(HY_PRE_GPT2, "x'\xc5\xbfy", "x|'|\xc5\xbfy");
    SPLIT(HY_PRE_LLAMA3, "123456 7", "123|456| |7");                 // \p{N}{1,3}; the space stays alone
    SPLIT(HY_PRE_LLAMA3, "1234567", "123|456|7");
    SPLIT(HY_PRE_LLAMA3, "(hi)", "(hi|)");                           // [^\r\n\p{L}\p{N}]?\p{L}+
    SPLIT(HY_PRE_LLAMA3, "\t\tx", "\t|\tx");
    SPLIT(HY_PRE_LLAMA3, "Hello\n\nworld", "Hello|\n\n|world");      // \s*[\r\n]+
    SPLIT(HY_PRE_LLAMA3, "a \n \n b", "a| \n \n| b");               // through the last newline
    SPLIT(HY_PRE_LLAMA3, "!!\n\nx", "!!\n\n|x");                     //  ?[^\s\p{L}\p{N}]+[\r\n]*
    SPLIT(HY_PRE_LLAMA3, "x  ", "x|  ");
    SPLIT(HY_PRE_LLAMA3, "x   y", "x|  | y");
    SPLIT(HY_PRE_QWEN2, "1234 ab", "1|2|3|4| ab");
    SPLIT(HY_PRE_DIGITS_GPT2, "abc 123x", "abc| |1|2|3|x");
    SPLIT(HY_PRE_DIGITS_GPT2, "a 1b", "a| |1|b");
}
