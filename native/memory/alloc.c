/*
 * alloc.c — the allocator's public entry points: hyperionAlloc and friends.
 *
 * One path for every allocation: validate, count the attempt (test fault
 * injection), charge the global limit and the block's budget, pick guarded or
 * pooled, record the block (tracking, stack), check the usage thresholds.
 * Nothing here holds a lock while it raises an error or logs: the pool's
 * locks are taken and released inside the pool calls.
 *
 * Each public function passes its own frame to the stack walk, so frame #0 of
 * a recorded stack is the caller's call site whatever inlining happened in
 * here.
 */
#include "mem_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

hy_mem_counters hy_mem_count;

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
    [HYPERION_TAG_DEBUGGER] = "memory-debugger",
};

const char *hyperionTagName(hyperion_mem_tag tag) {
    return (unsigned)tag < HYPERION_TAG_COUNT ? tag_names[tag] : "unknown";
}

/* --------------------------------------------------------------- helpers */

void hy_mem_format_bytes(uint64_t bytes, char *out, size_t size) {
    static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
    if (bytes < 1024) {
        snprintf(out, size, "%llu B", (unsigned long long)bytes);
        return;
    }
    double v = (double)bytes / 1024.0;
    int u = 0;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        u++;
    }
    snprintf(out, size, v < 10.0 ? "%.2f %s" : "%.1f %s", v, units[u]);
}

static _Thread_local int in_mem_log;

void hy_mem_log(hyperion_log_level level, const char *format, ...) {
    if (in_mem_log || !hyperionLogEnabled(level, HYPERION_LOG_MEMORY)) return;
    in_mem_log = 1;
    va_list args;
    va_start(args, format);
    hyperionLogV(level, HYPERION_LOG_MEMORY, format, args);
    va_end(args);
    in_mem_log = 0;
}

/* Log a multi-line report as records of at most ~1000 bytes, cut at lines. */
static void log_lines(hyperion_log_level level, const char *text) {
    while (text && *text) {
        size_t n = strlen(text), cut = n;
        if (n > 1000) {
            cut = 1000;
            while (cut > 0 && text[cut - 1] != '\n') cut--;
            if (cut == 0) cut = 1000;
        }
        size_t shown = cut;
        while (shown > 0 && text[shown - 1] == '\n') shown--;
        hy_mem_log(level, "%.*s", (int)shown, text);
        text += cut;
    }
}

/* ------------------------------------------------------------- counting */

static void raise_peak(atomic_uint_fast64_t *peak, uint64_t now) {
    uint64_t p = atomic_load_explicit(peak, memory_order_relaxed);
    while (now > p && !atomic_compare_exchange_weak(peak, &p, now)) {}
}

/* Charge size against the limit (unless exempt). 0 ok; -1 refused, with the
 * use seen in *seen. */
static int charge(uint64_t size, int exempt, uint64_t *seen, uint64_t *limit_out) {
    uint64_t limit = atomic_load_explicit(&hy_mem_set.limit, memory_order_relaxed);
    uint64_t cur = atomic_load_explicit(&hy_mem_count.in_use, memory_order_relaxed);
    *limit_out = limit;
    for (;;) {
        if (!exempt && limit && (size > limit || cur > limit - size)) {
            *seen = cur;
            return -1;
        }
        if (atomic_compare_exchange_weak(&hy_mem_count.in_use, &cur, cur + size)) break;
    }
    *seen = cur;
    raise_peak(&hy_mem_count.peak, cur + size);
    return 0;
}

static void note_alloc(const hy_block_desc *d, hyperion_mem_tag tag) {
    atomic_fetch_add_explicit(&hy_mem_count.active, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&hy_mem_count.total, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&hy_mem_count.total_bytes, d->size, memory_order_relaxed);
    uint64_t now = atomic_fetch_add_explicit(&hy_mem_count.tag_bytes[tag], d->size, memory_order_relaxed) + d->size;
    atomic_fetch_add_explicit(&hy_mem_count.tag_blocks[tag], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&hy_mem_count.tag_total[tag], 1, memory_order_relaxed);
    raise_peak(&hy_mem_count.tag_peak[tag], now);
}

