/*
 * pages.c — the page heap: one reserved address range, committed in 64 MiB
 * arenas from the bottom, cut into runs of pages.
 *
 * Free runs sit in size bins (exact up to 64 pages, then four bins per power
 * of two) with a bitmap of the non-empty bins; a request takes the best fit of
 * the first bin that can hold it and leaves the tail free. Freed runs merge
 * with free neighbours. Free pages stay committed ("dirty") until more than
 * RETAIN_BYTES of them pile up; then the largest free runs are returned to the
 * system with MADV_DONTNEED (the arena stays reserved, the RSS drops).
 * hyperionTrimMemory does the same on request, down to any amount.
 *
 * The range is reserved PROT_NONE with MAP_NORESERVE, so it costs address
 * space only; arenas become read-write when the frontier reaches them. Because
 * arenas are contiguous and all read-write, the whole committed part is one
 * kernel mapping whatever the number of runs.
 */
#include "pool.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define BIN_COUNT 160
#define RETAIN_BYTES ((uint64_t)64 << 20)
#define RECENT_FREED 1024

hy_heap hy_pool_heap = { .lock = PTHREAD_MUTEX_INITIALIZER };
#define H hy_pool_heap

static struct {
    hy_run *bins[BIN_COUNT];
    uint64_t nonempty[(BIN_COUNT + 63) / 64];
    hy_run *spare;                 /* recycled descriptors */
    uint64_t free_pages, dirty_free;
    atomic_uintptr_t recent[RECENT_FREED];
    atomic_uint recent_next;
} P;

/* ---------------------------------------------------------------- start */

int hy_heap_start(void) {
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0) page = 4096;
    H.page = (size_t)page;
    H.page_shift = 0;
    while (((size_t)1 << H.page_shift) < H.page) H.page_shift++;
    H.arena_pages = HY_MEM_ARENA_BYTES >> H.page_shift;
    H.arena_shift = 0;
    while (((uint64_t)1 << H.arena_shift) < H.arena_pages) H.arena_shift++;
    /* 256 GiB of address space; less where the process is capped (ulimit -v). */
    for (uint64_t bytes = (uint64_t)256 << 30; bytes >= HY_MEM_ARENA_BYTES * 4; bytes >>= 1) {
        void *p = mmap(NULL, (size_t)bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) continue;
        size_t arenas = (size_t)(bytes / HY_MEM_ARENA_BYTES);
        H.maps = hy_meta_alloc(arenas * sizeof(hy_run **));
        if (!H.maps) {
            munmap(p, (size_t)bytes);
            return -1;
        }
        H.base = (uintptr_t)p;
        H.space_pages = bytes >> H.page_shift;
        H.frontier = 0;
        return 0;
    }
    return -1;
}

int hy_pool_contains(uintptr_t ptr) {
    return H.base && ptr >= H.base && ptr - H.base < ((uintptr_t)H.space_pages << H.page_shift);
}

/* ----------------------------------------------------------- page map */

hy_run *hy_heap_run_at(uint64_t page) {
    if (page >= H.space_pages) return NULL;
    hy_run **map = __atomic_load_n(&H.maps[page >> H.arena_shift], __ATOMIC_ACQUIRE);
    if (!map) return NULL;
    return __atomic_load_n(&map[page & (H.arena_pages - 1)], __ATOMIC_ACQUIRE);
}

static void map_set(uint64_t page, hy_run *run) {
    hy_run **map = H.maps[page >> H.arena_shift];
    __atomic_store_n(&map[page & (H.arena_pages - 1)], run, __ATOMIC_RELEASE);
}

static void map_set_all(hy_run *run) {
    for (uint64_t p = run->page; p < run->page + run->npages; p++) map_set(p, run);
}

static void map_set_ends(hy_run *run) {
    map_set(run->page, run);
    map_set(run->page + run->npages - 1, run);
}

/* ---------------------------------------------------------- descriptors */

static hy_run *run_new(void) {
    hy_run *r = P.spare;
    if (r) {
        P.spare = r->next;
    } else {
        r = hy_meta_alloc(sizeof *r);
        if (!r) return NULL;
    }
    __atomic_store_n(&r->kind, 0, __ATOMIC_RELAXED);
    r->next = r->prev = r->pnext = r->pprev = NULL;
    r->dirty = 0;
    r->bin = -1;
    return r;
}

static void run_recycle(hy_run *r) {
    __atomic_store_n(&r->kind, 0, __ATOMIC_RELEASE);
    r->next = P.spare;
    P.spare = r;
}

/* ------------------------------------------------------------------ bins */

