/*
 * gguf_write.c — the GGUF v3 writer (see gguf_write.h).
 *
 * Metadata pairs are serialized as they are set (one growing buffer); tensor
 * infos are kept as a list until begin, which lays out the data section. The
 * data then streams through a 64 KiB buffer to the file (or to a memory
 * buffer), tensor by tensor, with zero padding to the alignment after each.
 */
#include "model/gguf_write.h"

#include "core/internal.h"
#include "kernels/types.h"
#include "model/gguf.h"
#include "model/gguf_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define OUT_BUFFER_BYTES 65536
#define MAX_WRITER_ALIGNMENT (1u << 20)
#define MAX_TENSOR_NAME 63

enum { PHASE_META, PHASE_DATA, PHASE_DONE, PHASE_FAILED };

typedef struct bytes {
    uint8_t *p;
    uint64_t len, cap;
} bytes;

typedef struct wtensor {
    char *name;
    uint32_t type, n_dims;
    uint64_t ne[HY_TENSOR_MAX_DIMS];
    uint64_t n_bytes, rel_offset;
} wtensor;

struct hy_gguf_writer {
    int phase;
    uint32_t alignment;
    bytes kv;                    /* the serialized pairs */
    uint64_t n_kv;
    uint64_t *key_offsets;       /* where each pair starts in kv (for duplicate checks) */
    uint64_t key_cap;
    wtensor *tensors;
    uint64_t n_tensors, tensor_cap;

    int to_memory;
    bytes mem;
    int fd;
    int created;                 /* 1: we created "<path>.partial" */
    char *path, *partial;
    uint8_t *buf;                /* [OUT_BUFFER_BYTES] for file output */
    uint64_t buf_len;
    uint64_t out_pos;            /* bytes emitted so far */
    uint64_t cur, cur_written;   /* the tensor being streamed and its bytes so far */
    uint64_t file_bytes;         /* bytes written to the file so far */
};

/* ------------------------------------------------------------- helpers */

static hyperion_status misuse(const char *field, const char *format, const char *detail) {
    return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", field) }), format, detail);
}

static hyperion_status bytes_reserve(bytes *b, uint64_t extra) {
    uint64_t need;
    if (__builtin_add_overflow(b->len, extra, &need) || need > SIZE_MAX / 2)
        return HY_RAISE(HYPERION_OUT_OF_MEMORY, NULL, "GGUF writer buffer would overflow");
    if (need <= b->cap) return HYPERION_OK;
    uint64_t cap = b->cap ? b->cap : 256;
    while (cap < need) cap *= 2;
    uint8_t *p = hyperionRealloc(b->p, (size_t)cap, HYPERION_TAG_MODEL);
    if (!p) return hyperionGetLastError()->code;
    b->p = p;
    b->cap = cap;
    return HYPERION_OK;
}

static hyperion_status bytes_put(bytes *b, const void *data, uint64_t n) {
    hyperion_status s = bytes_reserve(b, n);
    if (s) return s;
    if (n) memcpy(b->p + b->len, data, (size_t)n);
    b->len += n;
    return HYPERION_OK;
}

static hyperion_status put_le(bytes *b, uint64_t v, int size) {
    uint8_t le[8];
    for (int i = 0; i < size; i++) le[i] = (uint8_t)(v >> (8 * i));
    return bytes_put(b, le, (uint64_t)size);
}

static hyperion_status put_string(bytes *b, const void *text, uint64_t len) {
    hyperion_status s = put_le(b, len, 8);
    return s ? s : bytes_put(b, text, len);
}

static uint64_t align_up(uint64_t v, uint64_t a) {
    return (v + a - 1) / a * a;
}

/* ------------------------------------------------------------ lifecycle */

hyperion_status hy_gguf_writer_create(hy_gguf_writer **out) {
    if (!out) return misuse("out", "hy_gguf_writer_create: %s is NULL", "out");
    *out = NULL;
    hy_gguf_writer *w = hyperionCalloc(1, sizeof *w, HYPERION_TAG_MODEL);
    if (!w) return hyperionGetLastError()->code;
    w->alignment = HY_GGUF_DEFAULT_ALIGNMENT;
    w->fd = -1;
    *out = w;
    return HYPERION_OK;
}

