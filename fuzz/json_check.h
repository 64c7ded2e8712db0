/* json_check.h — a strict JSON syntax check for the fuzzers (test-only):
 * RFC 8259 grammar, valid UTF-8 in strings, no raw control characters, no
 * NaN/Infinity, one value and nothing after it. */
#ifndef HYPERION_FUZZ_JSON_CHECK_H
#define HYPERION_FUZZ_JSON_CHECK_H

#include <stddef.h>

/* NULL when text[0..len) is one valid JSON value; else what is wrong. */
const char *hy_fuzz_json_check(const char *text, size_t len);

#endif
