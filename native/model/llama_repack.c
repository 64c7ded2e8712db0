/*
 * llama_repack.c — the weights every token reads, copied at load into the
 * process's own memory, in the layouts the kernels read fastest
 * (hy_llama_model_repack, llama.h; the layouts: kernels/repack.h).
 *
 * Why copy at all: decode reads every per-token weight once per token, so
 * it is bound by the rate at which they stream from memory.
 *  - On AVX-512 the Q4_0 and Q8_0 kernels stream x8 rows faster than GGUF
 *    rows (whole 64-byte loads of quants, one load for eight scales).
 *  - The copy lives in one anonymous block with 2 MiB pages, where a file
 *    mapping is read through whatever page-cache folios the kernel made
 *    (4 KiB to 2 MiB; tinyllama q4_k_m's weights were 56-96% in 2 MiB pages
 *    from one sitting to the next), on physical memory the page cache chose.
 *    Under a hypervisor each TLB miss is a nested walk.
 *  - Measured on the 2-vCPU VM this project is built on, tinyllama q4_k_m
 *    at 2 threads: its Q4_K matrices streamed through the decode kernel at
 *    12.7 GB/s median from the mapping and 14.5 from the copy (30
 *    interleaved passes, session 8); whole decodes (512-token prompt, 128
 *    tokens, interleaved pairs, steal under 2%) ran 28.85 / 29.82 / 29.92 /
 *    31.45 / 28.27 / 30.40 tok/s copied against 25.26 / 27.61 / 29.28 /
 *    25.32 / 29.86 / 23.25 mapped (session 11: faster in 5 of 6 pairs, and
 *    steadier; the probe read 13.8 GB/s around the second mapped run, 24-26
 *    around the others). Session 8's pairs on a busier host had shown no
 *    difference.
 *    So tensors with no faster layout are copied as they are.
 * The mapped originals' pages are dropped after each copy, so the process
 * holds one copy of each weight, not two (but no longer shares them with
 * other processes through the page cache: repackWeights false keeps that).
 *
 * The norm vectors are copied with the matrices: a read of one 8 KiB vector
 * in the mapping would map the whole page-cache folio around it, up to 2 MiB
 * of neighbouring (copied, dropped) weights. Measured on tinyllama Q4_0:
 * 139 MiB of the mapping resident after a decode with the norms mapped, the
 * output matrix (51 MiB) and a few embedding rows without.
 */
#include "model/llama.h"

#include <string.h>
#include <sys/mman.h>

#include "kernels/repack.h"

/* The tensors every token reads whole: all of each layer's, the output norm
 * and the output matrix (the embeddings are read a row per token and stay
 * mapped). NULL entries (none in a bound model) are skipped by the caller. */
static uint32_t token_slots(hy_llama_model *m, const hy_tensor ***slots) {
    uint32_t n = 0;
    for (uint32_t l = 0; l < m->w.n_layer; l++)
        for (int i = 0; i < HY_L_COUNT; i++, n++)
            if (slots) slots[n] = &m->w.layers[l].t[i];
    if (slots) {
        slots[n] = &m->w.output_norm;
        slots[n + 1] = &m->w.output;
    }
    return n + 2;
}

/* Ask for 2 MiB pages for the copy: decode reads every weight once per token,
 * so TLB reach matters (ignored where THP is off). */
static void advise_huge_pages(void *p, size_t bytes) {
#if defined(MADV_HUGEPAGE)
    const uintptr_t huge = (uintptr_t)2 << 20, a = ((uintptr_t)p + huge - 1) & ~(huge - 1),
                    e = ((uintptr_t)p + bytes) & ~(huge - 1);
    if (e > a) (void)madvise((void *)a, (size_t)(e - a), MADV_HUGEPAGE);
#else
    (void)p;
    (void)bytes;
#endif
}

/* Rows of one tensor repacked by the pool's threads (each a range of rows). */
typedef struct repack_job {
    const hy_tensor *src;
    uint32_t layout;
    uint8_t *dst;
} repack_job;

