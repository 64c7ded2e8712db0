/*
 * candidates.c — selection and sorting of the sampler's candidates without
 * allocation (libc's qsort may allocate): a bounded heap for a few best among
 * many, median-of-three quickselect (linear on average) for large selections,
 * introsort (quicksort with a heapsort fallback, so never quadratic) to sort.
 */
#include "sampling/candidates.h"

/* Median of a[lo], a[mid], a[last] moved to a[last], as the pivot. */
static void pivot_to_end(cand *a, size_t lo, size_t last) {
    size_t mid = lo + (last - lo) / 2;
    if (a[mid].key < a[lo].key) cand_swap(&a[mid], &a[lo]);
    if (a[last].key < a[lo].key) cand_swap(&a[last], &a[lo]);
    if (a[last].key < a[mid].key) cand_swap(&a[last], &a[mid]);
    cand_swap(&a[mid], &a[last]);
}

static size_t partition(cand *a, size_t lo, size_t hi) {
    size_t last = hi - 1, store = lo;
    pivot_to_end(a, lo, last);
    uint64_t pivot = a[last].key;
    for (size_t i = lo; i < last; i++)
        if (a[i].key < pivot) cand_swap(&a[i], &a[store++]);
    cand_swap(&a[store], &a[last]);
    return store;
}

static void sift_down(cand *a, size_t root, size_t n) {
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n) return;
        if (child + 1 < n && a[child + 1].key > a[child].key) child++;
        if (a[root].key >= a[child].key) return;
        cand_swap(&a[root], &a[child]);
        root = child;
    }
}

/* Rearrange a[lo, hi) so that a[lo, k) holds its k - lo smallest keys (the
 * best candidates), in any order. A few best among many (top-k, the debug
 * list) go through a bounded max-heap in one pass: each candidate
 * costs one well-predicted compare with the heap's worst. Large selections use
 * quickselect. */
void hy_cand_select_best(cand *a, size_t lo, size_t hi, size_t k) {
    if (!(lo < k && k < hi)) return;
    size_t m = k - lo;
    if (m <= 4096 && m <= (hi - lo) / 8) {
        cand *h = a + lo;
        for (size_t i = m / 2; i-- > 0;) sift_down(h, i, m);
        for (size_t i = k; i < hi; i++)
            if (a[i].key < h[0].key) {
                cand_swap(&a[i], &h[0]);
                sift_down(h, 0, m);
            }
        return;
    }
    while (lo < k && k < hi && hi - lo > 1) {
        size_t p = partition(a, lo, hi);
        if (k <= p) hi = p;
        else lo = p + 1;
    }
}

/* Sort a[0, n) by key: quicksort, insertion sort for short runs, heapsort when
 * the recursion goes too deep (so never quadratic). No allocation. */
static void sort_keys(cand *a, size_t n, int depth) {
    while (n > 16) {
        if (depth-- == 0) {
            for (size_t i = n / 2; i-- > 0;) sift_down(a, i, n);
            for (size_t end = n - 1; end > 0; end--) {
                cand_swap(&a[0], &a[end]);
                sift_down(a, 0, end);
            }
            return;
        }
        size_t p = partition(a, 0, n);
        /* Recurse into the smaller side, loop on the larger. */
        if (p < n - p - 1) {
            sort_keys(a, p, depth);
            a += p + 1;
            n -= p + 1;
        } else {
            sort_keys(a + p + 1, n - p - 1, depth);
            n = p;
        }
    }
    for (size_t i = 1; i < n; i++) {
        cand v = a[i];
        size_t j = i;
        while (j > 0 && a[j - 1].key > v.key) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = v;
    }
}

/* Make a[0, k) the best k of a[0, n), sorted; *sorted is how much already is. */
void hy_cand_sort_prefix(cand *a, size_t n, size_t k, size_t *sorted) {
    if (k > n) k = n;
    if (k <= *sorted) return;
    hy_cand_select_best(a, *sorted, n, k);
    int depth = 2;
    for (size_t m = k - *sorted; m > 1; m >>= 1) depth += 2;
    sort_keys(a + *sorted, k - *sorted, depth);
    *sorted = k;
}

/* Move to a[lo, ...) the smallest prefix, in the total order, of a[lo, hi)
 * whose weight reaches target, as a set (in no particular order); returns its
 * end. Quickselect on the mass: each round partitions around a pivot and
 * keeps only the side where the cut lies, so the whole search is linear on
 * average and nothing needs sorting. */
size_t hy_cand_select_mass(cand *a, size_t lo, size_t hi, double target) {
    double acc = 0;  // mass of a[0, lo): everything there is better than a[lo, hi)
    while (hi - lo > 1) {
        size_t p = partition(a, lo, hi);
        double better = 0;
        for (size_t i = lo; i < p; i++) better += a[i].weight;
        if (acc + better >= target) {
            hi = p;  // the cut is before the pivot
        } else if (acc + better + a[p].weight >= target) {
            return p + 1;
        } else {
            acc += better + a[p].weight;
            lo = p + 1;
        }
    }
    return hi;
}