void hy_gguf_writer_free(hy_gguf_writer *w) {
    if (!w) return;
    if (w->fd >= 0) close(w->fd);
    if (w->created && w->phase != PHASE_DONE) unlink(w->partial);
    for (uint64_t i = 0; i < w->n_tensors; i++) hyperionFree(w->tensors[i].name);
    hyperionFree(w->tensors);
    hyperionFree(w->key_offsets);
    hyperionFree(w->kv.p);
    hyperionFree(w->mem.p);
    hyperionFree(w->buf);
    hyperionFree(w->path);
    hyperionFree(w->partial);
    hyperionFree(w);
}

/* ------------------------------------------------------------- metadata */

static hyperion_status check_meta_phase(const hy_gguf_writer *w, const char *what) {
    if (!w) return misuse("writer", "%s: the writer is NULL", what);
    if (w->phase != PHASE_META)
        return misuse("phase", "%s: metadata and tensors must be added before begin", what);
    return HYPERION_OK;
}

/* Validate key and start its pair (key + type) in the buffer. */
static hyperion_status begin_pair(hy_gguf_writer *w, const char *key, uint32_t type) {
    hyperion_status s = check_meta_phase(w, "hy_gguf_writer_set");
    if (s) return s;
    if (!key || !*key) return misuse("key", "GGUF writer: %s", "a key must be a non-empty string");
    size_t len = strlen(key);
    if (!hy_gguf_utf8_valid((const uint8_t *)key, len, NULL))
        return misuse("key", "GGUF writer: key \"%s\" is not valid UTF-8", key);
    for (uint64_t i = 0; i < w->n_kv; i++) {
        const uint8_t *p = w->kv.p + w->key_offsets[i];
        uint64_t n = 0;
        for (int b = 7; b >= 0; b--) n = (n << 8) | p[b];
        if (n == len && !memcmp(p + 8, key, len))
            return misuse("key", "GGUF writer: duplicate key \"%s\"", key);
    }
    if (w->n_kv == w->key_cap) {
        uint64_t cap = w->key_cap ? w->key_cap * 2 : 32;
        uint64_t *k = hyperionRealloc(w->key_offsets, (size_t)(cap * sizeof(uint64_t)), HYPERION_TAG_MODEL);
        if (!k) return hyperionGetLastError()->code;
        w->key_offsets = k;
        w->key_cap = cap;
    }
    uint64_t start = w->kv.len;
    if ((s = put_string(&w->kv, key, len)) || (s = put_le(&w->kv, type, 4))) {
        w->kv.len = start;
        return s;
    }
    w->key_offsets[w->n_kv] = start;
    return HYPERION_OK;
}

/* The pair begun last is complete: count it (or, on failure, drop it). */
static hyperion_status end_pair(hy_gguf_writer *w, hyperion_status s) {
    if (s) w->kv.len = w->key_offsets[w->n_kv];
    else w->n_kv++;
    return s;
}

static hyperion_status set_scalar(hy_gguf_writer *w, const char *key, uint32_t type, uint64_t bits) {
    hyperion_status s = begin_pair(w, key, type);
    if (s) return s;
    return end_pair(w, put_le(&w->kv, bits, (int)hy_gguf_type_size(type)));
}

