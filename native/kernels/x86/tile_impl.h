/*
 * tile_impl.h — x86 matrix-matrix products of quantized weights (prompt
 * processing): register tiles of HY_RW weight rows x up to HY_TT tokens.
 *
 * Included by the "matmul" units with HY_TILE_BITS = 512 (AVX-512: 16 rows per
 * vector, 8 tokens) or 256 (AVX2: 8 rows, 4 tokens), and HY_X86_VNNI.
 *
 * Idea: a group of HY_RW weight rows is first unpacked ("decoded once") into a
 * tile where one vector holds 4 consecutive quants of every row:
 *
 *   q[k/4][row]    uint32: quants k..k+3 of the row as unsigned bytes
 *                  (Q4_0 / Q4_K 0..15, Q5_K 0..31, Q6_K 0..63, Q8_0 q + 128
 *                  with VNNI, q itself without)
 *   s[sb][row]     float: the scale of sub-block sb (32 elements; 16 for Q6_K)
 *   c[sb][row]     float: the min (Q4_K / Q5_K: dmin * m)
 *
 * Then for each token, 4 activation bytes are broadcast and one vpdpbusd adds
 * 4 products to every row's lane: sum_k u_k * y_k for HY_RW rows at once, no
 * horizontal sums. Per sub-block the integer sum starts from the offset
 * correction -z * sum(y) (z = 8 for Q4_0, 128 for Q8_0 with VNNI, 32 for
 * Q6_K), is converted once and accumulated with the row scales and the token's
 * d_y; Q4_K / Q5_K subtract min * d_y * sum(y). The tile stays in L2 while every
 * token of the call streams past it, so each weight is decoded once per call.
 *
 * Per-token activation data (sum of each sub-block, d_y) is computed once per
 * call for up to HY_TCH tokens into the scratch memory the caller passes.
 * Without VNNI, vpdpbusd is emulated with vpmaddubsw + vpmaddwd (exact for
 * these ranges); Q8_0 then uses the sign trick (|w| times y with w's sign).
 */
#include "kernels/x86/tile_common.h"

/* Weight kinds of the tile path. */
enum { HY_TK_Q4_0, HY_TK_Q8_0, HY_TK_Q4_K, HY_TK_Q5_K, HY_TK_Q6_K };

#define HY_TCH 256   /* tokens whose activation data is prepared at a time */
#define HY_KC 2048   /* elements of a row unpacked at a time (tile + 8 tokens' activations stay in L2, near L1) */
#define HY_KC_MAX 2048

typedef struct hy_tile_side {
    int32_t iz; /* -z * sum of the sub-block's activations (the integer sum starts here) */
    float dy;   /* the activation scale of the sub-block */
    float e;    /* dy * sum (for the mins of Q4_K / Q5_K) */
    float pad;
} hy_tile_side;

HY_INLINE int tk_sub(int kind) { return kind == HY_TK_Q6_K ? 16 : 32; }
HY_INLINE int tk_mins(int kind) { return kind == HY_TK_Q4_K || kind == HY_TK_Q5_K; }
HY_INLINE int tk_signed(int kind) { return kind == HY_TK_Q8_0 && !HY_X86_VNNI; }

/* ---- scratch layout ---- */

typedef struct hy_tile_layout {
    int64_t kc_max, n_sb;       /* unpacked elements per chunk; sub-blocks per row */
    int64_t tch;                /* tokens per batch of activation data (the side array's row stride) */
    size_t side, q, s, c, yoff, out, total;
} hy_tile_layout;