static uint64_t note_free(const hy_block_desc *d) {
    uint64_t before = atomic_fetch_sub_explicit(&hy_mem_count.in_use, d->size, memory_order_relaxed);
    atomic_fetch_sub_explicit(&hy_mem_count.active, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&hy_mem_count.frees, 1, memory_order_relaxed);
    atomic_fetch_sub_explicit(&hy_mem_count.tag_bytes[d->tag], d->size, memory_order_relaxed);
    atomic_fetch_sub_explicit(&hy_mem_count.tag_blocks[d->tag], 1, memory_order_relaxed);
    if (d->budget) hy_budget_uncharge(d->budget, d->size, (hyperion_mem_tag)d->tag);
    return before;
}

/* --------------------------------------------------------------- errors */

static void raise_limit(uint64_t size, hyperion_mem_tag tag, uint64_t in_use, uint64_t limit, const char *budget) {
    double fragmentation = 0.0;
    uint64_t largest = hy_pool_largest_free(&fragmentation);
    uint64_t available = limit > in_use ? limit - in_use : 0;
    char req[32], used[32], cap[32];
    hy_mem_format_bytes(size, req, sizeof req);
    hy_mem_format_bytes(in_use, used, sizeof used);
    hy_mem_format_bytes(limit, cap, sizeof cap);
    if (budget) {
        HY_RAISE_WITH(HYPERION_MEMORY_LIMIT, "raise this owner's memory limit or free what it holds",
                      ((hy_field[]){ HY_NUM("requested", size), HY_NUM("inUse", in_use), HY_NUM("limit", limit),
                                     HY_NUM("available", available), HY_NUM("largestFreeBlock", largest),
                                     HY_NUM("fragmentation", fragmentation), HY_TXT("tag", tag_names[tag]),
                                     HY_TXT("budget", budget) }),
                      "memory limit of \"%s\" exceeded in \"%s\": requested %s, in use %s, limit %s", budget,
                      tag_names[tag], req, used, cap);
    } else {
        HY_RAISE_WITH(HYPERION_MEMORY_LIMIT, "free other models or sessions, lower the context size, or raise maxPoolSize",
                      ((hy_field[]){ HY_NUM("requested", size), HY_NUM("inUse", in_use), HY_NUM("limit", limit),
                                     HY_NUM("available", available), HY_NUM("largestFreeBlock", largest),
                                     HY_NUM("fragmentation", fragmentation), HY_TXT("tag", tag_names[tag]) }),
                      "memory limit exceeded in \"%s\": requested %s, in use %s, limit %s", tag_names[tag], req, used,
                      cap);
    }
}

static void count_failure(void) {
    atomic_fetch_add_explicit(&hy_mem_count.failed, 1, memory_order_relaxed);
}

