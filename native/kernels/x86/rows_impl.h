/*
 * rows_impl.h — x86 row kernels on the native GGUF layouts: the inner loops of
 * the dot products and of the matrix-vector products. Included by the AVX2
 * and AVX-512 units (which compile it with their own flags); with HY_X86_VNNI
 * set to 1 the 8-bit products use AVX512-VNNI's vpdpbusd (the unit must be
 * compiled with -mavx512vnni -mavx512vl).
 *
 * Q4_0 / Q8_0 weights x Q8_0 activations, per block b of 32:
 *   dot_b = d_w * d_x * sum_j (q_j - z) * y_j
 * The products run on unsigned weight bytes (vpmaddubsw and vpdpbusd take an
 * unsigned and a signed operand): u_j = q_j for Q4_0 (z = 8) and, with VNNI,
 * u_j = q_j + 128 for Q8_0 (z = 128); the offset comes back as a correction
 * corr_b = -z * sum_j y_j per activation block, precomputed once per
 * activation (hy_x86_q8_0_side), so the per-row cost is a byte product, one
 * conversion and one multiply-add. Without VNNI, Q8_0 uses the sign trick
 * (|q| times y carrying q's sign; no correction).
 * The 8 scales d_w of 8 consecutive blocks are converted and multiplied by
 * d_x together (the blocks are 18 / 34 bytes apart).
 *
 * K-quants x Q8_K: vpmaddubsw of the unsigned quants (Q4_K 0..15, Q5_K 0..31,
 * Q6_K 0..63) with the activations, then vpmaddwd with the sub-block scales;
 * the mins (Q4_K / Q5_K) and Q6_K's -32 offset use the activation's bsums.
 * All integer sums are exact; only the float accumulation order differs from
 * the scalar reference.
 */
#ifndef HYPERION_X86_ROWS_IMPL_H
#define HYPERION_X86_ROWS_IMPL_H

#include "kernels/fp16.h"
#include "kernels/quant.h"
#include "kernels/x86/simd.h"

#ifndef HY_X86_VNNI
#define HY_X86_VNNI 0
#endif

/* Max rows processed together by the multi-row K-quant kernels. */
#define HY_X86_ROWS 4

/* Software prefetch distance (bytes ahead in each row's stream). The
 * hardware prefetchers alone do not run far enough ahead while the cores are
 * busy decoding: measured on an AVX-512 Xeon, 2 KiB ahead raised the rate at
 * which matrix-vector products stream weights from DRAM by about 25%, and
 * 4 KiB by another 5-7% over 2 KiB (1 and 2 threads, Q4_0 / Q8_0 / Q4_K /
 * Q6_K; 8 KiB no better). Prefetches past the end of a row or matrix are
 * harmless hints. */
#define HY_PF_AHEAD 4096

HY_INLINE void hy_prefetch_span(const uint8_t *p, int bytes) {
    for (int l = 0; l < bytes; l += 64) _mm_prefetch((const char *)p + HY_PF_AHEAD + l, _MM_HINT_T0);
}

/* sum over groups of 4 of u[i] * s[i] as 8 int32 lanes (u unsigned, s signed;
 * without VNNI the pairwise 16-bit sums must not saturate: callers keep
 * u <= 63 or |s| <= 127 with u <= 128) */
HY_INLINE __m256i hy_dot_u8s8(__m256i u, __m256i s) {
#if HY_X86_VNNI
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
#else
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
#endif
}

/* ---- Q8_0 activation side data: d_x as float and the offset correction ---- */

/* The F16 scales at p, p + stride, ..., p + 7 * stride as 8 floats: eight
 * 16-byte loads (each inside its block) and a tree of unpacks. (vpgatherdd is
 * far slower on many CPUs and hypervisors.) */
HY_INLINE __m256 hy_f16x8_strided(const uint8_t *p, int stride) {
    __m128i v[8];
    for (int k = 0; k < 8; k++) v[k] = _mm_loadu_si128((const __m128i *)(p + k * stride));
    const __m128i a01 = _mm_unpacklo_epi16(v[0], v[1]), a23 = _mm_unpacklo_epi16(v[2], v[3]);
    const __m128i a45 = _mm_unpacklo_epi16(v[4], v[5]), a67 = _mm_unpacklo_epi16(v[6], v[7]);
    const __m128i b0 = _mm_unpacklo_epi32(a01, a23), b1 = _mm_unpacklo_epi32(a45, a67);
    return _mm256_cvtph_ps(_mm_unpacklo_epi64(b0, b1));
}

/* [sum of a0's lanes, ..., sum of a7's lanes] for eight int32 vectors */
HY_INLINE __m256i hy_hsum8_epi32(const __m256i a[8]) {
    const __m256i h01 = _mm256_hadd_epi32(a[0], a[1]), h23 = _mm256_hadd_epi32(a[2], a[3]);
    const __m256i h45 = _mm256_hadd_epi32(a[4], a[5]), h67 = _mm256_hadd_epi32(a[6], a[7]);
    const __m256i h0123 = _mm256_hadd_epi32(h01, h23), h4567 = _mm256_hadd_epi32(h45, h67);
    return _mm256_add_epi32(_mm256_permute2x128_si256(h0123, h4567, 0x20),
                            _mm256_permute2x128_si256(h0123, h4567, 0x31));
}

