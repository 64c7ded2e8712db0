/*
 * make_seeds.c — writes the fuzzers' seed corpora (test-only program, built
 * with the fuzz targets; scripts/fuzz.mjs runs it).
 *
 *   fuzz_seeds <out-dir>
 *
 * <out-dir>/gguf       the malformed-file corpus (hy_gguf_write_malformed_corpus:
 *                      its valid one-layer model and one file per kind of
 *                      damage) plus small llama models written here with the
 *                      project's GGUF writer: tied and untied output, grouped
 *                      heads, F32/Q8_0/Q4_0/F16 weights, llama3 rope
 *                      scaling with rope_freqs, a mistral file, 64-byte
 *                      alignment, a gpt2-style vocabulary with merges; and one
 *                      small model per file type of the model maker
 *                      (model/model_maker.h). The gguf targets share it.
 * <out-dir>/tokenizer  every string of the shared vocabularies' .inp files,
 *                      once per tokenizer and with the option bits varied.
 * <out-dir>/sampler    option sets around the defaults, greedy, NaN/Inf.
 * <out-dir>/stop       a few stop lists and streams.
 *
 * It also checks the fuzzers' layout walk: every valid seed model must be
 * walked completely by gguf_layout.c, or this program fails.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"
#include "gguf_layout.h"
#include "hyperion_memory.h"
#include "kernels/types.h"
#include "model/gguf.h"
#include "model/gguf_corpus.h"
#include "model/gguf_write.h"
#include "model/llama_names.h"
#include "model/model_maker.h"

static const char *out_dir;
static int failures;

static void fail(const char *what) {
    fprintf(stderr, "fuzz_seeds: %s: %s\n", what, hyperionGetLastError()->message);
    failures++;
}

static int make_dir(const char *sub, char *path, size_t n) {
    snprintf(path, n, "%s/%s", out_dir, sub);
    if (mkdir(path, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "fuzz_seeds: mkdir %s: %s\n", path, strerror(errno));
        failures++;
        return -1;
    }
    return 0;
}

static void write_file(const char *dir, const char *name, const void *data, size_t size) {
    char path[1400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        fprintf(stderr, "fuzz_seeds: cannot write %s\n", path);
        failures++;
    }
}

/* ------------------------------------------------------------ llama models */

typedef struct model_opts {
    const char *name;
    const char *arch;
    uint32_t n_embd, n_head, n_head_kv, n_ff, n_layer, n_vocab;
    uint32_t mat_type;       /* type of the 2-D weights */
    int untied;              /* 1: write output.weight */
    int llama3_rope;         /* 1: llama3 scaling keys + rope_freqs.weight */
    uint32_t alignment;      /* 0: default */
    int gpt2_vocab;          /* 1: gpt2 tokenizer with merges; else llama with scores */
} model_opts;

static hyperion_status key_u32(hy_gguf_writer *w, const model_opts *o, const char *suffix, uint32_t v) {
    char key[96];
    snprintf(key, sizeof key, "%s%s", o->arch, suffix);
    return hy_gguf_writer_set_u32(w, key, v);
}

static hyperion_status key_f32(hy_gguf_writer *w, const model_opts *o, const char *suffix, float v) {
    char key[96];
    snprintf(key, sizeof key, "%s%s", o->arch, suffix);
    return hy_gguf_writer_set_f32(w, key, v);
}

