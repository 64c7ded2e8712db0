/*
 * sampler.c — the sampling chain of sampler.h over buffers sized once.
 *
 * The logits are copied into `adjusted` (by id), where penalties and bias
 * apply; the tokens still possible are then packed into the candidate array in
 * id order, each as one 64-bit key that sorts in the total order
 * (logit desc, id asc) plus its weight. Every filter keeps the best tokens in
 * that order, so filtering is selection, never a full sort: top-k and min-p
 * select the best m, top-p selects by mass. The order the draw then walks is
 * fixed by the logits, options and history alone (the debug output is made
 * after the draw), so the same seed gives the same choice. A greedy step that
 * reports only the token skips the packing (sample_greedy): one pass over the
 * logits, or over the adjusted copy when penalties or bias apply.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "sampling/candidates.h"
#include "sampling/rng.h"
#include "sampling/sampler.h"

struct hy_sampler {
    hy_sampler_options opt;   /* logit_bias points at bias below */
    uint32_t n_vocab;
    hy_logit_bias *bias;      /* [opt.n_logit_bias] */
    hy_rng rng;
    float *adjusted;          /* [n_vocab] logits after penalties and bias, by id */
    cand *cand;               /* [n_vocab] the possible tokens */
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
    s->adjusted = hyperionCalloc(n_vocab, sizeof(float), HYPERION_TAG_SAMPLER);
    ok = s->cand && s->adjusted;
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
    hyperionFree(s->adjusted);
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

/* ---------------------------------------------------------------- stages */

/* 1 when apply_penalties would change nothing this step. */
static int penalties_idle(const hy_sampler *s) {
    const hy_sampler_options *o = &s->opt;
    return !s->ring_len || (o->repeat_penalty == 1.0f && o->frequency_penalty == 0.0f && o->presence_penalty == 0.0f);
}

static void apply_penalties(hy_sampler *s) {
    const hy_sampler_options *o = &s->opt;
    if (penalties_idle(s)) return;
    if (++s->step == 0) {  // the stamp counter wrapped: start the stamps over
        memset(s->stamp, 0, (size_t)s->n_vocab * sizeof(uint32_t));
        s->step = 1;
    }
    uint32_t cap = (uint32_t)o->repeat_last_n;
    for (uint32_t k = 0; k < s->ring_len; k++) {
        int32_t t = s->ring[(s->ring_head + k) % cap];
        if (s->stamp[t] == s->step) continue;  // once per distinct token
        s->stamp[t] = s->step;
        float l = s->adjusted[t];
        if (o->repeat_penalty != 1.0f) l = l > 0 ? l / o->repeat_penalty : l * o->repeat_penalty;
        l -= (float)s->counts[t] * o->frequency_penalty + o->presence_penalty;
        s->adjusted[t] = l;
    }
}

/* Pack the possible tokens (finite adjusted logit) in id order; returns how
 * many and their largest logit.
 * Valid options can still push an adjusted logit out of the finite range: a
 * tiny repeat_penalty divides a positive logit to +inf, a large negative
 * frequency/presence penalty or a large bias adds up to +inf, and an infinite
 * penalty term meeting a -inf logit gives NaN. +inf becomes the largest
 * finite logit (so the softmax stays a number); NaN only arises from a token
 * that was -inf or banned, so it stays out. */
static size_t pack(hy_sampler *s, float *max_logit) {
    size_t n = 0;
    float max = -INFINITY;
    for (uint32_t i = 0; i < s->n_vocab; i++) {
        float l = s->adjusted[i];
        if (!(l > -INFINITY)) continue;  // banned, or NaN (see above)
        if (l == INFINITY) l = s->adjusted[i] = FLT_MAX;
        s->cand[n].key = make_key(l, i);
        s->cand[n].weight = 0;
        n++;
        if (l > max) max = l;
    }
    *max_logit = max;
    return n;
}

/* log sum exp of the packed logits: the model's log-normalizer. */
static double log_normalizer(const hy_sampler *s, size_t n, float max_logit) {
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += exp((double)cand_logit(&s->cand[i]) - max_logit);
    return max_logit + log(sum);
}

/* The filters after the temperature; returns how many candidates remain. They
 * are always the best ones in the total order, at the front of the array. */
