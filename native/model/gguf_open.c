/*
 * gguf_open.c — opening and closing a GGUF file: the read-only mapping (or
 * caller-provided bytes), accounted as mapped bytes, then the parse of
 * gguf_read.c; on any failure everything is released before returning.
 */
#include "model/gguf_internal.h"

#include "core/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static char *copy_path(const char *path) {
    size_t n = strlen(path);
    char *c = hyperionAlloc(n + 1, HYPERION_TAG_MODEL);
    if (c) memcpy(c, path, n + 1);
    return c;
}

static hyperion_status finish_open(hy_gguf *g, uint32_t flags, hy_gguf **out) {
    hyperion_status s = hy_gguf_parse(g, flags);
    if (s) {
        hy_gguf_close(g); /* raises nothing: the error record still says why */
        return s;
    }
    *out = g;
    return HYPERION_OK;
}

hyperion_status hy_gguf_open(const char *path, hy_gguf **out) {
    return hy_gguf_open_ex(path, 0, out);
}

hyperion_status hy_gguf_open_ex(const char *path, uint32_t flags, hy_gguf **out) {
    if (out) *out = NULL;
    if (!path || !out)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", path ? "out" : "path") }),
                             "hy_gguf_open: %s is NULL", path ? "out" : "path");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return HY_RAISE_WITH(HYPERION_IO, e == ENOENT ? "check the path" : NULL,
                             ((hy_field[]){ HY_TXT("path", path), HY_NUM("errno", e) }), "cannot open %s: %s", path,
                             strerror(e));
    }
    struct stat st;
    int stat_failed = fstat(fd, &st) != 0;
    if (stat_failed || !S_ISREG(st.st_mode)) {
        int e = errno;
        close(fd);
        return HY_RAISE_WITH(HYPERION_IO, "give the path of a .gguf file", ((hy_field[]){ HY_TXT("path", path) }),
                             "cannot read %s: %s", path, stat_failed ? strerror(e) : "not a regular file");
    }
    hy_gguf *g = hyperionCalloc(1, sizeof *g, HYPERION_TAG_MODEL);
    if (!g) {
        close(fd);
        return hyperionGetLastError()->code;
    }
    g->path = copy_path(path);
    if (!g->path) {
        close(fd);
        hyperion_status s = hyperionGetLastError()->code;
        hyperionFree(g);
        return s;
    }
    g->size = (uint64_t)st.st_size;
    if (g->size > 0) {
        void *m = mmap(NULL, (size_t)g->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            int e = errno;
            close(fd);
            hy_gguf_close(g);
            return HY_RAISE_WITH(HYPERION_IO, NULL, ((hy_field[]){ HY_TXT("path", path), HY_NUM("errno", e) }),
                                 "cannot map %s (%llu bytes): %s", path, (unsigned long long)st.st_size, strerror(e));
        }
        /* a hint for kernels that map read-only file pages with 2 MiB entries
         * only on request (khugepaged, CONFIG_READ_ONLY_THP_FOR_FS): decode
         * reads every weight once per token, so TLB reach matters; ignored
         * where THP is off or file mappings already get large folios */
#if defined(MADV_HUGEPAGE)
        (void)madvise(m, (size_t)g->size, MADV_HUGEPAGE);
#endif
        g->base = m;
        g->mapped = 1;
        hyperionNoteMappedBytes((int64_t)g->size);
    }
    close(fd);
    return finish_open(g, flags, out);
}

hyperion_status hy_gguf_open_memory(const void *data, size_t size, const char *name, uint32_t flags,
                                    hy_gguf **out) {
    if (out) *out = NULL;
    if ((!data && size) || !out)
        return HY_RAISE_WITH(HYPERION_INVALID_ARGUMENT, NULL, ((hy_field[]){ HY_TXT("field", out ? "data" : "out") }),
                             "hy_gguf_open_memory: %s is NULL", out ? "data" : "out");
    hy_gguf *g = hyperionCalloc(1, sizeof *g, HYPERION_TAG_MODEL);
    if (!g) return hyperionGetLastError()->code;
    g->path = copy_path(name ? name : "(memory)");
    if (!g->path) {
        hyperion_status s = hyperionGetLastError()->code;
        hyperionFree(g);
        return s;
    }
    g->base = data;
    g->size = size;
    return finish_open(g, flags, out);
}

void hy_gguf_release_pages(const hy_gguf *g, const void *ptr, uint64_t bytes) {
    if (!g || !g->mapped || !ptr) return;
    const uintptr_t base = (uintptr_t)g->base, p = (uintptr_t)ptr;
    if (p < base || p - base > g->size || bytes > g->size - (p - base)) return;
    const long sys_page = sysconf(_SC_PAGESIZE);
    const uintptr_t page = sys_page > 0 ? (uintptr_t)sys_page : 4096;
    const uintptr_t first = (p + page - 1) & ~(page - 1), end = (p + (uintptr_t)bytes) & ~(page - 1);
    if (end > first) (void)madvise((void *)first, (size_t)(end - first), MADV_DONTNEED);
}

void hy_gguf_close(hy_gguf *g) {
    if (!g) return;
    for (uint64_t i = 0; i < g->n_kv; i++) hyperionFree((void *)g->kv[i].str_offsets);
    hyperionFree(g->kv);
    hyperionFree(g->tensors);
    hyperionFree(g->tinfo);
    hyperionFree(g->names);
    hyperionFree(g->kv_hash);
    hyperionFree(g->tensor_hash);
    hyperionFree(g->warnings);
    if (g->mapped) {
        munmap((void *)g->base, (size_t)g->size);
        hyperionNoteMappedBytes(-(int64_t)g->size);
    }
    hyperionFree(g->path);
    hyperionFree(g);
}
