/*
 * generate.c — the generation loop (see generate.h).
 *
 * Per step: sample from the session's logits → accept the token → its bytes
 * through the token stream (whole UTF-8 characters only) → the stop matcher
 * (holds back a possible stop string) → one piece to the callback → process
 * the token (one turn on the model) for the next logits. The last sampled
 * token is not processed: the next request on the session does it if its
 * prompt continues with it.
 */
#include "runtime/generate.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hyperion_profiler.h"
#include "sampling/stop.h"
#include "tokenizer/tokenizer.h"

const char *hy_stop_reason_name(hy_stop_reason r) {
    switch (r) {
    case HY_STOP_REASON_EOS: return "eos";
    case HY_STOP_REASON_STOP: return "stop";
    case HY_STOP_REASON_MAX_TOKENS: return "maxTokens";
    default: return "none";
    }
}

/* ------------------------------------------------------------ text buffer */

typedef struct text_buf {
    char *data;
    size_t len, cap;
} text_buf;

static hyperion_status buf_append(text_buf *b, const char *text, size_t len) {
    if (len == 0) return HYPERION_OK;
    if (len > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < len) cap *= 2;
        char *fresh = hyperionAlloc(cap, HYPERION_TAG_SESSION);
        if (!fresh) return hyperionGetLastError()->code;
        if (b->len) memcpy(fresh, b->data, b->len);
        hyperionFree(b->data);
        b->data = fresh;
        b->cap = cap;
    }
    memcpy(b->data + b->len, text, len);
    b->len += len;
    return HYPERION_OK;
}

/* ------------------------------------------------------------ the request */

typedef struct request {
    hy_session *s;
    const hy_tokenizer *tok;
    const hy_generate_params *p;
    const atomic_int *abort_flag;
    hy_generate_stats *stats;
    hy_sampler *sampler;
    hy_token_stream *stream;
    hy_stop_matcher *stop;
    text_buf text;            /* the text one step releases */
    text_buf log;             /* debug: the candidates' texts */
} request;

/* The status a stopped request ends with: the abort flag's value, with a
 * message that says where it stopped; any other error as it came. */
static hyperion_status stopped(const request *r, hyperion_status inner) {
    int why = r->abort_flag ? atomic_load(r->abort_flag) : 0;
    if (inner != HYPERION_ABORTED || why == 0) return inner;
    const hy_generate_stats *st = r->stats;
    char where[160];
    if (!st->prompt_done_ns)
        snprintf(where, sizeof where, "while processing the prompt (%u of %u new tokens done)", st->processed_tokens,
                 st->prompt_tokens - st->reused_tokens);
    else
        snprintf(where, sizeof where, "after %u generated tokens", st->generated_tokens);
    /* a timeout says what was asked (maxTokens), what was used (time, tokens) and the limit */
    double elapsed_ms = (double)(hy_clock_monotonic_ns() - st->start_ns) / 1e6;
    hy_field fields[] = { HY_NUM("promptTokensProcessed", st->processed_tokens),
                          HY_NUM("generatedTokens", st->generated_tokens), HY_NUM("timeoutMs", r->p->timeout_ms),
                          HY_NUM("elapsedMs", elapsed_ms), HY_NUM("limit", r->p->timeout_ms),
                          HY_NUM("requestedTokens", r->p->max_tokens) };
    if (why == HYPERION_TIMEOUT)
        return hy_error_raise(HYPERION_TIMEOUT, __FILE__, __LINE__, "raise timeoutMs or ask for fewer tokens", fields, 6,
                              "generation timed out after %u ms, %s", r->p->timeout_ms, where);
    if (why == HYPERION_DISPOSED)
        return hy_error_raise(HYPERION_DISPOSED, __FILE__, __LINE__, "create a new session", fields, 2,
                              "the session was disposed %s", where);
    return hy_error_raise(HYPERION_ABORTED, __FILE__, __LINE__, NULL, fields, 2, "generation aborted %s", where);
}

