/*
 * zones.c — the recording hot path: per-thread buffers, zone begin/end.
 *
 * Each recording thread owns one buffer (registered on its first zone) and is
 * its only writer, so recording takes no lock: an event is filled, then the
 * buffer's count is published with a release store. A reader (session.c, under
 * the control lock) takes count with an acquire load and reads events below it;
 * only `end` can still change, and it is atomic.
 *
 * Epochs. Recording starts from idle by bumping the global epoch. A buffer whose
 * epoch is older is reset by its owner on its next zone (count and drops to 0),
 * then the owner publishes the new epoch; readers skip buffers of older epochs.
 * A zone remembers the epoch it began in, so a zone that ends after a reset
 * writes nothing.
 *
 * Thread exit is noticed through a pthread key; the buffer stays until the next
 * idle-to-recording transition (its events are still wanted at the stop that
 * follows) and is then freed.
 */
#include "profiler/profiler_internal.h"

#include <string.h>
#include <unistd.h>

int hyperionProfilerActiveFlag;
hy_prof_state hy_prof;
hy_prof_registry hy_prof_reg = { PTHREAD_MUTEX_INITIALIZER, NULL, 0, 1 };

static _Thread_local hy_prof_buffer *tl_buffer;
static _Thread_local uint32_t tl_failed_epoch;      /* registration failed in this epoch: do not retry */
static _Thread_local uint64_t tl_request;
static _Thread_local char tl_name[HY_PROF_THREAD_NAME_MAX];

static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;
static int exit_key_ok;

static const char *const phase_names[HYPERION_PHASE_COUNT] = { "load", "prefill", "decode", "sample" };
static const char *const category_names[HYPERION_ZONE_CATEGORY_COUNT] = { "op", "layer", "phase" };

const char *hyperionPhaseName(hyperion_phase phase) {
    return (unsigned)phase < HYPERION_PHASE_COUNT ? phase_names[phase] : "unknown";
}

const char *hyperionZoneCategoryName(hyperion_zone_category category) {
    return (unsigned)category < HYPERION_ZONE_CATEGORY_COUNT ? category_names[category] : "unknown";
}

uint64_t hyperionProfilerNow(void) {
    return hy_clock_monotonic_ns();
}

void hy_prof_set_active(int on) {
    __atomic_store_n(&hyperionProfilerActiveFlag, on ? 1 : 0, __ATOMIC_RELEASE);
}

int hy_prof_capture_slot(uint64_t request) {
    if (!request) return -1;
    for (int i = 0; i < HYPERION_PROFILER_MAX_CAPTURES; i++)
        if (atomic_load_explicit(&hy_prof.capture_ids[i], memory_order_acquire) == request) return i;
    return -1;
}

/* ------------------------------------------------------------ registration */

/* The key's value is the buffer's registration number (not its address), so a
 * thread that ends after a shutdown never touches freed memory. */
static void on_thread_exit(void *value) {
    uint64_t reg_id = (uint64_t)(uintptr_t)value;
    pthread_mutex_lock(&hy_prof_reg.lock);
    for (hy_prof_buffer *b = hy_prof_reg.head; b; b = b->next)
        if (b->reg_id == reg_id) atomic_store(&b->exited, 1);
    pthread_mutex_unlock(&hy_prof_reg.lock);
}

static void make_exit_key(void) {
    exit_key_ok = pthread_key_create(&exit_key, on_thread_exit) == 0;
}

static void default_thread_name(char *out, size_t size, uint64_t tid) {
    if (tid == (uint64_t)getpid()) snprintf(out, size, "main");
    else snprintf(out, size, "thread-%llu", (unsigned long long)tid);
}

