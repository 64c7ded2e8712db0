/*
 * clock.c — clocks, thread ids and log timestamps.
 */
#include "internal.h"

#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

uint64_t hy_clock_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t hy_clock_realtime_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t hy_thread_id(void) {
    static _Thread_local uint64_t cached;
    if (!cached) cached = (uint64_t)syscall(SYS_gettid);
    return cached;
}

void hy_format_iso8601(uint64_t time_ns, char *buf, size_t size) {
    time_t seconds = (time_t)(time_ns / 1000000000ull);
    unsigned millis = (unsigned)((time_ns / 1000000ull) % 1000ull);
    struct tm tm;
    gmtime_r(&seconds, &tm);
    char date[24];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, size, "%s.%03uZ", date, millis);
}
