/*
 * kernels.h — the kernel dispatch table (internal).
 *
 * Kernels come in groups ("vec", ...). Each group has one table type listing its
 * functions, and one table per instruction set: a scalar reference (always), and
 * AVX2 / AVX-512 versions (x86-64) or NEON versions (aarch64) compiled in their
 * own units with their own flags. The
 * table in use is chosen from the CPU's features once; hyperionEnableSIMD can
 * switch a group back to the scalar reference.
 *
 * To add a group: a table type here, its tables in scalar/, avx2/, avx512/,
 * neon/, a row in dispatch.c's group list.
 */
#ifndef HYPERION_KERNELS_INTERNAL_H
#define HYPERION_KERNELS_INTERNAL_H

#include "core/internal.h"

typedef enum hy_kernel_group {
    HY_KGROUP_VEC = 0,
    HY_KGROUP_QUANT,     /* "quant": activation quantizers, row dot products */
    HY_KGROUP_MATMUL,    /* "matmul": matrix-vector and matrix-matrix products */
    HY_KGROUP_OPS,       /* "ops": rmsnorm, softmax, SwiGLU, rope, add */
    HY_KGROUP_ATTENTION, /* "attention": q.K^T, softmax(s).V over the KV cache, KV stores */
    HY_KGROUP_COUNT
} hy_kernel_group;

/* The table of `group` in use now. Never NULL. */
const void *hy_kernel_table(hy_kernel_group group);

/* The table of `group` for one instruction set, or NULL when that version is
 * not compiled in or the CPU lacks it. Tests use it to compare versions. For
 * AVX-512 this is the VNNI variant when the group has one and the CPU has
 * AVX512-VNNI; for NEON, the dotprod (SDOT) variant when the group has one and
 * the CPU has the dot-product extension. */
const void *hy_kernel_table_for(hy_kernel_group group, hyperion_isa isa);

/* The AVX-512 table of `group` without VNNI instructions (the one used on
 * AVX-512 CPUs that lack VNNI), or NULL when the CPU lacks AVX-512. Tests use
 * it so both variants are held to the scalar reference on any AVX-512 CPU. */
const void *hy_kernel_table_avx512_novnni(hy_kernel_group group);

/* The NEON table of `group` without dot-product instructions (the one used on
 * AArch64 CPUs without the extension), or NULL when not compiled for aarch64.
 * Tests use it so both variants are held to the scalar reference. */
const void *hy_kernel_table_neon_nodotprod(hy_kernel_group group);

/* ---- group "vec": float vector primitives ---- */
typedef struct hy_vec_kernels {
    /* sum of a[i] * b[i], i < n */
    float (*dot_f32)(const float *a, const float *b, size_t n);
    /* y[i] += alpha * x[i] */
    void (*axpy_f32)(float *y, const float *x, float alpha, size_t n);
    /* x[i] *= alpha */
    void (*scale_f32)(float *x, float alpha, size_t n);
    /* max of x[i], n >= 1 */
    float (*max_f32)(const float *x, size_t n);
} hy_vec_kernels;

extern const hy_vec_kernels hy_vec_kernels_scalar;
#if defined(__x86_64__)
extern const hy_vec_kernels hy_vec_kernels_avx2;
extern const hy_vec_kernels hy_vec_kernels_avx512;
#endif
#if defined(__aarch64__)
extern const hy_vec_kernels hy_vec_kernels_neon;
#endif

static inline const hy_vec_kernels *hy_vec(void) {
    return (const hy_vec_kernels *)hy_kernel_table(HY_KGROUP_VEC);
}

/* ---- weight types with kernels: a dense index for the tables ---- */
#include <stdint.h>

typedef enum hy_wtype {
    HY_W_F32 = 0, HY_W_F16, HY_W_BF16, HY_W_Q4_0, HY_W_Q8_0, HY_W_Q4_K, HY_W_Q5_K, HY_W_Q6_K,
    HY_W_COUNT
} hy_wtype;

/* The table index of a ggml type id, -1 when there are no kernels for it. */
int hy_wtype_of(uint32_t type);

/* ---- group "quant": activation quantizers and row dot products ---- */

/* Dot product of one weight row (n elements) with one activation row in the
 * format the weight type pairs with (see quant.h). n is a positive multiple of
 * the block size. */
typedef float (*hy_dot_fn)(const void *w, const void *x, int64_t n);

