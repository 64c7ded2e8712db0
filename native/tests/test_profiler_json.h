/*
 * test_profiler_json.h — a minimal strict JSON reader for the profiler tests:
 * it rejects anything that is not RFC 8259 JSON (trailing commas, NaN, bad
 * escapes, control characters in strings), keeps object keys in order, and
 * keeps each number's text so timestamps can be read back exactly.
 */
#ifndef HYPERION_TEST_PROFILER_JSON_H
#define HYPERION_TEST_PROFILER_JSON_H

#include <stddef.h>
#include <stdint.h>

typedef enum { TJ_NULL, TJ_BOOL, TJ_NUMBER, TJ_STRING, TJ_ARRAY, TJ_OBJECT } tj_type;

typedef struct tj_value {
    tj_type type;
    int boolean;
    double number;
    char *text;                 /* string value, or the number's text */
    size_t n;                   /* items of an array / members of an object */
    struct tj_value **items;    /* array items or object member values */
    char **keys;                /* object member keys, in order */
} tj_value;

/* Parse a whole document; NULL with a message naming the byte offset. */
tj_value *tj_parse(const char *text, char *error, size_t error_size);
void tj_free(tj_value *v);

const tj_value *tj_get(const tj_value *object, const char *key);   /* NULL when absent */
const tj_value *tj_at(const tj_value *array, size_t i);
double tj_num(const tj_value *v);                                 /* NAN unless a number */
const char *tj_str(const tj_value *v);                            /* NULL unless a string */
/* A number with up to 3 decimals ("12.345") as an integer times 1000, exact;
 * -1 when it has another form. Reads the trace's microsecond timestamps as ns. */
int64_t tj_milli(const tj_value *v);
/* Read a whole file into malloc'd memory (NULL on failure). */
char *tj_read_file(const char *path);

#endif
