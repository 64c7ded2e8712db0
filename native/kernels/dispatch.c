/*
 * dispatch.c — choosing each kernel group's instruction set.
 *
 * Code compiled with -mavx2 or -mavx512f (or, on aarch64, with
 * -march=armv8.2-a+dotprod) is reached only through a table returned here, and
 * a table is returned only when hyperionGetCpuFeatures says the CPU and the OS
 * support it, so no such instruction runs on a CPU without it.
 */
#include "kernels/kernels.h"

#include <stdatomic.h>
#include <string.h>

typedef struct group_entry {
    const char *name;
    const void *tables[4]; /* indexed by hyperion_isa */
    /* optional: the AVX-512 table using AVX512-VNNI, preferred over
     * tables[HYPERION_ISA_AVX512] when the CPU has VNNI */
    const void *avx512_vnni;
    /* optional: the NEON table using the dot-product extension (SDOT),
     * preferred over tables[HYPERION_ISA_NEON] when the CPU has it */
    const void *neon_dotprod;
} group_entry;

#if defined(__x86_64__)
#define X86_TABLES(prefix) &prefix##_avx2, &prefix##_avx512
#define X86_VNNI(prefix) &prefix##_avx512vnni
#else
#define X86_TABLES(prefix) NULL, NULL
#define X86_VNNI(prefix) NULL
#endif
#if defined(__aarch64__)
#define NEON_TABLE(prefix) &prefix##_neon
#define NEON_DOTPROD(prefix) &prefix##_neon_dotprod
#else
#define NEON_TABLE(prefix) NULL
#define NEON_DOTPROD(prefix) NULL
#endif

/* tables[] follows hyperion_isa: scalar, avx2, avx512, neon */
static const group_entry groups[HY_KGROUP_COUNT] = {
    [HY_KGROUP_VEC] = { "vec", { &hy_vec_kernels_scalar, X86_TABLES(hy_vec_kernels), NEON_TABLE(hy_vec_kernels) },
                        NULL, NULL },
    [HY_KGROUP_QUANT] = { "quant",
                          { &hy_quant_kernels_scalar, X86_TABLES(hy_quant_kernels), NEON_TABLE(hy_quant_kernels) },
                          X86_VNNI(hy_quant_kernels), NEON_DOTPROD(hy_quant_kernels) },
    [HY_KGROUP_MATMUL] = { "matmul",
                           { &hy_matmul_kernels_scalar, X86_TABLES(hy_matmul_kernels), NEON_TABLE(hy_matmul_kernels) },
                           X86_VNNI(hy_matmul_kernels), NEON_DOTPROD(hy_matmul_kernels) },
    [HY_KGROUP_OPS] = { "ops", { &hy_ops_kernels_scalar, X86_TABLES(hy_ops_kernels), NEON_TABLE(hy_ops_kernels) },
                        NULL, NULL },
    [HY_KGROUP_ATTENTION] = { "attention",
                              { &hy_attn_kernels_scalar, X86_TABLES(hy_attn_kernels), NEON_TABLE(hy_attn_kernels) },
                              NULL, NULL },
};
_Static_assert(HYPERION_ISA_SCALAR == 0 && HYPERION_ISA_AVX2 == 1 && HYPERION_ISA_AVX512 == 2 && HYPERION_ISA_NEON == 3,
               "group_entry.tables is indexed by hyperion_isa");

static const char *const group_names[HY_KGROUP_COUNT + 1] = { "vec", "quant", "matmul", "ops", "attention", NULL };

/* The instruction set each group uses now (set by ensure_initialised). */
static atomic_int group_isa[HY_KGROUP_COUNT];
static atomic_int group_simd_enabled[HY_KGROUP_COUNT];
static atomic_int initialised;

const char *hyperionIsaName(hyperion_isa isa) {
    switch (isa) {
    case HYPERION_ISA_SCALAR: return "scalar";
    case HYPERION_ISA_AVX2: return "avx2";
    case HYPERION_ISA_AVX512: return "avx512";
    case HYPERION_ISA_NEON: return "neon";
    }
    return "unknown";
}

static int isa_supported(hyperion_isa isa) {
    const hyperion_cpu_features *f = hyperionGetCpuFeatures();
    switch (isa) {
    case HYPERION_ISA_SCALAR: return 1;
    case HYPERION_ISA_AVX2: return f->avx2 && f->fma && f->f16c;
    case HYPERION_ISA_AVX512: return f->avx512f && f->avx512bw && f->avx512vl && f->avx2 && f->fma && f->f16c;
    case HYPERION_ISA_NEON: return f->neon;
    }
    return 0;
}

