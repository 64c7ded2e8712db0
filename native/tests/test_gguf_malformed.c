/* test_gguf_malformed.c — every malformed variant of the corpus gives the
 * expected status, field and offset, without a leak or a mapping left behind,
 * and a valid file opens right after each. */
#include "harness.h"
#include "test_gguf_util.h"

#include "model/gguf.h"
#include "model/gguf_corpus.h"
#include "model/json_builder.h"

#include <dirent.h>
#include <sys/stat.h>

static void check_case_error(const hy_gguf_corpus_case *c, hyperion_status s) {
    const hyperion_error *e = hyperionGetLastError();
    if (s != c->expected)
        hy_test_fail(__FILE__, __LINE__, "%s: status %s, expected %s (%s)", c->name, hyperionStatusName(s),
                     hyperionStatusName(c->expected), e->message);
    if (strcmp(gguf_test_error_text("field"), c->field) != 0)
        hy_test_fail(__FILE__, __LINE__, "%s: field \"%s\", expected \"%s\" (%s)", c->name,
                     gguf_test_error_text("field"), c->field, e->message);
    if (gguf_test_error_number("offset") != (double)c->offset)
        hy_test_fail(__FILE__, __LINE__, "%s: offset %.0f, expected %llu (%s)", c->name,
                     gguf_test_error_number("offset"), (unsigned long long)c->offset, e->message);
    /* the message names both the field and the offset */
    char offset_text[32];
    snprintf(offset_text, sizeof offset_text, "byte %llu", (unsigned long long)c->offset);
    if (!strstr(e->message, c->field) || !strstr(e->message, offset_text))
        hy_test_fail(__FILE__, __LINE__, "%s: message lacks field or offset: %s", c->name, e->message);
}

HY_TEST(gguf_corpus_base_file_is_valid) {
    uint8_t *data = NULL;
    size_t size = 0;
    HY_REQUIRE(hy_gguf_corpus_valid(&data, &size) == HYPERION_OK);
    hy_gguf *g = NULL;
    HY_CHECK_INT(hy_gguf_open_memory(data, size, "valid.gguf", 0, &g), HYPERION_OK);
    if (g) {
        HY_CHECK_INT(hy_gguf_tensor_count(g), 11);
        HY_CHECK_INT(hy_gguf_kv_count(g), 22);
        HY_CHECK_INT(hy_gguf_warning_count(g), 0);
        hy_gguf_close(g);
    }
    hyperionFree(data);
}

HY_TEST(gguf_every_malformed_variant_is_rejected_with_field_and_offset) {
    uint32_t n = hy_gguf_corpus_count();
    HY_CHECK(n >= 30);
    uint8_t *valid = NULL;
    size_t valid_size = 0;
    HY_REQUIRE(hy_gguf_corpus_valid(&valid, &valid_size) == HYPERION_OK);
    char valid_path[600];
    snprintf(valid_path, sizeof valid_path, "%s/corpus-valid.gguf", hy_test_tmpdir());
    HY_REQUIRE(gguf_test_write_file(valid_path, valid, valid_size));
    hyperionFree(valid);

    int unsupported = 0;
    for (uint32_t i = 0; i < n; i++) {
        hy_gguf_corpus_case c;
        HY_REQUIRE(hy_gguf_corpus_build(i, &c) == HYPERION_OK);
        char path[600];
        snprintf(path, sizeof path, "%s/corpus-%02u.gguf", hy_test_tmpdir(), i);
        HY_REQUIRE(gguf_test_write_file(path, c.data, c.size));
        unsupported += c.expected == HYPERION_MODEL_UNSUPPORTED;
        if (c.expected == HYPERION_MODEL_UNSUPPORTED && !c.why)
            hy_test_fail(__FILE__, __LINE__, "%s: UNSUPPORTED without a reason", c.name);

        uint64_t live = gguf_test_live_blocks(), mapped = gguf_test_mapped_bytes();
        hy_gguf *g = (hy_gguf *)1;
        hyperion_status s = hy_gguf_open(path, &g);
        check_case_error(&c, s);
        HY_CHECK(g == NULL);
        if (gguf_test_live_blocks() != live || gguf_test_mapped_bytes() != mapped)
            hy_test_fail(__FILE__, __LINE__, "%s: leaked %lld blocks / %lld mapped bytes", c.name,
                         (long long)(gguf_test_live_blocks() - live), (long long)(gguf_test_mapped_bytes() - mapped));

        /* the same bytes from memory (the fuzzers' path) answer the same */
        s = hy_gguf_open_memory(c.data, c.size, path, 0, &g);
        check_case_error(&c, s);
        HY_CHECK_INT(gguf_test_live_blocks(), live);

        /* and the runtime stays usable: the valid file opens right after */
        HY_CHECK_INT(hy_gguf_open(valid_path, &g), HYPERION_OK);
        hy_gguf_close(g);
        HY_CHECK_INT(gguf_test_live_blocks(), live);
        HY_CHECK_INT(gguf_test_mapped_bytes(), mapped);
        hy_gguf_corpus_case_free(&c);
    }
    HY_CHECK(unsupported >= 1 && unsupported <= 5);
    hy_gguf_corpus_case c;
    HY_CHECK_INT(hy_gguf_corpus_build(n, &c), HYPERION_INVALID_ARGUMENT);
}

