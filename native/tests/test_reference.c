/* test_reference.c — the reference forward pass against a second, naive
 * implementation written differently (token by token with a KV cache, RoPE as
 * complex multiplication, Hugging Face's form of llama3 scaling, GQA through
 * h * n_kv / n_head), on tiny random models; and its argument checks. */
#include "harness.h"

#include <complex.h>
#include <stdint.h>
#include <stdlib.h>

#include "hyperion.h"
#include "model/reference.h"

/* ------------------------------------------------------------ random models */

typedef struct rand_model {
    hy_llama_config cfg;
    hy_llama_weights_f32 w;
    hy_llama_layer_f32 *layers;
    float *blocks[64]; /* everything malloc'ed, for release */
    int n_blocks;
} rand_model;

static uint64_t rng_state;
static double rnd(void) { /* uniform in [-1, 1) */
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng_state >> 11) / (double)(1ull << 52) - 1.0;
}

static float *rand_block(rand_model *m, size_t n, double center, double spread) {
    float *p = malloc(n * sizeof *p);
    if (!p) return NULL;
    for (size_t i = 0; i < n; i++) p[i] = (float)(center + spread * rnd());
    m->blocks[m->n_blocks++] = p;
    return p;
}

static int make_model(rand_model *m, const hy_llama_config *cfg, uint64_t seed) {
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    rng_state = seed;
    size_t D = cfg->n_embd, Q = (size_t)cfg->n_head * cfg->head_dim, KV = (size_t)cfg->n_head_kv * cfg->head_dim;
    size_t FF = cfg->n_ff, V = cfg->n_vocab;
    m->layers = calloc(cfg->n_layer, sizeof *m->layers);
    if (!m->layers || cfg->n_layer * 9 + 4 > 64) return 0;
    m->w.token_embd = rand_block(m, V * D, 0, 1.0);
    m->w.output_norm = rand_block(m, D, 1.0, 0.2);
    m->w.output = cfg->output_tied ? NULL : rand_block(m, V * D, 0, 1.0 / sqrt((double)D));
    for (uint32_t l = 0; l < cfg->n_layer; l++) {
        hy_llama_layer_f32 *L = &m->layers[l];
        L->attn_norm = rand_block(m, D, 1.0, 0.2);
        /* larger q/k weights make attention far from uniform, so mistakes show */
        L->wq = rand_block(m, Q * D, 0, 2.0 / sqrt((double)D));
        L->wk = rand_block(m, KV * D, 0, 2.0 / sqrt((double)D));
        L->wv = rand_block(m, KV * D, 0, 1.0 / sqrt((double)D));
        L->wo = rand_block(m, D * Q, 0, 1.0 / sqrt((double)Q));
        L->ffn_norm = rand_block(m, D, 1.0, 0.2);
        L->w_gate = rand_block(m, FF * D, 0, 2.0 / sqrt((double)D));
        L->w_up = rand_block(m, FF * D, 0, 1.0 / sqrt((double)D));
        L->w_down = rand_block(m, D * FF, 0, 1.0 / sqrt((double)FF));
    }
    m->w.layers = m->layers;
    for (int i = 0; i < m->n_blocks; i++)
        if (!m->blocks[i]) return 0;
    return 1;
}

static void free_model(rand_model *m) {
    for (int i = 0; i < m->n_blocks; i++) free(m->blocks[i]);
    free(m->layers);
}

/* ------------------------------------------------------------ the naive model */