hyperion_status hy_gguf_writer_set_u8(hy_gguf_writer *w, const char *key, uint8_t v) {
    return set_scalar(w, key, HY_GGUF_UINT8, v);
}
hyperion_status hy_gguf_writer_set_i8(hy_gguf_writer *w, const char *key, int8_t v) {
    return set_scalar(w, key, HY_GGUF_INT8, (uint8_t)v);
}
hyperion_status hy_gguf_writer_set_u16(hy_gguf_writer *w, const char *key, uint16_t v) {
    return set_scalar(w, key, HY_GGUF_UINT16, v);
}
hyperion_status hy_gguf_writer_set_i16(hy_gguf_writer *w, const char *key, int16_t v) {
    return set_scalar(w, key, HY_GGUF_INT16, (uint16_t)v);
}
hyperion_status hy_gguf_writer_set_u32(hy_gguf_writer *w, const char *key, uint32_t v) {
    if (key && !strcmp(key, HY_GGUF_KEY_ALIGNMENT)) {
        if (v == 0 || (v & (v - 1)) || v > MAX_WRITER_ALIGNMENT)
            return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "use a power of two up to 1 MiB",
                                 ((hy_field[]){ HY_TXT("field", HY_GGUF_KEY_ALIGNMENT), HY_NUM("value", v) }),
                                 "GGUF writer: alignment %u is not a power of two up to 1 MiB", v);
        hyperion_status s = set_scalar(w, key, HY_GGUF_UINT32, v);
        if (!s) w->alignment = v;
        return s;
    }
    return set_scalar(w, key, HY_GGUF_UINT32, v);
}
hyperion_status hy_gguf_writer_set_i32(hy_gguf_writer *w, const char *key, int32_t v) {
    return set_scalar(w, key, HY_GGUF_INT32, (uint32_t)v);
}
hyperion_status hy_gguf_writer_set_f32(hy_gguf_writer *w, const char *key, float v) {
    uint32_t bits;
    memcpy(&bits, &v, 4);
    return set_scalar(w, key, HY_GGUF_FLOAT32, bits);
}
hyperion_status hy_gguf_writer_set_bool(hy_gguf_writer *w, const char *key, int v) {
    return set_scalar(w, key, HY_GGUF_BOOL, v ? 1 : 0);
}
hyperion_status hy_gguf_writer_set_u64(hy_gguf_writer *w, const char *key, uint64_t v) {
    return set_scalar(w, key, HY_GGUF_UINT64, v);
}
hyperion_status hy_gguf_writer_set_i64(hy_gguf_writer *w, const char *key, int64_t v) {
    return set_scalar(w, key, HY_GGUF_INT64, (uint64_t)v);
}
hyperion_status hy_gguf_writer_set_f64(hy_gguf_writer *w, const char *key, double v) {
    uint64_t bits;
    memcpy(&bits, &v, 8);
    return set_scalar(w, key, HY_GGUF_FLOAT64, bits);
}

hyperion_status hy_gguf_writer_set_string_n(hy_gguf_writer *w, const char *key, const char *text, uint64_t len) {
    if (!text && len) return misuse("text", "GGUF writer: %s", "string text is NULL");
    hyperion_status s = begin_pair(w, key, HY_GGUF_STRING);
    if (s) return s;
    return end_pair(w, put_string(&w->kv, text, len));
}

hyperion_status hy_gguf_writer_set_string(hy_gguf_writer *w, const char *key, const char *text) {
    if (!text) return misuse("text", "GGUF writer: %s", "string text is NULL");
    return hy_gguf_writer_set_string_n(w, key, text, strlen(text));
}

hyperion_status hy_gguf_writer_set_array(hy_gguf_writer *w, const char *key, uint32_t elem_type, const void *elems,
                                         uint64_t count) {
    size_t es = hy_gguf_type_size(elem_type);
    if (!es) return misuse("elem_type", "GGUF writer: %s", "set_array takes fixed-size element types only");
    if (!elems && count) return misuse("elems", "GGUF writer: %s", "array elements are NULL");
    const uint8_t *e = elems;
    if (elem_type == HY_GGUF_BOOL)
        for (uint64_t i = 0; i < count; i++)
            if (e[i] > 1) return misuse("elems", "GGUF writer: %s", "bool array elements must be 0 or 1");
    hyperion_status s = begin_pair(w, key, HY_GGUF_ARRAY);
    if (s) return s;
    if ((s = put_le(&w->kv, elem_type, 4)) || (s = put_le(&w->kv, count, 8)) ||
        (s = bytes_reserve(&w->kv, count * es)))
        return end_pair(w, s);
    for (uint64_t i = 0; i < count && !s; i++) {
        uint64_t v = 0;
        switch (es) {
        case 1: v = e[i]; break;
        case 2: { uint16_t x; memcpy(&x, e + i * 2, 2); v = x; break; }
        case 4: { uint32_t x; memcpy(&x, e + i * 4, 4); v = x; break; }
        default: memcpy(&v, e + i * 8, 8); break;
        }
        s = put_le(&w->kv, v, (int)es);
    }
    return end_pair(w, s);
}

hyperion_status hy_gguf_writer_set_string_array(hy_gguf_writer *w, const char *key, const char *const *texts,
                                                const uint64_t *lens, uint64_t count) {
    if (!texts && count) return misuse("texts", "GGUF writer: %s", "string array texts are NULL");
    for (uint64_t i = 0; i < count; i++)
        if (!texts[i] && (!lens || lens[i])) return misuse("texts", "GGUF writer: %s", "a string of the array is NULL");
    hyperion_status s = begin_pair(w, key, HY_GGUF_ARRAY);
    if (s) return s;
    if ((s = put_le(&w->kv, HY_GGUF_STRING, 4)) || (s = put_le(&w->kv, count, 8))) return end_pair(w, s);
    for (uint64_t i = 0; i < count && !s; i++)
        s = put_string(&w->kv, texts[i], lens ? lens[i] : strlen(texts[i]));
    return end_pair(w, s);
}

