/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A minimal CO-RE agent using libbtfd: on a kernel without built-in BTF it gets
 * BTF minimized for its own object from btfd (a few kilobytes instead of the
 * kernel's megabytes), then opens and loads the object with libbpf.
 * Build: cc agent.c $(pkg-config --cflags --libs libbtfd libbpf) -o agent
 * Run:   ./agent OBJECT.bpf.o   ($BTFD_SOCKET, $BTFD_TIMEOUT_MSEC: see libbtfd(3)) */
#include <bpf/libbpf.h>
#include <btfd/libbtfd.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	struct btfd_core_opts core = {
		.sz = sizeof(core),
		.timeout_msec = 0, /* 0: $BTFD_TIMEOUT_MSEC, else BTFD_DEFAULT_TIMEOUT_MSEC */
	};
	struct bpf_object *obj;
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: %s OBJECT.bpf.o\n", argv[0]);
		return 2;
	}
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	/* Does nothing when the kernel has /sys/kernel/btf/vmlinux. Otherwise
	 * btfd passes a descriptor of the BTF and opts.btf_custom_path becomes
	 * /proc/self/fd/N: no file is written, nothing but btfd's socket is
	 * shared (an agent in a container sees nothing else of the host). */
	err = btfd_ensure_core_btf_for_file(&opts, argv[1], &core);
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
	/* The BTF is read at load time; from here on it is no longer needed. */
	bpf_object__close(obj);
	btfd_clean_core_btf(&opts);
	return err ? 1 : 0;
}
