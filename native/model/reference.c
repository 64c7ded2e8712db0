/*
 * reference.c — the llama forward pass written to be obviously right.
 *
 * One idea per section, in the order the model applies them. Every
 * intermediate is a double; weights are read as float32 and widened. Shapes are
 * given row-major: [rows, cols], a token's row being contiguous.
 */
#include "model/reference.h"

#include <math.h>
#include <string.h>

#include "core/internal.h"

/* ------------------------------------------------------------ building blocks */

/* out[i] = x[i] / sqrt(mean(x^2) + eps) * weight[i]            x, out: [n] */
static void rmsnorm(double *out, const double *x, const float *weight, size_t n, double eps) {
    double sum_sq = 0;
    for (size_t i = 0; i < n; i++) sum_sq += x[i] * x[i];
    double scale = 1.0 / sqrt(sum_sq / (double)n + eps);
    for (size_t i = 0; i < n; i++) out[i] = x[i] * scale * (double)weight[i];
}

/* out = W x        W: [n_out, n_in] float32, x: [n_in], out: [n_out] */
static void matvec(double *out, const float *w, const double *x, size_t n_out, size_t n_in) {
    for (size_t r = 0; r < n_out; r++) {
        const float *row = w + r * n_in;
        double acc = 0;
        for (size_t i = 0; i < n_in; i++) acc += (double)row[i] * x[i];
        out[r] = acc;
    }
}

/* Rotate each adjacent pair (v[2i], v[2i+1]) of every head by pos * inv_freq[i]
 * (ggml's "normal" RoPE mode).                  v: [n_heads, head_dim] */
static void rope(double *v, size_t n_heads, size_t head_dim, size_t pos, const double *inv_freq) {
    for (size_t h = 0; h < n_heads; h++) {
        double *head = v + h * head_dim;
        for (size_t i = 0; i < head_dim / 2; i++) {
            double theta = (double)pos * inv_freq[i];
            double c = cos(theta), s = sin(theta);
            double x0 = head[2 * i], x1 = head[2 * i + 1];
            head[2 * i] = x0 * c - x1 * s;
            head[2 * i + 1] = x0 * s + x1 * c;
        }
    }
}

/* In place: x = exp(x - max) / sum                                 x: [n] */
static void softmax(double *x, size_t n) {
    double max = x[0];
    for (size_t i = 1; i < n; i++) if (x[i] > max) max = x[i];
    double sum = 0;
    for (size_t i = 0; i < n; i++) { x[i] = exp(x[i] - max); sum += x[i]; }
    for (size_t i = 0; i < n; i++) x[i] /= sum;
}

static double silu(double x) { return x / (1.0 + exp(-x)); }

/* ------------------------------------------------------------ scratch */

typedef struct scratch {
    double *x;        /* [T, n_embd]   the residual stream */
    double *xn;       /* [T, n_embd]   normalized x */
    double *q;        /* [T, n_head * head_dim] */
    double *k;        /* [T, n_head_kv * head_dim] */
    double *v;        /* [T, n_head_kv * head_dim] */
    double *att;      /* [T, n_head * head_dim]   attention output, heads side by side */
    double *scores;   /* [T]                      one query's scores over positions 0..t */
    double *gate;     /* [T, n_ff] */
    double *up;       /* [T, n_ff] */
    double *delta;    /* [T, n_embd]   what a block adds to x */
    double *logit;    /* [n_vocab] */
    double *inv_freq; /* [rope_dim / 2] */
} scratch;

static void free_scratch(scratch *s) {
    hyperionFree(s->x);
    hyperionFree(s->xn);
    hyperionFree(s->q);
    hyperionFree(s->k);
    hyperionFree(s->v);
    hyperionFree(s->att);
    hyperionFree(s->scores);
    hyperionFree(s->gate);
    hyperionFree(s->up);
    hyperionFree(s->delta);
    hyperionFree(s->logit);
    hyperionFree(s->inv_freq);
    memset(s, 0, sizeof *s);
}

/* Allocate `rows` x `cols` doubles, checking the size. */
static hyperion_status alloc_doubles(double **out, size_t rows, size_t cols) {
    size_t n;
    if (__builtin_mul_overflow(rows, cols, &n) || __builtin_mul_overflow(n, sizeof(double), &n))
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "evaluate fewer tokens at once",
                             ((hy_field[]){ HY_TXT("field", "n_tokens"), HY_NUM("rows", rows), HY_NUM("cols", cols) }),
                             "reference scratch of %zu x %zu doubles overflows", rows, cols);
    *out = hyperionAlloc(n, HYPERION_TAG_ACTIVATIONS);
    return *out ? HYPERION_OK : hyperionGetLastError()->code;
}

