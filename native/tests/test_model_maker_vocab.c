/* test_model_maker_vocab.c — the made models' synthetic tokenizer: layout,
 * uniqueness, valid UTF-8, scores, and that SentencePiece's merge step can
 * build every piece (by pair splits, and by running the merge itself). */
#include "harness.h"

#include "model/gguf.h"
#include "model/gguf_internal.h"
#include "model/model_maker.h"

#include <stdlib.h>

/* ---- a lookup of pieces by text (sorted ids, binary search) */

typedef struct lookup {
    const char *const *text;
    const uint64_t *len;
    uint32_t *ids;
    uint32_t n;
} lookup;

static const lookup *sort_ctx;

static int cmp_piece(const char *a, uint64_t na, const char *b, uint64_t nb) {
    int c = memcmp(a, b, na < nb ? na : nb);
    return c ? c : (na < nb ? -1 : na > nb);
}

static int cmp_ids(const void *x, const void *y) {
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return cmp_piece(sort_ctx->text[a], sort_ctx->len[a], sort_ctx->text[b], sort_ctx->len[b]);
}

static int lookup_init(lookup *l, const hy_make_model_vocab *v) {
    l->text = v->text;
    l->len = v->len;
    l->n = v->n;
    l->ids = malloc(v->n * sizeof(uint32_t));
    if (!l->ids) return 0;
    for (uint32_t i = 0; i < v->n; i++) l->ids[i] = i;
    sort_ctx = l;
    qsort(l->ids, v->n, sizeof(uint32_t), cmp_ids);
    return 1;
}

/* The id of the piece s[0..n), or -1. */
static int64_t lookup_find(const lookup *l, const char *s, uint64_t n) {
    uint32_t lo = 0, hi = l->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2, id = l->ids[mid];
        int c = cmp_piece(l->text[id], l->len[id], s, n);
        if (c == 0) return id;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}

static uint64_t utf8_char_len(const char *s) {
    uint8_t c = (uint8_t)s[0];
    return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

/* SentencePiece's BPE merge on one text, as llama.cpp's SPM tokenizer does
 * it: start from characters, repeatedly merge the adjacent pair whose
 * concatenation is a piece with the highest score (leftmost on ties), until
 * no pair merges. Returns the number of symbols left; *first gets the id of
 * the first symbol when it is a piece. */
static int spm_merge(const lookup *l, const float *scores, const char *text, uint64_t n, int64_t *first) {
    uint64_t start[64], len[64];
    int count = 0;
    for (uint64_t i = 0; i < n && count < 64; i += utf8_char_len(text + i)) {
        start[count] = i;
        len[count++] = utf8_char_len(text + i);
    }
    for (;;) {
        int best = -1;
        float best_score = 0;
        for (int i = 0; i + 1 < count; i++) {
            int64_t id = lookup_find(l, text + start[i], len[i] + len[i + 1]);
            if (id >= 0 && (best < 0 || scores[id] > best_score)) {
                best = i;
                best_score = scores[id];
            }
        }
        if (best < 0) break;
        len[best] += len[best + 1];
        for (int i = best + 1; i + 1 < count; i++) {
            start[i] = start[i + 1];
            len[i] = len[i + 1];
        }
        count--;
    }
    *first = lookup_find(l, text + start[0], len[0]);
    return count;
}

HY_TEST(make_model_vocab_layout_and_specials) {
    hy_make_model_vocab v;
    HY_REQUIRE(hy_make_model_vocab_build(1024, &v) == HYPERION_OK);
    HY_CHECK_INT(v.n, 1024);
    HY_CHECK_STR(v.text[0], "<unk>");
    HY_CHECK_INT(v.types[0], 2);
    HY_CHECK_STR(v.text[1], "<s>");
    HY_CHECK_INT(v.types[1], 3);
    HY_CHECK_STR(v.text[2], "</s>");
    HY_CHECK_INT(v.types[2], 3);
    char want[8];
    for (int b = 0; b < 256; b++) {
        snprintf(want, sizeof want, "<0x%02X>", b);
        HY_CHECK_STR(v.text[3 + b], want);
        HY_CHECK_INT(v.types[3 + b], 6);
    }
    HY_CHECK_STR(v.text[259], "\xe2\x96\x81");
    for (uint32_t i = 259; i < v.n; i++) HY_CHECK_INT(v.types[i], 1);
    for (uint32_t i = 1; i < v.n; i++) HY_CHECK(v.scores[i] < v.scores[i - 1]);
    /* a few pieces every English text needs */
    lookup l;
    HY_REQUIRE(lookup_init(&l, &v));
    const char *must[] = { "a", "Z", "7", ".", "\xe2\x96\x81t", "\xe2\x96\x81the", "he", "in", "er", "\xe2\x96\x81" "and" };
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++) HY_CHECK(lookup_find(&l, must[i], strlen(must[i])) >= 0);
    free(l.ids);
    hy_make_model_vocab_free(&v);
}

