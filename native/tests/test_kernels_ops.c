/* test_kernels_ops.c — the "ops" and "attention" groups: every SIMD version
 * against the scalar reference on odd sizes, the reference against direct
 * formulas, the rope pair convention and angles, softmax stability and masks,
 * and reading a strided F16 / F32 KV cache in place. */
#include "harness.h"
#include "kernels/kernels.h"
#include "kernels/ops.h"
#include "kernels/quant.h"
#include "kernels/types.h"

#include <stdint.h>
#include <stdlib.h>

static uint32_t rng_state = 99u;
static float rnd_float(void) { return hy_test_rand_float(&rng_state); }

static const size_t sizes[] = { 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 67, 127, 129, 1000, 4099 };
#define N_SIZES (sizeof sizes / sizeof sizes[0])

typedef struct { const char *name; const void *k; } table;
static int tables(hy_kernel_group g, table *out) {
    int n = 0;
    const void *t;
    if ((t = hy_kernel_table_for(g, HYPERION_ISA_AVX2))) out[n++] = (table){ "avx2", t };
    if ((t = hy_kernel_table_for(g, HYPERION_ISA_AVX512))) out[n++] = (table){ "avx512", t };
    if ((t = hy_kernel_table_for(g, HYPERION_ISA_NEON))) out[n++] = (table){ "neon", t };
    if (n == 0) printf("    (no SIMD version on this CPU: nothing to compare)\n");
    return n;
}

/* |a - b| <= rel * |b| + abs, reported with context */
static void near(const char *what, const char *isa, size_t n, size_t i, double a, double b, double rel, double abs_tol) {
    if (!(fabs(a - b) <= rel * fabs(b) + abs_tol))
        hy_test_fail(__FILE__, __LINE__, "%s %s n=%zu [%zu]: %.9g vs %.9g", isa, what, n, i, a, b);
}

HY_TEST(ops_simd_match_scalar_on_odd_sizes) {
    table t[3];
    const int nt = tables(HY_KGROUP_OPS, t);
    const hy_ops_kernels *ref = &hy_ops_kernels_scalar;
    for (size_t s = 0; s < N_SIZES; s++) {
        const size_t n = sizes[s];
        float *x = malloc(n * 4), *w = malloc(n * 4), *b = malloc(n * 4), *r1 = malloc(n * 4), *r2 = malloc(n * 4);
        for (size_t i = 0; i < n; i++) {
            x[i] = rnd_float() * 4.0f;
            w[i] = rnd_float();
            b[i] = rnd_float() * 10.0f;
        }
        for (int k = 0; k < nt; k++) {
            const hy_ops_kernels *o = t[k].k;
            /* rmsnorm: squares summed in double in both; the scale may differ
             * in its last bit, then two products: 3 ulp (3.6e-7 relative) */
            ref->rmsnorm(r1, x, w, (int64_t)n, 1e-5f);
            o->rmsnorm(r2, x, w, (int64_t)n, 1e-5f);
            for (size_t i = 0; i < n; i++) near("rmsnorm", t[k].name, n, i, r2[i], r1[i], 3.6e-7, 1e-30);
            ref->rmsnorm(r1, x, NULL, (int64_t)n, 1e-6f);
            o->rmsnorm(r2, x, NULL, (int64_t)n, 1e-6f);
            for (size_t i = 0; i < n; i++) near("rmsnorm (no weight)", t[k].name, n, i, r2[i], r1[i], 3.6e-7, 1e-30);
            /* softmax: the vector exp is within 2 ulp of expf, the sum is in
             * float (vs double): relative 1e-6 of each probability plus an
             * n-proportional share of the sum's rounding */
            memcpy(r1, b, n * 4);
            memcpy(r2, b, n * 4);
            ref->softmax(r1, (int64_t)n);
            o->softmax(r2, (int64_t)n);
            for (size_t i = 0; i < n; i++) near("softmax", t[k].name, n, i, r2[i], r1[i], 1e-6 + 1e-8 * n, 1e-37);
            /* silu(g) * up: exp within 2 ulp, then a division and a product: 1e-6 relative */
            ref->silu_mul(r1, x, b, (int64_t)n);
            o->silu_mul(r2, x, b, (int64_t)n);
            for (size_t i = 0; i < n; i++) near("silu_mul", t[k].name, n, i, r2[i], r1[i], 1e-6, 1e-30);
            /* add: exact */
            ref->add(r1, x, b, (int64_t)n);
            o->add(r2, x, b, (int64_t)n);
            for (size_t i = 0; i < n; i++) near("add", t[k].name, n, i, r2[i], r1[i], 0, 0);
        }
        free(x); free(w); free(b); free(r1); free(r2);
    }
}

