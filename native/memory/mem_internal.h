/*
 * mem_internal.h — the parts of the memory debugger and how they meet.
 *
 *   alloc.c       public allocation entry points, limit, budgets' charge, counters
 *   config.c      settings, hyperionInitMemory, one-time start, fork safety
 *   meta.c        the allocator's own bookkeeping memory (straight from mmap)
 *   pages.c       the page heap: reserved range, 64 MiB arenas, page runs, page map
 *   slab.c        size classes carved from slab runs
 *   canary.c      canary bytes around blocks; the on-demand corruption check
 *   guard.c       guarded blocks in their own mappings, quarantine, fallback
 *   fault.c       SIGSEGV/SIGBUS handler, alternate signal stacks, chaining
 *   fault_report.c  the handler's async-signal-safe report (stderr + JSON)
 *   elfsym.c      async-signal-safe function names from an ELF symbol table
 *   stack.c       frame-pointer stack walk and the interned stack table
 *   symbolize.c   dladdr + addr2line (cached), for reports made in-process
 *   track.c       the live-block table (id, size, tag, thread, time, stack)
 *   budget.c      per-owner budgets
 *   report.c      text/JSON buffers, stack formatting, leak report, traces
 *   stats.c       debug info, heap stats, RSS
 *   snapshot.c    snapshots and their difference
 *   testing.c     test-only hooks
 *
 * Locks, outermost first: config, guard, size class, page heap, track shard,
 * stack stripe, budget, symbol cache, meta. Nothing logs or raises an error
 * while holding any of them (logging and error callbacks may allocate).
 */
#ifndef HYPERION_MEMORY_INTERNAL_H
#define HYPERION_MEMORY_INTERNAL_H

#include "core/internal.h"

#include <pthread.h>
#include <stdatomic.h>

#define HY_MEM_ARENA_BYTES ((uint64_t)64 << 20)
#define HY_MEM_MAX_FRAMES 32
#define HY_MEM_SMALL_MAX 32768u         /* largest size-class slot */
#define HY_MEM_MAX_ALIGN 4096u

/* ------------------------------------------------------------ the caller */

/* Where a stack walk starts: the frame of the public entry point and the
 * address it returns to (frame #0 of every recorded stack). */
typedef struct hy_caller {
    void *frame;
    void *return_address;
} hy_caller;

#define HY_CALLER_HERE() ((hy_caller){ __builtin_frame_address(0), __builtin_return_address(0) })

/* ---------------------------------------------------------------- settings */

typedef struct hy_mem_settings {
    atomic_int tracking, stacks, guard_mode, guard_underflow, check_corruption;
    atomic_uint_fast64_t limit;
    atomic_uint_fast64_t guard_min_size, guard_rate_q32, guard_alignment, guard_max_mappings;
    atomic_uint_fast64_t quarantine_bytes, quarantine_blocks;
} hy_mem_settings;

extern hy_mem_settings hy_mem_set;
extern atomic_int hy_mem_ready;

/* One-time start: reserve the address range, build the size classes, register
 * the fork handlers. Safe to call from any thread, any number of times. */
void hy_mem_start(void);
static inline void hy_mem_ensure_started(void) {
    if (!atomic_load_explicit(&hy_mem_ready, memory_order_acquire)) hy_mem_start();
}

/* Usage thresholds: check after use changed from before to after (bytes). */
void hy_mem_thresholds_check(uint64_t before, uint64_t after, hyperion_mem_tag tag);
/* Re-arm the thresholds after the limit changed, without firing. */
void hy_mem_thresholds_rearm(void);

/* ---------------------------------------------------------------- counters */

typedef struct hy_mem_counters {
    atomic_uint_fast64_t in_use, peak, active, total, frees, failed, mapped, total_bytes;
    atomic_uint_fast64_t next_id;
    atomic_uint_fast64_t double_frees, invalid_frees, corrupted;
    atomic_uint_fast64_t tag_bytes[HYPERION_TAG_COUNT], tag_blocks[HYPERION_TAG_COUNT];
    atomic_uint_fast64_t tag_peak[HYPERION_TAG_COUNT], tag_total[HYPERION_TAG_COUNT];
} hy_mem_counters;

