/*
 * tensor.h — a view of one tensor (internal), shared by the GGUF reader, the
 * kernels and the graph.
 *
 * Dimensions follow GGUF/ggml order: ne[0] is the innermost (contiguous)
 * dimension. A weight matrix applied as y = W x, with x of n_in and y of n_out
 * elements, has ne[0] = n_in and ne[1] = n_out: row r (n_in elements, stored as
 * row_bytes bytes in `type`) produces y[r].
 */
#ifndef HYPERION_TENSOR_H
#define HYPERION_TENSOR_H

#include <stdint.h>

#define HY_TENSOR_MAX_DIMS 4

/* How a tensor's rows are laid out in memory. Every layout keeps the GGUF
 * row size, so row r starts at data + r * row_bytes in all of them; only the
 * order of bytes inside a row differs (see kernels/repack.h). */
typedef enum hy_tensor_layout {
    HY_LAYOUT_GGUF = 0,     /* the file's blocks, one after another */
    HY_LAYOUT_X8 = 1,       /* Q4_0 / Q8_0 rows regrouped per 8 blocks: the 8 scales, then the 8 blocks' quants */
} hy_tensor_layout;

typedef struct hy_tensor {
    const char *name;       /* NUL-terminated; owned by whoever owns the tensor table */
    uint32_t type;          /* hy_type (ggml type id) */
    uint32_t n_dims;        /* 1..4 */
    uint64_t ne[HY_TENSOR_MAX_DIMS]; /* elements per dimension; unused ones are 1 */
    uint64_t row_bytes;     /* bytes of one row of ne[0] elements */
    uint64_t n_bytes;       /* bytes of the whole tensor */
    const void *data;       /* into the read-only mapping, or a repacked copy */
    uint64_t file_offset;   /* absolute offset of the data in the file */
    uint32_t layout;        /* hy_tensor_layout of the bytes at data */
} hy_tensor;

/* Number of rows: the product of ne[1..3]. */
static inline uint64_t hy_tensor_rows(const hy_tensor *t) {
    return t->ne[1] * t->ne[2] * t->ne[3];
}

#endif
