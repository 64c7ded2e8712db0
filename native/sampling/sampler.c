/*
 * sampler.c — the sampling chain of sampler.h over buffers sized once.
 *
 * The working array holds (id, logit, weight) per candidate. After the
 * penalties and bias it is compacted to the tokens still possible, in id order.
 * Every filter keeps a prefix of the candidates in the total order
 * (logit desc, id asc), so filtering only needs that prefix sorted: a
 * quickselect brings the best k to the front, then those k are sorted. With no
 * filter the draw walks the id order. Either way the order the draw sees is
 * canonical, so the choice never depends on how the sort went about it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "sampling/rng.h"
#include "sampling/sampler.h"

typedef struct cand {
    int32_t id;
    float logit;
    double weight;            /* exp((logit - max) / temperature) */
} cand;

struct hy_sampler {
    hy_sampler_options opt;   /* logit_bias points at bias below */
    uint32_t n_vocab;
    hy_logit_bias *bias;      /* [opt.n_logit_bias] */
    hy_rng rng;
    cand *cand;               /* [n_vocab] */
    uint32_t *counts;         /* [n_vocab] occurrences in the history ring (penalties only) */
    uint32_t *stamp;          /* [n_vocab] last step a penalty was applied to the token */
    uint32_t step;
    int32_t *ring;            /* [repeat_last_n] the last accepted tokens */
    uint32_t ring_len, ring_head;
    hy_sample_candidate *top; /* [n_candidates] */
};

/* ------------------------------------------------------------- options */

void hy_sampler_options_init(hy_sampler_options *o) {
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->temperature = 0.8f;
    o->top_k = 40;
    o->top_p = 0.95f;
    o->min_p = 0.05f;
    o->repeat_penalty = 1.0f;
    o->repeat_last_n = 64;
}

static hyperion_status bad_option(const char *field, double value, const char *rule) {
    return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, rule, ((hy_field[]){ HY_TXT("field", field), HY_NUM("value", value) }),
                         "sampler option %s = %g is invalid: %s", field, value, rule);
}

hyperion_status hy_sampler_options_validate(const hy_sampler_options *o, uint32_t n_vocab) {
    if (!o) return HY_RAISE(HYPERION_INVALID_ARGUMENT, NULL, "sampler options must not be NULL");
    if (n_vocab == 0)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", "n_vocab") }),
                             "the sampler needs a vocabulary of at least one token");
    if (!isfinite(o->temperature) || o->temperature < 0)
        return bad_option("temperature", o->temperature, "use a finite value >= 0 (0 = greedy)");
    if (o->top_k < 0) return bad_option("top_k", o->top_k, "use 0 (off) or a positive count");
    if (!isfinite(o->top_p) || o->top_p <= 0 || o->top_p > 1)
        return bad_option("top_p", o->top_p, "use a value in (0, 1] (1 = off)");
    if (!isfinite(o->min_p) || o->min_p < 0 || o->min_p > 1)
        return bad_option("min_p", o->min_p, "use a value in [0, 1] (0 = off)");
    if (!isfinite(o->repeat_penalty) || o->repeat_penalty <= 0)
        return bad_option("repeat_penalty", o->repeat_penalty, "use a finite value > 0 (1 = off)");
    if (!isfinite(o->frequency_penalty))
        return bad_option("frequency_penalty", o->frequency_penalty, "use a finite value (0 = off)");
    if (!isfinite(o->presence_penalty))
        return bad_option("presence_penalty", o->presence_penalty, "use a finite value (0 = off)");
    if (o->repeat_last_n < 0 || o->repeat_last_n > HY_SAMPLER_MAX_LAST_N)
        return bad_option("repeat_last_n", o->repeat_last_n, "use 0 (off) up to 1048576");
    if (o->n_candidates < 0 || o->n_candidates > HY_SAMPLER_MAX_CANDIDATES)
        return bad_option("n_candidates", o->n_candidates, "use 0 (off) up to 256");
    if (o->n_logit_bias && !o->logit_bias)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", "logit_bias") }),
                             "logit_bias is NULL but n_logit_bias is %zu", o->n_logit_bias);
    if (o->n_logit_bias > HY_SAMPLER_MAX_LAST_N)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL,
                             ((hy_field[]){ HY_TXT("field", "logit_bias"), HY_NUM("count", (double)o->n_logit_bias) }),
                             "%zu logit_bias entries are too many", o->n_logit_bias);
    for (size_t i = 0; i < o->n_logit_bias; i++) {
        const hy_logit_bias *b = &o->logit_bias[i];
        if (b->token < 0 || (uint32_t)b->token >= n_vocab)
            return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "token ids are 0 .. n_vocab - 1",
                                 ((hy_field[]){ HY_TXT("field", "logit_bias"), HY_NUM("index", (double)i),
                                                HY_NUM("token", b->token), HY_NUM("n_vocab", n_vocab) }),
                                 "logit_bias[%zu] names token %d, outside the vocabulary [0, %u)", i, (int)b->token,
                                 n_vocab);
        if (isnan(b->bias) || b->bias == INFINITY)
            return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "use a finite bias, or -Infinity to ban the token",
                                 ((hy_field[]){ HY_TXT("field", "logit_bias"), HY_NUM("index", (double)i),
                                                HY_NUM("token", b->token) }),
                                 "logit_bias[%zu] for token %d is %g", i, (int)b->token, (double)b->bias);
    }
    return HYPERION_OK;
}

