/*
 * unicode.h — the little Unicode the tokenizers need: strict UTF-8 decoding and
 * encoding, and the classes \p{L}, \p{N} and \s of the pre-tokenizer rules.
 * Internal to the tokenizer module.
 */
#ifndef HYPERION_TOKENIZER_UNICODE_H
#define HYPERION_TOKENIZER_UNICODE_H

#include <stddef.h>
#include <stdint.h>

#define HY_UCD_LETTER 1u  /* general category L* */
#define HY_UCD_NUMBER 2u  /* general category N* */
#define HY_UCD_SPACE 4u   /* White_Space property */

typedef struct hy_unicode_range {
    uint32_t first, last;  /* inclusive */
    uint32_t flags;        /* HY_UCD_* */
} hy_unicode_range;

/* Generated tables (unicode_tables.c): sorted, disjoint ranges with nonzero flags. */
extern const hy_unicode_range hy_unicode_ranges[];
extern const unsigned hy_unicode_range_count;
extern const char hy_unicode_version[];

/* The HY_UCD_* flags of a code point; 0 for anything else (marks, symbols,
 * punctuation, unassigned, out of range). */
unsigned hy_unicode_flags(uint32_t cp);

/* Decode one well-formed UTF-8 sequence at s[0..n). Returns its length (1..4)
 * and sets *cp; returns 0 when s does not start with a well-formed sequence
 * (stray continuation, overlong form, surrogate, beyond U+10FFFF, truncated). */
size_t hy_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* Encode cp (<= U+10FFFF) into out; returns the length (1..4). */
size_t hy_utf8_encode(uint32_t cp, char out[4]);

/* For streaming: how many bytes at the END of s[0..n) form the start of a
 * well-formed sequence that is not complete yet (0..3). Such a tail may become
 * valid once more bytes arrive; anything else is either complete or invalid. */
size_t hy_utf8_incomplete_tail(const unsigned char *s, size_t n);

/* Length of the maximal prefix of s[0..n) that could start a well-formed
 * sequence (the "maximal subpart" of the Unicode standard, used to decide how
 * many bytes one U+FFFD replaces). Always >= 1 when n >= 1. */
size_t hy_utf8_maximal_subpart(const unsigned char *s, size_t n);

#endif
