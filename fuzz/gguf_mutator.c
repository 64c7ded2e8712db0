/*
 * gguf_mutator.c — a structure-aware libFuzzer mutator for GGUF files
 * (target "gguf-struct"; test-only).
 *
 * Byte-level mutation rarely gets a GGUF file past its first count: most
 * random edits land in string bytes or tensor data and a length change
 * desynchronises everything after it. This mutator walks the file's layout
 * (gguf_layout.c) and edits what a crafted file would: a header field, a count,
 * a key or string length, a value type, an array's element type or count, a
 * scalar value (a head count of 0, a NaN epsilon), a tensor's dimension count,
 * dimensions, type or data offset; it duplicates or drops whole key/value pairs
 * and tensor infos (adjusting the header's counts, so the file stays
 * parseable), and truncates or inserts bytes at field boundaries. A quarter of
 * the time, and whenever the walk finds nothing, it leaves the bytes to
 * libFuzzer's own mutations.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gguf_layout.h"

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t next(rng *r) {   /* splitmix64 */
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t below(rng *r, uint64_t n) { return n ? next(r) % n : 0; }

/* One layout per call; static because it is large (the fuzzer is single-threaded). */
static hy_gguf_layout layout;

static const uint64_t interesting[] = {
    0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 31, 32, 33, 63, 64, 127, 128, 255, 256, 4095, 4096, 65535, 65536,
    0x7FFFFFFFull, 0x80000000ull, 0xFFFFFFFFull, 0x100000000ull, 0x7FFFFFFFFFFFFFFFull, 0x8000000000000000ull,
    UINT64_MAX, UINT64_MAX - 1, UINT64_MAX / 2 + 1, 1ull << 40, 1ull << 48,
};

static uint64_t pick_interesting(rng *r) { return interesting[below(r, sizeof interesting / sizeof interesting[0])]; }

/* Another field of the same kind, for "make two tensors share an offset". */
static const hy_gguf_field *same_kind(rng *r, uint8_t kind) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < layout.n_fields; i++) n += layout.fields[i].kind == kind;
    if (!n) return NULL;
    uint32_t k = (uint32_t)below(r, n);
    for (uint32_t i = 0; i < layout.n_fields; i++)
        if (layout.fields[i].kind == kind && k-- == 0) return &layout.fields[i];
    return NULL;
}

static uint64_t new_value(rng *r, const uint8_t *data, size_t size, const hy_gguf_field *f) {
    uint64_t old = hy_gguf_layout_get(data, f->offset, f->width);
    switch (below(r, 8)) {
    case 0: return old + 1 + below(r, 4);
    case 1: return old - 1 - below(r, 4);
    case 2: return old * (2 + below(r, 3));
    case 3: return old / (2 + below(r, 3));
    case 4: return old ^ (1ull << below(r, 8u * f->width));
    default: break;
    }
    switch (f->kind) {
    case HY_GF_VERSION: {
        static const uint64_t v[] = { 0, 1, 2, 3, 4, 0x03000000u, 0x02000000u, UINT32_MAX };
        return v[below(r, 8)];
    }
    case HY_GF_KV_TYPE:
    case HY_GF_ARR_TYPE:
        return below(r, 4) ? below(r, 14) : pick_interesting(r);
    case HY_GF_TI_TYPE:
        return below(r, 4) ? below(r, 42) : pick_interesting(r);
    case HY_GF_TI_NDIMS:
        return below(r, 4) ? below(r, 6) : pick_interesting(r);
    case HY_GF_TI_OFFSET: {
        const hy_gguf_field *other = same_kind(r, HY_GF_TI_OFFSET);
        switch (below(r, 4)) {
        case 0: return other ? hy_gguf_layout_get(data, other->offset, 8) : old;        /* overlap */
        case 1: return old + layout.alignment * (1 + below(r, 4));
        case 2: return old + 1;                                                         /* misaligned */
        default: return size > layout.infos_end ? size - layout.infos_end : pick_interesting(r); /* past the end */
        }
    }
    case HY_GF_TI_DIM: {
        const hy_gguf_field *other = same_kind(r, HY_GF_TI_DIM);
        return other && below(r, 2) ? hy_gguf_layout_get(data, other->offset, 8) : pick_interesting(r);
    }
    case HY_GF_KEY_LEN:
    case HY_GF_STR_LEN:
    case HY_GF_TI_NAME_LEN:
        return below(r, 2) ? size - f->offset - below(r, 16) : pick_interesting(r);
    case HY_GF_SCALAR:
        if (f->type == 6 && below(r, 2)) {   /* float32: NaN, ±Inf, -1, 0, denormal, huge */
            static const uint32_t bits[] = { 0x7FC00000u, 0x7F800000u, 0xFF800000u, 0xBF800000u, 0x00000000u,
                                             0x00000001u, 0x7F7FFFFFu, 0x80000000u };
            return bits[below(r, 8)];
        }
        if (f->type == 12 && below(r, 2)) {
            static const uint64_t bits[] = { 0x7FF8000000000000ull, 0x7FF0000000000000ull, 0xBFF0000000000000ull,
                                             0x0000000000000001ull };
            return bits[below(r, 4)];
        }
        return pick_interesting(r);
    default:
        return pick_interesting(r);
    }
}

