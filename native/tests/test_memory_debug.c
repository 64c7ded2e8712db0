/* test_memory_debug.c — tracking, stacks, leak reports, traces, snapshots,
 * canaries, and double/invalid frees (reported, never crashing). */
#include "test_memory_util.h"

static void track_with_stacks(int stacks) {
    hyperion_memory_config c;
    hyperionMemoryConfigDefaults(&c);
    c.track_allocations = 1;
    c.track_stack_traces = stacks;
    hyperionInitMemory(&c);
}

static uint64_t next_id(void) {
    hyperion_memory_debug_info d;
    hyperionGetMemoryDebugInfo(&d);
    return d.next_id;
}

/* ------------------------------------------------------------ leak report */

static void *leaked[8];

HY_TEST_NAMED static void leak_three_blocks_here(void) {
    for (int i = 0; i < 3; i++) {
        leaked[i] = hyperionAlloc(1000, HYPERION_TAG_TEST);
        memset(leaked[i], i, 1000);
    }
}

HY_TEST_NAMED static void leak_one_big_block_here(void) {
    leaked[3] = hyperionAlloc(70000, HYPERION_TAG_KV_CACHE);
    memset(leaked[3], 0, 16);
}

HY_TEST(memory_leak_report_groups_blocks_by_stack) {
    quiet_logs();
    track_with_stacks(1);
    hyperion_leak_filter f = { .min_id = next_id() };
    leak_three_blocks_here();
    leak_one_big_block_here();

    hyperion_leak_summary sum;
    char *text = NULL, *json = NULL;
    HY_REQUIRE(hyperionCheckMemoryLeaks(&f, &sum, &text, &json) == HYPERION_OK);
    HY_REQUIRE(text && json);
    HY_CHECK_INT(sum.blocks, 4);
    HY_CHECK_INT(sum.bytes, 73000);
    HY_CHECK_INT(sum.groups, 2);
    /* largest first, LeakSanitizer style, naming this file's functions */
    char *big = strstr(text, "70000 bytes in 1 block (tag \"kv-cache\"");
    char *three = strstr(text, "3000 bytes in 3 blocks (tag \"test\"");
    HY_CHECK(big != NULL);
    HY_CHECK(three != NULL);
    HY_CHECK(big && three && big < three);
    HY_CHECK(strstr(text, "allocated from:\n    #0 0x") != NULL);
    HY_CHECK(strstr(text, "in leak_three_blocks_here") != NULL);
    HY_CHECK(strstr(text, "in leak_one_big_block_here") != NULL);
    HY_CHECK(strstr(text, "in memory_leak_report_groups_blocks_by_stack") != NULL);   /* frame #1: the test */
    HY_CHECK(strstr(text, "test_memory_debug.c:") != NULL || strstr(text, "hyperion_native_tests+0x") != NULL);
    HY_CHECK(strstr(text, "SUMMARY: 73000 bytes in 4 block(s)") != NULL);
    HY_CHECK(strstr(json, "\"bytes\":73000,\"blocks\":4,\"groups\":2") != NULL);
    HY_CHECK(strstr(json, "\"function\":\"leak_three_blocks_here\"") != NULL);
    hyperionFree(text);
    hyperionFree(json);

    /* a tag filter, and a group limit */
    f.tag_mask = 1u << HYPERION_TAG_TEST;
    f.max_groups = 1;
    HY_REQUIRE(hyperionCheckMemoryLeaks(&f, &sum, &text, NULL) == HYPERION_OK);
    HY_CHECK_INT(sum.blocks, 3);
    HY_CHECK(strstr(text, "kv-cache") == NULL);
    hyperionFree(text);

    for (int i = 0; i < 4; i++) hyperionFree(leaked[i]);
    f.tag_mask = 0;
    HY_REQUIRE(hyperionCheckMemoryLeaks(&f, &sum, &text, &json) == HYPERION_OK);
    HY_CHECK_INT(sum.blocks, 0);
    HY_CHECK(strstr(text, "no live tracked blocks") != NULL);
    HY_CHECK(strstr(json, "\"blocks\":0") != NULL);
    hyperionFree(text);
    hyperionFree(json);
    mem_reset();
}

