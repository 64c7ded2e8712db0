/*
 * model.h — a loaded model as the runtime serves it (internal): the llama
 * weights, the thread pool every request on this model runs on, and the
 * bookkeeping that lets several requests use it at once and a dispose wait
 * for them (a reference count: the last release frees).
 */
#ifndef HYPERION_RUNTIME_MODEL_H
#define HYPERION_RUNTIME_MODEL_H

#include "core/atomics.h"

#include <pthread.h>

#include "model/llama.h"
#include "runtime/limits.h"
#include "runtime/threadpool.h"
#include "runtime/tokenizer_gguf.h"

typedef struct hy_model_params {
    int32_t threads;        /* <= 0: physical cores */
    uint32_t context_size;  /* default for contexts; 0: min(trained context, 2048) */
    uint32_t batch_size;    /* tokens per forward pass; 0: 64 */
    uint32_t kv_cache;      /* hy_kv_cache_type of every context on the model: F16 (0, default) or F32 */
    hy_resource_limits limits;  /* in force from the load on (max_memory_bytes covers the load itself) */
    uint32_t repack_weights;    /* 1: copy weights into the layouts the kernels read fastest (hy_llama_model_repack);
                                   0 (zeroed params): every weight read from the mapping. Unlike the other
                                   fields, 0 is not the public default: loadModel passes 1 unless
                                   repackWeights: false, so native tests that zero the struct keep
                                   their memory figures free of the copy */
} hy_model_params;

/* One thread waiting for its turn on the model (see hy_model_turn_begin). */
typedef struct hy_turn_waiter {
    struct hy_turn_waiter *next;
    int granted;
} hy_turn_waiter;
/* What a model left behind when its last reference went: blocks still charged
 * to its memory budget after its weights, pool and tables were freed. text and
 * json (LeakSanitizer-style, hyperionCheckMemoryLeaks) are NULL when nothing
 * was left or the blocks were not tracked; they live only during the call. */
typedef struct hy_model_leak_report {
    const char *name;       /* the budget's name: "model <file name>" */
    uint64_t bytes, blocks; /* left behind (0 and 0 when clean) */
    uint64_t tracked;       /* of which blocks the tracking table knows (with stacks when enabled) */
    const char *text, *json;
} hy_model_leak_report;

/* Called once, at the last release, on the releasing thread; no lock held. */
typedef void (*hy_model_release_fn)(const hy_model_leak_report *report, void *user);

typedef struct hy_model {
    hy_llama_model *llama;
    hy_threadpool *pool;
    hy_vocab *vocab;        /* NULL for a file without tokenizer.ggml.tokens */
    /* Forward passes of all contexts on this model take turns, first come
     * first served: one turn is one call of hy_llama_decode over at most
     * batch_size tokens (the pool's abort flag is per pool, so only the turn
     * holder may run; FIFO order lets a short request pass between the chunks
     * of a long prompt). */
    pthread_mutex_t turn_mu;
    pthread_cond_t turn_cv;
    int turn_busy;
    hy_turn_waiter *turn_head, *turn_tail;
    atomic_uint_fast64_t turns;
    hy_model_params params;
    atomic_int refs;
    atomic_int disposed;
    atomic_uint_fast64_t tokens_processed;
    atomic_uint_fast64_t requests;
    uint64_t load_ns;       /* wall time the load took */
    /* limits (limits.c): the model's own, and its sessions' (which narrow
     * them), are read and written under limits_mu */
    pthread_mutex_t limits_mu;
    hy_resource_limits limits;
    /* usage (limits.c) */
    uint64_t loaded_at_ns;  /* hy_clock_monotonic_ns() when the load finished */
    atomic_uint_fast64_t tokens_generated;
    atomic_uint_fast64_t cpu_user_ns, cpu_system_ns;   /* of the threads that ran requests (not the workers) */
    atomic_uint_fast64_t kv_bytes;                     /* KV caches of live contexts */
    atomic_int active_sessions;
    hy_mem_budget *budget;  /* the model's own allocations (load, requests) are charged here */
    hy_model_release_fn on_release;
    void *on_release_user;
} hy_model;