/* A free of something that is not a live block: reported, never freed. */
static void report_bad_free(const char *operation, hy_free_result res, uintptr_t ptr, const hy_block_desc *d,
                            const hy_guard_view *seen, const hy_caller *caller) {
    int is_double = res == HY_FREE_DOUBLE;
    atomic_fetch_add(is_double ? &hy_mem_count.double_frees : &hy_mem_count.invalid_frees, 1);
    const char *kind = is_double ? "double-free" : "invalid-free";
    char address[32];
    snprintf(address, sizeof address, "%p", (void *)ptr);
    uint32_t here = hy_stack_capture_id(caller);
    if (is_double) {
        HY_RAISE_WITH(HYPERION_CORRUPTION, "this is a bug in the runtime; please report it with the log",
                      ((hy_field[]){ HY_TXT("operation", operation), HY_TXT("kind", kind), HY_TXT("address", address),
                                     HY_NUM("size", d->size), HY_TXT("tag", tag_names[d->tag < HYPERION_TAG_COUNT ? d->tag : 0]),
                                     HY_NUM("id", seen ? seen->id : 0) }),
                      "%s of %s: the %llu-byte block (tag \"%s\") was already freed (double free)", operation, address,
                      (unsigned long long)d->size, tag_names[d->tag < HYPERION_TAG_COUNT ? d->tag : 0]);
    } else {
        HY_RAISE_WITH(HYPERION_CORRUPTION, "this is a bug in the runtime; please report it with the log",
                      ((hy_field[]){ HY_TXT("operation", operation), HY_TXT("kind", kind), HY_TXT("address", address) }),
                      "%s of %s: not the start of a live block of this allocator (invalid free)", operation, address);
    }
    hy_strbuf sb;
    hy_sb_init(&sb);
    hy_sb_printf(&sb, "%s\n%s attempted here:\n", hyperionGetLastError()->message, operation);
    hy_report_stack_text(&sb, here);
    if (seen && seen->free_stack) {
        hy_sb_printf(&sb, "first freed by thread %u here:\n", seen->free_thread);
        hy_report_stack_text(&sb, seen->free_stack);
    }
    if (seen && seen->alloc_stack) {
        hy_sb_printf(&sb, "allocated by thread %u here:\n", seen->alloc_thread);
        hy_report_stack_text(&sb, seen->alloc_stack);
    }
    char *text = hy_sb_take(&sb);
    log_lines(HYPERION_LOG_ERROR, text ? text : hyperionGetLastError()->message);
    hyperionFree(text);
}

static void report_damage(const hy_block_desc *d, const hy_track_rec *rec) {
    atomic_fetch_add(&hy_mem_count.corrupted, 1);
    const hy_damage *g = &d->damage;
    uint64_t distance = g->side < 0 ? (uint64_t)(-g->offset) : (uint64_t)g->offset - d->size;
    char address[32];
    snprintf(address, sizeof address, "%p", (void *)d->user);
    HY_RAISE_WITH(HYPERION_CORRUPTION, "a write went past the block's end (or before its start): run with guard pages to catch it",
                  ((hy_field[]){ HY_TXT("kind", g->side < 0 ? "heap-buffer-underflow" : "heap-buffer-overflow"),
                                 HY_TXT("address", address), HY_NUM("size", d->size), HY_TXT("tag", tag_names[d->tag]),
                                 HY_NUM("offset", g->offset), HY_NUM("bad_bytes", g->bad_bytes),
                                 HY_NUM("id", rec ? rec->id : 0) }),
                  "heap corruption found when freeing %s: the %llu-byte block (tag \"%s\") was overwritten %llu bytes %s it",
                  address, (unsigned long long)d->size, tag_names[d->tag], (unsigned long long)distance,
                  g->side < 0 ? "before" : "after");
    hy_strbuf sb;
    hy_sb_init(&sb);
    hy_sb_printf(&sb, "%s\n", hyperionGetLastError()->message);
    if (rec && rec->stack) {
        hy_sb_printf(&sb, "allocated by thread %u here:\n", rec->thread);
        hy_report_stack_text(&sb, rec->stack);
    }
    char *text = hy_sb_take(&sb);
    log_lines(HYPERION_LOG_ERROR, text ? text : hyperionGetLastError()->message);
    hyperionFree(text);
}

/* ------------------------------------------------- thread budget scope */

static _Thread_local hy_mem_budget *thread_budget;

hy_mem_budget *hyperionSetThreadMemoryBudget(hy_mem_budget *budget) {
    hy_mem_budget *previous = thread_budget;
    thread_budget = budget;
    return previous;
}

/* The process's own blocks are never charged to the owner at work. */
static int scoped_tag(hyperion_mem_tag tag) {
    return tag != HYPERION_TAG_LOGGING && tag != HYPERION_TAG_PROFILER && tag != HYPERION_TAG_BINDING &&
           tag != HYPERION_TAG_DEBUGGER;
}

/* ------------------------------------------------------------ allocate */

