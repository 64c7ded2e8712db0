/*
 * matmul.c — entry points of the weight-matrix products (matmul.h): checks
 * and dispatch to the "matmul" group.
 */
#include "kernels/matmul.h"

#include "core/internal.h"
#include "kernels/kernels.h"
#include "kernels/quant.h"
#include "kernels/repack.h"
#include "kernels/types.h"

hyperion_status hy_matmul_supported(const hy_tensor *w) {
    if (!w)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", "w") }),
                             "weight tensor must not be NULL");
    const char *name = w->name ? w->name : "(unnamed)";
    const hy_type_info *info = hy_type_get(w->type);
    if (hy_wtype_of(w->type) < 0)
        return HY_RAISE_WITH(HYPERION_MODEL_UNSUPPORTED, "use a model with f32, f16, bf16, q4_0, q8_0, q4_K, q5_K or q6_K weights",
                             ((hy_field[]){ HY_TXT("field", "type"), HY_TXT("tensor", name), HY_NUM("value", w->type) }),
                             "tensor \"%s\": no matrix kernels for type %s", name, info ? info->name : "unknown");
    if (w->ne[0] == 0 || w->ne[0] % info->block_size != 0)
        return HY_RAISE_WITH(HYPERION_MODEL_INVALID, NULL,
                             ((hy_field[]){ HY_TXT("field", "ne0"), HY_TXT("tensor", name), HY_NUM("value", (double)w->ne[0]) }),
                             "tensor \"%s\": row length %llu is not a positive multiple of %u", name,
                             (unsigned long long)w->ne[0], info->block_size);
    if (w->row_bytes != hy_type_row_bytes(w->type, w->ne[0]))
        return HY_RAISE_WITH(HYPERION_MODEL_INVALID, NULL,
                             ((hy_field[]){ HY_TXT("field", "row_bytes"), HY_TXT("tensor", name), HY_NUM("value", (double)w->row_bytes) }),
                             "tensor \"%s\": row_bytes %llu does not match its type and length", name,
                             (unsigned long long)w->row_bytes);
    if (!w->data)
        return HY_RAISE_WITH(HYPERION_MODEL_INVALID, NULL, ((hy_field[]){ HY_TXT("field", "data"), HY_TXT("tensor", name) }),
                             "tensor \"%s\" has no data", name);
    if (!hy_layout_fits_type(w->layout, w->type))
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL,
                             ((hy_field[]){ HY_TXT("field", "layout"), HY_TXT("tensor", name), HY_NUM("value", w->layout) }),
                             "tensor \"%s\": layout %u does not exist for its type", name, w->layout);
    return HYPERION_OK;
}

/* The type index when w and the row range can be used, else -1. */
static int usable(const hy_tensor *w, int64_t r0, int64_t r1) {
    if (!w || !w->data || r0 < 0 || r1 <= r0 || (uint64_t)r1 > hy_tensor_rows(w)) return -1;
    const int wt = hy_wtype_of(w->type);
    if (wt < 0 || w->ne[0] == 0 || w->row_bytes != hy_type_row_bytes(w->type, w->ne[0])) return -1;
    if (!hy_layout_fits_type(w->layout, w->type)) return -1;
    return wt;
}

/* ---- x8 rows on a table without kernels for the layout ----
 * (the scalar reference after hyperionEnableSIMD("matmul", 0), or a test
 * calling another table): each row goes back to GGUF order a piece of at most
 * X8_PIECE blocks at a time, in a stack buffer, and through matvec[wt] per
 * token. Pieces start at multiples of 8 blocks, where both layouts agree. */
#define X8_PIECE 256

static void x8_rows_via_gguf(const hy_matmul_kernels *k, int wt, const hy_tensor *w, const uint8_t *xq,
                             size_t xq_row_bytes, int64_t n_tokens, float *y, int64_t y_stride, int64_t r0, int64_t r1) {
    uint8_t piece[X8_PIECE * 34];
    const int bs = w->type == HY_TYPE_Q4_0 ? 18 : 34;
    const int64_t nb = (int64_t)w->ne[0] / 32;
    for (int64_t r = r0; r < r1; r++) {
        const uint8_t *row = (const uint8_t *)w->data + (size_t)r * w->row_bytes;
        for (int64_t b0 = 0; b0 < nb; b0 += X8_PIECE) {
            const int64_t cnt = nb - b0 < X8_PIECE ? nb - b0 : X8_PIECE;
            hy_x8_unpack_blocks(row + b0 * bs, piece, cnt, bs);
            for (int64_t t = 0; t < n_tokens; t++) {
                float v;
                /* a Q8_0 activation block (both types' activation) is 34 bytes */
                k->matvec[wt](piece, (size_t)cnt * bs, cnt * 32, xq + (size_t)t * xq_row_bytes + b0 * 34, &v, 0, 1);
                float *dst = y + t * y_stride + r;
                *dst = b0 ? *dst + v : v;
            }
        }
    }
}

void hy_matvec(const hy_tensor *w, const void *xq, float *y, int64_t row_begin, int64_t row_end) {
    const int wt = usable(w, row_begin, row_end);
    if (wt < 0 || !xq || !y) return;
    const hy_matmul_kernels *k = hy_matmul_table();
    if (w->layout == HY_LAYOUT_X8) {
        if (k->matvec_x8[wt])
            k->matvec_x8[wt](w->data, (size_t)w->row_bytes, (int64_t)w->ne[0], xq, y, row_begin, row_end);
        else
            x8_rows_via_gguf(k, wt, w, xq, 0, 1, y, 0, row_begin, row_end);
        return;
    }
    k->matvec[wt](w->data, (size_t)w->row_bytes, (int64_t)w->ne[0], xq, y, row_begin, row_end);
}