/* For nb activation blocks at x: dx[b] = d_x, corr[b] = z_neg * sum(qs) (z_neg
 * = -8 for Q4_0 weights, -128 for Q8_0 weights with VNNI, 0 when unused).
 * Eight blocks at a time: their scales by one strided gather, their sums
 * reduced together by one hadd tree (a horizontal sum per block made this
 * ~10 cycles a block, which a decode matvec call paid for every chunk). */
HY_INLINE void hy_x86_q8_0_side(const uint8_t *x, int64_t nb, float z_neg, float *dx, float *corr) {
    const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
    const __m256 z = _mm256_set1_ps(z_neg);
    int64_t b = 0;
    for (; b + 8 <= nb; b += 8) {
        const uint8_t *p = x + b * 34;
        _mm256_storeu_ps(dx + b, hy_f16x8_strided(p, 34));
        if (z_neg == 0.0f) {
            _mm256_storeu_ps(corr + b, _mm256_setzero_ps());
            continue;
        }
        __m256i sums[8];
        for (int k = 0; k < 8; k++) {
            const __m256i y = _mm256_loadu_si256((const __m256i *)(p + k * 34 + 2));
            sums[k] = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, y), ones16);
        }
        _mm256_storeu_ps(corr + b, _mm256_mul_ps(z, _mm256_cvtepi32_ps(hy_hsum8_epi32(sums))));
    }
    for (; b < nb; b++) {
        const uint8_t *p = x + b * 34;
        dx[b] = hy_f16_at(p);
        if (z_neg != 0.0f) {
            const __m256i y = _mm256_loadu_si256((const __m256i *)(p + 2));
            const __m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, y), ones16);
            corr[b] = z_neg * (float)hy_hsum_epi32(s);
        } else {
            corr[b] = 0.0f;
        }
    }
}

/* The 8 int32 partial sums of one Q4_0 / Q8_0 weight block (at blk: scale,
 * quants) times the 32 activation quants y, before the offset correction. */
HY_INLINE __m256i hy_q0_block_dot(int KIND, const uint8_t *blk, __m256i y) {
    if (KIND == 0) return hy_dot_u8s8(hy_nibbles32(blk + 2), y);
    const __m256i q = _mm256_loadu_si256((const __m256i *)(blk + 2));
#if HY_X86_VNNI
    return hy_dot_u8s8(_mm256_xor_si256(q, _mm256_set1_epi8((char)0x80)), y);
#else
    return hy_dot_u8s8(_mm256_sign_epi8(q, q), _mm256_sign_epi8(y, q));
#endif
}

/* Blocks [b, nb) of a Q4_0 (KIND 0) / Q8_0 (KIND 1) row in GGUF order, one
 * at a time: the last nb % 8 blocks of the row kernels below (in the x8
 * layout too, which leaves them as in the file). Q8_0 takes the offset
 * correction only with VNNI (the unsigned form of hy_q0_block_dot). */
HY_INLINE float hy_q0_row_tail(int KIND, const uint8_t *w, int64_t b, int64_t nb, const uint8_t *x, const float *dx,
                               const float *corr) {
    const int bs = KIND == 0 ? 18 : 34;
    const int use_corr = KIND == 0 || HY_X86_VNNI;
    float tail = 0.0f;
    for (; b < nb; b++) {
        const __m256i y = _mm256_loadu_si256((const __m256i *)(x + b * 34 + 2));
        const __m256i p = hy_q0_block_dot(KIND, w + b * bs, y);
        tail += hy_f16_at(w + b * bs) * dx[b] * ((float)hy_hsum_epi32(p) + (use_corr ? corr[b] : 0.0f));
    }
    return tail;
}

/* ---- Q4_0 / Q8_0 rows ---- */

/* dot(row, x) over nb blocks of one Q4_0 (KIND 0) or Q8_0 (KIND 1) row, with
 * the side data of x. One row at a time: in decode the weights stream from
 * DRAM, and a single front-to-back stream is what the 2 KiB-ahead prefetch
 * (and the hardware's streamer) keeps ahead of; several rows interleaved
 * (each activation load serving several rows) ran faster on cached weights
 * but streamed 30-40% slower. Two accumulators alternate between blocks, so
 * the multiply-add chain does not bound a single row's speed. */
HY_INLINE float hy_x86_row_q0(int KIND, const uint8_t *w, int64_t nb, const uint8_t *x, const float *dx,
                              const float *corr) {
    const int bs = KIND == 0 ? 18 : 34;
    const int use_corr = KIND == 0 || HY_X86_VNNI;
    __m256 acc[2] = { _mm256_setzero_ps(), _mm256_setzero_ps() }, accc = _mm256_setzero_ps();
    int64_t b = 0;
    for (; b + 8 <= nb; b += 8) {
        hy_prefetch_span(w + b * bs, 8 * bs);
        const __m256 s = _mm256_mul_ps(hy_f16x8_strided(w + b * bs, bs), _mm256_loadu_ps(dx + b));
        if (use_corr) accc = _mm256_fmadd_ps(s, _mm256_loadu_ps(corr + b), accc);
        float sc[8];
        _mm256_storeu_ps(sc, s);
        for (int k = 0; k < 8; k++) {
            const __m256i y = _mm256_loadu_si256((const __m256i *)(x + (b + k) * 34 + 2));
            const __m256i p = hy_q0_block_dot(KIND, w + (b + k) * bs, y);
            acc[k & 1] = _mm256_fmadd_ps(_mm256_broadcast_ss(&sc[k]), _mm256_cvtepi32_ps(p), acc[k & 1]);
        }
    }
    return hy_hsum_ps(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), accc)) + hy_q0_row_tail(KIND, w, b, nb, x, dx, corr);
}

