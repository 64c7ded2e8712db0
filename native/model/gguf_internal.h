/*
 * gguf_internal.h — the hy_gguf structure, shared by the reader (gguf_open.c,
 * gguf_read.c, gguf_check.c), the accessors (gguf_access.c) and the writer
 * (for its UTF-8 check). Nothing outside native/model/gguf_* includes it.
 */
#ifndef HYPERION_MODEL_GGUF_INTERNAL_H
#define HYPERION_MODEL_GGUF_INTERNAL_H

#include "model/gguf.h"

#define HY_GGUF_MAX_WARNINGS 64

/* Per-tensor facts the reader keeps for layout checks and messages. */
typedef struct hy_gguf_tinfo {
    uint64_t info_offset;     /* absolute offset of the tensor info (its name length) */
    uint64_t offset_pos;      /* absolute offset of its "offset" field */
    uint64_t rel_offset;      /* the offset as written: relative to the data section */
    uint64_t name_len;        /* bytes of the name (text at info_offset + 8) */
} hy_gguf_tinfo;

struct hy_gguf {
    char *path;                   /* copy of the path or name given to open */
    const uint8_t *base;          /* the mapping (or the caller's bytes) */
    uint64_t size;
    int mapped;                   /* 1: base is our mmap, unmapped on close */
    uint32_t version;
    uint32_t alignment;
    uint64_t data_offset;         /* absolute start of the tensor data section */

    uint64_t n_kv;
    hy_gguf_kv *kv;               /* [n_kv] */
    uint64_t n_tensors;
    hy_tensor *tensors;           /* [n_tensors], file order */
    hy_gguf_tinfo *tinfo;         /* [n_tensors] */
    char *names;                  /* NUL-terminated keys and tensor names */

    uint32_t *kv_hash;            /* open addressing: index + 1, 0 = empty */
    uint64_t kv_hash_cap;         /* power of two */
    uint32_t *tensor_hash;
    uint64_t tensor_hash_cap;

    hy_gguf_note *warnings;       /* [HY_GGUF_MAX_WARNINGS] once the first is added */
    uint32_t n_warnings;
    uint32_t warnings_dropped;
};

/* Parse and validate g->base[0 .. g->size) into g (gguf_read.c). On failure
 * the caller releases g with hy_gguf_close; the error record says why. */
hyperion_status hy_gguf_parse(hy_gguf *g, uint32_t flags);

/* FNV-1a over bytes: the hash of the key and tensor-name tables. */
uint64_t hy_gguf_hash(const void *data, size_t len);

/* Index of the kv / tensor with this name (len bytes), or -1. */
int64_t hy_gguf_lookup_kv(const hy_gguf *g, const char *name, size_t len);
int64_t hy_gguf_lookup_tensor(const hy_gguf *g, const char *name, size_t len);

/* Build the key / tensor-name lookup tables; a duplicate name gives
 * HYPERION_MODEL_INVALID naming the later entry. */
hyperion_status hy_gguf_index_keys(hy_gguf *g);
hyperion_status hy_gguf_index_tensors(hy_gguf *g);

/* Record a warning (kept up to HY_GGUF_MAX_WARNINGS, then counted). Never fails
 * loudly: when the list cannot be allocated the warning is counted as dropped. */
void hy_gguf_add_warning(hy_gguf *g, const char *field, uint64_t offset, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

/* 1 when [s, s + n) is valid UTF-8 without NUL bytes; else 0 and *bad (may be
 * NULL) gets the index of the first offending byte. */
int hy_gguf_utf8_valid(const uint8_t *s, uint64_t n, uint64_t *bad);

/* The data-section checks that follow the tensor infos:
 * alignment of offsets, bounds, overlap, and the warnings about layout (gguf_check.c).
 * Raise through the same field/offset convention as the reader. */
hyperion_status hy_gguf_check_layout(hy_gguf *g, uint64_t end_of_infos);

/* Raise HYPERION_MODEL_INVALID (or another code) for a field at a byte offset
 * of g's file: message "<file>: <field> at byte <offset>: <text>". */
hyperion_status hy_gguf_fail(const hy_gguf *g, hyperion_status code, const char *field, uint64_t offset,
                             const char *suggestion, const char *format, ...)
    __attribute__((format(printf, 6, 7)));

#define HY_GGUF_SUGGEST_DAMAGED "the file is damaged or was not written by a correct GGUF writer; download or convert it again"

#endif