static double dot_fd(const float *a, const double *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static void norm_into(double *out, const double *x, const float *g, size_t n, double eps) {
    double ms = 0;
    for (size_t i = 0; i < n; i++) ms += x[i] * x[i] / (double)n;
    for (size_t i = 0; i < n; i++) out[i] = g[i] * (x[i] / sqrt(ms + eps));
}

/* Angular frequency of pair i, Hugging Face style: scale the frequency. */
static double naive_freq(const hy_llama_config *c, const float *rope_freqs, size_t i) {
    double f = 1.0 / pow(c->rope_freq_base, (double)(2 * i) / (double)c->head_dim);
    if (rope_freqs) return f / rope_freqs[i];
    if (c->rope_scaling_type == HY_ROPE_SCALING_LINEAR) return f / c->rope_scaling_factor;
    if (c->rope_scaling_type == HY_ROPE_SCALING_LLAMA3) {
        double wl = 2 * M_PI / f, lo_wl = c->rope_scaling_orig_ctx / c->rope_scaling_low_freq_factor;
        double hi_wl = c->rope_scaling_orig_ctx / c->rope_scaling_high_freq_factor;
        if (wl > lo_wl) return f / c->rope_scaling_factor;
        if (wl >= hi_wl) {
            double smooth = (c->rope_scaling_orig_ctx / wl - c->rope_scaling_low_freq_factor) /
                            (c->rope_scaling_high_freq_factor - c->rope_scaling_low_freq_factor);
            return (1 - smooth) * f / c->rope_scaling_factor + smooth * f;
        }
    }
    return f;
}

/* Token by token, with a KV cache; logits of every position into out [T, V]. */
static void naive_forward(const rand_model *m, const int32_t *tokens, size_t T, double *out) {
    const hy_llama_config *c = &m->cfg;
    size_t D = c->n_embd, HD = c->head_dim, FF = c->n_ff, V = c->n_vocab, NL = c->n_layer;
    size_t NH = c->n_head, NKV = c->n_head_kv;
    double *kc = calloc(NL * T * NKV * HD, sizeof(double)), *vc = calloc(NL * T * NKV * HD, sizeof(double));
    double *x = calloc(D, sizeof(double)), *n = calloc(D, sizeof(double)), *o = calloc(NH * HD, sizeof(double));
    double *q = calloc(NH * HD, sizeof(double)), *h = calloc(FF, sizeof(double)), *w = calloc(T, sizeof(double));
    for (size_t pos = 0; pos < T; pos++) {
        for (size_t i = 0; i < D; i++) x[i] = m->w.token_embd[tokens[pos] * D + i];
        for (size_t l = 0; l < NL; l++) {
            const hy_llama_layer_f32 *L = &m->layers[l];
            double *kl = kc + l * T * NKV * HD, *vl = vc + l * T * NKV * HD;
            norm_into(n, x, L->attn_norm, D, c->rms_eps);
            for (size_t r = 0; r < NH * HD; r++) q[r] = dot_fd(L->wq + r * D, n, D);
            for (size_t r = 0; r < NKV * HD; r++) {
                kl[pos * NKV * HD + r] = dot_fd(L->wk + r * D, n, D);
                vl[pos * NKV * HD + r] = dot_fd(L->wv + r * D, n, D);
            }
            /* RoPE: the pair (a, b) as a + ib times e^(i pos freq) */
            for (size_t j = 0; j < HD / 2; j++) {
                double complex turn = cexp(I * (double)pos * naive_freq(c, m->w.rope_freqs, j));
                for (size_t hh = 0; hh < NH; hh++) {
                    double complex z = (q[hh * HD + 2 * j] + I * q[hh * HD + 2 * j + 1]) * turn;
                    q[hh * HD + 2 * j] = creal(z), q[hh * HD + 2 * j + 1] = cimag(z);
                }
                for (size_t hh = 0; hh < NKV; hh++) {
                    double *k = kl + pos * NKV * HD + hh * HD;
                    double complex z = (k[2 * j] + I * k[2 * j + 1]) * turn;
                    k[2 * j] = creal(z), k[2 * j + 1] = cimag(z);
                }
            }
            for (size_t hh = 0; hh < NH; hh++) {
                size_t g = hh * NKV / NH; /* the kv head serving query head hh */
                double total = 0;
                for (size_t p = 0; p <= pos; p++) {
                    double s = 0;
                    for (size_t i = 0; i < HD; i++) s += (q[hh * HD + i] / sqrt((double)HD)) * kl[p * NKV * HD + g * HD + i];
                    w[p] = exp(s);
                    total += w[p];
                }
                for (size_t i = 0; i < HD; i++) {
                    double acc = 0;
                    for (size_t p = 0; p <= pos; p++) acc += w[p] / total * vl[p * NKV * HD + g * HD + i];
                    o[hh * HD + i] = acc;
                }
            }
            for (size_t r = 0; r < D; r++) x[r] += dot_fd(L->wo + r * NH * HD, o, NH * HD);
            norm_into(n, x, L->ffn_norm, D, c->rms_eps);
            for (size_t r = 0; r < FF; r++) {
                double g = dot_fd(L->w_gate + r * D, n, D), u = dot_fd(L->w_up + r * D, n, D);
                h[r] = g / (1 + exp(-g)) * u;
            }
            for (size_t r = 0; r < D; r++) x[r] += dot_fd(L->w_down + r * FF, h, FF);
        }
        norm_into(n, x, m->w.output_norm, D, c->rms_eps);
        const float *ow = c->output_tied ? m->w.token_embd : m->w.output;
        for (size_t r = 0; r < V; r++) out[pos * V + r] = dot_fd(ow + r * D, n, D);
    }
    free(kc), free(vc), free(x), free(n), free(o), free(q), free(h), free(w);
}

/* ------------------------------------------------------------ comparisons */

static hy_llama_config tiny_config(uint32_t n_head, uint32_t n_kv, uint32_t head_dim, uint32_t n_embd) {
    hy_llama_config c = {
        .n_vocab = 37, .n_ctx_train = 64, .n_embd = n_embd, .n_layer = 2, .n_head = n_head, .n_head_kv = n_kv,
        .head_dim = head_dim, .n_ff = 2 * n_embd + 3, .rms_eps = 1e-5f, .rope_freq_base = 10000.0f,
        .rope_dim = head_dim,
    };
    return c;
}

/* Relative L2 distance between the reference's float logits and the naive doubles. */
static double rel_l2(const float *a, const double *b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num += (a[i] - b[i]) * (a[i] - b[i]);
        den += b[i] * b[i];
    }
    return sqrt(num / (den > 0 ? den : 1));
}

