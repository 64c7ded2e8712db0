/*
 * log_sink.c — formatting records and writing them to the console and to a
 * file with size-based rotation (optionally gzip-compressing rotated files).
 * Everything here runs on the logger thread only.
 */
#include "log_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if HYPERION_HAVE_ZLIB
#include <zlib.h>
#endif

struct hy_log_sinks {
    hyperion_log_config config;
    int fd;             /* file sink, -1 when none */
    uint64_t file_size; /* bytes in the active file */
};

static const char *const level_upper[] = { "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF" };

size_t hy_log_format_record(const hyperion_log_record *r, hyperion_log_format format, int include_timestamp,
                            int include_thread_id, char *out, size_t size) {
    char when[40] = "";
    if (include_timestamp) hy_format_iso8601(r->time_ns, when, sizeof when);
    const char *level = hyperionLogLevelName(r->level);
    const char *category = hyperionLogCategoryName(r->category);
    size_t message_len = strnlen(r->message, HYPERION_LOG_MESSAGE_MAX);
    int n;
    if (format == HYPERION_LOG_FORMAT_JSON) {
        char escaped[HYPERION_LOG_MESSAGE_MAX * 6 + 8];
        hy_json_escape(r->message, message_len, escaped, sizeof escaped);
        char time_part[64] = "", thread_part[48] = "";
        if (include_timestamp) snprintf(time_part, sizeof time_part, "\"time\":\"%s\",", when);
        if (include_thread_id) snprintf(thread_part, sizeof thread_part, "\"thread\":%llu,", (unsigned long long)r->thread_id);
        n = snprintf(out, size, "{%s\"level\":\"%s\",\"category\":\"%s\",%s\"message\":\"%s\"}\n", time_part, level,
                     category, thread_part, escaped);
    } else {
        char thread_part[40] = "";
        if (include_thread_id) snprintf(thread_part, sizeof thread_part, " [tid %llu]", (unsigned long long)r->thread_id);
        n = snprintf(out, size, "%s%s%-5s %s%s: %.*s\n", when, include_timestamp ? " " : "",
                     (unsigned)r->level < 6 ? level_upper[r->level] : "?", category, thread_part, (int)message_len,
                     r->message);
    }
    if (n < 0) return 0;
    if ((size_t)n >= size) { /* truncated: keep the line ending */
        out[size - 2] = '\n';
        out[size - 1] = '\0';
        return size - 1;
    }
    return (size_t)n;
}

hyperion_status hy_log_sinks_create(hy_log_sinks **out) {
    hy_log_sinks *s = hyperionCalloc(1, sizeof *s, HYPERION_TAG_LOGGING);
    if (!s) return hyperionGetLastError()->code;
    hyperionLogConfigDefaults(&s->config);
    s->fd = -1;
    *out = s;
    return HYPERION_OK;
}

void hy_log_sinks_destroy(hy_log_sinks *sinks) {
    if (!sinks) return;
    if (sinks->fd >= 0) close(sinks->fd);
    hyperionFree(sinks);
}

static int open_log_file(const char *path, uint64_t *size) {
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    struct stat st;
    *size = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
    return fd;
}

hyperion_status hy_log_sinks_configure(hy_log_sinks *s, const hyperion_log_config *config) {
    int same_file = s->fd >= 0 && strcmp(config->file_path, s->config.file_path) == 0;
    if (config->file_path[0] && !same_file) {
        uint64_t size = 0;
        int fd = open_log_file(config->file_path, &size);
        if (fd < 0) {
            int err = errno;
            return HY_RAISE_WITH(HYPERION_IO, "check that the folder exists and is writable",
                                 ((hy_field[]){ HY_TXT("field", "file"), HY_TXT("path", config->file_path),
                                                HY_TXT("reason", strerror(err)) }),
                                 "cannot open log file \"%s\": %s", config->file_path, strerror(err));
        }
        if (s->fd >= 0) close(s->fd);
        s->fd = fd;
        s->file_size = size;
    } else if (!config->file_path[0] && s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
    s->config = *config;
    return HYPERION_OK;
}

static int write_all(int fd, const char *data, size_t length) {
    while (length) {
        ssize_t n = write(fd, data, length);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        data += n;
        length -= (size_t)n;
    }
    return 0;
}

/* Compress `from` into `to` with gzip and remove `from`. */
static int compress_file(const char *from, const char *to) {
#if HYPERION_HAVE_ZLIB
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0) return -1;
    gzFile gz = gzopen(to, "wb6");
    if (!gz) {
        close(in);
        return -1;
    }
    char buffer[65536];
    int ok = 1;
    for (;;) {
        ssize_t n = read(in, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) { ok = 0; break; }
        if (n == 0) break;
        if (gzwrite(gz, buffer, (unsigned)n) != (int)n) { ok = 0; break; }
    }
    close(in);
    if (gzclose(gz) != Z_OK) ok = 0;
    if (!ok) {
        unlink(to);
        return -1;
    }
    unlink(from);
    return 0;
#else
    (void)from;
    (void)to;
    errno = ENOSYS;
    return -1;
#endif
}

