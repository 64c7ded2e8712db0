/*
 * guard.c — guarded blocks: each in its own mapping next to an inaccessible
 * page, and a quarantine that keeps freed ones inaccessible.
 *
 * Overflow mode:  [ data pages ........ block ][ guard ]   the block ends at
 *                 the guard page (start rounded down to the alignment asked
 *                 for), so reading or writing one byte past it faults.
 * Underflow mode: [ guard ][ block ....... data pages ]   the block starts at
 *                 the first data page, so one byte before it faults.
 * The slack on the open side (alignment rounding, the rest of the page) is
 * filled with canaries and checked on free.
 *
 * On free the whole mapping drops its pages (MADV_DONTNEED), becomes
 * PROT_NONE and joins a FIFO quarantine
 * bounded in bytes and blocks; the oldest leave it with munmap. Any access to
 * a quarantined block faults and is reported as a use-after-free; a second
 * free of it is a double free reported with both stacks.
 *
 * Mappings are finite (vm.max_map_count, about 65k). The guard mode counts
 * what it holds (two per live block, one per quarantined block) against a
 * budget (default: half of vm.max_map_count), empties the quarantine first
 * when it runs short, and otherwise hands the block back unguarded — the
 * caller logs a warning and counts it. A failing mmap/mprotect degrades the
 * same way. Never a failed allocation.
 *
 * Records live in chunks that are never freed, so the fault handler can scan
 * them without a lock; a record's fields are written before its state is
 * published.
 */
#include "mem_internal.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

enum { REC_FREE = 0, REC_LIVE = 1, REC_QUARANTINED = 2 };
enum { WHY_BUDGET = 1, WHY_MMAP = 2, WHY_MPROTECT = 3, WHY_INJECTED = 4, WHY_RECORDS = 5 };

#define CHUNK_RECS 1024u
#define MAX_CHUNKS 1024u

typedef struct guard_rec {
    atomic_int state;
    uintptr_t user, map_base;
    uint64_t size, map_len, id, alloc_time, free_time;
    uint32_t alloc_stack, free_stack, alloc_thread, free_thread;
    uint32_t front, rear;          /* slack bytes checked as canaries */
    uint32_t qnext;                /* quarantine FIFO / free list: index + 1 */
    uint16_t budget;
    uint8_t tag, underflow;
} guard_rec;

static struct {
    pthread_mutex_t lock;
    guard_rec *chunks[MAX_CHUNKS];
    uint32_t nchunks, free_head;   /* free_head: index + 1 */
    uint32_t *index;               /* hash by user address: record index + 1 */
    uint32_t index_mask, index_count;
    uint32_t q_head, q_tail;       /* oldest, newest: index + 1 */
    uint64_t live_blocks, live_bytes, q_blocks, q_bytes, mapped_bytes, mappings;
    uint64_t auto_budget;
} G = { .lock = PTHREAD_MUTEX_INITIALIZER };

atomic_uint hy_guard_test_failures;
static atomic_uint_fast64_t fallbacks;
static atomic_int any_records;
static _Thread_local uint64_t rng_state;

/* ------------------------------------------------------------- decision */

int hy_guard_wanted(size_t size) {
    int mode = atomic_load_explicit(&hy_mem_set.guard_mode, memory_order_relaxed);
    if (mode == HYPERION_GUARD_OFF) return 0;
    if (size < atomic_load_explicit(&hy_mem_set.guard_min_size, memory_order_relaxed)) return 0;
    if (mode == HYPERION_GUARD_ALL) return 1;
    if (!rng_state) rng_state = (hy_thread_id() * 0x9E3779B97F4A7C15ull) ^ hy_clock_monotonic_ns() ^ 1;
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (rng_state >> 32) < atomic_load_explicit(&hy_mem_set.guard_rate_q32, memory_order_relaxed);
}

int hy_guard_any(void) {
    return atomic_load_explicit(&any_records, memory_order_relaxed);
}

const char *hy_guard_reason_text(int reason) {
    switch (reason) {
    case WHY_BUDGET: return "the guard mode's mapping budget is used up";
    case WHY_MMAP: return "the system refused a new mapping (vm.max_map_count?)";
    case WHY_MPROTECT: return "the system refused to protect a guard page (vm.max_map_count?)";
    case WHY_INJECTED: return "a test made the guard mapping fail";
    default: return "no memory for the guard record";
    }
}

