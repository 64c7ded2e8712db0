/*
 * hyperion_memory.h — the runtime's native allocator and memory debugger.
 *
 * Every native heap allocation of the runtime goes through hyperionAlloc with a
 * tag, so that limits, tracking, leak reports and heap statistics see all of it.
 * Model weights are not allocated here: they are memory-mapped read-only and
 * reported apart (hyperion_memory_stats.mapped_bytes).
 *
 * The pool: size classes (64 B .. 32 KiB) carved from slabs, page runs for
 * larger blocks, all inside one address range reserved with mmap and committed
 * in 64 MiB arenas. Block metadata lives outside the blocks, so a stray write
 * cannot corrupt the allocator and a double or invalid free is recognised from
 * the metadata alone (freed memory is never read).
 *
 * The debugger (all optional, all switchable at run time through
 * hyperionInitMemory): a hard limit, usage thresholds, per-owner budgets, a
 * live-block table with stacks, leak reports grouped by stack, heap statistics,
 * snapshots and their difference, canaries, and guard pages with a fault
 * handler that writes an AddressSanitizer-style report.
 *
 * Report functions return text and/or JSON strings allocated from the pool
 * (tag "memory-debugger", exempt from the limit); the caller frees each with
 * hyperionFree. JSON is one object, UTF-8, no trailing newline. Nothing hands
 * a raw pointer to the caller as an identifier: blocks are named by their
 * allocation sequence number ("id").
 */
#ifndef HYPERION_MEMORY_H
#define HYPERION_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#ifndef HYPERION_H
/* The status codes live in hyperion.h, which includes this header at its end. */
#include "hyperion.h"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ tags */

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
    HYPERION_TAG_LOGGING,      /* exempt from the limit; never logs from inside the allocator (the logger may hold its lock) */
    HYPERION_TAG_BINDING,      /* the Node addon's own buffers */
    HYPERION_TAG_TEST,         /* allocations made by tests and test hooks */
    HYPERION_TAG_DEBUGGER,     /* reports and snapshots of the memory debugger; exempt from the limit */
    HYPERION_TAG_COUNT
} hyperion_mem_tag;

/* "kv-cache", "activations", ... Static string; "unknown" outside the enum. */
const char *hyperionTagName(hyperion_mem_tag tag);

/* ------------------------------------------------------------ allocation */

/* Allocate size bytes aligned to 64 bytes. Returns NULL on failure with the
 * last error set: HYPERION_MEMORY_LIMIT when the pool's limit would be passed
 * (fields requested, inUse, limit, available, largestFreeBlock,
 * fragmentation, tag), HYPERION_OUT_OF_MEMORY when the system refused (or a
 * test injected the failure: field "injected" = 1), HYPERION_INVALID_ARGUMENT
 * for size 0 or a bad tag. The caller owns the block and releases it with
 * hyperionFree.
 * Guard-page mode: a guarded block ends exactly at its guard page, so its start
 * is aligned to the largest power of two dividing size (at most 64; arrays of T
 * stay T-aligned) or to guard_alignment when that is larger. Code that needs 64
 * bytes for any size asks for it with hyperionAllocAligned. */
void *hyperionAlloc(size_t size, hyperion_mem_tag tag);

/* As hyperionAlloc, zero-filled; count * size is checked for overflow. */
void *hyperionCalloc(size_t count, size_t size, hyperion_mem_tag tag);

/* As hyperionAlloc with a power-of-two alignment (at most 4096; smaller values
 * give 64 except for guarded blocks, see above). */
void *hyperionAllocAligned(size_t size, size_t alignment, hyperion_mem_tag tag);

/* Resize a block: a new block with the given tag (and the old block's budget)
 * receives the common prefix, then the old one is freed. NULL ptr allocates.
 * On failure returns NULL, sets the last error and leaves the old block
 * untouched. Only the growth is held against the limit and the budget. */
void *hyperionRealloc(void *ptr, size_t size, hyperion_mem_tag tag);

/* Release a block from any allocation function here. NULL is a no-op. A
 * pointer that is not a live block (double free, invalid free) is reported
 * (last error HYPERION_CORRUPTION, an error log line, a counter) and never
 * freed. A block whose canaries are damaged is reported the same way, then
 * freed (its metadata lives outside the block and is intact). */
void hyperionFree(void *ptr);

