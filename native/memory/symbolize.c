/*
 * symbolize.c — addresses to "function file:line (module+offset)", only when a
 * report is made.
 *
 * dladdr names the module (the main program becomes /proc/self/exe, since its
 * dladdr name is argv[0] as typed). Then, per module, one `addr2line -f -C -e
 * <module> <addresses...>` child (found on PATH once; posix_spawn, so no
 * fork of this process's state) gives demangled names and source lines when
 * the binary has them. Where addr2line is missing or answers "??", the ELF
 * symbol table (elfsym.c) and then dladdr's symbol name stand in. Results are
 * cached by address for the life of the process.
 */
#include "mem_internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define CACHE_SLOTS 16384   /* power of two; the cache stops growing when 3/4 full */

static struct {
    pthread_mutex_t lock;
    hy_symbol **slots;
    uint32_t count;
    int tool_state;                /* 0 unknown, 1 found, -1 absent */
    char tool[512];
    char exe[512];
} SY = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* ------------------------------------------------------------------ cache */

static uint32_t slot_of(uintptr_t address) {
    return (uint32_t)(((uint64_t)address * 0x9E3779B97F4A7C15ull) >> 50) & (CACHE_SLOTS - 1);
}

static int cache_get(uintptr_t address, hy_symbol *out) {
    if (!SY.slots) return 0;
    for (uint32_t i = slot_of(address), n = 0; SY.slots[i] && n < CACHE_SLOTS; i = (i + 1) & (CACHE_SLOTS - 1), n++) {
        if (SY.slots[i]->address == address) {
            *out = *SY.slots[i];
            return 1;
        }
    }
    return 0;
}

static void cache_put(const hy_symbol *sym) {
    if (!SY.slots) {
        SY.slots = hy_meta_alloc(CACHE_SLOTS * sizeof(hy_symbol *));
        if (!SY.slots) return;
    }
    if (SY.count >= CACHE_SLOTS / 4 * 3) return;
    uint32_t i = slot_of(sym->address);
    while (SY.slots[i]) {
        if (SY.slots[i]->address == sym->address) return;
        i = (i + 1) & (CACHE_SLOTS - 1);
    }
    hy_symbol *copy = hy_meta_alloc(sizeof *copy);
    if (!copy) return;
    *copy = *sym;
    SY.slots[i] = copy;
    SY.count++;
}

/* ------------------------------------------------------------- addr2line */

static void find_tool(void) {
    if (SY.tool_state) return;
    SY.tool_state = -1;
    const char *path = getenv("PATH");
    if (!path || !*path) path = "/usr/bin:/bin";
    while (*path) {
        const char *end = strchr(path, ':');
        size_t len = end ? (size_t)(end - path) : strlen(path);
        if (len > 0 && len + sizeof("/addr2line") < sizeof SY.tool) {
            memcpy(SY.tool, path, len);
            memcpy(SY.tool + len, "/addr2line", sizeof("/addr2line"));
            if (access(SY.tool, X_OK) == 0) {
                SY.tool_state = 1;
                return;
            }
        }
        if (!end) break;
        path = end + 1;
    }
    SY.tool[0] = '\0';
}

/* Run addr2line on count file addresses of module; fill function/file/line
 * of out[i] where it knows them. Lock held (one child at a time). */
