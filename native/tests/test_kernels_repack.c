/* test_kernels_repack.c — the x8 layout of Q4_0 and Q8_0 rows (kernels/repack.h):
 * packing round-trips byte for byte; the kernels that read it give exactly
 * the numbers the same table gives on the GGUF layout (the same sums in the
 * same order) on odd sizes; the entry points take the layout from the tensor,
 * and with hyperionEnableSIMD("matmul", 0) read it through the GGUF-order
 * fallback. */
#include "harness.h"
#include "kernels/kernels.h"
#include "kernels/matmul.h"
#include "kernels/quant.h"
#include "kernels/repack.h"
#include "kernels/types.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rng_state = 777u;
static uint32_t rnd(void) { return hy_test_rand(&rng_state); }
static float rnd_float(void) { return hy_test_rand_float(&rng_state); }

/* rows x n weights of type (GGUF and x8 copies) and n_tokens activation rows */
typedef struct {
    uint32_t type;
    int wt;
    int64_t n, rows, n_tokens;
    size_t rb, xb;
    uint8_t *w, *w8, *xq;
    hy_tensor t, t8;
    double *row_scale; /* sum |w| of each row's dequantized weights (activations are within [-1, 1]) */
} x8_problem;

static x8_problem make(uint32_t type, int64_t n, int64_t rows, int64_t n_tokens) {
    x8_problem p = { type, hy_wtype_of(type), n, rows, n_tokens, hy_type_row_bytes(type, (uint64_t)n),
                     hy_activation_row_bytes(type, n) + 8, NULL, NULL, NULL, { 0 }, { 0 }, NULL };
    p.row_scale = malloc(sizeof(double) * (size_t)rows);
    p.w = malloc(p.rb * (size_t)rows);
    p.w8 = malloc(p.rb * (size_t)rows);
    p.xq = malloc(p.xb * (size_t)n_tokens);
    float *f = malloc(sizeof(float) * (size_t)n);
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t i = 0; i < n; i++) f[i] = rnd_float() * 0.05f;
        hy_quantize_row(type, f, p.w + (size_t)r * p.rb, n);
        hy_dequantize_row(type, p.w + (size_t)r * p.rb, f, n);
        p.row_scale[r] = 0;
        for (int64_t i = 0; i < n; i++) p.row_scale[r] += fabs(f[i]);
    }
    for (int64_t t = 0; t < n_tokens; t++) {
        for (int64_t i = 0; i < n; i++) f[i] = rnd_float();
        HY_CHECK_INT(hy_quantize_activations(type, f, p.xq + (size_t)t * p.xb, n), HYPERION_OK);
    }
    free(f);
    p.t = (hy_tensor){ "blk.0.ffn_up.weight", type, 2, { (uint64_t)n, (uint64_t)rows, 1, 1 }, p.rb,
                       p.rb * (size_t)rows, p.w, 0, HY_LAYOUT_GGUF };
    HY_CHECK_INT(hy_repack_rows(&p.t, HY_LAYOUT_X8, p.w8, 0, (uint64_t)rows), 0);
    p.t8 = p.t;
    p.t8.data = p.w8;
    p.t8.layout = HY_LAYOUT_X8;
    return p;
}

static void release(x8_problem *p) {
    free(p->row_scale);
    free(p->w);
    free(p->w8);
    free(p->xq);
}

HY_TEST(repack_x8_round_trips) {
    static const int64_t counts[] = { 1, 7, 8, 9, 16, 27, 515 };
    static const int sizes[] = { 18, 34 };
    for (int si = 0; si < 2; si++)
        for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
            const int bs = sizes[si];
            const int64_t nb = counts[i];
            const size_t bytes = (size_t)nb * (size_t)bs, q = (size_t)bs - 2;
            uint8_t *a = malloc(bytes), *b = malloc(bytes), *c = malloc(bytes);
            for (size_t k = 0; k < bytes; k++) a[k] = (uint8_t)rnd();
            hy_x8_pack_blocks(a, b, nb, bs);
            hy_x8_unpack_blocks(b, c, nb, bs);
            HY_CHECK(memcmp(a, c, bytes) == 0);
            /* the tail of nb % 8 blocks stays as it was; whole groups move */
            const size_t grouped = (size_t)(nb / 8) * 8 * (size_t)bs;
            HY_CHECK(memcmp(a + grouped, b + grouped, bytes - grouped) == 0);
            if (nb >= 8) {
                HY_CHECK(memcmp(b, a, 2) == 0);                /* block 0's scale first */
                HY_CHECK(memcmp(b + 2, a + bs, 2) == 0);       /* then block 1's */
                HY_CHECK(memcmp(b + 16, a + 2, q) == 0);       /* block 0's quants after the eight scales */
                HY_CHECK(memcmp(b + 16 + 7 * q, a + 7 * bs + 2, q) == 0);
            }
            free(a);
            free(b);
            free(c);
        }
}

