/*
 * elfsym.c — the name of the function holding an address, read straight from
 * an ELF file's symbol table.
 *
 * Used by the fault handler, so it is async-signal-safe: open/pread/close on
 * small buffers on the stack, no allocation, no stdio, no locks. It also
 * backs up addr2line in-process (static and hidden functions are not in the
 * dynamic symbol table that dladdr sees, but they are in .symtab unless the
 * binary was stripped). Names come out as written in the table (C++ names
 * stay mangled). ELF64 only (x86-64 and arm64).
 */
#include "mem_internal.h"

#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

static int read_at(int fd, void *buf, size_t n, uint64_t offset) {
    unsigned char *p = buf;
    while (n) {
        ssize_t got = pread(fd, p, n, (off_t)offset);
        if (got <= 0) return -1;
        p += got;
        n -= (size_t)got;
        offset += (uint64_t)got;
    }
    return 0;
}

/* The load bias of the file at path mapped at base (dli_fbase: where its
 * first segment starts): address - bias is the address the file's tables use. */
static int load_bias(int fd, const Elf64_Ehdr *eh, uintptr_t base, uintptr_t *bias) {
    uint64_t lowest = UINT64_MAX;
    for (unsigned i = 0; i < eh->e_phnum && i < 256; i++) {
        Elf64_Phdr ph;
        if (read_at(fd, &ph, sizeof ph, eh->e_phoff + (uint64_t)i * eh->e_phentsize) != 0) return -1;
        if (ph.p_type == PT_LOAD && ph.p_vaddr < lowest) lowest = ph.p_vaddr;
    }
    if (lowest == UINT64_MAX) return -1;
    uint64_t page = (uint64_t)getpagesize();
    *bias = base - (uintptr_t)(lowest & ~(page - 1));
    return 0;
}

static int open_elf(const char *path, Elf64_Ehdr *eh) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    if (read_at(fd, eh, sizeof *eh, 0) != 0 || eh->e_ident[EI_MAG0] != ELFMAG0 || eh->e_ident[EI_MAG1] != ELFMAG1 ||
        eh->e_ident[EI_MAG2] != ELFMAG2 || eh->e_ident[EI_MAG3] != ELFMAG3 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_shentsize != sizeof(Elf64_Shdr)) {
        close(fd);
        return -1;
    }
    return fd;
}

int hy_elf_load_bias(const char *path, uintptr_t base, uintptr_t *bias) {
    Elf64_Ehdr eh;
    int fd = open_elf(path, &eh);
    if (fd < 0) return -1;
    int rc = load_bias(fd, &eh, base, bias);
    close(fd);
    return rc;
}

/* The symbol table section (SHT_SYMTAB, else SHT_DYNSYM) and its strings. */
static int find_tables(int fd, const Elf64_Ehdr *eh, Elf64_Shdr *symtab, Elf64_Shdr *strtab) {
    int found = 0;
    for (unsigned pass = 0; pass < 2 && !found; pass++) {
        uint32_t want = pass == 0 ? SHT_SYMTAB : SHT_DYNSYM;
        for (unsigned i = 0; i < eh->e_shnum && i < 65535; i++) {
            Elf64_Shdr sh;
            if (read_at(fd, &sh, sizeof sh, eh->e_shoff + (uint64_t)i * sizeof sh) != 0) return -1;
            if (sh.sh_type != want || sh.sh_entsize != sizeof(Elf64_Sym) || sh.sh_link >= eh->e_shnum) continue;
            *symtab = sh;
            if (read_at(fd, strtab, sizeof *strtab, eh->e_shoff + (uint64_t)sh.sh_link * sizeof sh) != 0) return -1;
            found = 1;
            break;
        }
    }
    return found ? 0 : -1;
}

int hy_elf_function_name(const char *path, uintptr_t base, uintptr_t address, char *name, size_t size) {
    if (size == 0) return 0;
    name[0] = '\0';
    Elf64_Ehdr eh;
    int fd = open_elf(path, &eh);
    if (fd < 0) return 0;
    uintptr_t bias = 0;
    Elf64_Shdr symtab, strtab;
    int ok = 0;
    if (load_bias(fd, &eh, base, &bias) == 0 && find_tables(fd, &eh, &symtab, &strtab) == 0) {
        uint64_t target = (uint64_t)(address - bias);
        uint64_t count = symtab.sh_size / sizeof(Elf64_Sym);
        Elf64_Sym chunk[64];
        Elf64_Sym best = { 0 };
        int have = 0;
        for (uint64_t i = 0; i < count; i += 64) {
            uint64_t n = count - i < 64 ? count - i : 64;
            if (read_at(fd, chunk, (size_t)n * sizeof(Elf64_Sym), symtab.sh_offset + i * sizeof(Elf64_Sym)) != 0) break;
            for (uint64_t k = 0; k < n; k++) {
                const Elf64_Sym *s = &chunk[k];
                int type = ELF64_ST_TYPE(s->st_info);
                if ((type != STT_FUNC && type != STT_GNU_IFUNC) || s->st_shndx == SHN_UNDEF || s->st_value > target) continue;
                uint64_t span = s->st_size ? s->st_size : 1;
                if (target - s->st_value >= span) continue;
                if (!have || s->st_value > best.st_value) {
                    best = *s;
                    have = 1;
                }
            }
        }
        if (have && best.st_name < strtab.sh_size) {
            size_t want = size - 1;
            if (strtab.sh_size - best.st_name < want) want = (size_t)(strtab.sh_size - best.st_name);
            /* read what is there and stop at the terminator */
            ssize_t got = pread(fd, name, want, (off_t)(strtab.sh_offset + best.st_name));
            if (got > 0) {
                size_t len = 0;
                while (len < (size_t)got && name[len]) len++;
                name[len] = '\0';
                ok = len > 0;
            }
        }
    }
    close(fd);
    if (!ok) name[0] = '\0';
    return ok;
}
