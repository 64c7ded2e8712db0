/*
 * gguf_input.c — one GGUF file through everything that reads a model file
 * before a single weight is used (test-only; see gguf_input.h).
 *
 * The bytes are opened in place (hy_gguf_open_memory does not copy), so any
 * read outside them is an ASan report. Beyond "no crash":
 *  - open answers OK, MODEL_INVALID or MODEL_UNSUPPORTED (typed, with a record);
 *  - an opened file's every key, string and tensor view lies inside the bytes,
 *    and lookups by name find the same entries;
 *  - the typed getters on every key answer OK or MODEL_INVALID;
 *  - accepted hyperparameters are ones the graph can run with (no zero
 *    divisor, head counts that divide, shapes that multiply without overflow);
 *  - bound weights have the shapes the hyperparameters imply;
 *  - the file's vocabulary (runtime/tokenizer_gguf.c, as a model load builds
 *    it) is built or refused with a typed error; a built one tokenizes and
 *    detokenizes a fixed text with every id in range;
 *  - nothing stays allocated afterwards.
 * And in the reports checker (target gguf-reports; the report calls open the
 * file three more times, so they have a target of their own to keep the
 * reader's fast): hyperionVerifyModel and hyperionGetModelInfo, the APIs meant
 * for bad files, run on the same bytes through a memfd, succeed with one valid
 * JSON object each (strict grammar, valid UTF-8, no NaN), and verify's "ok"
 * agrees with the reader + hyperparameters + binding above.
 */
#include "gguf_input.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_common.h"
#include "hyperion_memory.h"
#include "hyperion_model.h"
#include "json_check.h"
#include "model/gguf.h"
#include "model/llama_hparams.h"
#include "runtime/tokenizer_gguf.h"

#ifdef __linux__
#include <sys/mman.h>
#include <unistd.h>
#endif

static const char *walk_views(const hy_gguf *g, const uint8_t *lo, size_t size) {
    const uint8_t *hi = lo + size;
    volatile uint8_t sink = 0;
    for (uint64_t i = 0; i < hy_gguf_kv_count(g); i++) {
        const hy_gguf_kv *kv = hy_gguf_kv_at(g, i);
        if (!kv || !kv->key || !kv->key[0]) return "a key is missing or empty";
        if (hy_gguf_find(g, kv->key) != kv) return "find(key) does not give the pair back (duplicate key accepted?)";
        if (kv->value < lo || kv->value > hi || kv->value_len > (uint64_t)(hi - kv->value))
            return "a value view lies outside the file";
        if (kv->type == HY_GGUF_ARRAY && kv->elem_type == HY_GGUF_STRING) {
            for (uint64_t e = 0; e < kv->count; e++) {
                const char *text;
                uint64_t len;
                if (hy_gguf_array_string(kv, e, &text, &len) != HYPERION_OK) return "a string array element is unreadable";
                if ((const uint8_t *)text < lo || len > (uint64_t)(hi - (const uint8_t *)text))
                    return "a string array element lies outside the file";
                if (len) sink ^= (uint8_t)text[len - 1];
            }
        } else if (kv->type == HY_GGUF_ARRAY) {
            for (uint64_t e = 0; e < kv->count; e++) {
                double x = hy_gguf_array_number(kv, e);
                uint64_t bits;
                memcpy(&bits, &x, sizeof bits);
                sink ^= (uint8_t)bits;
            }
        } else if (kv->value_len) {
            sink ^= kv->value[kv->value_len - 1];
        }
        /* every typed getter answers OK or a typed refusal, whatever the type */
        uint32_t u32;
        int32_t i32;
        uint64_t u64;
        float f32;
        int b;
        const char *text;
        uint64_t len;
        char copy[48];
        hyperion_status st[] = {
            hy_gguf_get_u32(g, kv->key, &u32), hy_gguf_get_i32(g, kv->key, &i32), hy_gguf_get_u64(g, kv->key, &u64),
            hy_gguf_get_f32(g, kv->key, &f32), hy_gguf_get_bool(g, kv->key, &b),
            hy_gguf_get_string(g, kv->key, &text, &len), hy_gguf_get_string_copy(g, kv->key, copy, sizeof copy),
            hy_gguf_get_array(g, kv->key, (uint32_t)-1, NULL, NULL, NULL),
        };
        for (size_t k = 0; k < sizeof st / sizeof st[0]; k++) {
            const char *why = HY_FUZZ_ALLOWED(st[k], HYPERION_MODEL_INVALID);
            if (why) return why;
        }
        if (st[5] == HYPERION_OK && ((const uint8_t *)text < lo || len > (uint64_t)(hi - (const uint8_t *)text)))
            return "get_string points outside the file";
    }
    for (uint64_t i = 0; i < hy_gguf_tensor_count(g); i++) {
        const hy_tensor *t = hy_gguf_tensor_at(g, i);
        if (!t || !t->name) return "a tensor is missing its name";
        if (hy_gguf_find_tensor(g, t->name) != t) return "find_tensor(name) does not give the tensor back";
        if (t->n_dims < 1 || t->n_dims > HY_TENSOR_MAX_DIMS) return "a tensor has 0 or more than 4 dimensions";
        const uint8_t *d = t->data;
        if (t->n_bytes == 0) return "a tensor holds no bytes";
        if (d < lo || d > hi || t->n_bytes > (uint64_t)(hi - d)) return "a tensor's data lies outside the file";
        if (t->file_offset % hy_gguf_alignment(g) != 0) return "a tensor's data is not aligned";
        sink ^= d[0] ^ d[t->n_bytes - 1];
    }
    (void)sink;
    return NULL;
}

