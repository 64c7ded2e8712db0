/*
 * llama.c — the llama-family forward pass over quantized weights.
 *
 * One forward pass processes a chunk of up to n_batch tokens:
 *
 *   x = token_embd[tokens]                               // [n, n_embd]
 *   for each layer:
 *     xb = rmsnorm(x) * attn_norm
 *     q, k, v = xb Wq, xb Wk, xb Wv                      // [n, n_embd_q], [n, n_embd_kv] x2
 *     rope(q), rope(k); store k, v in the cache at their positions
 *     attn = softmax(q K^T / sqrt(head_dim)) V           // causal, per head (GQA)
 *     x += attn Wo
 *     xb = rmsnorm(x) * ffn_norm
 *     x += (silu(xb Wgate) * (xb Wup)) Wdown
 *   logits = (rmsnorm(x) * output_norm) Woutput
 *
 * Weight products quantize their input once per activation format (Q8_0 or
 * Q8_K, see kernels/quant.h) and split output rows across the thread pool:
 * matrix-vector kernels for one token, matrix-matrix kernels for a chunk.
 * Attention reads the F16 cache in place, split across (token, head) pairs.
 *
 * Profiler zones (hyperion_profiler.h) mark the phase of each call (prefill or
 * decode), each layer and each op. Op zones carry the shape, the tensor type,
 * the bytes the op must move (weights, activations read and written, the KV
 * cache rows it reads) and its arithmetic (a multiply-add counts 2). Ops split
 * across the pool record a slice zone per participant (threadpool.h) that
 * carries its share of the bytes and flops; the dispatching thread's zone
 * around the run carries none. Weight products are named by kernel and shape,
 * "matvec 4096x4096" (one token) or "matmul 4096x4096" (a chunk), rows x
 * columns of the weight, with its quant type as the zone type. With the
 * profiler off every zone is one predictable branch.
 */
#include "model/llama.h"

#include <math.h>
#include <string.h>

#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "kernels/quant.h"
#include "kernels/types.h"
#include "model/llama_config.h"

#include <stdio.h>

/* ------------------------------------------------------------ model load */

static hyperion_status check_kernels(const hy_tensor *t) {
    return t ? hy_matmul_supported(t) : HYPERION_OK;
}

static void note_activation_row(hy_llama_model *m, const hy_tensor *t) {
    size_t bytes = hy_activation_row_bytes(t->type, (int64_t)t->ne[0]);
    if (bytes > m->max_activation_row_bytes) m->max_activation_row_bytes = bytes;
}

/* The hyperparameters as the reference pass's config (same facts, its names). */
void hy_llama_config_from_hparams(const hy_llama_hparams *hp, hy_llama_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->n_vocab = hp->n_vocab;
    cfg->n_ctx_train = hp->n_ctx_train;
    cfg->n_embd = hp->n_embd;
    cfg->n_layer = hp->n_layer;
    cfg->n_head = hp->n_head;
    cfg->n_head_kv = hp->n_head_kv;
    cfg->head_dim = hp->head_dim;
    cfg->n_ff = hp->n_ff;
    cfg->rms_eps = hp->rms_eps;
    cfg->rope_freq_base = hp->rope_freq_base;
    cfg->rope_dim = hp->n_rot;
    cfg->rope_scaling_type = hp->rope_scaling;
    cfg->rope_scaling_factor = hp->rope_factor;
    cfg->rope_scaling_orig_ctx = hp->rope_orig_ctx;
    cfg->rope_scaling_low_freq_factor = hp->rope_low_freq_factor;
    cfg->rope_scaling_high_freq_factor = hp->rope_high_freq_factor;
    cfg->output_tied = hp->tied_output;
}

/* The llama3 per-frequency divisors computed from metadata, when the file
 * gives the scaling as keys instead of a rope_freqs tensor. */
static hyperion_status build_rope_divisors(hy_llama_model *m) {
    const hy_llama_hparams *hp = &m->hp;
    if (hp->rope_freqs || hp->rope_scaling != HY_ROPE_SCALING_LLAMA3) return HYPERION_OK;
    hy_llama_config cfg;
    hy_llama_config_from_hparams(hp, &cfg);
    uint32_t half = hp->n_rot / 2;
    double *tmp = hyperionAlloc(half * sizeof(double), HYPERION_TAG_MODEL);
    m->rope_divisors = hyperionAlloc(half * sizeof(float), HYPERION_TAG_MODEL);
    if (!tmp || !m->rope_divisors) {
        hyperionFree(tmp);
        return hyperionGetLastError()->code;
    }
    hy_llama_rope_freq_divisors(&cfg, tmp);
    for (uint32_t i = 0; i < half; i++) m->rope_divisors[i] = (float)tmp[i];
    hyperionFree(tmp);
    return HYPERION_OK;
}

hyperion_status hy_llama_model_open(const char *path, hy_llama_model **out) {
    *out = NULL;
    hy_llama_model *m = hyperionCalloc(1, sizeof *m, HYPERION_TAG_MODEL);
    if (!m) return hyperionGetLastError()->code;
    hyperion_status s = hy_gguf_open(path, &m->gguf);
    if (s == HYPERION_OK) s = hy_llama_hparams_read(m->gguf, &m->hp);
    if (s == HYPERION_OK) s = hy_llama_weights_bind(m->gguf, &m->hp, &m->w);
    if (s == HYPERION_OK) {
        /* every weight product must have kernels; find out now, not mid-generation */
        s = check_kernels(m->w.output);
        for (uint32_t l = 0; s == HYPERION_OK && l < m->w.n_layer; l++) {
            static const int products[] = { HY_L_ATTN_Q, HY_L_ATTN_K, HY_L_ATTN_V, HY_L_ATTN_OUTPUT,
                                            HY_L_FFN_GATE, HY_L_FFN_UP, HY_L_FFN_DOWN };
            for (size_t i = 0; s == HYPERION_OK && i < sizeof products / sizeof products[0]; i++) {
                const hy_tensor *t = m->w.layers[l].t[products[i]];
                s = check_kernels(t);
                if (s == HYPERION_OK) note_activation_row(m, t);
            }
        }
        if (s == HYPERION_OK) note_activation_row(m, m->w.output);
        if (s == HYPERION_OK && !hy_type_is_supported(m->w.token_embd->type))
            s = HY_RAISE_WITH(HYPERION_MODEL_UNSUPPORTED, NULL,
                              ((hy_field[]){ HY_TXT("field", "token_embd.weight"), HY_TXT("type", hy_type_get(m->w.token_embd->type)->name) }),
                              "token_embd.weight has type %s, which this runtime cannot dequantize",
                              hy_type_get(m->w.token_embd->type)->name);
    }
    if (s == HYPERION_OK) s = build_rope_divisors(m);
    if (s != HYPERION_OK) {
        hy_llama_model_free(m);
        return s;
    }
    *out = m;
    return HYPERION_OK;
}

