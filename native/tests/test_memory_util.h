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
#include <time.h>

/* A function whose name must survive into a stack: never inlined, cloned or
 * turned into a tail call by the optimizer. */
#if defined(__clang__)
#define HY_TEST_NAMED __attribute__((noinline, optnone))
#else
#define HY_TEST_NAMED __attribute__((noinline, noipa))
#endif

/* Bytes in use by everything but the logger, whose thread allocates and frees
 * on its own schedule (a retired queue is freed whenever it gets to it). */
static inline uint64_t mem_in_use(void) {
    hyperion_memory_stats s;
    hyperionGetMemoryStats(&s);
    uint64_t sum = 0;
    for (int i = 0; i < HYPERION_TAG_COUNT; i++)
        if (i != HYPERION_TAG_LOGGING) sum += s.tag_bytes[i];
    return sum;
}

/* Back to the default settings (what the other tests expect). */
static inline void mem_reset(void) {
    hyperionInitMemory(NULL);
}

/* Start the logger with the console off: the expected error reports of these
 * tests stay out of the test output, and the logger's queue (allocated when
 * it starts) is not mistaken for a test's own use. */
static inline void quiet_logs(void) {
    static int settled;
    hyperion_log_config c;
    hyperionLogConfigDefaults(&c);
    c.console = 0;
    hyperionConfigureLogging(&c);
    if (settled) return;
    /* A queue replaced by a configuration change is freed by the logger thread
     * on its next round (every 50 ms): wait until its memory stops moving. */
    settled = 1;
    hyperionLogFlush(1000);
    uint64_t last = ~(uint64_t)0;
    for (int stable = 0, i = 0; stable < 2 && i < 10; i++) {
        struct timespec pause = { 0, 60 * 1000 * 1000 };
        nanosleep(&pause, NULL);
        hyperion_memory_stats s;
        hyperionGetMemoryStats(&s);
        stable = s.tag_bytes[HYPERION_TAG_LOGGING] == last ? stable + 1 : 0;
        last = s.tag_bytes[HYPERION_TAG_LOGGING];
    }
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
