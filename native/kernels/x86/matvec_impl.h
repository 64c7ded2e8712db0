/*
 * matvec_impl.h — x86 matrix-vector products (decode) on the native GGUF
 * layouts, built on the row kernels of rows_impl.h. Included by the "matmul"
 * units; defines static matvec_* functions.
 *
 * Q4_0 / Q8_0: the activation's side data (d_x as float, offset corrections,
 * and on AVX-512 its quants in the row kernel's order) is computed once
 * per call and shared by all rows, or made once per activation by the
 * *_prepare entries and read by the *_prepped ones (hy_matvec_prepare,
 * matmul.h); rows go through the row kernel one at a time (see hy_x86_row_q0
 * for why). Weights stream once, front to back, row after row.
 *
 * More streams per thread, measured and not kept (session 9, 2 threads,
 * medians of 16-24 interleaved passes over 78-256 MB): a plain read loop
 * with 2 or 4 streams read 5-8% faster than with one (24.8 / 25.5 vs 23.6
 * GB/s); the Q4_0 x8 matvec taking its rows alternately from the two halves
 * of its range gained 5-11% on 2048-column rows (22.4 vs 20.1, 18.2 vs 17.2
 * GB/s) but nothing on 5632-column rows (17.9 vs 18.0, 17.4 vs 17.8), and
 * four quarters were slower on both. Were a multi-stream decode kept, the
 * bandwidth probe (profiler/roofline.c) would have to read that way too, or
 * the ceiling it sets would no longer be the fastest read.
 */
#include "kernels/x86/rows_impl.h"
#include "kernels/x86/matvec_k4_impl.h"

/* activation blocks per side-data chunk (stack: 8 bytes per block, and 32
 * more for the AVX-512 Q4_0 repacked activation; rows up to 16384 elements
 * are one chunk, so each row streams front to back in one go) */
#define HY_MV_SIDE 512

/* The side data of an activation made once (matvec_q0_prepare) instead of
 * per call: dx[nb], corr[nb], then from the next 64-byte boundary (AVX-512)
 * the activation quants in the row kernel's order, 32 bytes per block.
 * Fits HY_MATVEC_PREP_BYTES (kernels.h). */
HY_INLINE size_t mv_prep_quants_at(int64_t nb) { return ((size_t)nb * 8 + 63) & ~(size_t)63; }

/* The offset correction's z for KIND (see rows_impl.h) */
HY_INLINE float mv_q0_z(int KIND) { return !(KIND & 1) ? -8.0f : (HY_X86_VNNI ? -128.0f : 0.0f); }

/* KIND 0: Q4_0, 1: Q8_0, 2: Q4_0 in the x8 layout, 3: Q8_0 in the x8 layout
 * (x8: AVX-512 only). prep: the activation's side data made by
 * matvec_q0_prepare for the same KIND, or NULL to make it here, per chunk of
 * HY_MV_SIDE blocks on the stack (with the call's other setup ~240 ns for 64
 * blocks, ~650 for 176: more than a 16-row call's own rows take from the
 * cache, hence the prepared form) */
HY_INLINE void matvec_q0(int KIND, const uint8_t *w, size_t rb, int64_t n, const void *xq, const uint8_t *prep,
                         float *y, int64_t r0, int64_t r1) {
    const int Q8 = KIND & 1;
    const uint8_t *x = xq;
    const int bs = Q8 ? 34 : 18;
    const int64_t nb = n / 32;
    float dx_own[HY_MV_SIDE], corr_own[HY_MV_SIDE];
#if HY_X512_X8
    _Alignas(64) uint8_t xr_own[HY_MV_SIDE * HY_X512_Q4_0_REPACK];
#endif
    for (int64_t b0 = 0; b0 < nb; b0 += HY_MV_SIDE) {
        const int64_t cnt = nb - b0 < HY_MV_SIDE ? nb - b0 : HY_MV_SIDE;
        const float *dx = dx_own, *corr = corr_own;
        if (prep) {
            dx = (const float *)(const void *)prep + b0;
            corr = (const float *)(const void *)prep + nb + b0;
        } else {
            hy_x86_q8_0_side(x + b0 * 34, cnt, mv_q0_z(KIND), dx_own, corr_own);
        }
#if HY_X512_X8
        if (KIND != 1) { /* Q4_0 in either layout, Q8_0 in x8 */
            const uint8_t *xr = xr_own;
            if (prep) xr = prep + mv_prep_quants_at(nb) + (size_t)b0 * HY_X512_Q4_0_REPACK;
            else if (KIND == 3) hy_x512_q8_0_gather(x + b0 * 34, cnt, xr_own);
            else hy_x512_q4_0_repack(x + b0 * 34, cnt, xr_own);
            for (int64_t r = r0; r < r1; r++) {
                const uint8_t *row = w + (size_t)r * rb + b0 * bs; /* b0: a multiple of 8 blocks */
                const float v = KIND == 3 ? hy_x512_row_q8_0_x8(row, cnt, xr, x + b0 * 34, dx, corr)
                                          : hy_x512_row_q4_0(KIND == 2, row, cnt, xr, x + b0 * 34, dx, corr);
                y[r] = b0 ? y[r] + v : v;
            }
            continue;
        }
#endif
        for (int64_t r = r0; r < r1; r++) {
            const float v = hy_x86_row_q0(KIND, w + (size_t)r * rb + b0 * bs, cnt, x + b0 * 34, dx, corr);
            y[r] = b0 ? y[r] + v : v;
        }
    }
}