/* --------------------------------------------------------------- records */

static guard_rec *rec_at(uint32_t index1) {
    uint32_t i = index1 - 1;
    return &G.chunks[i / CHUNK_RECS][i % CHUNK_RECS];
}

static uint32_t rec_new(void) {
    if (!G.free_head) {
        if (G.nchunks == MAX_CHUNKS) return 0;
        guard_rec *chunk = hy_meta_alloc(CHUNK_RECS * sizeof(guard_rec));
        if (!chunk) return 0;
        uint32_t first = G.nchunks * CHUNK_RECS;
        for (uint32_t i = CHUNK_RECS; i-- > 0;) {
            chunk[i].qnext = G.free_head;
            G.free_head = first + i + 1;
        }
        __atomic_store_n(&G.chunks[G.nchunks], chunk, __ATOMIC_RELEASE);
        __atomic_store_n(&G.nchunks, G.nchunks + 1, __ATOMIC_RELEASE);
    }
    uint32_t r = G.free_head;
    G.free_head = rec_at(r)->qnext;
    rec_at(r)->qnext = 0;
    return r;
}

static void rec_release(uint32_t r) {
    guard_rec *g = rec_at(r);
    atomic_store_explicit(&g->state, REC_FREE, memory_order_release);
    g->qnext = G.free_head;
    G.free_head = r;
}

/* ----------------------------------------------------------- the index */

static uint32_t index_home(uintptr_t user) {
    uint64_t h = ((uint64_t)user >> 4) * 0x9E3779B97F4A7C15ull;
    return (uint32_t)(h >> 32) & G.index_mask;
}

static int index_grow(void) {
    uint32_t cap = G.index ? (G.index_mask + 1) * 2 : 1024;
    uint32_t *fresh = hy_meta_alloc(cap * sizeof(uint32_t));
    if (!fresh) return -1;
    uint32_t *old = G.index;
    uint32_t old_cap = G.index ? G.index_mask + 1 : 0;
    G.index = fresh;
    G.index_mask = cap - 1;
    for (uint32_t i = 0; i < old_cap; i++) {
        if (!old[i]) continue;
        uint32_t j = index_home(rec_at(old[i])->user);
        while (fresh[j]) j = (j + 1) & G.index_mask;
        fresh[j] = old[i];
    }
    if (old) hy_meta_free(old, old_cap * sizeof(uint32_t));
    return 0;
}

static uint32_t index_find(uintptr_t user, uint32_t *slot) {
    if (!G.index) return 0;
    for (uint32_t j = index_home(user); G.index[j]; j = (j + 1) & G.index_mask) {
        if (rec_at(G.index[j])->user == user) {
            if (slot) *slot = j;
            return G.index[j];
        }
    }
    return 0;
}

static void index_remove_slot(uint32_t j) {
    uint32_t hole = j;
    for (uint32_t k = (j + 1) & G.index_mask; G.index[k]; k = (k + 1) & G.index_mask) {
        uint32_t home = index_home(rec_at(G.index[k])->user);
        if (((k - home) & G.index_mask) >= ((k - hole) & G.index_mask)) {
            G.index[hole] = G.index[k];
            hole = k;
        }
    }
    G.index[hole] = 0;
    G.index_count--;
}

/* ------------------------------------------------------------ mappings */

static uint64_t mapping_budget(void) {
    uint64_t set = atomic_load_explicit(&hy_mem_set.guard_max_mappings, memory_order_relaxed);
    if (set) return set;
    if (!G.auto_budget) {
        uint64_t max_count = 65530;
        int fd = open("/proc/sys/vm/max_map_count", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            char buf[32];
            ssize_t n = read(fd, buf, sizeof buf - 1);
            if (n > 0) {
                buf[n] = '\0';
                uint64_t v = strtoull(buf, NULL, 10);
                if (v >= 1024) max_count = v;
            }
            close(fd);
        }
        G.auto_budget = max_count / 2;
    }
    return G.auto_budget;
}

