/* test_kernels_matmul.c — the "matmul" group: matrix-vector and matrix-matrix
 * products of every weight type, every SIMD version against the scalar
 * reference on odd row counts (not multiples of any tile), odd row ranges and
 * token counts 1, 2, 7, 33; rows outside the range stay untouched; the entry
 * points honour hyperionEnableSIMD("matmul", 0). */
#include "harness.h"
#include "kernels/kernels.h"
#include "kernels/matmul.h"
#include "kernels/quant.h"
#include "kernels/types.h"

#include <stdint.h>
#include <stdlib.h>

static uint32_t rng_state = 4242u;
static float rnd_float(void) { return hy_test_rand_float(&rng_state); }

typedef struct { const char *name; const hy_matmul_kernels *k; } mtable;
static int matmul_tables(mtable *out) {
    int n = 0;
    const void *t;
    if ((t = hy_kernel_table_for(HY_KGROUP_MATMUL, HYPERION_ISA_AVX2))) out[n++] = (mtable){ "avx2", t };
    if ((t = hy_kernel_table_avx512_novnni(HY_KGROUP_MATMUL))) out[n++] = (mtable){ "avx512", t };
    if ((t = hy_kernel_table_for(HY_KGROUP_MATMUL, HYPERION_ISA_AVX512)) && (n == 0 || t != out[n - 1].k))
        out[n++] = (mtable){ "avx512-vnni", t };
    if ((t = hy_kernel_table_neon_nodotprod(HY_KGROUP_MATMUL))) out[n++] = (mtable){ "neon", t };
    if ((t = hy_kernel_table_for(HY_KGROUP_MATMUL, HYPERION_ISA_NEON)) && (n == 0 || t != out[n - 1].k))
        out[n++] = (mtable){ "neon-dotprod", t };
    if (n == 0) printf("    (no SIMD version on this CPU: nothing to compare)\n");
    return n;
}

static const uint32_t weight_types[] = { HY_TYPE_F32, HY_TYPE_F16, HY_TYPE_BF16, HY_TYPE_Q4_0,
                                         HY_TYPE_Q8_0, HY_TYPE_Q4_K, HY_TYPE_Q5_K, HY_TYPE_Q6_K };

/* A [rows, n] weight matrix of type and n_tokens quantized activation rows.
 * *row_scale[r] gets sum_i |w_ri| * max_t |x_ti| (for tolerances). */
typedef struct {
    uint32_t type;
    int64_t n, rows, n_tokens;
    size_t row_bytes, x_bytes;
    uint8_t *w, *xq;
    double *row_scale;
} problem;

static problem make_problem(uint32_t type, int64_t n, int64_t rows, int64_t n_tokens) {
    problem p = { type, n, rows, n_tokens, hy_type_row_bytes(type, (uint64_t)n), hy_activation_row_bytes(type, n), NULL, NULL, NULL };
    p.x_bytes += 8; /* a row pitch larger than the row: xq_row_bytes is honoured */
    p.w = malloc(p.row_bytes * (size_t)rows);
    p.xq = malloc(p.x_bytes * (size_t)n_tokens);
    p.row_scale = malloc(sizeof(double) * (size_t)rows);
    float *f = malloc(sizeof(float) * (size_t)n);
    double xmax = 0;
    for (int64_t t = 0; t < n_tokens; t++) {
        for (int64_t i = 0; i < n; i++) {
            f[i] = rnd_float() * 2.0f;
            xmax = fmax(xmax, fabs(f[i]));
        }
        HY_CHECK_INT(hy_quantize_activations(type, f, p.xq + (size_t)t * p.x_bytes, n), HYPERION_OK);
    }
    for (int64_t r = 0; r < rows; r++) {
        const float mag = 0.02f * (float)(1 + r % 5);
        for (int64_t i = 0; i < n; i++) f[i] = rnd_float() * mag;
        hy_quantize_row(type, f, p.w + (size_t)r * p.row_bytes, n);
        hy_dequantize_row(type, p.w + (size_t)r * p.row_bytes, f, n);
        double s = 0;
        for (int64_t i = 0; i < n; i++) s += fabs(f[i]);
        p.row_scale[r] = s * xmax;
    }
    free(f);
    return p;
}

static void free_problem(problem *p) {
    free(p->w);
    free(p->xq);
    free(p->row_scale);
}

/* Tolerance for one output: the per-block float terms are rounded and summed
 * in another order than the reference (see test_kernels_dot.c):
 * (blocks per lane + reduction depth) epsilons of sum |w x|, bounded above
 * by row_scale (sum |w| * max |x|). */