/* Give the pages of freed blocks back to the system now: the pool's free page
 * runs, largest first, are released (madvise MADV_DONTNEED; the address range
 * stays reserved and is reused) until at most keep_bytes of freed pages stay
 * resident. Returns the bytes released. Live blocks, slab slots and guarded
 * blocks (own mappings) are untouched; the next allocation of released pages
 * costs their page faults and zero-filling again.
 * The pool does this by itself when more than 64 MiB of freed pages pile up
 * (keeping 32 MiB for blocks that come back soon); call it after freeing large
 * buffers that will not be needed for a while (a model context does, when a
 * decode step follows its prompt), so the process's RSS drops at once.
 * Thread-safe (takes the page heap's lock); never fails. */
uint64_t hyperionTrimMemory(uint64_t keep_bytes);

/* ------------------------------------------------------- basic counters */

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

/* Copy the allocator's counters into *stats. Cheap (atomic loads only). */
void hyperionGetMemoryStats(hyperion_memory_stats *stats);

/* Account for (positive) or release (negative) read-only mapped bytes, so the
 * reports can show model weights apart from the pool. */
void hyperionNoteMappedBytes(int64_t delta);

/* --------------------------------------------------------- configuration */

typedef enum hyperion_guard_mode {
    HYPERION_GUARD_OFF = 0,
    HYPERION_GUARD_ALL = 1,         /* every block of at least guard_min_size */
    HYPERION_GUARD_SAMPLED = 2      /* each such block with probability guard_sample_rate */
} hyperion_guard_mode;

#define HYPERION_MEMORY_MAX_THRESHOLDS 8
#define HYPERION_MEMORY_PATH_MAX 1024

typedef struct hyperion_memory_config {
    uint64_t initial_pool_size;     /* bytes of arenas reserved up front (rounded up to 64 MiB); 0 = on demand */
    uint64_t max_pool_size;         /* limit on the bytes requested by live blocks; 0 = unlimited */
    int track_allocations;          /* 1: keep the live-block table (leak reports, snapshots, ids) */
    int track_stack_traces;         /* 1: record each tracked block's stack (implies track_allocations) */
    hyperion_guard_mode guard_mode;
    double guard_sample_rate;       /* (0, 1]; used in HYPERION_GUARD_SAMPLED */
    uint64_t guard_min_size;        /* smaller blocks are never guarded; 0 = all sizes */
    int guard_underflow;            /* 1: the guard page precedes the block (underflows fault) */
    uint32_t guard_alignment;       /* minimum start alignment of guarded blocks, power of two <= 4096; 0 = 1 */
    uint64_t guard_max_mappings;    /* memory mappings the guard mode may hold; 0 = half of vm.max_map_count */
    uint64_t quarantine_bytes;      /* freed guarded blocks kept inaccessible (use-after-free faults) */
    uint32_t quarantine_blocks;     /* and at most this many of them */
    int check_corruption;           /* 1: canaries around unguarded blocks, checked on free and on demand */
    char report_path[HYPERION_MEMORY_PATH_MAX]; /* JSON fault report; "%p" becomes the pid; "" = $TMPDIR/hyperion-memory-fault-%p.json */
    uint32_t threshold_count;       /* usage thresholds as fractions of max_pool_size, ascending, in (0, 1] */
    double thresholds[HYPERION_MEMORY_MAX_THRESHOLDS];
} hyperion_memory_config;

/* Fill *config with the defaults: no initial reservation, unlimited, no
 * tracking, no stacks, guard pages off (sampled rate 0.01 when turned on, no
 * minimum size, overflow side, alignment 1, automatic mapping budget),
 * quarantine 64 MiB / 4096 blocks, no canaries, default report path,
 * thresholds 0.80 and 0.95. */
void hyperionMemoryConfigDefaults(hyperion_memory_config *config);

/* Apply a configuration; NULL applies the defaults. Callable at any time:
 * live blocks are kept (a block keeps the guard/canary/tracking state it was
 * allocated with), the limit may be lowered below current use (later requests
 * fail until use drops), turning guard mode off releases the quarantine.
 * Fails with HYPERION_INVALID_ARGUMENT naming the field (the previous settings
 * stay in force) or HYPERION_OUT_OF_MEMORY when initial_pool_size cannot be
 * reserved. Installs the fault handler when guard mode is first turned on. */
hyperion_status hyperionInitMemory(const hyperion_memory_config *config);

/* The settings in force. */
void hyperionGetMemoryConfig(hyperion_memory_config *config);

/* Turn stack recording on or off (turning it on also turns on tracking). */
hyperion_status hyperionEnableStackTraces(int on);