hyperion_status hy_llama_model_load(const char *path, hy_llama_model **out) {
    HY_ZONE_PHASE(zone, HYPERION_PHASE_LOAD);
    hyperion_status s = hy_llama_model_open(path, out);
    HY_ZONE_END(zone);
    return s;
}

void hy_llama_model_free(hy_llama_model *m) {
    if (!m) return;
    hyperionFree(m->repacked_block);
    hyperionFree(m->repacked);
    hy_llama_weights_free(&m->w);
    hyperionFree(m->rope_divisors);
    hy_gguf_close(m->gguf);
    hyperionFree(m);
}

uint64_t hy_llama_kv_bytes(const hy_llama_hparams *hp, uint32_t n_ctx, hy_kv_cache_type cache) {
    uint64_t elem = cache == HY_KV_CACHE_F32 ? 4 : 2;
    return 2ull * hp->n_layer * n_ctx * hp->n_embd_kv * elem;
}

/* --------------------------------------------------------------- context */

struct hy_llama_context {
    const hy_llama_model *model;
    hy_llama_context_params p;
    uint32_t n_past;

    /* KV cache: per layer and KV head, n_ctx rows of head_dim elements of
     * kv_type. Head-major, so attention (one KV head per work item) reads
     * each head's rows back to back: with the heads interleaved per position
     * it read 1-2 cache lines every n_embd_kv elements, which the hardware
     * prefetchers do not follow (decode attention from DRAM ~15% slower in a
     * microbenchmark of tinyllama's shapes after a 512-token prompt). */
    uint32_t kv_type;     /* HY_TYPE_F16 or HY_TYPE_F32 (from p.kv_cache) */
    size_t kv_row_bytes;  /* one position, all KV heads */
    size_t kv_head_bytes; /* one position, one KV head */
    uint8_t *k_cache;     /* [n_layer, n_head_kv, n_ctx, head_dim] */
    uint8_t *v_cache;     /* [n_layer, n_head_kv, n_ctx, head_dim] */

    /* scratch for one chunk of up to chunk_cap tokens (chunk_cap <= n_batch),
     * all in the one block `chunk` (see size_chunk_buffers) */
    uint8_t *chunk;
    uint32_t chunk_cap;
    float *x;      /* [chunk_cap, n_embd] residual stream */
    float *xb;     /* [chunk_cap, n_embd] normed input / projection output */
    float *q;      /* [chunk_cap, n_embd_q] */
    float *k;      /* [chunk_cap, n_embd_kv] */
    float *v;      /* [chunk_cap, n_embd_kv] */
    float *attn;   /* [chunk_cap, n_embd_q] attention output */
    float *hb;     /* [chunk_cap, n_ff] gate, then silu(gate) * up */
    float *hb2;    /* [chunk_cap, n_ff] up */
    float *rope_cos, *rope_sin; /* [chunk_cap, n_rot / 2] */
    uint8_t *xq;   /* [chunk_cap, xq_row_bytes] quantized activations */
    size_t xq_row_bytes;
    float *scores; /* [scores_threads, heads per KV head, n_ctx] attention scores per worker */
    int scores_threads;
    uint8_t *mm_scratch;      /* [mm_threads, mm_stride] matmul tile scratch per pool thread */
    size_t mm_stride;         /* bytes per thread (64-byte multiple) */
    int mm_threads;

    /* what xq holds now, so q/k/v (and gate/up) share one quantization */
    const float *xq_src;
    uint32_t xq_type;
    /* a decode activation's data for the matvec kernels, made once for the
     * products (and all their chunks) that read it; cleared with xq */
    hy_matvec_prep mv_prep;

    /* profiler names of the weight products, interned once here: entry
     * layer * HY_L_COUNT + tensor (the output weight after the last layer)
     * holds { "matvec RxC", "matmul RxC" } */
    const char *(*product_names)[2];
};

uint32_t hy_llama_context_n_past(const hy_llama_context *ctx) { return ctx->n_past; }
uint32_t hy_llama_context_n_ctx(const hy_llama_context *ctx) { return ctx->p.n_ctx; }

uint64_t hy_llama_context_kv_bytes(const hy_llama_context *ctx) {
    return ctx ? 2ull * ctx->kv_row_bytes * ctx->p.n_ctx * ctx->model->hp.n_layer : 0;
}

void hy_llama_context_truncate(hy_llama_context *ctx, uint32_t n_keep) {
    if (n_keep < ctx->n_past) ctx->n_past = n_keep;
}

static void *scratch(size_t count, size_t size, hyperion_status *s) {
    if (*s != HYPERION_OK) return NULL;
    void *p = hyperionCalloc(count, size, HYPERION_TAG_ACTIVATIONS);
    if (!p) *s = hyperionGetLastError()->code;
    return p;
}

/* "matvec RxC" / "matmul RxC" for one weight; the bare kernel name when
 * interning fails (the profile then merges shapes, nothing else changes). */
static void name_product(const hy_tensor *w, const char *names[2]) {
    static const char *const kernel[2] = { "matvec", "matmul" };
    for (int k = 0; k < 2; k++) {
        char text[64];
        snprintf(text, sizeof text, "%s %llux%llu", kernel[k], (unsigned long long)hy_tensor_rows(w),
                 (unsigned long long)w->ne[0]);
        names[k] = hyperionProfilerIntern(text);
        if (!names[k]) names[k] = kernel[k];
    }
}

static void name_products(hy_llama_context *c) {
    const hy_llama_weights *w = &c->model->w;
    static const int products[] = { HY_L_ATTN_Q, HY_L_ATTN_K, HY_L_ATTN_V, HY_L_ATTN_OUTPUT,
                                    HY_L_FFN_GATE, HY_L_FFN_UP, HY_L_FFN_DOWN };
    for (uint32_t l = 0; l < c->model->hp.n_layer; l++)
        for (size_t i = 0; i < sizeof products / sizeof products[0]; i++)
            name_product(w->layers[l].t[products[i]], c->product_names[(size_t)l * HY_L_COUNT + (size_t)products[i]]);
    name_product(w->output, c->product_names[(size_t)c->model->hp.n_layer * HY_L_COUNT]);
}

/* The matmul scratch one thread needs for the largest weight product of a
 * chunk of n_batch tokens, with the kernels in use now (a 64-byte multiple). */
static size_t matmul_scratch_per_thread(const hy_llama_context *c) {
    const hy_llama_weights *w = &c->model->w;
    static const int products[] = { HY_L_ATTN_Q, HY_L_ATTN_K, HY_L_ATTN_V, HY_L_ATTN_OUTPUT,
                                    HY_L_FFN_GATE, HY_L_FFN_UP, HY_L_FFN_DOWN };
    int64_t n = c->p.n_batch;
    size_t most = hy_matmul_scratch_bytes(w->output, n);
    for (uint32_t l = 0; l < c->model->hp.n_layer; l++)
        for (size_t i = 0; i < sizeof products / sizeof products[0]; i++) {
            size_t b = hy_matmul_scratch_bytes(w->layers[l].t[products[i]], n);
            if (b > most) most = b;
        }
    return (most + 63) & ~(size_t)63;
}