typedef struct hy_quant_kernels {
    hy_dot_fn dot[HY_W_COUNT];
    /* n floats -> n/32 Q8_0 blocks / n/256 Q8_K blocks; every version writes
     * the same bytes as the scalar reference */
    void (*quantize_q8_0)(const float *x, void *y, int64_t n);
    void (*quantize_q8_K)(const float *x, void *y, int64_t n);
} hy_quant_kernels;

extern const hy_quant_kernels hy_quant_kernels_scalar;
#if defined(__x86_64__)
extern const hy_quant_kernels hy_quant_kernels_avx2;
extern const hy_quant_kernels hy_quant_kernels_avx512;
extern const hy_quant_kernels hy_quant_kernels_avx512vnni;
#endif
#if defined(__aarch64__)
extern const hy_quant_kernels hy_quant_kernels_neon;
extern const hy_quant_kernels hy_quant_kernels_neon_dotprod;
#endif

static inline const hy_quant_kernels *hy_quant(void) {
    return (const hy_quant_kernels *)hy_kernel_table(HY_KGROUP_QUANT);
}

/* ---- group "matmul" ---- */

/* y[r] = dot(row r of w, xq) for r in [r0, r1). w: rows of row_bytes bytes, n
 * elements each; xq: one activation row; y indexed by absolute row. */
typedef void (*hy_matvec_fn)(const uint8_t *w, size_t row_bytes, int64_t n, const void *xq,
                             float *y, int64_t r0, int64_t r1);

/* Activation data a matvec kernel would otherwise make on each call, made
 * once per activation (n elements, xq) into prep (at most
 * HY_MATVEC_PREP_BYTES(n) bytes, 64-byte aligned), and the product that reads
 * it: the same numbers as the matvec kernel it stands for. */
typedef void (*hy_matvec_prepare_fn)(int64_t n, const void *xq, void *prep);
typedef void (*hy_matvec_prepped_fn)(const uint8_t *w, size_t row_bytes, int64_t n, const void *xq, const void *prep,
                                     float *y, int64_t r0, int64_t r1);

/* Every table's prep for rows of n elements fits in this many bytes (x86:
 * 8 bytes per block of 32, rounded up to 64, and on AVX-512 32 per block
 * more for the activation's quants in the row kernel's order). */
#define HY_MATVEC_PREP_BYTES(n) ((size_t)(n) / 32 * 40 + 64)

/* y[t * y_stride + r] = dot(row r of w, activation row t) for t < n_tokens and
 * r in [r0, r1). xq: n_tokens rows of xq_row_bytes bytes. scratch: NULL, or at
 * least matmul_scratch(wt, n, n_tokens) bytes of writable, 64-byte aligned
 * memory the kernel may use while it runs; with NULL the kernel takes a path
 * that needs none (slower). */
typedef void (*hy_matmul_fn)(const uint8_t *w, size_t row_bytes, int64_t n, const void *xq,
                             size_t xq_row_bytes, int64_t n_tokens, float *y, int64_t y_stride,
                             int64_t r0, int64_t r1, void *scratch);

typedef struct hy_matmul_kernels {
    hy_matvec_fn matvec[HY_W_COUNT];
    hy_matmul_fn matmul[HY_W_COUNT];
    /* scratch bytes matmul[wt] can use for rows of n elements and n_tokens
     * tokens; 0 when it needs none */
    size_t (*matmul_scratch)(int wt, int64_t n, int64_t n_tokens);
    /* Weights in the HY_LAYOUT_X8 layout (repack.h: Q4_0, Q8_0), with the
     * scratch of matmul_scratch(wt, ...). NULL for a type this table has no
     * kernels for in the layout: matmul.c then puts rows back in GGUF order,
     * a piece at a time on the stack, for matvec[wt]. */
    hy_matvec_fn matvec_x8[HY_W_COUNT];
    hy_matmul_fn matmul_x8[HY_W_COUNT];
    /* matvec[wt] / matvec_x8[wt] with their per-call activation data made
     * once (hy_matvec_prepare, matmul.h); NULL where the kernel makes none
     * (always for a type without matvec_x8[wt] in the x8 layout) */
    hy_matvec_prepare_fn matvec_prepare[HY_W_COUNT], matvec_x8_prepare[HY_W_COUNT];
    hy_matvec_prepped_fn matvec_prepped[HY_W_COUNT], matvec_x8_prepped[HY_W_COUNT];
} hy_matmul_kernels;