HY_TEST(ops_reference_against_formulas) {
    float x[5] = { 1, -2, 3, -4, 0.5f }, w[5] = { 1, 1, 2, 0.5f, -1 }, out[5];
    hy_rmsnorm(out, x, w, 5, 0.0f);
    const double rms = sqrt((1 + 4 + 9 + 16 + 0.25) / 5.0);
    for (int i = 0; i < 5; i++) HY_CHECK_NEAR(out[i], x[i] / rms * w[i], 1e-6);
    /* softmax: large inputs do not overflow; -inf is masked to 0 */
    float s[4] = { 1000.0f, 999.0f, -INFINITY, 1000.0f };
    hy_softmax(s, 4);
    const double e1 = exp(-1.0), z = 2 + e1;
    HY_CHECK_NEAR(s[0], 1 / z, 1e-6);
    HY_CHECK_NEAR(s[1], e1 / z, 1e-6);
    HY_CHECK(s[2] == 0.0f);
    HY_CHECK_NEAR(s[3], 1 / z, 1e-6);
    float big[37];
    for (int i = 0; i < 37; i++) big[i] = i == 20 ? 0.0f : -INFINITY;
    hy_softmax(big, 37);
    for (int i = 0; i < 37; i++) HY_CHECK(big[i] == (i == 20 ? 1.0f : 0.0f));
    float g[3] = { -20.0f, 0.0f, 3.0f }, up[3] = { 1, 2, 3 };
    hy_silu_mul(out, g, up, 3);
    HY_CHECK_NEAR(out[0], -20.0 / (1 + exp(20.0)) * 1, 1e-12);
    HY_CHECK_NEAR(out[1], 0.0, 0.0);
    HY_CHECK_NEAR(out[2], 3.0 / (1 + exp(-3.0)) * 3, 1e-5);
}

HY_TEST(rope_pairs_and_angles) {
    /* pair convention: (x[2i], x[2i+1]) rotated by theta_i = pos * base^(-2i/n_rot) */
    const int64_t n_rot = 8, head_dim = 10, n_heads = 2, pos = 3;
    hy_rope_params p = { 10000.0f, 1.0f, NULL, 1.0f, 0.0f, { 0, 0 } };
    float c[4], s[4];
    hy_rope_cache(c, s, n_rot, pos, &p);
    for (int i = 0; i < 4; i++) {
        const double theta = pos * pow(10000.0, -2.0 * i / n_rot);
        HY_CHECK_NEAR(c[i], cos(theta), 2e-6);
        HY_CHECK_NEAR(s[i], sin(theta), 2e-6);
    }
    float x[20], orig[20];
    for (int i = 0; i < 20; i++) orig[i] = x[i] = (float)(i + 1);
    hy_rope(x, n_heads, head_dim, n_rot, c, s);
    for (int h = 0; h < n_heads; h++) {
        for (int i = 0; i < 4; i++) {
            const float x0 = orig[h * 10 + 2 * i], x1 = orig[h * 10 + 2 * i + 1];
            HY_CHECK_NEAR(x[h * 10 + 2 * i], x0 * c[i] - x1 * s[i], 1e-5);
            HY_CHECK_NEAR(x[h * 10 + 2 * i + 1], x0 * s[i] + x1 * c[i], 1e-5);
        }
        HY_CHECK(x[h * 10 + 8] == orig[h * 10 + 8] && x[h * 10 + 9] == orig[h * 10 + 9]); /* beyond n_rot: untouched */
    }
    /* position 0 is the identity; linear scaling halves the angles; freq
     * factors divide them */
    hy_rope_cache(c, s, n_rot, 0, &p);
    for (int i = 0; i < 4; i++) HY_CHECK(c[i] == 1.0f && s[i] == 0.0f);
    float ff[4] = { 1, 2, 4, 8 }, c2[4], s2[4];
    p.freq_scale = 0.5f;
    hy_rope_cache(c, s, n_rot, 6, &p);
    p.freq_scale = 1.0f;
    hy_rope_cache(c2, s2, n_rot, 3, &p);
    for (int i = 0; i < 4; i++) HY_CHECK_NEAR(c[i], c2[i], 1e-6);
    p.freq_factors = ff;
    hy_rope_cache(c, s, n_rot, 8, &p);
    for (int i = 0; i < 4; i++) {
        const double theta = 8 * pow(10000.0, -2.0 * i / n_rot) / ff[i];
        HY_CHECK_NEAR(s[i], sin(theta), 2e-6);
    }
    float dims[2];
    hy_rope_yarn_corr_dims(128, 4096, 10000.0f, 32.0f, 1.0f, dims);
    HY_CHECK(dims[0] >= 0 && dims[0] < dims[1] && dims[1] <= 127);
}