/* Take the oldest block out of the quarantine and unmap it (lock held). */
static void evict_oldest(void) {
    uint32_t r = G.q_head;
    if (!r) return;
    guard_rec *g = rec_at(r);
    G.q_head = g->qnext;
    if (!G.q_head) G.q_tail = 0;
    g->qnext = 0;
    uint32_t slot;
    if (index_find(g->user, &slot) == r) index_remove_slot(slot);
    atomic_store_explicit(&g->state, REC_FREE, memory_order_release);
    munmap((void *)g->map_base, (size_t)g->map_len);
    G.q_blocks--;
    G.q_bytes -= g->size;
    G.mapped_bytes -= g->map_len;
    G.mappings -= 1;
    rec_release(r);
}

static void trim_quarantine(uint64_t max_bytes, uint64_t max_blocks) {
    while (G.q_head && (G.q_bytes > max_bytes || G.q_blocks > max_blocks)) evict_oldest();
}

/* ---------------------------------------------------------------- alloc */

void *hy_guard_alloc(size_t size, size_t align, uint8_t tag, uint16_t budget, uint64_t id, uint32_t stack,
                     int *reason) {
    size_t page = (size_t)getpagesize();
    size_t min_align = (size_t)atomic_load_explicit(&hy_mem_set.guard_alignment, memory_order_relaxed);
    if (align < min_align) align = min_align;
    if (align == 0) align = 1;
    int underflow = atomic_load_explicit(&hy_mem_set.guard_underflow, memory_order_relaxed);
    if (size > SIZE_MAX / 2 - 2 * page - align) {
        *reason = WHY_MMAP;
        return NULL;
    }
    size_t rounded = (size + align - 1) & ~(align - 1);      /* block plus the slack before the guard */
    size_t data = (rounded + page - 1) & ~(page - 1);
    size_t map_len = data + page;
    hy_fault_prepare_thread();

    pthread_mutex_lock(&G.lock);
    uint64_t budget_maps = mapping_budget();
    while (G.mappings + 2 > budget_maps && G.q_head) evict_oldest();
    if (G.mappings + 2 > budget_maps) {
        pthread_mutex_unlock(&G.lock);
        *reason = WHY_BUDGET;
        return NULL;
    }
    unsigned injected = atomic_load(&hy_guard_test_failures);
    while (injected && !atomic_compare_exchange_weak(&hy_guard_test_failures, &injected, injected - 1)) {}
    if (injected) {
        pthread_mutex_unlock(&G.lock);
        *reason = WHY_INJECTED;
        return NULL;
    }
    uint32_t r = rec_new();
    if (!r || ((G.index_count + 1) * 2 > (G.index ? G.index_mask + 1 : 0) && index_grow() != 0)) {
        if (r) rec_release(r);
        pthread_mutex_unlock(&G.lock);
        *reason = WHY_RECORDS;
        return NULL;
    }
    void *map = mmap(NULL, map_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (map == MAP_FAILED) {
        /* out of mappings: give back the quarantine's, try once more */
        while (G.q_head) evict_oldest();
        map = mmap(NULL, map_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    }
    if (map == MAP_FAILED) {
        rec_release(r);
        pthread_mutex_unlock(&G.lock);
        *reason = WHY_MMAP;
        return NULL;
    }
    uintptr_t base = (uintptr_t)map;
    uintptr_t data_start = underflow ? base + page : base;
    if (mprotect((void *)data_start, data, PROT_READ | PROT_WRITE) != 0) {
        munmap(map, map_len);
        rec_release(r);
        pthread_mutex_unlock(&G.lock);
        *reason = WHY_MPROTECT;
        return NULL;
    }
    uintptr_t user = underflow ? data_start : data_start + data - rounded;
    guard_rec *g = rec_at(r);
    g->user = user;
    g->map_base = base;
    g->size = size;
    g->map_len = map_len;
    g->id = id;
    g->alloc_time = hy_clock_realtime_ns();
    g->free_time = 0;
    g->alloc_stack = stack;
    g->free_stack = 0;
    g->alloc_thread = (uint32_t)hy_thread_id();
    g->free_thread = 0;
    g->front = (uint32_t)(user - data_start < HY_CANARY_MAX ? user - data_start : HY_CANARY_MAX);
    g->rear = (uint32_t)(data_start + data - (user + size) < HY_CANARY_MAX ? data_start + data - (user + size)
                                                                          : HY_CANARY_MAX);
    g->budget = budget;
    g->tag = tag;
    g->underflow = (uint8_t)underflow;
    g->qnext = 0;
    hy_canary_fill(user, size, g->front, g->rear);
    atomic_store_explicit(&g->state, REC_LIVE, memory_order_release);
    uint32_t j = index_home(user);
    while (G.index[j]) j = (j + 1) & G.index_mask;
    G.index[j] = r;
    G.index_count++;
    G.live_blocks++;
    G.live_bytes += size;
    G.mapped_bytes += map_len;
    G.mappings += 2;
    atomic_store_explicit(&any_records, 1, memory_order_relaxed);
    pthread_mutex_unlock(&G.lock);
    return (void *)user;
}

/* ----------------------------------------------------------------- free */

static void view_of(const guard_rec *g, hy_guard_view *v) {
    v->user = g->user;
    v->map_base = g->map_base;
    v->size = g->size;
    v->map_len = g->map_len;
    v->id = g->id;
    v->alloc_time = g->alloc_time;
    v->free_time = g->free_time;
    v->alloc_stack = g->alloc_stack;
    v->free_stack = g->free_stack;
    v->alloc_thread = g->alloc_thread;
    v->free_thread = g->free_thread;
    v->tag = g->tag;
    v->quarantined = atomic_load_explicit(&g->state, memory_order_acquire) == REC_QUARANTINED;
    v->underflow = g->underflow;
}

static void desc_of(const guard_rec *g, hy_block_desc *out) {
    out->user = g->user;
    out->size = g->size;
    out->slot_bytes = g->map_len - (size_t)getpagesize();
    out->budget = g->budget;
    out->tag = g->tag;
    out->flags = HY_BLOCK_LIVE;
    out->guarded = 1;
}

hy_free_result hy_guard_free(uintptr_t ptr, const hy_caller *caller, hy_block_desc *out, hy_guard_view *seen) {
    memset(out, 0, sizeof *out);
    if (!hy_guard_any()) return HY_FREE_NOT_MINE;
    uint32_t free_stack = hy_stack_capture_id(caller);
    pthread_mutex_lock(&G.lock);
    uint32_t slot = 0;
    uint32_t r = index_find(ptr, &slot);
    if (!r) {
        pthread_mutex_unlock(&G.lock);
        return HY_FREE_NOT_MINE;
    }
    guard_rec *g = rec_at(r);
    if (atomic_load_explicit(&g->state, memory_order_relaxed) == REC_QUARANTINED) {
        desc_of(g, out);
        if (seen) view_of(g, seen);
        pthread_mutex_unlock(&G.lock);
        return HY_FREE_DOUBLE;
    }
    desc_of(g, out);
    hy_canary_check(g->user, g->size, g->front, g->rear, &out->damage);
    g->free_stack = free_stack;
    g->free_thread = (uint32_t)hy_thread_id();
    g->free_time = hy_clock_realtime_ns();
    G.live_blocks--;
    G.live_bytes -= g->size;
    uint64_t max_bytes = atomic_load_explicit(&hy_mem_set.quarantine_bytes, memory_order_relaxed);
    uint64_t max_blocks = atomic_load_explicit(&hy_mem_set.quarantine_blocks, memory_order_relaxed);
    /* the pages go back to the system; the range stays reserved and faults */
    int keep = max_bytes >= g->size && max_blocks > 0 &&
               madvise((void *)g->map_base, (size_t)g->map_len, MADV_DONTNEED) == 0 &&
               mprotect((void *)g->map_base, (size_t)g->map_len, PROT_NONE) == 0;
    if (keep) {
        atomic_store_explicit(&g->state, REC_QUARANTINED, memory_order_release);
        if (G.q_tail) rec_at(G.q_tail)->qnext = r;
        else G.q_head = r;
        G.q_tail = r;
        G.q_blocks++;
        G.q_bytes += g->size;
        G.mappings -= 1;   /* the data and guard mappings merge into one */
        trim_quarantine(max_bytes, max_blocks);
    } else {
        index_remove_slot(slot);
        atomic_store_explicit(&g->state, REC_FREE, memory_order_release);
        munmap((void *)g->map_base, (size_t)g->map_len);
        G.mapped_bytes -= g->map_len;
        G.mappings -= 2;
        rec_release(r);
    }
    pthread_mutex_unlock(&G.lock);
    return HY_FREE_OK;
}

/* -------------------------------------------------------------- lookups */

int hy_guard_describe(uintptr_t ptr, hy_block_desc *out) {
    memset(out, 0, sizeof *out);
    if (!hy_guard_any()) return 0;
    pthread_mutex_lock(&G.lock);
    uint32_t r = index_find(ptr, NULL);
    int ok = r && atomic_load_explicit(&rec_at(r)->state, memory_order_relaxed) == REC_LIVE;
    if (ok) desc_of(rec_at(r), out);
    pthread_mutex_unlock(&G.lock);
    return ok;
}

int hy_guard_find_id(uint64_t id, hy_guard_view *out) {
    int found = 0;
    pthread_mutex_lock(&G.lock);
    for (uint32_t c = 0; c < G.nchunks && !found; c++) {
        for (uint32_t i = 0; i < CHUNK_RECS; i++) {
            guard_rec *g = &G.chunks[c][i];
            if (atomic_load_explicit(&g->state, memory_order_relaxed) != REC_FREE && g->id == id) {
                view_of(g, out);
                found = 1;
                break;
            }
        }
    }
    pthread_mutex_unlock(&G.lock);
    return found;
}

int hy_guard_find_fault(uintptr_t addr, hy_guard_view *out) {
    uint32_t chunks = __atomic_load_n(&G.nchunks, __ATOMIC_ACQUIRE);
    for (uint32_t c = 0; c < chunks; c++) {
        guard_rec *chunk = __atomic_load_n(&G.chunks[c], __ATOMIC_ACQUIRE);
        if (!chunk) continue;
        for (uint32_t i = 0; i < CHUNK_RECS; i++) {
            guard_rec *g = &chunk[i];
            if (atomic_load_explicit(&g->state, memory_order_acquire) == REC_FREE) continue;
            if (addr >= g->map_base && addr - g->map_base < g->map_len) {
                view_of(g, out);
                return 1;
            }
        }
    }
    return 0;
}

void hy_guard_visit_slack(hy_pool_visit_fn fn, void *user) {
    if (!hy_guard_any()) return;
    pthread_mutex_lock(&G.lock);
    for (uint32_t c = 0; c < G.nchunks; c++) {
        for (uint32_t i = 0; i < CHUNK_RECS; i++) {
            guard_rec *g = &G.chunks[c][i];
            if (atomic_load_explicit(&g->state, memory_order_relaxed) != REC_LIVE) continue;
            hy_block_desc d = { 0 };
            desc_of(g, &d);
            hy_canary_check(g->user, g->size, g->front, g->rear, &d.damage);
            fn(&d, user);
        }
    }
    pthread_mutex_unlock(&G.lock);
}

/* ------------------------------------------------------------- settings */

void hy_guard_apply_settings(void) {
    pthread_mutex_lock(&G.lock);
    if (atomic_load(&hy_mem_set.guard_mode) == HYPERION_GUARD_OFF) trim_quarantine(0, 0);
    else trim_quarantine(atomic_load(&hy_mem_set.quarantine_bytes), atomic_load(&hy_mem_set.quarantine_blocks));
    pthread_mutex_unlock(&G.lock);
}

uint64_t hy_guard_note_fallback(void) {
    return atomic_fetch_add(&fallbacks, 1) + 1;
}

void hy_guard_get_stats(hy_guard_stats *out) {
    pthread_mutex_lock(&G.lock);
    out->live_blocks = G.live_blocks;
    out->live_bytes = G.live_bytes;
    out->quarantined_blocks = G.q_blocks;
    out->quarantined_bytes = G.q_bytes;
    out->mapped_bytes = G.mapped_bytes;
    out->mappings = G.mappings;
    pthread_mutex_unlock(&G.lock);
    out->fallbacks = atomic_load(&fallbacks);
}

void hy_guard_fork_lock(int lock) {
    if (lock) pthread_mutex_lock(&G.lock);
    else pthread_mutex_unlock(&G.lock);
}