extern hy_mem_counters hy_mem_count;

/* ------------------------------------------------------------ block facts */

#define HY_BLOCK_LIVE 1u
#define HY_BLOCK_CANARY 2u
#define HY_BLOCK_EVER 4u     /* the slot has held a block: a later free of it is a double free */

/* What a free or a lookup learned about a block. */
typedef struct hy_damage {
    int damaged;             /* 1 when a canary byte differs */
    int side;                /* -1 before the block, +1 after it */
    int64_t offset;          /* of the first bad byte, relative to the block start */
    uint32_t bad_bytes;      /* bad bytes in the checked region */
} hy_damage;

typedef struct hy_block_desc {
    uintptr_t user;
    uint64_t size;           /* requested */
    uint64_t slot_bytes;     /* backing slot or run (guarded: the data pages) */
    uint16_t budget;
    uint8_t tag, flags;
    int guarded;
    hy_damage damage;
} hy_block_desc;

typedef enum hy_free_result {
    HY_FREE_OK = 0,
    HY_FREE_NOT_MINE,        /* not in this part of the allocator: ask the next */
    HY_FREE_DOUBLE,          /* the block was live once and is free now */
    HY_FREE_INVALID          /* never the start of a block */
} hy_free_result;

/* --------------------------------------------------------------- metadata */

/* Zeroed bookkeeping memory from mmap, never from the pool. NULL on failure. */
void *hy_meta_alloc(size_t size);
void hy_meta_free(void *ptr, size_t size);
uint64_t hy_meta_bytes(void);
void hy_meta_fork_lock(int lock);   /* 1: lock before fork; 0: unlock after */

/* ------------------------------------------------------------------- pool */

typedef struct hy_pool_stats {
    uint64_t address_space, reserved, committed, free_bytes, largest_free, slab_free, allocated;
} hy_pool_stats;

int hy_pool_start(void);                                   /* 0 ok, -1 no address space */
int hy_pool_reserve(uint64_t bytes);                       /* grow arenas to >= bytes; 0 ok */
void *hy_pool_alloc(size_t size, size_t align, int canary, uint8_t tag, uint16_t budget, hy_block_desc *out);
hy_free_result hy_pool_free(uintptr_t ptr, hy_block_desc *out);
int hy_pool_contains(uintptr_t ptr);                       /* inside the reserved range */
int hy_pool_describe(uintptr_t ptr, hy_block_desc *out);   /* 1 when ptr starts a live block */
void hy_pool_get_stats(hy_pool_stats *out);
uint64_t hy_pool_largest_free(double *external_fragmentation);
void hy_pool_fork_lock(int lock);

/* Walk the live blocks that carry canaries; fn runs under the owning lock and
 * must not allocate through the pool. */
typedef void (*hy_pool_visit_fn)(const hy_block_desc *block, void *user);
void hy_pool_visit_canaries(hy_pool_visit_fn fn, void *user);

/* -------------------------------------------------------------- canaries */

#define HY_CANARY_FRONT 64u      /* bytes before an unguarded block with canaries */
#define HY_CANARY_REAR_MIN 16u   /* at least this many after it */
#define HY_CANARY_MAX 256u       /* at most this many checked on either side */
#define HY_CANARY_BYTE 0xCBu

void hy_canary_fill(uintptr_t user, uint64_t size, size_t front, size_t rear);
int hy_canary_check(uintptr_t user, uint64_t size, size_t front, size_t rear, hy_damage *damage);

/* ---------------------------------------------------------------- guards */

typedef struct hy_guard_view {
    uintptr_t user, map_base;
    uint64_t size, map_len, id, alloc_time, free_time;
    uint32_t alloc_stack, free_stack, alloc_thread, free_thread;
    uint8_t tag, quarantined, underflow;
} hy_guard_view;

