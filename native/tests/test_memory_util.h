/*
 * test_memory_util.h — small helpers shared by the memory debugger's tests.
 */
#ifndef HYPERION_TEST_MEMORY_UTIL_H
#define HYPERION_TEST_MEMORY_UTIL_H

#include "harness.h"
#include "memory/mem_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A function whose name must survive into a stack: never inlined, cloned or
 * turned into a tail call by the optimizer. */
#if defined(__clang__)
#define HY_TEST_NAMED __attribute__((noinline, optnone))
#else
#define HY_TEST_NAMED __attribute__((noinline, noipa))
#endif

static inline uint64_t mem_in_use(void) {
    hyperion_memory_stats s;
    hyperionGetMemoryStats(&s);
    return s.in_use_bytes;
}

/* Back to the default settings (what the other tests expect). */
static inline void mem_reset(void) {
    hyperionInitMemory(NULL);
}

/* Start the logger with the console off: the expected error reports of these
 * tests stay out of the test output, and the logger's queue (allocated when
 * it starts) is not mistaken for a test's own use. */
static inline void quiet_logs(void) {
    hyperion_log_config c;
    hyperionLogConfigDefaults(&c);
    c.console = 0;
    hyperionConfigureLogging(&c);
}

static inline const hyperion_error_field *error_field(const char *name) {
    const hyperion_error *e = hyperionGetLastError();
    for (int i = 0; i < e->field_count; i++)
        if (strcmp(e->fields[i].name, name) == 0) return &e->fields[i];
    return NULL;
}

static inline double error_number(const char *name) {
    const hyperion_error_field *f = error_field(name);
    return f && f->is_number ? f->number : -1.0;
}

static inline const char *error_text(const char *name) {
    const hyperion_error_field *f = error_field(name);
    return f && !f->is_number ? f->text : "";
}

static inline char *mem_read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    buf[got] = 0;
    fclose(f);
    return buf;
}

#endif
