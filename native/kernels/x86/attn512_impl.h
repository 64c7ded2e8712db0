/*
 * attn512_impl.h — AVX-512 forms of the grouped attention kernels (several
 * query heads sharing one KV head; see the 256-bit forms in ops_impl.h, which
 * includes this file in AVX-512 units only).
 *
 * Same plan as the 256-bit forms: a block of cached rows is converted to
 * float once, into a stack buffer that stays in L1, and every head of the
 * group reads it from there. With 16 floats per vector the blocks are 16
 * positions, a head row of 64 is 4 vectors instead of 8, and the scores of a
 * block come out of one 16-way transpose-add. Head sizes that are not a
 * multiple of 16 (or above HY_ATT_MAX_HD) use the 256-bit forms. The products
 * per head and position are the same as the per-head reference; only the
 * order of the float sums differs.
 */
#ifndef HYPERION_X86_ATTN512_IMPL_H
#define HYPERION_X86_ATTN512_IMPL_H

#define HY_ATT512_BLOCK 16

/* 16 elements of a K/V row: F32 (HALF 0) or F16 (HALF 1) */
HY_INLINE __m512 kv_load16(int HALF, const uint8_t *row, int64_t d) {
    if (HALF) return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(row + 2 * d)));
    return _mm512_loadu_ps((const float *)(const void *)(row + 4 * d));
}

/* rows [0, n) of the cache at src -> floats at dst (row i at dst + i * hd,
 * hd a multiple of 16), prefetching HY_ATT_PF_ROWS rows ahead as
 * kv_rows_to_f32 does */
HY_INLINE void kv_rows_to_f32_x16(int HALF, float *dst, const uint8_t *src, size_t stride, int64_t hd, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        const uint8_t *row = src + (size_t)i * stride;
        kv_prefetch_ahead(HALF, row, stride, hd);
        for (int64_t d = 0; d < hd; d += 16) _mm512_storeu_ps(dst + i * hd + d, kv_load16(HALF, row, d));
    }
}

/* [sum of a0's lanes, ..., sum of a15's lanes] */
HY_INLINE __m512 hy_hsum16_ps(const __m512 a[16]) {
    __m512 b[8], c[4];
    for (int k = 0; k < 8; k++) /* rows 2k (low 256 bits), 2k+1 (high): 8 partial sums each */
        b[k] = _mm512_add_ps(_mm512_shuffle_f32x4(a[2 * k], a[2 * k + 1], 0x44),
                             _mm512_shuffle_f32x4(a[2 * k], a[2 * k + 1], 0xEE));
    for (int k = 0; k < 4; k++) /* rows 4k .. 4k+3 in 128-bit lanes 0..3: 4 partial sums each */
        c[k] = _mm512_add_ps(_mm512_shuffle_f32x4(b[2 * k], b[2 * k + 1], 0x88),
                             _mm512_shuffle_f32x4(b[2 * k], b[2 * k + 1], 0xDD));
    const __m512 e0 = _mm512_add_ps(_mm512_unpacklo_ps(c[0], c[1]), _mm512_unpackhi_ps(c[0], c[1]));
    const __m512 e1 = _mm512_add_ps(_mm512_unpacklo_ps(c[2], c[3]), _mm512_unpackhi_ps(c[2], c[3]));
    const __m512d e0d = _mm512_castps_pd(e0), e1d = _mm512_castps_pd(e1);
    /* lane 4q + j holds row 4j + q */
    const __m512 f = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(e0d, e1d)),
                                   _mm512_castpd_ps(_mm512_unpackhi_pd(e0d, e1d)));
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    return _mm512_permutexvar_ps(order, f);
}

/* Both kernels below take the head size as HD and are instantiated with the
 * constants 64 and 128, the head sizes of the llama-family files here
 * (HY_ATT_WITH_CONST_HD, ops_impl.h): with HD a run-time value the compiler kept 16 row addresses in registers
 * for the 16 accumulators, ran out and spilled them to the stack; with HD
 * constant the rows are fixed offsets from one base. Scores of 8 heads x 544
 * positions in cache, three interleaved runs: 13.5, 11.8, 12.2 us before,
 * 13.3, 10.7, 10.1 after; decode attention thread time over 64 tinyllama
 * tokens 262-290 -> 232-263 ms (four runs each, scores and values together). */