static hyperion_status vocab(hy_gguf_writer *w, const model_opts *o) {
    const char *texts[64];
    char store[64][16];
    float scores[64];
    int32_t types[64];
    uint32_t n = o->n_vocab;
    if (n > 64) return HYPERION_INVALID_ARGUMENT;
    for (uint32_t i = 0; i < n; i++) {
        if (i == 0) snprintf(store[i], sizeof store[i], "<unk>");
        else if (i == 1) snprintf(store[i], sizeof store[i], "<s>");
        else if (i == 2) snprintf(store[i], sizeof store[i], "</s>");
        else if (o->gpt2_vocab) snprintf(store[i], sizeof store[i], "%c%c", 'a' + (i % 26), i >= 29 ? 'b' : 0);
        else snprintf(store[i], sizeof store[i], "\xe2\x96\x81t%u", i);
        texts[i] = store[i];
        scores[i] = -(float)i;
        types[i] = i < 3 ? 3 : 1;
    }
    if (o->gpt2_vocab && n > 29) {   /* token 29 "db"... keep every text unique */
        for (uint32_t i = 3; i < n; i++) snprintf(store[i], sizeof store[i], "%c%c", 'a' + (i % 26), 'a' + (i / 26));
    }
    hyperion_status s = hy_gguf_writer_set_string(w, "tokenizer.ggml.model", o->gpt2_vocab ? "gpt2" : "llama");
    if (!s) s = hy_gguf_writer_set_string_array(w, "tokenizer.ggml.tokens", texts, NULL, n);
    if (!s) s = hy_gguf_writer_set_array(w, "tokenizer.ggml.scores", HY_GGUF_FLOAT32, scores, n);
    if (!s) s = hy_gguf_writer_set_array(w, "tokenizer.ggml.token_type", HY_GGUF_INT32, types, n);
    if (!s) s = hy_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 1);
    if (!s) s = hy_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 2);
    if (!s && o->gpt2_vocab) {
        const char *merges[] = { "a a", "b a", "c a", "a b" };
        s = hy_gguf_writer_set_string_array(w, "tokenizer.ggml.merges", merges, NULL, 4);
        if (!s) s = hy_gguf_writer_set_string(w, "tokenizer.ggml.pre", "llama-bpe");
    } else if (!s) {
        s = hy_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", 1);
    }
    if (!s) s = hy_gguf_writer_set_string(w, "tokenizer.chat_template",
                                          "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}");
    return s;
}

static hyperion_status tensor(hy_gguf_writer *w, const char *name, uint32_t type, uint64_t ne0, uint64_t ne1) {
    uint64_t ne[2] = { ne0, ne1 };
    return hy_gguf_writer_add_tensor(w, name, type, ne1 ? 2 : 1, ne);
}

