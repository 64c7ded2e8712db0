/*
 * test_sampler.c — the sampler against distributions worked out by hand on
 * small logit vectors (the debug candidates expose each token's probability in
 * the distribution the draw used), penalties, bias, greedy ties, the seeded
 * generator, option validation, and a chi-square check of the draws.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sampling/rng.h"
#include "sampling/sampler.h"

/* Options with every filter off. */
static hy_sampler_options plain(float temperature) {
    hy_sampler_options o;
    hy_sampler_options_init(&o);
    o.temperature = temperature;
    o.top_k = 0;
    o.top_p = 1.0f;
    o.min_p = 0.0f;
    o.repeat_last_n = 0;
    o.n_candidates = 8;
    return o;
}

/* Sample once and report the draw probability of every token (by id). The
 * result's candidates are copied out before the sampler goes. */
static int draw_probs(const hy_sampler_options *o, const float *logits, uint32_t n, double *probs,
                      hy_sample_result *res) {
    hy_sampler *s = NULL;
    if (hy_sampler_create(o, n, &s) != HYPERION_OK) return 0;
    hy_sample_result r;
    int ok = hy_sampler_sample(s, logits, &r) == HYPERION_OK;
    for (uint32_t i = 0; i < n; i++) probs[i] = -1;  // -1: not among the candidates
    if (ok)
        for (uint32_t k = 0; k < r.n_candidates; k++) probs[r.candidates[k].token] = r.candidates[k].probability;
    if (res) {
        static hy_sample_candidate copy[HY_SAMPLER_MAX_CANDIDATES];
        *res = r;
        if (ok && r.n_candidates) memcpy(copy, r.candidates, r.n_candidates * sizeof *copy);
        res->candidates = copy;
    }
    hy_sampler_free(s);
    return ok;
}

#define CHECK_PROBS(probs, ...)                                                     \
    do {                                                                            \
        const double want_[] = { __VA_ARGS__ };                                     \
        for (size_t i_ = 0; i_ < sizeof want_ / sizeof want_[0]; i_++)              \
            HY_CHECK_NEAR((probs)[i_], want_[i_], 1e-6);                            \
    } while (0)

HY_TEST(sampler_softmax_and_temperature_by_hand) {
    const float logits[4] = { 1, 2, 3, 4 };
    double p[4];
    hy_sampler_options o = plain(1.0f);
    HY_REQUIRE(draw_probs(&o, logits, 4, p, NULL));
    /* e^l / (e^1 + e^2 + e^3 + e^4), sum 84.79102488 */
    CHECK_PROBS(p, 0.0320586, 0.0871443, 0.2368828, 0.6439143);
    o = plain(2.0f);
    HY_REQUIRE(draw_probs(&o, logits, 4, p, NULL));
    /* e^(l/2) / 16.2377483 (e^0.5, e^1, e^1.5, e^2) */
    CHECK_PROBS(p, 0.1015363, 0.1674051, 0.2760043, 0.4550542);
}

HY_TEST(sampler_top_k_top_p_min_p_by_hand) {
    const float logits[4] = { 1, 2, 3, 4 };
    double p[4];
    hy_sampler_options o = plain(1.0f);
    o.top_k = 2;  // {3, 4}: 1 / (1 + e^-1)
    HY_REQUIRE(draw_probs(&o, logits, 4, p, NULL));
    CHECK_PROBS(p, 0, 0, 0.2689414, 0.7310586);

    o = plain(1.0f);
    o.top_p = 0.9f;  // 0.6439 + 0.2369 = 0.8808 < 0.9, + 0.0871 = 0.9679: keep three
    HY_REQUIRE(draw_probs(&o, logits, 4, p, NULL));
    CHECK_PROBS(p, 0, 0.0900306, 0.2447285, 0.6652410);

    o = plain(1.0f);
    o.min_p = 0.3f;  // threshold 0.3 * 0.6439 = 0.1932: keep {3, 4}
    HY_REQUIRE(draw_probs(&o, logits, 4, p, NULL));
    CHECK_PROBS(p, 0, 0, 0.2689414, 0.7310586);
    o.min_p = 0.1f;  // threshold 0.0644: 2 stays too
    HY_REQUIRE(draw_probs(&o, logits, 4, p, NULL));
    CHECK_PROBS(p, 0, 0.0900306, 0.2447285, 0.6652410);
}

