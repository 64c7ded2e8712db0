/*
 * alloc.c — the runtime's allocator front end.
 *
 * Every block carries a 64-byte header in front of it (magic, size, tag), so a
 * free of a pointer that is not a live block is recognised and reported instead
 * of corrupting the heap, and the counters per tag stay exact.
 *
 * This is the foundation's allocator: counting and validation over the system
 * heap. The pool with size classes, hard limits, guard pages and stack tracking
 * (the memory debugger) replaces its internals behind the same functions.
 */
#include "core/internal.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_MAGIC 0x48595045524e4c4bull      /* "HYPERNLK": live */
#define FREED_MAGIC 0x4652454544424c4bull      /* "FREEDBLK": freed */
#define HEADER_SIZE 64

typedef struct block_header {
    uint64_t magic;
    uint64_t size;       /* bytes requested */
    uint64_t offset;     /* from the start of the system allocation to the user pointer */
    uint32_t tag;
    uint32_t reserved;
    uint64_t pad[4];
} block_header;

_Static_assert(sizeof(block_header) == HEADER_SIZE, "header must be 64 bytes");

static struct {
    atomic_uint_fast64_t in_use, peak, active, total, frees, failed, mapped;
    atomic_uint_fast64_t tag_bytes[HYPERION_TAG_COUNT];
    atomic_uint_fast64_t tag_blocks[HYPERION_TAG_COUNT];
} M;

static const char *const tag_names[HYPERION_TAG_COUNT] = {
    [HYPERION_TAG_OTHER] = "other",
    [HYPERION_TAG_KV_CACHE] = "kv-cache",
    [HYPERION_TAG_ACTIVATIONS] = "activations",
    [HYPERION_TAG_SCRATCH] = "scratch",
    [HYPERION_TAG_REPACKED_WEIGHTS] = "repacked-weights",
    [HYPERION_TAG_TOKENIZER] = "tokenizer",
    [HYPERION_TAG_SAMPLER] = "sampler",
    [HYPERION_TAG_MODEL] = "model",
    [HYPERION_TAG_SESSION] = "session",
    [HYPERION_TAG_PROFILER] = "profiler",
    [HYPERION_TAG_LOGGING] = "logging",
    [HYPERION_TAG_BINDING] = "binding",
    [HYPERION_TAG_TEST] = "test",
};

const char *hyperionTagName(hyperion_mem_tag tag) {
    return (unsigned)tag < HYPERION_TAG_COUNT ? tag_names[tag] : "unknown";
}

static void note_alloc(size_t size, hyperion_mem_tag tag) {
    uint64_t now = atomic_fetch_add(&M.in_use, size) + size;
    uint64_t peak = atomic_load(&M.peak);
    while (now > peak && !atomic_compare_exchange_weak(&M.peak, &peak, now)) {}
    atomic_fetch_add(&M.active, 1);
    atomic_fetch_add(&M.total, 1);
    atomic_fetch_add(&M.tag_bytes[tag], size);
    atomic_fetch_add(&M.tag_blocks[tag], 1);
}

static void note_free(size_t size, hyperion_mem_tag tag) {
    atomic_fetch_sub(&M.in_use, size);
    atomic_fetch_sub(&M.active, 1);
    atomic_fetch_add(&M.frees, 1);
    atomic_fetch_sub(&M.tag_bytes[tag], size);
    atomic_fetch_sub(&M.tag_blocks[tag], 1);
}

