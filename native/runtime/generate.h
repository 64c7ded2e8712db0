/*
 * generate.h — one generation request on a session (internal): prompt →
 * prefill → sample → detokenize → stop strings → pieces, until EOS/EOT, a
 * stop string, maxTokens, an error or the abort flag.
 *
 * Node-free: the caller hands every piece on through a callback (the addon
 * puts them in a bounded queue for JS). Everything a request allocates
 * (sampler, token stream, stop matcher, text buffer) is released before
 * hy_generate returns, whatever the outcome.
 */
#ifndef HYPERION_RUNTIME_GENERATE_H
#define HYPERION_RUNTIME_GENERATE_H

#include "core/atomics.h"

#include "runtime/session.h"
#include "sampling/sampler.h"

typedef enum hy_stop_reason {
    HY_STOP_REASON_NONE = 0,      /* did not finish (an error) */
    HY_STOP_REASON_EOS = 1,       /* an end-of-generation token (EOS, EOT) */
    HY_STOP_REASON_STOP = 2,      /* a stop string */
    HY_STOP_REASON_MAX_TOKENS = 3
} hy_stop_reason;

/* "eos", "stop", "maxTokens", "none". */
const char *hy_stop_reason_name(hy_stop_reason reason);

typedef struct hy_generate_params {
    hy_sampler_options sampler;   /* n_candidates > 0 = debug (top N per step); logprobs */
    uint32_t max_tokens;          /* 0: only process the prompt */
    const char *const *stops;     /* [n_stops] stop strings (lengths in stop_lens) */
    const size_t *stop_lens;
    size_t n_stops;
    int stop_at_eos;              /* end at EOS/EOT (the token is reported, its text is empty) */
    uint32_t timeout_ms;          /* for the message of a timeout only (the deadline is the caller's) */
} hy_generate_params;

/* One generated token and the text it completes. The pointers are valid
 * during the callback only. */
typedef struct hy_generate_piece {
    uint32_t index;               /* 0, 1, ... */
    int32_t token;
    const char *text;             /* text released by this step (may be empty: an unfinished UTF-8
                                     character or a possible stop string is held back) */
    size_t len;
    float logprob;                /* NaN unless sampler.logprobs or candidates */
    float probability;            /* in the distribution the draw used */
    uint32_t n_candidates;
    const hy_sample_candidate *candidates;
} hy_generate_piece;

/* Receives each piece on the generating thread. Return HYPERION_OK to go on;
 * anything else (with the last-error record filled) ends the request with that
 * status. */
typedef hyperion_status (*hy_generate_emit_fn)(void *user, const hy_generate_piece *piece);

typedef struct hy_generate_stats {
    uint32_t prompt_tokens;       /* length of the prompt */
    uint32_t reused_tokens;       /* of them found in the session's cache */
    uint32_t processed_tokens;    /* of them processed by this request */
    uint32_t generated_tokens;
    uint64_t start_ns;            /* set by the caller (hy_clock_monotonic_ns): when the request was made */
    uint64_t run_ns;              /* when hy_generate began working on it (after any queueing) */
    uint64_t prompt_done_ns;      /* 0 until the prompt is processed */
    uint64_t first_token_ns;      /* 0 until the first token is sampled */
    uint64_t end_ns;
    hy_stop_reason stop_reason;
} hy_generate_stats;

/* Run one request on s. abort_flag: 0 to go on; a request stops within
 * milliseconds once it holds a hyperion_status (HYPERION_ABORTED,
 * HYPERION_TIMEOUT, HYPERION_DISPOSED), which is then the result, with a
 * message that says where it stopped. stats->start_ns must be set; the rest is
 * filled. Errors also: those of hy_session_prefill / hy_session_append
 * (HYPERION_CONTEXT_FULL with the figures), of the sampler options
 * (HYPERION_INVALID_ARGUMENT naming the field), the tokenizer (a model without
 * a vocabulary: HYPERION_MODEL_INVALID), allocation, and the callback's.
 * The session stays usable after any of them: its cache holds what was
 * processed. */
hyperion_status hy_generate(hy_session *s, const int32_t *prompt, uint32_t n_prompt, const hy_generate_params *p,
                            const atomic_int *abort_flag, hy_generate_emit_fn emit, void *user,
                            hy_generate_stats *stats);

#endif
