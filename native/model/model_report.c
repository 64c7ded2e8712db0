/* model_report.c — see model_report.h. */
#include "model/model_report.h"

#include <string.h>
#include <sys/stat.h>

void hy_report_problem(hy_json *j, hyperion_status code, const char *field, int64_t offset, const char *message,
                       const char *suggestion) {
    hy_json_object_begin(j);
    hy_json_kv_string(j, "code", hyperionStatusName(code));
    hy_json_kv_string(j, "category", hyperionStatusCategory(code));
    hy_json_kv_string(j, "field", field);
    hy_json_key(j, "offset");
    if (offset >= 0) hy_json_i64(j, offset);
    else hy_json_null(j);
    hy_json_kv_string(j, "message", message);
    hy_json_kv_string(j, "suggestion", suggestion && *suggestion ? suggestion : NULL);
    hy_json_object_end(j);
}

void hy_report_problem_from_error(hy_json *j) {
    const hyperion_error *e = hyperionGetLastError();
    const char *field = NULL;
    int64_t offset = -1;
    for (int i = 0; i < e->field_count; i++) {
        if (!strcmp(e->fields[i].name, "field") && !e->fields[i].is_number) field = e->fields[i].text;
        if (!strcmp(e->fields[i].name, "offset") && e->fields[i].is_number) offset = (int64_t)e->fields[i].number;
    }
    hy_report_problem(j, e->code, field, offset, e->message, e->suggestion);
}

void hy_report_no_tensors(hy_json *j) {
    hy_report_problem(j, HYPERION_MODEL_INVALID, "tensor_count", 8,
                      "the file holds no tensors (a vocabulary-only file?): there is no model to run",
                      "use a complete model file");
}

void hy_report_reader_warnings(hy_json *j, const hy_gguf *g) {
    for (uint32_t i = 0; i < hy_gguf_warning_count(g); i++) {
        const hy_gguf_note *n = hy_gguf_warning_at(g, i);
        hy_json_object_begin(j);
        hy_json_kv_string(j, "field", n->field);
        hy_json_kv_u64(j, "offset", n->offset);
        hy_json_kv_string(j, "message", n->message);
        hy_json_object_end(j);
    }
}

hyperion_status hy_report_open(const char *path, hy_gguf **g) {
    return hy_gguf_open_ex(path, HY_GGUF_ALLOW_UNSUPPORTED_TYPES, g);
}

int64_t hy_report_file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) ? (int64_t)st.st_size : -1;
}
