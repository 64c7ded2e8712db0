/* test_memory_pool.c — the pool: limits and their figures, thresholds,
 * budgets, size classes and reuse, realloc/calloc/aligned, heap statistics,
 * fault injection, many threads at once. */
#include "test_memory_util.h"

#include <pthread.h>
#include <unistd.h>

/* ------------------------------------------------------------------ limit */

HY_TEST(memory_sizes_format_like_the_design_example) {
    char b[32];
    hy_mem_format_bytes((uint64_t)(1.5 * 1048576), b, sizeof b);
    HY_CHECK_STR(b, "1.50 MiB");
    hy_mem_format_bytes((uint64_t)(511.2 * 1048576), b, sizeof b);
    HY_CHECK_STR(b, "511.2 MiB");
    hy_mem_format_bytes((uint64_t)512 << 20, b, sizeof b);
    HY_CHECK_STR(b, "512.0 MiB");
    hy_mem_format_bytes(100, b, sizeof b);
    HY_CHECK_STR(b, "100 B");
}

HY_TEST(memory_limit_fails_with_figures_and_recovers) {
    quiet_logs();
    hyperion_memory_config c;
    hyperionMemoryConfigDefaults(&c);
    uint64_t base = mem_in_use();
    hyperion_memory_stats s0;
    hyperionGetMemoryStats(&s0);   /* everything counts against the limit, the logger's queue too */
    c.max_pool_size = (uint64_t)512 << 20;
    HY_REQUIRE(s0.in_use_bytes < (100u << 20));
    HY_REQUIRE(hyperionInitMemory(&c) == HYPERION_OK);

    /* 511.2 MiB in use in all (page runs are committed, never touched: cheap) */
    uint64_t big = (uint64_t)(511.2 * 1048576) - s0.in_use_bytes;
    void *a = hyperionAlloc(big, HYPERION_TAG_ACTIVATIONS);
    HY_REQUIRE(a != NULL);
    hyperion_memory_stats before;
    hyperionGetMemoryStats(&before);

    size_t ask = (size_t)(1.5 * 1048576);
    void *b = hyperionAlloc(ask, HYPERION_TAG_KV_CACHE);
    HY_CHECK(b == NULL);
    const hyperion_error *e = hyperionGetLastError();
    HY_CHECK_INT(e->code, HYPERION_MEMORY_LIMIT);
    HY_CHECK_STR(e->category, "limit");
    char expected[200], used[32], cap[32];
    hy_mem_format_bytes(before.in_use_bytes, used, sizeof used);
    hy_mem_format_bytes(c.max_pool_size, cap, sizeof cap);
    snprintf(expected, sizeof expected, "memory limit exceeded in \"kv-cache\": requested 1.50 MiB, in use %s, limit %s",
             used, cap);
    HY_CHECK_STR(e->message, "memory limit exceeded in \"kv-cache\": requested 1.50 MiB, in use 511.2 MiB, limit 512.0 MiB");
    HY_CHECK_STR(e->message, expected);
    HY_CHECK_NEAR(error_number("requested"), (double)ask, 0);
    HY_CHECK_NEAR(error_number("inUse"), (double)before.in_use_bytes, 0);
    HY_CHECK_NEAR(error_number("limit"), (double)c.max_pool_size, 0);
    HY_CHECK_NEAR(error_number("available"), (double)(c.max_pool_size - before.in_use_bytes), 0);
    HY_CHECK(error_number("largestFreeBlock") >= 0);
    HY_CHECK(error_number("fragmentation") >= 0 && error_number("fragmentation") <= 1);
    HY_CHECK_STR(error_text("tag"), "kv-cache");

    hyperion_memory_stats after;
    hyperionGetMemoryStats(&after);
    HY_CHECK_INT(after.failed_allocations, before.failed_allocations + 1);
    HY_CHECK_INT(after.in_use_bytes, before.in_use_bytes);   /* the refused request left nothing charged */

    /* the process goes on: a request that fits succeeds, and after a free the big one fits too */
    void *small = hyperionAlloc(4096, HYPERION_TAG_KV_CACHE);
    HY_CHECK(small != NULL);
    hyperionFree(a);
    b = hyperionAlloc(ask, HYPERION_TAG_KV_CACHE);
    HY_CHECK(b != NULL);
    hyperionFree(b);
    hyperionFree(small);

    /* raised at run time without losing live blocks; lowered below use: later requests fail */
    void *keep = hyperionAlloc(1 << 20, HYPERION_TAG_SCRATCH);
    HY_REQUIRE(keep != NULL);
    c.max_pool_size = mem_in_use() / 2;
    HY_REQUIRE(hyperionInitMemory(&c) == HYPERION_OK);
    HY_CHECK(hyperionAlloc(64, HYPERION_TAG_SCRATCH) == NULL);
    HY_CHECK_INT(hyperionGetLastError()->code, HYPERION_MEMORY_LIMIT);
    c.max_pool_size = 0;
    HY_REQUIRE(hyperionInitMemory(&c) == HYPERION_OK);
    memset(keep, 1, 1 << 20);   /* still ours */
    hyperionFree(keep);
    HY_CHECK_INT(mem_in_use(), base);
    mem_reset();
}

