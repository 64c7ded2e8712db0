/*
 * analysis.c — from a collected profile to per-op, per-layer and per-phase figures.
 *
 * Per thread, events are ordered by start, the longer first at equal starts
 * (a parent before its children), and walked with a stack: an event that starts
 * before the event on top of the stack ends is its child. A child that would end
 * after its parent (clock granularity, or a zone closed out of order) is clamped
 * to the parent's end, so the events of a thread nest strictly — the trace
 * writer relies on it. Self time is an event's duration minus its direct
 * children's; because children are disjoint and inside their parent, the self
 * times of a thread add up exactly to the time the thread spent inside zones.
 *
 * Totals do not double count recursion: a call nested in a call of the same op
 * adds to calls and self time but not to the op's total.
 */
#include "profiler/profiler_internal.h"

#include <string.h>
#include <unistd.h>

#define MAX_LAYERS 65536

/* ------------------------------------------------------------ sorting */

void hy_prof_sort_indices(uint32_t *idx, uint32_t *scratch, size_t n, hy_prof_cmp cmp, const void *ctx) {
    if (n < 2) return;
    size_t i;
    for (i = 1; i < n; i++)
        if (cmp(ctx, idx[i], idx[i - 1]) < 0) break;
    if (i == n) return;   /* already in order: the usual case for one thread's zones */
    uint32_t *src = idx, *dst = scratch;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            if (mid >= hi || cmp(ctx, src[mid], src[mid - 1]) >= 0) {
                memcpy(dst + lo, src + lo, (hi - lo) * sizeof *src);
                continue;
            }
            size_t a = lo, b = mid, o = lo;
            while (a < mid && b < hi) dst[o++] = cmp(ctx, src[b], src[a]) < 0 ? src[b++] : src[a++];
            while (a < mid) dst[o++] = src[a++];
            while (b < hi) dst[o++] = src[b++];
        }
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != idx) memcpy(idx, src, n * sizeof *idx);
}

void hy_prof_sort_u64(uint64_t *v, uint64_t *scratch, size_t n) {
    if (n < 2) return;
    size_t i;
    for (i = 1; i < n; i++)
        if (v[i] < v[i - 1]) break;
    if (i == n) return;
    uint64_t *src = v, *dst = scratch;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t a = lo, b = mid, o = lo;
            while (a < mid && b < hi) dst[o++] = src[b] < src[a] ? src[b++] : src[a++];
            while (a < mid) dst[o++] = src[a++];
            while (b < hi) dst[o++] = src[b++];
        }
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != v) memcpy(v, src, n * sizeof *v);
}

uint64_t hy_prof_percentile(const uint64_t *sorted, size_t n, double q) {
    if (n == 0) return 0;
    if (q <= 0) return sorted[0];
    if (q >= 100) return sorted[n - 1];
    /* nearest rank: the smallest value with at least q% of the values <= it */
    double r = q / 100.0 * (double)n;
    size_t rank = (size_t)r;
    if ((double)rank < r) rank++;
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return sorted[rank - 1];
}

static int cmp_nesting(const void *ctx, uint32_t a, uint32_t b) {
    const hy_prof_rec *ev = ctx;
    if (ev[a].start != ev[b].start) return ev[a].start < ev[b].start ? -1 : 1;
    if (ev[a].end != ev[b].end) return ev[a].end > ev[b].end ? -1 : 1;   /* longer first */
    return a < b ? -1 : a > b;
}

static int cmp_thread(const void *ctx, uint32_t a, uint32_t b) {
    const hy_prof_thread *t = ctx;
    uint64_t pid = (uint64_t)getpid();
    int ma = t[a].tid == pid, mb = t[b].tid == pid;
    if (ma != mb) return ma ? -1 : 1;
    return t[a].order < t[b].order ? -1 : t[a].order > t[b].order;
}

static int cmp_start(const void *ctx, uint32_t a, uint32_t b) {
    const hy_prof_rec *ev = ctx;
    if (ev[a].start != ev[b].start) return ev[a].start < ev[b].start ? -1 : 1;
    return a < b ? -1 : a > b;
}

/* Length of the union of intervals given by sorted event indices. */
static uint64_t union_length(const hy_prof_rec *ev, const uint32_t *idx, size_t n) {
    uint64_t total = 0, cur_start = 0, cur_end = 0;
    int open = 0;
    for (size_t i = 0; i < n; i++) {
        const hy_prof_rec *e = &ev[idx[i]];
        if (open && e->start <= cur_end) {
            if (e->end > cur_end) cur_end = e->end;
            continue;
        }
        if (open) total += cur_end - cur_start;
        cur_start = e->start;
        cur_end = e->end;
        open = 1;
    }
    if (open) total += cur_end - cur_start;
    return total;
}