static hyperion_status make_model(const model_opts *o, void **data, size_t *size) {
    hy_gguf_writer *w = NULL;
    hyperion_status s = hy_gguf_writer_create(&w);
    if (s) return s;
    uint32_t head_dim = o->n_embd / o->n_head, kv = o->n_head_kv * head_dim;
    if (o->alignment) s = hy_gguf_writer_set_u32(w, HY_GGUF_KEY_ALIGNMENT, o->alignment);
    if (!s) s = hy_gguf_writer_set_string(w, HY_KEY_ARCHITECTURE, o->arch);
    if (!s) s = hy_gguf_writer_set_string(w, HY_KEY_NAME, o->name);
    if (!s) s = hy_gguf_writer_set_u32(w, HY_KEY_FILE_TYPE, o->mat_type == HY_TYPE_F32 ? 0 : 7);
    if (!s) s = key_u32(w, o, HY_KEY_CONTEXT_LENGTH, 128);
    if (!s) s = key_u32(w, o, HY_KEY_EMBEDDING_LENGTH, o->n_embd);
    if (!s) s = key_u32(w, o, HY_KEY_BLOCK_COUNT, o->n_layer);
    if (!s) s = key_u32(w, o, HY_KEY_FEED_FORWARD_LENGTH, o->n_ff);
    if (!s) s = key_u32(w, o, HY_KEY_HEAD_COUNT, o->n_head);
    if (!s) s = key_u32(w, o, HY_KEY_HEAD_COUNT_KV, o->n_head_kv);
    if (!s) s = key_u32(w, o, HY_KEY_ROPE_DIMENSION_COUNT, head_dim);
    if (!s) s = key_f32(w, o, HY_KEY_RMS_EPSILON, 1e-5f);
    if (!s) s = key_f32(w, o, HY_KEY_ROPE_FREQ_BASE, 10000.0f);
    if (!s && o->llama3_rope) {
        char key[96];
        snprintf(key, sizeof key, "%s%s", o->arch, HY_KEY_ROPE_SCALING_TYPE);
        s = hy_gguf_writer_set_string(w, key, "llama3");
        if (!s) s = key_f32(w, o, HY_KEY_ROPE_SCALING_FACTOR, 8.0f);
        if (!s) s = key_u32(w, o, HY_KEY_ROPE_SCALING_ORIG_CTX, 64);
    }
    if (!s) s = vocab(w, o);
    if (!s) s = tensor(w, HY_TENSOR_TOKEN_EMBD, o->mat_type, o->n_embd, o->n_vocab);
    if (!s) s = tensor(w, HY_TENSOR_OUTPUT_NORM, HY_TYPE_F32, o->n_embd, 0);
    if (!s && o->untied) s = tensor(w, HY_TENSOR_OUTPUT, o->mat_type, o->n_embd, o->n_vocab);
    if (!s && o->llama3_rope) s = tensor(w, HY_TENSOR_ROPE_FREQS, HY_TYPE_F32, head_dim / 2, 0);
    for (uint32_t l = 0; l < o->n_layer && !s; l++) {
        char name[64];
#define LAYER(fmt, type, a, b) (snprintf(name, sizeof name, fmt, l), tensor(w, name, type, a, b))
        s = LAYER(HY_TENSOR_ATTN_NORM, HY_TYPE_F32, o->n_embd, 0);
        if (!s) s = LAYER(HY_TENSOR_ATTN_Q, o->mat_type, o->n_embd, o->n_embd);
        if (!s) s = LAYER(HY_TENSOR_ATTN_K, o->mat_type, o->n_embd, kv);
        if (!s) s = LAYER(HY_TENSOR_ATTN_V, o->mat_type, o->n_embd, kv);
        if (!s) s = LAYER(HY_TENSOR_ATTN_OUTPUT, o->mat_type, o->n_embd, o->n_embd);
        if (!s) s = LAYER(HY_TENSOR_FFN_NORM, HY_TYPE_F32, o->n_embd, 0);
        if (!s) s = LAYER(HY_TENSOR_FFN_GATE, o->mat_type, o->n_embd, o->n_ff);
        if (!s) s = LAYER(HY_TENSOR_FFN_UP, o->mat_type, o->n_embd, o->n_ff);
        if (!s) s = LAYER(HY_TENSOR_FFN_DOWN, o->mat_type, o->n_ff, o->n_embd);
#undef LAYER
    }
    if (!s) s = hy_gguf_writer_begin_memory(w);
    /* tensor data: a fixed byte pattern (the fuzzers never look at the numbers;
     * half-precision scales stay finite because 0x3C bytes give 1.0-ish halves) */
    static uint8_t chunk[4096];
    memset(chunk, 0x3C, sizeof chunk);
    for (uint64_t i = 0; !s && hy_gguf_writer_tensor_bytes(w, i); i++) {
        uint64_t left = hy_gguf_writer_tensor_bytes(w, i);
        while (!s && left) {
            uint64_t n = left < sizeof chunk ? left : sizeof chunk;
            s = hy_gguf_writer_write(w, chunk, n);
            left -= n;
        }
    }
    if (!s) s = hy_gguf_writer_finish(w);
    if (!s) s = hy_gguf_writer_take_memory(w, data, size);
    hy_gguf_writer_free(w);
    return s;
}

static void check_layout(const char *name, const uint8_t *data, size_t size) {
    static hy_gguf_layout layout;
    hy_gguf_layout_parse(data, size, &layout);
    if (!layout.complete || layout.n_kvs != layout.kv_count || layout.n_infos != layout.tensor_count) {
        fprintf(stderr, "fuzz_seeds: the layout walk did not get through %s\n", name);
        failures++;
    }
}