/* ---- K-quants, one row ---- */

/* The 8 six-bit scales and mins of a Q4_K / Q5_K scales[12] field. */
HY_INLINE void hy_k4_unpack(const uint8_t *s12, uint8_t sc[8], uint8_t mn[8]) {
    uint32_t u[3], o[4];
    memcpy(u, s12, 12);
    o[0] = u[0] & 0x3F3F3F3Fu;                                           /* scales 0..3 */
    o[1] = (u[2] & 0x0F0F0F0Fu) | (((u[0] >> 6) & 0x03030303u) << 4);    /* scales 4..7 */
    o[2] = u[1] & 0x3F3F3F3Fu;                                           /* mins 0..3 */
    o[3] = ((u[2] >> 4) & 0x0F0F0F0Fu) | (((u[1] >> 6) & 0x03030303u) << 4); /* mins 4..7 */
    memcpy(sc, o, 8);
    memcpy(mn, o + 2, 8);
}

/* scales[12] at s -> 16 bytes: sc0..sc7, m0..m7. Reads 16 bytes at s (the
 * last 4 are quants of the same block and are not used). */
HY_INLINE __m128i hy_k4_unpack_v(const uint8_t *s) {
    const __m128i v = _mm_loadu_si128((const __m128i *)s); /* u0 u1 u2 (u3 unused) */
    /* [u0, u2, u1, u2 >> 4] masked: low 6 bits of sc0-3 / m0-3, low 4 bits of sc4-7 / m4-7 */
    const __m128i a = _mm_and_si128(_mm_srlv_epi32(_mm_shuffle_epi32(v, 0x98), _mm_setr_epi32(0, 0, 0, 4)),
                                    _mm_setr_epi32(0x3F3F3F3F, 0x0F0F0F0F, 0x3F3F3F3F, 0x0F0F0F0F));
    /* top 2 bits of sc4-7 / m4-7 from the top bits of u0 / u1 */
    const __m128i h = _mm_and_si128(_mm_srlv_epi32(_mm_shuffle_epi32(v, 0x50), _mm_setr_epi32(32, 6, 32, 6)),
                                    _mm_set1_epi32(0x03030303));
    return _mm_or_si128(a, _mm_slli_epi32(h, 4));
}

/* int16 scale j (of 8, held in both lanes of s16) broadcast to all 16 lanes */
HY_INLINE __m256i hy_pick_scale(__m256i s16, int j) {
    const __m256i m = _mm256_set1_epi16((short)((2 * j) | ((2 * j + 1) << 8)));
    return _mm256_shuffle_epi8(s16, m);
}

/* Q4_K (HIGH_BIT 0) or Q5_K (HIGH_BIT 1) row times a Q8_K row. */
HY_INLINE float hy_x86_row_q45_K(int HIGH_BIT, const uint8_t *pw, const uint8_t *px, int64_t nb) {
    const int bs = HIGH_BIT ? 176 : 144, qs_off = HIGH_BIT ? HY_Q5_K_QS : HY_Q4_K_QS;
    const __m256i m4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
    __m256 acc = _mm256_setzero_ps();
    float acc_min = 0.0f;
    for (int64_t b = 0; b < nb; b++, pw += bs, px += 292) {
        hy_prefetch_span(pw, bs);
        const __m128i scm = hy_k4_unpack_v(pw + HY_QK_SCALES); /* sc0-7 | m0-7 */
        const float dy = hy_load_f32(px + HY_Q8_K_D);
        const __m256i bsv = _mm256_loadu_si256((const __m256i *)(px + HY_Q8_K_BSUMS));
        const __m128i pairs = _mm_hadd_epi16(_mm256_castsi256_si128(bsv), _mm256_extracti128_si256(bsv, 1));
        __m128i mp = _mm_madd_epi16(_mm_cvtepu8_epi16(_mm_unpackhi_epi64(scm, scm)), pairs);
        mp = _mm_add_epi32(mp, _mm_shuffle_epi32(mp, 0x4E));
        mp = _mm_add_epi32(mp, _mm_shuffle_epi32(mp, 0xB1));
        acc_min += dy * hy_f16_at(pw + HY_QK_DMIN) * (float)_mm_cvtsi128_si32(mp);
        const __m256i s16 = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(scm));
        const uint8_t *q = pw + qs_off;
        const int8_t *y = (const int8_t *)(px + HY_Q8_K_QS);
        __m256i hbits = _mm256_setzero_si256();
        if (HIGH_BIT) hbits = _mm256_loadu_si256((const __m256i *)(pw + HY_Q5_K_QH));
        __m256i sumi = _mm256_setzero_si256();
        for (int c = 0; c < 4; c++) {
            const __m256i bits = _mm256_loadu_si256((const __m256i *)(q + 32 * c));
            __m256i lo = _mm256_and_si256(bits, m4);
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bits, 4), m4);
            if (HIGH_BIT) {
                const __m256i h = _mm256_srli_epi16(hbits, 2 * c);
                lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(h, one), 4));
                hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 1), one), 4));
            }
            const __m256i plo = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)(y + 64 * c)));
            const __m256i phi = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(y + 64 * c + 32)));
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(plo, hy_pick_scale(s16, 2 * c)));
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(phi, hy_pick_scale(s16, 2 * c + 1)));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(dy * hy_f16_at(pw + HY_QK_D)), _mm256_cvtepi32_ps(sumi), acc);
    }
    return hy_hsum_ps(acc) - acc_min;
}

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
/* p += (a . b) over int16 pairs (VNNI: one vpdpwssd) */
HY_INLINE __m512i hy_x512_madd_acc(__m512i p, __m512i a, __m512i b) {
#if HY_X86_VNNI
    return _mm512_dpwssd_epi32(p, a, b);
#else
    return _mm512_add_epi32(p, _mm512_madd_epi16(a, b));
#endif
}

