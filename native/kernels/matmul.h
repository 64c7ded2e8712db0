/*
 * matmul.h — weight-matrix products (internal API): matrix-vector for decode,
 * matrix-matrix for prompt processing.
 *
 * Threading is the caller's: each call computes a range of output rows
 * [row_begin, row_end), so a thread pool splits rows (or tiles) between its
 * threads and calls these concurrently on disjoint ranges. The kernels keep no
 * state and read the weights in place: the GGUF mapping, or a copy made at
 * load in another layout (w->layout, kernels/repack.h; Q4_0 rows in the x8
 * layout on AVX-512, read by their own kernels there and through a
 * GGUF-order fallback by the others). hy_matvec allocates
 * nothing. hy_matmul needs scratch memory for its register tiles: per-token
 * activation data (16 bytes per token, up to 256 tokens, and sub-block of 32
 * or 16 elements) plus the decoded weight tile (~50-130 KiB); hy_matmul takes
 * it from the pool per call (HYPERION_TAG_SCRATCH) and frees it before
 * returning, hy_matmul_with_scratch takes it from the caller (a pool thread
 * can keep one block, sized with hy_matmul_scratch_bytes). When the pool
 * refuses the block (memory limit), the same products are computed on a
 * slower path and the refusal stays in the last-error record.
 *
 * Weights: w from model/tensor.h, ne[0] = n_in elements per row, rows =
 * hy_tensor_rows(w) outputs, row_bytes apart, of a type with kernels (F32,
 * F16, BF16, Q4_0, Q8_0, Q4_K, Q5_K, Q6_K: hy_matmul_supported). Activations:
 * quantize x once with hy_quantize_activations(w->type, ...) into the format
 * hy_activation_type(w->type) names; the same quantized row serves every
 * thread and row range.
 *
 * Dispatched through the kernel group "matmul"; hyperionEnableSIMD("matmul",
 * 0) forces the scalar reference. SIMD results equal the reference up to the
 * order in which per-block float terms are added (integer block sums are
 * exact in every version).
 */
#ifndef HYPERION_MATMUL_H
#define HYPERION_MATMUL_H

#include <stddef.h>
#include <stdint.h>

#include "hyperion.h"
#include "model/tensor.h"

/* HYPERION_OK when hy_matvec / hy_matmul can use w: a supported type, ne[0] a
 * positive multiple of its block size, row_bytes matching, data non-NULL.
 * Otherwise HYPERION_MODEL_UNSUPPORTED (field "type") or
 * HYPERION_MODEL_INVALID (field "ne0" / "row_bytes" / "data") naming the
 * tensor. Call once per tensor at load; the kernels themselves trust w. */
hyperion_status hy_matmul_supported(const hy_tensor *w);

/* Decode: y[r] = dot(row r of w, x) for r in [row_begin, row_end).
 * xq: one activation row in the format hy_activation_type(w->type) wants;
 * y: indexed by absolute row (y[row_begin] is the first written).
 * Nothing is written when w is not supported or the range is empty or outside
 * [0, rows). */
void hy_matvec(const hy_tensor *w, const void *xq, float *y, int64_t row_begin, int64_t row_end);

/* Decode over one activation in many calls (a pool's chunks, or several
 * products reading one input) with the activation data some kernels make on
 * every call made once instead. Q4_0 / Q8_0 weights on x86: the activation's
 * block scales as floats, its offset corrections and, for the x8 layout, its
 * quants in the kernel's order; a call's setup is ~240 ns for rows of 2048
 * elements and ~650 for 5632, more than a 16-row call spends on its rows from
 * the cache. data: the caller's buffer, capacity bytes (hy_matvec_prep_bytes),
 * 64-byte aligned for speed; the rest is written by hy_matvec_prepare. */
typedef struct hy_matvec_prep {
    void *data;
    size_t capacity;
    const void *table;      /* the kernels that made data, NULL: nothing made */
    const void *xq;         /* the activation it was made from */
    uint64_t n;             /* its elements (the weights' ne[0]) */
    uint32_t type, layout;  /* the weights it serves */
} hy_matvec_prep;

/* Bytes a hy_matvec_prep's buffer needs for rows of n elements, whatever the
 * weight type, layout or kernels. */
size_t hy_matvec_prep_bytes(int64_t n);

/* Make prep's data for products of weights of w's type, layout and row
 * length with activation xq (as hy_matvec takes it). Returns 1 when made; 0
 * when the kernels in use make no such data for w, or prep's buffer is too
 * small: prep then holds nothing and hy_matvec_prepped works as hy_matvec.
 * The data describes xq's contents now: after they change, make it again
 * (or hy_matvec_prep_clear it). */
int hy_matvec_prepare(hy_matvec_prep *prep, const hy_tensor *w, const void *xq);

/* 1 when prep holds data for w's type, layout and row length, made from xq
 * by the kernels in use now (which hyperionEnableSIMD may have changed). */
int hy_matvec_prep_fits(const hy_matvec_prep *prep, const hy_tensor *w, const void *xq);

/* Forget what prep holds (its buffer stays). */
void hy_matvec_prep_clear(hy_matvec_prep *prep);

/* hy_matvec reading prep's data where it fits w and xq (the same numbers);
 * otherwise exactly hy_matvec. prep may be NULL. */
void hy_matvec_prepped(const hy_tensor *w, const void *xq, const hy_matvec_prep *prep, float *y, int64_t row_begin,
                       int64_t row_end);

/* Prompt processing: y[t * n_out + r] = dot(row r of w, activation row t) for
 * t < n_tokens and r in [row_begin, row_end), n_out = hy_tensor_rows(w).
 * xq: n_tokens activation rows, xq_row_bytes apart (>= the row size);
 * y: [n_tokens, n_out]. Quantized weights: register tiles of 16 (AVX-512) or
 * 8 (AVX2) weight rows by 8 / 4 tokens; each group of rows is decoded once
 * per call (per 256 tokens) into a cache-resident tile that every token then
 * streams past (see kernels/x86/tile_impl.h). n_tokens == 1 is hy_matvec.
 * Nothing is written for unsupported w, a bad range or n_tokens < 1. */
void hy_matmul(const hy_tensor *w, const void *xq, size_t xq_row_bytes, float *y, int64_t n_tokens,
               int64_t row_begin, int64_t row_end);

/* The scratch bytes hy_matmul_with_scratch can use for w and n_tokens with the
 * kernels in use now (0 when it needs none, e.g. n_tokens < 4). */
size_t hy_matmul_scratch_bytes(const hy_tensor *w, int64_t n_tokens);

/* hy_matmul with scratch memory from the caller (a thread pool can keep one
 * block per thread): scratch NULL or scratch_bytes >= hy_matmul_scratch_bytes
 * (64-byte aligned), used only during the call; allocates nothing. With too
 * little scratch the products are computed on the slower path. */
void hy_matmul_with_scratch(const hy_tensor *w, const void *xq, size_t xq_row_bytes, float *y, int64_t n_tokens,
                            int64_t row_begin, int64_t row_end, void *scratch, size_t scratch_bytes);

#endif