static void gguf_seeds(void) {
    char dir[1200];
    if (make_dir("gguf", dir, sizeof dir)) return;
    uint32_t written = 0;
    if (hy_gguf_write_malformed_corpus(dir, &written) != HYPERION_OK) fail("malformed corpus");
    char manifest[1300];
    snprintf(manifest, sizeof manifest, "%s/corpus.json", dir);
    remove(manifest);   /* not a GGUF file: no use as a seed */
    static const model_opts models[] = {
        { "tied-f32", "llama", 32, 4, 2, 64, 1, 16, HY_TYPE_F32, 0, 0, 0, 0 },
        { "untied-q8_0-gqa", "llama", 64, 8, 2, 96, 2, 32, HY_TYPE_Q8_0, 1, 0, 0, 0 },
        { "llama3-rope-q4_0", "llama", 64, 4, 4, 64, 1, 24, HY_TYPE_Q4_0, 0, 1, 0, 0 },
        { "mistral-f16-align64", "mistral", 32, 2, 1, 32, 1, 20, HY_TYPE_F16, 1, 0, 64, 0 },
        { "q8_0-gpt2-vocab", "llama", 32, 4, 2, 32, 1, 40, HY_TYPE_Q8_0, 0, 0, 0, 1 },
    };
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        void *data = NULL;
        size_t size = 0;
        if (make_model(&models[i], &data, &size) != HYPERION_OK) {
            fail(models[i].name);
            continue;
        }
        char name[96];
        snprintf(name, sizeof name, "model-%s.gguf", models[i].name);
        /* the seeds must themselves be valid models */
        hy_gguf *g = NULL;
        if (hy_gguf_open_memory(data, size, name, 0, &g) != HYPERION_OK) fail(name);
        hy_gguf_close(g);
        check_layout(name, data, size);
        write_file(dir, name, data, size);
        hyperionFree(data);
    }
    /* the project's model maker: one small model per file type it makes
     * (llama.cpp's recipes, the synthetic SentencePiece vocabulary, ChatML) */
    size_t made = 0;
    for (size_t i = 0; i < hy_make_model_type_count; i++) {
        hy_make_model_params p;
        memset(&p, 0, sizeof p);
        /* small, so the fuzzers' inputs stay under ~100 KB: rows of 32 are below
         * the K-quants' 256, so those files also show the recipes' fallbacks */
        p.shape = (hy_make_model_shape){ NULL, HY_MAKE_MODEL_MIN_VOCAB, 32, 1, 2, 1, 64, 128, 10000.0f, 1e-5f };
        p.type_name = hy_make_model_types[i].name;
        p.seed = 7;
        p.tied = !(i & 1);
        char name[96], path[1400];
        snprintf(name, sizeof name, "maker-%s%s.gguf", p.type_name, p.tied ? "-tied" : "");
        snprintf(path, sizeof path, "%s/%s", dir, name);
        if (hy_make_model(&p, path) != HYPERION_OK) {
            fail(name);
            continue;
        }
        hy_gguf *g = NULL;
        if (hy_gguf_open(path, &g) != HYPERION_OK) fail(name);
        else check_layout(name, hy_gguf_bytes(g), hy_gguf_file_size(g));
        hy_gguf_close(g);
        made++;
    }
    uint8_t *valid = NULL;
    size_t size = 0;
    if (hy_gguf_corpus_valid(&valid, &size) == HYPERION_OK) {
        check_layout("the corpus's valid file", valid, size);
        hyperionFree(valid);
    }
    printf("fuzz_seeds: gguf: %u malformed files, the corpus's valid model, %zu writer-made models, %zu maker models\n",
           written, sizeof models / sizeof models[0], made);
}

/* ---------------------------------------------------------- tokenizer seeds */