static hy_prof_buffer *register_thread(uint32_t epoch) {
    pthread_once(&exit_key_once, make_exit_key);
    uint32_t capacity = atomic_load_explicit(&hy_prof.capacity, memory_order_relaxed);
    if (capacity < HY_PROF_MIN_BUFFER_EVENTS) capacity = HY_PROF_DEFAULT_BUFFER_EVENTS;
    hy_prof_buffer *b = hyperionCalloc(1, sizeof *b, HY_PROF_TAG);
    hy_prof_event *events = b ? hyperionAlloc((size_t)capacity * sizeof(hy_prof_event), HY_PROF_TAG) : NULL;
    if (!events) {
        hyperionFree(b);
        tl_failed_epoch = epoch;
        HY_LOG(HYPERION_LOG_WARN, HYPERION_LOG_PERFORMANCE,
               "profiler: no memory for a %u-zone buffer on thread %llu; its zones are not recorded",
               capacity, (unsigned long long)hy_thread_id());
        return NULL;
    }
    b->events = events;
    b->capacity = capacity;
    b->tid = hy_thread_id();
    b->counter_depth = 0;
    if (tl_name[0]) memcpy(b->name, tl_name, sizeof b->name);
    else default_thread_name(b->name, sizeof b->name, b->tid);
    atomic_store_explicit(&b->epoch, epoch, memory_order_relaxed);

    pthread_mutex_lock(&hy_prof_reg.lock);
    b->reg_id = hy_prof_reg.next_reg_id++;
    b->order = hy_prof_reg.next_order++;
    b->next = hy_prof_reg.head;
    hy_prof_reg.head = b;
    pthread_mutex_unlock(&hy_prof_reg.lock);
    if (exit_key_ok) pthread_setspecific(exit_key, (void *)(uintptr_t)b->reg_id);
    tl_buffer = b;
    return b;
}

/* The owner's reset at the first zone of a new epoch. The capacity may have
 * changed through hyperionInitProfiler since the last epoch. */
static hy_prof_buffer *reset_for_epoch(hy_prof_buffer *b, uint32_t epoch) {
    uint32_t capacity = atomic_load_explicit(&hy_prof.capacity, memory_order_relaxed);
    if (capacity < HY_PROF_MIN_BUFFER_EVENTS) capacity = HY_PROF_DEFAULT_BUFFER_EVENTS;
    if (capacity != b->capacity || !b->events) {
        hy_prof_event *events = hyperionAlloc((size_t)capacity * sizeof(hy_prof_event), HY_PROF_TAG);
        if (!events) {
            tl_failed_epoch = epoch;
            return NULL;
        }
        hyperionFree(b->events);
        b->events = events;
        b->capacity = capacity;
    }
    atomic_store_explicit(&b->count, 0, memory_order_relaxed);
    atomic_store_explicit(&b->dropped, 0, memory_order_relaxed);
    b->counter_depth = 0;
    atomic_store_explicit(&b->epoch, epoch, memory_order_release);
    return b;
}

static hy_prof_buffer *thread_buffer(void) {
    uint32_t epoch = atomic_load_explicit(&hy_prof.epoch, memory_order_relaxed);
    hy_prof_buffer *b = tl_buffer;
    if (b && atomic_load_explicit(&b->epoch, memory_order_relaxed) == epoch) return b;
    if (tl_failed_epoch == epoch) return NULL;
    return b ? reset_for_epoch(b, epoch) : register_thread(epoch);
}

/* Should this thread record a zone of this category now? */
static int wanted(hyperion_zone_category category) {
    if (category != HYPERION_ZONE_PHASE && !atomic_load_explicit(&hy_prof.track_functions, memory_order_relaxed))
        return 0;
    if (atomic_load_explicit(&hy_prof.record_all, memory_order_relaxed)) return 1;
    return tl_request && hy_prof_capture_slot(tl_request) >= 0;
}

/* ------------------------------------------------------------ hardware counters of phase zones */

static pthread_mutex_t counter_read_lock = PTHREAD_MUTEX_INITIALIZER;

static int read_counters(uint64_t values[HY_CTR_COUNT]) {
    int ok = 0;
    pthread_mutex_lock(&counter_read_lock);
    hy_ctr_set *set = hy_prof_counter_set();
    if (set) {
        unsigned present = 0;
        hy_ctr_read(set, values, &present);
        ok = 1;
    }
    pthread_mutex_unlock(&counter_read_lock);
    return ok;
}

/* session.c closes the set under this lock, so no read runs on a closed set. */
void hy_prof_lock_counter_reads(int lock) {
    if (lock) pthread_mutex_lock(&counter_read_lock);
    else pthread_mutex_unlock(&counter_read_lock);
}

static int phase_index(const char *name) {
    for (int p = 0; p < HYPERION_PHASE_COUNT; p++)
        if (name == phase_names[p] || strcmp(name, phase_names[p]) == 0) return p;
    return -1;
}

/* ------------------------------------------------------------ zones */