static hyperion_status setup(request *r, const int32_t *prompt, uint32_t n_prompt) {
    const hy_generate_params *p = r->p;
    hyperion_status st = hy_sampler_create(&p->sampler, r->s->model->llama->hp.n_vocab, &r->sampler);
    if (st != HYPERION_OK) return st;
    /* the penalties look at the prompt's tail too */
    uint32_t last_n = p->sampler.repeat_last_n > 0 ? (uint32_t)p->sampler.repeat_last_n : 0;
    for (uint32_t i = n_prompt > last_n ? n_prompt - last_n : 0; i < n_prompt; i++)
        if ((st = hy_sampler_accept(r->sampler, prompt[i])) != HYPERION_OK) return st;
    if (p->max_tokens == 0) return HYPERION_OK;
    if ((st = hy_token_stream_create(r->tok, 0, &r->stream)) != HYPERION_OK) return st;
    return hy_stop_create((const char *const *)p->stops, p->stop_lens, p->n_stops, &r->stop);
}

static void teardown(request *r) {
    hy_sampler_free(r->sampler);
    hy_token_stream_free(r->stream);
    hy_stop_free(r->stop);
    hyperionFree(r->text.data);
    hyperionFree(r->log.data);
}

/* Debug mode: the step's candidates in the generation log (ids and figures as
 * a plain record, their texts through the content channel, redacted unless
 * content logging is on). */
static void log_candidates(request *r, uint32_t step, const hy_sample_result *res) {
    if (!hyperionLogEnabled(HYPERION_LOG_INFO, HYPERION_LOG_GENERATION)) return;
    char line[768];
    int at = snprintf(line, sizeof line, "step %u: token %d (p=%.4f); top:", step, res->token, res->probability);
    r->log.len = 0;
    for (uint32_t i = 0; i < res->n_candidates && at > 0 && (size_t)at < sizeof line; i++) {
        const hy_sample_candidate *c = &res->candidates[i];
        at += snprintf(line + at, sizeof line - (size_t)at, " %d=%.4f", c->token, exp((double)c->logprob));
        char piece[64];
        size_t len = 0;
        if (hy_tokenizer_token_to_piece(r->tok, c->token, HY_DETOK_RENDER_SPECIAL, piece, sizeof piece, &len) != HYPERION_OK)
            len = 0;  /* longer than 64 bytes: show nothing rather than a cut character */
        if (buf_append(&r->log, i ? " | " : "", i ? 3 : 0) != HYPERION_OK || buf_append(&r->log, piece, len) != HYPERION_OK)
            break;
    }
    hyperionLog(HYPERION_LOG_INFO, HYPERION_LOG_GENERATION, "%s", line);
    char label[48];
    snprintf(label, sizeof label, "step %u candidates", step);
    hyperionLogContent(HYPERION_LOG_INFO, HYPERION_LOG_GENERATION, label, r->log.data ? r->log.data : "", r->log.len);
}

/* Feed text to the stop matcher and collect what it releases. */
static hyperion_status through_stop(request *r, const char *text, size_t len, int *hit) {
    hy_stop_result res;
    hyperion_status st = hy_stop_push(r->stop, text, len, &res);
    if (st == HYPERION_OK) st = buf_append(&r->text, res.text, res.len);
    if (res.stopped) *hit = 1;
    return st;
}

/* The text of one step into r->text; sets *end and the stop reason when the
 * request ends with this step. */
static hyperion_status step_text(request *r, int32_t token, int last_by_count, int *end) {
    hy_generate_stats *st = r->stats;
    r->text.len = 0;
    int eog = r->p->stop_at_eos && hy_tokenizer_is_eog(r->tok, token);
    int hit = 0;
    hyperion_status s = HYPERION_OK;
    if (!eog) {
        const char *text;
        size_t len;
        HY_ZONE_OP(zt, "detokenize", -1, .dims = { 1 });
        s = hy_token_stream_push(r->stream, token, &text, &len);
        HY_ZONE_END(zt);
        if (s || (s = through_stop(r, text, len, &hit))) return s;
    }
    if (hit) {
        st->stop_reason = HY_STOP_REASON_STOP;
    } else if (eog || last_by_count) {
        /* the end: whatever is held back comes out */
        const char *text;
        size_t len;
        HY_ZONE_OP(zt, "detokenize", -1, .dims = { 0 });
        s = hy_token_stream_flush(r->stream, &text, &len);
        HY_ZONE_END(zt);
        if (s || (s = through_stop(r, text, len, &hit))) return s;
        if (!hit) {
            hy_stop_result res;
            if ((s = hy_stop_flush(r->stop, &res)) || (s = buf_append(&r->text, res.text, res.len))) return s;
        }
        st->stop_reason = hit ? HY_STOP_REASON_STOP : eog ? HY_STOP_REASON_EOS : HY_STOP_REASON_MAX_TOKENS;
    }
    *end = st->stop_reason != HY_STOP_REASON_NONE;
    return HYPERION_OK;
}

