/*
 * gguf_write.h — a GGUF v3 writer (internal), used by the model maker and the
 * tests.
 *
 * Use: create; set metadata pairs and add tensor infos (name, type, dims) in
 * any order; begin (a file or memory); then stream each tensor's bytes in
 * tensor order with hy_gguf_writer_write, in pieces of any size, so a model
 * never has to be in memory at once; finish. The writer computes offsets and
 * writes the alignment padding (general.alignment, default 32; set it with
 * hy_gguf_writer_set_u32 before begin). A file is written to "<path>.partial"
 * and renamed to path by finish, so a failed or abandoned write never leaves
 * a truncated model under the final name.
 *
 * Errors: HYPERION_INVALID_ARGUMENT for misuse (a bad or duplicate key or
 * tensor name, a call in the wrong phase, too many or too few data bytes),
 * HYPERION_IO when the file cannot be written, allocation errors as usual.
 * After an IO error the writer only accepts hy_gguf_writer_free.
 */
#ifndef HYPERION_MODEL_GGUF_WRITE_H
#define HYPERION_MODEL_GGUF_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "hyperion.h"

typedef struct hy_gguf_writer hy_gguf_writer;

/* A new, empty writer (owned by the caller; release with hy_gguf_writer_free). */
hyperion_status hy_gguf_writer_create(hy_gguf_writer **out);

/* Release the writer; an unfinished file's ".partial" is removed. NULL: no-op. */
void hy_gguf_writer_free(hy_gguf_writer *w);

/* ---- metadata (before begin). Keys: non-empty valid UTF-8, each once. */
hyperion_status hy_gguf_writer_set_u8(hy_gguf_writer *w, const char *key, uint8_t v);
hyperion_status hy_gguf_writer_set_i8(hy_gguf_writer *w, const char *key, int8_t v);
hyperion_status hy_gguf_writer_set_u16(hy_gguf_writer *w, const char *key, uint16_t v);
hyperion_status hy_gguf_writer_set_i16(hy_gguf_writer *w, const char *key, int16_t v);
/* "general.alignment" set here also sets the data alignment (a power of two). */
hyperion_status hy_gguf_writer_set_u32(hy_gguf_writer *w, const char *key, uint32_t v);
hyperion_status hy_gguf_writer_set_i32(hy_gguf_writer *w, const char *key, int32_t v);
hyperion_status hy_gguf_writer_set_f32(hy_gguf_writer *w, const char *key, float v);
hyperion_status hy_gguf_writer_set_bool(hy_gguf_writer *w, const char *key, int v);
hyperion_status hy_gguf_writer_set_u64(hy_gguf_writer *w, const char *key, uint64_t v);
hyperion_status hy_gguf_writer_set_i64(hy_gguf_writer *w, const char *key, int64_t v);
hyperion_status hy_gguf_writer_set_f64(hy_gguf_writer *w, const char *key, double v);
/* A NUL-terminated string; _n: len bytes (may hold any bytes). */
hyperion_status hy_gguf_writer_set_string(hy_gguf_writer *w, const char *key, const char *text);
hyperion_status hy_gguf_writer_set_string_n(hy_gguf_writer *w, const char *key, const char *text, uint64_t len);

/* An array of count fixed-size elements of elem_type (uint8 .. float64 but not
 * string or array), given in host order; bools must be 0 or 1. */
hyperion_status hy_gguf_writer_set_array(hy_gguf_writer *w, const char *key, uint32_t elem_type, const void *elems,
                                         uint64_t count);

/* An array of count strings; lens may be NULL (then each text is NUL-terminated). */
hyperion_status hy_gguf_writer_set_string_array(hy_gguf_writer *w, const char *key, const char *const *texts,
                                                const uint64_t *lens, uint64_t count);

/* ---- tensors (before begin), stored in the order added. Name: 1..63 bytes
 * of UTF-8 (llama.cpp's limit), unique; type: a known ggml type id; n_dims
 * 1..4; every ne >= 1; ne[0] a multiple of the type's block size. */
hyperion_status hy_gguf_writer_add_tensor(hy_gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims,
                                          const uint64_t *ne);

/* Bytes tensor i (in the order added) takes in the file, without padding; 0 past the end. */
uint64_t hy_gguf_writer_tensor_bytes(const hy_gguf_writer *w, uint64_t i);

/* ---- output */
/* Write the header, metadata, tensor infos and padding to "<path>.partial". */
hyperion_status hy_gguf_writer_begin_file(hy_gguf_writer *w, const char *path);
/* The same into a memory buffer (tests, fuzz seeds). */
hyperion_status hy_gguf_writer_begin_memory(hy_gguf_writer *w);

/* Append n bytes of tensor data: they fill the current tensor, then the next
 * (padding is inserted between tensors). More bytes than the tensors hold is
 * HYPERION_INVALID_ARGUMENT (and nothing of that call is written). */
hyperion_status hy_gguf_writer_write(hy_gguf_writer *w, const void *data, uint64_t n);

/* Check every tensor got all its bytes, flush, and (files) rename
 * "<path>.partial" to path. */
hyperion_status hy_gguf_writer_finish(hy_gguf_writer *w);

/* After finish on a memory writer: hand over the buffer (hyperionAlloc'd,
 * tag HYPERION_TAG_MODEL; the caller frees it with hyperionFree). */
hyperion_status hy_gguf_writer_take_memory(hy_gguf_writer *w, void **data, size_t *size);

#endif