static hyperion_status build_scratch(scratch *s, const hy_llama_config *c, size_t T) {
    size_t q_dim = (size_t)c->n_head * c->head_dim, kv_dim = (size_t)c->n_head_kv * c->head_dim;
    hyperion_status st;
    memset(s, 0, sizeof *s);
    if ((st = alloc_doubles(&s->x, T, c->n_embd)) || (st = alloc_doubles(&s->xn, T, c->n_embd)) ||
        (st = alloc_doubles(&s->q, T, q_dim)) || (st = alloc_doubles(&s->k, T, kv_dim)) ||
        (st = alloc_doubles(&s->v, T, kv_dim)) || (st = alloc_doubles(&s->att, T, q_dim)) ||
        (st = alloc_doubles(&s->scores, T, 1)) || (st = alloc_doubles(&s->gate, T, c->n_ff)) ||
        (st = alloc_doubles(&s->up, T, c->n_ff)) || (st = alloc_doubles(&s->delta, T, c->n_embd)) ||
        (st = alloc_doubles(&s->logit, c->n_vocab, 1)) || (st = alloc_doubles(&s->inv_freq, c->rope_dim / 2, 1)))
        free_scratch(s);
    return st;
}

/* ------------------------------------------------------------ checks */

static hyperion_status check_weights(const hy_llama_config *c, const hy_llama_weights_f32 *w) {
    const char *missing = NULL;
    int layer = -1;
    if (!w->token_embd) missing = "token_embd";
    else if (!w->layers) missing = "layers";
    else if (!w->output_norm) missing = "output_norm";
    else if (!c->output_tied && !w->output) missing = "output";
    for (uint32_t l = 0; !missing && l < c->n_layer; l++) {
        const hy_llama_layer_f32 *L = &w->layers[l];
        layer = (int)l;
        missing = !L->attn_norm ? "attn_norm" : !L->wq ? "wq" : !L->wk ? "wk" : !L->wv ? "wv" : !L->wo ? "wo"
                : !L->ffn_norm ? "ffn_norm" : !L->w_gate ? "w_gate" : !L->w_up ? "w_up" : !L->w_down ? "w_down" : NULL;
    }
    if (missing)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL,
                             ((hy_field[]){ HY_TXT("field", missing), HY_NUM("layer", layer) }),
                             "reference forward: weight %s is missing", missing);
    return HYPERION_OK;
}

/* ------------------------------------------------------------ the forward pass */

