/* stop.c — the stop-string matcher of stop.h. */
#include <string.h>

#include "core/internal.h"
#include "sampling/stop.h"

struct hy_stop_matcher {
    size_t n;
    char *texts;              /* all stop strings, back to back */
    size_t offs[HY_STOP_MAX_STRINGS];
    size_t lens[HY_STOP_MAX_STRINGS];
    size_t longest;
    char *buf;                /* held-back text + the current piece */
    size_t cap, held;
    size_t tail_at;           /* where in buf the held bytes are (0 once moved to the front) */
    int stopped;
    int32_t stop_index;
};

hyperion_status hy_stop_create(const char *const *stops, const size_t *lengths, size_t n, hy_stop_matcher **out) {
    if (out) *out = NULL;
    if (!out || (n && (!stops || !lengths)))
        return HY_RAISE(HYPERION_INVALID_ARGUMENT, NULL, "hy_stop_create: out, stops and lengths must not be NULL");
    if (n > HY_STOP_MAX_STRINGS)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL,
                             ((hy_field[]){ HY_TXT("field", "stop"), HY_NUM("count", (double)n),
                                            HY_NUM("limit", HY_STOP_MAX_STRINGS) }),
                             "%zu stop strings are more than the %d supported", n, HY_STOP_MAX_STRINGS);
    size_t total = 0, longest = 0;
    for (size_t i = 0; i < n; i++) {
        if (!stops[i] || lengths[i] == 0 || lengths[i] > HY_STOP_MAX_LENGTH)
            return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "stop strings must be 1 to 4096 bytes",
                                 ((hy_field[]){ HY_TXT("field", "stop"), HY_NUM("index", (double)i),
                                                HY_NUM("length", (double)lengths[i]) }),
                                 "stop string %zu is empty, missing or longer than %d bytes", i, HY_STOP_MAX_LENGTH);
        total += lengths[i];
        if (lengths[i] > longest) longest = lengths[i];
    }
    hy_stop_matcher *m = hyperionCalloc(1, sizeof *m, HYPERION_TAG_SAMPLER);
    if (!m) return hyperionGetLastError()->code;
    m->n = n;
    m->longest = longest;
    m->texts = hyperionAlloc(total ? total : 1, HYPERION_TAG_SAMPLER);
    m->cap = longest + 256;
    m->buf = hyperionAlloc(m->cap, HYPERION_TAG_SAMPLER);
    if (!m->texts || !m->buf) {
        hyperion_status code = hyperionGetLastError()->code;
        hy_stop_free(m);
        return code;
    }
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(m->texts + at, stops[i], lengths[i]);
        m->offs[i] = at;
        m->lens[i] = lengths[i];
        at += lengths[i];
    }
    m->stop_index = -1;
    *out = m;
    return HYPERION_OK;
}

void hy_stop_free(hy_stop_matcher *m) {
    if (!m) return;
    hyperionFree(m->buf);
    hyperionFree(m->texts);
    hyperionFree(m);
}

void hy_stop_reset(hy_stop_matcher *m) {
    if (!m) return;
    m->held = 0;
    m->tail_at = 0;
    m->stopped = 0;
    m->stop_index = -1;
}

/* Bring the held bytes to the front of buf (the previous result's text, which
 * they followed, is no longer needed). */
static void settle(hy_stop_matcher *m) {
    if (m->tail_at && m->held) memmove(m->buf, m->buf + m->tail_at, m->held);
    m->tail_at = 0;
}

size_t hy_stop_held(const hy_stop_matcher *m) { return m ? m->held : 0; }

/* First occurrence of needle in hay (memmem is not in every C library). */
static const char *find(const char *hay, size_t n, const char *needle, size_t m) {
    if (m == 0 || m > n) return NULL;
    for (const char *p = hay, *end = hay + (n - m); p <= end; p++) {
        p = memchr(p, needle[0], (size_t)(end - p) + 1);
        if (!p) return NULL;
        if (memcmp(p, needle, m) == 0) return p;
    }
    return NULL;
}