HY_TEST(repack_rows_copies_rows_as_they_are) {
    x8_problem p = make(HY_TYPE_Q8_0, 96, 5, 1);
    uint8_t *dst = calloc(5, p.rb);
    HY_CHECK_INT(hy_repack_rows(&p.t, HY_LAYOUT_GGUF, dst, 1, 4), 0);
    HY_CHECK(memcmp(dst + p.rb, p.w + p.rb, p.rb * 3) == 0);
    for (size_t i = 0; i < p.rb; i++) HY_CHECK_INT(dst[i] | dst[4 * p.rb + i], 0); /* rows 0 and 4 untouched */
    hy_tensor q4k = p.t; /* any type: the layout of the file is every type's */
    q4k.type = HY_TYPE_Q4_K;
    HY_CHECK_INT(hy_repack_rows(&q4k, HY_LAYOUT_GGUF, dst, 0, 5), 0);
    HY_CHECK(memcmp(dst, p.w, p.rb * 5) == 0);
    HY_CHECK_INT(hy_repack_rows(&p.t8, HY_LAYOUT_GGUF, dst, 0, 5), -1); /* the source must be in the file's layout */
    free(dst);
    release(&p);
}

HY_TEST(repack_rows_refuses_what_it_cannot_do) {
    x8_problem p = make(HY_TYPE_Q4_0, 64, 3, 1);
    uint8_t *dst = malloc(p.rb * 3);
    hy_tensor q4k = p.t;
    q4k.type = HY_TYPE_Q4_K;
    q4k.ne[0] = 256;
    q4k.row_bytes = hy_type_row_bytes(HY_TYPE_Q4_K, 256);
    HY_CHECK_INT(hy_repack_rows(&q4k, HY_LAYOUT_X8, dst, 0, 3), -1);   /* no x8 layout for K-quants */
    HY_CHECK_INT(hy_repack_rows(&p.t8, HY_LAYOUT_X8, dst, 0, 3), -1); /* already repacked */
    HY_CHECK_INT(hy_repack_rows(&p.t, HY_LAYOUT_X8, dst, 3, 2), -1);   /* an empty range backwards */
    HY_CHECK_INT(hy_repack_rows(&p.t, HY_LAYOUT_X8, dst, 0, 4), -1);   /* past the last row */
    HY_CHECK_INT(hy_repack_rows(&p.t, HY_LAYOUT_X8, dst, 1, 3), 0);
    HY_CHECK(memcmp(dst + p.rb, p.w8 + p.rb, p.rb * 2) == 0);
    /* a layout the type does not have is refused by the kernels' check */
    hy_tensor bad = q4k;
    bad.layout = HY_LAYOUT_X8;
    HY_CHECK_INT(hy_matmul_supported(&bad), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_INT(hy_matmul_supported(&p.t8), HYPERION_OK);
    free(dst);
    release(&p);
}

#define SENTINEL -12345.0f

typedef struct { const char *name; const hy_matmul_kernels *k; } x8_table;

/* The tables with native kernels for the x8 layout (AVX-512 with and without VNNI). */
static int x8_tables(x8_table *out) {
    int n = 0;
    const void *t;
    if ((t = hy_kernel_table_avx512_novnni(HY_KGROUP_MATMUL))) out[n++] = (x8_table){ "avx512", t };
    if ((t = hy_kernel_table_for(HY_KGROUP_MATMUL, HYPERION_ISA_AVX512)) && (n == 0 || t != out[n - 1].k))
        out[n++] = (x8_table){ "avx512-vnni", t };
    for (int i = 0; i < n; i++)
        HY_CHECK(out[i].k->matvec_x8[HY_W_Q4_0] && out[i].k->matmul_x8[HY_W_Q4_0] && out[i].k->matvec_x8[HY_W_Q8_0] &&
                 out[i].k->matmul_x8[HY_W_Q8_0]);
    if (n == 0) printf("    (no AVX-512 on this CPU: only the GGUF-order fallback is checked)\n");
    return n;
}


/* Whether x8 results must equal the GGUF layout's bit for bit: Q4_0 always
 * (the x8 rows make the same sums in the same order), Q8_0 through the tiles
 * (the same tile, unpacked from either layout). The Q8_0 x8 row kernel adds
 * two blocks per 512-bit vector where the GGUF one adds one per 256-bit
 * vector: the same integer block sums, float terms added in another order,
 * so within the reordering tolerance of test_kernels_matmul.c (terms / 8 + 8
 * epsilons of sum |w x|). */
static int exact(const x8_problem *p, int tiles) { return p->type == HY_TYPE_Q4_0 || tiles; }

static double tolerance(const x8_problem *p, int64_t r) {
    return ((double)p->n / 32 / 8.0 + 8.0) * 1.2e-7 * p->row_scale[r] + 1e-30;
}

static int close_enough(const x8_problem *p, int tiles, const float *a, const float *b, int64_t count, int64_t ys) {
    if (exact(p, tiles)) return memcmp(a, b, sizeof(float) * (size_t)count) == 0;
    for (int64_t i = 0; i < count; i++) {
        if (a[i] == SENTINEL || b[i] == SENTINEL) {
            if (a[i] != b[i]) return 0;
        } else if (!(fabs(a[i] - b[i]) <= tolerance(p, i % ys))) {
            return 0;
        }
    }
    return 1;
}

/* The x8 kernels of a table against the same table's kernels on the GGUF
 * rows (see exact()), rows [2, rows) of y with pitch rows + 1. */
static void check_native(const x8_table *t, uint32_t type, int64_t n, int64_t rows, int64_t n_tok) {
    x8_problem p = make(type, n, rows, n_tok);
    const int64_t ys = rows + 1, r0 = 2;
    float *ref = malloc(sizeof(float) * (size_t)(ys * n_tok)), *got = malloc(sizeof(float) * (size_t)(ys * n_tok));
    for (int with_scratch = 0; with_scratch < 2; with_scratch++) {
        const size_t sb = with_scratch ? t->k->matmul_scratch(p.wt, n, n_tok) : 0;
        void *scratch = sb ? aligned_alloc(64, (sb + 63) / 64 * 64) : NULL;
        for (int64_t i = 0; i < ys * n_tok; i++) ref[i] = got[i] = SENTINEL;
        if (n_tok == 1) {
            t->k->matvec[p.wt](p.w, p.rb, n, p.xq, ref, r0, rows);
            t->k->matvec_x8[p.wt](p.w8, p.rb, n, p.xq, got, r0, rows);
        } else {
            t->k->matmul[p.wt](p.w, p.rb, n, p.xq, p.xb, n_tok, ref, ys, r0, rows, scratch);
            t->k->matmul_x8[p.wt](p.w8, p.rb, n, p.xq, p.xb, n_tok, got, ys, r0, rows, scratch);
        }
        free(scratch);
        if (!close_enough(&p, with_scratch && n_tok >= 4, got, ref, ys * n_tok, ys))
            hy_test_fail(__FILE__, __LINE__, "%s x8 %s %s n=%lld rows=%lld tokens=%lld differs from the GGUF layout", t->name,
                         hy_type_get(type)->name, n_tok == 1 ? "matvec" : with_scratch ? "matmul (tiles)" : "matmul (rows)", (long long)n,
                         (long long)rows, (long long)n_tok);
        if (n_tok == 1) break;
    }
    free(ref);
    free(got);
    release(&p);
}

HY_TEST(repack_x8_kernels_match_gguf_layout_on_odd_sizes) {
    x8_table t[2];
    const int nt = x8_tables(t);
    static const int64_t blocks[] = { 1, 7, 9, 27, 64, 515 };   /* 515: two activation chunks, a short tail */
    static const int64_t rows[] = { 3, 19, 37 };
    static const int64_t tokens[] = { 1, 2, 7, 33 };
    static const uint32_t types[] = { HY_TYPE_Q4_0, HY_TYPE_Q8_0 };
    for (int i = 0; i < nt; i++)
        for (size_t ty = 0; ty < 2; ty++)
            for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++)
                for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++)
                    for (size_t k = 0; k < sizeof tokens / sizeof tokens[0]; k++)
                        check_native(&t[i], types[ty], 32 * blocks[b], rows[r], tokens[k]);
}

