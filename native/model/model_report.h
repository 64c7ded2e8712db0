/*
 * model_report.h — pieces shared by the verify and info reports (internal).
 */
#ifndef HYPERION_MODEL_REPORT_H
#define HYPERION_MODEL_REPORT_H

#include "model/gguf.h"
#include "model/json_builder.h"

/* Append one problem object built from the calling thread's last error
 * (code, category, field, offset, message, suggestion) to the open array. */
void hy_report_problem_from_error(hy_json *j);

/* Append one problem object with the given facts (offset < 0: null). */
void hy_report_problem(hy_json *j, hyperion_status code, const char *field, int64_t offset, const char *message,
                       const char *suggestion);

/* Append the problem of a file without tensors (vocabulary-only files). */
void hy_report_no_tensors(hy_json *j);

/* Append the reader's warnings (objects with field, offset, message) to the
 * open array. */
void hy_report_reader_warnings(hy_json *j, const hy_gguf *g);

/* Open path for a report: unsupported tensor types are allowed (the report
 * names them); on failure *g is NULL and the last error says why. */
hyperion_status hy_report_open(const char *path, hy_gguf **g);

/* Size of the file at path, or -1. */
int64_t hy_report_file_size(const char *path);

#endif