static void fill_event(hy_prof_event *ev, const char *name, hyperion_zone_category category,
                       const hyperion_zone_meta *meta) {
    ev->name = name;
    ev->category = (uint8_t)category;
    ev->flags = 0;
    ev->request = tl_request;
    if (meta) {
        ev->type = meta->type;
        ev->bytes = meta->bytes;
        ev->flops = meta->flops;
        ev->layer = meta->layer < -1 ? -1 : meta->layer;
        uint8_t n = 0;
        for (int d = 0; d < 4 && meta->dims[d] > 0; d++, n++)
            ev->dims[d] = meta->dims[d] > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)meta->dims[d];
        for (int d = n; d < 4; d++) ev->dims[d] = 0;
        ev->n_dims = n;
    } else {
        ev->type = NULL;
        ev->bytes = ev->flops = 0;
        ev->layer = -1;
        ev->n_dims = 0;
        memset(ev->dims, 0, sizeof ev->dims);
    }
}

/* Reserve the next slot, or count a drop. */
static hy_prof_event *reserve(hy_prof_buffer *b, uint32_t *slot) {
    uint32_t n = atomic_load_explicit(&b->count, memory_order_relaxed);
    if (n >= b->capacity) {
        atomic_store_explicit(&b->dropped, atomic_load_explicit(&b->dropped, memory_order_relaxed) + 1,
                              memory_order_relaxed);
        return NULL;
    }
    *slot = n;
    return &b->events[n];
}

void hyperionZoneBegin(hyperion_zone *zone, const char *name, hyperion_zone_category category,
                       const hyperion_zone_meta *meta) {
    zone->buffer = NULL;
    zone->counter_depth = -1;
    if (!name || (unsigned)category >= HYPERION_ZONE_CATEGORY_COUNT || !wanted(category)) return;
    hy_prof_buffer *b = thread_buffer();
    if (!b) return;
    uint32_t slot;
    hy_prof_event *ev = reserve(b, &slot);
    if (!ev) return;
    fill_event(ev, name, category, meta);

    if (category == HYPERION_ZONE_PHASE && atomic_load_explicit(&hy_prof.counters_on, memory_order_relaxed) &&
        b->counter_depth < HY_PROF_COUNTER_STACK) {
        int p = phase_index(name);
        if (p >= 0 && read_counters(b->counter_stack[b->counter_depth])) zone->counter_depth = b->counter_depth++;
    }

    atomic_store_explicit(&ev->end, 0, memory_order_relaxed);
    ev->start = hy_clock_monotonic_ns();   /* last, so the bookkeeping above is outside the zone */
    atomic_store_explicit(&b->count, slot + 1, memory_order_release);
    zone->buffer = b;
    zone->slot = slot;
    zone->epoch = atomic_load_explicit(&b->epoch, memory_order_relaxed);
}

void hyperionZoneEnd(hyperion_zone *zone) {
    uint64_t now = hy_clock_monotonic_ns();   /* first, so the bookkeeping below is outside */
    hy_prof_buffer *b = zone->buffer;
    zone->buffer = NULL;
    if (!b || atomic_load_explicit(&b->epoch, memory_order_relaxed) != zone->epoch) return;
    hy_prof_event *ev = &b->events[zone->slot];
    atomic_store_explicit(&ev->end, now, memory_order_relaxed);

    if (zone->counter_depth >= 0 && zone->counter_depth == b->counter_depth - 1) {
        uint64_t after[HY_CTR_COUNT];
        b->counter_depth--;
        int p = phase_index(ev->name);
        if (p >= 0 && read_counters(after)) {
            const uint64_t *before = b->counter_stack[zone->counter_depth];
            for (int k = 0; k < HY_CTR_COUNT; k++)
                if (after[k] >= before[k]) atomic_fetch_add(&hy_prof.phase_counters[p][k], after[k] - before[k]);
        }
    }
}

void hyperionProfilerRecordZone(const char *name, hyperion_zone_category category, uint64_t start_ns,
                                uint64_t end_ns, const hyperion_zone_meta *meta) {
    if (!HY_PROFILER_ON() || !name || (unsigned)category >= HYPERION_ZONE_CATEGORY_COUNT || start_ns == 0 ||
        end_ns < start_ns || !wanted(category))
        return;
    hy_prof_buffer *b = thread_buffer();
    if (!b) return;
    uint32_t slot;
    hy_prof_event *ev = reserve(b, &slot);
    if (!ev) return;
    fill_event(ev, name, category, meta);
    ev->start = start_ns;
    atomic_store_explicit(&ev->end, end_ns, memory_order_relaxed);
    atomic_store_explicit(&b->count, slot + 1, memory_order_release);
}

/* ------------------------------------------------------------ threads and requests */

