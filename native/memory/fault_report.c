/*
 * fault_report.c — the guard-page fault report, written from inside the
 * signal handler.
 *
 * Only async-signal-safe work: write(2) with our own number formatting into
 * static buffers, open/pread/close to read function names from ELF symbol
 * tables (elfsym.c), getpid/gettid. Module names come from dladdr, which is
 * not on POSIX's list but takes no lock that glibc's fault path can hold in
 * practice; that is the documented compromise. Raw addresses and
 * module+offset are printed too, for offline symbolization; names are not
 * demangled and have no file:line (addr2line cannot run here).
 *
 * Text goes to stderr in AddressSanitizer's shape; the same facts go to a JSON
 * file whose path template is set by the configuration ("%p" = pid).
 */
#include "mem_internal.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

static char report_template[HYPERION_MEMORY_PATH_MAX];
static char exe_path[512];

/* ------------------------------------------------ async-safe writing */

typedef struct wbuf {
    int fd;
    size_t length;
    char data[2048];
} wbuf;

static void w_flush(wbuf *w) {
    size_t off = 0;
    while (off < w->length) {
        ssize_t n = write(w->fd, w->data + off, w->length - off);
        if (n <= 0) break;
        off += (size_t)n;
    }
    w->length = 0;
}

static void w_bytes(wbuf *w, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (w->length == sizeof w->data) w_flush(w);
        w->data[w->length++] = s[i];
    }
}

static void w_str(wbuf *w, const char *s) {
    w_bytes(w, s, strlen(s));
}

static void w_u64(wbuf *w, uint64_t v) {
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) w_bytes(w, &tmp[--n], 1);
}

static void w_i64(wbuf *w, int64_t v) {
    if (v < 0) {
        w_bytes(w, "-", 1);
        w_u64(w, (uint64_t)0 - (uint64_t)v);
    } else {
        w_u64(w, (uint64_t)v);
    }
}

static void w_hex(wbuf *w, uint64_t v) {
    static const char digits[] = "0123456789abcdef";
    char tmp[18];
    int n = 0;
    do {
        tmp[n++] = digits[v & 15];
        v >>= 4;
    } while (v);
    w_bytes(w, "0x", 2);
    while (n) w_bytes(w, &tmp[--n], 1);
}

static void w_json_str(wbuf *w, const char *s) {
    static const char digits[] = "0123456789abcdef";
    w_bytes(w, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = { '\\', (char)c };
            w_bytes(w, e, 2);
        } else if (c < 0x20) {
            char e[6] = { '\\', 'u', '0', '0', digits[c >> 4], digits[c & 15] };
            w_bytes(w, e, 6);
        } else {
            w_bytes(w, (const char *)&c, 1);
        }
    }
    w_bytes(w, "\"", 1);
}

/* ------------------------------------------------------- the report */

typedef struct frame_sym {
    uintptr_t address, offset;
    char module[256];
    char function[192];
} frame_sym;

typedef struct fault_report {
    const char *kind, *relation, *access, *signal;
    uintptr_t address;
    int64_t offset;          /* address - block start */
    uint64_t distance;       /* bytes after/before the block, or inside it */
    hy_guard_view block;
    uint64_t pid, tid;
    int n_access, n_alloc, n_free;
    frame_sym access_stack[HY_MEM_MAX_FRAMES], alloc_stack[HY_MEM_MAX_FRAMES], free_stack[HY_MEM_MAX_FRAMES];
    char path[HYPERION_MEMORY_PATH_MAX + 32];
} fault_report;

static fault_report R;   /* static: the handler runs once (reporting flag) and must not use much stack */

static void copy_str(char *dst, size_t size, const char *src) {
    size_t n = 0;
    while (src && src[n] && n + 1 < size) {
        dst[n] = src[n];
        n++;
    }
    dst[n] = '\0';
}