HY_TEST(sampler_stages_in_order_by_hand) {
    /* Six logits, temperature 0.5: top-k 4 keeps ids 1, 4, 3, 0 (ties: lower id
     * first); softmax gives 0.41362, 0.41362, 0.15216, 0.02059; top-p 0.9 keeps
     * 1, 4, 3 (0.9794); min-p 0.2 keeps all three (3 is at 0.368 of the best). */
    const float logits[6] = { 0.5f, 2.0f, -1.0f, 1.5f, 2.0f, 0.0f };
    double p[6];
    hy_sample_result r;
    hy_sampler_options o = plain(0.5f);
    o.top_k = 4;
    o.top_p = 0.9f;
    o.min_p = 0.2f;
    HY_REQUIRE(draw_probs(&o, logits, 6, p, &r));
    CHECK_PROBS(p, 0, 0.4223188, 0, 0.1553624, 0.4223188, 0);
    /* Candidates come best first: logit desc, then id asc; logprob is the
     * model's log softmax (temperature 1, no filters). */
    HY_REQUIRE(r.n_candidates == 6);
    static const int32_t order[6] = { 1, 4, 3, 0, 5, 2 };
    static const double logprob[6] = { -2.6035279, -1.1035279, -4.1035279, -1.6035279, -1.1035279, -3.1035279 };
    for (int k = 0; k < 6; k++) {
        HY_CHECK_INT(r.candidates[k].token, order[k]);
        HY_CHECK_NEAR(r.candidates[k].logprob, logprob[order[k]], 1e-5);
    }
    HY_CHECK_NEAR(r.logprob, logprob[r.token], 1e-5);
    HY_CHECK_NEAR(r.probability, p[r.token], 1e-6);
    /* min-p 0.4 also drops id 3: an even split of the two tied best. */
    o.min_p = 0.4f;
    HY_REQUIRE(draw_probs(&o, logits, 6, p, NULL));
    CHECK_PROBS(p, 0, 0.5, 0, 0, 0.5, 0);
}

HY_TEST(sampler_greedy_is_argmax_with_lowest_id_on_ties) {
    const float logits[5] = { 1, 3, 3, 2, -INFINITY };
    hy_sampler_options o = plain(0.0f);
    o.top_k = 1;       // filters do not matter for greedy
    o.min_p = 0.5f;
    hy_sampler *s = NULL;
    HY_REQUIRE(hy_sampler_create(&o, 5, &s) == HYPERION_OK);
    for (int i = 0; i < 20; i++) {
        hy_sample_result r;
        HY_REQUIRE(hy_sampler_sample(s, logits, &r) == HYPERION_OK);
        HY_CHECK_INT(r.token, 1);
        HY_CHECK_NEAR(r.probability, 1.0, 0);
        /* log(e^3 / (e^1 + 2 e^3 + e^2)) */
        HY_CHECK_NEAR(r.logprob, 3.0 - log(exp(1.0) + 2 * exp(3.0) + exp(2.0)), 1e-6);
        HY_CHECK_INT(r.n_candidates, 4);  // the banned token is not a candidate
        HY_CHECK_INT(r.candidates[0].token, 1);
        HY_CHECK_INT(r.candidates[1].token, 2);
        HY_CHECK_NEAR(r.candidates[1].probability, 0.0, 0);
    }
    hy_sampler_free(s);
}