static double tolerance(const problem *p, int64_t r) {
    const hy_type_info *info = hy_type_get(p->type);
    const double terms = info->block_size > 1 ? (double)p->n / info->block_size : p->n / 4.0;
    return (terms / 8.0 + 8.0) * 1.2e-7 * p->row_scale[r] + 1e-30;
}

#define SENTINEL -12345.0f

HY_TEST(matvec_simd_matches_scalar_on_odd_row_counts) {
    mtable t[4];
    const int nt = matmul_tables(t);
    static const int64_t row_counts[] = { 1, 3, 5, 7, 13, 33, 37 };
    for (size_t ti = 0; ti < sizeof weight_types / sizeof weight_types[0]; ti++) {
        const uint32_t type = weight_types[ti];
        const int wt = hy_wtype_of(type);
        const hy_type_info *info = hy_type_get(type);
        const int64_t n = info->block_size == 256 ? 3 * 256 : (info->block_size == 32 ? 9 * 32 : 101);
        for (size_t rc = 0; rc < sizeof row_counts / sizeof row_counts[0]; rc++) {
            const int64_t rows = row_counts[rc] + 2;
            problem p = make_problem(type, n, rows, 1);
            float *ref = malloc(sizeof(float) * (size_t)rows), *got = malloc(sizeof(float) * (size_t)rows);
            const int64_t r0 = 2, r1 = rows; /* a range that does not start at 0 */
            for (int64_t r = 0; r < rows; r++) ref[r] = SENTINEL;
            hy_matmul_kernels_scalar.matvec[wt](p.w, p.row_bytes, n, p.xq, ref, r0, r1);
            for (int i = 0; i < nt; i++) {
                for (int64_t r = 0; r < rows; r++) got[r] = SENTINEL;
                t[i].k->matvec[wt](p.w, p.row_bytes, n, p.xq, got, r0, r1);
                for (int64_t r = 0; r < rows; r++) {
                    const double tol = r < r0 ? 0.0 : tolerance(&p, r);
                    if (!(fabs(got[r] - ref[r]) <= tol))
                        hy_test_fail(__FILE__, __LINE__, "%s matvec %s rows=%lld r=%lld: %.9g vs %.9g", t[i].name,
                                     info->name, (long long)rows, (long long)r, got[r], ref[r]);
                }
            }
            free(ref);
            free(got);
            free_problem(&p);
        }
    }
}

/* Q4_0 / Q8_0 rows long enough for several 8-block steps and a tail (27
 * blocks), and for more than one chunk of activation side data (the x86
 * matvec handles 512 blocks per chunk: 515 blocks = two chunks, the second
 * shorter than one step). */
HY_TEST(matvec_q0_long_rows_match_scalar) {
    mtable t[3];
    const int nt = matmul_tables(t);
    static const uint32_t types[] = { HY_TYPE_Q4_0, HY_TYPE_Q8_0 };
    static const int64_t blocks[] = { 27, 515 };
    for (size_t ti = 0; ti < 2; ti++)
        for (size_t bi = 0; bi < 2; bi++) {
            const uint32_t type = types[ti];
            const int wt = hy_wtype_of(type);
            const int64_t n = 32 * blocks[bi], rows = 6;
            problem p = make_problem(type, n, rows, 1);
            float ref[6], got[6];
            hy_matmul_kernels_scalar.matvec[wt](p.w, p.row_bytes, n, p.xq, ref, 1, rows);
            for (int i = 0; i < nt; i++) {
                t[i].k->matvec[wt](p.w, p.row_bytes, n, p.xq, got, 1, rows);
                for (int64_t r = 1; r < rows; r++)
                    if (!(fabs(got[r] - ref[r]) <= tolerance(&p, r)))
                        hy_test_fail(__FILE__, __LINE__, "%s matvec %s n=%lld r=%lld: %.9g vs %.9g", t[i].name,
                                     hy_type_get(type)->name, (long long)n, (long long)r, got[r], ref[r]);
            }
            free_problem(&p);
        }
}

/* Every SIMD matmul (with scratch: register tiles; without: by rows) against
 * the reference for one shape; rows [3, rows) of a y with row pitch rows + 1. */
