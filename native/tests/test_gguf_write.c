/* test_gguf_write.c — the GGUF writer: round trips of every metadata type and
 * of streamed tensor data through the reader, and the writer's misuse checks. */
#include "harness.h"
#include "test_gguf_util.h"

#include "kernels/types.h"
#include "model/gguf.h"
#include "model/gguf_write.h"

#include <unistd.h>

static const uint8_t u8s[] = { 0, 1, 255 };
static const int8_t i8s[] = { -128, 0, 127 };
static const uint16_t u16s[] = { 0, 65535, 12345 };
static const int16_t i16s[] = { -32768, 32767, -1 };
static const uint32_t u32s[] = { 0, 4294967295u, 7 };
static const int32_t i32s[] = { INT32_MIN, INT32_MAX, -7 };
static const float f32s[] = { 1.5f, -0.0f, 3.25e-7f };
static const uint8_t bools[] = { 1, 0, 1, 1 };
static const uint64_t u64s[] = { 0, UINT64_MAX, 1ull << 40 };
static const int64_t i64s[] = { INT64_MIN, INT64_MAX, -3 };
static const double f64s[] = { 2.5, -1e300, 1e-300 };
static const char *const strs[] = { "", "a", "h\xc3\xa9llo w\xc3\xb6rld", "\xf0\x9f\x98\x80 emoji" };

/* Shapes of the round-trip tensors: [ne0, ne1] and type. */
static const struct { const char *name; uint32_t type; uint32_t n_dims; uint64_t ne[4]; } shapes[] = {
    { "a.f32", HY_TYPE_F32, 2, { 5, 3, 1, 1 } },
    { "b.q8_0", HY_TYPE_Q8_0, 2, { 64, 2, 1, 1 } },
    { "c.f16", HY_TYPE_F16, 1, { 7, 1, 1, 1 } },
    { "d.4d", HY_TYPE_BF16, 4, { 2, 3, 2, 2 } },
};
#define N_SHAPES (sizeof shapes / sizeof shapes[0])

static uint8_t data_byte(uint64_t tensor, uint64_t i) {
    return (uint8_t)(i * 31u + tensor * 7u + 1u);
}

/* Set one pair of every type and one array of every element type. */
static hyperion_status set_every_type(hy_gguf_writer *w) {
    hyperion_status s = HYPERION_OK;
#define T(call) do { if (!s) s = (call); } while (0)
    T(hy_gguf_writer_set_u8(w, "t.u8", 200));
    T(hy_gguf_writer_set_i8(w, "t.i8", -100));
    T(hy_gguf_writer_set_u16(w, "t.u16", 60000));
    T(hy_gguf_writer_set_i16(w, "t.i16", -30000));
    T(hy_gguf_writer_set_u32(w, "t.u32", 4000000000u));
    T(hy_gguf_writer_set_i32(w, "t.i32", -2000000000));
    T(hy_gguf_writer_set_f32(w, "t.f32", 0.15625f));
    T(hy_gguf_writer_set_bool(w, "t.bool", 1));
    T(hy_gguf_writer_set_string(w, "t.string", "h\xc3\xa9llo"));
    T(hy_gguf_writer_set_u64(w, "t.u64", 1ull << 62));
    T(hy_gguf_writer_set_i64(w, "t.i64", -(1ll << 61)));
    T(hy_gguf_writer_set_f64(w, "t.f64", 1.0 / 3.0));
    T(hy_gguf_writer_set_string_n(w, "t.bytes", "a\0b", 3));
    T(hy_gguf_writer_set_array(w, "a.u8", HY_GGUF_UINT8, u8s, 3));
    T(hy_gguf_writer_set_array(w, "a.i8", HY_GGUF_INT8, i8s, 3));
    T(hy_gguf_writer_set_array(w, "a.u16", HY_GGUF_UINT16, u16s, 3));
    T(hy_gguf_writer_set_array(w, "a.i16", HY_GGUF_INT16, i16s, 3));
    T(hy_gguf_writer_set_array(w, "a.u32", HY_GGUF_UINT32, u32s, 3));
    T(hy_gguf_writer_set_array(w, "a.i32", HY_GGUF_INT32, i32s, 3));
    T(hy_gguf_writer_set_array(w, "a.f32", HY_GGUF_FLOAT32, f32s, 3));
    T(hy_gguf_writer_set_array(w, "a.bool", HY_GGUF_BOOL, bools, 4));
    T(hy_gguf_writer_set_array(w, "a.u64", HY_GGUF_UINT64, u64s, 3));
    T(hy_gguf_writer_set_array(w, "a.i64", HY_GGUF_INT64, i64s, 3));
    T(hy_gguf_writer_set_array(w, "a.f64", HY_GGUF_FLOAT64, f64s, 3));
    T(hy_gguf_writer_set_array(w, "a.empty", HY_GGUF_UINT32, NULL, 0));
    T(hy_gguf_writer_set_string_array(w, "a.string", strs, NULL, 4));
    T(hy_gguf_writer_set_string_array(w, "a.nostrings", NULL, NULL, 0));
#undef T
    return s;
}

