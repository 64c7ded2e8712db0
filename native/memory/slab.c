/*
 * slab.c — size classes for small blocks, page runs for large ones: the pool's
 * allocate / free / describe.
 *
 * 32 classes from 64 B to 32 KiB (steps of 64 up to 512, then four per power
 * of two), every slot a multiple of 64 so slot starts keep the 64-byte
 * alignment. A slab is a page run of one class (64 KiB, or 8 slots for the
 * large classes) with a used-bit per slot and an 8-byte slot record (size,
 * offset, tag, budget, flags) kept outside the slab. One lock per class; a
 * class keeps one empty slab for reuse and gives further empty ones back to
 * the page heap.
 *
 * Blocks above 32 KiB get their own page run; their record is the run
 * descriptor. Freeing checks the metadata only — used bit, recorded offset,
 * run kind — so a double or invalid free is recognised without reading the
 * freed memory.
 */
#include "pool.h"

#include <string.h>

#define CLASS_COUNT 32
#define SLAB_BYTES ((size_t)64 << 10)

typedef struct hy_class {
    pthread_mutex_t lock;
    uint32_t slot_size, nslots;
    uint64_t slab_pages;
    hy_run *partial;        /* slabs with a free slot */
    hy_run *all;            /* every slab of the class */
    uint32_t empty;         /* slabs with no used slot */
    uint64_t slabs, used;   /* counts for the statistics */
} __attribute__((aligned(64))) hy_class;

static hy_class classes[CLASS_COUNT];
static uint8_t class_index[HY_MEM_SMALL_MAX / 64 + 1];   /* by (need + 63) / 64 */

static uint32_t class_size(int i) {
    if (i < 8) return 64u * (uint32_t)(i + 1);                    /* 64 .. 512 */
    int group = (i - 8) / 4, step = (i - 8) % 4;                   /* 640 .. 32768 */
    uint32_t base = 512u << group;
    return base + (base / 4) * (uint32_t)(step + 1);
}

int hy_pool_start(void) {
    if (hy_heap_start() != 0) return -1;
    size_t page = hy_pool_heap.page;
    for (int i = 0; i < CLASS_COUNT; i++) {
        hy_class *c = &classes[i];
        pthread_mutex_init(&c->lock, NULL);
        c->slot_size = class_size(i);
        size_t bytes = (size_t)c->slot_size * 8 > SLAB_BYTES ? (size_t)c->slot_size * 8 : SLAB_BYTES;
        bytes = (bytes + page - 1) / page * page;
        c->slab_pages = bytes / page;
        c->nslots = (uint32_t)(bytes / c->slot_size);
    }
    int k = 0;
    for (size_t i = 0; i <= HY_MEM_SMALL_MAX / 64; i++) {
        while (classes[k].slot_size < i * 64) k++;
        class_index[i] = (uint8_t)k;
    }
    return 0;
}

static int class_for(size_t need) {
    return class_index[(need + 63) / 64];
}

/* -------------------------------------------------------- slab lifecycle */

static void partial_push(hy_class *c, hy_run *s) {
    s->pprev = NULL;
    s->pnext = c->partial;
    if (c->partial) c->partial->pprev = s;
    c->partial = s;
    s->in_partial = 1;
}

static void partial_remove(hy_class *c, hy_run *s) {
    if (s->pprev) s->pprev->pnext = s->pnext;
    else c->partial = s->pnext;
    if (s->pnext) s->pnext->pprev = s->pprev;
    s->pnext = s->pprev = NULL;
    s->in_partial = 0;
}

/* A fresh slab for class index ci (class lock held). */
static hy_run *slab_create(int ci) {
    hy_class *c = &classes[ci];
    size_t words = (c->nslots + 63) / 64;
    size_t table = words * sizeof(uint64_t) + (size_t)c->nslots * sizeof(hy_slot);
    unsigned char *mem = hy_meta_alloc(table);
    if (!mem) return NULL;
    pthread_mutex_lock(&hy_pool_heap.lock);
    hy_run *s = hy_heap_take_locked(c->slab_pages, RUN_SLAB, (uint32_t)ci);
    pthread_mutex_unlock(&hy_pool_heap.lock);
    if (!s) {
        hy_meta_free(mem, table);
        return NULL;
    }
    s->used = (uint64_t *)mem;
    s->slots = (hy_slot *)(mem + words * sizeof(uint64_t));
    s->table_bytes = table;
    s->nslots = c->nslots;
    s->nfree = c->nslots;
    s->hint = 0;
    s->prev = NULL;
    s->next = c->all;
    if (c->all) c->all->prev = s;
    c->all = s;
    c->slabs++;
    c->empty++;
    partial_push(c, s);
    return s;
}