/* path.N or path.N.gz for rotated file N (1 = newest). */
static void rotated_name(const char *path, unsigned index, int compressed, char *out, size_t size) {
    snprintf(out, size, "%s.%u%s", path, index, compressed ? ".gz" : "");
}

/* Shift path.1..path.(max-2) up by one, drop what falls past max_files - 1
 * rotated files, move the active file to path.1 and start a new one. */
static int rotate(hy_log_sinks *s) {
    const char *path = s->config.file_path;
    unsigned keep = s->config.rotate_max_files > 0 ? s->config.rotate_max_files - 1 : 0; /* rotated files kept */
    int compress = s->config.rotate_compress;
    char from[HYPERION_LOG_PATH_MAX + 32], to[HYPERION_LOG_PATH_MAX + 32];
    int failed = 0;

    close(s->fd);
    s->fd = -1;
    if (keep == 0) {
        if (truncate(path, 0) != 0) failed = 1;
    } else {
        for (int z = 0; z < 2; z++) { /* the oldest may exist compressed or not */
            rotated_name(path, keep, z, from, sizeof from);
            unlink(from);
        }
        for (unsigned i = keep - 1; i >= 1; i--) {
            for (int z = 0; z < 2; z++) {
                rotated_name(path, i, z, from, sizeof from);
                rotated_name(path, i + 1, z, to, sizeof to);
                if (rename(from, to) != 0 && errno != ENOENT) failed = 1;
            }
        }
        rotated_name(path, 1, 0, to, sizeof to);
        if (rename(path, to) != 0) failed = 1;
        else if (compress) {
            char gz[HYPERION_LOG_PATH_MAX + 32];
            rotated_name(path, 1, 1, gz, sizeof gz);
            if (compress_file(to, gz) != 0) failed = 1;
        }
    }
    s->fd = open_log_file(path, &s->file_size);
    if (s->fd < 0) failed = 1;
    return failed ? -1 : 0;
}

int hy_log_sinks_write(hy_log_sinks *s, const hyperion_log_record *record, uint64_t *rotations, uint64_t *sink_errors) {
    static char line[HYPERION_LOG_MESSAGE_MAX * 6 + 256]; /* logger thread only */
    int written = 0;
    const hyperion_log_config *c = &s->config;
    if (c->console) {
        size_t n = hy_log_format_record(record, c->console_format, c->include_timestamp, c->include_thread_id, line,
                                        sizeof line);
        if (write_all(STDERR_FILENO, line, n) == 0) written = 1;
        else (*sink_errors)++;
    }
    if (s->fd >= 0 || c->file_path[0]) {
        size_t n = hy_log_format_record(record, c->file_format, c->include_timestamp, c->include_thread_id, line,
                                        sizeof line);
        if (s->fd >= 0 && c->rotate_max_bytes > 0 && s->file_size > 0 && s->file_size + n > c->rotate_max_bytes) {
            if (rotate(s) != 0) (*sink_errors)++;
            (*rotations)++;
        }
        if (s->fd < 0) { /* a failed rotation or open: try to reopen once per record */
            s->fd = open_log_file(c->file_path, &s->file_size);
        }
        if (s->fd >= 0 && write_all(s->fd, line, n) == 0) {
            s->file_size += n;
            written = 1;
        } else {
            (*sink_errors)++;
        }
    }
    return written;
}
