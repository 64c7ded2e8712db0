/*
 * counters.c — hardware counters per phase through perf_event_open, and a
 * precise statement of why they are absent when they are.
 *
 * Counting covers the process: at session start one counter group (cycles,
 * instructions, cache references, cache misses, LLC read misses; user space
 * only) is opened for every thread alive then (/proc/self/task). A phase zone
 * reads the sum of all groups at its begin and end and adds the difference to
 * its phase. Threads created during the session are not counted.
 *
 * Why counters can be missing, told apart by errno:
 *   no-pmu               hardware events fail with ENOENT/EOPNOTSUPP/ENODEV while a
 *                        software event opens (typical in VMs without a virtual PMU)
 *   perf-event-paranoid  EACCES/EPERM and /proc/sys/kernel/perf_event_paranoid > 2
 *                        (user-space counting of one's own threads needs <= 2)
 *   blocked              EACCES/EPERM although paranoid permits it, or ENOSYS with
 *                        perf present: a container's seccomp profile or an LSM
 *   no-perf-events       ENOSYS and no paranoid file: the kernel has no perf events
 */
#include "profiler/profiler_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__linux__)
#include <linux/perf_event.h>
#include <sys/syscall.h>
#endif

#define PARANOID_LIMIT 2

static atomic_int use_software;

void hy_ctr_test_use_software(int on) { atomic_store(&use_software, on ? 1 : 0); }
int hy_ctr_using_software(void) { return atomic_load(&use_software); }

const char *hy_ctr_reason_name(hy_ctr_reason reason) {
    switch (reason) {
    case HY_CTR_OK: return "ok";
    case HY_CTR_DISABLED: return "disabled";
    case HY_CTR_NO_PMU: return "no-pmu";
    case HY_CTR_PARANOID: return "perf-event-paranoid";
    case HY_CTR_BLOCKED: return "blocked";
    case HY_CTR_NO_PERF: return "no-perf-events";
    case HY_CTR_OTHER: return "other";
    }
    return "other";
}

static int is_missing_event(int e) {
    return e == ENOENT || e == EOPNOTSUPP || e == ENODEV;
}

void hy_ctr_classify(int hw_errno, int sw_errno, int paranoid, hy_ctr_status *s) {
    memset(s, 0, sizeof *s);
    s->hw_errno = hw_errno;
    s->sw_errno = sw_errno;
    s->paranoid = paranoid;
    int have_paranoid = paranoid != INT32_MIN;
    if (hw_errno == 0) {
        s->reason = HY_CTR_OK;
        snprintf(s->detail, sizeof s->detail, "hardware counters available");
    } else if (is_missing_event(hw_errno) && sw_errno == 0) {
        s->reason = HY_CTR_NO_PMU;
        snprintf(s->detail, sizeof s->detail,
                 "no hardware performance counters: hardware events fail with %s while software events work "
                 "(no PMU exposed, common in virtual machines)", strerror(hw_errno));
    } else if (hw_errno == EACCES || hw_errno == EPERM) {
        if (have_paranoid && paranoid > PARANOID_LIMIT) {
            s->reason = HY_CTR_PARANOID;
            snprintf(s->detail, sizeof s->detail,
                     "perf_event_paranoid is %d; counting this process's own user-space events needs %d or less "
                     "(sysctl kernel.perf_event_paranoid=%d) or CAP_PERFMON", paranoid, PARANOID_LIMIT, PARANOID_LIMIT);
        } else {
            s->reason = HY_CTR_BLOCKED;
            if (have_paranoid)
                snprintf(s->detail, sizeof s->detail,
                         "perf_event_open refused (%s) although perf_event_paranoid is %d: blocked by a container's "
                         "seccomp profile or a security module", strerror(hw_errno), paranoid);
            else
                snprintf(s->detail, sizeof s->detail,
                         "perf_event_open refused (%s) and perf_event_paranoid is unreadable: blocked by a container "
                         "or a security module", strerror(hw_errno));
        }
    } else if (hw_errno == ENOSYS) {
        if (have_paranoid) {
            s->reason = HY_CTR_BLOCKED;
            snprintf(s->detail, sizeof s->detail,
                     "perf_event_open returns ENOSYS although the kernel has perf events (perf_event_paranoid is %d): "
                     "blocked by a container's seccomp profile", paranoid);
        } else {
            s->reason = HY_CTR_NO_PERF;
            snprintf(s->detail, sizeof s->detail, "this kernel has no perf events (perf_event_open is not implemented)");
        }
    } else if (is_missing_event(hw_errno)) {
        s->reason = HY_CTR_OTHER;
        snprintf(s->detail, sizeof s->detail,
                 "hardware events fail with %s and software events with %s", strerror(hw_errno),
                 sw_errno ? strerror(sw_errno) : "no error");
    } else {
        s->reason = HY_CTR_OTHER;
        snprintf(s->detail, sizeof s->detail, "perf_event_open failed: %s (errno %d)", strerror(hw_errno), hw_errno);
    }
}