static void compare_with_naive(const char *label, const hy_llama_config *cfg, const float *rope_freqs) {
    enum { T = 9 };
    rand_model m;
    HY_REQUIRE(make_model(&m, cfg, 1234 + cfg->head_dim * 7 + cfg->n_head_kv));
    m.w.rope_freqs = rope_freqs;
    int32_t tokens[T];
    for (int t = 0; t < T; t++) tokens[t] = (int32_t)((t * 11 + 5) % cfg->n_vocab);
    size_t V = cfg->n_vocab;
    float *ref = malloc(T * V * sizeof *ref), *last = malloc(V * sizeof *last);
    double *naive = malloc(T * V * sizeof *naive);
    HY_REQUIRE(ref && last && naive);

    HY_CHECK_INT(hy_reference_forward(&m.cfg, &m.w, tokens, T, 1, ref), HYPERION_OK);
    naive_forward(&m, tokens, T, naive);
    double err = rel_l2(ref, naive, T * V);
    /* both compute in double; only the final rounding to float differs */
    printf("    %-34s relative L2 vs naive %.2e\n", label, err);
    HY_CHECK(err < 1e-6);

    /* the last-row mode returns exactly the last row; a prefix is causal */
    HY_CHECK_INT(hy_reference_forward(&m.cfg, &m.w, tokens, T, 0, last), HYPERION_OK);
    HY_CHECK(memcmp(last, ref + (T - 1) * V, V * sizeof *last) == 0);
    HY_CHECK_INT(hy_reference_forward(&m.cfg, &m.w, tokens, 4, 0, last), HYPERION_OK);
    HY_CHECK(rel_l2(last, naive + 3 * V, V) < 1e-6);
    free(ref), free(last), free(naive);
    free_model(&m);
}

HY_TEST(reference_matches_naive_gqa_head_dim_6) {
    hy_llama_config c = tiny_config(4, 2, 6, 16); /* q width 24 != n_embd 16 */
    compare_with_naive("n_head 4, n_kv 2, head_dim 6", &c, NULL);
}

HY_TEST(reference_matches_naive_gqa_head_dim_8_tied_linear) {
    hy_llama_config c = tiny_config(4, 2, 8, 32);
    c.output_tied = 1;
    c.rope_scaling_type = HY_ROPE_SCALING_LINEAR;
    c.rope_scaling_factor = 2.5f;
    compare_with_naive("head_dim 8, tied, linear x2.5", &c, NULL);
}

HY_TEST(reference_matches_naive_mha_and_mqa) {
    hy_llama_config c = tiny_config(4, 4, 8, 24);
    compare_with_naive("multi-head (4 kv heads)", &c, NULL);
    c = tiny_config(4, 1, 8, 24);
    compare_with_naive("multi-query (1 kv head)", &c, NULL);
    c = tiny_config(6, 3, 4, 20);
    c.n_layer = 3;
    compare_with_naive("6 heads, 3 kv, head_dim 4, 3 layers", &c, NULL);
}

/* base 1000 and head_dim 8 give wavelengths 6.3, 35, 199 and 1117: with an
 * original context of 256 and factors 1/4 the bands are < 64 (kept), 64..256
 * (blended) and > 256 (divided), so all three cases are exercised. */