/* hy_matvec / hy_matmul take the layout from the tensor. With the AVX-512
 * kernels: the GGUF tensor's numbers as check_native holds them. Elsewhere
 * (the other SIMD tables, and the scalar reference when forced) the fallback
 * reads the x8 rows: exactly the GGUF numbers for rows of one piece (<= 256
 * blocks), within float reordering for longer rows, whose pieces are summed. */
HY_TEST(repack_entry_points_read_the_layout) {
    static const int64_t blocks[] = { 27, 300 };
    hyperion_isa mm_isa;
    HY_CHECK_INT(hyperionGetKernelIsa("matmul", &mm_isa), HYPERION_OK);
    const int native = mm_isa == HYPERION_ISA_AVX512;
    for (size_t ci = 0; ci < 4; ci++) {
        const size_t bi = ci % 2;
        const uint32_t type = ci < 2 ? HY_TYPE_Q4_0 : HY_TYPE_Q8_0;
        const int64_t n = 32 * blocks[bi], rows = 21, nt = 6;
        x8_problem p = make(type, n, rows, nt);
        float a[6 * 21], b[6 * 21];
        hy_matvec(&p.t, p.xq, a, 0, rows);
        hy_matvec(&p.t8, p.xq, b, 0, rows);
        if (native || blocks[bi] <= 256) HY_CHECK(close_enough(&p, !native, b, a, rows, rows));
        else for (int r = 0; r < rows; r++) HY_CHECK_NEAR(b[r], a[r], 2 * tolerance(&p, r));
        hy_matmul(&p.t, p.xq, p.xb, a, nt, 5, 19);
        hy_matmul(&p.t8, p.xq, p.xb, b, nt, 5, 19);
        /* 6 tokens: the tiles on AVX-512 (exact); elsewhere the fallback's
         * pieces, exact for rows of one piece */
        const int tiles_or_one_piece = native || blocks[bi] <= 256;
        for (int t = 0; t < nt; t++)
            for (int r = 5; r < 19; r++)
                if (tiles_or_one_piece) HY_CHECK(a[t * rows + r] == b[t * rows + r]);
                else HY_CHECK_NEAR(b[t * rows + r], a[t * rows + r], 2 * tolerance(&p, r));
        HY_CHECK_INT(hyperionEnableSIMD("matmul", 0), HYPERION_OK);
        HY_CHECK_INT(hy_repack_preferred_layout(&p.t), HY_LAYOUT_GGUF);
        hy_matvec(&p.t8, p.xq, b, 0, rows);
        hy_matmul_kernels_scalar.matvec[p.wt](p.w, p.rb, n, p.xq, a, 0, rows);
        for (int r = 0; r < rows; r++) {
            if (blocks[bi] <= 256) HY_CHECK(a[r] == b[r]);
            else HY_CHECK_NEAR(b[r], a[r], 1e-5 * (fabs(a[r]) + 1.0));
        }
        hy_matmul(&p.t8, p.xq, p.xb, b, nt, 5, 19);
        hy_matmul_kernels_scalar.matmul[p.wt](p.w, p.rb, n, p.xq, p.xb, nt, a, rows, 5, 19, NULL);
        for (int t = 0; t < nt; t++)
            for (int r = 5; r < 19; r++) {
                if (blocks[bi] <= 256) HY_CHECK(a[t * rows + r] == b[t * rows + r]);
                else HY_CHECK_NEAR(b[t * rows + r], a[t * rows + r], 1e-5 * (fabs(a[t * rows + r]) + 1.0));
            }
        HY_CHECK_INT(hyperionEnableSIMD("matmul", 1), HYPERION_OK);
        /* a repacked tensor is never repacked again; other types stay in the file's layout */
        HY_CHECK_INT(hy_repack_preferred_layout(&p.t8), HY_LAYOUT_GGUF);
        hyperion_isa isa;
        HY_CHECK_INT(hyperionGetKernelIsa("matmul", &isa), HYPERION_OK);
        HY_CHECK_INT(hy_repack_preferred_layout(&p.t), isa == HYPERION_ISA_AVX512 ? HY_LAYOUT_X8 : HY_LAYOUT_GGUF);
        HY_CHECK_INT(hy_layout_fits_type(HY_LAYOUT_X8, HY_TYPE_Q6_K), 0);
        release(&p);
    }
}

