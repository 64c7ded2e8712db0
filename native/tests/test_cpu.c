/* test_cpu.c — CPU feature detection is self-consistent. */
#include "harness.h"
#include "hyperion.h"

HY_TEST(cpu_features_are_consistent) {
    const hyperion_cpu_features *f = hyperionGetCpuFeatures();
    HY_REQUIRE(f != NULL);
    HY_CHECK(f->logical_cores >= 1);
    HY_CHECK(f->physical_cores >= 1 && f->physical_cores <= f->logical_cores);
#if defined(__x86_64__)
    HY_CHECK_STR(f->arch, "x86_64");
    /* a feature is only reported with the OS state it needs */
    if (f->avx2) HY_CHECK(f->avx && f->os_saves_ymm);
    if (f->avx512f) HY_CHECK(f->os_saves_zmm);
    if (f->avx512vnni || f->avx512bw || f->avx512vl) HY_CHECK(f->avx512f);
    if (f->fma || f->f16c) HY_CHECK(f->avx);
#elif defined(__aarch64__)
    HY_CHECK_STR(f->arch, "arm64");
    HY_CHECK(f->neon);
#endif
    HY_CHECK(hyperionGetCpuFeatures() == f); /* detected once */
}

HY_TEST(best_isa_is_supported_by_cpu) {
    const hyperion_cpu_features *f = hyperionGetCpuFeatures();
    hyperion_isa best = hyperionBestIsa();
    if (best == HYPERION_ISA_AVX512) HY_CHECK(f->avx512f && f->avx512bw && f->avx512vl);
    if (best == HYPERION_ISA_AVX2) HY_CHECK(f->avx2 && f->fma);
    if (best == HYPERION_ISA_NEON) HY_CHECK(f->neon);
}
