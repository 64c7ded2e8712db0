/*
 * deadline.c — the timer thread behind request timeouts (see deadline.h).
 */
#include "runtime/deadline.h"

#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "core/internal.h"

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv;
static hy_deadline *g_head;
static int g_started;

static void *timer_main(void *arg) {
    (void)arg;
#if defined(__APPLE__)
    pthread_setname_np("hyperion-timer");
#else
    pthread_setname_np(pthread_self(), "hyperion-timer");
#endif
    pthread_mutex_lock(&g_mu);
    for (;;) {
        uint64_t now = hy_clock_monotonic_ns();
        while (g_head && g_head->at_ns <= now) {
            hy_deadline *d = g_head;
            g_head = d->next;
            d->next = NULL;
            d->armed = 0;
            int expected = 0;
            d->fired = atomic_compare_exchange_strong(d->flag, &expected, d->value);
        }
        if (!g_head) {
            pthread_cond_wait(&g_cv, &g_mu);
            continue;
        }
        struct timespec ts;
        ts.tv_sec = (time_t)(g_head->at_ns / 1000000000ull);
        ts.tv_nsec = (long)(g_head->at_ns % 1000000000ull);
        pthread_cond_timedwait(&g_cv, &g_mu, &ts);
    }
    return NULL;
}

/* Called with g_mu held. */
static hyperion_status start_thread(void) {
    if (g_started) return HYPERION_OK;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC); /* hy_clock_monotonic_ns reads CLOCK_MONOTONIC */
    pthread_cond_init(&g_cv, &attr);
    pthread_condattr_destroy(&attr);
    /* like the pool's workers, the timer takes no asynchronous signals */
    sigset_t all, old;
    sigfillset(&all);
    int faults[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT };
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) sigdelset(&all, faults[i]);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    pthread_t thread;
    pthread_attr_t ta;
    pthread_attr_init(&ta);
    pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&ta, 64 * 1024);
    int rc = pthread_create(&thread, &ta, timer_main, NULL);
    pthread_attr_destroy(&ta);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        pthread_cond_destroy(&g_cv);
        return HY_RAISE(HYPERION_INTERNAL, "the system refused a thread; lower the number of threads in use",
                        "cannot start the timer thread (error %d)", rc);
    }
    g_started = 1;
    return HYPERION_OK;
}

hyperion_status hy_deadline_arm(hy_deadline *d, atomic_int *flag, int value, uint64_t timeout_ns) {
    if (!d || !flag || value == 0)
        return HY_RAISE(HYPERION_INVALID_ARGUMENT, NULL, "hy_deadline_arm: d and flag must not be NULL, value not 0");
    pthread_mutex_lock(&g_mu);
    if (d->armed) {
        pthread_mutex_unlock(&g_mu);
        return HY_RAISE(HYPERION_INVALID_ARGUMENT, NULL, "hy_deadline_arm: the deadline is already armed");
    }
    hyperion_status s = start_thread();
    if (s != HYPERION_OK) {
        pthread_mutex_unlock(&g_mu);
        return s;
    }
    uint64_t now = hy_clock_monotonic_ns();
    d->at_ns = timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + timeout_ns;
    d->flag = flag;
    d->value = value;
    d->fired = 0;
    d->armed = 1;
    hy_deadline **at = &g_head;
    while (*at && (*at)->at_ns <= d->at_ns) at = &(*at)->next;
    d->next = *at;
    *at = d;
    if (g_head == d) pthread_cond_signal(&g_cv); /* a new earliest deadline */
    pthread_mutex_unlock(&g_mu);
    return HYPERION_OK;
}

int hy_deadline_disarm(hy_deadline *d) {
    if (!d) return 0;
    pthread_mutex_lock(&g_mu);
    if (d->armed) {
        for (hy_deadline **at = &g_head; *at; at = &(*at)->next) {
            if (*at == d) {
                *at = d->next;
                break;
            }
        }
        d->armed = 0;
        d->next = NULL;
    }
    int fired = d->fired;
    pthread_mutex_unlock(&g_mu);
    return fired;
}