static void symbolize_frame(frame_sym *f, uintptr_t address, int is_return_address) {
    f->address = address;
    f->offset = 0;
    f->module[0] = f->function[0] = '\0';
    uintptr_t lookup = is_return_address && address ? address - 1 : address;
    Dl_info info;
    if (!dladdr((void *)lookup, &info) || !info.dli_fbase) return;
    extern char *program_invocation_name;
    const char *name = info.dli_fname;
    if ((!name || !*name || (program_invocation_name && strcmp(name, program_invocation_name) == 0)) && exe_path[0])
        name = exe_path;
    copy_str(f->module, sizeof f->module, name);
    f->offset = address - (uintptr_t)info.dli_fbase;
    if (!f->module[0] || !hy_elf_function_name(f->module, (uintptr_t)info.dli_fbase, lookup, f->function, sizeof f->function))
        copy_str(f->function, sizeof f->function, info.dli_sname);
}

static int symbolize_stack(frame_sym *out, uint32_t stack_id) {
    const uintptr_t *frames;
    int n = hy_stack_frames(stack_id, &frames);
    for (int i = 0; i < n; i++) symbolize_frame(&out[i], frames[i], 1);
    return n;
}

/* The faulting thread's own stack: the pc, then the frame-pointer chain,
 * within the stack bounds cached for this thread (none cached: pc only). */
static int access_stack(frame_sym *out, void *ucontext) {
    uintptr_t pc = 0, fp = 0;
    ucontext_t *uc = ucontext;
#if defined(__x86_64__)
    pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    fp = (uintptr_t)uc->uc_mcontext.gregs[REG_RBP];
#elif defined(__aarch64__)
    pc = (uintptr_t)uc->uc_mcontext.pc;
    fp = (uintptr_t)uc->uc_mcontext.regs[29];
#else
    (void)uc;
#endif
    int n = 0;
    if (!pc) return 0;
    symbolize_frame(&out[n++], pc, 0);
    uintptr_t low, high;
    if (!hy_stack_cached_bounds(&low, &high)) return n;
    uintptr_t prev = 0;
    while (n < HY_MEM_MAX_FRAMES && fp > prev && fp >= low && fp <= high - 2 * sizeof(uintptr_t) && !(fp & 7)) {
        uintptr_t ret = ((const uintptr_t *)fp)[1];
        if (ret < 4096) break;
        symbolize_frame(&out[n++], ret, 1);
        prev = fp;
        fp = ((const uintptr_t *)fp)[0];
    }
    return n;
}

static const char *access_kind(void *ucontext) {
#if defined(__x86_64__)
    ucontext_t *uc = ucontext;
    return (uc->uc_mcontext.gregs[REG_ERR] & 2) ? "WRITE" : "READ";
#elif defined(__aarch64__) && defined(__linux__)
    /* The kernel appends records to the signal frame's __reserved area; the
     * ESR record holds the fault's syndrome: for a data abort (exception
     * class 0x24/0x25) bit 6 (WnR) says whether it was a write. */
    ucontext_t *uc = ucontext;
    const uint8_t *at = (const uint8_t *)uc->uc_mcontext.__reserved;
    const uint8_t *end = at + sizeof uc->uc_mcontext.__reserved;
    while (at + 8 <= end) {
        uint32_t magic, size;
        memcpy(&magic, at, 4);
        memcpy(&size, at + 4, 4);
        if (magic == 0 || size < 8 || size > (size_t)(end - at)) break;
        if (magic == 0x45535201u /* ESR_MAGIC */ && size >= 16) {
            uint64_t esr;
            memcpy(&esr, at + 8, 8);
            uint32_t ec = (uint32_t)(esr >> 26) & 0x3F;
            if (ec == 0x24 || ec == 0x25) return (esr & (1u << 6)) ? "WRITE" : "READ";
            break;
        }
        at += size;
    }
    return "ACCESS";   /* no syndrome record (some emulators leave it out) */
#else
    (void)ucontext;
    return "ACCESS";
#endif
}

static void classify(fault_report *r) {
    const hy_guard_view *b = &r->block;
    uintptr_t end = b->user + b->size;
    r->offset = (int64_t)(r->address - b->user);
    if (r->address >= end) {
        r->relation = "after";
        r->distance = r->address - end;
    } else if (r->address < b->user) {
        r->relation = "before";
        r->distance = b->user - r->address;
    } else {
        r->relation = "inside";
        r->distance = r->address - b->user;
    }
    if (b->quarantined) r->kind = "heap-use-after-free";
    else if (r->address >= end) r->kind = "heap-buffer-overflow";
    else if (r->address < b->user) r->kind = "heap-buffer-underflow";
    else r->kind = "unknown-crash";
}