static void run_addr2line(const char *module, const uintptr_t *file_addresses, int count, hy_symbol **out) {
    enum { FIXED = 6 };
    char *argv[FIXED + HY_MEM_MAX_FRAMES * 3 + 1];
    char numbers[HY_MEM_MAX_FRAMES * 3][24];
    if (count > HY_MEM_MAX_FRAMES * 3) count = HY_MEM_MAX_FRAMES * 3;
    argv[0] = "addr2line";
    argv[1] = "-f";
    argv[2] = "-C";
    argv[3] = "-e";
    argv[4] = (char *)module;
    int n = 5;
    for (int i = 0; i < count; i++) {
        snprintf(numbers[i], sizeof numbers[i], "0x%llx", (unsigned long long)file_addresses[i]);
        argv[n++] = numbers[i];
    }
    argv[n] = NULL;

    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipefd[1], 1);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawn(&pid, SY.tool, &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(pipefd[1]);
    if (rc != 0) {
        close(pipefd[0]);
        return;
    }
    size_t cap = 64 << 10, len = 0;
    char *text = hy_meta_alloc(cap);
    for (;;) {
        if (!text || len + 1 >= cap) {
            char sink[4096];   /* no room: drain so the child can finish */
            ssize_t got = read(pipefd[0], sink, sizeof sink);
            if (got > 0 || (got < 0 && errno == EINTR)) continue;
            break;
        }
        ssize_t got = read(pipefd[0], text + len, cap - 1 - len);
        if (got > 0) len += (size_t)got;
        else if (got < 0 && errno == EINTR) continue;
        else break;
    }
    close(pipefd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (!text) return;
    text[len] = '\0';

    /* two lines per address: "function" then "file:line" (or ?? / ??:0) */
    char *line = text;
    for (int i = 0; i < count && line && *line; i++) {
        char *fn = line;
        char *nl = strchr(fn, '\n');
        if (!nl) break;
        *nl = '\0';
        char *loc = nl + 1;
        nl = strchr(loc, '\n');
        if (nl) *nl = '\0';
        line = nl ? nl + 1 : NULL;
        if (strcmp(fn, "??") != 0) snprintf(out[i]->function, sizeof out[i]->function, "%s", fn);
        char *disc = strstr(loc, " (discriminator");
        if (disc) *disc = '\0';
        char *colon = strrchr(loc, ':');
        if (colon && strncmp(loc, "??", 2) != 0) {
            *colon = '\0';
            snprintf(out[i]->file, sizeof out[i]->file, "%s", loc);
            out[i]->line = atoi(colon + 1);
        }
    }
    hy_meta_free(text, cap);
}

/* --------------------------------------------------------------- modules */

static int is_main_program(const char *name) {
    extern char *program_invocation_name;
    return !name || !*name || (program_invocation_name && strcmp(name, program_invocation_name) == 0);
}

static void describe_module(hy_symbol *sym, uintptr_t lookup, uintptr_t *base, const char **sname) {
    Dl_info info;
    *base = 0;
    *sname = NULL;
    if (!dladdr((void *)lookup, &info) || !info.dli_fbase) return;
    *base = (uintptr_t)info.dli_fbase;
    *sname = info.dli_sname;
    const char *name = info.dli_fname;
    if (is_main_program(name)) {
        if (!SY.exe[0]) {
            ssize_t n = readlink("/proc/self/exe", SY.exe, sizeof SY.exe - 1);
            SY.exe[n > 0 ? n : 0] = '\0';
        }
        name = SY.exe[0] ? SY.exe : name;
    }
    size_t len = name ? strlen(name) : 0;
    if (len >= sizeof sym->module) len = 0;   /* a path cut short would open the wrong file */
    memcpy(sym->module, name ? name : "", len);
    sym->module[len] = '\0';
    sym->module_offset = sym->address - *base;
}

void hy_symbolize(const uintptr_t *addresses, int count, hy_symbol *out) {
    enum { MAX = HY_MEM_MAX_FRAMES * 3 };
    if (count <= 0) return;
    hy_symbol *todo[MAX];
    uintptr_t bases[MAX];
    const char *dynamic_names[MAX];   /* dladdr's names: the last resort */
    int done[MAX] = { 0 };
    int pending = 0;
    pthread_mutex_lock(&SY.lock);
    find_tool();
    for (int i = 0; i < count; i++) {
        memset(&out[i], 0, sizeof out[i]);
        out[i].address = addresses[i];
        if (!addresses[i] || cache_get(addresses[i], &out[i])) continue;
        if (pending == MAX) continue;
        /* a return address: look up the call instruction before it */
        describe_module(&out[i], addresses[i] - 1, &bases[pending], &dynamic_names[pending]);
        todo[pending++] = &out[i];
    }
    for (int i = 0; i < pending; i++) {
        if (done[i]) continue;
        hy_symbol *group[MAX];
        uintptr_t file_addresses[MAX];
        int members[MAX];
        int n = 0;
        uintptr_t bias = 0;
        int have_bias = todo[i]->module[0] && hy_elf_load_bias(todo[i]->module, bases[i], &bias) == 0;
        for (int k = i; k < pending; k++) {
            if (done[k] || bases[k] != bases[i] || strcmp(todo[k]->module, todo[i]->module) != 0) continue;
            done[k] = 1;
            members[n] = k;
            group[n] = todo[k];
            file_addresses[n] = todo[k]->address - 1 - bias;
            n++;
        }
        if (SY.tool_state == 1 && have_bias) run_addr2line(todo[i]->module, file_addresses, n, group);
        for (int k = 0; k < n; k++) {
            hy_symbol *sym = group[k];
            if (sym->function[0]) continue;
            if (sym->module[0] &&
                hy_elf_function_name(sym->module, bases[members[k]], sym->address - 1, sym->function, sizeof sym->function))
                continue;
            const char *dyn = dynamic_names[members[k]];
            if (dyn) snprintf(sym->function, sizeof sym->function, "%s", dyn);
        }
    }
    for (int i = 0; i < pending; i++) cache_put(todo[i]);
    pthread_mutex_unlock(&SY.lock);
}

void hy_symbolize_fork_lock(int lock) {
    if (lock) pthread_mutex_lock(&SY.lock);
    else pthread_mutex_unlock(&SY.lock);
}

/* ------------------------------------------------------------- batching */

static int by_address(const void *a, const void *b) {
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return (x > y) - (x < y);
}

void hy_symbolize_prefetch(const uint32_t *stack_ids, size_t count) {
    enum { BATCH = HY_MEM_MAX_FRAMES * 3, MAX_ADDRESSES = 8192 };
    size_t cap = MAX_ADDRESSES * sizeof(uintptr_t);
    uintptr_t *all = hy_meta_alloc(cap);
    hy_symbol *scratch = hy_meta_alloc(BATCH * sizeof(hy_symbol));
    size_t n = 0;
    for (size_t i = 0; all && scratch && i < count && n < MAX_ADDRESSES; i++) {
        const uintptr_t *frames;
        int depth = hy_stack_frames(stack_ids[i], &frames);
        for (int k = 0; k < depth && n < MAX_ADDRESSES; k++) all[n++] = frames[k];
    }
    if (n) {
        /* sorted, modules sit together: one addr2line per module per batch */
        qsort(all, n, sizeof *all, by_address);
        size_t unique = 0;
        for (size_t i = 0; i < n; i++) {
            if (unique && all[unique - 1] == all[i]) continue;
            hy_symbol probe;
            pthread_mutex_lock(&SY.lock);
            int known = cache_get(all[i], &probe);
            pthread_mutex_unlock(&SY.lock);
            if (!known) all[unique++] = all[i];
        }
        for (size_t i = 0; i < unique; i += BATCH)
            hy_symbolize(all + i, (int)(unique - i < BATCH ? unique - i : BATCH), scratch);
    }
    if (all) hy_meta_free(all, cap);
    if (scratch) hy_meta_free(scratch, BATCH * sizeof(hy_symbol));
}
