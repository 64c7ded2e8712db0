/*
 * budget.c — per-owner budgets: a model or a session gets its own limit below
 * the global one, and blocks charged to it count against both.
 *
 * A block remembers its budget by a 16-bit index (slot records are 8 bytes),
 * so budgets live in a table of 65535 entries. A budget stays alive while its
 * handle is held or any block is charged to it: the reference count is the
 * number of charged blocks plus one for the handle (plus one per child).
 *
 * Budgets nest: a child (a session's) charges every block to itself and to
 * each ancestor (its model's), so the block keeps one index and still counts
 * against every limit on the way up. A charge goes up the chain and is undone
 * on the way back when a level refuses; that level's figures make the error.
 *
 * Usage thresholds per budget: a callback fires (on the allocating or freeing
 * thread) when the budget's use crosses a fraction of its limit, rising, or
 * falling back below it with 5% hysteresis, as the global thresholds do.
 */
#include "mem_internal.h"

#include <stdio.h>
#include <string.h>

#define MAX_BUDGETS 65536
#define THRESHOLD_HYSTERESIS 0.05

struct hy_mem_budget {
    uint16_t index;
    uint8_t depth;                       /* 0 for a root */
    hy_mem_budget *parent;               /* holds one reference on it */
    char name[64];
    atomic_uint_fast64_t limit, in_use, peak, blocks, failed;
    atomic_uint_fast64_t refs;
    /* usage thresholds: the callback runs under cb_lock, so once it is
     * removed no call is running or will start */
    pthread_mutex_t cb_lock;
    hyperion_memory_usage_callback cb;   /* guarded by cb_lock */
    void *cb_user;
    atomic_uint n_thresholds;
    _Atomic double fraction[HYPERION_MEMORY_MAX_THRESHOLDS];
    atomic_int above[HYPERION_MEMORY_MAX_THRESHOLDS];
};

static _Thread_local int in_budget_callback;

static struct {
    pthread_mutex_t lock;
    hy_mem_budget *table[MAX_BUDGETS];   /* index 0 = no budget */
    uint32_t next_free_hint;
} B = { .lock = PTHREAD_MUTEX_INITIALIZER, .next_free_hint = 1 };

static hy_mem_budget *by_index(uint16_t index) {
    return index ? __atomic_load_n(&B.table[index], __ATOMIC_ACQUIRE) : NULL;
}

static void unref(hy_mem_budget *b) {
    while (b && atomic_fetch_sub(&b->refs, 1) == 1) {
        pthread_mutex_lock(&B.lock);
        __atomic_store_n(&B.table[b->index], NULL, __ATOMIC_RELEASE);
        if (b->index < B.next_free_hint) B.next_free_hint = b->index;
        pthread_mutex_unlock(&B.lock);
        hy_mem_budget *parent = b->parent;
        pthread_mutex_destroy(&b->cb_lock);
        hy_meta_free(b, sizeof *b);
        b = parent;   /* the child's reference on its parent goes with it */
    }
}

static hyperion_status create_budget(const char *name, uint64_t limit_bytes, hy_mem_budget *parent, hy_mem_budget **out) {
    if (!out)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", "out") }), "out must not be NULL");
    *out = NULL;
    if (!name)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", "name") }), "name must not be NULL");
    if (parent && parent->depth + 1 >= HYPERION_MEMORY_BUDGET_MAX_DEPTH)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "nest budgets at most a few levels deep",
                             ((hy_field[]){ HY_TXT("field", "parent"), HY_NUM("max", HYPERION_MEMORY_BUDGET_MAX_DEPTH) }),
                             "budget \"%s\" would nest deeper than %d levels", name, HYPERION_MEMORY_BUDGET_MAX_DEPTH);
    hy_mem_budget *b = hy_meta_alloc(sizeof *b);
    if (!b) return HY_RAISE(HYPERION_OUT_OF_MEMORY, NULL, "no memory for a memory budget");
    pthread_mutex_init(&b->cb_lock, NULL);
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
        pthread_mutex_destroy(&b->cb_lock);
        hy_meta_free(b, sizeof *b);
        return HY_RAISE_WITH(HYPERION_OUT_OF_MEMORY, "release budgets that are no longer needed",
                             ((hy_field[]){ HY_NUM("budgets", MAX_BUDGETS - 1) }), "too many memory budgets alive (%d)",
                             MAX_BUDGETS - 1);
    }
    if (parent) {
        atomic_fetch_add(&parent->refs, 1);
        b->parent = parent;
        b->depth = (uint8_t)(parent->depth + 1);
    }
    *out = b;
    return HYPERION_OK;
}