static void build_path(fault_report *r) {
    const char *t = report_template;
    size_t n = 0;
    while (*t && n + 24 < sizeof r->path) {
        if (t[0] == '%' && t[1] == 'p') {
            char digits[24];
            int k = 0;
            uint64_t v = r->pid;
            do {
                digits[k++] = (char)('0' + v % 10);
                v /= 10;
            } while (v);
            while (k) r->path[n++] = digits[--k];
            t += 2;
        } else {
            r->path[n++] = *t++;
        }
    }
    r->path[n] = '\0';
}

static void text_stack(wbuf *w, const frame_sym *frames, int n) {
    if (n == 0) w_str(w, "    (no stack recorded)\n");
    for (int i = 0; i < n; i++) {
        w_str(w, "    #");
        w_u64(w, (uint64_t)i);
        w_str(w, " ");
        w_hex(w, frames[i].address);
        if (frames[i].function[0]) {
            w_str(w, " in ");
            w_str(w, frames[i].function);
        }
        if (frames[i].module[0]) {
            w_str(w, " (");
            w_str(w, frames[i].module);
            w_str(w, "+");
            w_hex(w, frames[i].offset);
            w_str(w, ")");
        }
        w_str(w, "\n");
    }
}

static void json_stack(wbuf *w, const frame_sym *frames, int n) {
    w_str(w, "[");
    for (int i = 0; i < n; i++) {
        w_str(w, i ? ",{\"frame\":" : "{\"frame\":");
        w_u64(w, (uint64_t)i);
        w_str(w, ",\"address\":\"");
        w_hex(w, frames[i].address);
        w_str(w, "\",\"module\":");
        w_json_str(w, frames[i].module);
        w_str(w, ",\"offset\":\"");
        w_hex(w, frames[i].offset);
        w_str(w, "\",\"function\":");
        w_json_str(w, frames[i].function);
        w_str(w, "}");
    }
    w_str(w, "]");
}

static void write_description(wbuf *w, const fault_report *r) {
    w_hex(w, r->address);
    w_str(w, " is located ");
    w_u64(w, r->distance);
    w_str(w, " bytes ");
    w_str(w, r->relation);
    w_str(w, r->relation[0] == 'i' ? " of the " : " the ");
    w_u64(w, r->block.size);
    w_str(w, "-byte block [");
    w_hex(w, r->block.user);
    w_str(w, ",");
    w_hex(w, r->block.user + r->block.size);
    w_str(w, ")");
}

static void write_text(const fault_report *r, int json_ok) {
    static wbuf w;
    w.fd = 2;
    w.length = 0;
    w_str(&w, "=================================================================\n==");
    w_u64(&w, r->pid);
    w_str(&w, "==ERROR: HyperionMemory: ");
    w_str(&w, r->kind);
    w_str(&w, " on address ");
    w_hex(&w, r->address);
    w_str(&w, " (");
    w_str(&w, r->signal);
    w_str(&w, ")\n");
    w_str(&w, r->access);
    w_str(&w, " at ");
    w_hex(&w, r->address);
    w_str(&w, " thread ");
    w_u64(&w, r->tid);
    w_str(&w, "\n");
    text_stack(&w, r->access_stack, r->n_access);
    write_description(&w, r);
    w_str(&w, ", tag \"");
    w_str(&w, hyperionTagName((hyperion_mem_tag)r->block.tag));
    w_str(&w, "\", id ");
    w_u64(&w, r->block.id);
    w_str(&w, "\n");
    if (r->block.quarantined) {
        w_str(&w, "freed by thread ");
        w_u64(&w, r->block.free_thread);
        w_str(&w, " here:\n");
        text_stack(&w, r->free_stack, r->n_free);
    }
    w_str(&w, "allocated by thread ");
    w_u64(&w, r->block.alloc_thread);
    w_str(&w, " here:\n");
    text_stack(&w, r->alloc_stack, r->n_alloc);
    if (json_ok) {
        w_str(&w, "report written to ");
        w_str(&w, r->path);
        w_str(&w, "\n");
    }
    w_str(&w, "SUMMARY: HyperionMemory: ");
    w_str(&w, r->kind);
    w_str(&w, "\n=================================================================\n");
    w_flush(&w);
}

