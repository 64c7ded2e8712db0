/*
 * model_verify.c — hyperionVerifyModel: every check a load would make, run
 * to the end and reported as JSON instead of failing at the first.
 *
 * The GGUF reader stops at the first structural problem (later bytes cannot
 * be trusted after it); past that, the report collects every unsupported
 * tensor type, then the llama metadata and tensor-shape problem, and the
 * reader's warnings plus tensors a llama model does not use.
 */
#include "hyperion_model.h"

#include "core/internal.h"
#include "kernels/types.h"
#include "model/gguf.h"
#include "model/json_builder.h"
#include "model/llama_hparams.h"
#include "model/model_report.h"

#include <stdio.h>
#include <string.h>

#define MAX_UNUSED_TENSOR_WARNINGS 16

typedef struct report {
    hy_json problems, warnings;
    uint32_t n_problems;
} report;

/* Resource failures are the report's own, not the file's: they end the call. */
static int is_resource_error(hyperion_status s) {
    return s == HYPERION_OUT_OF_MEMORY || s == HYPERION_MEMORY_LIMIT;
}

static void problem_from_error(report *r) {
    hy_report_problem_from_error(&r->problems);
    r->n_problems++;
}

/* One problem per distinct known-but-unsupported tensor type. */
static void check_types(report *r, const hy_gguf *g) {
    uint64_t count[HY_TYPE_ID_LIMIT] = { 0 };
    int64_t first[HY_TYPE_ID_LIMIT];
    for (int i = 0; i < HY_TYPE_ID_LIMIT; i++) first[i] = -1;
    for (uint64_t i = 0; i < hy_gguf_tensor_count(g); i++) {
        uint32_t type = hy_gguf_tensor_at(g, i)->type; /* the reader checked type < HY_TYPE_ID_LIMIT */
        if (hy_type_get(type)->supported) continue;
        if (first[type] < 0) first[type] = (int64_t)i;
        count[type]++;
    }
    for (uint32_t type = 0; type < HY_TYPE_ID_LIMIT; type++) {
        if (!count[type]) continue;
        const hy_tensor *t = hy_gguf_tensor_at(g, (uint64_t)first[type]);
        char field[64], message[256], types[160], suggestion[256];
        snprintf(field, sizeof field, "tensor_infos[%lld].type", (long long)first[type]);
        hy_gguf_supported_type_names(types, sizeof types);
        snprintf(suggestion, sizeof suggestion, "use a file quantized to a supported type (%s)", types);
        snprintf(message, sizeof message, "%llu tensor(s) use type %s, which this runtime does not support (first: \"%s\")",
                 (unsigned long long)count[type], hy_type_get(type)->name, t->name);
        hy_report_problem(&r->problems, HYPERION_MODEL_UNSUPPORTED, field,
                          (int64_t)hy_gguf_tensor_type_offset(g, (uint64_t)first[type]), message, suggestion);
        r->n_problems++;
    }
}

/* Warn about tensors that no part of a llama model uses. */
static hyperion_status warn_unused(report *r, const hy_gguf *g, const hy_llama_weights *w) {
    uint64_t n = hy_gguf_tensor_count(g);
    uint8_t *used = hyperionCalloc((size_t)n, 1, HYPERION_TAG_MODEL);
    if (!used) return hyperionGetLastError()->code;
    const hy_tensor *base = hy_gguf_tensor_at(g, 0);
#define MARK(t) do { if (t) used[(t) - base] = 1; } while (0)
    MARK(w->token_embd);
    MARK(w->output_norm);
    MARK(w->output);
    MARK(w->rope_freqs);
    for (uint32_t l = 0; l < w->n_layer; l++)
        for (int k = 0; k < HY_L_COUNT; k++) MARK(w->layers[l].t[k]);
#undef MARK
    uint64_t unused = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (used[i]) continue;
        if (unused++ >= MAX_UNUSED_TENSOR_WARNINGS) continue;
        char field[64], message[200];
        snprintf(field, sizeof field, "tensor_infos[%llu].name", (unsigned long long)i);
        snprintf(message, sizeof message, "tensor \"%s\" is not part of a llama model and will be ignored",
                 hy_gguf_tensor_at(g, i)->name);
        hy_json_object_begin(&r->warnings);
        hy_json_kv_string(&r->warnings, "field", field);
        hy_json_kv_u64(&r->warnings, "offset", hy_gguf_tensor_info_offset(g, i));
        hy_json_kv_string(&r->warnings, "message", message);
        hy_json_object_end(&r->warnings);
    }
    if (unused > MAX_UNUSED_TENSOR_WARNINGS) {
        char message[120];
        snprintf(message, sizeof message, "%llu more tensors are not part of a llama model",
                 (unsigned long long)(unused - MAX_UNUSED_TENSOR_WARNINGS));
        hy_json_object_begin(&r->warnings);
        hy_json_kv_string(&r->warnings, "field", "tensor_infos");
        hy_json_kv_u64(&r->warnings, "offset", 0);
        hy_json_kv_string(&r->warnings, "message", message);
        hy_json_object_end(&r->warnings);
    }
    hyperionFree(used);
    return HYPERION_OK;
}