HY_TEST(rope_simd_matches_scalar) {
    table t[3];
    const int nt = tables(HY_KGROUP_OPS, t);
    static const int64_t dims[][3] = { { 1, 2, 2 }, { 3, 64, 64 }, { 2, 10, 6 }, { 5, 128, 128 }, { 4, 80, 78 }, { 1, 34, 34 } };
    for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++) {
        const int64_t heads = dims[d][0], hd = dims[d][1], n_rot = dims[d][2];
        float *x = malloc(sizeof(float) * heads * hd), *a = malloc(sizeof(float) * heads * hd), *b = malloc(sizeof(float) * heads * hd);
        float c[64], s[64];
        hy_rope_params p = { 500000.0f, 1.0f, NULL, 1.0f, 0.0f, { 0, 0 } };
        hy_rope_cache(c, s, n_rot, 1234, &p);
        for (int64_t i = 0; i < heads * hd; i++) x[i] = rnd_float() * 3;
        memcpy(a, x, sizeof(float) * heads * hd);
        hy_ops_kernels_scalar.rope(a, heads, hd, n_rot, c, s);
        for (int k = 0; k < nt; k++) {
            memcpy(b, x, sizeof(float) * heads * hd);
            ((const hy_ops_kernels *)t[k].k)->rope(b, heads, hd, n_rot, c, s);
            /* two products and a sum; a fused multiply-add may skip one
             * rounding: 2 ulp of the larger product (|x| <= 3) */
            for (int64_t i = 0; i < heads * hd; i++) near("rope", t[k].name, (size_t)hd, (size_t)i, b[i], a[i], 0, 3 * 2.4e-7);
        }
        free(x); free(a); free(b);
    }
}

/* count random cache values in [-1, 1], F16 (half) or F32 */
static void fill_cache(uint8_t *cache, int64_t count, int half) {
    for (int64_t i = 0; i < count; i++) {
        const float v = rnd_float();
        if (half) {
            const uint16_t h = hy_fp32_to_fp16(v);
            memcpy(cache + 2 * i, &h, 2);
        } else {
            memcpy(cache + 4 * i, &v, 4);
        }
    }
}