/* Greedy with no logprob or candidates takes a one-pass path (sample_greedy,
 * on the caller's logits or on the adjusted copy); asking for logprobs sends
 * the same step through the full chain. Over generation-like runs (each
 * choice accepted into the history) with no adjustment, with penalties, and
 * with bias plus penalties that push logits to +inf and NaN, both must choose
 * the same tokens; both must refuse the same input. */
enum { GREEDY_N = 4099 };   // odd, not a multiple of any vector width

static void fill_greedy_logits(float *logits, uint64_t *x, int round) {
    for (int i = 0; i < GREEDY_N; i++) {
        *x = *x * 6364136223846793005ull + 1442695040888963407ull;
        const uint32_t v = (uint32_t)(*x >> 33);
        /* few distinct values (ties decide often), signed zeros, -inf */
        logits[i] = v % 97 == 0 ? -INFINITY : (v % 13 == 0 ? -0.0f : (float)((int)(v % 21) - 10) * 0.5f);
    }
    logits[1] = -INFINITY;
    if (round % 50 == 49)   // everything -inf but one late token
        for (int i = 0; i < GREEDY_N; i++) logits[i] = i == GREEDY_N - 3 ? -1e30f : -INFINITY;
}

HY_TEST(sampler_plain_greedy_matches_the_full_chain) {
    static float logits[GREEDY_N];
    static hy_logit_bias bias[40];
    for (int i = 0; i < 40; i++) bias[i] = (hy_logit_bias){ 37 * i + 5, i % 2 ? -INFINITY : 2.0f };
    for (int cfg = 0; cfg < 3; cfg++) {
        hy_sampler_options o = plain(0.0f);
        o.n_candidates = 0;
        if (cfg == 1) {
            o.repeat_penalty = 1.3f;
            o.frequency_penalty = 0.2f;
            o.presence_penalty = 0.1f;
            o.repeat_last_n = 16;
        } else if (cfg == 2) {   // four repeats: a finite logit -> +inf, the -inf token 1 -> NaN
            o.frequency_penalty = -1e38f;
            o.repeat_last_n = 8;
            o.logit_bias = bias;
            o.n_logit_bias = 40;
        }
        hy_sampler_options full = o;
        full.logprobs = 1;
        hy_sampler *a = NULL, *b = NULL;
        HY_REQUIRE(hy_sampler_create(&o, GREEDY_N, &a) == HYPERION_OK);
        HY_REQUIRE(hy_sampler_create(&full, GREEDY_N, &b) == HYPERION_OK);
        if (cfg == 2)
            for (int k = 0; k < 4; k++) {
                HY_REQUIRE(hy_sampler_accept(a, 1) == HYPERION_OK);
                HY_REQUIRE(hy_sampler_accept(b, 1) == HYPERION_OK);
            }
        uint64_t x = 7;
        size_t mismatches = 0;
        for (int round = 0; round < 200; round++) {
            fill_greedy_logits(logits, &x, round);
            hy_sample_result ra, rb;
            HY_REQUIRE(hy_sampler_sample(a, logits, &ra) == HYPERION_OK);
            HY_REQUIRE(hy_sampler_sample(b, logits, &rb) == HYPERION_OK);
            mismatches += ra.token != rb.token;
            HY_CHECK_NEAR(ra.probability, 1.0, 0);
            HY_CHECK(isnan(ra.logprob));
            HY_CHECK_INT(ra.n_candidates, 0);
            HY_REQUIRE(hy_sampler_accept(a, rb.token) == HYPERION_OK);
            HY_REQUIRE(hy_sampler_accept(b, rb.token) == HYPERION_OK);
        }
        printf("    config %d: %zu of 200 choices differ\n", cfg, mismatches);
        HY_CHECK_INT(mismatches, 0);
        hy_sampler_free(a);
        hy_sampler_free(b);
    }

    /* a logit pushed to +inf counts as FLT_MAX: it ties with a real FLT_MAX
     * logit, and the lower id wins */
    hy_sampler_options o = plain(0.0f);
    o.n_candidates = 0;
    o.frequency_penalty = -1e38f;
    o.repeat_last_n = 8;
    for (int logprobs = 0; logprobs < 2; logprobs++) {
        o.logprobs = logprobs;
        hy_sampler *c = NULL;
        HY_REQUIRE(hy_sampler_create(&o, GREEDY_N, &c) == HYPERION_OK);
        for (int k = 0; k < 4; k++) HY_REQUIRE(hy_sampler_accept(c, 2) == HYPERION_OK);
        for (int i = 0; i < GREEDY_N; i++) logits[i] = (float)(i % 7);
        logits[0] = FLT_MAX;
        logits[2] = 1.0f;   // + 4e38: +inf
        hy_sample_result r;
        HY_REQUIRE(hy_sampler_sample(c, logits, &r) == HYPERION_OK);
        HY_CHECK_INT(r.token, 0);
        hy_sampler_free(c);
    }

    o = plain(0.0f);
    o.n_candidates = 0;
    hy_sampler *a = NULL;
    HY_REQUIRE(hy_sampler_create(&o, GREEDY_N, &a) == HYPERION_OK);
    for (int i = 0; i < GREEDY_N; i++) logits[i] = -INFINITY;
    hy_sample_result r;
    HY_CHECK_INT(hy_sampler_sample(a, logits, &r), HYPERION_INVALID_ARGUMENT);
    logits[GREEDY_N - 2] = NAN;
    logits[GREEDY_N - 1] = 5.0f;   // a valid best after the NaN does not hide it
    HY_CHECK_INT(hy_sampler_sample(a, logits, &r), HYPERION_INVALID_ARGUMENT);
    HY_CHECK(strstr(hyperionGetLastError()->message, "logit 4097") != NULL);
    logits[GREEDY_N - 2] = INFINITY;
    HY_CHECK_INT(hy_sampler_sample(a, logits, &r), HYPERION_INVALID_ARGUMENT);
    logits[GREEDY_N - 2] = 1.0f;
    HY_REQUIRE(hy_sampler_sample(a, logits, &r) == HYPERION_OK);   // still usable
    HY_CHECK_INT(r.token, GREEDY_N - 1);
    hy_sampler_free(a);
}

