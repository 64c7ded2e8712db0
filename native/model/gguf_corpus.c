/*
 * gguf_corpus.c — the malformed variants of the corpus's base file (see
 * gguf_corpus.h) and writing the corpus to a folder.
 *
 * Each variant is the base file with one truncation or one patched field. The
 * expected field and offset follow the reader's convention: the offset is
 * where the named field starts (for a string, its length prefix; for a pair
 * or a tensor info, its first byte).
 */
#include "model/gguf_corpus.h"

#include "core/internal.h"
#include "kernels/types.h"
#include "model/gguf.h"
#include "model/gguf_corpus_base.h"
#include "model/json_builder.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef enum variant {
    V_EMPTY_FILE, V_TRUNCATED_IN_MAGIC, V_WRONG_MAGIC, V_LEGACY_GGJT_MAGIC, V_TRUNCATED_AFTER_MAGIC,
    V_WRONG_VERSION, V_VERSION_1, V_BIG_ENDIAN, V_TRUNCATED_AFTER_VERSION, V_TRUNCATED_AFTER_TENSOR_COUNT,
    V_HUGE_TENSOR_COUNT, V_HUGE_KV_COUNT, V_TRUNCATED_AFTER_COUNTS, V_TRUNCATED_IN_KEY_LENGTH,
    V_TRUNCATED_IN_KEY, V_TRUNCATED_BEFORE_VALUE_TYPE, V_TRUNCATED_IN_VALUE, V_TRUNCATED_IN_STRING_VALUE,
    V_TRUNCATED_IN_STRING_ARRAY, V_HUGE_KEY_LENGTH, V_EMPTY_KEY, V_INVALID_UTF8_KEY, V_NUL_IN_KEY,
    V_DUPLICATE_KEY, V_UNKNOWN_VALUE_TYPE, V_HUGE_STRING_LENGTH, V_BAD_BOOL, V_BAD_BOOL_IN_ARRAY,
    V_NESTED_ARRAY, V_UNKNOWN_ARRAY_TYPE, V_HUGE_ARRAY_COUNT, V_ARRAY_SIZE_OVERFLOW, V_HUGE_STRING_ARRAY_COUNT,
    V_ALIGNMENT_ZERO, V_ALIGNMENT_NOT_POWER_OF_TWO, V_ALIGNMENT_WRONG_TYPE, V_TRUNCATED_AT_TENSOR_INFOS,
    V_TRUNCATED_IN_TENSOR_NAME, V_TRUNCATED_BEFORE_N_DIMS, V_TRUNCATED_IN_DIMS, V_TRUNCATED_BEFORE_TENSOR_TYPE,
    V_TRUNCATED_IN_TENSOR_OFFSET, V_TRUNCATED_BEFORE_TENSOR_DATA, V_TRUNCATED_IN_TENSOR_DATA,
    V_TRUNCATED_LAST_BYTE, V_EMPTY_TENSOR_NAME, V_INVALID_UTF8_TENSOR_NAME, V_DUPLICATE_TENSOR_NAME,
    V_ZERO_DIMS, V_TOO_MANY_DIMS, V_ZERO_DIM, V_OVERFLOWING_DIMS, V_DIM_TOO_LARGE, V_BYTE_SIZE_OVERFLOW,
    V_UNKNOWN_TENSOR_TYPE, V_REMOVED_TENSOR_TYPE, V_UNSUPPORTED_TENSOR_TYPE, V_BLOCK_SIZE_MISMATCH,
    V_MISALIGNED_OFFSET, V_OFFSET_PAST_END, V_OFFSET_OVERFLOW, V_OVERLAPPING_TENSORS,
    V_COUNT
} variant;