hyperion_status hyperionCreateMemoryBudget(const char *name, uint64_t limit_bytes, hy_mem_budget **out) {
    return create_budget(name, limit_bytes, NULL, out);
}

hyperion_status hyperionCreateChildMemoryBudget(const char *name, uint64_t limit_bytes, hy_mem_budget *parent,
                                                hy_mem_budget **out) {
    if (!parent) {
        if (out) *out = NULL;
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", "parent") }),
                             "parent must not be NULL");
    }
    return create_budget(name, limit_bytes, parent, out);
}

/* Mark the thresholds at or below the current use as passed, without firing.
 * Call with cb_lock held. */
static void rearm(hy_mem_budget *b) {
    uint64_t limit = atomic_load(&b->limit), use = atomic_load(&b->in_use);
    unsigned n = atomic_load(&b->n_thresholds);
    for (unsigned i = 0; i < HYPERION_MEMORY_MAX_THRESHOLDS; i++)
        atomic_store(&b->above[i], i < n && limit && (double)use >= atomic_load(&b->fraction[i]) * (double)limit);
}

hyperion_status hyperionSetMemoryBudgetLimit(hy_mem_budget *budget, uint64_t limit_bytes) {
    if (!budget)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", "budget") }),
                             "budget must not be NULL");
    pthread_mutex_lock(&budget->cb_lock);
    atomic_store(&budget->limit, limit_bytes);
    rearm(budget);
    pthread_mutex_unlock(&budget->cb_lock);
    return HYPERION_OK;
}

hyperion_status hyperionSetMemoryBudgetCallback(hy_mem_budget *budget, const double *thresholds, uint32_t count,
                                                hyperion_memory_usage_callback callback, void *user_data) {
    if (!budget)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", "budget") }),
                             "budget must not be NULL");
    if (callback) {
        if (count == 0 || count > HYPERION_MEMORY_MAX_THRESHOLDS || !thresholds)
            return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "give 1 to 8 thresholds",
                                 ((hy_field[]){ HY_TXT("field", "thresholds"), HY_NUM("count", count) }),
                                 "a budget callback needs 1 to %d thresholds, got %u", HYPERION_MEMORY_MAX_THRESHOLDS,
                                 count);
        for (uint32_t i = 0; i < count; i++) {
            double t = thresholds[i];
            if (!(t > 0.0 && t <= 1.0) || (i && !(t > thresholds[i - 1])))
                return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "use ascending fractions of the limit in (0, 1]",
                                     ((hy_field[]){ HY_TXT("field", "thresholds"), HY_NUM("index", i), HY_NUM("value", t) }),
                                     "thresholds[%u] = %g is not an ascending fraction in (0, 1]", i, t);
        }
    }
    pthread_mutex_lock(&budget->cb_lock);
    budget->cb = callback;
    budget->cb_user = callback ? user_data : NULL;
    uint32_t n = callback ? count : 0;
    for (uint32_t i = 0; i < n; i++) atomic_store(&budget->fraction[i], thresholds[i]);
    atomic_store(&budget->n_thresholds, n);
    rearm(budget);
    pthread_mutex_unlock(&budget->cb_lock);
    return HYPERION_OK;
}