static hyperion_status add_shapes(hy_gguf_writer *w) {
    for (size_t i = 0; i < N_SHAPES; i++) {
        hyperion_status s = hy_gguf_writer_add_tensor(w, shapes[i].name, shapes[i].type, shapes[i].n_dims, shapes[i].ne);
        if (s) return s;
    }
    return HYPERION_OK;
}

/* Stream every tensor's bytes in pieces of `piece` bytes (crossing tensors). */
static hyperion_status stream_data(hy_gguf_writer *w, uint64_t piece) {
    uint64_t total = 0;
    for (size_t t = 0; t < N_SHAPES; t++) total += hy_gguf_writer_tensor_bytes(w, t);
    uint8_t *all = malloc((size_t)total);
    if (!all) return HYPERION_OUT_OF_MEMORY;
    uint64_t o = 0;
    for (size_t t = 0; t < N_SHAPES; t++)
        for (uint64_t i = 0; i < hy_gguf_writer_tensor_bytes(w, t); i++) all[o++] = data_byte(t, i);
    hyperion_status s = HYPERION_OK;
    for (o = 0; o < total && !s; o += piece) s = hy_gguf_writer_write(w, all + o, total - o < piece ? total - o : piece);
    free(all);
    return s;
}

static void check_every_type(const hy_gguf *g) {
    uint32_t u32 = 0;
    int32_t i32 = 0;
    uint64_t u64 = 0;
    float f = 0;
    int b = 0;
    const char *text = NULL;
    uint64_t len = 0;
    HY_CHECK_INT(hy_gguf_get_u32(g, "t.u8", &u32), HYPERION_OK);
    HY_CHECK_INT(u32, 200);
    HY_CHECK_INT(hy_gguf_get_i32(g, "t.i8", &i32), HYPERION_OK);
    HY_CHECK_INT(i32, -100);
    HY_CHECK_INT(hy_gguf_get_u32(g, "t.u16", &u32), HYPERION_OK);
    HY_CHECK_INT(u32, 60000);
    HY_CHECK_INT(hy_gguf_get_i32(g, "t.i16", &i32), HYPERION_OK);
    HY_CHECK_INT(i32, -30000);
    HY_CHECK_INT(hy_gguf_get_u32(g, "t.u32", &u32), HYPERION_OK);
    HY_CHECK(u32 == 4000000000u);
    HY_CHECK_INT(hy_gguf_get_i32(g, "t.i32", &i32), HYPERION_OK);
    HY_CHECK_INT(i32, -2000000000);
    HY_CHECK_INT(hy_gguf_get_f32(g, "t.f32", &f), HYPERION_OK);
    HY_CHECK(f == 0.15625f);
    HY_CHECK_INT(hy_gguf_get_bool(g, "t.bool", &b), HYPERION_OK);
    HY_CHECK_INT(b, 1);
    HY_CHECK_INT(hy_gguf_get_string(g, "t.string", &text, &len), HYPERION_OK);
    HY_CHECK(len == 6 && !memcmp(text, "h\xc3\xa9llo", 6));
    HY_CHECK_INT(hy_gguf_get_u64(g, "t.u64", &u64), HYPERION_OK);
    HY_CHECK(u64 == 1ull << 62);
    const hy_gguf_kv *kv = hy_gguf_find(g, "t.i64");
    HY_REQUIRE(kv && kv->type == HY_GGUF_INT64);
    int64_t i64;
    memcpy(&i64, kv->value, 8);
    HY_CHECK(i64 == -(1ll << 61));
    kv = hy_gguf_find(g, "t.f64");
    HY_REQUIRE(kv && kv->type == HY_GGUF_FLOAT64);
    double d;
    memcpy(&d, kv->value, 8);
    HY_CHECK(d == 1.0 / 3.0);
    HY_CHECK_INT(hy_gguf_get_f32(g, "t.f64", &f), HYPERION_OK); /* float64 narrows */
    HY_CHECK_NEAR(f, 1.0 / 3.0, 1e-7);
    HY_CHECK_INT(hy_gguf_get_string(g, "t.bytes", &text, &len), HYPERION_OK);
    HY_CHECK(len == 3 && !memcmp(text, "a\0b", 3));

    /* arrays: raw elements equal the host arrays (little-endian host) */
    static const struct { const char *key; uint32_t type; const void *data; size_t bytes; uint64_t n; } arrays[] = {
        { "a.u8", HY_GGUF_UINT8, u8s, sizeof u8s, 3 },     { "a.i8", HY_GGUF_INT8, i8s, sizeof i8s, 3 },
        { "a.u16", HY_GGUF_UINT16, u16s, sizeof u16s, 3 }, { "a.i16", HY_GGUF_INT16, i16s, sizeof i16s, 3 },
        { "a.u32", HY_GGUF_UINT32, u32s, sizeof u32s, 3 }, { "a.i32", HY_GGUF_INT32, i32s, sizeof i32s, 3 },
        { "a.f32", HY_GGUF_FLOAT32, f32s, sizeof f32s, 3 }, { "a.bool", HY_GGUF_BOOL, bools, sizeof bools, 4 },
        { "a.u64", HY_GGUF_UINT64, u64s, sizeof u64s, 3 }, { "a.i64", HY_GGUF_INT64, i64s, sizeof i64s, 3 },
        { "a.f64", HY_GGUF_FLOAT64, f64s, sizeof f64s, 3 },
    };
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++) {
        uint64_t count = 0;
        const void *elems = NULL;
        HY_CHECK_INT(hy_gguf_get_array(g, arrays[i].key, arrays[i].type, &kv, &count, &elems), HYPERION_OK);
        HY_CHECK_INT(count, arrays[i].n);
        HY_CHECK(elems && !memcmp(elems, arrays[i].data, arrays[i].bytes));
    }
    HY_CHECK_INT(hy_gguf_get_array(g, "a.i32", HY_GGUF_INT32, &kv, NULL, NULL), HYPERION_OK);
    HY_CHECK_NEAR(hy_gguf_array_number(kv, 2), -7, 0);
    HY_CHECK_INT(hy_gguf_get_array(g, "a.f64", HY_GGUF_FLOAT64, &kv, NULL, NULL), HYPERION_OK);
    HY_CHECK_NEAR(hy_gguf_array_number(kv, 1), -1e300, 1e285);
    uint64_t count = 9;
    HY_CHECK_INT(hy_gguf_get_array(g, "a.empty", HY_GGUF_UINT32, &kv, &count, NULL), HYPERION_OK);
    HY_CHECK_INT(count, 0);
    HY_CHECK_INT(hy_gguf_get_array(g, "a.string", HY_GGUF_STRING, &kv, &count, NULL), HYPERION_OK);
    HY_REQUIRE(count == 4);
    for (uint64_t i = 0; i < 4; i++) {
        HY_CHECK_INT(hy_gguf_array_string(kv, i, &text, &len), HYPERION_OK);
        HY_CHECK(len == strlen(strs[i]) && !memcmp(text, strs[i], len));
    }
    HY_CHECK_INT(hy_gguf_array_string(kv, 4, &text, &len), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_INT(hy_gguf_get_array(g, "a.nostrings", HY_GGUF_STRING, &kv, &count, NULL), HYPERION_OK);
    HY_CHECK_INT(count, 0);
}