/* Every pool thread's matmul scratch, for `threads` threads (thread_index <
 * threads) and the kernels in use now (hyperionEnableSIMD may change what they
 * need): one block, replaced only when it is too small. */
static hyperion_status ensure_matmul_scratch(hy_llama_context *c, int threads) {
    size_t stride = matmul_scratch_per_thread(c);
    if (stride == 0 || (c->mm_threads >= threads && c->mm_stride >= stride)) return HYPERION_OK;
    if (c->mm_threads > threads) threads = c->mm_threads;
    if (c->mm_stride > stride) stride = c->mm_stride;
    if ((size_t)threads > SIZE_MAX / stride)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_NUM("threads", threads) }),
                             "matmul scratch for %d threads overflows size_t", threads);
    uint8_t *fresh = hyperionAllocAligned((size_t)threads * stride, 64, HYPERION_TAG_SCRATCH);
    if (!fresh) return hyperionGetLastError()->code;
    hyperionFree(c->mm_scratch);
    c->mm_scratch = fresh;
    c->mm_stride = stride;
    c->mm_threads = threads;
    return HYPERION_OK;
}

/* ------------------------------------------------------- chunk buffers
 *
 * The activations of one chunk (x, xb, q, k, v, attn, hb, hb2, the RoPE
 * tables and the quantized input) scale with the tokens in it: at the
 * tinyllama shape a 512-token chunk needs 44 MiB, one token 90 KiB. They live
 * in one block sized on demand:
 *  - a chunk larger than the block replaces it with one for that chunk, so a
 *    prompt processed in equal chunks (in one call or one call per chunk, as
 *    sessions do) allocates once and then reuses it: steady-state prefill does
 *    not churn, and a shorter last chunk fits in what is there;
 *  - a single-token call (a decode step) after a larger chunk replaces it with
 *    a one-token block and asks the pool to give the freed pages back
 *    (hyperionTrimMemory). The pool alone keeps up to 64 MiB of freed pages
 *    resident, rightly for blocks that come back soon; it cannot tell that
 *    this one will not be needed until the next prompt. The context can, so
 *    the context decides: the decode phase then holds the weights, the KV
 *    cache and kilobytes of activations, not the prompt's buffers. The cost is
 *    zero-filling the block again at the next prompt (~10 ms for 44 MiB,
 *    against seconds of prompt processing).
 * One block rather than eleven: one allocation and one free per resize, and
 * the pieces stay 64-byte aligned (each is a 64-byte multiple). */

enum { CHUNK_X, CHUNK_XB, CHUNK_Q, CHUNK_K, CHUNK_V, CHUNK_ATTN, CHUNK_HB, CHUNK_HB2, CHUNK_COS, CHUNK_SIN,
       CHUNK_XQ, CHUNK_COUNT };

/* Offsets of the chunk buffers for n tokens into off[], the total into *total;
 * 0 when the sizes overflow size_t (never at validated shapes). */
static int chunk_layout(const hy_llama_context *c, uint32_t n, size_t off[CHUNK_COUNT], size_t *total) {
    const hy_llama_hparams *hp = &c->model->hp;
    const size_t f = sizeof(float), half = hp->n_rot / 2;
    const size_t row[CHUNK_COUNT] = { hp->n_embd * f, hp->n_embd * f, hp->n_embd_q * f, hp->n_embd_kv * f,
                                      hp->n_embd_kv * f, hp->n_embd_q * f, hp->n_ff * f, hp->n_ff * f,
                                      half * f, half * f, c->xq_row_bytes };
    size_t at = 0;
    for (int i = 0; i < CHUNK_COUNT; i++) {
        if (row[i] > (SIZE_MAX - 64) / n) return 0;
        size_t bytes = ((size_t)n * row[i] + 63) & ~(size_t)63;
        if (bytes > SIZE_MAX - at) return 0;
        off[i] = at;
        at += bytes;
    }
    *total = at;
    return 1;
}

/* Replace the chunk buffers with ones for n tokens (zero-filled). The old
 * block goes first, so use never holds both; on failure the context has none
 * (chunk_cap 0) and the next call tries again. */
static hyperion_status size_chunk_buffers(hy_llama_context *c, uint32_t n) {
    size_t off[CHUNK_COUNT], total = 0;
    if (!chunk_layout(c, n, off, &total))
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_NUM("tokens", n) }),
                             "activations for a chunk of %u tokens overflow size_t", n);
    const uint32_t old_cap = c->chunk_cap;
    hyperionFree(c->chunk);
    c->chunk = NULL;
    c->chunk_cap = 0;
    /* a prompt-sized block just went back to the pool: make its pages leave the RSS now */
    if (old_cap > n) hyperionTrimMemory(0);
    uint8_t *b = hyperionCalloc(1, total, HYPERION_TAG_ACTIVATIONS);
    if (!b) return hyperionGetLastError()->code;
    c->chunk = b;
    c->chunk_cap = n;
    c->x = (float *)(void *)(b + off[CHUNK_X]);
    c->xb = (float *)(void *)(b + off[CHUNK_XB]);
    c->q = (float *)(void *)(b + off[CHUNK_Q]);
    c->k = (float *)(void *)(b + off[CHUNK_K]);
    c->v = (float *)(void *)(b + off[CHUNK_V]);
    c->attn = (float *)(void *)(b + off[CHUNK_ATTN]);
    c->hb = (float *)(void *)(b + off[CHUNK_HB]);
    c->hb2 = (float *)(void *)(b + off[CHUNK_HB2]);
    c->rope_cos = (float *)(void *)(b + off[CHUNK_COS]);
    c->rope_sin = (float *)(void *)(b + off[CHUNK_SIN]);
    c->xq = b + off[CHUNK_XQ];
    c->xq_src = NULL;
    hy_matvec_prep_clear(&c->mv_prep);
    return HYPERION_OK;
}

/* The chunk buffers a call of n tokens needs: grown to its largest chunk;
 * shrunk to one token for a single-token call (a decode step). */
static hyperion_status fit_chunk_buffers(hy_llama_context *c, uint32_t n) {
    uint32_t want = n < c->p.n_batch ? n : c->p.n_batch;
    if (want > c->chunk_cap || (want == 1 && c->chunk_cap > 1)) return size_chunk_buffers(c, want);
    return HYPERION_OK;
}

hyperion_status hy_llama_context_trim(hy_llama_context *ctx) {
    return ctx->chunk_cap > 1 ? size_chunk_buffers(ctx, 1) : HYPERION_OK;
}

uint32_t hy_llama_context_chunk_capacity(const hy_llama_context *ctx) { return ctx->chunk_cap; }

static hyperion_status ensure_scores(hy_llama_context *c, int threads);

