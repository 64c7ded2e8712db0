/*
 * sampler_input.c — sampler invariants on fuzzed options and logits
 * (test-only; see sampler_input.h).
 *
 * The input is read as: vocabulary size, every option field (floats through
 * hy_fuzz_float, so NaN, ±Inf, denormals and huge values are common), up to 8
 * logit-bias entries, up to 8 accepted tokens, then logits for up to 4 steps.
 * Checks:
 *  - hy_sampler_create fails exactly when hy_sampler_options_validate does
 *    (and only with INVALID_ARGUMENT, or a memory status);
 *  - accept refuses ids outside the vocabulary;
 *  - a step either fails with INVALID_ARGUMENT or returns an id in range that
 *    is not banned and whose logit is neither NaN nor -Inf, with a finite
 *    probability in (0, 1], a logprob <= 0 when asked for, and at most
 *    n_candidates candidates, all in range with probabilities in [0, 1];
 *  - with clean logits (no NaN, no +Inf, some token finite) and no penalties
 *    or bias in play, a step must succeed;
 *  - greedy (temperature 0, no bias, no penalties) picks the highest logit,
 *    lowest id on ties;
 *  - the same seed replays the same choices after hy_sampler_reset.
 */
#include "sampler_input.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "sampling/sampler.h"

#define MAX_STEPS 4
#define MAX_ACCEPT 8
#define MAX_BIAS 8

typedef struct plan {
    uint32_t n_vocab;
    hy_sampler_options o;
    hy_logit_bias bias[MAX_BIAS];
    int32_t accept[MAX_ACCEPT];
    int n_accept, n_steps;
    float *logits;           /* [n_steps][n_vocab] */
} plan;

static int32_t read_token(hy_fuzz_reader *r, uint32_t n_vocab) {
    uint32_t raw = hy_fuzz_u32(r);
    return (raw >> 28) == 0xF ? (int32_t)raw : (int32_t)(raw % (n_vocab + 1));   /* n_vocab itself: one past */
}

static int read_plan(hy_fuzz_reader *r, plan *p) {
    uint16_t v = hy_fuzz_u16(r);
    p->n_vocab = v & 0x8000 ? (uint32_t)(v & 0x3FF) : (uint32_t)(v & 0x3F);   /* small vocabularies are common */
    hy_sampler_options_init(&p->o);
    uint16_t present = hy_fuzz_u16(r);   /* which fields the input sets; the rest keep their defaults */
    if (present & 1) p->o.temperature = hy_fuzz_float(r);
    if (present & 2) p->o.top_k = (int32_t)hy_fuzz_u32(r) % 1000;
    if (present & 4) p->o.top_p = hy_fuzz_float(r);
    if (present & 8) p->o.min_p = hy_fuzz_float(r);
    if (present & 16) p->o.repeat_penalty = hy_fuzz_float(r);
    if (present & 32) p->o.frequency_penalty = hy_fuzz_float(r);
    if (present & 64) p->o.presence_penalty = hy_fuzz_float(r);
    if (present & 128) p->o.repeat_last_n = (int32_t)(hy_fuzz_u32(r) % 300);
    if (present & 256) p->o.seed = hy_fuzz_u64(r);
    if (present & 512) p->o.n_candidates = (int32_t)hy_fuzz_u16(r) % 300 - 10;
    if (present & 1024) p->o.logprobs = hy_fuzz_u8(r) & 1;
    if (present & 2048) p->o.top_k = (int32_t)hy_fuzz_u32(r);          /* raw: negative, huge */
    if (present & 4096) p->o.repeat_last_n = (int32_t)hy_fuzz_u32(r);  /* raw */
    size_t n_bias = hy_fuzz_u8(r) % (MAX_BIAS + 1);
    for (size_t i = 0; i < n_bias; i++) {
        p->bias[i].token = read_token(r, p->n_vocab);
        p->bias[i].bias = hy_fuzz_float(r);
    }
    p->o.logit_bias = n_bias ? p->bias : NULL;
    p->o.n_logit_bias = n_bias;
    if (present & 8192) p->o.logit_bias = NULL;   /* count without an array */
    p->n_accept = hy_fuzz_u8(r) % (MAX_ACCEPT + 1);
    for (int i = 0; i < p->n_accept; i++) p->accept[i] = read_token(r, p->n_vocab);
    p->n_steps = 1 + hy_fuzz_u8(r) % MAX_STEPS;
    if (p->n_vocab == 0) return 0;
    p->logits = malloc((size_t)p->n_steps * p->n_vocab * sizeof(float));
    if (!p->logits) return -1;
    uint32_t h = 0x9E3779B9u;
    for (size_t i = 0; i < (size_t)p->n_steps * p->n_vocab; i++) {
        if (hy_fuzz_left(r)) p->logits[i] = hy_fuzz_float(r);
        else {   /* input exhausted: a deterministic spread so large vocabularies are not all equal */
            h = h * 1664525u + 1013904223u;
            p->logits[i] = (float)(int32_t)(h >> 8) / (float)(1 << 20);
        }
    }
    return 0;
}

static int banned(const plan *p, int32_t token) {
    for (size_t i = 0; i < p->o.n_logit_bias; i++)
        if (p->bias[i].token == token && p->bias[i].bias == -INFINITY) return 1;
    return 0;
}

