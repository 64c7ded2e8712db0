/*
 * stack.c — allocation stacks: a frame-pointer walk and an interned table.
 *
 * The native code is built with -fno-omit-frame-pointer, so each frame starts
 * with the caller's frame pointer followed by the return address (x86-64 rbp,
 * arm64 x29/x30 — the same layout). The walk starts at the public entry
 * point's own frame and stops at the first frame pointer that is not 8-byte
 * aligned, not above the previous one, or outside the thread's stack as
 * pthread_getattr_np reports it (cached per thread), and after 32 frames. A
 * stack that wanders into code built without frame pointers is cut short,
 * never followed into the weeds.
 *
 * Stacks are interned by hash: a block stores a 32-bit id. Entries are never
 * freed or moved, so the fault handler can read them without a lock.
 */
#include "mem_internal.h"

#include <string.h>

/* -------------------------------------------------------- thread bounds */

static _Thread_local struct {
    uintptr_t low, high;
    int state;                 /* 0 not asked yet, 1 known, -1 unknown */
} bounds;

int hy_stack_thread_bounds(uintptr_t *low, uintptr_t *high) {
    if (bounds.state == 0) {
        bounds.state = -1;
        pthread_attr_t attr;
        if (pthread_getattr_np(pthread_self(), &attr) == 0) {
            void *addr = NULL;
            size_t size = 0;
            if (pthread_attr_getstack(&attr, &addr, &size) == 0 && addr && size) {
                bounds.low = (uintptr_t)addr;
                bounds.high = (uintptr_t)addr + size;
                bounds.state = 1;
            }
            pthread_attr_destroy(&attr);
        }
    }
    *low = bounds.low;
    *high = bounds.high;
    return bounds.state == 1;
}

int hy_stack_cached_bounds(uintptr_t *low, uintptr_t *high) {
    *low = bounds.low;
    *high = bounds.high;
    return bounds.state == 1;
}

/* ----------------------------------------------------------------- walk */

__attribute__((no_sanitize_address)) int hy_stack_capture(const hy_caller *caller, uintptr_t *frames, int max) {
    int n = 0;
    if (max <= 0) return 0;
    if (caller->return_address) frames[n++] = (uintptr_t)caller->return_address;
    uintptr_t low, high;
    if (!hy_stack_thread_bounds(&low, &high)) return n;
    uintptr_t fp = (uintptr_t)caller->frame;
    if (fp < low || fp > high - 2 * sizeof(uintptr_t) || (fp & 7)) return n;
    uintptr_t next = ((const uintptr_t *)fp)[0];   /* the entry point's caller */
    while (n < max) {
        if (next <= fp || next < low || next > high - 2 * sizeof(uintptr_t) || (next & 7)) break;
        fp = next;
        uintptr_t ret = ((const uintptr_t *)fp)[1];
        if (ret < 4096) break;
        frames[n++] = ret;
        next = ((const uintptr_t *)fp)[0];
    }
    return n;
}

/* --------------------------------------------------------- interning */

typedef struct stack_entry {
    uint64_t hash;
    uint32_t depth, id;
    uintptr_t frames[];
} stack_entry;

#define STRIPES 16
#define DIR_CHUNK 4096
#define DIR_CHUNKS 4096

typedef struct stripe {
    pthread_mutex_t lock;
    uint32_t *slots;           /* ids, 0 = empty */
    uint32_t mask, count;
} __attribute__((aligned(64))) stripe;

static stripe stripes[STRIPES] = {
    [0 ... STRIPES - 1] = { .lock = PTHREAD_MUTEX_INITIALIZER },
};
static stack_entry **directory[DIR_CHUNKS];
static atomic_uint next_id = 1;

static stack_entry *entry_of(uint32_t id) {
    if (id == 0 || id >= (uint32_t)DIR_CHUNK * DIR_CHUNKS) return NULL;
    stack_entry **chunk = __atomic_load_n(&directory[id / DIR_CHUNK], __ATOMIC_ACQUIRE);
    return chunk ? __atomic_load_n(&chunk[id % DIR_CHUNK], __ATOMIC_ACQUIRE) : NULL;
}

