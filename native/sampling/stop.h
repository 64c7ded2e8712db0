/*
 * stop.h — stop strings over a stream of text pieces.
 *
 * Each piece is appended to what was held back; text is released as soon as
 * it can no longer be the start of a stop string. The longest suffix that is
 * a proper prefix of some stop string is held back, so a stop string split
 * across two or more pieces is still found, and never leaks out half-printed.
 * When a stop string completes, the text before it is released and the rest is
 * dropped. The stop string that completes first in the stream wins (earliest
 * end; on equal ends the one starting earlier).
 */
#ifndef HYPERION_SAMPLING_STOP_H
#define HYPERION_SAMPLING_STOP_H

#include <stddef.h>
#include <stdint.h>

#include "hyperion.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HY_STOP_MAX_STRINGS 64
#define HY_STOP_MAX_LENGTH 4096

typedef struct hy_stop_matcher hy_stop_matcher;

typedef struct hy_stop_result {
    const char *text;          /* text that may be emitted now; valid until the next call */
    size_t len;
    int stopped;               /* 1: a stop string completed (text is what came before it) */
    int32_t stop_index;        /* which stop string, -1 when none */
} hy_stop_result;

/* Create a matcher for stops[0..n) (copied; each 1..HY_STOP_MAX_LENGTH bytes,
 * at most HY_STOP_MAX_STRINGS; n may be 0). Errors: HYPERION_INVALID_ARGUMENT
 * naming field "stop" and the index; HYPERION_MEMORY_LIMIT / OUT_OF_MEMORY.
 * Buffers come from hyperionAlloc (tag sampler). */
hyperion_status hy_stop_create(const char *const *stops, const size_t *lengths, size_t n, hy_stop_matcher **out);

void hy_stop_free(hy_stop_matcher *matcher);

/* Feed the next piece (any length; piece may be NULL when len is 0). After a
 * stop, every push returns stopped = 1 and no text until hy_stop_reset. The
 * internal buffer grows only when a piece is longer than any before. */
hyperion_status hy_stop_push(hy_stop_matcher *matcher, const char *piece, size_t len, hy_stop_result *result);

/* End of the stream: release whatever is held back (no stop can complete now). */
hyperion_status hy_stop_flush(hy_stop_matcher *matcher, hy_stop_result *result);

/* Drop held text and the stopped state. */
void hy_stop_reset(hy_stop_matcher *matcher);

/* Bytes currently held back. */
size_t hy_stop_held(const hy_stop_matcher *matcher);

#ifdef __cplusplus
}
#endif

#endif
