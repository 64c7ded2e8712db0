/*
 * meta.c — the allocator's own bookkeeping memory.
 *
 * Run descriptors, slot tables, the live-block table, interned stacks and the
 * symbol cache cannot come from the pool they describe, so they come from here:
 * power-of-two classes (16 B .. 64 KiB) carved from 1 MiB mmap chunks and kept
 * on free lists, and larger pieces mapped one by one. Everything handed out is
 * zeroed. This lock is the innermost of the memory module: nothing here calls
 * back into the pool, logs or raises.
 */
#include "mem_internal.h"

#include <string.h>
#include <sys/mman.h>

#define META_MIN_SHIFT 4
#define META_MAX_SHIFT 16
#define META_CLASSES (META_MAX_SHIFT - META_MIN_SHIFT + 1)
#define META_CHUNK ((size_t)1 << 20)

typedef struct meta_free { struct meta_free *next; } meta_free;

static struct {
    pthread_mutex_t lock;
    meta_free *lists[META_CLASSES];
    unsigned char *chunk;          /* current carving chunk */
    size_t chunk_used;
    atomic_uint_fast64_t mapped;
} MT = { .lock = PTHREAD_MUTEX_INITIALIZER };

static int class_of(size_t size) {
    int shift = META_MIN_SHIFT;
    while (((size_t)1 << shift) < size) shift++;
    return shift - META_MIN_SHIFT;
}

static void *map_pages(size_t bytes) {
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    atomic_fetch_add(&MT.mapped, bytes);
    return p;
}

static size_t page_round(size_t size) {
    size_t page = 4096;
    return (size + page - 1) & ~(page - 1);
}

void *hy_meta_alloc(size_t size) {
    if (size == 0) size = 1;
    if (size > ((size_t)1 << META_MAX_SHIFT)) {
        if (size > SIZE_MAX - 4096) return NULL;
        return map_pages(page_round(size));   /* fresh mappings are zero */
    }
    int c = class_of(size);
    size_t bytes = (size_t)1 << (c + META_MIN_SHIFT);
    void *p = NULL;
    pthread_mutex_lock(&MT.lock);
    if (MT.lists[c]) {
        meta_free *f = MT.lists[c];
        MT.lists[c] = f->next;
        p = f;
    } else {
        if (!MT.chunk || MT.chunk_used + bytes > META_CHUNK) {
            unsigned char *fresh = map_pages(META_CHUNK);
            if (fresh) {
                /* The rest of the old chunk goes to the free lists, largest pieces first. */
                while (MT.chunk && MT.chunk_used < META_CHUNK) {
                    size_t left = META_CHUNK - MT.chunk_used;
                    int k = META_CLASSES - 1;
                    while (k > 0 && ((size_t)1 << (k + META_MIN_SHIFT)) > left) k--;
                    size_t piece = (size_t)1 << (k + META_MIN_SHIFT);
                    if (piece > left) break;
                    meta_free *f = (meta_free *)(MT.chunk + MT.chunk_used);
                    f->next = MT.lists[k];
                    MT.lists[k] = f;
                    MT.chunk_used += piece;
                }
                MT.chunk = fresh;
                MT.chunk_used = 0;
            }
        }
        if (MT.chunk && MT.chunk_used + bytes <= META_CHUNK) {
            p = MT.chunk + MT.chunk_used;
            MT.chunk_used += bytes;
        }
    }
    pthread_mutex_unlock(&MT.lock);
    if (p) memset(p, 0, bytes);
    return p;
}

void hy_meta_free(void *ptr, size_t size) {
    if (!ptr) return;
    if (size == 0) size = 1;
    if (size > ((size_t)1 << META_MAX_SHIFT)) {
        size_t bytes = page_round(size);
        munmap(ptr, bytes);
        atomic_fetch_sub(&MT.mapped, bytes);
        return;
    }
    int c = class_of(size);
    meta_free *f = ptr;
    pthread_mutex_lock(&MT.lock);
    f->next = MT.lists[c];
    MT.lists[c] = f;
    pthread_mutex_unlock(&MT.lock);
}

uint64_t hy_meta_bytes(void) {
    return atomic_load(&MT.mapped);
}

void hy_meta_fork_lock(int lock) {
    if (lock) pthread_mutex_lock(&MT.lock);
    else pthread_mutex_unlock(&MT.lock);
}
