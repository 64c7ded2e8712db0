/*
 * output.c — the report entry points: summary, hotspots, bottlenecks, table,
 * and saving the trace / summary files (through a temporary file renamed into
 * place, so a reader never sees half a file).
 */
#include "profiler/profiler_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef hyperion_status (*writer_fn)(hy_prof_profile *p, hy_jw *w, uint32_t arg);

static hyperion_status w_summary(hy_prof_profile *p, hy_jw *w, uint32_t arg) { (void)arg; return hy_prof_write_summary(p, w); }
static hyperion_status w_hotspots(hy_prof_profile *p, hy_jw *w, uint32_t arg) { return hy_prof_write_hotspots(p, arg, w); }
static hyperion_status w_bottlenecks(hy_prof_profile *p, hy_jw *w, uint32_t arg) { (void)arg; return hy_prof_write_bottlenecks(p, w); }
static hyperion_status w_table(hy_prof_profile *p, hy_jw *w, uint32_t arg) { (void)arg; return hy_prof_write_table(p, w); }

static hyperion_status report_to_string(writer_fn fn, uint32_t arg, char **out, const char *field) {
    if (!out)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", field) }),
                             "output pointer must not be NULL");
    *out = NULL;
    hy_prof_ctl_lock(1);
    hy_prof_profile *p = NULL;
    int temp = 0;
    hyperion_status st = hy_prof_current_profile(&p, &temp);
    if (st == HYPERION_OK) {
        hy_jw w;
        hy_jw_init_memory(&w);
        st = fn(p, &w, arg);
        if (st == HYPERION_OK) {
            *out = hy_jw_take(&w);
            if (!*out) st = HY_RAISE(HYPERION_OUT_OF_MEMORY, NULL, "no memory for the profiler report");
        } else {
            hy_jw_release(&w);
        }
        if (temp) hy_prof_profile_free(p);
    }
    hy_prof_ctl_lock(0);
    return st;
}

hyperion_status hyperionGetProfileSummary(char **out_json) {
    return report_to_string(w_summary, 0, out_json, "out_json");
}

hyperion_status hyperionGetHotspots(uint32_t n, char **out_json) {
    return report_to_string(w_hotspots, n, out_json, "out_json");
}

hyperion_status hyperionAnalyzeBottlenecks(char **out_json) {
    return report_to_string(w_bottlenecks, 0, out_json, "out_json");
}

hyperion_status hyperionGetProfileTable(char **out_text) {
    return report_to_string(w_table, 0, out_text, "out_text");
}

hyperion_status hyperionPrintProfileSummary(FILE *stream) {
    char *text = NULL;
    hyperion_status st = hyperionGetProfileTable(&text);
    if (st != HYPERION_OK) return st;
    FILE *f = stream ? stream : stdout;
    int failed = fputs(text, f) < 0 || fflush(f) != 0;
    hyperionFree(text);
    if (failed) return HY_RAISE(HYPERION_IO, NULL, "could not write the profile table: %s", strerror(errno));
    return HYPERION_OK;
}

/* Write one report to path through a temporary file renamed into place. */
static hyperion_status write_file(const char *path, writer_fn fn, hy_prof_profile *p) {
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp-%d", path, (int)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", "path") }), "path is too long");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        int err = errno;
        return HY_RAISE_WITH(HYPERION_IO, "check that the folder exists and is writable",
                             ((hy_field[]){ HY_TXT("path", path), HY_NUM("errno", err) }),
                             "cannot create \"%s\": %s", tmp, strerror(err));
    }
    hy_jw w;
    hy_jw_init_fd(&w, fd);
    hyperion_status st = fn(p, &w, 0);
    hy_jw_raw(&w, "\n", 1);
    hy_jw_flush(&w);
    int failed = w.failed, err = w.errno_saved;
    hy_jw_release(&w);
    if (close(fd) != 0 && !failed) {
        failed = 1;
        err = errno;
    }
    if (st == HYPERION_OK && !failed && rename(tmp, path) != 0) {
        failed = 1;
        err = errno;
    }
    if (st != HYPERION_OK || failed) {
        unlink(tmp);
        if (failed && err == ENOMEM) return HY_RAISE(HYPERION_OUT_OF_MEMORY, NULL, "no memory to write \"%s\"", path);
        if (failed)
            return HY_RAISE_WITH(HYPERION_IO, err == ENOSPC ? "free some disk space" : NULL,
                                 ((hy_field[]){ HY_TXT("path", path), HY_NUM("errno", err) }),
                                 "cannot write \"%s\": %s", path, strerror(err));
        return st;
    }
    return HYPERION_OK;
}

static hyperion_status w_trace(hy_prof_profile *p, hy_jw *w, uint32_t arg) { (void)arg; return hy_prof_write_trace(p, w); }

/* "x.json" -> "x.summary.json"; anything else gets ".summary.json" appended. */
static int summary_path(const char *path, char *out, size_t size) {
    size_t n = strlen(path);
    int written;
    if (n >= 5 && strcmp(path + n - 5, ".json") == 0)
        written = snprintf(out, size, "%.*s.summary.json", (int)(n - 5), path);
    else
        written = snprintf(out, size, "%s.summary.json", path);
    return written >= 0 && (size_t)written < size;
}

hyperion_status hyperionSaveProfile(const char *path, hyperion_profile_format format) {
    if (!path || !path[0])
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", "path") }),
                             "path must be a non-empty string");
    if ((unsigned)format > HYPERION_PROFILE_BOTH)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "use chrome-trace, summary or both",
                             ((hy_field[]){ HY_TXT("field", "format"), HY_NUM("value", (int)format) }),
                             "unknown profile format %d", (int)format);
    char second[4096];
    if (format == HYPERION_PROFILE_BOTH && !summary_path(path, second, sizeof second))
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", "path") }), "path is too long");
    hy_prof_ctl_lock(1);
    hy_prof_profile *p = NULL;
    int temp = 0;
    hyperion_status st = hy_prof_current_profile(&p, &temp);
    if (st == HYPERION_OK) {
        if (format == HYPERION_PROFILE_SUMMARY) st = write_file(path, w_summary, p);
        else st = write_file(path, w_trace, p);
        if (st == HYPERION_OK && format == HYPERION_PROFILE_BOTH) st = write_file(second, w_summary, p);
        if (temp) hy_prof_profile_free(p);
    }
    hy_prof_ctl_lock(0);
    return st;
}