/* ---- AVX-512: Q4_K / Q5_K with 64 elements per vector ----
 * A 32-byte group of quants is broadcast to both halves of a zmm; the low
 * half keeps the low nibbles (sub-block 2c), the high half the high nibbles
 * (2c+1), matching 64 consecutive activations. The eight 6-bit scales and
 * mins are decoded with vector shifts; vpshufb picks the scale of each half. */

/* Chunk c (elements 64c .. 64c + 63: sub-blocks 2c and 2c + 1) of a Q4_K /
 * Q5_K block's quants as bytes in activation order; q: the block's quants,
 * hb: (Q5_K) its 32 qh bytes in both 256-bit halves; half and m4 as below. */
HY_INLINE __m512i hy_x512_k45_chunk(int HIGH_BIT, const uint8_t *q, int c, __m512i hb, __m512i half, __m512i m4) {
    __m512i qv = _mm512_and_si512(
        _mm512_srlv_epi32(_mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(q + 32 * c))), half), m4);
    if (HIGH_BIT) { /* bit 2c (low half) / 2c+1 (high half) of qh to bit 4 */
        const int lo = (4 - 2 * c) & 31, hi = (3 - 2 * c) & 31;
        const __m512i rot = _mm512_rolv_epi32(hb, _mm512_setr_epi32(lo, lo, lo, lo, lo, lo, lo, lo, hi, hi, hi, hi, hi, hi, hi, hi));
        qv = _mm512_ternarylogic_epi32(qv, rot, _mm512_set1_epi8(0x10), 0xF8); /* qv | (rot & 0x10) */
    }
    return qv;
}

/* out[r] = dot(row r, x) for R <= HY_X86_ROWS rows of Q4_K (HIGH_BIT 0) or
 * Q5_K (HIGH_BIT 1), rb bytes apart, over nb super-blocks. Called with one
 * row (dot products, and the rows a four-row pass leaves over); decode's
 * four-row kernel, which also shares the block-head unpacking between rows,
 * is matvec_k4_impl.h. */
