/*
 * cpu.c — CPU feature detection, done once.
 *
 * On x86 a feature counts only when the CPU reports it AND the OS saves the
 * register state it needs (XGETBV/XCR0): a CPU with AVX-512 under an OS that
 * does not save ZMM registers must not run AVX-512 code.
 */
#include "internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

static hyperion_cpu_features features;
static pthread_once_t features_once = PTHREAD_ONCE_INIT;

#if defined(__x86_64__) || defined(__i386__)
static uint64_t read_xcr0(void) {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

static void detect_x86(hyperion_cpu_features *f) {
    unsigned eax, ebx, ecx, edx;
    f->arch = "x86_64";
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return;
    int has_sse42 = (ecx >> 20) & 1;
    int has_fma = (ecx >> 12) & 1;
    int has_osxsave = (ecx >> 27) & 1;
    int has_avx = (ecx >> 28) & 1;
    int has_f16c = (ecx >> 29) & 1;
    f->sse42 = has_sse42;

    uint64_t xcr0 = has_osxsave ? read_xcr0() : 0;
    f->os_saves_ymm = (xcr0 & 0x6) == 0x6;             /* SSE and AVX state */
    f->os_saves_zmm = f->os_saves_ymm && (xcr0 & 0xE0) == 0xE0; /* opmask, ZMM_Hi256, Hi16_ZMM */

    f->avx = has_avx && f->os_saves_ymm;
    f->fma = has_fma && f->avx;
    f->f16c = has_f16c && f->avx;

    unsigned max_leaf = __get_cpuid_max(0, NULL);
    if (max_leaf >= 7) {
        __cpuid_count(7, 0, eax, ebx, ecx, edx);
        f->avx2 = ((ebx >> 5) & 1) && f->avx;
        f->avx512f = ((ebx >> 16) & 1) && f->os_saves_zmm;
        f->avx512bw = ((ebx >> 30) & 1) && f->avx512f;
        f->avx512vl = ((ebx >> 31) & 1) && f->avx512f;
        f->avx512vnni = ((ecx >> 11) & 1) && f->avx512f;
    }
}
#endif

#if defined(__aarch64__)
static void detect_arm64(hyperion_cpu_features *f) {
    f->arch = "arm64";
    f->neon = 1; /* Advanced SIMD is mandatory on AArch64 */
#if defined(__linux__)
    unsigned long hwcap = getauxval(AT_HWCAP);
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
    f->dotprod = (hwcap & HWCAP_ASIMDDP) != 0;
#endif
}
#endif

/* Count distinct (physical id, core id) pairs in /proc/cpuinfo; take the model
 * name on the way. Returns 0 when the file says nothing useful. */
static int read_proc_cpuinfo(hyperion_cpu_features *f) {
    FILE *fp = fopen("/proc/cpuinfo", "r");
    if (!fp) return 0;
    char line[512];
    int physical = -1, core = -1, count = 0;
    int seen[1024][2];
    while (fgets(line, sizeof line, fp)) {
        if (!f->model_name[0] && strncmp(line, "model name", 10) == 0) {
            const char *colon = strchr(line, ':');
            if (colon) {
                colon++;
                while (*colon == ' ') colon++;
                snprintf(f->model_name, sizeof f->model_name, "%s", colon);
                size_t n = strlen(f->model_name);
                while (n && (f->model_name[n - 1] == '\n' || f->model_name[n - 1] == ' ')) f->model_name[--n] = 0;
            }
        } else if (strncmp(line, "physical id", 11) == 0) {
            const char *colon = strchr(line, ':');
            if (colon) physical = atoi(colon + 1);
        } else if (strncmp(line, "core id", 7) == 0) {
            const char *colon = strchr(line, ':');
            if (colon) core = atoi(colon + 1);
        } else if (line[0] == '\n') {
            if (physical >= 0 && core >= 0) {
                int known = 0;
                for (int i = 0; i < count; i++)
                    if (seen[i][0] == physical && seen[i][1] == core) { known = 1; break; }
                if (!known && count < 1024) { seen[count][0] = physical; seen[count][1] = core; count++; }
            }
            physical = core = -1;
        }
    }
    fclose(fp);
    return count;
}

static void detect(void) {
    hyperion_cpu_features *f = &features;
    memset(f, 0, sizeof *f);
    f->arch = "other";
#if defined(__x86_64__) || defined(__i386__)
    detect_x86(f);
#elif defined(__aarch64__)
    detect_arm64(f);
#endif
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    f->logical_cores = online > 0 ? (int)online : 1;
    int physical = read_proc_cpuinfo(f);
    f->physical_cores = physical > 0 && physical <= f->logical_cores ? physical : f->logical_cores;
}

const hyperion_cpu_features *hyperionGetCpuFeatures(void) {
    pthread_once(&features_once, detect);
    return &features;
}