extern const hy_matmul_kernels hy_matmul_kernels_scalar;
#if defined(__x86_64__)
extern const hy_matmul_kernels hy_matmul_kernels_avx2;
extern const hy_matmul_kernels hy_matmul_kernels_avx512;
extern const hy_matmul_kernels hy_matmul_kernels_avx512vnni;
#endif
#if defined(__aarch64__)
extern const hy_matmul_kernels hy_matmul_kernels_neon;
extern const hy_matmul_kernels hy_matmul_kernels_neon_dotprod;
#endif

static inline const hy_matmul_kernels *hy_matmul_table(void) {
    return (const hy_matmul_kernels *)hy_kernel_table(HY_KGROUP_MATMUL);
}

/* ---- group "ops": float ops of the graph (see ops.h for the contracts) ---- */
typedef struct hy_ops_kernels {
    void (*rmsnorm)(float *out, const float *x, const float *w, int64_t n, float eps);
    void (*softmax)(float *x, int64_t n);
    void (*silu_mul)(float *out, const float *gate, const float *up, int64_t n);
    void (*rope)(float *x, int64_t n_heads, int64_t head_dim, int64_t n_rot, const float *cos_t,
                 const float *sin_t);
    void (*add)(float *out, const float *a, const float *b, int64_t n);
} hy_ops_kernels;

extern const hy_ops_kernels hy_ops_kernels_scalar;
#if defined(__x86_64__)
extern const hy_ops_kernels hy_ops_kernels_avx2;
extern const hy_ops_kernels hy_ops_kernels_avx512;
#endif
#if defined(__aarch64__)
extern const hy_ops_kernels hy_ops_kernels_neon;
#endif

static inline const hy_ops_kernels *hy_ops(void) {
    return (const hy_ops_kernels *)hy_kernel_table(HY_KGROUP_OPS);
}

/* ---- group "attention" (see ops.h for the contracts) ---- */
typedef struct hy_attn_kernels {
    /* s[t] = scale * dot(q, row t of K), rows of head_dim elements, stride bytes apart */
    void (*scores_f32)(float *s, const float *q, const uint8_t *k, size_t stride, int64_t head_dim,
                       int64_t n_kv, float scale);
    void (*scores_f16)(float *s, const float *q, const uint8_t *k, size_t stride, int64_t head_dim,
                       int64_t n_kv, float scale);
    /* out[d] = sum over t of p[t] * V[t][d] */
    void (*values_f32)(float *out, const float *p, const uint8_t *v, size_t stride, int64_t head_dim,
                       int64_t n_kv);
    void (*values_f16)(float *out, const float *p, const uint8_t *v, size_t stride, int64_t head_dim,
                       int64_t n_kv);
    /* n floats -> n F16 values (round to nearest even) */
    void (*store_f16)(uint16_t *dst, const float *src, int64_t n);
    /* n_heads query heads sharing one KV head (grouped-query attention):
     * scores_group: s[g * s_stride + t] = scale * dot(q + g * q_stride, row t);
     * values_group: out[g * out_stride + d] = sum over t of p[g * p_stride + t] * V[t][d].
     * Each cached row is read (and converted) once for all the heads. NULL in a
     * table: the per-head kernels above are used once per head. */
    void (*scores_group_f32)(float *s, size_t s_stride, const float *q, size_t q_stride, int64_t n_heads,
                             const uint8_t *k, size_t stride, int64_t head_dim, int64_t n_kv, float scale);
    void (*scores_group_f16)(float *s, size_t s_stride, const float *q, size_t q_stride, int64_t n_heads,
                             const uint8_t *k, size_t stride, int64_t head_dim, int64_t n_kv, float scale);
    void (*values_group_f32)(float *out, size_t out_stride, const float *p, size_t p_stride, int64_t n_heads,
                             const uint8_t *v, size_t stride, int64_t head_dim, int64_t n_kv);
    void (*values_group_f16)(float *out, size_t out_stride, const float *p, size_t p_stride, int64_t n_heads,
                             const uint8_t *v, size_t stride, int64_t head_dim, int64_t n_kv);
} hy_attn_kernels;

extern const hy_attn_kernels hy_attn_kernels_scalar;
#if defined(__x86_64__)
extern const hy_attn_kernels hy_attn_kernels_avx2;
extern const hy_attn_kernels hy_attn_kernels_avx512;
#endif
#if defined(__aarch64__)
extern const hy_attn_kernels hy_attn_kernels_neon;
#endif

static inline const hy_attn_kernels *hy_attn(void) {
    return (const hy_attn_kernels *)hy_kernel_table(HY_KGROUP_ATTENTION);
}

#endif