/* What the graph divides by and multiplies with. */
static const char *check_hparams(const hy_llama_hparams *hp) {
    if (!hp->n_embd || !hp->n_layer || !hp->n_ff || !hp->n_head || !hp->n_head_kv || !hp->head_dim)
        return "accepted hyperparameters with a zero size";
    if (hp->n_head % hp->n_head_kv) return "accepted head_count_kv that does not divide head_count";
    if ((uint64_t)hp->n_head * hp->head_dim != hp->n_embd_q || (uint64_t)hp->n_head_kv * hp->head_dim != hp->n_embd_kv)
        return "n_embd_q / n_embd_kv disagree with the head counts";
    if (hp->n_rot == 0 || hp->n_rot % 2 || hp->n_rot > hp->head_dim) return "accepted a rotary dimension the graph cannot use";
    if (!(hp->rms_eps >= 0.0f) || !isfinite(hp->rms_eps)) return "accepted a NaN/infinite/negative rms epsilon";
    if (!isfinite(hp->rope_freq_base) || !(hp->rope_freq_base > 0.0f)) return "accepted a non-positive or non-finite rope base";
    if (!isfinite(hp->rope_factor) || !(hp->rope_factor > 0.0f) || !isfinite(hp->rope_freq_scale))
        return "accepted a non-positive or non-finite rope scaling factor";
    return NULL;
}

static const char *check_weights(const hy_llama_hparams *hp, const hy_llama_weights *w) {
    if (!w->token_embd || !w->output_norm || !w->output) return "bound weights lack a whole-model tensor";
    if (w->token_embd->ne[0] != hp->n_embd) return "token_embd's rows are not n_embd long";
    if (hp->n_vocab && w->token_embd->ne[1] != hp->n_vocab) return "token_embd does not have n_vocab rows";
    if (w->output->ne[0] != hp->n_embd || w->output->ne[1] != w->token_embd->ne[1]) return "output has the wrong shape";
    if (w->n_layer != hp->n_layer || (hp->n_layer && !w->layers)) return "bound layer count differs from block_count";
    for (uint32_t l = 0; l < w->n_layer; l++)
        for (int k = 0; k < HY_L_COUNT; k++)
            if (!w->layers[l].t[k]) return "a bound layer lacks a tensor";
    return NULL;
}