HY_TEST(memory_planted_leak_appears_with_size_count_tag_and_stack) {
    track_with_stacks(1);
    hyperion_leak_filter f = { .min_id = next_id() };
    uint64_t id = hyperionTestPlantLeak(4096, HYPERION_TAG_TOKENIZER);
    HY_REQUIRE(id != 0);
    hyperion_leak_summary sum;
    char *text = NULL;
    HY_REQUIRE(hyperionCheckMemoryLeaks(&f, &sum, &text, NULL) == HYPERION_OK);
    HY_CHECK_INT(sum.blocks, 1);
    HY_CHECK_INT(sum.bytes, 4096);
    HY_CHECK(strstr(text, "4096 bytes in 1 block (tag \"tokenizer\", id") != NULL);
    HY_CHECK(strstr(text, "in hyperion_test_leaky_allocation") != NULL);
    HY_CHECK(strstr(text, "in hyperionTestPlantLeak") != NULL);
    hyperionFree(text);

    /* its trace by id */
    char *trace = NULL, *tjson = NULL;
    HY_REQUIRE(hyperionGetAllocationTrace(id, &trace, &tjson) == HYPERION_OK);
    HY_CHECK(strstr(trace, "4096 bytes, tag \"tokenizer\"") != NULL);
    HY_CHECK(strstr(trace, "hyperion_test_leaky_allocation") != NULL);
    HY_CHECK(strstr(tjson, "\"size\":4096") != NULL);
    HY_CHECK(strstr(tjson, "\"live\":true") != NULL);
    hyperionFree(trace);
    hyperionFree(tjson);

    HY_CHECK_INT(hyperionTestReleasePlantedLeak(id), HYPERION_OK);
    HY_CHECK_INT(hyperionTestReleasePlantedLeak(id), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_INT(hyperionGetAllocationTrace(id, &trace, NULL), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_STR(error_text("field"), "id");
    /* a clean run reports none */
    HY_REQUIRE(hyperionCheckMemoryLeaks(&f, &sum, NULL, NULL) == HYPERION_OK);
    HY_CHECK_INT(sum.blocks, 0);
    mem_reset();
}

HY_TEST(memory_leak_filter_by_budget_finds_what_an_owner_left_behind) {
    track_with_stacks(0);
    hy_mem_budget *model = NULL;
    HY_REQUIRE(hyperionCreateMemoryBudget("model a", 0, &model) == HYPERION_OK);
    void *mine = hyperionAllocBudget(300, HYPERION_TAG_MODEL, model);
    void *other = hyperionAlloc(500, HYPERION_TAG_MODEL);
    hyperion_leak_filter f = { .budget = model };
    hyperion_leak_summary sum;
    char *text = NULL;
    HY_REQUIRE(hyperionCheckMemoryLeaks(&f, &sum, &text, NULL) == HYPERION_OK);
    HY_CHECK_INT(sum.blocks, 1);
    HY_CHECK_INT(sum.bytes, 300);
    HY_CHECK(strstr(text, "(no stack recorded: stack traces were off)") != NULL);
    hyperionFree(text);
    hyperionFree(mine);
    hyperionFree(other);
    hyperionReleaseMemoryBudget(model);
    mem_reset();
}

HY_TEST(memory_untracked_blocks_are_counted_not_listed) {
    mem_reset();
    void *before = hyperionAlloc(100, HYPERION_TAG_OTHER);   /* tracking off */
    track_with_stacks(1);
    hyperion_leak_summary sum;
    HY_REQUIRE(hyperionCheckMemoryLeaks(NULL, &sum, NULL, NULL) == HYPERION_OK);
    HY_CHECK(sum.untracked_blocks >= 1);
    hyperionFree(before);   /* freeing a block allocated before tracking began is fine */
    hyperion_memory_debug_info d;
    hyperionGetMemoryDebugInfo(&d);
    HY_CHECK(d.tracking == 1 && d.stack_traces == 1);
    HY_CHECK_INT(hyperionEnableStackTraces(0), HYPERION_OK);
    hyperionGetMemoryDebugInfo(&d);
    HY_CHECK(d.tracking == 1 && d.stack_traces == 0);
    mem_reset();
}

/* -------------------------------------------------------------- snapshots */

static void *grown[5];

HY_TEST_NAMED static void grow_five_blocks_here(void) {
    for (int i = 0; i < 5; i++) {
        grown[i] = hyperionAlloc(2000, HYPERION_TAG_ACTIVATIONS);
        memset(grown[i], 0, 8);
    }
}

HY_TEST(memory_snapshot_difference_shows_top_growth_by_site) {
    track_with_stacks(1);
    hy_mem_snapshot *a = NULL, *b = NULL;
    HY_REQUIRE(hyperionTakeMemorySnapshot(&a) == HYPERION_OK);
    grow_five_blocks_here();
    HY_REQUIRE(hyperionTakeMemorySnapshot(&b) == HYPERION_OK);
    char *text = NULL, *json = NULL;
    HY_REQUIRE(hyperionCompareMemorySnapshots(a, b, 10, &text, &json) == HYPERION_OK);
    HY_CHECK(strstr(text, "#1: grow_five_blocks_here") != NULL);
    HY_CHECK(strstr(text, "[activations]: size=9.77 KiB (+9.77 KiB), count=5 (+5), average=1.95 KiB") != NULL);
    HY_CHECK(strstr(text, "activations: size=") != NULL);
    HY_CHECK(strstr(json, "\"size_diff\":10000,\"count\":5,\"count_diff\":5") != NULL);
    HY_CHECK(strstr(json, "\"changed_sites\":1") != NULL);   /* the snapshots themselves are not growth */
    hyperionFree(text);
    hyperionFree(json);
    /* the reverse is a shrink */
    HY_REQUIRE(hyperionCompareMemorySnapshots(b, a, 0, NULL, &json) == HYPERION_OK);
    HY_CHECK(strstr(json, "\"size_diff\":-10000") != NULL);
    hyperionFree(json);
    HY_CHECK_INT(hyperionCompareMemorySnapshots(a, NULL, 0, &text, NULL), HYPERION_INVALID_ARGUMENT);
    for (int i = 0; i < 5; i++) hyperionFree(grown[i]);
    hyperionFreeMemorySnapshot(a);
    hyperionFreeMemorySnapshot(b);
    mem_reset();
}

/* ------------------------------------------------------------- canaries */

HY_TEST(memory_canaries_catch_overflow_and_underflow) {
    quiet_logs();
    hyperion_memory_config c;
    hyperionMemoryConfigDefaults(&c);
    c.check_corruption = 1;
    c.track_allocations = 1;
    c.track_stack_traces = 1;
    HY_REQUIRE(hyperionInitMemory(&c) == HYPERION_OK);
    hyperion_memory_debug_info d0, d1;
    hyperionGetMemoryDebugInfo(&d0);

    unsigned char *small = hyperionAlloc(100, HYPERION_TAG_SCRATCH);
    unsigned char *large = hyperionAlloc(100000, HYPERION_TAG_KV_CACHE);
    unsigned char *clean = hyperionAlloc(50, HYPERION_TAG_SCRATCH);
    HY_REQUIRE(small && large && clean);
    hyperion_corruption_summary s;
    HY_REQUIRE(hyperionCheckCorruption(&s, NULL, NULL) == HYPERION_OK);
    HY_CHECK_INT(s.damaged_blocks, 0);
    HY_CHECK(s.checked_blocks >= 3);

    small[100] = 0;       /* one byte past the end */
    large[-3] = 0;        /* three bytes before the start */
    char *text = NULL, *json = NULL;
    HY_REQUIRE(hyperionCheckCorruption(&s, &text, &json) == HYPERION_OK);
    HY_CHECK_INT(s.damaged_blocks, 2);
    HY_CHECK(strstr(text, "100-byte block (tag \"scratch\"") != NULL);
    HY_CHECK(strstr(text, "damaged byte 0 after the 100-byte block") != NULL);
    HY_CHECK(strstr(text, "damaged byte 3 before the 100000-byte block") != NULL);
    HY_CHECK(strstr(text, "memory_canaries_catch_overflow_and_underflow") != NULL);   /* allocation stack */
    HY_CHECK(strstr(json, "\"side\":\"after\",\"offset\":100") != NULL);
    HY_CHECK(strstr(json, "\"side\":\"before\",\"offset\":-3") != NULL);
    hyperionFree(text);
    hyperionFree(json);

    /* checked again on free: reported as corruption, then freed */
    hyperionClearLastError();
    hyperionFree(small);
    HY_CHECK_INT(hyperionGetLastError()->code, HYPERION_CORRUPTION);
    HY_CHECK_STR(error_text("kind"), "heap-buffer-overflow");
    HY_CHECK_NEAR(error_number("offset"), 100, 0);
    HY_CHECK_NEAR(error_number("size"), 100, 0);
    hyperionClearLastError();
    hyperionFree(large);
    HY_CHECK_STR(error_text("kind"), "heap-buffer-underflow");
    hyperionClearLastError();
    hyperionFree(clean);
    HY_CHECK_INT(hyperionGetLastError()->code, HYPERION_OK);
    hyperionGetMemoryDebugInfo(&d1);
    HY_CHECK_INT(d1.corrupted_blocks - d0.corrupted_blocks, 2);
    HY_REQUIRE(hyperionCheckCorruption(&s, NULL, NULL) == HYPERION_OK);
    HY_CHECK_INT(s.damaged_blocks, 0);
    mem_reset();
}

/* ------------------------------------------------- double and invalid free */

HY_TEST(memory_double_and_invalid_free_are_reported_not_freed) {
    quiet_logs();
    hyperion_memory_debug_info d0, d1;
    hyperionGetMemoryDebugInfo(&d0);
    uint64_t base = mem_in_use();

    void *small = hyperionAlloc(200, HYPERION_TAG_SESSION);
    void *large = hyperionAlloc(200000, HYPERION_TAG_SESSION);
    hyperionFree(small);
    hyperionFree(large);
    hyperionClearLastError();
    hyperionFree(small);
    HY_CHECK_INT(hyperionGetLastError()->code, HYPERION_CORRUPTION);
    HY_CHECK_STR(error_text("kind"), "double-free");
    HY_CHECK_STR(error_text("tag"), "session");
    HY_CHECK_NEAR(error_number("size"), 200, 0);
    HY_CHECK(strstr(hyperionGetLastError()->message, "(double free)") != NULL);
    hyperionClearLastError();
    hyperionFree(large);
    HY_CHECK_STR(error_text("kind"), "double-free");

    /* not ours at all, an interior pointer, a stack address */
    void *p = hyperionAlloc(256, HYPERION_TAG_SESSION);
    char *foreign = malloc(64);
    int on_stack = 0;
    void *bad[3] = { foreign, (char *)p + 64, &on_stack };
    for (int i = 0; i < 3; i++) {
        hyperionClearLastError();
        hyperionFree(bad[i]);
        HY_CHECK_INT(hyperionGetLastError()->code, HYPERION_CORRUPTION);
        HY_CHECK_STR(error_text("kind"), "invalid-free");
    }
    HY_CHECK(hyperionRealloc((char *)p + 64, 10, HYPERION_TAG_SESSION) == NULL);
    HY_CHECK_STR(error_text("operation"), "realloc");
    free(foreign);
    /* nothing was freed by the bad calls: p is still good, the pool still works */
    memset(p, 7, 256);
    hyperionFree(p);
    void *q = hyperionAlloc(200, HYPERION_TAG_SESSION);
    HY_CHECK(q != NULL);
    hyperionFree(q);
    HY_CHECK_INT(mem_in_use(), base);
    hyperionGetMemoryDebugInfo(&d1);
    HY_CHECK_INT(d1.double_frees - d0.double_frees, 2);
    HY_CHECK_INT(d1.invalid_frees - d0.invalid_frees, 4);
}

HY_TEST(memory_stacks_are_interned) {
    track_with_stacks(1);
    hyperion_memory_debug_info d0, d1;
    void *p[10];
    p[0] = hyperionAlloc(10, HYPERION_TAG_OTHER);
    hyperionGetMemoryDebugInfo(&d0);
    for (int i = 1; i < 10; i++) p[i] = hyperionAlloc(10, HYPERION_TAG_OTHER);   /* one call site */
    hyperionGetMemoryDebugInfo(&d1);
    HY_CHECK(d1.unique_stacks - d0.unique_stacks <= 1);
    for (int i = 0; i < 10; i++) hyperionFree(p[i]);
    mem_reset();
}
