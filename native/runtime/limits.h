/*
 * limits.h — resource limits of a model or a session (internal).
 *
 * Every field is an upper bound; 0 means "no limit". A session's limits narrow
 * its model's: the bound in force is the smaller of the two (hy_limits_narrow),
 * so a session can never get more than its model allows. What each bound does:
 *  - max_memory_bytes: the limit of the owner's memory budget, enforced by the
 *    pool at allocation time (a session's budget is a child of its model's, so
 *    a session's block counts against both);
 *  - max_threads: the pool's active threads during the owner's turns;
 *  - max_cpu_percent: the pool's duty cycle during the owner's turns (percent
 *    of the active threads' time; the generating thread's own work between
 *    runs counts too, see hy_threadpool_enter);
 *  - timeout_ms, max_tokens: defaults and caps of each request (a request may
 *    ask for less, never more).
 */
#ifndef HYPERION_RUNTIME_LIMITS_H
#define HYPERION_RUNTIME_LIMITS_H

#include <stdint.h>

typedef struct hy_resource_limits {
    uint64_t max_memory_bytes;
    uint32_t max_threads;
    uint32_t max_cpu_percent;   /* 1..100 */
    uint32_t timeout_ms;
    uint32_t max_tokens;
} hy_resource_limits;

/* Field by field, the tighter of a and b (0 = none); out may alias either. */
void hy_limits_narrow(hy_resource_limits *out, const hy_resource_limits *a, const hy_resource_limits *b);

/* The tighter of two bounds where 0 means none. */
static inline uint64_t hy_limit_min(uint64_t a, uint64_t b) { return !a ? b : !b ? a : a < b ? a : b; }

/* A running tally of the calling thread's CPU time, added to a model's
 * figures lap by lap (so the figures move while a long request runs). */
typedef struct hy_cpu_meter {
    uint64_t user_ns, system_ns;
    int running;
} hy_cpu_meter;

#endif
