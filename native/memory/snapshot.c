/*
 * snapshot.c — snapshots of the live tracked blocks by allocation site, and
 * their difference (top growth first, like Python's tracemalloc compare_to).
 *
 * A site is (stack, tag). Blocks of the debugger's own (memory-debugger tag:
 * snapshots, report strings) are left out, so taking snapshots does not show
 * up as growth. The per-tag counters are kept too, so a comparison still says
 * something when tracking was off.
 */
#include "mem_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct snap_site {
    uint32_t stack;
    uint8_t tag;
    uint64_t bytes, blocks;
} snap_site;

struct hy_mem_snapshot {
    uint64_t time_ns;
    int tracking;
    size_t nsites;
    hyperion_memory_tag_info tags[HYPERION_TAG_COUNT];
    snap_site sites[];
};

static int by_site(const void *a, const void *b) {
    const hy_track_rec *x = a, *y = b;
    if (x->stack != y->stack) return x->stack < y->stack ? -1 : 1;
    return (x->tag > y->tag) - (x->tag < y->tag);
}

hyperion_status hyperionTakeMemorySnapshot(hy_mem_snapshot **out) {
    if (!out)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", "out") }), "out must not be NULL");
    *out = NULL;
    hy_mem_ensure_started();
    hy_track_rec *recs;
    size_t recs_bytes;
    size_t n = hy_track_copy(&recs, &recs_bytes);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (recs[i].tag != HYPERION_TAG_DEBUGGER) recs[kept++] = recs[i];
    if (kept) qsort(recs, kept, sizeof *recs, by_site);
    size_t nsites = 0;
    for (size_t i = 0; i < kept; i++)
        if (i == 0 || recs[i].stack != recs[i - 1].stack || recs[i].tag != recs[i - 1].tag) nsites++;
    hy_caller c = HY_CALLER_HERE();
    hy_mem_snapshot *s = hy_mem_allocate(sizeof *s + nsites * sizeof(snap_site), 0, HYPERION_TAG_DEBUGGER, NULL, &c,
                                         HY_ALLOC_INTERNAL);
    if (!s) {
        if (recs) hy_meta_free(recs, recs_bytes);
        return hyperionGetLastError()->code;
    }
    memset(s, 0, sizeof *s);
    s->time_ns = hy_clock_monotonic_ns();
    s->tracking = atomic_load(&hy_mem_set.tracking);
    size_t k = 0;
    for (size_t i = 0; i < kept; i++) {
        if (i == 0 || recs[i].stack != recs[i - 1].stack || recs[i].tag != recs[i - 1].tag) {
            s->sites[k].stack = recs[i].stack;
            s->sites[k].tag = recs[i].tag;
            s->sites[k].bytes = s->sites[k].blocks = 0;
            k++;
        }
        s->sites[k - 1].bytes += recs[i].size;
        s->sites[k - 1].blocks++;
    }
    s->nsites = k;
    if (recs) hy_meta_free(recs, recs_bytes);
    hyperion_memory_debug_info info;
    hyperionGetMemoryDebugInfo(&info);
    memcpy(s->tags, info.tags, sizeof s->tags);
    /* the snapshot itself is not growth */
    s->tags[HYPERION_TAG_DEBUGGER].bytes = s->tags[HYPERION_TAG_DEBUGGER].blocks = 0;
    *out = s;
    return HYPERION_OK;
}

void hyperionFreeMemorySnapshot(hy_mem_snapshot *snapshot) {
    if (!snapshot) return;
    hy_caller c = HY_CALLER_HERE();
    hy_mem_release(snapshot, &c);
}

/* ------------------------------------------------------------- compare */

typedef struct site_diff {
    uint32_t stack;
    uint8_t tag;
    uint64_t bytes, blocks;
    int64_t bytes_diff, blocks_diff;
} site_diff;

static int site_cmp(const snap_site *a, const snap_site *b) {
    if (a->stack != b->stack) return a->stack < b->stack ? -1 : 1;
    return (a->tag > b->tag) - (a->tag < b->tag);
}

