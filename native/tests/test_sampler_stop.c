/*
 * test_sampler_stop.c — stop strings over streamed pieces: held-back text,
 * stops that straddle two or more pieces, false starts, several stop strings,
 * flush, reset and validation.
 */
#include <stdlib.h>

#include "harness.h"
#include "sampling/stop.h"

static hy_stop_matcher *make(const char *const *stops, size_t n) {
    size_t lens[16];
    for (size_t i = 0; i < n; i++) lens[i] = strlen(stops[i]);
    hy_stop_matcher *m = NULL;
    return hy_stop_create(stops, lens, n, &m) == HYPERION_OK ? m : NULL;
}

/* Feed pieces; collect the emitted text; report the stop index or -1. */
static int32_t feed(hy_stop_matcher *m, const char *const *pieces, size_t n, char *out, int flush) {
    size_t at = 0;
    out[0] = 0;
    for (size_t i = 0; i < n; i++) {
        hy_stop_result r;
        if (hy_stop_push(m, pieces[i], strlen(pieces[i]), &r) != HYPERION_OK) return -2;
        memcpy(out + at, r.text, r.len);
        at += r.len;
        out[at] = 0;
        if (r.stopped) return r.stop_index;
    }
    if (flush) {
        hy_stop_result r;
        if (hy_stop_flush(m, &r) != HYPERION_OK) return -2;
        memcpy(out + at, r.text, r.len);
        at += r.len;
        out[at] = 0;
    }
    return -1;
}

HY_TEST(stop_string_inside_one_piece) {
    static const char *const stops[] = { "</s>" };
    hy_stop_matcher *m = make(stops, 1);
    HY_REQUIRE(m);
    char out[256];
    HY_CHECK_INT(feed(m, (const char *const[]){ "Hello", " world</s> more" }, 2, out, 1), 0);
    HY_CHECK_STR(out, "Hello world");
    /* After a stop every push says stopped and emits nothing. */
    hy_stop_result r;
    HY_CHECK_INT(hy_stop_push(m, "x", 1, &r), HYPERION_OK);
    HY_CHECK(r.stopped && r.len == 0 && r.stop_index == 0);
    hy_stop_reset(m);
    HY_CHECK_INT(feed(m, (const char *const[]){ "no stop here" }, 1, out, 1), -1);
    HY_CHECK_STR(out, "no stop here");
    hy_stop_free(m);
}

HY_TEST(stop_string_straddling_pieces_is_held_back) {
    static const char *const stops[] = { "###" };
    hy_stop_matcher *m = make(stops, 1);
    HY_REQUIRE(m);
    hy_stop_result r;
    HY_CHECK_INT(hy_stop_push(m, "abc#", 4, &r), HYPERION_OK);
    HY_CHECK(r.len == 3 && memcmp(r.text, "abc", 3) == 0 && !r.stopped);
    HY_CHECK_INT(hy_stop_held(m), 1);
    HY_CHECK_INT(hy_stop_push(m, "#", 1, &r), HYPERION_OK);
    HY_CHECK(r.len == 0 && !r.stopped);
    HY_CHECK_INT(hy_stop_held(m), 2);
    HY_CHECK_INT(hy_stop_push(m, "#tail", 5, &r), HYPERION_OK);
    HY_CHECK(r.stopped && r.len == 0 && r.stop_index == 0);
    hy_stop_reset(m);

    /* Over three pieces, one byte each, with text before. */
    char out[256];
    HY_CHECK_INT(feed(m, (const char *const[]){ "x", "#", "#", "#", "y" }, 5, out, 1), 0);
    HY_CHECK_STR(out, "x");
    hy_stop_reset(m);

    /* A false start is released once it cannot be a stop any more. */
    HY_CHECK_INT(hy_stop_push(m, "a##", 3, &r), HYPERION_OK);
    HY_CHECK(r.len == 1 && r.text[0] == 'a');
    HY_CHECK_INT(hy_stop_push(m, "b", 1, &r), HYPERION_OK);
    HY_CHECK(r.len == 3 && memcmp(r.text, "##b", 3) == 0);
    HY_CHECK_INT(hy_stop_held(m), 0);
    hy_stop_free(m);
}

