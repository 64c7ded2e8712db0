/* fuzz_sampler.c — libFuzzer entry for the sampler (target "sampler");
 * the checks are in sampler_input.c. */
#include "fuzz_common.h"
#include "sampler_input.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    hy_fuzz_setup();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *why = hy_fuzz_sampler_one(data, size);
    if (why) hy_fuzz_die("sampler", why);
    return 0;
}