static void slab_destroy(hy_class *c, hy_run *s) {
    if (s->in_partial) partial_remove(c, s);
    if (s->prev) s->prev->next = s->next;
    else c->all = s->next;
    if (s->next) s->next->prev = s->prev;
    s->next = s->prev = NULL;
    c->slabs--;
    c->empty--;
    void *table = s->used;
    size_t bytes = s->table_bytes;
    s->used = NULL;
    s->slots = NULL;
    pthread_mutex_lock(&hy_pool_heap.lock);
    hy_heap_give_locked(s);
    pthread_mutex_unlock(&hy_pool_heap.lock);
    hy_meta_free(table, bytes);
}

static uint32_t slab_take_slot(hy_run *s) {
    uint32_t words = (s->nslots + 63) / 64;
    for (uint32_t n = 0; n < words; n++) {
        uint32_t w = (s->hint + n) % words;
        uint64_t freebits = ~s->used[w];
        if (w == words - 1 && (s->nslots & 63)) freebits &= (1ull << (s->nslots & 63)) - 1;
        if (freebits) {
            uint32_t bit = (uint32_t)__builtin_ctzll(freebits);
            s->used[w] |= 1ull << bit;
            s->hint = w;
            return w * 64 + bit;
        }
    }
    return UINT32_MAX;   /* cannot happen: the slab was on the partial list */
}

/* ----------------------------------------------------------- allocation */

static size_t rear_room(uintptr_t user, uint64_t size, uintptr_t end) {
    size_t room = (size_t)(end - (user + size));
    return room < HY_CANARY_MAX ? room : HY_CANARY_MAX;
}

static void *alloc_small(size_t size, size_t align, int canary, uint8_t tag, uint16_t budget, size_t need,
                         hy_block_desc *out) {
    int ci = class_for(need);
    hy_class *c = &classes[ci];
    pthread_mutex_lock(&c->lock);
    hy_run *s = c->partial;
    if (!s && !(s = slab_create(ci))) {
        pthread_mutex_unlock(&c->lock);
        return NULL;
    }
    uint32_t i = slab_take_slot(s);
    if (s->nfree == s->nslots) c->empty--;
    s->nfree--;
    if (s->nfree == 0) partial_remove(c, s);
    c->used++;
    uintptr_t start = hy_heap_addr(s->page) + (uintptr_t)i * c->slot_size;
    uintptr_t user = (start + (canary ? HY_CANARY_FRONT : 0) + align - 1) & ~(uintptr_t)(align - 1);
    hy_slot *slot = &s->slots[i];
    slot->size = (uint16_t)size;
    slot->offset = (uint16_t)(user - start);
    slot->budget = budget;
    slot->tag = tag;
    slot->flags = (uint8_t)(HY_BLOCK_LIVE | HY_BLOCK_EVER | (canary ? HY_BLOCK_CANARY : 0));
    if (canary) hy_canary_fill(user, size, HY_CANARY_FRONT, rear_room(user, size, start + c->slot_size));
    pthread_mutex_unlock(&c->lock);
    out->user = user;
    out->slot_bytes = c->slot_size;
    return (void *)user;
}