/* ---- decode with the activation's data made once (hy_matvec_prepare) ---- */

/* Every table with prepared entries: the prepared product over a row range
 * cut into pieces gives the table's matvec numbers bit for bit (the same
 * side data, the same sums), in both layouts, on odd sizes. */
HY_TEST(matvec_prepped_matches_matvec_on_odd_sizes) {
    const void *tables[6];
    int nt = 0;
    const void *t;
    static const hyperion_isa isas[] = { HYPERION_ISA_SCALAR, HYPERION_ISA_AVX2, HYPERION_ISA_AVX512, HYPERION_ISA_NEON };
    for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++)
        if ((t = hy_kernel_table_for(HY_KGROUP_MATMUL, isas[i]))) tables[nt++] = t;
    if ((t = hy_kernel_table_avx512_novnni(HY_KGROUP_MATMUL))) tables[nt++] = t;
    static const int64_t blocks[] = { 1, 7, 9, 27, 64, 515, 600 };   /* 515, 600: two side-data chunks */
    static const uint32_t types[] = { HY_TYPE_Q4_0, HY_TYPE_Q8_0 };
    int checked = 0;
    for (int ti = 0; ti < nt; ti++) {
        const hy_matmul_kernels *k = tables[ti];
        for (size_t ty = 0; ty < 2; ty++)
            for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++)
                for (int x8 = 0; x8 < 2; x8++) {
                    const int wt = hy_wtype_of(types[ty]);
                    hy_matvec_prepare_fn make_prep = x8 ? k->matvec_x8_prepare[wt] : k->matvec_prepare[wt];
                    hy_matvec_prepped_fn run = x8 ? k->matvec_x8_prepped[wt] : k->matvec_prepped[wt];
                    hy_matvec_fn plain = x8 ? k->matvec_x8[wt] : k->matvec[wt];
                    HY_CHECK(!make_prep == !run); /* both or neither */
                    if (!make_prep) continue;
                    const int64_t n = 32 * blocks[b], rows = 37;
                    x8_problem p = make(types[ty], n, rows, 1);
                    const uint8_t *w = x8 ? p.w8 : p.w;
                    const size_t bytes = HY_MATVEC_PREP_BYTES(n);
                    uint8_t *prep = aligned_alloc(64, (bytes + 63) / 64 * 64);
                    memset(prep, 0xA5, (bytes + 63) / 64 * 64);
                    make_prep(n, p.xq, prep);
                    float ref[37], got[37];
                    for (int r = 0; r < rows; r++) ref[r] = got[r] = SENTINEL;
                    plain(w, p.rb, n, p.xq, ref, 2, rows);
                    for (int64_t r0 = 2; r0 < rows; r0 += 5) run(w, p.rb, n, p.xq, prep, got, r0, r0 + 5 < rows ? r0 + 5 : rows);
                    if (memcmp(ref, got, sizeof ref) != 0)
                        hy_test_fail(__FILE__, __LINE__, "table %d %s%s n=%lld: prepared product differs from matvec", ti,
                                     hy_type_get(types[ty])->name, x8 ? " x8" : "", (long long)n);
                    checked++;
                    free(prep);
                    release(&p);
                }
    }
    if (checked == 0) printf("    (no table here has prepared entries)\n");
}