hyperion_status hy_reference_forward(const hy_llama_config *c, const hy_llama_weights_f32 *w,
                                     const int32_t *tokens, size_t n_tokens, int all_logits, float *logits) {
    hyperion_status st = hy_llama_config_validate(c);
    if (st) return st;
    if (!w || !tokens || !logits || n_tokens == 0)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL,
                             ((hy_field[]){ HY_TXT("field", !w ? "weights" : !tokens || !n_tokens ? "tokens" : "logits") }),
                             "reference forward needs weights, at least one token and an output buffer");
    if ((st = check_weights(c, w))) return st;
    for (size_t i = 0; w->rope_freqs && i < c->rope_dim / 2; i++)
        if (!isfinite(w->rope_freqs[i]) || w->rope_freqs[i] <= 0)
            return HY_RAISE_WITH(HYPERION_MODEL_INVALID, NULL,
                                 ((hy_field[]){ HY_TXT("field", "rope_freqs"), HY_NUM("index", i),
                                                HY_NUM("value", w->rope_freqs[i]) }),
                                 "RoPE frequency divisor %zu is %g, not a positive number", i, w->rope_freqs[i]);
    for (size_t t = 0; t < n_tokens; t++)
        if (tokens[t] < 0 || (uint32_t)tokens[t] >= c->n_vocab)
            return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL,
                                 ((hy_field[]){ HY_TXT("field", "tokens"), HY_NUM("index", t), HY_NUM("value", tokens[t]),
                                                HY_NUM("n_vocab", c->n_vocab) }),
                                 "token %d at index %zu is outside the vocabulary of %u", tokens[t], t, c->n_vocab);

    const size_t T = n_tokens, D = c->n_embd, HD = c->head_dim, FF = c->n_ff, V = c->n_vocab;
    const size_t n_head = c->n_head, n_kv = c->n_head_kv;
    const size_t q_dim = n_head * HD, kv_dim = n_kv * HD;
    const size_t group = n_head / n_kv; /* query heads sharing one key/value head */
    const double eps = c->rms_eps;
    scratch s;
    if ((st = build_scratch(&s, c, T))) return st;

    /* RoPE frequencies: pair i turns by pos * freq_scale * base^(-2i/rope_dim) / divisor_i */
    hy_llama_rope_freq_divisors(c, s.inv_freq);
    for (size_t i = 0; i < c->rope_dim / 2; i++) {
        double divisor = w->rope_freqs ? (double)w->rope_freqs[i] : s.inv_freq[i];
        s.inv_freq[i] = hy_llama_rope_freq_scale(c) * pow(c->rope_freq_base, -(double)(2 * i) / c->rope_dim) / divisor;
    }

    /* Embedding: x[t] = token_embd[tokens[t]]                      x: [T, D] */
    for (size_t t = 0; t < T; t++)
        for (size_t i = 0; i < D; i++) s.x[t * D + i] = w->token_embd[(size_t)tokens[t] * D + i];

    for (size_t l = 0; l < c->n_layer; l++) {
        const hy_llama_layer_f32 *L = &w->layers[l];

        /* Attention input: xn = rmsnorm(x) * attn_norm;  q, k, v projections */
        for (size_t t = 0; t < T; t++) {
            rmsnorm(s.xn + t * D, s.x + t * D, L->attn_norm, D, eps);
            matvec(s.q + t * q_dim, L->wq, s.xn + t * D, q_dim, D);   /* [n_head, HD] */
            matvec(s.k + t * kv_dim, L->wk, s.xn + t * D, kv_dim, D); /* [n_kv, HD] */
            matvec(s.v + t * kv_dim, L->wv, s.xn + t * D, kv_dim, D); /* [n_kv, HD] */
            rope(s.q + t * q_dim, n_head, HD, t, s.inv_freq);
            rope(s.k + t * kv_dim, n_kv, HD, t, s.inv_freq);
        }

        /* Causal attention: query t of head h looks at keys 0..t of kv head h / group */
        for (size_t t = 0; t < T; t++) {
            for (size_t h = 0; h < n_head; h++) {
                const double *q = s.q + t * q_dim + h * HD;
                size_t kvh = h / group;
                for (size_t p = 0; p <= t; p++) {
                    const double *k = s.k + p * kv_dim + kvh * HD;
                    double dot = 0;
                    for (size_t i = 0; i < HD; i++) dot += q[i] * k[i];
                    s.scores[p] = dot / sqrt((double)HD);
                }
                softmax(s.scores, t + 1);
                double *out = s.att + t * q_dim + h * HD;
                for (size_t i = 0; i < HD; i++) out[i] = 0;
                for (size_t p = 0; p <= t; p++) {
                    const double *v = s.v + p * kv_dim + kvh * HD;
                    for (size_t i = 0; i < HD; i++) out[i] += s.scores[p] * v[i];
                }
            }
        }

        /* Output projection and residual: x += Wo att */
        for (size_t t = 0; t < T; t++) {
            matvec(s.delta + t * D, L->wo, s.att + t * q_dim, D, q_dim);
            for (size_t i = 0; i < D; i++) s.x[t * D + i] += s.delta[t * D + i];
        }

        /* Feed-forward (SwiGLU): x += Wdown (silu(Wgate m) * (Wup m)),  m = rmsnorm(x) * ffn_norm */
        for (size_t t = 0; t < T; t++) {
            rmsnorm(s.xn + t * D, s.x + t * D, L->ffn_norm, D, eps);
            matvec(s.gate + t * FF, L->w_gate, s.xn + t * D, FF, D); /* [FF] */
            matvec(s.up + t * FF, L->w_up, s.xn + t * D, FF, D);     /* [FF] */
            for (size_t i = 0; i < FF; i++) s.gate[t * FF + i] = silu(s.gate[t * FF + i]) * s.up[t * FF + i];
            matvec(s.delta + t * D, L->w_down, s.gate + t * FF, D, FF);
            for (size_t i = 0; i < D; i++) s.x[t * D + i] += s.delta[t * D + i];
        }
    }

    /* Final norm and output projection (token_embd when tied)     logits: [rows, V] */
    const float *out_w = c->output_tied ? w->token_embd : w->output;
    size_t first = all_logits ? 0 : T - 1;
    for (size_t t = first; t < T; t++) {
        rmsnorm(s.xn + t * D, s.x + t * D, w->output_norm, D, eps);
        matvec(s.logit, out_w, s.xn + t * D, V, D);
        float *row = logits + (t - first) * V;
        for (size_t i = 0; i < V; i++) row[i] = (float)s.logit[i];
    }
    free_scratch(&s);
    return HYPERION_OK;
}