HY_TEST(sampler_penalties_over_the_last_n_tokens) {
    const float logits[4] = { 2.0f, -1.0f, 0.5f, 1.0f };
    hy_sampler_options o = plain(0.0f);
    o.repeat_penalty = 2.0f;
    o.frequency_penalty = 0.5f;
    o.presence_penalty = 0.25f;
    o.repeat_last_n = 64;
    hy_sampler *s = NULL;
    HY_REQUIRE(hy_sampler_create(&o, 4, &s) == HYPERION_OK);
    HY_CHECK_INT(hy_sampler_accept(s, 0), HYPERION_OK);
    HY_CHECK_INT(hy_sampler_accept(s, 0), HYPERION_OK);
    HY_CHECK_INT(hy_sampler_accept(s, 1), HYPERION_OK);
    hy_sample_result r;
    HY_REQUIRE(hy_sampler_sample(s, logits, &r) == HYPERION_OK);
    /* id 0: 2 / 2 - (2 * 0.5 + 0.25) = -0.25; id 1: -1 * 2 - (0.5 + 0.25) = -2.75 */
    float adjusted[4];
    for (uint32_t k = 0; k < r.n_candidates; k++) adjusted[r.candidates[k].token] = r.candidates[k].logit;
    HY_CHECK_NEAR(adjusted[0], -0.25, 1e-6);
    HY_CHECK_NEAR(adjusted[1], -2.75, 1e-6);
    HY_CHECK_NEAR(adjusted[2], 0.5, 0);
    HY_CHECK_NEAR(adjusted[3], 1.0, 0);
    HY_CHECK_INT(r.token, 3);  // 0 was best before the penalties
    HY_CHECK_INT(hy_sampler_accept(s, 4), HYPERION_INVALID_ARGUMENT);
    hy_sampler_free(s);

    /* A window of 2 sees only the last two tokens (0 once, 1 once). */
    o.repeat_last_n = 2;
    HY_REQUIRE(hy_sampler_create(&o, 4, &s) == HYPERION_OK);
    hy_sampler_accept(s, 0);
    hy_sampler_accept(s, 0);
    hy_sampler_accept(s, 1);
    HY_REQUIRE(hy_sampler_sample(s, logits, &r) == HYPERION_OK);
    for (uint32_t k = 0; k < r.n_candidates; k++) adjusted[r.candidates[k].token] = r.candidates[k].logit;
    HY_CHECK_NEAR(adjusted[0], 0.25, 1e-6);   // 2 / 2 - (0.5 + 0.25)
    HY_CHECK_NEAR(adjusted[1], -2.75, 1e-6);
    /* Reset forgets the history. */
    hy_sampler_reset(s, 0);
    HY_REQUIRE(hy_sampler_sample(s, logits, &r) == HYPERION_OK);
    HY_CHECK_INT(r.token, 0);
    hy_sampler_free(s);
}

