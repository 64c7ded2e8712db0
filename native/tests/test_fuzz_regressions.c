/*
 * test_fuzz_regressions.c — every input the fuzzers ever broke an invariant
 * with, replayed through the same checkers (fuzz/<target>_input.c) in the normal
 * suite, so a fixed bug stays fixed without a fuzzing run.
 *
 * Reproducers live in test/regressions/<target>/ (gguf, gguf-reports,
 * tokenizer, sampler, stop), one raw input per file, named after what they
 * broke. Add one by copying libFuzzer's crash-* file there; `npm run fuzz --
 * <target> <s>` tells you to when it finds one. The tokenizer ones need ../shared/vocab (skipped
 * with a message when absent, as the other shared-vocabulary tests are).
 * The misaligned-array reproducer only fails where UBSan checks alignment
 * (the ASan + UBSan build), under the guard-page pass.
 */
#include "harness.h"

#include <dirent.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/fuzz_common.h"
#include "../fuzz/gguf_input.h"
#include "../fuzz/sampler_input.h"
#include "../fuzz/stop_input.h"
#include "../fuzz/tokenizer_input.h"
#include "hyperion_memory.h"
#include "sampling/sampler.h"

typedef const char *(*checker)(const uint8_t *data, size_t size);

static unsigned char *read_all(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        unsigned char *bigger = realloc(buf, cap *= 2);
        if (!bigger) { free(buf); buf = NULL; }
        else buf = bigger;
    }
    fclose(f);
    *size = n;
    return buf;
}

/* Run every file of test/regressions/<target> through check; returns how many. */
static int replay_once(const char *target, checker check) {
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/test/regressions/%s", hy_fuzz_source_root(), target);
    DIR *d = opendir(dir);
    if (!d) return 0;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[1500];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t size = 0;
        unsigned char *data = read_all(path, &size);
        if (!data) {
            hy_test_fail(__FILE__, __LINE__, "cannot read %s", path);
            continue;
        }
        /* an exact-size copy, as libFuzzer hands inputs over */
        unsigned char *exact = malloc(size ? size : 1);
        if (exact) {
            memcpy(exact, data, size);
            const char *why = check(exact, size);
            if (why) hy_test_fail(__FILE__, __LINE__, "%s/%s: %s", target, e->d_name, why);
            free(exact);
        }
        free(data);
        count++;
    }
    closedir(d);
    return count;
}

/* Each reproducer runs twice: as the pool normally serves blocks, then with
 * every block on its own guard pages (end-aligned: a read or write one byte
 * past a block faults, and a block's start alignment follows from its size,
 * which is how a misaligned-array bug was found). The memory settings in
 * force before are restored after. */
static int replay(const char *target, checker check) {
    int n = replay_once(target, check);
    hyperion_memory_config saved, guarded;
    hyperionGetMemoryConfig(&saved);
    guarded = saved;
    guarded.guard_mode = HYPERION_GUARD_ALL;
    guarded.guard_min_size = 0;
    guarded.guard_alignment = 1;
    guarded.guard_underflow = 0;
    if (hyperionInitMemory(&guarded) != HYPERION_OK) {
        hy_test_fail(__FILE__, __LINE__, "guard mode: %s", hyperionGetLastError()->message);
        return n;
    }
    replay_once(target, check);
    if (hyperionInitMemory(&saved) != HYPERION_OK) hy_test_fail(__FILE__, __LINE__, "restoring the memory settings failed");
    return n;
}

HY_TEST(fuzz_regressions_gguf) {
    int n = replay("gguf", hy_fuzz_gguf_one);
    printf("    %d gguf reproducer(s)\n", n);
}

HY_TEST(fuzz_regressions_gguf_reports) {
    int n = replay("gguf-reports", hy_fuzz_gguf_reports_one);
    printf("    %d gguf-reports reproducer(s)\n", n);
}

HY_TEST(fuzz_regressions_sampler) {
    int n = replay("sampler", hy_fuzz_sampler_one);
    printf("    %d sampler reproducer(s)\n", n);
}

HY_TEST(fuzz_regressions_stop) {
    int n = replay("stop", hy_fuzz_stop_one);
    printf("    %d stop reproducer(s)\n", n);
}

HY_TEST(fuzz_regressions_tokenizer) {
    char err[600];
    if (hy_fuzz_tokenizers_init(err, sizeof err) != 0) {
        printf("    skipped: %s\n", err);
        return;
    }
    int n = replay("tokenizer", hy_fuzz_tokenizer_one);
    printf("    %d tokenizer reproducer(s)\n", n);
    hy_fuzz_tokenizers_free();
}

/* The first sampler finding, spelled out: options that validate can push an
 * adjusted logit to +inf (a tiny repeat penalty divides a positive logit, a
 * large negative frequency penalty or bias adds up); the step must still give
 * a finite probability and pick an overflowed token. */
HY_TEST(fuzz_regressions_sampler_overflowing_penalties) {
    static const float logits[4] = { 1.0f, 2.0f, -1.0f, 0.5f };
    hy_sampler_options o;
    struct { float repeat, frequency, temperature; } cases[] = {
        { 1e-40f, 0.0f, 1.0f },       /* 2 / 1e-40 = +inf */
        { 1.0f, -FLT_MAX, 0.7f },     /* 2 + FLT_MAX * 1 rounds to +inf with two occurrences */
        { 1e-40f, 0.0f, 0.0f },       /* greedy over +inf logits */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        hy_sampler_options_init(&o);
        o.repeat_penalty = cases[c].repeat;
        o.frequency_penalty = cases[c].frequency;
        o.temperature = cases[c].temperature;
        o.top_k = 0;
        o.logprobs = 1;
        hy_sampler *s = NULL;
        HY_REQUIRE(hy_sampler_create(&o, 4, &s) == HYPERION_OK);
        HY_CHECK(hy_sampler_accept(s, 1) == HYPERION_OK);
        HY_CHECK(hy_sampler_accept(s, 1) == HYPERION_OK);
        hy_sample_result r;
        HY_CHECK(hy_sampler_sample(s, logits, &r) == HYPERION_OK);
        HY_CHECK(r.token == 1);   /* the one that overflowed upward dominates */
        HY_CHECK(isfinite(r.probability) && r.probability > 0.0f && r.probability <= 1.0f);
        HY_CHECK(!isnan(r.logprob));
        hy_sampler_free(s);
    }
}
