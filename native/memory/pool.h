/*
 * pool.h — shared by pages.c (the page heap) and slab.c (size classes); not
 * used elsewhere.
 *
 * The pool's address range is reserved once (PROT_NONE) and committed from the
 * bottom in 64 MiB arenas; `frontier` pages are committed. Every page of the
 * committed part belongs to one run: free, a slab of one size class, or one
 * large block. The page map (two levels: arena -> page) points each page of a
 * used run, and the first and last page of a free run, at its descriptor.
 *
 * Run descriptors are type-stable: once made they are only ever recycled as
 * run descriptors, never handed back to meta.c. A free() can therefore read
 * the descriptor a page points at without a lock, then take the lock that
 * guards it and check that the page still belongs to it.
 */
#ifndef HYPERION_MEMORY_POOL_H
#define HYPERION_MEMORY_POOL_H

#include "mem_internal.h"

enum { RUN_FREE = 1, RUN_SLAB = 2, RUN_LARGE = 3 };

/* One slot of a slab: what the pool knows about the block in it. */
typedef struct hy_slot {
    uint16_t size;       /* requested bytes (<= 32768) */
    uint16_t offset;     /* from the slot start to the block */
    uint16_t budget;
    uint8_t tag, flags;
} hy_slot;

typedef struct hy_run {
    uint32_t kind;                 /* RUN_*; read racily with __atomic loads */
    uint32_t cls;                  /* slab: its size class */
    uint64_t page, npages;         /* first page (index from the range base) and length */
    uint64_t dirty;                /* free run: pages that may still be resident */
    struct hy_run *next, *prev;    /* free: bin list; slab: the class's list of all slabs */
    int bin;
    /* slab */
    struct hy_run *pnext, *pprev;  /* partial list (slabs with a free slot) */
    int in_partial;
    uint32_t nslots, nfree, hint;
    uint64_t *used;                /* one bit per slot */
    hy_slot *slots;
    size_t table_bytes;            /* used + slots, from meta.c */
    /* large block */
    uint64_t size;
    uint32_t offset;
    uint16_t budget;
    uint8_t tag, flags;
} hy_run;

typedef struct hy_heap {
    uintptr_t base;
    uint64_t space_pages;          /* pages in the reserved range */
    uint64_t frontier;             /* pages committed (arenas) */
    size_t page;                   /* bytes per page (the system's) */
    unsigned page_shift;
    uint64_t arena_pages;          /* pages per 64 MiB arena */
    unsigned arena_shift;          /* log2(arena_pages) */
    hy_run ***maps;                /* [space_pages / arena_pages] -> [arena_pages] */
    pthread_mutex_t lock;
} hy_heap;

extern hy_heap hy_pool_heap;

static inline uint64_t hy_heap_page_of(uintptr_t addr) {
    return (uint64_t)(addr - hy_pool_heap.base) >> hy_pool_heap.page_shift;
}
static inline uintptr_t hy_heap_addr(uint64_t page) {
    return hy_pool_heap.base + ((uintptr_t)page << hy_pool_heap.page_shift);
}

/* The run a committed page belongs to (may be stale without the heap lock). */
hy_run *hy_heap_run_at(uint64_t page);

/* Reserve the address range (once). 0 on success. */
int hy_heap_start(void);

/* Take npages for a run of the given kind (heap lock held by the caller); the
 * page map points every page at it before it is returned. NULL when the range
 * is exhausted or the system refused to commit. */
hy_run *hy_heap_take_locked(uint64_t npages, uint32_t kind, uint32_t cls);

/* Give a run back (heap lock held by the caller). */
void hy_heap_give_locked(hy_run *run);

/* Walk every run in address order (heap lock held by the caller). */
void hy_heap_walk_locked(void (*fn)(hy_run *run, void *user), void *user);

/* Remember the start of a large block just freed; 1 when addr is one of the
 * recently freed (a later free of it is a double free). */
void hy_heap_note_freed(uintptr_t addr);
int hy_heap_recently_freed(uintptr_t addr);

/* Totals under the heap lock. */
void hy_heap_stats(uint64_t *reserved, uint64_t *free_bytes, uint64_t *largest, uint64_t *dirty_free);

#endif