HY_INLINE void hy_x512_rows_q45_K(int HIGH_BIT, int R, const uint8_t *w, size_t rb, const uint8_t *px, int64_t nb,
                                  float *out) {
    const int bs = HIGH_BIT ? 176 : 144, qs_off = HIGH_BIT ? HY_Q5_K_QS : HY_Q4_K_QS;
    const __m512i m4 = _mm512_set1_epi8(0x0F), half = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 4, 4, 4, 4);
    __m512i pick[4]; /* scale 2c in lanes 0-1 (low nibbles), 2c+1 in lanes 2-3 */
    for (int c = 0; c < 4; c++)
        pick[c] = _mm512_mask_blend_epi32(0xFF00, _mm512_set1_epi16((short)((4 * c) | ((4 * c + 1) << 8))),
                                          _mm512_set1_epi16((short)((4 * c + 2) | ((4 * c + 3) << 8))));
    __m512 acc[HY_X86_ROWS];
    __m128 accm[HY_X86_ROWS];
    for (int r = 0; r < R; r++) {
        acc[r] = _mm512_setzero_ps();
        accm[r] = _mm_setzero_ps();
    }
    for (int64_t b = 0; b < nb; b++, px += 292) {
        const float dy = hy_load_f32(px + HY_Q8_K_D);
        /* activation sums of the 8 sub-blocks (pairs of bsums), for the mins */
        const __m256i bsv = _mm256_loadu_si256((const __m256i *)(px + HY_Q8_K_BSUMS));
        const __m128i pairs = _mm_hadd_epi16(_mm256_castsi256_si128(bsv), _mm256_extracti128_si256(bsv, 1));
        const int8_t *y = (const int8_t *)(px + HY_Q8_K_QS);
        __m512i s4[HY_X86_ROWS], sumi[HY_X86_ROWS], hb[HY_X86_ROWS];
        __m128 dd[HY_X86_ROWS]; /* d * d_y, dmin * d_y */
        for (int r = 0; r < R; r++) {
            const uint8_t *pw = w + r * rb + b * bs;
            hy_prefetch_span(pw, bs);
            /* d and dmin (adjacent F16 values) converted together */
            int32_t dpair;
            memcpy(&dpair, pw + HY_QK_D, 4);
            dd[r] = _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi32_si128(dpair)), _mm_set1_ps(dy));
            const __m256i w16 = _mm256_cvtepu8_epi16(hy_k4_unpack_v(pw + HY_QK_SCALES)); /* sc0-7 | m0-7 */
            const __m128i mp = _mm_madd_epi16(_mm256_extracti128_si256(w16, 1), pairs);
            accm[r] = _mm_fmadd_ps(_mm_cvtepi32_ps(mp), _mm_permute_ps(dd[r], 0x55), accm[r]);
            s4[r] = _mm512_broadcast_i32x4(_mm256_castsi256_si128(w16)); /* the 8 scales in every lane */
            sumi[r] = _mm512_setzero_si512();
            hb[r] = HIGH_BIT ? _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(pw + HY_Q5_K_QH)))
                             : _mm512_setzero_si512();
        }
        for (int c = 0; c < 4; c++) {
            const __m512i yv = _mm512_loadu_si512((const void *)(y + 64 * c));
            for (int r = 0; r < R; r++) {
                const __m512i qv = hy_x512_k45_chunk(HIGH_BIT, w + r * rb + b * bs + qs_off, c, hb[r], half, m4);
                const __m512i p = _mm512_maddubs_epi16(qv, yv);
                sumi[r] = hy_x512_madd_acc(sumi[r], p, _mm512_shuffle_epi8(s4[r], pick[c]));
            }
        }
        for (int r = 0; r < R; r++)
            acc[r] = _mm512_fmadd_ps(_mm512_broadcastss_ps(dd[r]), _mm512_cvtepi32_ps(sumi[r]), acc[r]);
    }
    for (int r = 0; r < R; r++) {
        __m128 m = _mm_add_ps(accm[r], _mm_movehl_ps(accm[r], accm[r]));
        m = _mm_add_ss(m, _mm_movehdup_ps(m));
        out[r] = _mm512_reduce_add_ps(acc[r]) - _mm_cvtss_f32(m);
    }
}

HY_INLINE float hy_x512_row_q45_K(int HIGH_BIT, const uint8_t *pw, const uint8_t *px, int64_t nb) {
    float out;
    hy_x512_rows_q45_K(HIGH_BIT, 1, pw, 0, px, nb, &out);
    return out;
}
/* ---- AVX-512: Q6_K with 64 elements per vector ----
 * Per half (128 elements): the 64 ql bytes as one vector give elements 0..63
 * (low nibbles) and 64..127 (high nibbles) in activation order; the 32 qh
 * bytes, broadcast to both 256-bit halves and masked to the bit pairs each
 * half needs (0x33 / 0xCC), are moved to bits 4-5 by one 64-bit variable shift
 * (a pair that crosses into the next byte lands in its low nibble, which the
 * merge takes from ql). Each 128-bit lane then holds one 16-element
 * sub-block, so its scale is one int16 broadcast per lane (vpshufb from the
 * half's 8 scales). As hy_x86_row_q6_K, the -32 offset comes from the bsums. */