static void fire(hy_mem_budget *b, double fraction, int rising, uint64_t in_use, uint64_t limit, hyperion_mem_tag tag) {
    pthread_mutex_lock(&b->cb_lock);
    if (b->cb) {
        hyperion_memory_usage_event e = { fraction, rising, in_use, limit, tag };
        in_budget_callback = 1;
        b->cb(&e, b->cb_user);
        in_budget_callback = 0;
    }
    pthread_mutex_unlock(&b->cb_lock);
}

/* Fire the thresholds of b that its use crossed (up: it grew). */
static void check_thresholds(hy_mem_budget *b, int up, hyperion_mem_tag tag) {
    unsigned n = atomic_load_explicit(&b->n_thresholds, memory_order_relaxed);
    if (!n || in_budget_callback) return;
    uint64_t limit = atomic_load_explicit(&b->limit, memory_order_relaxed);
    if (!limit) return;
    uint64_t use = atomic_load_explicit(&b->in_use, memory_order_relaxed);
    for (unsigned i = 0; i < n; i++) {
        double f = atomic_load_explicit(&b->fraction[i], memory_order_relaxed);
        if (up && (double)use >= f * (double)limit) {
            if (!atomic_load_explicit(&b->above[i], memory_order_relaxed) && !atomic_exchange(&b->above[i], 1))
                fire(b, f, 1, use, limit, tag);
        } else if (!up && (double)use < (f - THRESHOLD_HYSTERESIS) * (double)limit) {
            if (atomic_load_explicit(&b->above[i], memory_order_relaxed) && atomic_exchange(&b->above[i], 0))
                fire(b, f, 0, use, limit, tag);
        }
    }
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

/* Charge size bytes to one level; its use after the charge in *after. 0 ok,
 * -1 over (with its use and limit in *in_use and *limit). */
static int charge_one(hy_mem_budget *b, uint64_t size, uint64_t *after, uint64_t *in_use, uint64_t *limit) {
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
    *after = now + size;
    return 0;
}

int hy_budget_charge(hy_mem_budget *leaf, uint64_t size, uint64_t *in_use, uint64_t *limit, uint16_t *refused) {
    uint64_t after[HYPERION_MEMORY_BUDGET_MAX_DEPTH];
    int level = 0;
    for (hy_mem_budget *b = leaf; b; b = b->parent, level++) {
        if (charge_one(b, size, &after[level], in_use, limit) != 0) {
            for (hy_mem_budget *c = leaf; c != b; c = c->parent) atomic_fetch_sub(&c->in_use, size);
            *refused = b->index;
            return -1;
        }
    }
    /* the peaks only count charges that went through at every level */
    level = 0;
    for (hy_mem_budget *b = leaf; b; b = b->parent, level++) {
        uint64_t peak = atomic_load(&b->peak);
        while (after[level] > peak && !atomic_compare_exchange_weak(&b->peak, &peak, after[level])) {}
        atomic_fetch_add(&b->blocks, 1);
    }
    atomic_fetch_add(&leaf->refs, 1);
    return 0;
}

void hy_budget_charged(uint16_t index, hyperion_mem_tag tag) {
    for (hy_mem_budget *b = by_index(index); b; b = b->parent) check_thresholds(b, 1, tag);
}

void hy_budget_uncharge(uint16_t index, uint64_t size, hyperion_mem_tag tag) {
    hy_mem_budget *leaf = by_index(index);
    if (!leaf) return;
    for (hy_mem_budget *b = leaf; b; b = b->parent) {
        atomic_fetch_sub(&b->in_use, size);
        atomic_fetch_sub(&b->blocks, 1);
        check_thresholds(b, 0, tag);
    }
    unref(leaf);
}

void hy_budget_adjust(uint16_t index, int64_t delta) {
    for (hy_mem_budget *b = by_index(index); b; b = b->parent) atomic_fetch_add(&b->in_use, (uint64_t)delta);
}

int hy_budget_descends(uint16_t index, uint16_t ancestor) {
    for (hy_mem_budget *b = by_index(index); b; b = b->parent)
        if (b->index == ancestor) return 1;
    return 0;
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
