/* test_gguf_fuzz.c — a small deterministic mutation run over the corpus's
 * valid file: whatever the bytes, the reader answers OK, INVALID or
 * UNSUPPORTED, leaks nothing, and an opened file's every view stays inside
 * the bytes (ASan checks the reads). The real fuzzers run far longer. */
#include "harness.h"
#include "test_gguf_util.h"

#include "model/gguf.h"
#include "model/gguf_corpus.h"
#include "model/llama_hparams.h"

#include <stdlib.h>

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t next_random(void) {
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

/* Touch everything an opened file exposes; returns 0 when a view escapes. */
static int walk(const hy_gguf *g, const uint8_t *lo, size_t size) {
    const uint8_t *hi = lo + size;
    volatile uint8_t sink = 0;
    for (uint64_t i = 0; i < hy_gguf_kv_count(g); i++) {
        const hy_gguf_kv *kv = hy_gguf_kv_at(g, i);
        if (hy_gguf_find(g, kv->key) == NULL) return 0;
        if (kv->value < lo || kv->value + kv->value_len > hi) return 0;
        if (kv->type == HY_GGUF_ARRAY && kv->elem_type == HY_GGUF_STRING) {
            for (uint64_t e = 0; e < kv->count; e++) {
                const char *text;
                uint64_t len;
                if (hy_gguf_array_string(kv, e, &text, &len)) return 0;
                if ((const uint8_t *)text < lo || (const uint8_t *)text + len > hi) return 0;
                if (len) sink ^= (uint8_t)text[len - 1];
            }
        } else if (kv->type == HY_GGUF_ARRAY) {
            for (uint64_t e = 0; e < kv->count; e++) sink ^= (uint8_t)hy_gguf_array_number(kv, e);
        } else if (kv->value_len) {
            sink ^= kv->value[kv->value_len - 1];
        }
    }
    for (uint64_t i = 0; i < hy_gguf_tensor_count(g); i++) {
        const hy_tensor *t = hy_gguf_tensor_at(g, i);
        if (hy_gguf_find_tensor(g, t->name) != t) return 0;
        const uint8_t *d = t->data;
        if (d < lo || d + t->n_bytes > hi) return 0;
        sink ^= d[0] ^ d[t->n_bytes - 1];
    }
    (void)sink;
    return 1;
}

HY_TEST(gguf_mutated_files_never_crash_leak_or_escape) {
    uint8_t *base = NULL;
    size_t size = 0;
    HY_REQUIRE(hy_gguf_corpus_valid(&base, &size) == HYPERION_OK);
    hy_gguf *g = NULL;
    HY_REQUIRE(hy_gguf_open_memory(base, size, "base", 0, &g) == HYPERION_OK);
    uint64_t head = hy_gguf_data_offset(g); /* mutations favour the header, metadata and infos */
    hy_gguf_close(g);
    uint8_t *buf = malloc(size);
    HY_REQUIRE(buf != NULL);
    uint64_t live = gguf_test_live_blocks();
    static const uint64_t interesting[] = { 0, 1, 2, 3, 4, 5, 31, 32, 33, 0x7F, 0xFF, 0xFFFF, 0xFFFFFFFFull,
                                            1ull << 32, 1ull << 62, 1ull << 63, UINT64_MAX, UINT64_MAX - 31 };
    int opened = 0, rejected = 0;
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(buf, base, size);
        size_t n = size;
        int mutations = 1 + (int)(next_random() % 3);
        for (int m = 0; m < mutations; m++) {
            uint64_t r = next_random();
            uint64_t pos = (r & 7) < 6 ? next_random() % head : next_random() % n;
            switch ((r >> 3) % 4) {
            case 0: buf[pos] ^= (uint8_t)(1u << (next_random() % 8)); break;
            case 1: buf[pos] = (uint8_t)next_random(); break;
            case 2: {
                uint64_t v = interesting[next_random() % (sizeof interesting / sizeof interesting[0])];
                int width = (next_random() & 1) ? 8 : 4;
                for (int b = 0; b < width && pos + (uint64_t)b < n; b++) buf[pos + b] = (uint8_t)(v >> (8 * b));
                break;
            }
            default: n = (size_t)(next_random() % (n + 1)); break;
            }
            if (n == 0) break;
        }
        hyperion_status s = hy_gguf_open_memory(buf, n, "mutant", HY_GGUF_ALLOW_UNSUPPORTED_TYPES, &g);
        if (s == HYPERION_OK) {
            opened++;
            if (!walk(g, buf, n)) hy_test_fail(__FILE__, __LINE__, "iteration %d: a view escapes the file", iter);
            hy_llama_hparams hp;
            if (hy_llama_hparams_read(g, &hp) == HYPERION_OK) {
                hy_llama_weights w;
                if (hy_llama_weights_bind(g, &hp, &w) == HYPERION_OK) hy_llama_weights_free(&w);
            }
            hy_gguf_close(g);
        } else if (s == HYPERION_MODEL_INVALID || s == HYPERION_MODEL_UNSUPPORTED) {
            rejected++;
        } else {
            hy_test_fail(__FILE__, __LINE__, "iteration %d: unexpected %s: %s", iter, hyperionStatusName(s),
                         hyperionGetLastError()->message);
        }
        if (gguf_test_live_blocks() != live) {
            hy_test_fail(__FILE__, __LINE__, "iteration %d: leak", iter);
            break;
        }
    }
    HY_CHECK(opened > 0 && rejected > 0);
    free(buf);
    hyperionFree(base);
}
