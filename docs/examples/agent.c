/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A minimal CO-RE agent using libbtfd: on a kernel without built-in BTF it gets
 * the BTF from btfd, then opens and loads its BPF object with libbpf.
 * Build: cc agent.c $(pkg-config --cflags --libs libbtfd libbpf) -o agent */
#include <bpf/libbpf.h>
#include <btfd/libbtfd.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: %s OBJECT.bpf.o\n", argv[0]);
		return 2;
	}
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	err = btfd_ensure_core_btf(&opts);
	if (err) {
		fprintf(stderr, "agent: no BTF for this kernel: %s\n", btfd_strerror(err));
		return 1;
	}
	printf("btf: %s\n", opts.btf_custom_path ? opts.btf_custom_path : "the kernel's own");
	obj = bpf_object__open_file(argv[1], &opts);
	if (!obj) {
		perror("agent: bpf_object__open_file");
		btfd_clean_core_btf(&opts);
		return 1;
	}
	err = bpf_object__load(obj);
	printf("load: %s (%d)\n", err ? "failed" : "ok", err);
	bpf_object__close(obj);
	btfd_clean_core_btf(&opts);
	return err ? 1 : 0;
}