hyperion_status hy_llama_context_create(const hy_llama_model *model, const hy_llama_context_params *params,
                                        hy_llama_context **out) {
    *out = NULL;
    const hy_llama_hparams *hp = &model->hp;
    hy_llama_context_params p = *params;
    if (p.n_batch == 0) p.n_batch = 64;
    uint64_t max_ctx = (uint64_t)(hp->n_ctx_train ? hp->n_ctx_train : 4096) * 8;
    if (p.n_ctx < 1 || p.n_ctx > max_ctx || p.n_ctx > (1u << 24))
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "use a context size between 1 and 8 x the trained context",
                             ((hy_field[]){ HY_TXT("field", "contextSize"), HY_NUM("value", p.n_ctx), HY_NUM("max", (double)max_ctx) }),
                             "contextSize %u is outside 1..%llu", p.n_ctx, (unsigned long long)max_ctx);
    if (p.n_batch > 4096)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "use at most 4096",
                             ((hy_field[]){ HY_TXT("field", "batchSize"), HY_NUM("value", p.n_batch) }),
                             "batchSize %u is larger than 4096", p.n_batch);
    if (p.kv_cache != HY_KV_CACHE_F16 && p.kv_cache != HY_KV_CACHE_F32)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "use f16 or f32", ((hy_field[]){ HY_TXT("field", "kvCacheType") }),
                             "KV cache type %u is not f16 or f32", p.kv_cache);
    if (p.n_batch > p.n_ctx) p.n_batch = p.n_ctx;

    hy_llama_context *c = hyperionCalloc(1, sizeof *c, HYPERION_TAG_SESSION);
    if (!c) return hyperionGetLastError()->code;
    c->model = model;
    c->p = p;
    c->kv_type = p.kv_cache == HY_KV_CACHE_F32 ? HY_TYPE_F32 : HY_TYPE_F16;
    c->kv_row_bytes = (size_t)hp->n_embd_kv * (c->kv_type == HY_TYPE_F32 ? 4 : 2);
    c->kv_head_bytes = (size_t)hp->head_dim * (c->kv_type == HY_TYPE_F32 ? 4 : 2);

    hyperion_status s = HYPERION_OK;
    size_t layer_bytes = c->kv_row_bytes * p.n_ctx;
    c->k_cache = hyperionAlloc(layer_bytes * hp->n_layer, HYPERION_TAG_KV_CACHE);
    if (!c->k_cache) s = hyperionGetLastError()->code;
    if (s == HYPERION_OK) {
        c->v_cache = hyperionAlloc(layer_bytes * hp->n_layer, HYPERION_TAG_KV_CACHE);
        if (!c->v_cache) s = hyperionGetLastError()->code;
    }
    c->xq_row_bytes = (model->max_activation_row_bytes + 63) & ~(size_t)63;
    if (s == HYPERION_OK) {
        uint32_t widest = hp->n_embd > hp->n_embd_q ? hp->n_embd : hp->n_embd_q;
        if (hp->n_ff > widest) widest = hp->n_ff;
        c->mv_prep.capacity = hy_matvec_prep_bytes(widest);
        c->mv_prep.data = hyperionAllocAligned(c->mv_prep.capacity, 64, HYPERION_TAG_ACTIVATIONS);
        if (!c->mv_prep.data) s = hyperionGetLastError()->code;
    }
    /* the chunk buffers are sized by the first decode (size_chunk_buffers) */
    c->product_names = scratch((size_t)hp->n_layer * HY_L_COUNT + 1, sizeof *c->product_names, &s);
    if (s == HYPERION_OK) name_products(c);
    if (s == HYPERION_OK && p.n_threads > 0) s = ensure_matmul_scratch(c, (int)(p.n_threads > 1024 ? 1024 : p.n_threads));
    if (s == HYPERION_OK && p.n_threads > 0) s = ensure_scores(c, (int)(p.n_threads > 1024 ? 1024 : p.n_threads));
    if (s != HYPERION_OK) {
        hy_llama_context_free(c);
        return s;
    }
    *out = c;
    return HYPERION_OK;
}

void hy_llama_context_free(hy_llama_context *c) {
    if (!c) return;
    void *blocks[] = { c->k_cache, c->v_cache, c->chunk, c->scores, c->mm_scratch, (void *)c->product_names,
                       c->mv_prep.data };
    for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++) hyperionFree(blocks[i]);
    hyperionFree(c);
}

/* ------------------------------------------------------ parallel helpers */

typedef struct pass {
    hy_llama_context *c;
    hy_threadpool *pool;
    uint32_t n;        /* tokens in this chunk */
    uint32_t pos0;     /* position of the first */
    uint32_t layer;
    int32_t zone_layer; /* layer index for profiler zones, -1 outside the layers */
} pass;

/* A type's name for zones (types were validated at load). */
static const char *type_name(uint32_t type) {
    const hy_type_info *t = hy_type_get(type);
    return t ? t->name : NULL;
}

/* Quantize n rows of src (row_len floats, src_stride apart) into the format w
 * wants, unless xq already holds exactly that. */
typedef struct quant_job {
    hy_llama_context *c;
    uint32_t weight_type;
    const float *src;
    size_t src_stride;
    int64_t row_len;
} quant_job;

static void quant_rows(void *arg, size_t begin, size_t end, int thread_index) {
    (void)thread_index;
    quant_job *j = arg;
    for (size_t t = begin; t < end; t++)
        hy_quantize_activations(j->weight_type, j->src + t * j->src_stride, j->c->xq + t * j->c->xq_row_bytes, j->row_len);
}

static hyperion_status prepare_input(pass *ps, const hy_tensor *w, const float *src, size_t src_stride) {
    hy_llama_context *c = ps->c;
    uint32_t act = hy_activation_type(w->type);
    if (c->xq_src == src && c->xq_type == act) return HYPERION_OK;
    quant_job j = { c, w->type, src, src_stride, (int64_t)w->ne[0] };
    const int64_t n = ps->n, len = (int64_t)w->ne[0];
    /* per row: the floats read, the activation row written; a copy for float weights */
#define QUANT_ROW_BYTES ((uint64_t)len * 4 + hy_activation_row_bytes(w->type, len))
#define QUANT_ROW_FLOPS (act == HY_TYPE_F32 ? 0 : 3ull * (uint64_t)len)  /* |x| max, scale, round */
    hyperion_status s = HYPERION_OK;
    if (n == 1) {
        HY_ZONE_OP(zq, "quantize", ps->zone_layer, .dims = { 1, len }, .type = type_name(act), .bytes = QUANT_ROW_BYTES,
                   .flops = QUANT_ROW_FLOPS);
        quant_rows(&j, 0, 1, 0);
        HY_ZONE_END(zq);
    } else {
        HY_ZONE_OP(zq, "quantize", ps->zone_layer, .dims = { n, len }, .type = type_name(act));
        hy_threadpool_zone zone, *zp = NULL;
        if (zq.buffer) {
            zone = (hy_threadpool_zone){ .name = "quantize", .type = type_name(act), .layer = ps->zone_layer,
                                         .dims = { n, len }, .item_bytes = QUANT_ROW_BYTES, .item_flops = QUANT_ROW_FLOPS };
            zp = &zone;
        }
        s = hy_threadpool_for_zoned(ps->pool, HY_THREADPOOL_DYNAMIC, (size_t)n, 4, quant_rows, &j, zp);
        HY_ZONE_END(zq);
    }
#undef QUANT_ROW_BYTES
#undef QUANT_ROW_FLOPS
    hy_matvec_prep_clear(&c->mv_prep); /* made from what xq held */
    if (s != HYPERION_OK) {
        c->xq_src = NULL;
        return s;
    }
    c->xq_src = src;
    c->xq_type = act;
    return HYPERION_OK;
}

