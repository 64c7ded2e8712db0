/*
 * internal.h — helpers shared by the C core's modules; not part of the API.
 */
#ifndef HYPERION_CORE_INTERNAL_H
#define HYPERION_CORE_INTERNAL_H

#include "hyperion.h"

/* One structured fact to attach to an error (see hyperion_error_field). */
typedef struct hy_field {
    const char *name;
    int is_number;
    double number;
    const char *text;
} hy_field;

#define HY_NUM(n, v) ((hy_field){ (n), 1, (double)(v), NULL })
#define HY_TXT(n, v) ((hy_field){ (n), 0, 0.0, (v) })

/* Fill the calling thread's last-error record, fire the error callback once,
 * and return code, so a failing function can `return HY_RAISE(...)`. */
hyperion_status hy_error_raise(hyperion_status code, const char *file, int line, const char *suggestion,
                               const hy_field *fields, int field_count, const char *format, ...)
    __attribute__((format(printf, 7, 8)));

/* Put back a record saved from hyperionGetLastError() (no callback fires):
 * for clean-up that may raise after a failure whose error the caller reports. */
void hy_error_restore(const hyperion_error *saved);

#define HY_RAISE(code, suggestion, ...) \
    hy_error_raise((code), __FILE__, __LINE__, (suggestion), NULL, 0, __VA_ARGS__)

/* With fields: HY_RAISE_WITH(code, suggestion, ((hy_field[]){HY_TXT("field", "x")}), "fmt", ...) */
#define HY_RAISE_WITH(code, suggestion, fields, ...) \
    hy_error_raise((code), __FILE__, __LINE__, (suggestion), (fields), \
                   (int)(sizeof(fields) / sizeof((fields)[0])), __VA_ARGS__)

/* Convenience logging. */
#define HY_LOG(level, category, ...) \
    do { if (hyperionLogEnabled((level), (category))) hyperionLog((level), (category), __VA_ARGS__); } while (0)

/* Monotonic and wall clocks in nanoseconds. */
uint64_t hy_clock_monotonic_ns(void);
uint64_t hy_clock_realtime_ns(void);

/* The calling thread's OS thread id (gettid on Linux), cached per thread. */
uint64_t hy_thread_id(void);

/* Format a CLOCK_REALTIME time as ISO-8601 UTC with milliseconds into buf
 * (at least 32 bytes): "2026-11-21T08:30:00.123Z". */
void hy_format_iso8601(uint64_t time_ns, char *buf, size_t size);

/* Append text to a JSON string body (no quotes) in out, escaping as JSON
 * requires and replacing invalid UTF-8 with U+FFFD. Returns the length written
 * (truncating to fit size, always NUL-terminated, never splitting an escape). */
size_t hy_json_escape(const char *text, size_t length, char *out, size_t size);

/* Length of the well-formed UTF-8 sequence at s (1..4 bytes, never more than
 * available), or 0 when the bytes there are not one (overlong forms,
 * surrogates, code points past U+10FFFF, truncated sequences). */
size_t hy_utf8_sequence_length(const unsigned char *s, size_t available);

/* Count a record the log handler's own queue (to JS) had no room for. */
void hy_log_note_handler_drop(void);

#endif
