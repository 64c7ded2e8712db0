/*
 * gguf.h — the GGUF reader and validator (internal).
 *
 * hy_gguf_open maps a file read-only and checks every header field, count,
 * string, value type, dimension, type id, alignment and offset before anything
 * is used; after a successful open every structure it returns is consistent
 * with the file and no accessor can read outside the mapping.
 *
 * GGUF v2 and v3 are accepted (64-bit counts and lengths), little-endian only.
 * Layout: "GGUF" u32 version, u64 tensor_count, u64 kv_count, the KV pairs,
 * the tensor infos, padding to the alignment (general.alignment, default 32),
 * then the tensor data; each tensor's offset is relative to the start of the
 * data section and a multiple of the alignment.
 *
 * Errors: HYPERION_MODEL_INVALID for a malformed file, with the error fields
 * "field" (e.g. "tensor_infos[3].offset", "kv[7].key"), "offset" (byte offset
 * in the file) and "path"; HYPERION_MODEL_UNSUPPORTED for a legal file this
 * runtime cannot use (GGUF v1, big-endian, nested arrays, a known but
 * unsupported tensor type); HYPERION_IO when the file cannot be read.
 */
#ifndef HYPERION_MODEL_GGUF_H
#define HYPERION_MODEL_GGUF_H

#include <stddef.h>
#include <stdint.h>

#include "hyperion.h"
#include "model/tensor.h"

/* Metadata value types, numbered as GGUF files number them. */
typedef enum hy_gguf_type {
    HY_GGUF_UINT8 = 0,
    HY_GGUF_INT8 = 1,
    HY_GGUF_UINT16 = 2,
    HY_GGUF_INT16 = 3,
    HY_GGUF_UINT32 = 4,
    HY_GGUF_INT32 = 5,
    HY_GGUF_FLOAT32 = 6,
    HY_GGUF_BOOL = 7,
    HY_GGUF_STRING = 8,
    HY_GGUF_ARRAY = 9,
    HY_GGUF_UINT64 = 10,
    HY_GGUF_INT64 = 11,
    HY_GGUF_FLOAT64 = 12,
    HY_GGUF_TYPE_COUNT
} hy_gguf_type;

#define HY_GGUF_MAGIC "GGUF"
#define HY_GGUF_DEFAULT_ALIGNMENT 32u
#define HY_GGUF_KEY_ALIGNMENT "general.alignment"

/* "uint8" ... "float64"; "unknown" outside the enum. Static string. */
const char *hy_gguf_type_name(uint32_t type);

/* "f32, f16, ..." — the tensor types this runtime computes with (for messages). */
void hy_gguf_supported_type_names(char *buf, size_t size);

/* Bytes of one value of a fixed-size type; 0 for string, array and unknown. */
size_t hy_gguf_type_size(uint32_t type);

/* One metadata pair. Read-only view: the pointers reach into the mapping or
 * into tables owned by the hy_gguf, valid until hy_gguf_close. */
typedef struct hy_gguf_kv {
    const char *key;          /* NUL-terminated copy, valid UTF-8, non-empty */
    uint32_t type;            /* hy_gguf_type */
    uint32_t elem_type;       /* arrays: the elements' type; otherwise == type */
    uint64_t count;           /* arrays: element count; otherwise 1 */
    const uint8_t *value;     /* scalars: the value bytes (strings: the text, not NUL-terminated);
                               * arrays: the first element (unaligned: read with memcpy) */
    uint64_t value_len;       /* strings: text length in bytes; fixed types: their size; arrays: bytes
                               * of all elements as stored (string arrays: with their length prefixes) */
    uint64_t offset;          /* absolute file offset of the pair (its key length) */
    uint64_t value_offset;    /* absolute file offset of the value (arrays: of the first element) */
    const uint64_t *str_offsets; /* string arrays: absolute offset of each element's length prefix */
} hy_gguf_kv;

/* Something unusual but legal that the reader noticed (for verifyModel). */
typedef struct hy_gguf_note {
    char field[64];
    uint64_t offset;
    char message[256];
} hy_gguf_note;

typedef struct hy_gguf hy_gguf;

/* Flags for hy_gguf_open_ex. */
#define HY_GGUF_ALLOW_UNSUPPORTED_TYPES 1u /* open files whose tensors use known but
                                            * unsupported types (model info, verify) */

/* Open and validate the GGUF file at path. On success *out owns the read-only
 * mapping and the parsed tables; release with hy_gguf_close. On failure *out is
 * NULL, nothing stays allocated or mapped, and the error names field and offset.
 * Errors: HYPERION_INVALID_ARGUMENT (NULL path/out), HYPERION_IO,
 * HYPERION_MODEL_INVALID, HYPERION_MODEL_UNSUPPORTED, HYPERION_OUT_OF_MEMORY,
 * HYPERION_MEMORY_LIMIT. */
hyperion_status hy_gguf_open(const char *path, hy_gguf **out);
hyperion_status hy_gguf_open_ex(const char *path, uint32_t flags, hy_gguf **out);

/* As hy_gguf_open_ex over bytes already in memory (fuzzers, tests). The bytes
 * are not copied: they must outlive the hy_gguf. name appears in messages. */