/* Load a model: open and validate the file, bind the weights, start the pool.
 * The caller owns one reference. */
hyperion_status hy_model_load(const char *path, const hy_model_params *params, hy_model **out);

/* Take a reference for a request; HYPERION_DISPOSED once dispose began. */
hyperion_status hy_model_acquire(hy_model *model);

/* Drop a reference; the last one frees the model. */
void hy_model_release(hy_model *model);

/* Mark disposed (new requests fail with HYPERION_DISPOSED) and drop the
 * caller's reference. Requests in flight finish first. */
void hy_model_dispose(hy_model *model);

/* Wait for this model's turn to run a forward pass (FIFO among waiters).
 * abort_flag (may be NULL) is polled every couple of milliseconds while
 * waiting: when it turns non-zero the wait ends with HYPERION_ABORTED and the
 * place in the queue is given up. Every HYPERION_OK must be paired with
 * hy_model_turn_end. The turn runs under the model's thread and CPU limits;
 * hy_model_turn_begin_limited narrows them further (a session's limits). */
hyperion_status hy_model_turn_begin(hy_model *model, const atomic_int *abort_flag);
hyperion_status hy_model_turn_begin_limited(hy_model *model, const atomic_int *abort_flag,
                                            const hy_resource_limits *narrow);
void hy_model_turn_end(hy_model *model);

/* The batch size contexts of this model process per turn. */
uint32_t hy_model_batch_size(const hy_model *model);
/* Observe the last release (set once, right after the load, before the model
 * is shared): the leak check's result reaches fn, whatever thread releases. */
void hy_model_set_release_observer(hy_model *model, hy_model_release_fn fn, void *user);

/* Bytes of the pool charged to the model now (its tables, requests' buffers). */
uint64_t hy_model_memory_bytes(const hy_model *model);

/* ------------------------------------------------------ limits and usage
 * (limits.c) */

/* Replace the model's limits. max_memory_bytes becomes its budget's limit
 * (may go below what it holds: later allocations fail until use drops).
 * Errors (nothing changes): HYPERION_INVALID_ARGUMENT naming maxThreads (above
 * the pool's size) or maxCpuPercent (above 100). */
hyperion_status hy_model_set_limits(hy_model *model, const hy_resource_limits *limits);
/* The checks hy_model_set_limits makes, for limits meant for model or one of its sessions. */
hyperion_status hy_limits_check(const hy_model *model, const hy_resource_limits *limits);
void hy_model_get_limits(hy_model *model, hy_resource_limits *out);

typedef struct hy_model_usage {
    uint64_t pool_bytes_in_use, pool_bytes_peak;  /* the model's budget: its own blocks and its sessions' */
    uint64_t mapped_bytes;                        /* the weights' read-only mapping */
    uint64_t kv_cache_bytes;                      /* KV caches of its live contexts */
    int32_t threads, active_threads;              /* pool size; threads a run uses now */
    uint64_t cpu_user_ns, cpu_system_ns;          /* pool workers + the threads that ran its requests */
    uint64_t wall_ns;                             /* since the load finished */
    uint64_t tokens_processed, tokens_generated, requests;
    int32_t active_sessions;
} hy_model_usage;

void hy_model_get_usage(hy_model *model, hy_model_usage *out);

/* Set the pool's active threads and duty cycle for the turn that begins:
 * the model's limits narrowed by narrow (may be NULL). */
void hy_model_apply_turn_limits(hy_model *model, const hy_resource_limits *narrow);

/* Start metering the calling thread's CPU for model; each lap adds what it
 * used since the previous one to the model's figures. A meter not running
 * does nothing. */
void hy_cpu_meter_start(hy_cpu_meter *meter);
void hy_model_cpu_lap(hy_model *model, hy_cpu_meter *meter);

/* Logits for tokens from a fresh context of exactly n positions (no state is
 * kept): out has n_tokens * n_vocab floats when all_logits, else n_vocab. */
hyperion_status hy_model_evaluate(hy_model *model, const int32_t *tokens, uint32_t n_tokens, int all_logits,
                                  float *out, const atomic_int *abort_flag);

#endif