void *hy_mem_allocate(size_t size, size_t align, hyperion_mem_tag tag, hy_mem_budget *budget,
                      const hy_caller *caller, unsigned flags) {
    hy_mem_ensure_started();
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
    if ((align & (align - 1)) || align > HY_MEM_MAX_ALIGN) {
        HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "use a power of two up to 4096",
                      ((hy_field[]){ HY_TXT("field", "alignment"), HY_NUM("value", align) }),
                      "alignment %zu is not a power of two up to 4096", align);
        return NULL;
    }
    int internal = (flags & HY_ALLOC_INTERNAL) != 0;
    if (!internal && hy_mem_test_attempt()) {
        count_failure();
        HY_RAISE_WITH(HYPERION_OUT_OF_MEMORY, "this failure was injected by a test hook",
                      ((hy_field[]){ HY_NUM("requested", size), HY_TXT("tag", tag_names[tag]), HY_NUM("injected", 1) }),
                      "allocation of %zu bytes for \"%s\" failed (injected by a test)", size, tag_names[tag]);
        return NULL;
    }
    if (size > ((size_t)1 << 56)) {
        count_failure();
        HY_RAISE_WITH(HYPERION_OUT_OF_MEMORY, NULL,
                      ((hy_field[]){ HY_NUM("requested", (double)size), HY_TXT("tag", tag_names[tag]) }),
                      "allocation of %zu bytes for \"%s\" exceeds the address space", size, tag_names[tag]);
        return NULL;
    }
    /* The debugger's reports and the logger's buffers are counted but never
     * refused: a report or a log line is what the user needs when the limit
     * is reached. */
    int exempt = internal || tag == HYPERION_TAG_DEBUGGER || tag == HYPERION_TAG_LOGGING;
    uint64_t seen, limit;
    if (charge(size, exempt, &seen, &limit) != 0) {
        count_failure();
        raise_limit(size, tag, seen, limit, NULL);
        return NULL;
    }
    if (!budget && !internal && thread_budget && scoped_tag(tag)) budget = thread_budget;
    uint16_t budget_index = 0;
    if (budget) {
        uint64_t b_use, b_limit;
        uint16_t refused = 0;
        if (hy_budget_charge(budget, size, &b_use, &b_limit, &refused) != 0) {
            atomic_fetch_sub(&hy_mem_count.in_use, size);
            count_failure();
            char name[64];
            hy_budget_name(refused, name, sizeof name);
            raise_limit(size, tag, b_use, b_limit, name);
            return NULL;
        }
        budget_index = hy_budget_index(budget);
    }

    uint64_t id = atomic_fetch_add_explicit(&hy_mem_count.next_id, 1, memory_order_relaxed) + 1;
    int tracking = atomic_load_explicit(&hy_mem_set.tracking, memory_order_relaxed);
    int stacks = tracking && atomic_load_explicit(&hy_mem_set.stacks, memory_order_relaxed);
    int guarded = !internal && hy_guard_wanted(size);
    uint32_t stack = stacks || guarded ? hy_stack_capture_id(caller) : 0;
    hy_block_desc d;
    void *p = NULL;
    int fallback = 0;
    uint64_t fallbacks = 0;
    if (guarded) {
        p = hy_guard_alloc(size, align ? align : 1, (uint8_t)tag, budget_index, id, stack, &fallback);
        if (p) {
            memset(&d, 0, sizeof d);
            hy_guard_describe((uintptr_t)p, &d);
        } else {
            fallbacks = hy_guard_note_fallback();
        }
    }
    if (!p) {
        int canary = !internal && atomic_load_explicit(&hy_mem_set.check_corruption, memory_order_relaxed);
        p = hy_pool_alloc(size, align, canary, (uint8_t)tag, budget_index, &d);
    }
    if (!p) {
        atomic_fetch_sub(&hy_mem_count.in_use, size);
        if (budget_index) hy_budget_uncharge(budget_index, size, tag);
        count_failure();
        char req[32], used[32];
        hy_mem_format_bytes(size, req, sizeof req);
        hy_mem_format_bytes(seen, used, sizeof used);
        HY_RAISE_WITH(HYPERION_OUT_OF_MEMORY, "lower the context size or free other models",
                      ((hy_field[]){ HY_NUM("requested", (double)size), HY_TXT("tag", tag_names[tag]),
                                     HY_NUM("inUse", (double)seen), HY_NUM("injected", 0) }),
                      "the system refused %s for \"%s\" (in use %s)", req, tag_names[tag], used);
        return NULL;
    }
    note_alloc(&d, tag);
    if (tracking) {
        hy_track_rec rec = { (uintptr_t)p, size, id, hy_clock_realtime_ns(), (uint32_t)hy_thread_id(),
                             stacks ? stack : 0, budget_index, (uint8_t)tag, (uint8_t)(d.guarded != 0) };
        hy_track_insert(&rec);
    }
    /* never from the logger's own allocations: it may hold its lock, and the
     * callback or the notice may log */
    if (limit && tag != HYPERION_TAG_LOGGING) hy_mem_thresholds_check(seen, seen + size, tag);
    if (budget_index && tag != HYPERION_TAG_LOGGING) hy_budget_charged(budget_index, tag);
    if (fallback && tag != HYPERION_TAG_LOGGING) {
        uint64_t n = fallbacks;
        if ((n & (n - 1)) == 0)   /* the 1st, 2nd, 4th, 8th ... time */
            hy_mem_log(HYPERION_LOG_WARN,
                       "guard pages: a %zu-byte block (tag \"%s\") was left unguarded: %s; %llu block(s) so far",
                       size, tag_names[tag], hy_guard_reason_text(fallback), (unsigned long long)n);
    }
    return p;
}