static const char *check_result(const plan *p, const float *logits, const hy_sample_result *res) {
    if (res->token < 0 || (uint32_t)res->token >= p->n_vocab) return "sampled an id outside the vocabulary";
    if (banned(p, res->token)) return "sampled a banned token";
    float l = logits[res->token];
    if (isnan(l) || l == -INFINITY) return "sampled a token whose logit is NaN or -Inf";
    if (!isfinite(res->probability) || !(res->probability > 0.0f) || res->probability > 1.0001f)
        return "the chosen token's probability is not in (0, 1]";
    if ((p->o.logprobs || p->o.n_candidates > 0) && (isnan(res->logprob) || res->logprob > 1e-4f))
        return "logprob is NaN or positive";
    if (res->n_candidates > (uint32_t)(p->o.n_candidates > 0 ? p->o.n_candidates : 0))
        return "more candidates than asked for";
    if (res->n_candidates && !res->candidates) return "candidates announced but not given";
    for (uint32_t i = 0; i < res->n_candidates; i++) {
        const hy_sample_candidate *c = &res->candidates[i];
        if (c->token < 0 || (uint32_t)c->token >= p->n_vocab) return "a candidate outside the vocabulary";
        if (isnan(c->probability) || c->probability < 0.0f || c->probability > 1.0001f)
            return "a candidate's probability is not in [0, 1]";
        if (isnan(c->logprob) || c->logprob > 1e-4f) return "a candidate's logprob is NaN or positive";
    }
    return NULL;
}

/* Highest logit, lowest id on ties; -1 when every logit is -Inf. */
static int32_t argmax(const float *logits, uint32_t n) {
    int32_t best = -1;
    for (uint32_t i = 0; i < n; i++)
        if (logits[i] != -INFINITY && (best < 0 || logits[i] > logits[best])) best = (int32_t)i;
    return best;
}

static const char *run(const plan *p, hy_sampler *s, int32_t *chosen) {
    const char *why;
    int accepted = 0;
    for (int i = 0; i < p->n_accept; i++) {
        hyperion_status st = hy_sampler_accept(s, p->accept[i]);
        int valid = p->accept[i] >= 0 && (uint32_t)p->accept[i] < p->n_vocab;
        if ((st == HYPERION_OK) != valid) return "accept's answer disagrees with the id's validity";
        if ((why = HY_FUZZ_ALLOWED(st, HYPERION_INVALID_ARGUMENT))) return why;
        accepted += valid;
    }
    int penalties = p->o.repeat_last_n > 0 && accepted > 0 &&
                    (p->o.repeat_penalty != 1.0f || p->o.frequency_penalty != 0.0f || p->o.presence_penalty != 0.0f);
    for (int step = 0; step < p->n_steps; step++) {
        const float *logits = p->logits + (size_t)step * p->n_vocab;
        hy_sample_result res;
        hyperion_status st = hy_sampler_sample(s, logits, &res);
        chosen[step] = st == HYPERION_OK ? res.token : -1;
        if ((why = HY_FUZZ_ALLOWED(st, HYPERION_INVALID_ARGUMENT))) return why;
        int clean = 1, usable = 0;
        for (uint32_t i = 0; i < p->n_vocab; i++) {
            clean &= !isnan(logits[i]) && logits[i] != INFINITY;
            usable |= isfinite(logits[i]) && !banned(p, (int32_t)i);
        }
        if (st != HYPERION_OK) {
            if (clean && usable && !penalties && p->o.n_logit_bias == 0)
                return "sampling failed on clean logits without penalties or bias";
            continue;
        }
        if (!clean) return "sampling accepted a NaN or +Inf logit";
        if ((why = check_result(p, logits, &res))) return why;
        if (p->o.temperature == 0.0f && p->o.n_logit_bias == 0 && !penalties && res.token != argmax(logits, p->n_vocab))
            return "greedy did not pick the highest logit (lowest id on ties)";
        if (hy_sampler_accept(s, res.token) != HYPERION_OK) return "accepting the sampled token failed";
        accepted++;
        penalties = p->o.repeat_last_n > 0 &&
                    (p->o.repeat_penalty != 1.0f || p->o.frequency_penalty != 0.0f || p->o.presence_penalty != 0.0f);
    }
    return NULL;
}

const char *hy_fuzz_sampler_one(const uint8_t *data, size_t size) {
    hy_fuzz_mark mark;
    hy_fuzz_mark_take(&mark);
    hy_fuzz_reader r = { data, size, 0 };
    plan p;
    memset(&p, 0, sizeof p);
    if (read_plan(&r, &p) != 0) return "test malloc failed";
    const char *why = NULL;
    hyperion_status valid = hy_sampler_options_validate(&p.o, p.n_vocab);
    why = HY_FUZZ_ALLOWED(valid, HYPERION_INVALID_ARGUMENT);
    hy_sampler *s = NULL;
    hyperion_status st = hy_sampler_create(&p.o, p.n_vocab, &s);
    if (!why) why = HY_FUZZ_ALLOWED(st, HYPERION_INVALID_ARGUMENT, HYPERION_MEMORY_LIMIT, HYPERION_OUT_OF_MEMORY);
    if (!why && (valid == HYPERION_OK) != (st == HYPERION_OK || st == HYPERION_MEMORY_LIMIT || st == HYPERION_OUT_OF_MEMORY))
        why = "create and validate disagree about the options";
    if (!why && (st == HYPERION_OK) != (s != NULL)) why = "create's status and *out disagree";
    if (!why && s) {
        int32_t first[MAX_STEPS], second[MAX_STEPS];
        why = run(&p, s, first);
        if (!why) {
            hy_sampler_reset(s, p.o.seed);
            why = run(&p, s, second);
            if (!why && memcmp(first, second, (size_t)p.n_steps * sizeof first[0]) != 0)
                why = "the same seed did not replay the same choices";
        }
    }
    hy_sampler_free(s);
    free(p.logits);
    if (!why) why = hy_fuzz_mark_check(&mark);
    return why;
}
