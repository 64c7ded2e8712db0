/* vocab_spec.c — tokenizer spec from a GGUF file (see vocab_spec.h). Test-only. */
#include "vocab_spec.h"

#include <string.h>

#include "core/internal.h"

void hy_fuzz_vocab_free(hy_fuzz_vocab *v) {
    if (v->have_scratch) hy_tokenizer_spec_scratch_free(&v->scratch);
    hy_gguf_close(v->gguf);
    memset(v, 0, sizeof *v);
}

hyperion_status hy_fuzz_vocab_load(const char *path, hy_fuzz_vocab *v) {
    memset(v, 0, sizeof *v);
    hyperion_status s = hy_gguf_open(path, &v->gguf);
    if (s) return s;
    s = hy_tokenizer_spec_from_gguf(v->gguf, &v->spec, &v->scratch);
    if (s == HYPERION_OK) v->have_scratch = 1;
    if (s == HYPERION_OK && v->spec.n_vocab == 0)
        s = HY_RAISE(HYPERION_MODEL_INVALID, NULL, "%s has no tokenizer.ggml.tokens", path);
    if (s) hy_fuzz_vocab_free(v);
    return s;
}