/* The vocabulary a model load would build from this file. */
static const char *check_vocab(const hy_gguf *g) {
    hy_vocab *v = NULL;
    hyperion_status s = hy_vocab_from_gguf(g, &v);
    const char *why = HY_FUZZ_ALLOWED(s, HYPERION_MODEL_INVALID, HYPERION_MODEL_UNSUPPORTED, HYPERION_MEMORY_LIMIT,
                                      HYPERION_OUT_OF_MEMORY);
    if (why || !v) return why;
    if (!v->tok) {
        why = "a vocabulary without a tokenizer";
    } else {
        static const char text[] = "Hello, world! \xe2\x96\x81 <s> 123 \xc3\xa9\xff";
        int32_t ids[64];
        size_t n = 0;
        hy_tokenize_options o;
        hy_tokenize_options_init(&o);
        o.add_bos = 0;
        o.parse_special = 1;
        s = hy_tokenizer_tokenize(v->tok, text, sizeof text - 1, &o, ids, 64, &n);
        /* a vocabulary that cannot represent some byte refuses with UNSUPPORTED */
        why = HY_FUZZ_ALLOWED(s, HYPERION_MODEL_UNSUPPORTED, HYPERION_MEMORY_LIMIT);
        uint32_t n_vocab = hy_tokenizer_n_vocab(v->tok);
        for (size_t i = 0; s == HYPERION_OK && !why && i < n; i++)
            if (ids[i] < 0 || (uint32_t)ids[i] >= n_vocab) why = "the file's tokenizer produced an id outside its vocabulary";
        char out[512];
        size_t len = 0;
        if (s == HYPERION_OK && !why) {
            s = hy_tokenizer_detokenize(v->tok, ids, n, HY_DETOK_RENDER_SPECIAL, out, sizeof out, &len);
            why = HY_FUZZ_ALLOWED(s, HYPERION_INVALID_ARGUMENT);   /* only "capacity": pieces may be long */
            if (!why && s != HYPERION_OK && len <= sizeof out) why = "detokenize refused a buffer that was big enough";
        }
    }
    hy_vocab_release(v);
    return why;
}

/* *loadable: the file would load (strict open, tensors, hyperparameters, binding). */
static const char *check_opened(const hy_gguf *g, const uint8_t *data, size_t size, int *loadable) {
    const char *why = walk_views(g, data, size);
    if (!why) why = check_vocab(g);
    if (why) return why;
    hy_llama_hparams hp;
    hyperion_status s = hy_llama_hparams_read(g, &hp);
    if ((why = HY_FUZZ_ALLOWED(s, HYPERION_MODEL_INVALID, HYPERION_MODEL_UNSUPPORTED))) return why;
    if (s != HYPERION_OK) return NULL;
    if ((why = check_hparams(&hp))) return why;
    hy_llama_weights w;
    memset(&w, 0, sizeof w);
    s = hy_llama_weights_bind(g, &hp, &w);
    if ((why = HY_FUZZ_ALLOWED(s, HYPERION_MODEL_INVALID, HYPERION_MODEL_UNSUPPORTED))) return why;
    if (s == HYPERION_OK) {
        why = check_weights(&hp, &w);
        hy_llama_weights_free(&w);
        *loadable = hy_gguf_tensor_count(g) > 0;
    }
    if (!why) {
        /* check-only binding must agree */
        hyperion_status again = hy_llama_weights_bind(g, &hp, NULL);
        if (again != s) why = "binding with and without an output disagree";
    }
    return why;
}

/* ------------------------------------------------ verify / info reports */

/* The input as a file: a memfd (no disk), rewritten for each input. NULL
 * path when the system has no memfd (the report checks are then skipped). */
