/*
 * test_gguf_util.h — small helpers shared by the GGUF tests (static inline,
 * header only).
 */
#ifndef HYPERION_TEST_GGUF_UTIL_H
#define HYPERION_TEST_GGUF_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hyperion.h"

/* Live blocks of the allocator (a leak check compares two readings). */
static inline uint64_t gguf_test_live_blocks(void) {
    hyperion_memory_stats st;
    hyperionGetMemoryStats(&st);
    return st.active_allocations;
}

static inline uint64_t gguf_test_mapped_bytes(void) {
    hyperion_memory_stats st;
    hyperionGetMemoryStats(&st);
    return st.mapped_bytes;
}

/* Write size bytes to path; 1 on success. */
static inline int gguf_test_write_file(const char *path, const void *data, size_t size) {
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    int ok = size == 0 || fwrite(data, 1, size, f) == size;
    return fclose(f) == 0 && ok;
}

/* The text of the last error's field `name`, or "" (numbers: ""). */
static inline const char *gguf_test_error_text(const char *name) {
    const hyperion_error *e = hyperionGetLastError();
    for (int i = 0; i < e->field_count; i++)
        if (!strcmp(e->fields[i].name, name) && !e->fields[i].is_number) return e->fields[i].text;
    return "";
}

/* The number of the last error's field `name`, or -1. */
static inline double gguf_test_error_number(const char *name) {
    const hyperion_error *e = hyperionGetLastError();
    for (int i = 0; i < e->field_count; i++)
        if (!strcmp(e->fields[i].name, name) && e->fields[i].is_number) return e->fields[i].number;
    return -1;
}

/* The project's shared test data folder ("shared" next to the project root,
 * or one level further up for a git worktree), or NULL. HYPERION_SHARED_DIR
 * overrides it. The project root is found from this header's own path. */
static inline const char *gguf_test_shared_dir(void) {
    static char dir[1024];
    const char *env = getenv("HYPERION_SHARED_DIR");
    struct stat st;
    if (env && *env) return stat(env, &st) == 0 ? env : NULL;
    char root[900];
    snprintf(root, sizeof root, "%s", __FILE__);
    char *marker = strstr(root, "/native/tests/");
    if (!marker) return NULL;
    *marker = '\0';
    const char *ups[] = { "/../shared", "/../../shared" };
    for (int i = 0; i < 2; i++) {
        snprintf(dir, sizeof dir, "%s%s", root, ups[i]);
        if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) return dir;
    }
    return NULL;
}

#endif