static int by_growth(const void *a, const void *b) {
    const site_diff *x = a, *y = b;
    uint64_t ax = x->bytes_diff < 0 ? (uint64_t)0 - (uint64_t)x->bytes_diff : (uint64_t)x->bytes_diff;
    uint64_t ay = y->bytes_diff < 0 ? (uint64_t)0 - (uint64_t)y->bytes_diff : (uint64_t)y->bytes_diff;
    if (ax != ay) return ax > ay ? -1 : 1;
    if (x->bytes != y->bytes) return x->bytes > y->bytes ? -1 : 1;
    return (x->stack > y->stack) - (x->stack < y->stack);
}

static void signed_bytes(int64_t v, char *out, size_t size) {
    char mag[32];
    hy_mem_format_bytes(v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, mag, sizeof mag);
    size_t n = strlen(mag);
    if (size < n + 2) {
        if (size) out[0] = '\0';
        return;
    }
    out[0] = v < 0 ? '-' : '+';
    memcpy(out + 1, mag, n + 1);
}

/* "function file:line" of a stack's first frame, or "(no stack)". */
static void site_name(uint32_t stack, char *out, size_t size) {
    const uintptr_t *frames;
    if (hy_stack_frames(stack, &frames) == 0) {
        snprintf(out, size, "(no stack)");
        return;
    }
    hy_symbol sym;
    hy_symbolize(frames, 1, &sym);
    if (sym.file[0]) snprintf(out, size, "%s %s:%d", sym.function[0] ? sym.function : "??", sym.file, sym.line);
    else if (sym.function[0]) snprintf(out, size, "%s", sym.function);
    else snprintf(out, size, "0x%llx", (unsigned long long)sym.address);
}

