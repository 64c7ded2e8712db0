/*
 * testing.c — test-only hooks: a planted leak and fault injection.
 *
 * Compiled into every build and cheap when unused: the allocation path pays a
 * thread-local increment and one relaxed load. Not for product code paths.
 */
#include "mem_internal.h"

#include <string.h>

/* ------------------------------------------------------ fault injection */

static atomic_uint_fast64_t countdown;      /* 0 = disarmed */
static atomic_int all_threads;
static atomic_uint_fast64_t armed_thread;
static _Thread_local uint64_t attempts;
static atomic_uint_fast64_t attempts_all;   /* every thread's, for walks across threads */

void hyperionTestFailAllocation(uint64_t n, int every_thread) {
    atomic_store(&countdown, 0);
    atomic_store(&all_threads, every_thread != 0);
    atomic_store(&armed_thread, hy_thread_id());
    atomic_store(&countdown, n);
}

uint64_t hyperionTestAllocationAttempts(void) {
    return attempts;
}

uint64_t hyperionTestAllocationAttemptsAllThreads(void) {
    return atomic_load(&attempts_all);
}

int hy_mem_test_attempt(void) {
    attempts++;
    atomic_fetch_add_explicit(&attempts_all, 1, memory_order_relaxed);
    if (!atomic_load_explicit(&countdown, memory_order_relaxed)) return 0;
    if (!atomic_load(&all_threads) && atomic_load(&armed_thread) != hy_thread_id()) return 0;
    uint64_t left = atomic_load(&countdown);
    while (left && !atomic_compare_exchange_weak(&countdown, &left, left - 1)) {}
    return left == 1;   /* this attempt took the count from 1 to 0 */
}

void hyperionTestFailGuardMappings(uint32_t count) {
    atomic_store(&hy_guard_test_failures, count);
}

/* ---------------------------------------------------------- planted leaks */

#define MAX_PLANTED 64

static struct {
    pthread_mutex_t lock;
    void *ptr[MAX_PLANTED];
    uint64_t id[MAX_PLANTED];
} planted = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* The named function a planted leak's stack shows. Not inlined, and it
 * touches the block after the call so the call is not a tail call (which
 * would take this frame off the stack). */
__attribute__((noinline, used)) void *hyperion_test_leaky_allocation(size_t size, hyperion_mem_tag tag) {
    unsigned char *p = hyperionAlloc(size, tag);
    if (p) memset(p, 0xA5, size);
    __asm__ volatile("" ::: "memory");
    return p;
}

uint64_t hyperionTestPlantLeak(size_t size, hyperion_mem_tag tag) {
    void *p = hyperion_test_leaky_allocation(size, tag);
    if (!p) return 0;
    hy_track_rec rec;
    uint64_t id = hy_track_find_ptr((uintptr_t)p, &rec) ? rec.id : 0;
    pthread_mutex_lock(&planted.lock);
    int slot = -1;
    for (int i = 0; i < MAX_PLANTED && slot < 0; i++)
        if (!planted.ptr[i]) slot = i;
    if (slot >= 0) {
        /* tracking off: no block id; a handle from the top of the range still releases it */
        if (!id) id = ~(uint64_t)0 - (uint64_t)slot;
        planted.ptr[slot] = p;
        planted.id[slot] = id;
    }
    pthread_mutex_unlock(&planted.lock);
    if (slot < 0) {
        hyperionFree(p);
        HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "release planted leaks first",
                      ((hy_field[]){ HY_NUM("planted", MAX_PLANTED) }), "at most %d planted leaks", MAX_PLANTED);
        return 0;
    }
    return id;
}

hyperion_status hyperionTestReleasePlantedLeak(uint64_t id) {
    void *p = NULL;
    pthread_mutex_lock(&planted.lock);
    for (int i = 0; i < MAX_PLANTED; i++) {
        if (planted.ptr[i] && planted.id[i] == id) {
            p = planted.ptr[i];
            planted.ptr[i] = NULL;
            planted.id[i] = 0;
            break;
        }
    }
    pthread_mutex_unlock(&planted.lock);
    if (!p)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", "id"), HY_NUM("value", (double)id) }),
                             "no planted leak has id %llu", (unsigned long long)id);
    hyperionFree(p);
    return HYPERION_OK;
}