static size_t filter(hy_sampler *s, size_t n, float max_logit) {
    const hy_sampler_options *o = &s->opt;
    cand *c = s->cand;
    /* top-k */
    if (o->top_k > 0 && (size_t)o->top_k < n) {
        hy_cand_select_best(c, 0, n, (size_t)o->top_k);
        n = (size_t)o->top_k;
        max_logit = -INFINITY;
        for (size_t i = 0; i < n; i++)
            if (cand_logit(&c[i]) > max_logit) max_logit = cand_logit(&c[i]);
    }
    /* softmax with temperature, as weights (normalized by their sum in the draw) */
    double t = o->temperature, z = 0;
    for (size_t i = 0; i < n; i++) {
        c[i].weight = exp(((double)cand_logit(&c[i]) - max_logit) / t);
        z += c[i].weight;
    }
    /* top-p: the fewest best tokens whose mass reaches top_p */
    if (o->top_p < 1.0f) n = hy_cand_select_mass(c, 0, n, (double)o->top_p * z);
    /* min-p: drop tokens below min_p times the most likely one left */
    if (o->min_p > 0.0f) {
        double best = 0;
        for (size_t i = 0; i < n; i++)
            if (c[i].weight > best) best = c[i].weight;
        double threshold = (double)o->min_p * best;
        size_t m = 0;
        for (size_t i = 0; i < n; i++) m += c[i].weight >= threshold;
        hy_cand_select_best(c, 0, n, m);  // weights fall with the order, so the m best are those above
        n = m;
    }
    return n;
}

/* Draw from the first n candidates by weight; returns the index. */
static size_t draw(hy_sampler *s, size_t n, double *kept_sum) {
    const cand *c = s->cand;
    double total = 0;
    for (size_t i = 0; i < n; i++) total += c[i].weight;
    *kept_sum = total;
    double u = hy_rng_uniform(&s->rng) * total, cum = 0;
    for (size_t i = 0; i < n; i++) {
        cum += c[i].weight;
        if (u < cum) return i;
    }
    size_t last = n - 1;  // u rounded up to the total: the last token with any weight
    while (last > 0 && c[last].weight == 0) last--;
    return last;
}

static hyperion_status bad_logit(const float *logits, uint32_t i) {
    return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "the model produced an invalid logit",
                         ((hy_field[]){ HY_TXT("field", "logits"), HY_NUM("index", i) }), "logit %u is %g", i,
                         (double)logits[i]);
}

static hyperion_status nothing_left(void) {
    return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "ban fewer tokens with logit_bias",
                         ((hy_field[]){ HY_TXT("field", "logit_bias") }),
                         "no token is left to sample: every logit is -infinity after penalties and bias");
}

/* Greedy when nothing is reported (no logprob, no candidates): the highest
 * of v[0..n_vocab) with the lowest id, in one pass, with the same result as
 * the full chain below, which packs every logit into a candidate key and
 * scans the keys (~0.45 ms a token for 32000 logits under the profiler, on a
 * ~30 ms decode step). v is the caller's logits when no penalty or bias
 * applies (check: refuse NaN / +inf as the chain does), else the adjusted
 * copy, where +inf counts as the largest finite logit and NaN is no
 * candidate, as in pack(). Chunks of 64 take their maximum in eight
 * independent lanes (elementwise, so compilers vectorize it), and only a
 * chunk whose maximum beats the best so far is searched for its first such
 * value: strictly greater replaces, so ties (-0 and +0 included) go to the
 * lowest id. */
#define GREEDY_CHUNK 64

static inline float greedy_value(float l) { return l == INFINITY ? FLT_MAX : l; }

static hyperion_status sample_greedy(const hy_sampler *s, const float *v, int check, hy_sample_result *result) {
    const uint32_t nv = s->n_vocab;
    float best = -INFINITY;
    uint32_t best_id = 0;
    int bad = 0, found = 0;
    for (uint32_t c = 0; c < nv; c += GREEDY_CHUNK) {
        const uint32_t len = nv - c < GREEDY_CHUNK ? nv - c : GREEDY_CHUNK;
        const float *p = v + c;
        float lane[8] = { -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY };
        uint32_t i = 0;
        for (; i + 8 <= len; i += 8)
            for (int k = 0; k < 8; k++) {
                const float l = greedy_value(p[i + k]);
                bad |= !(p[i + k] < INFINITY);   // NaN or +inf
                lane[k] = l > lane[k] ? l : lane[k];
            }
        for (; i < len; i++) {
            const float l = greedy_value(p[i]);
            bad |= !(p[i] < INFINITY);
            lane[0] = l > lane[0] ? l : lane[0];
        }
        float m = lane[0];
        for (int k = 1; k < 8; k++) m = lane[k] > m ? lane[k] : m;
        if (m > best) {
            uint32_t j = 0;
            while (!(greedy_value(p[j]) == m)) j++;   // m is one of the chunk's values
            best = m;
            best_id = c + j;
            found = 1;
        }
    }
    if (check && bad)
        for (uint32_t i = 0; i < nv; i++)
            if (!(v[i] < INFINITY)) return bad_logit(v, i);
    if (!found) return nothing_left();
    result->token = (int32_t)best_id;
    result->logprob = NAN;
    result->probability = 1.0f;
    return HYPERION_OK;
}

