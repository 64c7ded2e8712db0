/*
 * fuzz_common.h — what every fuzz target and the fuzz regression test share
 * (test-only code: never part of the runtime library).
 *
 * A checker ("one input" function) runs one input and returns NULL when every
 * invariant held, or a static message naming the broken one. The libFuzzer
 * entries abort on a message (libFuzzer saves the input); the native
 * regression test reports it as a failure.
 *
 * Invariants checked for every input, on top of what ASan/UBSan see:
 *  - a failing call returns one of the statuses its contract allows, and the
 *    thread's last-error record carries that same code and a message;
 *  - after the input, the pool holds exactly the blocks it held before (the
 *    pool's arenas are mmap'd, so LeakSanitizer cannot see pool leaks);
 *  - the pool saw no double free, invalid free or damaged canary.
 */
#ifndef HYPERION_FUZZ_COMMON_H
#define HYPERION_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "hyperion.h"

/* Configure the memory debugger for fuzzing (canaries on every pooled block;
 * with $HYPERION_FUZZ_GUARD=1, as scripts/fuzz.mjs sets by default, every block
 * on its own guard pages instead) and silence the log unless $HYPERION_FUZZ_LOG
 * is set. Idempotent. */
void hy_fuzz_setup(void);

/* Pool state before an input. */
typedef struct hy_fuzz_mark {
    uint64_t active;
    uint64_t bad;      /* double + invalid frees + damaged blocks */
} hy_fuzz_mark;

void hy_fuzz_mark_take(hy_fuzz_mark *mark);

/* NULL when the pool is back to the mark and saw no bad free or damage. */
const char *hy_fuzz_mark_check(const hy_fuzz_mark *mark);

/* NULL when status is HYPERION_OK, or is in allowed[0..n) and the last-error
 * record matches it (same code, non-empty message). */
const char *hy_fuzz_check_status(hyperion_status status, const hyperion_status *allowed, size_t n);

#define HY_FUZZ_ALLOWED(status, ...)                                                                 \
    hy_fuzz_check_status((status), (const hyperion_status[]){ __VA_ARGS__ },                         \
                         sizeof((const hyperion_status[]){ __VA_ARGS__ }) / sizeof(hyperion_status))

/* Print "fuzz <target>: <why>" on stderr and abort() (libFuzzer entries only). */
void hy_fuzz_die(const char *target, const char *why) __attribute__((noreturn));

/* A little cursor over the fuzzer's bytes: reads past the end give zeros. */
typedef struct hy_fuzz_reader {
    const uint8_t *p;
    size_t size, at;
} hy_fuzz_reader;

uint8_t hy_fuzz_u8(hy_fuzz_reader *r);
uint16_t hy_fuzz_u16(hy_fuzz_reader *r);
uint32_t hy_fuzz_u32(hy_fuzz_reader *r);
uint64_t hy_fuzz_u64(hy_fuzz_reader *r);
/* A float: with one selector byte either a value from a table of interesting
 * ones (0, 1, -1, tiny, huge, NaN, ±Inf, denormal ...) or 4 raw bytes. */
float hy_fuzz_float(hy_fuzz_reader *r);
size_t hy_fuzz_left(const hy_fuzz_reader *r);

/* The source root (from this file's path) for locating ../shared and
 * fuzz/regressions; $HYPERION_SHARED_DIR overrides the shared folder. */
const char *hy_fuzz_shared_dir(void);
const char *hy_fuzz_source_root(void);

#endif
