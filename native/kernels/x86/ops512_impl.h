/*
 * ops512_impl.h — AVX-512 forms of the two float ops that run the vector
 * exponential: softmax (every head's attention scores, every token) and
 * silu_mul (the feed-forward gate, n_ff values per token). ops_impl.h includes
 * this file in AVX-512 units only and puts these two in the ops table there.
 *
 * Same method and constants as the 256-bit forms (hy_exp_ps), 16 lanes at a
 * time, and the tail of a row goes through masked loads and stores instead of
 * a scalar loop. Both ran on one thread between the pool's runs; in tinyllama
 * decode after a 512-token prompt the 256-bit forms took ~1% of the time.
 */
#ifndef HYPERION_X86_OPS512_IMPL_H
#define HYPERION_X86_OPS512_IMPL_H

/* e^x, 16 lanes: hy_exp_ps's reduction, polynomial and clamping */
HY_INLINE __m512 hy_exp512_ps(__m512 x) {
    const __m512 lo = _mm512_set1_ps(-87.33654f), hi = _mm512_set1_ps(88.0f);
    const __mmask16 under = _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ);
    x = _mm512_min_ps(_mm512_max_ps(x, lo), hi);
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187e-06f), r);
    __m512 p = _mm512_set1_ps(1.0f / 5040.0f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    const __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    return _mm512_maskz_mul_ps((__mmask16)~under, p, _mm512_castsi512_ps(e));
}

/* lanes [0, n - i) of a row's last vector (n - i < 16) */
HY_INLINE __mmask16 tail_mask16(int64_t left) { return (__mmask16)((1u << left) - 1u); }

static void softmax_x16(float *x, int64_t n) {
    const __m512 minus_inf = _mm512_set1_ps(-INFINITY);
    __m512 m = minus_inf;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) m = _mm512_max_ps(m, _mm512_loadu_ps(x + i));
    if (i < n) m = _mm512_max_ps(m, _mm512_mask_loadu_ps(minus_inf, tail_mask16(n - i), x + i));
    const __m512 vmax = _mm512_set1_ps(_mm512_reduce_max_ps(m));
    __m512 vs = _mm512_setzero_ps();
    for (i = 0; i + 16 <= n; i += 16) {
        const __m512 e = hy_exp512_ps(_mm512_sub_ps(_mm512_loadu_ps(x + i), vmax));
        _mm512_storeu_ps(x + i, e);
        vs = _mm512_add_ps(vs, e);
    }
    if (i < n) {
        const __mmask16 k = tail_mask16(n - i);
        const __m512 e = _mm512_maskz_mov_ps(k, hy_exp512_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + i), vmax)));
        _mm512_mask_storeu_ps(x + i, k, e);
        vs = _mm512_add_ps(vs, e);
    }
    const __m512 vinv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(vs));
    for (i = 0; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), vinv));
    if (i < n) {
        const __mmask16 k = tail_mask16(n - i);
        _mm512_mask_storeu_ps(x + i, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, x + i), vinv));
    }
}

/* out = silu(gate) * up = gate / (1 + e^-gate) * up; out may alias gate or up */
HY_INLINE __m512 silu_mul16(__m512 g, __m512 up) {
    const __m512 e = hy_exp512_ps(_mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(g), _mm512_set1_epi32((int)0x80000000u))));
    return _mm512_mul_ps(_mm512_div_ps(g, _mm512_add_ps(_mm512_set1_ps(1.0f), e)), up);
}

static void silu_mul_x16(float *out, const float *gate, const float *up, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(out + i, silu_mul16(_mm512_loadu_ps(gate + i), _mm512_loadu_ps(up + i)));
    if (i < n) {
        const __mmask16 k = tail_mask16(n - i);
        _mm512_mask_storeu_ps(out + i, k, silu_mul16(_mm512_maskz_loadu_ps(k, gate + i), _mm512_maskz_loadu_ps(k, up + i)));
    }
}

#endif /* HYPERION_X86_OPS512_IMPL_H */