/* --------------------------------------------------------------- free */

int hy_mem_describe(uintptr_t ptr, hy_block_desc *out) {
    if (hy_pool_contains(ptr)) return hy_pool_describe(ptr, out);
    return hy_guard_describe(ptr, out);
}

void hy_mem_release(void *ptr, const hy_caller *caller) {
    if (!ptr) return;
    hy_mem_ensure_started();
    uintptr_t p = (uintptr_t)ptr;
    hy_track_rec rec;
    int tracked = hy_track_remove(p, &rec);
    hy_block_desc d;
    hy_guard_view seen;
    int have_seen = 0;
    hy_free_result res = hy_pool_free(p, &d);
    if (res == HY_FREE_NOT_MINE) {
        memset(&seen, 0, sizeof seen);
        res = hy_guard_free(p, caller, &d, &seen);
        have_seen = res == HY_FREE_DOUBLE;
        if (res == HY_FREE_NOT_MINE) res = HY_FREE_INVALID;
    }
    if (res != HY_FREE_OK) {
        if (tracked) hy_track_insert(&rec);   /* cannot happen; keep the table whole if it does */
        report_bad_free("free", res, p, &d, have_seen ? &seen : NULL, caller);
        return;
    }
    uint64_t before = note_free(&d);
    if (d.tag != HYPERION_TAG_LOGGING && atomic_load_explicit(&hy_mem_set.limit, memory_order_relaxed))
        hy_mem_thresholds_check(before, before - d.size, (hyperion_mem_tag)d.tag);
    if (d.damage.damaged) report_damage(&d, tracked ? &rec : NULL);
}

/* ------------------------------------------------------- public entries */

void *hyperionAlloc(size_t size, hyperion_mem_tag tag) {
    hy_caller c = HY_CALLER_HERE();
    return hy_mem_allocate(size, 0, tag, NULL, &c, 0);
}

void *hyperionAllocAligned(size_t size, size_t alignment, hyperion_mem_tag tag) {
    hy_caller c = HY_CALLER_HERE();
    return hy_mem_allocate(size, alignment ? alignment : 1, tag, NULL, &c, 0);
}

static void *calloc_impl(size_t count, size_t size, hyperion_mem_tag tag, hy_mem_budget *budget, const hy_caller *c) {
    if (size && count > SIZE_MAX / size) {
        count_failure();
        HY_RAISE_WITH(HYPERION_OUT_OF_MEMORY, NULL,
                      ((hy_field[]){ HY_NUM("count", (double)count), HY_NUM("size", (double)size) }),
                      "calloc of %zu x %zu bytes overflows", count, size);
        return NULL;
    }
    void *p = hy_mem_allocate(count * size, 0, tag, budget, c, 0);
    if (p) memset(p, 0, count * size);
    return p;
}