void *hyperionAllocAligned(size_t size, size_t alignment, hyperion_mem_tag tag) {
    if ((unsigned)tag >= HYPERION_TAG_COUNT) {
        HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", "tag"), HY_NUM("value", (int)tag) }),
                      "unknown memory tag %d", (int)tag);
        return NULL;
    }
    if (size == 0) {
        HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "allocate at least one byte",
                      ((hy_field[]){ HY_TXT("field", "size"), HY_TXT("tag", tag_names[tag]) }),
                      "zero-byte allocation requested for \"%s\"", tag_names[tag]);
        return NULL;
    }
    if (alignment < 64) alignment = 64;
    if ((alignment & (alignment - 1)) || alignment > 4096) {
        HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "use a power of two up to 4096",
                      ((hy_field[]){ HY_TXT("field", "alignment"), HY_NUM("value", alignment) }),
                      "alignment %zu is not a power of two up to 4096", alignment);
        return NULL;
    }
    /* header + padding for alignment + the block itself, checked for overflow */
    size_t extra = HEADER_SIZE + alignment;
    if (size > SIZE_MAX - extra) {
        atomic_fetch_add(&M.failed, 1);
        HY_RAISE_WITH(HYPERION_OUT_OF_MEMORY, NULL,
                      ((hy_field[]){ HY_NUM("requested", (double)size), HY_TXT("tag", tag_names[tag]) }),
                      "allocation of %zu bytes for \"%s\" overflows the address space", size, tag_names[tag]);
        return NULL;
    }
    unsigned char *raw = malloc(size + extra);
    if (!raw) {
        atomic_fetch_add(&M.failed, 1);
        HY_RAISE_WITH(HYPERION_OUT_OF_MEMORY, "lower the context size or free other models",
                      ((hy_field[]){ HY_NUM("requested", (double)size), HY_TXT("tag", tag_names[tag]),
                                     HY_NUM("in_use", (double)atomic_load(&M.in_use)) }),
                      "the system refused %zu bytes for \"%s\"", size, tag_names[tag]);
        return NULL;
    }
    uintptr_t user = ((uintptr_t)raw + HEADER_SIZE + alignment - 1) & ~(uintptr_t)(alignment - 1);
    block_header *h = (block_header *)(user - HEADER_SIZE);
    h->magic = BLOCK_MAGIC;
    h->size = size;
    h->offset = user - (uintptr_t)raw;
    h->tag = (uint32_t)tag;
    note_alloc(size, tag);
    return (void *)user;
}

void *hyperionAlloc(size_t size, hyperion_mem_tag tag) {
    return hyperionAllocAligned(size, 64, tag);
}

void *hyperionCalloc(size_t count, size_t size, hyperion_mem_tag tag) {
    if (size && count > SIZE_MAX / size) {
        HY_RAISE_WITH(HYPERION_OUT_OF_MEMORY, NULL,
                      ((hy_field[]){ HY_NUM("count", (double)count), HY_NUM("size", (double)size) }),
                      "calloc of %zu x %zu bytes overflows", count, size);
        return NULL;
    }
    void *p = hyperionAlloc(count * size, tag);
    if (p) memset(p, 0, count * size);
    return p;
}

/* The header of a live block, or NULL (with the error raised) when ptr is not one. */
static block_header *live_header(void *ptr, const char *operation) {
    block_header *h = (block_header *)((unsigned char *)ptr - HEADER_SIZE);
    if (((uintptr_t)ptr & 63) != 0 || h->magic != BLOCK_MAGIC) {
        int freed = ((uintptr_t)ptr & 63) == 0 && h->magic == FREED_MAGIC;
        HY_RAISE_WITH(HYPERION_CORRUPTION, "this is a bug in the runtime; please report it with the log",
                      ((hy_field[]){ HY_TXT("operation", operation), HY_TXT("kind", freed ? "double-free" : "invalid-free") }),
                      "%s of %p: %s", operation, ptr, freed ? "block already freed (double free)" : "not a block of this allocator");
        hyperionLog(HYPERION_LOG_ERROR, HYPERION_LOG_MEMORY, "%s", hyperionGetLastError()->message);
        return NULL;
    }
    return h;
}

void *hyperionRealloc(void *ptr, size_t size, hyperion_mem_tag tag) {
    if (!ptr) return hyperionAlloc(size, tag);
    block_header *h = live_header(ptr, "realloc");
    if (!h) return NULL;
    void *fresh = hyperionAlloc(size, tag);
    if (!fresh) return NULL;
    memcpy(fresh, ptr, h->size < size ? h->size : size);
    hyperionFree(ptr);
    return fresh;
}

void hyperionFree(void *ptr) {
    if (!ptr) return;
    block_header *h = live_header(ptr, "free");
    if (!h) return;
    note_free(h->size, (hyperion_mem_tag)h->tag);
    h->magic = FREED_MAGIC;
    free((unsigned char *)ptr - h->offset);
}

void hyperionGetMemoryStats(hyperion_memory_stats *s) {
    memset(s, 0, sizeof *s);
    s->in_use_bytes = atomic_load(&M.in_use);
    s->peak_bytes = atomic_load(&M.peak);
    s->active_allocations = atomic_load(&M.active);
    s->total_allocations = atomic_load(&M.total);
    s->total_frees = atomic_load(&M.frees);
    s->failed_allocations = atomic_load(&M.failed);
    s->mapped_bytes = atomic_load(&M.mapped);
    for (int i = 0; i < HYPERION_TAG_COUNT; i++) {
        s->tag_bytes[i] = atomic_load(&M.tag_bytes[i]);
        s->tag_blocks[i] = atomic_load(&M.tag_blocks[i]);
    }
}

void hyperionNoteMappedBytes(int64_t delta) {
    atomic_fetch_add(&M.mapped, (uint64_t)delta);
}