HY_TEST(stop_string_overlapping_prefixes_and_several_stops) {
    /* "aab": after "aa" + "a" the held part must be "aa" again (the longest
     * suffix that starts the stop string), not lost. */
    static const char *const s1[] = { "aab" };
    hy_stop_matcher *m = make(s1, 1);
    HY_REQUIRE(m);
    char out[256];
    HY_CHECK_INT(feed(m, (const char *const[]){ "xa", "a", "a", "b!" }, 4, out, 1), 0);
    HY_CHECK_STR(out, "xa");
    hy_stop_free(m);

    /* Two stop strings: the one that completes first in the stream wins. */
    static const char *const s2[] = { "abc", "b" };
    m = make(s2, 2);
    HY_REQUIRE(m);
    HY_CHECK_INT(feed(m, (const char *const[]){ "xab", "c" }, 2, out, 1), 1);
    HY_CHECK_STR(out, "xa");
    hy_stop_free(m);
    static const char *const s3[] = { "\nUser:", "<|im_end|>" };
    m = make(s3, 2);
    HY_REQUIRE(m);
    HY_CHECK_INT(feed(m, (const char *const[]){ "Sure.", "\n", "Us", "er", ":", " hi" }, 6, out, 1), 0);
    HY_CHECK_STR(out, "Sure.");
    hy_stop_reset(m);
    HY_CHECK_INT(feed(m, (const char *const[]){ "Done<|im", "_end", "|>" }, 3, out, 1), 1);
    HY_CHECK_STR(out, "Done");
    hy_stop_reset(m);
    /* Never completed: the held part comes out at flush. */
    HY_CHECK_INT(feed(m, (const char *const[]){ "end\nUse" }, 1, out, 1), -1);
    HY_CHECK_STR(out, "end\nUse");
    hy_stop_free(m);
}

HY_TEST(stop_string_multibyte_and_long_pieces) {
    static const char *const stops[] = { "\xe2\x96\x81\xe2\x96\x81" };  // "▁▁"
    hy_stop_matcher *m = make(stops, 1);
    HY_REQUIRE(m);
    char out[4096];
    HY_CHECK_INT(feed(m, (const char *const[]){ "caf\xc3\xa9 \xe2\x96\x81", "\xe2\x96\x81" }, 2, out, 1), 0);
    HY_CHECK_STR(out, "caf\xc3\xa9 ");
    hy_stop_reset(m);
    /* A piece far longer than the buffer's first size grows it. */
    char *big = malloc(3000);
    memset(big, 'z', 2999);
    big[2999] = 0;
    HY_CHECK_INT(feed(m, (const char *const[]){ big, "end" }, 2, out, 1), -1);
    HY_CHECK(strlen(out) == 3002);
    free(big);
    hy_stop_free(m);

    /* No stop strings at all: everything passes straight through. */
    m = make(NULL, 0);
    HY_REQUIRE(m);
    HY_CHECK_INT(feed(m, (const char *const[]){ "a", "b" }, 2, out, 0), -1);
    HY_CHECK_STR(out, "ab");
    hy_stop_free(m);
}

HY_TEST(stop_string_validation) {
    const char *stops[2] = { "ok", "" };
    size_t lens[2] = { 2, 0 };
    hy_stop_matcher *m = (hy_stop_matcher *)0x1;
    HY_CHECK_INT(hy_stop_create(stops, lens, 2, &m), HYPERION_INVALID_ARGUMENT);
    HY_CHECK(m == NULL);
    const hyperion_error *e = hyperionGetLastError();
    HY_CHECK_STR(e->fields[0].text, "stop");
    HY_CHECK_NEAR(e->fields[1].number, 1, 0);
    HY_CHECK_INT(hy_stop_create(stops, lens, HY_STOP_MAX_STRINGS + 1, &m), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_INT(hy_stop_create(stops, NULL, 1, &m), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_INT(hy_stop_create(stops, lens, 1, &m), HYPERION_OK);
    hy_stop_result r;
    HY_CHECK_INT(hy_stop_push(m, NULL, 3, &r), HYPERION_INVALID_ARGUMENT);
    hy_stop_free(m);
}