static const char *const names[V_COUNT] = {
    [V_EMPTY_FILE] = "empty_file",
    [V_TRUNCATED_IN_MAGIC] = "truncated_in_magic",
    [V_WRONG_MAGIC] = "wrong_magic",
    [V_LEGACY_GGJT_MAGIC] = "legacy_ggjt_magic",
    [V_TRUNCATED_AFTER_MAGIC] = "truncated_after_magic",
    [V_WRONG_VERSION] = "wrong_version",
    [V_VERSION_1] = "version_1",
    [V_BIG_ENDIAN] = "big_endian",
    [V_TRUNCATED_AFTER_VERSION] = "truncated_after_version",
    [V_TRUNCATED_AFTER_TENSOR_COUNT] = "truncated_after_tensor_count",
    [V_HUGE_TENSOR_COUNT] = "huge_tensor_count",
    [V_HUGE_KV_COUNT] = "huge_kv_count",
    [V_TRUNCATED_AFTER_COUNTS] = "truncated_after_counts",
    [V_TRUNCATED_IN_KEY_LENGTH] = "truncated_in_key_length",
    [V_TRUNCATED_IN_KEY] = "truncated_in_key",
    [V_TRUNCATED_BEFORE_VALUE_TYPE] = "truncated_before_value_type",
    [V_TRUNCATED_IN_VALUE] = "truncated_in_value",
    [V_TRUNCATED_IN_STRING_VALUE] = "truncated_in_string_value",
    [V_TRUNCATED_IN_STRING_ARRAY] = "truncated_in_string_array",
    [V_HUGE_KEY_LENGTH] = "huge_key_length",
    [V_EMPTY_KEY] = "empty_key",
    [V_INVALID_UTF8_KEY] = "invalid_utf8_key",
    [V_NUL_IN_KEY] = "nul_in_key",
    [V_DUPLICATE_KEY] = "duplicate_key",
    [V_UNKNOWN_VALUE_TYPE] = "unknown_value_type",
    [V_HUGE_STRING_LENGTH] = "huge_string_length",
    [V_BAD_BOOL] = "bad_bool",
    [V_BAD_BOOL_IN_ARRAY] = "bad_bool_in_array",
    [V_NESTED_ARRAY] = "nested_array",
    [V_UNKNOWN_ARRAY_TYPE] = "unknown_array_type",
    [V_HUGE_ARRAY_COUNT] = "huge_array_count",
    [V_ARRAY_SIZE_OVERFLOW] = "array_size_overflow",
    [V_HUGE_STRING_ARRAY_COUNT] = "huge_string_array_count",
    [V_ALIGNMENT_ZERO] = "alignment_zero",
    [V_ALIGNMENT_NOT_POWER_OF_TWO] = "alignment_not_power_of_two",
    [V_ALIGNMENT_WRONG_TYPE] = "alignment_wrong_type",
    [V_TRUNCATED_AT_TENSOR_INFOS] = "truncated_at_tensor_infos",
    [V_TRUNCATED_IN_TENSOR_NAME] = "truncated_in_tensor_name",
    [V_TRUNCATED_BEFORE_N_DIMS] = "truncated_before_n_dims",
    [V_TRUNCATED_IN_DIMS] = "truncated_in_dims",
    [V_TRUNCATED_BEFORE_TENSOR_TYPE] = "truncated_before_tensor_type",
    [V_TRUNCATED_IN_TENSOR_OFFSET] = "truncated_in_tensor_offset",
    [V_TRUNCATED_BEFORE_TENSOR_DATA] = "truncated_before_tensor_data",
    [V_TRUNCATED_IN_TENSOR_DATA] = "truncated_in_tensor_data",
    [V_TRUNCATED_LAST_BYTE] = "truncated_last_byte",
    [V_EMPTY_TENSOR_NAME] = "empty_tensor_name",
    [V_INVALID_UTF8_TENSOR_NAME] = "invalid_utf8_tensor_name",
    [V_DUPLICATE_TENSOR_NAME] = "duplicate_tensor_name",
    [V_ZERO_DIMS] = "zero_dims",
    [V_TOO_MANY_DIMS] = "too_many_dims",
    [V_ZERO_DIM] = "zero_dim",
    [V_OVERFLOWING_DIMS] = "overflowing_dims",
    [V_DIM_TOO_LARGE] = "dim_too_large",
    [V_BYTE_SIZE_OVERFLOW] = "byte_size_overflow",
    [V_UNKNOWN_TENSOR_TYPE] = "unknown_tensor_type",
    [V_REMOVED_TENSOR_TYPE] = "removed_tensor_type",
    [V_UNSUPPORTED_TENSOR_TYPE] = "unsupported_tensor_type",
    [V_BLOCK_SIZE_MISMATCH] = "block_size_mismatch",
    [V_MISALIGNED_OFFSET] = "misaligned_offset",
    [V_OFFSET_PAST_END] = "offset_past_end",
    [V_OFFSET_OVERFLOW] = "offset_overflow",
    [V_OVERLAPPING_TENSORS] = "overlapping_tensors",
};

