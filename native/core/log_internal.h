/*
 * log_internal.h — the parts of the logging pipeline: a bounded lock-free queue
 * that producers never wait on, and the sinks the logger thread writes to.
 */
#ifndef HYPERION_LOG_INTERNAL_H
#define HYPERION_LOG_INTERNAL_H

#include "internal.h"

#include <stdatomic.h>

/* ---- queue: bounded multi-producer queue of records (Vyukov's ring) ---- */

typedef struct hy_log_queue hy_log_queue;

/* Create a queue of at least `capacity` records (rounded up to a power of two,
 * at least 2). Its memory comes from the pool, tagged "logging". */
hyperion_status hy_log_queue_create(size_t capacity, hy_log_queue **out);
void hy_log_queue_destroy(hy_log_queue *queue);
size_t hy_log_queue_capacity(const hy_log_queue *queue);

/* Copy a record in. 1 on success, 0 when the queue is full. Never waits. */
int hy_log_queue_push(hy_log_queue *queue, const hyperion_log_record *record);

/* Copy the oldest record out. 1 on success, 0 when empty. */
int hy_log_queue_pop(hy_log_queue *queue, hyperion_log_record *record);

/* Producers announce themselves so a replaced queue is freed only once no
 * producer can still be inside it. */
void hy_log_queue_enter(hy_log_queue *queue);
void hy_log_queue_leave(hy_log_queue *queue);
int hy_log_queue_busy(hy_log_queue *queue);

/* ---- sinks: console and file, owned by the logger thread ---- */

typedef struct hy_log_sinks hy_log_sinks;

/* Format one record as a line (with '\n') in the given format. Returns the
 * length. include_* follow the configuration. */
size_t hy_log_format_record(const hyperion_log_record *record, hyperion_log_format format, int include_timestamp,
                            int include_thread_id, char *out, size_t size);

hyperion_status hy_log_sinks_create(hy_log_sinks **out);
void hy_log_sinks_destroy(hy_log_sinks *sinks);

/* Switch to a new configuration; opens the new file before closing the old one,
 * so a failure leaves the old sinks in place (HYPERION_IO). */
hyperion_status hy_log_sinks_configure(hy_log_sinks *sinks, const hyperion_log_config *config);

/* Write one record to every sink. Returns 1 when at least one sink took it;
 * failures are counted in *sink_errors, rotations in *rotations. */
int hy_log_sinks_write(hy_log_sinks *sinks, const hyperion_log_record *record, uint64_t *rotations,
                       uint64_t *sink_errors);

#endif