static int read_paranoid(void) {
    char text[32];
    int fd = open("/proc/sys/kernel/perf_event_paranoid", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return INT32_MIN;
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0) return INT32_MIN;
    text[n] = '\0';
    char *end;
    long v = strtol(text, &end, 10);
    return end == text ? INT32_MIN : (int)v;
}

/* ------------------------------------------------------------ opening events */

#if defined(__linux__) && defined(SYS_perf_event_open)
typedef struct event_spec { uint32_t type; uint64_t config; } event_spec;

static const event_spec hardware_events[HY_CTR_COUNT] = {
    [HY_CTR_CYCLES] = { PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES },
    [HY_CTR_INSTRUCTIONS] = { PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS },
    [HY_CTR_CACHE_REFS] = { PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_REFERENCES },
    [HY_CTR_CACHE_MISSES] = { PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES },
    [HY_CTR_LLC_MISSES] = { PERF_TYPE_HW_CACHE, PERF_COUNT_HW_CACHE_LL | (PERF_COUNT_HW_CACHE_OP_READ << 8) |
                                                    (PERF_COUNT_HW_CACHE_RESULT_MISS << 16) },
};

/* Stand-ins for tests on machines without a PMU: same plumbing, other figures. */
static const event_spec software_events[HY_CTR_COUNT] = {
    [HY_CTR_CYCLES] = { PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK },
    [HY_CTR_INSTRUCTIONS] = { PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS },
    [HY_CTR_CACHE_REFS] = { PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES },
    [HY_CTR_CACHE_MISSES] = { PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS },
    [HY_CTR_LLC_MISSES] = { PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MIN },
};

static int open_event(const event_spec *spec, pid_t tid, int group_fd) {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = spec->type;
    attr.config = spec->config;
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    attr.read_format = PERF_FORMAT_GROUP | PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    long fd = syscall(SYS_perf_event_open, &attr, tid, -1, group_fd, PERF_FLAG_FD_CLOEXEC);
    return fd < 0 ? -errno : (int)fd;
}
#endif

static pthread_once_t probe_once = PTHREAD_ONCE_INIT;
static hy_ctr_status probed;

static void probe(void) {
#if defined(__linux__) && defined(SYS_perf_event_open)
    int hw = open_event(&hardware_events[HY_CTR_CYCLES], 0, -1);
    int sw = open_event(&software_events[HY_CTR_CYCLES], 0, -1);
    if (hw >= 0) close(hw);
    if (sw >= 0) close(sw);
    hy_ctr_classify(hw < 0 ? -hw : 0, sw < 0 ? -sw : 0, read_paranoid(), &probed);
#else
    hy_ctr_classify(ENOSYS, ENOSYS, INT32_MIN, &probed);
#endif
}

static hy_ctr_status software_status = { .reason = HY_CTR_OK, .paranoid = INT32_MIN,
                                         .detail = "software events standing in for hardware counters (test mode)" };

const hy_ctr_status *hy_ctr_probe(void) {
    if (hy_ctr_using_software()) return &software_status;
    pthread_once(&probe_once, probe);
    return &probed;
}

/* ------------------------------------------------------------ process-wide sets */

typedef struct ctr_group {
    int fds[HY_CTR_COUNT];     /* fds[0] leads; -1 = absent */
    int which[HY_CTR_COUNT];   /* counter of the i-th value in a group read */
    int n;
} ctr_group;

struct hy_ctr_set {
    ctr_group *groups;
    int n, cap;
    unsigned present;          /* counters opened in every group */
};

