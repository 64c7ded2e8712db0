/*
 * harness.h — a small unit-test harness for the C core.
 *
 * HY_TEST(name) { ... } defines and registers a test. HY_CHECK* record a failure
 * (file, line, message) and let the test go on; HY_REQUIRE* return from the test
 * on failure. The runner prints one line per test and ends with
 * "native: N passed, M failed".
 */
#ifndef HYPERION_TEST_HARNESS_H
#define HYPERION_TEST_HARNESS_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef void (*hy_test_fn)(void);
void hy_test_register(const char *name, hy_test_fn fn, const char *file);
void hy_test_fail(const char *file, int line, const char *format, ...) __attribute__((format(printf, 3, 4)));
/* Path of a fresh empty folder for the running test's files. */
const char *hy_test_tmpdir(void);

/* Test data: xorshift32 (shifts 13, 17, 5) advancing *state, and a float in
 * [-1, 1) from its low 24 bits. Deterministic: each file seeds its own state. */
static inline uint32_t hy_test_rand(uint32_t *state) {
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;
    return *state;
}
static inline float hy_test_rand_float(uint32_t *state) {
    return (float)(hy_test_rand(state) & 0xFFFFFF) / 8388608.0f - 1.0f;
}

#define HY_TEST(name)                                                      \
    static void name(void);                                                \
    __attribute__((constructor)) static void register_##name(void) {       \
        hy_test_register(#name, name, __FILE__);                           \
    }                                                                      \
    static void name(void)

#define HY_CHECK(cond)                                                     \
    do { if (!(cond)) hy_test_fail(__FILE__, __LINE__, "check failed: %s", #cond); } while (0)

#define HY_REQUIRE(cond)                                                   \
    do { if (!(cond)) { hy_test_fail(__FILE__, __LINE__, "required: %s", #cond); return; } } while (0)

#define HY_CHECK_INT(a, b)                                                 \
    do { long long va_ = (long long)(a), vb_ = (long long)(b);             \
         if (va_ != vb_) hy_test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, va_, vb_); } while (0)

#define HY_CHECK_STR(a, b)                                                 \
    do { const char *sa_ = (a), *sb_ = (b);                                \
         if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0)                        \
             hy_test_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b, sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)"); } while (0)

#define HY_CHECK_NEAR(a, b, tol)                                           \
    do { double va_ = (double)(a), vb_ = (double)(b);                      \
         if (!(fabs(va_ - vb_) <= (tol)))                                  \
             hy_test_fail(__FILE__, __LINE__, "%s ~ %s: %.9g vs %.9g (tol %g)", #a, #b, va_, vb_, (double)(tol)); } while (0)

#endif