/* The llama checks: metadata, then tensor shapes, then unused tensors. */
static hyperion_status check_model(report *r, const hy_gguf *g) {
    if (hy_gguf_tensor_count(g) == 0) {
        hy_report_no_tensors(&r->problems);
        r->n_problems++;
        return HYPERION_OK;
    }
    hy_llama_hparams hp;
    hyperion_status s = hy_llama_hparams_read(g, &hp);
    if (s) {
        if (is_resource_error(s)) return s;
        problem_from_error(r);
        return HYPERION_OK;
    }
    hy_llama_weights w;
    s = hy_llama_weights_bind(g, &hp, &w);
    if (s) {
        if (is_resource_error(s)) return s;
        problem_from_error(r);
        return HYPERION_OK;
    }
    s = warn_unused(r, g, &w);
    hy_llama_weights_free(&w);
    return s;
}

static void put_part(hy_json *j, const char *key, hy_json *part, hyperion_status *s) {
    char *text = NULL;
    size_t len = 0;
    hy_json_array_end(part);
    hyperion_status ps = hy_json_finish(part, &text, &len);
    if (ps) {
        if (!*s) *s = ps;
        return;
    }
    hy_json_key(j, key);
    hy_json_raw_value(j, text, len);
    hyperionFree(text);
}

hyperion_status hyperionVerifyModel(const char *path, char **report_json) {
    if (report_json) *report_json = NULL;
    if (!path || !report_json)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", path ? "report_json" : "path") }),
                             "hyperionVerifyModel: %s is NULL", path ? "report_json" : "path");
    report r = { .n_problems = 0 };
    hy_json_init(&r.problems, HYPERION_TAG_MODEL);
    hy_json_init(&r.warnings, HYPERION_TAG_MODEL);
    hy_json_array_begin(&r.problems);
    hy_json_array_begin(&r.warnings);

    hy_gguf *g = NULL;
    hyperion_status s = hy_report_open(path, &g);
    if (s) {
        if (is_resource_error(s)) goto fail;
        problem_from_error(&r);
        s = HYPERION_OK;
    } else {
        hy_report_reader_warnings(&r.warnings, g);
        check_types(&r, g);
        if ((s = check_model(&r, g))) goto fail;
    }

    hy_json j;
    hy_json_init(&j, HYPERION_TAG_MODEL);
    hy_json_object_begin(&j);
    hy_json_kv_string(&j, "path", path);
    hy_json_kv_bool(&j, "ok", r.n_problems == 0);
    hy_json_kv_bool(&j, "valid_gguf", g != NULL);
    int64_t size = g ? (int64_t)hy_gguf_file_size(g) : hy_report_file_size(path);
    hy_json_key(&j, "file_size");
    if (size >= 0) hy_json_i64(&j, size);
    else hy_json_null(&j);
    if (g) {
        hy_json_kv_u64(&j, "version", hy_gguf_version(g));
        hy_json_kv_u64(&j, "tensor_count", hy_gguf_tensor_count(g));
        hy_json_kv_u64(&j, "kv_count", hy_gguf_kv_count(g));
        hy_json_kv_u64(&j, "alignment", hy_gguf_alignment(g));
        const hy_gguf_kv *arch = hy_gguf_find(g, HY_KEY_ARCHITECTURE);
        hy_json_key(&j, "architecture");
        if (arch && arch->type == HY_GGUF_STRING) hy_json_string_n(&j, (const char *)arch->value, (size_t)arch->value_len);
        else hy_json_null(&j);
    } else {
        const char *keys[] = { "version", "tensor_count", "kv_count", "alignment", "architecture" };
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            hy_json_key(&j, keys[i]);
            hy_json_null(&j);
        }
    }
    put_part(&j, "problems", &r.problems, &s);
    put_part(&j, "warnings", &r.warnings, &s);
    hy_json_kv_u64(&j, "warnings_dropped", g ? hy_gguf_warnings_dropped(g) : 0);
    hy_json_object_end(&j);
    hy_gguf_close(g);
    g = NULL;
    if (s) {
        hy_json_discard(&j);
        return s;
    }
    return hy_json_finish(&j, report_json, NULL);

fail:
    hy_gguf_close(g);
    hy_json_discard(&r.problems);
    hy_json_discard(&r.warnings);
    return s;
}