HY_INLINE void hy_x512_rows_q6_K(int R, const uint8_t *w, size_t rb, const uint8_t *px, int64_t nb, float *out) {
    const __m512i lo4 = _mm512_set1_epi8(0x0F);
    const __m512i pair_mask = _mm512_inserti64x4(_mm512_set1_epi8(0x33), _mm256_set1_epi8((char)0xCC), 1);
    const __m512i shl_a = _mm512_setr_epi64(4, 4, 4, 4, 2, 2, 2, 2), shr_b = _mm512_setr_epi64(0, 0, 0, 0, 2, 2, 2, 2);
    /* lane j takes scale j (first vector of a half) or 4 + j (second) of the half's 8 */
    __m512i pick_a = _mm512_setzero_si512(), pick_b = _mm512_setzero_si512();
    {
        int16_t ia[32], ib[32];
        for (int i = 0; i < 32; i++) {
            const int j = i / 8;
            ia[i] = (int16_t)((2 * j) | ((2 * j + 1) << 8));
            ib[i] = (int16_t)((2 * (4 + j)) | ((2 * (4 + j) + 1) << 8));
        }
        pick_a = _mm512_loadu_si512((const void *)ia);
        pick_b = _mm512_loadu_si512((const void *)ib);
    }
    __m512 acc[HY_X86_ROWS];
    for (int r = 0; r < R; r++) acc[r] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++, px += 292) {
        const __m256i bsums = _mm256_loadu_si256((const __m256i *)(px + HY_Q8_K_BSUMS));
        const int8_t *y = (const int8_t *)(px + HY_Q8_K_QS);
        const float dy = hy_load_f32(px + HY_Q8_K_D);
        for (int r = 0; r < R; r++) {
            const uint8_t *pw = w + r * rb + b * 210;
            hy_prefetch_span(pw, 210);
            const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(pw + HY_Q6_K_SCALES)));
            /* the -32 offset: 32 * sum_j sc_j * bsum_j */
            const __m256i corr = _mm256_slli_epi32(_mm256_madd_epi16(sc16, bsums), 5);
            __m512i sumi = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_zextsi256_si512(corr));
            for (int h = 0; h < 2; h++) {
                const __m512i l = _mm512_loadu_si512((const void *)(pw + HY_Q6_K_QL + 64 * h));
                const __m512i hm = _mm512_and_si512(
                    _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(pw + HY_Q6_K_QH + 32 * h))), pair_mask);
                /* (ql & 0x0F) | (high pair & 0x30): ternary 0xE4 = (a & c) | (b & ~c) with c = 0x0F */
                const __m512i qa = _mm512_ternarylogic_epi32(l, _mm512_sllv_epi64(hm, shl_a), lo4, 0xE4);
                const __m512i qb = _mm512_ternarylogic_epi32(_mm512_srli_epi16(l, 4), _mm512_srlv_epi64(hm, shr_b), lo4, 0xE4);
                const __m512i s8 = _mm512_broadcast_i32x4(h == 0 ? _mm256_castsi256_si128(sc16) : _mm256_extracti128_si256(sc16, 1));
                const __m512i pa = _mm512_maddubs_epi16(qa, _mm512_loadu_si512((const void *)(y + 128 * h)));
                const __m512i pb = _mm512_maddubs_epi16(qb, _mm512_loadu_si512((const void *)(y + 128 * h + 64)));
                sumi = hy_x512_madd_acc(sumi, pa, _mm512_shuffle_epi8(s8, pick_a));
                sumi = hy_x512_madd_acc(sumi, pb, _mm512_shuffle_epi8(s8, pick_b));
            }
            acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(dy * hy_f16_at(pw + HY_Q6_K_D)), _mm512_cvtepi32_ps(sumi), acc[r]);
        }
    }
    for (int r = 0; r < R; r++) out[r] = _mm512_reduce_add_ps(acc[r]);
}

HY_INLINE float hy_x512_row_q6_K(const uint8_t *pw, const uint8_t *px, int64_t nb) {
    float out;
    hy_x512_rows_q6_K(1, pw, 0, px, nb, &out);
    return out;
}

/* ---- AVX-512: Q4_0 rows, four blocks per vector ----
 * Each 128-bit lane holds one block's 16 quant bytes; the low nibbles are
 * its elements 0..15 and the high nibbles 16..31. The activation is repacked
 * once per call to match (hy_x512_q4_0_repack): per group of four blocks, 64
 * bytes of their elements 0..15, then 64 bytes of their elements 16..31. So a
 * block needs no in-register shuffle of its nibbles, and one vpdpbusd pair
 * serves four blocks. The eight F16 scales of eight blocks come from two
 * 64-byte loads (the scales sit 9 words apart) and one word permute. */

/* Bytes of repacked activation per Q8_0 block. */
#define HY_X512_Q4_0_REPACK 32
/* 1 where the AVX-512 row kernels for the x8 layout (Q4_0 and Q8_0, below)
 * exist, and so the x8 matvec / matmul entries of the "matmul" table */
#define HY_X512_X8 1

/* x: nb Q8_0 blocks -> out: for each full group of 4 blocks, 128 bytes as
 * described above (nb rounded down to a multiple of 4). */
HY_INLINE void hy_x512_q4_0_repack(const uint8_t *x, int64_t nb, uint8_t *out) {
    for (int64_t g = 0; g + 4 <= nb; g += 4, out += 128)
        for (int k = 0; k < 4; k++) {
            const uint8_t *q = x + (g + k) * 34 + 2;
            memcpy(out + 16 * k, q, 16);
            memcpy(out + 64 + 16 * k, q + 16, 16);
        }
}

/* sum over groups of 4 of u[i] * s[i] added to acc (u unsigned <= 15 here) */
HY_INLINE __m512i hy_dot512_u8s8(__m512i acc, __m512i u, __m512i s) {
#if HY_X86_VNNI
    return _mm512_dpbusd_epi32(acc, u, s);
#else
    return _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(u, s), _mm512_set1_epi16(1)));
#endif
}

/* dot(row, x) for one Q4_0 row of nb blocks; xr: the activation repacked by
 * hy_x512_q4_0_repack, x / dx / corr: its Q8_0 blocks and side data (for the
 * last nb % 8 blocks). X8: the row is in the x8 layout (kernels/repack.h),
 * where per group of eight blocks the scales are one 16-byte load and each
 * four blocks' quants one 64-byte load, already in the lane order of xr; the
 * same sums in the same order as on the GGUF layout, so the same result. */