static void check_tensors(const hy_gguf *g, uint32_t alignment) {
    HY_REQUIRE(hy_gguf_tensor_count(g) == N_SHAPES);
    HY_CHECK_INT(hy_gguf_alignment(g), alignment);
    HY_CHECK_INT(hy_gguf_data_offset(g) % alignment, 0);
    for (size_t t = 0; t < N_SHAPES; t++) {
        const hy_tensor *x = hy_gguf_tensor_at(g, t);
        HY_REQUIRE(x != NULL);
        HY_CHECK(x == hy_gguf_find_tensor(g, shapes[t].name));
        HY_CHECK_STR(x->name, shapes[t].name);
        HY_CHECK_INT(x->type, shapes[t].type);
        HY_CHECK_INT(x->n_dims, shapes[t].n_dims);
        for (int d = 0; d < 4; d++) HY_CHECK_INT(x->ne[d], shapes[t].ne[d]);
        HY_CHECK_INT(x->file_offset % alignment, 0);
        HY_CHECK_INT(x->row_bytes, hy_type_row_bytes(x->type, x->ne[0]));
        HY_CHECK_INT(x->n_bytes, x->row_bytes * hy_tensor_rows(x));
        const uint8_t *p = x->data;
        int same = 1;
        for (uint64_t i = 0; i < x->n_bytes; i++) same &= p[i] == data_byte(t, i);
        HY_CHECK(same);
    }
    HY_CHECK(hy_gguf_find_tensor(g, "missing") == NULL);
}