/* ------------------------------------------------------------- thresholds */

typedef struct seen_events {
    int n;
    hyperion_memory_usage_event e[16];
} seen_events;

static void on_usage(const hyperion_memory_usage_event *e, void *user) {
    seen_events *s = user;
    if (s->n < 16) s->e[s->n++] = *e;
}

HY_TEST(memory_usage_callback_fires_when_thresholds_are_crossed) {
    quiet_logs();
    seen_events seen = { 0 };
    hyperion_memory_config c;
    hyperionMemoryConfigDefaults(&c);
    hyperion_memory_stats s0;
    hyperionGetMemoryStats(&s0);
    uint64_t base = s0.in_use_bytes;
    c.max_pool_size = base * 10 + (10 << 20);   /* thresholds at the defaults: 80% and 95% */
    HY_REQUIRE(hyperionInitMemory(&c) == HYPERION_OK);
    hyperionSetMemoryUsageCallback(on_usage, &seen);
    uint64_t limit = c.max_pool_size;

    void *a = hyperionAlloc((size_t)(limit * 0.70) - base, HYPERION_TAG_KV_CACHE);   /* 70% */
    HY_REQUIRE(a != NULL);
    HY_CHECK_INT(seen.n, 0);
    void *b = hyperionAlloc((size_t)(limit * 0.15), HYPERION_TAG_KV_CACHE);   /* 85% */
    HY_REQUIRE(b != NULL);
    HY_REQUIRE(seen.n == 1);
    HY_CHECK_NEAR(seen.e[0].threshold, 0.80, 1e-9);
    HY_CHECK_INT(seen.e[0].rising, 1);
    HY_CHECK_INT(seen.e[0].limit_bytes, limit);
    HY_CHECK_INT(seen.e[0].tag, HYPERION_TAG_KV_CACHE);
    void *c2 = hyperionAlloc((size_t)(limit * 0.12), HYPERION_TAG_SESSION);   /* 97% */
    HY_REQUIRE(c2 != NULL);
    HY_REQUIRE(seen.n == 2);
    HY_CHECK_NEAR(seen.e[1].threshold, 0.95, 1e-9);
    HY_CHECK_INT(seen.e[1].tag, HYPERION_TAG_SESSION);
    /* going up again within the band fires nothing more */
    void *d = hyperionAlloc(64, HYPERION_TAG_SESSION);
    HY_CHECK_INT(seen.n, 2);
    hyperionFree(d);
    /* back below both (with 5% hysteresis): two notices */
    hyperionFree(c2);
    hyperionFree(b);
    HY_REQUIRE(seen.n == 4);
    HY_CHECK_INT(seen.e[2].rising, 0);
    HY_CHECK_NEAR(seen.e[2].threshold, 0.95, 1e-9);
    HY_CHECK_INT(seen.e[3].rising, 0);
    HY_CHECK_NEAR(seen.e[3].threshold, 0.80, 1e-9);
    hyperionFree(a);
    hyperionSetMemoryUsageCallback(NULL, NULL);
    mem_reset();
}

