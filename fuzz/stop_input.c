/*
 * stop_input.c — the stop-string matcher against a plain oracle (test-only).
 *
 * Input: byte 0 = number of stop strings (mod 6), then each stop as a length
 * byte and its bytes (lengths 0 and over-long ones test the refusals), then
 * the stream: pieces cut by a length byte each. Checks: create refuses
 * exactly the stop lists its contract refuses (INVALID_ARGUMENT); the text
 * released, joined, is exactly the stream up to the start of the stop string
 * that completes first (earliest end, then earliest start) — or the whole
 * stream after flush when none does; nothing is released after a stop; the
 * held-back text never exceeds the longest stop string.
 */
#include "stop_input.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "sampling/stop.h"

#define MAX_STOPS 6

/* Earliest end, then earliest start, over every stop in text[0..n). Returns
 * the start, or n + 1 when no stop occurs. */
static size_t oracle(const char *text, size_t n, const char *const *stops, const size_t *lens, size_t k) {
    for (size_t end = 1; end <= n; end++) {
        size_t best = n + 1;
        for (size_t j = 0; j < k; j++)
            if (lens[j] <= end && memcmp(text + end - lens[j], stops[j], lens[j]) == 0 && end - lens[j] < best)
                best = end - lens[j];
        if (best <= n) return best;
    }
    return n + 1;
}

const char *hy_fuzz_stop_one(const uint8_t *data, size_t size) {
    hy_fuzz_mark mark;
    hy_fuzz_mark_take(&mark);
    hy_fuzz_reader r = { data, size, 0 };
    size_t k = hy_fuzz_u8(&r) % (MAX_STOPS + 1);
    const char *stops[MAX_STOPS];
    size_t lens[MAX_STOPS], longest = 0;
    int valid = 1;
    static char big[HY_STOP_MAX_LENGTH + 1];
    for (size_t j = 0; j < k; j++) {
        uint8_t len = hy_fuzz_u8(&r);
        if (len == 255) {   /* one byte over the limit */
            memset(big, 'x', sizeof big);
            stops[j] = big;
            lens[j] = sizeof big;
        } else {
            size_t n = len % 16 < hy_fuzz_left(&r) ? len % 16 : hy_fuzz_left(&r);
            stops[j] = (const char *)data + r.at;
            lens[j] = n;
            r.at += n;
        }
        valid &= lens[j] >= 1 && lens[j] <= HY_STOP_MAX_LENGTH;
        if (lens[j] > longest) longest = lens[j];
    }
    hy_stop_matcher *m = NULL;
    hyperion_status st = hy_stop_create(stops, lens, k, &m);
    const char *why = HY_FUZZ_ALLOWED(st, HYPERION_INVALID_ARGUMENT, HYPERION_MEMORY_LIMIT);
    if (!why && (st == HYPERION_OK) != valid) why = "create's answer disagrees with the stop list's validity";
    if (why || st != HYPERION_OK) {
        hy_stop_free(m);
        return why ? why : hy_fuzz_mark_check(&mark);
    }
    /* the stream: the rest of the input, cut into pieces */
    size_t total = hy_fuzz_left(&r);
    char *text = malloc(total ? total : 1), *out = malloc(total ? total : 1);
    if (!text || !out) why = "test malloc failed";
    size_t n_text = 0, n_out = 0;
    int stopped = 0;
    while (!why && hy_fuzz_left(&r)) {
        size_t len = hy_fuzz_u8(&r) % 24;
        if (len > hy_fuzz_left(&r)) len = hy_fuzz_left(&r);
        char *piece = malloc(len ? len : 1);   /* exact size: ASan sees a read past it */
        if (!piece) { why = "test malloc failed"; break; }
        memcpy(piece, data + r.at, len);
        memcpy(text + n_text, piece, len);
        n_text += len;
        r.at += len;
        hy_stop_result res;
        st = hy_stop_push(m, piece, len, &res);
        free(piece);
        if ((why = HY_FUZZ_ALLOWED(st, HYPERION_MEMORY_LIMIT))) break;
        if (st != HYPERION_OK) break;
        if (stopped && (res.len || !res.stopped)) why = "text or a restart after the stop";
        else if (res.len > total - n_out) why = "more text released than went in";
        else { memcpy(out + n_out, res.text, res.len); n_out += res.len; }
        if (!why && res.stopped && (res.stop_index < 0 || (size_t)res.stop_index >= k)) why = "stop_index out of range";
        stopped |= res.stopped;
        if (!why && !stopped && hy_stop_held(m) >= (longest ? longest : 1)) why = "holds back a whole stop string or more";
    }
    if (!why && st == HYPERION_OK && !stopped) {
        hy_stop_result res;
        if (hy_stop_flush(m, &res) != HYPERION_OK) why = "flush failed";
        else if (res.len > total - n_out) why = "more text released than went in";
        else { memcpy(out + n_out, res.text, res.len); n_out += res.len; }
    }
    if (!why && st == HYPERION_OK) {
        size_t at = oracle(text, n_text, stops, lens, k);
        if ((at <= n_text) != stopped) why = "stopped disagrees with the oracle";
        else if (n_out != (stopped ? at : n_text) || memcmp(out, text, n_out) != 0)
            why = "released text differs from the stream up to the first stop";
    }
    free(text);
    free(out);
    hy_stop_free(m);
    if (!why) why = hy_fuzz_mark_check(&mark);
    return why;
}