static hy_tile_layout hy_tile_plan(int kind, int64_t n, int64_t n_tokens) {
    hy_tile_layout L;
    const int S = tk_sub(kind);
    L.kc_max = n <= HY_KC_MAX ? n : HY_KC;
    L.n_sb = n / S;
    L.tch = n_tokens < HY_TCH ? n_tokens : HY_TCH;
    size_t at = 0;
    L.side = at, at = hy_align64(at + sizeof(hy_tile_side) * (size_t)(L.tch * L.n_sb));
    L.q = at, at = hy_align64(at + 4u * HY_RW * (size_t)(L.kc_max / 4));
    L.s = at, at = hy_align64(at + 4u * HY_RW * (size_t)(L.kc_max / S));
    L.c = at, at = hy_align64(at + 4u * HY_RW * (size_t)(L.kc_max / S));
    L.yoff = at, at = hy_align64(at + 4u * (size_t)(L.kc_max / S));
    L.out = at, at = hy_align64(at + 4u * HY_RW * HY_TT);
    L.total = at + 64;
    return L;
}

/* ---- per-token activation data ---- */

/* side[sb * stride + t] for the n_tok tokens at xq (sub-block major, so the
 * kernel reaches every token of a sub-block from one pointer) */
static void hy_tile_side_fill(int kind, const uint8_t *xq, size_t xrb, int64_t n_tok, int64_t n_sb, int64_t stride,
                              hy_tile_side *side_all) {
    for (int64_t t = 0; t < n_tok; t++, xq += xrb) {
        hy_tile_side *side = side_all + t;
        if (kind == HY_TK_Q4_0 || kind == HY_TK_Q8_0) {
            const int z = kind == HY_TK_Q4_0 ? 8 : (HY_X86_VNNI ? 128 : 0);
            const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
            for (int64_t b = 0; b < n_sb; b++) {
                const uint8_t *blk = xq + b * 34;
                const __m256i yv = _mm256_loadu_si256((const __m256i *)(blk + 2));
                const int sum = hy_hsum_epi32(_mm256_madd_epi16(_mm256_maddubs_epi16(ones8, yv), ones16));
                side[b * stride].iz = -z * sum;
                side[b * stride].dy = hy_f16_at(blk);
                side[b * stride].e = 0.0f;
            }
        } else {
            const int per = kind == HY_TK_Q6_K ? 16 : 8; /* sub-blocks per super-block */
            for (int64_t b = 0; b < n_sb; b++) {
                const uint8_t *blk = xq + (b / per) * 292;
                const float dy = hy_load_f32(blk);
                int16_t bs[2] = { 0, 0 };
                memcpy(bs, blk + HY_Q8_K_BSUMS + (kind == HY_TK_Q6_K ? 2 : 4) * (b % per), kind == HY_TK_Q6_K ? 2 : 4);
                const int sum = bs[0] + bs[1];
                side[b * stride].iz = kind == HY_TK_Q6_K ? -32 * sum : 0;
                side[b * stride].dy = dy;
                side[b * stride].e = dy * (float)sum;
            }
        }
    }
}

/* byte offset, within a token's activation row, of element k (k in a sub-block) */
HY_INLINE int32_t hy_tile_yoff(int kind, int64_t k) {
    if (kind == HY_TK_Q4_0 || kind == HY_TK_Q8_0) return (int32_t)((k / 32) * 34 + 2 + k % 32);
    return (int32_t)((k / 256) * 292 + HY_Q8_K_QS + k % 256);
}

/* ---- unpacking nr (<= HY_RW) rows, elements [k0, k0 + kc), into the tile ----
 *
 * The quants are moved with a dword transpose: 16 bytes (4 dwords) of each
 * row's block go into one 128-bit lane (row 4k + i into lane k of vector i),
 * two rounds of unpacks leave dword j of every row in vector j, lane = row.
 * Rows past nr read a zero block (scale 0), so they contribute nothing. */

/* x8_blocks: for Q4_0 / Q8_0 rows in the x8 layout (kernels/repack.h), the
 * blocks of a row that are regrouped (nb rounded down to a multiple of 8); 0
 * for the GGUF layout. p[r] still steps one block size (18 / 34 bytes) per
 * block, which is where a group's first block starts in both layouts; block k
 * of a group then has its scale (bs - 2)k bytes before p[r] and its quants at
 * p[r] + 16 - 2k. */
