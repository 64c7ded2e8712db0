/*
 * budget.c — per-owner budgets: a model or a session gets its own limit below
 * the global one, and blocks charged to it count against both.
 *
 * A block remembers its budget by a 16-bit index (slot records are 8 bytes),
 * so budgets live in a table of 65535 entries. A budget stays alive while its
 * handle is held or any block is charged to it: the reference count is the
 * number of charged blocks plus one for the handle.
 */
#include "mem_internal.h"

#include <stdio.h>
#include <string.h>

#define MAX_BUDGETS 65536

struct hy_mem_budget {
    uint16_t index;
    char name[64];
    atomic_uint_fast64_t limit, in_use, peak, blocks, failed;
    atomic_uint_fast64_t refs;
};

static struct {
    pthread_mutex_t lock;
    hy_mem_budget *table[MAX_BUDGETS];   /* index 0 = no budget */
    uint32_t next_free_hint;
} B = { .lock = PTHREAD_MUTEX_INITIALIZER, .next_free_hint = 1 };

static hy_mem_budget *by_index(uint16_t index) {
    return index ? __atomic_load_n(&B.table[index], __ATOMIC_ACQUIRE) : NULL;
}

static void unref(hy_mem_budget *b) {
    if (atomic_fetch_sub(&b->refs, 1) != 1) return;
    pthread_mutex_lock(&B.lock);
    __atomic_store_n(&B.table[b->index], NULL, __ATOMIC_RELEASE);
    if (b->index < B.next_free_hint) B.next_free_hint = b->index;
    pthread_mutex_unlock(&B.lock);
    hy_meta_free(b, sizeof *b);
}

hyperion_status hyperionCreateMemoryBudget(const char *name, uint64_t limit_bytes, hy_mem_budget **out) {
    if (!out)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", "out") }), "out must not be NULL");
    *out = NULL;
    if (!name)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", "name") }), "name must not be NULL");
    hy_mem_budget *b = hy_meta_alloc(sizeof *b);
    if (!b) return HY_RAISE(HYPERION_OUT_OF_MEMORY, NULL, "no memory for a memory budget");
    size_t n = strlen(name);
    if (n >= sizeof b->name) n = sizeof b->name - 1;
    memcpy(b->name, name, n);
    atomic_store(&b->limit, limit_bytes);
    atomic_store(&b->refs, 1);
    pthread_mutex_lock(&B.lock);
    uint32_t i = B.next_free_hint;
    while (i < MAX_BUDGETS && B.table[i]) i++;
    if (i < MAX_BUDGETS) {
        b->index = (uint16_t)i;
        __atomic_store_n(&B.table[i], b, __ATOMIC_RELEASE);
        B.next_free_hint = i + 1;
    }
    pthread_mutex_unlock(&B.lock);
    if (i >= MAX_BUDGETS) {
        hy_meta_free(b, sizeof *b);
        return HY_RAISE_WITH(HYPERION_OUT_OF_MEMORY, "release budgets that are no longer needed",
                             ((hy_field[]){ HY_NUM("budgets", MAX_BUDGETS - 1) }), "too many memory budgets alive (%d)",
                             MAX_BUDGETS - 1);
    }
    *out = b;
    return HYPERION_OK;
}

hyperion_status hyperionSetMemoryBudgetLimit(hy_mem_budget *budget, uint64_t limit_bytes) {
    if (!budget)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", "budget") }),
                             "budget must not be NULL");
    atomic_store(&budget->limit, limit_bytes);
    return HYPERION_OK;
}

void hyperionGetMemoryBudgetUsage(const hy_mem_budget *budget, hyperion_memory_budget_usage *usage) {
    memset(usage, 0, sizeof *usage);
    if (!budget) return;
    hy_mem_budget *b = (hy_mem_budget *)budget;
    memcpy(usage->name, b->name, sizeof usage->name);
    usage->limit_bytes = atomic_load(&b->limit);
    usage->in_use_bytes = atomic_load(&b->in_use);
    usage->peak_bytes = atomic_load(&b->peak);
    usage->active_allocations = atomic_load(&b->blocks);
    usage->failed_allocations = atomic_load(&b->failed);
}

void hyperionReleaseMemoryBudget(hy_mem_budget *budget) {
    if (budget) unref(budget);
}

/* Charge size bytes; on refusal *in_use and *limit say why. 0 ok, -1 over. */
int hy_budget_charge(hy_mem_budget *b, uint64_t size, uint64_t *in_use, uint64_t *limit) {
    uint64_t cap = atomic_load(&b->limit);
    uint64_t now = atomic_load(&b->in_use);
    for (;;) {
        if (cap && (size > cap || now > cap - size)) {
            atomic_fetch_add(&b->failed, 1);
            *in_use = now;
            *limit = cap;
            return -1;
        }
        if (atomic_compare_exchange_weak(&b->in_use, &now, now + size)) break;
    }
    uint64_t after = now + size, peak = atomic_load(&b->peak);
    while (after > peak && !atomic_compare_exchange_weak(&b->peak, &peak, after)) {}
    atomic_fetch_add(&b->blocks, 1);
    atomic_fetch_add(&b->refs, 1);
    return 0;
}

void hy_budget_uncharge(uint16_t index, uint64_t size) {
    hy_mem_budget *b = by_index(index);
    if (!b) return;
    atomic_fetch_sub(&b->in_use, size);
    atomic_fetch_sub(&b->blocks, 1);
    unref(b);
}

void hy_budget_adjust(uint16_t index, int64_t delta) {
    hy_mem_budget *b = by_index(index);
    if (b) atomic_fetch_add(&b->in_use, (uint64_t)delta);
}

hy_mem_budget *hy_budget_at(uint16_t index) {
    return by_index(index);
}

uint16_t hy_budget_index(const hy_mem_budget *budget) {
    return budget ? budget->index : 0;
}

void hy_budget_name(uint16_t index, char *out, size_t size) {
    if (!size) return;
    out[0] = '\0';
    pthread_mutex_lock(&B.lock);
    hy_mem_budget *b = by_index(index);
    if (b) snprintf(out, size, "%s", b->name);
    pthread_mutex_unlock(&B.lock);
}

void hy_budget_fork_lock(int lock) {
    if (lock) pthread_mutex_lock(&B.lock);
    else pthread_mutex_unlock(&B.lock);
}