int hy_guard_wanted(size_t size);
/* NULL when the block must go unguarded; *reason says why (see guard.c). */
void *hy_guard_alloc(size_t size, size_t align, uint8_t tag, uint16_t budget, uint64_t id, uint32_t stack,
                     int *reason);
hy_free_result hy_guard_free(uintptr_t ptr, const hy_caller *caller, hy_block_desc *out, hy_guard_view *seen);
int hy_guard_describe(uintptr_t ptr, hy_block_desc *out);
int hy_guard_find_id(uint64_t id, hy_guard_view *out);
void hy_guard_apply_settings(void);                        /* trim or drain the quarantine */
void hy_guard_visit_slack(hy_pool_visit_fn fn, void *user);
int hy_guard_any(void);                                    /* any guard record (live or quarantined) */
uint64_t hy_guard_note_fallback(void);                     /* count a block left unguarded; the count */
void hy_guard_fork_lock(int lock);
const char *hy_guard_reason_text(int reason);

typedef struct hy_guard_stats {
    uint64_t live_blocks, live_bytes, quarantined_blocks, quarantined_bytes, mapped_bytes, mappings, fallbacks;
} hy_guard_stats;
void hy_guard_get_stats(hy_guard_stats *out);

/* Lock-free for the fault handler: the record whose mapping holds addr. */
int hy_guard_find_fault(uintptr_t addr, hy_guard_view *out);
extern atomic_uint hy_guard_test_failures;

/* ------------------------------------------------------------ fault handler */

void hy_fault_install(void);                 /* idempotent */
void hy_fault_prepare_thread(void);          /* alternate signal stack for the calling thread */
void hy_fault_set_report_path(const char *template_path);
void hy_fault_note_executable(void);
/* Async-signal-safe: write the report of a fault at addr in view's mapping. */
void hy_fault_report(int sig, uintptr_t addr, const hy_guard_view *view, void *ucontext);

/* ------------------------------------------------------------------ ELF */

/* Async-signal-safe: the function containing address in the ELF file at path
 * loaded at base (dli_fbase). Writes its name (truncated) and returns 1. */
int hy_elf_function_name(const char *path, uintptr_t base, uintptr_t address, char *name, size_t size);
/* Async-signal-safe: address - bias is what the file's tables (and addr2line) use. 0 ok. */
int hy_elf_load_bias(const char *path, uintptr_t base, uintptr_t *bias);

/* ---------------------------------------------------------------- stacks */

int hy_stack_capture(const hy_caller *caller, uintptr_t *frames, int max);
uint32_t hy_stack_intern(const uintptr_t *frames, int depth);   /* 0 when depth is 0 or no memory */
uint32_t hy_stack_capture_id(const hy_caller *caller);
int hy_stack_frames(uint32_t id, const uintptr_t **frames);     /* lock-free; the depth, 0 for unknown */
uint64_t hy_stack_count(void);
int hy_stack_thread_bounds(uintptr_t *low, uintptr_t *high);    /* cached per thread; 0 when unknown */
int hy_stack_cached_bounds(uintptr_t *low, uintptr_t *high);    /* async-signal-safe: only the cache */
void hy_stack_fork_lock(int lock);

/* ----------------------------------------------------------- symbolizing */

typedef struct hy_symbol {
    uintptr_t address;
    uint64_t module_offset;
    int line;                /* 0 when unknown */
    char module[512];        /* path of the executable or library ("" when unknown) */
    char function[192];      /* "" when unknown */
    char file[192];          /* source file ("" when unknown) */
} hy_symbol;

/* Symbolize addresses (return addresses: looked up at address - 1). Never fails. */
void hy_symbolize(const uintptr_t *addresses, int count, hy_symbol *out);
void hy_symbolize_fork_lock(int lock);
/* Symbolize every frame of these stacks in few addr2line runs (reports call
 * it before formatting many stacks). */
void hy_symbolize_prefetch(const uint32_t *stack_ids, size_t count);

/* ------------------------------------------------------------- tracking */

typedef struct hy_track_rec {
    uintptr_t ptr;
    uint64_t size, id, time_ns;
    uint32_t thread, stack;
    uint16_t budget;
    uint8_t tag, guarded;
} hy_track_rec;