HY_TEST(gguf_writer_round_trips_every_type_through_a_file) {
    uint64_t live = gguf_test_live_blocks();
    char path[600];
    snprintf(path, sizeof path, "%s/roundtrip.gguf", hy_test_tmpdir());
    hy_gguf_writer *w = NULL;
    HY_REQUIRE(hy_gguf_writer_create(&w) == HYPERION_OK);
    HY_CHECK_INT(set_every_type(w), HYPERION_OK);
    HY_CHECK_INT(add_shapes(w), HYPERION_OK);
    HY_CHECK_INT(hy_gguf_writer_begin_file(w, path), HYPERION_OK);
    HY_CHECK_INT(stream_data(w, 3), HYPERION_OK); /* odd pieces that straddle tensors */
    HY_CHECK_INT(hy_gguf_writer_finish(w), HYPERION_OK);
    hy_gguf_writer_free(w);

    hy_gguf *g = NULL;
    HY_REQUIRE(hy_gguf_open(path, &g) == HYPERION_OK);
    HY_CHECK_INT(hy_gguf_version(g), 3);
    HY_CHECK_INT(hy_gguf_kv_count(g), 27);
    check_every_type(g);
    check_tensors(g, 32);
    HY_CHECK_INT(hy_gguf_file_size(g) % 32, 0);
    HY_CHECK(gguf_test_mapped_bytes() >= hy_gguf_file_size(g));
    hy_gguf_close(g);
    HY_CHECK_INT(gguf_test_live_blocks(), live);
    char partial[620];
    snprintf(partial, sizeof partial, "%s.partial", path);
    HY_CHECK(access(partial, F_OK) != 0);
}

HY_TEST(gguf_writer_round_trips_in_memory_with_custom_alignment) {
    uint64_t live = gguf_test_live_blocks();
    hy_gguf_writer *w = NULL;
    HY_REQUIRE(hy_gguf_writer_create(&w) == HYPERION_OK);
    HY_CHECK_INT(hy_gguf_writer_set_u32(w, "general.alignment", 64), HYPERION_OK);
    HY_CHECK_INT(set_every_type(w), HYPERION_OK);
    HY_CHECK_INT(add_shapes(w), HYPERION_OK);
    HY_CHECK_INT(hy_gguf_writer_begin_memory(w), HYPERION_OK);
    HY_CHECK_INT(stream_data(w, 1000), HYPERION_OK);
    HY_CHECK_INT(hy_gguf_writer_finish(w), HYPERION_OK);
    void *bytes = NULL;
    size_t size = 0;
    HY_CHECK_INT(hy_gguf_writer_take_memory(w, &bytes, &size), HYPERION_OK);
    hy_gguf_writer_free(w);
    HY_REQUIRE(bytes != NULL);
    hy_gguf *g = NULL;
    HY_REQUIRE(hy_gguf_open_memory(bytes, size, "memory.gguf", 0, &g) == HYPERION_OK);
    check_every_type(g);
    check_tensors(g, 64);
    /* the legal oddities are noted: "a\0b" holds a NUL, there is no architecture,
     * and a q8_0 tensor without general.quantization_version */
    HY_REQUIRE(hy_gguf_warning_count(g) == 3);
    HY_CHECK_STR(hy_gguf_warning_at(g, 0)->field, "kv[13].value");
    HY_CHECK(strstr(hy_gguf_warning_at(g, 1)->message, "general.architecture") != NULL);
    HY_CHECK(strstr(hy_gguf_warning_at(g, 2)->message, "quantization_version") != NULL);
    hy_gguf_close(g);
    hyperionFree(bytes);
    HY_CHECK_INT(gguf_test_live_blocks(), live);
}

