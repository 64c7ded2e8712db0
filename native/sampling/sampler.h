/*
 * sampler.h — choosing the next token from a vector of logits.
 *
 * The stages, in order:
 *   1. penalties over the last repeat_last_n accepted tokens (repeat,
 *      frequency, presence);
 *   2. logit bias (a bias of -INFINITY bans a token);
 *   3. temperature == 0: greedy — the highest logit, lowest id on ties; done;
 *   4. top-k (keep the k highest logits);
 *   5. softmax with temperature;
 *   6. top-p (the smallest set of most likely tokens whose mass reaches top_p);
 *   7. min-p (drop tokens less likely than min_p × the most likely one);
 *   8. a draw from the renormalized rest with a seeded xoshiro256** generator.
 * Ordering ties are broken by the lower id everywhere, so a choice depends only
 * on the logits, the options, the seed and the accepted history.
 *
 * A sampler owns all its buffers (hyperionAlloc, tag sampler), sized for the
 * vocabulary at creation and reused for every step: sampling never allocates.
 * One sampler serves one generation at a time (not thread-safe).
 */
#ifndef HYPERION_SAMPLING_SAMPLER_H
#define HYPERION_SAMPLING_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "hyperion.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hy_logit_bias {
    int32_t token;
    float bias;               /* added to the logit; -INFINITY bans the token */
} hy_logit_bias;

#define HY_SAMPLER_MAX_CANDIDATES 256
#define HY_SAMPLER_MAX_LAST_N (1 << 20)

typedef struct hy_sampler_options {
    float temperature;         /* >= 0; 0 = greedy */
    int32_t top_k;             /* >= 0; 0 = off */
    float top_p;               /* (0, 1]; 1 = off */
    float min_p;               /* [0, 1]; 0 = off */
    float repeat_penalty;      /* > 0; 1 = off. logit > 0: divided by it; otherwise multiplied */
    float frequency_penalty;   /* finite; 0 = off. minus count × this */
    float presence_penalty;    /* finite; 0 = off. minus this once for any token seen */
    int32_t repeat_last_n;     /* 0 .. HY_SAMPLER_MAX_LAST_N accepted tokens the penalties look at; 0 = off */
    const hy_logit_bias *logit_bias;  /* [n_logit_bias]; copied at creation */
    size_t n_logit_bias;
    uint64_t seed;
    int32_t n_candidates;      /* 0 .. HY_SAMPLER_MAX_CANDIDATES: report the top N (debug); 0 = none */
    int logprobs;              /* 1: fill hy_sample_result.logprob (one more exp pass over the
                                  vocabulary); implied by n_candidates > 0 */
} hy_sampler_options;

/* One of the top candidates of a step (debug mode). */
typedef struct hy_sample_candidate {
    int32_t token;
    float logit;               /* after penalties and bias */
    float logprob;             /* log-probability under the model: log softmax of those logits */
    float probability;         /* probability in the distribution the draw used (0 if filtered out) */
} hy_sample_candidate;

typedef struct hy_sample_result {
    int32_t token;
    float logprob;             /* the chosen token's log softmax of the logits after penalties and
                                  bias (temperature and filters not applied): the model's own view.
                                  NaN unless options.logprobs or n_candidates */
    float probability;         /* its probability in the distribution the draw used (1 when greedy) */
    uint32_t n_candidates;
    const hy_sample_candidate *candidates;  /* [n_candidates], best first; owned by the sampler,
                                               valid until its next call */
} hy_sample_result;

typedef struct hy_sampler hy_sampler;

/* Defaults: temperature 0.8, top_k 40, top_p 0.95, min_p 0.05, repeat_penalty 1,
 * frequency/presence 0, repeat_last_n 64, no bias, seed 0, no candidates. */
void hy_sampler_options_init(hy_sampler_options *options);

/* Check every field against n_vocab. HYPERION_INVALID_ARGUMENT naming the field
 * (and for logit_bias the entry's index and token) on the first bad one. */
hyperion_status hy_sampler_options_validate(const hy_sampler_options *options, uint32_t n_vocab);

/* Validate options and create a sampler for n_vocab logits into *out (NULL on
 * failure). Errors: HYPERION_INVALID_ARGUMENT, HYPERION_MEMORY_LIMIT /
 * HYPERION_OUT_OF_MEMORY. Free with hy_sampler_free. */
hyperion_status hy_sampler_create(const hy_sampler_options *options, uint32_t n_vocab, hy_sampler **out);

void hy_sampler_free(hy_sampler *sampler);

/* Forget the accepted history and restart the generator from seed. */
void hy_sampler_reset(hy_sampler *sampler, uint64_t seed);

/* Record a token (prompt or generated) in the penalty history. An id outside
 * [0, n_vocab) gives HYPERION_INVALID_ARGUMENT and changes nothing. */
hyperion_status hy_sampler_accept(hy_sampler *sampler, int32_t token);

/* Choose a token from logits[0..n_vocab) (not modified; NaN is refused, -INFINITY
 * is allowed). Does not accept the token: call hy_sampler_accept with it.
 * Errors: HYPERION_INVALID_ARGUMENT for NULL pointers, a NaN or +INFINITY logit
 * (field "logits", index), or when no token is left (every logit -INFINITY or
 * banned). */
hyperion_status hy_sampler_sample(hy_sampler *sampler, const float *logits, hy_sample_result *result);

#ifdef __cplusplus
}
#endif

#endif
