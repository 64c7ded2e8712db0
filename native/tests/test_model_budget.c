/* test_model_budget.c — a model's own allocations are charged to its memory
 * budget (through the thread's budget scope), and what is still charged at the
 * last release is reported as a leak: to the release observer and the log. */
#include "test_memory_util.h"
#include "test_llama_util.h"

#include "runtime/model.h"

/* ------------------------------------------------------ the thread scope */

HY_TEST(memory_thread_budget_scope_charges_and_nests) {
    hy_mem_budget *outer = NULL, *inner = NULL;
    HY_REQUIRE(hyperionCreateMemoryBudget("outer", 0, &outer) == HYPERION_OK);
    HY_REQUIRE(hyperionCreateMemoryBudget("inner", 0, &inner) == HYPERION_OK);
    HY_CHECK(hyperionSetThreadMemoryBudget(outer) == NULL);
    void *a = hyperionAlloc(100, HYPERION_TAG_SCRATCH);
    void *log_block = hyperionAlloc(50, HYPERION_TAG_LOGGING);   /* the process's own: never charged */
    HY_CHECK(hyperionSetThreadMemoryBudget(inner) == outer);
    void *b = hyperionCalloc(3, 10, HYPERION_TAG_KV_CACHE);
    void *c = hyperionAllocBudget(7, HYPERION_TAG_OTHER, outer);  /* an explicit budget wins */
    HY_CHECK(hyperionSetThreadMemoryBudget(outer) == inner);
    HY_CHECK(hyperionSetThreadMemoryBudget(NULL) == outer);
    void *d = hyperionAlloc(9, HYPERION_TAG_OTHER);
    hyperion_memory_budget_usage uo, ui;
    hyperionGetMemoryBudgetUsage(outer, &uo);
    hyperionGetMemoryBudgetUsage(inner, &ui);
    HY_CHECK_INT(uo.in_use_bytes, 107);
    HY_CHECK_INT(uo.active_allocations, 2);
    HY_CHECK_INT(ui.in_use_bytes, 30);
    hyperionFree(a);
    hyperionFree(b);
    hyperionFree(c);
    hyperionFree(d);
    hyperionFree(log_block);
    hyperionGetMemoryBudgetUsage(outer, &uo);
    HY_CHECK_INT(uo.in_use_bytes, 0);
    hyperionReleaseMemoryBudget(outer);
    hyperionReleaseMemoryBudget(inner);
}

HY_TEST(memory_thread_budget_scope_limit_applies) {
    hy_mem_budget *b = NULL;
    HY_REQUIRE(hyperionCreateMemoryBudget("small owner", 1000, &b) == HYPERION_OK);
    hy_mem_budget *prev = hyperionSetThreadMemoryBudget(b);
    void *ok = hyperionAlloc(600, HYPERION_TAG_ACTIVATIONS);
    void *refused = hyperionAlloc(600, HYPERION_TAG_ACTIVATIONS);
    hyperionSetThreadMemoryBudget(prev);
    HY_CHECK(ok != NULL);
    HY_CHECK(refused == NULL);
    HY_CHECK_INT(hyperionGetLastError()->code, HYPERION_MEMORY_LIMIT);
    HY_CHECK_STR(error_text("budget"), "small owner");
    hyperionFree(ok);
    hyperionReleaseMemoryBudget(b);
}

/* ---------------------------------------------------------- the model */

typedef struct observed {
    int calls;
    uint64_t bytes, blocks, tracked;
    char name[64];
    int text_names_function, json_has_site;
} observed;

static void observe(const hy_model_leak_report *r, void *user) {
    observed *o = user;
    o->calls++;
    o->bytes = r->bytes;
    o->blocks = r->blocks;
    o->tracked = r->tracked;
    snprintf(o->name, sizeof o->name, "%s", r->name);
    o->text_names_function = r->text && strstr(r->text, "model_budget_test_leaks") != NULL;
    o->json_has_site = r->json && strstr(r->json, "\"tag\":\"test\"") != NULL;
}

static void *leaked;

/* Allocates in the model's scope and "forgets" the block, as a buggy request would. */
HY_TEST_NAMED static void model_budget_test_leaks(hy_model *m, size_t size) {
    hy_mem_budget *prev = hyperionSetThreadMemoryBudget(m->budget);
    leaked = hyperionAlloc(size, HYPERION_TAG_TEST);
    hyperionSetThreadMemoryBudget(prev);
    __asm__ volatile("" ::: "memory");
}

static hy_model *load(void) {
    const char *path = hy_test_shared_model("stories260K.gguf");
    if (!path) {
        printf("    (../shared/models/stories260K.gguf absent: skipped)\n");
        return NULL;
    }
    hy_model_params p = { 1, 0, 0, { 0 } };
    hy_model *m = NULL;
    if (hy_model_load(path, &p, &m) != HYPERION_OK) {
        hy_test_fail(__FILE__, __LINE__, "load failed: %s", hyperionGetLastError()->message);
        return NULL;
    }
    return m;
}

HY_TEST(model_budget_is_clean_after_load_evaluate_dispose) {
    uint64_t before = mem_in_use();
    hy_model *m = load();
    if (!m) return;
    uint64_t loaded = hy_model_memory_bytes(m);
    HY_CHECK(loaded > 0);   /* the model's tables are charged to it */
    observed o = { 0 };
    hy_model_set_release_observer(m, observe, &o);
    int32_t tokens[] = { 1, 403, 407, 261 };
    float *logits = malloc(512 * sizeof(float));
    HY_CHECK(hy_model_evaluate(m, tokens, 4, 0, logits, NULL) == HYPERION_OK);
    free(logits);
    HY_CHECK_INT(hy_model_memory_bytes(m), loaded);   /* the request's buffers came and went */
    hy_model_dispose(m);
    HY_CHECK_INT(o.calls, 1);
    HY_CHECK_INT(o.blocks, 0);
    HY_CHECK_INT(o.bytes, 0);
    HY_CHECK_STR(o.name, "model stories260K.gguf");
    HY_CHECK_INT(mem_in_use(), before);
}

HY_TEST(model_budget_reports_what_the_model_left_behind) {
    quiet_logs();   /* the leak warning is expected */
    hyperion_memory_config c;
    hyperionMemoryConfigDefaults(&c);
    c.track_stack_traces = 1;
    HY_REQUIRE(hyperionInitMemory(&c) == HYPERION_OK);
    hy_model *m = load();
    if (!m) {
        mem_reset();
        return;
    }
    observed o = { 0 };
    hy_model_set_release_observer(m, observe, &o);
    model_budget_test_leaks(m, 333);
    HY_REQUIRE(leaked != NULL);
    hy_model_acquire(m);      /* a request in flight: the check waits for the last release */
    hy_model_dispose(m);
    HY_CHECK_INT(o.calls, 0);
    hy_model_release(m);
    HY_CHECK_INT(o.calls, 1);
    HY_CHECK_INT(o.bytes, 333);
    HY_CHECK_INT(o.blocks, 1);
    HY_CHECK_INT(o.tracked, 1);
    HY_CHECK(o.text_names_function);
    HY_CHECK(o.json_has_site);
    hyperionFree(leaked);     /* the budget outlived the model for this block; freeing it ends both */
    leaked = NULL;
    mem_reset();
}
