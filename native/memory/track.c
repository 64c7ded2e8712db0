/*
 * track.c — the live-block table: one record per block allocated while
 * tracking was on (address, size, tag, id, thread, time, stack, budget).
 *
 * 64 shards chosen by the address's hash, each an open-addressing table with
 * linear probing, its own lock, and backward-shift deletion (no tombstones).
 * Records are removed by address when the block is freed. Lookups by id scan
 * the shards: they serve reports and a debugging call, not a hot path.
 */
#include "mem_internal.h"

#include <string.h>

#define SHARDS 64

typedef struct shard {
    pthread_mutex_t lock;
    hy_track_rec *slots;       /* ptr == 0: empty */
    uint32_t mask, count;
} __attribute__((aligned(64))) shard;

static shard shards[SHARDS] = {
    [0 ... SHARDS - 1] = { .lock = PTHREAD_MUTEX_INITIALIZER },
};
static atomic_uint_fast64_t total_count, total_bytes;

static uint64_t hash_ptr(uintptr_t p) {
    uint64_t h = (uint64_t)p >> 4;
    h *= 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 32);
}

static shard *shard_of(uint64_t h) {
    return &shards[h >> 58];
}

static int grow(shard *s) {
    uint32_t cap = s->slots ? (s->mask + 1) * 2 : 1024;
    hy_track_rec *fresh = hy_meta_alloc((size_t)cap * sizeof(hy_track_rec));
    if (!fresh) return -1;
    if (s->slots) {
        for (uint32_t i = 0; i <= s->mask; i++) {
            if (!s->slots[i].ptr) continue;
            uint32_t j = (uint32_t)hash_ptr(s->slots[i].ptr) & (cap - 1);
            while (fresh[j].ptr) j = (j + 1) & (cap - 1);
            fresh[j] = s->slots[i];
        }
        hy_meta_free(s->slots, (size_t)(s->mask + 1) * sizeof(hy_track_rec));
    }
    s->slots = fresh;
    s->mask = cap - 1;
    return 0;
}

void hy_track_insert(const hy_track_rec *rec) {
    uint64_t h = hash_ptr(rec->ptr);
    shard *s = shard_of(h);
    pthread_mutex_lock(&s->lock);
    if ((!s->slots || (s->count + 1) * 10 > (s->mask + 1) * 7) && grow(s) != 0) {
        pthread_mutex_unlock(&s->lock);
        return;   /* no memory for the record: the block simply goes untracked */
    }
    uint32_t j = (uint32_t)h & s->mask;
    while (s->slots[j].ptr && s->slots[j].ptr != rec->ptr) j = (j + 1) & s->mask;
    if (!s->slots[j].ptr) {
        s->count++;
        atomic_fetch_add(&total_count, 1);
    } else {
        atomic_fetch_sub(&total_bytes, s->slots[j].size);   /* stale record of a reused address */
    }
    s->slots[j] = *rec;
    atomic_fetch_add(&total_bytes, rec->size);
    pthread_mutex_unlock(&s->lock);
}

int hy_track_remove(uintptr_t ptr, hy_track_rec *out) {
    if (atomic_load_explicit(&total_count, memory_order_relaxed) == 0) return 0;
    uint64_t h = hash_ptr(ptr);
    shard *s = shard_of(h);
    int found = 0;
    pthread_mutex_lock(&s->lock);
    if (s->slots) {
        uint32_t j = (uint32_t)h & s->mask;
        while (s->slots[j].ptr && s->slots[j].ptr != ptr) j = (j + 1) & s->mask;
        if (s->slots[j].ptr == ptr) {
            found = 1;
            if (out) *out = s->slots[j];
            atomic_fetch_sub(&total_count, 1);
            atomic_fetch_sub(&total_bytes, s->slots[j].size);
            s->count--;
            /* backward shift: pull later members of the cluster into the hole */
            uint32_t hole = j;
            for (uint32_t k = (j + 1) & s->mask; s->slots[k].ptr; k = (k + 1) & s->mask) {
                uint32_t home = (uint32_t)hash_ptr(s->slots[k].ptr) & s->mask;
                /* k may move to hole when its home is not in (hole, k] */
                if (((k - home) & s->mask) >= ((k - hole) & s->mask)) {
                    s->slots[hole] = s->slots[k];
                    hole = k;
                }
            }
            memset(&s->slots[hole], 0, sizeof s->slots[hole]);
        }
    }
    pthread_mutex_unlock(&s->lock);
    return found;
}

int hy_track_find_ptr(uintptr_t ptr, hy_track_rec *out) {
    if (atomic_load_explicit(&total_count, memory_order_relaxed) == 0) return 0;
    uint64_t h = hash_ptr(ptr);
    shard *s = shard_of(h);
    int found = 0;
    pthread_mutex_lock(&s->lock);
    if (s->slots) {
        uint32_t j = (uint32_t)h & s->mask;
        while (s->slots[j].ptr && s->slots[j].ptr != ptr) j = (j + 1) & s->mask;
        if (s->slots[j].ptr == ptr) {
            *out = s->slots[j];
            found = 1;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return found;
}

int hy_track_find_id(uint64_t id, hy_track_rec *out) {
    for (int i = 0; i < SHARDS; i++) {
        shard *s = &shards[i];
        int found = 0;
        pthread_mutex_lock(&s->lock);
        for (uint32_t j = 0; s->slots && j <= s->mask; j++) {
            if (s->slots[j].ptr && s->slots[j].id == id) {
                *out = s->slots[j];
                found = 1;
                break;
            }
        }
        pthread_mutex_unlock(&s->lock);
        if (found) return 1;
    }
    return 0;
}

size_t hy_track_copy(hy_track_rec **out, size_t *bytes) {
    *out = NULL;
    *bytes = 0;
    for (int attempt = 0; attempt < 8; attempt++) {
        size_t cap = (size_t)atomic_load(&total_count) + 1024;
        size_t size = cap * sizeof(hy_track_rec);
        hy_track_rec *array = hy_meta_alloc(size);
        if (!array) return 0;
        size_t n = 0;
        int overflow = 0;
        for (int i = 0; i < SHARDS && !overflow; i++) {
            shard *s = &shards[i];
            pthread_mutex_lock(&s->lock);
            if (n + s->count > cap) overflow = 1;
            for (uint32_t j = 0; !overflow && s->slots && j <= s->mask; j++)
                if (s->slots[j].ptr) array[n++] = s->slots[j];
            pthread_mutex_unlock(&s->lock);
        }
        if (!overflow) {
            *out = array;
            *bytes = size;
            return n;
        }
        hy_meta_free(array, size);   /* the table grew meanwhile: try again bigger */
    }
    return 0;
}

uint64_t hy_track_count(void) {
    return atomic_load(&total_count);
}

uint64_t hy_track_bytes(void) {
    return atomic_load(&total_bytes);
}

void hy_track_fork_lock(int lock) {
    for (int i = 0; i < SHARDS; i++) {
        if (lock) pthread_mutex_lock(&shards[i].lock);
        else pthread_mutex_unlock(&shards[i].lock);
    }
}
