/*
 * report.c — report text: growing buffers, symbolized stacks, the leak report
 * and allocation traces.
 *
 * Report buffers come from the pool under the memory-debugger tag through the
 * internal path (exempt from the limit and from test fault injection), so a
 * report can still be made when the limit is what went wrong, and the caller
 * frees it with hyperionFree like any block.
 */
#include "mem_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- buffers */

void hy_sb_init(hy_strbuf *sb) {
    memset(sb, 0, sizeof *sb);
}

static int reserve(hy_strbuf *sb, size_t extra) {
    if (sb->failed) return -1;
    if (sb->length + extra + 1 <= sb->capacity) return 0;
    size_t cap = sb->capacity ? sb->capacity : 4096;
    while (cap < sb->length + extra + 1) {
        if (cap > SIZE_MAX / 2) {
            sb->failed = 1;
            return -1;
        }
        cap *= 2;
    }
    hy_caller c = HY_CALLER_HERE();
    char *fresh = hy_mem_allocate(cap, 0, HYPERION_TAG_DEBUGGER, NULL, &c, HY_ALLOC_INTERNAL);
    if (!fresh) {
        sb->failed = 1;
        return -1;
    }
    if (sb->data) {
        memcpy(fresh, sb->data, sb->length + 1);
        hy_mem_release(sb->data, &c);
    } else {
        fresh[0] = '\0';
    }
    sb->data = fresh;
    sb->capacity = cap;
    return 0;
}

void hy_sb_append(hy_strbuf *sb, const char *text, size_t length) {
    if (reserve(sb, length) != 0) return;
    memcpy(sb->data + sb->length, text, length);
    sb->length += length;
    sb->data[sb->length] = '\0';
}

void hy_sb_printf(hy_strbuf *sb, const char *format, ...) {
    char small[512];
    va_list args;
    va_start(args, format);
    int n = vsnprintf(small, sizeof small, format, args);
    va_end(args);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        hy_sb_append(sb, small, (size_t)n);
        return;
    }
    if (reserve(sb, (size_t)n) != 0) return;
    va_start(args, format);
    vsnprintf(sb->data + sb->length, (size_t)n + 1, format, args);
    va_end(args);
    sb->length += (size_t)n;
}

void hy_sb_json_string(hy_strbuf *sb, const char *text) {
    size_t n = strlen(text);
    if (reserve(sb, n * 6 + 2) != 0) return;
    sb->data[sb->length++] = '"';
    sb->length += hy_json_escape(text, n, sb->data + sb->length, sb->capacity - sb->length);
    sb->data[sb->length++] = '"';
    sb->data[sb->length] = '\0';
}

char *hy_sb_take(hy_strbuf *sb) {
    if (!sb->failed && reserve(sb, 0) != 0) sb->failed = 1;   /* an empty report is "" */
    char *out = sb->failed ? NULL : sb->data;
    if (sb->failed) hy_sb_discard(sb);
    memset(sb, 0, sizeof *sb);
    return out;
}

void hy_sb_discard(hy_strbuf *sb) {
    if (sb->data) {
        hy_caller c = HY_CALLER_HERE();
        hy_mem_release(sb->data, &c);
    }
    memset(sb, 0, sizeof *sb);
}

hyperion_status hy_report_finish(hy_strbuf *text, char **text_out, hy_strbuf *json, char **json_out) {
    int failed = 0;
    if (text_out) {
        *text_out = hy_sb_take(text);
        failed |= !*text_out;
    } else if (text) {
        hy_sb_discard(text);
    }
    if (json_out) {
        *json_out = hy_sb_take(json);
        failed |= !*json_out;
    } else if (json) {
        hy_sb_discard(json);
    }
    if (!failed) return HYPERION_OK;
    if (text_out && *text_out) hyperionFree(*text_out);
    if (json_out && *json_out) hyperionFree(*json_out);
    if (text_out) *text_out = NULL;
    if (json_out) *json_out = NULL;
    return HY_RAISE(HYPERION_OUT_OF_MEMORY, NULL, "no memory for the report text");
}