HY_INLINE void scores_x16(int HALF, int64_t HD, float *s, size_t s_stride, const float *q, size_t q_stride,
                          int64_t n_heads, const uint8_t *k, size_t stride, int64_t n_kv, float scale) {
    float kb[HY_ATT512_BLOCK * HY_ATT_MAX_HD];
    const __m512 sc = _mm512_set1_ps(scale);
    int64_t t = 0;
    for (; t + HY_ATT512_BLOCK <= n_kv; t += HY_ATT512_BLOCK) {
        kv_rows_to_f32_x16(HALF, kb, k + (size_t)t * stride, stride, HD, HY_ATT512_BLOCK);
        for (int64_t g = 0; g < n_heads; g++) {
            const float *qg = q + (size_t)g * q_stride;
            __m512 a[16];
            for (int i = 0; i < 16; i++) a[i] = _mm512_setzero_ps();
            for (int64_t d = 0; d < HD; d += 16) {
                const __m512 qv = _mm512_loadu_ps(qg + d);
                for (int i = 0; i < 16; i++) a[i] = _mm512_fmadd_ps(qv, _mm512_loadu_ps(kb + i * HD + d), a[i]);
            }
            _mm512_storeu_ps(s + (size_t)g * s_stride + t, _mm512_mul_ps(hy_hsum16_ps(a), sc));
        }
    }
    if (t < n_kv) /* the last positions (fewer than a block): the 256-bit form */
        scores_group(HALF, s + t, s_stride, q, q_stride, n_heads, k + (size_t)t * stride, stride, HD, n_kv - t, scale);
}

HY_INLINE void scores_group_x16(int HALF, float *s, size_t s_stride, const float *q, size_t q_stride, int64_t n_heads,
                                const uint8_t *k, size_t stride, int64_t hd, int64_t n_kv, float scale) {
    if (hd % 16 == 0 && hd <= HY_ATT_MAX_HD)
        HY_ATT_WITH_CONST_HD(hd, scores_x16(HALF, HDC, s, s_stride, q, q_stride, n_heads, k, stride, n_kv, scale));
    else
        scores_group(HALF, s, s_stride, q, q_stride, n_heads, k, stride, hd, n_kv, scale);
}

/* out[g, d:d+64] += sum over the block's rows i of p[g, i] * vb[i, d:d+64], for
 * heads g and g + 1 (G2 1) or head g alone (G2 0). Two heads per sweep give 8
 * independent sums instead of 4 (one head's 4 sums wait on the FMA latency
 * every row), and each row load serves both (hot cache, 8 heads, 544
 * positions: 9.5 -> 8.1 us). The row is loaded into registers once: with
 * the loads folded into the multiply-adds, each row vector was read twice
 * and the loads, not the multiply-adds, set the pace. */
HY_INLINE void values_x16_cols64(int G2, float *o, size_t out_stride, const float *pg, size_t p_stride,
                                 const float *vb, int64_t HD, int64_t d, int64_t rows) {
    float *o2 = G2 ? o + out_stride : o; /* the second head's row (only read and written with G2) */
    const float *pg2 = G2 ? pg + p_stride : pg;
    __m512 a0 = _mm512_loadu_ps(o + d), a1 = _mm512_loadu_ps(o + d + 16);
    __m512 a2 = _mm512_loadu_ps(o + d + 32), a3 = _mm512_loadu_ps(o + d + 48);
    __m512 b0 = _mm512_setzero_ps(), b1 = b0, b2 = b0, b3 = b0;
    if (G2) {
        b0 = _mm512_loadu_ps(o2 + d), b1 = _mm512_loadu_ps(o2 + d + 16);
        b2 = _mm512_loadu_ps(o2 + d + 32), b3 = _mm512_loadu_ps(o2 + d + 48);
    }
    for (int64_t i = 0; i < rows; i++) {
        const float *row = vb + i * HD + d;
        __m512 r0 = _mm512_loadu_ps(row), r1 = _mm512_loadu_ps(row + 16);
        __m512 r2 = _mm512_loadu_ps(row + 32), r3 = _mm512_loadu_ps(row + 48);
        if (G2) __asm__("" : "+v"(r0), "+v"(r1), "+v"(r2), "+v"(r3)); /* keep them in registers */
        const __m512 pt = _mm512_set1_ps(pg[i]);
        a0 = _mm512_fmadd_ps(pt, r0, a0);
        a1 = _mm512_fmadd_ps(pt, r1, a1);
        a2 = _mm512_fmadd_ps(pt, r2, a2);
        a3 = _mm512_fmadd_ps(pt, r3, a3);
        if (G2) {
            const __m512 pt2 = _mm512_set1_ps(pg2[i]);
            b0 = _mm512_fmadd_ps(pt2, r0, b0);
            b1 = _mm512_fmadd_ps(pt2, r1, b1);
            b2 = _mm512_fmadd_ps(pt2, r2, b2);
            b3 = _mm512_fmadd_ps(pt2, r3, b3);
        }
    }
    _mm512_storeu_ps(o + d, a0);
    _mm512_storeu_ps(o + d + 16, a1);
    _mm512_storeu_ps(o + d + 32, a2);
    _mm512_storeu_ps(o + d + 48, a3);
    if (G2) {
        _mm512_storeu_ps(o2 + d, b0);
        _mm512_storeu_ps(o2 + d + 16, b1);
        _mm512_storeu_ps(o2 + d + 32, b2);
        _mm512_storeu_ps(o2 + d + 48, b3);
    }
}