/* ------------------------------------------------------ usage thresholds */

typedef struct hyperion_memory_usage_event {
    double threshold;               /* the configured fraction crossed */
    int rising;                     /* 1: use went up through it; 0: back below (with 5% hysteresis) */
    uint64_t in_use_bytes;
    uint64_t limit_bytes;
    hyperion_mem_tag tag;           /* tag of the allocation or free that crossed it */
} hyperion_memory_usage_event;

/* Called on the allocating (or freeing) thread, with no allocator lock held;
 * it may allocate. It must not block for long. */
typedef void (*hyperion_memory_usage_callback)(const hyperion_memory_usage_event *event, void *user_data);

/* Install (or with NULL remove) the usage callback. */
void hyperionSetMemoryUsageCallback(hyperion_memory_usage_callback callback, void *user_data);

/* --------------------------------------------------------------- budgets */

/* An accounting owner (a model, a session) with its own limit below the
 * global one. Blocks charged to a budget count against both. */
typedef struct hy_mem_budget hy_mem_budget;

typedef struct hyperion_memory_budget_usage {
    char name[64];
    uint64_t limit_bytes;           /* 0 = unlimited (accounting only) */
    uint64_t in_use_bytes;
    uint64_t peak_bytes;
    uint64_t active_allocations;
    uint64_t failed_allocations;    /* refused by this budget's limit */
} hyperion_memory_budget_usage;

/* Create a budget named name (copied, at most 63 bytes kept) with a limit in
 * bytes (0 = unlimited). Errors: HYPERION_INVALID_ARGUMENT (NULL out/name),
 * HYPERION_OUT_OF_MEMORY (more than 65535 budgets alive). */
hyperion_status hyperionCreateMemoryBudget(const char *name, uint64_t limit_bytes, hy_mem_budget **out);

/* Budgets nest at most this many levels (a model's, its sessions'). */
#define HYPERION_MEMORY_BUDGET_MAX_DEPTH 4

/* Create a budget inside parent: a block charged to it is charged to parent
 * (and its ancestors) too, so it counts against every limit up the chain; a
 * refusal names the level that refused (field "budget"). The child holds a
 * reference on parent until the child is gone. A leak filter naming parent
 * also matches the child's blocks. Errors: as hyperionCreateMemoryBudget, and
 * HYPERION_INVALID_ARGUMENT (parent NULL, or nesting deeper than
 * HYPERION_MEMORY_BUDGET_MAX_DEPTH). */
hyperion_status hyperionCreateChildMemoryBudget(const char *name, uint64_t limit_bytes, hy_mem_budget *parent,
                                                hy_mem_budget **out);

/* Change a budget's limit (may go below its use: later requests fail). Its
 * thresholds are re-armed against the new limit without firing. */
hyperion_status hyperionSetMemoryBudgetLimit(hy_mem_budget *budget, uint64_t limit_bytes);

/* Usage thresholds of one budget: callback(event, user_data) runs when the
 * budget's use rises through thresholds[i] x its limit, or falls back below
 * it (5% hysteresis); event.limit_bytes is the budget's limit. Nothing fires
 * while the budget has no limit. It runs on the allocating or freeing thread
 * with no allocator lock held and must not block; allocations it makes
 * trigger no budget callback. callback NULL removes it: once this returns, no
 * call is running or will start. thresholds: 1..8 ascending fractions in
 * (0, 1] (copied). Errors: HYPERION_INVALID_ARGUMENT naming "thresholds". */
hyperion_status hyperionSetMemoryBudgetCallback(hy_mem_budget *budget, const double *thresholds, uint32_t count,
                                                hyperion_memory_usage_callback callback, void *user_data);

/* Copy a budget's figures into *usage. */
void hyperionGetMemoryBudgetUsage(const hy_mem_budget *budget, hyperion_memory_budget_usage *usage);

/* Give up the handle. Blocks still charged to it stay charged (and keep it
 * alive internally) until they are freed. NULL is a no-op. */
void hyperionReleaseMemoryBudget(hy_mem_budget *budget);

/* Charge the calling thread's allocations that name no budget (hyperionAlloc,
 * Calloc, AllocAligned, Realloc) to budget from now on; NULL ends it. Returns
 * the previous one, so scopes nest: save it and put it back. Blocks tagged
 * logging, profiler, binding or memory-debugger are never charged this way
 * (they belong to the process, not to the owner at work). The caller keeps the
 * budget's handle for as long as the scope lasts. */
