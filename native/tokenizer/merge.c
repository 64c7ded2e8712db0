/* merge.c — the shared BPE merge loop (see merge.h). */
#include "tokenizer/merge.h"

/* a comes out of the queue before b */
static int before(const hy_bigram *a, const hy_bigram *b) {
    if (a->key != b->key) return a->key > b->key;
    return a->left < b->left;
}

static void heap_push(hy_bigram *heap, uint32_t *n, hy_bigram item) {
    uint32_t i = (*n)++;
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!before(&item, &heap[parent])) break;
        heap[i] = heap[parent];
        i = parent;
    }
    heap[i] = item;
}

static hy_bigram heap_pop(hy_bigram *heap, uint32_t *n) {
    hy_bigram top = heap[0];
    hy_bigram last = heap[--(*n)];
    uint32_t i = 0, count = *n;
    for (;;) {
        uint32_t child = 2 * i + 1;
        if (child >= count) break;
        if (child + 1 < count && before(&heap[child + 1], &heap[child])) child++;
        if (!before(&heap[child], &last)) break;
        heap[i] = heap[child];
        i = child;
    }
    if (count) heap[i] = last;
    return top;
}

static void try_pair(const char *text, hy_sym *syms, int32_t left, int32_t right, hy_bigram *heap, uint32_t *n,
                     hy_pair_score_fn score, const void *ctx) {
    if (left < 0 || right < 0) return;
    double key;
    if (!score(ctx, text, &syms[left], &syms[right], &key)) return;
    hy_bigram b = { key, (uint32_t)left, (uint32_t)right, syms[left].len + syms[right].len };
    heap_push(heap, n, b);
}

void hy_merge_run(const char *text, hy_sym *syms, uint32_t n, hy_bigram *heap, hy_pair_score_fn score,
                  const void *ctx) {
    uint32_t queued = 0;
    for (uint32_t i = 1; i < n; i++) try_pair(text, syms, (int32_t)i - 1, (int32_t)i, heap, &queued, score, ctx);
    while (queued) {
        hy_bigram b = heap_pop(heap, &queued);
        hy_sym *l = &syms[b.left], *r = &syms[b.right];
        /* Stale: one side was merged away or grew since the pair was queued. */
        if (l->len == 0 || r->len == 0 || l->len + r->len != b.size) continue;
        l->len += r->len;
        r->len = 0;
        l->next = r->next;
        if (r->next >= 0) syms[r->next].prev = (int32_t)b.left;
        try_pair(text, syms, l->prev, (int32_t)b.left, heap, &queued, score, ctx);
        try_pair(text, syms, (int32_t)b.left, l->next, heap, &queued, score, ctx);
    }
}