HY_TEST(gguf_typed_getters_reject_wrong_types_naming_the_key) {
    hy_gguf_writer *w = NULL;
    HY_REQUIRE(hy_gguf_writer_create(&w) == HYPERION_OK);
    HY_CHECK_INT(set_every_type(w), HYPERION_OK);
    HY_CHECK_INT(hy_gguf_writer_set_i32(w, "neg", -1), HYPERION_OK);
    HY_CHECK_INT(hy_gguf_writer_begin_memory(w), HYPERION_OK);
    HY_CHECK_INT(hy_gguf_writer_finish(w), HYPERION_OK);
    void *bytes = NULL;
    size_t size = 0;
    HY_CHECK_INT(hy_gguf_writer_take_memory(w, &bytes, &size), HYPERION_OK);
    hy_gguf_writer_free(w);
    hy_gguf *g = NULL;
    HY_REQUIRE(hy_gguf_open_memory(bytes, size, "types.gguf", 0, &g) == HYPERION_OK);
    uint32_t u32 = 0;
    float f = 0;
    int b = 0;
    const char *text;
    uint64_t len;
    HY_CHECK_INT(hy_gguf_get_u32(g, "t.string", &u32), HYPERION_MODEL_INVALID);
    HY_CHECK(strstr(hyperionGetLastError()->message, "t.string") != NULL);
    HY_CHECK_STR(gguf_test_error_text("field"), "kv[8].type");
    HY_CHECK_INT(hy_gguf_get_u32(g, "neg", &u32), HYPERION_MODEL_INVALID); /* negative into unsigned */
    HY_CHECK_INT(hy_gguf_get_u32(g, "t.u64", &u32), HYPERION_MODEL_INVALID); /* 2^62 does not fit */
    HY_CHECK_INT(hy_gguf_get_f32(g, "t.u32", &f), HYPERION_MODEL_INVALID);
    HY_CHECK_INT(hy_gguf_get_bool(g, "t.u8", &b), HYPERION_MODEL_INVALID);
    HY_CHECK_INT(hy_gguf_get_string(g, "a.string", &text, &len), HYPERION_MODEL_INVALID);
    HY_CHECK(strstr(hyperionGetLastError()->message, "array of string") != NULL);
    HY_CHECK_INT(hy_gguf_get_array(g, "a.u32", HY_GGUF_INT32, NULL, NULL, NULL), HYPERION_MODEL_INVALID);
    HY_CHECK_INT(hy_gguf_get_u32(g, "absent.key", &u32), HYPERION_MODEL_INVALID);
    HY_CHECK(strstr(hyperionGetLastError()->message, "absent.key") != NULL);
    u32 = 5;
    HY_CHECK_INT(hy_gguf_get_u32_or(g, "absent.key", 42, &u32), HYPERION_OK);
    HY_CHECK_INT(u32, 42);
    HY_CHECK_INT(hy_gguf_get_f32_or(g, "absent.key", 2.5f, &f), HYPERION_OK);
    HY_CHECK(f == 2.5f);
    HY_CHECK_INT(hy_gguf_get_bool_or(g, "absent.key", 1, &b), HYPERION_OK);
    HY_CHECK_INT(b, 1);
    char buf[8];
    HY_CHECK_INT(hy_gguf_get_string_copy(g, "t.string", buf, sizeof buf), HYPERION_OK);
    HY_CHECK_STR(buf, "h\xc3\xa9llo");
    HY_CHECK_INT(hy_gguf_get_string_copy(g, "t.string", buf, 4), HYPERION_MODEL_INVALID);
    HY_CHECK_INT(hy_gguf_get_string_copy(g, "t.bytes", buf, sizeof buf), HYPERION_MODEL_INVALID); /* NUL inside */
    hy_gguf_close(g);
    hyperionFree(bytes);
}

