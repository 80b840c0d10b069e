/* SPDX-License-Identifier: MIT */
/*
 * The symboliser on this test binary, built as a PIE so that it loads at a
 * bias: its functions' addresses in its own symbol table (read here with
 * libelf) plus the bias it runs at resolve back to their names through
 * /proc/self/maps; so do addresses inside a function, a libc function
 * (.dynsym of a shared library), the vDSO by its name, and kernel
 * functions through kallsyms
 * when the kernel shows them.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "profile/symbols.h"

static volatile int sink;

__attribute__((noinline)) int sym_alpha(int x)
{
	for (int i = 0; i < x; i++)
		sink += i * 3;
	return sink;
}

__attribute__((noinline)) int sym_beta(int x)
{
	for (int i = 0; i < x; i++)
		sink ^= i * 5;
	return sink + 1;
}

/* st_value of a function in this executable's .symtab, or 0. */
static uint64_t own_symbol(const char *name)
{
	int fd = open("/proc/self/exe", O_RDONLY);
	Elf *elf;
	Elf_Scn *scn = NULL;
	uint64_t value = 0;

	assert_true(fd >= 0);
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	assert_non_null(elf);
	while (!value && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB)
			continue;
		data = elf_getdata(scn, NULL);
		for (size_t i = 0; data && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym s;
			const char *n;

			if (gelf_getsym(data, (int)i, &s) && (n = elf_strptr(elf, sh.sh_link, s.st_name)) &&
			    !strcmp(n, name) && GELF_ST_TYPE(s.st_info) == STT_FUNC)
				value = s.st_value;
		}
	}
	elf_end(elf);
	close(fd);
	return value;
}

static void test_pie_bias(void **state)
{
	uint64_t alpha = own_symbol("sym_alpha"), beta = own_symbol("sym_beta");
	uint64_t main_at = own_symbol("main");
	uint64_t bias = (uintptr_t)&sym_alpha - alpha;
	struct prof_proc *p = prof_proc_open(getpid(), NULL);

	(void)state;
	assert_non_null(p);
	assert_true(alpha && beta && main_at);
	/* a PIE is loaded away from the addresses its symbol table gives */
	assert_true(bias != 0);
	assert_int_equal((uintptr_t)&sym_beta - beta, bias);
	assert_string_equal(prof_proc_symbol(p, alpha + bias), "sym_alpha");
	assert_string_equal(prof_proc_symbol(p, alpha + bias + 5), "sym_alpha");
	assert_string_equal(prof_proc_symbol(p, beta + bias), "sym_beta");
	assert_string_equal(prof_proc_symbol(p, main_at + bias), "main");
	prof_proc_free(p);
}

static void test_shared_library_and_outside(void **state)
{
	void *anon = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct prof_proc *p;
	const char *name;

	(void)state;
	assert_true(anon != MAP_FAILED);
	p = prof_proc_open(getpid(), NULL);
	assert_non_null(p);
	/* libc's getpid, exported in .dynsym (perhaps under an alias) */
	name = prof_proc_symbol(p, (uintptr_t)&getpid);
	assert_non_null(strstr(name, "getpid"));
	assert_string_equal(prof_proc_symbol(p, (uintptr_t)anon + 16), "[anon]");
	assert_string_equal(prof_proc_symbol(p, getauxval(AT_SYSINFO_EHDR) + 16), "[vdso]");
	assert_string_equal(prof_proc_symbol(p, 16), "[unknown]");
	prof_proc_free(p);
	munmap(anon, 4096);
}

static void test_no_process(void **state)
{
	struct sluice_error err = { 0 };

	(void)state;
	assert_null(prof_proc_open(0x7ffffff0, &err));
	assert_non_null(strstr(err.msg, "/proc/"));
}

static void test_kallsyms(void **state)
{
	struct sluice_error err = { 0 };
	struct prof_kallsyms *k = prof_kallsyms_open(&err);
	FILE *f;
	char line[512];
	const char *name;
	uint64_t at = 0;
	bool alias = false;

	(void)state;
	if (!k) {
		/* lockdown or kptr_restrict: the refusal has its reason */
		assert_int_equal(err.code, EACCES);
		skip();
	}
	f = fopen("/proc/kallsyms", "r");
	assert_non_null(f);
	while (!at && fgets(line, sizeof(line), f)) {
		uint64_t a;
		char type, name[256];

		if (sscanf(line, "%" SCNx64 " %c %255s", &a, &type, name) == 3 &&
		    !strcmp(name, "schedule") && (type == 'T' || type == 't'))
			at = a;
	}
	assert_true(at != 0);
	name = prof_kallsyms_symbol(k, at + 1);
	assert_non_null(name);
	/* "schedule", or an alias at its address */
	rewind(f);
	while (!alias && fgets(line, sizeof(line), f)) {
		uint64_t a;
		char type, other[256];

		alias = sscanf(line, "%" SCNx64 " %c %255s", &a, &type, other) == 3 && a == at &&
			!strcmp(other, name);
	}
	fclose(f);
	assert_true(alias);
	prof_kallsyms_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pie_bias),
		cmocka_unit_test(test_shared_library_and_outside),
		cmocka_unit_test(test_no_process),
		cmocka_unit_test(test_kallsyms),
	};

	sym_alpha(3);
	sym_beta(3);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