static void repack_range(void *arg, size_t begin, size_t end, int thread_index) {
    (void)thread_index;
    const repack_job *j = arg;
    hy_repack_rows(j->src, j->layout, j->dst, begin, end);
}

/* Copy src in `layout` (HY_LAYOUT_GGUF: as it is) to dst, on the pool's
 * threads when there is a pool (the copy is bound by page faults and memory
 * traffic, which threads share well: tinyllama q8_0 loaded in 0.45-0.61 s on
 * one thread, 0.30-0.31 s on two), point every slot holding src at the copy,
 * drop src's pages of the mapping. */
static void copy_tensor(hy_llama_model *m, hy_threadpool *pool, const hy_tensor ***slots, uint32_t n_slots,
                        uint32_t from, uint32_t layout, uint8_t *dst) {
    const hy_tensor *src = *slots[from];
    repack_job job = { src, layout, dst };
    const uint64_t rows = hy_tensor_rows(src);
    if (!pool || rows < 64 || hy_threadpool_for(pool, (size_t)rows, 64, repack_range, &job) != HYPERION_OK)
        hy_repack_rows(src, layout, dst, 0, rows); /* no pool, a small tensor, or the pool would not run it */
    hy_tensor *t = &m->repacked[m->n_repacked++];
    *t = *src;
    t->data = dst;
    t->layout = layout;
    m->repacked_bytes += src->n_bytes;
    /* a tied output shares token_embd's view: the embedding lookups keep
     * reading the mapping, so its pages stay */
    for (uint32_t j = from; j < n_slots; j++)
        if (*slots[j] == src) *slots[j] = t;
    if (src != m->w.token_embd) hy_gguf_release_pages(m->gguf, src->data, src->n_bytes);
}

static size_t align64(uint64_t v) { return (size_t)((v + 63) & ~(uint64_t)63); }

hyperion_status hy_llama_model_repack(hy_llama_model *m, hy_threadpool *pool) {
    if (!m || m->repacked)
        return HY_RAISE(HYPERION_INVALID_ARGUMENT, NULL,
                        m ? "hy_llama_model_repack: the model is already repacked" : "hy_llama_model_repack: NULL model");
    const uint32_t n_slots = token_slots(m, NULL);
    uint32_t copies = 0;
    size_t total = 0;
    const hy_tensor ***slots = hyperionAlloc(n_slots * sizeof *slots, HYPERION_TAG_MODEL);
    if (!slots) goto refused;
    token_slots(m, slots);
    for (uint32_t i = 0; i < n_slots; i++) {
        const hy_tensor *src = *slots[i];
        if (!src) continue;
        copies++;
        total += align64(src->n_bytes);
    }
    if (copies == 0) goto done;
    /* one block for all copies: contiguous, and 2 MiB pages all through it */
    m->repacked = hyperionCalloc(copies, sizeof(hy_tensor), HYPERION_TAG_MODEL);
    m->repacked_block = m->repacked ? hyperionAlloc(total, HYPERION_TAG_REPACKED_WEIGHTS) : NULL;
    if (!m->repacked_block) {
        hyperionFree(m->repacked);
        m->repacked = NULL;
        goto refused;
    }
    advise_huge_pages(m->repacked_block, total);
    uint8_t *at = m->repacked_block;
    for (uint32_t i = 0; i < n_slots; i++) {
        const hy_tensor *src = *slots[i];
        if (!src || (src >= m->repacked && src < m->repacked + m->n_repacked)) continue; /* absent, or copied */
        copy_tensor(m, pool, slots, n_slots, i, hy_repack_preferred_layout(src), at);
        at += align64(src->n_bytes);
    }
done:
    hyperionFree(slots);
    return HYPERION_OK;
refused:
    HY_LOG(HYPERION_LOG_WARN, HYPERION_LOG_MEMORY,
           "weights not repacked: %s (%zu bytes for %u tensors); they are read from the mapping, more slowly",
           hyperionGetLastError()->message, total, copies);
    goto done;
}