HY_TEST(gguf_unsupported_type_opens_when_allowed) {
    for (uint32_t i = 0; i < hy_gguf_corpus_count(); i++) {
        hy_gguf_corpus_case c;
        HY_REQUIRE(hy_gguf_corpus_build(i, &c) == HYPERION_OK);
        if (!strcmp(c.name, "unsupported_tensor_type")) {
            hy_gguf *g = NULL;
            HY_CHECK_INT(hy_gguf_open_memory(c.data, c.size, "q2k.gguf", HY_GGUF_ALLOW_UNSUPPORTED_TYPES, &g),
                         HYPERION_OK);
            if (g) {
                HY_CHECK_INT(hy_gguf_tensor_at(g, 0)->type, 10);
                HY_CHECK_INT(hy_gguf_tensor_at(g, 0)->n_bytes, 84);
                /* token_embd shrank, so the data is no longer packed */
                HY_CHECK(hy_gguf_warning_count(g) >= 1);
                hy_gguf_close(g);
            }
        }
        hy_gguf_corpus_case_free(&c);
    }
}

HY_TEST(gguf_malformed_corpus_writes_to_a_folder) {
    char dir[600];
    snprintf(dir, sizeof dir, "%s/corpus", hy_test_tmpdir());
    HY_REQUIRE(mkdir(dir, 0755) == 0);
    uint64_t live = gguf_test_live_blocks();
    uint32_t written = 0;
    HY_CHECK_INT(hy_gguf_write_malformed_corpus(dir, &written), HYPERION_OK);
    HY_CHECK_INT(written, hy_gguf_corpus_count());
    HY_CHECK_INT(gguf_test_live_blocks(), live);
    DIR *d = opendir(dir);
    HY_REQUIRE(d != NULL);
    int gguf_files = 0, manifest = 0;
    struct dirent *ent;
    while ((ent = readdir(d))) {
        size_t len = strlen(ent->d_name);
        if (len > 5 && !strcmp(ent->d_name + len - 5, ".gguf")) gguf_files++;
        if (!strcmp(ent->d_name, "corpus.json")) manifest = 1;
    }
    closedir(d);
    HY_CHECK_INT(gguf_files, (int)hy_gguf_corpus_count() + 1);
    HY_CHECK(manifest);
    char path[700];
    snprintf(path, sizeof path, "%s/00-empty_file.gguf", dir);
    struct stat st;
    HY_CHECK(stat(path, &st) == 0 && st.st_size == 0);
    snprintf(path, sizeof path, "%s/valid.gguf", dir);
    hy_gguf *g = NULL;
    HY_CHECK_INT(hy_gguf_open(path, &g), HYPERION_OK);
    hy_gguf_close(g);
    HY_CHECK_INT(hy_gguf_write_malformed_corpus("/no/such/folder", NULL), HYPERION_IO);
}

HY_TEST(json_builder_writes_nested_documents_and_catches_misuse) {
    hy_json j;
    hy_json_init(&j, HYPERION_TAG_TEST);
    hy_json_object_begin(&j);
    hy_json_kv_string(&j, "s", "a\"b\\c\n\x01\xff");
    hy_json_kv_u64(&j, "u", UINT64_MAX);
    hy_json_kv_i64(&j, "i", -5);
    hy_json_kv_f32(&j, "f", 1e-5f);
    hy_json_kv_f64(&j, "d", 0.1);
    hy_json_kv_f64(&j, "nan", NAN);
    hy_json_kv_bool(&j, "b", 0);
    hy_json_key(&j, "a");
    hy_json_array_begin(&j);
    hy_json_u64(&j, 1);
    hy_json_null(&j);
    hy_json_object_begin(&j);
    hy_json_object_end(&j);
    hy_json_array_end(&j);
    hy_json_object_end(&j);
    char *out = NULL;
    size_t len = 0;
    HY_REQUIRE(hy_json_finish(&j, &out, &len) == HYPERION_OK);
    HY_CHECK_STR(out, "{\"s\":\"a\\\"b\\\\c\\n\\u0001\xef\xbf\xbd\",\"u\":18446744073709551615,\"i\":-5,"
                      "\"f\":1e-05,\"d\":0.1,\"nan\":null,\"b\":false,\"a\":[1,null,{}]}");
    HY_CHECK_INT(len, strlen(out));
    hyperionFree(out);

    hy_json_init(&j, HYPERION_TAG_TEST);
    hy_json_object_begin(&j);
    hy_json_u64(&j, 1); /* a value without a key */
    hy_json_object_end(&j);
    HY_CHECK_INT(hy_json_finish(&j, &out, &len), HYPERION_INTERNAL);
    hy_json_init(&j, HYPERION_TAG_TEST);
    hy_json_array_begin(&j);
    HY_CHECK_INT(hy_json_finish(&j, &out, &len), HYPERION_INTERNAL); /* still open */
}