/* The buffer xq was made from changed: forget the quantized copy. */
static void invalidate_input(hy_llama_context *c) {
    c->xq_src = NULL;
}

typedef struct product_job {
    const hy_tensor *w;
    const void *xq;
    const hy_matvec_prep *prep;  /* decode: the activation's data for the kernels (or none) */
    size_t xq_row_bytes;
    float *y;
    int64_t n_tokens;
    uint8_t *scratch;         /* [scratch_threads, scratch_stride]: the context's per-thread blocks */
    size_t scratch_stride;
    int scratch_threads;
} product_job;

static void product_rows(void *arg, size_t begin, size_t end, int thread_index) {
    product_job *j = arg;
    if (j->n_tokens == 1) {
        hy_matvec_prepped(j->w, j->xq, j->prep, j->y, (int64_t)begin, (int64_t)end);
        return;
    }
    /* this thread's own block; a thread index outside it (never, after
     * ensure_matmul_scratch) falls back to the slower path, not to a race */
    int own = thread_index >= 0 && thread_index < j->scratch_threads && j->scratch;
    hy_matmul_with_scratch(j->w, j->xq, j->xq_row_bytes, j->y, j->n_tokens, (int64_t)begin, (int64_t)end,
                           own ? j->scratch + (size_t)thread_index * j->scratch_stride : NULL,
                           own ? j->scratch_stride : 0);
}

/* Rows per chunk of a batched product of `rows` rows over `threads` threads. */
static size_t product_grain(size_t rows, int threads) {
    size_t grain = rows / ((size_t)threads * 8);
    return grain < 16 ? 16 : (grain + 15) & ~(size_t)15;
}

/* Rows per chunk of a decode product: the smallest piece the stealing split
 * hands out (its pieces grow to an eighth of a share while much is left). */
#define DECODE_GRAIN 16

/* The decode hint for a run followed by a product with weights `next`
 * (NULL: none): what that product's participants will read. */
static hy_threadpool_read next_read(const pass *ps, const hy_tensor *next) {
    hy_threadpool_read r = { 0 };
    if (ps->n != 1 || !next) return r;
    const size_t rows = (size_t)hy_tensor_rows(next);
    r.base = next->data;
    r.item_bytes = next->row_bytes;
    r.n_items = rows;
    r.grain = DECODE_GRAIN;
    return r;
}

/* y[n, rows(w)] = src[n, ne0(w)] W^T, rows split across the pool. Chunks are
 * multiples of 16 rows (the widest register tile) and calls small enough that
 * an abort is noticed within a few milliseconds. names: the product's zone names
 * (matvec, matmul); next: the weights the run after this one reads (NULL:
 * none), the decode hint below. A batch (matmul, compute-bound) hands chunks out
 * dynamically. Decode (matvec, memory-bound) splits with stealing: each
 * thread streams its own contiguous share of the rows front to back, so its
 * prefetch runs ahead into rows it will read itself, and a thread that is
 * done takes the other's chunks from the far end, so one the OS preempts does
 * not hold up the product. Handing out every chunk dynamically (each thread's
 * next chunk elsewhere, its prefetch wasted on the other's rows) decoded
 * tinyllama at 2 threads 1-2% slower (medians of three interleaved runs);
 * static halves without stealing were 3-6% slower on the VM under load.
 * One product per call, even where several read the same input: q, k, v in
 * one split and gate, up in another (a driver outside the repo, every
 * layer's decode products) took 28.27 against 27.76 ms for tinyllama q4_0
 * and 34.46 against 33.77 for q4_k_m (means of 30 interleaved passes): the
 * meeting points between products cost less than the host's noise.
 * In decode each run carries the next product's weights as a hint
 * (next_read; the threads split them as that product will): a thread that has
 * finished its share and waits, for the other or through the single-threaded
 * glue (norms, quantizing, rope: ~5% of a tinyllama q4_0 token, when memory
 * would otherwise idle), fetches the start of its next share into L2. Per-token
 * medians of interleaved runs (tinyllama q4_0, 2 threads, two sittings): lower
 * with the hint in 6 of 9 pairs, by 0.3-1.6 ms of ~31 ms, higher in 2; q4_k_m
 * showed no difference through the host's noise.
 * Decode chunks are DECODE_GRAIN rows, and the stealing split hands them out
 * in pieces that shrink toward the end of each share, so the two threads
 * finish a product within ~16 rows of each other (fixed eighths of a share
 * left one waiting up to a whole eighth: p10/p90 +-15 us a product, ~155
 * products a token). Small pieces are cheap because the activation's data
 * for the Q4_0 / Q8_0 kernels is made once per activation (mv_prep), not per
 * call (~240 ns a call for 2048-element rows, ~650 for 5632: a driver outside
 * the repo). Both together, interleaved pairs with the previous build
 * (tinyllama, 512-token prompt, 128 tokens, 2 threads, steal under 1%): q4_0
 * faster in 3 of 3 pairs, medians 33.47 against 32.17 tok/s; q4_k_m faster in
 * 3 of 3, 28.59 against 27.89. */