static int write_json(const fault_report *r) {
    static wbuf w;
    w.fd = open(r->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w.fd < 0) return 0;
    w.length = 0;
    w_str(&w, "{\"error\":\"HyperionMemory\",\"kind\":");
    w_json_str(&w, r->kind);
    w_str(&w, ",\"access\":");
    w_json_str(&w, r->access);
    w_str(&w, ",\"signal\":");
    w_json_str(&w, r->signal);
    w_str(&w, ",\"address\":\"");
    w_hex(&w, r->address);
    w_str(&w, "\",\"pid\":");
    w_u64(&w, r->pid);
    w_str(&w, ",\"thread\":");
    w_u64(&w, r->tid);
    w_str(&w, ",\"offset\":");
    w_i64(&w, r->offset);
    w_str(&w, ",\"relation\":");
    w_json_str(&w, r->relation);
    w_str(&w, ",\"distance\":");
    w_u64(&w, r->distance);
    w_str(&w, ",\"description\":\"");
    write_description(&w, r);
    w_str(&w, "\",\"block\":{\"id\":");
    w_u64(&w, r->block.id);
    w_str(&w, ",\"address\":\"");
    w_hex(&w, r->block.user);
    w_str(&w, "\",\"size\":");
    w_u64(&w, r->block.size);
    w_str(&w, ",\"tag\":");
    w_json_str(&w, hyperionTagName((hyperion_mem_tag)r->block.tag));
    w_str(&w, ",\"guard\":");
    w_json_str(&w, r->block.underflow ? "before" : "after");
    w_str(&w, ",\"freed\":");
    w_str(&w, r->block.quarantined ? "true" : "false");
    w_str(&w, ",\"allocation_thread\":");
    w_u64(&w, r->block.alloc_thread);
    w_str(&w, ",\"free_thread\":");
    w_u64(&w, r->block.free_thread);
    w_str(&w, "},\"access_stack\":");
    json_stack(&w, r->access_stack, r->n_access);
    w_str(&w, ",\"allocation_stack\":");
    json_stack(&w, r->alloc_stack, r->n_alloc);
    w_str(&w, ",\"free_stack\":");
    json_stack(&w, r->free_stack, r->block.quarantined ? r->n_free : 0);
    w_str(&w, "}\n");
    w_flush(&w);
    close(w.fd);
    return 1;
}

/* ------------------------------------------------------------ entry */

void hy_fault_report(int sig, uintptr_t addr, const hy_guard_view *view, void *ucontext) {
    fault_report *r = &R;
    r->block = *view;
    r->address = addr;
    r->signal = sig == SIGBUS ? "SIGBUS" : "SIGSEGV";
    r->access = access_kind(ucontext);
    r->pid = (uint64_t)getpid();
    r->tid = (uint64_t)syscall(SYS_gettid);
    classify(r);
    r->n_access = access_stack(r->access_stack, ucontext);
    r->n_alloc = symbolize_stack(r->alloc_stack, view->alloc_stack);
    r->n_free = view->quarantined ? symbolize_stack(r->free_stack, view->free_stack) : 0;
    build_path(r);
    int json_ok = r->path[0] && write_json(r);
    write_text(r, json_ok);
}

/* Not in the handler: the executable's path, for frames of the main program
 * (dladdr names it argv[0] as typed). */
void hy_fault_note_executable(void) {
    ssize_t n = readlink("/proc/self/exe", exe_path, sizeof exe_path - 1);
    exe_path[n > 0 ? n : 0] = '\0';
}

void hy_fault_set_report_path(const char *template_path) {
    char path[HYPERION_MEMORY_PATH_MAX];
    if (template_path && template_path[0]) {
        copy_str(path, sizeof path, template_path);
    } else {
        const char *dir = getenv("TMPDIR");
        if (!dir || !dir[0] || strlen(dir) > sizeof path - 48) dir = "/tmp";
        size_t n = strlen(dir);
        memcpy(path, dir, n);
        copy_str(path + n, sizeof path - n, "/hyperion-memory-fault-%p.json");
    }
    memcpy(report_template, path, sizeof path);
}