hy_mem_budget *hyperionSetThreadMemoryBudget(hy_mem_budget *budget);

/* As hyperionAlloc / AllocAligned / Calloc, charged to budget (NULL = none).
 * Over the budget's limit: HYPERION_MEMORY_LIMIT with the budget's figures and
 * a field "budget" with its name. */
void *hyperionAllocBudget(size_t size, hyperion_mem_tag tag, hy_mem_budget *budget);
void *hyperionAllocAlignedBudget(size_t size, size_t alignment, hyperion_mem_tag tag, hy_mem_budget *budget);
void *hyperionCallocBudget(size_t count, size_t size, hyperion_mem_tag tag, hy_mem_budget *budget);

/* ------------------------------------------------------------ debug info */

typedef struct hyperion_memory_tag_info {
    uint64_t bytes, blocks, peak_bytes, total_allocations;
} hyperion_memory_tag_info;

typedef struct hyperion_memory_debug_info {
    int tracking, stack_traces, check_corruption;
    hyperion_guard_mode guard_mode;
    uint64_t active_allocations, total_allocations, total_frees, failed_allocations;
    uint64_t in_use_bytes, peak_bytes, total_allocated_bytes, limit_bytes;
    uint64_t tracked_blocks, tracked_bytes;    /* live blocks in the table (allocated while tracking) */
    uint64_t unique_stacks;
    uint64_t next_id;                          /* ids are increasing (not dense): a leak filter's min_id */
    uint64_t guarded_blocks, guarded_bytes, quarantined_blocks, quarantined_bytes;
    uint64_t guard_mappings, guard_fallbacks;  /* mappings held; blocks left unguarded for lack of them */
    uint64_t double_frees, invalid_frees, corrupted_blocks;
    hyperion_memory_tag_info tags[HYPERION_TAG_COUNT];
} hyperion_memory_debug_info;

/* Copy the debugger's counters into *info. */
void hyperionGetMemoryDebugInfo(hyperion_memory_debug_info *info);

/* The allocation record of a live tracked block (or a freed guarded block still
 * in quarantine): id, size, tag, thread, time, and the symbolized allocation
 * (and free) stack. *text and/or *json (either may be NULL) receive strings the
 * caller frees with hyperionFree. HYPERION_INVALID_ARGUMENT (field "id") when
 * no such block is known. */
hyperion_status hyperionGetAllocationTrace(uint64_t id, char **text, char **json);

/* ----------------------------------------------------------- leak report */

typedef struct hyperion_leak_filter {
    uint64_t min_id;                /* only blocks with id >= min_id (0 = all) */
    const hy_mem_budget *budget;    /* only blocks charged to this budget (NULL = any) */
    uint32_t tag_mask;              /* bit (1 << tag) per tag to include; 0 = all tags */
    uint32_t max_groups;            /* groups written to the report; 0 = all */
} hyperion_leak_filter;

typedef struct hyperion_leak_summary {
    uint64_t bytes, blocks, groups; /* live tracked blocks that pass the filter */
    uint64_t untracked_blocks;      /* live blocks allocated while tracking was off (not inspectable) */
} hyperion_leak_summary;

/* Group the live tracked blocks that pass filter (NULL = all) by allocation
 * stack and tag, largest first, like LeakSanitizer: "N bytes in M blocks
 * allocated from: #0 ... #1 ...". Any of summary/text/json may be NULL.
 * Never fails for lack of tracking: the summary then says what is unknown. */
hyperion_status hyperionCheckMemoryLeaks(const hyperion_leak_filter *filter, hyperion_leak_summary *summary,
                                         char **text, char **json);

/* ------------------------------------------------------------- heap stats */