/* The prompt: sampler set-up and prefill, in one "prefill" phase zone (the
 * model's own prefill zones nest inside), so the phase covers what the stats
 * call promptMs. */
static hyperion_status prompt_phase(request *r, const int32_t *prompt, uint32_t n_prompt) {
    hy_generate_stats *st = r->stats;
    hyperion_status s;
    HY_ZONE_PHASE(zp, HYPERION_PHASE_PREFILL);
    if (!r->tok && r->p->max_tokens > 0)
        s = HY_RAISE_WITH(HYPERION_MODEL_INVALID, "use a model file that carries its tokenizer",
                          ((hy_field[]){ HY_TXT("field", "tokenizer.ggml.tokens") }),
                          "the model has no vocabulary, so generated tokens cannot become text");
    else
        s = setup(r, prompt, n_prompt);
    if (s == HYPERION_OK && r->abort_flag && atomic_load(r->abort_flag))
        s = HY_RAISE(HYPERION_ABORTED, NULL, "aborted before the start");
    if (s == HYPERION_OK) {
        hy_prefill_stats pf = { 0, 0 };
        s = hy_session_prefill(r->s, prompt, n_prompt, r->abort_flag, &pf);
        st->reused_tokens = pf.reused;
        st->processed_tokens = pf.processed;
    }
    HY_ZONE_END(zp);
    if (s == HYPERION_OK) st->prompt_done_ns = hy_clock_monotonic_ns();
    return s;
}

/* One generation step: sample a token, its text, the callback, and (unless it
 * ends the request) its forward pass. *sampled / *forwarded tell the caller
 * how far it got. */
static hyperion_status one_step(request *r, uint32_t step, hy_generate_emit_fn emit, void *user, int *end,
                                int *sampled, int *forwarded) {
    hy_generate_stats *st = r->stats;
    hyperion_status s;
    hy_sample_result res;
    HY_ZONE_PHASE(zs, HYPERION_PHASE_SAMPLE);
    s = hy_sampler_sample(r->sampler, r->s->logits, &res);
    if (s == HYPERION_OK) s = hy_sampler_accept(r->sampler, res.token);
    HY_ZONE_END(zs);
    if (s != HYPERION_OK) return s;
    hyperionProfilerNoteTokens(HYPERION_PHASE_SAMPLE, 1);
    *sampled = 1;
    if (!st->first_token_ns) st->first_token_ns = hy_clock_monotonic_ns();
    st->generated_tokens++;
    if (res.n_candidates) log_candidates(r, step, &res);
    if ((s = step_text(r, res.token, st->generated_tokens >= r->p->max_tokens, end)) != HYPERION_OK) return s;
    hy_generate_piece piece = { step, res.token, r->text.data ? r->text.data : "", r->text.len, res.logprob,
                                res.probability, res.n_candidates, res.candidates };
    if ((s = emit(user, &piece)) != HYPERION_OK) return s;
    if (*end) return HYPERION_OK;
    if ((s = hy_session_append(r->s, res.token, r->abort_flag)) != HYPERION_OK) return s;
    *forwarded = 1;
    return HYPERION_OK;
}

/* The generation loop: one "decode" phase zone per step. The model notes a
 * decode token per forward pass; a step whose token got no forward pass (the
 * last one, or one cut short) notes it here, so decode tokens are the tokens
 * generated. */
static hyperion_status decode_phase(request *r, hy_generate_emit_fn emit, void *user) {
    if (r->p->max_tokens == 0) {
        r->stats->stop_reason = HY_STOP_REASON_MAX_TOKENS;
        return HYPERION_OK;
    }
    for (uint32_t step = 0;; step++) {
        if (r->abort_flag && atomic_load(r->abort_flag)) return HY_RAISE(HYPERION_ABORTED, NULL, "aborted between tokens");
        int end = 0, sampled = 0, forwarded = 0;
        HY_ZONE_PHASE(zd, HYPERION_PHASE_DECODE);
        hyperion_status s = one_step(r, step, emit, user, &end, &sampled, &forwarded);
        HY_ZONE_END(zd);
        if (sampled && !forwarded) hyperionProfilerNoteTokens(HYPERION_PHASE_DECODE, 1);
        if (s != HYPERION_OK || end) return s;
    }
}