static void check_matmul(const mtable *t, int nt, uint32_t type, int64_t n, int64_t rows, int64_t n_tok) {
    const int wt = hy_wtype_of(type);
    const hy_type_info *info = hy_type_get(type);
    problem p = make_problem(type, n, rows, n_tok);
    const int64_t r0 = 3, r1 = rows, ys = rows + 1;
    float *ref = malloc(sizeof(float) * (size_t)(ys * n_tok)), *got = malloc(sizeof(float) * (size_t)(ys * n_tok));
    for (int64_t i = 0; i < ys * n_tok; i++) ref[i] = SENTINEL;
    hy_matmul_kernels_scalar.matmul[wt](p.w, p.row_bytes, n, p.xq, p.x_bytes, n_tok, ref, ys, r0, r1, NULL);
    for (int i = 0; i < nt * 2; i++) {
        const hy_matmul_kernels *k = t[i / 2].k;
        const size_t sbytes = i % 2 == 0 ? k->matmul_scratch(wt, n, n_tok) : 0;
        void *scratch = sbytes ? aligned_alloc(64, (sbytes + 63) / 64 * 64) : NULL;
        for (int64_t j = 0; j < ys * n_tok; j++) got[j] = SENTINEL;
        k->matmul[wt](p.w, p.row_bytes, n, p.xq, p.x_bytes, n_tok, got, ys, r0, r1, scratch);
        free(scratch);
        int bad = 0;
        for (int64_t tk = 0; tk < n_tok; tk++)
            for (int64_t r = 0; r < ys; r++) {
                const int64_t idx = tk * ys + r;
                const double tol = (r < r0 || r >= r1) ? 0.0 : tolerance(&p, r);
                if (!(fabs(got[idx] - ref[idx]) <= tol) && bad++ < 3)
                    hy_test_fail(__FILE__, __LINE__, "%s%s matmul %s n=%lld rows=%lld tokens=%lld (t=%lld r=%lld): %.9g vs %.9g",
                                 t[i / 2].name, i % 2 ? " (no scratch)" : "", info->name, (long long)n, (long long)rows,
                                 (long long)n_tok, (long long)tk, (long long)r, got[idx], ref[idx]);
            }
    }
    free(ref);
    free(got);
    free_problem(&p);
}

HY_TEST(matmul_simd_matches_scalar_on_odd_tiles) {
    mtable t[4];
    const int nt = matmul_tables(t);
    static const int64_t token_counts[] = { 1, 2, 4, 7, 9, 33 };
    static const int64_t row_counts[] = { 5, 19, 37 };
    for (size_t ti = 0; ti < sizeof weight_types / sizeof weight_types[0]; ti++) {
        const hy_type_info *info = hy_type_get(weight_types[ti]);
        const int64_t n = info->block_size == 256 ? 2 * 256 : (info->block_size == 32 ? 11 * 32 : 77);
        for (size_t tc = 0; tc < sizeof token_counts / sizeof token_counts[0]; tc++)
            for (size_t rc = 0; rc < sizeof row_counts / sizeof row_counts[0]; rc++)
                check_matmul(t, nt, weight_types[ti], n, row_counts[rc] + 3, token_counts[tc]);
    }
}

HY_TEST(matmul_long_rows_and_many_tokens) {
    /* rows longer than one unpacked chunk (2048 elements), and more tokens
     * than one batch of per-token data (256) */
    mtable t[4];
    const int nt = matmul_tables(t);
    check_matmul(t, nt, HY_TYPE_Q4_0, 36 * 256, 21, 5);
    check_matmul(t, nt, HY_TYPE_Q6_K, 36 * 256, 21, 3 + 4);
    check_matmul(t, nt, HY_TYPE_Q5_K, 33 * 256, 17, 9);
    check_matmul(t, nt, HY_TYPE_Q8_0, 64, 19, 300);
    check_matmul(t, nt, HY_TYPE_Q4_K, 256, 19, 261);
    check_matmul(t, nt, HY_TYPE_F16, 2500, 37, 7);   /* float rows longer than one chunk (1024) */
    check_matmul(t, nt, HY_TYPE_BF16, 1031, 35, 13);
    check_matmul(t, nt, HY_TYPE_F32, 1027, 3, 6);
}

