/*
 * hyperion.h — the public C API of the Hyperion Runtime core.
 *
 * A plain C11 library: no Node types appear here. Every function that can fail
 * returns a hyperion_status; the details of the most recent failure on the
 * calling thread live in a thread-local record read with hyperionGetLastError().
 * Nothing in this library calls abort(), assert() or exit() on bad input or on a
 * failed allocation; only the guard-page fault handler stops the process, because
 * it exists to stop a process whose memory is already corrupted.
 *
 * Module headers (memory, model, profiler, ...) are included at the end, so one
 * include gives the whole API.
 */
#ifndef HYPERION_H
#define HYPERION_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- version */

#define HYPERION_VERSION_MAJOR 0
#define HYPERION_VERSION_MINOR 1
#define HYPERION_VERSION_PATCH 0
#define HYPERION_VERSION_STRING "0.1.0"

/* The version this library was built as, "MAJOR.MINOR.PATCH". Static string. */
const char *hyperionVersion(void);

/* ----------------------------------------------------------- status codes */

/* Stable numeric codes; the JS layer maps each to a stable string code
 * ("HYPERION_MODEL_INVALID", ...). Append only: never renumber. */
typedef enum hyperion_status {
    HYPERION_OK = 0,
    HYPERION_INVALID_ARGUMENT = 1,
    HYPERION_MODEL_INVALID = 2,
    HYPERION_MODEL_UNSUPPORTED = 3,
    HYPERION_IO = 4,
    HYPERION_MEMORY_LIMIT = 5,
    HYPERION_OUT_OF_MEMORY = 6,
    HYPERION_CONTEXT_FULL = 7,
    HYPERION_ABORTED = 8,
    HYPERION_TIMEOUT = 9,
    HYPERION_DISPOSED = 10,
    HYPERION_CORRUPTION = 11,
    HYPERION_INTERNAL = 12,
    HYPERION_STATUS_COUNT
} hyperion_status;

/* "HYPERION_MODEL_INVALID" for HYPERION_MODEL_INVALID, ...; "HYPERION_UNKNOWN"
 * for a value outside the enum. Static string. */
const char *hyperionStatusName(hyperion_status status);

/* The error category of a status: "input", "model", "io", "memory", "limit",
 * "aborted" or "internal" ("none" for HYPERION_OK). Static string. */
const char *hyperionStatusCategory(hyperion_status status);

/* ------------------------------------------------------ last-error record */

#define HYPERION_ERROR_MAX_FIELDS 8

/* One structured fact about a failure: the offending option's name, a byte
 * offset, the bytes requested, the limit... Either a number or a text. */
typedef struct hyperion_error_field {
    char name[32];
    int is_number;          /* 1: number is the value; 0: text is */
    double number;
    char text[128];
} hyperion_error_field;

/* The thread-local record of the most recent failure on a thread. */
typedef struct hyperion_error {
    hyperion_status code;
    const char *category;   /* static string, see hyperionStatusCategory */
    char message[512];
    char file[96];          /* source file relative to native/, e.g. "core/log.c" */
    int line;
    char suggestion[256];   /* what the caller can do about it; may be empty */
    int field_count;
    hyperion_error_field fields[HYPERION_ERROR_MAX_FIELDS];
    uint64_t sequence;      /* process-wide error counter value when raised */
} hyperion_error;

/* The calling thread's most recent error. The pointer stays valid for the
 * thread's life; the content changes with the next error on the thread.
 * code == HYPERION_OK when no error has been raised or it was cleared. */
const hyperion_error *hyperionGetLastError(void);

/* Forget the calling thread's last error. */
void hyperionClearLastError(void);

/* Called once for every error raised on any thread, after the record is filled,
 * on the raising thread. It must not block and must not raise errors itself
 * (errors raised inside it are recorded but do not re-enter it). */
typedef void (*hyperion_error_callback)(const hyperion_error *error, void *user_data);

/* Install (or with NULL remove) the process-wide error callback. */
void hyperionSetErrorCallback(hyperion_error_callback callback, void *user_data);

/* --------------------------------------------------------------- logging */

typedef enum hyperion_log_level {
    HYPERION_LOG_TRACE = 0,
    HYPERION_LOG_DEBUG = 1,
    HYPERION_LOG_INFO = 2,
    HYPERION_LOG_WARN = 3,
    HYPERION_LOG_ERROR = 4,
    HYPERION_LOG_OFF = 5
} hyperion_log_level;

typedef enum hyperion_log_category {
    HYPERION_LOG_GENERAL = 0,
    HYPERION_LOG_MEMORY = 1,
    HYPERION_LOG_PERFORMANCE = 2,
    HYPERION_LOG_MODEL = 3,
    HYPERION_LOG_GENERATION = 4,
    HYPERION_LOG_CATEGORY_COUNT
} hyperion_log_category;

typedef enum hyperion_log_format {
    HYPERION_LOG_FORMAT_TEXT = 0,
    HYPERION_LOG_FORMAT_JSON = 1
} hyperion_log_format;

#define HYPERION_LOG_MESSAGE_MAX 1024
#define HYPERION_LOG_PATH_MAX 1024

/* One log record as the sinks and the record handler see it. */
typedef struct hyperion_log_record {
    uint64_t time_ns;               /* CLOCK_REALTIME, nanoseconds since the epoch */
    uint64_t thread_id;             /* OS thread id of the thread that logged */
    hyperion_log_level level;
    hyperion_log_category category;
    char message[HYPERION_LOG_MESSAGE_MAX];
} hyperion_log_record;