/* -------------------------------------------------------------- tensors */

hyperion_status hy_gguf_writer_add_tensor(hy_gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims,
                                          const uint64_t *ne) {
    hyperion_status s = check_meta_phase(w, "hy_gguf_writer_add_tensor");
    if (s) return s;
    size_t len = name ? strlen(name) : 0;
    if (len == 0 || len > MAX_TENSOR_NAME || !hy_gguf_utf8_valid((const uint8_t *)name, len, NULL))
        return misuse("name", "GGUF writer: tensor name \"%s\" must be 1 to 63 bytes of UTF-8", name ? name : "");
    for (uint64_t i = 0; i < w->n_tensors; i++)
        if (!strcmp(w->tensors[i].name, name)) return misuse("name", "GGUF writer: duplicate tensor name \"%s\"", name);
    const hy_type_info *info = hy_type_get(type);
    if (!info) return misuse("type", "GGUF writer: tensor \"%s\" has an unknown type id", name);
    if (n_dims < 1 || n_dims > HY_TENSOR_MAX_DIMS || !ne)
        return misuse("n_dims", "GGUF writer: tensor \"%s\" needs 1 to 4 dimensions", name);
    wtensor t = { .type = type, .n_dims = n_dims, .ne = { 1, 1, 1, 1 } };
    uint64_t elements = 1;
    for (uint32_t d = 0; d < n_dims; d++) {
        if (ne[d] == 0 || ne[d] > (uint64_t)INT64_MAX || __builtin_mul_overflow(elements, ne[d], &elements) ||
            elements > (uint64_t)INT64_MAX)
            return misuse("ne", "GGUF writer: tensor \"%s\" has a zero or overflowing dimension", name);
        t.ne[d] = ne[d];
    }
    if (ne[0] % info->block_size)
        return misuse("ne", "GGUF writer: tensor \"%s\": ne[0] is not a multiple of the type's block size", name);
    if (__builtin_mul_overflow(ne[0] / info->block_size * info->type_size, elements / ne[0], &t.n_bytes))
        return misuse("ne", "GGUF writer: tensor \"%s\": its byte size overflows", name);
    if (w->n_tensors == w->tensor_cap) {
        uint64_t cap = w->tensor_cap ? w->tensor_cap * 2 : 64;
        wtensor *nt = hyperionRealloc(w->tensors, (size_t)(cap * sizeof(wtensor)), HYPERION_TAG_MODEL);
        if (!nt) return hyperionGetLastError()->code;
        w->tensors = nt;
        w->tensor_cap = cap;
    }
    t.name = hyperionAlloc(len + 1, HYPERION_TAG_MODEL);
    if (!t.name) return hyperionGetLastError()->code;
    memcpy(t.name, name, len + 1);
    w->tensors[w->n_tensors++] = t;
    return HYPERION_OK;
}

uint64_t hy_gguf_writer_tensor_bytes(const hy_gguf_writer *w, uint64_t i) {
    return w && i < w->n_tensors ? w->tensors[i].n_bytes : 0;
}

/* ---------------------------------------------------------------- output */

static hyperion_status io_failed(hy_gguf_writer *w, const char *what, int e) {
    w->phase = PHASE_FAILED;
    return HY_RAISE_WITH(HYPERION_IO, "check the free disk space and the folder's permissions",
                         ((hy_field[]){ HY_TXT("path", w->partial ? w->partial : "(memory)"), HY_NUM("errno", e) }),
                         "GGUF writer: %s %s failed: %s", what, w->partial ? w->partial : "(memory)", strerror(e));
}

