/*
 * repack.c — the x8 layout of Q4_0 rows (repack.h): plain byte moves, the
 * same on every instruction set.
 */
#include "kernels/repack.h"

#include <string.h>

#include "kernels/kernels.h"
#include "kernels/types.h"

enum { Q4_0_BLOCK = 18, GROUP = 8, GROUP_BYTES = 8 * 18 };

uint32_t hy_repack_preferred_layout(const hy_tensor *w) {
    if (!w || w->layout != HY_LAYOUT_GGUF || w->type != HY_TYPE_Q4_0) return HY_LAYOUT_GGUF;
    return hy_matmul_table()->matvec_q4_0_x8 ? HY_LAYOUT_Q4_0_X8 : HY_LAYOUT_GGUF;
}

void hy_q4_0_x8_pack_blocks(const uint8_t *src, uint8_t *dst, int64_t nb) {
    int64_t b = 0;
    for (; b + GROUP <= nb; b += GROUP, src += GROUP_BYTES, dst += GROUP_BYTES)
        for (int k = 0; k < GROUP; k++) {
            memcpy(dst + 2 * k, src + Q4_0_BLOCK * k, 2);
            memcpy(dst + 16 + 16 * k, src + Q4_0_BLOCK * k + 2, 16);
        }
    memcpy(dst, src, (size_t)(nb - b) * Q4_0_BLOCK);
}

void hy_q4_0_x8_unpack_blocks(const uint8_t *src, uint8_t *dst, int64_t nb) {
    int64_t b = 0;
    for (; b + GROUP <= nb; b += GROUP, src += GROUP_BYTES, dst += GROUP_BYTES)
        for (int k = 0; k < GROUP; k++) {
            memcpy(dst + Q4_0_BLOCK * k, src + 2 * k, 2);
            memcpy(dst + Q4_0_BLOCK * k + 2, src + 16 + 16 * k, 16);
        }
    memcpy(dst, src, (size_t)(nb - b) * Q4_0_BLOCK);
}

int hy_repack_rows(const hy_tensor *w, uint32_t layout, void *dst, uint64_t row_begin, uint64_t row_end) {
    if (!w || !w->data || !dst || w->layout != HY_LAYOUT_GGUF || layout != HY_LAYOUT_Q4_0_X8 ||
        w->type != HY_TYPE_Q4_0 || w->ne[0] % 32 || w->row_bytes != w->ne[0] / 32 * Q4_0_BLOCK ||
        row_end > hy_tensor_rows(w) || row_begin > row_end)
        return -1;
    const int64_t nb = (int64_t)(w->ne[0] / 32);
    for (uint64_t r = row_begin; r < row_end; r++)
        hy_q4_0_x8_pack_blocks((const uint8_t *)w->data + r * w->row_bytes, (uint8_t *)dst + r * w->row_bytes, nb);
    return 0;
}
