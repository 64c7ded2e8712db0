/*
 * stats.c — the debugger's counters and the heap statistics.
 *
 * Fragmentation, three figures (DESIGN.md section 7):
 *   inside blocks    1 - in use / allocated   (slot and page rounding, canaries)
 *   between blocks   1 - largest free run / all free runs  (free pages in arenas)
 *   reserved unused  1 - allocated / reserved (arena bytes not backing a block)
 * The process RSS comes from /proc/self/smaps_rollup (anonymous and file-backed
 * apart), or /proc/self/statm where that file is missing.
 */
#include "mem_internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void tag_table(hyperion_memory_tag_info *tags) {
    for (int i = 0; i < HYPERION_TAG_COUNT; i++) {
        tags[i].bytes = atomic_load(&hy_mem_count.tag_bytes[i]);
        tags[i].blocks = atomic_load(&hy_mem_count.tag_blocks[i]);
        tags[i].peak_bytes = atomic_load(&hy_mem_count.tag_peak[i]);
        tags[i].total_allocations = atomic_load(&hy_mem_count.tag_total[i]);
    }
}

void hyperionGetMemoryDebugInfo(hyperion_memory_debug_info *info) {
    hy_mem_ensure_started();
    memset(info, 0, sizeof *info);
    info->tracking = atomic_load(&hy_mem_set.tracking);
    info->stack_traces = atomic_load(&hy_mem_set.stacks);
    info->check_corruption = atomic_load(&hy_mem_set.check_corruption);
    info->guard_mode = (hyperion_guard_mode)atomic_load(&hy_mem_set.guard_mode);
    info->active_allocations = atomic_load(&hy_mem_count.active);
    info->total_allocations = atomic_load(&hy_mem_count.total);
    info->total_frees = atomic_load(&hy_mem_count.frees);
    info->failed_allocations = atomic_load(&hy_mem_count.failed);
    info->in_use_bytes = atomic_load(&hy_mem_count.in_use);
    info->peak_bytes = atomic_load(&hy_mem_count.peak);
    info->total_allocated_bytes = atomic_load(&hy_mem_count.total_bytes);
    info->limit_bytes = atomic_load(&hy_mem_set.limit);
    info->tracked_blocks = hy_track_count();
    info->tracked_bytes = hy_track_bytes();
    info->unique_stacks = hy_stack_count();
    info->next_id = atomic_load(&hy_mem_count.next_id) + 1;
    hy_guard_stats g;
    hy_guard_get_stats(&g);
    info->guarded_blocks = g.live_blocks;
    info->guarded_bytes = g.live_bytes;
    info->quarantined_blocks = g.quarantined_blocks;
    info->quarantined_bytes = g.quarantined_bytes;
    info->guard_mappings = g.mappings;
    info->guard_fallbacks = g.fallbacks;
    info->double_frees = atomic_load(&hy_mem_count.double_frees);
    info->invalid_frees = atomic_load(&hy_mem_count.invalid_frees);
    info->corrupted_blocks = atomic_load(&hy_mem_count.corrupted);
    tag_table(info->tags);
}

/* ------------------------------------------------------------------- RSS */

/* Read a small /proc file into buf; the length, or -1. */
static ssize_t read_small(const char *path, char *buf, size_t size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t len = 0;
    while (len + 1 < size) {
        ssize_t n = read(fd, buf + len, size - 1 - len);
        if (n <= 0) break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    return (ssize_t)len;
}

/* "Name:   1234 kB" -> bytes; -1 when the line is missing. */
static int64_t kb_field(const char *text, const char *name) {
    size_t n = strlen(name);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, name, n) == 0 && p[n] == ':') return (int64_t)strtoull(p + n + 1, NULL, 10) * 1024;
    }
    return -1;
}

static void read_rss(hyperion_heap_stats *s) {
    char buf[4096];
    if (read_small("/proc/self/smaps_rollup", buf, sizeof buf) > 0) {
        int64_t rss = kb_field(buf, "Rss"), anon = kb_field(buf, "Anonymous"), shmem = kb_field(buf, "Pss_Shmem");
        if (rss >= 0) {
            s->rss_known = 1;
            s->rss_bytes = (uint64_t)rss;
            s->rss_anon_bytes = anon > 0 ? (uint64_t)anon : 0;
            s->rss_shmem_bytes = shmem > 0 ? (uint64_t)shmem : 0;
            uint64_t other = s->rss_anon_bytes + s->rss_shmem_bytes;
            s->rss_file_bytes = s->rss_bytes > other ? s->rss_bytes - other : 0;
            return;
        }
    }
    if (read_small("/proc/self/statm", buf, sizeof buf) > 0) {
        unsigned long long size = 0, resident = 0, shared = 0;
        if (sscanf(buf, "%llu %llu %llu", &size, &resident, &shared) == 3) {
            uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
            s->rss_known = 1;
            s->rss_bytes = resident * page;
            s->rss_file_bytes = shared * page;
            s->rss_anon_bytes = resident > shared ? (resident - shared) * page : 0;
        }
    }
}

/* ------------------------------------------------------------ heap stats */

void hyperionGetHeapStats(hyperion_heap_stats *s) {
    hy_mem_ensure_started();
    memset(s, 0, sizeof *s);
    hy_pool_stats p;
    hy_pool_get_stats(&p);
    hy_guard_stats g;
    hy_guard_get_stats(&g);
    s->address_space_bytes = p.address_space;
    s->reserved_bytes = p.reserved;
    s->committed_bytes = p.committed;
    s->in_use_bytes = atomic_load(&hy_mem_count.in_use);
    s->allocated_bytes = p.allocated;
    s->peak_bytes = atomic_load(&hy_mem_count.peak);
    s->limit_bytes = atomic_load(&hy_mem_set.limit);
    s->free_bytes = p.free_bytes;
    s->largest_free_block = p.largest_free;
    s->slab_free_bytes = p.slab_free;
    /* in use of the pool alone (guarded blocks have their own mappings) */
    uint64_t pool_in_use = s->in_use_bytes > g.live_bytes ? s->in_use_bytes - g.live_bytes : 0;
    s->fragmentation_internal = p.allocated ? 1.0 - (double)pool_in_use / (double)p.allocated : 0.0;
    if (s->fragmentation_internal < 0) s->fragmentation_internal = 0;
    s->fragmentation_external = p.free_bytes ? 1.0 - (double)p.largest_free / (double)p.free_bytes : 0.0;
    s->fragmentation_reserved = p.reserved ? 1.0 - (double)p.allocated / (double)p.reserved : 0.0;
    s->metadata_bytes = hy_meta_bytes();
    s->guard_mapped_bytes = g.mapped_bytes;
    s->quarantine_bytes = g.quarantined_bytes;
    s->mapped_bytes = atomic_load(&hy_mem_count.mapped);
    read_rss(s);
    s->mapped_resident_bytes = s->rss_file_bytes < s->mapped_bytes ? s->rss_file_bytes : s->mapped_bytes;
    tag_table(s->tags);
}
