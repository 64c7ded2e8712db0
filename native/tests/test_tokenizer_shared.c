/*
 * test_tokenizer_shared.c — every case of the shared reference vocabularies
 * (../shared/vocab: <name>.gguf with <name>.gguf.inp / .out, see its README):
 * tokenize each input without BOS and compare with the expected ids, then
 * check that detokenizing gives the input back. Skipped, with a message, when
 * the folder is absent.
 */
#include <stdlib.h>

#include "harness.h"
#include "test_vocab_loader.h"
#include "tokenizer/tokenizer.h"

#define MARKER "\n__ggml_vocab_test__\n"

static void run_reference(const char *name, unsigned detok_flags) {
    char path[1200], err[256];
    snprintf(path, sizeof path, "%s/vocab/%s", hy_test_shared_dir(), name);
    hy_test_vocab vocab;
    if (hy_test_vocab_load(path, &vocab, err, sizeof err) != 0) {
        printf("    skipped: %s (%s); set HYPERION_SHARED_DIR to the shared folder\n", name, err);
        return;
    }
    char inp_path[1300], out_path[1300];
    snprintf(inp_path, sizeof inp_path, "%s.inp", path);
    snprintf(out_path, sizeof out_path, "%s.out", path);
    size_t inp_size = 0, out_size = 0;
    char *inp = hy_test_read_file(inp_path, &inp_size);
    char *out = hy_test_read_file(out_path, &out_size);
    hy_tokenizer *tok = NULL;
    HY_REQUIRE(inp && out);
    HY_REQUIRE(hy_tokenizer_build(&vocab.spec, &tok) == HYPERION_OK);

    hy_tokenize_options opts;
    hy_tokenize_options_init(&opts);
    opts.add_bos = 0;
    size_t cases = 0, passed = 0, roundtrips = 0;
    char *in_at = inp, *out_at = out;
    while (in_at < inp + inp_size) {
        /* Inputs end at each marker (the last one may end the file). */
        char *marker = strstr(in_at, MARKER);
        size_t in_len = marker ? (size_t)(marker - in_at) : (size_t)(inp + inp_size - in_at);
        char *line_end = strchr(out_at, '\n');
        if (!line_end) line_end = out + out_size;
        cases++;

        int32_t expected[4096];
        size_t n_expected = 0;
        for (char *p = out_at; p < line_end;) {
            char *end;
            long v = strtol(p, &end, 10);
            if (end == p) break;
            if (n_expected < 4096) expected[n_expected++] = (int32_t)v;
            p = end;
        }
        size_t cap = hy_tokenizer_max_tokens(in_len);
        int32_t *ids = malloc(cap * sizeof *ids);
        size_t n_ids = 0;
        hyperion_status st = hy_tokenizer_tokenize(tok, in_at, in_len, &opts, ids, cap, &n_ids);
        int same = st == HYPERION_OK && n_ids == n_expected && memcmp(ids, expected, n_ids * sizeof *ids) == 0;
        if (same) {
            passed++;
        } else {
            hy_test_fail(__FILE__, __LINE__, "%s case %zu (\"%.*s\"): status %d, %zu ids, expected %zu", name, cases,
                         (int)(in_len > 40 ? 40 : in_len), in_at, (int)st, n_ids, n_expected);
            printf("      got:     ");
            for (size_t i = 0; i < n_ids && i < 64; i++) printf(" %d", ids[i]);
            printf("\n      expected:");
            for (size_t i = 0; i < n_expected && i < 64; i++) printf(" %d", expected[i]);
            printf("\n");
        }
        /* Both models are lossless on valid UTF-8 without unknown pieces. */
        if (st == HYPERION_OK) {
            char *text = malloc(in_len * 3 + 16);
            size_t len = 0;
            if (hy_tokenizer_detokenize(tok, ids, n_ids, detok_flags, text, in_len * 3 + 16, &len) == HYPERION_OK &&
                len == in_len && memcmp(text, in_at, len) == 0)
                roundtrips++;
            else
                hy_test_fail(__FILE__, __LINE__, "%s case %zu does not detokenize back to its input", name, cases);
            free(text);
        }
        free(ids);
        in_at = marker ? marker + strlen(MARKER) : inp + inp_size;
        out_at = line_end < out + out_size ? line_end + 1 : line_end;
    }
    printf("    %s: %zu of %zu cases match, %zu round-trip\n", name, passed, cases, roundtrips);
    HY_CHECK(cases > 0);
    hy_tokenizer_free(tok);
    free(inp);
    free(out);
    hy_test_vocab_free(&vocab);
}

HY_TEST(tokenizer_shared_llama_spm_reference) {
    run_reference("ggml-vocab-llama-spm.gguf", HY_DETOK_STRIP_LEADING_SPACE);
}

HY_TEST(tokenizer_shared_gpt2_reference) {
    run_reference("ggml-vocab-gpt-2.gguf", 0);
}
