/*
 * test_main.c — runs the registered native tests.
 * Usage: hyperion_native_tests [substring ...]  (runs tests whose name contains one)
 */
#include "harness.h"

#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hyperion.h"

#define MAX_TESTS 1024

static struct { const char *name; hy_test_fn fn; const char *file; } tests[MAX_TESTS];
static int test_count;
static int current_failures;
static char tmpdir[512];

void hy_test_register(const char *name, hy_test_fn fn, const char *file) {
    if (test_count < MAX_TESTS) {
        tests[test_count].name = name;
        tests[test_count].fn = fn;
        tests[test_count].file = file;
        test_count++;
    }
}

void hy_test_fail(const char *file, int line, const char *format, ...) {
    const char *slash = strrchr(file, '/');
    fprintf(stdout, "    %s:%d: ", slash ? slash + 1 : file, line);
    va_list args;
    va_start(args, format);
    vfprintf(stdout, format, args);
    va_end(args);
    fputc('\n', stdout);
    current_failures++;
}

const char *hy_test_tmpdir(void) {
    if (!tmpdir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(tmpdir, sizeof tmpdir, "%s/hyperion-native-XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            tmpdir[0] = 0;
            return "/tmp";
        }
    }
    return tmpdir;
}

static int selected(const char *name, int argc, char **argv) {
    if (argc <= 1) return 1;
    for (int i = 1; i < argc; i++)
        if (strstr(name, argv[i])) return 1;
    return 0;
}

int main(int argc, char **argv) {
    int passed = 0, failed = 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 0; i < test_count; i++) {
        if (!selected(tests[i].name, argc, argv)) continue;
        current_failures = 0;
        hyperionClearLastError();
        tests[i].fn();
        if (current_failures) {
            printf("FAIL %s\n", tests[i].name);
            failed++;
        } else {
            printf("ok   %s\n", tests[i].name);
            passed++;
        }
    }
    hyperionShutdownLogging();
    if (tmpdir[0]) {
        char command[600];
        snprintf(command, sizeof command, "rm -rf '%s'", tmpdir);
        if (system(command) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    }
    printf("native: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