void hy_track_insert(const hy_track_rec *rec);
int hy_track_remove(uintptr_t ptr, hy_track_rec *out);
int hy_track_find_id(uint64_t id, hy_track_rec *out);
int hy_track_find_ptr(uintptr_t ptr, hy_track_rec *out);
/* Copy every record into an array from hy_meta_alloc (*bytes to free it). */
size_t hy_track_copy(hy_track_rec **out, size_t *bytes);
uint64_t hy_track_count(void);
uint64_t hy_track_bytes(void);
void hy_track_fork_lock(int lock);

/* --------------------------------------------------------------- budgets */

/* Charge size to budget and each ancestor; on refusal (-1) nothing stays
 * charged and *in_use, *limit, *refused describe the level that refused. */
int hy_budget_charge(hy_mem_budget *budget, uint64_t size, uint64_t *in_use, uint64_t *limit, uint16_t *refused);
/* After the charged block exists: fire the rising thresholds of the chain. */
void hy_budget_charged(uint16_t index, hyperion_mem_tag tag);
/* Uncharge the chain (falling thresholds fire) and drop the block's reference. */
void hy_budget_uncharge(uint16_t index, uint64_t size, hyperion_mem_tag tag);
/* 1 when the budget at index is ancestor or one of its descendants. */
int hy_budget_descends(uint16_t index, uint16_t ancestor);
uint16_t hy_budget_index(const hy_mem_budget *budget);
hy_mem_budget *hy_budget_at(uint16_t index);   /* alive while a block charged to it is */
void hy_budget_adjust(uint16_t index, int64_t delta);   /* in-use only (realloc's credit) */
void hy_budget_name(uint16_t index, char *out, size_t size);
void hy_budget_fork_lock(int lock);

/* ---------------------------------------------------------- front end */

#define HY_ALLOC_INTERNAL 1u      /* the debugger's own: no limit, no fault injection, no guard, no canary */

void *hy_mem_allocate(size_t size, size_t align, hyperion_mem_tag tag, hy_mem_budget *budget,
                      const hy_caller *caller, unsigned flags);
void hy_mem_release(void *ptr, const hy_caller *caller);
/* Live block facts for ptr (pool or guard), 1 when it is one. */
int hy_mem_describe(uintptr_t ptr, hy_block_desc *out);

/* Log from the allocator: never re-entered on one thread, never for blocks
 * tagged logging. Call with no allocator lock held. */
void hy_mem_log(hyperion_log_level level, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* "1.50 MiB", "511.2 MiB", "100 B". */
void hy_mem_format_bytes(uint64_t bytes, char *out, size_t size);

/* Test hooks read by the front end: count an attempt; 1 when it must fail. */
int hy_mem_test_attempt(void);

/* --------------------------------------------------------- report text */

typedef struct hy_strbuf {
    char *data;
    size_t length, capacity;
    int failed;
} hy_strbuf;

void hy_sb_init(hy_strbuf *sb);
void hy_sb_append(hy_strbuf *sb, const char *text, size_t length);
void hy_sb_printf(hy_strbuf *sb, const char *format, ...) __attribute__((format(printf, 2, 3)));
void hy_sb_json_string(hy_strbuf *sb, const char *text);   /* quoted and escaped */
/* Hand over the text (caller frees with hyperionFree); NULL and the buffer
 * freed when an append failed. */
char *hy_sb_take(hy_strbuf *sb);
void hy_sb_discard(hy_strbuf *sb);

/* Append a symbolized stack: text lines "    #0 0x... in fn file:line (module+0x..)" or a JSON array. */
void hy_report_stack_text(hy_strbuf *sb, uint32_t stack_id);
void hy_report_stack_json(hy_strbuf *sb, uint32_t stack_id);
/* Give each non-NULL out pointer its buffer (or NULL); status for the caller. */
hyperion_status hy_report_finish(hy_strbuf *text, char **text_out, hy_strbuf *json, char **json_out);

#endif