static void hy_tile_unpack(int kind, const uint8_t *w, size_t rb, int nr, int64_t k0, int64_t kc, int64_t x8_blocks,
                           uint32_t *q, float *s, float *c) {
    const int bs = kind == HY_TK_Q4_0 ? 18 : kind == HY_TK_Q8_0 ? 34 : kind == HY_TK_Q4_K ? 144
                 : kind == HY_TK_Q5_K ? 176 : 210;
    const int per_block = kind == HY_TK_Q4_0 || kind == HY_TK_Q8_0 ? 32 : 256;
    const uint8_t *p[HY_RW];
    int64_t step[HY_RW];
    for (int r = 0; r < HY_RW; r++) {
        /* rows past nr: a zero block, far enough in for the x8 offsets (-224 .. +48) */
        p[r] = r < nr ? w + (size_t)r * rb + (k0 / per_block) * bs : hy_zero_block + 256;
        step[r] = r < nr ? bs : 0;
    }
    const hy_vi lo4 = VI_SET1(0x0F0F0F0F), lo2 = VI_SET1(0x03030303), bit0 = VI_SET1(0x01010101);
    for (int64_t b = 0; b < kc / per_block; b++) {
        hy_vi v[4];
        switch (kind) {
        case HY_TK_Q4_0: {
            uint32_t *qb = q + b * 8 * HY_RW;
            const int64_t blk = k0 / 32 + b, k = blk & 7;
            const int x8 = blk < x8_blocks;
            hy_t4(p, x8 ? 16 - 2 * k : 2, v);
            for (int j = 0; j < 4; j++) {
                VI_STORE(qb + j * HY_RW, VI_AND(v[j], lo4));
                VI_STORE(qb + (j + 4) * HY_RW, VI_AND(VI_SRLI(v[j], 4), lo4));
            }
            for (int r = 0; r < HY_RW; r++) s[b * HY_RW + r] = hy_f16_at(p[r] - (x8 ? 16 * k : 0));
            break;
        }
        case HY_TK_Q8_0: {
            uint32_t *qb = q + b * 8 * HY_RW;
            const hy_vi flip = VI_SET1(HY_X86_VNNI ? (int)0x80808080u : 0);
            const int64_t blk = k0 / 32 + b, k = blk & 7;
            const int x8 = blk < x8_blocks;
            for (int h = 0; h < 2; h++) {
                hy_t4(p, (x8 ? 16 - 2 * k : 2) + 16 * h, v);
                for (int j = 0; j < 4; j++) VI_STORE(qb + (4 * h + j) * HY_RW, VI_XOR(v[j], flip));
            }
            for (int r = 0; r < HY_RW; r++) s[b * HY_RW + r] = hy_f16_at(p[r] - (x8 ? 32 * k : 0));
            break;
        }
        case HY_TK_Q4_K:
        case HY_TK_Q5_K: {
            const int five = kind == HY_TK_Q5_K;
            uint32_t *qb = q + b * 64 * HY_RW;
            hy_vi qh[8];
            if (five) {
                hy_t4(p, HY_Q5_K_QH, qh);
                hy_t4(p, HY_Q5_K_QH + 16, qh + 4);
            }
            for (int m = 0; m < 8; m++) { /* 16 quant bytes: dwords 4m..4m+3 of 32 */
                hy_t4(p, (five ? HY_Q5_K_QS : HY_Q4_K_QS) + 16 * m, v);
                const int cc = m / 2;
                for (int i = 0; i < 4; i++) {
                    const int j = 4 * (m % 2) + i;
                    hy_vi lo = VI_AND(v[i], lo4), hi = VI_AND(VI_SRLI(v[i], 4), lo4);
                    if (five) {
                        lo = VI_OR(lo, VI_SLLI(VI_AND(VI_SRLI(qh[j], 2 * cc), bit0), 4));
                        hi = VI_OR(hi, VI_SLLI(VI_AND(VI_SRLI(qh[j], 2 * cc + 1), bit0), 4));
                    }
                    VI_STORE(qb + (16 * cc + j) * HY_RW, lo);
                    VI_STORE(qb + (16 * cc + 8 + j) * HY_RW, hi);
                }
            }
            for (int r = 0; r < HY_RW; r++) {
                const float d = hy_f16_at(p[r] + HY_QK_D), dmin = hy_f16_at(p[r] + HY_QK_DMIN);
                uint8_t sc[8], mn[8];
                hy_k4_unpack(p[r] + HY_QK_SCALES, sc, mn);
                for (int j = 0; j < 8; j++) {
                    s[(b * 8 + j) * HY_RW + r] = d * (float)sc[j];
                    c[(b * 8 + j) * HY_RW + r] = dmin * (float)mn[j];
                }
            }
            break;
        }
        case HY_TK_Q6_K: {
            uint32_t *qb = q + b * 64 * HY_RW;
            for (int h = 0; h < 2; h++) {
                hy_vi a[8], b2[8], hh[8];
                hy_t4(p, HY_Q6_K_QL + 64 * h, a);
                hy_t4(p, HY_Q6_K_QL + 64 * h + 16, a + 4);
                hy_t4(p, HY_Q6_K_QL + 64 * h + 32, b2);
                hy_t4(p, HY_Q6_K_QL + 64 * h + 48, b2 + 4);
                hy_t4(p, HY_Q6_K_QH + 32 * h, hh);
                hy_t4(p, HY_Q6_K_QH + 32 * h + 16, hh + 4);
                for (int l4 = 0; l4 < 8; l4++) {
                    VI_STORE(qb + (32 * h + l4) * HY_RW, VI_OR(VI_AND(a[l4], lo4), VI_SLLI(VI_AND(hh[l4], lo2), 4)));
                    VI_STORE(qb + (32 * h + 8 + l4) * HY_RW,
                             VI_OR(VI_AND(b2[l4], lo4), VI_SLLI(VI_AND(VI_SRLI(hh[l4], 2), lo2), 4)));
                    VI_STORE(qb + (32 * h + 16 + l4) * HY_RW,
                             VI_OR(VI_AND(VI_SRLI(a[l4], 4), lo4), VI_SLLI(VI_AND(VI_SRLI(hh[l4], 4), lo2), 4)));
                    VI_STORE(qb + (32 * h + 24 + l4) * HY_RW,
                             VI_OR(VI_AND(VI_SRLI(b2[l4], 4), lo4), VI_SLLI(VI_AND(VI_SRLI(hh[l4], 6), lo2), 4)));
                }
            }
            for (int r = 0; r < HY_RW; r++) {
                const float d = hy_f16_at(p[r] + HY_Q6_K_D);
                for (int j = 0; j < 16; j++) s[(b * 16 + j) * HY_RW + r] = d * (float)(int8_t)p[r][HY_Q6_K_SCALES + j];
            }
            break;
        }
        }
        for (int r = 0; r < HY_RW; r++) p[r] += step[r];
    }
    (void)bit0;
}