/* The side data matvec_q0(KIND, ...) would make on each call, for the whole
 * activation at once, into prep (see mv_prep_quants_at). Chunk b0's
 * quants start 32 * b0 bytes in, where the per-call form reads them. */
HY_INLINE void matvec_q0_prepare(int KIND, int64_t n, const void *xq, void *prep) {
    const uint8_t *x = xq;
    const int64_t nb = n / 32;
    float *dx = prep;
    hy_x86_q8_0_side(x, nb, mv_q0_z(KIND), dx, dx + nb);
#if HY_X512_X8
    uint8_t *xr = (uint8_t *)prep + mv_prep_quants_at(nb);
    if (KIND == 3) hy_x512_q8_0_gather(x, nb, xr);
    else if (KIND != 1) hy_x512_q4_0_repack(x, nb, xr); /* chunks are whole groups of 4 blocks */
#else
    (void)KIND;
#endif
}

#define HY_MATVEC_Q0(name, kind)                                                                              \
    static void matvec_##name(const uint8_t *w, size_t rb, int64_t n, const void *xq, float *y, int64_t r0,  \
                              int64_t r1) {                                                                  \
        matvec_q0(kind, w, rb, n, xq, NULL, y, r0, r1);                                                      \
    }                                                                                                        \
    static void matvec_##name##_prepare(int64_t n, const void *xq, void *prep) {                             \
        matvec_q0_prepare(kind, n, xq, prep);                                                                \
    }                                                                                                        \
    static void matvec_##name##_prepped(const uint8_t *w, size_t rb, int64_t n, const void *xq,              \
                                        const void *prep, float *y, int64_t r0, int64_t r1) {                \
        matvec_q0(kind, w, rb, n, xq, (const uint8_t *)prep, y, r0, r1);                                    \
    }

HY_MATVEC_Q0(q4_0, 0)
HY_MATVEC_Q0(q8_0, 1)
#if HY_X512_X8
HY_MATVEC_Q0(q4_0_x8, 2)
HY_MATVEC_Q0(q8_0_x8, 3)
#endif

/* K-quant rows. On AVX-512, Q4_K / Q5_K go four rows per pass
 * (matvec_k4_impl.h: the rows share the block-head unpacking and the
 * activation loads, and prefetch the next group of rows); the last rows and
 * Q6_K go one at a time, front to back. Q6_K four rows at a time
 * (hy_x512_rows_q6_K with R = 4, the same bits) was ~10% faster from the
 * cache but streamed slower from memory, with each row's own prefetch or
 * with the next group's rows fetched as one piece: medians of 16.0 and 16.3
 * GB/s against 18.6 (tinyllama q4_k_m's 20 Q6_K layer matrices, 2 threads,
 * 16 interleaved passes). An eight-row Q4_K pass sharing the activation
 * work between two groups of four was 9% slower from the cache (register
 * spills). KIND 0: Q4_K, 1: Q5_K, 2: Q6_K. */
HY_INLINE void matvec_k(int KIND, const uint8_t *w, size_t rb, int64_t n, const void *xq, float *y, int64_t r0,
                        int64_t r1) {
    const int64_t nb = n / 256;
#if HY_X512_K4
    if (KIND != 2) {
        int64_t r = r0;
        for (; r + 4 <= r1; r += 4) hy_x512_rows4_q45_K(KIND, w + (size_t)r * rb, rb, xq, nb, y + r);
        for (; r < r1; r++) y[r] = HY_ROW_Q45_K(KIND, w + (size_t)r * rb, xq, nb);
        return;
    }
#endif
    for (int64_t r = r0; r < r1; r++)
        y[r] = KIND == 2 ? HY_ROW_Q6_K(w + (size_t)r * rb, xq, nb) : HY_ROW_Q45_K(KIND, w + (size_t)r * rb, xq, nb);
}

static void matvec_q4_K(const uint8_t *w, size_t rb, int64_t n, const void *xq, float *y, int64_t r0, int64_t r1) {
    matvec_k(0, w, rb, n, xq, y, r0, r1);
}

static void matvec_q5_K(const uint8_t *w, size_t rb, int64_t n, const void *xq, float *y, int64_t r0, int64_t r1) {
    matvec_k(1, w, rb, n, xq, y, r0, r1);
}

static void matvec_q6_K(const uint8_t *w, size_t rb, int64_t n, const void *xq, float *y, int64_t r0, int64_t r1) {
    matvec_k(2, w, rb, n, xq, y, r0, r1);
}

static void matvec_f32(const uint8_t *w, size_t rb, int64_t n, const void *xq, float *y, int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) y[r] = hy_x86_row_f32((const float *)(const void *)(w + (size_t)r * rb), xq, n);
}

static void matvec_f16(const uint8_t *w, size_t rb, int64_t n, const void *xq, float *y, int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) y[r] = hy_x86_row_16(1, w + (size_t)r * rb, xq, n);
}

static void matvec_bf16(const uint8_t *w, size_t rb, int64_t n, const void *xq, float *y, int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) y[r] = hy_x86_row_16(0, w + (size_t)r * rb, xq, n);
}