static void *alloc_large(size_t size, size_t align, int canary, uint8_t tag, uint16_t budget, hy_block_desc *out) {
    size_t page = hy_pool_heap.page;
    size_t offset = ((canary ? HY_CANARY_FRONT : 0) + align - 1) & ~(align - 1);
    size_t rear = canary ? HY_CANARY_REAR_MIN : 0;
    if (size > SIZE_MAX - offset - rear - page) return NULL;
    uint64_t npages = (offset + size + rear + page - 1) / page;
    /* The record is filled before the heap lock is dropped: a racing free of
     * a wild pointer or the corruption walk must never see it half made. */
    pthread_mutex_lock(&hy_pool_heap.lock);
    hy_run *r = hy_heap_take_locked(npages, RUN_LARGE, 0);
    if (!r) {
        pthread_mutex_unlock(&hy_pool_heap.lock);
        return NULL;
    }
    uintptr_t start = hy_heap_addr(r->page);
    uintptr_t user = start + offset;
    r->size = size;
    r->offset = (uint32_t)offset;
    r->budget = budget;
    r->tag = tag;
    r->flags = (uint8_t)(HY_BLOCK_LIVE | HY_BLOCK_EVER | (canary ? HY_BLOCK_CANARY : 0));
    if (canary) hy_canary_fill(user, size, HY_CANARY_FRONT, rear_room(user, size, start + (npages << hy_pool_heap.page_shift)));
    pthread_mutex_unlock(&hy_pool_heap.lock);
    out->user = user;
    out->slot_bytes = npages << hy_pool_heap.page_shift;
    return (void *)user;
}

void *hy_pool_alloc(size_t size, size_t align, int canary, uint8_t tag, uint16_t budget, hy_block_desc *out) {
    memset(out, 0, sizeof *out);
    if (align < 64) align = 64;
    size_t front = canary ? HY_CANARY_FRONT : 0;
    size_t rear = canary ? HY_CANARY_REAR_MIN : 0;
    size_t pad = align - 64;
    void *p;
    if (size <= HY_MEM_SMALL_MAX && front + pad + size + rear <= HY_MEM_SMALL_MAX)
        p = alloc_small(size, align, canary, tag, budget, front + pad + size + rear, out);
    else
        p = alloc_large(size, align, canary, tag, budget, out);
    if (p) {
        out->size = size;
        out->tag = tag;
        out->budget = budget;
        out->flags = (uint8_t)(HY_BLOCK_LIVE | (canary ? HY_BLOCK_CANARY : 0));
    }
    return p;
}

/* ------------------------------------------------------------------ free */

/* Lock the class of slab s and check that page still belongs to it.
 * Returns the locked class, or NULL (nothing locked) when s moved on. */