/* ---- the register tile: HY_RW rows x T tokens over nsb sub-blocks ---- */

HY_INLINE void hy_tile_kernel(int kind, int T, const uint32_t *q, const float *s, const float *c, int64_t nsb,
                              const int32_t *yoff, const uint8_t *const *y, const hy_tile_side *side,
                              int64_t side_stride, float *out) {
    const int S = tk_sub(kind), G = S / 4;
    hy_vf acc[HY_TT];
#pragma GCC unroll 8
    for (int t = 0; t < T; t++) acc[t] = VF_ZERO();
    for (int64_t sb = 0; sb < nsb; sb++) {
        const hy_tile_side *sd = side + sb * side_stride;
        hy_vi ia[HY_TT];
#pragma GCC unroll 8
        for (int t = 0; t < T; t++) ia[t] = VI_SET1(sd[t].iz);
        const uint32_t *qq = q + sb * G * HY_RW;
        const int32_t yo = yoff[sb];
#if HY_X86_VNNI
#pragma GCC unroll 8
        for (int g = 0; g < G; g++) {
            const hy_vi wv = VI_LOAD(qq + g * HY_RW);
#pragma GCC unroll 8
            for (int t = 0; t < T; t++) {
                int32_t yv;
                memcpy(&yv, y[t] + yo + 4 * g, 4);
                ia[t] = VI_DPBUSD(ia[t], wv, VI_SET1(yv));
            }
        }
#else
        if (tk_signed(kind)) { /* Q8_0: |w| times y with w's sign */
#pragma GCC unroll 1
            for (int g = 0; g < G; g++) {
                const hy_vi wv = VI_LOAD(qq + g * HY_RW), aw = VI_ABS8(wv);
#pragma GCC unroll 8
                for (int t = 0; t < T; t++) {
                    int32_t yv;
                    memcpy(&yv, y[t] + yo + 4 * g, 4);
                    ia[t] = VI_DPBUSD(ia[t], aw, VI_SIGN8(VI_SET1(yv), wv));
                }
            }
        } else { /* unsigned quants <= 63: two vpmaddubsw results add in 16 bits without overflow */
#pragma GCC unroll 1
            for (int g = 0; g < G; g += 2) {
                const hy_vi w0 = VI_LOAD(qq + g * HY_RW), w1 = VI_LOAD(qq + (g + 1) * HY_RW);
#pragma GCC unroll 8
                for (int t = 0; t < T; t++) {
                    int32_t y0, y1;
                    memcpy(&y0, y[t] + yo + 4 * g, 4);
                    memcpy(&y1, y[t] + yo + 4 * g + 4, 4);
                    ia[t] = VI_ADD32(ia[t], VI_MADD1(VI_ADD16(VI_MADDUBS(w0, VI_SET1(y0)), VI_MADDUBS(w1, VI_SET1(y1)))));
                }
            }
        }
#endif
        const hy_vf sv = VF_LOAD(s + sb * HY_RW);
#pragma GCC unroll 8
        for (int t = 0; t < T; t++) acc[t] = VF_FMADD(VF_MUL(VI_CVT(ia[t]), VF_SET1(sd[t].dy)), sv, acc[t]);
        if (tk_mins(kind)) {
            const hy_vf cv = VF_LOAD(c + sb * HY_RW);
#pragma GCC unroll 8
            for (int t = 0; t < T; t++) acc[t] = VF_FNMADD(cv, VF_SET1(sd[t].e), acc[t]);
        }
    }
#pragma GCC unroll 8
    for (int t = 0; t < T; t++) VF_STORE(out + t * HY_RW, acc[t]);
}

