/*
 * repack.h — weight layouts other than the file's, made once at load for
 * faster kernels (internal).
 *
 * HY_LAYOUT_X8 (Q4_0 and Q8_0). A GGUF block of these types is an F16 scale
 * followed by its quants (Q4_0: 18 bytes, 16 of them holding 32 4-bit quants;
 * Q8_0: 34 bytes, 32 quants). Read in that order, an AVX-512 kernel gathers
 * the scales of eight blocks with a word permute and builds each 64-byte
 * vector of quants from several unaligned loads. The x8 layout stores each
 * group of eight blocks (8 x block bytes) as
 *
 *   bytes  0..15   the eight F16 scales, block 0 first
 *   bytes 16..     the eight blocks' quants, block 0 first
 *
 * so the scales are one 16-byte load and the quants whole 64-byte loads
 * (Q4_0: four blocks per load, in the lane order of the repacked activation;
 * Q8_0: two blocks). A row of nb blocks has nb / 8 such groups; its last
 * nb % 8 blocks stay as in the file. The row size is unchanged, and block b
 * of a row (b a multiple of 8) starts at the same byte offset in both
 * layouts, so a row can be split into pieces at any multiple of 8 blocks.
 *
 * Measured for Q4_0 (a driver outside the repo, 2 threads, rows of 2048
 * columns, the same numbers out): decode rows from the cache 52.9 vs 78.1 ns
 * per row, streaming from memory 21.2 vs 19.2 GB/s (best of 20 passes).
 *
 * Tried and not built: a Q4_0 layout with one block per 32-bit lane (per
 * 16 blocks: their 16 scales, then four 64-byte vectors whose lane k holds
 * 4 quant bytes of block k), so vpdpbusd sums a whole block in one lane and
 * the float work (convert, scale, accumulate) is once per 16 blocks instead
 * of per 4: ~27 instead of ~44 vector operations per 16 blocks. From the
 * cache it was 1.2x faster (one thread, rows of 2048 columns: 71 vs 85 ns a
 * row, medians of 30 interleaved passes); streaming 151 MB at 2 threads it
 * was no faster (20.5 vs 20.0, 21.3 vs 21.4 GB/s), with a plain read loop
 * over the same buffer at 21.7-22.4 GB/s: the x8 kernel already streams at
 * ~95% of what one stream per thread can read here, so decode gains nothing
 * from fewer instructions (driver /tmp/s9/x16.c, session 9).
 */
#ifndef HYPERION_KERNELS_REPACK_H
#define HYPERION_KERNELS_REPACK_H

#include <stddef.h>
#include <stdint.h>

#include "model/tensor.h"

/* The layout the kernels in use now read fastest for weight w: HY_LAYOUT_X8
 * for a Q4_0 or Q8_0 tensor in the GGUF layout when the "matmul" table has
 * native kernels for it (AVX-512), else HY_LAYOUT_GGUF (keep the mapping). */
uint32_t hy_repack_preferred_layout(const hy_tensor *w);

/* 1 when `layout` exists for weight type `type` (GGUF: always; X8: Q4_0, Q8_0). */
int hy_layout_fits_type(uint32_t layout, uint32_t type);

/* nb blocks of block_bytes (18: Q4_0, 34: Q8_0) from the GGUF layout at src to
 * the x8 layout at dst (the same nb * block_bytes bytes; the buffers must not
 * overlap). */
void hy_x8_pack_blocks(const uint8_t *src, uint8_t *dst, int64_t nb, int block_bytes);

/* The inverse: nb blocks in the x8 layout at src back to GGUF order at dst. */
void hy_x8_unpack_blocks(const uint8_t *src, uint8_t *dst, int64_t nb, int block_bytes);

/* Write w's rows [row_begin, row_end) in `layout` to dst, which holds the
 * whole tensor (w->n_bytes; row r goes to dst + r * row_bytes); HY_LAYOUT_GGUF
 * copies them as they are. w must be in the GGUF layout and `layout` one its
 * type has; returns 0 then, -1 (nothing written) otherwise. Rows are
 * independent, so threads may repack disjoint ranges at once. */
int hy_repack_rows(const hy_tensor *w, uint32_t layout, void *dst, uint64_t row_begin, uint64_t row_end);

#endif