static hyperion_status product(pass *ps, const hy_tensor *w, const hy_tensor *next, const char *const names[2],
                               const float *src, size_t src_stride, float *y) {
    hyperion_status s = prepare_input(ps, w, src, src_stride);
    if (s != HYPERION_OK) return s;
    size_t rows = (size_t)hy_tensor_rows(w);
    hy_llama_context *c = ps->c;
    product_job j = { w, c->xq, NULL, c->xq_row_bytes, y, ps->n, c->mm_scratch, c->mm_stride, c->mm_threads };
    const int64_t n = ps->n, cols = (int64_t)w->ne[0];
    const int batched = n > 1;
    const size_t grain = batched ? product_grain(rows, hy_threadpool_active(ps->pool)) : DECODE_GRAIN;
    HY_ZONE_OP(zm, names[batched], ps->zone_layer, .dims = { (int64_t)rows, cols, n }, .type = type_name(w->type));
    if (!batched && (hy_matvec_prep_fits(&c->mv_prep, w, c->xq) || hy_matvec_prepare(&c->mv_prep, w, c->xq)))
        j.prep = &c->mv_prep;
    hy_threadpool_zone zone, *zp = NULL;
    if (zm.buffer) {
        /* per row: the weight row, the outputs written; per participant: the activations it reads */
        zone = (hy_threadpool_zone){ .name = names[batched], .type = type_name(w->type), .layer = ps->zone_layer,
                                     .dims = { (int64_t)rows, cols, n },
                                     .item_bytes = w->row_bytes + (uint64_t)n * 4,
                                     .item_flops = 2ull * (uint64_t)cols * (uint64_t)n,
                                     .participant_bytes = (uint64_t)n * hy_activation_row_bytes(w->type, cols) };
        zp = &zone;
    }
    const hy_threadpool_read then = next_read(ps, next);
    s = hy_threadpool_for_then(ps->pool, batched ? HY_THREADPOOL_DYNAMIC : HY_THREADPOOL_STEAL, rows, grain,
                               product_rows, &j, zp, &then);
    HY_ZONE_END(zm);
    return s;
}

/* The zone names of layer l's product with weight tensor `which`. */
static const char *const *layer_names(const hy_llama_context *c, uint32_t l, int which) {
    return c->product_names[(size_t)l * HY_L_COUNT + (size_t)which];
}

/* ------------------------------------------------------------- attention */

/* Attention items are (token, KV head) pairs: the query heads that share a
 * KV head (grouped-query attention) go together, so each cached key and value
 * row is read and converted once for the group, not once per head. */
static void attention_items(void *arg, size_t begin, size_t end, int thread_index) {
    pass *ps = arg;
    hy_llama_context *c = ps->c;
    const hy_llama_hparams *hp = &c->model->hp;
    uint32_t hd = hp->head_dim;
    uint32_t group = hp->n_head / hp->n_head_kv;
    const size_t head_rows = (size_t)c->p.n_ctx * c->kv_head_bytes; /* one KV head's rows in a layer */
    const uint8_t *k_layer = c->k_cache + (size_t)ps->layer * c->p.n_ctx * c->kv_row_bytes;
    const uint8_t *v_layer = c->v_cache + (size_t)ps->layer * c->p.n_ctx * c->kv_row_bytes;
    float *scores = c->scores + (size_t)thread_index * group * c->p.n_ctx; /* [group, n_ctx] */
    float scale = 1.0f / sqrtf((float)hd);
    for (size_t item = begin; item < end; item++) {
        uint32_t t = (uint32_t)(item / hp->n_head_kv);
        uint32_t kvh = (uint32_t)(item % hp->n_head_kv);
        uint32_t n_kv = ps->pos0 + t + 1; /* causal: positions 0..pos */
        size_t q_off = (size_t)t * hp->n_embd_q + (size_t)kvh * group * hd; /* the group's first query head */
        hy_attn_group(c->attn + q_off, hd, c->q + q_off, hd, group, k_layer + kvh * head_rows, v_layer + kvh * head_rows,
                      c->kv_type, c->kv_head_bytes, hd, n_kv, scale, scores, c->p.n_ctx);
    }
}

/* Profiler cost of attention items [begin, end): each (token, KV head) reads
 * its group's queries and n_kv cached key and value rows of one head and
 * writes the group's output rows; scores and weighted sum are 2 flops per
 * element each, softmax ~5 per score, for every head of the group. */
static void attention_cost(const void *arg, size_t begin, size_t end, uint64_t *bytes, uint64_t *flops) {
    const pass *ps = arg;
    const hy_llama_context *c = ps->c;
    const hy_llama_hparams *hp = &c->model->hp;
    uint64_t hd = hp->head_dim, elem = c->kv_type == HY_TYPE_F32 ? 4 : 2, group = hp->n_head / hp->n_head_kv;
    for (size_t item = begin; item < end; item++) {
        uint64_t n_kv = (uint64_t)ps->pos0 + item / hp->n_head_kv + 1;
        *bytes += 2 * n_kv * hd * elem + group * 2 * hd * 4;
        *flops += group * (4 * n_kv * hd + 5 * n_kv);
    }
}

static hyperion_status attention(pass *ps, const hy_tensor *next) {
    hy_llama_context *c = ps->c;
    const hy_llama_hparams *hp = &c->model->hp;
    const int64_t dims[4] = { ps->n, hp->n_head, (int64_t)ps->pos0 + ps->n, hp->head_dim };
    HY_ZONE_OP(za, "attention", ps->zone_layer, .dims = { dims[0], dims[1], dims[2], dims[3] },
               .type = type_name(c->kv_type));
    hy_threadpool_zone zone, *zp = NULL;
    if (za.buffer) {
        zone = (hy_threadpool_zone){ .name = "attention", .type = type_name(c->kv_type), .layer = ps->zone_layer,
                                     .dims = { dims[0], dims[1], dims[2], dims[3] }, .item_cost = attention_cost };
        zp = &zone;
    }
    const hy_threadpool_read then = next_read(ps, next);
    hyperion_status s = hy_threadpool_for_then(ps->pool, HY_THREADPOOL_DYNAMIC, (size_t)ps->n * hp->n_head_kv, 1,
                                               attention_items, ps, zp, &then);
    HY_ZONE_END(za);
    return s;
}

static hyperion_status ensure_scores(hy_llama_context *c, int threads) {
    if (c->scores_threads >= threads) return HYPERION_OK;
    const size_t group = c->model->hp.n_head / c->model->hp.n_head_kv;
    float *fresh = hyperionAlloc((size_t)threads * group * c->p.n_ctx * sizeof(float), HYPERION_TAG_ACTIVATIONS);
    if (!fresh) return hyperionGetLastError()->code;
    hyperionFree(c->scores);
    c->scores = fresh;
    c->scores_threads = threads;
    return HYPERION_OK;
}

/* --------------------------------------------------- single-thread ops */

/* out[t] = rmsnorm(x[t]) * w for n rows of E. */
static void rmsnorm_rows(pass *ps, float *out, const float *x, const hy_tensor *w) {
    const hy_llama_hparams *hp = &ps->c->model->hp;
    const uint32_t n = ps->n, E = hp->n_embd;
    /* read x and w, write out; square-add, scale, weight: ~4 flops per element */
    HY_ZONE_OP(zn, "rmsnorm", ps->zone_layer, .dims = { n, E }, .type = "f32",
               .bytes = (2ull * n * E + E) * 4, .flops = 4ull * n * E);
    for (uint32_t t = 0; t < n; t++) hy_rmsnorm(out + (size_t)t * E, x + (size_t)t * E, w->data, E, hp->rms_eps);
    HY_ZONE_END(zn);
}