static int tokenizer_seeds(void) {
    char dir[1200];
    if (make_dir("tokenizer", dir, sizeof dir)) return 0;
    static const char *const files[] = { "ggml-vocab-llama-spm.gguf.inp", "ggml-vocab-gpt-2.gguf.inp" };
    static const char marker[] = "\n__ggml_vocab_test__\n";
    int count = 0;
    for (size_t f = 0; f < 2; f++) {
        char path[1400];
        snprintf(path, sizeof path, "%s/vocab/%s", hy_fuzz_shared_dir(), files[f]);
        FILE *fp = fopen(path, "rb");
        if (!fp) {
            fprintf(stderr, "fuzz_seeds: %s absent: tokenizer seeds from built-in strings only\n", path);
            continue;
        }
        static char buf[1 << 16];
        size_t n = fread(buf, 1, sizeof buf - 1, fp);
        fclose(fp);
        buf[n] = 0;
        char *at = buf;
        int index = 0;
        for (;;) {
            char *end = strstr(at, marker);   /* each string is followed by "\n" + the marker line */
            if (!end) break;
            size_t len = (size_t)(end - at);
            for (int variant = 0; variant < 3; variant++) {
                /* plain round trip on each tokenizer, then specials on, then BOS/EOS + rendering */
                uint8_t sel = (uint8_t)((index + variant) % 6) | (variant == 1 ? 0x08 : variant == 2 ? 0x70 : 0);
                static uint8_t seed[1 << 12];
                size_t n_seed = len + 1 < sizeof seed ? len + 1 : sizeof seed;
                seed[0] = sel;
                memcpy(seed + 1, at, n_seed - 1);
                char name[64];
                snprintf(name, sizeof name, "inp-%zu-%03d-%d", f, index, variant);
                write_file(dir, name, seed, n_seed);
                count++;
            }
            index++;
            at = end + sizeof marker - 1;
        }
    }
    static const char *const extra[] = { "<s>hello</s>", "<|endoftext|>x", "\xff\xfe\xf0\x9f\x98", "   \t\n\n  a",
                                         "12345678901234567890", "I'm can't we'LL", "\xe2\x96\x81\xe2\x96\x81" };
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) {
        uint8_t seed[64];
        size_t len = strlen(extra[i]);
        seed[0] = (uint8_t)(i % 6) | 0x08;
        memcpy(seed + 1, extra[i], len);
        char name[32];
        snprintf(name, sizeof name, "extra-%zu", i);
        write_file(dir, name, seed, len + 1);
        count++;
    }
    /* id mode: a few ids on each vocabulary */
    for (int t = 0; t < 6; t++) {
        uint8_t seed[1 + 4 * 6];
        int32_t ids[6] = { 1, 2, 3, 259, 30000, 13 };
        seed[0] = (uint8_t)(0x80 | t | (t & 1 ? 0x48 : 0));
        memcpy(seed + 1, ids, sizeof ids);
        char name[32];
        snprintf(name, sizeof name, "ids-%d", t);
        write_file(dir, name, seed, sizeof seed);
        count++;
    }
    printf("fuzz_seeds: tokenizer: %d inputs\n", count);
    return count;
}

/* ------------------------------------------------- sampler and stop seeds */

static void put_bytes(uint8_t *buf, size_t *n, const void *src, size_t len) {
    memcpy(buf + *n, src, len);
    *n += len;
}