hyperion_status hy_gguf_open_memory(const void *data, size_t size, const char *name, uint32_t flags,
                                    hy_gguf **out);

/* Free the tables and unmap the file. NULL is a no-op. */
void hy_gguf_close(hy_gguf *g);

/* Drop this process's pages of the mapped bytes [ptr, ptr + bytes) (the
 * whole pages inside; MADV_DONTNEED): for a tensor whose data now lives in a
 * repacked copy. The mapping stays valid: a later read faults the page back
 * from the file. A no-op for bytes opened from memory or outside the file. */
void hy_gguf_release_pages(const hy_gguf *g, const void *ptr, uint64_t bytes);

/* ---- the file */
const char *hy_gguf_path(const hy_gguf *g);           /* as given to open */
uint32_t hy_gguf_version(const hy_gguf *g);           /* 2 or 3 */
uint64_t hy_gguf_file_size(const hy_gguf *g);
uint32_t hy_gguf_alignment(const hy_gguf *g);
uint64_t hy_gguf_data_offset(const hy_gguf *g);       /* absolute start of the tensor data section */
const uint8_t *hy_gguf_bytes(const hy_gguf *g);       /* the whole mapping (NULL for an empty file) */
uint32_t hy_gguf_warning_count(const hy_gguf *g);
const hy_gguf_note *hy_gguf_warning_at(const hy_gguf *g, uint32_t i);
uint32_t hy_gguf_warnings_dropped(const hy_gguf *g);  /* beyond the kept list */

/* ---- metadata */
uint64_t hy_gguf_kv_count(const hy_gguf *g);
const hy_gguf_kv *hy_gguf_kv_at(const hy_gguf *g, uint64_t i);     /* NULL past the end */
const hy_gguf_kv *hy_gguf_find(const hy_gguf *g, const char *key); /* NULL when absent */

/* Typed getters. Integer getters accept any integer type whose value fits the
 * requested one; float getters accept float32 and float64; bool and string
 * need exactly that type. A wrong type or an out-of-range value gives
 * HYPERION_MODEL_INVALID naming the key (fields key, field, offset). The plain
 * form fails with HYPERION_MODEL_INVALID when the key is absent; the _or form
 * stores fallback instead. */
hyperion_status hy_gguf_get_u32(const hy_gguf *g, const char *key, uint32_t *out);
hyperion_status hy_gguf_get_i32(const hy_gguf *g, const char *key, int32_t *out);
hyperion_status hy_gguf_get_u64(const hy_gguf *g, const char *key, uint64_t *out);
hyperion_status hy_gguf_get_f32(const hy_gguf *g, const char *key, float *out);
hyperion_status hy_gguf_get_bool(const hy_gguf *g, const char *key, int *out);
/* *text points into the mapping and is NOT NUL-terminated; *len is its length. */
hyperion_status hy_gguf_get_string(const hy_gguf *g, const char *key, const char **text, uint64_t *len);
hyperion_status hy_gguf_get_u32_or(const hy_gguf *g, const char *key, uint32_t fallback, uint32_t *out);
hyperion_status hy_gguf_get_f32_or(const hy_gguf *g, const char *key, float fallback, float *out);
hyperion_status hy_gguf_get_bool_or(const hy_gguf *g, const char *key, int fallback, int *out);

/* Copy a string value into buf (NUL-terminated). HYPERION_MODEL_INVALID when
 * it does not fit (size includes the NUL), has a NUL byte, or is not a string. */
hyperion_status hy_gguf_get_string_copy(const hy_gguf *g, const char *key, char *buf, size_t size);

/* An array: HYPERION_MODEL_INVALID when absent or not an array; when
 * elem_type != (uint32_t)-1 the elements must have that type. *elems points to
 * the raw little-endian elements (unaligned), NULL for string arrays (use
 * hy_gguf_array_string). Any output pointer may be NULL. */
hyperion_status hy_gguf_get_array(const hy_gguf *g, const char *key, uint32_t elem_type, const hy_gguf_kv **kv,
                                  uint64_t *count, const void **elems);

/* Element i of a string array: *text into the mapping (not NUL-terminated).
 * HYPERION_INVALID_ARGUMENT when kv is not a string array or i >= count. */
hyperion_status hy_gguf_array_string(const hy_gguf_kv *kv, uint64_t i, const char **text, uint64_t *len);

/* Element i of a numeric array converted to double (any numeric or bool type);
 * 0.0 when kv is not such an array or i is out of range. */
double hy_gguf_array_number(const hy_gguf_kv *kv, uint64_t i);

/* ---- tensors */
uint64_t hy_gguf_tensor_count(const hy_gguf *g);
const hy_tensor *hy_gguf_tensor_at(const hy_gguf *g, uint64_t i);      /* file order; NULL past the end */
const hy_tensor *hy_gguf_find_tensor(const hy_gguf *g, const char *name); /* NULL when absent */
/* Absolute file offsets of tensor i's info record and of its type field (for
 * messages); 0 past the end. */
uint64_t hy_gguf_tensor_info_offset(const hy_gguf *g, uint64_t i);
uint64_t hy_gguf_tensor_type_offset(const hy_gguf *g, uint64_t i);

#endif