HY_INLINE float hy_x512_row_q4_0(int X8, const uint8_t *w, int64_t nb, const uint8_t *xr, const uint8_t *x,
                                 const float *dx, const float *corr) {
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    /* words 0, 9, 18, 27 of each 64-byte load: the scales of four blocks */
    const __m512i pick_d = _mm512_setr_epi32(0 | 9 << 16, 18 | 27 << 16, 32 | 41 << 16, 50 | 59 << 16, 0, 0, 0, 0, 0, 0,
                                             0, 0, 0, 0, 0, 0);
    /* block scale k of 8 into lanes 4k'..4k'+3, for blocks 0-3 and 4-7 */
    const __m512i spread_a = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
    const __m512i spread_b = _mm512_add_epi32(spread_a, _mm512_set1_epi32(4));
    __m512 acc[2] = { _mm512_setzero_ps(), _mm512_setzero_ps() };
    __m256 accc = _mm256_setzero_ps();
    int64_t b = 0;
    for (; b + 8 <= nb; b += 8, xr += 256) {
        const uint8_t *pw = w + b * 18;
        hy_prefetch_span(pw, 8 * 18);
        const __m128i d8 = X8 ? _mm_loadu_si128((const __m128i *)pw)
                              : _mm512_castsi512_si128(_mm512_permutex2var_epi16(
                                    _mm512_loadu_si512((const void *)pw), pick_d, _mm512_loadu_si512((const void *)(pw + 72))));
        const __m256 s = _mm256_mul_ps(_mm256_cvtph_ps(d8), _mm256_loadu_ps(dx + b));
        accc = _mm256_fmadd_ps(s, _mm256_loadu_ps(corr + b), accc);
        const __m512 s16 = _mm512_castps256_ps512(s);
        for (int g = 0; g < 2; g++) {
            __m512i v;
            if (X8) {
                v = _mm512_loadu_si512((const void *)(pw + 16 + 64 * g));
            } else {
                const uint8_t *q = pw + 72 * g + 2;
                v = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)q));
                v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(q + 18)), 1);
                v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(q + 36)), 2);
                v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(q + 54)), 3);
            }
            __m512i p = hy_dot512_u8s8(_mm512_setzero_si512(), _mm512_and_si512(v, m4),
                                       _mm512_loadu_si512((const void *)(xr + 128 * g)));
            p = hy_dot512_u8s8(p, _mm512_and_si512(_mm512_srli_epi16(v, 4), m4),
                               _mm512_loadu_si512((const void *)(xr + 128 * g + 64)));
            const __m512 sv = _mm512_permutexvar_ps(g ? spread_b : spread_a, s16);
            acc[g] = _mm512_fmadd_ps(sv, _mm512_cvtepi32_ps(p), acc[g]);
        }
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(acc[0], acc[1])) + hy_hsum_ps(accc) +
           hy_q0_row_tail(0, w, b, nb, x, dx, corr);
}

/* x: nb Q8_0 blocks -> out: their quants, 32 bytes per block, back to back
 * (what the Q8_0 x8 row kernel multiplies two blocks at a time). */
HY_INLINE void hy_x512_q8_0_gather(const uint8_t *x, int64_t nb, uint8_t *out) {
    for (int64_t b = 0; b < nb; b++) memcpy(out + 32 * b, x + b * 34 + 2, 32);
}

/* dot(row, x) for one Q8_0 row of nb blocks in the x8 layout: per group of
 * eight blocks the scales are one 16-byte load and each two blocks' quants
 * one 64-byte load, against the gathered activation quants xq32
 * (hy_x512_q8_0_gather); lanes 0-7 of a product belong to the first block,
 * 8-15 to the second. With VNNI the quants are made unsigned (q + 128) and
 * the offset comes back through corr, as in hy_x86_row_q0; without, |w|
 * times y with w's sign (vpmaddubsw does not saturate: 2 * 128 * 127 fits). */
HY_INLINE float hy_x512_row_q8_0_x8(const uint8_t *w, int64_t nb, const uint8_t *xq32, const uint8_t *x,
                                    const float *dx, const float *corr) {
    const __m512i lanes8 = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    __m512 acc[2] = { _mm512_setzero_ps(), _mm512_setzero_ps() };
    __m256 accc = _mm256_setzero_ps();
    int64_t b = 0;
    for (; b + 8 <= nb; b += 8, xq32 += 256) {
        const uint8_t *pw = w + b * 34;
        hy_prefetch_span(pw, 8 * 34);
        const __m256 s = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)pw)), _mm256_loadu_ps(dx + b));
#if HY_X86_VNNI
        accc = _mm256_fmadd_ps(s, _mm256_loadu_ps(corr + b), accc);
#endif
        const __m512 s16 = _mm512_castps256_ps512(s);
        for (int j = 0; j < 4; j++) {
            const __m512i v = _mm512_loadu_si512((const void *)(pw + 16 + 64 * j));
            const __m512i y = _mm512_loadu_si512((const void *)(xq32 + 64 * j));
#if HY_X86_VNNI
            const __m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_xor_si512(v, _mm512_set1_epi8((char)0x80)), y);
#else
            const __m512i ys = _mm512_mask_sub_epi8(y, _mm512_movepi8_mask(v), _mm512_setzero_si512(), y);
            const __m512i p = _mm512_madd_epi16(_mm512_maddubs_epi16(_mm512_abs_epi8(v), ys), _mm512_set1_epi16(1));
#endif
            const __m512 sv = _mm512_permutexvar_ps(_mm512_add_epi32(lanes8, _mm512_set1_epi32(2 * j)), s16);
            acc[j & 1] = _mm512_fmadd_ps(sv, _mm512_cvtepi32_ps(p), acc[j & 1]);
        }
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(acc[0], acc[1])) + hy_hsum_ps(accc) +
           hy_q0_row_tail(1, w, b, nb, x, dx, corr);
}