/* -------------------------------------------------------------- stacks */

static const char *base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

void hy_report_stack_text(hy_strbuf *sb, uint32_t stack_id) {
    const uintptr_t *frames;
    int n = hy_stack_frames(stack_id, &frames);
    if (n == 0) {
        hy_sb_printf(sb, "    (no stack recorded: stack traces were off)\n");
        return;
    }
    hy_symbol syms[HY_MEM_MAX_FRAMES];
    hy_symbolize(frames, n, syms);
    for (int i = 0; i < n; i++) {
        const hy_symbol *s = &syms[i];
        hy_sb_printf(sb, "    #%d 0x%llx", i, (unsigned long long)s->address);
        if (s->function[0]) hy_sb_printf(sb, " in %s", s->function);
        if (s->file[0]) {
            if (s->line) hy_sb_printf(sb, " %s:%d", s->file, s->line);
            else hy_sb_printf(sb, " %s", s->file);
        }
        if (s->module[0]) hy_sb_printf(sb, " (%s+0x%llx)", base_name(s->module), (unsigned long long)s->module_offset);
        hy_sb_append(sb, "\n", 1);
    }
}

void hy_report_stack_json(hy_strbuf *sb, uint32_t stack_id) {
    const uintptr_t *frames;
    int n = hy_stack_frames(stack_id, &frames);
    hy_sb_append(sb, "[", 1);
    if (n > 0) {
        hy_symbol syms[HY_MEM_MAX_FRAMES];
        hy_symbolize(frames, n, syms);
        for (int i = 0; i < n; i++) {
            const hy_symbol *s = &syms[i];
            hy_sb_printf(sb, "%s{\"frame\":%d,\"address\":\"0x%llx\",\"function\":", i ? "," : "", i,
                         (unsigned long long)s->address);
            hy_sb_json_string(sb, s->function);
            hy_sb_append(sb, ",\"file\":", 8);
            hy_sb_json_string(sb, s->file);
            hy_sb_printf(sb, ",\"line\":%d,\"module\":", s->line);
            hy_sb_json_string(sb, s->module);
            hy_sb_printf(sb, ",\"offset\":\"0x%llx\"}", (unsigned long long)s->module_offset);
        }
    }
    hy_sb_append(sb, "]", 1);
}

/* ------------------------------------------------------------ leak report */

typedef struct leak_group {
    uint32_t stack;
    uint8_t tag;
    uint64_t bytes, blocks;
    uint64_t ids[8];
} leak_group;

