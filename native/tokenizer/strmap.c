/* strmap.c — open addressing with linear probing; keys are compared only when
 * the stored 32-bit hash matches, so most probes never touch the text. */
#include "tokenizer/strmap.h"

#include <string.h>

#include "core/internal.h"

/* FNV-1a over the parts as if they were one string, then a final mix so the
 * low bits (the slot index) depend on every byte. */
static uint32_t hash_parts(const hy_span *parts, int n_parts) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (int p = 0; p < n_parts; p++) {
        const unsigned char *s = (const unsigned char *)parts[p].ptr;
        for (size_t i = 0; i < parts[p].len; i++) {
            h ^= s[i];
            h *= 0x100000001b3ull;
        }
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return (uint32_t)h;
}

static int key_equals(const hy_strmap *map, uint32_t entry, const hy_span *parts, int n_parts) {
    const char *key = map->blob + map->off[entry];
    size_t key_len = map->len[entry], at = 0;
    for (int p = 0; p < n_parts; p++) {
        if (parts[p].len > key_len - at) return 0;
        if (parts[p].len && memcmp(key + at, parts[p].ptr, parts[p].len) != 0) return 0;
        at += parts[p].len;
    }
    return at == key_len;
}

hyperion_status hy_strmap_init(hy_strmap *map, uint32_t n, const char *blob, const uint32_t *off,
                               const uint32_t *len) {
    memset(map, 0, sizeof *map);
    /* Load factor at most 1/2; n < 2^31 is checked by the caller's limits. */
    uint64_t slots = 16;
    while (slots < (uint64_t)n * 2) slots <<= 1;
    if (slots > (1ull << 32))
        return HY_RAISE(HYPERION_MODEL_INVALID, NULL, "too many entries for the tokenizer index: %u", n);
    map->slots = hyperionCalloc((size_t)slots, sizeof(uint64_t), HYPERION_TAG_TOKENIZER);
    if (!map->slots) return hyperionGetLastError()->code;
    map->mask = (uint32_t)(slots - 1);
    map->blob = blob;
    map->off = off;
    map->len = len;
    return HYPERION_OK;
}

void hy_strmap_free(hy_strmap *map) {
    hyperionFree(map->slots);
    map->slots = NULL;
}

static uint32_t probe(const hy_strmap *map, const hy_span *parts, int n_parts, uint32_t h, int *found) {
    uint32_t at = h & map->mask;
    for (;;) {
        uint64_t slot = map->slots[at];
        if (slot == 0) { *found = 0; return at; }
        if ((uint32_t)(slot >> 32) == h && key_equals(map, (uint32_t)slot - 1, parts, n_parts)) {
            *found = 1;
            return at;
        }
        at = (at + 1) & map->mask;
    }
}

uint32_t hy_strmap_insert(hy_strmap *map, uint32_t i) {
    hy_span key = { map->blob + map->off[i], map->len[i] };
    uint32_t h = hash_parts(&key, 1);
    int found;
    uint32_t at = probe(map, &key, 1, h, &found);
    if (found) return (uint32_t)map->slots[at] - 1;
    map->slots[at] = ((uint64_t)h << 32) | ((uint64_t)i + 1);
    return i;
}

void hy_strmap_replace(hy_strmap *map, uint32_t i) {
    hy_span key = { map->blob + map->off[i], map->len[i] };
    uint32_t h = hash_parts(&key, 1);
    int found;
    uint32_t at = probe(map, &key, 1, h, &found);
    map->slots[at] = ((uint64_t)h << 32) | ((uint64_t)i + 1);
}

int64_t hy_strmap_find_parts(const hy_strmap *map, const hy_span *parts, int n_parts) {
    int found;
    uint32_t at = probe(map, parts, n_parts, hash_parts(parts, n_parts), &found);
    return found ? (int64_t)((uint32_t)map->slots[at] - 1) : -1;
}