HY_TEST(gguf_writer_rejects_misuse_and_removes_abandoned_files) {
    uint64_t live = gguf_test_live_blocks();
    hy_gguf_writer *w = NULL;
    HY_REQUIRE(hy_gguf_writer_create(&w) == HYPERION_OK);
    HY_CHECK_INT(hy_gguf_writer_set_u32(w, "k", 1), HYPERION_OK);
    HY_CHECK_INT(hy_gguf_writer_set_u32(w, "k", 2), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_INT(hy_gguf_writer_set_u32(w, "", 2), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_INT(hy_gguf_writer_set_u32(w, "bad\xff", 2), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_INT(hy_gguf_writer_set_u32(w, "general.alignment", 48), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_INT(hy_gguf_writer_set_u32(w, "general.alignment", 0), HYPERION_INVALID_ARGUMENT);
    uint8_t two = 2;
    HY_CHECK_INT(hy_gguf_writer_set_array(w, "b", HY_GGUF_BOOL, &two, 1), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_INT(hy_gguf_writer_set_array(w, "s", HY_GGUF_STRING, &two, 1), HYPERION_INVALID_ARGUMENT);
    uint64_t ne[2] = { 33, 2 };
    HY_CHECK_INT(hy_gguf_writer_add_tensor(w, "q", HY_TYPE_Q8_0, 2, ne), HYPERION_INVALID_ARGUMENT); /* 33 % 32 */
    HY_CHECK_INT(hy_gguf_writer_add_tensor(w, "x", 4, 2, ne), HYPERION_INVALID_ARGUMENT);             /* no type 4 */
    HY_CHECK_INT(hy_gguf_writer_add_tensor(w, "x", HY_TYPE_F32, 5, ne), HYPERION_INVALID_ARGUMENT);
    uint64_t zero[1] = { 0 };
    HY_CHECK_INT(hy_gguf_writer_add_tensor(w, "x", HY_TYPE_F32, 1, zero), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_INT(hy_gguf_writer_add_tensor(w, "0123456789012345678901234567890123456789012345678901234567890123",
                                           HY_TYPE_F32, 2, ne), HYPERION_INVALID_ARGUMENT); /* 64 bytes */
    HY_CHECK_INT(hy_gguf_writer_add_tensor(w, "x", HY_TYPE_F32, 2, ne), HYPERION_OK);
    HY_CHECK_INT(hy_gguf_writer_add_tensor(w, "x", HY_TYPE_F32, 2, ne), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_INT(hy_gguf_writer_write(w, "abc", 3), HYPERION_INVALID_ARGUMENT); /* before begin */

    char path[600], partial[620];
    snprintf(path, sizeof path, "%s/abandoned.gguf", hy_test_tmpdir());
    snprintf(partial, sizeof partial, "%s.partial", path);
    HY_CHECK_INT(hy_gguf_writer_begin_file(w, path), HYPERION_OK);
    HY_CHECK_INT(hy_gguf_writer_set_u32(w, "late", 1), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_INT(hy_gguf_writer_begin_memory(w), HYPERION_INVALID_ARGUMENT);
    float row[33] = { 0 };
    HY_CHECK_INT(hy_gguf_writer_write(w, row, sizeof row), HYPERION_OK);
    HY_CHECK_INT(hy_gguf_writer_finish(w), HYPERION_INVALID_ARGUMENT); /* one row missing */
    HY_CHECK(strstr(hyperionGetLastError()->message, "132 of its 264 bytes") != NULL);
    HY_CHECK_INT(hy_gguf_writer_write(w, row, sizeof row + 1), HYPERION_INVALID_ARGUMENT); /* too much */
    HY_CHECK(access(partial, F_OK) == 0);
    hy_gguf_writer_free(w); /* abandoned: the partial file goes */
    HY_CHECK(access(partial, F_OK) != 0);
    HY_CHECK(access(path, F_OK) != 0);

    HY_REQUIRE(hy_gguf_writer_create(&w) == HYPERION_OK);
    char bad_dir[620];
    snprintf(bad_dir, sizeof bad_dir, "%s/no/such/dir/x.gguf", hy_test_tmpdir());
    HY_CHECK_INT(hy_gguf_writer_begin_file(w, bad_dir), HYPERION_IO);
    hy_gguf_writer_free(w);
    HY_CHECK_INT(gguf_test_live_blocks(), live);
}

HY_TEST(gguf_reader_reports_io_errors_and_bad_arguments) {
    uint64_t live = gguf_test_live_blocks();
    hy_gguf *g = (hy_gguf *)1;
    HY_CHECK_INT(hy_gguf_open("/no/such/file.gguf", &g), HYPERION_IO);
    HY_CHECK(g == NULL);
    HY_CHECK_INT(hy_gguf_open(hy_test_tmpdir(), &g), HYPERION_IO); /* a folder */
    HY_CHECK(strstr(hyperionGetLastError()->message, "not a regular file") != NULL);
    HY_CHECK_INT(hy_gguf_open(NULL, &g), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_INT(hy_gguf_open("x", NULL), HYPERION_INVALID_ARGUMENT);
    HY_CHECK_INT(gguf_test_live_blocks(), live);
}
