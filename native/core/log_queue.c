/*
 * log_queue.c — a bounded multi-producer/multi-consumer ring of log records.
 *
 * Each slot carries a sequence number: a producer claims position p only when
 * slot[p % n].seq == p, writes the record, then publishes seq = p + 1; the
 * consumer takes it when seq == p + 1 and frees it with seq = p + n. A full
 * queue is detected without waiting, so a logging thread never blocks.
 */
#include "log_internal.h"

#include <stdalign.h>
#include <stddef.h>
#include <string.h>

typedef struct log_slot {
    atomic_size_t sequence;
    hyperion_log_record record;
} log_slot;

struct hy_log_queue {
    size_t mask;
    log_slot *slots;
    atomic_int producers;
    alignas(64) atomic_size_t enqueue_position;
    alignas(64) atomic_size_t dequeue_position;
};

hyperion_status hy_log_queue_create(size_t capacity, hy_log_queue **out) {
    size_t n = 2;
    if (capacity > ((size_t)1 << 20))
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "use at most 1048576 records",
                             ((hy_field[]){ HY_TXT("field", "queueCapacity"), HY_NUM("value", capacity) }),
                             "queueCapacity %zu is too large", capacity);
    while (n < capacity) n <<= 1;
    hy_log_queue *q = hyperionCalloc(1, sizeof *q, HYPERION_TAG_LOGGING);
    if (!q) return hyperionGetLastError()->code;
    q->slots = hyperionCalloc(n, sizeof(log_slot), HYPERION_TAG_LOGGING);
    if (!q->slots) {
        hyperion_status status = hyperionGetLastError()->code;
        hyperionFree(q);
        return status;
    }
    q->mask = n - 1;
    for (size_t i = 0; i < n; i++) atomic_init(&q->slots[i].sequence, i);
    atomic_init(&q->enqueue_position, 0);
    atomic_init(&q->dequeue_position, 0);
    atomic_init(&q->producers, 0);
    *out = q;
    return HYPERION_OK;
}

void hy_log_queue_destroy(hy_log_queue *queue) {
    if (!queue) return;
    hyperionFree(queue->slots);
    hyperionFree(queue);
}

size_t hy_log_queue_capacity(const hy_log_queue *queue) {
    return queue->mask + 1;
}

static void copy_record(hyperion_log_record *dst, const hyperion_log_record *src) {
    size_t header = offsetof(hyperion_log_record, message);
    memcpy(dst, src, header);
    size_t n = strnlen(src->message, HYPERION_LOG_MESSAGE_MAX - 1);
    memcpy(dst->message, src->message, n);
    dst->message[n] = '\0';
}

int hy_log_queue_push(hy_log_queue *q, const hyperion_log_record *record) {
    size_t pos = atomic_load_explicit(&q->enqueue_position, memory_order_relaxed);
    log_slot *slot;
    for (;;) {
        slot = &q->slots[pos & q->mask];
        size_t seq = atomic_load_explicit(&slot->sequence, memory_order_acquire);
        intptr_t diff = (intptr_t)seq - (intptr_t)pos;
        if (diff == 0) {
            if (atomic_compare_exchange_weak_explicit(&q->enqueue_position, &pos, pos + 1, memory_order_relaxed,
                                                      memory_order_relaxed))
                break;
        } else if (diff < 0) {
            return 0; /* full */
        } else {
            pos = atomic_load_explicit(&q->enqueue_position, memory_order_relaxed);
        }
    }
    copy_record(&slot->record, record);
    atomic_store_explicit(&slot->sequence, pos + 1, memory_order_release);
    return 1;
}

int hy_log_queue_pop(hy_log_queue *q, hyperion_log_record *record) {
    size_t pos = atomic_load_explicit(&q->dequeue_position, memory_order_relaxed);
    log_slot *slot;
    for (;;) {
        slot = &q->slots[pos & q->mask];
        size_t seq = atomic_load_explicit(&slot->sequence, memory_order_acquire);
        intptr_t diff = (intptr_t)seq - (intptr_t)(pos + 1);
        if (diff == 0) {
            if (atomic_compare_exchange_weak_explicit(&q->dequeue_position, &pos, pos + 1, memory_order_relaxed,
                                                      memory_order_relaxed))
                break;
        } else if (diff < 0) {
            return 0; /* empty */
        } else {
            pos = atomic_load_explicit(&q->dequeue_position, memory_order_relaxed);
        }
    }
    copy_record(record, &slot->record);
    atomic_store_explicit(&slot->sequence, pos + q->mask + 1, memory_order_release);
    return 1;
}

void hy_log_queue_enter(hy_log_queue *queue) { atomic_fetch_add(&queue->producers, 1); }
void hy_log_queue_leave(hy_log_queue *queue) { atomic_fetch_sub(&queue->producers, 1); }
int hy_log_queue_busy(hy_log_queue *queue) { return atomic_load(&queue->producers) != 0; }
