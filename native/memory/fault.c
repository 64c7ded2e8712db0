/*
 * fault.c — the SIGSEGV/SIGBUS handler of the guard mode.
 *
 * Installed (once) when guard pages are first turned on, with SA_SIGINFO |
 * SA_ONSTACK; each thread that allocates a guarded block gets an alternate
 * signal stack (unless it has one already), so a fault on an exhausted stack
 * can still be reported. A fault at an address inside one of our guarded or
 * quarantined mappings is reported AddressSanitizer-style — kind, access,
 * address, where it lies relative to the block, allocation stack, free stack
 * for a use-after-free, tag, thread — to stderr and to a JSON file, and the
 * process is stopped with abort(): its memory is already corrupt, and this is
 * the one place the runtime may stop it. Any other fault goes to the handler
 * installed before ours (V8 relies on SIGSEGV for WebAssembly bounds checks),
 * or, when that was the default action, the default action is restored and
 * the faulting instruction re-runs into it.
 *
 * The handler itself only looks the address up in the guard records (lock
 * free) and hands over to fault_report.c, which is async-signal-safe.
 */
#include "mem_internal.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ALTSTACK_BYTES ((size_t)128 << 10)

static struct sigaction previous_segv, previous_bus;
static atomic_int installed, reporting;

/* --------------------------------------------------- alternate stacks */

static pthread_key_t altstack_key;
static pthread_once_t altstack_once = PTHREAD_ONCE_INIT;
static _Thread_local int thread_prepared;

static void release_altstack(void *mem) {
    stack_t current;
    if (sigaltstack(NULL, &current) == 0 && current.ss_sp == mem) {
        stack_t off = { .ss_flags = SS_DISABLE };
        sigaltstack(&off, NULL);
    }
    munmap(mem, ALTSTACK_BYTES);
}

static void make_key(void) {
    pthread_key_create(&altstack_key, release_altstack);
}

void hy_fault_prepare_thread(void) {
    if (thread_prepared) return;
    thread_prepared = 1;
    uintptr_t low, high;
    hy_stack_thread_bounds(&low, &high);   /* cached for the access-stack walk */
    stack_t old;
    if (sigaltstack(NULL, &old) != 0 || !(old.ss_flags & SS_DISABLE)) return;   /* one is in place */
    void *mem = mmap(NULL, ALTSTACK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return;
    stack_t ss = { .ss_sp = mem, .ss_size = ALTSTACK_BYTES, .ss_flags = 0 };
    if (sigaltstack(&ss, NULL) != 0) {
        munmap(mem, ALTSTACK_BYTES);
        return;
    }
    pthread_once(&altstack_once, make_key);
    pthread_setspecific(altstack_key, mem);
}

/* ----------------------------------------------------------- handler */

static void pass_on(int sig, siginfo_t *info, void *ucontext) {
    struct sigaction *prev = sig == SIGBUS ? &previous_bus : &previous_segv;
    if ((prev->sa_flags & SA_SIGINFO) && prev->sa_sigaction) {
        prev->sa_sigaction(sig, info, ucontext);
        return;
    }
    if (!(prev->sa_flags & SA_SIGINFO) && prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN) {
        prev->sa_handler(sig);
        return;
    }
    /* default action: restore it; a real fault re-runs into it on return,
     * a signal sent by someone else is sent again */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    if (info->si_code <= 0) raise(sig);
}

static void on_fault(int sig, siginfo_t *info, void *ucontext) {
    hy_guard_view view;
    uintptr_t addr = (uintptr_t)info->si_addr;
    if (info->si_code <= 0 || !hy_guard_find_fault(addr, &view)) {
        pass_on(sig, info, ucontext);
        return;
    }
    if (atomic_exchange(&reporting, 1)) {
        for (;;) pause();   /* another thread is writing its report and will abort */
    }
    hy_fault_report(sig, addr, &view, ucontext);
    abort();
}

void hy_fault_install(void) {
    if (atomic_exchange(&installed, 1)) return;
    hy_fault_note_executable();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &previous_segv);
    sigaction(SIGBUS, &sa, &previous_bus);
}