HY_TEST(sampler_logit_bias_and_bans) {
    const float logits[4] = { 1, 2, 3, 4 };
    const hy_logit_bias bias[2] = { { 3, -INFINITY }, { 0, 5.0f } };
    hy_sampler_options o = plain(1.0f);
    o.logit_bias = bias;
    o.n_logit_bias = 2;
    double p[4];
    HY_REQUIRE(draw_probs(&o, logits, 4, p, NULL));
    /* logits become {6, 2, 3, banned}: e^6 / (e^6 + e^2 + e^3) ... */
    double z = exp(6.0) + exp(2.0) + exp(3.0);
    CHECK_PROBS(p, exp(6.0) / z, exp(2.0) / z, exp(3.0) / z, -1);
    hy_sampler *s = NULL;
    HY_REQUIRE(hy_sampler_create(&o, 4, &s) == HYPERION_OK);
    for (int i = 0; i < 500; i++) {
        hy_sample_result r;
        HY_REQUIRE(hy_sampler_sample(s, logits, &r) == HYPERION_OK);
        HY_CHECK(r.token != 3);
    }
    hy_sampler_free(s);

    /* Everything banned: an error naming logit_bias, and the sampler still works after. */
    const float all_banned[2] = { 0, -INFINITY };
    const hy_logit_bias ban0 = { 0, -INFINITY };
    o = plain(1.0f);
    o.logit_bias = &ban0;
    o.n_logit_bias = 1;
    HY_REQUIRE(hy_sampler_create(&o, 2, &s) == HYPERION_OK);
    hy_sample_result r;
    HY_CHECK_INT(hy_sampler_sample(s, all_banned, &r), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_STR(hyperionGetLastError()->fields[0].text, "logit_bias");
    const float ok_logits[2] = { 0, 1 };
    HY_CHECK_INT(hy_sampler_sample(s, ok_logits, &r), HYPERION_OK);
    HY_CHECK_INT(r.token, 1);
    hy_sampler_free(s);
}

HY_TEST(sampler_rng_sequence_is_fixed) {
    /* xoshiro256** seeded by splitmix64, values from an independent implementation. */
    hy_rng rng;
    hy_rng_seed(&rng, 42);
    HY_CHECK(hy_rng_next(&rng) == 0x15780b2e0c2ec716ull);
    HY_CHECK(hy_rng_next(&rng) == 0x6104d9866d113a7eull);
    HY_CHECK(hy_rng_next(&rng) == 0xae17533239e499a1ull);
    HY_CHECK(hy_rng_next(&rng) == 0xecb8ad4703b360a1ull);
    hy_rng_seed(&rng, 0);
    HY_CHECK(hy_rng_next(&rng) == 0x99ec5f36cb75f2b4ull);
    HY_CHECK(hy_rng_next(&rng) == 0xbf6e1f784956452aull);
    for (int i = 0; i < 1000; i++) {
        double u = hy_rng_uniform(&rng);
        HY_CHECK(u >= 0 && u < 1);
    }
}

HY_TEST(sampler_same_seed_same_choices) {
    float logits[50];
    for (int i = 0; i < 50; i++) logits[i] = (float)((i * 37) % 17) * 0.3f;
    hy_sampler_options o;
    hy_sampler_options_init(&o);  // the defaults: temperature, top-k, top-p, min-p all on
    o.top_k = 0;
    o.seed = 1234;
    o.repeat_penalty = 1.1f;
    int32_t a[200], b[200], c[200];
    for (int run = 0; run < 3; run++) {
        hy_sampler_options oo = o;
        if (run == 2) oo.seed = 4321;
        if (run == 1) oo.n_candidates = 5;  // debug output must not change the choices
        hy_sampler *s = NULL;
        HY_REQUIRE(hy_sampler_create(&oo, 50, &s) == HYPERION_OK);
        int32_t *out = run == 0 ? a : run == 1 ? b : c;
        for (int i = 0; i < 200; i++) {
            hy_sample_result r;
            HY_REQUIRE(hy_sampler_sample(s, logits, &r) == HYPERION_OK);
            out[i] = r.token;
            hy_sampler_accept(s, r.token);
        }
        hy_sampler_free(s);
    }
    HY_CHECK(memcmp(a, b, sizeof a) == 0);
    HY_CHECK(memcmp(a, c, sizeof a) != 0);
}

HY_TEST(sampler_draw_frequencies_match_the_distribution) {
    /* 20000 draws with a fixed seed from softmax({0, 0.5, 1, 1.5, 2.5}) at T = 1;
     * Pearson's chi-square with 4 degrees of freedom must stay under 18.47
     * (p = 0.001). Deterministic: the seed fixes the outcome. */
    const float logits[5] = { 0.0f, 0.5f, 1.0f, 1.5f, 2.5f };
    hy_sampler_options o = plain(1.0f);
    o.n_candidates = 0;
    o.seed = 20261121;
    hy_sampler *s = NULL;
    HY_REQUIRE(hy_sampler_create(&o, 5, &s) == HYPERION_OK);
    const int draws = 20000;
    int count[5] = { 0 };
    for (int i = 0; i < draws; i++) {
        hy_sample_result r;
        HY_REQUIRE(hy_sampler_sample(s, logits, &r) == HYPERION_OK);
        count[r.token]++;
    }
    double z = 0, chi2 = 0;
    for (int i = 0; i < 5; i++) z += exp(logits[i]);
    for (int i = 0; i < 5; i++) {
        double expected = draws * exp(logits[i]) / z;
        chi2 += (count[i] - expected) * (count[i] - expected) / expected;
    }
    printf("    chi-square %.3f over counts %d %d %d %d %d\n", chi2, count[0], count[1], count[2], count[3], count[4]);
    HY_CHECK(chi2 < 18.47);

    /* The same through top-k 3 + temperature 0.7: only ids 2, 3, 4 appear. */
    o.top_k = 3;
    o.temperature = 0.7f;
    hy_sampler_free(s);
    HY_REQUIRE(hy_sampler_create(&o, 5, &s) == HYPERION_OK);
    int c2[5] = { 0 };
    for (int i = 0; i < draws; i++) {
        hy_sample_result r;
        HY_REQUIRE(hy_sampler_sample(s, logits, &r) == HYPERION_OK);
        c2[r.token]++;
    }
    HY_CHECK(c2[0] == 0 && c2[1] == 0);
    double w[3], zw = 0;
    for (int i = 0; i < 3; i++) zw += (w[i] = exp(logits[i + 2] / 0.7));
    chi2 = 0;
    for (int i = 0; i < 3; i++) {
        double expected = draws * w[i] / zw;
        chi2 += (c2[i + 2] - expected) * (c2[i + 2] - expected) / expected;
    }
    HY_CHECK(chi2 < 13.82);  // 2 degrees of freedom, p = 0.001
    hy_sampler_free(s);
}

HY_TEST(sampler_reuses_its_buffers) {
    float logits[1000];
    for (int i = 0; i < 1000; i++) logits[i] = (float)sin(i * 0.7) * 4;
    hy_sampler_options o;
    hy_sampler_options_init(&o);
    o.top_k = 0;
    o.top_p = 0.9f;
    o.n_candidates = 10;
    o.repeat_penalty = 1.2f;
    hyperion_memory_stats initial, before, after;
    hyperionGetMemoryStats(&initial);
    hy_sampler *s = NULL;
    HY_REQUIRE(hy_sampler_create(&o, 1000, &s) == HYPERION_OK);
    hyperionGetMemoryStats(&before);
    for (int i = 0; i < 100; i++) {
        hy_sample_result r;
        HY_REQUIRE(hy_sampler_sample(s, logits, &r) == HYPERION_OK);
        HY_REQUIRE(r.n_candidates == 10);
        hy_sampler_accept(s, r.token);
    }
    hyperionGetMemoryStats(&after);
    HY_CHECK_INT(after.total_allocations, before.total_allocations);
    HY_CHECK(before.tag_bytes[HYPERION_TAG_SAMPLER] > 0);
    hy_sampler_free(s);
    hyperionGetMemoryStats(&after);
    HY_CHECK_INT(after.tag_blocks[HYPERION_TAG_SAMPLER], initial.tag_blocks[HYPERION_TAG_SAMPLER]);
    HY_CHECK_INT(after.tag_bytes[HYPERION_TAG_SAMPLER], initial.tag_bytes[HYPERION_TAG_SAMPLER]);
}

static void expect_bad(int line, const hy_sampler_options *o, uint32_t n_vocab, const char *field) {
    hy_sampler *s = (hy_sampler *)0x1;
    hyperion_status st = hy_sampler_create(o, n_vocab, &s);
    const hyperion_error *e = hyperionGetLastError();
    if (st != HYPERION_INVALID_ARGUMENT || s != NULL || e->field_count < 1 || strcmp(e->fields[0].text, field) != 0)
        hy_test_fail(__FILE__, line, "expected an error naming %s, got status %d (%s)", field, (int)st, e->message);
    hy_sampler_free(st == HYPERION_OK ? s : NULL);
}

HY_TEST(sampler_options_are_validated) {
    hy_sampler_options o;
#define BAD(stmt, field)              \
    do {                              \
        hy_sampler_options_init(&o);  \
        stmt;                         \
        expect_bad(__LINE__, &o, 10, field); \
    } while (0)
    BAD(o.temperature = -0.1f, "temperature");
    BAD(o.temperature = NAN, "temperature");
    BAD(o.temperature = INFINITY, "temperature");
    BAD(o.top_k = -1, "top_k");
    BAD(o.top_p = 0, "top_p");
    BAD(o.top_p = 1.5f, "top_p");
    BAD(o.min_p = -0.5f, "min_p");
    BAD(o.min_p = 2, "min_p");
    BAD(o.repeat_penalty = 0, "repeat_penalty");
    BAD(o.frequency_penalty = NAN, "frequency_penalty");
    BAD(o.presence_penalty = -INFINITY, "presence_penalty");
    BAD(o.repeat_last_n = -1, "repeat_last_n");
    BAD(o.n_candidates = 1000, "n_candidates");
    BAD(o.n_logit_bias = 1, "logit_bias");
    const hy_logit_bias out_of_range = { 10, 1.0f }, nan_bias = { 2, NAN };
    BAD((o.logit_bias = &out_of_range, o.n_logit_bias = 1), "logit_bias");
    HY_CHECK_NEAR(hyperionGetLastError()->fields[2].number, 10, 0);  // the token is named
    BAD((o.logit_bias = &nan_bias, o.n_logit_bias = 1), "logit_bias");
    hy_sampler_options_init(&o);
    HY_CHECK_INT(hy_sampler_options_validate(&o, 10), HYPERION_OK);
    HY_CHECK_INT(hy_sampler_options_validate(&o, 0), HYPERION_INVALID_ARGUMENT);

    /* Bad logits are refused with their index. */
    hy_sampler *s = NULL;
    HY_REQUIRE(hy_sampler_create(&o, 3, &s) == HYPERION_OK);
    const float nan_logits[3] = { 0, NAN, 1 };
    hy_sample_result r;
    HY_CHECK_INT(hy_sampler_sample(s, nan_logits, &r), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_NEAR(hyperionGetLastError()->fields[1].number, 1, 0);
    HY_CHECK_INT(hy_sampler_sample(s, NULL, &r), HYPERION_INVALID_ARGUMENT);
    hy_sampler_free(s);
#undef BAD
}

/* Reference for the selection code: sort all ids by (logit desc, id asc). */
static const float *ref_logits;
static int ref_order(const void *pa, const void *pb) {
    int32_t a = *(const int32_t *)pa, b = *(const int32_t *)pb;
    if (ref_logits[a] != ref_logits[b]) return ref_logits[a] > ref_logits[b] ? -1 : 1;
    return a < b ? -1 : a > b;
}

HY_TEST(sampler_selection_matches_a_full_sort) {
    /* 3000 logits from 40 values: many ties, so the id order decides often. */
    enum { N = 3000 };
    static float logits[N];
    static int32_t order[N];
    uint64_t x = 99;
    for (int i = 0; i < N; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        logits[i] = (float)((x >> 33) % 40) * 0.25f;
        order[i] = i;
    }
    ref_logits = logits;
    qsort(order, N, sizeof order[0], ref_order);

    for (int mode = 0; mode < 3; mode++) {
        hy_sampler_options o = plain(1.3f);
        o.n_candidates = HY_SAMPLER_MAX_CANDIDATES;
        size_t kept;
        if (mode == 0) {          // top-k inside a run of ties
            o.top_k = 100;
            kept = 100;
        } else {                  // top-p: the reference cut from the sorted cumulative mass
            o.top_p = mode == 1 ? 0.05f : 0.3f;
            double z = 0, cum = 0, w[N];
            for (int i = 0; i < N; i++) z += (w[i] = exp((logits[order[i]] - logits[order[0]]) / 1.3));
            kept = 0;
            while (kept < N && cum < o.top_p * z) cum += w[kept++];
        }
        hy_sampler *s = NULL;
        HY_REQUIRE(hy_sampler_create(&o, N, &s) == HYPERION_OK);
        hy_sample_result r;
        HY_REQUIRE(hy_sampler_sample(s, logits, &r) == HYPERION_OK);
        HY_REQUIRE(r.n_candidates == HY_SAMPLER_MAX_CANDIDATES);
        size_t mismatches = 0, in_draw = 0;
        for (uint32_t k = 0; k < r.n_candidates; k++) {
            mismatches += r.candidates[k].token != order[k];
            in_draw += r.candidates[k].probability > 0;
        }
        HY_CHECK_INT(mismatches, 0);
        HY_CHECK_INT(in_draw, kept < HY_SAMPLER_MAX_CANDIDATES ? kept : HY_SAMPLER_MAX_CANDIDATES);
        /* The chosen token is one of the kept ones. */
        size_t rank = 0;
        while (rank < N && order[rank] != r.token) rank++;
        HY_CHECK(rank < kept);
        hy_sampler_free(s);
    }
}