HY_TEST(make_model_vocab_is_a_prefix_of_the_large_one) {
    hy_make_model_vocab small, large;
    HY_REQUIRE(hy_make_model_vocab_build(HY_MAKE_MODEL_MIN_VOCAB, &small) == HYPERION_OK);
    HY_REQUIRE(hy_make_model_vocab_build(32000, &large) == HYPERION_OK);
    for (uint32_t i = 0; i < small.n; i++) HY_CHECK_STR(small.text[i], large.text[i]);
    hy_make_model_vocab_free(&small);
    hy_make_model_vocab_free(&large);
}

/* Unique, valid UTF-8 without NUL, and every normal piece of two or more
 * characters splits into two pieces of the vocabulary. */
static void check_vocab(uint32_t n) {
    hy_make_model_vocab v;
    HY_REQUIRE(hy_make_model_vocab_build(n, &v) == HYPERION_OK);
    lookup l;
    HY_REQUIRE(lookup_init(&l, &v));
    int bad_utf8 = 0, dupes = 0, unreachable = 0, not_merged = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!v.len[i] || !hy_gguf_utf8_valid((const uint8_t *)v.text[i], v.len[i], NULL) ||
            strlen(v.text[i]) != v.len[i])
            bad_utf8++;
        if (i > 0 && !cmp_piece(v.text[l.ids[i]], v.len[l.ids[i]], v.text[l.ids[i - 1]], v.len[l.ids[i - 1]])) dupes++;
        if (v.types[i] != 1 || utf8_char_len(v.text[i]) == v.len[i]) continue;
        int split = 0;
        for (uint64_t k = utf8_char_len(v.text[i]); k < v.len[i] && !split; k += utf8_char_len(v.text[i] + k))
            split = lookup_find(&l, v.text[i], k) >= 0 && lookup_find(&l, v.text[i] + k, v.len[i] - k) >= 0;
        if (!split) {
            if (unreachable++ < 5) printf("    no split: \"%s\" (id %u)\n", v.text[i], i);
        }
        int64_t first;
        if (spm_merge(&l, v.scores, v.text[i], v.len[i], &first) != 1 || first != (int64_t)i) {
            if (not_merged++ < 5) printf("    merge does not build \"%s\" (id %u)\n", v.text[i], i);
        }
    }
    HY_CHECK_INT(bad_utf8, 0);
    HY_CHECK_INT(dupes, 0);
    HY_CHECK_INT(unreachable, 0);
    HY_CHECK_INT(not_merged, 0);
    free(l.ids);
    hy_make_model_vocab_free(&v);
}

HY_TEST(make_model_vocab_pieces_are_unique_and_reachable_by_merges) {
    check_vocab(HY_MAKE_MODEL_MIN_VOCAB);
    check_vocab(512);
    check_vocab(1024);
    check_vocab(32000);
}

HY_TEST(make_model_vocab_rejects_sizes_outside_the_range) {
    hy_make_model_vocab v;
    HY_CHECK_INT(hy_make_model_vocab_build(HY_MAKE_MODEL_MIN_VOCAB - 1, &v), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_INT(hy_make_model_vocab_build(HY_MAKE_MODEL_MAX_VOCAB + 1, &v), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_INT(hy_make_model_vocab_build(1024, NULL), HYPERION_INVALID_ARGUMENT);
    HY_REQUIRE(hy_make_model_vocab_build(HY_MAKE_MODEL_MAX_VOCAB, &v) == HYPERION_OK);
    HY_CHECK_INT(v.n, HY_MAKE_MODEL_MAX_VOCAB);
    hy_make_model_vocab_free(&v);
}