typedef struct hyperion_heap_stats {
    uint64_t address_space_bytes;   /* virtual range reserved for the pool (inaccessible until committed) */
    uint64_t reserved_bytes;        /* arenas taken from that range */
    uint64_t committed_bytes;       /* arena pages that may be resident: in use + dirty free pages */
    uint64_t in_use_bytes;          /* requested by live blocks */
    uint64_t allocated_bytes;       /* slots and page runs backing live blocks */
    uint64_t peak_bytes;
    uint64_t limit_bytes;
    uint64_t free_bytes;            /* free page runs inside the arenas */
    uint64_t largest_free_block;    /* largest free page run */
    uint64_t slab_free_bytes;       /* free slots in slabs */
    double fragmentation_internal;  /* inside blocks: 1 - in_use / allocated (rounding, canaries) */
    double fragmentation_external;  /* between free blocks: 1 - largest free / total free */
    double fragmentation_reserved;  /* reserved but unused: 1 - allocated / reserved */
    uint64_t metadata_bytes;        /* the allocator's own bookkeeping */
    uint64_t guard_mapped_bytes;    /* mappings of guarded blocks (guard pages included) */
    uint64_t quarantine_bytes;      /* of which freed blocks in quarantine */
    uint64_t mapped_bytes;          /* model weights mapped read-only (hyperionNoteMappedBytes) */
    uint64_t mapped_resident_bytes; /* estimate: min(mapped, process file-backed RSS) */
    int rss_known;                  /* 1 when the figures below were read */
    uint64_t rss_bytes, rss_anon_bytes, rss_file_bytes, rss_shmem_bytes;
    hyperion_memory_tag_info tags[HYPERION_TAG_COUNT];
} hyperion_heap_stats;

/* Fill *stats. Takes each allocator lock briefly; reads /proc/self/smaps_rollup
 * (or /proc/self/statm) for the RSS. */
void hyperionGetHeapStats(hyperion_heap_stats *stats);

/* ------------------------------------------------------------- snapshots */

/* The live tracked blocks at one moment, aggregated by allocation site
 * (stack + tag), plus the per-tag counters. Owned by the caller. */
typedef struct hy_mem_snapshot hy_mem_snapshot;

/* Take a snapshot (blocks tagged memory-debugger are left out). */
hyperion_status hyperionTakeMemorySnapshot(hy_mem_snapshot **out);

/* Free a snapshot. NULL is a no-op. */
void hyperionFreeMemorySnapshot(hy_mem_snapshot *snapshot);

/* The difference after - before by site, largest growth first (like Python's
 * tracemalloc compare_to): "site: size=X (+Y), count=N (+M)". top limits the
 * sites listed (0 = all). Sites are symbolized. Any of text/json may be NULL. */
hyperion_status hyperionCompareMemorySnapshots(const hy_mem_snapshot *before, const hy_mem_snapshot *after,
                                               uint32_t top, char **text, char **json);

/* ------------------------------------------------------ corruption check */

typedef struct hyperion_corruption_summary {
    uint64_t checked_blocks;        /* live blocks that carry canaries or guard slack */
    uint64_t damaged_blocks;
} hyperion_corruption_summary;

/* Check the canaries of every live block that has them (and the slack of
 * guarded blocks). Damaged blocks are listed with tag, id, side and offset of
 * the first bad byte, and allocation stack when tracked. Returns HYPERION_OK
 * when the check ran (damage is in the summary, not the status). */
hyperion_status hyperionCheckCorruption(hyperion_corruption_summary *summary, char **text, char **json);

/* ------------------------------------------------------ test-only hooks
 * Compiled in always and cheap when unused; for tests only, never for product
 * code paths. */

/* Allocate size bytes tagged tag from the native function
 * hyperion_test_leaky_allocation (so a leak report's stack names it) and keep
 * it alive. Returns its block id (0 on failure, last error set). With tracking
 * off it returns a handle that only hyperionTestReleasePlantedLeak accepts. */
uint64_t hyperionTestPlantLeak(size_t size, hyperion_mem_tag tag);

/* Free a block planted by hyperionTestPlantLeak. HYPERION_INVALID_ARGUMENT for
 * an unknown id. */
hyperion_status hyperionTestReleasePlantedLeak(uint64_t id);

/* Make the n-th allocation from now fail with HYPERION_OUT_OF_MEMORY (field
 * "injected" = 1); n = 0 disarms. all_threads = 0 counts only allocations of
 * the calling thread. Allocations of the debugger itself are not counted. */
void hyperionTestFailAllocation(uint64_t n, int all_threads);

/* Allocation attempts made by the calling thread so far (successful or not),
 * so a test can measure an operation and walk n over each of its allocations. */
uint64_t hyperionTestAllocationAttempts(void);

/* Allocation attempts made by every thread so far: the count to walk n over
 * with hyperionTestFailAllocation(n, 1) when an operation spans threads (a
 * load on its job thread, a generation on its session thread). */
uint64_t hyperionTestAllocationAttemptsAllThreads(void);

/* Make the next count guard-page mappings fail as if the system had run out
 * of mappings (the blocks degrade to unguarded ones). */
void hyperionTestFailGuardMappings(uint32_t count);

#ifdef __cplusplus
}
#endif

#endif /* HYPERION_MEMORY_H */
