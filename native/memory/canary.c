/*
 * canary.c — canary bytes around blocks and the on-demand corruption check.
 *
 * With checkCorruption on, an unguarded block gets 64 canary bytes in front
 * and at least 16 (up to 256) behind it, inside its slot; a guarded block's
 * slack between its end and the guard page (alignment rounding) is filled the
 * same way. They are checked when the block is freed and by
 * hyperionCheckCorruption, which lists every damaged block with its tag, id
 * and allocation stack.
 */
#include "mem_internal.h"

#include <string.h>

void hy_canary_fill(uintptr_t user, uint64_t size, size_t front, size_t rear) {
    if (front > HY_CANARY_MAX) front = HY_CANARY_MAX;
    if (rear > HY_CANARY_MAX) rear = HY_CANARY_MAX;
    if (front) memset((void *)(user - front), HY_CANARY_BYTE, front);
    if (rear) memset((void *)(user + size), HY_CANARY_BYTE, rear);
}

int hy_canary_check(uintptr_t user, uint64_t size, size_t front, size_t rear, hy_damage *damage) {
    if (front > HY_CANARY_MAX) front = HY_CANARY_MAX;
    if (rear > HY_CANARY_MAX) rear = HY_CANARY_MAX;
    memset(damage, 0, sizeof *damage);
    const unsigned char *before = (const unsigned char *)(user - front);
    const unsigned char *after = (const unsigned char *)(user + size);
    /* the byte nearest the block is reported: the likeliest first victim */
    for (size_t i = front; i-- > 0;) {
        if (before[i] == HY_CANARY_BYTE) continue;
        if (!damage->damaged) {
            damage->damaged = 1;
            damage->side = -1;
            damage->offset = -(int64_t)(front - i);
        }
        damage->bad_bytes++;
    }
    for (size_t i = 0; i < rear; i++) {
        if (after[i] == HY_CANARY_BYTE) continue;
        if (!damage->damaged) {
            damage->damaged = 1;
            damage->side = 1;
            damage->offset = (int64_t)(size + i);
        }
        damage->bad_bytes++;
    }
    return damage->damaged;
}

/* ------------------------------------------------- hyperionCheckCorruption */

#define MAX_LISTED 256

typedef struct found_block {
    hy_block_desc block;
} found_block;

typedef struct scan_ctx {
    uint64_t checked, damaged;
    found_block *found;          /* [MAX_LISTED], from meta.c */
} scan_ctx;

static void visit(const hy_block_desc *block, void *user) {
    scan_ctx *s = user;
    s->checked++;
    if (!block->damage.damaged) return;
    if (s->damaged < MAX_LISTED) s->found[s->damaged].block = *block;
    s->damaged++;
}

static void describe_damage(hy_strbuf *sb, const hy_block_desc *b) {
    const hy_damage *d = &b->damage;
    uint64_t distance = d->side < 0 ? (uint64_t)(-d->offset) : (uint64_t)d->offset - b->size;
    hy_sb_printf(sb, "%s byte %llu %s the %llu-byte block", d->bad_bytes > 1 ? "first damaged" : "damaged",
                 (unsigned long long)distance, d->side < 0 ? "before" : "after", (unsigned long long)b->size);
}

hyperion_status hyperionCheckCorruption(hyperion_corruption_summary *summary, char **text, char **json) {
    hy_mem_ensure_started();
    if (text) *text = NULL;
    if (json) *json = NULL;
    scan_ctx s = { 0 };
    size_t found_bytes = MAX_LISTED * sizeof(found_block);
    s.found = hy_meta_alloc(found_bytes);
    if (!s.found)
        return HY_RAISE(HYPERION_OUT_OF_MEMORY, NULL, "no memory for the corruption check's list");
    hy_pool_visit_canaries(visit, &s);
    hy_guard_visit_slack(visit, &s);
    if (summary) {
        summary->checked_blocks = s.checked;
        summary->damaged_blocks = s.damaged;
    }
    uint64_t listed = s.damaged < MAX_LISTED ? s.damaged : MAX_LISTED;
    for (uint64_t i = 0; i < listed; i++) {
        const hy_block_desc *b = &s.found[i].block;
        hy_mem_log(HYPERION_LOG_ERROR, "heap corruption: %llu-byte block (tag \"%s\") at %p damaged %s it",
                   (unsigned long long)b->size, hyperionTagName((hyperion_mem_tag)b->tag), (void *)b->user,
                   b->damage.side < 0 ? "before" : "after");
    }

    hy_strbuf t, j;
    hy_sb_init(&t);
    hy_sb_init(&j);
    if (text) {
        hy_sb_printf(&t, "corruption check: %llu blocks checked, %llu damaged\n", (unsigned long long)s.checked,
                     (unsigned long long)s.damaged);
    }
    if (json) {
        hy_sb_printf(&j, "{\"checked_blocks\":%llu,\"damaged_blocks\":%llu,\"blocks\":[", (unsigned long long)s.checked,
                     (unsigned long long)s.damaged);
    }
    for (uint64_t i = 0; i < listed; i++) {
        const hy_block_desc *b = &s.found[i].block;
        hy_track_rec rec;
        int tracked = hy_track_find_ptr(b->user, &rec);
        const char *tag = hyperionTagName((hyperion_mem_tag)b->tag);
        if (text) {
            hy_sb_printf(&t, "%llu-byte block (tag \"%s\"%s", (unsigned long long)b->size, tag, b->guarded ? ", guarded" : "");
            if (tracked) hy_sb_printf(&t, ", id %llu", (unsigned long long)rec.id);
            hy_sb_printf(&t, "): ");
            describe_damage(&t, b);
            hy_sb_printf(&t, ", %u bad bytes\n", b->damage.bad_bytes);
            if (tracked && rec.stack) {
                hy_sb_printf(&t, "  allocated from:\n");
                hy_report_stack_text(&t, rec.stack);
            }
        }
        if (json) {
            hy_sb_printf(&j, "%s{\"size\":%llu,\"tag\":\"%s\",\"guarded\":%s,\"id\":%llu,\"side\":\"%s\",\"offset\":%lld,"
                             "\"bad_bytes\":%u,\"stack\":",
                         i ? "," : "", (unsigned long long)b->size, tag, b->guarded ? "true" : "false",
                         (unsigned long long)(tracked ? rec.id : 0), b->damage.side < 0 ? "before" : "after",
                         (long long)b->damage.offset, b->damage.bad_bytes);
            hy_report_stack_json(&j, tracked ? rec.stack : 0);
            hy_sb_append(&j, "}", 1);
        }
    }
    if (json) hy_sb_append(&j, "]}", 2);
    hy_meta_free(s.found, found_bytes);
    return hy_report_finish(text ? &t : NULL, text, json ? &j : NULL, json);
}