/* Request ids for the profiler: one per request, process-wide, never 0. */
static atomic_uint_fast64_t next_request_id;

/* End the request's capture (if any) and leave its request id; keeps the
 * request's own error record when the capture's end fails. */
static char *end_capture(uint64_t rid, int cap, hyperion_status st) {
    char *pj = NULL;
    if (cap) {
        hyperion_error saved = *hyperionGetLastError();
        if (hyperionEndProfileCapture(rid, &pj) != HYPERION_OK) {
            HY_LOG(HYPERION_LOG_WARN, HYPERION_LOG_PERFORMANCE, "request %llu: its profile could not be made: %s",
                   (unsigned long long)rid, hyperionGetLastError()->message);
            pj = NULL;
        }
        if (st != HYPERION_OK) hy_error_restore(&saved);
        else hyperionClearLastError();
    }
    hyperionProfilerSetRequest(0);
    return pj;
}

hyperion_status hy_generate(hy_session *s, const int32_t *prompt, uint32_t n_prompt, const hy_generate_params *p,
                            const atomic_int *abort_flag, hy_generate_emit_fn emit, void *user,
                            hy_generate_stats *stats) {
    uint64_t rid = atomic_fetch_add(&next_request_id, 1) + 1;
    hyperionProfilerSetRequest(rid);
    int cap = p->profile && hyperionBeginProfileCapture(rid) == HYPERION_OK;
    if (p->profile && !cap) {
        HY_LOG(HYPERION_LOG_WARN, HYPERION_LOG_PERFORMANCE, "request %llu runs without a profile: %s",
               (unsigned long long)rid, hyperionGetLastError()->message);
        hyperionClearLastError();
    }
    uint64_t start = stats->start_ns ? stats->start_ns : hy_clock_monotonic_ns();
    memset(stats, 0, sizeof *stats);
    stats->start_ns = start;
    stats->run_ns = hy_clock_monotonic_ns();
    stats->prompt_tokens = n_prompt;
    stats->request_id = rid;
    request r;
    memset(&r, 0, sizeof r);
    r.s = s;
    r.tok = s->model->vocab ? s->model->vocab->tok : NULL;
    r.p = p;
    r.abort_flag = abort_flag;
    r.stats = stats;
    /* the request works for its session: its allocations are charged to the
     * session's budget, its CPU to the model's figures and duty cycle */
    hy_model *m = s->model;
    hy_mem_budget *outer_budget = hyperionSetThreadMemoryBudget(s->budget);
    hy_threadpool *outer_pool = hy_threadpool_enter(m->pool);
    hy_cpu_meter_start(&s->cpu);
    hyperion_status st = prompt_phase(&r, prompt, n_prompt);
    if (st == HYPERION_OK) st = decode_phase(&r, emit, user);
    if (st != HYPERION_OK) {
        st = stopped(&r, st);
        stats->stop_reason = HY_STOP_REASON_NONE;
    }
    teardown(&r);
    hyperionSetThreadMemoryBudget(outer_budget);
    hy_threadpool_leave(m->pool, outer_pool);
    hy_model_cpu_lap(m, &s->cpu);
    s->cpu.running = 0;
    atomic_fetch_add(&m->tokens_generated, stats->generated_tokens);
    atomic_fetch_add(&m->requests, 1);
    stats->end_ns = hy_clock_monotonic_ns();
    if (st == HYPERION_OK)
        HY_LOG(HYPERION_LOG_DEBUG, HYPERION_LOG_GENERATION, "request done: %u prompt tokens (%u reused), %u generated, %s, %.1f ms",
               stats->prompt_tokens, stats->reused_tokens, stats->generated_tokens, hy_stop_reason_name(stats->stop_reason),
               (double)(stats->end_ns - stats->start_ns) / 1e6);
    stats->profile_json = end_capture(rid, cap, st);
    return st;
}