static int publish(uint32_t id, stack_entry *e) {
    stack_entry ***slot = &directory[id / DIR_CHUNK];
    stack_entry **chunk = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (!chunk) {
        stack_entry **fresh = hy_meta_alloc(DIR_CHUNK * sizeof(stack_entry *));
        if (!fresh) return -1;
        stack_entry **expected = NULL;
        if (__atomic_compare_exchange_n(slot, &expected, fresh, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            chunk = fresh;
        } else {
            hy_meta_free(fresh, DIR_CHUNK * sizeof(stack_entry *));
            chunk = expected;
        }
    }
    __atomic_store_n(&chunk[id % DIR_CHUNK], e, __ATOMIC_RELEASE);
    return 0;
}

static uint64_t hash_frames(const uintptr_t *frames, int depth) {
    uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)depth;
    for (int i = 0; i < depth; i++) {
        h ^= (uint64_t)frames[i];
        h *= 0x100000001b3ull;
        h ^= h >> 29;
    }
    return h ? h : 1;
}

/* Double the stripe's table (lock held). 0 on success. */
static int grow_stripe(stripe *s) {
    uint32_t cap = s->slots ? (s->mask + 1) * 2 : 256;
    uint32_t *fresh = hy_meta_alloc(cap * sizeof(uint32_t));
    if (!fresh) return -1;
    if (s->slots) {
        for (uint32_t i = 0; i <= s->mask; i++) {
            if (!s->slots[i]) continue;
            stack_entry *e = entry_of(s->slots[i]);
            uint32_t j = (uint32_t)(e->hash >> 8) & (cap - 1);
            while (fresh[j]) j = (j + 1) & (cap - 1);
            fresh[j] = s->slots[i];
        }
        hy_meta_free(s->slots, (s->mask + 1) * sizeof(uint32_t));
    }
    s->slots = fresh;
    s->mask = cap - 1;
    return 0;
}

uint32_t hy_stack_intern(const uintptr_t *frames, int depth) {
    if (depth <= 0) return 0;
    if (depth > HY_MEM_MAX_FRAMES) depth = HY_MEM_MAX_FRAMES;
    uint64_t h = hash_frames(frames, depth);
    stripe *s = &stripes[h % STRIPES];
    uint32_t id = 0;
    pthread_mutex_lock(&s->lock);
    if ((s->count + 1) * 2 > (s->slots ? s->mask + 1 : 0) && grow_stripe(s) != 0) {
        pthread_mutex_unlock(&s->lock);
        return 0;
    }
    uint32_t j = (uint32_t)(h >> 8) & s->mask;
    for (; s->slots[j]; j = (j + 1) & s->mask) {
        stack_entry *e = entry_of(s->slots[j]);
        if (e->hash == h && e->depth == (uint32_t)depth && memcmp(e->frames, frames, (size_t)depth * sizeof(uintptr_t)) == 0) {
            id = e->id;
            break;
        }
    }
    if (!id) {
        size_t bytes = sizeof(stack_entry) + (size_t)depth * sizeof(uintptr_t);
        stack_entry *e = hy_meta_alloc(bytes);
        uint32_t fresh_id = e ? atomic_fetch_add(&next_id, 1) : 0;
        if (e && fresh_id < (uint32_t)DIR_CHUNK * DIR_CHUNKS) {
            e->hash = h;
            e->depth = (uint32_t)depth;
            e->id = fresh_id;
            memcpy(e->frames, frames, (size_t)depth * sizeof(uintptr_t));
            if (publish(fresh_id, e) == 0) {
                s->slots[j] = fresh_id;
                s->count++;
                id = fresh_id;
            }
        }
        if (!id && e) hy_meta_free(e, bytes);
    }
    pthread_mutex_unlock(&s->lock);
    return id;
}

uint32_t hy_stack_capture_id(const hy_caller *caller) {
    uintptr_t frames[HY_MEM_MAX_FRAMES];
    int depth = hy_stack_capture(caller, frames, HY_MEM_MAX_FRAMES);
    return hy_stack_intern(frames, depth);
}

int hy_stack_frames(uint32_t id, const uintptr_t **frames) {
    stack_entry *e = entry_of(id);
    if (!e) {
        *frames = NULL;
        return 0;
    }
    *frames = e->frames;
    return (int)e->depth;
}

uint64_t hy_stack_count(void) {
    return atomic_load(&next_id) - 1;
}

void hy_stack_fork_lock(int lock) {
    for (int i = 0; i < STRIPES; i++) {
        if (lock) pthread_mutex_lock(&stripes[i].lock);
        else pthread_mutex_unlock(&stripes[i].lock);
    }
}