/* The stop string completing first in buf[0..len): earliest end, then earliest
 * start. Returns its index or -1; *start receives where it begins. */
static int32_t first_stop(const hy_stop_matcher *m, const char *buf, size_t len, size_t *start) {
    int32_t best = -1;
    size_t best_end = 0, best_start = 0;
    for (size_t i = 0; i < m->n; i++) {
        const char *hit = find(buf, len, m->texts + m->offs[i], m->lens[i]);
        if (!hit) continue;
        size_t s = (size_t)(hit - buf), e = s + m->lens[i];
        if (best < 0 || e < best_end || (e == best_end && s < best_start)) {
            best = (int32_t)i;
            best_end = e;
            best_start = s;
        }
    }
    *start = best_start;
    return best;
}

/* The longest k < some stop's length such that buf's last k bytes are that
 * stop's first k bytes. */
static size_t partial_suffix(const hy_stop_matcher *m, const char *buf, size_t len) {
    size_t limit = m->longest ? m->longest - 1 : 0;
    if (limit > len) limit = len;
    for (size_t k = limit; k > 0; k--)
        for (size_t i = 0; i < m->n; i++)
            if (m->lens[i] > k && memcmp(buf + len - k, m->texts + m->offs[i], k) == 0) return k;
    return 0;
}

hyperion_status hy_stop_push(hy_stop_matcher *m, const char *piece, size_t len, hy_stop_result *r) {
    if (r) {
        memset(r, 0, sizeof *r);
        r->text = "";
        r->stop_index = -1;
    }
    if (!m || !r || (!piece && len))
        return HY_RAISE(HYPERION_INVALID_ARGUMENT, NULL, "hy_stop_push: matcher, result and piece must not be NULL");
    if (m->stopped) {
        r->stopped = 1;
        r->stop_index = m->stop_index;
        return HYPERION_OK;
    }
    settle(m);
    if (len > SIZE_MAX - m->held)
        return HY_RAISE(HYPERION_INVALID_ARGUMENT, NULL, "hy_stop_push: piece too long");
    size_t total = m->held + len;
    if (total > m->cap) {
        size_t cap = m->cap;
        while (cap < total) cap = cap > SIZE_MAX / 2 ? total : cap * 2;
        char *grown = hyperionRealloc(m->buf, cap, HYPERION_TAG_SAMPLER);
        if (!grown) return hyperionGetLastError()->code;
        m->buf = grown;
        m->cap = cap;
    }
    if (len) memcpy(m->buf + m->held, piece, len);

    size_t start;
    int32_t hit = first_stop(m, m->buf, total, &start);
    r->text = m->buf;
    if (hit >= 0) {
        r->len = start;
        r->stopped = 1;
        r->stop_index = hit;
        m->stopped = 1;
        m->stop_index = hit;
        m->held = 0;
        return HYPERION_OK;
    }
    /* Release all but a possible beginning of a stop string; the held tail
     * stays right after the released text until the next call. */
    size_t keep = partial_suffix(m, m->buf, total);
    r->len = total - keep;
    m->held = keep;
    m->tail_at = total - keep;
    return HYPERION_OK;
}

hyperion_status hy_stop_flush(hy_stop_matcher *m, hy_stop_result *r) {
    if (r) {
        memset(r, 0, sizeof *r);
        r->text = "";
        r->stop_index = -1;
    }
    if (!m || !r) return HY_RAISE(HYPERION_INVALID_ARGUMENT, NULL, "hy_stop_flush: matcher and result must not be NULL");
    if (m->stopped) {
        r->stopped = 1;
        r->stop_index = m->stop_index;
        return HYPERION_OK;
    }
    settle(m);
    r->text = m->buf;
    r->len = m->held;
    m->held = 0;
    return HYPERION_OK;
}
