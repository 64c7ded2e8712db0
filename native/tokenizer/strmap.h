/*
 * strmap.h — an open-addressing hash index over byte strings that live
 * elsewhere (a tokenizer's text blob). The map stores only entry numbers; the
 * caller's offset/length arrays say where entry i's key is. Used for
 * token text → id and merge "left right" → rank. Internal to the tokenizer.
 */
#ifndef HYPERION_TOKENIZER_STRMAP_H
#define HYPERION_TOKENIZER_STRMAP_H

#include <stddef.h>
#include <stdint.h>

#include "hyperion.h"

typedef struct hy_strmap {
    uint64_t *slots;        /* (hash32 << 32) | (entry + 1); 0 = empty */
    uint32_t mask;          /* slot count - 1 (a power of two) */
    const char *blob;       /* keys: blob + off[i], len[i] bytes */
    const uint32_t *off;
    const uint32_t *len;
} hy_strmap;

/* One piece of a key given in parts (the key is the parts concatenated). */
typedef struct hy_span {
    const char *ptr;
    size_t len;
} hy_span;

/* Allocate slots for up to n entries (tag tokenizer). */
hyperion_status hy_strmap_init(hy_strmap *map, uint32_t n, const char *blob, const uint32_t *off,
                               const uint32_t *len);
void hy_strmap_free(hy_strmap *map);

/* Insert entry i unless a key equal to it is present. Returns the entry that
 * now holds the key (i, or the earlier one). The map must have room (init n). */
uint32_t hy_strmap_insert(hy_strmap *map, uint32_t i);

/* Replace the entry holding entry i's key with i (the key must be present). */
void hy_strmap_replace(hy_strmap *map, uint32_t i);

/* The entry whose key equals the concatenated parts, or -1. */
int64_t hy_strmap_find_parts(const hy_strmap *map, const hy_span *parts, int n_parts);

static inline int64_t hy_strmap_find(const hy_strmap *map, const char *key, size_t len) {
    hy_span part = { key, len };
    return hy_strmap_find_parts(map, &part, 1);
}

#endif