void *hyperionCalloc(size_t count, size_t size, hyperion_mem_tag tag) {
    hy_caller c = HY_CALLER_HERE();
    return calloc_impl(count, size, tag, NULL, &c);
}

void *hyperionAllocBudget(size_t size, hyperion_mem_tag tag, hy_mem_budget *budget) {
    hy_caller c = HY_CALLER_HERE();
    return hy_mem_allocate(size, 0, tag, budget, &c, 0);
}

void *hyperionAllocAlignedBudget(size_t size, size_t alignment, hyperion_mem_tag tag, hy_mem_budget *budget) {
    hy_caller c = HY_CALLER_HERE();
    return hy_mem_allocate(size, alignment ? alignment : 1, tag, budget, &c, 0);
}

void *hyperionCallocBudget(size_t count, size_t size, hyperion_mem_tag tag, hy_mem_budget *budget) {
    hy_caller c = HY_CALLER_HERE();
    return calloc_impl(count, size, tag, budget, &c);
}

void *hyperionRealloc(void *ptr, size_t size, hyperion_mem_tag tag) {
    hy_caller c = HY_CALLER_HERE();
    if (!ptr) return hy_mem_allocate(size, 0, tag, NULL, &c, 0);
    hy_mem_ensure_started();
    hy_block_desc old;
    if (!hy_mem_describe((uintptr_t)ptr, &old)) {
        report_bad_free("realloc", HY_FREE_INVALID, (uintptr_t)ptr, &old, NULL, &c);
        return NULL;
    }
    /* Only the growth is held against the limits: the old block's bytes are
     * credited while the new one is charged, and debited again before the old
     * block is freed (which credits them for good). */
    hy_mem_budget *budget = hy_budget_at(old.budget);
    atomic_fetch_sub(&hy_mem_count.in_use, old.size);
    if (old.budget) hy_budget_adjust(old.budget, -(int64_t)old.size);
    void *fresh = hy_mem_allocate(size, 0, tag, budget, &c, 0);
    atomic_fetch_add(&hy_mem_count.in_use, old.size);
    if (old.budget) hy_budget_adjust(old.budget, (int64_t)old.size);
    if (!fresh) return NULL;
    uint64_t now = atomic_load(&hy_mem_count.in_use);
    if (atomic_load_explicit(&hy_mem_set.limit, memory_order_relaxed)) hy_mem_thresholds_check(0, now, tag);
    memcpy(fresh, ptr, old.size < size ? old.size : size);
    hy_mem_release(ptr, &c);
    return fresh;
}

void hyperionFree(void *ptr) {
    hy_caller c = HY_CALLER_HERE();
    hy_mem_release(ptr, &c);
}

/* ---------------------------------------------------------- counters */

void hyperionGetMemoryStats(hyperion_memory_stats *s) {
    memset(s, 0, sizeof *s);
    s->in_use_bytes = atomic_load(&hy_mem_count.in_use);
    s->peak_bytes = atomic_load(&hy_mem_count.peak);
    s->active_allocations = atomic_load(&hy_mem_count.active);
    s->total_allocations = atomic_load(&hy_mem_count.total);
    s->total_frees = atomic_load(&hy_mem_count.frees);
    s->failed_allocations = atomic_load(&hy_mem_count.failed);
    s->limit_bytes = atomic_load(&hy_mem_set.limit);
    s->mapped_bytes = atomic_load(&hy_mem_count.mapped);
    for (int i = 0; i < HYPERION_TAG_COUNT; i++) {
        s->tag_bytes[i] = atomic_load(&hy_mem_count.tag_bytes[i]);
        s->tag_blocks[i] = atomic_load(&hy_mem_count.tag_blocks[i]);
    }
}

void hyperionNoteMappedBytes(int64_t delta) {
    atomic_fetch_add(&hy_mem_count.mapped, (uint64_t)delta);
}
