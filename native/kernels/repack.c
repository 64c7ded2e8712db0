/*
 * repack.c — weight rows copied into a layout (repack.h): the x8 layout of
 * Q4_0 / Q8_0 rows, or the file's own; plain byte moves, the same on every
 * instruction set.
 */
#include "kernels/repack.h"

#include <string.h>

#include "kernels/kernels.h"
#include "kernels/types.h"

enum { GROUP = 8 };

int hy_layout_fits_type(uint32_t layout, uint32_t type) {
    return layout == HY_LAYOUT_GGUF || (layout == HY_LAYOUT_X8 && (type == HY_TYPE_Q4_0 || type == HY_TYPE_Q8_0));
}

uint32_t hy_repack_preferred_layout(const hy_tensor *w) {
    if (!w || w->layout != HY_LAYOUT_GGUF || !hy_layout_fits_type(HY_LAYOUT_X8, w->type)) return HY_LAYOUT_GGUF;
    return hy_matmul_table()->matvec_x8[hy_wtype_of(w->type)] ? HY_LAYOUT_X8 : HY_LAYOUT_GGUF;
}

/* One direction of the regrouping, for a block size known at compile time
 * (so each copy is a few moves, not a call): pack when PACK, else unpack. */
static inline void x8_move(int PACK, size_t BS, const uint8_t *src, uint8_t *dst, int64_t nb) {
    const size_t q = BS - 2, group = GROUP * BS;
    int64_t b = 0;
    for (; b + GROUP <= nb; b += GROUP, src += group, dst += group)
        for (size_t k = 0; k < GROUP; k++) {
            if (PACK) {
                memcpy(dst + 2 * k, src + BS * k, 2);
                memcpy(dst + 16 + q * k, src + BS * k + 2, q);
            } else {
                memcpy(dst + BS * k, src + 2 * k, 2);
                memcpy(dst + BS * k + 2, src + 16 + q * k, q);
            }
        }
    memcpy(dst, src, (size_t)(nb - b) * BS);
}

void hy_x8_pack_blocks(const uint8_t *src, uint8_t *dst, int64_t nb, int block_bytes) {
    if (block_bytes == 18) x8_move(1, 18, src, dst, nb);
    else x8_move(1, 34, src, dst, nb);
}

void hy_x8_unpack_blocks(const uint8_t *src, uint8_t *dst, int64_t nb, int block_bytes) {
    if (block_bytes == 18) x8_move(0, 18, src, dst, nb);
    else x8_move(0, 34, src, dst, nb);
}

int hy_repack_rows(const hy_tensor *w, uint32_t layout, void *dst, uint64_t row_begin, uint64_t row_end) {
    if (!w || !w->data || !dst || w->layout != HY_LAYOUT_GGUF || !hy_layout_fits_type(layout, w->type) ||
        row_end > hy_tensor_rows(w) || row_begin > row_end)
        return -1;
    const uint8_t *src = (const uint8_t *)w->data + row_begin * w->row_bytes;
    uint8_t *out = (uint8_t *)dst + row_begin * w->row_bytes;
    if (layout == HY_LAYOUT_GGUF) { /* a plain copy */
        memcpy(out, src, (size_t)((row_end - row_begin) * w->row_bytes));
        return 0;
    }
    const int bs = w->type == HY_TYPE_Q4_0 ? 18 : 34;
    if (w->ne[0] % 32 || w->row_bytes != w->ne[0] / 32 * (uint64_t)bs) return -1;
    const int64_t nb = (int64_t)(w->ne[0] / 32);
    for (uint64_t r = row_begin; r < row_end; r++, src += w->row_bytes, out += w->row_bytes)
        hy_x8_pack_blocks(src, out, nb, bs);
    return 0;
}
