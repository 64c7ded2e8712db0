/*
 * deadline.h — a process-wide timer thread that raises abort flags at a
 * deadline (internal). Request timeouts must fire even when the thread that
 * started the request (Node's main thread) is busy, and the thread that runs
 * the request is inside a forward pass, so neither can keep the time: this
 * thread does, and the forward pass notices the flag between work chunks.
 *
 * A deadline is a caller-owned node in a list ordered by time; the thread
 * sleeps on a condition variable until the earliest one. Arming never
 * allocates. The thread starts on first use and lives for the process.
 */
#ifndef HYPERION_RUNTIME_DEADLINE_H
#define HYPERION_RUNTIME_DEADLINE_H

#include "core/atomics.h"

#include <stdint.h>

#include "hyperion.h"

typedef struct hy_deadline {
    struct hy_deadline *next;
    uint64_t at_ns;           /* hy_clock_monotonic_ns() time it fires */
    atomic_int *flag;
    int value;
    int armed;                /* in the list (guarded by the timer's mutex) */
    int fired;                /* the flag was set by this deadline */
} hy_deadline;

/* Arrange for *flag to become value (if it is still 0) after timeout_ns.
 * d must stay valid until hy_deadline_disarm returns. Errors:
 * HYPERION_INVALID_ARGUMENT (NULL, value 0, d already armed), HYPERION_INTERNAL
 * when the timer thread cannot be started. */
hyperion_status hy_deadline_arm(hy_deadline *d, atomic_int *flag, int value, uint64_t timeout_ns);

/* Take d out of the list: after this returns the timer no longer touches d or
 * its flag. Returns 1 when the deadline fired (set the flag), else 0. Safe on
 * a node that was never armed (zero-initialized) or already disarmed. */
int hy_deadline_disarm(hy_deadline *d);

#endif