/* ------------------------------------------------------------ lifetime */

hyperion_status hy_sampler_create(const hy_sampler_options *options, uint32_t n_vocab, hy_sampler **out) {
    if (out) *out = NULL;
    if (!out) return HY_RAISE(HYPERION_INVALID_ARGUMENT, NULL, "hy_sampler_create: out must not be NULL");
    hyperion_status st = hy_sampler_options_validate(options, n_vocab);
    if (st != HYPERION_OK) return st;

    hy_sampler *s = hyperionCalloc(1, sizeof *s, HYPERION_TAG_SAMPLER);
    if (!s) return hyperionGetLastError()->code;
    s->opt = *options;
    s->n_vocab = n_vocab;
    int ok = 1;
    s->cand = hyperionCalloc(n_vocab, sizeof(cand), HYPERION_TAG_SAMPLER);
    ok = ok && s->cand;
    if (ok && options->n_logit_bias) {
        s->bias = hyperionCalloc(options->n_logit_bias, sizeof(hy_logit_bias), HYPERION_TAG_SAMPLER);
        ok = s->bias != NULL;
        if (ok) memcpy(s->bias, options->logit_bias, options->n_logit_bias * sizeof(hy_logit_bias));
    }
    s->opt.logit_bias = s->bias;
    if (ok && options->repeat_last_n > 0) {
        s->counts = hyperionCalloc(n_vocab, sizeof(uint32_t), HYPERION_TAG_SAMPLER);
        s->stamp = hyperionCalloc(n_vocab, sizeof(uint32_t), HYPERION_TAG_SAMPLER);
        s->ring = hyperionCalloc((size_t)options->repeat_last_n, sizeof(int32_t), HYPERION_TAG_SAMPLER);
        ok = s->counts && s->stamp && s->ring;
    }
    if (ok && options->n_candidates > 0) {
        s->top = hyperionCalloc((size_t)options->n_candidates, sizeof(hy_sample_candidate), HYPERION_TAG_SAMPLER);
        ok = s->top != NULL;
    }
    if (!ok) {
        hyperion_status code = hyperionGetLastError()->code;
        hy_sampler_free(s);
        return code;
    }
    hy_rng_seed(&s->rng, options->seed);
    *out = s;
    return HYPERION_OK;
}

void hy_sampler_free(hy_sampler *s) {
    if (!s) return;
    hyperionFree(s->top);
    hyperionFree(s->ring);
    hyperionFree(s->stamp);
    hyperionFree(s->counts);
    hyperionFree(s->bias);
    hyperionFree(s->cand);
    hyperionFree(s);
}

void hy_sampler_reset(hy_sampler *s, uint64_t seed) {
    if (!s) return;
    if (s->counts) memset(s->counts, 0, (size_t)s->n_vocab * sizeof(uint32_t));
    s->ring_len = s->ring_head = 0;
    hy_rng_seed(&s->rng, seed);
}

hyperion_status hy_sampler_accept(hy_sampler *s, int32_t token) {
    if (!s) return HY_RAISE(HYPERION_INVALID_ARGUMENT, NULL, "hy_sampler_accept: sampler must not be NULL");
    if (token < 0 || (uint32_t)token >= s->n_vocab)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "token ids are 0 .. n_vocab - 1",
                             ((hy_field[]){ HY_NUM("id", token), HY_NUM("n_vocab", s->n_vocab) }),
                             "accepted token id %d is outside the vocabulary [0, %u)", (int)token, s->n_vocab);
    uint32_t cap = (uint32_t)s->opt.repeat_last_n;
    if (cap == 0) return HYPERION_OK;
    if (s->ring_len == cap) {  // full: the oldest token leaves the window
        s->counts[s->ring[s->ring_head]]--;
        s->ring[s->ring_head] = token;
        s->ring_head = (s->ring_head + 1) % cap;
    } else {
        s->ring[(s->ring_head + s->ring_len) % cap] = token;
        s->ring_len++;
    }
    s->counts[token]++;
    return HYPERION_OK;
}