int hy_ctr_thread_count(const hy_ctr_set *set) {
    return set ? set->n : 0;
}

void hy_ctr_close(hy_ctr_set *set) {
    if (!set) return;
    for (int g = 0; g < set->n; g++)
        for (int i = 0; i < set->groups[g].n; i++) close(set->groups[g].fds[i]);
    hyperionFree(set->groups);
    hyperionFree(set);
}

#if defined(__linux__) && defined(SYS_perf_event_open)
struct linux_dirent64_head {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

static int add_group(hy_ctr_set *set, pid_t tid, const event_spec *events) {
    if (set->n == set->cap) {
        int cap = set->cap ? set->cap * 2 : 16;
        ctr_group *grown = hyperionRealloc(set->groups, (size_t)cap * sizeof *grown, HY_PROF_TAG);
        if (!grown) return 0;
        set->groups = grown;
        set->cap = cap;
    }
    ctr_group *g = &set->groups[set->n];
    g->n = 0;
    int leader = open_event(&events[HY_CTR_CYCLES], tid, -1);
    if (leader < 0) return 1;   /* the thread may have ended meanwhile: skip it */
    g->fds[g->n] = leader;
    g->which[g->n++] = HY_CTR_CYCLES;
    for (int k = HY_CTR_CYCLES + 1; k < HY_CTR_COUNT; k++) {
        int fd = open_event(&events[k], tid, leader);
        if (fd < 0) continue;
        g->fds[g->n] = fd;
        g->which[g->n++] = k;
    }
    unsigned bits = 0;
    for (int i = 0; i < g->n; i++) bits |= 1u << g->which[i];
    set->present = set->n == 0 ? bits : (set->present & bits);
    set->n++;
    return 1;
}
#endif

hy_ctr_set *hy_ctr_open_process(hy_ctr_status *status) {
    const hy_ctr_status *probe_status = hy_ctr_probe();
    *status = *probe_status;
    if (probe_status->reason != HY_CTR_OK) return NULL;
#if defined(__linux__) && defined(SYS_perf_event_open)
    const event_spec *events = hy_ctr_using_software() ? software_events : hardware_events;
    hy_ctr_set *set = hyperionCalloc(1, sizeof *set, HY_PROF_TAG);
    if (!set) return NULL;
    int dir = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) {
        add_group(set, 0, events);   /* at least the calling thread */
    } else {
        char buf[4096];
        for (;;) {
            long n = syscall(SYS_getdents64, dir, buf, sizeof buf);
            if (n <= 0) break;
            for (long off = 0; off < n;) {
                struct linux_dirent64_head *d = (struct linux_dirent64_head *)(buf + off);
                off += d->d_reclen;
                char *end;
                long tid = strtol(d->d_name, &end, 10);
                if (end == d->d_name || *end || tid <= 0) continue;
                if (!add_group(set, (pid_t)tid, events)) break;
            }
        }
        close(dir);
    }
    if (set->n == 0) {
        hy_ctr_close(set);
        hy_ctr_classify(EINVAL, 0, read_paranoid(), status);
        snprintf(status->detail, sizeof status->detail, "no thread of this process could be counted");
        return NULL;
    }
    return set;
#else
    return NULL;
#endif
}

void hy_ctr_read(hy_ctr_set *set, uint64_t values[HY_CTR_COUNT], unsigned *present) {
    memset(values, 0, sizeof(uint64_t) * HY_CTR_COUNT);
    *present = set ? set->present : 0;
    if (!set) return;
    for (int g = 0; g < set->n; g++) {
        const ctr_group *grp = &set->groups[g];
        uint64_t buf[3 + HY_CTR_COUNT];
        ssize_t n = read(grp->fds[0], buf, sizeof buf);
        if (n < (ssize_t)(3 * sizeof(uint64_t))) continue;
        uint64_t nr = buf[0], enabled = buf[1], running = buf[2];
        if (nr > (uint64_t)grp->n) nr = (uint64_t)grp->n;
        /* a multiplexed group counted only part of the time: scale up */
        double scale = running > 0 && running < enabled ? (double)enabled / (double)running : 1.0;
        for (uint64_t i = 0; i < nr; i++) values[grp->which[i]] += (uint64_t)((double)buf[3 + i] * scale);
    }
}