HY_TEST(memory_config_is_validated_field_by_field) {
    hyperion_memory_config c;
    hyperionMemoryConfigDefaults(&c);
    c.guard_mode = HYPERION_GUARD_SAMPLED;
    c.guard_sample_rate = 0;
    HY_CHECK_INT(hyperionInitMemory(&c), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_STR(error_text("field"), "guardSampleRate");
    hyperionMemoryConfigDefaults(&c);
    c.thresholds[1] = 0.5;
    HY_CHECK_INT(hyperionInitMemory(&c), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_STR(error_text("field"), "thresholds");
    hyperionMemoryConfigDefaults(&c);
    c.guard_alignment = 48;
    HY_CHECK_INT(hyperionInitMemory(&c), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_STR(error_text("field"), "guardAlignment");
    hyperionMemoryConfigDefaults(&c);
    c.guard_mode = (hyperion_guard_mode)7;
    HY_CHECK_INT(hyperionInitMemory(&c), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_STR(error_text("field"), "enableGuardPages");
    /* the previous settings stayed in force */
    hyperion_memory_config now;
    hyperionGetMemoryConfig(&now);
    HY_CHECK_INT(now.guard_mode, HYPERION_GUARD_OFF);
    HY_CHECK_INT(hyperionInitMemory(NULL), HYPERION_OK);
}

/* ---------------------------------------------------------------- budgets */

HY_TEST(memory_budget_caps_an_owner_below_the_global_limit) {
    quiet_logs();
    hy_mem_budget *b = NULL;
    HY_REQUIRE(hyperionCreateMemoryBudget("session 7", 1 << 20, &b) == HYPERION_OK);
    void *x = hyperionAllocBudget(600 << 10, HYPERION_TAG_KV_CACHE, b);
    HY_REQUIRE(x != NULL);
    void *y = hyperionAllocBudget(600 << 10, HYPERION_TAG_KV_CACHE, b);
    HY_CHECK(y == NULL);
    HY_CHECK_INT(hyperionGetLastError()->code, HYPERION_MEMORY_LIMIT);
    HY_CHECK_STR(error_text("budget"), "session 7");
    HY_CHECK_NEAR(error_number("limit"), 1 << 20, 0);
    HY_CHECK_NEAR(error_number("inUse"), 600 << 10, 0);
    HY_CHECK(strstr(hyperionGetLastError()->message, "memory limit of \"session 7\" exceeded in \"kv-cache\"") != NULL);
    /* the same request without the budget is fine: only the owner is capped */
    void *z = hyperionAlloc(600 << 10, HYPERION_TAG_KV_CACHE);
    HY_CHECK(z != NULL);
    hyperionFree(z);

    hyperion_memory_budget_usage u;
    hyperionGetMemoryBudgetUsage(b, &u);
    HY_CHECK_STR(u.name, "session 7");
    HY_CHECK_INT(u.in_use_bytes, 600 << 10);
    HY_CHECK_INT(u.active_allocations, 1);
    HY_CHECK_INT(u.failed_allocations, 1);
    /* realloc keeps the budget; calloc and aligned charge it too */
    x = hyperionRealloc(x, 700 << 10, HYPERION_TAG_KV_CACHE);
    HY_REQUIRE(x != NULL);
    hyperionGetMemoryBudgetUsage(b, &u);
    HY_CHECK_INT(u.in_use_bytes, 700 << 10);
    void *w = hyperionCallocBudget(10, 1000, HYPERION_TAG_SESSION, b);
    void *v = hyperionAllocAlignedBudget(1000, 256, HYPERION_TAG_SESSION, b);
    HY_REQUIRE(w && v);
    HY_CHECK(((uintptr_t)v & 255) == 0);
    hyperionGetMemoryBudgetUsage(b, &u);
    HY_CHECK_INT(u.in_use_bytes, (700 << 10) + 11000);
    HY_CHECK_INT(u.peak_bytes, (700 << 10) + 11000);
    /* the handle may go before the blocks */
    hyperionReleaseMemoryBudget(b);
    hyperionFree(w);
    hyperionFree(v);
    hyperionFree(x);
    HY_CHECK(hyperionCreateMemoryBudget(NULL, 0, &b) == HYPERION_INVALID_ARGUMENT);
}

/* --------------------------------------------------- size classes, reuse */

HY_TEST(memory_size_classes_and_page_runs_reuse_memory) {
    hyperion_heap_stats h0, h1, h2;
    hyperionGetHeapStats(&h0);
    void *live[64] = { 0 };
    uint64_t rng = 12345;
    for (int i = 0; i < 10000; i++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        int slot = (int)((rng >> 33) % 64);
        if (live[slot]) {
            hyperionFree(live[slot]);
            live[slot] = NULL;
        } else {
            /* small (classes) and large (page runs) mixed: 1 B .. 256 KiB */
            size_t size = 1 + (size_t)((rng >> 20) % ((rng >> 60) & 1 ? 262144 : 2048));
            live[slot] = hyperionAlloc(size, HYPERION_TAG_SCRATCH);
            HY_REQUIRE(live[slot] != NULL);
            HY_CHECK(((uintptr_t)live[slot] & 63) == 0);
            ((unsigned char *)live[slot])[size - 1] = 1;
        }
        if (i == 5000) hyperionGetHeapStats(&h1);
    }
    hyperionGetHeapStats(&h2);
    for (int i = 0; i < 64; i++) hyperionFree(live[i]);
    /* 64 live blocks of at most 256 KiB need at most one more arena, and the
     * second half of the run reserves nothing new */
    HY_CHECK(h2.reserved_bytes <= h0.reserved_bytes + HY_MEM_ARENA_BYTES);
    HY_CHECK_INT(h2.reserved_bytes, h1.reserved_bytes);
    HY_CHECK(h2.committed_bytes <= h2.reserved_bytes);
}

HY_TEST(memory_small_blocks_of_one_class_share_slabs) {
    void *p[100];
    for (int i = 0; i < 100; i++) p[i] = hyperionAlloc(100, HYPERION_TAG_SCRATCH);
    /* 100-byte requests land in the 128-byte class: neighbours 128 bytes apart */
    int adjacent = 0;
    for (int i = 1; i < 100; i++)
        if ((uintptr_t)p[i] - (uintptr_t)p[i - 1] == 128) adjacent++;
    HY_CHECK(adjacent > 50);
    for (int i = 0; i < 100; i++) hyperionFree(p[i]);
    void *again = hyperionAlloc(100, HYPERION_TAG_SCRATCH);
    int reused = 0;
    for (int i = 0; i < 100; i++) reused |= again == p[i];
    HY_CHECK(reused);   /* a freed slot comes back */
    hyperionFree(again);
}

/* ------------------------------------------------ realloc, calloc, aligned */

HY_TEST(memory_realloc_calloc_and_aligned_behave) {
    quiet_logs();
    unsigned char *p = hyperionAlloc(1000, HYPERION_TAG_OTHER);
    HY_REQUIRE(p != NULL);
    for (int i = 0; i < 1000; i++) p[i] = (unsigned char)i;
    p = hyperionRealloc(p, 100000, HYPERION_TAG_OTHER);
    HY_REQUIRE(p != NULL);
    int same = 1;
    for (int i = 0; i < 1000; i++) same &= p[i] == (unsigned char)i;
    HY_CHECK(same);
    p = hyperionRealloc(p, 10, HYPERION_TAG_TOKENIZER);
    HY_REQUIRE(p != NULL);
    HY_CHECK(p[9] == 9);
    hyperion_memory_stats s;
    hyperionGetMemoryStats(&s);
    HY_CHECK(s.tag_bytes[HYPERION_TAG_TOKENIZER] >= 10);
    HY_CHECK(hyperionRealloc(p, 0, HYPERION_TAG_OTHER) == NULL);   /* size 0: refused, block kept */
    HY_CHECK_INT(hyperionGetLastError()->code, HYPERION_INVALID_ARGUMENT);
    HY_CHECK(p[9] == 9);
    hyperionFree(p);
    p = hyperionRealloc(NULL, 50, HYPERION_TAG_OTHER);
    HY_CHECK(p != NULL);
    hyperionFree(p);

    /* calloc zeroes reused memory and checks the multiplication */
    unsigned char *dirty = hyperionAlloc(5000, HYPERION_TAG_OTHER);
    memset(dirty, 0xEE, 5000);
    hyperionFree(dirty);
    unsigned char *z = hyperionCalloc(50, 100, HYPERION_TAG_OTHER);
    HY_REQUIRE(z != NULL);
    int zero = 1;
    for (int i = 0; i < 5000; i++) zero &= z[i] == 0;
    HY_CHECK(zero);
    hyperionFree(z);
    HY_CHECK(hyperionCalloc(SIZE_MAX / 2, 3, HYPERION_TAG_OTHER) == NULL);
    HY_CHECK_INT(hyperionGetLastError()->code, HYPERION_OUT_OF_MEMORY);

    size_t aligns[] = { 1, 64, 128, 256, 1024, 4096 };
    for (int i = 0; i < 6; i++) {
        void *small = hyperionAllocAligned(100, aligns[i], HYPERION_TAG_OTHER);
        void *large = hyperionAllocAligned(100000, aligns[i], HYPERION_TAG_OTHER);
        HY_REQUIRE(small && large);
        size_t want = aligns[i] < 64 ? 64 : aligns[i];
        HY_CHECK(((uintptr_t)small & (want - 1)) == 0);
        HY_CHECK(((uintptr_t)large & (want - 1)) == 0);
        memset(small, 1, 100);
        memset(large, 1, 100000);
        hyperionFree(small);
        hyperionFree(large);
    }
    HY_CHECK(hyperionAllocAligned(100, 48, HYPERION_TAG_OTHER) == NULL);
    HY_CHECK_STR(error_text("field"), "alignment");
    HY_CHECK(hyperionAllocAligned(100, 8192, HYPERION_TAG_OTHER) == NULL);
    HY_CHECK(hyperionAlloc(0, HYPERION_TAG_OTHER) == NULL);
    HY_CHECK_STR(error_text("field"), "size");
    HY_CHECK(hyperionAlloc(8, (hyperion_mem_tag)99) == NULL);
    HY_CHECK_STR(error_text("field"), "tag");
    HY_CHECK_STR(hyperionTagName(HYPERION_TAG_DEBUGGER), "memory-debugger");
    HY_CHECK_STR(hyperionTagName((hyperion_mem_tag)99), "unknown");
}

/* ------------------------------------------------------------- heap stats */

HY_TEST(memory_heap_stats_report_consistent_figures) {
    quiet_logs();
    hyperion_heap_stats a, b;
    hyperionGetHeapStats(&a);
    void *small = hyperionAlloc(100, HYPERION_TAG_SAMPLER);        /* 128-byte slot: 28 bytes of rounding */
    void *large = hyperionAlloc(100 * 1024 + 1, HYPERION_TAG_REPACKED_WEIGHTS);   /* 26 pages */
    hyperionNoteMappedBytes(1 << 20);
    hyperionGetHeapStats(&b);
    HY_CHECK_INT(b.in_use_bytes - a.in_use_bytes, 100 + 100 * 1024 + 1);
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    HY_CHECK_INT(b.allocated_bytes - a.allocated_bytes, 128 + (100 * 1024 + 1 + page - 1) / page * page);
    HY_CHECK_INT(b.tags[HYPERION_TAG_SAMPLER].bytes - a.tags[HYPERION_TAG_SAMPLER].bytes, 100);
    HY_CHECK_INT(b.tags[HYPERION_TAG_REPACKED_WEIGHTS].blocks - a.tags[HYPERION_TAG_REPACKED_WEIGHTS].blocks, 1);
    HY_CHECK(b.tags[HYPERION_TAG_REPACKED_WEIGHTS].peak_bytes >= 100 * 1024 + 1);
    HY_CHECK_INT(b.mapped_bytes - a.mapped_bytes, 1 << 20);
    HY_CHECK(b.reserved_bytes >= b.allocated_bytes);
    HY_CHECK(b.committed_bytes <= b.reserved_bytes);
    HY_CHECK(b.address_space_bytes >= b.reserved_bytes);
    HY_CHECK(b.allocated_bytes >= b.in_use_bytes - b.guard_mapped_bytes);
    HY_CHECK(b.free_bytes <= b.reserved_bytes);
    HY_CHECK(b.largest_free_block <= b.free_bytes);
    HY_CHECK(b.metadata_bytes > 0);
    HY_CHECK(b.peak_bytes >= b.in_use_bytes);
    /* the three fragmentation figures follow their definitions */
    HY_CHECK_NEAR(b.fragmentation_external, b.free_bytes ? 1.0 - (double)b.largest_free_block / (double)b.free_bytes : 0, 1e-12);
    HY_CHECK_NEAR(b.fragmentation_reserved, 1.0 - (double)b.allocated_bytes / (double)b.reserved_bytes, 1e-12);
    HY_CHECK(b.fragmentation_internal > 0 && b.fragmentation_internal < 1);
    HY_CHECK(b.rss_known);
    HY_CHECK(b.rss_bytes > 0 && b.rss_anon_bytes > 0 && b.rss_bytes >= b.rss_anon_bytes);
    HY_CHECK(b.mapped_resident_bytes <= b.mapped_bytes);
    hyperionNoteMappedBytes(-(1 << 20));
    hyperionFree(small);
    hyperionFree(large);

    hyperion_memory_debug_info d;
    hyperionGetMemoryDebugInfo(&d);
    HY_CHECK(d.total_allocations >= d.active_allocations);
    HY_CHECK(d.total_frees + d.active_allocations == d.total_allocations);
    HY_CHECK(d.tags[HYPERION_TAG_SAMPLER].total_allocations >= 1);
}

/* -------------------------------------------------------- fault injection */

/* An operation with three allocations that cleans up after itself when any
 * of them fails: the pattern every runtime constructor follows. */
static hyperion_status three_step_operation(void) {
    void *a = hyperionAlloc(100, HYPERION_TAG_MODEL);
    if (!a) return hyperionGetLastError()->code;
    void *b = hyperionAlloc(5000, HYPERION_TAG_MODEL);
    if (!b) {
        hyperionFree(a);
        return hyperionGetLastError()->code;
    }
    void *c = hyperionCalloc(3, 100000, HYPERION_TAG_MODEL);
    if (!c) {
        hyperionFree(b);
        hyperionFree(a);
        return hyperionGetLastError()->code;
    }
    hyperionFree(c);
    hyperionFree(b);
    hyperionFree(a);
    return HYPERION_OK;
}

/* Freed pages that stay committed: committed = in use + dirty free pages. */
static uint64_t dirty_free_bytes(void) {
    hyperion_heap_stats h;
    hyperionGetHeapStats(&h);
    return h.committed_bytes - (h.reserved_bytes - h.free_bytes);
}

static uint64_t rss_now(void) {
    hyperion_heap_stats h;
    hyperionGetHeapStats(&h);
    return h.rss_known ? h.rss_bytes : 0;
}

HY_TEST(memory_trim_gives_freed_pages_back_down_to_what_is_kept) {
    quiet_logs();
    const size_t big = (size_t)16 << 20;
    /* touched, freed: 16 MiB more stay committed (the pool retains up to 64 MiB) */
    uint8_t *a = hyperionAlloc(big, HYPERION_TAG_ACTIVATIONS);
    HY_REQUIRE(a != NULL);
    memset(a, 1, big);
    hyperionFree(a);
    HY_CHECK(dirty_free_bytes() >= big);
    uint64_t rss_before = rss_now();

    /* keep 4 MiB: whole runs go, largest first, until at most that stays */
    uint64_t released = hyperionTrimMemory((uint64_t)4 << 20);
    HY_CHECK(released >= big);
    HY_CHECK(dirty_free_bytes() <= ((uint64_t)4 << 20));
    /* the pages left the process (RSS, not only the pool's books); 4 MiB of slack
     * for whatever else the process touches meanwhile */
    uint64_t rss_after = rss_now();
    HY_CHECK(rss_before > 0 && rss_after + big - ((uint64_t)4 << 20) <= rss_before);

    /* down to nothing; a second call has nothing left to do */
    hyperionTrimMemory(0);
    HY_CHECK_INT(dirty_free_bytes(), 0);
    HY_CHECK_INT(hyperionTrimMemory(0), 0);

    /* live blocks keep their contents; released pages come back zero-filled */
    uint8_t *live = hyperionAlloc((size_t)1 << 20, HYPERION_TAG_ACTIVATIONS);
    HY_REQUIRE(live != NULL);
    memset(live, 7, (size_t)1 << 20);
    uint8_t *again = hyperionCalloc(1, big, HYPERION_TAG_ACTIVATIONS);
    HY_REQUIRE(again != NULL);
    hyperionTrimMemory(0);
    HY_CHECK(live[0] == 7 && live[((size_t)1 << 20) - 1] == 7);
    HY_CHECK(again[0] == 0 && again[big - 1] == 0);
    hyperionFree(again);
    hyperionFree(live);
}

HY_TEST(memory_fault_injection_walks_every_allocation_site) {
    quiet_logs();
    uint64_t base = mem_in_use();
    uint64_t start = hyperionTestAllocationAttempts();
    HY_REQUIRE(three_step_operation() == HYPERION_OK);
    uint64_t sites = hyperionTestAllocationAttempts() - start;
    HY_CHECK_INT(sites, 3);
    for (uint64_t n = 1; n <= sites; n++) {
        hyperionTestFailAllocation(n, 0);
        hyperion_status s = three_step_operation();
        HY_CHECK_INT(s, HYPERION_OUT_OF_MEMORY);
        HY_CHECK_NEAR(error_number("injected"), 1, 0);
        HY_CHECK_INT(mem_in_use(), base);   /* nothing left behind */
    }
    /* one-shot: the next run succeeds */
    HY_CHECK_INT(three_step_operation(), HYPERION_OK);
    hyperionTestFailAllocation(5, 0);
    hyperionTestFailAllocation(0, 0);   /* disarmed */
    HY_CHECK_INT(three_step_operation(), HYPERION_OK);
}

/* ---------------------------------------------------------------- threads */

static void *churn(void *arg) {
    uint64_t rng = (uint64_t)(uintptr_t)arg * 2654435761u + 1;
    void *live[32] = { 0 };
    size_t sizes[32] = { 0 };
    long errors = 0;
    for (int i = 0; i < 20000; i++) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        int k = (int)(rng % 32);
        if (live[k]) {
            if (((unsigned char *)live[k])[sizes[k] - 1] != (unsigned char)k) errors++;
            hyperionFree(live[k]);
            live[k] = NULL;
        } else {
            sizes[k] = 1 + (size_t)((rng >> 16) % ((rng >> 40) % 8 == 0 ? 100000 : 1000));
            live[k] = hyperionAlloc(sizes[k], (hyperion_mem_tag)(k % HYPERION_TAG_COUNT));
            if (!live[k]) errors++;
            else ((unsigned char *)live[k])[sizes[k] - 1] = (unsigned char)k;
        }
    }
    for (int k = 0; k < 32; k++) hyperionFree(live[k]);
    return (void *)errors;
}

HY_TEST(memory_pool_is_safe_from_many_threads) {
    quiet_logs();
    hyperion_memory_config c;
    hyperionMemoryConfigDefaults(&c);
    c.track_allocations = 1;
    c.track_stack_traces = 1;
    c.check_corruption = 1;
    HY_REQUIRE(hyperionInitMemory(&c) == HYPERION_OK);
    uint64_t base = mem_in_use();
    hyperion_memory_debug_info d0, d1;
    hyperionGetMemoryDebugInfo(&d0);
    pthread_t t[4];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, churn, (void *)(uintptr_t)(i + 1));
    long errors = 0;
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        errors += (long)r;
    }
    hyperionGetMemoryDebugInfo(&d1);
    HY_CHECK_INT(errors, 0);
    HY_CHECK_INT(mem_in_use(), base);
    HY_CHECK_INT(d1.tracked_blocks, d0.tracked_blocks);
    HY_CHECK_INT(d1.corrupted_blocks, d0.corrupted_blocks);
    HY_CHECK_INT(d1.double_frees + d1.invalid_frees, d0.double_frees + d0.invalid_frees);
    mem_reset();
}

HY_TEST(memory_initial_pool_size_reserves_arenas_up_front) {
    hyperion_heap_stats before, after;
    hyperionGetHeapStats(&before);
    hyperion_memory_config c;
    hyperionMemoryConfigDefaults(&c);
    c.initial_pool_size = before.reserved_bytes + ((uint64_t)100 << 20);
    HY_REQUIRE(hyperionInitMemory(&c) == HYPERION_OK);
    hyperionGetHeapStats(&after);
    HY_CHECK(after.reserved_bytes >= c.initial_pool_size);
    HY_CHECK_INT(after.reserved_bytes % HY_MEM_ARENA_BYTES, 0);
    /* reserved, not resident: committed grows only with use */
    HY_CHECK(after.committed_bytes <= before.committed_bytes + (1 << 20));
    c.initial_pool_size = (uint64_t)1 << 50;   /* more than the address range */
    HY_CHECK_INT(hyperionInitMemory(&c), HYPERION_OUT_OF_MEMORY);
    HY_CHECK_STR(error_text("field"), "initialPoolSize");
    mem_reset();
}