uint32_t hy_gguf_corpus_count(void) {
    return V_COUNT;
}

/* ------------------------------------------------------------- patching */

static void p8(uint8_t *d, uint64_t off, uint8_t v) { d[off] = v; }

static void p32(uint8_t *d, uint64_t off, uint32_t v) {
    for (int i = 0; i < 4; i++) d[off + i] = (uint8_t)(v >> (8 * i));
}

static void p64(uint8_t *d, uint64_t off, uint64_t v) {
    for (int i = 0; i < 8; i++) d[off + i] = (uint8_t)(v >> (8 * i));
}

static void expect(hy_gguf_corpus_case *c, uint64_t offset, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
static void expect(hy_gguf_corpus_case *c, uint64_t offset, const char *format, ...) {
    va_list args;
    va_start(args, format);
    vsnprintf(c->field, sizeof c->field, format, args);
    va_end(args);
    c->offset = offset;
}

/* Damage the base file (d, *size) as variant v says, and fill what the reader
 * must answer. Truncations only shrink *size. */
static void apply(variant v, const corpus_layout *L, uint8_t *d, size_t *size, hy_gguf_corpus_case *c) {
    c->expected = HYPERION_MODEL_INVALID;
    c->why = NULL;
    switch (v) {
    /* ---- header */
    case V_EMPTY_FILE: *size = 0; expect(c, 0, "magic"); break;
    case V_TRUNCATED_IN_MAGIC: *size = 2; expect(c, 0, "magic"); break;
    case V_WRONG_MAGIC: memcpy(d, "GGUX", 4); expect(c, 0, "magic"); break;
    case V_LEGACY_GGJT_MAGIC:
        memcpy(d, "tjgg", 4);
        expect(c, 0, "magic");
        c->expected = HYPERION_MODEL_UNSUPPORTED;
        c->why = "a GGJT file is a real, older model format, not damage: the answer is to convert it";
        break;
    case V_TRUNCATED_AFTER_MAGIC: *size = 4; expect(c, 4, "version"); break;
    case V_WRONG_VERSION: p32(d, 4, 7); expect(c, 4, "version"); break;
    case V_VERSION_1:
        p32(d, 4, 1);
        expect(c, 4, "version");
        c->expected = HYPERION_MODEL_UNSUPPORTED;
        c->why = "GGUF v1 exists (32-bit counts); the file may be intact, this runtime reads v2 and v3 only";
        break;
    case V_BIG_ENDIAN:
        p32(d, 4, 0x03000000u);
        expect(c, 4, "version");
        c->expected = HYPERION_MODEL_UNSUPPORTED;
        c->why = "GGUF v3 allows big-endian files (recognised by the byte-swapped version); only little-endian is read";
        break;
    case V_TRUNCATED_AFTER_VERSION: *size = 8; expect(c, 8, "tensor_count"); break;
    case V_TRUNCATED_AFTER_TENSOR_COUNT: *size = 16; expect(c, 16, "kv_count"); break;
    case V_HUGE_TENSOR_COUNT: p64(d, 8, 1ull << 60); expect(c, 8, "tensor_count"); break;
    case V_HUGE_KV_COUNT: p64(d, 16, UINT64_MAX); expect(c, 16, "kv_count"); break;
    /* no bytes after the header: the counts cannot fit, and the tensor count is checked first */
    case V_TRUNCATED_AFTER_COUNTS: *size = 24; expect(c, 8, "tensor_count"); break;

    /* ---- truncation inside the last pairs */
    case V_TRUNCATED_IN_KEY_LENGTH:
        *size = L->kv_off[CK_NAME] + 3;
        expect(c, L->kv_off[CK_NAME], "kv[%d].key", CK_NAME);
        break;
    case V_TRUNCATED_IN_KEY:
        *size = L->kv_off[CK_NAME] + 8 + 5;
        expect(c, L->kv_off[CK_NAME], "kv[%d].key", CK_NAME);
        break;
    case V_TRUNCATED_BEFORE_VALUE_TYPE:
        *size = L->kv_type_off[CK_NAME];
        expect(c, L->kv_type_off[CK_NAME], "kv[%d].type", CK_NAME);
        break;
    case V_TRUNCATED_IN_VALUE:
        *size = L->kv_value_off[CK_QVER] + 2;
        expect(c, L->kv_value_off[CK_QVER], "kv[%d].value", CK_QVER);
        break;
    case V_TRUNCATED_IN_STRING_VALUE:
        *size = L->kv_value_off[CK_NAME] + 8 + 4;
        expect(c, L->kv_value_off[CK_NAME], "kv[%d].value", CK_NAME);
        break;
    case V_TRUNCATED_IN_STRING_ARRAY: /* late enough that the count still looks plausible */
        *size = L->token_off[14] + 5;
        expect(c, L->token_off[14], "kv[%d].value[14]", CK_TOKENS);
        break;

    /* ---- keys */
    case V_HUGE_KEY_LENGTH:
        p64(d, L->kv_off[CK_CTX], 1ull << 62);
        expect(c, L->kv_off[CK_CTX], "kv[%d].key", CK_CTX);
        break;
    case V_EMPTY_KEY:
        p64(d, L->kv_off[CK_CTX], 0);
        expect(c, L->kv_off[CK_CTX], "kv[%d].key", CK_CTX);
        break;
    case V_INVALID_UTF8_KEY: /* 0xC0 starts an overlong (never valid) sequence */
        p8(d, L->kv_off[CK_CTX] + 8 + 3, 0xC0);
        expect(c, L->kv_off[CK_CTX], "kv[%d].key", CK_CTX);
        break;
    case V_NUL_IN_KEY:
        p8(d, L->kv_off[CK_CTX] + 8 + 3, 0x00);
        expect(c, L->kv_off[CK_CTX], "kv[%d].key", CK_CTX);
        break;
    case V_DUPLICATE_KEY: /* "hyperion.test.b" becomes a second "hyperion.test.a" */
        p8(d, L->kv_type_off[CK_B] - 1, 'a');
        expect(c, L->kv_off[CK_B], "kv[%d].key", CK_B);
        break;

    /* ---- values */
    case V_UNKNOWN_VALUE_TYPE:
        p32(d, L->kv_type_off[CK_A], 13);
        expect(c, L->kv_type_off[CK_A], "kv[%d].type", CK_A);
        break;
    case V_HUGE_STRING_LENGTH:
        p64(d, L->kv_value_off[CK_DESC], 1ull << 40);
        expect(c, L->kv_value_off[CK_DESC], "kv[%d].value", CK_DESC);
        break;
    case V_BAD_BOOL:
        p8(d, L->kv_value_off[CK_FLAG], 2);
        expect(c, L->kv_value_off[CK_FLAG], "kv[%d].value", CK_FLAG);
        break;
    case V_BAD_BOOL_IN_ARRAY:
        p8(d, L->kv_value_off[CK_FLAGS] + 1, 0xFF);
        expect(c, L->kv_value_off[CK_FLAGS] + 1, "kv[%d].value[1]", CK_FLAGS);
        break;
    case V_NESTED_ARRAY:
        p32(d, L->kv_type_off[CK_FLAGS] + 4, 9);
        expect(c, L->kv_type_off[CK_FLAGS] + 4, "kv[%d].array.type", CK_FLAGS);
        c->expected = HYPERION_MODEL_UNSUPPORTED;
        c->why = "the GGUF spec allows arrays of arrays; no model uses them and this runtime (like llama.cpp) "
                 "does not read them";
        break;
    case V_UNKNOWN_ARRAY_TYPE:
        p32(d, L->kv_type_off[CK_FLAGS] + 4, 13);
        expect(c, L->kv_type_off[CK_FLAGS] + 4, "kv[%d].array.type", CK_FLAGS);
        break;
    case V_HUGE_ARRAY_COUNT:
        p64(d, L->kv_type_off[CK_FLAGS] + 8, 1ull << 40);
        expect(c, L->kv_type_off[CK_FLAGS] + 8, "kv[%d].array.count", CK_FLAGS);
        break;
    case V_ARRAY_SIZE_OVERFLOW: /* 2^62 float32 = 2^64 bytes: the multiplication overflows */
        p64(d, L->kv_type_off[CK_SCORES] + 8, 1ull << 62);
        expect(c, L->kv_type_off[CK_SCORES] + 8, "kv[%d].array.count", CK_SCORES);
        break;
    case V_HUGE_STRING_ARRAY_COUNT:
        p64(d, L->kv_type_off[CK_TOKENS] + 8, 1ull << 60);
        expect(c, L->kv_type_off[CK_TOKENS] + 8, "kv[%d].array.count", CK_TOKENS);
        break;
    case V_ALIGNMENT_ZERO:
        p32(d, L->kv_value_off[CK_ALIGN], 0);
        expect(c, L->kv_value_off[CK_ALIGN], "kv[%d].value", CK_ALIGN);
        break;
    case V_ALIGNMENT_NOT_POWER_OF_TWO:
        p32(d, L->kv_value_off[CK_ALIGN], 3);
        expect(c, L->kv_value_off[CK_ALIGN], "kv[%d].value", CK_ALIGN);
        break;
    case V_ALIGNMENT_WRONG_TYPE: /* int32 has the same size: only the type is wrong */
        p32(d, L->kv_type_off[CK_ALIGN], HY_GGUF_INT32);
        expect(c, L->kv_type_off[CK_ALIGN], "kv[%d].type", CK_ALIGN);
        break;

    /* ---- truncation inside the tensor infos and data */
    case V_TRUNCATED_AT_TENSOR_INFOS:
        *size = L->t_info[0];
        expect(c, L->t_info[0], "tensor_infos[0].name");
        break;
    case V_TRUNCATED_IN_TENSOR_NAME:
        *size = L->t_info[CT_DOWN] + 8 + 4;
        expect(c, L->t_info[CT_DOWN], "tensor_infos[%d].name", CT_DOWN);
        break;
    case V_TRUNCATED_BEFORE_N_DIMS:
        *size = L->t_ndims[CT_DOWN];
        expect(c, L->t_ndims[CT_DOWN], "tensor_infos[%d].n_dims", CT_DOWN);
        break;
    case V_TRUNCATED_IN_DIMS:
        *size = L->t_dims[CT_DOWN] + 8 + 3;
        expect(c, L->t_dims[CT_DOWN] + 8, "tensor_infos[%d].ne[1]", CT_DOWN);
        break;
    case V_TRUNCATED_BEFORE_TENSOR_TYPE:
        *size = L->t_type[CT_DOWN];
        expect(c, L->t_type[CT_DOWN], "tensor_infos[%d].type", CT_DOWN);
        break;
    case V_TRUNCATED_IN_TENSOR_OFFSET:
        *size = L->t_offset[CT_DOWN] + 5;
        expect(c, L->t_offset[CT_DOWN], "tensor_infos[%d].offset", CT_DOWN);
        break;
    case V_TRUNCATED_BEFORE_TENSOR_DATA: /* the first tensor is the first whose bytes are missing */
        *size = L->end_infos;
        expect(c, L->t_offset[0], "tensor_infos[0].offset");
        break;
    case V_TRUNCATED_IN_TENSOR_DATA:
        *size = L->t_start[CT_Q] + 100;
        expect(c, L->t_offset[CT_Q], "tensor_infos[%d].offset", CT_Q);
        break;
    case V_TRUNCATED_LAST_BYTE:
        *size = L->size - 1;
        expect(c, L->t_offset[CT_DOWN], "tensor_infos[%d].offset", CT_DOWN);
        break;

    /* ---- tensor infos */
    case V_EMPTY_TENSOR_NAME:
        p64(d, L->t_info[CT_K], 0);
        expect(c, L->t_info[CT_K], "tensor_infos[%d].name", CT_K);
        break;
    case V_INVALID_UTF8_TENSOR_NAME: /* a lone continuation byte */
        p8(d, L->t_info[CT_K] + 8 + 2, 0x80);
        expect(c, L->t_info[CT_K], "tensor_infos[%d].name", CT_K);
        break;
    case V_DUPLICATE_TENSOR_NAME: /* "blk.0.attn_v.weight" becomes a second "blk.0.attn_k.weight" */
        p8(d, L->t_info[CT_V] + 8 + strlen("blk.0.attn_"), 'k');
        expect(c, L->t_info[CT_V], "tensor_infos[%d].name", CT_V);
        break;
    case V_ZERO_DIMS:
        p32(d, L->t_ndims[CT_Q], 0);
        expect(c, L->t_ndims[CT_Q], "tensor_infos[%d].n_dims", CT_Q);
        break;
    case V_TOO_MANY_DIMS:
        p32(d, L->t_ndims[CT_Q], 5);
        expect(c, L->t_ndims[CT_Q], "tensor_infos[%d].n_dims", CT_Q);
        break;
    case V_ZERO_DIM:
        p64(d, L->t_dims[CT_Q] + 8, 0);
        expect(c, L->t_dims[CT_Q] + 8, "tensor_infos[%d].ne[1]", CT_Q);
        break;
    case V_OVERFLOWING_DIMS: /* 2^32 x 2^32 elements */
        p64(d, L->t_dims[CT_Q], 1ull << 32);
        p64(d, L->t_dims[CT_Q] + 8, 1ull << 32);
        expect(c, L->t_dims[CT_Q] + 8, "tensor_infos[%d].ne[1]", CT_Q);
        break;
    case V_DIM_TOO_LARGE: /* 2^63: negative as ggml's int64 */
        p64(d, L->t_dims[CT_Q], 1ull << 63);
        expect(c, L->t_dims[CT_Q], "tensor_infos[%d].ne[0]", CT_Q);
        break;
    case V_BYTE_SIZE_OVERFLOW: /* 2^62 f32 elements fit int64, their 2^64 bytes do not */
        p64(d, L->t_dims[CT_Q], 1ull << 62);
        p64(d, L->t_dims[CT_Q] + 8, 1);
        expect(c, L->t_dims[CT_Q] + 8, "tensor_infos[%d].ne[1]", CT_Q);
        break;
    case V_UNKNOWN_TENSOR_TYPE:
        p32(d, L->t_type[CT_Q], 99);
        expect(c, L->t_type[CT_Q], "tensor_infos[%d].type", CT_Q);
        break;
    case V_REMOVED_TENSOR_TYPE: /* 4 was Q4_2, removed from ggml: not a type any more */
        p32(d, L->t_type[CT_Q], 4);
        expect(c, L->t_type[CT_Q], "tensor_infos[%d].type", CT_Q);
        break;
    case V_UNSUPPORTED_TENSOR_TYPE: /* token_embd as q2_K [256, 1]: 84 bytes, inside its old place */
        p32(d, L->t_type[CT_EMBD], HY_TYPE_Q2_K);
        p64(d, L->t_dims[CT_EMBD], 256);
        p64(d, L->t_dims[CT_EMBD] + 8, 1);
        expect(c, L->t_type[CT_EMBD], "tensor_infos[0].type");
        c->expected = HYPERION_MODEL_UNSUPPORTED;
        c->why = "q2_K is a real ggml type this runtime does not compute with; the file itself is well formed";
        break;
    case V_BLOCK_SIZE_MISMATCH: /* q8_0 blocks hold 32 elements */
        p64(d, L->t_dims[CT_GATE], 48);
        expect(c, L->t_dims[CT_GATE], "tensor_infos[%d].ne[0]", CT_GATE);
        break;
    case V_MISALIGNED_OFFSET: {
        uint64_t rel = L->t_start[CT_O] - L->data_off;
        p64(d, L->t_offset[CT_O], rel + 4);
        expect(c, L->t_offset[CT_O], "tensor_infos[%d].offset", CT_O);
        break;
    }
    case V_OFFSET_PAST_END:
        p64(d, L->t_offset[CT_O], 1ull << 40);
        expect(c, L->t_offset[CT_O], "tensor_infos[%d].offset", CT_O);
        break;
    case V_OFFSET_OVERFLOW: /* aligned, but data start + offset wraps around */
        p64(d, L->t_offset[CT_O], UINT64_MAX - 31);
        expect(c, L->t_offset[CT_O], "tensor_infos[%d].offset", CT_O);
        break;
    case V_OVERLAPPING_TENSORS:
        p64(d, L->t_offset[CT_O], L->t_start[CT_V] - L->data_off);
        expect(c, L->t_offset[CT_O], "tensor_infos[%d].offset", CT_O);
        break;
    case V_COUNT: break;
    }
}

/* --------------------------------------------------------------- the API */

hyperion_status hy_gguf_corpus_valid(uint8_t **data, size_t *size) {
    corpus_layout L;
    if (!data || !size) return HY_RAISE(HYPERION_INVALID_ARGUMENT, NULL, "hy_gguf_corpus_valid: NULL output");
    return hy_corpus_build_base(data, size, &L);
}

hyperion_status hy_gguf_corpus_build(uint32_t index, hy_gguf_corpus_case *out) {
    if (!out || index >= V_COUNT)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_NUM("index", index) }),
                             "corpus variant %u does not exist (there are %u)", index, (unsigned)V_COUNT);
    memset(out, 0, sizeof *out);
    corpus_layout L;
    uint8_t *data;
    size_t size;
    hyperion_status s = hy_corpus_build_base(&data, &size, &L);
    if (s) return s;
    out->name = names[index];
    apply((variant)index, &L, data, &size, out);
    if (size == 0) {
        hyperionFree(data);
        data = NULL;
    }
    out->data = data;
    out->size = size;
    return HYPERION_OK;
}

