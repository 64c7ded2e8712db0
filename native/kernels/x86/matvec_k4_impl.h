/*
 * matvec_k4_impl.h — AVX-512 decode kernel for Q4_K / Q5_K weights: four
 * rows per pass. Included by matvec_impl.h (AVX-512 units only).
 *
 * Why four rows: in decode the per-block bookkeeping of a K-quant row (unpack
 * the 6-bit scales and mins, convert d and dmin, the mins term, the float
 * accumulation) cost as many instructions as the 256 products themselves
 * (hy_x512_rows_q45_K with one row: ~59 instructions per block, 28 of them
 * the products). Here the four rows' 16-byte block heads (d, dmin, scales[12])
 * sit in the four 128-bit lanes of one zmm, so the unpacking, the d / dmin
 * conversion and the mins term are done once for four rows, and each
 * activation vector is loaded once for four rows. With VNNI the scale
 * multiply and the accumulation are one vpdpwssd.
 *
 * Q4_K products: one 64-byte load holds quant chunks 2h and 2h + 1; its low
 * nibbles are sub-blocks 4h and 4h + 2, its high nibbles 4h + 1 and 4h + 3,
 * each matched by an activation vector gathered once per block for the four
 * rows. vpdpbusd gives each sub-block's 4-product sums in int32 lanes, one
 * pack makes them int16 (exact: at most 4 * 15 * 128), and one vpdpwssd
 * multiplies by the sub-block scales and accumulates: per row and block 19
 * vector operations instead of 23, and the 2-thread streaming rate rose ~5%
 * (q4_K 5632x2048 matrices, 400 MB: 18.0-18.4 -> 18.9-19.9 GB/s, interleaved).
 * Q5_K products are as in hy_x512_rows_q45_K: a 32-byte group of quants
 * broadcast to both halves of a zmm, the low half keeping the low nibbles
 * (sub-block 2c), the high half the high nibbles (2c+1), with the fifth bit
 * from qh; vpshufb picks each half's scale. All integer sums are exact; only
 * the float accumulation order differs from the scalar reference.
 *
 * Prefetch: the four rows are read in parallel, so "4 KiB ahead in each row"
 * would land in rows of the same group. The next group's four rows are one
 * contiguous run of 4 * rb bytes; while block b of this group is read, the
 * b-th quarter-row-sized piece of that run (4 * bs bytes) is fetched, front
 * to back, so memory sees one sequential stream at the rate the group is
 * consumed. Fetching block b of each of the next group's rows instead (four
 * places 1-3 KiB apart) streamed ~10% slower at 2 threads (q4_K 5632x2048
 * matrices, 400 MB: 18.0 vs 19.8 GB/s mean of three runs each) and decoded
 * tinyllama q4_k_m at 25.1-29.1 vs 28.5-29.8 tok/s, interleaved runs.
 */
#ifndef HYPERION_X86_MATVEC_K4_IMPL_H
#define HYPERION_X86_MATVEC_K4_IMPL_H

#include "kernels/x86/rows_impl.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
#define HY_X512_K4 1

/* out[0..3] = dot(row r, x) for the four Q4_K (HIGH_BIT 0) or Q5_K (HIGH_BIT
 * 1) rows at w, w + rb, w + 2 rb, w + 3 rb, over nb super-blocks of the Q8_K
 * activation px. */