/* ------------------------------------------------------- ordering helpers */

/* a comes before b: higher logit, then lower id (a total order). */
static int before(const cand *a, const cand *b) {
    return a->logit > b->logit || (a->logit == b->logit && a->id < b->id);
}

static int compare_cand(const void *pa, const void *pb) {
    const cand *a = pa, *b = pb;
    return before(a, b) ? -1 : before(b, a) ? 1 : 0;
}

static void swap(cand *a, cand *b) {
    cand t = *a;
    *a = *b;
    *b = t;
}

/* Rearrange a[lo, hi) so that a[lo, k) holds its best k - lo entries (in any
 * order). Quickselect with a median-of-three pivot. */
static void select_best(cand *a, size_t lo, size_t hi, size_t k) {
    while (lo < k && k < hi && hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2, last = hi - 1;
        if (before(&a[mid], &a[lo])) swap(&a[mid], &a[lo]);
        if (before(&a[last], &a[lo])) swap(&a[last], &a[lo]);
        if (before(&a[last], &a[mid])) swap(&a[last], &a[mid]);
        swap(&a[mid], &a[last]);  // the median is the pivot, parked at the end
        size_t store = lo;
        for (size_t i = lo; i < last; i++)
            if (before(&a[i], &a[last])) swap(&a[i], &a[store++]);
        swap(&a[store], &a[last]);
        if (k <= store) hi = store;
        else lo = store + 1;
    }
}

/* Make a[0, k) the best k of a[0, n), sorted; *sorted is how much already is. */
static void sort_prefix(cand *a, size_t n, size_t k, size_t *sorted) {
    if (k > n) k = n;
    if (k <= *sorted) return;
    select_best(a, *sorted, n, k);
    qsort(a + *sorted, k - *sorted, sizeof(cand), compare_cand);
    *sorted = k;
}

/* ---------------------------------------------------------------- stages */

static void apply_penalties(hy_sampler *s) {
    const hy_sampler_options *o = &s->opt;
    if (!s->ring_len || (o->repeat_penalty == 1.0f && o->frequency_penalty == 0.0f && o->presence_penalty == 0.0f))
        return;
    if (++s->step == 0) {  // the stamp counter wrapped: start the stamps over
        memset(s->stamp, 0, (size_t)s->n_vocab * sizeof(uint32_t));
        s->step = 1;
    }
    uint32_t cap = (uint32_t)o->repeat_last_n;
    for (uint32_t k = 0; k < s->ring_len; k++) {
        int32_t t = s->ring[(s->ring_head + k) % cap];
        if (s->stamp[t] == s->step) continue;  // once per distinct token
        s->stamp[t] = s->step;
        float l = s->cand[t].logit;
        if (o->repeat_penalty != 1.0f) l = l > 0 ? l / o->repeat_penalty : l * o->repeat_penalty;
        l -= (float)s->counts[t] * o->frequency_penalty + o->presence_penalty;
        s->cand[t].logit = l;
    }
}

