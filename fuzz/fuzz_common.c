/* fuzz_common.c — setup, leak/corruption marks, status checks and the byte
 * reader shared by the fuzz targets (see fuzz_common.h). Test-only. */
#include "fuzz_common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hyperion_memory.h"

/* ------------------------------------------------------------------ setup */

void hy_fuzz_setup(void) {
    static int done;
    if (done) return;
    done = 1;
    const char *log = getenv("HYPERION_FUZZ_LOG");
    hyperionSetLogLevel(log && *log ? HYPERION_LOG_WARN : HYPERION_LOG_OFF);
    hyperion_memory_config cfg;
    hyperionMemoryConfigDefaults(&cfg);
    cfg.check_corruption = 1;            /* canaries: writes past a pooled block */
    const char *guard = getenv("HYPERION_FUZZ_GUARD");
    if (guard && strcmp(guard, "1") == 0) {
        /* every block on its own pages, its end against an inaccessible page:
         * reads and writes one byte past any block fault (slower) */
        cfg.guard_mode = HYPERION_GUARD_ALL;
        cfg.guard_alignment = 1;
        cfg.quarantine_blocks = 256;
    }
    if (hyperionInitMemory(&cfg) != HYPERION_OK) {
        fprintf(stderr, "fuzz: hyperionInitMemory failed: %s\n", hyperionGetLastError()->message);
        abort();
    }
}

/* ------------------------------------------------------------------ marks */

static uint64_t bad_count(const hyperion_memory_debug_info *d) {
    return d->double_frees + d->invalid_frees + d->corrupted_blocks;
}

/* Live blocks, not counting the logger's (a log record may be queued for the
 * writer thread across the input) nor the debugger's own reports. */
static uint64_t live_blocks(const hyperion_memory_debug_info *d) {
    return d->active_allocations - d->tags[HYPERION_TAG_LOGGING].blocks - d->tags[HYPERION_TAG_DEBUGGER].blocks;
}

void hy_fuzz_mark_take(hy_fuzz_mark *mark) {
    hyperion_memory_debug_info d;
    hyperionGetMemoryDebugInfo(&d);
    mark->active = live_blocks(&d);
    mark->bad = bad_count(&d);
}

const char *hy_fuzz_mark_check(const hy_fuzz_mark *mark) {
    static _Thread_local char msg[160];
    hyperion_memory_debug_info d;
    hyperionGetMemoryDebugInfo(&d);
    if (bad_count(&d) != mark->bad) return "the pool saw a double free, an invalid free or a damaged canary";
    if (live_blocks(&d) != mark->active) {
        snprintf(msg, sizeof msg, "pool leak: %llu live blocks before the input, %llu after",
                 (unsigned long long)mark->active, (unsigned long long)live_blocks(&d));
        return msg;
    }
    return NULL;
}

const char *hy_fuzz_check_status(hyperion_status status, const hyperion_status *allowed, size_t n) {
    static _Thread_local char msg[700];
    if (status == HYPERION_OK) return NULL;
    int ok = 0;
    for (size_t i = 0; i < n; i++) ok |= status == allowed[i];
    const hyperion_error *e = hyperionGetLastError();
    if (!ok) {
        snprintf(msg, sizeof msg, "unexpected status %s (%s)", hyperionStatusName(status), e->message);
        return msg;
    }
    if (e->code != status || e->message[0] == 0) {
        snprintf(msg, sizeof msg, "status %s but the last-error record says %s \"%s\"", hyperionStatusName(status),
                 hyperionStatusName(e->code), e->message);
        return msg;
    }
    return NULL;
}

void hy_fuzz_die(const char *target, const char *why) {
    fprintf(stderr, "\nfuzz %s: invariant broken: %s\n", target, why);
    fflush(stderr);
    abort();
}

/* ----------------------------------------------------------------- reader */

size_t hy_fuzz_left(const hy_fuzz_reader *r) { return r->at < r->size ? r->size - r->at : 0; }

static void take(hy_fuzz_reader *r, void *dst, size_t n) {
    memset(dst, 0, n);
    size_t k = hy_fuzz_left(r) < n ? hy_fuzz_left(r) : n;
    if (k) memcpy(dst, r->p + r->at, k);
    r->at += k;
}

uint8_t hy_fuzz_u8(hy_fuzz_reader *r) { uint8_t v; take(r, &v, 1); return v; }
uint16_t hy_fuzz_u16(hy_fuzz_reader *r) { uint16_t v; take(r, &v, 2); return v; }
uint32_t hy_fuzz_u32(hy_fuzz_reader *r) { uint32_t v; take(r, &v, 4); return v; }
uint64_t hy_fuzz_u64(hy_fuzz_reader *r) { uint64_t v; take(r, &v, 8); return v; }

float hy_fuzz_float(hy_fuzz_reader *r) {
    static const float table[] = { 0.0f, 1.0f, -1.0f, 0.5f, 0.95f, 0.05f, 2.0f, 1e-6f, 1e-30f, 1e30f, 3.4e38f,
                                   1.4e-45f /* denormal */, -0.0f, 100.0f, -100.0f, 0.999999f };
    uint8_t sel = hy_fuzz_u8(r);
    if (sel < 16) return table[sel];
    if (sel == 16) return NAN;
    if (sel == 17) return INFINITY;
    if (sel == 18) return -INFINITY;
    if (sel < 128) return (float)(sel - 64) / 16.0f;   /* small ordinary values */
    float f;
    uint32_t bits = hy_fuzz_u32(r);
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* ------------------------------------------------------------------ paths */

const char *hy_fuzz_source_root(void) {
    static char dir[1024];
    if (dir[0]) return dir;
    /* __FILE__ is <root>/fuzz/fuzz_common.c (CMake passes absolute paths) */
    snprintf(dir, sizeof dir, "%s", __FILE__);
    for (int k = 0; k < 2; k++) {
        char *slash = strrchr(dir, '/');
        if (!slash) { snprintf(dir, sizeof dir, "."); return dir; }
        *slash = 0;
    }
    return dir;
}

const char *hy_fuzz_shared_dir(void) {
    static char dir[1100];
    const char *env = getenv("HYPERION_SHARED_DIR");
    if (env && *env) return env;
    snprintf(dir, sizeof dir, "%s/../shared", hy_fuzz_source_root());
    return dir;
}
