/* test_error.c — the last-error record, status names and the error callback. */
#include "harness.h"
#include "core/internal.h"

#include <pthread.h>

static hyperion_status callback_code;
static char callback_message[512];

static void count_errors(const hyperion_error *e, void *user_data) {
    (*(int *)user_data)++;
    callback_code = e->code;
    snprintf(callback_message, sizeof callback_message, "%s", e->message);
}

HY_TEST(error_record_carries_code_file_line_and_fields) {
    hyperion_status s = HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "use 1 to 64",
                                      ((hy_field[]){ HY_TXT("field", "threads"), HY_NUM("value", 99) }),
                                      "threads must be between 1 and 64, got %d", 99);
    int line = __LINE__ - 3;
    HY_CHECK_INT(s, HYPERION_INVALID_ARGUMENT);
    const hyperion_error *e = hyperionGetLastError();
    HY_CHECK_INT(e->code, HYPERION_INVALID_ARGUMENT);
    HY_CHECK_STR(e->category, "input");
    HY_CHECK_STR(e->message, "threads must be between 1 and 64, got 99");
    HY_CHECK_STR(e->file, "tests/test_error.c");
    HY_CHECK_INT(e->line, line);
    HY_CHECK_STR(e->suggestion, "use 1 to 64");
    HY_REQUIRE(e->field_count == 2);
    HY_CHECK_STR(e->fields[0].name, "field");
    HY_CHECK_STR(e->fields[0].text, "threads");
    HY_CHECK_INT(e->fields[1].is_number, 1);
    HY_CHECK_NEAR(e->fields[1].number, 99, 0);
    hyperionClearLastError();
    HY_CHECK_INT(hyperionGetLastError()->code, HYPERION_OK);
}

HY_TEST(status_names_and_categories_cover_every_code) {
    for (int s = 0; s < HYPERION_STATUS_COUNT; s++) {
        HY_CHECK(strncmp(hyperionStatusName((hyperion_status)s), "HYPERION_", 9) == 0);
        HY_CHECK(hyperionStatusCategory((hyperion_status)s) != NULL);
    }
    HY_CHECK_STR(hyperionStatusName(HYPERION_MEMORY_LIMIT), "HYPERION_MEMORY_LIMIT");
    HY_CHECK_STR(hyperionStatusCategory(HYPERION_MEMORY_LIMIT), "limit");
    HY_CHECK_STR(hyperionStatusCategory(HYPERION_MODEL_INVALID), "model");
    HY_CHECK_STR(hyperionStatusCategory(HYPERION_ABORTED), "aborted");
    HY_CHECK_STR(hyperionStatusName((hyperion_status)999), "HYPERION_UNKNOWN");
}

HY_TEST(error_callback_fires_once_per_error) {
    int calls = 0;
    hyperionSetErrorCallback(count_errors, &calls);
    HY_RAISE(HYPERION_IO, NULL, "first");
    HY_RAISE(HYPERION_MODEL_INVALID, NULL, "second %d", 2);
    hyperionSetErrorCallback(NULL, NULL);
    HY_RAISE(HYPERION_IO, NULL, "not reported");
    HY_CHECK_INT(calls, 2);
    HY_CHECK_INT(callback_code, HYPERION_MODEL_INVALID);
    HY_CHECK_STR(callback_message, "second 2");
}

static void raising_callback(const hyperion_error *e, void *user_data) {
    (*(int *)user_data)++;
    HY_RAISE(HYPERION_INTERNAL, NULL, "raised inside the callback");
}

HY_TEST(error_raised_inside_callback_does_not_recurse) {
    int calls = 0;
    hyperionSetErrorCallback(raising_callback, &calls);
    HY_RAISE(HYPERION_IO, NULL, "outer");
    hyperionSetErrorCallback(NULL, NULL);
    HY_CHECK_INT(calls, 1);
    HY_CHECK_INT(hyperionGetLastError()->code, HYPERION_INTERNAL);
}

static void *raise_on_thread(void *arg) {
    HY_RAISE(HYPERION_TIMEOUT, NULL, "other thread");
    *(hyperion_status *)arg = hyperionGetLastError()->code;
    return NULL;
}

HY_TEST(last_error_is_per_thread) {
    hyperionClearLastError();
    hyperion_status seen = HYPERION_OK;
    pthread_t t;
    pthread_create(&t, NULL, raise_on_thread, &seen);
    pthread_join(t, NULL);
    HY_CHECK_INT(seen, HYPERION_TIMEOUT);
    HY_CHECK_INT(hyperionGetLastError()->code, HYPERION_OK);
}

HY_TEST(long_messages_and_fields_are_truncated_safely) {
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    hy_field fields[12];
    for (int i = 0; i < 12; i++) fields[i] = HY_TXT(big, big);
    hy_error_raise(HYPERION_INTERNAL, __FILE__, __LINE__, big, fields, 12, "%s", big);
    const hyperion_error *e = hyperionGetLastError();
    HY_CHECK_INT(strlen(e->message), sizeof e->message - 1);
    HY_CHECK_INT(e->field_count, HYPERION_ERROR_MAX_FIELDS);
    HY_CHECK_INT(strlen(e->fields[7].text), sizeof e->fields[7].text - 1);
}

HY_TEST(version_matches_header) {
    HY_CHECK_STR(hyperionVersion(), HYPERION_VERSION_STRING);
}
