/* SPDX-License-Identifier: GPL-2.0-or-later */
/* An unmodified libbpf program: opens a CO-RE object with libbpf's defaults (no
 * btf_custom_path, nothing from btfd) and loads it, so libbpf looks for kernel
 * BTF itself: /sys/kernel/btf/vmlinux, then its list of vmlinux paths. Prints
 * libbpf's lines about kernel BTF and "load: ok" or "load: failed (ERR)".
 * Exit 0 loaded, 1 not. */
#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[2048];

	(void)level;
	vsnprintf(line, sizeof line, fmt, ap);
	if (strstr(line, "kernel BTF") || strstr(line, "vmlinux"))
		fputs(line, stdout);
	return 0;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: %s OBJECT.bpf.o\n", argv[0]);
		return 2;
	}
	libbpf_set_print(print);
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		printf("open: failed\n");
		return 1;
	}
	err = bpf_object__load(obj);
	if (err)
		printf("load: failed (%d)\n", err);
	else
		printf("load: ok\n");
	bpf_object__close(obj);
	return err ? 1 : 0;
}