static int by_site(const void *a, const void *b) {
    const hy_track_rec *x = a, *y = b;
    if (x->stack != y->stack) return x->stack < y->stack ? -1 : 1;
    if (x->tag != y->tag) return x->tag < y->tag ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int by_bytes_desc(const void *a, const void *b) {
    const leak_group *x = a, *y = b;
    if (x->bytes != y->bytes) return x->bytes > y->bytes ? -1 : 1;
    if (x->blocks != y->blocks) return x->blocks > y->blocks ? -1 : 1;
    return x->ids[0] < y->ids[0] ? -1 : x->ids[0] > y->ids[0];
}

static int passes(const hy_track_rec *r, const hyperion_leak_filter *f, uint16_t budget) {
    if (!f) return 1;
    if (r->id < f->min_id) return 0;
    if (f->budget && !hy_budget_descends(r->budget, budget)) return 0;
    if (f->tag_mask && !((f->tag_mask >> r->tag) & 1)) return 0;
    return 1;
}

hyperion_status hyperionCheckMemoryLeaks(const hyperion_leak_filter *filter, hyperion_leak_summary *summary,
                                         char **text, char **json) {
    hy_mem_ensure_started();
    if (text) *text = NULL;
    if (json) *json = NULL;
    hy_track_rec *recs;
    size_t recs_bytes;
    size_t n = hy_track_copy(&recs, &recs_bytes);
    uint16_t budget = filter ? hy_budget_index(filter->budget) : 0;
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (passes(&recs[i], filter, budget)) recs[kept++] = recs[i];
    if (kept) qsort(recs, kept, sizeof *recs, by_site);

    size_t groups_bytes = (kept ? kept : 1) * sizeof(leak_group);
    leak_group *groups = hy_meta_alloc(groups_bytes);
    if (!groups) {
        if (recs) hy_meta_free(recs, recs_bytes);
        return HY_RAISE(HYPERION_OUT_OF_MEMORY, NULL, "no memory for the leak report");
    }
    size_t ng = 0;
    uint64_t total_bytes = 0;
    for (size_t i = 0; i < kept; i++) {
        const hy_track_rec *r = &recs[i];
        if (!ng || groups[ng - 1].stack != r->stack || groups[ng - 1].tag != r->tag) {
            groups[ng].stack = r->stack;
            groups[ng].tag = r->tag;
            ng++;
        }
        leak_group *g = &groups[ng - 1];
        if (g->blocks < 8) g->ids[g->blocks] = r->id;
        g->bytes += r->size;
        g->blocks++;
        total_bytes += r->size;
    }
    if (recs) hy_meta_free(recs, recs_bytes);
    if (ng) qsort(groups, ng, sizeof *groups, by_bytes_desc);
    size_t shown = filter && filter->max_groups && filter->max_groups < ng ? filter->max_groups : ng;
    if (shown && (text || json)) {
        uint32_t ids[256];
        size_t k = 0;
        for (; k < shown && k < 256; k++) ids[k] = groups[k].stack;
        hy_symbolize_prefetch(ids, k);
    }

    uint64_t active = atomic_load(&hy_mem_count.active), tracked = hy_track_count();
    uint64_t untracked = active > tracked ? active - tracked : 0;
    int tracking = atomic_load(&hy_mem_set.tracking);
    if (summary) {
        summary->bytes = total_bytes;
        summary->blocks = kept;
        summary->groups = ng;
        summary->untracked_blocks = untracked;
    }

    hy_strbuf t, j;
    hy_sb_init(&t);
    hy_sb_init(&j);
    if (text) {
        char amount[32];
        hy_mem_format_bytes(total_bytes, amount, sizeof amount);
        if (kept)
            hy_sb_printf(&t, "hyperion memory: %zu live block(s), %s, from %zu allocation site(s)\n", kept, amount, ng);
        else
            hy_sb_printf(&t, "hyperion memory: no live tracked blocks%s\n",
                         tracking ? "" : " (allocation tracking is off: enable trackAllocations)");
        for (size_t i = 0; i < shown; i++) {
            const leak_group *g = &groups[i];
            hy_sb_printf(&t, "\n%llu bytes in %llu block%s (tag \"%s\", id%s", (unsigned long long)g->bytes,
                         (unsigned long long)g->blocks, g->blocks == 1 ? "" : "s", hyperionTagName((hyperion_mem_tag)g->tag),
                         g->blocks == 1 ? "" : "s");
            for (uint64_t k = 0; k < g->blocks && k < 8; k++) hy_sb_printf(&t, "%s %llu", k ? "," : "", (unsigned long long)g->ids[k]);
            hy_sb_printf(&t, "%s) allocated from:\n", g->blocks > 8 ? ", ..." : "");
            hy_report_stack_text(&t, g->stack);
        }
        if (shown < ng) hy_sb_printf(&t, "\n(%zu more allocation sites not shown)\n", ng - shown);
        if (untracked)
            hy_sb_printf(&t, "\n%llu live block(s) were allocated while tracking was off and are not listed\n",
                         (unsigned long long)untracked);
        if (kept) hy_sb_printf(&t, "\nSUMMARY: %llu bytes in %zu block(s)\n", (unsigned long long)total_bytes, kept);
    }
    if (json) {
        hy_sb_printf(&j, "{\"bytes\":%llu,\"blocks\":%zu,\"groups\":%zu,\"untracked_blocks\":%llu,\"tracking\":%s,\"sites\":[",
                     (unsigned long long)total_bytes, kept, ng, (unsigned long long)untracked, tracking ? "true" : "false");
        for (size_t i = 0; i < shown; i++) {
            const leak_group *g = &groups[i];
            hy_sb_printf(&j, "%s{\"bytes\":%llu,\"blocks\":%llu,\"tag\":\"%s\",\"stack_id\":%u,\"ids\":[", i ? "," : "",
                         (unsigned long long)g->bytes, (unsigned long long)g->blocks,
                         hyperionTagName((hyperion_mem_tag)g->tag), g->stack);
            for (uint64_t k = 0; k < g->blocks && k < 8; k++) hy_sb_printf(&j, "%s%llu", k ? "," : "", (unsigned long long)g->ids[k]);
            hy_sb_append(&j, "],\"stack\":", 10);
            hy_report_stack_json(&j, g->stack);
            hy_sb_append(&j, "}", 1);
        }
        hy_sb_append(&j, "]}", 2);
    }
    hy_meta_free(groups, groups_bytes);
    return hy_report_finish(text ? &t : NULL, text, json ? &j : NULL, json);
}

/* ------------------------------------------------------- allocation trace */

hyperion_status hyperionGetAllocationTrace(uint64_t id, char **text, char **json) {
    hy_mem_ensure_started();
    if (text) *text = NULL;
    if (json) *json = NULL;
    hy_track_rec rec;
    hy_guard_view view;
    memset(&view, 0, sizeof view);
    int tracked = hy_track_find_id(id, &rec);
    int guarded = hy_guard_find_id(id, &view);
    if (!tracked && !guarded)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "ids come from checkMemoryLeaks() or getMemoryDebugInfo()",
                             ((hy_field[]){ HY_TXT("field", "id"), HY_NUM("value", (double)id) }),
                             "no live tracked block has id %llu", (unsigned long long)id);
    uint64_t size = tracked ? rec.size : view.size;
    uint8_t tag = tracked ? rec.tag : view.tag;
    uint32_t thread = tracked ? rec.thread : view.alloc_thread;
    uint64_t time_ns = tracked ? rec.time_ns : view.alloc_time;
    uint32_t stack = tracked && rec.stack ? rec.stack : (guarded ? view.alloc_stack : 0);
    int freed = guarded && view.quarantined;
    char when[40];
    hy_format_iso8601(time_ns, when, sizeof when);
    const char *tag_name = hyperionTagName((hyperion_mem_tag)tag);

    hy_strbuf t, j;
    hy_sb_init(&t);
    hy_sb_init(&j);
    if (text) {
        hy_sb_printf(&t, "block %llu: %llu bytes, tag \"%s\"%s, allocated by thread %u at %s\n", (unsigned long long)id,
                     (unsigned long long)size, tag_name, guarded ? ", guarded" : "", thread, when);
        if (freed) {
            hy_sb_printf(&t, "freed (in quarantine) by thread %u here:\n", view.free_thread);
            hy_report_stack_text(&t, view.free_stack);
        }
        hy_sb_printf(&t, "allocated here:\n");
        hy_report_stack_text(&t, stack);
    }
    if (json) {
        hy_sb_printf(&j, "{\"id\":%llu,\"size\":%llu,\"tag\":\"%s\",\"thread\":%u,\"time\":\"%s\",\"live\":%s,\"guarded\":%s,"
                         "\"allocation_stack\":",
                     (unsigned long long)id, (unsigned long long)size, tag_name, thread, when, freed ? "false" : "true",
                     guarded ? "true" : "false");
        hy_report_stack_json(&j, stack);
        hy_sb_append(&j, ",\"free_stack\":", 14);
        hy_report_stack_json(&j, freed ? view.free_stack : 0);
        hy_sb_append(&j, "}", 1);
    }
    return hy_report_finish(text ? &t : NULL, text, json ? &j : NULL, json);
}