static size_t edit_field(rng *r, uint8_t *data, size_t size) {
    const hy_gguf_field *f = &layout.fields[below(r, layout.n_fields)];
    if (f->offset + f->width > size) return size;
    hy_gguf_layout_put(data, f->offset, f->width, new_value(r, data, size, f));
    return size;
}

/* Copy span s to right after itself and bump the count at count_off. */
static size_t duplicate(rng *r, uint8_t *data, size_t size, size_t max_size, const hy_gguf_span *s, uint64_t count_off) {
    (void)r;
    uint64_t len = s->end - s->start;
    if (s->end > size || len == 0 || size + len > max_size) return size;
    memmove(data + s->end + len, data + s->end, size - s->end);
    memcpy(data + s->end, data + s->start, len);
    hy_gguf_layout_put(data, count_off, 8, hy_gguf_layout_get(data, count_off, 8) + 1);
    return size + len;
}

static size_t drop(uint8_t *data, size_t size, const hy_gguf_span *s, uint64_t count_off) {
    if (s->end > size) return size;
    memmove(data + s->start, data + s->end, size - s->end);
    hy_gguf_layout_put(data, count_off, 8, hy_gguf_layout_get(data, count_off, 8) - 1);
    return size - (s->end - s->start);
}

static size_t structural(rng *r, uint8_t *data, size_t size, size_t max_size) {
    const uint64_t kv_count_off = 16, tensor_count_off = 8;
    switch (below(r, 6)) {
    case 0:
        if (layout.n_kvs) return duplicate(r, data, size, max_size, &layout.kvs[below(r, layout.n_kvs)], kv_count_off);
        break;
    case 1:
        if (layout.n_kvs) return drop(data, size, &layout.kvs[below(r, layout.n_kvs)], kv_count_off);
        break;
    case 2:
        if (layout.n_infos)
            return duplicate(r, data, size, max_size, &layout.infos[below(r, layout.n_infos)], tensor_count_off);
        break;
    case 3:
        if (layout.n_infos) return drop(data, size, &layout.infos[below(r, layout.n_infos)], tensor_count_off);
        break;
    case 4: {   /* truncate at (or just after) a field boundary */
        uint64_t at = layout.fields[below(r, layout.n_fields)].offset + below(r, 3);
        return at < size ? (size_t)at : size;
    }
    default: {  /* insert a few bytes at a field boundary */
        uint64_t at = layout.fields[below(r, layout.n_fields)].offset;
        size_t n = 1 + (size_t)below(r, 8);
        if (at > size || size + n > max_size) return size;
        memmove(data + at + n, data + at, size - at);
        for (size_t i = 0; i < n; i++) data[at + i] = (uint8_t)next(r);
        return size + n;
    }
    }
    return size;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed) {
    rng r = { seed * 0x2545F4914F6CDD1Dull + 1 };
    if (below(&r, 4) == 0 || hy_gguf_layout_parse(data, size, &layout) == 0) return LLVMFuzzerMutate(data, size, max_size);
    int rounds = 1 + (int)below(&r, 3);
    for (int i = 0; i < rounds && layout.n_fields; i++) {
        size = below(&r, 4) == 0 ? structural(&r, data, size, max_size) : edit_field(&r, data, size);
        if (i + 1 < rounds) hy_gguf_layout_parse(data, size, &layout);   /* offsets moved */
    }
    return size;
}