HY_TEST(matvec_entry_points_and_simd_switch) {
    const int64_t n = 512, rows = 21;
    problem p = make_problem(HY_TYPE_Q4_K, n, rows, 6);
    hy_tensor w = { "blk.0.ffn_up.weight", HY_TYPE_Q4_K, 2, { (uint64_t)n, (uint64_t)rows, 1, 1 }, p.row_bytes,
                    p.row_bytes * rows, p.w, 0, HY_LAYOUT_GGUF };
    HY_CHECK_INT(hy_matmul_supported(&w), HYPERION_OK);
    float ref[6 * 21], got[6 * 21];
    /* the forced scalar path gives exactly the reference */
    HY_CHECK_INT(hyperionEnableSIMD("matmul", 0), HYPERION_OK);
    for (int i = 0; i < 6 * 21; i++) got[i] = SENTINEL;
    hy_matvec(&w, p.xq, got, 0, rows);
    hy_matmul_kernels_scalar.matvec[HY_W_Q4_K](p.w, p.row_bytes, n, p.xq, ref, 0, rows);
    HY_CHECK(memcmp(got, ref, sizeof(float) * rows) == 0);
    hy_matmul(&w, p.xq, p.x_bytes, got, 3, 4, 9);
    hy_matmul_kernels_scalar.matmul[HY_W_Q4_K](p.w, p.row_bytes, n, p.xq, p.x_bytes, 3, ref, rows, 4, 9, NULL);
    for (int t = 0; t < 3; t++) HY_CHECK(memcmp(got + t * rows + 4, ref + t * rows + 4, 5 * sizeof(float)) == 0);
    HY_CHECK_INT(hyperionEnableSIMD("matmul", 1), HYPERION_OK);
    /* caller-provided scratch: the same numbers as hy_matmul; too little or
     * misaligned scratch still gives them (slower path). The x86 tiles use
     * scratch; kernels that use none (scalar, NEON) have nothing to check. */
    hyperion_isa isa;
    HY_CHECK_INT(hyperionGetKernelIsa("matmul", &isa), HYPERION_OK);
    const size_t sb = hy_matmul_scratch_bytes(&w, 6);
    HY_CHECK_INT(hy_matmul_scratch_bytes(&w, 1), 0);
    if (isa == HYPERION_ISA_AVX2 || isa == HYPERION_ISA_AVX512) HY_CHECK(sb > 0);
    if (sb == 0) printf("    (%s matmul kernels use no scratch: scratch checks skipped)\n", hyperionIsaName(isa));
    if (sb > 0) {
        float a[6 * 21], b[6 * 21];
        uint8_t *buf = aligned_alloc(64, (sb + 128) / 64 * 64);
        hy_matmul(&w, p.xq, p.x_bytes, a, 6, 0, rows);
        hy_matmul_with_scratch(&w, p.xq, p.x_bytes, b, 6, 0, rows, buf, sb);
        HY_CHECK(memcmp(a, b, sizeof(float) * 6 * rows) == 0);
        hy_matmul_with_scratch(&w, p.xq, p.x_bytes, b, 6, 0, rows, buf + 1, sb); /* misaligned: no scratch */
        for (int i = 0; i < 6 * rows; i++) HY_CHECK_NEAR(b[i], a[i], 2 * tolerance(&p, i % rows));
        hy_matmul_with_scratch(&w, p.xq, p.x_bytes, b, 6, 0, rows, buf, sb - 1);
        for (int i = 0; i < 6 * rows; i++) HY_CHECK_NEAR(b[i], a[i], 2 * tolerance(&p, i % rows));
        free(buf);
    }
    /* with SIMD: close to the reference */
    hy_matvec(&w, p.xq, got, 0, rows);
    hy_matmul_kernels_scalar.matvec[HY_W_Q4_K](p.w, p.row_bytes, n, p.xq, ref, 0, rows);
    for (int r = 0; r < rows; r++) HY_CHECK_NEAR(got[r], ref[r], tolerance(&p, r));
    /* bad ranges and tensors write nothing */
    for (int i = 0; i < 6 * 21; i++) got[i] = SENTINEL;
    hy_matvec(&w, p.xq, got, 5, 5);
    hy_matvec(&w, p.xq, got, -1, 3);
    hy_matvec(&w, p.xq, got, 0, rows + 1);
    hy_matmul(&w, p.xq, p.x_bytes, got, 0, 0, rows);
    hy_matmul(&w, p.xq, 10, got, 2, 0, rows); /* row pitch below the row size */
    for (int i = 0; i < 6 * 21; i++) HY_CHECK(got[i] == SENTINEL);
    hy_tensor bad = w;
    bad.type = HY_TYPE_Q2_K;
    HY_CHECK_INT(hy_matmul_supported(&bad), HYPERION_MODEL_UNSUPPORTED);
    HY_CHECK_STR(hyperionGetLastError()->fields[0].text, "type");
    hy_matvec(&bad, p.xq, got, 0, rows);
    bad = w;
    bad.ne[0] = 500;
    HY_CHECK_INT(hy_matmul_supported(&bad), HYPERION_MODEL_INVALID);
    HY_CHECK_STR(hyperionGetLastError()->fields[0].text, "ne0");
    bad = w;
    bad.row_bytes += 1;
    HY_CHECK_INT(hy_matmul_supported(&bad), HYPERION_MODEL_INVALID);
    hy_matvec(&bad, p.xq, got, 0, rows);
    for (int i = 0; i < 6 * 21; i++) HY_CHECK(got[i] == SENTINEL);
    free_problem(&p);
}