#define HY_ROW_Q45_K hy_x512_row_q45_K
#else
#define HY_ROW_Q45_K hy_x86_row_q45_K
#define HY_X512_X8 0
#endif

/* Q6_K row times a Q8_K row. */
HY_INLINE float hy_x86_row_q6_K(const uint8_t *pw, const uint8_t *px, int64_t nb) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), m3 = _mm256_set1_epi8(3);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++, pw += 210, px += 292) {
        hy_prefetch_span(pw, 210);
        const __m128i sc8 = _mm_loadu_si128((const __m128i *)(pw + HY_Q6_K_SCALES));
        const __m256i sc16 = _mm256_cvtepi8_epi16(sc8); /* 16 scales as int16 */
        /* the -32 offset: 32 * sum_j sc_j * bsum_j */
        const __m256i corr = _mm256_madd_epi16(sc16, _mm256_loadu_si256((const __m256i *)(px + HY_Q8_K_BSUMS)));
        __m256i sumi = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(corr, 5));
        const uint8_t *ql = pw + HY_Q6_K_QL, *qh = pw + HY_Q6_K_QH;
        const int8_t *y = (const int8_t *)(px + HY_Q8_K_QS);
        for (int h = 0; h < 2; h++, ql += 64, qh += 32, y += 128) {
            /* this half's 8 scales in both lanes; vector k takes scale 2k in the
             * low lane (elements 0..15 of its 32) and 2k+1 in the high lane */
            const __m256i s = h == 0 ? _mm256_permute4x64_epi64(sc16, 0x44) : _mm256_permute4x64_epi64(sc16, 0xEE);
            const __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
            const __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
            const __m256i hb = _mm256_loadu_si256((const __m256i *)qh);
            const __m256i q1 = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(hb, m3), 4));
            const __m256i q2 = _mm256_or_si256(_mm256_and_si256(l1, m4),
                                               _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2), m3), 4));
            const __m256i q3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                                               _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 4), m3), 4));
            const __m256i q4 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                               _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 6), m3), 4));
            const __m256i qv[4] = { q1, q2, q3, q4 };
            for (int k = 0; k < 4; k++) {
                const __m256i m = _mm256_setr_epi8(4 * k, 4 * k + 1, 4 * k, 4 * k + 1, 4 * k, 4 * k + 1, 4 * k, 4 * k + 1,
                                                   4 * k, 4 * k + 1, 4 * k, 4 * k + 1, 4 * k, 4 * k + 1, 4 * k, 4 * k + 1,
                                                   4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3,
                                                   4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3,
                                                   4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3);
                const __m256i p = _mm256_maddubs_epi16(qv[k], _mm256_loadu_si256((const __m256i *)(y + 32 * k)));
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, _mm256_shuffle_epi8(s, m)));
            }
        }
        const float d = hy_f16_at(pw + HY_Q6_K_D) * hy_load_f32(px + HY_Q8_K_D);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    return hy_hsum_ps(acc);
}

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
#define HY_ROW_Q6_K hy_x512_row_q6_K
#else
#define HY_ROW_Q6_K hy_x86_row_q6_K
#endif

/* ---- float rows (activations are F32) ---- */

HY_INLINE float hy_x86_row_f32(const float *a, const float *x, int64_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        hy_prefetch_span((const uint8_t *)(a + i), 128);
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(x + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(x + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(x + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(x + i + 24), s3);
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(x + i), s0);
    float sum = hy_hsum_ps(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    for (; i < n; i++) sum += a[i] * x[i];
    return sum;
}

/* 8 F16 (HALF 1) or BF16 (HALF 0) values at p as floats */
HY_INLINE __m256 hy_load8_16(int HALF, const uint8_t *p) {
    const __m128i v = _mm_loadu_si128((const __m128i *)p);
    if (HALF) return _mm256_cvtph_ps(v);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(v), 16));
}

HY_INLINE float hy_x86_row_16(int HALF, const uint8_t *a, const float *x, int64_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        hy_prefetch_span(a + 2 * i, 64);
        s0 = _mm256_fmadd_ps(hy_load8_16(HALF, a + 2 * i), _mm256_loadu_ps(x + i), s0);
        s1 = _mm256_fmadd_ps(hy_load8_16(HALF, a + 2 * i + 16), _mm256_loadu_ps(x + i + 8), s1);
        s2 = _mm256_fmadd_ps(hy_load8_16(HALF, a + 2 * i + 32), _mm256_loadu_ps(x + i + 16), s2);
        s3 = _mm256_fmadd_ps(hy_load8_16(HALF, a + 2 * i + 48), _mm256_loadu_ps(x + i + 24), s3);
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(hy_load8_16(HALF, a + 2 * i), _mm256_loadu_ps(x + i), s0);
    float sum = hy_hsum_ps(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    for (; i < n; i++) sum += (HALF ? hy_f16_at(a + 2 * i) : hy_bf16_to_float(hy_load_u16(a + 2 * i))) * x[i];
    return sum;
}

#endif