hyperion_status hyperionProfilerSetThreadName(const char *name) {
    if (!name || !name[0])
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, "pass a short name such as \"worker-1\"",
                             ((hy_field[]){ HY_TXT("field", "name") }), "thread name must be a non-empty string");
    size_t n = strlen(name);
    if (n >= sizeof tl_name) n = sizeof tl_name - 1;
    memcpy(tl_name, name, n);
    tl_name[n] = '\0';
    if (tl_buffer) {
        pthread_mutex_lock(&hy_prof_reg.lock);
        memcpy(tl_buffer->name, tl_name, sizeof tl_name);
        pthread_mutex_unlock(&hy_prof_reg.lock);
    }
    return HYPERION_OK;
}

void hyperionProfilerSetRequest(uint64_t request_id) {
    tl_request = request_id;
}

uint64_t hyperionProfilerGetRequest(void) {
    return tl_request;
}

void hyperionProfilerNoteTokens(hyperion_phase phase, uint64_t count) {
    if ((unsigned)phase >= HYPERION_PHASE_COUNT || count == 0 || !HY_PROFILER_ON()) return;
    atomic_fetch_add_explicit(&hy_prof.tokens[phase], count, memory_order_relaxed);
    int slot = hy_prof_capture_slot(tl_request);
    if (slot >= 0) atomic_fetch_add_explicit(&hy_prof.capture_tokens[slot][phase], count, memory_order_relaxed);
}

/* ------------------------------------------------------------ freeing buffers */

int hy_prof_reap_exited(void) {
    int freed = 0;
    pthread_mutex_lock(&hy_prof_reg.lock);
    hy_prof_buffer **link = &hy_prof_reg.head;
    while (*link) {
        hy_prof_buffer *b = *link;
        if (atomic_load(&b->exited)) {
            *link = b->next;
            hyperionFree(b->events);
            hyperionFree(b);
            freed++;
        } else {
            link = &b->next;
        }
    }
    pthread_mutex_unlock(&hy_prof_reg.lock);
    return freed;
}

/* Live threads keep their (small) buffer header, because they may still hold a
 * zone pointing at it; its events go, and epoch 0 makes the owner reallocate. */
void hy_prof_free_all_buffers(void) {
    hy_prof_reap_exited();
    pthread_mutex_lock(&hy_prof_reg.lock);
    for (hy_prof_buffer *b = hy_prof_reg.head; b; b = b->next) {
        atomic_store_explicit(&b->epoch, 0, memory_order_release);
        atomic_store(&b->count, 0);
        hyperionFree(b->events);
        b->events = NULL;
    }
    pthread_mutex_unlock(&hy_prof_reg.lock);
}

/* ------------------------------------------------------------ interned names */

static struct {
    pthread_mutex_t lock;
    char **slots;           /* open addressing, power-of-two size */
    size_t size, used;
} names = { PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0 };

static uint64_t hash_text(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;   /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static int names_grow(void) {
    size_t size = names.size ? names.size * 2 : 64;
    char **slots = hyperionCalloc(size, sizeof *slots, HY_PROF_TAG);
    if (!slots) return 0;
    for (size_t i = 0; i < names.size; i++) {
        char *s = names.slots[i];
        if (!s) continue;
        size_t j = hash_text(s, strlen(s)) & (size - 1);
        while (slots[j]) j = (j + 1) & (size - 1);
        slots[j] = s;
    }
    hyperionFree(names.slots);
    names.slots = slots;
    names.size = size;
    return 1;
}

const char *hyperionProfilerIntern(const char *text) {
    if (!text) {
        HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", "text") }),
                      "name to intern must not be NULL");
        return NULL;
    }
    size_t n = strnlen(text, HY_PROF_NAME_MAX - 1);
    const char *found = NULL;
    pthread_mutex_lock(&names.lock);
    if ((names.used + 1) * 2 > names.size && !names_grow()) goto done;
    size_t j = hash_text(text, n) & (names.size - 1);
    while (names.slots[j]) {
        if (strncmp(names.slots[j], text, n) == 0 && names.slots[j][n] == '\0') {
            found = names.slots[j];
            goto done;
        }
        j = (j + 1) & (names.size - 1);
    }
    char *copy = hyperionAlloc(n + 1, HY_PROF_TAG);
    if (!copy) goto done;
    memcpy(copy, text, n);
    copy[n] = '\0';
    names.slots[j] = copy;
    names.used++;
    found = copy;
done:
    pthread_mutex_unlock(&names.lock);
    return found;
}