/* x += y over n rows of E (a residual connection). */
static void residual_add(pass *ps, float *x, const float *y) {
    const uint64_t count = (uint64_t)ps->n * ps->c->model->hp.n_embd;
    HY_ZONE_OP(za, "add", ps->zone_layer, .dims = { ps->n, ps->c->model->hp.n_embd }, .type = "f32",
               .bytes = 3 * count * 4, .flops = count);
    hy_add(x, x, y, (int64_t)count);
    HY_ZONE_END(za);
}

/* ------------------------------------------------------------- one chunk */

static void rope_tables(pass *ps) {
    hy_llama_context *c = ps->c;
    const hy_llama_model *m = c->model;
    const hy_llama_hparams *hp = &m->hp;
    hy_rope_params rp = { 0 };
    rp.freq_base = hp->rope_freq_base;
    rp.freq_scale = hp->rope_scaling == HY_ROPE_SCALING_LINEAR ? hp->rope_freq_scale : 1.0f;
    rp.freq_factors = hp->rope_freqs ? (const float *)hp->rope_freqs->data : m->rope_divisors;
    rp.attn_factor = 1.0f;
    uint32_t half = hp->n_rot / 2;
    /* a sine and a cosine per angle, counted as one op each; both tables written */
    HY_ZONE_OP(zr, "rope_tables", -1, .dims = { ps->n, half }, .type = "f32", .bytes = 8ull * ps->n * half,
               .flops = 4ull * ps->n * half);
    for (uint32_t t = 0; t < ps->n; t++)
        hy_rope_cache(c->rope_cos + (size_t)t * half, c->rope_sin + (size_t)t * half, hp->n_rot, ps->pos0 + t, &rp);
    HY_ZONE_END(zr);
}

/* Rotate q and k of the chunk, then store k and v in the cache at their positions. */
static void rope_and_store(pass *ps, uint32_t l) {
    hy_llama_context *c = ps->c;
    const hy_llama_hparams *hp = &c->model->hp;
    const uint32_t n = ps->n, Q = hp->n_embd_q, KV = hp->n_embd_kv, half = hp->n_rot / 2;
    const uint64_t pairs = (uint64_t)(hp->n_head + hp->n_head_kv) * half;
    /* q and k read and written, both tables read; a rotated pair is 4 multiplies and 2 adds */
    HY_ZONE_OP(zr, "rope", ps->zone_layer, .dims = { n, Q + KV }, .type = "f32",
               .bytes = (uint64_t)n * (2ull * (Q + KV) * 4 + 8ull * half), .flops = 6ull * n * pairs);
    for (uint32_t t = 0; t < n; t++) {
        const float *cs = c->rope_cos + (size_t)t * half, *sn = c->rope_sin + (size_t)t * half;
        hy_rope(c->q + (size_t)t * Q, hp->n_head, hp->head_dim, hp->n_rot, cs, sn);
        hy_rope(c->k + (size_t)t * KV, hp->n_head_kv, hp->head_dim, hp->n_rot, cs, sn);
    }
    HY_ZONE_END(zr);

    uint8_t *k_layer = c->k_cache + (size_t)l * c->p.n_ctx * c->kv_row_bytes;
    uint8_t *v_layer = c->v_cache + (size_t)l * c->p.n_ctx * c->kv_row_bytes;
    /* k and v read as floats, written in the cache type */
    HY_ZONE_OP(zs, "kv_store", ps->zone_layer, .dims = { n, KV }, .type = type_name(c->kv_type),
               .bytes = 2ull * n * (KV * 4 + c->kv_row_bytes));
    const size_t head_rows = (size_t)c->p.n_ctx * c->kv_head_bytes;
    for (uint32_t t = 0; t < n; t++)
        for (uint32_t h = 0; h < hp->n_head_kv; h++) {
            size_t at = h * head_rows + (size_t)(ps->pos0 + t) * c->kv_head_bytes;
            const size_t from = (size_t)t * KV + (size_t)h * hp->head_dim;
            hy_kv_store(k_layer + at, c->kv_type, c->k + from, hp->head_dim);
            hy_kv_store(v_layer + at, c->kv_type, c->v + from, hp->head_dim);
        }
    HY_ZONE_END(zs);
}

/* The weights read first after layer l: the next layer's q, or the output matrix. */
static const hy_tensor *after_layer(const hy_llama_context *c, uint32_t l) {
    const hy_llama_model *m = c->model;
    return l + 1 < m->hp.n_layer ? m->w.layers[l + 1].t[HY_L_ATTN_Q] : m->w.output;
}

static hyperion_status layer_blocks(pass *ps, uint32_t l) {
    hy_llama_context *c = ps->c;
    const hy_llama_hparams *hp = &c->model->hp;
    const hy_llama_layer *L = &c->model->w.layers[l];
    const uint32_t n = ps->n, E = hp->n_embd, Q = hp->n_embd_q, F = hp->n_ff;
    hyperion_status s;

    /* ---- attention block ---- */
    rmsnorm_rows(ps, c->xb, c->x, L->t[HY_L_ATTN_NORM]);
    invalidate_input(c);
    if ((s = product(ps, L->t[HY_L_ATTN_Q], L->t[HY_L_ATTN_K], layer_names(c, l, HY_L_ATTN_Q), c->xb, E, c->q))) return s;   /* [n, Q] */
    if ((s = product(ps, L->t[HY_L_ATTN_K], L->t[HY_L_ATTN_V], layer_names(c, l, HY_L_ATTN_K), c->xb, E, c->k))) return s;   /* [n, KV] */
    if ((s = product(ps, L->t[HY_L_ATTN_V], L->t[HY_L_ATTN_OUTPUT], layer_names(c, l, HY_L_ATTN_V), c->xb, E, c->v))) return s;   /* [n, KV] */
    rope_and_store(ps, l);
    if ((s = attention(ps, L->t[HY_L_ATTN_OUTPUT]))) return s;                                                                  /* [n, Q] */
    invalidate_input(c);
    if ((s = product(ps, L->t[HY_L_ATTN_OUTPUT], L->t[HY_L_FFN_GATE], layer_names(c, l, HY_L_ATTN_OUTPUT), c->attn, Q, c->xb))) return s; /* [n, E] */
    residual_add(ps, c->x, c->xb);

    /* ---- feed-forward block (SwiGLU) ---- */
    rmsnorm_rows(ps, c->xb, c->x, L->t[HY_L_FFN_NORM]);
    invalidate_input(c);
    if ((s = product(ps, L->t[HY_L_FFN_GATE], L->t[HY_L_FFN_UP], layer_names(c, l, HY_L_FFN_GATE), c->xb, E, c->hb))) return s; /* [n, F] */
    if ((s = product(ps, L->t[HY_L_FFN_UP], L->t[HY_L_FFN_DOWN], layer_names(c, l, HY_L_FFN_UP), c->xb, E, c->hb2))) return s;    /* [n, F] */
    {
        const uint64_t count = (uint64_t)n * F;
        /* gate and up read, out written; silu (exp, add, divide) and two multiplies */
        HY_ZONE_OP(zg, "swiglu", ps->zone_layer, .dims = { n, F }, .type = "f32", .bytes = 3 * count * 4,
                   .flops = 5 * count);
        hy_silu_mul(c->hb, c->hb, c->hb2, (int64_t)count);
        HY_ZONE_END(zg);
    }
    invalidate_input(c);
    if ((s = product(ps, L->t[HY_L_FFN_DOWN], after_layer(c, l), layer_names(c, l, HY_L_FFN_DOWN), c->hb, F, c->xb))) return s; /* [n, E] */
    residual_add(ps, c->x, c->xb);
    return HYPERION_OK;
}