static hyperion_status flush_buffer(hy_gguf_writer *w) {
    uint64_t done = 0;
    while (done < w->buf_len) {
        ssize_t n = write(w->fd, w->buf + done, (size_t)(w->buf_len - done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return io_failed(w, "writing", n < 0 ? errno : EIO);
        done += (uint64_t)n;
    }
    w->file_bytes += w->buf_len;
    w->buf_len = 0;
    return HYPERION_OK;
}

static hyperion_status emit(hy_gguf_writer *w, const void *data, uint64_t n) {
    hyperion_status s;
    if (w->to_memory) {
        if ((s = bytes_put(&w->mem, data, n))) return s;
    } else {
        const uint8_t *p = data;
        uint64_t left = n;
        while (left) {
            if (w->buf_len == OUT_BUFFER_BYTES && (s = flush_buffer(w))) return s;
            uint64_t chunk = OUT_BUFFER_BYTES - w->buf_len;
            if (chunk > left) chunk = left;
            memcpy(w->buf + w->buf_len, p, (size_t)chunk);
            w->buf_len += chunk;
            p += chunk;
            left -= chunk;
        }
    }
    w->out_pos += n;
    return HYPERION_OK;
}

static hyperion_status emit_padding(hy_gguf_writer *w) {
    static const uint8_t zeros[256];
    uint64_t pad = align_up(w->out_pos, w->alignment) - w->out_pos;
    while (pad) {
        uint64_t chunk = pad < sizeof zeros ? pad : sizeof zeros;
        hyperion_status s = emit(w, zeros, chunk);
        if (s) return s;
        pad -= chunk;
    }
    return HYPERION_OK;
}

/* Header, pairs, tensor infos and the padding before the data section. */
static hyperion_status emit_head(hy_gguf_writer *w) {
    bytes h = { 0 };
    hyperion_status s = HYPERION_OK;
    uint64_t offset = 0;
    if ((s = bytes_put(&h, HY_GGUF_MAGIC, 4)) || (s = put_le(&h, 3, 4)) || (s = put_le(&h, w->n_tensors, 8)) ||
        (s = put_le(&h, w->n_kv, 8)) || (s = bytes_put(&h, w->kv.p, w->kv.len)))
        goto done;
    for (uint64_t i = 0; i < w->n_tensors && !s; i++) {
        wtensor *t = &w->tensors[i];
        t->rel_offset = offset;
        offset = align_up(offset + t->n_bytes, w->alignment);
        s = put_string(&h, t->name, strlen(t->name));
        if (!s) s = put_le(&h, t->n_dims, 4);
        for (uint32_t d = 0; d < t->n_dims && !s; d++) s = put_le(&h, t->ne[d], 8);
        if (!s) s = put_le(&h, t->type, 4);
        if (!s) s = put_le(&h, t->rel_offset, 8);
    }
    if (!s) s = emit(w, h.p, h.len);
    if (!s) s = emit_padding(w);
done:
    hyperionFree(h.p);
    return s;
}

static hyperion_status begin(hy_gguf_writer *w) {
    w->phase = PHASE_DATA;
    w->cur = 0;
    w->cur_written = 0;
    hyperion_status s = emit_head(w);
    if (s) w->phase = PHASE_FAILED;
    return s;
}

hyperion_status hy_gguf_writer_begin_memory(hy_gguf_writer *w) {
    hyperion_status s = check_meta_phase(w, "hy_gguf_writer_begin_memory");
    if (s) return s;
    w->to_memory = 1;
    return begin(w);
}

hyperion_status hy_gguf_writer_begin_file(hy_gguf_writer *w, const char *path) {
    hyperion_status s = check_meta_phase(w, "hy_gguf_writer_begin_file");
    if (s) return s;
    if (!path || !*path) return misuse("path", "GGUF writer: %s", "the output path is empty");
    size_t n = strlen(path);
    w->path = hyperionAlloc(n + 1, HYPERION_TAG_MODEL);
    w->partial = hyperionAlloc(n + sizeof ".partial", HYPERION_TAG_MODEL);
    w->buf = hyperionAlloc(OUT_BUFFER_BYTES, HYPERION_TAG_MODEL);
    if (!w->path || !w->partial || !w->buf) return hyperionGetLastError()->code;
    memcpy(w->path, path, n + 1);
    memcpy(w->partial, path, n);
    memcpy(w->partial + n, ".partial", sizeof ".partial");
    w->fd = open(w->partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        int e = errno;
        w->phase = PHASE_FAILED;
        return HY_RAISE_WITH(HYPERION_IO, "check that the folder exists and is writable",
                             ((hy_field[]){ HY_TXT("path", path), HY_NUM("errno", e) }),
                             "GGUF writer: cannot create %s.partial: %s", path, strerror(e));
    }
    w->created = 1;
    return begin(w);
}

hyperion_status hy_gguf_writer_write(hy_gguf_writer *w, const void *data, uint64_t n) {
    if (!w || w->phase != PHASE_DATA)
        return misuse("phase", "GGUF writer: %s", "tensor data can be written only between begin and finish");
    if (!data && n) return misuse("data", "GGUF writer: %s", "data is NULL");
    uint64_t room = 0;
    for (uint64_t i = w->cur; i < w->n_tensors; i++) room += w->tensors[i].n_bytes;
    room -= w->cur_written;
    if (n > room)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL,
                             ((hy_field[]){ HY_TXT("field", "n"), HY_NUM("requested", (double)n),
                                            HY_NUM("available", (double)room) }),
                             "GGUF writer: %llu bytes of tensor data given but only %llu remain to be written",
                             (unsigned long long)n, (unsigned long long)room);
    const uint8_t *p = data;
    while (n) {
        wtensor *t = &w->tensors[w->cur];
        uint64_t chunk = t->n_bytes - w->cur_written;
        if (chunk > n) chunk = n;
        hyperion_status s = emit(w, p, chunk);
        if (s) return s;
        p += chunk;
        n -= chunk;
        w->cur_written += chunk;
        if (w->cur_written == t->n_bytes) {
            if ((s = emit_padding(w))) return s;
            w->cur++;
            w->cur_written = 0;
        }
    }
    return HYPERION_OK;
}

/* A large file leaves the page cache once written. The kernel keeps what a
 * process wrote in the 4 KiB page-cache folios of the writes; the same file
 * read back from disk comes in through readahead, which on kernels and file
 * systems with large folios (Linux 6.x ext4, xfs) fills 2 MiB folios that a
 * read-only mapping then maps with 2 MiB entries. Decode streams every weight
 * once per token, and with 4 KiB mappings each 4 KiB costs a TLB miss:
 * tinyllama-1.1b decoded faster at 2 threads from a file read back than from
 * the same file just written (means of three interleaved runs: q4_0 26.3 ->
 * 29.9 tok/s, q8_0 16.9 -> 18.3, q4_k_m 27.9 -> 29.2).
 * So the writer flushes a file of HY_GGUF_DROP_BYTES or more to disk and
 * drops its pages; the first load reads it back. Small files (tests, tiny
 * models) stay cached. Linux only; elsewhere a no-op. */
#define HY_GGUF_DROP_BYTES ((uint64_t)64 << 20)

static hyperion_status drop_written_pages(hy_gguf_writer *w) {
#if defined(__linux__)
    if (w->file_bytes < HY_GGUF_DROP_BYTES) return HYPERION_OK;
    if (fdatasync(w->fd) != 0) return io_failed(w, "flushing", errno);
    (void)posix_fadvise(w->fd, 0, 0, POSIX_FADV_DONTNEED); /* advice: nothing to report if refused */
#else
    (void)w;
#endif
    return HYPERION_OK;
}

hyperion_status hy_gguf_writer_finish(hy_gguf_writer *w) {
    if (!w || w->phase != PHASE_DATA) return misuse("phase", "GGUF writer: %s", "finish needs a writer after begin");
    if (w->cur < w->n_tensors) {
        const wtensor *t = &w->tensors[w->cur];
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "write every tensor's bytes before finish",
                             ((hy_field[]){ HY_TXT("field", "tensor"), HY_TXT("tensor", t->name) }),
                             "GGUF writer: tensor \"%s\" got %llu of its %llu bytes", t->name,
                             (unsigned long long)w->cur_written, (unsigned long long)t->n_bytes);
    }
    if (!w->to_memory) {
        hyperion_status s = flush_buffer(w);
        if (s) return s;
        if ((s = drop_written_pages(w))) return s;
        int rc = close(w->fd);
        w->fd = -1;
        if (rc != 0) return io_failed(w, "closing", errno);
        if (rename(w->partial, w->path) != 0) return io_failed(w, "renaming", errno);
    }
    w->phase = PHASE_DONE;
    return HYPERION_OK;
}

hyperion_status hy_gguf_writer_take_memory(hy_gguf_writer *w, void **data, size_t *size) {
    if (!w || !data || !size || !w->to_memory || w->phase != PHASE_DONE || !w->mem.p)
        return misuse("phase", "GGUF writer: %s", "take_memory needs a finished memory writer (once)");
    *data = w->mem.p;
    *size = (size_t)w->mem.len;
    w->mem = (bytes){ 0 };
    return HYPERION_OK;
}
