/*
 * fuzz_gguf.c — libFuzzer entry for whole GGUF files: target "gguf"; built
 * with HY_FUZZ_STRUCTURED, "gguf-struct", which adds the structure-aware
 * mutator of gguf_mutator.c; with HY_FUZZ_REPORTS as well, "gguf-reports",
 * which also checks the verify/info reports. The checks are in gguf_input.c.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"
#include "gguf_input.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    hy_fuzz_setup();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
#ifdef HY_FUZZ_REPORTS
    const char *why = hy_fuzz_gguf_reports_one(data, size);
#else
    const char *why = hy_fuzz_gguf_one(data, size);
#endif
    if (why) hy_fuzz_die("gguf", why);
    return 0;
}
