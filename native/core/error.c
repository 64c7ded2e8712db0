/*
 * error.c — status names and categories, the thread-local last-error record,
 * and the process-wide error callback.
 */
#include "internal.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------ status names */

static const char *const status_names[HYPERION_STATUS_COUNT] = {
    [HYPERION_OK] = "HYPERION_OK",
    [HYPERION_INVALID_ARGUMENT] = "HYPERION_INVALID_ARGUMENT",
    [HYPERION_MODEL_INVALID] = "HYPERION_MODEL_INVALID",
    [HYPERION_MODEL_UNSUPPORTED] = "HYPERION_MODEL_UNSUPPORTED",
    [HYPERION_IO] = "HYPERION_IO",
    [HYPERION_MEMORY_LIMIT] = "HYPERION_MEMORY_LIMIT",
    [HYPERION_OUT_OF_MEMORY] = "HYPERION_OUT_OF_MEMORY",
    [HYPERION_CONTEXT_FULL] = "HYPERION_CONTEXT_FULL",
    [HYPERION_ABORTED] = "HYPERION_ABORTED",
    [HYPERION_TIMEOUT] = "HYPERION_TIMEOUT",
    [HYPERION_DISPOSED] = "HYPERION_DISPOSED",
    [HYPERION_CORRUPTION] = "HYPERION_CORRUPTION",
    [HYPERION_INTERNAL] = "HYPERION_INTERNAL",
};

static const char *const status_categories[HYPERION_STATUS_COUNT] = {
    [HYPERION_OK] = "none",
    [HYPERION_INVALID_ARGUMENT] = "input",
    [HYPERION_MODEL_INVALID] = "model",
    [HYPERION_MODEL_UNSUPPORTED] = "model",
    [HYPERION_IO] = "io",
    [HYPERION_MEMORY_LIMIT] = "limit",
    [HYPERION_OUT_OF_MEMORY] = "memory",
    [HYPERION_CONTEXT_FULL] = "limit",
    [HYPERION_ABORTED] = "aborted",
    [HYPERION_TIMEOUT] = "limit",
    [HYPERION_DISPOSED] = "input",
    [HYPERION_CORRUPTION] = "memory",
    [HYPERION_INTERNAL] = "internal",
};

const char *hyperionStatusName(hyperion_status status) {
    if ((unsigned)status >= HYPERION_STATUS_COUNT) return "HYPERION_UNKNOWN";
    return status_names[status];
}

const char *hyperionStatusCategory(hyperion_status status) {
    if ((unsigned)status >= HYPERION_STATUS_COUNT) return "internal";
    return status_categories[status];
}

/* ------------------------------------------------------- last-error record */

static _Thread_local hyperion_error last_error = { .code = HYPERION_OK, .category = "none" };
static _Thread_local int in_callback;
static atomic_uint_fast64_t error_sequence;

/* The callback and its data change together; a reader may see a new callback
 * with old data for one call at most, so both are published under one pointer. */
typedef struct callback_slot {
    hyperion_error_callback fn;
    void *user_data;
} callback_slot;
static callback_slot callback_slots[2];
static _Atomic(callback_slot *) active_callback;
static atomic_int callback_generation;

const hyperion_error *hyperionGetLastError(void) {
    return &last_error;
}

void hy_error_restore(const hyperion_error *saved) {
    if (saved) last_error = *saved;
}

void hyperionClearLastError(void) {
    memset(&last_error, 0, sizeof last_error);
    last_error.code = HYPERION_OK;
    last_error.category = "none";
}

void hyperionSetErrorCallback(hyperion_error_callback callback, void *user_data) {
    if (!callback) {
        atomic_store(&active_callback, NULL);
        return;
    }
    int next = (atomic_fetch_add(&callback_generation, 1) + 1) & 1;
    callback_slots[next].fn = callback;
    callback_slots[next].user_data = user_data;
    atomic_store(&active_callback, &callback_slots[next]);
}

/* "/home/x/hyperion/native/core/log.c" -> "core/log.c": stable across machines. */
static const char *relative_source_path(const char *file) {
    const char *marker = strstr(file, "native/");
    return marker ? marker + strlen("native/") : file;
}

static void copy_text(char *dst, size_t size, const char *src) {
    if (!src) src = "";
    size_t n = strlen(src);
    if (n >= size) n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

hyperion_status hy_error_raise(hyperion_status code, const char *file, int line, const char *suggestion,
                               const hy_field *fields, int field_count, const char *format, ...) {
    hyperion_error *e = &last_error;
    e->code = code;
    e->category = hyperionStatusCategory(code);
    va_list args;
    va_start(args, format);
    vsnprintf(e->message, sizeof e->message, format, args);
    va_end(args);
    copy_text(e->file, sizeof e->file, relative_source_path(file));
    e->line = line;
    copy_text(e->suggestion, sizeof e->suggestion, suggestion);
    if (field_count > HYPERION_ERROR_MAX_FIELDS) field_count = HYPERION_ERROR_MAX_FIELDS;
    e->field_count = field_count > 0 ? field_count : 0;
    for (int i = 0; i < e->field_count; i++) {
        hyperion_error_field *f = &e->fields[i];
        copy_text(f->name, sizeof f->name, fields[i].name);
        f->is_number = fields[i].is_number;
        f->number = fields[i].is_number ? fields[i].number : 0.0;
        copy_text(f->text, sizeof f->text, fields[i].is_number ? "" : fields[i].text);
    }
    e->sequence = atomic_fetch_add(&error_sequence, 1) + 1;

    hyperion_log_category category = HYPERION_LOG_GENERAL;
    if (code == HYPERION_MODEL_INVALID || code == HYPERION_MODEL_UNSUPPORTED) category = HYPERION_LOG_MODEL;
    else if (code == HYPERION_MEMORY_LIMIT || code == HYPERION_OUT_OF_MEMORY || code == HYPERION_CORRUPTION)
        category = HYPERION_LOG_MEMORY;
    HY_LOG(HYPERION_LOG_DEBUG, category, "%s: %s (%s:%d)", hyperionStatusName(code), e->message, e->file, line);

    /* An error raised by the callback itself is recorded but not re-reported,
     * so a misbehaving callback cannot recurse without end. */
    callback_slot *slot = atomic_load(&active_callback);
    if (slot && slot->fn && !in_callback) {
        in_callback = 1;
        hyperion_error copy = *e;
        slot->fn(&copy, slot->user_data);
        in_callback = 0;
    }
    return code;
}