static hy_class *lock_slab(hy_run *s, uint64_t page) {
    uint32_t ci = __atomic_load_n(&s->cls, __ATOMIC_ACQUIRE);
    if (ci >= CLASS_COUNT) return NULL;
    hy_class *c = &classes[ci];
    pthread_mutex_lock(&c->lock);
    if (hy_heap_run_at(page) == s && __atomic_load_n(&s->kind, __ATOMIC_ACQUIRE) == RUN_SLAB && s->cls == ci &&
        page >= s->page && page < s->page + s->npages)
        return c;
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

static void fill_desc_slot(hy_block_desc *out, hy_class *c, hy_run *s, uint32_t i, uintptr_t user) {
    hy_slot *slot = &s->slots[i];
    out->user = user;
    out->size = slot->size;
    out->slot_bytes = c->slot_size;
    out->budget = slot->budget;
    out->tag = slot->tag;
    out->flags = slot->flags;
}

static void check_slot_canary(hy_block_desc *d, uintptr_t start, uint32_t slot_size) {
    if (d->flags & HY_BLOCK_CANARY)
        hy_canary_check(d->user, d->size, HY_CANARY_FRONT, rear_room(d->user, d->size, start + slot_size), &d->damage);
}

/* Small block: 1 handled (result in *res), 0 when ptr is not in a slab. */
static int free_small(uintptr_t ptr, uint64_t page, hy_block_desc *out, hy_free_result *res) {
    for (int attempt = 0; attempt < 8; attempt++) {
        hy_run *s = hy_heap_run_at(page);
        if (!s || __atomic_load_n(&s->kind, __ATOMIC_ACQUIRE) != RUN_SLAB) return 0;
        hy_class *c = lock_slab(s, page);
        if (!c) continue;
        uintptr_t base = hy_heap_addr(s->page);
        uint32_t i = (uint32_t)((ptr - base) / c->slot_size);
        uintptr_t start = base + (uintptr_t)i * c->slot_size;
        hy_slot *slot = i < s->nslots ? &s->slots[i] : NULL;
        int used = slot && (s->used[i / 64] >> (i % 64)) & 1;
        if (!slot || ptr - start != slot->offset || !(slot->flags & HY_BLOCK_EVER)) {
            *res = HY_FREE_INVALID;
        } else if (!used) {
            fill_desc_slot(out, c, s, i, ptr);
            *res = HY_FREE_DOUBLE;
        } else {
            fill_desc_slot(out, c, s, i, ptr);
            check_slot_canary(out, start, c->slot_size);
            slot->flags &= (uint8_t)~HY_BLOCK_LIVE;
            s->used[i / 64] &= ~(1ull << (i % 64));
            c->used--;
            if (s->nfree == 0) partial_push(c, s);
            s->nfree++;
            if (s->nfree == s->nslots) {
                c->empty++;
                if (c->empty > 1) slab_destroy(c, s);
            }
            *res = HY_FREE_OK;
        }
        pthread_mutex_unlock(&c->lock);
        return 1;
    }
    *res = HY_FREE_INVALID;   /* the page kept changing hands under us: not a stable block */
    return 1;
}

static hy_free_result free_large(uintptr_t ptr, uint64_t page, hy_block_desc *out) {
    hy_free_result res;
    pthread_mutex_lock(&hy_pool_heap.lock);
    hy_run *r = hy_heap_run_at(page);
    if (r && r->kind == RUN_LARGE && page >= r->page && page < r->page + r->npages &&
        hy_heap_addr(r->page) + r->offset == ptr) {
        out->user = ptr;
        out->size = r->size;
        out->slot_bytes = r->npages << hy_pool_heap.page_shift;
        out->budget = r->budget;
        out->tag = r->tag;
        out->flags = r->flags;
        if (r->flags & HY_BLOCK_CANARY)
            hy_canary_check(ptr, r->size, HY_CANARY_FRONT,
                            rear_room(ptr, r->size, hy_heap_addr(r->page) + out->slot_bytes), &out->damage);
        r->flags = 0;
        hy_heap_give_locked(r);
        res = HY_FREE_OK;
    } else {
        res = HY_FREE_INVALID;
    }
    pthread_mutex_unlock(&hy_pool_heap.lock);
    if (res == HY_FREE_OK) hy_heap_note_freed(ptr);
    else if (hy_heap_recently_freed(ptr)) res = HY_FREE_DOUBLE;
    return res;
}

hy_free_result hy_pool_free(uintptr_t ptr, hy_block_desc *out) {
    memset(out, 0, sizeof *out);
    if (!hy_pool_contains(ptr)) return HY_FREE_NOT_MINE;
    uint64_t page = hy_heap_page_of(ptr);
    if ((ptr & 63) != 0) return HY_FREE_INVALID;
    hy_free_result res;
    if (free_small(ptr, page, out, &res)) return res;
    return free_large(ptr, page, out);
}

int hy_pool_describe(uintptr_t ptr, hy_block_desc *out) {
    memset(out, 0, sizeof *out);
    if (!hy_pool_contains(ptr) || (ptr & 63)) return 0;
    uint64_t page = hy_heap_page_of(ptr);
    hy_run *s = hy_heap_run_at(page);
    if (s && __atomic_load_n(&s->kind, __ATOMIC_ACQUIRE) == RUN_SLAB) {
        hy_class *c = lock_slab(s, page);
        if (!c) return 0;
        uintptr_t base = hy_heap_addr(s->page);
        uint32_t i = (uint32_t)((ptr - base) / c->slot_size);
        int ok = i < s->nslots && ((s->used[i / 64] >> (i % 64)) & 1) &&
                 ptr - (base + (uintptr_t)i * c->slot_size) == s->slots[i].offset;
        if (ok) fill_desc_slot(out, c, s, i, ptr);
        pthread_mutex_unlock(&c->lock);
        return ok;
    }
    int ok = 0;
    pthread_mutex_lock(&hy_pool_heap.lock);
    hy_run *r = hy_heap_run_at(page);
    if (r && r->kind == RUN_LARGE && page >= r->page && page < r->page + r->npages &&
        hy_heap_addr(r->page) + r->offset == ptr) {
        out->user = ptr;
        out->size = r->size;
        out->slot_bytes = r->npages << hy_pool_heap.page_shift;
        out->budget = r->budget;
        out->tag = r->tag;
        out->flags = r->flags;
        ok = 1;
    }
    pthread_mutex_unlock(&hy_pool_heap.lock);
    return ok;
}

/* ------------------------------------------------------------ visiting */

typedef struct visit_ctx {
    hy_pool_visit_fn fn;
    void *user;
} visit_ctx;

static void visit_large(hy_run *r, void *user) {
    visit_ctx *v = user;
    if (r->kind != RUN_LARGE || !(r->flags & HY_BLOCK_CANARY)) return;
    hy_block_desc d = { 0 };
    uintptr_t start = hy_heap_addr(r->page);
    d.user = start + r->offset;
    d.size = r->size;
    d.slot_bytes = r->npages << hy_pool_heap.page_shift;
    d.budget = r->budget;
    d.tag = r->tag;
    d.flags = r->flags;
    hy_canary_check(d.user, d.size, HY_CANARY_FRONT, rear_room(d.user, d.size, start + d.slot_bytes), &d.damage);
    v->fn(&d, v->user);
}

void hy_pool_visit_canaries(hy_pool_visit_fn fn, void *user) {
    for (int ci = 0; ci < CLASS_COUNT; ci++) {
        hy_class *c = &classes[ci];
        pthread_mutex_lock(&c->lock);
        for (hy_run *s = c->all; s; s = s->next) {
            uintptr_t base = hy_heap_addr(s->page);
            for (uint32_t i = 0; i < s->nslots; i++) {
                if (!((s->used[i / 64] >> (i % 64)) & 1) || !(s->slots[i].flags & HY_BLOCK_CANARY)) continue;
                uintptr_t start = base + (uintptr_t)i * c->slot_size;
                hy_block_desc d = { 0 };
                fill_desc_slot(&d, c, s, i, start + s->slots[i].offset);
                check_slot_canary(&d, start, c->slot_size);
                fn(&d, user);
            }
        }
        pthread_mutex_unlock(&c->lock);
    }
    visit_ctx v = { fn, user };
    pthread_mutex_lock(&hy_pool_heap.lock);
    hy_heap_walk_locked(visit_large, &v);
    pthread_mutex_unlock(&hy_pool_heap.lock);
}

/* ---------------------------------------------------------- statistics */

static void sum_large(hy_run *r, void *user) {
    if (r->kind == RUN_LARGE) *(uint64_t *)user += r->npages << hy_pool_heap.page_shift;
}

void hy_pool_get_stats(hy_pool_stats *out) {
    memset(out, 0, sizeof *out);
    uint64_t slab_bytes = 0, slab_free = 0, slot_bytes = 0;
    for (int ci = 0; ci < CLASS_COUNT; ci++) {
        hy_class *c = &classes[ci];
        pthread_mutex_lock(&c->lock);
        slab_bytes += c->slabs * (c->slab_pages << hy_pool_heap.page_shift);
        slot_bytes += c->used * c->slot_size;
        slab_free += (c->slabs * c->nslots - c->used) * c->slot_size;
        pthread_mutex_unlock(&c->lock);
    }
    uint64_t large = 0, dirty = 0;
    pthread_mutex_lock(&hy_pool_heap.lock);
    hy_heap_walk_locked(sum_large, &large);
    pthread_mutex_unlock(&hy_pool_heap.lock);
    hy_heap_stats(&out->reserved, &out->free_bytes, &out->largest_free, &dirty);
    out->address_space = hy_pool_heap.space_pages << hy_pool_heap.page_shift;
    out->committed = out->reserved - out->free_bytes + dirty;
    out->slab_free = slab_free;
    out->allocated = slot_bytes + large;
    (void)slab_bytes;
}

void hy_pool_fork_lock(int lock) {
    for (int ci = 0; ci < CLASS_COUNT; ci++) {
        if (lock) pthread_mutex_lock(&classes[ci].lock);
        else pthread_mutex_unlock(&classes[ci].lock);
    }
    if (lock) pthread_mutex_lock(&hy_pool_heap.lock);
    else pthread_mutex_unlock(&hy_pool_heap.lock);
}