static void sampler_seeds(void) {
    char dir[1200];
    if (make_dir("sampler", dir, sizeof dir)) return;
    /* layout: u16 vocab, u16 present-mask, the present fields, bias count,
     * biases, accept count, accepts, step count, logits (see sampler_input.c) */
    static const struct { uint16_t vocab, present; uint8_t sel_temp; } cases[] = {
        { 0x8000 | 100, 0, 0 },            /* defaults on 100 tokens */
        { 0x8000 | 300, 1, 0 },            /* greedy (temperature 0 from the table) */
        { 16, 1 | 2 | 4 | 8, 1 },          /* temperature 1, top-k/p, min-p */
        { 16, 1 | 16 | 32 | 64 | 128, 6 }, /* penalties */
        { 5, 1 | 512 | 1024, 16 },         /* NaN temperature */
        { 0, 0, 0 },                       /* empty vocabulary */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t buf[256];
        size_t n = 0;
        put_bytes(buf, &n, &cases[i].vocab, 2);
        put_bytes(buf, &n, &cases[i].present, 2);
        if (cases[i].present & 1) buf[n++] = cases[i].sel_temp;
        if (cases[i].present & 2) { uint32_t k = 5; put_bytes(buf, &n, &k, 4); }
        if (cases[i].present & 4) buf[n++] = 4;    /* 0.95 */
        if (cases[i].present & 8) buf[n++] = 5;    /* 0.05 */
        if (cases[i].present & 16) buf[n++] = 6;   /* 2 */
        if (cases[i].present & 32) buf[n++] = 3;   /* 0.5 */
        if (cases[i].present & 64) buf[n++] = 3;
        if (cases[i].present & 128) { uint32_t last = 8; put_bytes(buf, &n, &last, 4); }
        if (cases[i].present & 512) { uint16_t c = 15; put_bytes(buf, &n, &c, 2); }
        if (cases[i].present & 1024) buf[n++] = 1;
        buf[n++] = (uint8_t)(i == 2);              /* one bias entry in case 2 */
        if (i == 2) { uint32_t tok = 3; put_bytes(buf, &n, &tok, 4); buf[n++] = 18; /* -Inf: banned */ }
        buf[n++] = 2;                              /* two accepted tokens */
        uint32_t acc[2] = { 1, 2 };
        put_bytes(buf, &n, acc, sizeof acc);
        buf[n++] = 2;                              /* steps */
        for (int k = 0; k < 32 && n < sizeof buf; k++) buf[n++] = (uint8_t)(19 + (k * 37) % 100);  /* small values */
        char name[32];
        snprintf(name, sizeof name, "case-%zu", i);
        write_file(dir, name, buf, n);
    }
    printf("fuzz_seeds: sampler: %zu inputs\n", sizeof cases / sizeof cases[0]);
}

/* One stop seed: the stop strings, then the stream cut into pieces. */
static void stop_seed(const char *dir, const char *name, const char *const *stops, size_t n_stops,
                      const char *const *pieces, size_t n_pieces) {
    uint8_t buf[256];
    size_t n = 0;
    buf[n++] = (uint8_t)n_stops;
    for (size_t i = 0; i < n_stops; i++) {
        buf[n++] = (uint8_t)strlen(stops[i]);
        put_bytes(buf, &n, stops[i], strlen(stops[i]));
    }
    for (size_t i = 0; i < n_pieces; i++) {
        buf[n++] = (uint8_t)strlen(pieces[i]);
        put_bytes(buf, &n, pieces[i], strlen(pieces[i]));
    }
    write_file(dir, name, buf, n);
}

static void stop_seeds(void) {
    char dir[1200];
    if (make_dir("stop", dir, sizeof dir)) return;
    stop_seed(dir, "user-turn", (const char *[]){ "User:", "\n\n\n" }, 2, (const char *[]){ "Hello", " User", ":", " x" }, 4);
    stop_seed(dir, "overlap", (const char *[]){ "abc", "bc", "c" }, 3, (const char *[]){ "ab", "ab", "c" }, 3);
    stop_seed(dir, "none", NULL, 0, (const char *[]){ "hello", " world" }, 2);
    stop_seed(dir, "prefix", (const char *[]){ "ab", "b", "bab" }, 3, (const char *[]){ "z", "ba", "b" }, 3);
    printf("fuzz_seeds: stop: 4 inputs\n");
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz_seeds <out-dir>\n");
        return 2;
    }
    out_dir = argv[1];
    if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "fuzz_seeds: mkdir %s: %s\n", out_dir, strerror(errno));
        return 1;
    }
    hyperionSetLogLevel(HYPERION_LOG_ERROR);
    gguf_seeds();
    tokenizer_seeds();
    sampler_seeds();
    stop_seeds();
    return failures ? 1 : 0;
}