hyperion_status hyperionCompareMemorySnapshots(const hy_mem_snapshot *before, const hy_mem_snapshot *after,
                                               uint32_t top, char **text, char **json) {
    if (text) *text = NULL;
    if (json) *json = NULL;
    if (!before || !after)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", before ? "after" : "before") }),
                             "both snapshots are needed");
    size_t cap = before->nsites + after->nsites;
    size_t diffs_bytes = (cap ? cap : 1) * sizeof(site_diff);
    site_diff *diffs = hy_meta_alloc(diffs_bytes);
    if (!diffs) return HY_RAISE(HYPERION_OUT_OF_MEMORY, NULL, "no memory to compare snapshots");
    size_t nd = 0, i = 0, k = 0;
    while (i < before->nsites || k < after->nsites) {
        const snap_site *b = i < before->nsites ? &before->sites[i] : NULL;
        const snap_site *a = k < after->nsites ? &after->sites[k] : NULL;
        int c = !b ? 1 : !a ? -1 : site_cmp(b, a);
        site_diff *d = &diffs[nd];
        if (c < 0) {          /* gone */
            *d = (site_diff){ b->stack, b->tag, 0, 0, -(int64_t)b->bytes, -(int64_t)b->blocks };
            i++;
        } else if (c > 0) {   /* new */
            *d = (site_diff){ a->stack, a->tag, a->bytes, a->blocks, (int64_t)a->bytes, (int64_t)a->blocks };
            k++;
        } else {
            *d = (site_diff){ a->stack, a->tag, a->bytes, a->blocks, (int64_t)a->bytes - (int64_t)b->bytes,
                              (int64_t)a->blocks - (int64_t)b->blocks };
            i++;
            k++;
        }
        if (d->bytes_diff || d->blocks_diff) nd++;
    }
    if (nd) qsort(diffs, nd, sizeof *diffs, by_growth);
    size_t shown = top && top < nd ? top : nd;
    if (shown && (text || json)) {
        uint32_t ids[256];
        size_t k = 0;
        for (; k < shown && k < 256; k++) ids[k] = diffs[k].stack;
        hy_symbolize_prefetch(ids, k);
    }
    double elapsed = (double)(after->time_ns - before->time_ns) / 1e6;

    hy_strbuf t, j;
    hy_sb_init(&t);
    hy_sb_init(&j);
    if (text) {
        hy_sb_printf(&t, "memory growth by allocation site (after - before, %.1f ms apart): %zu site(s) changed\n",
                     elapsed, nd);
        if (!before->tracking || !after->tracking)
            hy_sb_printf(&t, "(allocation tracking was off for a snapshot: sites are incomplete, see the tags)\n");
        for (size_t n = 0; n < shown; n++) {
            const site_diff *d = &diffs[n];
            char name[400], size[32], diff[32], avg[32];
            site_name(d->stack, name, sizeof name);
            hy_mem_format_bytes(d->bytes, size, sizeof size);
            signed_bytes(d->bytes_diff, diff, sizeof diff);
            hy_mem_format_bytes(d->blocks ? d->bytes / d->blocks : 0, avg, sizeof avg);
            hy_sb_printf(&t, "#%zu: %s [%s]: size=%s (%s), count=%llu (%+lld), average=%s\n", n + 1, name,
                         hyperionTagName((hyperion_mem_tag)d->tag), size, diff, (unsigned long long)d->blocks,
                         (long long)d->blocks_diff, avg);
            hy_report_stack_text(&t, d->stack);
        }
        hy_sb_printf(&t, "by tag:\n");
        for (int g = 0; g < HYPERION_TAG_COUNT; g++) {
            int64_t db = (int64_t)after->tags[g].bytes - (int64_t)before->tags[g].bytes;
            int64_t dn = (int64_t)after->tags[g].blocks - (int64_t)before->tags[g].blocks;
            if (!db && !dn) continue;
            char diff[32], size[32];
            signed_bytes(db, diff, sizeof diff);
            hy_mem_format_bytes(after->tags[g].bytes, size, sizeof size);
            hy_sb_printf(&t, "  %s: size=%s (%s), count=%llu (%+lld)\n", hyperionTagName((hyperion_mem_tag)g), size, diff,
                         (unsigned long long)after->tags[g].blocks, (long long)dn);
        }
    }
    if (json) {
        hy_sb_printf(&j, "{\"elapsed_ms\":%.3f,\"tracking\":%s,\"changed_sites\":%zu,\"sites\":[", elapsed,
                     before->tracking && after->tracking ? "true" : "false", nd);
        for (size_t n = 0; n < shown; n++) {
            const site_diff *d = &diffs[n];
            hy_sb_printf(&j, "%s{\"tag\":\"%s\",\"stack_id\":%u,\"size\":%llu,\"size_diff\":%lld,\"count\":%llu,\"count_diff\":%lld,\"stack\":",
                         n ? "," : "", hyperionTagName((hyperion_mem_tag)d->tag), d->stack, (unsigned long long)d->bytes,
                         (long long)d->bytes_diff, (unsigned long long)d->blocks, (long long)d->blocks_diff);
            hy_report_stack_json(&j, d->stack);
            hy_sb_append(&j, "}", 1);
        }
        hy_sb_append(&j, "],\"tags\":[", 10);
        int first = 1;
        for (int g = 0; g < HYPERION_TAG_COUNT; g++) {
            int64_t db = (int64_t)after->tags[g].bytes - (int64_t)before->tags[g].bytes;
            int64_t dn = (int64_t)after->tags[g].blocks - (int64_t)before->tags[g].blocks;
            if (!db && !dn) continue;
            hy_sb_printf(&j, "%s{\"tag\":\"%s\",\"size\":%llu,\"size_diff\":%lld,\"count\":%llu,\"count_diff\":%lld}",
                         first ? "" : ",", hyperionTagName((hyperion_mem_tag)g), (unsigned long long)after->tags[g].bytes,
                         (long long)db, (unsigned long long)after->tags[g].blocks, (long long)dn);
            first = 0;
        }
        hy_sb_append(&j, "]}", 2);
    }
    hy_meta_free(diffs, diffs_bytes);
    return hy_report_finish(text ? &t : NULL, text, json ? &j : NULL, json);
}