/* Receives records on the logger's own thread (never on the thread that
 * logged). It must not block for long: it delays later records. */
typedef void (*hyperion_log_handler)(const hyperion_log_record *record, void *user_data);

/* The whole logging configuration, packed by the caller (the TS layer
 * validates every field before it gets here). */
typedef struct hyperion_log_config {
    hyperion_log_level level;                                   /* default for all categories */
    hyperion_log_level category_level[HYPERION_LOG_CATEGORY_COUNT]; /* per category; -1 = use level */
    int console;                                                /* 1: write to stderr */
    hyperion_log_format console_format;
    char file_path[HYPERION_LOG_PATH_MAX];                      /* "" = no file sink */
    hyperion_log_format file_format;
    int include_timestamp;                                      /* 1: records carry the time */
    int include_thread_id;                                      /* 1: records carry the thread id */
    uint64_t rotate_max_bytes;                                  /* 0 = never rotate */
    uint32_t rotate_max_files;                                  /* files kept, the active one included */
    int rotate_compress;                                        /* 1: gzip rotated files */
    int log_content;                                            /* 1: prompt/generated text may be logged */
    size_t queue_capacity;                                      /* records; rounded up to a power of two */
} hyperion_log_config;

/* Statistics of the logging pipeline since start (or the last reset). */
typedef struct hyperion_log_stats {
    uint64_t accepted;        /* records that entered the queue */
    uint64_t dropped_queue;   /* records lost because the queue was full */
    uint64_t dropped_handler; /* records the handler could not take (its queue was full) */
    uint64_t written;         /* records written to at least one sink */
    uint64_t rotations;       /* file rotations done */
    uint64_t sink_errors;     /* failed writes, opens, renames or compressions */
} hyperion_log_stats;

/* Fill *config with the defaults: level warn, console on in text, no file, no
 * rotation, timestamp and thread id on, content off, queue of 4096 records. */
void hyperionLogConfigDefaults(hyperion_log_config *config);

/* Apply a configuration. Starts the logger thread on first use. Fails with
 * HYPERION_INVALID_ARGUMENT (naming the field) or HYPERION_IO when the file
 * cannot be opened; on failure the previous configuration stays in force. */
hyperion_status hyperionConfigureLogging(const hyperion_log_config *config);

/* Shorthand: set the level of every category. */
hyperion_status hyperionSetLogLevel(hyperion_log_level level);

/* Set the level of one category. */
hyperion_status hyperionSetCategoryLogLevel(hyperion_log_category category, hyperion_log_level level);

/* Install (or with NULL remove) the record handler; see hyperion_log_handler. */
void hyperionSetLogHandler(hyperion_log_handler handler, void *user_data);

/* 1 when a record of this level and category would be kept. One load and a
 * compare: call sites use it to skip formatting. */
int hyperionLogEnabled(hyperion_log_level level, hyperion_log_category category);

/* Log a formatted message. Never blocks: when the queue is full the record is
 * counted as dropped and a notice of the loss is logged once room returns. */
void hyperionLog(hyperion_log_level level, hyperion_log_category category, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
void hyperionLogV(hyperion_log_level level, hyperion_log_category category, const char *format, va_list args);

/* Log user content (a prompt, generated text) under a label. Unless the
 * configuration sets log_content, the text is replaced by its length:
 * `prompt: [redacted 42 bytes]`. */
void hyperionLogContent(hyperion_log_level level, hyperion_log_category category, const char *label,
                        const char *text, size_t length);

/* Wait until every record accepted so far has been written and handed to the
 * handler, at most timeout_ms. Returns HYPERION_OK or HYPERION_TIMEOUT. */
hyperion_status hyperionLogFlush(uint32_t timeout_ms);

/* Copy the pipeline's counters into *stats. */
void hyperionGetLogStats(hyperion_log_stats *stats);

/* Flush, stop the logger thread and close the file sink. Logging again later
 * restarts it. */
void hyperionShutdownLogging(void);

/* Names: "trace".."off", "general".."generation". Static strings. */
const char *hyperionLogLevelName(hyperion_log_level level);
const char *hyperionLogCategoryName(hyperion_log_category category);

/* ------------------------------------------------------- CPU features */

typedef struct hyperion_cpu_features {
    const char *arch;       /* "x86_64", "arm64" or "other"; static string */
    /* x86: each flag is 1 only when the CPU has it AND the OS saves its state */
    int sse42, avx, avx2, fma, f16c;
    int avx512f, avx512bw, avx512vl, avx512vnni;
    /* arm64 */
    int neon, dotprod;
    int os_saves_ymm;       /* XCR0 has SSE+AVX state enabled */
    int os_saves_zmm;       /* XCR0 has opmask + ZMM state enabled */
    int logical_cores;      /* online logical processors */
    int physical_cores;     /* distinct (package, core) pairs; logical_cores when unknown */
    char model_name[96];    /* from /proc/cpuinfo when available */
} hyperion_cpu_features;

/* The features of the CPU this process runs on, detected once. Never NULL. */
const hyperion_cpu_features *hyperionGetCpuFeatures(void);

#ifdef __cplusplus
}
#endif

#include "hyperion_memory.h"
#include "hyperion_kernels.h"
#include "hyperion_model.h"
#include "hyperion_profiler.h"

#endif /* HYPERION_H */