hyperion_status hy_sampler_sample(hy_sampler *s, const float *logits, hy_sample_result *result) {
    if (result) memset(result, 0, sizeof *result);
    if (!s || !logits || !result)
        return HY_RAISE(HYPERION_INVALID_ARGUMENT, NULL, "hy_sampler_sample: sampler, logits and result must not be NULL");
    const hy_sampler_options *o = &s->opt;
    uint32_t nv = s->n_vocab;
    const int greedy_only = o->temperature == 0.0f && !o->logprobs && o->n_candidates == 0;
    if (greedy_only && o->n_logit_bias == 0 && penalties_idle(s)) return sample_greedy(s, logits, 1, result);

    /* Copy, and refuse NaN / +inf (the test is folded into one compare per
     * logit; the slow path finds which one). */
    int bad = 0;
    for (uint32_t i = 0; i < nv; i++) {
        float l = logits[i];
        bad |= !(l < INFINITY);
        s->adjusted[i] = l;
    }
    if (bad)
        for (uint32_t i = 0; i < nv; i++)
            if (!(logits[i] < INFINITY)) return bad_logit(logits, i);
    apply_penalties(s);
    for (size_t i = 0; i < o->n_logit_bias; i++) s->adjusted[s->bias[i].token] += s->bias[i].bias;
    if (greedy_only) return sample_greedy(s, s->adjusted, 0, result);

    float max_logit;
    size_t n_all = pack(s, &max_logit);
    if (n_all == 0) return nothing_left();
    int need_norm = o->logprobs || o->n_candidates > 0;
    double log_norm = need_norm ? log_normalizer(s, n_all, max_logit) : 0;

    size_t n, sorted = 0, chosen;
    double kept_sum = 1.0;
    if (o->temperature == 0.0f) {
        /* Greedy: the best key is the highest logit with the lowest id. */
        chosen = 0;
        for (size_t i = 1; i < n_all; i++)
            if (s->cand[i].key < s->cand[chosen].key) chosen = i;
        cand_swap(&s->cand[0], &s->cand[chosen]);  // the kept set is the sorted prefix of one
        chosen = 0;
        s->cand[0].weight = 1.0;
        n = sorted = 1;
    } else {
        n = filter(s, n_all, max_logit);
        chosen = draw(s, n, &kept_sum);
    }

    const cand *c = &s->cand[chosen];
    result->token = cand_id(c);
    result->logprob = need_norm ? (float)((double)cand_logit(c) - log_norm) : NAN;
    result->probability = (float)(c->weight / kept_sum);

    /* Debug: the best N by adjusted logit, with the model's and the draw's view.
     * The kept set is the best `kept` tokens, so after sorting the best N it
     * is their first `kept`; the rest have no current weight and show 0. */
    if (o->n_candidates > 0) {
        int32_t chosen_id = cand_id(c);
        size_t kept = n;
        hy_cand_sort_prefix(s->cand, n_all, (size_t)o->n_candidates, &sorted);
        size_t shown = (size_t)o->n_candidates < n_all ? (size_t)o->n_candidates : n_all;
        for (size_t i = 0; i < shown; i++) {
            const cand *ci = &s->cand[i];
            hy_sample_candidate *out = &s->top[i];
            out->token = cand_id(ci);
            out->logit = cand_logit(ci);
            out->logprob = (float)((double)out->logit - log_norm);
            if (o->temperature == 0.0f) out->probability = out->token == chosen_id ? 1.0f : 0.0f;
            else out->probability = i < kept ? (float)(ci->weight / kept_sum) : 0.0f;
        }
        result->n_candidates = (uint32_t)shown;
        result->candidates = s->top;
    }
    return HYPERION_OK;
}
