/* fuzz_tokenizer.c — libFuzzer entry for the tokenizers (target "tokenizer");
 * the checks are in tokenizer_input.c. Needs ../shared/vocab (or
 * $HYPERION_SHARED_DIR/vocab). */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_common.h"
#include "tokenizer_input.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    hy_fuzz_setup();
    char err[512];
    if (hy_fuzz_tokenizers_init(err, sizeof err) != 0) {
        fprintf(stderr, "fuzz tokenizer: %s\n", err);
        exit(2);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *why = hy_fuzz_tokenizer_one(data, size);
    if (why) hy_fuzz_die("tokenizer", why);
    return 0;
}