static hy_llama_config llama3_config(void) {
    hy_llama_config c = tiny_config(4, 2, 8, 32);
    c.rope_freq_base = 1000.0f;
    c.rope_scaling_type = HY_ROPE_SCALING_LLAMA3;
    c.rope_scaling_factor = 8.0f;
    c.rope_scaling_orig_ctx = 256;
    c.rope_scaling_low_freq_factor = 1.0f;
    c.rope_scaling_high_freq_factor = 4.0f;
    return c;
}

HY_TEST(reference_matches_naive_llama3_scaling) {
    hy_llama_config c = llama3_config();
    double div[4];
    hy_llama_rope_freq_divisors(&c, div);
    printf("    llama3 divisors for wavelengths 6.3, 35, 199, 1117: %.4f %.4f %.4f %.4f\n", div[0], div[1], div[2], div[3]);
    HY_CHECK(div[0] == 1.0 && div[1] == 1.0 && div[3] == 8.0);
    HY_CHECK(div[2] > 1.0 && div[2] < 8.0);
    compare_with_naive("llama3 scaling from the config", &c, NULL);

    /* the same divisors given as a rope_freqs tensor, config left unscaled */
    float freqs[4] = { (float)div[0], (float)div[1], (float)div[2], (float)div[3] };
    hy_llama_config plain = c;
    plain.rope_scaling_type = HY_ROPE_SCALING_NONE;
    compare_with_naive("llama3 scaling from rope_freqs", &plain, freqs);
}

HY_TEST(reference_llama3_divisors_for_llama_3_1_8b) {
    /* Llama 3.1 8B: base 500000, head 128, factor 8, low 1, high 4, original 8192 */
    hy_llama_config c = tiny_config(32, 8, 128, 4096);
    c.rope_freq_base = 500000.0f;
    c.rope_scaling_type = HY_ROPE_SCALING_LLAMA3;
    c.rope_scaling_factor = 8.0f;
    c.rope_scaling_orig_ctx = 8192;
    c.rope_scaling_low_freq_factor = 1.0f;
    c.rope_scaling_high_freq_factor = 4.0f;
    HY_REQUIRE(hy_llama_config_validate(&c) == HYPERION_OK);
    double div[64];
    hy_llama_rope_freq_divisors(&c, div);
    HY_CHECK(div[0] == 1.0);
    HY_CHECK(div[63] == 8.0);
    int kept = 0, blended = 0, divided = 0, monotonic = 1;
    for (int i = 0; i < 64; i++) {
        kept += div[i] == 1.0, divided += div[i] == 8.0, blended += div[i] > 1.0 && div[i] < 8.0;
        if (i && div[i] < div[i - 1]) monotonic = 0;
    }
    printf("    Llama 3.1 8B pairs: %d kept, %d blended, %d divided by 8\n", kept, blended, divided);
    HY_CHECK(monotonic);
    HY_CHECK(kept > 0 && blended > 0 && divided > 0 && kept + blended + divided == 64);
}

/* ------------------------------------------------------------ argument checks */

HY_TEST(reference_rejects_bad_configs) {
    hy_llama_config good = tiny_config(4, 2, 8, 32), c;
    HY_CHECK_INT(hy_llama_config_validate(&good), HYPERION_OK);
    HY_CHECK_INT(hy_llama_config_validate(NULL), HYPERION_INVALID_ARGUMENT);

    c = good, c.n_head_kv = 3;
    HY_CHECK_INT(hy_llama_config_validate(&c), HYPERION_MODEL_INVALID);
    HY_CHECK_STR(hyperionGetLastError()->fields[0].text, "n_head_kv");
    c = good, c.n_ff = 0;
    HY_CHECK_INT(hy_llama_config_validate(&c), HYPERION_MODEL_INVALID);
    HY_CHECK_STR(hyperionGetLastError()->fields[0].text, "n_ff");
    /* llama.cpp rejects partial rotation for llama ("invalid n_rot"), so do we */
    c = good, c.rope_dim = 4;
    HY_CHECK_INT(hy_llama_config_validate(&c), HYPERION_MODEL_UNSUPPORTED);
    HY_CHECK_STR(hyperionGetLastError()->fields[0].text, "rope_dim");
    c = good, c.head_dim = c.rope_dim = 7;
    HY_CHECK_INT(hy_llama_config_validate(&c), HYPERION_MODEL_INVALID);
    c = good, c.rms_eps = 0;
    HY_CHECK_INT(hy_llama_config_validate(&c), HYPERION_MODEL_INVALID);
    c = good, c.rope_freq_base = NAN;
    HY_CHECK_INT(hy_llama_config_validate(&c), HYPERION_MODEL_INVALID);
    HY_CHECK_STR(hyperionGetLastError()->fields[0].text, "rope_freq_base");
    c = good, c.rope_scaling_type = HY_ROPE_SCALING_LINEAR;
    HY_CHECK_INT(hy_llama_config_validate(&c), HYPERION_MODEL_INVALID); /* factor 0 */
    c = llama3_config(), c.rope_scaling_high_freq_factor = c.rope_scaling_low_freq_factor;
    HY_CHECK_INT(hy_llama_config_validate(&c), HYPERION_MODEL_INVALID);
    HY_CHECK_STR(hyperionGetLastError()->fields[0].text, "rope_scaling_high_freq_factor");
    c = llama3_config(), c.rope_scaling_orig_ctx = 0;
    HY_CHECK_INT(hy_llama_config_validate(&c), HYPERION_MODEL_INVALID);
    c = good, c.rope_scaling_type = (hy_rope_scaling_type)7;
    HY_CHECK_INT(hy_llama_config_validate(&c), HYPERION_MODEL_UNSUPPORTED);
    c = good, c.n_vocab = UINT32_MAX, c.n_embd = UINT32_MAX, c.n_ff = UINT32_MAX;
    c.n_head = c.n_head_kv = 1, c.head_dim = c.rope_dim = UINT32_MAX - 1;
    HY_CHECK_INT(hy_llama_config_validate(&c), HYPERION_MODEL_INVALID);
}

