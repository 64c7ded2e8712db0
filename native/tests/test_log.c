/* test_log.c — the logging pipeline: levels, formats, rotation, redaction,
 * overflow accounting and the record handler. */
#include "harness.h"
#include "core/log_internal.h"

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void config_for_file(hyperion_log_config *c, const char *path, hyperion_log_format format) {
    hyperionLogConfigDefaults(c);
    c->console = 0;
    c->level = HYPERION_LOG_TRACE;
    snprintf(c->file_path, sizeof c->file_path, "%s", path);
    c->file_format = format;
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    buf[got] = 0;
    fclose(f);
    return buf;
}

static void reset_logging(void) {
    hyperion_log_config c;
    hyperionLogConfigDefaults(&c);
    c.console = 0;
    hyperionConfigureLogging(&c);
}

HY_TEST(log_json_lines_carry_level_category_time_thread) {
    char path[600];
    snprintf(path, sizeof path, "%s/json.log", hy_test_tmpdir());
    hyperion_log_config c;
    config_for_file(&c, path, HYPERION_LOG_FORMAT_JSON);
    HY_REQUIRE(hyperionConfigureLogging(&c) == HYPERION_OK);
    hyperionLog(HYPERION_LOG_INFO, HYPERION_LOG_MODEL, "loaded \"%s\"\twith %d layers", "m.gguf", 5);
    HY_REQUIRE(hyperionLogFlush(2000) == HYPERION_OK);
    char *text = read_file(path);
    HY_REQUIRE(text != NULL);
    HY_CHECK(strstr(text, "\"level\":\"info\"") != NULL);
    HY_CHECK(strstr(text, "\"category\":\"model\"") != NULL);
    HY_CHECK(strstr(text, "\"time\":\"20") != NULL);
    HY_CHECK(strstr(text, "\"thread\":") != NULL);
    HY_CHECK(strstr(text, "\"message\":\"loaded \\\"m.gguf\\\"\\twith 5 layers\"") != NULL);
    free(text);
    reset_logging();
}

HY_TEST(log_levels_filter_per_category) {
    char path[600];
    snprintf(path, sizeof path, "%s/levels.log", hy_test_tmpdir());
    hyperion_log_config c;
    config_for_file(&c, path, HYPERION_LOG_FORMAT_TEXT);
    c.level = HYPERION_LOG_WARN;
    c.category_level[HYPERION_LOG_MEMORY] = HYPERION_LOG_DEBUG;
    HY_REQUIRE(hyperionConfigureLogging(&c) == HYPERION_OK);
    HY_CHECK(hyperionLogEnabled(HYPERION_LOG_DEBUG, HYPERION_LOG_MEMORY));
    HY_CHECK(!hyperionLogEnabled(HYPERION_LOG_INFO, HYPERION_LOG_MODEL));
    hyperionLog(HYPERION_LOG_DEBUG, HYPERION_LOG_MEMORY, "memory-debug-kept");
    hyperionLog(HYPERION_LOG_INFO, HYPERION_LOG_MODEL, "model-info-dropped");
    hyperionLog(HYPERION_LOG_ERROR, HYPERION_LOG_MODEL, "model-error-kept");
    HY_REQUIRE(hyperionLogFlush(2000) == HYPERION_OK);
    char *text = read_file(path);
    HY_REQUIRE(text != NULL);
    HY_CHECK(strstr(text, "memory-debug-kept") != NULL);
    HY_CHECK(strstr(text, "model-info-dropped") == NULL);
    HY_CHECK(strstr(text, "ERROR model") != NULL);
    free(text);
    reset_logging();
}

static int count_files_with_prefix(const char *dir, const char *prefix, long *max_size, const char *suffix) {
    DIR *d = opendir(dir);
    struct dirent *e;
    int count = 0;
    *max_size = 0;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0) continue;
        if (suffix && !strstr(e->d_name, suffix)) continue;
        char p[1200];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) == 0 && st.st_size > *max_size) *max_size = st.st_size;
        count++;
    }
    closedir(d);
    return count;
}