static int bin_of(uint64_t npages) {
    if (npages <= 64) return (int)npages - 1;
    int lg = 63 - __builtin_clzll(npages);
    int b = 64 + 4 * (lg - 6) + (int)((npages >> (lg - 2)) & 3);
    return b < BIN_COUNT ? b : BIN_COUNT - 1;
}

static void bin_insert(hy_run *r) {
    int b = bin_of(r->npages);
    r->bin = b;
    r->prev = NULL;
    r->next = P.bins[b];
    if (r->next) r->next->prev = r;
    P.bins[b] = r;
    P.nonempty[b >> 6] |= 1ull << (b & 63);
    P.free_pages += r->npages;
    P.dirty_free += r->dirty;
}

static void bin_remove(hy_run *r) {
    int b = r->bin;
    if (r->prev) r->prev->next = r->next;
    else P.bins[b] = r->next;
    if (r->next) r->next->prev = r->prev;
    if (!P.bins[b]) P.nonempty[b >> 6] &= ~(1ull << (b & 63));
    r->next = r->prev = NULL;
    r->bin = -1;
    P.free_pages -= r->npages;
    P.dirty_free -= r->dirty;
}

static int next_nonempty(int from) {
    for (int w = from >> 6; w < (BIN_COUNT + 63) / 64; w++) {
        uint64_t bits = P.nonempty[w];
        if (w == from >> 6) bits &= ~0ull << (from & 63);
        if (bits) return w * 64 + __builtin_ctzll(bits);
    }
    return -1;
}

static hy_run *find_free(uint64_t npages) {
    int b = bin_of(npages);
    hy_run *best = NULL;
    for (hy_run *r = P.bins[b]; r; r = r->next)
        if (r->npages >= npages && (!best || r->npages < best->npages)) best = r;
    if (best) return best;
    int n = next_nonempty(b + 1);
    return n >= 0 ? P.bins[n] : NULL;
}

/* -------------------------------------------------------------- arenas */

/* Commit arenas until at least npages more free pages sit at the frontier's
 * end. Heap lock held. 0 on success. */
static int grow(uint64_t npages) {
    uint64_t arenas = (npages + H.arena_pages - 1) / H.arena_pages;
    uint64_t start = H.frontier;
    if (arenas > (H.space_pages - start) / H.arena_pages) return -1;
    uint64_t pages = arenas * H.arena_pages;
    for (uint64_t a = 0; a < arenas; a++) {
        uint64_t index = (start >> H.arena_shift) + a;
        if (!H.maps[index]) {
            hy_run **map = hy_meta_alloc(H.arena_pages * sizeof(hy_run *));
            if (!map) return -1;
            __atomic_store_n(&H.maps[index], map, __ATOMIC_RELEASE);
        }
    }
    if (mprotect((void *)hy_heap_addr(start), (size_t)(pages << H.page_shift), PROT_READ | PROT_WRITE) != 0)
        return -1;
    hy_run *r = run_new();
    if (!r) return -1;
    H.frontier = start + pages;
    r->kind = RUN_FREE;
    r->page = start;
    r->npages = pages;
    /* merge with a free run that ends where the new arenas begin */
    hy_run *left = start ? hy_heap_run_at(start - 1) : NULL;
    if (left && left->kind == RUN_FREE) {
        bin_remove(left);
        left->npages += r->npages;
        run_recycle(r);
        r = left;
    }
    map_set_ends(r);
    bin_insert(r);
    return 0;
}

int hy_pool_reserve(uint64_t bytes) {
    uint64_t want = (bytes + HY_MEM_ARENA_BYTES - 1) / HY_MEM_ARENA_BYTES * H.arena_pages;
    int rc = 0;
    pthread_mutex_lock(&H.lock);
    if (want > H.frontier) rc = grow(want - H.frontier);
    pthread_mutex_unlock(&H.lock);
    return rc;
}

/* --------------------------------------------------------- take / give */

hy_run *hy_heap_take_locked(uint64_t npages, uint32_t kind, uint32_t cls) {
    if (npages == 0 || npages > H.space_pages) return NULL;
    hy_run *f = find_free(npages);
    if (!f) {
        /* the free run at the frontier's end (if any) counts toward the growth */
        hy_run *last = H.frontier ? hy_heap_run_at(H.frontier - 1) : NULL;
        uint64_t have = last && last->kind == RUN_FREE ? last->npages : 0;
        if (grow(npages - have) == 0) f = find_free(npages);
    }
    hy_run *r = NULL;
    if (f) {
        bin_remove(f);
        if (f->npages == npages) {
            r = f;
        } else {
            r = run_new();
            if (r) {
                r->page = f->page;
                r->npages = npages;
                r->dirty = f->dirty < npages ? f->dirty : npages;
                f->dirty -= r->dirty;
                f->page += npages;
                f->npages -= npages;
                map_set_ends(f);
            }
            bin_insert(f);
        }
    }
    if (r) {
        r->cls = cls;
        r->dirty = 0;
        r->next = r->prev = NULL;
        __atomic_store_n(&r->kind, kind, __ATOMIC_RELEASE);
        map_set_all(r);
    }
    return r;
}