HY_TEST(reference_rejects_bad_inputs_and_frees_its_scratch) {
    hy_llama_config cfg = tiny_config(4, 2, 6, 16);
    rand_model m;
    HY_REQUIRE(make_model(&m, &cfg, 99));
    hyperion_memory_stats before, after;
    hyperionGetMemoryStats(&before);
    float logits[37];
    int32_t tokens[3] = { 1, 2, 3 };

    HY_CHECK_INT(hy_reference_forward(&m.cfg, &m.w, tokens, 0, 0, logits), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_INT(hy_reference_forward(&m.cfg, NULL, tokens, 3, 0, logits), HYPERION_INVALID_ARGUMENT);
    tokens[1] = 37;
    HY_CHECK_INT(hy_reference_forward(&m.cfg, &m.w, tokens, 3, 0, logits), HYPERION_INVALID_ARGUMENT);
    const hyperion_error *e = hyperionGetLastError();
    HY_CHECK_STR(e->fields[0].text, "tokens");
    HY_CHECK_INT(e->fields[1].number, 1);
    tokens[1] = -1;
    HY_CHECK_INT(hy_reference_forward(&m.cfg, &m.w, tokens, 3, 0, logits), HYPERION_INVALID_ARGUMENT);
    tokens[1] = 2;

    hy_llama_layer_f32 saved = m.layers[1];
    m.layers[1].w_up = NULL;
    HY_CHECK_INT(hy_reference_forward(&m.cfg, &m.w, tokens, 3, 0, logits), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_STR(hyperionGetLastError()->fields[0].text, "w_up");
    HY_CHECK_INT(hyperionGetLastError()->fields[1].number, 1);
    m.layers[1] = saved;
    const float *out = m.w.output;
    m.w.output = NULL; /* untied without output */
    HY_CHECK_INT(hy_reference_forward(&m.cfg, &m.w, tokens, 3, 0, logits), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_STR(hyperionGetLastError()->fields[0].text, "output");
    m.w.output = out;

    float bad_freqs[3] = { 1.0f, 0.0f, 2.0f };
    m.w.rope_freqs = bad_freqs;
    HY_CHECK_INT(hy_reference_forward(&m.cfg, &m.w, tokens, 3, 0, logits), HYPERION_MODEL_INVALID);
    HY_CHECK_STR(hyperionGetLastError()->fields[0].text, "rope_freqs");
    m.w.rope_freqs = NULL;

    HY_CHECK_INT(hy_reference_forward(&m.cfg, &m.w, tokens, 3, 0, logits), HYPERION_OK);
    hyperionGetMemoryStats(&after);
    HY_CHECK_INT(after.active_allocations, before.active_allocations);
    HY_CHECK_INT(after.tag_bytes[HYPERION_TAG_ACTIVATIONS], before.tag_bytes[HYPERION_TAG_ACTIVATIONS]);
    HY_CHECK(after.total_allocations > before.total_allocations); /* scratch came from hyperionAlloc */
    free_model(&m);
}
