/*
 * gguf_layout.h — where the fields of a GGUF file lie (test-only; for the
 * structure-aware mutator and the seed builder).
 *
 * A tolerant walk over the header, the key/value pairs and the tensor infos
 * that records the offset, width and meaning of every count, length, type,
 * scalar value, dimension and data offset it passes. Unlike the real reader it
 * never rejects: it stops at the first place it cannot follow and keeps what it
 * found, so damaged files (most of a fuzzer's corpus) still expose their
 * leading structure to the mutator.
 */
#ifndef HYPERION_FUZZ_GGUF_LAYOUT_H
#define HYPERION_FUZZ_GGUF_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

typedef enum hy_gguf_field_kind {
    HY_GF_VERSION,
    HY_GF_TENSOR_COUNT,
    HY_GF_KV_COUNT,
    HY_GF_KEY_LEN,
    HY_GF_KV_TYPE,       /* a pair's value type */
    HY_GF_STR_LEN,       /* a string value's (or string element's) length */
    HY_GF_ARR_TYPE,      /* an array's element type */
    HY_GF_ARR_COUNT,
    HY_GF_SCALAR,        /* a fixed-size value (type in hy_gguf_field.type) */
    HY_GF_TI_NAME_LEN,
    HY_GF_TI_NDIMS,
    HY_GF_TI_DIM,
    HY_GF_TI_TYPE,
    HY_GF_TI_OFFSET,
    HY_GF_KIND_COUNT
} hy_gguf_field_kind;

typedef struct hy_gguf_field {
    uint8_t kind;        /* hy_gguf_field_kind */
    uint8_t width;       /* 4 or 8 (scalars: 1, 2, 4 or 8) */
    uint8_t type;        /* HY_GF_SCALAR: the GGUF value type */
    uint64_t offset;
} hy_gguf_field;

typedef struct hy_gguf_span {
    uint64_t start, end; /* [start, end) */
} hy_gguf_span;

#define HY_GGUF_LAYOUT_MAX_FIELDS 2048
#define HY_GGUF_LAYOUT_MAX_SPANS 256

typedef struct hy_gguf_layout {
    hy_gguf_field fields[HY_GGUF_LAYOUT_MAX_FIELDS];
    uint32_t n_fields;
    hy_gguf_span kvs[HY_GGUF_LAYOUT_MAX_SPANS];    /* whole key/value pairs */
    uint32_t n_kvs;
    hy_gguf_span infos[HY_GGUF_LAYOUT_MAX_SPANS];  /* whole tensor infos */
    uint32_t n_infos;
    uint64_t kv_count, tensor_count;               /* as the header says */
    uint64_t infos_end;                            /* end of the last tensor info walked */
    uint32_t alignment;                            /* general.alignment when read, else 32 */
    int complete;                                  /* 1: every pair and info was walked */
} hy_gguf_layout;

/* Walk data[0..size) into *out. Returns the number of fields found (0 when
 * not even the header is there). */
uint32_t hy_gguf_layout_parse(const uint8_t *data, size_t size, hy_gguf_layout *out);

/* Read / write a little-endian field of width 1, 2, 4 or 8 at off (the caller
 * checks off + width <= size). */
uint64_t hy_gguf_layout_get(const uint8_t *data, uint64_t off, unsigned width);
void hy_gguf_layout_put(uint8_t *data, uint64_t off, unsigned width, uint64_t value);

#endif