/* Return the dirty pages of the largest free runs to the system until at most
 * keep pages stay dirty; the pages returned. */
static uint64_t purge_locked(uint64_t keep) {
    uint64_t released = 0;
    for (int b = BIN_COUNT - 1; b >= 0 && P.dirty_free > keep; b--) {
        for (hy_run *r = P.bins[b]; r && P.dirty_free > keep; r = r->next) {
            if (!r->dirty) continue;
            madvise((void *)hy_heap_addr(r->page), (size_t)(r->npages << H.page_shift), MADV_DONTNEED);
            P.dirty_free -= r->dirty;
            released += r->dirty;
            r->dirty = 0;
        }
    }
    return released;
}

/* The explicit form of the purge below (see hyperion_memory.h): the owner of
 * a large block knows when it will not come back soon; the retention rule
 * cannot. */
uint64_t hyperionTrimMemory(uint64_t keep_bytes) {
    pthread_mutex_lock(&H.lock);
    uint64_t released = H.page_shift ? purge_locked(keep_bytes >> H.page_shift) << H.page_shift : 0;
    pthread_mutex_unlock(&H.lock);
    return released;
}

void hy_heap_give_locked(hy_run *r) {
    __atomic_store_n(&r->kind, RUN_FREE, __ATOMIC_RELEASE);
    r->dirty = r->npages;
    hy_run *left = r->page ? hy_heap_run_at(r->page - 1) : NULL;
    if (left && left->kind == RUN_FREE && left->page + left->npages == r->page) {
        bin_remove(left);
        left->npages += r->npages;
        left->dirty += r->dirty;
        run_recycle(r);
        r = left;
    }
    uint64_t end = r->page + r->npages;
    hy_run *right = end < H.frontier ? hy_heap_run_at(end) : NULL;
    if (right && right != r && right->kind == RUN_FREE && right->page == end) {
        bin_remove(right);
        r->npages += right->npages;
        r->dirty += right->dirty;
        run_recycle(right);
    }
    map_set_ends(r);
    bin_insert(r);
    if (P.dirty_free > (RETAIN_BYTES >> H.page_shift)) purge_locked((RETAIN_BYTES / 2) >> H.page_shift);
}

void hy_heap_walk_locked(void (*fn)(hy_run *run, void *user), void *user) {
    for (uint64_t p = 0; p < H.frontier;) {
        hy_run *r = hy_heap_run_at(p);
        if (!r || r->npages == 0 || r->page != p) break;   /* cannot happen; never loop */
        fn(r, user);
        p += r->npages;
    }
}

void hy_heap_stats(uint64_t *reserved, uint64_t *free_bytes, uint64_t *largest, uint64_t *dirty_free) {
    pthread_mutex_lock(&H.lock);
    *reserved = H.frontier << H.page_shift;
    *free_bytes = P.free_pages << H.page_shift;
    *dirty_free = P.dirty_free << H.page_shift;
    uint64_t big = 0;
    for (int b = BIN_COUNT - 1; b >= 0 && !big; b--)
        for (hy_run *r = P.bins[b]; r; r = r->next)
            if (r->npages > big) big = r->npages;
    *largest = big << H.page_shift;
    pthread_mutex_unlock(&H.lock);
}

/* ------------------------------------------------ recently freed blocks */

void hy_heap_note_freed(uintptr_t addr) {
    unsigned i = atomic_fetch_add_explicit(&P.recent_next, 1, memory_order_relaxed) % RECENT_FREED;
    atomic_store_explicit(&P.recent[i], addr, memory_order_relaxed);
}

int hy_heap_recently_freed(uintptr_t addr) {
    for (unsigned i = 0; i < RECENT_FREED; i++)
        if (atomic_load_explicit(&P.recent[i], memory_order_relaxed) == addr) return 1;
    return 0;
}

uint64_t hy_pool_largest_free(double *external_fragmentation) {
    uint64_t reserved, free_bytes, largest, dirty;
    hy_heap_stats(&reserved, &free_bytes, &largest, &dirty);
    if (external_fragmentation) *external_fragmentation = free_bytes ? 1.0 - (double)largest / (double)free_bytes : 0.0;
    return largest;
}