static void rotation_case(int compress) {
    char dir[600], path[700];
    snprintf(dir, sizeof dir, "%s/rot%d", hy_test_tmpdir(), compress);
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/app.log", dir);
    hyperion_log_config c;
    config_for_file(&c, path, HYPERION_LOG_FORMAT_JSON);
    c.rotate_max_bytes = 4096;
    c.rotate_max_files = 3;
    c.rotate_compress = compress;
    HY_REQUIRE(hyperionConfigureLogging(&c) == HYPERION_OK);
    for (int i = 0; i < 400; i++) {
        hyperionLog(HYPERION_LOG_INFO, HYPERION_LOG_PERFORMANCE, "record %d of the rotation test, padded to some length", i);
        if (i % 50 == 0) HY_REQUIRE(hyperionLogFlush(2000) == HYPERION_OK); /* keep the queue from overflowing */
    }
    HY_REQUIRE(hyperionLogFlush(2000) == HYPERION_OK);
    long max_size;
    int files = count_files_with_prefix(dir, "app.log", &max_size, NULL);
    HY_CHECK_INT(files, 3);
    HY_CHECK(max_size <= 4096);
    if (compress) {
        HY_CHECK_INT(count_files_with_prefix(dir, "app.log", &max_size, ".gz"), 2);
    }
    hyperion_log_stats stats;
    hyperionGetLogStats(&stats);
    HY_CHECK(stats.rotations >= 2);
    reset_logging();
}

HY_TEST(log_rotation_keeps_n_files_of_bounded_size) { rotation_case(0); }
#if HYPERION_HAVE_ZLIB
HY_TEST(log_rotation_compresses_rotated_files) { rotation_case(1); }
#endif

HY_TEST(log_content_is_redacted_unless_allowed) {
    char path[600];
    snprintf(path, sizeof path, "%s/content.log", hy_test_tmpdir());
    hyperion_log_config c;
    config_for_file(&c, path, HYPERION_LOG_FORMAT_TEXT);
    HY_REQUIRE(hyperionConfigureLogging(&c) == HYPERION_OK);
    const char *secret = "my secret prompt";
    hyperionLogContent(HYPERION_LOG_INFO, HYPERION_LOG_GENERATION, "prompt", secret, strlen(secret));
    HY_REQUIRE(hyperionLogFlush(2000) == HYPERION_OK);
    char *text = read_file(path);
    HY_CHECK(strstr(text, "my secret prompt") == NULL);
    HY_CHECK(strstr(text, "[redacted 16 bytes") != NULL);
    free(text);
    c.log_content = 1;
    HY_REQUIRE(hyperionConfigureLogging(&c) == HYPERION_OK);
    hyperionLogContent(HYPERION_LOG_INFO, HYPERION_LOG_GENERATION, "prompt", secret, strlen(secret));
    HY_REQUIRE(hyperionLogFlush(2000) == HYPERION_OK);
    text = read_file(path);
    HY_CHECK(strstr(text, "prompt: my secret prompt") != NULL);
    free(text);
    reset_logging();
}

static void slow_handler(const hyperion_log_record *r, void *user_data) {
    (void)r;
    (*(int *)user_data)++;
    usleep(200);
}