static const char *input_as_file(const uint8_t *data, size_t size) {
#ifdef __linux__
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("hyperion-fuzz-gguf", MFD_CLOEXEC);
        if (fd < 0) return NULL;
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0) return NULL;
    for (size_t done = 0; done < size;) {
        ssize_t n = pwrite(fd, data + done, size - done, (off_t)done);
        if (n <= 0) return NULL;
        done += (size_t)n;
    }
    return path;
#else
    (void)data;
    (void)size;
    return NULL;
#endif
}

static const char *check_json_report(hyperion_status s, char *json, const char *what) {
    static _Thread_local char msg[200];
    const char *why = HY_FUZZ_ALLOWED(s, HYPERION_MEMORY_LIMIT, HYPERION_OUT_OF_MEMORY);
    if (why || s != HYPERION_OK) return why;
    if (!json) return "a report call succeeded without a report";
    const char *bad = hy_fuzz_json_check(json, strlen(json));
    if (bad) {
        snprintf(msg, sizeof msg, "%s wrote invalid JSON: %s", what, bad);
        return msg;
    }
    return NULL;
}

static const char *check_reports(const uint8_t *data, size_t size, int loadable) {
    const char *path = input_as_file(data, size);
    if (!path) return NULL;
    char *json = NULL;
    const char *why = check_json_report(hyperionVerifyModel(path, &json), json, "hyperionVerifyModel");
    if (!why && json) {
        int ok = strstr(json, "\"ok\":true") != NULL;
        if (ok != loadable) why = loadable ? "verify reports problems in a file that loads" : "verify says ok for a file that does not load";
    }
    hyperionFree(json);
    for (uint32_t ctx = 0; ctx <= 64 && !why; ctx += 64) {   /* the trained context, and a small one */
        json = NULL;
        why = check_json_report(hyperionGetModelInfo(path, ctx, &json), json, "hyperionGetModelInfo");
        hyperionFree(json);
    }
    return why;
}

/* The reader checks; *loadable: the file would load. */
static const char *reader_checks(const uint8_t *data, size_t size, int *loadable) {
    const char *why = NULL;
    /* strict first, then (for unsupported tensor types) as verifyModel/getModelInfo open files */
    for (uint32_t flags = 0; flags <= HY_GGUF_ALLOW_UNSUPPORTED_TYPES && !why; flags += HY_GGUF_ALLOW_UNSUPPORTED_TYPES) {
        hy_gguf *g = (hy_gguf *)(uintptr_t)1;
        hyperion_status s = hy_gguf_open_memory(data, size, "fuzz", flags, &g);
        why = HY_FUZZ_ALLOWED(s, HYPERION_MODEL_INVALID, HYPERION_MODEL_UNSUPPORTED);
        if (why) break;
        if (s != HYPERION_OK) {
            if (g != NULL) why = "a failed open left *out set";
            if (s != HYPERION_MODEL_UNSUPPORTED) break;   /* no reason to retry */
            continue;
        }
        if (hy_gguf_file_size(g) != size) why = "file_size differs from the bytes given";
        /* a file without tensors may end before the padding its data section would start after */
        if (!why && hy_gguf_tensor_count(g) && hy_gguf_data_offset(g) > size) why = "the data section starts past the end";
        if (!why) why = check_opened(g, data, size, flags == 0 ? loadable : &(int){ 0 });
        hy_gguf_close(g);
        break;
    }
    return why;
}

const char *hy_fuzz_gguf_one(const uint8_t *data, size_t size) {
    hy_fuzz_mark mark;
    hy_fuzz_mark_take(&mark);
    int loadable = 0;
    const char *why = reader_checks(data, size, &loadable);
    if (!why) why = hy_fuzz_mark_check(&mark);
    return why;
}

const char *hy_fuzz_gguf_reports_one(const uint8_t *data, size_t size) {
    hy_fuzz_mark mark;
    hy_fuzz_mark_take(&mark);
    int loadable = 0;
    const char *why = reader_checks(data, size, &loadable);
    if (!why) why = check_reports(data, size, loadable);
    if (!why) why = hy_fuzz_mark_check(&mark);
    return why;
}