HY_TEST(attention_simd_matches_scalar_over_strided_cache) {
    table t[3];
    const int nt = tables(HY_KGROUP_ATTENTION, t);
    const hy_attn_kernels *ref = &hy_attn_kernels_scalar;
    static const int64_t head_dims[] = { 1, 7, 8, 33, 64, 80, 128 };
    static const int64_t kv_counts[] = { 1, 3, 5, 17, 100 };
    for (size_t hi = 0; hi < sizeof head_dims / sizeof head_dims[0]; hi++)
        for (size_t ki = 0; ki < sizeof kv_counts / sizeof kv_counts[0]; ki++)
            for (int half = 0; half < 2; half++) {
                const int64_t hd = head_dims[hi], n_kv = kv_counts[ki], heads = 3;
                const size_t es = half ? 2 : 4, stride = (size_t)(heads * hd) * es;
                uint8_t *cache = malloc(stride * (size_t)n_kv);
                float *q = malloc(sizeof(float) * hd), *p = malloc(sizeof(float) * n_kv);
                float *s1 = malloc(sizeof(float) * n_kv), *s2 = malloc(sizeof(float) * n_kv);
                float *o1 = malloc(sizeof(float) * hd), *o2 = malloc(sizeof(float) * hd);
                fill_cache(cache, heads * hd * n_kv, half);
                for (int64_t d = 0; d < hd; d++) q[d] = rnd_float();
                double psum = 0;
                for (int64_t i = 0; i < n_kv; i++) psum += (p[i] = fabsf(rnd_float()));
                const uint8_t *head1 = cache + (size_t)hd * es; /* the middle head of the interleaved cache */
                const uint32_t type = half ? HY_TYPE_F16 : HY_TYPE_F32;
                const float scale = 0.125f;
                (half ? ref->scores_f16 : ref->scores_f32)(s1, q, head1, stride, hd, n_kv, scale);
                (half ? ref->values_f16 : ref->values_f32)(o1, p, head1, stride, hd, n_kv);
                for (int k = 0; k < nt; k++) {
                    const hy_attn_kernels *a = t[k].k;
                    (half ? a->scores_f16 : a->scores_f32)(s2, q, head1, stride, hd, n_kv, scale);
                    (half ? a->values_f16 : a->values_f32)(o2, p, head1, stride, hd, n_kv);
                    /* float sums of products with |q|, |k| <= 1 (hd terms) and
                     * of p * v with sum p = psum (n_kv terms): (terms/8 + 8) eps */
                    for (int64_t i = 0; i < n_kv; i++)
                        near("scores", t[k].name, (size_t)hd, (size_t)i, s2[i], s1[i], 0, (hd / 8.0 + 8) * 1.2e-7 * hd * scale);
                    for (int64_t d = 0; d < hd; d++)
                        near("values", t[k].name, (size_t)n_kv, (size_t)d, o2[d], o1[d], 0, (n_kv / 8.0 + 8) * 1.2e-7 * psum);
                }
                /* the entry points read the same cache */
                hy_attn_scores(s2, q, head1, type, stride, hd, n_kv, scale);
                for (int64_t i = 0; i < n_kv; i++) HY_CHECK_NEAR(s2[i], s1[i], (hd / 8.0 + 8) * 1.2e-7 * hd * scale);
                free(cache); free(q); free(p); free(s1); free(s2); free(o1); free(o2);
            }
}

/* The grouped forms (several query heads over one KV head) against the
 * reference's per-head kernels, on odd head sizes and multiples of 16 (the
 * AVX-512 forms: 48, 64, 128), position counts around the 8- and 16-position
 * blocks, 1, 3 and 8 heads, strided q / scores / out, and a head wider than
 * the grouped kernels' buffer (264: the per-head fallback). */
