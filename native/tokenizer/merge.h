/*
 * merge.h — the merge loop both BPE flavours share: a doubly linked list of
 * symbols (spans of one text) and a priority queue of adjacent pairs. The best
 * pair is merged, its neighbours are re-scored, until no pair scores. The two
 * flavours differ only in how a pair scores (a callback). Internal.
 */
#ifndef HYPERION_TOKENIZER_MERGE_H
#define HYPERION_TOKENIZER_MERGE_H

#include <stddef.h>
#include <stdint.h>

typedef struct hy_sym {
    uint32_t start, len;      /* span of the text; len 0 = merged away */
    int32_t prev, next;       /* neighbours, -1 at the ends */
} hy_sym;

/* A queued pair. Higher key wins; equal keys → the leftmost pair (SentencePiece
 * and the reference BPE both break ties this way). size = the pair's length
 * when queued: a pair whose symbols changed since is stale and skipped. */
typedef struct hy_bigram {
    double key;
    uint32_t left, right, size;
} hy_bigram;

/* Score the pair text[l.start .. r.start + r.len): return 1 and set *key when
 * the pair may merge, 0 when it may not. */
typedef int (*hy_pair_score_fn)(const void *ctx, const char *text, const hy_sym *l, const hy_sym *r,
                                double *key);

/* Merge syms[0..n) (linked 0 → n-1) in place. heap must hold 3 * n entries. */
void hy_merge_run(const char *text, hy_sym *syms, uint32_t n, hy_bigram *heap, hy_pair_score_fn score,
                  const void *ctx);

#endif