/* ------------------------------------------------------------ op table */

typedef struct op_table {
    hy_prof_op *ops;
    uint32_t n, cap;
    uint32_t *slots;      /* op index + 1, 0 = empty; power-of-two size */
    uint32_t size;
} op_table;

static uint64_t hash_str(uint64_t h, const char *s) {
    if (!s) return h * 31 + 7;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int same_text(const char *a, const char *b) {
    if (a == b) return 1;
    if (!a || !b) return 0;
    return strcmp(a, b) == 0;
}

static int op_table_init(op_table *t, uint32_t expected) {
    memset(t, 0, sizeof *t);
    t->size = 64;
    while (t->size < expected * 2 && t->size < (1u << 30)) t->size *= 2;
    t->slots = hyperionCalloc(t->size, sizeof *t->slots, HY_PROF_TAG);
    t->cap = 64;
    t->ops = hyperionCalloc(t->cap, sizeof *t->ops, HY_PROF_TAG);
    return t->slots && t->ops;
}

/* Find or add (category, name, type); UINT32_MAX when memory runs out. */
static uint32_t op_find(op_table *t, const hy_prof_rec *e) {
    uint64_t h = hash_str(hash_str(1469598103934665603ull + e->category, e->name), e->type);
    uint32_t j = (uint32_t)h & (t->size - 1);
    while (t->slots[j]) {
        hy_prof_op *op = &t->ops[t->slots[j] - 1];
        if (op->category == e->category && same_text(op->name, e->name) && same_text(op->type, e->type))
            return t->slots[j] - 1;
        j = (j + 1) & (t->size - 1);
    }
    if (t->n == t->cap) {
        hy_prof_op *grown = hyperionRealloc(t->ops, (size_t)t->cap * 2 * sizeof *grown, HY_PROF_TAG);
        if (!grown) return UINT32_MAX;
        memset(grown + t->cap, 0, (size_t)t->cap * sizeof *grown);
        t->ops = grown;
        t->cap *= 2;
    }
    hy_prof_op *op = &t->ops[t->n];
    op->name = e->name;
    op->type = e->type;
    op->category = e->category;
    op->min_ns = UINT64_MAX;
    t->slots[j] = ++t->n;
    return t->n - 1;
}

/* ------------------------------------------------------------ the analysis */

void hy_prof_analysis_free(hy_prof_analysis *a) {
    if (!a) return;
    hyperionFree(a->thread_busy_ns);
    hyperionFree(a->thread_order);
    hyperionFree(a->self_ns);
    hyperionFree(a->order);
    hyperionFree(a->ops);
    hyperionFree(a->layers);
    hyperionFree(a);
}

typedef struct work {
    uint32_t *scratch, *stack, *ev_op, *top, *outer, *op_first, *op_fill;
    uint64_t *durations, *dur_scratch;
    uint8_t *is_outer;    /* not nested in a call of the same op */
} work;

static void work_free(work *w) {
    hyperionFree(w->scratch);
    hyperionFree(w->stack);
    hyperionFree(w->ev_op);
    hyperionFree(w->top);
    hyperionFree(w->outer);
    hyperionFree(w->op_first);
    hyperionFree(w->op_fill);
    hyperionFree(w->durations);
    hyperionFree(w->dur_scratch);
    hyperionFree(w->is_outer);
}

static int cmp_self_desc(const hy_prof_op *a, const hy_prof_op *b) {
    if (a->self_ns != b->self_ns) return a->self_ns > b->self_ns ? -1 : 1;
    return strcmp(a->name, b->name);
}

/* Insertion sort: the op table is small (tens to hundreds). */
static void sort_ops(hy_prof_op *ops, uint32_t n) {
    for (uint32_t i = 1; i < n; i++) {
        hy_prof_op key = ops[i];
        uint32_t j = i;
        while (j > 0 && cmp_self_desc(&key, &ops[j - 1]) < 0) {
            ops[j] = ops[j - 1];
            j--;
        }
        ops[j] = key;
    }
}

static const hy_prof_analysis *fail(hy_prof_analysis *a, work *w) {
    work_free(w);
    hy_prof_analysis_free(a);
    return NULL;
}

const hy_prof_analysis *hy_prof_analyze(hy_prof_profile *p) {
    if (p->analysis) return p->analysis;
    hy_prof_analysis *a = hyperionCalloc(1, sizeof *a, HY_PROF_TAG);
    work w;
    memset(&w, 0, sizeof w);
    if (!a) return NULL;
    uint32_t n = p->n_events;
    size_t n1 = n ? n : 1;
    hy_prof_rec *ev = p->events;
    a->wall_ns = p->t1 - p->t0;
    a->thread_busy_ns = hyperionCalloc(p->n_threads ? p->n_threads : 1, sizeof(uint64_t), HY_PROF_TAG);
    a->thread_order = hyperionCalloc(p->n_threads ? p->n_threads : 1, sizeof(uint32_t), HY_PROF_TAG);
    a->self_ns = hyperionCalloc(n1, sizeof(uint64_t), HY_PROF_TAG);
    a->order = hyperionAlloc(n1 * sizeof(uint32_t), HY_PROF_TAG);
    w.scratch = hyperionAlloc(n1 * sizeof(uint32_t), HY_PROF_TAG);
    w.stack = hyperionAlloc(n1 * sizeof(uint32_t), HY_PROF_TAG);
    w.ev_op = hyperionAlloc(n1 * sizeof(uint32_t), HY_PROF_TAG);
    w.top = hyperionAlloc(n1 * sizeof(uint32_t), HY_PROF_TAG);
    w.outer = hyperionAlloc(n1 * sizeof(uint32_t), HY_PROF_TAG);
    w.durations = hyperionAlloc(n1 * sizeof(uint64_t), HY_PROF_TAG);
    w.dur_scratch = hyperionAlloc(n1 * sizeof(uint64_t), HY_PROF_TAG);
    w.is_outer = hyperionCalloc(n1, 1, HY_PROF_TAG);
    if (!w.is_outer || !a->thread_order || !a->thread_busy_ns || !a->self_ns || !a->order || !w.scratch || !w.stack || !w.ev_op || !w.top || !w.outer ||
        !w.durations || !w.dur_scratch)
        return fail(a, &w);

    op_table t;
    if (!op_table_init(&t, 256)) {
        hyperionFree(t.slots);
        hyperionFree(t.ops);
        return fail(a, &w);
    }
    for (uint32_t i = 0; i < n; i++) {
        w.ev_op[i] = op_find(&t, &ev[i]);
        if (w.ev_op[i] == UINT32_MAX) {
            hyperionFree(t.slots);
            hyperionFree(t.ops);
            return fail(a, &w);
        }
    }
    hyperionFree(t.slots);
    a->ops = t.ops;
    a->n_ops = t.n;

    for (uint32_t th = 0; th < p->n_threads; th++) a->thread_order[th] = th;
    hy_prof_sort_indices(a->thread_order, w.scratch, p->n_threads, cmp_thread, p->threads);

    /* ---- per thread: order, repair nesting, self times ---- */
    uint32_t n_top = 0;
    uint8_t *is_outer = w.is_outer;
    for (uint32_t th = 0; th < p->n_threads; th++) {
        uint32_t first = p->threads[th].first, count = p->threads[th].count;
        uint32_t *ord = a->order + first;
        for (uint32_t i = 0; i < count; i++) ord[i] = first + i;
        hy_prof_sort_indices(ord, w.scratch, count, cmp_nesting, ev);
    }
    for (uint32_t th = 0; th < p->n_threads; th++) {
        uint32_t first = p->threads[th].first, count = p->threads[th].count;
        const uint32_t *ord = a->order + first;
        uint32_t sp = 0;
        for (uint32_t i = 0; i < count; i++) {
            uint32_t k = ord[i];
            hy_prof_rec *e = &ev[k];
            while (sp > 0 && ev[w.stack[sp - 1]].end <= e->start) sp--;
            if (sp > 0) {
                uint32_t parent = w.stack[sp - 1];
                if (e->end > ev[parent].end) {
                    e->end = ev[parent].end;
                    e->flags |= HY_EV_CLAMPED;
                    a->clamped++;
                }
                a->self_ns[parent] -= e->end - e->start;
            } else {
                a->thread_busy_ns[th] += e->end - e->start;
                w.top[n_top++] = k;
            }
            a->self_ns[k] = e->end - e->start;
            int recursive = 0;
            for (uint32_t s = 0; s < sp && !recursive; s++) recursive = w.ev_op[w.stack[s]] == w.ev_op[k];
            if (!recursive) is_outer[k] = 1;
            w.stack[sp++] = k;
        }
        a->traced_ns += a->thread_busy_ns[th];
    }

    /* ---- per op sums ---- */
    int32_t max_layer = -1;
    for (uint32_t k = 0; k < n; k++) {
        hy_prof_op *op = &a->ops[w.ev_op[k]];
        uint64_t d = ev[k].end - ev[k].start;
        op->calls++;
        op->self_ns += a->self_ns[k];
        a->self_sum_ns += a->self_ns[k];
        if (is_outer[k]) op->total_ns += d;
        if (d < op->min_ns) op->min_ns = d;
        if (d > op->max_ns) op->max_ns = d;
        op->bytes += ev[k].bytes;
        op->flops += ev[k].flops;
        if (ev[k].bytes || ev[k].flops) op->has_meta = 1;
        if (ev[k].flags & HY_EV_UNFINISHED) a->unfinished++;
        if (ev[k].layer > max_layer && ev[k].layer < MAX_LAYERS) max_layer = ev[k].layer;
    }

    /* ---- group events by op: percentiles of durations, wall time of outermost calls ---- */
    w.op_first = hyperionCalloc((size_t)a->n_ops + 1, sizeof(uint32_t), HY_PROF_TAG);
    w.op_fill = hyperionCalloc((size_t)a->n_ops + 1, sizeof(uint32_t), HY_PROF_TAG);
    if (!w.op_first || !w.op_fill) return fail(a, &w);
    for (uint32_t k = 0; k < n; k++) w.op_first[w.ev_op[k] + 1]++;
    for (uint32_t o = 0; o < a->n_ops; o++) w.op_first[o + 1] += w.op_first[o];
    for (uint32_t k = 0; k < n; k++) {
        uint32_t o = w.ev_op[k];
        w.durations[w.op_first[o] + w.op_fill[o]++] = ev[k].end - ev[k].start;
    }
    for (uint32_t o = 0; o < a->n_ops; o++) {
        hy_prof_op *op = &a->ops[o];
        uint64_t *d = w.durations + w.op_first[o];
        size_t m = w.op_first[o + 1] - w.op_first[o];
        hy_prof_sort_u64(d, w.dur_scratch, m);
        op->p50_ns = hy_prof_percentile(d, m, 50);
        op->p95_ns = hy_prof_percentile(d, m, 95);
        op->p99_ns = hy_prof_percentile(d, m, 99);
        if (op->min_ns == UINT64_MAX) op->min_ns = 0;
    }
    /* outermost calls grouped by op (counting sort again), then sorted by start */
    memset(w.op_fill, 0, ((size_t)a->n_ops + 1) * sizeof(uint32_t));
    memset(w.op_first, 0, ((size_t)a->n_ops + 1) * sizeof(uint32_t));
    for (uint32_t k = 0; k < n; k++)
        if (is_outer[k]) w.op_first[w.ev_op[k] + 1]++;
    for (uint32_t o = 0; o < a->n_ops; o++) w.op_first[o + 1] += w.op_first[o];
    for (uint32_t k = 0; k < n; k++)
        if (is_outer[k]) {
            uint32_t o = w.ev_op[k];
            w.outer[w.op_first[o] + w.op_fill[o]++] = k;
        }
    for (uint32_t o = 0; o < a->n_ops; o++) {
        uint32_t *seg = w.outer + w.op_first[o];
        size_t m = w.op_first[o + 1] - w.op_first[o];
        hy_prof_sort_indices(seg, w.scratch, m, cmp_start, ev);
        a->ops[o].wall_ns = union_length(ev, seg, m);
    }

    /* ---- coverage: the union of every thread's top-level zones ---- */
    hy_prof_sort_indices(w.top, w.scratch, n_top, cmp_start, ev);
    a->covered_ns = union_length(ev, w.top, n_top);

    /* ---- layers ---- */
    if (max_layer >= 0) {
        a->layers = hyperionCalloc((size_t)max_layer + 1, sizeof *a->layers, HY_PROF_TAG);
        if (!a->layers) return fail(a, &w);
        a->n_layers = (uint32_t)max_layer + 1;
        for (uint32_t l = 0; l < a->n_layers; l++) a->layers[l].layer = (int32_t)l;
        for (uint32_t k = 0; k < n; k++) {
            int32_t l = ev[k].layer;
            if (l < 0 || l > max_layer) continue;
            a->layers[l].op_self_ns += a->self_ns[k];
            if (ev[k].category == HYPERION_ZONE_LAYER) {
                a->layers[l].calls++;
                if (is_outer[k]) a->layers[l].total_ns += ev[k].end - ev[k].start;
            }
        }
    }

    /* ---- phases ---- */
    for (uint32_t o = 0; o < a->n_ops; o++) {
        const hy_prof_op *op = &a->ops[o];
        if (op->category != HYPERION_ZONE_PHASE) continue;
        for (int ph = 0; ph < HYPERION_PHASE_COUNT; ph++) {
            if (!same_text(op->name, hyperionPhaseName((hyperion_phase)ph))) continue;
            a->phases[ph].calls += op->calls;
            a->phases[ph].total_ns += op->total_ns;
            a->phases[ph].self_ns += op->self_ns;
        }
    }
    for (int ph = 0; ph < HYPERION_PHASE_COUNT; ph++) a->phases[ph].tokens = p->tokens[ph];

    sort_ops(a->ops, a->n_ops);
    work_free(&w);
    p->analysis = a;
    return a;
}