static hyperion_status layer_forward(pass *ps, uint32_t l) {
    ps->layer = l;
    ps->zone_layer = (int32_t)l;
    HY_ZONE_LAYER(zl, l);
    hyperion_status s = layer_blocks(ps, l);
    HY_ZONE_END(zl);
    ps->zone_layer = -1;
    return s;
}

/* Logits for rows [first, n) of the chunk into out ([n - first, n_vocab]). */
static hyperion_status output_forward(pass *ps, uint32_t first, float *out) {
    hy_llama_context *c = ps->c;
    const hy_llama_model *m = c->model;
    const uint32_t E = m->hp.n_embd;
    uint32_t rows = ps->n - first;
    pass sub = *ps;
    sub.n = rows;
    sub.zone_layer = -1;
    HY_ZONE_OP(zo, "logits", -1, .dims = { rows, m->hp.n_vocab, E });
    rmsnorm_rows(&sub, c->xb, c->x + (size_t)first * E, m->w.output_norm);
    invalidate_input(c);
    hyperion_status s = product(&sub, m->w.output, m->w.layers[0].t[HY_L_ATTN_Q], c->product_names[(size_t)m->hp.n_layer * HY_L_COUNT], c->xb, E, out);
    HY_ZONE_END(zo);
    return s;
}

/* x[t] = token_embd[tokens[t]] for the chunk's tokens. */
static hyperion_status embed(pass *ps, const int32_t *tokens) {
    hy_llama_context *c = ps->c;
    const hy_tensor *emb = c->model->w.token_embd;
    const uint32_t E = c->model->hp.n_embd;
    /* one embedding row read and dequantized per token, one float row written */
    HY_ZONE_OP(ze, "embed", -1, .dims = { ps->n, E }, .type = type_name(emb->type),
               .bytes = (uint64_t)ps->n * (emb->row_bytes + 4ull * E), .flops = emb->type == HY_TYPE_F32 ? 0 : (uint64_t)ps->n * E);
    hyperion_status s = HYPERION_OK;
    for (uint32_t t = 0; t < ps->n && s == HYPERION_OK; t++) {
        const uint8_t *row = (const uint8_t *)emb->data + (size_t)tokens[t] * emb->row_bytes;
        s = hy_dequantize_row(emb->type, row, c->x + (size_t)t * E, E);
    }
    HY_ZONE_END(ze);
    return s;
}

static hyperion_status chunk_forward(hy_llama_context *c, hy_threadpool *pool, const int32_t *tokens, uint32_t n,
                                     float *logits, int all_logits, int is_last_chunk) {
    const hy_llama_model *m = c->model;
    const hy_llama_hparams *hp = &m->hp;
    pass ps = { c, pool, n, c->n_past, 0, -1 };
    hyperion_status s;

    if ((s = embed(&ps, tokens))) return s;
    rope_tables(&ps);
    for (uint32_t l = 0; l < hp->n_layer; l++)
        if ((s = layer_forward(&ps, l))) return s;

    if (logits && all_logits) s = output_forward(&ps, 0, logits);
    else if (logits && is_last_chunk) s = output_forward(&ps, n - 1, logits);
    return s;
}

hyperion_status hy_llama_decode(hy_llama_context *c, hy_threadpool *pool, const int32_t *tokens, uint32_t n,
                                float *logits, int all_logits, const atomic_int *abort_flag) {
    const hy_llama_hparams *hp = &c->model->hp;
    if (n == 0)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "pass at least one token", ((hy_field[]){ HY_TXT("field", "tokens") }),
                             "no tokens to process");
    for (uint32_t i = 0; i < n; i++)
        if (tokens[i] < 0 || (uint32_t)tokens[i] >= hp->n_vocab)
            return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "token ids come from model.tokenize()",
                                 ((hy_field[]){ HY_TXT("field", "tokens"), HY_NUM("index", i), HY_NUM("value", tokens[i]),
                                                HY_NUM("vocabSize", hp->n_vocab) }),
                                 "tokens[%u] = %d is outside the vocabulary (0..%u)", i, tokens[i], hp->n_vocab - 1);
    if ((uint64_t)c->n_past + n > c->p.n_ctx)
        return HY_RAISE_WITH(HYPERION_CONTEXT_FULL, "start a new session, reset this one, or create it with a larger contextSize",
                             ((hy_field[]){ HY_NUM("requested", (double)c->n_past + n), HY_NUM("inUse", c->n_past),
                                            HY_NUM("limit", c->p.n_ctx) }),
                             "context full: %u positions in use + %u new tokens > contextSize %u", c->n_past, n, c->p.n_ctx);
    hyperion_status s = ensure_scores(c, hy_threadpool_size(pool));
    if (s == HYPERION_OK) s = fit_chunk_buffers(c, n);
    if (s == HYPERION_OK && n > 1) s = ensure_matmul_scratch(c, hy_threadpool_size(pool));
    if (s != HYPERION_OK) return s;

    /* a prompt (several tokens, or the first one) is prefill; one more token is decode */
    const hyperion_phase phase = n > 1 || c->n_past == 0 ? HYPERION_PHASE_PREFILL : HYPERION_PHASE_DECODE;
    uint32_t done = 0;
    HY_ZONE_PHASE(zp, phase);
    hy_threadpool_set_abort(pool, abort_flag);
    while (done < n) {
        if (abort_flag && atomic_load(abort_flag)) {
            s = HY_RAISE(HYPERION_ABORTED, NULL, "aborted after %u of %u tokens", done, n);
            break;
        }
        uint32_t chunk = n - done < c->p.n_batch ? n - done : c->p.n_batch;
        float *out = logits && all_logits ? logits + (size_t)done * hp->n_vocab : logits;
        s = chunk_forward(c, pool, tokens + done, chunk, out, all_logits, done + chunk == n);
        if (s != HYPERION_OK) break;
        c->n_past += chunk;
        done += chunk;
    }
    hy_threadpool_set_abort(pool, NULL);
    HY_ZONE_END(zp);
    if (done) hyperionProfilerNoteTokens(phase, done);
    if (s == HYPERION_ABORTED && hyperionGetLastError()->code != HYPERION_ABORTED)
        HY_RAISE(HYPERION_ABORTED, NULL, "aborted while processing tokens");
    return s;
}