hyperion_status hy_sampler_sample(hy_sampler *s, const float *logits, hy_sample_result *result) {
    if (result) memset(result, 0, sizeof *result);
    if (!s || !logits || !result)
        return HY_RAISE(HYPERION_INVALID_ARGUMENT, NULL, "hy_sampler_sample: sampler, logits and result must not be NULL");
    const hy_sampler_options *o = &s->opt;
    uint32_t nv = s->n_vocab;

    for (uint32_t i = 0; i < nv; i++) {
        float l = logits[i];
        if (isnan(l) || l == INFINITY)
            return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "the model produced an invalid logit",
                                 ((hy_field[]){ HY_TXT("field", "logits"), HY_NUM("index", i) }),
                                 "logit %u is %g", i, (double)l);
        s->cand[i].id = (int32_t)i;
        s->cand[i].logit = l;
    }
    apply_penalties(s);
    for (size_t i = 0; i < o->n_logit_bias; i++) s->cand[s->bias[i].token].logit += s->bias[i].bias;

    /* Compact to the possible tokens (in id order) and take the model's
     * log-normalizer over them. */
    size_t n = 0;
    float max_logit = -INFINITY;
    for (uint32_t i = 0; i < nv; i++) {
        if (s->cand[i].logit == -INFINITY || isnan(s->cand[i].logit)) continue;
        s->cand[n++] = s->cand[i];
        if (s->cand[i].logit > max_logit) max_logit = s->cand[i].logit;
    }
    if (n == 0)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "ban fewer tokens with logit_bias",
                             ((hy_field[]){ HY_TXT("field", "logit_bias") }),
                             "no token is left to sample: every logit is -infinity after penalties and bias");
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += exp((double)s->cand[i].logit - max_logit);
    double log_norm = max_logit + log(sum);
    size_t n_all = n, sorted = 0, chosen;
    int filtered = 0;
    double kept_sum = 1.0;

    if (o->temperature == 0.0f) {
        chosen = 0;  // the first maximum in id order: lowest id on ties
        for (size_t i = 1; i < n; i++)
            if (s->cand[i].logit > s->cand[chosen].logit) chosen = i;
        swap(&s->cand[0], &s->cand[chosen]);  // keep "kept set = prefix of size 1"
        chosen = 0;
        s->cand[0].weight = 1.0;
        n = 1;
        filtered = 1;
        sorted = 1;
    } else {
        /* top-k */
        if (o->top_k > 0 && (size_t)o->top_k < n) {
            sort_prefix(s->cand, n, (size_t)o->top_k, &sorted);
            n = (size_t)o->top_k;
            filtered = 1;
        }
        /* softmax with temperature (weights; normalized by their sum) */
        double t = o->temperature, max_kept = filtered ? s->cand[0].logit : max_logit, z = 0;
        for (size_t i = 0; i < n; i++) {
            s->cand[i].weight = exp(((double)s->cand[i].logit - max_kept) / t);
            z += s->cand[i].weight;
        }
        /* top-p: the sorted prefix grows until its mass reaches top_p */
        if (o->top_p < 1.0f) {
            double target = (double)o->top_p * z;
            for (size_t k = n < 64 ? n : 64;; k = k * 4 < n ? k * 4 : n) {
                sort_prefix(s->cand, n, k, &sorted);
                double cum = 0;
                size_t j = 0;
                while (j < k && cum < target) cum += s->cand[j++].weight;
                if (cum >= target || k == n) {
                    n = j;
                    break;
                }
            }
            filtered = 1;
        }
        /* min-p: relative to the most likely token left (weight 1 by construction) */
        if (o->min_p > 0.0f) {
            double best = 0;
            for (size_t i = 0; i < n; i++)
                if (s->cand[i].weight > best) best = s->cand[i].weight;
            double threshold = (double)o->min_p * best;
            size_t m = 0;
            for (size_t i = 0; i < n; i++) m += s->cand[i].weight >= threshold;
            sort_prefix(s->cand, n, m, &sorted);  // the m best are exactly those above the threshold
            n = m;
            filtered = 1;
        }
        /* the draw, over the canonical order of what is left */
        kept_sum = 0;
        for (size_t i = 0; i < n; i++) kept_sum += s->cand[i].weight;
        double u = hy_rng_uniform(&s->rng) * kept_sum, cum = 0;
        chosen = n;
        for (size_t i = 0; i < n; i++) {
            cum += s->cand[i].weight;
            if (u < cum) {
                chosen = i;
                break;
            }
        }
        if (chosen == n) {  // u rounded up to the total: the last token with any weight
            chosen = n - 1;
            while (chosen > 0 && s->cand[chosen].weight == 0) chosen--;
        }
    }

    const cand *c = &s->cand[chosen];
    result->token = c->id;
    result->logprob = (float)((double)c->logit - log_norm);
    result->probability = (float)(c->weight / kept_sum);

    /* Debug: the best N by adjusted logit, with the model's and the draw's view. */
    if (o->n_candidates > 0) {
        int32_t chosen_id = c->id;
        size_t kept = n;
        int all_kept = !filtered;
        /* Weights of entries past the kept set are stale or absent: recompute
         * only what is shown. */
        sort_prefix(s->cand, n_all, (size_t)o->n_candidates, &sorted);
        size_t shown = (size_t)o->n_candidates < n_all ? (size_t)o->n_candidates : n_all;
        for (size_t i = 0; i < shown; i++) {
            hy_sample_candidate *out = &s->top[i];
            out->token = s->cand[i].id;
            out->logit = s->cand[i].logit;
            out->logprob = (float)((double)s->cand[i].logit - log_norm);
            int in_draw = all_kept || i < kept;
            if (o->temperature == 0.0f) out->probability = s->cand[i].id == chosen_id ? 1.0f : 0.0f;
            else out->probability = in_draw ? (float)(s->cand[i].weight / kept_sum) : 0.0f;
        }
        result->n_candidates = (uint32_t)shown;
        result->candidates = s->top;
    }
    return HYPERION_OK;
}