HY_TEST(log_overflow_is_counted_and_reported) {
    char path[600];
    snprintf(path, sizeof path, "%s/overflow.log", hy_test_tmpdir());
    hyperion_log_config c;
    config_for_file(&c, path, HYPERION_LOG_FORMAT_TEXT);
    c.queue_capacity = 8;
    HY_REQUIRE(hyperionConfigureLogging(&c) == HYPERION_OK);
    HY_REQUIRE(hyperionLogFlush(2000) == HYPERION_OK); /* the new small queue is in place */
    int handled = 0;
    hyperionSetLogHandler(slow_handler, &handled);
    hyperion_log_stats before, after;
    hyperionGetLogStats(&before);
    for (int i = 0; i < 2000; i++) hyperionLog(HYPERION_LOG_INFO, HYPERION_LOG_GENERAL, "flood %d", i);
    HY_REQUIRE(hyperionLogFlush(5000) == HYPERION_OK);
    hyperionSetLogHandler(NULL, NULL);
    hyperionGetLogStats(&after);
    uint64_t accepted = after.accepted - before.accepted, dropped = after.dropped_queue - before.dropped_queue;
    HY_CHECK_INT(accepted + dropped, 2000);
    HY_CHECK(dropped > 0);
    HY_CHECK(handled >= (int)accepted);
    char *text = read_file(path);
    HY_CHECK(strstr(text, "log records were dropped because the log queue (capacity 8) was full") != NULL);
    free(text);
    c.queue_capacity = 4096;
    HY_REQUIRE(hyperionConfigureLogging(&c) == HYPERION_OK);
    reset_logging();
}

HY_TEST(log_configuration_rejects_bad_values_and_keeps_old) {
    hyperion_log_config c;
    hyperionLogConfigDefaults(&c);
    c.level = (hyperion_log_level)42;
    HY_CHECK_INT(hyperionConfigureLogging(&c), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_STR(hyperionGetLastError()->fields[0].text, "level");
    hyperionLogConfigDefaults(&c);
    snprintf(c.file_path, sizeof c.file_path, "/nonexistent-dir-hyperion/x.log");
    HY_CHECK_INT(hyperionConfigureLogging(&c), HYPERION_IO);
    HY_CHECK_STR(hyperionGetLastError()->fields[0].text, "file");
}

HY_TEST(json_escape_handles_controls_and_invalid_utf8) {
    char out[128];
    const char in[] = "a\"b\\c\n\x01\xff\xc3\xa9";
    hy_json_escape(in, sizeof in - 1, out, sizeof out);
    HY_CHECK_STR(out, "a\\\"b\\\\c\\n\\u0001\xef\xbf\xbd\xc3\xa9");
    char tiny[6];
    hy_json_escape("\"\"\"\"", 4, tiny, sizeof tiny); /* never splits an escape */
    HY_CHECK_STR(tiny, "\\\"\\\"");
}

/* Starting the logger allocates through the pool; when that allocation fails
 * with memory debug logging on, the failure's own log record must not come
 * back into the start (the same thread would take the logger's lock twice). */
HY_TEST(log_start_survives_its_own_failed_allocation) {
    hyperionShutdownLogging();
    HY_REQUIRE(hyperionSetCategoryLogLevel(HYPERION_LOG_MEMORY, HYPERION_LOG_DEBUG) == HYPERION_OK);
    HY_REQUIRE(hyperionSetCategoryLogLevel(HYPERION_LOG_GENERAL, HYPERION_LOG_DEBUG) == HYPERION_OK);
    hyperion_log_stats before, after;
    hyperionGetLogStats(&before);
    hyperionTestFailAllocation(1, 0);   /* the log queue's allocation */
    hyperionLog(HYPERION_LOG_ERROR, HYPERION_LOG_GENERAL, "nowhere to go");   /* returns: dropped */
    hyperionTestFailAllocation(0, 0);
    hyperionGetLogStats(&after);
    HY_CHECK(after.dropped_queue > before.dropped_queue);
    HY_CHECK_INT((int)(after.accepted - before.accepted), 0);
    reset_logging();   /* starts it for real */
    hyperionGetLogStats(&before);
    hyperionLog(HYPERION_LOG_ERROR, HYPERION_LOG_GENERAL, "delivered");
    HY_REQUIRE(hyperionLogFlush(2000) == HYPERION_OK);
    hyperionGetLogStats(&after);
    HY_CHECK_INT((int)(after.accepted - before.accepted), 1);
    HY_REQUIRE(hyperionSetLogLevel(HYPERION_LOG_WARN) == HYPERION_OK);
}
