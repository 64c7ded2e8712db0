/*
 * candidates.h — the sampler's candidate array and the selections over it.
 * A candidate is one 64-bit key that sorts in the total order (logit desc,
 * id asc) plus a weight. Internal to the sampling module.
 */
#ifndef HYPERION_SAMPLING_CANDIDATES_H
#define HYPERION_SAMPLING_CANDIDATES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct cand {
    uint64_t key;             /* see make_key: ascending key = logit desc, id asc */
    double weight;            /* exp((logit - max) / temperature) */
} cand;

/* An order-preserving map of the float's bits (larger logit → smaller key) in
 * the high half, the id in the low half. */
static inline uint64_t make_key(float logit, uint32_t id) {
    /* -0 and +0 are the same logit: one key, so a tie between them goes to
     * the lower id like any other tie (found by the sampler fuzzer) */
    if (logit == 0.0f) logit = 0.0f;
    uint32_t bits;
    memcpy(&bits, &logit, 4);
    uint32_t ordered = (bits & 0x80000000u) ? ~bits : bits | 0x80000000u;  // ascending with the value
    return ((uint64_t)~ordered << 32) | id;
}

static inline int32_t cand_id(const cand *c) { return (int32_t)(uint32_t)c->key; }

static inline float cand_logit(const cand *c) {
    uint32_t ordered = ~(uint32_t)(c->key >> 32), bits = (ordered & 0x80000000u) ? ordered & 0x7FFFFFFFu : ~ordered;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline void cand_swap(cand *a, cand *b) {
    cand t = *a;
    *a = *b;
    *b = t;
}

/* Rearrange a[lo, hi) so that a[lo, k) holds its k - lo best candidates, in
 * any order (lo <= k <= hi). */
void hy_cand_select_best(cand *a, size_t lo, size_t hi, size_t k);

/* Move to a[lo, ...) the fewest best candidates of a[lo, hi) whose weights
 * reach target, in any order; returns the end of that set. */
size_t hy_cand_select_mass(cand *a, size_t lo, size_t hi, double target);

/* Make a[0, k) the best k of a[0, n), sorted; *sorted says how many already
 * are and is updated. */
void hy_cand_sort_prefix(cand *a, size_t n, size_t k, size_t *sorted);

#endif
