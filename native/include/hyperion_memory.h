/*
 * hyperion_memory.h — the runtime's native allocator.
 *
 * Every native heap allocation of the runtime goes through hyperionAlloc with a
 * tag, so that limits, tracking, leak reports and heap statistics see all of it.
 * Model weights are not allocated here: they are memory-mapped read-only and
 * reported apart (hyperion_memory_stats.mapped_bytes).
 */
#ifndef HYPERION_MEMORY_H
#define HYPERION_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What a block is for. Append only; names in hyperionTagName. */
typedef enum hyperion_mem_tag {
    HYPERION_TAG_OTHER = 0,
    HYPERION_TAG_KV_CACHE,
    HYPERION_TAG_ACTIVATIONS,
    HYPERION_TAG_SCRATCH,
    HYPERION_TAG_REPACKED_WEIGHTS,
    HYPERION_TAG_TOKENIZER,
    HYPERION_TAG_SAMPLER,
    HYPERION_TAG_MODEL,        /* model metadata, tensor tables, GGUF parse results */
    HYPERION_TAG_SESSION,
    HYPERION_TAG_PROFILER,
    HYPERION_TAG_LOGGING,
    HYPERION_TAG_BINDING,      /* the Node addon's own buffers */
    HYPERION_TAG_TEST,         /* allocations made by tests and test hooks */
    HYPERION_TAG_COUNT
} hyperion_mem_tag;

/* "kv-cache", "activations", ... Static string; "unknown" outside the enum. */
const char *hyperionTagName(hyperion_mem_tag tag);

/* Allocate size bytes aligned to 64 bytes. Returns NULL on failure with the
 * last error set: HYPERION_MEMORY_LIMIT when the pool's limit would be passed
 * (fields requested, in_use, limit, available), HYPERION_OUT_OF_MEMORY when the
 * system refused, HYPERION_INVALID_ARGUMENT for size 0 or a bad tag. The caller
 * owns the block and releases it with hyperionFree. */
void *hyperionAlloc(size_t size, hyperion_mem_tag tag);

/* As hyperionAlloc, zero-filled; count * size is checked for overflow. */
void *hyperionCalloc(size_t count, size_t size, hyperion_mem_tag tag);

/* As hyperionAlloc with a larger power-of-two alignment (at most 4096). */
void *hyperionAllocAligned(size_t size, size_t alignment, hyperion_mem_tag tag);

/* Resize a block keeping its tag; NULL ptr allocates. On failure returns NULL,
 * sets the last error and leaves the old block untouched. */
void *hyperionRealloc(void *ptr, size_t size, hyperion_mem_tag tag);

/* Release a block from hyperionAlloc/Calloc/AllocAligned/Realloc. NULL is a
 * no-op. A pointer that is not a live block is reported, never freed. */
void hyperionFree(void *ptr);

typedef struct hyperion_memory_stats {
    uint64_t in_use_bytes;          /* bytes requested by live blocks */
    uint64_t peak_bytes;            /* high-water mark of in_use_bytes */
    uint64_t active_allocations;    /* live blocks */
    uint64_t total_allocations;     /* blocks ever allocated */
    uint64_t total_frees;
    uint64_t failed_allocations;    /* requests refused (limit or system) */
    uint64_t limit_bytes;           /* 0 = unlimited */
    uint64_t mapped_bytes;          /* read-only model mappings, reported apart */
    uint64_t tag_bytes[HYPERION_TAG_COUNT];
    uint64_t tag_blocks[HYPERION_TAG_COUNT];
} hyperion_memory_stats;

/* Copy the allocator's counters into *stats. */
void hyperionGetMemoryStats(hyperion_memory_stats *stats);

/* Account for (positive) or release (negative) read-only mapped bytes, so the
 * reports can show model weights apart from the pool. */
void hyperionNoteMappedBytes(int64_t delta);

#ifdef __cplusplus
}
#endif

#endif /* HYPERION_MEMORY_H */
