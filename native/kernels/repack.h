/*
 * repack.h — weight layouts other than the file's, made once at load for
 * faster kernels (internal).
 *
 * HY_LAYOUT_Q4_0_X8. A GGUF Q4_0 block is 18 bytes: an F16 scale, then 16
 * bytes holding 32 4-bit quants. Read in that order, the AVX-512 decode
 * kernel gathers the eight scales of eight blocks with a two-register word
 * permute and builds each 64-byte vector of quants from four 16-byte loads.
 * The x8 layout stores each group of eight blocks (144 bytes) as
 *
 *   bytes   0..15    the eight F16 scales, block 0 first
 *   bytes  16..143   the eight blocks' 16 quant bytes each, block 0 first
 *
 * so the scales are one 16-byte load and four blocks' quants one 64-byte load.
 * A row of nb blocks has nb / 8 such groups; its last nb % 8 blocks stay as in
 * the file. The row size is unchanged, and block b of a row (b a multiple of
 * 8) starts at the same byte offset in both layouts, so a row can be split
 * into pieces at any multiple of 8 blocks.
 *
 * Measured (a driver outside the repo, 2 threads, rows of 2048 columns, the
 * same numbers out): decode rows from the cache 52.9 vs 78.1 ns per row,
 * streaming from memory 21.2 vs 19.2 GB/s (best of 20 passes).
 */
#ifndef HYPERION_KERNELS_REPACK_H
#define HYPERION_KERNELS_REPACK_H

#include <stddef.h>
#include <stdint.h>

#include "model/tensor.h"

/* The layout the kernels in use now read fastest for weight w:
 * HY_LAYOUT_Q4_0_X8 for a Q4_0 tensor in the GGUF layout when the "matmul"
 * table has native kernels for it (AVX-512), else HY_LAYOUT_GGUF (keep the
 * mapping). */
uint32_t hy_repack_preferred_layout(const hy_tensor *w);

/* nb Q4_0 blocks from the GGUF layout at src to the x8 layout at dst (the same
 * nb * 18 bytes; the buffers must not overlap). */
void hy_q4_0_x8_pack_blocks(const uint8_t *src, uint8_t *dst, int64_t nb);

/* The inverse: nb blocks in the x8 layout at src back to GGUF order at dst. */
void hy_q4_0_x8_unpack_blocks(const uint8_t *src, uint8_t *dst, int64_t nb);

/* Write w's rows [row_begin, row_end) in `layout` to dst, which holds the
 * whole tensor (w->n_bytes; row r goes to dst + r * row_bytes). w must be in
 * the GGUF layout and `layout` one its type has (HY_LAYOUT_Q4_0_X8 for Q4_0);
 * returns 0 then, -1 (nothing written) otherwise. Rows are independent, so
 * threads may repack disjoint ranges at once. */
int hy_repack_rows(const hy_tensor *w, uint32_t layout, void *dst, uint64_t row_begin, uint64_t row_end);

#endif