HY_TEST(attention_group_matches_per_head_reference) {
    table t[3];
    const int nt = tables(HY_KGROUP_ATTENTION, t);
    const hy_attn_kernels *ref = &hy_attn_kernels_scalar;
    static const int64_t head_dims[] = { 1, 7, 33, 48, 64, 100, 128, 264 };
    static const int64_t kv_counts[] = { 1, 7, 8, 9, 16, 17, 33 };
    static const int64_t group_sizes[] = { 1, 3, 8 };
    for (size_t hi = 0; hi < sizeof head_dims / sizeof head_dims[0]; hi++)
        for (size_t ki = 0; ki < sizeof kv_counts / sizeof kv_counts[0]; ki++)
            for (size_t gi = 0; gi < sizeof group_sizes / sizeof group_sizes[0]; gi++)
                for (int half = 0; half < 2; half++) {
                    const int64_t hd = head_dims[hi], n_kv = kv_counts[ki], G = group_sizes[gi], kv_heads = 2;
                    const size_t es = half ? 2 : 4, stride = (size_t)(kv_heads * hd) * es;
                    const size_t q_stride = (size_t)hd + 3, s_stride = (size_t)n_kv + 5, o_stride = (size_t)hd + 1;
                    uint8_t *cache = malloc(stride * (size_t)n_kv);
                    float *q = malloc(sizeof(float) * q_stride * (size_t)G), *p = malloc(sizeof(float) * s_stride * (size_t)G);
                    float *s1 = malloc(sizeof(float) * s_stride * (size_t)G), *s2 = malloc(sizeof(float) * s_stride * (size_t)G);
                    float *o1 = malloc(sizeof(float) * o_stride * (size_t)G), *o2 = malloc(sizeof(float) * o_stride * (size_t)G);
                    fill_cache(cache, kv_heads * hd * n_kv, half);
                    for (size_t i = 0; i < q_stride * (size_t)G; i++) q[i] = rnd_float();
                    double psum = 0;
                    for (int64_t g = 0; g < G; g++) {
                        double sum = 0;
                        for (int64_t i = 0; i < n_kv; i++) sum += (p[(size_t)g * s_stride + i] = fabsf(rnd_float()));
                        if (sum > psum) psum = sum;
                    }
                    const uint8_t *head1 = cache + (size_t)hd * es; /* the second KV head of the interleaved cache */
                    const uint32_t type = half ? HY_TYPE_F16 : HY_TYPE_F32;
                    const float scale = 0.125f;
                    for (int64_t g = 0; g < G; g++) {
                        (half ? ref->scores_f16 : ref->scores_f32)(s1 + (size_t)g * s_stride, q + (size_t)g * q_stride, head1,
                                                                   stride, hd, n_kv, scale);
                        (half ? ref->values_f16 : ref->values_f32)(o1 + (size_t)g * o_stride, p + (size_t)g * s_stride, head1,
                                                                   stride, hd, n_kv);
                    }
                    const double s_tol = (hd / 8.0 + 8) * 1.2e-7 * hd * scale, o_tol = (n_kv / 8.0 + 8) * 1.2e-7 * psum;
                    for (int k = 0; k <= nt; k++) { /* every table, then the entry points */
                        for (size_t i = 0; i < s_stride * (size_t)G; i++) s2[i] = -7.0f;
                        for (size_t i = 0; i < o_stride * (size_t)G; i++) o2[i] = -7.0f;
                        const char *name = k < nt ? t[k].name : "entry point";
                        if (k < nt) {
                            const hy_attn_kernels *a = t[k].k;
                            if (!a->scores_group_f32) continue; /* no grouped forms (scalar, NEON): the entry points loop per head */
                            (half ? a->scores_group_f16 : a->scores_group_f32)(s2, s_stride, q, q_stride, G, head1, stride, hd, n_kv, scale);
                            (half ? a->values_group_f16 : a->values_group_f32)(o2, o_stride, p, s_stride, G, head1, stride, hd, n_kv);
                        } else {
                            hy_attn_scores_group(s2, s_stride, q, q_stride, G, head1, type, stride, hd, n_kv, scale);
                            hy_attn_values_group(o2, o_stride, p, s_stride, G, head1, type, stride, hd, n_kv);
                        }
                        for (int64_t g = 0; g < G; g++) {
                            for (int64_t i = 0; i < n_kv; i++)
                                near("scores_group", name, (size_t)hd, (size_t)(g * 1000 + i), s2[(size_t)g * s_stride + i],
                                     s1[(size_t)g * s_stride + i], 0, s_tol);
                            for (int64_t d = 0; d < hd; d++)
                                near("values_group", name, (size_t)n_kv, (size_t)(g * 1000 + d), o2[(size_t)g * o_stride + d],
                                     o1[(size_t)g * o_stride + d], 0, o_tol);
                            /* the gaps of the strided outputs are not written */
                            for (size_t i = (size_t)n_kv; i < s_stride; i++) HY_CHECK(s2[(size_t)g * s_stride + i] == -7.0f);
                            HY_CHECK(o2[(size_t)g * o_stride + (size_t)hd] == -7.0f);
                        }
                    }
                    free(cache); free(q); free(p); free(s1); free(s2); free(o1); free(o2);
                }
}

HY_TEST(kv_store_f16_is_exact) {
    table t[3];
    const int nt = tables(HY_KGROUP_ATTENTION, t);
    for (size_t s = 0; s < N_SIZES; s++) {
        const size_t n = sizes[s];
        float *x = malloc(n * 4);
        uint16_t *a = malloc(n * 2), *b = malloc(n * 2);
        for (size_t i = 0; i < n; i++) x[i] = rnd_float() * (i % 3 == 0 ? 70000.0f : 1e-4f);
        hy_attn_kernels_scalar.store_f16(a, x, (int64_t)n);
        for (size_t i = 0; i < n; i++) HY_CHECK_INT(a[i], hy_fp32_to_fp16(x[i]));
        for (int k = 0; k < nt; k++) {
            ((const hy_attn_kernels *)t[k].k)->store_f16(b, x, (int64_t)n);
            HY_CHECK(memcmp(a, b, n * 2) == 0);
        }
        hy_kv_store(b, HY_TYPE_F16, x, (int64_t)n);
        HY_CHECK(memcmp(a, b, n * 2) == 0);
        free(x); free(a); free(b);
    }
}