/* The entry points: data made once serves every range; it is used only for
 * the weights' type, layout and row length, the activation and the kernels
 * it was made for, and hy_matvec_prepped is hy_matvec otherwise. */
HY_TEST(matvec_prepare_entry_points_fall_back_when_the_data_does_not_fit) {
    const int64_t n = 32 * 27, rows = 19;
    x8_problem p = make(HY_TYPE_Q4_0, n, rows, 2);
    hy_matvec_prep prep = { 0 };
    prep.capacity = hy_matvec_prep_bytes(n);
    prep.data = aligned_alloc(64, (prep.capacity + 63) / 64 * 64);
    float ref[19], got[19];
    for (int layout = 0; layout < 2; layout++) {
        const hy_tensor *w = layout ? &p.t8 : &p.t;
        hy_matvec(w, p.xq, ref, 0, rows);
        const int made = hy_matvec_prepare(&prep, w, p.xq);
        hyperion_isa isa;
        HY_CHECK_INT(hyperionGetKernelIsa("matmul", &isa), HYPERION_OK);
        /* x86 tables make data for Q4_0 in the layouts they read natively */
        if (isa == HYPERION_ISA_AVX512 || (isa == HYPERION_ISA_AVX2 && !layout)) HY_CHECK_INT(made, 1);
        HY_CHECK_INT(hy_matvec_prep_fits(&prep, w, p.xq), made);
        for (int64_t r0 = 0; r0 < rows; r0 += 4) hy_matvec_prepped(w, p.xq, &prep, got, r0, r0 + 4 < rows ? r0 + 4 : rows);
        HY_CHECK(memcmp(ref, got, sizeof ref) == 0);
        /* another activation (the second token's row), or the other layout: not used */
        const uint8_t *x2 = p.xq + p.xb;
        HY_CHECK_INT(hy_matvec_prep_fits(&prep, w, x2), 0);
        hy_matvec(w, x2, ref, 0, rows);
        hy_matvec_prepped(w, x2, &prep, got, 0, rows);
        HY_CHECK(memcmp(ref, got, sizeof ref) == 0);
        HY_CHECK_INT(hy_matvec_prep_fits(&prep, layout ? &p.t : &p.t8, p.xq), 0);
        /* the scalar kernels forced after the data was made: hy_matvec's numbers */
        HY_CHECK_INT(hyperionEnableSIMD("matmul", 0), HYPERION_OK);
        HY_CHECK_INT(hy_matvec_prep_fits(&prep, w, p.xq), 0);
        hy_matvec(w, p.xq, ref, 0, rows);
        hy_matvec_prepped(w, p.xq, &prep, got, 0, rows);
        HY_CHECK(memcmp(ref, got, sizeof ref) == 0);
        HY_CHECK_INT(hy_matvec_prepare(&prep, w, p.xq), 0); /* the reference makes none */
        HY_CHECK_INT(hyperionEnableSIMD("matmul", 1), HYPERION_OK);
        hy_matvec_prep_clear(&prep);
        HY_CHECK_INT(hy_matvec_prep_fits(&prep, w, p.xq), 0);
    }
    /* a buffer too small, no buffer, no prep, a bad range: nothing made, nothing read */
    hy_matvec_prep small = prep;
    small.capacity = hy_matvec_prep_bytes(n) - 1;
    HY_CHECK_INT(hy_matvec_prepare(&small, &p.t, p.xq), 0);
    HY_CHECK_INT(hy_matvec_prep_fits(&small, &p.t, p.xq), 0);
    hy_matvec_prep none = { 0 };
    none.capacity = prep.capacity;
    HY_CHECK_INT(hy_matvec_prepare(&none, &p.t, p.xq), 0);
    HY_CHECK_INT(hy_matvec_prepare(NULL, &p.t, p.xq), 0);
    HY_CHECK_INT(hy_matvec_prep_bytes(0), 0);
    for (int r = 0; r < rows; r++) got[r] = SENTINEL;
    hy_matvec_prepped(&p.t, p.xq, NULL, got, 5, 5);
    hy_matvec_prepped(&p.t, p.xq, &prep, got, 0, rows + 1);
    for (int r = 0; r < rows; r++) HY_CHECK(got[r] == SENTINEL);
    free(prep.data);
    release(&p);
}