void hy_gguf_corpus_case_free(hy_gguf_corpus_case *c) {
    if (!c) return;
    hyperionFree(c->data);
    c->data = NULL;
    c->size = 0;
}

static hyperion_status write_file(const char *path, const void *data, size_t size) {
    FILE *f = fopen(path, "wb");
    if (!f) {
        int e = errno;
        return HY_RAISE_WITH(HYPERION_IO, "check that the folder exists and is writable",
                             ((hy_field[]){ HY_TXT("path", path), HY_NUM("errno", e) }), "cannot create %s: %s", path,
                             strerror(e));
    }
    int ok = size == 0 || fwrite(data, 1, size, f) == size;
    int e = errno;
    if (fclose(f) != 0 || !ok)
        return HY_RAISE_WITH(HYPERION_IO, "check the free disk space", ((hy_field[]){ HY_TXT("path", path) }),
                             "cannot write %s: %s", path, strerror(e ? e : EIO));
    return HYPERION_OK;
}

hyperion_status hy_gguf_write_malformed_corpus(const char *dir, uint32_t *written) {
    if (written) *written = 0;
    if (!dir || !*dir) return HY_RAISE(HYPERION_INVALID_ARGUMENT, NULL, "hy_gguf_write_malformed_corpus: no folder");
    char path[1024];
    uint8_t *data;
    size_t size;
    hyperion_status s = hy_gguf_corpus_valid(&data, &size);
    if (s) return s;
    snprintf(path, sizeof path, "%s/valid.gguf", dir);
    s = write_file(path, data, size);
    hyperionFree(data);
    if (s) return s;

    hy_json j;
    hy_json_init(&j, HYPERION_TAG_TEST);
    hy_json_object_begin(&j);
    hy_json_kv_string(&j, "valid", "valid.gguf");
    hy_json_key(&j, "cases");
    hy_json_array_begin(&j);
    for (uint32_t i = 0; i < V_COUNT && !s; i++) {
        hy_gguf_corpus_case c;
        if ((s = hy_gguf_corpus_build(i, &c))) break;
        char file[128];
        snprintf(file, sizeof file, "%02u-%s.gguf", i, c.name);
        snprintf(path, sizeof path, "%s/%s", dir, file);
        s = write_file(path, c.data, c.size);
        hy_json_object_begin(&j);
        hy_json_kv_string(&j, "file", file);
        hy_json_kv_string(&j, "name", c.name);
        hy_json_kv_string(&j, "code", hyperionStatusName(c.expected));
        hy_json_kv_string(&j, "field", c.field);
        hy_json_kv_u64(&j, "offset", c.offset);
        if (c.why) hy_json_kv_string(&j, "why", c.why);
        hy_json_object_end(&j);
        hy_gguf_corpus_case_free(&c);
        if (!s && written) (*written)++;
    }
    hy_json_array_end(&j);
    hy_json_object_end(&j);
    char *manifest = NULL;
    size_t len = 0;
    if (s) {
        hy_json_discard(&j);
        return s;
    }
    if ((s = hy_json_finish(&j, &manifest, &len))) return s;
    snprintf(path, sizeof path, "%s/corpus.json", dir);
    s = write_file(path, manifest, len);
    hyperionFree(manifest);
    return s;
}
