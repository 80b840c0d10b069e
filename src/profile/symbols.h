/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_PROFILE_SYMBOLS_H
#define SLUICE_PROFILE_SYMBOLS_H

/*
 * Addresses to function names, in user space.
 *
 * A process's addresses go through its /proc/PID/maps: the mapping holding
 * the address gives the file and the file offset, the file's PT_LOAD
 * program headers turn that offset into the ELF virtual address its symbols
 * use (which undoes the load bias of a PIE executable or a shared library),
 * and the function symbols of .symtab and .dynsym (libelf) name it.  An
 * address in a file without a covering symbol (stripped, or JIT code) is
 * named after the file, "[libfoo.so]"; one in no file mapping, "[anon]".
 * The maps are read when the process is opened: read them while it lives.
 *
 * Kernel addresses go through /proc/kallsyms, which a kernel restricting
 * pointers (kptr_restrict, lockdown) shows as zeros: opening it then fails
 * with -EACCES.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <sluice/error.h>

struct prof_proc;

struct prof_proc *prof_proc_open(pid_t pid, struct sluice_error *err);
void prof_proc_free(struct prof_proc *p);
/* The name of the function at addr, valid until the process is freed. */
const char *prof_proc_symbol(struct prof_proc *p, uint64_t addr);

struct prof_kallsyms;

struct prof_kallsyms *prof_kallsyms_open(struct sluice_error *err);
void prof_kallsyms_free(struct prof_kallsyms *k);
/* The kernel function at addr, or NULL when it is below every symbol. */
const char *prof_kallsyms_symbol(const struct prof_kallsyms *k, uint64_t addr);

#endif