hyperion_isa hyperionBestIsa(void) {
    static const hyperion_isa order[] = { HYPERION_ISA_AVX512, HYPERION_ISA_AVX2, HYPERION_ISA_NEON };
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        /* compiled in for at least one group and supported by the CPU */
        for (int g = 0; g < HY_KGROUP_COUNT; g++)
            if (groups[g].tables[order[i]] && isa_supported(order[i])) return order[i];
    }
    return HYPERION_ISA_SCALAR;
}

/* The best version of one group this CPU can run. */
static hyperion_isa best_for_group(int g) {
    static const hyperion_isa order[] = { HYPERION_ISA_AVX512, HYPERION_ISA_AVX2, HYPERION_ISA_NEON };
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (groups[g].tables[order[i]] && isa_supported(order[i])) return order[i];
    return HYPERION_ISA_SCALAR;
}

static void ensure_initialised(void) {
    if (atomic_load_explicit(&initialised, memory_order_acquire)) return;
    for (int g = 0; g < HY_KGROUP_COUNT; g++) {
        int expected = 0;
        atomic_compare_exchange_strong(&group_simd_enabled[g], &expected, 1);
        atomic_store(&group_isa[g], (int)best_for_group(g));
    }
    atomic_store_explicit(&initialised, 1, memory_order_release);
}

/* The table of group g for an instruction set the CPU supports. */
static const void *table_of(int g, int isa) {
    if (isa == HYPERION_ISA_AVX512 && groups[g].avx512_vnni && hyperionGetCpuFeatures()->avx512vnni)
        return groups[g].avx512_vnni;
    if (isa == HYPERION_ISA_NEON && groups[g].neon_dotprod && hyperionGetCpuFeatures()->dotprod)
        return groups[g].neon_dotprod;
    return groups[g].tables[isa];
}

const void *hy_kernel_table(hy_kernel_group group) {
    ensure_initialised();
    int isa = atomic_load_explicit(&group_isa[group], memory_order_relaxed);
    return table_of(group, isa);
}

const void *hy_kernel_table_for(hy_kernel_group group, hyperion_isa isa) {
    if ((unsigned)group >= HY_KGROUP_COUNT || (unsigned)isa > HYPERION_ISA_NEON) return NULL;
    if (!isa_supported(isa)) return NULL;
    return table_of(group, isa);
}

const void *hy_kernel_table_avx512_novnni(hy_kernel_group group) {
    if ((unsigned)group >= HY_KGROUP_COUNT || !isa_supported(HYPERION_ISA_AVX512)) return NULL;
    return groups[group].tables[HYPERION_ISA_AVX512];
}

const void *hy_kernel_table_neon_nodotprod(hy_kernel_group group) {
    if ((unsigned)group >= HY_KGROUP_COUNT || !isa_supported(HYPERION_ISA_NEON)) return NULL;
    return groups[group].tables[HYPERION_ISA_NEON];
}

static int find_group(const char *name) {
    for (int g = 0; g < HY_KGROUP_COUNT; g++)
        if (strcmp(groups[g].name, name) == 0) return g;
    return -1;
}

hyperion_status hyperionEnableSIMD(const char *ops, int on) {
    ensure_initialised();
    if (!ops)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "pass \"all\" or a kernel group name",
                             ((hy_field[]){ HY_TXT("field", "ops") }), "ops must not be NULL");
    int all = strcmp(ops, "all") == 0;
    int g0 = all ? 0 : find_group(ops);
    if (g0 < 0)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "pass \"all\" or one of the names from getCpuFeatures().kernelGroups",
                             ((hy_field[]){ HY_TXT("field", "ops"), HY_TXT("value", ops) }),
                             "unknown kernel group \"%s\"", ops);
    int g1 = all ? HY_KGROUP_COUNT : g0 + 1;
    for (int g = g0; g < g1; g++) {
        atomic_store(&group_simd_enabled[g], on ? 1 : 0);
        atomic_store(&group_isa[g], (int)(on ? best_for_group(g) : HYPERION_ISA_SCALAR));
    }
    HY_LOG(HYPERION_LOG_INFO, HYPERION_LOG_PERFORMANCE, "SIMD %s for kernel group %s", on ? "enabled" : "disabled", ops);
    return HYPERION_OK;
}

hyperion_status hyperionGetKernelIsa(const char *ops, hyperion_isa *isa) {
    ensure_initialised();
    int g = ops ? find_group(ops) : -1;
    if (g < 0)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", "ops") }),
                             "unknown kernel group \"%s\"", ops ? ops : "(null)");
    *isa = (hyperion_isa)atomic_load(&group_isa[g]);
    return HYPERION_OK;
}

const char *const *hyperionKernelGroups(void) {
    return group_names;
}