size_t hy_matvec_prep_bytes(int64_t n) { return n > 0 ? HY_MATVEC_PREP_BYTES(n) : 0; }

int hy_matvec_prepare(hy_matvec_prep *prep, const hy_tensor *w, const void *xq) {
    if (!prep) return 0;
    hy_matvec_prep_clear(prep);
    const int wt = w ? usable(w, 0, 1) : -1;
    if (wt < 0 || !xq || !prep->data || prep->capacity < hy_matvec_prep_bytes((int64_t)w->ne[0])) return 0;
    const hy_matmul_kernels *k = hy_matmul_table();
    const hy_matvec_prepare_fn make = w->layout == HY_LAYOUT_X8 ? k->matvec_x8_prepare[wt] : k->matvec_prepare[wt];
    if (!make) return 0;
    make((int64_t)w->ne[0], xq, prep->data);
    prep->table = k;
    prep->xq = xq;
    prep->n = w->ne[0];
    prep->type = w->type;
    prep->layout = w->layout;
    return 1;
}

int hy_matvec_prep_fits(const hy_matvec_prep *prep, const hy_tensor *w, const void *xq) {
    return prep && w && prep->table && prep->table == (const void *)hy_matmul_table() && prep->xq == xq &&
           prep->n == w->ne[0] && prep->type == w->type && prep->layout == w->layout;
}

void hy_matvec_prep_clear(hy_matvec_prep *prep) {
    if (!prep) return;
    prep->table = NULL;
    prep->xq = NULL;
    prep->n = 0;
}

void hy_matvec_prepped(const hy_tensor *w, const void *xq, const hy_matvec_prep *prep, float *y, int64_t row_begin,
                       int64_t row_end) {
    if (!hy_matvec_prep_fits(prep, w, xq)) {
        hy_matvec(w, xq, y, row_begin, row_end);
        return;
    }
    const int wt = usable(w, row_begin, row_end);
    if (wt < 0 || !y) return;
    const hy_matmul_kernels *k = prep->table;
    const hy_matvec_prepped_fn run = w->layout == HY_LAYOUT_X8 ? k->matvec_x8_prepped[wt] : k->matvec_prepped[wt];
    run(w->data, (size_t)w->row_bytes, (int64_t)w->ne[0], xq, prep->data, y, row_begin, row_end);
}

size_t hy_matmul_scratch_bytes(const hy_tensor *w, int64_t n_tokens) {
    const int wt = w ? hy_wtype_of(w->type) : -1;
    if (wt < 0 || n_tokens < 2) return 0;
    return hy_matmul_table()->matmul_scratch(wt, (int64_t)w->ne[0], n_tokens);
}

static void matmul_run(const hy_tensor *w, const void *xq, size_t xq_row_bytes, float *y, int64_t n_tokens,
                       int64_t row_begin, int64_t row_end, int own_scratch, void *scratch, size_t scratch_bytes) {
    const int wt = usable(w, row_begin, row_end);
    if (wt < 0 || !xq || !y || n_tokens < 1 || xq_row_bytes < hy_activation_row_bytes(w->type, (int64_t)w->ne[0]))
        return;
    const hy_matmul_kernels *k = hy_matmul_table();
    const int64_t n_out = (int64_t)hy_tensor_rows(w), n = (int64_t)w->ne[0];
    if (n_tokens == 1) {
        hy_matvec(w, xq, y, row_begin, row_end);
        return;
    }
    const int x8 = w->layout == HY_LAYOUT_X8;
    if (x8 && !k->matmul_x8[wt]) {
        x8_rows_via_gguf(k, wt, w, xq, xq_row_bytes, n_tokens, y, n_out, row_begin, row_end);
        return;
    }
    hy_matmul_fn run = x8 ? k->matmul_x8[wt] : k->matmul[wt];
    const size_t want = k->matmul_scratch(wt, n, n_tokens);
    if (own_scratch) {
        /* when the pool refuses the block, the kernel computes the same
         * products on its slower path without scratch */
        scratch = want ? hyperionAlloc(want, HYPERION_TAG_SCRATCH) : NULL;
    } else if (!scratch || scratch_bytes < want || ((uintptr_t)scratch & 63)) {
        scratch = NULL;
    }
    run(w->data, (size_t)w->row_bytes, n, xq, xq_row_bytes, n_tokens, y, n_out, row_begin, row_end,
        want ? scratch : NULL);
    if (own_scratch) hyperionFree(scratch);
}

void hy_matmul(const hy_tensor *w, const void *xq, size_t xq_row_bytes, float *y, int64_t n_tokens,
               int64_t row_begin, int64_t row_end) {
    matmul_run(w, xq, xq_row_bytes, y, n_tokens, row_begin, row_end, 1, NULL, 0);
}

void hy_matmul_with_scratch(const hy_tensor *w, const void *xq, size_t xq_row_bytes, float *y, int64_t n_tokens,
                            int64_t row_begin, int64_t row_end, void *scratch, size_t scratch_bytes) {
    matmul_run(w, xq, xq_row_bytes, y, n_tokens, row_begin, row_end, 0, scratch, scratch_bytes);
}