HY_INLINE void hy_x512_rows4_q45_K(int HIGH_BIT, const uint8_t *w, size_t rb, const uint8_t *px, int64_t nb,
                                   float out[4]) {
    const int bs = HIGH_BIT ? 176 : 144, qs_off = HIGH_BIT ? HY_Q5_K_QS : HY_Q4_K_QS;
    const size_t pf_off = 4 * rb; /* the next group's rows */
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    const __m512i half = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 4, 4, 4, 4);
    /* block head per lane: u32 [d|dmin, u0, u1, u2] (u = the scales[12] words)
     * -> bytes [sc0-3, sc4-7, m0-3, m4-7] (see hy_k4_unpack_v) */
    const __m512i sh_a = _mm512_set4_epi32(4, 0, 0, 0), mask_a = _mm512_set4_epi32(0x0F0F0F0F, 0x3F3F3F3F, 0x0F0F0F0F, 0x3F3F3F3F);
    const __m512i sh_h = _mm512_set4_epi32(6, 32, 6, 32), mask_h = _mm512_set1_epi32(0x03030303);
    __m512i pick[4]; /* scale 2c in the low 256 bits, 2c+1 in the high */
    for (int c = 0; c < 4; c++)
        pick[c] = _mm512_mask_blend_epi32(0xFF00, _mm512_set1_epi16((short)((4 * c) | ((4 * c + 1) << 8))),
                                          _mm512_set1_epi16((short)((4 * c + 2) | ((4 * c + 3) << 8))));
    /* Q4_K path: for the pack of half h, scale words per 128-bit lane k:
     * [s(4h) x4, s(4h+1) x4] for k < 2, [s(4h+2) x4, s(4h+3) x4] for k >= 2
     * (as byte picks from the row's 8 int16 scales) */
    __m512i pick4[2];
    for (int h = 0; h < 2; h++) {
        uint8_t idx[64];
        for (int k = 0; k < 4; k++)
            for (int wd = 0; wd < 8; wd++) {
                const int sub = 4 * h + (k >= 2 ? 2 : 0) + (wd >= 4);
                idx[16 * k + 2 * wd] = (uint8_t)(2 * sub);
                idx[16 * k + 2 * wd + 1] = (uint8_t)(2 * sub + 1);
            }
        pick4[h] = _mm512_loadu_si512((const void *)idx);
    }
    /* d|dmin words of the four lanes -> the low 128 bits */
    const __m512i dd_idx = _mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    /* float lanes of [d0 m0 d1 m1 d2 m2 d3 m3]: the mins scale of rows (0, 1)
     * and (2, 3) placed where the mins products land (lanes 4-7 and 12-15) */
    const __m512i dmin_idx01 = _mm512_setr_epi32(1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m512i dmin_idx23 = _mm512_setr_epi32(5, 5, 5, 5, 5, 5, 5, 5, 7, 7, 7, 7, 7, 7, 7, 7);
    __m512 acc[4], accm01 = _mm512_setzero_ps(), accm23 = _mm512_setzero_ps();
    for (int r = 0; r < 4; r++) acc[r] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++, px += 292) {
        const uint8_t *p0 = w + b * bs;
        { /* block b's share of the next group's rows, as one sequential piece */
            const char *pf = (const char *)w + pf_off + (size_t)b * 4 * bs;
            for (int l = 0; l < 4 * bs; l += 64) _mm_prefetch(pf + l, _MM_HINT_T0);
        }
        const float dy = hy_load_f32(px + HY_Q8_K_D);
        /* sums of the activation's 8 sub-blocks, in int16 lanes 8-15 of each
         * 256-bit half (where the mins sit after the widening below) */
        const __m256i bsv = _mm256_loadu_si256((const __m256i *)(px + HY_Q8_K_BSUMS));
        const __m128i pairs = _mm_hadd_epi16(_mm256_castsi256_si128(bsv), _mm256_extracti128_si256(bsv, 1));
        const __m512i pz = _mm512_maskz_broadcast_i32x4(0xF0F0, pairs);
        /* the four block heads, one per 128-bit lane */
        __m512i head = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)p0));
        head = _mm512_inserti32x4(head, _mm_loadu_si128((const __m128i *)(p0 + rb)), 1);
        head = _mm512_inserti32x4(head, _mm_loadu_si128((const __m128i *)(p0 + 2 * rb)), 2);
        head = _mm512_inserti32x4(head, _mm_loadu_si128((const __m128i *)(p0 + 3 * rb)), 3);
        const __m512i a = _mm512_and_si512(_mm512_srlv_epi32(_mm512_shuffle_epi32(head, 0xED), sh_a), mask_a);
        const __m512i h = _mm512_and_si512(_mm512_srlv_epi32(_mm512_shuffle_epi32(head, 0xA5), sh_h), mask_h);
        const __m512i sm = _mm512_or_si512(a, _mm512_slli_epi32(h, 4)); /* per lane: sc0-7, m0-7 */
        const __m512i w01 = _mm512_cvtepu8_epi16(_mm512_castsi512_si256(sm));      /* rows 0, 1 */
        const __m512i w23 = _mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(sm, 1)); /* rows 2, 3 */
        /* [d0 dmin0 d1 dmin1 d2 dmin2 d3 dmin3] * dy */
        const __m256 dd = _mm256_mul_ps(_mm256_cvtph_ps(_mm512_castsi512_si128(_mm512_permutexvar_epi32(dd_idx, head))),
                                        _mm256_set1_ps(dy));
        const __m512 ddz = _mm512_castps256_ps512(dd);
        /* the mins term: sum_j m_j * pairs_j, times dmin * dy */
        accm01 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_madd_epi16(w01, pz)), _mm512_permutexvar_ps(dmin_idx01, ddz), accm01);
        accm23 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_madd_epi16(w23, pz)), _mm512_permutexvar_ps(dmin_idx23, ddz), accm23);
        /* each row's 8 scales (int16) in every 128-bit lane */
        __m512i s4[4], sumi[4], hb[4];
        s4[0] = _mm512_shuffle_i32x4(w01, w01, 0x00);
        s4[1] = _mm512_shuffle_i32x4(w01, w01, 0xAA);
        s4[2] = _mm512_shuffle_i32x4(w23, w23, 0x00);
        s4[3] = _mm512_shuffle_i32x4(w23, w23, 0xAA);
        for (int r = 0; r < 4; r++) {
            sumi[r] = _mm512_setzero_si512();
            hb[r] = HIGH_BIT ? _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(p0 + r * rb + HY_Q5_K_QH)))
                             : _mm512_setzero_si512();
        }
        const int8_t *y = (const int8_t *)(px + HY_Q8_K_QS);
        if (!HIGH_BIT) {
            /* Q4_K: 64 quant bytes (chunks 2h, 2h + 1) per load; their low
             * nibbles are sub-blocks 4h and 4h + 2, the high ones 4h + 1 and
             * 4h + 3, matched by activations gathered once for the four rows */
            __m512i ylo[2], yhi[2];
            for (int h = 0; h < 2; h++) {
                const int8_t *yh = y + 128 * h;
                ylo[h] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)yh)),
                                            _mm256_loadu_si256((const __m256i *)(yh + 64)), 1);
                yhi[h] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(yh + 32))),
                                            _mm256_loadu_si256((const __m256i *)(yh + 96)), 1);
            }
            for (int r = 0; r < 4; r++) {
                const uint8_t *q = p0 + r * rb + qs_off;
                for (int h = 0; h < 2; h++) {
                    const __m512i v = _mm512_loadu_si512((const void *)(q + 64 * h));
                    /* int32 lanes: 0-7 sub-block 4h (lo) / 4h+1 (hi), 8-15 sub-block 4h+2 / 4h+3 */
                    const __m512i lo = hy_dot512_u8s8(_mm512_setzero_si512(), _mm512_and_si512(v, m4), ylo[h]);
                    const __m512i hi = hy_dot512_u8s8(_mm512_setzero_si512(),
                                                      _mm512_and_si512(_mm512_srli_epi16(v, 4), m4), yhi[h]);
                    /* |lane| <= 4 * 15 * 128: exact as int16. Per 128-bit lane k
                     * the pack holds 4 words of lo then 4 of hi: sub-blocks
                     * (4h, 4h+1) for k < 2, (4h+2, 4h+3) for k >= 2 */
                    sumi[r] = hy_x512_madd_acc(sumi[r], _mm512_packs_epi32(lo, hi), _mm512_shuffle_epi8(s4[r], pick4[h]));
                }
            }
        } else {
            for (int c = 0; c < 4; c++) {
                const __m512i yv = _mm512_loadu_si512((const void *)(y + 64 * c));
                for (int r = 0; r < 4; r++) {
                    const __m512i qv = hy_x512_k45_chunk(HIGH_BIT, p0 + r * rb + qs_off, c, hb[r], half, m4);
                    sumi[r] = hy_x512_madd_acc(sumi[r], _mm512_maddubs_epi16(qv, yv), _mm512_shuffle_epi8(s4[r], pick[c]));
                }
            }
        }
        for (int r = 0; r < 4; r++)
            acc[r] = _mm512_fmadd_ps(_mm512_permutexvar_ps(_mm512_set1_epi32(2 * r), ddz), _mm512_cvtepi32_ps(sumi[r]), acc[r]);
    }
    /* the mins terms: rows 0 / 2 in lanes 4-7 of accm01 / accm23, rows 1 / 3
     * in lanes 12-15 (the other lanes hold zeros) */
    float m01[16], m23[16];
    _mm512_storeu_ps(m01, accm01);
    _mm512_storeu_ps(m23, accm23);
    const float mins[4] = { m01[4] + m01[5] + m01[6] + m01[7], m01[12] + m01[13] + m01[14] + m01[15],
                            m23[4] + m23[5] + m23[6] + m23[7], m23[12] + m23[13] + m23[14] + m23[15] };
    for (int r = 0; r < 4; r++) out[r] = _mm512_reduce_add_ps(acc[r]) - mins[r];
}

#else
#define HY_X512_K4 0
#endif

#endif /* HYPERION_X86_MATVEC_K4_IMPL_H */