/* the same for 16 columns (the rest of a head size that is not a multiple of 64) */
HY_INLINE void values_x16_cols16(int G2, float *o, size_t out_stride, const float *pg, size_t p_stride,
                                 const float *vb, int64_t HD, int64_t d, int64_t rows) {
    float *o2 = G2 ? o + out_stride : o;
    const float *pg2 = G2 ? pg + p_stride : pg;
    __m512 a0 = _mm512_loadu_ps(o + d), b0 = G2 ? _mm512_loadu_ps(o2 + d) : _mm512_setzero_ps();
    for (int64_t i = 0; i < rows; i++) {
        const __m512 r0 = _mm512_loadu_ps(vb + i * HD + d);
        a0 = _mm512_fmadd_ps(_mm512_set1_ps(pg[i]), r0, a0);
        if (G2) b0 = _mm512_fmadd_ps(_mm512_set1_ps(pg2[i]), r0, b0);
    }
    _mm512_storeu_ps(o + d, a0);
    if (G2) _mm512_storeu_ps(o2 + d, b0);
}

HY_INLINE void values_x16(int HALF, int64_t HD, float *out, size_t out_stride, const float *p, size_t p_stride,
                          int64_t n_heads, const uint8_t *v, size_t stride, int64_t n_kv) {
    float vb[HY_ATT512_BLOCK * HY_ATT_MAX_HD];
    for (int64_t g = 0; g < n_heads; g++) memset(out + (size_t)g * out_stride, 0, sizeof(float) * (size_t)HD);
    for (int64_t t = 0; t < n_kv; t += HY_ATT512_BLOCK) {
        const int64_t rows = n_kv - t < HY_ATT512_BLOCK ? n_kv - t : HY_ATT512_BLOCK;
        kv_rows_to_f32_x16(HALF, vb, v + (size_t)t * stride, stride, HD, rows);
        int64_t g = 0;
        for (; g + 2 <= n_heads; g += 2) {
            float *o = out + (size_t)g * out_stride;
            const float *pg = p + (size_t)g * p_stride + t;
            int64_t d = 0;
            for (; d + 64 <= HD; d += 64) values_x16_cols64(1, o, out_stride, pg, p_stride, vb, HD, d, rows);
            for (; d < HD; d += 16) values_x16_cols16(1, o, out_stride, pg, p_stride, vb, HD, d, rows);
        }
        for (; g < n_heads; g++) {
            float *o = out + (size_t)g * out_stride;
            const float *pg = p + (size_t)g * p_stride + t;
            int64_t d = 0;
            for (; d + 64 <= HD; d += 64) values_x16_cols64(0, o, out_stride, pg, p_stride, vb, HD, d, rows);
            for (; d < HD; d += 16) values_x16_cols16(0, o, out_stride, pg, p_stride, vb, HD, d, rows);
        }
    }
}

HY_INLINE void values_group_x16(int HALF, float *out, size_t out_stride, const float *p, size_t p_stride,
                                int64_t n_heads, const uint8_t *v, size_t stride, int64_t hd, int64_t n_kv) {
    if (hd % 16 == 0 && hd <= HY_ATT_MAX_HD)
        HY_ATT_WITH_CONST_HD(hd, values_x16(HALF, HDC, out, out_stride, p, p_stride, n_heads, v, stride, n_kv));
    else
        values_group(HALF, out, out_stride, p, p_stride, n_heads, v, stride, hd, n_kv);
}

#endif /* HYPERION_X86_ATTN512_IMPL_H */
