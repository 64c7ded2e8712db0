/* fuzz_stop.c — libFuzzer entry for the stop-string matcher (target "stop");
 * the checks are in stop_input.c. */
#include "fuzz_common.h"
#include "stop_input.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    hy_fuzz_setup();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *why = hy_fuzz_stop_one(data, size);
    if (why) hy_fuzz_die("stop", why);
    return 0;
}