/* one instance per token count, so every per-token loop is unrolled */
#define HY_TILE_CASE(K, T)                                                          \
    case T: hy_tile_kernel(K, T, q, s, c, nsb, yoff, y, side, side_stride, out); break;

#define HY_TILE_KERNELS(K)                                                                                    \
    static void hy_tile_run_##K(int T, const uint32_t *q, const float *s, const float *c, int64_t nsb,        \
                                const int32_t *yoff, const uint8_t *const *y, const hy_tile_side *side,        \
                                int64_t side_stride, float *out) {                                            \
        switch (T) {                                                                                          \
            HY_TILE_CASE(K, 1) HY_TILE_CASE(K, 2) HY_TILE_CASE(K, 3) HY_TILE_CASE(K, 4)                        \
            HY_TILE_CASES_HIGH(K)                                                                             \
        }                                                                                                     \
    }

#if HY_TT == 8
#define HY_TILE_CASES_HIGH(K) HY_TILE_CASE(K, 5) HY_TILE_CASE(K, 6) HY_TILE_CASE(K, 7) HY_TILE_CASE(K, 8)
#else
#define HY_TILE_CASES_HIGH(K)
#endif

HY_TILE_KERNELS(HY_TK_Q4_0)
HY_TILE_KERNELS(HY_TK_Q8_0)
HY_TILE_KERNELS(HY_TK_Q4_K)
HY_TILE_KERNELS(HY_TK_Q5_K)
HY_TILE_KERNELS(HY_TK_Q6_K)

typedef void (*hy_tile_run_fn)(int, const uint32_t *, const float *, const float *, int64_t, const int32_t *,
                               const uint8_t *const *, const hy_tile_side *, int64_t, float *);

/* ---- the driver ---- */

static void hy_tile_matmul(int kind, const uint8_t *w, size_t rb, int64_t n, int64_t x8_blocks, const uint8_t *xq,
                           size_t xrb, int64_t n_tokens, float *y, int64_t ys, int64_t r0, int64_t r1, void *scratch) {
    static const hy_tile_run_fn runs[] = { hy_tile_run_HY_TK_Q4_0, hy_tile_run_HY_TK_Q8_0, hy_tile_run_HY_TK_Q4_K,
                                           hy_tile_run_HY_TK_Q5_K, hy_tile_run_HY_TK_Q6_K };
    const hy_tile_run_fn run = runs[kind];
    const hy_tile_layout L = hy_tile_plan(kind, n, n_tokens);
    uint8_t *base = (uint8_t *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    hy_tile_side *side = (hy_tile_side *)(void *)(base + L.side);
    uint32_t *q = (uint32_t *)(void *)(base + L.q);
    float *s = (float *)(void *)(base + L.s), *c = (float *)(void *)(base + L.c), *out = (float *)(void *)(base + L.out);
    int32_t *yoff = (int32_t *)(void *)(base + L.yoff);
    const int S = tk_sub(kind);
    for (int64_t tc0 = 0; tc0 < n_tokens; tc0 += L.tch) {
        const int64_t ntc = n_tokens - tc0 < L.tch ? n_tokens - tc0 : L.tch;
        hy_tile_side_fill(kind, xq + (size_t)tc0 * xrb, xrb, ntc, L.n_sb, L.tch, side);
        for (int64_t rg = r0; rg < r1; rg += HY_RW) {
            const int nr = (int)(r1 - rg < HY_RW ? r1 - rg : HY_RW);
            for (int64_t k0 = 0; k0 < n; k0 += L.kc_max) {
                const int64_t kc = n - k0 < L.kc_max ? n - k0 : L.kc_max, nsb = kc / S, sb0 = k0 / S;
                hy_tile_unpack(kind, w + (size_t)rg * rb, rb, nr, k0, kc, x8_blocks, q, s, c);
                for (int64_t b = 0; b < nsb; b++) yoff[b] = hy_tile_yoff(kind, k0 + b * S);
                for (int64_t t0 = 0; t0 < ntc; t0 += HY_TT) {
                    const int T = (int)(ntc - t0 < HY_TT ? ntc - t0 : HY_TT);
                    const uint8_t *yp[HY_TT];
                    for (int t = 0; t < T; t++) yp[t] = xq + (size_t)(tc0 + t0 + t) * xrb;
                    run(T, q, s, c, nsb, yoff, yp, side + sb0 * L.tch + t0, L.tch, out);
                    for (int t = 0; t < T; t++) {
                        float *dst = y + (tc0 + t0 + t) * ys + rg;
                        if (k0 == 0)
                            for (int r = 0; r < nr; r++) dst[r] = out[t * HY_RW + r];
                        else
                            for (int r = 0; r < nr; r++) dst[r] += out[t * HY_RW + r];
                    }
                }
            }
        }
    }
}

static size_t hy_tile_scratch(int kind, int64_t n, int64_t n_tokens) {
    return hy_tile_plan(kind, n, n_tokens).total;
}
